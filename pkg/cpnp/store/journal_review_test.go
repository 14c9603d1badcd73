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
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

// view is what a test can observe of one record: Get and the index
// lookups of every key the test used.
type view struct {
	Rec     *Record
	Err     string
	Lookups map[string][]string
}

// observe reads id through Get (overlay first in journal mode) and, when
// lookups is set, through Lookup for each name=key in keys (which
// checkpoints first in journal mode).
func observe(t *testing.T, s *Store, id string, keys [][2]string, lookups bool) view {
	t.Helper()
	var v view
	if rec, err := s.Get("orders", id); err == nil {
		v.Rec = &rec
	} else if errors.Is(err, ErrNotFound) {
		v.Err = "not found"
	} else {
		t.Fatalf("Get(%s): got error %v, want nil or ErrNotFound", id, err)
	}
	if lookups {
		v.Lookups = map[string][]string{}
		for _, k := range keys {
			recs, err := s.Lookup("orders", k[0], k[1])
			if err != nil {
				t.Fatalf("Lookup(%s=%s): got error %v, want nil", k[0], k[1], err)
			}
			v.Lookups[k[0]+"="+k[1]] = recIDs(recs)
		}
	}
	return v
}

// Rewrites, and deletes followed by puts of the same ID, between two
// checkpoints must leave the same Revision and index entries as the
// NoJournal store, which applies every op to bbolt at once: read from the
// overlay before the checkpoint, from bbolt after it, and after a crash
// and the journal's replay.
//
// Reference: RFC 8921 §8.11 (state on permanent storage survives a
// reboot); DESIGN §4 (after kill -9 the server keeps its agreements).
func TestJournalRevisionsAndIndexesMatchNoJournal(t *testing.T) {
	t.Parallel()
	idx := func(name, key string) map[string]string { return map[string]string{name: key} }
	put := func(v string, index map[string]string) Op { return Put("orders", "k", []byte(v), index) }
	del := Delete("orders", "k")
	keys := [][2]string{{"a", "x"}, {"a", "y"}, {"b", "y"}, {"b", "z"}}
	tests := []struct {
		name string
		// setup is committed and checkpointed into bbolt first; then each
		// element of writes is one WriteSync (one frame), not checkpointed.
		setup  [][]Op
		writes [][]Op
	}{
		{"rewritten five times", nil, [][]Op{
			{put("1", idx("a", "x"))}, {put("2", idx("a", "y"))}, {put("3", idx("b", "y"))}, {put("4", nil)}, {put("5", idx("b", "z"))},
		}},
		{"in bbolt, delete then put with another index", [][]Op{{put("1", idx("a", "x"))}, {put("2", idx("a", "x"))}}, [][]Op{
			{del}, {put("3", idx("b", "y"))},
		}},
		{"in bbolt, put, delete, put with the old index", [][]Op{{put("1", idx("a", "x"))}, {put("2", idx("a", "x"))}}, [][]Op{
			{put("3", idx("a", "y"))}, {del}, {put("4", idx("a", "x"))},
		}},
		{"in bbolt, put, delete", [][]Op{{put("1", idx("a", "x"))}}, [][]Op{
			{put("2", idx("b", "y"))}, {del},
		}},
		{"new, put and delete in one frame", nil, [][]Op{
			{put("1", idx("a", "x")), del},
		}},
		{"new, delete then put in one frame, rewritten", nil, [][]Op{
			{put("1", idx("a", "x"))}, {del, put("2", idx("a", "y"))}, {put("3", idx("a", "y"))},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			run := func(opts Options, crash bool) (beforeCheckpoint, afterCheckpoint, afterCrash view) {
				s := openTest(t, opts)
				for _, ops := range tt.setup {
					mustWriteSync(t, s, ops...)
				}
				if err := s.Check(); err != nil { // checkpoints in journal mode
					t.Fatalf("Check after setup: %v", err)
				}
				for _, ops := range tt.writes {
					mustWriteSync(t, s, ops...)
				}
				beforeCheckpoint = observe(t, s, "k", keys, false)
				if crash {
					dir := crashCopy(t, s)
					s2, err := Open(dir, opts)
					if err != nil {
						t.Fatalf("Open after crash: got error %v, want nil", err)
					}
					afterCrash = observe(t, s2, "k", keys, true)
					if err := s2.Check(); err != nil {
						t.Errorf("Check after replay: got error %v, want nil", err)
					}
					if err := s2.Close(); err != nil {
						t.Fatal(err)
					}
				}
				afterCheckpoint = observe(t, s, "k", keys, true)
				if err := s.Check(); err != nil {
					t.Errorf("Check after checkpoint: got error %v, want nil", err)
				}
				return beforeCheckpoint, afterCheckpoint, afterCrash
			}
			_, want, _ := run(Options{NoJournal: true}, false)
			before, after, crashed := run(quiet(Options{}), true)
			if diff := cmp.Diff(want.Rec, before.Rec); diff != "" || want.Err != before.Err {
				t.Errorf("Get before the checkpoint (overlay) mismatch with NoJournal (-want +got):\n%s\nerr got %q, want %q", diff, before.Err, want.Err)
			}
			if diff := cmp.Diff(want, after); diff != "" {
				t.Errorf("after the checkpoint mismatch with NoJournal (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, crashed); diff != "" {
				t.Errorf("after a crash and replay mismatch with NoJournal (-want +got):\n%s", diff)
			}
		})
	}
}

// Get never returns an older revision than one acknowledged before it
// started, nor a record whose delete was acknowledged before it started,
// while the checkpointer applies and trims the overlay concurrently.
//
// Reference: DESIGN §4 (write-ahead: an answer depends only on durable,
// readable state); RFC 8921 §8.11.
func TestJournalGetNeverOlderThanAcknowledged(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{CheckpointInterval: time.Millisecond})
	const n = 400
	var acked atomic.Int64 // last acknowledged step
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				a := acked.Load()
				// "k" gets step i as revision i.
				if rec, err := s.Get("orders", "k"); a > 0 && (err != nil || int64(rec.Revision) < a) {
					report("Get(k) after step %d was acknowledged: got revision %d, error %v, want revision >= %d", a, rec.Revision, err, a)
				}
				// "d" is put at odd steps (value = step) and deleted at even ones.
				rec, err := s.Get("orders", "d")
				switch {
				case err == nil:
					if step, _ := strconv.ParseInt(string(rec.Value), 10, 64); step < a {
						report("Get(d) after step %d was acknowledged: got the put of step %d", a, step)
					}
				case !errors.Is(err, ErrNotFound):
					report("Get(d): got error %v", err)
				}
			}
		})
	}
	for i := int64(1); i <= n; i++ {
		ops := []Op{Put("orders", "k", []byte(strconv.FormatInt(i, 10)), map[string]string{"v": strconv.FormatInt(i, 10)})}
		if i%2 == 1 {
			ops = append(ops, Put("orders", "d", []byte(strconv.FormatInt(i, 10)), nil))
		} else {
			ops = append(ops, Delete("orders", "d"))
		}
		mustWriteSync(t, s, ops...)
		acked.Store(i)
	}
	close(stop)
	wg.Wait()
	for _, p := range problems {
		t.Error(p)
	}
	if st := s.Stats(); st.Checkpoints < 2 {
		t.Errorf("Stats.Checkpoints: got %d, want at least 2 (the test must race Get with checkpoints)", st.Checkpoints)
	}
	if err := s.Check(); err != nil {
		t.Errorf("Check: got error %v, want nil", err)
	}
}

// openFDs counts the process's open file descriptors (Linux).
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(entries)
}

// settle waits (bounded) until the goroutine count falls to want and
// returns the last count seen.
func settle(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for n > want && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// Open releases every file descriptor on each error path, and Close stops
// the committer and the checkpointer and closes the files, whether the
// Store is healthy or failed. Not parallel: it counts the process's
// goroutines and descriptors.
//
// Reference: DESIGN §4 (Persistence); RFC 8921 §8.11.
func TestJournalOpenCloseReleaseResources(t *testing.T) {
	errDisk := errors.New("injected I/O error")
	writeHeader := func(format uint32) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			b := appendJournalHeader(nil, format, 1)
			b = append(b, make([]byte, MinJournalSize-len(b))...)
			if err := os.WriteFile(filepath.Join(dir, DefaultFileName+JournalSuffix), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name string
		// prepare leaves the data directory in a state; nil: empty.
		prepare func(t *testing.T, dir string)
		hooks   *testHooks
		// wantOpen is the error Open must fail with (errors.As target
		// type name), "" when it must succeed.
		wantOpen string
	}{
		{name: "healthy"},
		{name: "journal sync fails", hooks: &testHooks{journalSync: func() error { return errDisk }}},
		{name: "checkpoint fails", hooks: &testHooks{checkpointCommit: func(*bolt.Tx) error { return errDisk }}},
		{name: "unknown journal format", prepare: func(t *testing.T, dir string) {
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			writeHeader(JournalFormat+1)(t, dir)
		}, wantOpen: "*store.JournalFormatError"},
		{name: "journal missing after a crash", prepare: func(t *testing.T, dir string) {
			s, err := Open(dir, quiet(Options{}))
			if err != nil {
				t.Fatal(err)
			}
			mustWriteSync(t, s, Put("orders", "o1", nil, nil))
			crashed := crashCopy(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			for _, suffix := range []string{"", JournalSuffix} {
				if err := os.Rename(filepath.Join(crashed, DefaultFileName+suffix), filepath.Join(dir, DefaultFileName+suffix)); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Remove(filepath.Join(dir, DefaultFileName+JournalSuffix)); err != nil {
				t.Fatal(err)
			}
		}, wantOpen: "*store.JournalError"},
		{name: "data file behind its journal", prepare: func(t *testing.T, dir string) {
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			b := appendJournalHeader(nil, JournalFormat, 1000)
			b = append(b, make([]byte, DefaultJournalSize-len(b))...)
			if err := os.WriteFile(filepath.Join(dir, DefaultFileName+JournalSuffix), b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := pokeMeta(dir, journalOpen); err != nil {
				t.Fatal(err)
			}
		}, wantOpen: "*store.JournalError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.prepare != nil {
				tt.prepare(t, dir)
			}
			goroutines, fds := runtime.NumGoroutine(), openFDs(t)
			s, err := Open(dir, Options{hooks: tt.hooks})
			if tt.wantOpen != "" {
				if err == nil {
					_ = s.Close()
					t.Fatalf("Open: got nil error, want %s", tt.wantOpen)
				}
				var je *JournalError
				var fe *JournalFormatError
				if got := fmt.Sprintf("%T", errors.Unwrap(err)); !errors.As(err, &je) && !errors.As(err, &fe) {
					t.Fatalf("Open: got error %v (%s), want %s", err, got, tt.wantOpen)
				}
			} else {
				if err != nil {
					t.Fatalf("Open: got error %v, want nil", err)
				}
				err := s.WriteSync(testCtx(t), Put("orders", "o1", []byte("v"), nil))
				if tt.hooks != nil && tt.hooks.journalSync != nil && !errors.Is(err, ErrFailed) {
					t.Errorf("WriteSync with a failing fdatasync: got error %v, want ErrFailed", err)
				}
				if tt.hooks != nil && tt.hooks.checkpointCommit != nil {
					if err := s.Check(); !errors.Is(err, ErrFailed) {
						t.Errorf("Check with a failing checkpoint: got error %v, want ErrFailed", err)
					}
				}
				closed := make(chan error, 1)
				go func() { closed <- s.Close() }()
				select {
				case err := <-closed:
					if err != nil {
						t.Errorf("Close: got error %v, want nil (a failed Store closes cleanly; the next Open recovers)", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("Close did not return within 10 s")
				}
			}
			if got := settle(goroutines); got > goroutines {
				t.Errorf("goroutines after Close: got %d, want at most %d", got, goroutines)
			}
			if got := openFDs(t); got > fds {
				t.Errorf("file descriptors after Close: got %d, want at most %d", got, fds)
			}
		})
	}
}

// pokeMeta sets meta/journal-state of the data file in dir.
func pokeMeta(dir, state string) error {
	db, err := bolt.Open(filepath.Join(dir, DefaultFileName), 0o600, nil)
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyJournalSt, []byte(state)) })
	return errors.Join(err, db.Close())
}

// maxSizeWorkload runs puts (up to 60 kB, so that bbolt fragments its free
// pages) and deletes of 40 records against a Store capped at MinMaxSize,
// checking the data file every 7 writes (a checkpoint in journal mode). It
// returns how many writes succeeded and how many failed with ErrFull; any
// other outcome fails the test.
func maxSizeWorkload(t *testing.T, s *Store, seed uint64, n int) (ok, full int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	for i := range n {
		id := fmt.Sprint("k", r.IntN(40))
		op := Put("orders", id, make([]byte, r.IntN(60000)), map[string]string{"a": strconv.Itoa(r.IntN(5))})
		if r.IntN(4) == 0 {
			op = Delete("orders", id)
		}
		switch err := s.WriteSync(testCtx(t), op); {
		case err == nil:
			ok++
		case errors.Is(err, ErrFull):
			full++
		default:
			t.Fatalf("seed %d, write %d (%s %s): got error %v, want nil or ErrFull (%d succeeded, %d full before)", seed, i, op.Type, id, err, ok, full)
		}
		if i%7 == 0 {
			if err := s.Check(); err != nil {
				t.Fatalf("seed %d, Check after write %d: got error %v, want nil (%d succeeded, %d full before)", seed, i, err, ok, full)
			}
		}
	}
	return ok, full
}

// A store close to MaxSize refuses writes with ErrFull when they are
// submitted; a write it acknowledged must never make a later checkpoint
// fail (before the fix, bbolt's own MaxSize check failed the checkpoint
// with ErrMaxSizeReached, and the Store failed for good with ErrFailed
// after a few dozen writes: the estimate does not see free-page
// fragmentation).
//
// Reference: RFC 8921 §8.11; DESIGN §4 (an acknowledged write is kept).
func TestJournalMaxSizeNeverFailsAfterAcknowledging(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			s := openTest(t, quiet(Options{MaxSize: MinMaxSize}))
			ok, full := maxSizeWorkload(t, s, seed, 300)
			if ok == 0 || full == 0 {
				t.Errorf("got %d writes committed and %d refused with ErrFull, want both > 0 (the workload must reach the cap)", ok, full)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: got error %v, want nil", err)
			}
		})
	}
}

// At MaxSize, deleting records still works and frees room: a server that
// cannot delete expired orders could never recover from a full store.
// (NoJournal mode does not pass this: bbolt's own cap refuses the pages a
// delete copies; see the review report.)
//
// Reference: RFC 8921 §8.11; DESIGN §4.
func TestJournalMaxSizeDeletesStillWork(t *testing.T) {
	t.Parallel()
	s := openTest(t, quiet(Options{MaxSize: MinMaxSize}))
	value := make([]byte, 50000)
	n := 0
	for ; n < 100; n++ {
		err := s.WriteSync(testCtx(t), Put("orders", fmt.Sprint("k", n), value, map[string]string{"a": "x"}))
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatalf("put %d: got error %v, want nil or ErrFull", n, err)
		}
	}
	if n == 0 || n == 100 {
		t.Fatalf("got %d puts before ErrFull, want between 1 and 99", n)
	}
	for i := range n {
		if err := s.WriteSync(testCtx(t), Delete("orders", fmt.Sprint("k", i))); err != nil {
			t.Fatalf("delete %d of %d at MaxSize: got error %v, want nil", i, n, err)
		}
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check: got error %v, want nil", err)
	}
	mustWriteSync(t, s, Put("orders", "again", value, nil))
}

// A crash during a wrap, after the checkpoint and the new header but
// before the first frame of the new cycle, or with the new header torn
// (its slot unreadable), loses no acknowledged write and replays nothing
// stale: the frames of the old cycle are all at or below the applied LSN.
//
// Reference: RFC 8921 §8.11; DESIGN §4 (after kill -9 the server keeps its
// agreements).
func TestJournalCrashDuringWrap(t *testing.T) {
	t.Parallel()
	for _, torn := range []bool{false, true} {
		t.Run(fmt.Sprint("torn header ", torn), func(t *testing.T) {
			t.Parallel()
			errCrash := errors.New("injected crash before the first frame of a new cycle")
			hooks := &testHooks{journalWrite: func(frame []byte, off int64) error {
				if off == firstFrameOffset && binary.BigEndian.Uint64(frame[0:8]) > 1 {
					return errCrash
				}
				return nil
			}}
			opts := quiet(Options{JournalSize: MinJournalSize, hooks: hooks})
			s := openTest(t, opts)
			var acked []int
			for i := 0; ; i++ {
				err := s.WriteSync(testCtx(t), Put("orders", fmt.Sprint("k", i%20), []byte(strconv.Itoa(i)), map[string]string{"v": strconv.Itoa(i)}))
				if err == nil {
					acked = append(acked, i)
					continue
				}
				if !errors.Is(err, ErrFailed) || !errors.Is(err, errCrash) {
					t.Fatalf("write %d: got error %v, want ErrFailed wrapping the injected crash", i, err)
				}
				break
			}
			if len(acked) < 200 {
				t.Fatalf("got %d writes before the wrap, want at least 200 (a 1 MiB journal holds about 250 frames)", len(acked))
			}
			dir := crashCopy(t, s)
			jpath := filepath.Join(dir, DefaultFileName+JournalSuffix)
			if torn {
				f, err := os.OpenFile(jpath, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				head := make([]byte, journalBlock)
				if _, err := f.ReadAt(head, 0); err != nil {
					t.Fatal(err)
				}
				_, a, okA := parseJournalHeader(head[0:])
				_, b, okB := parseJournalHeader(head[journalSlotB:])
				if !okA || !okB || a == b {
					t.Fatalf("header slots: got A %d (%t), B %d (%t), want two valid slots after a wrap", a, okA, b, okB)
				}
				newSlot := int64(0)
				if b > a {
					newSlot = journalSlotB
				}
				if _, err := f.WriteAt(make([]byte, journalHeaderLen), newSlot); err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
			}
			s2, err := Open(dir, quiet(Options{JournalSize: MinJournalSize}))
			if err != nil {
				t.Fatalf("Open after a crash during a wrap: got error %v, want nil", err)
			}
			defer s2.Close()
			last := map[string]int{}
			revs := map[string]uint64{}
			for _, i := range acked {
				id := fmt.Sprint("k", i%20)
				last[id] = i
				revs[id]++
			}
			for id, i := range last {
				want := Record{Kind: "orders", ID: id, Revision: revs[id], Value: []byte(strconv.Itoa(i)), Index: map[string]string{"v": strconv.Itoa(i)}}
				if diff := cmp.Diff(want, mustGet(t, s2, "orders", id)); diff != "" {
					t.Errorf("record %s after the crash mismatch (-want +got):\n%s", id, diff)
				}
			}
			if err := s2.Check(); err != nil {
				t.Errorf("Check: got error %v, want nil", err)
			}
			// The reopened store journals on, and a second crash recovers it.
			mustWriteSync(t, s2, Put("orders", "after", []byte("x"), nil))
			s3, err := Open(crashCopy(t, s2), quiet(Options{JournalSize: MinJournalSize}))
			if err != nil {
				t.Fatalf("Open after a second crash: got error %v, want nil", err)
			}
			defer s3.Close()
			if rec := mustGet(t, s3, "orders", "after"); string(rec.Value) != "x" {
				t.Errorf("after: got %q, want x", rec.Value)
			}
		})
	}
}

// A block of an older frame's payload is never taken for the next frame:
// here a record value carries the bytes of a well-formed frame (a peer can
// choose the bytes of a value it sends) placed at the block where the
// cycle that follows a crash puts its second frame. Before frames were
// salted per cycle, the next recovery replayed it and the forged record
// "evil" appeared.
//
// Reference: RFC 8921 §8.11; DESIGN §4 ("Never panic on peer input";
// state after kill -9 is the acknowledged state).
func TestJournalStalePayloadNeverReplayed(t *testing.T) {
	t.Parallel()
	forged := appendFrame(nil, 3, []*jrec{{kind: "orders", id: "evil", rev: 7, value: []byte("forged")}})
	forged = forged[:frameHeaderLen+int(binary.BigEndian.Uint32(forged[8:12]))]
	value := make([]byte, 3*journalBlock)
	copy(value, "a unique prefix to find the value")
	probe := appendFrame(nil, 1, []*jrec{{kind: "orders", id: "carrier", rev: 1, value: value}})
	at := journalBlock - bytes.Index(probe, value[:32]) // value index at the frame's second block
	copy(value[at:], forged)

	opts := quiet(Options{JournalSize: MinJournalSize})
	a := openTest(t, opts)
	mustWriteSync(t, a, Put("orders", "carrier", value, nil)) // LSN 1, blocks 1 to 4
	b, err := Open(crashCopy(t, a), opts)                     // new cycle at LSN 2
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustWriteSync(t, b, Put("orders", "small", []byte("x"), nil)) // LSN 2, block 1; LSN 3 would go to block 2
	c, err := Open(crashCopy(t, b), opts)
	if err != nil {
		t.Fatalf("Open after the second crash: got error %v, want nil", err)
	}
	defer c.Close()
	if rec, err := c.Get("orders", "evil"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(evil): got %+v, error %v, want ErrNotFound (a stale payload block was replayed as a frame)", rec, err)
	}
	for _, id := range []string{"carrier", "small"} {
		mustGet(t, c, "orders", id)
	}
}

// A cycle that begins and ends without a frame (Open, then Close) leaves
// both header slots with the same start LSN and different salts; the
// frames of the next cycle must still be found after a crash.
//
// Reference: RFC 8921 §8.11; DESIGN §4.
func TestJournalEqualStartSlotsAfterEmptyCycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := quiet(Options{JournalSize: MinJournalSize})
	for range 2 { // create (slot A), then an empty cycle in slot B
		s, err := Open(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := Open(dir, opts) // picks one of the equal slots, writes the other
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	head := make([]byte, journalBlock)
	if _, err := s2.jnl.f.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	_, startA, okA := parseJournalHeader(head)
	_, startB, okB := parseJournalHeader(head[journalSlotB:])
	if !okA || !okB || startA != startB {
		t.Fatalf("header slots: got A start %d (%t), B start %d (%t), want two valid slots with the same start", startA, okA, startB, okB)
	}
	mustWriteSync(t, s2, Put("orders", "o1", []byte("v"), nil))
	s3, err := Open(crashCopy(t, s2), opts)
	if err != nil {
		t.Fatalf("Open after the crash: got error %v, want nil", err)
	}
	defer s3.Close()
	if rec := mustGet(t, s3, "orders", "o1"); string(rec.Value) != "v" {
		t.Errorf("o1: got %q, want v", rec.Value)
	}
}

// Format 1 journals (no salt) are still read; a format 1 header with a
// salt is not format 1.
//
// Reference: RFC 8921 §8.11 (state survives an upgrade as a reboot).
func TestReadJournalFormat1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		salt       uint32
		wantFrames int
		wantFormat bool
	}{
		{"unsalted", 0, 2, false},
		{"salt in a format 1 header", 9, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "j")
			b := make([]byte, MinJournalSize)
			copy(b, appendSaltedHeader(nil, journalFormatUnsalted, tt.salt, 1))
			copy(b[firstFrameOffset:], frame(1, "o1"))
			copy(b[firstFrameOffset+journalBlock:], frame(2, "o2"))
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rc, err := readJournal(f, path, 0)
			var fe *JournalFormatError
			if got := errors.As(err, &fe); got != tt.wantFormat {
				t.Fatalf("readJournal: got error %v, want a *JournalFormatError: %t", err, tt.wantFormat)
			}
			if len(rc.frames) != tt.wantFrames {
				t.Errorf("readJournal: got %d frames, want %d", len(rc.frames), tt.wantFrames)
			}
		})
	}
}
