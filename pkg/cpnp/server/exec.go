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
	"errors"
	"fmt"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// step is the engine's side of one input to one order: the machine's step
// and the decision step that its Consult may trigger.
type step struct {
	e *entry
	// pc is the association of the message that caused the step (answers go
	// there); nil for timers and administrative commands.
	pc *peerConn
	// msg is what the step needs of that message, if any (msg.ok).
	msg received
	now time.Time
	// from is the state before the step ("" for a new order).
	from fsm.ServerState
	// persist is set by the first Persist. The Sends, each marked when a
	// Persist preceded it, are nsends: the first ones in sendsBuf (a step
	// sends at most two messages in Figure 6, PROCESSING and OFFER), the
	// rest in moreSends (see addSend).
	persist   bool
	nsends    int
	sendsBuf  [2]pendingSend
	moreSends []pendingSend
	// lastReason is the Reason of the last Transition, which tells a
	// Commit that restores an agreement from one that makes a new one.
	lastReason string
	// reserved is set by the machine's Reserve.
	reserved bool
	// effects is set by any action whose effect must follow the write
	// (fsm's effect actions: Send, Reserve, Release, Commit, Consult,
	// Activation, Alarm, child actions). A Persist without one is a
	// deferrable write (see Server.deferrable, writes.go).
	effects bool
	depth   int
	// childSends are the SendChild actions of the step (§8.8).
	childSends []pendingChild
}

// pendingChild is a SendChild of a step, marked when a Persist preceded it.
type pendingChild struct {
	send         fsm.SendChild
	afterPersist bool
}

type pendingSend struct {
	msg          wire.Message
	retrans      bool
	afterPersist bool
}

// received is what a step needs of the message that caused it: whether
// there is one, and what the discard log and the duplicate-answer limiter
// (§11.4) key on. A step holds these, not the message, so that the
// message of a step does not escape to the heap (issue #3).
type received struct {
	ok     bool
	method wire.Method
	seq    uint32
	txn    string
}

// receivedOf returns what a step keeps of msg (nil: no message).
func receivedOf(msg *wire.Message) received {
	if msg == nil {
		return received{}
	}
	return received{ok: true, method: msg.Method, seq: msg.Seq, txn: msg.TransactionID}
}

// addSend records a Send of the step. The first ones go into the step's
// own array rather than into a slice of it: a step that pointed into
// itself would escape to the heap, and the engine allocates none per
// message (issue #3).
func (st *step) addSend(ps pendingSend) {
	if st.nsends < len(st.sendsBuf) {
		st.sendsBuf[st.nsends] = ps
	} else {
		st.moreSends = append(st.moreSends, ps)
	}
	st.nsends++
}

// sendAt returns the i-th Send of the step (0 <= i < nsends).
func (st *step) sendAt(i int) *pendingSend {
	if i < len(st.sendsBuf) {
		return &st.sendsBuf[i]
	}
	return &st.moreSends[i-len(st.sendsBuf)]
}

// maxDecisionDepth bounds nested decision steps (a machine or policy bug
// could otherwise loop).
const maxDecisionDepth = 4

// timerEvent is the event of a timer that fired.
func timerEvent(id fsm.TimerID, now time.Time) fsm.Event { return fsm.TimerFired{ID: id, At: now} }

// stepOrder feeds ev to e's order and executes the actions. pc and msg are
// the association and the message of a MsgReceived (nil otherwise).
func (s *Server) stepOrder(e *entry, pc *peerConn, msg *wire.Message, ev fsm.Event) {
	st := step{e: e, pc: pc, msg: receivedOf(msg), now: ev.When(), from: e.rec.Order.State}
	next, acts := s.machine.Step(e.rec.Order, ev)
	s.apply(&st, next, acts)
}

// apply executes a step's actions and then what they imply for the order
// as a whole: the write, the sends, the indexes, the snapshot, the timer.
func (s *Server) apply(st *step, next fsm.ServerOrder, acts []fsm.Action) {
	s.exec(st, next, acts)
	s.finalize(st)
}

// exec executes the actions of one machine step, in order; Consults run
// after the others, on the order the step returned.
func (s *Server) exec(st *step, next fsm.ServerOrder, acts []fsm.Action) {
	e := st.e
	e.rec.Order = next
	var consults []fsm.Consult
	for _, a := range acts {
		switch a.(type) {
		case fsm.Persist, fsm.StartTimer, fsm.StopTimer, fsm.Transition, fsm.Discard:
		default:
			st.effects = true
		}
		switch a := a.(type) {
		case fsm.Persist:
			st.persist = true
		case fsm.Send:
			st.addSend(pendingSend{msg: a.Msg, retrans: a.Retransmission, afterPersist: st.persist})
		case fsm.StartTimer, fsm.StopTimer:
			// Mirrored in Order.Timers; finalize schedules the next deadline.
		case fsm.Transition:
			s.transition(st, a)
		case fsm.Discard:
			s.discarded(st, a)
		case fsm.Alarm:
			s.m.alarms.Inc()
			s.log.Error(nil, "Raised an alarm", s.orderKeys(e, keyEvent, a.Reason)...)
		case fsm.Consult:
			consults = append(consults, a)
		case fsm.Reserve:
			st.reserved = true
		case fsm.Release:
			s.release(st, a)
		case fsm.Commit:
			s.commit(st, a)
		case fsm.Activation:
			if s.log.Enabled() {
				kv := []any{"active", a.Active}
				if a.ScheduledAt != nil {
					kv = append(kv, "scheduledAt", a.ScheduledAt.UTC().Format(time.RFC3339Nano))
				}
				s.log.Info("Agreement activation changed", s.orderKeys(e, kv...)...)
			}
		case fsm.SendChild:
			// A message of the child order (§8.8), sent upstream after the
			// write like the order's own sends.
			st.childSends = append(st.childSends, pendingChild{send: a, afterPersist: st.persist})
		case fsm.StartChildTimer, fsm.StopChildTimer:
			// Mirrored in Order.Child.Order.Timers; finalize schedules them.
		case fsm.ChildTransition:
			s.childTransition(st, a)
		default:
			s.log.Error(nil, "Ignored an unknown action", s.orderKeys(e, "action", fmt.Sprintf("%T", a))...)
		}
	}
	for _, c := range consults {
		s.consult(st, c)
	}
}

// orderKeys returns the §12.1 keys of e's order followed by kv.
func (s *Server) orderKeys(e *entry, kv ...any) []any {
	o := &e.rec.Order
	out := make([]any, 0, 10+len(kv))
	out = append(out, keyPeer, e.rec.Peer, keyIdentity, o.Identity, keyCustomerOrderID, o.CustomerOrderID,
		keyProviderOrderID, o.ProviderOrderID, keyTransactionID, o.Txn.ID)
	return append(out, kv...)
}

// transition logs one order event (§12.1: one line per order event with
// the client address, identity, identifiers, event and timestamp).
func (s *Server) transition(st *step, t fsm.Transition) {
	st.lastReason = t.Reason
	if s.log.Enabled() {
		s.log.Info("Order changed state", s.orderKeys(st.e, transitionKeys(make([]any, 0, 12), t)...)...)
	}
	s.m.transition(t.Reason)
}

// transitionKeys appends the log keys of t (§12.1: the event, its cause
// and timestamp) to kv: the line of an order's transition and of its child
// order's (childTransition).
func transitionKeys(kv []any, t fsm.Transition) []any {
	kv = append(kv, "from", t.From, keyState, t.To, keyEvent, t.Reason, "cause", t.Cause, "at", t.At.UTC().Format(time.RFC3339Nano))
	if t.StatusCode != 0 {
		kv = append(kv, "statusCode", int(t.StatusCode))
	}
	return kv
}

// discarded logs an input the machine dropped (§10, §11.3, §13).
func (s *Server) discarded(st *step, d fsm.Discard) {
	v := s.log.V(1)
	if st.msg.ok {
		s.m.drop(dropDiscarded)
		if v.Enabled() {
			v.Info("Discarded a message", s.orderKeys(st.e, "method", st.msg.method.String(), "seq", st.msg.seq,
				"reason", d.Reason)...)
		}
		return
	}
	if v.Enabled() {
		v.Info("Discarded an input", s.orderKeys(st.e, "reason", d.Reason)...)
	}
}

// consult runs the decision policy and feeds its answer back to the
// machine (§8.2, §11.2.1, §12.2).
func (s *Server) consult(st *step, c fsm.Consult) {
	e := st.e
	if st.depth >= maxDecisionDepth {
		s.log.Error(nil, "Ignored a nested consultation of the policy", s.orderKeys(e)...)
		return
	}
	st.depth++
	if c.Kind == fsm.ConsultChildOffer {
		s.answerChildOffer(st)
		return
	}
	d, pd, ok := s.decide(st, c)
	if !ok {
		return
	}
	st.reserved = false
	next, acts := s.machine.Step(e.rec.Order, d)
	s.exec(st, next, acts)
	if pd.Outcome == policy.OutcomeOffer {
		if st.reserved {
			e.rec.OfferPool = pd.Pool
		} else {
			// The machine refused the offer: the policy's reservation goes.
			s.pol.ReleaseOffer(e.rec.Order.ProviderOrderID)
			s.log.Error(nil, "The state machine refused the policy's offer; its reservation was released",
				s.orderKeys(e, "pool", pd.Pool)...)
		}
	}
}

// decide asks the policy and translates its answer into an fsm.Decision.
func (s *Server) decide(st *step, c fsm.Consult) (fsm.Decision, policy.Decision, bool) {
	e := st.e
	o := &e.rec.Order
	var kind policy.RequestKind
	switch c.Kind {
	case fsm.ConsultQuotation:
		kind = policy.RequestQuotation
	case fsm.ConsultUpdate:
		kind = policy.RequestUpdate
	case fsm.ConsultChildDone:
		// The child completed (§8.8, Figure 7): compose the offer of the
		// cycle in progress.
		kind = policy.RequestQuotation
		if o.Update != nil {
			kind = policy.RequestUpdate
		}
	default:
		s.log.Error(nil, "Ignored an unknown consultation", s.orderKeys(e, "consult", string(c.Kind))...)
		return fsm.Decision{}, policy.Decision{}, false
	}
	cur := o.CurrentRequest()
	req := policy.Request{
		Kind:            kind,
		Identity:        o.Identity,
		ProviderOrderID: o.ProviderOrderID,
		CustomerOrderID: o.CustomerOrderID,
		Requested:       cur.CPD,
		Approved:        c.Approved,
		At:              st.now,
	}
	if ie := cur.InformationElements; ie != nil && ie.NegotiationOptions != nil {
		req.Options = *ie.NegotiationOptions
	}
	if kind == policy.RequestUpdate && o.Agreement != nil {
		a := o.Agreement.CPD
		req.Current = &a
	}
	var pd policy.Decision
	if c.Kind == fsm.ConsultChildDone {
		pd = s.decideChildDone(st, req)
	} else if c.Approved {
		var err error
		pd, err = s.pol.Approve(o.ProviderOrderID, st.now)
		if err != nil {
			if !errors.Is(err, policy.ErrNotHeld) {
				s.log.Error(err, "Approving with the policy failed; deciding again", s.orderKeys(e)...)
			}
			pd = s.pol.Decide(req)
		}
	} else {
		pd = s.pol.Decide(req)
	}
	e.rec.Decision = pd.Reason
	d := fsm.Decision{TransactionID: c.TransactionID, At: st.now}
	switch pd.Outcome {
	case policy.OutcomeOffer:
		d.Kind = fsm.DecideOffer
		d.Offer = &fsm.OfferDecision{CPD: pd.Offered, ValidUntil: pd.ValidUntil, ActivationSchedule: pd.ActivationSchedule}
		if pd.Provider != nil {
			d.Offer.InformationElements = &wire.InformationElements{ProviderDescription: pd.Provider}
		}
	case policy.OutcomeHold:
		d.Kind = fsm.DecideHold
	case policy.OutcomeFail:
		d.Kind, d.StatusCode = fsm.DecideFail, pd.StatusCode
		if !pd.StatusCode.Valid() || pd.StatusCode == wire.StatusMoreTimeRejected {
			d.StatusCode = wire.StatusOutOfResources
		}
	case policy.OutcomeChild:
		// A child order upstream (§8.8): the machine answers PROCESSING
		// subcode 2 and quotes the child (child.go).
		cd, err := s.childDecision(st, pd)
		if err != nil {
			d.Kind, d.StatusCode = fsm.DecideFail, wire.StatusOutOfResources
			e.rec.Decision = pd.Reason + " (no child order: " + err.Error() + ": FAIL 5)"
			s.log.Error(err, "Starting a child order failed; answering FAIL 5", s.orderKeys(e, keyUpstream, pd.Upstream)...)
			break
		}
		d.Kind, d.Child = fsm.DecideChild, cd
	default:
		d.Kind, d.StatusCode = fsm.DecideFail, wire.StatusOutOfResources
		e.rec.Decision = fmt.Sprintf("unknown policy outcome %q: FAIL 5", pd.Outcome)
	}
	if v := s.log.V(1); v.Enabled() {
		v.Info("Consulted the policy", s.orderKeys(e, "outcome", string(pd.Outcome), "pool", pd.Pool,
			"partial", pd.Partial, "reason", e.rec.Decision)...)
	}
	if pd.Outcome == policy.OutcomeOffer && s.log.V(4).Enabled() {
		s.log.V(4).Info("Policy offer", s.orderKeys(e, "offeredCPD", string(pd.Offered.Canonical()),
			"requestedCPD", string(cur.CPD.Canonical()))...)
	}
	return d, pd, true
}

// release maps the machine's Release to the policy (DESIGN §3: open offers
// count as reserved until accepted, declined, cancelled or expired;
// agreements hold capacity until withdrawn).
func (s *Server) release(st *step, r fsm.Release) {
	e := st.e
	poid := e.rec.Order.ProviderOrderID
	if r.Agreement {
		s.pol.Release(poid)
		e.rec.AgreementPool, e.rec.PrevAgreementPool, e.rec.OfferPool = "", "", ""
		return
	}
	// An open offer. During an UPDATE cycle the agreement stands (DESIGN
	// §3); for a QUOTATION's offer ReleaseOffer is Release.
	s.pol.ReleaseOffer(poid)
	e.rec.OfferPool = ""
}

// commit maps the machine's Commit to the policy: the open offer becomes
// the agreement, or, for an UPDATE cancelled after its ACK was lost, the
// previous agreement is put back.
func (s *Server) commit(st *step, c fsm.Commit) {
	e := st.e
	o := &e.rec.Order
	if st.lastReason == "UpdateCancelledAfterAck" {
		e.rec.AgreementPool, e.rec.PrevAgreementPool = e.rec.PrevAgreementPool, ""
		if e.rec.AgreementPool == "" {
			return
		}
		h := holdingOf(o, e.rec.AgreementPool, c.CPD, policy.HoldingCommitted, time.Time{})
		if err := s.pol.Restore(h); err != nil {
			s.log.Error(err, "Restoring the previous agreement's holding failed", s.orderKeys(e)...)
		}
		return
	}
	s.pol.Commit(o.ProviderOrderID)
	e.rec.PrevAgreementPool, e.rec.AgreementPool, e.rec.OfferPool = e.rec.AgreementPool, e.rec.OfferPool, ""
}

// finalize completes a step: the state gauge, the indexes, the write-ahead
// write and the sends that depend on it, the snapshot and the timer.
func (s *Server) finalize(st *step) {
	e := st.e
	o := &e.rec.Order
	if st.from != o.State {
		if st.from != "" {
			s.m.orders.WithLabelValues(string(st.from)).Dec()
		}
		s.m.orders.WithLabelValues(string(o.State)).Inc()
	}
	s.index(e)
	prev := e.lastWrite
	if st.persist {
		e.rec.Updated = st.now
	}
	var w *orderWrite
	switch _, dirty := s.dirty[e]; {
	case st.persist && s.deferrable(st):
		s.markDirty(e)
	case st.persist:
		w, e.lastWrite = s.writeOrder(e)
	case dirty && (st.nsends > 0 || len(st.childSends) > 0):
		// Sends follow every earlier write of their order, deferred ones
		// included.
		w, e.lastWrite = s.writeOrder(e)
		prev = e.lastWrite
	}
	for i := range st.nsends {
		ps := st.sendAt(i)
		dep := prev
		if ps.afterPersist {
			dep = e.lastWrite
		}
		s.send(st, ps, dep, w)
	}
	for _, pc := range st.childSends {
		dep := prev
		if pc.afterPersist {
			dep = e.lastWrite
		}
		s.sendChild(e, pc.send, dep)
	}
	s.trackChild(e)
	if w != nil {
		s.submit(w)
	}
	s.publish(e)
	s.schedule(e)
}

// index records the byTxn keys of e's order: the QUOTATION's transaction
// (a repeated QUOTATION finds it) and the current one (a CANCEL finds it).
func (s *Server) index(e *entry) {
	o := &e.rec.Order
	for _, txn := range []string{e.rec.QuotationTxn, o.Txn.ID} {
		if txn == "" {
			continue
		}
		k := txnKey{o.Identity, o.CustomerOrderID, txn}
		if s.byTxn[k] == e {
			continue
		}
		if s.byTxn[k] == nil {
			s.byTxn[k] = e
			e.keys = append(e.keys, k)
		}
	}
}

// publish copies e's record into the snapshot that List and Get read.
func (s *Server) publish(e *entry) {
	s.snapMu.Lock()
	s.snap[e.rec.Order.ProviderOrderID] = e.rec
	s.snapMu.Unlock()
}

// deleteOrder forgets a terminal order whose retention is over.
func (s *Server) deleteOrder(e *entry) {
	o := &e.rec.Order
	e.deleted = true
	delete(s.orders, o.ProviderOrderID)
	for _, k := range e.keys {
		if s.byTxn[k] == e {
			delete(s.byTxn, k)
		}
	}
	delete(s.waiting, e)
	delete(s.dirty, e)
	s.untrackChild(e)
	e.queue = nil
	s.m.orders.WithLabelValues(string(o.State)).Dec()
	s.snapMu.Lock()
	delete(s.snap, o.ProviderOrderID)
	s.snapMu.Unlock()
	w := s.newWrite()
	w.ops = append(w.ops, s.repo.Delete(o.ProviderOrderID))
	s.seal(w)
	s.submit(w)
	if v := s.log.V(1); v.Enabled() {
		v.Info("Deleted a terminal order after its retention", s.orderKeys(e)...)
	}
}

// onCommits hands out the sends whose write became durable (write-ahead,
// DESIGN §4), or stops the engine after a failed write.
func (s *Server) onCommits() {
	s.commitMu.Lock()
	c, err := s.committed, s.commitErr
	s.commitMu.Unlock()
	if err != nil {
		s.fail(err)
		return
	}
	s.deliverOrphans()
	for e := range s.waiting {
		i := 0
		for ; i < len(e.queue) && e.queue[i].dep <= c; i++ {
			s.deliverQueued(e.queue[i])
		}
		if i == len(e.queue) {
			e.queue = nil
			delete(s.waiting, e)
			continue
		}
		n := copy(e.queue, e.queue[i:])
		clear(e.queue[n:])
		e.queue = e.queue[:n]
	}
	// Sends that still wait keep the callbacks waking the loop; the first
	// of them waits for a write after c, whose callback sees the flag.
	s.commitMu.Lock()
	s.loopWaits = len(s.waiting) > 0
	s.commitMu.Unlock()
}

// durable reports whether write dep is committed.
func (s *Server) durable(dep uint64) bool {
	if dep == 0 {
		return true
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return s.commitErr == nil && s.committed >= dep
}

// fail stops the engine after a store failure: nothing more is sent or
// handled, /readyz says why, and Serve returns (DESIGN §4: the answers that
// depend on a write must never go out before it is durable).
func (s *Server) fail(err error) {
	if s.failedCtx.Err() != nil {
		return
	}
	s.m.storeFailures.Inc()
	s.log.Error(err, "Writing to the store failed; the server stops answering until it is restarted")
	s.markFailed(fmt.Errorf("%w: %w", ErrStoreFailed, err))
	for e := range s.waiting {
		e.queue = nil
	}
	clear(s.waiting)
}

// send applies the rate limits to one Send of a step and hands it out now
// or once write dep is durable: with w, the step's write not yet
// submitted, when dep is w and no earlier send of the order waits (see
// orderWrite.sends), else through the order's queue.
func (s *Server) send(st *step, ps *pendingSend, dep uint64, w *orderWrite) {
	e := st.e
	msg := ps.msg
	target := st.pc
	if target == nil {
		target = e.pc
	}
	identity := e.rec.Order.Identity
	if target != nil {
		identity = target.identity
	}
	if msg.Method == wire.MethodFail {
		key := "identity:" + identity
		if target != nil {
			key = target.failKey
		}
		if !s.fails.Allow(st.now, key) {
			s.m.drop(dropFailRateLimited)
			s.log.V(1).Info("Dropped a FAIL over the rate limit (§9.2.5)", s.orderKeys(e, "statusCode", int(msg.StatusCode))...)
			return
		}
	}
	if in := &st.msg; in.ok {
		if ps.retrans {
			// A repeat of the last request handled (§11.4): answer again,
			// with a limited frequency.
			_, v := s.dup.Lookup(st.now, identity, in.txn, in.seq, nil)
			switch v {
			case session.Suppressed:
				s.m.drop(dropRepeatLimited)
				s.log.V(1).Info("Dropped a repeated answer over the rate limit (§11.4)", s.orderKeys(e, "method", msg.Method.String())...)
				return
			case session.Miss:
				s.dup.Record(st.now, identity, in.txn, in.seq, nil)
			case session.Hit:
			}
			s.m.retransmitted.WithLabelValues("repeat").Inc()
		} else {
			s.dup.Record(st.now, identity, in.txn, in.seq, nil)
		}
	} else if ps.retrans {
		s.m.retransmitted.WithLabelValues("timer").Inc()
	}
	if s.failedCtx.Err() != nil {
		s.m.drop(dropStoreFailed)
		return
	}
	if len(e.queue) == 0 {
		if s.durable(dep) {
			s.deliver(target, msg)
			return
		}
		if w != nil && dep == w.seq && target != nil {
			w.sends = append(w.sends, queuedSend{dep: dep, msg: msg, pc: target})
			return
		}
	}
	e.queue = append(e.queue, queuedSend{dep: dep, msg: msg, pc: target})
	s.waiting[e] = struct{}{}
	s.awaitCommit(dep)
}

// awaitCommit tells the done callbacks that the loop has sends waiting,
// the last one for write dep, so that they wake it (onCommits). When dep
// committed before the flag was set, no callback will: the loop wakes
// itself. The check and the flag share commitMu with the callbacks, so
// no commit falls between them.
func (s *Server) awaitCommit(dep uint64) {
	s.commitMu.Lock()
	s.loopWaits = true
	now := s.commitErr != nil || s.committed >= dep
	s.commitMu.Unlock()
	if now {
		notify(s.commitWake)
	}
}

// sendNow sends a message that depends on no write (a FAIL outside any
// order), within the FAIL rate limit.
func (s *Server) sendNow(p *peerConn, msg wire.Message, now time.Time) {
	if msg.Method == wire.MethodFail && !s.fails.Allow(now, p.failKey) {
		s.m.drop(dropFailRateLimited)
		s.log.V(1).Info("Dropped a FAIL over the rate limit (§9.2.5)", keyPeer, p.addr, keyIdentity, p.identity,
			keyTransactionID, msg.TransactionID, keyCustomerOrderID, msg.CustomerOrderID)
		return
	}
	s.deliver(p, msg)
}

// deliver hands msg to p's writer: p if it is still open, else the newest
// association of the same identity (a client that reconnected, DESIGN §4).
func (s *Server) deliver(p *peerConn, msg wire.Message) {
	if p == nil || !p.alive() {
		var id string
		if p != nil {
			id = p.identity
		} else if msg.ProviderOrderID != "" {
			if e := s.orders[msg.ProviderOrderID]; e != nil {
				id = e.rec.Order.Identity
			}
		}
		p = s.byIdentity[id]
		if p == nil || !p.alive() {
			s.m.drop(dropNoAssociation)
			s.log.V(1).Info("Dropped a message: its client has no open association", keyIdentity, id,
				"method", msg.Method.String(), keyProviderOrderID, msg.ProviderOrderID)
			return
		}
	}
	if !p.enqueue(msg) {
		s.m.drop(dropSendQueueFull)
	}
}
