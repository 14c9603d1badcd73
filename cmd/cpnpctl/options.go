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

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
)

// Environment variables that give the global flags their defaults.
const (
	envServer     = "CPNP_SERVER"
	envServerName = "CPNP_SERVER_NAME"
	envCA         = "CPNP_CA"
	envCert       = "CPNP_CERT"
	envKey        = "CPNP_KEY"
	envState      = "CPNP_STATE"
	envAdmin      = "CPNP_ADMIN"
)

// Defaults of the global flags.
const (
	defaultStatePath = "./.cpnp/orders.db"
	defaultAdminURL  = "http://127.0.0.1:8922"
	defaultTimeout   = time.Minute
)

// Labels that cpnpctl records on its orders, so that later verbs reach the
// server the same way without repeating --server-name and --transport.
const (
	labelServerName = "cpnpctl/server-name"
	labelTransport  = "cpnpctl/transport"
)

// Output formats of -o.
const (
	outputTable = "table"
	outputJSON  = "json"
	outputYAML  = "yaml"
)

// globalOptions are the persistent flags of the root command (DESIGN §6:
// "cpnpctl talks to a server the same way (--server, --server-name, --ca,
// --cert, --key)").
type globalOptions struct {
	server     string
	serverName string
	ca         string
	cert       string
	key        string
	transport  string
	state      string
	admin      string
	output     string
	timeout    time.Duration
	verbosity  int
}

// addGlobalFlags adds the persistent flags to root and returns their values.
func addGlobalFlags(root *cobra.Command) *globalOptions {
	g := &globalOptions{}
	f := root.PersistentFlags()
	f.StringVar(&g.server, "server", os.Getenv(envServer),
		"CPNP server address host:port (env "+envServer+"; default for an existing order: the server it was quoted with)")
	f.StringVar(&g.serverName, "server-name", os.Getenv(envServerName),
		"name verified in the server certificate (env "+envServerName+"; default: the host of --server)")
	f.StringVar(&g.ca, "ca", os.Getenv(envCA), "PEM file of the CA that signed the server certificate (env "+envCA+"; default: system roots)")
	f.StringVar(&g.cert, "cert", os.Getenv(envCert), "PEM client certificate (env "+envCert+")")
	f.StringVar(&g.key, "key", os.Getenv(envKey), "PEM private key of --cert (env "+envKey+")")
	f.StringVar(&g.transport, "transport", "", "dtls or tls (default: the order's transport, else dtls)")
	f.StringVar(&g.state, "state", envOr(envState, defaultStatePath), "local state file (bbolt) holding cpnpctl's orders (env "+envState+")")
	f.StringVar(&g.admin, "admin", envOr(envAdmin, defaultAdminURL), "base URL of the server's admin API (cpnp-server --admin-listen; env "+envAdmin+")")
	f.StringVarP(&g.output, "output", "o", outputTable, "output format of status and admin list: table, json or yaml")
	f.DurationVar(&g.timeout, "timeout", defaultTimeout, "how long a verb waits for the server")
	f.IntVarP(&g.verbosity, "verbosity", "v", -1, "engine log verbosity on standard error (-1: none, 0: errors and alarms, 1: transitions and sends, 4: every message)")
	return g
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// checkOutput validates -o.
func (g *globalOptions) checkOutput() error {
	switch g.output {
	case outputTable, outputJSON, outputYAML:
		return nil
	}
	return fmt.Errorf("flag -o/--output %q: want table, json or yaml", g.output)
}

// openState opens the local state file, creating its directory (0700).
func (g *globalOptions) openState() (*client.BoltStore, error) {
	if g.state == "" {
		return nil, errors.New("flag --state: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(g.state), 0o700); err != nil {
		return nil, fmt.Errorf("state file %s: %w", g.state, err)
	}
	bs, err := client.OpenBoltStore(g.state, store.Options{LockTimeout: 2 * time.Second, NoJournal: true}) // short-lived CLI: no 64 MiB journal per state file
	if err != nil {
		if errors.Is(err, store.ErrInUse) {
			return nil, fmt.Errorf("state file %s is in use by another cpnpctl: %w", g.state, err)
		}
		return nil, fmt.Errorf("state file %s: %w", g.state, err)
	}
	return bs, nil
}

// readState opens the state file for reading; a missing file reads as no
// orders (nil store).
func (g *globalOptions) readState() (*client.BoltStore, error) {
	if _, err := os.Stat(g.state); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return g.openState()
}

// logger is the engine's logger: slog text on stderr at the verbosity of -v.
func (g *globalOptions) logger(s IOStreams) logr.Logger {
	if g.verbosity < 0 {
		return logr.Discard()
	}
	h := slog.NewTextHandler(s.ErrOut, &slog.HandlerOptions{Level: slog.Level(-g.verbosity)})
	return logr.FromSlogHandler(h)
}

// serverConfig is how to reach the server of order o (nil for a new
// order): flags first, then what the order recorded.
func (g *globalOptions) serverConfig(o *client.Order) (string, client.ServerConfig, error) {
	addr, serverName, tr := g.server, g.serverName, g.transport
	if o != nil {
		switch {
		case addr == "":
			addr = o.Server
		case addr != o.Server:
			return "", client.ServerConfig{}, fmt.Errorf("flag --server %s: order %s was quoted with server %s", addr, o.ID(), o.Server)
		}
		if serverName == "" {
			serverName = o.Labels[labelServerName]
		}
		if tr == "" {
			tr = o.Labels[labelTransport]
		}
	}
	if addr == "" {
		return "", client.ServerConfig{}, errors.New("flag --server is required (host:port of the CPNP server, or env " + envServer + ")")
	}
	t, err := client.ParseTransport(tr)
	if err != nil {
		return "", client.ServerConfig{}, fmt.Errorf("flag --transport: %w", err)
	}
	if g.cert == "" || g.key == "" {
		return "", client.ServerConfig{}, errors.New("flags --cert and --key are required: CPNP servers authenticate clients by certificate (RFC 8921 §13)")
	}
	cert, err := pki.LoadKeyPair(g.cert, g.key)
	if err != nil {
		return "", client.ServerConfig{}, fmt.Errorf("flags --cert/--key: %w", err)
	}
	sc := client.ServerConfig{Address: addr, ServerName: serverName, Certificate: &cert, Transport: t}
	if g.ca != "" {
		pool, err := pki.LoadCertPool(g.ca)
		if err != nil {
			return "", client.ServerConfig{}, fmt.Errorf("flag --ca: %w", err)
		}
		sc.RootCAs = pool
	}
	sc.Options.HandshakeTimeout = min(10*time.Second, max(g.timeout, time.Second))
	if err := sc.Validate(); err != nil {
		return "", client.ServerConfig{}, fmt.Errorf("flag --server %s: %w", addr, err)
	}
	return addr, sc, nil
}
