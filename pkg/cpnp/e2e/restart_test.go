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

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// standalonePolicy is the policy.yaml of DESIGN §6.
const standalonePolicy = `pools:
- name: wan
  capacity: {incomingBps: 1000000000, outgoingBps: 1000000000}
  qosClasses:
  - {name: gold,   oneWayDelayMs: 10, delayVariationMs: 2, lossRatio: 0.0001}
  - {name: silver, oneWayDelayMs: 40, delayVariationMs: 10, lossRatio: 0.001}
  availabilityPercent: 99.95
  approval: {mode: Automatic}
  offerValidity: 5m
tenants:
- identity: "acme"
  pools: [wan]
  maxOutgoingBps: 500000000
upstreams: []
`

// standalone is a cpnp-server binary with its files: certificates from
// pki.InitDir, the DESIGN §6 policy and a data directory.
type standalone struct {
	t       *testing.T
	bin     string
	files   pki.Files
	policy  string
	dataDir string
}

// newStandalone builds cmd/cpnp-server into t.TempDir() and writes its
// files.
func newStandalone(t *testing.T) *standalone {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the cpnp-server binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "cpnp-server")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/cpnp-dev/cpnp-operator/cmd/cpnp-server").CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/cpnp-server: %v\n%s", err, out)
	}
	files, err := pki.InitDir(filepath.Join(dir, "certs"), pki.InitOptions{})
	if err != nil {
		t.Fatalf("certificates: %v", err)
	}
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(standalonePolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	return &standalone{t: t, bin: bin, files: files, policy: pol, dataDir: filepath.Join(dir, "data")}
}

// clientCert loads the client certificate (CN acme) that InitDir wrote.
func (s *standalone) clientCert() *tls.Certificate {
	s.t.Helper()
	c, err := pki.LoadKeyPair(s.files.ClientCert, s.files.ClientKey)
	if err != nil {
		s.t.Fatal(err)
	}
	return &c
}

// process is one run of the binary.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *logBuffer
	done   chan struct{} // closed once the process exited and waitErr is set
	// waitErr is cmd.Wait's result; read it only after done is closed.
	waitErr error
	dtls    string
	admin   string
}

// start runs the binary on the DESIGN §6 flags, DTLS on listen, and waits
// for its "Started" log line.
func (s *standalone) start(listen string) *process {
	s.t.Helper()
	p := &process{t: s.t, stderr: &logBuffer{changed: make(chan struct{})}, done: make(chan struct{})}
	p.cmd = exec.Command(s.bin,
		"--listen", listen,
		"--tls-cert", s.files.ServerCert, "--tls-key", s.files.ServerKey,
		"--client-ca", s.files.CACert,
		"--data-dir", s.dataDir,
		"--policy", s.policy,
		"--admin-listen", "127.0.0.1:0",
		"--log-format", "json")
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		s.t.Fatalf("start cpnp-server: %v", err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	s.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if s.t.Failed() {
			s.t.Logf("cpnp-server (pid %d) logs:\n%s", p.cmd.Process.Pid, p.stderr.String())
		}
	})
	line := p.stderr.waitLine(s.t, "Started", p)
	p.dtls, _ = line["dtls"].(string)
	p.admin, _ = line["admin"].(string)
	if p.dtls == "" || p.admin == "" {
		s.t.Fatalf("Started line without addresses: %v", line)
	}
	return p
}

// kill sends SIGKILL (kill -9) and waits for the process to die.
func (p *process) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("SIGKILL: %v", err)
	}
	<-p.done
	if p.waitErr == nil {
		p.t.Fatalf("exit after SIGKILL: got status 0, want killed")
	}
}

// terminate sends SIGTERM and expects a graceful exit with status 0.
func (p *process) terminate() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
		if p.waitErr != nil {
			p.t.Errorf("exit after SIGTERM: %v, want status 0", p.waitErr)
		}
	case <-time.After(waitTimeout):
		p.t.Fatalf("no exit within %v of SIGTERM", waitTimeout)
	}
}

// orders lists the server's orders through the admin API, by customer
// order identifier.
func (p *process) orders() map[string]map[string]any {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.admin+"/admin/orders", nil)
	if err != nil {
		p.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("GET /admin/orders: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v struct {
		Orders []map[string]any `json:"orders"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil {
		p.t.Fatalf("GET /admin/orders: %d %s", resp.StatusCode, body)
	}
	out := map[string]map[string]any{}
	for _, o := range v.Orders {
		id, _ := o["customerOrderID"].(string)
		out[id] = o
	}
	return out
}

// logBuffer collects a process's standard error and waits for lines.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return n, err
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLine waits for a JSON log line of p whose msg is msg, failing if the
// process exits first.
func (b *logBuffer) waitLine(t *testing.T, msg string, p *process) map[string]any {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		text, changed := b.buf.String(), b.changed
		b.mu.Unlock()
		sc := bufio.NewScanner(strings.NewReader(text))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
				return m
			}
		}
		select {
		case <-changed:
		case <-p.done:
			t.Fatalf("cpnp-server exited (%v) before logging %q:\n%s", p.waitErr, msg, text)
		case <-deadline.C:
			t.Fatalf("no log line %q within %v:\n%s", msg, waitTimeout, text)
		}
	}
}

// agreed reports whether the admin API shows the order Completed with an
// active agreement.
func agreed(o map[string]any) bool {
	a, _ := o["agreement"].(map[string]any)
	return o["state"] == string(fsm.ServerCompleted) && a != nil && a["active"] == true
}

// TestKillRestartStandaloneServer is the persistence acceptance test with
// the real cpnp-server binary and the real client engine: the server is
// killed with SIGKILL in the middle of negotiations (one offer open, one
// ACCEPT in flight) and restarted on the same --data-dir and address; the
// client engine completes both negotiations, the agreements survive a
// second SIGKILL after they were reached, and then the client withdraws one.
// Reference: RFC 8921 §8.11 ("permanent storage"), §11.4, §9.2.4, §9.2.8;
// DESIGN §4 "Persistence" (after a kill -9 and restart the server answers
// in-flight transactions correctly and keeps agreements).
func TestKillRestartStandaloneServer(t *testing.T) {
	sa := newStandalone(t)
	cpnptest.CheckGoroutines(t)
	srv := sa.start("127.0.0.1:0")
	addr := srv.dtls
	roots, err := pki.LoadCertPool(sa.files.CACert)
	if err != nil {
		t.Fatal(err)
	}
	// The real clock, RETRANS_TIMER 1 s doubling up to 4 s, and re-dials
	// every 100-500 ms while the server is down. The client learns that the
	// restarted server lost the DTLS association only from the silence
	// (client.MuxConfig.StaleAfter, 5 s: at the third send), so two more
	// retries than the default 3 leave a margin in case the first message
	// on the new association is lost (TestEarlyApplicationData).
	cli := startClient(t, nil, addr, clientOptions{
		machine: fsm.Client{Retransmit: session.Retransmit{Timer: time.Second, Backoff: 2, MaxRetries: 5, MaxTimer: 4 * time.Second}},
		cert:    sa.clientCert(), roots: roots, serverName: pki.DefaultServerName,
		minBackoff: 100 * time.Millisecond, maxBackoff: 500 * time.Millisecond,
		options: transport.Config{HandshakeTimeout: 5 * time.Second},
	})
	cli.connect()
	ctx := context.Background()
	now := time.Now()

	done := cli.agree("kill-agreed", gold(10, 10), now, nil).ID() // reached before the first kill
	open := cli.quote("kill-open", gold(10, 10), now, nil)        // offer open at the kill
	cli.waitReason(open, "OfferProcessing")
	inflight := cli.quote("kill-inflight", gold(10, 10), now, nil) // ACCEPT in flight at the kill
	cli.waitReason(inflight, "OfferProcessing")
	if err := cli.eng.Accept(ctx, inflight); err != nil {
		t.Fatalf("Accept %s: %v", inflight, err)
	}
	srv.kill()

	// While the server is down the client accepts the open offer; its
	// ACCEPT is retransmitted (§11.4) until the restarted server answers.
	if err := cli.eng.Accept(ctx, open); err != nil {
		t.Fatalf("Accept %s while the server is down: %v", open, err)
	}
	srv = sa.start(addr)
	for _, id := range []string{open, inflight} {
		o := cli.order(id)
		if o.State() != fsm.ClientCompleted {
			o = *cli.waitReason(id, "Agreed").Order
		}
		if o.FSM.Agreement == nil || !o.FSM.Agreement.Active {
			t.Errorf("client order %s after the restart: got %s %+v, want an active agreement", id, o.State(), o.FSM.Agreement)
		}
	}
	orders := srv.orders()
	for _, id := range []string{done, open, inflight} {
		if !agreed(orders[id]) {
			t.Errorf("server order %s after the first restart: got %v, want Completed with an active agreement", id, orders[id])
		}
	}

	srv.kill() // after the agreements
	srv = sa.start(addr)
	orders = srv.orders()
	for _, id := range []string{done, open, inflight} {
		if !agreed(orders[id]) {
			t.Errorf("server order %s after the second restart: got %v, want Completed with an active agreement", id, orders[id])
		}
	}
	if err := cli.eng.Withdraw(ctx, done); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	if ev := cli.waitReason(done, "WithdrawAcknowledged"); !ev.Order.FSM.WithdrawAcked {
		t.Errorf("client order after the withdrawal: got %+v, want the WITHDRAW acknowledged", ev.Order.FSM)
	}
	if o := srv.orders()[done]; o["state"] != string(fsm.ServerCancelled) {
		t.Errorf("server order %s after WITHDRAW: got %v, want Cancelled", done, o)
	}
	srv.terminate()
}
