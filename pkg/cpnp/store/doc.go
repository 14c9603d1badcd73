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
// in the queue, commits them all at once (one fdatasync of the journal, see
// below; with Options.NoJournal one bbolt read-write transaction), and then
// calls each submission's done callback in submission order. The busier the
// engine, the more submissions share an fsync, so throughput does not
// collapse to one fsync per message. WriteSync is the blocking form for
// callers such as cpnpctl.
//
// Guarantees (both modes):
//   - Durability: done(nil) is called only after the commit, including its
//     fsync, returned: the batch's journal frame was written and
//     fdatasynced (NoJournal: the bbolt transaction committed, bbolt runs
//     with NoSync false; only the freelist is not synced, it is rebuilt at
//     open).
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
//   - Failure: if a commit fails with unknown durability (an I/O or fsync
//     error of the journal or of bbolt, including a checkpoint's) the Store
//     fails for good: pending and later writes get ErrFailed and the
//     process should reopen the store, which recovers the last committed
//     state from the data file and the journal. A write reported failed
//     this way may still turn out durable. A submission that would grow the
//     file beyond Options.MaxSize fails with ErrFull and changes nothing,
//     while its batch neighbours commit. In journal mode this is decided
//     when the submission is journaled, never after it was acknowledged,
//     from a deliberately high estimate (the file's used size, plus twice
//     the bytes and two pages per record of everything not yet
//     checkpointed, rounded up as bbolt grows its file), so a store close
//     to MaxSize refuses some writes that would have fitted. Checkpoints
//     then apply every acknowledged record without a cap: when the
//     estimate misses free-page fragmentation the file grows past MaxSize
//     (by bbolt's growth step: up to double below 16 MiB, else 16 MiB)
//     rather than the Store failing.
//   - Close flushes: every accepted submission is committed and called back
//     before Close returns.
//
// Reads (Get, Lookup, Scan) see committed data only, not writes still in
// the queue; an engine that needs read-your-writes keeps its live orders in
// memory, which it must do anyway. In journal mode Get reads the overlay
// (below) first; Lookup, LookupOne, Scan (before each chunk) and Check
// first run a checkpoint, so they cost a bbolt commit when acknowledged
// writes are waiting (the server engine scans only at startup; cpnpctl uses
// NoJournal). After the Store failed they return ErrFailed.
//
// # Journal
//
// By default a commit costs one pwrite and one fdatasync of a preallocated
// write-ahead journal, "<data file>.journal" (cpnp.db.journal), instead of
// a bbolt transaction (two fsyncs, page allocation). The committer
// evaluates each op against the current state to its final physical
// record (revision, value, index keys), writes the batch as one frame and
// fdatasyncs it, publishes the records to an in-memory overlay, then calls
// the done callbacks. On Linux, where the file system allows it (ext4,
// xfs; not tmpfs), frames are written with direct I/O (O_DIRECT, 4
// KiB-aligned), so that the fdatasync has only the device's cache to
// flush; otherwise, and after a direct write the kernel refused with
// EINVAL, through the page cache. Durability is the same either way: a
// commit is acknowledged only after the fdatasync. The overlay holds the
// records' encoded form in one allocation of their exact size per frame,
// never the reused frame buffer nor the caller's Value or Index, which the
// caller may reuse once called back. A checkpointer goroutine applies the overlay
// to bbolt every Options.CheckpointInterval (default 1 s; sooner when
// 4096 records wait or half the journal was written) in synced
// transactions of at most MaxBatchOps records, the last of which records
// the applied LSN in the meta bucket, and drops what it applied from the
// overlay. When the next frame does not fit, the committer
// checkpoints everything and starts a new cycle at the start of the file; a
// batch larger than the whole journal is committed directly to bbolt after
// a checkpoint. Close runs a final checkpoint.
//
// File format 2 (JournalFormat), all integers big endian, CRC-32C:
//
//	0     header slot A: "CPNPJRNL" | format u32 | salt u32 | start LSN u64 | CRC of the 24 bytes before
//	2048  header slot B (same layout)
//	4096  frames, each at a multiple of 4096 bytes:
//	      LSN u64 | length u32 | CRC of salt, LSN, length and payload | payload | zero padding
//	payload: count uvarint, then count x (type byte 1 put / 2 delete | kind | id | put: record)
//
// where kind, id and record are uvarint-length-prefixed and record is the
// record encoding stored in bbolt (its own CRC included). Every cycle has
// a new random, non-zero salt, so that no block left by an earlier cycle
// (not even a record value holding the bytes of a well-formed frame) can
// pass for a frame of the current one. Format 1, still read, is format 2
// with salt 0 and frame CRCs that do not cover it. The valid slot
// with the higher start LSN is current (with equal start LSNs, left by a
// cycle without frames, the one whose salt the first frame carries); a
// new cycle writes the other slot
// (after everything before it is applied to bbolt) and fdatasyncs it, so a
// header torn by a power loss leaves the previous one. The file is created
// full size (default 64 MiB, Options.JournalSize) by writing zeros, fsynced
// and renamed into place, and never changes size, so that every later
// fdatasync is a pure data overwrite. Frames are block-aligned so that a
// commit never rewrites the block of an acknowledged frame.
//
// Recovery at Open reads the current header, then frames in order while
// each has the next LSN and a valid CRC, stopping at the first that does
// not: a torn or garbage frame, or a stale frame of the previous cycle, was
// never acknowledged, nor was anything after it. Every frame with an LSN
// above the applied LSN is replayed into bbolt, in synced transactions of
// whole frames (idempotent: frames hold final records, so a checkpoint
// interrupted between its transactions is simply redone; MaxSize is not
// enforced for them). A data file written without a journal opens and gets one. A
// missing or unreadable journal is recreated if the data file records a
// clean Close (meta journal-state "closed"); otherwise Open fails with a
// *JournalError naming the file, because it may hold acknowledged writes
// (opening with NoJournal accepts the loss). A journal whose cycle starts
// after the data file's applied LSN + 1 (a data file restored from an older
// copy) is refused the same way, and a journal of an unknown format with a
// *JournalFormatError. A NoJournal Store replays a journal it finds and
// then leaves it alone.
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
// ("data directory in use"); the lock covers the journal next to it. The meta bucket records SchemaVersion; a file
// written by a newer release is refused with a *SchemaError.
package store
