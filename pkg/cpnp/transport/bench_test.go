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

package transport

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// benchEcho measures message round trips over one association: the raw
// echo baseline of the engine benchmarks (DESIGN §7).
func benchEcho(b *testing.B, transport string, size int) {
	p := getPKI(b)
	var (
		l   Listener
		err error
	)
	if transport == "tls" {
		l, err = ListenTLS("127.0.0.1:0", p.serverConfig())
	} else {
		l, err = ListenDTLS("127.0.0.1:0", p.serverConfig())
	}
	if err != nil {
		b.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = ServeEcho(ctx, l) }()
	defer func() { cancel(); <-done; _ = l.Close() }()
	c, err := dial(ctx, transport, l.Addr().String(), p.clientConfig(&p.clientCN))
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	defer c.Close()
	msg := jsonMessage(size)
	b.SetBytes(int64(2 * size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.WriteMessage(ctx, msg); err != nil {
			b.Fatalf("write: %v", err)
		}
		if _, err := c.ReadMessage(ctx); err != nil {
			b.Fatalf("read: %v", err)
		}
	}
}

func BenchmarkEchoDTLS(b *testing.B) {
	for _, size := range []int{200, 1200, 5 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchEcho(b, "dtls", size) })
	}
}

func BenchmarkEchoTLS(b *testing.B) {
	for _, size := range []int{200, 5 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchEcho(b, "tls", size) })
	}
}

// benchHandshake measures mutual-auth handshakes per second (client and
// server in one process, so each iteration pays both sides).
func benchHandshake(b *testing.B, transport string) {
	p := getPKI(b)
	scfg := p.serverConfig()
	var (
		l   Listener
		err error
	)
	if transport == "tls" {
		l, err = ListenTLS("127.0.0.1:0", scfg)
	} else {
		l, err = ListenDTLS("127.0.0.1:0", scfg)
	}
	if err != nil {
		b.Fatalf("listen: %v", err)
	}
	defer l.Close()
	ctx := context.Background()
	accepted := make(chan Conn, 16)
	go func() {
		for {
			c, err := l.Accept(ctx)
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	ccfg := p.clientConfig(&p.clientCN)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := dial(ctx, transport, l.Addr().String(), ccfg)
		if err != nil {
			b.Fatalf("dial: %v", err)
		}
		sc := <-accepted
		_ = c.Close()
		_ = sc.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
}

func BenchmarkHandshakeDTLS(b *testing.B) { benchHandshake(b, "dtls") }
func BenchmarkHandshakeTLS(b *testing.B)  { benchHandshake(b, "tls") }

// BenchmarkReassemble is the receive-side cost of a fragmented 64 KiB
// message without the network: parsing envelopes and joining them.
func BenchmarkReassemble(b *testing.B) {
	msg := jsonMessage(64 << 10)
	var envs [][]byte
	_ = splitMessage(msg, DefaultDatagramLimit, DefaultMaxFragments, "0123456789abcdef", func(e []byte) error {
		envs = append(envs, append([]byte(nil), e...))
		return nil
	})
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	now := time.Now()
	for i := 0; b.Loop(); i++ {
		r := newReassembler(ReassemblyLimits{})
		var out []byte
		for _, e := range envs {
			f, err := parseFragment(e)
			if err != nil {
				b.Fatal(err)
			}
			if m, _ := r.add(f, now); m != nil {
				out = m
			}
		}
		if len(out) != len(msg) {
			b.Fatalf("reassembled %d bytes, want %d", len(out), len(msg))
		}
	}
}

// TestIdleAssociationHeap measures the heap held by idle DTLS associations
// (DESIGN target: at most 60 KB each). Client and server run in this
// process, so one pair is two associations; the figure reported is per
// association (pair / 2), with an engine-like reader blocked in
// ReadMessage on each server side. Run with -v to see the figures.
func TestIdleAssociationHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory of 200 associations")
	}
	cpnptest.CheckGoroutines(t)
	const pairs = 100
	p := getPKI(t)
	l := listen(t, "dtls", p.serverConfig())
	ctx, cancel := context.WithCancel(context.Background())
	ccfg := p.clientConfig(&p.clientCN)

	measure := func() (heap, stack uint64) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc, ms.StackInuse
	}
	// Warm up pools and caches with one association.
	warm, err := DialDTLS(testContext(t), l.Addr().String(), ccfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	wsc, err := l.Accept(testContext(t))
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	echoPair(t, warm, wsc)

	heap0, stack0 := measure()
	clients := make([]Conn, 0, pairs)
	servers := make([]Conn, 0, pairs)
	readers := make(chan struct{}, pairs)
	for range pairs {
		c, err := DialDTLS(testContext(t), l.Addr().String(), ccfg)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		sc, err := l.Accept(testContext(t))
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		echoPair(t, c, sc) // each association has carried a message
		clients = append(clients, c)
		servers = append(servers, sc)
		go func() {
			defer func() { readers <- struct{}{} }()
			_, _ = sc.ReadMessage(ctx) // an engine's reader, blocked while idle
		}()
	}
	heap1, stack1 := measure()
	perAssoc := float64(heap1-heap0) / (2 * pairs)
	stackPer := float64(stack1-stack0) / (2 * pairs)
	t.Logf("idle DTLS association: %.1f KB heap, %.1f KB goroutine stacks (pair/2, %d pairs, reader blocked on the server side)",
		perAssoc/1024, stackPer/1024, pairs)
	if perAssoc > 60*1024 && !raceEnabled {
		t.Errorf("heap per idle association: %.1f KB, above the 60 KB target", perAssoc/1024)
	}
	cancel()
	for range pairs {
		<-readers
	}
	for i := range clients {
		_ = clients[i].Close()
		_ = servers[i].Close()
	}
	_ = warm.Close()
	_ = wsc.Close()
}

func echoPair(t *testing.T, c, sc Conn) {
	t.Helper()
	ctx := testContext(t)
	if err := c.WriteMessage(ctx, jsonMessage(200)); err != nil {
		t.Fatalf("write: %v", err)
	}
	msg, err := sc.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := sc.WriteMessage(ctx, msg); err != nil {
		t.Fatalf("write back: %v", err)
	}
	if _, err := c.ReadMessage(ctx); err != nil {
		t.Fatalf("read back: %v", err)
	}
}
