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

package transport

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The fragmentation envelope of docs/wire.md ("Fragmentation"): a message
// longer than the datagram limit L travels as N >= 2 DTLS records, each
//
//	{"cpnp_fragment":{"id":"<16 lowercase hex>","index":I,"count":N,"length":T},"data":"<base64>"}
//
// id is 64 random bits shared by the fragments of one message, I runs
// 0..N-1, T is the length of the whole message and data is the standard
// base64 (with padding) of message bytes [offset, offset+k). Fragments are
// cut in index order and each envelope is at most L bytes.

// envelopeMember is the member that marks an envelope; it comes first.
const envelopeMember = `"cpnp_fragment"`

// fragmentIDLen is the length of an id: 64 bits as lowercase hex.
const fragmentIDLen = 16

// envelopeOverhead is the length of an envelope without the decimal
// numbers and the data: the fixed JSON text plus the id.
const envelopeOverhead = len(`{"cpnp_fragment":{"id":"","index":,"count":,"length":},"data":""}`) + fragmentIDLen

// fragment is one parsed envelope.
type fragment struct {
	ID     string
	Index  int
	Count  int
	Length int
	Data   []byte
}

// isFragment reports whether the datagram b is a fragment envelope. The rule
// (docs/wire.md) is cheap on the common path of bare messages: after
// optional JSON whitespace, b starts with '{', optional JSON whitespace and
// the member name "cpnp_fragment". A CPNP message never has that member.
func isFragment(b []byte) bool {
	i := skipJSONSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipJSONSpace(b, i+1)
	return bytes.HasPrefix(b[i:], []byte(envelopeMember))
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// errMalformedFragment wraps every reason parseFragment refuses an envelope.
var errMalformedFragment = errors.New("malformed fragment envelope")

// parseFragment parses an envelope strictly: exactly the members of the
// shape above (no others, all present), integers without fraction, a 16-digit
// lowercase hex id, non-empty data in standard base64 with padding, and
// nothing but whitespace after the object. Ranges that depend on the
// receiver's limits (count, length) are checked by the reassembler.
func parseFragment(b []byte) (fragment, error) {
	if f, ok := parseCanonicalFragment(b); ok {
		return f, nil
	}
	return parseFragmentJSON(b)
}

// parseCanonicalFragment is the fast path for an envelope in exactly the
// layout appendEnvelope writes (no whitespace inside, members in order,
// optional trailing whitespace). It accepts a subset of what
// parseFragmentJSON accepts and yields the same fragment; ok is false for
// anything else, which then takes the general path.
func parseCanonicalFragment(b []byte) (f fragment, ok bool) {
	rest, ok := cutPrefix(b, `{"cpnp_fragment":{"id":"`)
	if !ok || len(rest) < fragmentIDLen || !validFragmentID(string(rest[:fragmentIDLen])) {
		return fragment{}, false
	}
	f.ID = string(rest[:fragmentIDLen])
	rest = rest[fragmentIDLen:]
	for _, field := range []struct {
		prefix string
		dst    *int
	}{{`","index":`, &f.Index}, {`,"count":`, &f.Count}, {`,"length":`, &f.Length}} {
		if rest, ok = cutPrefix(rest, field.prefix); !ok {
			return fragment{}, false
		}
		if *field.dst, rest, ok = cutUint(rest); !ok {
			return fragment{}, false
		}
	}
	if rest, ok = cutPrefix(rest, `},"data":"`); !ok {
		return fragment{}, false
	}
	end := bytes.IndexByte(rest, '"')
	if end <= 0 {
		return fragment{}, false
	}
	data, tail := rest[:end], rest[end+1:]
	if tail, ok = cutPrefix(tail, "}"); !ok || skipJSONSpace(tail, 0) != len(tail) {
		return fragment{}, false
	}
	if bytes.ContainsAny(data, "\\\r\n") {
		return fragment{}, false // JSON escapes, or line breaks base64 would skip
	}
	f.Data = make([]byte, base64.StdEncoding.DecodedLen(len(data)))
	n, err := base64.StdEncoding.Strict().Decode(f.Data, data)
	if err != nil || n == 0 {
		return fragment{}, false
	}
	f.Data = f.Data[:n]
	return f, true
}

func cutPrefix(b []byte, prefix string) ([]byte, bool) {
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return b, false
	}
	return b[len(prefix):], true
}

// cutUint parses a JSON non-negative integer without leading zeros (at
// most 9 digits, which bounds every legal value).
func cutUint(b []byte) (int, []byte, bool) {
	n, i := 0, 0
	for i < len(b) && i < 10 && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int(b[i]-'0')
		i++
	}
	if i == 0 || i > 9 || (i > 1 && b[0] == '0') {
		return 0, b, false
	}
	return n, b[i:], true
}

// parseFragmentJSON is the general path of parseFragment.
func parseFragmentJSON(b []byte) (fragment, error) {
	var env struct {
		Header *struct {
			ID     *string `json:"id"`
			Index  *int    `json:"index"`
			Count  *int    `json:"count"`
			Length *int    `json:"length"`
		} `json:"cpnp_fragment"`
		Data *string `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return fragment{}, fmt.Errorf("%w: %w", errMalformedFragment, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fragment{}, fmt.Errorf("%w: data after the envelope", errMalformedFragment)
	}
	h := env.Header
	switch {
	case h == nil:
		return fragment{}, fmt.Errorf("%w: no cpnp_fragment object", errMalformedFragment)
	case h.ID == nil || h.Index == nil || h.Count == nil || h.Length == nil:
		return fragment{}, fmt.Errorf("%w: cpnp_fragment needs id, index, count and length", errMalformedFragment)
	case env.Data == nil || *env.Data == "":
		return fragment{}, fmt.Errorf("%w: missing or empty data", errMalformedFragment)
	case strings.ContainsAny(*env.Data, "\r\n"):
		return fragment{}, fmt.Errorf("%w: line break in data", errMalformedFragment)
	case !validFragmentID(*h.ID):
		return fragment{}, fmt.Errorf("%w: id must be 16 lowercase hex digits", errMalformedFragment)
	}
	data, err := base64.StdEncoding.Strict().DecodeString(*env.Data)
	if err != nil {
		return fragment{}, fmt.Errorf("%w: data: %w", errMalformedFragment, err)
	}
	return fragment{ID: *h.ID, Index: *h.Index, Count: *h.Count, Length: *h.Length, Data: data}, nil
}

func validFragmentID(id string) bool {
	if len(id) != fragmentIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newFragmentID draws a fresh 64-bit id from crypto/rand.
func newFragmentID() string {
	var b [fragmentIDLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// fragmentPlan returns how many message bytes each fragment of a total-byte
// message carries at datagram limit limit, and how many fragments that
// makes. The index and count have at most as many digits as total (count <=
// total), so every envelope fits limit. chunk is 0 when limit leaves no room.
func fragmentPlan(total, limit int) (chunk, count int) {
	digits := len(strconv.Itoa(total))
	budget := limit - envelopeOverhead - 3*digits
	chunk = budget / 4 * 3
	if chunk <= 0 || total <= 0 {
		return 0, 0
	}
	return chunk, (total + chunk - 1) / chunk
}

// appendEnvelope appends the envelope of fragment index (of count) of msg,
// carrying msg[index*chunk : min((index+1)*chunk, len(msg))], to dst.
func appendEnvelope(dst []byte, id string, index, count, chunk int, msg []byte) []byte {
	start := index * chunk
	end := min(start+chunk, len(msg))
	dst = append(dst, `{"cpnp_fragment":{"id":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","index":`...)
	dst = strconv.AppendInt(dst, int64(index), 10)
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, int64(count), 10)
	dst = append(dst, `,"length":`...)
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, `},"data":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, msg[start:end])
	dst = append(dst, `"}`...)
	return dst
}

// splitMessage cuts msg into envelopes of at most limit bytes, in index
// order, and hands each to emit (the slice is reused after emit returns).
// maxFragments is the receiver's bound that the sender respects.
func splitMessage(msg []byte, limit, maxFragments int, id string, emit func([]byte) error) error {
	chunk, count := fragmentPlan(len(msg), limit)
	if chunk == 0 {
		return fmt.Errorf("datagram limit %d leaves no room for fragment data", limit)
	}
	if count > maxFragments {
		return fmt.Errorf("%w: %d bytes need %d fragments at datagram limit %d, more than %d",
			ErrMessageTooLarge, len(msg), count, limit, maxFragments)
	}
	buf := make([]byte, 0, limit)
	for i := range count {
		buf = appendEnvelope(buf[:0], id, i, count, chunk, msg)
		if err := emit(buf); err != nil {
			return err
		}
	}
	return nil
}
