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
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
)

// OrderKind is the store kind of client orders (package store).
const OrderKind = "client-orders"

// BoltStore is a Store on a bbolt file (package store): cpnpctl's local
// state. Orders are JSON records of kind OrderKind keyed by customer order
// identifier, indexed by server ("server"). Save commits synchronously
// (store.WriteSync: durable, fsync'd, when it returns).
type BoltStore struct {
	s     *store.Store
	repo  *store.Repo[Order]
	owned bool
}

var _ Store = (*BoltStore)(nil)

// NewBoltStore returns a BoltStore on s; closing s is the caller's job.
func NewBoltStore(s *store.Store) (*BoltStore, error) {
	repo, err := store.NewRepo(s, OrderKind, func(o Order) map[string]string {
		return map[string]string{"server": o.Server}
	})
	if err != nil {
		return nil, fmt.Errorf("client store: %w", err)
	}
	return &BoltStore{s: s, repo: repo}, nil
}

// OpenBoltStore opens (creating it if needed) the bbolt file at path; Close
// closes it. A file in use by another process fails with store.ErrInUse.
func OpenBoltStore(path string, opts store.Options) (*BoltStore, error) {
	s, err := store.OpenFile(path, opts)
	if err != nil {
		return nil, fmt.Errorf("open client store: %w", err)
	}
	b, err := NewBoltStore(s)
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	b.owned = true
	return b, nil
}

// Save implements Store.
func (b *BoltStore) Save(ctx context.Context, o Order) error {
	op, err := b.repo.Put(o.ID(), o)
	if err != nil {
		return fmt.Errorf("save order %q: %w", o.ID(), err)
	}
	if err := b.s.WriteSync(ctx, op); err != nil {
		return fmt.Errorf("save order %q: %w", o.ID(), err)
	}
	return nil
}

// Load implements Store: every order, in customer order identifier order.
func (b *BoltStore) Load(context.Context) ([]Order, error) {
	var out []Order
	err := b.repo.Scan(func(e store.Entry[Order]) error {
		out = append(out, e.Value)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load orders: %w", err)
	}
	return out, nil
}

// Get returns the order with customer order identifier id, or an error
// wrapping store.ErrNotFound and ErrUnknownOrder.
func (b *BoltStore) Get(id string) (Order, error) {
	e, err := b.repo.Get(id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Order{}, fmt.Errorf("order %q: %w: %w", id, ErrUnknownOrder, err)
		}
		return Order{}, fmt.Errorf("order %q: %w", id, err)
	}
	return e.Value, nil
}

// Delete removes the order id (nothing happens if there is none).
func (b *BoltStore) Delete(ctx context.Context, id string) error {
	if err := b.s.WriteSync(ctx, b.repo.Delete(id)); err != nil {
		return fmt.Errorf("delete order %q: %w", id, err)
	}
	return nil
}

// Path is the bbolt file.
func (b *BoltStore) Path() string { return b.s.Path() }

// Close closes the file if OpenBoltStore opened it.
func (b *BoltStore) Close() error {
	if !b.owned {
		return nil
	}
	return b.s.Close()
}

// MemoryStore is a Store in memory, for tests and benchmarks. Save keeps
// the order it is given, without copying it (the engine never changes an
// order it saved, see Store; other callers must not either); Load and Get
// pass it through JSON, as a durable store would, so that what an engine
// restores is exactly what survives serialization. Encoding or copying on
// every Save instead cost an engine as much as the rest of its step.
type MemoryStore struct {
	mu     sync.Mutex
	orders map[string]Order
	saves  int
	fail   error
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{orders: make(map[string]Order)} }

// Save implements Store.
func (m *MemoryStore) Save(ctx context.Context, o Order) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save order %q: %w", o.ID(), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return fmt.Errorf("save order %q: %w", o.ID(), m.fail)
	}
	m.orders[o.ID()] = o
	m.saves++
	return nil
}

// Load implements Store: every order, in customer order identifier order.
func (m *MemoryStore) Load(context.Context) ([]Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.orders))
	for id := range m.orders {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]Order, 0, len(ids))
	for _, id := range ids {
		o, err := roundTrip(m.orders[id])
		if err != nil {
			return nil, fmt.Errorf("load order %q: %w", id, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// Get returns the stored order id.
func (m *MemoryStore) Get(id string) (Order, bool) {
	m.mu.Lock()
	o, ok := m.orders[id]
	m.mu.Unlock()
	if !ok {
		return Order{}, false
	}
	o, err := roundTrip(o)
	if err != nil {
		return Order{}, false
	}
	return o, true
}

// roundTrip is o as it reads back from its JSON encoding.
func roundTrip(o Order) (Order, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return Order{}, err
	}
	var out Order
	if err := json.Unmarshal(b, &out); err != nil {
		return Order{}, err
	}
	return out, nil
}

// Saves counts the successful Saves.
func (m *MemoryStore) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}

// FailSaves makes every later Save fail with err (nil: succeed again), to
// test what an engine does when its store fails.
func (m *MemoryStore) FailSaves(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}
