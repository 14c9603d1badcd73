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

package clock

import "time"

// Clock tells the time and makes timers. Real is backed by package time;
// cpnptest.FakeClock is moved by hand.
type Clock interface {
	// Now returns the current time. Real's carries a monotonic reading.
	Now() time.Time
	// NewTimer returns a timer that sends the time on its channel once d has
	// elapsed, like time.NewTimer.
	NewTimer(d time.Duration) Timer
	// AfterFunc returns a timer that calls f in its own goroutine once d has
	// elapsed, like time.AfterFunc. Its C is nil.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a single-shot timer, with the semantics of *time.Timer as of
// Go 1.23: after Stop or Reset returns, no stale value is received from C.
type Timer interface {
	// C is the channel the time is sent on; nil for an AfterFunc timer.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether the call
	// stopped it, false if it had already fired or been stopped.
	Stop() bool
	// Reset makes the timer fire d from now, stopping it first. It reports
	// whether the timer was active (had not fired nor been stopped).
	Reset(d time.Duration) bool
}

// Real returns the clock of package time.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

// realTimer adapts *time.Timer, whose channel is a field, to Timer.
type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }
