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

package client

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
)

// CustomerOrderIDPrefix starts every customer order identifier that
// NewCustomerOrderID draws.
const CustomerOrderIDPrefix = "co-"

// idBytes is the randomness of transaction IDs and generated customer
// order identifiers: 128 bits (§8.4, §9.1.3, §13; DESIGN §3).
const idBytes = 16

// randomHex returns 2n lowercase hex digits read from r.
func randomHex(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// NewCustomerOrderID returns "co-" followed by 32 hex digits (128 bits)
// read from r, typically crypto/rand.Reader: a CUSTOMER_ORDER_IDENTIFIER
// (§9.1.1) that no other client order will share.
func NewCustomerOrderID(r io.Reader) (string, error) {
	h, err := randomHex(r, idBytes)
	if err != nil {
		return "", fmt.Errorf("customer order identifier: %w", err)
	}
	return CustomerOrderIDPrefix + h, nil
}

// newTransactionID returns a TRANSACTION_ID: 128 random bits as 32 hex
// digits (§8.4: "randomly assigned by the CPNP client ... that cannot be
// guessed easily").
func newTransactionID(r io.Reader) (string, error) {
	h, err := randomHex(r, idBytes)
	if err != nil {
		return "", fmt.Errorf("transaction ID: %w", err)
	}
	return h, nil
}

// newSeq returns a random first sequence number below 2^31 (§8.4: "the
// client needs to select a sequence number randomly"; below 2^31 so that the
// counter cannot wrap within a transaction, see session.NewCounters).
func newSeq(r io.Reader) (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("sequence number: read random bytes: %w", err)
	}
	return binary.BigEndian.Uint32(b[:]) & 0x7fffffff, nil
}
