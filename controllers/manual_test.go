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
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// openOffer creates a QuotationOrder with Manual acceptance and waits until
// its Offer is Open: the order waits in OfferProcessing (RFC 8921 §9.2.3).
func openOffer(t *testing.T, c client.Client, ns, name string) (*v1alpha1.QuotationOrder, *v1alpha1.Offer) {
	t.Helper()
	qo := order(ns, name, "wan", "gold", v1alpha1.AcceptanceManual)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "an offer", func(o *v1alpha1.QuotationOrder) bool {
		return len(o.Status.Providers) == 1 && o.Status.Providers[0].OfferRef != nil
	})
	if got, want := qo.Status.State, v1alpha1.StateOfferProcessing; got != want || qo.Status.AgreementRef != nil {
		t.Fatalf("manual order before the decision: got state %s agreementRef %v, want %s and none", got, qo.Status.AgreementRef, want)
	}
	offer := waitFor(t, c, &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: qo.Status.Providers[0].OfferRef.Name}},
		"state Open", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferOpen })
	if got := offer.Spec.Decision; got != "" {
		t.Errorf("offer decision under Manual acceptance: got %q, want none", got)
	}
	if r := condition(offer.Status.Conditions, v1alpha1.ConditionReconciling); r == nil || r.Status != metav1.ConditionTrue || r.Reason != controllers.ReasonOfferOpen {
		t.Errorf("open offer Reconciling: got %+v, want True %s", r, controllers.ReasonOfferOpen)
	}
	return qo, offer
}

// TestManualDecline declines an offer through the Offer's spec.decision
// with a reason: the operator sends DECLINE with code 2, the server
// acknowledges it and releases what it reserved, the order ends Cancelled
// (Stalled) and the Offer shows the acknowledged decision (Ready=True).
// Reference: RFC 8921 §9.2.5 (DECLINE, Table 3), §8.11.1 Figure 8; DESIGN §5.
func TestManualDecline(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "mdecline")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	manager(t)

	qo, offer := openOffer(t, c, ns, "manual")
	if len(srv.pol.Holdings()) == 0 {
		t.Fatalf("server holdings with an open offer: got none, want a reservation")
	}
	offer.Spec.Decision = v1alpha1.DecisionDecline
	offer.Spec.DeclineReasons = []v1alpha1.DeclineReason{v1alpha1.DeclineConflictWithOtherOffer}
	if err := c.Update(ctxFor(t), offer); err != nil {
		t.Fatal(err)
	}
	offer = waitFor(t, c, offer, "state Declined", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferDeclined })
	if r := condition(offer.Status.Conditions, v1alpha1.ConditionReady); r == nil || r.Status != metav1.ConditionTrue || r.Reason != controllers.ReasonDecisionAcknowledged {
		t.Errorf("declined offer Ready: got %+v, want True %s", r, controllers.ReasonDecisionAcknowledged)
	}
	if offer.Status.DecidedAt == nil {
		t.Errorf("declined offer decidedAt: got nil, want the time of the decision")
	}
	qo = waitFor(t, c, qo, "Stalled=True", func(o *v1alpha1.QuotationOrder) bool {
		s := condition(o.Status.Conditions, v1alpha1.ConditionStalled)
		return s != nil && s.Status == metav1.ConditionTrue
	})
	if got, want := qo.Status.State, v1alpha1.StateCancelled; got != want || qo.Status.AgreementRef != nil {
		t.Errorf("order: got state %s agreementRef %v, want %s and none", got, qo.Status.AgreementRef, want)
	}
	if s := condition(qo.Status.Conditions, v1alpha1.ConditionStalled); s.Reason != controllers.ReasonNegotiationEnded {
		t.Errorf("Stalled reason: got %s, want %s", s.Reason, controllers.ReasonNegotiationEnded)
	}
	waitFor(t, c, qo, "the server to release the reservation", func(*v1alpha1.QuotationOrder) bool {
		return len(srv.pol.Holdings()) == 0
	})
	waitEvent(t, c, ns, qo.Name, corev1.EventTypeWarning, controllers.ReasonNegotiationEnded)
}

// TestManualOfferExpires leaves an offer without a decision past its
// VALIDITY_OFFER_TIME (a 2 s validity in the server's policy): the
// operator's timer closes the negotiation without sending anything, the
// Offer becomes Expired (Stalled=True) and the order Cancelled.
// Reference: RFC 8921 §9.1.8, §9.2.4 (no ACCEPT after the validity time).
func TestManualOfferExpires(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "mexpire")
	p := cpnptest.NewPKI(t)
	srv := startServerWith(t, p, 0, 2*time.Second)
	provider(t, c, ns, "wan", p, srv)
	manager(t)

	qo, offer := openOffer(t, c, ns, "late")
	offer = waitFor(t, c, offer, "state Expired", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferExpired })
	if now := time.Now(); now.Before(offer.Spec.ValidUntil.Time) {
		t.Errorf("offer expired at %s, before its validity %s", now, offer.Spec.ValidUntil.Time)
	}
	s := condition(offer.Status.Conditions, v1alpha1.ConditionStalled)
	if s == nil || s.Status != metav1.ConditionTrue || s.Reason != controllers.ReasonOfferClosed {
		t.Errorf("expired offer Stalled: got %+v, want True %s", s, controllers.ReasonOfferClosed)
	}
	qo = waitFor(t, c, qo, "state Cancelled", func(o *v1alpha1.QuotationOrder) bool { return o.Status.State == v1alpha1.StateCancelled })
	if f := qo.Status.Failure; f == nil || f.Reason != "OfferExpired" {
		t.Errorf("order failure: got %+v, want reason OfferExpired", f)
	}
	if n := len(qo.Status.History); n == 0 || qo.Status.History[n-1].Reason != "OfferExpired" {
		t.Errorf("history: got %+v, want a last transition with reason OfferExpired", qo.Status.History)
	}
}
