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
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

// JournalFormat is the journal file format this release writes (see the
// package documentation, "Journal"). It also reads format 1, which has no
// salt (see journalFormatUnsalted).
const JournalFormat uint32 = 2

// journalFormatUnsalted is format 1: the same layout as format 2 with the
// salt field always 0 and frame checksums that do not cover a salt.
const journalFormatUnsalted uint32 = 1

// JournalSuffix is appended to the data file's path to name its journal:
// Open(dir) uses dir/cpnp.db.journal.
const JournalSuffix = ".journal"

// Journal layout (format 1):
//
//	offset 0     header slot A (journalHeaderLen bytes, the rest of the block zero)
//	offset 2048  header slot B
//	offset 4096  frames, each starting at a multiple of journalBlock
//
// header slot: magic[8] | format u32 | salt u32 | start LSN u64 |
// CRC-32C of the 24 bytes before it, u32 (all big endian). The valid slot
// with the higher start LSN is current; the other one is overwritten at the
// next wrap, so a header torn by a power loss leaves the previous one.
//
// frame: LSN u64 | payload length u32 | CRC-32C of (salt, LSN, length,
// payload) u32 | payload | zero padding to the next journalBlock boundary.
// Aligning frames means a commit never rewrites the disk block of an
// earlier, acknowledged frame. The salt is random and new in every cycle
// (never 0 in format 2; 0 means "not covered", format 1): a block of an
// older cycle's payload, such as a record value that holds the bytes of a
// well-formed frame, never passes for the next frame of the current cycle.
//
// payload: count uvarint, then count records, each
//
//	type byte (1 put, 2 delete) | kind string | id string | [put: record string]
//
// where string is uvarint length + bytes and record is the encoded record
// value exactly as bbolt stores it (appendRecord: revision, index keys,
// value, its own CRC-32C).
const (
	journalBlock     = 4096
	journalSlotB     = 2048
	journalHeaderLen = 28
	frameHeaderLen   = 16
	firstFrameOffset = journalBlock

	recPut    = 1
	recDelete = 2
)

var journalMagic = []byte("CPNPJRNL")

// journal is the preallocated write-ahead file. The committer goroutine
// owns it after Open.
type journal struct {
	f *os.File
	// direct is the same file opened for direct I/O (openDirect), which
	// the committer writes frames with; nil when the file system refuses
	// it, or after a direct write failed with EINVAL (writeFrame).
	direct *os.File
	path   string
	size   int64
	// slot is the offset of the current header slot.
	slot int64
	// off is where the next frame goes; next is its LSN.
	off  int64
	next uint64
	// seed is saltSeed of the current cycle's salt.
	seed uint32
	// kickOff is the offset at which the committer last asked for a
	// checkpoint because of the journal's fill (or the cycle's start).
	kickOff int64
	// buf holds the frame being written, padded to its span; the committer
	// reuses it from one frame to the next (the records the overlay keeps
	// are copied out of it, see commitJournal).
	buf []byte
}

// jrec is one physical record change: the outcome of evaluating an Op.
// The overlay holds the latest jrec of each key until a checkpoint has
// applied it to bbolt. A published jrec is never modified.
type jrec struct {
	// key is ovKey(kind, id) (not set by decodePayload).
	key      string
	kind, id string
	del      bool
	// rev is the Revision of the record after the change (0 when deleted).
	rev uint64
	// value and index are the Op's, until the record is encoded into its
	// frame (the caller may reuse them once it is called back).
	value []byte
	index map[string]string
	// enc is the encoded record (put): what the overlay reads and the
	// checkpoint stores. appendUnsealedFrame points it into the frame;
	// commitJournal gives it memory of its own before the frame's buffer
	// is reused.
	enc []byte
	// lsn is the frame that holds the change (set when published).
	lsn uint64
	// cost is the estimated bbolt growth of applying it (MaxSize).
	cost int64
}

// ovKey is the overlay key of a record: kinds cannot contain a NUL.
func ovKey(kind, id string) string { return kind + "\x00" + id }

// appendJournalHeader encodes a header slot without a salt (tests).
func appendJournalHeader(b []byte, format uint32, start uint64) []byte {
	return appendSaltedHeader(b, format, 0, start)
}

// appendSaltedHeader encodes a header slot.
func appendSaltedHeader(b []byte, format, salt uint32, start uint64) []byte {
	from := len(b)
	b = append(b, journalMagic...)
	b = binary.BigEndian.AppendUint32(b, format)
	b = binary.BigEndian.AppendUint32(b, salt)
	b = binary.BigEndian.AppendUint64(b, start)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[from:], crcTable))
}

// parseJournalHeader decodes a header slot; ok is false when the slot is
// not a valid header (torn, never written).
func parseJournalHeader(b []byte) (format uint32, start uint64, ok bool) {
	if len(b) < journalHeaderLen || !bytes.Equal(b[:8], journalMagic) {
		return 0, 0, false
	}
	if crc32.Checksum(b[:24], crcTable) != binary.BigEndian.Uint32(b[24:28]) {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(b[8:12]), binary.BigEndian.Uint64(b[16:24]), true
}

// newSalt returns a random, non-zero cycle salt.
func newSalt() (uint32, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("journal salt: %w", err)
	}
	return max(binary.BigEndian.Uint32(b[:]), 1), nil
}

// saltSeed is where the CRC of every frame of a cycle with salt starts:
// the CRC-32C of the salt's 4 bytes, 0 (nothing) for salt 0.
func saltSeed(salt uint32) uint32 {
	if salt == 0 {
		return 0
	}
	return crc32.Update(0, crcTable, binary.BigEndian.AppendUint32(nil, salt))
}

// frameCRC is the checksum of a frame: the salt (as seed, see saltSeed),
// its first 12 header bytes and its payload.
func frameCRC(seed uint32, head, payload []byte) uint32 {
	return crc32.Update(crc32.Update(seed, crcTable, head), crcTable, payload)
}

// sealFrame sets the checksum of the frame at the start of b for a cycle
// whose salt has seed.
func sealFrame(b []byte, seed uint32) {
	n := binary.BigEndian.Uint32(b[8:12])
	binary.BigEndian.PutUint32(b[12:16], frameCRC(seed, b[0:12], b[frameHeaderLen:frameHeaderLen+int(n)]))
}

// appendFrame appends the frame of lsn holding recs to b, unsalted (tests;
// the committer seals with its cycle's salt).
func appendFrame(b []byte, lsn uint64, recs []*jrec) []byte {
	from := len(b)
	b = appendUnsealedFrame(b, lsn, recs)
	sealFrame(b[from:], 0)
	return b
}

// appendUnsealedFrame appends the frame of lsn holding recs to b, padded
// to a journalBlock boundary, without its checksum (see sealFrame), and
// points each put's enc at its encoded record in the returned buffer.
func appendUnsealedFrame(b []byte, lsn uint64, recs []*jrec) []byte {
	from := len(b)
	offs := make([][2]int, len(recs)) // start and end of each put's record
	b = append(b, make([]byte, frameHeaderLen)...)
	b = binary.AppendUvarint(b, uint64(len(recs)))
	for i, r := range recs {
		if r.del {
			b = append(b, recDelete)
			b = appendString(b, r.kind)
			b = appendString(b, r.id)
			continue
		}
		b = append(b, recPut)
		b = appendString(b, r.kind)
		b = appendString(b, r.id)
		// The record string: reserve the longest uvarint, encode, then
		// move the record left over the unused length bytes.
		lenAt := len(b)
		b = append(b, make([]byte, binary.MaxVarintLen64)...)
		recAt := len(b)
		b = appendRecord(b, r.rev, r.value, r.index)
		n := len(b) - recAt
		var tmp [binary.MaxVarintLen64]byte
		w := binary.PutUvarint(tmp[:], uint64(n))
		copy(b[lenAt:], tmp[:w])
		copy(b[lenAt+w:], b[recAt:])
		b = b[:lenAt+w+n]
		offs[i] = [2]int{lenAt + w, lenAt + w + n}
	}
	payload := len(b) - from - frameHeaderLen
	h := b[from : from+frameHeaderLen]
	binary.BigEndian.PutUint64(h[0:8], lsn)
	binary.BigEndian.PutUint32(h[8:12], uint32(payload))
	if pad := (len(b) - from) % journalBlock; pad != 0 {
		b = append(b, make([]byte, journalBlock-pad)...)
	}
	for i, r := range recs {
		if !r.del {
			r.enc = b[offs[i][0]:offs[i][1]:offs[i][1]]
		}
	}
	return b
}

// frameSpan is the journal space a frame with payload bytes takes.
func frameSpan(payload int) int64 {
	n := int64(frameHeaderLen + payload)
	return (n + journalBlock - 1) / journalBlock * journalBlock
}

// decodePayload decodes the records of a frame payload.
func decodePayload(p []byte) ([]*jrec, error) {
	d := decoder{b: p}
	count := d.uvarint("record count")
	if d.err == "" && count > uint64(len(p)) {
		d.err = fmt.Sprintf("record count %d overruns the frame", count)
	}
	var out []*jrec
	for i := uint64(0); i < count && d.err == ""; i++ {
		if len(d.b) == 0 {
			d.err = "frame ends inside a record"
			break
		}
		typ := d.b[0]
		d.b = d.b[1:]
		kind := string(d.bytes("kind"))
		id := string(d.bytes("id"))
		if d.err != "" {
			break
		}
		if !validName(kind) || id == "" || len(id) > MaxIDLen {
			d.err = fmt.Sprintf("record %d: invalid kind %q or id", i, kind)
			break
		}
		switch typ {
		case recDelete:
			out = append(out, &jrec{kind: kind, id: id, del: true})
		case recPut:
			raw := d.bytes("record")
			if d.err != "" {
				break
			}
			// A copy: the caller reuses p.
			enc := append([]byte(nil), raw...)
			rec, value, err := parseRecord(kind, id, enc)
			if err != nil {
				return nil, err
			}
			out = append(out, &jrec{kind: kind, id: id, rev: rec.Revision, value: value, index: rec.Index, enc: enc})
		default:
			d.err = fmt.Sprintf("record %d: unknown type %d", i, typ)
		}
	}
	if d.err == "" && len(d.b) != 0 {
		d.err = fmt.Sprintf("%d trailing bytes", len(d.b))
	}
	if d.err != "" {
		return nil, errors.New(d.err)
	}
	return out, nil
}

// recovered is what reading a journal found.
type recovered struct {
	// frames holds the records of every valid frame whose LSN is greater
	// than the applied LSN, in LSN order.
	frames [][]*jrec
	// start is the current header's start LSN; last is the LSN of the last
	// valid frame (start-1 when there is none).
	start, last uint64
	// salt is the current header's.
	salt uint32
	// slot is the offset of the current header slot.
	slot int64
	size int64
}

// readJournal reads the header and the chain of valid frames of the
// journal f, keeping those with an LSN above applied. It stops at the first
// frame whose LSN is not the next one or whose checksum fails: that frame
// and everything after it were never acknowledged (or belong to an earlier
// cycle).
func readJournal(f *os.File, path string, applied uint64) (recovered, error) {
	var rc recovered
	fi, err := f.Stat()
	if err != nil {
		return rc, err
	}
	rc.size = fi.Size()
	if rc.size < firstFrameOffset {
		return rc, &JournalError{Path: path, Reason: fmt.Sprintf("%d bytes is too short for a journal", rc.size)}
	}
	head := make([]byte, journalBlock)
	if _, err := f.ReadAt(head, 0); err != nil {
		return rc, err
	}
	found, tie := false, false
	var tieSalt uint32
	for _, slot := range []int64{0, journalSlotB} {
		format, start, ok := parseJournalHeader(head[slot:])
		if !ok {
			continue
		}
		salt := binary.BigEndian.Uint32(head[slot+12 : slot+16])
		if format != JournalFormat && (format != journalFormatUnsalted || salt != 0) {
			return rc, &JournalFormatError{Path: path, Found: format, Supported: JournalFormat}
		}
		switch {
		case !found || start > rc.start:
			rc.start, rc.slot, rc.salt, found = start, slot, salt, true
		case start == rc.start && salt != rc.salt:
			tie, tieSalt = true, salt
		}
	}
	// Both slots name the same start LSN when a cycle began and ended
	// without a frame (Open, then Close or a crash): the newer slot is the
	// one whose salt the first frame carries, if there is a frame.
	if tie {
		valid, err := firstFrameValid(f, rc.size, rc.start, saltSeed(tieSalt))
		if err != nil {
			return rc, err
		}
		if valid {
			rc.slot, rc.salt = journalSlotB-rc.slot, tieSalt
		}
	}
	if !found {
		return rc, &JournalError{Path: path, Reason: "no valid header"}
	}
	if rc.start == 0 {
		return rc, &JournalError{Path: path, Reason: "header has start LSN 0"}
	}
	rc.last = rc.start - 1
	seed := saltSeed(rc.salt)
	var fh [frameHeaderLen]byte
	var payload []byte
	for off := int64(firstFrameOffset); off+frameHeaderLen <= rc.size; {
		if _, err := f.ReadAt(fh[:], off); err != nil {
			return rc, err
		}
		lsn := binary.BigEndian.Uint64(fh[0:8])
		n := int64(binary.BigEndian.Uint32(fh[8:12]))
		if lsn != rc.last+1 {
			break
		}
		if n == 0 || off+frameSpan(int(n)) > rc.size {
			break
		}
		if int64(cap(payload)) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := f.ReadAt(payload, off+frameHeaderLen); err != nil && !errors.Is(err, io.EOF) {
			return rc, err
		}
		if frameCRC(seed, fh[0:12], payload) != binary.BigEndian.Uint32(fh[12:16]) {
			break
		}
		if lsn > applied {
			recs, err := decodePayload(payload)
			if err != nil {
				return rc, &JournalError{Path: path, Reason: fmt.Sprintf("frame %d at offset %d has a valid checksum but cannot be decoded: %v", lsn, off, err)}
			}
			rc.frames = append(rc.frames, recs)
		}
		rc.last = lsn
		off += frameSpan(int(n))
	}
	return rc, nil
}

// firstFrameValid reports whether the journal f holds, at the first frame
// offset, a valid frame of LSN start sealed with seed (see saltSeed).
func firstFrameValid(f *os.File, size int64, start uint64, seed uint32) (bool, error) {
	var fh [frameHeaderLen]byte
	if _, err := f.ReadAt(fh[:], firstFrameOffset); err != nil {
		return false, err
	}
	n := int64(binary.BigEndian.Uint32(fh[8:12]))
	if binary.BigEndian.Uint64(fh[0:8]) != start || n == 0 || firstFrameOffset+frameSpan(int(n)) > size {
		return false, nil
	}
	payload := make([]byte, n)
	if _, err := f.ReadAt(payload, firstFrameOffset+frameHeaderLen); err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return frameCRC(seed, fh[0:12], payload) == binary.BigEndian.Uint32(fh[12:16]), nil
}

// createJournal creates a zero-filled journal of size bytes with a header
// starting at LSN start with a new salt, which it returns, durably: it is
// written to a temporary file, fsynced, renamed into place and the
// directory fsynced, so that a journal file either does not exist or is
// complete.
func createJournal(path string, size int64, start uint64, mode fs.FileMode) (uint32, error) {
	salt, err := newSalt()
	if err != nil {
		return 0, err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return 0, err
	}
	zeros := make([]byte, 1<<20)
	err = func() error {
		for off := int64(0); off < size; off += int64(len(zeros)) {
			n := min(int64(len(zeros)), size-off)
			if _, err := f.WriteAt(zeros[:n], off); err != nil {
				return err
			}
		}
		if _, err := f.WriteAt(appendSaltedHeader(nil, JournalFormat, salt, start), 0); err != nil {
			return err
		}
		return f.Sync()
	}()
	if err = errors.Join(err, f.Close()); err != nil {
		_ = os.Remove(tmp)
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return 0, err
	}
	return salt, syncDir(filepath.Dir(path))
}

// reopenJournal opens an existing, fully applied journal for writing and
// starts a new cycle at LSN next: it writes the header slot that is not
// current and fdatasyncs it. Every frame in the file has an LSN below next,
// and a damaged frame never becomes valid, so no old frame can be taken
// for one of the new cycle.
func reopenJournal(path string, size int64, curSlot int64, next uint64) (*journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	j := &journal{f: f, path: path, size: size, slot: curSlot}
	if err := j.startCycle(next, nil); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return j, nil
}

// startCycle writes a header with start LSN next into the other slot,
// fdatasyncs it, and continues at the first frame offset. sync replaces the
// fdatasync in tests (nil: the real one).
func (j *journal) startCycle(next uint64, sync func() error) error {
	slot := int64(0)
	if j.slot == 0 {
		slot = journalSlotB
	}
	salt, err := newSalt()
	if err != nil {
		return err
	}
	if _, err := j.f.WriteAt(appendSaltedHeader(nil, JournalFormat, salt, next), slot); err != nil {
		return fmt.Errorf("write journal header: %w", err)
	}
	if sync == nil {
		sync = j.sync
	}
	if err := sync(); err != nil {
		return fmt.Errorf("sync journal header: %w", err)
	}
	j.slot, j.seed, j.next, j.off, j.kickOff = slot, saltSeed(salt), next, firstFrameOffset, firstFrameOffset
	return nil
}

// sync makes the journal's written data durable (fdatasync: the file's
// size and extents never change after creation).
func (j *journal) sync() error { return fdatasync(j.f) }

// capacity is the largest frame span the journal can hold.
func (j *journal) capacity() int64 { return j.size - firstFrameOffset }

// close closes the file.
func (j *journal) close() error {
	var err error
	if j.direct != nil {
		err = j.direct.Close()
	}
	return errors.Join(err, j.f.Close())
}

// directAlign is the alignment of a direct write's offset, length and
// memory: frames start and end on 4 KiB boundaries (frameSpan), which is
// a multiple of every common logical block size (512 B, 4 KiB).
const directAlign = 4096

// openWriter opens the direct-I/O writer of the journal (openDirect).
func (j *journal) openWriter() { j.direct = openDirect(j.path) }

// writeFrame writes j.buf (one frame, padded to its span) at j.off. With
// a direct writer the frame is first moved to 4 KiB-aligned memory when
// j.buf is not (it is kept there for the next frame). A direct write that
// fails with EINVAL (a device whose logical block is larger than 4 KiB,
// or a file system that accepted O_DIRECT at open but not the write)
// wrote nothing: the frame is written through the page cache instead and
// the direct writer is dropped for good. Durability does not depend on
// the path: the caller fdatasyncs before it acknowledges.
func (j *journal) writeFrame() error {
	if j.direct != nil {
		if !aligned(j.buf) {
			a := alignedBuffer(len(j.buf))
			copy(a, j.buf)
			j.buf = a
		}
		_, err := j.direct.WriteAt(j.buf, j.off)
		if !errors.Is(err, syscall.EINVAL) {
			return err
		}
		_ = j.direct.Close()
		j.direct = nil
	}
	_, err := j.f.WriteAt(j.buf, j.off)
	return err
}

// aligned reports whether b starts on a directAlign boundary.
func aligned(b []byte) bool {
	return cap(b) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%directAlign == 0
}

// alignedBuffer returns n bytes starting on a directAlign boundary.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directAlign)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (directAlign - 1))
	return b[off : off+n : off+n]
}
