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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Reference: RFC 8921 §8.11 (orders kept on permanent storage): a record
// read back is the record written, index keys included.
func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		rev   uint64
		value []byte
		index map[string]string
		want  Record
	}{
		"no index": {
			rev: 1, value: []byte(`{"state":"PQOReceived"}`),
			want: Record{Kind: "orders", ID: "p1", Revision: 1, Value: []byte(`{"state":"PQOReceived"}`)},
		},
		"empty value": {
			rev:  7,
			want: Record{Kind: "orders", ID: "p1", Revision: 7, Value: []byte{}},
		},
		"indexes, empty key left out": {
			rev: 1 << 40, value: []byte("x"),
			index: map[string]string{"provider": "prov-1", "cancel": IndexKey("acme", "c1", "t1"), "unset": ""},
			want: Record{Kind: "orders", ID: "p1", Revision: 1 << 40, Value: []byte("x"),
				Index: map[string]string{"provider": "prov-1", "cancel": IndexKey("acme", "c1", "t1")}},
		},
		"binary value": {
			rev: 2, value: []byte{0, 0xff, 0x80, '\n'},
			want: Record{Kind: "orders", ID: "p1", Revision: 2, Value: []byte{0, 0xff, 0x80, '\n'}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw := encodeRecord(tc.rev, tc.value, tc.index)
			got, err := decodeRecord("orders", "p1", raw)
			if err != nil {
				t.Fatalf("decodeRecord: got error %v, want nil", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decoded record mismatch (-want +got):\n%s", diff)
			}
			if len(raw) > 0 && len(got.Value) > 0 && &raw[len(raw)-5] == &got.Value[len(got.Value)-1] {
				t.Errorf("decoded value aliases the raw bytes, want a copy")
			}
			// The committer encodes every record of a transaction into one
			// arena: a record appended after others is the same record, its
			// checksum over its own bytes only.
			arena := appendRecord([]byte("earlier records"), 9, []byte("other"), nil)
			start := len(arena)
			arena = appendRecord(arena, tc.rev, tc.value, tc.index)
			if diff := cmp.Diff(raw, arena[start:]); diff != "" {
				t.Errorf("appendRecord after other records mismatch (-encodeRecord +appendRecord):\n%s", diff)
			}
		})
	}
}

// Reference: RFC 8921 §8.11 (state recovery): damaged bytes are reported as
// corruption, never decoded as a different record and never a panic.
func TestDecodeRecordCorrupt(t *testing.T) {
	t.Parallel()
	good := encodeRecord(3, []byte("value"), map[string]string{"provider": "p"})
	withCRC := func(body []byte) []byte { // a well-formed checksum over a bad body
		return encodeRaw(body)
	}
	tests := map[string]struct {
		raw        []byte
		wantReason string
	}{
		"empty":            {raw: nil, wantReason: "too short"},
		"flipped bit":      {raw: flip(good, 4), wantReason: "checksum mismatch"},
		"truncated":        {raw: good[:len(good)-1], wantReason: "checksum mismatch"},
		"unknown format":   {raw: withCRC([]byte{9, 1, 0, 0}), wantReason: "unknown record format 9"},
		"bad revision":     {raw: withCRC([]byte{recordFormat, 0xff}), wantReason: "bad revision"},
		"too many indexes": {raw: withCRC([]byte{recordFormat, 1, MaxIndexes + 1}), wantReason: "17 indexes"},
		"index overrun":    {raw: withCRC([]byte{recordFormat, 1, 1, 50, 'a'}), wantReason: "index name overruns"},
		"value overrun":    {raw: withCRC([]byte{recordFormat, 1, 0, 5, 'a'}), wantReason: "value overruns"},
		"trailing bytes":   {raw: withCRC([]byte{recordFormat, 1, 0, 1, 'a', 'b'}), wantReason: "1 trailing bytes"},
		"missing value":    {raw: withCRC([]byte{recordFormat, 1, 0}), wantReason: "bad value length"},
		"bad index name":   {raw: withCRC([]byte{recordFormat, 1, 1, 1, '/', 1, 'k', 0}), wantReason: `index name "/" invalid`},
		"unsorted names":   {raw: withCRC([]byte{recordFormat, 1, 2, 1, 'b', 1, 'k', 1, 'a', 1, 'k', 0}), wantReason: `index name "a" invalid or out of order`},
		"duplicate names":  {raw: withCRC([]byte{recordFormat, 1, 2, 1, 'a', 1, 'k', 1, 'a', 1, 'j', 0}), wantReason: `index name "a" invalid or out of order`},
		"empty index key":  {raw: withCRC([]byte{recordFormat, 1, 1, 1, 'a', 0, 0}), wantReason: "index a has an empty key"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeRecord("orders", "p1", tc.raw)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("decodeRecord: got error %v, want a *CorruptError", err)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("errors.Is(err, ErrCorrupt): got false, want true")
			}
			if !strings.Contains(ce.Reason, tc.wantReason) {
				t.Errorf("reason: got %q, want it to contain %q", ce.Reason, tc.wantReason)
			}
			if ce.Kind != "orders" || ce.ID != "p1" {
				t.Errorf("record: got %s/%s, want orders/p1", ce.Kind, ce.ID)
			}
		})
	}
}

func encodeRaw(body []byte) []byte {
	b := append([]byte(nil), body...)
	return appendCRC(b, 0)
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0x01
	return out
}

// Reference: DESIGN §3 (CANCEL is matched on identity, customer order ID and
// transaction ID): composite keys of different part lists never collide,
// whatever bytes the peer put in its identifiers.
func TestIndexKeyInjective(t *testing.T) {
	t.Parallel()
	lists := [][]string{
		{"ab", "c"}, {"a", "bc"}, {"abc"}, {"abc", ""}, {"", "abc"},
		{"a\x00b", "c"}, {"a", "\x00b", "c"}, {"a", "b", "c"}, {}, {""}, {"", ""},
		{"\x01a"}, {"a\x01"}, {strings.Repeat("x", 200), "y"}, {strings.Repeat("x", 199), "xy"},
	}
	seen := map[string][]string{}
	for _, parts := range lists {
		k := IndexKey(parts...)
		if prev, ok := seen[k]; ok {
			t.Errorf("IndexKey(%q) == IndexKey(%q) = %q, want distinct keys", parts, prev, k)
		}
		seen[k] = parts
	}
}

// Index entry prefixes are exact: one (name, key) pair's prefix is never a
// prefix of another pair's entries, so Lookup never returns a record indexed
// under a longer key.
func TestIndexPrefixExact(t *testing.T) {
	t.Parallel()
	pairs := [][2]string{{"provider", "p1"}, {"provider", "p10"}, {"provider", "p"}, {"provide", "rp1"}, {"providerp", "1"}}
	for _, a := range pairs {
		for _, b := range pairs {
			if a == b {
				continue
			}
			entry := append(indexPrefix(b[0], b[1]), "id"...)
			if bytes.HasPrefix(entry, indexPrefix(a[0], a[1])) {
				t.Errorf("entry of %q starts with prefix of %q, want no overlap", b, a)
			}
		}
	}
	name, key, id, ok := parseIndexEntry(append(indexPrefix("provider", "p1"), "order-9"...))
	if diff := cmp.Diff([]any{"provider", "p1", "order-9", true}, []any{name, key, id, ok}); diff != "" {
		t.Errorf("parseIndexEntry mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range [][]byte{nil, {5, 'a'}, indexPrefix("provider", "p1")} {
		if _, _, _, ok := parseIndexEntry(bad); ok {
			t.Errorf("parseIndexEntry(%x): got ok, want not ok", bad)
		}
	}
}

func TestOpValidate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxIDLen+1)
	manyIndexes := map[string]string{}
	for i := range MaxIndexes + 1 {
		manyIndexes[string(rune('a'+i))] = "k"
	}
	tests := map[string]struct {
		op      Op
		wantErr string // empty: valid
	}{
		"put":                {op: Put("orders", "p1", []byte("{}"), map[string]string{"provider": "x", "empty": ""})},
		"put nil value":      {op: Put("orders", "p1", nil, nil)},
		"delete":             {op: Delete("orders", "p1")},
		"id at limit":        {op: Delete("orders", long[1:])},
		"zero op":            {op: Op{}, wantErr: "unknown type"},
		"unknown type":       {op: Op{Type: 9, Kind: "orders", ID: "x"}, wantErr: "unknown type"},
		"empty kind":         {op: Delete("", "p1"), wantErr: "kind must be"},
		"kind with slash":    {op: Delete("a/b", "p1"), wantErr: "kind must be"},
		"kind too long":      {op: Delete(strings.Repeat("k", MaxNameLen+1), "p1"), wantErr: "kind must be"},
		"empty id":           {op: Delete("orders", ""), wantErr: "id must be 1..1024 bytes, got 0"},
		"id too long":        {op: Delete("orders", long), wantErr: "id must be 1..1024 bytes, got 1025"},
		"delete with value":  {op: Op{Type: OpDelete, Kind: "orders", ID: "p1", Value: []byte("x")}, wantErr: "delete carries no value"},
		"value too long":     {op: Put("orders", "p1", make([]byte, MaxValueLen+1), nil), wantErr: "value is 16777217 bytes"},
		"too many indexes":   {op: Put("orders", "p1", nil, manyIndexes), wantErr: "17 indexes"},
		"bad index name":     {op: Put("orders", "p1", nil, map[string]string{"a b": "x"}), wantErr: `index name "a b"`},
		"index key too long": {op: Put("orders", "p1", nil, map[string]string{"n": strings.Repeat("x", MaxIndexValueLen+1)}), wantErr: "index n key is 2049 bytes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := validateOps([]Op{Delete("orders", "ok"), tc.op})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("validateOps: got error %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOp) {
				t.Fatalf("validateOps: got error %v, want ErrInvalidOp", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "op 1 ") {
				t.Errorf("validateOps: got %q, want it to name op 1 and contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestOpTypeString(t *testing.T) {
	t.Parallel()
	got := []string{OpPut.String(), OpDelete.String(), OpType(0).String()}
	if diff := cmp.Diff([]string{"put", "delete", "OpType(0)"}, got); diff != "" {
		t.Errorf("OpType.String mismatch (-want +got):\n%s", diff)
	}
}

// FuzzDecodeRecord checks that decoding arbitrary bytes never panics and
// that whatever decodes survives a re-encoding unchanged.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(1, []byte(`{"a":1}`), map[string]string{"provider": "p", "cancel": IndexKey("i", "c", "t")}))
	f.Add(encodeRecord(0, nil, nil))
	f.Add([]byte{recordFormat, 1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		rec, err := decodeRecord("k", "id", raw)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decodeRecord: got error %v, want ErrCorrupt", err)
			}
			return
		}
		again, err := decodeRecord("k", "id", encodeRecord(rec.Revision, rec.Value, rec.Index))
		if err != nil {
			t.Fatalf("decode of re-encoded record: got error %v, want nil", err)
		}
		if diff := cmp.Diff(rec, again); diff != "" {
			t.Fatalf("re-encoded record mismatch (-first +again):\n%s", diff)
		}
	})
}
