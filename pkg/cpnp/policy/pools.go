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

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Pools is the default Policy (DESIGN §6): capacity pools with QoS classes,
// per-tenant entitlements, counter-offers and approval modes, as
// docs/policy.md describes. It is safe for concurrent use: the server engine
// calls it from its goroutine while the admin API and metrics read Holdings.
type Pools struct {
	mu       sync.RWMutex
	cfg      compiled
	provider *wire.ProviderDescription

	// orders holds what each order holds, by provider order identifier.
	orders map[string]*order
	// held are the requests held for administrative validation.
	held map[string]Request
	// poolUsed and tenantUsed are the capacity held per pool and per
	// identity (see order.poolUse); kept up to date by change.
	poolUsed   map[string]bw
	tenantUsed map[string]bw
	// nextExpiry is no later than the earliest Expires of a Reserved
	// holding (zero when there is none): Decide scans for expired
	// reservations only once it has passed.
	nextExpiry time.Time
}

var _ Policy = (*Pools)(nil)

// Option configures Pools.
type Option func(*Pools)

// WithProviderDescription makes every offer carry d as its provider
// description (RFC 8921 §9.1.10.2).
func WithProviderDescription(d wire.ProviderDescription) Option {
	return func(p *Pools) { p.provider = &d }
}

// New returns the default Policy for cfg, which must be valid (Validate).
func New(cfg Config, opts ...Option) (*Pools, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new policy: %w", err)
	}
	p := &Pools{
		cfg:        compile(cfg),
		orders:     make(map[string]*order),
		held:       make(map[string]Request),
		poolUsed:   make(map[string]bw),
		tenantUsed: make(map[string]bw),
	}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// Update replaces the configuration at run time (the in-cluster server
// watches CapacityPool objects). Holdings are kept as they are: a pool that
// was removed or shrunk keeps its holdings until they are released, and
// only new decisions see the new pools, classes and limits (an overbooked
// pool offers nothing until enough is released). Held orders stay held and
// are decided with the new configuration when approved. An invalid cfg is
// refused and the current configuration stays.
func (p *Pools) Update(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("update policy: %w", err)
	}
	c := compile(cfg)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg = c
	return nil
}

// Config returns the current configuration.
func (p *Pools) Config() Config {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cfg.clone()
}

// Decide implements Policy; the rules are in docs/policy.md.
func (p *Pools) Decide(req Request) Decision {
	if why := checkRequest(req); why != "" {
		return Decision{Outcome: OutcomeFail, StatusCode: wire.StatusMessageValidationError, Reason: why}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.decideLocked(req)
}

// Approve implements Policy.
func (p *Pools) Approve(providerOrderID string, at time.Time) (Decision, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	req, ok := p.held[providerOrderID]
	if !ok {
		return Decision{}, fmt.Errorf("approve order %q: %w", providerOrderID, ErrNotHeld)
	}
	req.At = at
	req.Approved = true
	return p.decideLocked(req), nil
}

func (p *Pools) decideLocked(req Request) Decision {
	id := req.ProviderOrderID
	p.prune(req.At)
	delete(p.held, id)
	// A new decision replaces what the order held: everything for a
	// QUOTATION, only the pending offer for an UPDATE (its agreement stands
	// until Commit, and is credited to the update below).
	p.change(id, func(o *order) {
		o.reserved = nil
		if req.Kind == RequestQuotation {
			o.committed = nil
		}
	})
	d, hold := p.decide(req, p.orders[id])
	switch d.Outcome {
	case OutcomeHold:
		req.Requested = *req.Requested.DeepCopy()
		req.Current = req.Current.DeepCopy()
		p.held[id] = req
	case OutcomeOffer:
		h := hold
		p.change(id, func(o *order) { o.reserved = &h })
		if p.nextExpiry.IsZero() || h.Expires.Before(p.nextExpiry) {
			p.nextExpiry = h.Expires
		}
	case OutcomeFail, OutcomeChild:
	}
	return d
}

// Release implements Policy.
func (p *Pools) Release(providerOrderID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.held, providerOrderID)
	p.change(providerOrderID, func(o *order) { o.reserved, o.committed = nil, nil })
}

// ReleaseOffer implements Policy.
func (p *Pools) ReleaseOffer(providerOrderID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.held, providerOrderID)
	p.change(providerOrderID, func(o *order) { o.reserved = nil })
}

// Commit implements Policy. Without an open offer (unknown order, already
// committed, released or pruned after expiry) it does nothing.
func (p *Pools) Commit(providerOrderID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.change(providerOrderID, func(o *order) {
		if o.reserved == nil {
			return
		}
		// The reserved holding becomes the committed one in place: holdings
		// are the order's own (Holdings returns copies), so no copy is
		// needed (issue #3).
		h := o.reserved
		h.State, h.Expires = HoldingCommitted, time.Time{}
		o.committed, o.reserved = h, nil
	})
}

// Restore implements Policy. The holding may name a pool or an identity the
// configuration no longer has: it is kept, as after Update. It replaces the
// order's holding in the same state (so that restoring twice is harmless,
// and an engine can put back an earlier agreement). A Committed holding's
// Expires is ignored. Errors wrap ErrInvalidHolding and a *FieldError.
func (p *Pools) Restore(h Holding) error {
	if err := checkHolding(h); err != nil {
		return fmt.Errorf("restore holding %q: %w: %w", h.ProviderOrderID, ErrInvalidHolding, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if h.State == HoldingCommitted {
		h.Expires = time.Time{}
		p.change(h.ProviderOrderID, func(o *order) { o.committed = &h })
		return nil
	}
	p.change(h.ProviderOrderID, func(o *order) { o.reserved = &h })
	if p.nextExpiry.IsZero() || h.Expires.Before(p.nextExpiry) {
		p.nextExpiry = h.Expires
	}
	return nil
}

func checkHolding(h Holding) error {
	var rule, field string
	switch {
	case h.ProviderOrderID == "":
		field, rule = "providerOrderID", "is required"
	case h.Identity == "":
		field, rule = "identity", "is required"
	case h.Pool == "":
		field, rule = "pool", "is required"
	case h.IncomingBps < 0 || h.IncomingBps > MaxBps:
		field, rule = "incomingBps", "must be between 0 and "+strconv.FormatInt(MaxBps, 10)
	case h.OutgoingBps < 0 || h.OutgoingBps > MaxBps:
		field, rule = "outgoingBps", "must be between 0 and "+strconv.FormatInt(MaxBps, 10)
	case h.State != HoldingReserved && h.State != HoldingCommitted:
		field, rule = "state", fmt.Sprintf("must be Reserved or Committed, got %q", h.State)
	case h.State == HoldingReserved && h.Expires.IsZero():
		field, rule = "expires", "is required for a Reserved holding"
	default:
		return nil
	}
	return &FieldError{Field: field, Rule: rule}
}

// Holdings implements Policy.
func (p *Pools) Holdings() []Holding {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]Holding, 0, len(p.orders)+1)
	for _, o := range p.orders {
		if o.committed != nil {
			out = append(out, *o.committed)
		}
		if o.reserved != nil {
			out = append(out, *o.reserved)
		}
	}
	slices.SortFunc(out, func(a, b Holding) int {
		return cmp.Or(cmp.Compare(a.ProviderOrderID, b.ProviderOrderID), stateRank(a.State)-stateRank(b.State))
	})
	return out
}

func stateRank(s HoldingState) int {
	if s == HoldingCommitted {
		return 0
	}
	return 1
}

// Held lists the provider order identifiers of the orders held for
// administrative validation, sorted, for the admin API.
func (p *Pools) Held() []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]string, 0, len(p.held))
	for id := range p.held {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// prune drops the Reserved holdings whose offer expired at or before at
// (§9.1.8: the server silently drops an expired offer). The engine releases
// them on its validity timer; this is the safety net that keeps a lost
// release from holding capacity for ever. A later Commit of a pruned offer
// does nothing: an expired offer cannot be accepted.
func (p *Pools) prune(at time.Time) {
	if p.nextExpiry.IsZero() || at.Before(p.nextExpiry) {
		return
	}
	var next time.Time
	for id, o := range p.orders {
		r := o.reserved
		switch {
		case r == nil:
		case !r.Expires.After(at):
			p.change(id, func(o *order) { o.reserved = nil })
		case next.IsZero() || r.Expires.Before(next):
			next = r.Expires
		}
	}
	p.nextExpiry = next
}

// bw is a capacity per direction.
type bw [2]int64

// Directions index bw.
const (
	dirIn  = 0
	dirOut = 1
)

var dirNames = [2]string{"incoming", "outgoing"}

// order is what one order holds: an agreement, an open offer, or both
// while an UPDATE's offer is open.
type order struct {
	committed, reserved *Holding
}

// holdings returns the order's holdings, agreement first. The slice is
// backed by an array in the result, so that the accounting done on every
// decision allocates nothing (issue #3).
func (o *order) holdings() holdingList {
	var l holdingList
	if o.committed != nil {
		l.a[l.n] = o.committed
		l.n++
	}
	if o.reserved != nil {
		l.a[l.n] = o.reserved
		l.n++
	}
	return l
}

// holdingList is at most the two holdings of one order.
type holdingList struct {
	a [2]*Holding
	n int
}

// all returns the holdings as a slice of l's array: call it on an
// addressable holdingList that outlives the slice.
func (l *holdingList) all() []*Holding { return l.a[:l.n] }

// poolUse is what the order takes from pool, per direction: the larger of
// its holdings there. While an UPDATE's offer is open the order holds its
// agreement and the offer, but only one of them survives (Commit keeps the
// offer, ReleaseOffer the agreement), so it needs room for the larger, not
// for both. A nil order uses nothing.
func (o *order) poolUse(pool string) bw {
	var u bw
	if o == nil {
		return u
	}
	hl := o.holdings()
	for _, h := range hl.all() {
		if h.Pool == pool {
			u = bw{max(u[dirIn], h.IncomingBps), max(u[dirOut], h.OutgoingBps)}
		}
	}
	return u
}

// tenantUse is what the order counts against identity's limits, by the
// same rule across pools.
func (o *order) tenantUse(identity string) bw {
	var u bw
	if o == nil {
		return u
	}
	hl := o.holdings()
	for _, h := range hl.all() {
		if h.Identity == identity {
			u = bw{max(u[dirIn], h.IncomingBps), max(u[dirOut], h.OutgoingBps)}
		}
	}
	return u
}

// change applies fn to the order id (created empty if missing), keeping
// poolUsed and tenantUsed up to date, and forgets the order once it holds
// nothing.
func (p *Pools) change(id string, fn func(o *order)) {
	o := p.orders[id]
	if o == nil {
		o = &order{}
	}
	p.account(o, -1)
	fn(o)
	p.account(o, 1)
	if o.committed == nil && o.reserved == nil {
		delete(p.orders, id)
		return
	}
	p.orders[id] = o
}

func (p *Pools) account(o *order, sign int64) {
	hl := o.holdings()
	hs := hl.all()
	for i, h := range hs {
		if i == 0 || h.Pool != hs[0].Pool {
			u := o.poolUse(h.Pool)
			t := p.poolUsed[h.Pool]
			t[dirIn] += sign * u[dirIn]
			t[dirOut] += sign * u[dirOut]
			p.poolUsed[h.Pool] = t
		}
		if i == 0 || h.Identity != hs[0].Identity {
			u := o.tenantUse(h.Identity)
			t := p.tenantUsed[h.Identity]
			t[dirIn] += sign * u[dirIn]
			t[dirOut] += sign * u[dirOut]
			p.tenantUsed[h.Identity] = t
		}
	}
}

// compiled is a validated Config with lookup tables.
type compiled struct {
	Config
	pools   map[string]*Pool
	tenants map[string]*Tenant
}

// clone returns a deep copy of c, so that the policy and its callers never
// share memory.
func (c Config) clone() Config {
	c.Pools = slices.Clone(c.Pools)
	for i := range c.Pools {
		p := &c.Pools[i]
		p.QoSClasses = slices.Clone(p.QoSClasses)
		for j := range p.QoSClasses {
			q := &p.QoSClasses[j]
			q.OneWayDelayMs, q.DelayVariationMs, q.LossRatio = clonePtr(q.OneWayDelayMs), clonePtr(q.DelayVariationMs), clonePtr(q.LossRatio)
		}
		p.OfferValidity = clonePtr(p.OfferValidity)
	}
	c.Tenants = slices.Clone(c.Tenants)
	for i := range c.Tenants {
		t := &c.Tenants[i]
		t.Pools = slices.Clone(t.Pools)
		t.MaxIncomingBps, t.MaxOutgoingBps = clonePtr(t.MaxIncomingBps), clonePtr(t.MaxOutgoingBps)
	}
	c.Upstreams = slices.Clone(c.Upstreams)
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func compile(c Config) compiled {
	c = c.clone()
	out := compiled{
		Config:  c,
		pools:   make(map[string]*Pool, len(c.Pools)),
		tenants: make(map[string]*Tenant, len(c.Tenants)),
	}
	for i := range c.Pools {
		out.pools[c.Pools[i].Name] = &c.Pools[i]
	}
	for i := range c.Tenants {
		out.tenants[c.Tenants[i].Identity] = &c.Tenants[i]
	}
	return out
}

// tenant returns the entitlement of identity: its own entry, else the
// Wildcard entry, else nil.
func (c *compiled) tenant(identity string) *Tenant {
	if t, ok := c.tenants[identity]; ok {
		return t
	}
	return c.tenants[Wildcard]
}
