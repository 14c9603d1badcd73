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

// Encode returns the canonical encoding of m (DESIGN §3, docs/wire.md):
// compact JSON, members in canonical order (version, method_code,
// sequence_number, transaction_id, customer_order_identifier,
// provider_order_identifier, nonce, expected_response_time,
// expected_offer_time, validity_offer_time, the CPD member,
// processing_subcode, reasons, status_code, activation_schedule,
// information_elements), absent members omitted, timestamps in UTC with
// milliseconds, CPDs in cpd's canonical form. The text contains no raw
// newline. Encode validates m first and refuses an invalid message with the
// *ValidationError of Validate.
func Encode(m Message) ([]byte, error) {
	b, err := Append(make([]byte, 0, 512), m)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Append is Encode appending to dst, for callers that reuse buffers.
func Append(dst []byte, m Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return dst, err
	}
	return appendMessage(dst, &m)
}

// AppendTrusted is Append without Validate, for the messages that this
// module's machines build themselves. The fsm machines assemble every
// message they send or store from members that Decode or Validate has
// already checked (identifiers, CPDs, information elements) and from
// values they compute (sequence numbers, codes of Tables 2–4, times), and
// the engines encode those messages again for every send, retransmission
// (§11.4) and durable write, so validating them each time repeats work.
//
// It keeps the checks that encoding itself relies on: version 1 and a
// method of Table 1 (which select the member rules); a message that fails
// them is validated in full and refused with Append's *ValidationError.
// Members that the method does not carry are omitted (Append refuses
// them; Strip drops them). Any other invalid member is encoded as it is,
// and the peer's Decode refuses the result. Use Append for a message built
// from anything else (a command line, a test, a peer's input).
func AppendTrusted(dst []byte, m Message) ([]byte, error) {
	if m.Version != Version || !m.Method.Valid() {
		return Append(dst, m)
	}
	return appendMessage(dst, &m)
}

// appendMessage appends the encoding of m to dst; on an error (a CPD with
// no encoding) it returns dst unchanged.
func appendMessage(dst []byte, m *Message) ([]byte, error) {
	b := dst
	r := rules[m.Method]
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, int64(m.Version), 10)
	b = append(b, `,"method_code":`...)
	b = strconv.AppendInt(b, int64(m.Method), 10)
	b = append(b, `,"sequence_number":`...)
	b = strconv.AppendUint(b, uint64(m.Seq), 10)
	for f := fTransactionID; f < numFields; f++ {
		if !r.allows(f) || !m.has(f) {
			continue
		}
		if f == fInformationElements && m.InformationElements.empty() {
			continue
		}
		b = append(b, ',')
		b = appendString(b, fieldNames[f])
		b = append(b, ':')
		switch f {
		case fTransactionID:
			b = appendString(b, m.TransactionID)
		case fCustomerOrderID:
			b = appendString(b, m.CustomerOrderID)
		case fProviderOrderID:
			b = appendString(b, m.ProviderOrderID)
		case fNonce:
			b = appendString(b, m.Nonce)
		case fExpectedResponseTime:
			b = appendTime(b, *m.ExpectedResponseTime)
		case fExpectedOfferTime:
			b = appendTime(b, *m.ExpectedOfferTime)
		case fValidityOfferTime:
			b = appendTime(b, *m.ValidityOfferTime)
		case fRequestedCPD, fOfferedCPD, fAcceptedCPD, fCPD:
			var err error
			if b, err = appendCPD(b, fieldNames[f], *cpdField(m, f)); err != nil {
				return dst, err
			}
		case fSubcode:
			b = strconv.AppendInt(b, int64(m.Subcode), 10)
		case fReasons:
			b = append(b, '[')
			for i, r := range m.Reasons {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, int64(r), 10)
			}
			b = append(b, ']')
		case fStatusCode:
			b = strconv.AppendInt(b, int64(m.StatusCode), 10)
		case fActivationSchedule:
			if m.ActivationSchedule.Deactivate {
				b = append(b, `"0"`...)
			} else {
				b = appendTime(b, m.ActivationSchedule.At)
			}
		case fInformationElements:
			b = appendIEs(b, m.InformationElements)
		default:
			// Not reached: the loop starts after the header members.
		}
	}
	return append(b, '}'), nil
}

// appendTime appends t as a quoted RFC 3339 timestamp in UTC with milliseconds.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeLayout)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. It escapes '"', '\\', control
// characters (so that no raw newline appears, docs/wire.md TLS framing) and
// U+2028/U+2029, and does not HTML-escape. Invalid UTF-8 becomes U+FFFD
// (Validate refuses it before, so this is only a safety net).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
