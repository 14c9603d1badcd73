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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Reference: RFC 8921 §9.2.2, Figures 11 and 12, §11.1.1: a PROCESSING whose
// EXPECTED_OFFER_TIME is later than the time granted asks for more time;
// ExtensionLimit decides, or the user when it is nil.
func TestClientExtensionPolicy(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		limit       *time.Time
		first       bool // the request is the first PROCESSING (beyond the QUOTATION's ERT)
		eot         time.Duration
		wantState   ClientState
		wantSent    []wire.Method
		wantPending bool
		wantOffer   time.Duration // the granted EXPECTED_OFFER_TIME; 0: unchanged
	}{
		"within the granted time":         {eot: 20 * time.Minute, wantState: ClientServerProcessing, wantOffer: 20 * time.Minute},
		"granted under the limit":         {limit: clAtp(2 * time.Hour), eot: 90 * time.Minute, wantState: ClientServerProcessing, wantSent: []wire.Method{wire.MethodAck}, wantOffer: 90 * time.Minute},
		"granted at the limit":            {limit: clAtp(90 * time.Minute), eot: 90 * time.Minute, wantState: ClientServerProcessing, wantSent: []wire.Method{wire.MethodAck}, wantOffer: 90 * time.Minute},
		"refused beyond the limit":        {limit: clAtp(time.Hour), eot: 90 * time.Minute, wantState: ClientCancelled, wantSent: []wire.Method{wire.MethodFail}},
		"pending without a limit":         {eot: 90 * time.Minute, wantState: ClientServerProcessing, wantPending: true, wantOffer: 30 * time.Minute},
		"first PROCESSING beyond the ERT": {first: true, limit: clAtp(2 * time.Hour), eot: 90 * time.Minute, wantState: ClientServerProcessing, wantSent: []wire.Method{wire.MethodAck}, wantOffer: 90 * time.Minute},
		"first PROCESSING refused":        {first: true, limit: clAtp(time.Hour), eot: 90 * time.Minute, wantState: ClientCancelled, wantSent: []wire.Method{wire.MethodFail}},
		"first PROCESSING pending":        {first: true, eot: 90 * time.Minute, wantState: ClientServerProcessing, wantPending: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := clFxPQOSent(t)
			s.o.ExtensionLimit = tc.limit
			if !tc.first {
				s.step(clRecv(clProcessing(s.o, clAtp(30*time.Minute)), time.Second/2))
			}
			s.step(clRecv(clProcessing(s.o, clAtp(tc.eot)), 10*time.Minute))
			if s.o.State != tc.wantState {
				t.Errorf("got state %s, want %s", s.o.State, tc.wantState)
			}
			var sent []wire.Method
			for _, m := range clSends(s.last) {
				sent = append(sent, m.Msg.Method)
			}
			if diff := cmp.Diff(tc.wantSent, sent); diff != "" {
				t.Errorf("sent (-want +got):\n%s", diff)
			}
			if got := s.o.PendingExtension != nil; got != tc.wantPending {
				t.Errorf("got pending extension %v, want %v", got, tc.wantPending)
			}
			if tc.wantOffer != 0 {
				if got := s.o.Timers[TimerOffer]; !got.Equal(clAt(tc.wantOffer)) {
					t.Errorf("got offer timer %s, want +%s", got.Sub(clT0), tc.wantOffer)
				}
			}
			if len(sent) == 1 {
				msg := clSends(s.last)[0].Msg
				switch msg.Method {
				case wire.MethodAck:
					// §9.2.6, DESIGN §3: the grant carries the granted time and no CPD.
					if msg.ExpectedResponseTime == nil || !msg.ExpectedResponseTime.Equal(clAt(tc.eot)) || msg.CPD != nil {
						t.Errorf("got ACK %s, want ert=+%s and no CPD", clDescribeMsg(msg), tc.eot)
					}
				case wire.MethodFail:
					if msg.StatusCode != wire.StatusMoreTimeRejected {
						t.Errorf("got FAIL %d, want 7 (More Time Rejected)", msg.StatusCode)
					}
					want := &Failure{StatusCode: 7, Sent: true, Reason: "MoreTimeRejected", Txn: TxnQuotation, At: clAt(10 * time.Minute)}
					if diff := cmp.Diff(want, s.o.Failure); diff != "" {
						t.Errorf("failure (-want +got):\n%s", diff)
					}
				}
			}
		})
	}
}

// Reference: RFC 8921 §9.2.2, Figure 12: the user refuses the pending
// request for more time; a repeat of that PROCESSING is answered with the
// same FAIL (§11.4) although the order is terminal.
func TestClientRefuseExtension(t *testing.T) {
	t.Parallel()
	s := clFxServerProcessing(t)
	more := clProcessing(s.o, clAtp(90*time.Minute))
	s.step(MsgReceived{Msg: more, At: clAt(10 * time.Minute)})
	s.step(RefuseExtension{At: clAt(11 * time.Minute)})
	fail := clSends(s.last)[0].Msg
	if fail.Method != wire.MethodFail || fail.StatusCode != wire.StatusMoreTimeRejected || s.o.State != ClientCancelled {
		t.Fatalf("got %s, want FAIL 7 and Cancelled", clDescribeActions(s.last))
	}
	if !s.o.Terminal() {
		t.Errorf("got Terminal() false, want true")
	}
	s.step(MsgReceived{Msg: more, At: clAt(12 * time.Minute)})
	if diff := cmp.Diff([]Action{Send{Msg: fail, Retransmission: true}}, s.last); diff != "" {
		t.Errorf("repeat (-want +got):\n%s", diff)
	}
}

// A newer PROCESSING whose EXPECTED_OFFER_TIME is within the granted time
// withdraws a pending request for more time.
func TestClientPendingExtensionWithdrawn(t *testing.T) {
	t.Parallel()
	s := clFxServerProcessing(t)
	s.step(clRecv(clProcessing(s.o, clAtp(90*time.Minute)), 10*time.Minute))
	if s.o.PendingExtension == nil {
		t.Fatal("no pending extension")
	}
	s.step(clRecv(clProcessing(s.o, clAtp(25*time.Minute)), 11*time.Minute))
	if s.o.PendingExtension != nil || !s.o.Timers[TimerOffer].Equal(clAt(25*time.Minute)) {
		t.Errorf("got pending %v offer timer %s, want none and +25m", s.o.PendingExtension, s.o.Timers[TimerOffer].Sub(clT0))
	}
}

// Reference: RFC 8921 Table 5 (OFFER in PQOSent matches transaction and
// customer order identifier only): an OFFER without a PROCESSING first
// records the provider order identifier.
func TestClientOfferWithoutProcessing(t *testing.T) {
	t.Parallel()
	s := clFxPQOSent(t)
	s.step(clRecv(clOffer(s.o, clNonce, clAt(time.Hour)), time.Second/2))
	if s.o.State != ClientOfferProcessing || s.o.ProviderOrderID != clProviderID {
		t.Errorf("got %s provider %q, want OfferProcessing %q", s.o.State, s.o.ProviderOrderID, clProviderID)
	}
	if _, ok := s.o.Timers[TimerRetransmit]; ok {
		t.Errorf("the QUOTATION is still retransmitted after the OFFER")
	}
	if _, ok := s.o.Timers[TimerResponse]; ok {
		t.Errorf("the response timer is still armed after the OFFER")
	}
}

// Reference: RFC 8921 §9.2.9, Figure 15, §11.2.3, DESIGN §3: the UPDATE's
// offer carries a new nonce, which replaces the old one once the ACCEPT is
// acknowledged; the updated request replaces the old one.
func TestClientUpdateSucceeds(t *testing.T) {
	t.Parallel()
	s := clFxUpdating(t)
	if s.o.State != ClientPQOSent || s.o.Txn.Kind != TxnUpdate {
		t.Fatalf("got %s %s, want PQOSent Update", s.o.State, s.o.Txn.Kind)
	}
	u := clSends(s.last)[0].Msg
	if u.Method != wire.MethodUpdate || u.Nonce != clNonce || u.ProviderOrderID != clProviderID || u.TransactionID != clTxnUpdate || u.Seq != 5000 {
		t.Errorf("got %s, want UPDATE seq 5000 with the old nonce and provider order ID", clDescribeMsg(u))
	}
	s.step(clRecv(clOffer(s.o, clNonce2, clAt(3*time.Hour)), time.Hour+time.Minute))
	if s.o.Agreement.Nonce != clNonce {
		t.Errorf("got agreement nonce %s before the ACK, want the old one", s.o.Agreement.Nonce)
	}
	s.step(AcceptOffer{At: clAt(time.Hour + 2*time.Minute)})
	if a := clSends(s.last)[0].Msg; a.Nonce != clNonce2 {
		t.Errorf("got ACCEPT nonce %s, want the offer's %s", a.Nonce, clNonce2)
	}
	s.step(clRecv(clAck(s.o, clCPDPtr(clOffered())), time.Hour+3*time.Minute))
	want := &Agreement{CPD: clOffered(), Nonce: clNonce2, Active: true, Since: clAt(time.Hour + 3*time.Minute)}
	if diff := cmp.Diff(want, s.o.Agreement); diff != "" {
		t.Errorf("agreement (-want +got):\n%s", diff)
	}
	if s.o.Update != nil || s.o.Request.ExpectedResponseTime == nil || !s.o.Request.ExpectedResponseTime.Equal(clAt(2*time.Hour)) {
		t.Errorf("got update %v request %+v, want the update folded into the request", s.o.Update, s.o.Request)
	}
}

// Reference: RFC 8921 §9.2.9, §11.1.3, DESIGN §3: an UPDATE cycle that fails
// leaves the previous agreement and nonce in force; the order returns to
// Completed (a §8.11.1 sub-state) with an "Update..." reason.
func TestClientUpdateFails(t *testing.T) {
	t.Parallel()
	type play func(s *clStepper)
	offer := func(s *clStepper) {
		s.step(clRecv(clOffer(s.o, clNonce2, clAt(3*time.Hour)), time.Hour+time.Minute))
	}
	retransmitAll := func(s *clStepper, from time.Time) {
		d := from
		for _, w := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
			d = d.Add(w)
			s.step(TimerFired{ID: TimerRetransmit, At: d})
		}
	}
	tests := map[string]struct {
		play       play
		wantReason string
		wantSent   []wire.Method // by the last step
		wantAlarm  bool
	}{
		"FAIL": {play: func(s *clStepper) {
			s.step(clRecv(clFail(s.o, wire.StatusOutOfResources), time.Hour+time.Second))
		}, wantReason: "UpdateFailed"},
		"FAIL after the ACCEPT": {play: func(s *clStepper) {
			offer(s)
			s.step(AcceptOffer{At: clAt(time.Hour + 2*time.Minute)})
			s.step(clRecv(clFail(s.o, wire.StatusAuthorizationFailed), time.Hour+3*time.Minute))
		}, wantReason: "UpdateFailed"},
		"declined": {play: func(s *clStepper) {
			offer(s)
			s.step(DeclineOffer{At: clAt(time.Hour + 2*time.Minute)})
		}, wantReason: "UpdateDeclined", wantSent: []wire.Method{wire.MethodDecline}},
		"cancelled": {play: func(s *clStepper) {
			s.step(CancelOrder{At: clAt(time.Hour + time.Second)})
		}, wantReason: "UpdateCancelled", wantSent: []wire.Method{wire.MethodCancel}},
		"offer expired": {play: func(s *clStepper) {
			offer(s)
			s.step(TimerFired{ID: TimerValidity, At: clAt(3 * time.Hour)})
		}, wantReason: "UpdateOfferExpired"},
		"response time expired": {play: func(s *clStepper) {
			s.step(clRecv(clProcessing(s.o, nil), time.Hour+time.Second))
			s.step(TimerFired{ID: TimerResponse, At: clAt(2 * time.Hour)})
		}, wantReason: "UpdateResponseTimeExpired", wantSent: []wire.Method{wire.MethodCancel}},
		"more time refused": {play: func(s *clStepper) {
			s.o.ExtensionLimit = clAtp(2 * time.Hour)
			s.step(clRecv(clProcessing(s.o, clAtp(4*time.Hour)), time.Hour+time.Second))
		}, wantReason: "UpdateMoreTimeRejected", wantSent: []wire.Method{wire.MethodFail}},
		"UPDATE unanswered": {play: func(s *clStepper) {
			retransmitAll(s, clAt(time.Hour))
		}, wantReason: "UpdateNoResponse"},
		"ACCEPT unanswered": {play: func(s *clStepper) {
			offer(s)
			s.step(AcceptOffer{At: clAt(time.Hour + 2*time.Minute)})
			retransmitAll(s, clAt(time.Hour+2*time.Minute))
		}, wantReason: "UpdateNoResponse", wantSent: []wire.Method{wire.MethodCancel}, wantAlarm: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := clFxUpdating(t)
			before := s.o.Agreement.clone()
			tc.play(s)
			if s.o.State != ClientCompleted {
				t.Fatalf("got state %s, want Completed; actions: %s", s.o.State, clDescribeActions(s.last))
			}
			tr := clTransitions(s.last)
			if len(tr) == 0 || !strings.HasSuffix(tr[len(tr)-1], "→Completed("+tc.wantReason+")") {
				t.Errorf("got transitions %v, want one to Completed with reason %s", tr, tc.wantReason)
			}
			if diff := cmp.Diff(before, s.o.Agreement); diff != "" {
				t.Errorf("agreement changed (-want +got):\n%s", diff)
			}
			if s.o.Update != nil || s.o.PendingExtension != nil {
				t.Errorf("got update %v pending %v, want both cleared", s.o.Update, s.o.PendingExtension)
			}
			var sent []wire.Method
			for _, m := range clSends(s.last) {
				sent = append(sent, m.Msg.Method)
			}
			if diff := cmp.Diff(tc.wantSent, sent); diff != "" {
				t.Errorf("sent (-want +got):\n%s", diff)
			}
			if got := len(clAlarms(s.last)) > 0; got != tc.wantAlarm {
				t.Errorf("got alarm %v, want %v", got, tc.wantAlarm)
			}
			for id := range s.o.Timers {
				if id != TimerRetransmit {
					t.Errorf("timer %s still armed", id)
				}
			}
			// The agreement can still be withdrawn with the old nonce.
			s.step(WithdrawOrder{At: clAt(5 * time.Hour), TransactionID: clTxnWd, Seq: 9})
			if w := clSends(s.last)[0].Msg; w.Nonce != clNonce {
				t.Errorf("got WITHDRAW nonce %s, want the old %s", w.Nonce, clNonce)
			}
		})
	}
}

// The CANCEL or DECLINE that ended an UPDATE cycle is acknowledged (or
// refused) while the order is Completed.
func TestClientUpdateClosingAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		answer     func(o ClientOrder) wire.Message
		wantReason string
	}{
		{"ACK", func(o ClientOrder) wire.Message { return clAck(o, clCPDPtr(clRequested())) }, "CancelAcknowledged"},
		{"FAIL", func(o ClientOrder) wire.Message { return clFail(o, wire.StatusMessageValidationError) }, "CancelRefused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := clFxUpdating(t)
			s.step(CancelOrder{At: clAt(time.Hour + time.Second)})
			s.step(clRecv(tc.answer(s.o), time.Hour+2*time.Second))
			want := []string{"Completed→Completed(" + tc.wantReason + ")"}
			if diff := cmp.Diff(want, clTransitions(s.last)); diff != "" {
				t.Errorf("transitions (-want +got):\n%s", diff)
			}
			if s.o.Txn.Unanswered != nil || len(s.o.Timers) != 0 {
				t.Errorf("got unanswered %v timers %v, want none", s.o.Txn.Unanswered, s.o.Timers)
			}
		})
	}
}

// Reference: RFC 8921 §9.2.11, DESIGN §3: ACTIVATE with a schedule at or
// before the ACK means now, "0" deactivates, a later schedule is recorded;
// FAIL 8 (Unsupported Activation Type) leaves the activation state as it was.
func TestClientActivate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		sched        wire.Schedule
		answer       func(o ClientOrder) wire.Message
		wantReason   string
		wantActive   bool
		wantSchedule *time.Time
		wantFailure  *Failure
	}{
		"now":        {sched: wire.Schedule{At: clAt(time.Hour)}, wantReason: "Activated", wantActive: true},
		"past":       {sched: wire.Schedule{At: clAt(0)}, wantReason: "Activated", wantActive: true},
		"deactivate": {sched: wire.Schedule{Deactivate: true}, wantReason: "Deactivated"},
		"later":      {sched: wire.Schedule{At: clAt(48 * time.Hour)}, wantReason: "ActivationScheduled", wantSchedule: clAtp(48 * time.Hour)},
		"FAIL 8": {sched: wire.Schedule{At: clAt(time.Hour)},
			answer:      func(o ClientOrder) wire.Message { return clFail(o, wire.StatusUnsupportedActivationType) },
			wantReason:  "ActivationFailed",
			wantFailure: &Failure{StatusCode: 8, Reason: "ActivationFailed", Txn: TxnActivate, At: clAt(time.Hour + time.Second)}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := clFxCompleted(t)
			s.o.Agreement.Active = false
			s.step(ActivateOrder{At: clAt(time.Hour), TransactionID: clTxnAct, Seq: 6000, Schedule: tc.sched})
			a := clSends(s.last)[0].Msg
			if a.Method != wire.MethodActivate || a.Nonce != clNonce || !cmp.Equal(*a.ActivationSchedule, tc.sched) {
				t.Fatalf("got %s, want ACTIVATE with the agreement's nonce and the schedule", clDescribeMsg(a))
			}
			answer := tc.answer
			if answer == nil {
				answer = func(o ClientOrder) wire.Message { return clAck(o, nil) }
			}
			s.step(clRecv(answer(s.o), time.Hour+time.Second))
			if diff := cmp.Diff([]string{"Completed→Completed(" + tc.wantReason + ")"}, clTransitions(s.last)); diff != "" {
				t.Errorf("transitions (-want +got):\n%s", diff)
			}
			if s.o.Agreement.Active != tc.wantActive || !cmp.Equal(s.o.Agreement.ScheduledAt, tc.wantSchedule) {
				t.Errorf("got active %v scheduled %v, want %v %v", s.o.Agreement.Active, s.o.Agreement.ScheduledAt, tc.wantActive, tc.wantSchedule)
			}
			if diff := cmp.Diff(tc.wantFailure, s.o.Failure); diff != "" {
				t.Errorf("failure (-want +got):\n%s", diff)
			}
			if s.o.Activation != nil || s.o.Txn.Unanswered != nil || len(s.o.Timers) != 0 {
				t.Errorf("ACTIVATE still pending: %+v", s.o)
			}
		})
	}
}

// Reference: RFC 8921 §11.4: an ACTIVATE unanswered through every retry is
// abandoned; the activation state is unchanged.
func TestClientActivateUnanswered(t *testing.T) {
	t.Parallel()
	s := clFxCompleted(t)
	s.step(ActivateOrder{At: clAt(time.Hour), TransactionID: clTxnAct, Seq: 6000, Schedule: wire.Schedule{Deactivate: true}})
	d := clAt(time.Hour)
	for _, w := range []time.Duration{1, 2, 4, 8} {
		d = d.Add(w * time.Second)
		s.step(TimerFired{ID: TimerRetransmit, At: d})
	}
	if diff := cmp.Diff([]string{"Completed→Completed(ActivationNoResponse)"}, clTransitions(s.last)); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	if !s.o.Agreement.Active || s.o.Activation != nil || s.o.Failure == nil || s.o.Failure.Reason != "ActivationNoResponse" {
		t.Errorf("got agreement %+v activation %v failure %+v", s.o.Agreement, s.o.Activation, s.o.Failure)
	}
}

// Reference: RFC 8921 §9.1.10.3, §9.2.1, §9.2.3, DESIGN §3: the activation
// state of a new agreement follows the negotiated activation type and the
// offer's ACTIVATION_SCHEDULE.
func TestClientInitialActivation(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		requested     wire.ActivationType
		offered       wire.ActivationType
		schedule      *wire.Schedule
		wantType      wire.ActivationType
		wantActive    bool
		wantScheduled *time.Time
	}{
		"default is immediate":            {wantActive: true},
		"immediate":                       {requested: wire.ActivationImmediate, wantType: wire.ActivationImmediate, wantActive: true},
		"explicit waits for ACTIVATE":     {requested: wire.ActivationExplicit, wantType: wire.ActivationExplicit},
		"offer overrides the request":     {requested: wire.ActivationImmediate, offered: wire.ActivationExplicit, wantType: wire.ActivationExplicit},
		"scheduled in the future":         {requested: wire.ActivationScheduled, schedule: &wire.Schedule{At: clAt(24 * time.Hour)}, wantType: wire.ActivationScheduled, wantScheduled: clAtp(24 * time.Hour)},
		"scheduled already reached":       {requested: wire.ActivationScheduled, schedule: &wire.Schedule{At: clAt(2 * time.Second)}, wantType: wire.ActivationScheduled, wantActive: true},
		"scheduled without a schedule":    {requested: wire.ActivationScheduled, wantType: wire.ActivationScheduled, wantActive: true},
		"explicit ignores the schedule":   {requested: wire.ActivationExplicit, schedule: &wire.Schedule{At: clAt(24 * time.Hour)}, wantType: wire.ActivationExplicit},
		"deactivating schedule is active": {schedule: &wire.Schedule{Deactivate: true}, wantActive: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := clRequest()
			if tc.requested != "" {
				req.InformationElements.NegotiationOptions = &wire.NegotiationOptions{ActivationType: tc.requested}
			}
			s := newClStepper(t, NewClientOrder(clCustomerID, req, true))
			s.step(Quote{At: clAt(0), TransactionID: clTxnQuote, Seq: 1})
			offer := clOffer(s.o, clNonce, clAt(time.Hour))
			offer.ActivationSchedule = tc.schedule
			if tc.offered != "" {
				offer.InformationElements.NegotiationOptions = &wire.NegotiationOptions{ActivationType: tc.offered}
			}
			s.step(clRecv(offer, time.Second))
			s.step(AcceptOffer{At: clAt(2 * time.Second)})
			s.step(clRecv(clAck(s.o, clCPDPtr(clOffered())), 3*time.Second))
			ag := s.o.Agreement
			if ag == nil {
				t.Fatalf("no agreement; actions %s", clDescribeActions(s.last))
			}
			if ag.ActivationType != tc.wantType || ag.Active != tc.wantActive || !cmp.Equal(ag.ScheduledAt, tc.wantScheduled) {
				t.Errorf("got type %q active %v scheduled %v, want %q %v %v", ag.ActivationType, ag.Active, ag.ScheduledAt, tc.wantType, tc.wantActive, tc.wantScheduled)
			}
		})
	}
}

// Reference: DESIGN §3: "activation_schedule at or before now means
// immediately".
func TestAgreementActiveAt(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		a    Agreement
		at   time.Time
		want bool
	}{
		"active":             {a: Agreement{Active: true}, at: clT0, want: true},
		"inactive":           {a: Agreement{}, at: clT0},
		"before schedule":    {a: Agreement{ScheduledAt: clAtp(time.Hour)}, at: clAt(time.Minute)},
		"at schedule":        {a: Agreement{ScheduledAt: clAtp(time.Hour)}, at: clAt(time.Hour), want: true},
		"after the schedule": {a: Agreement{ScheduledAt: clAtp(time.Hour)}, at: clAt(2 * time.Hour), want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tc.a.ActiveAt(tc.at); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Reference: RFC 8921 §11.1.2: a WITHDRAW refused with FAIL ends the
// withdrawal with an Alarm (the server may still hold the agreement); no
// further cycle is scheduled.
func TestClientWithdrawRefused(t *testing.T) {
	t.Parallel()
	s := clFxWithdrawing(t)
	s.step(clRecv(clFail(s.o, wire.StatusAuthorizationFailed), time.Hour+time.Second/2))
	if diff := cmp.Diff([]string{"Cancelled→Cancelled(WithdrawFailed)"}, clTransitions(s.last)); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	if len(clAlarms(s.last)) != 1 || s.o.WithdrawAcked || !s.o.Terminal() {
		t.Errorf("got alarms %v acked %v terminal %v, want one alarm, not acked, terminal", clAlarms(s.last), s.o.WithdrawAcked, s.o.Terminal())
	}
	if s.o.Failure == nil || s.o.Failure.StatusCode != wire.StatusAuthorizationFailed {
		t.Errorf("got failure %+v, want status 3", s.o.Failure)
	}
}

// Reference: RFC 8921 §9.2.8, Table 5: the ACK of a WITHDRAW carries the
// Empty CPD; the order is then terminal and WithdrawAcked lets the operator
// release its finalizer.
func TestClientWithdrawAcknowledged(t *testing.T) {
	t.Parallel()
	s := clFxWithdrawing(t)
	s.step(clRecv(clAck(s.o, clCPDPtr(cpd.Empty())), time.Hour+time.Second/2))
	if !s.o.WithdrawAcked || !s.o.Terminal() {
		t.Errorf("got acked %v terminal %v, want both true", s.o.WithdrawAcked, s.o.Terminal())
	}
	// A late duplicate of that ACK is discarded (it needed no answer).
	s.step(clRecv(clAck(s.o, clCPDPtr(cpd.Empty())).Reply(wire.MethodAck, s.o.Txn.Counters.In), time.Hour+time.Second))
	if _, ok := clDiscarded(s.last); !ok {
		t.Errorf("got %s, want a Discard", clDescribeActions(s.last))
	}
}

// Reference: RFC 8921 §11.4: a PROCESSING in Cancelled answers only a
// WITHDRAW (Fig. 14), not a CANCEL.
func TestClientProcessingAfterCancel(t *testing.T) {
	t.Parallel()
	s := clFxServerProcessing(t)
	s.step(CancelOrder{At: clAt(time.Minute)})
	s.step(clRecv(clProcessing(s.o, nil), time.Minute+time.Second))
	if r, ok := clDiscarded(s.last); !ok || !strings.Contains(r, "WITHDRAW") {
		t.Errorf("got %s, want a Discard naming the WITHDRAW", clDescribeActions(s.last))
	}
}

// Reference: RFC 8921 §11.1.1, §11.4: an ACCEPT unanswered through every
// retry leaves the agreement unknown: the client sends CANCEL, raises an
// Alarm and ends the negotiation (NoResponse); a FAIL answering that CANCEL
// (the server completed the agreement) raises a second Alarm.
func TestClientAcceptUnanswered(t *testing.T) {
	t.Parallel()
	s := clFxAcceptSent(t)
	d := clAt(2 * time.Minute)
	for _, w := range []time.Duration{1, 2, 4, 8} {
		d = d.Add(w * time.Second)
		s.step(TimerFired{ID: TimerRetransmit, At: d})
	}
	if s.o.State != ClientCancelled || s.o.Failure == nil || s.o.Failure.Reason != "NoResponse" {
		t.Fatalf("got %s failure %+v, want Cancelled NoResponse", s.o.State, s.o.Failure)
	}
	if sent := clSends(s.last); len(sent) != 1 || sent[0].Msg.Method != wire.MethodCancel || sent[0].Msg.Seq != clClientSeq+3 {
		t.Errorf("got %s, want a CANCEL with the next sequence number", clDescribeActions(s.last))
	}
	if len(clAlarms(s.last)) != 1 {
		t.Errorf("got alarms %v, want one", clAlarms(s.last))
	}
	s.step(clRecv(clFail(s.o, wire.StatusMessageValidationError), 3*time.Minute))
	if diff := cmp.Diff([]string{"Cancelled→Cancelled(CancelRefused)"}, clTransitions(s.last)); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	if len(clAlarms(s.last)) != 1 || !s.o.Terminal() {
		t.Errorf("got alarms %v terminal %v, want one alarm and terminal", clAlarms(s.last), s.o.Terminal())
	}
}

// Reference: RFC 8921 §11.4: a DECLINE or CANCEL unanswered through every
// retry is abandoned (NoAcknowledgement) and the order becomes terminal.
func TestClientDeclineUnanswered(t *testing.T) {
	t.Parallel()
	s := clFxOfferProcessing(t)
	s.step(DeclineOffer{At: clAt(2 * time.Minute)})
	d := clAt(2 * time.Minute)
	for _, w := range []time.Duration{1, 2, 4, 8} {
		d = d.Add(w * time.Second)
		s.step(TimerFired{ID: TimerRetransmit, At: d})
	}
	if diff := cmp.Diff([]string{"Cancelled→Cancelled(NoAcknowledgement)"}, clTransitions(s.last)); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	if !s.o.Terminal() || len(clSends(s.last)) != 0 {
		t.Errorf("got terminal %v sends %d, want terminal and none", s.o.Terminal(), len(clSends(s.last)))
	}
}

// giveUp of a method that is never a pending request (defensive default).
func TestClientGiveUpDefault(t *testing.T) {
	t.Parallel()
	o := clFxServerProcessing(t).o
	o.State = ClientCancelled
	o.Txn.Unanswered = &wire.Message{Method: wire.MethodProcessing}
	o.Txn.Retries = 3
	o.Timers = map[TimerID]time.Time{TimerRetransmit: clAt(time.Minute)}
	next, acts := DefaultClient().Step(o, TimerFired{ID: TimerRetransmit, At: clAt(time.Minute)})
	if next.Txn.Unanswered != nil || !next.Terminal() {
		t.Errorf("got %s, want the request abandoned", clDescribeActions(acts))
	}
}
