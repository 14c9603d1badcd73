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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// waitDeleted waits until obj no longer exists.
func waitDeleted(t *testing.T, c client.Client, obj client.Object, what string) {
	t.Helper()
	ctx := ctxFor(t)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s %s: still there (%v): finalizers %v, status %s", what, obj.GetName(), err, obj.GetFinalizers(), statusOf(obj))
		case <-tick.C:
		}
	}
}

// recordedServer starts a server with options o whose received messages
// are recorded, and its Provider "wan" in ns.
func recordedServer(t *testing.T, c client.Client, ns string, o serverOpts) (*cpnpServer, *recorder) {
	t.Helper()
	p := cpnptest.NewPKI(t)
	rec := &recorder{}
	o.wrap = rec.wrap
	srv := startServerOpts(t, p, o)
	provider(t, c, ns, "wan", p, srv)
	return srv, rec
}

// TestDeleteOpenOrderCancels deletes an order whose offer is open (Manual
// acceptance, no decision): the finalizer added before the QUOTATION holds
// the object until the server acknowledged the CANCEL; the server's order
// ends Cancelled and the reservation is released.
// Reference: RFC 8921 §9.2.7 (CANCEL), §8.11.1 Figure 8, §8.11.2 Figure 9.
func TestDeleteOpenOrderCancels(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "cancel-open")
	srv, rec := recordedServer(t, c, ns, serverOpts{})
	manager(t)

	qo, _ := openOffer(t, c, ns, "open")
	if !controllerutil.ContainsFinalizer(qo, controllers.CancelFinalizer) {
		t.Fatalf("finalizers of an order that sent its QUOTATION: got %v, want %s", qo.Finalizers, controllers.CancelFinalizer)
	}
	poid := qo.Status.Providers[0].ProviderOrderID
	if err := c.Delete(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	waitDeleted(t, c, qo, "quotation order")
	cancel := waitRecorded(t, rec, wire.MethodCancel, "the CANCEL of the deleted order", func(wire.Message) bool { return true })
	if got, want := cancel.TransactionID, qo.Status.Providers[0].TransactionID; got != want {
		t.Errorf("CANCEL transaction ID: got %s, want the QUOTATION's %s (§9.2.7)", got, want)
	}
	d := waitServer(t, srv, poid, "state Cancelled", func(d server.OrderDetail) bool { return d.State == "Cancelled" })
	if d.Offer != nil && d.Offer.Open {
		t.Errorf("server offer after the CANCEL: still open (reserved)")
	}
	if h := srv.pol.Holdings(); len(h) != 0 {
		t.Errorf("server holdings after the CANCEL: got %+v, want none", h)
	}
}

// TestDeleteWaitingOrderCancels deletes an order the server holds for
// administrative validation (no offer yet): the operator CANCELs it.
// Reference: RFC 8921 §9.2.7, §8.2, §12.2; Figure 8 (ServerProcessing --CANCEL-->).
func TestDeleteWaitingOrderCancels(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "cancel-wait")
	srv, rec := recordedServer(t, c, ns, serverOpts{approval: policy.ApprovalManual})
	manager(t)

	qo := order(ns, "held", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	poid := heldOrder(t, srv)
	if err := c.Delete(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	waitDeleted(t, c, qo, "quotation order")
	waitRecorded(t, rec, wire.MethodCancel, "the CANCEL of the deleted order", func(wire.Message) bool { return true })
	waitServer(t, srv, poid, "state Cancelled", func(d server.OrderDetail) bool { return d.State == "Cancelled" })
}

// TestDeleteCompletedOrderSendsNoCancel deletes an order whose negotiation
// completed: the finalizer goes without a CANCEL (the negotiation belongs
// to the Agreement, whose own finalizer runs the WITHDRAW). envtest runs no
// garbage collector, so the test deletes the owned Agreement itself, as the
// collector would.
// Reference: RFC 8921 §9.2.7 (CANCEL only before an agreement), §9.2.8 (WITHDRAW).
func TestDeleteCompletedOrderSendsNoCancel(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "cancel-done")
	srv, rec := recordedServer(t, c, ns, serverOpts{})
	manager(t)

	qo := order(ns, "done", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "Ready=True", ready)
	agr := waitAgreement(t, c, qo)
	if err := c.Delete(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	waitDeleted(t, c, qo, "quotation order")
	if got := len(rec.received(wire.MethodCancel)); got != 0 {
		t.Errorf("CANCELs received after deleting a completed order: got %d, want 0", got)
	}
	if err := c.Get(ctxFor(t), client.ObjectKeyFromObject(agr), agr); err != nil {
		t.Fatalf("agreement after its order was deleted: %v", err)
	}
	if !controllerutil.ContainsFinalizer(agr, controllers.WithdrawFinalizer) {
		t.Fatalf("agreement finalizers: got %v, want %s", agr.Finalizers, controllers.WithdrawFinalizer)
	}
	if err := c.Delete(ctxFor(t), agr); err != nil {
		t.Fatal(err)
	}
	waitDeleted(t, c, agr, "agreement")
	waitRecorded(t, rec, wire.MethodWithdraw, "the WITHDRAW of the Agreement", func(wire.Message) bool { return true })
	if got := len(rec.received(wire.MethodCancel)); got != 0 {
		t.Errorf("CANCELs received: got %d, want 0", got)
	}
	if h := srv.pol.Holdings(); len(h) != 0 {
		t.Errorf("server holdings after the WITHDRAW: got %+v, want none", h)
	}
}

// TestDeleteUnansweredCancel deletes an open order while the server is
// unreachable (a relay that drops everything): the CANCEL is retransmitted
// (RETRANS_TIMER 200 ms, one retry), then the finalizer goes with a
// Warning Event; the server's offer lapses by itself.
// Reference: RFC 8921 §9.2.7, §11.4 (retransmission), §9.1.8 (validity).
func TestDeleteUnansweredCancel(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "cancel-deaf")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	relay := startRelay(t, srv.addr)
	provider(t, c, ns, "wan", p, &cpnpServer{addr: relay.addr()})
	var prov v1alpha1.Provider
	if err := c.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: "wan"}, &prov); err != nil {
		t.Fatal(err)
	}
	one := int32(1)
	prov.Spec.Retransmission = &v1alpha1.Retransmission{Timer: &metav1.Duration{Duration: 200 * time.Millisecond}, Backoff: &one, MaxRetries: &one}
	if err := c.Update(ctxFor(t), &prov); err != nil {
		t.Fatal(err)
	}
	manager(t)

	qo, _ := openOffer(t, c, ns, "deaf")
	relay.drop.Store(true)
	if err := c.Delete(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	waitDeleted(t, c, qo, "quotation order")
	waitEvent(t, c, ns, qo.Name, corev1.EventTypeWarning, controllers.ReasonCancelUnanswered)
	for _, o := range srv.srv.List() {
		if o.State == "Cancelled" {
			t.Errorf("server order %s: Cancelled, want it untouched (the CANCEL was dropped)", o.ProviderOrderID)
		}
	}
}

// TestAgreementWithdrawnShowsEnd withdraws and deletes the Agreement of a
// completed order: the order no longer claims Ready; it shows
// Ready=False reason AgreementWithdrawn, keeps state Completed and its
// agreementRef.
// Reference: RFC 8921 §9.2.8 (WITHDRAW), §8.11.1 Figure 8.
func TestAgreementWithdrawnShowsEnd(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "withdrawn")
	recordedServer(t, c, ns, serverOpts{})
	manager(t)

	qo := order(ns, "ended", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "Ready=True", ready)
	agr := waitAgreement(t, c, qo)
	if err := c.Delete(ctxFor(t), agr); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "Ready reason AgreementWithdrawn", func(o *v1alpha1.QuotationOrder) bool {
		r := condition(o.Status.Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Reason == controllers.ReasonAgreementWithdrawn
	})
	if r := condition(qo.Status.Conditions, v1alpha1.ConditionReady); r.Status != metav1.ConditionFalse {
		t.Errorf("Ready: got %s, want False", r.Status)
	}
	for _, typ := range []string{v1alpha1.ConditionReconciling, v1alpha1.ConditionStalled} {
		if got := condition(qo.Status.Conditions, typ); got == nil || got.Status != metav1.ConditionFalse {
			t.Errorf("%s: got %+v, want False", typ, got)
		}
	}
	if qo.Status.State != v1alpha1.StateCompleted || qo.Status.AgreementRef == nil || qo.Status.AgreementRef.Name != agr.Name {
		t.Errorf("order: got state %s agreementRef %v, want Completed and %s", qo.Status.State, qo.Status.AgreementRef, agr.Name)
	}
	waitEvent(t, c, ns, qo.Name, corev1.EventTypeNormal, controllers.ReasonAgreementWithdrawn)
}
