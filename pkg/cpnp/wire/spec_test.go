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
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMembers pins the RBNF of every method: the members each method
// carries and which are mandatory.
func TestMembers(t *testing.T) {
	t.Parallel()
	header := []MemberRule{
		{"version", "VERSION", true},
		{"method_code", "METHOD_CODE", true},
		{"sequence_number", "SEQUENCE_NUMBER", true},
		{"transaction_id", "TRANSACTION_ID", true},
		{"customer_order_identifier", "CUSTOMER_ORDER_IDENTIFIER", true},
	}
	with := func(rs ...MemberRule) []MemberRule { return append(append([]MemberRule(nil), header...), rs...) }
	var (
		prov     = MemberRule{"provider_order_identifier", "PROVIDER_ORDER_IDENTIFIER", true}
		nonce    = MemberRule{"nonce", "NONCE", true}
		ies      = MemberRule{"information_elements", "INFORMATION_ELEMENT...", false}
		ertOpt   = MemberRule{"expected_response_time", "EXPECTED_RESPONSE_TIME", false}
		cpdOpt   = MemberRule{"cpd", "CPD", false}
		schedOpt = MemberRule{"activation_schedule", "ACTIVATION_SCHEDULE", false}
	)
	tests := map[Method][]MemberRule{
		// Reference: RFC 8921 §9.2.1.
		MethodQuotation: with(ertOpt, MemberRule{"requested_cpd", "REQUESTED_CPD", true}, ies),
		// Reference: RFC 8921 §9.2.2.
		MethodProcessing: with(prov, MemberRule{"expected_offer_time", "EXPECTED_OFFER_TIME", false},
			MemberRule{"processing_subcode", "PROCESSING_SUBCODE", false}),
		// Reference: RFC 8921 §9.2.3 (RBNF, and ACTIVATION_SCHEDULE from its prose).
		MethodOffer: with(prov, nonce, MemberRule{"validity_offer_time", "VALIDITY_OFFER_TIME", true},
			MemberRule{"offered_cpd", "OFFERED_CPD", true}, schedOpt, ies),
		// Reference: RFC 8921 §9.2.4.
		MethodAccept: with(prov, nonce, MemberRule{"accepted_cpd", "ACCEPTED_CPD", true}, ies),
		// Reference: RFC 8921 §9.2.5.
		MethodDecline: with(prov, nonce, MemberRule{"reasons", "REASON...", false}),
		// Reference: RFC 8921 §9.2.6.
		MethodAck: with(prov, ertOpt, cpdOpt, ies),
		// Reference: RFC 8921 §9.2.7.
		MethodCancel: with(cpdOpt),
		// Reference: RFC 8921 §9.2.8.
		MethodWithdraw: with(prov, nonce, MemberRule{"accepted_cpd", "ACCEPTED_CPD", false}, ies),
		// Reference: RFC 8921 §9.2.9.
		MethodUpdate: with(prov, nonce, MemberRule{"expected_response_time", "EXPECTED_RESPONSE_TIME", true},
			MemberRule{"requested_cpd", "REQUESTED_CPD", true}, ies),
		// Reference: RFC 8921 §9.2.10.
		MethodFail: with(prov, MemberRule{"status_code", "STATUS_CODE", true}),
		// Reference: RFC 8921 §9.2.11.
		MethodActivate: with(prov, nonce, MemberRule{"activation_schedule", "ACTIVATION_SCHEDULE", true}, ies),
	}
	if len(tests) != len(Methods) {
		t.Fatalf("test covers %d methods, want %d", len(tests), len(Methods))
	}
	for m, want := range tests {
		if diff := cmp.Diff(want, m.Members()); diff != "" {
			t.Errorf("%v.Members() mismatch (-want +got):\n%s", m, diff)
		}
	}
	if got := Method(0).Members(); got != nil {
		t.Errorf("Method(0).Members() = %v, want nil", got)
	}
}

func TestCarriesAndSection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method Method
		member string
		want   bool
	}{
		{MethodCancel, "provider_order_identifier", false}, // §9.2.7
		{MethodCancel, "nonce", false},                     // §9.2.7
		{MethodCancel, "cpd", true},                        // §9.2.7
		{MethodOffer, "activation_schedule", true},         // §9.2.3 prose
		{MethodAck, "expected_response_time", true},        // §9.2.6
		{MethodQuotation, "provider_order_identifier", false},
		{MethodQuotation, "version", true},
		{MethodQuotation, "no_such_member", false},
		{Method(12), "version", false},
	}
	for _, tt := range tests {
		if got := tt.method.Carries(tt.member); got != tt.want {
			t.Errorf("%v.Carries(%q) = %v, want %v", tt.method, tt.member, got, tt.want)
		}
	}
	for i, m := range Methods {
		if got, want := m.Section(), "§9.2."+string(rune('1'+i)); i < 9 && got != want {
			t.Errorf("%v.Section() = %q, want %q", m, got, want)
		}
	}
	if got := MethodActivate.Section(); got != "§9.2.11" {
		t.Errorf("ACTIVATE.Section() = %q, want §9.2.11", got)
	}
	if got := Method(0).Section(); got != "" {
		t.Errorf("Method(0).Section() = %q, want empty", got)
	}
}
