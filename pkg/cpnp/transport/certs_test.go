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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Test PKI, generated once per test binary: ECDSA P-256 certificates.
const (
	testServerName = "cpnp.test"
	testClientCN   = "acme"
	testClientURI  = "spiffe://cpnp.test/tenant/globex"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

type testPKI struct {
	ca, rogue   *testCA
	server      tls.Certificate // DNS SAN cpnp.test, CN cpnp-server
	clientCN    tls.Certificate // CN acme
	clientURI   tls.Certificate // URI SAN spiffe://..., CN ignored-cn
	clientNoID  tls.Certificate // neither CN nor URI SAN
	rogueClient tls.Certificate // CN acme, signed by the rogue CA
}

var (
	pkiOnce sync.Once
	pki     *testPKI
)

// getPKI returns the shared test PKI.
func getPKI(tb testing.TB) *testPKI {
	tb.Helper()
	pkiOnce.Do(func() {
		ca := newTestCA(tb, "cpnp test CA")
		rogue := newTestCA(tb, "rogue CA")
		pki = &testPKI{
			ca:    ca,
			rogue: rogue,
			server: ca.issue(tb, &x509.Certificate{
				Subject:     pkix.Name{CommonName: "cpnp-server"},
				DNSNames:    []string{testServerName},
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			}),
			clientCN: ca.issue(tb, &x509.Certificate{
				Subject:     pkix.Name{CommonName: testClientCN},
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			}),
			clientURI: ca.issue(tb, &x509.Certificate{
				Subject:     pkix.Name{CommonName: "ignored-cn"},
				URIs:        []*url.URL{mustURL(tb, testClientURI)},
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			}),
			clientNoID: ca.issue(tb, &x509.Certificate{
				Subject:     pkix.Name{Organization: []string{"no identity"}},
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			}),
			rogueClient: rogue.issue(tb, &x509.Certificate{
				Subject:     pkix.Name{CommonName: testClientCN},
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			}),
		}
	})
	if pki == nil {
		tb.Fatal("test PKI generation failed")
	}
	return pki
}

func mustURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatalf("parse %q: %v", s, err)
	}
	return u
}

var serial int64

func nextSerial() *big.Int {
	serial++
	return big.NewInt(serial)
}

func newTestCA(tb testing.TB, name string) *testCA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("generate CA key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("create CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("parse CA certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue signs tmpl (subject, SANs, extended key usage) with the CA.
func (ca *testCA) issue(tb testing.TB, tmpl *x509.Certificate) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("generate key: %v", err)
	}
	tmpl.SerialNumber = nextSerial()
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		tb.Fatalf("create certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("parse certificate: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// serverConfig is a server Config trusting the test CA for clients.
func (p *testPKI) serverConfig() Config {
	return Config{
		Certificates: []tls.Certificate{p.server},
		ClientCAs:    p.ca.pool,
	}
}

// clientConfig is a client Config presenting cert (none when nil) and
// verifying the test server.
func (p *testPKI) clientConfig(cert *tls.Certificate) Config {
	cfg := Config{RootCAs: p.ca.pool, ServerName: testServerName}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg
}
