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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// sChildDecision asks for a child order upstream (§8.8).
func sChildDecision(o ServerOrder, at time.Time) Decision {
	return Decision{Kind: DecideChild, TransactionID: o.Txn.ID, At: at, Child: &ChildDecision{
		Upstream: sUpstream, CustomerOrderID: sChildCust, TransactionID: sChildTxn, Seq: 800,
		WithdrawTransactionID: sChildWTxn, WithdrawSeq: 850,
		Request: Request{CPD: cpd.Sample(), ExpectedResponseTime: timePtr(st0.Add(50 * time.Minute))},
	}}
}

// sUp builds a message of the upstream server to the child order.
func sUp(method wire.Method, seq uint32) wire.Message {
	m := wire.Message{Version: 1, Method: method, Seq: seq, TransactionID: sChildTxn,
		CustomerOrderID: sChildCust, ProviderOrderID: sUpProvider}
	switch method {
	case wire.MethodOffer:
		m.Nonce = sUpNonce
		m.ValidityOfferTime = timePtr(st0.Add(40 * time.Minute))
		m.OfferedCPD = ptrCPD(cpd.SampleConcrete())
	case wire.MethodAck:
		m.CPD = ptrCPD(cpd.SampleConcrete())
	case wire.MethodFail:
		m.StatusCode = wire.StatusOutOfResources
	}
	return m
}

// up delivers an upstream message to the child.
func (d *sDriver) up(msg wire.Message) []Action {
	d.t.Helper()
	return d.step(ChildEvent{Event: MsgReceived{Msg: msg, Identity: sUpstream, At: d.at}})
}

// toChild drives a new order to the given child state.
func (d *sDriver) toChild(state ServerState) {
	d.t.Helper()
	steps := []func(){
		func() { d.step(sChildDecision(d.o, d.at)) },
		func() { d.up(sUp(wire.MethodProcessing, 900)) },
		func() { d.up(sUp(wire.MethodOffer, 901)) },
		func() { d.step(ChildEvent{Event: AcceptOffer{At: d.at}}) },
		func() { d.up(sUp(wire.MethodAck, 902)) },
	}
	reached := []ServerState{ServerChildPQOSent, ServerChildServerProcessing, ServerChildOfferProcessing, ServerChildAcceptSent, ServerAwaitingProcessing}
	for i, f := range steps {
		f()
		if d.o.State != reached[i] {
			d.t.Fatalf("setup step %d: got state %s, want %s; actions %#v", i, d.o.State, reached[i], d.acts)
		}
		if reached[i] == state {
			return
		}
	}
}

// Reference: RFC 8921 §8.8, Fig. 7, Fig. 9 left column (AwaitingProcessing → ChildCreated --QUOTATION-->
// ChildPQOSent --PROCESSING--> ChildServerProcessing --OFFER--> ChildOfferReceived --PROCESSING-->
// ChildOfferProcessing --ACCEPT--> ChildAcceptSent --ACK--> ChildCompleted → AwaitingProcessing).
func TestServerChildEdges(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())

	acts := d.step(sChildDecision(d.o, st0))
	sCheckPersistFirst(t, acts)
	if got, want := sStates(acts), []string{"AwaitingProcessing->ChildCreated", "ChildCreated->ChildPQOSent"}; !cmp.Equal(got, want) {
		t.Errorf("child decision: got transitions %v, want %v", got, want)
	}
	p := sOneSend(t, acts).Msg
	if p.Method != wire.MethodProcessing || p.Subcode != wire.SubcodeRequestExternalResources || p.ExpectedOfferTime != nil {
		t.Errorf("got %+v, want PROCESSING with subcode 2 (§8.8, Table 2)", p)
	}
	sc := sOnly[SendChild](acts)
	if len(sc) != 1 || sc[0].Upstream != sUpstream || sc[0].Msg.Method != wire.MethodQuotation ||
		sc[0].Msg.TransactionID != sChildTxn || sc[0].Msg.Seq != 800 || sc[0].Msg.CustomerOrderID != sChildCust {
		t.Errorf("got %+v, want the child's QUOTATION to the upstream", sc)
	}
	if got := sOnly[StartChildTimer](acts); len(got) == 0 {
		t.Errorf("got no child timers, want the child's retransmission timer wrapped")
	}
	if sHas[StartTimer](acts) {
		t.Errorf("got parent timers %v, want only child timers", sOnly[StartTimer](acts))
	}
	if len(sOnly[ChildTransition](acts)) == 0 {
		t.Errorf("got no ChildTransition")
	}

	acts = d.up(sUp(wire.MethodProcessing, 900))
	if got, want := sStates(acts), []string{"ChildPQOSent->ChildServerProcessing"}; !cmp.Equal(got, want) {
		t.Errorf("upstream PROCESSING: got transitions %v, want %v", got, want)
	}
	if len(sSends(acts)) != 0 {
		t.Errorf("got %v sent to the client, want nothing", sSentMethods(acts))
	}

	acts = d.up(sUp(wire.MethodOffer, 901))
	if got, want := sStates(acts), []string{"ChildServerProcessing->ChildOfferReceived", "ChildOfferReceived->ChildOfferProcessing"}; !cmp.Equal(got, want) {
		t.Errorf("upstream OFFER: got transitions %v, want %v", got, want)
	}
	if diff := cmp.Diff([]Consult{{Kind: ConsultChildOffer, TransactionID: sQTxn}}, sOnly[Consult](acts)); diff != "" {
		t.Errorf("consults (-want +got):\n%s", diff)
	}
	if sc := sOnly[SendChild](acts); len(sc) != 1 || sc[0].Msg.Method != wire.MethodProcessing {
		t.Errorf("got %+v, want the child's PROCESSING upstream", sc)
	}

	acts = d.step(ChildEvent{Event: AcceptOffer{At: st0}})
	if got, want := sStates(acts), []string{"ChildOfferProcessing->ChildAcceptSent"}; !cmp.Equal(got, want) {
		t.Errorf("AcceptOffer: got transitions %v, want %v", got, want)
	}
	if sc := sOnly[SendChild](acts); len(sc) != 1 || sc[0].Msg.Method != wire.MethodAccept || sc[0].Msg.Nonce != sUpNonce {
		t.Errorf("got %+v, want the child's ACCEPT upstream", sc)
	}

	acts = d.up(sUp(wire.MethodAck, 902))
	if got, want := sStates(acts), []string{"ChildAcceptSent->ChildCompleted", "ChildCompleted->AwaitingProcessing"}; !cmp.Equal(got, want) {
		t.Errorf("upstream ACK: got transitions %v, want %v", got, want)
	}
	if diff := cmp.Diff([]Consult{{Kind: ConsultChildDone, TransactionID: sQTxn}}, sOnly[Consult](acts)); diff != "" {
		t.Errorf("consults (-want +got):\n%s", diff)
	}
	if d.o.Child.Order.State != ClientCompleted || d.o.Child.Order.Agreement == nil {
		t.Fatalf("got child %s, want Completed with an agreement", d.o.Child.Order.State)
	}

	// The parent's negotiation resumes (Fig. 7).
	d.toCompleted()

	// WITHDRAW of the parent withdraws the child (§8.8, DESIGN §6).
	acts = d.sendNew(sNewTxnMsg(d.o, wire.MethodWithdraw, sWTxn))
	sc = sOnly[SendChild](acts)
	if len(sc) != 1 || sc[0].Msg.Method != wire.MethodWithdraw || sc[0].Msg.TransactionID != sChildWTxn || sc[0].Msg.Seq != 850 {
		t.Errorf("got %+v, want the child's WITHDRAW with the reserved identifiers", sc)
	}
	if d.o.State != ServerCancelled || d.o.Child.Order.State != ClientCancelled {
		t.Errorf("got parent %s child %s, want both Cancelled", d.o.State, d.o.Child.Order.State)
	}
	if d.o.Terminal() {
		t.Errorf("got Terminal while the child's WITHDRAW awaits its ACK")
	}
	// The upstream's ACK still reaches the child after the parent ended.
	ack := sUp(wire.MethodAck, 700)
	ack.TransactionID = sChildWTxn
	ack.CPD = ptrCPD(cpd.Empty())
	acts = d.up(ack)
	if !d.o.Child.Order.WithdrawAcked || len(sSends(acts)) != 0 {
		t.Errorf("got withdrawAcked %v, sends %v; want the child's withdrawal acknowledged silently", d.o.Child.Order.WithdrawAcked, sSentMethods(acts))
	}
	if !d.o.Terminal() {
		t.Errorf("got not Terminal, want terminal once the child settled (timers %v, child %+v)", d.o.Timers, d.o.Child.Order.Timers)
	}
}

// Reference: RFC 8921 §8.8 (child order fails: the server cannot honour the request), §9.2.10 FAIL 5.
func TestServerChildFails(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		at   ServerState
		fail func(d *sDriver) []Action
	}{
		"upstream FAIL": {at: ServerChildServerProcessing, fail: func(d *sDriver) []Action { return d.up(sUp(wire.MethodFail, 901)) }},
		"child offer declined by policy": {
			at: ServerChildOfferProcessing,
			fail: func(d *sDriver) []Action {
				return d.step(ChildEvent{Event: DeclineOffer{At: d.at, Reasons: []wire.Reason{wire.ReasonUnacceptableGap}}})
			},
		},
		"child offer expires": {
			at: ServerChildOfferProcessing,
			fail: func(d *sDriver) []Action {
				return d.step(ChildEvent{Event: TimerFired{ID: TimerValidity, At: d.later(40 * time.Minute)}})
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer())
			d.toChild(tc.at)
			acts := tc.fail(d)
			f := sOneSend(t, acts).Msg
			if f.Method != wire.MethodFail || f.StatusCode != wire.StatusOutOfResources || f.TransactionID != sQTxn {
				t.Errorf("got %+v, want FAIL 5 to the client", f)
			}
			trs := sOnly[Transition](acts)
			if last := trs[len(trs)-1]; last.To != "Cancelled" || last.Reason != "ChildOrderFailed" {
				t.Errorf("got transitions %+v, want Cancelled (ChildOrderFailed)", trs)
			}
		})
	}
}

// Reference: RFC 8921 §8.8 ("withdraws them with the parent", DESIGN §6), Fig. 9 CANCEL/DECLINE edges of the Child* states.
func TestServerChildTornDownWithParent(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		at        ServerState
		end       func(d *sDriver) []Action
		wantChild wire.Method
	}{
		"client CANCEL in ChildPQOSent": {
			at: ServerChildPQOSent, end: func(d *sDriver) []Action { return d.send(d.cmsg(wire.MethodCancel)) }, wantChild: wire.MethodCancel,
		},
		"client CANCEL in ChildOfferProcessing": {
			at: ServerChildOfferProcessing, end: func(d *sDriver) []Action { return d.send(d.cmsg(wire.MethodCancel)) }, wantChild: wire.MethodDecline,
		},
		"client CANCEL in ChildAcceptSent": {
			at: ServerChildAcceptSent, end: func(d *sDriver) []Action { return d.send(d.cmsg(wire.MethodCancel)) }, wantChild: wire.MethodCancel,
		},
		"deadline in ChildServerProcessing": {
			at: ServerChildServerProcessing,
			end: func(d *sDriver) []Action {
				return d.step(TimerFired{ID: TimerOffer, At: d.later(time.Hour)})
			},
			wantChild: wire.MethodCancel,
		},
		"parent offer declined after the child completed": {
			at: ServerAwaitingProcessing,
			end: func(d *sDriver) []Action {
				d.offer()
				return d.send(d.cmsg(wire.MethodDecline))
			},
			wantChild: wire.MethodWithdraw,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer())
			d.toChild(tc.at)
			acts := tc.end(d)
			if d.o.State != ServerCancelled {
				t.Errorf("got parent %s, want Cancelled", d.o.State)
			}
			sc := sOnly[SendChild](acts)
			if len(sc) != 1 || sc[0].Msg.Method != tc.wantChild {
				t.Errorf("got child sends %+v, want %v upstream", sc, tc.wantChild)
			}
			if d.o.Child.Order.State != ClientCancelled {
				t.Errorf("got child %s, want Cancelled", d.o.Child.Order.State)
			}
		})
	}
}

// Reference: RFC 8921 §8.8 ("must not activate recursion" with scope local), §9.1.10.3.
func TestServerChildScopeLocal(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer(), func(m *wire.Message) { m.InformationElements = sIEs("", wire.ScopeLocal) })
	acts := d.step(sChildDecision(d.o, st0))
	f := sOneSend(t, acts).Msg
	if f.Method != wire.MethodFail || f.StatusCode != wire.StatusOutOfResources || d.o.State != ServerCancelled || d.o.Child != nil {
		t.Errorf("got %v %d in %s (child %v), want FAIL 5, Cancelled, no child", f.Method, f.StatusCode, d.o.State, d.o.Child)
	}
	if sHas[SendChild](acts) {
		t.Errorf("got a child message with scope local")
	}
}

// Reference: RFC 8921 §8.8, §9.2.2 (subcode 2 with a later EXPECTED_OFFER_TIME asks for more time).
func TestServerChildAsksMoreTime(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	dec := sChildDecision(d.o, st0)
	dec.Child.ExpectedOfferTime = timePtr(st0.Add(2 * time.Hour))
	acts := d.step(dec)
	if p := sOneSend(t, acts).Msg; p.ExpectedOfferTime == nil || p.Subcode != wire.SubcodeRequestExternalResources {
		t.Errorf("got %+v, want PROCESSING subcode 2 with the new time", p)
	}
	if d.o.RequestedOfferTime == nil {
		t.Fatalf("want a pending request for more time")
	}
	// The client refuses: the parent and its child are cancelled (Fig. 12).
	acts = d.send(d.cmsg(wire.MethodFail))
	if d.o.State != ServerCancelled || d.o.Child.Order.State != ClientCancelled {
		t.Errorf("got parent %s child %s, want both Cancelled", d.o.State, d.o.Child.Order.State)
	}
	if sc := sOnly[SendChild](acts); len(sc) != 1 || sc[0].Msg.Method != wire.MethodCancel {
		t.Errorf("got %+v, want the child's CANCEL upstream", sc)
	}
}

// Reference: RFC 8921 §8.8 (one child per order here; a second is a policy bug).
func TestServerChildInvalidDecisions(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*ChildDecision){
		"no upstream":          func(c *ChildDecision) { c.Upstream = "" },
		"no withdraw txn":      func(c *ChildDecision) { c.WithdrawTransactionID = "" },
		"empty child request":  func(c *ChildDecision) { c.Request.CPD = cpd.Empty() },
		"no child transaction": func(c *ChildDecision) { c.TransactionID = "" },
	}
	for name, mod := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer())
			dec := sChildDecision(d.o, st0)
			mod(dec.Child)
			if acts := d.step(dec); len(acts) != 1 || !sHas[Discard](acts) {
				t.Errorf("got %#v, want one Discard", acts)
			}
		})
	}
	t.Run("second child while one lives", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.toChild(ServerAwaitingProcessing) // the child completed
		if acts := d.step(sChildDecision(d.o, st0)); len(acts) != 1 || !sHas[Discard](acts) {
			t.Errorf("got %#v, want one Discard", acts)
		}
	})
}

// Reference: RFC 8921 §11.4 applied to the child order (its timers are wrapped and fired back).
func TestServerChildTimersAndDiscards(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	d.toChild(ServerChildPQOSent)
	acts := d.step(ChildEvent{Event: TimerFired{ID: TimerRetransmit, At: d.later(time.Second)}})
	sc := sOnly[SendChild](acts)
	if len(sc) != 1 || !sc[0].Retransmission || sc[0].Msg.Method != wire.MethodQuotation {
		t.Errorf("got %+v, want the child's QUOTATION retransmitted", sc)
	}
	if got := sOnly[StartChildTimer](acts); len(got) != 1 || got[0].ID != TimerRetransmit {
		t.Errorf("got %+v, want the child's retransmission timer re-armed", got)
	}
	// A child event the child machine rejects is reported as a Discard.
	before := d.o.Clone()
	acts = d.up(sUp(wire.MethodAck, 999))
	if len(acts) != 1 || !sHas[Discard](acts) {
		t.Errorf("got %#v, want one Discard", acts)
	}
	if diff := cmp.Diff(before, d.o, sCmp...); diff != "" {
		t.Errorf("a discarded child event changed the order (-before +after):\n%s", diff)
	}
}
