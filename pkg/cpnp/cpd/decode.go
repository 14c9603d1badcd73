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
	"math"
	"math/bits"
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
	// maxSharedText is the largest input whose strings share one copy of the
	// text (see decoder.text): a CPD keeps at most this many bytes it does
	// not use alive, whereas larger inputs, whose bulk would be unknown
	// members, copy each string on its own.
	maxSharedText = 4 << 10
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
// Strings are decoded as encoding/json decodes them: escapes are resolved,
// and invalid UTF-8 and lone UTF-16 surrogates become U+FFFD.
//
// Errors are *Error. Parse(data) of canonical data returns a CPD whose
// MarshalJSON is byte-identical to data.
func Parse(data []byte) (CPD, error) {
	if len(data) > MaxSize {
		return CPD{}, errorf("", KindRange, "document is "+strconv.Itoa(len(data))+" bytes, more than the "+strconv.Itoa(MaxSize)+" allowed")
	}
	var d decoder
	d.init(data)
	if len(data) <= maxSharedText {
		d.text = string(data)
	}
	var c CPD
	if err := d.cpd(&c); err != nil {
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

// decoder reads the model from the tokens of scanner (scan.go): it adds the
// types, the JSON path of each value and the depth bound. Every method
// returns *Error; paths are only built for an error.
type decoder struct {
	scanner
	// text is the input as a string when it is small (maxSharedText): the
	// plain strings of the result are substrings of it, so that decoding
	// them costs one allocation in all.
	text string
	// path is the JSON path of the value being read, relative to base:
	// path[:npath], innermost last. Only the schema's objects push onto it
	// (skip does not), so its length is bounded by the model, not by the
	// input: 6 at most ("components[0].scope.incoming.prefixes[0]").
	base  string
	path  [8]pathElem
	npath int
	// The slabs hand out the lists and optional integers of the result, so
	// that all the lists of one type cost one allocation together.
	strs  slab[string]
	nodes slab[CustomerNode]
	flows slab[FlowIdentifier]
	ints  slab[int]
	// scratch holds unquoted member names.
	scratch []byte
}

// pathElem is a member name (a string token) or, when name.kind is
// tokNone, an array index.
type pathElem struct {
	name  token
	index int
}

// newDecoder returns a decoder for one top-level value of data.
func newDecoder(data []byte) *decoder {
	d := new(decoder)
	d.init(data)
	return d
}

func (d *decoder) init(data []byte) { d.data = data }

func (d *decoder) pushMember(name token) { d.pushPath(pathElem{name: name}) }
func (d *decoder) pushIndex(i int)       { d.pushPath(pathElem{index: i}) }
func (d *decoder) popPath()              { d.npath-- }

func (d *decoder) pushPath(e pathElem) {
	if d.npath < len(d.path) { // always, see path
		d.path[d.npath] = e
	}
	d.npath++
}

// pathString renders the current path as Error.Path does:
// "components[0].qos.one_way_delay_ms".
func (d *decoder) pathString() string {
	p := d.base
	for _, e := range d.path[:min(d.npath, len(d.path))] {
		if e.name.kind == tokNone {
			p = index(p, e.index)
		} else {
			p = join(p, d.newString(e.name))
		}
	}
	return p
}

// errorf returns an *Error at the current path.
func (d *decoder) errorf(kind ErrorKind, detail string) *Error {
	return errorf(d.pathString(), kind, detail)
}

// next returns the next token, with the current path on an error, and
// enforces MaxDepth.
func (d *decoder) next() (token, *Error) {
	tok, err := d.scanner.next()
	if err != nil {
		err.Path = d.pathString()
		return token{}, err
	}
	if (tok.kind == tokObjectStart || tok.kind == tokArrayStart) && d.depth > MaxDepth {
		return token{}, d.errorf(KindSyntax, "nesting deeper than "+strconv.Itoa(MaxDepth)+" levels")
	}
	return tok, nil
}

// end checks that nothing but whitespace follows the top-level value.
func (d *decoder) end() *Error {
	if _, ok := d.peek(); !ok {
		return nil
	}
	tok, err := d.scanner.next()
	if err != nil {
		return err
	}
	return errorf("", KindSyntax, "unexpected "+tokenKind(tok)+" after the JSON value")
}

// tokenKind names the JSON type of a token that starts a value.
func tokenKind(tok token) string {
	switch tok.kind {
	case tokArrayStart:
		return "array"
	case tokObjectStart, tokObjectEnd, tokArrayEnd:
		return "object"
	case tokString:
		return "string"
	case tokNumber:
		return "number"
	case tokTrue, tokFalse:
		return "boolean"
	case tokNull:
		return "null"
	default:
		return "token"
	}
}

func (d *decoder) typeError(want string, tok token) *Error {
	return d.errorf(KindType, "must be "+want+", got "+tokenKind(tok))
}

// newString returns the value of a string token as a new string, or a
// substring of d.text.
func (d *decoder) newString(tok token) string {
	if !tok.plain {
		d.scratch = appendUnquoted(d.scratch[:0], d.data[tok.start:tok.end])
		return string(d.scratch)
	}
	if d.text != "" {
		return d.text[tok.start:tok.end]
	}
	return string(d.data[tok.start:tok.end])
}

// lookup returns the index of the member name tok in names, or -1.
func (d *decoder) lookup(tok token, names *memberNames) int {
	name := d.data[tok.start:tok.end]
	if !tok.plain {
		d.scratch = appendUnquoted(d.scratch[:0], name)
		name = d.scratch
	}
	if len(name) >= len(names.byLen) {
		return -1
	}
	for set := names.byLen[len(name)]; set != 0; set &= set - 1 {
		if i := bits.TrailingZeros32(set); string(name) == names.names[i] {
			return i
		}
	}
	return -1
}

// memberNames are the known member names of one object, indexed by length
// so that a lookup compares about one name.
type memberNames struct {
	names []string
	byLen [24]uint32 // bit i is set when len(names[i]) is the index
}

// newMemberNames indexes names: at most 32, each shorter than 24 bytes.
func newMemberNames(names ...string) *memberNames {
	m := &memberNames{names: names}
	for i, n := range names {
		m.byLen[len(n)] |= 1 << i
	}
	return m
}

// skip consumes one value (an unknown member's). The scanner checks its
// syntax; strings are not unquoted.
func (d *decoder) skip() *Error {
	depth := 0
	for {
		tok, err := d.next()
		if err != nil {
			return err
		}
		switch tok.kind {
		case tokObjectStart, tokArrayStart:
			depth++
		case tokObjectEnd, tokArrayEnd:
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// openObject reads the '{' that starts an object.
func (d *decoder) openObject() *Error {
	tok, err := d.next()
	if err != nil {
		return err
	}
	if tok.kind != tokObjectStart {
		return d.typeError("an object", tok)
	}
	return nil
}

// member reads the name of the next member of an object whose '{' has been
// read, skipping unknown members and refusing a repeated known one. It
// returns the index of the name in names with the member pushed onto the
// path (the caller reads its value and pops it), or -1 after reading the
// closing '}'. seen records the members read so far.
func (d *decoder) member(names *memberNames, seen *uint32) (int, *Error) {
	for d.more() {
		tok, err := d.next()
		if err != nil {
			return 0, err
		}
		if tok.kind != tokString { // unreachable: the scanner only yields string keys
			return 0, d.errorf(KindSyntax, "member name is not a string")
		}
		d.pushMember(tok)
		id := d.lookup(tok, names)
		if id < 0 {
			if err := d.skip(); err != nil {
				return 0, err
			}
			d.popPath()
			continue
		}
		if *seen&(1<<id) != 0 {
			return 0, d.errorf(KindSyntax, "duplicate member")
		}
		*seen |= 1 << id
		return id, nil
	}
	return -1, d.close('}')
}

// close reads the closing bracket of the current object or array, which
// more has found (or not: then next reports the error).
func (d *decoder) close(bracket byte) *Error {
	if c, ok := d.peek(); ok && c == bracket {
		if (c == '}' && (d.state == stateObjectStart || d.state == stateObjectComma)) ||
			(c == ']' && (d.state == stateArrayStart || d.state == stateArrayComma)) {
			d.pos++
			d.pop() // the scanner's container stack
			return nil
		}
	}
	_, err := d.next()
	return err
}

// openArray reads the '[' that starts an array.
func (d *decoder) openArray() *Error {
	tok, err := d.next()
	if err != nil {
		return err
	}
	if tok.kind != tokArrayStart {
		return d.typeError("an array", tok)
	}
	return nil
}

// element reports whether the array has an element at index i, and if so
// pushes i onto the path (the caller reads the element and pops it);
// otherwise it reads the closing ']'.
func (d *decoder) element(i int) (bool, *Error) {
	if d.more() {
		d.pushIndex(i)
		return true, nil
	}
	return false, d.close(']')
}

func (d *decoder) str() (string, *Error) {
	tok, err := d.next()
	if err != nil {
		return "", err
	}
	if tok.kind != tokString {
		return "", d.typeError("a string", tok)
	}
	return d.newString(tok), nil
}

// strings decodes an array of strings; [] yields nil (absent). Validate
// refuses empty elements.
func (d *decoder) strings() ([]string, *Error) {
	if err := d.openArray(); err != nil {
		return nil, err
	}
	var out smallSlice[string]
	for i := 0; ; i++ {
		ok, err := d.element(i)
		if err != nil {
			return nil, err
		}
		if !ok {
			return d.strs.take(out.elems(), 16), nil
		}
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		out.add(s)
		d.popPath()
	}
}

func (d *decoder) boolean() (bool, *Error) {
	tok, err := d.next()
	if err != nil {
		return false, err
	}
	switch tok.kind {
	case tokTrue:
		return true, nil
	case tokFalse:
		return false, nil
	}
	return false, d.typeError("a boolean", tok)
}

func (d *decoder) number() (float64, *Error) {
	tok, err := d.next()
	if err != nil {
		return 0, err
	}
	if tok.kind != tokNumber {
		return 0, d.typeError("a number", tok)
	}
	return d.parseNumber(tok)
}

// parseNumber converts a number token, dropping the sign of -0.
func (d *decoder) parseNumber(tok token) (float64, *Error) {
	var f float64
	var err error
	if d.text != "" {
		f, err = strconv.ParseFloat(d.text[tok.start:tok.end], 64)
	} else {
		f, err = strconv.ParseFloat(string(d.data[tok.start:tok.end]), 64)
	}
	if err != nil { // only ErrRange: the scanner has checked the syntax
		return 0, d.errorf(KindRange, "number "+string(d.data[tok.start:tok.end])+" is out of range")
	}
	if f == 0 {
		f = 0 // -0 becomes 0
	}
	return f, nil
}

// integer decodes a number that must be integral; the caller checks the domain.
func (d *decoder) integer() (*int, *Error) {
	f, err := d.number()
	if err != nil {
		return nil, err
	}
	if f != math.Trunc(f) {
		return nil, d.errorf(KindType, "must be an integer, got "+formatNumber(f))
	}
	if math.Abs(f) > maxSafeInteger {
		return nil, d.errorf(KindRange, "integer "+formatNumber(f)+" is out of range")
	}
	return &d.ints.take([]int{int(f)}, 8)[0], nil
}

var rangeNames = newMemberNames("min", "max")

// value decodes a top-level Value whose JSON path is base, for
// Value.UnmarshalJSON.
func (d *decoder) value(base string) (Value, *Error) {
	d.base = base
	return d.readValue()
}

// readValue decodes a Value: a number (fixed) or {"min","max"} with at least
// one bound. The member's domain is checked by Validate.
func (d *decoder) readValue() (Value, *Error) {
	tok, err := d.next()
	if err != nil {
		return Value{}, err
	}
	switch tok.kind {
	case tokNumber:
		f, err := d.parseNumber(tok)
		if err != nil {
			return Value{}, err
		}
		return Fixed(f), nil
	case tokObjectStart:
		var v Value
		var seen uint32
		for {
			id, err := d.member(rangeNames, &seen)
			if err != nil {
				return Value{}, err
			}
			if id < 0 {
				break
			}
			f, err := d.number()
			if err != nil {
				return Value{}, err
			}
			if id == 0 {
				v.min, v.hasMin = f, true
			} else {
				v.max, v.hasMax = f, true
			}
			d.popPath()
		}
		if v.IsZero() {
			return Value{}, d.errorf(KindMissing, `a loosely defined value needs "min", "max" or both`)
		}
		return v, nil
	}
	return Value{}, d.typeError(`a number or {"min","max"}`, tok)
}

// smallSlice collects the elements of a JSON array, the first few in place
// (the arrays of a CPD are short), so that the result can be allocated once
// with its final length.
type smallSlice[T any] struct {
	buf  [4]T
	n    int
	more []T // all elements once there are more than len(buf)
}

func (s *smallSlice[T]) add(v T) {
	if s.n < len(s.buf) {
		s.buf[s.n] = v
		s.n++
		return
	}
	if s.more == nil {
		s.more = make([]T, len(s.buf), 2*len(s.buf))
		copy(s.more, s.buf[:])
	}
	s.more = append(s.more, v)
}

// elems returns the elements collected so far; they alias s.
func (s *smallSlice[T]) elems() []T {
	if s.more != nil {
		return s.more
	}
	return s.buf[:s.n]
}

// slab hands out copies of short slices from one backing array, so that the
// lists of a CPD cost one allocation per slab rather than one each. Each
// slice it returns has its length as capacity: appending to one reallocates
// it and never writes into its neighbour.
type slab[T any] struct {
	free []T // the unused rest of the current backing array
}

// take returns a copy of elems carved from the slab, which allocates chunk
// elements (or len(elems), if more) when it is out of room. No elements
// yield nil, the absent list.
func (s *slab[T]) take(elems []T, chunk int) []T {
	n := len(elems)
	if n == 0 {
		return nil
	}
	if n > len(s.free) {
		s.free = make([]T, max(n, chunk))
	}
	out := s.free[:n:n]
	copy(out, elems)
	s.free = s.free[n:]
	return out
}
