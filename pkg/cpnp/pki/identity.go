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

package pki

import "crypto/x509"

// Identity returns the identity of the holder of cert, as DESIGN §3
// ("Identity of a peer") defines it: the certificate's first URI SAN if it
// has one, else its subject common name; "" for a nil certificate or one
// with neither.
//
// This is the canonical rule. The server binds each order to the identity
// of the client that created it (DESIGN §4 "Transport session binding";
// RFC 8921 §13: only authorized clients may modify accepted orders), and
// policy entitlements name it (DESIGN §6 `tenants[].identity`, e.g. "acme").
// transport.PeerIdentity applies the same rule to the verified peer
// certificate of a DTLS association; the two must stay in step.
//
// Identity does not verify cert: call it on a certificate the (D)TLS stack
// has verified against the CA pool.
func Identity(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	for _, u := range cert.URIs {
		if u != nil {
			return u.String()
		}
	}
	return cert.Subject.CommonName
}
