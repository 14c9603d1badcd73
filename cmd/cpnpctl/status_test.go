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
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

var statusT0 = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)

// writeState stores orders in a new state file and returns its path.
func writeState(t *testing.T, orders ...client.Order) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "orders.db")
	bs, err := client.OpenBoltStore(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	for _, o := range orders {
		if err := bs.Save(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// completedOrder has an active agreement; failedOrder ended with FAIL 5.
func completedOrder() client.Order {
	fo := fsm.NewClientOrder("co-done", fsm.Request{CPD: cpd.Sample()}, true)
	fo.State = fsm.ClientCompleted
	fo.ProviderOrderID = "po-9"
	fo.Agreement = &fsm.Agreement{CPD: cpd.SampleConcrete(), Nonce: "6512bd43d9caa6e02c990b0a82652dca", Active: true, Since: statusT0.Add(time.Minute)}
	return client.Order{Server: "127.0.0.1:8921", FSM: fo, CreatedAt: statusT0, UpdatedAt: statusT0.Add(time.Minute),
		History: []fsm.Transition{
			{From: "AwaitingProcessing", To: "PQOSent", Cause: "Quote", Reason: "QuotationSent", At: statusT0},
			{From: "AcceptSent", To: "Completed", Cause: "ACK", Reason: "Agreed", At: statusT0.Add(time.Minute)},
		}}
}

func failedOrder() client.Order {
	fo := fsm.NewClientOrder("co-fail", fsm.Request{CPD: cpd.Sample()}, true)
	fo.State = fsm.ClientCancelled
	fo.ProviderOrderID = "po-10"
	fo.Failure = &fsm.Failure{StatusCode: wire.StatusOutOfResources, Reason: "Failed", Txn: fsm.TxnQuotation, At: statusT0.Add(2 * time.Hour)}
	return client.Order{Server: "127.0.0.1:8921", FSM: fo, CreatedAt: statusT0.Add(time.Hour), UpdatedAt: statusT0.Add(2 * time.Hour)}
}

// TestStatusOutputs prints the state file as a table, JSON and YAML, for
// every order and for one.
// Reference: RFC 8921 §8.11.1 (states), §8.11 (timestamps of state changes).
func TestStatusOutputs(t *testing.T) {
	t.Parallel()
	state := writeState(t, failedOrder(), completedOrder())

	r := runCLI(t, nil, "status", "--state", state)
	if r.code != 0 {
		t.Fatalf("status: exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	want := []string{
		`^ORDER\s+SERVER\s+STATE\s+PROVIDER ORDER\s+AGREEMENT\s+FAILURE$`,
		`^co-done\s+127\.0\.0\.1:8921\s+Completed\s+po-9\s+active\s+-$`,
		`^co-fail\s+127\.0\.0\.1:8921\s+Cancelled\s+po-10\s+-\s+Failed: FAIL 5 Out of Resources$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("status table has %d lines, want %d:\n%s", len(lines), len(want), r.stdout)
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %s", i, lines[i], re)
		}
	}

	r = runCLI(t, nil, "status", "co-done", "--state", state)
	mustContain(t, "status co-done", r.stdout, "Order:", "co-done", "Provider order:", "po-9", "Agreement:", "active",
		"Agreed CPD:", "link_identifier: pe1-par:xe-0/0/1", "History:", "QuotationSent", "Agreed")

	r = runCLI(t, nil, "status", "--state", state, "-o", "json")
	var list struct {
		Orders []orderView `json:"orders"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r.stdout)
	}
	var ids []string
	for _, o := range list.Orders {
		ids = append(ids, o.CustomerOrderID+"/"+o.State)
	}
	if diff := cmp.Diff([]string{"co-done/Completed", "co-fail/Cancelled"}, ids); diff != "" {
		t.Errorf("json orders (-want +got):\n%s", diff)
	}
	if f := list.Orders[1].Failure; f == nil || f.StatusCode != 5 || f.Status != "Out of Resources" || f.Reason != "Failed" {
		t.Errorf("json failure = %+v", f)
	}
	if strings.Contains(r.stdout, "6512bd43d9caa6e02c990b0a82652dca") {
		t.Errorf("status -o json shows the agreement's nonce")
	}

	r = runCLI(t, nil, "status", "co-done", "--state", state, "-o", "yaml")
	var one orderView
	if err := yaml.Unmarshal([]byte(r.stdout), &one); err != nil {
		t.Fatalf("status -o yaml: %v\n%s", err, r.stdout)
	}
	if one.Agreement == nil || !one.Agreement.Active || !cpd.Equal(one.Agreement.CPD, cpd.SampleConcrete()) || len(one.History) != 2 {
		t.Errorf("yaml order = %+v", one)
	}

	r = runCLI(t, nil, "status", "co-none", "--state", state)
	if r.code != 1 || !strings.Contains(r.stderr, "order co-none not found in "+state) {
		t.Errorf("unknown order: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestStatusWithoutStateFile lists nothing and creates nothing.
func TestStatusWithoutStateFile(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "sub", "orders.db")
	r := runCLI(t, nil, "status", "--state", state)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "ORDER  SERVER  STATE  PROVIDER ORDER  AGREEMENT  FAILURE" {
		t.Errorf("status without a state file: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(state); err == nil {
		t.Errorf("status created the state file")
	}
	if r := runCLI(t, nil, "status", "x", "--state", state); r.code != 1 || !strings.Contains(r.stderr, "no state file") {
		t.Errorf("status x without a state file: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestCertsInit writes the trial PKI, names the files and the next
// commands, and refuses to overwrite without --force.
// Reference: RFC 8921 §13 (mutual authentication).
func TestCertsInit(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "certs")
	r := runCLI(t, nil, "certs", "init", dir, "--client-cn", "globex")
	if r.code != 0 {
		t.Fatalf("certs init: exit %d: %s", r.code, r.stderr)
	}
	for name, perm := range map[string]fs.FileMode{
		"ca.crt": 0o644, "ca.key": 0o600, "server.crt": 0o644, "server.key": 0o600, "client.crt": 0o644, "client.key": 0o600,
	} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != perm {
			t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), perm)
		}
		mustContain(t, "certs init output", r.stdout, name)
	}
	mustContain(t, "certs init output", r.stdout, `identity "globex"`, "cpnp-server --listen 127.0.0.1:8921",
		"--client-ca "+filepath.Join(dir, "ca.crt"), "quote -f order.yaml --wait")
	cert, err := pki.LoadKeyPair(filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	if id := pki.Identity(cert.Leaf); id != "globex" {
		t.Errorf("client identity %q, want globex", id)
	}

	again := runCLI(t, nil, "certs", "init", dir)
	if again.code != 1 || !strings.Contains(again.stderr, filepath.Join(dir, "ca.crt")) {
		t.Errorf("second certs init: exit %d, stderr %q; want 1 naming ca.crt", again.code, again.stderr)
	}
	if forced := runCLI(t, nil, "certs", "init", dir, "--force", "--dns-name", "cpnp.example", "--ip", "192.0.2.1"); forced.code != 0 {
		t.Errorf("certs init --force: exit %d: %s", forced.code, forced.stderr)
	}
	srv, err := pki.LoadKeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"cpnp.example"}, srv.Leaf.DNSNames); diff != "" || len(srv.Leaf.IPAddresses) != 1 {
		t.Errorf("server SANs %v %v", srv.Leaf.DNSNames, srv.Leaf.IPAddresses)
	}
}

// fakeAdmin serves the admin API of cpnp-server as docs/server.md
// describes it: GET /admin/orders, POST /admin/orders/{id}/approve|reject.
func fakeAdmin(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /admin/orders", func(w http.ResponseWriter, _ *http.Request) {
		write(w, http.StatusOK, map[string]any{"orders": []map[string]any{
			{"providerOrderID": "po-1", "customerOrderID": "co-1", "identity": "acme", "state": "AwaitingProcessing", "held": true,
				"decision": "above the approval threshold", "future": 1},
			{"providerOrderID": "po-2", "customerOrderID": "co-2", "identity": "globex", "state": "Completed"},
		}})
	})
	mux.HandleFunc("POST /admin/orders/{id}/approve", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "po-1" {
			write(w, http.StatusNotFound, map[string]any{"error": "order " + r.PathValue("id") + " not found", "status": 404})
			return
		}
		write(w, http.StatusOK, map[string]any{"providerOrderID": "po-1", "state": "OfferProposed"})
	})
	mux.HandleFunc("POST /admin/orders/{id}/reject", func(w http.ResponseWriter, _ *http.Request) {
		write(w, http.StatusConflict, map[string]any{"error": "order po-2 is not held", "status": 409})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestAdmin lists, approves and rejects through the admin API.
// Reference: RFC 8921 §8.2, §12.2 (administrative validation).
func TestAdmin(t *testing.T) {
	t.Parallel()
	api := fakeAdmin(t)
	r := runCLI(t, nil, "admin", "list", "--admin", api.URL)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 ||
		!regexp.MustCompile(`^po-1\s+co-1\s+acme\s+AwaitingProcessing\s+yes\s+above the approval threshold$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^po-2\s+co-2\s+globex\s+Completed\s+no\s+-$`).MatchString(lines[2]) {
		t.Errorf("admin list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "admin", "list", "--admin", api.URL, "-o", "json")
	mustContain(t, "admin list -o json", r.stdout, `"providerOrderID": "po-1"`, `"future": 1`)
	r = runCLI(t, nil, "admin", "list", "--admin", api.URL, "-o", "yaml")
	mustContain(t, "admin list -o yaml", r.stdout, "providerOrderID: po-2")

	if r := runCLI(t, nil, "admin", "approve", "po-1", "--admin", api.URL); r.code != 0 ||
		!strings.Contains(r.stdout, "Order po-1 approved; it is OfferProposed.") {
		t.Errorf("admin approve: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, nil, "admin", "approve", "po-9", "--admin", api.URL); r.code != 1 ||
		!strings.Contains(r.stderr, "404 Not Found: order po-9 not found") {
		t.Errorf("admin approve of an unknown order: exit %d %q", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "admin", "reject", "po-2", "--admin", api.URL); r.code != 1 ||
		!strings.Contains(r.stderr, "409 Conflict: order po-2 is not held") {
		t.Errorf("admin reject of an order not held: exit %d %q", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "admin", "list", "--admin", "ftp://x"); r.code != 1 || !strings.Contains(r.stderr, `flag --admin "ftp://x"`) {
		t.Errorf("bad --admin: exit %d %q", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "admin", "bogus"); r.code != 1 || !strings.Contains(r.stderr, `unknown command "bogus"`) {
		t.Errorf("admin bogus: exit %d %q", r.code, r.stderr)
	}
}

// TestExitCode maps errors to the documented exit statuses.
func TestExitCode(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  error
		want int
	}{
		"nil":     {nil, 0},
		"plain":   {os.ErrNotExist, 1},
		"failed":  {&exitError{code: statusFailed, err: os.ErrClosed}, 2},
		"wrapped": {fmt.Errorf("verb: %w", &exitError{code: statusFailed, err: os.ErrClosed}), 2},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}
