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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Reference: RFC 8921 §9.2.1–§9.2.11 (one example per RBNF), DESIGN §3.
func TestDecodeExamples(t *testing.T) {
	t.Parallel()
	for _, m := range Methods {
		t.Run(m.String(), func(t *testing.T) {
			t.Parallel()
			want := Example(m)
			got, err := Decode(mustEncode(t, want))
			if err != nil {
				t.Fatalf("Decode: got error %v, want nil", err)
			}
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				t.Errorf("Decode(Encode(Example)) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeErrors checks that every kind of structural error gets its own
// code and names the offending member.
// Reference: RFC 8921 §9.1, §9.2, §10; DESIGN §3 (JSON mapping).
func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	long := `"` + strings.Repeat("x", MaxIdentifierLength+1) + `"`
	tests := []struct {
		name  string
		input []byte
		want  verdict
	}{
		// Whole-message errors.
		{"empty input", []byte(""), verdict{"", CodeSyntax}},
		{"whitespace only", []byte(" \n"), verdict{"", CodeSyntax}},
		{"truncated object", []byte(`{"version":1,`), verdict{"", CodeSyntax}},
		{"array instead of object", []byte(`[1,2]`), verdict{"", CodeSyntax}},
		{"string instead of object", []byte(`"QUOTATION"`), verdict{"", CodeSyntax}},
		{"trailing garbage", append(edit(t, MethodCancel, nil), 'x'), verdict{"", CodeSyntax}},
		{"two objects", append(edit(t, MethodCancel, nil), edit(t, MethodCancel, nil)...), verdict{"", CodeSyntax}},
		{"invalid UTF-8", []byte("{\"version\":1,\"x\":\"\xff\"}"), verdict{"", CodeSyntax}},
		{"byte order mark", append([]byte("\xef\xbb\xbf"), edit(t, MethodCancel, nil)...), verdict{"", CodeSyntax}},
		{"duplicate member", []byte(`{"version":1,"version":1}`), verdict{"version", CodeSyntax}},
		{"duplicate member spelled with an escape", []byte(`{"nonce":"a","\u006eonce":"b"}`), verdict{"nonce", CodeSyntax}},

		// VERSION (§9.2).
		{"version missing", edit(t, MethodCancel, nil, "version"), verdict{"version", CodeMissing}},
		{"version 2", edit(t, MethodCancel, map[string]string{"version": "2"}), verdict{"version", CodeBadVersion}},
		{"version 0", edit(t, MethodCancel, map[string]string{"version": "0"}), verdict{"version", CodeBadVersion}},
		{"version negative", edit(t, MethodCancel, map[string]string{"version": "-1"}), verdict{"version", CodeBadVersion}},
		{"version huge", edit(t, MethodCancel, map[string]string{"version": "123456789012345678901234567890"}), verdict{"version", CodeBadVersion}},
		{"version string", edit(t, MethodCancel, map[string]string{"version": `"1"`}), verdict{"version", CodeWrongType}},
		{"version fraction", edit(t, MethodCancel, map[string]string{"version": "1.0"}), verdict{"version", CodeWrongType}},
		{"version null", edit(t, MethodCancel, map[string]string{"version": "null"}), verdict{"version", CodeWrongType}},
		{"version 2 before missing method", edit(t, MethodCancel, map[string]string{"version": "2"}, "method_code"), verdict{"version", CodeBadVersion}},

		// METHOD_CODE (§9.2, Table 1).
		{"method missing", edit(t, MethodCancel, nil, "method_code"), verdict{"method_code", CodeMissing}},
		{"method 12", edit(t, MethodCancel, map[string]string{"method_code": "12"}), verdict{"method_code", CodeUnknownMethod}},
		{"method 0", edit(t, MethodCancel, map[string]string{"method_code": "0"}), verdict{"method_code", CodeUnknownMethod}},
		{"method negative", edit(t, MethodCancel, map[string]string{"method_code": "-7"}), verdict{"method_code", CodeUnknownMethod}},
		{"method huge", edit(t, MethodCancel, map[string]string{"method_code": "99999999999"}), verdict{"method_code", CodeUnknownMethod}},
		{"method string", edit(t, MethodCancel, map[string]string{"method_code": `"CANCEL"`}), verdict{"method_code", CodeWrongType}},
		{"method exponent", edit(t, MethodCancel, map[string]string{"method_code": "7e0"}), verdict{"method_code", CodeWrongType}},

		// SEQUENCE_NUMBER (§9.1.4): integer 0..2^32-1.
		{"seq missing", edit(t, MethodCancel, nil, "sequence_number"), verdict{"sequence_number", CodeMissing}},
		{"seq fraction", edit(t, MethodCancel, map[string]string{"sequence_number": "1.5"}), verdict{"sequence_number", CodeWrongType}},
		{"seq negative", edit(t, MethodCancel, map[string]string{"sequence_number": "-1"}), verdict{"sequence_number", CodeOutOfRange}},
		{"seq 2^32", edit(t, MethodCancel, map[string]string{"sequence_number": "4294967296"}), verdict{"sequence_number", CodeOutOfRange}},
		{"seq 2^64", edit(t, MethodCancel, map[string]string{"sequence_number": "18446744073709551616"}), verdict{"sequence_number", CodeOutOfRange}},
		{"seq string", edit(t, MethodCancel, map[string]string{"sequence_number": `"7"`}), verdict{"sequence_number", CodeWrongType}},
		{"seq boolean", edit(t, MethodCancel, map[string]string{"sequence_number": `true`}), verdict{"sequence_number", CodeWrongType}},

		// TRANSACTION_ID and NONCE (§8.4, §9.1.5): >= 128 bits of hex.
		{"txn missing", edit(t, MethodCancel, nil, "transaction_id"), verdict{"transaction_id", CodeMissing}},
		{"txn too short", edit(t, MethodCancel, map[string]string{"transaction_id": `"0123456789abcdef"`}), verdict{"transaction_id", CodeInvalid}},
		{"txn too long", edit(t, MethodCancel, map[string]string{"transaction_id": `"` + strings.Repeat("a", MaxHexDigits+1) + `"`}), verdict{"transaction_id", CodeInvalid}},
		{"txn not hex", edit(t, MethodCancel, map[string]string{"transaction_id": `"0123456789abcdef0123456789abcdeg"`}), verdict{"transaction_id", CodeInvalid}},
		{"txn number", edit(t, MethodCancel, map[string]string{"transaction_id": `12345678901234567890123456789012`}), verdict{"transaction_id", CodeWrongType}},
		{"nonce missing", edit(t, MethodAccept, nil, "nonce"), verdict{"nonce", CodeMissing}},
		{"nonce not hex", edit(t, MethodAccept, map[string]string{"nonce": `"not a nonce, definitely not hex!!"`}), verdict{"nonce", CodeInvalid}},
		{"nonce object", edit(t, MethodAccept, map[string]string{"nonce": `{}`}), verdict{"nonce", CodeWrongType}},

		// CUSTOMER/PROVIDER_ORDER_IDENTIFIER (§9.1.1, §9.1.2): 1..128 characters.
		{"customer id missing", edit(t, MethodCancel, nil, "customer_order_identifier"), verdict{"customer_order_identifier", CodeMissing}},
		{"customer id empty", edit(t, MethodCancel, map[string]string{"customer_order_identifier": `""`}), verdict{"customer_order_identifier", CodeOutOfRange}},
		{"customer id too long", edit(t, MethodCancel, map[string]string{"customer_order_identifier": long}), verdict{"customer_order_identifier", CodeOutOfRange}},
		{"customer id number", edit(t, MethodCancel, map[string]string{"customer_order_identifier": `7`}), verdict{"customer_order_identifier", CodeWrongType}},
		{"provider id missing", edit(t, MethodFail, nil, "provider_order_identifier"), verdict{"provider_order_identifier", CodeMissing}},
		{"provider id too long", edit(t, MethodFail, map[string]string{"provider_order_identifier": long}), verdict{"provider_order_identifier", CodeOutOfRange}},
		{"provider id array", edit(t, MethodFail, map[string]string{"provider_order_identifier": `["a"]`}), verdict{"provider_order_identifier", CodeWrongType}},

		// Timestamps (§9.1.6–§9.1.8): RFC 3339.
		{"response time not RFC 3339", edit(t, MethodQuotation, map[string]string{"expected_response_time": `"21/11/2026 22:24"`}), verdict{"expected_response_time", CodeInvalid}},
		{"response time without zone", edit(t, MethodQuotation, map[string]string{"expected_response_time": `"2026-11-21T22:24:25"`}), verdict{"expected_response_time", CodeInvalid}},
		{"response time number", edit(t, MethodQuotation, map[string]string{"expected_response_time": `1795000000`}), verdict{"expected_response_time", CodeWrongType}},
		{"offer time invalid date", edit(t, MethodProcessing, map[string]string{"expected_offer_time": `"2026-02-30T00:00:00Z"`}), verdict{"expected_offer_time", CodeInvalid}},
		{"validity missing", edit(t, MethodOffer, nil, "validity_offer_time"), verdict{"validity_offer_time", CodeMissing}},
		{"validity before year 0 in UTC", edit(t, MethodOffer, map[string]string{"validity_offer_time": `"0000-01-01T00:00:00+01:00"`}), verdict{"validity_offer_time", CodeOutOfRange}},
		{"update response time missing", edit(t, MethodUpdate, nil, "expected_response_time"), verdict{"expected_response_time", CodeMissing}},

		// CPD members (§9.1.9.1, §8.7).
		{"requested CPD missing", edit(t, MethodQuotation, nil, "requested_cpd"), verdict{"requested_cpd", CodeMissing}},
		{"requested CPD string", edit(t, MethodQuotation, map[string]string{"requested_cpd": `"gold"`}), verdict{"requested_cpd", CodeWrongType}},
		{"requested CPD empty", edit(t, MethodQuotation, map[string]string{"requested_cpd": `{"components":[]}`}), verdict{"requested_cpd.components", CodeInvalid}},
		{"offered CPD empty", edit(t, MethodOffer, map[string]string{"offered_cpd": `{"components":[]}`}), verdict{"offered_cpd.components", CodeInvalid}},
		{"accepted CPD empty", edit(t, MethodAccept, map[string]string{"accepted_cpd": `{"components":[]}`}), verdict{"accepted_cpd.components", CodeInvalid}},
		{"withdraw accepted CPD empty", edit(t, MethodWithdraw, map[string]string{"accepted_cpd": `{"components":[]}`}), verdict{"accepted_cpd.components", CodeInvalid}},
		{"CPD components missing", edit(t, MethodAck, map[string]string{"cpd": `{}`}), verdict{"cpd.components", CodeMissing}},
		{"CPD member wrong type", edit(t, MethodCancel, map[string]string{"cpd": `{"components":"none"}`}), verdict{"cpd.components", CodeWrongType}},
		{"CPD value out of range", edit(t, MethodOffer, map[string]string{"offered_cpd": `{"components":[{"customer_nodes":[{"identifier":"a"}],"qos":{"loss_ratio":2}}]}`}), verdict{"offered_cpd.components[0].qos.loss_ratio", CodeOutOfRange}},
		{"CPD customer nodes missing", edit(t, MethodAccept, map[string]string{"accepted_cpd": `{"components":[{"qos":{"class":"gold"}}]}`}), verdict{"accepted_cpd.components[0].customer_nodes", CodeMissing}},
		{"CPD QoS conflict", edit(t, MethodUpdate, map[string]string{"requested_cpd": `{"components":[{"customer_nodes":[{"identifier":"a"}],"qos":{"class":"gold","loss_ratio":0.1}}]}`}), verdict{"requested_cpd.components[0].qos", CodeInvalid}},

		// PROCESSING_SUBCODE (Table 2), STATUS_CODE (Table 4).
		{"subcode 0", edit(t, MethodProcessing, map[string]string{"processing_subcode": "0"}), verdict{"processing_subcode", CodeOutOfRange}},
		{"subcode 3", edit(t, MethodProcessing, map[string]string{"processing_subcode": "3"}), verdict{"processing_subcode", CodeOutOfRange}},
		{"subcode negative", edit(t, MethodProcessing, map[string]string{"processing_subcode": "-1"}), verdict{"processing_subcode", CodeOutOfRange}},
		{"subcode string", edit(t, MethodProcessing, map[string]string{"processing_subcode": `"1"`}), verdict{"processing_subcode", CodeWrongType}},
		{"status missing", edit(t, MethodFail, nil, "status_code"), verdict{"status_code", CodeMissing}},
		{"status 9", edit(t, MethodFail, map[string]string{"status_code": "9"}), verdict{"status_code", CodeOutOfRange}},
		{"status 0", edit(t, MethodFail, map[string]string{"status_code": "0"}), verdict{"status_code", CodeOutOfRange}},
		{"status fraction", edit(t, MethodFail, map[string]string{"status_code": "5.5"}), verdict{"status_code", CodeWrongType}},

		// REASON... (§9.2.5, Table 3).
		{"reasons empty", edit(t, MethodDecline, map[string]string{"reasons": `[]`}), verdict{"reasons", CodeOutOfRange}},
		{"reasons too many", edit(t, MethodDecline, map[string]string{"reasons": `[1,2,3,1]`}), verdict{"reasons", CodeOutOfRange}},
		{"reason unknown", edit(t, MethodDecline, map[string]string{"reasons": `[1,4]`}), verdict{"reasons[1]", CodeOutOfRange}},
		{"reason repeated", edit(t, MethodDecline, map[string]string{"reasons": `[2,2]`}), verdict{"reasons[1]", CodeInvalid}},
		{"reason string", edit(t, MethodDecline, map[string]string{"reasons": `["1"]`}), verdict{"reasons[0]", CodeWrongType}},
		{"reasons not array", edit(t, MethodDecline, map[string]string{"reasons": `1`}), verdict{"reasons", CodeWrongType}},

		// ACTIVATION_SCHEDULE (§9.2.11).
		{"schedule missing", edit(t, MethodActivate, nil, "activation_schedule"), verdict{"activation_schedule", CodeMissing}},
		{"schedule number 0", edit(t, MethodActivate, map[string]string{"activation_schedule": `0`}), verdict{"activation_schedule", CodeWrongType}},
		{"schedule word", edit(t, MethodActivate, map[string]string{"activation_schedule": `"now"`}), verdict{"activation_schedule", CodeInvalid}},
		{"offer schedule invalid", edit(t, MethodOffer, map[string]string{"activation_schedule": `"00"`}), verdict{"activation_schedule", CodeInvalid}},

		// INFORMATION_ELEMENT... (§9.1.10).
		{"IEs array", edit(t, MethodQuotation, map[string]string{"information_elements": `[]`}), verdict{"information_elements", CodeWrongType}},
		{"customer description string", edit(t, MethodQuotation, map[string]string{"information_elements": `{"customer_description":"ACME"}`}), verdict{"information_elements.customer_description", CodeWrongType}},
		{"customer name number", edit(t, MethodQuotation, map[string]string{"information_elements": `{"customer_description":{"name":1}}`}), verdict{"information_elements.customer_description.name", CodeWrongType}},
		{"contact email number", edit(t, MethodQuotation, map[string]string{"information_elements": `{"customer_description":{"contact":{"email":1}}}`}), verdict{"information_elements.customer_description.contact.email", CodeWrongType}},
		{"contact postal address null", edit(t, MethodQuotation, map[string]string{"information_elements": `{"customer_description":{"contact":{"postal_address":null}}}`}), verdict{"information_elements.customer_description.contact.postal_address", CodeWrongType}},
		{"telephone numbers string", edit(t, MethodQuotation, map[string]string{"information_elements": `{"customer_description":{"contact":{"telephone_numbers":"+33"}}}`}), verdict{"information_elements.customer_description.contact.telephone_numbers", CodeWrongType}},
		{"telephone number number", edit(t, MethodQuotation, map[string]string{"information_elements": `{"customer_description":{"contact":{"telephone_numbers":["+33",33]}}}`}), verdict{"information_elements.customer_description.contact.telephone_numbers[1]", CodeWrongType}},
		{"contact repeated", edit(t, MethodQuotation, map[string]string{"information_elements": `{"customer_description":{"contact":{},"contact":{}}}`}), verdict{"information_elements.customer_description.contact", CodeSyntax}},
		{"provider contact string", edit(t, MethodOffer, map[string]string{"information_elements": `{"provider_description":{"contact":"noc"}}`}), verdict{"information_elements.provider_description.contact", CodeWrongType}},
		{"provider name array", edit(t, MethodOffer, map[string]string{"information_elements": `{"provider_description":{"name":["x"]}}`}), verdict{"information_elements.provider_description.name", CodeWrongType}},
		{"AS number 0", edit(t, MethodOffer, map[string]string{"information_elements": `{"provider_description":{"as_number":0}}`}), verdict{"information_elements.provider_description.as_number", CodeOutOfRange}},
		{"AS number 2^32", edit(t, MethodOffer, map[string]string{"information_elements": `{"provider_description":{"as_number":4294967296}}`}), verdict{"information_elements.provider_description.as_number", CodeOutOfRange}},
		{"AS number string", edit(t, MethodOffer, map[string]string{"information_elements": `{"provider_description":{"as_number":"AS64500"}}`}), verdict{"information_elements.provider_description.as_number", CodeWrongType}},
		{"negotiation options string", edit(t, MethodQuotation, map[string]string{"information_elements": `{"negotiation_options":"test"}`}), verdict{"information_elements.negotiation_options", CodeWrongType}},
		{"purpose unknown", edit(t, MethodQuotation, map[string]string{"information_elements": `{"negotiation_options":{"purpose":"forever"}}`}), verdict{"information_elements.negotiation_options.purpose", CodeOutOfRange}},
		{"activation type empty", edit(t, MethodQuotation, map[string]string{"information_elements": `{"negotiation_options":{"activation_type":""}}`}), verdict{"information_elements.negotiation_options.activation_type", CodeOutOfRange}},
		{"activation type wrong case", edit(t, MethodQuotation, map[string]string{"information_elements": `{"negotiation_options":{"activation_type":"Explicit"}}`}), verdict{"information_elements.negotiation_options.activation_type", CodeOutOfRange}},
		{"scope number", edit(t, MethodQuotation, map[string]string{"information_elements": `{"negotiation_options":{"scope":1}}`}), verdict{"information_elements.negotiation_options.scope", CodeWrongType}},
		{"scope unknown", edit(t, MethodActivate, map[string]string{"information_elements": `{"negotiation_options":{"scope":"global"}}`}), verdict{"information_elements.negotiation_options.scope", CodeOutOfRange}},

		// Type errors are reported before missing members (DecodeWithLimit steps 5, 6).
		{"wrong type before missing", edit(t, MethodOffer, map[string]string{"sequence_number": `"1"`}, "nonce"), verdict{"sequence_number", CodeWrongType}},
		// Members are checked in canonical order.
		{"first bad member wins", edit(t, MethodOffer, map[string]string{"nonce": `1`, "transaction_id": `1`}), verdict{"transaction_id", CodeWrongType}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Decode(tt.input)
			if err == nil {
				t.Fatalf("Decode(%s): got %v and no error, want %+v", tt.input, m, tt.want)
			}
			if got := verdictOf(t, err); got != tt.want {
				t.Errorf("Decode(%s): got %+v (%v), want %+v", tt.input, got, err, tt.want)
			}
			if diff := cmp.Diff(Message{}, m, cmpOpts); diff != "" {
				t.Errorf("Decode returned a message with its error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeMissingMandatory removes each mandatory member of each method
// in turn: the error names it.
// Reference: RFC 8921 §9.2.1–§9.2.11 (members outside brackets in the RBNFs).
func TestDecodeMissingMandatory(t *testing.T) {
	t.Parallel()
	for _, m := range Methods {
		for _, r := range m.Members() {
			if !r.Mandatory {
				continue
			}
			t.Run(m.String()+"/"+r.Name, func(t *testing.T) {
				t.Parallel()
				_, err := Decode(edit(t, m, nil, r.Name))
				want := verdict{r.Name, CodeMissing}
				if got := verdictOf(t, err); got != want {
					t.Fatalf("got %+v (%v), want %+v", got, err, want)
				}
				if !strings.Contains(err.Error(), r.Name) {
					t.Errorf("error %q does not name the member %q", err, r.Name)
				}
			})
		}
	}
}

// TestDecodeOptionalMembers removes each optional member of each method in
// turn: the message stays valid.
// Reference: RFC 8921 §9.2.1–§9.2.11 (members in brackets in the RBNFs).
func TestDecodeOptionalMembers(t *testing.T) {
	t.Parallel()
	for _, m := range Methods {
		for _, r := range m.Members() {
			if r.Mandatory {
				continue
			}
			t.Run(m.String()+"/"+r.Name, func(t *testing.T) {
				t.Parallel()
				got, err := Decode(edit(t, m, nil, r.Name))
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				want := Example(m)
				f, _ := lookupField([]byte(r.Name))
				clearField(&want, f)
				if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestDecodeStripsForeignMembers adds every member that a method does not
// carry, with a value of the wrong type: it is ignored and absent from the
// result (the decision documented in doc.go and docs/wire.md).
// Reference: RFC 8921 §9.2.7 (CANCEL has no provider order identifier), DESIGN §3.
func TestDecodeStripsForeignMembers(t *testing.T) {
	t.Parallel()
	for _, m := range Methods {
		set := map[string]string{}
		for f := fSeq; f < numFields; f++ {
			if !rules[m].allows(f) {
				set[fieldNames[f]] = `{"not":"checked"}`
			}
		}
		t.Run(m.String(), func(t *testing.T) {
			t.Parallel()
			got, err := Decode(edit(t, m, set))
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if diff := cmp.Diff(Example(m), got, cmpOpts); diff != "" {
				t.Errorf("foreign members not stripped (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeIgnoresUnknownMembers: unknown members are ignored at every
// level, and member names are case-sensitive.
// Reference: RFC 8921 §1 (new IEs may be added), DESIGN §3.
func TestDecodeIgnoresUnknownMembers(t *testing.T) {
	t.Parallel()
	quotation := Example(MethodQuotation)
	tests := []struct {
		name  string
		input []byte
		want  Message
	}{
		{
			name:  "top level",
			input: edit(t, MethodCancel, map[string]string{"x_vendor": `{"a":[1,2,{"b":null}]}`, "comment": `"hi"`}),
			want:  Example(MethodCancel),
		},
		{
			name:  "other case is another member",
			input: edit(t, MethodCancel, map[string]string{"Version": `"one"`, "NONCE": `1`}),
			want:  Example(MethodCancel),
		},
		{
			name: "inside information elements",
			input: edit(t, MethodQuotation, map[string]string{"information_elements": `{"future_ie":{"x":1},` +
				`"customer_description":{"name":"ACME Corp","x":1,"contact":{"fax":"none"}},` +
				`"negotiation_options":{"activation_type":"immediate","priority":"high"}}`}),
			want: quotation,
		},
		{
			name:  "information elements with only unknown members are absent",
			input: edit(t, MethodAck, map[string]string{"information_elements": `{"future_ie":{}}`}),
			want:  Example(MethodAck),
		},
		{
			name: "empty descriptions are absent",
			input: edit(t, MethodAck, map[string]string{"information_elements": `{"customer_description":{"name":"","contact":{"telephone_numbers":[]}},` +
				`"provider_description":{"contact":{}},"negotiation_options":{}}`}),
			want: Example(MethodAck),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(tt.input)
			if err != nil {
				t.Fatalf("Decode(%s): got error %v, want nil", tt.input, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeWhitespace: whitespace around the object is allowed, anything
// else after it is not.
// Reference: DESIGN §3 ("trailing whitespace after the object is ignored").
func TestDecodeWhitespace(t *testing.T) {
	t.Parallel()
	canonical := mustEncode(t, Example(MethodFail))
	tests := []struct {
		name  string
		input []byte
		ok    bool
	}{
		{"canonical", canonical, true},
		{"trailing newline", append(bytes.Clone(canonical), '\n'), true},
		{"trailing CRLF", append(bytes.Clone(canonical), "\r\n"...), true},
		{"trailing spaces and tabs", append(bytes.Clone(canonical), " \t \n"...), true},
		{"leading whitespace", append([]byte("\n  "), canonical...), true},
		{"indented", []byte(strings.ReplaceAll(string(canonical), ",", ",\n  ")), true},
		{"trailing NUL", append(bytes.Clone(canonical), 0), false},
		{"trailing comma", append(bytes.Clone(canonical), ','), false},
		{"trailing second value", append(bytes.Clone(canonical), " {}"...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(tt.input)
			if !tt.ok {
				if v := verdictOf(t, err); v.Code != CodeSyntax {
					t.Fatalf("got %+v (%v), want CodeSyntax", v, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if diff := cmp.Diff(Example(MethodFail), got, cmpOpts); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeSizeLimit: the size check comes first and uses the limit given.
// Reference: DESIGN §3 (messages up to 1 MiB).
func TestDecodeSizeLimit(t *testing.T) {
	t.Parallel()
	canonical := mustEncode(t, Example(MethodCancel))
	padded := func(n int) []byte { // a valid message of exactly n bytes
		return append(bytes.Clone(canonical), bytes.Repeat([]byte(" "), n-len(canonical))...)
	}
	tests := []struct {
		name  string
		input []byte
		limit int
		want  ValidationCode
	}{
		{"at the default limit", padded(DefaultMaxMessageSize), 0, 0},
		{"one byte over the default limit", padded(DefaultMaxMessageSize + 1), 0, CodeTooLarge},
		{"garbage over the limit is too large, not a syntax error", bytes.Repeat([]byte("x"), DefaultMaxMessageSize+1), 0, CodeTooLarge},
		{"negative limit means default", padded(DefaultMaxMessageSize), -1, 0},
		{"at a small limit", padded(DefaultDatagramLimit), DefaultDatagramLimit, 0},
		{"over a small limit", padded(DefaultDatagramLimit + 1), DefaultDatagramLimit, CodeTooLarge},
		{"a limit above the default", padded(DefaultMaxMessageSize + 1), 2 * DefaultMaxMessageSize, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeWithLimit(tt.input, tt.limit)
			if got := verdictOf(t, err).Code; got != tt.want {
				t.Fatalf("got code %v (%v), want %v", got, err, tt.want)
			}
		})
	}
	_, err := Decode(padded(DefaultMaxMessageSize + 1))
	if !strings.Contains(err.Error(), "1048577 bytes") {
		t.Errorf("got %q, want the size in the message", err)
	}
}

// TestDecodeValues checks the accepted forms of values.
// Reference: RFC 8921 §9.1.4 (sequence numbers), §9.1.6 (RFC 3339), DESIGN §3.
func TestDecodeValues(t *testing.T) {
	t.Parallel()
	ts := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		v = v.UTC()
		return &v
	}
	withSeq := func(m Message, seq uint32) Message { m.Seq = seq; return m }
	withERT := func(m Message, t *time.Time) Message { m.ExpectedResponseTime = t; return m }
	withTxn := func(m Message, s string) Message { m.TransactionID = s; return m }
	withCustomer := func(m Message, s string) Message { m.CustomerOrderID = s; return m }
	cancel, quotation := Example(MethodCancel), Example(MethodQuotation)
	tests := []struct {
		name  string
		input []byte
		want  Message
	}{
		{"seq 0", edit(t, MethodCancel, map[string]string{"sequence_number": "0"}), withSeq(cancel, 0)},
		{"seq minus zero", edit(t, MethodCancel, map[string]string{"sequence_number": "-0"}), withSeq(cancel, 0)},
		{"seq 2^32-1", edit(t, MethodCancel, map[string]string{"sequence_number": "4294967295"}), withSeq(cancel, 1<<32-1)},
		{"time with offset becomes UTC", edit(t, MethodQuotation, map[string]string{"expected_response_time": `"2026-11-22T01:24:25+02:00"`}), withERT(quotation, ts("2026-11-21T23:24:25Z"))},
		{"time truncated to milliseconds", edit(t, MethodQuotation, map[string]string{"expected_response_time": `"2026-11-21T23:24:25.123987654Z"`}), withERT(quotation, ts("2026-11-21T23:24:25.123Z"))},
		{"time without fraction", edit(t, MethodQuotation, map[string]string{"expected_response_time": `"2026-11-21T23:24:25Z"`}), withERT(quotation, ts("2026-11-21T23:24:25Z"))},
		{"upper-case hex", edit(t, MethodCancel, map[string]string{"transaction_id": `"8F14E45FCEEA167A5A36DEDD4BEA2543"`}), withTxn(cancel, "8F14E45FCEEA167A5A36DEDD4BEA2543")},
		{"escaped string", edit(t, MethodCancel, map[string]string{"customer_order_identifier": `"a\"b\\c\u00e9\n"`}), withCustomer(cancel, "a\"b\\cé\n")},
		{"128 characters of 2 bytes", edit(t, MethodCancel, map[string]string{"customer_order_identifier": `"` + strings.Repeat("é", 128) + `"`}), withCustomer(cancel, strings.Repeat("é", 128))},
		{"escaped member name", bytes.Replace(edit(t, MethodCancel, nil), []byte(`"sequence_number"`), []byte(`"sequence\u005fnumber"`), 1), cancel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(tt.input)
			if err != nil {
				t.Fatalf("Decode(%s): got error %v, want nil", tt.input, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeSchedule: "0" deactivates, a timestamp schedules.
// Reference: RFC 8921 §9.2.11.
func TestDecodeSchedule(t *testing.T) {
	t.Parallel()
	got, err := Decode(edit(t, MethodActivate, map[string]string{"activation_schedule": `"0"`}))
	if err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	if want := (Schedule{Deactivate: true}); got.ActivationSchedule == nil || *got.ActivationSchedule != want {
		t.Errorf("got schedule %v, want %v", got.ActivationSchedule, want)
	}
	got, err = Decode(edit(t, MethodOffer, map[string]string{"activation_schedule": `"2026-12-01T00:00:00Z"`}))
	if err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	want := Schedule{At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	if got.ActivationSchedule == nil || *got.ActivationSchedule != want {
		t.Errorf("got schedule %v, want %v", got.ActivationSchedule, want)
	}
}

// TestDecodeErrorIdentifies: a ValidationError carries the identifiers
// that let the server answer FAIL 1.
// Reference: RFC 8921 §9.2.10 (status code 1), DESIGN §3 (FAIL codes).
func TestDecodeErrorIdentifies(t *testing.T) {
	t.Parallel()
	type ids struct {
		Method                                          Method
		TransactionID, CustomerOrderID, ProviderOrderID string
		Identified                                      bool
	}
	offer := Example(MethodOffer)
	tests := []struct {
		name  string
		input []byte
		want  ids
	}{
		{"bad member", edit(t, MethodOffer, map[string]string{"validity_offer_time": `"soon"`}),
			ids{MethodOffer, offer.TransactionID, offer.CustomerOrderID, offer.ProviderOrderID, true}},
		{"unsupported version", edit(t, MethodOffer, map[string]string{"version": "2"}),
			ids{MethodOffer, offer.TransactionID, offer.CustomerOrderID, offer.ProviderOrderID, true}},
		{"unknown method", edit(t, MethodOffer, map[string]string{"method_code": "12"}),
			ids{0, offer.TransactionID, offer.CustomerOrderID, offer.ProviderOrderID, true}},
		{"malformed transaction ID", edit(t, MethodOffer, map[string]string{"transaction_id": `"t1"`}),
			ids{MethodOffer, "", offer.CustomerOrderID, offer.ProviderOrderID, false}},
		{"no customer order identifier", edit(t, MethodOffer, nil, "customer_order_identifier", "provider_order_identifier"),
			ids{MethodOffer, offer.TransactionID, "", "", false}},
		{"syntax error", append(edit(t, MethodOffer, nil), '}'), ids{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(tt.input)
			ve := asValidation(t, err)
			got := ids{ve.Method, ve.TransactionID, ve.CustomerOrderID, ve.ProviderOrderID, ve.Identified()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeErrorMessages: the distinct failures of the brief read
// distinctly and name what is wrong.
// Reference: RFC 8921 §10; DESIGN §3.
func TestDecodeErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input []byte
		want  []string
	}{
		{"version", edit(t, MethodCancel, map[string]string{"version": "2"}), []string{"version", "unsupported version 2"}},
		{"method", edit(t, MethodCancel, map[string]string{"method_code": "12"}), []string{"method_code", "unknown method code 12"}},
		{"missing", edit(t, MethodQuotation, nil, "requested_cpd"), []string{"requested_cpd", "missing mandatory member of QUOTATION", "§9.2.1"}},
		{"wrong type", edit(t, MethodCancel, map[string]string{"sequence_number": `"5"`}), []string{"sequence_number", "must be an integer, got string"}},
		{"fraction", edit(t, MethodCancel, map[string]string{"sequence_number": `1.5`}), []string{"sequence_number", "must be an integer, got number with a fraction"}},
		{"syntax", []byte(`{"version":1,}`), []string{"invalid JSON at byte offset"}},
		{"not an object", []byte(`[]`), []string{"JSON object, got array"}},
		{"CPD path", edit(t, MethodOffer, map[string]string{"offered_cpd": `{"components":[{"customer_nodes":[{"identifier":"a"}],"qos":{"loss_ratio":2}}]}`}), []string{"offered_cpd.components[0].qos.loss_ratio"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(tt.input)
			if err == nil {
				t.Fatalf("got no error, want one containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestDecodeKeepsNoReference: neither the message nor the error that
// Decode returns refers to its input, so a reader may decode out of a
// buffer that it overwrites with the next datagram (the server reads with
// transport.BorrowingConn, issue #3). Each input is decoded, the input is
// overwritten, and the result must still equal a decoding of a copy.
// Reference: RFC 8921 §9.2, §10; DESIGN §3 (JSON mapping).
func TestDecodeKeepsNoReference(t *testing.T) {
	t.Parallel()
	inputs := map[string][]byte{}
	for _, m := range Methods {
		inputs[m.String()] = mustEncode(t, Example(m))
	}
	inputs["bad member"] = edit(t, MethodOffer, map[string]string{"validity_offer_time": `"soon"`})
	inputs["bad CPD member"] = edit(t, MethodQuotation, map[string]string{
		"requested_cpd": `{"components":[{"customer_nodes":[{"identifier":"ce-1"}],"qos":{"class":7}}]}`})
	inputs["unknown method"] = edit(t, MethodOffer, map[string]string{"method_code": "12"})
	for name, input := range inputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, wantErr := Decode(bytes.Clone(input))
			buf := bytes.Clone(input)
			got, gotErr := Decode(buf)
			for i := range buf {
				buf[i] = 'x'
			}
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				t.Errorf("message after its input was overwritten (-want +got):\n%s", diff)
			}
			if (wantErr == nil) != (gotErr == nil) {
				t.Fatalf("error: got %v, want %v", gotErr, wantErr)
			}
			if wantErr == nil {
				return
			}
			w, g := asValidation(t, wantErr), asValidation(t, gotErr)
			type fields struct{ Error, Field, Detail, TransactionID, CustomerOrderID, ProviderOrderID string }
			wf := fields{w.Error(), w.Field, w.Detail, w.TransactionID, w.CustomerOrderID, w.ProviderOrderID}
			gf := fields{g.Error(), g.Field, g.Detail, g.TransactionID, g.CustomerOrderID, g.ProviderOrderID}
			if diff := cmp.Diff(wf, gf); diff != "" {
				t.Errorf("error after its input was overwritten (-want +got):\n%s", diff)
			}
		})
	}
}
