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
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// undoEntry restores the batch view when a submission fails to evaluate.
type undoEntry struct {
	key  string
	prev *jrec
	had  bool
}

// storedIndex returns index without its empty keys, nil when none is
// left: what Record.Index holds after a Put. It returns index itself when
// nothing is dropped (the Store does not copy an Op's Index).
func storedIndex(index map[string]string) map[string]string {
	n := 0
	for _, key := range index {
		if key != "" {
			n++
		}
	}
	if n == len(index) {
		if n == 0 {
			return nil
		}
		return index
	}
	if n == 0 {
		return nil
	}
	out := make(map[string]string, n)
	for name, key := range index {
		if key != "" {
			out[name] = key
		}
	}
	return out
}

// openJournal recovers the journal next to the data file and, in journal
// mode, opens it for writing (Open runs it before any goroutine starts).
//
// The journal is replayed into bbolt, in synced transactions, from the
// first frame whose LSN is above the applied LSN recorded in bbolt's meta
// bucket. A missing journal is created, unless the data file says that a
// journaling Store had it open when it last stopped: then acknowledged
// writes may be missing and Open fails with a *JournalError (NoJournal
// accepts the loss).
func (s *Store) openJournal() error {
	jpath := s.path + JournalSuffix
	applied, state, err := s.journalMeta()
	if err != nil {
		return err
	}
	rc := recovered{last: applied}
	f, err := os.Open(jpath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if state == journalOpen && !s.opts.NoJournal {
			return &JournalError{Path: jpath, Reason: "missing, but the data file says a journaling store had it open when it stopped, so it may hold acknowledged writes: restore the file, or open with NoJournal to accept the loss"}
		}
		rc.size = -1
	case err != nil:
		return fmt.Errorf("open journal: %w", err)
	default:
		rc, err = readJournal(f, jpath, applied)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		var je *JournalError
		if errors.As(err, &je) && state != journalOpen {
			// Cleanly closed: the data file has everything; start afresh.
			s.log.Info("Replacing an unusable journal of a cleanly closed store", "path", jpath, "reason", je.Reason)
			rc, err = recovered{last: applied, size: -1}, nil
		}
		if err != nil {
			return fmt.Errorf("recover journal %s: %w", jpath, err)
		}
		if rc.start > applied+1 {
			return &JournalError{Path: jpath, Reason: fmt.Sprintf("the data file applied the journal up to LSN %d but the journal starts at LSN %d: the data file is older than its journal (restored from a copy?)", applied, rc.start)}
		}
		// Never reuse an applied LSN: a frame carrying one would be
		// skipped by the next recovery.
		rc.last = max(rc.last, applied)
	}
	newState := journalOpen
	if s.opts.NoJournal {
		newState = journalClosed
	}
	create := !s.opts.NoJournal && rc.size != s.opts.JournalSize
	// A new journal is created before the data file says it is in use; an
	// existing one (of another size) is replaced only after its frames are
	// applied. The rename keeps a journal file in place at every moment.
	var salt uint32
	createNew := func() (err error) {
		if salt, err = createJournal(jpath, s.opts.JournalSize, rc.last+1, s.opts.FileMode); err != nil {
			return fmt.Errorf("create journal %s: %w", jpath, err)
		}
		return nil
	}
	if create && rc.size < 0 {
		if err := createNew(); err != nil {
			return err
		}
	}
	if err := s.replay(rc, newState); err != nil {
		return err
	}
	if create && rc.size >= 0 {
		if err := createNew(); err != nil {
			return err
		}
	}
	s.applied, s.published = rc.last, rc.last
	if s.opts.NoJournal {
		return nil
	}
	// MaxSize is enforced when a submission is journaled (evaluate), never
	// after it was acknowledged: a checkpoint must apply every acknowledged
	// record, so bbolt itself gets no cap (its ErrMaxSizeReached in a
	// checkpoint would fail the Store for good). Set before any goroutine
	// starts; bbolt reads it only in read-write transactions.
	s.db.MaxSize = 0
	if create {
		f, err := os.OpenFile(jpath, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("open journal: %w", err)
		}
		s.jnl = &journal{f: f, path: jpath, size: s.opts.JournalSize, slot: 0, off: firstFrameOffset, kickOff: firstFrameOffset, next: rc.last + 1, seed: saltSeed(salt)}
	} else if s.jnl, err = reopenJournal(jpath, rc.size, rc.slot, rc.last+1); err != nil {
		return fmt.Errorf("open journal %s: %w", jpath, err)
	}
	s.jnl.openWriter()
	s.overlay = make(map[string]*jrec)
	s.batchView = make(map[string]*jrec)
	s.ckKick = make(chan struct{}, 1)
	s.ckStop = make(chan struct{})
	s.ckDone = make(chan struct{})
	return nil
}

// journalMeta reads the applied LSN and the journal state from bbolt.
func (s *Store) journalMeta() (applied uint64, state string, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if raw := meta.Get(keyJournalLSN); raw != nil {
			v, err := strconv.ParseUint(string(raw), 10, 64)
			if err != nil {
				return fmt.Errorf("%w: journal LSN %q is unreadable", ErrNotStore, raw)
			}
			applied = v
		}
		state = string(meta.Get(keyJournalSt))
		return nil
	})
	return applied, state, err
}

// replay applies the recovered frames to bbolt and records the applied
// LSN and the journal state, in synced transactions of whole frames and
// about MaxBatchOps records each (the last one also records the state).
// MaxSize does not apply: these writes were acknowledged.
func (s *Store) replay(rc recovered, state string) error {
	maxSize := s.db.MaxSize
	s.db.MaxSize = 0
	defer func() { s.db.MaxSize = maxSize }()
	lsn := rc.last - uint64(len(rc.frames)) // applied before the first frame
	frames := rc.frames
	for {
		n, records := 0, 0
		for n < len(frames) && (n == 0 || records+len(frames[n]) <= s.opts.MaxBatchOps) {
			records += len(frames[n])
			n++
		}
		chunk := frames[:n]
		frames = frames[n:]
		lsn += uint64(n)
		last := len(frames) == 0
		err := s.db.Update(func(tx *bolt.Tx) error {
			kinds, meta := tx.Bucket(bucketKinds), tx.Bucket(bucketMeta)
			var a arena
			for _, frame := range chunk {
				for _, e := range frame {
					if err := applyRecord(&a, kinds, e.kind, e.id, e.del, e.rev, e.value, e.index, e.enc); err != nil {
						return fmt.Errorf("%s/%q: %w", e.kind, e.id, err)
					}
				}
			}
			err := meta.Put(keyJournalLSN, []byte(strconv.FormatUint(lsn, 10)))
			if err == nil && last {
				err = meta.Put(keyJournalSt, []byte(state))
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("replay journal: %w", err)
		}
		if last {
			return nil
		}
	}
}

// closeJournal runs the final checkpoint (unless the Store failed: the
// journal then keeps what bbolt lacks, for the next Open) and closes the
// journal.
func (s *Store) closeJournal() error {
	var err error
	if s.failure() == nil {
		err = s.checkpoint(true)
	}
	s.ckMu.Lock()
	s.dbClosed.Store(true)
	s.ckMu.Unlock()
	return errors.Join(err, s.jnl.close())
}

// commitJournal is the journal-mode commit of batch: evaluate the live
// submissions into final records, write them as one frame, fdatasync, and
// publish them to the overlay. A submission that cannot be applied (or
// would exceed MaxSize) fails alone.
func (s *Store) commitJournal(batch []*request, errs []error) {
	recs, err := s.evaluate(batch, errs)
	if err != nil {
		s.fail(batch, errs, err)
		return
	}
	if len(recs) == 0 {
		return // only barriers, deletes of missing records, or failures
	}
	ops := 0
	for i, r := range batch {
		if errs[i] == nil {
			ops += len(r.ops)
		}
	}
	// The frame is built in the committer's reused buffer; the overlay
	// keeps the encoded records until the checkpoint, so they are copied
	// into one allocation of exactly their size (a frame is padded to
	// whole 4 KiB blocks, most of it padding). The ops' own memory is
	// released now (the caller may reuse it once called back).
	j := s.jnl
	if cap(j.buf) > maxArena {
		j.buf = nil // not kept after an outsized batch
	}
	j.buf = appendUnsealedFrame(j.buf[:0], j.next, recs)
	keep := 0
	for _, e := range recs {
		keep += len(e.enc)
	}
	own := make([]byte, 0, keep)
	for _, e := range recs {
		if !e.del {
			at := len(own)
			own = append(own, e.enc...)
			e.enc = own[at:len(own):len(own)]
		}
		e.value, e.index = nil, nil
	}
	span := int64(len(j.buf))
	if span > j.capacity() {
		// Larger than the whole journal: apply everything journaled, then
		// commit this batch directly to bbolt.
		clear(s.recs)
		if err := s.checkpoint(false); err != nil {
			s.fail(batch, errs, err)
			return
		}
		s.commitLive(batch, errs)
		return
	}
	if j.off+span > j.size {
		if err := s.wrap(); err != nil {
			s.fail(batch, errs, err)
			return
		}
	}
	sealFrame(j.buf, j.seed) // after a wrap: the new cycle's salt
	if s.hooks != nil && s.hooks.journalWrite != nil {
		if err := s.hooks.journalWrite(j.buf, j.off); err != nil {
			s.fail(batch, errs, fmt.Errorf("write journal: %w", err))
			return
		}
	}
	if err := j.writeFrame(); err != nil {
		s.fail(batch, errs, fmt.Errorf("write journal: %w", err))
		return
	}
	if err := s.syncJournal(); err != nil {
		s.fail(batch, errs, fmt.Errorf("sync journal: %w", err))
		return
	}
	lsn := j.next
	j.next++
	j.off += span
	s.commits.Add(1)
	s.ops.Add(uint64(ops))

	s.ovMu.Lock()
	for _, e := range recs {
		e.lsn = lsn
		if old := s.overlay[e.key]; old != nil {
			s.ovCost -= old.cost
		}
		s.overlay[e.key] = e
		s.ovCost += e.cost
	}
	s.published = lsn
	pending := len(s.overlay)
	s.ovMu.Unlock()
	clear(s.recs)
	// Ask for an early checkpoint when many records wait, or when half the
	// journal was written since the last such request: the wrap then
	// finds little to apply.
	if half := j.off-j.kickOff > j.size/2; pending >= checkpointOps || half {
		if half {
			j.kickOff = j.off
		}
		select {
		case s.ckKick <- struct{}{}:
		default:
		}
	}
}

// syncJournal fdatasyncs the journal (or runs the test hook).
func (s *Store) syncJournal() error {
	if s.hooks != nil && s.hooks.journalSync != nil {
		return s.hooks.journalSync()
	}
	return s.jnl.sync()
}

// wrap makes room at the start of the journal: it applies every journaled
// record to bbolt (a synced checkpoint), then starts a new cycle whose
// header names the next LSN. Only then may frames of the old cycle be
// overwritten.
func (s *Store) wrap() error {
	if err := s.checkpoint(false); err != nil {
		return err
	}
	if err := s.jnl.startCycle(s.jnl.next, s.syncJournal); err != nil {
		return fmt.Errorf("wrap journal: %w", err)
	}
	return nil
}

// evaluate computes the final physical records of the live submissions of
// batch against the current state (batch so far, else the overlay, else
// bbolt, read in one read transaction), in op order. A submission that
// fails gets its error in errs and leaves no record. The error returned
// means the state could not be read.
func (s *Store) evaluate(batch []*request, errs []error) ([]*jrec, error) {
	live := false
	for i, r := range batch {
		if errs[i] == nil && len(r.ops) > 0 {
			live = true
			break
		}
	}
	if !live {
		return nil, nil
	}
	clear(s.batchView)
	recs := s.recs[:0]
	// Hold the overlay for reading during the whole evaluation: a
	// checkpoint cannot prune an entry between the moment the read
	// transaction starts and the lookup that would miss it.
	s.ovMu.RLock()
	defer s.ovMu.RUnlock()
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("begin read transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	kinds := tx.Bucket(bucketKinds)
	var used int64
	if s.opts.MaxSize > 0 {
		used = boltUsed(tx, s.db) + s.ovCost
	}
	for i, r := range batch {
		if errs[i] != nil || len(r.ops) == 0 {
			continue
		}
		from := len(recs)
		s.undo = s.undo[:0]
		var err error
		for _, op := range r.ops {
			if recs, err = s.evalOp(kinds, op, recs); err != nil {
				err = fmt.Errorf("apply write: %s %s/%q: %w", op.Type, op.Kind, op.ID, err)
				break
			}
		}
		if err == nil && s.opts.MaxSize > 0 {
			var cost int64
			for _, e := range recs[from:] {
				cost += e.cost
			}
			if est := boltFileSize(used + cost); est > s.opts.MaxSize {
				err = fmt.Errorf("commit: %w: the data file could grow to %d bytes (estimate), limit %d", ErrFull, est, s.opts.MaxSize)
			} else {
				used += cost
			}
		}
		if err != nil {
			errs[i] = err
			for k := len(s.undo) - 1; k >= 0; k-- {
				u := s.undo[k]
				if u.had {
					s.batchView[u.key] = u.prev
				} else {
					delete(s.batchView, u.key)
				}
			}
			clear(recs[from:])
			recs = recs[:from]
		}
	}
	s.recs = recs
	clear(s.undo)
	return recs, nil
}

// evalOp evaluates one op like applyOp would apply it, and appends its
// record to recs (nothing for the delete of a missing record).
func (s *Store) evalOp(kinds *bolt.Bucket, op Op, recs []*jrec) ([]*jrec, error) {
	if s.hooks != nil && s.hooks.applyOp != nil {
		if err := s.hooks.applyOp(op); err != nil {
			return recs, err
		}
	}
	del := op.Type == OpDelete
	if del {
		if kb := kinds.Bucket([]byte(op.Kind)); kb != nil && (kb.Bucket(bucketRecords) == nil || kb.Bucket(bucketIndex) == nil) {
			return recs, errKindBuckets
		}
	}
	key := ovKey(op.Kind, op.ID)
	var exists bool
	var rev uint64
	if e, ok := s.batchView[key]; ok {
		exists, rev = !e.del, e.rev
	} else if e := s.overlay[key]; e != nil {
		exists, rev = !e.del, e.rev
	} else if kb := kinds.Bucket([]byte(op.Kind)); kb != nil {
		if rb := kb.Bucket(bucketRecords); rb != nil {
			if raw := rb.Get([]byte(op.ID)); raw != nil {
				exists = true // a damaged record counts as revision 0, as in applyOp
				if prev, _, err := parseRecord(op.Kind, op.ID, raw); err == nil {
					rev = prev.Revision
				}
			}
		}
	}
	if del && !exists {
		return recs, nil
	}
	e := &jrec{key: key, kind: op.Kind, id: op.ID, del: del}
	if !del {
		e.rev, e.value, e.index = rev+1, op.Value, storedIndex(op.Index)
	}
	e.cost = growthEstimate(e)
	prev, had := s.batchView[key]
	s.undo = append(s.undo, undoEntry{key: key, prev: prev, had: had})
	s.batchView[key] = e
	return append(recs, e), nil
}

// boltPage is the page size assumed by the MaxSize estimate.
const boltPage = 4096

// growthEstimate is a deliberately high estimate of how much applying e
// can grow the data file: twice its bytes (copy-on-write keeps the old
// pages until the transaction ends) plus two pages for the record's leaf
// and one per index entry.
func growthEstimate(e *jrec) int64 {
	n := int64(len(e.kind) + len(e.id) + len(e.value) + 64)
	for name, key := range e.index {
		n += int64(len(name)+len(key)+len(e.id)) + 16
	}
	return 2*n + boltPage*int64(2+len(e.index))
}

// boltUsed is the part of the data file in use: its high-water mark minus
// its free pages.
func boltUsed(tx *bolt.Tx, db *bolt.DB) int64 {
	st := db.Stats()
	return tx.Size() - int64(st.FreePageN)*int64(db.Info().PageSize)
}

// boltFileSize is the size bbolt grows its file to when it needs n bytes:
// a power of two from 32 KiB while that is at most its 16 MiB allocation
// step, else n plus one step (bbolt's mmapSize and growSize).
func boltFileSize(n int64) int64 {
	const allocStep = 16 << 20
	for sz := int64(32 << 10); sz <= allocStep; sz *= 2 {
		if n <= sz {
			return sz
		}
	}
	return n + allocStep
}

// checkpoint applies every record published to the overlay to bbolt in one
// synced read-write transaction that also records the applied LSN, then
// removes the applied entries from the overlay (entries rewritten in the
// meantime stay). final also records that the journal was closed cleanly.
// A failure makes the Store fail for good: the acknowledged records stay in
// the journal for the next Open.
func (s *Store) checkpoint(final bool) error {
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	if s.dbClosed.Load() {
		return ErrClosed
	}
	if err := s.failure(); err != nil {
		return err
	}
	s.ovMu.RLock()
	upTo := s.published
	if upTo == s.applied && !final {
		s.ovMu.RUnlock()
		return nil
	}
	snap := make([]*jrec, 0, len(s.overlay))
	for _, e := range s.overlay {
		snap = append(snap, e)
	}
	s.ovMu.RUnlock()
	// Sorted keys make bbolt's inserts sequential. Transactions of at most
	// MaxBatchOps records bound the work of one commit as in NoJournal mode
	// (bbolt inserts into an unsplit node in linear time, so one huge
	// transaction costs quadratic time). Only the last one records the
	// applied LSN: after a crash in between, the replay re-applies the
	// frames from the previous applied LSN on, which is idempotent.
	slices.SortFunc(snap, func(a, b *jrec) int { return strings.Compare(a.key, b.key) })
	for {
		chunk := snap[:min(len(snap), s.opts.MaxBatchOps)]
		snap = snap[len(chunk):]
		last := len(snap) == 0
		if err := s.checkpointTx(chunk, last, upTo, final); err != nil {
			return err
		}
		s.ovMu.Lock()
		for _, e := range chunk {
			if s.overlay[e.key] == e {
				delete(s.overlay, e.key)
				s.ovCost -= e.cost
			}
		}
		s.ovMu.Unlock()
		if last {
			break
		}
	}
	s.applied = upTo
	s.checkpoints.Add(1)
	return nil
}

// checkpointTx applies recs to bbolt in one synced transaction; the last
// one of a checkpoint also records the applied LSN upTo (and, final, the
// clean close).
func (s *Store) checkpointTx(recs []*jrec, last bool, upTo uint64, final bool) error {
	tx, err := s.db.Begin(true)
	if err != nil {
		return s.setFailed(fmt.Errorf("checkpoint: begin transaction: %w", err))
	}
	kinds, meta := tx.Bucket(bucketKinds), tx.Bucket(bucketMeta)
	for _, e := range recs {
		var index map[string]string
		if !e.del {
			rec, _, err := parseRecord(e.kind, e.id, e.enc)
			if err != nil {
				_ = tx.Rollback()
				return s.setFailed(fmt.Errorf("checkpoint: %w", err))
			}
			index = rec.Index
		}
		if err := applyRecord(nil, kinds, e.kind, e.id, e.del, 0, nil, index, e.enc); err != nil {
			_ = tx.Rollback()
			return s.setFailed(fmt.Errorf("checkpoint: %s/%q: %w", e.kind, e.id, err))
		}
	}
	if last {
		err = meta.Put(keyJournalLSN, []byte(strconv.FormatUint(upTo, 10)))
		if err == nil && final {
			err = meta.Put(keyJournalSt, []byte(journalClosed))
		}
	}
	if err == nil {
		if s.hooks != nil && s.hooks.checkpointCommit != nil {
			err = s.hooks.checkpointCommit(tx)
		} else {
			err = tx.Commit()
		}
	}
	if err != nil {
		_ = tx.Rollback()
		return s.setFailed(fmt.Errorf("checkpoint: %w", err))
	}
	return nil
}

// checkpointLoop is the checkpointer goroutine: it checkpoints every
// CheckpointInterval, and when the committer asks (many records waiting,
// journal half full), until Close.
func (s *Store) checkpointLoop() {
	defer close(s.ckDone)
	t := time.NewTicker(s.opts.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ckStop:
			return
		case <-t.C:
		case <-s.ckKick:
		}
		_ = s.checkpoint(false) // a failure is sticky and logged
	}
}

// flush applies the journaled records to bbolt before a read that only
// reads bbolt (Lookup, Scan, Check). It is cheap when nothing is pending.
func (s *Store) flush() error {
	if s.jnl == nil {
		return nil
	}
	return s.checkpoint(false)
}
