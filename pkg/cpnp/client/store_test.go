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
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// sampleOrder is an order in OfferProcessing with every kind of member an
// order holds (messages, CPDs, timers, history), to check that it survives
// a store round trip unchanged.
func sampleOrder(id string) client.Order {
	q := wire.Example(wire.MethodQuotation)
	q.CustomerOrderID = id
	ans := wire.Example(wire.MethodProcessing)
	ans.CustomerOrderID = id
	fo := fsm.NewClientOrder(id, fsm.Request{CPD: cpd.Sample(), ExpectedResponseTime: atp(time.Hour)}, true)
	fo.State = fsm.ClientOfferProcessing
	fo.ProviderOrderID = "po-1"
	fo.Txn = fsm.Transaction{Kind: fsm.TxnQuotation, ID: q.TransactionID, Unanswered: &q, LastAnswer: &ans}
	fo.Offer = &fsm.Offer{CPD: cpd.SampleConcrete(), Nonce: nonce1, ValidUntil: at(time.Hour), ReceivedAt: at(time.Minute)}
	fo.Timers = map[fsm.TimerID]time.Time{fsm.TimerValidity: at(time.Hour)}
	return client.Order{
		Server: "srv", Name: "wan", Labels: map[string]string{"a": "b"}, FSM: fo,
		CreatedAt: at(0), UpdatedAt: at(time.Minute),
		History: []fsm.Transition{{From: "PQOSent", To: "OfferProcessing", Cause: "OFFER", Reason: "OfferProcessing", At: at(time.Minute)}},
	}
}

var cmpOrders = cmp.Comparer(func(a, b cpd.CPD) bool { return cpd.Equal(a, b) })

// TestBoltStore saves, reads, lists and deletes orders in a bbolt file,
// which a second process cannot open at the same time.
// Reference: RFC 8921 §8.11 ("permanent storage"); DESIGN §6 (cpnpctl's local file).
func TestBoltStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "orders.db")
	bs, err := client.OpenBoltStore(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := sampleOrder("co-a"), sampleOrder("co-b")
	b.Server = "other"
	for _, o := range []client.Order{b, a} {
		if err := bs.Save(ctx, o); err != nil {
			t.Fatalf("Save %s: %v", o.ID(), err)
		}
	}
	got, err := bs.Get("co-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got, cmpOrders); diff != "" {
		t.Errorf("Get after Save (-want +got):\n%s", diff)
	}
	all, err := bs.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID() != "co-a" || all[1].ID() != "co-b" {
		t.Fatalf("Load = %d orders, want co-a then co-b", len(all))
	}
	if _, err := client.OpenBoltStore(path, store.Options{LockTimeout: 10 * time.Millisecond}); !errors.Is(err, store.ErrInUse) {
		t.Errorf("second open = %v, want store.ErrInUse", err)
	}
	if err := bs.Delete(ctx, "co-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := bs.Get("co-a"); !errors.Is(err, client.ErrUnknownOrder) || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrUnknownOrder and store.ErrNotFound", err)
	}
	if bs.Path() != path {
		t.Errorf("Path() = %q, want %q", bs.Path(), path)
	}
	if err := bs.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bs.Save(ctx, a); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Save after Close = %v, want store.ErrClosed", err)
	}

	// A store the caller opened is not closed by the BoltStore.
	s, err := store.OpenFile(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	shared, err := client.NewBoltStore(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := shared.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := shared.Get("co-b"); err != nil {
		t.Errorf("Get after closing a borrowed store: %v", err)
	}
}

// TestMemoryStore round-trips orders through JSON, as a durable store does.
func TestMemoryStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ms := client.NewMemoryStore()
	o := sampleOrder("co-m")
	if err := ms.Save(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, ok := ms.Get("co-m")
	if !ok {
		t.Fatal("order not found")
	}
	if diff := cmp.Diff(o, got, cmpOrders); diff != "" {
		t.Errorf("Get after Save (-want +got):\n%s", diff)
	}
	if _, ok := ms.Get("co-none"); ok {
		t.Errorf("Get of an unknown order found one")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := ms.Save(cancelled, o); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context = %v", err)
	}
	if ms.Saves() != 1 {
		t.Errorf("Saves() = %d, want 1", ms.Saves())
	}
}

// TestEngineOnBoltStore: an engine restores the orders of a bbolt file.
func TestEngineOnBoltStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bs, err := client.OpenBoltStore(filepath.Join(t.TempDir(), "orders.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	o := sampleOrder("co-bolt")
	if err := bs.Save(ctx, o); err != nil {
		t.Fatal(err)
	}
	eng, err := client.NewEngine(client.Config{Store: bs})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	got, ok := eng.Get("co-bolt")
	if !ok || got.State() != fsm.ClientOfferProcessing {
		t.Fatalf("restored %v in state %s, want OfferProcessing", ok, got.State())
	}
	if list := eng.List(); len(list) != 1 || list[0].ID() != "co-bolt" {
		t.Errorf("List() = %v", list)
	}
}
