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
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Reference: RFC 8921 §11.1.2 (withdrawal cycles no more often than every
// 300 s), §11.4 (RETRANS_TIMER), DESIGN §3 defaults.
func TestClientValidate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		m       Client
		wantErr string
	}{
		"default":           {m: DefaultClient()},
		"zero":              {m: Client{}},
		"interval 300s":     {m: Client{WithdrawRetryInterval: 300 * time.Second}},
		"interval too low":  {m: Client{WithdrawRetryInterval: 60 * time.Second}, wantErr: "withdrawRetryInterval 1m0s: must be at least 5m0s"},
		"bad retransmit":    {m: Client{Retransmit: session.Retransmit{Timer: -1, Backoff: 2}}, wantErr: "retransmit.timer"},
		"both bad together": {m: Client{Retransmit: session.Retransmit{Backoff: 0.5, Timer: time.Second}, WithdrawRetryInterval: time.Second}, wantErr: "withdrawRetryInterval"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.m.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("got error %v, want it to match ErrInvalidConfig", err)
			}
		})
	}
	var ce *ConfigError
	if err := (Client{WithdrawRetryInterval: time.Minute}).Validate(); !errors.As(err, &ce) || ce.Field != "withdrawRetryInterval" {
		t.Errorf("got %v, want a *ConfigError for withdrawRetryInterval", err)
	}
	if err := (Client{Retransmit: session.Retransmit{Backoff: 2}}).Validate(); !errors.Is(err, session.ErrInvalidConfig) {
		t.Errorf("got %v, want it to match session.ErrInvalidConfig", err)
	}
}

// The zero Client behaves as DefaultClient, and a WithdrawRetryInterval below
// 300 s (Validate not called) is raised to 300 s (§11.1.2 "must not").
func TestClientDefaults(t *testing.T) {
	t.Parallel()
	if got := (Client{}).schedule(); got != session.DefaultRetransmit() {
		t.Errorf("got schedule %+v, want the default", got)
	}
	custom := session.Retransmit{Timer: 2 * time.Second, Backoff: 1, MaxRetries: 5}
	if got := (Client{Retransmit: custom}).schedule(); got != custom {
		t.Errorf("got schedule %+v, want %+v", got, custom)
	}
	for _, d := range []time.Duration{0, time.Second, 299 * time.Second} {
		if got := (Client{WithdrawRetryInterval: d}).withdrawInterval(); got != MinWithdrawRetryInterval {
			t.Errorf("interval %s: got %s, want %s", d, got, MinWithdrawRetryInterval)
		}
	}
	if got := (Client{WithdrawRetryInterval: time.Hour}).withdrawInterval(); got != time.Hour {
		t.Errorf("got %s, want 1h", got)
	}
}

// Reference: RFC 8921 §8.11.1 (Created until approved; DESIGN §5: approval
// gate off by default).
func TestNewClientOrder(t *testing.T) {
	t.Parallel()
	req := clRequest()
	o := NewClientOrder(clCustomerID, req, false)
	if o.State != ClientCreated || o.CustomerOrderID != clCustomerID {
		t.Errorf("got %s %q, want Created %q", o.State, o.CustomerOrderID, clCustomerID)
	}
	if got := NewClientOrder(clCustomerID, req, true).State; got != ClientAwaitingProcessing {
		t.Errorf("got %s, want AwaitingProcessing", got)
	}
	req.InformationElements.CustomerDescription.Name = "changed"
	if o.Request.InformationElements.CustomerDescription.Name != "ACME Corp" {
		t.Errorf("the order shares the caller's request")
	}
}

func TestClientOrderTerminal(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		o    ClientOrder
		want bool
	}{
		"created":            {o: ClientOrder{State: ClientCreated}},
		"completed":          {o: ClientOrder{State: ClientCompleted}},
		"cancelled idle":     {o: ClientOrder{State: ClientCancelled}, want: true},
		"cancelled pending":  {o: ClientOrder{State: ClientCancelled, Txn: Transaction{Unanswered: &wire.Message{}}}},
		"cancelled timer":    {o: ClientOrder{State: ClientCancelled, Timers: map[TimerID]time.Time{TimerWithdrawCycle: clT0}}},
		"cancelled answered": {o: ClientOrder{State: ClientCancelled, Txn: Transaction{LastAnswer: &wire.Message{}}}, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tc.o.Terminal(); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClientOrderNextDeadline(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		timers map[TimerID]time.Time
		wantID TimerID
		wantAt time.Time
		wantOK bool
	}{
		"none": {},
		"one":  {timers: map[TimerID]time.Time{TimerOffer: clAt(time.Hour)}, wantID: TimerOffer, wantAt: clAt(time.Hour), wantOK: true},
		"earliest": {
			timers: map[TimerID]time.Time{TimerResponse: clAt(time.Hour), TimerRetransmit: clAt(time.Second), TimerOffer: clAt(time.Minute)},
			wantID: TimerRetransmit, wantAt: clAt(time.Second), wantOK: true,
		},
		"tie goes to the first ID": {
			timers: map[TimerID]time.Time{TimerValidity: clAt(time.Second), TimerOffer: clAt(time.Second)},
			wantID: TimerOffer, wantAt: clAt(time.Second), wantOK: true,
		},
		"three-way tie goes to the first ID, whatever the map order": {
			timers: map[TimerID]time.Time{
				TimerRetransmit: clAt(time.Second), TimerValidity: clAt(time.Second), TimerOffer: clAt(time.Second),
				TimerResponse: clAt(time.Hour), TimerWithdrawCycle: clAt(time.Second),
			},
			wantID: TimerOffer, wantAt: clAt(time.Second), wantOK: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			id, when, ok := ClientOrder{Timers: tc.timers}.NextDeadline()
			if id != tc.wantID || !when.Equal(tc.wantAt) || ok != tc.wantOK {
				t.Errorf("got (%s, %s, %v), want (%s, %s, %v)", id, when, ok, tc.wantID, tc.wantAt, tc.wantOK)
			}
		})
	}
}

// Clone shares no memory with the original: changing every pointer, slice
// and map of the copy leaves the original as it was.
func TestClientOrderClone(t *testing.T) {
	t.Parallel()
	s := clFxOfferProcessing(t)
	s.o.ExtensionLimit = clAtp(time.Hour)
	s.o.PendingExtension = clAtp(time.Hour)
	s.o.Update = &Request{CPD: clRequested(), ExpectedResponseTime: clAtp(time.Hour)}
	s.o.Agreement = &Agreement{CPD: clOffered(), ScheduledAt: clAtp(time.Hour)}
	s.o.Activation = &wire.Schedule{At: clAt(time.Hour)}
	s.o.Failure = &Failure{Reason: "x"}
	s.o.Request.InformationElements.CustomerDescription.Contact = &wire.Contact{TelephoneNumbers: []string{"+33"}}
	s.o.Request.InformationElements.NegotiationOptions = &wire.NegotiationOptions{Purpose: wire.PurposeTest}
	s.o.Offer.InformationElements.ProviderDescription.Contact = &wire.Contact{Email: "noc@enp.example"}
	s.o.Offer.ActivationSchedule = &wire.Schedule{At: clAt(time.Hour)}
	s.o.Txn.Unanswered = &wire.Message{Reasons: []wire.Reason{1}, ExpectedOfferTime: clAtp(1), ValidityOfferTime: clAtp(1),
		ExpectedResponseTime: clAtp(1), RequestedCPD: clCPDPtr(clRequested()), OfferedCPD: clCPDPtr(clOffered()),
		AcceptedCPD: clCPDPtr(clOffered()), CPD: clCPDPtr(clOffered()), ActivationSchedule: &wire.Schedule{},
		InformationElements: &wire.InformationElements{NegotiationOptions: &wire.NegotiationOptions{}}}
	orig := s.o
	want, err := json.Marshal(orig)
	if err != nil {
		t.Fatal(err)
	}
	c := orig.Clone()
	if diff := cmp.Diff(orig, c); diff != "" {
		t.Fatalf("clone differs (-orig +clone):\n%s", diff)
	}
	// Change everything reachable from the clone.
	c.Timers[TimerOffer] = clT0
	*c.ExtensionLimit, *c.PendingExtension = clT0, clT0
	*c.Update.ExpectedResponseTime = clT0
	c.Update.CPD.Components[0].CustomerNodes[0].Identifier = "x"
	c.Request.CPD.Components[0].CustomerNodes[0].Identifier = "x"
	*c.Request.ExpectedResponseTime = clT0
	c.Request.InformationElements.CustomerDescription.Contact.TelephoneNumbers[0] = "x"
	c.Request.InformationElements.NegotiationOptions.Purpose = "x"
	c.Offer.CPD.Components[0].CustomerNodes[0].Identifier = "x"
	c.Offer.InformationElements.ProviderDescription.Contact.Email = "x"
	c.Offer.ActivationSchedule.Deactivate = true
	c.Offer.Nonce = "x"
	c.Agreement.CPD.Components[0].CustomerNodes[0].Identifier = "x"
	*c.Agreement.ScheduledAt = clT0
	c.Activation.Deactivate = true
	c.Failure.Reason = "y"
	u := c.Txn.Unanswered
	u.Reasons[0] = 3
	*u.ExpectedOfferTime, *u.ValidityOfferTime, *u.ExpectedResponseTime = clT0, clT0, clT0
	for _, p := range []*cpd.CPD{u.RequestedCPD, u.OfferedCPD, u.AcceptedCPD, u.CPD} {
		p.Components[0].CustomerNodes[0].Identifier = "x"
	}
	u.ActivationSchedule.Deactivate = true
	u.InformationElements.NegotiationOptions.Scope = "x"
	c.Txn.LastAnswer.Seq = 1
	got, _ := json.Marshal(orig)
	if string(got) != string(want) {
		t.Errorf("changing the clone changed the original:\nbefore %s\nafter  %s", want, got)
	}
}

// Every fixture round-trips through JSON (the operator stores the order in
// status, cpnpctl in bbolt).
func TestClientOrderJSON(t *testing.T) {
	t.Parallel()
	for state, f := range clFixtures(t) {
		b, err := json.Marshal(f.o)
		if err != nil {
			t.Fatalf("%s: marshal: %v", state, err)
		}
		var back ClientOrder
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: unmarshal: %v", state, err)
		}
		if diff := cmp.Diff(f.o, back); diff != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", state, diff)
		}
	}
	b, _ := json.Marshal(clFxPQOSent(t).o)
	for _, key := range []string{`"state":"PQOSent"`, `"customerOrderID":"acme-wan-0001"`, `"txn":{`, `"timers":{`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
}

func TestClientStepForeignEvents(t *testing.T) {
	t.Parallel()
	o := clFxPQOSent(t).o
	type other struct{ TimerFired }
	tests := map[string]struct {
		ev   Event
		want string
	}{
		"nil":     {ev: nil, want: "nil event"},
		"foreign": {ev: other{TimerFired{At: clT0}}, want: "is not a client event"},
		"pointer": {ev: &TimerFired{ID: TimerRetransmit, At: clAt(time.Second)}, want: "is not a client event"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			next, acts := DefaultClient().Step(o, tc.ev)
			reason, ok := clDiscarded(acts)
			if !ok || !strings.Contains(reason, tc.want) {
				t.Errorf("got %s, want a Discard containing %q", clDescribeActions(acts), tc.want)
			}
			if diff := cmp.Diff(o, next); diff != "" {
				t.Errorf("order changed (-want +got):\n%s", diff)
			}
		})
	}
}

// Reference: RFC 8921 §10.1 Table 5, §11.1.1, §11.3, §13: messages that fail
// the client's checks are silently discarded, whatever their content.
func TestClientDiscardsInvalidMessages(t *testing.T) {
	t.Parallel()
	type build func(o ClientOrder) wire.Message
	tests := map[string]struct {
		fixture func(*testing.T) *clStepper
		msg     build
		want    string
	}{
		"client-only method": {clFxPQOSent, func(o ClientOrder) wire.Message { return clSrv(o, wire.MethodAccept, clServerSeq) }, "sent by clients only"},
		"unknown method":     {clFxPQOSent, func(o ClientOrder) wire.Message { return clSrv(o, wire.Method(12), clServerSeq) }, "unknown method"},
		"other customer order": {clFxPQOSent, func(o ClientOrder) wire.Message {
			m := clProcessing(o, nil)
			m.CustomerOrderID = "someone-else"
			return m
		}, "customer order identifier"},
		"no transaction yet": {clFxApproved, func(o ClientOrder) wire.Message { return clProcessing(o, nil) }, "no transaction"},
		"other transaction": {clFxPQOSent, func(o ClientOrder) wire.Message {
			m := clProcessing(o, nil)
			m.TransactionID = clTxnUpdate
			return m
		}, "transaction ID"},
		"stale sequence number": {clFxServerProcessing, func(o ClientOrder) wire.Message {
			return clOffer(o, clNonce, clAt(time.Hour)).Reply(wire.MethodOffer, clServerSeq-1)
		}, "lower than the last accepted"},
		"repeat needing no answer": {clFxServerProcessing, func(o ClientOrder) wire.Message {
			m := clProcessing(o, nil)
			m.Seq = o.Txn.Counters.In
			return m
		}, "needed no answer"},
		"repeat with another method": {clFxOfferProcessing, func(o ClientOrder) wire.Message {
			m := clFail(o, wire.StatusOutOfResources)
			m.Seq = o.Txn.Counters.In
			return m
		}, "needed no answer"},
		"provider ID missing": {clFxPQOSent, func(o ClientOrder) wire.Message {
			m := clProcessing(o, nil)
			m.ProviderOrderID = ""
			return m
		}, "no provider order identifier"},
		"provider ID equals customer ID": {clFxPQOSent, func(o ClientOrder) wire.Message {
			m := clProcessing(o, nil)
			m.ProviderOrderID = clCustomerID
			return m
		}, "§13"},
		"OFFER with another provider ID than the PROCESSING": {clFxServerProcessing, func(o ClientOrder) wire.Message {
			m := clOffer(o, clNonce, clAt(time.Hour))
			m.ProviderOrderID = "ENP-other"
			return m
		}, "§11.1.1"},
		"OFFER without CPD": {clFxServerProcessing, func(o ClientOrder) wire.Message {
			m := clOffer(o, clNonce, clAt(time.Hour))
			m.OfferedCPD = nil
			return m
		}, "no offered CPD"},
		"OFFER without validity": {clFxServerProcessing, func(o ClientOrder) wire.Message {
			m := clOffer(o, clNonce, clAt(time.Hour))
			m.ValidityOfferTime = nil
			return m
		}, "no validity"},
		"OFFER without nonce": {clFxServerProcessing, func(o ClientOrder) wire.Message { return clOffer(o, "", clAt(time.Hour)) }, "no nonce"},
		"OFFER after the offer": {clFxOfferProcessing, func(o ClientOrder) wire.Message {
			return clOffer(o, clNonce2, clAt(time.Hour))
		}, "not expected in state OfferProcessing"},
		"ACK with another CPD": {clFxAcceptSent, func(o ClientOrder) wire.Message {
			return clAck(o, clCPDPtr(clRequested()))
		}, "offered CPD"},
		"ACK without CPD": {clFxAcceptSent, func(o ClientOrder) wire.Message { return clAck(o, nil) }, "offered CPD"},
		"ACK with another provider ID": {clFxAcceptSent, func(o ClientOrder) wire.Message {
			m := clAck(o, clCPDPtr(clOffered()))
			m.ProviderOrderID = "ENP-other"
			return m
		}, "provider order identifier does not match"},
		"ACK to WITHDRAW with a CPD": {clFxWithdrawing, func(o ClientOrder) wire.Message {
			return clAck(o, clCPDPtr(clOffered()))
		}, "Empty CPD"},
		"ACK to WITHDRAW without CPD": {clFxWithdrawing, func(o ClientOrder) wire.Message { return clAck(o, nil) }, "Empty CPD"},
		"ACK to WITHDRAW with another provider ID": {clFxWithdrawing, func(o ClientOrder) wire.Message {
			m := clAck(o, clCPDPtr(cpd.Empty()))
			m.ProviderOrderID = "ENP-other"
			return m
		}, "provider order identifier does not match"},
		"ACK in PQOSent": {clFxPQOSent, func(o ClientOrder) wire.Message { return clAck(o, nil) }, "not expected in state PQOSent"},
		"FAIL with another provider ID": {clFxServerProcessing, func(o ClientOrder) wire.Message {
			m := clFail(o, wire.StatusOutOfResources)
			m.ProviderOrderID = "ENP-other"
			return m
		}, "provider order identifier does not match"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := tc.fixture(t)
			before := s.o.Clone()
			s.step(MsgReceived{Msg: tc.msg(s.o), At: clAt(time.Hour + time.Second)})
			reason, ok := clDiscarded(s.last)
			if !ok || !strings.Contains(reason, tc.want) {
				t.Fatalf("got %s, want a Discard containing %q", clDescribeActions(s.last), tc.want)
			}
			if diff := cmp.Diff(before, s.o); diff != "" {
				t.Errorf("order changed (-want +got):\n%s", diff)
			}
		})
	}
}

// Reference: RFC 8921 §11.3: an incoming message whose sequence number is
// larger than the last accepted one replaces it; §11.4: the repeat of the
// last handled message is answered with the same answer, marked as a
// retransmission (the shell rate-limits it).
func TestClientRepeatedOfferIsReanswered(t *testing.T) {
	t.Parallel()
	s := clFxServerProcessing(t)
	offer := clOffer(s.o, clNonce, clAt(2*time.Hour))
	s.step(MsgReceived{Msg: offer, At: clAt(time.Minute)})
	first := clSends(s.last)[0].Msg
	if s.o.Txn.Counters.In != offer.Seq {
		t.Fatalf("got incoming counter %d, want %d", s.o.Txn.Counters.In, offer.Seq)
	}
	before := s.o.Clone()
	for _, d := range []time.Duration{time.Minute + time.Second, 3 * time.Minute} {
		s.step(MsgReceived{Msg: offer, At: clAt(d)})
		want := []Action{Send{Msg: first, Retransmission: true}}
		if diff := cmp.Diff(want, s.last); diff != "" {
			t.Errorf("repeat at %s (-want +got):\n%s", d, diff)
		}
	}
	if diff := cmp.Diff(before, s.o); diff != "" {
		t.Errorf("a repeat changed the order (-want +got):\n%s", diff)
	}
}

// Reference: RFC 8921 §11.1.1, §11.4: RETRANS_TIMER 1 s doubling, 3 retries
// (DESIGN §3), the same sequence number each time; then the QUOTATION is
// abandoned without a CANCEL (the server never answered).
func TestClientQuotationRetransmission(t *testing.T) {
	t.Parallel()
	s := clFxPQOSent(t)
	q := *s.o.Txn.Unanswered
	deadline := clAt(time.Second)
	for i, wait := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		s.step(TimerFired{ID: TimerRetransmit, At: deadline})
		sent := clSends(s.last)
		if len(sent) != 1 || !sent[0].Retransmission || !cmp.Equal(sent[0].Msg, q) {
			t.Fatalf("retransmission %d: got %s, want the QUOTATION again", i+1, clDescribeActions(s.last))
		}
		deadline = deadline.Add(wait)
		if got := s.o.Timers[TimerRetransmit]; !got.Equal(deadline) {
			t.Errorf("retransmission %d: got next deadline %s, want %s", i+1, got, deadline)
		}
	}
	s.step(TimerFired{ID: TimerRetransmit, At: deadline})
	if s.o.State != ClientCancelled || len(clSends(s.last)) != 0 {
		t.Errorf("got state %s and %d sends, want Cancelled and none", s.o.State, len(clSends(s.last)))
	}
	if s.o.Failure == nil || s.o.Failure.Reason != "NoResponse" || !s.o.Terminal() {
		t.Errorf("got failure %+v terminal %v, want NoResponse and terminal", s.o.Failure, s.o.Terminal())
	}
}

// A timer that is not armed, or that fires before its deadline (a stale
// timer of the shell), is discarded.
func TestClientStaleTimers(t *testing.T) {
	t.Parallel()
	s := clFxPQOSent(t)
	s.step(TimerFired{ID: TimerRetransmit, At: clAt(time.Second / 2)})
	if r, ok := clDiscarded(s.last); !ok || !strings.Contains(r, "before its deadline") {
		t.Errorf("early timer: got %s", clDescribeActions(s.last))
	}
	s.step(TimerFired{ID: TimerValidity, At: clAt(time.Hour)})
	if r, ok := clDiscarded(s.last); !ok || !strings.Contains(r, "not armed") {
		t.Errorf("unarmed timer: got %s", clDescribeActions(s.last))
	}
}

// Reference: RFC 8921 §8.5: "If the timer [EXPECTED_RESPONSE_TIME] expires,
// the respective PQO is cancelled by the client, and a CANCEL message is
// generated accordingly."
func TestClientResponseTimeExpires(t *testing.T) {
	t.Parallel()
	s := clFxPQOSent(t)
	s.step(clRecv(clProcessing(s.o, nil), time.Second/2))
	s.step(TimerFired{ID: TimerResponse, At: clAt(time.Hour)})
	if diff := cmp.Diff([]string{"ServerProcessing→Cancelled(ResponseTimeExpired)"}, clTransitions(s.last)); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	if sent := clSends(s.last); len(sent) != 1 || sent[0].Msg.Method != wire.MethodCancel {
		t.Errorf("got %s, want a CANCEL", clDescribeActions(s.last))
	}
	// The server acknowledges the CANCEL (§9.2.7): the order becomes terminal.
	s.step(clRecv(clAck(s.o, clCPDPtr(clRequested())), time.Hour+time.Second/2))
	if diff := cmp.Diff([]string{"Cancelled→Cancelled(CancelAcknowledged)"}, clTransitions(s.last)); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	if !s.o.Terminal() {
		t.Errorf("got Terminal() false after the CANCEL's ACK, want true")
	}
}

// Reference: RFC 8921 §8.5, §11.1.1: "If no offer is made before the timer
// [EXPECTED_OFFER_TIME] expires, the client changes the state of the order
// to Cancelled"; the client also sends CANCEL so that the server releases
// what it holds.
func TestClientOfferTimeExpires(t *testing.T) {
	t.Parallel()
	s := clFxServerProcessing(t)
	s.step(TimerFired{ID: TimerOffer, At: clAt(30 * time.Minute)})
	if diff := cmp.Diff([]string{"ServerProcessing→Cancelled(OfferTimeExpired)"}, clTransitions(s.last)); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	if sent := clSends(s.last); len(sent) != 1 || sent[0].Msg.Method != wire.MethodCancel {
		t.Errorf("got %s, want a CANCEL", clDescribeActions(s.last))
	}
}

// Reference: RFC 8921 §9.1.8: the server silently drops an offer that is not
// accepted in time, so the client sends nothing when VALIDITY_OFFER_TIME
// passes; §9.2.4: an ACCEPT "should not be sent after the validity time".
func TestClientOfferExpires(t *testing.T) {
	t.Parallel()
	t.Run("timer", func(t *testing.T) {
		t.Parallel()
		s := clFxOfferProcessing(t)
		s.step(TimerFired{ID: TimerValidity, At: clAt(2 * time.Hour)})
		if diff := cmp.Diff([]string{"OfferProcessing→Cancelled(OfferExpired)"}, clTransitions(s.last)); diff != "" {
			t.Errorf("transitions (-want +got):\n%s", diff)
		}
		if len(clSends(s.last)) != 0 || !s.o.Terminal() {
			t.Errorf("got %s, want no message and a terminal order", clDescribeActions(s.last))
		}
	})
	t.Run("accept after validity", func(t *testing.T) {
		t.Parallel()
		s := clFxOfferProcessing(t)
		s.step(AcceptOffer{At: clAt(2 * time.Hour)})
		if len(clSends(s.last)) != 0 || s.o.State != ClientCancelled || s.o.Failure.Reason != "OfferExpired" {
			t.Errorf("got %s, want Cancelled (OfferExpired) and no ACCEPT", clDescribeActions(s.last))
		}
	})
	t.Run("offer already expired on arrival", func(t *testing.T) {
		t.Parallel()
		s := clFxServerProcessing(t)
		s.step(clRecv(clOffer(s.o, clNonce, clAt(time.Minute)), time.Minute))
		want := []string{"ServerProcessing→OfferReceived(OfferReceived)", "OfferReceived→Cancelled(OfferExpired)"}
		if diff := cmp.Diff(want, clTransitions(s.last)); diff != "" {
			t.Errorf("transitions (-want +got):\n%s", diff)
		}
		if len(clSends(s.last)) != 0 {
			t.Errorf("got %s, want no PROCESSING", clDescribeActions(s.last))
		}
	})
}

// Reference: RFC 8921 §11.1.1: no point in sending a QUOTATION whose
// EXPECTED_RESPONSE_TIME already passed.
func TestClientQuoteAfterResponseTime(t *testing.T) {
	t.Parallel()
	s := clFxApproved(t)
	s.step(Quote{At: clAt(time.Hour), TransactionID: clTxnQuote, Seq: 1})
	if s.o.State != ClientCancelled || len(clSends(s.last)) != 0 {
		t.Errorf("got %s, want Cancelled and no QUOTATION", clDescribeActions(s.last))
	}
}

// Reference: RFC 8921 §11.1.1: "the client should either not include the
// EXPECTED_RESPONSE_TIME attribute in the PQO or it should set the attribute
// to infinite": without one, any EXPECTED_OFFER_TIME is accepted.
func TestClientWithoutResponseTime(t *testing.T) {
	t.Parallel()
	req := clRequest()
	req.ExpectedResponseTime = nil
	s := newClStepper(t, NewClientOrder(clCustomerID, req, true))
	s.step(Quote{At: clAt(0), TransactionID: clTxnQuote, Seq: 1})
	if q := clSends(s.last)[0].Msg; q.ExpectedResponseTime != nil {
		t.Errorf("got QUOTATION with expected_response_time, want none")
	}
	if _, ok := s.o.Timers[TimerResponse]; ok {
		t.Errorf("response timer armed without EXPECTED_RESPONSE_TIME")
	}
	s.step(clRecv(clProcessing(s.o, clAtp(48*time.Hour)), time.Second/2))
	if len(clSends(s.last)) != 0 || s.o.ExpectedOfferTime == nil || !s.o.ExpectedOfferTime.Equal(clAt(48*time.Hour)) {
		t.Errorf("got %s, want the EXPECTED_OFFER_TIME accepted silently", clDescribeActions(s.last))
	}
}

// Commands whose fields cannot produce a valid message are discarded.
func TestClientInvalidCommands(t *testing.T) {
	t.Parallel()
	empty := NewClientOrder(clCustomerID, Request{}, true)
	noID := NewClientOrder("", clRequest(), true)
	tests := map[string]struct {
		fixture func(*testing.T) *clStepper
		cmd     ClientCommand
		want    string
	}{
		"quote without transaction ID": {clFxApproved, Quote{At: clT0}, "no transaction ID"},
		"quote without requested CPD": {func(t *testing.T) *clStepper { return newClStepper(t, empty) },
			Quote{At: clT0, TransactionID: clTxnQuote}, "non-empty requested CPD"},
		"quote without customer order ID": {func(t *testing.T) *clStepper { return newClStepper(t, noID) },
			Quote{At: clT0, TransactionID: clTxnQuote}, "no customer order identifier"},
		"decline with a bad reason":       {clFxOfferProcessing, DeclineOffer{At: clAt(time.Minute), Reasons: []wire.Reason{4}}, "Table 3"},
		"update without transaction ID":   {clFxCompleted, UpdateOrder{At: clAt(time.Hour), CPD: clRequested(), ExpectedResponseTime: clAtp(2 * time.Hour)}, "no transaction ID"},
		"update without CPD":              {clFxCompleted, UpdateOrder{At: clAt(time.Hour), TransactionID: clTxnUpdate, ExpectedResponseTime: clAtp(2 * time.Hour)}, "non-empty requested CPD"},
		"update without response time":    {clFxCompleted, UpdateOrder{At: clAt(time.Hour), TransactionID: clTxnUpdate, CPD: clRequested()}, "expected response time"},
		"update with past response time":  {clFxCompleted, UpdateOrder{At: clAt(time.Hour), TransactionID: clTxnUpdate, CPD: clRequested(), ExpectedResponseTime: clAtp(time.Hour)}, "not in the future"},
		"activate without transaction ID": {clFxCompleted, ActivateOrder{At: clAt(time.Hour)}, "no transaction ID"},
		"withdraw without transaction ID": {clFxCompleted, WithdrawOrder{At: clAt(time.Hour)}, "no transaction ID"},
		"grant without request":           {clFxServerProcessing, GrantExtension{At: clAt(time.Minute)}, "no request for more time"},
		"refuse without request":          {clFxServerProcessing, RefuseExtension{At: clAt(time.Minute)}, "no request for more time"},
		"quote twice":                     {clFxPQOSent, Quote{At: clAt(time.Second), TransactionID: clTxnQuote}, "not allowed in state PQOSent"},
		"accept before an offer":          {clFxServerProcessing, AcceptOffer{At: clAt(time.Minute)}, "not allowed in state ServerProcessing"},
		"cancel a completed order":        {clFxCompleted, CancelOrder{At: clAt(time.Hour)}, "not allowed in state Completed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := tc.fixture(t)
			before := s.o.Clone()
			s.step(tc.cmd)
			if r, ok := clDiscarded(s.last); !ok || !strings.Contains(r, tc.want) {
				t.Fatalf("got %s, want a Discard containing %q", clDescribeActions(s.last), tc.want)
			}
			if diff := cmp.Diff(before, s.o); diff != "" {
				t.Errorf("order changed (-want +got):\n%s", diff)
			}
		})
	}
}

// Orders restored with missing records (a corrupted or hand-edited status)
// are handled without panicking: the handlers discard.
func TestClientInconsistentOrders(t *testing.T) {
	t.Parallel()
	m := DefaultClient()
	noOffer := clFxOfferProcessing(t).o
	noOffer.Offer = nil
	accepted := clFxAcceptSent(t).o
	accepted.Offer = nil
	noAgreement := clFxCompleted(t).o
	noAgreement.Agreement = nil
	noUnanswered := clFxAcceptSent(t).o
	noUnanswered.Txn.Unanswered = nil
	activating := clFxCompleted(t).o
	activating.Txn.Kind, activating.Activation = TxnActivate, &wire.Schedule{}
	activating.Txn.Unanswered, activating.Agreement = &wire.Message{Method: wire.MethodActivate}, nil
	cycle := clFxCompleted(t).o
	cycle.State = ClientCancelled
	cycle.Timers = map[TimerID]time.Time{TimerWithdrawCycle: clT0}
	tests := map[string]struct {
		o    ClientOrder
		ev   Event
		want string
	}{
		"accept without offer":       {noOffer, AcceptOffer{At: clAt(time.Hour)}, "no offer to accept"},
		"decline without offer":      {noOffer, DeclineOffer{At: clAt(time.Hour)}, "no offer to decline"},
		"ACK without offer":          {accepted, clRecv(clAck(accepted, clCPDPtr(clOffered())), time.Hour), "no offer was accepted"},
		"update without agreement":   {noAgreement, UpdateOrder{At: clAt(time.Hour), TransactionID: clTxnUpdate, CPD: clRequested(), ExpectedResponseTime: clAtp(2 * time.Hour)}, "no agreement"},
		"activate without agreement": {noAgreement, ActivateOrder{At: clAt(time.Hour), TransactionID: clTxnAct}, "no agreement"},
		"withdraw without agreement": {noAgreement, WithdrawOrder{At: clAt(time.Hour), TransactionID: clTxnWd}, "no agreement"},
		"retransmit nothing":         {noUnanswered, TimerFired{ID: TimerRetransmit, At: clAt(time.Hour)}, "no request awaits"},
		"cycle without WITHDRAW":     {cycle, TimerFired{ID: TimerWithdrawCycle, At: clAt(time.Hour)}, "no WITHDRAW"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			next, acts := m.Step(tc.o, tc.ev)
			if r, ok := clDiscarded(acts); !ok || !strings.Contains(r, tc.want) {
				t.Fatalf("got %s, want a Discard containing %q", clDescribeActions(acts), tc.want)
			}
			if diff := cmp.Diff(tc.o, next); diff != "" {
				t.Errorf("order changed (-want +got):\n%s", diff)
			}
		})
	}
	// An ACK to an ACTIVATE of an order that lost its agreement still
	// completes the transaction.
	next, acts := m.Step(activating, clRecv(clAck(activating, nil), time.Hour))
	if next.Activation != nil || next.Txn.Unanswered != nil || len(clTransitions(acts)) != 1 {
		t.Errorf("got %s, want the ACTIVATE answered", clDescribeActions(acts))
	}
}
