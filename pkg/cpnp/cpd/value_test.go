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
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// valueView is what Value's accessors report, for comparison.
type valueView struct {
	Zero, Fixed    bool
	Fixedv         float64
	Min, Max       float64
	HasMin, HasMax bool
	String         string
}

func view(v Value) valueView {
	f, _ := v.FixedValue()
	lo, hasMin := v.Min()
	hi, hasMax := v.Max()
	return valueView{Zero: v.IsZero(), Fixed: v.IsFixed(), Fixedv: f, Min: lo, Max: hi, HasMin: hasMin, HasMax: hasMax, String: v.String()}
}

// Reference: RFC 8921 §8.7 (fixed and loosely defined values); DESIGN §3 (V).
func TestValueConstructors(t *testing.T) {
	t.Parallel()
	five, ten := 5.0, 10.0
	tests := map[string]struct {
		v    Value
		want valueView
	}{
		"zero":            {Value{}, valueView{Zero: true, String: "absent"}},
		"fixed":           {Fixed(5), valueView{Fixed: true, Fixedv: 5, Min: 5, Max: 5, HasMin: true, HasMax: true, String: "5"}},
		"at least":        {AtLeast(5), valueView{Min: 5, HasMin: true, String: ">=5"}},
		"at most":         {AtMost(10), valueView{Max: 10, HasMax: true, String: "<=10"}},
		"between":         {Between(5, 10), valueView{Min: 5, Max: 10, HasMin: true, HasMax: true, String: "5..10"}},
		"between equal":   {Between(5, 5), valueView{Fixed: true, Fixedv: 5, Min: 5, Max: 5, HasMin: true, HasMax: true, String: "5"}},
		"range both":      {Range(&five, &ten), valueView{Min: 5, Max: 10, HasMin: true, HasMax: true, String: "5..10"}},
		"range min":       {Range(&five, nil), valueView{Min: 5, HasMin: true, String: ">=5"}},
		"range max":       {Range(nil, &ten), valueView{Max: 10, HasMax: true, String: "<=10"}},
		"range none":      {Range(nil, nil), valueView{Zero: true, String: "absent"}},
		"range same":      {Range(&five, &five), valueView{Fixed: true, Fixedv: 5, Min: 5, Max: 5, HasMin: true, HasMax: true, String: "5"}},
		"fixed zero":      {Fixed(0), valueView{Fixed: true, HasMin: true, HasMax: true, String: "0"}},
		"fixed NaN loose": {Fixed(math.NaN()), valueView{HasMin: true, HasMax: true, String: "NaN..NaN"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := view(tt.v)
			if math.IsNaN(got.Min) { // NaN != NaN; the case checks the flags
				got.Min, got.Max = 0, 0
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestValueEqual(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		a, b Value
		want bool
	}{
		"zero":                {Value{}, Value{}, true},
		"fixed same":          {Fixed(1), Fixed(1), true},
		"fixed differ":        {Fixed(1), Fixed(2), false},
		"fixed vs between":    {Fixed(1), Between(1, 1), true},
		"min vs fixed":        {AtLeast(1), Fixed(1), false},
		"min vs max":          {AtLeast(1), AtMost(1), false},
		"between differ max":  {Between(1, 2), Between(1, 3), false},
		"zero vs fixed zero":  {Value{}, Fixed(0), false},
		"negative zero":       {Fixed(math.Copysign(0, -1)), Fixed(0), true},
		"NaN equals nothing":  {Fixed(math.NaN()), Fixed(math.NaN()), false},
		"open bounds ignored": {AtLeast(1), Range(ptr(1), nil), true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tt.a.Equal(tt.b); got != tt.want {
				t.Errorf("%v.Equal(%v): got %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func ptr(f float64) *float64 { return &f }

// Reference: RFC 8785 §3.2.2.3 (ECMAScript number serialization).
func TestFormatNumber(t *testing.T) {
	t.Parallel()
	tests := map[float64]string{
		0:                     "0",
		math.Copysign(0, -1):  "0",
		1:                     "1",
		-1:                    "-1",
		1500:                  "1500",
		1e9:                   "1000000000",
		1e20:                  "100000000000000000000",
		1e21:                  "1e+21",
		123456789012345680000: "123456789012345680000",
		0.1:                   "0.1",
		0.001:                 "0.001",
		99.95:                 "99.95",
		1e-6:                  "0.000001",
		1e-7:                  "1e-7",
		1.5e-10:               "1.5e-10",
		5e-324:                "5e-324",
		math.MaxFloat64:       "1.7976931348623157e+308",
		9007199254740993:      "9007199254740992",
		1.0000000000000002:    "1.0000000000000002",
		100000000.5:           "100000000.5",
	}
	for in, want := range tests {
		if got := formatNumber(in); got != want {
			t.Errorf("formatNumber(%v): got %q, want %q", in, got, want)
		}
	}
}

// Reference: DESIGN §3 ("V is either a number (fixed) or {"min": a, "max": b}").
func TestValueJSON(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		v    Value
		want string
	}{
		"fixed":       {Fixed(1e8), "100000000"},
		"fraction":    {Fixed(0.0005), "0.0005"},
		"min":         {AtLeast(99.9), `{"min":99.9}`},
		"max":         {AtMost(30), `{"max":30}`},
		"both":        {Between(1, 2), `{"min":1,"max":2}`},
		"equal bound": {Between(2, 2), "2"},
		"zero":        {Value{}, "{}"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := tt.v.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON: got error %v, want nil", err)
			}
			if string(b) != tt.want {
				t.Errorf("MarshalJSON: got %s, want %s", b, tt.want)
			}
			if tt.v.IsZero() {
				return
			}
			var back Value
			if err := back.UnmarshalJSON(b); err != nil {
				t.Fatalf("UnmarshalJSON(%s): got error %v, want nil", b, err)
			}
			if !back.Equal(tt.v) {
				t.Errorf("UnmarshalJSON(%s): got %v, want %v", b, back, tt.v)
			}
		})
	}
	for _, bad := range []Value{Fixed(math.NaN()), AtLeast(math.Inf(1)), AtMost(math.Inf(-1))} {
		if b, err := bad.MarshalJSON(); err == nil {
			t.Errorf("MarshalJSON(%v): got %s, want an error", bad, b)
		}
	}
}

func TestValueUnmarshalJSONErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]where{
		`"5"`:               {"", KindType},
		`{}`:                {"", KindMissing},
		`{"min":true}`:      {"min", KindType},
		`5 6`:               {"", KindSyntax},
		`{"min":1`:          {"", KindSyntax},
		`{"min":1,"min":2}`: {"min", KindSyntax},
		`1e999`:             {"", KindRange},
	}
	for in, want := range tests {
		var v Value
		err := v.UnmarshalJSON([]byte(in))
		if err == nil {
			t.Errorf("UnmarshalJSON(%s): got %v, want error %+v", in, v, want)
			continue
		}
		e := errorOf(t, err)
		if diff := cmp.Diff(want, where{e.Path, e.Kind}); diff != "" {
			t.Errorf("UnmarshalJSON(%s): error %q (-want +got):\n%s", in, err, diff)
		}
	}
}
