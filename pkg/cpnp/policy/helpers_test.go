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
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// t0 is the time of the first decision in every test.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	mbps = int64(1_000_000)
	gbps = 1000 * mbps
)

func f64(f float64) *float64 { return &f }
func i64(n int64) *int64     { return &n }

// wanPool is the pool of DESIGN §6.
func wanPool() Pool {
	return Pool{
		Name:     "wan",
		Capacity: Capacity{IncomingBps: gbps, OutgoingBps: gbps},
		QoSClasses: []QoSClass{
			{Name: "gold", OneWayDelayMs: f64(10), DelayVariationMs: f64(2), LossRatio: f64(0.0001)},
			{Name: "silver", OneWayDelayMs: f64(40), DelayVariationMs: f64(10), LossRatio: f64(0.001)},
		},
		AvailabilityPercent: 99.95,
		Approval:            Approval{Mode: ApprovalAutomatic},
		OfferValidity:       &Duration{5 * time.Minute},
	}
}

// designConfig is the policy.yaml of DESIGN §6.
func designConfig() Config {
	return Config{
		Pools:     []Pool{wanPool()},
		Tenants:   []Tenant{{Identity: "acme", Pools: []string{"wan"}, MaxOutgoingBps: i64(500 * mbps)}},
		Upstreams: []Upstream{},
	}
}

// simpleConfig has one pool "p" of the given capacity in both directions
// and tenants "a" and "b" without limits.
func simpleConfig(capacity int64) Config {
	return Config{
		Pools: []Pool{{Name: "p", Capacity: Capacity{IncomingBps: capacity, OutgoingBps: capacity}}},
		Tenants: []Tenant{
			{Identity: "a", Pools: []string{"p"}},
			{Identity: "b", Pools: []string{"p"}},
		},
	}
}

func mustNew(t testing.TB, cfg Config, opts ...Option) *Pools {
	t.Helper()
	p, err := New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// capCPD is a one-component CPD asking for the given capacities (a zero
// Value leaves the direction out).
func capCPD(in, out cpd.Value) cpd.CPD {
	return cpd.CPD{Components: []cpd.Component{capComp("ce-1", in, out)}}
}

func capComp(node string, in, out cpd.Value) cpd.Component {
	return cpd.Component{
		CustomerNodes: []cpd.CustomerNode{{Identifier: node}},
		Capacity:      &cpd.Capacity{IncomingBps: in, OutgoingBps: out},
	}
}

func bps(n int64) cpd.Value { return cpd.Fixed(float64(n)) }

// quote is a QUOTATION request at t0.
func quote(id, identity string, c cpd.CPD) Request {
	return Request{Kind: RequestQuotation, Identity: identity, ProviderOrderID: id, CustomerOrderID: "c-" + id, Requested: c, At: t0}
}

// update is an UPDATE request at t0.
func update(id, identity string, c cpd.CPD) Request {
	r := quote(id, identity, c)
	r.Kind = RequestUpdate
	return r
}

// offered returns the capacity the Decision offers, summed per direction.
func offeredBps(d Decision) (in, out int64) {
	i, o := d.Offered.Capacity()
	a, _ := i.Min()
	b, _ := o.Min()
	return int64(a), int64(b)
}

// mustOffer decides req and fails the test unless the outcome is an Offer.
func mustOffer(t testing.TB, p *Pools, req Request) Decision {
	t.Helper()
	d := p.Decide(req)
	if d.Outcome != OutcomeOffer {
		t.Fatalf("Decide(%s): got outcome %s (%s), want Offer", req.ProviderOrderID, d.Outcome, d.Reason)
	}
	return d
}

// commitOrder makes an agreement of id for identity with the given fixed
// capacity.
func commitOrder(t testing.TB, p *Pools, id, identity string, in, out int64) {
	t.Helper()
	mustOffer(t, p, quote(id, identity, capCPD(bps(in), bps(out))))
	p.Commit(id)
}

// fieldErrors flattens the *FieldError values of err (joined or wrapped).
func fieldErrors(err error) []FieldError {
	var out []FieldError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if fe, ok := e.(*FieldError); ok { //nolint:errorlint // walking the tree by hand
			out = append(out, *fe)
			return
		}
		switch u := e.(type) { //nolint:errorlint // walking the tree by hand
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}
