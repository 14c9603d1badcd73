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
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Reference: RFC 8921 §8.7 (a loose request, then a concrete offer); DESIGN §3
// (a message that fits one 1200-byte datagram).
func TestSample(t *testing.T) {
	t.Parallel()
	req, off := Sample(), SampleConcrete()
	for name, c := range map[string]CPD{"Sample": req, "SampleConcrete": off} {
		if err := c.Validate(true); err != nil {
			t.Errorf("%s().Validate(true): got %v, want nil", name, err)
		}
		b, err := c.MarshalJSON()
		if err != nil {
			t.Fatalf("%s().MarshalJSON: got error %v, want nil", name, err)
		}
		if n := len(b); n < 600 || n > 900 {
			t.Errorf("%s() encodes to %d bytes, want 600..900", name, n)
		}
		if len(c.Components) != 2 {
			t.Errorf("%s(): got %d components, want 2", name, len(c.Components))
		}
	}
	if req.Concrete() {
		t.Errorf("Sample().Concrete(): got true, want false (a request with loosely defined values)")
	}
	if !off.Concrete() {
		t.Errorf("SampleConcrete().Concrete(): got false, want true; loose: %v", off.Loose())
	}
	if ms := Satisfies(off, req); ms != nil {
		t.Errorf("Satisfies(SampleConcrete(), Sample()): got %v, want nil", ms)
	}
	// Each call returns a fresh value.
	a := Sample()
	a.Components[0].CustomerNodes[0].Identifier = "changed"
	a.Components[0].QoS.Class = "changed"
	if diff := cmp.Diff(req, Sample()); diff != "" {
		t.Errorf("Sample() shares memory between calls (-first +second):\n%s", diff)
	}
}

// Reference: RFC 8921 §9.2.6 (ACK and CANCEL may carry the Empty CPD; the
// others may not).
func TestValidateRequireComponents(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      CPD
		require bool
		want    *where
	}{
		"empty allowed":      {in: Empty(), require: false},
		"zero allowed":       {in: CPD{}, require: false},
		"empty refused":      {in: Empty(), require: true, want: &where{"components", KindMissing}},
		"zero refused":       {in: CPD{}, require: true, want: &where{"components", KindMissing}},
		"non-empty required": {in: Sample(), require: true},
		"invalid component": {
			in: CPD{Components: []Component{{}}}, require: false, want: &where{"components[0].customer_nodes", KindMissing},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tt.in.Validate(tt.require)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate(%v): got %v, want nil", tt.require, err)
				}
				return
			}
			e := errorOf(t, err)
			if diff := cmp.Diff(*tt.want, where{e.Path, e.Kind}); diff != "" {
				t.Errorf("Validate(%v): error %q (-want +got):\n%s", tt.require, err, diff)
			}
		})
	}
	if !Empty().IsEmpty() || !(CPD{}).IsEmpty() || Sample().IsEmpty() {
		t.Errorf("IsEmpty: got wrong answers for Empty(), CPD{}, Sample()")
	}
}
