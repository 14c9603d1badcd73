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
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// ClientState is a client-side order state, named verbatim after RFC 8921
// §8.11.1, Figure 8.
type ClientState string

// Client states (Figure 8).
const (
	ClientCreated            ClientState = "Created"
	ClientAwaitingProcessing ClientState = "AwaitingProcessing"
	ClientPQOSent            ClientState = "PQOSent"
	ClientServerProcessing   ClientState = "ServerProcessing"
	ClientOfferReceived      ClientState = "OfferReceived"
	ClientOfferProcessing    ClientState = "OfferProcessing"
	ClientAcceptSent         ClientState = "AcceptSent"
	ClientCompleted          ClientState = "Completed"
	ClientCancelled          ClientState = "Cancelled"
)

// ClientStates lists every client state in Figure 8 order.
var ClientStates = []ClientState{
	ClientCreated, ClientAwaitingProcessing, ClientPQOSent, ClientServerProcessing,
	ClientOfferReceived, ClientOfferProcessing, ClientAcceptSent, ClientCompleted, ClientCancelled,
}

// String returns the Figure 8 name.
func (s ClientState) String() string { return string(s) }

// ServerState is a server-side order state, named verbatim after RFC 8921
// §8.11.2, Figure 9 (including the Child* states of §8.8).
type ServerState string

// Server states (Figure 9).
const (
	ServerPQOReceived           ServerState = "PQOReceived"
	ServerAwaitingProcessing    ServerState = "AwaitingProcessing"
	ServerOfferProposed         ServerState = "OfferProposed"
	ServerProcessingReceived    ServerState = "ProcessingReceived"
	ServerAcceptReceived        ServerState = "AcceptReceived"
	ServerCompleted             ServerState = "Completed"
	ServerCancelled             ServerState = "Cancelled"
	ServerChildCreated          ServerState = "ChildCreated"
	ServerChildPQOSent          ServerState = "ChildPQOSent"
	ServerChildServerProcessing ServerState = "ChildServerProcessing"
	ServerChildOfferReceived    ServerState = "ChildOfferReceived"
	ServerChildOfferProcessing  ServerState = "ChildOfferProcessing"
	ServerChildAcceptSent       ServerState = "ChildAcceptSent"
	ServerChildCompleted        ServerState = "ChildCompleted"
)

// ServerStates lists every server state in Figure 9 order.
var ServerStates = []ServerState{
	ServerPQOReceived, ServerAwaitingProcessing, ServerOfferProposed, ServerProcessingReceived,
	ServerAcceptReceived, ServerCompleted, ServerCancelled,
	ServerChildCreated, ServerChildPQOSent, ServerChildServerProcessing, ServerChildOfferReceived,
	ServerChildOfferProcessing, ServerChildAcceptSent, ServerChildCompleted,
}

// String returns the Figure 9 name.
func (s ServerState) String() string { return string(s) }

// TimerID names one timer of an order. An order has at most one timer of each
// ID; starting it again moves its deadline.
type TimerID string

// Timers (RFC 8921 §8.5, §11.1.2, §11.4).
const (
	// TimerRetransmit is RETRANS_TIMER for the last message sent (§11.4).
	TimerRetransmit TimerID = "Retransmit"
	// TimerResponse is EXPECTED_RESPONSE_TIME: the client CANCELs when it fires (§8.5).
	TimerResponse TimerID = "ExpectedResponse"
	// TimerOffer is EXPECTED_OFFER_TIME: the client gives up when it fires (§8.5, §11.1.1).
	TimerOffer TimerID = "ExpectedOffer"
	// TimerValidity is VALIDITY_OFFER_TIME: the offer lapses when it fires (§8.5, §9.1.8).
	TimerValidity TimerID = "OfferValidity"
	// TimerWithdrawCycle starts another withdrawal cycle, >= 300 s after the last one gave up (§11.1.2).
	TimerWithdrawCycle TimerID = "WithdrawCycle"
)

// Event is an input to a machine. Every event carries the time at which it
// happens; the machines read no clock (STYLE §2).
type Event interface {
	// When returns the time the event happened.
	When() time.Time
}

// MsgReceived is a structurally valid message (wire.Validate passed) that
// arrived from the authenticated peer Identity (DESIGN §4: certificate URI
// SAN, else CN).
type MsgReceived struct {
	Msg      wire.Message
	Identity string
	At       time.Time
	// Fresh carries random values the server machine needs when this
	// message opens a transaction: the shell draws them from crypto/rand for
	// every QUOTATION, UPDATE, WITHDRAW and ACTIVATE (Seq always; Nonce for
	// QUOTATION and UPDATE, whose offer carries a new nonce, §11.2.3;
	// ProviderOrderID for QUOTATION). Ignored by the client machine.
	Fresh Fresh
}

// Fresh are random values drawn by the shell for the machine (which reads no randomness).
type Fresh struct {
	// ProviderOrderID is a new provider order identifier (server, §9.1.2, §13).
	ProviderOrderID string
	// Nonce is a new nonce (server, §9.1.5, §11.2.3).
	Nonce string
	// Seq is a random first outgoing sequence number (§8.4).
	Seq uint32
}

// TimerFired reports that the timer ID of the order reached its deadline.
type TimerFired struct {
	ID TimerID
	At time.Time
}

// When implements Event.
func (e MsgReceived) When() time.Time { return e.At }

// When implements Event.
func (e TimerFired) When() time.Time { return e.At }

// Action is an output of a machine, executed by the shell in order.
type Action interface{ isAction() }

// Send asks the shell to send Msg to the order's peer. Retransmission is true
// when Msg is an unchanged copy of an earlier send (same sequence number, §11.4).
type Send struct {
	Msg            wire.Message
	Retransmission bool
}

// StartTimer arms (or moves) the timer ID of the order to fire at At.
type StartTimer struct {
	ID TimerID
	At time.Time
}

// StopTimer disarms the timer ID of the order, if armed.
type StopTimer struct{ ID TimerID }

// Persist asks the shell to store the order durably before it executes any
// later action of the same step (write-ahead, DESIGN §4). A step emits Persist
// before the first Send whose effect must survive a crash.
type Persist struct{}

// Transition reports a state change, for logs, events and status history
// (§8.11: "Timestamps are also logged to track state change").
type Transition struct {
	From, To string
	// Cause names what moved the machine: a method ("OFFER"), a timer or a command.
	Cause string
	// Reason is a short UpperCamelCase reason (for example "OfferExpired").
	Reason string
	// StatusCode is the FAIL status code that caused or accompanied the change, if any.
	StatusCode wire.StatusCode
	At         time.Time
}

// Discard reports that an input was dropped without effect, and why
// (§10: silent discard; §11.3: stale sequence numbers; §13).
type Discard struct{ Reason string }

// Alarm asks the shell to alert an administrator (§11.1.2: WITHDRAW
// unanswered after every retry).
type Alarm struct{ Reason string }

func (Send) isAction()       {}
func (StartTimer) isAction() {}
func (StopTimer) isAction()  {}
func (Persist) isAction()    {}
func (Transition) isAction() {}
func (Discard) isAction()    {}
func (Alarm) isAction()      {}

// ErrInvalidConfig is matched (errors.Is) by every error that a Validate
// method of a machine configuration (Client, Server) returns.
var ErrInvalidConfig = errors.New("invalid fsm configuration")

// ConfigError reports one configuration field that cannot work. It matches
// ErrInvalidConfig.
type ConfigError struct {
	// Field names the field ("withdrawRetryInterval").
	Field string
	// Value is the rejected value.
	Value any
	// Reason says what the field must be.
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s %v: %s", e.Field, e.Value, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// TxnKind is the request that opened a transaction (DESIGN §3: QUOTATION,
// UPDATE, ACTIVATE and WITHDRAW each start a new transaction; every other
// method belongs to the transaction it answers; RFC 8921 §8.4).
type TxnKind string

// Transaction kinds.
const (
	TxnQuotation TxnKind = "Quotation"
	TxnUpdate    TxnKind = "Update"
	TxnActivate  TxnKind = "Activate"
	TxnWithdraw  TxnKind = "Withdraw"
)

// Transaction is the current transaction of an order (RFC 8921 §8.4) as one
// side sees it: its identifier, that side's two sequence numbers (§11.3),
// the request it waits an answer for (retransmitted, §11.4), and the answer
// it gave to the last incoming message it accepted (re-sent when that
// message is repeated, §11.4). Messages stored here are never modified in
// place, so a retransmission is byte-identical to the original.
type Transaction struct {
	// Kind is the request that opened the transaction.
	Kind TxnKind `json:"kind"`
	// ID is TRANSACTION_ID (§9.1.3), drawn by the client from crypto/rand.
	ID string `json:"id"`
	// Counters are this side's outgoing and incoming sequence numbers (§11.3).
	Counters session.Counters `json:"counters"`
	// Unanswered is the last request sent that still awaits an answer; it is
	// retransmitted on TimerRetransmit with its original sequence number (§11.4).
	Unanswered *wire.Message `json:"unanswered,omitempty"`
	// Retries counts the retransmissions of Unanswered in the current cycle.
	Retries int `json:"retries,omitempty"`
	// LastReceived is the method of the last incoming message accepted in this
	// transaction (the one whose sequence number is Counters.In).
	LastReceived wire.Method `json:"lastReceived,omitempty"`
	// LastAnswer is the answer sent to that message, if it needed one; a
	// repeat of that message (same sequence number, §11.4) is answered with it.
	LastAnswer *wire.Message `json:"lastAnswer,omitempty"`
}

// Request is what the client asks for in a QUOTATION (§9.2.1) or an UPDATE
// (§9.2.9).
type Request struct {
	// CPD is the Requested CPD (§8.7).
	CPD cpd.CPD `json:"cpd"`
	// ExpectedResponseTime is EXPECTED_RESPONSE_TIME (§9.1.6); nil means the
	// client does not enforce a deadline (§11.1.1). Mandatory in an UPDATE.
	ExpectedResponseTime *time.Time `json:"expectedResponseTime,omitempty"`
	// InformationElements are the client's IEs: customer description and
	// negotiation options (§9.1.10.1, §9.1.10.3).
	InformationElements *wire.InformationElements `json:"informationElements,omitempty"`
}

// Offer is an offer made by the server (§9.2.3).
type Offer struct {
	// CPD is the Offered CPD (§8.7).
	CPD cpd.CPD `json:"cpd"`
	// Nonce is the NONCE of the offer (§9.1.5).
	Nonce string `json:"nonce"`
	// ValidUntil is VALIDITY_OFFER_TIME (§9.1.8).
	ValidUntil time.Time `json:"validUntil"`
	// ActivationSchedule is the ACTIVATION_SCHEDULE of the offer, if any (§9.2.3).
	ActivationSchedule *wire.Schedule `json:"activationSchedule,omitempty"`
	// InformationElements are the server's IEs (provider description,
	// negotiation options such as the activation type, §9.1.10.2, §9.2.3).
	InformationElements *wire.InformationElements `json:"informationElements,omitempty"`
	// ReceivedAt is when the offer arrived (client) or was made (server).
	ReceivedAt time.Time `json:"receivedAt"`
}

// Agreement is an accepted and acknowledged offer (§9.2.4, §9.2.6). During
// an UPDATE cycle the previous Agreement and its nonce stand until the
// UPDATE's ACCEPT is acknowledged (DESIGN §3).
type Agreement struct {
	// CPD is the Accepted CPD (§8.7).
	CPD cpd.CPD `json:"cpd"`
	// Nonce is the nonce that later WITHDRAW, UPDATE and ACTIVATE carry (§9.1.5).
	Nonce string `json:"nonce"`
	// ActivationType is the negotiated activation type; empty means
	// immediate (§9.1.10.3, DESIGN §3).
	ActivationType wire.ActivationType `json:"activationType,omitempty"`
	// Active reports whether the agreement is active (immediate activation,
	// a schedule already reached when it was recorded, or an acknowledged ACTIVATE).
	Active bool `json:"active"`
	// ScheduledAt is a future activation time (scheduled activation, or an
	// acknowledged ACTIVATE with a future schedule, §9.2.11).
	ScheduledAt *time.Time `json:"scheduledAt,omitempty"`
	// Since is when the agreement was reached (the ACK arrived or was sent).
	Since time.Time `json:"since"`
}

// ActiveAt reports whether the agreement is active at t: it is Active, or
// its ScheduledAt is at or before t (DESIGN §3: a schedule at or before now
// means immediately). The machines read no clock, so the shells ask with
// their own time.
func (a Agreement) ActiveAt(t time.Time) bool {
	return a.Active || (a.ScheduledAt != nil && !t.Before(*a.ScheduledAt))
}

// Failure records why an order or a transaction ended abnormally: a FAIL
// received or sent (§9.2.10), or a timer that ran out.
type Failure struct {
	// StatusCode is the FAIL status code (Table 4); 0 when no FAIL was involved.
	StatusCode wire.StatusCode `json:"statusCode,omitempty"`
	// Sent is true when this side sent the FAIL (for example the client's
	// FAIL 7, More Time Rejected).
	Sent bool `json:"sent,omitempty"`
	// Reason is the UpperCamelCase reason of the Transition that recorded it.
	Reason string `json:"reason"`
	// Txn is the kind of transaction that failed.
	Txn TxnKind `json:"txn,omitempty"`
	// At is when it happened.
	At time.Time `json:"at"`
}

// Deep copies of the shared records, for Clone and the constructors that
// take a caller's data (NewClientOrder, UpdateOrder). Step itself copies
// nothing it does not change: the machines treat messages, CPDs and the
// records behind pointers as immutable once built (see ServerOrder), but a
// Clone owns every pointer, slice and map so that a caller may change it
// freely.

func (r Request) clone() Request {
	r.CPD = cloneCPD(r.CPD)
	r.ExpectedResponseTime = cloneTime(r.ExpectedResponseTime)
	r.InformationElements = cloneIEs(r.InformationElements)
	return r
}

func (t Transaction) clone() Transaction {
	t.Unanswered = cloneMessage(t.Unanswered)
	t.LastAnswer = cloneMessage(t.LastAnswer)
	return t
}

func (o *Offer) clone() *Offer {
	if o == nil {
		return nil
	}
	c := *o
	c.CPD = cloneCPD(o.CPD)
	c.ActivationSchedule = cloneSchedule(o.ActivationSchedule)
	c.InformationElements = cloneIEs(o.InformationElements)
	return &c
}

func (a *Agreement) clone() *Agreement {
	if a == nil {
		return nil
	}
	c := *a
	c.CPD = cloneCPD(a.CPD)
	c.ScheduledAt = cloneTime(a.ScheduledAt)
	return &c
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func cloneSchedule(s *wire.Schedule) *wire.Schedule {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}

// cloneCPD returns a copy of c that shares no memory with it.
func cloneCPD(c cpd.CPD) cpd.CPD {
	var out cpd.CPD
	c.DeepCopyInto(&out)
	return out
}

func cloneCPDPtr(c *cpd.CPD) *cpd.CPD {
	if c == nil {
		return nil
	}
	d := cloneCPD(*c)
	return &d
}

func cloneIEs(ie *wire.InformationElements) *wire.InformationElements {
	if ie == nil {
		return nil
	}
	c := *ie
	if ie.CustomerDescription != nil {
		d := *ie.CustomerDescription
		d.Contact = cloneContact(d.Contact)
		c.CustomerDescription = &d
	}
	if ie.ProviderDescription != nil {
		d := *ie.ProviderDescription
		d.Contact = cloneContact(d.Contact)
		c.ProviderDescription = &d
	}
	if ie.NegotiationOptions != nil {
		n := *ie.NegotiationOptions
		c.NegotiationOptions = &n
	}
	return &c
}

func cloneContact(ct *wire.Contact) *wire.Contact {
	if ct == nil {
		return nil
	}
	c := *ct
	if ct.TelephoneNumbers != nil {
		c.TelephoneNumbers = append([]string(nil), ct.TelephoneNumbers...)
	}
	return &c
}

func cloneMessage(m *wire.Message) *wire.Message {
	if m == nil {
		return nil
	}
	c := *m
	c.ExpectedResponseTime = cloneTime(m.ExpectedResponseTime)
	c.ExpectedOfferTime = cloneTime(m.ExpectedOfferTime)
	c.ValidityOfferTime = cloneTime(m.ValidityOfferTime)
	c.RequestedCPD = cloneCPDPtr(m.RequestedCPD)
	c.OfferedCPD = cloneCPDPtr(m.OfferedCPD)
	c.AcceptedCPD = cloneCPDPtr(m.AcceptedCPD)
	c.CPD = cloneCPDPtr(m.CPD)
	if m.Reasons != nil {
		c.Reasons = append([]wire.Reason(nil), m.Reasons...)
	}
	c.ActivationSchedule = cloneSchedule(m.ActivationSchedule)
	c.InformationElements = cloneIEs(m.InformationElements)
	return &c
}

// stepActions is the initial capacity of a step's actions: a typical step
// emits up to eight (Persist, Send, timers, Transitions, a Consult), so the
// slice is allocated once.
const stepActions = 8

// cowTimers is the copy-on-write of an order's timer map within one step
// of either machine: the input order's map is shared until the step first
// changes it, which then works on its own copy.
type cowTimers struct {
	// own is true once the step's map is its own.
	own bool
}

// set arms timer id at at in *m.
func (c *cowTimers) set(m *map[TimerID]time.Time, id TimerID, at time.Time) {
	if !c.own || *m == nil {
		*m = copyTimers(*m, 1)
		c.own = true
	}
	(*m)[id] = at
}

// delete removes the armed timer id from *m; an order without timers has a
// nil map.
func (c *cowTimers) delete(m *map[TimerID]time.Time, id TimerID) {
	if len(*m) == 1 {
		*m, c.own = nil, true
		return
	}
	if !c.own {
		*m = copyTimers(*m, 0)
		c.own = true
	}
	delete(*m, id)
}

// copyTimers returns a new map holding the timers of m, with room for extra
// more.
func copyTimers(m map[TimerID]time.Time, extra int) map[TimerID]time.Time {
	c := make(map[TimerID]time.Time, len(m)+extra)
	maps.Copy(c, m)
	return c
}

// nextDeadline returns the earliest deadline of timers. Ties go to the timer
// that sorts first by ID, so the answer is deterministic.
func nextDeadline(timers map[TimerID]time.Time) (TimerID, time.Time, bool) {
	return EarliestTimer(timers, nil)
}

// EarliestTimer returns the earliest deadline of timers, leaving out those
// for which skip (when not nil) reports true; ok is false when none is
// left. Ties go to the timer that sorts first by ID, so that the shells
// and the orders' NextDeadline always pick the same timer.
func EarliestTimer(timers map[TimerID]time.Time, skip func(TimerID, time.Time) bool) (id TimerID, at time.Time, ok bool) {
	// One pass, no sorting: the shells ask after every step.
	for k, t := range timers {
		if skip != nil && skip(k, t) {
			continue
		}
		if !ok || t.Before(at) || (t.Equal(at) && k < id) {
			id, at, ok = k, t, true
		}
	}
	return id, at, ok
}
