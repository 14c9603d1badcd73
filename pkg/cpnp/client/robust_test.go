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

package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client/clienttest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestReorderedAndRepeatedMessages: a PROCESSING that arrives after the
// OFFER that followed it is stale and discarded; a repeated OFFER (same
// sequence number) is answered again with the stored PROCESSING, without
// changing the order.
// Reference: RFC 8921 §11.3 (sequence numbers), §11.4 (repeats).
func TestReorderedAndRepeatedMessages(t *testing.T) {
	h := newHarness(t)
	id, q := h.quote(request())
	proc := h.processing(q.Msg, nil) // seq 5000
	offer := h.offer(q.Msg, nonce1, at(time.Hour))
	h.srv.Send(t, q, offer) // seq 5001 overtakes the PROCESSING
	h.waitReason(id, "OfferProcessing")
	p := h.srv.Expect(t, wire.MethodProcessing)

	before := h.metrics.Snapshot().Drops[client.DropMachine]
	h.srv.Send(t, q, proc)
	eventually(t, "stale PROCESSING discarded", func() bool {
		return h.metrics.Snapshot().Drops[client.DropMachine] == before+1
	})
	h.srv.Send(t, q, offer) // a retransmission of the OFFER
	again := h.srv.Expect(t, wire.MethodProcessing)
	if again.Msg.Seq != p.Msg.Seq {
		t.Errorf("answer to the repeated OFFER has seq %d, want the stored answer's %d", again.Msg.Seq, p.Msg.Seq)
	}
	if o := h.order(id); o.FSM.Txn.Counters.In != offer.Seq || len(o.History) != 3 {
		t.Errorf("order changed by the repeat: in=%d history=%v", o.FSM.Txn.Counters.In, reasons(o))
	}
	if n := h.metrics.Snapshot().Retransmissions; n != 1 {
		t.Errorf("retransmissions %d, want 1 (the re-sent PROCESSING)", n)
	}
}

// TestLossyPath negotiates through the lossy relay of cpnptest, which
// delays, jitters, duplicates and reorders datagrams in both directions
// (DTLS discards the duplicated records, RFC 6347 §4.1.2.6; CPNP copes
// with the rest, §11.3, §11.4).
func TestLossyPath(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := clienttest.NewPKI(t)
	srv := clienttest.NewServer(t, p.ServerConfig())
	relay, err := cpnptest.NewRelay(cpnptest.RelayConfig{
		Target: srv.Addr(), Seed: 8921,
		Delay: 2 * time.Millisecond, Jitter: 5 * time.Millisecond, Duplicate: 0.5, Reorder: 0.2,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	eng, err := client.NewEngine(client.Config{Store: client.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	sc := muxServerConfig(p, srv)
	sc.Address = relay.Addr().String()
	if err := eng.AddServer("lossy", sc); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
	events, _ := eng.Subscribe("")
	wait := func(reason string) {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if ev.Transition.Reason == reason {
					return
				}
			case <-time.After(clienttest.Wait):
				t.Fatalf("no %s", reason)
			}
		}
	}
	req := request()
	req.ExpectedResponseTime = nil
	id, err := eng.Quote(ctx, "lossy", req)
	if err != nil {
		t.Fatal(err)
	}
	q := expectMethod(t, srv, wire.MethodQuotation)
	o := srv.Answer(q.Msg, wire.MethodOffer)
	o.ProviderOrderID, o.Nonce = providerID, nonce1
	valid := time.Now().Add(time.Hour)
	offered := cpd.SampleConcrete()
	o.ValidityOfferTime, o.OfferedCPD = &valid, &offered
	srv.Send(t, q, o)
	wait("OfferProcessing")
	if err := eng.Accept(ctx, id); err != nil {
		t.Fatal(err)
	}
	a := expectMethod(t, srv, wire.MethodAccept)
	ack := srv.Answer(a.Msg, wire.MethodAck)
	ack.ProviderOrderID, ack.CPD = providerID, &offered
	srv.Send(t, a, ack)
	wait("Agreed")
	if s := relay.Stats(); s.ToServer.Duplicated == 0 && s.ToClient.Duplicated == 0 {
		t.Errorf("the relay duplicated nothing: %+v", s)
	}
}

// expectMethod returns the next message of method m, skipping the
// retransmissions of earlier requests that the impaired path provoked.
func expectMethod(t *testing.T, srv *clienttest.Server, m wire.Method) clienttest.Received {
	t.Helper()
	deadline := time.Now().Add(clienttest.Wait)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		r, err := srv.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		if r.Msg.Method == m {
			return r
		}
	}
	t.Fatalf("no %s", m)
	return clienttest.Received{}
}
