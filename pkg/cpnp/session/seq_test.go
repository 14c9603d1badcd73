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
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
)

// Reference: RFC 8921 §8.4 (the first number is drawn by the shell) and
// §11.3 ("insert the value of the outgoing sequence number into the message
// and increase the outgoing sequence number maintained locally by 1").
func TestCountersNext(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		first uint32
		calls int
		want  []uint32
		out   uint32
	}{
		"from zero":  {first: 0, calls: 3, want: []uint32{0, 1, 2}, out: 3},
		"from drawn": {first: 0x1234_5678, calls: 2, want: []uint32{0x1234_5678, 0x1234_5679}, out: 0x1234_567a},
		"no call":    {first: 7, calls: 0, want: nil, out: 7},
		// Wrap: §11.3 does not define it. The counter wraps to 0 after
		// 2^32-1 (uint32 arithmetic); the peer then classifies 0 as Stale, so
		// NewCounters documents that the first number is drawn below 2^31,
		// leaving 2^31 messages before a wrap could happen.
		"wraps at 2^32": {first: math.MaxUint32 - 1, calls: 3, want: []uint32{math.MaxUint32 - 1, math.MaxUint32, 0}, out: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := session.NewCounters(tc.first)
			if c.InSet {
				t.Fatalf("NewCounters(%d).InSet = true, want false", tc.first)
			}
			var got []uint32
			for range tc.calls {
				got = append(got, c.Next())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Next() sequence mismatch (-want +got):\n%s", diff)
			}
			if c.Out != tc.out {
				t.Errorf("Out after %d calls = %d, want %d", tc.calls, c.Out, tc.out)
			}
		})
	}
}

// Reference: RFC 8921 §11.3 ("check whether the sequence number in the
// message is larger than the incoming sequence number maintained locally. If
// not, the message will be discarded") and §11.4 (a retransmission carries
// the same number: Repeat).
func TestCountersCheck(t *testing.T) {
	t.Parallel()
	accepted := func(in uint32) session.Counters { return session.Counters{In: in, InSet: true} }
	tests := map[string]struct {
		c    session.Counters
		seq  uint32
		want session.Verdict
	}{
		"first message, zero":      {c: session.Counters{}, seq: 0, want: session.Fresh},
		"first message, any":       {c: session.Counters{}, seq: 42, want: session.Fresh},
		"first message, max":       {c: session.Counters{}, seq: math.MaxUint32, want: session.Fresh},
		"next":                     {c: accepted(5), seq: 6, want: session.Fresh},
		"gap":                      {c: accepted(5), seq: 1000, want: session.Fresh},
		"max":                      {c: accepted(5), seq: math.MaxUint32, want: session.Fresh},
		"retransmission":           {c: accepted(5), seq: 5, want: session.Repeat},
		"accepted zero, repeat":    {c: accepted(0), seq: 0, want: session.Repeat},
		"older":                    {c: accepted(5), seq: 4, want: session.Stale},
		"zero after five":          {c: accepted(5), seq: 0, want: session.Stale},
		"wrapped to zero is stale": {c: accepted(math.MaxUint32), seq: 0, want: session.Stale},
		"out counter is ignored":   {c: session.Counters{Out: 100, In: 5, InSet: true}, seq: 50, want: session.Fresh},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			before := tc.c
			if got := tc.c.Check(tc.seq); got != tc.want {
				t.Errorf("%+v.Check(%d) = %v, want %v", tc.c, tc.seq, got, tc.want)
			}
			if diff := cmp.Diff(before, tc.c); diff != "" {
				t.Errorf("Check changed the counters (-before +after):\n%s", diff)
			}
		})
	}
}

// Reference: RFC 8921 §11.3 ("the value of the incoming sequence number
// maintained locally will be replaced by the value of the sequence number in
// the message"): only larger numbers pass the check, so Accept never lowers it.
func TestCountersAccept(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		start   session.Counters
		accepts []uint32
		want    session.Counters
	}{
		"none":                 {accepts: nil, want: session.Counters{}},
		"zero sets InSet":      {accepts: []uint32{0}, want: session.Counters{In: 0, InSet: true}},
		"increasing":           {accepts: []uint32{3, 4, 9}, want: session.Counters{In: 9, InSet: true}},
		"lower is ignored":     {accepts: []uint32{9, 3}, want: session.Counters{In: 9, InSet: true}},
		"repeat is harmless":   {accepts: []uint32{9, 9}, want: session.Counters{In: 9, InSet: true}},
		"zero after max":       {accepts: []uint32{math.MaxUint32, 0}, want: session.Counters{In: math.MaxUint32, InSet: true}},
		"mixed keeps the max":  {accepts: []uint32{5, 1, 7, 2, 7, 6}, want: session.Counters{In: 7, InSet: true}},
		"out is not disturbed": {start: session.Counters{Out: 40}, accepts: []uint32{1}, want: session.Counters{Out: 40, In: 1, InSet: true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := tc.start
			for _, s := range tc.accepts {
				c.Accept(s)
			}
			if diff := cmp.Diff(tc.want, c); diff != "" {
				t.Errorf("counters after Accept(%v) mismatch (-want +got):\n%s", tc.accepts, diff)
			}
		})
	}
}

// TestCountersExchange walks one transaction from both sides: every message a
// side sends is Fresh for the other, a retransmission is a Repeat, and an
// older message replayed after a newer one is Stale.
// Reference: RFC 8921 §11.3, §11.4 ("retransmission will not cause any change
// of sequence numbers").
func TestCountersExchange(t *testing.T) {
	t.Parallel()
	client := session.NewCounters(1000)
	var server session.Counters

	quotation := client.Next()
	if got := server.Check(quotation); got != session.Fresh {
		t.Fatalf("server.Check(QUOTATION %d) = %v, want Fresh", quotation, got)
	}
	server.Accept(quotation)
	// The QUOTATION is retransmitted with the same number.
	if got := server.Check(quotation); got != session.Repeat {
		t.Errorf("server.Check(retransmitted QUOTATION %d) = %v, want Repeat", quotation, got)
	}
	accept := client.Next()
	if got := server.Check(accept); got != session.Fresh {
		t.Fatalf("server.Check(ACCEPT %d) = %v, want Fresh", accept, got)
	}
	server.Accept(accept)
	// A replayed QUOTATION is now older than the last accepted number.
	if got := server.Check(quotation); got != session.Stale {
		t.Errorf("server.Check(replayed QUOTATION %d) = %v, want Stale", quotation, got)
	}
	if diff := cmp.Diff(session.Counters{Out: 1002}, client); diff != "" {
		t.Errorf("client counters mismatch (-want +got):\n%s", diff)
	}
}

// Counters is persisted in resource status and bbolt (§8.11): it survives a
// JSON round trip, including the difference between "nothing accepted" and
// "accepted 0".
func TestCountersJSON(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		c    session.Counters
		json string
	}{
		"fresh":      {c: session.NewCounters(7), json: `{"out":7,"in":0}`},
		"accepted 0": {c: session.Counters{Out: 7, InSet: true}, json: `{"out":7,"in":0,"inSet":true}`},
		"both":       {c: session.Counters{Out: 8, In: 3, InSet: true}, json: `{"out":8,"in":3,"inSet":true}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tc.c)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(b) != tc.json {
				t.Errorf("Marshal = %s, want %s", b, tc.json)
			}
			var got session.Counters
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if diff := cmp.Diff(tc.c, got); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerdictString(t *testing.T) {
	t.Parallel()
	tests := map[session.Verdict]string{
		session.Fresh:      "Fresh",
		session.Repeat:     "Repeat",
		session.Stale:      "Stale",
		session.Verdict(9): "Verdict(?)",
	}
	for v, want := range tests {
		if got := v.String(); got != want {
			t.Errorf("Verdict(%d).String() = %q, want %q", int(v), got, want)
		}
	}
}
