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
	// Fresh carries values the server needs when this message opens a new
	// order (a QUOTATION): the shell draws them from crypto/rand. Ignored
	// by the client machine.
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

// keep cpd imported for the order types declared in client.go and server.go.
var _ = cpd.CPD{}
