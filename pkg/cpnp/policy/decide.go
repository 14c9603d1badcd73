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
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// checkRequest returns why req cannot be decided at all (a caller bug), or "".
func checkRequest(req Request) string {
	switch {
	case req.ProviderOrderID == "":
		return "malformed request: no provider order identifier"
	case req.Kind != RequestQuotation && req.Kind != RequestUpdate:
		return fmt.Sprintf("malformed request: kind %q is neither Quotation nor Update", req.Kind)
	case len(req.Requested.Components) == 0:
		return "malformed request: the requested CPD has no component (RFC 8921 §8.7)"
	}
	return ""
}

// decide is the decision of docs/policy.md, for the order self (what it
// still holds: its agreement, for an UPDATE). It changes nothing; for an
// Offer it returns the holding to reserve.
func (p *Pools) decide(req Request, self *order) (Decision, Holding) {
	c := &p.cfg
	// 1. Entitlement (§8.2): the identity must have a tenant entry.
	t := c.tenant(req.Identity)
	if req.Identity == "" || t == nil {
		return fail(wire.StatusAuthorizationFailed, "identity %q is not entitled to order: no tenant entry in the policy (RFC 8921 §8.2)", req.Identity), Holding{}
	}
	// Most requests have a component or two and most tenants a pool or
	// two: their demands and candidates live in this frame (issue #3).
	var (
		compsBuf [2]compDemand
		candsBuf [2]candidate
	)
	dm := demandOf(req.Requested, compsBuf[:0])
	childOK := len(c.Upstreams) > 0 && req.Options.Scope != wire.ScopeLocal

	// 2. Pools whose QoS classes and availability meet every component.
	cands := candsBuf[:0]
	var unmet []string
	for _, name := range t.Pools {
		pool := c.pools[name]
		if pool == nil { // unreachable with a validated configuration
			continue
		}
		classes, why := matchPool(pool, req.Requested)
		if why != "" {
			unmet = append(unmet, "pool "+name+": "+why)
			continue
		}
		cands = append(cands, p.candidate(pool, classes, t, req.Identity, self, dm))
	}
	if len(cands) == 0 {
		why := "no pool of tenant " + strconv.Quote(t.Identity) + " meets the request: " + strings.Join(unmet, "; ")
		if childOK {
			child := req.Requested.DeepCopy()
			return Decision{Outcome: OutcomeChild, Upstream: c.Upstreams[0].Name, ChildRequest: child,
				Reason: why + "; requesting it from upstream " + c.Upstreams[0].Name + " (RFC 8921 §8.8)"}, Holding{}
		}
		return fail(wire.StatusOutOfResources, "%s", why), Holding{}
	}

	// 3. The pool with the most free capacity for this tenant.
	best := cands[0]
	for _, k := range cands[1:] {
		if k.tier > best.tier || k.tier == best.tier && k.score > best.score {
			best = k
		}
	}
	alloc := allocate(dm, best.free)
	partial := dm.partial(alloc)
	var short []string
	for d := range 2 {
		if dm.target[d] > best.free[d] {
			short = append(short, best.shortage(d, dm, t.Identity))
		}
	}

	// 4. The pool cannot satisfy the request: a child order for the
	// shortfall, when recursion is allowed and the tenant is entitled to
	// the whole request.
	if (partial || best.tier == tierNone) && childOK && best.tenantFree[dirIn] >= dm.target[dirIn] && best.tenantFree[dirOut] >= dm.target[dirOut] {
		if child := shortfall(req.Requested, dm, alloc); child != nil {
			if d, held := approval(best.pool, dm, req.Approved); held {
				return d, Holding{}
			}
			return Decision{Outcome: OutcomeChild, Pool: best.pool.Name, Upstream: c.Upstreams[0].Name, ChildRequest: child,
				Reason: strings.Join(short, "; ") + "; requesting the shortfall from upstream " + c.Upstreams[0].Name + " (RFC 8921 §8.8)"}, Holding{}
		}
	}
	// 5. Nothing free in a requested direction: FAIL 5 (DESIGN §3).
	if best.tier == tierNone {
		return fail(wire.StatusOutOfResources, "%s", strings.Join(short, "; ")), Holding{}
	}
	// 6. Administrative validation (§8.2, §12.2).
	if d, held := approval(best.pool, dm, req.Approved); held {
		return d, Holding{}
	}
	// 7. The offer: concrete, every requested clause kept.
	offered := offer(req.Requested, best.pool, best.classes, dm, alloc)
	reason := "offer from pool " + best.pool.Name
	if partial {
		reason = "counter-offer from pool " + best.pool.Name + ": " + strings.Join(short, "; ")
		if len(short) == 0 {
			reason += "requested capacity is not a whole number of bits per second"
		}
	}
	validUntil := req.At.Add(best.pool.Validity())
	var sum bw
	for _, a := range alloc {
		sum[dirIn] += a[dirIn]
		sum[dirOut] += a[dirOut]
	}
	d := Decision{
		Outcome:    OutcomeOffer,
		Offered:    offered,
		ValidUntil: validUntil,
		Reason:     reason,
		Partial:    partial,
		Pool:       best.pool.Name,
	}
	if p.provider != nil {
		pd := *p.provider
		d.Provider = &pd
	}
	return d, Holding{
		ProviderOrderID: req.ProviderOrderID,
		Identity:        req.Identity,
		Pool:            best.pool.Name,
		IncomingBps:     sum[dirIn],
		OutgoingBps:     sum[dirOut],
		State:           HoldingReserved,
		Expires:         validUntil,
	}
}

func fail(code wire.StatusCode, format string, args ...any) Decision {
	return Decision{Outcome: OutcomeFail, StatusCode: code, Reason: fmt.Sprintf(format, args...)}
}

// approval holds the order when the pool's approval mode asks for it and no
// administrator approved it yet.
func approval(pool *Pool, dm demand, approved bool) (Decision, bool) {
	if approved {
		return Decision{}, false
	}
	var why string
	switch pool.Approval.Mode {
	case ApprovalManual:
		why = "pool " + pool.Name + " requires administrative validation of every order (approval mode Manual, RFC 8921 §8.2, §12.2)"
	case ApprovalThreshold:
		above := pool.Approval.AboveBps
		for d := range 2 {
			if dm.target[d] > above {
				why = fmt.Sprintf("pool %s requires administrative validation above %d bps: %d bps %s requested (RFC 8921 §8.2, §12.2)",
					pool.Name, above, dm.target[d], dirNames[d])
				break
			}
		}
	case "", ApprovalAutomatic:
	}
	if why == "" {
		return Decision{}, false
	}
	return Decision{Outcome: OutcomeHold, Pool: pool.Name, Reason: why}, true
}

// Pool ranking tiers.
const (
	tierNone    = iota // nothing free in a requested direction
	tierPartial        // something free in every requested direction
	tierFull           // the request fits
)

// candidate is a pool that meets the request's QoS and availability, with
// what is free in it for the tenant.
type candidate struct {
	pool               *Pool
	classes            []*QoSClass
	poolFree           bw
	tenantFree         bw
	free               bw // min(poolFree, tenantFree)
	tier               int
	score              int64
	tenantLimit        [2]*int64
	poolCap, poolTaken bw
}

// candidate computes what is free in pool for identity (tenant t). The
// order's own holdings (its agreement, for an UPDATE) do not count as taken:
// what it replaces is free to it.
func (p *Pools) candidate(pool *Pool, classes []*QoSClass, t *Tenant, identity string, self *order, dm demand) candidate {
	k := candidate{pool: pool, classes: classes, tenantLimit: [2]*int64{t.MaxIncomingBps, t.MaxOutgoingBps}}
	k.poolCap = bw{pool.Capacity.IncomingBps, pool.Capacity.OutgoingBps}
	pu, ps := p.poolUsed[pool.Name], self.poolUse(pool.Name)
	tu, ts := p.tenantUsed[identity], self.tenantUse(identity)
	for d := range 2 {
		k.poolTaken[d] = pu[d] - ps[d]
		k.poolFree[d] = max(0, k.poolCap[d]-k.poolTaken[d])
		k.tenantFree[d] = math.MaxInt64
		if lim := k.tenantLimit[d]; lim != nil {
			k.tenantFree[d] = max(0, *lim-(tu[d]-ts[d]))
		}
		k.free[d] = min(k.poolFree[d], k.tenantFree[d])
	}
	k.tier = tierFull
	requested := dm.target[dirIn] > 0 || dm.target[dirOut] > 0
	for d := range 2 {
		if dm.target[d] > k.free[d] {
			k.tier = min(k.tier, tierPartial)
		}
		if dm.target[d] > 0 && k.free[d] == 0 {
			k.tier = tierNone
		}
		if !requested || dm.target[d] > 0 {
			k.score += k.free[d]
		}
	}
	return k
}

// shortage says why direction d of the request does not fit.
func (k candidate) shortage(d int, dm demand, identity string) string {
	s := fmt.Sprintf("pool %s: %d bps %s requested, %d bps free for %q (pool: %d of %d bps taken",
		k.pool.Name, dm.target[d], dirNames[d], k.free[d], identity, k.poolTaken[d], k.poolCap[d])
	if lim := k.tenantLimit[d]; lim != nil {
		s += fmt.Sprintf("; tenant: %d of its %d bps limit free", k.tenantFree[d], *lim)
	}
	return s + ")"
}

// matchPool chooses, for each component, the pool's QoS class that meets
// its QoS clause (nil when it has none or names a class), and checks its
// availability. It returns why the pool does not meet the request, or "".
func matchPool(pool *Pool, c cpd.CPD) ([]*QoSClass, string) {
	classes := make([]*QoSClass, len(c.Components))
	for i := range c.Components {
		comp := &c.Components[i]
		at := "components[" + strconv.Itoa(i) + "]: "
		if q := comp.QoS; q != nil {
			switch {
			case q.Qualitative():
				if classByName(pool, q.Class) == nil {
					return nil, at + "no QoS class " + strconv.Quote(q.Class)
				}
			case q.Quantitative():
				best := bestClass(pool, q)
				if best == nil {
					return nil, at + "no QoS class meets " + describeQoS(q)
				}
				classes[i] = best
			}
		}
		if a := comp.Availability; a != nil {
			lo, hasLo := a.Percent.Min()
			switch {
			case pool.AvailabilityPercent == 0:
				return nil, at + "availability requested, the pool guarantees none"
			case hasLo && lo > pool.AvailabilityPercent:
				return nil, at + fmt.Sprintf("availability of %s%% requested, the pool guarantees %s%%",
					formatFloat(lo), formatFloat(pool.AvailabilityPercent))
			}
		}
	}
	return classes, ""
}

func classByName(pool *Pool, name string) *QoSClass {
	for i := range pool.QoSClasses {
		if pool.QoSClasses[i].Name == name {
			return &pool.QoSClasses[i]
		}
	}
	return nil
}

// metrics returns the class's values in the order delay, delay variation,
// loss ratio (nil: not stated).
func (q *QoSClass) metrics() [3]*float64 {
	return [3]*float64{q.OneWayDelayMs, q.DelayVariationMs, q.LossRatio}
}

var metricNames = [3]string{"one_way_delay_ms", "delay_variation_ms", "loss_ratio"}

func requestedMetrics(q *cpd.QoS) [3]cpd.Value {
	return [3]cpd.Value{q.OneWayDelayMs, q.DelayVariationMs, q.LossRatio}
}

// bestClass returns the best class of the pool whose values meet the
// quantitative bounds q (RFC 7297 §3.3): every requested metric stated by
// the class and no worse than the requested maximum. Best is the lowest
// delay, then delay variation, then loss ratio; ties go to the first listed.
func bestClass(pool *Pool, q *cpd.QoS) *QoSClass {
	req := requestedMetrics(q)
	var best *QoSClass
	for i := range pool.QoSClasses {
		k := &pool.QoSClasses[i]
		m := k.metrics()
		ok := true
		for j := range 3 {
			if req[j].IsZero() {
				continue
			}
			hi, bounded := req[j].Max()
			if m[j] == nil || bounded && *m[j] > hi {
				ok = false
				break
			}
		}
		if ok && (best == nil || better(k, best)) {
			best = k
		}
	}
	return best
}

// better reports whether class a beats b: lexicographically lower (delay,
// delay variation, loss ratio), an unstated metric counting as infinite.
func better(a, b *QoSClass) bool {
	ma, mb := a.metrics(), b.metrics()
	for j := range 3 {
		x, y := math.Inf(1), math.Inf(1)
		if ma[j] != nil {
			x = *ma[j]
		}
		if mb[j] != nil {
			y = *mb[j]
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func describeQoS(q *cpd.QoS) string {
	var parts []string
	for j, v := range requestedMetrics(q) {
		if !v.IsZero() {
			parts = append(parts, metricNames[j]+" "+v.String())
		}
	}
	return strings.Join(parts, ", ")
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// demand is the capacity a request asks for, per component and direction
// (RFC 7297 §3.5), in whole bits per second.
type demand struct {
	comps []compDemand
	// lo and target are the totals over the components (saturating).
	lo, target bw
}

type compDemand struct {
	present    [2]bool
	v          [2]cpd.Value
	lo, target bw
}

// demandOf reads the capacity of every component: the amount asked for is
// the fixed value, or for a range its upper bound when it has one, else its
// lower bound; the least acceptable amount is the lower bound (0 when
// open). Amounts are whole bps: lower bounds round up, upper bounds down,
// and both are capped at MaxBps. The components' demands go into buf's
// array when it has room.
func demandOf(c cpd.CPD, buf []compDemand) demand {
	dm := demand{comps: append(buf[:0], make([]compDemand, len(c.Components))...)}
	for i := range c.Components {
		k := c.Components[i].Capacity
		if k == nil {
			continue
		}
		cd := &dm.comps[i]
		cd.v = [2]cpd.Value{k.IncomingBps, k.OutgoingBps}
		for d := range 2 {
			v := cd.v[d]
			if v.IsZero() {
				continue
			}
			cd.present[d] = true
			if lo, ok := v.Min(); ok {
				cd.lo[d] = toBps(math.Ceil(lo))
			}
			cd.target[d] = cd.lo[d]
			if hi, ok := v.Max(); ok {
				cd.target[d] = max(cd.lo[d], toBps(math.Floor(hi)))
			}
			dm.lo[d] = satAdd(dm.lo[d], cd.lo[d])
			dm.target[d] = satAdd(dm.target[d], cd.target[d])
		}
	}
	return dm
}

func toBps(f float64) int64 {
	switch {
	case !(f > 0): // also NaN
		return 0
	case f >= float64(MaxBps):
		return MaxBps
	}
	return int64(f)
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// allocate shares free among the components, per direction, in the order
// of the request: everything asked for when it fits; else every
// component's least acceptable amount first, then the rest up to what each
// asks for, in order; else (a counter-offer) the least acceptable amounts
// in order until nothing is left.
func allocate(dm demand, free bw) []bw {
	alloc := make([]bw, len(dm.comps))
	for d := range 2 {
		switch {
		case dm.target[d] <= free[d]:
			for i, c := range dm.comps {
				alloc[i][d] = c.target[d]
			}
		case dm.lo[d] <= free[d]:
			rest := free[d] - dm.lo[d]
			for i, c := range dm.comps {
				extra := min(c.target[d]-c.lo[d], rest)
				alloc[i][d] = c.lo[d] + extra
				rest -= extra
			}
		default:
			rest := free[d]
			for i, c := range dm.comps {
				alloc[i][d] = min(c.lo[d], rest)
				rest -= alloc[i][d]
			}
		}
	}
	return alloc
}

// partial reports whether alloc falls outside a requested capacity
// somewhere, i.e. cpd.Satisfies would report a capacity mismatch.
func (dm demand) partial(alloc []bw) bool {
	for i, c := range dm.comps {
		for d := range 2 {
			if !c.present[d] {
				continue
			}
			a := float64(alloc[i][d])
			if lo, ok := c.v[d].Min(); ok && a < lo {
				return true
			}
			if hi, ok := c.v[d].Max(); ok && a > hi {
				return true
			}
		}
	}
	return false
}

// offer builds the offered CPD: a copy of the request with every loose
// value fixed (RFC 8921 §8.7: the offer is concrete): capacity to the
// allocation, quantitative QoS to the chosen class's values, availability
// to the pool's, and the MTU and notification interval to their upper
// bound when they have one, else their lower bound. A requested QoS class
// is offered by name.
func offer(req cpd.CPD, pool *Pool, classes []*QoSClass, dm demand, alloc []bw) cpd.CPD {
	off := *req.DeepCopy()
	for i := range off.Components {
		c := &off.Components[i]
		if k := c.Capacity; k != nil {
			if dm.comps[i].present[dirIn] {
				k.IncomingBps = cpd.Fixed(float64(alloc[i][dirIn]))
			}
			if dm.comps[i].present[dirOut] {
				k.OutgoingBps = cpd.Fixed(float64(alloc[i][dirOut]))
			}
		}
		if q, k := c.QoS, classes[i]; q != nil && k != nil {
			vals := []*cpd.Value{&q.OneWayDelayMs, &q.DelayVariationMs, &q.LossRatio}
			for j, m := range k.metrics() {
				if m != nil {
					*vals[j] = cpd.Fixed(*m)
				}
			}
		}
		if a := c.Availability; a != nil {
			a.Percent = cpd.Fixed(pool.AvailabilityPercent)
		}
		if f := c.Conformance; f != nil {
			f.MTU = settle(f.MTU)
		}
		if n := c.Notifications; n != nil {
			n.IntervalS = settle(n.IntervalS)
		}
	}
	return off
}

// settle fixes a loose value to its upper bound, else its lower bound.
func settle(v cpd.Value) cpd.Value {
	if hi, ok := v.Max(); ok {
		return cpd.Fixed(hi)
	}
	if lo, ok := v.Min(); ok {
		return cpd.Fixed(lo)
	}
	return v
}

// shortfall is the CPD of a child order (§8.8): the request reduced to
// what the allocation leaves missing, each component's capacity fixed to
// its shortfall; components that miss nothing are left out. nil when
// nothing is missing.
func shortfall(req cpd.CPD, dm demand, alloc []bw) *cpd.CPD {
	src := req.DeepCopy()
	out := &cpd.CPD{}
	for i := range src.Components {
		c := src.Components[i]
		if c.Capacity == nil {
			continue
		}
		var missing bool
		vals := [2]*cpd.Value{&c.Capacity.IncomingBps, &c.Capacity.OutgoingBps}
		for d := range 2 {
			switch s := dm.comps[i].target[d] - alloc[i][d]; {
			case s > 0:
				*vals[d] = cpd.Fixed(float64(s))
				missing = true
			default:
				*vals[d] = cpd.Value{}
			}
		}
		if missing {
			out.Components = append(out.Components, c)
		}
	}
	if len(out.Components) == 0 {
		return nil
	}
	return out
}
