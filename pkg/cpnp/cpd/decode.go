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
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
)

const (
	// MaxSize is the largest CPD text Parse accepts, in bytes. It matches the
	// largest CPNP message (DESIGN §3: 1 MiB), which callers already enforce.
	MaxSize = 1 << 20
	// MaxDepth bounds the nesting of objects and arrays, unknown members
	// included. The model itself nests 6 deep; the rest leaves room for
	// extensions (unknown members are ignored, DESIGN §3).
	MaxDepth = 64
	// maxSafeInteger is the largest integer a float64 holds exactly (2^53).
	maxSafeInteger = 1 << 53
)

// Parse decodes one CPD from JSON and validates it (DESIGN §3; RFC 8921
// §9.1.9.1; RFC 7297 §3-4).
//
// Unknown members are ignored (forward compatibility, RFC 8921 §1). Known
// members must have the right JSON type (null is never accepted: omit the
// member instead), known members may not repeat, every value must lie in its
// domain, and the rules of Validate hold. The Empty CPD {"components":[]} is
// accepted; a message that needs a non-empty CPD checks IsEmpty or calls
// Validate(true). Input larger than MaxSize or nested deeper than MaxDepth is
// refused; Parse never panics.
//
// Errors are *Error. Parse(data) of canonical data returns a CPD whose
// MarshalJSON is byte-identical to data.
func Parse(data []byte) (CPD, error) {
	if len(data) > MaxSize {
		return CPD{}, errorf("", KindRange, "document is "+strconv.Itoa(len(data))+" bytes, more than the "+strconv.Itoa(MaxSize)+" allowed")
	}
	d := newDecoder(data)
	var c CPD
	if err := decodeObject(d, "", cpdFields, &c); err != nil {
		return CPD{}, err
	}
	if err := d.end(); err != nil {
		return CPD{}, err
	}
	if c.Components == nil {
		return CPD{}, errorf("components", KindMissing, "member is required (use [] for the Empty CPD, RFC 8921 §9.2.6)")
	}
	if err := c.Validate(false); err != nil {
		return CPD{}, err
	}
	return c, nil
}

// UnmarshalJSON decodes with Parse, so that a CPD embedded in a larger JSON
// document gets the same strict treatment. As encoding/json's convention
// asks, a JSON null leaves c unchanged (Parse itself refuses null).
func (c *CPD) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	v, err := Parse(data)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// isNull reports whether data is the JSON literal null (encoding/json trims
// the whitespace around a value before calling UnmarshalJSON).
func isNull(data []byte) bool { return string(bytes.TrimSpace(data)) == "null" }

// decoder walks the token stream of encoding/json's Decoder, which checks the
// syntax and unescapes strings; the decoder adds paths, types and the depth
// bound. Every method returns *Error.
type decoder struct {
	dec   *json.Decoder
	depth int
}

func newDecoder(data []byte) *decoder {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return &decoder{dec: dec}
}

// next returns the next token, tracking the nesting depth.
func (d *decoder) next(path string) (json.Token, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, syntaxError(path, err)
	}
	if delim, ok := tok.(json.Delim); ok {
		switch delim {
		case '{', '[':
			d.depth++
			if d.depth > MaxDepth {
				return nil, errorf(path, KindSyntax, "nesting deeper than "+strconv.Itoa(MaxDepth)+" levels")
			}
		default:
			d.depth--
		}
	}
	return tok, nil
}

// end checks that nothing but whitespace follows the top-level value.
func (d *decoder) end() error {
	tok, err := d.dec.Token()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return syntaxError("", err)
	}
	return errorf("", KindSyntax, "unexpected "+tokenKind(tok)+" after the JSON value")
}

func syntaxError(path string, err error) *Error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return errorf(path, KindSyntax, "invalid JSON at offset "+strconv.FormatInt(se.Offset, 10)+": "+se.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(path, KindSyntax, "unexpected end of input")
	default:
		return errorf(path, KindSyntax, "invalid JSON: "+err.Error())
	}
}

// tokenKind names the JSON type of a token that starts a value.
func tokenKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	default:
		return "token"
	}
}

func typeError(path, want string, tok json.Token) *Error {
	return errorf(path, KindType, "must be "+want+", got "+tokenKind(tok))
}

// skip consumes one value (an unknown member's).
func (d *decoder) skip(path string) error {
	depth := 0
	for {
		tok, err := d.next(path)
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// field decodes the value of one known member into *T.
type field[T any] func(d *decoder, path string, dst *T) error

// fields maps the known member names of one object to their decoders.
type fields[T any] map[string]field[T]

// decodeObject decodes an object with the known members fs, skipping unknown
// ones and refusing a repeated known one.
func decodeObject[T any](d *decoder, path string, fs fields[T], dst *T) error {
	tok, err := d.next(path)
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return typeError(path, "an object", tok)
	}
	return decodeMembers(d, path, fs, dst)
}

// decodeMembers decodes the members of an object whose '{' has been read,
// and its '}'.
func decodeMembers[T any](d *decoder, path string, fs fields[T], dst *T) error {
	var seen []string // known members only: at most len(fs)
	for d.dec.More() {
		tok, err := d.next(path)
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok { // unreachable: the json scanner only yields string keys
			return errorf(path, KindSyntax, "member name is not a string")
		}
		p := join(path, name)
		f, known := fs[name]
		if !known {
			if err := d.skip(p); err != nil {
				return err
			}
			continue
		}
		if slices.Contains(seen, name) {
			return errorf(p, KindSyntax, "duplicate member")
		}
		seen = append(seen, name)
		if err := f(d, p, dst); err != nil {
			return err
		}
	}
	_, err := d.next(path) // '}'
	return err
}

// array decodes an array, calling elem for each element.
func (d *decoder) array(path string, elem func(i int, path string) error) error {
	tok, err := d.next(path)
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return typeError(path, "an array", tok)
	}
	for i := 0; d.dec.More(); i++ {
		if err := elem(i, index(path, i)); err != nil {
			return err
		}
	}
	_, err = d.next(path) // ']'
	return err
}

func (d *decoder) str(path string) (string, error) {
	tok, err := d.next(path)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", typeError(path, "a string", tok)
	}
	return s, nil
}

// strings decodes an array of strings; [] yields nil (absent). Validate
// refuses empty elements.
func (d *decoder) strings(path string) ([]string, error) {
	var out []string
	err := d.array(path, func(_ int, p string) error {
		s, err := d.str(p)
		if err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

func (d *decoder) boolean(path string) (bool, error) {
	tok, err := d.next(path)
	if err != nil {
		return false, err
	}
	b, ok := tok.(bool)
	if !ok {
		return false, typeError(path, "a boolean", tok)
	}
	return b, nil
}

func (d *decoder) number(path string) (float64, error) {
	tok, err := d.next(path)
	if err != nil {
		return 0, err
	}
	n, ok := tok.(json.Number)
	if !ok {
		return 0, typeError(path, "a number", tok)
	}
	return parseNumber(path, n)
}

// parseNumber converts a JSON number, dropping the sign of -0.
func parseNumber(path string, n json.Number) (float64, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil { // only ErrRange: the scanner has checked the syntax
		return 0, errorf(path, KindRange, "number "+string(n)+" is out of range")
	}
	if f == 0 {
		f = 0 // -0 becomes 0
	}
	return f, nil
}

// integer decodes a number that must be integral; the caller checks the domain.
func (d *decoder) integer(path string) (*int, error) {
	f, err := d.number(path)
	if err != nil {
		return nil, err
	}
	if f != math.Trunc(f) {
		return nil, errorf(path, KindType, "must be an integer, got "+formatNumber(f))
	}
	if math.Abs(f) > maxSafeInteger {
		return nil, errorf(path, KindRange, "integer "+formatNumber(f)+" is out of range")
	}
	i := int(f)
	return &i, nil
}

// value decodes a Value: a number (fixed) or {"min","max"} with at least one
// bound. The member's domain is checked by Validate.
func (d *decoder) value(path string) (Value, error) {
	tok, err := d.next(path)
	if err != nil {
		return Value{}, err
	}
	switch t := tok.(type) {
	case json.Number:
		f, err := parseNumber(path, t)
		if err != nil {
			return Value{}, err
		}
		return Fixed(f), nil
	case json.Delim:
		if t != '{' {
			break
		}
		var v Value
		if err := decodeMembers(d, path, rangeFields, &v); err != nil {
			return Value{}, err
		}
		if v.IsZero() {
			return Value{}, errorf(path, KindMissing, `a loosely defined value needs "min", "max" or both`)
		}
		return v, nil
	}
	return Value{}, typeError(path, `a number or {"min","max"}`, tok)
}

var rangeFields = fields[Value]{
	"min": func(d *decoder, p string, v *Value) (err error) {
		v.min, err = d.number(p)
		v.hasMin = err == nil
		return err
	},
	"max": func(d *decoder, p string, v *Value) (err error) {
		v.max, err = d.number(p)
		v.hasMax = err == nil
		return err
	},
}
