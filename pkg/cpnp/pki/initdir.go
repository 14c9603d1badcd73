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
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names that InitDir writes in its directory. A named client (see
// ClientSpec) gets <Name>.crt and <Name>.key.
const (
	CACertFile     = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
	ClientCertFile = "client.crt"
	ClientKeyFile  = "client.key"
)

// Defaults of InitOptions.
const (
	// DefaultServerName is the server's CN and DNS SAN: a local trial
	// dials "localhost" (or 127.0.0.1 / ::1, see DefaultServerIPs).
	DefaultServerName = "localhost"
	// DefaultClientCommonName is the default client's CN and so its
	// identity: the example tenant "acme" of DESIGN §6's policy.yaml.
	DefaultClientCommonName = "acme"
	// DefaultClientName is the file base name of the default client
	// (client.crt, client.key).
	DefaultClientName = "client"
)

// Permissions of what InitDir writes: private keys and the directory are
// readable by the owner only.
const (
	DirPerm  fs.FileMode = 0o700
	KeyPerm  fs.FileMode = 0o600
	CertPerm fs.FileMode = 0o644
)

// maxClientName bounds ClientSpec.Name.
const maxClientName = 64

// DefaultServerIPs returns the server's default IP SANs: 127.0.0.1 and ::1.
func DefaultServerIPs() []net.IP {
	return []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
}

// ClientSpec asks InitDir for one more client certificate, e.g. one per
// tenant of a trial.
type ClientSpec struct {
	// Name is the file base name (<Name>.crt, <Name>.key): letters, digits,
	// '.', '_' and '-', not starting with '.', at most 64 characters, and
	// none of "ca", "server", "client".
	Name string
	// CommonName is the certificate's CN; it defaults to Name.
	CommonName string
	// URISAN, if set, is the certificate's URI SAN and so its identity
	// (e.g. "spiffe://cpnp.dev/ns/globex").
	URISAN string
}

// InitOptions tunes InitDir. The zero value asks for the defaults.
type InitOptions struct {
	// CACommonName is the CA's CN; default DefaultCACommonName.
	CACommonName string
	// ServerCommonName is the server's CN; default the first DNS name, or
	// "cpnp-server" when there is none.
	ServerCommonName string
	// ServerDNSNames are the server's DNS SANs; nil means
	// [DefaultServerName], an empty non-nil slice means none.
	ServerDNSNames []string
	// ServerIPs are the server's IP SANs; nil means DefaultServerIPs(), an
	// empty non-nil slice means none.
	ServerIPs []net.IP
	// ClientCommonName is the CN of the default client (client.crt);
	// default DefaultClientCommonName.
	ClientCommonName string
	// ClientURISAN, if set, is the default client's URI SAN.
	ClientURISAN string
	// Clients are more clients to issue, each in its own files.
	Clients []ClientSpec
	// Validity is the lifetime of the server and client certificates;
	// default DefaultValidity.
	Validity time.Duration
	// CAValidity is the lifetime of the CA; default DefaultCAValidity.
	CAValidity time.Duration
	// Now is the issuing time; default the current time.
	Now time.Time
	// Force replaces existing files. Without it InitDir writes nothing
	// when any of its files exists.
	Force bool
}

// Files names what InitDir wrote.
type Files struct {
	// Dir is the directory.
	Dir string
	// CACert and CAKey are the CA's certificate and key.
	CACert, CAKey string
	// ServerCert and ServerKey are the server's certificate and key.
	ServerCert, ServerKey string
	// ClientCert and ClientKey are the default client's certificate and
	// key (Clients[0]).
	ClientCert, ClientKey string
	// Clients are every client: the default one first, then
	// InitOptions.Clients in order.
	Clients []ClientFiles
}

// ClientFiles names the files of one client and its identity.
type ClientFiles struct {
	// Name is the file base name.
	Name string
	// Cert and Key are the certificate and key files.
	Cert, Key string
	// Identity is the identity a server sees (see Identity), the value
	// for `tenants[].identity` in a server policy (DESIGN §6).
	Identity string
}

// InitDir writes a CA, a server certificate and client certificates as PEM
// files into dir for a local trial (`cpnpctl certs init DIR`): ca.crt,
// ca.key, server.crt, server.key, client.crt, client.key and, for each
// opts.Clients entry, <Name>.crt and <Name>.key. By default the server
// certificate is for "localhost", 127.0.0.1 and ::1, and the client
// certificate has CN "acme"; see InitOptions.
//
// dir is created with mode 0700 if it does not exist (an existing
// directory keeps its mode); keys are written with mode 0600 and
// certificates 0644, whatever the umask. Each file is written to a
// temporary file and renamed into place. Unless opts.Force is set, InitDir
// checks first that none of its files exists and otherwise writes nothing
// and returns one *FileError matching ErrExists per existing file (joined).
func InitDir(dir string, opts InitOptions) (Files, error) {
	if err := opts.complete(); err != nil {
		return Files{}, fmt.Errorf("init %s: %w", dir, err)
	}
	type output struct {
		path string
		data []byte
		perm fs.FileMode
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	files := Files{
		Dir:        dir,
		CACert:     path(CACertFile),
		CAKey:      path(CAKeyFile),
		ServerCert: path(ServerCertFile),
		ServerKey:  path(ServerKeyFile),
		ClientCert: path(ClientCertFile),
		ClientKey:  path(ClientKeyFile),
	}

	if !opts.Force {
		names := []string{CACertFile, CAKeyFile, ServerCertFile, ServerKeyFile}
		for _, c := range opts.Clients {
			names = append(names, c.Name+".crt", c.Name+".key")
		}
		var errs []error
		for _, n := range names {
			p := path(n)
			switch _, err := os.Lstat(p); {
			case err == nil:
				errs = append(errs, &FileError{Path: p, Err: ErrExists})
			case !errors.Is(err, fs.ErrNotExist):
				errs = append(errs, fileError(p, err))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return Files{}, fmt.Errorf("init %s: %w", dir, err)
		}
	}

	ca, err := NewCA(opts.CACommonName, opts.CAValidity, opts.Now)
	if err != nil {
		return Files{}, fmt.Errorf("init %s: %w", dir, err)
	}
	server, err := ca.IssueServer(opts.ServerCommonName, opts.ServerDNSNames, opts.ServerIPs, opts.Validity, opts.Now)
	if err != nil {
		return Files{}, fmt.Errorf("init %s: %w", dir, err)
	}
	outputs := []output{
		{files.CACert, ca.CertPEM, CertPerm},
		{files.CAKey, ca.KeyPEM, KeyPerm},
		{files.ServerCert, server.CertPEM, CertPerm},
		{files.ServerKey, server.KeyPEM, KeyPerm},
	}
	for _, c := range opts.Clients {
		b, err := ca.IssueClient(c.CommonName, c.URISAN, opts.Validity, opts.Now)
		if err != nil {
			return Files{}, fmt.Errorf("init %s: %w", dir, err)
		}
		cf := ClientFiles{Name: c.Name, Cert: path(c.Name + ".crt"), Key: path(c.Name + ".key"), Identity: Identity(b.Cert)}
		files.Clients = append(files.Clients, cf)
		outputs = append(outputs, output{cf.Cert, b.CertPEM, CertPerm}, output{cf.Key, b.KeyPEM, KeyPerm})
	}

	if err := os.MkdirAll(dir, DirPerm); err != nil {
		return Files{}, fmt.Errorf("init: %w", fileError(dir, err))
	}
	for _, o := range outputs {
		if err := writeFile(o.path, o.data, o.perm); err != nil {
			return Files{}, fmt.Errorf("init %s: %w", dir, err)
		}
	}
	return files, nil
}

// complete fills in the defaults and checks the client names. The default
// client becomes Clients[0], named DefaultClientName.
func (o *InitOptions) complete() error {
	if o.CACommonName == "" {
		o.CACommonName = DefaultCACommonName
	}
	if o.ServerDNSNames == nil {
		o.ServerDNSNames = []string{DefaultServerName}
	}
	if o.ServerIPs == nil {
		o.ServerIPs = DefaultServerIPs()
	}
	if o.ServerCommonName == "" {
		o.ServerCommonName = "cpnp-server"
		if len(o.ServerDNSNames) > 0 {
			o.ServerCommonName = o.ServerDNSNames[0]
		}
	}
	if o.ClientCommonName == "" {
		o.ClientCommonName = DefaultClientCommonName
	}
	if o.Validity == 0 {
		o.Validity = DefaultValidity
	}
	if o.CAValidity == 0 {
		o.CAValidity = DefaultCAValidity
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	seen := map[string]bool{"ca": true, "server": true, DefaultClientName: true}
	clients := []ClientSpec{{Name: DefaultClientName, CommonName: o.ClientCommonName, URISAN: o.ClientURISAN}}
	for _, c := range o.Clients {
		if err := checkClientName(c.Name); err != nil {
			return err
		}
		if seen[c.Name] {
			return invalid("client name %q is reserved or used twice", c.Name)
		}
		seen[c.Name] = true
		if c.CommonName == "" {
			c.CommonName = c.Name
		}
		clients = append(clients, c)
	}
	o.Clients = clients
	return nil
}

// checkClientName accepts a name that is safe as a file base name.
func checkClientName(name string) error {
	if name == "" || len(name) > maxClientName || name[0] == '.' {
		return invalid("client name %q must be 1 to %d characters and not start with '.'", name, maxClientName)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return invalid("client name %q may hold only letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

// writeFile writes data to path with mode perm, through a temporary file in
// the same directory that is renamed into place, so a reader never sees a
// partial file and a replaced key never keeps a looser mode.
func writeFile(path string, data []byte, perm fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fileError(path, err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err == nil {
			return
		}
		if !closed {
			err = errors.Join(err, f.Close())
		}
		if rmErr := os.Remove(tmp); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
			err = errors.Join(err, rmErr)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return fileError(path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fileError(path, err)
	}
	if err := f.Sync(); err != nil {
		return fileError(path, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fileError(path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fileError(path, err)
	}
	return nil
}
