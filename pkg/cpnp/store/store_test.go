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

package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
)

// testTimeout bounds every wait so that a bug fails the test instead of
// hanging it.
const testTimeout = 30 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// modes are the two commit paths (DESIGN §4 write-ahead either way): the
// journal, and one bbolt transaction per batch (NoJournal). Tests that
// must hold for both run under each.
var modes = []struct {
	name string
	opts store.Options
}{
	{"journal", store.Options{}},
	{"nojournal", store.Options{NoJournal: true}},
}

// inModes runs test in parallel under each of the modes, as a subtest
// named after it.
func inModes(t *testing.T, test func(*testing.T, store.Options)) {
	t.Helper()
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			test(t, m.opts)
		})
	}
}

// openStore opens a store in dir and closes it at the end of the test.
func openStore(t *testing.T, dir string, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): got error %v, want nil", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: got error %v, want nil", err)
		}
	})
	return s
}

func mustWrite(t *testing.T, s *store.Store, ops ...store.Op) {
	t.Helper()
	if err := s.WriteSync(testContext(t), ops...); err != nil {
		t.Fatalf("WriteSync: got error %v, want nil", err)
	}
}

func mustCheck(t *testing.T, s *store.Store) {
	t.Helper()
	if err := s.Check(); err != nil {
		t.Fatalf("Check: got error %v, want nil", err)
	}
}

func ids(recs []store.Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts    store.Options
		wantErr []string // substrings; none: valid
	}{
		"zero":               {opts: store.Options{}},
		"all set":            {opts: store.Options{LockTimeout: time.Second, QueueSize: 1, MaxBatchOps: 1, MaxSize: store.MinMaxSize, FileMode: 0o640}},
		"negative timeout":   {opts: store.Options{LockTimeout: -1}, wantErr: []string{"lockTimeout -1ns must not be negative"}},
		"negative queue":     {opts: store.Options{QueueSize: -1}, wantErr: []string{"queueSize -1"}},
		"negative batch":     {opts: store.Options{MaxBatchOps: -2}, wantErr: []string{"maxBatchOps -2"}},
		"max size too small": {opts: store.Options{MaxSize: 4096}, wantErr: []string{"maxSize 4096 must be 0"}},
		"negative max size":  {opts: store.Options{MaxSize: -1}, wantErr: []string{"maxSize -1"}},
		"mode not writable":  {opts: store.Options{FileMode: 0o400}, wantErr: []string{"owner read and write"}},
		"mode with type":     {opts: store.Options{FileMode: os.ModeDir | 0o600}, wantErr: []string{"permission bits only"}},
		"several":            {opts: store.Options{QueueSize: -1, MaxBatchOps: -1}, wantErr: []string{"queueSize", "maxBatchOps"}},
		"journal set":        {opts: store.Options{JournalSize: store.MinJournalSize, CheckpointInterval: time.Millisecond}},
		"no journal":         {opts: store.Options{NoJournal: true}},
		"journal too small":  {opts: store.Options{JournalSize: store.MinJournalSize - 1}, wantErr: []string{"journalSize 1048575 must be 0 (default) or between 1048576 and 4294967296"}},
		"journal too large":  {opts: store.Options{JournalSize: store.MaxJournalSize + 1}, wantErr: []string{"journalSize 4294967297 must be 0 (default) or between 1048576 and 4294967296"}},
		"negative journal":   {opts: store.Options{JournalSize: -1}, wantErr: []string{"journalSize -1"}},
		"negative interval":  {opts: store.Options{CheckpointInterval: -time.Second}, wantErr: []string{"checkpointInterval -1s must not be negative"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.opts.Validate()
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: got error %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: got nil, want an error containing %q", tc.wantErr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate: got %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestOpenInvalidOptions(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := store.Open(dir, store.Options{QueueSize: -1}); err == nil || !strings.Contains(err.Error(), "queueSize") {
		t.Fatalf("Open with invalid options: got error %v, want the validation error", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("data directory after a refused Open: got stat error %v, want not exist", err)
	}
	if _, err := store.Open("", store.Options{}); err == nil {
		t.Errorf("Open(\"\"): got nil error, want one")
	}
}

// Reference: DESIGN §3 ("cpnp-server creates --data-dir if missing") and
// RFC 8921 §8.11 (permanent storage survives a restart).
func TestOpenCreatesDirectoryAndPersists(t *testing.T) {
	inModes(t, testOpenCreatesDirectoryAndPersists)
}

func testOpenCreatesDirectoryAndPersists(t *testing.T, mode store.Options) {
	dir := filepath.Join(t.TempDir(), "a", "b", "data")
	s, err := store.Open(dir, mode)
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	if got, want := s.Path(), filepath.Join(dir, store.DefaultFileName); got != want {
		t.Errorf("Path: got %s, want %s", got, want)
	}
	mustWrite(t, s, store.Put("orders", "p1", []byte(`{"n":1}`), map[string]string{"provider": "prov-1"}))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	fi, err := os.Stat(filepath.Join(dir, store.DefaultFileName))
	if err != nil {
		t.Fatalf("stat data file: got error %v, want nil", err)
	}
	if got := fi.Mode().Perm(); got != store.DefaultFileMode {
		t.Errorf("data file mode: got %v, want %v", got, store.DefaultFileMode)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("stat data directory: got error %v, want nil", err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("data directory mode: got %v, want 0700", got)
	}

	s = openStore(t, dir, mode)
	got, err := s.Get("orders", "p1")
	if err != nil {
		t.Fatalf("Get after reopen: got error %v, want nil", err)
	}
	want := store.Record{Kind: "orders", ID: "p1", Revision: 1, Value: []byte(`{"n":1}`), Index: map[string]string{"provider": "prov-1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record after reopen mismatch (-want +got):\n%s", diff)
	}
	mustCheck(t, s)
}

func TestOpenFileInExistingDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cpnpctl.db")
	s, err := store.OpenFile(path, store.Options{FileMode: 0o640})
	if err != nil {
		t.Fatalf("OpenFile: got error %v, want nil", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: got error %v, want nil", err)
	}
	if got := fi.Mode().Perm(); got != 0o640 {
		t.Errorf("data file mode: got %v, want 0640", got)
	}
}

func TestOpenNotADatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, store.DefaultFileName)
	if err := os.WriteFile(path, []byte(strings.Repeat("not a bbolt file ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(dir, store.Options{}); err == nil {
		t.Fatalf("Open of a garbage file: got nil error, want one")
	}
	if _, err := store.OpenFile(t.TempDir(), store.Options{}); err == nil {
		t.Errorf("OpenFile of a directory: got nil error, want one")
	}
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(filepath.Join(blocker, "sub"), store.Options{}); err == nil {
		t.Errorf("Open below a regular file: got nil error, want one")
	}
}

// A second opener of the same data directory fails clearly instead of
// corrupting it or hanging.
func TestOpenInUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	openStore(t, dir, store.Options{})
	start := time.Now()
	_, err := store.Open(dir, store.Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, store.ErrInUse) {
		t.Fatalf("second Open: got error %v, want ErrInUse", err)
	}
	if !strings.Contains(err.Error(), "data directory in use") {
		t.Errorf("second Open: got %q, want it to say \"data directory in use\"", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("second Open took %s, want about the 50ms lock timeout", elapsed)
	}
}

// Reference: RFC 8921 §8.11.2 (the server keeps its orders): create,
// replace, read back and delete, with revisions.
func TestPutGetDelete(t *testing.T) {
	inModes(t, testPutGetDelete)
}

func testPutGetDelete(t *testing.T, mode store.Options) {
	s := openStore(t, t.TempDir(), mode)
	if _, err := s.Get("orders", "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of unknown kind: got error %v, want ErrNotFound", err)
	}
	mustWrite(t, s, store.Put("orders", "p1", []byte("v1"), nil), store.Put("orders", "p2", []byte("other"), nil))
	mustWrite(t, s, store.Put("orders", "p1", []byte("v2"), nil))
	got, err := s.Get("orders", "p1")
	if err != nil {
		t.Fatalf("Get: got error %v, want nil", err)
	}
	if diff := cmp.Diff(store.Record{Kind: "orders", ID: "p1", Revision: 2, Value: []byte("v2")}, got); diff != "" {
		t.Errorf("record after two puts mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.Get("orders", "p3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of unknown ID: got error %v, want ErrNotFound", err)
	}
	if _, err := s.Get("sessions", "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get in another kind: got error %v, want ErrNotFound", err)
	}
	mustWrite(t, s, store.Delete("orders", "p1"), store.Delete("orders", "never-existed"), store.Delete("no-such-kind", "x"))
	if _, err := s.Get("orders", "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete: got error %v, want ErrNotFound", err)
	}
	if got, err := s.Get("orders", "p2"); err != nil || string(got.Value) != "other" {
		t.Errorf("Get of untouched record: got %q, %v, want \"other\", nil", got.Value, err)
	}
	mustWrite(t, s, store.Put("orders", "p1", []byte("v3"), nil))
	if got, _ := s.Get("orders", "p1"); got.Revision != 1 {
		t.Errorf("revision after delete and put: got %d, want 1", got.Revision)
	}
	mustCheck(t, s)
}

// The ops of one submission are applied in order: a later op on the same
// record wins.
func TestOpsAppliedInOrder(t *testing.T) {
	inModes(t, testOpsAppliedInOrder)
}

func testOpsAppliedInOrder(t *testing.T, mode store.Options) {
	s := openStore(t, t.TempDir(), mode)
	mustWrite(t, s,
		store.Put("orders", "p1", []byte("a"), map[string]string{"provider": "x"}),
		store.Put("orders", "p1", []byte("b"), map[string]string{"provider": "y"}),
		store.Put("orders", "p2", []byte("c"), nil),
		store.Delete("orders", "p2"),
	)
	got, err := s.Get("orders", "p1")
	if err != nil {
		t.Fatalf("Get: got error %v, want nil", err)
	}
	if diff := cmp.Diff(store.Record{Kind: "orders", ID: "p1", Revision: 2, Value: []byte("b"), Index: map[string]string{"provider": "y"}}, got); diff != "" {
		t.Errorf("record mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.Get("orders", "p2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of put-then-deleted record: got error %v, want ErrNotFound", err)
	}
	if recs, _ := s.Lookup("orders", "provider", "x"); len(recs) != 0 {
		t.Errorf("Lookup of overwritten index key: got %v, want none", ids(recs))
	}
	mustCheck(t, s)
}

// Reference: RFC 8921 §9.1.2 (provider order identifier) and DESIGN §3
// (CANCEL is matched on identity + customer order ID + transaction ID):
// index lookups find exactly the records carrying a key, follow updates, and
// deletes remove the entries.
func TestLookupByIndex(t *testing.T) {
	inModes(t, testLookupByIndex)
}

func testLookupByIndex(t *testing.T, mode store.Options) {
	s := openStore(t, t.TempDir(), mode)
	cancelKey := func(identity, coid, tid string) string { return store.IndexKey(identity, coid, tid) }
	mustWrite(t, s,
		store.Put("orders", "o1", []byte("1"), map[string]string{"provider": "prov-1", "cancel": cancelKey("acme", "c1", "t1"), "customer": "c1"}),
		store.Put("orders", "o2", []byte("2"), map[string]string{"provider": "prov-2", "cancel": cancelKey("acme", "c2", "t2"), "customer": "c1"}),
		store.Put("orders", "o3", []byte("3"), map[string]string{"provider": "prov-10", "customer": ""}),
		store.Put("other", "o4", []byte("4"), map[string]string{"provider": "prov-1"}),
	)
	type lookup struct{ name, key string }
	tests := []struct {
		name string
		l    lookup
		want []string
	}{
		{"unique key", lookup{"provider", "prov-1"}, []string{"o1"}},
		{"no prefix match", lookup{"provider", "prov"}, []string{}},
		{"longer key not matched", lookup{"provider", "prov-10"}, []string{"o3"}},
		{"composite key", lookup{"cancel", cancelKey("acme", "c2", "t2")}, []string{"o2"}},
		{"composite key other identity", lookup{"cancel", cancelKey("evil", "c2", "t2")}, []string{}},
		{"shared key", lookup{"customer", "c1"}, []string{"o1", "o2"}},
		{"empty key never indexed", lookup{"customer", ""}, []string{}},
		{"unknown index", lookup{"nope", "prov-1"}, []string{}},
	}
	for _, tc := range tests {
		recs, err := s.Lookup("orders", tc.l.name, tc.l.key)
		if err != nil {
			t.Errorf("%s: Lookup: got error %v, want nil", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, ids(recs)); diff != "" {
			t.Errorf("%s: Lookup(%s=%q) IDs mismatch (-want +got):\n%s", tc.name, tc.l.name, tc.l.key, diff)
		}
	}
	if recs, err := s.Lookup("unknown-kind", "provider", "prov-1"); err != nil || len(recs) != 0 {
		t.Errorf("Lookup in unknown kind: got %v, %v, want none, nil", ids(recs), err)
	}

	one, err := s.LookupOne("orders", "provider", "prov-2")
	if err != nil || one.ID != "o2" || string(one.Value) != "2" {
		t.Errorf("LookupOne(provider=prov-2): got %s %q, %v, want o2 \"2\", nil", one.ID, one.Value, err)
	}
	if _, err := s.LookupOne("orders", "customer", "c1"); !errors.Is(err, store.ErrAmbiguous) {
		t.Errorf("LookupOne of a shared key: got error %v, want ErrAmbiguous", err)
	}
	if _, err := s.LookupOne("orders", "provider", "prov-9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupOne of a missing key: got error %v, want ErrNotFound", err)
	}

	// Update: o1 moves to another transaction and drops its customer key.
	mustWrite(t, s, store.Put("orders", "o1", []byte("1b"), map[string]string{"provider": "prov-1", "cancel": cancelKey("acme", "c1", "t9")}))
	for _, tc := range []struct {
		l    lookup
		want []string
	}{
		{lookup{"cancel", cancelKey("acme", "c1", "t1")}, []string{}},
		{lookup{"cancel", cancelKey("acme", "c1", "t9")}, []string{"o1"}},
		{lookup{"customer", "c1"}, []string{"o2"}},
		{lookup{"provider", "prov-1"}, []string{"o1"}},
	} {
		recs, err := s.Lookup("orders", tc.l.name, tc.l.key)
		if err != nil {
			t.Fatalf("Lookup after update: got error %v, want nil", err)
		}
		if diff := cmp.Diff(tc.want, ids(recs)); diff != "" {
			t.Errorf("Lookup(%s=%q) after update mismatch (-want +got):\n%s", tc.l.name, tc.l.key, diff)
		}
	}

	// Delete removes every index entry of the record.
	mustWrite(t, s, store.Delete("orders", "o1"), store.Delete("orders", "o2"))
	for _, l := range []lookup{{"provider", "prov-1"}, {"provider", "prov-2"}, {"cancel", cancelKey("acme", "c1", "t9")}, {"customer", "c1"}} {
		if recs, _ := s.Lookup("orders", l.name, l.key); len(recs) != 0 {
			t.Errorf("Lookup(%s=%q) after delete: got %v, want none", l.name, l.key, ids(recs))
		}
	}
	if recs, _ := s.Lookup("other", "provider", "prov-1"); len(recs) != 1 {
		t.Errorf("Lookup in another kind after delete: got %v, want o4", ids(recs))
	}
	mustCheck(t, s) // Check fails on any dangling or missing index entry
}

// Reference: RFC 8921 §8.11 (state recovery at restart): Scan visits every
// record once, in ID order, and stops at the callback's error.
func TestScan(t *testing.T) {
	inModes(t, testScan)
}

func testScan(t *testing.T, mode store.Options) {
	s := openStore(t, t.TempDir(), mode)
	var ops []store.Op
	var want []string
	for i := range 600 { // more than one scan chunk
		id := fmt.Sprintf("order-%04d", i)
		ops = append(ops, store.Put("orders", id, []byte(id), nil))
		want = append(want, id)
	}
	ops = append(ops, store.Put("other", "x", nil, nil))
	mustWrite(t, s, ops...)

	var got []string
	err := s.Scan("orders", func(r store.Record) error {
		if string(r.Value) != r.ID {
			t.Errorf("record %s: got value %q, want %q", r.ID, r.Value, r.ID)
		}
		got = append(got, r.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Scan IDs mismatch (-want +got):\n%s", diff)
	}

	errStop := errors.New("stop")
	n := 0
	err = s.Scan("orders", func(store.Record) error {
		n++
		if n == 300 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || n != 300 {
		t.Errorf("Scan stopped by callback: got %v after %d records, want errStop after 300", err, n)
	}
	if err := s.Scan("unknown", func(store.Record) error { t.Error("callback for unknown kind"); return nil }); err != nil {
		t.Errorf("Scan of unknown kind: got error %v, want nil", err)
	}
}

// The callback of Scan may write and wait for the write: Scan holds no
// transaction while it runs.
func TestScanCallbackMayWrite(t *testing.T) {
	inModes(t, testScanCallbackMayWrite)
}

func testScanCallbackMayWrite(t *testing.T, mode store.Options) {
	s := openStore(t, t.TempDir(), mode)
	for i := range 3 {
		mustWrite(t, s, store.Put("orders", fmt.Sprint(i), []byte("old"), nil))
	}
	ctx := testContext(t)
	err := s.Scan("orders", func(r store.Record) error {
		return s.WriteSync(ctx, store.Put("orders", r.ID, []byte("new"), nil))
	})
	if err != nil {
		t.Fatalf("Scan with writing callback: got error %v, want nil", err)
	}
	for i := range 3 {
		if got, _ := s.Get("orders", fmt.Sprint(i)); string(got.Value) != "new" {
			t.Errorf("record %d: got %q, want \"new\"", i, got.Value)
		}
	}
}

// Many goroutines write at once; every acknowledged write is stored, each
// goroutine's callbacks run in its submission order, and they share fsyncs.
func TestConcurrentWriters(t *testing.T) {
	inModes(t, testConcurrentWriters)
}

func testConcurrentWriters(t *testing.T, mode store.Options) {
	s := openStore(t, t.TempDir(), mode)
	const writers, perWriter = 8, 100
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			var mu sync.Mutex
			var order []int
			var pending sync.WaitGroup
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%03d", w, i)
				pending.Add(1)
				err := s.Write(ctx, []store.Op{store.Put("orders", id, []byte(id), map[string]string{"writer": fmt.Sprint(w)})}, func(err error) {
					defer pending.Done()
					if err != nil {
						errs <- fmt.Errorf("write %s: %w", id, err)
					}
					mu.Lock()
					order = append(order, i)
					mu.Unlock()
				})
				if err != nil {
					pending.Done()
					errs <- err
					return
				}
			}
			pending.Wait()
			for i, got := range order {
				if got != i {
					errs <- fmt.Errorf("writer %d: callback %d was for write %d, want %d", w, i, got, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := range writers {
		recs, err := s.Lookup("orders", "writer", fmt.Sprint(w))
		if err != nil || len(recs) != perWriter {
			t.Errorf("writer %d: got %d records, %v, want %d, nil", w, len(recs), err, perWriter)
		}
	}
	st := s.Stats()
	if st.Submitted != writers*perWriter || st.Acknowledged != writers*perWriter || st.Failed != 0 || st.Ops != writers*perWriter {
		t.Errorf("Stats: got %+v, want %d submitted, acknowledged and ops, 0 failed", st, writers*perWriter)
	}
	if st.Commits == 0 || st.Commits > st.Acknowledged {
		t.Errorf("Stats.Commits: got %d, want between 1 and %d", st.Commits, st.Acknowledged)
	}
	t.Logf("%d writes in %d commits", st.Acknowledged, st.Commits)
	mustCheck(t, s)
}

// Reference: RFC 8921 §8.11 (restart): Close commits everything already
// submitted and calls every callback; a reopened store holds it all.
func TestClosePendingWritesThenReopen(t *testing.T) {
	inModes(t, testClosePendingWritesThenReopen)
}

func testClosePendingWritesThenReopen(t *testing.T, mode store.Options) {
	dir := t.TempDir()
	s, err := store.Open(dir, mode)
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	const n = 500
	var mu sync.Mutex
	acked := 0
	for i := range n {
		id := fmt.Sprintf("o%03d", i)
		if err := s.TryWrite([]store.Op{store.Put("orders", id, []byte(id), nil)}, func(err error) {
			if err != nil {
				t.Errorf("done(%s): got error %v, want nil", id, err)
			}
			mu.Lock()
			acked++
			mu.Unlock()
		}); err != nil {
			t.Fatalf("TryWrite %d: got error %v, want nil", i, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	mu.Lock()
	if acked != n {
		t.Errorf("callbacks run by Close: got %d, want %d", acked, n)
	}
	mu.Unlock()
	if err := s.Close(); err != nil {
		t.Errorf("second Close: got error %v, want nil", err)
	}
	if err := s.TryWrite([]store.Op{store.Delete("orders", "o1")}, func(error) { t.Error("done called for a refused write") }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("TryWrite after Close: got error %v, want ErrClosed", err)
	}
	if err := s.WriteSync(testContext(t)); !errors.Is(err, store.ErrClosed) {
		t.Errorf("WriteSync after Close: got error %v, want ErrClosed", err)
	}
	if _, err := s.Get("orders", "o001"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Get after Close: got error %v, want ErrClosed", err)
	}

	s = openStore(t, dir, mode)
	count := 0
	if err := s.Scan("orders", func(r store.Record) error {
		if want := fmt.Sprintf("o%03d", count); r.ID != want || string(r.Value) != want {
			t.Errorf("record %d: got %s=%q, want %s", count, r.ID, r.Value, want)
		}
		count++
		return nil
	}); err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	if count != n {
		t.Errorf("records after reopen: got %d, want %d", count, n)
	}
	mustCheck(t, s)
}

// Invalid ops are refused before they are queued, and do not disturb the
// valid writes around them.
func TestWriteRejectsInvalidOps(t *testing.T) {
	inModes(t, testWriteRejectsInvalidOps)
}

func testWriteRejectsInvalidOps(t *testing.T, mode store.Options) {
	s := openStore(t, t.TempDir(), mode)
	bad := []store.Op{store.Put("orders", "ok", nil, nil), store.Put("bad kind", "x", nil, nil)}
	if err := s.TryWrite(bad, func(error) { t.Error("done called for a refused write") }); !errors.Is(err, store.ErrInvalidOp) {
		t.Errorf("TryWrite: got error %v, want ErrInvalidOp", err)
	}
	if err := s.WriteSync(testContext(t), bad...); !errors.Is(err, store.ErrInvalidOp) {
		t.Errorf("WriteSync: got error %v, want ErrInvalidOp", err)
	}
	if _, err := s.Get("orders", "ok"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("valid op of a refused submission: got error %v, want ErrNotFound (not applied)", err)
	}
	if err := s.Write(testContext(t), []store.Op{store.Put("orders", "ok", nil, nil)}, nil); err != nil {
		t.Errorf("Write with nil done: got error %v, want nil", err)
	}
	mustWrite(t, s) // barrier: the nil-done write is committed before it returns
	if _, err := s.Get("orders", "ok"); err != nil {
		t.Errorf("Get after barrier: got error %v, want nil", err)
	}
}

func TestCheckHealthyEmptyStore(t *testing.T) {
	inModes(t, testCheckHealthyEmptyStore)
}

func testCheckHealthyEmptyStore(t *testing.T, mode store.Options) {
	s := openStore(t, t.TempDir(), mode)
	mustCheck(t, s)
	if st := s.Stats(); st != (store.Stats{}) {
		t.Errorf("Stats of a new store: got %+v, want zero", st)
	}
}
