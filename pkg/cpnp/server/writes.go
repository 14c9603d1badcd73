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
	"fmt"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// DeferredFlushDelay bounds how long the write of a deferrable step (see
// deferrable) may wait for another write to share its commit before the
// engine commits it on its own.
const DeferredFlushDelay = 100 * time.Millisecond

// deferrable reports whether the write of st may be deferred: the step
// handled a message, changed the order, and has nothing that must follow
// the write (DESIGN §4, write-ahead: "persist before send") — no Send, no
// decision, no change to the policy's holdings, no alarm. The client's
// PROCESSING that acknowledges an OFFER (RFC 8921 §8.7, Figure 6) is the
// common case: it only stops the OFFER's retransmission (§11.2.1).
//
// Losing such a step in a crash is indistinguishable from losing the
// datagram that caused it, which the protocol already recovers from: the
// restarted server retransmits its unanswered message (§11.4) and the
// client's sequence numbers move on (§11.3). Deferring it takes one commit
// (two fsyncs in bbolt) off the critical path of the next message of the
// negotiation, which would otherwise queue behind it (the ACCEPT after the
// PROCESSING in Figure 6).
func (s *Server) deferrable(st *step) bool {
	return st.msg.ok && !st.effects && st.nsends == 0
}

// markDirty defers the write of e's order: it joins the next write of any
// order (submit), or is committed on its own after DeferredFlushDelay,
// or at shutdown.
func (s *Server) markDirty(e *entry) {
	s.dirty[e] = struct{}{}
	s.m.deferredWrites.Inc()
	if s.flushArmed {
		return
	}
	s.flushArmed = true
	if s.flushTimer == nil {
		s.flushTimer = s.clk.AfterFunc(DeferredFlushDelay, s.wakeFlush)
		return
	}
	s.flushTimer.Reset(DeferredFlushDelay)
}

// wakeFlush runs in the clock's goroutine: it only wakes the loop.
func (s *Server) wakeFlush() { notify(s.flushWake) }

// onFlush commits the deferred writes that no other write took along.
func (s *Server) onFlush() {
	s.flushArmed = false
	s.flushDirty()
}

// flushDirty submits the deferred writes, if any, on their own.
func (s *Server) flushDirty() {
	if len(s.dirty) > 0 {
		w := s.newWrite()
		s.seal(w)
		s.submit(w)
	}
}

// writeOrder prepares the write of e's order (with any deferred writes):
// it returns the sealed, not yet submitted write and its sequence number,
// so that the step's sends can ride on it (orderWrite.sends) before
// submit. When the order cannot be encoded the engine fails and writeOrder
// returns nil and e's last write.
func (s *Server) writeOrder(e *entry) (*orderWrite, uint64) {
	delete(s.dirty, e)
	w := s.newWrite()
	if err := w.put(e); err != nil {
		w.release()
		s.fail(err)
		return nil, e.lastWrite
	}
	return w, s.seal(w)
}

// orderWrite is one submission to the store's group commit: its ops, the
// buffers of their encoded records, the sends that wait for it alone, and
// the done callback (bound once: the orderWrite is recycled through
// Server.writes).
type orderWrite struct {
	s     *Server
	seq   uint64
	start time.Time
	ops   []store.Op
	bufs  []*[]byte
	// sends are handed to their associations by the done callback itself,
	// on the committer goroutine, as soon as the write is durable: one
	// goroutine hop less between the fsync and the answer than through the
	// loop (write-ahead, DESIGN §4). Only a send with no earlier send of its
	// order still waiting rides here (see Server.send), so the order of an
	// order's messages is kept.
	sends []queuedSend
	done  func(error)
}

// newWrite returns an empty orderWrite.
func (s *Server) newWrite() *orderWrite {
	w, _ := s.writes.Get().(*orderWrite)
	if w == nil {
		w = &orderWrite{s: s, ops: make([]store.Op, 0, 2), bufs: make([]*[]byte, 0, 2)}
		w.done = w.committed
	}
	return w
}

// put encodes e's record (format RecordFormat) into a pooled buffer and
// adds its store op.
func (w *orderWrite) put(e *entry) error {
	poid := e.rec.Order.ProviderOrderID
	bp := getRecordBuffer()
	b, err := appendRecord(*bp, &e.rec)
	*bp = b
	if err != nil {
		putRecordBuffer(bp)
		return fmt.Errorf("encode order %s: %w", poid, err)
	}
	w.bufs = append(w.bufs, bp)
	w.ops = append(w.ops, store.Put(OrdersKind, poid, b, nil))
	return nil
}

// release recycles w and its buffers; the store no longer holds them.
func (w *orderWrite) release() {
	for i, bp := range w.bufs {
		putRecordBuffer(bp)
		w.bufs[i] = nil
	}
	clear(w.ops)
	clear(w.sends)
	w.ops, w.bufs, w.sends = w.ops[:0], w.bufs[:0], w.sends[:0]
	w.s.writes.Put(w)
}

// seal adds the deferred writes of other orders to w (they share its
// commit for free) and gives w its sequence number, which it returns.
func (s *Server) seal(w *orderWrite) uint64 {
	s.writeSeq++
	w.seq = s.writeSeq
	for e := range s.dirty {
		if err := w.put(e); err != nil {
			s.fail(err)
			continue
		}
		e.lastWrite = w.seq
	}
	clear(s.dirty)
	return w.seq
}

// submit submits the sealed w to the store's group commit as one atomic
// submission. Its done callback hands out w.sends, records the outcome and
// wakes the loop when the loop needs it (it runs on the store's committer
// goroutine; see committed).
func (s *Server) submit(w *orderWrite) {
	w.start = time.Now()
	if err := s.st.Write(s.shutdownCtx(), w.ops, w.done); err != nil {
		w.release()
		s.fail(err)
	}
}

// committed is the done callback of w's submission. It hands out w.sends
// before it publishes the commit, so that the loop, once it sees the
// commit, can never send a later message of the same order first.
func (w *orderWrite) committed(err error) {
	s, n := w.s, w.seq
	s.m.commits.Observe(time.Since(w.start).Seconds())
	s.commitMu.Lock()
	ok := err == nil && s.commitErr == nil
	s.commitMu.Unlock()
	orphaned := false
	if ok && s.failedCtx.Err() == nil {
		for _, q := range w.sends {
			if !s.deliverDirect(q.pc, q.msg) {
				s.orphanMu.Lock()
				s.orphans = append(s.orphans, q)
				s.orphanMu.Unlock()
				orphaned = true
			}
		}
	}
	w.release()
	s.commitMu.Lock()
	switch {
	case s.commitErr != nil:
	case err != nil:
		s.commitErr = err
	default:
		s.committed = n
	}
	// The loop needs this commit only when sends wait for one (awaitCommit),
	// to deliver orphans, or to stop after a failure.
	wake := s.loopWaits || orphaned || s.commitErr != nil
	s.commitMu.Unlock()
	if wake {
		notify(s.commitWake)
	}
}

// deliverDirect hands msg to p's writer from outside the loop; false when
// p is closed, for the loop to find the client's newest association
// (deliver).
func (s *Server) deliverDirect(p *peerConn, msg wire.Message) bool {
	if p == nil || !p.alive() {
		return false
	}
	if !p.enqueue(msg) {
		s.m.drop(dropSendQueueFull)
		return true
	}
	return true
}

// deliverOrphans delivers, on the loop, the sends that a done callback
// could not hand to their association.
func (s *Server) deliverOrphans() {
	s.orphanMu.Lock()
	qs := s.orphans
	s.orphans = nil
	s.orphanMu.Unlock()
	for _, q := range qs {
		s.deliver(q.pc, q.msg)
	}
}
