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
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// tlsReadBuffer is the bufio size of a TLS association; longer lines are
// accumulated up to ReassemblyLimits.MaxMessageSize.
const tlsReadBuffer = 4096

// emsLabel is the exporter label used to check that a TLS 1.2 session has
// the extended master secret: crypto/tls refuses to export keying material
// from a TLS 1.2 session without it (RFC 7627, Go 1.22+).
const emsLabel = "EXPORTER-cpnp-extended-master-secret-check"

// newTLSServerConfig mirrors newDTLSServerOptions for crypto/tls:
// VerifyClientCertIfGiven plus VerifyConnection make
// RequireAndVerifyClientCert with typed refusals.
func newTLSServerConfig(cfg Config) *tls.Config {
	return &tls.Config{
		Certificates: cfg.Certificates,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    cfg.ClientCAs,
		MinVersion:   tls.VersionTLS12,
		CipherSuites: tlsCipherSuites,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return verifyClientIdentity(nil, cfg.InsecureNoClientAuth)
			}
			if PeerIdentity(cs.PeerCertificates[0]) == "" {
				return errVerifyNoIdentity
			}
			return nil
		},
	}
}

// newTLSClientConfig is the client side; like the DTLS client it presents
// its first certificate whatever CAs the server names as acceptable.
func newTLSClientConfig(cfg Config, serverName string) *tls.Config {
	c := &tls.Config{
		RootCAs:      cfg.RootCAs,
		ServerName:   serverName,
		MinVersion:   tls.VersionTLS12,
		CipherSuites: tlsCipherSuites,
	}
	if len(cfg.Certificates) > 0 {
		cert := &cfg.Certificates[0]
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return c
}

// checkSession refuses a TLS 1.2 session without the extended master
// secret (TLS 1.3 always binds the session hash).
func checkSession(cs tls.ConnectionState) error {
	if cs.Version != tls.VersionTLS12 {
		return nil
	}
	if _, err := cs.ExportKeyingMaterial(emsLabel, nil, 1); err != nil {
		return fmt.Errorf("%w: %w", ErrInsecureSession, err)
	}
	return nil
}

// tlsListener is a Listener over TCP.
type tlsListener struct {
	*listenerCore
	ln     net.Listener
	tlsCfg *tls.Config
}

// ListenTLS listens on the TCP address addr for TLS associations, the
// alternative transport (RFC 8921 §8.1 "any transport protocol", §13). It
// applies the same mutual authentication, identity, half-open caps,
// handshake and idle timeouts as ListenDTLS; messages are newline-delimited.
func ListenTLS(addr string, cfg Config) (Listener, error) {
	if err := cfg.validateServer(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen tls %s: %w", addr, err)
	}
	l := &tlsListener{listenerCore: newListenerCore("tls", cfg), ln: ln, tlsCfg: newTLSServerConfig(cfg)}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Accept errors other than a closed listener (EMFILE, ...) are retried
// after a growing pause, as net/http does.
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

func (l *tlsListener) acceptLoop() {
	defer l.wg.Done()
	var backoff time.Duration
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if l.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				l.endLoop(nil)
				return
			}
			backoff = min(max(2*backoff, minAcceptBackoff), maxAcceptBackoff)
			l.log.V(1).Info("Retrying TCP accept", "error", err.Error(), "backoff", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-l.ctx.Done():
				t.Stop()
				l.endLoop(nil)
				return
			}
			continue
		}
		backoff = 0
		a, err := l.admit(nc.RemoteAddr())
		if err != nil {
			_ = nc.Close()
			continue
		}
		tc := tls.Server(nc, l.tlsCfg)
		l.handshakeAsync(a, func(ctx context.Context) (Conn, error) {
			if err := tc.HandshakeContext(ctx); err != nil {
				return nil, err
			}
			c, err := newTLSConn(tc, l.cfg)
			if err != nil {
				return nil, err
			}
			c.onClose = func() { l.untrack(c) }
			c.startIdle()
			return c, nil
		}, func() { _ = tc.Close() })
	}
}

// Addr implements Listener.
func (l *tlsListener) Addr() net.Addr { return l.ln.Addr() }

// Close implements Listener.
func (l *tlsListener) Close() error { return l.close(l.ln.Close) }

// DialTLS opens a TLS association with the server at the TCP address addr,
// with the same verification as DialDTLS. With TLS 1.3 the server checks
// the client certificate after the client finished its handshake, so a
// refused client may learn it from its first ReadMessage instead.
func DialTLS(ctx context.Context, addr string, cfg Config) (Conn, error) {
	return dialTLS(ctx, nil, addr, cfg)
}

func dialTLS(ctx context.Context, laddr *net.TCPAddr, addr string, cfg Config) (Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	serverName, err := serverNameFor(addr, cfg.ServerName)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, cfg.HandshakeTimeout)
	defer cancel()
	d := net.Dialer{}
	if laddr != nil {
		d.LocalAddr = laddr
	}
	nc, err := d.DialContext(hctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial tls %s: %w", addr, err)
	}
	tc := tls.Client(nc, newTLSClientConfig(cfg, serverName))
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = tc.Close()
		he := classifyHandshake("tls", nc.RemoteAddr(), err, len(cfg.Certificates) > 0, true, hctx, ctx)
		cfg.Metrics.handshakeFailed(he.Reason)
		return nil, he
	}
	c, err := newTLSConn(tc, cfg)
	if err != nil {
		_ = tc.Close()
		he := classifyHandshake("tls", nc.RemoteAddr(), err, len(cfg.Certificates) > 0, true, hctx, ctx)
		cfg.Metrics.handshakeFailed(he.Reason)
		return nil, he
	}
	c.startIdle()
	cfg.Metrics.handshakeDone()
	return c, nil
}

// tlsConn is a Conn over TLS with newline-delimited JSON framing.
type tlsConn struct {
	assoc
	tc      *tls.Conn
	maxLine int

	rmu     sync.Mutex
	rdl     ctxDeadline
	br      *bufio.Reader
	partial []byte // the start of a line whose end has not arrived

	wmu sync.Mutex
	wdl ctxDeadline
}

func newTLSConn(tc *tls.Conn, cfg Config) (*tlsConn, error) {
	cs := tc.ConnectionState()
	if err := checkSession(cs); err != nil {
		return nil, err
	}
	identity := ""
	if len(cs.PeerCertificates) > 0 {
		identity = PeerIdentity(cs.PeerCertificates[0])
	}
	c := &tlsConn{tc: tc, maxLine: cfg.Reassembly.MaxMessageSize}
	c.rdl.set = tc.SetReadDeadline
	c.wdl.set = tc.SetWriteDeadline
	c.initAssoc(identity, tc.LocalAddr(), tc.RemoteAddr(), cfg, func() error {
		c.rdl.release()
		c.wdl.release()
		return tc.Close()
	})
	return c, nil
}

var _ BorrowingConn = (*tlsConn)(nil)

// ReadMessage implements Conn: the next non-empty line without its "\n"
// (or "\r\n"). A line longer than MaxMessageSize closes the association
// with ErrMessageTooLarge: the stream cannot be trusted to resynchronise.
func (c *tlsConn) ReadMessage(ctx context.Context) ([]byte, error) {
	return c.readMessage(ctx, false)
}

// ReadMessageBorrowed implements BorrowingConn: a line that fits the read
// buffer is returned in it, which the next read overwrites; a longer one
// is assembled in a fresh slice either way.
func (c *tlsConn) ReadMessageBorrowed(ctx context.Context) ([]byte, error) {
	return c.readMessage(ctx, true)
}

// readMessage reads the next line; borrow returns a line that lies whole in
// the read buffer without copying it.
func (c *tlsConn) readMessage(ctx context.Context, borrow bool) ([]byte, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.br == nil {
		c.br = bufio.NewReaderSize(c.tc, tlsReadBuffer)
	}
	for {
		if c.isClosed() {
			return nil, c.closedErr()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c.rdl.arm(ctx)
		chunk, err := c.br.ReadSlice('\n')
		if len(chunk) > 0 {
			c.touch()
		}
		if c.overLimit(chunk, err == nil) {
			_ = c.shutdown(ErrMessageTooLarge)
			return nil, fmt.Errorf("read message: %w: line longer than %d bytes", ErrMessageTooLarge, c.maxLine)
		}
		switch {
		case err == nil:
			msg := c.takeLine(chunk, borrow)
			if len(msg) == 0 {
				continue // an empty line
			}
			c.metrics.messageIn()
			return msg, nil
		case errors.Is(err, bufio.ErrBufferFull):
			c.partial = append(c.partial, chunk...)
		default:
			c.partial = append(c.partial, chunk...)
			return nil, c.readError(ctx, err)
		}
	}
}

// overLimit reports whether the line made of c.partial and chunk exceeds
// maxLine; complete says chunk ends with the line's '\n'. An incomplete
// line may still shed one '\r' of a "\r\n" terminator.
func (c *tlsConn) overLimit(chunk []byte, complete bool) bool {
	total := len(c.partial) + len(chunk)
	if !complete {
		return total > c.maxLine+1
	}
	n := total - 1 // without '\n'
	var prev byte
	switch {
	case len(chunk) >= 2:
		prev = chunk[len(chunk)-2]
	case len(c.partial) > 0:
		prev = c.partial[len(c.partial)-1]
	}
	if prev == '\r' {
		n--
	}
	return n > c.maxLine
}

// takeLine returns the line that chunk (ending in '\n') completes, without
// its terminator, and resets the partial line. With borrow, a line that is
// all in chunk is returned as a slice of chunk (the read buffer).
func (c *tlsConn) takeLine(chunk []byte, borrow bool) []byte {
	var line []byte
	switch {
	case len(c.partial) == 0 && borrow:
		line = chunk
	case len(c.partial) == 0:
		line = bytes.Clone(chunk)
	default:
		line = append(c.partial, chunk...)
		c.partial = nil
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

func (c *tlsConn) readError(ctx context.Context, err error) error {
	switch {
	case c.isClosed():
		return c.closedErr()
	case isTimeout(err):
		return ctxError(ctx)
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		_ = c.shutdown(errPeerClosed)
		return c.closedErr()
	}
	// Any other TLS error (a bad record, an alert) is fatal to the stream.
	_ = c.shutdown(fmt.Errorf("%w: %w", ErrPeerClosed, err))
	return fmt.Errorf("read message: %w", c.closedErr())
}

// WriteMessage implements Conn: msg followed by "\n" in one TLS record
// (for messages below the record size).
func (c *tlsConn) WriteMessage(ctx context.Context, msg []byte) error {
	if len(msg) == 0 {
		return fmt.Errorf("write message: %w: empty", ErrInvalidMessage)
	}
	if len(msg) > c.maxLine {
		return fmt.Errorf("write message: %w: %d bytes, limit %d", ErrMessageTooLarge, len(msg), c.maxLine)
	}
	if bytes.ContainsAny(msg, "\r\n") {
		return fmt.Errorf("write message: %w: raw CR or LF in a newline-delimited stream", ErrInvalidMessage)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	line := make([]byte, len(msg)+1)
	copy(line, msg)
	line[len(msg)] = '\n'
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.isClosed() {
		return c.closedErr()
	}
	c.wdl.arm(ctx)
	_, err := c.tc.Write(line)
	if err != nil {
		if c.isClosed() {
			return c.closedErr()
		}
		// crypto/tls: after a failed or timed-out write the stream is corrupt.
		_ = c.shutdown(fmt.Errorf("write failed: %w", err))
		if isTimeout(err) {
			return ctxError(ctx)
		}
		return fmt.Errorf("write message: %w", err)
	}
	c.touch()
	c.metrics.messageOut()
	return nil
}
