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
	"bytes"
	"encoding/json"
	"errors"
)

// This file walks JSON text that validJSON (json.Valid) has already accepted, so that
// Decode parses the input once into member spans instead of building a map.
// The walkers still check every index: a bug, not peer input, would be needed
// to violate the precondition, and even then they return errMalformed rather
// than panic.

var errMalformed = errors.New("malformed JSON")

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// trimSpace returns b without leading and trailing JSON whitespace.
func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// skipString returns the index after the string that starts at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errMalformed
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errMalformed
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformed
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errMalformed
	default:
		j := i
		for j < len(b) {
			c := b[j]
			if c == ',' || c == '}' || c == ']' || isSpace(c) {
				break
			}
			j++
		}
		if j == i {
			return 0, errMalformed
		}
		return j, nil
	}
}

// forEachMember calls visit for every member of the object obj (which
// starts with '{' and is valid JSON), in document order, with the member
// name still quoted and the raw value. It stops at the first error visit returns.
func forEachMember(obj []byte, visit func(name, value []byte) error) error {
	if len(obj) == 0 || obj[0] != '{' {
		return errMalformed
	}
	i := skipSpace(obj, 1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for i < len(obj) {
		nameEnd, err := skipString(obj, i)
		if err != nil {
			return err
		}
		name := obj[i:nameEnd]
		i = skipSpace(obj, nameEnd)
		if i >= len(obj) || obj[i] != ':' {
			return errMalformed
		}
		i = skipSpace(obj, i+1)
		valueEnd, err := skipValue(obj, i)
		if err != nil {
			return err
		}
		if err := visit(name, obj[i:valueEnd]); err != nil {
			return err
		}
		i = skipSpace(obj, valueEnd)
		if i >= len(obj) {
			return errMalformed
		}
		switch obj[i] {
		case '}':
			return nil
		case ',':
			i = skipSpace(obj, i+1)
		default:
			return errMalformed
		}
	}
	return errMalformed
}

// forEachElement calls visit for every element of the array arr (which
// starts with '[' and is valid JSON), with its index.
func forEachElement(arr []byte, visit func(i int, value []byte) error) error {
	if len(arr) == 0 || arr[0] != '[' {
		return errMalformed
	}
	i := skipSpace(arr, 1)
	if i < len(arr) && arr[i] == ']' {
		return nil
	}
	for n := 0; i < len(arr); n++ {
		end, err := skipValue(arr, i)
		if err != nil {
			return err
		}
		if err := visit(n, arr[i:end]); err != nil {
			return err
		}
		i = skipSpace(arr, end)
		if i >= len(arr) {
			return errMalformed
		}
		switch arr[i] {
		case ']':
			return nil
		case ',':
			i = skipSpace(arr, i+1)
		default:
			return errMalformed
		}
	}
	return errMalformed
}

// unquote returns the text of the JSON string s (with its quotes). Strings
// without escapes, the common case, cost one allocation; json.Unmarshal
// handles escapes (and turns invalid surrogates into U+FFFD, as encoding/json
// always does).
func unquote(s []byte) (string, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", errMalformed
	}
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil
	}
	var out string
	if err := json.Unmarshal(s, &out); err != nil {
		return "", err
	}
	return out, nil
}

// memberName returns the unquoted member name; it avoids allocating when the
// name has no escapes (the returned slice then aliases name).
func memberName(name []byte) ([]byte, error) {
	if len(name) < 2 {
		return nil, errMalformed
	}
	inner := name[1 : len(name)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, nil
	}
	s, err := unquote(name)
	return []byte(s), err
}

// jsonKind names the JSON type of the raw value v for error messages.
func jsonKind(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	if bytes.ContainsAny(v, ".eE") {
		return "number with a fraction or exponent"
	}
	return "integer"
}
