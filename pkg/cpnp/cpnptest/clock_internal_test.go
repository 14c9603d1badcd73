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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFakeClockDeadlineOrder checks the order in which due timers fire:
// by deadline, and in arm order for equal deadlines. (AfterFunc callbacks
// start in this order but run in goroutines, so the order is checked here, on
// the timer queue itself.)
func TestFakeClockDeadlineOrder(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewFakeClock(t0)
	arm := []struct {
		name string
		d    time.Duration
	}{
		{"c", 3 * time.Second}, {"a1", time.Second}, {"late", time.Minute},
		{"b", 2 * time.Second}, {"a2", time.Second}, {"stopped", time.Second},
	}
	names := map[*fakeTimer]string{}
	for _, a := range arm {
		tm := c.AfterFunc(a.d, func() {}).(*fakeTimer)
		names[tm] = a.name
		if a.name == "stopped" {
			tm.Stop()
		}
	}
	var got []string
	c.mu.Lock()
	target := t0.Add(5 * time.Second)
	for tm := c.popDueLocked(target); tm != nil; tm = c.popDueLocked(target) {
		got = append(got, names[tm])
	}
	left := len(c.timers)
	c.mu.Unlock()
	want := []string{"a1", "a2", "b", "c"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fire order mismatch (-want +got):\n%s", diff)
	}
	if left != 1 {
		t.Errorf("%d timers left armed, want 1 (late)", left)
	}
}
