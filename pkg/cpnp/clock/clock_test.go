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

package clock_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/clock"
)

// long bounds every wait in these tests; it is never reached unless the
// clock is broken, and the tests assert on events, not on elapsed time.
const long = 10 * time.Second

func TestRealNow(t *testing.T) {
	t.Parallel()
	c := clock.Real()
	before := time.Now()
	got := c.Now()
	after := time.Now()
	if got.Before(before) || got.After(after) {
		t.Errorf("Now() = %v, want between %v and %v", got, before, after)
	}
	// A monotonic reading makes Sub immune to wall-clock steps.
	// (time.Time.String shows it as "m=±<seconds>".)
	if !strings.Contains(got.String(), " m=") {
		t.Errorf("Now() = %v has no monotonic reading, want one", got)
	}
}

func TestRealTimerFires(t *testing.T) {
	t.Parallel()
	c := clock.Real()
	start := c.Now()
	tm := c.NewTimer(time.Millisecond)
	select {
	case fired := <-tm.C():
		if fired.Before(start.Add(time.Millisecond)) {
			t.Errorf("fired at %v, want at or after %v", fired, start.Add(time.Millisecond))
		}
	case <-time.After(long):
		t.Fatal("timer did not fire")
	}
	if tm.Stop() {
		t.Errorf("Stop() after firing = true, want false")
	}
	// Reset re-arms a fired timer.
	if tm.Reset(time.Millisecond) {
		t.Errorf("Reset() after firing = true, want false")
	}
	select {
	case <-tm.C():
	case <-time.After(long):
		t.Fatal("reset timer did not fire")
	}
}

func TestRealTimerStop(t *testing.T) {
	t.Parallel()
	tm := clock.Real().NewTimer(time.Hour)
	if !tm.Stop() {
		t.Errorf("Stop() on an armed timer = false, want true")
	}
	if tm.Stop() {
		t.Errorf("second Stop() = true, want false")
	}
	if tm.Reset(time.Hour) {
		t.Errorf("Reset() on a stopped timer = true, want false")
	}
	if !tm.Reset(time.Hour) {
		t.Errorf("Reset() on an armed timer = false, want true")
	}
	tm.Stop()
}

func TestRealAfterFunc(t *testing.T) {
	t.Parallel()
	c := clock.Real()
	done := make(chan struct{})
	tm := c.AfterFunc(time.Millisecond, func() { close(done) })
	if tm.C() != nil {
		t.Errorf("AfterFunc timer C() = %v, want nil", tm.C())
	}
	select {
	case <-done:
	case <-time.After(long):
		t.Fatal("AfterFunc did not run")
	}
	stopped := c.AfterFunc(time.Hour, func() { t.Error("stopped AfterFunc ran") })
	if !stopped.Stop() {
		t.Errorf("Stop() on an armed AfterFunc = false, want true")
	}
}
