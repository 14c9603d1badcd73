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
package transport

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	tests := map[string]struct {
		cfg     Config
		wantErr string // substring; "" means valid
	}{
		"zero value":                            {Config{}, ""},
		"explicit settings":                     {Config{HandshakeTimeout: time.Second, IdleTimeout: time.Minute, MaxHalfOpen: 10, MaxHalfOpenPerSource: 10, DatagramLimit: 8000}, ""},
		"negative handshake timeout":            {Config{HandshakeTimeout: -1}, "handshakeTimeout"},
		"negative idle timeout":                 {Config{IdleTimeout: -1}, "idleTimeout"},
		"negative maxHalfOpen":                  {Config{MaxHalfOpen: -1}, "maxHalfOpen must not"},
		"negative per source":                   {Config{MaxHalfOpenPerSource: -1}, "maxHalfOpenPerSource must not"},
		"per source above global":               {Config{MaxHalfOpen: 4, MaxHalfOpenPerSource: 5}, "exceeds maxHalfOpen"},
		"per source default above small global": {Config{MaxHalfOpen: 4}, "maxHalfOpenPerSource 8 exceeds"},
		"datagram limit above 8000":             {Config{DatagramLimit: 8001}, "datagramLimit 8001"},
		"datagram limit below min":              {Config{DatagramLimit: 100}, "datagramLimit 100"},
		"datagram limit at min":                 {Config{DatagramLimit: MinDatagramLimit}, ""},
		"message size above 1 MiB":              {Config{Reassembly: ReassemblyLimits{MaxMessageSize: MaxMessageSize + 1}}, "maxMessageSize"},
		"one fragment":                          {Config{Reassembly: ReassemblyLimits{MaxFragments: 1}}, "maxFragments 1"},
		"negative partials":                     {Config{Reassembly: ReassemblyLimits{MaxPartials: -1}}, "maxPartials"},
		"negative reassembly timer":             {Config{Reassembly: ReassemblyLimits{Timeout: -1}}, "timeout"},
		"certificate without key":               {Config{Certificates: []tls.Certificate{{Certificate: p.server.Certificate}}}, "no private key"},
		"empty certificate":                     {Config{Certificates: []tls.Certificate{{PrivateKey: p.server.PrivateKey}}}, "empty certificate chain"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate: got %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate: got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestConfigValidateServer(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	good := p.serverConfig()
	noCert := good
	noCert.Certificates = nil
	noCAs := good
	noCAs.ClientCAs = nil
	insecure := noCAs
	insecure.InsecureNoClientAuth = true
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"complete", good, ""},
		{"no certificate", noCert, "needs a certificate"},
		{"no client CAs", noCAs, "clientCAs is required"},
		{"no client CAs, explicitly insecure", insecure, ""},
	} {
		err := tc.cfg.validateServer()
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.wantErr)
		}
		if tc.wantErr != "" {
			if _, lerr := ListenDTLS("127.0.0.1:0", tc.cfg); lerr == nil {
				t.Errorf("%s: ListenDTLS accepted the config", tc.name)
			}
			if _, lerr := ListenTLS("127.0.0.1:0", tc.cfg); lerr == nil {
				t.Errorf("%s: ListenTLS accepted the config", tc.name)
			}
		}
	}
}

// Reference: DESIGN §3 "Settled details" (defaults).
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	got := Config{}.withDefaults()
	want := struct {
		Handshake, Idle         time.Duration
		HalfOpen, PerSource, DL int
		Reassembly              ReassemblyLimits
	}{
		10 * time.Second, 5 * time.Minute, 1024, 8, 1200,
		ReassemblyLimits{MaxPartials: 4, MaxMessageSize: 1 << 20, MaxFragments: 2048, Timeout: 10 * time.Second},
	}
	gotV := struct {
		Handshake, Idle         time.Duration
		HalfOpen, PerSource, DL int
		Reassembly              ReassemblyLimits
	}{got.HandshakeTimeout, got.IdleTimeout, got.MaxHalfOpen, got.MaxHalfOpenPerSource, got.DatagramLimit, got.Reassembly}
	if diff := cmp.Diff(want, gotV); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if got.Logger.Enabled() {
		t.Error("default logger is enabled, want a discarding logger")
	}
}

func TestDialRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	bad := Config{DatagramLimit: 9000}
	if _, err := DialDTLS(t.Context(), "127.0.0.1:1", bad); err == nil || !strings.Contains(err.Error(), "datagramLimit") {
		t.Errorf("DialDTLS: got %v, want a config error", err)
	}
	if _, err := DialTLS(t.Context(), "127.0.0.1:1", bad); err == nil || !strings.Contains(err.Error(), "datagramLimit") {
		t.Errorf("DialTLS: got %v, want a config error", err)
	}
	if _, err := NewPool(PoolConfig{}); err == nil {
		t.Error("NewPool without Dial: got nil error")
	}
	var ve interface{ Unwrap() []error }
	err := Config{HandshakeTimeout: -1, IdleTimeout: -1}.Validate()
	if !errors.As(err, &ve) || len(ve.Unwrap()) != 2 {
		t.Errorf("Validate with two problems: got %v, want both joined", err)
	}
}
