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
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the tokenizer under Parse: one pass over the bytes, no
// reflection, no allocation except for an error. It yields the tokens that
// encoding/json's Decoder.Token yields, in the same order, and fails at the
// same token with the same message, because Parse's errors (path, kind and
// detail) are part of its contract (DESIGN §3: a structurally invalid message
// is answered FAIL 1 or dropped, RFC 8921 §13) and were first defined by a
// decoder built on Decoder.Token. In short:
//
//   - JSON syntax is RFC 8259: the punctuation is checked by the token state
//     machine below (encoding/json's tokenState), scalars by scanLiteral
//     (encoding/json's scanner states);
//   - a string is returned as its byte span; it is unescaped (unquote) only
//     when it holds an escape or invalid UTF-8, which encoding/json replaces
//     by U+FFFD, as unquote does;
//   - a number is returned as the exact span of its literal, which the
//     caller hands to strconv.ParseFloat;
//   - a syntax error reads "invalid JSON at offset N: invalid character ...",
//     N being what encoding/json reports: the input offset for misplaced
//     punctuation, and for an error inside a scalar the number of scalar
//     bytes scanned so far (encoding/json's scanner.bytes, which only counts
//     the bytes of scalar values).

// tokKind is the type of a token.
type tokKind uint8

const (
	tokNone tokKind = iota
	tokObjectStart
	tokObjectEnd
	tokArrayStart
	tokArrayEnd
	tokString
	tokNumber
	tokTrue
	tokFalse
	tokNull
)

// token is one JSON token. For a string, [start, end) is the text between
// the quotes and plain says that this text is the value as it stands (no
// escape, valid UTF-8); for a number, [start, end) is the literal.
type token struct {
	kind       tokKind
	plain      bool
	start, end int
}

// tokenState says what the scanner accepts next: encoding/json's
// tokenState, with the same values.
type tokenState uint8

const (
	stateTopValue tokenState = iota
	stateArrayStart
	stateArrayValue
	stateArrayComma
	stateObjectStart
	stateObjectKey
	stateObjectColon
	stateObjectValue
	stateObjectComma
)

// scanner splits JSON text into tokens. Its zero value (with data set)
// expects one top-level value.
type scanner struct {
	data  []byte
	pos   int // next byte to read
	state tokenState
	// stack holds the state to return to after each open object or array.
	// The decoder refuses more than MaxDepth open containers before it
	// reads another token, so at most MaxDepth+1 are ever pushed.
	stack [MaxDepth + 1]tokenState
	depth int // open containers: the height of stack
	// scalarBytes counts the bytes of the scalar values scanned so far: the
	// offset encoding/json reports for an error inside a scalar.
	scalarBytes int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// peek skips whitespace and returns the next byte, or false at the end.
func (s *scanner) peek() (byte, bool) {
	for i := s.pos; i < len(s.data); i++ {
		if c := s.data[i]; c > ' ' || !isSpace(c) {
			s.pos = i
			return c, true
		}
	}
	return 0, false
}

// more reports whether the current object or array has another member or
// element (Decoder.More): the next byte is neither a closing bracket nor the
// end of input. Errors are left to the next call of next.
func (s *scanner) more() bool {
	c, ok := s.peek()
	return ok && c != ']' && c != '}'
}

func (s *scanner) valueAllowed() bool {
	switch s.state {
	case stateTopValue, stateArrayStart, stateArrayValue, stateObjectValue:
		return true
	}
	return false
}

// valueEnd moves on after a value (Decoder.tokenValueEnd).
func (s *scanner) valueEnd() {
	switch s.state {
	case stateArrayStart, stateArrayValue:
		s.state = stateArrayComma
	case stateObjectValue:
		s.state = stateObjectComma
	}
}

func (s *scanner) push(next tokenState) *Error {
	if s.depth == len(s.stack) { // unreachable: the decoder bounds the depth first
		return errorf("", KindSyntax, "nesting deeper than "+strconv.Itoa(MaxDepth)+" levels")
	}
	s.stack[s.depth] = s.state
	s.depth++
	s.state = next
	return nil
}

func (s *scanner) pop() {
	s.depth--
	s.state = s.stack[s.depth]
	s.valueEnd()
}

// next returns the next token, consuming the commas and colons around it
// (Decoder.Token). An error is a KindSyntax *Error without a path.
func (s *scanner) next() (token, *Error) {
	for {
		c, ok := s.peek()
		if !ok {
			return token{}, errEndOfInput()
		}
		switch c {
		case '{', '[':
			if !s.valueAllowed() {
				return token{}, s.tokenError(c)
			}
			s.pos++
			if c == '{' {
				return token{kind: tokObjectStart}, s.push(stateObjectStart)
			}
			return token{kind: tokArrayStart}, s.push(stateArrayStart)
		case ']':
			if s.state != stateArrayStart && s.state != stateArrayComma {
				return token{}, s.tokenError(c)
			}
			s.pos++
			s.pop()
			return token{kind: tokArrayEnd}, nil
		case '}':
			if s.state != stateObjectStart && s.state != stateObjectComma {
				return token{}, s.tokenError(c)
			}
			s.pos++
			s.pop()
			return token{kind: tokObjectEnd}, nil
		case ':':
			if s.state != stateObjectColon {
				return token{}, s.tokenError(c)
			}
			s.pos++
			s.state = stateObjectValue
		case ',':
			switch s.state {
			case stateArrayComma:
				s.state = stateArrayValue
			case stateObjectComma:
				s.state = stateObjectKey
			default:
				return token{}, s.tokenError(c)
			}
			s.pos++
		default:
			if c == '"' && (s.state == stateObjectStart || s.state == stateObjectKey) {
				tok, err := s.scanLiteral()
				if err != nil {
					return token{}, err
				}
				s.state = stateObjectColon
				return tok, nil
			}
			if !s.valueAllowed() {
				return token{}, s.tokenError(c)
			}
			tok, err := s.scanLiteral()
			if err != nil {
				return token{}, err
			}
			s.valueEnd()
			return tok, nil
		}
	}
}

// tokenError reports the misplaced byte c at the current offset
// (Decoder.tokenError).
func (s *scanner) tokenError(c byte) *Error {
	var context string
	switch s.state {
	case stateTopValue, stateArrayStart, stateArrayValue, stateObjectValue:
		context = " looking for beginning of value"
	case stateArrayComma:
		context = " after array element"
	case stateObjectKey:
		context = " looking for beginning of object key string"
	case stateObjectColon:
		context = " after object key"
	case stateObjectComma:
		context = " after object key:value pair"
	}
	return syntaxErrorAt(s.pos, "invalid character "+quoteChar(c)+context)
}

// scanLiteral scans the string, number, true, false or null that starts at
// s.pos, which is not whitespace.
func (s *scanner) scanLiteral() (token, *Error) {
	data, start := s.data, s.pos
	tok := token{start: start}
	var i int
	var err *Error
	switch c := data[start]; {
	case c == '"':
		tok.kind = tokString
		i, tok.plain, err = s.scanString(start)
		tok.start, tok.end = start+1, i-1
	case c == '-' || isDigit(c):
		tok.kind = tokNumber
		i, err = s.scanNumber(start)
		tok.end = i
	case c == 't':
		tok.kind = tokTrue
		i, err = s.scanWord(start, "true")
	case c == 'f':
		tok.kind = tokFalse
		i, err = s.scanWord(start, "false")
	case c == 'n':
		tok.kind = tokNull
		i, err = s.scanWord(start, "null")
	default:
		return token{}, s.scalarError(start, start, "looking for beginning of value")
	}
	if err != nil {
		return token{}, err
	}
	s.pos = i
	s.scalarBytes += i - start
	return tok, nil
}

// scalarError reports the byte at i of the scalar that starts at start
// (encoding/json's scanner.error).
func (s *scanner) scalarError(start, i int, context string) *Error {
	return syntaxErrorAt(s.scalarBytes+i-start+1, "invalid character "+quoteChar(s.data[i])+" "+context)
}

// scanString returns the index after the string that starts at data[start]
// == '"', and whether its text is plain (needs no unquote).
func (s *scanner) scanString(start int) (int, bool, *Error) {
	data := s.data
	plain, ascii := true, true
	for i := start + 1; i < len(data); {
		c := data[i]
		if plainByte[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			if plain && !ascii {
				plain = utf8.Valid(data[start+1 : i])
			}
			return i + 1, plain, nil
		case c == '\\':
			plain = false
			i++
			if i == len(data) {
				return 0, false, errEndOfInput()
			}
			switch data[i] {
			case 'b', 'f', 'n', 'r', 't', '\\', '/', '"':
				i++
			case 'u':
				i++
				for end := i + 4; i < end; i++ {
					if i == len(data) {
						return 0, false, errEndOfInput()
					}
					if !isHex(data[i]) {
						return 0, false, s.scalarError(start, i, `in \u hexadecimal character escape`)
					}
				}
			default:
				return 0, false, s.scalarError(start, i, "in string escape code")
			}
		case c < ' ':
			return 0, false, s.scalarError(start, i, "in string literal")
		default: // c >= utf8.RuneSelf
			ascii = false
			i++
		}
	}
	return 0, false, errEndOfInput()
}

// plainByte tells the bytes that stand for themselves in a JSON string:
// printable ASCII but '"' and '\\'.
var plainByte = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanNumber returns the index after the number that starts at data[start]
// (RFC 8259 §6). Like encoding/json, it stops at the first byte that cannot
// continue the number: "01" is the number 0 followed by 1, which the token
// state machine then refuses.
func (s *scanner) scanNumber(start int) (int, *Error) {
	data := s.data
	i := start
	if data[i] == '-' {
		i++
		if i == len(data) {
			return 0, errEndOfInput()
		}
		if !isDigit(data[i]) {
			return 0, s.scalarError(start, i, "in numeric literal")
		}
	}
	if data[i] == '0' {
		i++
	} else {
		for i++; i < len(data) && isDigit(data[i]); i++ {
		}
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i == len(data) {
			return 0, errEndOfInput()
		}
		if !isDigit(data[i]) {
			return 0, s.scalarError(start, i, "after decimal point in numeric literal")
		}
		for i++; i < len(data) && isDigit(data[i]); i++ {
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i == len(data) {
			return 0, errEndOfInput()
		}
		if !isDigit(data[i]) {
			return 0, s.scalarError(start, i, "in exponent of numeric literal")
		}
		for i++; i < len(data) && isDigit(data[i]); i++ {
		}
	}
	return i, nil
}

// scanWord returns the index after the literal word (true, false or null)
// that starts at data[start].
func (s *scanner) scanWord(start int, word string) (int, *Error) {
	for k := 1; k < len(word); k++ {
		i := start + k
		if i == len(s.data) {
			return 0, errEndOfInput()
		}
		if s.data[i] != word[k] {
			return 0, s.scalarError(start, i, "in literal "+word+" (expecting "+quoteChar(word[k])+")")
		}
	}
	return start + len(word), nil
}

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// errEndOfInput is the error for input that stops inside a value.
func errEndOfInput() *Error {
	return errorf("", KindSyntax, "unexpected end of input")
}

func syntaxErrorAt(offset int, msg string) *Error {
	return errorf("", KindSyntax, "invalid JSON at offset "+strconv.Itoa(offset)+": "+msg)
}

// quoteChar formats c for an error message as encoding/json does.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	q := strconv.Quote(string(rune(c)))
	return "'" + q[1:len(q)-1] + "'"
}

// appendUnquoted appends the value of the string text s (between the
// quotes, already checked by scanString) to b, the way encoding/json
// unquotes: escapes are decoded, a \u escape of a lone or mismatched UTF-16
// surrogate becomes U+FFFD, and so does each byte of invalid UTF-8 (RFC 8259
// §8.1 leaves such text undefined; encoding/json coerces it to valid UTF-8).
func appendUnquoted(b, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			switch e := s[i+1]; e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s[i:])
				if r < 0 { // unreachable after scanString
					return b
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if dec := utf16.DecodeRune(r, hex4(s[i:])); dec != unicode.ReplacementChar {
						r = dec
						i += 6
					} else {
						r = unicode.ReplacementChar
					}
				}
				b = utf8.AppendRune(b, r)
				continue
			default: // '"', '\\', '/'
				b = append(b, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			b = utf8.AppendRune(b, r)
			i += size
		}
	}
	return b
}

// hex4 returns the code unit of the \uXXXX escape at the start of s, or -1.
func hex4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case isDigit(c):
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
