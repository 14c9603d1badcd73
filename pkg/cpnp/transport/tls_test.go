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
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// Reference: RFC 8921 §8.1 ("CPNP ... can run over any transport
// protocol"), §13 (TLS with mutual authentication); docs/wire.md (TLS
// framing: newline-delimited JSON).
func TestTLSMutualAuthEcho(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := getPKI(t)
	metrics := &Metrics{}
	scfg := p.serverConfig()
	scfg.Metrics = metrics
	l := listen(t, "tls", scfg)
	serveEcho(t, l)
	c := mustDial(t, "tls", l, p.clientConfig(&p.clientURI))
	if got, want := c.Identity(), "cpnp-server"; got != want {
		t.Errorf("client sees server identity %q, want %q", got, want)
	}
	for _, n := range []int{12, 5 << 10, 200 << 10, MaxMessageSize} {
		msg := jsonMessage(n)
		ctx := testContext(t)
		if err := c.WriteMessage(ctx, msg); err != nil {
			t.Fatalf("write %d bytes: %v", n, err)
		}
		got, err := c.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read echo of %d bytes: %v", n, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("echo of %d bytes: got %d bytes back", n, len(got))
		}
	}
	if got := metrics.Snapshot().HandshakesCompleted; got != 1 {
		t.Errorf("server handshakes: got %d, want 1", got)
	}
}

// Reference: DESIGN §3 "Identity of a peer".
func TestTLSServerSeesIdentity(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := getPKI(t)
	l := listen(t, "tls", p.serverConfig())
	for _, tc := range []struct {
		name string
		cert tls.Certificate
		want string
	}{
		{"CN only", p.clientCN, testClientCN},
		{"URI SAN wins over CN", p.clientURI, testClientURI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accepted := acceptOne(t, l)
			mustDial(t, "tls", l, p.clientConfig(&tc.cert))
			sc := <-accepted
			if sc == nil {
				t.FailNow()
			}
			defer sc.Close()
			if got := sc.Identity(); got != tc.want {
				t.Errorf("server sees identity %q, want %q", got, tc.want)
			}
		})
	}
}

// Reference: RFC 8921 §13 (mutual authentication), §8.1 (server name).
func TestTLSRefusedHandshakes(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := getPKI(t)
	metrics := &Metrics{}
	scfg := p.serverConfig()
	scfg.Metrics = metrics
	l := listen(t, "tls", scfg)
	serveEcho(t, l)
	wrongName := p.clientConfig(&p.clientCN)
	wrongName.ServerName = "other.test"
	tests := []struct {
		name         string
		cfg          Config
		clientErr    error // at dial, or (TLS 1.3) at the first read
		serverReason HandshakeReason
	}{
		{"no client certificate", p.clientConfig(nil), ErrNoClientCertificate, ReasonNoClientCertificate},
		{"client certificate from unknown CA", p.clientConfig(&p.rogueClient), ErrPeerRefused, ReasonUnknownAuthority},
		{"client certificate without identity", p.clientConfig(&p.clientNoID), ErrPeerRefused, ReasonNoIdentity},
		{"wrong server name", wrongName, ErrBadServerName, ReasonPeerRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := metrics.Snapshot().HandshakeFailures[tc.serverReason]
			c, err := DialTLS(testContext(t), l.Addr().String(), tc.cfg)
			if err == nil {
				// TLS 1.3: the client finished before the server refused it.
				defer c.Close()
				_, err = c.ReadMessage(testContext(t))
				if err == nil {
					t.Fatal("read after a refused handshake: got a message, want an error")
				}
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("read after a refused TLS 1.3 handshake: got %v, want net.ErrClosed", err)
				}
			} else if !errors.Is(err, tc.clientErr) {
				t.Errorf("dial error: got %v, want %v", err, tc.clientErr)
			}
			waitFor(t, "server failure reason "+tc.serverReason.String(), func() bool {
				return metrics.Snapshot().HandshakeFailures[tc.serverReason] == before+1
			})
			good := mustDial(t, "tls", l, p.clientConfig(&p.clientCN))
			echoOnce(t, good, jsonMessage(64))
		})
	}
}

// rawTLSClient is a crypto/tls client that writes bytes of its choosing.
func rawTLSClient(t *testing.T, addr string) *tls.Conn {
	t.Helper()
	p := getPKI(t)
	tc, err := tls.Dial("tcp", addr, &tls.Config{
		Certificates: []tls.Certificate{p.clientCN},
		RootCAs:      p.ca.pool,
		ServerName:   testServerName,
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatalf("tls dial: %v", err)
	}
	t.Cleanup(func() { _ = tc.Close() })
	return tc
}

// Reference: docs/wire.md, TLS framing: "\n" ends a message, a preceding
// "\r" is tolerated, empty lines are skipped.
func TestTLSFraming(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := getPKI(t)
	l := listen(t, "tls", p.serverConfig())
	accepted := acceptOne(t, l)
	raw := rawTLSClient(t, l.Addr().String())
	sc := <-accepted
	if sc == nil {
		t.FailNow()
	}
	ctx := testContext(t)
	if _, err := raw.Write([]byte("{\"a\":1}\n\r\n\n{\"b\":2}\r\n{\"c\":")); err != nil {
		t.Fatalf("raw write: %v", err)
	}
	var got []string
	for range 2 {
		msg, err := sc.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		got = append(got, string(msg))
	}
	// A line split across reads, and a read interrupted by its context,
	// lose nothing.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := sc.ReadMessage(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read of an incomplete line: got %v, want context.DeadlineExceeded", err)
	}
	if _, err := raw.Write([]byte("3}\n")); err != nil {
		t.Fatalf("raw write: %v", err)
	}
	msg, err := sc.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	got = append(got, string(msg))
	if diff := cmp.Diff([]string{`{"a":1}`, `{"b":2}`, `{"c":3}`}, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}

	// WriteMessage frames with "\n" and refuses raw line breaks.
	if err := sc.WriteMessage(ctx, []byte(`{"d":4}`)); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, 64)
	n, err := raw.Read(buf)
	if err != nil {
		t.Fatalf("raw read: %v", err)
	}
	if got, want := string(buf[:n]), "{\"d\":4}\n"; got != want {
		t.Errorf("framed write: got %q, want %q", got, want)
	}
	for _, bad := range []string{"{\"e\":\n5}", "{\"e\":5}\r", ""} {
		if err := sc.WriteMessage(ctx, []byte(bad)); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("write %q: got %v, want ErrInvalidMessage", bad, err)
		}
	}
}

// Reference: docs/wire.md, TLS framing: at most MaxMessageSize per line;
// a longer line ends the association.
func TestTLSOversizeLine(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := getPKI(t)
	scfg := p.serverConfig()
	scfg.Reassembly.MaxMessageSize = 10000
	l := listen(t, "tls", scfg)
	for _, tc := range []struct {
		name    string
		payload string
		wantErr error
		want    string
	}{
		{"exactly the limit", strings.Repeat("x", 10000) + "\n", nil, strings.Repeat("x", 10000)},
		{"the limit with CRLF", strings.Repeat("y", 10000) + "\r\n", nil, strings.Repeat("y", 10000)},
		{"one byte over, terminated", strings.Repeat("z", 10001) + "\n", ErrMessageTooLarge, ""},
		{"unterminated flood", strings.Repeat("w", 50000), ErrMessageTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accepted := acceptOne(t, l)
			raw := rawTLSClient(t, l.Addr().String())
			sc := <-accepted
			if sc == nil {
				t.FailNow()
			}
			defer sc.Close()
			go func() { _, _ = raw.Write([]byte(tc.payload)) }()
			got, err := sc.ReadMessage(testContext(t))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("read: got %v, want %v", err, tc.wantErr)
			}
			if string(got) != tc.want {
				t.Errorf("read: got %d bytes, want %d", len(got), len(tc.want))
			}
			if tc.wantErr != nil {
				select {
				case <-sc.Done():
				default:
					t.Error("association still open after an oversize line")
				}
			}
		})
	}
}

// Reference: DESIGN §3 (idle association 5 min by default), for TLS too.
func TestTLSIdleExpiry(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := getPKI(t)
	scfg := p.serverConfig()
	scfg.IdleTimeout = 200 * time.Millisecond
	l := listen(t, "tls", scfg)
	accepted := acceptOne(t, l)
	c := mustDial(t, "tls", l, p.clientConfig(&p.clientCN))
	sc := <-accepted
	if sc == nil {
		t.FailNow()
	}
	<-sc.Done()
	if _, err := sc.ReadMessage(testContext(t)); !errors.Is(err, ErrIdleTimeout) {
		t.Errorf("server read after expiry: got %v, want ErrIdleTimeout", err)
	}
	if _, err := c.ReadMessage(testContext(t)); !errors.Is(err, net.ErrClosed) || !errors.Is(err, ErrPeerClosed) {
		t.Errorf("client read after server expiry: got %v, want net.ErrClosed caused by ErrPeerClosed", err)
	}
}

// Reference: DESIGN §4 "DTLS admission" (the same caps guard TLS).
func TestTLSHalfOpenPerSource(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := getPKI(t)
	metrics := &Metrics{}
	scfg := p.serverConfig()
	scfg.Metrics = metrics
	scfg.MaxHalfOpenPerSource = 2
	scfg.HandshakeTimeout = 5 * time.Second
	l := listen(t, "tls", scfg)
	serveEcho(t, l)
	// Three TCP connections that never start TLS: two are admitted, the
	// third is refused and closed at once.
	var stalled []net.Conn
	for range 3 {
		s, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatalf("dial tcp: %v", err)
		}
		defer s.Close()
		stalled = append(stalled, s)
	}
	waitFor(t, "one refusal", func() bool { return metrics.Snapshot().HalfOpenRefused == 1 })
	if got := metrics.Snapshot().HalfOpen; got != 2 {
		t.Errorf("half-open: got %d, want 2", got)
	}
	// Freeing a slot lets a legitimate client in from the same source.
	_ = stalled[0].Close()
	_ = stalled[1].Close()
	waitFor(t, "the stalled handshakes to end", func() bool { return metrics.Snapshot().HalfOpen == 0 })
	c := mustDial(t, "tls", l, p.clientConfig(&p.clientCN))
	echoOnce(t, c, jsonMessage(30))
}

// A TLS 1.2 client gets the RFC 7525 suites and the extended master
// secret (checkSession), and the same identity.
// Reference: RFC 8921 §13 ("the guidance given in [RFC7525] must be
// followed").
func TestTLS12Client(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := getPKI(t)
	l := listen(t, "tls", p.serverConfig())
	accepted := acceptOne(t, l)
	tc, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{
		Certificates: []tls.Certificate{p.clientURI},
		RootCAs:      p.ca.pool,
		ServerName:   testServerName,
		MaxVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatalf("tls 1.2 dial: %v", err)
	}
	defer tc.Close()
	sc := <-accepted
	if sc == nil {
		t.FailNow()
	}
	defer sc.Close()
	cs := tc.ConnectionState()
	if cs.Version != tls.VersionTLS12 || tls.CipherSuiteName(cs.CipherSuite) != "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" {
		t.Errorf("negotiated %x %s, want TLS 1.2 with ECDHE-ECDSA-AES128-GCM", cs.Version, tls.CipherSuiteName(cs.CipherSuite))
	}
	if err := checkSession(cs); err != nil {
		t.Errorf("checkSession: %v", err)
	}
	if got := sc.Identity(); got != testClientURI {
		t.Errorf("identity: got %q, want %q", got, testClientURI)
	}
}
