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

package fsm

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Named tests, one per edge of Figure 9 (right column) and per decision of
// §11.2 and Table 6. The child edges (left column) are in
// server_child_test.go.

// Reference: RFC 8921 §8.11.2, Fig. 9 (QUOTATION → PQOReceived --PROCESSING--> AwaitingProcessing), §9.2.2, §11.2.1.
func TestServerEdgeQuotationProcessing(t *testing.T) {
	t.Parallel()
	o, acts, err := DefaultServer().Open(sOpenEvent(sQuotation()))
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	ert := st0.Add(time.Hour)
	want := []Action{
		Transition{From: "", To: "PQOReceived", Cause: "QUOTATION", Reason: "QuotationReceived", At: st0},
		Transition{From: "PQOReceived", To: "AwaitingProcessing", Cause: "PROCESSING", Reason: "Processing", At: st0},
		Persist{},
		Send{Msg: wire.Message{
			Version: 1, Method: wire.MethodProcessing, Seq: sSrvSeq,
			TransactionID: sQTxn, CustomerOrderID: sCustomer, ProviderOrderID: sProvider,
		}},
		StartTimer{ID: TimerOffer, At: ert},
		Consult{Kind: ConsultQuotation, TransactionID: sQTxn},
	}
	if diff := cmp.Diff(want, acts, sCmp...); diff != "" {
		t.Errorf("Open actions (-want +got):\n%s", diff)
	}
	if o.State != ServerAwaitingProcessing || o.ProviderOrderID != sProvider || o.Identity != sIdentity || o.OfferNonce != sNonce {
		t.Errorf("got order %+v, want AwaitingProcessing with the fresh identifiers", o)
	}
	if got, want := o.Txn.Counters, (session.Counters{Out: sSrvSeq + 1, In: sCliSeq, InSet: true}); got != want {
		t.Errorf("got counters %+v, want %+v (§11.3)", got, want)
	}
}

// Reference: RFC 8921 §9.2.2 (the server may include an EXPECTED_OFFER_TIME), §9.1.7.
func TestServerOpenExpectedOfferDelay(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		delay time.Duration
		ert   *time.Time
		want  *time.Time
	}{
		"no delay configured":      {delay: 0, ert: timePtr(st0.Add(time.Hour)), want: nil},
		"delay before the ERT":     {delay: 10 * time.Minute, ert: timePtr(st0.Add(time.Hour)), want: timePtr(st0.Add(10 * time.Minute))},
		"capped at the ERT":        {delay: 2 * time.Hour, ert: timePtr(st0.Add(time.Hour)), want: timePtr(st0.Add(time.Hour))},
		"client enforces no ERT":   {delay: 2 * time.Hour, ert: nil, want: timePtr(st0.Add(2 * time.Hour))},
		"sub-millisecond rounding": {delay: 1500 * time.Microsecond, ert: nil, want: timePtr(st0.Add(time.Millisecond))},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			q := sQuotation()
			q.ExpectedResponseTime = tc.ert
			m := DefaultServer()
			m.ExpectedOfferDelay = tc.delay
			o, acts, err := m.Open(sOpenEvent(q))
			if err != nil {
				t.Fatalf("Open: got error %v, want nil", err)
			}
			p := sOneSend(t, acts).Msg
			if diff := cmp.Diff(tc.want, p.ExpectedOfferTime); diff != "" {
				t.Errorf("PROCESSING expected_offer_time (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, o.ExpectedOfferTime); diff != "" {
				t.Errorf("order ExpectedOfferTime (-want +got):\n%s", diff)
			}
			wantTimer := tc.want
			if wantTimer == nil {
				wantTimer = tc.ert
			}
			if got, ok := o.Timers[TimerOffer]; (wantTimer == nil) == ok || (ok && !got.Equal(*wantTimer)) {
				t.Errorf("got TimerOffer %v (armed %v), want %v", got, ok, wantTimer)
			}
		})
	}
}

// Reference: RFC 8921 §13 (provider identifier never equals the customer's); caller bugs are errors.
func TestServerOpenErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*MsgReceived){
		"not a QUOTATION":          func(e *MsgReceived) { e.Msg.Method = wire.MethodUpdate },
		"no requested CPD":         func(e *MsgReceived) { e.Msg.RequestedCPD = nil },
		"no transaction ID":        func(e *MsgReceived) { e.Msg.TransactionID = "" },
		"no fresh provider ID":     func(e *MsgReceived) { e.Fresh.ProviderOrderID = "" },
		"provider ID = customer's": func(e *MsgReceived) { e.Fresh.ProviderOrderID = sCustomer },
		"no fresh nonce":           func(e *MsgReceived) { e.Fresh.Nonce = "" },
	}
	for name, mod := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev := sOpenEvent(sQuotation())
			mod(&ev)
			o, acts, err := DefaultServer().Open(ev)
			if !errors.Is(err, ErrCannotOpen) {
				t.Errorf("got error %v, want one matching ErrCannotOpen", err)
			}
			if o.State != "" || len(acts) != 0 {
				t.Errorf("got order state %q and %d actions, want nothing created", o.State, len(acts))
			}
		})
	}
}

// Reference: RFC 8921 §8.11.2, Fig. 9 (AwaitingProcessing --OFFER--> OfferProposed), §9.2.3, §11.2.1.
func TestServerEdgeOffer(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	acts := d.offer()
	vu := st0.Add(30 * time.Minute)
	offered := cpd.SampleConcrete()
	offer := wire.Message{
		Version: 1, Method: wire.MethodOffer, Seq: sSrvSeq + 1,
		TransactionID: sQTxn, CustomerOrderID: sCustomer, ProviderOrderID: sProvider,
		Nonce: sNonce, ValidityOfferTime: &vu, OfferedCPD: &offered,
	}
	want := []Action{
		Transition{From: "AwaitingProcessing", To: "OfferProposed", Cause: "OFFER", Reason: "OfferMade", At: st0},
		StopTimer{ID: TimerOffer},
		Persist{},
		Reserve{CPD: offered},
		Send{Msg: offer},
		StartTimer{ID: TimerRetransmit, At: st0.Add(time.Second)},
		StartTimer{ID: TimerValidity, At: vu},
	}
	if diff := cmp.Diff(want, acts, sCmp...); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if !d.o.Reserved || d.o.Offer == nil || d.o.Offer.Nonce != sNonce {
		t.Errorf("got Reserved %v, offer %+v; want a reserved offer with the QUOTATION's nonce", d.o.Reserved, d.o.Offer)
	}
	if diff := cmp.Diff(&offer, d.o.Txn.Unanswered, sCmp...); diff != "" {
		t.Errorf("the OFFER awaits an answer (-want +got):\n%s", diff)
	}
}

// Reference: RFC 8921 §8.11.2, Fig. 9 (OfferProposed --PROCESSING--> ProcessingReceived), §11.2.1.
func TestServerEdgeProcessingReceived(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	d.offer()
	acts := d.send(d.cmsg(wire.MethodProcessing))
	if got, want := sStates(acts), []string{"OfferProposed->ProcessingReceived"}; !cmp.Equal(got, want) {
		t.Errorf("got transitions %v, want %v", got, want)
	}
	if len(sSends(acts)) != 0 {
		t.Errorf("got sends %v, want none: PROCESSING needs no answer", sSentMethods(acts))
	}
	if _, armed := d.o.Timers[TimerRetransmit]; armed || d.o.Txn.Unanswered != nil {
		t.Errorf("got retransmission still armed (%v) / unanswered %v, want the OFFER retransmission stopped (§11.2.1)", armed, d.o.Txn.Unanswered)
	}
	if !sHas[StopTimer](acts) {
		t.Errorf("got no StopTimer, want StopTimer(Retransmit); actions %#v", acts)
	}
}

// Reference: RFC 8921 §8.11.2, Fig. 9 (ProcessingReceived --ACCEPT--> AcceptReceived --ACK--> Completed), §9.2.4, §9.2.6.
func TestServerEdgeAcceptAck(t *testing.T) {
	t.Parallel()
	for name, fromProcessing := range map[string]bool{"from ProcessingReceived": true, "from OfferProposed (Table 6)": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer())
			d.offer()
			from := "OfferProposed"
			if fromProcessing {
				d.send(d.cmsg(wire.MethodProcessing))
				from = "ProcessingReceived"
			}
			acts := d.send(d.cmsg(wire.MethodAccept))
			sCheckPersistFirst(t, acts)
			if got, want := sStates(acts), []string{from + "->AcceptReceived", "AcceptReceived->Completed"}; !cmp.Equal(got, want) {
				t.Errorf("got transitions %v, want %v", got, want)
			}
			ack := sOneSend(t, acts).Msg
			if ack.Method != wire.MethodAck || ack.CPD == nil || !cpd.Equal(*ack.CPD, cpd.SampleConcrete()) {
				t.Errorf("got %v with CPD %v, want ACK with the offered CPD (DESIGN §3)", ack.Method, ack.CPD)
			}
			if got := sOnly[Commit](acts); len(got) != 1 || !cpd.Equal(got[0].CPD, cpd.SampleConcrete()) {
				t.Errorf("got commits %v, want one Commit of the offered CPD", got)
			}
			a := d.o.Agreement
			if a == nil || a.Nonce != sNonce || a.ActivationType != wire.ActivationExplicit || a.Active {
				t.Errorf("got agreement %+v, want the offer's nonce, explicit and inactive", a)
			}
			if d.o.Reserved || len(d.o.Timers) != 0 {
				t.Errorf("got Reserved %v, timers %v; want the reservation committed and no timer", d.o.Reserved, d.o.Timers)
			}
		})
	}
}

// Reference: RFC 8921 §9.1.10.3 (no activation type: active once the negotiation ends), §9.2.3 (ACTIVATION_SCHEDULE).
func TestServerAgreementActivation(t *testing.T) {
	t.Parallel()
	future := st0.Add(24 * time.Hour)
	tests := map[string]struct {
		at        wire.ActivationType
		schedule  *wire.Schedule
		offerType wire.ActivationType
		want      Activation
		wantTimer bool
	}{
		"immediate by default": {at: "", want: Activation{Active: true}},
		"scheduled in the future": {at: wire.ActivationScheduled, schedule: &wire.Schedule{At: future},
			want: Activation{ScheduledAt: &future}, wantTimer: true},
		"schedule already passed": {at: wire.ActivationScheduled, schedule: &wire.Schedule{At: st0.Add(-time.Hour)}, want: Activation{Active: true}},
		"offer overrides type":    {at: wire.ActivationExplicit, offerType: wire.ActivationImmediate, want: Activation{Active: true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer(), func(m *wire.Message) { m.InformationElements = sIEs(tc.at, "") })
			dec := sOffer(d.o, d.at)
			dec.Offer.ActivationSchedule = tc.schedule
			if tc.offerType != "" {
				dec.Offer.InformationElements = sIEs(tc.offerType, "")
			}
			d.step(dec)
			acts := d.send(d.cmsg(wire.MethodAccept))
			got := sOnly[Activation](acts)
			if diff := cmp.Diff([]Activation{tc.want}, got); diff != "" {
				t.Errorf("activation (-want +got):\n%s", diff)
			}
			if _, armed := d.o.Timers[TimerActivation]; armed != tc.wantTimer {
				t.Errorf("got TimerActivation armed %v, want %v", armed, tc.wantTimer)
			}
			if !tc.wantTimer {
				return
			}
			acts = d.step(TimerFired{ID: TimerActivation, At: future})
			if diff := cmp.Diff([]Activation{{Active: true}}, sOnly[Activation](acts)); diff != "" {
				t.Errorf("activation when due (-want +got):\n%s", diff)
			}
			if !d.o.Agreement.Active || d.o.Agreement.ScheduledAt != nil {
				t.Errorf("got agreement %+v, want active now", d.o.Agreement)
			}
		})
	}
}

// Reference: RFC 8921 §8.11.2, Fig. 9 (CANCEL from PQOReceived, AwaitingProcessing,
// OfferProposed, ProcessingReceived, AcceptReceived), §9.2.7, Table 6 CANCEL, DESIGN §3 (ACK contents).
func TestServerEdgeCancel(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		setup       func(d *sDriver)
		from        ServerState
		wantCPD     cpd.CPD
		wantRelease bool
	}{
		"PQOReceived": {
			setup: func(d *sDriver) { d.o.State = ServerPQOReceived }, from: ServerPQOReceived, wantCPD: cpd.Sample(),
		},
		"AwaitingProcessing": {setup: func(*sDriver) {}, from: ServerAwaitingProcessing, wantCPD: cpd.Sample()},
		"OfferProposed": {
			setup: func(d *sDriver) { d.offer() }, from: ServerOfferProposed, wantCPD: cpd.SampleConcrete(), wantRelease: true,
		},
		"ProcessingReceived": {
			setup: func(d *sDriver) { d.offer(); d.send(d.cmsg(wire.MethodProcessing)) },
			from:  ServerProcessingReceived, wantCPD: cpd.SampleConcrete(), wantRelease: true,
		},
		"AcceptReceived": {
			setup: func(d *sDriver) { d.offer(); d.o.State = ServerAcceptReceived },
			from:  ServerAcceptReceived, wantCPD: cpd.SampleConcrete(), wantRelease: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer())
			tc.setup(d)
			acts := d.send(d.cmsg(wire.MethodCancel))
			sCheckPersistFirst(t, acts)
			if got, want := sStates(acts), []string{string(tc.from) + "->Cancelled"}; !cmp.Equal(got, want) {
				t.Errorf("got transitions %v, want %v", got, want)
			}
			ack := sOneSend(t, acts).Msg
			if ack.Method != wire.MethodAck || ack.CPD == nil || !cpd.Equal(*ack.CPD, tc.wantCPD) {
				t.Errorf("got %v with CPD %v, want ACK with %v", ack.Method, ack.CPD, tc.wantCPD)
			}
			if got := sOnly[Release](acts); (len(got) == 1) != tc.wantRelease || len(got) > 1 {
				t.Errorf("got releases %v, want release %v", got, tc.wantRelease)
			}
			if d.o.Reserved || len(d.o.Timers) != 0 {
				t.Errorf("got Reserved %v, timers %v; want nothing held", d.o.Reserved, d.o.Timers)
			}
			// A repeated CANCEL gets the same ACK again (§11.4).
			acts = d.send(ack2req(d, wire.MethodCancel))
			if s := sOneSend(t, acts); !s.Retransmission || !cmp.Equal(s.Msg, ack, sCmp...) {
				t.Errorf("got %+v, want the stored ACK re-sent as a retransmission", s)
			}
		})
	}
}

// ack2req rebuilds the last request the driver sent (same sequence number).
func ack2req(d *sDriver, method wire.Method) wire.Message {
	m := sClientMsg(d.o, method, d.seq-1)
	return m
}

// Reference: RFC 8921 §8.11.2, Fig. 9 (OfferProposed/ProcessingReceived --DECLINE--> Cancelled), §9.2.5, DESIGN §3 (ACK with the Empty CPD).
func TestServerEdgeDecline(t *testing.T) {
	t.Parallel()
	for _, processing := range []bool{false, true} {
		d := newSDriver(t, DefaultServer())
		d.offer()
		from := "OfferProposed"
		if processing {
			d.send(d.cmsg(wire.MethodProcessing))
			from = "ProcessingReceived"
		}
		dec := d.cmsg(wire.MethodDecline)
		dec.Reasons = []wire.Reason{wire.ReasonUnacceptableGap}
		acts := d.send(dec)
		if got, want := sStates(acts), []string{from + "->Cancelled"}; !cmp.Equal(got, want) {
			t.Errorf("%s: got transitions %v, want %v", from, got, want)
		}
		ack := sOneSend(t, acts).Msg
		if ack.Method != wire.MethodAck || ack.CPD == nil || !ack.CPD.IsEmpty() {
			t.Errorf("%s: got %v with CPD %v, want ACK with the Empty CPD", from, ack.Method, ack.CPD)
		}
		if diff := cmp.Diff([]Release{{Reason: "Declined"}}, sOnly[Release](acts)); diff != "" {
			t.Errorf("%s: releases (-want +got):\n%s", from, diff)
		}
	}
}

// Reference: RFC 8921 §8.11.2, Fig. 9 (Completed --WITHDRAW--> Cancelled), §9.2.8, §11.2.2, §11.1.2 (repeated cycles).
func TestServerEdgeWithdraw(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	d.toCompleted()
	w := sNewTxnMsg(d.o, wire.MethodWithdraw, sWTxn)
	acts := d.sendNew(w)
	sCheckPersistFirst(t, acts)
	if got, want := sStates(acts), []string{"Completed->Cancelled"}; !cmp.Equal(got, want) {
		t.Errorf("got transitions %v, want %v", got, want)
	}
	ack := sOneSend(t, acts).Msg
	want := wire.Message{Version: 1, Method: wire.MethodAck, Seq: 700, TransactionID: sWTxn,
		CustomerOrderID: sCustomer, ProviderOrderID: sProvider, CPD: ptrCPD(cpd.Empty())}
	if diff := cmp.Diff(want, ack, sCmp...); diff != "" {
		t.Errorf("ACK (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Release{{Agreement: true, Reason: "Withdrawn"}}, sOnly[Release](acts)); diff != "" {
		t.Errorf("releases (-want +got):\n%s", diff)
	}
	if d.o.Agreement != nil || !d.o.Terminal() {
		t.Errorf("got agreement %+v, terminal %v; want no agreement and a terminal order", d.o.Agreement, d.o.Terminal())
	}
	// The client's next withdrawal cycle repeats the same WITHDRAW (§11.1.2):
	// the stored ACK answers it, and nothing else changes.
	before := d.o.Clone()
	acts = d.send(w)
	if s := sOneSend(t, acts); !s.Retransmission || !cmp.Equal(s.Msg, ack, sCmp...) {
		t.Errorf("got %+v, want the stored ACK re-sent", s)
	}
	if diff := cmp.Diff(before, d.o, sCmp...); diff != "" {
		t.Errorf("a repeated WITHDRAW changed the order (-before +after):\n%s", diff)
	}
}

// Reference: RFC 8921 §9.2.9, §11.2.3, DESIGN §3 (UPDATE keeps the provider ID; new nonce replaces the old once acknowledged).
func TestServerUpdateCycle(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	d.toCompleted()
	old := d.o.Agreement.clone()
	acts := d.sendNew(sNewTxnMsg(d.o, wire.MethodUpdate, sUTxn))
	if got, want := sStates(acts), []string{"Completed->PQOReceived", "PQOReceived->AwaitingProcessing"}; !cmp.Equal(got, want) {
		t.Errorf("got transitions %v, want %v", got, want)
	}
	p := sOneSend(t, acts).Msg
	if p.Method != wire.MethodProcessing || p.TransactionID != sUTxn || p.Seq != 700 || p.ProviderOrderID != sProvider {
		t.Errorf("got %v, want PROCESSING of the UPDATE's transaction with the fresh seq 700 and the same provider ID", p)
	}
	if diff := cmp.Diff([]Consult{{Kind: ConsultUpdate, TransactionID: sUTxn}}, sOnly[Consult](acts)); diff != "" {
		t.Errorf("consults (-want +got):\n%s", diff)
	}
	// The UPDATE's offer carries the new nonce (§11.2.3).
	dec := sOffer(d.o, d.at)
	dec.Offer.CPD.Components = dec.Offer.CPD.Components[:1]
	acts = d.step(dec)
	if o := sOneSend(t, acts).Msg; o.Nonce != sNonce2 {
		t.Errorf("got OFFER nonce %q, want the fresh nonce %q", o.Nonce, sNonce2)
	}
	if d.o.Agreement.Nonce != sNonce {
		t.Errorf("got agreement nonce %q during the UPDATE, want the old %q (DESIGN §3)", d.o.Agreement.Nonce, sNonce)
	}
	// A WITHDRAW with the old nonce is refused while the cycle runs: the
	// order is not Completed (Table 6 WITHDRAW).
	w := sNewTxnMsg(d.o, wire.MethodWithdraw, sWTxn)
	if f := sOneSend(t, d.step(MsgReceived{Msg: w, Identity: sIdentity, At: d.at})).Msg; f.Method != wire.MethodFail || f.StatusCode != 1 {
		t.Errorf("got %v, want FAIL 1 to a WITHDRAW during an UPDATE cycle", f)
	}
	acts = d.send(d.cmsg(wire.MethodAccept))
	if got, want := sStates(acts), []string{"OfferProposed->AcceptReceived", "AcceptReceived->Completed"}; !cmp.Equal(got, want) {
		t.Errorf("got transitions %v, want %v", got, want)
	}
	if d.o.Agreement.Nonce != sNonce2 || len(d.o.Agreement.CPD.Components) != 1 {
		t.Errorf("got agreement %+v, want the updated CPD and nonce", d.o.Agreement)
	}
	if diff := cmp.Diff(old, d.o.PrevAgreement, sCmp...); diff != "" {
		t.Errorf("previous agreement (-want +got):\n%s", diff)
	}
	if d.o.Update != nil || len(d.o.Request.CPD.Components) != 2 || d.o.Request.ExpectedResponseTime == nil ||
		!d.o.Request.ExpectedResponseTime.Equal(st0.Add(2*time.Hour)) {
		t.Errorf("got request %+v, update %+v; want the UPDATE's request in force", d.o.Request, d.o.Update)
	}
	// The old nonce no longer works (§9.1.5): FAIL 3.
	w = sNewTxnMsg(d.o, wire.MethodWithdraw, sWTxn)
	w.Nonce = sNonce
	if f := sOneSend(t, d.step(MsgReceived{Msg: w, Identity: sIdentity, At: d.at})).Msg; f.StatusCode != wire.StatusAuthorizationFailed {
		t.Errorf("got %v, want FAIL 3 for the replaced nonce", f)
	}
}

// Reference: RFC 8921 §9.2.9 (a failed UPDATE: "The client may initiate a new ... UPDATE"), DESIGN §3 (the old agreement stands).
func TestServerUpdateFails(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		run     func(d *sDriver) []Action
		reason  string
		release bool
		send    wire.Method
	}{
		"policy FAIL": {
			run: func(d *sDriver) []Action {
				return d.step(Decision{Kind: DecideFail, TransactionID: sUTxn, StatusCode: wire.StatusOutOfResources, At: d.at})
			},
			reason: "UpdateFailed", send: wire.MethodFail,
		},
		"DECLINE": {
			run:    func(d *sDriver) []Action { d.offer(); return d.send(d.cmsg(wire.MethodDecline)) },
			reason: "UpdateDeclined", release: true, send: wire.MethodAck,
		},
		"CANCEL": {
			run:    func(d *sDriver) []Action { return d.send(d.cmsg(wire.MethodCancel)) },
			reason: "UpdateCancelled", send: wire.MethodAck,
		},
		"offer expired": {
			run: func(d *sDriver) []Action {
				d.offer()
				return d.step(TimerFired{ID: TimerValidity, At: d.later(30 * time.Minute)})
			},
			reason: "UpdateOfferExpired", release: true,
		},
		"admin reject": {
			run: func(d *sDriver) []Action {
				d.step(Decision{Kind: DecideHold, TransactionID: sUTxn, At: d.at})
				return d.step(AdminReject{At: d.at})
			},
			reason: "UpdateRejected", send: wire.MethodFail,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer())
			d.toCompleted()
			old := d.o.Agreement.clone()
			d.toUpdate()
			acts := tc.run(d)
			trs := sOnly[Transition](acts)
			if len(trs) == 0 || trs[0].To != "Completed" || trs[0].Reason != tc.reason {
				t.Fatalf("got transitions %+v, want one to Completed with reason %s", trs, tc.reason)
			}
			if diff := cmp.Diff(old, d.o.Agreement, sCmp...); diff != "" {
				t.Errorf("agreement after a failed UPDATE (-want +got):\n%s", diff)
			}
			if got := sOnly[Release](acts); (len(got) == 1) != tc.release {
				t.Errorf("got releases %v, want release %v", got, tc.release)
			}
			if got := sSentMethods(acts); (tc.send == 0 && len(got) != 0) || (tc.send != 0 && !cmp.Equal(got, []wire.Method{tc.send})) {
				t.Errorf("got sends %v, want %v", got, tc.send)
			}
			if d.o.Update != nil || d.o.Reserved || d.o.Timers[TimerOffer] != (time.Time{}) {
				t.Errorf("got update %v, reserved %v, timers %v; want the cycle cleared", d.o.Update, d.o.Reserved, d.o.Timers)
			}
			// The old agreement's nonce still works (DESIGN §3).
			acts = d.sendNew(sNewTxnMsg(d.o, wire.MethodActivate, sATxn))
			if s := sOneSend(t, acts).Msg; s.Method != wire.MethodAck {
				t.Errorf("got %v to an ACTIVATE with the old nonce, want ACK", s)
			}
		})
	}
}

// Reference: RFC 8921 §9.2.11, Table 6 ACTIVATE, DESIGN §3 ("0" deactivates; FAIL 8 unless explicit).
func TestServerActivate(t *testing.T) {
	t.Parallel()
	future := st0.Add(3 * time.Hour)
	tests := map[string]struct {
		at         wire.ActivationType
		schedule   wire.Schedule
		wantMethod wire.Method
		wantStatus wire.StatusCode
		wantActive bool
		wantSched  *time.Time
	}{
		"now":                {at: wire.ActivationExplicit, schedule: wire.Schedule{At: st0}, wantMethod: wire.MethodAck, wantActive: true},
		"in the past":        {at: wire.ActivationExplicit, schedule: wire.Schedule{At: st0.Add(-time.Hour)}, wantMethod: wire.MethodAck, wantActive: true},
		"scheduled":          {at: wire.ActivationExplicit, schedule: wire.Schedule{At: future}, wantMethod: wire.MethodAck, wantSched: &future},
		"deactivate":         {at: wire.ActivationExplicit, schedule: wire.Schedule{Deactivate: true}, wantMethod: wire.MethodAck},
		"immediate order":    {at: wire.ActivationImmediate, schedule: wire.Schedule{At: st0}, wantMethod: wire.MethodFail, wantStatus: 8, wantActive: true},
		"no activation type": {at: "", schedule: wire.Schedule{At: st0}, wantMethod: wire.MethodFail, wantStatus: 8, wantActive: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer(), func(m *wire.Message) { m.InformationElements = sIEs(tc.at, "") })
			d.toCompleted()
			a := sNewTxnMsg(d.o, wire.MethodActivate, sATxn)
			a.ActivationSchedule = &tc.schedule
			acts := d.sendNew(a)
			s := sOneSend(t, acts).Msg
			if s.Method != tc.wantMethod || s.StatusCode != tc.wantStatus || s.CPD != nil || s.TransactionID != sATxn {
				t.Errorf("got %v (status %d, cpd %v), want %v %d without CPD in the ACTIVATE's transaction", s.Method, s.StatusCode, s.CPD, tc.wantMethod, tc.wantStatus)
			}
			if d.o.State != ServerCompleted || d.o.Agreement.Active != tc.wantActive {
				t.Errorf("got state %s, active %v; want Completed, active %v", d.o.State, d.o.Agreement.Active, tc.wantActive)
			}
			if diff := cmp.Diff(tc.wantSched, d.o.Agreement.ScheduledAt); diff != "" {
				t.Errorf("scheduled activation (-want +got):\n%s", diff)
			}
			if got := d.o.Timers[TimerActivation]; (tc.wantSched == nil) != got.IsZero() {
				t.Errorf("got TimerActivation %v, want armed %v", got, tc.wantSched != nil)
			}
			// A repeated ACTIVATE is answered from the store.
			if r := sOneSend(t, d.send(a)); !r.Retransmission || !cmp.Equal(r.Msg, s, sCmp...) {
				t.Errorf("got %+v, want the stored answer re-sent", r)
			}
		})
	}
}

// Reference: RFC 8921 §9.1.8 (offer expiry: "silently remove"), DESIGN §3 (open offers reserved until expired).
func TestServerValidityExpiry(t *testing.T) {
	t.Parallel()
	for _, processing := range []bool{false, true} {
		d := newSDriver(t, DefaultServer())
		d.offer()
		if processing {
			d.send(d.cmsg(wire.MethodProcessing))
		}
		acts := d.step(TimerFired{ID: TimerValidity, At: d.later(30 * time.Minute)})
		if len(sSends(acts)) != 0 {
			t.Errorf("got sends %v, want none (silent removal)", sSentMethods(acts))
		}
		trs := sOnly[Transition](acts)
		if len(trs) != 1 || trs[0].To != "Cancelled" || trs[0].Reason != "OfferExpired" || trs[0].Cause != string(TimerValidity) {
			t.Errorf("got transitions %+v, want one to Cancelled (OfferExpired)", trs)
		}
		if diff := cmp.Diff([]Release{{Reason: "OfferExpired"}}, sOnly[Release](acts)); diff != "" {
			t.Errorf("releases (-want +got):\n%s", diff)
		}
		if !d.o.Terminal() || d.o.Failure == nil || d.o.Failure.Reason != "OfferExpired" {
			t.Errorf("got terminal %v, failure %+v; want a terminal order recording OfferExpired", d.o.Terminal(), d.o.Failure)
		}
		// A late ACCEPT finds no open offer: FAIL 1 (no order matches, DESIGN §3).
		if f := sOneSend(t, d.send(d.cmsg(wire.MethodAccept))).Msg; f.Method != wire.MethodFail || f.StatusCode != 1 {
			t.Errorf("got %v, want FAIL 1 to an ACCEPT after expiry", f)
		}
	}
}

// Reference: RFC 8921 §9.1.8, §9.2.4 ("should not be sent after the validity time").
func TestServerAcceptAtValidityEnd(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	d.offer()
	d.later(30 * time.Minute) // exactly VALIDITY_OFFER_TIME, before the timer event arrives
	acts := d.send(d.cmsg(wire.MethodAccept))
	f := sOneSend(t, acts).Msg
	if f.Method != wire.MethodFail || f.StatusCode != 1 || f.TransactionID != sQTxn {
		t.Errorf("got %v, want FAIL 1 in the QUOTATION's transaction", f)
	}
	if d.o.State != ServerCancelled || d.o.Agreement != nil {
		t.Errorf("got state %s agreement %v, want Cancelled without agreement", d.o.State, d.o.Agreement)
	}
	if diff := cmp.Diff([]Release{{Reason: "OfferExpired"}}, sOnly[Release](acts)); diff != "" {
		t.Errorf("releases (-want +got):\n%s", diff)
	}
}

// Reference: RFC 8921 §11.2.1 (resend the same offer until max retry), §11.4 (same sequence number).
func TestServerOfferRetransmission(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	d.offer()
	offer := *d.o.Txn.Unanswered
	at := st0
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		at = at.Add(wait)
		acts := d.step(TimerFired{ID: TimerRetransmit, At: at})
		s := sOneSend(t, acts)
		if !s.Retransmission || !cmp.Equal(s.Msg, offer, sCmp...) {
			t.Errorf("retransmission %d: got %+v, want the same OFFER marked as a retransmission", i+1, s)
		}
		next := at.Add(time.Duration(2<<i) * time.Second)
		if got := d.o.Timers[TimerRetransmit]; !got.Equal(next) {
			t.Errorf("retransmission %d: got next deadline %v, want %v", i+1, got, next)
		}
	}
	acts := d.step(TimerFired{ID: TimerRetransmit, At: at.Add(8 * time.Second)})
	if len(sSends(acts)) != 0 || !sHas[Discard](acts) || d.o.Txn.Unanswered != nil {
		t.Errorf("after 3 retries: got actions %#v, unanswered %v; want no send and a Discard", acts, d.o.Txn.Unanswered)
	}
	if _, armed := d.o.Timers[TimerRetransmit]; armed {
		t.Errorf("got the retransmission timer still armed after the last retry")
	}
	// The offer stays open until its validity ends.
	if d.o.State != ServerOfferProposed || !d.o.Reserved {
		t.Errorf("got state %s reserved %v, want the offer still open", d.o.State, d.o.Reserved)
	}
}
