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
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse checks that Parse never panics, that its errors are *Error, and
// that decode -> encode -> decode is stable: what Parse accepts, MarshalJSON
// encodes, Parse accepts again as the same CPD, and the second encoding is
// byte-identical (RFC 8921 §9.2.6: the ACK's copy must compare equal).
func FuzzParse(f *testing.F) {
	for _, c := range []CPD{Empty(), Sample(), SampleConcrete(), full()} {
		f.Add(c.Canonical())
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `{"components":null}`, `{"components":[{}]}`,
		wrap(`,"qos":{"class":"gold","loss_ratio":0.1}`),
		wrap(`,"capacity":{"incoming_bps":{"min":10,"max":1}}`),
		wrap(`,"capacity":{"incoming_bps":{"min":5,"max":5,"x":[[[]]]}}`),
		wrap(`,"qos":{"loss_ratio":-0,"one_way_delay_ms":1e-7,"delay_variation_ms":1E21}`),
		wrap(`,"flow_identification":[{"dscp":46.0,"source_prefix":"::/0"}]`),
		`{"components":[{"customer_nodes":[{"identifier":"\ud800<&>\u2028"}]}]}`,
		`{"components":[],"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error %v is %T, want *cpd.Error", err, err)
			}
			if e.Kind.String() != kindNames[e.Kind] || e.Detail == "" {
				t.Fatalf("Parse error %+v: want a known Kind and a Detail", e)
			}
			return
		}
		b1, err := c.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON of a parsed CPD: got error %v, want nil (input %q)", err, data)
		}
		c2, err := Parse(b1)
		if err != nil {
			t.Fatalf("Parse(MarshalJSON(Parse(x))): got error %v, want nil (encoding %s)", err, b1)
		}
		if diff := cmp.Diff(c, c2); diff != "" {
			t.Fatalf("decode -> encode -> decode changed the CPD (-first +second):\n%s", diff)
		}
		b2, err := c2.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON again: got error %v, want nil", err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("re-encoding is not byte-identical:\n%s\n%s", b1, b2)
		}
		if !Equal(c, c2) {
			t.Fatalf("Equal(c, Parse(Marshal(c))): got false, want true")
		}
	})
}
