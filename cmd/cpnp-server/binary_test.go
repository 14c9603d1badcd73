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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cpnp-server once per test run into a temporary directory.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cpnp-server-test-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cpnp-server")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out) + err.Error())
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// proc is a running cpnp-server process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *syncBuffer
	dtls   string
	admin  string
	exited chan error
}

func start(t *testing.T, f *fixture, extra ...string) *proc {
	t.Helper()
	p := &proc{t: t, stderr: newSyncBuffer(), exited: make(chan error, 1)}
	p.cmd = exec.Command(binary(t), f.args(extra...)...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			if err := <-p.exited; err == nil {
				t.Logf("cpnp-server exited with status 0 before it was killed")
			}
		}
		if t.Failed() {
			t.Logf("cpnp-server logs:\n%s", p.stderr.String())
		}
	})
	line := p.stderr.waitLine(t, "Started")
	p.dtls, _ = line["dtls"].(string)
	p.admin, _ = line["admin"].(string)
	if p.dtls == "" || p.admin == "" {
		t.Fatalf("Started line without addresses: %v", line)
	}
	return p
}

// kill sends SIGKILL (kill -9) and waits for the process to die.
func (p *proc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("SIGKILL: %v", err)
	}
	if err := <-p.exited; err == nil {
		p.t.Fatalf("exit after SIGKILL: got status 0, want killed")
	}
}

// TestKillRestart is the acceptance test of RFC 8921 §8.11 and DESIGN §4
// ("after a kill -9 and restart it answers in-flight transactions correctly
// and keeps agreements"): the real binary is killed with SIGKILL in the
// middle of negotiations and after an agreement, restarted on the same
// --data-dir (on a new port: the client reconnects), and
//   - an open offer can still be accepted,
//   - an ACCEPT whose ACK was lost in the kill is answered with the ACK,
//   - a repeated ACCEPT of a completed agreement gets the stored ACK,
//   - the agreements are still there (admin list).
//
// Then SIGTERM stops it with exit status 0 and the store closed cleanly.
func TestKillRestart(t *testing.T) {
	f := newFixture(t)
	p := start(t, f)
	c := dial(t, f, p.dtls)

	agreed := newOrder() // completed before the first kill
	agreed.quote(c)
	c.send(agreed.accept)
	ack := c.expect(wire.MethodAck)

	open := newOrder() // an open offer at the kill
	open.quote(c)

	inflight := newOrder() // ACCEPT sent, killed before the ACK is read
	inflight.quote(c)
	c.send(inflight.accept)
	p.kill()

	p = start(t, f)
	c = dial(t, f, p.dtls)
	c.send(inflight.accept)
	if m := c.expect(wire.MethodAck); m.CPD == nil || m.ProviderOrderID != inflight.poid {
		t.Errorf("ACK to the in-flight ACCEPT: got %v", m)
	}
	c.send(agreed.accept)
	if m := c.expect(wire.MethodAck); m.Seq != ack.Seq || m.ProviderOrderID != agreed.poid {
		t.Errorf("repeated ACCEPT: got %v, want the stored ACK seq %d", m, ack.Seq)
	}
	c.send(open.accept)
	c.expect(wire.MethodAck)

	p.kill() // after the agreements
	p = start(t, f)
	orders := adminOrders(t, p.admin)
	for _, o := range []*order{agreed, open, inflight} {
		got := orders[o.poid]
		agreement, _ := got["agreement"].(map[string]any)
		if got["state"] != "Completed" || agreement == nil || agreement["active"] != true {
			t.Errorf("order %s after restarts: got %v, want Completed with an active agreement", o.poid, got)
		}
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no exit after SIGTERM")
	}
	if !strings.Contains(p.stderr.String(), `"msg":"Closed the store"`) {
		t.Errorf("the logs do not say the store was closed")
	}
	st, err := store.Open(f.dataDir, store.Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("reopen the store after SIGTERM: %v", err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Errorf("store check: %v", err)
	}
}

// TestBinaryBadFlag: a bad flag exits with status 1 and names the flag.
func TestBinaryBadFlag(t *testing.T) {
	f := newFixture(t)
	cmd := exec.Command(binary(t), f.args("--log-format", "yaml")...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: got %v, want status 1", err)
	}
	if !strings.Contains(string(out), "cpnp-server: flag --log-format") {
		t.Errorf("output: got %q, want it to name --log-format", out)
	}
}
