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
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// realServer runs the server engine of pkg/cpnp/server in-process over
// DTLS, with its admin API on an httptest server: pool "wan" (automatic
// approval) for tenant acme, pool "manual" (manual approval) for initech.
type realServer struct {
	addr  string
	admin string
}

func startRealServer(t *testing.T, certs string) *realServer {
	t.Helper()
	cert, err := pki.LoadKeyPair(filepath.Join(certs, "server.crt"), filepath.Join(certs, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pki.LoadCertPool(filepath.Join(certs, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "data"), store.Options{JournalSize: store.MinJournalSize})
	if err != nil {
		t.Fatal(err)
	}
	gold := policy.QoSClass{Name: "gold", OneWayDelayMs: ptrTo(10.0), DelayVariationMs: ptrTo(2.0), LossRatio: ptrTo(0.0001)}
	pol, err := policy.New(policy.Config{
		Pools: []policy.Pool{
			{Name: "wan", Capacity: policy.Capacity{IncomingBps: 1e9, OutgoingBps: 1e9}, QoSClasses: []policy.QoSClass{gold},
				Approval: policy.Approval{Mode: policy.ApprovalAutomatic}},
			{Name: "manual", Capacity: policy.Capacity{IncomingBps: 1e9, OutgoingBps: 1e9}, QoSClasses: []policy.QoSClass{gold},
				Approval: policy.Approval{Mode: policy.ApprovalManual}},
		},
		Tenants: []policy.Tenant{{Identity: "acme", Pools: []string{"wan"}}, {Identity: "initech", Pools: []string{"manual"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Policy: pol, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	l, err := transport.ListenDTLS("127.0.0.1:0", transport.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	api := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		api.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("close server store: %v", err)
		}
	})
	return &realServer{addr: l.Addr().String(), admin: api.URL}
}

func ptrTo[T any](v T) *T { return &v }

// issueClient writes a client certificate with CN cn, signed by the CA in
// certs, and returns the certificate and key files.
func issueClient(t *testing.T, certs, cn string) (string, string) {
	t.Helper()
	ca, err := pki.LoadCA(filepath.Join(certs, "ca.crt"), filepath.Join(certs, "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ca.IssueClient(cn, "", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	crt, key := filepath.Join(certs, cn+".crt"), filepath.Join(certs, cn+".key")
	if err := os.WriteFile(crt, b.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, b.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return crt, key
}

// goldOrder writes an order file asking for 10 Mb/s each way of QoS class
// gold, which the test policy can offer as is.
func goldOrder(t *testing.T, dir, id string) string {
	t.Helper()
	c := cpd.CPD{Components: []cpd.Component{{
		CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-par-1"}},
		QoS:           &cpd.QoS{Class: "gold"},
		Capacity:      &cpd.Capacity{IncomingBps: cpd.Fixed(10e6), OutgoingBps: cpd.Fixed(10e6)},
	}}}
	js, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, id+".yaml")
	if err := os.WriteFile(p, []byte("customerOrderID: "+id+"\nexpectedResponseTime: 10m\ncpd: "+string(js)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEndToEndWithServerEngine runs cpnpctl against the real server engine:
// automatic acceptance, a refused ACTIVATE, a withdrawal, and an order held
// for administrative validation that `cpnpctl admin approve` releases while
// `quote --wait` waits for its offer, and one that `admin reject` fails.
// Reference: RFC 8921 §8.7 Figure 6, §8.2, §9.2.8, §9.2.10 (FAIL 4, 8),
// §9.2.11, §12.2; DESIGN §6.
func TestEndToEndWithServerEngine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certs := filepath.Join(dir, "certs")
	if r := runCLI(t, nil, "certs", "init", certs); r.code != 0 {
		t.Fatal(r.stderr)
	}
	srv := startRealServer(t, certs)
	base := []string{
		"--server", srv.addr, "--server-name", "localhost", "--ca", filepath.Join(certs, "ca.crt"),
		"--state", filepath.Join(dir, "orders.db"), "--admin", srv.admin, "--timeout", "20s",
	}
	acme := append([]string{"--cert", filepath.Join(certs, "client.crt"), "--key", filepath.Join(certs, "client.key")}, base...)
	crt, key := issueClient(t, certs, "initech")
	initech := append([]string{"--cert", crt, "--key", key}, base...)
	cli := func(flags []string, args ...string) result { return runCLI(t, nil, append(args, flags...)...) }

	r := cli(acme, "quote", "-f", goldOrder(t, dir, "e2e-auto"), "--accept", "auto")
	if r.code != 0 {
		t.Fatalf("quote --accept auto: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "auto quote", r.stdout, "OfferProcessing", "Accepting the offer", "Agreed", "agreement reached", "active")

	r = cli(acme, "activate", "e2e-auto")
	if r.code != 2 || !strings.Contains(r.stderr, "FAIL 8 Unsupported Activation Type") {
		t.Errorf("activate of an immediate agreement: exit %d, stderr %q; want 2 and FAIL 8", r.code, r.stderr)
	}
	r = cli(acme, "withdraw", "e2e-auto")
	if r.code != 0 || !strings.Contains(r.stdout, "agreement withdrawn") {
		t.Errorf("withdraw: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	// Held for administrative validation, approved while quote waits.
	for _, tc := range []struct {
		id, verb string
		code     int
		want     string
	}{
		{"e2e-held", "approve", 0, "Offer for e2e-held"},
		{"e2e-rejected", "reject", 2, "FAIL 4 Administratively prohibited"},
	} {
		done := make(chan result, 1)
		file := goldOrder(t, dir, tc.id)
		go func() { done <- cli(initech, "quote", "-f", file, "--wait") }()
		poid := waitHeld(t, initech, tc.id)
		if a := cli(initech, "admin", tc.verb, poid); a.code != 0 {
			t.Fatalf("admin %s: exit %d: %s", tc.verb, a.code, a.stderr)
		}
		var q result
		select {
		case q = <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("quote --wait did not return")
		}
		if q.code != tc.code || !strings.Contains(q.stdout+q.stderr, tc.want) {
			t.Errorf("quote %s after admin %s: exit %d, want %d and %q\n%s\n%s", tc.id, tc.verb, q.code, tc.code, tc.want, q.stdout, q.stderr)
		}
	}
	r = cli(initech, "accept", "e2e-held")
	if r.code != 0 || !strings.Contains(r.stdout, "agreement reached") {
		t.Errorf("accept after approval: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = cli(initech, "status")
	mustContain(t, "status", r.stdout, "e2e-auto", "e2e-held", "e2e-rejected", "withdrawn", "Completed", "FAIL 4")
}

// waitHeld polls `cpnpctl admin list -o json` until the order of customer
// order identifier id is held, and returns its provider order identifier.
func waitHeld(t *testing.T, flags []string, id string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r := runCLI(t, nil, append([]string{"admin", "list", "-o", "json"}, flags...)...)
		var list struct {
			Orders []map[string]any `json:"orders"`
		}
		if r.code == 0 && json.Unmarshal([]byte(r.stdout), &list) == nil {
			for _, o := range list.Orders {
				if o["customerOrderID"] == id && o["held"] == true {
					return o["providerOrderID"].(string)
				}
			}
		}
		time.Sleep(20 * time.Millisecond) // polling, not an assertion
	}
	t.Fatalf("order %s never held", id)
	return ""
}
