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

package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// memConn is an association that accepts every write and never reads.
type memConn struct {
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	sent int
}

func newMemConn() *memConn { return &memConn{done: make(chan struct{})} }

func (c *memConn) ReadMessage(ctx context.Context) ([]byte, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, net.ErrClosed
	}
}

func (c *memConn) WriteMessage(context.Context, []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent++
	return nil
}

func (c *memConn) Identity() string                                     { return "server" }
func (c *memConn) RemoteAddr() net.Addr                                 { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8921} }
func (c *memConn) LocalAddr() net.Addr                                  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *memConn) Done() <-chan struct{}                                { return c.done }
func (c *memConn) Close() error                                         { c.once.Do(func() { close(c.done) }); return nil }
func (c *memConn) writes() int                                          { c.mu.Lock(); defer c.mu.Unlock(); return c.sent }
func (c *memConn) dial(context.Context, string) (transport.Conn, error) { return c, nil }

// counterValue reads a counter (the replacement of testutil.ToFloat64,
// whose module is not a dependency).
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// gauges gathers the collector through a pedantic registry and returns
// every gauge and counter as "name{label values}" -> value.
func gauges(c prometheus.Collector) (map[string]float64, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetValue())
			}
			v := m.GetGauge().GetValue()
			if m.GetCounter() != nil {
				v = m.GetCounter().GetValue()
			}
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out, nil
}

// histogram returns the sample count and sum of roundTrip{provider}.
func histogram(t *testing.T, provider string) (uint64, float64) {
	t.Helper()
	var m dto.Metric
	if err := roundTrip.WithLabelValues(provider).(prometheus.Histogram).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
}

// TestEngineRetransmissionsAndRoundTrip checks the engine's bookkeeping of
// sends: a message sent again with the same TRANSACTION_ID, SEQUENCE_NUMBER
// and method is a retransmission (RFC 8921 §11.3, §11.4), an answer (ACK)
// is not a request, and the first message of the transaction from the
// server ends the request's round trip, measured from its first send
// (§8.4). Sends of a negotiation nobody watches are not remembered, and
// Forget drops what was.
// Reference: RFC 8921 §8.4, §11.3, §11.4.
func TestEngineRetransmissionsAndRoundTrip(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	clk := cpnptest.NewFakeClock(t0)
	e := startEngine(t, EngineConfig{Mux: client.MuxConfig{Clock: clk}, SendTimeout: 10 * time.Second})
	// A server name unique to this test: the metrics are process-wide.
	server := "Provider/metrics-unit/wan"
	conn := newMemConn()
	if err := e.EnsureServer(server, client.ServerConfig{Address: "127.0.0.1:8921", Dial: conn.dial}, "fp"); err != nil {
		t.Fatal(err)
	}
	quote := wire.Example(wire.MethodQuotation)
	ack := wire.Example(wire.MethodAck)
	ack.CustomerOrderID, ack.TransactionID = quote.CustomerOrderID, quote.TransactionID
	other := wire.Example(wire.MethodQuotation)
	other.CustomerOrderID = "co-unwatched"
	co := quote.CustomerOrderID
	order := types.NamespacedName{Namespace: "metrics-unit", Name: "qo"}
	e.Watch(server, co, order)
	retrans := func(m wire.Method) float64 {
		return counterValue(t, retransmissions.WithLabelValues(server, m.String()))
	}

	send := func(m wire.Message) {
		t.Helper()
		if err := e.Send(context.Background(), server, fsm.Send{Msg: m}); err != nil {
			t.Fatalf("Send %s: %v", m.Method, err)
		}
	}
	quoteBefore, ackBefore := retrans(wire.MethodQuotation), retrans(wire.MethodAck)
	send(quote)
	if got := retrans(wire.MethodQuotation) - quoteBefore; got != 0 {
		t.Errorf("after the first send: got %v retransmissions, want 0", got)
	}
	clk.Advance(time.Second)
	send(quote) // RETRANS_TIMER fired (§11.4): the same message again
	send(ack)
	send(ack) // the ACK re-sent for a repeated message (§11.4)
	send(other)
	send(other) // not watched: not remembered, not counted
	if got, want := conn.writes(), 6; got != want {
		t.Errorf("writes: got %d, want %d", got, want)
	}
	if got := retrans(wire.MethodQuotation) - quoteBefore; got != 1 {
		t.Errorf("QUOTATION retransmissions: got %v, want 1", got)
	}
	if got := retrans(wire.MethodAck) - ackBefore; got != 1 {
		t.Errorf("ACK retransmissions: got %v, want 1", got)
	}

	// The first message of the transaction ends the round trip, timed from
	// the QUOTATION's first send (t0), not from its retransmission.
	n0, sum0 := histogram(t, server)
	k := routeKey{server, co}
	o := owner{ownerOrder, order}
	e.record(k, o, Inbound{Msg: wire.Message{Method: wire.MethodProcessing, TransactionID: strings.Repeat("f", len(quote.TransactionID))}, ReceivedAt: t0.Add(2 * time.Second)})
	if n, _ := histogram(t, server); n != n0 {
		t.Errorf("a message of another transaction: got %d round trips, want %d", n, n0)
	}
	e.record(k, o, Inbound{Msg: wire.Message{Method: wire.MethodProcessing, TransactionID: quote.TransactionID}, ReceivedAt: t0.Add(3 * time.Second)})
	e.record(k, o, Inbound{Msg: wire.Message{Method: wire.MethodOffer, TransactionID: quote.TransactionID}, ReceivedAt: t0.Add(9 * time.Second)})
	n, sum := histogram(t, server)
	if n != n0+1 {
		t.Errorf("round trips: got %d, want %d (only the first answer counts)", n, n0+1)
	}
	if n == n0+1 && sum-sum0 != 3 {
		t.Errorf("round trip: got %vs, want 3s", sum-sum0)
	}

	e.Forget(server, co)
	e.mu.Lock()
	left := len(e.sends)
	e.mu.Unlock()
	if left != 0 {
		t.Errorf("after Forget: got %d send logs, want 0", left)
	}
}

// TestEngineSendLogBounded checks that the sends remembered per negotiation
// are bounded (sentRecordLimit): the oldest is forgotten, so sending it
// again counts as a first send.
// Reference: RFC 8921 §11.4.
func TestEngineSendLogBounded(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.mux.Close() })
	k := routeKey{"s", "co"}
	e.owners[k] = owner{ownerOrder, types.NamespacedName{Name: "qo"}}
	for i := range sentRecordLimit + 1 {
		if again, noted := e.noteSend(k, sendKey{"t", uint32(i), wire.MethodAck}); again || !noted {
			t.Fatalf("send %d: got again=%v noted=%v, want a first send", i, again, noted)
		}
	}
	if got := len(e.sends[k].sent); got != sentRecordLimit {
		t.Errorf("remembered: got %d, want %d", got, sentRecordLimit)
	}
	if again, _ := e.noteSend(k, sendKey{"t", 0, wire.MethodAck}); again {
		t.Error("the oldest send: got a retransmission, want it forgotten")
	}
	if again, _ := e.noteSend(k, sendKey{"t", sentRecordLimit, wire.MethodAck}); !again {
		t.Error("the newest send: got a first send, want a retransmission")
	}
	e.unnoteSend(k, sendKey{"t", sentRecordLimit, wire.MethodAck})
	if again, _ := e.noteSend(k, sendKey{"t", sentRecordLimit, wire.MethodAck}); again {
		t.Error("after unnoteSend: got a retransmission, want a first send")
	}
}

// TestHandshakeFailureHook checks that the engine counts the failed
// handshakes the Mux reports by provider and reason, keeps calling a hook
// set by the caller, and ignores errors that are not handshake failures.
// Reference: RFC 8921 §8.1, §13 (mutually authenticated DTLS).
func TestHandshakeFailureHook(t *testing.T) {
	t.Parallel()
	var called []string
	e, err := NewEngine(EngineConfig{Mux: client.MuxConfig{OnHandshakeFailure: func(server string, err error) {
		called = append(called, server)
	}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.mux.Close() })
	const label = "ClusterProvider/hook-unit"
	count := func(reason string) float64 {
		return counterValue(t, handshakeFailures.WithLabelValues(label, reason))
	}
	before := count("unknown_authority")
	e.cfg.Mux.OnHandshakeFailure(label+"@team-a", fmt.Errorf("dial: %w", &transport.HandshakeError{Reason: transport.ReasonUnknownAuthority, Transport: "dtls"}))
	e.cfg.Mux.OnHandshakeFailure(label+"@team-b", errors.New("connection refused"))
	if got := count("unknown_authority") - before; got != 1 {
		t.Errorf("handshake failures{%s, unknown_authority}: got %v, want 1", label, got)
	}
	if diff := cmp.Diff([]string{label + "@team-a", label + "@team-b"}, called); diff != "" {
		t.Errorf("caller's hook (-want +got):\n%s", diff)
	}
}

// TestProviderLabel checks the provider label of engine server names: a
// ClusterProvider's per-namespace identity does not multiply the series.
// Reference: DESIGN §4 (one association per client identity and server).
func TestProviderLabel(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Provider/ns/wan":           "Provider/ns/wan",
		"ClusterProvider/transit@a": "ClusterProvider/transit",
		"ClusterProvider/transit":   "ClusterProvider/transit",
	} {
		if got := providerLabel(in); got != want {
			t.Errorf("providerLabel(%q): got %q, want %q", in, got, want)
		}
	}
}

// TestStateCollector checks the state gauges computed at scrape time:
// every Figure 8 state is reported (0 when empty), objects not reconciled
// yet count under state "", and a failed list fails the scrape.
// Reference: RFC 8921 §8.11.1 (Figure 8).
func TestStateCollector(t *testing.T) {
	t.Parallel()
	scheme := runtime.NewScheme()
	if err := errors.Join(corev1.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		t.Fatal(err)
	}
	qo := func(name string, st v1alpha1.ClientState) *v1alpha1.QuotationOrder {
		return &v1alpha1.QuotationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: name}, Status: v1alpha1.QuotationOrderStatus{State: st}}
	}
	agr := func(ns, name string, st v1alpha1.AgreementState) *v1alpha1.Agreement {
		return &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Status: v1alpha1.AgreementStatus{State: st}}
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		qo("q1", v1alpha1.StateCompleted), qo("q2", v1alpha1.StateCompleted), qo("q3", v1alpha1.StatePQOSent), qo("q4", ""),
		agr("a", "a1", v1alpha1.AgreementEstablished), agr("b", "a2", v1alpha1.AgreementWithdrawing),
	).Build()
	want := map[string]float64{
		"cpnp_operator_agreements{Activating}":               0,
		"cpnp_operator_agreements{Established}":              1,
		"cpnp_operator_agreements{Updating}":                 0,
		"cpnp_operator_agreements{Withdrawing}":              1,
		"cpnp_operator_agreements{Withdrawn}":                0,
		"cpnp_operator_quotation_orders{}":                   1,
		"cpnp_operator_quotation_orders{AcceptSent}":         0,
		"cpnp_operator_quotation_orders{AwaitingProcessing}": 0,
		"cpnp_operator_quotation_orders{Cancelled}":          0,
		"cpnp_operator_quotation_orders{Completed}":          2,
		"cpnp_operator_quotation_orders{Created}":            0,
		"cpnp_operator_quotation_orders{OfferProcessing}":    0,
		"cpnp_operator_quotation_orders{OfferReceived}":      0,
		"cpnp_operator_quotation_orders{PQOSent}":            1,
		"cpnp_operator_quotation_orders{ServerProcessing}":   0,
	}
	got, err := gauges(NewStateCollector(c))
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state gauges (-want +got):\n%s", diff)
	}

	// A reader that cannot list (here: kinds unknown to its scheme, as a
	// cache that cannot serve them): the scrape fails instead of lying.
	broken := fake.NewClientBuilder().WithScheme(runtime.NewScheme()).Build()
	if got, err := gauges(NewStateCollector(broken)); err == nil {
		t.Errorf("gather with a reader that cannot list: got %v, want an error", got)
	}
}

// TestEngineCollector checks the export of the association counters: one
// dial, one open association, the messages written by method, every drop
// reason present.
// Reference: RFC 8921 §8.1 (associations), Table 1 (methods).
func TestEngineCollector(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start: %v", err)
		}
	})
	conn := newMemConn()
	if err := e.EnsureServer("s", client.ServerConfig{Address: "127.0.0.1:8921", Dial: conn.dial}, "fp"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.Send(context.Background(), "s", fsm.Send{Msg: wire.Example(wire.MethodQuotation)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := gauges(NewEngineCollector(e))
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for k, want := range map[string]float64{
		MetricAssociations + "{}":                 1,
		MetricDials + "{}":                        1,
		MetricDialFailures + "{handshake}":        0,
		MetricMessagesSent + "{QUOTATION}":        2,
		MetricMessagesSent + "{ACK}":              0,
		MetricMessagesReceived + "{OFFER}":        0,
		MetricSendFailures + "{}":                 0,
		MetricMessagesDropped + "{unknown_order}": 0,
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s: got %v (present %v), want %v", k, v, ok, want)
		}
	}
}
