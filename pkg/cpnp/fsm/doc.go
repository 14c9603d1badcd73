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

/*
Package fsm holds the pure state machines of the Connectivity Provisioning
Negotiation Protocol (RFC 8921): the client machine of §8.11.1 (Figure 8)
and the server machine of §8.11.2 (Figure 9, with the Child* states of
§8.8), with the validation of §10 (Tables 5 and 6) and the behaviour of §11.

# Pure cores

A machine is a small configuration value with a Step method:

	func (m Client) Step(o ClientOrder, ev Event) (ClientOrder, []Action)
	func (m Server) Step(o ServerOrder, ev Event) (ServerOrder, []Action)

Step reads no clock, no randomness, does no I/O, starts no goroutine and
logs nothing (DESIGN §4, STYLE §2; lint enforces it). Time arrives in every
Event (When); transaction IDs, nonces, provider order identifiers and first
sequence numbers arrive inside events, drawn by the shell from crypto/rand.
Orders are plain values that serialize to JSON: the operator keeps a
ClientOrder in a resource's status, the server keeps a ServerOrder in bbolt.
Step never modifies the order it is given. It is copy-on-write: the order
it returns shares with its input every record it did not change (CPDs,
messages, information elements, the Offer and Agreement records, the
timer map), so records reachable from an order are read-only for the
machines and the shells alike; Clone gives a private deep copy. The tests
check on every step of the transition tests and fuzz targets that the
input is unchanged and that a Clone of the output shares nothing with it.

Protocol outcomes are Actions, executed in order by the shell: Send,
StartTimer and StopTimer (absolute deadlines, mirrored in the order's Timers
so that a restarted shell re-arms them), Persist (write-ahead: it comes
before the first Send whose effect must survive a crash), Transition (every
state change, with a Cause and an UpperCamelCase Reason), Discard (every
dropped input, with the reason) and Alarm. Step never returns an error and
never panics on peer input.

Every (state, input) pair has a written outcome: each machine keeps an
explicit transition table (clientTable, serverTable); a pair that is not in
the table is discarded with a reason naming it. The exhaustive tests walk
every state × every input against an expectation written independently of
the table.

# Transactions and sequence numbers

QUOTATION, UPDATE, ACTIVATE and WITHDRAW each open a new transaction with a
fresh transaction ID; PROCESSING, OFFER, ACCEPT, DECLINE, CANCEL, FAIL and
ACK belong to the transaction they answer (DESIGN §3, §8.4). Each side
keeps, per transaction, one outgoing and one incoming counter
(session.Counters, §11.3): a new message takes the next outgoing number, a
retransmission reuses its number (§11.4). An incoming message whose number
is lower than the last accepted one is discarded; one with the same number
is a repeat of the last handled message, answered with the answer stored in
Transaction.LastAnswer (marked Retransmission; rate-limiting such answers is
the shell's job, session.DupCache). A request that expects an answer is kept
in Transaction.Unanswered and retransmitted on TimerRetransmit with the
schedule of session.Retransmit (RETRANS_TIMER 1 s doubling, 3 retries by
default, §11.4).

# Client machine (Figure 8)

	+------------------+
	|     Created      |-----------------+
	+------------------+                 |
	        |                            |
	        v                            |
	+------------------+                 |
	|AwaitingProcessing|----------------+|
	+------------------+                ||
	        |                           ||
	   QUOTATION/UPDATE                 ||
	        v                           ||
	+------------------+                ||
	|     PQOSent      |---CANCEL------+||
	+------------------+               vvv
	        |                        +-----+
	    PROCESSING                   |     |
	        v                        |     |
	+------------------+   CANCEL    |  C  |
	| ServerProcessing |------------>|  A  |
	+------------------+    FAIL     |  N  |
	        |                        |  C  |
	        |                        |  E  |
	      OFFER                      |  L  |
	        |                        |  L  |
	        v                        |  E  |
	+------------------+             |  D  |
	|  OfferReceived   |---CANCEL--->|     |
	+------------------+             |     |
	        | PROCESSING             +-----+
	        v                          ^^^
	+------------------+               |||
	|  OfferProcessing |---DECLINE-----+||
	+------------------+                ||
	        | ACCEPT                    ||
	        v                           ||
	+------------------+                ||
	|    AcceptSent    |---CANCEL-------+|
	+------------------+                 |
	        | ACK                        |
	        v                            |
	+------------------+                 |
	|   Completed      |---WITHDRAW------+
	+------------------+

The client machine is Client.Step on a ClientOrder. The user's decisions
arrive as commands (ClientCommand): ApproveOrder, Quote, AcceptOffer,
DeclineOffer, CancelOrder, UpdateOrder, ActivateOrder, WithdrawOrder,
GrantExtension, RefuseExtension. (They are named ...Order where a bare verb
would read as a wire method or clash with the server's admin commands.)
Automatic acceptance, choosing the best of several offers (§8.10) and
declining the others are the operator's logic: the machine only offers the
commands. The client machine does not check the peer identity: the engine
feeds an order only the messages of its own server (DESIGN §4).

Decisions of the client machine, where the RFC leaves room:

  - Table 5 checks: a message must name the order's customer order
    identifier and the current transaction, carry a sequence number above
    the last accepted one, and (once known) the provider order identifier;
    the first PROCESSING, OFFER or FAIL records the provider order
    identifier, which never changes afterwards (§11.1.1) and may not equal
    the customer's (§13). The ACK to an ACCEPT must carry the offered CPD
    (cpd.Equal), the ACK to a WITHDRAW the Empty CPD. The ACK to a CANCEL
    or a DECLINE is matched by identifiers only (Table 5 has no row for it;
    §9.2.5 and §9.2.6 disagree on its CPD). Anything else is discarded
    silently (§13), with a Discard action naming the reason.
  - Table 5 lists PROCESSING only in PQOSent; the client also accepts it in
    ServerProcessing (a request for more time, Figures 11 and 12) and, for
    a pending WITHDRAW, in Cancelled (Figure 14).
  - OfferReceived is passed through: the client answers an OFFER with
    PROCESSING in the same step (Figure 6), so the order moves
    ServerProcessing → OfferReceived → OfferProcessing in one step with two
    Transitions. AcceptOffer, DeclineOffer and CancelOrder are accepted in
    both OfferReceived (a restored order) and OfferProcessing. An OFFER is
    accepted only in PQOSent and ServerProcessing (Table 5); a second OFFER
    in the same transaction is discarded. An OFFER that arrives already
    expired ends the negotiation (OfferExpired) without an answer.
  - A repeated OFFER is answered with the stored PROCESSING; a repeated
    request for more time with the stored ACK or FAIL 7 — also from a
    terminal order, the only thing a terminal order ever sends.
  - Timers: TimerResponse (EXPECTED_RESPONSE_TIME) is armed when the
    QUOTATION or UPDATE is sent; an accepted EXPECTED_OFFER_TIME replaces it
    with TimerOffer. Either firing sends CANCEL and ends the negotiation
    (§8.5; for EXPECTED_OFFER_TIME the RFC only says the order is rejected:
    the CANCEL lets the server release what it holds). TimerValidity
    (VALIDITY_OFFER_TIME) ends the negotiation silently (OfferExpired): the
    server drops the offer by itself (§9.1.8); AcceptOffer after the
    validity does the same instead of sending a late ACCEPT (§9.2.4). A Quote
    whose EXPECTED_RESPONSE_TIME already passed cancels the order without
    sending anything. A timer event for a timer that is not armed, or before
    its deadline, is discarded (a stale timer of the shell).
  - More time (§9.2.2, §9.1.7): a PROCESSING whose EXPECTED_OFFER_TIME is
    later than the time granted (the accepted expected offer time, else the
    request's EXPECTED_RESPONSE_TIME; no limit without either, §11.1.1) is a
    request for more time — the first PROCESSING included. With
    ExtensionLimit set, the client grants up to the limit (ACK carrying the
    granted time as expected_response_time and no CPD, DESIGN §3) and
    refuses beyond it (FAIL 7, More Time Rejected; the negotiation ends).
    Without ExtensionLimit, the request waits in PendingExtension for
    GrantExtension or RefuseExtension; meanwhile the deadline already
    granted keeps running. A PROCESSING whose time is within the granted
    time is accepted silently and withdraws a pending request.
  - Retries exhausted (§11.4): a QUOTATION or UPDATE ends the negotiation
    (NoResponse) without a CANCEL, since the server never answered. An
    ACCEPT leaves the agreement unknown: the client sends CANCEL, ends the
    negotiation (NoResponse) and raises an Alarm; if the server refuses that
    CANCEL with a FAIL (it completed the agreement), a second Alarm follows.
    A CANCEL or DECLINE is abandoned (NoAcknowledgement). An ACTIVATE leaves
    the activation state unchanged (ActivationNoResponse). A WITHDRAW starts
    the withdrawal cycles below.
  - WITHDRAW (§9.2.8, §11.1.2): Completed → Cancelled when the WITHDRAW is
    sent (Figure 8); WithdrawAcked stays false until the ACK with the Empty
    CPD, so that the operator holds its finalizer. When the retries are
    exhausted the client raises an Alarm and arms TimerWithdrawCycle after
    Client.WithdrawRetryInterval (300 s at least); each cycle re-sends the
    same WITHDRAW (same transaction and sequence number) so that a server
    that already handled it answers from its stored answer. A PROCESSING
    answering the WITHDRAW (Figure 14) stops the retransmissions and arms
    the next cycle in case the ACK is lost. A FAIL ends the withdrawal with
    an Alarm (the server may still hold the agreement); the operator decides.
  - UPDATE (§9.2.9, §11.1.3, DESIGN §3): the update cycle runs through the
    negotiation states of Figure 8 — Completed → AwaitingProcessing →
    PQOSent in one step (the figure's QUOTATION/UPDATE edge) — with
    Txn.Kind Update and the new request in ClientOrder.Update. The UPDATE
    carries the agreement's nonce; the offer's new nonce and CPD replace the
    agreement's only when the ACCEPT is acknowledged (reason Updated; the
    activation state carries over). When the cycle fails — FAIL, DECLINE,
    CANCEL, an expiry, a refused extension, no response — the order returns
    to Completed with the previous agreement and nonce (a sub-state of
    §8.11.1), and the Transition's reason is the negotiation's reason
    prefixed with "Update": UpdateFailed, UpdateDeclined, UpdateCancelled,
    UpdateOfferExpired, UpdateResponseTimeExpired, UpdateOfferTimeExpired,
    UpdateMoreTimeRejected, UpdateNoResponse.
  - ACTIVATE (§9.2.11, DESIGN §3): sent from Completed in a new transaction;
    the order stays Completed. The ACK (no CPD) applies the schedule: "0"
    deactivates, a time at or before the ACK activates, a later time is
    recorded in Agreement.ScheduledAt (Agreement.ActiveAt answers for any
    time). A FAIL (8: activation type not explicit) leaves the state as it
    was (ActivationFailed). The client does not pre-empt the server's check.
  - A new agreement's activation follows the negotiated activation type (the
    offer's negotiation options, else the request's): "explicit" waits for
    ACTIVATE; otherwise a future ACTIVATION_SCHEDULE of the offer is
    recorded in ScheduledAt, and anything else is active at once (§9.2.1,
    §9.2.3).
  - Terminal: Cancelled with no request awaiting an answer and no timer
    armed (ClientOrder.Terminal). Completed is not terminal. Starting a new
    transaction clears Failure, which otherwise records the last abnormal
    end (FAIL received or sent, expiry, no response).
  - Transitions with From == To report notable changes inside a state (the
    §8.11.1 sub-states): ExtensionRequested, ExtensionGranted,
    ActivationRequested, Activated, Deactivated, ActivationScheduled,
    ActivationFailed, ActivationNoResponse, WithdrawAcknowledged,
    WithdrawFailed, CancelAcknowledged, CancelRefused, NoAcknowledgement.
    Other reasons: Approved, QuotationSent, ServerProcessing, OfferReceived,
    OfferProcessing, OfferAccepted, Agreed, Updated, UpdateRequested,
    UpdateSent, Withdrawn, Cancelled (user), Declined, Failed (with the FAIL
    status code), MoreTimeRejected, ResponseTimeExpired, OfferTimeExpired,
    OfferExpired, NoResponse.
  - Transition.Cause is the input of the step (a method name, a TimerID or
    a command name); for the second of two chained transitions it is the
    message the client sent (PROCESSING after an OFFER, UPDATE after
    UpdateOrder), the label of the Figure 8 edge.
  - Persist: a step that changes the order emits exactly one Persist, before
    its first Send (or last when it sends nothing); a discarded input and a
    re-sent answer change nothing and emit none.

# Server machine (Figure 9)

	+------------------+           +------------------+
	|AwaitingProcessing|<----------|    ChildCreated  |
	+------------------+           +------------------+
	        |                            |      ^
	        v                            |      |
	+------------------+                 |      |
	|   ChildPQOSent   |----------------+|      Q
	+------------------+                ||      U
	        |                           ||      O
	     QUOTATION/UPDATE               ||      T
	        v                           ||      A  +--------------------+
	+---------------------+   CANCEL    ||      T  |     PQOReceived    |
	|ChildServerProcessing|------------+||      I  +--------------------+
	+---------------------+    FAIL    vvv      O       |      |
	        |                        +-----+    N    CANCEL    |
	    PROCESSING                   |     |<---|-------+  PROCESSING
	        v                        |     |    |              v
	+------------------+             |     |   +------------------------+
	|ChildOfferReceived|----CANCEL---|  C  |<--|   AwaitingProcessing   |
	+------------------+             |  A  |   +------------------------+
	        |                        |  N  |       ^          | OFFER
	      OFFER                      |  C  |       | +------------------+
	        |                        |  E  |<DECLINE-|   OfferProposed  |
	        |                        |  L  |       | +------------------+
	        v                        |  L  |       |          |
	+------------------+             |  E  |       |      PROCESSING
	|ChildOfferReceived|---CANCEL----|  D  |       |          v
	+------------------+             |     |       | +------------------+
	        |                        |     |<DECLINE-| Proc'ingReceived |
	   PROCESSING                    |     |       |+------------------+
	        |                        +-----+       |          | ACCEPT
	        v                         ^^^^^        |          v
	+------------------+              |||||        | +------------------+
	|ChildOfferProc'ing|---DECLINE----+|||+-CANCEL-|-|  AcceptReceived  |
	+------------------+               |||         | +------------------+
	        |ACCEPT                    |||         |          |ACK
	        v                          |||         |          v
	+------------------+               |||         | +------------------+
	|  ChildAcceptSent |---CANCEL------+|+-WITHDRAW|-|    Completed     |
	+------------------+                |          | +------------------+
	        | ACK                       |          |
	        v                           |          |
	+------------------+                |          |
	|  ChildCompleted  |---WITHDRAW-----+          |
	|                  +---------------------------+
	+------------------+

The server machine is Server.Step on a ServerOrder; its decisions are
documented on the server types (server.go). It checks Table 6, binds every
order to the authenticated identity of the client that created it (DESIGN
§4: a message for the order from another identity gets FAIL 3), asks the
engine's policy for decisions through server-only actions and events, and
runs child orders (§8.8) by embedding the client machine: a ChildOrder holds
a ClientOrder stepped with Client.Step.
*/
package fsm
