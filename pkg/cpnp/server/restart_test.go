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
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestRestartMidNegotiation: the engine is stopped with an offer open and
// reopened on the same store; the client reconnects (new port), its
// repeated PROCESSING changes nothing, its ACCEPT gets the ACK, a repeated
// ACCEPT gets the stored ACK, and the agreement survives another restart
// with its capacity.
// Reference: RFC 8921 §8.11 (state survives a reboot), §11.4; DESIGN §4
// (persistence).
func TestRestartMidNegotiation(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.quote(reqCPD(100, 100), nil)
	n.expectOffer()
	n.processing()
	e.waitState(n.poid, fsm.ServerProcessingReceived)

	e.restart()
	if d := e.order(n.poid); d.State != string(fsm.ServerProcessingReceived) || d.OfferValidUntil == nil {
		t.Fatalf("after restart: got %+v, want ProcessingReceived with its open offer", d.OrderSummary)
	}
	if diff := cmp.Diff([]policy.Holding{{
		ProviderOrderID: n.poid, Identity: idAcme, Pool: "wan", IncomingBps: 100 * mbps, OutgoingBps: 100 * mbps,
		State: policy.HoldingReserved, Expires: t0.Add(5 * time.Minute),
	}}, e.holdings(n.poid)); diff != "" {
		t.Errorf("holdings restored after restart (-want +got):\n%s", diff)
	}
	if got := e.metric("cpnp_server_orders", map[string]string{"state": "ProcessingReceived"}); got != 1 {
		t.Errorf("orders{ProcessingReceived} after restart: got %v, want 1", got)
	}

	c = e.dial(idAcme)
	n.c = c
	acc := n.accept()
	c.send(acc)
	ack := c.expect(wire.MethodAck)
	e.waitState(n.poid, fsm.ServerCompleted)

	e.restart()
	c = e.dial(idAcme)
	e.clk.Advance(time.Second)
	c.send(acc) // the ACK was lost: the client repeats its ACCEPT
	if again := c.expect(wire.MethodAck); again.Seq != ack.Seq || again.CPD == nil {
		t.Errorf("ACK after restart: got %v, want the stored ACK (seq %d)", again, ack.Seq)
	}
	d := e.order(n.poid)
	if d.State != string(fsm.ServerCompleted) || d.Agreement == nil || !d.Agreement.Active {
		t.Errorf("agreement after restart: got %+v", d.OrderSummary)
	}
	if diff := cmp.Diff([]policy.Holding{{
		ProviderOrderID: n.poid, Identity: idAcme, Pool: "wan", IncomingBps: 100 * mbps, OutgoingBps: 100 * mbps,
		State: policy.HoldingCommitted,
	}}, e.holdings(n.poid)); diff != "" {
		t.Errorf("holdings after restart (-want +got):\n%s", diff)
	}
}

// TestRestartReArmsTimers: the timers of stored orders are re-armed at
// startup: an offer whose validity passes after the restart lapses and its
// reservation is released.
// Reference: RFC 8921 §9.1.8, §8.11; fsm.ServerOrder.Timers.
func TestRestartReArmsTimers(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.quote(reqCPD(10, 10), nil)
	n.expectOffer()
	e.restart()
	e.clk.Advance(5 * time.Minute)
	e.waitState(n.poid, fsm.ServerCancelled)
	if hs := e.holdings(n.poid); len(hs) != 0 {
		t.Errorf("holdings after the offer lapsed: got %v, want none", hs)
	}
}

// TestRestartHeldOrder: an order held before a restart can still be
// approved (the policy no longer remembers the hold: the engine decides
// again with Request.Approved).
// Reference: RFC 8921 §8.2, §12.2; policy.ErrNotHeld.
func TestRestartHeldOrder(t *testing.T) {
	e := newEnv(t)
	_, n := heldOrder(t, e)
	e.restart()
	c := e.dial(idInitech)
	n.c = c
	c.probe()
	if err := e.srv.Approve(t.Context(), n.poid); err != nil {
		t.Fatalf("Approve after restart: %v", err)
	}
	n.expectOffer()
}

// TestUpdateCancelledAfterLostAck: when the client cancels an UPDATE whose
// ACK it never received, the previous agreement and its capacity are put
// back.
// Reference: RFC 8921 §8.11.2 (Completed assumes the ACK was received),
// §9.2.7; fsm onCancelAfterAck.
func TestUpdateCancelledAfterLostAck(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.negotiate(reqCPD(100, 100), nil)
	n.newTxn()
	u := n.reply(wire.MethodUpdate)
	u.Nonce = n.agreeNonce
	u.ExpectedResponseTime = tp(t0.Add(time.Hour))
	bigger := reqCPD(300, 300)
	u.RequestedCPD = &bigger
	c.send(u)
	c.expect(wire.MethodProcessing)
	n.expectOffer()
	n.agree()
	cancel := wire.Message{Version: wire.Version, Method: wire.MethodCancel, Seq: n.next(), TransactionID: n.txn, CustomerOrderID: n.coid}
	c.send(cancel)
	c.expect(wire.MethodAck)
	waitFor(t, "the old agreement back", func() bool {
		d := e.order(n.poid)
		return d.Agreement != nil && d.Agreement.IncomingBps == 100*mbps
	})
	if diff := cmp.Diff([]policy.Holding{{
		ProviderOrderID: n.poid, Identity: idAcme, Pool: "wan", IncomingBps: 100 * mbps, OutgoingBps: 100 * mbps,
		State: policy.HoldingCommitted,
	}}, e.holdings(n.poid)); diff != "" {
		t.Errorf("holdings after the cancelled UPDATE (-want +got):\n%s", diff)
	}
	// Survives a restart too.
	e.restart()
	if diff := cmp.Diff([]policy.Holding{{
		ProviderOrderID: n.poid, Identity: idAcme, Pool: "wan", IncomingBps: 100 * mbps, OutgoingBps: 100 * mbps,
		State: policy.HoldingCommitted,
	}}, e.holdings(n.poid)); diff != "" {
		t.Errorf("holdings after restart (-want +got):\n%s", diff)
	}
}

// blockingPolicy makes Decide wait until release is closed, so that a test
// can act while the loop is busy.
type blockingPolicy struct {
	*policy.Pools
	entered chan struct{}
	release chan struct{}
}

func (p *blockingPolicy) Decide(req policy.Request) policy.Decision {
	close(p.entered)
	<-p.release
	return p.Pools.Decide(req)
}

// TestShutdownFlushesAnswers: Shutdown commits the writes in flight and
// sends the answers that waited for them before it closes the
// associations; afterwards Serve is refused and admin commands fail.
// Reference: DESIGN §3 ("SIGTERM stops it gracefully"), §4 (write-ahead).
func TestShutdownFlushesAnswers(t *testing.T) {
	checkGoroutines(t)
	bp := &blockingPolicy{entered: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, withConfig(func(c *server.Config) {
		bp.Pools = c.Policy.(*policy.Pools)
		c.Policy = bp
	}))
	srv := e.srv
	c := e.dial(idAcme)
	n := c.newOrder()
	c.send(n.quotation(reqCPD(10, 10), nil))
	<-bp.entered // the loop is deciding the QUOTATION
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.stop()
	}()
	waitFor(t, "Shutdown to begin", func() bool { return srv.Ready() != nil })
	close(bp.release)
	c.expect(wire.MethodProcessing)
	c.expect(wire.MethodOffer)
	<-done
	if err := srv.Approve(t.Context(), "po-x"); !errors.Is(err, server.ErrServerClosed) {
		t.Errorf("Approve after Shutdown: got %v, want ErrServerClosed", err)
	}
	if err := srv.Serve(t.Context(), nil); !errors.Is(err, server.ErrServerClosed) {
		t.Errorf("Serve after Shutdown: got %v, want ErrServerClosed", err)
	}
}
