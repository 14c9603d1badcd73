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
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// benchClients is the default number of concurrent clients (one
// association each).
const benchClients = 8

// msgsPerNegotiation counts the messages of Figure 6: QUOTATION,
// PROCESSING, OFFER, PROCESSING, ACCEPT, ACK.
const msgsPerNegotiation = 6

// BenchmarkNegotiation measures full negotiations (RFC 8921 Fig. 6) over
// DTLS on loopback against the engine with its durable store (write-ahead,
// group commit), with 8 and 32 concurrent clients. It reports
// negotiations/s, messages/s, fsyncs per negotiation (group commit: the more
// clients, the more writes share an fsync), and the ratio of its messages/s
// to a raw DTLS echo of the same number of messages over as many
// associations, measured in the same run (DESIGN §7: every benchmark reports
// a raw baseline).
func BenchmarkNegotiation(b *testing.B) {
	for _, clients := range []int{benchClients, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchNegotiation(b, clients) })
	}
}

func benchNegotiation(b *testing.B, clients int) {
	p := getPKI(b)
	// The echo baseline: as many messages as the negotiations will carry.
	echo := runEcho(b, p, clients, b.N*msgsPerNegotiation/2)
	bs := startBenchServer(b)
	conns := dialAll(b, clients, bs.addr, p.clientTransport(idGlobex))
	req := reqCPD(0.000001, 0.000001) // 1 b/s each way

	st0 := bs.st.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	runClients(b, conns, b.N, func(c transport.Conn, i int) error {
		return negotiateRaw(c, i, req)
	})
	elapsed := time.Since(start)
	b.StopTimer()
	st1 := bs.st.Stats()

	rate := float64(b.N) / elapsed.Seconds()
	msgs := rate * msgsPerNegotiation
	b.ReportMetric(rate, "negotiations/s")
	b.ReportMetric(msgs, "msgs/s")
	b.ReportMetric(echo, "echo_msgs/s")
	b.ReportMetric(msgs/echo, "ratio_vs_echo")
	b.ReportMetric(float64(st1.Commits-st0.Commits)/float64(b.N), "fsyncs/negotiation")
	b.ReportMetric(float64(st1.Submitted-st0.Submitted)/float64(b.N), "writes/negotiation")
}

// BenchmarkNegotiationLatency runs one negotiation (RFC 8921 Fig. 6) at a
// time over DTLS on loopback against the engine with its durable store and
// reports the p50 and p99 of one negotiation, from the QUOTATION to the
// ACK, with the writes and fsyncs each one costs. With nothing to batch
// with, every write-ahead write (DESIGN §4) the client waits for is an
// fsync on the critical path.
func BenchmarkNegotiationLatency(b *testing.B) {
	p := getPKI(b)
	bs := startBenchServer(b)
	conns := dialAll(b, 1, bs.addr, p.clientTransport(idGlobex))
	req := reqCPD(0.000001, 0.000001)
	d := make([]time.Duration, 0, b.N)
	st0 := bs.st.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := negotiateRaw(conns[0], i, req); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	st1 := bs.st.Stats()
	slices.Sort(d)
	at := func(q int) float64 { return float64(d[min(len(d)-1, len(d)*q/100)]) / float64(time.Millisecond) }
	b.ReportMetric(at(50), "p50-ms")
	b.ReportMetric(at(99), "p99-ms")
	b.ReportMetric(float64(st1.Commits-st0.Commits)/float64(b.N), "fsyncs/negotiation")
	b.ReportMetric(float64(st1.Submitted-st0.Submitted)/float64(b.N), "writes/negotiation")
}

// benchServer is the engine of the negotiation benchmarks.
type benchServer struct {
	st   *store.Store
	addr string
}

// startBenchServer starts the engine with a durable store (bbolt, fsync on
// commit) and a policy whose pool never runs out, on a loopback DTLS
// listener; the benchmark's cleanup stops it.
func startBenchServer(b *testing.B) *benchServer {
	b.Helper()
	p := getPKI(b)
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	pol, err := policy.New(policy.Config{
		Pools: []policy.Pool{{Name: "bench", Capacity: policy.Capacity{IncomingBps: policy.MaxBps, OutgoingBps: policy.MaxBps},
			QoSClasses: testPolicy().Pools[0].QoSClasses}},
		Tenants: []policy.Tenant{{Identity: idGlobex, Pools: []string{"bench"}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(server.Config{Policy: pol, Store: st})
	if err != nil {
		b.Fatal(err)
	}
	l, err := transport.ListenDTLS("127.0.0.1:0", p.serverTransport())
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	b.Cleanup(func() {
		if err := srv.Close(); err != nil {
			b.Error(err)
		}
		if err := <-served; !errors.Is(err, server.ErrServerClosed) {
			b.Errorf("Serve: got %v, want ErrServerClosed", err)
		}
		if err := st.Close(); err != nil {
			b.Error(err)
		}
	})
	return &benchServer{st: st, addr: l.Addr().String()}
}

// BenchmarkDTLSEcho is the raw baseline alone: round trips of a
// QUOTATION-sized message through transport.ServeEcho (pion/dtls), with
// benchClients concurrent clients.
func BenchmarkDTLSEcho(b *testing.B) {
	rate := runEcho(b, getPKI(b), benchClients, b.N)
	b.ReportMetric(rate, "msgs/s")
}

// runEcho makes n round trips against an echo server and returns the
// messages (one way) per second.
func runEcho(b *testing.B, p *testPKI, clients, n int) float64 {
	b.Helper()
	l, err := transport.ListenDTLS("127.0.0.1:0", p.serverTransport())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- transport.ServeEcho(ctx, l) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("ServeEcho: %v", err)
		}
		_ = l.Close()
	}()
	conns := dialAll(b, clients, l.Addr().String(), p.clientTransport(idGlobex))
	c := reqCPD(0.000001, 0.000001)
	q := wire.Message{Version: wire.Version, Method: wire.MethodQuotation, Seq: 1, TransactionID: newHex(),
		CustomerOrderID: "co-echo", ExpectedResponseTime: tp(t0), RequestedCPD: &c}
	msg, err := wire.Encode(q)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	runClients(b, conns, n, func(c transport.Conn, _ int) error {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := c.WriteMessage(ctx, msg); err != nil {
			return err
		}
		_, err := c.ReadMessage(ctx)
		return err
	})
	return float64(2*n) / time.Since(start).Seconds()
}

func dialAll(b *testing.B, clients int, addr string, cfg transport.Config) []transport.Conn {
	b.Helper()
	conns := make([]transport.Conn, clients)
	for i := range conns {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		c, err := transport.DialDTLS(ctx, addr, cfg)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = c
		b.Cleanup(func() { _ = c.Close() })
	}
	return conns
}

// runClients runs n operations spread over the connections, one goroutine
// per connection.
func runClients(b *testing.B, conns []transport.Conn, n int, op func(c transport.Conn, i int) error) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(conns))
	for k, c := range conns {
		count := n / len(conns)
		if k < n%len(conns) {
			count++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range count {
				if err := op(c, k*1_000_000+i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// negotiateRaw runs Figure 6 as a client on c.
func negotiateRaw(c transport.Conn, i int, req cpd.CPD) error {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	txn := newHex()
	coid := fmt.Sprintf("co-%d", i)
	send := func(m wire.Message) error {
		bs, err := wire.Encode(m)
		if err != nil {
			return err
		}
		return c.WriteMessage(ctx, bs)
	}
	recv := func(want wire.Method) (wire.Message, error) {
		bs, err := c.ReadMessage(ctx)
		if err != nil {
			return wire.Message{}, err
		}
		m, err := wire.Decode(bs)
		if err != nil {
			return m, err
		}
		if m.Method != want {
			return m, fmt.Errorf("got %s (status %d), want %s", m.Method, m.StatusCode, want)
		}
		return m, nil
	}
	if err := send(wire.Message{Version: wire.Version, Method: wire.MethodQuotation, Seq: 1, TransactionID: txn,
		CustomerOrderID: coid, RequestedCPD: &req}); err != nil {
		return err
	}
	if _, err := recv(wire.MethodProcessing); err != nil {
		return err
	}
	off, err := recv(wire.MethodOffer)
	if err != nil {
		return err
	}
	reply := func(m wire.Method, seq uint32) wire.Message {
		return wire.Message{Version: wire.Version, Method: m, Seq: seq, TransactionID: txn, CustomerOrderID: coid,
			ProviderOrderID: off.ProviderOrderID}
	}
	if err := send(reply(wire.MethodProcessing, 2)); err != nil {
		return err
	}
	acc := reply(wire.MethodAccept, 3)
	acc.Nonce, acc.AcceptedCPD = off.Nonce, off.OfferedCPD
	if err := send(acc); err != nil {
		return err
	}
	_, err = recv(wire.MethodAck)
	return err
}
