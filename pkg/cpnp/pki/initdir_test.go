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
	"bytes"
	"crypto/x509"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

// listDir returns the names and modes of the entries of dir.
func listDir(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	got := map[string]fs.FileMode{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatalf("Info(%s): %v", e.Name(), err)
		}
		got[e.Name()] = info.Mode().Perm()
	}
	return got
}

// readAll returns the contents of every file of dir.
func readAll(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for name := range listDir(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		got[name] = string(b)
	}
	return got
}

// TestInitDirDefaults checks what `cpnpctl certs init DIR` writes for a
// local trial: the files, their modes, and certificates that a server on
// localhost and the tenant "acme" (DESIGN §6) can use for mutual
// authentication (RFC 8921 §13).
func TestInitDirDefaults(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "trial", "certs")
	files, err := pki.InitDir(dir, pki.InitOptions{
		Now:     now,
		Clients: []pki.ClientSpec{{Name: "globex", URISAN: "spiffe://cpnp.dev/ns/globex"}, {Name: "initech"}},
	})
	if err != nil {
		t.Fatalf("InitDir: %v", err)
	}
	wantFiles := pki.Files{
		Dir:        dir,
		CACert:     filepath.Join(dir, "ca.crt"),
		CAKey:      filepath.Join(dir, "ca.key"),
		ServerCert: filepath.Join(dir, "server.crt"),
		ServerKey:  filepath.Join(dir, "server.key"),
		ClientCert: filepath.Join(dir, "client.crt"),
		ClientKey:  filepath.Join(dir, "client.key"),
		Clients: []pki.ClientFiles{
			{Name: "client", Cert: filepath.Join(dir, "client.crt"), Key: filepath.Join(dir, "client.key"), Identity: "acme"},
			{Name: "globex", Cert: filepath.Join(dir, "globex.crt"), Key: filepath.Join(dir, "globex.key"), Identity: "spiffe://cpnp.dev/ns/globex"},
			{Name: "initech", Cert: filepath.Join(dir, "initech.crt"), Key: filepath.Join(dir, "initech.key"), Identity: "initech"},
		},
	}
	if diff := cmp.Diff(wantFiles, files); diff != "" {
		t.Errorf("Files mismatch (-want +got):\n%s", diff)
	}
	wantModes := map[string]fs.FileMode{
		"ca.crt": 0o644, "ca.key": 0o600, "server.crt": 0o644, "server.key": 0o600,
		"client.crt": 0o644, "client.key": 0o600, "globex.crt": 0o644, "globex.key": 0o600,
		"initech.crt": 0o644, "initech.key": 0o600,
	}
	if diff := cmp.Diff(wantModes, listDir(t, dir)); diff != "" {
		t.Errorf("files and modes mismatch (-want +got):\n%s", diff)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("Stat(dir): %v", err)
	}
	if got := info.Mode().Perm(); got != pki.DirPerm {
		t.Errorf("dir mode: got %v, want %v", got, pki.DirPerm)
	}

	pool, err := pki.LoadCertPool(files.CACert)
	if err != nil {
		t.Fatalf("LoadCertPool: %v", err)
	}
	ca, err := pki.LoadCA(files.CACert, files.CAKey)
	if err != nil {
		t.Fatalf("LoadCA: %v", err)
	}
	if got, want := ca.Cert.NotAfter, now.Add(pki.DefaultCAValidity); !got.Equal(want) {
		t.Errorf("CA NotAfter: got %v, want %v (10 years)", got, want)
	}
	if got := ca.Cert.Subject.CommonName; got != pki.DefaultCACommonName {
		t.Errorf("CA CN: got %q, want %q", got, pki.DefaultCACommonName)
	}

	server, err := pki.LoadKeyPair(files.ServerCert, files.ServerKey)
	if err != nil {
		t.Fatalf("LoadKeyPair(server): %v", err)
	}
	var ips []string
	for _, ip := range server.Leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	type serverShape struct {
		CN       string
		DNS, IPs []string
		NotAfter time.Time
	}
	wantServer := serverShape{CN: "localhost", DNS: []string{"localhost"}, IPs: []string{"127.0.0.1", "::1"}, NotAfter: now.Add(pki.DefaultValidity)}
	gotServer := serverShape{CN: server.Leaf.Subject.CommonName, DNS: server.Leaf.DNSNames, IPs: ips, NotAfter: server.Leaf.NotAfter}
	if diff := cmp.Diff(wantServer, gotServer); diff != "" {
		t.Errorf("server certificate mismatch (-want +got):\n%s", diff)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := server.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: now}); err != nil {
			t.Errorf("server certificate does not verify for %s: %v", host, err)
		}
	}
	for _, c := range files.Clients {
		pair, err := pki.LoadKeyPair(c.Cert, c.Key)
		if err != nil {
			t.Fatalf("LoadKeyPair(%s): %v", c.Name, err)
		}
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("client %s does not verify: %v", c.Name, err)
		}
		if got := pki.Identity(pair.Leaf); got != c.Identity {
			t.Errorf("client %s identity: got %q, want %q", c.Name, got, c.Identity)
		}
	}
}

// TestInitDirOptions checks the options that change the defaults.
func TestInitDirOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files, err := pki.InitDir(dir, pki.InitOptions{
		CACommonName:     "acme trial CA",
		ServerDNSNames:   []string{"cpnp.example", "localhost"},
		ServerIPs:        []net.IP{},
		ClientCommonName: "wile",
		ClientURISAN:     "cpnp://tenant/acme",
		Validity:         7 * day,
		CAValidity:       30 * day,
		Now:              now,
	})
	if err != nil {
		t.Fatalf("InitDir: %v", err)
	}
	ca, err := pki.LoadCA(files.CACert, files.CAKey)
	if err != nil {
		t.Fatalf("LoadCA: %v", err)
	}
	server, err := pki.LoadKeyPair(files.ServerCert, files.ServerKey)
	if err != nil {
		t.Fatalf("LoadKeyPair(server): %v", err)
	}
	client, err := pki.LoadKeyPair(files.ClientCert, files.ClientKey)
	if err != nil {
		t.Fatalf("LoadKeyPair(client): %v", err)
	}
	type shape struct {
		CACN, ServerCN, ClientCN, Identity string
		DNS                                []string
		IPs                                int
		CAEnd, ServerEnd, ClientEnd        time.Time
	}
	want := shape{
		CACN: "acme trial CA", ServerCN: "cpnp.example", ClientCN: "wile", Identity: "cpnp://tenant/acme",
		DNS: []string{"cpnp.example", "localhost"}, IPs: 0,
		CAEnd: now.Add(30 * day), ServerEnd: now.Add(7 * day), ClientEnd: now.Add(7 * day),
	}
	got := shape{
		CACN: ca.Cert.Subject.CommonName, ServerCN: server.Leaf.Subject.CommonName, ClientCN: client.Leaf.Subject.CommonName,
		Identity: files.Clients[0].Identity, DNS: server.Leaf.DNSNames, IPs: len(server.Leaf.IPAddresses),
		CAEnd: ca.Cert.NotAfter, ServerEnd: server.Leaf.NotAfter, ClientEnd: client.Leaf.NotAfter,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("certificates mismatch (-want +got):\n%s", diff)
	}

	// A server with IP SANs only gets a generic CN.
	ipOnly, err := pki.InitDir(t.TempDir(), pki.InitOptions{ServerDNSNames: []string{}, ServerIPs: []net.IP{net.ParseIP("192.0.2.1")}})
	if err != nil {
		t.Fatalf("InitDir(IP only): %v", err)
	}
	s, err := pki.LoadKeyPair(ipOnly.ServerCert, ipOnly.ServerKey)
	if err != nil {
		t.Fatalf("LoadKeyPair: %v", err)
	}
	if got := s.Leaf.Subject.CommonName; got != "cpnp-server" {
		t.Errorf("CN of an IP-only server: got %q, want %q", got, "cpnp-server")
	}
	// Now defaults to the current time: the certificates are valid now.
	if _, err := s.Leaf.Verify(x509.VerifyOptions{Roots: mustPool(t, ipOnly.CACert), DNSName: "192.0.2.1"}); err != nil {
		t.Errorf("with the default Now, the server certificate does not verify now: %v", err)
	}
}

// fileErrorPaths returns the base names of the files of the *FileErrors
// that err joins.
func fileErrorPaths(err error) []string {
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		return nil
	}
	var names []string
	for _, e := range joined.Unwrap() {
		var fe *pki.FileError
		if errors.As(e, &fe) {
			names = append(names, filepath.Base(fe.Path))
		}
	}
	return names
}

func mustPool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	pool, err := pki.LoadCertPool(path)
	if err != nil {
		t.Fatalf("LoadCertPool: %v", err)
	}
	return pool
}

// TestInitDirNoOverwrite checks that InitDir never replaces existing files
// without Force, names every one that is in the way, and writes nothing
// then; with Force it replaces them and restores the key modes.
func TestInitDirNoOverwrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := pki.InitOptions{Now: now, Clients: []pki.ClientSpec{{Name: "globex"}}}
	files, err := pki.InitDir(dir, opts)
	if err != nil {
		t.Fatalf("first InitDir: %v", err)
	}
	before := readAll(t, dir)

	_, err = pki.InitDir(dir, opts)
	if !errors.Is(err, pki.ErrExists) || !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second InitDir: got error %v, want one matching ErrExists and fs.ErrExist", err)
	}
	named := fileErrorPaths(err)
	sort.Strings(named)
	wantNamed := []string{"ca.crt", "ca.key", "client.crt", "client.key", "globex.crt", "globex.key", "server.crt", "server.key"}
	if diff := cmp.Diff(wantNamed, named); diff != "" {
		t.Errorf("files named in the error mismatch (-want +got):\n%s\nerror: %v", diff, err)
	}
	if diff := cmp.Diff(before, readAll(t, dir)); diff != "" {
		t.Errorf("a refused InitDir changed the directory (-before +after):\n%s", diff)
	}

	// One file in the way is enough to refuse, and it is named.
	lone := t.TempDir()
	if err := os.WriteFile(filepath.Join(lone, "globex.key"), []byte("mine"), 0o600); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	_, err = pki.InitDir(lone, opts)
	checkFileError(t, err, filepath.Join(lone, "globex.key"), pki.ErrExists)
	if diff := cmp.Diff(map[string]string{"globex.key": "mine"}, readAll(t, lone)); diff != "" {
		t.Errorf("a refused InitDir changed the directory (-before +after):\n%s", diff)
	}

	// Force replaces every file and brings a loosened key back to 0600.
	if err := os.Chmod(files.ServerKey, 0o644); err != nil {
		t.Fatalf("Chmod: %v", err)
	}
	opts.Force = true
	if _, err := pki.InitDir(dir, opts); err != nil {
		t.Fatalf("InitDir with Force: %v", err)
	}
	after := readAll(t, dir)
	for name, old := range before {
		if after[name] == old {
			t.Errorf("%s was not replaced with Force", name)
		}
	}
	if got := listDir(t, dir)["server.key"]; got != pki.KeyPerm {
		t.Errorf("server.key mode after Force: got %v, want %v", got, pki.KeyPerm)
	}
	if got, want := len(after), len(before); got != want {
		t.Errorf("got %d files after Force, want %d (temporary files left?)", got, want)
	}
}

// TestInitDirInvalid checks the options and directories InitDir refuses.
func TestInitDirInvalid(t *testing.T) {
	t.Parallel()
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	tests := map[string]struct {
		dir  string
		opts pki.InitOptions
		want error
	}{
		"reserved client name ca":     {opts: pki.InitOptions{Clients: []pki.ClientSpec{{Name: "ca"}}}, want: pki.ErrInvalidRequest},
		"reserved client name client": {opts: pki.InitOptions{Clients: []pki.ClientSpec{{Name: "client"}}}, want: pki.ErrInvalidRequest},
		"duplicate client name":       {opts: pki.InitOptions{Clients: []pki.ClientSpec{{Name: "a"}, {Name: "a"}}}, want: pki.ErrInvalidRequest},
		"empty client name":           {opts: pki.InitOptions{Clients: []pki.ClientSpec{{}}}, want: pki.ErrInvalidRequest},
		"hidden client name":          {opts: pki.InitOptions{Clients: []pki.ClientSpec{{Name: ".x"}}}, want: pki.ErrInvalidRequest},
		"path in client name":         {opts: pki.InitOptions{Clients: []pki.ClientSpec{{Name: "../x"}}}, want: pki.ErrInvalidRequest},
		"long client name":            {opts: pki.InitOptions{Clients: []pki.ClientSpec{{Name: string(bytes.Repeat([]byte("a"), 65))}}}, want: pki.ErrInvalidRequest},
		"bad client URI SAN":          {opts: pki.InitOptions{Clients: []pki.ClientSpec{{Name: "x", URISAN: "relative"}}}, want: pki.ErrInvalidRequest},
		"no server SANs":              {opts: pki.InitOptions{ServerDNSNames: []string{}, ServerIPs: []net.IP{}}, want: pki.ErrInvalidRequest},
		"negative validity":           {opts: pki.InitOptions{Validity: -day}, want: pki.ErrInvalidRequest},
		"negative CA validity":        {opts: pki.InitOptions{CAValidity: -day}, want: pki.ErrInvalidRequest},
		"validity beyond the CA":      {opts: pki.InitOptions{Validity: 2 * day, CAValidity: day}, want: pki.ErrInvalidRequest},
		"dir is a file":               {dir: notDir},
		"parent is a file":            {dir: filepath.Join(notDir, "sub")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := tc.dir
			if dir == "" {
				dir = filepath.Join(t.TempDir(), "certs")
			}
			_, err := pki.InitDir(dir, tc.opts)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got error %v, want one matching %v", err, tc.want)
			}
			if tc.dir == "" {
				if _, statErr := os.Stat(dir); !errors.Is(statErr, fs.ErrNotExist) {
					t.Errorf("a refused InitDir created %s (stat: %v)", dir, statErr)
				}
			}
		})
	}
}

// TestInitDirWriteFails checks that a file that cannot be written is
// reported by name and leaves no temporary file behind.
func TestInitDirWriteFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A non-empty directory where server.key goes: even Force cannot
	// rename a file over it.
	blocker := filepath.Join(dir, "server.key")
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o700); err != nil {
		t.Fatalf("MkdirAll: %v", err)
	}
	_, err := pki.InitDir(dir, pki.InitOptions{Now: now, Force: true})
	checkFileError(t, err, blocker, nil)
	for name := range listDir(t, dir) {
		if strings.HasPrefix(name, ".") {
			t.Errorf("temporary file %s left behind", name)
		}
	}
}
