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

package policy

import "errors"

// Sentinel errors; callers test them with errors.Is.
var (
	// ErrNotHeld reports an Approve for an order that is not held for
	// administrative validation (unknown, already decided, or held before a
	// restart: the hold itself is not persisted by the policy).
	ErrNotHeld = errors.New("policy: order not held for approval")
	// ErrInvalidHolding reports a Holding that Restore cannot accept.
	ErrInvalidHolding = errors.New("policy: invalid holding")
)

// FieldError is one violation of the policy schema or of a validation rule:
// the field path, e.g. "pools[1].qosClasses[0].lossRatio", and the rule,
// e.g. "must be between 0 and 1". Parse, Validate and Restore return it
// (several are joined with errors.Join; use errors.As).
type FieldError struct {
	// Field is the path of the field, with list indices.
	Field string
	// Rule says what is wrong.
	Rule string
}

// Error returns "field: rule".
func (e *FieldError) Error() string { return e.Field + ": " + e.Rule }
