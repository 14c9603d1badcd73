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

package cpnptest_test

import (
	"crypto/x509"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

// TestNewPKI checks the material tests get: a server certificate that
// verifies for localhost and 127.0.0.1, and client certificates whose
// identities (DESIGN §3) are the names asked for.
// Reference: RFC 8921 §13 (mutual authentication).
func TestNewPKI(t *testing.T) {
	t.Parallel()
	p := cpnptest.NewPKI(t, "globex", "spiffe://cpnp.dev/ns/initech")
	for _, host := range []string{p.ServerName, "127.0.0.1", "::1"} {
		if _, err := p.Server.Leaf.Verify(x509.VerifyOptions{Roots: p.Pool, DNSName: host,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	var got []string
	for _, name := range []string{"globex", "spiffe://cpnp.dev/ns/initech", "acme"} { // acme: issued on demand
		c := p.Client(name)
		if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: p.Pool,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("client %s: %v", name, err)
		}
		got = append(got, pki.Identity(c.Leaf))
	}
	if diff := cmp.Diff([]string{"globex", "spiffe://cpnp.dev/ns/initech", "acme"}, got); diff != "" {
		t.Errorf("identities (-want +got):\n%s", diff)
	}
	if a, b := p.Client("globex"), p.Client("globex"); !a.Leaf.Equal(b.Leaf) {
		t.Errorf("Client returned two certificates for the same name, want the same one")
	}
	again := p.IssueClient("globex", "")
	if again.Leaf.Equal(p.Client("globex").Leaf) || pki.Identity(again.Leaf) != "globex" {
		t.Errorf("IssueClient: got the cached certificate or identity %q, want a new certificate for globex", pki.Identity(again.Leaf))
	}
}

func TestNewPKIDefaultClient(t *testing.T) {
	t.Parallel()
	p := cpnptest.NewPKI(t)
	if got := pki.Identity(p.Client(cpnptest.DefaultPKIClient).Leaf); got != "acme" {
		t.Errorf("default client identity: got %q, want %q", got, "acme")
	}
}
