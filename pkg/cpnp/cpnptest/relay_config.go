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

package cpnptest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Defaults of RelayConfig.
const (
	// DefaultRelayListen is where a relay listens for clients.
	DefaultRelayListen = "127.0.0.1:0"
	// DefaultRelayMaxQueue bounds the datagrams a relay holds (delayed or
	// held back for reordering), both directions together.
	DefaultRelayMaxQueue = 4096
	// DefaultRelayMaxPeers bounds the client addresses a relay serves at
	// once, each with its own upstream socket and reader goroutine.
	DefaultRelayMaxPeers = 1024
	// DefaultRelayIdleTimeout is how long a client address may stay silent
	// (in both directions) before its upstream socket is closed: DESIGN
	// §3's idle association time.
	DefaultRelayIdleTimeout = 5 * time.Minute
	// DefaultRelayReorderWindow is the longest a datagram is held back for
	// reordering when no later datagram of its flow comes to overtake it.
	DefaultRelayReorderWindow = 20 * time.Millisecond
	// DefaultRelayMaxDatagram is the largest datagram a relay forwards:
	// pion/dtls's receive buffer (DESIGN §3), so anything larger would be
	// lost at the receiver anyway.
	DefaultRelayMaxDatagram = 8192
)

// maxRelayDelay bounds Delay and Jitter: longer makes no sense in a test,
// and it keeps the arithmetic far from overflow.
const maxRelayDelay = time.Hour

// ErrInvalidRelayConfig is matched (errors.Is) by every error of
// RelayConfig.Validate, NewRelay and Relay.SetConfig about the
// configuration.
var ErrInvalidRelayConfig = errors.New("invalid relay configuration")

// RelayConfigError reports one RelayConfig field that cannot work.
// Validate joins one per bad field (errors.Join).
type RelayConfigError struct {
	// Field names the field ("Drop", "ToClient.Jitter").
	Field string
	// Value is the rejected value.
	Value any
	// Reason says what the field must be.
	Reason string
}

// Error implements error.
func (e *RelayConfigError) Error() string {
	return fmt.Sprintf("relay config %s %v: %s", e.Field, e.Value, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidRelayConfig) true.
func (e *RelayConfigError) Is(target error) bool { return target == ErrInvalidRelayConfig }

// Direction is the way a datagram travels through a Relay.
type Direction int

const (
	// ToServer is from a client to the target server (upstream).
	ToServer Direction = iota
	// ToClient is from the server back to a client (downstream).
	ToClient
)

// String returns "to-server" or "to-client".
func (d Direction) String() string {
	switch d {
	case ToServer:
		return "to-server"
	case ToClient:
		return "to-client"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// Impairment is the damage a Relay does to the datagrams of one direction.
// Each datagram is, in this order: dropped with probability Drop; else
// forwarded after Delay plus a uniform random 0..Jitter, and also
// duplicated with probability Duplicate (the copy gets its own jitter);
// and, with probability Reorder, held back until the next datagram of the
// same client and direction arrives, to be released right after it (or
// until the reorder window passes). Only one datagram per client and
// direction is held at a time. Jitter reorders datagrams too, whenever it
// exceeds their spacing.
type Impairment struct {
	// Drop is the probability (0..1) that a datagram is lost.
	Drop float64
	// Duplicate is the probability (0..1) that a datagram is delivered twice.
	Duplicate float64
	// Reorder is the probability (0..1) that a datagram is held back and
	// delivered after the next one.
	Reorder float64
	// Delay is the base one-way delay.
	Delay time.Duration
	// Jitter is the largest random delay added to Delay.
	Jitter time.Duration
}

// validate appends one *RelayConfigError per bad field, prefixed.
func (imp Impairment) validate(prefix string, errs []error) []error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"Drop", imp.Drop}, {"Duplicate", imp.Duplicate}, {"Reorder", imp.Reorder}} {
		if !(p.v >= 0 && p.v <= 1) { // also rejects NaN
			errs = append(errs, &RelayConfigError{Field: prefix + p.name, Value: p.v, Reason: "must be a probability between 0 and 1"})
		}
	}
	for _, p := range []struct {
		name string
		v    time.Duration
	}{{"Delay", imp.Delay}, {"Jitter", imp.Jitter}} {
		if p.v < 0 || p.v > maxRelayDelay {
			errs = append(errs, &RelayConfigError{Field: prefix + p.name, Value: p.v, Reason: "must be between 0 and " + maxRelayDelay.String()})
		}
	}
	return errs
}

// decision is what a relay does with one datagram.
type decision struct {
	drop      bool
	duplicate bool
	reorder   bool
	delay     [2]time.Duration // of the datagram and of its duplicate
}

// decide draws the fate of one datagram from rng. It draws the same number
// of values whatever the outcome, so the fate of the n-th datagram of a
// direction depends only on the seed and n, not on earlier outcomes or on
// the probabilities of other kinds of damage.
func (imp Impairment) decide(rng *rand.Rand) decision {
	d := decision{
		drop:      rng.Float64() < imp.Drop,
		duplicate: rng.Float64() < imp.Duplicate,
		reorder:   rng.Float64() < imp.Reorder,
	}
	for i := range d.delay {
		d.delay[i] = imp.Delay + time.Duration(rng.Int64N(int64(imp.Jitter)+1))
	}
	if d.drop {
		d.duplicate, d.reorder = false, false
	}
	return d
}

// RelayConfig configures a Relay: where it forwards to, and how it damages
// traffic. The impairment fields (Drop ... Jitter) apply to both
// directions unless ToServer or ToClient overrides them.
type RelayConfig struct {
	// Target is the server's UDP address (host:port). Required.
	Target string
	// Listen is where the relay listens for clients; default
	// DefaultRelayListen (a free loopback port, see Relay.Addr).
	Listen string
	// Seed seeds the relay's random decisions (math/rand/v2 PCG, one
	// stream per direction): with the same seed, the n-th datagram of a
	// direction meets the same fate.
	Seed int64

	// Drop is the probability (0..1) that a datagram is lost.
	Drop float64
	// Duplicate is the probability (0..1) that a datagram is delivered twice.
	Duplicate float64
	// Reorder is the probability (0..1) that a datagram is held back and
	// delivered after the next one of its flow.
	Reorder float64
	// Delay is the base one-way delay.
	Delay time.Duration
	// Jitter is the largest uniform random delay added to Delay.
	Jitter time.Duration

	// ToServer, if set, replaces the impairment fields for datagrams
	// from clients to the server.
	ToServer *Impairment
	// ToClient, if set, replaces the impairment fields for datagrams
	// from the server to clients.
	ToClient *Impairment

	// ReorderWindow is the longest a datagram is held back for
	// reordering; default DefaultRelayReorderWindow.
	ReorderWindow time.Duration
	// MaxQueue bounds the datagrams waiting in the relay (delayed or held);
	// more are dropped and counted as Overflow. Default
	// DefaultRelayMaxQueue.
	MaxQueue int
	// MaxPeers bounds the client addresses served at once; datagrams from
	// more are dropped and counted as Refused. Default
	// DefaultRelayMaxPeers.
	MaxPeers int
	// IdleTimeout closes the upstream socket of a client address silent
	// for this long; default DefaultRelayIdleTimeout.
	IdleTimeout time.Duration
	// MaxDatagram is the largest datagram forwarded; larger ones are
	// dropped and counted as Oversize. Default DefaultRelayMaxDatagram.
	MaxDatagram int
}

// withDefaults returns c with every zero field that has a default set.
func (c RelayConfig) withDefaults() RelayConfig {
	if c.Listen == "" {
		c.Listen = DefaultRelayListen
	}
	if c.ReorderWindow == 0 {
		c.ReorderWindow = DefaultRelayReorderWindow
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = DefaultRelayMaxQueue
	}
	if c.MaxPeers == 0 {
		c.MaxPeers = DefaultRelayMaxPeers
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultRelayIdleTimeout
	}
	if c.MaxDatagram == 0 {
		c.MaxDatagram = DefaultRelayMaxDatagram
	}
	return c
}

// Validate reports every field that cannot work, one *RelayConfigError
// each (joined); zero values that have a default are fine.
func (c RelayConfig) Validate() error {
	var errs []error
	if c.Target == "" {
		errs = append(errs, &RelayConfigError{Field: "Target", Value: c.Target, Reason: "is required"})
	}
	shared := Impairment{Drop: c.Drop, Duplicate: c.Duplicate, Reorder: c.Reorder, Delay: c.Delay, Jitter: c.Jitter}
	errs = shared.validate("", errs)
	if c.ToServer != nil {
		errs = c.ToServer.validate("ToServer.", errs)
	}
	if c.ToClient != nil {
		errs = c.ToClient.validate("ToClient.", errs)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"ReorderWindow", int64(c.ReorderWindow)}, {"MaxQueue", int64(c.MaxQueue)}, {"MaxPeers", int64(c.MaxPeers)},
		{"IdleTimeout", int64(c.IdleTimeout)}, {"MaxDatagram", int64(c.MaxDatagram)},
	} {
		if f.v < 0 {
			errs = append(errs, &RelayConfigError{Field: f.name, Value: f.v, Reason: "must not be negative (0 means the default)"})
		}
	}
	return errors.Join(errs...)
}

// impairment returns the damage done in direction d.
func (c RelayConfig) impairment(d Direction) Impairment {
	switch {
	case d == ToServer && c.ToServer != nil:
		return *c.ToServer
	case d == ToClient && c.ToClient != nil:
		return *c.ToClient
	}
	return Impairment{Drop: c.Drop, Duplicate: c.Duplicate, Reorder: c.Reorder, Delay: c.Delay, Jitter: c.Jitter}
}

// newRNG returns the decision stream of direction d for seed.
func newRNG(seed int64, d Direction) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15*uint64(d+1)))
}
