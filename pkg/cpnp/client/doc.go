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
Package client is the CPNP client shell (RFC 8921 §8.11.1, §11.1): it owns
the associations to CPNP servers and the timers, feeds the pure client
machine of package fsm (Figure 8) and executes its actions. It never talks
to a Kubernetes API server. It has two layers.

# Mux: associations and routing

Mux is the layer the operator uses (DESIGN §5 "Engine and reconciler
split": the reconciler steps the pure machine itself, keeps the order in
the resource status, and asks the engine only to send and to tell it what
arrived). It keeps one association per server (DESIGN §4: all transactions
between one client identity and one server share one association), over
DTLS 1.2 (§8.1, the default) or TLS, each with its own address, server
name, CA pool and client certificate (ServerConfig). A broken association
is dialled again with a bounded exponential backoff. DTLS has no keep-alive
and pion ignores ICMP port-unreachable errors, so an association whose
server restarted looks alive but is dead: a retransmission (§11.4), sent
with Mux.Retransmit rather than Mux.Send, closes and re-dials an
association that stayed silent since an earlier retransmission at least
MuxConfig.StaleAfter (5 s) before. The operator's engine and the server
engine's child orders (§8.8) send every fsm action marked Retransmission
that way.

One reader goroutine per association decodes each datagram (wire.Decode)
and routes the message to the Handler registered for (server name, customer
order identifier). Everything else is discarded silently and counted
(§13: "The client must silently discard CPNP responses received from
unknown CPNP servers"; §10.1: messages failing the client-side checks are
discarded):

  - an invalid datagram (wire validation fails);
  - a method that only clients send (§8.6);
  - an unknown order, or a known order whose server is another one than the
    one the message came from (the server's identity was verified by the
    DTLS handshake against the configured server name, §8.1, §13).

A Handler runs on the reader goroutine: it must not block.

# Engine: orders, timers, write-ahead

Engine runs many orders against many servers for cpnpctl, for the server's
child orders (§8.8) and for tests. One goroutine (Run) owns every order;
commands, received messages and timer fires are events on its select loop,
so the machine is never stepped concurrently. For each step the engine:

 1. steps fsm.Client with the event (the time comes from the injected
    clock, transaction IDs and first sequence numbers from the injected
    random source, §8.4);
 2. refuses a command that the machine only discards, with a
    *StateError naming the state (instead of silently doing nothing);
 3. checks every message the step would send (wire validation), so that a
    bad request fails before anything is stored or sent;
 4. on Persist, saves the order through the Store before any Send of that
    step (write-ahead, DESIGN §4): Store.Save is durable when it returns, so
    a restart never sends a second QUOTATION for the same customer order
    identifier, and re-sends what was pending from the stored order;
 5. writes the Sends: itself when the server's outbox is idle, the
    transport is DTLS (a datagram write does not wait for the peer) and
    no received message waits (this saves a goroutine hand-off per
    message), else through the outbox (one goroutine per server preserves
    their order, waits for an association that is being dialled, and
    sends the retransmissions, §11.4); reports Transitions and Alarms as
    Events and log lines, and re-arms one clock timer per order at the
    earliest of the order's timers (fsm.ClientOrder.Timers: RETRANS_TIMER,
    §8.5, §11.4; EXPECTED_RESPONSE_TIME, EXPECTED_OFFER_TIME,
    VALIDITY_OFFER_TIME; the withdrawal cycle of §11.1.2, at most one every
    300 s).

A restarted engine (NewEngine on the same Store) loads every order and
re-arms its timers from the stored deadlines; a deadline that passed while
it was down fires at once.

BoltStore keeps orders in a bbolt file (package store; cpnpctl's local
state), MemoryStore in memory (tests).

# Metrics

Metrics counts handshake failures, associations, messages by method,
discarded messages by reason, retransmissions, round trips and their total
time (Karn's rule: a request that was retransmitted gives no sample),
alarms and store failures. Hooks (MuxConfig.OnHandshakeFailure,
Config.OnRoundTrip, Config.OnAlarm) let an operator feed Prometheus.
*/
package client
