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
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/clock"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// waitTimeout bounds every wait for the network or an engine (real time):
// generous, because the race detector on two shared cores makes DTLS
// handshakes slow, yet bounded so that a hung test fails instead of hanging.
const waitTimeout = 30 * time.Second

// mbps is one megabit per second.
const mbps = 1_000_000

// Identities of the test clients (DESIGN §3: the certificate CN).
const (
	idAcme    = "acme"    // tenant of pool "wan" (Automatic), outgoing limit 500 Mb/s
	idGlobex  = "globex"  // tenant of pool "wan", no limit
	idInitech = "initech" // tenant of pool "manual" (approval Manual)
)

// serverName is the name the client engines add the server under.
const serverName = "cpnp"

func ptr[T any](v T) *T { return &v }

// testPolicy is the DESIGN §6 policy the flows run against: pool "wan"
// (1 Gb/s each way, QoS classes gold and silver, Automatic approval, offers
// valid for validity) for acme (outgoing limit 500 Mb/s) and globex, and
// pool "manual" (Manual approval) for initech.
func testPolicy(validity time.Duration) policy.Config {
	classes := []policy.QoSClass{
		{Name: "gold", OneWayDelayMs: ptr(10.0), DelayVariationMs: ptr(2.0), LossRatio: ptr(0.0001)},
		{Name: "silver", OneWayDelayMs: ptr(40.0), DelayVariationMs: ptr(10.0), LossRatio: ptr(0.001)},
	}
	return policy.Config{
		Pools: []policy.Pool{
			{
				Name:                "wan",
				Capacity:            policy.Capacity{IncomingBps: 1000 * mbps, OutgoingBps: 1000 * mbps},
				QoSClasses:          classes,
				AvailabilityPercent: 99.95,
				Approval:            policy.Approval{Mode: policy.ApprovalAutomatic},
				OfferValidity:       &policy.Duration{Duration: validity},
			},
			{
				Name:          "manual",
				Capacity:      policy.Capacity{IncomingBps: 1000 * mbps, OutgoingBps: 1000 * mbps},
				QoSClasses:    classes,
				Approval:      policy.Approval{Mode: policy.ApprovalManual},
				OfferValidity: &policy.Duration{Duration: validity},
			},
		},
		Tenants: []policy.Tenant{
			{Identity: idAcme, Pools: []string{"wan"}, MaxOutgoingBps: ptr(int64(500 * mbps))},
			{Identity: idGlobex, Pools: []string{"wan"}},
			{Identity: idInitech, Pools: []string{"manual"}},
		},
	}
}

// gold is a request (or an offer) of QoS class gold with fixed capacities
// in Mb/s (RFC 7297 §3.3, §3.5).
func gold(inMbps, outMbps float64) cpd.CPD {
	return cpd.CPD{Components: []cpd.Component{{
		CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-par-1", LinkIdentifier: "pe1:xe-0/0/1"}},
		QoS:           &cpd.QoS{Class: "gold"},
		Capacity:      &cpd.Capacity{IncomingBps: cpd.Fixed(inMbps * mbps), OutgoingBps: cpd.Fixed(outMbps * mbps)},
	}}}
}

// serverOptions configure startServer; the zero value is the real clock,
// testPolicy with offers valid 5 minutes, the default machine, a new store.
type serverOptions struct {
	clock    clock.Clock
	policy   *policy.Config
	machine  fsm.Server
	dupCache session.DupCacheConfig
	// dir is the store directory; default a new temporary directory.
	dir string
	// tune adjusts the listener's transport configuration.
	tune func(*transport.Config)
	// upstreams are the child-order providers (RFC 8921 §8.8).
	upstreams map[string]client.ServerConfig
	// log sends the engine's log to the test log (default discard).
	log bool
	// journalSize is the store's journal size: 0 means
	// store.MinJournalSize, so that each test's store preallocates 1 MiB
	// rather than the product's 64 MiB; the benchmark sets the product's
	// default (store.DefaultJournalSize).
	journalSize int64
}

// testServer is the server engine of package server, serving DTLS on a
// loopback port with a durable store (bbolt) and the default policy.
type testServer struct {
	tb       testing.TB
	srv      *server.Server
	policy   *policy.Pools
	store    *store.Store
	metrics  *transport.Metrics
	registry *prometheus.Registry
	addr     string
	stop     func()
}

func startServer(tb testing.TB, p *cpnptest.PKI, o serverOptions) *testServer {
	tb.Helper()
	if o.dir == "" {
		o.dir = tb.TempDir()
	}
	if o.policy == nil {
		o.policy = ptr(testPolicy(5 * time.Minute))
	}
	if o.journalSize == 0 {
		o.journalSize = store.MinJournalSize
	}
	st, err := store.Open(o.dir, store.Options{JournalSize: o.journalSize})
	if err != nil {
		tb.Fatalf("open the server store: %v", err)
	}
	pol, err := policy.New(*o.policy)
	if err != nil {
		tb.Fatalf("policy: %v", err)
	}
	s := &testServer{tb: tb, policy: pol, store: st, metrics: &transport.Metrics{}, registry: prometheus.NewRegistry()}
	var logger logr.Logger // zero: server.Config's default, discard
	if o.log {
		logger = testr.NewWithInterface(tb, testr.Options{Verbosity: 0})
	}
	srv, err := server.New(server.Config{
		Machine:          o.machine,
		Policy:           pol,
		Store:            st,
		Clock:            o.clock,
		Registerer:       s.registry,
		TransportMetrics: s.metrics,
		DupCache:         o.dupCache,
		Upstreams:        o.upstreams,
		Logger:           logger,
	})
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	cfg := transport.Config{
		Certificates:     []tls.Certificate{p.Server},
		ClientCAs:        p.Pool,
		HandshakeTimeout: waitTimeout,
		Metrics:          s.metrics,
	}
	if o.tune != nil {
		o.tune(&cfg)
	}
	l, err := transport.ListenDTLS("127.0.0.1:0", cfg)
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s.srv, s.addr = srv, l.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	s.stop = sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("server shutdown: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, server.ErrServerClosed) {
			tb.Errorf("Serve: %v", err)
		}
		if err := st.Close(); err != nil {
			tb.Errorf("close the server store: %v", err)
		}
	})
	tb.Cleanup(s.stop)
	return s
}

// order returns the server's order of (identity, customer order ID).
func (s *testServer) order(identity, coid string) (server.OrderSummary, bool) {
	for _, o := range s.srv.List() {
		if o.Identity == identity && o.CustomerOrderID == coid {
			return o, true
		}
	}
	return server.OrderSummary{}, false
}

// waitOrder polls the server until its order (identity, coid) satisfies
// cond; the server's loop runs apart from the client, so what the client
// saw last may not have been handled by the server yet.
func (s *testServer) waitOrder(identity, coid, what string, cond func(server.OrderSummary) bool) server.OrderSummary {
	s.tb.Helper()
	var last server.OrderSummary
	eventually(s.tb, "server order "+coid+" "+what, func() bool {
		o, ok := s.order(identity, coid)
		last = o
		return ok && cond(o)
	}, func() string { return fmt.Sprintf("last seen: %+v", last) })
	return last
}

// waitState waits until the server's order (identity, coid) is in state.
func (s *testServer) waitState(identity, coid string, state fsm.ServerState) server.OrderSummary {
	s.tb.Helper()
	return s.waitOrder(identity, coid, "in state "+string(state), func(o server.OrderSummary) bool {
		return o.State == string(state)
	})
}

// counter reads a counter of the server's Prometheus registry by name and
// one label pair ("" matches a counter without labels).
func (s *testServer) counter(name, label, value string) float64 {
	s.tb.Helper()
	families, err := s.registry.Gather()
	if err != nil {
		s.tb.Fatalf("gather metrics: %v", err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := label == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					match = true
				}
			}
			if match && m.GetCounter() != nil {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// sent is the number of messages of method the server handed to an
// association.
func (s *testServer) sent(m wire.Method) float64 {
	return s.counter("cpnp_server_messages_sent_total", "method", m.String())
}

// holding is the comparable part of a policy holding.
type holding struct {
	ProviderOrderID string
	Identity        string
	Pool            string
	In, Out         int64
	State           policy.HoldingState
}

func (s *testServer) holdings() []holding {
	var out []holding
	for _, h := range s.policy.Holdings() {
		out = append(out, holding{h.ProviderOrderID, h.Identity, h.Pool, h.IncomingBps, h.OutgoingBps, h.State})
	}
	return out
}

// clientOptions configure startClient; the zero value is the real clock,
// the default machine and an in-memory store.
type clientOptions struct {
	clock   clock.Clock
	machine fsm.Client
	store   client.Store
	// cert is the client certificate; nil: none (a refused client).
	cert *tls.Certificate
	// roots verify the server; nil: the PKI's pool.
	roots *x509.CertPool
	// serverName is verified in the server certificate; "": the PKI's.
	serverName string
	// options tune the client transport.
	options transport.Config
	// minBackoff and maxBackoff bound re-dials (defaults of MuxConfig).
	minBackoff, maxBackoff time.Duration
	// quiet discards the engine's log instead of sending it to the test log.
	quiet bool
	// noEvents skips the subscription to every order's events (waitFor),
	// for users that subscribe per order.
	noEvents bool
	// eventBuffer is Config.EventBuffer (0: the default, 64).
	eventBuffer int
}

// testClient is a client engine (package client) with one server added as
// serverName and a subscription to the events of every order.
type testClient struct {
	tb      testing.TB
	eng     *client.Engine
	metrics *client.Metrics
	events  <-chan client.Event
	stop    func()
}

// certOf returns the PKI's client certificate of identity.
func certOf(p *cpnptest.PKI, identity string) *tls.Certificate {
	c := p.Client(identity)
	return &c
}

// startClient starts a client engine for the server at addr; p provides the
// defaults of o.roots and o.serverName (it may be nil when both are set).
func startClient(tb testing.TB, p *cpnptest.PKI, addr string, o clientOptions) *testClient {
	tb.Helper()
	if o.store == nil {
		o.store = client.NewMemoryStore()
	}
	if o.roots == nil {
		o.roots = p.Pool
	}
	if o.serverName == "" {
		o.serverName = p.ServerName
	}
	if o.options.HandshakeTimeout == 0 {
		o.options.HandshakeTimeout = waitTimeout
	}
	c := &testClient{tb: tb, metrics: &client.Metrics{}}
	cfg := client.Config{
		Machine: o.machine,
		Store:   o.store,
		Clock:   o.clock,
		Metrics: c.metrics,
		Mux:     client.MuxConfig{MinBackoff: o.minBackoff, MaxBackoff: o.maxBackoff},
		// A subscription's channel holds EventBuffer Events (each
		// about 0.5 KB): per-order subscribers need few.
		EventBuffer: o.eventBuffer,
	}
	if !o.quiet {
		cfg.Logger = testr.NewWithInterface(tb, testr.Options{Verbosity: 0})
	}
	eng, err := client.NewEngine(cfg)
	if err != nil {
		tb.Fatalf("client.NewEngine: %v", err)
	}
	if err := eng.AddServer(serverName, client.ServerConfig{
		Address:     addr,
		ServerName:  o.serverName,
		RootCAs:     o.roots,
		Certificate: o.cert,
		Options:     o.options,
	}); err != nil {
		tb.Fatalf("AddServer: %v", err)
	}
	events, unsubscribe := (<-chan client.Event)(nil), func() {}
	if !o.noEvents {
		events, unsubscribe = eng.Subscribe("")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	c.eng, c.events = eng, events
	c.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("engine Run: %v", err)
		}
		unsubscribe()
		if err := eng.Close(); err != nil {
			tb.Errorf("engine Close: %v", err)
		}
	})
	tb.Cleanup(c.stop)
	return c
}

// connect waits until the association with the server is up.
func (c *testClient) connect() {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.eng.Connect(ctx, serverName); err != nil {
		c.tb.Fatalf("connect: %v", err)
	}
}

// quote sends a QUOTATION for c, answered within an hour of now.
func (c *testClient) quote(id string, req cpd.CPD, now time.Time, ie *wire.InformationElements) string {
	c.tb.Helper()
	id, err := c.eng.Quote(context.Background(), serverName, client.QuoteRequest{
		CustomerOrderID:      id,
		CPD:                  req,
		ExpectedResponseTime: ptr(now.Add(time.Hour)),
		InformationElements:  ie,
	})
	if err != nil {
		c.tb.Fatalf("Quote: %v", err)
	}
	return id
}

// waitFor returns the next event of order id that pred accepts, skipping
// the others (events of other orders too).
func (c *testClient) waitFor(id, what string, pred func(client.Event) bool) client.Event {
	c.tb.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.tb.Fatalf("event channel closed while waiting for %s", what)
			}
			if ev.CustomerOrderID == id && pred(ev) {
				return ev
			}
		case <-deadline.C:
			o, _ := c.eng.Get(id)
			c.tb.Fatalf("order %s: no event %s within %v; it is %s (failure %+v)", id, what, waitTimeout, o.State(), o.FSM.Failure)
		}
	}
}

// waitReason waits for a transition of order id with the given reason.
func (c *testClient) waitReason(id, reason string) client.Event {
	c.tb.Helper()
	return c.waitFor(id, "with reason "+reason, func(ev client.Event) bool {
		return ev.Kind == client.EventTransition && ev.Transition.Reason == reason
	})
}

// order returns the engine's copy of order id.
func (c *testClient) order(id string) client.Order {
	c.tb.Helper()
	o, ok := c.eng.Get(id)
	if !ok {
		c.tb.Fatalf("client order %s not found", id)
	}
	return o
}

// agree runs Figure 6 for order id: QUOTATION, then ACCEPT of the offer.
func (c *testClient) agree(id string, req cpd.CPD, now time.Time, ie *wire.InformationElements) client.Order {
	c.tb.Helper()
	c.quote(id, req, now, ie)
	c.waitReason(id, "OfferProcessing")
	if err := c.eng.Accept(context.Background(), id); err != nil {
		c.tb.Fatalf("Accept %s: %v", id, err)
	}
	c.waitReason(id, "Agreed")
	return c.order(id)
}

// reasons lists the reasons of the order's history.
func reasons(o client.Order) []string {
	out := make([]string, 0, len(o.History))
	for _, tr := range o.History {
		out = append(out, tr.Reason)
	}
	return out
}

// eventually polls cond until it holds or waitTimeout passes; the poll
// interval is not an assertion. detail, when not nil, explains a failure.
func eventually(tb testing.TB, what string, cond func() bool, detail func() string) {
	tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			if detail != nil {
				msg = ": " + detail()
			}
			tb.Fatalf("timed out after %v waiting until %s%s", waitTimeout, what, msg)
		}
		time.Sleep(5 * time.Millisecond) // polling, not an assertion
	}
}

// newHex is 128 random bits in hex: a transaction ID or a nonce (§8.4).
func newHex() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// rawConn is a scripted CPNP peer on its own DTLS association, for
// messages the client engine would never send (another identity's).
type rawConn struct {
	tb   testing.TB
	conn transport.Conn
}

func dialRaw(tb testing.TB, p *cpnptest.PKI, addr, identity string) *rawConn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := transport.DialDTLS(ctx, addr, transport.Config{
		Certificates:     []tls.Certificate{p.Client(identity)},
		RootCAs:          p.Pool,
		ServerName:       p.ServerName,
		HandshakeTimeout: waitTimeout,
	})
	if err != nil {
		tb.Fatalf("dial %s as %s: %v", addr, identity, err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return &rawConn{tb: tb, conn: c}
}

// roundTrip sends m and returns the answer.
func (r *rawConn) roundTrip(m wire.Message) wire.Message {
	r.tb.Helper()
	b, err := wire.Encode(m)
	if err != nil {
		r.tb.Fatalf("encode %s: %v", m.Method, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := r.conn.WriteMessage(ctx, b); err != nil {
		r.tb.Fatalf("write %s: %v", m.Method, err)
	}
	data, err := r.conn.ReadMessage(ctx)
	if err != nil {
		r.tb.Fatalf("read the answer to %s: %v", m.Method, err)
	}
	ans, err := wire.Decode(data)
	if err != nil {
		r.tb.Fatalf("decode the answer to %s: %v", m.Method, err)
	}
	return ans
}
