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
	"testing"
	"time"
)

// EarliestTimer picks the earliest deadline, the smallest timer ID among
// equal ones, and leaves out the timers skip names: the client engine arms
// its clock with it (without the timers it saw fire) and the orders'
// NextDeadline use it, so both pick the same timer (§8.5, §11.4).
func TestEarliestTimer(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	timers := map[TimerID]time.Time{
		TimerValidity:   t0.Add(time.Minute),
		TimerRetransmit: t0,
		"Activation":    t0, // ties with Retransmit; sorts first
	}
	skipNone := func(TimerID, time.Time) bool { return false }
	skipActivationAt := func(at time.Time) func(TimerID, time.Time) bool {
		return func(id TimerID, t time.Time) bool { return id == "Activation" && t.Equal(at) }
	}
	tests := []struct {
		name   string
		timers map[TimerID]time.Time
		skip   func(TimerID, time.Time) bool
		wantID TimerID
		wantAt time.Time
		wantOK bool
	}{
		{name: "no timers", timers: nil},
		{name: "tie goes to the smaller ID", timers: timers, wantID: "Activation", wantAt: t0, wantOK: true},
		{name: "skip that skips nothing", timers: timers, skip: skipNone, wantID: "Activation", wantAt: t0, wantOK: true},
		{name: "skipped timer leaves the other of the tie", timers: timers, skip: skipActivationAt(t0), wantID: TimerRetransmit, wantAt: t0, wantOK: true},
		{name: "skip matches the ID only at its deadline", timers: timers, skip: skipActivationAt(t0.Add(time.Second)), wantID: "Activation", wantAt: t0, wantOK: true},
		{name: "everything skipped", timers: timers, skip: func(TimerID, time.Time) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, at, ok := EarliestTimer(tt.timers, tt.skip)
			if id != tt.wantID || !at.Equal(tt.wantAt) || ok != tt.wantOK {
				t.Errorf("EarliestTimer: got %q %s %t, want %q %s %t", id, at, ok, tt.wantID, tt.wantAt, tt.wantOK)
			}
		})
	}
	if id, at, ok := (ClientOrder{Timers: timers}).NextDeadline(); id != "Activation" || !at.Equal(t0) || !ok {
		t.Errorf("ClientOrder.NextDeadline: got %q %s %t, want Activation %s true", id, at, ok, t0)
	}
}
