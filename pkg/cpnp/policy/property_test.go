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
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestNoOverbookingProperty runs random sequences of decisions, commits,
// releases, approvals and clock advances, and checks after every step that
// no pool and no tenant limit is exceeded, counting for each order the
// larger of its agreement and its open offer (only one survives), and that
// every offer is concrete, accounted exactly, and a counter-offer only on
// capacity.
// Reference: DESIGN §3 "Offers never exceed what is free"; RFC 8921 §8.7.
func TestNoOverbookingProperty(t *testing.T) {
	t.Parallel()
	for seed := range uint64(30) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			runOverbookingSequence(t, rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), 400)
		})
	}
}

func randomConfig(r *rand.Rand) Config {
	cfg := Config{Upstreams: []Upstream{{Name: "up", Address: "up.example:8921"}}}
	for i := range 3 {
		p := Pool{
			Name:     fmt.Sprint("pool", i),
			Capacity: Capacity{IncomingBps: 200 + r.Int64N(2000), OutgoingBps: 200 + r.Int64N(2000)},
		}
		if r.IntN(2) == 0 {
			p.QoSClasses = []QoSClass{{Name: "gold", OneWayDelayMs: f64(10)}, {Name: "silver", OneWayDelayMs: f64(40)}}
			p.AvailabilityPercent = 99.9
		}
		switch r.IntN(4) {
		case 0:
			p.Approval = Approval{Mode: ApprovalManual}
		case 1:
			p.Approval = Approval{Mode: ApprovalThreshold, AboveBps: 1 + r.Int64N(800)}
		}
		cfg.Pools = append(cfg.Pools, p)
	}
	for i := range 4 {
		tn := Tenant{Identity: fmt.Sprint("t", i)}
		for _, p := range cfg.Pools {
			if r.IntN(2) == 0 || p.Name == "pool0" {
				tn.Pools = append(tn.Pools, p.Name)
			}
		}
		if r.IntN(2) == 0 {
			tn.MaxIncomingBps = i64(r.Int64N(1500))
		}
		if r.IntN(2) == 0 {
			tn.MaxOutgoingBps = i64(r.Int64N(1500))
		}
		cfg.Tenants = append(cfg.Tenants, tn)
	}
	return cfg
}

func randomValue(r *rand.Rand) cpd.Value {
	a, b := float64(r.IntN(800)), float64(r.IntN(800))
	lo, hi := min(a, b), max(a, b)
	switch r.IntN(6) {
	case 0:
		return cpd.Value{}
	case 1:
		return cpd.Between(lo, hi)
	case 2:
		return cpd.AtLeast(lo)
	case 3:
		return cpd.AtMost(hi)
	}
	return cpd.Fixed(a)
}

func randomCPD(r *rand.Rand) cpd.CPD {
	var c cpd.CPD
	for i := range 1 + r.IntN(3) {
		comp := cpd.Component{CustomerNodes: []cpd.CustomerNode{{Identifier: fmt.Sprint("ce", i)}}}
		if in, out := randomValue(r), randomValue(r); !in.IsZero() || !out.IsZero() {
			comp.Capacity = &cpd.Capacity{IncomingBps: in, OutgoingBps: out}
		}
		switch r.IntN(5) {
		case 0:
			comp.QoS = &cpd.QoS{Class: "gold"}
		case 1:
			comp.QoS = &cpd.QoS{OneWayDelayMs: cpd.AtMost(float64(5 + r.IntN(50)))}
		}
		if r.IntN(5) == 0 {
			comp.Availability = &cpd.Availability{Percent: cpd.AtLeast(99)}
		}
		c.Components = append(c.Components, comp)
	}
	return c
}

func runOverbookingSequence(t *testing.T, r *rand.Rand, steps int) {
	cfg := randomConfig(r)
	p := mustNew(t, cfg)
	now := t0
	var ids []string
	owner := map[string]string{}
	pick := func() string {
		if len(ids) == 0 || r.IntN(4) == 0 {
			id := fmt.Sprint("o", len(ids))
			ids = append(ids, id)
			owner[id] = fmt.Sprint("t", r.IntN(4))
			return id
		}
		return ids[r.IntN(len(ids))]
	}
	counts := map[string]int{}
	for step := range steps {
		var op string
		switch k := r.IntN(10); {
		case k < 4:
			id := pick()
			req := Request{Kind: RequestQuotation, Identity: owner[id], ProviderOrderID: id, Requested: randomCPD(r), At: now}
			if r.IntN(3) == 0 {
				req.Kind = RequestUpdate
			}
			if r.IntN(3) == 0 {
				req.Options.Scope = wire.ScopeLocal
			}
			req.Approved = r.IntN(3) == 0
			d := p.Decide(req)
			op = fmt.Sprintf("Decide(%s %s) -> %s", req.Kind, id, d.Outcome)
			counts[string(d.Outcome)]++
			checkDecision(t, p, req, d)
		case k < 5:
			held := p.Held()
			if len(held) == 0 {
				continue
			}
			id := held[r.IntN(len(held))]
			d, err := p.Approve(id, now)
			if err != nil {
				t.Fatalf("step %d: Approve(%s): %v", step, id, err)
			}
			op = "Approve(" + id + ") -> " + string(d.Outcome)
			counts["approved "+string(d.Outcome)]++
		case k < 7:
			id := pick()
			p.Commit(id)
			op = "Commit(" + id + ")"
		case k < 8:
			id := pick()
			p.Release(id)
			op = "Release(" + id + ")"
		case k < 9:
			id := pick()
			p.ReleaseOffer(id)
			op = "ReleaseOffer(" + id + ")"
		default:
			now = now.Add(time.Duration(r.IntN(4)) * time.Minute)
			op = "advance to " + now.Format(time.TimeOnly)
		}
		if err := checkInvariant(cfg, p.Holdings()); err != nil {
			t.Fatalf("step %d, after %s: %v\nholdings: %+v", step, op, err, p.Holdings())
		}
	}
	// The sequence must exercise what it claims to.
	for _, k := range []string{"Offer", "Fail"} {
		if counts[k] == 0 {
			t.Errorf("no %s decision in the sequence: %v", k, counts)
		}
	}
}

// checkDecision checks one decision against its request.
func checkDecision(t *testing.T, p *Pools, req Request, d Decision) {
	t.Helper()
	if d.Outcome != OutcomeOffer {
		return
	}
	if !d.Offered.Concrete() {
		t.Fatalf("offer for %s is not concrete: %v", req.ProviderOrderID, d.Offered.Loose())
	}
	ms := cpd.Satisfies(d.Offered, req.Requested)
	if !d.Partial && len(ms) != 0 {
		t.Fatalf("full offer for %s does not satisfy the request: %v", req.ProviderOrderID, ms)
	}
	if d.Partial && len(ms) == 0 {
		t.Fatalf("counter-offer for %s satisfies the request", req.ProviderOrderID)
	}
	for _, m := range ms {
		if m.Clause != cpd.ClauseCapacity {
			t.Fatalf("offer for %s misses a clause other than Capacity: %v", req.ProviderOrderID, m)
		}
	}
	in, out := offeredBps(d)
	i := slices.IndexFunc(p.Holdings(), func(h Holding) bool {
		return h.ProviderOrderID == req.ProviderOrderID && h.State == HoldingReserved
	})
	if i < 0 {
		t.Fatalf("offer for %s reserved nothing", req.ProviderOrderID)
	}
	if h := p.Holdings()[i]; h.IncomingBps != in || h.OutgoingBps != out || h.Pool != d.Pool || !h.Expires.Equal(d.ValidUntil) {
		t.Fatalf("offer for %s: holding %+v, offered in %d out %d from %s until %v", req.ProviderOrderID, h, in, out, d.Pool, d.ValidUntil)
	}
}

// checkInvariant: per pool and per limited tenant, the sum over orders of
// the larger of the order's holdings stays within the capacity.
func checkInvariant(cfg Config, hs []Holding) error {
	type key struct{ order, scope string }
	use := map[key]bw{}
	for _, h := range hs {
		for _, k := range []key{{h.ProviderOrderID, "pool:" + h.Pool}, {h.ProviderOrderID, "tenant:" + h.Identity}} {
			u := use[k]
			use[k] = bw{max(u[dirIn], h.IncomingBps), max(u[dirOut], h.OutgoingBps)}
		}
	}
	total := map[string]bw{}
	for k, u := range use {
		s := total[k.scope]
		total[k.scope] = bw{s[dirIn] + u[dirIn], s[dirOut] + u[dirOut]}
	}
	for _, p := range cfg.Pools {
		s := total["pool:"+p.Name]
		if s[dirIn] > p.Capacity.IncomingBps || s[dirOut] > p.Capacity.OutgoingBps {
			return fmt.Errorf("pool %s overbooked: holds %v, capacity %+v", p.Name, s, p.Capacity)
		}
	}
	for _, tn := range cfg.Tenants {
		s := total["tenant:"+tn.Identity]
		if l := tn.MaxIncomingBps; l != nil && s[dirIn] > *l {
			return fmt.Errorf("tenant %s over its incoming limit: %d > %d", tn.Identity, s[dirIn], *l)
		}
		if l := tn.MaxOutgoingBps; l != nil && s[dirOut] > *l {
			return fmt.Errorf("tenant %s over its outgoing limit: %d > %d", tn.Identity, s[dirOut], *l)
		}
	}
	return nil
}

// The invariant check itself detects overbooking (a test that cannot fail
// is a defect).
func TestCheckInvariantDetectsOverbooking(t *testing.T) {
	t.Parallel()
	cfg := simpleConfig(100)
	cfg.Tenants[0].MaxIncomingBps = i64(10)
	tests := map[string]struct {
		hs   []Holding
		fail bool
	}{
		"within":                {hs: []Holding{committed("x", "a", "p", 10, 100)}},
		"agreement and update":  {hs: []Holding{committed("x", "b", "p", 0, 100), reserved("x", "b", "p", 0, 90, t0)}},
		"pool over":             {hs: []Holding{committed("x", "b", "p", 0, 60), committed("y", "b", "p", 0, 41)}, fail: true},
		"tenant over":           {hs: []Holding{committed("x", "a", "p", 6, 0), reserved("y", "a", "p", 5, 0, t0)}, fail: true},
		"two orders, same pool": {hs: []Holding{committed("x", "b", "p", 0, 100), reserved("y", "b", "p", 0, 1, t0)}, fail: true},
	}
	for name, tc := range tests {
		if err := checkInvariant(cfg, tc.hs); (err != nil) != tc.fail {
			t.Errorf("%s: got %v, want failure %v", name, err, tc.fail)
		}
	}
}
