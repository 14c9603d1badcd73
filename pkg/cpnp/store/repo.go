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

package store

import (
	"encoding/json"
	"fmt"
)

// Repo is a typed view of one kind whose values are stored as JSON, e.g. the
// server engine's orders (RFC 8921 §8.11.2) or cpnpctl's client orders
// (§8.11.1). It builds Ops rather than writing, so that a caller can commit
// changes to several kinds in one atomic submission, and decodes what it
// reads. The Store never sees T: it stays independent of pkg/cpnp/fsm.
type Repo[T any] struct {
	store *Store
	kind  string
	index func(T) map[string]string
}

// Entry is a decoded record of a Repo.
type Entry[T any] struct {
	// ID is the record key.
	ID string
	// Revision is the record's revision (see Record.Revision).
	Revision uint64
	// Value is the decoded value.
	Value T
}

// NewRepo returns the Repo of kind in s. index (may be nil) gives the index
// keys of a value, e.g. {"provider": o.ProviderOrderID}; it runs on every
// Put.
func NewRepo[T any](s *Store, kind string, index func(T) map[string]string) (*Repo[T], error) {
	if s == nil {
		return nil, fmt.Errorf("new repo %s: %w: nil store", kind, ErrInvalidOp)
	}
	if !validName(kind) {
		return nil, fmt.Errorf("new repo %q: %w: kind must be 1..%d characters of [A-Za-z0-9._-]", kind, ErrInvalidOp, MaxNameLen)
	}
	return &Repo[T]{store: s, kind: kind, index: index}, nil
}

// Kind returns the kind the Repo reads and writes.
func (r *Repo[T]) Kind() string { return r.kind }

// Put returns the Op that stores v as record id, with its index keys. It
// fails only when v cannot be encoded as JSON.
func (r *Repo[T]) Put(id string, v T) (Op, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Op{}, fmt.Errorf("encode %s/%q: %w", r.kind, id, err)
	}
	var index map[string]string
	if r.index != nil {
		index = r.index(v)
	}
	return Put(r.kind, id, b, index), nil
}

// Delete returns the Op that removes record id and its index entries.
func (r *Repo[T]) Delete(id string) Op { return Delete(r.kind, id) }

// Get returns the committed record id, or an error wrapping ErrNotFound.
func (r *Repo[T]) Get(id string) (Entry[T], error) {
	rec, err := r.store.Get(r.kind, id)
	if err != nil {
		return Entry[T]{}, err
	}
	return r.decode(rec)
}

// Lookup returns the committed records whose index name has key, in ID
// order (see Store.Lookup).
func (r *Repo[T]) Lookup(name, key string) ([]Entry[T], error) {
	recs, err := r.store.Lookup(r.kind, name, key)
	if err != nil {
		return nil, err
	}
	out := make([]Entry[T], 0, len(recs))
	for _, rec := range recs {
		e, err := r.decode(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// LookupOne returns the one committed record whose index name has key, or
// an error wrapping ErrNotFound or ErrAmbiguous.
func (r *Repo[T]) LookupOne(name, key string) (Entry[T], error) {
	rec, err := r.store.LookupOne(r.kind, name, key)
	if err != nil {
		return Entry[T]{}, err
	}
	return r.decode(rec)
}

// Scan calls fn for every committed record in ID order, streaming (see
// Store.Scan); it stops at fn's first error and returns it unchanged.
func (r *Repo[T]) Scan(fn func(Entry[T]) error) error {
	return r.store.Scan(r.kind, func(rec Record) error {
		e, err := r.decode(rec)
		if err != nil {
			return err
		}
		return fn(e)
	})
}

func (r *Repo[T]) decode(rec Record) (Entry[T], error) {
	var v T
	if err := json.Unmarshal(rec.Value, &v); err != nil {
		return Entry[T]{}, fmt.Errorf("decode %s/%q revision %d: %w", r.kind, rec.ID, rec.Revision, err)
	}
	return Entry[T]{ID: rec.ID, Revision: rec.Revision, Value: v}, nil
}
