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

package session_test

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newDupCache(t testing.TB, cfg session.DupCacheConfig) *session.DupCache {
	t.Helper()
	c, err := session.NewDupCache(cfg)
	if err != nil {
		t.Fatalf("NewDupCache(%+v): %v", cfg, err)
	}
	return c
}

// step is one operation of a DupCache scenario, at t0+at.
type step struct {
	at      time.Duration
	op      string // "record", "append", "lookup", "delete"
	peer    string
	txn     string
	seq     uint32
	req     string
	answers []string
	// Expectations for lookup; for append and delete, wantOK.
	want        session.DupVerdict
	wantAnswers []string
	wantOK      bool
}

func runSteps(t *testing.T, c *session.DupCache, steps []step) {
	t.Helper()
	for i, s := range steps {
		now := t0.Add(s.at)
		switch s.op {
		case "record":
			c.Record(now, s.peer, s.txn, s.seq, []byte(s.req), toBytes(s.answers)...)
		case "append":
			if len(s.answers) != 1 {
				t.Fatalf("step %d: append takes one answer", i)
			}
			if got := c.Append(now, s.peer, s.txn, s.seq, []byte(s.answers[0])); got != s.wantOK {
				t.Errorf("step %d: Append(+%v, %q, %q, %d) = %v, want %v", i, s.at, s.peer, s.txn, s.seq, got, s.wantOK)
			}
		case "delete":
			if got := c.Delete(s.peer, s.txn); got != s.wantOK {
				t.Errorf("step %d: Delete(%q, %q) = %v, want %v", i, s.peer, s.txn, got, s.wantOK)
			}
		case "lookup":
			answers, got := c.Lookup(now, s.peer, s.txn, s.seq, []byte(s.req))
			if got != s.want {
				t.Errorf("step %d: Lookup(+%v, %q, %q, %d, %q) verdict = %v, want %v", i, s.at, s.peer, s.txn, s.seq, s.req, got, s.want)
			}
			if diff := cmp.Diff(s.wantAnswers, toStrings(answers)); diff != "" {
				t.Errorf("step %d: Lookup(+%v, %q, %q, %d) answers mismatch (-want +got):\n%s", i, s.at, s.peer, s.txn, s.seq, diff)
			}
		default:
			t.Fatalf("step %d: unknown op %q", i, s.op)
		}
	}
}

func toBytes(ss []string) [][]byte {
	var out [][]byte
	for _, s := range ss {
		out = append(out, []byte(s))
	}
	return out
}

func toStrings(bs [][]byte) []string {
	var out []string
	for _, b := range bs {
		out = append(out, string(b))
	}
	return out
}

// Reference: RFC 8921 §11.4 ("if the partner receives a retransmission of the
// last incoming packet it handled, the partner can resend the same answer to
// the incoming packet with a limited frequency ... a partner could also store
// the last incoming packet and the associated answer").
func TestDupCache(t *testing.T) {
	t.Parallel()
	const (
		alice = "spiffe://tenant/alice"
		bob   = "spiffe://tenant/bob"
		txn   = "00112233445566778899aabbccddeeff"
		quote = `{"method_code":1,"sequence_number":7}`
		ack   = `{"method_code":6}`
	)
	rec := func(at time.Duration, peer, txn string, seq uint32, req string, answers ...string) step {
		return step{at: at, op: "record", peer: peer, txn: txn, seq: seq, req: req, answers: answers}
	}
	look := func(at time.Duration, peer, txn string, seq uint32, req string, want session.DupVerdict, answers ...string) step {
		return step{at: at, op: "lookup", peer: peer, txn: txn, seq: seq, req: req, want: want, wantAnswers: answers}
	}
	tests := map[string]struct {
		cfg   session.DupCacheConfig
		steps []step
	}{
		"empty cache misses": {
			steps: []step{look(0, alice, txn, 7, quote, session.Miss)},
		},
		"retransmission hits after the interval": {
			steps: []step{
				rec(0, alice, txn, 7, quote, ack),
				look(time.Second, alice, txn, 7, quote, session.Hit, ack),
			},
		},
		"several answers come back in order": {
			steps: []step{
				rec(0, alice, txn, 7, quote, "PROCESSING", "OFFER"),
				look(time.Second, alice, txn, 7, quote, session.Hit, "PROCESSING", "OFFER"),
			},
		},
		"a request handled without an answer yet is still a hit": {
			steps: []step{
				rec(0, alice, txn, 7, quote),
				look(time.Second, alice, txn, 7, quote, session.Hit),
			},
		},
		"same seq, other bytes misses": {
			steps: []step{
				rec(0, alice, txn, 7, quote, ack),
				look(time.Second, alice, txn, 7, quote+" ", session.Miss),
			},
		},
		"same bytes, other seq misses": {
			steps: []step{
				rec(0, alice, txn, 7, quote, ack),
				look(time.Second, alice, txn, 8, quote, session.Miss),
			},
		},
		"other transaction misses": {
			steps: []step{
				rec(0, alice, txn, 7, quote, ack),
				look(time.Second, alice, "ffeeddccbbaa99887766554433221100", 7, quote, session.Miss),
			},
		},
		// DESIGN §4: the authenticated identity replaces the 5-tuple of §8.3;
		// transaction IDs are the clients' choice, so another identity with
		// the same transaction ID must not get alice's answer.
		"another identity with the same transaction misses": {
			steps: []step{
				rec(0, alice, txn, 7, quote, ack),
				look(time.Second, bob, txn, 7, quote, session.Miss),
				look(time.Second, alice, txn, 7, quote, session.Hit, ack),
			},
		},
		"two identities with the same transaction keep their own answers": {
			steps: []step{
				rec(0, alice, txn, 7, quote, "for alice"),
				rec(0, bob, txn, 7, quote, "for bob"),
				look(time.Second, alice, txn, 7, quote, session.Hit, "for alice"),
				look(time.Second, bob, txn, 7, quote, session.Hit, "for bob"),
			},
		},
		"only the last handled request is kept": {
			steps: []step{
				rec(0, alice, txn, 7, quote, "OFFER"),
				rec(time.Second, alice, txn, 8, "ACCEPT", ack),
				look(2*time.Second, alice, txn, 7, quote, session.Miss),
				look(2*time.Second, alice, txn, 8, "ACCEPT", session.Hit, ack),
			},
		},
		// §11.4 "with a limited frequency": the original answer counts, so a
		// duplicate arriving right after it is not answered again.
		"suppressed within the interval, then allowed": {
			cfg: session.DupCacheConfig{ResendInterval: 500 * time.Millisecond},
			steps: []step{
				rec(0, alice, txn, 7, quote, ack),
				look(0, alice, txn, 7, quote, session.Suppressed),
				look(499*time.Millisecond, alice, txn, 7, quote, session.Suppressed),
				look(500*time.Millisecond, alice, txn, 7, quote, session.Hit, ack),
				look(600*time.Millisecond, alice, txn, 7, quote, session.Suppressed),
				look(999*time.Millisecond, alice, txn, 7, quote, session.Suppressed),
				look(1000*time.Millisecond, alice, txn, 7, quote, session.Hit, ack),
			},
		},
		"a suppressed hit does not restart the interval": {
			cfg: session.DupCacheConfig{ResendInterval: time.Second},
			steps: []step{
				rec(0, alice, txn, 7, quote, ack),
				look(900*time.Millisecond, alice, txn, 7, quote, session.Suppressed),
				look(time.Second, alice, txn, 7, quote, session.Hit, ack),
			},
		},
		"the interval is per entry": {
			cfg: session.DupCacheConfig{ResendInterval: time.Second},
			steps: []step{
				rec(0, alice, txn, 7, quote, "a"),
				rec(0, bob, txn, 7, quote, "b"),
				look(time.Second, alice, txn, 7, quote, session.Hit, "a"),
				look(time.Second, bob, txn, 7, quote, session.Hit, "b"),
			},
		},
		"a miss on other bytes does not consume the interval": {
			cfg: session.DupCacheConfig{ResendInterval: time.Second},
			steps: []step{
				rec(0, alice, txn, 7, quote, ack),
				look(time.Second, alice, txn, 7, "forged", session.Miss),
				look(time.Second, alice, txn, 7, quote, session.Hit, ack),
			},
		},
		"TTL expiry": {
			cfg: session.DupCacheConfig{TTL: time.Minute},
			steps: []step{
				rec(0, alice, txn, 7, quote, ack),
				look(time.Minute-time.Nanosecond, alice, txn, 7, quote, session.Hit, ack),
				look(time.Minute, alice, txn, 7, quote, session.Miss),
				// The expired entry is gone for good, even if asked earlier.
				look(time.Second, alice, txn, 7, quote, session.Miss),
			},
		},
		"a hit does not extend the TTL, a new record does": {
			cfg: session.DupCacheConfig{TTL: time.Minute},
			steps: []step{
				rec(0, alice, txn, 7, quote, ack),
				look(50*time.Second, alice, txn, 7, quote, session.Hit, ack),
				look(61*time.Second, alice, txn, 7, quote, session.Miss),
				rec(70*time.Second, alice, txn, 7, quote, ack),
				look(129*time.Second, alice, txn, 7, quote, session.Hit, ack),
			},
		},
		// §11.4: "If an answer cannot be generated right after the request is
		// received, the partner needs to generate a PROCESSING message as the
		// answer"; the OFFER that follows joins the same entry.
		"append adds the later answer": {
			steps: []step{
				rec(0, alice, txn, 7, quote, "PROCESSING"),
				{at: 10 * time.Second, op: "append", peer: alice, txn: txn, seq: 7, answers: []string{"OFFER"}, wantOK: true},
				look(10*time.Second+100*time.Millisecond, alice, txn, 7, quote, session.Suppressed),
				look(11*time.Second, alice, txn, 7, quote, session.Hit, "PROCESSING", "OFFER"),
			},
		},
		"append to a newer request fails": {
			steps: []step{
				rec(0, alice, txn, 8, "ACCEPT", ack),
				{at: time.Second, op: "append", peer: alice, txn: txn, seq: 7, answers: []string{"OFFER"}, wantOK: false},
				look(2*time.Second, alice, txn, 8, "ACCEPT", session.Hit, ack),
			},
		},
		"append without an entry fails": {
			steps: []step{
				{op: "append", peer: alice, txn: txn, seq: 7, answers: []string{"OFFER"}, wantOK: false},
				look(time.Second, alice, txn, 7, quote, session.Miss),
			},
		},
		"append to an expired entry fails": {
			cfg: session.DupCacheConfig{TTL: time.Minute},
			steps: []step{
				rec(0, alice, txn, 7, quote, "PROCESSING"),
				{at: time.Minute, op: "append", peer: alice, txn: txn, seq: 7, answers: []string{"OFFER"}, wantOK: false},
				look(time.Minute, alice, txn, 7, quote, session.Miss),
			},
		},
		"append refreshes the TTL": {
			cfg: session.DupCacheConfig{TTL: time.Minute},
			steps: []step{
				rec(0, alice, txn, 7, quote, "PROCESSING"),
				{at: 50 * time.Second, op: "append", peer: alice, txn: txn, seq: 7, answers: []string{"OFFER"}, wantOK: true},
				look(100*time.Second, alice, txn, 7, quote, session.Hit, "PROCESSING", "OFFER"),
			},
		},
		"delete": {
			steps: []step{
				rec(0, alice, txn, 7, quote, ack),
				{op: "delete", peer: alice, txn: txn, wantOK: true},
				{op: "delete", peer: alice, txn: txn, wantOK: false},
				look(time.Second, alice, txn, 7, quote, session.Miss),
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runSteps(t, newDupCache(t, tc.cfg), tc.steps)
		})
	}
}

// TestDupCacheLRU checks the eviction order: a new entry past MaxEntries
// evicts the least recently used one, where a Lookup hit (or suppressed hit)
// and a Record count as a use, and a miss does not.
func TestDupCacheLRU(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		// ops before the overflowing record: "r:k" records key k, "l:k" looks it up.
		ops         []string
		overflow    string
		wantPresent []string
		wantEvicted []string
	}{
		"oldest record goes first": {
			ops: []string{"r:a", "r:b", "r:c"}, overflow: "d",
			wantPresent: []string{"b", "c", "d"}, wantEvicted: []string{"a"},
		},
		"a lookup protects an entry": {
			ops: []string{"r:a", "r:b", "r:c", "l:a"}, overflow: "d",
			wantPresent: []string{"a", "c", "d"}, wantEvicted: []string{"b"},
		},
		"a re-record protects an entry": {
			ops: []string{"r:a", "r:b", "r:c", "r:a", "r:b"}, overflow: "d",
			wantPresent: []string{"a", "b", "d"}, wantEvicted: []string{"c"},
		},
		"re-recording does not grow the cache": {
			ops: []string{"r:a", "r:a", "r:a", "r:b"}, overflow: "c",
			wantPresent: []string{"a", "b", "c"},
		},
		"a miss on an unknown key does not count": {
			ops: []string{"r:a", "r:b", "r:c", "l:x"}, overflow: "d",
			wantPresent: []string{"b", "c", "d"}, wantEvicted: []string{"a"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newDupCache(t, session.DupCacheConfig{MaxEntries: 3, ResendInterval: time.Nanosecond})
			now := t0
			for _, op := range tc.ops {
				now = now.Add(time.Second)
				k := op[2:]
				switch op[0] {
				case 'r':
					c.Record(now, "peer", k, 1, []byte(k), []byte("answer "+k))
				case 'l':
					c.Lookup(now, "peer", k, 1, []byte(k))
				}
			}
			now = now.Add(time.Second)
			c.Record(now, "peer", tc.overflow, 1, []byte(tc.overflow), []byte("answer "+tc.overflow))
			if got, want := c.Len(), len(tc.wantPresent); got != want {
				t.Errorf("Len() = %d, want %d", got, want)
			}
			now = now.Add(time.Second)
			for _, k := range tc.wantPresent {
				if _, v := c.Lookup(now, "peer", k, 1, []byte(k)); v != session.Hit {
					t.Errorf("Lookup(%q) = %v, want Hit", k, v)
				}
			}
			for _, k := range tc.wantEvicted {
				if _, v := c.Lookup(now, "peer", k, 1, []byte(k)); v != session.Miss {
					t.Errorf("Lookup(evicted %q) = %v, want Miss", k, v)
				}
			}
		})
	}
}

// TestDupCacheMaxBytes checks the byte bound: entries are evicted oldest
// first until the answers fit, and an answer larger than the bound is not
// kept at all.
func TestDupCacheMaxBytes(t *testing.T) {
	t.Parallel()
	c := newDupCache(t, session.DupCacheConfig{MaxBytes: 10})
	answer := func(n int) []byte { return bytes.Repeat([]byte("x"), n) }
	c.Record(t0, "p", "a", 1, []byte("a"), answer(4))
	c.Record(t0, "p", "b", 1, []byte("b"), answer(4))
	if got, want := c.Bytes(), int64(8); got != want {
		t.Fatalf("Bytes() = %d, want %d", got, want)
	}
	c.Record(t0, "p", "c", 1, []byte("c"), answer(3)) // 11 > 10: a goes
	if got, want := c.Bytes(), int64(7); got != want {
		t.Errorf("Bytes() after eviction = %d, want %d", got, want)
	}
	later := t0.Add(time.Second)
	if _, v := c.Lookup(later, "p", "a", 1, []byte("a")); v != session.Miss {
		t.Errorf("Lookup(a) = %v, want Miss (evicted by size)", v)
	}
	// Appending past the bound evicts the other entries first.
	if !c.Append(later, "p", "c", 1, answer(5)) {
		t.Fatalf("Append(c, 5 bytes) = false, want true")
	}
	if got, want := c.Bytes(), int64(8); got != want {
		t.Errorf("Bytes() after append = %d, want %d", got, want)
	}
	if got, want := c.Len(), 1; got != want {
		t.Errorf("Len() after append = %d, want %d", got, want)
	}
	// An entry that cannot fit on its own is dropped rather than cut.
	if c.Append(later, "p", "c", 1, answer(3)) {
		t.Errorf("Append(c, 3 more bytes) = true, want false (11 > MaxBytes)")
	}
	if _, v := c.Lookup(later.Add(time.Second), "p", "c", 1, []byte("c")); v != session.Miss {
		t.Errorf("Lookup(c) after oversized append = %v, want Miss", v)
	}
	// A record that cannot fit replaces the old entry with nothing.
	c.Record(later, "p", "d", 1, []byte("d"), answer(2))
	c.Record(later, "p", "d", 2, []byte("d2"), answer(11))
	if got := c.Len(); got != 0 {
		t.Errorf("Len() after oversized record = %d, want 0", got)
	}
	if got := c.Bytes(); got != 0 {
		t.Errorf("Bytes() after oversized record = %d, want 0", got)
	}
	c.Record(later, "p", "e", 1, []byte("e"), answer(11))
	if got := c.Len(); got != 0 {
		t.Errorf("Len() after oversized new record = %d, want 0", got)
	}
}

// TestDupCacheExpiredSweep checks that expired entries at the back are
// dropped when new entries are written, so that the cache does not hold dead
// entries until the count bound forces them out.
func TestDupCacheExpiredSweep(t *testing.T) {
	t.Parallel()
	c := newDupCache(t, session.DupCacheConfig{TTL: time.Minute})
	for i := range 10 {
		k := strconv.Itoa(i)
		c.Record(t0.Add(time.Duration(i)*time.Second), "p", k, 1, []byte(k), []byte("answer"))
	}
	if got := c.Len(); got != 10 {
		t.Fatalf("Len() = %d, want 10", got)
	}
	// At t0+65s the entries recorded at 0..5 s have expired.
	c.Record(t0.Add(65*time.Second), "p", "new", 1, []byte("new"), []byte("answer"))
	if got, want := c.Len(), 5; got != want {
		t.Errorf("Len() after sweep = %d, want %d", got, want)
	}
	if got, want := c.Bytes(), int64(5*len("answer")); got != want {
		t.Errorf("Bytes() after sweep = %d, want %d", got, want)
	}
}

// TestDupCacheCopies checks that Record and Append copy their arguments, so a
// caller that reuses its send buffer does not corrupt the cached answer.
func TestDupCacheCopies(t *testing.T) {
	t.Parallel()
	c := newDupCache(t, session.DupCacheConfig{})
	req := []byte("request")
	buf := []byte("PROCESSING")
	c.Record(t0, "p", "t", 1, req, buf)
	copy(buf, "XXXXXXXXXX")
	buf2 := []byte("OFFER")
	if !c.Append(t0, "p", "t", 1, buf2) {
		t.Fatal("Append = false, want true")
	}
	copy(buf2, "YYYYY")
	copy(req, "changed") // the digest was taken when recorded
	answers, v := c.Lookup(t0.Add(time.Second), "p", "t", 1, []byte("request"))
	if v != session.Hit {
		t.Fatalf("Lookup verdict = %v, want Hit", v)
	}
	if diff := cmp.Diff([]string{"PROCESSING", "OFFER"}, toStrings(answers)); diff != "" {
		t.Errorf("answers mismatch (-want +got):\n%s", diff)
	}
}

func TestDupCacheConfig(t *testing.T) {
	t.Parallel()
	want := session.DupCacheConfig{
		MaxEntries:     65536,
		MaxBytes:       64 << 20,
		TTL:            5 * time.Minute,
		ResendInterval: 500 * time.Millisecond,
	}
	if diff := cmp.Diff(want, session.DefaultDupCacheConfig()); diff != "" {
		t.Errorf("DefaultDupCacheConfig() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, newDupCache(t, session.DupCacheConfig{}).Config()); diff != "" {
		t.Errorf("NewDupCache(zero).Config() mismatch (-want +got):\n%s", diff)
	}
	custom := session.DupCacheConfig{MaxEntries: 1, MaxBytes: 2, TTL: 3, ResendInterval: 4}
	if diff := cmp.Diff(custom, newDupCache(t, custom).Config()); diff != "" {
		t.Errorf("NewDupCache(custom).Config() mismatch (-want +got):\n%s", diff)
	}

	tests := map[string]struct {
		cfg        session.DupCacheConfig
		wantFields []string
	}{
		"zero":     {cfg: session.DupCacheConfig{}},
		"defaults": {cfg: session.DefaultDupCacheConfig()},
		"negative entries": {
			cfg: session.DupCacheConfig{MaxEntries: -1}, wantFields: []string{"dupCache.maxEntries"},
		},
		"all negative": {
			cfg:        session.DupCacheConfig{MaxEntries: -1, MaxBytes: -1, TTL: -1, ResendInterval: -1},
			wantFields: []string{"dupCache.maxEntries", "dupCache.maxBytes", "dupCache.ttl", "dupCache.resendInterval"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkConfigErrors(t, tc.cfg.Validate(), tc.wantFields)
			c, err := session.NewDupCache(tc.cfg)
			if (err != nil) != (len(tc.wantFields) > 0) {
				t.Errorf("NewDupCache error = %v, want error %v", err, len(tc.wantFields) > 0)
			}
			if err != nil && c != nil {
				t.Errorf("NewDupCache returned a cache with error %v", err)
			}
		})
	}
}

func TestConfigErrorMessage(t *testing.T) {
	t.Parallel()
	err := &session.ConfigError{Field: "dupCache.ttl", Value: -time.Second, Reason: "must not be negative"}
	if got, want := err.Error(), "dupCache.ttl -1s: must not be negative"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestDupVerdictString(t *testing.T) {
	t.Parallel()
	tests := map[session.DupVerdict]string{
		session.Miss:          "Miss",
		session.Hit:           "Hit",
		session.Suppressed:    "Suppressed",
		session.DupVerdict(7): "DupVerdict(?)",
	}
	for v, want := range tests {
		if got := v.String(); got != want {
			t.Errorf("DupVerdict(%d).String() = %q, want %q", int(v), got, want)
		}
	}
}

// benchRequest is a request of typical size (the datagram limit is 1200
// bytes, DESIGN §3).
var benchRequest = bytes.Repeat([]byte("q"), 600)

func BenchmarkDupCacheLookupHit(b *testing.B) {
	c := newDupCache(b, session.DupCacheConfig{ResendInterval: time.Nanosecond})
	answer := bytes.Repeat([]byte("a"), 400)
	c.Record(t0, "peer", "txn", 1, benchRequest, answer)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		if _, v := c.Lookup(now, "peer", "txn", 1, benchRequest); v != session.Hit {
			b.Fatalf("Lookup = %v, want Hit", v)
		}
	}
}

func BenchmarkDupCacheLookupMiss(b *testing.B) {
	c := newDupCache(b, session.DupCacheConfig{})
	b.ReportAllocs()
	for b.Loop() {
		if _, v := c.Lookup(t0, "peer", "txn", 1, benchRequest); v != session.Miss {
			b.Fatalf("Lookup = %v, want Miss", v)
		}
	}
}

// BenchmarkDupCacheRecord records into a full cache, so every Record also
// evicts one entry.
func BenchmarkDupCacheRecord(b *testing.B) {
	const entries = 4096
	c := newDupCache(b, session.DupCacheConfig{MaxEntries: entries})
	keys := make([]string, 2*entries)
	for i := range keys {
		keys[i] = fmt.Sprintf("%032x", i)
	}
	processing := bytes.Repeat([]byte("p"), 200)
	offer := bytes.Repeat([]byte("o"), 800)
	now := t0
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		c.Record(now, "peer", keys[i%len(keys)], 1, benchRequest, processing, offer)
		i++
	}
	if c.Len() > entries {
		b.Fatalf("Len() = %d, want at most %d", c.Len(), entries)
	}
}
