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

package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// flow is one server engine and the client engine of one identity on a
// shared fake clock, so that the protocol timers (VALIDITY_OFFER_TIME,
// EXPECTED_OFFER_TIME, §8.5) move only when a test advances it; the DTLS
// handshakes use the real time.
type flow struct {
	t   *testing.T
	p   *cpnptest.PKI
	clk *cpnptest.FakeClock
	srv *testServer
	cli *testClient
	id  string // the client's identity
}

// newFlow starts a server with testPolicy(5 min) and a connected client
// engine for identity.
func newFlow(t *testing.T, identity string) *flow {
	t.Helper()
	p := cpnptest.NewPKI(t, idAcme, idGlobex, idInitech)
	clk := cpnptest.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	srv := startServer(t, p, serverOptions{clock: clk})
	cli := startClient(t, p, srv.addr, clientOptions{clock: clk, cert: certOf(p, identity)})
	cli.connect()
	return &flow{t: t, p: p, clk: clk, srv: srv, cli: cli, id: identity}
}

// server returns the server's order for the client order id.
func (f *flow) server(id string) server.OrderSummary {
	f.t.Helper()
	o, ok := f.srv.order(f.id, id)
	if !ok {
		f.t.Fatalf("the server has no order %s of %s", id, f.id)
	}
	return o
}

// agreementCPD is the server's Accepted CPD of the client order id.
func (f *flow) agreementCPD(id string) cpd.CPD {
	f.t.Helper()
	d, ok := f.srv.srv.Get(f.server(id).ProviderOrderID)
	if !ok || d.AgreementCPD == nil {
		f.t.Fatalf("the server has no agreement for %s: %+v", id, d)
	}
	return *d.AgreementCPD
}

// TestFigure6Negotiation runs the negotiation cycle of Figure 6 between the
// engines: QUOTATION, PROCESSING, OFFER, PROCESSING, ACCEPT, ACK. Both
// sides end Completed with the same Accepted CPD, and the capacity is
// committed to the agreement.
// Reference: RFC 8921 §8.7 Figure 6, §9.2.1-§9.2.6, §11.1.1, §11.2.1.
func TestFigure6Negotiation(t *testing.T) {
	t.Parallel()
	f := newFlow(t, idAcme)
	o := f.cli.agree("fig6", gold(10, 20), f.clk.Now(), nil)

	want := []string{"QuotationSent", "ServerProcessing", "OfferReceived", "OfferProcessing", "OfferAccepted", "Agreed"}
	if diff := cmp.Diff(want, reasons(o)); diff != "" {
		t.Errorf("client history (-want +got):\n%s", diff)
	}
	if o.State() != fsm.ClientCompleted || o.FSM.Agreement == nil || !o.FSM.Agreement.Active {
		t.Fatalf("client order: got %s with agreement %+v, want Completed and active", o.State(), o.FSM.Agreement)
	}
	if !cpd.Equal(o.FSM.Agreement.CPD, gold(10, 20)) {
		t.Errorf("client agreement CPD: got %+v, want the requested gold 10/20 Mb/s", o.FSM.Agreement.CPD)
	}
	s := f.srv.waitState(idAcme, "fig6", fsm.ServerCompleted)
	if s.ProviderOrderID != o.FSM.ProviderOrderID || s.ProviderOrderID == "fig6" {
		t.Errorf("provider order ID: server %q, client %q; want equal and not the customer's (§13)", s.ProviderOrderID, o.FSM.ProviderOrderID)
	}
	if got := f.agreementCPD("fig6"); !cpd.Equal(got, o.FSM.Agreement.CPD) {
		t.Errorf("server agreement CPD %+v differs from the client's %+v", got, o.FSM.Agreement.CPD)
	}
	wantHold := []holding{{s.ProviderOrderID, idAcme, "wan", 10 * mbps, 20 * mbps, policy.HoldingCommitted}}
	if diff := cmp.Diff(wantHold, f.srv.holdings()); diff != "" {
		t.Errorf("policy holdings (-want +got):\n%s", diff)
	}
	// The six messages of Figure 6, each sent once.
	m := f.cli.metrics.Snapshot()
	gotMsgs := map[string]float64{
		"client QUOTATION": float64(m.Sent[wire.MethodQuotation]), "client PROCESSING": float64(m.Sent[wire.MethodProcessing]),
		"client ACCEPT": float64(m.Sent[wire.MethodAccept]), "server PROCESSING": f.srv.sent(wire.MethodProcessing),
		"server OFFER": f.srv.sent(wire.MethodOffer), "server ACK": f.srv.sent(wire.MethodAck),
	}
	wantMsgs := map[string]float64{
		"client QUOTATION": 1, "client PROCESSING": 1, "client ACCEPT": 1,
		"server PROCESSING": 1, "server OFFER": 1, "server ACK": 1,
	}
	if diff := cmp.Diff(wantMsgs, gotMsgs); diff != "" {
		t.Errorf("messages sent (-want +got):\n%s", diff)
	}
	if m.Retransmissions != 0 {
		t.Errorf("client retransmissions: got %d, want 0 on loopback", m.Retransmissions)
	}
}

// TestFigures11And12MoreTime: the server asks for more time to make its
// offer (PROCESSING with a later EXPECTED_OFFER_TIME, subcode 1, through
// Server.RequestMoreTime while the order is held for administrative
// validation). Granted (ACK with the granted time, Figure 11), the
// negotiation goes on to an agreement; refused (FAIL 7, Figure 12), both
// sides cancel the order and nothing stays reserved or held.
// Reference: RFC 8921 §9.2.2 Figures 11 and 12, §9.1.7, §9.2.6, §9.2.10
// (Table 4 code 7), §8.2, §12.2.
func TestFigures11And12MoreTime(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		// limit is the client's extension limit, relative to now; zero: none
		// (the request waits for a command).
		limit time.Duration
		// command answers a pending request: "grant", "refuse" or "".
		command string
		granted bool
	}{
		"Fig. 11 granted by command":                {command: "grant", granted: true},
		"Fig. 11 granted within the limit":          {limit: 3 * time.Hour, granted: true},
		"Fig. 12 refused by command (FAIL 7)":       {command: "refuse"},
		"Fig. 12 refused beyond the limit (FAIL 7)": {limit: 90 * time.Minute},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFlow(t, idInitech) // pool "manual": the order is held
			ctx := context.Background()
			now := f.clk.Now()
			req := client.QuoteRequest{CustomerOrderID: "more-time", CPD: gold(10, 10), ExpectedResponseTime: ptr(now.Add(time.Hour))}
			if tc.limit != 0 {
				req.ExtensionLimit = ptr(now.Add(tc.limit))
			}
			id, err := f.cli.eng.Quote(ctx, serverName, req)
			if err != nil {
				t.Fatalf("Quote: %v", err)
			}
			f.cli.waitReason(id, "ServerProcessing")
			s := f.srv.waitOrder(idInitech, id, "held", func(o server.OrderSummary) bool { return o.Held })

			eot := now.Add(2 * time.Hour)
			if err := f.srv.srv.RequestMoreTime(ctx, s.ProviderOrderID, eot, wire.SubcodeUpgradeLocalResources); err != nil {
				t.Fatalf("RequestMoreTime: %v", err)
			}
			if tc.command != "" {
				f.cli.waitReason(id, "ExtensionRequested")
				var err error
				if tc.command == "grant" {
					err = f.cli.eng.GrantExtension(ctx, id)
				} else {
					err = f.cli.eng.RefuseExtension(ctx, id)
				}
				if err != nil {
					t.Fatalf("%s the extension: %v", tc.command, err)
				}
			}
			if !tc.granted {
				ev := f.cli.waitReason(id, "MoreTimeRejected")
				if ev.Order.State() != fsm.ClientCancelled || ev.Failure == nil ||
					ev.Failure.StatusCode != wire.StatusMoreTimeRejected || !ev.Failure.Sent {
					t.Errorf("client after refusing: got %s with failure %+v, want Cancelled having sent FAIL 7", ev.Order.State(), ev.Failure)
				}
				got := f.srv.waitState(idInitech, id, fsm.ServerCancelled)
				if got.Failure == nil || got.Failure.StatusCode != wire.StatusMoreTimeRejected {
					t.Errorf("server failure: got %+v, want FAIL 7 received", got.Failure)
				}
				if err := f.srv.srv.Approve(ctx, s.ProviderOrderID); !errors.Is(err, server.ErrNotHeld) {
					t.Errorf("Approve after FAIL 7: got %v, want ErrNotHeld", err)
				}
				if h := f.srv.holdings(); len(h) != 0 {
					t.Errorf("holdings after FAIL 7: got %+v, want none", h)
				}
				return
			}
			ev := f.cli.waitReason(id, "ExtensionGranted")
			if got := ev.Order.FSM.ExpectedOfferTime; got == nil || !got.Equal(eot) {
				t.Errorf("client expected offer time after granting: got %v, want %v", got, eot)
			}
			f.srv.waitOrder(idInitech, id, "without a pending request for more time", func(o server.OrderSummary) bool {
				return o.RequestedOfferTime == nil && o.Held
			})
			if got := f.cli.metrics.Snapshot().Sent[wire.MethodAck]; got != 1 {
				t.Errorf("client ACKs sent: got %d, want 1 (the grant)", got)
			}
			// The rest of Figure 11: the offer, PROCESSING, ACCEPT, ACK.
			if err := f.srv.srv.Approve(ctx, s.ProviderOrderID); err != nil {
				t.Fatalf("Approve: %v", err)
			}
			f.cli.waitReason(id, "OfferProcessing")
			if err := f.cli.eng.Accept(ctx, id); err != nil {
				t.Fatalf("Accept: %v", err)
			}
			f.cli.waitReason(id, "Agreed")
			f.srv.waitState(idInitech, id, fsm.ServerCompleted)
		})
	}
}

// TestFigure13Decline declines the offer with reason 1: the server cancels
// the order, acknowledges, and releases the reserved capacity.
// Reference: RFC 8921 §9.2.5 Figure 13, Table 3, §9.2.6.
func TestFigure13Decline(t *testing.T) {
	t.Parallel()
	f := newFlow(t, idAcme)
	id := f.cli.quote("fig13", gold(10, 10), f.clk.Now(), nil)
	f.cli.waitReason(id, "OfferProcessing")
	s := f.srv.waitState(idAcme, id, fsm.ServerProcessingReceived)
	want := []holding{{s.ProviderOrderID, idAcme, "wan", 10 * mbps, 10 * mbps, policy.HoldingReserved}}
	if diff := cmp.Diff(want, f.srv.holdings()); diff != "" {
		t.Errorf("holdings of the open offer (-want +got):\n%s", diff)
	}
	if err := f.cli.eng.Decline(context.Background(), id, wire.ReasonUnacceptableGap); err != nil {
		t.Fatalf("Decline: %v", err)
	}
	f.cli.waitReason(id, "Declined")
	f.cli.waitReason(id, "CancelAcknowledged")
	if o := f.cli.order(id); !o.FSM.Terminal() || o.State() != fsm.ClientCancelled {
		t.Errorf("client after the ACK: got %s (terminal %v), want Cancelled and terminal", o.State(), o.FSM.Terminal())
	}
	f.srv.waitState(idAcme, id, fsm.ServerCancelled)
	if h := f.srv.holdings(); len(h) != 0 {
		t.Errorf("holdings after DECLINE: got %+v, want none", h)
	}
	if got := f.srv.sent(wire.MethodAck); got != 1 {
		t.Errorf("server ACKs: got %v, want 1", got)
	}
}

// TestFigure14Withdraw withdraws an agreement: the server acknowledges with
// the Empty CPD, cancels the order and frees the committed capacity.
// Reference: RFC 8921 §9.2.8 Figure 14, §9.2.6, §11.1.2.
func TestFigure14Withdraw(t *testing.T) {
	t.Parallel()
	f := newFlow(t, idAcme)
	id := f.cli.agree("fig14", gold(10, 10), f.clk.Now(), nil).ID()
	f.srv.waitState(idAcme, id, fsm.ServerCompleted)
	if err := f.cli.eng.Withdraw(context.Background(), id); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	f.cli.waitReason(id, "Withdrawn")
	ev := f.cli.waitReason(id, "WithdrawAcknowledged")
	if !ev.Order.FSM.WithdrawAcked || ev.Order.State() != fsm.ClientCancelled {
		t.Errorf("client after the ACK: got %s, withdraw acked %v; want Cancelled and acked", ev.Order.State(), ev.Order.FSM.WithdrawAcked)
	}
	s := f.srv.waitState(idAcme, id, fsm.ServerCancelled)
	if s.Agreement != nil {
		t.Errorf("server agreement after WITHDRAW: got %+v, want none", s.Agreement)
	}
	if h := f.srv.holdings(); len(h) != 0 {
		t.Errorf("holdings after WITHDRAW: got %+v, want none", h)
	}
}

// TestFigure15Update updates an agreement (new offer, new nonce, the new
// CPD replaces the old one when the ACCEPT is acknowledged), then runs an
// UPDATE cycle that fails (the counter-offer is declined): the previous
// agreement and nonce stand on both sides.
// Reference: RFC 8921 §9.2.9 Figure 15, §11.1.3, §11.2.3; DESIGN §3.
func TestFigure15Update(t *testing.T) {
	t.Parallel()
	f := newFlow(t, idAcme)
	ctx := context.Background()
	id := f.cli.agree("fig15", gold(10, 10), f.clk.Now(), nil).ID()
	before := f.cli.order(id)

	if err := f.cli.eng.Update(ctx, id, gold(20, 30), f.clk.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	f.cli.waitReason(id, "OfferProcessing")
	if err := f.cli.eng.Accept(ctx, id); err != nil {
		t.Fatalf("Accept the updated offer: %v", err)
	}
	f.cli.waitReason(id, "Updated")
	after := f.cli.order(id)
	switch {
	case after.State() != fsm.ClientCompleted || after.FSM.Agreement == nil:
		t.Fatalf("client after the update: got %s with agreement %+v, want Completed", after.State(), after.FSM.Agreement)
	case !cpd.Equal(after.FSM.Agreement.CPD, gold(20, 30)):
		t.Errorf("client agreement after the update: got %+v, want gold 20/30", after.FSM.Agreement.CPD)
	case after.FSM.Agreement.Nonce == before.FSM.Agreement.Nonce:
		t.Errorf("nonce after the update: unchanged, want the update offer's new nonce (§11.2.3)")
	case after.FSM.ProviderOrderID != before.FSM.ProviderOrderID:
		t.Errorf("provider order ID changed from %s to %s, want it kept (DESIGN §3)", before.FSM.ProviderOrderID, after.FSM.ProviderOrderID)
	}
	poid := after.FSM.ProviderOrderID
	f.srv.waitOrder(idAcme, id, "with the updated agreement", func(o server.OrderSummary) bool {
		return o.State == string(fsm.ServerCompleted) && o.Agreement != nil && o.Agreement.OutgoingBps == 30*mbps
	})
	if got := f.agreementCPD(id); !cpd.Equal(got, gold(20, 30)) {
		t.Errorf("server agreement after the update: got %+v, want gold 20/30", got)
	}
	want := []holding{{poid, idAcme, "wan", 20 * mbps, 30 * mbps, policy.HoldingCommitted}}
	if diff := cmp.Diff(want, f.srv.holdings()); diff != "" {
		t.Errorf("holdings after the update (-want +got):\n%s", diff)
	}

	// A failed cycle: acme may hold at most 500 Mb/s outgoing, so asking
	// for 600 gets a partial counter-offer, which the client declines.
	if err := f.cli.eng.Update(ctx, id, gold(20, 600), f.clk.Now().Add(time.Hour)); err != nil {
		t.Fatalf("second Update: %v", err)
	}
	ev := f.cli.waitReason(id, "OfferProcessing")
	if ev.Offer == nil || cpd.Equal(ev.Offer.CPD, gold(20, 600)) {
		t.Fatalf("offer of the second update: got %+v, want a counter-offer below 600 Mb/s", ev.Offer)
	}
	if err := f.cli.eng.Decline(ctx, id, wire.ReasonUnacceptableGap); err != nil {
		t.Fatalf("Decline the counter-offer: %v", err)
	}
	f.cli.waitReason(id, "UpdateDeclined")
	kept := f.cli.order(id)
	if kept.State() != fsm.ClientCompleted || !cpd.Equal(kept.FSM.Agreement.CPD, gold(20, 30)) ||
		kept.FSM.Agreement.Nonce != after.FSM.Agreement.Nonce {
		t.Errorf("client after the failed update: got %s with %+v, want Completed with the standing agreement and nonce", kept.State(), kept.FSM.Agreement)
	}
	f.srv.waitOrder(idAcme, id, "back to its agreement", func(o server.OrderSummary) bool {
		return o.State == string(fsm.ServerCompleted) && o.Transaction == "Update" && o.Agreement != nil && len(f.srv.holdings()) == 1
	})
	if diff := cmp.Diff(want, f.srv.holdings()); diff != "" {
		t.Errorf("holdings after the failed update (-want +got):\n%s", diff)
	}
	// The standing agreement is still the client's: it can withdraw it.
	if err := f.cli.eng.Withdraw(ctx, id); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	f.cli.waitReason(id, "WithdrawAcknowledged")
	f.srv.waitState(idAcme, id, fsm.ServerCancelled)
}

// TestFigure16Activate activates and deactivates an agreement negotiated
// with activation type "explicit" (ACTIVATE, ACK), and shows that ACTIVATE
// of an agreement negotiated as "immediate" gets FAIL 8.
// Reference: RFC 8921 §9.2.11 Figure 16, §9.2.10 (Table 4 code 8),
// §9.1.10.3; DESIGN §3.
func TestFigure16Activate(t *testing.T) {
	t.Parallel()
	f := newFlow(t, idAcme)
	ctx := context.Background()
	explicit := &wire.InformationElements{NegotiationOptions: &wire.NegotiationOptions{ActivationType: wire.ActivationExplicit}}
	id := f.cli.agree("fig16", gold(10, 10), f.clk.Now(), explicit).ID()
	if a := f.cli.order(id).FSM.Agreement; a == nil || a.Active {
		t.Fatalf("explicit agreement before ACTIVATE: got %+v, want inactive", a)
	}
	steps := []struct {
		schedule wire.Schedule
		reason   string
		active   bool
	}{
		{wire.ScheduleAt(f.clk.Now()), "Activated", true},
		{wire.ScheduleDeactivate(), "Deactivated", false},
	}
	for _, st := range steps {
		if err := f.cli.eng.Activate(ctx, id, st.schedule); err != nil {
			t.Fatalf("Activate %s: %v", st.schedule, err)
		}
		ev := f.cli.waitReason(id, st.reason)
		if a := ev.Order.FSM.Agreement; a == nil || a.Active != st.active {
			t.Errorf("client after ACTIVATE %s: got agreement %+v, want active=%v", st.schedule, a, st.active)
		}
		f.srv.waitOrder(idAcme, id, "with the activation applied", func(o server.OrderSummary) bool {
			return o.Agreement != nil && o.Agreement.Active == st.active
		})
	}

	immediate := f.cli.agree("fig16-immediate", gold(10, 10), f.clk.Now(), nil).ID()
	if err := f.cli.eng.Activate(ctx, immediate, wire.ScheduleAt(f.clk.Now())); err != nil {
		t.Fatalf("Activate the immediate agreement: %v", err)
	}
	ev := f.cli.waitReason(immediate, "ActivationFailed")
	if ev.Failure == nil || ev.Failure.StatusCode != wire.StatusUnsupportedActivationType {
		t.Errorf("failure of ACTIVATE on an immediate agreement: got %+v, want FAIL 8", ev.Failure)
	}
	if o := f.cli.order(immediate); o.State() != fsm.ClientCompleted || !o.FSM.Agreement.Active {
		t.Errorf("immediate agreement after FAIL 8: got %s %+v, want Completed and still active", o.State(), o.FSM.Agreement)
	}
}

// TestOfferExpiry lets an offer's validity pass without an answer: the
// client ends the negotiation (OfferExpired) and refuses a late ACCEPT, and
// the server silently drops the offer and releases its reservation.
// Reference: RFC 8921 §9.1.8, §9.2.3, §9.2.4, §8.5; DESIGN §3 ("Open offers
// count as reserved until ... expired").
func TestOfferExpiry(t *testing.T) {
	t.Parallel()
	f := newFlow(t, idAcme)
	id := f.cli.quote("expiry", gold(10, 10), f.clk.Now(), nil)
	ev := f.cli.waitReason(id, "OfferProcessing")
	f.srv.waitState(idAcme, id, fsm.ServerProcessingReceived)
	if n := len(f.srv.holdings()); n != 1 {
		t.Fatalf("holdings of the open offer: got %d, want 1 Reserved", n)
	}
	f.clk.Set(ev.Offer.ValidUntil.Add(time.Second))
	f.cli.waitReason(id, "OfferExpired")
	if err := f.cli.eng.Accept(context.Background(), id); !errors.Is(err, client.ErrInvalidState) {
		t.Errorf("Accept after the expiry: got %v, want ErrInvalidState", err)
	}
	f.srv.waitOrder(idAcme, id, "with its offer dropped", func(o server.OrderSummary) bool {
		return o.State == string(fsm.ServerCancelled) && len(f.srv.holdings()) == 0
	})
	if got := f.cli.metrics.Snapshot().Sent[wire.MethodAccept]; got != 0 {
		t.Errorf("ACCEPTs sent: got %d, want none after the validity (§9.2.4)", got)
	}
}
