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
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

// now is the issuing time of the tests' certificates.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// newCA returns a CA valid for ten years from now.
func newCA(t *testing.T) *pki.CA {
	t.Helper()
	ca, err := pki.NewCA("test CA", pki.DefaultCAValidity, now)
	if err != nil {
		t.Fatalf("NewCA: %v", err)
	}
	return ca
}

func mustServer(t *testing.T, ca *pki.CA) *pki.Bundle {
	t.Helper()
	b, err := ca.IssueServer("localhost", []string{"localhost", "cpnp.example"},
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, pki.DefaultValidity, now)
	if err != nil {
		t.Fatalf("IssueServer: %v", err)
	}
	return b
}

func mustClient(t *testing.T, ca *pki.CA, cn, uri string) *pki.Bundle {
	t.Helper()
	b, err := ca.IssueClient(cn, uri, pki.DefaultValidity, now)
	if err != nil {
		t.Fatalf("IssueClient(%q, %q): %v", cn, uri, err)
	}
	return b
}

// TestNewCA checks the CA's shape: a self-signed P-256 certificate that may
// sign end entities only (RFC 5280 §4.2.1.9, path length 0).
// Reference: RFC 8921 §13 (mutual authentication needs a common trust anchor).
func TestNewCA(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	c := ca.Cert
	type shape struct {
		CN             string
		IsCA           bool
		MaxPathLen     int
		MaxPathLenZero bool
		CertSign       bool
		NotBefore      time.Time
		NotAfter       time.Time
		Curve          string
		SelfSigned     bool
	}
	pub, _ := c.PublicKey.(*ecdsa.PublicKey)
	curve := ""
	if pub != nil {
		curve = pub.Curve.Params().Name
	}
	got := shape{
		CN: c.Subject.CommonName, IsCA: c.IsCA, MaxPathLen: c.MaxPathLen, MaxPathLenZero: c.MaxPathLenZero,
		CertSign: c.KeyUsage&x509.KeyUsageCertSign != 0, NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		Curve: curve, SelfSigned: c.CheckSignatureFrom(c) == nil,
	}
	want := shape{
		CN: "test CA", IsCA: true, MaxPathLen: 0, MaxPathLenZero: true, CertSign: true,
		NotBefore: now.Add(-pki.Backdate), NotAfter: now.Add(pki.DefaultCAValidity),
		Curve: elliptic.P256().Params().Name, SelfSigned: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CA certificate mismatch (-want +got):\n%s", diff)
	}
	pair, err := tls.X509KeyPair(ca.CertPEM, ca.KeyPEM)
	if err != nil {
		t.Fatalf("CertPEM/KeyPEM do not form a key pair: %v", err)
	}
	if !pair.Leaf.Equal(c) {
		t.Errorf("CertPEM holds another certificate than Cert")
	}
}

// TestIssueVerify issues server and client certificates and verifies each
// chain against the CA for each extended key usage: a server certificate
// serves only servers and a client certificate only clients.
// Reference: RFC 8921 §13 ("The client and the server must be mutually
// authenticated"), §8.1 (server identity is a DNS-ID).
func TestIssueVerify(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	server := mustServer(t, ca)
	client := mustClient(t, ca, "acme", "spiffe://cpnp.dev/ns/acme")
	other := newCA(t)

	tests := map[string]struct {
		cert    *x509.Certificate
		roots   *x509.CertPool
		usage   x509.ExtKeyUsage
		dnsName string
		at      time.Time
		wantErr bool
	}{
		"server for server auth":            {cert: server.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageServerAuth, dnsName: "localhost", at: now},
		"server by second DNS name":         {cert: server.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageServerAuth, dnsName: "cpnp.example", at: now},
		"server by IPv4":                    {cert: server.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageServerAuth, dnsName: "127.0.0.1", at: now},
		"server by IPv6":                    {cert: server.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageServerAuth, dnsName: "::1", at: now},
		"server for an unknown name":        {cert: server.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageServerAuth, dnsName: "evil.example", at: now, wantErr: true},
		"server used as a client":           {cert: server.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageClientAuth, at: now, wantErr: true},
		"client for client auth":            {cert: client.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageClientAuth, at: now},
		"client used as a server":           {cert: client.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageServerAuth, at: now, wantErr: true},
		"client against another CA":         {cert: client.Cert, roots: other.Pool(), usage: x509.ExtKeyUsageClientAuth, at: now, wantErr: true},
		"client within the backdate":        {cert: client.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageClientAuth, at: now.Add(-pki.Backdate + time.Second)},
		"client before it is valid":         {cert: client.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageClientAuth, at: now.Add(-pki.Backdate - time.Second), wantErr: true},
		"client at the end of its life":     {cert: client.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageClientAuth, at: now.Add(pki.DefaultValidity)},
		"client after it expired":           {cert: client.Cert, roots: ca.Pool(), usage: x509.ExtKeyUsageClientAuth, at: now.Add(pki.DefaultValidity + time.Second), wantErr: true},
		"the CA cannot be used as a server": {cert: ca.Cert, roots: other.Pool(), usage: x509.ExtKeyUsageServerAuth, at: now, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.cert.Verify(x509.VerifyOptions{
				Roots: tc.roots, DNSName: tc.dnsName, CurrentTime: tc.at,
				KeyUsages: []x509.ExtKeyUsage{tc.usage},
			})
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Errorf("Verify: got error %v, want error: %t", err, tc.wantErr)
			}
		})
	}
}

// TestIssuedShape checks what each end-entity certificate carries.
// Reference: RFC 8921 §8.1 (DNS-IDs for servers, no URI-IDs), DESIGN §3
// (client identity is the URI SAN, else the CN).
func TestIssuedShape(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	type shape struct {
		CN        string
		DNS       []string
		IPs       []string
		URIs      []string
		ExtUsage  []x509.ExtKeyUsage
		KeyUsage  x509.KeyUsage
		IsCA      bool
		NotBefore time.Time
		NotAfter  time.Time
		Identity  string
		ChainLen  int
		LeafSet   bool
	}
	describe := func(b *pki.Bundle) shape {
		s := shape{
			CN: b.Cert.Subject.CommonName, DNS: b.Cert.DNSNames, ExtUsage: b.Cert.ExtKeyUsage,
			KeyUsage: b.Cert.KeyUsage, IsCA: b.Cert.IsCA, NotBefore: b.Cert.NotBefore, NotAfter: b.Cert.NotAfter,
			Identity: pki.Identity(b.Cert), ChainLen: len(b.TLS.Certificate), LeafSet: b.TLS.Leaf == b.Cert,
		}
		for _, ip := range b.Cert.IPAddresses {
			s.IPs = append(s.IPs, ip.String())
		}
		for _, u := range b.Cert.URIs {
			s.URIs = append(s.URIs, u.String())
		}
		return s
	}
	tests := map[string]struct {
		issue func() (*pki.Bundle, error)
		want  shape
	}{
		"server": {
			issue: func() (*pki.Bundle, error) {
				return ca.IssueServer("localhost", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, 30*day, now)
			},
			want: shape{
				CN: "localhost", DNS: []string{"localhost"}, IPs: []string{"127.0.0.1", "::1"},
				ExtUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
				NotBefore: now.Add(-pki.Backdate), NotAfter: now.Add(30 * day), Identity: "localhost", ChainLen: 1, LeafSet: true,
			},
		},
		"server with IP only and no CN": {
			issue: func() (*pki.Bundle, error) {
				return ca.IssueServer("", nil, []net.IP{net.ParseIP("192.0.2.7")}, day, now)
			},
			want: shape{
				IPs: []string{"192.0.2.7"}, ExtUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
				KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: now.Add(-pki.Backdate), NotAfter: now.Add(day),
				ChainLen: 1, LeafSet: true,
			},
		},
		"client with CN": {
			issue: func() (*pki.Bundle, error) { return ca.IssueClient("acme", "", day, now) },
			want: shape{
				CN: "acme", ExtUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
				NotBefore: now.Add(-pki.Backdate), NotAfter: now.Add(day), Identity: "acme", ChainLen: 1, LeafSet: true,
			},
		},
		"client with URI SAN": {
			issue: func() (*pki.Bundle, error) { return ca.IssueClient("acme", "cpnp://tenant/acme", day, now) },
			want: shape{
				CN: "acme", URIs: []string{"cpnp://tenant/acme"}, ExtUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
				KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: now.Add(-pki.Backdate), NotAfter: now.Add(day),
				Identity: "cpnp://tenant/acme", ChainLen: 1, LeafSet: true,
			},
		},
		"client with URI SAN only": {
			issue: func() (*pki.Bundle, error) { return ca.IssueClient("", "spiffe://cpnp.dev/ns/globex", day, now) },
			want: shape{
				URIs: []string{"spiffe://cpnp.dev/ns/globex"}, ExtUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
				KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: now.Add(-pki.Backdate), NotAfter: now.Add(day),
				Identity: "spiffe://cpnp.dev/ns/globex", ChainLen: 1, LeafSet: true,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := tc.issue()
			if err != nil {
				t.Fatalf("issue: %v", err)
			}
			if diff := cmp.Diff(tc.want, describe(b)); diff != "" {
				t.Errorf("certificate mismatch (-want +got):\n%s", diff)
			}
			pair, err := tls.X509KeyPair(b.CertPEM, b.KeyPEM)
			if err != nil {
				t.Fatalf("CertPEM/KeyPEM do not form a key pair: %v", err)
			}
			if !pair.Leaf.Equal(b.Cert) {
				t.Errorf("CertPEM holds another certificate than Cert")
			}
			if err := b.Cert.CheckSignatureFrom(ca.Cert); err != nil {
				t.Errorf("not signed by the CA: %v", err)
			}
		})
	}
}

// TestSerialNumbers checks that serial numbers are positive, at most 128
// bits (RFC 5280 §4.1.2.2) and distinct.
func TestSerialNumbers(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	seen := map[string]bool{ca.Cert.SerialNumber.String(): true}
	long := 0
	const n = 32
	for range n {
		b := mustClient(t, ca, "acme", "")
		s := b.Cert.SerialNumber
		if s.Sign() <= 0 || s.BitLen() > 128 {
			t.Errorf("serial %v: got sign %d and %d bits, want positive and at most 128 bits", s, s.Sign(), s.BitLen())
		}
		if seen[s.String()] {
			t.Errorf("serial %v issued twice", s)
		}
		seen[s.String()] = true
		if s.BitLen() > 64 {
			long++
		}
	}
	// Random 128-bit serials exceed 64 bits except with probability 2^-64 each.
	if long != n {
		t.Errorf("got %d of %d serials longer than 64 bits, want all (serials are not 128-bit random)", long, n)
	}
}

// TestIssueInvalid checks the requests that cannot make a usable
// certificate; each error matches ErrInvalidRequest.
func TestIssueInvalid(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	tests := map[string]func() error{
		"CA without a name":     func() error { _, err := pki.NewCA("", day, now); return err },
		"CA with zero validity": func() error { _, err := pki.NewCA("x", 0, now); return err },
		"CA at the zero time":   func() error { _, err := pki.NewCA("x", day, time.Time{}); return err },
		"server without SANs":   func() error { _, err := ca.IssueServer("localhost", nil, nil, day, now); return err },
		"server with an empty DNS name": func() error {
			_, err := ca.IssueServer("x", []string{""}, nil, day, now)
			return err
		},
		"server with a malformed IP": func() error {
			_, err := ca.IssueServer("x", nil, []net.IP{{1, 2, 3}}, day, now)
			return err
		},
		"server with negative validity": func() error {
			_, err := ca.IssueServer("x", []string{"x"}, nil, -day, now)
			return err
		},
		"server outliving the CA": func() error {
			_, err := ca.IssueServer("x", []string{"x"}, nil, pki.DefaultCAValidity+day, now)
			return err
		},
		"client without identity": func() error { _, err := ca.IssueClient("", "", day, now); return err },
		"client with a relative URI": func() error {
			_, err := ca.IssueClient("acme", "tenant/acme", day, now)
			return err
		},
		"client with a scheme-only URI": func() error {
			_, err := ca.IssueClient("acme", "cpnp:", day, now)
			return err
		},
		"client with an unparsable URI": func() error {
			_, err := ca.IssueClient("acme", "cpnp://ten ant/%zz", day, now)
			return err
		},
		"client at the zero time": func() error { _, err := ca.IssueClient("acme", "", day, time.Time{}); return err },
	}
	for name, issue := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := issue()
			if !errors.Is(err, pki.ErrInvalidRequest) {
				t.Errorf("got error %v, want one matching ErrInvalidRequest", err)
			}
		})
	}
}

// TestMutualTLS runs a real mutually authenticated TLS handshake with the
// issued bundles, as the transport does over DTLS, and checks that the
// server sees the client's identity.
// Reference: RFC 8921 §13, DESIGN §3 "Identity of a peer".
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	server := mustServer(t, ca)
	tests := map[string]struct {
		client       *pki.Bundle
		serverName   string
		wantIdentity string
		wantErr      bool
	}{
		"CN identity":       {client: mustClient(t, ca, "acme", ""), serverName: "localhost", wantIdentity: "acme"},
		"URI SAN identity":  {client: mustClient(t, ca, "acme", "spiffe://cpnp.dev/ns/acme"), serverName: "localhost", wantIdentity: "spiffe://cpnp.dev/ns/acme"},
		"wrong server name": {client: mustClient(t, ca, "acme", ""), serverName: "other.example", wantErr: true},
		"client of another CA": {
			client: mustClient(t, newCA(t), "mallory", ""), serverName: "localhost", wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cc, sc := net.Pipe()
			defer cc.Close()
			defer sc.Close()
			srv := tls.Server(sc, &tls.Config{
				Certificates: []tls.Certificate{server.TLS},
				ClientCAs:    ca.Pool(),
				ClientAuth:   tls.RequireAndVerifyClientCert,
				MinVersion:   tls.VersionTLS12,
				Time:         func() time.Time { return now },
			})
			cli := tls.Client(cc, &tls.Config{
				Certificates: []tls.Certificate{tc.client.TLS},
				RootCAs:      ca.Pool(),
				ServerName:   tc.serverName,
				MinVersion:   tls.VersionTLS12,
				Time:         func() time.Time { return now },
			})
			// The server confirms a completed handshake with one byte; with
			// TLS 1.3 the client learns that the server refused its
			// certificate only when it reads (the alert comes after the
			// client's Finished).
			srvErr := make(chan error, 1)
			go func() {
				err := srv.HandshakeContext(ctx)
				if err == nil {
					_, err = srv.Write([]byte{'k'})
				}
				_ = sc.Close() // unblocks the client on failure
				srvErr <- err
			}()
			cliErr := cli.HandshakeContext(ctx)
			if cliErr == nil {
				_, cliErr = io.ReadFull(cli, make([]byte, 1))
			}
			sErr := <-srvErr
			if tc.wantErr {
				// Either side may detect the failure first; the client
				// always ends up seeing it.
				if cliErr == nil {
					t.Fatalf("handshake: client succeeded (server error %v), want a failure", sErr)
				}
				return
			}
			if cliErr != nil || sErr != nil {
				t.Fatalf("handshake: client %v, server %v", cliErr, sErr)
			}
			peers := srv.ConnectionState().PeerCertificates
			if len(peers) == 0 {
				t.Fatal("server saw no client certificate")
			}
			if got := pki.Identity(peers[0]); got != tc.wantIdentity {
				t.Errorf("identity: got %q, want %q", got, tc.wantIdentity)
			}
		})
	}
}
