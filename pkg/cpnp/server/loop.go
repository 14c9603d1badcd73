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
	"errors"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Log keys, defined once (STYLE §8).
const (
	keyPeer            = "peer"
	keyIdentity        = "identity"
	keyCustomerOrderID = "customerOrderID"
	keyProviderOrderID = "providerOrderID"
	keyTransactionID   = "transactionID"
	keyState           = "state"
	keyEvent           = "event"
)

// loop is the one goroutine that owns the engine's mutable state.
func (s *Server) loop() {
	defer close(s.loopDone)
	childIn := s.childInbox()
	for {
		select {
		case in := <-s.inbox:
			s.handleInbound(in)
		case in := <-childIn:
			s.onChildMessage(in)
		case <-s.commitWake:
			s.onCommits()
		case <-s.timerWake:
			s.onTimers()
		case <-s.flushWake:
			s.onFlush()
		case c := <-s.cmds:
			c.fn()
			close(c.done)
		case <-s.stop:
			s.finish()
			return
		}
	}
}

// finish is the loop's last act: it waits until every write submitted is
// committed, hands the answers that waited for them to their associations
// and stops the timer. Datagrams still in the inbox are dropped: their
// senders retransmit (§11.4) to the restarted server.
func (s *Server) finish() {
	if s.flushTimer != nil {
		s.flushTimer.Stop()
	}
	s.flushDirty()
	if s.writeSeq > 0 {
		if err := s.st.WriteSync(s.shutdownCtx()); err != nil {
			s.log.Error(err, "Flushing the store at shutdown failed")
		}
	}
	s.onCommits()
	if s.timer != nil {
		s.timer.Stop()
	}
	for {
		select {
		case in := <-s.inbox:
			if !in.gone {
				s.m.drop(dropShuttingDown)
			}
		default:
			return
		}
	}
}

// run executes fn on the loop goroutine and waits for it, or for ctx.
func (s *Server) run(ctx context.Context, fn func()) error {
	c := command{fn: fn, done: make(chan struct{})}
	select {
	case s.cmds <- c:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.loopDone:
		return ErrServerClosed
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// handleInbound routes one message from a reader (see the package doc).
func (s *Server) handleInbound(in inbound) {
	p := in.pc
	if in.gone {
		if s.byIdentity[p.identity] == p {
			delete(s.byIdentity, p.identity)
		}
		return
	}
	if s.failedCtx.Err() != nil {
		s.m.drop(dropStoreFailed)
		return
	}
	now := s.clk.Now()
	if in.err != nil {
		s.m.received.WithLabelValues("invalid").Inc()
		s.invalid(in, now)
		return
	}
	msg := in.msg
	s.m.receivedMsg(msg.Method)
	if v := s.log.V(4); v.Enabled() {
		v.Info("Received message", keyPeer, p.addr, keyIdentity, p.identity, "method", msg.Method.String(),
			"seq", msg.Seq, keyTransactionID, msg.TransactionID, keyCustomerOrderID, msg.CustomerOrderID,
			keyProviderOrderID, msg.ProviderOrderID)
	}
	if s.byIdentity[p.identity] != p && p.alive() {
		s.byIdentity[p.identity] = p
	}
	var e *entry
	switch msg.Method {
	case wire.MethodQuotation:
		e = s.byTxn[txnKey{p.identity, msg.CustomerOrderID, msg.TransactionID}]
		if e == nil {
			s.open(in, now)
			return
		}
	case wire.MethodCancel:
		e = s.byTxn[txnKey{p.identity, msg.CustomerOrderID, msg.TransactionID}]
	default:
		e = s.orders[msg.ProviderOrderID]
	}
	if e == nil {
		s.noOrder(p, msg.Method, msg.Seq, msg.TransactionID, msg.CustomerOrderID, msg.ProviderOrderID, now)
		return
	}
	f, err := fresh(s.cfg.Rand, msg.Method)
	if err != nil {
		s.m.drop(dropRandomFailure)
		s.log.Error(err, "Drawing random values failed; message dropped", keyPeer, p.addr)
		return
	}
	if p.identity == e.rec.Order.Identity {
		e.pc = p
		e.rec.Peer = p.addr
	}
	s.stepOrder(e, p, &msg, fsm.MsgReceived{Msg: msg, Identity: p.identity, At: now, Fresh: f})
}

// open creates the order of a new QUOTATION (fsm.Server.Open, §11.2.1).
func (s *Server) open(in inbound, now time.Time) {
	p, msg := in.pc, in.msg
	for range 3 {
		f, err := fresh(s.cfg.Rand, msg.Method)
		if err != nil {
			s.m.drop(dropRandomFailure)
			s.log.Error(err, "Drawing random values failed; QUOTATION dropped", keyPeer, p.addr)
			return
		}
		if s.orders[f.ProviderOrderID] != nil {
			continue // 128 random bits collide only with a broken Rand
		}
		o, acts, err := s.machine.Open(fsm.MsgReceived{Msg: msg, Identity: p.identity, At: now, Fresh: f})
		if errors.Is(err, fsm.ErrCannotOpen) {
			continue // the fresh identifier equals the customer's (§13): draw again
		}
		if err != nil {
			break
		}
		e := &entry{
			pc: p,
			rec: record{
				QuotationTxn: msg.TransactionID,
				Peer:         p.addr,
				Created:      now,
				Updated:      now,
			},
		}
		s.orders[f.ProviderOrderID] = e
		st := step{e: e, pc: p, msg: receivedOf(&msg), now: now}
		s.apply(&st, o, acts)
		return
	}
	s.m.drop(dropRandomFailure)
	s.log.Error(nil, "Opening an order failed; QUOTATION dropped", keyPeer, p.addr,
		keyCustomerOrderID, msg.CustomerOrderID, keyTransactionID, msg.TransactionID)
}

// invalid answers a structurally invalid message with FAIL 1 when it names
// a transaction and a customer order, and drops it otherwise (§10, §13,
// DESIGN §3).
func (s *Server) invalid(in inbound, now time.Time) {
	p := in.pc
	var ve *wire.ValidationError
	if !errors.As(in.err, &ve) || !ve.Identified() || ve.Method == wire.MethodFail {
		s.m.drop(dropInvalid)
		s.log.V(1).Info("Dropped an invalid message", keyPeer, p.addr, keyIdentity, p.identity, "error", in.err.Error())
		return
	}
	s.log.V(1).Info("Received an invalid message", keyPeer, p.addr, keyIdentity, p.identity,
		keyTransactionID, ve.TransactionID, keyCustomerOrderID, ve.CustomerOrderID, "error", in.err.Error())
	poid := ve.ProviderOrderID
	if poid == "" {
		if e := s.byTxn[txnKey{p.identity, ve.CustomerOrderID, ve.TransactionID}]; e != nil {
			poid = e.rec.Order.ProviderOrderID
		}
	}
	s.answerFail(p, in.seq, ve.TransactionID, ve.CustomerOrderID, poid, now)
}

// noOrder answers a message that matches no order with FAIL 1 (§9.2.5,
// DESIGN §3: "no order matches the identifiers → 1"); a FAIL is not
// answered.
func (s *Server) noOrder(p *peerConn, method wire.Method, seq uint32, txn, coid, poid string, now time.Time) {
	if method == wire.MethodFail {
		s.m.drop(dropUnknownFail)
		return
	}
	s.log.V(1).Info("Received a message for no known order", keyPeer, p.addr, keyIdentity, p.identity,
		"method", method.String(), keyTransactionID, txn, keyCustomerOrderID, coid, keyProviderOrderID, poid)
	s.answerFail(p, seq, txn, coid, poid, now)
}

// answerFail sends FAIL 1 outside any order. The FAIL echoes the message's
// sequence number and carries its provider order identifier, or a fresh one
// (docs/wire.md §9, deviation 5).
func (s *Server) answerFail(p *peerConn, seq uint32, txn, coid, poid string, now time.Time) {
	if poid == "" {
		for range 3 {
			id, err := providerOrderID(s.cfg.Rand)
			if err != nil {
				s.m.drop(dropRandomFailure)
				return
			}
			if id != coid {
				poid = id
				break
			}
		}
	}
	f := wire.Message{
		Version:         wire.Version,
		Method:          wire.MethodFail,
		Seq:             seq,
		TransactionID:   txn,
		CustomerOrderID: coid,
		ProviderOrderID: poid,
		StatusCode:      wire.StatusMessageValidationError,
	}
	s.sendNow(p, f, now)
}
