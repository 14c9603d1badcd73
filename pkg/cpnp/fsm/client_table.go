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

// clientRule is the outcome of one (state, input) pair of the client machine.
type clientRule struct {
	// handle processes the input: a wire.Message, a TimerID or a ClientCommand.
	// It may still discard the input after the checks that Table 5 and §11
	// ask for (identifiers, CPD, nonce, validity).
	handle func(s *clientStep, in any)
	// next lists the states a handled input can lead to; a discarded input
	// leaves the state unchanged.
	next []ClientState
}

// Input names of the client table: method names for messages (Table 1),
// TimerIDs for timers, command names for commands.
var (
	clientMsgInputs   = []string{"QUOTATION", "PROCESSING", "OFFER", "ACCEPT", "DECLINE", "ACK", "CANCEL", "WITHDRAW", "UPDATE", "FAIL", "ACTIVATE"}
	clientTimerInputs = []TimerID{TimerRetransmit, TimerResponse, TimerOffer, TimerValidity, TimerWithdrawCycle}
	clientCmdInputs   = []string{
		"ApproveOrder", "Quote", "AcceptOffer", "DeclineOffer", "CancelOrder",
		"UpdateOrder", "ActivateOrder", "WithdrawOrder", "GrantExtension", "RefuseExtension",
	}
)

// clientTable is the transition table of the client machine: RFC 8921
// §8.11.1 Figure 8, with the validation of §10.1 Table 5 and the behaviour
// of §11.1, §11.3 and §11.4. A (state, input) pair that is not in the table
// is discarded with a reason naming the pair. Messages first pass the
// checks common to every state (method the client can receive, customer
// order identifier, transaction ID, sequence number) in clientStep.receive;
// timers must be armed and due (clientStep.fire).
var clientTable = map[ClientState]map[string]clientRule{
	ClientCreated: {
		"ApproveOrder": {handle: (*clientStep).onApprove, next: states(ClientAwaitingProcessing)},
		"CancelOrder":  {handle: (*clientStep).onCancelUnsent, next: states(ClientCancelled)},
	},
	ClientAwaitingProcessing: {
		"Quote":       {handle: (*clientStep).onQuote, next: states(ClientPQOSent, ClientCancelled)},
		"CancelOrder": {handle: (*clientStep).onCancelUnsent, next: states(ClientCancelled)},
	},
	ClientPQOSent: {
		"PROCESSING":            {handle: (*clientStep).onProcessing, next: negotiationEnds(ClientServerProcessing)},
		"OFFER":                 {handle: (*clientStep).onOffer, next: negotiationEnds(ClientOfferReceived, ClientOfferProcessing)},
		"FAIL":                  {handle: (*clientStep).onFail, next: negotiationEnds()},
		string(TimerRetransmit): {handle: (*clientStep).onRetransmit, next: negotiationEnds(ClientPQOSent)},
		string(TimerResponse):   {handle: (*clientStep).onDeadline, next: negotiationEnds()},
		"CancelOrder":           {handle: (*clientStep).onCancel, next: negotiationEnds()},
	},
	ClientServerProcessing: {
		"PROCESSING":          {handle: (*clientStep).onProcessing, next: negotiationEnds(ClientServerProcessing)},
		"OFFER":               {handle: (*clientStep).onOffer, next: negotiationEnds(ClientOfferReceived, ClientOfferProcessing)},
		"FAIL":                {handle: (*clientStep).onFail, next: negotiationEnds()},
		string(TimerResponse): {handle: (*clientStep).onDeadline, next: negotiationEnds()},
		string(TimerOffer):    {handle: (*clientStep).onDeadline, next: negotiationEnds()},
		"CancelOrder":         {handle: (*clientStep).onCancel, next: negotiationEnds()},
		"GrantExtension":      {handle: (*clientStep).onGrantExtension, next: states(ClientServerProcessing)},
		"RefuseExtension":     {handle: (*clientStep).onRefuseExtension, next: negotiationEnds()},
	},
	ClientOfferReceived: {
		"FAIL":                {handle: (*clientStep).onFail, next: negotiationEnds()},
		string(TimerValidity): {handle: (*clientStep).onValidity, next: negotiationEnds()},
		"AcceptOffer":         {handle: (*clientStep).onAccept, next: negotiationEnds(ClientAcceptSent)},
		"DeclineOffer":        {handle: (*clientStep).onDecline, next: negotiationEnds()},
		"CancelOrder":         {handle: (*clientStep).onCancel, next: negotiationEnds()},
	},
	ClientOfferProcessing: {
		"FAIL":                {handle: (*clientStep).onFail, next: negotiationEnds()},
		string(TimerValidity): {handle: (*clientStep).onValidity, next: negotiationEnds()},
		"AcceptOffer":         {handle: (*clientStep).onAccept, next: negotiationEnds(ClientAcceptSent)},
		"DeclineOffer":        {handle: (*clientStep).onDecline, next: negotiationEnds()},
		"CancelOrder":         {handle: (*clientStep).onCancel, next: negotiationEnds()},
	},
	ClientAcceptSent: {
		"ACK":                   {handle: (*clientStep).onAck, next: states(ClientCompleted)},
		"FAIL":                  {handle: (*clientStep).onFail, next: negotiationEnds()},
		string(TimerRetransmit): {handle: (*clientStep).onRetransmit, next: negotiationEnds(ClientAcceptSent)},
		"CancelOrder":           {handle: (*clientStep).onCancel, next: negotiationEnds()},
	},
	ClientCompleted: {
		"ACK":                   {handle: (*clientStep).onAck, next: states(ClientCompleted)},
		"FAIL":                  {handle: (*clientStep).onFail, next: states(ClientCompleted)},
		string(TimerRetransmit): {handle: (*clientStep).onRetransmit, next: states(ClientCompleted)},
		"UpdateOrder":           {handle: (*clientStep).onUpdate, next: states(ClientAwaitingProcessing, ClientPQOSent)},
		"ActivateOrder":         {handle: (*clientStep).onActivate, next: states(ClientCompleted)},
		"WithdrawOrder":         {handle: (*clientStep).onWithdraw, next: states(ClientCancelled)},
	},
	ClientCancelled: {
		"PROCESSING":               {handle: (*clientStep).onWithdrawProcessing, next: states(ClientCancelled)},
		"ACK":                      {handle: (*clientStep).onAck, next: states(ClientCancelled)},
		"FAIL":                     {handle: (*clientStep).onFail, next: states(ClientCancelled)},
		string(TimerRetransmit):    {handle: (*clientStep).onRetransmit, next: states(ClientCancelled)},
		string(TimerWithdrawCycle): {handle: (*clientStep).onWithdrawCycle, next: states(ClientCancelled)},
	},
}

func states(s ...ClientState) []ClientState { return s }

// negotiationEnds lists s plus the states a negotiation ends in: Cancelled
// for a QUOTATION, Completed (the previous agreement) for an UPDATE cycle.
func negotiationEnds(s ...ClientState) []ClientState {
	return append(s, ClientCancelled, ClientCompleted)
}
