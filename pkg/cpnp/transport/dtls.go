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
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"
	"github.com/pion/dtls/v3/pkg/protocol"
	"github.com/pion/dtls/v3/pkg/protocol/recordlayer"
	"github.com/pion/transport/v5/udp"
)

// dtlsReadBuffer holds one decrypted record: pion drops datagrams above
// 8192 bytes, so a record's plaintext is always smaller.
const dtlsReadBuffer = 8192

// dtlsReplayWindow is the DTLS anti-replay window (RFC 6347 §4.1.2.6);
// pion's default, set explicitly so that it is visible.
const dtlsReplayWindow = 64

// udpSocketBuffer is the socket buffer size asked for on both sides. A
// fragmented message is a burst of records (a 1 MiB message is about 1300
// datagrams, 3 MB of kernel buffer on Linux) that the receiving goroutine
// may not drain as fast as it arrives; the default 208 KiB would drop most
// of it. The kernel caps the request (net.core.rmem_max).
const udpSocketBuffer = 4 << 20

// dtlsCipherSuites are the RFC 7525 §4.2 suites pion offers: ECDHE with
// AES-GCM, for ECDSA and RSA certificates.
var dtlsCipherSuites = []dtls.CipherSuiteID{
	dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	dtls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	dtls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
}

// dtlsCommonOptions are the options of both sides.
func dtlsCommonOptions(cfg Config) []dtls.Option {
	opts := []dtls.Option{
		dtls.WithCipherSuites(dtlsCipherSuites...),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithReplayProtectionWindow(dtlsReplayWindow),
		dtls.WithLoggerFactory(pionLoggerFactory{log: cfg.Logger}),
	}
	if len(cfg.Certificates) > 0 {
		opts = append(opts, dtls.WithCertificates(cfg.Certificates...))
	}
	return opts
}

// newDTLSServerOptions builds the server options. Client authentication is
// tls.RequireAndVerifyClientCert in effect, built from two parts so that a
// refusal has a typed cause: pion's VerifyClientCertIfGiven verifies any
// client chain against ClientCAs (with the clientAuth extended key usage)
// and fails with the x509 error, and verifyClientIdentity refuses an empty
// chain (errVerifyNoClientCert) and a certificate without identity. pion's
// own RequireAndVerifyClientCert would refuse with an unexported error.
// HelloVerifyRequest cookies stay on (InsecureSkipVerifyHello false).
func newDTLSServerOptions(cfg Config, onAttempt func(net.Addr) error) []dtls.ServerOption {
	var opts []dtls.ServerOption
	for _, o := range dtlsCommonOptions(cfg) {
		opts = append(opts, o)
	}
	opts = append(opts,
		dtls.WithClientAuth(dtls.VerifyClientCertIfGiven),
		dtls.WithInsecureSkipVerifyHello(false),
		dtls.WithOnConnectionAttempt(onAttempt),
		dtls.WithVerifyConnection(func(s *dtls.State) error {
			return verifyClientIdentity(s.PeerCertificates, cfg.InsecureNoClientAuth)
		}),
	)
	if cfg.ClientCAs != nil {
		opts = append(opts, dtls.WithClientCAs(cfg.ClientCAs))
	}
	return opts
}

// verifyClientIdentity is the server's last check of a client chain that
// the TLS library has verified (if present): one must be present unless
// insecure, and its leaf must carry an identity.
func verifyClientIdentity(chain [][]byte, insecure bool) error {
	if len(chain) == 0 {
		if insecure {
			return nil
		}
		return errVerifyNoClientCert
	}
	id, err := identityFromRaw(chain)
	if err != nil {
		return err
	}
	if id == "" {
		return errVerifyNoIdentity
	}
	return nil
}

// dtlsListener is a Listener over one UDP socket.
type dtlsListener struct {
	*listenerCore
	ln      net.Listener
	cookies *cookieListener
	pending *attempt // set by onAttempt, taken by acceptLoop (same goroutine)
}

// ListenDTLS listens on the UDP address addr (host:port; port 0 picks one)
// for DTLS 1.2 associations (RFC 8921 §8.1, default port CPNP_PORT 8921 is
// the caller's choice). cfg must hold a server certificate and, unless
// InsecureNoClientAuth, ClientCAs.
func ListenDTLS(addr string, cfg Config) (Listener, error) {
	if err := cfg.validateServer(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	laddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen dtls %s: %w", addr, err)
	}
	l := &dtlsListener{listenerCore: newListenerCore("dtls", cfg)}
	// The UDP demultiplexer pion's own Listen would build (a connection
	// per remote address, created by a handshake record), with the socket
	// buffers of udpSocketBuffer, wrapped to watch cookie exchanges.
	lc := udp.ListenConfig{
		AcceptFilter:    isHandshakeDatagram,
		ReadBufferSize:  udpSocketBuffer,
		WriteBufferSize: udpSocketBuffer,
	}
	inner, err := lc.Listen("udp", laddr)
	if err != nil {
		l.cancel()
		return nil, fmt.Errorf("listen dtls %s: %w", addr, err)
	}
	l.cookies = &cookieListener{PacketListener: dtlsnet.PacketListenerFromListener(inner)}
	ln, err := dtls.NewListenerWithOptions(l.cookies, newDTLSServerOptions(cfg, l.onAttempt)...)
	if err != nil {
		l.cancel()
		return nil, errors.Join(fmt.Errorf("listen dtls %s: %w", addr, err), inner.Close())
	}
	l.ln = ln
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// onAttempt is pion's connection-attempt hook: it runs in Accept, when the
// first handshake record from a new remote address arrives, before pion
// creates any state for it.
func (l *dtlsListener) onAttempt(remote net.Addr) error {
	cc := l.cookies.take()
	a, err := l.admit(remote)
	if err != nil {
		return err
	}
	if cc != nil {
		slot, m := a.slot, l.cfg.Metrics
		cc.watch(func() {
			if l.adm.verify(slot) {
				m.verified()
			}
		})
		a.cookie = cc
	}
	l.pending = a
	return nil
}

// isHandshakeDatagram is pion's filter of the datagrams that may open a
// connection: the first record is a handshake record.
func isHandshakeDatagram(packet []byte) bool {
	pkts, err := recordlayer.UnpackDatagram(packet)
	if err != nil || len(pkts) < 1 {
		return false
	}
	h := &recordlayer.Header{}
	if err := h.Unmarshal(pkts[0]); err != nil {
		return false
	}
	return h.ContentType == protocol.ContentTypeHandshake
}

func (l *dtlsListener) acceptLoop() {
	defer l.wg.Done()
	for {
		nc, err := l.ln.Accept()
		a := l.pending
		l.pending = nil
		if err != nil {
			l.abandon(a)
			if errors.Is(err, ErrHalfOpenLimit) {
				continue
			}
			if l.ctx.Err() != nil {
				l.endLoop(nil)
				return
			}
			// pion fails Accept only when its socket is gone or its config
			// is unusable; neither heals.
			l.log.Error(err, "DTLS listener stopped accepting")
			l.endLoop(err)
			return
		}
		pc, ok := nc.(*dtls.Conn)
		if !ok || a == nil {
			l.abandon(a)
			_ = nc.Close()
			continue
		}
		l.handshakeAsync(a, func(ctx context.Context) (Conn, error) {
			if err := pc.HandshakeContext(ctx); err != nil {
				return nil, err
			}
			c, err := newDTLSConn(pc, l.cfg)
			if err != nil {
				return nil, err
			}
			c.onClose = func() { l.untrack(c) }
			c.startIdle()
			return c, nil
		}, func() { _ = pc.Close() })
	}
}

// Addr implements Listener.
func (l *dtlsListener) Addr() net.Addr { return l.ln.Addr() }

// Close implements Listener.
func (l *dtlsListener) Close() error { return l.close(l.ln.Close) }

// DialDTLS opens a DTLS 1.2 association with the server at addr (host:port)
// and completes the handshake within cfg.HandshakeTimeout (or ctx). The
// server certificate is verified against cfg.RootCAs and cfg.ServerName
// (default: the host of addr); the first of cfg.Certificates is presented.
// A refused handshake returns a *HandshakeError.
func DialDTLS(ctx context.Context, addr string, cfg Config) (Conn, error) {
	return dialDTLS(ctx, nil, addr, cfg)
}

// dialDTLS is DialDTLS from a chosen local address (tests use it to dial
// from another loopback address).
func dialDTLS(ctx context.Context, laddr *net.UDPAddr, addr string, cfg Config) (Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	serverName, err := serverNameFor(addr, cfg.ServerName)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{}
	if laddr != nil {
		d.LocalAddr = laddr
	}
	// A connected socket: the kernel drops datagrams from other sources.
	uc, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial dtls %s: %w", addr, err)
	}
	if u, ok := uc.(*net.UDPConn); ok {
		_ = u.SetReadBuffer(udpSocketBuffer) // best effort, see udpSocketBuffer
		_ = u.SetWriteBuffer(udpSocketBuffer)
	}
	opts := []dtls.ClientOption{dtls.WithServerName(serverName)}
	for _, o := range dtlsCommonOptions(cfg) {
		opts = append(opts, o)
	}
	if cfg.RootCAs != nil {
		opts = append(opts, dtls.WithRootCAs(cfg.RootCAs))
	}
	if len(cfg.Certificates) > 0 {
		// Present our certificate even when its issuer is not among the
		// server's acceptable CAs: the server then refuses it as
		// unknown_authority instead of seeing no certificate at all.
		cert := &cfg.Certificates[0]
		opts = append(opts, dtls.WithGetClientCertificate(
			func(*dtls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }))
	}
	pc, err := dtls.ClientWithOptions(dtlsnet.PacketConnFromConn(uc), uc.RemoteAddr(), opts...)
	if err != nil {
		_ = uc.Close()
		return nil, fmt.Errorf("dial dtls %s: %w", addr, err)
	}
	hctx, cancel := context.WithTimeout(ctx, cfg.HandshakeTimeout)
	defer cancel()
	if err := pc.HandshakeContext(hctx); err != nil {
		_ = pc.Close()
		he := classifyHandshake("dtls", uc.RemoteAddr(), err, len(cfg.Certificates) > 0, true, hctx, ctx)
		cfg.Metrics.handshakeFailed(he.Reason)
		return nil, he
	}
	c, err := newDTLSConn(pc, cfg)
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("dial dtls %s: %w", addr, err)
	}
	c.startIdle()
	cfg.Metrics.handshakeDone()
	return c, nil
}

// serverNameFor is the name the client verifies: configured, else the
// host of addr.
func serverNameFor(addr, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("server name from %q: %w", addr, err)
	}
	return host, nil
}

// dtlsConn is a Conn over a pion DTLS connection.
type dtlsConn struct {
	assoc
	pc     *dtls.Conn
	limit  int
	limits ReassemblyLimits

	rmu   sync.Mutex // one ReadMessage at a time
	rdl   ctxDeadline
	buf   []byte       // read buffer, allocated on the first read
	reasm *reassembler // allocated on the first fragment

	wmu sync.Mutex // one message's fragments at a time
	wdl ctxDeadline
}

var _ BorrowingConn = (*dtlsConn)(nil)

// newDTLSConn wraps a connection whose handshake completed.
func newDTLSConn(pc *dtls.Conn, cfg Config) (*dtlsConn, error) {
	state, ok := pc.ConnectionState()
	if !ok {
		return nil, errors.New("dtls connection state unavailable")
	}
	identity, err := identityFromRaw(state.PeerCertificates)
	if err != nil {
		return nil, err
	}
	c := &dtlsConn{
		pc:     pc,
		limit:  cfg.DatagramLimit,
		limits: cfg.Reassembly,
	}
	c.rdl.set = pc.SetReadDeadline
	c.wdl.set = pc.SetWriteDeadline
	c.initAssoc(identity, pc.LocalAddr(), pc.RemoteAddr(), cfg, func() error {
		c.rdl.release()
		c.wdl.release()
		return pc.Close()
	})
	return c, nil
}

// ReadMessage implements Conn.
func (c *dtlsConn) ReadMessage(ctx context.Context) ([]byte, error) {
	return c.readMessage(ctx, false)
}

// ReadMessageBorrowed implements BorrowingConn: a message that came in one
// record is returned in the read buffer, which the next read overwrites; a
// reassembled one is the reassembler's fresh copy either way.
func (c *dtlsConn) ReadMessageBorrowed(ctx context.Context) ([]byte, error) {
	return c.readMessage(ctx, true)
}

// readMessage reads the next message; borrow returns a message of one
// record in c.buf rather than in a copy.
func (c *dtlsConn) readMessage(ctx context.Context, borrow bool) ([]byte, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.buf == nil {
		c.buf = make([]byte, dtlsReadBuffer)
	}
	for {
		if c.isClosed() {
			return nil, c.closedErr()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := c.readRecord(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			continue
		}
		c.touch()
		data := c.buf[:n]
		if !isFragment(data) {
			c.metrics.messageIn()
			if borrow {
				return data, nil
			}
			return bytes.Clone(data), nil
		}
		if msg := c.addFragment(data); msg != nil {
			c.metrics.messageIn()
			return msg, nil
		}
	}
}

// readRecord reads one record's plaintext into c.buf.
func (c *dtlsConn) readRecord(ctx context.Context) (int, error) {
	for {
		c.rdl.arm(ctx)
		n, err := c.pc.Read(c.buf)
		switch {
		case err == nil:
			return n, nil
		case c.isClosed():
			return 0, c.closedErr()
		case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, dtls.ErrConnClosed):
			// pion closed the connection: close_notify or a fatal alert.
			_ = c.shutdown(errPeerClosed)
			return 0, c.closedErr()
		case isTimeout(err):
			return 0, ctxError(ctx)
		default:
			// A non-fatal error pion passes up (a warning alert, an
			// undecodable record); the association goes on.
			c.log.V(4).Info("Ignored DTLS read error", "error", err.Error())
		}
	}
}

// addFragment feeds one envelope to the reassembler and returns the message
// it completes, if any. Dropped fragments are counted and logged.
func (c *dtlsConn) addFragment(data []byte) []byte {
	f, err := parseFragment(data)
	if err != nil {
		c.metrics.fragmentDropped(DropMalformed)
		c.log.V(4).Info("Dropped fragment", "reason", DropMalformed.String(), "error", err.Error())
		return nil
	}
	if c.reasm == nil {
		c.reasm = newReassembler(c.limits)
	}
	msg, err := c.reasm.add(f, time.Now())
	var fe *fragmentError
	switch {
	case errors.As(err, &fe):
		c.metrics.fragmentDropped(fe.Reason)
		c.log.V(4).Info("Dropped fragment", "reason", fe.Reason.String(), "error", fe.Error())
	case err != nil:
		c.log.V(5).Info("Ignored duplicate fragment", "id", f.ID, "index", f.Index)
	}
	return msg
}

// WriteMessage implements Conn.
func (c *dtlsConn) WriteMessage(ctx context.Context, msg []byte) error {
	if len(msg) == 0 {
		return fmt.Errorf("write message: %w: empty", ErrInvalidMessage)
	}
	if len(msg) > c.limits.MaxMessageSize {
		return fmt.Errorf("write message: %w: %d bytes, limit %d", ErrMessageTooLarge, len(msg), c.limits.MaxMessageSize)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.isClosed() {
		return c.closedErr()
	}
	c.wdl.arm(ctx)
	var err error
	if len(msg) <= c.limit {
		err = c.writeRecord(ctx, msg)
	} else {
		err = splitMessage(msg, c.limit, c.limits.MaxFragments, newFragmentID(), func(env []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return c.writeRecord(ctx, env)
		})
	}
	if err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	c.touch()
	c.metrics.messageOut()
	return nil
}

func (c *dtlsConn) writeRecord(ctx context.Context, b []byte) error {
	_, err := c.pc.Write(b)
	switch {
	case err == nil:
		return nil
	case c.isClosed():
		return c.closedErr()
	case errors.Is(err, dtls.ErrConnClosed), errors.Is(err, net.ErrClosed):
		_ = c.shutdown(errPeerClosed)
		return c.closedErr()
	case isTimeout(err):
		return ctxError(ctx)
	}
	return err
}
