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

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// TestAutomaticAcceptanceEndToEnd negotiates a QuotationOrder with
// Automatic acceptance against the in-process server: QUOTATION, OFFER (an
// Offer owned by the order), ACCEPT, ACK, and an Agreement with a UUID
// contract ID; the order and the Agreement become Ready.
// Reference: RFC 8921 §8.7 Figure 6, §9.2.1, §9.2.3, §9.2.4, §9.2.6; DESIGN §4, §5.
func TestAutomaticAcceptanceEndToEnd(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "auto")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	manager(t)

	qo := order(ns, "gold", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: qo.ObjectMeta}, "Ready=True", func(o *v1alpha1.QuotationOrder) bool {
		r := condition(o.Status.Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Status == metav1.ConditionTrue
	})
	if got, want := qo.Status.State, v1alpha1.StateCompleted; got != want {
		t.Errorf("status.state: got %s, want %s", got, want)
	}
	if got := condition(qo.Status.Conditions, v1alpha1.ConditionReady); got.Reason != controllers.ReasonAgreementReached || got.ObservedGeneration != qo.Generation {
		t.Errorf("Ready: got reason %s generation %d, want %s generation %d", got.Reason, got.ObservedGeneration, controllers.ReasonAgreementReached, qo.Generation)
	}
	for _, typ := range []string{v1alpha1.ConditionReconciling, v1alpha1.ConditionStalled} {
		if got := condition(qo.Status.Conditions, typ); got == nil || got.Status != metav1.ConditionFalse {
			t.Errorf("%s: got %+v, want False", typ, got)
		}
	}
	if len(qo.Status.Providers) != 1 {
		t.Fatalf("status.providers: got %d entries, want 1", len(qo.Status.Providers))
	}
	pn := qo.Status.Providers[0]
	if pn.TransactionID == "" || pn.ProviderOrderID == "" || pn.ProviderOrderID == qo.Status.CustomerOrderID {
		t.Errorf("identifiers: got transactionID %q providerOrderID %q customerOrderID %q, want all set and distinct (RFC 8921 §13)",
			pn.TransactionID, pn.ProviderOrderID, qo.Status.CustomerOrderID)
	}
	if qo.Status.AgreementRef == nil || pn.OfferRef == nil {
		t.Fatalf("refs: got agreementRef %v offerRef %v, want both", qo.Status.AgreementRef, pn.OfferRef)
	}
	// PROCESSING before the OFFER is the server's choice (§9.2.2): left out.
	var states []string
	for _, h := range qo.Status.History {
		if h.To != string(v1alpha1.StateServerProcessing) {
			states = append(states, h.To)
		}
	}
	want := []string{"AwaitingProcessing", "PQOSent", "OfferReceived", "OfferProcessing", "AcceptSent", "Completed"}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("history states (-want +got):\n%s", diff)
	}

	// The Offer, owned by the order, with the operator's decision.
	offer := waitFor(t, c, &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: pn.OfferRef.Name}}, "state Accepted",
		func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferAccepted })
	if got, want := offer.Spec.Decision, v1alpha1.DecisionAccept; got != want {
		t.Errorf("offer decision: got %s, want %s", got, want)
	}
	if !ownedBy(offer, qo) {
		t.Errorf("offer owners: got %+v, want controller %s", offer.OwnerReferences, qo.Name)
	}
	if got := offer.Status.SatisfiesRequest; got != metav1.ConditionTrue {
		t.Errorf("offer satisfiesRequest: got %s, want True", got)
	}

	// The Agreement: the accepted CPD, a UUID contract ID, Ready.
	agr := waitAgreement(t, c, qo)
	if _, err := uuid.Parse(agr.Status.ContractID); err != nil {
		t.Errorf("contractID %q: not a UUID: %v", agr.Status.ContractID, err)
	}
	if r := condition(agr.Status.Conditions, v1alpha1.ConditionReady); r == nil || r.Status != metav1.ConditionTrue {
		t.Errorf("agreement Ready: got %+v, want True", r)
	}
	if diff := cmp.Diff(offer.Spec.CPD, agr.Spec.CPD); diff != "" {
		t.Errorf("agreement cpd is not the offered one (-offer +agreement):\n%s", diff)
	}
	if got, want := agr.Status.ProviderOrderID, pn.ProviderOrderID; got != want {
		t.Errorf("agreement providerOrderID: got %s, want %s", got, want)
	}

	// Nonces live in the owned Secret, never in status (DESIGN §5).
	var sec corev1.Secret
	if err := c.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: qo.Name + controllers.OrderNonceSecretSuffix}, &sec); err != nil {
		t.Fatalf("nonce secret: %v", err)
	}
	if len(sec.Data) == 0 || !ownedBy(&sec, qo) {
		t.Errorf("nonce secret: got %d keys, owners %+v; want nonces owned by the order", len(sec.Data), sec.OwnerReferences)
	}
	if got := len(srv.srv.List()); got != 1 {
		t.Errorf("server orders: got %d, want 1", got)
	}
	waitEvent(t, c, ns, qo.Name, corev1.EventTypeNormal, controllers.ReasonAgreementReached)
}

// TestServerFailIsStalled asks for a QoS class no pool has: the server
// answers FAIL 5 (Out of Resources), and the order becomes Stalled with the
// code in status.failure and a Warning Event.
// Reference: RFC 8921 §9.2.10, Table 4 (code 5); DESIGN §5 (kstatus Stalled).
func TestServerFailIsStalled(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "fail")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	manager(t)

	qo := order(ns, "bronze", "wan", "bronze", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: qo.ObjectMeta}, "Stalled=True", func(o *v1alpha1.QuotationOrder) bool {
		s := condition(o.Status.Conditions, v1alpha1.ConditionStalled)
		return s != nil && s.Status == metav1.ConditionTrue
	})
	if got, want := qo.Status.State, v1alpha1.StateCancelled; got != want {
		t.Errorf("status.state: got %s, want %s", got, want)
	}
	f := qo.Status.Failure
	if f == nil || f.StatusCode == nil || *f.StatusCode != 5 || f.Sender != v1alpha1.FailureSenderServer {
		t.Fatalf("status.failure: got %+v, want statusCode 5 from the server", f)
	}
	if s := condition(qo.Status.Conditions, v1alpha1.ConditionStalled); s.Reason != controllers.ReasonServerFailed {
		t.Errorf("Stalled reason: got %s, want %s", s.Reason, controllers.ReasonServerFailed)
	}
	if r := condition(qo.Status.Conditions, v1alpha1.ConditionReconciling); r == nil || r.Status != metav1.ConditionFalse {
		t.Errorf("Reconciling: got %+v, want False", r)
	}
	waitEvent(t, c, ns, qo.Name, corev1.EventTypeWarning, controllers.ReasonServerFailed)
}

// TestAutomaticDeclineOfCounterOffer asks for more than the tenant may
// hold: the server makes a counter-offer that does not satisfy the request,
// which Automatic acceptance declines with reason 1 (unacceptable gap); the
// order ends Stalled with a Warning Event and no Agreement.
// Reference: RFC 8921 §9.2.5 Table 3 (code 1); RFC 7297 §3-4; DESIGN §5.
func TestAutomaticDeclineOfCounterOffer(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "decline")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 5e6)
	provider(t, c, ns, "wan", p, srv)
	manager(t)

	qo := order(ns, "big", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: qo.ObjectMeta}, "Stalled=True", func(o *v1alpha1.QuotationOrder) bool {
		s := condition(o.Status.Conditions, v1alpha1.ConditionStalled)
		return s != nil && s.Status == metav1.ConditionTrue
	})
	if s := condition(qo.Status.Conditions, v1alpha1.ConditionStalled); s.Reason != controllers.ReasonNegotiationEnded {
		t.Errorf("Stalled reason: got %s, want %s", s.Reason, controllers.ReasonNegotiationEnded)
	}
	if qo.Status.AgreementRef != nil || len(qo.Status.Providers) != 1 || qo.Status.Providers[0].OfferRef == nil {
		t.Fatalf("refs: got agreementRef %v providers %+v, want an offer and no agreement", qo.Status.AgreementRef, qo.Status.Providers)
	}
	offer := waitFor(t, c, &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: qo.Status.Providers[0].OfferRef.Name}},
		"state Declined", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferDeclined })
	if diff := cmp.Diff([]v1alpha1.DeclineReason{v1alpha1.DeclineUnacceptableGap}, offer.Spec.DeclineReasons); diff != "" {
		t.Errorf("decline reasons (-want +got):\n%s", diff)
	}
	if got, want := offer.Spec.Decision, v1alpha1.DecisionDecline; got != want {
		t.Errorf("decision: got %s, want %s", got, want)
	}
	if offer.Status.SatisfiesRequest != metav1.ConditionFalse || len(offer.Status.Mismatches) == 0 {
		t.Errorf("offer: got satisfiesRequest %s mismatches %v, want False with mismatches", offer.Status.SatisfiesRequest, offer.Status.Mismatches)
	}
	waitEvent(t, c, ns, qo.Name, corev1.EventTypeWarning, controllers.ReasonNegotiationEnded)
}

// TestRestartDoesNotQuoteTwice stops the manager once the QUOTATION is
// persisted, starts a new one, and checks that the server holds exactly one
// order per QuotationOrder: the status is written before the send
// (write-ahead), so the new manager continues the same order. The orders
// use Manual acceptance: the new manager then accepts the offer a user
// accepted in the Offer's spec.decision.
// Reference: RFC 8921 §8.11, §9.2.4; DESIGN §4 (write-ahead, restart safety), §5.
func TestRestartDoesNotQuoteTwice(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "restart")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	stop := manager(t)

	names := []string{"one", "two", "three"}
	for _, n := range names {
		if err := c.Create(ctxFor(t), order(ns, n, "wan", "gold", v1alpha1.AcceptanceManual)); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n}}, "a persisted QUOTATION",
			func(o *v1alpha1.QuotationOrder) bool {
				return len(o.Status.Providers) == 1 && o.Status.Providers[0].TransactionID != ""
			})
	}
	stop()
	manager(t)
	for _, n := range names {
		waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n}}, "an offer",
			func(o *v1alpha1.QuotationOrder) bool {
				return len(o.Status.Providers) == 1 && o.Status.Providers[0].OfferRef != nil
			})
	}
	if got, want := len(srv.srv.List()), len(names); got != want {
		t.Errorf("server orders: got %d, want %d (one per QuotationOrder)", got, want)
	}

	// Manual acceptance: the offer waits for the user's decision.
	qo := &v1alpha1.QuotationOrder{}
	if err := c.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: "one"}, qo); err != nil {
		t.Fatal(err)
	}
	if qo.Status.AgreementRef != nil || qo.Status.State != v1alpha1.StateOfferProcessing {
		t.Fatalf("manual order before the decision: got state %s agreementRef %v, want OfferProcessing and none", qo.Status.State, qo.Status.AgreementRef)
	}
	offer := waitFor(t, c, &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: qo.Status.Providers[0].OfferRef.Name}}, "state Open",
		func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferOpen })
	offer.Spec.Decision = v1alpha1.DecisionAccept
	if err := c.Update(ctxFor(t), offer); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, qo, "Ready=True", func(o *v1alpha1.QuotationOrder) bool {
		r := condition(o.Status.Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Status == metav1.ConditionTrue
	})
	waitFor(t, c, offer, "state Accepted", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferAccepted })
}

// ownedBy reports whether owner is obj's controller.
func ownedBy(obj client.Object, owner client.Object) bool {
	for _, r := range obj.GetOwnerReferences() {
		if r.UID == owner.GetUID() && r.Controller != nil && *r.Controller {
			return true
		}
	}
	return false
}

// waitEvent waits for an Event about the object name with type typ and
// reason (STYLE §3: an Event's reason equals the condition reason).
func waitEvent(t *testing.T, c client.Client, ns, name, typ, reason string) {
	t.Helper()
	ctx := ctxFor(t)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var list eventsv1.EventList
		err := c.List(ctx, &list, client.InNamespace(ns))
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Type == typ && e.Reason == reason {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %s Event %s for %s (last error %v)", typ, reason, name, err)
		case <-tick.C:
		}
	}
}

// TestMissingProviderIsRetried creates an order before its Provider: the
// first reconcile already writes Reconciling=True (kstatus) with the
// generation and reason ProviderUnavailable and a Warning Event; nothing is
// sent. Once the Provider and its Secrets exist, the retry (with backoff)
// negotiates and reaches an Agreement.
// Reference: DESIGN §5 (kstatus from the first reconcile; transient trouble
// retries with bounded backoff); STYLE §3.
func TestMissingProviderIsRetried(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "late")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	manager(t)

	qo := order(ns, "early", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: qo.ObjectMeta}, "Reconciling=True", func(o *v1alpha1.QuotationOrder) bool {
		r := condition(o.Status.Conditions, v1alpha1.ConditionReconciling)
		return r != nil && r.Status == metav1.ConditionTrue
	})
	r := condition(got.Status.Conditions, v1alpha1.ConditionReconciling)
	if r.Reason != controllers.ReasonProviderUnavailable || r.ObservedGeneration != got.Generation || got.Status.ObservedGeneration != got.Generation {
		t.Errorf("Reconciling: got reason %s generation %d (status %d), want %s generation %d",
			r.Reason, r.ObservedGeneration, got.Status.ObservedGeneration, controllers.ReasonProviderUnavailable, got.Generation)
	}
	if len(got.Status.Providers) != 0 || len(srv.srv.List()) != 0 {
		t.Errorf("before the Provider exists: got providers %+v and %d server orders, want none", got.Status.Providers, len(srv.srv.List()))
	}
	waitEvent(t, c, ns, qo.Name, corev1.EventTypeWarning, controllers.ReasonProviderUnavailable)

	provider(t, c, ns, "wan", p, srv)
	waitFor(t, c, got, "Ready=True", func(o *v1alpha1.QuotationOrder) bool {
		r := condition(o.Status.Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Status == metav1.ConditionTrue
	})
}
