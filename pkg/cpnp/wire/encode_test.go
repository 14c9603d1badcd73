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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// TestEncodeGolden pins the canonical form: member order, UTC timestamps
// with milliseconds, "0" for deactivation, omitted absent members.
// Reference: RFC 8921 §9.2.1–§9.2.11 (RBNF order), DESIGN §3.
func TestEncodeGolden(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	tiny := `{"components":[{"customer_nodes":[{"identifier":"ce-1"}]}]}`
	tests := []struct {
		name string
		msg  func() Message
		want string
	}{
		{"PROCESSING", func() Message { return Example(MethodProcessing) },
			`{"version":1,"method_code":2,"sequence_number":90210,"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001","provider_order_identifier":"ENP-2026-000417","expected_offer_time":"2026-11-21T22:54:25.000Z","processing_subcode":1}`},
		{"DECLINE", func() Message {
			m := Example(MethodDecline)
			m.Reasons = []Reason{ReasonConflictWithOtherOffer, ReasonUnacceptableGap}
			return m
		}, `{"version":1,"method_code":5,"sequence_number":3174,"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001","provider_order_identifier":"ENP-2026-000417","nonce":"6512bd43d9caa6e02c990b0a82652dca","reasons":[2,1]}`},
		{"CANCEL", func() Message { return Example(MethodCancel) },
			`{"version":1,"method_code":7,"sequence_number":3173,"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001"}`},
		{"CANCEL with the Empty CPD", func() Message {
			m := Example(MethodCancel)
			m.CPD = &cpd.CPD{}
			return m
		}, `{"version":1,"method_code":7,"sequence_number":3173,"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001","cpd":{"components":[]}}`},
		{"FAIL", func() Message { return Example(MethodFail) },
			`{"version":1,"method_code":10,"sequence_number":90211,"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001","provider_order_identifier":"ENP-2026-000417","status_code":5}`},
		{"ACTIVATE", func() Message { return Example(MethodActivate) },
			`{"version":1,"method_code":11,"sequence_number":3472,"transaction_id":"d3d9446802a44259755d38e6d163e820","customer_order_identifier":"acme-wan-0001","provider_order_identifier":"ENP-2026-000417","nonce":"6512bd43d9caa6e02c990b0a82652dca","activation_schedule":"2026-11-22T22:24:25.000Z"}`},
		{"ACTIVATE deactivation", func() Message {
			m := Example(MethodActivate)
			s := ScheduleDeactivate()
			m.ActivationSchedule = &s
			return m
		}, `{"version":1,"method_code":11,"sequence_number":3472,"transaction_id":"d3d9446802a44259755d38e6d163e820","customer_order_identifier":"acme-wan-0001","provider_order_identifier":"ENP-2026-000417","nonce":"6512bd43d9caa6e02c990b0a82652dca","activation_schedule":"0"}`},
		{"client ACK granting more time", func() Message {
			m := Example(MethodProcessing).Reply(MethodAck, 3173)
			granted := time.Date(2026, 11, 22, 0, 24, 25, 999999999, paris) // 23:24:25.999 UTC
			m.ExpectedResponseTime = &granted
			return m
		}, `{"version":1,"method_code":6,"sequence_number":3173,"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001","provider_order_identifier":"ENP-2026-000417","expected_response_time":"2026-11-21T23:24:25.999Z"}`},
		{"ACK after DECLINE", func() Message {
			m := Example(MethodAck)
			e := cpd.Empty()
			m.CPD = &e
			return m
		}, `{"version":1,"method_code":6,"sequence_number":90212,"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001","provider_order_identifier":"ENP-2026-000417","cpd":{"components":[]}}`},
		{"QUOTATION with every Information Element", func() Message {
			m := Example(MethodQuotation)
			m.RequestedCPD = mustCPD(t, tiny)
			m.ExpectedResponseTime = nil
			m.InformationElements = &InformationElements{
				NegotiationOptions:  &NegotiationOptions{Scope: ScopeLocal, Purpose: PurposeTest, ActivationType: ActivationExplicit},
				ProviderDescription: &ProviderDescription{ASNumber: 64500, Name: "ENP", Contact: &Contact{PostalAddress: "1 Main St"}},
				CustomerDescription: &CustomerDescription{
					Contact: &Contact{TelephoneNumbers: []string{"+1 555 0100", "+1 555 0101"}, Email: "noc@acme.example", PostalAddress: "Paris"},
					Name:    "ACME <Corp> & Co",
				},
			}
			return m
		}, `{"version":1,"method_code":1,"sequence_number":3172,"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001",` +
			`"requested_cpd":` + tiny + `,"information_elements":{` +
			`"customer_description":{"name":"ACME <Corp> & Co","contact":{"email":"noc@acme.example","postal_address":"Paris","telephone_numbers":["+1 555 0100","+1 555 0101"]}},` +
			`"provider_description":{"name":"ENP","contact":{"postal_address":"1 Main St"},"as_number":64500},` +
			`"negotiation_options":{"purpose":"test","activation_type":"explicit","scope":"local"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := tt.msg()
			got := string(mustEncode(t, m))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Encode mismatch (-want +got):\n%s", diff)
			}
			// The golden text is canonical: decoding and encoding it again is the identity.
			back, err := Decode([]byte(got))
			if err != nil {
				t.Fatalf("Decode(golden): got error %v, want nil", err)
			}
			if again := string(mustEncode(t, back)); again != got {
				t.Errorf("Encode(Decode(golden)) = %s, want %s", again, got)
			}
		})
	}
}

// topLevelNames returns the member names of the JSON object b, in order.
func topLevelNames(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// TestEncodeMemberOrder: every example is written with exactly the members
// its RBNF allows, in canonical order, with no raw newline.
// Reference: RFC 8921 §9.2.1–§9.2.11; docs/wire.md (TLS framing).
func TestEncodeMemberOrder(t *testing.T) {
	t.Parallel()
	for _, m := range Methods {
		t.Run(m.String(), func(t *testing.T) {
			t.Parallel()
			b := mustEncode(t, Example(m))
			if bytes.ContainsAny(b, "\r\n") {
				t.Errorf("encoding contains a raw newline: %s", b)
			}
			got := topLevelNames(t, b)
			var want []string
			for _, r := range m.Members() {
				want = append(want, r.Name)
			}
			// Examples set every member except a few optional ones.
			var filtered []string
			have := map[string]bool{}
			for _, n := range got {
				have[n] = true
			}
			for _, n := range want {
				if have[n] {
					filtered = append(filtered, n)
				}
			}
			if diff := cmp.Diff(filtered, got); diff != "" {
				t.Errorf("member order (-want +got):\n%s", diff)
			}
			for _, r := range m.Members() {
				if r.Mandatory && !have[r.Name] {
					t.Errorf("mandatory member %s missing from %s", r.Name, b)
				}
			}
		})
	}
}

// TestEncodeRefusesInvalid: Encode validates first.
// Reference: RFC 8921 §10 (a peer must not receive an invalid message).
func TestEncodeRefusesInvalid(t *testing.T) {
	t.Parallel()
	m := Example(MethodQuotation)
	m.RequestedCPD = nil
	b, err := Encode(m)
	if got, want := verdictOf(t, err), (verdict{"requested_cpd", CodeMissing}); got != want {
		t.Errorf("got %+v (%v), want %+v", got, err, want)
	}
	if b != nil {
		t.Errorf("got bytes %s with the error, want nil", b)
	}
	dst := []byte("prefix")
	out, err := Append(dst, m)
	if err == nil || string(out) != "prefix" {
		t.Errorf("Append(invalid) = %q, %v; want the unchanged prefix and an error", out, err)
	}
}

// TestAppend appends to an existing buffer.
func TestAppend(t *testing.T) {
	t.Parallel()
	want := "prefix:" + string(mustEncode(t, Example(MethodFail)))
	got, err := Append([]byte("prefix:"), Example(MethodFail))
	if err != nil || string(got) != want {
		t.Errorf("Append = %q, %v; want %q, nil", got, err, want)
	}
}

// TestAppendString checks JSON string escaping: control characters,
// quotes, backslashes, U+2028/U+2029 escaped; HTML characters and other
// non-ASCII kept; invalid UTF-8 replaced.
// Reference: RFC 8259 §7; docs/wire.md (no raw newline).
func TestAppendString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"line\nbreak\r\ttab", `"line\nbreak\r\ttab"`},
		{"\x00\x1f\x7f", `"\u0000\u001f` + "\x7f" + `"`},
		{"<&>", `"<&>"`},
		{"é€😀", `"é€😀"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"bad\xffutf8", `"bad\ufffdutf8"`},
	}
	for _, tt := range tests {
		got := string(appendString(nil, tt.in))
		if got != tt.want {
			t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("appendString(%q) = %s is not JSON: %v", tt.in, got, err)
		}
	}
}

// TestMessageJSON: Message embeds in other JSON documents in canonical form;
// the zero Message is null.
func TestMessageJSON(t *testing.T) {
	t.Parallel()
	type order struct {
		Last    *Message `json:"last"`
		Pending Message  `json:"pending"`
		None    *Message `json:"none"`
	}
	offer := Example(MethodOffer)
	in := order{Last: &offer}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	want := `{"last":` + string(mustEncode(t, offer)) + `,"pending":null,"none":null}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("json.Marshal mismatch (-want +got):\n%s", diff)
	}
	var out order
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	if diff := cmp.Diff(in, out, cmpOpts); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}

	err = json.Unmarshal([]byte(`{"pending":{"version":2}}`), &out)
	if got := verdictOf(t, err); got != (verdict{"version", CodeBadVersion}) {
		t.Errorf("Unmarshal(version 2): got %+v (%v), want a version error", got, err)
	}
	invalid := Example(MethodFail)
	invalid.StatusCode = 0
	if _, err := json.Marshal(order{Pending: invalid}); err == nil {
		t.Error("json.Marshal of an invalid message: got nil error, want one")
	}
}
