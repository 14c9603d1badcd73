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
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestAnotherIdentityGetsFail3: globex, authenticated with its own
// certificate on its own DTLS association, presents acme's valid customer
// and provider order identifiers and nonce. Every message gets FAIL 3
// (Authorization Failed) and nothing changes: acme's agreement and open
// offer stay acme's, and acme can still use them.
// Reference: RFC 8921 §13 ("Only authorized clients must be able to modify
// accepted CPNP orders"), §10.2 Table 6, §9.2.10 (Table 4 code 3);
// DESIGN §4 "Transport session binding".
func TestAnotherIdentityGetsFail3(t *testing.T) {
	t.Parallel()
	f := newFlow(t, idAcme)
	agreed := f.cli.agree("bound-agreement", gold(10, 10), f.clk.Now(), nil)
	open := f.cli.quote("bound-offer", gold(5, 5), f.clk.Now(), nil)
	f.cli.waitReason(open, "OfferProcessing")
	offer := f.cli.order(open)
	f.srv.waitState(idAcme, open, fsm.ServerProcessingReceived)
	holdingsBefore := f.srv.holdings()

	mallory := dialRaw(t, f.p, f.srv.addr, idGlobex)
	msg := func(method wire.Method, o client.Order, nonce string) wire.Message {
		return wire.Message{Version: wire.Version, Method: method, Seq: 7, TransactionID: newHex(),
			CustomerOrderID: o.ID(), ProviderOrderID: o.FSM.ProviderOrderID, Nonce: nonce}
	}
	later := f.clk.Now().Add(time.Hour)
	update := msg(wire.MethodUpdate, agreed, agreed.FSM.Agreement.Nonce)
	update.ExpectedResponseTime, update.RequestedCPD = &later, ptr(gold(1, 1))
	activate := msg(wire.MethodActivate, agreed, agreed.FSM.Agreement.Nonce)
	activate.ActivationSchedule = ptr(wire.ScheduleDeactivate())
	withdraw := msg(wire.MethodWithdraw, agreed, agreed.FSM.Agreement.Nonce)
	// ACCEPT and DECLINE answer the open offer's transaction.
	accept := msg(wire.MethodAccept, offer, offer.FSM.Offer.Nonce)
	accept.TransactionID, accept.AcceptedCPD = offer.FSM.Txn.ID, ptr(offer.FSM.Offer.CPD)
	decline := msg(wire.MethodDecline, offer, offer.FSM.Offer.Nonce)
	decline.TransactionID = offer.FSM.Txn.ID

	for _, m := range []wire.Message{update, activate, withdraw, accept, decline} {
		ans := mallory.roundTrip(m)
		got := []any{ans.Method, ans.StatusCode, ans.TransactionID, ans.CustomerOrderID}
		want := []any{wire.MethodFail, wire.StatusAuthorizationFailed, m.TransactionID, m.CustomerOrderID}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("answer to globex's %s (-want +got):\n%s", m.Method, diff)
		}
	}

	// Nothing changed on the server.
	if s := f.server(agreed.ID()); s.State != string(fsm.ServerCompleted) || s.Agreement == nil || !s.Agreement.Active {
		t.Errorf("acme's agreement after globex's attempts: got %+v, want Completed and active", s)
	}
	if s := f.server(open); s.State != string(fsm.ServerProcessingReceived) {
		t.Errorf("acme's open offer after globex's attempts: got %s, want ProcessingReceived", s.State)
	}
	if diff := cmp.Diff(holdingsBefore, f.srv.holdings()); diff != "" {
		t.Errorf("holdings changed (-before +after):\n%s", diff)
	}
	// acme still owns both: it accepts the offer and withdraws the agreement.
	ctx := context.Background()
	if err := f.cli.eng.Accept(ctx, open); err != nil {
		t.Fatalf("acme Accept: %v", err)
	}
	f.cli.waitReason(open, "Agreed")
	if err := f.cli.eng.Withdraw(ctx, agreed.ID()); err != nil {
		t.Fatalf("acme Withdraw: %v", err)
	}
	f.cli.waitReason(agreed.ID(), "WithdrawAcknowledged")
	if got := f.srv.counter("cpnp_server_fails_sent_total", "status_code", "3"); got != 5 {
		t.Errorf("FAIL 3 sent: got %v, want 5", got)
	}
}

// TestRefusedHandshakes: mutual authentication is required (RFC 8921 §13,
// DESIGN §4): a client without a certificate and a client whose certificate
// chains to an unknown CA are refused by the server, and a client refuses a
// server whose certificate it cannot verify. No association and no order
// results, and both sides count the failure.
// Reference: RFC 8921 §8.1, §13; DESIGN §4 "Security".
func TestRefusedHandshakes(t *testing.T) {
	t.Parallel()
	p := cpnptest.NewPKI(t, idAcme)
	rogue := cpnptest.NewPKI(t, idAcme) // another CA, same names
	tests := map[string]struct {
		serverPKI *cpnptest.PKI
		cert      *tls.Certificate
		// serverReason is the failure the server counts, if it is the one
		// that refuses.
		serverReason transport.HandshakeReason
		// clientErr is what the client's error matches.
		clientErr error
	}{
		"no client certificate": {
			serverPKI: p, serverReason: transport.ReasonNoClientCertificate, clientErr: transport.ErrNoClientCertificate,
		},
		"client certificate from an unknown CA": {
			serverPKI: p, cert: certOf(rogue, idAcme), serverReason: transport.ReasonUnknownAuthority,
			clientErr: transport.ErrPeerRefused,
		},
		"server certificate from an unknown CA": {
			serverPKI: rogue, cert: certOf(p, idAcme), serverReason: -1, clientErr: transport.ErrUnknownAuthority,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tc.serverPKI, serverOptions{})
			// The client trusts p's CA only.
			cli := startClient(t, p, srv.addr, clientOptions{cert: tc.cert, roots: p.Pool, quiet: true})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			err := cli.eng.Connect(ctx, serverName)
			if !errors.Is(err, tc.clientErr) || !errors.Is(err, transport.ErrHandshakeFailed) {
				t.Fatalf("Connect: got %v, want a handshake failure matching %v", err, tc.clientErr)
			}
			if got := cli.metrics.Snapshot().HandshakeFailures; got == 0 {
				t.Errorf("client handshake failures: got 0, want at least 1")
			}
			if tc.serverReason >= 0 {
				eventually(t, "the server to count the refusal", func() bool {
					return srv.metrics.Snapshot().HandshakeFailures[tc.serverReason] > 0
				}, func() string { return "" })
			}
			s := srv.metrics.Snapshot()
			if s.HandshakesCompleted != 0 || s.ActiveAssociations != 0 {
				t.Errorf("server: %d handshakes completed, %d associations; want none", s.HandshakesCompleted, s.ActiveAssociations)
			}
			if n := len(srv.srv.List()); n != 0 {
				t.Errorf("server orders: got %d, want none", n)
			}
		})
	}
}

// TestReconnectFromNewPort: a client engine stops (its association ends)
// while its order has an open offer; a new engine on the same client store,
// with a new certificate for the same identity, dials from a new port and
// accepts the offer. The server binds the order to the identity, not the
// 5-tuple, so the order continues and its peer address changes.
// Reference: DESIGN §4 "Transport session binding" ("a client that
// reconnects (new port after a restart) can continue its orders"); RFC 8921
// §8.11.1 (the client keeps its orders), §9.2.4.
func TestReconnectFromNewPort(t *testing.T) {
	t.Parallel()
	p := cpnptest.NewPKI(t, idAcme)
	clk := cpnptest.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	srv := startServer(t, p, serverOptions{clock: clk})
	st := client.NewMemoryStore()
	first := startClient(t, p, srv.addr, clientOptions{clock: clk, cert: certOf(p, idAcme), store: st})
	first.connect()
	id := first.quote("roaming", gold(10, 10), clk.Now(), nil)
	first.waitReason(id, "OfferProcessing")
	before := srv.waitState(idAcme, id, fsm.ServerProcessingReceived)
	first.stop()

	cert := p.IssueClient(idAcme, "") // the restarted client has a new certificate
	second := startClient(t, p, srv.addr, clientOptions{clock: clk, cert: &cert, store: st})
	second.connect()
	if o := second.order(id); o.State() != fsm.ClientOfferProcessing {
		t.Fatalf("restored order: got %s, want OfferProcessing", o.State())
	}
	if err := second.eng.Accept(context.Background(), id); err != nil {
		t.Fatalf("Accept from the new engine: %v", err)
	}
	second.waitReason(id, "Agreed")
	after := srv.waitState(idAcme, id, fsm.ServerCompleted)
	if after.Peer == before.Peer || after.Peer == "" {
		t.Errorf("server peer: got %q after reconnecting, %q before; want a new address", after.Peer, before.Peer)
	}
	if after.ProviderOrderID != before.ProviderOrderID {
		t.Errorf("provider order ID: got %s, want %s (the same order)", after.ProviderOrderID, before.ProviderOrderID)
	}
	if o := second.order(id); !cpd.Equal(o.FSM.Agreement.CPD, gold(10, 10)) {
		t.Errorf("agreement CPD: got %+v, want gold 10/10", o.FSM.Agreement.CPD)
	}
}
