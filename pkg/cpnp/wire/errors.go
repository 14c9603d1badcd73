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
	"strconv"
	"strings"
)

// ValidationCode classifies why a message failed structural validation
// (RFC 8921 §10; DESIGN §3). The server maps every code to FAIL 1 "Message
// Validation Error" (Table 4) when it can identify the order, and drops the
// message otherwise.
type ValidationCode int

// Validation codes.
const (
	// CodeSyntax: the bytes are not one JSON object (bad JSON, not UTF-8,
	// something other than whitespace after the object, a known member
	// repeated).
	CodeSyntax ValidationCode = iota + 1
	// CodeTooLarge: the message is longer than the size limit.
	CodeTooLarge
	// CodeBadVersion: version is an integer other than 1 (§9.2).
	CodeBadVersion
	// CodeUnknownMethod: method_code is an integer outside Table 1.
	CodeUnknownMethod
	// CodeMissing: a mandatory member of the method's RBNF is absent.
	CodeMissing
	// CodeWrongType: a member has the wrong JSON type (a string where an
	// integer is due, a fraction where an integer is due, ...).
	CodeWrongType
	// CodeOutOfRange: a number, code, length, count or enumeration value is
	// outside its range.
	CodeOutOfRange
	// CodeInvalid: any other violation (a malformed hex string or timestamp,
	// an Empty CPD where a non-empty one is required, a struct member that the
	// method does not carry, ...).
	CodeInvalid
)

var codeNames = [...]string{
	CodeSyntax:        "syntax",
	CodeTooLarge:      "too-large",
	CodeBadVersion:    "bad-version",
	CodeUnknownMethod: "unknown-method",
	CodeMissing:       "missing",
	CodeWrongType:     "wrong-type",
	CodeOutOfRange:    "out-of-range",
	CodeInvalid:       "invalid",
}

// String returns a short lowercase name of the code ("missing", "wrong-type", ...).
func (c ValidationCode) String() string {
	if c > 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "ValidationCode(" + strconv.Itoa(int(c)) + ")"
}

// ValidationError reports why a message is structurally invalid (RFC 8921
// §10, DESIGN §3). Decode, DecodeWithLimit, Validate and Encode return it;
// callers use errors.As and switch on Code, never on the text.
//
// When the invalid message still names a well-formed transaction ID and
// customer order identifier, Decode fills TransactionID and CustomerOrderID
// (and ProviderOrderID and Method when present and well-formed) so that the
// server can answer FAIL 1 (DESIGN §3 "Settled details"); Identify extracts
// the same values from raw bytes.
type ValidationError struct {
	// Field is the offending member as a path from the message root, for
	// example "sequence_number", "reasons[1]",
	// "information_elements.negotiation_options.scope" or
	// "requested_cpd.components[0].qos". Empty when the error concerns the
	// message as a whole (CodeSyntax, CodeTooLarge).
	Field string
	// Code classifies the error.
	Code ValidationCode
	// Detail says what is wrong, in lowercase, citing the RFC where useful.
	Detail string

	// Method is the message's method when method_code was readable and valid, else 0.
	Method Method
	// TransactionID is the message's transaction_id when it was well-formed.
	TransactionID string
	// CustomerOrderID is the message's customer_order_identifier when it was well-formed.
	CustomerOrderID string
	// ProviderOrderID is the message's provider_order_identifier when it was well-formed.
	ProviderOrderID string

	// Err is the underlying error, if any (for example a *cpd.Error for a
	// member that holds a CPD); Unwrap returns it.
	Err error
}

// Error returns "<field>: <detail>", or the detail alone when Field is empty.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid CPNP message: ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Detail)
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *ValidationError) Unwrap() error { return e.Err }

// Identified reports whether the error names a transaction ID and a customer
// order identifier, which is what the server needs to answer FAIL 1 rather
// than drop the message (DESIGN §3).
func (e *ValidationError) Identified() bool {
	return e.TransactionID != "" && e.CustomerOrderID != ""
}

func newError(field string, code ValidationCode, detail string) *ValidationError {
	return &ValidationError{Field: field, Code: code, Detail: detail}
}
