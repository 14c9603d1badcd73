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
	"fmt"
	"slices"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Transition reasons of the client machine; doc.go lists when each is used.
// A negotiation that ends during an UPDATE cycle returns to Completed and
// its reason gets the prefix "Update" ("UpdateFailed", "UpdateDeclined").
const (
	reasonApproved            = "Approved"
	reasonQuotationSent       = "QuotationSent"
	reasonCancelled           = "Cancelled"
	reasonServerProcessing    = "ServerProcessing"
	reasonExtensionRequested  = "ExtensionRequested"
	reasonExtensionGranted    = "ExtensionGranted"
	reasonMoreTimeRejected    = "MoreTimeRejected"
	reasonOfferReceived       = "OfferReceived"
	reasonOfferProcessing     = "OfferProcessing"
	reasonOfferAccepted       = "OfferAccepted"
	reasonDeclined            = "Declined"
	reasonAgreed              = "Agreed"
	reasonUpdated             = "Updated"
	reasonFailed              = "Failed"
	reasonOfferExpired        = "OfferExpired"
	reasonOfferTimeExpired    = "OfferTimeExpired"
	reasonResponseTimeExpired = "ResponseTimeExpired"
	reasonNoResponse          = "NoResponse"
	reasonUpdateRequested     = "UpdateRequested"
	reasonUpdateSent          = "UpdateSent"
	reasonWithdrawn           = "Withdrawn"
	reasonWithdrawAcked       = "WithdrawAcknowledged"
	reasonWithdrawFailed      = "WithdrawFailed"
	reasonActivationRequested = "ActivationRequested"
	reasonActivated           = "Activated"
	reasonDeactivated         = "Deactivated"
	reasonActivationScheduled = "ActivationScheduled"
	reasonActivationFailed    = "ActivationFailed"
	reasonActivationNoResp    = "ActivationNoResponse"
	reasonCancelAcked         = "CancelAcknowledged"
	reasonCancelRefused       = "CancelRefused"
	reasonNoAcknowledgement   = "NoAcknowledgement"
)

// onApprove: Created → AwaitingProcessing (§8.11.1: the administrator
// approves the order).
func (s *clientStep) onApprove(any) { s.moveTo(ClientAwaitingProcessing, reasonApproved) }

// onCancelUnsent: Created / AwaitingProcessing → Cancelled. Nothing was sent,
// so nothing is sent (Fig. 8 edges from Created and AwaitingProcessing).
func (s *clientStep) onCancelUnsent(any) { s.moveTo(ClientCancelled, reasonCancelled) }

// onQuote sends the QUOTATION (§9.2.1, §11.1.1): AwaitingProcessing →
// PQOSent, TimerResponse armed at EXPECTED_RESPONSE_TIME if there is one.
// An EXPECTED_RESPONSE_TIME that already passed cancels the order instead:
// no server could answer in time.
func (s *clientStep) onQuote(in any) {
	q, _ := in.(Quote)
	req := s.o.Request
	switch {
	case q.TransactionID == "":
		s.discard("Quote carries no transaction ID (§8.4)")
		return
	case s.o.CustomerOrderID == "":
		s.discard("order has no customer order identifier (§9.1.1)")
		return
	case req.CPD.IsEmpty():
		s.discard("QUOTATION needs a non-empty requested CPD (§9.2.1)")
		return
	}
	if ert := req.ExpectedResponseTime; ert != nil && !ert.After(s.at) {
		s.setFailure(reasonResponseTimeExpired, 0, false)
		s.moveTo(ClientCancelled, reasonResponseTimeExpired)
		return
	}
	s.beginTxn(TxnQuotation, q.TransactionID, q.Seq)
	msg := s.newMsg(wire.MethodQuotation)
	msg.ExpectedResponseTime = req.ExpectedResponseTime
	msg.RequestedCPD = ptrCPD(req.CPD)
	msg.InformationElements = req.InformationElements
	s.moveTo(ClientPQOSent, reasonQuotationSent)
	if ert := req.ExpectedResponseTime; ert != nil {
		s.startTimer(TimerResponse, *ert)
	}
	s.sendRequest(msg)
}

// onProcessing handles PROCESSING in PQOSent (Table 5) and ServerProcessing
// (a request for more time, §9.2.2, Figs. 11/12). A PROCESSING answers the
// QUOTATION or UPDATE, so retransmission stops (§11.4). Its
// EXPECTED_OFFER_TIME, if any, is accepted when it is not later than the
// time currently granted; a later one is a request for more time.
func (s *clientStep) onProcessing(in any) {
	msg := messageOf(in)
	if !s.checkProvider(msg) {
		return
	}
	s.acceptMsg(msg)
	if s.o.State == ClientPQOSent {
		s.answered()
		s.moveTo(ClientServerProcessing, reasonServerProcessing)
	}
	eot := msg.ExpectedOfferTime
	if eot == nil {
		return
	}
	if granted := s.grantedTime(); granted != nil && eot.After(*granted) {
		s.extensionRequested(*eot)
		return
	}
	s.o.PendingExtension = nil
	s.o.ExpectedOfferTime = eot
	s.stopTimer(TimerResponse)
	s.startTimer(TimerOffer, *eot)
}

// grantedTime is the deadline currently granted to the server for an offer:
// the EXPECTED_OFFER_TIME already accepted, else the request's
// EXPECTED_RESPONSE_TIME; nil when the client enforces none (§11.1.1).
func (s *clientStep) grantedTime() *time.Time {
	if s.o.ExpectedOfferTime != nil {
		return s.o.ExpectedOfferTime
	}
	return s.o.currentRequest().ExpectedResponseTime
}

// extensionRequested applies the client's policy to a request for more time
// (§9.2.2): grant up to ExtensionLimit, refuse beyond it, or wait for the
// user when there is no limit.
func (s *clientStep) extensionRequested(t time.Time) {
	if lim := s.o.ExtensionLimit; lim != nil {
		if t.After(*lim) {
			s.refuse()
		} else {
			s.grant(t)
		}
		return
	}
	s.o.PendingExtension = &t
	s.moveTo(ClientServerProcessing, reasonExtensionRequested)
}

// grant answers the request for more time with an ACK carrying the granted
// time as EXPECTED_RESPONSE_TIME and no CPD (§9.2.6, Fig. 11, DESIGN §3).
func (s *clientStep) grant(t time.Time) {
	ack := s.newMsg(wire.MethodAck)
	ack.ExpectedResponseTime = &t
	s.o.ExpectedOfferTime = timePtr(t)
	s.o.PendingExtension = nil
	s.stopTimer(TimerResponse)
	s.startTimer(TimerOffer, t)
	s.moveTo(ClientServerProcessing, reasonExtensionGranted)
	s.sendAnswer(ack)
}

// refuse answers the request for more time with FAIL 7, More Time Rejected
// (§9.2.10, Fig. 12); the negotiation ends.
func (s *clientStep) refuse() {
	fail := s.newMsg(wire.MethodFail)
	fail.StatusCode = wire.StatusMoreTimeRejected
	s.setFailure(reasonMoreTimeRejected, wire.StatusMoreTimeRejected, true)
	s.endNegotiation(reasonMoreTimeRejected, wire.StatusMoreTimeRejected)
	s.sendAnswer(fail)
}

// onOffer handles an OFFER in PQOSent or ServerProcessing (Table 5, §11.1.1):
// the offer is recorded, TimerValidity armed at VALIDITY_OFFER_TIME, and the
// client answers PROCESSING at once (Fig. 6), so the order passes
// OfferReceived → OfferProcessing in one step. An offer that arrives already
// expired ends the negotiation (OfferExpired) without an answer.
func (s *clientStep) onOffer(in any) {
	msg := messageOf(in)
	switch {
	case msg.OfferedCPD == nil:
		s.discard("OFFER carries no offered CPD (§9.2.3)")
		return
	case msg.ValidityOfferTime == nil:
		s.discard("OFFER carries no validity offer time (§9.2.3)")
		return
	case msg.Nonce == "":
		s.discard("OFFER carries no nonce (§9.2.3)")
		return
	}
	if !s.checkProvider(msg) {
		return
	}
	s.acceptMsg(msg)
	s.answered()
	s.stopTimer(TimerResponse)
	s.stopTimer(TimerOffer)
	s.o.PendingExtension = nil
	validUntil := *msg.ValidityOfferTime
	s.o.Offer = &Offer{
		CPD:                 *msg.OfferedCPD,
		Nonce:               msg.Nonce,
		ValidUntil:          validUntil,
		ActivationSchedule:  msg.ActivationSchedule,
		InformationElements: msg.InformationElements,
		ReceivedAt:          s.at,
	}
	s.moveTo(ClientOfferReceived, reasonOfferReceived)
	if !validUntil.After(s.at) {
		s.setFailure(reasonOfferExpired, 0, false)
		s.endNegotiation(reasonOfferExpired, 0)
		return
	}
	s.startTimer(TimerValidity, validUntil)
	s.cause = wire.MethodProcessing.String()
	s.moveTo(ClientOfferProcessing, reasonOfferProcessing)
	s.sendAnswer(s.newMsg(wire.MethodProcessing))
}

// onAccept sends the ACCEPT, its fields copied from the OFFER (§9.2.4):
// → AcceptSent. An offer whose validity has passed is not accepted (§9.2.4:
// "should not be sent after the validity time"): the negotiation ends as if
// TimerValidity had fired.
func (s *clientStep) onAccept(any) {
	offer := s.o.Offer
	if offer == nil {
		s.discard("no offer to accept")
		return
	}
	if !offer.ValidUntil.After(s.at) {
		s.setFailure(reasonOfferExpired, 0, false)
		s.endNegotiation(reasonOfferExpired, 0)
		return
	}
	msg := s.newMsg(wire.MethodAccept)
	msg.Nonce = offer.Nonce
	msg.AcceptedCPD = ptrCPD(offer.CPD)
	msg.InformationElements = offer.InformationElements
	s.stopTimer(TimerValidity)
	s.moveTo(ClientAcceptSent, reasonOfferAccepted)
	s.sendRequest(msg)
}

// onDecline sends a DECLINE (§9.2.5): → Cancelled (Fig. 8), or back to
// Completed during an UPDATE cycle. The DECLINE is retransmitted until the
// server's ACK.
func (s *clientStep) onDecline(in any) {
	d, _ := in.(DeclineOffer)
	offer := s.o.Offer
	if offer == nil {
		s.discard("no offer to decline")
		return
	}
	for _, r := range d.Reasons {
		if !r.Valid() {
			s.discard(fmt.Sprintf("decline reason %d is not in Table 3 (§9.2.5)", int(r)))
			return
		}
	}
	msg := s.newMsg(wire.MethodDecline)
	msg.Nonce = offer.Nonce
	if len(d.Reasons) > 0 {
		msg.Reasons = slices.Clone(d.Reasons)
	}
	s.endNegotiation(reasonDeclined, 0)
	s.sendRequest(msg)
}

// onCancel sends a CANCEL (§9.2.7): the negotiation ends (Fig. 8 CANCEL
// edges). The CANCEL is retransmitted until the server's ACK.
func (s *clientStep) onCancel(any) {
	s.endNegotiation(reasonCancelled, 0)
	s.sendRequest(s.newMsg(wire.MethodCancel))
}

// onDeadline handles EXPECTED_RESPONSE_TIME (§8.5: "the respective PQO is
// cancelled by the client, and a CANCEL message is generated") and
// EXPECTED_OFFER_TIME (§8.5, §11.1.1: the order is considered rejected; the
// client also sends CANCEL so that the server releases what it holds).
func (s *clientStep) onDeadline(in any) {
	base := reasonOfferTimeExpired
	if id, _ := in.(TimerID); id == TimerResponse {
		base = reasonResponseTimeExpired
	}
	s.setFailure(base, 0, false)
	s.endNegotiation(base, 0)
	s.sendRequest(s.newMsg(wire.MethodCancel))
}

// onValidity: VALIDITY_OFFER_TIME passed before the ACCEPT was sent. The
// server silently drops the offer (§9.1.8), so the client sends nothing.
func (s *clientStep) onValidity(any) {
	s.setFailure(reasonOfferExpired, 0, false)
	s.endNegotiation(reasonOfferExpired, 0)
}

// onGrantExtension grants the pending request for more time (Fig. 11).
func (s *clientStep) onGrantExtension(any) {
	if s.o.PendingExtension == nil {
		s.discard("no request for more time is pending")
		return
	}
	s.grant(*s.o.PendingExtension)
}

// onRefuseExtension refuses the pending request for more time (Fig. 12).
func (s *clientStep) onRefuseExtension(any) {
	if s.o.PendingExtension == nil {
		s.discard("no request for more time is pending")
		return
	}
	s.refuse()
}

// onAck handles an ACK: in AcceptSent it must carry the offered (or, for an
// UPDATE, the updated) CPD (Table 5) and completes the negotiation; in
// Cancelled it acknowledges a WITHDRAW (Empty CPD, Table 5), a CANCEL or a
// DECLINE; in Completed an ACTIVATE (no CPD, DESIGN §3) or the CANCEL or
// DECLINE that ended an UPDATE cycle. The CPD of the ACK to a CANCEL or a
// DECLINE is not compared: Table 5 has no row for it, and §9.2.5 and §9.2.6
// disagree on its content.
func (s *clientStep) onAck(in any) {
	msg := messageOf(in)
	switch {
	case s.o.State == ClientAcceptSent:
		offer := s.o.Offer
		switch {
		case offer == nil:
			s.discard("no offer was accepted")
			return
		case msg.CPD == nil || !cpd.Equal(*msg.CPD, offer.CPD):
			s.discard("ACK does not carry the offered CPD (Table 5)")
			return
		}
		if !s.checkProvider(msg) {
			return
		}
		s.acceptMsg(msg)
		s.answered()
		s.stopNegotiationTimers()
		s.agree(*offer)
	case s.withdrawPending():
		if msg.CPD == nil || !msg.CPD.IsEmpty() {
			s.discard("ACK to a WITHDRAW must carry the Empty CPD (Table 5)")
			return
		}
		if !s.checkProvider(msg) {
			return
		}
		s.acceptMsg(msg)
		s.answered()
		s.stopTimer(TimerWithdrawCycle)
		s.o.WithdrawAcked = true
		s.moveTo(ClientCancelled, reasonWithdrawAcked)
	case s.activationPending():
		if !s.checkProvider(msg) {
			return
		}
		s.acceptMsg(msg)
		s.answered()
		s.activated(*s.o.Activation)
	case s.closingPending():
		if !s.checkProvider(msg) {
			return
		}
		s.acceptMsg(msg)
		s.answered()
		s.moveTo(s.o.State, reasonCancelAcked)
	default:
		s.discard("ACK does not answer a pending request")
	}
}

// onFail handles a FAIL (§9.2.10): during a negotiation it ends it (§8.6:
// "it terminates the ongoing transaction"): Cancelled, or Completed with the
// previous agreement for an UPDATE cycle (Fig. 8 ServerProcessing --FAIL-->).
// It also answers a pending ACTIVATE (the agreement stays as it was), a
// WITHDRAW (an Alarm: the server may still hold the agreement), or a CANCEL
// or DECLINE.
func (s *clientStep) onFail(in any) {
	msg := messageOf(in)
	code := msg.StatusCode
	if !s.checkProvider(msg) {
		return
	}
	switch s.o.State {
	case ClientPQOSent, ClientServerProcessing, ClientOfferReceived, ClientOfferProcessing, ClientAcceptSent:
		s.acceptMsg(msg)
		s.answered()
		s.setFailure(reasonFailed, code, false)
		s.endNegotiation(reasonFailed, code)
		return
	}
	switch {
	case s.withdrawPending():
		s.acceptMsg(msg)
		s.answered()
		s.stopTimer(TimerWithdrawCycle)
		s.setFailure(reasonWithdrawFailed, code, false)
		s.moveToCode(ClientCancelled, reasonWithdrawFailed, code)
		s.alarm(fmt.Sprintf("WITHDRAW refused with FAIL %d (%s): the server may still hold the agreement (§11.1.2)", int(code), code))
	case s.activationPending():
		s.acceptMsg(msg)
		s.answered()
		s.o.Activation = nil
		s.setFailure(reasonActivationFailed, code, false)
		s.moveToCode(ClientCompleted, reasonActivationFailed, code)
	case s.closingPending():
		prev := s.o.Failure
		s.acceptMsg(msg)
		s.answered()
		if prev != nil && prev.Reason == s.endReason(reasonNoResponse) && s.o.Offer != nil {
			s.alarm(fmt.Sprintf("CANCEL after an unanswered ACCEPT refused with FAIL %d (%s): the server may hold an agreement", int(code), code))
		}
		s.setFailure(reasonCancelRefused, code, false)
		s.moveToCode(s.o.State, reasonCancelRefused, code)
	default:
		s.discard("FAIL does not answer a pending request")
	}
}

// onWithdrawProcessing handles a PROCESSING that answers a WITHDRAW for now
// (Fig. 14, §11.4: "If an answer cannot be generated right after the request
// is received, the partner needs to generate a PROCESSING message as the
// answer"). Retransmission stops; if the ACK does not follow, another
// withdrawal cycle starts after WithdrawRetryInterval (§11.1.2).
func (s *clientStep) onWithdrawProcessing(in any) {
	msg := messageOf(in)
	if !s.withdrawPending() {
		s.discard("PROCESSING does not answer a pending WITHDRAW (Fig. 14)")
		return
	}
	if !s.checkProvider(msg) {
		return
	}
	s.acceptMsg(msg)
	s.stopTimer(TimerRetransmit)
	s.o.Txn.Retries = 0
	s.startTimer(TimerWithdrawCycle, s.at.Add(s.m.withdrawInterval()))
}

// onRetransmit re-sends the unanswered request with its original sequence
// number (§11.4) until the retries are exhausted, then gives up.
func (s *clientStep) onRetransmit(any) {
	u := s.o.Txn.Unanswered
	if u == nil {
		s.discard("no request awaits an answer")
		return
	}
	sched := s.m.schedule()
	if !sched.Exhausted(s.o.Txn.Retries) {
		s.o.Txn.Retries++
		s.startTimer(TimerRetransmit, s.at.Add(sched.Delay(s.o.Txn.Retries)))
		s.actions = append(s.actions, Send{Msg: *u, Retransmission: true})
		return
	}
	s.giveUp(u.Method)
}

// giveUp ends the wait for an answer to a request that went unanswered
// through every retry (§11.1.1, §11.4).
//   - QUOTATION, UPDATE: the negotiation ends (NoResponse); nothing is sent,
//     since the server never answered.
//   - ACCEPT: the client sends CANCEL and the negotiation ends (NoResponse),
//     with an Alarm: the server may have completed the agreement and only
//     its ACK was lost.
//   - WITHDRAW: Alarm, and another withdrawal cycle after
//     WithdrawRetryInterval (§11.1.2); the order stays Cancelled with
//     WithdrawAcked false.
//   - ACTIVATE: the activation state is unchanged (ActivationNoResponse).
//   - CANCEL, DECLINE: nothing more is done (NoAcknowledgement).
func (s *clientStep) giveUp(method wire.Method) {
	switch method {
	case wire.MethodQuotation, wire.MethodUpdate:
		s.answered()
		s.setFailure(reasonNoResponse, 0, false)
		s.endNegotiation(reasonNoResponse, 0)
	case wire.MethodAccept:
		s.answered()
		s.setFailure(reasonNoResponse, 0, false)
		s.alarm("ACCEPT unanswered after every retry: the server may have completed the agreement; sent CANCEL")
		s.endNegotiation(reasonNoResponse, 0)
		s.sendRequest(s.newMsg(wire.MethodCancel))
	case wire.MethodWithdraw:
		s.o.Txn.Retries = 0
		next := s.at.Add(s.m.withdrawInterval())
		s.startTimer(TimerWithdrawCycle, next)
		s.alarm(fmt.Sprintf("WITHDRAW unanswered after every retry; next withdrawal cycle at %s (§11.1.2)", next.UTC().Format(time.RFC3339)))
	case wire.MethodActivate:
		s.answered()
		s.o.Activation = nil
		s.setFailure(reasonActivationNoResp, 0, false)
		s.moveTo(s.o.State, reasonActivationNoResp)
	default:
		s.answered()
		s.moveTo(s.o.State, reasonNoAcknowledgement)
	}
}

// onWithdrawCycle starts another withdrawal cycle (§11.1.2): the same
// WITHDRAW (same transaction, same sequence number) is sent again, so a
// server that already handled it answers from its stored answer.
func (s *clientStep) onWithdrawCycle(any) {
	if !s.withdrawPending() {
		s.discard("no WITHDRAW awaits an answer")
		return
	}
	s.o.Txn.Retries = 0
	s.startTimer(TimerRetransmit, s.at.Add(s.m.schedule().Delay(0)))
	s.actions = append(s.actions, Send{Msg: *s.o.Txn.Unanswered, Retransmission: true})
}

// onUpdate starts an UPDATE cycle (§9.2.9, §11.1.3): a new transaction;
// Completed → AwaitingProcessing → PQOSent in one step (Fig. 8's
// "QUOTATION/UPDATE" edge leaves AwaitingProcessing). The UPDATE carries the
// agreement's nonce; the agreement stands until the new offer is accepted
// and acknowledged.
func (s *clientStep) onUpdate(in any) {
	u, _ := in.(UpdateOrder)
	switch {
	case u.TransactionID == "":
		s.discard("UpdateOrder carries no transaction ID (§9.2.9)")
		return
	case s.o.Agreement == nil || s.o.ProviderOrderID == "":
		s.discard("no agreement to update")
		return
	case u.CPD.IsEmpty():
		s.discard("UPDATE needs a non-empty requested CPD (§9.2.9)")
		return
	case u.ExpectedResponseTime == nil:
		s.discard("UPDATE needs an expected response time (§9.2.9)")
		return
	case !u.ExpectedResponseTime.After(s.at):
		s.discard("UPDATE expected response time is not in the future")
		return
	}
	req := Request{
		CPD:                  cloneCPD(u.CPD),
		ExpectedResponseTime: cloneTime(u.ExpectedResponseTime),
		InformationElements:  cloneIEs(u.InformationElements),
	}
	s.beginTxn(TxnUpdate, u.TransactionID, u.Seq)
	s.o.Update = &req
	s.o.Offer = nil
	s.o.ExpectedOfferTime = nil
	s.o.PendingExtension = nil
	s.o.Activation = nil
	s.moveTo(ClientAwaitingProcessing, reasonUpdateRequested)
	msg := s.newMsg(wire.MethodUpdate)
	msg.Nonce = s.o.Agreement.Nonce
	msg.ExpectedResponseTime = req.ExpectedResponseTime
	msg.RequestedCPD = ptrCPD(req.CPD)
	msg.InformationElements = req.InformationElements
	s.cause = wire.MethodUpdate.String()
	s.moveTo(ClientPQOSent, reasonUpdateSent)
	s.startTimer(TimerResponse, *req.ExpectedResponseTime)
	s.sendRequest(msg)
}

// onActivate sends an ACTIVATE (§9.2.11) in a new transaction; the order
// stays Completed. Whether activation_type was "explicit" is the server's
// check (FAIL 8), so the client does not pre-empt it.
func (s *clientStep) onActivate(in any) {
	a, _ := in.(ActivateOrder)
	switch {
	case a.TransactionID == "":
		s.discard("ActivateOrder carries no transaction ID (§9.2.11)")
		return
	case s.o.Agreement == nil || s.o.ProviderOrderID == "":
		s.discard("no agreement to activate")
		return
	}
	sched := a.Schedule
	s.beginTxn(TxnActivate, a.TransactionID, a.Seq)
	s.o.Activation = &sched
	msg := s.newMsg(wire.MethodActivate)
	msg.Nonce = s.o.Agreement.Nonce
	msg.ActivationSchedule = s.o.Activation
	s.moveTo(ClientCompleted, reasonActivationRequested)
	s.sendRequest(msg)
}

// onWithdraw sends a WITHDRAW (§9.2.8, §11.1.2) with the agreement's nonce
// and CPD: Completed → Cancelled (Fig. 8). WithdrawAcked stays false until
// the ACK with the Empty CPD arrives.
func (s *clientStep) onWithdraw(in any) {
	w, _ := in.(WithdrawOrder)
	switch {
	case w.TransactionID == "":
		s.discard("WithdrawOrder carries no transaction ID (§9.2.8)")
		return
	case s.o.Agreement == nil || s.o.ProviderOrderID == "":
		s.discard("no agreement to withdraw")
		return
	}
	s.beginTxn(TxnWithdraw, w.TransactionID, w.Seq)
	s.o.Activation = nil
	s.o.WithdrawAcked = false
	msg := s.newMsg(wire.MethodWithdraw)
	msg.Nonce = s.o.Agreement.Nonce
	msg.AcceptedCPD = ptrCPD(s.o.Agreement.CPD)
	s.moveTo(ClientCancelled, reasonWithdrawn)
	s.sendRequest(msg)
}

// agree records the agreement after the ACK to the ACCEPT (§9.2.6):
// AcceptSent → Completed. For an UPDATE cycle the new CPD and nonce replace
// the old ones (DESIGN §3) and the activation state carries over; otherwise
// the activation state follows the negotiated activation type: "explicit"
// waits for ACTIVATE, a future ACTIVATION_SCHEDULE of the offer is recorded,
// anything else is active at once (§9.2.1, §9.2.3).
func (s *clientStep) agree(offer Offer) {
	old := s.o.Agreement
	ag := &Agreement{
		CPD:            offer.CPD,
		Nonce:          offer.Nonce,
		ActivationType: s.activationType(),
		Since:          s.at,
	}
	reason := reasonAgreed
	if s.o.Txn.Kind == TxnUpdate && old != nil {
		reason = reasonUpdated
		ag.Active, ag.ScheduledAt = old.Active, old.ScheduledAt
		if s.o.Update != nil {
			s.o.Request = *s.o.Update
			s.o.Update = nil
		}
	} else if ag.ActivationType != wire.ActivationExplicit {
		if sc := offer.ActivationSchedule; sc != nil && !sc.Deactivate && sc.At.After(s.at) {
			ag.ScheduledAt = timePtr(sc.At)
		} else {
			ag.Active = true
		}
	}
	s.o.Agreement = ag
	s.moveTo(ClientCompleted, reason)
}

// activationType is the negotiated activation type: the offer's, else the
// request's, else (UPDATE) the previous agreement's; empty means immediate.
func (s *clientStep) activationType() wire.ActivationType {
	if o := s.o.Offer; o != nil && o.InformationElements != nil && o.InformationElements.NegotiationOptions != nil &&
		o.InformationElements.NegotiationOptions.ActivationType != "" {
		return o.InformationElements.NegotiationOptions.ActivationType
	}
	if ie := s.o.currentRequest().InformationElements; ie != nil && ie.NegotiationOptions != nil &&
		ie.NegotiationOptions.ActivationType != "" {
		return ie.NegotiationOptions.ActivationType
	}
	if s.o.Agreement != nil {
		return s.o.Agreement.ActivationType
	}
	return ""
}

// activated applies an acknowledged ACTIVATE (§9.2.11, DESIGN §3): "0"
// deactivates; a schedule at or before the ACK means active now; a later
// one is recorded in ScheduledAt.
func (s *clientStep) activated(sc wire.Schedule) {
	s.o.Activation = nil
	if s.o.Agreement == nil {
		s.moveTo(ClientCompleted, reasonActivated)
		return
	}
	// Copy-on-write: the Agreement of the input order is shared.
	ag := new(Agreement)
	*ag = *s.o.Agreement
	s.o.Agreement = ag
	switch {
	case sc.Deactivate:
		ag.Active, ag.ScheduledAt = false, nil
		s.moveTo(ClientCompleted, reasonDeactivated)
	case !sc.At.After(s.at):
		ag.Active, ag.ScheduledAt = true, nil
		s.moveTo(ClientCompleted, reasonActivated)
	default:
		ag.ScheduledAt = timePtr(sc.At)
		s.moveTo(ClientCompleted, reasonActivationScheduled)
	}
}

// endNegotiation ends a QUOTATION or UPDATE negotiation that did not reach
// an agreement: Cancelled, or, during an UPDATE cycle, back to Completed
// with the previous agreement and nonce (DESIGN §3; a §8.11.1 sub-state,
// reason prefixed "Update").
func (s *clientStep) endNegotiation(base string, code wire.StatusCode) {
	s.stopNegotiationTimers()
	s.o.PendingExtension = nil
	if s.updateCycle() {
		s.o.Update = nil
		s.moveToCode(ClientCompleted, s.endReason(base), code)
		return
	}
	s.moveToCode(ClientCancelled, base, code)
}

func (s *clientStep) updateCycle() bool {
	return s.o.Txn.Kind == TxnUpdate && s.o.Agreement != nil
}

// endReason is base, prefixed with "Update" during an UPDATE cycle.
func (s *clientStep) endReason(base string) string {
	if s.updateCycle() {
		return "Update" + base
	}
	return base
}

// setFailure records an abnormal end of the current transaction.
func (s *clientStep) setFailure(base string, code wire.StatusCode, sent bool) {
	s.o.Failure = &Failure{StatusCode: code, Sent: sent, Reason: s.endReason(base), Txn: s.o.Txn.Kind, At: s.at}
}

func (s *clientStep) alarm(reason string) { s.actions = append(s.actions, Alarm{Reason: reason}) }

// withdrawPending reports a WITHDRAW that awaits its ACK.
func (s *clientStep) withdrawPending() bool {
	return s.o.State == ClientCancelled && s.o.Txn.Kind == TxnWithdraw && !s.o.WithdrawAcked && s.o.Txn.Unanswered != nil
}

// activationPending reports an ACTIVATE that awaits its answer.
func (s *clientStep) activationPending() bool {
	return s.o.State == ClientCompleted && s.o.Txn.Kind == TxnActivate && s.o.Activation != nil &&
		s.o.Txn.Unanswered != nil
}

// closingPending reports a CANCEL or DECLINE that awaits its ACK.
func (s *clientStep) closingPending() bool {
	u := s.o.Txn.Unanswered
	return (s.o.State == ClientCancelled || s.o.State == ClientCompleted) && u != nil &&
		(u.Method == wire.MethodCancel || u.Method == wire.MethodDecline)
}
