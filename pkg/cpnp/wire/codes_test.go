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

import "testing"

// Reference: RFC 8921 §9.2 Table 1, §9.2.2 Table 2, §9.2.5 Table 3, §9.2.10 Table 4.
func TestCodeStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got, want string
	}{
		{MethodQuotation.String(), "QUOTATION"},
		{MethodProcessing.String(), "PROCESSING"},
		{MethodOffer.String(), "OFFER"},
		{MethodAccept.String(), "ACCEPT"},
		{MethodDecline.String(), "DECLINE"},
		{MethodAck.String(), "ACK"},
		{MethodCancel.String(), "CANCEL"},
		{MethodWithdraw.String(), "WITHDRAW"},
		{MethodUpdate.String(), "UPDATE"},
		{MethodFail.String(), "FAIL"},
		{MethodActivate.String(), "ACTIVATE"},
		{Method(12).String(), "Method(12)"},
		{SubcodeUpgradeLocalResources.String(), "Upgrade of local resources"},
		{SubcodeRequestExternalResources.String(), "Request external resources"},
		{Subcode(3).String(), "Subcode(3)"},
		{ReasonUnacceptableGap.String(), "Unacceptable gap between the request and the offer"},
		{ReasonConflictWithOtherOffer.String(), "Conflict with another offer from another server"},
		{ReasonActivationTypeMismatch.String(), "Activation type mismatch"},
		{Reason(0).String(), "Reason(0)"},
		{StatusMessageValidationError.String(), "Message Validation Error"},
		{StatusAuthenticationRequired.String(), "Authentication Required"},
		{StatusAuthorizationFailed.String(), "Authorization Failed"},
		{StatusAdministrativelyProhibited.String(), "Administratively prohibited"},
		{StatusOutOfResources.String(), "Out of Resources"},
		{StatusNetworkPresenceError.String(), "Network Presence Error"},
		{StatusMoreTimeRejected.String(), "More Time Rejected"},
		{StatusUnsupportedActivationType.String(), "Unsupported Activation Type"},
		{StatusCode(9).String(), "StatusCode(9)"},
		{CodeSyntax.String(), "syntax"},
		{CodeTooLarge.String(), "too-large"},
		{CodeBadVersion.String(), "bad-version"},
		{CodeUnknownMethod.String(), "unknown-method"},
		{CodeMissing.String(), "missing"},
		{CodeWrongType.String(), "wrong-type"},
		{CodeOutOfRange.String(), "out-of-range"},
		{CodeInvalid.String(), "invalid"},
		{ValidationCode(0).String(), "ValidationCode(0)"},
		{ValidationCode(9).String(), "ValidationCode(9)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestCodeValid(t *testing.T) {
	t.Parallel()
	for code := -1; code <= 12; code++ {
		if got, want := Method(code).Valid(), code >= 1 && code <= 11; got != want {
			t.Errorf("Method(%d).Valid() = %v, want %v", code, got, want)
		}
		if got, want := Subcode(code).Valid(), code >= 1 && code <= 2; got != want {
			t.Errorf("Subcode(%d).Valid() = %v, want %v", code, got, want)
		}
		if got, want := Reason(code).Valid(), code >= 1 && code <= 3; got != want {
			t.Errorf("Reason(%d).Valid() = %v, want %v", code, got, want)
		}
		if got, want := StatusCode(code).Valid(), code >= 1 && code <= 8; got != want {
			t.Errorf("StatusCode(%d).Valid() = %v, want %v", code, got, want)
		}
	}
	if len(Methods) != 11 {
		t.Errorf("len(Methods) = %d, want 11", len(Methods))
	}
	for i, m := range Methods {
		if int(m) != i+1 {
			t.Errorf("Methods[%d] = %d, want %d", i, m, i+1)
		}
	}
}

func TestParseMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Method
		ok   bool
	}{
		{"QUOTATION", MethodQuotation, true},
		{"quotation", MethodQuotation, true},
		{"Ack", MethodAck, true},
		{"activate", MethodActivate, true},
		{"1", MethodQuotation, true},
		{"11", MethodActivate, true},
		{"12", 0, false},
		{"0", 0, false},
		{"", 0, false},
		{"QUOTE", 0, false},
		{"quotation ", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseMethod(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseMethod(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// Reference: RFC 8921 §9.1.10.3; DESIGN §3 (negotiation_options).
func TestEnumsValid(t *testing.T) {
	t.Parallel()
	for _, p := range []Purpose{"", PurposePermanent, PurposeTest} {
		if !p.Valid() {
			t.Errorf("Purpose(%q).Valid() = false, want true", p)
		}
	}
	for _, a := range []ActivationType{"", ActivationImmediate, ActivationScheduled, ActivationExplicit} {
		if !a.Valid() {
			t.Errorf("ActivationType(%q).Valid() = false, want true", a)
		}
	}
	for _, s := range []Scope{"", ScopeRecursive, ScopeLocal} {
		if !s.Valid() {
			t.Errorf("Scope(%q).Valid() = false, want true", s)
		}
	}
	if Purpose("Permanent").Valid() || ActivationType("permanent").Valid() || Scope("global").Valid() {
		t.Error("an unknown enumeration value is valid, want invalid")
	}
}
