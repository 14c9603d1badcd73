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

package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

var codecT0 = time.Date(2026, 11, 22, 1, 2, 3, 456789012, time.UTC)

func codecPtr[T any](v T) *T { return &v }

// codecRecords returns records that cover every member of record, the
// common shapes of Figure 6 and the rare ones (UPDATE, child order, failure,
// information elements, schedules, strings that need escaping).
func codecRecords(t *testing.T) map[string]record {
	t.Helper()
	req := cpd.Sample()
	off := cpd.SampleConcrete()
	const (
		txn  = "d143dcfafb62b754187867b48f9c53ac"
		coid = "co-1"
		poid = "po-09c94bc852cc6adab062dc6397a311a7"
	)
	ack := &wire.Message{Version: wire.Version, Method: wire.MethodAck, Seq: 7, TransactionID: txn,
		CustomerOrderID: coid, ProviderOrderID: poid, CPD: &off}
	offer := &wire.Message{Version: wire.Version, Method: wire.MethodOffer, Seq: 6, TransactionID: txn,
		CustomerOrderID: coid, ProviderOrderID: poid, Nonce: "314dd6708b5beb8b91213118344568f3",
		ValidityOfferTime: codecPtr(codecT0.Add(5 * time.Minute).Truncate(time.Millisecond)), OfferedCPD: &off}
	ies := &wire.InformationElements{
		CustomerDescription: &wire.CustomerDescription{Name: "Åcme \"Corp\" <ops> & co\n", Contact: &wire.Contact{
			Email: "noc@acme.example", TelephoneNumbers: []string{"+33 1 23 45 67 89"}}},
		ProviderDescription: &wire.ProviderDescription{Name: "wan", ASNumber: 64500},
		NegotiationOptions:  &wire.NegotiationOptions{Purpose: wire.PurposeTest, ActivationType: wire.ActivationExplicit},
	}
	minimal := record{
		Order: fsm.ServerOrder{
			State: fsm.ServerState("AwaitingProcessing"), CustomerOrderID: coid, ProviderOrderID: poid, Identity: "globex",
			Request: fsm.Request{CPD: req},
			Txn:     fsm.Transaction{Kind: fsm.TxnQuotation, ID: txn, Counters: session.Counters{Out: 5}},
		},
		QuotationTxn: txn,
		Created:      codecT0,
		Updated:      codecT0,
	}
	agreed := minimal
	agreed.Order.State = fsm.ServerState("Completed")
	agreed.Order.Txn = fsm.Transaction{Kind: fsm.TxnQuotation, ID: txn, Counters: session.Counters{Out: 8, In: 3, InSet: true},
		LastReceived: wire.MethodAccept, LastAnswer: ack}
	agreed.Order.OfferNonce = offer.Nonce
	agreed.Order.Consulted = fsm.ConsultQuotation
	agreed.Order.Offer = &fsm.Offer{CPD: off, Nonce: offer.Nonce, ValidUntil: *offer.ValidityOfferTime, ReceivedAt: codecT0}
	agreed.Order.Agreement = &fsm.Agreement{CPD: off, Nonce: offer.Nonce, ActivationType: wire.ActivationImmediate, Active: true,
		Since: codecT0.Add(time.Second)}
	agreed.Peer = "127.0.0.1:33584"
	agreed.AgreementPool = "bench"
	agreed.Decision = "offer from pool bench"

	full := agreed
	full.Order.Request = fsm.Request{CPD: req, ExpectedResponseTime: codecPtr(codecT0.Add(time.Hour)), InformationElements: ies}
	full.Order.Update = &fsm.Request{CPD: off, InformationElements: ies}
	full.Order.Txn = fsm.Transaction{Kind: fsm.TxnUpdate, ID: txn, Counters: session.Counters{Out: 6, In: 2, InSet: true},
		Unanswered: offer, Retries: 2, LastReceived: wire.MethodProcessing, LastAnswer: offer}
	full.Order.ExpectedOfferTime = codecPtr(codecT0.Add(2 * time.Minute))
	full.Order.RequestedOfferTime = codecPtr(time.Time{}) // present but zero
	full.Order.Held = true
	full.Order.Reserved = true
	full.Order.Offer = &fsm.Offer{CPD: off, Nonce: offer.Nonce, ValidUntil: codecT0, ReceivedAt: codecT0,
		ActivationSchedule: codecPtr(wire.ScheduleAt(codecT0)), InformationElements: ies}
	full.Order.Agreement = &fsm.Agreement{CPD: req, Nonce: "n1", ActivationType: wire.ActivationScheduled,
		ScheduledAt: codecPtr(codecT0.Add(time.Hour)), Since: codecT0}
	full.Order.PrevAgreement = &fsm.Agreement{CPD: off, Nonce: "n0", Since: codecT0.Add(-time.Hour)}
	full.Order.Child = &fsm.ChildOrder{Upstream: "up", ParentTxn: txn, WithdrawTransactionID: "w", WithdrawSeq: 9}
	full.Order.Failure = &fsm.Failure{StatusCode: wire.StatusOutOfResources, Sent: true, Reason: "no capacity", Txn: fsm.TxnUpdate, At: codecT0}
	full.Order.Timers = map[fsm.TimerID]time.Time{"validity": codecT0.Add(time.Minute), "retrans": codecT0, "zero": {}}
	full.Peer = "[::1]:5684"
	full.OfferPool, full.PrevAgreementPool = "wan", "wan-old"
	full.Decision = "offer from pool \"wan\" <gold> & é\t\u2028"

	return map[string]record{"minimal": minimal, "agreed (Figure 6)": agreed, "every member": full}
}

// TestAppendRecordReadsBackAsEncodingJSON: format 2 is written by hand but
// decodes (with encoding/json, as New loads the store) to exactly what the
// reflective encoding of format 1 decodes to, so that a restarted server
// answers in-flight transactions from the same orders (RFC 8921 §8.11).
func TestAppendRecordReadsBackAsEncodingJSON(t *testing.T) {
	t.Parallel()
	for name, rec := range codecRecords(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec.Format = RecordFormat
			ref, err := json.Marshal(rec)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			var want record
			if err := json.Unmarshal(ref, &want); err != nil {
				t.Fatalf("decode the reference: %v", err)
			}
			prefix := []byte("prefix")
			b, err := appendRecord(bytes.Clone(prefix), &rec)
			if err != nil {
				t.Fatalf("appendRecord: got error %v, want nil", err)
			}
			if !bytes.HasPrefix(b, prefix) {
				t.Fatalf("appendRecord: got %q, want it to keep the prefix %q", b, prefix)
			}
			b = b[len(prefix):]
			if !json.Valid(b) {
				t.Fatalf("appendRecord: got invalid JSON %s", b)
			}
			var got record
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("decode appendRecord's output: %v\n%s", err, b)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decoded record mismatch (-encoding/json +appendRecord):\n%s", diff)
			}
			if got.Format != RecordFormat {
				t.Errorf("format: got %d, want %d", got.Format, RecordFormat)
			}
			again, err := appendRecord(nil, &rec)
			if err != nil || !bytes.Equal(again, b) {
				t.Errorf("appendRecord is not deterministic: got %s, want %s (error %v)", again, b, err)
			}
		})
	}
}

// TestAppendRecordRefusesWhatJSONCannotHold: what the reflective encoding
// refused (a non-finite number, RFC 8259 §6; a year outside RFC 3339; an
// invalid message) is refused, not written.
func TestAppendRecordRefusesWhatJSONCannotHold(t *testing.T) {
	t.Parallel()
	base := codecRecords(t)["agreed (Figure 6)"]
	nan := cpd.CPD{Components: []cpd.Component{{CustomerNodes: []cpd.CustomerNode{{Identifier: "n"}},
		Capacity: &cpd.Capacity{IncomingBps: cpd.Fixed(math.NaN())}}}}
	tests := map[string]func(r *record){
		"non-finite number in a CPD": func(r *record) { r.Order.Request.CPD = nan },
		"year after 9999":            func(r *record) { r.Updated = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"negative year in a timer": func(r *record) {
			r.Order.Timers = map[fsm.TimerID]time.Time{"t": time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}
		},
		"invalid message": func(r *record) {
			r.Order.Txn.LastAnswer = &wire.Message{Version: wire.Version, Method: wire.MethodAck}
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := base
			rec.Order = base.Order.Clone()
			mutate(&rec)
			dst := []byte("keep")
			got, err := appendRecord(dst, &rec)
			if !errors.Is(err, errRecordEncoding) {
				t.Fatalf("appendRecord: got error %v, want errRecordEncoding", err)
			}
			if string(got) != "keep" {
				t.Errorf("appendRecord: got %q on error, want dst unchanged", got)
			}
		})
	}
}

// BenchmarkEncodeRecord compares the hand-written encoding (format 2) with
// encoding/json (format 1) on the record of a finished Figure 6
// negotiation: the write of every persisted step pays it (issue #3).
func BenchmarkEncodeRecord(b *testing.B) {
	rec := codecRecords(&testing.T{})["agreed (Figure 6)"]
	b.Run("format=2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bp := getRecordBuffer()
			out, err := appendRecord(*bp, &rec)
			if err != nil {
				b.Fatal(err)
			}
			*bp = out
			putRecordBuffer(bp)
		}
	})
	b.Run("format=1-encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestSendQueue: an association's send queue holds at most its limit of
// messages, in order, wakes the writer once per batch and allocates
// nothing while idle (issue #3); the excess is refused so that the engine
// drops it and the peer retransmits (RFC 8921 §11.4).
func TestSendQueue(t *testing.T) {
	t.Parallel()
	p := &peerConn{wake: make(chan struct{}, 1), limit: 2}
	if p.queue != nil || p.spare != nil {
		t.Fatalf("new queue: got %d/%d messages of capacity, want none", cap(p.queue), cap(p.spare))
	}
	msg := func(seq uint32) wire.Message { return wire.Message{Method: wire.MethodProcessing, Seq: seq} }
	for i, want := range []bool{true, true, false} {
		if got := p.enqueue(msg(uint32(i + 1))); got != want {
			t.Errorf("enqueue %d: got %v, want %v", i+1, got, want)
		}
	}
	if got := len(p.wake); got != 1 {
		t.Errorf("wake-ups pending: got %d, want 1", got)
	}
	q := p.take()
	if diff := cmp.Diff([]wire.Message{msg(1), msg(2)}, q); diff != "" {
		t.Errorf("taken (-want +got):\n%s", diff)
	}
	if got := p.take(); got != nil {
		t.Errorf("second take: got %v, want nothing", got)
	}
	p.recycle(q)
	if !p.enqueue(msg(3)) {
		t.Fatal("enqueue after take: got false, want true")
	}
	if got := p.take(); len(got) != 1 || &got[0] != &q[0] {
		t.Errorf("enqueue after recycle: got a new queue, want the recycled one")
	}
}
