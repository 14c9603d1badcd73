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

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"
)

// Defaults used by InitDir and cpnptest.NewPKI.
const (
	// DefaultCACommonName is the CN of the CA that InitDir makes.
	DefaultCACommonName = "cpnp local CA"
	// DefaultValidity is the lifetime of server and client certificates.
	DefaultValidity = 365 * 24 * time.Hour
	// DefaultCAValidity is the lifetime of the CA.
	DefaultCAValidity = 10 * 365 * 24 * time.Hour
	// Backdate is how long before "now" a certificate becomes valid, so that
	// a peer whose clock lags a little still accepts it.
	Backdate = 5 * time.Minute
)

// serialLimit bounds serial numbers: 128 random bits, as CA/Browser Forum
// practice and RFC 5280 §4.1.2.2 (at most 20 octets, positive) allow.
var serialLimit = new(big.Int).Lsh(big.NewInt(1), 128)

// CA is a certificate authority that signs the server and client
// certificates of a trial or test deployment (RFC 8921 §13: client and
// server are mutually authenticated). Cert is self-signed and may sign end
// entities only (path length 0).
type CA struct {
	// Cert is the parsed CA certificate.
	Cert *x509.Certificate
	// Key is the CA's private key.
	Key crypto.Signer
	// CertPEM is Cert as a PEM CERTIFICATE block (the ca.crt file).
	CertPEM []byte
	// KeyPEM is Key as a PEM PKCS #8 PRIVATE KEY block (the ca.key file).
	KeyPEM []byte
}

// Bundle is an end-entity certificate issued by a CA, with its key, in the
// forms callers need: parsed, PEM (for files and Secrets) and TLS (for a
// tls.Config or pion/dtls Config's Certificates).
type Bundle struct {
	// Cert is the parsed certificate.
	Cert *x509.Certificate
	// Key is its private key.
	Key crypto.Signer
	// CertPEM is Cert as a PEM CERTIFICATE block.
	CertPEM []byte
	// KeyPEM is Key as a PEM PKCS #8 PRIVATE KEY block.
	KeyPEM []byte
	// TLS holds the certificate (without the CA: peers hold it in their
	// pool, and a shorter chain means fewer DTLS handshake fragments) and
	// the key, with Leaf set.
	TLS tls.Certificate
}

// NewCA makes a self-signed ECDSA P-256 CA named commonName, valid from
// now-Backdate to now+validity, with KeyUsage CertSign (and CRLSign,
// DigitalSignature) and a path length of 0.
func NewCA(commonName string, validity time.Duration, now time.Time) (*CA, error) {
	if commonName == "" {
		return nil, fmt.Errorf("new CA: %w", invalid("common name is empty"))
	}
	if err := checkTimes(validity, now); err != nil {
		return nil, fmt.Errorf("new CA %q: %w", commonName, err)
	}
	key, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("new CA %q: %w", commonName, err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, fmt.Errorf("new CA %q: %w", commonName, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("new CA %q: sign: %w", commonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("new CA %q: parse: %w", commonName, err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, fmt.Errorf("new CA %q: %w", commonName, err)
	}
	return &CA{Cert: cert, Key: key, CertPEM: encodeCert(der), KeyPEM: keyPEM}, nil
}

// Pool returns a new pool that holds only the CA certificate: the
// RootCAs of a client, the ClientCAs of a server.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// IssueServer issues a server certificate (ExtKeyUsage ServerAuth) for the
// given DNS names and IP addresses, valid from now-Backdate to now+validity.
// At least one DNS name or IP address is required: clients verify the
// server against the SANs, not the CN (RFC 8921 §8.1 prefers DNS-IDs; Go
// ignores the CN), so commonName is informative and may be empty. The
// certificate carries no URI SAN (§8.1: URI-IDs are not used for server
// identity verification).
func (ca *CA) IssueServer(commonName string, dnsNames []string, ips []net.IP, validity time.Duration, now time.Time) (*Bundle, error) {
	if len(dnsNames) == 0 && len(ips) == 0 {
		return nil, fmt.Errorf("issue server certificate %q: %w", commonName, invalid("no DNS name or IP address"))
	}
	for _, n := range dnsNames {
		if n == "" {
			return nil, fmt.Errorf("issue server certificate %q: %w", commonName, invalid("empty DNS name"))
		}
	}
	for _, ip := range ips {
		if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
			return nil, fmt.Errorf("issue server certificate %q: %w", commonName, invalid("malformed IP address %v", ip))
		}
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		DNSNames:    append([]string(nil), dnsNames...),
		IPAddresses: append([]net.IP(nil), ips...),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	b, err := ca.issue(tmpl, validity, now)
	if err != nil {
		return nil, fmt.Errorf("issue server certificate %q: %w", commonName, err)
	}
	return b, nil
}

// IssueClient issues a client certificate (ExtKeyUsage ClientAuth) valid
// from now-Backdate to now+validity. Its identity (see Identity) is uriSAN
// when that is set (an absolute URI such as "spiffe://cpnp.dev/ns/acme" or
// "cpnp://tenant/acme"), else commonName; at least one of them is required.
func (ca *CA) IssueClient(commonName, uriSAN string, validity time.Duration, now time.Time) (*Bundle, error) {
	name := commonName
	if name == "" {
		name = uriSAN
	}
	if name == "" {
		return nil, fmt.Errorf("issue client certificate: %w", invalid("neither a common name nor a URI SAN"))
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if uriSAN != "" {
		u, err := url.Parse(uriSAN)
		if err != nil {
			return nil, fmt.Errorf("issue client certificate %q: %w", name, invalid("URI SAN %q: %v", uriSAN, err))
		}
		if !u.IsAbs() || (u.Host == "" && u.Opaque == "" && u.Path == "") {
			return nil, fmt.Errorf("issue client certificate %q: %w", name, invalid("URI SAN %q is not an absolute URI", uriSAN))
		}
		tmpl.URIs = []*url.URL{u}
	}
	b, err := ca.issue(tmpl, validity, now)
	if err != nil {
		return nil, fmt.Errorf("issue client certificate %q: %w", name, err)
	}
	return b, nil
}

// issue completes tmpl (serial, validity, key usage), signs it with a new
// key and returns the bundle.
func (ca *CA) issue(tmpl *x509.Certificate, validity time.Duration, now time.Time) (*Bundle, error) {
	if err := checkTimes(validity, now); err != nil {
		return nil, err
	}
	if end := now.Add(validity); end.After(ca.Cert.NotAfter) {
		return nil, invalid("validity ends %s, after the CA %q expires (%s)",
			end.UTC().Format(time.RFC3339), ca.Cert.Subject.CommonName, ca.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = now.Add(-Backdate)
	tmpl.NotAfter = now.Add(validity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &Bundle{
		Cert:    cert,
		Key:     key,
		CertPEM: encodeCert(der),
		KeyPEM:  keyPEM,
		TLS:     tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert},
	}, nil
}

// checkTimes rejects a validity or a time that cannot make a usable
// certificate.
func checkTimes(validity time.Duration, now time.Time) error {
	if validity <= 0 {
		return invalid("validity %v is not positive", validity)
	}
	if now.IsZero() {
		return invalid("the issuing time is the zero time")
	}
	return nil
}

// newKey returns a fresh ECDSA P-256 key.
func newKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ECDSA P-256 key: %w", err)
	}
	return key, nil
}

// newSerial returns a random serial number in [1, 2^128).
func newSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, serialLimit)
		if err != nil {
			return nil, fmt.Errorf("generate serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}
