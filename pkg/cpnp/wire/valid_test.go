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

package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// validJSONCases are inputs at the edges of RFC 8259's grammar, each with
// json.Valid's verdict.
var validJSONCases = []struct {
	in   string
	want bool
}{
	{``, false},
	{` `, false},
	{`{}`, true},
	{` {} `, true},
	{"\t\r\n{}\n", true},
	{`[]`, true},
	{`[ ]`, true},
	{`{ }`, true},
	{`{`, false},
	{`}`, false},
	{`[`, false},
	{`[}`, false},
	{`{]`, false},
	{`{}}`, false},
	{`{} {}`, false},
	{`{"a":1}`, true},
	{`{"a" : 1 , "b" : [ 1 , 2 ] }`, true},
	{`{"a":1,}`, false},
	{`{,"a":1}`, false},
	{`{"a"1}`, false},
	{`{"a":}`, false},
	{`{a:1}`, false},
	{`{1:1}`, false},
	{`{"a":1 "b":2}`, false},
	{`[1,]`, false},
	{`[,1]`, false},
	{`[1 2]`, false},
	{`[1,,2]`, false},
	{`[[[]]]`, true},
	{`[[[]]`, false},
	{`[{"a":[{"b":{}}]}]`, true},
	{`"x"`, true},
	{`""`, true},
	{`"`, false},
	{`"abc`, false},
	{`"a\"b"`, true},
	{`"a\\"`, true},
	{`"a\\\"`, false},
	{`"\/\b\f\n\r\t"`, true},
	{`"\x"`, false},
	{`"\'"`, false},
	{`"\u00e9"`, true},
	{`"\u00E9\uD83D\uDE00"`, true},
	{`"\u00g9"`, false},
	{`"\u00e"`, false},
	{`"\u00`, false},
	{`"\`, false},
	{"\"a\tb\"", false},
	{"\"a\x00b\"", false},
	{"\"a\x1fb\"", false},
	{"\"a\x7fb\"", true},
	{"\"\xff\xfe\"", true}, // json.Valid does not check UTF-8
	{"\x00{}", false},
	{"{}\x00", false},
	{`0`, true},
	{`-0`, true},
	{`-`, false},
	{`01`, false},
	{`-01`, false},
	{`1.`, false},
	{`.1`, false},
	{`1.5`, true},
	{`1.5e10`, true},
	{`1E+10`, true},
	{`1e-10`, true},
	{`1e`, false},
	{`1e+`, false},
	{`1.e5`, false},
	{`+1`, false},
	{`1x`, false},
	{`[1x]`, false},
	{`123456789012345678901234567890`, true},
	{`true`, true},
	{`false`, true},
	{`null`, true},
	{`tru`, false},
	{`truex`, false},
	{`nul`, false},
	{`[true,false,null]`, true},
	{`[True]`, false},
	{`{"a":nulll}`, false},
	{strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), true},
	{strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), false},
	{strings.Repeat(`{"a":`, maxJSONDepth) + "1" + strings.Repeat("}", maxJSONDepth), true},
	{strings.Repeat(`{"a":`, maxJSONDepth) + "{}" + strings.Repeat("}", maxJSONDepth), false},
	{strings.Repeat("[", 100) + strings.Repeat("]", 99), false},
}

// TestValidJSON: validJSON accepts what json.Valid accepts, and nothing
// else (RFC 8259 §2-§7, encoding/json's nesting limit of 10000).
// Reference: RFC 8921 §10 (a message that is not JSON is invalid); DESIGN §3.
func TestValidJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range validJSONCases {
		name := tt.in
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if ref := json.Valid([]byte(tt.in)); ref != tt.want {
				t.Fatalf("json.Valid: got %v, want %v (the case is wrong)", ref, tt.want)
			}
			if got := validJSON([]byte(tt.in)); got != tt.want {
				t.Errorf("validJSON: got %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzValidJSON: validJSON and json.Valid agree on every input.
// Reference: RFC 8921 §10; STYLE §4 (Fuzz).
func FuzzValidJSON(f *testing.F) {
	for _, tt := range validJSONCases {
		if len(tt.in) < 1000 {
			f.Add([]byte(tt.in))
		}
	}
	for _, s := range corpusSeeds(f) {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Fatalf("validJSON(%q): got %v, want json.Valid's %v", data, got, want)
		}
	})
}

// BenchmarkValidJSON compares validJSON with json.Valid on an OFFER of
// about 1.2 KB, which Decode checks first (issue #3).
func BenchmarkValidJSON(b *testing.B) {
	data := mustEncode(b, Example(MethodOffer))
	for name, valid := range map[string]func([]byte) bool{"validJSON": validJSON, "json.Valid": json.Valid} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if !valid(data) {
					b.Fatal("got false, want true")
				}
			}
		})
	}
}
