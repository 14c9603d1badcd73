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
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// t0 is the fake clock's start: every protocol time in the tests is
// relative to it (the DTLS certificates use the real time).
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	mbps = 1_000_000
	// waitTimeout bounds every wait for the network (real time).
	waitTimeout = 10 * time.Second
)

// Identities of the test clients (DESIGN §3: the certificate CN).
const (
	idAcme    = "acme"    // tenant of pool "wan" (Automatic), outgoing limit 500 Mb/s
	idGlobex  = "globex"  // tenant of pool "wan", no limit
	idInitech = "initech" // tenant of pool "manual" (approval Manual)
	idNobody  = "nobody"  // no tenant entry
)

// testPKI is a CA with a server certificate for 127.0.0.1 and one client
// certificate per identity.
type testPKI struct {
	ca      *pki.CA
	server  *pki.Bundle
	clients map[string]*pki.Bundle
}

var (
	pkiOnce sync.Once
	thePKI  *testPKI
	pkiErr  error
)

func getPKI(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() {
		now := time.Now()
		ca, err := pki.NewCA("cpnp server test CA", 48*time.Hour, now)
		if err != nil {
			pkiErr = err
			return
		}
		srv, err := ca.IssueServer("cpnp-server", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, 24*time.Hour, now)
		if err != nil {
			pkiErr = err
			return
		}
		p := &testPKI{ca: ca, server: srv, clients: map[string]*pki.Bundle{}}
		for _, id := range []string{idAcme, idGlobex, idInitech, idNobody} {
			b, err := ca.IssueClient(id, "", 24*time.Hour, now)
			if err != nil {
				pkiErr = err
				return
			}
			p.clients[id] = b
		}
		thePKI = p
	})
	if pkiErr != nil {
		t.Fatalf("test PKI: %v", pkiErr)
	}
	return thePKI
}

func (p *testPKI) serverTransport() transport.Config {
	return transport.Config{
		Certificates:     []tls.Certificate{p.server.TLS},
		ClientCAs:        p.ca.Pool(),
		HandshakeTimeout: waitTimeout,
	}
}

func (p *testPKI) clientTransport(identity string) transport.Config {
	return transport.Config{
		Certificates:     []tls.Certificate{p.clients[identity].TLS},
		RootCAs:          p.ca.Pool(),
		ServerName:       "localhost",
		HandshakeTimeout: waitTimeout,
	}
}

func ptrI64(n int64) *int64 { return &n }

func ptrF64(f float64) *float64 { return &f }

// testPolicy: pool "wan" (1 Gb/s each way, Automatic, offers valid 5 min)
// for acme (outgoing limit 500 Mb/s) and globex; pool "manual" (approval
// Manual) for initech.
func testPolicy() policy.Config {
	gold := policy.QoSClass{Name: "gold", OneWayDelayMs: ptrF64(10), DelayVariationMs: ptrF64(2), LossRatio: ptrF64(0.0001)}
	return policy.Config{
		Pools: []policy.Pool{
			{
				Name:          "wan",
				Capacity:      policy.Capacity{IncomingBps: 1000 * mbps, OutgoingBps: 1000 * mbps},
				QoSClasses:    []policy.QoSClass{gold},
				Approval:      policy.Approval{Mode: policy.ApprovalAutomatic},
				OfferValidity: &policy.Duration{Duration: 5 * time.Minute},
			},
			{
				Name:       "manual",
				Capacity:   policy.Capacity{IncomingBps: 1000 * mbps, OutgoingBps: 1000 * mbps},
				QoSClasses: []policy.QoSClass{gold},
				Approval:   policy.Approval{Mode: policy.ApprovalManual},
			},
		},
		Tenants: []policy.Tenant{
			{Identity: idAcme, Pools: []string{"wan"}, MaxOutgoingBps: ptrI64(500 * mbps)},
			{Identity: idGlobex, Pools: []string{"wan"}},
			{Identity: idInitech, Pools: []string{"manual"}},
		},
	}
}

// logSink collects the JSON log lines of the engine.
type logSink struct {
	mu    sync.Mutex
	lines []map[string]any
	raw   []string
}

func (l *logSink) add(obj string) {
	var m map[string]any
	_ = json.Unmarshal([]byte(obj), &m)
	l.mu.Lock()
	l.lines = append(l.lines, m)
	l.raw = append(l.raw, obj)
	l.mu.Unlock()
}

// find returns the lines whose msg is msg and whose keys have the given values.
func (l *logSink) find(msg string, kv map[string]any) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, m := range l.lines {
		if m["msg"] != msg {
			continue
		}
		ok := true
		for k, v := range kv {
			if m[k] != v {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

func (l *logSink) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.raw, "\n")
}

// env is a running engine over real DTLS on 127.0.0.1 with a durable store
// in a temporary directory, a fake clock and the test policy.
type env struct {
	t      *testing.T
	pki    *testPKI
	dir    string
	clk    *cpnptest.FakeClock
	logs   *logSink
	tune   func(*server.Config)
	polCfg policy.Config

	st    *store.Store
	pol   *policy.Pools
	reg   *prometheus.Registry
	tm    *transport.Metrics
	srv   *server.Server
	addr  string
	serve chan error
}

type envOption func(*env)

// withConfig changes the engine configuration before New.
func withConfig(f func(*server.Config)) envOption { return func(e *env) { e.tune = f } }

// withPolicy replaces the test policy.
func withPolicy(c policy.Config) envOption { return func(e *env) { e.polCfg = c } }

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	e := &env{
		t:      t,
		pki:    getPKI(t),
		dir:    t.TempDir(),
		clk:    cpnptest.NewFakeClock(t0),
		logs:   &logSink{},
		polCfg: testPolicy(),
	}
	for _, o := range opts {
		o(e)
	}
	e.start()
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			t.Logf("engine logs:\n%s", e.logs.all())
		}
	})
	return e
}

// start opens the store, creates the policy and the engine and serves a
// new DTLS listener.
func (e *env) start() {
	t := e.t
	t.Helper()
	st, err := store.Open(e.dir, store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	pol, err := policy.New(e.polCfg)
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	e.st, e.pol = st, pol
	e.reg = prometheus.NewRegistry()
	e.tm = &transport.Metrics{}
	cfg := server.Config{
		Policy:           pol,
		Store:            st,
		Clock:            e.clk,
		Logger:           funcr.NewJSON(e.logs.add, funcr.Options{Verbosity: 4}),
		Registerer:       e.reg,
		TransportMetrics: e.tm,
	}
	if e.tune != nil {
		e.tune(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		_ = st.Close()
		t.Fatalf("server.New: %v", err)
	}
	tc := e.pki.serverTransport()
	tc.Metrics = e.tm
	l, err := transport.ListenDTLS("127.0.0.1:0", tc)
	if err != nil {
		_ = srv.Close()
		_ = st.Close()
		t.Fatalf("listen: %v", err)
	}
	e.srv = srv
	e.addr = l.Addr().String()
	e.serve = make(chan error, 1)
	go func() { e.serve <- srv.Serve(context.Background(), l) }()
}

// stop shuts the engine down gracefully and closes the store.
func (e *env) stop() {
	if e.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		e.t.Errorf("Shutdown: %v", err)
	}
	if err := <-e.serve; !errors.Is(err, server.ErrServerClosed) {
		e.t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	if err := e.st.Close(); err != nil {
		e.t.Errorf("close store: %v", err)
	}
	e.srv = nil
}

// restart stops the engine and starts a new one on the same store
// directory (RFC 8921 §8.11: state survives a restart).
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

// metric returns the value of the counter or gauge name with the labels.
func (e *env) metric(name string, labels map[string]string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatalf("gather metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			return metricNumber(m)
		}
	}
	return 0
}

func metricNumber(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

// waitFor polls cond until it holds or waitTimeout passes (polling with a
// deadline, not a sleep-based assertion).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

// waitMetric waits until metric name with labels reaches want.
func (e *env) waitMetric(name string, labels map[string]string, want float64) {
	e.t.Helper()
	waitFor(e.t, name+" = "+strconv.FormatFloat(want, 'f', -1, 64), func() bool { return e.metric(name, labels) >= want })
	if got := e.metric(name, labels); got != want {
		e.t.Fatalf("%s%v: got %v, want %v", name, labels, got, want)
	}
}

// order returns the admin view of an order, failing the test if absent.
func (e *env) order(poid string) server.OrderDetail {
	e.t.Helper()
	d, ok := e.srv.Get(poid)
	if !ok {
		e.t.Fatalf("order %s not found", poid)
	}
	return d
}

// waitState waits until the order poid is in state.
func (e *env) waitState(poid string, state fsm.ServerState) server.OrderDetail {
	e.t.Helper()
	var d server.OrderDetail
	waitFor(e.t, "order "+poid+" in state "+string(state), func() bool {
		var ok bool
		d, ok = e.srv.Get(poid)
		return ok && d.State == string(state)
	})
	return d
}

// holdings returns the policy's holdings of poid.
func (e *env) holdings(poid string) []policy.Holding {
	var out []policy.Holding
	for _, h := range e.pol.Holdings() {
		if h.ProviderOrderID == poid {
			out = append(out, h)
		}
	}
	return out
}

// client is a scripted CPNP client over one DTLS association.
type client struct {
	t        *testing.T
	e        *env
	identity string
	conn     transport.Conn
}

// dial opens a new association to the engine as identity.
func (e *env) dial(identity string) *client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := transport.DialDTLS(ctx, e.addr, e.pki.clientTransport(identity))
	if err != nil {
		e.t.Fatalf("dial as %s: %v", identity, err)
	}
	e.t.Cleanup(func() { _ = c.Close() })
	return &client{t: e.t, e: e, identity: identity, conn: c}
}

func (c *client) send(m wire.Message) {
	c.t.Helper()
	b, err := wire.Encode(m)
	if err != nil {
		c.t.Fatalf("encode %s: %v", m.Method, err)
	}
	c.sendRaw(b)
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.conn.WriteMessage(ctx, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv returns the next message from the server.
func (c *client) recv() wire.Message {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	b, err := c.conn.ReadMessage(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	m, err := wire.Decode(b)
	if err != nil {
		c.t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// expect returns the next message, which must have the given method.
func (c *client) expect(method wire.Method) wire.Message {
	c.t.Helper()
	m := c.recv()
	if m.Method != method {
		c.t.Fatalf("got %s (%v), want %s", m.Method, m, method)
	}
	return m
}

// expectFail returns the next message, which must be a FAIL with code.
func (c *client) expectFail(code wire.StatusCode) wire.Message {
	c.t.Helper()
	m := c.expect(wire.MethodFail)
	if m.StatusCode != code {
		c.t.Fatalf("got FAIL %d, want FAIL %d (%v)", m.StatusCode, code, m)
	}
	return m
}

// probe proves that nothing was queued for this client before it: it sends
// a request for an unknown order and expects the FAIL 1 that answers it as
// the very next message.
func (c *client) probe() {
	c.t.Helper()
	m := wire.Message{
		Version: wire.Version, Method: wire.MethodDecline, Seq: 1, TransactionID: newHex(),
		CustomerOrderID: "probe", ProviderOrderID: "po-probe", Nonce: newHex(),
	}
	c.send(m)
	f := c.expectFail(wire.StatusMessageValidationError)
	if f.TransactionID != m.TransactionID {
		c.t.Fatalf("got FAIL for transaction %s, want the probe's %s", f.TransactionID, m.TransactionID)
	}
}

func newHex() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// reqCPD asks for one component of QoS class gold with the given fixed
// capacities in Mb/s.
func reqCPD(inMbps, outMbps float64) cpd.CPD {
	return cpd.CPD{Components: []cpd.Component{{
		CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-par-1"}},
		QoS:           &cpd.QoS{Class: "gold"},
		Capacity:      &cpd.Capacity{IncomingBps: cpd.Fixed(inMbps * mbps), OutgoingBps: cpd.Fixed(outMbps * mbps)},
	}}}
}

func tp(t time.Time) *time.Time { return &t }

// negotiation is one order as the scripted client sees it.
type negotiation struct {
	c          *client
	coid, txn  string
	seq        uint32
	poid       string
	offer      wire.Message
	agreedCPD  cpd.CPD
	agreeNonce string
}

// newOrder returns a negotiation with a fresh customer order and
// transaction ID.
func (c *client) newOrder() *negotiation {
	return &negotiation{c: c, coid: "co-" + newHex()[:12], txn: newHex(), seq: 100}
}

func (n *negotiation) next() uint32 { n.seq++; return n.seq }

// quotation builds the QUOTATION of the negotiation (§9.2.1).
func (n *negotiation) quotation(c cpd.CPD, opts *wire.NegotiationOptions) wire.Message {
	m := wire.Message{
		Version: wire.Version, Method: wire.MethodQuotation, Seq: n.next(), TransactionID: n.txn,
		CustomerOrderID: n.coid, ExpectedResponseTime: tp(t0.Add(time.Hour)), RequestedCPD: &c,
	}
	if opts != nil {
		m.InformationElements = &wire.InformationElements{NegotiationOptions: opts}
	}
	return m
}

// quote sends the QUOTATION and expects PROCESSING (Fig. 6); it records
// the provider order identifier.
func (n *negotiation) quote(c cpd.CPD, opts *wire.NegotiationOptions) wire.Message {
	n.c.t.Helper()
	n.c.send(n.quotation(c, opts))
	p := n.c.expect(wire.MethodProcessing)
	if p.TransactionID != n.txn || p.CustomerOrderID != n.coid || p.ProviderOrderID == "" {
		n.c.t.Fatalf("PROCESSING %v does not answer transaction %s of %s", p, n.txn, n.coid)
	}
	n.poid = p.ProviderOrderID
	return p
}

// expectOffer expects the OFFER and records it.
func (n *negotiation) expectOffer() wire.Message {
	n.c.t.Helper()
	o := n.c.expect(wire.MethodOffer)
	if o.ProviderOrderID != n.poid || o.TransactionID != n.txn {
		n.c.t.Fatalf("OFFER %v is not for %s/%s", o, n.poid, n.txn)
	}
	n.offer = o
	return o
}

// reply builds a message of the negotiation's current transaction.
func (n *negotiation) reply(method wire.Method) wire.Message {
	return wire.Message{
		Version: wire.Version, Method: method, Seq: n.next(), TransactionID: n.txn,
		CustomerOrderID: n.coid, ProviderOrderID: n.poid,
	}
}

// processing tells the server the client is processing the offer (Fig. 6).
func (n *negotiation) processing() { n.c.send(n.reply(wire.MethodProcessing)) }

// accept builds the ACCEPT of the offer (§9.2.4).
func (n *negotiation) accept() wire.Message {
	m := n.reply(wire.MethodAccept)
	m.Nonce = n.offer.Nonce
	m.AcceptedCPD = n.offer.OfferedCPD
	return m
}

// agree sends ACCEPT and expects the ACK with the offered CPD (§9.2.6).
func (n *negotiation) agree() wire.Message {
	n.c.t.Helper()
	n.c.send(n.accept())
	ack := n.c.expect(wire.MethodAck)
	if ack.CPD == nil || !cpd.Equal(*ack.CPD, *n.offer.OfferedCPD) {
		n.c.t.Fatalf("ACK carries %v, want the offered CPD", ack.CPD)
	}
	n.agreedCPD = *n.offer.OfferedCPD
	n.agreeNonce = n.offer.Nonce
	return ack
}

// negotiate runs Figure 6 to the end and returns the ACK.
func (n *negotiation) negotiate(c cpd.CPD, opts *wire.NegotiationOptions) wire.Message {
	n.c.t.Helper()
	n.quote(c, opts)
	n.expectOffer()
	n.processing()
	return n.agree()
}

// newTxn starts a new transaction (UPDATE, ACTIVATE, WITHDRAW, §8.4).
func (n *negotiation) newTxn() {
	n.txn = newHex()
	n.seq = 500
}

// checkGoroutines fails the test if goroutines started during it are still
// running once its cleanups ran. Tests that use it must not run in parallel.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := goroutineIDs()
	t.Cleanup(func() {
		deadline := time.Now().Add(waitTimeout)
		for {
			leaked := newGoroutines(before)
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("leaked %d goroutines:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(20 * time.Millisecond) // polling, not an assertion
		}
	})
}

func goroutineIDs() map[string]bool {
	ids := map[string]bool{}
	for _, g := range goroutineStacks() {
		ids[goroutineID(g)] = true
	}
	return ids
}

func newGoroutines(before map[string]bool) []string {
	var out []string
	for _, g := range goroutineStacks() {
		if before[goroutineID(g)] || strings.Contains(g, "testing.(*T).Run(") ||
			strings.Contains(g, "testing.(*T).Parallel(") || strings.Contains(g, "testing.tRunner.func1") ||
			strings.Contains(g, "server_test.goroutineStacks(") {
			continue
		}
		out = append(out, g)
	}
	return out
}

func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func goroutineID(stack string) string {
	if f := strings.Fields(stack); len(f) >= 2 {
		return f[1]
	}
	return ""
}

func ptrCPD(c cpd.CPD) *cpd.CPD { return &c }
