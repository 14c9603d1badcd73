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

package client

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
)

// step advances one order by one event and executes the machine's actions
// (see the package documentation). It returns the machine's reason when
// the machine only discarded the event (nothing changed), and an error when
// the step was not applied: a message it would send is invalid, or the
// Store failed. In both cases the order is unchanged and nothing was sent.
func (e *Engine) step(ctx context.Context, ent *entry, ev fsm.Event) (string, error) {
	before := ent.order
	next, actions := e.cfg.Machine.Step(before.FSM, ev)
	if len(actions) == 1 {
		if d, ok := actions[0].(fsm.Discard); ok {
			return d.Reason, nil
		}
	}
	persist := false
	// The step's transitions and events go to the loop's scratch slices
	// (step runs on the loop goroutine only), cleared before they return
	// so that they pin no order.
	transitions := e.transitions[:0]
	defer func() {
		clear(transitions)
		e.transitions = transitions[:0]
	}()
	for _, a := range actions {
		switch a := a.(type) {
		case fsm.Send:
			if err := a.Msg.Validate(); err != nil {
				return "", fmt.Errorf("%w: the %s to send would be invalid: %w", ErrInvalidRequest, a.Msg.Method, err)
			}
		case fsm.Persist:
			persist = true
		case fsm.Transition:
			transitions = append(transitions, a)
		}
	}

	after := before
	after.FSM = next
	if persist {
		after.UpdatedAt = ev.When()
		after.History = appendHistory(before.History, transitions, e.cfg.MaxHistory)
		// Write-ahead (DESIGN §4): durable before anything of this step is sent.
		if err := e.cfg.Store.Save(ctx, publishedOrder(after)); err != nil {
			e.cfg.Metrics.storeFailed()
			e.log.Error(err, "Failed to store order; step not applied", "customerOrderID", before.ID())
			return "", fmt.Errorf("store order %q: %w", before.ID(), err)
		}
		ent.dead = nil
	}
	ent.order = after
	// The loop's order is immutable once built: Step is copy-on-write and
	// never changes its input (fsm.ClientOrder), the engine replaces
	// ent.order instead of changing it, and appendHistory only writes past
	// the length of every History published before. So the published
	// order, which Get copies and the step's events share, is the loop's
	// own, as the Store's is (Store.Save), without a deep copy per step.
	snap := publishedOrder(after)
	e.publish(snap)

	events := e.events[:0]
	defer func() {
		clear(events)
		e.events = events[:0]
	}()
	var shared *Order // the step's events share one copy of snap
	eventOrder := func() *Order {
		if shared == nil {
			shared = new(Order)
			*shared = snap
		}
		return shared
	}
	for _, a := range actions {
		switch a := a.(type) {
		case fsm.Send:
			e.send(ent, a)
		case fsm.Transition:
			events = append(events, e.transition(before, eventOrder(), a))
		case fsm.Alarm:
			events = append(events, e.alarm(eventOrder(), a))
		case fsm.Discard:
			if log := e.log.V(1); log.Enabled() {
				log.Info("Discarded input", "customerOrderID", after.ID(), "reason", a.Reason)
			}
		}
	}
	if _, ok := ev.(fsm.MsgReceived); ok {
		e.roundTrip(ent, before.FSM, next, ev.When())
	}
	// Arm the timers before telling anyone, so that a subscriber that saw
	// the event finds the order's timers running.
	e.rearm(ent, 0)
	for _, ev := range events {
		e.emit(ev)
	}
	return "", nil
}

// appendHistory returns h with ts appended, keeping the last maxLen
// entries, in amortized constant time. The orders published before (Get,
// Events, the Store) share h's array, so it never writes an element they
// can see: it writes only past len(h), into spare capacity that no
// published order covers (the loop appends to its latest order only; every
// order it hands out is clipped, publishedOrder; and a step whose Save
// failed is forgotten before anything else saw it). When the spare
// capacity runs out it copies what it keeps to a new array with room to
// grow.
func appendHistory(h []fsm.Transition, ts []fsm.Transition, maxLen int) []fsm.Transition {
	if len(ts) == 0 {
		return h
	}
	if len(ts) > maxLen {
		ts = ts[len(ts)-maxLen:]
	}
	keep := h
	if drop := len(h) + len(ts) - maxLen; drop > 0 {
		keep = h[drop:]
	}
	if len(keep)+len(ts) <= cap(keep) {
		return append(keep, ts...)
	}
	out := make([]fsm.Transition, 0, max(2*(len(keep)+len(ts)), minHistoryCap))
	return append(append(out, keep...), ts...)
}

// minHistoryCap is the smallest capacity appendHistory allocates: a
// negotiation (Figure 6) records about six transitions.
const minHistoryCap = 8

// publishedOrder is o as the engine hands it out (Store, Get, Events): its
// History clipped to its length, so that a reader's append copies it
// instead of writing into the spare capacity the loop appends to.
func publishedOrder(o Order) Order {
	o.History = slices.Clip(o.History)
	return o
}

// send queues a message on its server's outbox.
func (e *Engine) send(ent *entry, s fsm.Send) {
	msg := s.Msg
	server := ent.order.Server
	if s.Retransmission {
		e.cfg.Metrics.retransmitted()
		if msg.Seq == ent.rttSeq && msg.Method == ent.rttMethod {
			ent.rttRetransmitted = true
		}
	} else if u := ent.order.FSM.Txn.Unanswered; u != nil && u.Seq == msg.Seq && u.Method == msg.Method {
		ent.rttSeq, ent.rttMethod, ent.rttSentAt, ent.rttRetransmitted = msg.Seq, msg.Method, e.now(), false
	}
	// Logging calls are guarded: their key/value arguments allocate even
	// when the level is off.
	if log := e.log.V(1); log.Enabled() {
		log.Info("Sending message", "customerOrderID", msg.CustomerOrderID, "peer", server,
			"method", msg.Method.String(), "transactionID", msg.TransactionID, "seq", msg.Seq,
			"retransmission", s.Retransmission)
	}
	e.mu.RLock()
	ob := e.outboxes[server]
	e.mu.RUnlock()
	if ob == nil {
		e.cfg.Metrics.sendFailed()
		e.log.V(1).Info("Dropped message: server not added", "peer", server, "method", msg.Method.String(),
			"customerOrderID", msg.CustomerOrderID)
		return
	}
	if e.sendDirect(server, ob, msg, s.Retransmission) {
		return
	}
	ob.pending.Add(1)
	select {
	case ob.ch <- outItem{msg: msg, retransmission: s.Retransmission}:
	default:
		ob.pending.Add(-1)
		e.cfg.Metrics.sendFailed()
		e.log.V(1).Info("Dropped message: outbox full", "peer", server, "method", msg.Method.String(),
			"customerOrderID", msg.CustomerOrderID)
	}
}

// roundTrip reports the round trip of the request that the received
// message answered, unless it was retransmitted (Karn's rule).
func (e *Engine) roundTrip(ent *entry, before, after fsm.ClientOrder, at time.Time) {
	u := before.Txn.Unanswered
	if u == nil {
		return
	}
	if a := after.Txn.Unanswered; a != nil && after.Txn.ID == before.Txn.ID && a.Seq == u.Seq {
		return // still unanswered
	}
	if ent.rttSentAt.IsZero() || ent.rttSeq != u.Seq || ent.rttMethod != u.Method {
		return
	}
	rtt, retransmitted := at.Sub(ent.rttSentAt), ent.rttRetransmitted
	ent.rttSentAt = time.Time{}
	if retransmitted {
		return
	}
	e.cfg.Metrics.roundTrip(rtt)
	if e.cfg.OnRoundTrip != nil {
		e.cfg.OnRoundTrip(ent.order.Server, u.Method, rtt)
	}
}

// transition logs a Transition and returns its Event; after is (a copy
// of) the published order, which the Event shares.
func (e *Engine) transition(before Order, after *Order, t fsm.Transition) Event {
	if log := e.log.V(1); log.Enabled() {
		log.Info("Order changed state", "customerOrderID", after.ID(), "providerOrderID", after.FSM.ProviderOrderID,
			"peer", after.Server, "transactionID", after.FSM.Txn.ID, "from", t.From, "state", t.To,
			"event", t.Cause, "reason", t.Reason, "statusCode", int(t.StatusCode))
	}
	ev := Event{Kind: EventTransition, CustomerOrderID: after.ID(), Server: after.Server, Transition: t, Order: after}
	if t.Reason == "OfferReceived" || t.To == string(fsm.ClientOfferProcessing) {
		ev.Offer = ev.Order.FSM.Offer
	}
	if f := after.FSM.Failure; f != nil && (before.FSM.Failure == nil || *before.FSM.Failure != *f) {
		c := *f
		ev.Failure = &c
	}
	return ev
}

// alarm raises an Alarm (§11.1.2): an error log line, a counter, the hook;
// it returns the Event, which shares o, (a copy of) the published order.
func (e *Engine) alarm(o *Order, a fsm.Alarm) Event {
	e.cfg.Metrics.alarm()
	e.log.Error(nil, "Raised alarm", "customerOrderID", o.ID(), "providerOrderID", o.FSM.ProviderOrderID,
		"peer", o.Server, "state", string(o.FSM.State), "alarm", a.Reason)
	if e.cfg.OnAlarm != nil {
		e.cfg.OnAlarm(o.Clone(), a.Reason)
	}
	return Event{Kind: EventAlarm, CustomerOrderID: o.ID(), Server: o.Server, Alarm: a.Reason, Order: o}
}
