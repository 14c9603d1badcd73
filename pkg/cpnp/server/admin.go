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
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// OrderSummary is one order as the admin API lists it (RFC 8921 §8.2,
// §12.2). It never carries a nonce.
type OrderSummary struct {
	// ProviderOrderID is PROVIDER_ORDER_IDENTIFIER (§9.1.2), the order's key.
	ProviderOrderID string `json:"providerOrderID"`
	// CustomerOrderID is CUSTOMER_ORDER_IDENTIFIER (§9.1.1).
	CustomerOrderID string `json:"customerOrderID"`
	// Identity is the authenticated client identity the order is bound to.
	Identity string `json:"identity"`
	// State is the Figure 9 state.
	State string `json:"state"`
	// Held is true while the order waits for an administrator (§8.2, §12.2).
	Held bool `json:"held,omitempty"`
	// Transaction is the kind of the current transaction (Quotation,
	// Update, Activate, Withdraw) and TransactionID its identifier.
	Transaction   string `json:"transaction"`
	TransactionID string `json:"transactionID"`
	// Peer is the address the client last sent from.
	Peer string `json:"peer,omitempty"`
	// Decision is the policy's reason for its last decision: why the order
	// is held, which pool offers, what is short.
	Decision string `json:"decision,omitempty"`
	// OfferValidUntil is VALIDITY_OFFER_TIME of the open offer (§9.1.8).
	OfferValidUntil *time.Time `json:"offerValidUntil,omitempty"`
	// RequestedOfferTime is the EXPECTED_OFFER_TIME of a request for more
	// time the client has not answered yet (§9.2.2).
	RequestedOfferTime *time.Time `json:"requestedOfferTime,omitempty"`
	// Agreement describes the agreement in force (§9.2.6).
	Agreement *AgreementSummary `json:"agreement,omitempty"`
	// Failure is the last abnormal end of a cycle or transaction.
	Failure *fsm.Failure `json:"failure,omitempty"`
	// NextDeadline is the earliest armed timer (§8.5, §11.4).
	NextDeadline *time.Time `json:"nextDeadline,omitempty"`
	// Child is the order's child order upstream, if any (§8.8).
	Child *ChildSummary `json:"child,omitempty"`
	// Created and Updated are when the order was opened and last changed.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// AgreementSummary describes an agreement (§9.2.6, §9.2.11).
type AgreementSummary struct {
	// Active reports whether it is active now.
	Active bool `json:"active"`
	// ActivationType is the negotiated activation type (DESIGN §3).
	ActivationType wire.ActivationType `json:"activationType,omitempty"`
	// ScheduledAt is a future activation time.
	ScheduledAt *time.Time `json:"scheduledAt,omitempty"`
	// Since is when the agreement was reached.
	Since time.Time `json:"since"`
	// Pool is the policy pool the agreement draws from.
	Pool string `json:"pool,omitempty"`
	// IncomingBps and OutgoingBps are its capacity (RFC 7297 §3.5).
	IncomingBps int64 `json:"incomingBps"`
	OutgoingBps int64 `json:"outgoingBps"`
}

// OrderDetail is one order with its documents, for GET
// /admin/orders/{id}. It never carries a nonce.
type OrderDetail struct {
	OrderSummary
	// Request is the request of the agreement or of the QUOTATION under
	// negotiation (§9.2.1).
	Request RequestDetail `json:"request"`
	// Update is the request of an UPDATE cycle in progress (§9.2.9).
	Update *RequestDetail `json:"update,omitempty"`
	// Offer is the offer of the current cycle (§9.2.3).
	Offer *OfferDetail `json:"offer,omitempty"`
	// AgreementCPD is the Accepted CPD of the agreement in force.
	AgreementCPD *cpd.CPD `json:"agreementCPD,omitempty"`
	// Timers are the armed timers and their deadlines.
	Timers map[fsm.TimerID]time.Time `json:"timers,omitempty"`
}

// RequestDetail is a client's request (§9.2.1, §9.2.9).
type RequestDetail struct {
	CPD                  cpd.CPD                   `json:"cpd"`
	ExpectedResponseTime *time.Time                `json:"expectedResponseTime,omitempty"`
	InformationElements  *wire.InformationElements `json:"informationElements,omitempty"`
}

// OfferDetail is an offer made by the server (§9.2.3), without its nonce.
type OfferDetail struct {
	CPD                cpd.CPD        `json:"cpd"`
	ValidUntil         time.Time      `json:"validUntil"`
	ActivationSchedule *wire.Schedule `json:"activationSchedule,omitempty"`
	// Open is true while the offer holds its reservation.
	Open bool   `json:"open"`
	Pool string `json:"pool,omitempty"`
}

func summaryOf(r *record, now time.Time) OrderSummary {
	o := &r.Order
	s := OrderSummary{
		ProviderOrderID:    o.ProviderOrderID,
		CustomerOrderID:    o.CustomerOrderID,
		Identity:           o.Identity,
		State:              string(o.State),
		Held:               o.Held,
		Transaction:        string(o.Txn.Kind),
		TransactionID:      o.Txn.ID,
		Peer:               r.Peer,
		Decision:           r.Decision,
		RequestedOfferTime: copyTime(o.RequestedOfferTime),
		Created:            r.Created,
		Updated:            r.Updated,
	}
	if o.Offer != nil && o.Reserved {
		s.OfferValidUntil = copyTime(&o.Offer.ValidUntil)
	}
	if a := o.Agreement; a != nil {
		in, out := capacityOf(a.CPD)
		s.Agreement = &AgreementSummary{
			Active:         a.ActiveAt(now),
			ActivationType: a.ActivationType,
			ScheduledAt:    copyTime(a.ScheduledAt),
			Since:          a.Since,
			Pool:           r.AgreementPool,
			IncomingBps:    in,
			OutgoingBps:    out,
		}
		if s.Agreement.Active {
			s.Agreement.ScheduledAt = nil
		}
	}
	if o.Failure != nil {
		f := *o.Failure
		s.Failure = &f
	}
	// The child order's timers are this order's too (nextTimer, §8.8).
	if _, at, _, ok := nextTimer(o); ok {
		s.NextDeadline = &at
	}
	s.Child = childSummaryOf(o)
	return s
}

func detailOf(r *record, now time.Time) OrderDetail {
	o := &r.Order
	d := OrderDetail{OrderSummary: summaryOf(r, now), Request: requestDetail(o.Request)}
	if o.Update != nil {
		u := requestDetail(*o.Update)
		d.Update = &u
	}
	if off := o.Offer; off != nil {
		d.Offer = &OfferDetail{CPD: *off.CPD.DeepCopy(), ValidUntil: off.ValidUntil, Open: o.Reserved}
		if off.ActivationSchedule != nil {
			sch := *off.ActivationSchedule
			d.Offer.ActivationSchedule = &sch
		}
		if o.Reserved {
			d.Offer.Pool = r.OfferPool
		}
	}
	if a := o.Agreement; a != nil {
		d.AgreementCPD = a.CPD.DeepCopy()
	}
	if len(o.Timers) > 0 {
		d.Timers = make(map[fsm.TimerID]time.Time, len(o.Timers))
		for k, v := range o.Timers {
			d.Timers[k] = v
		}
	}
	return d
}

func requestDetail(r fsm.Request) RequestDetail {
	d := RequestDetail{CPD: *r.CPD.DeepCopy(), ExpectedResponseTime: copyTime(r.ExpectedResponseTime)}
	if ie := r.InformationElements; ie != nil {
		c := *ie
		d.InformationElements = &c
	}
	return d
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// List returns every order the server keeps, oldest first (RFC 8921 §8.2,
// §12.2: the administrator sees, among others, the orders held for
// administrative validation). It may be called at any time, also after
// Shutdown.
func (s *Server) List() []OrderSummary {
	now := s.clk.Now()
	s.snapMu.RLock()
	out := make([]OrderSummary, 0, len(s.snap))
	for _, r := range s.snap {
		out = append(out, summaryOf(&r, now))
	}
	s.snapMu.RUnlock()
	slices.SortFunc(out, func(a, b OrderSummary) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ProviderOrderID, b.ProviderOrderID))
	})
	return out
}

// Get returns one order with its documents.
func (s *Server) Get(providerOrderID string) (OrderDetail, bool) {
	now := s.clk.Now()
	s.snapMu.RLock()
	r, ok := s.snap[providerOrderID]
	s.snapMu.RUnlock()
	if !ok {
		return OrderDetail{}, false
	}
	return detailOf(&r, now), true
}

// Approve approves an order held for administrative validation (§8.2,
// §12.2): the policy decides again, told not to hold it, and the order
// gets its offer (or a FAIL). It fails with an *OrderError matching
// ErrOrderNotFound or ErrNotHeld.
func (s *Server) Approve(ctx context.Context, providerOrderID string) error {
	return s.held(ctx, providerOrderID, func(now time.Time) fsm.Event { return fsm.AdminApprove{At: now} })
}

// Reject refuses an order held for administrative validation: the client
// gets FAIL 4, Administratively prohibited (DESIGN §3), and the order is
// Cancelled (or, for an UPDATE, back to its agreement). It fails with an
// *OrderError matching ErrOrderNotFound or ErrNotHeld.
func (s *Server) Reject(ctx context.Context, providerOrderID string) error {
	return s.held(ctx, providerOrderID, func(now time.Time) fsm.Event { return fsm.AdminReject{At: now} })
}

func (s *Server) held(ctx context.Context, poid string, ev func(time.Time) fsm.Event) error {
	return s.command(ctx, poid, func(e *entry) error {
		o := &e.rec.Order
		if !o.Held || o.State != fsm.ServerAwaitingProcessing {
			return &OrderError{ProviderOrderID: poid, State: string(o.State), Err: ErrNotHeld}
		}
		s.stepOrder(e, nil, nil, ev(s.clk.Now()))
		return nil
	})
}

// RequestMoreTime asks the order's client for more time to make the offer
// (§9.2.2, Figure 11): a PROCESSING with EXPECTED_OFFER_TIME eot and the
// optional subcode (Table 2), answered by the client with ACK (granted) or
// FAIL 7 (refused, Figure 12). The order must be waiting for its offer
// (AwaitingProcessing); otherwise the error matches ErrNotNegotiating.
func (s *Server) RequestMoreTime(ctx context.Context, providerOrderID string, eot time.Time, subcode wire.Subcode) error {
	if subcode != 0 && !subcode.Valid() {
		return fmt.Errorf("request more time for order %q: unknown processing subcode %d (RFC 8921 Table 2)", providerOrderID, subcode)
	}
	return s.command(ctx, providerOrderID, func(e *entry) error {
		o := &e.rec.Order
		now := s.clk.Now()
		switch {
		case o.State != fsm.ServerAwaitingProcessing:
			return &OrderError{ProviderOrderID: providerOrderID, State: string(o.State), Err: ErrNotNegotiating}
		case !eot.After(now):
			return fmt.Errorf("request more time for order %q: expected offer time %s is not in the future", providerOrderID, eot.UTC().Format(time.RFC3339))
		}
		s.stepOrder(e, nil, nil, fsm.RequestMoreTime{ExpectedOfferTime: eot, Subcode: subcode, At: now})
		return nil
	})
}

// command runs fn on the loop for the order poid.
func (s *Server) command(ctx context.Context, poid string, fn func(e *entry) error) error {
	var err error
	if rerr := s.run(ctx, func() {
		if cerr := context.Cause(s.failedCtx); cerr != nil {
			err = cerr
			return
		}
		e := s.orders[poid]
		if e == nil {
			err = &OrderError{ProviderOrderID: poid, Err: ErrOrderNotFound}
			return
		}
		err = fn(e)
	}); rerr != nil {
		return fmt.Errorf("order %q: %w", poid, rerr)
	}
	return err
}
