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
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAlignedBuffer(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 100, directAlign - 1, directAlign, 3*directAlign + 7} {
		b := alignedBuffer(n)
		if len(b) != n || cap(b) != n {
			t.Errorf("alignedBuffer(%d): got len %d cap %d, want %d", n, len(b), cap(b), n)
		}
		if !aligned(b) {
			t.Errorf("alignedBuffer(%d): got a buffer off a %d-byte boundary", n, directAlign)
		}
	}
	if aligned(alignedBuffer(directAlign + 1)[1:]) {
		t.Error("aligned: got true for a buffer one byte past a boundary")
	}
	if aligned(nil) {
		t.Error("aligned(nil): got true, want false")
	}
}

// directDir returns a directory whose file system accepts O_DIRECT, or
// skips the test (tmpfs and some others refuse it; the page-cache path is
// what every other test of this package then covers).
func directDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, make([]byte, directAlign), 0o600); err != nil {
		t.Fatal(err)
	}
	f := openDirect(probe)
	if f == nil {
		t.Skipf("the file system of %s refuses O_DIRECT: only the page-cache path can run here", dir)
	}
	_ = f.Close()
	return dir
}

// Where the file system allows it, the committer writes frames with
// direct I/O, and what it wrote is what a later Open replays (DESIGN §4,
// RFC 8921 §8.11: acknowledged writes survive a crash).
func TestJournalDirectWrites(t *testing.T) {
	t.Parallel()
	dir := directDir(t)
	s, err := Open(dir, quiet(Options{JournalSize: MinJournalSize}))
	if err != nil {
		t.Fatal(err)
	}
	if s.jnl.direct == nil {
		t.Fatal("journal on a file system that allows O_DIRECT: got no direct writer, want one")
	}
	// Frames of several sizes, the larger ones grown past the reused
	// buffer's capacity (moved to aligned memory by writeFrame).
	want := map[string]string{}
	for i, n := range []int{10, 5000, 20000, 10} {
		id := string(rune('a' + i))
		v := string(make([]byte, n)) + id
		want[id] = v
		mustWriteSync(t, s, Put("orders", id, []byte(v), nil))
	}
	if s.jnl.direct == nil {
		t.Fatal("after the writes: got the direct writer dropped, want it kept")
	}
	crashed := crashCopy(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(crashed, quiet(Options{JournalSize: MinJournalSize}))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got := map[string]string{}
	for id := range want {
		got[id] = string(mustGet(t, s2, "orders", id).Value)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records replayed from directly written frames (-want +got):\n%s", diff)
	}
}

// A direct write the kernel refuses with EINVAL writes nothing: the frame
// goes through the page cache instead and the direct writer is dropped.
func TestJournalDirectWriteFallsBack(t *testing.T) {
	t.Parallel()
	dir := directDir(t)
	path := filepath.Join(dir, "j")
	if err := os.WriteFile(path, make([]byte, 4*directAlign), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	j := &journal{f: f, path: path, size: 4 * directAlign}
	j.openWriter()
	defer j.close()
	// A length that is not a multiple of the logical block size is refused
	// by O_DIRECT on every Linux file system.
	j.buf, j.off = []byte("not a whole block"), directAlign
	if err := j.writeFrame(); err != nil {
		t.Fatalf("writeFrame: got error %v, want the page-cache fallback", err)
	}
	if j.direct != nil {
		t.Error("after EINVAL: got the direct writer kept, want it dropped")
	}
	got := make([]byte, len(j.buf))
	if _, err := f.ReadAt(got, directAlign); err != nil {
		t.Fatal(err)
	}
	if string(got) != "not a whole block" {
		t.Errorf("frame after the fallback: got %q, want %q", got, "not a whole block")
	}
}
