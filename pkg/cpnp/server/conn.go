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

package server

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// peerConn is one association as the engine sees it.
type peerConn struct {
	conn     transport.Conn
	identity string
	addr     string
	// failKey keys the FAIL limiter: the identity, else the address.
	failKey string
	// wake tells the writer that queue has messages (capacity 1).
	wake chan struct{}
	stop chan struct{}

	// mu guards the send queue. It is allocated when a message is queued
	// and handed to the writer whole, so that an idle association holds no
	// queue (issue #3: a channel of Config.SendQueueSize messages cost
	// about 13.5 KB per association); spare is the writer's last drained
	// queue, kept for reuse when small.
	mu    sync.Mutex
	queue []wire.Message
	spare []wire.Message
	limit int
	// sent counts each message enqueue hands over
	// (cpnp_server_messages_sent_total); nil counts nothing.
	sent *metrics
}

// maxSpareQueue is the largest drained queue that a writer keeps for reuse.
const maxSpareQueue = 4

func newPeerConn(c transport.Conn, queue int, sent *metrics) *peerConn {
	p := &peerConn{
		conn:     c,
		identity: c.Identity(),
		addr:     c.RemoteAddr().String(),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		limit:    queue,
		sent:     sent,
	}
	p.failKey = "identity:" + p.identity
	if p.identity == "" {
		p.failKey = "address:" + p.addr
	}
	return p
}

// alive reports whether the association is still open.
func (p *peerConn) alive() bool {
	select {
	case <-p.conn.Done():
		return false
	default:
		return true
	}
}

// enqueue hands m to the writer without blocking; false when its queue
// holds the limit already.
func (p *peerConn) enqueue(m wire.Message) bool {
	p.mu.Lock()
	if len(p.queue) >= p.limit {
		p.mu.Unlock()
		return false
	}
	if p.queue == nil {
		p.queue, p.spare = p.spare, nil
	}
	p.queue = append(p.queue, m)
	// Counted before the writer can take it: the peer may answer, and a
	// test or dashboard see the answer, before a count made after the
	// enqueue would land.
	if p.sent != nil {
		p.sent.sentMsg(m)
	}
	p.mu.Unlock()
	notify(p.wake)
	return true
}

// notify wakes the goroutine that waits on ch, a channel of capacity 1,
// without blocking: a wake-up already pending covers this one.
func notify(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// take returns the queued messages and empties the queue; the writer gives
// the slice back with recycle.
func (p *peerConn) take() []wire.Message {
	p.mu.Lock()
	q := p.queue
	p.queue = nil
	p.mu.Unlock()
	return q
}

// recycle keeps a drained queue for reuse when it is small.
func (p *peerConn) recycle(q []wire.Message) {
	if cap(q) > maxSpareQueue {
		return
	}
	clear(q)
	p.mu.Lock()
	if p.spare == nil {
		p.spare = q[:0]
	}
	p.mu.Unlock()
}

// inbound is what a reader forwards to the loop: a decoded message, or
// the decoding error, or the end of the association.
type inbound struct {
	pc  *peerConn
	msg wire.Message
	err error
	// seq is the sequence number of an invalid message, read best effort.
	seq  uint32
	gone bool
}

// handleConn serves one association: a reader (this goroutine) and a
// writer. When the reader stops because the engine shuts down, the writer
// first sends what the loop still hands it (answers that waited for their
// commit), then the association is closed.
func (s *Server) handleConn(ctx context.Context, c transport.Conn) {
	p := newPeerConn(c, s.cfg.SendQueueSize, s.m)
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.writeLoop(wctx, p)
	}()
	s.log.V(1).Info("Accepted association", keyPeer, p.addr, keyIdentity, p.identity)
	s.readLoop(ctx, p)
	if p.alive() && s.isClosing() {
		<-s.loopDone
	}
	close(p.stop)
	wg.Wait()
	_ = c.Close()
	select {
	case s.inbox <- inbound{pc: p, gone: true}:
	case <-s.loopDone:
	}
	s.log.V(1).Info("Closed association", keyPeer, p.addr, keyIdentity, p.identity)
}

// readLoop decodes messages and forwards them to the loop until ctx ends
// or the association fails.
func (s *Server) readLoop(ctx context.Context, p *peerConn) {
	// The reader is done with each message before it reads the next one
	// (wire.Decode and seqOf keep nothing of it), so it borrows the
	// association's read buffer where it can rather than copy every
	// message (issue #3).
	read := p.conn.ReadMessage
	if bc, ok := p.conn.(transport.BorrowingConn); ok {
		read = bc.ReadMessageBorrowed
	}
	for {
		b, err := read(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.log.V(1).Info("Reading from association failed", keyPeer, p.addr, keyIdentity, p.identity, "error", err.Error())
			}
			return
		}
		in := inbound{pc: p}
		in.msg, in.err = wire.Decode(b)
		if in.err != nil {
			if ve := (*wire.ValidationError)(nil); errors.As(in.err, &ve) && ve.Identified() {
				in.seq = seqOf(b)
			}
		}
		select {
		case s.inbox <- in:
		case <-ctx.Done():
			return
		}
	}
}

// seqOf reads sequence_number from an invalid message, best effort, so
// that the FAIL answering it echoes it (0 when unreadable).
func seqOf(b []byte) uint32 {
	var v struct {
		Seq json.Number `json:"sequence_number"`
	}
	if json.Unmarshal(b, &v) != nil {
		return 0
	}
	n, err := v.Seq.Int64()
	if err != nil || n < 0 || n > 1<<32-1 {
		return 0
	}
	return uint32(n)
}

// shutdownLinger is how long an association that was just sent its last
// answers stays open before its close_notify, like a lingering TCP close:
// pion/dtls v3 can drop a record its reader has not read yet when the
// close_notify behind it closes the connection (its Read selects between
// the two at random), so the peer would lose the answers the shutdown
// flushed for it.
const shutdownLinger = 250 * time.Millisecond

// writeLoop encodes and writes what the loop enqueues until stop, then
// writes what is left in the queue. At shutdown, an association that was
// written to less than shutdownLinger ago stays open until then (bounded by
// the shutdown context) before it is closed.
func (s *Server) writeLoop(ctx context.Context, p *peerConn) {
	var (
		buf   []byte
		n     int
		wrote time.Time
	)
	for {
		select {
		case <-p.wake:
			if buf, n = s.drainN(ctx, p, buf); n > 0 {
				wrote = time.Now()
			}
		case <-p.stop:
			if _, n = s.drainN(ctx, p, buf); n > 0 {
				wrote = time.Now()
			}
			if wrote.IsZero() || !s.isClosing() {
				return
			}
			wait := shutdownLinger - time.Since(wrote)
			if wait <= 0 {
				return
			}
			done := context.Background().Done()
			if sc := s.shutdownCtx(); sc != nil {
				done = sc.Done()
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C:
			case <-done:
			}
			return
		}
	}
}

// drainN writes the messages queued on p, encoding them into buf, and
// returns buf for the next drain and the number of messages written.
func (s *Server) drainN(ctx context.Context, p *peerConn, buf []byte) ([]byte, int) {
	q := p.take()
	n := len(q)
	for i := range q {
		buf = s.writeMsg(ctx, p, &q[i], buf[:0])
	}
	p.recycle(q)
	if cap(buf) > maxWriteBuffer {
		buf = nil
	}
	return buf, n
}

// maxWriteBuffer is the largest encoding buffer a writer keeps between
// messages (a fragmented message may need up to 1 MiB, DESIGN §3).
const maxWriteBuffer = 8 << 10

// writeMsg encodes m into buf and writes it; it returns buf (grown) for
// reuse: WriteMessage does not keep it.
func (s *Server) writeMsg(ctx context.Context, p *peerConn, m *wire.Message, buf []byte) []byte {
	// The machine built m from validated parts (fsm doc): no second
	// validation on the way out (wire.AppendTrusted).
	b, err := wire.AppendTrusted(buf, *m)
	if err != nil {
		// A machine or policy bug: the message is invalid.
		s.log.Error(err, "Encoding a message failed", keyPeer, p.addr, "method", m.Method.String(),
			keyProviderOrderID, m.ProviderOrderID)
		return buf
	}
	if err := p.conn.WriteMessage(ctx, b); err != nil {
		s.log.V(1).Info("Writing to association failed", keyPeer, p.addr, keyIdentity, p.identity,
			"method", m.Method.String(), "error", err.Error())
		return b
	}
	if v := s.log.V(4); v.Enabled() {
		v.Info("Sent message", keyPeer, p.addr, "method", m.Method.String(), "seq", m.Seq,
			keyTransactionID, m.TransactionID, keyProviderOrderID, m.ProviderOrderID)
	}
	return b
}
