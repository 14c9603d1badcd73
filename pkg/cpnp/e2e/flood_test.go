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
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// captureClientHello returns the first datagram a pion DTLS client sends:
// a valid ClientHello without cookie, which the flood replays.
func captureClientHello(tb testing.TB, p *cpnptest.PKI) []byte {
	tb.Helper()
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen sink: %v", err)
	}
	defer sink.Close()
	uc, err := net.Dial("udp", sink.LocalAddr().String())
	if err != nil {
		tb.Fatalf("dial sink: %v", err)
	}
	pc, err := dtls.ClientWithOptions(dtlsnet.PacketConnFromConn(uc), uc.RemoteAddr(),
		dtls.WithCertificates(p.Client(idAcme)), dtls.WithRootCAs(p.Pool), dtls.WithServerName(p.ServerName))
	if err != nil {
		tb.Fatalf("pion client: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = pc.HandshakeContext(ctx)
	}()
	buf := make([]byte, 2048)
	_ = sink.SetReadDeadline(time.Now().Add(waitTimeout))
	n, _, err := sink.ReadFrom(buf)
	cancel()
	<-done
	_ = pc.Close()
	if err != nil {
		tb.Fatalf("capture ClientHello: %v", err)
	}
	return buf[:n]
}

// flood sends stalled ClientHellos to a DTLS server: each from a new UDP
// socket (a new source port), spread over sources addresses 127.0.0.2,
// 127.0.0.3, ..., never answering the HelloVerifyRequest. At most sockets
// are open at once; the oldest is closed to make room, so new handshake
// attempts keep coming every interval until stop.
type flood struct {
	attempts atomic.Uint64
	stop     chan struct{}
	wg       sync.WaitGroup
}

// startFlood starts a flood against addr from sources (1..250) source
// addresses; stop it with (*flood).halt.
func startFlood(tb testing.TB, addr string, hello []byte, sources, sockets int, interval time.Duration) *flood {
	tb.Helper()
	sources = max(1, min(sources, 250))
	if c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}); err != nil {
		tb.Skipf("127.0.0.2 is not usable as a source address: %v", err)
	} else {
		_ = c.Close()
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && uint64(sockets) > lim.Cur/2 {
		sockets = int(lim.Cur / 2) // leave file descriptors for everything else
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	f := &flood{stop: make(chan struct{})}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		var socks []*net.UDPConn
		defer func() {
			for _, s := range socks {
				_ = s.Close()
			}
		}()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-f.stop:
				return
			case <-tick.C:
			}
			if len(socks) >= sockets {
				_ = socks[0].Close()
				socks = socks[1:]
			}
			src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%sources))}
			s, err := net.DialUDP("udp", src, raddr)
			if err != nil {
				continue // out of ports or descriptors for a moment
			}
			socks = append(socks, s)
			_, _ = s.Write(hello)
			f.attempts.Add(1)
		}
	}()
	tb.Cleanup(f.halt)
	return f
}

// halt stops the flood and closes its sockets; it is idempotent.
func (f *flood) halt() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	f.wg.Wait()
}

// TestHandshakeFlood: while a flood of stalled ClientHellos from many
// source ports keeps the server's half-open handshake slots full,
// legitimate clients still complete their DTLS handshakes within the
// handshake timeout and then a whole negotiation with the server engine.
// One source: the per-source cap refuses the flood (HalfOpenRefused); many
// sources: the global cap evicts the oldest half-open handshakes
// (HalfOpenEvicted).
// Reference: RFC 8921 §13 (denial of service); DESIGN §4 "DTLS admission"
// (one slow or spoofed peer never delays another), §3 defaults.
func TestHandshakeFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("floods the loopback interface")
	}
	tests := map[string]struct {
		sources int
		// effective reports whether the flood hit the admission control.
		effective func(transport.MetricsSnapshot) bool
	}{
		"many ports of one source": {
			sources:   1,
			effective: func(s transport.MetricsSnapshot) bool { return s.HalfOpenRefused > 100 },
		},
		"many sources": {
			sources:   64,
			effective: func(s transport.MetricsSnapshot) bool { return s.HalfOpenEvicted > 100 },
		},
	}
	const handshakeTimeout = 5 * time.Second
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cpnptest.CheckGoroutines(t)
			p := cpnptest.NewPKI(t, idAcme, idGlobex)
			clk := cpnptest.NewFakeClock(time.Now().UTC().Truncate(time.Second))
			srv := startServer(t, p, serverOptions{clock: clk, tune: func(c *transport.Config) {
				c.HandshakeTimeout = handshakeTimeout
				c.MaxHalfOpen = 128
			}})
			fl := startFlood(t, srv.addr, captureClientHello(t, p), tc.sources, 1024, 500*time.Microsecond)
			eventually(t, "the flood to fill the half-open slots", func() bool {
				s := srv.metrics.Snapshot()
				return tc.effective(s)
			}, func() string { return fmt.Sprintf("%+v", srv.metrics.Snapshot()) })

			for i, id := range []string{idAcme, idGlobex} {
				cli := startClient(t, p, srv.addr, clientOptions{
					clock: clk, cert: certOf(p, id), options: transport.Config{HandshakeTimeout: handshakeTimeout},
					minBackoff: 50 * time.Millisecond, maxBackoff: 200 * time.Millisecond, quiet: true,
				})
				began := time.Now()
				cli.connect()
				if took := time.Since(began); took >= handshakeTimeout {
					t.Errorf("client %s: handshake took %v during the flood, want less than the %v handshake timeout", id, took, handshakeTimeout)
				}
				coid := fmt.Sprintf("flood-%d", i)
				o := cli.agree(coid, gold(1, 1), clk.Now(), nil)
				if o.State() != fsm.ClientCompleted {
					t.Errorf("client %s: negotiation ended %s, want Completed", id, o.State())
				}
				srv.waitState(id, coid, fsm.ServerCompleted)
			}
			before := srv.metrics.Snapshot()
			eventually(t, "the flood to go on after the negotiations", func() bool {
				s := srv.metrics.Snapshot()
				return s.HalfOpenRefused+s.HalfOpenEvicted > before.HalfOpenRefused+before.HalfOpenEvicted
			}, nil)
			fl.halt()
			s := srv.metrics.Snapshot()
			if s.HalfOpen > 128 {
				t.Errorf("half-open handshakes: got %d, want at most the cap 128", s.HalfOpen)
			}
			t.Logf("flood from %d source(s): %d attempts; server: %d handshakes completed, %d half-open refused, %d evicted, %d half-open now",
				tc.sources, fl.attempts.Load(), s.HandshakesCompleted, s.HalfOpenRefused, s.HalfOpenEvicted, s.HalfOpen)
		})
	}
}
