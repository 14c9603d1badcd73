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
	"strconv"
	"strings"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// Message is one CPNP operation message (RFC 8921 §9.2). One struct carries
// every attribute of §9.1; which members a method carries is given by its RBNF
// and enforced by Validate. Optional members are pointers or zero values
// (Subcode 0, StatusCode 0, empty Reasons mean "absent").
//
// The JSON mapping is DESIGN §3 and docs/wire.md; Decode and Encode are the
// only supported way to convert to and from bytes. Message implements
// json.Marshaler and json.Unmarshaler with the same canonical form, so a
// Message stored inside another JSON document (an order persisted by a
// shell) keeps its wire form; the zero Message encodes as null.
//
// Timestamps travel with millisecond precision in UTC: Decode returns them in
// that form (see CanonicalTime). CPDs are shared, not copied, when a
// Message is copied; treat them as immutable values.
type Message struct {
	// Version is VERSION; always 1.
	Version int
	// Method is METHOD_CODE (Table 1).
	Method Method
	// Seq is SEQUENCE_NUMBER (§9.1.4, §11.3).
	Seq uint32
	// TransactionID is TRANSACTION_ID (§8.4, §9.1.3): >= 128 random bits, hex.
	TransactionID string
	// CustomerOrderID is CUSTOMER_ORDER_IDENTIFIER (§9.1.1).
	CustomerOrderID string
	// ProviderOrderID is PROVIDER_ORDER_IDENTIFIER (§9.1.2); absent in QUOTATION and CANCEL.
	ProviderOrderID string
	// Nonce is NONCE (§9.1.5): >= 128 random bits, hex.
	Nonce string
	// ExpectedResponseTime is EXPECTED_RESPONSE_TIME (§9.1.6).
	ExpectedResponseTime *time.Time
	// ExpectedOfferTime is EXPECTED_OFFER_TIME (§9.1.7).
	ExpectedOfferTime *time.Time
	// ValidityOfferTime is VALIDITY_OFFER_TIME (§9.1.8).
	ValidityOfferTime *time.Time
	// RequestedCPD is REQUESTED_CPD (QUOTATION, UPDATE).
	RequestedCPD *cpd.CPD
	// OfferedCPD is OFFERED_CPD (OFFER).
	OfferedCPD *cpd.CPD
	// AcceptedCPD is ACCEPTED_CPD (ACCEPT, WITHDRAW).
	AcceptedCPD *cpd.CPD
	// CPD is the plain CPD member (ACK, CANCEL).
	CPD *cpd.CPD
	// Subcode is PROCESSING_SUBCODE (Table 2); 0 when absent.
	Subcode Subcode
	// Reasons are the DECLINE REASONs (Table 3); empty when absent.
	Reasons []Reason
	// StatusCode is STATUS_CODE (Table 4) of a FAIL.
	StatusCode StatusCode
	// ActivationSchedule is ACTIVATION_SCHEDULE (§9.2.11), also allowed in OFFER (§9.2.3).
	ActivationSchedule *Schedule
	// InformationElements are the optional IEs of §9.1.10.
	InformationElements *InformationElements
}

// Schedule is ACTIVATION_SCHEDULE: a time, or "0" which requests deactivation (§9.2.11).
// Its text form (MarshalText, String) is the wire form: "0" or an RFC 3339
// timestamp in UTC with milliseconds.
type Schedule struct {
	// Deactivate is true for the special value "0".
	Deactivate bool
	// At is the activation time when Deactivate is false. A time at or before
	// now means "immediately" (DESIGN §3). It is zero when Deactivate is true.
	At time.Time
}

// ScheduleAt returns the schedule "activate at t" (t in canonical form, see CanonicalTime).
func ScheduleAt(t time.Time) Schedule { return Schedule{At: CanonicalTime(t)} }

// ScheduleDeactivate returns the schedule "0", which requests deactivation (§9.2.11).
func ScheduleDeactivate() Schedule { return Schedule{Deactivate: true} }

// String returns the wire form: "0" or the RFC 3339 timestamp.
func (s Schedule) String() string {
	if s.Deactivate {
		return Deactivate
	}
	return s.At.UTC().Format(TimeLayout)
}

// MarshalText returns the wire form of s.
func (s Schedule) MarshalText() ([]byte, error) {
	if code, detail := s.check(); code != 0 {
		return nil, newError(MemberActivationSchedule, code, detail)
	}
	return []byte(s.String()), nil
}

// UnmarshalText parses the wire form of a schedule.
func (s *Schedule) UnmarshalText(text []byte) error {
	v, err := ParseSchedule(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSchedule parses an ACTIVATION_SCHEDULE: "0" (deactivate) or an RFC
// 3339 timestamp (§9.2.11). It returns a *ValidationError.
func ParseSchedule(text string) (Schedule, error) {
	s, code, detail := parseSchedule(text)
	if code != 0 {
		return Schedule{}, newError(MemberActivationSchedule, code, detail)
	}
	return s, nil
}

func parseSchedule(text string) (Schedule, ValidationCode, string) {
	if text == Deactivate {
		return Schedule{Deactivate: true}, 0, ""
	}
	t, code, detail := parseTime(text)
	switch code {
	case 0:
	case CodeInvalid:
		return Schedule{}, code, `must be "0" (deactivate) or an RFC 3339 timestamp (RFC 8921 §9.2.11), got ` + strconv.Quote(truncate(text))
	default:
		return Schedule{}, code, detail
	}
	return Schedule{At: t}, 0, ""
}

func (s Schedule) check() (ValidationCode, string) {
	if s.Deactivate {
		if !s.At.IsZero() {
			return CodeInvalid, `a deactivation ("0") has no time`
		}
		return 0, ""
	}
	return checkTime(s.At)
}

// MarshalJSON returns Encode(m), or null for the zero Message.
func (m Message) MarshalJSON() ([]byte, error) {
	if m.isZero() {
		return []byte("null"), nil
	}
	return Encode(m)
}

// UnmarshalJSON decodes data with Decode; null leaves m unchanged.
func (m *Message) UnmarshalJSON(data []byte) error {
	if bytes.Equal(trimSpace(data), []byte("null")) {
		return nil
	}
	v, err := Decode(data)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

func (m Message) isZero() bool {
	return m.Version == 0 && m.Method == 0 && m.Seq == 0 && m.TransactionID == "" && m.CustomerOrderID == ""
}

// String summarizes m for logs: method, sequence number and identifiers. It
// never includes the nonce (STYLE §8) nor the CPDs.
func (m Message) String() string {
	var b strings.Builder
	b.WriteString(m.Method.String())
	b.WriteString(" seq=")
	b.WriteString(strconv.FormatUint(uint64(m.Seq), 10))
	b.WriteString(" txn=")
	b.WriteString(m.TransactionID)
	b.WriteString(" customer=")
	b.WriteString(strconv.Quote(m.CustomerOrderID))
	if m.ProviderOrderID != "" {
		b.WriteString(" provider=")
		b.WriteString(strconv.Quote(m.ProviderOrderID))
	}
	if m.StatusCode != 0 {
		b.WriteString(" status=")
		b.WriteString(strconv.Itoa(int(m.StatusCode)))
	}
	return b.String()
}

// Reply returns the skeleton of a message of the given method that answers
// m in the same transaction (§8.4, DESIGN §3 "Transactions"): version 1,
// the method, seq, and m's transaction ID and customer order identifier,
// plus m's provider order identifier and nonce when the answer carries those
// members (§9.2.4: the fields of an ACCEPT are copied from the OFFER). The
// caller adds the rest (a CPD, a status code, ...).
func (m Message) Reply(method Method, seq uint32) Message {
	r := Message{
		Version:         Version,
		Method:          method,
		Seq:             seq,
		TransactionID:   m.TransactionID,
		CustomerOrderID: m.CustomerOrderID,
	}
	rl := ruleFor(method)
	if rl.allows(fProviderOrderID) {
		r.ProviderOrderID = m.ProviderOrderID
	}
	if rl.allows(fNonce) {
		r.Nonce = m.Nonce
	}
	return r
}

// Strip returns m without the members that its method does not carry (the
// same members that Decode ignores). Validate refuses a message that still
// has some.
func (m Message) Strip() Message {
	r := ruleFor(m.Method)
	for f := fSeq; f < numFields; f++ {
		if !r.allows(f) {
			clearField(&m, f)
		}
	}
	return m
}

// clearField zeroes the struct field of m that holds member f.
func clearField(m *Message, f field) {
	switch f {
	case fTransactionID:
		m.TransactionID = ""
	case fCustomerOrderID:
		m.CustomerOrderID = ""
	case fProviderOrderID:
		m.ProviderOrderID = ""
	case fNonce:
		m.Nonce = ""
	case fExpectedResponseTime:
		m.ExpectedResponseTime = nil
	case fExpectedOfferTime:
		m.ExpectedOfferTime = nil
	case fValidityOfferTime:
		m.ValidityOfferTime = nil
	case fRequestedCPD, fOfferedCPD, fAcceptedCPD, fCPD:
		*cpdField(m, f) = nil
	case fSubcode:
		m.Subcode = 0
	case fReasons:
		m.Reasons = nil
	case fStatusCode:
		m.StatusCode = 0
	case fActivationSchedule:
		m.ActivationSchedule = nil
	case fInformationElements:
		m.InformationElements = nil
	default:
		// version, method_code and sequence_number are in every message.
	}
}

// has reports whether the struct field of member f is set.
func (m *Message) has(f field) bool {
	switch f {
	case fVersion, fMethod, fSeq:
		return true
	case fTransactionID:
		return m.TransactionID != ""
	case fCustomerOrderID:
		return m.CustomerOrderID != ""
	case fProviderOrderID:
		return m.ProviderOrderID != ""
	case fNonce:
		return m.Nonce != ""
	case fExpectedResponseTime:
		return m.ExpectedResponseTime != nil
	case fExpectedOfferTime:
		return m.ExpectedOfferTime != nil
	case fValidityOfferTime:
		return m.ValidityOfferTime != nil
	case fRequestedCPD, fOfferedCPD, fAcceptedCPD, fCPD:
		return *cpdField(m, f) != nil
	case fSubcode:
		return m.Subcode != 0
	case fReasons:
		return len(m.Reasons) != 0
	case fStatusCode:
		return m.StatusCode != 0
	case fActivationSchedule:
		return m.ActivationSchedule != nil
	case fInformationElements:
		return m.InformationElements != nil
	}
	return false
}

// InformationElements are the CPNP Information Elements (§9.1.10).
type InformationElements struct {
	CustomerDescription *CustomerDescription `json:"customer_description,omitempty"`
	ProviderDescription *ProviderDescription `json:"provider_description,omitempty"`
	NegotiationOptions  *NegotiationOptions  `json:"negotiation_options,omitempty"`
}

// CustomerDescription is §9.1.10.1.
type CustomerDescription struct {
	Name    string   `json:"name,omitempty"`
	Contact *Contact `json:"contact,omitempty"`
}

// ProviderDescription is §9.1.10.2.
type ProviderDescription struct {
	Name     string   `json:"name,omitempty"`
	Contact  *Contact `json:"contact,omitempty"`
	ASNumber uint32   `json:"as_number,omitempty"`
}

// Contact is the Contact Information of §9.1.10.1.
type Contact struct {
	Email            string   `json:"email,omitempty"`
	PostalAddress    string   `json:"postal_address,omitempty"`
	TelephoneNumbers []string `json:"telephone_numbers,omitempty"`
}

// NegotiationOptions is §9.1.10.3 with the members of DESIGN §3.
type NegotiationOptions struct {
	Purpose        Purpose        `json:"purpose,omitempty"`
	ActivationType ActivationType `json:"activation_type,omitempty"`
	Scope          Scope          `json:"scope,omitempty"`
}

// Purpose is the setup purpose (§9.1.10.3).
type Purpose string

// Purposes.
const (
	PurposePermanent Purpose = "permanent"
	PurposeTest      Purpose = "test"
)

// ActivationType is the activation type (§9.1.10.3, §9.2.1). Empty means immediate.
type ActivationType string

// Activation types (DESIGN §3).
const (
	ActivationImmediate ActivationType = "immediate"
	ActivationScheduled ActivationType = "scheduled"
	ActivationExplicit  ActivationType = "explicit"
)

// Scope restricts recursion (§8.8): local forbids child orders.
type Scope string

// Scopes.
const (
	ScopeRecursive Scope = "recursive"
	ScopeLocal     Scope = "local"
)
