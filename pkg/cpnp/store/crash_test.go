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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
)

// The crash test runs this test binary again as a child process that writes
// with group commit until it is killed; these variables select that role.
const (
	crashEnvDir   = "CPNP_STORE_CRASH_DIR"
	crashEnvRound = "CPNP_STORE_CRASH_ROUND"
	crashEnvMode  = "CPNP_STORE_CRASH_MODE"
	crashWriters  = 4
	// crashChildLimit ends an orphaned child.
	crashChildLimit = 2 * time.Minute
)

// crashID names record i of writer w in a round.
func crashID(round, w, i int) string { return fmt.Sprintf("r%d-w%d-%07d", round, w, i) }

// crashValue is the deterministic content of a record, of varying size so
// that some records span overflow pages.
func crashValue(id string, i int) []byte {
	b, _ := json.Marshal(map[string]string{"id": id, "pad": strings.Repeat("x", (i*131)%5000)})
	return b
}

// crashOps is the submission writer w makes for its record i: the record
// with two index keys and the writer's cursor in one atomic submission;
// every seventh record is deleted again three records later.
func crashOps(round, w, i int) []store.Op {
	id := crashID(round, w, i)
	ops := []store.Op{
		store.Put("orders", id, crashValue(id, i), map[string]string{"provider": "p-" + id, "writer": fmt.Sprintf("r%d-w%d", round, w)}),
		store.Put("cursor", fmt.Sprintf("r%d-w%d", round, w), []byte(strconv.Itoa(i)), nil),
	}
	if i%7 == 3 {
		ops = append(ops, store.Delete("orders", crashID(round, w, i-3)))
	}
	return ops
}

// TestCrashChild is the child role of TestCrashSafety; run alone it skips.
// It prints "ACK <id>" from each done callback, that is only after the
// record is durable.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("child process of TestCrashSafety")
	}
	round, err := strconv.Atoi(os.Getenv(crashEnvRound))
	if err != nil {
		fmt.Printf("ERR round: %v\n", err)
		os.Exit(2)
	}
	opts := crashOptions(os.Getenv(crashEnvMode))
	opts.QueueSize = 256
	if opts.CheckpointInterval != 0 {
		// Vary the checkpoint rhythm so that kills land in every phase.
		opts.CheckpointInterval = time.Duration(1+round%5) * time.Millisecond
	}
	s, err := store.Open(dir, opts)
	if err != nil {
		fmt.Printf("ERR open: %v\n", err)
		os.Exit(2)
	}
	var out sync.Mutex
	deadline := time.Now().Add(crashChildLimit)
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				id := crashID(round, w, i)
				err := s.Write(context.Background(), crashOps(round, w, i), func(err error) {
					out.Lock()
					defer out.Unlock()
					if err != nil {
						fmt.Printf("ERR %s: %v\n", id, err)
						return
					}
					fmt.Printf("ACK %s\n", id)
				})
				if err != nil {
					fmt.Printf("ERR submit %s: %v\n", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}

// Reference: RFC 8921 §8.11 (permanent storage so that state survives a
// reboot) and DESIGN §4 (after a kill -9 the server keeps its orders): a
// child process writes with group commit and is SIGKILLed mid-stream; every
// write it acknowledged is present and intact, the file is consistent, and
// no write is durable unless every earlier write of the same writer is.
//
// In journal mode (a 1 MiB journal, so that it wraps every few hundred
// commits, and checkpoints every few milliseconds) the kills land at
// random points, during commits, checkpoints and wraps; every acknowledged
// write must still be there after the journal replay, with its revision
// and index entries, and only whole submissions.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	tests := map[string][]int{
		"nojournal": {200, 1000, 3000},
		"journal":   {200, 700 + rng.IntN(500), 1500 + rng.IntN(1500), 3000 + rng.IntN(2000), 10 + rng.IntN(100)},
	}
	for mode, kills := range tests {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			acked := map[int][]string{}
			for round, killAfter := range kills {
				acked[round] = runAndKill(t, dir, mode, round, killAfter)
				if t.Failed() {
					return
				}
				verifyCrash(t, dir, crashOptions(mode), acked)
			}
		})
	}
}

// crashOptions are the Options of a crash test mode.
func crashOptions(mode string) store.Options {
	if mode == "journal" {
		return store.Options{JournalSize: store.MinJournalSize, CheckpointInterval: time.Millisecond}
	}
	return store.Options{NoJournal: true}
}

// runAndKill runs the child for round, SIGKILLs it once it has printed
// killAfter acknowledgements, and returns every acknowledged ID it printed.
func runAndKill(t *testing.T, dir, mode string, round, killAfter int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvDir+"="+dir, crashEnvRound+"="+strconv.Itoa(round), crashEnvMode+"="+mode)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	watchdog := time.AfterFunc(testTimeout, func() { _ = cmd.Process.Kill() })
	defer watchdog.Stop()

	var ids []string
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "ACK "):
			ids = append(ids, strings.TrimPrefix(line, "ACK "))
		case strings.HasPrefix(line, "ERR "):
			t.Errorf("child round %d: %s", round, line)
		}
		if !killed && len(ids) >= killAfter {
			// Lines already in the pipe are still read below: each was
			// printed after its write was acknowledged.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("kill child: %v", err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child round %d ended before %d acknowledgements (got %d): %v\nstderr:\n%s", round, killAfter, len(ids), err, stderr.String())
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Success() {
		t.Fatalf("child round %d: got exit %v, want killed by SIGKILL", round, err)
	}
	t.Logf("round %d: killed the child after %d acknowledgements (%d read in all)", round, killAfter, len(ids))
	return ids
}

// verifyCrash reopens the store after a kill and checks every round so far.
func verifyCrash(t *testing.T, dir string, opts store.Options, acked map[int][]string) {
	t.Helper()
	opts.CheckpointInterval = 0
	s, err := store.Open(dir, opts)
	if err != nil {
		t.Fatalf("reopen after kill: got error %v, want nil", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if err := s.Check(); err != nil {
		t.Fatalf("Check after kill: got error %v, want nil", err)
	}
	wantTotal := 0
	for round, ids := range acked {
		// Every acknowledged record is durable, or was deleted by a later
		// write of its writer (i%7 == 0, deleted with record i+3).
		cursor := map[int]int{}
		for w := range crashWriters {
			rec, err := s.Get("cursor", fmt.Sprintf("r%d-w%d", round, w))
			if errors.Is(err, store.ErrNotFound) {
				cursor[w] = -1
				continue
			}
			if err != nil {
				t.Fatalf("round %d writer %d cursor: %v", round, w, err)
			}
			if cursor[w], err = strconv.Atoi(string(rec.Value)); err != nil {
				t.Fatalf("round %d writer %d cursor %q: %v", round, w, rec.Value, err)
			}
			// The cursor is put once by every submission of its writer.
			if want := uint64(cursor[w] + 1); rec.Revision != want {
				t.Errorf("round %d writer %d cursor %d: got revision %d, want %d", round, w, cursor[w], rec.Revision, want)
			}
		}
		lost := 0
		for _, id := range ids {
			var r, w, i int
			if _, err := fmt.Sscanf(id, "r%d-w%d-%d", &r, &w, &i); err != nil || r != round {
				t.Fatalf("acknowledged ID %q: unparsable (%v)", id, err)
			}
			if i > cursor[w] {
				if lost == 0 {
					t.Errorf("round %d: %s acknowledged but writer %d's durable cursor is %d", round, id, w, cursor[w])
				}
				lost++
			}
		}
		if lost > 0 {
			t.Fatalf("round %d: %d of %d acknowledged writes lost", round, lost, len(ids))
		}
		// Ordering: the durable writes of each writer are exactly its
		// writes 0..cursor (minus the deleted ones): nothing later is
		// durable, nothing earlier is missing.
		for w := range crashWriters {
			c := cursor[w]
			for i := 0; i <= c+1 && !t.Failed(); i++ {
				id := crashID(round, w, i)
				wantPresent := i <= c && (i%7 != 0 || i+3 > c)
				rec, err := s.Get("orders", id)
				if !wantPresent {
					if !errors.Is(err, store.ErrNotFound) {
						t.Errorf("round %d: %s (cursor %d): got error %v, want ErrNotFound", round, id, c, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("round %d: %s (cursor %d): got error %v, want the record", round, id, c, err)
					continue
				}
				if !bytes.Equal(rec.Value, crashValue(id, i)) || rec.Revision != 1 {
					t.Errorf("round %d: %s: value or revision %d differs from what was written", round, id, rec.Revision)
				}
				if one, err := s.LookupOne("orders", "provider", "p-"+id); err != nil || one.ID != id {
					t.Errorf("round %d: LookupOne(provider=p-%s): got %q, %v, want the record", round, id, one.ID, err)
				}
			}
			recs, err := s.Lookup("orders", "writer", fmt.Sprintf("r%d-w%d", round, w))
			if err != nil {
				t.Fatalf("Lookup by writer: %v", err)
			}
			want := c + 1 - deletedUpTo(c)
			if len(recs) != want {
				t.Errorf("round %d writer %d: %d records indexed, want %d (cursor %d)", round, w, len(recs), want, c)
			}
			wantTotal += want
		}
		if t.Failed() {
			return
		}
	}
	total := 0
	if err := s.Scan("orders", func(store.Record) error { total++; return nil }); err != nil {
		t.Fatalf("Scan after kill: got error %v, want nil", err)
	}
	if total != wantTotal {
		t.Errorf("records after kill: got %d, want %d", total, wantTotal)
	}
}

// deletedUpTo counts the records i <= c deleted by the time record c is
// written (i%7 == 0 and i+3 <= c).
func deletedUpTo(c int) int {
	if c < 3 {
		return 0
	}
	return (c-3)/7 + 1
}
