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
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TimerActivation is a server-only timer: a scheduled activation of an
// agreement is due (ACTIVATION_SCHEDULE of an OFFER or an ACTIVATE, §9.2.3,
// §9.2.11). The server also uses TimerRetransmit (its OFFER and its requests
// for more time, §11.2.1, §11.4), TimerValidity (VALIDITY_OFFER_TIME,
// §9.1.8) and TimerOffer (the EXPECTED_OFFER_TIME that the client enforces,
// §9.1.7: when it passes the client has given up, so the server does too).
const TimerActivation TimerID = "Activation"

// Server configures the server machine (RFC 8921 §8.11.2, Figure 9). It is a
// small value; the zero Server behaves as DefaultServer.
type Server struct {
	// Retransmit is the RETRANS_TIMER schedule of the OFFER and of a
	// PROCESSING that requests more time (§11.2.1, §11.4). The zero value
	// means session.DefaultRetransmit().
	Retransmit session.Retransmit `json:"retransmit"`
	// ExpectedOfferDelay, when positive, makes the PROCESSING that answers a
	// QUOTATION or an UPDATE carry EXPECTED_OFFER_TIME = receipt + delay
	// (§9.2.2, §11.2.1), never later than the client's EXPECTED_RESPONSE_TIME
	// (a later time would be a request for more time, §9.1.7). Zero: the
	// first PROCESSING carries no EXPECTED_OFFER_TIME.
	ExpectedOfferDelay time.Duration `json:"expectedOfferDelay,omitempty"`
	// Child configures the client machine that runs child orders (§8.8);
	// the zero value behaves as DefaultClient.
	Child Client `json:"child"`
}

// DefaultServer returns the DESIGN §3 defaults: RETRANS_TIMER 1 s doubling,
// 3 retries; no EXPECTED_OFFER_TIME in the first PROCESSING.
func DefaultServer() Server {
	return Server{Retransmit: session.DefaultRetransmit(), Child: DefaultClient()}
}

// Validate reports a configuration that cannot work. Every error matches
// ErrInvalidConfig.
func (m Server) Validate() error {
	var errs []error
	if m.Retransmit != (session.Retransmit{}) {
		if err := m.Retransmit.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := m.Child.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("child: %w", err))
	}
	if m.ExpectedOfferDelay < 0 {
		errs = append(errs, &ConfigError{Field: "expectedOfferDelay", Value: m.ExpectedOfferDelay, Reason: "must not be negative"})
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: server: %w", ErrInvalidConfig, errors.Join(errs...))
}

// schedule returns the retransmission schedule in force.
func (m Server) schedule() session.Retransmit {
	if m.Retransmit == (session.Retransmit{}) {
		return session.DefaultRetransmit()
	}
	return m.Retransmit
}

// ServerOrder is one order as the server sees it (RFC 8921 §8.11.2). It is a
// plain value that serializes to JSON (the server engine keeps it in its
// store). Step never modifies the order it is given: it returns a new one.
//
// Immutability invariant (copy-on-write): the order that Step returns shares
// with its input, and with the events and actions of the step, every record
// the step did not change: CPDs, messages (Txn.Unanswered, Txn.LastAnswer,
// Send.Msg), information elements, schedules, times behind pointers, the
// Offer, Agreement and ChildOrder records and the Timers map. Neither the
// machine nor its callers may modify such a record in place; replace it
// instead, or take a private deep copy with Clone. A message or CPD decoded
// from the wire is never modified, so the machine keeps it by reference.
// The tests check on every step that the input is unchanged and that
// changing everything reachable from a Clone of the output changes neither.
type ServerOrder struct {
	// State is the Figure 9 state. AcceptReceived, PQOReceived, ChildCreated,
	// ChildOfferReceived and ChildCompleted are passed through within one
	// step (each is reported by a Transition) and are never stored.
	State ServerState `json:"state"`
	// CustomerOrderID is CUSTOMER_ORDER_IDENTIFIER (§9.1.1); it never changes.
	CustomerOrderID string `json:"customerOrderID"`
	// ProviderOrderID is PROVIDER_ORDER_IDENTIFIER (§9.1.2), drawn by the
	// shell (Fresh) when the QUOTATION arrived; it never changes and never
	// equals CustomerOrderID (§13).
	ProviderOrderID string `json:"providerOrderID"`
	// Identity is the authenticated identity of the client that created the
	// order (DESIGN §4: it replaces the 5-tuple of Table 6); it never changes.
	Identity string `json:"identity"`
	// Request is the request of the agreement or of the QUOTATION under
	// negotiation (§9.2.1); an acknowledged UPDATE replaces it.
	Request Request `json:"request"`
	// Update is the request of an UPDATE cycle in progress (§9.2.9).
	Update *Request `json:"update,omitempty"`
	// Txn is the current transaction (§8.4): its incoming and outgoing
	// sequence numbers (§11.3), the request awaiting an answer
	// (Txn.Unanswered: the OFFER or a request for more time, retransmitted,
	// §11.2.1) and the last answer (re-sent to a repeated request, §11.4).
	Txn Transaction `json:"txn"`
	// OfferNonce is the nonce drawn (Fresh) for the offer of the current
	// QUOTATION or UPDATE cycle (§9.1.5, §11.2.3); a Decision may override it.
	OfferNonce string `json:"offerNonce,omitempty"`
	// ExpectedOfferTime is the EXPECTED_OFFER_TIME that the client enforces:
	// the one announced in the first PROCESSING or granted by the client's
	// ACK (§9.1.7, §9.2.2).
	ExpectedOfferTime *time.Time `json:"expectedOfferTime,omitempty"`
	// RequestedOfferTime is the EXPECTED_OFFER_TIME of a request for more time
	// that the client has not answered yet (§9.2.2, Figures 11 and 12). While
	// it is set, Table 6 lets the client answer with ACK or FAIL.
	RequestedOfferTime *time.Time `json:"requestedOfferTime,omitempty"`
	// Consulted is the kind of the last Consult, asked again after
	// AdminApprove.
	Consulted ConsultKind `json:"consulted,omitempty"`
	// Held is true while the order waits for an administrator (Decision Hold,
	// §8.2, §12.2) in AwaitingProcessing.
	Held bool `json:"held,omitempty"`
	// Offer is the offer made in the current cycle, if any (§9.2.3).
	Offer *Offer `json:"offer,omitempty"`
	// Reserved is true while the resources of Offer are reserved: between the
	// Reserve sent with the OFFER and the Commit (ACK) or Release (decline,
	// cancel, expiry) that ends it (DESIGN §3: open offers count as reserved).
	Reserved bool `json:"reserved,omitempty"`
	// Agreement is the agreement in force, if any (§9.2.6). An UPDATE cycle
	// leaves it untouched until its ACCEPT is acknowledged (DESIGN §3).
	Agreement *Agreement `json:"agreement,omitempty"`
	// PrevAgreement is the agreement that the current UPDATE transaction
	// replaced; a CANCEL that shows the client never saw the ACK restores it.
	PrevAgreement *Agreement `json:"prevAgreement,omitempty"`
	// Child is the child order negotiated upstream for this order (§8.8).
	Child *ChildOrder `json:"child,omitempty"`
	// Failure is the last abnormal end of a cycle or transaction.
	Failure *Failure `json:"failure,omitempty"`
	// Timers are the armed timers of the order and their deadlines, mirroring
	// StartTimer/StopTimer, so that a restarted shell re-arms them. The timers
	// of the child order are in Child.Order.Timers.
	Timers map[TimerID]time.Time `json:"timers,omitempty"`
}

// ChildOrder is a child PQO that the server negotiates as a client with an
// upstream server (§8.8, Figure 7). Its Order runs the client machine.
type ChildOrder struct {
	// Upstream names the upstream server (the engine's configured provider).
	Upstream string `json:"upstream"`
	// ParentTxn is the parent's transaction that created the child: when
	// that cycle ends without agreement, the child is cancelled or withdrawn.
	ParentTxn string `json:"parentTxn"`
	// WithdrawTransactionID and WithdrawSeq open the WITHDRAW of the child's
	// agreement when the parent ends (drawn by the shell with the Child
	// decision, since the machine reads no randomness).
	WithdrawTransactionID string `json:"withdrawTransactionID"`
	WithdrawSeq           uint32 `json:"withdrawSeq"`
	// Order is the child order, stepped by the client machine.
	Order ClientOrder `json:"order"`
}

// CurrentRequest returns the request under negotiation: the UPDATE's during
// an UPDATE cycle, else the QUOTATION's (or the agreed one).
func (o ServerOrder) CurrentRequest() Request {
	if o.Update != nil {
		return *o.Update
	}
	return o.Request
}

// Terminal reports whether the order is finished: Cancelled, with no timer
// armed and no child order still in progress. A terminal order still
// re-sends its last answer when the client repeats the request it answered
// (§11.4) and answers other requests that name it with FAIL (1 or 3); it
// never sends anything else.
func (o ServerOrder) Terminal() bool {
	return o.State == ServerCancelled && len(o.Timers) == 0 && (o.Child == nil || o.Child.Order.Terminal())
}

// NextDeadline returns the earliest armed timer of the order (not of its
// child). Ties go to the timer that sorts first by ID.
func (o ServerOrder) NextDeadline() (TimerID, time.Time, bool) {
	return nextDeadline(o.Timers)
}

// Clone returns a deep copy of the order.
func (o ServerOrder) Clone() ServerOrder {
	c := o
	c.Request = o.Request.clone()
	if o.Update != nil {
		u := o.Update.clone()
		c.Update = &u
	}
	c.Txn = o.Txn.clone()
	c.ExpectedOfferTime = cloneTime(o.ExpectedOfferTime)
	c.RequestedOfferTime = cloneTime(o.RequestedOfferTime)
	c.Offer = o.Offer.clone()
	c.Agreement = o.Agreement.clone()
	c.PrevAgreement = o.PrevAgreement.clone()
	if o.Child != nil {
		ch := *o.Child
		ch.Order = o.Child.Order.Clone()
		c.Child = &ch
	}
	if o.Failure != nil {
		f := *o.Failure
		c.Failure = &f
	}
	if o.Timers != nil {
		c.Timers = maps.Clone(o.Timers)
	}
	return c
}

// Server-only events. Each carries the time at which it happens.

// DecisionKind is the kind of answer of the decision policy (§8.2, §11.2.1).
type DecisionKind string

// Decision kinds.
const (
	// DecideOffer: make an offer (§9.2.3).
	DecideOffer DecisionKind = "Offer"
	// DecideFail: nothing can be offered; answer FAIL StatusCode (§9.2.10).
	DecideFail DecisionKind = "Fail"
	// DecideHold: administrative validation (§8.2, §12.2); the order stays in
	// AwaitingProcessing until AdminApprove or AdminReject.
	DecideHold DecisionKind = "Hold"
	// DecideMoreTime: ask the client for more time (§9.2.2, Figure 11).
	DecideMoreTime DecisionKind = "MoreTime"
	// DecideChild: negotiate a child order upstream first (§8.8).
	DecideChild DecisionKind = "Child"
)

// Decision is the decision policy's answer to a Consult for the transaction
// TransactionID. A Decision for another transaction (a stale answer) is
// discarded, and so is a Decision that lacks what its Kind needs (a caller
// bug: the order keeps waiting).
type Decision struct {
	Kind          DecisionKind `json:"kind"`
	TransactionID string       `json:"transactionID"`
	// Offer is set for DecideOffer.
	Offer *OfferDecision `json:"offer,omitempty"`
	// StatusCode is the FAIL code for DecideFail (Table 4; DESIGN §3: 5 when
	// nothing can be offered, 4 when administratively prohibited).
	StatusCode wire.StatusCode `json:"statusCode,omitempty"`
	// MoreTime is set for DecideMoreTime.
	MoreTime *MoreTimeDecision `json:"moreTime,omitempty"`
	// Child is set for DecideChild.
	Child *ChildDecision `json:"child,omitempty"`
	At    time.Time      `json:"at"`
}

// OfferDecision is the offer the policy makes (§9.2.3, §11.2.1).
type OfferDecision struct {
	// CPD is the Offered CPD; it must have components (§8.7).
	CPD cpd.CPD `json:"cpd"`
	// ValidUntil is VALIDITY_OFFER_TIME (§9.1.8); it must be later than the decision.
	ValidUntil time.Time `json:"validUntil"`
	// Nonce overrides the nonce drawn when the transaction opened (§11.2.3).
	Nonce string `json:"nonce,omitempty"`
	// ActivationSchedule is the ACTIVATION_SCHEDULE of the offer (§9.2.3).
	ActivationSchedule *wire.Schedule `json:"activationSchedule,omitempty"`
	// InformationElements are the server's IEs: provider description and the
	// negotiation options of the offer (activation type, §9.2.3).
	InformationElements *wire.InformationElements `json:"informationElements,omitempty"`
}

// MoreTimeDecision asks the client for more time (§9.2.2).
type MoreTimeDecision struct {
	// ExpectedOfferTime is the new EXPECTED_OFFER_TIME.
	ExpectedOfferTime time.Time `json:"expectedOfferTime"`
	// Subcode is the optional PROCESSING_SUBCODE (Table 2).
	Subcode wire.Subcode `json:"subcode,omitempty"`
}

// ChildDecision makes the server negotiate a child order upstream (§8.8).
// The shell draws the identifiers (crypto/rand).
type ChildDecision struct {
	// Upstream names the upstream server.
	Upstream string `json:"upstream"`
	// CustomerOrderID, TransactionID and Seq open the child's QUOTATION.
	CustomerOrderID string `json:"customerOrderID"`
	TransactionID   string `json:"transactionID"`
	Seq             uint32 `json:"seq"`
	// WithdrawTransactionID and WithdrawSeq are kept for the child's
	// WITHDRAW, should the parent end while the child holds an agreement.
	WithdrawTransactionID string `json:"withdrawTransactionID"`
	WithdrawSeq           uint32 `json:"withdrawSeq"`
	// Request is the child's request (CPD, expected response time, IEs).
	Request Request `json:"request"`
	// ExpectedOfferTime, if set, is announced to the parent's client in the
	// PROCESSING (subcode 2); later than the time granted, it is a request
	// for more time (§9.2.2).
	ExpectedOfferTime *time.Time `json:"expectedOfferTime,omitempty"`
}

// AdminApprove is an administrator's approval of an order held for
// administrative validation (§8.2, §12.2): the policy is consulted again.
type AdminApprove struct{ At time.Time }

// AdminReject is an administrator's refusal of a held order: FAIL 4
// (Administratively prohibited, DESIGN §3).
type AdminReject struct{ At time.Time }

// RequestMoreTime asks the client for more time (§9.2.2) on the engine's or
// an administrator's initiative, like a DecideMoreTime decision.
type RequestMoreTime struct {
	ExpectedOfferTime time.Time
	Subcode           wire.Subcode
	At                time.Time
}

// ChildEvent delivers an event of the child order (a message from the
// upstream server, a child timer, or a client command such as AcceptOffer
// chosen by the policy after a Consult{ChildOffer}) to the parent order.
type ChildEvent struct{ Event Event }

// When implements Event.
func (e Decision) When() time.Time { return e.At }

// When implements Event.
func (e AdminApprove) When() time.Time { return e.At }

// When implements Event.
func (e AdminReject) When() time.Time { return e.At }

// When implements Event.
func (e RequestMoreTime) When() time.Time { return e.At }

// When implements Event; a ChildEvent without an event has the zero time.
func (e ChildEvent) When() time.Time {
	if e.Event == nil {
		return time.Time{}
	}
	return e.Event.When()
}

// Server-only actions, mapped by the engine to its decision policy and
// resource accounting.

// ConsultKind says what the decision policy is asked to decide.
type ConsultKind string

// Consult kinds.
const (
	// ConsultQuotation: decide the offer for a QUOTATION (§11.2.1).
	ConsultQuotation ConsultKind = "Quotation"
	// ConsultUpdate: decide the offer for an UPDATE (§11.2.3).
	ConsultUpdate ConsultKind = "Update"
	// ConsultChildOffer: the child order received an offer; the engine
	// answers with ChildEvent{AcceptOffer} or ChildEvent{DeclineOffer}.
	ConsultChildOffer ConsultKind = "ChildOffer"
	// ConsultChildDone: the child order completed; compose the offer.
	ConsultChildDone ConsultKind = "ChildDone"
)

// Consult asks the engine to run the decision policy; it answers with a
// Decision for TransactionID (or, for ConsultChildOffer, a ChildEvent).
type Consult struct {
	Kind          ConsultKind
	TransactionID string
	// Approved is true once an administrator approved the order (the policy
	// must not Hold it again).
	Approved bool
}

// Reserve asks the engine to reserve the resources of the offered CPD
// (DESIGN §3: open offers count as reserved). Exactly one Commit or Release
// (Agreement false) ends each Reserve.
type Reserve struct{ CPD cpd.CPD }

// Release asks the engine to release resources: those of the open offer
// (Agreement false: declined, cancelled, expired, refused) or those of the
// agreement (Agreement true: withdrawn, or cancelled by a client that never
// saw the ACK).
type Release struct {
	Agreement bool
	Reason    string
}

// Commit tells the engine that CPD is now the order's agreement (the ACK of
// an ACCEPT was sent): the open reservation becomes the agreement, replacing
// any earlier agreement of the order (UPDATE), or an earlier agreement is
// restored (a CANCEL after an UPDATE's ACK was lost).
type Commit struct{ CPD cpd.CPD }

// Activation reports a change of the agreement's activation (§9.2.11): the
// engine passes it to provisioning.
type Activation struct {
	Active      bool
	ScheduledAt *time.Time
}

// SendChild asks the engine to send Msg, a message of the child order, to
// the Upstream server (§8.8).
type SendChild struct {
	Upstream       string
	Msg            wire.Message
	Retransmission bool
}

// StartChildTimer arms (or moves) the timer ID of the child order; when it
// fires the engine delivers ChildEvent{TimerFired{ID, At}}.
type StartChildTimer struct {
	ID TimerID
	At time.Time
}

// StopChildTimer disarms the timer ID of the child order.
type StopChildTimer struct{ ID TimerID }

// ChildTransition reports a state change of the child order.
type ChildTransition struct{ Transition Transition }

func (Consult) isAction()         {}
func (Reserve) isAction()         {}
func (Release) isAction()         {}
func (Commit) isAction()          {}
func (Activation) isAction()      {}
func (SendChild) isAction()       {}
func (StartChildTimer) isAction() {}
func (StopChildTimer) isAction()  {}
func (ChildTransition) isAction() {}

// ErrCannotOpen is matched (errors.Is) by the errors of Server.Open: they
// are caller bugs (the message is not a QUOTATION, or the shell did not draw
// the fresh values), never a protocol outcome.
var ErrCannotOpen = errors.New("cannot open server order")

// Open creates the order of a QUOTATION that matches no existing order
// (RFC 8921 §9.2.2, §11.2.1): PQOReceived, then the PROCESSING answer and
// AwaitingProcessing, then Consult{Quotation}. A QUOTATION that repeats one
// already handled (same identity, customer order ID and transaction ID) must
// go to Step on that order instead, which re-sends the stored answer (§11.4).
//
// ev.Fresh must carry the provider order identifier, the nonce of the future
// offer and the server's first sequence number. A provider order identifier
// equal to the customer's is refused (§13: "the CPNP server should not
// assign a Provider agreement identifier that is equal to a Customer
// agreement identifier"): it is a shell bug, reported as an error matching
// ErrCannotOpen, and nothing is created; the shell draws again.
func (m Server) Open(ev MsgReceived) (ServerOrder, []Action, error) {
	msg := ev.Msg
	switch {
	case msg.Method != wire.MethodQuotation:
		return ServerOrder{}, nil, fmt.Errorf("%w: %s is not a QUOTATION", ErrCannotOpen, msg.Method)
	case msg.RequestedCPD == nil:
		return ServerOrder{}, nil, fmt.Errorf("%w: QUOTATION without requested_cpd", ErrCannotOpen)
	case msg.TransactionID == "" || msg.CustomerOrderID == "":
		return ServerOrder{}, nil, fmt.Errorf("%w: QUOTATION without transaction or customer order identifier", ErrCannotOpen)
	case ev.Fresh.ProviderOrderID == "":
		return ServerOrder{}, nil, fmt.Errorf("%w: no fresh provider order identifier", ErrCannotOpen)
	case ev.Fresh.ProviderOrderID == msg.CustomerOrderID:
		return ServerOrder{}, nil, fmt.Errorf("%w: fresh provider order identifier equals the customer's (RFC 8921 §13)", ErrCannotOpen)
	case ev.Fresh.Nonce == "":
		return ServerOrder{}, nil, fmt.Errorf("%w: no fresh nonce", ErrCannotOpen)
	}
	s := newServerStep()
	defer s.release()
	*s = serverStep{m: m, at: ev.At, in: inputOf(msg.Method), timers: cowTimers{own: true}, acts: make([]Action, 0, stepActions)}
	s.o = ServerOrder{
		CustomerOrderID: msg.CustomerOrderID,
		ProviderOrderID: ev.Fresh.ProviderOrderID,
		Identity:        ev.Identity,
		Request:         requestOf(msg),
		OfferNonce:      ev.Fresh.Nonce,
	}
	s.o.Txn = Transaction{Kind: TxnQuotation, ID: msg.TransactionID, Counters: session.NewCounters(ev.Fresh.Seq)}
	s.accept(msg)
	s.moveTo(ServerPQOReceived, "QUOTATION", "QuotationReceived", 0)
	s.beginProcessing()
	return s.o, s.finish(), nil
}

// Step advances the order by one event and returns the new order and the
// actions for the shell, in order. It never modifies o, never fails and never
// panics: every (state, input) pair has an outcome in serverTable, and
// everything else is answered with FAIL (a client request that matches no
// order in a state that accepts it) or Discard.
//
// The zero order (not created by Open) discards every event.
func (m Server) Step(o ServerOrder, ev Event) (ServerOrder, []Action) {
	if o.State == "" {
		return o, []Action{Discard{Reason: "order not opened (use Server.Open)"}}
	}
	if ev == nil {
		return o, []Action{Discard{Reason: "nil event"}}
	}
	s := newServerStep()
	defer s.release()
	*s = serverStep{m: m, o: o, at: ev.When(), acts: make([]Action, 0, stepActions)}
	switch e := ev.(type) {
	case MsgReceived:
		s.onMsg(e)
	case TimerFired:
		s.onTimer(e)
	case Decision:
		s.onDecision(e)
	case AdminApprove:
		s.in = inAdminApprove
		s.dispatch(e)
	case AdminReject:
		s.in = inAdminReject
		s.dispatch(e)
	case RequestMoreTime:
		s.in = inRequestMoreTime
		s.dispatch(e)
	case ChildEvent:
		s.in = inChildEvent
		if e.Event == nil {
			s.discard("child event without an event")
			break
		}
		s.dispatch(e)
	default:
		s.discard(fmt.Sprintf("event %T is not a server event", ev))
	}
	acts := s.finish()
	return s.o, acts
}

// serverStep is the working state of one step.
type serverStep struct {
	m         Server
	o         ServerOrder
	at        time.Time
	in        serverInput
	acts      []Action
	persisted bool
	changed   bool
	// timers is the copy-on-write of o.Timers.
	timers cowTimers
}

// serverSteps recycles the working states of Open and Step: the table's
// handlers take the working state through function values, so it would
// otherwise be allocated (a copy of the order and more) on every step.
var serverSteps = sync.Pool{New: func() any { return new(serverStep) }}

func newServerStep() *serverStep {
	return serverSteps.Get().(*serverStep) //nolint:forcetypeassert // the pool holds *serverStep only
}

// release returns s to serverSteps, holding nothing of its step.
func (s *serverStep) release() {
	*s = serverStep{}
	serverSteps.Put(s)
}

func (s *serverStep) emit(a ...Action) { s.acts = append(s.acts, a...) }

func (s *serverStep) discard(reason string) { s.emit(Discard{Reason: reason}) }

// effect emits an action whose effect must follow the durable store of the
// order (write-ahead, DESIGN §4): the first one of a step is preceded by Persist.
func (s *serverStep) effect(a Action) {
	s.changed = true
	if !s.persisted {
		s.emit(Persist{})
		s.persisted = true
	}
	s.emit(a)
}

// finish closes the step: an order that changed without an effect action is
// still persisted (for example an offer that lapsed).
func (s *serverStep) finish() []Action {
	if s.changed && !s.persisted {
		s.emit(Persist{})
		s.persisted = true
	}
	return s.acts
}

func (s *serverStep) moveTo(to ServerState, cause, reason string, code wire.StatusCode) {
	s.emit(Transition{From: string(s.o.State), To: string(to), Cause: cause, Reason: reason, StatusCode: code, At: s.at})
	s.o.State = to
	s.changed = true
}

func (s *serverStep) startTimer(id TimerID, at time.Time) {
	s.timers.set(&s.o.Timers, id, at)
	s.changed = true
	s.emit(StartTimer{ID: id, At: at})
}

func (s *serverStep) stopTimer(id TimerID) {
	if _, ok := s.o.Timers[id]; !ok {
		return
	}
	s.timers.delete(&s.o.Timers, id)
	s.changed = true
	s.emit(StopTimer{ID: id})
}

// accept records msg as the last legitimate incoming message of the current
// transaction (§11.3); its answer, if any, is set by answer.
func (s *serverStep) accept(msg wire.Message) {
	s.o.Txn.Counters.Accept(msg.Seq)
	s.o.Txn.LastReceived = msg.Method
	s.o.Txn.LastAnswer = nil
	s.changed = true
}

// reply returns a new message of the current transaction with the next
// outgoing sequence number (§11.3).
func (s *serverStep) reply(method wire.Method) wire.Message {
	return wire.Message{
		Version:         wire.Version,
		Method:          method,
		Seq:             s.o.Txn.Counters.Next(),
		TransactionID:   s.o.Txn.ID,
		CustomerOrderID: s.o.CustomerOrderID,
		ProviderOrderID: s.o.ProviderOrderID,
	}
}

// answer sends msg as the answer to the last accepted message, kept to
// answer a repeat of that message (§11.4).
func (s *serverStep) answer(msg wire.Message) {
	s.o.Txn.LastAnswer = msgPtr(msg)
	s.effect(Send{Msg: msg})
}

// answerLate sends msg, a late answer to the request that opened the cycle
// (an OFFER, a FAIL or a PROCESSING decided by the policy): it becomes the
// stored answer only while that request is still the last message accepted.
func (s *serverStep) answerLate(msg wire.Message) {
	if l := s.o.Txn.LastReceived; l == wire.MethodQuotation || l == wire.MethodUpdate {
		s.o.Txn.LastAnswer = msgPtr(msg)
	}
	s.effect(Send{Msg: msg})
}

// refuse answers msg with FAIL code and leaves the order as it was, except
// for the outgoing sequence number when inTxn (the FAIL belongs to the
// current transaction, §11.3). Outside the current transaction (another
// transaction ID, or another identity) the FAIL echoes the sequence number of
// msg: the order has no counter for it. A FAIL is never answered with a
// FAIL (that could loop); it is discarded.
func (s *serverStep) refuse(msg wire.Message, code wire.StatusCode, reason string, inTxn bool) {
	if msg.Method == wire.MethodFail {
		s.discard(reason + "; a FAIL is not answered with a FAIL")
		return
	}
	f := wire.Message{
		Version:         wire.Version,
		Method:          wire.MethodFail,
		Seq:             msg.Seq,
		TransactionID:   msg.TransactionID,
		CustomerOrderID: msg.CustomerOrderID,
		ProviderOrderID: msg.ProviderOrderID,
		StatusCode:      code,
	}
	if f.ProviderOrderID == "" {
		f.ProviderOrderID = s.o.ProviderOrderID
	}
	if inTxn {
		f.Seq = s.o.Txn.Counters.Next()
		s.effect(Send{Msg: f})
		return
	}
	s.emit(Send{Msg: f})
}

// requestOf extracts the request of a QUOTATION or an UPDATE.
func requestOf(msg wire.Message) Request {
	r := Request{ExpectedResponseTime: msg.ExpectedResponseTime, InformationElements: msg.InformationElements}
	if msg.RequestedCPD != nil {
		r.CPD = *msg.RequestedCPD
	}
	return r
}

// activationType returns the negotiated activation type: the offer's
// negotiation option if it states one (§9.2.3), else the request's
// (§9.2.1), else that of the agreement an UPDATE modifies (an UPDATE that
// does not restate its options keeps them), else immediate (§9.1.10.3: "If
// no activation type clause is included ... immediately activated right
// after the negotiation ends").
func activationType(offer *Offer, req Request, prev *Agreement) wire.ActivationType {
	for _, ie := range []*wire.InformationElements{offerIEs(offer), req.InformationElements} {
		if ie != nil && ie.NegotiationOptions != nil && ie.NegotiationOptions.ActivationType != "" {
			return ie.NegotiationOptions.ActivationType
		}
	}
	if prev != nil && prev.ActivationType != "" {
		return prev.ActivationType
	}
	return wire.ActivationImmediate
}

func offerIEs(offer *Offer) *wire.InformationElements {
	if offer == nil {
		return nil
	}
	return offer.InformationElements
}

// scope returns the negotiation scope of a request (§8.8, §9.1.10.3).
func scope(req Request) wire.Scope {
	if ie := req.InformationElements; ie != nil && ie.NegotiationOptions != nil {
		return ie.NegotiationOptions.Scope
	}
	return ""
}

func timePtr(t time.Time) *time.Time { return &t }
