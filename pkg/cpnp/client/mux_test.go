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

package client_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client/clienttest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

func muxServerConfig(p *clienttest.PKI, srv *clienttest.Server) client.ServerConfig {
	return client.ServerConfig{
		Address:     srv.Addr(),
		ServerName:  clienttest.ServerName,
		RootCAs:     p.Pool,
		Certificate: p.ClientCertificate(),
	}
}

// quotation is a valid QUOTATION of order id.
func quotation(id string) wire.Message {
	q := wire.Example(wire.MethodQuotation)
	q.CustomerOrderID = id
	return q
}

// TestMuxRouting routes each message by (server, customer order ID) and
// discards the others silently, counting why.
// Reference: RFC 8921 §10.1, §13 ("The client must silently discard CPNP
// responses received from unknown CPNP servers").
func TestMuxRouting(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := clienttest.NewPKI(t)
	a := clienttest.NewServer(t, p.ServerConfig())
	b := clienttest.NewServer(t, p.ServerConfig())
	metrics := &client.Metrics{}
	var mu sync.Mutex
	var dropped []client.DropReason
	m, err := client.NewMux(client.MuxConfig{Metrics: metrics, OnDrop: func(_ string, r client.DropReason) {
		mu.Lock()
		dropped = append(dropped, r)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	for name, srv := range map[string]*clienttest.Server{"a": a, "b": b} {
		if err := m.AddServer(name, muxServerConfig(p, srv)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.AddServer("a", muxServerConfig(p, a)); !errors.Is(err, client.ErrServerExists) {
		t.Errorf("second AddServer(a) = %v, want ErrServerExists", err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, m.Servers()); diff != "" {
		t.Errorf("Servers() (-want +got):\n%s", diff)
	}
	got := make(chan wire.Message, 8)
	m.Register("a", "co-1", func(msg wire.Message, _ time.Time) { got <- msg })

	// The client speaks first: the associations carry the answers.
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		if err := m.Send(ctx, name, quotation("co-1")); err != nil {
			t.Fatalf("Send to %s: %v", name, err)
		}
	}
	ra := a.Expect(t, wire.MethodQuotation)
	rb := b.Expect(t, wire.MethodQuotation)

	processing := func(srv *clienttest.Server, id string) []byte {
		q := quotation(id)
		msg := srv.Answer(q, wire.MethodProcessing)
		msg.ProviderOrderID = "po-1"
		data, err := wire.Encode(msg)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	clientMsg, err := wire.Encode(quotation("co-1"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		srv  *clienttest.Server
		to   clienttest.Received
		data []byte
		// drop is the reason the message is discarded; -1: delivered.
		drop client.DropReason
	}{
		{"routed", a, ra, processing(a, "co-1"), -1},
		{"unknown order", a, ra, processing(a, "co-2"), client.DropUnknownOrder},
		{"wrong server", b, rb, processing(b, "co-1"), client.DropWrongServer},
		{"invalid datagram", a, ra, []byte(`{"version":1,"method_code":2}`), client.DropInvalid},
		{"not JSON", a, ra, []byte("hello"), client.DropInvalid},
		{"client method", a, ra, clientMsg, client.DropClientMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := metrics.Snapshot().Drops
			tt.srv.SendRaw(t, tt.to, tt.data)
			if tt.drop < 0 {
				select {
				case msg := <-got:
					if msg.Method != wire.MethodProcessing || msg.CustomerOrderID != "co-1" {
						t.Errorf("handler got %s, want the PROCESSING of co-1", msg)
					}
				case <-time.After(clienttest.Wait):
					t.Fatal("handler not called")
				}
				return
			}
			eventually(t, "drop "+tt.drop.String()+" counted", func() bool {
				return metrics.Snapshot().Drops[tt.drop] == before[tt.drop]+1
			})
		})
	}

	m.Unregister("a", "co-1")
	before := metrics.Snapshot().Drops[client.DropUnknownOrder]
	a.SendRaw(t, ra, processing(a, "co-1"))
	eventually(t, "unregistered order dropped", func() bool {
		return metrics.Snapshot().Drops[client.DropUnknownOrder] == before+1
	})
	select {
	case msg := <-got:
		t.Errorf("handler called after Unregister with %s", msg)
	default:
	}
	mu.Lock()
	n := len(dropped)
	mu.Unlock()
	if n != 6 {
		t.Errorf("OnDrop called %d times, want 6", n)
	}
}

// TestMuxRedial: when the server closes the association, the Mux dials
// again and later sends go over the new association.
// Reference: DESIGN §4 (one association per client identity and server).
func TestMuxRedial(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := clienttest.NewPKI(t)
	srv := clienttest.NewServer(t, p.ServerConfig())
	metrics := &client.Metrics{}
	m, err := client.NewMux(client.MuxConfig{Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if err := m.AddServer("s", muxServerConfig(p, srv)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clienttest.Wait)
	defer cancel()
	if err := m.Connect(ctx, "s"); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if err := m.Send(ctx, "s", quotation("co-1")); err != nil {
		t.Fatal(err)
	}
	first := srv.Expect(t, wire.MethodQuotation)
	// Deliver one message so that the association counts as working.
	m.Register("s", "co-1", func(wire.Message, time.Time) {})
	ans := srv.Answer(first.Msg, wire.MethodProcessing)
	ans.ProviderOrderID = "po-1"
	srv.Send(t, first, ans)
	eventually(t, "PROCESSING received", func() bool { return metrics.Snapshot().Received[wire.MethodProcessing] == 1 })

	srv.CloseAssociations()
	eventually(t, "re-dialled", func() bool { return metrics.Snapshot().Dials == 2 })
	if err := m.Send(ctx, "s", quotation("co-1")); err != nil {
		t.Fatalf("Send after the association closed: %v", err)
	}
	second := srv.Expect(t, wire.MethodQuotation)
	if second.Conn == first.Conn {
		t.Errorf("second message came on the closed association")
	}
	if err := m.RemoveServer("s"); err != nil {
		t.Fatal(err)
	}
	if err := m.Send(ctx, "s", quotation("co-1")); !errors.Is(err, client.ErrUnknownServer) {
		t.Errorf("Send after RemoveServer = %v, want ErrUnknownServer", err)
	}
	if err := m.RemoveServer("s"); !errors.Is(err, client.ErrUnknownServer) {
		t.Errorf("second RemoveServer = %v, want ErrUnknownServer", err)
	}
	eventually(t, "association closed", func() bool { return metrics.Snapshot().Associations == 0 })
}

// TestMuxRetransmitRedialsSilentAssociation: a retransmission goes out on
// a new association when the current one stayed silent since an earlier
// retransmission sent at least StaleAfter ago (the server lost it, e.g. it
// restarted: DTLS has no keep-alive); anything received in between, or a
// plain Send, keeps the association.
// Reference: RFC 8921 §11.4; DESIGN §4 (one association per client
// identity and server).
func TestMuxRetransmitRedialsSilentAssociation(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := clienttest.NewPKI(t)
	srv := clienttest.NewServer(t, p.ServerConfig())
	clk := cpnptest.NewFakeClock(t0)
	const stale = 5 * time.Second
	metrics := &client.Metrics{}
	m, err := client.NewMux(client.MuxConfig{Metrics: metrics, Clock: clk, StaleAfter: stale})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if err := m.AddServer("s", muxServerConfig(p, srv)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clienttest.Wait)
	defer cancel()
	m.Register("s", "co-1", func(wire.Message, time.Time) {})
	q := quotation("co-1")
	if err := m.Send(ctx, "s", q); err != nil {
		t.Fatal(err)
	}
	first := srv.Expect(t, wire.MethodQuotation)
	answered := 0
	answer := func(to clienttest.Received) {
		t.Helper()
		ans := srv.Answer(to.Msg, wire.MethodProcessing)
		ans.ProviderOrderID = "po-1"
		srv.Send(t, to, ans)
		answered++
		eventually(t, "PROCESSING received", func() bool {
			return metrics.Snapshot().Received[wire.MethodProcessing] == uint64(answered)
		})
	}
	answer(first) // the association delivered: it counts as working
	expectOn := func(what string, send func(context.Context, string, wire.Message) error, sameConn bool) clienttest.Received {
		t.Helper()
		if err := send(ctx, "s", q); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got := srv.Expect(t, wire.MethodQuotation)
		if (got.Conn == first.Conn) != sameConn {
			t.Fatalf("%s: on the first association %t, want %t", what, got.Conn == first.Conn, sameConn)
		}
		return got
	}

	expectOn("first retransmission", m.Retransmit, true) // marks the association
	clk.Advance(stale)
	expectOn("Send after StaleAfter of silence", m.Send, true) // never re-dials
	expectOn("retransmission after an answer", func(ctx context.Context, s string, msg wire.Message) error {
		answer(first) // heard since the mark: not silent
		clk.Advance(stale)
		return m.Retransmit(ctx, s, msg)
	}, true)
	if d := metrics.Snapshot().Dials; d != 1 {
		t.Fatalf("dials before the association went silent: got %d, want 1", d)
	}
	clk.Advance(stale - time.Millisecond)
	expectOn("retransmission before StaleAfter of silence", m.Retransmit, true)
	clk.Advance(time.Millisecond)
	second := expectOn("retransmission after StaleAfter of silence", m.Retransmit, false)
	if d := metrics.Snapshot().Dials; d != 2 {
		t.Errorf("dials: got %d, want 2 (one re-dial)", d)
	}
	// The new association is the one in use from now on.
	if err := m.Send(ctx, "s", q); err != nil {
		t.Fatal(err)
	}
	if got := srv.Expect(t, wire.MethodQuotation); got.Conn != second.Conn {
		t.Errorf("Send after the re-dial went on another association than the retransmission")
	}
}

// TestMuxHandshakeFailure: a server whose certificate does not chain to the
// configured CA is refused; the failure is counted, hooked, and reported by
// Connect and Send.
// Reference: RFC 8921 §8.1, §13 (mutual authentication).
func TestMuxHandshakeFailure(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := clienttest.NewPKI(t)
	rogue := clienttest.NewServer(t, p.RogueServerConfig())
	metrics := &client.Metrics{}
	failed := make(chan error, 4)
	// A fake clock holds the re-dial backoff, so exactly one dial happens.
	m, err := client.NewMux(client.MuxConfig{
		Clock:              cpnptest.NewFakeClock(t0),
		Metrics:            metrics,
		OnHandshakeFailure: func(_ string, err error) { failed <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if err := m.AddServer("rogue", muxServerConfig(p, rogue)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		if !errors.Is(err, transport.ErrUnknownAuthority) {
			t.Errorf("handshake failure %v, want ErrUnknownAuthority", err)
		}
	case <-time.After(clienttest.Wait):
		t.Fatal("no handshake failure reported")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = m.Connect(ctx, "rogue")
	if !errors.Is(err, context.Canceled) || !errors.Is(err, transport.ErrUnknownAuthority) {
		t.Errorf("Connect = %v, want context.Canceled with the last dial's ErrUnknownAuthority", err)
	}
	err = m.Send(ctx, "rogue", quotation("co-1"))
	if !errors.Is(err, transport.ErrUnknownAuthority) {
		t.Errorf("Send = %v, want the last dial's ErrUnknownAuthority", err)
	}
	s := metrics.Snapshot()
	if s.HandshakeFailures != 1 || s.Dials != 1 || s.SendFailures != 1 {
		t.Errorf("handshake failures %d, dials %d, send failures %d; want 1, 1, 1", s.HandshakeFailures, s.Dials, s.SendFailures)
	}
}

// TestMuxErrors covers the argument errors of the Mux.
func TestMuxErrors(t *testing.T) {
	t.Parallel()
	m, err := client.NewMux(client.MuxConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.AddServer("", client.ServerConfig{Address: "127.0.0.1:1"}); !errors.Is(err, client.ErrInvalidConfig) {
		t.Errorf("AddServer with no name = %v, want ErrInvalidConfig", err)
	}
	if err := m.AddServer("x", client.ServerConfig{Address: "nope"}); !errors.Is(err, client.ErrInvalidConfig) {
		t.Errorf("AddServer with a bad address = %v, want ErrInvalidConfig", err)
	}
	if err := m.Send(ctx, "x", quotation("co-1")); !errors.Is(err, client.ErrUnknownServer) {
		t.Errorf("Send to an unknown server = %v, want ErrUnknownServer", err)
	}
	if err := m.Connect(ctx, "x"); !errors.Is(err, client.ErrUnknownServer) {
		t.Errorf("Connect to an unknown server = %v, want ErrUnknownServer", err)
	}
	var invalid *wire.ValidationError
	if err := m.Send(ctx, "x", wire.Message{Method: wire.MethodQuotation}); !errors.As(err, &invalid) {
		t.Errorf("Send of an invalid message = %v, want a *wire.ValidationError", err)
	}
	if m.HasServer("x") {
		t.Errorf("HasServer(x) after a failed AddServer")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := m.AddServer("x", client.ServerConfig{Address: "127.0.0.1:1"}); !errors.Is(err, client.ErrClosed) {
		t.Errorf("AddServer after Close = %v, want ErrClosed", err)
	}
	if err := m.Send(ctx, "x", quotation("co-1")); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
}
