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
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cpnpclient "github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
)

// fakeSRV answers every SRV lookup with srv, or err.
type fakeSRV struct {
	srv []*net.SRV
	err error
}

func (f fakeSRV) LookupSRV(context.Context, string, string, string) (string, []*net.SRV, error) {
	return "", f.srv, f.err
}

// TestUpstreamConfigs: the upstreams of policy.yaml become the engine's
// connections to child-order providers, with their CA bundle and client
// certificate loaded, and SRV names resolved.
// Reference: RFC 8921 §8.8, §8.1 (DTLS default; SRV _cpnp._udp), §13
// (mutual authentication); DESIGN §6 (upstreams).
func TestUpstreamConfigs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	resolver := fakeSRV{srv: []*net.SRV{{Target: "b.example.net.", Port: 8921}}}
	type summary struct {
		Address, ServerName string
		Transport           cpnpclient.Transport
		RootCAs, Cert       bool
	}
	tests := []struct {
		name string
		up   policy.Upstream
		want summary
	}{
		{
			name: "host and port with certificates",
			up: policy.Upstream{Name: "b", Address: "127.0.0.1:8921", ServerName: "localhost",
				CAFile: f.files.CACert, CertFile: f.files.ClientCert, KeyFile: f.files.ClientKey},
			want: summary{Address: "127.0.0.1:8921", ServerName: "localhost", Transport: cpnpclient.TransportDTLS, RootCAs: true, Cert: true},
		},
		{
			name: "SRV over UDP",
			up:   policy.Upstream{Name: "b", Address: "_cpnp._udp.example.net"},
			// The SRV's domain, not the target DNS returned (RFC 6125 §6.2.1).
			want: summary{Address: "b.example.net:8921", ServerName: "example.net", Transport: cpnpclient.TransportDTLS},
		},
		{
			name: "SRV over TCP",
			up:   policy.Upstream{Name: "b", Address: "_cpnp._tcp.example.net", ServerName: "cpnp.example.net"},
			want: summary{Address: "b.example.net:8921", ServerName: "cpnp.example.net", Transport: cpnpclient.TransportTLS},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := upstreamConfigs(context.Background(), resolver, []policy.Upstream{tt.up}, time.Second)
			if err != nil {
				t.Fatalf("upstreamConfigs: %v", err)
			}
			sc, ok := got[tt.up.Name]
			if !ok || len(got) != 1 {
				t.Fatalf("got %d configs without %q, want one", len(got), tt.up.Name)
			}
			s := summary{sc.Address, sc.ServerName, sc.Transport, sc.RootCAs != nil, sc.Certificate != nil}
			if diff := cmp.Diff(tt.want, s); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUpstreamConfigErrors: a bad upstream file or address is refused with
// an error that names the field (DESIGN §6: clear errors).
// Reference: RFC 8921 §8.8; DESIGN §6.
func TestUpstreamConfigErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	missing := filepath.Join(f.dir, "none.pem")
	tests := []struct {
		name     string
		up       policy.Upstream
		resolver fakeSRV
		want     []string
	}{
		{"missing CA", policy.Upstream{Name: "b", Address: "127.0.0.1:1", CAFile: missing},
			fakeSRV{}, []string{"upstreams[0].caFile", "none.pem"}},
		{"CA is not PEM", policy.Upstream{Name: "b", Address: "127.0.0.1:1", CAFile: f.policy},
			fakeSRV{}, []string{"upstreams[0].caFile", "policy.yaml"}},
		{"missing key", policy.Upstream{Name: "b", Address: "127.0.0.1:1", CertFile: f.files.ClientCert, KeyFile: missing},
			fakeSRV{}, []string{"upstreams[0].certFile/keyFile", "none.pem"}},
		{"SRV fails", policy.Upstream{Name: "b", Address: "_cpnp._udp.example.net"},
			fakeSRV{err: errors.New("no such host")}, []string{"upstreams[0].address _cpnp._udp.example.net", "no such host"}},
		{"SRV empty", policy.Upstream{Name: "b", Address: "_cpnp._udp.example.net"},
			fakeSRV{}, []string{"upstreams[0].address", "no target"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := upstreamConfigs(context.Background(), tt.resolver, []policy.Upstream{tt.up}, time.Second)
			if err == nil {
				t.Fatal("got nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
