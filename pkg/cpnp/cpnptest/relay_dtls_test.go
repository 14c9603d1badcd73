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

package cpnptest_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/dtls/v3"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

// dtlsEchoServer is a mutually authenticated pion/dtls server that answers
// each message with "<client identity>|<message>".
type dtlsEchoServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func newDTLSEchoServer(t *testing.T, p *cpnptest.PKI, flight time.Duration) *dtlsEchoServer {
	t.Helper()
	ln, err := dtls.ListenWithOptions("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)},
		dtls.WithCertificates(p.Server),
		dtls.WithClientCAs(p.Pool),
		dtls.WithClientAuth(dtls.RequireAndVerifyClientCert),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithFlightInterval(flight),
	)
	if err != nil {
		t.Fatalf("dtls listen: %v", err)
	}
	s := &dtlsEchoServer{ln: ln}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *dtlsEchoServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c.(*dtls.Conn))
	}
}

func (s *dtlsEchoServer) serve(c *dtls.Conn) {
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.HandshakeContext(ctx); err != nil {
		return
	}
	identity := ""
	if st, ok := c.ConnectionState(); ok && len(st.PeerCertificates) > 0 {
		if leaf, err := x509.ParseCertificate(st.PeerCertificates[0]); err == nil {
			identity = pki.Identity(leaf) // DESIGN §3 "Identity of a peer"
		}
	}
	buf := make([]byte, 8192)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return // closed
		}
		if _, err := c.Write([]byte(identity + "|" + string(buf[:n]))); err != nil {
			return
		}
	}
}

// exchange sends msg over c until its answer arrives, as a CPNP client
// retransmits a request that got no answer (RFC 8921 §11.4); stale
// answers (duplicates of earlier ones) are skipped.
func exchange(c *dtls.Conn, msg, want string) error {
	buf := make([]byte, 8192)
	deadline := time.Now().Add(wait)
	for attempt := 1; time.Now().Before(deadline); attempt++ {
		if _, err := c.Write([]byte(msg)); err != nil {
			return fmt.Errorf("write %q: %w", msg, err)
		}
		if err := c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
			return fmt.Errorf("set read deadline: %w", err)
		}
		for {
			n, err := c.Read(buf)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break // retransmit; pion's deadline errors are net.Errors, not os.ErrDeadlineExceeded
			}
			if err != nil {
				return fmt.Errorf("read answer to %q (attempt %d): %w", msg, attempt, err)
			}
			if got := string(buf[:n]); got == want {
				return nil
			}
		}
	}
	return fmt.Errorf("no answer to %q within %v", msg, wait)
}

// TestRelayDTLS runs real DTLS 1.2 handshakes with mutual certificate
// authentication, and a few application messages, through a relay that
// damages traffic like issue 3's acceptance test: 20% drop, 5%
// duplication, reordering and jitter. pion/dtls retransmits handshake
// flights, so the handshakes complete; the messages are retransmitted by
// the client as CPNP's RETRANS_TIMER does. The server sees each client as a
// distinct peer with its own identity.
// Reference: RFC 8921 §8.1 (UDP secured with DTLS), §11.4, §13.
func TestRelayDTLS(t *testing.T) {
	t.Parallel()
	const flight = 100 * time.Millisecond // pion's handshake retransmission interval
	identities := []string{"acme", "globex", "spiffe://cpnp.dev/ns/initech"}
	p := cpnptest.NewPKI(t, identities...)
	srv := newDTLSEchoServer(t, p, flight)
	relay := newRelay(t, cpnptest.RelayConfig{
		Target: srv.ln.Addr().String(),
		Seed:   4, // loses the first HelloVerifyRequests and a ClientHello
		Drop:   0.2, Duplicate: 0.05, Reorder: 0.1,
		Delay: time.Millisecond, Jitter: 5 * time.Millisecond,
	})
	raddr := relay.Addr().(*net.UDPAddr)

	var wg sync.WaitGroup
	errs := make(chan error, len(identities))
	for _, id := range identities {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dtls.DialWithOptions("udp", raddr,
				dtls.WithCertificates(p.Client(id)),
				dtls.WithRootCAs(p.Pool),
				dtls.WithServerName(p.ServerName),
				dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
				dtls.WithFlightInterval(flight),
			)
			if err != nil {
				errs <- fmt.Errorf("%s: dial: %w", id, err)
				return
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			if err := c.HandshakeContext(ctx); err != nil {
				errs <- fmt.Errorf("%s: handshake through the lossy relay: %w", id, err)
				return
			}
			for i := range 5 {
				msg := fmt.Sprintf(`{"version":1,"method_code":1,"sequence_number":%d}`, i)
				if err := exchange(c, msg, id+"|"+msg); err != nil {
					errs <- fmt.Errorf("%s: %w", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	st := relay.Stats()
	t.Logf("relay stats: %+v", st)
	if st.Peers != len(identities) {
		t.Errorf("Peers: got %d, want %d (one upstream socket per client)", st.Peers, len(identities))
	}
	if st.ToServer.Dropped == 0 || st.ToClient.Dropped == 0 {
		t.Errorf("got Dropped %d to the server and %d to clients, want damage both ways (seed 4 drops early datagrams)",
			st.ToServer.Dropped, st.ToClient.Dropped)
	}
}
