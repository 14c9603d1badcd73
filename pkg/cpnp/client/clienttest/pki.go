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

package clienttest

import (
	"crypto/tls"
	"testing"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// ServerName is the DNS name in the test server certificate (with
// 127.0.0.1 and ::1 as IP SANs).
const ServerName = "localhost"

// ClientCN is the common name, and so the identity, of the test client.
const ClientCN = cpnptest.DefaultPKIClient

// PKI is cpnptest's test PKI (RFC 8921 §13: mutual authentication) with
// the configurations the client tests need, plus a rogue CA whose server
// certificate for ServerName a client must refuse.
type PKI struct {
	*cpnptest.PKI
	rogue *cpnptest.PKI
}

// NewPKI returns a new test PKI with the client ClientCN.
func NewPKI(tb testing.TB) *PKI {
	tb.Helper()
	return &PKI{PKI: cpnptest.NewPKI(tb, ClientCN), rogue: cpnptest.NewPKI(tb)}
}

// ServerConfig is a listener Config with the server certificate, requiring
// client certificates from the CA.
func (p *PKI) ServerConfig() transport.Config {
	return transport.Config{Certificates: []tls.Certificate{p.Server}, ClientCAs: p.Pool}
}

// RogueServerConfig is ServerConfig with a server certificate for
// ServerName signed by another CA.
func (p *PKI) RogueServerConfig() transport.Config {
	return transport.Config{Certificates: []tls.Certificate{p.rogue.Server}, ClientCAs: p.Pool}
}

// ClientCertificate returns a copy of the client certificate.
func (p *PKI) ClientCertificate() *tls.Certificate {
	c := p.Client(ClientCN)
	return &c
}
