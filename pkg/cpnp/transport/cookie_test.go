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
	"bytes"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// handshakeDatagram is one record holding one unfragmented handshake
// message of type typ with body.
func handshakeDatagram(typ byte, body []byte) []byte {
	n := len(body)
	b := []byte{contentHandshake, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, byte((n + handshakeHeaderLen) >> 8), byte(n + handshakeHeaderLen)}
	b = append(b, typ, byte(n>>16), byte(n>>8), byte(n), 0, 0, 0, 0, 0, byte(n>>16), byte(n>>8), byte(n))
	return append(b, body...)
}

// clientHelloBody is a ClientHello body up to its cookie, then a suite.
func clientHelloBody(sessionID, cookie []byte) []byte {
	b := append([]byte{0xfe, 0xfd}, make([]byte, helloRandomLen)...)
	b = append(b, byte(len(sessionID)))
	b = append(b, sessionID...)
	b = append(b, byte(len(cookie)))
	b = append(b, cookie...)
	return append(b, 0, 2, 0xc0, 0x2b)
}

// TestCookieParsers: the cookie of a HelloVerifyRequest and of a
// ClientHello are found in well-formed datagrams; anything else (another
// message, a later fragment, another epoch, truncation) yields none and
// never panics.
// Reference: RFC 6347 §4.1 (record layer), §4.2.1 (cookie exchange), §4.2.2.
func TestCookieParsers(t *testing.T) {
	t.Parallel()
	cookie := []byte("0123456789abcdefghij")
	hvr := handshakeDatagram(typeHelloVerify, append([]byte{0xfe, 0xff, byte(len(cookie))}, cookie...))
	ch := handshakeDatagram(typeClientHello, clientHelloBody([]byte{7, 7, 7}, cookie))
	chNoCookie := handshakeDatagram(typeClientHello, clientHelloBody(nil, nil))
	laterFragment := append([]byte(nil), ch...)
	laterFragment[recordHeaderLen+8] = 1 // fragment_offset 1
	epoch1 := append([]byte(nil), ch...)
	epoch1[4] = 1
	tests := map[string]struct {
		data       []byte
		hvr, hello []byte // the cookies wanted; nil: none found
	}{
		"HelloVerifyRequest":          {data: hvr, hvr: cookie},
		"ClientHello with cookie":     {data: ch, hello: cookie},
		"ClientHello without cookie":  {data: chNoCookie, hello: []byte{}},
		"a later fragment":            {data: laterFragment},
		"epoch 1":                     {data: epoch1},
		"application data":            {data: append([]byte{23}, ch[1:]...)},
		"empty":                       {data: nil},
		"record header only":          {data: ch[:recordHeaderLen]},
		"truncated in the random":     {data: ch[:recordHeaderLen+handshakeHeaderLen+10]},
		"truncated in the cookie":     {data: ch[:len(ch)-8]},
		"truncated HelloVerify":       {data: hvr[:len(hvr)-1]},
		"record shorter than its msg": {data: append(append([]byte(nil), ch[:11]...), append([]byte{0, 20}, ch[13:]...)...)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := helloVerifyCookie(tc.data)
			if ok != (tc.hvr != nil) || !bytes.Equal(got, tc.hvr) {
				t.Errorf("helloVerifyCookie: got %q %v, want %q", got, ok, tc.hvr)
			}
			got, ok = clientHelloCookie(tc.data)
			if ok != (tc.hello != nil) || !bytes.Equal(got, tc.hello) {
				t.Errorf("clientHelloCookie: got %q %v, want %q", got, ok, tc.hello)
			}
		})
	}
}

// Reference: DESIGN §4 "DTLS admission"; RFC 6347 §4.2.1: at the global
// cap, handshakes whose client returned the cookie are evicted only when no
// other is left.
func TestAdmissionPrefersVerified(t *testing.T) {
	t.Parallel()
	a := newAdmission(3, 5)
	src := netip.MustParseAddr("192.0.2.1")
	var cancelled []string
	admit := func(name string) *halfOpen {
		t.Helper()
		h, ev, err := a.admit(src, func(error) { cancelled = append(cancelled, name) })
		if err != nil {
			t.Fatalf("admit %s: %v", name, err)
		}
		if ev != nil {
			ev.cancel(ErrEvicted)
		}
		return h
	}
	legit := admit("legit")
	if !a.verify(legit) || a.verify(legit) {
		t.Fatal("verify: want true once, then false")
	}
	admit("stall1")
	admit("stall2")
	admit("stall3") // evicts stall1, not the older legit
	admit("stall4") // evicts stall2
	if diff := cmp.Diff([]string{"stall1", "stall2"}, cancelled); diff != "" {
		t.Errorf("evicted (-want +got):\n%s", diff)
	}
	// Only verified handshakes left: the oldest of them goes.
	b := newAdmission(2, 2)
	v1, _, _ := b.admit(src, func(error) {})
	v2, _, _ := b.admit(src, func(error) {})
	b.verify(v1)
	b.verify(v2)
	if _, ev, _ := b.admit(netip.MustParseAddr("192.0.2.2"), func(error) {}); ev != v1 {
		t.Errorf("all verified: got %v evicted, want the oldest", ev)
	}
	if !a.release(legit) || a.verify(legit) {
		t.Error("release of the verified handshake: want true, and no verify after")
	}
	if got, want := a.len(), 2; got != want {
		t.Errorf("len: got %d, want %d", got, want)
	}
}

// gateRelay forwards datagrams between one client and a server; once the
// client has sent pass datagrams it holds the client's next ones until
// open is called.
type gateRelay struct {
	client net.PacketConn // the client talks to this
	server net.Conn       // connected to the server
	pass   int

	mu       sync.Mutex
	peer     net.Addr
	sent     int
	held     [][]byte
	released bool
	heldOne  chan struct{}
	once     sync.Once
}

func newGateRelay(t *testing.T, serverAddr string, pass int) *gateRelay {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := net.Dial("udp", serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	r := &gateRelay{client: pc, server: sc, pass: pass, heldOne: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // client -> server
		defer wg.Done()
		buf := make([]byte, 8192)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			d := append([]byte(nil), buf[:n]...)
			r.mu.Lock()
			r.peer = from
			r.sent++
			hold := r.sent > r.pass && !r.released
			if hold {
				r.held = append(r.held, d)
			}
			r.mu.Unlock()
			if hold {
				r.once.Do(func() { close(r.heldOne) })
				continue
			}
			_, _ = sc.Write(d)
		}
	}()
	go func() { // server -> client
		defer wg.Done()
		buf := make([]byte, 8192)
		for {
			n, err := sc.Read(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			peer := r.peer
			r.mu.Unlock()
			if peer != nil {
				_, _ = pc.WriteTo(buf[:n], peer)
			}
		}
	}()
	t.Cleanup(func() {
		_ = pc.Close()
		_ = sc.Close()
		wg.Wait()
	})
	return r
}

// open forwards what was held and everything after it.
func (r *gateRelay) open() {
	r.mu.Lock()
	held := r.held
	r.held, r.released = nil, true
	r.mu.Unlock()
	for _, d := range held {
		_, _ = r.server.Write(d)
	}
}

// TestDTLSVerifiedHandshakeSurvivesFlood: a client that returned its
// cookie and then stalls (its next flight held back) is not evicted by
// stalled ClientHellos that fill the table after it; its handshake then
// completes.
// Reference: DESIGN §4 "DTLS admission" (one slow or spoofed peer never
// delays another); RFC 6347 §4.2.1; RFC 8921 §13.
func TestDTLSVerifiedHandshakeSurvivesFlood(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	floodSource := loopbackAlias(t) // the relay (the client) is on 127.0.0.1
	p := getPKI(t)
	metrics := &Metrics{}
	scfg := p.serverConfig()
	scfg.Metrics = metrics
	scfg.MaxHalfOpen = 4
	scfg.MaxHalfOpenPerSource = 4
	l := listen(t, "dtls", scfg)
	serveEcho(t, l)
	hello := captureClientHello(t)
	// ClientHello and the ClientHello with the cookie pass; the client's
	// certificate flight is held.
	relay := newGateRelay(t, l.Addr().String(), 2)

	type result struct {
		c   Conn
		err error
	}
	dialed := make(chan result, 1)
	go func() {
		ccfg := p.clientConfig(&p.clientCN)
		ccfg.HandshakeTimeout = testTimeout
		c, err := DialDTLS(testContext(t), relay.client.LocalAddr().String(), ccfg)
		dialed <- result{c, err}
	}()
	select {
	case <-relay.heldOne:
	case <-time.After(testTimeout):
		t.Fatal("the client's flight after the cookie exchange never came")
	}
	waitFor(t, "the cookie exchange to be seen", func() bool { return metrics.Snapshot().HalfOpenVerified == 1 })

	// Fill the table behind the client, then push one more.
	for i := range 4 {
		s, err := net.DialUDP("udp", floodSource, l.Addr().(*net.UDPAddr))
		if err != nil {
			t.Fatalf("stalled socket: %v", err)
		}
		defer s.Close()
		if _, err := s.Write(hello); err != nil {
			t.Fatalf("stalled ClientHello: %v", err)
		}
		want := min(int64(i+2), 4)
		waitFor(t, "the stalled ClientHello to be admitted", func() bool {
			s := metrics.Snapshot()
			return s.HalfOpen == want && s.HalfOpenEvicted == uint64(max(0, i-2))
		})
	}
	waitFor(t, "the evicted handshake to end", func() bool {
		return metrics.Snapshot().HandshakeFailures[ReasonEvicted] == 1
	})

	relay.open()
	var res result
	select {
	case res = <-dialed:
	case <-time.After(testTimeout):
		t.Fatal("the verified client's handshake did not end")
	}
	if res.err != nil {
		var he *HandshakeError
		errors.As(res.err, &he)
		t.Fatalf("verified client after the flood: got %v (%+v), want a completed handshake", res.err, he)
	}
	defer res.c.Close()
	echoOnce(t, res.c, jsonMessage(100))
	if got := metrics.Snapshot().HalfOpenEvicted; got != 1 {
		t.Errorf("evictions: got %d, want 1 (a stalled ClientHello)", got)
	}
}
