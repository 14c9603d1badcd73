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
	"testing"
)

// TestIdentify extracts what a FAIL 1 answer needs from invalid messages.
// Reference: RFC 8921 §9.2.10 (status code 1); DESIGN §3 ("a structurally
// invalid message that still names a transaction ID and customer order
// identifier → FAIL 1, otherwise it is dropped").
func TestIdentify(t *testing.T) {
	t.Parallel()
	const txn, cust = "8f14e45fceea167a5a36dedd4bea2543", "acme-wan-0001"
	type result struct {
		txn, cust string
		method    Method
		ok        bool
	}
	tests := []struct {
		name  string
		input []byte
		want  result
	}{
		{"valid message", edit(t, MethodOffer, nil), result{txn, cust, MethodOffer, true}},
		{"bad version", edit(t, MethodOffer, map[string]string{"version": "7"}), result{txn, cust, MethodOffer, true}},
		{"unknown method", edit(t, MethodOffer, map[string]string{"method_code": "99"}), result{txn, cust, 0, true}},
		{"method string", edit(t, MethodOffer, map[string]string{"method_code": `"OFFER"`}), result{txn, cust, 0, true}},
		{"missing nonce", edit(t, MethodOffer, nil, "nonce"), result{txn, cust, MethodOffer, true}},
		{"only the identifiers", []byte(`{"transaction_id":"` + txn + `","customer_order_identifier":"` + cust + `"}`), result{txn, cust, 0, true}},
		{"no transaction ID", edit(t, MethodOffer, nil, "transaction_id"), result{}},
		{"malformed transaction ID", edit(t, MethodOffer, map[string]string{"transaction_id": `"xyz"`}), result{}},
		{"transaction ID number", edit(t, MethodOffer, map[string]string{"transaction_id": `123`}), result{}},
		{"no customer order ID", edit(t, MethodOffer, nil, "customer_order_identifier"), result{}},
		{"empty customer order ID", edit(t, MethodOffer, map[string]string{"customer_order_identifier": `""`}), result{}},
		{"repeated member", []byte(`{"transaction_id":"` + txn + `","customer_order_identifier":"a","customer_order_identifier":"b"}`), result{}},
		{"syntax error", append(edit(t, MethodOffer, nil), ']'), result{}},
		{"not an object", []byte(`["` + txn + `"]`), result{}},
		{"too large", append(edit(t, MethodOffer, nil), bytes.Repeat([]byte(" "), DefaultMaxMessageSize)...), result{}},
		{"empty", nil, result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			txnID, customerID, method, ok := Identify(tt.input)
			if got := (result{txnID, customerID, method, ok}); got != tt.want {
				t.Errorf("Identify: got %+v, want %+v", got, tt.want)
			}
		})
	}
}
