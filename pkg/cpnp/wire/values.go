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
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits of the JSON mapping (DESIGN §3).
const (
	// DefaultMaxMessageSize bounds one message (a reassembled one included):
	// 1 MiB (DESIGN §3). Decode refuses longer input with CodeTooLarge.
	DefaultMaxMessageSize = 1 << 20
	// DefaultDatagramLimit bounds the JSON text of a message sent in one DTLS
	// record (DESIGN §3 "Settled details"): the safe path MTU that pion/dtls
	// also uses. Longer messages use the fragmentation envelope of docs/wire.md.
	DefaultDatagramLimit = 1200
	// MaxDatagramLimit is the largest configurable datagram limit: pion/dtls
	// receives into an 8192-byte buffer and silently drops larger datagrams.
	MaxDatagramLimit = 8000

	// MinHexDigits is the minimum length of transaction_id and nonce: 128
	// random bits (§8.4, §9.1.5, §13; DESIGN §3).
	MinHexDigits = 32
	// MaxHexDigits is the maximum length of transaction_id and nonce (512
	// bits); a bound of ours so that identifiers stay small.
	MaxHexDigits = 128
	// MaxIdentifierLength is the maximum length, in characters (Unicode code
	// points), of customer_order_identifier and provider_order_identifier
	// (DESIGN §3).
	MaxIdentifierLength = 128
	// MaxReasons is the maximum number of DECLINE reasons: Table 3 has three
	// codes and a reason may appear once.
	MaxReasons = 3

	// TimeLayout is how timestamps are encoded: RFC 3339 in UTC with
	// milliseconds, e.g. "2026-11-21T22:24:25.000Z" (DESIGN §3).
	TimeLayout = "2006-01-02T15:04:05.000Z07:00"
	// Deactivate is the special ACTIVATION_SCHEDULE value that requests
	// deactivation (§9.2.11).
	Deactivate = "0"
)

// CanonicalTime returns t as the wire carries it: in UTC, truncated to the
// millisecond. Decode returns timestamps in this form; shells that put a
// clock reading into a message should pass it through CanonicalTime so that
// what they remember equals what the peer echoes back.
func CanonicalTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// checkHex validates transaction_id and nonce: MinHexDigits..MaxHexDigits hex
// digits, either case.
func checkHex(s string) (ValidationCode, string) {
	if len(s) < MinHexDigits || len(s) > MaxHexDigits {
		return CodeInvalid, "must be " + strconv.Itoa(MinHexDigits) + " to " + strconv.Itoa(MaxHexDigits) +
			" hex digits (>= 128 random bits, RFC 8921 §8.4), got " + strconv.Itoa(len(s)) + " characters"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isHexDigit(c) {
			return CodeInvalid, "must be a hex string, got " + strconv.QuoteRune(rune(c)) + " at offset " + strconv.Itoa(i)
		}
	}
	return 0, ""
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigit(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// checkIdentifier validates customer_order_identifier and
// provider_order_identifier: 1..MaxIdentifierLength characters of valid UTF-8
// (§9.1.1, §9.1.2: otherwise opaque).
func checkIdentifier(s string) (ValidationCode, string) {
	if !utf8.ValidString(s) {
		return CodeInvalid, "must be valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n < 1 || n > MaxIdentifierLength {
		return CodeOutOfRange, "length must be 1 to " + strconv.Itoa(MaxIdentifierLength) + " characters, got " + strconv.Itoa(n)
	}
	return 0, ""
}

// checkText validates free text of the Information Elements.
func checkText(s string) (ValidationCode, string) {
	if !utf8.ValidString(s) {
		return CodeInvalid, "must be valid UTF-8"
	}
	return 0, ""
}

// checkTime validates a timestamp: its UTC form must have a 4-digit year so
// that it can be written in RFC 3339.
func checkTime(t time.Time) (ValidationCode, string) {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return CodeOutOfRange, "year " + strconv.Itoa(y) + " (in UTC) cannot be written in RFC 3339"
	}
	return 0, ""
}

// parseTime parses an RFC 3339 timestamp and returns it in canonical form.
func parseTime(s string) (time.Time, ValidationCode, string) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, CodeInvalid, "must be an RFC 3339 timestamp such as \"2026-11-21T22:24:25.000Z\", got " + strconv.Quote(truncate(s))
	}
	t = CanonicalTime(t)
	if code, detail := checkTime(t); code != 0 {
		return time.Time{}, code, detail
	}
	return t, 0, ""
}

// parseUint reads a JSON integer in 0..maxValue. A value with a fraction or
// an exponent ("1.0", "1e0") is a wrong type: integers are written as
// integers (DESIGN §3 "strict types").
func parseUint(v []byte, maxValue uint64) (uint64, ValidationCode, string) {
	if len(v) == 0 || v[0] != '-' && !isDigit(v[0]) {
		return 0, CodeWrongType, "must be an integer, got " + jsonKind(v)
	}
	neg := v[0] == '-'
	digits := v
	if neg {
		digits = v[1:]
	}
	var n uint64
	overflow := false
	for _, c := range digits {
		if !isDigit(c) {
			return 0, CodeWrongType, "must be an integer, got " + jsonKind(v)
		}
		if n > (1<<64-1-9)/10 {
			overflow = true
			continue
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case neg && (n != 0 || overflow):
		return 0, CodeOutOfRange, "must be 0 to " + strconv.FormatUint(maxValue, 10) + ", got " + truncate(string(v))
	case overflow || n > maxValue:
		return 0, CodeOutOfRange, "must be at most " + strconv.FormatUint(maxValue, 10) + ", got " + truncate(string(v))
	}
	return n, 0, ""
}

// parseInt reads a JSON integer and reports whether it fits an int, for the
// codes whose range error has its own ValidationCode (version, method_code).
func parseInt(v []byte) (n int64, fits bool, code ValidationCode, detail string) {
	u, code, detail := parseUint(v, 1<<31-1)
	switch code {
	case 0:
		return int64(u), true, 0, ""
	case CodeOutOfRange:
		return 0, false, 0, ""
	}
	return 0, false, code, detail
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}
