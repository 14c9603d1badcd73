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
	"context"
	"maps"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// DefaultMaxHistory bounds Order.History.
const DefaultMaxHistory = 64

// Order is one client order as the engine keeps and stores it: the pure
// machine's order (fsm.ClientOrder, RFC 8921 §8.11.1) and the server it is
// negotiated with. It is a plain value that serializes to JSON.
type Order struct {
	// Server is the name the order's server was added under (Engine.AddServer).
	Server string `json:"server"`
	// Name is an optional human name (cpnpctl keeps the order file's name).
	Name string `json:"name,omitempty"`
	// Labels are the caller's metadata; the engine does not read them.
	Labels map[string]string `json:"labels,omitempty"`
	// FSM is the order as the client machine sees it.
	FSM fsm.ClientOrder `json:"fsm"`
	// CreatedAt is when Quote created the order.
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is when the order last changed.
	UpdatedAt time.Time `json:"updatedAt"`
	// History are the last transitions of the order, oldest first, at most
	// Config.MaxHistory (§8.11: "Timestamps are also logged to track state
	// change").
	History []fsm.Transition `json:"history,omitempty"`
}

// ID returns the order's CUSTOMER_ORDER_IDENTIFIER (§9.1.1).
func (o Order) ID() string { return o.FSM.CustomerOrderID }

// State returns the Figure 8 state.
func (o Order) State() fsm.ClientState { return o.FSM.State }

// Clone returns a deep copy of o.
func (o Order) Clone() Order {
	c := o
	c.Labels = maps.Clone(o.Labels)
	c.FSM = o.FSM.Clone()
	if o.History != nil {
		c.History = append([]fsm.Transition(nil), o.History...)
	}
	return c
}

// Store keeps the engine's orders durably (RFC 8921 §8.11: "the use of
// permanent storage is recommended"). The engine calls it from its single
// goroutine.
type Store interface {
	// Save stores o under o.ID(), replacing the previous version; the order
	// is durable when Save returns nil. The engine sends nothing that
	// depends on o before (write-ahead, DESIGN §4). The engine never
	// changes o, its maps or what it points to after Save (each step makes
	// a new order), so a Store may keep o without copying it.
	Save(ctx context.Context, o Order) error
	// Load returns every stored order (NewEngine restores them).
	Load(ctx context.Context) ([]Order, error)
}

// QuoteRequest is what Engine.Quote asks a server for (§9.2.1).
type QuoteRequest struct {
	// CustomerOrderID is the CUSTOMER_ORDER_IDENTIFIER (§9.1.1); empty
	// means a new one from NewCustomerOrderID.
	CustomerOrderID string
	// CPD is the Requested CPD (§8.7); it must pass cpd.Validate(true).
	CPD cpd.CPD
	// ExpectedResponseTime is EXPECTED_RESPONSE_TIME (§9.1.6), which must
	// be in the future; nil means no deadline (§11.1.1).
	ExpectedResponseTime *time.Time
	// ExtensionLimit is the latest EXPECTED_OFFER_TIME the engine grants a
	// server asking for more time (§9.2.2); beyond it the engine answers
	// FAIL 7. Nil: every request for more time waits for GrantExtension or
	// RefuseExtension (see fsm.ClientOrder.ExtensionLimit).
	ExtensionLimit *time.Time
	// InformationElements are the customer description and negotiation
	// options (§9.1.10.1, §9.1.10.3).
	InformationElements *wire.InformationElements
	// Name and Labels are stored with the order.
	Name   string
	Labels map[string]string
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	// EventTransition reports a Transition of the client machine.
	EventTransition EventKind = "Transition"
	// EventAlarm reports an Alarm of the client machine (§11.1.2).
	EventAlarm EventKind = "Alarm"
)

// Event reports what happened to an order; Subscribe delivers them.
type Event struct {
	// Kind says what the event reports.
	Kind EventKind
	// CustomerOrderID and Server name the order.
	CustomerOrderID string
	Server          string
	// Transition is the state change (Kind EventTransition). From == To
	// reports a change inside a state (ExtensionRequested, Activated,
	// WithdrawAcknowledged, ...; see package fsm).
	Transition fsm.Transition
	// Alarm is the alarm's reason (Kind EventAlarm).
	Alarm string
	// Offer is the offer received, on the transitions of an OFFER
	// (OfferReceived, OfferProcessing).
	Offer *fsm.Offer
	// Failure is the failure the step recorded, if it recorded one (a FAIL
	// received or sent, an expiry, no response).
	Failure *fsm.Failure
	// Order is the order after the step that produced the event; never
	// nil. It is shared with the other events of the step and with the
	// engine's published copy (Subscribe): read it, or Clone it before
	// keeping or changing it. A pointer, so that an Event (and each slot of
	// a subscriber's channel, which Subscribe allocates) stays small.
	Order *Order
}
