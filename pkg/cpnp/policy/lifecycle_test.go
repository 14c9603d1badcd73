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
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

func reserved(id, identity, pool string, in, out int64, expires time.Time) Holding {
	return Holding{ProviderOrderID: id, Identity: identity, Pool: pool, IncomingBps: in, OutgoingBps: out, State: HoldingReserved, Expires: expires}
}

func committed(id, identity, pool string, in, out int64) Holding {
	return Holding{ProviderOrderID: id, Identity: identity, Pool: pool, IncomingBps: in, OutgoingBps: out, State: HoldingCommitted}
}

func checkHoldings(t *testing.T, p *Pools, want []Holding) {
	t.Helper()
	if diff := cmp.Diff(want, p.Holdings()); diff != "" {
		t.Errorf("Holdings mismatch (-want +got):\n%s", diff)
	}
}

// Reservations: offer -> Reserved -> Committed or released; every release
// and commit of an unknown or released order is a no-op.
// Reference: DESIGN §3 ("Open offers count as reserved until accepted,
// declined, cancelled or expired"), §6 ("agreements hold it until withdrawn").
func TestReservationLifecycle(t *testing.T) {
	t.Parallel()
	p := mustNew(t, simpleConfig(1000))
	exp := t0.Add(DefaultOfferValidity)

	mustOffer(t, p, quote("o1", "a", capCPD(bps(10), bps(20))))
	checkHoldings(t, p, []Holding{reserved("o1", "a", "p", 10, 20, exp)})

	p.Commit("o1")
	checkHoldings(t, p, []Holding{committed("o1", "a", "p", 10, 20)})
	p.Commit("o1") // no open offer: nothing changes
	p.Commit("unknown")
	p.ReleaseOffer("o1") // the agreement stays
	checkHoldings(t, p, []Holding{committed("o1", "a", "p", 10, 20)})

	p.Release("o1")
	checkHoldings(t, p, []Holding{})
	p.Release("o1")
	p.Release("unknown")
	p.ReleaseOffer("unknown")
	checkHoldings(t, p, []Holding{})

	// A QUOTATION's offer released by ReleaseOffer is gone too.
	mustOffer(t, p, quote("o2", "a", capCPD(bps(10), bps(20))))
	p.ReleaseOffer("o2")
	checkHoldings(t, p, []Holding{})
	// Everything is free again.
	if d := mustOffer(t, p, quote("o3", "a", capCPD(bps(1000), bps(1000)))); d.Partial {
		t.Errorf("after releases: got a counter-offer (%s), want the whole pool", d.Reason)
	}
}

// Decide for an order that already holds something replaces it.
func TestDecideReplacesTheOrdersHolding(t *testing.T) {
	t.Parallel()
	p := mustNew(t, simpleConfig(1000))
	mustOffer(t, p, quote("o1", "a", capCPD(cpd.Value{}, bps(700))))
	// The same order again (e.g. decided again after a restart): 700 is
	// not counted against it.
	d := mustOffer(t, p, quote("o1", "a", capCPD(cpd.Value{}, bps(900))))
	if d.Partial {
		t.Errorf("got a counter-offer (%s), want 900", d.Reason)
	}
	checkHoldings(t, p, []Holding{reserved("o1", "a", "p", 0, 900, t0.Add(DefaultOfferValidity))})
	// A QUOTATION with the identifier of an agreement replaces the agreement.
	p.Commit("o1")
	mustOffer(t, p, quote("o1", "a", capCPD(cpd.Value{}, bps(100))))
	checkHoldings(t, p, []Holding{reserved("o1", "a", "p", 0, 100, t0.Add(DefaultOfferValidity))})
	// A failed decision leaves nothing behind.
	if d := p.Decide(quote("o1", "a", withClass(capCPD(cpd.Value{}, bps(100)), "none"))); d.Outcome != OutcomeFail {
		t.Fatalf("got %s, want Fail", d.Outcome)
	}
	checkHoldings(t, p, []Holding{})
}

// Reference: RFC 8921 §9.1.8 (VALIDITY_OFFER_TIME), §11.2.1; DESIGN §4
// ("VALIDITY_OFFER_TIME passes -> server silently drops the offer and
// releases what it reserved").
func TestValidityAndExpiry(t *testing.T) {
	t.Parallel()
	cfg := simpleConfig(1000)
	cfg.Pools = append(cfg.Pools, Pool{Name: "q", Capacity: Capacity{IncomingBps: 1, OutgoingBps: 1}, OfferValidity: &Duration{time.Minute}})
	cfg.Tenants = append(cfg.Tenants, Tenant{Identity: "c", Pools: []string{"q"}})
	p := mustNew(t, cfg)

	a := mustOffer(t, p, quote("a1", "a", capCPD(cpd.Value{}, bps(800))))
	if a.ValidUntil != t0.Add(5*time.Minute) {
		t.Errorf("default validity: got %v, want t0+5m", a.ValidUntil)
	}
	if c := mustOffer(t, p, quote("c1", "c", capCPD(cpd.Value{}, bps(1)))); c.ValidUntil != t0.Add(time.Minute) {
		t.Errorf("pool validity: got %v, want t0+1m", c.ValidUntil)
	}

	// Before a1 expires, it counts.
	b := quote("b1", "b", capCPD(cpd.Value{}, bps(500)))
	b.At = t0.Add(4 * time.Minute)
	if got := summarize(p.Decide(b)); got.Out != 200 || !got.Partial {
		t.Errorf("before expiry: got %+v, want a counter-offer of 200", got)
	}
	// At its validity time, a1 (never released by the engine) is free again.
	b.At = t0.Add(5 * time.Minute)
	if got := summarize(p.Decide(b)); got.Out != 500 || got.Partial {
		t.Errorf("at expiry: got %+v, want 500", got)
	}
	checkHoldings(t, p, []Holding{reserved("b1", "b", "p", 0, 500, t0.Add(10*time.Minute))})
	// A late Commit of the expired offer does nothing.
	p.Commit("a1")
	p.Commit("c1")
	checkHoldings(t, p, []Holding{reserved("b1", "b", "p", 0, 500, t0.Add(10*time.Minute))})
}

// An UPDATE is compared against what is free plus what the order holds;
// its offer replaces the agreement only at Commit, and the agreement stands
// if the update fails.
// Reference: RFC 8921 §9.2.9, §11.2.3; DESIGN §3 ("until then, and if the
// UPDATE cycle fails, the old nonce and the old agreement stand").
func TestUpdate(t *testing.T) {
	t.Parallel()
	exp := t0.Add(DefaultOfferValidity)
	setup := func(t *testing.T) *Pools {
		t.Helper()
		p := mustNew(t, simpleConfig(1000))
		commitOrder(t, p, "u", "a", 0, 600)
		commitOrder(t, p, "other", "b", 0, 300)
		return p
	}

	t.Run("grow within what the order holds plus what is free", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		d := mustOffer(t, p, update("u", "a", capCPD(cpd.Value{}, bps(700))))
		if d.Partial || summarize(d).Out != 700 {
			t.Fatalf("got %+v (%s), want a full offer of 700", summarize(d), d.Reason)
		}
		checkHoldings(t, p, []Holding{
			committed("other", "b", "p", 0, 300),
			committed("u", "a", "p", 0, 600),
			reserved("u", "a", "p", 0, 700, exp),
		})
		// Either the agreement or the update survives: room for the larger.
		if d := p.Decide(quote("q", "b", capCPD(cpd.Value{}, bps(1)))); d.Outcome != OutcomeFail {
			t.Errorf("third order while the update is open: got %s, want Fail (nothing free)", d.Outcome)
		}
		p.Commit("u")
		checkHoldings(t, p, []Holding{committed("other", "b", "p", 0, 300), committed("u", "a", "p", 0, 700)})
	})
	t.Run("grow beyond: counter-offer", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		if got := summarize(p.Decide(update("u", "a", capCPD(cpd.Value{}, bps(800))))); got.Out != 700 || !got.Partial {
			t.Errorf("got %+v, want a counter-offer of 700", got)
		}
	})
	t.Run("shrink always fits; the agreement holds until commit", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		commitOrder(t, p, "fill", "b", 0, 100) // the pool is full
		mustOffer(t, p, update("u", "a", capCPD(cpd.Value{}, bps(200))))
		if d := p.Decide(quote("q", "b", capCPD(cpd.Value{}, bps(1)))); d.Outcome != OutcomeFail {
			t.Errorf("before commit: got %s, want Fail (600 still held)", d.Outcome)
		}
		p.Commit("u")
		if got := summarize(p.Decide(quote("q", "b", capCPD(cpd.Value{}, bps(400))))); got.Out != 400 || got.Partial {
			t.Errorf("after commit: got %+v, want 400", got)
		}
	})
	t.Run("declined update keeps the agreement", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		mustOffer(t, p, update("u", "a", capCPD(cpd.Value{}, bps(700))))
		p.ReleaseOffer("u")
		checkHoldings(t, p, []Holding{committed("other", "b", "p", 0, 300), committed("u", "a", "p", 0, 600)})
		if got := summarize(p.Decide(quote("q", "b", capCPD(cpd.Value{}, bps(100))))); got.Out != 100 || got.Partial {
			t.Errorf("after the declined update: got %+v, want 100", got)
		}
	})
	t.Run("failed update keeps the agreement", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		mustOffer(t, p, update("u", "a", capCPD(cpd.Value{}, bps(700))))
		d := p.Decide(update("u", "a", withClass(capCPD(cpd.Value{}, bps(700)), "platinum")))
		if d.Outcome != OutcomeFail || d.StatusCode != wire.StatusOutOfResources {
			t.Fatalf("got %s %d, want FAIL 5", d.Outcome, d.StatusCode)
		}
		checkHoldings(t, p, []Holding{committed("other", "b", "p", 0, 300), committed("u", "a", "p", 0, 600)})
	})
	t.Run("a new update offer replaces the pending one", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		mustOffer(t, p, update("u", "a", capCPD(cpd.Value{}, bps(700))))
		mustOffer(t, p, update("u", "a", capCPD(cpd.Value{}, bps(650))))
		checkHoldings(t, p, []Holding{
			committed("other", "b", "p", 0, 300),
			committed("u", "a", "p", 0, 600),
			reserved("u", "a", "p", 0, 650, exp),
		})
	})
	t.Run("expired update offer: the agreement stands", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		mustOffer(t, p, update("u", "a", capCPD(cpd.Value{}, bps(700))))
		q := quote("q", "b", capCPD(cpd.Value{}, bps(100)))
		q.At = exp
		if got := summarize(p.Decide(q)); got.Out != 100 || got.Partial {
			t.Errorf("after the update offer expired: got %+v, want 100", got)
		}
		p.Commit("u") // too late: nothing to commit
		checkHoldings(t, p, []Holding{
			committed("other", "b", "p", 0, 300),
			reserved("q", "b", "p", 0, 100, exp.Add(DefaultOfferValidity)),
			committed("u", "a", "p", 0, 600),
		})
	})
	t.Run("update into another pool counts the agreement against the tenant", func(t *testing.T) {
		t.Parallel()
		cfg := simpleConfig(1000)
		cfg.Pools = append(cfg.Pools, Pool{Name: "gold", Capacity: Capacity{IncomingBps: 1000, OutgoingBps: 1000}, QoSClasses: []QoSClass{{Name: "gold"}}})
		cfg.Tenants[0].Pools = []string{"p", "gold"}
		cfg.Tenants[0].MaxOutgoingBps = i64(1000)
		p := mustNew(t, cfg)
		commitOrder(t, p, "u", "a", 0, 600)
		d := mustOffer(t, p, update("u", "a", withClass(capCPD(cpd.Value{}, bps(900)), "gold")))
		if got := summarize(d); got.Pool != "gold" || got.Out != 900 || got.Partial {
			t.Errorf("got %+v (%s), want 900 from gold (the agreement is credited to the tenant)", got, d.Reason)
		}
		// The tenant needs room for the larger of the two: 100 left.
		if got := summarize(p.Decide(quote("v", "a", capCPD(cpd.Value{}, bps(500))))); got.Out != 100 {
			t.Errorf("another order of the tenant: got %+v, want 100", got)
		}
	})
}

// withClass sets the QoS class of every component of c.
func withClass(c cpd.CPD, name string) cpd.CPD {
	for i := range c.Components {
		c.Components[i].QoS = &cpd.QoS{Class: name}
	}
	return c
}

// Reference: RFC 8921 §8.8 (child PQOs; "the server must not activate
// recursion for an order if the client includes a negotiation option to
// restrict the negotiation scope"), §9.1.10.3; DESIGN §6.
func TestDecideChild(t *testing.T) {
	t.Parallel()
	upstream := []Upstream{{Name: "transit", Address: "transit.example:8921"}, {Name: "second", Address: "h:1"}}
	tests := map[string]struct {
		upstreams  []Upstream
		scope      wire.Scope
		limit      *int64
		manual     bool
		req        cpd.CPD
		want       outcome
		wantChild  *cpd.CPD
		wantReason string
	}{
		"shortfall goes upstream": {upstreams: upstream, req: capCPD(bps(100), bps(1500)),
			want:       outcome{Outcome: OutcomeChild, Pool: "p"},
			wantChild:  ptr(capCPD(cpd.Value{}, bps(500))),
			wantReason: "requesting the shortfall from upstream transit"},
		"explicit recursive scope": {upstreams: upstream, scope: wire.ScopeRecursive, req: capCPD(cpd.Value{}, bps(1500)),
			want: outcome{Outcome: OutcomeChild, Pool: "p"}, wantChild: ptr(capCPD(cpd.Value{}, bps(500)))},
		"local scope: never a child": {upstreams: upstream, scope: wire.ScopeLocal, req: capCPD(cpd.Value{}, bps(1500)),
			want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 1000, Partial: true}},
		"no upstream: counter-offer": {req: capCPD(cpd.Value{}, bps(1500)),
			want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 1000, Partial: true}},
		"a range met locally needs no child": {upstreams: upstream, req: capCPD(cpd.Value{}, cpd.Between(500, 1500)),
			want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 1000}},
		"QoS no pool meets: the whole request upstream": {upstreams: upstream, req: withClass(capCPD(cpd.Value{}, cpd.AtLeast(10)), "platinum"),
			want:       outcome{Outcome: OutcomeChild},
			wantChild:  ptr(withClass(capCPD(cpd.Value{}, cpd.AtLeast(10)), "platinum")),
			wantReason: `no pool of tenant "a" meets the request: pool p: components[0]: no QoS class "platinum"; requesting it from upstream transit`},
		"QoS unmet, local scope: FAIL 5": {upstreams: upstream, scope: wire.ScopeLocal, req: withClass(capCPD(cpd.Value{}, bps(10)), "platinum"),
			want: outcome{Outcome: OutcomeFail, StatusCode: wire.StatusOutOfResources}},
		"tenant limit short: no child": {upstreams: upstream, limit: i64(800), req: capCPD(cpd.Value{}, bps(1500)),
			want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 800, Partial: true}},
		"tenant entitled to it all: child": {upstreams: upstream, limit: i64(1500), req: capCPD(cpd.Value{}, bps(1500)),
			want: outcome{Outcome: OutcomeChild, Pool: "p"}, wantChild: ptr(capCPD(cpd.Value{}, bps(500)))},
		"manual pool: held before the child": {upstreams: upstream, manual: true, req: capCPD(cpd.Value{}, bps(1500)),
			want: outcome{Outcome: OutcomeHold, Pool: "p"}},
		"components without shortfall stay local": {upstreams: upstream,
			req: cpd.CPD{Components: []cpd.Component{
				capComp("ce-1", cpd.Value{}, bps(900)),
				{CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-2"}}},
				capComp("ce-3", cpd.Value{}, bps(300)),
			}},
			want:      outcome{Outcome: OutcomeChild, Pool: "p"},
			wantChild: &cpd.CPD{Components: []cpd.Component{capComp("ce-3", cpd.Value{}, bps(200))}}},
		"fraction only: nothing to ask upstream": {upstreams: upstream, req: capCPD(cpd.Value{}, cpd.Fixed(1.5)),
			want: outcome{Outcome: OutcomeOffer, Pool: "p", Out: 2, Partial: true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := simpleConfig(1000)
			cfg.Upstreams = tc.upstreams
			cfg.Tenants[0].MaxOutgoingBps = tc.limit
			if tc.manual {
				cfg.Pools[0].Approval.Mode = ApprovalManual
			}
			p := mustNew(t, cfg)
			r := quote("o1", "a", tc.req)
			r.Options.Scope = tc.scope
			d := p.Decide(r)
			if diff := cmp.Diff(tc.want, summarize(d)); diff != "" {
				t.Errorf("Decide mismatch (-want +got):\n%s\nreason: %s", diff, d.Reason)
			}
			if diff := cmp.Diff(tc.wantChild, d.ChildRequest); diff != "" {
				t.Errorf("ChildRequest mismatch (-want +got):\n%s", diff)
			}
			if tc.wantChild != nil && d.Upstream != "transit" {
				t.Errorf("Upstream: got %q, want the first configured, transit", d.Upstream)
			}
			if !strings.Contains(d.Reason, tc.wantReason) {
				t.Errorf("reason: got %q, want it to contain %q", d.Reason, tc.wantReason)
			}
			if d.Outcome == OutcomeChild && len(p.Holdings()) != 0 {
				t.Errorf("a Child decision reserved %v, want nothing", p.Holdings())
			}
			if tc.manual {
				d, err := p.Approve("o1", t0)
				if err != nil || d.Outcome != OutcomeChild {
					t.Errorf("Approve: got %s, %v, want Child", d.Outcome, err)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// Reference: RFC 8921 §8.11 (the server keeps its orders across restarts);
// DESIGN §4 "Persistence".
func TestRestore(t *testing.T) {
	t.Parallel()
	exp := t0.Add(time.Minute)
	p := mustNew(t, simpleConfig(1000))
	for _, h := range []Holding{
		committed("c1", "a", "p", 100, 200),
		reserved("r1", "b", "p", 0, 300, exp),
		committed("u", "a", "p", 0, 100),
		reserved("u", "a", "p", 0, 150, exp),
		{ProviderOrderID: "c2", Identity: "a", Pool: "p", OutgoingBps: 50, State: HoldingCommitted, Expires: exp}, // Expires ignored
		committed("gone", "a", "removed-pool", 0, 100),                                                            // a pool no longer configured still counts for the tenant
	} {
		if err := p.Restore(h); err != nil {
			t.Fatalf("Restore(%+v): %v", h, err)
		}
	}
	// Restoring again replaces, it does not add.
	if err := p.Restore(committed("c1", "a", "p", 100, 200)); err != nil {
		t.Fatal(err)
	}
	checkHoldings(t, p, []Holding{
		committed("c1", "a", "p", 100, 200),
		committed("c2", "a", "p", 0, 50),
		committed("gone", "a", "removed-pool", 0, 100),
		reserved("r1", "b", "p", 0, 300, exp),
		committed("u", "a", "p", 0, 100),
		reserved("u", "a", "p", 0, 150, exp),
	})
	// Pool p: 200 + 50 + 300 + max(100, 150) = 700 outgoing taken.
	if got := summarize(p.Decide(quote("n", "b", capCPD(cpd.Value{}, bps(500))))); got.Out != 300 || !got.Partial {
		t.Errorf("after Restore: got %+v, want a counter-offer of 300", got)
	}
	// The restored reservations expire like any other.
	late := quote("n", "b", capCPD(cpd.Value{}, bps(700)))
	late.At = exp
	if got := summarize(p.Decide(late)); got.Out != 650 {
		t.Errorf("after the restored offers expired: got %+v, want 650 (1000 - 200 - 50 - 100)", got)
	}
	// The restored update offer is committed like any other.
	if err := p.Restore(reserved("u", "a", "p", 0, 150, exp.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	p.Commit("u")
	if hs := p.Holdings(); !cmp.Equal(hs[len(hs)-1], committed("u", "a", "p", 0, 150)) {
		t.Errorf("after Commit: got %+v, want u committed at 150", hs[len(hs)-1])
	}
}

func TestRestoreRejectsInvalidHoldings(t *testing.T) {
	t.Parallel()
	good := reserved("o", "a", "p", 1, 1, t0)
	tests := map[string]struct {
		mutate func(h *Holding)
		field  string
	}{
		"no id":               {func(h *Holding) { h.ProviderOrderID = "" }, "providerOrderID"},
		"no identity":         {func(h *Holding) { h.Identity = "" }, "identity"},
		"no pool":             {func(h *Holding) { h.Pool = "" }, "pool"},
		"negative incoming":   {func(h *Holding) { h.IncomingBps = -1 }, "incomingBps"},
		"too much outgoing":   {func(h *Holding) { h.OutgoingBps = MaxBps + 1 }, "outgoingBps"},
		"unknown state":       {func(h *Holding) { h.State = "Open" }, "state"},
		"reserved no expires": {func(h *Holding) { h.Expires = time.Time{} }, "expires"},
	}
	for name, tc := range tests {
		p := mustNew(t, simpleConfig(1000))
		h := good
		tc.mutate(&h)
		err := p.Restore(h)
		var fe *FieldError
		if !errors.Is(err, ErrInvalidHolding) || !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: Restore: got %v, want ErrInvalidHolding and a FieldError on %s", name, err, tc.field)
		}
		if len(p.Holdings()) != 0 {
			t.Errorf("%s: an invalid holding was kept", name)
		}
	}
}

// Update swaps the configuration and keeps the holdings.
// Reference: DESIGN §5 (CapacityPool), §6 (the in-cluster server reads
// CapacityPool objects).
func TestUpdateConfig(t *testing.T) {
	t.Parallel()
	p := mustNew(t, simpleConfig(1000))
	commitOrder(t, p, "c1", "a", 0, 600)
	before := p.Holdings()

	// Shrink the pool below what is held: the agreement stays, nothing new fits.
	if err := p.Update(simpleConfig(500)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	checkHoldings(t, p, before)
	if d := p.Decide(quote("n", "b", capCPD(cpd.Value{}, bps(1)))); d.Outcome != OutcomeFail || !strings.Contains(d.Reason, "600 of 500 bps taken") {
		t.Errorf("overbooked pool: got %s (%s), want FAIL 5 naming 600 of 500", d.Outcome, d.Reason)
	}
	// Grow it: new offers see the new limit.
	if err := p.Update(simpleConfig(2000)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := summarize(p.Decide(quote("n", "b", capCPD(cpd.Value{}, bps(2000))))); got.Out != 1400 {
		t.Errorf("grown pool: got %+v, want 1400", got)
	}
	// Remove the pool: holdings stay until released.
	other := Config{Pools: []Pool{{Name: "other", Capacity: Capacity{IncomingBps: 1, OutgoingBps: 1}}}}
	if err := p.Update(other); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := len(p.Holdings()); got != 2 {
		t.Errorf("after removing the pool: got %d holdings, want 2", got)
	}
	if d := p.Decide(quote("m", "a", capCPD(cpd.Value{}, bps(1)))); d.StatusCode != wire.StatusAuthorizationFailed {
		t.Errorf("tenant removed: got %s %d, want FAIL 3", d.Outcome, d.StatusCode)
	}
	p.Release("c1")
	p.Release("n")
	checkHoldings(t, p, []Holding{})

	// An invalid configuration is refused and the current one stays.
	bad := simpleConfig(0)
	err := p.Update(bad)
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Errorf("Update(invalid): got %v, want a *FieldError", err)
	}
	if diff := cmp.Diff(other, p.Config()); diff != "" {
		t.Errorf("Config after a refused Update (-want +got):\n%s", diff)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Tenants: []Tenant{{Identity: "a", Pools: []string{"x"}}}})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "tenants[0].pools[0]" {
		t.Errorf("New: got %v, want a FieldError on tenants[0].pools[0]", err)
	}
}

// The policy keeps its own copy of the configuration.
func TestConfigIsCopied(t *testing.T) {
	t.Parallel()
	cfg := simpleConfig(1000)
	cfg.Tenants[0].MaxOutgoingBps = i64(1000)
	p := mustNew(t, cfg)
	cfg.Pools[0].Capacity.OutgoingBps = 1
	cfg.Tenants[0].Pools[0] = "nope"
	*cfg.Tenants[0].MaxOutgoingBps = 1
	got := p.Config()
	got.Pools[0].Capacity.OutgoingBps = 2
	*got.Tenants[0].MaxOutgoingBps = 2
	if got := summarize(p.Decide(quote("o", "a", capCPD(cpd.Value{}, bps(1000))))); got.Out != 1000 {
		t.Errorf("after editing the caller's Config: got %+v, want 1000", got)
	}
}

// A held request is kept as it was when held.
func TestHeldRequestIsCopied(t *testing.T) {
	t.Parallel()
	cfg := simpleConfig(1000)
	cfg.Pools[0].Approval.Mode = ApprovalManual
	p := mustNew(t, cfg)
	req := capCPD(cpd.Value{}, bps(300))
	if d := p.Decide(quote("o", "a", req)); d.Outcome != OutcomeHold {
		t.Fatalf("got %s, want Hold", d.Outcome)
	}
	req.Components[0].Capacity.OutgoingBps = bps(5)
	d, err := p.Approve("o", t0)
	if err != nil {
		t.Fatal(err)
	}
	if got := summarize(d); got.Out != 300 {
		t.Errorf("Approve: got %+v, want the held request's 300", got)
	}
}

// Each decision gets its own copy of the provider description.
func TestProviderDescriptionIsCopied(t *testing.T) {
	t.Parallel()
	p := mustNew(t, simpleConfig(1000), WithProviderDescription(wire.ProviderDescription{Name: "ENP"}))
	d := mustOffer(t, p, quote("o1", "a", capCPD(cpd.Value{}, bps(1))))
	d.Provider.Name = "changed"
	if d2 := mustOffer(t, p, quote("o2", "a", capCPD(cpd.Value{}, bps(1)))); d2.Provider.Name != "ENP" {
		t.Errorf("Provider: got %q, want ENP", d2.Provider.Name)
	}
}
