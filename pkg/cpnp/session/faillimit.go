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
	"errors"
	"time"

	"golang.org/x/time/rate"
)

// DefaultFailRate is the sustained FAIL rate per peer (DESIGN §3: 10/s).
const DefaultFailRate rate.Limit = 10

// Default FAIL burst (DESIGN §3: 20) and number of peers tracked.
const (
	DefaultFailBurst    = 20
	DefaultFailMaxPeers = 65536
)

// FailLimiterConfig configures a FailLimiter. A zero field takes its default.
type FailLimiterConfig struct {
	// Rate is the sustained number of FAIL messages per second per peer.
	// rate.Inf disables the limit. Default DefaultFailRate.
	Rate rate.Limit `json:"rate,omitempty"`
	// Burst is how many FAIL messages a peer may be sent at once.
	// Default DefaultFailBurst.
	Burst int `json:"burst,omitempty"`
	// MaxPeers bounds the number of peers tracked; past it the least
	// recently limited peer is forgotten. Default DefaultFailMaxPeers.
	MaxPeers int `json:"maxPeers,omitempty"`
}

// DefaultFailLimiterConfig returns the defaults, every field filled in.
func DefaultFailLimiterConfig() FailLimiterConfig {
	return FailLimiterConfig{}.withDefaults()
}

func (c FailLimiterConfig) withDefaults() FailLimiterConfig {
	if c.Rate == 0 {
		c.Rate = DefaultFailRate
	}
	if c.Burst == 0 {
		c.Burst = DefaultFailBurst
	}
	if c.MaxPeers == 0 {
		c.MaxPeers = DefaultFailMaxPeers
	}
	return c
}

// Validate reports fields that cannot work: one *ConfigError per bad field,
// joined; every one matches ErrInvalidConfig. Zero fields are valid: they
// take their defaults.
func (c FailLimiterConfig) Validate() error {
	var errs []error
	if !(c.Rate >= 0) { // also rejects NaN
		errs = append(errs, &ConfigError{Field: "failLimiter.rate", Value: float64(c.Rate), Reason: "must not be negative"})
	}
	if c.Burst < 0 {
		errs = append(errs, &ConfigError{Field: "failLimiter.burst", Value: c.Burst, Reason: "must not be negative"})
	}
	if c.MaxPeers < 0 {
		errs = append(errs, &ConfigError{Field: "failLimiter.maxPeers", Value: c.MaxPeers, Reason: "must not be negative"})
	}
	return errors.Join(errs...)
}

// FailLimiter limits the FAIL messages sent to each peer with a token bucket
// per peer (RFC 8921 §9.2.5: "In order to prevent DDoS ... attacks, the
// server should restrict the number of FAIL messages sent to a requesting
// client. It may also rate-limit FAIL messages"; §13). The peer key is the
// caller's choice: the authenticated identity (DESIGN §4), or the source
// address for a message that arrives before any identity is known.
//
// The number of peers tracked is bounded: a peer whose bucket has refilled is
// indistinguishable from a new one and is forgotten lazily, and past MaxPeers
// the least recently limited peer is forgotten (it then starts again with a
// full bucket, which only errs towards sending).
//
// FailLimiter is pure: time arrives as now (rate.Limiter.AllowN takes it
// explicitly). It is not safe for concurrent use: one goroutine owns it.
type FailLimiter struct {
	cfg FailLimiterConfig
	lru *lru[string, *rate.Limiter]
}

// NewFailLimiter returns a limiter that tracks no peer yet, or an error
// matching ErrInvalidConfig when cfg does not validate.
func NewFailLimiter(cfg FailLimiterConfig) (*FailLimiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &FailLimiter{cfg: cfg, lru: newLRU[string, *rate.Limiter](min(cfg.MaxPeers, 1024))}, nil
}

// Config returns the configuration in force, defaults filled in.
func (l *FailLimiter) Config() FailLimiterConfig { return l.cfg }

// Len is the number of peers tracked.
func (l *FailLimiter) Len() int { return l.lru.len() }

// Allow reports whether one FAIL message may be sent to peer at now, and if
// so takes a token from its bucket. A caller that is told false drops the
// FAIL (the request is then silently discarded).
func (l *FailLimiter) Allow(now time.Time, peer string) bool {
	if l.cfg.Rate == rate.Inf {
		return true
	}
	n := l.lru.get(peer)
	if n == nil {
		n = &lruNode[string, *rate.Limiter]{key: peer, val: rate.NewLimiter(l.cfg.Rate, l.cfg.Burst)}
		l.lru.pushFront(n)
	} else {
		l.lru.touch(n)
	}
	ok := n.val.AllowN(now, 1)
	l.sweep(now, n)
	return ok
}

// sweep forgets peers from the back whose bucket is full again (amortised
// O(1)), then the least recently limited ones past MaxPeers.
func (l *FailLimiter) sweep(now time.Time, keep *lruNode[string, *rate.Limiter]) {
	for b := l.lru.back(); b != nil && b != keep && full(b.val, now); b = l.lru.back() {
		l.lru.remove(b)
	}
	for l.lru.len() > l.cfg.MaxPeers {
		b := l.lru.back()
		if b == nil || b == keep {
			return
		}
		l.lru.remove(b)
	}
}

// full reports whether lim has refilled to its burst by now, so that a fresh
// limiter would behave the same.
func full(lim *rate.Limiter, now time.Time) bool {
	return lim.TokensAt(now) >= float64(lim.Burst())
}
