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

import "strconv"

// Validate checks m as Decode checks a message's bytes (RFC 8921 §9.2, §10;
// DESIGN §3) and returns a *ValidationError, or nil:
//
//   - version 1 and a method of Table 1;
//   - every mandatory member of the method's RBNF is set (a string is set
//     when non-empty, a pointer when non-nil, a code when non-zero);
//   - no member that the method does not carry is set (CodeInvalid; use
//     Strip to drop them);
//   - every set member is in range and well-formed: hex identifiers, 1..128
//     character order identifiers, timestamps writable in RFC 3339, codes of
//     Tables 2–4, 1..3 distinct reasons, a non-empty CPD where the method
//     requires one, known Information Element enumerations.
//
// CPDs are checked with cpd's Validate; requested_cpd, offered_cpd and
// accepted_cpd must have components (RFC 8921 §8.7), cpd (ACK, CANCEL) may be
// the Empty CPD (§9.2.6).
func (m Message) Validate() error {
	if err := m.validate(); err != nil {
		return err
	}
	return nil
}

func (m *Message) validate() *ValidationError {
	if m.Version != Version {
		return newError(MemberVersion, CodeBadVersion,
			"unsupported version "+strconv.Itoa(m.Version)+", the only version is 1 (RFC 8921 §9.2)")
	}
	if !m.Method.Valid() {
		return newError(MemberMethodCode, CodeUnknownMethod,
			"unknown method code "+strconv.Itoa(int(m.Method))+", want 1 to 11 (RFC 8921 §9.2, Table 1)")
	}
	r := rules[m.Method]
	for f := fTransactionID; f < numFields; f++ {
		set := m.has(f)
		switch {
		case !set && r.mandatory.has(f):
			return newError(fieldNames[f], CodeMissing,
				"missing mandatory member of "+m.Method.String()+" (RFC 8921 "+r.section+")")
		case set && !r.allows(f):
			return newError(fieldNames[f], CodeInvalid,
				"member is not carried by "+m.Method.String()+" (RFC 8921 "+r.section+"); use Strip")
		case set:
			if err := m.validateField(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateField checks the set member f of m.
func (m *Message) validateField(f field) *ValidationError {
	name := fieldNames[f]
	var (
		code   ValidationCode
		detail string
	)
	switch f {
	case fTransactionID:
		code, detail = checkHex(m.TransactionID)
	case fNonce:
		code, detail = checkHex(m.Nonce)
	case fCustomerOrderID:
		code, detail = checkIdentifier(m.CustomerOrderID)
	case fProviderOrderID:
		code, detail = checkIdentifier(m.ProviderOrderID)
	case fExpectedResponseTime:
		code, detail = checkTime(*m.ExpectedResponseTime)
	case fExpectedOfferTime:
		code, detail = checkTime(*m.ExpectedOfferTime)
	case fValidityOfferTime:
		code, detail = checkTime(*m.ValidityOfferTime)
	case fRequestedCPD, fOfferedCPD, fAcceptedCPD, fCPD:
		c := *cpdField(m, f)
		require := f != fCPD
		if require && len(c.Components) == 0 {
			return emptyCPDError(name)
		}
		if err := c.Validate(require); err != nil {
			return cpdError(name, err)
		}
	case fSubcode:
		if !m.Subcode.Valid() {
			code, detail = CodeOutOfRange, "must be a code of Table 2 (1 to 2), got "+strconv.Itoa(int(m.Subcode))
		}
	case fReasons:
		return validateReasons(m.Reasons)
	case fStatusCode:
		if !m.StatusCode.Valid() {
			code, detail = CodeOutOfRange, "must be a code of Table 4 (1 to 8), got "+strconv.Itoa(int(m.StatusCode))
		}
	case fActivationSchedule:
		code, detail = m.ActivationSchedule.check()
	case fInformationElements:
		return validateIEs(m.InformationElements)
	default:
		// Version, method_code and sequence_number are checked by validate.
	}
	if code != 0 {
		return newError(name, code, detail)
	}
	return nil
}

func validateReasons(rs []Reason) *ValidationError {
	if len(rs) > MaxReasons {
		return newError(MemberReasons, CodeOutOfRange,
			"must have 1 to 3 reasons (RFC 8921 §9.2.5, Table 3), got "+strconv.Itoa(len(rs)))
	}
	for i, r := range rs {
		path := MemberReasons + "[" + strconv.Itoa(i) + "]"
		if !r.Valid() {
			return newError(path, CodeOutOfRange, "must be a code of Table 3 (1 to 3), got "+strconv.Itoa(int(r)))
		}
		for _, q := range rs[:i] {
			if q == r {
				return newError(path, CodeInvalid, "reason "+strconv.Itoa(int(r))+" appears more than once")
			}
		}
	}
	return nil
}
