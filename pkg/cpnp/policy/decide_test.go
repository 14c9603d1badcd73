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
	gocmp "cmp"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// outcome is the part of a Decision most tests compare.
type outcome struct {
	Outcome    Outcome
	StatusCode wire.StatusCode
	Partial    bool
	Pool       string
	In, Out    int64
}

func summarize(d Decision) outcome {
	in, out := offeredBps(d)
	return outcome{Outcome: d.Outcome, StatusCode: d.StatusCode, Partial: d.Partial, Pool: d.Pool, In: in, Out: out}
}

// Reference: RFC 8921 §8.2 ("Check whether a Customer is entitled to
// initiate a provisioning quotation request"), Table 4 code 3.
func TestDecideEntitlement(t *testing.T) {
	t.Parallel()
	wild := simpleConfig(1000)
	wild.Tenants = append(wild.Tenants, Tenant{Identity: Wildcard, Pools: []string{"p"}, MaxOutgoingBps: i64(100)})
	tests := map[string]struct {
		cfg        Config
		identity   string
		want       outcome
		wantReason string
	}{
		"listed identity": {cfg: simpleConfig(1000), identity: "a", want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 10}},
		"unknown identity": {cfg: simpleConfig(1000), identity: "mallory",
			want:       outcome{Outcome: OutcomeFail, StatusCode: wire.StatusAuthorizationFailed},
			wantReason: `identity "mallory" is not entitled`},
		"no identity": {cfg: wild, identity: "",
			want:       outcome{Outcome: OutcomeFail, StatusCode: wire.StatusAuthorizationFailed},
			wantReason: "no tenant entry"},
		"wildcard matches any identity": {cfg: wild, identity: "anyone", want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 10}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := mustNew(t, tc.cfg)
			d := p.Decide(quote("o1", tc.identity, capCPD(cpd.Value{}, bps(10))))
			if diff := cmp.Diff(tc.want, summarize(d)); diff != "" {
				t.Errorf("Decide mismatch (-want +got):\n%s\nreason: %s", diff, d.Reason)
			}
			if !strings.Contains(d.Reason, tc.wantReason) {
				t.Errorf("reason: got %q, want it to contain %q", d.Reason, tc.wantReason)
			}
		})
	}
}

// The wildcard's limits apply to each identity separately; an identity's
// own entry wins over the wildcard.
func TestDecideWildcardLimitsPerIdentity(t *testing.T) {
	t.Parallel()
	cfg := simpleConfig(1000)
	cfg.Tenants = append(cfg.Tenants, Tenant{Identity: Wildcard, Pools: []string{"p"}, MaxOutgoingBps: i64(100)})
	p := mustNew(t, cfg)
	for i, id := range []string{"x", "y"} {
		d := p.Decide(quote("o"+id, id, capCPD(cpd.Value{}, bps(100))))
		if got := summarize(d); got.Outcome != OutcomeOffer || got.Out != 100 || got.Partial {
			t.Errorf("identity %d (%s): got %+v, want a full offer of 100", i, id, got)
		}
	}
	if d := p.Decide(quote("ox2", "x", capCPD(cpd.Value{}, bps(1)))); d.Outcome != OutcomeFail || d.StatusCode != wire.StatusOutOfResources {
		t.Errorf("x beyond its wildcard limit: got %s %d (%s), want FAIL 5", d.Outcome, d.StatusCode, d.Reason)
	}
	// "a" has its own entry, without limit.
	if d := p.Decide(quote("oa", "a", capCPD(cpd.Value{}, bps(500)))); summarize(d).Out != 500 {
		t.Errorf("a with its own entry: got %+v, want 500", summarize(d))
	}
}

// A request the engine should never pass (a caller bug) is answered FAIL 1.
func TestDecideMalformedRequest(t *testing.T) {
	t.Parallel()
	p := mustNew(t, simpleConfig(1000))
	good := quote("o1", "a", capCPD(cpd.Value{}, bps(10)))
	tests := map[string]func(r *Request){
		"no provider order id": func(r *Request) { r.ProviderOrderID = "" },
		"unknown kind":         func(r *Request) { r.Kind = "Withdraw" },
		"empty CPD":            func(r *Request) { r.Requested = cpd.Empty() },
	}
	for name, mutate := range tests {
		r := good
		mutate(&r)
		d := p.Decide(r)
		if d.Outcome != OutcomeFail || d.StatusCode != wire.StatusMessageValidationError || !strings.HasPrefix(d.Reason, "malformed request") {
			t.Errorf("%s: got %s %d %q, want FAIL 1 malformed request", name, d.Outcome, d.StatusCode, d.Reason)
		}
	}
	if h := p.Holdings(); len(h) != 0 {
		t.Errorf("Holdings after malformed requests: got %v, want none", h)
	}
}

func qosCPD(q *cpd.QoS, a *cpd.Availability) cpd.CPD {
	c := capCPD(cpd.Value{}, bps(mbps))
	c.Components[0].QoS = q
	c.Components[0].Availability = a
	return c
}

// Reference: RFC 7297 §3.3 (qualitative classes vs quantitative bounds),
// §3.4 (availability); DESIGN §6 QoS classes.
func TestDecideQoSAndAvailability(t *testing.T) {
	t.Parallel()
	partial := wanPool()
	partial.Name = "lab"
	partial.QoSClasses = []QoSClass{{Name: "fast", OneWayDelayMs: f64(5)}}
	partial.AvailabilityPercent = 0
	cfg := Config{
		Pools: []Pool{wanPool(), partial},
		Tenants: []Tenant{
			{Identity: "acme", Pools: []string{"wan"}},
			{Identity: "lab", Pools: []string{"lab"}},
		},
	}
	gold := &cpd.QoS{OneWayDelayMs: cpd.Fixed(10), DelayVariationMs: cpd.Fixed(2), LossRatio: cpd.Fixed(0.0001)}
	tests := map[string]struct {
		identity  string
		qos       *cpd.QoS
		avail     *cpd.Availability
		wantQoS   *cpd.QoS
		wantAvail *cpd.Availability
		wantFail  string // a reason fragment when FAIL 5 is expected
	}{
		"no QoS: any pool": {identity: "acme"},
		"class by name": {identity: "acme", qos: &cpd.QoS{Class: "silver"},
			wantQoS: &cpd.QoS{Class: "silver"}},
		"unknown class": {identity: "acme", qos: &cpd.QoS{Class: "platinum"},
			wantFail: `pool wan: components[0]: no QoS class "platinum"`},
		"class names are case-sensitive": {identity: "acme", qos: &cpd.QoS{Class: "Gold"},
			wantFail: `no QoS class "Gold"`},
		"loose delay: the best class": {identity: "acme", qos: &cpd.QoS{OneWayDelayMs: cpd.AtMost(50)},
			wantQoS: gold},
		"bounds only silver-or-better meet": {identity: "acme",
			qos:     &cpd.QoS{OneWayDelayMs: cpd.AtMost(50), LossRatio: cpd.AtMost(0.001), Bound: cpd.BoundMaximum},
			wantQoS: &cpd.QoS{OneWayDelayMs: cpd.Fixed(10), DelayVariationMs: cpd.Fixed(2), LossRatio: cpd.Fixed(0.0001), Bound: cpd.BoundMaximum}},
		"fixed bound equal to a class value": {identity: "acme", qos: &cpd.QoS{OneWayDelayMs: cpd.Fixed(10)},
			wantQoS: gold},
		"a lower bound alone is no constraint": {identity: "acme", qos: &cpd.QoS{LossRatio: cpd.AtLeast(0.5)},
			wantQoS: gold},
		"too tight for every class": {identity: "acme", qos: &cpd.QoS{OneWayDelayMs: cpd.AtMost(5), LossRatio: cpd.AtMost(0.01)},
			wantFail: "no QoS class meets one_way_delay_ms <=5, loss_ratio <=0.01"},
		"class lacking a requested metric": {identity: "lab", qos: &cpd.QoS{OneWayDelayMs: cpd.AtMost(10), LossRatio: cpd.AtMost(0.1)},
			wantFail: "pool lab: components[0]: no QoS class meets"},
		"class stating only the requested metric": {identity: "lab", qos: &cpd.QoS{OneWayDelayMs: cpd.AtMost(10)},
			wantQoS: &cpd.QoS{OneWayDelayMs: cpd.Fixed(5)}},
		"availability met": {identity: "acme", avail: &cpd.Availability{Percent: cpd.AtLeast(99.9), Bound: cpd.BoundAverage},
			wantAvail: &cpd.Availability{Percent: cpd.Fixed(99.95), Bound: cpd.BoundAverage}},
		"availability upper bound ignored": {identity: "acme", avail: &cpd.Availability{Percent: cpd.AtMost(99)},
			wantAvail: &cpd.Availability{Percent: cpd.Fixed(99.95)}},
		"availability too high": {identity: "acme", avail: &cpd.Availability{Percent: cpd.AtLeast(99.99)},
			wantFail: "availability of 99.99% requested, the pool guarantees 99.95%"},
		"pool without availability": {identity: "lab", avail: &cpd.Availability{Percent: cpd.AtLeast(50)},
			wantFail: "availability requested, the pool guarantees none"},
		"silver by name with availability": {identity: "acme", qos: &cpd.QoS{Class: "silver"}, avail: &cpd.Availability{Percent: cpd.Fixed(99.95)},
			wantQoS: &cpd.QoS{Class: "silver"}, wantAvail: &cpd.Availability{Percent: cpd.Fixed(99.95)}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := mustNew(t, cfg)
			req := qosCPD(tc.qos, tc.avail)
			d := p.Decide(quote("o1", tc.identity, req))
			if tc.wantFail != "" {
				if d.Outcome != OutcomeFail || d.StatusCode != wire.StatusOutOfResources {
					t.Fatalf("got %s %d (%s), want FAIL 5", d.Outcome, d.StatusCode, d.Reason)
				}
				if !strings.Contains(d.Reason, tc.wantFail) {
					t.Errorf("reason: got %q, want it to contain %q", d.Reason, tc.wantFail)
				}
				return
			}
			if d.Outcome != OutcomeOffer {
				t.Fatalf("got %s (%s), want Offer", d.Outcome, d.Reason)
			}
			got := d.Offered.Components[0]
			if diff := cmp.Diff(tc.wantQoS, got.QoS); diff != "" {
				t.Errorf("offered QoS mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantAvail, got.Availability); diff != "" {
				t.Errorf("offered availability mismatch (-want +got):\n%s", diff)
			}
			if ms := cpd.Satisfies(d.Offered, req); len(ms) != 0 {
				t.Errorf("Satisfies(offer, request): got %v, want no mismatch", ms)
			}
		})
	}
}

// Reference: DESIGN §6 (pools), docs/policy.md "Pool choice".
func TestDecidePoolChoice(t *testing.T) {
	t.Parallel()
	pool := func(name string, in, out int64, classes ...string) Pool {
		p := Pool{Name: name, Capacity: Capacity{IncomingBps: in, OutgoingBps: out}}
		for _, c := range classes {
			p.QoSClasses = append(p.QoSClasses, QoSClass{Name: c})
		}
		return p
	}
	tests := map[string]struct {
		pools  []Pool
		takenB map[string]int64 // outgoing committed by tenant "b" per pool
		req    cpd.CPD
		want   outcome
	}{
		"most free": {
			pools: []Pool{pool("small", 100, 100), pool("big", 1000, 1000)},
			req:   capCPD(bps(50), bps(50)),
			want:  outcome{Outcome: OutcomeOffer, Pool: "big", In: 50, Out: 50},
		},
		"most free after holdings": {
			pools:  []Pool{pool("x", 1000, 1000), pool("y", 1000, 1000)},
			takenB: map[string]int64{"x": 600},
			req:    capCPD(cpd.Value{}, bps(50)),
			want:   outcome{Outcome: OutcomeOffer, Pool: "y", Out: 50},
		},
		"tie: first listed": {
			pools: []Pool{pool("x", 1000, 1000), pool("y", 1000, 1000)},
			req:   capCPD(cpd.Value{}, bps(50)),
			want:  outcome{Outcome: OutcomeOffer, Pool: "x", Out: 50},
		},
		"a pool where it fits beats one with more free": {
			pools: []Pool{pool("wide-in", 100000, 10), pool("balanced", 100, 100)},
			req:   capCPD(bps(50), bps(50)),
			want:  outcome{Outcome: OutcomeOffer, Pool: "balanced", In: 50, Out: 50},
		},
		"only the requested directions count": {
			pools: []Pool{pool("in-heavy", 100000, 200), pool("out-heavy", 10, 500)},
			req:   capCPD(cpd.Value{}, bps(1000)),
			want:  outcome{Outcome: OutcomeOffer, Pool: "out-heavy", Out: 500, Partial: true},
		},
		"a counter-offer beats nothing": {
			pools:  []Pool{pool("full", 1000, 1000), pool("some", 1000, 30)},
			takenB: map[string]int64{"full": 1000},
			req:    capCPD(cpd.Value{}, bps(50)),
			want:   outcome{Outcome: OutcomeOffer, Pool: "some", Out: 30, Partial: true},
		},
		"QoS filters before capacity": {
			pools: []Pool{pool("huge", 100000, 100000), pool("gold", 100, 100, "gold")},
			req: func() cpd.CPD {
				c := capCPD(cpd.Value{}, bps(50))
				c.Components[0].QoS = &cpd.QoS{Class: "gold"}
				return c
			}(),
			want: outcome{Outcome: OutcomeOffer, Pool: "gold", Out: 50},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var names []string
			for _, p := range tc.pools {
				names = append(names, p.Name)
			}
			cfg := Config{Pools: tc.pools, Tenants: []Tenant{{Identity: "a", Pools: names}}}
			for pn, n := range tc.takenB {
				cfg.Tenants = append(cfg.Tenants, Tenant{Identity: "b-" + pn, Pools: []string{pn}})
				_ = n
			}
			p := mustNew(t, cfg)
			for pn, n := range tc.takenB {
				commitOrder(t, p, "taken-"+pn, "b-"+pn, 0, n)
			}
			d := p.Decide(quote("o1", "a", tc.req))
			if diff := cmp.Diff(tc.want, summarize(d)); diff != "" {
				t.Errorf("Decide mismatch (-want +got):\n%s\nreason: %s", diff, d.Reason)
			}
		})
	}
}

// Reference: DESIGN §3 "Offers never exceed what is free: when a request
// (fixed value, or the min of a range) asks for more than is free for that
// tenant and pool, the server counter-offers what is free, or answers FAIL 5
// when nothing is"; RFC 8921 §7 step 2; RFC 7297 §3.5.
func TestDecideCapacity(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		taken      int64  // outgoing held by tenant "b"
		limit      *int64 // tenant "a" outgoing limit
		own        int64  // outgoing already held by tenant "a" (another order)
		in, out    cpd.Value
		want       outcome
		wantReason string
	}{
		"fixed fits":                   {out: bps(400), want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 400}},
		"fixed fills the pool exactly": {taken: 600, out: bps(400), want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 400}},
		"fixed exceeds: counter-offer of what is free": {taken: 700, out: bps(400),
			want:       outcome{Outcome: OutcomeOffer, Pool: "p", Out: 300, Partial: true},
			wantReason: `counter-offer from pool p: pool p: 400 bps outgoing requested, 300 bps free for "a" (pool: 700 of 1000 bps taken)`},
		"range: its max when it fits": {out: cpd.Between(100, 500), want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 500}},
		"range: what is free within it": {taken: 700, out: cpd.Between(200, 500),
			want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 300}},
		"range: min above free is a counter-offer": {taken: 900, out: cpd.Between(200, 500),
			want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 100, Partial: true}},
		"at least: the min":      {out: cpd.AtLeast(200), want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 200}},
		"at most: up to the max": {taken: 700, out: cpd.AtMost(600), want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 300}},
		"nothing free: FAIL 5": {taken: 1000, out: bps(1),
			want:       outcome{Outcome: OutcomeFail, StatusCode: wire.StatusOutOfResources},
			wantReason: `pool p: 1 bps outgoing requested, 0 bps free for "a" (pool: 1000 of 1000 bps taken)`},
		"nothing free, open lower bound: FAIL 5": {taken: 1000, out: cpd.AtMost(600),
			want: outcome{Outcome: OutcomeFail, StatusCode: wire.StatusOutOfResources}},
		"one direction empty: FAIL 5": {taken: 1000, in: bps(10), out: bps(10),
			want: outcome{Outcome: OutcomeFail, StatusCode: wire.StatusOutOfResources}},
		"zero asked where nothing is free": {taken: 1000, in: bps(10), out: bps(0),
			want: outcome{Outcome: OutcomeOffer, Pool: "p", In: 10}},
		"whole bps: fraction rounds up and is a counter-offer": {out: cpd.Fixed(1.5),
			want:       outcome{Outcome: OutcomeOffer, Pool: "p", Out: 2, Partial: true},
			wantReason: "not a whole number"},
		"whole bps: range bounds round inwards": {out: cpd.Between(1.5, 9.5), want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 9}},
		"huge request":                          {out: cpd.Fixed(1e30), want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 1000, Partial: true}},
		"tenant limit binds": {limit: i64(250), own: 100, out: bps(400),
			want:       outcome{Outcome: OutcomeOffer, Pool: "p", Out: 150, Partial: true},
			wantReason: "tenant: 150 of its 250 bps limit free"},
		"tenant limit exhausted": {limit: i64(250), own: 250, out: bps(1),
			want: outcome{Outcome: OutcomeFail, StatusCode: wire.StatusOutOfResources}},
		"pool binds below the tenant limit": {limit: i64(900), taken: 800, out: bps(400),
			want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 200, Partial: true}},
		"no capacity clause": {want: outcome{Outcome: OutcomeOffer, Pool: "p"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := simpleConfig(1000)
			cfg.Tenants[0].MaxOutgoingBps = tc.limit
			p := mustNew(t, cfg)
			if tc.taken > 0 {
				commitOrder(t, p, "taken", "b", 0, tc.taken)
			}
			if tc.own > 0 {
				commitOrder(t, p, "own", "a", 0, tc.own)
			}
			req := capCPD(tc.in, tc.out)
			if tc.in.IsZero() && tc.out.IsZero() {
				req.Components[0].Capacity = nil
			}
			d := p.Decide(quote("o1", "a", req))
			if diff := cmp.Diff(tc.want, summarize(d)); diff != "" {
				t.Errorf("Decide mismatch (-want +got):\n%s\nreason: %s", diff, d.Reason)
			}
			if !strings.Contains(d.Reason, tc.wantReason) {
				t.Errorf("reason: got %q, want it to contain %q", d.Reason, tc.wantReason)
			}
			if d.Outcome != OutcomeOffer {
				return
			}
			if !d.Offered.Concrete() {
				t.Errorf("offer is not concrete: loose %v", d.Offered.Loose())
			}
			// The holding is what the offer offers.
			var got *Holding
			for _, h := range p.Holdings() {
				if h.ProviderOrderID == "o1" {
					got = &h
				}
			}
			want := Holding{ProviderOrderID: "o1", Identity: "a", Pool: "p", IncomingBps: tc.want.In, OutgoingBps: tc.want.Out,
				State: HoldingReserved, Expires: t0.Add(DefaultOfferValidity)}
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("holding mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Multi-component CPDs are accounted as a sum; a short pool is shared in the
// order of the components: every minimum first, then the rest in order.
// Reference: RFC 7297 §4 (components), §3.5; docs/policy.md "Several components".
func TestDecideMultiComponent(t *testing.T) {
	t.Parallel()
	req := cpd.CPD{Components: []cpd.Component{
		capComp("ce-1", cpd.Value{}, cpd.Between(100, 400)),
		capComp("ce-2", cpd.Value{}, cpd.Between(100, 400)),
		capComp("ce-3", cpd.Value{}, bps(300)),
		{CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-4"}}}, // no capacity clause
	}}
	tests := map[string]struct {
		capacity   int64 // 1000 when 0
		taken      int64
		want       []float64
		partial    bool
		mismatchAt []string
	}{
		"everything fits":                  {capacity: 1100, want: []float64{400, 400, 300}},
		"minimums, then the rest in order": {want: []float64{400, 300, 300}},
		"the rest runs out on the first":   {taken: 100, want: []float64{400, 200, 300}},
		"exactly the minimums":             {taken: 500, want: []float64{100, 100, 300}},
		"counter-offer fills minimums in order": {taken: 650, want: []float64{100, 100, 150}, partial: true,
			mismatchAt: []string{"components[2].capacity.outgoing_bps"}},
		"counter-offer runs dry": {taken: 850, want: []float64{100, 50, 0}, partial: true,
			mismatchAt: []string{"components[1].capacity.outgoing_bps", "components[2].capacity.outgoing_bps"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := mustNew(t, simpleConfig(gocmp.Or(tc.capacity, 1000)))
			if tc.taken > 0 {
				commitOrder(t, p, "taken", "b", 0, tc.taken)
			}
			d := mustOffer(t, p, quote("o1", "a", req))
			var got []float64
			for _, c := range d.Offered.Components[:3] {
				v, _ := c.Capacity.OutgoingBps.FixedValue()
				got = append(got, v)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("offered per component mismatch (-want +got):\n%s", diff)
			}
			if d.Partial != tc.partial {
				t.Errorf("Partial: got %v, want %v", d.Partial, tc.partial)
			}
			if d.Offered.Components[3].Capacity != nil {
				t.Errorf("component without capacity: got %+v, want none offered", d.Offered.Components[3].Capacity)
			}
			var paths []string
			for _, m := range cpd.Satisfies(d.Offered, req) {
				paths = append(paths, m.Path)
			}
			if diff := cmp.Diff(tc.mismatchAt, paths); diff != "" {
				t.Errorf("Satisfies mismatches (-want +got):\n%s", diff)
			}
		})
	}
}

// The offered CPD is concrete and keeps every clause of the request; a full
// offer satisfies the request and a counter-offer misses it only on capacity.
// Reference: RFC 8921 §8.7 ("concrete", "accommodate all or a subset of the
// clauses"), §11.2.1.
func TestOfferIsConcreteAndSatisfies(t *testing.T) {
	t.Parallel()
	p := mustNew(t, designConfig(), WithProviderDescription(wire.ProviderDescription{Name: "ENP", ASNumber: 64500}))
	req := cpd.Sample()
	d := mustOffer(t, p, quote("o1", "acme", req))

	want := cpd.Sample()
	par, lyo := &want.Components[0], &want.Components[1]
	par.QoS.OneWayDelayMs = cpd.Fixed(10)
	par.QoS.DelayVariationMs = cpd.Fixed(2)
	par.QoS.LossRatio = cpd.Fixed(0.0001)
	par.Availability.Percent = cpd.Fixed(99.95)
	par.Capacity.IncomingBps = cpd.Fixed(200e6)
	par.Capacity.OutgoingBps = cpd.Fixed(200e6)
	lyo.Capacity.OutgoingBps = cpd.Fixed(50e6)
	lyo.Notifications.IntervalS = cpd.Fixed(300)
	if diff := cmp.Diff(want, d.Offered); diff != "" {
		t.Errorf("offered CPD mismatch (-want +got):\n%s", diff)
	}
	if !d.Offered.Concrete() || d.Partial {
		t.Errorf("got concrete %v partial %v, want a concrete full offer", d.Offered.Concrete(), d.Partial)
	}
	if ms := cpd.Satisfies(d.Offered, req); len(ms) != 0 {
		t.Errorf("Satisfies(full offer): got %v, want none", ms)
	}
	if err := d.Offered.Validate(true); err != nil {
		t.Errorf("offered CPD is invalid: %v", err)
	}
	if d.Provider == nil || d.Provider.Name != "ENP" || d.Provider.ASNumber != 64500 {
		t.Errorf("Provider: got %+v, want ENP AS64500", d.Provider)
	}
	if d.ValidUntil != t0.Add(5*time.Minute) || d.ActivationSchedule != nil {
		t.Errorf("got ValidUntil %v schedule %v, want t0+5m and none", d.ValidUntil, d.ActivationSchedule)
	}
	// The request is not modified.
	if diff := cmp.Diff(cpd.Sample(), req); diff != "" {
		t.Errorf("request was modified (-want +got):\n%s", diff)
	}

	// A counter-offer: acme may hold 500 Mbps outgoing; another order of
	// acme holds 380, so 120 are free for the 150 Mbps minimum (100 + 50).
	p2 := mustNew(t, designConfig())
	commitOrder(t, p2, "other", "acme", 0, 380*mbps)
	d2 := mustOffer(t, p2, quote("o2", "acme", req))
	if !d2.Partial || !d2.Offered.Concrete() {
		t.Fatalf("got partial %v concrete %v, want a concrete counter-offer", d2.Partial, d2.Offered.Concrete())
	}
	var got []string
	for _, m := range cpd.Satisfies(d2.Offered, req) {
		if m.Clause != cpd.ClauseCapacity {
			t.Errorf("counter-offer mismatch outside Capacity: %v", m)
		}
		got = append(got, m.Path)
	}
	if diff := cmp.Diff([]string{"components[1].capacity.outgoing_bps"}, got); diff != "" {
		t.Errorf("counter-offer mismatches (-want +got):\n%s", diff)
	}
	if in, out := offeredBps(d2); in != 200*mbps || out != 120*mbps {
		t.Errorf("counter-offer: got in %d out %d, want 200M and 120M", in, out)
	}
}

// A loose MTU and notification interval are settled to their upper bound,
// else their lower bound.
func TestOfferSettlesOtherLooseValues(t *testing.T) {
	t.Parallel()
	p := mustNew(t, simpleConfig(1000))
	tests := map[string]struct {
		mtu, interval         cpd.Value
		wantMTU, wantInterval cpd.Value
	}{
		"upper bounds": {mtu: cpd.Between(1280, 9000), interval: cpd.Between(10, 60), wantMTU: cpd.Fixed(9000), wantInterval: cpd.Fixed(60)},
		"lower bounds": {mtu: cpd.AtLeast(1400), interval: cpd.AtLeast(30), wantMTU: cpd.Fixed(1400), wantInterval: cpd.Fixed(30)},
		"fixed":        {mtu: cpd.Fixed(1500), interval: cpd.Fixed(5), wantMTU: cpd.Fixed(1500), wantInterval: cpd.Fixed(5)},
	}
	for name, tc := range tests {
		req := capCPD(cpd.Value{}, bps(1))
		req.Components[0].Conformance = &cpd.Conformance{OutOfProfile: cpd.OutOfProfileDiscard, MTU: tc.mtu}
		req.Components[0].Notifications = &cpd.Notifications{Means: []string{"syslog"}, IntervalS: tc.interval}
		d := mustOffer(t, p, quote("o-"+name, "a", req))
		c := d.Offered.Components[0]
		if !c.Conformance.MTU.Equal(tc.wantMTU) || !c.Notifications.IntervalS.Equal(tc.wantInterval) {
			t.Errorf("%s: got mtu %v interval %v, want %v and %v", name, c.Conformance.MTU, c.Notifications.IntervalS, tc.wantMTU, tc.wantInterval)
		}
		if ms := cpd.Satisfies(d.Offered, req); len(ms) != 0 {
			t.Errorf("%s: Satisfies: got %v, want none", name, ms)
		}
	}
}

// Reference: RFC 8921 §8.2 "order-handling modes", §12.2; DESIGN §6
// "Administrative validation holds orders in AwaitingProcessing until an
// admin approves them".
func TestDecideApproval(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		approval Approval
		approved bool
		in, out  int64
		want     Outcome
	}{
		"automatic":                 {approval: Approval{Mode: ApprovalAutomatic}, out: 900, want: OutcomeOffer},
		"empty mode is automatic":   {out: 900, want: OutcomeOffer},
		"manual":                    {approval: Approval{Mode: ApprovalManual}, out: 1, want: OutcomeHold},
		"manual, already approved":  {approval: Approval{Mode: ApprovalManual}, approved: true, out: 1, want: OutcomeOffer},
		"threshold, at it":          {approval: Approval{Mode: ApprovalThreshold, AboveBps: 100}, in: 100, out: 100, want: OutcomeOffer},
		"threshold, above outgoing": {approval: Approval{Mode: ApprovalThreshold, AboveBps: 100}, out: 101, want: OutcomeHold},
		"threshold, above incoming": {approval: Approval{Mode: ApprovalThreshold, AboveBps: 100}, in: 101, want: OutcomeHold},
		"threshold, approved":       {approval: Approval{Mode: ApprovalThreshold, AboveBps: 100}, approved: true, out: 500, want: OutcomeOffer},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := simpleConfig(1000)
			cfg.Pools[0].Approval = tc.approval
			p := mustNew(t, cfg)
			r := quote("o1", "a", capCPD(bps(tc.in), bps(tc.out)))
			r.Approved = tc.approved
			d := p.Decide(r)
			if d.Outcome != tc.want {
				t.Fatalf("got %s (%s), want %s", d.Outcome, d.Reason, tc.want)
			}
			wantHeld := []string{}
			wantHoldings := 1
			if tc.want == OutcomeHold {
				wantHeld, wantHoldings = []string{"o1"}, 0
				if d.Pool != "p" || !strings.Contains(d.Reason, "administrative validation") {
					t.Errorf("hold: got pool %q reason %q", d.Pool, d.Reason)
				}
			}
			if diff := cmp.Diff(wantHeld, p.Held()); diff != "" {
				t.Errorf("Held mismatch (-want +got):\n%s", diff)
			}
			if got := len(p.Holdings()); got != wantHoldings {
				t.Errorf("Holdings: got %d, want %d (a hold reserves nothing)", got, wantHoldings)
			}
		})
	}
}

// Approve decides again at approval time, with the capacity free then.
// Reference: RFC 8921 §8.2, §12.2.
func TestApprove(t *testing.T) {
	t.Parallel()
	cfg := simpleConfig(1000)
	cfg.Pools[0].Approval = Approval{Mode: ApprovalManual}
	p := mustNew(t, cfg)
	if d := p.Decide(quote("held", "a", capCPD(cpd.Value{}, bps(800)))); d.Outcome != OutcomeHold {
		t.Fatalf("Decide: got %s, want Hold", d.Outcome)
	}
	// Meanwhile another, approved order takes 500.
	other := quote("other", "b", capCPD(cpd.Value{}, bps(500)))
	other.Approved = true
	mustOffer(t, p, other)
	p.Commit("other")

	at := t0.Add(time.Hour)
	d, err := p.Approve("held", at)
	if err != nil {
		t.Fatalf("Approve: %v", err)
	}
	want := outcome{Outcome: OutcomeOffer, Pool: "p", Out: 500, Partial: true}
	if diff := cmp.Diff(want, summarize(d)); diff != "" {
		t.Errorf("Approve mismatch (-want +got):\n%s", diff)
	}
	if d.ValidUntil != at.Add(DefaultOfferValidity) {
		t.Errorf("ValidUntil: got %v, want approval time + 5m", d.ValidUntil)
	}
	if got := p.Held(); len(got) != 0 {
		t.Errorf("Held after Approve: got %v, want none", got)
	}
	if _, err := p.Approve("held", at); !errors.Is(err, ErrNotHeld) {
		t.Errorf("second Approve: got %v, want ErrNotHeld", err)
	}
	if _, err := p.Approve("never", at); !errors.Is(err, ErrNotHeld) {
		t.Errorf("Approve(unknown): got %v, want ErrNotHeld", err)
	}
}

// Nothing to validate: an order that cannot be served fails at once instead
// of waiting for an administrator; a cancelled held order is forgotten.
func TestHoldOnlyWhatCanBeOffered(t *testing.T) {
	t.Parallel()
	cfg := simpleConfig(1000)
	cfg.Pools[0].Approval = Approval{Mode: ApprovalManual}
	p := mustNew(t, cfg)
	full := quote("full", "b", capCPD(cpd.Value{}, bps(1000)))
	full.Approved = true
	mustOffer(t, p, full)
	if d := p.Decide(quote("x", "a", capCPD(cpd.Value{}, bps(10)))); d.Outcome != OutcomeFail {
		t.Errorf("nothing free under Manual: got %s, want Fail", d.Outcome)
	}
	p.Release("full")
	for _, release := range []func(string){p.Release, p.ReleaseOffer} {
		if d := p.Decide(quote("h", "a", capCPD(cpd.Value{}, bps(10)))); d.Outcome != OutcomeHold {
			t.Fatalf("got %s, want Hold", d.Outcome)
		}
		release("h")
		if _, err := p.Approve("h", t0); !errors.Is(err, ErrNotHeld) {
			t.Errorf("Approve after release: got %v, want ErrNotHeld", err)
		}
	}
}

func TestSatAdd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ a, b, want int64 }{
		{1, 2, 3},
		{math.MaxInt64 - 1, 1, math.MaxInt64},
		{math.MaxInt64, MaxBps, math.MaxInt64},
	} {
		if got := satAdd(tc.a, tc.b); got != tc.want {
			t.Errorf("satAdd(%d, %d): got %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
