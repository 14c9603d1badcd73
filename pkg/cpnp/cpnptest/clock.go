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

package cpnptest

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/clock"
)

// FakeClock is a clock.Clock that moves only when told to (Advance, Set), so
// tests of the shells drive their timers deterministically instead of
// sleeping. Timers whose deadline is reached fire in deadline order (ties in
// the order they were armed); while one fires, Now is its deadline, so a
// channel timer receives exactly its deadline. AfterFunc callbacks run in
// their own goroutine, as with package time, so Advance does not wait for
// them. A timer armed with d <= 0 fires at once.
//
// Timers follow the Go 1.23 semantics of *time.Timer that clock.Timer
// documents: Stop and Reset drain a value that was sent but not received, and
// then report true, so no stale value is received after they return.
//
// Waiters (the number of armed timers) and WaitForWaiters let a test wait,
// without sleeping, until the code under test has armed its timers in another
// goroutine, before it advances the clock.
//
// A FakeClock is safe for concurrent use.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	timers  timerHeap
	changed chan struct{} // closed when the number of waiters changes; nil when nobody waits
}

var _ clock.Clock = (*FakeClock)(nil)

// NewFakeClock returns a fake clock that reads t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that sends the fake time on its channel once the
// clock has moved d past now.
func (c *FakeClock) NewTimer(d time.Duration) clock.Timer {
	t := &fakeTimer{c: c, index: -1, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armLocked(t, d)
	return t
}

// AfterFunc returns a timer that calls f in its own goroutine once the clock
// has moved d past now. Its C is nil.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := &fakeTimer{c: c, index: -1, fn: f}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armLocked(t, d)
	return t
}

// Advance moves the clock forward by d, firing every timer whose deadline is
// reached on the way. A negative d moves the clock back and fires nothing.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
}

// Set moves the clock to t, firing every timer whose deadline is at or before
// t when t is later than now. Moving the clock back fires nothing; armed
// timers keep their deadlines.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(t)
}

// Waiters is the number of armed timers: created or reset, and neither fired
// nor stopped.
func (c *FakeClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// HasWaiters reports whether any timer is armed.
func (c *FakeClock) HasWaiters() bool { return c.Waiters() > 0 }

// WaitForWaiters blocks until at least n timers are armed, or ctx is done;
// it then returns an error wrapping ctx.Err().
func (c *FakeClock) WaitForWaiters(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		have := len(c.timers)
		if have >= n {
			c.mu.Unlock()
			return nil
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for %d fake clock waiters (have %d): %w", n, have, ctx.Err())
		}
	}
}

// BlockUntil blocks until at least n timers are armed. Prefer
// WaitForWaiters with a deadline, which cannot hang a test.
func (c *FakeClock) BlockUntil(n int) {
	_ = c.WaitForWaiters(context.Background(), n) // cannot fail: Background is never done
}

// setLocked moves the clock to target, firing due timers in deadline order.
func (c *FakeClock) setLocked(target time.Time) {
	fired := false
	for {
		t := c.popDueLocked(target)
		if t == nil {
			break
		}
		fired = true
		if t.when.After(c.now) {
			c.now = t.when
		}
		t.fireLocked()
	}
	c.now = target
	if fired {
		c.notifyLocked()
	}
}

// popDueLocked removes and returns the armed timer with the earliest deadline
// at or before target (ties: the first armed), or nil.
func (c *FakeClock) popDueLocked(target time.Time) *fakeTimer {
	if len(c.timers) == 0 || c.timers[0].when.After(target) {
		return nil
	}
	return heap.Pop(&c.timers).(*fakeTimer)
}

// armLocked arms t to fire d from now, or fires it at once when d <= 0.
func (c *FakeClock) armLocked(t *fakeTimer, d time.Duration) {
	t.when = c.now.Add(d)
	if d <= 0 {
		t.fireLocked()
		return
	}
	c.seq++
	t.seq = c.seq
	heap.Push(&c.timers, t)
	c.notifyLocked()
}

// notifyLocked wakes WaitForWaiters callers after the number of waiters changed.
func (c *FakeClock) notifyLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// fakeTimer is a timer of a FakeClock; its fields are guarded by c.mu.
type fakeTimer struct {
	c     *FakeClock
	when  time.Time
	seq   uint64         // arm order, to break deadline ties
	index int            // position in c.timers; -1 when not armed
	ch    chan time.Time // nil for AfterFunc timers
	fn    func()
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.stopLocked()
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	active := t.stopLocked()
	t.c.armLocked(t, d)
	return active
}

// stopLocked disarms t and drains an unreceived value; it reports whether t
// was armed or had a value pending.
func (t *fakeTimer) stopLocked() bool {
	active := t.index >= 0
	if active {
		heap.Remove(&t.c.timers, t.index)
		t.c.notifyLocked()
	}
	if t.ch != nil {
		select {
		case <-t.ch:
			active = true
		default:
		}
	}
	return active
}

// fireLocked sends the current fake time, or starts the callback.
func (t *fakeTimer) fireLocked() {
	if t.ch != nil {
		select {
		case t.ch <- t.c.now:
		default: // unreachable: the buffer is drained before every re-arm
		}
		return
	}
	go t.fn()
}

// timerHeap orders armed timers by deadline, then arm order.
type timerHeap []*fakeTimer

func (h timerHeap) Len() int { return len(h) }

func (h timerHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}

func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *timerHeap) Push(x any) {
	t := x.(*fakeTimer)
	t.index = len(*h)
	*h = append(*h, t)
}

func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}
