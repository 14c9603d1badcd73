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

package client_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
)

// TestResolveSRV resolves CPNP DNS SRV names: the first target, the source
// domain as the reference identity, the transport from the name, and an
// error for a name without answers, without targets or with the "." target.
// Reference: RFC 8921 §8.1; RFC 2782; RFC 6125 §6.2.1.
func TestResolveSRV(t *testing.T) {
	t.Parallel()
	dnsErr := &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}
	answers := map[string][]*net.SRV{
		"_cpnp._udp.wan.example.net":  {{Target: "cpnp-1.wan.example.net.", Port: 8921, Priority: 10}, {Target: "cpnp-2.wan.example.net.", Port: 8922, Priority: 20}},
		"_cpnp._tcp.wan.example.net.": {{Target: "tls.wan.example.net.", Port: 9921}},
		"_cpnp._udp.empty.example":    {},
		"_cpnp._udp.dot.example":      {{Target: "."}},
	}
	lookup := func(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
		if service != "" || proto != "" {
			t.Errorf("lookup(%q, %q, %q): want the whole name and no service/proto", service, proto, name)
		}
		srvs, ok := answers[name]
		if !ok {
			return "", nil, dnsErr
		}
		return name, srvs, nil
	}
	tests := map[string]struct {
		name                 string
		addr, domain         string
		transport            client.Transport
		wantErr, wantNotAvbl bool
		wantDNS              bool
	}{
		"udp":             {name: "_cpnp._udp.wan.example.net", addr: "cpnp-1.wan.example.net:8921", domain: "wan.example.net", transport: client.TransportDTLS},
		"tcp, fqdn":       {name: "_cpnp._tcp.wan.example.net.", addr: "tls.wan.example.net:9921", domain: "wan.example.net", transport: client.TransportTLS},
		"not an SRV name": {name: "cpnp.example.net:8921", wantErr: true},
		"other service":   {name: "_sip._udp.example.net", wantErr: true},
		"no such name":    {name: "_cpnp._udp.missing.example", wantErr: true, wantDNS: true},
		"no target":       {name: "_cpnp._udp.empty.example", wantErr: true, wantNotAvbl: true},
		"service refused": {name: "_cpnp._udp.dot.example", wantErr: true, wantNotAvbl: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got, want := client.IsSRVName(tc.name), tc.domain != "" || tc.wantDNS || tc.wantNotAvbl; got != want {
				t.Errorf("IsSRVName(%q): got %v, want %v", tc.name, got, want)
			}
			addr, domain, tr, err := client.ResolveSRV(context.Background(), lookup, tc.name)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ResolveSRV(%q): got %s, want an error", tc.name, addr)
				}
				if got := errors.Is(err, client.ErrSRVNotAvailable); got != tc.wantNotAvbl {
					t.Errorf("errors.Is(%v, ErrSRVNotAvailable): got %v, want %v", err, got, tc.wantNotAvbl)
				}
				if got := errors.Is(err, dnsErr); got != tc.wantDNS {
					t.Errorf("errors.Is(%v, the lookup's error): got %v, want %v", err, got, tc.wantDNS)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveSRV(%q): %v", tc.name, err)
			}
			if addr != tc.addr || domain != tc.domain || tr != tc.transport {
				t.Errorf("ResolveSRV(%q): got %s %s %s, want %s %s %s", tc.name, addr, domain, tr, tc.addr, tc.domain, tc.transport)
			}
		})
	}
}
