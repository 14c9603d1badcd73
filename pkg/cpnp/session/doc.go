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

// Package session holds the per-transaction bookkeeping of RFC 8921 that sits
// between the wire codec and the state machines: sequence numbers,
// retransmission, the duplicate-answer cache and the FAIL rate limit.
//
// # Session entries (§8.3)
//
// A CPNP session entry is the tuple (transport session, sequence number,
// customer order identifier, provider order identifier, transaction ID). This
// implementation replaces the transport 5-tuple with the authenticated peer
// identity of the DTLS association (the URI SAN of the peer's certificate,
// else its CN; DESIGN §4), so a client that reconnects from another port
// after a restart can continue its orders, and a message for an order from
// another identity is rejected. Every per-peer structure here is therefore
// keyed by that identity, a plain string chosen by the caller.
//
// # Sequence numbers (§11.3)
//
// Each side keeps two counters per transaction (Counters): the outgoing
// number, incremented for every new message (Next), and the last accepted
// incoming number. An incoming number larger than the last accepted one is
// Fresh; equal is a Repeat, a retransmission that the duplicate cache may
// answer; smaller is Stale and is discarded. Accept never lowers the
// incoming counter. Retransmissions reuse their number (§11.1.1).
//
// # Retransmission (§8.5, §11.4)
//
// Retransmit is the RETRANS_TIMER schedule (DESIGN §3 defaults: 1 s, doubling,
// 3 retries). The last message of a transaction (the server's ACK) is not
// retransmitted by timer; instead, a retransmission of the last handled
// request is answered again from DupCache, with a limited frequency. §11.4
// also requires that an answer that cannot be generated at once be preceded
// by PROCESSING: DupCache.Append adds the later answer (the OFFER) to the
// entry that already holds the PROCESSING.
//
// # FAIL rate limit (§9.2.5, §13)
//
// FailLimiter restricts the FAIL messages sent to each peer with a token
// bucket (DESIGN §3 default: 10/s with a burst of 20).
//
// # Purity
//
// Like fsm, wire and cpd, this package reads no clock, draws no randomness
// and does no I/O (lint enforces it): every method that depends on time takes
// now. The values are not safe for concurrent use; the engine goroutine that
// owns a transaction owns them. The shells take time from a clock.Clock
// (package clock), and tests from cpnptest.FakeClock.
package session
