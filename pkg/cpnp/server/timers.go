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

package server

import (
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
)

// nextTimer returns the earliest armed timer of o or of its child order
// (§8.8: the child's timers are in Child.Order.Timers), and whether it is
// the child's. Ties go to the order's own timer.
func nextTimer(o *fsm.ServerOrder) (fsm.TimerID, time.Time, bool, bool) {
	id, at, ok := o.NextDeadline()
	if o.Child == nil {
		return id, at, false, ok
	}
	cid, cat, cok := o.Child.Order.NextDeadline()
	if cok && (!ok || cat.Before(at)) {
		return cid, cat, true, true
	}
	return id, at, false, ok
}

// deadline is one scheduled wake-up of an order. An order has at most one
// live deadline (entry.deadline); a deadline whose time no longer equals
// its order's is stale and skipped when it comes up (lazy deletion).
type deadline struct {
	at   time.Time
	poid string
}

// deadlineHeap is a binary min-heap of deadlines by time. It is typed
// (not container/heap) so that pushing and popping box nothing: the loop
// schedules an order after every step.
type deadlineHeap []deadline

// push adds d.
func (h *deadlineHeap) push(d deadline) {
	*h = append(*h, d)
	a := *h
	for i := len(a) - 1; i > 0; {
		parent := (i - 1) / 2
		if !a[i].at.Before(a[parent].at) {
			break
		}
		a[i], a[parent] = a[parent], a[i]
		i = parent
	}
}

// pop removes and returns the earliest deadline; h must not be empty.
func (h *deadlineHeap) pop() deadline {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a[last] = deadline{}
	a = a[:last]
	for i := 0; ; {
		l, r, least := 2*i+1, 2*i+2, i
		if l < len(a) && a[l].at.Before(a[least].at) {
			least = l
		}
		if r < len(a) && a[r].at.Before(a[least].at) {
			least = r
		}
		if least == i {
			break
		}
		a[i], a[least] = a[least], a[i]
		i = least
	}
	*h = a
	return top
}

// wakeAt returns when e must be stepped next: the earliest timer of its
// order (RFC 8921 §8.5, §11.4), or for a terminal order the end of its
// retention; zero when never.
func (s *Server) wakeAt(e *entry) time.Time {
	o := &e.rec.Order
	if _, at, _, ok := nextTimer(o); ok {
		return at
	}
	if o.Terminal() {
		return e.rec.Updated.Add(s.cfg.TerminalRetention)
	}
	return time.Time{}
}

// schedule puts e's next wake-up in the heap when it changed.
func (s *Server) schedule(e *entry) {
	at := s.wakeAt(e)
	if at.Equal(e.deadline) {
		return
	}
	e.deadline = at
	if at.IsZero() {
		return
	}
	s.deadlines.push(deadline{at: at, poid: e.rec.Order.ProviderOrderID})
	s.armTimer()
}

// armTimer arms the engine's one clock timer for the earliest live
// deadline, dropping stale ones from the top of the heap.
func (s *Server) armTimer() {
	for len(s.deadlines) > 0 {
		top := s.deadlines[0]
		if e := s.orders[top.poid]; e != nil && e.deadline.Equal(top.at) {
			break
		}
		s.deadlines.pop()
	}
	if len(s.deadlines) == 0 {
		if s.timer != nil && !s.timerAt.IsZero() {
			s.timer.Stop()
		}
		s.timerAt = time.Time{}
		return
	}
	at := s.deadlines[0].at
	if at.Equal(s.timerAt) {
		return
	}
	d := max(at.Sub(s.clk.Now()), 0)
	if s.timer == nil {
		s.timer = s.clk.AfterFunc(d, s.wakeTimer)
	} else {
		s.timer.Reset(d)
	}
	s.timerAt = at
}

// wakeTimer runs in the clock's goroutine: it only wakes the loop.
func (s *Server) wakeTimer() { notify(s.timerWake) }

// onTimers steps every order whose deadline has passed.
func (s *Server) onTimers() {
	now := s.clk.Now()
	s.timerAt = time.Time{}
	var due []*entry
	for len(s.deadlines) > 0 && !s.deadlines[0].at.After(now) {
		d := s.deadlines.pop()
		e := s.orders[d.poid]
		if e == nil || !e.deadline.Equal(d.at) {
			continue
		}
		e.deadline = time.Time{}
		due = append(due, e)
	}
	for _, e := range due {
		s.fireTimers(e, now)
	}
	s.armTimer()
}

// maxTimerSteps bounds the timers fired for one order in one wake-up, so
// that a machine bug that re-arms a timer in the past cannot spin the loop.
const maxTimerSteps = 16

// fireTimers steps e with every timer of its order that is due at now, in
// deadline order, then deletes it when its retention is over.
func (s *Server) fireTimers(e *entry, now time.Time) {
	for range maxTimerSteps {
		id, at, child, ok := nextTimer(&e.rec.Order)
		if !ok || at.After(now) {
			break
		}
		ev := timerEvent(id, now)
		if child {
			ev = fsm.ChildEvent{Event: ev} // a timer of the child order (§8.8)
		}
		s.stepOrder(e, nil, nil, ev)
		if e.deleted {
			return
		}
	}
	if o := &e.rec.Order; o.Terminal() && !now.Before(e.rec.Updated.Add(s.cfg.TerminalRetention)) {
		s.deleteOrder(e)
		return
	}
	s.schedule(e)
}
