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

package wire_test

import (
	"errors"
	"fmt"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

func ExampleDecode() {
	m, err := wire.Decode([]byte(`{"version":1,"method_code":7,"sequence_number":3173,
		"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001",
		"nonce":"ignored: CANCEL carries no nonce","x-vendor":"ignored: unknown member"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m)
	// Output: CANCEL seq=3173 txn=8f14e45fceea167a5a36dedd4bea2543 customer="acme-wan-0001"
}

func ExampleDecode_validationError() {
	_, err := wire.Decode([]byte(`{"version":1,"method_code":1,"sequence_number":1,
		"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001"}`))
	var ve *wire.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Code, ve.Field, ve.Identified())
		fmt.Println(err)
	}
	// Output:
	// missing requested_cpd true
	// invalid CPNP message: requested_cpd: missing mandatory member of QUOTATION (RFC 8921 §9.2.1)
}

func ExampleEncode() {
	offer := wire.Example(wire.MethodOffer)
	fail := offer.Reply(wire.MethodFail, offer.Seq+1)
	fail.StatusCode = wire.StatusOutOfResources
	b, err := wire.Encode(fail)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))
	// Output: {"version":1,"method_code":10,"sequence_number":90212,"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001","provider_order_identifier":"ENP-2026-000417","status_code":5}
}

func ExampleIdentify() {
	txn, customer, method, ok := wire.Identify([]byte(`{"version":2,"method_code":4,
		"transaction_id":"8f14e45fceea167a5a36dedd4bea2543","customer_order_identifier":"acme-wan-0001"}`))
	fmt.Println(txn, customer, method, ok)
	// Output: 8f14e45fceea167a5a36dedd4bea2543 acme-wan-0001 ACCEPT true
}
