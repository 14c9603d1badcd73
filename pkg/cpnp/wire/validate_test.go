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
	"strings"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// Reference: RFC 8921 §9.2.1–§9.2.11.
func TestValidateExamples(t *testing.T) {
	t.Parallel()
	for _, m := range Methods {
		if err := Example(m).Validate(); err != nil {
			t.Errorf("Example(%v).Validate() = %v, want nil", m, err)
		}
	}
	if got := Example(Method(12)); !got.isZero() {
		t.Errorf("Example(12) = %v, want the zero Message", got)
	}
}

// TestExampleNegotiation: the examples form one consistent negotiation
// (Figure 6), so other packages can use them as fixtures, and each fits one
// datagram, so that they can be sent with a generic DTLS client.
// Reference: RFC 8921 §8.7 (Figure 6), §9.2.4 (ACCEPT copies the OFFER),
// §9.2.6 and DESIGN §3 (the ACK after ACCEPT carries the offered CPD).
func TestExampleNegotiation(t *testing.T) {
	t.Parallel()
	quote, offer, accept, ack := Example(MethodQuotation), Example(MethodOffer), Example(MethodAccept), Example(MethodAck)
	if !cpd.Equal(*offer.OfferedCPD, *accept.AcceptedCPD) || !cpd.Equal(*offer.OfferedCPD, *ack.CPD) {
		t.Error("the ACCEPT and ACK examples do not carry the offered CPD")
	}
	if mismatches := cpd.Satisfies(*offer.OfferedCPD, *quote.RequestedCPD); len(mismatches) != 0 {
		t.Errorf("the offer does not satisfy the request: %v", mismatches)
	}
	if !offer.OfferedCPD.Concrete() {
		t.Error("the offered CPD is not concrete (§8.7: an agreement is concrete)")
	}
	for _, m := range []Method{MethodProcessing, MethodOffer, MethodAccept, MethodDecline, MethodAck, MethodCancel, MethodFail} {
		got := Example(m)
		if got.TransactionID != quote.TransactionID || got.CustomerOrderID != quote.CustomerOrderID {
			t.Errorf("%v example is not in the QUOTATION's transaction", m)
		}
	}
	for _, m := range []Method{MethodWithdraw, MethodUpdate, MethodActivate} {
		if got := Example(m); got.TransactionID == quote.TransactionID || got.Nonce != offer.Nonce {
			t.Errorf("%v example: want a new transaction and the offer's nonce (§9.2.8, §9.2.9, §9.2.11)", m)
		}
	}
	for _, m := range Methods {
		if n := len(mustEncode(t, Example(m))); n > DefaultDatagramLimit {
			t.Errorf("%v example is %d bytes, more than one %d-byte datagram", m, n, DefaultDatagramLimit)
		}
	}
}

// TestValidate checks the struct-level rules that mirror Decode.
// Reference: RFC 8921 §9.1, §9.2, Tables 1–4; DESIGN §3.
func TestValidate(t *testing.T) {
	t.Parallel()
	year10000 := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	badCPD := cpd.CPD{Components: []cpd.Component{{}}} // no customer nodes (RFC 7297 §3.1)
	tests := []struct {
		name   string
		method Method
		mutate func(*Message)
		want   verdict
	}{
		{"version 0", MethodCancel, func(m *Message) { m.Version = 0 }, verdict{"version", CodeBadVersion}},
		{"version 2", MethodCancel, func(m *Message) { m.Version = 2 }, verdict{"version", CodeBadVersion}},
		{"method 0", MethodCancel, func(m *Message) { m.Method = 0 }, verdict{"method_code", CodeUnknownMethod}},
		{"method 12", MethodCancel, func(m *Message) { m.Method = 12 }, verdict{"method_code", CodeUnknownMethod}},
		{"transaction ID short", MethodCancel, func(m *Message) { m.TransactionID = "t1" }, verdict{"transaction_id", CodeInvalid}},
		{"nonce not hex", MethodAccept, func(m *Message) { m.Nonce = strings.Repeat("z", 32) }, verdict{"nonce", CodeInvalid}},
		{"customer ID too long", MethodCancel, func(m *Message) { m.CustomerOrderID = strings.Repeat("c", 129) }, verdict{"customer_order_identifier", CodeOutOfRange}},
		{"customer ID invalid UTF-8", MethodCancel, func(m *Message) { m.CustomerOrderID = "\xff" }, verdict{"customer_order_identifier", CodeInvalid}},
		{"provider ID too long", MethodFail, func(m *Message) { m.ProviderOrderID = strings.Repeat("p", 129) }, verdict{"provider_order_identifier", CodeOutOfRange}},
		{"time not writable", MethodQuotation, func(m *Message) { m.ExpectedResponseTime = &year10000 }, verdict{"expected_response_time", CodeOutOfRange}},
		{"offer time not writable", MethodProcessing, func(m *Message) { m.ExpectedOfferTime = &year10000 }, verdict{"expected_offer_time", CodeOutOfRange}},
		{"validity not writable", MethodOffer, func(m *Message) { m.ValidityOfferTime = &year10000 }, verdict{"validity_offer_time", CodeOutOfRange}},
		{"requested CPD empty", MethodQuotation, func(m *Message) { m.RequestedCPD = &cpd.CPD{} }, verdict{"requested_cpd.components", CodeInvalid}},
		{"offered CPD empty", MethodOffer, func(m *Message) { m.OfferedCPD = &cpd.CPD{} }, verdict{"offered_cpd.components", CodeInvalid}},
		{"requested CPD invalid", MethodUpdate, func(m *Message) { m.RequestedCPD = &badCPD }, verdict{"requested_cpd.components[0].customer_nodes", CodeMissing}},
		{"ACK CPD invalid", MethodAck, func(m *Message) { m.CPD = &badCPD }, verdict{"cpd.components[0].customer_nodes", CodeMissing}},
		{"subcode 3", MethodProcessing, func(m *Message) { m.Subcode = 3 }, verdict{"processing_subcode", CodeOutOfRange}},
		{"status 9", MethodFail, func(m *Message) { m.StatusCode = 9 }, verdict{"status_code", CodeOutOfRange}},
		{"status negative", MethodFail, func(m *Message) { m.StatusCode = -1 }, verdict{"status_code", CodeOutOfRange}},
		{"reason 4", MethodDecline, func(m *Message) { m.Reasons = []Reason{1, 4} }, verdict{"reasons[1]", CodeOutOfRange}},
		{"reason repeated", MethodDecline, func(m *Message) { m.Reasons = []Reason{3, 3} }, verdict{"reasons[1]", CodeInvalid}},
		{"four reasons", MethodDecline, func(m *Message) { m.Reasons = []Reason{1, 2, 3, 1} }, verdict{"reasons", CodeOutOfRange}},
		{"deactivation with a time", MethodActivate, func(m *Message) {
			m.ActivationSchedule = &Schedule{Deactivate: true, At: exampleTime}
		}, verdict{"activation_schedule", CodeInvalid}},
		{"schedule not writable", MethodActivate, func(m *Message) { m.ActivationSchedule = &Schedule{At: year10000} }, verdict{"activation_schedule", CodeOutOfRange}},
		{"purpose unknown", MethodQuotation, func(m *Message) {
			m.InformationElements = &InformationElements{NegotiationOptions: &NegotiationOptions{Purpose: "forever"}}
		}, verdict{"information_elements.negotiation_options.purpose", CodeOutOfRange}},
		{"activation type unknown", MethodQuotation, func(m *Message) {
			m.InformationElements = &InformationElements{NegotiationOptions: &NegotiationOptions{ActivationType: "later"}}
		}, verdict{"information_elements.negotiation_options.activation_type", CodeOutOfRange}},
		{"scope unknown", MethodQuotation, func(m *Message) {
			m.InformationElements = &InformationElements{NegotiationOptions: &NegotiationOptions{Scope: "world"}}
		}, verdict{"information_elements.negotiation_options.scope", CodeOutOfRange}},
		{"customer name invalid UTF-8", MethodQuotation, func(m *Message) {
			m.InformationElements = &InformationElements{CustomerDescription: &CustomerDescription{Name: "\xc3"}}
		}, verdict{"information_elements.customer_description.name", CodeInvalid}},
		{"customer email invalid UTF-8", MethodQuotation, func(m *Message) {
			m.InformationElements = &InformationElements{CustomerDescription: &CustomerDescription{Contact: &Contact{Email: "\xc3"}}}
		}, verdict{"information_elements.customer_description.contact.email", CodeInvalid}},
		{"provider postal address invalid UTF-8", MethodOffer, func(m *Message) {
			m.InformationElements = &InformationElements{ProviderDescription: &ProviderDescription{Contact: &Contact{PostalAddress: "\xc3"}}}
		}, verdict{"information_elements.provider_description.contact.postal_address", CodeInvalid}},
		{"provider name invalid UTF-8", MethodOffer, func(m *Message) {
			m.InformationElements = &InformationElements{ProviderDescription: &ProviderDescription{Name: "\xc3"}}
		}, verdict{"information_elements.provider_description.name", CodeInvalid}},
		{"telephone number invalid UTF-8", MethodOffer, func(m *Message) {
			m.InformationElements = &InformationElements{ProviderDescription: &ProviderDescription{Contact: &Contact{TelephoneNumbers: []string{"1", "\xc3"}}}}
		}, verdict{"information_elements.provider_description.contact.telephone_numbers", CodeInvalid}},
		{"empty IEs are fine", MethodAck, func(m *Message) { m.InformationElements = &InformationElements{} }, verdict{}},
		{"empty reasons mean absent", MethodDecline, func(m *Message) { m.Reasons = []Reason{} }, verdict{}},
		{"three reasons", MethodDecline, func(m *Message) { m.Reasons = []Reason{3, 1, 2} }, verdict{}},
		{"Empty CPD in CANCEL", MethodCancel, func(m *Message) { e := cpd.Empty(); m.CPD = &e }, verdict{}},
		{"seq 0", MethodCancel, func(m *Message) { m.Seq = 0 }, verdict{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := Example(tt.method)
			tt.mutate(&m)
			err := m.Validate()
			if got := verdictOf(t, err); got != tt.want {
				t.Errorf("Validate: got %+v (%v), want %+v", got, err, tt.want)
			}
		})
	}
}

// TestValidateMembers clears each mandatory member and sets each member the
// method does not carry, for every method.
// Reference: RFC 8921 §9.2.1–§9.2.11.
func TestValidateMembers(t *testing.T) {
	t.Parallel()
	full := fullMessage()
	for _, m := range Methods {
		r := rules[m]
		for f := fTransactionID; f < numFields; f++ {
			name := fieldNames[f]
			switch {
			case r.mandatory.has(f):
				t.Run(m.String()+"/missing "+name, func(t *testing.T) {
					t.Parallel()
					msg := Example(m)
					clearField(&msg, f)
					want := verdict{name, CodeMissing}
					if got := verdictOf(t, msg.Validate()); got != want {
						t.Errorf("got %+v, want %+v", got, want)
					}
				})
			case !r.allows(f):
				t.Run(m.String()+"/foreign "+name, func(t *testing.T) {
					t.Parallel()
					msg := Example(m)
					copyField(&msg, full, f)
					want := verdict{name, CodeInvalid}
					err := msg.Validate()
					if got := verdictOf(t, err); got != want {
						t.Fatalf("got %+v (%v), want %+v", got, err, want)
					}
					if err := msg.Strip().Validate(); err != nil {
						t.Errorf("Strip().Validate() = %v, want nil", err)
					}
				})
			}
		}
	}
}

// fullMessage has every member set to a valid value.
func fullMessage() Message {
	m := Example(MethodOffer)
	m.ExpectedResponseTime = at(time.Hour)
	m.ExpectedOfferTime = at(time.Hour)
	m.RequestedCPD = sample()
	m.AcceptedCPD = sampleConcrete()
	m.CPD = sampleConcrete()
	m.Subcode = SubcodeRequestExternalResources
	m.Reasons = []Reason{ReasonActivationTypeMismatch}
	m.StatusCode = StatusAuthorizationFailed
	s := ScheduleDeactivate()
	m.ActivationSchedule = &s
	return m
}

// copyField copies member f from src to dst.
func copyField(dst *Message, src Message, f field) {
	tmp := src
	for g := fTransactionID; g < numFields; g++ {
		if g != f {
			clearField(&tmp, g)
		}
	}
	switch f {
	case fTransactionID:
		dst.TransactionID = tmp.TransactionID
	case fCustomerOrderID:
		dst.CustomerOrderID = tmp.CustomerOrderID
	case fProviderOrderID:
		dst.ProviderOrderID = tmp.ProviderOrderID
	case fNonce:
		dst.Nonce = tmp.Nonce
	case fExpectedResponseTime:
		dst.ExpectedResponseTime = tmp.ExpectedResponseTime
	case fExpectedOfferTime:
		dst.ExpectedOfferTime = tmp.ExpectedOfferTime
	case fValidityOfferTime:
		dst.ValidityOfferTime = tmp.ValidityOfferTime
	case fRequestedCPD, fOfferedCPD, fAcceptedCPD, fCPD:
		*cpdField(dst, f) = *cpdField(&tmp, f)
	case fSubcode:
		dst.Subcode = tmp.Subcode
	case fReasons:
		dst.Reasons = tmp.Reasons
	case fStatusCode:
		dst.StatusCode = tmp.StatusCode
	case fActivationSchedule:
		dst.ActivationSchedule = tmp.ActivationSchedule
	case fInformationElements:
		dst.InformationElements = tmp.InformationElements
	}
}
