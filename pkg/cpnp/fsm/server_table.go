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
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// serverInput names one kind of input of the server machine: the columns of
// serverTable. Messages are named after their method ("ACCEPT"), timers
// "Timer:<ID>", decisions "Decision:<Kind>", commands after their type.
type serverInput string

// Inputs.
const (
	inQuotation        serverInput = "QUOTATION"
	inProcessing       serverInput = "PROCESSING"
	inOffer            serverInput = "OFFER"
	inAccept           serverInput = "ACCEPT"
	inDecline          serverInput = "DECLINE"
	inAck              serverInput = "ACK"
	inCancel           serverInput = "CANCEL"
	inWithdraw         serverInput = "WITHDRAW"
	inUpdate           serverInput = "UPDATE"
	inFail             serverInput = "FAIL"
	inActivate         serverInput = "ACTIVATE"
	inTimerRetransmit  serverInput = "Timer:" + serverInput(TimerRetransmit)
	inTimerResponse    serverInput = "Timer:" + serverInput(TimerResponse)
	inTimerOffer       serverInput = "Timer:" + serverInput(TimerOffer)
	inTimerValidity    serverInput = "Timer:" + serverInput(TimerValidity)
	inTimerWithdraw    serverInput = "Timer:" + serverInput(TimerWithdrawCycle)
	inTimerActivation  serverInput = "Timer:" + serverInput(TimerActivation)
	inDecisionOffer    serverInput = "Decision:" + serverInput(DecideOffer)
	inDecisionFail     serverInput = "Decision:" + serverInput(DecideFail)
	inDecisionHold     serverInput = "Decision:" + serverInput(DecideHold)
	inDecisionMoreTime serverInput = "Decision:" + serverInput(DecideMoreTime)
	inDecisionChild    serverInput = "Decision:" + serverInput(DecideChild)
	inAdminApprove     serverInput = "AdminApprove"
	inAdminReject      serverInput = "AdminReject"
	inRequestMoreTime  serverInput = "RequestMoreTime"
	inChildEvent       serverInput = "ChildEvent"
)

// serverDefaultStatus answers a client request that matches no order in a
// state that accepts it (DESIGN §3: no order matches → 1).
const serverDefaultStatus = wire.StatusMessageValidationError

// serverInputs lists every input kind, in the order the exhaustive test walks them.
var serverInputs = []serverInput{
	inQuotation, inProcessing, inOffer, inAccept, inDecline, inAck, inCancel, inWithdraw, inUpdate, inFail, inActivate,
	inTimerRetransmit, inTimerResponse, inTimerOffer, inTimerValidity, inTimerWithdraw, inTimerActivation,
	inDecisionOffer, inDecisionFail, inDecisionHold, inDecisionMoreTime, inDecisionChild,
	inAdminApprove, inAdminReject, inRequestMoreTime, inChildEvent,
}

// inputOf returns the input kind of a message.
func inputOf(m wire.Method) serverInput { return serverInput(m.String()) }

// serverGuard is a precondition of a table row beyond (state, input). When
// it does not hold, the input gets the default outcome (serverStep.fallback).
type serverGuard int

// Guards.
const (
	guardNone serverGuard = iota
	// guardNotHeld: the order is not waiting for an administrator; the
	// policy's decisions are ignored while it is (§8.2).
	guardNotHeld
	// guardHeld: the order waits for an administrator (AdminApprove/AdminReject).
	guardHeld
	// guardMoreTime: a request for more time is unanswered (Table 6, FAIL row;
	// §9.2.2: the client answers ACK or FAIL).
	guardMoreTime
	// guardUnanswered: a request of the server awaits its answer (§11.4).
	guardUnanswered
	// guardAckLost: the last message handled in the current QUOTATION or
	// UPDATE transaction is the ACCEPT that the ACK answered, so a CANCEL of
	// that transaction shows the client never received the ACK (§8.11.2,
	// Completed).
	guardAckLost
	// guardChild: the order has a child order.
	guardChild
)

// holds reports whether g holds for o.
func (g serverGuard) holds(o ServerOrder) bool {
	switch g {
	case guardNotHeld:
		return !o.Held
	case guardHeld:
		return o.Held
	case guardMoreTime:
		return o.RequestedOfferTime != nil
	case guardUnanswered:
		return o.Txn.Unanswered != nil
	case guardAckLost:
		return o.Txn.LastReceived == wire.MethodAccept &&
			(o.Txn.Kind == TxnQuotation || (o.Txn.Kind == TxnUpdate && o.PrevAgreement != nil))
	case guardChild:
		return o.Child != nil
	}
	return true
}

// String describes the guard, for Discard reasons.
func (g serverGuard) String() string {
	switch g {
	case guardNotHeld:
		return "held for administrative validation"
	case guardHeld:
		return "not held for administrative validation"
	case guardMoreTime:
		return "no request for more time is pending"
	case guardUnanswered:
		return "nothing awaits an answer"
	case guardAckLost:
		return "the agreement was acknowledged"
	case guardChild:
		return "no child order"
	}
	return ""
}

// serverRule is one row of the server transition table: the outcome of an
// input in a state when the input passes the Table 6 checks (identity,
// identifiers, transaction, sequence number, nonce, CPD) and the guard holds.
type serverRule struct {
	// To is the state afterwards; "" means unchanged.
	To ServerState
	// UpdateTo replaces To when the current transaction is an UPDATE cycle
	// ("" means To): a failed UPDATE returns to Completed (DESIGN §3).
	UpdateTo ServerState
	// Send is the method sent to the client (0: none).
	Send wire.Method
	// Status is the FAIL status code when Send is FAIL.
	Status wire.StatusCode
	// Guard is an extra precondition.
	Guard serverGuard
	// Ref cites the RFC text or figure edge.
	Ref string
	do  func(*serverStep, Event)
}

// to returns the state the row leads to for a transaction kind.
func (r serverRule) to(kind TxnKind) ServerState {
	if kind == TxnUpdate && r.UpdateTo != "" {
		return r.UpdateTo
	}
	return r.To
}

// Rows shared by several states.
var (
	ruleCancel = serverRule{
		To: ServerCancelled, UpdateTo: ServerCompleted, Send: wire.MethodAck,
		Ref: "§9.2.7, Table 6, Fig. 9 CANCEL", do: (*serverStep).onCancel,
	}
	ruleMoreTimeAck = serverRule{
		Send: 0, Guard: guardMoreTime,
		Ref: "§9.2.2, §9.2.6, Fig. 11", do: (*serverStep).onMoreTimeAck,
	}
	ruleClientFail = serverRule{
		To: ServerCancelled, UpdateTo: ServerCompleted, Guard: guardMoreTime,
		Ref: "§9.2.2, Table 6 FAIL, Fig. 12", do: (*serverStep).onClientFail,
	}
	ruleOfferDeadline = serverRule{
		To: ServerCancelled, UpdateTo: ServerCompleted,
		Ref: "§8.5, §9.1.7", do: (*serverStep).onOfferDeadline,
	}
	ruleRetransmit = serverRule{
		Send: wire.MethodProcessing, Guard: guardUnanswered,
		Ref: "§11.4", do: (*serverStep).onRetransmit,
	}
	ruleRequestMoreTime = serverRule{
		Send: wire.MethodProcessing,
		Ref:  "§9.2.2, §11.2.1", do: (*serverStep).onMoreTime,
	}
	ruleAccept = serverRule{
		To: ServerCompleted, Send: wire.MethodAck,
		Ref: "§9.2.4, §11.2.1, Table 6 ACCEPT, Fig. 9 ACCEPT/ACK", do: (*serverStep).onAccept,
	}
	ruleDecline = serverRule{
		To: ServerCancelled, UpdateTo: ServerCompleted, Send: wire.MethodAck,
		Ref: "§9.2.5, Table 6 DECLINE, Fig. 9 DECLINE", do: (*serverStep).onDecline,
	}
	ruleValidity = serverRule{
		To: ServerCancelled, UpdateTo: ServerCompleted,
		Ref: "§9.1.8", do: (*serverStep).onValidity,
	}
)

// childRows are the rows of a parent whose child order is being negotiated
// (§8.8): the parent is still processing its client's request.
func childRows(next ServerState) map[serverInput]serverRule {
	return map[serverInput]serverRule{
		inCancel:          ruleCancel,
		inAck:             ruleMoreTimeAck,
		inFail:            ruleClientFail,
		inTimerOffer:      ruleOfferDeadline,
		inTimerRetransmit: ruleRetransmit,
		inRequestMoreTime: ruleRequestMoreTime,
		inChildEvent: {
			To: next, Guard: guardChild,
			Ref: "§8.8, Fig. 9 (left)", do: (*serverStep).onChildEvent,
		},
	}
}

// serverTable is the transition table of the server machine (RFC 8921
// §8.11.2, Figure 9, Table 6). A pair that is not listed (or whose guard
// fails) has the default outcome: a client request (ACCEPT, DECLINE, CANCEL,
// WITHDRAW, UPDATE, ACTIVATE) is answered with FAIL 1, as no order in a state
// that accepts it matches (DESIGN §3); anything else is discarded.
//
// The To of a ChildEvent row is the state its typical event leads to (the
// next step of Figure 9's left column); the parent follows the child's state.
var serverTable = map[ServerState]map[serverInput]serverRule{
	ServerPQOReceived: {
		inCancel: ruleCancel,
	},
	ServerAwaitingProcessing: {
		inCancel:          ruleCancel,
		inAck:             ruleMoreTimeAck,
		inFail:            ruleClientFail,
		inTimerOffer:      ruleOfferDeadline,
		inTimerRetransmit: ruleRetransmit,
		inRequestMoreTime: ruleRequestMoreTime,
		inDecisionOffer: {
			To: ServerOfferProposed, Send: wire.MethodOffer, Guard: guardNotHeld,
			Ref: "§9.2.3, §11.2.1, Fig. 9 OFFER", do: (*serverStep).onDecisionOffer,
		},
		inDecisionFail: {
			To: ServerCancelled, UpdateTo: ServerCompleted, Send: wire.MethodFail, Status: wire.StatusOutOfResources,
			Guard: guardNotHeld, Ref: "§9.2.10, §11.2.1", do: (*serverStep).onDecisionFail,
		},
		inDecisionHold: {
			Guard: guardNotHeld, Ref: "§8.2, §12.2", do: (*serverStep).onDecisionHold,
		},
		inDecisionMoreTime: {
			Send: wire.MethodProcessing, Guard: guardNotHeld,
			Ref: "§9.2.2, §11.2.1", do: (*serverStep).onMoreTime,
		},
		inDecisionChild: {
			To: ServerChildPQOSent, Send: wire.MethodProcessing, Guard: guardNotHeld,
			Ref: "§8.8, §9.2.2 subcode 2, Fig. 9 QUOTATION", do: (*serverStep).onDecisionChild,
		},
		inAdminApprove: {
			Guard: guardHeld, Ref: "§8.2, §12.2", do: (*serverStep).onAdminApprove,
		},
		inAdminReject: {
			To: ServerCancelled, UpdateTo: ServerCompleted, Send: wire.MethodFail, Status: wire.StatusAdministrativelyProhibited,
			Guard: guardHeld, Ref: "§8.2, §12.2, DESIGN §3 FAIL 4", do: (*serverStep).onAdminReject,
		},
	},
	ServerOfferProposed: {
		inProcessing: {
			To:  ServerProcessingReceived,
			Ref: "§11.2.1, Fig. 9 PROCESSING", do: (*serverStep).onProcessing,
		},
		inAccept:          ruleAccept,
		inDecline:         ruleDecline,
		inCancel:          ruleCancel,
		inTimerValidity:   ruleValidity,
		inTimerRetransmit: {Send: wire.MethodOffer, Guard: guardUnanswered, Ref: "§11.2.1, §11.4", do: (*serverStep).onRetransmit},
	},
	ServerProcessingReceived: {
		inAccept:        ruleAccept,
		inDecline:       ruleDecline,
		inCancel:        ruleCancel,
		inTimerValidity: ruleValidity,
	},
	ServerAcceptReceived: {
		inCancel: ruleCancel,
	},
	ServerCompleted: {
		inUpdate: {
			To: ServerAwaitingProcessing, Send: wire.MethodProcessing,
			Ref: "§9.2.9, §11.2.3, Table 6 UPDATE", do: (*serverStep).onUpdate,
		},
		inWithdraw: {
			To: ServerCancelled, Send: wire.MethodAck,
			Ref: "§9.2.8, §11.2.2, Table 6 WITHDRAW, Fig. 9 WITHDRAW", do: (*serverStep).onWithdraw,
		},
		inActivate: {
			Send: wire.MethodAck,
			Ref:  "§9.2.11, Table 6 ACTIVATE", do: (*serverStep).onActivate,
		},
		inCancel: {
			To: ServerCancelled, UpdateTo: ServerCompleted, Send: wire.MethodAck, Guard: guardAckLost,
			Ref: "§8.11.2 Completed, §9.2.7", do: (*serverStep).onCancelAfterAck,
		},
		inTimerActivation: {
			Ref: "§9.2.3, §9.2.11", do: (*serverStep).onActivationDue,
		},
	},
	ServerCancelled:             {},
	ServerChildCreated:          childRows(ServerChildPQOSent),
	ServerChildPQOSent:          childRows(ServerChildServerProcessing),
	ServerChildServerProcessing: childRows(ServerChildOfferProcessing),
	ServerChildOfferReceived:    childRows(ServerChildAcceptSent),
	ServerChildOfferProcessing:  childRows(ServerChildAcceptSent),
	ServerChildAcceptSent:       childRows(ServerAwaitingProcessing),
	ServerChildCompleted:        childRows(ServerAwaitingProcessing),
}

// serverGlobalRules apply in every state that has no row of its own for the input.
var serverGlobalRules = map[serverInput]serverRule{
	// A child order outlives the parent's negotiation: it is withdrawn or
	// cancelled when the parent ends, and its events keep coming (§8.8).
	inChildEvent: {Guard: guardChild, Ref: "§8.8", do: (*serverStep).onChildEvent},
}

// serverRuleFor returns the row of (state, input), if any.
func serverRuleFor(state ServerState, in serverInput) (serverRule, bool) {
	if r, ok := serverTable[state][in]; ok {
		return r, true
	}
	r, ok := serverGlobalRules[in]
	return r, ok
}

// isClientRequest reports whether a client message is a request that the
// server answers (with an ACK, an OFFER or a FAIL) rather than an answer.
func isClientRequest(m wire.Method) bool {
	switch m {
	case wire.MethodAccept, wire.MethodDecline, wire.MethodCancel, wire.MethodWithdraw, wire.MethodUpdate, wire.MethodActivate:
		return true
	}
	return false
}

// opensTransaction reports whether m starts a new transaction (DESIGN §3).
func opensTransaction(m wire.Method) bool {
	switch m {
	case wire.MethodQuotation, wire.MethodUpdate, wire.MethodWithdraw, wire.MethodActivate:
		return true
	}
	return false
}

// dispatch runs the table row of (state, input), or the default outcome.
func (s *serverStep) dispatch(ev Event) {
	r, ok := serverRuleFor(s.o.State, s.in)
	if ok && r.Guard.holds(s.o) {
		r.do(s, ev)
		return
	}
	why := string(s.in) + " not expected in " + string(s.o.State)
	if ok {
		why += ": " + r.Guard.String()
	}
	s.fallback(ev, why)
}

// fallback is the default outcome of a pair without a row (see serverTable).
func (s *serverStep) fallback(ev Event, why string) {
	if e, ok := ev.(MsgReceived); ok && isClientRequest(e.Msg.Method) {
		s.refuse(e.Msg, serverDefaultStatus, why, e.Msg.TransactionID == s.o.Txn.ID)
		return
	}
	s.discard(why)
}
