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
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
)

// Limits on what an Op may carry. They keep every bbolt key far below its
// 32 KiB limit and bound the work of one commit.
const (
	// MaxNameLen bounds kind and index names.
	MaxNameLen = 64
	// MaxIDLen bounds a record ID in bytes (RFC 8921 identifiers are at most
	// 128 characters, DESIGN §3).
	MaxIDLen = 1024
	// MaxIndexValueLen bounds one index value in bytes, enough for an
	// IndexKey of an identity and two identifiers.
	MaxIndexValueLen = 2048
	// MaxIndexes bounds the index names of one record.
	MaxIndexes = 16
	// MaxValueLen bounds a record value (an order holds a few CPDs of at most
	// 1 MiB each, DESIGN §3).
	MaxValueLen = 16 << 20
)

// OpType says what an Op does.
type OpType uint8

// Op types. The zero value is invalid, so a zero Op is rejected.
const (
	// OpPut creates or replaces a record and its index entries.
	OpPut OpType = iota + 1
	// OpDelete removes a record and its index entries; deleting a missing
	// record does nothing.
	OpDelete
)

// String returns "put" or "delete".
func (t OpType) String() string {
	switch t {
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	default:
		return fmt.Sprintf("OpType(%d)", uint8(t))
	}
}

// Op is one change to one record. The ops of one submission (Write) are
// applied atomically and in order.
//
// The Store does not copy Value or Index: the caller must not modify them
// after submitting the Op.
type Op struct {
	// Type is OpPut or OpDelete.
	Type OpType
	// Kind names the collection, e.g. "orders": 1..MaxNameLen bytes of
	// [A-Za-z0-9._-].
	Kind string
	// ID is the record key within Kind: 1..MaxIDLen arbitrary bytes.
	ID string
	// Value is the opaque record (OpPut only), typically JSON.
	Value []byte
	// Index maps an index name (same syntax as Kind) to this record's key
	// in that index (OpPut only). An empty key means "not indexed under this
	// name". Several records may share a key; Lookup returns them all. Use
	// IndexKey to build composite keys.
	Index map[string]string
}

// Put returns an Op that creates or replaces record id of kind with value
// and the given index keys (nil for none).
func Put(kind, id string, value []byte, index map[string]string) Op {
	return Op{Type: OpPut, Kind: kind, ID: id, Value: value, Index: index}
}

// Delete returns an Op that removes record id of kind and its index entries.
func Delete(kind, id string) Op {
	return Op{Type: OpDelete, Kind: kind, ID: id}
}

// Record is a stored record as read back.
type Record struct {
	// Kind and ID are the record's key.
	Kind, ID string
	// Revision starts at 1 when the record is created and grows by one at
	// every Put, so a reader can tell two versions apart. A Delete followed
	// by a Put starts again at 1.
	Revision uint64
	// Value is the opaque value, owned by the caller.
	Value []byte
	// Index holds the non-empty index keys given at the last Put (nil if
	// none).
	Index map[string]string
}

// IndexKey joins parts into one index key, e.g. IndexKey(identity,
// customerOrderID, transactionID) for the server's CANCEL lookup (DESIGN §3:
// CANCEL carries no provider order identifier). The encoding is injective:
// distinct part lists give distinct keys whatever bytes the parts hold.
func IndexKey(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += binary.MaxVarintLen64 + len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = appendString(b, p)
	}
	return string(b)
}

// validName reports whether s is a valid kind or index name.
func validName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// validate checks one Op against the limits; i is its position in the
// submission, for the message.
func (op Op) validate(i int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: op %d (%s %s/%q): %s", ErrInvalidOp, i, op.Type, op.Kind, op.ID, fmt.Sprintf(format, args...))
	}
	if op.Type != OpPut && op.Type != OpDelete {
		return bad("unknown type")
	}
	if !validName(op.Kind) {
		return bad("kind must be 1..%d characters of [A-Za-z0-9._-]", MaxNameLen)
	}
	if op.ID == "" || len(op.ID) > MaxIDLen {
		return bad("id must be 1..%d bytes, got %d", MaxIDLen, len(op.ID))
	}
	if op.Type == OpDelete {
		if op.Value != nil || op.Index != nil {
			return bad("delete carries no value or index")
		}
		return nil
	}
	if len(op.Value) > MaxValueLen {
		return bad("value is %d bytes, limit %d", len(op.Value), MaxValueLen)
	}
	if len(op.Index) > MaxIndexes {
		return bad("%d indexes, limit %d", len(op.Index), MaxIndexes)
	}
	for name, key := range op.Index {
		if !validName(name) {
			return bad("index name %q must be 1..%d characters of [A-Za-z0-9._-]", name, MaxNameLen)
		}
		if len(key) > MaxIndexValueLen {
			return bad("index %s key is %d bytes, limit %d", name, len(key), MaxIndexValueLen)
		}
	}
	return nil
}

// validateOps checks every op of a submission.
func validateOps(ops []Op) error {
	for i, op := range ops {
		if err := op.validate(i); err != nil {
			return err
		}
	}
	return nil
}

// Encoding of a stored record value (the bbolt key is the ID):
//
//	format   byte (recordFormat)
//	revision uvarint
//	count    uvarint, then count x (name string, key string), names sorted
//	value    string
//	crc      4 bytes big endian, CRC-32C of everything before it
//
// where string is uvarint length + bytes. The checksum catches torn or
// rotten pages that bbolt itself does not detect.
const recordFormat = 1

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeRecord encodes a record value with the given revision. Empty index
// keys are left out.
func encodeRecord(rev uint64, value []byte, index map[string]string) []byte {
	return appendRecord(nil, rev, value, index)
}

// appendRecord appends the encoding of a record value with the given
// revision to dst (see encodeRecord); it grows dst at most once.
func appendRecord(dst []byte, rev uint64, value []byte, index map[string]string) []byte {
	var arr [MaxIndexes]string
	names := arr[:0]
	n := 1 + 2*binary.MaxVarintLen64 + binary.MaxVarintLen64 + len(value) + 4
	for name, key := range index {
		if key == "" {
			continue
		}
		names = append(names, name)
		n += 2*binary.MaxVarintLen64 + len(name) + len(key)
	}
	slices.Sort(names)
	start := len(dst)
	b := slices.Grow(dst, n)
	b = append(b, recordFormat)
	b = binary.AppendUvarint(b, rev)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, name := range names {
		b = appendString(b, name)
		b = appendString(b, index[name])
	}
	b = binary.AppendUvarint(b, uint64(len(value)))
	b = append(b, value...)
	return appendCRC(b, start)
}

// appendCRC appends the CRC-32C of b[start:], the record that starts at
// start, to b.
func appendCRC(b []byte, start int) []byte {
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], crcTable))
}

// decoder reads the fields of an encoded record; the first error sticks.
type decoder struct {
	b   []byte
	err string
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != "" {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = "bad " + what
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(what string) []byte {
	n := d.uvarint(what + " length")
	if d.err != "" {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = what + " overruns the record"
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// decodeRecord decodes an encoded record value read from bbolt. The result
// does not alias raw (bbolt memory is only valid inside its transaction).
func decodeRecord(kind, id string, raw []byte) (Record, error) {
	rec, value, err := parseRecord(kind, id, raw)
	if err != nil {
		return Record{}, err
	}
	rec.Value = slices.Clone(value)
	if rec.Value == nil {
		rec.Value = []byte{}
	}
	return rec, nil
}

// parseRecord checks and decodes an encoded record value; the returned
// Record has no Value, and value aliases raw. A write reads the record it
// replaces this way, for its revision and index keys only, without copying
// its value.
func parseRecord(kind, id string, raw []byte) (Record, []byte, error) {
	corrupt := func(reason string) (Record, []byte, error) {
		return Record{}, nil, &CorruptError{Kind: kind, ID: id, Reason: reason}
	}
	if len(raw) < 1+4 {
		return corrupt(fmt.Sprintf("%d bytes is too short", len(raw)))
	}
	body, sum := raw[:len(raw)-4], binary.BigEndian.Uint32(raw[len(raw)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return corrupt("checksum mismatch")
	}
	if body[0] != recordFormat {
		return corrupt(fmt.Sprintf("unknown record format %d", body[0]))
	}
	d := decoder{b: body[1:]}
	rec := Record{Kind: kind, ID: id, Revision: d.uvarint("revision")}
	count := d.uvarint("index count")
	if d.err == "" && count > MaxIndexes {
		return corrupt(fmt.Sprintf("%d indexes, limit %d", count, MaxIndexes))
	}
	prev := ""
	for i := uint64(0); i < count && d.err == ""; i++ {
		name := string(d.bytes("index name"))
		key := string(d.bytes("index key"))
		switch {
		case d.err != "":
		case !validName(name) || name <= prev:
			d.err = fmt.Sprintf("index name %q invalid or out of order", name)
		case key == "":
			d.err = fmt.Sprintf("index %s has an empty key", name)
		default:
			if rec.Index == nil {
				rec.Index = make(map[string]string, count)
			}
			rec.Index[name] = key
			prev = name
		}
	}
	value := d.bytes("value")
	if d.err != "" {
		return corrupt(d.err)
	}
	if len(d.b) != 0 {
		return corrupt(fmt.Sprintf("%d trailing bytes", len(d.b)))
	}
	return rec, value, nil
}

// indexPrefix is the prefix of every index entry for (name, key): the
// entries are prefix + record ID, with an empty value. The length prefixes
// make the prefix exact: no other (name, key) pair produces a key that
// starts with it.
func indexPrefix(name, key string) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(name)+len(key))
	b = appendString(b, name)
	return appendString(b, key)
}

// parseIndexEntry splits an index entry key into its name, key and ID.
func parseIndexEntry(k []byte) (name, key, id string, ok bool) {
	d := decoder{b: k}
	n := d.bytes("name")
	v := d.bytes("key")
	if d.err != "" || len(d.b) == 0 {
		return "", "", "", false
	}
	return string(n), string(v), string(d.b), true
}

// describeIndex renders an index entry for messages.
func describeIndex(name, key string) string {
	return fmt.Sprintf("%s=%q", name, key)
}
