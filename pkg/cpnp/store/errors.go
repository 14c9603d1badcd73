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
)

// Sentinel errors. Callers test them with errors.Is; the errors returned by
// the Store wrap them with context.
var (
	// ErrNotFound reports that no record has the requested kind and ID, or
	// that no record carries the requested index value.
	ErrNotFound = errors.New("store: record not found")
	// ErrAmbiguous reports that a lookup expected one record and found several.
	ErrAmbiguous = errors.New("store: several records match")
	// ErrClosed reports a call on a Store that Close has begun to close.
	ErrClosed = errors.New("store: closed")
	// ErrInUse reports that another process (or another Store in this
	// process) holds the data file lock: the data directory is in use.
	ErrInUse = errors.New("store: data directory in use")
	// ErrQueueFull reports that the write queue holds Options.QueueSize
	// submissions: TryWrite returns it at once, Write when its context ends
	// first.
	ErrQueueFull = errors.New("store: write queue full")
	// ErrFull reports a write that would grow the data file beyond
	// Options.MaxSize. The write is not applied; the Store stays usable, and
	// deleting records makes room again.
	ErrFull = errors.New("store: data file reached its maximum size")
	// ErrFailed reports that an earlier commit failed in a way that leaves
	// durability unknown (an I/O or fsync error). The Store accepts no more
	// writes; reopening it recovers the last committed state.
	ErrFailed = errors.New("store: failed, reopen to recover")
	// ErrInvalidOp reports an Op that can never be applied (bad kind, ID,
	// index name or size). It is returned synchronously by Write.
	ErrInvalidOp = errors.New("store: invalid op")
	// ErrNotStore reports a file that is a bbolt database but not a store
	// (it has buckets and no store metadata), or has unreadable metadata.
	ErrNotStore = errors.New("store: not a cpnp store")
	// ErrCorrupt reports a record or index entry that fails its integrity
	// check. See CorruptError.
	ErrCorrupt = errors.New("store: corrupt data")
	// ErrSchemaTooNew reports a data file written by a newer release. See
	// SchemaError.
	ErrSchemaTooNew = errors.New("store: schema version too new")
	// ErrJournalFormat reports a journal file written in a format this
	// release cannot read. See JournalFormatError.
	ErrJournalFormat = errors.New("store: unsupported journal format")
	// ErrJournal reports a journal file that is missing or damaged while
	// it may hold acknowledged writes. See JournalError.
	ErrJournal = errors.New("store: journal unusable")
)

// SchemaError reports a data file whose schema version this release cannot
// read, typically one written by a newer release after a downgrade.
type SchemaError struct {
	// Path is the data file.
	Path string
	// Found is the version recorded in the file.
	Found uint64
	// Supported is the newest version this release reads (SchemaVersion).
	Supported uint64
}

// Error implements error.
func (e *SchemaError) Error() string {
	return fmt.Sprintf("store %s: schema version %d is newer than supported version %d: upgrade this program or use another data directory",
		e.Path, e.Found, e.Supported)
}

// Unwrap lets errors.Is match ErrSchemaTooNew.
func (e *SchemaError) Unwrap() error { return ErrSchemaTooNew }

// CorruptError reports a stored record (or index entry) that cannot be
// decoded or fails its checksum. The record can still be overwritten or
// deleted, which repairs its index entries.
type CorruptError struct {
	// Kind and ID name the record.
	Kind, ID string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("store: corrupt record %s/%q: %s", e.Kind, e.ID, e.Reason)
}

// Unwrap lets errors.Is match ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// JournalFormatError reports a journal file (see JournalSuffix) whose
// format version this release cannot read, typically one written by a
// newer release after a downgrade. The journal may hold acknowledged
// writes, so Open refuses to go on without it.
type JournalFormatError struct {
	// Path is the journal file.
	Path string
	// Found is the format recorded in its header.
	Found uint32
	// Supported is the format this release reads (JournalFormat).
	Supported uint32
}

// Error implements error.
func (e *JournalFormatError) Error() string {
	return fmt.Sprintf("store journal %s: format %d is not supported (this release reads format %d): upgrade this program, or open the data directory with the release that wrote it and close it cleanly",
		e.Path, e.Found, e.Supported)
}

// Unwrap lets errors.Is match ErrJournalFormat.
func (e *JournalFormatError) Unwrap() error { return ErrJournalFormat }

// JournalError reports a journal file that Open cannot use although it may
// hold acknowledged writes that the data file lacks: it is missing after an
// unclean shutdown, has no valid header, or is ahead of a data file restored
// from an older copy.
type JournalError struct {
	// Path is the journal file.
	Path string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *JournalError) Error() string {
	return fmt.Sprintf("store journal %s: %s", e.Path, e.Reason)
}

// Unwrap lets errors.Is match ErrJournal.
func (e *JournalError) Unwrap() error { return ErrJournal }
