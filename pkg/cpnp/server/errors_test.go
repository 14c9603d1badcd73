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
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestFail3AnotherIdentity: another authenticated identity that presents
// valid identifiers and the right nonce gets FAIL 3; the order is unchanged.
// Reference: RFC 8921 Table 4, Table 6; DESIGN §4 (transport session
// binding), docs/wire.md §9 deviation 1.
func TestFail3AnotherIdentity(t *testing.T) {
	e := newEnv(t)
	acme := e.dial(idAcme)
	n := acme.newOrder()
	n.negotiate(reqCPD(10, 10), nil)

	globex := e.dial(idGlobex)
	n.newTxn()
	w := n.reply(wire.MethodWithdraw)
	w.Nonce = n.agreeNonce
	globex.send(w)
	f := globex.expectFail(wire.StatusAuthorizationFailed)
	if f.ProviderOrderID != n.poid || f.TransactionID != n.txn || f.Seq != w.Seq {
		t.Errorf("FAIL 3: got %v, want order %s transaction %s seq %d", f, n.poid, n.txn, w.Seq)
	}
	if d := e.order(n.poid); d.State != string(fsm.ServerCompleted) || d.Peer == globex.conn.LocalAddr().String() {
		t.Errorf("order after the foreign WITHDRAW: state %s peer %s, want Completed and acme's address", d.State, d.Peer)
	}
	acme.probe() // nothing went to the order's own client
	// The rightful client still withdraws.
	acme.send(w)
	acme.expect(wire.MethodAck)
}

// TestFail1UnknownOrder: a request that names no known order gets FAIL 1,
// carrying its provider order identifier, or a fresh one for a CANCEL
// (which has none); a FAIL for no known order is not answered.
// Reference: RFC 8921 §9.2.5, §9.2.7, Table 4; DESIGN §3; docs/wire.md §9
// deviations 4 and 5.
func TestFail1UnknownOrder(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	txn := newHex()
	acc := wire.Message{Version: wire.Version, Method: wire.MethodAccept, Seq: 7, TransactionID: txn,
		CustomerOrderID: "co-1", ProviderOrderID: "po-unknown", Nonce: newHex(), AcceptedCPD: ptrCPD(reqCPD(1, 1))}
	c.send(acc)
	f := c.expectFail(wire.StatusMessageValidationError)
	if f.ProviderOrderID != "po-unknown" || f.TransactionID != txn || f.CustomerOrderID != "co-1" || f.Seq != 7 {
		t.Errorf("FAIL 1 to ACCEPT: got %v, want po-unknown, txn %s, co-1, seq 7", f, txn)
	}
	cancel := wire.Message{Version: wire.Version, Method: wire.MethodCancel, Seq: 3, TransactionID: newHex(), CustomerOrderID: "co-2"}
	c.send(cancel)
	f = c.expectFail(wire.StatusMessageValidationError)
	if !strings.HasPrefix(f.ProviderOrderID, "po-") || len(f.ProviderOrderID) != 35 || f.TransactionID != cancel.TransactionID {
		t.Errorf("FAIL 1 to CANCEL: got %v, want a fresh provider order identifier and txn %s", f, cancel.TransactionID)
	}
	fail := wire.Message{Version: wire.Version, Method: wire.MethodFail, Seq: 1, TransactionID: newHex(), CustomerOrderID: "co-3",
		ProviderOrderID: "po-unknown", StatusCode: wire.StatusMoreTimeRejected}
	c.send(fail)
	c.probe()
	e.waitMetric("cpnp_server_dropped_total", map[string]string{"reason": "unknown_fail"}, 1)
}

// TestInvalidMessages: a structurally invalid message that still names a
// transaction ID and a customer order identifier gets FAIL 1 (echoing its
// sequence number, with a fresh provider order identifier or that of the
// order the transaction belongs to); one that does not is dropped silently.
// Reference: RFC 8921 §10, §13; DESIGN §3 ("a structurally invalid message
// that still names a transaction ID and customer order identifier → 1,
// otherwise it is dropped"); docs/wire.md §9 deviation 5.
func TestInvalidMessages(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.quote(reqCPD(10, 10), nil)
	n.expectOffer()
	txn := newHex()
	tests := []struct {
		name     string
		raw      string
		wantFail bool
		wantPOID string // "" means a fresh one
		wantSeq  uint32
	}{
		{
			name:     "bad version, identified",
			raw:      `{"version":2,"method_code":1,"sequence_number":42,"transaction_id":"` + txn + `","customer_order_identifier":"co-x"}`,
			wantFail: true, wantSeq: 42,
		},
		{
			name: "missing nonce in an ACCEPT of a known transaction",
			raw: `{"version":1,"method_code":4,"sequence_number":150,"transaction_id":"` + n.txn +
				`","customer_order_identifier":"` + n.coid + `"}`,
			wantFail: true, wantPOID: n.poid, wantSeq: 150,
		},
		{
			name:     "garbage",
			raw:      `not json at all`,
			wantFail: false,
		},
		{
			name:     "no customer order identifier",
			raw:      `{"version":1,"method_code":1,"sequence_number":1,"transaction_id":"` + txn + `"}`,
			wantFail: false,
		},
	}
	dropped := 0.0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.sendRaw([]byte(tc.raw))
			if !tc.wantFail {
				dropped++
				c.probe()
				e.waitMetric("cpnp_server_dropped_total", map[string]string{"reason": "invalid"}, dropped)
				return
			}
			f := c.expectFail(wire.StatusMessageValidationError)
			if f.Seq != tc.wantSeq {
				t.Errorf("FAIL seq: got %d, want %d", f.Seq, tc.wantSeq)
			}
			switch {
			case tc.wantPOID != "" && f.ProviderOrderID != tc.wantPOID:
				t.Errorf("FAIL provider order identifier: got %q, want %q", f.ProviderOrderID, tc.wantPOID)
			case tc.wantPOID == "" && !strings.HasPrefix(f.ProviderOrderID, "po-"):
				t.Errorf("FAIL provider order identifier: got %q, want a fresh one", f.ProviderOrderID)
			}
		})
	}
	if d := e.order(n.poid); d.State != string(fsm.ServerOfferProposed) {
		t.Errorf("order after invalid messages: got %s, want OfferProposed (unchanged)", d.State)
	}
}

// TestRepeatAnsweredFromCache: a repeated request is answered again with
// the stored answer, at most once per resend interval.
// Reference: RFC 8921 §11.4 ("resend the same answer ... with a limited
// frequency"); DESIGN §4.
func TestRepeatAnsweredFromCache(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.quote(reqCPD(10, 10), nil)
	n.expectOffer()
	acc := n.accept()
	c.send(acc)
	ack := c.expect(wire.MethodAck)

	c.send(acc) // within the resend interval (500 ms): suppressed
	c.probe()
	e.waitMetric("cpnp_server_dropped_total", map[string]string{"reason": "repeat_rate_limited"}, 1)

	e.clk.Advance(time.Second)
	c.send(acc)
	again := c.expect(wire.MethodAck)
	if again.Seq != ack.Seq || again.TransactionID != ack.TransactionID {
		t.Errorf("repeated ACK: got seq %d, want the stored answer's %d", again.Seq, ack.Seq)
	}
	e.waitMetric("cpnp_server_retransmissions_total", map[string]string{"kind": "repeat"}, 1)

	// A repeated QUOTATION never opens a second order (§11.4).
	c.send(n.quotation(reqCPD(10, 10), nil))
	c.probe()
	if got := len(e.srv.List()); got != 1 {
		t.Errorf("orders: got %d, want 1", got)
	}
}

// TestReconnectFromNewPort: a client that reconnects from a new port (a new
// association with the same identity) continues its order; answers and
// retransmissions go to its new association.
// Reference: RFC 8921 §8.3; DESIGN §4 (transport session binding);
// docs/wire.md §9 deviation 1.
func TestReconnectFromNewPort(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	c1 := e.dial(idAcme)
	n := c1.newOrder()
	n.quote(reqCPD(10, 10), nil)
	n.expectOffer()
	if err := c1.conn.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	c2 := e.dial(idAcme)
	if c2.conn.LocalAddr().String() == c1.conn.LocalAddr().String() {
		t.Fatalf("the second association reuses the first one's port")
	}
	n.c = c2
	c2.probe() // the server learns the new association
	// The OFFER's retransmission goes to the new association.
	e.clk.Advance(time.Second)
	if r := c2.expect(wire.MethodOffer); r.Seq != n.offer.Seq {
		t.Fatalf("retransmitted OFFER: got seq %d, want %d", r.Seq, n.offer.Seq)
	}
	n.agree()
	d := e.waitState(n.poid, fsm.ServerCompleted)
	if d.Peer != c2.conn.LocalAddr().String() {
		t.Errorf("peer: got %s, want the new association %s", d.Peer, c2.conn.LocalAddr())
	}
}

// TestFailRateLimit: FAIL messages to one client are limited to the burst,
// then to the rate (DESIGN §3 default: 10/s, burst 20).
// Reference: RFC 8921 §9.2.5 ("the server should restrict the number of
// FAIL messages sent to a requesting client"), §13.
func TestFailRateLimit(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	unknown := func() wire.Message {
		return wire.Message{Version: wire.Version, Method: wire.MethodDecline, Seq: 1, TransactionID: newHex(),
			CustomerOrderID: "co", ProviderOrderID: "po-none", Nonce: newHex()}
	}
	// One at a time (a burst of datagrams could overflow a socket buffer).
	for i := range 20 {
		c.send(unknown())
		if m := c.recv(); m.Method != wire.MethodFail {
			t.Fatalf("message %d: got %s, want FAIL", i, m.Method)
		}
	}
	for i := range 5 {
		c.send(unknown())
		e.waitMetric("cpnp_server_dropped_total", map[string]string{"reason": "fail_rate_limited"}, float64(i+1))
	}
	e.clk.Advance(time.Second) // 10 more tokens
	c.probe()
	// Another client has its own bucket.
	e.dial(idGlobex).probe()
}

// TestAccessFilter: an association from a source outside the allowed
// prefixes is closed at once, before any message is handled.
// Reference: RFC 8921 Table 6 ("passes existing access filters"), §13.
func TestAccessFilter(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t, withConfig(func(c *server.Config) {
		c.AllowedSources = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	// The engine closes the association as soon as Accept returns it: the
	// close may reach the client before its side of the handshake has
	// completed (a CloseNotify alert during the handshake), or after.
	conn, err := transport.DialDTLS(ctx, e.addr, e.pki.clientTransport(idAcme))
	if err == nil {
		t.Cleanup(func() { _ = conn.Close() })
		if _, err := conn.ReadMessage(ctx); err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("read on a filtered association: got %v, want the association closed", err)
		}
	} else if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial: got %v, want the association closed", err)
	}
	e.waitMetric("cpnp_server_dropped_total", map[string]string{"reason": "access_filter"}, 1)
}

// TestTerminalRetention: a terminal order answers repeats until its
// retention ends, then it is forgotten, in memory and in the store.
// Reference: RFC 8921 §11.4, §8.11.
func TestTerminalRetention(t *testing.T) {
	e := newEnv(t, withConfig(func(c *server.Config) { c.TerminalRetention = time.Hour }))
	c := e.dial(idAcme)
	n := c.newOrder()
	n.quote(reqCPD(10, 10), nil)
	n.expectOffer()
	dec := n.reply(wire.MethodDecline)
	dec.Nonce = n.offer.Nonce
	c.send(dec)
	c.expect(wire.MethodAck)
	e.waitState(n.poid, fsm.ServerCancelled)
	e.clk.Advance(59 * time.Minute)
	c.send(dec)
	c.expect(wire.MethodAck)
	e.clk.Advance(time.Minute)
	waitFor(t, "the order deleted", func() bool { _, ok := e.srv.Get(n.poid); return !ok })
	if err := e.st.WriteSync(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if _, err := e.st.Get(server.OrdersKind, n.poid); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("stored order after retention: got %v, want ErrNotFound", err)
	}
	c.send(dec)
	c.expectFail(wire.StatusMessageValidationError)
}

// TestStoreFailureStopsServing: when a write-ahead write fails, the answer
// that depends on it is never sent, the engine stops answering, /readyz
// reports it and Serve returns ErrStoreFailed.
// Reference: DESIGN §4 (write-ahead, persistence).
func TestStoreFailureStopsServing(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	c.probe()
	if err := e.st.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	n := c.newOrder()
	c.send(n.quotation(reqCPD(10, 10), nil))
	var serveErr error
	select {
	case serveErr = <-e.serve:
	case <-time.After(waitTimeout):
		t.Fatal("Serve did not return after the store failed")
	}
	if !errors.Is(serveErr, server.ErrStoreFailed) {
		t.Errorf("Serve: got %v, want ErrStoreFailed", serveErr)
	}
	if err := e.srv.Ready(); !errors.Is(err, server.ErrStoreFailed) {
		t.Errorf("Ready: got %v, want ErrStoreFailed", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if b, err := c.conn.ReadMessage(ctx); err == nil {
		t.Errorf("got %s after the store failed, want nothing (write-ahead)", b)
	}
	if err := e.srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	e.srv = nil
	e.waitMetric("cpnp_server_store_failures_total", nil, 1)
}
