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

// maxJSONDepth is encoding/json's nesting limit (its maxNestingDepth):
// json.Valid refuses a value nested deeper than this many arrays and
// objects.
const maxJSONDepth = 10000

// validJSON reports whether data is one JSON value (RFC 8259 §2) with only
// whitespace around it: exactly what json.Valid reports, including its
// nesting limit and without a UTF-8 check (Decode checks UTF-8 first).
// Decode calls it for every message (DESIGN §3, RFC 8921 §10: a message
// that is not JSON is invalid); it is one pass without encoding/json's
// per-byte state-machine calls, which cost about a third of decoding a
// message (issue #3). FuzzValidJSON holds it to json.Valid.
func validJSON(data []byte) bool {
	var (
		arrays containerKinds
		depth  int
	)
	i := skipSpace(data, 0)
	for {
		// A value starts at data[i].
		if i >= len(data) {
			return false
		}
		switch c := data[i]; {
		case c == '{' || c == '[':
			if depth == maxJSONDepth {
				return false
			}
			arrays.set(depth, c == '[')
			depth++
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == c+2 { // '{'+2 == '}', '['+2 == ']'
				depth--
				i++
				break
			}
			if c == '{' {
				if i = objectKey(data, i); i < 0 {
					return false
				}
			}
			continue
		case c == '"':
			if i = skipValidString(data, i); i < 0 {
				return false
			}
		case c == '-' || ('0' <= c && c <= '9'):
			if i = skipValidNumber(data, i); i < 0 {
				return false
			}
		case c == 't':
			if i = skipLiteral(data, i, "true"); i < 0 {
				return false
			}
		case c == 'f':
			if i = skipLiteral(data, i, "false"); i < 0 {
				return false
			}
		case c == 'n':
			if i = skipLiteral(data, i, "null"); i < 0 {
				return false
			}
		default:
			return false
		}
		// A value ended before data[i]: close containers until one goes on.
		if i = closeContainers(data, i, &arrays, &depth); i < 0 {
			return false
		}
		if depth == 0 {
			return i == len(data)
		}
	}
}

// containerKinds has a bit per open container: set for an array, clear
// for an object. The first 256 levels live in the value itself (CPNP
// messages nest about 8 deep); deeper ones, which only a hostile peer
// sends, in a slice allocated then.
type containerKinds struct {
	low  [4]uint64
	high []uint64
}

func (k *containerKinds) set(depth int, array bool) {
	var w *uint64
	if i := depth / 64; i < len(k.low) {
		w = &k.low[i]
	} else {
		if k.high == nil {
			k.high = make([]uint64, maxJSONDepth/64+1-len(k.low))
		}
		w = &k.high[i-len(k.low)]
	}
	bit := uint64(1) << (depth % 64)
	if array {
		*w |= bit
	} else {
		*w &^= bit
	}
}

func (k *containerKinds) isArray(depth int) bool {
	var w uint64
	if i := depth / 64; i < len(k.low) {
		w = k.low[i]
	} else {
		w = k.high[i-len(k.low)]
	}
	return w&(uint64(1)<<(depth%64)) != 0
}

// closeContainers follows the value that ended before data[i]: it closes
// the containers that end there and returns the index of the next value
// (after a comma, and after the key of an object member), or len(data)
// once the top-level value ended, or -1 on a syntax error.
func closeContainers(data []byte, i int, arrays *containerKinds, depth *int) int {
	for {
		i = skipSpace(data, i)
		if *depth == 0 {
			return i
		}
		if i >= len(data) {
			return -1
		}
		d := *depth - 1
		isArray := arrays.isArray(d)
		switch c := data[i]; {
		case c == ',':
			i = skipSpace(data, i+1)
			if isArray {
				return i
			}
			return objectKey(data, i)
		case isArray && c == ']', !isArray && c == '}':
			*depth = d
			i++
		default:
			return -1
		}
	}
}

// objectKey skips the member name at data[i], the colon and the
// whitespace after it, and returns the index of the member's value, or -1.
func objectKey(data []byte, i int) int {
	if i >= len(data) || data[i] != '"' {
		return -1
	}
	if i = skipValidString(data, i); i < 0 {
		return -1
	}
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != ':' {
		return -1
	}
	return skipSpace(data, i+1)
}

// plainStringByte is true for the bytes that stand for themselves in a
// JSON string: all but the quote, the backslash and control characters.
var plainStringByte = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// skipValidString returns the index after the string that starts at
// data[i] == '"', or -1 when it is not a valid string (RFC 8259 §7: no
// control character, only the defined escapes).
func skipValidString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		for i < len(data) && plainStringByte[data[i]] {
			i++
		}
		if i >= len(data) {
			break
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(data) {
				return -1
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(data) {
					return -1
				}
				for _, h := range data[i+1 : i+5] {
					if !isHexDigit(h) {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

// skipValidNumber returns the index after the number that starts at
// data[i], or -1 when it is not one (RFC 8259 §6: an optional minus, an
// integer part without leading zeros, an optional fraction and exponent).
// What follows the number is checked by the caller.
func skipValidNumber(data []byte, i int) int {
	if data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data) || !isDigit(data[i]):
		return -1
	case data[i] == '0':
		i++
	default:
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return -1
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return -1
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	return i
}

// skipLiteral returns the index after lit at data[i], or -1.
func skipLiteral(data []byte, i int, lit string) int {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}
