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

package store_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
)

// serverOrder stands in for the server engine's order value (the store does
// not import fsm).
type serverOrder struct {
	ProviderOrderID string `json:"providerOrderID"`
	CustomerOrderID string `json:"customerOrderID"`
	Identity        string `json:"identity"`
	TransactionID   string `json:"transactionID"`
	State           string `json:"state"`
}

// serverOrderIndex gives the server engine's lookups: by provider order ID
// (RFC 8921 §9.1.2) and, for CANCEL, by identity + customer order ID +
// transaction ID (DESIGN §3).
func serverOrderIndex(o serverOrder) map[string]string {
	return map[string]string{
		"provider": o.ProviderOrderID,
		"cancel":   store.IndexKey(o.Identity, o.CustomerOrderID, o.TransactionID),
	}
}

func newOrderRepo(t *testing.T) (*store.Store, *store.Repo[serverOrder]) {
	t.Helper()
	s := openStore(t, t.TempDir(), store.Options{})
	r, err := store.NewRepo(s, "orders", serverOrderIndex)
	if err != nil {
		t.Fatalf("NewRepo: got error %v, want nil", err)
	}
	return s, r
}

func mustPut[T any](t *testing.T, r *store.Repo[T], id string, v T) store.Op {
	t.Helper()
	op, err := r.Put(id, v)
	if err != nil {
		t.Fatalf("Repo.Put(%s): got error %v, want nil", id, err)
	}
	return op
}

// Reference: RFC 8921 §8.11.2 (the server's order repository) and §8.11
// (recovery after a reboot): typed orders round-trip through JSON and are
// found by every key the engine uses.
func TestRepoRoundTrip(t *testing.T) {
	t.Parallel()
	s, r := newOrderRepo(t)
	if got := r.Kind(); got != "orders" {
		t.Errorf("Kind: got %q, want orders", got)
	}
	o1 := serverOrder{ProviderOrderID: "prov-1", CustomerOrderID: "c1", Identity: "acme", TransactionID: "t1", State: "OfferProposed"}
	o2 := serverOrder{ProviderOrderID: "prov-2", CustomerOrderID: "c1", Identity: "globex", TransactionID: "t1", State: "PQOReceived"}
	mustWrite(t, s, mustPut(t, r, "prov-1", o1), mustPut(t, r, "prov-2", o2))

	got, err := r.Get("prov-1")
	if err != nil {
		t.Fatalf("Get: got error %v, want nil", err)
	}
	if diff := cmp.Diff(store.Entry[serverOrder]{ID: "prov-1", Revision: 1, Value: o1}, got); diff != "" {
		t.Errorf("Get mismatch (-want +got):\n%s", diff)
	}
	// CANCEL from globex for c1/t1 finds globex's order, not acme's.
	e, err := r.LookupOne("cancel", store.IndexKey("globex", "c1", "t1"))
	if err != nil || e.Value != o2 {
		t.Errorf("LookupOne(cancel): got %+v, %v, want %+v, nil", e.Value, err, o2)
	}
	list, err := r.Lookup("provider", "prov-1")
	if err != nil {
		t.Fatalf("Lookup: got error %v, want nil", err)
	}
	if diff := cmp.Diff([]store.Entry[serverOrder]{{ID: "prov-1", Revision: 1, Value: o1}}, list); diff != "" {
		t.Errorf("Lookup mismatch (-want +got):\n%s", diff)
	}
	if _, err := r.LookupOne("provider", "prov-3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupOne of unknown key: got error %v, want ErrNotFound", err)
	}

	o1.State = "Completed"
	mustWrite(t, s, mustPut(t, r, "prov-1", o1))
	var scanned []store.Entry[serverOrder]
	if err := r.Scan(func(e store.Entry[serverOrder]) error { scanned = append(scanned, e); return nil }); err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	want := []store.Entry[serverOrder]{{ID: "prov-1", Revision: 2, Value: o1}, {ID: "prov-2", Revision: 1, Value: o2}}
	if diff := cmp.Diff(want, scanned); diff != "" {
		t.Errorf("Scan mismatch (-want +got):\n%s", diff)
	}

	mustWrite(t, s, r.Delete("prov-1"))
	if _, err := r.Get("prov-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete: got error %v, want ErrNotFound", err)
	}
	if list, _ := r.Lookup("cancel", store.IndexKey("acme", "c1", "t1")); len(list) != 0 {
		t.Errorf("Lookup after Delete: got %d entries, want none", len(list))
	}
	mustCheck(t, s)
}

// A value that is not the Repo's JSON is reported with its record, never
// returned as a zero value.
func TestRepoDecodeErrors(t *testing.T) {
	t.Parallel()
	s, r := newOrderRepo(t)
	mustWrite(t, s, store.Put("orders", "bad", []byte(`{"state": 42}`), map[string]string{"provider": "bad"}))
	var typeErr *json.UnmarshalTypeError
	if _, err := r.Get("bad"); !errors.As(err, &typeErr) || !strings.Contains(err.Error(), `decode orders/"bad" revision 1`) {
		t.Errorf("Get: got error %v, want a JSON type error naming orders/\"bad\"", err)
	}
	if _, err := r.Lookup("provider", "bad"); !errors.As(err, &typeErr) {
		t.Errorf("Lookup: got error %v, want a JSON type error", err)
	}
	if _, err := r.LookupOne("provider", "bad"); !errors.As(err, &typeErr) {
		t.Errorf("LookupOne: got error %v, want a JSON type error", err)
	}
	if _, err := r.Get("missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(missing): got error %v, want ErrNotFound", err)
	}
	if _, err := r.Lookup("provider", ""); err != nil {
		t.Errorf("Lookup of empty key: got error %v, want nil", err)
	}
	if _, err := r.LookupOne("provider", "none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupOne(none): got error %v, want ErrNotFound", err)
	}
	if err := r.Scan(func(store.Entry[serverOrder]) error { return nil }); !errors.As(err, &typeErr) {
		t.Errorf("Scan: got error %v, want a JSON type error", err)
	}
	errStop := errors.New("stop")
	mustWrite(t, s, store.Delete("orders", "bad"), mustPut(t, r, "good", serverOrder{State: "x"}))
	if err := r.Scan(func(store.Entry[serverOrder]) error { return errStop }); !errors.Is(err, errStop) {
		t.Errorf("Scan stopped by callback: got error %v, want errStop", err)
	}
}

func TestNewRepoAndPutErrors(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir(), store.Options{})
	if _, err := store.NewRepo[serverOrder](s, "bad kind", nil); !errors.Is(err, store.ErrInvalidOp) {
		t.Errorf("NewRepo with a bad kind: got error %v, want ErrInvalidOp", err)
	}
	if _, err := store.NewRepo[serverOrder](nil, "orders", nil); !errors.Is(err, store.ErrInvalidOp) {
		t.Errorf("NewRepo with a nil store: got error %v, want ErrInvalidOp", err)
	}
	r, err := store.NewRepo[any](s, "things", nil)
	if err != nil {
		t.Fatalf("NewRepo: got error %v, want nil", err)
	}
	var unsupported *json.UnsupportedTypeError
	if _, err := r.Put("x", func() {}); !errors.As(err, &unsupported) {
		t.Errorf("Put of a func: got error %v, want *json.UnsupportedTypeError", err)
	}
	op, err := r.Put("x", map[string]int{"a": 1})
	if err != nil {
		t.Fatalf("Put: got error %v, want nil", err)
	}
	if diff := cmp.Diff(store.Put("things", "x", []byte(`{"a":1}`), nil), op); diff != "" {
		t.Errorf("Put op mismatch (-want +got):\n%s", diff)
	}
}
