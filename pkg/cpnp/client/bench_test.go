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

package client

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// BenchmarkEngineFig6 runs the engine's side of one negotiation of RFC 8921
// Figure 6 per iteration, as the e2e benchmark's clients do, without the
// network: Subscribe to the new order (16 events buffered), Quote
// (QUOTATION), PROCESSING, OFFER (PROCESSING sent), AcceptOffer (ACCEPT),
// ACK, with every step stored (MemoryStore) and published, and every event
// delivered and read. The steps run on the benchmark's goroutine, the
// loop's stand-in (Run is not running); the server was not added, so the
// Sends are dropped at the outbox. allocs/op and B/op are per negotiation.
//
// Reference: RFC 8921 §6 Figure 6, §8.11.1 Figure 8.
func BenchmarkEngineFig6(b *testing.B) {
	e, err := NewEngine(Config{Store: NewMemoryStore(), EventBuffer: 16})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close() })
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	ert := t0.Add(time.Hour)
	eot := t0.Add(30 * time.Minute)
	validity := t0.Add(2 * time.Hour)
	offered := cpd.SampleConcrete()
	ctx := context.Background()
	step := func(ent *entry, ev fsm.Event) {
		if discard, err := e.step(ctx, ent, ev); err != nil || discard != "" {
			b.Fatalf("step %T in %s: discarded %q, error %v", ev, ent.order.FSM.State, discard, err)
		}
	}
	msg := func(o Order, method wire.Method, seq uint32) wire.Message {
		return wire.Message{
			Version: wire.Version, Method: method, Seq: seq, TransactionID: o.FSM.Txn.ID,
			CustomerOrderID: o.ID(), ProviderOrderID: "po-bench",
		}
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		id := "co-bench-" + strconv.Itoa(n)
		events, unsubscribe := e.Subscribe(id)
		ent := &entry{order: Order{
			Server: "s", CreatedAt: t0, UpdatedAt: t0,
			FSM: fsm.NewClientOrder(id, fsm.Request{CPD: cpd.Sample(), ExpectedResponseTime: &ert}, true),
		}}
		e.register(ent)
		step(ent, fsm.Quote{At: t0, TransactionID: "0123456789abcdef0123456789abcdef", Seq: 100})
		p := msg(ent.order, wire.MethodProcessing, 7)
		p.ExpectedOfferTime = &eot
		step(ent, fsm.MsgReceived{Msg: p, Identity: "s", At: t0.Add(time.Millisecond)})
		of := msg(ent.order, wire.MethodOffer, 8)
		of.Nonce, of.ValidityOfferTime, of.OfferedCPD = "fedcba9876543210fedcba9876543210", &validity, &offered
		step(ent, fsm.MsgReceived{Msg: of, Identity: "s", At: t0.Add(2 * time.Millisecond)})
		step(ent, fsm.AcceptOffer{At: t0.Add(3 * time.Millisecond)})
		ack := msg(ent.order, wire.MethodAck, 9)
		ack.CPD = &offered
		step(ent, fsm.MsgReceived{Msg: ack, Identity: "s", At: t0.Add(4 * time.Millisecond)})
		if got := ent.order.FSM.State; got != fsm.ClientCompleted {
			b.Fatalf("got state %s, want %s", got, fsm.ClientCompleted)
		}
		for got := 0; got < 4; got++ {
			<-events
		}
		unsubscribe()
		e.unregister(ent)
	}
}
