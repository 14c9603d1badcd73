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

package server

import (
	"errors"
	"fmt"
)

// Sentinel errors; callers test them with errors.Is.
var (
	// ErrInvalidConfig is matched by every error that Config.Validate returns.
	ErrInvalidConfig = errors.New("invalid server configuration")
	// ErrServerClosed is returned by Serve and the admin methods once
	// Shutdown or Close has begun.
	ErrServerClosed = errors.New("server closed")
	// ErrOrderNotFound reports a provider order identifier that matches no
	// order.
	ErrOrderNotFound = errors.New("order not found")
	// ErrNotHeld reports an Approve or Reject of an order that is not held
	// for administrative validation (RFC 8921 §8.2, §12.2).
	ErrNotHeld = errors.New("order not held for administrative validation")
	// ErrNotNegotiating reports a RequestMoreTime for an order that is not
	// waiting for its offer (RFC 8921 §9.2.2: only AwaitingProcessing).
	ErrNotNegotiating = errors.New("order is not awaiting an offer")
	// ErrStoreFailed reports that a write to the store failed: the engine
	// stopped answering and must be restarted (DESIGN §4).
	ErrStoreFailed = errors.New("store write failed")
	// ErrRecordFormat reports a stored order in a record format this
	// release does not read (see RecordFormat and RecordFormatError).
	ErrRecordFormat = errors.New("unsupported order record format")
)

// ConfigError reports one Config field that cannot work. It matches
// ErrInvalidConfig.
type ConfigError struct {
	// Field names the field ("policy", "allowedSources[1]").
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string { return e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// OrderError reports an administrative command that cannot apply to an
// order: it names the order and its state, and matches ErrOrderNotFound,
// ErrNotHeld or ErrNotNegotiating.
type OrderError struct {
	// ProviderOrderID is the order.
	ProviderOrderID string
	// State is its state, "" when it does not exist.
	State string
	// Err is the sentinel.
	Err error
}

// Error implements error.
func (e *OrderError) Error() string {
	if e.State == "" {
		return fmt.Sprintf("order %q: %v", e.ProviderOrderID, e.Err)
	}
	return fmt.Sprintf("order %q (state %s): %v", e.ProviderOrderID, e.State, e.Err)
}

// Unwrap returns the sentinel.
func (e *OrderError) Unwrap() error { return e.Err }
