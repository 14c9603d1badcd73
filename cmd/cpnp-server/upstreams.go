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
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	cpnpclient "github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// srvResolver resolves the DNS SRV name of an upstream (net.Resolver in
// production, a fake in tests).
type srvResolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// upstreamConfigs builds the engine's connections to the child-order
// providers of the policy file (RFC 8921 §8.8; DESIGN §6 "upstreams"):
// the CA bundle, client certificate and key files are loaded now, and a
// DNS SRV address (_cpnp._udp.<domain>, or _cpnp._tcp. for TLS) is
// resolved to its first target, and the server's certificate must then
// name <domain> unless serverName says otherwise. Each error names the field at fault
// (upstreams[i].caFile, ...).
func upstreamConfigs(ctx context.Context, r srvResolver, us []policy.Upstream, handshakeTimeout time.Duration) (map[string]cpnpclient.ServerConfig, error) {
	if len(us) == 0 {
		return nil, nil
	}
	out := make(map[string]cpnpclient.ServerConfig, len(us))
	for i, u := range us {
		field := "upstreams[" + strconv.Itoa(i) + "]"
		sc := cpnpclient.ServerConfig{
			Address:    u.Address,
			ServerName: u.ServerName,
			Transport:  cpnpclient.TransportDTLS,
			Options:    transport.Config{HandshakeTimeout: handshakeTimeout},
		}
		if cpnpclient.IsSRVName(u.Address) {
			addr, domain, t, err := cpnpclient.ResolveSRV(ctx, r.LookupSRV, u.Address)
			if err != nil {
				return nil, fmt.Errorf("%s.%w", field, err)
			}
			sc.Address, sc.Transport = addr, t
			if sc.ServerName == "" {
				sc.ServerName = domain
			}
		}
		if u.CAFile != "" {
			pool, err := pki.LoadCertPool(u.CAFile)
			if err != nil {
				return nil, fmt.Errorf("%s.caFile: %w", field, err)
			}
			sc.RootCAs = pool
		}
		if u.CertFile != "" || u.KeyFile != "" {
			cert, err := pki.LoadKeyPair(u.CertFile, u.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("%s.certFile/keyFile: %w", field, err)
			}
			sc.Certificate = &cert
		}
		if err := sc.Validate(); err != nil {
			return nil, fmt.Errorf("%s (%s): %w", field, u.Name, err)
		}
		out[u.Name] = sc
	}
	return out, nil
}
