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

package cpd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Strings are decoded as encoding/json decodes them, which is what Parse
// always did: escapes resolved, each byte of invalid UTF-8 and each lone or
// mismatched UTF-16 surrogate escape replaced by U+FFFD, valid text kept as
// it is. RFC 8259 §8.1 requires UTF-8 and §8.2 leaves unpaired surrogates
// undefined; the replacement keeps every decoded string valid UTF-8, so the
// canonical encoding round-trips (RFC 8921 §9.2.6).
// Reference: RFC 8259 §7, §8; DESIGN §3 ("One CPNP message is one JSON object, UTF-8").
func TestParseStringDecoding(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		raw  string // the JSON text between the quotes
		want string
	}{
		"ASCII":                        {raw: `ce-par-1`, want: "ce-par-1"},
		"valid UTF-8 kept":             {raw: "é€😀", want: "é€😀"},
		"U+FFFD and U+2028 kept":       {raw: "\uFFFD\u2028", want: "\uFFFD\u2028"},
		"simple escapes":               {raw: `\"\\\/\b\f\n\r\t`, want: "\"\\/\b\f\n\r\t"},
		"unicode escapes":              {raw: `ce\u002d1\u00e9\u20AC`, want: "ce-1é€"},
		"escaped NUL":                  {raw: `a\u0000b`, want: "a\x00b"},
		"surrogate pair":               {raw: `\ud83d\ude00`, want: "😀"},
		"lone high surrogate":          {raw: `\ud800`, want: "\uFFFD"},
		"lone low surrogate":           {raw: `x\udc00y`, want: "x\uFFFDy"},
		"reversed pair":                {raw: `\udc00\ud800`, want: "\uFFFD\uFFFD"},
		"high then non-surrogate":      {raw: `\ud83d\u0041`, want: "\uFFFDA"},
		"high then plain text":         {raw: `\ud83dx`, want: "\uFFFDx"},
		"invalid byte":                 {raw: "a\xffb", want: "a\uFFFDb"},
		"truncated sequence":           {raw: "\xe2\x82", want: "\uFFFD\uFFFD"},
		"encoded surrogate":            {raw: "\xed\xa0\x80", want: "\uFFFD\uFFFD\uFFFD"},
		"overlong encoding":            {raw: "\xc0\xaf", want: "\uFFFD\uFFFD"},
		"above U+10FFFF":               {raw: "\xf4\x90\x80\x80", want: "\uFFFD\uFFFD\uFFFD\uFFFD"},
		"invalid byte after an escape": {raw: `\n` + "\xff", want: "\n\uFFFD"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := `{"components":[{"customer_nodes":[{"identifier":"` + tt.raw + `"}]}]}`
			c, err := Parse([]byte(in))
			if err != nil {
				t.Fatalf("Parse(%q): got error %v, want nil", in, err)
			}
			if got := c.Components[0].CustomerNodes[0].Identifier; got != tt.want {
				t.Errorf("identifier: got %q, want %q", got, tt.want)
			}
			// The same as encoding/json, the decoder Parse was first built on.
			var std string
			if err := json.Unmarshal([]byte(`"`+tt.raw+`"`), &std); err != nil {
				t.Fatalf("json.Unmarshal: got error %v, want nil", err)
			}
			if std != tt.want {
				t.Errorf("encoding/json: got %q, want %q", std, tt.want)
			}
		})
	}
}

// Member names are unescaped before they are matched, and an unknown name
// appears decoded (invalid UTF-8 replaced) in the path of an error inside
// its value. Reference: RFC 8259 §4 (names are strings); DESIGN §3.
func TestParseMemberNames(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want where
	}{
		"escaped known name matches": {in: `{"comp\u006fnents":[],"components":[]}`, want: where{"components", KindSyntax}},
		"escaped clause name":        {in: wrap(`,"q\u006fs":{}`), want: where{"components[0].qos", KindMissing}},
		"invalid UTF-8 in a name":    {in: "{\"components\":[],\"a\xff\":[}", want: where{"a\uFFFD", KindSyntax}},
		"lone surrogate in a name":   {in: `{"components":[],"a\ud800":[}`, want: where{"a\uFFFD", KindSyntax}},
		"escapes in an unknown name": {in: `{"components":[],"x\"\u00e9":{"y":[1,]}}`, want: where{`x"é`, KindSyntax}},
		"empty name":                 {in: `{"":{"":[}}`, want: where{"", KindSyntax}},
		"name that differs in case":  {in: `{"Components":[]}`, want: where{"components", KindMissing}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.in))
			e := errorOf(t, err)
			if diff := cmp.Diff(tt.want, where{e.Path, e.Kind}); diff != "" {
				t.Errorf("Parse(%q): error %q (-want +got):\n%s", tt.in, err, diff)
			}
		})
	}
}

// Syntax errors read as encoding/json's did, with its offsets: the input
// offset for misplaced punctuation, the count of scalar bytes scanned so far
// for an error inside a scalar. Reference: RFC 8259 §2-§7; DESIGN §3.
func TestParseSyntaxErrorDetail(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want Error
	}{
		"misplaced bracket": {
			in:   `{"components":[}`,
			want: Error{Path: "components", Kind: KindSyntax, Detail: "invalid JSON at offset 15: invalid character '}' looking for beginning of value"},
		},
		"missing colon": {
			in:   `{"components" []}`,
			want: Error{Path: "components", Kind: KindSyntax, Detail: "invalid JSON at offset 14: invalid character '[' after object key"},
		},
		"missing comma": {
			in:   `{"components":[] "x":1}`,
			want: Error{Kind: KindSyntax, Detail: "invalid JSON at offset 17: invalid character '\"' after object key:value pair"},
		},
		"bad escape counts scalar bytes only": {
			// "components" (12 bytes) then "a\q: the q is scalar byte 12+4.
			in:   `{"components":["a\q"]}`,
			want: Error{Path: "components[0]", Kind: KindSyntax, Detail: "invalid JSON at offset 16: invalid character 'q' in string escape code"},
		},
		"control character": {
			in:   "{\"x\":\"\x01\"}",
			want: Error{Path: "x", Kind: KindSyntax, Detail: `invalid JSON at offset 5: invalid character '\x01' in string literal`},
		},
		"bad literal": {
			in:   `{"x":nul}`,
			want: Error{Path: "x", Kind: KindSyntax, Detail: "invalid JSON at offset 7: invalid character '}' in literal null (expecting 'l')"},
		},
		"bad number": {
			in:   `{"x":1.e5}`,
			want: Error{Path: "x", Kind: KindSyntax, Detail: "invalid JSON at offset 6: invalid character 'e' after decimal point in numeric literal"},
		},
		"non-ASCII byte": {
			in:   "{\"x\":\xff}",
			want: Error{Path: "x", Kind: KindSyntax, Detail: "invalid JSON at offset 4: invalid character 'ÿ' looking for beginning of value"},
		},
		"truncated": {
			in:   `{"x":"abc`,
			want: Error{Path: "x", Kind: KindSyntax, Detail: "unexpected end of input"},
		},
		"depth": {
			in:   `{"x":` + strings.Repeat("[", MaxDepth),
			want: Error{Path: "x", Kind: KindSyntax, Detail: "nesting deeper than 64 levels"},
		},
		"data after the CPD": {
			in:   `{"components":[]} 1`,
			want: Error{Kind: KindSyntax, Detail: "unexpected number after the JSON value"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.in))
			if diff := cmp.Diff(tt.want, *errorOf(t, err)); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// The decoded CPD owns its memory: it shares nothing with the input, which
// a transport reuses for the next datagram, whether the strings come from
// the shared copy of a small input or are copied one by one from a large
// one. Reference: DESIGN §3 (messages up to 1 MiB).
func TestParseDoesNotAliasInput(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"small input": string(full().Canonical()),
		"large input": `{"pad":"` + strings.Repeat("p", 2*maxSharedText) + `",` + string(full().Canonical())[1:],
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := []byte(in)
			c, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: got error %v, want nil", err)
			}
			for i := range data {
				data[i] = 'X'
			}
			if diff := cmp.Diff(full(), c); diff != "" {
				t.Errorf("CPD changed with its input (-want +got):\n%s", diff)
			}
		})
	}
}

// The lists of a decoded CPD may share a backing array (decoder slabs), but
// each has its length as capacity, so appending to one never changes
// another, and the optional integers are distinct variables.
// Reference: RFC 8921 §9.2.6 (a copy of a CPD must compare equal).
func TestParseListsAreIndependent(t *testing.T) {
	t.Parallel()
	in := full()
	in.Components = append(in.Components, Sample().Components...)
	c, err := Parse(in.Canonical())
	if err != nil {
		t.Fatalf("Parse: got error %v, want nil", err)
	}
	comp := &c.Components[0]
	for name, s := range map[string][]string{
		"ingress": comp.Scope.Ingress, "egress": comp.Scope.Egress, "activation_means": comp.ActivationMeans,
		"notifications.means": comp.Notifications.Means,
	} {
		if len(s) != cap(s) {
			t.Errorf("%s: got capacity %d, want its length %d", name, cap(s), len(s))
		}
	}
	// Each list is followed by the next one in its slab.
	_ = append(comp.Scope.Ingress, "x")
	_ = append(comp.ActivationMeans, "x")
	_ = append(comp.CustomerNodes, CustomerNode{Identifier: "x"})
	_ = append(comp.FlowIdentification, FlowIdentifier{DSCP: ip(1)})
	*comp.FlowIdentification[0].SourcePort = 99
	want := full()
	want.Components = append(want.Components, Sample().Components...)
	want.Components[0].FlowIdentification[0].SourcePort = ip(99)
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("changing one list changed another (-want +got):\n%s", diff)
	}
}

// Lists longer than the decoder's in-place buffer keep every element in
// order. Reference: RFC 7297 §3.1 (any number of customer nodes).
func TestParseLongLists(t *testing.T) {
	t.Parallel()
	var want CPD
	var b strings.Builder
	b.WriteString(`{"components":[`)
	for i := range 7 {
		comp := Component{ActivationMeans: []string{}}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"customer_nodes":[`)
		for j := range 6 {
			id := string(rune('a'+i)) + string(rune('0'+j))
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"identifier":"` + id + `"}`)
			comp.CustomerNodes = append(comp.CustomerNodes, CustomerNode{Identifier: id})
		}
		b.WriteString(`],"flow_identification":[`)
		for j := range 5 {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"dscp":` + string(rune('0'+j)) + `}`)
			comp.FlowIdentification = append(comp.FlowIdentification, FlowIdentifier{DSCP: ip(j)})
		}
		b.WriteString(`],"activation_means":[`)
		for j := range 20 {
			if j > 0 {
				b.WriteString(",")
			}
			s := strings.Repeat("m", j+1)
			b.WriteString(`"` + s + `"`)
			comp.ActivationMeans = append(comp.ActivationMeans, s)
		}
		b.WriteString(`]}`)
		want.Components = append(want.Components, comp)
	}
	b.WriteString(`]}`)
	got, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatalf("Parse: got error %v, want nil", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

// The token state machine accepts exactly the punctuation of RFC 8259 §2.
// Reference: RFC 8259 §2, §4, §5.
func TestScannerTokens(t *testing.T) {
	t.Parallel()
	in := ` {"a" : [ 1 , -2.5e+3 , "s\"" , true , false , null , { } , [ ] ] } `
	want := []tokKind{
		tokObjectStart, tokString, tokArrayStart, tokNumber, tokNumber, tokString, tokTrue, tokFalse, tokNull,
		tokObjectStart, tokObjectEnd, tokArrayStart, tokArrayEnd, tokArrayEnd, tokObjectEnd,
	}
	s := scanner{data: []byte(in)}
	var got []tokKind
	for range want {
		tok, err := s.next()
		if err != nil {
			t.Fatalf("next after %v: got error %v, want nil", got, err)
		}
		got = append(got, tok.kind)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}
	if _, err := s.next(); err == nil || err.Detail != "unexpected end of input" {
		t.Errorf("next at the end: got %v, want unexpected end of input", err)
	}
}
