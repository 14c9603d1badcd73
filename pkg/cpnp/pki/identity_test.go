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

package pki_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"testing"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

// TestIdentity checks the identity rule of DESIGN §3 ("Identity of a peer":
// the URI SAN if there is one, else the CN), which the server uses to bind
// orders to a client (RFC 8921 §13).
func TestIdentity(t *testing.T) {
	t.Parallel()
	mustURL := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", s, err)
		}
		return u
	}
	tests := map[string]struct {
		cert *x509.Certificate
		want string
	}{
		"nil certificate": {cert: nil, want: ""},
		"neither":         {cert: &x509.Certificate{}, want: ""},
		"CN only":         {cert: &x509.Certificate{Subject: pkix.Name{CommonName: "acme"}}, want: "acme"},
		"URI SAN wins over CN": {
			cert: &x509.Certificate{Subject: pkix.Name{CommonName: "acme"}, URIs: []*url.URL{mustURL("spiffe://cpnp.dev/ns/acme")}},
			want: "spiffe://cpnp.dev/ns/acme",
		},
		"URI SAN without CN": {
			cert: &x509.Certificate{URIs: []*url.URL{mustURL("cpnp://tenant/acme")}},
			want: "cpnp://tenant/acme",
		},
		"first of two URI SANs": {
			cert: &x509.Certificate{URIs: []*url.URL{mustURL("cpnp://tenant/a"), mustURL("cpnp://tenant/b")}},
			want: "cpnp://tenant/a",
		},
		"nil URI entry is skipped": {
			cert: &x509.Certificate{Subject: pkix.Name{CommonName: "acme"}, URIs: []*url.URL{nil, mustURL("cpnp://tenant/b")}},
			want: "cpnp://tenant/b",
		},
		"DNS SANs are not identities": {
			cert: &x509.Certificate{Subject: pkix.Name{CommonName: "acme"}, DNSNames: []string{"acme.example"}},
			want: "acme",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := pki.Identity(tc.cert); got != tc.want {
				t.Errorf("Identity: got %q, want %q", got, tc.want)
			}
		})
	}
}
