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
	"context"
	"errors"
	"testing"

	"github.com/go-logr/logr"
)

// TestCommitWakesLoopOnlyWhenNeeded: a commit's done callback wakes the
// loop when sends wait for a commit, for a failure, and not otherwise
// (issue #3: each wake-up is a futex and a scheduling round); a send
// queued behind a write that committed meanwhile wakes the loop at once,
// so that no send waits for a commit that already happened (write-ahead,
// DESIGN §4).
// Reference: RFC 8921 §8.11 (the server keeps its orders, write-ahead);
// DESIGN §4.
func TestCommitWakesLoopOnlyWhenNeeded(t *testing.T) {
	t.Parallel()
	s := &Server{
		m:          newMetrics(),
		log:        logr.Discard(),
		commitWake: make(chan struct{}, 1),
		waiting:    make(map[*entry]struct{}),
	}
	s.failedCtx, s.markFailed = context.WithCancelCause(context.Background())
	commit := func(seq uint64, err error) {
		(&orderWrite{s: s, seq: seq}).committed(err)
	}
	woken := func() bool {
		select {
		case <-s.commitWake:
			return true
		default:
			return false
		}
	}
	e := &entry{}
	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"commit with nothing waiting", func() { commit(1, nil) }, false},
		{"send queued behind write 3", func() { s.waiting[e] = struct{}{}; s.awaitCommit(3) }, false},
		{"commit 2 while a send waits", func() { commit(2, nil) }, true},
		{"commit 3 while a send waits", func() { commit(3, nil) }, true},
		{"send queued behind committed write 3", func() { s.awaitCommit(3) }, true},
		{"loop handled the commits, nothing waits", func() { delete(s.waiting, e); s.onCommits() }, false},
		{"commit 4 with nothing waiting", func() { commit(4, nil) }, false},
		{"failed commit", func() { commit(5, errors.New("disk full")) }, true},
	}
	for _, st := range steps {
		st.do()
		if got := woken(); got != st.want {
			t.Fatalf("%s: loop woken: got %v, want %v", st.name, got, st.want)
		}
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if s.committed != 4 || s.commitErr == nil {
		t.Errorf("after the commits: got committed %d, error %v; want 4 and the failure", s.committed, s.commitErr)
	}
}
