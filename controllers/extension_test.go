/*
Copyright 2026 The cpnp-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controllers_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// heldOrder waits until the server holds the only order of srv for
// administrative validation (pool approval Manual) and returns its
// PROVIDER_ORDER_IDENTIFIER.
// Reference: RFC 8921 §8.2, §12.2.
func heldOrder(t *testing.T, srv *cpnpServer) string {
	t.Helper()
	ctx := ctxFor(t)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		list := srv.srv.List()
		if len(list) == 1 && list[0].Held {
			return list[0].ProviderOrderID
		}
		select {
		case <-ctx.Done():
			t.Fatalf("server orders: got %+v, want one order held for approval", list)
		case <-tick.C:
		}
	}
}

// waitServer polls the server's order poid until cond holds.
func waitServer(t *testing.T, srv *cpnpServer, poid, what string, cond func(server.OrderDetail) bool) server.OrderDetail {
	t.Helper()
	ctx := ctxFor(t)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		d, ok := srv.srv.Get(poid)
		if ok && cond(d) {
			return d
		}
		select {
		case <-ctx.Done():
			t.Fatalf("server order %s: timed out waiting for %s: got %+v (found %v)", poid, what, d.OrderSummary, ok)
		case <-tick.C:
		}
	}
}

// TestTimeExtension has the server ask for more time (PROCESSING with a new
// EXPECTED_OFFER_TIME) while it holds the order for approval. With
// spec.extensionLimit 1h the client machine grants a request within the
// limit with an ACK, and the order goes on to an Agreement once the server
// offers; it refuses one beyond the limit with FAIL 7, and the order is
// Cancelled and Stalled with the code in status.failure.
// Reference: RFC 8921 §9.2.2 (Figs. 11 and 12), §9.2.6, §9.2.10 Table 4
// (code 7); DESIGN §5.
func TestTimeExtension(t *testing.T) {
	c := apiServer(t)
	for _, tc := range []struct {
		name string
		// ask is how long after now the server asks to offer by.
		ask     time.Duration
		granted bool
	}{
		{name: "within the limit is granted", ask: 30 * time.Minute, granted: true},
		{name: "beyond the limit is refused", ask: 3 * time.Hour, granted: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := namespace(t, c, "extension")
			p := cpnptest.NewPKI(t)
			srv := startServerOpts(t, p, serverOpts{approval: policy.ApprovalManual})
			provider(t, c, ns, "wan", p, srv)
			manager(t)

			qo := order(ns, "slow", "wan", "gold", v1alpha1.AcceptanceAutomatic)
			qo.Spec.ExtensionLimit = &metav1.Duration{Duration: time.Hour}
			if err := c.Create(ctxFor(t), qo); err != nil {
				t.Fatal(err)
			}
			poid := heldOrder(t, srv)
			// Whole seconds: the wire carries RFC 3339 times (§9.1.7).
			eot := time.Now().Add(tc.ask).Truncate(time.Second).UTC()
			if err := srv.srv.RequestMoreTime(ctxFor(t), poid, eot, wire.SubcodeUpgradeLocalResources); err != nil {
				t.Fatalf("RequestMoreTime: %v", err)
			}

			if !tc.granted {
				got := waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: qo.ObjectMeta}, "Stalled=True", func(o *v1alpha1.QuotationOrder) bool {
					s := condition(o.Status.Conditions, v1alpha1.ConditionStalled)
					return s != nil && s.Status == metav1.ConditionTrue
				})
				if got.Status.State != v1alpha1.StateCancelled {
					t.Errorf("status.state: got %s, want %s", got.Status.State, v1alpha1.StateCancelled)
				}
				f := got.Status.Failure
				if f == nil || f.StatusCode == nil || *f.StatusCode != 7 || f.Sender != v1alpha1.FailureSenderClient {
					t.Fatalf("status.failure: got %+v, want statusCode 7 sent by the client", f)
				}
				if s := condition(got.Status.Conditions, v1alpha1.ConditionStalled); s.Reason != controllers.ReasonNegotiationEnded {
					t.Errorf("Stalled reason: got %s, want %s", s.Reason, controllers.ReasonNegotiationEnded)
				}
				if got.Status.AgreementRef != nil {
					t.Errorf("agreementRef: got %v, want none", got.Status.AgreementRef)
				}
				// The server received the FAIL and cancelled its order.
				waitServer(t, srv, poid, "state Cancelled", func(d server.OrderDetail) bool { return d.State == "Cancelled" })
				waitEvent(t, c, ns, qo.Name, corev1.EventTypeWarning, controllers.ReasonNegotiationEnded)
				return
			}

			// Granted: the ACK carries the new time, which the order shows.
			got := waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: qo.ObjectMeta}, "the granted expectedOfferTime",
				func(o *v1alpha1.QuotationOrder) bool {
					return o.Status.ExpectedOfferTime != nil && o.Status.ExpectedOfferTime.Time.Equal(eot)
				})
			if got.Status.State != v1alpha1.StateServerProcessing || got.Status.Failure != nil {
				t.Errorf("after the grant: got state %s failure %+v, want %s and none", got.Status.State, got.Status.Failure, v1alpha1.StateServerProcessing)
			}
			d := waitServer(t, srv, poid, "the ACK of the request for more time",
				func(d server.OrderDetail) bool { return d.RequestedOfferTime == nil })
			if d.State != "AwaitingProcessing" || !d.Held {
				t.Errorf("server order after the ACK: got state %s held %v, want AwaitingProcessing and held", d.State, d.Held)
			}
			if err := srv.srv.Approve(ctxFor(t), poid); err != nil {
				t.Fatalf("Approve: %v", err)
			}
			got = waitFor(t, c, got, "Ready=True", func(o *v1alpha1.QuotationOrder) bool {
				r := condition(o.Status.Conditions, v1alpha1.ConditionReady)
				return r != nil && r.Status == metav1.ConditionTrue
			})
			if got.Status.State != v1alpha1.StateCompleted || got.Status.AgreementRef == nil {
				t.Errorf("after the offer: got state %s agreementRef %v, want %s and an Agreement", got.Status.State, got.Status.AgreementRef, v1alpha1.StateCompleted)
			}
		})
	}
}
