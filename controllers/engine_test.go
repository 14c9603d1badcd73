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

package controllers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client/clienttest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestEngineRecordsAndWakes checks the engine's inbox: messages are kept per
// negotiation until consumed (so a failed status write loses none), bounded
// by InboxLimit (oldest dropped), and each arrival wakes the owner through
// the channel source.
// Reference: DESIGN §5 (engine and reconciler split), RFC 8921 §11.4.
func TestEngineRecordsAndWakes(t *testing.T) {
	t.Parallel()
	e := startEngine(t, EngineConfig{InboxLimit: 2})

	qo := types.NamespacedName{Namespace: "ns", Name: "qo"}
	e.Watch("srv", "co-1", qo)
	k := routeKey{"srv", "co-1"}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		e.record(k, owner{ownerOrder, qo}, Inbound{Msg: wire.Message{Method: wire.MethodProcessing, Seq: uint32(i)}, ReceivedAt: at})
	}
	select {
	case ev := <-e.events:
		if got := (types.NamespacedName{Namespace: ev.Object.GetNamespace(), Name: ev.Object.GetName()}); got != qo {
			t.Errorf("woken: got %s, want %s", got, qo)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no wake-up within 10s")
	}
	seqs := func() []uint32 {
		var s []uint32
		for _, in := range e.Pending("srv", "co-1") {
			s = append(s, in.Msg.Seq)
		}
		return s
	}
	if diff := cmp.Diff([]uint32{1, 2}, seqs()); diff != "" {
		t.Errorf("pending after 3 arrivals with limit 2 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint32{1, 2}, seqs()); diff != "" {
		t.Errorf("Pending must not consume (-want +got):\n%s", diff)
	}
	e.Consume("srv", "co-1", 1)
	if diff := cmp.Diff([]uint32{2}, seqs()); diff != "" {
		t.Errorf("after Consume(1) (-want +got):\n%s", diff)
	}
	e.Watch("srv2", "co-1", qo)
	e.record(routeKey{"srv2", "co-1"}, owner{ownerOrder, qo}, Inbound{Msg: wire.Message{Seq: 9}})
	e.ForgetOwner(qo)
	if got := len(e.Pending("srv", "co-1")) + len(e.Pending("srv2", "co-1")); got != 0 {
		t.Errorf("after ForgetOwner: got %d pending, want 0", got)
	}
	e.mu.Lock()
	if n := len(e.owners); n != 0 {
		t.Errorf("after ForgetOwner: got %d routes, want 0", n)
	}
	e.mu.Unlock()
}

// TestEngineServers checks EnsureServer: idempotent for one fingerprint,
// replaced for another, and Send to an unknown server is an error.
func TestEngineServers(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.mux.Close(); err != nil {
			t.Error(err)
		}
	})
	dial := func(context.Context, string) (transport.Conn, error) {
		return nil, errors.New("no network in this test")
	}
	sc := client.ServerConfig{Address: "127.0.0.1:9", Dial: dial}
	for i, fp := range []string{"a", "a", "b"} {
		if err := e.EnsureServer("s", sc, fp); err != nil {
			t.Fatalf("EnsureServer #%d: %v", i, err)
		}
	}
	if diff := cmp.Diff([]string{"s"}, e.mux.Servers()); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	if err := e.EnsureServer("bad", client.ServerConfig{}, "x"); !errors.Is(err, client.ErrInvalidConfig) {
		t.Errorf("invalid config: got %v, want ErrInvalidConfig", err)
	}
	err = e.Send(context.Background(), "unknown", fsm.Send{})
	if err == nil {
		t.Error("send to an unknown server: got nil, want an error")
	}
}

// TestEngineRetransmissionRedialsSilentAssociation: a retransmission
// (fsm.Send with Retransmission set; or, for a watched
// negotiation, the same message sent again) goes out with
// client.Mux.Retransmit, so once an earlier retransmission has been
// unanswered for MuxConfig.StaleAfter the association is re-dialled (the
// server probably lost it: DTLS has no keep-alive). A plain first send
// never re-dials.
// Reference: RFC 8921 §11.4; DESIGN §4.
func TestEngineRetransmissionRedialsSilentAssociation(t *testing.T) {
	q := wire.Example(wire.MethodQuotation)
	q.CustomerOrderID = "co-1"
	tests := map[string]struct {
		watch        bool
		retransmitBy func(e *Engine, ctx context.Context) error
	}{
		"fsm.Send marked Retransmission": {retransmitBy: func(e *Engine, ctx context.Context) error {
			return e.Send(ctx, "s", fsm.Send{Msg: q, Retransmission: true})
		}},
		"watched negotiation, same message again": {watch: true, retransmitBy: func(e *Engine, ctx context.Context) error {
			return e.Send(ctx, "s", fsm.Send{Msg: q})
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := clienttest.NewPKI(t)
			srv := clienttest.NewServer(t, p.ServerConfig())
			clk := cpnptest.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			metrics := &client.Metrics{}
			e := startEngine(t, EngineConfig{Mux: client.MuxConfig{Clock: clk, Metrics: metrics}})
			ctx := context.Background()
			sc := client.ServerConfig{Address: srv.Addr(), ServerName: clienttest.ServerName, RootCAs: p.Pool, Certificate: p.ClientCertificate()}
			if err := e.EnsureServer("s", sc, "fp"); err != nil {
				t.Fatal(err)
			}
			if tt.watch {
				e.Watch("s", q.CustomerOrderID, types.NamespacedName{Namespace: "ns", Name: "qo"})
			}
			sctx, scancel := context.WithTimeout(ctx, clienttest.Wait)
			defer scancel()
			if err := e.Send(sctx, "s", fsm.Send{Msg: q}); err != nil {
				t.Fatalf("first send: %v", err)
			}
			first := srv.Expect(t, wire.MethodQuotation)
			// An answer: the association counts as working.
			ans := srv.Answer(first.Msg, wire.MethodProcessing)
			ans.ProviderOrderID = "po-1"
			srv.Send(t, first, ans)
			deadline := time.Now().Add(clienttest.Wait)
			for metrics.Snapshot().Received[wire.MethodProcessing] == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the PROCESSING never arrived")
				}
				time.Sleep(time.Millisecond) // polling for the arrival, not an assertion
			}
			retransmit := func(what string) clienttest.Received {
				t.Helper()
				if err := tt.retransmitBy(e, sctx); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				return srv.Expect(t, wire.MethodQuotation)
			}
			if got := retransmit("first retransmission"); got.Conn != first.Conn {
				t.Fatal("the first retransmission went on a new association")
			}
			clk.Advance(client.DefaultStaleAfter)
			if got := retransmit("retransmission after StaleAfter of silence"); got.Conn == first.Conn {
				t.Error("the retransmission went on the silent association, want a new one")
			}
			if d := metrics.Snapshot().Dials; d != 2 {
				t.Errorf("dials: got %d, want 2", d)
			}
		})
	}
}

// TestEngineConfigValidate checks the refused configurations.
func TestEngineConfigValidate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		cfg     EngineConfig
		wantErr bool
	}{
		"zero":             {},
		"negative timeout": {cfg: EngineConfig{SendTimeout: -1}, wantErr: true},
		"negative inbox":   {cfg: EngineConfig{InboxLimit: -1}, wantErr: true},
		"bad mux":          {cfg: EngineConfig{Mux: client.MuxConfig{MinBackoff: -1}}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := tc.cfg.Validate(); (err != nil) != tc.wantErr {
				t.Errorf("got %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

// startEngine creates an Engine with cfg and runs it until the test ends.
func startEngine(t *testing.T, cfg EngineConfig) *Engine {
	t.Helper()
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start: %v", err)
		}
	})
	return e
}
