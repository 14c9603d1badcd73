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
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// waitTimeout bounds every wait in these tests (real time).
const waitTimeout = 20 * time.Second

// testPolicy is a policy.yaml of the DESIGN §6 schema.
const testPolicy = `pools:
- name: wan
  capacity: {incomingBps: 1000000000, outgoingBps: 1000000000}
  qosClasses:
  - {name: gold, oneWayDelayMs: 10, delayVariationMs: 2, lossRatio: 0.0001}
  approval: {mode: Automatic}
  offerValidity: 5m
tenants:
- identity: acme
  pools: [wan]
upstreams: []
`

// fixture is a directory with certificates (pki.InitDir: ca.crt,
// server.crt/key for localhost and 127.0.0.1, client.crt/key with CN acme),
// a policy file and a data directory path.
type fixture struct {
	dir     string
	files   pki.Files
	policy  string
	dataDir string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	files, err := pki.InitDir(filepath.Join(dir, "certs"), pki.InitOptions{})
	if err != nil {
		t.Fatalf("certs: %v", err)
	}
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(testPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir, files: files, policy: pol, dataDir: filepath.Join(dir, "data", "nested")}
}

// args returns the standalone contract's flags (DESIGN §6) on ephemeral
// ports, plus extra.
func (f *fixture) args(extra ...string) []string {
	return append([]string{
		"--listen", "127.0.0.1:0",
		"--tls-cert", f.files.ServerCert, "--tls-key", f.files.ServerKey,
		"--client-ca", f.files.CACert,
		"--data-dir", f.dataDir,
		"--policy", f.policy,
		"--admin-listen", "127.0.0.1:0",
		"--log-format", "json",
	}, extra...)
}

// syncBuffer is a goroutine-safe log buffer that can wait for a line.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{changed: make(chan struct{})} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLine waits for a JSON log line whose msg is msg and returns it.
func (b *syncBuffer) waitLine(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.After(waitTimeout)
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
		case <-deadline:
			t.Fatalf("no log line %q in:\n%s", msg, text)
		}
	}
}

// client is a scripted CPNP client over one DTLS association.
type client struct {
	t    *testing.T
	conn transport.Conn
}

func dial(t *testing.T, f *fixture, addr string) *client {
	t.Helper()
	cert, err := pki.LoadKeyPair(f.files.ClientCert, f.files.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := pki.LoadCertPool(f.files.CACert)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := transport.DialDTLS(ctx, addr, transport.Config{
		Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: "localhost",
	})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{t: t, conn: c}
}

func (c *client) send(m wire.Message) {
	c.t.Helper()
	b, err := wire.Encode(m)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.conn.WriteMessage(ctx, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) expect(method wire.Method) wire.Message {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	b, err := c.conn.ReadMessage(ctx)
	if err != nil {
		c.t.Fatalf("read (want %s): %v", method, err)
	}
	m, err := wire.Decode(b)
	if err != nil {
		c.t.Fatalf("decode: %v", err)
	}
	if m.Method != method {
		c.t.Fatalf("got %s %v, want %s", m.Method, m, method)
	}
	return m
}

func newHex() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// order is one negotiation of the scripted client.
type order struct {
	coid, txn, poid string
	seq             uint32
	offer           wire.Message
	accept          wire.Message
}

func newOrder() *order { return &order{coid: "co-" + newHex()[:8], txn: newHex(), seq: 10} }

func (o *order) msg(method wire.Method) wire.Message {
	o.seq++
	return wire.Message{Version: wire.Version, Method: method, Seq: o.seq, TransactionID: o.txn,
		CustomerOrderID: o.coid, ProviderOrderID: o.poid}
}

// quote sends the QUOTATION and reads PROCESSING and OFFER (RFC 8921 Fig. 6).
func (o *order) quote(c *client) {
	c.t.Helper()
	q := o.msg(wire.MethodQuotation)
	req := cpd.CPD{Components: []cpd.Component{{
		CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-1"}},
		QoS:           &cpd.QoS{Class: "gold"},
		Capacity:      &cpd.Capacity{IncomingBps: cpd.Fixed(1e6), OutgoingBps: cpd.Fixed(1e6)},
	}}}
	q.RequestedCPD = &req
	exp := time.Now().Add(time.Hour)
	q.ExpectedResponseTime = &exp
	c.send(q)
	o.poid = c.expect(wire.MethodProcessing).ProviderOrderID
	o.offer = c.expect(wire.MethodOffer)
	o.accept = o.msg(wire.MethodAccept)
	o.accept.Nonce, o.accept.AcceptedCPD = o.offer.Nonce, o.offer.OfferedCPD
}

// adminOrders lists the orders through the admin API.
func adminOrders(t *testing.T, admin string) map[string]map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/admin/orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /admin/orders: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v struct {
		Orders []map[string]any `json:"orders"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil {
		t.Fatalf("GET /admin/orders: %d %s", resp.StatusCode, body)
	}
	out := map[string]map[string]any{}
	for _, o := range v.Orders {
		out[fmt.Sprint(o["providerOrderID"])] = o
	}
	return out
}

func timeAfter() <-chan time.Time { return time.After(waitTimeout) }
