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
	"net"
	"sync"
	"sync/atomic"

	dtlsnet "github.com/pion/dtls/v3/pkg/net"
)

// The DTLS listener tells a client that returned its HelloVerifyRequest
// cookie (RFC 6347 §4.2.1: it receives at its address) from a stalled or
// spoofed ClientHello, so that admission evicts the latter first (DESIGN
// §4 "DTLS admission", RFC 8921 §13). pion keeps the cookie exchange to
// itself, so the listener watches it on the datagrams: cookieListener sits
// between pion and the UDP demultiplexer and wraps each new peer's
// net.PacketConn in a cookieConn, which remembers the cookie of the
// HelloVerifyRequest pion writes and reports the ClientHello that returns
// it. pion still checks the cookie itself; this only ranks handshakes.

// cookieListener wraps the UDP demultiplexer pion's listener accepts from.
type cookieListener struct {
	dtlsnet.PacketListener
	// last is the connection of the latest Accept; onAttempt, which pion
	// calls right after it on the same goroutine, takes it.
	last *cookieConn
}

// Accept implements dtlsnet.PacketListener.
func (l *cookieListener) Accept() (net.PacketConn, net.Addr, error) {
	pc, addr, err := l.PacketListener.Accept()
	if err != nil {
		return nil, nil, err
	}
	c := &cookieConn{PacketConn: pc}
	l.last = c
	return c, addr, nil
}

// take returns the connection of the latest Accept, once.
func (l *cookieListener) take() *cookieConn {
	c := l.last
	l.last = nil
	return c
}

// cookieConn is one peer's datagrams during its handshake.
type cookieConn struct {
	net.PacketConn

	// onVerified is called once, from pion's reader, when the peer returns
	// the cookie; nil until the handshake is admitted.
	onVerified atomic.Pointer[func()]
	// watching is false once the cookie came back or the handshake ended:
	// datagrams are then passed on untouched.
	watching atomic.Bool

	mu     sync.Mutex
	cookie []byte // of the HelloVerifyRequest written last
}

// watch starts watching for the cookie; verified runs when it returns.
func (c *cookieConn) watch(verified func()) {
	c.onVerified.Store(&verified)
	c.watching.Store(true)
}

// stop ends the watch (the handshake ended) and forgets the cookie and
// the callback, which an established association need not keep.
func (c *cookieConn) stop() {
	c.watching.Store(false)
	c.onVerified.Store(nil)
	c.mu.Lock()
	c.cookie = nil
	c.mu.Unlock()
}

// WriteTo implements net.PacketConn.
func (c *cookieConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.watching.Load() {
		if cookie, ok := helloVerifyCookie(b); ok {
			c.mu.Lock()
			c.cookie = append(c.cookie[:0], cookie...)
			c.mu.Unlock()
		}
	}
	return c.PacketConn.WriteTo(b, addr)
}

// ReadFrom implements net.PacketConn.
func (c *cookieConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if err == nil && c.watching.Load() {
		c.check(b[:n])
	}
	return n, addr, err
}

// check reports a ClientHello that returns the cookie written last.
func (c *cookieConn) check(b []byte) {
	cookie, ok := clientHelloCookie(b)
	if !ok || len(cookie) == 0 {
		return
	}
	c.mu.Lock()
	match := len(c.cookie) > 0 && bytes.Equal(c.cookie, cookie)
	c.mu.Unlock()
	if !match || !c.watching.CompareAndSwap(true, false) {
		return
	}
	if f := c.onVerified.Load(); f != nil {
		(*f)()
	}
}

// Offsets in the first record of a datagram (RFC 6347 §4.1, §4.2.2): the
// record header (type, version, epoch, sequence number, length), then the
// handshake header (type, length, message_seq, fragment_offset,
// fragment_length), then the body.
const (
	recordHeaderLen    = 13
	handshakeHeaderLen = 12
	contentHandshake   = 22
	typeClientHello    = 1
	typeHelloVerify    = 3
	helloRandomLen     = 32
)

// handshakeBody returns the body of the handshake message of type typ that
// starts the datagram b, when it is an unfragmented-at-its-start message in
// epoch 0 (the only place a ClientHello or HelloVerifyRequest can be).
func handshakeBody(b []byte, typ byte) ([]byte, bool) {
	if len(b) < recordHeaderLen+handshakeHeaderLen || b[0] != contentHandshake || b[3] != 0 || b[4] != 0 {
		return nil, false
	}
	recLen := int(b[11])<<8 | int(b[12])
	rec := b[recordHeaderLen:]
	if recLen < len(rec) {
		rec = rec[:recLen]
	}
	if len(rec) < handshakeHeaderLen || rec[0] != typ || rec[6] != 0 || rec[7] != 0 || rec[8] != 0 {
		return nil, false // another message, or a fragment that is not the first
	}
	fragLen := int(rec[9])<<16 | int(rec[10])<<8 | int(rec[11])
	body := rec[handshakeHeaderLen:]
	if fragLen < len(body) {
		body = body[:fragLen]
	}
	return body, true
}

// helloVerifyCookie is the cookie of a HelloVerifyRequest datagram
// (RFC 6347 §4.2.1: server_version, cookie<0..2^8-1>).
func helloVerifyCookie(b []byte) ([]byte, bool) {
	body, ok := handshakeBody(b, typeHelloVerify)
	if !ok || len(body) < 3 {
		return nil, false
	}
	n := int(body[2])
	if len(body) < 3+n {
		return nil, false
	}
	return body[3 : 3+n], true
}

// clientHelloCookie is the cookie of a ClientHello datagram (RFC 6347
// §4.2.1: client_version, random, session_id<0..32>, cookie<0..2^8-1>, ...).
func clientHelloCookie(b []byte) ([]byte, bool) {
	body, ok := handshakeBody(b, typeClientHello)
	if !ok {
		return nil, false
	}
	i := 2 + helloRandomLen
	if len(body) < i+1 {
		return nil, false
	}
	i += 1 + int(body[i]) // session_id
	if len(body) < i+1 {
		return nil, false
	}
	n := int(body[i])
	if len(body) < i+1+n {
		return nil, false
	}
	return body[i+1 : i+1+n], true
}
