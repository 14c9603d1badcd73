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
	"fmt"
	"maps"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Quote creates an order and sends its QUOTATION to server (§9.2.1,
// §11.1.1): the order is stored before the QUOTATION is sent. It returns the
// customer order identifier: req.CustomerOrderID, or a new one
// (NewCustomerOrderID) when that is empty. It fails, with nothing stored or
// sent, when the CPD fails cpd.Validate(true) or the expected response time
// is not in the future (ErrInvalidRequest), when the server was not added
// (ErrUnknownServer), or when the engine already holds an order with that
// identifier (ErrOrderExists: a second QUOTATION would create a second
// remote order).
func (e *Engine) Quote(ctx context.Context, server string, req QuoteRequest) (string, error) {
	if err := req.CPD.Validate(true); err != nil {
		return "", fmt.Errorf("quote: %w: requested CPD: %w", ErrInvalidRequest, err)
	}
	if !e.mux.HasServer(server) {
		return "", fmt.Errorf("quote: server %q: %w", server, ErrUnknownServer)
	}
	var id string
	err := e.do(ctx, func() error {
		now := e.now()
		if ert := req.ExpectedResponseTime; ert != nil && !ert.After(now) {
			return invalidRequest("expected response time %s is not in the future (now %s)",
				ert.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
		}
		id = req.CustomerOrderID
		if id == "" {
			var err error
			if id, err = NewCustomerOrderID(e.cfg.Rand); err != nil {
				return err
			}
		}
		if _, ok := e.orders[id]; ok {
			return fmt.Errorf("%w: %q", ErrOrderExists, id)
		}
		txn, seq, err := e.newTxn()
		if err != nil {
			return err
		}
		fo := fsm.NewClientOrder(id, fsm.Request{
			CPD:                  req.CPD,
			ExpectedResponseTime: canonical(req.ExpectedResponseTime),
			InformationElements:  req.InformationElements,
		}, true)
		fo.ExtensionLimit = canonical(req.ExtensionLimit)
		ent := &entry{order: Order{
			Server: server, Name: req.Name, Labels: maps.Clone(req.Labels),
			FSM: fo, CreatedAt: now, UpdatedAt: now,
		}}
		// Route the order's messages before the QUOTATION can leave.
		e.register(ent)
		discard, err := e.step(ctx, ent, fsm.Quote{At: now, TransactionID: txn, Seq: seq})
		if err == nil && discard != "" {
			err = &StateError{Command: "Quote", CustomerOrderID: id, State: fo.State, Reason: discard}
		}
		if err != nil {
			e.unregister(ent)
			return err
		}
		return nil
	})
	if err != nil {
		if id == "" {
			return "", fmt.Errorf("quote: %w", err)
		}
		return "", fmt.Errorf("quote order %q: %w", id, err)
	}
	return id, nil
}

// Accept sends the ACCEPT of the order's offer (§9.2.4): OfferProcessing
// (or OfferReceived) → AcceptSent. The agreement is reached when the ACK
// arrives (a Transition to Completed). An offer whose validity passed is
// not accepted: the negotiation ends (OfferExpired) and Accept returns a
// *StateError.
func (e *Engine) Accept(ctx context.Context, id string) error {
	return e.command(ctx, id, "AcceptOffer", func(now time.Time) (fsm.ClientCommand, error) {
		return fsm.AcceptOffer{At: now}, nil
	}, func(o Order) error {
		if o.FSM.State != fsm.ClientAcceptSent {
			reason := "no ACCEPT was sent"
			if f := o.FSM.Failure; f != nil {
				reason = "the negotiation ended (" + f.Reason + "); no ACCEPT was sent (§9.2.4)"
			}
			return &StateError{Command: "AcceptOffer", CustomerOrderID: id, State: o.FSM.State, Reason: reason}
		}
		return nil
	})
}

// Decline sends a DECLINE of the order's offer with optional Table 3
// reasons (§9.2.5): the order ends Cancelled (or, in an UPDATE cycle,
// returns to Completed with its previous agreement).
func (e *Engine) Decline(ctx context.Context, id string, reasons ...wire.Reason) error {
	seen := make(map[wire.Reason]bool)
	for _, r := range reasons {
		if !r.Valid() {
			return fmt.Errorf("decline %q: %w", id, invalidRequest("reason %d is not in RFC 8921 Table 3 (1-3)", int(r)))
		}
		if seen[r] {
			return fmt.Errorf("decline %q: %w", id, invalidRequest("reason %d repeated", int(r)))
		}
		seen[r] = true
	}
	rs := append([]wire.Reason(nil), reasons...)
	return e.command(ctx, id, "DeclineOffer", func(now time.Time) (fsm.ClientCommand, error) {
		return fsm.DeclineOffer{At: now, Reasons: rs}, nil
	}, nil)
}

// Cancel cancels the order's negotiation (§9.2.7): a CANCEL is sent when a
// request was sent (PQOSent .. AcceptSent), nothing otherwise.
func (e *Engine) Cancel(ctx context.Context, id string) error {
	return e.command(ctx, id, "CancelOrder", func(now time.Time) (fsm.ClientCommand, error) {
		return fsm.CancelOrder{At: now}, nil
	}, nil)
}

// Update starts an UPDATE cycle on a Completed order (§9.2.9, §11.1.3)
// with a new requested CPD and an EXPECTED_RESPONSE_TIME, which an UPDATE
// must carry; the customer description and negotiation options of the
// QUOTATION are kept. The agreement stands until the new offer is accepted
// and acknowledged.
func (e *Engine) Update(ctx context.Context, id string, c cpd.CPD, expectedResponseTime time.Time) error {
	if err := c.Validate(true); err != nil {
		return fmt.Errorf("update %q: %w: requested CPD: %w", id, ErrInvalidRequest, err)
	}
	return e.command(ctx, id, "UpdateOrder", func(now time.Time) (fsm.ClientCommand, error) {
		if !expectedResponseTime.After(now) {
			return nil, invalidRequest("expected response time %s is not in the future (now %s)",
				expectedResponseTime.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
		}
		txn, seq, err := e.newTxn()
		if err != nil {
			return nil, err
		}
		o := e.orders[id].order
		return fsm.UpdateOrder{
			At: now, TransactionID: txn, Seq: seq, CPD: c,
			ExpectedResponseTime: canonical(&expectedResponseTime),
			InformationElements:  o.FSM.Request.InformationElements,
		}, nil
	}, nil)
}

// Activate sends an ACTIVATE for a Completed order (§9.2.11):
// wire.ScheduleAt(t) activates at t (at or before now: immediately),
// wire.ScheduleDeactivate() deactivates.
func (e *Engine) Activate(ctx context.Context, id string, s wire.Schedule) error {
	if !s.Deactivate {
		s = wire.ScheduleAt(s.At)
	}
	return e.command(ctx, id, "ActivateOrder", func(now time.Time) (fsm.ClientCommand, error) {
		txn, seq, err := e.newTxn()
		if err != nil {
			return nil, err
		}
		return fsm.ActivateOrder{At: now, TransactionID: txn, Seq: seq, Schedule: s}, nil
	}, nil)
}

// Withdraw withdraws the agreement of a Completed order (§9.2.8,
// §11.1.2): Completed → Cancelled at once; Order.FSM.WithdrawAcked turns
// true with the server's ACK. Without an ACK after every retry the engine
// raises an Alarm and starts another withdrawal cycle every
// Machine.WithdrawRetryInterval (at least 300 s).
func (e *Engine) Withdraw(ctx context.Context, id string) error {
	return e.command(ctx, id, "WithdrawOrder", func(now time.Time) (fsm.ClientCommand, error) {
		txn, seq, err := e.newTxn()
		if err != nil {
			return nil, err
		}
		return fsm.WithdrawOrder{At: now, TransactionID: txn, Seq: seq}, nil
	}, nil)
}

// GrantExtension grants the server's pending request for more time with an
// ACK (§9.2.2, Figure 11).
func (e *Engine) GrantExtension(ctx context.Context, id string) error {
	return e.command(ctx, id, "GrantExtension", func(now time.Time) (fsm.ClientCommand, error) {
		return fsm.GrantExtension{At: now}, nil
	}, nil)
}

// RefuseExtension refuses the server's pending request for more time with
// FAIL 7 (§9.2.2, Figure 12); the negotiation ends.
func (e *Engine) RefuseExtension(ctx context.Context, id string) error {
	return e.command(ctx, id, "RefuseExtension", func(now time.Time) (fsm.ClientCommand, error) {
		return fsm.RefuseExtension{At: now}, nil
	}, nil)
}

// command steps order id with the command mk builds, on the loop. A command
// that the machine only discards returns a *StateError naming the state;
// check, if set, judges the outcome of a command that was applied.
func (e *Engine) command(ctx context.Context, id, name string, mk func(now time.Time) (fsm.ClientCommand, error), check func(Order) error) error {
	err := e.do(ctx, func() error {
		ent := e.orders[id]
		if ent == nil {
			return fmt.Errorf("%w: %q", ErrUnknownOrder, id)
		}
		cmd, err := mk(e.now())
		if err != nil {
			return err
		}
		discard, err := e.step(ctx, ent, cmd)
		if err != nil {
			return err
		}
		if discard != "" {
			return &StateError{Command: name, CustomerOrderID: id, State: ent.order.FSM.State, Reason: discard}
		}
		if check != nil {
			return check(ent.order)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("order %q: %w", id, err)
	}
	return nil
}

// newTxn draws a transaction ID and a first sequence number (§8.4).
func (e *Engine) newTxn() (string, uint32, error) {
	txn, err := newTransactionID(e.cfg.Rand)
	if err != nil {
		return "", 0, err
	}
	seq, err := newSeq(e.cfg.Rand)
	if err != nil {
		return "", 0, err
	}
	return txn, seq, nil
}

// canonical returns t as the wire carries it (UTC, milliseconds), so that
// what the order remembers equals what a peer echoes.
func canonical(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := wire.CanonicalTime(*t)
	return &c
}
