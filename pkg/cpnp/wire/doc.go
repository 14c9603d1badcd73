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

// Package wire is the CPNP message layer (RFC 8921 §9, §10): the 11
// operation messages of §9.2 as one Message struct, the attributes of §9.1
// and the Information Elements of §9.1.10, the code tables (Table 1 methods,
// Table 2 processing subcodes, Table 3 decline reasons, Table 4 FAIL status
// codes), and the JSON mapping of the RBNF that DESIGN §3 fixes and
// docs/wire.md specifies member by member (§9 Note 1 lets implementations
// pick the format).
//
// # Decoding
//
// Decode (and DecodeWithLimit) turns one JSON object into a Message and
// checks it structurally against the RBNF of its method, in this order:
// size, syntax, version, method code, then each member the method carries
// (type, range, format), then the method's mandatory members. The first
// failure comes back as a *ValidationError whose Code tells what kind of
// failure it is and whose Field names the member, e.g. "requested_cpd" or
// "requested_cpd.components[0].qos". Decoding never panics on any input.
//
// Two kinds of members are ignored rather than refused:
//
//   - unknown members, at any level, so that new Information Elements can be
//     added (§1, DESIGN §3);
//   - known members that do not belong to the message's method (for example
//     provider_order_identifier or nonce in a CANCEL, whose RBNF in §9.2.7 has
//     neither). Their values are not even type-checked, and they are
//     stripped: the decoded Message never carries them, so the state machines
//     never act on a member the RBNF does not give the method. This is the
//     same rule as for unknown members, applied per method; refusing them
//     would make a harmless extra member fatal to the whole order.
//
// Other rules: a known member name is matched exactly (case-sensitive) and
// may appear only once; null is never a valid value; integers are written
// without fraction or exponent; whitespace around the object is allowed and
// nothing else; the input must be valid UTF-8; timestamps are RFC 3339 and
// are returned in UTC truncated to the millisecond (CanonicalTime).
//
// A message that fails validation but names a well-formed transaction ID
// and customer order identifier gets FAIL 1 from the server, otherwise it
// is dropped (DESIGN §3). ValidationError carries those identifiers when
// Decode could read them, and Identify extracts them from raw bytes.
//
// # Encoding
//
// Encode produces the canonical form: compact JSON with members in the
// order of the RBNFs, timestamps as "2026-11-21T22:24:25.000Z", CPDs in the
// canonical encoding of package cpd, empty Information Elements omitted,
// and no raw newline (so the same text works over DTLS and over the
// newline-delimited TLS framing). Encode validates first (Message.Validate)
// and refuses an invalid message. For every input that Decode accepts,
// Decode(Encode(m)) equals m and Encode is a fixed point (FuzzDecode).
// Append writes the same into a caller's buffer; AppendTrusted skips the
// validation for messages that the state machines built from members
// already validated (the engines encode those for every send and store),
// and writes the same bytes for every valid message (FuzzDecode).
//
// Messages larger than one datagram (DefaultDatagramLimit) travel in the
// fragmentation envelope of docs/wire.md, which package transport
// implements; this package only sees whole messages of at most
// DefaultMaxMessageSize bytes.
//
// The package is pure: it reads no clock or randomness and does no I/O.
// Example returns deterministic sample messages of every method.
package wire
