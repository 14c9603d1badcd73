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

package clienttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Wait bounds every wait of the scripted server (Expect, Send): a test
// that waits longer has failed. It is a deadline, not a sleep.
const Wait = 15 * time.Second

// FirstServerSeq is the first sequence number the scripted server gives
// its messages in each transaction (§11.3).
const FirstServerSeq = 5000

// Received is one message the scripted server received, with the
// association it came on (answers go back on it).
type Received struct {
	Msg  wire.Message
	Conn transport.Conn
}

// Server is a scripted CPNP server on 127.0.0.1:0; see the package
// documentation. It is closed by the test's cleanup.
type Server struct {
	tb     testing.TB
	l      transport.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	msgs   chan Received

	mu       sync.Mutex
	seqs     map[string]uint32
	conns    map[transport.Conn]struct{}
	accepted int
	latest   transport.Conn
	invalid  int
	closed   bool
}

// NewServer starts a scripted server over DTLS with cfg (see
// PKI.ServerConfig).
func NewServer(tb testing.TB, cfg transport.Config) *Server {
	tb.Helper()
	l, err := transport.ListenDTLS("127.0.0.1:0", cfg)
	if err != nil {
		tb.Fatalf("scripted server: listen dtls: %v", err)
	}
	return start(tb, l)
}

// NewTLSServer starts a scripted server over TLS with cfg.
func NewTLSServer(tb testing.TB, cfg transport.Config) *Server {
	tb.Helper()
	l, err := transport.ListenTLS("127.0.0.1:0", cfg)
	if err != nil {
		tb.Fatalf("scripted server: listen tls: %v", err)
	}
	return start(tb, l)
}

func start(tb testing.TB, l transport.Listener) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		tb: tb, l: l, ctx: ctx, cancel: cancel,
		msgs:  make(chan Received, 1024),
		seqs:  make(map[string]uint32),
		conns: make(map[transport.Conn]struct{}),
	}
	s.wg.Add(1)
	go s.accept()
	tb.Cleanup(s.Close)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.l.Addr().String() }

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept(s.ctx)
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.accepted++
		s.latest = c
		s.wg.Add(1)
		s.mu.Unlock()
		go s.read(c)
	}
}

func (s *Server) read(c transport.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	for {
		data, err := c.ReadMessage(s.ctx)
		if err != nil {
			return
		}
		m, err := wire.Decode(data)
		if err != nil {
			s.mu.Lock()
			s.invalid++
			s.mu.Unlock()
			continue
		}
		select {
		case s.msgs <- Received{Msg: m, Conn: c}:
		case <-s.ctx.Done():
			return
		}
	}
}

// Next returns the next message received, or ctx's error.
func (s *Server) Next(ctx context.Context) (Received, error) {
	select {
	case r := <-s.msgs:
		return r, nil
	case <-ctx.Done():
		return Received{}, fmt.Errorf("scripted server: no message: %w", ctx.Err())
	}
}

// Expect returns the next message received, failing the test unless it
// arrives within Wait and has the given method.
func (s *Server) Expect(tb testing.TB, method wire.Method) Received {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	r, err := s.Next(ctx)
	if err != nil {
		tb.Fatalf("waiting for %s: %v", method, err)
	}
	if r.Msg.Method != method {
		tb.Fatalf("scripted server received %s, want %s", r.Msg, method)
	}
	return r
}

// Pending returns the number of received messages not yet taken.
func (s *Server) Pending() int { return len(s.msgs) }

// Invalid counts the datagrams that failed wire validation.
func (s *Server) Invalid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invalid
}

// Answer returns the skeleton of the server's answer to req in req's
// transaction (wire.Message.Reply) with the server's next sequence number
// in that transaction (§11.3). The caller adds the provider order
// identifier to an answer to a QUOTATION, and the rest.
func (s *Server) Answer(req wire.Message, method wire.Method) wire.Message {
	return req.Reply(method, s.NextSeq(req.TransactionID))
}

// NextSeq returns the server's next sequence number in transaction txn.
func (s *Server) NextSeq(txn string) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.seqs[txn]
	if !ok {
		n = FirstServerSeq
	}
	s.seqs[txn] = n + 1
	return n
}

// Send encodes msg and writes it on the association of to.
func (s *Server) Send(tb testing.TB, to Received, msg wire.Message) {
	tb.Helper()
	data, err := wire.Encode(msg)
	if err != nil {
		tb.Fatalf("scripted server: encode %s: %v", msg, err)
	}
	s.SendRaw(tb, to, data)
}

// SendRaw writes data, as is, on the association of to.
func (s *Server) SendRaw(tb testing.TB, to Received, data []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	if err := to.Conn.WriteMessage(ctx, data); err != nil {
		tb.Fatalf("scripted server: write: %v", err)
	}
}

// Associations returns the number of open associations.
func (s *Server) Associations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// CloseAssociations closes every open association; the server keeps
// accepting new ones (a client must dial again).
func (s *Server) CloseAssociations() {
	s.mu.Lock()
	conns := make([]transport.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// Accepted counts the associations accepted so far.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Latest returns the association accepted last (Msg is zero), to send on
// an association on which the client has not spoken yet.
func (s *Server) Latest() Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Received{Conn: s.latest}
}

// Close stops the server, closes its associations and waits for its
// goroutines. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	if err := s.l.Close(); err != nil && !errors.Is(err, context.Canceled) {
		s.tb.Logf("scripted server: close: %v", err)
	}
	s.wg.Wait()
}
