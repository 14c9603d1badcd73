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

package server_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	cpnpclient "github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	pol, err := policy.New(testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	st := &store.Store{} // never used: Validate only checks presence
	valid := server.Config{Policy: pol, Store: st}
	tests := map[string]struct {
		mutate func(*server.Config)
		fields []string
	}{
		"valid":              {mutate: func(*server.Config) {}},
		"no policy":          {mutate: func(c *server.Config) { c.Policy = nil }, fields: []string{"policy"}},
		"no store":           {mutate: func(c *server.Config) { c.Store = nil }, fields: []string{"store"}},
		"bad machine":        {mutate: func(c *server.Config) { c.Machine.ExpectedOfferDelay = -time.Second }, fields: []string{"machine"}},
		"bad dup cache":      {mutate: func(c *server.Config) { c.DupCache.TTL = -1 }, fields: []string{"dupCache"}},
		"bad fail limit":     {mutate: func(c *server.Config) { c.FailLimit.Burst = -1 }, fields: []string{"failLimit"}},
		"bad prefix":         {mutate: func(c *server.Config) { c.AllowedSources = []netip.Prefix{{}} }, fields: []string{"allowedSources[0]"}},
		"negative retention": {mutate: func(c *server.Config) { c.TerminalRetention = -time.Hour }, fields: []string{"terminalRetention"}},
		"negative queues": {
			mutate: func(c *server.Config) { c.InboxSize, c.SendQueueSize = -1, -1 },
			fields: []string{"inboxSize", "sendQueueSize"},
		},
		// Child orders (RFC 8921 §8.8).
		"bad upstream": {
			mutate: func(c *server.Config) {
				c.Upstreams = map[string]cpnpclient.ServerConfig{"b": {Address: "no-port"}, "": {Address: "127.0.0.1:1"}}
			},
			fields: []string{"upstreams", "upstreams[b]"},
		},
		"negative child times": {
			mutate: func(c *server.Config) { c.ChildOfferValidity, c.ChildResponseTime = -1, -1 },
			fields: []string{"childOfferValidity", "childResponseTime"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := valid
			tc.mutate(&c)
			err := c.Validate()
			if len(tc.fields) == 0 {
				if err != nil {
					t.Fatalf("Validate: got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, server.ErrInvalidConfig) {
				t.Fatalf("Validate: got %v, want ErrInvalidConfig", err)
			}
			for _, f := range tc.fields {
				if !strings.Contains(err.Error(), f+": ") {
					t.Errorf("Validate: got %q, want it to name %s", err, f)
				}
			}
			var ce *server.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.fields[0] {
				t.Errorf("errors.As ConfigError: got %+v, want field %s", ce, tc.fields[0])
			}
			if _, err := server.New(c); !errors.Is(err, server.ErrInvalidConfig) {
				t.Errorf("New: got %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestOrderError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *server.OrderError
		want string
		is   error
	}{
		{&server.OrderError{ProviderOrderID: "po-1", Err: server.ErrOrderNotFound}, `order "po-1": order not found`, server.ErrOrderNotFound},
		{&server.OrderError{ProviderOrderID: "po-1", State: "Completed", Err: server.ErrNotHeld},
			`order "po-1" (state Completed): order not held for administrative validation`, server.ErrNotHeld},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error: got %q, want %q", got, tc.want)
		}
		if !errors.Is(tc.err, tc.is) {
			t.Errorf("errors.Is(%v, %v): got false, want true", tc.err, tc.is)
		}
	}
}

// TestNewFailsOnDuplicateMetrics: registering the engine's metrics twice
// with one registry is reported.
func TestNewFailsOnDuplicateMetrics(t *testing.T) {
	e := newEnv(t)
	pol, err := policy.New(testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	_, err = server.New(server.Config{Policy: pol, Store: e.st, Registerer: e.reg})
	if err == nil || !strings.Contains(err.Error(), "register metrics") {
		t.Errorf("New with a registry that has the metrics: got %v, want a registration error", err)
	}
}

// TestServeTLS: one engine serves DTLS and TLS listeners at once; a client
// over TLS negotiates like one over DTLS, and both see the same orders.
// Reference: RFC 8921 §8.1 (transport); DESIGN §2 (DTLS and TLS).
func TestServeTLS(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	l, err := transport.ListenTLS("127.0.0.1:0", e.pki.serverTransport())
	if err != nil {
		t.Fatalf("listen TLS: %v", err)
	}
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- e.srv.Serve(ctx, l) }()
	dctx, dcancel := context.WithTimeout(context.Background(), waitTimeout)
	defer dcancel()
	conn, err := transport.DialTLS(dctx, l.Addr().String(), e.pki.clientTransport(idGlobex))
	if err != nil {
		t.Fatalf("dial TLS: %v", err)
	}
	c := &client{t: t, e: e, identity: idGlobex, conn: conn}
	n := c.newOrder()
	n.negotiate(reqCPD(10, 10), nil)
	e.waitState(n.poid, fsm.ServerCompleted)
	// Cancelling Serve's context stops that listener only.
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve(TLS) after its context ended: got %v, want nil", err)
	}
	_ = conn.Close()
	e.dial(idAcme).probe()
}

// TestDefaultsAndRealClock: an engine with every optional field at its
// default (real clock, crypto/rand, no metrics, no logger) negotiates.
func TestDefaultsAndRealClock(t *testing.T) {
	e := newEnv(t, withConfig(func(c *server.Config) {
		*c = server.Config{Policy: c.Policy, Store: c.Store,
			DupCache: session.DupCacheConfig{}, Machine: fsm.DefaultServer()}
	}))
	c := e.dial(idAcme)
	n := c.newOrder()
	n.quote(reqCPD(1, 1), nil)
	n.expectOffer()
	n.agree()
}
