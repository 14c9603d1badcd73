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

package transport

import (
	"context"
	"sync"
	"testing"
	"time"
)

// deadlineRecorder is the connection side of a ctxDeadline: it records
// every deadline set.
type deadlineRecorder struct {
	mu  sync.Mutex
	set []time.Time
}

func (r *deadlineRecorder) record(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.set = append(r.set, t)
	return nil
}

func (r *deadlineRecorder) last() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.set) == 0 {
		return time.Time{}
	}
	return r.set[len(r.set)-1]
}

func (r *deadlineRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.set)
}

// TestCtxDeadline: a context's deadline becomes the connection's and its
// cancellation a past deadline; operations under the same context reuse
// the deadline and the watch of the context, and a context no longer used
// does not touch later operations.
func TestCtxDeadline(t *testing.T) {
	t.Parallel()
	far := time.Now().Add(time.Hour)
	tests := map[string]struct {
		run func(t *testing.T, d *ctxDeadline)
		// want is the deadline set last; sets how many were set.
		want time.Time
		sets int
	}{
		"the same context twice sets its deadline once": {
			run: func(t *testing.T, d *ctxDeadline) {
				ctx, cancel := context.WithDeadline(context.Background(), far)
				t.Cleanup(cancel) // after the checks: cancelling counts
				d.arm(ctx)
				d.arm(ctx)
			},
			want: far, sets: 1,
		},
		"a context without deadline clears the deadline": {
			run: func(_ *testing.T, d *ctxDeadline) {
				ctx, cancel := context.WithDeadline(context.Background(), far)
				d.arm(ctx)
				d.arm(context.Background())
				cancel() // no longer watched
			},
			want: time.Time{}, sets: 2,
		},
		"cancelling the watched context between operations sets a past deadline": {
			run: func(t *testing.T, d *ctxDeadline) {
				ctx, cancel := context.WithCancel(context.Background())
				d.arm(ctx)
				cancel()
				waitDeadline(t, d, pastDeadline)
				d.arm(ctx) // still cancelled: stays past
			},
			want: pastDeadline, sets: 2,
		},
		"an operation under a cancelled context gets a past deadline": {
			run: func(_ *testing.T, d *ctxDeadline) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				d.arm(ctx)
			},
			want: pastDeadline, sets: 1,
		},
		"a context no longer used does not touch later operations": {
			run: func(t *testing.T, d *ctxDeadline) {
				old, cancelOld := context.WithCancel(context.Background())
				d.arm(old)
				next, cancelNext := context.WithDeadline(context.Background(), far)
				t.Cleanup(cancelNext) // after the checks: cancelling counts
				d.arm(next)
				cancelOld()
			},
			want: far, sets: 2,
		},
		"after release a context is not watched": {
			run: func(_ *testing.T, d *ctxDeadline) {
				ctx, cancel := context.WithCancel(context.Background())
				d.release()
				d.arm(ctx)
				cancel()
			},
			want: time.Time{}, sets: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var r deadlineRecorder
			d := &ctxDeadline{set: r.record}
			// A watch that must not count is stopped (or never registered)
			// before its context is cancelled, so its function never runs.
			tc.run(t, d)
			if got := r.last(); !got.Equal(tc.want) {
				t.Errorf("deadline: got %v, want %v", got, tc.want)
			}
			if got := r.count(); got != tc.sets {
				t.Errorf("deadlines set: got %d, want %d", got, tc.sets)
			}
		})
	}
}

// waitDeadline polls until the deadline set last is want.
func waitDeadline(t *testing.T, d *ctxDeadline, want time.Time) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d.mu.Lock()
		got := d.cur
		d.mu.Unlock()
		if got.Equal(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deadline: got %v, want %v", got, want)
		}
		time.Sleep(time.Millisecond) // polling, not an assertion
	}
}

// TestCtxDeadlineAllocs: an operation under the context of the previous
// one allocates nothing (the reader's and writer's common case).
func TestCtxDeadlineAllocs(t *testing.T) {
	d := &ctxDeadline{set: func(time.Time) error { return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.arm(ctx)
	if got := testing.AllocsPerRun(100, func() { d.arm(ctx) }); got != 0 {
		t.Errorf("allocations per arm under the same context: got %v, want 0", got)
	}
	if d.watched != ctx {
		t.Errorf("watched context: got %v, want the operations' context", d.watched)
	}
}
