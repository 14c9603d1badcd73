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

package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestFigure6Negotiation runs the typical negotiation cycle over DTLS:
// QUOTATION, PROCESSING, OFFER, PROCESSING, ACCEPT, ACK.
// Reference: RFC 8921 §8.7, Fig. 6; §11.2.1; Table 6.
func TestFigure6Negotiation(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()

	n.quote(reqCPD(100, 200), nil)
	off := n.expectOffer()
	if off.ValidityOfferTime == nil || !off.ValidityOfferTime.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("VALIDITY_OFFER_TIME: got %v, want %v (pool offerValidity 5m, §9.1.8)", off.ValidityOfferTime, t0.Add(5*time.Minute))
	}
	if len(off.Nonce) != 32 {
		t.Errorf("nonce %q: got %d hex digits, want 32 (128 bits, §9.1.5)", off.Nonce, len(off.Nonce))
	}
	if got, want := *off.OfferedCPD, reqCPD(100, 200); !cpd.Equal(got, want) {
		t.Errorf("offered CPD: got %s, want %s", got.Canonical(), want.Canonical())
	}
	// Open offers count as reserved (DESIGN §3).
	if diff := cmp.Diff([]policy.Holding{{
		ProviderOrderID: n.poid, Identity: idAcme, Pool: "wan", IncomingBps: 100 * mbps, OutgoingBps: 200 * mbps,
		State: policy.HoldingReserved, Expires: t0.Add(5 * time.Minute),
	}}, e.holdings(n.poid)); diff != "" {
		t.Errorf("holdings after OFFER (-want +got):\n%s", diff)
	}
	n.processing()
	e.waitState(n.poid, fsm.ServerProcessingReceived)
	n.agree()

	d := e.waitState(n.poid, fsm.ServerCompleted)
	if d.Agreement == nil || !d.Agreement.Active || d.Agreement.Pool != "wan" {
		t.Errorf("agreement: got %+v, want an active agreement from pool wan", d.Agreement)
	}
	if diff := cmp.Diff([]policy.Holding{{
		ProviderOrderID: n.poid, Identity: idAcme, Pool: "wan", IncomingBps: 100 * mbps, OutgoingBps: 200 * mbps,
		State: policy.HoldingCommitted,
	}}, e.holdings(n.poid)); diff != "" {
		t.Errorf("holdings after ACK (-want +got):\n%s", diff)
	}
	e.waitMetric("cpnp_server_negotiations_completed_total", map[string]string{"outcome": "agreed"}, 1)
	if got := e.metric("cpnp_server_messages_received_total", map[string]string{"method": "ACCEPT"}); got != 1 {
		t.Errorf("messages_received_total{ACCEPT}: got %v, want 1", got)
	}
	if got := e.metric("cpnp_server_messages_sent_total", map[string]string{"method": "OFFER"}); got != 1 {
		t.Errorf("messages_sent_total{OFFER}: got %v, want 1", got)
	}

	// §12.1: one log line per order event, with the client address,
	// identity, identifiers, event and timestamp; never the nonce.
	lines := e.logs.find("Order changed state", map[string]any{"providerOrderID": n.poid, "event": "AgreementReached"})
	if len(lines) != 1 {
		t.Fatalf("log lines for AgreementReached: got %d, want 1", len(lines))
	}
	for _, k := range []string{"peer", "identity", "customerOrderID", "providerOrderID", "transactionID", "event", "at", "state"} {
		if v, ok := lines[0][k]; !ok || v == "" {
			t.Errorf("log line lacks %q: %v", k, lines[0])
		}
	}
	if all := e.logs.all(); containsAny(all, off.Nonce) {
		t.Errorf("the logs contain the offer's nonce")
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// explicit are the negotiation options of an order activated only by
// ACTIVATE (DESIGN §3, §9.1.10.3).
var explicit = &wire.NegotiationOptions{ActivationType: wire.ActivationExplicit}

// heldOrder quotes as initech (pool "manual", approval Manual) and waits
// until the order is held for administrative validation (§8.2, §12.2).
func heldOrder(t *testing.T, e *env) (*client, *negotiation) {
	t.Helper()
	c := e.dial(idInitech)
	n := c.newOrder()
	n.quote(reqCPD(10, 10), nil)
	waitFor(t, "order held", func() bool {
		d, ok := e.srv.Get(n.poid)
		return ok && d.Held
	})
	return c, n
}

// TestFigure11MoreTimeGranted: the server asks for more time with a
// PROCESSING carrying a new EXPECTED_OFFER_TIME (retransmitted until
// answered), the client grants it with an ACK, and the negotiation goes on.
// Reference: RFC 8921 §9.2.2, Fig. 11; §11.4; Table 6 (ACK).
func TestFigure11MoreTimeGranted(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	c, n := heldOrder(t, e)
	more := t0.Add(2 * time.Hour) // later than EXPECTED_RESPONSE_TIME (t0+1h): a request for more time
	if err := e.srv.RequestMoreTime(t.Context(), n.poid, more, wire.SubcodeUpgradeLocalResources); err != nil {
		t.Fatalf("RequestMoreTime: %v", err)
	}
	p := c.expect(wire.MethodProcessing)
	if p.ExpectedOfferTime == nil || !p.ExpectedOfferTime.Equal(more) || p.Subcode != wire.SubcodeUpgradeLocalResources {
		t.Fatalf("PROCESSING(MoreTime): got %v, want expected_offer_time %v and subcode 1", p, more)
	}
	// Unanswered, it is retransmitted with its sequence number (§11.4).
	e.clk.Advance(time.Second)
	if r := c.expect(wire.MethodProcessing); r.Seq != p.Seq {
		t.Fatalf("retransmitted PROCESSING seq: got %d, want %d", r.Seq, p.Seq)
	}
	ack := n.reply(wire.MethodAck)
	ack.ExpectedResponseTime = tp(more)
	c.send(ack)
	waitFor(t, "the grant", func() bool { d := e.order(n.poid); return d.RequestedOfferTime == nil })
	if d := e.order(n.poid); d.NextDeadline == nil || !d.NextDeadline.Equal(more) {
		t.Errorf("next deadline: got %v, want the granted time %v", d.NextDeadline, more)
	}
	if err := e.srv.Approve(t.Context(), n.poid); err != nil {
		t.Fatalf("Approve: %v", err)
	}
	n.expectOffer()
	n.processing()
	n.agree()
	e.waitState(n.poid, fsm.ServerCompleted)
	if got := e.metric("cpnp_server_retransmissions_total", map[string]string{"kind": "timer"}); got != 1 {
		t.Errorf("retransmissions_total{timer}: got %v, want 1", got)
	}
}

// TestFigure12MoreTimeRejected: the client refuses more time with FAIL 7;
// the order ends and holds nothing.
// Reference: RFC 8921 §9.2.2, Fig. 12; Table 6 (FAIL).
func TestFigure12MoreTimeRejected(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	c, n := heldOrder(t, e)
	if err := e.srv.RequestMoreTime(t.Context(), n.poid, t0.Add(2*time.Hour), 0); err != nil {
		t.Fatalf("RequestMoreTime: %v", err)
	}
	c.expect(wire.MethodProcessing)
	f := n.reply(wire.MethodFail)
	f.StatusCode = wire.StatusMoreTimeRejected
	c.send(f)
	d := e.waitState(n.poid, fsm.ServerCancelled)
	if d.Failure == nil || d.Failure.Reason != "MoreTimeRejected" || d.Failure.StatusCode != wire.StatusMoreTimeRejected {
		t.Errorf("failure: got %+v, want MoreTimeRejected with status 7", d.Failure)
	}
	if err := e.srv.Approve(t.Context(), n.poid); !errors.Is(err, server.ErrNotHeld) {
		t.Errorf("Approve after the FAIL: got %v, want ErrNotHeld", err)
	}
	c.probe() // a FAIL is never answered (no loop of FAILs)
}

// TestFigure13Decline: the client declines the offer; the ACK carries the
// Empty CPD and the reservation is released.
// Reference: RFC 8921 §9.2.5, Fig. 13; DESIGN §3 (ACK contents, open offers
// count as reserved).
func TestFigure13Decline(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.quote(reqCPD(100, 100), nil)
	n.expectOffer()
	n.processing()
	dec := n.reply(wire.MethodDecline)
	dec.Nonce = n.offer.Nonce
	dec.Reasons = []wire.Reason{wire.ReasonUnacceptableGap}
	c.send(dec)
	ack := c.expect(wire.MethodAck)
	if ack.CPD == nil || !ack.CPD.IsEmpty() {
		t.Errorf("ACK to DECLINE: got CPD %v, want the Empty CPD", ack.CPD)
	}
	e.waitState(n.poid, fsm.ServerCancelled)
	if hs := e.holdings(n.poid); len(hs) != 0 {
		t.Errorf("holdings after DECLINE: got %v, want none", hs)
	}
	e.waitMetric("cpnp_server_negotiations_completed_total", map[string]string{"outcome": "declined"}, 1)
}

// TestDeclineWrongNonceFail3: a DECLINE whose nonce is not the offer's is
// refused with FAIL 3 and changes nothing.
// Reference: RFC 8921 §9.1.5, Table 6 (DECLINE); DESIGN §3.
func TestDeclineWrongNonceFail3(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.quote(reqCPD(100, 100), nil)
	n.expectOffer()
	dec := n.reply(wire.MethodDecline)
	dec.Nonce = newHex()
	c.send(dec)
	c.expectFail(wire.StatusAuthorizationFailed)
	if d := e.order(n.poid); d.State != string(fsm.ServerOfferProposed) {
		t.Errorf("state: got %s, want OfferProposed", d.State)
	}
}

// TestFigure14Withdraw: WITHDRAW of an agreement is acknowledged with the
// Empty CPD; the agreement's capacity is released.
// Reference: RFC 8921 §9.2.8, Fig. 14; §11.2.2; DESIGN §6.
func TestFigure14Withdraw(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.negotiate(reqCPD(100, 100), nil)
	n.newTxn()
	w := n.reply(wire.MethodWithdraw)
	w.Nonce = n.agreeNonce
	c.send(w)
	ack := c.expect(wire.MethodAck)
	if ack.CPD == nil || !ack.CPD.IsEmpty() || ack.TransactionID != n.txn {
		t.Errorf("ACK to WITHDRAW: got %v, want the Empty CPD in transaction %s", ack, n.txn)
	}
	d := e.waitState(n.poid, fsm.ServerCancelled)
	if d.Agreement != nil {
		t.Errorf("agreement after WITHDRAW: got %+v, want none", d.Agreement)
	}
	if hs := e.holdings(n.poid); len(hs) != 0 {
		t.Errorf("holdings after WITHDRAW: got %v, want none", hs)
	}
	// The client's next withdrawal cycle repeats the WITHDRAW (§11.1.2): it
	// gets the stored ACK, once the resend interval has passed.
	e.clk.Advance(time.Second)
	c.send(w)
	if again := c.expect(wire.MethodAck); again.Seq != ack.Seq {
		t.Errorf("repeated ACK seq: got %d, want %d", again.Seq, ack.Seq)
	}
}

// TestFigure15Update: UPDATE of an agreement runs a new negotiation cycle
// with a new nonce; the agreement and its capacity stand until the ACCEPT is
// acknowledged, then the updated CPD replaces them.
// Reference: RFC 8921 §9.2.9, Fig. 15; §11.2.3; DESIGN §3 (UPDATE).
func TestFigure15Update(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.negotiate(reqCPD(100, 100), nil)
	oldNonce := n.agreeNonce

	n.newTxn()
	u := n.reply(wire.MethodUpdate)
	u.Nonce = oldNonce
	u.ExpectedResponseTime = tp(t0.Add(time.Hour))
	want := reqCPD(300, 400)
	u.RequestedCPD = &want
	c.send(u)
	c.expect(wire.MethodProcessing)
	off := n.expectOffer()
	if off.Nonce == oldNonce || len(off.Nonce) != 32 {
		t.Errorf("UPDATE's offer nonce: got %q, want a new one (§11.2.3)", off.Nonce)
	}
	// During the cycle the order holds its agreement and the update's offer
	// (the policy needs room for the larger only).
	var states []policy.HoldingState
	for _, h := range e.holdings(n.poid) {
		states = append(states, h.State)
	}
	if diff := cmp.Diff([]policy.HoldingState{policy.HoldingCommitted, policy.HoldingReserved}, states); diff != "" {
		t.Errorf("holdings during UPDATE (-want +got):\n%s", diff)
	}
	n.processing()
	ack := n.agree()
	if !cpd.Equal(*ack.CPD, want) {
		t.Errorf("ACK to the UPDATE's ACCEPT: got %s, want the updated CPD", ack.CPD.Canonical())
	}
	d := e.waitState(n.poid, fsm.ServerCompleted)
	if d.Agreement == nil || d.Agreement.IncomingBps != 300*mbps || d.Agreement.OutgoingBps != 400*mbps {
		t.Errorf("agreement after UPDATE: got %+v, want 300/400 Mb/s", d.Agreement)
	}
	if diff := cmp.Diff([]policy.Holding{{
		ProviderOrderID: n.poid, Identity: idAcme, Pool: "wan", IncomingBps: 300 * mbps, OutgoingBps: 400 * mbps,
		State: policy.HoldingCommitted,
	}}, e.holdings(n.poid)); diff != "" {
		t.Errorf("holdings after UPDATE (-want +got):\n%s", diff)
	}
	// The old nonce is no longer the agreement's (§11.2.3).
	n.newTxn()
	w := n.reply(wire.MethodWithdraw)
	w.Nonce = oldNonce
	c.send(w)
	c.expectFail(wire.StatusAuthorizationFailed)
	e.waitMetric("cpnp_server_negotiations_completed_total", map[string]string{"outcome": "updated"}, 1)
}

// TestUpdateDeclinedKeepsAgreement: when the UPDATE's offer is declined the
// old agreement, nonce and capacity stand.
// Reference: RFC 8921 §9.2.9; DESIGN §3 ("if the UPDATE cycle fails, the old
// nonce and the old agreement stand").
func TestUpdateDeclinedKeepsAgreement(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.negotiate(reqCPD(100, 100), nil)
	oldNonce := n.agreeNonce
	n.newTxn()
	u := n.reply(wire.MethodUpdate)
	u.Nonce = oldNonce
	u.ExpectedResponseTime = tp(t0.Add(time.Hour))
	bigger := reqCPD(200, 200)
	u.RequestedCPD = &bigger
	c.send(u)
	c.expect(wire.MethodProcessing)
	n.expectOffer()
	dec := n.reply(wire.MethodDecline)
	dec.Nonce = n.offer.Nonce
	c.send(dec)
	c.expect(wire.MethodAck)
	d := e.waitState(n.poid, fsm.ServerCompleted)
	if d.Agreement == nil || d.Agreement.IncomingBps != 100*mbps {
		t.Errorf("agreement after a declined UPDATE: got %+v, want the old 100 Mb/s one", d.Agreement)
	}
	if diff := cmp.Diff([]policy.Holding{{
		ProviderOrderID: n.poid, Identity: idAcme, Pool: "wan", IncomingBps: 100 * mbps, OutgoingBps: 100 * mbps,
		State: policy.HoldingCommitted,
	}}, e.holdings(n.poid)); diff != "" {
		t.Errorf("holdings after a declined UPDATE (-want +got):\n%s", diff)
	}
	// The old nonce still works.
	n.newTxn()
	w := n.reply(wire.MethodWithdraw)
	w.Nonce = oldNonce
	c.send(w)
	c.expect(wire.MethodAck)
}

// TestFigure16Activate: an agreement negotiated with activation type
// explicit is inactive until ACTIVATE; the ACK carries no CPD; "0"
// deactivates.
// Reference: RFC 8921 §9.2.11, Fig. 16; DESIGN §3 (ACTIVATE).
func TestFigure16Activate(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.negotiate(reqCPD(10, 10), explicit)
	if d := e.waitState(n.poid, fsm.ServerCompleted); d.Agreement == nil || d.Agreement.Active ||
		d.Agreement.ActivationType != wire.ActivationExplicit {
		t.Fatalf("agreement: got %+v, want an inactive explicit one", d.Agreement)
	}
	tests := []struct {
		name     string
		schedule wire.Schedule
		active   bool
	}{
		{"activate now", wire.ScheduleAt(t0), true},
		{"deactivate", wire.ScheduleDeactivate(), false},
	}
	for _, tc := range tests {
		n.newTxn()
		a := n.reply(wire.MethodActivate)
		a.Nonce = n.agreeNonce
		sch := tc.schedule
		a.ActivationSchedule = &sch
		c.send(a)
		ack := c.expect(wire.MethodAck)
		if ack.CPD != nil || ack.TransactionID != n.txn {
			t.Errorf("%s: ACK to ACTIVATE: got %v, want no CPD in transaction %s", tc.name, ack, n.txn)
		}
		waitFor(t, tc.name, func() bool { d := e.order(n.poid); return d.Agreement.Active == tc.active })
	}
	// A future schedule is armed (TimerActivation) and fires on time.
	n.newTxn()
	a := n.reply(wire.MethodActivate)
	a.Nonce = n.agreeNonce
	sch := wire.ScheduleAt(t0.Add(time.Hour))
	a.ActivationSchedule = &sch
	c.send(a)
	c.expect(wire.MethodAck)
	waitFor(t, "the schedule armed", func() bool {
		d := e.order(n.poid)
		return d.Agreement.ScheduledAt != nil && d.Agreement.ScheduledAt.Equal(t0.Add(time.Hour)) && !d.Agreement.Active
	})
	e.clk.Advance(time.Hour)
	waitFor(t, "the scheduled activation", func() bool { return e.order(n.poid).Agreement.Active })
}

// TestActivateNotExplicitFail8: ACTIVATE of an agreement not negotiated
// with activation type explicit gets FAIL 8; the agreement is unchanged.
// Reference: RFC 8921 §9.2.11, Table 4, Table 6 (ACTIVATE); DESIGN §3.
func TestActivateNotExplicitFail8(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.negotiate(reqCPD(10, 10), nil)
	n.newTxn()
	a := n.reply(wire.MethodActivate)
	a.Nonce = n.agreeNonce
	sch := wire.ScheduleDeactivate()
	a.ActivationSchedule = &sch
	c.send(a)
	f := c.expectFail(wire.StatusUnsupportedActivationType)
	if f.ProviderOrderID != n.poid || f.TransactionID != n.txn {
		t.Errorf("FAIL 8: got %v, want order %s transaction %s", f, n.poid, n.txn)
	}
	if d := e.order(n.poid); d.State != string(fsm.ServerCompleted) || !d.Agreement.Active {
		t.Errorf("after FAIL 8: got state %s agreement %+v, want an active Completed order", d.State, d.Agreement)
	}
}

// TestCancel: a CANCEL (no provider order identifier) before the offer is
// acknowledged with the requested CPD, after the offer with the offered
// CPD; the reservation is released.
// Reference: RFC 8921 §9.2.7, Table 6 (CANCEL); DESIGN §3 (ACK contents,
// CANCEL routing).
func TestCancel(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		identity  string
		wantOffer bool
	}{
		{"before the offer (held)", idInitech, false},
		{"after the offer", idAcme, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial(tc.identity)
			n := c.newOrder()
			req := reqCPD(20, 20)
			n.quote(req, nil)
			if tc.wantOffer {
				n.expectOffer()
			} else {
				waitFor(t, "held", func() bool { return e.order(n.poid).Held })
			}
			cancel := wire.Message{Version: wire.Version, Method: wire.MethodCancel, Seq: n.next(),
				TransactionID: n.txn, CustomerOrderID: n.coid}
			c.send(cancel)
			ack := c.expect(wire.MethodAck)
			if ack.ProviderOrderID != n.poid || ack.CPD == nil || !cpd.Equal(*ack.CPD, req) {
				t.Errorf("ACK to CANCEL: got %v, want order %s with the CPD %s", ack, n.poid, req.Canonical())
			}
			e.waitState(n.poid, fsm.ServerCancelled)
			if hs := e.holdings(n.poid); len(hs) != 0 {
				t.Errorf("holdings after CANCEL: got %v, want none", hs)
			}
		})
	}
}

// TestOfferRetransmissionAndExpiry: the OFFER is retransmitted with its
// sequence number until the client answers; when VALIDITY_OFFER_TIME passes
// the offer lapses silently and its reservation is released; a late ACCEPT
// is refused.
// Reference: RFC 8921 §9.1.8, §11.2.1, §11.4; DESIGN §3, §4 (timers).
func TestOfferRetransmissionAndExpiry(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.quote(reqCPD(100, 100), nil)
	off := n.expectOffer()
	e.clk.Advance(time.Second)
	if r := c.expect(wire.MethodOffer); r.Seq != off.Seq || r.Nonce != off.Nonce {
		t.Fatalf("retransmitted OFFER: got seq %d, want %d with the same nonce", r.Seq, off.Seq)
	}
	n.processing() // stops the retransmissions (§11.2.1)
	e.waitState(n.poid, fsm.ServerProcessingReceived)
	if len(e.holdings(n.poid)) != 1 {
		t.Fatalf("holdings before expiry: got %v, want the reservation", e.holdings(n.poid))
	}
	e.clk.Advance(5 * time.Minute)
	d := e.waitState(n.poid, fsm.ServerCancelled)
	if d.Failure == nil || d.Failure.Reason != "OfferExpired" {
		t.Errorf("failure: got %+v, want OfferExpired", d.Failure)
	}
	if hs := e.holdings(n.poid); len(hs) != 0 {
		t.Errorf("holdings after expiry: got %v, want none (DESIGN §3)", hs)
	}
	c.probe() // the offer lapsed silently
	c.send(n.accept())
	c.expectFail(wire.StatusMessageValidationError)
	e.waitMetric("cpnp_server_negotiations_completed_total", map[string]string{"outcome": "expired"}, 1)
}

// TestFail5WhenNothingFits: a request no pool can meet gets FAIL 5 with the
// order's provider order identifier, in the QUOTATION's transaction.
// Reference: RFC 8921 §9.2.10, Table 4; DESIGN §3 (FAIL codes).
func TestFail5WhenNothingFits(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	req := reqCPD(10, 10)
	req.Components[0].QoS.Class = "platinum"
	n.quote(req, nil)
	f := c.expectFail(wire.StatusOutOfResources)
	if f.ProviderOrderID != n.poid || f.TransactionID != n.txn {
		t.Errorf("FAIL 5: got %v, want order %s transaction %s", f, n.poid, n.txn)
	}
	d := e.waitState(n.poid, fsm.ServerCancelled)
	if d.Decision == "" {
		t.Errorf("the admin view does not say why: %+v", d.OrderSummary)
	}
}

// TestFail5PoolFull: when nothing is free for the tenant, FAIL 5; when
// some is, a counter-offer of what is free.
// Reference: RFC 8921 §7 step 2, §11.2.1; DESIGN §3 ("Offers never exceed
// what is free").
func TestFail5PoolFull(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	first := c.newOrder()
	first.negotiate(reqCPD(0, 400), nil)
	second := c.newOrder()
	second.quote(reqCPD(0, 300), nil)
	off := second.expectOffer()
	if _, out := off.OfferedCPD.Capacity(); !out.Equal(cpd.Fixed(100 * mbps)) {
		t.Errorf("counter-offer: got outgoing %v, want the 100 Mb/s left under acme's limit", out)
	}
	third := c.newOrder()
	third.quote(reqCPD(0, 50), nil)
	c.expectFail(wire.StatusOutOfResources)
}

// TestFail3NotEntitled: an identity without a tenant entry gets FAIL 3.
// Reference: RFC 8921 §8.2, Table 4; DESIGN §3.
func TestFail3NotEntitled(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idNobody)
	n := c.newOrder()
	n.quote(reqCPD(10, 10), nil)
	c.expectFail(wire.StatusAuthorizationFailed)
}

// TestChildDecisionUnknownUpstream: a request no local pool meets makes the
// policy ask for a child order (§8.8) from an upstream that the policy
// names but the engine was given no connection for (Config.Upstreams): the
// client gets FAIL 5 and the admin view says why.
// Reference: RFC 8921 §8.8, §9.2.10; docs/server.md (child orders).
func TestChildDecisionUnknownUpstream(t *testing.T) {
	cfg := testPolicy()
	cfg.Upstreams = []policy.Upstream{{Name: "upstream", Address: "127.0.0.1:8921"}}
	e := newEnv(t, withPolicy(cfg))
	c := e.dial(idAcme)
	n := c.newOrder()
	req := reqCPD(10, 10)
	req.Components[0].QoS.Class = "platinum"
	n.quote(req, nil)
	c.expectFail(wire.StatusOutOfResources)
	d := e.waitState(n.poid, fsm.ServerCancelled)
	if want := `upstream "upstream" is not configured in this server`; !strings.Contains(d.Decision, want) {
		t.Errorf("decision: got %q, want it to contain %q", d.Decision, want)
	}
}
