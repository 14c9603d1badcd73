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

package fsm

import (
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// BenchmarkServerFig6 runs the server machine through one negotiation of
// RFC 8921 Figure 6 per iteration, as the server engine does: Open on the
// QUOTATION (PROCESSING sent), the policy's offer (OFFER sent), the
// client's PROCESSING, its ACCEPT (ACK sent). The events are built once, so
// the figures are the machine's own (allocs/op is per negotiation).
//
// Reference: RFC 8921 §6 Figure 6, §8.11.2 Figure 9.
func BenchmarkServerFig6(b *testing.B) {
	m := DefaultServer()
	open := sOpenEvent(sQuotation())
	o, _, err := m.Open(open)
	if err != nil {
		b.Fatal(err)
	}
	// Build the events of the sequence once, on a first run.
	evs := []Event{sOffer(o, st0.Add(time.Second))}
	o, _ = m.Step(o, evs[0])
	for i, method := range []wire.Method{wire.MethodProcessing, wire.MethodAccept} {
		ev := MsgReceived{Msg: sClientMsg(o, method, sCliSeq+1+uint32(i)), Identity: sIdentity, At: st0.Add(2 * time.Second)}
		evs = append(evs, ev)
		o, _ = m.Step(o, ev)
	}
	if o.State != ServerCompleted {
		b.Fatalf("setup: got state %s, want Completed", o.State)
	}
	b.ReportAllocs()
	for b.Loop() {
		o, _, _ := m.Open(open)
		for _, ev := range evs {
			o, _ = m.Step(o, ev)
		}
		if o.State != ServerCompleted {
			b.Fatalf("got state %s, want Completed", o.State)
		}
	}
}

// BenchmarkClientFig6 runs the client machine through one negotiation of
// RFC 8921 Figure 6 per iteration: Quote (QUOTATION sent), PROCESSING,
// OFFER, AcceptOffer (ACCEPT sent), ACK. Events are built once.
//
// Reference: RFC 8921 §6 Figure 6, §8.11.1 Figure 8.
func BenchmarkClientFig6(b *testing.B) {
	m := DefaultClient()
	start := NewClientOrder(clCustomerID, clRequest(), true)
	o := start
	evs := []Event{Quote{At: clAt(0), TransactionID: clTxnQuote, Seq: clClientSeq}}
	o, _ = m.Step(o, evs[0])
	next := func(ev Event) {
		evs = append(evs, ev)
		o, _ = m.Step(o, ev)
	}
	next(clRecv(clProcessing(o, clAtp(30*time.Minute)), time.Second/2))
	next(clRecv(clOffer(o, clNonce, clAt(2*time.Hour)), time.Minute))
	next(AcceptOffer{At: clAt(2 * time.Minute)})
	next(clRecv(clAck(o, clCPDPtr(cpd.SampleConcrete())), 2*time.Minute+time.Second/2))
	if o.State != ClientCompleted {
		b.Fatalf("setup: got state %s, want Completed", o.State)
	}
	b.ReportAllocs()
	for b.Loop() {
		o := start
		for _, ev := range evs {
			o, _ = m.Step(o, ev)
		}
		if o.State != ClientCompleted {
			b.Fatalf("got state %s, want Completed", o.State)
		}
	}
}
