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

package fsm

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// MinWithdrawRetryInterval is the shortest wait between two withdrawal
// cycles (RFC 8921 §11.1.2: "The client must not retry this Withdrawal cycle
// more frequently than every 300 seconds").
const MinWithdrawRetryInterval = 300 * time.Second

// Client configures the client machine (RFC 8921 §8.11.1, Figure 8). It is a
// small value; the zero Client behaves as DefaultClient.
type Client struct {
	// Retransmit is the RETRANS_TIMER schedule (§8.5, §11.4). The zero value
	// means session.DefaultRetransmit().
	Retransmit session.Retransmit `json:"retransmit"`
	// WithdrawRetryInterval is the wait between two withdrawal cycles after a
	// WITHDRAW went unanswered through every retry (§11.1.2). Zero means
	// MinWithdrawRetryInterval; a smaller value is invalid.
	WithdrawRetryInterval time.Duration `json:"withdrawRetryInterval,omitempty"`
}

// DefaultClient returns the DESIGN §3 defaults: RETRANS_TIMER 1 s doubling,
// 3 retries; a withdrawal cycle every 300 s.
func DefaultClient() Client {
	return Client{Retransmit: session.DefaultRetransmit(), WithdrawRetryInterval: MinWithdrawRetryInterval}
}

// Validate reports a configuration that cannot work. Every error matches
// ErrInvalidConfig; retransmission errors also match session.ErrInvalidConfig.
func (m Client) Validate() error {
	var errs []error
	if m.Retransmit != (session.Retransmit{}) {
		if err := m.Retransmit.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if m.WithdrawRetryInterval != 0 && m.WithdrawRetryInterval < MinWithdrawRetryInterval {
		errs = append(errs, &ConfigError{
			Field:  "withdrawRetryInterval",
			Value:  m.WithdrawRetryInterval,
			Reason: "must be at least 5m0s (RFC 8921 §11.1.2)",
		})
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: client: %w", ErrInvalidConfig, errors.Join(errs...))
}

// schedule returns the retransmission schedule in force.
func (m Client) schedule() session.Retransmit {
	if m.Retransmit == (session.Retransmit{}) {
		return session.DefaultRetransmit()
	}
	return m.Retransmit
}

// withdrawInterval returns the withdrawal cycle interval in force, never
// below MinWithdrawRetryInterval even if Validate was not called.
func (m Client) withdrawInterval() time.Duration {
	return max(m.WithdrawRetryInterval, MinWithdrawRetryInterval)
}

// ClientOrder is one order as the client sees it (RFC 8921 §8.11.1). It is a
// plain value that serializes to JSON, so the operator keeps it in a
// resource's status and cpnpctl in its local store. Step never modifies the
// order it is given: it returns a new one, which shares the records it did
// not change with the input (copy-on-write, the invariant documented on
// ServerOrder): treat every pointer, slice and map reachable from an order
// as read-only, and Clone it to change it.
type ClientOrder struct {
	// State is the Figure 8 state.
	State ClientState `json:"state"`
	// CustomerOrderID is CUSTOMER_ORDER_IDENTIFIER (§9.1.1); it never changes.
	CustomerOrderID string `json:"customerOrderID"`
	// ProviderOrderID is PROVIDER_ORDER_IDENTIFIER (§9.1.2), learnt from the
	// first PROCESSING, OFFER or FAIL; it never changes once set.
	ProviderOrderID string `json:"providerOrderID,omitempty"`
	// Request is the request of the current agreement or negotiation (§9.2.1).
	Request Request `json:"request"`
	// Update is the request of an UPDATE cycle in progress (§9.2.9); it
	// replaces Request when the UPDATE's ACCEPT is acknowledged.
	Update *Request `json:"update,omitempty"`
	// Txn is the current transaction (§8.4); zero before the QUOTATION.
	Txn Transaction `json:"txn"`
	// ExpectedOfferTime is the EXPECTED_OFFER_TIME currently granted to the
	// server (§9.1.7, §11.1.1).
	ExpectedOfferTime *time.Time `json:"expectedOfferTime,omitempty"`
	// ExtensionLimit is the latest EXPECTED_OFFER_TIME the client grants
	// without asking anyone: a request for more time up to it is granted with
	// an ACK, beyond it refused with FAIL 7 (§9.2.2). Nil: every request for
	// more time waits in PendingExtension for GrantExtension or RefuseExtension.
	ExtensionLimit *time.Time `json:"extensionLimit,omitempty"`
	// PendingExtension is a requested EXPECTED_OFFER_TIME awaiting the user's
	// decision (only when ExtensionLimit is nil).
	PendingExtension *time.Time `json:"pendingExtension,omitempty"`
	// Offer is the last offer received in the current or last negotiation.
	Offer *Offer `json:"offer,omitempty"`
	// Agreement is the agreement in force, if any. A failed UPDATE cycle
	// leaves it untouched.
	Agreement *Agreement `json:"agreement,omitempty"`
	// Activation is the ACTIVATION_SCHEDULE of an ACTIVATE awaiting its ACK (§9.2.11).
	Activation *wire.Schedule `json:"activation,omitempty"`
	// WithdrawAcked turns true when the server acknowledges the WITHDRAW
	// (§9.2.8); until then the operator holds its finalizer.
	WithdrawAcked bool `json:"withdrawAcked,omitempty"`
	// Failure is the last abnormal end of a transaction, if any; starting a
	// new transaction clears it.
	Failure *Failure `json:"failure,omitempty"`
	// Timers are the armed timers and their deadlines, so that a restarted
	// shell can re-arm them. They mirror the StartTimer/StopTimer actions.
	Timers map[TimerID]time.Time `json:"timers,omitempty"`
}

// NewClientOrder returns a new order in Created, or in AwaitingProcessing when
// approved is true (§8.11.1: "It is not handled by the client until the
// administrator allows it to be processed"; the operator's approval gate is
// off by default, DESIGN §5).
func NewClientOrder(customerOrderID string, req Request, approved bool) ClientOrder {
	o := ClientOrder{State: ClientCreated, CustomerOrderID: customerOrderID, Request: req.clone()}
	if approved {
		o.State = ClientAwaitingProcessing
	}
	return o
}

// Terminal reports whether the order is finished: Cancelled, with no request
// awaiting an answer and no timer armed. A terminal order stays terminal and
// sends nothing, except that it still re-sends its last answer when the
// server repeats the message it answered (for example its FAIL 7, §11.4).
// Completed is not terminal: the agreement can still be updated, activated
// or withdrawn.
func (o ClientOrder) Terminal() bool {
	return o.State == ClientCancelled && o.Txn.Unanswered == nil && len(o.Timers) == 0
}

// NextDeadline returns the earliest armed timer. Ties go to the timer that
// sorts first by ID, so the answer is deterministic.
func (o ClientOrder) NextDeadline() (TimerID, time.Time, bool) {
	return nextDeadline(o.Timers)
}

// Clone returns a deep copy of the order: maps, slices, pointers and CPDs
// are copied, so that changing the copy never changes o.
func (o ClientOrder) Clone() ClientOrder {
	c := o
	c.Request = o.Request.clone()
	if o.Update != nil {
		u := o.Update.clone()
		c.Update = &u
	}
	c.Txn = o.Txn.clone()
	c.ExpectedOfferTime = cloneTime(o.ExpectedOfferTime)
	c.ExtensionLimit = cloneTime(o.ExtensionLimit)
	c.PendingExtension = cloneTime(o.PendingExtension)
	c.Offer = o.Offer.clone()
	c.Agreement = o.Agreement.clone()
	c.Activation = cloneSchedule(o.Activation)
	if o.Failure != nil {
		f := *o.Failure
		c.Failure = &f
	}
	if o.Timers != nil {
		c.Timers = maps.Clone(o.Timers)
	}
	return c
}

// ClientCommand is an event issued by the client's user (the operator's
// reconciler, cpnpctl). Commands that open a transaction carry its
// TransactionID and first sequence number, drawn by the shell from
// crypto/rand (§8.4, §9.1.3).
type ClientCommand interface {
	Event
	// command names the command, used as a Transition's Cause.
	command() string
}

// ApproveOrder lets a Created order be processed (§8.11.1 Created →
// AwaitingProcessing).
type ApproveOrder struct{ At time.Time }

// Quote sends the QUOTATION of an AwaitingProcessing order (§9.2.1).
type Quote struct {
	At            time.Time
	TransactionID string
	Seq           uint32
}

// AcceptOffer accepts the offer (§9.2.4).
type AcceptOffer struct{ At time.Time }

// DeclineOffer declines the offer with optional Table 3 reasons (§9.2.5).
type DeclineOffer struct {
	At      time.Time
	Reasons []wire.Reason
}

// CancelOrder cancels a negotiation before an agreement is reached (§9.2.7),
// or a Created / AwaitingProcessing order before anything was sent.
type CancelOrder struct{ At time.Time }

// UpdateOrder starts an UPDATE cycle on a Completed order (§9.2.9, §11.1.3).
// ExpectedResponseTime is mandatory in an UPDATE (RBNF of §9.2.9).
type UpdateOrder struct {
	At                   time.Time
	TransactionID        string
	Seq                  uint32
	CPD                  cpd.CPD
	ExpectedResponseTime *time.Time
	InformationElements  *wire.InformationElements
}

// ActivateOrder sends ACTIVATE for a Completed order (§9.2.11): a schedule at
// or before the time of the ACK means now, Deactivate ("0") deactivates.
type ActivateOrder struct {
	At            time.Time
	TransactionID string
	Seq           uint32
	Schedule      wire.Schedule
}

// WithdrawOrder withdraws the agreement of a Completed order (§9.2.8, §11.1.2).
type WithdrawOrder struct {
	At            time.Time
	TransactionID string
	Seq           uint32
}

// GrantExtension grants the pending request for more time (§9.2.2, Figure 11).
type GrantExtension struct{ At time.Time }

// RefuseExtension refuses the pending request for more time with FAIL 7
// (§9.2.2, Figure 12).
type RefuseExtension struct{ At time.Time }

// When implements Event.
func (c ApproveOrder) When() time.Time { return c.At }

// When implements Event.
func (c Quote) When() time.Time { return c.At }

// When implements Event.
func (c AcceptOffer) When() time.Time { return c.At }

// When implements Event.
func (c DeclineOffer) When() time.Time { return c.At }

// When implements Event.
func (c CancelOrder) When() time.Time { return c.At }

// When implements Event.
func (c UpdateOrder) When() time.Time { return c.At }

// When implements Event.
func (c ActivateOrder) When() time.Time { return c.At }

// When implements Event.
func (c WithdrawOrder) When() time.Time { return c.At }

// When implements Event.
func (c GrantExtension) When() time.Time { return c.At }

// When implements Event.
func (c RefuseExtension) When() time.Time { return c.At }

func (ApproveOrder) command() string    { return "ApproveOrder" }
func (Quote) command() string           { return "Quote" }
func (AcceptOffer) command() string     { return "AcceptOffer" }
func (DeclineOffer) command() string    { return "DeclineOffer" }
func (CancelOrder) command() string     { return "CancelOrder" }
func (UpdateOrder) command() string     { return "UpdateOrder" }
func (ActivateOrder) command() string   { return "ActivateOrder" }
func (WithdrawOrder) command() string   { return "WithdrawOrder" }
func (GrantExtension) command() string  { return "GrantExtension" }
func (RefuseExtension) command() string { return "RefuseExtension" }
