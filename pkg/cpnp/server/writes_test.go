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

package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
)

const metricDeferred = "cpnp_server_store_deferred_writes_total"

// storedState returns the state of order poid as committed in the store
// ("" when it is not there).
func (e *env) storedState(poid string) string {
	e.t.Helper()
	rec, err := e.st.Get(server.OrdersKind, poid)
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	if err != nil {
		e.t.Fatalf("get stored order %s: %v", poid, err)
	}
	var v struct {
		Format int `json:"format"`
		Order  struct {
			State string `json:"state"`
		} `json:"order"`
	}
	if err := json.Unmarshal(rec.Value, &v); err != nil {
		e.t.Fatalf("decode stored order %s: %v", poid, err)
	}
	if v.Format != server.RecordFormat {
		e.t.Errorf("stored order %s: got format %d, want %d", poid, v.Format, server.RecordFormat)
	}
	return v.Order.State
}

// offered runs a QUOTATION to its OFFER and the client's PROCESSING
// (Figure 6) and waits until the engine handled the PROCESSING.
func offered(e *env, c *client) *negotiation {
	e.t.Helper()
	n := c.newOrder()
	n.quote(reqCPD(1, 1), nil)
	n.expectOffer()
	n.processing()
	e.waitState(n.poid, fsm.ServerProcessingReceived)
	return n
}

// TestDeferredWriteSharesTheNextCommit: the client's PROCESSING after an
// OFFER changes the order but sends nothing, so its write is deferred and
// joins the next write of any order (one submission, one commit); what
// depends on a write still waits for it.
// Reference: RFC 8921 §8.7 Figure 6, §11.2.1; DESIGN §4 (write-ahead).
func TestDeferredWriteSharesTheNextCommit(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	before := e.st.Stats()
	n1 := offered(e, c)
	mid := e.st.Stats()
	if got, want := mid.Submitted-before.Submitted, uint64(1); got != want {
		t.Errorf("submissions for QUOTATION..PROCESSING: got %d, want %d (the QUOTATION's only)", got, want)
	}
	if got := e.metric(metricDeferred, nil); got != 1 {
		t.Errorf("%s: got %v, want 1", metricDeferred, got)
	}
	if got, want := e.storedState(n1.poid), string(fsm.ServerOfferProposed); got != want {
		t.Errorf("stored state before another write: got %s, want %s (the PROCESSING is deferred)", got, want)
	}

	// Another order's QUOTATION is written at once; its PROCESSING answer
	// leaves after the commit, which carries n1's deferred write too.
	n2 := c.newOrder()
	n2.quote(reqCPD(1, 1), nil)
	after := e.st.Stats()
	if got, want := after.Submitted-mid.Submitted, uint64(1); got != want {
		t.Errorf("submissions for the second QUOTATION: got %d, want %d", got, want)
	}
	if got, want := after.Ops-mid.Ops, uint64(2); got != want {
		t.Errorf("ops committed with the second QUOTATION: got %d, want %d (its order and the deferred one)", got, want)
	}
	if got, want := e.storedState(n1.poid), string(fsm.ServerProcessingReceived); got != want {
		t.Errorf("stored state after the next commit: got %s, want %s", got, want)
	}
	n2.expectOffer()

	// The ACCEPT of n1 is answered from the durable agreement.
	n1.agree()
	if got, want := e.storedState(n1.poid), string(fsm.ServerCompleted); got != want {
		t.Errorf("stored state after the ACK: got %s, want %s", got, want)
	}
}

// TestDeferredWriteCommittedAfterDelay: with no other write to join, a
// deferred write is committed on its own DeferredFlushDelay later.
// Reference: RFC 8921 §8.11 (the server keeps every order in its store).
func TestDeferredWriteCommittedAfterDelay(t *testing.T) {
	e := newEnv(t)
	n := offered(e, e.dial(idAcme))
	submitted := e.st.Stats().Submitted
	e.clk.Advance(server.DeferredFlushDelay / 2)
	if got := e.st.Stats().Submitted; got != submitted {
		t.Errorf("submissions before the delay: got %d, want %d", got, submitted)
	}
	e.clk.Advance(server.DeferredFlushDelay / 2)
	waitFor(t, "the deferred write to be committed", func() bool {
		return e.storedState(n.poid) == string(fsm.ServerProcessingReceived)
	})
	if got, want := e.st.Stats().Submitted, submitted+1; got != want {
		t.Errorf("submissions after the delay: got %d, want %d", got, want)
	}
}

// TestDeferredWriteFlushedAtShutdown: a graceful stop commits deferred
// writes, so a restart finds the order as it was.
// Reference: RFC 8921 §8.11; DESIGN §4 (persistence).
func TestDeferredWriteFlushedAtShutdown(t *testing.T) {
	checkGoroutines(t)
	e := newEnv(t)
	n := offered(e, e.dial(idAcme))
	e.restart()
	if got, want := e.order(n.poid).State, string(fsm.ServerProcessingReceived); got != want {
		t.Errorf("state after restart: got %s, want %s", got, want)
	}
	if got, want := e.storedState(n.poid), string(fsm.ServerProcessingReceived); got != want {
		t.Errorf("stored state after restart: got %s, want %s", got, want)
	}
}

// TestLoadRecordFormats: records without a format (written with
// encoding/json before format 2) load; a record of a newer format stops New
// with a *RecordFormatError rather than being misread.
// Reference: RFC 8921 §8.11.
func TestLoadRecordFormats(t *testing.T) {
	const format1 = `{"order":{"state":"Completed","customerOrderID":"co-1","providerOrderID":"po-1","identity":"acme",` +
		`"request":{"cpd":{"components":[{"customer_nodes":[{"identifier":"ce-1"}],"capacity":{"incoming_bps":1,"outgoing_bps":1}}]}},` +
		`"txn":{"kind":"Quotation","id":"t1","counters":{"out":9,"in":3,"inSet":true}}},` +
		`"quotationTxn":"t1","created":"2026-03-01T12:00:00Z","updated":"2026-03-01T12:00:00Z"}`
	tests := map[string]struct {
		value   string
		wantErr error
		want    *server.RecordFormatError
	}{
		"format 1 (no member)": {value: format1},
		"format 2":             {value: `{"format":2,` + format1[1:]},
		"format 3": {value: `{"format":3,` + format1[1:], wantErr: server.ErrRecordFormat,
			want: &server.RecordFormatError{ProviderOrderID: "po-1", Found: 3, Supported: server.RecordFormat}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, err := store.Open(t.TempDir(), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			if err := st.WriteSync(context.Background(), store.Put(server.OrdersKind, "po-1", []byte(tc.value), nil)); err != nil {
				t.Fatal(err)
			}
			pol, err := policy.New(testPolicy())
			if err != nil {
				t.Fatal(err)
			}
			srv, err := server.New(server.Config{Policy: pol, Store: st})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("New: got error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				var fe *server.RecordFormatError
				if !errors.As(err, &fe) {
					t.Fatalf("New: got %T, want a *RecordFormatError", err)
				}
				if diff := cmp.Diff(tc.want, fe); diff != "" {
					t.Errorf("RecordFormatError mismatch (-want +got):\n%s", diff)
				}
				return
			}
			defer func() {
				if err := srv.Close(); err != nil {
					t.Error(err)
				}
			}()
			d, ok := srv.Get("po-1")
			if !ok || d.State != string(fsm.ServerCompleted) {
				t.Errorf("Get(po-1): got %+v (found %v), want the Completed order", d.OrderSummary, ok)
			}
		})
	}
}
