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
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Reference: docs/wire.md "Fragmentation": a datagram is an envelope iff
// its object starts with the member "cpnp_fragment".
func TestIsFragment(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want bool
	}{
		"envelope":                 {`{"cpnp_fragment":{}}`, true},
		"leading whitespace":       {" \t\r\n{\"cpnp_fragment\":1}", true},
		"whitespace after brace":   {"{ \n\"cpnp_fragment\" : 1}", true},
		"bare message":             {`{"version":1,"method_code":1}`, false},
		"member not first":         {`{"data":"","cpnp_fragment":{}}`, false},
		"member name as a value":   {`{"x":"cpnp_fragment"}`, false},
		"longer member name":       {`{"cpnp_fragmentation":1}`, false},
		"empty":                    {``, false},
		"only whitespace":          {"  ", false},
		"array":                    {`["cpnp_fragment"]`, false},
		"truncated":                {`{"cpnp_frag`, false},
		"escaped name is not seen": {`{"cpnp\u005ffragment":{}}`, false},
	}
	for name, tc := range tests {
		if got := isFragment([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: isFragment(%q) = %v, want %v", name, tc.in, got, tc.want)
		}
	}
}

func TestParseFragment(t *testing.T) {
	t.Parallel()
	data := base64.StdEncoding.EncodeToString([]byte("hello, world"))
	tests := map[string]struct {
		in      string
		want    fragment
		wantErr bool
	}{
		"valid": {
			in:   `{"cpnp_fragment":{"id":"0123456789abcdef","index":1,"count":3,"length":3000},"data":"` + data + `"}`,
			want: fragment{ID: "0123456789abcdef", Index: 1, Count: 3, Length: 3000, Data: []byte("hello, world")},
		},
		"valid with whitespace and member order": {
			in:   " {\"cpnp_fragment\" : {\"length\":3000, \"count\":3,\"index\":0,\"id\":\"0123456789abcdef\"},\n\"data\":\"" + data + "\"} \n",
			want: fragment{ID: "0123456789abcdef", Index: 0, Count: 3, Length: 3000, Data: []byte("hello, world")},
		},
		"negative index parses (the reassembler refuses it)": {
			in:   `{"cpnp_fragment":{"id":"0123456789abcdef","index":-1,"count":3,"length":3000},"data":"` + data + `"}`,
			want: fragment{ID: "0123456789abcdef", Index: -1, Count: 3, Length: 3000, Data: []byte("hello, world")},
		},
		"unknown top-level member": {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"count":2,"length":9},"data":"` + data + `","x":1}`, wantErr: true},
		"unknown header member":    {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"count":2,"length":9,"x":1},"data":"` + data + `"}`, wantErr: true},
		"missing data":             {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"count":2,"length":9}}`, wantErr: true},
		"empty data":               {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"count":2,"length":9},"data":""}`, wantErr: true},
		"missing index":            {in: `{"cpnp_fragment":{"id":"0123456789abcdef","count":2,"length":9},"data":"` + data + `"}`, wantErr: true},
		"missing count":            {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"length":9},"data":"` + data + `"}`, wantErr: true},
		"missing length":           {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"count":2},"data":"` + data + `"}`, wantErr: true},
		"missing id":               {in: `{"cpnp_fragment":{"index":0,"count":2,"length":9},"data":"` + data + `"}`, wantErr: true},
		"null header":              {in: `{"cpnp_fragment":null,"data":"` + data + `"}`, wantErr: true},
		"short id":                 {in: `{"cpnp_fragment":{"id":"0123","index":0,"count":2,"length":9},"data":"` + data + `"}`, wantErr: true},
		"uppercase id":             {in: `{"cpnp_fragment":{"id":"0123456789ABCDEF","index":0,"count":2,"length":9},"data":"` + data + `"}`, wantErr: true},
		"fractional index":         {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0.5,"count":2,"length":9},"data":"` + data + `"}`, wantErr: true},
		"string count":             {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"count":"2","length":9},"data":"` + data + `"}`, wantErr: true},
		"unpadded base64":          {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"count":2,"length":9},"data":"aGk"}`, wantErr: true},
		"url-safe base64":          {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"count":2,"length":9},"data":"-_-_"}`, wantErr: true},
		"trailing garbage":         {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"count":2,"length":9},"data":"` + data + `"}{}`, wantErr: true},
		"escaped newline in data":  {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"count":2,"length":9},"data":"aGVs\nbG8="}`, wantErr: true},
		"leading zero":             {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":01,"count":2,"length":9},"data":"` + data + `"}`, wantErr: true},
		"truncated":                {in: `{"cpnp_fragment":{"id":"0123456789abcdef","index":0`, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := parseFragment([]byte(tc.in))
			if tc.wantErr {
				if err == nil || !errors.Is(err, errMalformedFragment) {
					t.Fatalf("parseFragment: got %+v, %v, want errMalformedFragment", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFragment: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseFragment (-want +got):\n%s", diff)
			}
		})
	}
}

// Envelopes written by appendEnvelope take the fast path; variants take
// the general one and parse to the same fragment.
func TestParseFragmentPaths(t *testing.T) {
	t.Parallel()
	canonical := appendEnvelope(nil, "0123456789abcdef", 3, 40, 600, jsonMessage(30000))
	if _, ok := parseCanonicalFragment(canonical); !ok {
		t.Fatalf("canonical envelope missed the fast path: %.80s", canonical)
	}
	want, err := parseFragmentJSON(canonical)
	if err != nil {
		t.Fatalf("general path: %v", err)
	}
	variants := map[string][]byte{
		"canonical":           canonical,
		"trailing whitespace": append(bytes.Clone(canonical), " \r\n"...),
		"space after colon":   bytes.Replace(canonical, []byte(`"index":`), []byte(`"index": `), 1),
		"escaped slash":       bytes.ReplaceAll(canonical, []byte(`/`), []byte(`\/`)),
	}
	for name, b := range variants {
		got, err := parseFragment(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// The exact shape of an envelope (docs/wire.md).
func TestEnvelopeShape(t *testing.T) {
	t.Parallel()
	msg := []byte(strings.Repeat("A", 10))
	got := string(appendEnvelope(nil, "00000000000000ff", 1, 2, 6, msg))
	want := `{"cpnp_fragment":{"id":"00000000000000ff","index":1,"count":2,"length":10},"data":"QUFBQQ=="}`
	if got != want {
		t.Errorf("envelope:\n got %s\nwant %s", got, want)
	}
	if n := len(`{"cpnp_fragment":{"id":"00000000000000ff","index":,"count":,"length":},"data":""}`); n != envelopeOverhead {
		t.Errorf("envelopeOverhead: got %d, want %d", envelopeOverhead, n)
	}
}

// Reference: docs/wire.md: every envelope is at most L bytes, fragments
// are cut in index order and their data concatenates to the message.
func TestSplitMessage(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{MinDatagramLimit, 700, DefaultDatagramLimit, 1500, MaxDatagramLimit} {
		for _, size := range []int{limit + 1, 2 * limit, 5 << 10, 99999, 200 << 10, MaxMessageSize} {
			if size <= limit {
				continue // sent bare, not fragmented
			}
			msg := jsonMessage(size)
			var (
				joined []byte
				n      int
			)
			err := splitMessage(msg, limit, 1<<20, "0123456789abcdef", func(env []byte) error {
				if len(env) > limit {
					t.Errorf("limit %d, size %d: envelope %d is %d bytes", limit, size, n, len(env))
				}
				f, err := parseFragment(env)
				if err != nil {
					t.Fatalf("limit %d, size %d: envelope %d: %v", limit, size, n, err)
				}
				if f.Index != n || f.Length != size || f.ID != "0123456789abcdef" {
					t.Fatalf("limit %d, size %d: envelope %d: got index %d length %d id %s",
						limit, size, n, f.Index, f.Length, f.ID)
				}
				joined = append(joined, f.Data...)
				n++
				return nil
			})
			if err != nil {
				t.Fatalf("limit %d, size %d: %v", limit, size, err)
			}
			_, count := fragmentPlan(size, limit)
			if n != count || n < 2 {
				t.Errorf("limit %d, size %d: %d envelopes, plan says %d", limit, size, n, count)
			}
			if !bytes.Equal(joined, msg) {
				t.Errorf("limit %d, size %d: joined data differs from the message", limit, size)
			}
		}
	}
}

// The arithmetic behind DefaultMaxFragments: 1 MiB at the default limit.
func TestFragmentPlanDefaults(t *testing.T) {
	t.Parallel()
	chunk, count := fragmentPlan(MaxMessageSize, DefaultDatagramLimit)
	if chunk != 822 || count != 1276 {
		t.Errorf("fragmentPlan(1 MiB, 1200): got chunk %d count %d, want 822 and 1276", chunk, count)
	}
	if count > DefaultMaxFragments {
		t.Errorf("1 MiB at the default limit needs %d fragments, above DefaultMaxFragments %d", count, DefaultMaxFragments)
	}
	if _, count := fragmentPlan(MaxMessageSize, MaxDatagramLimit); count > DefaultMaxFragments {
		t.Errorf("1 MiB at 8000 bytes needs %d fragments", count)
	}
	if err := splitMessage(jsonMessage(5000), 1200, 3, "0123456789abcdef", func([]byte) error { return nil }); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("split beyond maxFragments: got %v, want ErrMessageTooLarge", err)
	}
	if err := splitMessage(jsonMessage(5000), 100, 100, "0123456789abcdef", func([]byte) error { return nil }); err == nil {
		t.Error("split with a limit below the envelope overhead: got nil error")
	}
	stop := errors.New("stop")
	if err := splitMessage(jsonMessage(5000), 1200, 100, "0123456789abcdef", func([]byte) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("split with a failing emit: got %v, want the emit error", err)
	}
}

func TestNewFragmentID(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 100 {
		id := newFragmentID()
		if !validFragmentID(id) {
			t.Fatalf("newFragmentID: %q is not 16 lowercase hex digits", id)
		}
		if seen[id] {
			t.Fatalf("newFragmentID: %q repeated", id)
		}
		seen[id] = true
	}
}

// FuzzParseFragment: parsing never panics, and what parses is a valid
// envelope that re-encodes to one that parses to the same fragment.
func FuzzParseFragment(f *testing.F) {
	f.Add([]byte(`{"cpnp_fragment":{"id":"0123456789abcdef","index":1,"count":3,"length":3000},"data":"aGVsbG8="}`))
	f.Add([]byte(`{"cpnp_fragment":{"id":"0123456789abcdef","index":-1,"count":0,"length":-5},"data":"AA=="}`))
	f.Add([]byte(`{"cpnp_fragment":null}`))
	f.Add([]byte(`{"cpnp_fragment":{"id":"0123456789abcdef","index":01,"count":3,"length":3000},"data":"aGVsbG8="}`))
	f.Add([]byte(`{"cpnp_fragment":{"id":"0123456789abcdef","index":1,"count":3,"length":3000},"data":"aGVs\/bG8="}` + " \n"))
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseFragment(b)
		// The fast path agrees with the general one wherever it applies.
		if fast, ok := parseCanonicalFragment(b); ok {
			general, gerr := parseFragmentJSON(b)
			if gerr != nil {
				t.Fatalf("fast path accepted what the general path refuses (%v): %q", gerr, b)
			}
			if diff := cmp.Diff(general, fast); diff != "" {
				t.Fatalf("fast and general paths differ (-general +fast):\n%s", diff)
			}
		}
		if err != nil {
			return
		}
		if !validFragmentID(fr.ID) || len(fr.Data) == 0 {
			t.Fatalf("parsed an invalid fragment: %+v", fr)
		}
		r := newReassembler(ReassemblyLimits{})
		_, _ = r.add(fr, fixedNow)
	})
}
