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
	"errors"
	"math"
	"strconv"
)

// Value is a quantitative clause value. RFC 8921 §8.7: "A CPD can include
// parameters with fixed values, loosely defined values, or any combination
// thereof." A fixed value is a JSON number; a loosely defined one is
// {"min": a, "max": b} with either bound optional (DESIGN §3).
//
// Value is a plain value (no pointers), so copies never alias. The zero Value
// has no bound and means "absent": clause members of type Value are omitted
// from JSON when zero, and Parse never produces a zero Value for a member
// that is present. A range whose bounds are equal is the fixed value; it is
// encoded as a number.
type Value struct {
	min, max       float64
	hasMin, hasMax bool
}

// Fixed returns the fixed value v.
func Fixed(v float64) Value {
	return Value{min: v, max: v, hasMin: true, hasMax: true}
}

// Range returns a loosely defined value; a nil bound is open. Range(nil, nil)
// is the zero (absent) Value, and equal bounds make a fixed value.
func Range(lo, hi *float64) Value {
	var v Value
	if lo != nil {
		v.min, v.hasMin = *lo, true
	}
	if hi != nil {
		v.max, v.hasMax = *hi, true
	}
	return v
}

// AtLeast returns {"min": lo}.
func AtLeast(lo float64) Value { return Value{min: lo, hasMin: true} }

// AtMost returns {"max": hi}.
func AtMost(hi float64) Value { return Value{max: hi, hasMax: true} }

// Between returns {"min": lo, "max": hi}; Between(x, x) is Fixed(x).
func Between(lo, hi float64) Value {
	return Value{min: lo, max: hi, hasMin: true, hasMax: true}
}

// IsZero reports whether v has no bound, i.e. the member is absent. It lets
// encoding/json's omitzero drop absent members.
func (v Value) IsZero() bool { return !v.hasMin && !v.hasMax }

// IsFixed reports whether v is a fixed value (RFC 8921 §8.7), i.e. both
// bounds are present and equal.
func (v Value) IsFixed() bool { return v.hasMin && v.hasMax && v.min == v.max }

// FixedValue returns the value of a fixed v, and false when v is loose or absent.
func (v Value) FixedValue() (float64, bool) {
	if !v.IsFixed() {
		return 0, false
	}
	return v.min, true
}

// Min returns the lower bound (the value itself when fixed), and false when
// v is unbounded below.
func (v Value) Min() (float64, bool) { return v.min, v.hasMin }

// Max returns the upper bound (the value itself when fixed), and false when
// v is unbounded above.
func (v Value) Max() (float64, bool) { return v.max, v.hasMax }

// Equal reports whether v and o have the same bounds. go-cmp uses it.
func (v Value) Equal(o Value) bool {
	return v.hasMin == o.hasMin && v.hasMax == o.hasMax &&
		(!v.hasMin || v.min == o.min) && (!v.hasMax || v.max == o.max)
}

// String renders v for people: "5", "1..10", ">=1", "<=10", or "absent".
func (v Value) String() string {
	switch {
	case v.IsFixed():
		return formatNumber(v.min)
	case v.hasMin && v.hasMax:
		return formatNumber(v.min) + ".." + formatNumber(v.max)
	case v.hasMin:
		return ">=" + formatNumber(v.min)
	case v.hasMax:
		return "<=" + formatNumber(v.max)
	default:
		return "absent"
	}
}

// errNonFinite is returned when a value cannot be represented in JSON.
var errNonFinite = errors.New("value is not a finite number")

// MarshalJSON encodes v canonically: a number when fixed, else
// {"min":a,"max":b} without the absent bound. Numbers use formatNumber. The
// zero Value encodes as {} (which Parse rejects); clause members omit it.
func (v Value) MarshalJSON() ([]byte, error) {
	return v.appendJSON(make([]byte, 0, 24))
}

func (v Value) appendJSON(b []byte) ([]byte, error) {
	if (v.hasMin && !finite(v.min)) || (v.hasMax && !finite(v.max)) {
		return nil, errNonFinite
	}
	if v.IsFixed() {
		return appendNumber(b, v.min), nil
	}
	b = append(b, '{')
	if v.hasMin {
		b = append(b, `"min":`...)
		b = appendNumber(b, v.min)
	}
	if v.hasMax {
		if v.hasMin {
			b = append(b, ',')
		}
		b = append(b, `"max":`...)
		b = appendNumber(b, v.max)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON decodes a number or {"min","max"} with the rules of Parse
// (type and presence, not the per-member domain, which depends on the member).
// As encoding/json's convention asks, a JSON null leaves v unchanged.
func (v *Value) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	d := newDecoder(data)
	val, err := d.value("")
	if err != nil {
		return err
	}
	if err := d.end(); err != nil {
		return err
	}
	*v = val
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// formatNumber returns the canonical text of f.
func formatNumber(f float64) string { return string(appendNumber(nil, f)) }

// appendNumber appends the canonical JSON text of a finite f: the shortest
// decimal that round-trips to the same float64, in plain notation when
// 1e-6 <= |f| < 1e21 (so 1000000000 and 0.001 stay as written) and in
// exponent notation otherwise (1e-7, 1e+21). This is ECMAScript's
// Number.prototype.toString, used by RFC 8785 (JCS) and by encoding/json,
// except that negative zero is written as 0.
func appendNumber(b []byte, f float64) []byte {
	if f == 0 {
		return append(b, '0') // also -0
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
