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

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// idServerA is the identity server A presents to its upstream B: B binds
// the child order to it (DESIGN §4).
const idServerA = "server-a"

// cascade is Figure 7 over real DTLS: a customer's client engine, server
// A with a 100 Mb/s pool and upstream B, server B with 1 Gb/s for A.
type cascade struct {
	a, b     *testServer
	customer *testClient
}

// newCascade starts B (goldAtB: whether B's pool offers class gold), then
// A, then the customer (acme) of A.
func newCascade(t *testing.T, goldAtB bool) *cascade {
	t.Helper()
	p := cpnptest.NewPKI(t, idAcme, idServerA)
	polB := testPolicy(5 * time.Minute)
	polB.Tenants = append(polB.Tenants, policy.Tenant{Identity: idServerA, Pools: []string{"wan"}})
	if !goldAtB {
		polB.Pools[0].QoSClasses = polB.Pools[0].QoSClasses[1:] // silver only
	}
	b := startServer(t, p, serverOptions{policy: &polB, log: true})

	polA := testPolicy(5 * time.Minute)
	polA.Pools[0].Capacity = policy.Capacity{IncomingBps: 100 * mbps, OutgoingBps: 100 * mbps}
	polA.Upstreams = []policy.Upstream{{Name: "b", Address: b.addr}}
	a := startServer(t, p, serverOptions{policy: &polA, log: true, upstreams: map[string]client.ServerConfig{"b": {
		Address: b.addr, ServerName: p.ServerName, RootCAs: p.Pool, Certificate: certOf(p, idServerA),
		Options: transport.Config{HandshakeTimeout: waitTimeout},
	}}})
	cust := startClient(t, p, a.addr, clientOptions{cert: certOf(p, idAcme)})
	cust.connect()
	return &cascade{a: a, b: b, customer: cust}
}

// childAtB waits until A's order coid has a child order and B holds it,
// bound to A's identity, in state; it returns B's order.
func (c *cascade) childAtB(t *testing.T, coid string, state fsm.ServerState) server.OrderSummary {
	t.Helper()
	var last server.OrderSummary
	eventually(t, "B to hold the child of "+coid+" in "+string(state), func() bool {
		parent, ok := c.a.order(idAcme, coid)
		if !ok || parent.Child == nil {
			return false
		}
		last, ok = c.b.order(idServerA, parent.Child.CustomerOrderID)
		return ok && last.State == string(state)
	}, func() string { return "last seen at B: " + last.State })
	return last
}

// capMbps returns the fixed capacity of c's only component, in Mb/s.
func capMbps(t *testing.T, c *cpd.CPD) [2]float64 {
	t.Helper()
	if c == nil || len(c.Components) != 1 || c.Components[0].Capacity == nil {
		t.Fatalf("CPD %v: want one component with a capacity", c)
	}
	in, _ := c.Components[0].Capacity.IncomingBps.FixedValue()
	out, _ := c.Components[0].Capacity.OutgoingBps.FixedValue()
	return [2]float64{in / mbps, out / mbps}
}

// TestChildOrderCascade: the request exceeds A's pool; A negotiates the
// shortfall with B (a child order B binds to A's certificate identity),
// offers the whole request to the customer, who accepts and gets the ACK;
// withdrawing the parent withdraws the child at B.
// Reference: RFC 8921 §8.8, Figure 7; DESIGN §6 ("withdraws them with the
// parent").
func TestChildOrderCascade(t *testing.T) {
	c := newCascade(t, true)
	id := c.customer.quote("co-"+newHex()[:12], gold(300, 300), time.Now(), nil)
	ev := c.customer.waitReason(id, "OfferProcessing")
	if got, want := capMbps(t, ev.Order.FSM.Offer.CPD.DeepCopy()), [2]float64{300, 300}; got != want {
		t.Errorf("offered capacity: got %v Mb/s, want %v", got, want)
	}
	atB := c.childAtB(t, id, fsm.ServerCompleted)
	if atB.Agreement == nil || atB.Agreement.IncomingBps != 200*mbps || atB.Agreement.OutgoingBps != 200*mbps {
		t.Errorf("child agreement at B: got %+v, want 200 Mb/s each way", atB.Agreement)
	}
	if err := c.customer.eng.Accept(context.Background(), id); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	c.customer.waitReason(id, "Agreed")

	if err := c.customer.eng.Withdraw(context.Background(), id); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	c.customer.waitReason(id, "WithdrawAcknowledged")
	c.childAtB(t, id, fsm.ServerCancelled)
	eventually(t, "A to release its part", func() bool { return len(c.a.policy.Holdings()) == 0 },
		func() string { return "A still holds capacity" })
}

// TestChildOrderCascadeUpstreamFails: B cannot serve the child (no class
// gold: FAIL 5), so A answers its customer FAIL 5.
// Reference: RFC 8921 §8.8, §9.2.10 (status 5).
func TestChildOrderCascadeUpstreamFails(t *testing.T) {
	c := newCascade(t, false)
	id := c.customer.quote("co-"+newHex()[:12], gold(300, 300), time.Now(), nil)
	ev := c.customer.waitFor(id, "a FAIL", func(ev client.Event) bool {
		return ev.Kind == client.EventTransition && ev.Order.FSM.Failure != nil
	})
	if f := ev.Order.FSM.Failure; f.StatusCode != wire.StatusOutOfResources {
		t.Errorf("failure: got %+v, want FAIL %d", f, wire.StatusOutOfResources)
	}
	if h := c.a.policy.Holdings(); len(h) != 0 {
		t.Errorf("A's holdings: got %+v, want none", h)
	}
}

// TestChildOrderCascadeScopeLocal: with negotiation scope "local" A never
// recurses (§8.8): the customer gets A's own counter-offer and B never
// hears of the order.
// Reference: RFC 8921 §8.8, §9.1.10.3.
func TestChildOrderCascadeScopeLocal(t *testing.T) {
	c := newCascade(t, true)
	ie := &wire.InformationElements{NegotiationOptions: &wire.NegotiationOptions{Scope: wire.ScopeLocal}}
	id := c.customer.quote("co-"+newHex()[:12], gold(300, 300), time.Now(), ie)
	ev := c.customer.waitReason(id, "OfferProcessing")
	if got, want := capMbps(t, ev.Order.FSM.Offer.CPD.DeepCopy()), [2]float64{100, 100}; got != want {
		t.Errorf("offered capacity: got %v Mb/s, want %v", got, want)
	}
	if o, _ := c.a.order(idAcme, id); o.Child != nil {
		t.Errorf("A's order: got child %+v, want none", o.Child)
	}
	if got := c.b.srv.List(); len(got) != 0 {
		t.Errorf("B's orders: got %d, want none", len(got))
	}
}
