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
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
)

func newFailLimiter(t testing.TB, cfg session.FailLimiterConfig) *session.FailLimiter {
	t.Helper()
	l, err := session.NewFailLimiter(cfg)
	if err != nil {
		t.Fatalf("NewFailLimiter(%+v): %v", cfg, err)
	}
	return l
}

// allowed counts how many of n FAIL messages to peer are allowed at now.
func allowed(l *session.FailLimiter, now time.Time, peer string, n int) int {
	ok := 0
	for range n {
		if l.Allow(now, peer) {
			ok++
		}
	}
	return ok
}

// Reference: RFC 8921 §9.2.5 ("the server should restrict the number of FAIL
// messages sent to a requesting client. It may also rate-limit FAIL
// messages"); DESIGN §3 (10/s per peer with burst 20).
func TestFailLimiterBurstThenRefill(t *testing.T) {
	t.Parallel()
	type burst struct {
		at   time.Duration
		peer string
		n    int // FAILs attempted at t0+at
		want int // of which allowed
	}
	tests := map[string]struct {
		cfg    session.FailLimiterConfig
		bursts []burst
	}{
		"default burst of 20": {
			bursts: []burst{{at: 0, peer: "a", n: 25, want: 20}},
		},
		"refills at 10/s": {
			bursts: []burst{
				{at: 0, peer: "a", n: 20, want: 20},
				{at: 0, peer: "a", n: 1, want: 0},
				{at: 99 * time.Millisecond, peer: "a", n: 1, want: 0},
				{at: 100 * time.Millisecond, peer: "a", n: 2, want: 1},
				{at: 600 * time.Millisecond, peer: "a", n: 10, want: 5},
			},
		},
		"refill is capped at the burst": {
			bursts: []burst{
				{at: 0, peer: "a", n: 20, want: 20},
				{at: time.Hour, peer: "a", n: 30, want: 20},
			},
		},
		"sustained rate over ten seconds": {
			// 20 at once, then 10 per second: 20 + 100 over 10 s.
			bursts: func() []burst {
				bs := []burst{{at: 0, peer: "a", n: 20, want: 20}}
				for ms := 100; ms <= 10000; ms += 100 {
					bs = append(bs, burst{at: time.Duration(ms) * time.Millisecond, peer: "a", n: 3, want: 1})
				}
				return bs
			}(),
		},
		"peers are limited separately": {
			bursts: []burst{
				{at: 0, peer: "a", n: 25, want: 20},
				{at: 0, peer: "b", n: 25, want: 20},
				{at: 0, peer: "a", n: 1, want: 0},
			},
		},
		"custom rate and burst": {
			cfg: session.FailLimiterConfig{Rate: 1, Burst: 2},
			bursts: []burst{
				{at: 0, peer: "a", n: 5, want: 2},
				{at: 500 * time.Millisecond, peer: "a", n: 1, want: 0},
				{at: time.Second, peer: "a", n: 5, want: 1},
			},
		},
		"infinite rate never limits": {
			cfg:    session.FailLimiterConfig{Rate: rate.Inf},
			bursts: []burst{{at: 0, peer: "a", n: 1000, want: 1000}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := newFailLimiter(t, tc.cfg)
			for i, b := range tc.bursts {
				if got := allowed(l, t0.Add(b.at), b.peer, b.n); got != b.want {
					t.Errorf("burst %d (+%v, peer %q): %d of %d FAILs allowed, want %d", i, b.at, b.peer, got, b.n, b.want)
				}
			}
		})
	}
}

// TestFailLimiterBounded checks that the number of peers tracked stays
// bounded: idle peers whose bucket has refilled are forgotten, and past
// MaxPeers the least recently limited peer is.
func TestFailLimiterBounded(t *testing.T) {
	t.Parallel()
	t.Run("refilled peers are forgotten", func(t *testing.T) {
		t.Parallel()
		l := newFailLimiter(t, session.FailLimiterConfig{Rate: 10, Burst: 20})
		for i := range 100 {
			l.Allow(t0, strconv.Itoa(i))
		}
		if got := l.Len(); got != 100 {
			t.Fatalf("Len() = %d, want 100", got)
		}
		// One token each was taken; 100 ms later every bucket is full again.
		for i := range 3 {
			l.Allow(t0.Add(100*time.Millisecond), "new"+strconv.Itoa(i))
		}
		if got, want := l.Len(), 3; got != want {
			t.Errorf("Len() after refill = %d, want %d", got, want)
		}
	})
	t.Run("a limited peer is remembered", func(t *testing.T) {
		t.Parallel()
		l := newFailLimiter(t, session.FailLimiterConfig{Rate: 10, Burst: 20})
		if got := allowed(l, t0, "noisy", 30); got != 20 {
			t.Fatalf("allowed %d of 30, want 20", got)
		}
		// Other peers come and go; the noisy one's bucket is still empty.
		for i := range 100 {
			l.Allow(t0, strconv.Itoa(i))
		}
		if l.Allow(t0, "noisy") {
			t.Errorf("Allow(noisy) = true after its burst, want false")
		}
	})
	t.Run("max peers evicts the least recently limited", func(t *testing.T) {
		t.Parallel()
		l := newFailLimiter(t, session.FailLimiterConfig{Rate: 1, Burst: 2, MaxPeers: 2})
		allowed(l, t0, "a", 2) // a: empty
		allowed(l, t0, "b", 2) // b: empty
		allowed(l, t0, "a", 1) // a used last: b is now the oldest
		allowed(l, t0, "c", 1) // evicts b
		if got := l.Len(); got != 2 {
			t.Errorf("Len() = %d, want 2", got)
		}
		if l.Allow(t0, "a") {
			t.Errorf("Allow(a) = true, want false: a is still tracked and empty")
		}
		if !l.Allow(t0, "b") {
			t.Errorf("Allow(b) = false, want true: b was forgotten and starts with a full bucket")
		}
	})
	t.Run("max peers keeps the recent one limited", func(t *testing.T) {
		t.Parallel()
		l := newFailLimiter(t, session.FailLimiterConfig{Rate: 1, Burst: 2, MaxPeers: 2})
		allowed(l, t0, "a", 2)
		allowed(l, t0, "b", 2)
		allowed(l, t0, "c", 1) // evicts a, keeps b
		if l.Allow(t0, "b") {
			t.Errorf("Allow(b) = true, want false: b is still tracked and empty")
		}
	})
}

func TestFailLimiterConfig(t *testing.T) {
	t.Parallel()
	want := session.FailLimiterConfig{Rate: 10, Burst: 20, MaxPeers: 65536}
	if diff := cmp.Diff(want, session.DefaultFailLimiterConfig()); diff != "" {
		t.Errorf("DefaultFailLimiterConfig() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, newFailLimiter(t, session.FailLimiterConfig{}).Config()); diff != "" {
		t.Errorf("NewFailLimiter(zero).Config() mismatch (-want +got):\n%s", diff)
	}
	tests := map[string]struct {
		cfg        session.FailLimiterConfig
		wantFields []string
	}{
		"zero":          {cfg: session.FailLimiterConfig{}},
		"infinite":      {cfg: session.FailLimiterConfig{Rate: rate.Inf}},
		"negative rate": {cfg: session.FailLimiterConfig{Rate: -1}, wantFields: []string{"failLimiter.rate"}},
		"NaN rate":      {cfg: session.FailLimiterConfig{Rate: rate.Limit(math.NaN())}, wantFields: []string{"failLimiter.rate"}},
		"all negative": {
			cfg:        session.FailLimiterConfig{Rate: -1, Burst: -1, MaxPeers: -1},
			wantFields: []string{"failLimiter.rate", "failLimiter.burst", "failLimiter.maxPeers"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkConfigErrors(t, tc.cfg.Validate(), tc.wantFields)
			l, err := session.NewFailLimiter(tc.cfg)
			if (err != nil) != (len(tc.wantFields) > 0) {
				t.Errorf("NewFailLimiter error = %v, want error %v", err, len(tc.wantFields) > 0)
			}
			if err != nil && l != nil {
				t.Errorf("NewFailLimiter returned a limiter with error %v", err)
			}
		})
	}
}

func BenchmarkFailLimiterAllow(b *testing.B) {
	l := newFailLimiter(b, session.FailLimiterConfig{})
	peers := make([]string, 1024)
	for i := range peers {
		peers[i] = strconv.Itoa(i)
	}
	now := t0
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		l.Allow(now, peers[i%len(peers)])
		i++
	}
}
