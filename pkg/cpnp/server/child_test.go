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

package server_test

import (
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cpnpclient "github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// idServerA is the identity server A presents to its upstream B (DESIGN §4:
// B binds the child order to it).
const idServerA = "server-a"

// chain is server A (a small pool, upstream B) and server B, each a real
// engine over DTLS (RFC 8921 §8.8, Figure 7).
type chain struct {
	a, b *env
}

// upstreamPolicy is B's policy: the test policy plus a tenant for A in
// pool "wan"; with goldOK false, pool "wan" offers no class gold, so B can
// serve no gold request (FAIL 5).
func upstreamPolicy(goldOK bool) policy.Config {
	c := testPolicy()
	c.Tenants = append(c.Tenants, policy.Tenant{Identity: idServerA, Pools: []string{"wan"}})
	if !goldOK {
		c.Pools[0].QoSClasses[0].Name = "silver"
	}
	return c
}

// newChain starts B, then A with a 100 Mb/s pool and B as its upstream
// "b"; tune adjusts A's configuration.
func newChain(t *testing.T, goldAtB bool, tune func(*server.Config)) *chain {
	t.Helper()
	b := newEnv(t, withPolicy(upstreamPolicy(goldAtB)))
	p := getPKI(t)
	now := time.Now()
	certA, err := p.ca.IssueClient(idServerA, "", 24*time.Hour, now)
	if err != nil {
		t.Fatalf("issue A's client certificate: %v", err)
	}
	pa := testPolicy()
	pa.Pools[0].Capacity = policy.Capacity{IncomingBps: 100 * mbps, OutgoingBps: 100 * mbps}
	pa.Upstreams = []policy.Upstream{{Name: "b", Address: b.addr}}
	a := newEnv(t, withPolicy(pa), withConfig(func(c *server.Config) {
		c.Upstreams = map[string]cpnpclient.ServerConfig{"b": {
			Address:     b.addr,
			ServerName:  "localhost",
			RootCAs:     p.ca.Pool(),
			Certificate: &certA.TLS,
			Options:     transport.Config{HandshakeTimeout: waitTimeout},
		}}
		if tune != nil {
			tune(c)
		}
	}))
	return &chain{a: a, b: b}
}

// childAtB returns B's order for A's child, waiting until it exists.
func (ch *chain) childAtB(t *testing.T, poidA string) server.OrderDetail {
	t.Helper()
	var coid string
	waitFor(t, "A's order to have a child order", func() bool {
		d := ch.a.order(poidA)
		if d.Child != nil {
			coid = d.Child.CustomerOrderID
		}
		return coid != ""
	})
	var poidB string
	waitFor(t, "B to hold the child order "+coid, func() bool {
		for _, o := range ch.b.srv.List() {
			if o.CustomerOrderID == coid && o.Identity == idServerA {
				poidB = o.ProviderOrderID
				return true
			}
		}
		return false
	})
	return ch.b.order(poidB)
}

// quoteViaChild quotes in Mb/s at A and expects PROCESSING, then the
// PROCESSING with subcode 2 that announces the child order.
// Reference: RFC 8921 §8.8 ("PROCESSING ... waiting for child orders"),
// Table 2 (subcode 2, Request external resources).
func quoteViaChild(t *testing.T, n *negotiation, in, out float64, opts *wire.NegotiationOptions) {
	t.Helper()
	n.quote(reqCPD(in, out), opts)
	p := n.c.expect(wire.MethodProcessing)
	if p.Subcode != wire.SubcodeRequestExternalResources || p.TransactionID != n.txn {
		t.Fatalf("second PROCESSING: got subcode %d in %s, want subcode %d in %s",
			p.Subcode, p.TransactionID, wire.SubcodeRequestExternalResources, n.txn)
	}
}

// capacity returns the capacity of c's only component in Mb/s.
func capacity(t *testing.T, c *cpd.CPD) [2]float64 {
	t.Helper()
	if c == nil || len(c.Components) != 1 || c.Components[0].Capacity == nil {
		t.Fatalf("CPD %v: want one component with a capacity", c)
	}
	k := c.Components[0].Capacity
	in, _ := k.IncomingBps.FixedValue()
	out, _ := k.OutgoingBps.FixedValue()
	return [2]float64{in / mbps, out / mbps}
}

// TestChildOrderServesShortfall: A's pool has 100 Mb/s, the customer asks
// for 300: A negotiates the 200 Mb/s shortfall with B as a child order
// bound to A's identity, offers 300 Mb/s (its own 100 plus B's 200),
// accepts B's offer before offering, and ACKs the customer; withdrawing the
// parent withdraws the child at B.
// Reference: RFC 8921 §8.8, Figure 7; DESIGN §6 ("withdraws them with the
// parent").
func TestChildOrderServesShortfall(t *testing.T) {
	ch := newChain(t, true, nil)
	c := ch.a.dial(idAcme)
	n := c.newOrder()
	quoteViaChild(t, n, 300, 300, nil)
	off := n.expectOffer()
	if diff := cmp.Diff([2]float64{300, 300}, capacity(t, off.OfferedCPD)); diff != "" {
		t.Errorf("offered capacity (-want +got):\n%s", diff)
	}
	atB := ch.childAtB(t, n.poid)
	if atB.State != string(fsm.ServerCompleted) || atB.Agreement == nil {
		t.Fatalf("child at B: got state %s, agreement %+v; want Completed with an agreement", atB.State, atB.Agreement)
	}
	if got, want := [2]int64{atB.Agreement.IncomingBps, atB.Agreement.OutgoingBps}, [2]int64{200 * mbps, 200 * mbps}; got != want {
		t.Errorf("child agreement at B: got %v bps, want %v", got, want)
	}
	// A holds only its own part (Reserved until the ACK).
	if diff := cmp.Diff([]policy.Holding{{ProviderOrderID: n.poid, Identity: idAcme, Pool: "wan",
		IncomingBps: 100 * mbps, OutgoingBps: 100 * mbps, State: policy.HoldingReserved, Expires: off.ValidityOfferTime.UTC()}},
		ch.a.holdings(n.poid)); diff != "" {
		t.Errorf("A's holdings while offering (-want +got):\n%s", diff)
	}
	// §12.1: one log line per event of the child order, with the upstream
	// and the child's identifier next to the parent's keys.
	childID := ch.a.order(n.poid).Child.CustomerOrderID
	if got := ch.a.logs.find("Child order changed state", map[string]any{
		"upstream": "b", "childCustomerOrderID": childID, "providerOrderID": n.poid, "state": string(fsm.ClientCompleted),
	}); len(got) != 1 {
		t.Errorf("log lines of the child reaching Completed: got %d, want 1", len(got))
	}
	n.processing()
	n.agree()
	d := ch.a.waitState(n.poid, fsm.ServerCompleted)
	if d.Child == nil || d.Child.State != string(fsm.ClientCompleted) {
		t.Errorf("A's child order after the ACK: got %+v, want Completed", d.Child)
	}
	if d.Agreement == nil || d.Agreement.IncomingBps != 300*mbps {
		t.Errorf("A's agreement: got %+v, want 300 Mb/s", d.Agreement)
	}

	n.newTxn()
	w := n.reply(wire.MethodWithdraw)
	w.Nonce = n.agreeNonce
	c.send(w)
	c.expect(wire.MethodAck)
	ch.b.waitState(atB.ProviderOrderID, fsm.ServerCancelled)
	waitFor(t, "A's child order to end", func() bool {
		d := ch.a.order(n.poid)
		return d.Child != nil && d.Child.State == string(fsm.ClientCancelled)
	})
	if h := ch.a.holdings(n.poid); len(h) != 0 {
		t.Errorf("A's holdings after the withdrawal: got %+v, want none", h)
	}
	if h := ch.b.holdings(atB.ProviderOrderID); len(h) != 0 {
		t.Errorf("B's holdings after the withdrawal: got %+v, want none", h)
	}
}

// TestChildOrderRetransmissionRedialsUpstream: the association with the
// upstream goes silent (a partition here; an upstream that restarted
// looks the same: DTLS has no keep-alive) while a child QUOTATION is
// unanswered. The child machine's retransmissions (§11.4) go out through
// client.Mux.Retransmit, so once one has been unanswered for
// MuxConfig.StaleAfter the next one re-dials, and the child order goes on
// over the new association.
// Reference: RFC 8921 §8.8, §11.4; DESIGN §4.
func TestChildOrderRetransmissionRedialsUpstream(t *testing.T) {
	muxClk := cpnptest.NewFakeClock(time.Now())
	muxMetrics := &cpnpclient.Metrics{}
	var relay *cpnptest.Relay
	ch := newChain(t, true, func(c *server.Config) {
		up := c.Upstreams["b"]
		r, err := cpnptest.NewRelay(cpnptest.RelayConfig{Target: up.Address, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		relay = r
		up.Address = r.Addr().String()
		c.Upstreams["b"] = up
		c.UpstreamMux = cpnpclient.MuxConfig{Clock: muxClk, Metrics: muxMetrics}
	})
	c := ch.a.dial(idAcme)
	// A first order: the association with B delivers (it counts as working).
	first := c.newOrder()
	quoteViaChild(t, first, 300, 300, nil)
	first.expectOffer()
	first.processing() // stops A retransmitting that OFFER (§11.2.1)

	relay.Pause()
	lost := func() uint64 { return relay.Stats().ToServer.Partitioned }
	n := c.newOrder()
	quoteViaChild(t, n, 300, 300, nil) // A's own answers: B is not involved yet
	waitFor(t, "the child QUOTATION to be lost", func() bool { return lost() >= 1 })
	// stepUntil moves A's clock on a second at a time, giving the
	// engine's sends (real time) up to half a second after each step,
	// until cond holds; the child's retransmissions (1 s, then 2 s, then
	// 4 s later, §11.4) are thus triggered one at a time.
	stepUntil := func(what string, cond func() bool) {
		t.Helper()
		for range 20 {
			ch.a.clk.Advance(time.Second)
			for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline); {
				if cond() {
					return
				}
				time.Sleep(5 * time.Millisecond) // polling interval
			}
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	// The first retransmission is lost too: it marks the association.
	before := lost()
	stepUntil("the first retransmission", func() bool { return lost() > before })
	if d := muxMetrics.Snapshot().Dials; d != 1 {
		t.Fatalf("dials before StaleAfter: got %d, want 1", d)
	}
	muxClk.Advance(cpnpclient.DefaultStaleAfter)
	relay.Resume()
	// The next retransmission re-dials and gets through.
	stepUntil("the re-dial", func() bool { return muxMetrics.Snapshot().Dials == 2 })
	waitFor(t, "A's offer after the re-dial", func() bool {
		d := ch.a.order(n.poid)
		return d.Child != nil && d.Child.State == string(fsm.ClientCompleted)
	})
	n.expectOffer()
	if d := muxMetrics.Snapshot().Dials; d != 2 {
		t.Errorf("dials: got %d, want 2 (the retransmission re-dialled the silent association)", d)
	}
}

// TestChildOrderDeclinedByCustomer: the customer declines the offer that
// includes the child's agreement: A withdraws the child at B.
// Reference: RFC 8921 §8.8, §9.2.5; DESIGN §6.
func TestChildOrderDeclinedByCustomer(t *testing.T) {
	ch := newChain(t, true, nil)
	c := ch.a.dial(idAcme)
	n := c.newOrder()
	quoteViaChild(t, n, 300, 300, nil)
	n.expectOffer()
	atB := ch.childAtB(t, n.poid)
	dec := n.reply(wire.MethodDecline)
	dec.Nonce = n.offer.Nonce
	c.send(dec)
	c.expect(wire.MethodAck)
	ch.a.waitState(n.poid, fsm.ServerCancelled)
	ch.b.waitState(atB.ProviderOrderID, fsm.ServerCancelled)
	if h := ch.a.holdings(n.poid); len(h) != 0 {
		t.Errorf("A's holdings after the DECLINE: got %+v, want none", h)
	}
}

// TestChildOrderOfferExpires: the customer lets the offer that includes
// the child's agreement expire: A withdraws the child at B and holds
// nothing.
// Reference: RFC 8921 §8.8, §9.1.8 (VALIDITY_OFFER_TIME); DESIGN §6.
func TestChildOrderOfferExpires(t *testing.T) {
	ch := newChain(t, true, nil)
	c := ch.a.dial(idAcme)
	n := c.newOrder()
	quoteViaChild(t, n, 300, 300, nil)
	n.expectOffer()
	atB := ch.childAtB(t, n.poid)
	ch.a.clk.Advance(6 * time.Minute) // the pool's offers are valid 5 minutes
	ch.a.waitState(n.poid, fsm.ServerCancelled)
	ch.b.waitState(atB.ProviderOrderID, fsm.ServerCancelled)
	if h := ch.a.holdings(n.poid); len(h) != 0 {
		t.Errorf("A's holdings after the expiry: got %+v, want none", h)
	}
}

// TestChildOrderFailsUpstream: B cannot serve the child (FAIL 5): A
// answers its customer FAIL 5 and holds nothing.
// Reference: RFC 8921 §8.8, §9.2.10 (status 5, Out of Resources).
func TestChildOrderFailsUpstream(t *testing.T) {
	ch := newChain(t, false, nil)
	c := ch.a.dial(idAcme)
	n := c.newOrder()
	quoteViaChild(t, n, 300, 300, nil)
	c.expectFail(wire.StatusOutOfResources)
	d := ch.a.waitState(n.poid, fsm.ServerCancelled)
	if d.Child == nil || d.Child.State != string(fsm.ClientCancelled) {
		t.Errorf("A's child order: got %+v, want Cancelled", d.Child)
	}
	if h := ch.a.holdings(n.poid); len(h) != 0 {
		t.Errorf("A's holdings: got %+v, want none", h)
	}
}

// TestChildOrderScopeLocal: a request whose negotiation options restrict
// the scope to the server's domain never makes a child order: A
// counter-offers what its pool has, or FAILs 5 when no pool meets the
// request, and B never hears of it.
// Reference: RFC 8921 §8.8 ("the server must not activate recursion"),
// §9.1.10.3.
func TestChildOrderScopeLocal(t *testing.T) {
	ch := newChain(t, true, nil)
	c := ch.a.dial(idAcme)
	local := &wire.NegotiationOptions{Scope: wire.ScopeLocal}
	t.Run("counter-offer", func(t *testing.T) {
		n := c.newOrder()
		n.quote(reqCPD(300, 300), local)
		off := n.expectOffer()
		if diff := cmp.Diff([2]float64{100, 100}, capacity(t, off.OfferedCPD)); diff != "" {
			t.Errorf("offered capacity (-want +got):\n%s", diff)
		}
		if d := ch.a.order(n.poid); d.Child != nil {
			t.Errorf("A's order: got child %+v, want none", d.Child)
		}
	})
	t.Run("no pool", func(t *testing.T) {
		n := c.newOrder()
		req := reqCPD(10, 10)
		req.Components[0].QoS.Class = "platinum"
		n.quote(req, local)
		c.expectFail(wire.StatusOutOfResources)
		if d := ch.a.waitState(n.poid, fsm.ServerCancelled); d.Child != nil {
			t.Errorf("A's order: got child %+v, want none", d.Child)
		}
	})
	if got := ch.b.srv.List(); len(got) != 0 {
		t.Errorf("B's orders: got %d, want none", len(got))
	}
}

// TestChildOrderWholeRequestUpstream: no pool of A meets the request
// (class silver, which only B offers): the whole request becomes the child
// order and A offers B's agreement as is, holding nothing itself.
// Reference: RFC 8921 §8.8, Figure 7.
func TestChildOrderWholeRequestUpstream(t *testing.T) {
	ch := newChain(t, false, nil)
	c := ch.a.dial(idAcme)
	n := c.newOrder()
	req := reqCPD(50, 50)
	req.Components[0].QoS.Class = "silver"
	n.quote(req, nil)
	if p := c.expect(wire.MethodProcessing); p.Subcode != wire.SubcodeRequestExternalResources {
		t.Fatalf("second PROCESSING: got subcode %d, want %d", p.Subcode, wire.SubcodeRequestExternalResources)
	}
	off := n.expectOffer()
	if diff := cmp.Diff([2]float64{50, 50}, capacity(t, off.OfferedCPD)); diff != "" {
		t.Errorf("offered capacity (-want +got):\n%s", diff)
	}
	if h := ch.a.holdings(n.poid); len(h) != 0 {
		t.Errorf("A's holdings: got %+v, want none (B holds it all)", h)
	}
	n.processing()
	n.agree()
	ch.childAtB(t, n.poid)
}

// TestChildOrderSurvivesRestart: A restarts while holding an agreement
// with a child at B; the child's state comes back from A's store, and
// withdrawing the parent after the restart still withdraws the child.
// Reference: RFC 8921 §8.8, §8.11 (state survives a restart); DESIGN §4.
func TestChildOrderSurvivesRestart(t *testing.T) {
	ch := newChain(t, true, nil)
	c := ch.a.dial(idAcme)
	n := c.newOrder()
	quoteViaChild(t, n, 300, 300, nil)
	n.expectOffer()
	atB := ch.childAtB(t, n.poid)
	n.processing()
	n.agree()
	ch.a.waitState(n.poid, fsm.ServerCompleted)

	ch.a.restart()
	// The restored holding is A's own part only (§8.8: B holds the rest).
	if diff := cmp.Diff([]policy.Holding{{ProviderOrderID: n.poid, Identity: idAcme, Pool: "wan",
		IncomingBps: 100 * mbps, OutgoingBps: 100 * mbps, State: policy.HoldingCommitted}},
		ch.a.holdings(n.poid)); diff != "" {
		t.Errorf("A's holdings after the restart (-want +got):\n%s", diff)
	}
	c = ch.a.dial(idAcme)
	n.c = c
	n.newTxn()
	w := n.reply(wire.MethodWithdraw)
	w.Nonce = n.agreeNonce
	c.send(w)
	c.expect(wire.MethodAck)
	ch.b.waitState(atB.ProviderOrderID, fsm.ServerCancelled)
	// B's ACK reaches the restarted A's child order: its route is back.
	waitFor(t, "A's child order to see B's ACK", func() bool {
		d := ch.a.order(n.poid)
		return d.Child != nil && d.Child.State == string(fsm.ClientCancelled)
	})
}

// deadUpstream returns A's env whose upstream "b" is an address nothing
// listens at.
func deadUpstream(t *testing.T) *env {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("reserve a port: %v", err)
	}
	dead := pc.LocalAddr().String()
	if err := pc.Close(); err != nil {
		t.Fatal(err)
	}
	p := getPKI(t)
	pa := testPolicy()
	pa.Pools[0].Capacity = policy.Capacity{IncomingBps: 100 * mbps, OutgoingBps: 100 * mbps}
	pa.Upstreams = []policy.Upstream{{Name: "b", Address: dead}}
	return newEnv(t, withPolicy(pa), withConfig(func(c *server.Config) {
		c.Upstreams = map[string]cpnpclient.ServerConfig{"b": {
			Address: dead, ServerName: "localhost", RootCAs: p.ca.Pool(),
			Certificate: &p.clients[idGlobex].TLS,
			Options:     transport.Config{HandshakeTimeout: time.Second},
		}}
	}))
}

// giveUp moves A's fake clock on until the order poid is Cancelled: the
// child's retransmissions (§11.4) and EXPECTED_RESPONSE_TIME run out.
func giveUp(t *testing.T, a *env, poid string) server.OrderDetail {
	t.Helper()
	waitFor(t, "the child order to give up", func() bool {
		if d := a.order(poid); d.State == string(fsm.ServerCancelled) {
			return true
		}
		a.clk.Advance(10 * time.Second)
		return false
	})
	d := a.order(poid)
	if d.Child == nil || d.Child.State != string(fsm.ClientCancelled) {
		t.Errorf("A's child order: got %+v, want Cancelled", d.Child)
	}
	if d.Failure == nil || d.Failure.StatusCode != wire.StatusOutOfResources {
		t.Errorf("A's failure: got %+v, want FAIL %d", d.Failure, wire.StatusOutOfResources)
	}
	if h := a.holdings(poid); len(h) != 0 {
		t.Errorf("A's holdings: got %+v, want none", h)
	}
	return d
}

// TestChildOrderUpstreamUnreachable: the upstream never answers (nothing
// listens at its address): the child gives up, and the customer gets
// FAIL 5 without any holding left behind.
// Reference: RFC 8921 §8.8, §11.4 (retransmission), §9.1.6, §9.2.10.
func TestChildOrderUpstreamUnreachable(t *testing.T) {
	a := deadUpstream(t)
	c := a.dial(idAcme)
	n := c.newOrder()
	quoteViaChild(t, n, 300, 300, nil)
	giveUp(t, a, n.poid)
	c.expectFail(wire.StatusOutOfResources)
}

// TestChildOrderResumesAfterRestart: A restarts while its child order is
// waiting for the upstream: the child comes back from the store in the
// state it was in (write-ahead), its timers are armed again, and it still
// ends the parent cleanly (FAIL 5) when the upstream stays silent.
// Reference: RFC 8921 §8.8, §8.11 (state survives a reboot); DESIGN §4.
func TestChildOrderResumesAfterRestart(t *testing.T) {
	a := deadUpstream(t)
	c := a.dial(idAcme)
	n := c.newOrder()
	quoteViaChild(t, n, 300, 300, nil)
	before := a.waitState(n.poid, fsm.ServerChildPQOSent)
	a.restart()
	after := a.order(n.poid)
	if diff := cmp.Diff(before.Child, after.Child); diff != "" || after.Child == nil {
		t.Fatalf("child order after the restart (-before +after):\n%s", diff)
	}
	if after.State != string(fsm.ServerChildPQOSent) {
		t.Errorf("state after the restart: got %s, want %s", after.State, fsm.ServerChildPQOSent)
	}
	giveUp(t, a, n.poid)
}
