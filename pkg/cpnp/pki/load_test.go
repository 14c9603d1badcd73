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
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

// writeTemp writes data to name in dir and returns the path.
func writeTemp(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
	return p
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// checkFileError checks that err is a *FileError for path matching want.
func checkFileError(t *testing.T, err error, path string, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one on %s matching %v", path, want)
	}
	var fe *pki.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v (%T), want a *pki.FileError", err, err)
	}
	if fe.Path != path {
		t.Errorf("FileError.Path: got %q, want %q (error %v)", fe.Path, path, err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Errorf("got error %v, want one matching %v", err, want)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file %s", err, path)
	}
}

// TestLoadCertPool checks loading a CA bundle, e.g. a server's --client-ca
// (DESIGN §6), and the errors that name the file and the problem.
func TestLoadCertPool(t *testing.T) {
	t.Parallel()
	ca, other := newCA(t), newCA(t)
	client := mustClient(t, ca, "acme", "")
	otherClient := mustClient(t, other, "globex", "")
	dir := t.TempDir()
	both := writeTemp(t, dir, "both.crt", append(append([]byte("# two CAs\n"), ca.CertPEM...), other.CertPEM...))
	pool, err := pki.LoadCertPool(both)
	if err != nil {
		t.Fatalf("LoadCertPool: %v", err)
	}
	for _, c := range []*x509.Certificate{client.Cert, otherClient.Cert} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("%s does not verify against the loaded pool: %v", c.Subject.CommonName, err)
		}
	}

	tests := map[string]struct {
		data []byte // nil: the file does not exist
		want error
	}{
		"missing":          {want: fs.ErrNotExist},
		"empty":            {data: []byte{}, want: pki.ErrNotPEM},
		"DER, not PEM":     {data: ca.Cert.Raw, want: pki.ErrNotPEM},
		"a key, no cert":   {data: ca.KeyPEM, want: pki.ErrNoCertificate},
		"garbage in block": {data: pemBlock("CERTIFICATE", []byte("not DER")), want: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "ca.crt")
			if tc.data != nil {
				writeTemp(t, filepath.Dir(p), "ca.crt", tc.data)
			}
			pool, err := pki.LoadCertPool(p)
			if pool != nil {
				t.Errorf("got a pool with error %v, want nil", err)
			}
			checkFileError(t, err, p, tc.want)
		})
	}
}

// TestLoadKeyPair checks loading a certificate and its key (a server's
// --tls-cert/--tls-key, DESIGN §6) in the key encodings found in the wild,
// and the errors that name the file at fault.
func TestLoadKeyPair(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	server := mustServer(t, ca)
	client := mustClient(t, ca, "acme", "")
	dir := t.TempDir()
	serverCrt := writeTemp(t, dir, "server.crt", append(append([]byte{}, server.CertPEM...), ca.CertPEM...))
	serverKey := writeTemp(t, dir, "server.key", server.KeyPEM)
	clientKey := writeTemp(t, dir, "client.key", client.KeyPEM)

	ecDER, err := x509.MarshalECPrivateKey(server.Key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatalf("MarshalECPrivateKey: %v", err)
	}
	sec1Key := writeTemp(t, dir, "sec1.key", pemBlock("EC PRIVATE KEY", ecDER))

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("rsa.GenerateKey: %v", err)
	}
	rsaCA := &x509.Certificate{SerialNumber: ca.Cert.SerialNumber, Subject: ca.Cert.Subject, NotBefore: now, NotAfter: now.Add(day)}
	rsaDER, err := x509.CreateCertificate(rand.Reader, rsaCA, ca.Cert, &rsaKey.PublicKey, ca.Key)
	if err != nil {
		t.Fatalf("CreateCertificate(RSA): %v", err)
	}
	rsaCrt := writeTemp(t, dir, "rsa.crt", pemBlock("CERTIFICATE", rsaDER))
	rsaPKCS1 := writeTemp(t, dir, "rsa.key", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)))

	ok := map[string]struct {
		cert, key string
		chainLen  int
	}{
		"PKCS #8 key with chain": {cert: serverCrt, key: serverKey, chainLen: 2},
		"SEC 1 EC key":           {cert: serverCrt, key: sec1Key, chainLen: 2},
		"PKCS #1 RSA key":        {cert: rsaCrt, key: rsaPKCS1, chainLen: 1},
	}
	for name, tc := range ok {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pair, err := pki.LoadKeyPair(tc.cert, tc.key)
			if err != nil {
				t.Fatalf("LoadKeyPair: %v", err)
			}
			if got := len(pair.Certificate); got != tc.chainLen {
				t.Errorf("chain length: got %d, want %d", got, tc.chainLen)
			}
			if pair.Leaf == nil || pair.PrivateKey == nil {
				t.Fatalf("got Leaf %v and PrivateKey %v, want both set", pair.Leaf, pair.PrivateKey)
			}
		})
	}

	params := writeTemp(t, dir, "p256-params-only.key", pemBlock("EC PARAMETERS", []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}))
	badKey := writeTemp(t, dir, "bad.key", pemBlock("PRIVATE KEY", []byte("not DER")))
	missing := filepath.Join(dir, "missing.pem")
	bad := map[string]struct {
		cert, key string
		at        string // the file the error must name
		want      error
	}{
		"missing cert":              {cert: missing, key: serverKey, at: missing, want: fs.ErrNotExist},
		"missing key":               {cert: serverCrt, key: missing, at: missing, want: fs.ErrNotExist},
		"files swapped":             {cert: serverKey, key: serverCrt, at: serverKey, want: pki.ErrNoCertificate},
		"key file holds a cert":     {cert: serverCrt, key: serverCrt, at: serverCrt, want: pki.ErrNoPrivateKey},
		"key file holds no key":     {cert: serverCrt, key: params, at: params, want: pki.ErrNoPrivateKey},
		"key file is not PEM":       {cert: serverCrt, key: writeTemp(t, dir, "der.key", ecDER), at: filepath.Join(dir, "der.key"), want: pki.ErrNotPEM},
		"key does not parse":        {cert: serverCrt, key: badKey, at: badKey},
		"key of another cert":       {cert: serverCrt, key: clientKey, at: clientKey, want: pki.ErrKeyMismatch},
		"RSA key for an ECDSA cert": {cert: serverCrt, key: rsaPKCS1, at: rsaPKCS1, want: pki.ErrKeyMismatch},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pair, err := pki.LoadKeyPair(tc.cert, tc.key)
			if pair.PrivateKey != nil || len(pair.Certificate) != 0 {
				t.Errorf("got a key pair with error %v, want none", err)
			}
			checkFileError(t, err, tc.at, tc.want)
		})
	}
}

// TestLoadCA checks that a CA written by InitDir can be loaded and issue
// more certificates that verify against the original ca.crt, and that a
// non-CA certificate is refused.
func TestLoadCA(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "certs")
	files, err := pki.InitDir(dir, pki.InitOptions{Now: now})
	if err != nil {
		t.Fatalf("InitDir: %v", err)
	}
	ca, err := pki.LoadCA(files.CACert, files.CAKey)
	if err != nil {
		t.Fatalf("LoadCA: %v", err)
	}
	b, err := ca.IssueClient("initech", "", day, now)
	if err != nil {
		t.Fatalf("IssueClient from the loaded CA: %v", err)
	}
	pool, err := pki.LoadCertPool(files.CACert)
	if err != nil {
		t.Fatalf("LoadCertPool: %v", err)
	}
	if _, err := b.Cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("certificate of the loaded CA does not verify against ca.crt: %v", err)
	}
	caFile, err := os.ReadFile(files.CACert)
	if err != nil {
		t.Fatalf("read ca.crt: %v", err)
	}
	if string(ca.CertPEM) != string(caFile) {
		t.Errorf("loaded CertPEM differs from ca.crt")
	}

	_, err = pki.LoadCA(files.ServerCert, files.ServerKey)
	checkFileError(t, err, files.ServerCert, pki.ErrNotCA)
	_, err = pki.LoadCA(files.CACert, files.ServerKey)
	checkFileError(t, err, files.ServerKey, pki.ErrKeyMismatch)
}
