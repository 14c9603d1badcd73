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
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client/clienttest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// t0 is the fake time every engine test starts at.
var t0 = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time   { return t0.Add(d) }
func atp(d time.Duration) *time.Time { t := at(d); return &t }

// Identifiers the scripted server uses.
const (
	providerID = "po-7f3a"
	nonce1     = "6512bd43d9caa6e02c990b0a82652dca"
	nonce2     = "b6d767d2f8ed5d21a44b0e5886680cb9"
	serverName = "srv"
)

// harness is an engine on a fake clock and an in-memory store, with one
// scripted DTLS server added as serverName.
type harness struct {
	t       *testing.T
	pki     *clienttest.PKI
	srv     *clienttest.Server
	clk     *cpnptest.FakeClock
	store   *client.MemoryStore
	metrics *client.Metrics
	eng     *client.Engine
	events  <-chan client.Event
	stop    func()
}

type option func(*client.Config)

// newHarness checks for leaked goroutines, starts the scripted server and
// the engine. Tests that use it must not run in parallel.
func newHarness(t *testing.T, opts ...option) *harness {
	t.Helper()
	cpnptest.CheckGoroutines(t)
	p := clienttest.NewPKI(t)
	h := &harness{
		t:       t,
		pki:     p,
		srv:     clienttest.NewServer(t, p.ServerConfig()),
		clk:     cpnptest.NewFakeClock(t0),
		store:   client.NewMemoryStore(),
		metrics: &client.Metrics{},
	}
	h.start(opts...)
	return h
}

// serverConfig reaches srv with the test client certificate.
func (h *harness) serverConfig(srv *clienttest.Server) client.ServerConfig {
	return client.ServerConfig{
		Address:     srv.Addr(),
		ServerName:  clienttest.ServerName,
		RootCAs:     h.pki.Pool,
		Certificate: h.pki.ClientCertificate(),
	}
}

// start runs a new engine on h.store (restoring what it holds).
func (h *harness) start(opts ...option) {
	h.t.Helper()
	cfg := client.Config{
		Store:   h.store,
		Clock:   h.clk,
		Metrics: h.metrics,
		Logger:  testr.NewWithOptions(h.t, testr.Options{Verbosity: 0}),
	}
	for _, o := range opts {
		o(&cfg)
	}
	eng, err := client.NewEngine(cfg)
	if err != nil {
		h.t.Fatalf("NewEngine: %v", err)
	}
	if err := eng.AddServer(serverName, h.serverConfig(h.srv)); err != nil {
		h.t.Fatalf("AddServer: %v", err)
	}
	events, unsubscribe := eng.Subscribe("")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	h.eng, h.events = eng, events
	h.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Run returned %v, want nil", err)
		}
		unsubscribe()
	})
	h.t.Cleanup(h.stop)
}

// request is a QUOTATION request for the sample CPD, answered within an hour.
func request() client.QuoteRequest {
	return client.QuoteRequest{
		CPD:                  cpd.Sample(),
		ExpectedResponseTime: atp(time.Hour),
		InformationElements: &wire.InformationElements{
			CustomerDescription: &wire.CustomerDescription{Name: "ACME Corp"},
		},
	}
}

// quote sends req and returns the order ID and the QUOTATION the server got.
func (h *harness) quote(req client.QuoteRequest) (string, clienttest.Received) {
	h.t.Helper()
	id, err := h.eng.Quote(context.Background(), serverName, req)
	if err != nil {
		h.t.Fatalf("Quote: %v", err)
	}
	return id, h.srv.Expect(h.t, wire.MethodQuotation)
}

// processing is the server's PROCESSING answering req.
func (h *harness) processing(req wire.Message, eot *time.Time) wire.Message {
	m := h.srv.Answer(req, wire.MethodProcessing)
	m.ProviderOrderID = providerID
	m.ExpectedOfferTime = eot
	return m
}

// offer is the server's OFFER of the concrete sample CPD answering req.
func (h *harness) offer(req wire.Message, nonce string, validUntil time.Time) wire.Message {
	m := h.srv.Answer(req, wire.MethodOffer)
	m.ProviderOrderID = providerID
	m.Nonce = nonce
	m.ValidityOfferTime = &validUntil
	c := cpd.SampleConcrete()
	m.OfferedCPD = &c
	return m
}

// ack is the server's ACK answering req, carrying c (nil: no CPD).
func (h *harness) ack(req wire.Message, c *cpd.CPD) wire.Message {
	m := h.srv.Answer(req, wire.MethodAck)
	m.ProviderOrderID = providerID
	m.CPD = c
	return m
}

// fail is the server's FAIL answering req.
func (h *harness) fail(req wire.Message, code wire.StatusCode) wire.Message {
	m := h.srv.Answer(req, wire.MethodFail)
	m.ProviderOrderID = providerID
	m.StatusCode = code
	return m
}

// waitFor returns the next event of order id that pred accepts, skipping
// the others; it fails the test after clienttest.Wait.
func (h *harness) waitFor(id string, what string, pred func(client.Event) bool) client.Event {
	h.t.Helper()
	deadline := time.After(clienttest.Wait)
	for {
		select {
		case ev, ok := <-h.events:
			if !ok {
				h.t.Fatalf("event channel closed while waiting for %s", what)
			}
			if ev.CustomerOrderID == id && pred(ev) {
				return ev
			}
		case <-deadline:
			o, _ := h.eng.Get(id)
			h.t.Fatalf("no event %s for order %s; it is in state %s", what, id, o.State())
		}
	}
}

// waitReason waits for a transition of order id with the given reason.
func (h *harness) waitReason(id, reason string) client.Event {
	h.t.Helper()
	return h.waitFor(id, "with reason "+reason, func(ev client.Event) bool {
		return ev.Kind == client.EventTransition && ev.Transition.Reason == reason
	})
}

// waitAlarm waits for an alarm of order id.
func (h *harness) waitAlarm(id string) client.Event {
	h.t.Helper()
	return h.waitFor(id, "alarm", func(ev client.Event) bool { return ev.Kind == client.EventAlarm })
}

// agree runs a QUOTATION → OFFER → PROCESSING → ACCEPT → ACK negotiation
// and returns the order ID and the ACCEPT the server got.
func (h *harness) agree(req client.QuoteRequest) (string, clienttest.Received) {
	h.t.Helper()
	id, q := h.quote(req)
	h.srv.Send(h.t, q, h.offer(q.Msg, nonce1, at(time.Hour)))
	h.srv.Expect(h.t, wire.MethodProcessing)
	h.waitReason(id, "OfferProcessing")
	if err := h.eng.Accept(context.Background(), id); err != nil {
		h.t.Fatalf("Accept: %v", err)
	}
	a := h.srv.Expect(h.t, wire.MethodAccept)
	offered := cpd.SampleConcrete()
	h.srv.Send(h.t, a, h.ack(a.Msg, &offered))
	h.waitReason(id, "Agreed")
	return id, a
}

// order returns the engine's copy of order id.
func (h *harness) order(id string) client.Order {
	h.t.Helper()
	o, ok := h.eng.Get(id)
	if !ok {
		h.t.Fatalf("order %s not found", id)
	}
	return o
}

// eventually polls cond until it holds or clienttest.Wait passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(clienttest.Wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling, not an assertion
	}
}

// reasons lists the reasons of the order's history.
func reasons(o client.Order) []string {
	out := make([]string, 0, len(o.History))
	for _, t := range o.History {
		out = append(out, t.Reason)
	}
	return out
}

var _ = fsm.ClientCompleted
