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

// field identifies one member of the JSON mapping (DESIGN §3). The constants
// are in canonical order: Encode writes members in this order, which follows
// the order of every RBNF of §9.2 (activation_schedule, which §9.2.3 allows in
// OFFER only in prose, comes after the CPD as in §9.2.11).
type field uint8

const (
	fVersion field = iota
	fMethod
	fSeq
	fTransactionID
	fCustomerOrderID
	fProviderOrderID
	fNonce
	fExpectedResponseTime
	fExpectedOfferTime
	fValidityOfferTime
	fRequestedCPD
	fOfferedCPD
	fAcceptedCPD
	fCPD
	fSubcode
	fReasons
	fStatusCode
	fActivationSchedule
	fInformationElements
	numFields
)

// JSON member names of a CPNP message (DESIGN §3).
const (
	MemberVersion              = "version"
	MemberMethodCode           = "method_code"
	MemberSequenceNumber       = "sequence_number"
	MemberTransactionID        = "transaction_id"
	MemberCustomerOrderID      = "customer_order_identifier"
	MemberProviderOrderID      = "provider_order_identifier"
	MemberNonce                = "nonce"
	MemberExpectedResponseTime = "expected_response_time"
	MemberExpectedOfferTime    = "expected_offer_time"
	MemberValidityOfferTime    = "validity_offer_time"
	MemberRequestedCPD         = "requested_cpd"
	MemberOfferedCPD           = "offered_cpd"
	MemberAcceptedCPD          = "accepted_cpd"
	MemberCPD                  = "cpd"
	MemberProcessingSubcode    = "processing_subcode"
	MemberReasons              = "reasons"
	MemberStatusCode           = "status_code"
	MemberActivationSchedule   = "activation_schedule"
	MemberInformationElements  = "information_elements"
)

var fieldNames = [numFields]string{
	fVersion:              MemberVersion,
	fMethod:               MemberMethodCode,
	fSeq:                  MemberSequenceNumber,
	fTransactionID:        MemberTransactionID,
	fCustomerOrderID:      MemberCustomerOrderID,
	fProviderOrderID:      MemberProviderOrderID,
	fNonce:                MemberNonce,
	fExpectedResponseTime: MemberExpectedResponseTime,
	fExpectedOfferTime:    MemberExpectedOfferTime,
	fValidityOfferTime:    MemberValidityOfferTime,
	fRequestedCPD:         MemberRequestedCPD,
	fOfferedCPD:           MemberOfferedCPD,
	fAcceptedCPD:          MemberAcceptedCPD,
	fCPD:                  MemberCPD,
	fSubcode:              MemberProcessingSubcode,
	fReasons:              MemberReasons,
	fStatusCode:           MemberStatusCode,
	fActivationSchedule:   MemberActivationSchedule,
	fInformationElements:  MemberInformationElements,
}

var fieldAttributes = [numFields]string{
	fVersion:              "VERSION",
	fMethod:               "METHOD_CODE",
	fSeq:                  "SEQUENCE_NUMBER",
	fTransactionID:        "TRANSACTION_ID",
	fCustomerOrderID:      "CUSTOMER_ORDER_IDENTIFIER",
	fProviderOrderID:      "PROVIDER_ORDER_IDENTIFIER",
	fNonce:                "NONCE",
	fExpectedResponseTime: "EXPECTED_RESPONSE_TIME",
	fExpectedOfferTime:    "EXPECTED_OFFER_TIME",
	fValidityOfferTime:    "VALIDITY_OFFER_TIME",
	fRequestedCPD:         "REQUESTED_CPD",
	fOfferedCPD:           "OFFERED_CPD",
	fAcceptedCPD:          "ACCEPTED_CPD",
	fCPD:                  "CPD",
	fSubcode:              "PROCESSING_SUBCODE",
	fReasons:              "REASON...",
	fStatusCode:           "STATUS_CODE",
	fActivationSchedule:   "ACTIVATION_SCHEDULE",
	fInformationElements:  "INFORMATION_ELEMENT...",
}

// lookupField maps a member name to its field. The match is exact and
// case-sensitive (unlike encoding/json's struct decoding): "Version" is an
// unknown member, and unknown members are ignored.
func lookupField(name []byte) (field, bool) {
	switch string(name) { // no allocation: the compiler special-cases this conversion
	case MemberVersion:
		return fVersion, true
	case MemberMethodCode:
		return fMethod, true
	case MemberSequenceNumber:
		return fSeq, true
	case MemberTransactionID:
		return fTransactionID, true
	case MemberCustomerOrderID:
		return fCustomerOrderID, true
	case MemberProviderOrderID:
		return fProviderOrderID, true
	case MemberNonce:
		return fNonce, true
	case MemberExpectedResponseTime:
		return fExpectedResponseTime, true
	case MemberExpectedOfferTime:
		return fExpectedOfferTime, true
	case MemberValidityOfferTime:
		return fValidityOfferTime, true
	case MemberRequestedCPD:
		return fRequestedCPD, true
	case MemberOfferedCPD:
		return fOfferedCPD, true
	case MemberAcceptedCPD:
		return fAcceptedCPD, true
	case MemberCPD:
		return fCPD, true
	case MemberProcessingSubcode:
		return fSubcode, true
	case MemberReasons:
		return fReasons, true
	case MemberStatusCode:
		return fStatusCode, true
	case MemberActivationSchedule:
		return fActivationSchedule, true
	case MemberInformationElements:
		return fInformationElements, true
	}
	return 0, false
}

// fieldSet is a set of fields.
type fieldSet uint32

func setOf(fs ...field) fieldSet {
	var s fieldSet
	for _, f := range fs {
		s |= 1 << f
	}
	return s
}

func (s fieldSet) has(f field) bool { return s&(1<<f) != 0 }

// rule is the RBNF of one method: which members it must and may carry.
type rule struct {
	mandatory fieldSet
	optional  fieldSet
	// section is the RBNF's section of RFC 8921.
	section string
}

func (r rule) allows(f field) bool { return (r.mandatory | r.optional).has(f) }

// header is what every RBNF of §9.2 starts with.
var header = []field{fVersion, fMethod, fSeq, fTransactionID, fCustomerOrderID}

func mandatory(fs ...field) fieldSet { return setOf(append(append([]field(nil), header...), fs...)...) }

// rules are the RBNFs of §9.2.1–§9.2.11, plus the settled details of DESIGN §3.
var rules = [...]rule{
	// §9.2.1: [EXPECTED_RESPONSE_TIME] REQUESTED_CPD [IE...]. No provider
	// order identifier: the server has not assigned one yet (§9.1.2).
	MethodQuotation: {
		mandatory: mandatory(fRequestedCPD),
		optional:  setOf(fExpectedResponseTime, fInformationElements),
		section:   "§9.2.1",
	},
	// §9.2.2: PROVIDER_ORDER_IDENTIFIER [EXPECTED_OFFER_TIME] [PROCESSING_SUBCODE].
	MethodProcessing: {
		mandatory: mandatory(fProviderOrderID),
		optional:  setOf(fExpectedOfferTime, fSubcode),
		section:   "§9.2.2",
	},
	// §9.2.3: PROVIDER_ORDER_IDENTIFIER NONCE VALIDITY_OFFER_TIME OFFERED_CPD
	// [IE...]; the prose of §9.2.3 adds an optional ACTIVATION_SCHEDULE.
	MethodOffer: {
		mandatory: mandatory(fProviderOrderID, fNonce, fValidityOfferTime, fOfferedCPD),
		optional:  setOf(fActivationSchedule, fInformationElements),
		section:   "§9.2.3",
	},
	// §9.2.4: PROVIDER_ORDER_IDENTIFIER NONCE ACCEPTED_CPD [IE...].
	MethodAccept: {
		mandatory: mandatory(fProviderOrderID, fNonce, fAcceptedCPD),
		optional:  setOf(fInformationElements),
		section:   "§9.2.4",
	},
	// §9.2.5: PROVIDER_ORDER_IDENTIFIER NONCE [REASON...].
	MethodDecline: {
		mandatory: mandatory(fProviderOrderID, fNonce),
		optional:  setOf(fReasons),
		section:   "§9.2.5",
	},
	// §9.2.6: PROVIDER_ORDER_IDENTIFIER [EXPECTED_RESPONSE_TIME] [CPD] [IE...].
	MethodAck: {
		mandatory: mandatory(fProviderOrderID),
		optional:  setOf(fExpectedResponseTime, fCPD, fInformationElements),
		section:   "§9.2.6",
	},
	// §9.2.7: [CPD]. No provider order identifier and no nonce.
	MethodCancel: {
		mandatory: mandatory(),
		optional:  setOf(fCPD),
		section:   "§9.2.7",
	},
	// §9.2.8: PROVIDER_ORDER_IDENTIFIER NONCE [ACCEPTED_CPD] [IE...].
	MethodWithdraw: {
		mandatory: mandatory(fProviderOrderID, fNonce),
		optional:  setOf(fAcceptedCPD, fInformationElements),
		section:   "§9.2.8",
	},
	// §9.2.9: PROVIDER_ORDER_IDENTIFIER NONCE EXPECTED_RESPONSE_TIME REQUESTED_CPD [IE...].
	MethodUpdate: {
		mandatory: mandatory(fProviderOrderID, fNonce, fExpectedResponseTime, fRequestedCPD),
		optional:  setOf(fInformationElements),
		section:   "§9.2.9",
	},
	// §9.2.10: PROVIDER_ORDER_IDENTIFIER STATUS_CODE.
	MethodFail: {
		mandatory: mandatory(fProviderOrderID, fStatusCode),
		section:   "§9.2.10",
	},
	// §9.2.11: PROVIDER_ORDER_IDENTIFIER NONCE ACTIVATION_SCHEDULE [IE...].
	MethodActivate: {
		mandatory: mandatory(fProviderOrderID, fNonce, fActivationSchedule),
		optional:  setOf(fInformationElements),
		section:   "§9.2.11",
	},
}

// ruleFor returns the RBNF of a valid method.
func ruleFor(m Method) rule {
	if !m.Valid() {
		return rule{}
	}
	return rules[m]
}

// MemberRule describes one member that a method carries (RFC 8921 §9.2).
type MemberRule struct {
	// Name is the JSON member name (DESIGN §3), e.g. "requested_cpd".
	Name string
	// Attribute is the RBNF attribute, e.g. "REQUESTED_CPD".
	Attribute string
	// Mandatory is true for members outside square brackets in the RBNF.
	Mandatory bool
}

// Members returns the members that m carries, mandatory and optional, in
// canonical (encoding) order; nil for an unknown method. Members that a
// method does not carry are ignored and stripped by Decode.
func (m Method) Members() []MemberRule {
	if !m.Valid() {
		return nil
	}
	r := rules[m]
	var out []MemberRule
	for f := field(0); f < numFields; f++ {
		if r.allows(f) {
			out = append(out, MemberRule{Name: fieldNames[f], Attribute: fieldAttributes[f], Mandatory: r.mandatory.has(f)})
		}
	}
	return out
}

// Section returns the section of RFC 8921 that defines m's RBNF ("§9.2.1"), or "" for an unknown method.
func (m Method) Section() string { return ruleFor(m).section }

// Carries reports whether messages of method m carry the JSON member name.
func (m Method) Carries(name string) bool {
	f, ok := lookupField([]byte(name))
	return ok && ruleFor(m).allows(f)
}
