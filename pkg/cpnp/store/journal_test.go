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
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

// quiet leaves checkpoints to the test: they run only when it reads with
// Lookup, Scan or Check, or when the journal wraps.
func quiet(opts Options) Options {
	opts.CheckpointInterval = time.Hour
	return opts
}

// crashCopy copies the data file and the journal of the open store s into
// a new data directory, as a kill -9 would leave them now: acknowledged
// writes may be only in the journal, and the data file is marked in use.
func crashCopy(t *testing.T, s *Store) string {
	t.Helper()
	dir := t.TempDir()
	for _, suffix := range []string{"", JournalSuffix} {
		b, err := os.ReadFile(s.path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, DefaultFileName+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// bboltHas reports whether the data file itself holds record id, bypassing
// the overlay.
func bboltHas(t *testing.T, s *Store, kind, id string) bool {
	t.Helper()
	found := false
	if err := s.db.View(func(tx *bolt.Tx) error {
		if recs, _ := kindBuckets(tx, kind); recs != nil {
			found = recs.Get([]byte(id)) != nil
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return found
}

// appliedLSN reads the applied LSN recorded in the data file.
func appliedLSN(t *testing.T, s *Store) uint64 {
	t.Helper()
	lsn, _, err := s.journalMeta()
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}

func mustGet(t *testing.T, s *Store, kind, id string) Record {
	t.Helper()
	rec, err := s.Get(kind, id)
	if err != nil {
		t.Fatalf("Get(%s/%s): got error %v, want nil", kind, id, err)
	}
	return rec
}

// Reference: RFC 8921 §8.11 (state kept on permanent storage) and DESIGN §4
// (write-ahead): a write is readable as soon as it is acknowledged, before
// any checkpoint: Get from the overlay, Lookup and Scan after the flush
// they run first.
func TestJournalReadsBeforeCheckpoint(t *testing.T) {
	t.Parallel()
	s := openTest(t, quiet(Options{}))
	mustWriteSync(t, s, Put("orders", "o1", []byte("v1"), map[string]string{"provider": "p1", "empty": ""}))
	mustWriteSync(t, s, Put("orders", "o1", []byte("v2"), map[string]string{"provider": "p2"}), Put("orders", "o2", nil, nil))
	mustWriteSync(t, s, Delete("orders", "o2"))
	if bboltHas(t, s, "orders", "o1") {
		t.Fatal("data file holds o1 before any checkpoint: the test does not exercise the overlay")
	}
	want := Record{Kind: "orders", ID: "o1", Revision: 2, Value: []byte("v2"), Index: map[string]string{"provider": "p2"}}
	if diff := cmp.Diff(want, mustGet(t, s, "orders", "o1")); diff != "" {
		t.Errorf("Get before checkpoint mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.Get("orders", "o2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a journaled delete: got error %v, want ErrNotFound", err)
	}
	got := mustGet(t, s, "orders", "o1")
	got.Value[0], got.Index["provider"] = 'x', "changed"
	if diff := cmp.Diff(want, mustGet(t, s, "orders", "o1")); diff != "" {
		t.Errorf("Get after the caller changed a returned record mismatch (-want +got):\n%s", diff)
	}
	if st := s.Stats(); st.Checkpoints != 0 || st.Commits != 3 {
		t.Errorf("Stats before reads: got %+v, want 0 checkpoints and 3 commits", st)
	}
	recs, err := s.Lookup("orders", "provider", "p2")
	if err != nil || len(recs) != 1 || recs[0].ID != "o1" {
		t.Errorf("Lookup(provider=p2): got %v, %v, want o1", recIDs(recs), err)
	}
	if recs, _ := s.Lookup("orders", "provider", "p1"); len(recs) != 0 {
		t.Errorf("Lookup(provider=p1) after the index changed: got %v, want none", recIDs(recs))
	}
	if st := s.Stats(); st.Checkpoints != 1 {
		t.Errorf("Stats.Checkpoints after Lookup: got %d, want 1 (the flush)", st.Checkpoints)
	}
	if !bboltHas(t, s, "orders", "o1") || bboltHas(t, s, "orders", "o2") {
		t.Error("data file after the flush: want o1 and not o2")
	}
	if got := appliedLSN(t, s); got != 3 {
		t.Errorf("applied LSN after the flush: got %d, want 3", got)
	}
	mustWriteSync(t, s, Put("orders", "o3", []byte("v3"), nil))
	var seen []string
	if err := s.Scan("orders", func(r Record) error { seen = append(seen, r.ID); return nil }); err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	if diff := cmp.Diff([]string{"o1", "o3"}, seen); diff != "" {
		t.Errorf("Scan after a journaled write mismatch (-want +got):\n%s", diff)
	}
	if err := s.Check(); err != nil {
		t.Errorf("Check: got error %v, want nil", err)
	}
	if st := s.Stats(); st.Checkpoints != 2 {
		t.Errorf("Stats.Checkpoints: got %d, want 2 (nothing new to flush for Check)", st.Checkpoints)
	}
}

// Reference: RFC 8921 §8.11 (state recovery after a reboot): acknowledged
// writes that are only in the journal when the process dies are replayed
// at Open, with their revisions and index entries; replaying is
// idempotent.
func TestJournalRecoveryAfterCrash(t *testing.T) {
	t.Parallel()
	s := openTest(t, quiet(Options{}))
	mustWriteSync(t, s, Put("orders", "o1", []byte("a"), map[string]string{"provider": "p1"}), Put("orders", "gone", nil, map[string]string{"provider": "p9"}))
	if _, err := s.Lookup("orders", "provider", "p1"); err != nil { // checkpoint LSN 1
		t.Fatal(err)
	}
	mustWriteSync(t, s, Put("orders", "o1", []byte("b"), map[string]string{"provider": "p2"}))
	mustWriteSync(t, s, Delete("orders", "gone"), Put("orders", "o3", []byte("c"), nil))
	dir := crashCopy(t, s)

	want := map[string]Record{
		"o1": {Kind: "orders", ID: "o1", Revision: 2, Value: []byte("b"), Index: map[string]string{"provider": "p2"}},
		"o3": {Kind: "orders", ID: "o3", Revision: 1, Value: []byte("c")},
	}
	wantLSN := uint64(3)
	for round := range 3 {
		s2, err := Open(dir, quiet(Options{}))
		if err != nil {
			t.Fatalf("round %d: Open after crash: got error %v, want nil", round, err)
		}
		if got := appliedLSN(t, s2); got != wantLSN {
			t.Errorf("round %d: applied LSN after Open: got %d, want %d", round, got, wantLSN)
		}
		for id, w := range want {
			if diff := cmp.Diff(w, mustGet(t, s2, "orders", id)); diff != "" {
				t.Errorf("round %d: %s mismatch (-want +got):\n%s", round, id, diff)
			}
		}
		if _, err := s2.Get("orders", "gone"); !errors.Is(err, ErrNotFound) {
			t.Errorf("round %d: Get(gone): got error %v, want ErrNotFound", round, err)
		}
		for key, wantIDs := range map[string][]string{"p1": {}, "p2": {"o1"}, "p9": {}} {
			recs, err := s2.Lookup("orders", "provider", key)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantIDs, recIDs(recs)); diff != "" {
				t.Errorf("round %d: Lookup(provider=%s) mismatch (-want +got):\n%s", round, key, diff)
			}
		}
		if err := s2.Check(); err != nil {
			t.Errorf("round %d: Check: got error %v, want nil", round, err)
		}
		if round == 1 {
			// A write after recovery continues the LSNs and revisions.
			mustWriteSync(t, s2, Put("orders", "o1", []byte("d"), map[string]string{"provider": "p2"}))
			want["o1"] = Record{Kind: "orders", ID: "o1", Revision: 3, Value: []byte("d"), Index: map[string]string{"provider": "p2"}}
			if err := s2.WriteSync(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			if got := s2.jnl.next; got != 5 {
				t.Errorf("next LSN after a write following recovery: got %d, want 5", got)
			}
			wantLSN = 4
			// Crash again instead of closing.
			dir = crashCopy(t, s2)
			_ = s2.Close()
			continue
		}
		if err := s2.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
	}
}

// writeJournalFile writes a journal of size bytes with header start in
// slot A and the given frames one after the other.
func writeJournalFile(t *testing.T, path string, start uint64, frames [][]byte) {
	t.Helper()
	b := make([]byte, 1<<20)
	copy(b, appendJournalHeader(nil, JournalFormat, start))
	off := firstFrameOffset
	for _, f := range frames {
		copy(b[off:], f)
		off += len(f)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func frame(lsn uint64, ids ...string) []byte {
	var recs []*jrec
	for _, id := range ids {
		recs = append(recs, &jrec{kind: "orders", id: id, rev: lsn, value: []byte(id)})
	}
	return appendFrame(nil, lsn, recs)
}

// Reference: RFC 8921 §8.11. Recovery replays the chain of frames that
// follow the header with consecutive LSNs and valid checksums, and stops
// at the first other one: a torn or garbage frame at the end, a frame with
// a bad checksum in the middle (what follows was never acknowledged), or a
// stale frame of the previous cycle after the head.
func TestReadJournalStopsAtFirstInvalidFrame(t *testing.T) {
	t.Parallel()
	corrupt := func(f []byte, i int) []byte {
		f = append([]byte(nil), f...)
		f[i] ^= 0x40
		return f
	}
	torn := frame(12, "c")
	torn = append(torn[:frameHeaderLen+3:frameHeaderLen+3], make([]byte, len(torn)-frameHeaderLen-3)...)
	tests := map[string]struct {
		start    uint64
		applied  uint64
		frames   [][]byte
		wantIDs  []string
		wantLast uint64
	}{
		"all valid":               {start: 10, frames: [][]byte{frame(10, "a"), frame(11, "b")}, wantIDs: []string{"a", "b"}, wantLast: 11},
		"torn frame at the end":   {start: 10, frames: [][]byte{frame(10, "a"), frame(11, "b"), torn}, wantIDs: []string{"a", "b"}, wantLast: 11},
		"garbage at the end":      {start: 10, frames: [][]byte{frame(10, "a"), []byte(strings.Repeat("garbage!", 600))}, wantIDs: []string{"a"}, wantLast: 10},
		"bad checksum in middle":  {start: 10, frames: [][]byte{frame(10, "a"), corrupt(frame(11, "b"), frameHeaderLen+2), frame(12, "c")}, wantIDs: []string{"a"}, wantLast: 10},
		"bad length in middle":    {start: 10, frames: [][]byte{frame(10, "a"), corrupt(frame(11, "b"), 9), frame(12, "c")}, wantIDs: []string{"a"}, wantLast: 10},
		"stale frame after head":  {start: 10, frames: [][]byte{frame(10, "a"), frame(5, "old"), frame(11, "b")}, wantIDs: []string{"a"}, wantLast: 10},
		"gap in LSNs":             {start: 10, frames: [][]byte{frame(10, "a"), frame(12, "c")}, wantIDs: []string{"a"}, wantLast: 10},
		"stale first frame":       {start: 10, frames: [][]byte{frame(9, "old"), frame(10, "a")}, wantIDs: nil, wantLast: 9},
		"applied frames skipped":  {start: 10, applied: 11, frames: [][]byte{frame(10, "a"), frame(11, "b"), frame(12, "c")}, wantIDs: []string{"c"}, wantLast: 12},
		"everything applied":      {start: 10, applied: 12, frames: [][]byte{frame(10, "a"), frame(11, "b"), frame(12, "c")}, wantIDs: nil, wantLast: 12},
		"empty journal (zeroes)":  {start: 1, wantIDs: nil, wantLast: 0},
		"multi-record frame kept": {start: 3, frames: [][]byte{frame(3, "x", "y", "z")}, wantIDs: []string{"x", "y", "z"}, wantLast: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "j")
			writeJournalFile(t, path, tc.start, tc.frames)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rc, err := readJournal(f, path, tc.applied)
			if err != nil {
				t.Fatalf("readJournal: got error %v, want nil", err)
			}
			var got []string
			for _, fr := range rc.frames {
				for _, r := range fr {
					got = append(got, r.id)
					if string(r.value) != r.id {
						t.Errorf("record %s: got value %q, want %q", r.id, r.value, r.id)
					}
				}
			}
			if diff := cmp.Diff(tc.wantIDs, got); diff != "" {
				t.Errorf("replayed records mismatch (-want +got):\n%s", diff)
			}
			if rc.last != tc.wantLast || rc.start != tc.start {
				t.Errorf("start, last: got %d, %d, want %d, %d", rc.start, rc.last, tc.start, tc.wantLast)
			}
		})
	}
}

// The header slot with the higher start LSN is current, so a header torn
// by a power loss during a wrap leaves the previous cycle readable.
func TestReadJournalHeaderSlots(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j")
	writeJournalFile(t, path, 10, [][]byte{frame(10, "a"), frame(11, "b")})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	newer := appendJournalHeader(nil, JournalFormat, 12)
	newer[20] ^= 1 // torn: checksum fails
	copy(b[journalSlotB:], newer)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := readJournal(f, path, 0)
	if err != nil {
		t.Fatalf("readJournal: got error %v, want nil", err)
	}
	if rc.start != 10 || rc.slot != 0 || rc.last != 11 {
		t.Errorf("with a torn slot B: got start %d slot %d last %d, want 10, 0, 11", rc.start, rc.slot, rc.last)
	}
	copy(b[journalSlotB:], appendJournalHeader(nil, JournalFormat, 12))
	if _, err := f.Close(), os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f2, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	rc, err = readJournal(f2, path, 11)
	if err != nil {
		t.Fatalf("readJournal: got error %v, want nil", err)
	}
	if rc.start != 12 || rc.slot != journalSlotB || rc.last != 11 || len(rc.frames) != 0 {
		t.Errorf("with a valid slot B: got start %d slot %d last %d frames %d, want 12, %d, 11, 0", rc.start, rc.slot, rc.last, len(rc.frames), journalSlotB)
	}
}

// setJournalHeader overwrites header slot A of the journal in dir.
func setJournalHeader(t *testing.T, dir string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, DefaultFileName+JournalSuffix), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Both slots: the other one may hold a newer cycle.
	for _, off := range []int64{0, journalSlotB} {
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
}

// journalStart reads the start LSN of the current cycle of s's journal.
func journalStart(t *testing.T, s *Store) uint64 {
	t.Helper()
	f, err := os.Open(s.jnl.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := readJournal(f, s.jnl.path, 0)
	if err != nil {
		t.Fatal(err)
	}
	return rc.start
}

// Opening refuses journals it cannot trust while they may hold
// acknowledged writes, and names the file; it recreates what is safe to
// recreate.
func TestOpenJournalStates(t *testing.T) {
	t.Parallel()
	// crashed returns a data directory left by a kill -9 with one write
	// only in the journal; closed one left by a clean Close.
	crashed := func(t *testing.T) string {
		s := openTest(t, quiet(Options{}))
		mustWriteSync(t, s, Put("orders", "o1", []byte("v"), nil))
		return crashCopy(t, s)
	}
	closed := func(t *testing.T) string {
		dir := t.TempDir()
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		mustWriteSync(t, s, Put("orders", "o1", []byte("v"), nil))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	removeJournal := func(t *testing.T, dir string) {
		if err := os.Remove(filepath.Join(dir, DefaultFileName+JournalSuffix)); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]struct {
		prepare func(t *testing.T) string
		opts    Options
		wantIs  error    // nil: Open succeeds and o1 is there
		wantMsg []string // substrings of the error
	}{
		"unknown format": {
			prepare: func(t *testing.T) string {
				dir := closed(t)
				setJournalHeader(t, dir, appendJournalHeader(nil, 3, 5))
				return dir
			},
			wantIs: ErrJournalFormat, wantMsg: []string{"format 3 is not supported", "reads format 2"},
		},
		"missing after a crash": {
			prepare: func(t *testing.T) string { dir := crashed(t); removeJournal(t, dir); return dir },
			wantIs:  ErrJournal, wantMsg: []string{"missing", "may hold acknowledged writes"},
		},
		"no valid header after a crash": {
			prepare: func(t *testing.T) string {
				dir := crashed(t)
				setJournalHeader(t, dir, make([]byte, journalHeaderLen))
				return dir
			},
			wantIs: ErrJournal, wantMsg: []string{"no valid header"},
		},
		"missing after a clean close": {
			prepare: func(t *testing.T) string { dir := closed(t); removeJournal(t, dir); return dir },
		},
		"no valid header after a clean close": {
			prepare: func(t *testing.T) string {
				dir := closed(t)
				setJournalHeader(t, dir, make([]byte, journalHeaderLen))
				return dir
			},
		},
		"missing after a crash, NoJournal accepts the loss": {
			prepare: func(t *testing.T) string { dir := crashed(t); removeJournal(t, dir); return dir },
			opts:    Options{NoJournal: true},
			wantIs:  ErrNotFound,
		},
		"crash, reopened with NoJournal": {
			prepare: crashed,
			opts:    Options{NoJournal: true},
		},
		"crash, reopened with another journal size": {
			prepare: crashed,
			opts:    Options{JournalSize: 2 * MinJournalSize},
		},
		"data directory written without a journal": {
			prepare: func(t *testing.T) string {
				dir := t.TempDir()
				s, err := Open(dir, Options{NoJournal: true})
				if err != nil {
					t.Fatal(err)
				}
				mustWriteSync(t, s, Put("orders", "o1", []byte("v"), nil))
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(dir, DefaultFileName+JournalSuffix)); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("journal of a NoJournal store: got stat error %v, want not exist", err)
				}
				return dir
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := tc.prepare(t)
			jpath := filepath.Join(dir, DefaultFileName+JournalSuffix)
			s, err := Open(dir, tc.opts)
			if tc.wantIs != nil && !errors.Is(tc.wantIs, ErrNotFound) {
				if !errors.Is(err, tc.wantIs) {
					t.Fatalf("Open: got error %v, want %v", err, tc.wantIs)
				}
				for _, want := range append(tc.wantMsg, jpath) {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("Open: got %q, want it to contain %q", err, want)
					}
				}
				var fe *JournalFormatError
				if errors.As(err, &fe) {
					if diff := cmp.Diff(&JournalFormatError{Path: jpath, Found: 3, Supported: JournalFormat}, fe); diff != "" {
						t.Errorf("JournalFormatError mismatch (-want +got):\n%s", diff)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: got error %v, want nil", err)
			}
			defer s.Close()
			_, err = s.Get("orders", "o1")
			if want := tc.wantIs; !errors.Is(err, want) { // errors.Is(nil, nil) holds
				t.Errorf("Get(o1): got error %v, want %v", err, want)
			}
			if err := s.Check(); err != nil {
				t.Errorf("Check: got error %v, want nil", err)
			}
			if !tc.opts.NoJournal {
				fi, err := os.Stat(jpath)
				if err != nil {
					t.Fatalf("journal after Open: %v", err)
				}
				want := tc.opts.JournalSize
				if want == 0 {
					want = DefaultJournalSize
				}
				if fi.Size() != want {
					t.Errorf("journal size: got %d, want %d", fi.Size(), want)
				}
				mustWriteSync(t, s, Put("orders", "o2", nil, nil))
			}
		})
	}
}

// A data file restored from a copy older than the journal's cycle is
// refused: replaying the journal onto it would skip the frames in between.
func TestOpenDataFileBehindJournal(t *testing.T) {
	t.Parallel()
	s := openTest(t, quiet(Options{JournalSize: MinJournalSize}))
	mustWriteSync(t, s, Put("orders", "first", nil, nil))
	old := crashCopy(t, s)
	value := make([]byte, 100<<10)
	for i := range 20 { // > 1 MiB: wraps
		mustWriteSync(t, s, Put("orders", strconv.Itoa(i), value, nil))
	}
	if start := journalStart(t, s); start <= 2 {
		t.Fatalf("journal start LSN %d: the journal did not wrap", start)
	}
	newer := crashCopy(t, s)
	b, err := os.ReadFile(filepath.Join(newer, DefaultFileName+JournalSuffix))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, DefaultFileName+JournalSuffix), b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(old, Options{JournalSize: MinJournalSize})
	if !errors.Is(err, ErrJournal) || !strings.Contains(err.Error(), "older than its journal") {
		t.Errorf("Open of a data file older than its journal: got error %v, want ErrJournal \"older than its journal\"", err)
	}
}

// The journal wraps when the next frame does not fit: everything is
// applied to bbolt first, the new cycle's frames overwrite the old ones,
// and recovery after a crash sees the newest value of every record, never
// a stale frame of the previous cycle.
func TestJournalWrap(t *testing.T) {
	t.Parallel()
	s := openTest(t, quiet(Options{JournalSize: MinJournalSize}))
	const n = 600 // 4 KiB frames: about 2.3 cycles of a 1 MiB journal
	for i := 1; i <= n; i++ {
		mustWriteSync(t, s, Put("orders", "k", []byte(strconv.Itoa(i)), map[string]string{"v": strconv.Itoa(i)}), Put("orders", fmt.Sprint("r", i%50), []byte(strconv.Itoa(i)), nil))
	}
	st := s.Stats()
	if st.Commits != n || st.Checkpoints < 2 {
		t.Errorf("Stats after %d writes: got %+v, want %d commits and at least 2 checkpoints (wraps)", n, st, n)
	}
	if start := journalStart(t, s); start <= 2 {
		t.Fatalf("journal start LSN %d: the journal did not wrap", start)
	}
	dir := crashCopy(t, s)
	s2, err := Open(dir, quiet(Options{JournalSize: MinJournalSize}))
	if err != nil {
		t.Fatalf("Open after crash: got error %v, want nil", err)
	}
	defer s2.Close()
	want := Record{Kind: "orders", ID: "k", Revision: n, Value: []byte(strconv.Itoa(n)), Index: map[string]string{"v": strconv.Itoa(n)}}
	if diff := cmp.Diff(want, mustGet(t, s2, "orders", "k")); diff != "" {
		t.Errorf("record after wraps and a crash mismatch (-want +got):\n%s", diff)
	}
	for i := range 50 {
		last := n - (n-i)%50
		rec := mustGet(t, s2, "orders", fmt.Sprint("r", i))
		if string(rec.Value) != strconv.Itoa(last) || rec.Revision != uint64(n/50) {
			t.Errorf("r%d: got %q rev %d, want %d rev %d", i, rec.Value, rec.Revision, last, n/50)
		}
	}
	if recs, err := s2.Lookup("orders", "v", strconv.Itoa(n)); err != nil || len(recs) != 1 {
		t.Errorf("Lookup(v=%d): got %v, %v, want k", n, recIDs(recs), err)
	}
	if err := s2.Check(); err != nil {
		t.Errorf("Check: got error %v, want nil", err)
	}
}

// A batch larger than the whole journal is committed directly to bbolt,
// after everything journaled before it.
func TestJournalOversizedBatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, quiet(Options{JournalSize: MinJournalSize}))
	if err != nil {
		t.Fatal(err)
	}
	mustWriteSync(t, s, Put("orders", "big", []byte("old"), nil))
	big := make([]byte, 2*MinJournalSize)
	mustWriteSync(t, s, Put("orders", "big", big, map[string]string{"n": "1"}))
	if !bboltHas(t, s, "orders", "big") {
		t.Error("oversized write: want it in the data file at once")
	}
	if rec := mustGet(t, s, "orders", "big"); rec.Revision != 2 || len(rec.Value) != len(big) {
		t.Errorf("oversized write: got revision %d, %d bytes, want 2, %d", rec.Revision, len(rec.Value), len(big))
	}
	mustWriteSync(t, s, Put("orders", "after", nil, nil))
	if st := s.Stats(); st.Commits != 3 {
		t.Errorf("Stats.Commits: got %d, want 3", st.Commits)
	}
	crash := crashCopy(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(crash, Options{JournalSize: MinJournalSize})
	if err != nil {
		t.Fatalf("Open after crash: %v", err)
	}
	defer s2.Close()
	if rec := mustGet(t, s2, "orders", "big"); rec.Revision != 2 || len(rec.Value) != len(big) {
		t.Errorf("after crash: got revision %d, %d bytes, want 2, %d", rec.Revision, len(rec.Value), len(big))
	}
	mustGet(t, s2, "orders", "after")
	if err := s2.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// A journal fsync error and a checkpoint error both fail the Store for
// good (durability unknown); reads that need a flush report it; the
// acknowledged writes come back at the next Open.
func TestJournalFailures(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("disk on fire")
	t.Run("sync", func(t *testing.T) {
		t.Parallel()
		fail := false
		s := openTest(t, quiet(Options{hooks: &testHooks{journalSync: func() error {
			if fail {
				return errDisk
			}
			return nil
		}}}))
		mustWriteSync(t, s, Put("orders", "acked", nil, nil))
		fail = true
		if err := s.WriteSync(testCtx(t), Put("orders", "x", nil, nil)); !errors.Is(err, ErrFailed) || !errors.Is(err, errDisk) {
			t.Errorf("WriteSync when fdatasync fails: got error %v, want ErrFailed wrapping the cause", err)
		}
		if err := s.TryWrite(ops(1, "later"), nil); !errors.Is(err, ErrFailed) {
			t.Errorf("TryWrite after failure: got error %v, want ErrFailed", err)
		}
	})
	t.Run("checkpoint", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s, err := Open(dir, quiet(Options{hooks: &testHooks{checkpointCommit: func(tx *bolt.Tx) error {
			_ = tx.Rollback()
			return errDisk
		}}}))
		if err != nil {
			t.Fatal(err)
		}
		mustWriteSync(t, s, Put("orders", "acked", []byte("v"), map[string]string{"p": "1"}))
		if _, err := s.Lookup("orders", "p", "1"); !errors.Is(err, ErrFailed) || !errors.Is(err, errDisk) {
			t.Errorf("Lookup when its flush fails: got error %v, want ErrFailed wrapping the cause", err)
		}
		if err := s.WriteSync(testCtx(t), Put("orders", "x", nil, nil)); !errors.Is(err, ErrFailed) {
			t.Errorf("WriteSync after a failed checkpoint: got error %v, want ErrFailed", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s2, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer s2.Close()
		if recs, err := s2.Lookup("orders", "p", "1"); err != nil || len(recs) != 1 {
			t.Errorf("Lookup after reopen: got %v, %v, want the acknowledged write", recIDs(recs), err)
		}
		if _, err := s2.Get("orders", "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get of a write refused after the failure: got error %v, want ErrNotFound", err)
		}
	})
}

// The checkpointer runs on its own at CheckpointInterval.
func TestJournalBackgroundCheckpoint(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{CheckpointInterval: time.Millisecond})
	mustWriteSync(t, s, Put("orders", "o1", nil, nil))
	// Poll (no reads that would flush): a checkpoint is counted after its
	// transaction committed.
	deadline := time.Now().Add(testTimeout)
	for s.Stats().Checkpoints == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no background checkpoint ran")
		}
		time.Sleep(time.Millisecond)
	}
	if !bboltHas(t, s, "orders", "o1") {
		t.Error("data file after a background checkpoint: got no o1, want it applied")
	}
}

func TestFrameRoundTrip(t *testing.T) {
	t.Parallel()
	recs := []*jrec{
		{kind: "orders", id: "a", rev: 3, value: []byte("x"), index: map[string]string{"p": "1", "q": "2"}},
		{kind: "orders", id: "b", del: true},
		{kind: "k.2", id: strings.Repeat("z", MaxIDLen), rev: 1, value: make([]byte, 300)},
	}
	b := appendFrame(nil, 7, recs)
	if len(b)%journalBlock != 0 {
		t.Errorf("frame length %d: want a multiple of %d", len(b), journalBlock)
	}
	if lsn := binary.BigEndian.Uint64(b); lsn != 7 {
		t.Errorf("frame LSN: got %d, want 7", lsn)
	}
	n := binary.BigEndian.Uint32(b[8:])
	got, err := decodePayload(b[frameHeaderLen : frameHeaderLen+int(n)])
	if err != nil {
		t.Fatalf("decodePayload: %v", err)
	}
	if diff := cmp.Diff(recs, got, cmp.AllowUnexported(jrec{}), cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) })); diff != "" {
		t.Errorf("records mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range [][]byte{{5}, {1, 9}, {1, recPut, 1, 'o', 1, 'i', 3, 1, 2}} {
		if _, err := decodePayload(bad); err == nil {
			t.Errorf("decodePayload(%x): got nil error, want one", bad)
		}
	}
}

func recIDs(recs []Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// A checkpoint and a replay apply at most MaxBatchOps records per bbolt
// transaction; a crash between two of a checkpoint's transactions leaves
// the data file partly ahead of its applied LSN, and the replay, which
// writes final records, converges to the acknowledged state.
func TestJournalChunkedCheckpointAndReplay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	commits := 0
	errDisk := errors.New("disk on fire")
	s, err := Open(dir, quiet(Options{MaxBatchOps: 2, hooks: &testHooks{checkpointCommit: func(tx *bolt.Tx) error {
		commits++
		if commits == 3 {
			_ = tx.Rollback()
			return errDisk
		}
		return tx.Commit()
	}}}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Record{}
	for i := range 5 {
		a, b := fmt.Sprint("a", i), fmt.Sprint("b", i)
		mustWriteSync(t, s, Put("orders", a, []byte(a), map[string]string{"n": "1"}), Put("orders", b, []byte(b), nil))
		want[a] = Record{Kind: "orders", ID: a, Revision: 1, Value: []byte(a), Index: map[string]string{"n": "1"}}
		want[b] = Record{Kind: "orders", ID: b, Revision: 1, Value: []byte(b)}
	}
	mustWriteSync(t, s, Put("orders", "a0", []byte("x"), nil), Delete("orders", "b1"), Put("orders", "c", []byte("c"), nil))
	want["a0"] = Record{Kind: "orders", ID: "a0", Revision: 2, Value: []byte("x")}
	delete(want, "b1")
	want["c"] = Record{Kind: "orders", ID: "c", Revision: 1, Value: []byte("c")}
	if _, err := s.Lookup("orders", "n", "1"); !errors.Is(err, errDisk) {
		t.Fatalf("Lookup whose flush fails at the third transaction: got error %v, want the commit error", err)
	}
	if commits != 3 || !bboltHas(t, s, "orders", "a0") || appliedLSN(t, s) != 0 {
		t.Fatalf("after the failed checkpoint: got %d commits, a0 applied %v, applied LSN %d; want 3, true, 0", commits, bboltHas(t, s, "orders", "a0"), appliedLSN(t, s))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		s2, err := Open(dir, quiet(Options{MaxBatchOps: 2}))
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		if got := appliedLSN(t, s2); got != 6 {
			t.Errorf("round %d: applied LSN: got %d, want 6", round, got)
		}
		var got []Record
		if err := s2.Scan("orders", func(r Record) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		gotMap := map[string]Record{}
		for _, r := range got {
			gotMap[r.ID] = r
		}
		if diff := cmp.Diff(want, gotMap); diff != "" {
			t.Errorf("round %d: records mismatch (-want +got):\n%s", round, diff)
		}
		if recs, _ := s2.Lookup("orders", "n", "1"); len(recs) != 4 {
			t.Errorf("round %d: Lookup(n=1): got %v, want a1..a4", round, recIDs(recs))
		}
		if err := s2.Check(); err != nil {
			t.Errorf("round %d: Check: %v", round, err)
		}
		if err := s2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// Once a write is called back, its caller may reuse the Value and Index it
// submitted (the server engine recycles its record buffers): neither the
// overlay nor a later checkpoint may read them again.
func TestCallerMayReuseOpMemoryAfterDone(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			s := openTest(t, quiet(with(m.opts, Options{})))
			value := []byte("original")
			index := map[string]string{"p": "k1"}
			mustWriteSync(t, s, Put("orders", "o1", value, index))
			copy(value, "CLOBBER!")
			index["p"], index["q"] = "k2", "k3"
			want := Record{Kind: "orders", ID: "o1", Revision: 1, Value: []byte("original"), Index: map[string]string{"p": "k1"}}
			if diff := cmp.Diff(want, mustGet(t, s, "orders", "o1")); diff != "" {
				t.Errorf("Get after the caller reused its buffers mismatch (-want +got):\n%s", diff)
			}
			recs, err := s.Lookup("orders", "p", "k1") // checkpoints in journal mode
			if err != nil || len(recs) != 1 {
				t.Fatalf("Lookup(p=k1): got %v, %v, want o1", recIDs(recs), err)
			}
			if diff := cmp.Diff(want, recs[0]); diff != "" {
				t.Errorf("record after the checkpoint mismatch (-want +got):\n%s", diff)
			}
			if err := s.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

// A journal whose frames end before the data file's applied LSN (frames
// lost to damage) never makes the next cycle reuse an applied LSN: a
// frame with one would be skipped by the next recovery.
func TestOpenNeverReusesAppliedLSN(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, quiet(Options{JournalSize: MinJournalSize}))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		mustWriteSync(t, s, Put("orders", fmt.Sprint(i), nil, nil))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The journal now holds only frames 1 and 2; the data file applied 5.
	writeJournalFile(t, filepath.Join(dir, DefaultFileName+JournalSuffix), 1, [][]byte{frame(1, "0"), frame(2, "1")})
	s2, err := Open(dir, quiet(Options{JournalSize: MinJournalSize}))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got := s2.jnl.next; got != 6 {
		t.Errorf("next LSN: got %d, want 6", got)
	}
	mustWriteSync(t, s2, Put("orders", "after", nil, nil))
	crash := crashCopy(t, s2)
	_ = s2.Close()
	s3, err := Open(crash, quiet(Options{JournalSize: MinJournalSize}))
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	mustGet(t, s3, "orders", "after")
}
