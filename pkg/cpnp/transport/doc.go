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

// Package transport carries CPNP messages between a client and a server over
// DTLS 1.2 on UDP (the default transport of RFC 8921 §8.1) or, as an
// alternative, TLS over TCP. It deals only in whole messages ([]byte holding
// one JSON object); encoding and validation belong to package wire.
//
// # Security (RFC 8921 §13, DESIGN §4)
//
// Both ends are mutually authenticated with X.509 certificates by default:
// the server requires a client certificate that chains to Config.ClientCAs
// (the equivalent of tls.RequireAndVerifyClientCert, see newDTLSServerOptions
// for how it is enforced) and the client verifies the server certificate
// against Config.RootCAs and the server name. Only the RFC 7525 cipher suites
// ECDHE with AES-GCM are offered and, on DTLS and TLS 1.2, the extended master
// secret (RFC 7627) is required. HelloVerifyRequest cookies and DTLS record
// replay detection (RFC 6347 §4.1.2.6, window 64) stay on.
//
// The authenticated peer identity is the URI SAN of the peer's leaf
// certificate if it has one, else its subject CN (DESIGN §3 "Identity of a
// peer"); the server engine binds orders to it (DESIGN §4 "Transport session
// binding").
//
// # Admission (RFC 8921 §13 "means to defend the server against
// denial-of-service attacks")
//
// A listener runs every handshake in its own goroutine under
// Config.HandshakeTimeout, so a slow or silent peer never delays another one.
// Half-open handshakes are capped per source IP (Config.MaxHalfOpenPerSource)
// and in total (Config.MaxHalfOpen) before any cryptographic work: for DTLS
// the check runs in pion's connection-attempt hook, when the first
// ClientHello of a new remote address arrives. A new attempt from a source
// that is at its cap is refused; a new attempt that finds the global cap
// reached evicts a half-open handshake, so that a flood of spoofed or
// stalled ClientHellos from many addresses cannot lock legitimate clients
// out for a whole handshake timeout. The victim is the oldest handshake
// whose client has not returned its HelloVerifyRequest cookie (RFC 6347
// §4.2.1); a client that did has proved its address and is evicted only
// when every half-open handshake has (the listener watches the cookie
// exchange on the datagrams, see cookie.go; Metrics.HalfOpenVerified
// counts them). Established associations that carry no traffic for
// Config.IdleTimeout are closed.
//
// # Framing over DTLS (DESIGN §3, docs/wire.md)
//
// A message whose encoding fits Config.DatagramLimit (default 1200 bytes) is
// sent as the bare JSON object in one DTLS record, so any DTLS client can
// speak CPNP. A larger message (up to 1 MiB) is split into fragments, each
// one DTLS record holding an envelope of this exact shape:
//
//	{"cpnp_fragment":{"id":"<16 lowercase hex>","index":I,"count":N,"length":T},"data":"<base64>"}
//
// A record is an envelope exactly when, after optional JSON whitespace, it
// starts with '{', optional JSON whitespace and the member name
// "cpnp_fragment" (the envelope member comes first); it is then parsed
// strictly. The receiver reassembles fragments with bounds (see
// ReassemblyLimits) and returns the whole message from ReadMessage.
// ReadMessage returns a copy of each message; a reader that is done with a
// message before it reads the next may borrow the association's read
// buffer instead (BorrowingConn).
//
// # Framing over TLS
//
// Newline-delimited JSON: each message is its compact JSON encoding followed
// by "\n" (a preceding "\r" is tolerated, empty lines are skipped), at most
// ReassemblyLimits.MaxMessageSize bytes per line, no fragmentation envelope.
//
// # One association per client identity and server
//
// All transactions between one client identity and one server share one
// association (DESIGN §4). Pool keeps one Conn per server address and dials
// again after the association closed or expired.
package transport
