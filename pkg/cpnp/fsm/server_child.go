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
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Child orders (RFC 8921 §8.8, Figure 7, the left column of Figure 9).
//
// A DecideChild decision makes the server a client of an upstream server:
// the parent tells its own client with a PROCESSING carrying subcode 2
// ("Request external resources", Table 2), creates a child ClientOrder and
// quotes it at once. The child is stepped by the client machine (Client.Step,
// configured by Server.Child); its Sends become SendChild actions for the
// upstream server, its timers StartChildTimer/StopChildTimer (fired back as
// ChildEvent{TimerFired}), its Transitions ChildTransition. While the parent
// negotiates the child, the parent's state mirrors the child's (Figure 9:
// ChildCreated, ChildPQOSent, ChildServerProcessing, ChildOfferReceived,
// ChildOfferProcessing, ChildAcceptSent, ChildCompleted), and:
//
//   - when the child reaches OfferReceived/OfferProcessing, the parent emits
//     Consult{ChildOffer}; the engine answers ChildEvent{AcceptOffer} or
//     ChildEvent{DeclineOffer} (the policy judges the child's offer);
//   - when the child completes, the parent passes ChildCompleted and returns
//     to AwaitingProcessing with Consult{ChildDone}: the policy composes the
//     parent's offer (Figure 7);
//   - when the child ends without agreement (FAIL, DECLINE, expiry, the
//     upstream's silence), the parent cannot honour the request: FAIL 5
//     (Out of Resources) to its client, Cancelled (Completed for an UPDATE).
//
// When the parent's cycle ends without agreement, or its agreement is
// withdrawn or cancelled, the child is cancelled (CANCEL; DECLINE while it
// holds an offer) or, if it completed, withdrawn (§8.8; DESIGN §6:
// "withdraws them with the parent"); its events keep being delivered until
// it settles, in any parent state.
//
// A request with negotiation option scope "local" forbids recursion (§8.8,
// §9.1.10.3): a DecideChild for it is answered as if no resources were
// available, FAIL 5. An order has at most one child: a DecideChild while
// another child is still alive (negotiating or holding an agreement) is a
// policy bug and is discarded.

// childMirror is the parent state that mirrors each state of the child.
var childMirror = map[ClientState]ServerState{
	ClientCreated:            ServerChildCreated,
	ClientAwaitingProcessing: ServerChildCreated,
	ClientPQOSent:            ServerChildPQOSent,
	ClientServerProcessing:   ServerChildServerProcessing,
	ClientOfferReceived:      ServerChildOfferReceived,
	ClientOfferProcessing:    ServerChildOfferProcessing,
	ClientAcceptSent:         ServerChildAcceptSent,
	ClientCompleted:          ServerChildCompleted,
}

// IsChild reports whether s is one of the Child* states of Figure 9.
func (s ServerState) IsChild() bool {
	switch s {
	case ServerChildCreated, ServerChildPQOSent, ServerChildServerProcessing, ServerChildOfferReceived,
		ServerChildOfferProcessing, ServerChildAcceptSent, ServerChildCompleted:
		return true
	}
	return false
}

// childClient is the client machine that runs child orders.
func (m Server) childClient() Client { return m.Child }

// onDecisionChild starts a child order (see the comment above).
func (s *serverStep) onDecisionChild(ev Event) {
	d := ev.(Decision).Child
	switch {
	case d == nil:
		s.discard("invalid decision: Child without a child order")
		return
	case d.Upstream == "" || d.CustomerOrderID == "" || d.TransactionID == "" || d.WithdrawTransactionID == "":
		s.discard("invalid decision: the child order lacks its upstream or identifiers")
		return
	case len(d.Request.CPD.Components) == 0:
		s.discard("invalid decision: the child's requested CPD has no component (§8.7)")
		return
	case s.o.Child != nil && !s.o.Child.Order.Terminal():
		s.discard("invalid decision: the order already has a child order")
		return
	}
	if scope(s.o.CurrentRequest()) == wire.ScopeLocal {
		f := s.reply(wire.MethodFail)
		f.StatusCode = wire.StatusOutOfResources
		s.endCycle("FAIL", "RecursionForbidden", f.StatusCode, true)
		s.answerLate(f)
		return
	}
	s.sendProcessing(d.ExpectedOfferTime, wire.SubcodeRequestExternalResources)
	s.o.Child = &ChildOrder{
		Upstream:              d.Upstream,
		ParentTxn:             s.o.Txn.ID,
		WithdrawTransactionID: d.WithdrawTransactionID,
		WithdrawSeq:           d.WithdrawSeq,
		Order:                 NewClientOrder(d.CustomerOrderID, d.Request, true),
	}
	s.moveTo(ServerChildCreated, string(inDecisionChild), "ChildOrderCreated", 0)
	s.stepChild(Quote{At: s.at, TransactionID: d.TransactionID, Seq: d.Seq})
}

// onChildEvent steps the child order with the wrapped event.
func (s *serverStep) onChildEvent(ev Event) {
	s.stepChild(ev.(ChildEvent).Event)
}

// following reports whether the parent's state mirrors its child's: the
// parent negotiates the child in its current cycle.
func (s *serverStep) following() bool {
	return s.o.State.IsChild() && s.o.Child != nil && s.o.Child.ParentTxn == s.o.Txn.ID
}

// stepChild runs the client machine on the child order and wraps its actions.
func (s *serverStep) stepChild(ev Event) {
	// Copy-on-write: the ChildOrder of the input order is shared.
	c := new(ChildOrder)
	*c = *s.o.Child
	s.o.Child = c
	next, acts := s.m.childClient().Step(c.Order, ev)
	c.Order = next
	follow := s.following()
	entered := false
	for _, a := range acts {
		switch a := a.(type) {
		case Send:
			s.effect(SendChild{Upstream: c.Upstream, Msg: a.Msg, Retransmission: a.Retransmission})
		case StartTimer:
			s.changed = true
			s.emit(StartChildTimer(a))
		case StopTimer:
			s.changed = true
			s.emit(StopChildTimer(a))
		case Persist:
			s.changed = true
		case Transition:
			s.changed = true
			s.emit(ChildTransition{Transition: a})
			if to, ok := childMirror[ClientState(a.To)]; follow && ok && to != s.o.State {
				s.moveTo(to, a.Cause, "Child"+a.Reason, a.StatusCode)
				entered = entered || to == ServerChildOfferReceived || to == ServerChildOfferProcessing
			}
		case Discard:
			s.discard("child order: " + a.Reason)
		case Alarm:
			s.emit(Alarm{Reason: "child order: " + a.Reason})
		default:
			s.emit(a)
		}
	}
	if !follow {
		return
	}
	switch c.Order.State {
	case ClientCompleted:
		if s.o.State != ServerChildCompleted {
			s.moveTo(ServerChildCompleted, "ACK", "ChildCompleted", 0)
		}
		s.moveTo(ServerAwaitingProcessing, string(ServerChildCompleted), "ChildOrderCompleted", 0)
		s.consult(ConsultChildDone, false)
	case ClientCancelled:
		f := s.reply(wire.MethodFail)
		f.StatusCode = wire.StatusOutOfResources
		s.endCycle(string(inChildEvent), "ChildOrderFailed", f.StatusCode, true)
		s.answerLate(f)
	default:
		if entered {
			s.consult(ConsultChildOffer, false)
		}
	}
}

// teardownChild cancels or withdraws the child order when its parent ends
// (§8.8, DESIGN §6). With cycleOnly, only a child created by the current
// cycle is concerned (an UPDATE cycle that fails keeps the child of the
// agreement that stands).
func (s *serverStep) teardownChild(cycleOnly bool) {
	c := s.o.Child
	if c == nil || (cycleOnly && c.ParentTxn != s.o.Txn.ID) {
		return
	}
	switch c.Order.State {
	case ClientCancelled:
	case ClientCompleted:
		s.stepChild(WithdrawOrder{At: s.at, TransactionID: c.WithdrawTransactionID, Seq: c.WithdrawSeq})
	case ClientOfferReceived, ClientOfferProcessing:
		s.stepChild(DeclineOffer{At: s.at})
	default:
		s.stepChild(CancelOrder{At: s.at})
	}
}
