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

package session_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
)

// Reference: RFC 8921 §8.5, §11.4; DESIGN §3 (RETRANS_TIMER 1 s doubling,
// 3 retries).
func TestDefaultRetransmit(t *testing.T) {
	t.Parallel()
	want := session.Retransmit{Timer: time.Second, Backoff: 2, MaxRetries: 3}
	got := session.DefaultRetransmit()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DefaultRetransmit() mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("DefaultRetransmit().Validate() = %v, want nil", err)
	}
}

// Reference: RFC 8921 §11.4 ("If a transaction partner sends out a message
// and does not receive any expected reply before the retransmission timer
// expires ..., a transaction partner will try to retransmit the message").
func TestRetransmitDelay(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		r        session.Retransmit
		attempts []int
		want     []time.Duration
	}{
		"default doubles": {
			r:        session.DefaultRetransmit(),
			attempts: []int{0, 1, 2, 3},
			want:     []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
		},
		"constant": {
			r:        session.Retransmit{Timer: 300 * time.Millisecond, Backoff: 1, MaxRetries: 3},
			attempts: []int{0, 1, 2, 50},
			want:     []time.Duration{300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond},
		},
		"fractional backoff": {
			r:        session.Retransmit{Timer: time.Second, Backoff: 1.5, MaxRetries: 3},
			attempts: []int{0, 1, 2},
			want:     []time.Duration{time.Second, 1500 * time.Millisecond, 2250 * time.Millisecond},
		},
		"max timer caps": {
			r:        session.Retransmit{Timer: time.Second, Backoff: 2, MaxRetries: 5, MaxTimer: 3 * time.Second},
			attempts: []int{0, 1, 2, 3, 4},
			want:     []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second},
		},
		"max timer equal to a step": {
			r:        session.Retransmit{Timer: time.Second, Backoff: 2, MaxRetries: 5, MaxTimer: 4 * time.Second},
			attempts: []int{2, 3},
			want:     []time.Duration{4 * time.Second, 4 * time.Second},
		},
		"max timer below timer caps the first wait": {
			r:        session.Retransmit{Timer: 2 * time.Second, Backoff: 2, MaxRetries: 1, MaxTimer: time.Second},
			attempts: []int{0, 1},
			want:     []time.Duration{time.Second, time.Second},
		},
		"negative attempt counts as the first": {
			r:        session.DefaultRetransmit(),
			attempts: []int{-1, math.MinInt},
			want:     []time.Duration{time.Second, time.Second},
		},
		// 1 s * 2^40 overflows no float but does overflow time.Duration
		// (about 292 years); it saturates rather than going negative.
		"saturates instead of overflowing": {
			r:        session.Retransmit{Timer: time.Second, Backoff: 2, MaxRetries: 100},
			attempts: []int{33, 34, 40, 100, math.MaxInt},
			want: []time.Duration{
				8589934592 * time.Second, time.Duration(math.MaxInt64), time.Duration(math.MaxInt64),
				time.Duration(math.MaxInt64), time.Duration(math.MaxInt64),
			},
		},
		"huge attempt with a cap": {
			r:        session.Retransmit{Timer: time.Second, Backoff: 2, MaxRetries: 100, MaxTimer: time.Minute},
			attempts: []int{math.MaxInt},
			want:     []time.Duration{time.Minute},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var got []time.Duration
			for _, a := range tc.attempts {
				d := tc.r.Delay(a)
				if d <= 0 {
					t.Errorf("Delay(%d) = %v, want positive", a, d)
				}
				got = append(got, d)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Delay(%v) mismatch (-want +got):\n%s", tc.attempts, diff)
			}
		})
	}
}

// Reference: RFC 8921 §11.4 ("The procedure is reiterated until a maximum
// retry is reached (e.g., three times)").
func TestRetransmitExhausted(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		maxRetries int
		want       []bool // Exhausted(0), Exhausted(1), ...
	}{
		"three retries": {maxRetries: 3, want: []bool{false, false, false, true, true}},
		"no retry":      {maxRetries: 0, want: []bool{true, true}},
		"one retry":     {maxRetries: 1, want: []bool{false, true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := session.Retransmit{Timer: time.Second, Backoff: 2, MaxRetries: tc.maxRetries}
			var got []bool
			for n := range tc.want {
				got = append(got, r.Exhausted(n))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Exhausted(0..%d) mismatch (-want +got):\n%s", len(tc.want)-1, diff)
			}
		})
	}
}

// TestRetransmitSchedule drives the schedule the way an engine does: send,
// wait Delay(attempt), retransmit while not Exhausted. With the defaults the
// message goes out 4 times (the original and 3 retransmissions) and the
// sender gives up 1+2+4+8 = 15 s after the first send.
// Reference: RFC 8921 §11.1.1 ("the client retransmits the message until
// maximum retry is reached (e.g., three times)").
func TestRetransmitSchedule(t *testing.T) {
	t.Parallel()
	r := session.DefaultRetransmit()
	var (
		sendsAt []time.Duration
		elapsed time.Duration
	)
	for attempt := 0; ; attempt++ {
		sendsAt = append(sendsAt, elapsed)
		elapsed += r.Delay(attempt)
		if r.Exhausted(attempt) { // attempt retransmissions already sent
			break
		}
		if attempt > 100 {
			t.Fatal("schedule never exhausted")
		}
	}
	wantSends := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second}
	if diff := cmp.Diff(wantSends, sendsAt); diff != "" {
		t.Errorf("send times mismatch (-want +got):\n%s", diff)
	}
	if want := 15 * time.Second; elapsed != want {
		t.Errorf("gave up after %v, want %v", elapsed, want)
	}
}

// Reference: DESIGN §3 (retransmission settings are configurable) and STYLE §5
// (configs validate themselves).
func TestRetransmitValidate(t *testing.T) {
	t.Parallel()
	valid := session.DefaultRetransmit()
	with := func(f func(*session.Retransmit)) session.Retransmit { r := valid; f(&r); return r }
	tests := map[string]struct {
		r          session.Retransmit
		wantFields []string
	}{
		"default":             {r: valid},
		"no retries":          {r: with(func(r *session.Retransmit) { r.MaxRetries = 0 })},
		"constant backoff":    {r: with(func(r *session.Retransmit) { r.Backoff = 1 })},
		"with a cap":          {r: with(func(r *session.Retransmit) { r.MaxTimer = time.Minute })},
		"zero timer":          {r: with(func(r *session.Retransmit) { r.Timer = 0 }), wantFields: []string{"retransmit.timer"}},
		"negative timer":      {r: with(func(r *session.Retransmit) { r.Timer = -time.Second }), wantFields: []string{"retransmit.timer"}},
		"backoff below 1":     {r: with(func(r *session.Retransmit) { r.Backoff = 0.5 }), wantFields: []string{"retransmit.backoff"}},
		"zero backoff":        {r: with(func(r *session.Retransmit) { r.Backoff = 0 }), wantFields: []string{"retransmit.backoff"}},
		"NaN backoff":         {r: with(func(r *session.Retransmit) { r.Backoff = math.NaN() }), wantFields: []string{"retransmit.backoff"}},
		"infinite backoff":    {r: with(func(r *session.Retransmit) { r.Backoff = math.Inf(1) }), wantFields: []string{"retransmit.backoff"}},
		"negative retries":    {r: with(func(r *session.Retransmit) { r.MaxRetries = -1 }), wantFields: []string{"retransmit.maxRetries"}},
		"negative max timer":  {r: with(func(r *session.Retransmit) { r.MaxTimer = -1 }), wantFields: []string{"retransmit.maxTimer"}},
		"zero value is wrong": {r: session.Retransmit{}, wantFields: []string{"retransmit.timer", "retransmit.backoff"}},
		"everything wrong": {
			r:          session.Retransmit{Timer: -1, Backoff: -1, MaxRetries: -1, MaxTimer: -1},
			wantFields: []string{"retransmit.timer", "retransmit.backoff", "retransmit.maxRetries", "retransmit.maxTimer"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkConfigErrors(t, tc.r.Validate(), tc.wantFields)
		})
	}
}

// checkConfigErrors checks that err holds exactly one *ConfigError per field
// in wantFields, in order, and matches ErrInvalidConfig when not nil.
func checkConfigErrors(t *testing.T, err error, wantFields []string) {
	t.Helper()
	if len(wantFields) == 0 {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Validate() = nil, want errors for %v", wantFields)
	}
	if !errors.Is(err, session.ErrInvalidConfig) {
		t.Errorf("errors.Is(%v, ErrInvalidConfig) = false, want true", err)
	}
	var first *session.ConfigError
	if !errors.As(err, &first) {
		t.Fatalf("errors.As(%v, *ConfigError) = false, want true", err)
	}
	if first.Field != wantFields[0] {
		t.Errorf("first ConfigError field = %q, want %q", first.Field, wantFields[0])
	}
	var got []string
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var ce *session.ConfigError
		if !errors.As(e, &ce) {
			t.Fatalf("error %v is not a *ConfigError", e)
		}
		if ce.Error() == "" || ce.Reason == "" {
			t.Errorf("ConfigError %+v has an empty message or reason", ce)
		}
		got = append(got, ce.Field)
	}
	if diff := cmp.Diff(wantFields, got); diff != "" {
		t.Errorf("invalid fields mismatch (-want +got):\n%s", diff)
	}
}
