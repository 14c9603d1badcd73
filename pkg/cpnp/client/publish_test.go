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

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
)

// TestEventsSharePublishedOrder: the order an Event carries is the order
// after its step, the same Get returns and the store restores; Get hands
// out a private copy, so changing it changes neither the engine's order
// nor the Event's.
// Reference: RFC 8921 §8.11 (state kept per order), §8.11.1 Figure 8.
func TestEventsSharePublishedOrder(t *testing.T) {
	h := newHarness(t)
	id, q := h.quote(request())
	sent := h.waitReason(id, "QuotationSent")
	h.srv.Send(t, q, h.processing(q.Msg, atp(10*time.Minute)))
	ev := h.waitReason(id, "ServerProcessing")

	got, ok := h.eng.Get(id)
	if !ok {
		t.Fatalf("Get(%q): not found", id)
	}
	if diff := cmp.Diff(*ev.Order, got, cmpOrders); diff != "" {
		t.Errorf("event order vs Get (-event +get):\n%s", diff)
	}
	if got, want := sent.Order.State(), fsm.ClientPQOSent; got != want {
		t.Errorf("the earlier event's order: got state %s, want %s (each step publishes a new order)", got, want)
	}
	stored, ok := h.store.Get(id)
	if !ok {
		t.Fatalf("store Get(%q): not found", id)
	}
	if diff := cmp.Diff(got, stored, cmpOrders); diff != "" {
		t.Errorf("Get vs the stored order after JSON (-get +stored):\n%s", diff)
	}

	// Get's copy is private.
	got.Labels = map[string]string{"changed": "yes"}
	got.FSM.Timers[fsm.TimerResponse] = got.FSM.Timers[fsm.TimerResponse].Add(1)
	again, _ := h.eng.Get(id)
	if diff := cmp.Diff(*ev.Order, again, cmpOrders); diff != "" {
		t.Errorf("Get after changing an earlier copy (-event +get):\n%s", diff)
	}

	// The engine goes on from its own order.
	if err := h.eng.Cancel(context.Background(), id); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if o, _ := h.eng.Get(id); o.State() != fsm.ClientCancelled {
		t.Errorf("after Cancel: got %s, want %s", o.State(), fsm.ClientCancelled)
	}
}

// TestMemoryStoreKeepsOrders: MemoryStore does not encode on Save, yet
// what it returns went through JSON, like a durable store's.
// Reference: RFC 8921 §8.11 ("permanent storage").
func TestMemoryStoreKeepsOrders(t *testing.T) {
	t.Parallel()
	ms := client.NewMemoryStore()
	o := sampleOrder("co-keep")
	if err := ms.Save(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	loaded, err := ms.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 {
		t.Fatalf("Load: got %d orders, want 1", len(loaded))
	}
	if diff := cmp.Diff(o, loaded[0], cmpOrders); diff != "" {
		t.Errorf("Load after Save (-saved +loaded):\n%s", diff)
	}
	// A loaded order is the store's no more: changing it changes nothing stored.
	loaded[0].Labels = map[string]string{"x": "y"}
	if again, _ := ms.Get("co-keep"); again.Labels["x"] == "y" {
		t.Errorf("stored order changed through a loaded copy: labels %v", again.Labels)
	}
}
