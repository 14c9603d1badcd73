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

package transport

import (
	"crypto/x509"
	"fmt"
)

// PeerIdentity is the identity of the holder of cert (DESIGN §3 "Identity of
// a peer"): its first URI SAN if it has one, else its subject common name.
// It is "" when the certificate has neither; a server refuses such a client
// (ErrNoIdentity). The server engine binds orders to this identity (DESIGN
// §4 "Transport session binding", RFC 8921 §13 "Only authorized clients must
// be able to modify accepted CPNP orders").
func PeerIdentity(cert *x509.Certificate) string {
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

// identityFromRaw parses the leaf of a raw peer chain and returns its
// identity; an empty chain yields "".
func identityFromRaw(raw [][]byte) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	leaf, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return "", fmt.Errorf("parse peer certificate: %w", err)
	}
	return PeerIdentity(leaf), nil
}
