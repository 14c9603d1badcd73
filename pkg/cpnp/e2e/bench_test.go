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
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

const (
	// benchConns is the number of concurrent clients of the throughput
	// benchmarks, each with its own association (and, for negotiations,
	// its own client engine).
	benchConns = 8
	// msgsPerNegotiation counts the messages of Figure 6: QUOTATION,
	// PROCESSING, OFFER, PROCESSING, ACCEPT, ACK.
	msgsPerNegotiation = 6
	// echoRoundTrips is the number of echo round trips compared with one
	// negotiation's latency: as many messages (6) as the negotiation.
	echoRoundTrips = msgsPerNegotiation / 2
	// idleAssociations is the number of idle associations whose heap is
	// measured.
	idleAssociations = 200
	// handshakeWorkers is the number of concurrent handshakes.
	handshakeWorkers = 4
)

// benchFixture is what every BenchmarkE2E sub-benchmark shares, set up
// once per run: the server engine with its durable store (the product's
// defaults: a 64 MiB journal, one fdatasync per group commit, bbolt
// checkpoints) and the default policy, a raw DTLS echo server
// (transport.ServeEcho, the baseline of DESIGN §7) with the same transport
// settings, and client engines.
type benchFixture struct {
	p        *cpnptest.PKI
	srv      *testServer
	echo     string
	echoConn []transport.Conn
	wireConn []transport.Conn // associations with the server engine for wireNegotiate
	clients  []*testClient
	seq      atomic.Uint64
	quote    wire.Message // a QUOTATION, the echoed message

	idleOnce         sync.Once
	idleHeap, idleSt float64
}

func newBenchFixture(b *testing.B) *benchFixture {
	b.Helper()
	fx := &benchFixture{p: cpnptest.NewPKI(b, idAcme)}
	pol := policy.Config{
		Pools:   []policy.Pool{{Name: "bench", Capacity: policy.Capacity{IncomingBps: policy.MaxBps, OutgoingBps: policy.MaxBps}}},
		Tenants: []policy.Tenant{{Identity: policy.Wildcard, Pools: []string{"bench"}}},
	}
	// The product's transport defaults (handshake timeout 10 s, half-open
	// caps 1024 and 8 per source).
	fx.srv = startServer(b, fx.p, serverOptions{policy: &pol, journalSize: store.DefaultJournalSize, tune: func(c *transport.Config) {
		c.HandshakeTimeout = transport.DefaultHandshakeTimeout
	}})
	l, err := transport.ListenDTLS("127.0.0.1:0", transport.Config{
		Certificates: []tls.Certificate{fx.p.Server}, ClientCAs: fx.p.Pool,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- transport.ServeEcho(ctx, l) }()
	b.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			b.Errorf("ServeEcho: %v", err)
		}
		_ = l.Close()
	})
	fx.echo = l.Addr().String()
	for range benchConns {
		fx.echoConn = append(fx.echoConn, fx.dial(b, fx.echo))
		fx.wireConn = append(fx.wireConn, fx.dial(b, fx.srv.addr))
		c := startClient(b, fx.p, fx.srv.addr, clientOptions{
			cert: certOf(fx.p, idAcme), quiet: true, noEvents: true,
			// negotiate subscribes to each order, which sees about 6 events;
			// the default buffer of 64 Events costs ~34 KB per Subscribe.
			eventBuffer: 16,
		})
		c.connect()
		fx.clients = append(fx.clients, c)
	}
	req := benchCPD()
	fx.quote = wire.Message{Version: wire.Version, Method: wire.MethodQuotation, Seq: 1, TransactionID: newHex(),
		CustomerOrderID: "co-echo-0123456789abcdef0123456789ab", ExpectedResponseTime: ptr(time.Now().Add(time.Hour)),
		RequestedCPD: &req}
	return fx
}

// benchCPD asks for 1 b/s each way of class-less capacity, so that the pool
// (2^53 b/s) never runs out whatever b.N is.
func benchCPD() cpd.CPD {
	return cpd.CPD{Components: []cpd.Component{{
		CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-par-1", LinkIdentifier: "pe1:xe-0/0/1"}},
		Capacity:      &cpd.Capacity{IncomingBps: cpd.Fixed(1), OutgoingBps: cpd.Fixed(1)},
	}}}
}

func (fx *benchFixture) clientConfig() transport.Config {
	return transport.Config{Certificates: []tls.Certificate{fx.p.Client(idAcme)}, RootCAs: fx.p.Pool, ServerName: fx.p.ServerName}
}

func (fx *benchFixture) dial(b *testing.B, addr string) transport.Conn {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := transport.DialDTLS(ctx, addr, fx.clientConfig())
	if err != nil {
		b.Fatalf("dial %s: %v", addr, err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

// echoRoundTrip sends the QUOTATION to the echo server and reads it back.
func (fx *benchFixture) echoRoundTrip(c transport.Conn, data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.WriteMessage(ctx, data); err != nil {
		return err
	}
	_, err := c.ReadMessage(ctx)
	return err
}

// negotiate runs Figure 6 with the client engine c against the server
// engine and returns its duration, from Quote to the ACK.
func (fx *benchFixture) negotiate(c *testClient) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	id := fmt.Sprintf("co-bench-%d", fx.seq.Add(1))
	events, unsubscribe := c.eng.Subscribe(id)
	defer unsubscribe()
	start := time.Now()
	if _, err := c.eng.Quote(ctx, serverName, client.QuoteRequest{CustomerOrderID: id, CPD: benchCPD()}); err != nil {
		return 0, err
	}
	for accepted := false; ; {
		select {
		case ev := <-events:
			switch ev.Transition.Reason {
			case "OfferProcessing":
				if !accepted {
					accepted = true
					if err := c.eng.Accept(ctx, id); err != nil {
						return 0, err
					}
				}
			case "Agreed":
				return time.Since(start), nil
			case "Failed", "NoResponse", "OfferExpired":
				return 0, fmt.Errorf("negotiation %s ended %s", id, ev.Transition.Reason)
			}
		case <-ctx.Done():
			return 0, fmt.Errorf("negotiation %s: %w", id, ctx.Err())
		}
	}
}

// wireNegotiate runs Figure 6 on the association c with a wire-level
// client: it encodes, writes, reads and decodes the six messages itself
// (QUOTATION; PROCESSING and OFFER read; PROCESSING and ACCEPT written; ACK
// read) and keeps no state beyond the exchange, like the echo client does.
// It returns the duration from the QUOTATION's write to the ACK's read.
// With it the figure is the server engine's alone: the client engine's own
// cost (its loop, store, timers and event delivery) is not in it.
func (fx *benchFixture) wireNegotiate(c transport.Conn) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	n := fx.seq.Add(1)
	q := wire.Message{Version: wire.Version, Method: wire.MethodQuotation, Seq: 1, TransactionID: newHex(),
		CustomerOrderID: "co-wire-" + strconv.FormatUint(n, 10), ExpectedResponseTime: ptr(time.Now().Add(time.Hour)),
		RequestedCPD: ptr(benchCPD())}
	start := time.Now()
	send := func(m wire.Message) error {
		data, err := wire.Encode(m)
		if err != nil {
			return err
		}
		return c.WriteMessage(ctx, data)
	}
	// await reads until a message of method want for this transaction,
	// skipping the server's PROCESSING (§9.2.1); a FAIL ends the exchange.
	await := func(want wire.Method) (wire.Message, error) {
		for {
			data, err := c.ReadMessage(ctx)
			if err != nil {
				return wire.Message{}, err
			}
			m, err := wire.Decode(data)
			switch {
			case err != nil:
				return wire.Message{}, err
			case m.TransactionID != q.TransactionID:
				return wire.Message{}, fmt.Errorf("%s for transaction %s, want %s", m.Method, m.TransactionID, q.TransactionID)
			case m.Method == want:
				return m, nil
			case m.Method != wire.MethodProcessing:
				return wire.Message{}, fmt.Errorf("%s (status %d) while waiting for %s", m.Method, m.StatusCode, want)
			}
		}
	}
	if err := send(q); err != nil {
		return 0, err
	}
	offer, err := await(wire.MethodOffer)
	if err != nil {
		return 0, fmt.Errorf("order %s: %w", q.CustomerOrderID, err)
	}
	ref := wire.Message{Version: wire.Version, TransactionID: q.TransactionID, CustomerOrderID: q.CustomerOrderID,
		ProviderOrderID: offer.ProviderOrderID}
	processing := ref
	processing.Method, processing.Seq = wire.MethodProcessing, 2
	accept := ref
	accept.Method, accept.Seq, accept.Nonce, accept.AcceptedCPD = wire.MethodAccept, 3, offer.Nonce, offer.OfferedCPD
	if err := send(processing); err != nil {
		return 0, err
	}
	if err := send(accept); err != nil {
		return 0, err
	}
	if _, err := await(wire.MethodAck); err != nil {
		return 0, fmt.Errorf("order %s: %w", q.CustomerOrderID, err)
	}
	return time.Since(start), nil
}

// parallel runs n operations spread over workers goroutines, op(w) for
// worker w, and returns the elapsed time.
func parallel(b *testing.B, workers, n int, op func(w int) error) time.Duration {
	b.Helper()
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		first atomic.Value
	)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := op(w); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := first.Load().(error); err != nil {
		b.Fatal(err)
	}
	return elapsed
}

// percentiles reports the p50 and p99 of d in milliseconds.
func percentiles(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	at := func(q int) float64 { return float64(d[min(len(d)-1, len(d)*q/100)]) / float64(time.Millisecond) }
	b.ReportMetric(at(50), "p50-ms")
	b.ReportMetric(at(99), "p99-ms")
}

// BenchmarkE2E measures, in one run and on one machine, the server engine
// against its baselines (DESIGN §7); `make bench` prints the ratios:
//
//	echo                 raw DTLS echo, benchConns clients: msgs/s
//	negotiation          Figure 6 with client engines against the server
//	                     engine, durable store on, benchConns clients:
//	                     negotiations/s (ratio target: ×6 ≥ 0.5 × echo msgs/s)
//	echo-latency         3 sequential echo round trips (6 messages): p50, p99
//	negotiation-latency  one negotiation at a time: p50, p99 (target p99 ≤ 3×)
//	negotiation-wire     as negotiation, but each client is wire-level
//	                     (wireNegotiate: no client engine), so that the
//	                     figure is the server engine's alone; printed for
//	                     information next to the targets' figures
//	negotiation-wire-latency
//	                     one such negotiation at a time: p50, p99
//	commit-latency       one durable commit of the store alone (journal
//	                     write and fdatasync), one at a time: p50, p99;
//	                     a negotiation waits for two in sequence
//	handshake            mutual-auth DTLS handshakes with the server engine
//	handshake-flood      the same during a flood of stalled ClientHellos from
//	                     200 sources (target ≥ 0.8× without)
//	idle-association     heap held by the server per idle association
//	                     (target ≤ 60 KB)
//
// The latency pair takes comparable paths: each is one client on its own
// DTLS association over loopback, with the same transport settings on both
// ends, timed from the first write to the last answer (echo-latency) or
// from Quote to the Agreed event (negotiation-latency; the subscription is
// made before the clock starts). What the negotiation adds is what is
// measured: both engines, their stores and the event delivery. The flood
// generator runs in this process, so its own CPU (a socket per attempt)
// competes with the server's on the same cores: handshake-flood is a
// pessimistic figure.
//
// Reference: RFC 8921 §8.7 Figure 6, §13; DESIGN §4, §7.
func BenchmarkE2E(b *testing.B) {
	fx := newBenchFixture(b)
	data, err := wire.Encode(fx.quote)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("echo", func(b *testing.B) {
		b.ReportAllocs()
		elapsed := parallel(b, benchConns, b.N, func(w int) error { return fx.echoRoundTrip(fx.echoConn[w], data) })
		b.ReportMetric(float64(2*b.N)/elapsed.Seconds(), "msgs/s")
	})
	b.Run("negotiation", func(b *testing.B) {
		b.ReportAllocs()
		commits := fx.srv.store.Stats().Commits
		elapsed := parallel(b, benchConns, b.N, func(w int) error {
			_, err := fx.negotiate(fx.clients[w])
			return err
		})
		rate := float64(b.N) / elapsed.Seconds()
		b.ReportMetric(rate, "negotiations/s")
		b.ReportMetric(rate*msgsPerNegotiation, "msgs/s")
		b.ReportMetric(float64(fx.srv.store.Stats().Commits-commits)/float64(b.N), "fsyncs/negotiation")
	})
	b.Run("negotiation-wire", func(b *testing.B) {
		b.ReportAllocs()
		elapsed := parallel(b, benchConns, b.N, func(w int) error {
			_, err := fx.wireNegotiate(fx.wireConn[w])
			return err
		})
		rate := float64(b.N) / elapsed.Seconds()
		b.ReportMetric(rate, "negotiations/s")
		b.ReportMetric(rate*msgsPerNegotiation, "msgs/s")
	})
	b.Run("echo-latency", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for range b.N {
			start := time.Now()
			for range echoRoundTrips {
				if err := fx.echoRoundTrip(fx.echoConn[0], data); err != nil {
					b.Fatal(err)
				}
			}
			d = append(d, time.Since(start))
		}
		percentiles(b, d)
	})
	b.Run("negotiation-latency", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for range b.N {
			took, err := fx.negotiate(fx.clients[0])
			if err != nil {
				b.Fatal(err)
			}
			d = append(d, took)
		}
		percentiles(b, d)
	})
	b.Run("negotiation-wire-latency", func(b *testing.B) {
		commits := fx.srv.store.Stats().Commits
		defer func() {
			b.ReportMetric(float64(fx.srv.store.Stats().Commits-commits)/float64(b.N), "fsyncs/negotiation")
		}()
		d := make([]time.Duration, 0, b.N)
		for range b.N {
			took, err := fx.wireNegotiate(fx.wireConn[0])
			if err != nil {
				b.Fatal(err)
			}
			d = append(d, took)
		}
		percentiles(b, d)
	})
	b.Run("commit-latency", func(b *testing.B) {
		// One durable commit at a time, alone, on a store opened like the
		// server's (the product's options, a directory on the same file
		// system), of a 2 KiB record (an order's record is smaller, and a
		// journal frame is a whole 4 KiB block either way): the floor under
		// each of the two write-ahead commits a negotiation waits for in
		// sequence (before the OFFER and before the ACK, DESIGN §4).
		st, err := store.Open(b.TempDir(), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		ctx := context.Background()
		val := make([]byte, 2048)
		d := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			start := time.Now()
			if err := st.WriteSync(ctx, store.Put("orders", strconv.Itoa(i), val, nil)); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(start))
		}
		percentiles(b, d)
	})
	b.Run("idle-association", func(b *testing.B) {
		fx.idleOnce.Do(func() { fx.idleHeap, fx.idleSt = measureIdle(b, fx) })
		b.ReportMetric(fx.idleHeap, "heap-B/assoc")
		b.ReportMetric(fx.idleSt, "stack-B/assoc")
	})
	b.Run("handshake", func(b *testing.B) { benchHandshakes(b, fx, nil) })
	b.Run("handshake-flood", func(b *testing.B) {
		// 200 sources × 8 half-open each exceed the global cap of 1024:
		// the flood fills every slot and keeps evicting.
		fl := startFlood(b, fx.srv.addr, captureClientHello(b, fx.p), 200, 1600, 250*time.Microsecond)
		defer fl.halt()
		base := fx.srv.metrics.Snapshot().HalfOpenEvicted
		eventually(b, "the flood to fill the half-open slots", func() bool {
			return fx.srv.metrics.Snapshot().HalfOpenEvicted > base+100
		}, nil)
		benchHandshakes(b, fx, fl)
	})
}

// benchHandshakes makes b.N mutual-auth handshakes with the server engine
// from handshakeWorkers goroutines; a handshake that fails (evicted by the
// flood) is counted and retried.
func benchHandshakes(b *testing.B, fx *benchFixture, fl *flood) {
	var failed atomic.Uint64
	attempts := uint64(0)
	if fl != nil {
		attempts = fl.attempts.Load()
	}
	b.ResetTimer()
	elapsed := parallel(b, handshakeWorkers, b.N, func(int) error {
		for range 10 {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			c, err := transport.DialDTLS(ctx, fx.srv.addr, fx.clientConfig())
			cancel()
			if err == nil {
				return c.Close()
			}
			failed.Add(1)
		}
		return fmt.Errorf("10 handshakes failed in a row")
	})
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "handshakes/s")
	b.ReportMetric(float64(failed.Load()), "failed")
	if fl != nil {
		b.ReportMetric(float64(fl.attempts.Load()-attempts)/elapsed.Seconds(), "flood-attempts/s")
	}
}

// measureIdle opens idleAssociations associations to the server engine from
// a child process (so that only the server's side is in this heap) and
// returns the heap and stack bytes the server holds per idle association.
func measureIdle(b *testing.B, fx *benchFixture) (heap, stack float64) {
	b.Helper()
	dir := b.TempDir()
	bundle, err := fx.p.CA.IssueClient("idle", "", time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	files := map[string][]byte{"ca.crt": fx.p.CA.CertPEM, "idle.crt": bundle.CertPEM, "idle.key": bundle.KeyPEM}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	before := settledMemStats()
	assocBefore := fx.srv.metrics.Snapshot().ActiveAssociations
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleAssociationsHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CPNP_E2E_IDLE_HELPER="+dir, "CPNP_E2E_IDLE_ADDR="+fx.srv.addr,
		"CPNP_E2E_IDLE_N="+strconv.Itoa(idleAssociations))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("idle helper: %v", err)
		}
	}()
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- nil
				return
			}
		}
		ready <- fmt.Errorf("idle helper ended before it was ready: %w", errors.Join(sc.Err(), io.ErrUnexpectedEOF))
	}()
	select {
	case err := <-ready:
		if err != nil {
			b.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		b.Fatal("idle helper not ready within 2 minutes")
	}
	eventually(b, "the server to hold the idle associations", func() bool {
		return fx.srv.metrics.Snapshot().ActiveAssociations >= assocBefore+idleAssociations
	}, nil)
	after := settledMemStats()
	heap = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / idleAssociations
	stack = (float64(after.StackInuse) - float64(before.StackInuse)) / idleAssociations
	return heap, stack
}

// settledMemStats reads the memory statistics after garbage collection,
// once the goroutine count stopped changing.
func settledMemStats() runtime.MemStats {
	for prev, i := -1, 0; i < 50; i++ {
		n := runtime.NumGoroutine()
		if n == prev {
			break
		}
		prev = n
		time.Sleep(20 * time.Millisecond) // waiting for goroutines to settle, not an assertion
	}
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

// TestIdleAssociationsHelper is the child process of measureIdle: it opens
// CPNP_E2E_IDLE_N associations to CPNP_E2E_IDLE_ADDR, prints "ready" and
// keeps them until its standard input closes. It is skipped otherwise.
func TestIdleAssociationsHelper(t *testing.T) {
	dir := os.Getenv("CPNP_E2E_IDLE_HELPER")
	if dir == "" {
		t.Skip("child process of BenchmarkE2E/idle-association")
	}
	n, err := strconv.Atoi(os.Getenv("CPNP_E2E_IDLE_N"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.LoadKeyPair(filepath.Join(dir, "idle.crt"), filepath.Join(dir, "idle.key"))
	if err != nil {
		t.Fatal(err)
	}
	roots, err := pki.LoadCertPool(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := transport.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: pki.DefaultServerName}
	conns := make([]transport.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		c, err := transport.DialDTLS(ctx, os.Getenv("CPNP_E2E_IDLE_ADDR"), cfg)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString(0) // until EOF
}
