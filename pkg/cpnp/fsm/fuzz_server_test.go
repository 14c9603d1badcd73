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
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Fuzz operations: each step of FuzzServerSteps reads an operation byte and
// an argument byte.
const (
	fzProcessing byte = iota
	fzAccept
	fzDecline
	fzCancel
	fzAck
	fzFail
	fzUpdate
	fzWithdraw
	fzActivate
	fzQuotation
	fzOffer
	fzDecideOffer
	fzDecideFail
	fzDecideHold
	fzDecideMoreTime
	fzDecideChild
	fzApprove
	fzReject
	fzMoreTime
	fzTimer
	fzUpstream
	fzChildCommand
	fzChildTimer
	fzWait
	fzStranger
	fzOps
)

// fzWorld is the client, policy, upstream and clock around one server order.
type fzWorld struct {
	t   *testing.T
	m   Server
	o   ServerOrder
	at  time.Time
	seq uint32 // client's next sequence number in the current transaction

	// Invariant bookkeeping.
	sentSeq   map[string]uint32 // highest new outgoing seq per transaction
	sent      map[string]bool   // encodings of every message sent to the client
	reserved  bool              // an offer reservation is open
	agreement bool              // an agreement is held
}

var fzTxns = []string{sUTxn, sWTxn, sATxn, sXTxn}

// seqFor picks a sequence number: fresh, repeated, stale or jumping ahead.
func (w *fzWorld) seqFor(arg byte) uint32 {
	switch arg % 4 {
	case 1:
		return w.seq - 1
	case 2:
		return w.seq - 2
	case 3:
		return w.seq + 3
	}
	return w.seq
}

// event decodes one operation into an event for the current order.
func (w *fzWorld) event(op, arg byte) Event {
	o := w.o
	msg := func(m wire.Method) Event {
		c := sClientMsg(o, m, w.seqFor(arg))
		if arg&0x10 != 0 && c.Nonce != "" {
			c.Nonce = sNonce2 // a wrong (or, after an UPDATE, the other) nonce
		}
		if arg&0x20 != 0 && c.AcceptedCPD != nil {
			c.AcceptedCPD = ptrCPD(cpd.Sample())
		}
		return MsgReceived{Msg: c, Identity: sIdentity, At: w.at, Fresh: Fresh{Nonce: sNonce2, Seq: 700 + uint32(arg)}}
	}
	newTxn := func(m wire.Method) Event {
		c := sNewTxnMsg(o, m, fzTxns[int(arg>>2)%len(fzTxns)])
		c.Seq = 300 + uint32(arg%3)
		if m == wire.MethodActivate {
			switch arg % 3 {
			case 1:
				c.ActivationSchedule = &wire.Schedule{Deactivate: true}
			case 2:
				c.ActivationSchedule = &wire.Schedule{At: w.at.Add(time.Duration(arg) * time.Minute)}
			}
		}
		if arg&0x40 != 0 {
			c.Nonce = sNonce2
		}
		return MsgReceived{Msg: c, Identity: sIdentity, At: w.at, Fresh: Fresh{Nonce: sNonce2, Seq: 700 + uint32(arg)}}
	}
	txn := o.Txn.ID
	if arg&0x80 != 0 {
		txn = sXTxn // a stale decision
	}
	later := w.at.Add(time.Duration(arg) * time.Minute)
	switch op % fzOps {
	case fzProcessing:
		return msg(wire.MethodProcessing)
	case fzAccept:
		return msg(wire.MethodAccept)
	case fzDecline:
		return msg(wire.MethodDecline)
	case fzCancel:
		return msg(wire.MethodCancel)
	case fzAck:
		return msg(wire.MethodAck)
	case fzFail:
		return msg(wire.MethodFail)
	case fzUpdate:
		return newTxn(wire.MethodUpdate)
	case fzWithdraw:
		return newTxn(wire.MethodWithdraw)
	case fzActivate:
		return newTxn(wire.MethodActivate)
	case fzQuotation:
		q := sQuotation()
		q.Seq = sCliSeq + uint32(arg%2)
		return MsgReceived{Msg: q, Identity: sIdentity, At: w.at}
	case fzOffer:
		return msg(wire.MethodOffer)
	case fzDecideOffer:
		d := sOffer(o, w.at)
		d.TransactionID = txn
		if arg&1 != 0 {
			d.Offer.ValidUntil = w.at.Add(time.Duration(arg) * time.Second)
		}
		if arg&2 != 0 {
			d.Offer.ActivationSchedule = &wire.Schedule{At: later}
		}
		return d
	case fzDecideFail:
		return Decision{Kind: DecideFail, TransactionID: txn, StatusCode: wire.StatusCode(arg%9 + 1), At: w.at}
	case fzDecideHold:
		return Decision{Kind: DecideHold, TransactionID: txn, At: w.at}
	case fzDecideMoreTime:
		return Decision{Kind: DecideMoreTime, TransactionID: txn, At: w.at, MoreTime: &MoreTimeDecision{ExpectedOfferTime: later}}
	case fzDecideChild:
		d := sChildDecision(o, w.at)
		d.TransactionID = txn
		if arg&1 != 0 {
			d.Child.ExpectedOfferTime = &later
		}
		return d
	case fzApprove:
		return AdminApprove{At: w.at}
	case fzReject:
		return AdminReject{At: w.at}
	case fzMoreTime:
		return RequestMoreTime{ExpectedOfferTime: later, At: w.at}
	case fzTimer:
		ids := []TimerID{TimerRetransmit, TimerOffer, TimerValidity, TimerActivation, TimerResponse}
		id := ids[int(arg)%len(ids)]
		at := w.at
		if dl, ok := o.Timers[id]; ok && arg&0x80 == 0 {
			at = dl
		}
		if at.After(w.at) {
			w.at = at
		}
		return TimerFired{ID: id, At: at}
	case fzUpstream:
		ms := []wire.Method{wire.MethodProcessing, wire.MethodOffer, wire.MethodAck, wire.MethodFail}
		m := sUp(ms[int(arg)%len(ms)], 900+uint32(arg>>2))
		if arg&0x80 != 0 {
			m.TransactionID = sChildWTxn
			m.CPD = ptrCPD(cpd.Empty())
		}
		return ChildEvent{Event: MsgReceived{Msg: m, Identity: sUpstream, At: w.at}}
	case fzChildCommand:
		cmds := []Event{AcceptOffer{At: w.at}, DeclineOffer{At: w.at}, CancelOrder{At: w.at}, GrantExtension{At: w.at}}
		return ChildEvent{Event: cmds[int(arg)%len(cmds)]}
	case fzChildTimer:
		ids := []TimerID{TimerRetransmit, TimerResponse, TimerOffer, TimerValidity, TimerWithdrawCycle}
		id := ids[int(arg)%len(ids)]
		at := w.at
		if o.Child != nil {
			if dl, ok := o.Child.Order.Timers[id]; ok {
				at = dl
			}
		}
		if at.After(w.at) {
			w.at = at
		}
		return ChildEvent{Event: TimerFired{ID: id, At: at}}
	case fzWait:
		w.at = w.at.Add(time.Duration(arg) * 10 * time.Second)
		return TimerFired{ID: TimerID("Nothing"), At: w.at}
	default: // fzStranger
		e := msg(wire.Methods[int(arg)%len(wire.Methods)]).(MsgReceived)
		e.Identity = sOther
		return e
	}
}

// step feeds one event and checks every invariant.
func (w *fzWorld) step(ev Event) {
	t := w.t
	t.Helper()
	prev := w.o
	snap := sSnapshot(t, prev)
	snapshot := prev.Clone()
	next, acts := w.m.Step(prev, ev)

	// Step never modifies its input, and shares with its output only what
	// it did not change (copy-on-write).
	if sSnapshot(t, prev) != snap {
		t.Fatalf("Step modified its input on %#v", ev)
	}
	if err := checkCopyOnWrite(snapshot, prev, next, ServerOrder.Clone); err != nil {
		t.Fatalf("on %#v: %v", ev, err)
	}
	// Identifiers never change within an order.
	if next.CustomerOrderID != prev.CustomerOrderID || next.ProviderOrderID != prev.ProviderOrderID || next.Identity != prev.Identity {
		t.Fatalf("identifiers changed: %q/%q/%q -> %q/%q/%q", prev.CustomerOrderID, prev.ProviderOrderID, prev.Identity,
			next.CustomerOrderID, next.ProviderOrderID, next.Identity)
	}
	// Only stable states are stored.
	if !slices.Contains(ServerStates, next.State) || slices.Contains([]ServerState{
		ServerPQOReceived, ServerAcceptReceived, ServerChildCreated, ServerChildOfferReceived, ServerChildCompleted,
	}, next.State) {
		t.Fatalf("order left in state %q after %#v", next.State, ev)
	}
	sCheckPersistFirst(t, acts)

	if next.Txn.ID != prev.Txn.ID {
		delete(w.sentSeq, next.Txn.ID) // a new transaction, whatever its ID was used for before
	}
	stranger := false
	if m, ok := ev.(MsgReceived); ok && m.Identity != sIdentity {
		stranger = true
	}
	for _, a := range acts {
		switch a := a.(type) {
		case Send:
			w.checkSend(prev, next, a, stranger)
		case Reserve:
			if w.reserved {
				t.Fatalf("Reserve while a reservation is open; actions %#v", acts)
			}
			w.reserved = true
		case Release:
			if a.Agreement {
				if !w.agreement {
					t.Fatalf("Release of an agreement that is not held; actions %#v", acts)
				}
				w.agreement = false
			} else {
				if !w.reserved {
					t.Fatalf("Release without a reservation (double release?); actions %#v", acts)
				}
				w.reserved = false
			}
		case Commit:
			if !w.reserved && !w.agreement {
				t.Fatalf("Commit without a reservation or an agreement to restore; actions %#v", acts)
			}
			w.reserved, w.agreement = false, true
		}
	}
	// The order's own record matches the accounting: no leaked reservation.
	if next.Reserved != w.reserved || (next.Agreement != nil) != w.agreement {
		t.Fatalf("got Reserved %v / agreement %v, accounting says %v / %v; actions %#v",
			next.Reserved, next.Agreement != nil, w.reserved, w.agreement, acts)
	}
	if next.State == ServerCancelled && (w.reserved || w.agreement) {
		t.Fatalf("Cancelled order still holds resources (reserved %v, agreement %v)", w.reserved, w.agreement)
	}
	// Timers mirror StartTimer/StopTimer.
	for _, a := range acts {
		switch a := a.(type) {
		case StartTimer:
			if at, ok := next.Timers[a.ID]; !ok || !at.Equal(a.At) {
				if !slices.ContainsFunc(acts, func(b Action) bool { s, ok := b.(StopTimer); return ok && s.ID == a.ID }) {
					t.Fatalf("StartTimer %v at %v not recorded (%v)", a.ID, a.At, next.Timers)
				}
			}
		case StopTimer:
			if _, ok := next.Timers[a.ID]; ok && !slices.ContainsFunc(acts, func(b Action) bool {
				s, ok := b.(StartTimer)
				return ok && s.ID == a.ID
			}) {
				t.Fatalf("StopTimer %v but still recorded", a.ID)
			}
		}
	}
	// The order survives the store (TestServerOrderJSON compares the
	// decoded values field by field; here the encoding must be stable).
	b := sSnapshot(t, next)
	var back ServerOrder
	if err := json.Unmarshal([]byte(b), &back); err != nil {
		t.Fatalf("json.Unmarshal(order): %v", err)
	}
	if again := sSnapshot(t, back); again != b {
		t.Fatalf("JSON round trip:\nwant %s\ngot  %s", b, again)
	}

	if m, ok := ev.(MsgReceived); ok && m.Identity == sIdentity && next.Txn.ID == m.Msg.TransactionID {
		if n := next.Txn.Counters.In + 1; next.Txn.Counters.InSet && n > w.seq {
			w.seq = n
		}
	}
	if next.Txn.ID != prev.Txn.ID {
		w.seq = next.Txn.Counters.In + 1
	}
	w.o = next
}

// checkSend checks one message sent to the client.
func (w *fzWorld) checkSend(prev, next ServerOrder, s Send, stranger bool) {
	t := w.t
	enc, err := wire.Encode(s.Msg)
	if err != nil {
		t.Fatalf("the machine sent a message that does not encode: %v (%+v)", err, s.Msg)
	}
	key := string(enc)
	if s.Retransmission {
		if !w.sent[key] {
			t.Fatalf("retransmission of a message never sent: %s", enc)
		}
		return
	}
	// Nothing is sent from Cancelled but re-answers and FAILs.
	if prev.State == ServerCancelled && s.Msg.Method != wire.MethodFail {
		t.Fatalf("sent %s from Cancelled", s.Msg.Method)
	}
	w.sent[key] = true
	// Outgoing sequence numbers grow within a transaction (§11.3). A FAIL
	// outside the order's transaction, or to another identity, echoes the
	// request's number.
	if stranger || s.Msg.TransactionID != next.Txn.ID {
		if s.Msg.Method != wire.MethodFail {
			t.Fatalf("sent %s outside the order's transaction %s: %+v", s.Msg.Method, next.Txn.ID, s.Msg)
		}
		return
	}
	if last, ok := w.sentSeq[s.Msg.TransactionID]; ok && s.Msg.Seq <= last {
		t.Fatalf("sequence number %d sent after %d in transaction %s", s.Msg.Seq, last, s.Msg.TransactionID)
	}
	if s.Msg.Seq >= next.Txn.Counters.Out {
		t.Fatalf("sent seq %d but the outgoing counter is %d", s.Msg.Seq, next.Txn.Counters.Out)
	}
	w.sentSeq[s.Msg.TransactionID] = s.Msg.Seq
}

// FuzzServerSteps feeds random event sequences to one server order and
// checks the invariants of the server machine after every step: Step never
// panics and never modifies its input; identifiers never change; outgoing
// sequence numbers grow within a transaction, retransmissions excepted
// (§11.3, §11.4); nothing is sent from Cancelled except re-answers to a
// repeated request and FAILs; every Reserve ends in exactly one Commit or
// Release, every agreement in at most one Release, and a Cancelled order
// holds nothing (no leaked reservations, DESIGN §3); Persist precedes every
// effect (DESIGN §4); the order survives a JSON round trip.
//
// Reference: RFC 8921 §8.11.2, §11.2, §11.3, §11.4; DESIGN §3, §4.
func FuzzServerSteps(f *testing.F) {
	for _, seed := range fzSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		ies := []*wire.InformationElements{
			sIEs(wire.ActivationExplicit, ""), nil, sIEs(wire.ActivationScheduled, wire.ScopeLocal), sIEs(wire.ActivationImmediate, wire.ScopeRecursive),
		}
		q := sQuotation()
		q.InformationElements = ies[int(data[0])%len(ies)]
		m := DefaultServer()
		if data[0]&0x10 != 0 {
			m.ExpectedOfferDelay = 5 * time.Minute
		}
		o, acts, err := m.Open(sOpenEvent(q))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		w := &fzWorld{t: t, m: m, o: o, at: st0, seq: sCliSeq + 1, sentSeq: map[string]uint32{}, sent: map[string]bool{}}
		for _, s := range sSends(acts) {
			enc, err := wire.Encode(s.Msg)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			w.sent[string(enc)] = true
			w.sentSeq[s.Msg.TransactionID] = s.Msg.Seq
		}
		data = data[1:]
		for i := 0; i+1 < len(data) && i < 256; i += 2 {
			w.step(w.event(data[i], data[i+1]))
		}
	})
}

// fzSeeds are the committed seeds (also under testdata/fuzz/FuzzServerSteps):
// each is a scenario that reaches deep states.
var fzSeeds = [][]byte{
	// happy path: offer, PROCESSING, ACCEPT, repeat ACCEPT, WITHDRAW, repeat WITHDRAW.
	{0, fzDecideOffer, 0, fzProcessing, 0, fzAccept, 0, fzAccept, 1, fzWithdraw, 4, fzWithdraw, 4},
	// update cycle accepted, then declined, then ACTIVATE.
	{0, fzDecideOffer, 0, fzAccept, 0, fzUpdate, 0, fzDecideOffer, 0, fzAccept, 0, fzUpdate, 12, fzDecideOffer, 0, fzDecline, 0, fzActivate, 8},
	// more time granted then offer expires; retransmissions.
	{0, fzMoreTime, 100, fzTimer, 0, fzAck, 0, fzDecideOffer, 1, fzTimer, 0, fzTimer, 0, fzTimer, 0, fzTimer, 2},
	// hold, approve, offer, cancel; strangers.
	{0, fzDecideHold, 0, fzStranger, 3, fzApprove, 0, fzDecideOffer, 0, fzCancel, 0, fzCancel, 1},
	// child order through to completion, then withdraw.
	{0, fzDecideChild, 0, fzUpstream, 0, fzUpstream, 5, fzChildCommand, 0, fzUpstream, 10, fzDecideOffer, 0, fzAccept, 0, fzWithdraw, 4, fzUpstream, 0x82},
	// child order torn down by the client's CANCEL, then child timers.
	{0, fzDecideChild, 1, fzUpstream, 0, fzCancel, 0, fzChildTimer, 0, fzChildTimer, 0, fzWait, 200},
	// ACK lost: CANCEL after Completed; update reverted.
	{0, fzDecideOffer, 0, fzAccept, 0, fzCancel, 0, fzQuotation, 0},
	{0, fzDecideOffer, 0, fzAccept, 0, fzUpdate, 0, fzDecideOffer, 0, fzAccept, 0, fzCancel, 0, fzWithdraw, 4},
}
