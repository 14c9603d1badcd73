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
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version this release writes and the newest it
// reads. It is recorded in the meta bucket when a data file is created; a
// file with a newer version is refused with a *SchemaError.
const SchemaVersion uint64 = 1

// DefaultFileName is the data file that Open creates in a data directory.
const DefaultFileName = "cpnp.db"

// Defaults applied to zero Options fields.
const (
	DefaultLockTimeout = time.Second
	DefaultQueueSize   = 4096
	DefaultMaxBatchOps = 8192
	DefaultFileMode    = fs.FileMode(0o600)
	// MinMaxSize is the smallest non-zero Options.MaxSize.
	MinMaxSize = 1 << 20
	// DefaultJournalSize is the default Options.JournalSize.
	DefaultJournalSize = 64 << 20
	// MinJournalSize is the smallest non-zero Options.JournalSize.
	MinJournalSize = 1 << 20
	// MaxJournalSize is the largest Options.JournalSize: a frame records
	// its payload length in 32 bits.
	MaxJournalSize = 1 << 32
	// DefaultCheckpointInterval is the default Options.CheckpointInterval.
	// A checkpoint is a bbolt transaction with two fsyncs of the data file,
	// and a journal commit that meets one waits behind them on the device:
	// at 100 ms (the default before issue #3's measurements) that was the
	// slowest percent of the server's negotiations (BenchmarkE2E p99 2.8
	// ms against 1.8 ms at 1 s). A longer interval costs no durability (the
	// journal holds the records) and the overlay stays bounded by
	// checkpointOps.
	DefaultCheckpointInterval = time.Second
	// checkpointOps is how many records in the overlay start a checkpoint
	// before the interval ends.
	checkpointOps = 4096
)

// Bucket layout (schema version 1):
//
//	meta/schema                  decimal SchemaVersion
//	meta/journal-lsn             decimal LSN of the last journal frame applied
//	meta/journal-state           "open" while a journaling Store has the file
//	                             open, "closed" after a clean Close
//	kinds/<kind>/records/<id>    encoded record (see encodeRecord)
//	kinds/<kind>/index/<entry>   empty; entry = indexPrefix(name, key) + id
var (
	bucketMeta    = []byte("meta")
	bucketKinds   = []byte("kinds")
	bucketRecords = []byte("records")
	bucketIndex   = []byte("index")
	keySchema     = []byte("schema")
	keyJournalLSN = []byte("journal-lsn")
	keyJournalSt  = []byte("journal-state")
)

// Values of meta/journal-state.
const (
	journalOpen   = "open"
	journalClosed = "closed"
)

// Options configures a Store. The zero value is valid and uses the defaults.
type Options struct {
	// LockTimeout bounds how long Open waits for the data file lock held by
	// another process before it fails with ErrInUse (default 1 s).
	LockTimeout time.Duration
	// QueueSize is how many accepted submissions may wait for the committer
	// (default 4096). When the queue is full, Write blocks (backpressure)
	// and TryWrite fails with ErrQueueFull.
	QueueSize int
	// MaxBatchOps caps the ops of one commit (default 8192), bounding the
	// memory and latency of one commit, and the records of one checkpoint
	// or replay transaction. A single submission with more ops is committed
	// alone, never split.
	MaxBatchOps int
	// MaxSize caps the data file in bytes; 0 means no cap, otherwise at
	// least MinMaxSize. A commit that would grow the file beyond it fails
	// with ErrFull. In journal mode this is an estimate made when a write
	// is journaled (see the package documentation, "Group commit").
	MaxSize int64
	// FileMode is the permission of a newly created data file (default
	// 0600); it must let the owner read and write.
	FileMode fs.FileMode
	// Logger receives commit failures. The zero value discards.
	Logger logr.Logger
	// NoJournal turns the write-ahead journal off: every batch is then one
	// synced bbolt transaction (two fsyncs, more allocation), the behaviour
	// before the journal existed. A journal file left by an earlier run is
	// still replayed at Open.
	NoJournal bool
	// JournalSize is the size in bytes of the preallocated journal file
	// (default 64 MiB, between MinJournalSize and MaxJournalSize). A
	// batch larger than the journal is committed directly to bbolt.
	JournalSize int64
	// CheckpointInterval is how often the journaled writes are applied to
	// the data file in the background (default 1 s). A checkpoint also
	// starts when many records wait or the journal is half full.
	CheckpointInterval time.Duration

	// hooks lets tests of this package pause the committer and inject faults.
	hooks *testHooks
}

// testHooks are fault-injection points for this package's tests.
type testHooks struct {
	// beforeApply runs in the committer before a batch is applied; it may block.
	beforeApply func(submissions int)
	// applyOp runs before each op is applied; an error fails the submission
	// as if applying the op had.
	applyOp func(op Op) error
	// commit replaces tx.Commit.
	commit func(tx *bolt.Tx) error
	// journalWrite runs before a frame is written at off; an error fails
	// the write as an I/O error would.
	journalWrite func(frame []byte, off int64) error
	// journalSync replaces the journal's fdatasync.
	journalSync func() error
	// checkpointCommit replaces the checkpoint transaction's tx.Commit.
	checkpointCommit func(tx *bolt.Tx) error
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	var errs []error
	if o.LockTimeout < 0 {
		errs = append(errs, fmt.Errorf("lockTimeout %s must not be negative", o.LockTimeout))
	}
	if o.QueueSize < 0 {
		errs = append(errs, fmt.Errorf("queueSize %d must not be negative", o.QueueSize))
	}
	if o.MaxBatchOps < 0 {
		errs = append(errs, fmt.Errorf("maxBatchOps %d must not be negative", o.MaxBatchOps))
	}
	if o.MaxSize != 0 && (o.MaxSize < MinMaxSize || o.MaxSize > math.MaxInt) {
		errs = append(errs, fmt.Errorf("maxSize %d must be 0 (no cap) or between %d and %d", o.MaxSize, MinMaxSize, math.MaxInt))
	}
	if o.JournalSize != 0 && (o.JournalSize < MinJournalSize || o.JournalSize > MaxJournalSize) {
		errs = append(errs, fmt.Errorf("journalSize %d must be 0 (default) or between %d and %d", o.JournalSize, MinJournalSize, int64(MaxJournalSize)))
	}
	if o.CheckpointInterval < 0 {
		errs = append(errs, fmt.Errorf("checkpointInterval %s must not be negative", o.CheckpointInterval))
	}
	if o.FileMode&^fs.ModePerm != 0 {
		errs = append(errs, fmt.Errorf("fileMode %s must hold permission bits only", o.FileMode))
	} else if o.FileMode != 0 && o.FileMode&0o600 != 0o600 {
		errs = append(errs, fmt.Errorf("fileMode %s must let the owner read and write", o.FileMode))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid store options: %w", errors.Join(errs...))
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.LockTimeout == 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.QueueSize == 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.MaxBatchOps == 0 {
		o.MaxBatchOps = DefaultMaxBatchOps
	}
	if o.FileMode == 0 {
		o.FileMode = DefaultFileMode
	}
	if o.JournalSize == 0 {
		o.JournalSize = DefaultJournalSize
	}
	// Frames are whole blocks.
	o.JournalSize = o.JournalSize / journalBlock * journalBlock
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	return o
}

// Store is a durable repository of opaque records on one bbolt file, with a
// group-committing writer and (unless Options.NoJournal) a write-ahead
// journal. Reads run concurrently with writes and see only
// committed data. All methods are safe for concurrent use.
type Store struct {
	path      string
	opts      Options
	db        *bolt.DB
	log       logr.Logger
	hooks     *testHooks
	scanChunk int

	// mu guards closed against queue sends: Write holds it for reading
	// while it sends, Close takes it for writing before it closes queue.
	mu      sync.RWMutex
	closed  bool
	closing chan struct{}
	queue   chan *request
	stopped chan struct{}

	closeOnce sync.Once
	closeErr  error

	// failed holds the sticky error after a commit failed with unknown
	// durability; nil while healthy.
	failed atomic.Pointer[error]

	submitted, acked, rejected, commits, ops, checkpoints atomic.Uint64

	// arena holds the encoded records of the transaction being committed
	// (write.go, resetArena); owned by the committer goroutine.
	arena arena

	// Journal mode (nil jnl: NoJournal); see journal.go and checkpoint.go.
	// The committer owns jnl, batchView and recs.
	jnl       *journal
	batchView map[string]*jrec
	recs      []*jrec
	undo      []undoEntry

	// ovMu guards the overlay: the records journaled but not yet applied
	// to bbolt, by ovKey. The committer evaluates a batch under RLock (so
	// that no entry is pruned while it also reads bbolt) and publishes
	// under Lock; a checkpoint prunes under Lock.
	ovMu    sync.RWMutex
	overlay map[string]*jrec
	// ovCost is the estimated bbolt growth of applying the overlay.
	ovCost int64
	// published is the LSN of the last frame published to the overlay.
	published uint64

	// ckMu serializes checkpoints; it guards applied and dbClosed
	// transitions.
	ckMu    sync.Mutex
	applied uint64
	// dbClosed is set (under ckMu) before Close closes the files.
	dbClosed atomic.Bool
	ckKick   chan struct{}
	ckStop   chan struct{}
	ckDone   chan struct{}
}

// Stats counts the Store's work since Open. Acknowledged / Commits is the
// number of writes that shared one fsync.
type Stats struct {
	// Submitted counts submissions accepted by Write, TryWrite and WriteSync.
	Submitted uint64
	// Acknowledged counts submissions whose done reported success.
	Acknowledged uint64
	// Failed counts submissions whose done reported an error.
	Failed uint64
	// Commits counts durable commits: journal frames written and
	// fdatasynced, or (NoJournal, and batches too large for the journal)
	// bbolt read-write transactions committed.
	Commits uint64
	// Checkpoints counts checkpoints: each applies the journaled records to
	// the data file (in the background, before a read that needs them, or
	// at a wrap), in one or more bbolt transactions of at most MaxBatchOps
	// records.
	Checkpoints uint64
	// Ops counts ops committed.
	Ops uint64
	// Queued is the number of submissions waiting for the committer now.
	Queued int
}

// Open opens the store in data directory dir, creating the directory (mode
// 0700, with its missing parents) and the data file DefaultFileName when
// they are missing (DESIGN §3: cpnp-server creates --data-dir if missing).
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open store: data directory must not be empty")
	}
	return OpenFile(filepath.Join(dir, DefaultFileName), opts)
}

// OpenFile opens the store in the data file path, creating it and its
// missing parent directories. It fails with ErrInUse when another process
// holds the file for longer than Options.LockTimeout, with a *SchemaError
// when the file was written by a newer release, and with ErrNotStore when
// the file is some other bbolt database.
func OpenFile(path string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	opts = opts.withDefaults()
	dir := filepath.Dir(path)
	if err := mkdirAllSync(dir); err != nil {
		return nil, fmt.Errorf("open store %s: create data directory: %w", path, err)
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	db, err := bolt.Open(path, opts.FileMode, &bolt.Options{
		Timeout: opts.LockTimeout,
		// Durable commits: every commit fsyncs. The freelist is rebuilt by
		// a scan at open instead of being written at every commit.
		NoSync:         false,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		MaxSize:        int(opts.MaxSize),
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open store %s: %w: another process holds its lock (waited %s)", path, ErrInUse, opts.LockTimeout)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if created {
		// Make the new file's directory entry durable before the first
		// acknowledged write depends on it.
		if err := syncDir(dir); err != nil {
			return nil, errors.Join(fmt.Errorf("open store %s: sync data directory: %w", path, err), db.Close())
		}
	}
	if err := initSchema(db, path); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	s := &Store{
		path:      path,
		opts:      opts,
		db:        db,
		log:       opts.Logger,
		hooks:     opts.hooks,
		scanChunk: defaultScanChunk,
		closing:   make(chan struct{}),
		queue:     make(chan *request, opts.QueueSize),
		stopped:   make(chan struct{}),
	}
	if err := s.openJournal(); err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), db.Close())
	}
	go s.run()
	if s.jnl != nil {
		go s.checkpointLoop()
	}
	return s, nil
}

// initSchema records SchemaVersion in a new file and checks it in an
// existing one.
func initSchema(db *bolt.DB, path string) error {
	return db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			foreign := false
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error {
				foreign = true
				return nil
			})
			if foreign {
				return fmt.Errorf("open store %s: %w: it has buckets but no store metadata", path, ErrNotStore)
			}
			meta, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return fmt.Errorf("open store %s: create meta bucket: %w", path, err)
			}
			if err := meta.Put(keySchema, []byte(strconv.FormatUint(SchemaVersion, 10))); err != nil {
				return fmt.Errorf("open store %s: record schema version: %w", path, err)
			}
			if _, err := tx.CreateBucket(bucketKinds); err != nil {
				return fmt.Errorf("open store %s: create kinds bucket: %w", path, err)
			}
			return nil
		}
		raw := meta.Get(keySchema)
		v, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil || v == 0 {
			return fmt.Errorf("open store %s: %w: schema version %q is unreadable", path, ErrNotStore, raw)
		}
		if v > SchemaVersion {
			return &SchemaError{Path: path, Found: v, Supported: SchemaVersion}
		}
		// Versions older than SchemaVersion would be migrated here; version
		// 1 is the first.
		if tx.Bucket(bucketKinds) == nil {
			return fmt.Errorf("open store %s: %w: kinds bucket missing", path, ErrNotStore)
		}
		return nil
	})
}

// mkdirAllSync creates dir and its missing parents, then syncs the parent
// of each directory it created so that the new entries survive a crash.
func mkdirAllSync(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, d := range missing {
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// syncDir fsyncs a directory so that entries created in it are durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// Path returns the data file.
func (s *Store) Path() string { return s.path }

// Stats returns the counters since Open.
func (s *Store) Stats() Stats {
	return Stats{
		Submitted:    s.submitted.Load(),
		Acknowledged: s.acked.Load(),
		Failed:       s.rejected.Load(),
		Commits:      s.commits.Load(),
		Checkpoints:  s.checkpoints.Load(),
		Ops:          s.ops.Load(),
		Queued:       len(s.queue),
	}
}

// Close stops accepting writes (they fail with ErrClosed, including Writes
// blocked on a full queue), commits every submission already accepted and
// calls its done, waits for the committer, runs a final checkpoint (journal
// mode, unless the Store failed) and closes the files. It is idempotent. It must not be called from a done
// callback (the committer would wait for itself).
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing) // wakes Writes blocked on a full queue
		s.mu.Lock()
		s.closed = true
		close(s.queue)
		s.mu.Unlock()
		<-s.stopped
		var errs []error
		if s.jnl != nil {
			close(s.ckStop)
			<-s.ckDone
			errs = append(errs, s.closeJournal())
		}
		if err := s.db.Close(); err != nil {
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close store %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// view runs fn in a read transaction, mapping a closed database to ErrClosed.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	err := s.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// kindBuckets returns the records and index buckets of kind, nil when the
// kind has never been written.
func kindBuckets(tx *bolt.Tx, kind string) (recs, idx *bolt.Bucket) {
	kinds := tx.Bucket(bucketKinds)
	if kinds == nil {
		return nil, nil
	}
	kb := kinds.Bucket([]byte(kind))
	if kb == nil {
		return nil, nil
	}
	return kb.Bucket(bucketRecords), kb.Bucket(bucketIndex)
}

// Get returns the committed record id of kind, or an error wrapping
// ErrNotFound. A damaged record yields a *CorruptError. In journal mode it
// reads a write acknowledged but not yet checkpointed from the overlay.
func (s *Store) Get(kind, id string) (Record, error) {
	if s.jnl != nil {
		if s.dbClosed.Load() {
			return Record{}, fmt.Errorf("get %s/%q: %w", kind, id, ErrClosed)
		}
		s.ovMu.RLock()
		e := s.overlay[ovKey(kind, id)]
		s.ovMu.RUnlock()
		if e != nil {
			if e.del {
				return Record{}, fmt.Errorf("get %s/%q: %w", kind, id, ErrNotFound)
			}
			rec, err := decodeRecord(kind, id, e.enc)
			if err != nil {
				return Record{}, fmt.Errorf("get %s/%q: %w", kind, id, err)
			}
			return rec, nil
		}
	}
	var rec Record
	err := s.view(func(tx *bolt.Tx) error {
		recs, _ := kindBuckets(tx, kind)
		if recs == nil {
			return ErrNotFound
		}
		raw := recs.Get([]byte(id))
		if raw == nil {
			return ErrNotFound
		}
		var err error
		rec, err = decodeRecord(kind, id, raw)
		return err
	})
	if err != nil {
		return Record{}, fmt.Errorf("get %s/%q: %w", kind, id, err)
	}
	return rec, nil
}

// Lookup returns the committed records of kind whose index name has key, in
// ID order; none is not an error. It costs O(log n + matches): it reads
// only the matching index entries and records. An empty key matches
// nothing (empty keys are not indexed). In journal mode it first applies
// the journaled writes to the data file (a checkpoint).
func (s *Store) Lookup(kind, name, key string) ([]Record, error) {
	var out []Record
	if err := s.flush(); err != nil {
		return nil, fmt.Errorf("lookup %s by %s: %w", kind, describeIndex(name, key), err)
	}
	err := s.view(func(tx *bolt.Tx) error {
		recs, idx := kindBuckets(tx, kind)
		if recs == nil || idx == nil || key == "" {
			return nil
		}
		prefix := indexPrefix(name, key)
		c := idx.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := string(k[len(prefix):])
			raw := recs.Get(k[len(prefix):])
			if raw == nil {
				return &CorruptError{Kind: kind, ID: id, Reason: "index entry " + describeIndex(name, key) + " without record"}
			}
			rec, err := decodeRecord(kind, id, raw)
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lookup %s by %s: %w", kind, describeIndex(name, key), err)
	}
	return out, nil
}

// LookupOne returns the one committed record of kind whose index name has
// key. It fails with ErrNotFound when there is none and ErrAmbiguous when
// there are several.
func (s *Store) LookupOne(kind, name, key string) (Record, error) {
	recs, err := s.Lookup(kind, name, key)
	if err != nil {
		return Record{}, err
	}
	switch len(recs) {
	case 0:
		return Record{}, fmt.Errorf("lookup %s by %s: %w", kind, describeIndex(name, key), ErrNotFound)
	case 1:
		return recs[0], nil
	default:
		return Record{}, fmt.Errorf("lookup %s by %s: %w: %d records", kind, describeIndex(name, key), ErrAmbiguous, len(recs))
	}
}

// defaultScanChunk is how many records Scan reads per read transaction.
const defaultScanChunk = 256

// Scan calls fn for every committed record of kind, in ID order, and stops
// at the first error fn returns, which Scan returns unchanged. It streams:
// it holds at most one chunk of records in memory and no transaction while
// fn runs, so fn may submit writes (and even wait for them). Scan is not a
// snapshot: a record written during the scan may or may not be seen, but no
// record is seen twice. Engines use it at startup to rebuild in-memory state
// (RFC 8921 §8.11: state recovery after a reboot). A damaged record stops
// the scan with a *CorruptError. In journal mode each chunk is read after a
// checkpoint, so the scan sees every write acknowledged before it starts.
func (s *Store) Scan(kind string, fn func(Record) error) error {
	var after []byte
	for {
		chunk := make([]Record, 0, s.scanChunk)
		if err := s.flush(); err != nil {
			return fmt.Errorf("scan %s: %w", kind, err)
		}
		err := s.view(func(tx *bolt.Tx) error {
			recs, _ := kindBuckets(tx, kind)
			if recs == nil {
				return nil
			}
			c := recs.Cursor()
			var k, v []byte
			if after == nil {
				k, v = c.First()
			} else if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
			for ; k != nil && len(chunk) < s.scanChunk; k, v = c.Next() {
				rec, err := decodeRecord(kind, string(k), v)
				if err != nil {
					return err
				}
				chunk = append(chunk, rec)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scan %s: %w", kind, err)
		}
		for _, rec := range chunk {
			if err := fn(rec); err != nil {
				return err
			}
		}
		if len(chunk) < s.scanChunk {
			return nil
		}
		after = []byte(chunk[len(chunk)-1].ID)
	}
}

// maxCheckErrors bounds the problems Check reports.
const maxCheckErrors = 100

// Check verifies the data file: bbolt's page-level consistency check
// (tx.Check), the schema metadata, every record's checksum, and that the
// index entries are exactly those the records declare. It reads the whole
// file in one read transaction, after a checkpoint in journal mode; use it
// in tests, tools and after a crash, not on a hot path.
func (s *Store) Check() error {
	var errs []error
	add := func(err error) {
		if len(errs) <= maxCheckErrors {
			errs = append(errs, err)
		}
	}
	if err := s.flush(); err != nil {
		return fmt.Errorf("check store %s: %w", s.path, err)
	}
	err := s.view(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			add(err)
		}
		if meta := tx.Bucket(bucketMeta); meta == nil || meta.Get(keySchema) == nil {
			add(errors.New("schema version missing"))
		}
		kinds := tx.Bucket(bucketKinds)
		if kinds == nil {
			add(errors.New("kinds bucket missing"))
			return nil
		}
		return kinds.ForEachBucket(func(k []byte) error {
			checkKind(kinds.Bucket(k), string(k), add)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("check store %s: %w", s.path, err)
	}
	if len(errs) > maxCheckErrors {
		errs = append(errs[:maxCheckErrors], fmt.Errorf("more problems not shown"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("check store %s: %w", s.path, errors.Join(errs...))
	}
	return nil
}

// checkKind checks the records and index of one kind.
func checkKind(kb *bolt.Bucket, kind string, add func(error)) {
	recs, idx := kb.Bucket(bucketRecords), kb.Bucket(bucketIndex)
	if recs == nil || idx == nil {
		add(fmt.Errorf("kind %s: records or index bucket missing", kind))
		return
	}
	want := 0
	_ = recs.ForEach(func(k, v []byte) error {
		rec, err := decodeRecord(kind, string(k), v)
		if err != nil {
			add(err)
			return nil
		}
		for name, key := range rec.Index {
			want++
			if !hasKey(idx, append(indexPrefix(name, key), k...)) {
				add(fmt.Errorf("kind %s: record %q: index entry %s missing", kind, k, describeIndex(name, key)))
			}
		}
		return nil
	})
	got := 0
	_ = idx.ForEach(func(k, _ []byte) error {
		got++
		name, key, id, ok := parseIndexEntry(k)
		if !ok {
			add(fmt.Errorf("kind %s: malformed index entry %x", kind, k))
			return nil
		}
		raw := recs.Get([]byte(id))
		if raw == nil {
			add(fmt.Errorf("kind %s: index entry %s points to missing record %q", kind, describeIndex(name, key), id))
			return nil
		}
		if rec, err := decodeRecord(kind, id, raw); err == nil && rec.Index[name] != key {
			add(fmt.Errorf("kind %s: stale index entry %s for record %q", kind, describeIndex(name, key), id))
		}
		return nil
	})
	if got != want {
		add(fmt.Errorf("kind %s: %d index entries, records declare %d", kind, got, want))
	}
}

// hasKey reports whether b holds key k (whatever its value).
func hasKey(b *bolt.Bucket, k []byte) bool {
	got, _ := b.Cursor().Seek(k)
	return got != nil && bytes.Equal(got, k)
}
