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
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Step advances the order o by one event and returns the new order and the
// actions the shell executes, in order. It is pure: it reads no clock (the
// time is ev.When()), no randomness (identifiers arrive in commands), does
// no I/O and never modifies o.
//
// Every input has a written outcome (the clientTable): an input that does not
// apply returns o unchanged with a single Discard naming why. When the order
// changes, the actions hold exactly one Persist, placed before the first Send
// (write-ahead, DESIGN §4), or last when nothing is sent. Step never panics
// on peer input and never returns an error.
func (m Client) Step(o ClientOrder, ev Event) (ClientOrder, []Action) {
	if ev == nil {
		return o, []Action{Discard{Reason: "nil event"}}
	}
	s := clientSteps.Get().(*clientStep) //nolint:forcetypeassert // the pool holds *clientStep only
	defer s.release()
	*s = clientStep{m: m, o: o, at: ev.When(), actions: make([]Action, 0, stepActions)}
	switch e := ev.(type) {
	case MsgReceived:
		s.receive(e.Msg)
	case TimerFired:
		s.fire(e.ID)
	case ClientCommand:
		s.command(e)
	default:
		s.discard(fmt.Sprintf("event %T is not a client event", ev))
	}
	if s.discarded {
		return o, s.actions
	}
	if len(s.o.Timers) == 0 {
		s.o.Timers = nil
	}
	if !sameClientOrder(&o, &s.o) {
		s.persist()
	}
	return s.o, s.actions
}

// clientStep is the work area of one Step.
type clientStep struct {
	m  Client
	o  ClientOrder
	at time.Time
	in string // the input, as named in the clientTable
	// cause is the Cause of the next Transition.
	cause     string
	actions   []Action
	discarded bool
	// timers is the copy-on-write of o.Timers.
	timers cowTimers
	// msg is the message being handled (receive), which the handlers get
	// as a *wire.Message (messageOf).
	msg wire.Message
}

// messageOf returns the message a handler of a message input gets (a
// *wire.Message, see receive); the zero message for anything else.
func messageOf(in any) wire.Message {
	if m, ok := in.(*wire.Message); ok && m != nil {
		return *m
	}
	return wire.Message{}
}

// clientSteps recycles the work areas of Step: the table's handlers take
// the work area through function values, so it would otherwise be
// allocated (a copy of the order and more) on every step.
var clientSteps = sync.Pool{New: func() any { return new(clientStep) }}

// release returns s to clientSteps, holding nothing of its step.
func (s *clientStep) release() {
	*s = clientStep{}
	clientSteps.Put(s)
}

// receive handles a message from the order's server. The client machine
// does not check the peer identity: the engine feeds an order only the
// messages of its own server (DESIGN §4, §13).
func (s *clientStep) receive(msg wire.Message) {
	s.in, s.cause = msg.Method.String(), msg.Method.String()
	switch msg.Method {
	case wire.MethodProcessing, wire.MethodOffer, wire.MethodAck, wire.MethodFail:
	default:
		if msg.Method.Valid() {
			s.discard(msg.Method.String() + " is sent by clients only (§8.6)")
		} else {
			s.discard("unknown method " + msg.Method.String())
		}
		return
	}
	switch {
	case msg.CustomerOrderID != s.o.CustomerOrderID:
		s.discard("customer order identifier does not match the order (Table 5)")
		return
	case s.o.Txn.ID == "":
		s.discard("no transaction has been started (Table 5)")
		return
	case msg.TransactionID != s.o.Txn.ID:
		s.discard("transaction ID does not match the current transaction (Table 5)")
		return
	}
	switch s.o.Txn.Counters.Check(msg.Seq) {
	case session.Stale:
		s.discard("sequence number is lower than the last accepted one (§11.3)")
		return
	case session.Repeat:
		s.repeat(msg)
		return
	}
	rule, ok := clientTable[s.o.State][s.in]
	if !ok {
		s.discard(fmt.Sprintf("%s is not expected in state %s (Table 5)", s.in, s.o.State))
		return
	}
	// The handler gets a pointer into the (pooled) work area: a
	// wire.Message in an interface would cost an allocation per message.
	s.msg = msg
	rule.handle(s, &s.msg)
}

// repeat answers a repeat of the last accepted message (same sequence
// number) with the answer given to it, if it needed one (§11.4: "if the
// partner receives a retransmission of the last incoming packet it handled,
// the partner can resend the same answer"). Rate-limiting such answers is
// the shell's job.
func (s *clientStep) repeat(msg wire.Message) {
	if msg.Method != s.o.Txn.LastReceived || s.o.Txn.LastAnswer == nil {
		s.discard(fmt.Sprintf("repeat of sequence number %d, which needed no answer (§11.3)", msg.Seq))
		return
	}
	s.actions = append(s.actions, Send{Msg: *s.o.Txn.LastAnswer, Retransmission: true})
}

// fire handles a timer. A timer that is not armed, or fires before its
// deadline (a stale timer of the shell), is discarded. A handled timer is
// disarmed: it has fired, so no StopTimer is emitted for it.
func (s *clientStep) fire(id TimerID) {
	s.in, s.cause = string(id), string(id)
	deadline, armed := s.o.Timers[id]
	switch {
	case !armed:
		s.discard(fmt.Sprintf("timer %s is not armed", id))
		return
	case s.at.Before(deadline):
		s.discard(fmt.Sprintf("timer %s fired before its deadline %s", id, deadline.Format(time.RFC3339Nano)))
		return
	}
	rule, ok := clientTable[s.o.State][s.in]
	if !ok {
		s.discard(fmt.Sprintf("timer %s has no effect in state %s", id, s.o.State))
		return
	}
	s.timers.delete(&s.o.Timers, id)
	rule.handle(s, id)
}

// command handles a command of the client's user.
func (s *clientStep) command(c ClientCommand) {
	s.in, s.cause = c.command(), c.command()
	rule, ok := clientTable[s.o.State][s.in]
	if !ok {
		s.discard(fmt.Sprintf("command %s is not allowed in state %s", s.in, s.o.State))
		return
	}
	rule.handle(s, c)
}

// discard drops the input: the order is returned unchanged.
func (s *clientStep) discard(reason string) {
	s.actions = append(s.actions[:0], Discard{Reason: reason})
	s.discarded = true
}

// persist inserts the single Persist of the step before its first Send.
func (s *clientStep) persist() {
	for i, a := range s.actions {
		if _, ok := a.(Send); ok {
			s.actions = slices.Insert(s.actions, i, Action(Persist{}))
			return
		}
	}
	s.actions = append(s.actions, Persist{})
}

// moveTo changes the state and reports it. From == To is allowed: it reports
// a notable change inside a state (an ACTIVATE acknowledged, a WITHDRAW
// acknowledged), which §8.11.1 allows as sub-states.
func (s *clientStep) moveTo(to ClientState, reason string) {
	s.moveToCode(to, reason, 0)
}

func (s *clientStep) moveToCode(to ClientState, reason string, code wire.StatusCode) {
	s.actions = append(s.actions, Transition{
		From: string(s.o.State), To: string(to), Cause: s.cause, Reason: reason, StatusCode: code, At: s.at,
	})
	s.o.State = to
}

func (s *clientStep) startTimer(id TimerID, at time.Time) {
	s.timers.set(&s.o.Timers, id, at)
	s.actions = append(s.actions, StartTimer{ID: id, At: at})
}

func (s *clientStep) stopTimer(id TimerID) {
	if _, ok := s.o.Timers[id]; ok {
		s.timers.delete(&s.o.Timers, id)
		s.actions = append(s.actions, StopTimer{ID: id})
	}
}

// stopNegotiationTimers disarms the timers that only matter while waiting
// for or holding an offer (§8.5).
func (s *clientStep) stopNegotiationTimers() {
	s.stopTimer(TimerResponse)
	s.stopTimer(TimerOffer)
	s.stopTimer(TimerValidity)
}

// beginTxn starts a new transaction (§8.4, DESIGN §3): a new ID, new
// counters (§11.3), nothing pending; the previous transaction's pending
// request is abandoned.
func (s *clientStep) beginTxn(kind TxnKind, id string, seq uint32) {
	s.stopTimer(TimerRetransmit)
	s.o.Txn = Transaction{Kind: kind, ID: id, Counters: session.NewCounters(seq)}
	s.o.Failure = nil
}

// newMsg returns a message of the current transaction with the identifiers
// its RBNF carries (§9.2). QUOTATION and CANCEL carry no provider order
// identifier.
func (s *clientStep) newMsg(method wire.Method) wire.Message {
	m := wire.Message{
		Version:         wire.Version,
		Method:          method,
		TransactionID:   s.o.Txn.ID,
		CustomerOrderID: s.o.CustomerOrderID,
	}
	if method != wire.MethodQuotation && method != wire.MethodCancel {
		m.ProviderOrderID = s.o.ProviderOrderID
	}
	return m
}

// sendRequest sends a request that expects an answer: it takes the next
// sequence number (§11.3) and is retransmitted on TimerRetransmit (§11.4).
func (s *clientStep) sendRequest(msg wire.Message) {
	msg.Seq = s.o.Txn.Counters.Next()
	s.o.Txn.Unanswered = &msg
	s.o.Txn.Retries = 0
	s.startTimer(TimerRetransmit, s.at.Add(s.m.schedule().Delay(0)))
	s.actions = append(s.actions, Send{Msg: msg})
}

// sendAnswer sends the answer to the message just accepted; it is not
// retransmitted by timer, but re-sent if that message is repeated (§11.4).
func (s *clientStep) sendAnswer(msg wire.Message) {
	msg.Seq = s.o.Txn.Counters.Next()
	s.o.Txn.LastAnswer = &msg
	s.actions = append(s.actions, Send{Msg: msg})
}

// acceptMsg records msg as legitimate (§11.3): its sequence number becomes
// the incoming counter, and it has no answer yet.
func (s *clientStep) acceptMsg(msg wire.Message) {
	s.o.Txn.Counters.Accept(msg.Seq)
	s.o.Txn.LastReceived = msg.Method
	s.o.Txn.LastAnswer = nil
}

// answered stops retransmitting the pending request: an answer arrived.
func (s *clientStep) answered() {
	s.o.Txn.Unanswered = nil
	s.o.Txn.Retries = 0
	s.stopTimer(TimerRetransmit)
}

// checkProvider checks the PROVIDER_ORDER_IDENTIFIER of msg against the one
// recorded (Table 5; §11.1.1: an OFFER whose identifier differs from the
// PROCESSING's is silently ignored) and records it when none is known yet.
// It refuses an identifier equal to the customer's (§13: "Means to detect
// swapping of these identifiers ... should be enabled"). It reports whether
// msg may be processed; when not, the input is discarded.
func (s *clientStep) checkProvider(msg wire.Message) bool {
	switch {
	case msg.ProviderOrderID == "":
		s.discard(msg.Method.String() + " carries no provider order identifier (§9.1.2)")
		return false
	case s.o.ProviderOrderID == "" && msg.ProviderOrderID == s.o.CustomerOrderID:
		s.discard("provider order identifier equals the customer order identifier (§13)")
		return false
	case s.o.ProviderOrderID == "":
		s.o.ProviderOrderID = msg.ProviderOrderID
		return true
	case msg.ProviderOrderID != s.o.ProviderOrderID:
		s.discard("provider order identifier does not match the order (Table 5, §11.1.1)")
		return false
	}
	return true
}

// currentRequest is the request under negotiation: the UPDATE's during an
// UPDATE cycle, else the QUOTATION's.
func (o *ClientOrder) currentRequest() Request {
	if o.Txn.Kind == TxnUpdate && o.Update != nil {
		return *o.Update
	}
	return o.Request
}
