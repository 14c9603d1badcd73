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
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Decode parses one CPNP message (RFC 8921 §9.2, JSON mapping of DESIGN §3
// and docs/wire.md) and validates its structure against the RBNF of its
// method. It is DecodeWithLimit with DefaultMaxMessageSize.
func Decode(data []byte) (Message, error) { return DecodeWithLimit(data, DefaultMaxMessageSize) }

// DecodeWithLimit is Decode with a size limit of limit bytes (limit <= 0
// means DefaultMaxMessageSize). Checks run in this order, and the first
// failure is returned as a *ValidationError:
//
//  1. size: len(data) > limit → CodeTooLarge (before anything is parsed);
//  2. syntax: valid UTF-8, one JSON object, nothing but whitespace around
//     it, no known member repeated → CodeSyntax;
//  3. version: present, an integer, equal to 1 → CodeMissing, CodeWrongType,
//     CodeBadVersion;
//  4. method_code: present, an integer in Table 1 → CodeMissing,
//     CodeWrongType, CodeUnknownMethod;
//  5. every member that the method carries, in canonical order: JSON type,
//     range and format → CodeWrongType, CodeOutOfRange, CodeInvalid;
//  6. every mandatory member of the method's RBNF, in canonical order → CodeMissing.
//
// Unknown members are ignored (§1: new Information Elements may be added).
// Known members that the method does not carry (a nonce in a CANCEL) are
// ignored too, without looking at their value, and are absent from the
// result. The returned message always passes Validate, and Encode of it
// gives the canonical form.
func DecodeWithLimit(data []byte, limit int) (Message, error) {
	if limit <= 0 {
		limit = DefaultMaxMessageSize
	}
	if len(data) > limit {
		return Message{}, newError("", CodeTooLarge,
			"message is "+strconv.Itoa(len(data))+" bytes, more than the limit of "+strconv.Itoa(limit)+" bytes")
	}
	var d decoder
	if err := d.scan(data); err != nil {
		return Message{}, err
	}
	m, err := d.decode()
	if err != nil {
		err.TransactionID, err.CustomerOrderID, err.ProviderOrderID, err.Method = d.identify()
		return Message{}, err
	}
	return m, nil
}

// Identify extracts, best effort, what a server needs to answer a message
// that failed validation with FAIL 1 (DESIGN §3: "a structurally invalid
// message that still names a transaction ID and customer order identifier →
// FAIL 1, otherwise it is dropped"). ok is true when data is a JSON object of
// at most DefaultMaxMessageSize bytes whose transaction_id and
// customer_order_identifier members are well-formed; method is the
// method_code when it is a valid code, else 0. Other members are not looked
// at. Data that is not one syntactically valid JSON object (including a
// repeated member) is never identified.
func Identify(data []byte) (txnID, customerOrderID string, method Method, ok bool) {
	if len(data) > DefaultMaxMessageSize {
		return "", "", 0, false
	}
	var d decoder
	if d.scan(data) != nil {
		return "", "", 0, false
	}
	txnID, customerOrderID, _, method = d.identify()
	if txnID == "" || customerOrderID == "" {
		return "", "", 0, false
	}
	return txnID, customerOrderID, method, true
}

// decoder holds the raw value of every known top-level member.
type decoder struct {
	raw [numFields][]byte
}

// scan checks the syntax of data and records the span of every known member.
func (d *decoder) scan(data []byte) *ValidationError {
	if !utf8.Valid(data) {
		return newError("", CodeSyntax, "message is not valid UTF-8 (RFC 8259 §8.1)")
	}
	if !validJSON(data) {
		return syntaxError(data)
	}
	obj := trimSpace(data)
	if obj[0] != '{' {
		return newError("", CodeSyntax, "a CPNP message is a JSON object, got "+jsonKind(obj))
	}
	var dup *ValidationError
	err := forEachMember(obj, func(name, value []byte) error {
		key, err := memberName(name)
		if err != nil {
			return err
		}
		f, ok := lookupField(key)
		if !ok {
			return nil // unknown member: ignored (DESIGN §3)
		}
		if d.raw[f] != nil {
			dup = newError(fieldNames[f], CodeSyntax, "member appears more than once")
			return dup
		}
		d.raw[f] = value
		return nil
	})
	switch {
	case dup != nil:
		return dup
	case err != nil:
		return newError("", CodeSyntax, "invalid JSON: "+err.Error())
	}
	return nil
}

// syntaxError describes why validJSON (json.Valid) refused data.
func syntaxError(data []byte) *ValidationError {
	var raw json.RawMessage
	err := json.Unmarshal(data, &raw)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return newError("", CodeSyntax, "invalid JSON at byte offset "+strconv.FormatInt(se.Offset, 10)+": "+se.Error())
	}
	if err == nil {
		return newError("", CodeSyntax, "invalid JSON")
	}
	return newError("", CodeSyntax, "invalid JSON: "+err.Error())
}

// identify returns the well-formed identifiers among the raw members.
func (d *decoder) identify() (txnID, customerOrderID, providerOrderID string, method Method) {
	if s, err := unquoteIf(d.raw[fTransactionID]); err == nil {
		if code, _ := checkHex(s); code == 0 {
			txnID = s
		}
	}
	if s, err := unquoteIf(d.raw[fCustomerOrderID]); err == nil {
		if code, _ := checkIdentifier(s); code == 0 {
			customerOrderID = s
		}
	}
	if s, err := unquoteIf(d.raw[fProviderOrderID]); err == nil {
		if code, _ := checkIdentifier(s); code == 0 {
			providerOrderID = s
		}
	}
	if v := d.raw[fMethod]; v != nil {
		if n, fits, code, _ := parseInt(v); code == 0 && fits && Method(n).Valid() {
			method = Method(n)
		}
	}
	return txnID, customerOrderID, providerOrderID, method
}

// unquoteIf returns the string value v, or an error when v is absent or not a string.
func unquoteIf(v []byte) (string, error) {
	if len(v) == 0 || v[0] != '"' {
		return "", errMalformed
	}
	return unquote(v)
}

// decode converts the recorded members into a Message (steps 3–6 of DecodeWithLimit).
func (d *decoder) decode() (Message, *ValidationError) {
	var m Message

	v := d.raw[fVersion]
	if v == nil {
		return m, newError(MemberVersion, CodeMissing, "missing mandatory member of every message (RFC 8921 §9.2)")
	}
	n, fits, code, detail := parseInt(v)
	if code != 0 {
		return m, newError(MemberVersion, code, detail)
	}
	if !fits || n != Version {
		return m, newError(MemberVersion, CodeBadVersion,
			"unsupported version "+truncate(string(v))+", the only version is 1 (RFC 8921 §9.2)")
	}
	m.Version = Version

	v = d.raw[fMethod]
	if v == nil {
		return m, newError(MemberMethodCode, CodeMissing, "missing mandatory member of every message (RFC 8921 §9.2)")
	}
	n, fits, code, detail = parseInt(v)
	if code != 0 {
		return m, newError(MemberMethodCode, code, detail)
	}
	if !fits || !Method(n).Valid() {
		return m, newError(MemberMethodCode, CodeUnknownMethod,
			"unknown method code "+truncate(string(v))+", want 1 to 11 (RFC 8921 §9.2, Table 1)")
	}
	m.Method = Method(n)

	r := rules[m.Method]
	// The identifiers share one allocation (decodeIdentifier).
	var ids strings.Builder
	ids.Grow(len(d.raw[fTransactionID]) + len(d.raw[fCustomerOrderID]) + len(d.raw[fProviderOrderID]) + len(d.raw[fNonce]))
	for f := fSeq; f < numFields; f++ {
		if v := d.raw[f]; v != nil && r.allows(f) {
			if err := decodeField(&m, f, v, &ids); err != nil {
				return Message{}, err
			}
		}
	}
	for f := fSeq; f < numFields; f++ {
		if r.mandatory.has(f) && d.raw[f] == nil {
			return Message{}, newError(fieldNames[f], CodeMissing,
				"missing mandatory member of "+m.Method.String()+" (RFC 8921 "+r.section+")")
		}
	}
	return m, nil
}

// wrongType reports that the value v at path is not of the wanted JSON type.
func wrongType(path, want string, v []byte) *ValidationError {
	return newError(path, CodeWrongType, "must be "+want+", got "+jsonKind(v))
}

// decodeString returns the string value v at path.
func decodeString(path string, v []byte) (string, *ValidationError) {
	if v[0] != '"' {
		return "", wrongType(path, "a string", v)
	}
	s, err := unquote(v)
	if err != nil {
		return "", newError(path, CodeSyntax, "invalid JSON string: "+err.Error())
	}
	return s, nil
}

// decodeCode returns the integer code v at path, in 1..maxCode.
func decodeCode(path string, v []byte, maxCode uint64, table string) (int, *ValidationError) {
	n, code, detail := parseUint(v, math.MaxInt32)
	if code == CodeOutOfRange || code == 0 && (n < 1 || n > maxCode) {
		return 0, newError(path, CodeOutOfRange,
			"must be a code of "+table+" (1 to "+strconv.FormatUint(maxCode, 10)+"), got "+truncate(string(v)))
	}
	if code != 0 {
		return 0, newError(path, code, detail)
	}
	return int(n), nil
}

// decodeIdentifier is decodeString for TRANSACTION_ID, the order
// identifiers and NONCE (§9.1.1–§9.1.5), which every message carries: a
// value without escapes is copied into ids, sized by the caller for all of
// them, so that they cost one allocation instead of one each. The strings
// share that buffer, which is never written again where they point.
func decodeIdentifier(name string, v []byte, ids *strings.Builder) (string, *ValidationError) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		inner := v[1 : len(v)-1]
		if bytes.IndexByte(inner, '\\') < 0 && ids.Cap()-ids.Len() >= len(inner) {
			start := ids.Len()
			ids.Write(inner)
			return ids.String()[start:], nil
		}
	}
	return decodeString(name, v)
}

// decodeField decodes the raw member v of field f into m; the identifiers
// are built in ids (decodeIdentifier).
func decodeField(m *Message, f field, v []byte, ids *strings.Builder) *ValidationError {
	name := fieldNames[f]
	switch f {
	case fSeq:
		n, code, detail := parseUint(v, math.MaxUint32)
		if code != 0 {
			return newError(name, code, detail+" (RFC 8921 §9.1.4)")
		}
		m.Seq = uint32(n)
	case fTransactionID, fNonce:
		s, err := decodeIdentifier(name, v, ids)
		if err != nil {
			return err
		}
		if code, detail := checkHex(s); code != 0 {
			return newError(name, code, detail)
		}
		if f == fTransactionID {
			m.TransactionID = s
		} else {
			m.Nonce = s
		}
	case fCustomerOrderID, fProviderOrderID:
		s, err := decodeIdentifier(name, v, ids)
		if err != nil {
			return err
		}
		if code, detail := checkIdentifier(s); code != 0 {
			return newError(name, code, detail)
		}
		if f == fCustomerOrderID {
			m.CustomerOrderID = s
		} else {
			m.ProviderOrderID = s
		}
	case fExpectedResponseTime, fExpectedOfferTime, fValidityOfferTime:
		s, err := decodeString(name, v)
		if err != nil {
			return err
		}
		t, code, detail := parseTime(s)
		if code != 0 {
			return newError(name, code, detail)
		}
		switch f {
		case fExpectedResponseTime:
			m.ExpectedResponseTime = &t
		case fExpectedOfferTime:
			m.ExpectedOfferTime = &t
		default:
			m.ValidityOfferTime = &t
		}
	case fRequestedCPD, fOfferedCPD, fAcceptedCPD, fCPD:
		c, err := decodeCPD(name, v, f != fCPD)
		if err != nil {
			return err
		}
		*cpdField(m, f) = c
	case fSubcode:
		n, err := decodeCode(name, v, uint64(SubcodeRequestExternalResources), "Table 2")
		if err != nil {
			return err
		}
		m.Subcode = Subcode(n)
	case fReasons:
		rs, err := decodeReasons(v)
		if err != nil {
			return err
		}
		m.Reasons = rs
	case fStatusCode:
		n, err := decodeCode(name, v, uint64(StatusUnsupportedActivationType), "Table 4")
		if err != nil {
			return err
		}
		m.StatusCode = StatusCode(n)
	case fActivationSchedule:
		if v[0] != '"' {
			return wrongType(name, `an RFC 3339 timestamp or "0"`, v)
		}
		s, err := decodeString(name, v)
		if err != nil {
			return err
		}
		sc, code, detail := parseSchedule(s)
		if code != 0 {
			return newError(name, code, detail)
		}
		m.ActivationSchedule = &sc
	case fInformationElements:
		ie, err := decodeIEs(v)
		if err != nil {
			return err
		}
		m.InformationElements = ie
	default:
		// Version and method_code are decoded before the loop.
	}
	return nil
}

// decodeReasons decodes the DECLINE reasons (§9.2.5, Table 3).
func decodeReasons(v []byte) ([]Reason, *ValidationError) {
	if v[0] != '[' {
		return nil, wrongType(MemberReasons, "an array of reason codes", v)
	}
	var (
		out  []Reason
		verr *ValidationError
	)
	err := forEachElement(v, func(i int, e []byte) error {
		path := MemberReasons + "[" + strconv.Itoa(i) + "]"
		if i >= MaxReasons {
			verr = newError(MemberReasons, CodeOutOfRange, "must have 1 to 3 reasons (RFC 8921 §9.2.5, Table 3), got more")
			return verr
		}
		n, err := decodeCode(path, e, uint64(ReasonActivationTypeMismatch), "Table 3")
		if err != nil {
			verr = err
			return err
		}
		for _, r := range out {
			if r == Reason(n) {
				verr = newError(path, CodeInvalid, "reason "+strconv.Itoa(n)+" appears more than once")
				return verr
			}
		}
		out = append(out, Reason(n))
		return nil
	})
	if verr != nil {
		return nil, verr
	}
	if err != nil {
		return nil, newError(MemberReasons, CodeSyntax, "invalid JSON: "+err.Error())
	}
	if len(out) == 0 {
		return nil, newError(MemberReasons, CodeOutOfRange,
			"must have 1 to 3 reasons when present (RFC 8921 §9.2.5, Table 3), got none")
	}
	return out, nil
}
