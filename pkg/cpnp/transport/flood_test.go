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
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// Reference: DESIGN §4 "DTLS admission": a flood of stalled ClientHellos
// from many source ports does not keep a legitimate client from completing
// its handshake, and handshakes run concurrently.
func TestDTLSHalfOpenFlood(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	legit := loopbackAlias(t)
	p := getPKI(t)
	metrics := &Metrics{}
	scfg := p.serverConfig()
	scfg.Metrics = metrics
	scfg.HandshakeTimeout = 3 * time.Second
	l := listen(t, "dtls", scfg)
	serveEcho(t, l)
	hello := captureClientHello(t)

	// The flood: raw UDP sockets on 127.0.0.1, each sending one valid
	// ClientHello from a new source port and then nothing; the oldest of
	// floodSockets open sockets is recycled, so new attempts keep coming.
	const floodSockets = 200
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var socks []net.Conn
		defer func() {
			for _, s := range socks {
				_ = s.Close()
			}
		}()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if len(socks) == floodSockets {
				_ = socks[0].Close()
				socks = socks[1:]
			}
			s, err := net.Dial("udp", l.Addr().String())
			if err != nil {
				t.Errorf("flood socket: %v", err)
				return
			}
			socks = append(socks, s)
			_, _ = s.Write(hello)
			time.Sleep(200 * time.Microsecond) // flood pacing, not an assertion
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
	}()
	waitFor(t, "the flood to fill its half-open quota and be refused", func() bool {
		s := metrics.Snapshot()
		return s.HalfOpenRefused >= floodSockets && s.HalfOpen == DefaultMaxHalfOpenPerSource
	})

	// A legitimate client on another source address completes its
	// handshake while the flood goes on. Eight stalled handshakes are in
	// progress for the whole handshake timeout, so a server that ran
	// handshakes one after the other could not finish it sooner.
	refusedBefore := metrics.Snapshot().HalfOpenRefused
	cfg := p.clientConfig(&p.clientCN)
	cfg.HandshakeTimeout = scfg.HandshakeTimeout
	start := time.Now()
	c, err := dialDTLS(testContext(t), legit, l.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("legitimate client during the flood: %v", err)
	}
	defer c.Close()
	if elapsed := time.Since(start); elapsed >= scfg.HandshakeTimeout {
		t.Errorf("legitimate handshake took %v, want less than the %v handshake timeout", elapsed, scfg.HandshakeTimeout)
	}
	echoOnce(t, c, jsonMessage(100))
	waitFor(t, "the flood to continue after the handshake", func() bool {
		return metrics.Snapshot().HalfOpenRefused > refusedBefore
	})
	s := metrics.Snapshot()
	if s.HalfOpen > int64(DefaultMaxHalfOpenPerSource) {
		t.Errorf("half-open handshakes during the flood: got %d, want at most %d", s.HalfOpen, DefaultMaxHalfOpenPerSource)
	}
	if s.ActiveAssociations != 1 {
		t.Errorf("active associations: got %d, want 1", s.ActiveAssociations)
	}
	t.Logf("flood: %d attempts refused, %d half-open", s.HalfOpenRefused, s.HalfOpen)
}

// Reference: DESIGN §4 "DTLS admission": at the global cap the oldest
// half-open handshake makes room for a new one.
func TestDTLSGlobalCapEvictsOldest(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	legit := loopbackAlias(t)
	p := getPKI(t)
	metrics := &Metrics{}
	scfg := p.serverConfig()
	scfg.Metrics = metrics
	scfg.MaxHalfOpen = 4
	scfg.MaxHalfOpenPerSource = 4
	l := listen(t, "dtls", scfg)
	serveEcho(t, l)
	hello := captureClientHello(t)
	for i := range 4 {
		s, err := net.Dial("udp", l.Addr().String())
		if err != nil {
			t.Fatalf("stalled socket: %v", err)
		}
		defer s.Close()
		if _, err := s.Write(hello); err != nil {
			t.Fatalf("stalled ClientHello: %v", err)
		}
		waitFor(t, fmt.Sprintf("%d half-open handshakes", i+1), func() bool {
			return metrics.Snapshot().HalfOpen == int64(i+1)
		})
	}
	c, err := dialDTLS(testContext(t), legit, l.Addr().String(), p.clientConfig(&p.clientCN))
	if err != nil {
		t.Fatalf("client at the global cap: %v", err)
	}
	defer c.Close()
	echoOnce(t, c, jsonMessage(100))
	s := metrics.Snapshot()
	if s.HalfOpenEvicted == 0 {
		t.Errorf("evictions: got 0, want at least 1")
	}
	waitFor(t, "the evicted handshake to be counted", func() bool {
		return metrics.Snapshot().HandshakeFailures[ReasonEvicted] > 0
	})
}

// Reference: DESIGN §3 (handshake timeout 10 s by default, configurable).
func TestDTLSStalledHandshakeTimesOut(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := getPKI(t)
	metrics := &Metrics{}
	scfg := p.serverConfig()
	scfg.Metrics = metrics
	scfg.HandshakeTimeout = 300 * time.Millisecond
	l := listen(t, "dtls", scfg)
	s, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial udp: %v", err)
	}
	defer s.Close()
	if _, err := s.Write(captureClientHello(t)); err != nil {
		t.Fatalf("write ClientHello: %v", err)
	}
	waitFor(t, "the stalled handshake to time out", func() bool {
		s := metrics.Snapshot()
		return s.HandshakeFailures[ReasonTimeout] == 1 && s.HalfOpen == 0
	})
}

// loopbackAlias is a second loopback source address (127.0.0.2) so that a
// legitimate client does not share the flood's source IP; skipped where the
// system does not route all of 127/8 to loopback.
func loopbackAlias(t *testing.T) *net.UDPAddr {
	t.Helper()
	a := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}
	c, err := net.ListenUDP("udp", a)
	if err != nil {
		t.Skipf("127.0.0.2 not usable as a source address: %v", err)
	}
	_ = c.Close()
	return a
}

// captureClientHello returns the first datagram a pion DTLS client sends:
// a valid ClientHello without cookie.
func captureClientHello(t *testing.T) []byte {
	t.Helper()
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen sink: %v", err)
	}
	defer sink.Close()
	uc, err := net.Dial("udp", sink.LocalAddr().String())
	if err != nil {
		t.Fatalf("dial sink: %v", err)
	}
	p := getPKI(t)
	pc, err := dtls.ClientWithOptions(dtlsnet.PacketConnFromConn(uc), uc.RemoteAddr(),
		dtls.WithCertificates(p.clientCN), dtls.WithRootCAs(p.ca.pool), dtls.WithServerName(testServerName))
	if err != nil {
		t.Fatalf("pion client: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = pc.HandshakeContext(ctx)
	}()
	buf := make([]byte, 2048)
	_ = sink.SetReadDeadline(time.Now().Add(testTimeout))
	n, _, err := sink.ReadFrom(buf)
	cancel()
	<-done
	_ = pc.Close()
	if err != nil {
		t.Fatalf("capture ClientHello: %v", err)
	}
	return buf[:n]
}
