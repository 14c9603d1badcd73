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

// Package pki makes and loads the X.509 material that CPNP's mutually
// authenticated (D)TLS needs (RFC 8921 §13: "The client and the server must
// be mutually authenticated"; §8.1: the default transport is UDP secured with
// DTLS).
//
// It serves `cpnpctl certs init DIR` (a CA plus server and client
// certificates for a local trial, see InitDir), the demo, and the tests of
// the engines; cpnptest.NewPKI wraps it for tests. Everything is ECDSA P-256
// with keys and 128-bit serial numbers from crypto/rand:
//
//   - NewCA makes a self-signed CA (KeyUsage CertSign, path length 0).
//   - CA.IssueServer makes a server certificate (ExtKeyUsage ServerAuth) whose
//     identity is carried in DNS and IP SANs, never in the CN or a URI SAN:
//     RFC 8921 §8.1 prefers DNS-ID and SRV-ID and rules out URI-IDs for
//     server identity verification.
//   - CA.IssueClient makes a client certificate (ExtKeyUsage ClientAuth)
//     whose CN, or optional URI SAN, names the tenant.
//   - LoadCertPool, LoadKeyPair and LoadCA read PEM files back, with errors
//     that name the file and the problem (*FileError, matched with
//     errors.Is against fs.ErrNotExist, ErrNotPEM, ErrNoCertificate,
//     ErrNoPrivateKey, ErrKeyMismatch).
//   - Identity is the canonical peer identity of DESIGN §3: the URI SAN of
//     the certificate if it has one, else its CN. The server binds orders
//     to it (DESIGN §4 "Transport session binding") and policy entitlements
//     name it (DESIGN §6 `tenants[].identity`).
//
// The package reads the clock only where a caller leaves InitOptions.Now
// unset; the issuing functions take the time as an argument so that tests
// can make certificates that are not yet valid or already expired.
package pki
