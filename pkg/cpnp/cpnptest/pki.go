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

package cpnptest

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

// DefaultPKIClient is the client NewPKI issues when asked for none: the
// example tenant of DESIGN §6.
const DefaultPKIClient = "acme"

// PKI is ready-made key material for mutually authenticated (D)TLS in tests
// (RFC 8921 §13): one CA, a server certificate for "localhost", 127.0.0.1
// and ::1, and client certificates by name. Its fields drop straight into a
// crypto/tls or pion/dtls Config:
//
//	server: Certificates: []tls.Certificate{p.Server}, ClientCAs: p.Pool,
//	        ClientAuth: RequireAndVerifyClientCert
//	client: Certificates: []tls.Certificate{p.Client("acme")}, RootCAs: p.Pool,
//	        ServerName: p.ServerName
//
// Certificates are valid from a few minutes before NewPKI ran for a year,
// on the real clock, because the (D)TLS stacks verify against it. A PKI is
// safe for concurrent use.
type PKI struct {
	// CA is the issuing CA; tests may issue more certificates with it.
	CA *pki.CA
	// Pool holds the CA only: a client's RootCAs and a server's ClientCAs.
	Pool *x509.CertPool
	// Server is the server's certificate and key.
	Server tls.Certificate
	// ServerName is the name a client verifies: "localhost".
	ServerName string

	tb      testing.TB
	now     time.Time
	mu      sync.Mutex
	clients map[string]tls.Certificate
}

// NewPKI makes a CA, a server certificate and one client certificate per
// name (DefaultPKIClient when none is given). A name is the client's
// identity (pki.Identity): a name with "://" becomes a URI SAN (e.g.
// "spiffe://cpnp.dev/ns/globex"), any other a common name. It stops the
// test on failure.
func NewPKI(tb testing.TB, clients ...string) *PKI {
	tb.Helper()
	now := time.Now()
	ca, err := pki.NewCA("cpnptest CA", 2*pki.DefaultValidity, now)
	if err != nil {
		tb.Fatalf("cpnptest: new PKI: %v", err)
	}
	server, err := ca.IssueServer(pki.DefaultServerName, []string{pki.DefaultServerName}, pki.DefaultServerIPs(), pki.DefaultValidity, now)
	if err != nil {
		tb.Fatalf("cpnptest: new PKI: %v", err)
	}
	p := &PKI{
		CA:         ca,
		Pool:       ca.Pool(),
		Server:     server.TLS,
		ServerName: pki.DefaultServerName,
		tb:         tb,
		now:        now,
		clients:    map[string]tls.Certificate{},
	}
	if len(clients) == 0 {
		clients = []string{DefaultPKIClient}
	}
	for _, name := range clients {
		p.issue(name)
	}
	return p
}

// Client returns the certificate of the named client, issuing it on first
// use, so a test may ask for clients that NewPKI was not given.
func (p *PKI) Client(name string) tls.Certificate {
	p.tb.Helper()
	p.mu.Lock()
	c, ok := p.clients[name]
	p.mu.Unlock()
	if ok {
		return c
	}
	return p.issue(name)
}

// IssueClient issues a new client certificate with the given common name
// and optional URI SAN, outside the by-name set (e.g. a second certificate
// for the same identity, as after a client restart).
func (p *PKI) IssueClient(commonName, uriSAN string) tls.Certificate {
	p.tb.Helper()
	b, err := p.CA.IssueClient(commonName, uriSAN, pki.DefaultValidity, p.now)
	if err != nil {
		p.tb.Fatalf("cpnptest: issue client %q %q: %v", commonName, uriSAN, err)
	}
	return b.TLS
}

// issue issues the named client and records it.
func (p *PKI) issue(name string) tls.Certificate {
	p.tb.Helper()
	cn, uri := name, ""
	if strings.Contains(name, "://") {
		cn, uri = "", name
	}
	c := p.IssueClient(cn, uri)
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.clients[name]; ok { // issued concurrently: keep the first
		return prev
	}
	p.clients[name] = c
	return c
}
