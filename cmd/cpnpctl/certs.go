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
	"fmt"
	"net"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

// newCertsCommand builds "cpnpctl certs": certificates for a local trial
// (RFC 8921 §13: client and server are mutually authenticated).
func newCertsCommand(s IOStreams, _ *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Make certificates for a local trial",
		RunE:  runGroup,
	}
	var (
		force    bool
		clientCN string
		dnsNames []string
		ips      []net.IP
	)
	initCmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Write a CA, a server and a client certificate into DIR",
		Long: "init writes ca.crt, ca.key, server.crt, server.key, client.crt and client.key into DIR\n" +
			"(created 0700; keys 0600): an ECDSA P-256 CA, a server certificate for localhost, 127.0.0.1\n" +
			"and ::1 (or --dns-name / --ip) and a client certificate whose CN (--client-cn, default\n" +
			"acme) is the identity the server binds orders to. It refuses to overwrite files without\n" +
			"--force. It then prints the commands that start cpnp-server and quote with cpnpctl.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir := args[0]
			opts := pki.InitOptions{Force: force, ClientCommonName: clientCN}
			if len(dnsNames) > 0 {
				opts.ServerDNSNames = dnsNames
			}
			if len(ips) > 0 {
				opts.ServerIPs = ips
			}
			files, err := pki.InitDir(dir, opts)
			if err != nil {
				return fmt.Errorf("certs init: %w", err)
			}
			fmt.Fprintf(s.Out, "Wrote into %s:\n", files.Dir)
			for _, f := range []struct{ path, what string }{
				{files.CACert, "CA certificate (--client-ca of cpnp-server, --ca of cpnpctl)"},
				{files.CAKey, "CA private key (keep it safe; issues more certificates)"},
				{files.ServerCert, "server certificate (--tls-cert)"},
				{files.ServerKey, "server private key (--tls-key)"},
				{files.ClientCert, "client certificate (--cert)"},
				{files.ClientKey, "client private key (--key)"},
			} {
				fmt.Fprintf(s.Out, "  %-28s %s\n", filepath.Base(f.path), f.what)
			}
			for _, c := range files.Clients {
				fmt.Fprintf(s.Out, "Client %s has identity %q (tenants[].identity in the server policy).\n", c.Name, c.Identity)
			}
			server := "localhost"
			if len(dnsNames) > 0 {
				server = dnsNames[0]
			}
			fmt.Fprintf(s.Out, "\nNext:\n"+
				"  cpnp-server --listen 127.0.0.1:8921 --tls-cert %[1]s --tls-key %[2]s --client-ca %[3]s \\\n"+
				"              --data-dir ./data --policy policy.yaml --admin-listen 127.0.0.1:8922\n"+
				"  cpnpctl --server 127.0.0.1:8921 --server-name %[4]s --ca %[3]s --cert %[5]s --key %[6]s \\\n"+
				"          quote -f order.yaml --wait\n",
				files.ServerCert, files.ServerKey, files.CACert, server, files.ClientCert, files.ClientKey)
			return nil
		},
	}
	initCmd.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	initCmd.Flags().StringVar(&clientCN, "client-cn", pki.DefaultClientCommonName, "common name (identity) of the client certificate")
	initCmd.Flags().StringSliceVar(&dnsNames, "dns-name", nil, "DNS name of the server certificate (repeatable; default localhost)")
	initCmd.Flags().IPSliceVar(&ips, "ip", nil, "IP address of the server certificate (repeatable; default 127.0.0.1 and ::1)")
	cmd.AddCommand(initCmd)
	return cmd
}
