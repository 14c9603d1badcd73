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
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// step is one fragment fed to the reassembler, at fixedNow+at, and what
// must come out.
type step struct {
	f        fragment
	at       time.Duration
	wantMsg  string     // the completed message, if any
	wantDup  bool       // errDuplicateFragment
	wantDrop DropReason // when dropped
	dropped  bool
}

func frag(id string, index, count, length int, data string) fragment {
	return fragment{ID: id, Index: index, Count: count, Length: length, Data: []byte(data)}
}

const (
	idA = "aaaaaaaaaaaaaaaa"
	idB = "bbbbbbbbbbbbbbbb"
	idC = "cccccccccccccccc"
	idD = "dddddddddddddddd"
	idE = "eeeeeeeeeeeeeeee"
)

// Reference: docs/wire.md "Fragmentation", receiver bounds; DESIGN §3
// ("reassembled with bounds (size, count per peer, timeout) so that a peer
// cannot exhaust memory").
func TestReassembler(t *testing.T) {
	t.Parallel()
	limits := ReassemblyLimits{MaxPartials: 2, MaxMessageSize: 100, MaxFragments: 4, Timeout: 10 * time.Second}
	tests := map[string][]step{
		"in order": {
			{f: frag(idA, 0, 3, 9, "abc")},
			{f: frag(idA, 1, 3, 9, "def")},
			{f: frag(idA, 2, 3, 9, "ghi"), wantMsg: "abcdefghi"},
		},
		"out of order, uneven sizes": {
			{f: frag(idA, 2, 3, 6, "f")},
			{f: frag(idA, 0, 3, 6, "abc")},
			{f: frag(idA, 1, 3, 6, "de"), wantMsg: "abcdef"},
		},
		"duplicate fragment ignored": {
			{f: frag(idA, 0, 2, 4, "ab")},
			{f: frag(idA, 0, 2, 4, "ab"), wantDup: true},
			{f: frag(idA, 0, 2, 4, "zz"), wantDup: true},
			{f: frag(idA, 1, 2, 4, "cd"), wantMsg: "abcd"},
		},
		"late duplicate after completion ignored": {
			{f: frag(idA, 0, 2, 4, "ab")},
			{f: frag(idA, 1, 2, 4, "cd"), wantMsg: "abcd"},
			{f: frag(idA, 1, 2, 4, "cd"), wantDup: true},
		},
		"interleaved messages": {
			{f: frag(idA, 0, 2, 4, "ab")},
			{f: frag(idB, 1, 2, 4, "CD")},
			{f: frag(idB, 0, 2, 4, "AB"), wantMsg: "ABCD"},
			{f: frag(idA, 1, 2, 4, "cd"), wantMsg: "abcd"},
		},
		"oversize length": {
			{f: frag(idA, 0, 2, 101, "ab"), dropped: true, wantDrop: DropOversize},
			{f: frag(idA, 1, 2, 101, "cd"), dropped: true, wantDrop: DropDiscarded},
		},
		"more data than length": {
			{f: frag(idA, 0, 2, 4, "abc")},
			{f: frag(idA, 1, 2, 4, "de"), dropped: true, wantDrop: DropOversize},
		},
		"too many fragments": {
			{f: frag(idA, 0, 5, 10, "ab"), dropped: true, wantDrop: DropTooManyFragments},
		},
		"too many fragments discards the partial": {
			{f: frag(idA, 0, 2, 4, "ab")},
			{f: frag(idA, 1, 5, 4, "cd"), dropped: true, wantDrop: DropTooManyFragments},
			{f: frag(idA, 1, 2, 4, "cd"), dropped: true, wantDrop: DropDiscarded},
		},
		"inconsistent count": {
			{f: frag(idA, 0, 3, 9, "abc")},
			{f: frag(idA, 1, 2, 9, "def"), dropped: true, wantDrop: DropInconsistent},
			{f: frag(idA, 2, 3, 9, "ghi"), dropped: true, wantDrop: DropDiscarded},
		},
		"inconsistent length": {
			{f: frag(idA, 0, 2, 4, "ab")},
			{f: frag(idA, 1, 2, 5, "cd"), dropped: true, wantDrop: DropInconsistent},
		},
		"length mismatch at completion": {
			{f: frag(idA, 0, 2, 6, "ab")},
			{f: frag(idA, 1, 2, 6, "cd"), dropped: true, wantDrop: DropLengthMismatch},
		},
		"index out of range": {
			{f: frag(idA, 2, 2, 4, "ab"), dropped: true, wantDrop: DropInvalid},
			{f: frag(idB, -1, 2, 4, "ab"), dropped: true, wantDrop: DropInvalid},
		},
		"count below two": {
			{f: frag(idA, 0, 1, 2, "ab"), dropped: true, wantDrop: DropInvalid},
		},
		"length below count": {
			{f: frag(idA, 0, 3, 2, "a"), dropped: true, wantDrop: DropInvalid},
		},
		"empty data": {
			{f: frag(idA, 0, 2, 4, ""), dropped: true, wantDrop: DropInvalid},
		},
		"expired partial": {
			{f: frag(idA, 0, 2, 4, "ab")},
			{f: frag(idA, 1, 2, 4, "cd"), at: 10 * time.Second, dropped: true, wantDrop: DropExpired},
			{f: frag(idA, 1, 2, 4, "cd"), at: 15 * time.Second, dropped: true, wantDrop: DropExpired},
		},
		"completes just before the timeout": {
			{f: frag(idA, 0, 2, 4, "ab")},
			{f: frag(idA, 1, 2, 4, "cd"), at: 10*time.Second - time.Nanosecond, wantMsg: "abcd"},
		},
		"too many partials": {
			{f: frag(idA, 0, 2, 4, "ab")},
			{f: frag(idB, 0, 2, 4, "ab")},
			{f: frag(idC, 0, 2, 4, "ab"), dropped: true, wantDrop: DropTooManyPartials},
			{f: frag(idC, 1, 2, 4, "cd"), dropped: true, wantDrop: DropDiscarded},
			{f: frag(idA, 1, 2, 4, "cd"), wantMsg: "abcd"},
			{f: frag(idD, 0, 2, 4, "xy")},
			{f: frag(idD, 1, 2, 4, "zw"), wantMsg: "xyzw"},
		},
		"expiry frees a slot": {
			{f: frag(idA, 0, 2, 4, "ab")},
			{f: frag(idB, 0, 2, 4, "ab"), at: time.Second},
			{f: frag(idC, 0, 2, 4, "ab"), at: 10 * time.Second},
			{f: frag(idB, 1, 2, 4, "cd"), at: 10 * time.Second, wantMsg: "abcd"},
			{f: frag(idC, 1, 2, 4, "cd"), at: 10 * time.Second, wantMsg: "abcd"},
			{f: frag(idE, 0, 2, 4, "ab"), at: 10 * time.Second},
		},
		"tombstones are forgotten after the timeout": {
			{f: frag(idA, 0, 2, 200, "ab"), dropped: true, wantDrop: DropOversize},
			{f: frag(idA, 0, 2, 4, "ab"), at: 10 * time.Second},
			{f: frag(idA, 1, 2, 4, "cd"), at: 10 * time.Second, wantMsg: "abcd"},
		},
	}
	for name, steps := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newReassembler(limits)
			for i, s := range steps {
				msg, err := r.add(s.f, fixedNow.Add(s.at))
				var fe *fragmentError
				switch {
				case s.dropped:
					if !errors.As(err, &fe) || fe.Reason != s.wantDrop {
						t.Fatalf("step %d: got %q, %v, want a drop for %s", i, msg, err, s.wantDrop)
					}
				case s.wantDup:
					if !errors.Is(err, errDuplicateFragment) {
						t.Fatalf("step %d: got %q, %v, want errDuplicateFragment", i, msg, err)
					}
				case err != nil:
					t.Fatalf("step %d: got error %v, want none", i, err)
				}
				if diff := cmp.Diff(s.wantMsg, string(msg)); diff != "" {
					t.Fatalf("step %d: message (-want +got):\n%s", i, diff)
				}
				if r.pending() > limits.MaxPartials {
					t.Fatalf("step %d: %d partials, above MaxPartials %d", i, r.pending(), limits.MaxPartials)
				}
			}
		})
	}
}

// A peer sending endless first fragments of new messages cannot make the
// reassembler hold more than MaxPartials messages of MaxMessageSize data
// bytes, nor more than a fixed number of tombstones.
func TestReassemblerMemoryBound(t *testing.T) {
	t.Parallel()
	limits := ReassemblyLimits{MaxPartials: 4, MaxMessageSize: 1000, MaxFragments: 16, Timeout: 10 * time.Second}
	r := newReassembler(limits)
	for i := range 10000 {
		id := fmt.Sprintf("%016x", i)
		_, _ = r.add(frag(id, 0, 16, 1000, "0123456789012345678901234567890123456789012345678901234567890"),
			fixedNow.Add(time.Duration(i)*time.Millisecond))
		held := 0
		for _, p := range r.partials {
			held += p.received
		}
		if r.pending() > limits.MaxPartials || held > limits.MaxPartials*limits.MaxMessageSize {
			t.Fatalf("after %d messages: %d partials holding %d bytes", i+1, r.pending(), held)
		}
		if len(r.tombs) > tombsPerPartial*limits.MaxPartials {
			t.Fatalf("after %d messages: %d tombstones", i+1, len(r.tombs))
		}
	}
}

func TestReasonStrings(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for _, r := range DropReasons() {
		s := r.String()
		if s == "" || seen[s] {
			t.Errorf("DropReason %d: label %q empty or repeated", int(r), s)
		}
		seen[s] = true
	}
	for _, r := range HandshakeReasons() {
		s := r.String()
		if s == "" || seen[s] {
			t.Errorf("HandshakeReason %d: label %q empty or repeated", int(r), s)
		}
		seen[s] = true
	}
	if got := DropReason(99).String(); got != "DropReason(99)" {
		t.Errorf("DropReason(99): got %q", got)
	}
	if got := HandshakeReason(-1).String(); got != "HandshakeReason(-1)" {
		t.Errorf("HandshakeReason(-1): got %q", got)
	}
}
