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

import "strconv"

// Version is the only CPNP version (RFC 8921 §9.2: "This attribute must be set to 1").
const Version = 1

// Method is a CPNP operation message code (RFC 8921 §9.2, Table 1).
type Method int

// Method codes, Table 1.
const (
	MethodQuotation  Method = 1
	MethodProcessing Method = 2
	MethodOffer      Method = 3
	MethodAccept     Method = 4
	MethodDecline    Method = 5
	MethodAck        Method = 6
	MethodCancel     Method = 7
	MethodWithdraw   Method = 8
	MethodUpdate     Method = 9
	MethodFail       Method = 10
	MethodActivate   Method = 11
)

// Methods lists every method in code order.
var Methods = []Method{
	MethodQuotation, MethodProcessing, MethodOffer, MethodAccept, MethodDecline, MethodAck,
	MethodCancel, MethodWithdraw, MethodUpdate, MethodFail, MethodActivate,
}

var methodNames = map[Method]string{
	MethodQuotation:  "QUOTATION",
	MethodProcessing: "PROCESSING",
	MethodOffer:      "OFFER",
	MethodAccept:     "ACCEPT",
	MethodDecline:    "DECLINE",
	MethodAck:        "ACK",
	MethodCancel:     "CANCEL",
	MethodWithdraw:   "WITHDRAW",
	MethodUpdate:     "UPDATE",
	MethodFail:       "FAIL",
	MethodActivate:   "ACTIVATE",
}

// String returns the operation name of Table 1, or "Method(N)" for an unknown code.
func (m Method) String() string {
	if s, ok := methodNames[m]; ok {
		return s
	}
	return "Method(" + strconv.Itoa(int(m)) + ")"
}

// Valid reports whether m is one of the 11 codes of Table 1.
func (m Method) Valid() bool { _, ok := methodNames[m]; return ok }

// ParseMethod returns the method named s (case-insensitive operation name, or its code).
func ParseMethod(s string) (Method, bool) {
	for m, n := range methodNames {
		if equalFold(n, s) || strconv.Itoa(int(m)) == s {
			return m, true
		}
	}
	return 0, false
}

// Subcode is a PROCESSING_SUBCODE (RFC 8921 §9.2.2, Table 2).
type Subcode int

// Processing subcodes, Table 2.
const (
	SubcodeUpgradeLocalResources    Subcode = 1
	SubcodeRequestExternalResources Subcode = 2
)

// String returns the description of Table 2.
func (s Subcode) String() string {
	switch s {
	case SubcodeUpgradeLocalResources:
		return "Upgrade of local resources"
	case SubcodeRequestExternalResources:
		return "Request external resources"
	}
	return "Subcode(" + strconv.Itoa(int(s)) + ")"
}

// Valid reports whether s is a code of Table 2.
func (s Subcode) Valid() bool {
	return s == SubcodeUpgradeLocalResources || s == SubcodeRequestExternalResources
}

// Reason is a DECLINE reason code (RFC 8921 §9.2.5, Table 3).
type Reason int

// Decline reasons, Table 3.
const (
	ReasonUnacceptableGap        Reason = 1
	ReasonConflictWithOtherOffer Reason = 2
	ReasonActivationTypeMismatch Reason = 3
)

// String returns the description of Table 3.
func (r Reason) String() string {
	switch r {
	case ReasonUnacceptableGap:
		return "Unacceptable gap between the request and the offer"
	case ReasonConflictWithOtherOffer:
		return "Conflict with another offer from another server"
	case ReasonActivationTypeMismatch:
		return "Activation type mismatch"
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Valid reports whether r is a code of Table 3.
func (r Reason) Valid() bool { return r >= ReasonUnacceptableGap && r <= ReasonActivationTypeMismatch }

// StatusCode is a FAIL status code (RFC 8921 §9.2.10, Table 4).
type StatusCode int

// FAIL status codes, Table 4.
const (
	StatusMessageValidationError     StatusCode = 1
	StatusAuthenticationRequired     StatusCode = 2
	StatusAuthorizationFailed        StatusCode = 3
	StatusAdministrativelyProhibited StatusCode = 4
	StatusOutOfResources             StatusCode = 5
	StatusNetworkPresenceError       StatusCode = 6
	StatusMoreTimeRejected           StatusCode = 7
	StatusUnsupportedActivationType  StatusCode = 8
)

var statusNames = map[StatusCode]string{
	StatusMessageValidationError:     "Message Validation Error",
	StatusAuthenticationRequired:     "Authentication Required",
	StatusAuthorizationFailed:        "Authorization Failed",
	StatusAdministrativelyProhibited: "Administratively prohibited",
	StatusOutOfResources:             "Out of Resources",
	StatusNetworkPresenceError:       "Network Presence Error",
	StatusMoreTimeRejected:           "More Time Rejected",
	StatusUnsupportedActivationType:  "Unsupported Activation Type",
}

// String returns the error code name of Table 4.
func (c StatusCode) String() string {
	if s, ok := statusNames[c]; ok {
		return s
	}
	return "StatusCode(" + strconv.Itoa(int(c)) + ")"
}

// Valid reports whether c is a code of Table 4.
func (c StatusCode) Valid() bool { _, ok := statusNames[c]; return ok }

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
