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
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestFlagErrors: every bad command line is refused with an error that
// names the flag (DESIGN §6: clear errors, exit status 1).
func TestFlagErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := map[string]struct {
		args []string
		want []string
	}{
		"nothing": {nil, []string{"--tls-cert is required", "--tls-key is required", "--client-ca is required",
			"--data-dir is required", "--policy is required"}},
		"unknown flag":       {f.args("--bogus"), []string{"unknown flag: --bogus"}},
		"positional":         {f.args("extra"), []string{`unexpected argument "extra"`}},
		"log format":         {f.args("--log-format", "xml"), []string{`--log-format: must be json or text, got "xml"`}},
		"allow":              {f.args("--allow", "10.0.0.0/8,nope"), []string{`--allow: "nope" is not a CIDR prefix`}},
		"duration":           {f.args("--retrans-timer", "soon"), []string{"--retrans-timer"}},
		"zero duration":      {f.args("--retention", "0s"), []string{"--retention: must be positive"}},
		"datagram limit":     {f.args("--datagram-limit", "100"), []string{"--datagram-limit: must be between 512 and 8000"}},
		"half-open":          {f.args("--max-half-open", "4", "--max-half-open-per-source", "8"), []string{"--max-half-open-per-source: 8 exceeds --max-half-open 4"}},
		"negative retries":   {f.args("--max-retries", "-1"), []string{"--max-retries: must not be negative"}},
		"negative delay":     {f.args("--expected-offer-delay", "-1s"), []string{"--expected-offer-delay: must not be negative"}},
		"negative verbosity": {f.args("-v", "-2"), []string{"-v: must not be negative"}},
		"nothing to serve":   {f.args("--listen", ""), []string{"nothing to serve"}},
		"missing cert":       {f.args("--tls-cert", filepath.Join(f.dir, "none.crt")), []string{"--tls-cert/--tls-key", "none.crt"}},
		"bad client CA":      {f.args("--client-ca", f.policy), []string{"--client-ca", "policy.yaml"}},
		"missing policy":     {f.args("--policy", filepath.Join(f.dir, "none.yaml")), []string{"--policy", "none.yaml"}},
		"bad listen":         {f.args("--listen", "nonsense"), []string{"--listen nonsense"}},
		"bad tls listen":     {f.args("--tls-listen", "nonsense"), []string{"--tls-listen nonsense"}},
		"bad admin listen":   {f.args("--admin-listen", "nonsense"), []string{"--admin-listen nonsense"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			if args != nil && name != "positional" {
				args = append(args, "--data-dir", t.TempDir()) // the last value wins
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr)
			if err == nil {
				t.Fatalf("run %v: got nil, want an error", tc.args)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestPolicyErrors: an invalid policy file is refused with the field path.
// Reference: docs/policy.md; DESIGN §6.
func TestPolicyErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := map[string]struct{ yaml, want string }{
		"unknown field": {"pools:\n- name: wan\n  capacity: {incomingBps: 1, outgoingBps: 1}\n  capacityy: 3\n", "pools[0].capacityy"},
		"bad value":     {"pools:\n- name: wan\n  capacity: {incomingBps: -1, outgoingBps: 1}\n", "pools[0].capacity.incomingBps"},
		"not YAML":      {"pools: [", "--policy"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "policy.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			err := run(context.Background(), f.args("--policy", p, "--data-dir", t.TempDir()), &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--policy") {
				t.Errorf("run: got %v, want an error naming --policy and %s", err, tc.want)
			}
		})
	}
}

// TestDataDirErrors: a data directory that cannot be used is reported with
// the flag; one in use by another server too.
func TestDataDirErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	file := filepath.Join(f.dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), f.args("--data-dir", filepath.Join(file, "sub")), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--data-dir") {
		t.Errorf("data dir under a file: got %v, want an error naming --data-dir", err)
	}
	st, err := store.Open(f.dataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = run(context.Background(), f.args(), &bytes.Buffer{}, &bytes.Buffer{})
	if !errors.Is(err, store.ErrInUse) || !strings.Contains(err.Error(), "--data-dir") {
		t.Errorf("data dir in use: got %v, want ErrInUse naming --data-dir", err)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, flag := range []string{"--listen", "--tls-cert", "--tls-key", "--client-ca", "--data-dir", "--policy",
		"--admin-listen", "--log-format", "--tls-listen", "--allow"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("usage lacks %s:\n%s", flag, stdout.String())
		}
	}
}

// TestRunServes: the command serves DTLS and TLS, answers a negotiation,
// shows it in the admin API and stops cleanly when its context ends
// (SIGTERM), closing the store.
// Reference: RFC 8921 Fig. 6; DESIGN §6 (standalone contract).
func TestRunServes(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := newSyncBuffer()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, f.args("--tls-listen", "127.0.0.1:0", "--log-format", "text", "-v", "1"), &bytes.Buffer{}, stderr)
	}()
	// The text format is not JSON: wait for the line by its text.
	waitFor(t, stderr, "msg=Started")
	text := stderr.String()
	dtls, admin := field(text, "dtls="), field(text, "admin=")
	if dtls == "" || admin == "" || field(text, "tls=") == "" {
		t.Fatalf("Started line lacks addresses:\n%s", text)
	}
	if _, err := os.Stat(f.dataDir); err != nil {
		t.Errorf("--data-dir not created: %v", err)
	}
	c := dial(t, f, dtls)
	o := newOrder()
	o.quote(c)
	c.send(o.accept)
	c.expect(wire.MethodAck)
	if got := adminOrders(t, admin)[o.poid]; got["state"] != "Completed" {
		t.Errorf("admin list: got %v, want %s Completed", got, o.poid)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run after SIGTERM: %v", err)
	}
	for _, want := range []string{"msg=Stopping", `msg="Closed the store"`, "msg=Stopped"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

// waitFor waits until the log contains s.
func waitFor(t *testing.T, b *syncBuffer, s string) {
	t.Helper()
	deadline := timeAfter()
	for {
		b.mu.Lock()
		text, changed := b.buf.String(), b.changed
		b.mu.Unlock()
		if strings.Contains(text, s) {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %q in the logs:\n%s", s, text)
		}
	}
}

// field returns the value of key= in a text log.
func field(text, key string) string {
	i := strings.Index(text, " "+key)
	if i < 0 {
		return ""
	}
	v := text[i+1+len(key):]
	if j := strings.IndexAny(v, " \n"); j >= 0 {
		v = v[:j]
	}
	return v
}
