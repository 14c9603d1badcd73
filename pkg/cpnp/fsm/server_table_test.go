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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// sVariant selects a fixture that satisfies a row's guard.
type sVariant string

const (
	vBase      sVariant = ""
	vHeld      sVariant = "held"
	vMoreTime  sVariant = "moreTime"
	vScheduled sVariant = "scheduled"
)

// sFixture drives (or, for the states that a step only passes through,
// builds) an order in state. update selects an UPDATE cycle; ok is false
// when the combination does not exist.
func sFixture(t *testing.T, state ServerState, update bool, v sVariant) (d *sDriver, ok bool) {
	t.Helper()
	d = newSDriver(t, DefaultServer())
	if update {
		switch state {
		case ServerCancelled:
			return nil, false
		case ServerCompleted:
			d.toCompleted()
			d.toUpdate()
			d.toCompleted()
		default:
			d.toCompleted()
			d.toUpdate()
		}
	}
	switch state {
	case ServerPQOReceived:
		d.o.State = ServerPQOReceived
	case ServerAwaitingProcessing:
	case ServerOfferProposed:
		d.offer()
	case ServerProcessingReceived:
		d.offer()
		d.send(d.cmsg(wire.MethodProcessing))
	case ServerAcceptReceived:
		d.offer()
		d.send(d.cmsg(wire.MethodProcessing))
		d.o.State = ServerAcceptReceived
	case ServerCompleted:
		if !update {
			d.toCompleted()
		}
	case ServerCancelled:
		d.offer()
		d.send(d.cmsg(wire.MethodDecline))
	case ServerChildCreated:
		dec := sChildDecision(d.o, d.at).Child
		d.o.Child = &ChildOrder{Upstream: sUpstream, ParentTxn: d.o.Txn.ID, WithdrawTransactionID: sChildWTxn,
			WithdrawSeq: 850, Order: NewClientOrder(sChildCust, dec.Request, true)}
		d.o.State = ServerChildCreated
	case ServerChildOfferReceived:
		d.toChild(ServerChildOfferProcessing)
		d.o.State = ServerChildOfferReceived
		d.o.Child.Order.State = ClientOfferReceived
	case ServerChildCompleted:
		d.toChild(ServerAwaitingProcessing)
		d.o.State = ServerChildCompleted
	default:
		d.toChild(state)
	}
	switch v {
	case vHeld:
		d.step(Decision{Kind: DecideHold, TransactionID: d.o.Txn.ID, At: d.at})
	case vMoreTime:
		d.step(RequestMoreTime{ExpectedOfferTime: st0.Add(3 * time.Hour), At: d.at})
	case vScheduled:
		a := sNewTxnMsg(d.o, wire.MethodActivate, sATxn)
		a.ActivationSchedule = &wire.Schedule{At: st0.Add(5 * time.Hour)}
		d.sendNew(a)
	}
	if d.o.State != state || (v != vBase && sHas[Discard](d.acts)) {
		t.Fatalf("fixture %s (update %v, %s): got state %s, actions %#v", state, update, v, d.o.State, d.acts)
	}
	return d, true
}

// sVariantFor picks the fixture that satisfies the guard of (state, in).
func sVariantFor(state ServerState, in serverInput) sVariant {
	r, ok := serverRuleFor(state, in)
	if !ok {
		return vBase
	}
	switch {
	case r.Guard == guardHeld:
		return vHeld
	case r.Guard == guardMoreTime:
		return vMoreTime
	case r.Guard == guardUnanswered && state != ServerOfferProposed:
		return vMoreTime
	case in == inTimerActivation:
		return vScheduled
	}
	return vBase
}

// sInputEvent builds a well-formed event of kind in that matches the order.
func sInputEvent(d *sDriver, in serverInput) Event {
	o := d.o
	if m, ok := wire.ParseMethod(string(in)); ok {
		return MsgReceived{Msg: sClientMsg(o, m, d.seq), Identity: sIdentity, At: d.at, Fresh: Fresh{Nonce: sNonce2, Seq: 700}}
	}
	if id, ok := strings.CutPrefix(string(in), "Timer:"); ok {
		at := d.at
		if dl, armed := o.Timers[TimerID(id)]; armed {
			at = dl
		}
		return TimerFired{ID: TimerID(id), At: at}
	}
	later := st0.Add(3 * time.Hour)
	switch in {
	case inDecisionOffer:
		return sOffer(o, d.at)
	case inDecisionFail:
		return Decision{Kind: DecideFail, TransactionID: o.Txn.ID, StatusCode: wire.StatusOutOfResources, At: d.at}
	case inDecisionHold:
		return Decision{Kind: DecideHold, TransactionID: o.Txn.ID, At: d.at}
	case inDecisionMoreTime:
		return Decision{Kind: DecideMoreTime, TransactionID: o.Txn.ID, At: d.at, MoreTime: &MoreTimeDecision{ExpectedOfferTime: later}}
	case inDecisionChild:
		return sChildDecision(o, d.at)
	case inAdminApprove:
		return AdminApprove{At: d.at}
	case inAdminReject:
		return AdminReject{At: d.at}
	case inRequestMoreTime:
		return RequestMoreTime{ExpectedOfferTime: later, At: d.at}
	case inChildEvent:
		switch o.State {
		case ServerChildCreated:
			return ChildEvent{Event: Quote{At: d.at, TransactionID: sChildTxn, Seq: 800}}
		case ServerChildPQOSent:
			return ChildEvent{Event: MsgReceived{Msg: sUp(wire.MethodProcessing, 900), Identity: sUpstream, At: d.at}}
		case ServerChildServerProcessing:
			return ChildEvent{Event: MsgReceived{Msg: sUp(wire.MethodOffer, 901), Identity: sUpstream, At: d.at}}
		case ServerChildOfferReceived, ServerChildOfferProcessing:
			return ChildEvent{Event: AcceptOffer{At: d.at}}
		case ServerChildAcceptSent:
			return ChildEvent{Event: MsgReceived{Msg: sUp(wire.MethodAck, 902), Identity: sUpstream, At: d.at}}
		}
		return ChildEvent{Event: TimerFired{ID: TimerWithdrawCycle, At: d.at}}
	}
	panic("unknown input " + in)
}

// Reference: RFC 8921 §8.11.2, Fig. 9, Table 6; STYLE §2, §4 (every state × every input against the table).
func TestServerTableExhaustive(t *testing.T) {
	t.Parallel()
	if got, want := len(serverInputs), 11+6+5+3+1; got != want {
		t.Fatalf("got %d inputs, want %d (11 methods, 6 timers, 5 decisions, 3 commands, child events)", got, want)
	}
	for _, state := range ServerStates {
		for _, update := range []bool{false, true} {
			for _, in := range serverInputs {
				name := string(state) + "/" + string(in)
				if update {
					name = "update/" + name
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					sCheckPair(t, state, update, in)
				})
			}
		}
	}
}

func sCheckPair(t *testing.T, state ServerState, update bool, in serverInput) {
	v := sVariantFor(state, in)
	d, ok := sFixture(t, state, update, v)
	if !ok {
		t.Skip("no such fixture")
	}
	// Also check the fallback when the canonical fixture fails the guard.
	if v != vBase {
		if base, _ := sFixture(t, state, update, vBase); base != nil {
			sCheckOutcome(t, base, in)
		}
	}
	sCheckOutcome(t, d, in)
}

// sCheckOutcome steps the fixture with a matching input of kind in and
// compares the outcome with the table (or the default outcome).
func sCheckOutcome(t *testing.T, d *sDriver, in serverInput) {
	t.Helper()
	before := d.o.Clone()
	ev := sInputEvent(d, in)
	acts := d.step(ev)
	sCheckPersistFirst(t, acts)

	rule, ok := serverRuleFor(before.State, in)
	applies := ok && rule.Guard.holds(before)
	if tf, isTimer := ev.(TimerFired); isTimer {
		if _, armed := before.Timers[tf.ID]; !armed {
			applies = false
		}
	}
	msg, isMsg := ev.(MsgReceived)
	if isMsg && (msg.Msg.Method == wire.MethodQuotation || msg.Msg.Method == wire.MethodOffer) {
		applies = false // decided before the table (onMsg steps 1 and 5)
	}
	sent := sSends(acts)

	if applies {
		want := rule.to(before.Txn.Kind)
		if want == "" {
			want = before.State
		}
		if d.o.State != want {
			t.Errorf("got state %s, want %s (row %s); actions %#v", d.o.State, want, rule.Ref, acts)
		}
		var gotMethods []wire.Method
		for _, s := range sent {
			gotMethods = append(gotMethods, s.Msg.Method)
		}
		var wantMethods []wire.Method
		if rule.Send != 0 {
			wantMethods = []wire.Method{rule.Send}
		}
		if !cmp.Equal(gotMethods, wantMethods) {
			t.Errorf("got sent %v, want %v (row %s); actions %#v", gotMethods, wantMethods, rule.Ref, acts)
		}
		if rule.Send == wire.MethodFail && len(sent) == 1 && sent[0].Msg.StatusCode != rule.Status {
			t.Errorf("got FAIL %d, want %d", sent[0].Msg.StatusCode, rule.Status)
		}
		if isMsg && len(sent) == 1 && sent[0].Msg.TransactionID != msg.Msg.TransactionID {
			t.Errorf("got answer in transaction %s, want the request's %s", sent[0].Msg.TransactionID, msg.Msg.TransactionID)
		}
		if !sHas[Transition](acts) && want != before.State {
			t.Errorf("got no Transition for a state change")
		}
		return
	}

	// Default outcome: FAIL 1 to a client request, else Discard; the order
	// is unchanged but for the outgoing counter (a FAIL in the current
	// transaction) or the timer that fired.
	if isMsg && isClientRequest(msg.Msg.Method) {
		if len(sent) != 1 || sent[0].Msg.Method != wire.MethodFail || sent[0].Msg.StatusCode != wire.StatusMessageValidationError {
			t.Errorf("got %#v, want a single FAIL 1 (no order in a state that accepts %s)", acts, in)
		}
	} else if len(sent) != 0 || !sHas[Discard](acts) {
		t.Errorf("got %#v, want a Discard and nothing sent", acts)
	}
	want := before.Clone()
	want.Txn.Counters.Out = d.o.Txn.Counters.Out
	if tf, isTimer := ev.(TimerFired); isTimer {
		delete(want.Timers, tf.ID)
		if len(want.Timers) == 0 {
			want.Timers = nil
		}
	}
	if diff := cmp.Diff(want, d.o, sCmp...); diff != "" {
		t.Errorf("the default outcome changed the order (-before +after):\n%s", diff)
	}
	if sHas[Transition](acts) || sHas[Release](acts) || sHas[Reserve](acts) || sHas[Commit](acts) || sHas[SendChild](acts) {
		t.Errorf("got effects %#v for a refused or discarded input", acts)
	}
}

// Reference: STYLE §2 (one transition table per machine, every row documented).
func TestServerTableRows(t *testing.T) {
	t.Parallel()
	for _, s := range ServerStates {
		if _, ok := serverTable[s]; !ok {
			t.Errorf("state %s has no entry in serverTable", s)
		}
	}
	for s, rows := range serverTable {
		if !slices.Contains(ServerStates, s) {
			t.Errorf("serverTable has unknown state %s", s)
		}
		for in, r := range rows {
			if !slices.Contains(serverInputs, in) {
				t.Errorf("%s: unknown input %s", s, in)
			}
			if r.do == nil || r.Ref == "" {
				t.Errorf("%s/%s: got a row without handler or reference", s, in)
			}
			for _, to := range []ServerState{r.To, r.UpdateTo} {
				if to != "" && !slices.Contains(ServerStates, to) {
					t.Errorf("%s/%s: unknown target %s", s, in, to)
				}
			}
		}
	}
	for in, r := range serverGlobalRules {
		if r.do == nil || r.Ref == "" || !slices.Contains(serverInputs, in) {
			t.Errorf("global rule %s is incomplete", in)
		}
	}
	for _, g := range []serverGuard{guardNone, guardNotHeld, guardHeld, guardMoreTime, guardUnanswered, guardAckLost, guardChild} {
		if (g == guardNone) != (g.String() == "") {
			t.Errorf("guard %d: got description %q", g, g.String())
		}
	}
	if !ServerChildPQOSent.IsChild() || ServerCompleted.IsChild() {
		t.Errorf("IsChild is wrong")
	}
	_ = cpd.Empty()
}

// Reference: RFC 8921 §8.11 (permanent storage for state recovery); DESIGN §4 (the server keeps every order in its store).
func TestServerOrderJSON(t *testing.T) {
	t.Parallel()
	for _, state := range ServerStates {
		for _, update := range []bool{false, true} {
			d, ok := sFixture(t, state, update, vBase)
			if !ok {
				continue
			}
			b, err := json.Marshal(d.o)
			if err != nil {
				t.Fatalf("%s: json.Marshal: %v", state, err)
			}
			var back ServerOrder
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("%s: json.Unmarshal: %v", state, err)
			}
			if diff := cmp.Diff(d.o, back, sCmp...); diff != "" {
				t.Errorf("%s (update %v): JSON round trip (-want +got):\n%s", state, update, diff)
			}
		}
	}
}
