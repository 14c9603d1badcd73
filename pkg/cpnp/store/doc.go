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

// Package store is the durable order repository of the CPNP server engine
// and of cpnpctl (DESIGN §2, §4 "Persistence"): RFC 8921 §8.11 has both the
// client and the server keep their orders in a repository, on permanent
// storage so that state survives a reboot. After a kill -9 the server
// reopens the store and answers in-flight transactions from it.
//
// # Records
//
// The Store holds opaque records in kinds (e.g. "orders"), keyed by an ID
// string. The engines serialize their order values themselves (Repo[T]
// does it with JSON), so this package does not depend on pkg/cpnp/fsm. Each
// record carries a Revision, 1 when created and one more at every Put, and
// optional secondary index keys, one per index name:
//
//	server engine  "provider" -> provider order ID (§9.1.2)
//	               "cancel"   -> IndexKey(identity, customer order ID, transaction ID)
//	                             (CANCEL has no provider order ID, DESIGN §3)
//	cpnpctl        "customer" -> customer order ID (§9.1.1)
//
// Lookup finds records by index key in O(log n + matches) without loading
// the others; index entries are written in the same transaction as their
// record, so they never disagree with it. Scan streams every record of a
// kind in ID order, a chunk at a time, for rebuilding in-memory state at
// startup. Each record has a CRC-32C checksum; a damaged one reads as a
// *CorruptError and can still be overwritten or deleted. Check verifies the
// whole file (bbolt's tx.Check plus the records and indexes).
//
// # Group commit
//
// The server engine runs on one goroutine that must never wait for an fsync
// per message. Write (and TryWrite) only queue a submission, an atomic list
// of Ops, and return. One committer goroutine takes every submission waiting
// in the queue, applies them all in one bbolt read-write transaction (one
// fsync), and then calls each submission's done callback in submission
// order. The busier the engine, the more submissions share an fsync, so
// throughput does not collapse to one fsync per message. WriteSync is the
// blocking form for callers such as cpnpctl.
//
// Guarantees:
//   - Durability: done(nil) is called only after the commit, including its
//     fsync, returned. bbolt runs with NoSync false; only the freelist is not
//     synced (it is rebuilt at open).
//   - Ordering: submissions are committed in the order they were accepted,
//     and done callbacks run in that order. When a submission is
//     acknowledged, every earlier submission has been called back and each
//     acknowledged one is durable: a write is never durable later than a
//     write submitted after it. The write-ahead rule (DESIGN §4) follows:
//     send the message that depends on a state from that state's done
//     callback (or after WriteSync), never before.
//   - Isolation: a submission that cannot be applied fails alone; its batch
//     neighbours still commit.
//   - Backpressure: at most Options.QueueSize submissions wait. When the
//     queue is full, Write blocks until there is room (or its context ends,
//     with ErrQueueFull), and TryWrite fails at once with ErrQueueFull so
//     that an engine can drop the datagram and let the peer retransmit
//     (§11.4).
//   - Failure: if a commit fails with unknown durability (I/O or fsync
//     error) the Store fails for good: pending and later writes get
//     ErrFailed and the process should reopen the store, which recovers the
//     last committed state. A submission that would grow the file beyond
//     Options.MaxSize fails with ErrFull and changes nothing; the others of
//     its batch are then committed one by one.
//   - Close flushes: every accepted submission is committed and called back
//     before Close returns.
//
// Reads (Get, Lookup, Scan) see committed data only, not writes still in
// the queue; an engine that needs read-your-writes keeps its live orders in
// memory, which it must do anyway.
//
// done callbacks run on the committer goroutine: they must be quick and
// must not block on the submitting engine, nor call WriteSync or Close. A
// single-goroutine engine typically appends the outcome to a mutex-guarded
// slice and wakes itself with a non-blocking send on a channel of capacity
// one.
//
// # Files
//
// Open(dir) creates the data directory and the file DefaultFileName in it;
// OpenFile(path) takes the file itself (cpnpctl's local store). The file is
// locked: a second process fails after Options.LockTimeout with ErrInUse
// ("data directory in use"). The meta bucket records SchemaVersion; a file
// written by a newer release is refused with a *SchemaError.
package store
