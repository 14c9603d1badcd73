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
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// Message is one CPNP operation message (RFC 8921 §9.2). One struct carries
// every attribute of §9.1; which members a method carries is given by its RBNF
// and enforced by Validate. Optional members are pointers or zero values
// (Subcode 0, StatusCode 0, empty Reasons mean "absent").
//
// The JSON mapping is DESIGN §3 and docs/wire.md; Decode and Encode are the
// only supported way to convert to and from bytes.
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
type Schedule struct {
	// Deactivate is true for the special value "0".
	Deactivate bool
	// At is the activation time when Deactivate is false. A time at or before
	// now means "immediately" (DESIGN §3).
	At time.Time
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
