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

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
)

// capacityCPD is the CPD of order() with bps each way of QoS class class.
func capacityCPD(class string, bps float64) cpd.CPD {
	return cpd.CPD{Components: []cpd.Component{{
		CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-par-1"}},
		QoS:           &cpd.QoS{Class: class},
		Capacity:      &cpd.Capacity{IncomingBps: cpd.Fixed(bps), OutgoingBps: cpd.Fixed(bps)},
	}}}
}

// editCPD sets spec.cpd of agr to cp with acceptance mode acc and returns
// the new generation.
func editCPD(t *testing.T, c client.Client, agr *v1alpha1.Agreement, cp cpd.CPD, acc v1alpha1.AcceptanceMode) int64 {
	t.Helper()
	base := agr.DeepCopy()
	agr.Spec.CPD = v1alpha1.CPDFromProtocol(cp)
	agr.Spec.Acceptance = acc
	if err := c.Patch(ctxFor(t), agr, client.MergeFrom(base)); err != nil {
		t.Fatalf("edit spec.cpd: %v", err)
	}
	return agr.Generation
}

// TestUpdate edits an Agreement's spec.cpd (Automatic acceptance): an
// update the server can serve ends with the new CPD in force on both
// sides (status.agreedGeneration, the server's agreement) and an Accepted
// Offer owned by the Agreement; one for a QoS class no pool has (FAIL 5),
// or beyond the tenant's limit (a counter-offer, declined with reason 1),
// keeps the old agreement, with status.failure and Stalled=True.
// Reference: RFC 8921 §9.2.9, §11.1.3, §9.2.5, §9.2.6, §9.2.10 Table 4; DESIGN §3, §5.
func TestUpdate(t *testing.T) {
	c := apiServer(t)
	for _, tc := range []struct {
		name   string
		class  string
		bps    float64
		maxBps int64
		// granted, else the FAIL code (0: declined counter-offer).
		granted bool
		code    int32
	}{
		{name: "granted", class: "gold", bps: 20e6, granted: true},
		{name: "FAIL keeps the old agreement", class: "bronze", bps: 20e6, code: 5},
		{name: "declined counter-offer keeps the old agreement", class: "gold", bps: 50e6, maxBps: 30e6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := namespace(t, c, "update")
			p := cpnptest.NewPKI(t)
			srv := startServer(t, p, tc.maxBps)
			provider(t, c, ns, "wan", p, srv)
			manager(t)

			agr := agreementFor(t, c, order(ns, "grow", "wan", "gold", v1alpha1.AcceptanceAutomatic))
			oldGen, oldTID := agr.Status.AgreedGeneration, agr.Status.TransactionID
			poid := agr.Status.ProviderOrderID
			gen := editCPD(t, c, agr, capacityCPD(tc.class, tc.bps), v1alpha1.AcceptanceAutomatic)
			if gen == oldGen {
				t.Fatalf("generation: got %d after editing spec.cpd, want a new one", gen)
			}

			if tc.granted {
				agr = waitFor(t, c, agr, "the UPDATE in force", func(a *v1alpha1.Agreement) bool {
					return a.Status.AgreedGeneration == gen && a.Status.State == v1alpha1.AgreementEstablished
				})
				if r := condition(agr.Status.Conditions, v1alpha1.ConditionReady); r == nil || r.Status != metav1.ConditionTrue || r.Reason != controllers.ReasonUpdated {
					t.Errorf("Ready: got %+v, want True with reason %s", r, controllers.ReasonUpdated)
				}
				if agr.Status.TransactionID == oldTID || agr.Status.Failure != nil {
					t.Errorf("after the UPDATE: got transactionID %s (was %s) failure %+v, want a new transaction and no failure", agr.Status.TransactionID, oldTID, agr.Status.Failure)
				}
				d := waitServer(t, srv, poid, "the updated agreement", func(d server.OrderDetail) bool {
					return d.AgreementCPD != nil && len(cpd.Satisfies(*d.AgreementCPD, capacityCPD(tc.class, tc.bps))) == 0
				})
				if d.Agreement == nil {
					t.Errorf("server order: got no agreement, want the updated one")
				}
				found := updateOffer(t, c, agr)
				if !ownedBy(found, agr) {
					t.Fatalf("update offer: got %+v, want an Offer owned by the Agreement", found)
				}
				found = waitFor(t, c, found, "state Accepted", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferAccepted })
				if got, want := found.Spec.Decision, v1alpha1.DecisionAccept; got != want {
					t.Errorf("update offer decision: got %s, want %s", got, want)
				}
				return
			}

			agr = waitFor(t, c, agr, "Stalled=True", func(a *v1alpha1.Agreement) bool {
				s := condition(a.Status.Conditions, v1alpha1.ConditionStalled)
				return s != nil && s.Status == metav1.ConditionTrue
			})
			if s := condition(agr.Status.Conditions, v1alpha1.ConditionStalled); s.Reason != controllers.ReasonUpdateFailed {
				t.Errorf("Stalled reason: got %s, want %s", s.Reason, controllers.ReasonUpdateFailed)
			}
			if f := agr.Status.Failure; tc.code != 0 && (f == nil || f.StatusCode == nil || *f.StatusCode != tc.code || f.Sender != v1alpha1.FailureSenderServer) {
				t.Errorf("status.failure: got %+v, want statusCode %d from the server", f, tc.code)
			}
			if f := agr.Status.Failure; tc.code == 0 && (f == nil || f.StatusCode != nil) {
				t.Errorf("status.failure: got %+v, want a DECLINE (no status code)", f)
			}
			if agr.Status.AgreedGeneration != oldGen || agr.Status.State != v1alpha1.AgreementEstablished {
				t.Errorf("after the refused UPDATE: got agreedGeneration %d failure %+v state %s, want %d, a failure and %s",
					agr.Status.AgreedGeneration, agr.Status.Failure, agr.Status.State, oldGen, v1alpha1.AgreementEstablished)
			}
			if r := condition(agr.Status.Conditions, v1alpha1.ConditionReady); r == nil || r.Status != metav1.ConditionFalse {
				t.Errorf("Ready: got %+v, want False (spec.cpd is not in force)", r)
			}
			d := waitServer(t, srv, poid, "the agreement", func(d server.OrderDetail) bool {
				return d.AgreementCPD != nil && d.Update == nil && d.State == "Completed"
			})
			if tc.code == 0 {
				offer := waitFor(t, c, updateOffer(t, c, agr), "state Declined", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferDeclined })
				if diff := cmp.Diff([]v1alpha1.DeclineReason{v1alpha1.DeclineUnacceptableGap}, offer.Spec.DeclineReasons); diff != "" {
					t.Errorf("decline reasons (-want +got):\n%s", diff)
				}
			}
			if len(cpd.Satisfies(*d.AgreementCPD, capacityCPD("gold", 10e6))) != 0 || len(cpd.Satisfies(*d.AgreementCPD, capacityCPD(tc.class, tc.bps))) == 0 {
				t.Errorf("server agreement CPD: got %+v, want the old 10 Mb/s one", *d.AgreementCPD)
			}
		})
	}
}

// updateOffer waits for the Offer of agr's UPDATE (spec.agreementRef).
func updateOffer(t *testing.T, c client.Client, agr *v1alpha1.Agreement) *v1alpha1.Offer {
	t.Helper()
	agr = waitFor(t, c, agr, "status.updateOfferRef", func(a *v1alpha1.Agreement) bool { return a.Status.UpdateOfferRef != nil })
	o := waitFor(t, c, &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: agr.Namespace, Name: agr.Status.UpdateOfferRef.Name}},
		"the update offer", func(*v1alpha1.Offer) bool { return true })
	if o.Spec.AgreementRef == nil || o.Spec.AgreementRef.Name != agr.Name {
		t.Fatalf("update offer agreementRef: got %v, want %s", o.Spec.AgreementRef, agr.Name)
	}
	return o
}

// TestUpdateManualAcceptance edits spec.cpd under Manual acceptance: the
// UPDATE's offer waits Open in an Offer until the user sets
// spec.decision=Accept, and only then does the new CPD come into force.
// Reference: RFC 8921 §9.2.9, §9.2.3, §9.2.4; DESIGN §5.
func TestUpdateManualAcceptance(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "update-manual")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	manager(t)

	agr := agreementFor(t, c, order(ns, "grow", "wan", "gold", v1alpha1.AcceptanceAutomatic))
	oldGen := agr.Status.AgreedGeneration
	gen := editCPD(t, c, agr, capacityCPD("gold", 20e6), v1alpha1.AcceptanceManual)
	offer := waitFor(t, c, updateOffer(t, c, agr), "state Open", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferOpen })
	if err := c.Get(ctxFor(t), client.ObjectKeyFromObject(agr), agr); err != nil {
		t.Fatal(err)
	}
	if agr.Status.State != v1alpha1.AgreementUpdating || agr.Status.AgreedGeneration != oldGen {
		t.Errorf("before the decision: got state %s agreedGeneration %d, want %s and %d", agr.Status.State, agr.Status.AgreedGeneration, v1alpha1.AgreementUpdating, oldGen)
	}
	base := offer.DeepCopy()
	offer.Spec.Decision = v1alpha1.DecisionAccept
	if err := c.Patch(ctxFor(t), offer, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, agr, "the UPDATE in force", func(a *v1alpha1.Agreement) bool {
		return a.Status.AgreedGeneration == gen && a.Status.State == v1alpha1.AgreementEstablished
	})
	waitFor(t, c, offer, "state Accepted", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferAccepted })
	waitServer(t, srv, agr.Status.ProviderOrderID, "the updated agreement", func(d server.OrderDetail) bool {
		return d.AgreementCPD != nil && len(cpd.Satisfies(*d.AgreementCPD, capacityCPD("gold", 20e6))) == 0
	})
}
