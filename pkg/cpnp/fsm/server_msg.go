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

package fsm

import (
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// onMsg runs the checks that Table 6 makes before any state is considered,
// in this order:
//
//  1. OFFER is a server message: discarded.
//  2. Identity (DESIGN §4, replacing the 5-tuple of Table 6): a message from
//     another identity is answered with FAIL 3 (Authorization Failed).
//  3. Identifiers: a customer or provider order identifier that is not the
//     order's gets FAIL 1 (no order matches, DESIGN §3).
//  4. Transaction: UPDATE, WITHDRAW and ACTIVATE with a new transaction ID
//     open a new transaction (the table decides whether the state allows it);
//     a QUOTATION of another transaction is discarded (it opens another
//     order: Server.Open); any other method of another transaction gets
//     FAIL 1 (no such transaction).
//  5. Sequence number in the current transaction (§11.3): a lower number is
//     discarded; the number of the last accepted message, with the same
//     method, is a retransmission of it (§11.4): the stored answer is sent
//     again (Retransmission: true; the shell rate-limits), or, when that
//     message needed no answer (a PROCESSING), it is discarded. The request
//     that opened the transaction, repeated with a higher number, is
//     discarded: a new request needs a new transaction ID (§8.4).
//  6. The transition table (serverTable) for everything else.
//
// A FAIL is never answered with a FAIL; it is discarded instead.
func (s *serverStep) onMsg(e MsgReceived) {
	msg := e.Msg
	s.in = inputOf(msg.Method)
	switch {
	case !msg.Method.Valid():
		s.discard("unknown method " + msg.Method.String())
		return
	case msg.Method == wire.MethodOffer:
		s.discard("OFFER is sent by servers only (§9.2.3)")
		return
	case e.Identity != s.o.Identity:
		s.refuse(msg, wire.StatusAuthorizationFailed, "order belongs to another authenticated identity (DESIGN §4)", false)
		return
	case msg.CustomerOrderID != s.o.CustomerOrderID || (msg.ProviderOrderID != "" && msg.ProviderOrderID != s.o.ProviderOrderID):
		s.refuse(msg, wire.StatusMessageValidationError, "order identifiers do not match (Table 6)", false)
		return
	}
	if msg.TransactionID != s.o.Txn.ID {
		switch msg.Method {
		case wire.MethodUpdate, wire.MethodWithdraw, wire.MethodActivate:
			s.dispatch(e)
		case wire.MethodQuotation:
			s.discard("QUOTATION of another transaction opens another order (Server.Open)")
		default:
			s.refuse(msg, wire.StatusMessageValidationError, "no transaction "+msg.TransactionID+" for this order (§8.4)", false)
		}
		return
	}
	switch s.o.Txn.Counters.Check(msg.Seq) {
	case session.Stale:
		s.discard("stale sequence number (§11.3)")
		return
	case session.Repeat:
		switch {
		case msg.Method != s.o.Txn.LastReceived:
			s.discard("sequence number already used by " + s.o.Txn.LastReceived.String() + " (§11.3)")
		case s.o.Txn.LastAnswer == nil:
			s.discard("repeated " + msg.Method.String() + " needs no answer (§11.4)")
		default:
			s.emit(Send{Msg: *s.o.Txn.LastAnswer, Retransmission: true})
		}
		return
	case session.Fresh:
	}
	if opensTransaction(msg.Method) {
		s.discard(msg.Method.String() + " reuses the current transaction ID; a new request needs a new one (§8.4)")
		return
	}
	s.dispatch(e)
}

// onTimer consumes a timer of the order. A timer that is not armed, or that
// fires before its deadline (it was moved), is stale and discarded.
func (s *serverStep) onTimer(e TimerFired) {
	s.in = serverInput("Timer:" + string(e.ID))
	at, ok := s.o.Timers[e.ID]
	switch {
	case !ok:
		s.discard("timer " + string(e.ID) + " is not armed")
		return
	case e.At.Before(at):
		s.discard("timer " + string(e.ID) + " fired before its deadline")
		return
	}
	s.timers.delete(&s.o.Timers, e.ID)
	s.changed = true
	s.dispatch(e)
}

// onDecision takes the policy's answer. A decision for another transaction
// is a stale answer (the cycle it was for has ended) and is discarded.
func (s *serverStep) onDecision(e Decision) {
	s.in = serverInput("Decision:" + string(e.Kind))
	if e.TransactionID != s.o.Txn.ID {
		s.discard("decision for transaction " + e.TransactionID + ", not the current one")
		return
	}
	s.dispatch(e)
}

// newTxn opens the transaction of msg (UPDATE, WITHDRAW, ACTIVATE) with the
// server's first outgoing sequence number first (§8.4, §11.3).
func (s *serverStep) newTxn(kind TxnKind, msg wire.Message, first uint32) {
	s.o.Txn = Transaction{Kind: kind, ID: msg.TransactionID, Counters: session.NewCounters(first)}
	s.o.Failure = nil
	s.accept(msg)
}

// deadline is the time the client waits for the offer until: the
// EXPECTED_OFFER_TIME it accepted, else its EXPECTED_RESPONSE_TIME (§9.1.6,
// §9.1.7); nil when it enforces none.
func (s *serverStep) deadline() *time.Time {
	if s.o.ExpectedOfferTime != nil {
		return s.o.ExpectedOfferTime
	}
	return s.o.CurrentRequest().ExpectedResponseTime
}

// consultKind is the Consult of the current cycle's request.
func (s *serverStep) consultKind() ConsultKind {
	if s.o.Txn.Kind == TxnUpdate {
		return ConsultUpdate
	}
	return ConsultQuotation
}

// beginProcessing answers the QUOTATION or UPDATE just accepted with
// PROCESSING (Fig. 9 PQOReceived --PROCESSING--> AwaitingProcessing, §9.2.2,
// §11.2.1) and consults the policy. When the client enforces a deadline, the
// server arms TimerOffer at it: when it passes the client has given up
// (§9.1.6, §9.1.7), so the server gives up too rather than hold the order
// forever if the client's CANCEL is lost.
func (s *serverStep) beginProcessing() {
	req := s.o.CurrentRequest()
	p := s.reply(wire.MethodProcessing)
	if d := s.m.ExpectedOfferDelay; d > 0 {
		eot := wire.CanonicalTime(s.at.Add(d))
		if ert := req.ExpectedResponseTime; ert != nil && eot.After(*ert) {
			eot = *ert
		}
		p.ExpectedOfferTime = timePtr(eot)
		s.o.ExpectedOfferTime = timePtr(eot)
	}
	s.moveTo(ServerAwaitingProcessing, "PROCESSING", "Processing", 0)
	s.answer(p)
	if dl := s.deadline(); dl != nil {
		s.startTimer(TimerOffer, *dl)
	}
	s.consult(s.consultKind(), false)
}

func (s *serverStep) consult(kind ConsultKind, approved bool) {
	s.o.Consulted = kind
	s.effect(Consult{Kind: kind, TransactionID: s.o.Txn.ID, Approved: approved})
}

// endCycle ends the current QUOTATION or UPDATE cycle without agreement:
// its timers stop, a reserved offer is released, a child order created by
// the cycle is cancelled or withdrawn (§8.8), and the order goes to
// Cancelled — or, for an UPDATE cycle, back to Completed with its previous
// agreement and nonce (DESIGN §3; RFC §8.11.1 allows sub-states: the
// Transition's Reason is "Update" + reason). failed records a Failure
// (a FAIL or a timer, not the client's CANCEL or DECLINE).
func (s *serverStep) endCycle(cause, reason string, code wire.StatusCode, failed bool) {
	if s.o.Txn.Kind == TxnUpdate && s.o.Agreement != nil {
		s.o.Update = nil
		s.moveTo(ServerCompleted, cause, "Update"+reason, code)
	} else {
		s.moveTo(ServerCancelled, cause, reason, code)
	}
	s.stopTimer(TimerRetransmit)
	s.stopTimer(TimerValidity)
	s.stopTimer(TimerOffer)
	s.o.Txn.Unanswered = nil
	s.o.Txn.Retries = 0
	s.o.RequestedOfferTime = nil
	s.o.Held = false
	if s.o.Reserved {
		s.o.Reserved = false
		s.effect(Release{Reason: reason})
	}
	s.teardownChild(true)
	if failed {
		s.o.Failure = &Failure{StatusCode: code, Reason: reason, Txn: s.o.Txn.Kind, At: s.at}
	}
}

// onCancel: CANCEL before an agreement (§9.2.7, Table 6, Fig. 9): ACK with
// the offered CPD if an offer was made, else the requested CPD (DESIGN §3),
// then Cancelled (or Completed for an UPDATE cycle).
func (s *serverStep) onCancel(ev Event) {
	s.accept(ev.(MsgReceived).Msg)
	c := s.o.CurrentRequest().CPD
	if s.o.Offer != nil {
		c = s.o.Offer.CPD
	}
	ack := s.reply(wire.MethodAck)
	ack.CPD = ptrCPD(c)
	s.endCycle("CANCEL", "Cancelled", 0, false)
	s.answer(ack)
}

// onMoreTimeAck: the client grants the time asked for (§9.2.2, §9.2.6, Fig.
// 11). The new deadline is the EXPECTED_RESPONSE_TIME of the ACK (the
// granted time, "likely to be set to the time extension requested"), or the
// requested time when the ACK lacks it. The ACK needs no answer.
func (s *serverStep) onMoreTimeAck(ev Event) {
	msg := ev.(MsgReceived).Msg
	s.accept(msg)
	granted := *s.o.RequestedOfferTime
	if msg.ExpectedResponseTime != nil {
		granted = *msg.ExpectedResponseTime
	}
	s.o.ExpectedOfferTime = timePtr(granted)
	s.o.RequestedOfferTime = nil
	s.o.Txn.Unanswered = nil
	s.o.Txn.Retries = 0
	s.stopTimer(TimerRetransmit)
	s.startTimer(TimerOffer, granted)
}

// onClientFail: the client refuses the time asked for (Table 6 FAIL row,
// Fig. 12). §11.2.1 would let the server still answer before the initial
// expected offer time, but the client machine cancels its order on FAIL 7
// (§8.6: a FAIL terminates the transaction), so the server does too and
// releases what it holds.
func (s *serverStep) onClientFail(ev Event) {
	msg := ev.(MsgReceived).Msg
	s.accept(msg)
	reason := "MoreTimeRejected"
	if msg.StatusCode != wire.StatusMoreTimeRejected {
		reason = "ClientFailed"
	}
	s.endCycle("FAIL", reason, msg.StatusCode, true)
}

// onOfferDeadline: the deadline the client enforces passed without an offer
// (§8.5, §9.1.7: the client "will consider the order rejected").
func (s *serverStep) onOfferDeadline(Event) {
	s.endCycle(string(TimerOffer), "ExpectedOfferTimeElapsed", 0, true)
}

// onRetransmit resends the request awaiting an answer — the OFFER until
// PROCESSING, ACCEPT or DECLINE arrives (§11.2.1), or a request for more
// time — with its original sequence number, until the schedule is exhausted
// (§11.4). The final ACK of a transaction is never retransmitted by timer.
func (s *serverStep) onRetransmit(Event) {
	sch := s.m.schedule()
	if sch.Exhausted(s.o.Txn.Retries) {
		s.o.Txn.Unanswered = nil
		s.o.Txn.Retries = 0
		s.changed = true
		s.discard("retransmissions exhausted (§11.4)")
		return
	}
	s.o.Txn.Retries++
	s.emit(Send{Msg: *s.o.Txn.Unanswered, Retransmission: true})
	s.startTimer(TimerRetransmit, s.at.Add(sch.Delay(s.o.Txn.Retries)))
}

// onMoreTime asks the client for more time (DecideMoreTime or the
// RequestMoreTime command, §9.2.2, §11.2.1).
func (s *serverStep) onMoreTime(ev Event) {
	var (
		eot time.Time
		sub wire.Subcode
	)
	switch e := ev.(type) {
	case Decision:
		if e.MoreTime == nil {
			s.discard("invalid decision: MoreTime without its expected offer time")
			return
		}
		eot, sub = e.MoreTime.ExpectedOfferTime, e.MoreTime.Subcode
	case RequestMoreTime:
		eot, sub = e.ExpectedOfferTime, e.Subcode
	}
	if eot.IsZero() || (sub != 0 && !sub.Valid()) {
		s.discard("invalid request for more time: no expected offer time or an unknown subcode")
		return
	}
	s.sendProcessing(&eot, sub)
}

// sendProcessing sends a PROCESSING in the current cycle (§9.2.2). With an
// EXPECTED_OFFER_TIME later than the time the client enforces, it is a
// request for more time: it awaits ACK or FAIL and is retransmitted (§11.4).
// With an earlier one (or when the client enforces none), it is a notice
// that becomes the new deadline. Without one it only informs (for example
// subcode 2 when a child order starts, §8.8).
func (s *serverStep) sendProcessing(eot *time.Time, sub wire.Subcode) {
	p := s.reply(wire.MethodProcessing)
	p.Subcode = sub
	if eot != nil {
		t := wire.CanonicalTime(*eot)
		p.ExpectedOfferTime = timePtr(t)
		if granted := s.deadline(); granted != nil && t.After(*granted) {
			s.o.RequestedOfferTime = timePtr(t)
			s.o.Txn.Unanswered = msgPtr(p)
			s.o.Txn.Retries = 0
			s.startTimer(TimerRetransmit, s.at.Add(s.m.schedule().Delay(0)))
		} else {
			s.o.ExpectedOfferTime = timePtr(t)
			s.o.RequestedOfferTime = nil
			if u := s.o.Txn.Unanswered; u != nil && u.Method == wire.MethodProcessing {
				s.o.Txn.Unanswered = nil
				s.o.Txn.Retries = 0
				s.stopTimer(TimerRetransmit)
			}
			s.startTimer(TimerOffer, t)
		}
	}
	s.answerLate(p)
}

// onAccept: ACCEPT of the open offer (§9.2.4, §11.2.1, Table 6). Checks: the
// nonce of the offer (else FAIL 3), the validity time (an ACCEPT at or after
// VALIDITY_OFFER_TIME finds no open offer: the offer lapses now, silently as
// §9.1.8 says, and the ACCEPT gets FAIL 1), and the Offered CPD (else FAIL
// 1). Then AcceptReceived, the reservation becomes the agreement (Commit),
// the ACK carries the offered CPD (DESIGN §3), and the order is Completed
// (Fig. 9 AcceptReceived --ACK--> Completed). The agreement's activation
// follows the negotiated activation type: explicit waits for ACTIVATE; else
// the offer's ACTIVATION_SCHEDULE if it is in the future, else now.
func (s *serverStep) onAccept(ev Event) {
	msg := ev.(MsgReceived).Msg
	offer := s.o.Offer
	switch {
	case offer == nil:
		s.refuse(msg, wire.StatusMessageValidationError, "no open offer", true)
		return
	case msg.Nonce != offer.Nonce:
		s.refuse(msg, wire.StatusAuthorizationFailed, "nonce does not match the offer (§9.1.5, Table 6)", true)
		return
	case !s.at.Before(offer.ValidUntil):
		s.endCycle("ACCEPT", "OfferExpired", 0, true)
		s.refuse(msg, wire.StatusMessageValidationError, "the offer expired (§9.1.8)", true)
		return
	case msg.AcceptedCPD == nil || !cpd.Equal(*msg.AcceptedCPD, offer.CPD):
		s.refuse(msg, wire.StatusMessageValidationError, "accepted CPD is not the offered CPD (Table 6)", true)
		return
	}
	s.accept(msg)
	s.stopTimer(TimerRetransmit)
	s.stopTimer(TimerValidity)
	s.o.Txn.Unanswered = nil
	s.o.Txn.Retries = 0
	s.moveTo(ServerAcceptReceived, "ACCEPT", "OfferAccepted", 0)
	a := &Agreement{
		CPD:            offer.CPD,
		Nonce:          offer.Nonce,
		ActivationType: activationType(offer, s.o.CurrentRequest(), s.o.Agreement),
		Since:          s.at,
	}
	if a.ActivationType != wire.ActivationExplicit {
		if sch := offer.ActivationSchedule; sch != nil && !sch.Deactivate && sch.At.After(s.at) {
			a.ScheduledAt = timePtr(sch.At)
		} else {
			a.Active = true
		}
	}
	reason := "AgreementReached"
	if s.o.Txn.Kind == TxnUpdate {
		reason = "UpdateAgreed"
		s.o.PrevAgreement = s.o.Agreement
		if s.o.Update != nil {
			s.o.Request = *s.o.Update
			s.o.Update = nil
		}
	}
	s.o.Reserved = false
	s.effect(Commit{CPD: a.CPD})
	s.setAgreement(a)
	ack := s.reply(wire.MethodAck)
	ack.CPD = ptrCPD(offer.CPD)
	s.answer(ack)
	s.o.Failure = nil
	s.moveTo(ServerCompleted, "ACK", reason, 0)
}

// setAgreement installs a as the agreement in force, re-arms TimerActivation
// for its schedule and reports a change of activation (§9.2.11).
func (s *serverStep) setAgreement(a *Agreement) {
	var (
		wasActive bool
		wasAt     *time.Time
	)
	if p := s.o.Agreement; p != nil {
		wasActive, wasAt = p.Active, p.ScheduledAt
	}
	s.o.Agreement = a
	s.changed = true
	s.stopTimer(TimerActivation)
	if a.ScheduledAt != nil {
		s.startTimer(TimerActivation, *a.ScheduledAt)
	}
	if a.Active != wasActive || !sameTime(a.ScheduledAt, wasAt) {
		s.effect(Activation{Active: a.Active, ScheduledAt: a.ScheduledAt})
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// onDecline: DECLINE of the open offer (§9.2.5, Table 6, Fig. 9): the nonce
// must match (else FAIL 3); ACK with the Empty CPD (DESIGN §3), release the
// offer, Cancelled (Completed for an UPDATE cycle).
func (s *serverStep) onDecline(ev Event) {
	msg := ev.(MsgReceived).Msg
	switch {
	case s.o.Offer == nil:
		s.refuse(msg, wire.StatusMessageValidationError, "no open offer", true)
		return
	case msg.Nonce != s.o.Offer.Nonce:
		s.refuse(msg, wire.StatusAuthorizationFailed, "nonce does not match the offer (§9.1.5, Table 6)", true)
		return
	}
	s.accept(msg)
	ack := s.reply(wire.MethodAck)
	ack.CPD = ptrCPD(cpd.Empty())
	s.endCycle("DECLINE", "Declined", 0, false)
	s.answer(ack)
}

// onProcessing: the client is processing the offer (Fig. 9 OfferProposed
// --PROCESSING--> ProcessingReceived); the OFFER is no longer retransmitted
// (§11.2.1). No answer.
func (s *serverStep) onProcessing(ev Event) {
	s.accept(ev.(MsgReceived).Msg)
	s.stopTimer(TimerRetransmit)
	s.o.Txn.Unanswered = nil
	s.o.Txn.Retries = 0
	s.moveTo(ServerProcessingReceived, "PROCESSING", "OfferBeingProcessed", 0)
}

// onValidity: VALIDITY_OFFER_TIME passed (§9.1.8): "the CPNP server will
// silently remove this order": no message, the offer is released.
func (s *serverStep) onValidity(Event) {
	s.endCycle(string(TimerValidity), "OfferExpired", 0, true)
}

// onDecisionOffer sends the policy's OFFER (Fig. 9 AwaitingProcessing
// --OFFER--> OfferProposed, §9.2.3, §11.2.1): the offered CPD is reserved
// (DESIGN §3), the OFFER is retransmitted until PROCESSING, ACCEPT or
// DECLINE arrives, and TimerValidity is armed. The nonce is the one drawn
// when the cycle opened (a new one for an UPDATE, §11.2.3) unless the
// decision brings its own.
func (s *serverStep) onDecisionOffer(ev Event) {
	d := ev.(Decision).Offer
	if d == nil {
		s.discard("invalid decision: Offer without an offer")
		return
	}
	vu := wire.CanonicalTime(d.ValidUntil)
	nonce := d.Nonce
	if nonce == "" {
		nonce = s.o.OfferNonce
	}
	switch {
	case len(d.CPD.Components) == 0:
		s.discard("invalid decision: the offered CPD has no component (§8.7)")
		return
	case !vu.After(s.at):
		s.discard("invalid decision: the offer's validity is already over (§9.1.8)")
		return
	case nonce == "":
		s.discard("invalid decision: no nonce for the offer (§9.1.5)")
		return
	}
	offer := &Offer{
		CPD:                 d.CPD,
		Nonce:               nonce,
		ValidUntil:          vu,
		ActivationSchedule:  canonicalSchedule(d.ActivationSchedule),
		InformationElements: d.InformationElements,
		ReceivedAt:          s.at,
	}
	msg := s.reply(wire.MethodOffer)
	msg.Nonce = nonce
	msg.ValidityOfferTime = timePtr(vu)
	msg.OfferedCPD = ptrCPD(offer.CPD)
	msg.ActivationSchedule = offer.ActivationSchedule
	msg.InformationElements = offer.InformationElements
	s.moveTo(ServerOfferProposed, "OFFER", "OfferMade", 0)
	s.stopTimer(TimerOffer)
	s.stopTimer(TimerRetransmit)
	s.o.RequestedOfferTime = nil
	s.o.Offer = offer
	s.o.Reserved = true
	s.effect(Reserve{CPD: offer.CPD})
	s.answerLate(msg)
	s.o.Txn.Unanswered = msgPtr(msg)
	s.o.Txn.Retries = 0
	s.startTimer(TimerRetransmit, s.at.Add(s.m.schedule().Delay(0)))
	s.startTimer(TimerValidity, vu)
}

// onDecisionFail: the policy cannot offer anything (§9.2.10, §11.2.1): FAIL
// with its status code, then Cancelled (Completed for an UPDATE cycle). A
// code outside Table 4, or 7 (the client's code), is a policy bug: discarded.
func (s *serverStep) onDecisionFail(ev Event) {
	code := ev.(Decision).StatusCode
	if !code.Valid() || code == wire.StatusMoreTimeRejected {
		s.discard("invalid decision: FAIL status code " + code.String())
		return
	}
	f := s.reply(wire.MethodFail)
	f.StatusCode = code
	s.endCycle("FAIL", "Failed", code, true)
	s.answerLate(f)
}

// onDecisionHold: administrative validation (§8.2, §12.2): the order stays
// in AwaitingProcessing, Held, until AdminApprove or AdminReject.
func (s *serverStep) onDecisionHold(Event) {
	s.o.Held = true
	s.changed = true
}

// onAdminApprove: the administrator approves; the policy decides again,
// told not to hold (Consult.Approved).
func (s *serverStep) onAdminApprove(Event) {
	s.o.Held = false
	kind := s.o.Consulted
	if kind == "" {
		kind = s.consultKind()
	}
	s.consult(kind, true)
}

// onAdminReject: the administrator refuses: FAIL 4 (DESIGN §3).
func (s *serverStep) onAdminReject(Event) {
	f := s.reply(wire.MethodFail)
	f.StatusCode = wire.StatusAdministrativelyProhibited
	s.endCycle("AdminReject", "Rejected", f.StatusCode, true)
	s.answerLate(f)
}

// checkAgreement makes the Table 6 checks of UPDATE, WITHDRAW and ACTIVATE
// on a Completed order: an agreement and its nonce (else FAIL 3). It
// reports whether msg passed.
func (s *serverStep) checkAgreement(msg wire.Message) bool {
	switch {
	case s.o.Agreement == nil:
		s.refuse(msg, wire.StatusMessageValidationError, "no agreement", false)
		return false
	case msg.Nonce != s.o.Agreement.Nonce:
		s.refuse(msg, wire.StatusAuthorizationFailed, "nonce does not match the agreement (§9.1.5, Table 6)", false)
		return false
	}
	return true
}

// onUpdate: UPDATE of a Completed order (§9.2.9, §11.2.3, Table 6): a new
// transaction and a new negotiation cycle, PROCESSING then Consult{Update}.
// The agreement and its nonce stand until the UPDATE's ACCEPT is
// acknowledged (DESIGN §3); the provider order identifier is kept. The
// offer will carry the nonce drawn now (Fresh.Nonce, §11.2.3).
func (s *serverStep) onUpdate(ev Event) {
	e := ev.(MsgReceived)
	msg := e.Msg
	if !s.checkAgreement(msg) {
		return
	}
	if msg.RequestedCPD == nil {
		s.refuse(msg, wire.StatusMessageValidationError, "UPDATE without requested_cpd", false)
		return
	}
	s.newTxn(TxnUpdate, msg, e.Fresh.Seq)
	u := requestOf(msg)
	s.o.Update = &u
	s.o.Offer = nil
	s.o.PrevAgreement = nil
	s.o.OfferNonce = e.Fresh.Nonce
	s.o.ExpectedOfferTime = nil
	s.moveTo(ServerPQOReceived, "UPDATE", "UpdateReceived", 0)
	s.beginProcessing()
}

// onWithdraw: WITHDRAW of a Completed order (§9.2.8, §11.2.2, Table 6, Fig.
// 9): the agreement is released, a child order is withdrawn with it (§8.8,
// DESIGN §6), ACK with the Empty CPD, Cancelled. A repeat of this WITHDRAW
// (the client's next withdrawal cycle, §11.1.2) is answered with the stored
// ACK.
func (s *serverStep) onWithdraw(ev Event) {
	e := ev.(MsgReceived)
	if !s.checkAgreement(e.Msg) {
		return
	}
	s.newTxn(TxnWithdraw, e.Msg, e.Fresh.Seq)
	s.moveTo(ServerCancelled, "WITHDRAW", "Withdrawn", 0)
	s.stopTimer(TimerActivation)
	s.o.Agreement = nil
	s.o.PrevAgreement = nil
	s.o.Offer = nil
	s.effect(Release{Agreement: true, Reason: "Withdrawn"})
	s.teardownChild(false)
	ack := s.reply(wire.MethodAck)
	ack.CPD = ptrCPD(cpd.Empty())
	s.answer(ack)
}

// onActivate: ACTIVATE of a Completed order (§9.2.11, Table 6): a new
// transaction. Not negotiated with activation type explicit: FAIL 8 (DESIGN
// §3). Else "0" deactivates, a schedule at or before the event time
// activates now, a later one is armed (TimerActivation); ACK without CPD.
func (s *serverStep) onActivate(ev Event) {
	e := ev.(MsgReceived)
	if !s.checkAgreement(e.Msg) {
		return
	}
	s.newTxn(TxnActivate, e.Msg, e.Fresh.Seq)
	if s.o.Agreement.ActivationType != wire.ActivationExplicit {
		f := s.reply(wire.MethodFail)
		f.StatusCode = wire.StatusUnsupportedActivationType
		s.o.Failure = &Failure{StatusCode: f.StatusCode, Sent: true, Reason: "UnsupportedActivationType", Txn: TxnActivate, At: s.at}
		s.answer(f)
		return
	}
	a := *s.o.Agreement
	switch sch := e.Msg.ActivationSchedule; {
	case sch != nil && sch.Deactivate:
		a.Active, a.ScheduledAt = false, nil
	case sch == nil || !sch.At.After(s.at):
		a.Active, a.ScheduledAt = true, nil
	default:
		a.ScheduledAt = timePtr(sch.At)
	}
	s.setAgreement(&a)
	s.answer(s.reply(wire.MethodAck))
}

// onCancelAfterAck: a CANCEL of the QUOTATION or UPDATE transaction whose
// ACCEPT was acknowledged. The client never received the ACK (§8.11.2:
// Completed "assumes that the ACK was received by the client"; the client
// may cancel from AcceptSent, Fig. 8), so for it no agreement was reached:
// the agreement is released (QUOTATION: Cancelled) or the previous agreement
// restored (UPDATE: Completed, Reason "UpdateCancelledAfterAck"), and the
// CANCEL is acknowledged with the offered CPD (DESIGN §3). This edge is not
// drawn in Figure 9.
func (s *serverStep) onCancelAfterAck(ev Event) {
	s.accept(ev.(MsgReceived).Msg)
	ack := s.reply(wire.MethodAck)
	switch {
	case s.o.Offer != nil:
		ack.CPD = ptrCPD(s.o.Offer.CPD)
	case s.o.Agreement != nil:
		ack.CPD = ptrCPD(s.o.Agreement.CPD)
	}
	if s.o.Txn.Kind == TxnUpdate {
		prev := s.o.PrevAgreement
		s.o.PrevAgreement = nil
		s.moveTo(ServerCompleted, "CANCEL", "UpdateCancelledAfterAck", 0)
		s.effect(Commit{CPD: prev.CPD})
		s.setAgreement(prev)
		s.teardownChild(true)
	} else {
		s.moveTo(ServerCancelled, "CANCEL", "CancelledAfterAck", 0)
		s.stopTimer(TimerActivation)
		s.o.Agreement = nil
		s.effect(Release{Agreement: true, Reason: "CancelledAfterAck"})
		s.teardownChild(false)
	}
	s.answer(ack)
}

// onActivationDue: the scheduled activation time arrived (§9.2.3, §9.2.11).
func (s *serverStep) onActivationDue(Event) {
	if s.o.Agreement == nil {
		s.discard("no agreement to activate")
		return
	}
	a := *s.o.Agreement
	a.Active, a.ScheduledAt = true, nil
	s.setAgreement(&a)
}

// ptrCPD returns a pointer to a copy of the CPD header c; the components
// are shared, as every CPD the machine holds is immutable (see ServerOrder).
func ptrCPD(c cpd.CPD) *cpd.CPD { return &c }

// msgPtr returns a pointer to a copy of m; its CPDs, IEs and times are
// shared, as every message the machine holds is immutable (see ServerOrder).
func msgPtr(m wire.Message) *wire.Message { return &m }

// canonicalSchedule copies s with its time as the wire carries it.
func canonicalSchedule(s *wire.Schedule) *wire.Schedule {
	if s == nil {
		return nil
	}
	c := *s
	if !c.Deactivate {
		c.At = wire.CanonicalTime(c.At)
	}
	return &c
}
