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
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// PEM block types.
const (
	pemCertificate  = "CERTIFICATE"
	pemPrivateKey   = "PRIVATE KEY"     // PKCS #8
	pemECPrivateKey = "EC PRIVATE KEY"  // SEC 1
	pemRSAKey       = "RSA PRIVATE KEY" // PKCS #1
)

// LoadCertPool reads a PEM file of one or more CA certificates (a server's
// --client-ca, a client's --ca) into a new pool. Errors are *FileError
// naming path: the file is missing or unreadable (fs.ErrNotExist, ...), is
// not PEM (ErrNotPEM), holds no certificate (ErrNoCertificate), or holds a
// certificate that does not parse.
func LoadCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	certs, _, err := parseCerts(data)
	if err != nil {
		return nil, fileError(path, err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// LoadKeyPair reads a PEM certificate chain (leaf first) and its PEM private
// key (PKCS #8, SEC 1 EC or PKCS #1 RSA) into a tls.Certificate with Leaf
// set. Errors are *FileError naming the file at fault: missing or
// unreadable, not PEM (ErrNotPEM), no certificate (ErrNoCertificate), no key
// (ErrNoPrivateKey), unparsable, or a key that is not the certificate's
// (ErrKeyMismatch, reported on keyPath).
func LoadKeyPair(certPath, keyPath string) (tls.Certificate, error) {
	certs, ders, key, err := loadPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: ders, PrivateKey: key, Leaf: certs[0]}, nil
}

// LoadCA reads a CA certificate and its key written by InitDir (or any CA
// whose certificate may sign certificates), so that more certificates can be
// issued later, e.g. one per tenant. Errors are those of LoadKeyPair, and
// ErrNotCA on certPath.
func LoadCA(certPath, keyPath string) (*CA, error) {
	certs, ders, key, err := loadPair(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	cert := certs[0]
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, &FileError{Path: certPath, Err: ErrNotCA}
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, &FileError{Path: keyPath, Err: err}
	}
	return &CA{Cert: cert, Key: key, CertPEM: encodeCert(ders[0]), KeyPEM: keyPEM}, nil
}

// loadPair reads and parses a certificate chain and its matching key.
func loadPair(certPath, keyPath string) ([]*x509.Certificate, [][]byte, crypto.Signer, error) {
	certData, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, nil, fileError(certPath, err)
	}
	certs, ders, err := parseCerts(certData)
	if err != nil {
		return nil, nil, nil, fileError(certPath, err)
	}
	keyData, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, nil, fileError(keyPath, err)
	}
	key, err := parseKey(keyData)
	if err != nil {
		return nil, nil, nil, fileError(keyPath, err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(certs[0].PublicKey) {
		return nil, nil, nil, &FileError{Path: keyPath, Err: fmt.Errorf("%w %s", ErrKeyMismatch, certPath)}
	}
	return certs, ders, key, nil
}

// parseCerts returns every CERTIFICATE block of data, parsed and raw, in
// order. Blocks of other types are skipped.
func parseCerts(data []byte) ([]*x509.Certificate, [][]byte, error) {
	var (
		certs  []*x509.Certificate
		ders   [][]byte
		anyPEM bool
	)
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		anyPEM = true
		if block.Type != pemCertificate {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
		ders = append(ders, block.Bytes)
	}
	switch {
	case !anyPEM:
		return nil, nil, ErrNotPEM
	case len(certs) == 0:
		return nil, nil, ErrNoCertificate
	}
	return certs, ders, nil
}

// parseKey returns the first private key block of data.
func parseKey(data []byte) (crypto.Signer, error) {
	anyPEM := false
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		anyPEM = true
		var (
			key any
			err error
		)
		switch block.Type {
		case pemPrivateKey:
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case pemECPrivateKey:
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case pemRSAKey:
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: unsupported key type %T", block.Type, key)
		}
		return signer, nil
	}
	if !anyPEM {
		return nil, ErrNotPEM
	}
	return nil, ErrNoPrivateKey
}

// encodeCert returns der as a PEM CERTIFICATE block.
func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der})
}

// encodeKey returns key as a PEM PKCS #8 PRIVATE KEY block.
func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}
