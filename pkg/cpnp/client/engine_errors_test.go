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
	"strings"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client/clienttest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestCommandErrors: invalid requests and commands that the order's state
// does not allow fail with a clear error, and nothing is stored or sent.
// Reference: RFC 8921 §8.11.1 Figure 8, §9.2.1, §9.2.5 Table 3.
func TestCommandErrors(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	id, q := h.quote(request())
	saves := h.store.Saves()

	pastERT := request()
	pastERT.ExpectedResponseTime = atp(-time.Second)
	longID := request()
	longID.CustomerOrderID = strings.Repeat("x", 129)
	badIE := request()
	badIE.InformationElements.NegotiationOptions = &wire.NegotiationOptions{Scope: "galactic"}
	tests := []struct {
		name  string
		run   func() error
		want  error
		state fsm.ClientState // for a *StateError
	}{
		{"empty CPD", func() error {
			_, err := h.eng.Quote(ctx, serverName, client.QuoteRequest{CPD: cpd.Empty()})
			return err
		}, client.ErrInvalidRequest, ""},
		{"past expected response time", func() error { _, err := h.eng.Quote(ctx, serverName, pastERT); return err }, client.ErrInvalidRequest, ""},
		{"identifier too long", func() error { _, err := h.eng.Quote(ctx, serverName, longID); return err }, client.ErrInvalidRequest, ""},
		{"invalid negotiation option", func() error { _, err := h.eng.Quote(ctx, serverName, badIE); return err }, client.ErrInvalidRequest, ""},
		{"unknown server", func() error { _, err := h.eng.Quote(ctx, "nowhere", request()); return err }, client.ErrUnknownServer, ""},
		{"accept unknown order", func() error { return h.eng.Accept(ctx, "co-none") }, client.ErrUnknownOrder, ""},
		{"accept without offer", func() error { return h.eng.Accept(ctx, id) }, client.ErrInvalidState, fsm.ClientPQOSent},
		{"withdraw without agreement", func() error { return h.eng.Withdraw(ctx, id) }, client.ErrInvalidState, fsm.ClientPQOSent},
		{"activate without agreement", func() error { return h.eng.Activate(ctx, id, wire.ScheduleDeactivate()) }, client.ErrInvalidState, fsm.ClientPQOSent},
		{"update without agreement", func() error { return h.eng.Update(ctx, id, cpd.Sample(), at(time.Hour)) }, client.ErrInvalidState, fsm.ClientPQOSent},
		{"update with empty CPD", func() error { return h.eng.Update(ctx, id, cpd.Empty(), at(time.Hour)) }, client.ErrInvalidRequest, ""},
		{"refuse with nothing pending", func() error { return h.eng.RefuseExtension(ctx, id) }, client.ErrInvalidState, fsm.ClientPQOSent},
		{"decline reason out of Table 3", func() error { return h.eng.Decline(ctx, id, 4) }, client.ErrInvalidRequest, ""},
		{"decline reason repeated", func() error { return h.eng.Decline(ctx, id, 1, 1) }, client.ErrInvalidRequest, ""},
		{"decline without offer", func() error { return h.eng.Decline(ctx, id, 1) }, client.ErrInvalidState, fsm.ClientPQOSent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var se *client.StateError
			if tt.state != "" && (!errors.As(err, &se) || se.State != tt.state || se.CustomerOrderID != id) {
				t.Fatalf("got %v, want a *StateError of %s in %s", err, id, tt.state)
			}
		})
	}
	if n := h.store.Saves(); n != saves {
		t.Errorf("%d saves after refused commands, want %d", n, saves)
	}
	var cpdErr *cpd.Error
	if _, err := h.eng.Quote(ctx, serverName, client.QuoteRequest{CPD: cpd.Empty()}); !errors.As(err, &cpdErr) {
		t.Errorf("Quote with an empty CPD = %v, want a *cpd.Error inside", err)
	}
	// Nothing was sent: the next message the server sees answers the
	// QUOTATION, and then comes a new order's QUOTATION.
	h.srv.Send(t, q, h.fail(q.Msg, wire.StatusOutOfResources))
	h.waitReason(id, "Failed")
	id2, q2 := h.quote(request())
	if q2.Msg.CustomerOrderID != id2 {
		t.Errorf("server got %s, want the QUOTATION of %s", q2.Msg, id2)
	}
	if len(h.eng.List()) != 2 {
		t.Errorf("List() has %d orders, want 2", len(h.eng.List()))
	}
}

// TestWriteAheadStoreFailure: when the store fails, the step is not applied
// and nothing is sent — for a command, a received message and a timer.
// Reference: DESIGN §4 "Persistence" (write-ahead); RFC 8921 §11.4.
func TestWriteAheadStoreFailure(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	boom := errors.New("disk on fire")

	h.store.FailSaves(boom)
	req := request()
	req.CustomerOrderID = "co-lost"
	if _, err := h.eng.Quote(ctx, serverName, req); !errors.Is(err, boom) {
		t.Fatalf("Quote with a failing store = %v, want %v", err, boom)
	}
	if _, ok := h.eng.Get("co-lost"); ok {
		t.Errorf("order kept although it could not be stored")
	}
	h.store.FailSaves(nil)
	id, q := h.quote(request())
	if q.Msg.CustomerOrderID != id {
		t.Fatalf("server got %s first, want the QUOTATION of %s: the failed one was sent", q.Msg, id)
	}

	// A received message that cannot be stored is dropped; its repeat is handled.
	h.store.FailSaves(boom)
	offer := h.offer(q.Msg, nonce1, at(time.Hour))
	h.srv.Send(t, q, offer)
	eventually(t, "store failure counted", func() bool { return h.metrics.Snapshot().StoreFailures == 2 })
	if o := h.order(id); o.State() != fsm.ClientPQOSent {
		t.Fatalf("state %s after an unstored OFFER, want PQOSent", o.State())
	}
	// A timer whose step cannot be stored is retried a second later.
	h.clk.Advance(time.Second) // RETRANS_TIMER of the QUOTATION
	eventually(t, "timer store failure counted", func() bool { return h.metrics.Snapshot().StoreFailures == 3 })
	h.store.FailSaves(nil)
	h.clk.Advance(time.Second)
	r := h.srv.Expect(t, wire.MethodQuotation)
	if r.Msg.Seq != q.Msg.Seq {
		t.Errorf("retransmission seq %d, want %d", r.Msg.Seq, q.Msg.Seq)
	}
	h.srv.Send(t, q, offer) // the server's retransmission (§11.4)
	h.waitReason(id, "OfferProcessing")
	if p := h.srv.Expect(t, wire.MethodProcessing); p.Msg.Seq != q.Msg.Seq+1 {
		t.Errorf("PROCESSING seq %d, want %d", p.Msg.Seq, q.Msg.Seq+1)
	}
}

// TestQuotationGivesUp: a QUOTATION that nobody answers is retransmitted
// with the same sequence number, then the negotiation ends (NoResponse);
// retransmitted requests give no round-trip sample (Karn's rule).
// Reference: RFC 8921 §11.1.1, §11.4.
func TestQuotationGivesUp(t *testing.T) {
	h := newHarness(t)
	id, q := h.quote(request())
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		h.clk.Advance(d)
		if r := h.srv.Expect(t, wire.MethodQuotation); r.Msg.Seq != q.Msg.Seq {
			t.Fatalf("retransmission seq %d, want %d", r.Msg.Seq, q.Msg.Seq)
		}
	}
	h.clk.Advance(8 * time.Second)
	h.waitReason(id, "NoResponse")
	s := h.metrics.Snapshot()
	if s.Retransmissions != 3 || s.RoundTrips != 0 {
		t.Errorf("retransmissions %d, round trips %d; want 3, 0", s.Retransmissions, s.RoundTrips)
	}
}

// TestSubscribe delivers the events of one order to its subscribers only,
// and closes every channel when the engine closes.
func TestSubscribe(t *testing.T) {
	h := newHarness(t)
	ch, cancel := h.eng.Subscribe("co-a")
	req := request()
	req.CustomerOrderID = "co-b"
	h.quote(req)
	req.CustomerOrderID = "co-a"
	h.quote(req)
	select {
	case ev := <-ch:
		if ev.CustomerOrderID != "co-a" || ev.Transition.Reason != "QuotationSent" {
			t.Errorf("subscriber of co-a got %+v", ev)
		}
	case <-time.After(clienttest.Wait):
		t.Fatal("no event")
	}
	cancel()
	cancel()
	if _, ok := <-ch; ok {
		t.Errorf("channel open after cancel")
	}
	all, _ := h.eng.Subscribe("")
	h.stop()
	for range all {
		// Drain until the engine closes the channel.
	}
	late, _ := h.eng.Subscribe("")
	if _, ok := <-late; ok {
		t.Errorf("subscription after close is open")
	}
}

// TestEngineLifecycle covers Run, Close and commands around them.
func TestEngineLifecycle(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	eng, err := client.NewEngine(client.Config{Store: client.NewMemoryStore(), Clock: cpnptest.NewFakeClock(t0)})
	if err != nil {
		t.Fatal(err)
	}
	// Commands wait for Run.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := eng.Cancel(ctx, "co-1"); !errors.Is(err, context.Canceled) {
		t.Errorf("command before Run = %v, want context.Canceled", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(runCtx) }()
	if err := eng.Cancel(context.Background(), "co-1"); !errors.Is(err, client.ErrUnknownOrder) {
		t.Errorf("Cancel of an unknown order = %v, want ErrUnknownOrder", err)
	}
	if err := eng.Run(context.Background()); !errors.Is(err, client.ErrAlreadyRunning) {
		t.Errorf("second Run = %v, want ErrAlreadyRunning", err)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run after Close returned %v, want nil", err)
	}
	stop()
	if err := eng.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := eng.Run(context.Background()); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Run after Close = %v, want ErrClosed", err)
	}
	if err := eng.Cancel(context.Background(), "co-1"); !errors.Is(err, client.ErrClosed) {
		t.Errorf("command after Close = %v, want ErrClosed", err)
	}
	if err := eng.AddServer("s", client.ServerConfig{Address: "127.0.0.1:1"}); !errors.Is(err, client.ErrClosed) {
		t.Errorf("AddServer after Close = %v, want ErrClosed", err)
	}

	// An engine whose Run never ran is closed by Close.
	idle, err := client.NewEngine(client.Config{Store: client.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	if err := idle.AddServer("s", client.ServerConfig{Address: "127.0.0.1:9"}); err != nil {
		t.Fatal(err)
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRemoveServer: messages for a removed server are dropped and counted.
func TestRemoveServer(t *testing.T) {
	h := newHarness(t)
	id, _ := h.quote(request())
	if err := h.eng.RemoveServer(serverName); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.Quote(context.Background(), serverName, request()); !errors.Is(err, client.ErrUnknownServer) {
		t.Errorf("Quote to a removed server = %v, want ErrUnknownServer", err)
	}
	if err := h.eng.Cancel(context.Background(), id); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if n := h.metrics.Snapshot().SendFailures; n != 1 {
		t.Errorf("send failures %d, want 1 (the CANCEL)", n)
	}
}

// TestTLSTransport negotiates over TLS instead of DTLS.
// Reference: DESIGN §2 (transport: DTLS 1.2 and TLS).
func TestTLSTransport(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := clienttest.NewPKI(t)
	srv := clienttest.NewTLSServer(t, p.ServerConfig())
	eng, err := client.NewEngine(client.Config{Store: client.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	sc := muxServerConfig(p, srv)
	sc.Transport = client.TransportTLS
	if err := eng.AddServer("tls", sc); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	}()
	events, _ := eng.Subscribe("")
	req := request()
	req.ExpectedResponseTime = nil
	id, err := eng.Quote(ctx, "tls", req)
	if err != nil {
		t.Fatal(err)
	}
	q := srv.Expect(t, wire.MethodQuotation)
	fail := srv.Answer(q.Msg, wire.MethodFail)
	fail.ProviderOrderID = providerID
	fail.StatusCode = wire.StatusAdministrativelyProhibited
	srv.Send(t, q, fail)
	for ev := range events {
		if ev.CustomerOrderID == id && ev.Transition.Reason == "Failed" {
			if ev.Transition.StatusCode != wire.StatusAdministrativelyProhibited {
				t.Errorf("status %d, want 4", ev.Transition.StatusCode)
			}
			return
		}
	}
	t.Fatal("events closed before the FAIL")
}

// TestFlushAndRoundTrips: Flush returns once queued messages are written;
// round trips of requests answered at once reach the hook.
func TestFlushAndRoundTrips(t *testing.T) {
	type sample struct {
		method wire.Method
		rtt    time.Duration
	}
	rtts := make(chan sample, 4)
	h := newHarness(t, func(c *client.Config) {
		c.OnRoundTrip = func(server string, m wire.Method, rtt time.Duration) {
			if server == serverName {
				rtts <- sample{m, rtt}
			}
		}
	})
	ctx := context.Background()
	id, err := h.eng.Quote(ctx, serverName, request())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.eng.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if n := h.metrics.Snapshot().Sent[wire.MethodQuotation]; n != 1 {
		t.Fatalf("after Flush %d QUOTATIONs written, want 1", n)
	}
	q := h.srv.Expect(t, wire.MethodQuotation)
	h.clk.Advance(250 * time.Millisecond)
	h.srv.Send(t, q, h.processing(q.Msg, nil))
	h.waitReason(id, "ServerProcessing")
	select {
	case s := <-rtts:
		if s.method != wire.MethodQuotation || s.rtt != 250*time.Millisecond {
			t.Errorf("round trip %+v, want QUOTATION in 250ms of fake time", s)
		}
	default:
		t.Errorf("no round trip reported")
	}
	h.stop()
	if err := h.eng.Flush(ctx); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Flush after the engine stopped = %v, want ErrClosed", err)
	}
}
