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
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// recorder keeps the messages a server received, decoded from the DTLS
// plaintext, so that tests can assert on what the operator sent (for
// example the reason codes of a DECLINE, RFC 8921 §9.2.5 Table 3).
type recorder struct {
	mu   sync.Mutex
	msgs []wire.Message
	at   []time.Time
}

// firstAt returns when the first message of method m was received.
func (r *recorder) firstAt(m wire.Method) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, msg := range r.msgs {
		if msg.Method == m {
			return r.at[i]
		}
	}
	return time.Time{}
}

// received returns the messages of method m received so far.
func (r *recorder) received(m wire.Method) []wire.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []wire.Message
	for _, msg := range r.msgs {
		if msg.Method == m {
			out = append(out, msg)
		}
	}
	return out
}

// wrap is a serverOpts.wrap that records what the server reads.
func (r *recorder) wrap(l transport.Listener) transport.Listener {
	return &recListener{Listener: l, rec: r}
}

type recListener struct {
	transport.Listener
	rec *recorder
}

func (l *recListener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return &recConn{Conn: c, rec: l.rec}, nil
}

type recConn struct {
	transport.Conn
	rec *recorder
}

func (c *recConn) ReadMessage(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.ReadMessage(ctx)
	if err == nil {
		if m, derr := wire.Decode(b); derr == nil {
			c.rec.mu.Lock()
			c.rec.msgs = append(c.rec.msgs, m)
			c.rec.at = append(c.rec.at, time.Now())
			c.rec.mu.Unlock()
		}
	}
	return b, err
}

// waitRecorded waits until the server received a message of method m that
// cond accepts, and returns it.
func waitRecorded(t *testing.T, rec *recorder, m wire.Method, what string, cond func(wire.Message) bool) wire.Message {
	t.Helper()
	ctx := ctxFor(t)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, msg := range rec.received(m) {
			if cond(msg) {
				return msg
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("server: no %s received (%s); got %d of them", m, what, len(rec.received(m)))
		case <-tick.C:
		}
	}
}

// pair is two recorded servers "a" and "b" with their Providers in ns.
type pair struct {
	a, b       *cpnpServer
	recA, recB *recorder
}

// startPair starts two servers with the options oa and ob and creates the
// Providers "a" and "b" for them (one PKI, the same tenant acme).
func startPair(t *testing.T, c client.Client, ns string, oa, ob serverOpts) pair {
	t.Helper()
	p := cpnptest.NewPKI(t)
	var pr pair
	pr.recA, pr.recB = &recorder{}, &recorder{}
	oa.wrap, ob.wrap = pr.recA.wrap, pr.recB.wrap
	pr.a, pr.b = startServerOpts(t, p, oa), startServerOpts(t, p, ob)
	provider(t, c, ns, "a", p, pr.a)
	prov := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b"}}
	if err := c.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: "a"}, prov); err != nil {
		t.Fatal(err)
	}
	second := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b"}, Spec: *prov.Spec.DeepCopy()}
	second.Spec.Address = pr.b.addr
	if err := c.Create(ctxFor(t), second); err != nil {
		t.Fatal(err)
	}
	return pr
}

// twoProviderOrder is order() with providerRefs a then b.
func twoProviderOrder(ns, name string, acceptance v1alpha1.AcceptanceMode) *v1alpha1.QuotationOrder {
	qo := order(ns, name, "a", "gold", acceptance)
	qo.Spec.ProviderRefs = append(qo.Spec.ProviderRefs, v1alpha1.ProviderReference{Kind: v1alpha1.ProviderKindProvider, Name: "b"})
	return qo
}

// entryOf returns the status.providers entry of provider name.
func entryOf(t *testing.T, qo *v1alpha1.QuotationOrder, name string) v1alpha1.ProviderNegotiation {
	t.Helper()
	for _, p := range qo.Status.Providers {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("status.providers: no entry for %s in %s", name, statusOf(qo))
	return v1alpha1.ProviderNegotiation{}
}

// ready reports whether the order reached an agreement.
func ready(o *v1alpha1.QuotationOrder) bool {
	r := condition(o.Status.Conditions, v1alpha1.ConditionReady)
	return r != nil && r.Status == metav1.ConditionTrue
}

// stalled reports whether the order ended without an agreement.
func stalled(o *v1alpha1.QuotationOrder) bool {
	s := condition(o.Status.Conditions, v1alpha1.ConditionStalled)
	return s != nil && s.Status == metav1.ConditionTrue
}

// reasonsOf returns the DECLINE reason codes the server received.
func reasonsOf(t *testing.T, rec *recorder, what string) []wire.Reason {
	t.Helper()
	return waitRecorded(t, rec, wire.MethodDecline, what, func(wire.Message) bool { return true }).Reasons
}

// assertLoser checks a negotiation the controller declined because
// another offer was accepted: Cancelled in status.providers with the
// decline recorded, its Offer Declined with reason 2 and a message that
// says why, and the server's order Cancelled after a DECLINE with reason 2.
// Reference: RFC 8921 §8.10, §9.2.5 Table 3 (code 2).
func assertLoser(t *testing.T, c client.Client, qo *v1alpha1.QuotationOrder, name string, srv *cpnpServer, rec *recorder) {
	t.Helper()
	qo = waitFor(t, c, qo, name+" Cancelled", func(o *v1alpha1.QuotationOrder) bool {
		for _, p := range o.Status.Providers {
			if p.Name == name {
				return p.State == v1alpha1.StateCancelled
			}
		}
		return false
	})
	e := entryOf(t, qo, name)
	if e.Failure == nil || e.Failure.Reason != controllers.FailureDeclinedForOtherOffer {
		t.Errorf("%s failure: got %+v, want reason %s", name, e.Failure, controllers.FailureDeclinedForOtherOffer)
	}
	if diff := cmp.Diff([]wire.Reason{wire.ReasonConflictWithOtherOffer}, reasonsOf(t, rec, name+"'s DECLINE")); diff != "" {
		t.Errorf("%s: DECLINE reasons the server received (-want +got):\n%s", name, diff)
	}
	if e.OfferRef == nil {
		t.Fatalf("%s: no offerRef", name)
	}
	offer := waitFor(t, c, &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: qo.Namespace, Name: e.OfferRef.Name}},
		"state Declined", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferDeclined })
	if r := condition(offer.Status.Conditions, v1alpha1.ConditionReady); r == nil || !strings.Contains(r.Message, "ConflictWithOtherOffer") {
		t.Errorf("%s offer Ready: got %+v, want a message naming ConflictWithOtherOffer", name, r)
	}
	list := srv.srv.List()
	if len(list) != 1 {
		t.Fatalf("%s server orders: got %d, want 1", name, len(list))
	}
	waitServer(t, srv, list[0].ProviderOrderID, "state Cancelled", func(d server.OrderDetail) bool { return d.State == "Cancelled" && d.Agreement == nil })
}

// TestParallelFirstPreferred negotiates with two providers that both make
// an offer satisfying the request: the offer of the first providerRef is
// accepted and the Agreement made with it, the other is declined with
// reason 2 (ConflictWithOtherOffer).
// Reference: RFC 8921 §8.10 (parallel negotiation), §9.2.4, §9.2.5 Table 3; DESIGN §5.
func TestParallelFirstPreferred(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "par-first")
	pr := startPair(t, c, ns, serverOpts{}, serverOpts{})
	manager(t)

	qo := twoProviderOrder(ns, "both", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "Ready=True", ready)
	if got, want := qo.Status.State, v1alpha1.StateCompleted; got != want {
		t.Errorf("status.state: got %s, want %s", got, want)
	}
	agr := waitAgreement(t, c, qo)
	if got := agr.Spec.ProviderRef.Name; got != "a" {
		t.Errorf("agreement provider: got %s, want a (the first providerRef)", got)
	}
	if got := len(pr.recA.received(wire.MethodAccept)); got != 1 {
		t.Errorf("ACCEPTs received by a: got %d, want 1", got)
	}
	if got := len(pr.recB.received(wire.MethodAccept)); got != 0 {
		t.Errorf("ACCEPTs received by b: got %d, want 0", got)
	}
	assertLoser(t, c, qo, "b", pr.b, pr.recB)
	waitEvent(t, c, ns, qo.Name, corev1.EventTypeNormal, controllers.ReasonOfferAccepted)
	waitEvent(t, c, ns, qo.Name, corev1.EventTypeNormal, controllers.ReasonOfferDeclined)
}

// TestParallelSecondWhenFirstUnsatisfying: the first provider can only
// counter-offer less than requested, so the second provider's satisfying
// offer is accepted; the first is declined with reason 2 because another
// offer was accepted.
// Reference: RFC 8921 §8.10, §9.2.5 Table 3; RFC 7297 §3-4 (bounds of the request).
func TestParallelSecondWhenFirstUnsatisfying(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "par-second")
	pr := startPair(t, c, ns, serverOpts{maxBps: 5e6}, serverOpts{})
	manager(t)

	qo := twoProviderOrder(ns, "second", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "Ready=True", ready)
	agr := waitAgreement(t, c, qo)
	if got := agr.Spec.ProviderRef.Name; got != "b" {
		t.Errorf("agreement provider: got %s, want b (a's offer does not satisfy the request)", got)
	}
	assertLoser(t, c, qo, "a", pr.a, pr.recA)
}

// TestParallelNoneSatisfies: both providers counter-offer less than
// requested; both offers are declined with reason 1 (UnacceptableGap) and
// the order ends Stalled without an Agreement.
// Reference: RFC 8921 §8.10, §9.2.5 Table 3 (code 1).
func TestParallelNoneSatisfies(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "par-none")
	pr := startPair(t, c, ns, serverOpts{maxBps: 5e6}, serverOpts{maxBps: 5e6})
	manager(t)

	qo := twoProviderOrder(ns, "none", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "Stalled=True", stalled)
	if qo.Status.AgreementRef != nil || qo.Status.State != v1alpha1.StateCancelled {
		t.Errorf("order: got state %s agreementRef %v, want Cancelled and none", qo.Status.State, qo.Status.AgreementRef)
	}
	for _, x := range []struct {
		name string
		rec  *recorder
	}{{"a", pr.recA}, {"b", pr.recB}} {
		if diff := cmp.Diff([]wire.Reason{wire.ReasonUnacceptableGap}, reasonsOf(t, x.rec, x.name+"'s DECLINE")); diff != "" {
			t.Errorf("%s: DECLINE reasons (-want +got):\n%s", x.name, diff)
		}
		if f := entryOf(t, qo, x.name).Failure; f == nil || f.Reason != controllers.FailureDeclinedUnacceptableGap {
			t.Errorf("%s failure: got %+v, want reason %s", x.name, f, controllers.FailureDeclinedUnacceptableGap)
		}
	}
}

// TestParallelOneFails: the first provider holds the order for
// administrative validation, so the Automatic decision waits with the
// second provider's offer open; the administrator rejects it (FAIL 4) and
// the second provider's offer is accepted.
// Reference: RFC 8921 §8.10, §9.2.10 (FAIL), §8.2, §12.2; DESIGN §3 (FAIL 4).
func TestParallelOneFails(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "par-fail")
	pr := startPair(t, c, ns, serverOpts{approval: policy.ApprovalManual}, serverOpts{})
	manager(t)

	qo := twoProviderOrder(ns, "fail", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	poid := heldOrder(t, pr.a)
	qo = waitFor(t, c, qo, "b's offer", func(o *v1alpha1.QuotationOrder) bool {
		for _, p := range o.Status.Providers {
			if p.Name == "b" {
				return p.OfferRef != nil
			}
		}
		return false
	})
	offer := waitFor(t, c, &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: entryOf(t, qo, "b").OfferRef.Name}},
		"state Open", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferOpen })
	if offer.Spec.Decision != "" || len(pr.recB.received(wire.MethodAccept)) != 0 {
		t.Fatalf("b's offer while a is held: got decision %q and %d ACCEPTs, want no decision yet", offer.Spec.Decision, len(pr.recB.received(wire.MethodAccept)))
	}
	if err := pr.a.srv.Reject(ctxFor(t), poid); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "Ready=True", ready)
	agr := waitAgreement(t, c, qo)
	if got := agr.Spec.ProviderRef.Name; got != "b" {
		t.Errorf("agreement provider: got %s, want b", got)
	}
	e := entryOf(t, qo, "a")
	if e.State != v1alpha1.StateCancelled || e.Failure == nil || e.Failure.StatusCode == nil || *e.Failure.StatusCode != 4 {
		t.Errorf("a: got state %s failure %+v, want Cancelled with FAIL 4", e.State, e.Failure)
	}
	offer = waitFor(t, c, offer, "state Accepted", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferAccepted })
	if got, want := offer.Spec.Decision, v1alpha1.DecisionAccept; got != want {
		t.Errorf("b's offer decision: got %s, want %s (the controller's, Automatic acceptance)", got, want)
	}
}

// manualOffers creates a two-provider order with Manual acceptance and
// waits until both Offers are Open.
func manualOffers(t *testing.T, c client.Client, ns, name string) (*v1alpha1.QuotationOrder, *v1alpha1.Offer, *v1alpha1.Offer) {
	t.Helper()
	qo := twoProviderOrder(ns, name, v1alpha1.AcceptanceManual)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "two offers", func(o *v1alpha1.QuotationOrder) bool {
		n := 0
		for _, p := range o.Status.Providers {
			if p.OfferRef != nil {
				n++
			}
		}
		return n == 2
	})
	var offers [2]*v1alpha1.Offer
	for i, name := range []string{"a", "b"} {
		offers[i] = waitFor(t, c, &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: entryOf(t, qo, name).OfferRef.Name}},
			"state Open", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferOpen })
	}
	return qo, offers[0], offers[1]
}

// TestParallelManual: under Manual acceptance each Offer waits for its
// spec.decision. Accepting the second provider's Offer accepts it and the
// controller declines the other open offer with reason 2 (its Offer says
// why; its spec.decision stays the user's). Accepting both Offers at once
// (set while the manager is stopped) accepts the first in providerRefs
// order and declines the other with a Warning Event naming it.
// Reference: RFC 8921 §8.10, §9.2.4, §9.2.5 Table 3; DESIGN §5.
func TestParallelManual(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "par-manual")
	pr := startPair(t, c, ns, serverOpts{}, serverOpts{})
	stop := manager(t)

	qo, _, offerB := manualOffers(t, c, ns, "pick-b")
	offerB.Spec.Decision = v1alpha1.DecisionAccept
	if err := c.Update(ctxFor(t), offerB); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "Ready=True", ready)
	agr := waitAgreement(t, c, qo)
	if got := agr.Spec.ProviderRef.Name; got != "b" {
		t.Errorf("agreement provider: got %s, want b (the user's choice)", got)
	}
	assertLoser(t, c, qo, "a", pr.a, pr.recA)
	offerA := &v1alpha1.Offer{}
	if err := c.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: entryOf(t, qo, "a").OfferRef.Name}, offerA); err != nil {
		t.Fatal(err)
	}
	if offerA.Spec.Decision != "" {
		t.Errorf("a's offer spec.decision: got %q, want the user's (none)", offerA.Spec.Decision)
	}

	// Both accepted while the manager is stopped.
	qo2, a2, b2 := manualOffers(t, c, ns, "both")
	stop()
	for _, o := range []*v1alpha1.Offer{b2, a2} {
		o.Spec.Decision = v1alpha1.DecisionAccept
		if err := c.Update(ctxFor(t), o); err != nil {
			t.Fatal(err)
		}
	}
	manager(t)
	qo2 = waitFor(t, c, qo2, "Ready=True", ready)
	agr2 := waitAgreement(t, c, qo2)
	if got := agr2.Spec.ProviderRef.Name; got != "a" {
		t.Errorf("agreement provider with both accepted: got %s, want a (first in providerRefs)", got)
	}
	qo2 = waitFor(t, c, qo2, "b Cancelled", func(o *v1alpha1.QuotationOrder) bool {
		for _, p := range o.Status.Providers {
			if p.Name == "b" {
				return p.State == v1alpha1.StateCancelled
			}
		}
		return false
	})
	if f := entryOf(t, qo2, "b").Failure; f == nil || f.Reason != controllers.FailureDeclinedForOtherOffer {
		t.Errorf("b failure: got %+v, want %s", f, controllers.FailureDeclinedForOtherOffer)
	}
	b2 = waitFor(t, c, b2, "state Declined", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferDeclined })
	if b2.Spec.Decision != v1alpha1.DecisionAccept {
		t.Errorf("b's offer spec.decision: got %q, want Accept (the user's, final)", b2.Spec.Decision)
	}
	waitEvent(t, c, ns, qo2.Name, corev1.EventTypeWarning, controllers.ReasonAcceptOverridden)
}

// TestParallelDecidesBeforeValidity: the second provider holds the order
// for administrative validation and never offers; the first provider's
// offer is valid for 10 s, so the Automatic decision is taken at 10% of
// that window before it lapses (9 s after the offer): the offer is accepted
// and the waiting negotiation is cancelled (CANCEL seen by the server).
// Reference: RFC 8921 §8.10, §9.1.8 (VALIDITY_OFFER_TIME), §9.2.4, §9.2.7.
func TestParallelDecidesBeforeValidity(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "par-margin")
	pr := startPair(t, c, ns, serverOpts{validity: 10 * time.Second}, serverOpts{approval: policy.ApprovalManual})
	manager(t)

	qo := twoProviderOrder(ns, "margin", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	poid := heldOrder(t, pr.b)
	qo = waitFor(t, c, qo, "Ready=True", ready)
	offer := &v1alpha1.Offer{}
	if err := c.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: entryOf(t, qo, "a").OfferRef.Name}, offer); err != nil {
		t.Fatal(err)
	}
	waitRecorded(t, pr.recA, wire.MethodAccept, "the ACCEPT", func(wire.Message) bool { return true })
	// spec.validUntil is truncated to the second: the true validity ends
	// within the second after it; the decision is due 1 s before.
	at, until := pr.recA.firstAt(wire.MethodAccept), offer.Spec.ValidUntil.Time
	if at.Before(until.Add(-2*time.Second)) || !at.Before(until.Add(time.Second)) {
		t.Errorf("ACCEPT received at %s, want within 1 s before the offer's validity %s (to the second)", at.Format(time.StampMilli), until.Format(time.StampMilli))
	}
	qo = waitFor(t, c, qo, "b Cancelled", func(o *v1alpha1.QuotationOrder) bool {
		for _, p := range o.Status.Providers {
			if p.Name == "b" {
				return p.State == v1alpha1.StateCancelled
			}
		}
		return false
	})
	if f := entryOf(t, qo, "b").Failure; f == nil || f.Reason != controllers.FailureCancelledForOtherOffer {
		t.Errorf("b failure: got %+v, want %s", f, controllers.FailureCancelledForOtherOffer)
	}
	waitRecorded(t, pr.recB, wire.MethodCancel, "b's CANCEL", func(wire.Message) bool { return true })
	waitServer(t, pr.b, poid, "state Cancelled", func(d server.OrderDetail) bool { return d.State == "Cancelled" })
	waitEvent(t, c, ns, qo.Name, corev1.EventTypeNormal, controllers.ReasonNegotiationCancelled)
}
