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

package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

const testTimeout = 30 * time.Second

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// gate pauses the committer before it applies its first batch, and records
// the number of submissions of every batch.
type gate struct {
	entered chan int
	release chan struct{}
	once    sync.Once
}

func newGate() *gate {
	return &gate{entered: make(chan int, 1000), release: make(chan struct{})}
}

func (g *gate) beforeApply(n int) {
	g.entered <- n
	g.once.Do(func() { <-g.release })
}

// waitEntered returns the size of the next batch the committer starts.
func (g *gate) waitEntered(t *testing.T) int {
	t.Helper()
	select {
	case n := <-g.entered:
		return n
	case <-time.After(testTimeout):
		t.Fatal("committer did not start a batch")
		return 0
	}
}

// modes are the two commit paths; tests that hold for both run under each.
var modes = []struct {
	name string
	opts Options
}{
	{"journal", Options{}},
	{"nojournal", Options{NoJournal: true}},
}

// inModes runs test in parallel under each of the modes, as a subtest
// named after it.
func inModes(t *testing.T, test func(*testing.T, Options)) {
	t.Helper()
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			test(t, m.opts)
		})
	}
}

// with returns opts in mode m.
func with(m Options, opts Options) Options {
	opts.NoJournal = m.NoJournal
	return opts
}

// pokeDB applies every journaled record to bbolt, then runs fn in a bbolt
// read-write transaction: tests use it to damage the file underneath the
// Store.
func pokeDB(s *Store, fn func(tx *bolt.Tx) error) error {
	if err := s.flush(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

func openTest(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// recorder collects done outcomes in call order.
type recorder struct {
	mu   sync.Mutex
	wg   sync.WaitGroup
	seq  []string
	errs map[string]error
}

func newRecorder() *recorder { return &recorder{errs: map[string]error{}} }

func (r *recorder) done(name string) func(error) {
	r.wg.Add(1)
	return func(err error) {
		r.mu.Lock()
		r.seq = append(r.seq, name)
		r.errs[name] = err
		r.mu.Unlock()
		r.wg.Done()
	}
}

func (r *recorder) wait(t *testing.T) {
	t.Helper()
	ch := make(chan struct{})
	go func() { r.wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(testTimeout):
		t.Fatal("done callbacks were not all called")
	}
}

func ops(n int, prefix string) []Op {
	out := make([]Op, n)
	for i := range out {
		id := fmt.Sprintf("%s-%d", prefix, i)
		out[i] = Put("orders", id, []byte(id), nil)
	}
	return out
}

// Reference: RFC 8921 §8.11 (persistent state); DESIGN §4 (the engine never
// waits for one fsync per message). While the committer is busy, every
// submission that arrives is committed in the next single transaction, in
// submission order, split only at MaxBatchOps.
func TestGroupCommitBatches(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		maxBatchOps int
		sizes       []int // ops per submission queued while the first batch is held
		wantBatches []int // submissions per batch after the held one
		wantCommits uint64
	}{
		"all waiting submissions share one commit": {
			sizes: repeat(1, 99), wantBatches: []int{99}, wantCommits: 2,
		},
		"split at MaxBatchOps": {
			maxBatchOps: 10, sizes: repeat(1, 25), wantBatches: []int{10, 10, 5}, wantCommits: 4,
		},
		"oversized submission committed alone, never split": {
			maxBatchOps: 10, sizes: []int{3, 25, 3, 0}, wantBatches: []int{1, 1, 2}, wantCommits: 4,
		},
		"barriers need no transaction": {
			sizes: []int{0, 0}, wantBatches: []int{2}, wantCommits: 1,
		},
	}
	for name, tc := range tests {
		for _, m := range modes {
			t.Run(m.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				testGroupCommitBatches(t, with(m.opts, Options{MaxBatchOps: tc.maxBatchOps}), tc.sizes, tc.wantBatches, tc.wantCommits)
			})
		}
	}
}

func testGroupCommitBatches(t *testing.T, opts Options, sizes, wantBatches []int, wantCommits uint64) {
	g := newGate()
	opts.hooks = &testHooks{beforeApply: g.beforeApply}
	s := openTest(t, opts)
	rec := newRecorder()
	if err := s.TryWrite(ops(1, "first"), rec.done("first")); err != nil {
		t.Fatalf("TryWrite: got error %v, want nil", err)
	}
	if got := g.waitEntered(t); got != 1 {
		t.Fatalf("first batch: got %d submissions, want 1", got)
	}
	var want []string
	want = append(want, "first")
	for i, n := range sizes {
		name := fmt.Sprint("s", i)
		want = append(want, name)
		if err := s.TryWrite(ops(n, name), rec.done(name)); err != nil {
			t.Fatalf("TryWrite %s: got error %v, want nil", name, err)
		}
	}
	if got := s.Stats().Queued; got != len(sizes) {
		t.Errorf("Stats.Queued while held: got %d, want %d", got, len(sizes))
	}
	close(g.release)
	rec.wait(t)
	var batches []int
	for range wantBatches {
		batches = append(batches, g.waitEntered(t))
	}
	if diff := cmp.Diff(wantBatches, batches); diff != "" {
		t.Errorf("batch sizes mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, rec.seq); diff != "" {
		t.Errorf("done order mismatch (-want +got):\n%s", diff)
	}
	for name, err := range rec.errs {
		if err != nil {
			t.Errorf("done(%s): got error %v, want nil", name, err)
		}
	}
	st := s.Stats()
	if st.Commits != wantCommits {
		t.Errorf("Stats.Commits: got %d, want %d", st.Commits, wantCommits)
	}
	total := 1
	for _, n := range sizes {
		total += n
	}
	if st.Ops != uint64(total) {
		t.Errorf("Stats.Ops: got %d, want %d", st.Ops, total)
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// A full queue pushes back: TryWrite fails at once, Write waits for room or
// for its context, and nothing refused is ever called back.
func TestBackpressure(t *testing.T) {
	inModes(t, testBackpressure)
}

func testBackpressure(t *testing.T, mode Options) {
	g := newGate()
	s := openTest(t, Options{NoJournal: mode.NoJournal, QueueSize: 2, hooks: &testHooks{beforeApply: g.beforeApply}})
	rec := newRecorder()
	if err := s.TryWrite(ops(1, "w0"), rec.done("w0")); err != nil {
		t.Fatalf("TryWrite w0: got error %v, want nil", err)
	}
	g.waitEntered(t)
	for _, name := range []string{"w1", "w2"} {
		if err := s.TryWrite(ops(1, name), rec.done(name)); err != nil {
			t.Fatalf("TryWrite %s: got error %v, want nil", name, err)
		}
	}
	refused := func(error) { t.Error("done called for a refused write") }
	if err := s.TryWrite(ops(1, "w3"), refused); !errors.Is(err, ErrQueueFull) {
		t.Errorf("TryWrite on a full queue: got error %v, want ErrQueueFull", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := s.Write(ctx, ops(1, "w4"), refused); !errors.Is(err, ErrQueueFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Write on a full queue until its deadline: got error %v, want ErrQueueFull and DeadlineExceeded", err)
	}
	// A blocked Write goes through once the committer makes room.
	blocked := make(chan error, 1)
	done5 := rec.done("w5")
	go func() { blocked <- s.Write(testCtx(t), ops(1, "w5"), done5) }()
	close(g.release)
	if err := <-blocked; err != nil {
		t.Errorf("blocked Write: got error %v, want nil", err)
	}
	rec.wait(t)
	if diff := cmp.Diff([]string{"w0", "w1", "w2", "w5"}, rec.seq); diff != "" {
		t.Errorf("done order mismatch (-want +got):\n%s", diff)
	}
	for _, id := range []string{"w3-0", "w4-0"} {
		if _, err := s.Get("orders", id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s) of a refused write: got error %v, want ErrNotFound", id, err)
		}
	}
	if st := s.Stats(); st.Submitted != 4 || st.Acknowledged != 4 {
		t.Errorf("Stats: got %+v, want 4 submitted and acknowledged", st)
	}
}

// Close wakes a Write blocked on a full queue with ErrClosed, and still
// commits what was accepted.
func TestCloseUnblocksWriters(t *testing.T) {
	inModes(t, testCloseUnblocksWriters)
}

func testCloseUnblocksWriters(t *testing.T, mode Options) {
	g := newGate()
	s, err := Open(t.TempDir(), Options{NoJournal: mode.NoJournal, QueueSize: 1, hooks: &testHooks{beforeApply: g.beforeApply}})
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	rec := newRecorder()
	if err := s.TryWrite(ops(1, "w0"), rec.done("w0")); err != nil {
		t.Fatalf("TryWrite: got error %v, want nil", err)
	}
	g.waitEntered(t)
	if err := s.TryWrite(ops(1, "w1"), rec.done("w1")); err != nil {
		t.Fatalf("TryWrite: got error %v, want nil", err)
	}
	blocked := make(chan error, 1)
	go func() {
		blocked <- s.Write(testCtx(t), ops(1, "w2"), func(error) { t.Error("done called for a write refused by Close") })
	}()
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	if err := <-blocked; !errors.Is(err, ErrClosed) {
		t.Errorf("Write blocked during Close: got error %v, want ErrClosed", err)
	}
	close(g.release)
	if err := <-closed; err != nil {
		t.Errorf("Close: got error %v, want nil", err)
	}
	rec.wait(t)
	if diff := cmp.Diff([]string{"w0", "w1"}, rec.seq); diff != "" {
		t.Errorf("done order mismatch (-want +got):\n%s", diff)
	}
	for name, err := range rec.errs {
		if err != nil {
			t.Errorf("done(%s): got error %v, want nil", name, err)
		}
	}
}

// WriteSync returns when its context ends, but the accepted write still
// commits.
func TestWriteSyncContextEndsAfterAccept(t *testing.T) {
	inModes(t, testWriteSyncContextEndsAfterAccept)
}

func testWriteSyncContextEndsAfterAccept(t *testing.T, mode Options) {
	g := newGate()
	s := openTest(t, Options{NoJournal: mode.NoJournal, hooks: &testHooks{beforeApply: g.beforeApply}})
	if err := s.TryWrite(ops(1, "w0"), nil); err != nil {
		t.Fatalf("TryWrite: got error %v, want nil", err)
	}
	g.waitEntered(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := s.WriteSync(ctx, ops(1, "w1")...)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrQueueFull) {
		t.Errorf("WriteSync: got error %v, want DeadlineExceeded without ErrQueueFull", err)
	}
	close(g.release)
	if err := s.WriteSync(testCtx(t)); err != nil {
		t.Fatalf("flush: got error %v, want nil", err)
	}
	if _, err := s.Get("orders", "w1-0"); err != nil {
		t.Errorf("Get of the write whose WriteSync timed out: got error %v, want nil (committed)", err)
	}
}

// A submission that fails to apply fails alone and atomically: its other
// ops are rolled back, and its batch neighbours commit.
func TestApplyFailureIsolated(t *testing.T) {
	inModes(t, testApplyFailureIsolated)
}

func testApplyFailureIsolated(t *testing.T, mode Options) {
	g := newGate()
	errPoison := errors.New("poison")
	s := openTest(t, Options{NoJournal: mode.NoJournal, hooks: &testHooks{
		beforeApply: g.beforeApply,
		applyOp: func(op Op) error {
			if op.ID == "poison" {
				return errPoison
			}
			return nil
		},
	}})
	rec := newRecorder()
	if err := s.TryWrite(ops(1, "held"), rec.done("held")); err != nil {
		t.Fatal(err)
	}
	g.waitEntered(t)
	subs := map[string][]Op{
		"good1": {Put("orders", "good1", nil, map[string]string{"n": "1"})},
		"bad":   {Put("orders", "side-effect", nil, map[string]string{"n": "1"}), Put("orders", "poison", nil, nil)},
		"good2": {Put("orders", "good2", nil, nil), Delete("orders", "held-0")},
	}
	for _, name := range []string{"good1", "bad", "good2"} {
		if err := s.TryWrite(subs[name], rec.done(name)); err != nil {
			t.Fatal(err)
		}
	}
	close(g.release)
	rec.wait(t)
	if diff := cmp.Diff([]string{"held", "good1", "bad", "good2"}, rec.seq); diff != "" {
		t.Errorf("done order mismatch (-want +got):\n%s", diff)
	}
	if !errors.Is(rec.errs["bad"], errPoison) {
		t.Errorf("done(bad): got error %v, want errPoison", rec.errs["bad"])
	}
	for _, name := range []string{"held", "good1", "good2"} {
		if rec.errs[name] != nil {
			t.Errorf("done(%s): got error %v, want nil", name, rec.errs[name])
		}
	}
	for id, wantErr := range map[string]error{"good1": nil, "good2": nil, "side-effect": ErrNotFound, "poison": ErrNotFound, "held-0": ErrNotFound} {
		if _, err := s.Get("orders", id); !errors.Is(err, wantErr) {
			t.Errorf("Get(%s): got error %v, want %v", id, err, wantErr)
		}
	}
	if recs, _ := s.Lookup("orders", "n", "1"); len(recs) != 1 || recs[0].ID != "good1" {
		t.Errorf("Lookup(n=1): got %d records, want good1 only (rolled-back index entries gone)", len(recs))
	}
	if st := s.Stats(); st.Commits != 2 || st.Failed != 1 || st.Acknowledged != 3 {
		t.Errorf("Stats: got %+v, want 2 commits, 1 failed, 3 acknowledged", st)
	}
	if err := s.Check(); err != nil {
		t.Errorf("Check: got error %v, want nil", err)
	}
}

// A commit error of unknown durability (I/O, fsync) fails the Store for
// good: the batch, everything queued behind it and every later write get
// ErrFailed, and a reopened store has none of it. In journal mode the
// error is the journal write's; NoJournal, the bbolt commit's.
func TestCommitFailureIsSticky(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("disk on fire")
	tests := map[string]*testHooks{
		"nojournal": {commit: func(tx *bolt.Tx) error {
			_ = tx.Rollback()
			return errDisk
		}},
		"journal": {journalWrite: func([]byte, int64) error { return errDisk }},
	}
	for name, hooks := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testCommitFailureIsSticky(t, Options{NoJournal: name == "nojournal"}, hooks, errDisk)
		})
	}
}

func testCommitFailureIsSticky(t *testing.T, opts Options, hooks *testHooks, errDisk error) {
	dir := t.TempDir()
	g := newGate()
	var logs []string
	var logMu sync.Mutex
	logger := funcr.New(func(prefix, args string) {
		logMu.Lock()
		logs = append(logs, args)
		logMu.Unlock()
	}, funcr.Options{})
	hooks.beforeApply = g.beforeApply
	opts.Logger, opts.hooks = logger, hooks
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	rec := newRecorder()
	if err := s.TryWrite(ops(1, "a"), rec.done("a")); err != nil {
		t.Fatal(err)
	}
	g.waitEntered(t)
	if err := s.TryWrite(ops(1, "b"), rec.done("b")); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	rec.wait(t)
	for _, name := range []string{"a", "b"} {
		if err := rec.errs[name]; !errors.Is(err, ErrFailed) {
			t.Errorf("done(%s): got error %v, want ErrFailed", name, err)
		}
	}
	if !errors.Is(rec.errs["a"], errDisk) {
		t.Errorf("done(a): got error %v, want it to wrap the commit error", rec.errs["a"])
	}
	if err := s.TryWrite(ops(1, "c"), func(error) { t.Error("done called for a refused write") }); !errors.Is(err, ErrFailed) {
		t.Errorf("TryWrite after failure: got error %v, want ErrFailed", err)
	}
	logMu.Lock()
	if len(logs) == 0 || !strings.Contains(logs[0], "Store failed") || !strings.Contains(logs[0], "disk on fire") {
		t.Errorf("logs: got %q, want a \"Store failed\" line with the cause", logs)
	}
	logMu.Unlock()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen: got error %v, want nil", err)
	}
	defer s2.Close()
	for _, id := range []string{"a-0", "b-0"} {
		if _, err := s2.Get("orders", id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s) after reopen: got error %v, want ErrNotFound", id, err)
		}
	}
	mustWriteSync(t, s2, ops(1, "after")...)
}

func mustWriteSync(t *testing.T, s *Store, ops ...Op) {
	t.Helper()
	if err := s.WriteSync(testCtx(t), ops...); err != nil {
		t.Fatalf("WriteSync: got error %v, want nil", err)
	}
}

// A write that would grow the file beyond MaxSize fails with ErrFull and
// changes nothing; its batch neighbours that fit still commit, and the
// Store stays usable.
func TestMaxSize(t *testing.T) {
	inModes(t, testMaxSize)
}

func testMaxSize(t *testing.T, mode Options) {
	g := newGate()
	s := openTest(t, Options{NoJournal: mode.NoJournal, MaxSize: MinMaxSize, hooks: &testHooks{beforeApply: g.beforeApply}})
	rec := newRecorder()
	if err := s.TryWrite(ops(1, "held"), rec.done("held")); err != nil {
		t.Fatal(err)
	}
	g.waitEntered(t)
	big := make([]byte, 2*MinMaxSize)
	subs := []struct {
		name string
		ops  []Op
	}{
		{"small1", ops(1, "small1")},
		{"big", []Op{Put("orders", "big", big, map[string]string{"n": "big"})}},
		{"small2", ops(1, "small2")},
	}
	for _, sub := range subs {
		if err := s.TryWrite(sub.ops, rec.done(sub.name)); err != nil {
			t.Fatal(err)
		}
	}
	close(g.release)
	rec.wait(t)
	if !errors.Is(rec.errs["big"], ErrFull) {
		t.Errorf("done(big): got error %v, want ErrFull", rec.errs["big"])
	}
	for _, name := range []string{"held", "small1", "small2"} {
		if rec.errs[name] != nil {
			t.Errorf("done(%s): got error %v, want nil", name, rec.errs[name])
		}
	}
	if _, err := s.Get("orders", "big"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(big): got error %v, want ErrNotFound", err)
	}
	err := s.WriteSync(testCtx(t), Put("orders", "big", big, nil))
	if !errors.Is(err, ErrFull) {
		t.Errorf("WriteSync of a lone oversized write: got error %v, want ErrFull", err)
	}
	mustWriteSync(t, s, ops(1, "later")...)
	if err := s.Check(); err != nil {
		t.Errorf("Check: got error %v, want nil", err)
	}
}

// Reference: RFC 8921 §8.11 (state recovery): a damaged record is reported,
// never silently dropped, and overwriting or deleting it repairs its index.
func TestCorruptRecordRepair(t *testing.T) {
	inModes(t, testCorruptRecordRepair)
}

func testCorruptRecordRepair(t *testing.T, mode Options) {
	s := openTest(t, Options{NoJournal: mode.NoJournal})
	mustWriteSync(t, s,
		Put("orders", "o1", []byte("v"), map[string]string{"provider": "p1", "customer": "c1"}),
		Put("orders", "o2", []byte("w"), map[string]string{"provider": "p2"}),
	)
	corrupt := func(id string) {
		t.Helper()
		err := pokeDB(s, func(tx *bolt.Tx) error {
			recs, _ := kindBuckets(tx, "orders")
			return recs.Put([]byte(id), []byte("garbage"))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	corrupt("o1")
	var ce *CorruptError
	if _, err := s.Get("orders", "o1"); !errors.As(err, &ce) || ce.ID != "o1" {
		t.Errorf("Get of a damaged record: got error %v, want a *CorruptError for o1", err)
	}
	if _, err := s.Lookup("orders", "provider", "p1"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Lookup reaching a damaged record: got error %v, want ErrCorrupt", err)
	}
	if err := s.Scan("orders", func(Record) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Scan over a damaged record: got error %v, want ErrCorrupt", err)
	}
	if err := s.Check(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Check with a damaged record: got error %v, want ErrCorrupt", err)
	}

	mustWriteSync(t, s, Put("orders", "o1", []byte("v2"), map[string]string{"provider": "p9"}))
	got, err := s.Get("orders", "o1")
	if err != nil {
		t.Fatalf("Get after overwrite: got error %v, want nil", err)
	}
	if diff := cmp.Diff(Record{Kind: "orders", ID: "o1", Revision: 1, Value: []byte("v2"), Index: map[string]string{"provider": "p9"}}, got); diff != "" {
		t.Errorf("record after overwrite mismatch (-want +got):\n%s", diff)
	}
	for key, want := range map[string]int{"p1": 0, "p9": 1, "p2": 1} {
		if recs, err := s.Lookup("orders", "provider", key); err != nil || len(recs) != want {
			t.Errorf("Lookup(provider=%s): got %d records, %v, want %d, nil", key, len(recs), err, want)
		}
	}
	if err := s.Check(); err != nil {
		t.Errorf("Check after repair: got error %v, want nil", err)
	}

	corrupt("o2")
	mustWriteSync(t, s, Delete("orders", "o2"))
	if err := s.Check(); err != nil {
		t.Errorf("Check after deleting a damaged record: got error %v, want nil", err)
	}
}

// Check reports index entries that disagree with the records.
func TestCheckFindsIndexProblems(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	mustWriteSync(t, s,
		Put("orders", "o1", nil, map[string]string{"provider": "p1"}),
		Put("orders", "o2", nil, map[string]string{"provider": "p2"}),
	)
	err := pokeDB(s, func(tx *bolt.Tx) error {
		_, idx := kindBuckets(tx, "orders")
		return errors.Join(
			idx.Put(append(indexPrefix("provider", "p3"), "ghost"...), nil), // dangling
			idx.Delete(append(indexPrefix("provider", "p2"), "o2"...)),      // missing
			idx.Put(append(indexPrefix("provider", "old"), "o1"...), nil),   // stale
			idx.Put([]byte{0xff}, nil),                                      // malformed
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Check()
	if err == nil {
		t.Fatal("Check: got nil, want errors")
	}
	for _, want := range []string{
		`points to missing record "ghost"`,
		`record "o2": index entry provider="p2" missing`,
		`stale index entry provider="old" for record "o1"`,
		"malformed index entry ff",
		"4 index entries, records declare 2",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check: got %q, want it to contain %q", err, want)
		}
	}
	if _, err := s.Lookup("orders", "provider", "p3"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Lookup of a dangling entry: got error %v, want ErrCorrupt", err)
	}
}

func TestCheckMissingBuckets(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	mustWriteSync(t, s, Put("orders", "o1", nil, nil))
	err := pokeDB(s, func(tx *bolt.Tx) error {
		kb := tx.Bucket(bucketKinds).Bucket([]byte("orders"))
		return errors.Join(kb.DeleteBucket(bucketIndex), tx.Bucket(bucketMeta).Delete(keySchema))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Check()
	for _, want := range []string{"schema version missing", "kind orders: records or index bucket missing"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check: got %v, want it to contain %q", err, want)
		}
	}
	if err := s.WriteSync(testCtx(t), Delete("orders", "o1")); err == nil || !strings.Contains(err.Error(), "kind buckets missing") {
		t.Errorf("Delete in a damaged kind: got error %v, want \"kind buckets missing\"", err)
	}
	if err := pokeDB(s, func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketKinds) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "kinds bucket missing") {
		t.Errorf("Check: got %v, want \"kinds bucket missing\"", err)
	}
}

// The meta bucket's schema version guards the file against releases that
// cannot read it.
func TestOpenSchema(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		prepare func(tx *bolt.Tx) error
		wantIs  error
		wantMsg string
	}{
		"newer schema": {
			prepare: func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("2")) },
			wantIs:  ErrSchemaTooNew,
			wantMsg: "schema version 2 is newer than supported version 1",
		},
		"unreadable schema": {
			prepare: func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("x")) },
			wantIs:  ErrNotStore, wantMsg: `schema version "x" is unreadable`,
		},
		"zero schema": {
			prepare: func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("0")) },
			wantIs:  ErrNotStore, wantMsg: "unreadable",
		},
		"kinds bucket missing": {
			prepare: func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketKinds) },
			wantIs:  ErrNotStore, wantMsg: "kinds bucket missing",
		},
		"foreign bbolt file": {
			prepare: func(tx *bolt.Tx) error {
				return errors.Join(tx.DeleteBucket(bucketKinds), tx.DeleteBucket(bucketMeta), func() error {
					_, err := tx.CreateBucket([]byte("someone-else"))
					return err
				}())
			},
			wantIs: ErrNotStore, wantMsg: "it has buckets but no store metadata",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, DefaultFileName)
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tc.prepare); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			_, err = Open(dir, Options{})
			if !errors.Is(err, tc.wantIs) {
				t.Fatalf("Open: got error %v, want %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open: got %q, want it to name %s and contain %q", err, path, tc.wantMsg)
			}
			var se *SchemaError
			if errors.As(err, &se) {
				if diff := cmp.Diff(&SchemaError{Path: path, Found: 2, Supported: SchemaVersion}, se); diff != "" {
					t.Errorf("SchemaError mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// Scan reads chunk by chunk without a snapshot: records the callback
// deletes ahead are not seen, records it adds ahead are, none twice.
func TestScanChunksSeeConcurrentChanges(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	s.scanChunk = 2
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		mustWriteSync(t, s, Put("orders", id, nil, nil))
	}
	var seen []string
	err := s.Scan("orders", func(r Record) error {
		seen = append(seen, r.ID)
		if r.ID == "b" {
			return s.WriteSync(testCtx(t), Delete("orders", "c"), Put("orders", "a0", nil, nil), Put("orders", "z", nil, nil))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	if diff := cmp.Diff([]string{"a", "b", "d", "e", "z"}, seen); diff != "" {
		t.Errorf("Scan IDs mismatch (-want +got):\n%s", diff)
	}
}
