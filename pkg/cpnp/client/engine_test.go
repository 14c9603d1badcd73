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

package client_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestFigure6Negotiation runs the negotiation of Figure 6 over DTLS:
// QUOTATION, PROCESSING, OFFER, PROCESSING, ACCEPT, ACK.
// Reference: RFC 8921 §8.7 Figure 6, §9.2.1-§9.2.6, §11.1.1.
func TestFigure6Negotiation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	req := request()
	req.Labels = map[string]string{"team": "wan"}
	id, q := h.quote(req)

	if want := regexp.MustCompile(`^co-[0-9a-f]{32}$`); !want.MatchString(id) {
		t.Errorf("generated customer order ID %q, want co- and 32 hex digits", id)
	}
	// §9.2.1: the QUOTATION carries the request and no provider order ID.
	qm := q.Msg
	switch {
	case qm.CustomerOrderID != id:
		t.Errorf("QUOTATION customer order ID %q, want %q", qm.CustomerOrderID, id)
	case !hex32.MatchString(qm.TransactionID):
		t.Errorf("transaction ID %q, want 128 random bits as 32 hex digits (§8.4)", qm.TransactionID)
	case qm.Seq >= 1<<31:
		t.Errorf("first sequence number %d, want < 2^31", qm.Seq)
	case qm.ProviderOrderID != "":
		t.Errorf("QUOTATION carries provider order ID %q, want none", qm.ProviderOrderID)
	case qm.RequestedCPD == nil || !cpd.Equal(*qm.RequestedCPD, cpd.Sample()):
		t.Errorf("QUOTATION requested CPD differs from the request")
	case qm.ExpectedResponseTime == nil || !qm.ExpectedResponseTime.Equal(at(time.Hour)):
		t.Errorf("QUOTATION expected response time %v, want %v", qm.ExpectedResponseTime, at(time.Hour))
	}
	// Write-ahead: the order was stored before the QUOTATION left.
	if o, ok := h.store.Get(id); !ok || o.State() != fsm.ClientPQOSent {
		t.Fatalf("stored order: %v in state %q, want PQOSent", ok, o.State())
	}

	h.srv.Send(t, q, h.processing(qm, atp(30*time.Minute)))
	h.waitReason(id, "ServerProcessing")
	h.srv.Send(t, q, h.offer(qm, nonce1, at(time.Hour)))
	ev := h.waitReason(id, "OfferProcessing")
	if ev.Offer == nil || !cpd.Equal(ev.Offer.CPD, cpd.SampleConcrete()) || !ev.Offer.ValidUntil.Equal(at(time.Hour)) {
		t.Fatalf("OfferProcessing event offer = %+v, want the concrete sample valid until %v", ev.Offer, at(time.Hour))
	}
	p := h.srv.Expect(t, wire.MethodProcessing)
	if p.Msg.ProviderOrderID != providerID || p.Msg.TransactionID != qm.TransactionID || p.Msg.Seq != qm.Seq+1 {
		t.Errorf("client PROCESSING = %s, want provider %s, txn %s, seq %d", p.Msg, providerID, qm.TransactionID, qm.Seq+1)
	}

	if err := h.eng.Accept(ctx, id); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	a := h.srv.Expect(t, wire.MethodAccept)
	if a.Msg.Nonce != nonce1 || a.Msg.AcceptedCPD == nil || !cpd.Equal(*a.Msg.AcceptedCPD, cpd.SampleConcrete()) ||
		a.Msg.Seq != qm.Seq+2 {
		t.Errorf("ACCEPT = %s, want the offer's nonce and CPD with seq %d (§9.2.4)", a.Msg, qm.Seq+2)
	}
	offered := cpd.SampleConcrete()
	h.srv.Send(t, a, h.ack(a.Msg, &offered))
	h.waitReason(id, "Agreed")

	o := h.order(id)
	if o.State() != fsm.ClientCompleted || o.FSM.Agreement == nil || !o.FSM.Agreement.Active ||
		o.FSM.Agreement.Nonce != nonce1 {
		t.Fatalf("order = %s with agreement %+v, want Completed with an active agreement", o.State(), o.FSM.Agreement)
	}
	want := []string{"QuotationSent", "ServerProcessing", "OfferReceived", "OfferProcessing", "OfferAccepted", "Agreed"}
	if diff := cmp.Diff(want, reasons(o)); diff != "" {
		t.Errorf("history reasons (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"team": "wan"}, o.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	stored, _ := h.store.Get(id)
	if stored.State() != fsm.ClientCompleted {
		t.Errorf("stored state %s, want Completed", stored.State())
	}
	m := h.metrics.Snapshot()
	if m.Sent[wire.MethodQuotation] != 1 || m.Sent[wire.MethodAccept] != 1 || m.Sent[wire.MethodProcessing] != 1 {
		t.Errorf("sent = %v, want one QUOTATION, PROCESSING and ACCEPT", m.Sent)
	}
	if m.Received[wire.MethodOffer] != 1 || m.Received[wire.MethodAck] != 1 {
		t.Errorf("received = %v, want one OFFER and one ACK", m.Received)
	}
	if m.RoundTrips != 2 || m.Retransmissions != 0 || m.Associations != 1 {
		t.Errorf("round trips %d, retransmissions %d, associations %d; want 2, 0, 1", m.RoundTrips, m.Retransmissions, m.Associations)
	}
}

// TestDecline declines an offer with reason 1 and gets the ACK.
// Reference: RFC 8921 §9.2.5, §9.2.6, Table 3.
func TestDecline(t *testing.T) {
	h := newHarness(t)
	id, q := h.quote(request())
	h.srv.Send(t, q, h.offer(q.Msg, nonce1, at(time.Hour)))
	h.srv.Expect(t, wire.MethodProcessing)
	h.waitReason(id, "OfferProcessing")

	if err := h.eng.Decline(context.Background(), id, wire.ReasonUnacceptableGap); err != nil {
		t.Fatalf("Decline: %v", err)
	}
	h.waitReason(id, "Declined")
	d := h.srv.Expect(t, wire.MethodDecline)
	if diff := cmp.Diff([]wire.Reason{wire.ReasonUnacceptableGap}, d.Msg.Reasons); diff != "" || d.Msg.Nonce != nonce1 {
		t.Errorf("DECLINE nonce %q reasons diff (-want +got):\n%s", d.Msg.Nonce, diff)
	}
	empty := cpd.Empty()
	h.srv.Send(t, d, h.ack(d.Msg, &empty))
	h.waitReason(id, "CancelAcknowledged")
	if o := h.order(id); !o.FSM.Terminal() {
		t.Errorf("order after the ACK of its DECLINE: %s, timers %v; want terminal", o.State(), o.FSM.Timers)
	}
}

// TestCancel cancels a negotiation while the server processes it; the
// CANCEL carries no provider order identifier.
// Reference: RFC 8921 §9.2.7, DESIGN §3 "Transactions".
func TestCancel(t *testing.T) {
	h := newHarness(t)
	id, q := h.quote(request())
	h.srv.Send(t, q, h.processing(q.Msg, nil))
	h.waitReason(id, "ServerProcessing")

	if err := h.eng.Cancel(context.Background(), id); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	c := h.srv.Expect(t, wire.MethodCancel)
	if c.Msg.TransactionID != q.Msg.TransactionID || c.Msg.ProviderOrderID != "" {
		t.Errorf("CANCEL = %s, want the QUOTATION's transaction and no provider order ID", c.Msg)
	}
	if o := h.order(id); o.State() != fsm.ClientCancelled {
		t.Errorf("state %s, want Cancelled", o.State())
	}
	h.srv.Send(t, c, h.ack(c.Msg, nil))
	h.waitReason(id, "CancelAcknowledged")
}

// TestExpectedResponseTimeCancels: EXPECTED_RESPONSE_TIME passes without
// an offer, so the client cancels.
// Reference: RFC 8921 §8.5, §9.1.6.
func TestExpectedResponseTimeCancels(t *testing.T) {
	h := newHarness(t)
	req := request()
	req.ExpectedResponseTime = atp(10 * time.Minute)
	id, q := h.quote(req)
	// A PROCESSING without EXPECTED_OFFER_TIME stops the retransmissions
	// and leaves EXPECTED_RESPONSE_TIME running.
	h.srv.Send(t, q, h.processing(q.Msg, nil))
	h.waitReason(id, "ServerProcessing")

	h.clk.Advance(10*time.Minute - time.Millisecond)
	if o := h.order(id); o.State() != fsm.ClientServerProcessing {
		t.Fatalf("state %s before the deadline, want ServerProcessing", o.State())
	}
	h.clk.Advance(time.Millisecond)
	ev := h.waitReason(id, "ResponseTimeExpired")
	if ev.Failure == nil || ev.Failure.Reason != "ResponseTimeExpired" {
		t.Errorf("event failure %+v, want ResponseTimeExpired", ev.Failure)
	}
	c := h.srv.Expect(t, wire.MethodCancel)
	if c.Msg.TransactionID != q.Msg.TransactionID {
		t.Errorf("CANCEL in transaction %s, want %s", c.Msg.TransactionID, q.Msg.TransactionID)
	}
}

// TestOfferExpiry: VALIDITY_OFFER_TIME passes before the ACCEPT; the
// client sends nothing and a later Accept is refused.
// Reference: RFC 8921 §8.5, §9.1.8, §9.2.4.
func TestOfferExpiry(t *testing.T) {
	h := newHarness(t)
	id, q := h.quote(request())
	h.srv.Send(t, q, h.offer(q.Msg, nonce1, at(5*time.Minute)))
	h.srv.Expect(t, wire.MethodProcessing)
	h.waitReason(id, "OfferProcessing")

	h.clk.Advance(5 * time.Minute)
	h.waitReason(id, "OfferExpired")
	err := h.eng.Accept(context.Background(), id)
	var se *client.StateError
	if !errors.As(err, &se) || se.State != fsm.ClientCancelled {
		t.Fatalf("Accept after expiry = %v, want a *StateError in Cancelled", err)
	}
	if h.metrics.Snapshot().Sent[wire.MethodAccept] != 0 {
		t.Errorf("an ACCEPT was sent after the offer expired")
	}
}

// TestTimeExtension: with an extension limit, a request for more time
// within the limit is granted with an ACK carrying the granted time, and
// one beyond it is refused with FAIL 7.
// Reference: RFC 8921 §9.2.2, Figures 11 and 12, §9.2.10 Table 4.
func TestTimeExtension(t *testing.T) {
	h := newHarness(t)
	req := request()
	req.ExpectedResponseTime = atp(30 * time.Minute)
	req.ExtensionLimit = atp(time.Hour)
	id, q := h.quote(req)

	// Within the expected response time: accepted silently.
	h.srv.Send(t, q, h.processing(q.Msg, atp(20*time.Minute)))
	h.waitReason(id, "ServerProcessing")
	// Later than granted, within the limit: granted (Figure 11).
	h.srv.Send(t, q, h.processing(q.Msg, atp(50*time.Minute)))
	h.waitReason(id, "ExtensionGranted")
	ack := h.srv.Expect(t, wire.MethodAck)
	if ack.Msg.ExpectedResponseTime == nil || !ack.Msg.ExpectedResponseTime.Equal(at(50*time.Minute)) || ack.Msg.CPD != nil {
		t.Errorf("ACK granting more time = %s (ert %v), want expected_response_time %v and no CPD (DESIGN §3)",
			ack.Msg, ack.Msg.ExpectedResponseTime, at(50*time.Minute))
	}
	if o := h.order(id); o.FSM.Timers[fsm.TimerOffer] != at(50*time.Minute) {
		t.Errorf("EXPECTED_OFFER_TIME timer at %v, want %v", o.FSM.Timers[fsm.TimerOffer], at(50*time.Minute))
	}
	// Beyond the limit: refused (Figure 12).
	h.srv.Send(t, q, h.processing(q.Msg, atp(2*time.Hour)))
	ev := h.waitReason(id, "MoreTimeRejected")
	fail := h.srv.Expect(t, wire.MethodFail)
	if fail.Msg.StatusCode != wire.StatusMoreTimeRejected {
		t.Errorf("FAIL status %d, want 7 (More Time Rejected)", fail.Msg.StatusCode)
	}
	if ev.Failure == nil || !ev.Failure.Sent || ev.Failure.StatusCode != wire.StatusMoreTimeRejected {
		t.Errorf("event failure %+v, want FAIL 7 sent", ev.Failure)
	}
	if o := h.order(id); o.State() != fsm.ClientCancelled {
		t.Errorf("state %s, want Cancelled", o.State())
	}
}

// TestTimeExtensionByCommand: without an extension limit, a request for
// more time waits for GrantExtension or RefuseExtension.
// Reference: RFC 8921 §9.2.2, Figures 11 and 12.
func TestTimeExtensionByCommand(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	req := request()
	req.ExpectedResponseTime = atp(30 * time.Minute)
	id, q := h.quote(req)

	if err := h.eng.GrantExtension(ctx, id); !errors.Is(err, client.ErrInvalidState) {
		t.Fatalf("GrantExtension with nothing pending = %v, want ErrInvalidState", err)
	}
	h.srv.Send(t, q, h.processing(q.Msg, atp(45*time.Minute)))
	h.waitReason(id, "ExtensionRequested")
	if err := h.eng.GrantExtension(ctx, id); err != nil {
		t.Fatalf("GrantExtension: %v", err)
	}
	ack := h.srv.Expect(t, wire.MethodAck)
	if ack.Msg.ExpectedResponseTime == nil || !ack.Msg.ExpectedResponseTime.Equal(at(45*time.Minute)) {
		t.Errorf("ACK expected_response_time %v, want %v", ack.Msg.ExpectedResponseTime, at(45*time.Minute))
	}
	h.srv.Send(t, q, h.processing(q.Msg, atp(90*time.Minute)))
	h.waitReason(id, "ExtensionRequested")
	if err := h.eng.RefuseExtension(ctx, id); err != nil {
		t.Fatalf("RefuseExtension: %v", err)
	}
	if fail := h.srv.Expect(t, wire.MethodFail); fail.Msg.StatusCode != wire.StatusMoreTimeRejected {
		t.Errorf("FAIL status %d, want 7", fail.Msg.StatusCode)
	}
}

// TestServerFail: the server answers the QUOTATION with FAIL 5; the event
// carries the failure.
// Reference: RFC 8921 §9.2.10, Table 4.
func TestServerFail(t *testing.T) {
	h := newHarness(t)
	id, q := h.quote(request())
	h.srv.Send(t, q, h.fail(q.Msg, wire.StatusOutOfResources))
	ev := h.waitReason(id, "Failed")
	if ev.Transition.StatusCode != wire.StatusOutOfResources || ev.Failure == nil ||
		ev.Failure.StatusCode != wire.StatusOutOfResources || ev.Failure.Sent {
		t.Fatalf("event = %+v failure %+v, want FAIL 5 received", ev.Transition, ev.Failure)
	}
	o := h.order(id)
	if o.State() != fsm.ClientCancelled || o.FSM.ProviderOrderID != providerID || !o.FSM.Terminal() {
		t.Errorf("order %s provider %q terminal %v, want Cancelled, %s, terminal", o.State(), o.FSM.ProviderOrderID, o.FSM.Terminal(), providerID)
	}
}

// TestUpdate runs an UPDATE cycle on an agreement: a new transaction, the
// agreement's nonce, a new offer with a new nonce that replaces the old one
// once the ACCEPT is acknowledged.
// Reference: RFC 8921 §9.2.9, §11.1.3, §11.2.3; DESIGN §3.
func TestUpdate(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	id, a := h.agree(request())

	bigger := cpd.Sample()
	bigger.Components[1].Capacity.OutgoingBps = cpd.AtLeast(80e6)
	if err := h.eng.Update(ctx, id, bigger, at(time.Hour)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	u := h.srv.Expect(t, wire.MethodUpdate)
	if u.Msg.TransactionID == a.Msg.TransactionID || !hex32.MatchString(u.Msg.TransactionID) {
		t.Errorf("UPDATE transaction %q, want a new one (DESIGN §3)", u.Msg.TransactionID)
	}
	if u.Msg.Nonce != nonce1 || u.Msg.RequestedCPD == nil || !cpd.Equal(*u.Msg.RequestedCPD, bigger) {
		t.Errorf("UPDATE = %s, want the agreement's nonce and the new CPD (§11.1.3)", u.Msg)
	}
	h.waitReason(id, "UpdateSent")
	h.srv.Send(t, u, h.offer(u.Msg, nonce2, at(time.Hour)))
	h.srv.Expect(t, wire.MethodProcessing)
	h.waitReason(id, "OfferProcessing")
	if o := h.order(id); o.FSM.Agreement.Nonce != nonce1 {
		t.Errorf("agreement nonce changed to %q before the ACK, want %q (DESIGN §3)", o.FSM.Agreement.Nonce, nonce1)
	}
	if err := h.eng.Accept(ctx, id); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	acc := h.srv.Expect(t, wire.MethodAccept)
	if acc.Msg.Nonce != nonce2 {
		t.Errorf("ACCEPT nonce %q, want the update offer's %q", acc.Msg.Nonce, nonce2)
	}
	offered := cpd.SampleConcrete()
	h.srv.Send(t, acc, h.ack(acc.Msg, &offered))
	h.waitReason(id, "Updated")
	o := h.order(id)
	if o.State() != fsm.ClientCompleted || o.FSM.Agreement.Nonce != nonce2 || !cpd.Equal(o.FSM.Request.CPD, bigger) {
		t.Errorf("after the update: %s, nonce %q; want Completed with nonce %q and the new request", o.State(), o.FSM.Agreement.Nonce, nonce2)
	}

	if err := h.eng.Update(ctx, id, bigger, at(-time.Minute)); !errors.Is(err, client.ErrInvalidRequest) {
		t.Errorf("Update with a past expected response time = %v, want ErrInvalidRequest", err)
	}
}

// TestActivate activates an agreement negotiated with explicit activation,
// then deactivates it.
// Reference: RFC 8921 §9.2.11; DESIGN §3 "ACTIVATE".
func TestActivate(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	req := request()
	req.InformationElements.NegotiationOptions = &wire.NegotiationOptions{ActivationType: wire.ActivationExplicit}
	id, _ := h.agree(req)
	if o := h.order(id); o.FSM.Agreement.Active {
		t.Fatalf("explicit activation: agreement active before ACTIVATE")
	}

	if err := h.eng.Activate(ctx, id, wire.ScheduleAt(h.clk.Now())); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	act := h.srv.Expect(t, wire.MethodActivate)
	if act.Msg.ActivationSchedule == nil || act.Msg.Nonce != nonce1 {
		t.Fatalf("ACTIVATE = %s, want a schedule and the agreement's nonce", act.Msg)
	}
	h.srv.Send(t, act, h.ack(act.Msg, nil))
	h.waitReason(id, "Activated")
	if o := h.order(id); !o.FSM.Agreement.Active {
		t.Errorf("agreement not active after the ACK of ACTIVATE")
	}

	if err := h.eng.Activate(ctx, id, wire.ScheduleDeactivate()); err != nil {
		t.Fatalf("Activate(deactivate): %v", err)
	}
	de := h.srv.Expect(t, wire.MethodActivate)
	if de.Msg.ActivationSchedule == nil || !de.Msg.ActivationSchedule.Deactivate {
		t.Fatalf("ACTIVATE = %s, want schedule \"0\"", de.Msg)
	}
	h.srv.Send(t, de, h.fail(de.Msg, wire.StatusUnsupportedActivationType))
	ev := h.waitReason(id, "ActivationFailed")
	if ev.Transition.StatusCode != wire.StatusUnsupportedActivationType {
		t.Errorf("ActivationFailed status %d, want 8", ev.Transition.StatusCode)
	}
	if o := h.order(id); o.State() != fsm.ClientCompleted || !o.FSM.Agreement.Active {
		t.Errorf("after FAIL 8: %s active=%v, want Completed and still active", o.State(), o.FSM.Agreement.Active)
	}
}

// TestWithdrawUnresponsiveServer: a WITHDRAW that no ACK answers is
// retransmitted until the retries are exhausted, then an alarm is raised
// and the next withdrawal cycle starts no sooner than 300 s later, with the
// same WITHDRAW; the ACK with the Empty CPD ends it.
// Reference: RFC 8921 §11.1.2, §11.4, §9.2.8.
func TestWithdrawUnresponsiveServer(t *testing.T) {
	var alarms []string
	h := newHarness(t, func(c *client.Config) {
		c.OnAlarm = func(_ client.Order, reason string) { alarms = append(alarms, reason) }
	})
	id, _ := h.agree(request())
	if err := h.eng.Withdraw(context.Background(), id); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	h.waitReason(id, "Withdrawn")
	w := h.srv.Expect(t, wire.MethodWithdraw)
	if w.Msg.Nonce != nonce1 || w.Msg.AcceptedCPD == nil {
		t.Fatalf("WITHDRAW = %s, want the agreement's nonce and CPD", w.Msg)
	}
	// RETRANS_TIMER 1 s doubling, 3 retries: sends at +1 s, +3 s, +7 s.
	for i, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		h.clk.Advance(d)
		r := h.srv.Expect(t, wire.MethodWithdraw)
		if r.Msg.Seq != w.Msg.Seq || r.Msg.TransactionID != w.Msg.TransactionID {
			t.Fatalf("retransmission %d = %s, want the same seq %d (§11.4)", i+1, r.Msg, w.Msg.Seq)
		}
	}
	h.clk.Advance(8 * time.Second)
	alarm := h.waitAlarm(id)
	gaveUp := h.clk.Now()
	if alarm.Order.FSM.WithdrawAcked {
		t.Fatalf("alarm order says the WITHDRAW was acknowledged")
	}
	if got, want := alarm.Order.FSM.Timers[fsm.TimerWithdrawCycle], gaveUp.Add(fsm.MinWithdrawRetryInterval); !got.Equal(want) {
		t.Fatalf("next withdrawal cycle at %v, want %v (300 s after giving up)", got, want)
	}
	if n := h.metrics.Snapshot().Alarms; n != 1 || len(alarms) != 1 {
		t.Errorf("alarms counted %d, hooked %d; want 1 and 1", n, len(alarms))
	}
	// 299 s later the cycle timer is still armed: nothing was due.
	h.clk.Advance(fsm.MinWithdrawRetryInterval - time.Second)
	if n := h.clk.Waiters(); n != 1 {
		t.Fatalf("%d fake clock timers armed 299 s after the alarm, want the engine's 1", n)
	}
	h.clk.Advance(time.Second)
	again := h.srv.Expect(t, wire.MethodWithdraw)
	if again.Msg.Seq != w.Msg.Seq || again.Msg.TransactionID != w.Msg.TransactionID {
		t.Fatalf("new cycle sent %s, want the same WITHDRAW (§11.1.2)", again.Msg)
	}
	if sent := h.clk.Now(); sent.Sub(gaveUp) < fsm.MinWithdrawRetryInterval {
		t.Fatalf("new cycle %v after the alarm, want >= 300 s", sent.Sub(gaveUp))
	}
	empty := cpd.Empty()
	h.srv.Send(t, again, h.ack(again.Msg, &empty))
	h.waitReason(id, "WithdrawAcknowledged")
	if o := h.order(id); !o.FSM.WithdrawAcked || !o.FSM.Terminal() {
		t.Errorf("withdrawAcked=%v terminal=%v, want both", o.FSM.WithdrawAcked, o.FSM.Terminal())
	}
}

// TestRestore stops an engine mid-negotiation and starts a new one on the
// same store: it re-arms the retransmission timer, re-sends the same
// QUOTATION (same transaction, same sequence number), never a second one,
// and completes the negotiation.
// Reference: RFC 8921 §8.11, §11.4; DESIGN §4 "Persistence".
func TestRestore(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	id, q := h.quote(request())
	h.stop()

	h.start()
	o := h.order(id)
	if o.State() != fsm.ClientPQOSent {
		t.Fatalf("restored state %s, want PQOSent", o.State())
	}
	if _, err := h.eng.Quote(ctx, serverName, client.QuoteRequest{CustomerOrderID: id, CPD: cpd.Sample()}); !errors.Is(err, client.ErrOrderExists) {
		t.Fatalf("second Quote of %s = %v, want ErrOrderExists", id, err)
	}
	h.clk.Advance(time.Second) // RETRANS_TIMER
	r := h.srv.Expect(t, wire.MethodQuotation)
	if r.Msg.TransactionID != q.Msg.TransactionID || r.Msg.Seq != q.Msg.Seq {
		t.Fatalf("after restart the client sent %s, want a retransmission of %s", r.Msg, q.Msg)
	}
	h.srv.Send(t, r, h.offer(r.Msg, nonce1, at(time.Hour)))
	h.srv.Expect(t, wire.MethodProcessing)
	h.waitReason(id, "OfferProcessing")
	if err := h.eng.Accept(ctx, id); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	a := h.srv.Expect(t, wire.MethodAccept)
	offered := cpd.SampleConcrete()
	h.srv.Send(t, a, h.ack(a.Msg, &offered))
	h.waitReason(id, "Agreed")
	if n := h.srv.Pending(); n != 0 {
		t.Errorf("%d unexpected messages at the server", n)
	}
}

// TestRestoreExpiredOffer: an offer whose validity passed while no engine
// ran expires as soon as the new engine runs.
// Reference: RFC 8921 §8.5, §9.1.8, §8.11.
func TestRestoreExpiredOffer(t *testing.T) {
	h := newHarness(t)
	id, q := h.quote(request())
	h.srv.Send(t, q, h.offer(q.Msg, nonce1, at(5*time.Minute)))
	h.srv.Expect(t, wire.MethodProcessing)
	h.waitReason(id, "OfferProcessing")
	h.stop()

	h.clk.Advance(10 * time.Minute)
	h.start()
	h.waitReason(id, "OfferExpired")
	if stored, _ := h.store.Get(id); stored.State() != fsm.ClientCancelled {
		t.Errorf("stored state %s, want Cancelled", stored.State())
	}
}
