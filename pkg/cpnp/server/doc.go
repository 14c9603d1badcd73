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
Package server is the CPNP server engine (RFC 8921 §8.11.2, §11.2): the
shell around the pure server machine of package fsm. It accepts
associations from transport listeners (DTLS, TLS), decodes and routes
every message to its order, steps the machine, executes its actions
against the decision policy (package policy) and the durable store
(package store), and sends the answers.

# One goroutine owns the state

Serve runs one reader and one writer goroutine per association. A reader
only decodes (wire.Decode, straight out of the association's read buffer
where the transport lends it: transport.BorrowingConn) and forwards what
it read into a bounded inbox;
a writer only encodes and sends. Every piece of mutable state — the orders
and their indexes, the duplicate-answer limiter (session.DupCache), the
FAIL limiter (session.FailLimiter), the timers — belongs to one loop
goroutine, which selects over the inbox, store commit notifications, its
timer and administrative commands (STYLE §2). Timers are one clock.Timer
for the earliest deadline of all orders (a heap); its callback only wakes
the loop. Whoever starts a goroutine waits for it.

# Routing (RFC 8921 §10.2, Table 6; DESIGN §3, §4)

  - A message that fails structural validation (§10) is answered with FAIL 1
    when it still names a transaction ID and a customer order identifier
    (wire.ValidationError.Identified), and dropped otherwise (§13). The FAIL
    carries the provider order identifier of the message, else that of the
    order the transaction belongs to, else a fresh one (docs/wire.md §9,
    deviation 5).
  - The access filter (Config.AllowedSources, Table 6 "passes existing
    access filters") applies to the source address of an association when
    it is accepted: an association from another address is closed at once.
  - A QUOTATION whose (identity, customer order identifier, transaction ID)
    is known goes to that order (a repeat, §11.4); otherwise it opens a new
    order (fsm.Server.Open) with a fresh provider order identifier ("po-" +
    32 hex digits), nonce (32 hex digits) and first sequence number (below
    2^31), drawn from Config.Rand.
  - A CANCEL has no provider order identifier (DESIGN §3): it is routed by
    (identity, customer order identifier, transaction ID).
  - Every other message is routed by its provider order identifier. A
    message that matches no order is answered with FAIL 1; a FAIL is never
    answered. The machine itself answers FAIL 3 to another identity or a
    wrong nonce (DESIGN §4: orders are bound to the authenticated identity,
    not the 5-tuple, so a client that reconnects from a new port continues
    its orders).

Answers go to the association the message came on; messages the engine
sends on its own (a retransmitted OFFER, §11.2.1) go to the association the
order's client used last, or to its newest association.

# Write-ahead with group commit (DESIGN §4, §8.11)

When a step emits Persist, the engine writes the order through the store's
asynchronous group commit (store.Write) once, after the whole step (and the
decision step it may trigger) ran, and holds every Send that followed the
Persist until the commit's done callback reports it durable; the callback
hands those Sends to their associations itself (one goroutine hop less
than through the loop) unless an earlier Send of the order still waits, in
which case they wait in the order's queue, in order. The callback wakes
the loop only when such a queue exists, to deliver a Send whose
association closed, or after a failure. Sends of later steps
of the same order also wait for that commit. The loop never waits for an
fsync, and concurrent orders share fsyncs, so throughput does not collapse
to one fsync per message.

A step that changed the order but has nothing that must follow the write
(no Send, decision, reservation, release, commit or alarm; typically the
client's PROCESSING after an OFFER, §8.7 Figure 6) defers its write: it
joins the next write of any order, or is committed alone after
DeferredFlushDelay, or at shutdown. Losing it in a crash equals losing the
datagram, which the protocol recovers from (§11.4). Orders are stored in
record format RecordFormat (JSON written without reflection, CPDs in
canonical form, pooled buffers); a newer format is refused at startup
with a *RecordFormatError. A commit failure (the store failed or is
full) stops the engine: it drops further datagrams, /readyz reports it and
Serve returns an error wrapping ErrStoreFailed; a restart recovers the last
committed state.

# Decisions and capacity (§8.2, §11.2.1, §12.2; DESIGN §3, §6)

Consult runs Policy.Decide (or Policy.Approve after an administrator's
approval; Decide with Request.Approved after a restart, when the policy no
longer remembers the hold) and feeds the answer back to the machine as an
fsm.Decision: Offer, Fail, or Hold (the order waits in AwaitingProcessing,
Held, and shows in the admin API). The policy reserves an offer when it
decides it; the machine's Reserve only confirms it, and an offer decision
that the machine refuses is released at once (Policy.ReleaseOffer). Release
of an open offer (declined, cancelled, expired, refused, and the failed
cycle of an UPDATE whose agreement stands) is Policy.ReleaseOffer; release
of an agreement (WITHDRAW, or a CANCEL after a lost ACK) is Policy.Release.
Commit is Policy.Commit, except for an UPDATE cancelled after its ACK was
lost, where the previous agreement is put back with Policy.Restore. At
startup every stored order's open offer and agreement are restored
(Policy.Restore), with the pool recorded when the policy decided.

# Child orders (§8.8)

A policy decision OutcomeChild becomes fsm.DecideChild with identifiers
drawn from Config.Rand: the machine answers PROCESSING subcode 2 and runs
the child order as a client order inside the parent (Figure 7, the Child*
states of Figure 9). Its SendChild messages go, after the step's write,
to the upstream named in Config.Upstreams over a client.Mux (one
association per upstream, a writer goroutine each: the loop never blocks
on the network); the upstream's answers come back into the loop and are
stepped as fsm.ChildEvent, and the child's timers are fired like the
order's. Consult{ChildOffer} accepts the upstream's offer;
Consult{ChildDone} composes the parent's offer from the policy's local
part and the child's agreement (child.go). The machine withdraws or
cancels the child when the parent ends. The child lives in the stored
order, so it resumes after a restart. A Child decision for an upstream
without a connection is answered FAIL 5.

# Rate limits (§9.2.5, §11.4, §13)

FAIL messages are limited per client identity (or source address when
there is none) by a session.FailLimiter (DESIGN §3 default: 10/s, burst
20); the excess is dropped. A repeated request that the machine answers
again from its stored answer (fsm.Send.Retransmission) is limited per
(identity, transaction, sequence number) by a session.DupCache used as a
resend limiter (default: at most one answer per 500 ms).

# Timers

The machine's StartTimer and StopTimer are mirrored in each order's Timers
(absolute deadlines). After every step the engine schedules the order's
NextDeadline; when it passes, the loop steps the order with TimerFired.
A terminal order (fsm.ServerOrder.Terminal) is kept, to answer repeats of
its last request, for Config.TerminalRetention, then deleted from memory
and from the store.

# Logs and metrics (§12.1; STYLE §8)

Every transition of an order is one V(0) log line "Order changed state"
with the keys peer, identity, customerOrderID, providerOrderID,
transactionID, from, state, event (the reason), cause and at. Discards are
logged at V(1), datagrams at V(4), CPDs only at V(4). Nonces are never
logged nor shown by the admin API. Prometheus metrics are named
cpnp_server_*; docs/server.md lists them.

# Administration (§8.2, §12.2)

List, Get, Approve, Reject and RequestMoreTime drive held orders; Handler
serves them over HTTP with /healthz, /readyz and /metrics (docs/server.md).
*/
package server
