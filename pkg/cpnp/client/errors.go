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
	"errors"
	"fmt"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
)

// Sentinel errors; the errors returned by this package wrap them, so that
// callers test them with errors.Is.
var (
	// ErrClosed is returned after Close (of a Mux or an Engine).
	ErrClosed = errors.New("client: closed")
	// ErrUnknownServer is returned for a server name that was not added.
	ErrUnknownServer = errors.New("client: unknown server")
	// ErrServerExists is returned by AddServer for a name already added.
	ErrServerExists = errors.New("client: server already added")
	// ErrUnknownOrder is returned for a customer order identifier that the
	// engine does not hold.
	ErrUnknownOrder = errors.New("client: unknown order")
	// ErrOrderExists is returned by Quote for a customer order identifier
	// the engine already holds: a second QUOTATION would create a second
	// remote order (DESIGN §4, write-ahead).
	ErrOrderExists = errors.New("client: order already exists")
	// ErrInvalidState matches every *StateError.
	ErrInvalidState = errors.New("client: command not allowed in the order's state")
	// ErrInvalidRequest is returned when a command's arguments are invalid
	// (a CPD that fails cpd.Validate, a deadline in the past, a message
	// that would fail wire validation); nothing was stored or sent.
	ErrInvalidRequest = errors.New("client: invalid request")
	// ErrAlreadyRunning is returned by a second concurrent Run.
	ErrAlreadyRunning = errors.New("client: engine already running")
	// ErrInvalidConfig matches every configuration error of this package.
	ErrInvalidConfig = errors.New("client: invalid configuration")
)

// StateError reports a command that the client machine refused in the
// order's current state (fsm.Client.Step returned only a Discard), or that
// could not do what it was asked (an ACCEPT of an offer that had already
// expired ends the negotiation instead). It matches ErrInvalidState.
type StateError struct {
	// Command names the fsm command, e.g. "AcceptOffer".
	Command string
	// CustomerOrderID names the order.
	CustomerOrderID string
	// State is the order's state when the command was refused, or the state
	// it ended in.
	State fsm.ClientState
	// Reason is the machine's reason.
	Reason string
}

// Error implements error.
func (e *StateError) Error() string {
	return fmt.Sprintf("%s refused in state %s: %s", e.Command, e.State, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidState) true.
func (e *StateError) Is(target error) bool { return target == ErrInvalidState }

func invalidRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}
