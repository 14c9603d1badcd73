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

package session

import (
	"crypto/sha256"
	"errors"
	"time"
)

// Default duplicate-cache settings.
const (
	// DefaultDupCacheMaxEntries bounds the number of (peer, transaction) entries.
	DefaultDupCacheMaxEntries = 65536
	// DefaultDupCacheMaxBytes bounds the answer bytes held by the cache (64 MiB).
	DefaultDupCacheMaxBytes = 64 << 20
	// DefaultDupCacheTTL is how long an entry answers duplicates after it was
	// last recorded.
	DefaultDupCacheTTL = 5 * time.Minute
	// DefaultDupCacheResendInterval is the least time between two resends of
	// the same answer (§11.4 "with a limited frequency").
	DefaultDupCacheResendInterval = 500 * time.Millisecond
)

// DupCacheConfig configures a DupCache. A zero field takes its default.
type DupCacheConfig struct {
	// MaxEntries bounds the number of entries; when a new (peer, transaction)
	// would exceed it, the least recently used entry is evicted.
	// Default DefaultDupCacheMaxEntries.
	MaxEntries int `json:"maxEntries,omitempty"`
	// MaxBytes bounds the total size of the stored answers, evicting the least
	// recently used entries first; a single entry larger than MaxBytes is not
	// stored. Default DefaultDupCacheMaxBytes.
	MaxBytes int64 `json:"maxBytes,omitempty"`
	// TTL is how long an entry lives after it was last recorded (Record or
	// Append). Expiry is lazy: it is checked against the now passed in.
	// Default DefaultDupCacheTTL.
	TTL time.Duration `json:"ttl,omitempty"`
	// ResendInterval is the least time between two answers sent for one
	// entry, counting the original answer (the Record time). Default
	// DefaultDupCacheResendInterval.
	ResendInterval time.Duration `json:"resendInterval,omitempty"`
}

// DefaultDupCacheConfig returns the defaults, every field filled in.
func DefaultDupCacheConfig() DupCacheConfig {
	return DupCacheConfig{}.withDefaults()
}

func (c DupCacheConfig) withDefaults() DupCacheConfig {
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultDupCacheMaxEntries
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultDupCacheMaxBytes
	}
	if c.TTL == 0 {
		c.TTL = DefaultDupCacheTTL
	}
	if c.ResendInterval == 0 {
		c.ResendInterval = DefaultDupCacheResendInterval
	}
	return c
}

// Validate reports fields that cannot work (negative values): one
// *ConfigError per bad field, joined; every one matches ErrInvalidConfig.
// Zero fields are valid: they take their defaults.
func (c DupCacheConfig) Validate() error {
	var errs []error
	if c.MaxEntries < 0 {
		errs = append(errs, &ConfigError{Field: "dupCache.maxEntries", Value: c.MaxEntries, Reason: "must not be negative"})
	}
	if c.MaxBytes < 0 {
		errs = append(errs, &ConfigError{Field: "dupCache.maxBytes", Value: c.MaxBytes, Reason: "must not be negative"})
	}
	if c.TTL < 0 {
		errs = append(errs, &ConfigError{Field: "dupCache.ttl", Value: c.TTL, Reason: "must not be negative"})
	}
	if c.ResendInterval < 0 {
		errs = append(errs, &ConfigError{Field: "dupCache.resendInterval", Value: c.ResendInterval, Reason: "must not be negative"})
	}
	return errors.Join(errs...)
}

// DupVerdict is the outcome of DupCache.Lookup.
type DupVerdict int

// Verdicts of Lookup. The zero value is Miss.
const (
	// Miss: the message is not the last request handled in this transaction
	// for this peer (or the entry expired or was evicted): process it normally.
	Miss DupVerdict = iota
	// Hit: the message is a retransmission of the last handled request:
	// resend the returned answers unchanged (§11.4) and do not process it again.
	Hit
	// Suppressed: a retransmission of the last handled request, but an answer
	// was sent less than ResendInterval ago: send nothing now (§11.4 "with a
	// limited frequency") and do not process it again.
	Suppressed
)

// String names the verdict.
func (v DupVerdict) String() string {
	switch v {
	case Miss:
		return "Miss"
	case Hit:
		return "Hit"
	case Suppressed:
		return "Suppressed"
	}
	return "DupVerdict(?)"
}

// dupKey identifies a transaction of one peer. Transaction IDs are chosen by
// clients (§8.4), so two peers may pick the same one: the authenticated peer
// identity is part of the key (DESIGN §4).
type dupKey struct {
	peer  string
	txnID string
}

// dupEntry is the last request handled in one transaction and its answers.
type dupEntry struct {
	seq      uint32
	digest   [sha256.Size]byte
	answers  [][]byte
	size     int64     // total length of answers
	recorded time.Time // last Record or Append: the TTL runs from here
	lastSent time.Time // last answer sent: the resend rate limit runs from here
}

// DupCache is the duplicate-answer cache of RFC 8921 §11.4: "if the partner
// receives a retransmission of the last incoming packet it handled, the
// partner can resend the same answer to the incoming packet with a limited
// frequency ... a partner could also store the last incoming packet and the
// associated answer".
//
// For every (peer identity, transaction ID) it keeps the last handled
// request, as its sequence number and the SHA-256 digest of its bytes, and
// the encoded answers sent for it (an answer may be several messages, for
// example PROCESSING then OFFER). A retransmission reuses its sequence number
// and bytes (§11.1.1, §11.4), so a message with the same sequence number and
// digest is the same request; one with the same number but other bytes is
// not, and misses.
//
// The cache is bounded by entry count and answer bytes (least recently used
// entries are evicted first) and by age (TTL, checked lazily against the now
// each method takes). Every operation is O(1) apart from hashing the request
// and copying the answers.
//
// DupCache is pure: it reads no clock (time arrives as now; pass times that
// carry a monotonic reading, as time.Now does, so that wall-clock jumps do not
// matter), no randomness and does no I/O. It is not safe for concurrent use:
// like the rest of an engine's mutable state, one goroutine owns it.
type DupCache struct {
	cfg   DupCacheConfig
	lru   *lru[dupKey, dupEntry]
	bytes int64
}

// NewDupCache returns an empty cache, or an error matching ErrInvalidConfig
// when cfg does not validate.
func NewDupCache(cfg DupCacheConfig) (*DupCache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	hint := min(cfg.MaxEntries, 1024)
	return &DupCache{cfg: cfg, lru: newLRU[dupKey, dupEntry](hint)}, nil
}

// Config returns the configuration in force, defaults filled in.
func (c *DupCache) Config() DupCacheConfig { return c.cfg }

// Len is the number of entries held, expired ones included until they are
// noticed.
func (c *DupCache) Len() int { return c.lru.len() }

// Bytes is the total size of the answers held.
func (c *DupCache) Bytes() int64 { return c.bytes }

// Record stores request (numbered seq) as the last request handled in
// transaction txnID of peer, with the answers sent for it, replacing what the
// entry held. The answers are copied, so the caller may reuse its buffers.
// The entry becomes the most recently used; its TTL and its resend interval
// start at now (the answers were just sent). An entry whose answers alone
// exceed MaxBytes is not stored, and any older entry for the key is dropped.
func (c *DupCache) Record(now time.Time, peer, txnID string, seq uint32, request []byte, answers ...[]byte) {
	k := dupKey{peer: peer, txnID: txnID}
	size := answersSize(answers)
	if size > c.cfg.MaxBytes {
		if n := c.lru.get(k); n != nil {
			c.drop(n)
		}
		return
	}
	n := c.lru.get(k)
	if n == nil {
		if c.lru.len() >= c.cfg.MaxEntries {
			// Full: the least recently used entry goes, and its node is reused.
			n = c.lru.back()
			c.drop(n)
			*n = lruNode[dupKey, dupEntry]{key: k}
		} else {
			n = &lruNode[dupKey, dupEntry]{key: k}
		}
		c.lru.pushFront(n)
	} else {
		c.bytes -= n.val.size
		c.lru.touch(n)
	}
	n.val = dupEntry{
		seq:      seq,
		digest:   sha256.Sum256(request),
		answers:  copyAnswers(answers, size),
		size:     size,
		recorded: now,
		lastSent: now,
	}
	c.bytes += size
	c.evict(now, n)
}

// Append adds answer to the answers of the entry of peer and txnID, when that
// entry still holds the request numbered seq: the case of an answer that
// could not be generated at once, where PROCESSING was sent first and the
// OFFER follows later (§11.4). It reports whether the answer was added; it is
// not when the entry is missing or expired, when a newer request has been
// recorded since, or when the entry would exceed MaxBytes (the entry is then
// dropped, so that a duplicate is processed again rather than answered with
// part of the answer). Like Record, it copies answer, refreshes the TTL and
// counts as an answer sent at now for the resend interval.
func (c *DupCache) Append(now time.Time, peer, txnID string, seq uint32, answer []byte) bool {
	n := c.lru.get(dupKey{peer: peer, txnID: txnID})
	if n == nil {
		return false
	}
	if c.expired(now, n) {
		c.drop(n)
		return false
	}
	if n.val.seq != seq {
		return false
	}
	size := n.val.size + int64(len(answer))
	if size > c.cfg.MaxBytes {
		c.drop(n)
		return false
	}
	n.val.answers = append(n.val.answers, append([]byte(nil), answer...))
	n.val.size = size
	n.val.recorded = now
	n.val.lastSent = now
	c.bytes += int64(len(answer))
	c.lru.touch(n)
	c.evict(now, n)
	return true
}

// Lookup classifies request (numbered seq) from peer in transaction txnID.
// On Hit it returns the stored answers, to be resent in order, and starts a
// new resend interval at now; on Miss and Suppressed it returns nil. The
// returned slices are shared with the cache and must not be modified. A hit
// (or a suppressed hit) makes the entry the most recently used; an expired
// entry is dropped and misses. A Hit with no answers means that the request
// was handled but its answer is not ready yet; §11.4 says to answer with
// PROCESSING in that case, which the caller then records with Append.
func (c *DupCache) Lookup(now time.Time, peer, txnID string, seq uint32, request []byte) ([][]byte, DupVerdict) {
	n := c.lru.get(dupKey{peer: peer, txnID: txnID})
	if n == nil {
		return nil, Miss
	}
	if c.expired(now, n) {
		c.drop(n)
		return nil, Miss
	}
	if n.val.seq != seq || n.val.digest != sha256.Sum256(request) {
		return nil, Miss
	}
	c.lru.touch(n)
	if now.Sub(n.val.lastSent) < c.cfg.ResendInterval {
		return nil, Suppressed
	}
	n.val.lastSent = now
	return n.val.answers, Hit
}

// Delete forgets the entry of peer and txnID, if any, and reports whether
// there was one.
func (c *DupCache) Delete(peer, txnID string) bool {
	n := c.lru.get(dupKey{peer: peer, txnID: txnID})
	if n == nil {
		return false
	}
	c.drop(n)
	return true
}

func (c *DupCache) expired(now time.Time, n *lruNode[dupKey, dupEntry]) bool {
	return now.Sub(n.val.recorded) >= c.cfg.TTL
}

func (c *DupCache) drop(n *lruNode[dupKey, dupEntry]) {
	c.bytes -= n.val.size
	c.lru.remove(n)
}

// evict restores the bounds after keep was written: it drops expired entries
// from the back (amortised O(1): each entry is dropped once), then the least
// recently used entries while a bound is exceeded. keep is at the front and
// fits MaxBytes on its own, so it is never evicted.
func (c *DupCache) evict(now time.Time, keep *lruNode[dupKey, dupEntry]) {
	for b := c.lru.back(); b != nil && b != keep && c.expired(now, b); b = c.lru.back() {
		c.drop(b)
	}
	for c.lru.len() > c.cfg.MaxEntries || c.bytes > c.cfg.MaxBytes {
		b := c.lru.back()
		if b == nil || b == keep {
			return
		}
		c.drop(b)
	}
}

func answersSize(answers [][]byte) int64 {
	var size int64
	for _, a := range answers {
		size += int64(len(a))
	}
	return size
}

// copyAnswers copies answers into one backing array: two allocations
// whatever their number.
func copyAnswers(answers [][]byte, size int64) [][]byte {
	if len(answers) == 0 {
		return nil
	}
	buf := make([]byte, 0, size)
	out := make([][]byte, len(answers))
	for i, a := range answers {
		start := len(buf)
		buf = append(buf, a...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}
