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

package cpnptest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/clock"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// long bounds waits for goroutines; it is reached only when the clock is broken.
const long = 10 * time.Second

// received returns the value pending on c, if any, without blocking.
func received(c <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-c:
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestFakeClockNowAdvanceSet(t *testing.T) {
	t.Parallel()
	c := cpnptest.NewFakeClock(t0)
	var _ clock.Clock = c
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("Now() = %v, want %v", got, t0)
	}
	c.Advance(1500 * time.Millisecond)
	if got, want := c.Now(), t0.Add(1500*time.Millisecond); !got.Equal(want) {
		t.Errorf("Now() after Advance = %v, want %v", got, want)
	}
	c.Set(t0.Add(time.Hour))
	if got, want := c.Now(), t0.Add(time.Hour); !got.Equal(want) {
		t.Errorf("Now() after Set = %v, want %v", got, want)
	}
	c.Set(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Errorf("Now() after Set back = %v, want %v", got, t0)
	}
	c.Advance(-time.Minute)
	if got, want := c.Now(), t0.Add(-time.Minute); !got.Equal(want) {
		t.Errorf("Now() after negative Advance = %v, want %v", got, want)
	}
}

// TestFakeClockTimerFires checks the RETRANS_TIMER pattern of RFC 8921 §11.4:
// nothing fires before the deadline, the timer fires at it, and a channel
// timer receives its deadline.
func TestFakeClockTimerFires(t *testing.T) {
	t.Parallel()
	c := cpnptest.NewFakeClock(t0)
	tm := c.NewTimer(time.Second)
	if got := c.Waiters(); got != 1 {
		t.Errorf("Waiters() = %d, want 1", got)
	}
	c.Advance(999 * time.Millisecond)
	if v, ok := received(tm.C()); ok {
		t.Fatalf("timer fired at %v, before its deadline", v)
	}
	c.Advance(time.Millisecond)
	v, ok := received(tm.C())
	if !ok {
		t.Fatal("timer did not fire at its deadline")
	}
	if want := t0.Add(time.Second); !v.Equal(want) {
		t.Errorf("timer sent %v, want %v", v, want)
	}
	if c.HasWaiters() {
		t.Errorf("HasWaiters() after firing = true, want false")
	}
}

// TestFakeClockStepsThroughDeadlines checks that one large Advance fires
// every due timer at its own deadline (each channel receives its deadline,
// not the end of the Advance) and leaves later ones armed.
func TestFakeClockStepsThroughDeadlines(t *testing.T) {
	t.Parallel()
	c := cpnptest.NewFakeClock(t0)
	delays := []time.Duration{3 * time.Second, time.Second, 2 * time.Second, 10 * time.Second}
	var timers []clock.Timer
	for _, d := range delays {
		timers = append(timers, c.NewTimer(d))
	}
	c.Advance(5 * time.Second)
	var got []time.Duration
	for i, tm := range timers {
		v, ok := received(tm.C())
		if !ok {
			got = append(got, -1)
			continue
		}
		got = append(got, v.Sub(t0))
		if delays[i] > 5*time.Second {
			t.Errorf("timer %d (%v) fired early", i, delays[i])
		}
	}
	want := []time.Duration{3 * time.Second, time.Second, 2 * time.Second, -1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fire times (-1 = not fired) mismatch (-want +got):\n%s", diff)
	}
	if got, want := c.Now(), t0.Add(5*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
	if got := c.Waiters(); got != 1 {
		t.Errorf("Waiters() = %d, want 1", got)
	}
	c.Set(t0.Add(10 * time.Second))
	if v, ok := received(timers[3].C()); !ok || !v.Equal(t0.Add(10*time.Second)) {
		t.Errorf("Set: last timer got %v, %v; want %v, true", v, ok, t0.Add(10*time.Second))
	}
}

func TestFakeClockImmediate(t *testing.T) {
	t.Parallel()
	c := cpnptest.NewFakeClock(t0)
	for _, d := range []time.Duration{0, -time.Second} {
		tm := c.NewTimer(d)
		if v, ok := received(tm.C()); !ok || !v.Equal(t0) {
			t.Errorf("NewTimer(%v): got %v, %v; want %v, true", d, v, ok, t0)
		}
	}
	done := make(chan struct{})
	c.AfterFunc(0, func() { close(done) })
	select {
	case <-done:
	case <-time.After(long):
		t.Fatal("AfterFunc(0) did not run")
	}
	if c.HasWaiters() {
		t.Errorf("HasWaiters() = true, want false")
	}
}

// TestFakeClockStopReset checks the Go 1.23 timer semantics that
// clock.Timer documents.
func TestFakeClockStopReset(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		run func(c *cpnptest.FakeClock, tm clock.Timer) []bool
		// want: the results of Stop/Reset calls, in order.
		want []bool
		// wantFireAt: where the timer fires after the calls (0 = never within 1 h).
		wantFireAt time.Duration
	}{
		"stop an armed timer": {
			run:  func(_ *cpnptest.FakeClock, tm clock.Timer) []bool { return []bool{tm.Stop(), tm.Stop()} },
			want: []bool{true, false},
		},
		"stop after firing, value not received": {
			run: func(c *cpnptest.FakeClock, tm clock.Timer) []bool {
				c.Advance(time.Second)
				return []bool{tm.Stop(), tm.Stop()}
			},
			want: []bool{true, false},
		},
		"reset an armed timer": {
			run: func(c *cpnptest.FakeClock, tm clock.Timer) []bool {
				c.Advance(500 * time.Millisecond)
				return []bool{tm.Reset(2 * time.Second)}
			},
			want:       []bool{true},
			wantFireAt: 2500 * time.Millisecond,
		},
		"reset a stopped timer": {
			run: func(_ *cpnptest.FakeClock, tm clock.Timer) []bool {
				return []bool{tm.Stop(), tm.Reset(3 * time.Second)}
			},
			want:       []bool{true, false},
			wantFireAt: 3 * time.Second,
		},
		"reset drops the stale value": {
			run: func(c *cpnptest.FakeClock, tm clock.Timer) []bool {
				c.Advance(time.Second) // fired, not received
				return []bool{tm.Reset(time.Minute)}
			},
			want:       []bool{true},
			wantFireAt: time.Second + time.Minute,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := cpnptest.NewFakeClock(t0)
			tm := c.NewTimer(time.Second)
			got := tc.run(c, tm)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Stop/Reset results mismatch (-want +got):\n%s", diff)
			}
			if v, ok := received(tm.C()); ok {
				t.Fatalf("stale value %v received after Stop/Reset", v)
			}
			c.Set(t0.Add(time.Hour))
			v, ok := received(tm.C())
			switch {
			case tc.wantFireAt == 0 && ok:
				t.Errorf("timer fired at %v, want never", v.Sub(t0))
			case tc.wantFireAt != 0 && !ok:
				t.Errorf("timer did not fire, want at %v", tc.wantFireAt)
			case tc.wantFireAt != 0 && !v.Equal(t0.Add(tc.wantFireAt)):
				t.Errorf("timer fired at %v, want %v", v.Sub(t0), tc.wantFireAt)
			}
		})
	}
}

func TestFakeClockAfterFunc(t *testing.T) {
	t.Parallel()
	c := cpnptest.NewFakeClock(t0)
	ran := make(chan time.Time, 2)
	tm := c.AfterFunc(time.Second, func() { ran <- c.Now() })
	if tm.C() != nil {
		t.Errorf("AfterFunc timer C() = %v, want nil", tm.C())
	}
	c.Advance(999 * time.Millisecond)
	select {
	case <-ran:
		t.Fatal("AfterFunc ran before its deadline")
	default:
	}
	c.Advance(time.Millisecond)
	select {
	case at := <-ran:
		if want := t0.Add(time.Second); !at.Equal(want) {
			t.Errorf("callback saw Now() = %v, want %v", at, want)
		}
	case <-time.After(long):
		t.Fatal("AfterFunc did not run")
	}
	if tm.Stop() {
		t.Errorf("Stop() after the callback started = true, want false")
	}
	// Reset re-arms it: the callback runs again.
	if tm.Reset(time.Second) {
		t.Errorf("Reset() after firing = true, want false")
	}
	c.Advance(time.Second)
	select {
	case <-ran:
	case <-time.After(long):
		t.Fatal("reset AfterFunc did not run")
	}
	stopped := c.AfterFunc(time.Second, func() { ran <- time.Time{} })
	if !stopped.Stop() {
		t.Errorf("Stop() on an armed AfterFunc = false, want true")
	}
	c.Advance(time.Hour)
	if got := len(ran); got != 0 {
		t.Errorf("stopped AfterFunc ran (%d values)", got)
	}
}

// TestFakeClockWaitForWaiters is the pattern engine tests use: a goroutine
// arms a timer when it gets to it; the test waits for the timer to be armed,
// then advances past it, with no sleep.
func TestFakeClockWaitForWaiters(t *testing.T) {
	t.Parallel()
	c := cpnptest.NewFakeClock(t0)
	start := make(chan struct{})
	fired := make(chan time.Time)
	go func() {
		<-start
		tm := c.NewTimer(time.Second) // a retransmission timer (§11.4)
		fired <- <-tm.C()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), long)
	defer cancel()
	waited := make(chan error, 1)
	go func() { waited <- c.WaitForWaiters(ctx, 1) }()
	close(start)
	if err := <-waited; err != nil {
		t.Fatalf("WaitForWaiters: %v", err)
	}
	c.Advance(time.Second)
	select {
	case v := <-fired:
		if want := t0.Add(time.Second); !v.Equal(want) {
			t.Errorf("fired at %v, want %v", v, want)
		}
	case <-time.After(long):
		t.Fatal("timer did not fire")
	}
}

func TestFakeClockBlockUntil(t *testing.T) {
	t.Parallel()
	c := cpnptest.NewFakeClock(t0)
	c.BlockUntil(0) // returns at once
	done := make(chan struct{})
	go func() {
		c.BlockUntil(2)
		close(done)
	}()
	c.AfterFunc(time.Second, func() {})
	select {
	case <-done:
		t.Fatal("BlockUntil(2) returned with one waiter")
	default:
	}
	c.NewTimer(time.Second)
	select {
	case <-done:
	case <-time.After(long):
		t.Fatal("BlockUntil(2) did not return with two waiters")
	}
}

func TestFakeClockWaitForWaitersContext(t *testing.T) {
	t.Parallel()
	c := cpnptest.NewFakeClock(t0)
	c.NewTimer(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.WaitForWaiters(ctx, 2)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WaitForWaiters(cancelled, 2) = %v, want an error wrapping context.Canceled", err)
	}
	if err := c.WaitForWaiters(ctx, 1); err != nil {
		t.Errorf("WaitForWaiters(cancelled, 1) with one waiter = %v, want nil", err)
	}
}

// TestFakeClockConcurrent exercises the clock from many goroutines under the
// race detector: timers armed, reset and stopped while the clock advances.
func TestFakeClockConcurrent(t *testing.T) {
	t.Parallel()
	c := cpnptest.NewFakeClock(t0)
	const workers, rounds = 8, 200
	var (
		wg    sync.WaitGroup
		calls sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				d := time.Duration(1+(w+i)%5) * time.Millisecond
				tm := c.NewTimer(d)
				if i%3 == 0 {
					tm.Reset(d)
				}
				calls.Add(1)
				af := c.AfterFunc(d, calls.Done)
				if i%2 == 0 && af.Stop() {
					calls.Done()
				}
				tm.Stop()
				_ = c.Now()
				_ = c.Waiters()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range rounds {
			c.Advance(time.Millisecond)
		}
	}()
	wg.Wait()
	c.Advance(time.Hour) // fire every AfterFunc that is still armed
	done := make(chan struct{})
	go func() { calls.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(long):
		t.Fatal("some AfterFunc callbacks neither ran nor were stopped")
	}
	if got := c.Waiters(); got != 0 {
		t.Errorf("Waiters() = %d, want 0", got)
	}
}
