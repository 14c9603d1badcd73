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
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// request is one accepted submission waiting for the committer.
type request struct {
	ops  []Op
	done func(error)
}

// Write submits ops to be applied atomically and durably, and returns
// without waiting for the disk. When it returns nil the submission is
// accepted: done (if not nil) will be called exactly once, from the
// committer goroutine, with nil after the ops are committed and fsynced, or
// with the error that prevented it. When it returns an error (an invalid op:
// ErrInvalidOp; the Store is closing: ErrClosed; it has failed: ErrFailed;
// ctx ended while the queue was full: ErrQueueFull and ctx.Err()) nothing
// was submitted and done is never called.
//
// Backpressure: when Options.QueueSize submissions are waiting, Write blocks
// until the committer makes room or ctx ends. Use TryWrite never to block.
//
// Group commit: the committer applies every submission waiting in the queue
// (up to Options.MaxBatchOps ops) in one bbolt transaction, one fsync, then
// calls their done callbacks in submission order. A slow disk therefore
// makes batches larger rather than throughput lower.
//
// Ordering: submissions are committed in the order Write accepted them. When
// done reports success for a submission, every earlier submission has
// already had its done called, and each of those that reported success is
// durable: a write is never durable later than one submitted after it.
//
// An empty ops is a barrier: its done is called once every earlier
// submission has been called back.
//
// done must return quickly and must not block on the engine that submits
// writes, nor call WriteSync or Close (the committer would wait for itself);
// it may call TryWrite. The Store does not copy ops: do not modify their
// Value or Index after submitting them.
func (s *Store) Write(ctx context.Context, ops []Op, done func(error)) error {
	return s.submit(ctx, ops, done, true)
}

// TryWrite is Write that never blocks: when the queue is full it fails with
// ErrQueueFull (nothing submitted, done never called), so that a
// single-goroutine engine can shed load, e.g. drop a datagram that the peer
// will retransmit (RFC 8921 §11.4).
func (s *Store) TryWrite(ops []Op, done func(error)) error {
	return s.submit(context.Background(), ops, done, false)
}

// WriteSync submits ops like Write and waits until they are durable. When
// ctx ends after the ops were accepted, WriteSync returns ctx.Err() but the
// ops may still be committed. WriteSync with no ops waits until every
// earlier submission has been called back (a flush). It must not be called
// from a done callback.
func (s *Store) WriteSync(ctx context.Context, ops ...Op) error {
	ch := make(chan error, 1)
	if err := s.submit(ctx, ops, func(err error) { ch <- err }, true); err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("wait for commit: %w", ctx.Err())
	}
}

func (s *Store) submit(ctx context.Context, ops []Op, done func(error), block bool) error {
	if err := validateOps(ops); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if done == nil {
		done = func(error) {}
	}
	r := &request{ops: ops, done: done}
	// Only Close takes mu for writing, so a failed TryRLock means Close has
	// begun. Never blocking here keeps a done callback that calls TryWrite
	// from deadlocking against Close.
	if !s.mu.TryRLock() {
		return fmt.Errorf("write: %w", ErrClosed)
	}
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("write: %w", ErrClosed)
	}
	if err := s.failure(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	// Count the submission before the committer can call it back, so that
	// Stats never shows more acknowledged than submitted.
	s.submitted.Add(1)
	select {
	case s.queue <- r:
		return nil
	default:
	}
	var err error
	if !block {
		err = fmt.Errorf("write: %w (%d submissions waiting)", ErrQueueFull, cap(s.queue))
	} else {
		select {
		case s.queue <- r:
			return nil
		case <-ctx.Done():
			err = fmt.Errorf("write: %w: %w", ErrQueueFull, ctx.Err())
		case <-s.closing:
			err = fmt.Errorf("write: %w", ErrClosed)
		}
	}
	s.submitted.Add(^uint64(0)) // not submitted after all
	return err
}

// failure returns the sticky error, nil while the Store is healthy.
func (s *Store) failure() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// run is the committer goroutine: it takes the first waiting submission,
// adds every other one already queued (up to MaxBatchOps ops), and commits
// them together. It returns when Close has closed the queue and the queue is
// drained.
func (s *Store) run() {
	defer close(s.stopped)
	var carry *request
	batch := make([]*request, 0, 64)
	for {
		first := carry
		carry = nil
		if first == nil {
			r, ok := <-s.queue
			if !ok {
				return
			}
			first = r
		}
		batch = append(batch[:0], first)
		n := len(first.ops)
	collect:
		for n < s.opts.MaxBatchOps {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break collect
				}
				if n+len(r.ops) > s.opts.MaxBatchOps {
					carry = r
					break collect
				}
				batch = append(batch, r)
				n += len(r.ops)
			default:
				break collect
			}
		}
		s.commit(batch)
		clear(batch) // drop references to callbacks and values
	}
}

// commit applies batch in one transaction and calls every done in order.
// A submission that fails to apply is rolled back with the whole
// transaction, failed alone, and the rest is applied again, so one bad
// submission never fails its neighbours.
func (s *Store) commit(batch []*request) {
	errs := make([]error, len(batch))
	if err := s.failure(); err != nil {
		for i := range errs {
			errs[i] = err
		}
	} else {
		if s.hooks != nil && s.hooks.beforeApply != nil {
			s.hooks.beforeApply(len(batch))
		}
		if s.jnl != nil {
			s.commitJournal(batch, errs)
		} else {
			s.commitLive(batch, errs)
		}
	}
	for i, r := range batch {
		if errs[i] != nil {
			s.rejected.Add(1)
		} else {
			s.acked.Add(1)
		}
		r.done(errs[i])
	}
}

// commitLive commits the submissions of batch whose errs entry is nil,
// recording the outcome in errs.
func (s *Store) commitLive(batch []*request, errs []error) {
	for {
		if err := s.failure(); err != nil {
			setLive(errs, err)
			return
		}
		ops, live := 0, 0
		for i, r := range batch {
			if errs[i] == nil {
				ops += len(r.ops)
				live++
			}
		}
		if ops == 0 {
			return // only barriers (or failures) left: nothing to make durable
		}
		tx, err := s.db.Begin(true)
		if err != nil {
			s.fail(batch, errs, fmt.Errorf("begin transaction: %w", err))
			return
		}
		s.resetArena()
		retry := false
		for i, r := range batch {
			if errs[i] != nil {
				continue
			}
			if err := s.apply(tx, r.ops); err != nil {
				errs[i] = fmt.Errorf("apply write: %w", err)
				retry = true
				break
			}
		}
		if retry {
			_ = tx.Rollback()
			continue
		}
		if s.hooks != nil && s.hooks.commit != nil {
			err = s.hooks.commit(tx)
		} else {
			err = tx.Commit()
		}
		switch {
		case err == nil:
			s.commits.Add(1)
			s.ops.Add(uint64(ops))
		case errors.Is(err, berrors.ErrMaxSizeReached) && live > 1:
			// Nothing was written. Commit the submissions one by one so
			// that those that fit still succeed.
			_ = tx.Rollback()
			s.commitEach(batch, errs)
		case errors.Is(err, berrors.ErrMaxSizeReached):
			_ = tx.Rollback()
			setLive(errs, fmt.Errorf("commit: %w: %w", ErrFull, err))
		default:
			_ = tx.Rollback() // already rolled back by a failed Commit; harmless
			s.fail(batch, errs, fmt.Errorf("commit: %w", err))
		}
		return
	}
}

// errSkip marks the submissions that commitEach leaves out of a transaction.
var errSkip = errors.New("skipped")

// commitEach commits each live submission of batch in its own transaction.
func (s *Store) commitEach(batch []*request, errs []error) {
	one := make([]error, len(errs))
	for i := range batch {
		if errs[i] != nil {
			continue
		}
		for j := range one {
			one[j] = errSkip
		}
		one[i] = nil
		s.commitLive(batch, one)
		errs[i] = one[i]
	}
}

// setLive sets err on every submission that has no outcome yet.
func setLive(errs []error, err error) {
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
}

// fail makes the Store fail for good after an error that leaves durability
// unknown (a write or fsync error: the kernel may have dropped the dirty
// pages, so retrying could acknowledge data that is not on disk), and fails
// the live submissions of batch.
func (s *Store) fail(batch []*request, errs []error, cause error) {
	setLive(errs, s.setFailed(cause, "submissions", len(batch)))
}

// setFailed makes the Store fail for good (see fail), logs it, and returns
// the sticky error.
func (s *Store) setFailed(cause error, kv ...any) error {
	sticky := fmt.Errorf("%w: %w", ErrFailed, cause)
	if s.failed.CompareAndSwap(nil, &sticky) {
		s.log.Error(cause, "Store failed, writes are refused until it is reopened", append([]any{"path", s.path}, kv...)...)
	}
	return *s.failed.Load()
}

// apply applies the ops of one submission in tx.
func (s *Store) apply(tx *bolt.Tx, ops []Op) error {
	kinds := tx.Bucket(bucketKinds)
	for _, op := range ops {
		if s.hooks != nil && s.hooks.applyOp != nil {
			if err := s.hooks.applyOp(op); err != nil {
				return fmt.Errorf("%s %s/%q: %w", op.Type, op.Kind, op.ID, err)
			}
		}
		if err := s.applyOp(kinds, op); err != nil {
			return fmt.Errorf("%s %s/%q: %w", op.Type, op.Kind, op.ID, err)
		}
	}
	return nil
}

// maxArena bounds the capacity of an encoding arena kept between commits.
const maxArena = 1 << 20

// arena holds the encoded records of one bbolt transaction: bbolt keeps a
// reference to every value put until the transaction ends, so an arena is
// reset only for the next one. Each arena has one owner: the committer's
// (NoJournal, and batches too large for the journal), or a replay's.
type arena struct{ b []byte }

// reset empties the arena.
func (a *arena) reset() {
	if cap(a.b) > maxArena {
		a.b = nil
	}
	a.b = a.b[:0]
}

// record encodes a record value (see encodeRecord) into the arena and
// returns it. Earlier values stay valid: the arena only grows at its end,
// and a reallocation leaves them in the old array.
func (a *arena) record(rev uint64, value []byte, index map[string]string) []byte {
	start := len(a.b)
	a.b = appendRecord(a.b, rev, value, index)
	return a.b[start:len(a.b):len(a.b)]
}

// resetArena empties the committer's arena.
func (s *Store) resetArena() { s.arena.reset() }

// applyOp applies one op: it replaces or deletes the record and brings the
// index entries in line with it.
func (s *Store) applyOp(kinds *bolt.Bucket, op Op) error {
	return applyRecord(&s.arena, kinds, op.Kind, op.ID, op.Type == OpDelete, 0, op.Value, op.Index, nil)
}

// applyRecord writes one physical record change: it deletes record id of
// kind (del) or puts it with revision rev (0: one more than the stored
// record's, 1 if there is none or it is damaged), and brings the index
// entries in line with it. The checkpoint and the journal replay pass enc,
// the record already encoded with the revision the committer decided, and
// its index: then a, rev and value are not used.
func applyRecord(a *arena, kinds *bolt.Bucket, kind, id string, del bool, rev uint64, value []byte, index map[string]string, enc []byte) error {
	var recs, idx *bolt.Bucket
	if del {
		kb := kinds.Bucket([]byte(kind))
		if kb == nil {
			return nil
		}
		recs, idx = kb.Bucket(bucketRecords), kb.Bucket(bucketIndex)
		if recs == nil || idx == nil {
			return errKindBuckets
		}
	} else {
		kb, err := kinds.CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return err
		}
		if recs, err = kb.CreateBucketIfNotExists(bucketRecords); err != nil {
			return err
		}
		if idx, err = kb.CreateBucketIfNotExists(bucketIndex); err != nil {
			return err
		}
	}
	key := []byte(id)
	var prevRev uint64
	var oldIndex map[string]string
	if raw := recs.Get(key); raw != nil {
		prev, _, err := parseRecord(kind, id, raw)
		if err != nil {
			// Repair: drop whatever index entries point at this ID.
			if err := purgeIndex(idx, id); err != nil {
				return err
			}
		} else {
			prevRev, oldIndex = prev.Revision, prev.Index
		}
		if del {
			if err := recs.Delete(key); err != nil {
				return err
			}
		}
	}
	var newIndex map[string]string
	if !del {
		if enc == nil {
			if rev == 0 {
				rev = prevRev + 1
			}
			enc = a.record(rev, value, index)
		}
		newIndex = index
		if err := recs.Put(key, enc); err != nil {
			return err
		}
	}
	for name, k := range oldIndex {
		if newIndex[name] != k {
			if err := idx.Delete(append(indexPrefix(name, k), key...)); err != nil {
				return err
			}
		}
	}
	for name, k := range newIndex {
		if k != "" && oldIndex[name] != k {
			if err := idx.Put(append(indexPrefix(name, k), key...), []byte{}); err != nil {
				return err
			}
		}
	}
	return nil
}

// errKindBuckets reports a kind whose records or index bucket is missing.
var errKindBuckets = errors.New("kind buckets missing")

// purgeIndex deletes every index entry that points at id. It scans the
// whole index of the kind, so it runs only to repair a damaged record.
func purgeIndex(idx *bolt.Bucket, id string) error {
	var stale [][]byte
	err := idx.ForEach(func(k, _ []byte) error {
		if _, _, got, ok := parseIndexEntry(k); ok && got == id {
			stale = append(stale, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		if err := idx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
