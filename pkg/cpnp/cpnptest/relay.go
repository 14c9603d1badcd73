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
	"net"
	"net/netip"
	"sync"
	"time"
)

// Relay is a lossy UDP relay on loopback. It sits between datagram
// clients (DTLS clients, the client engine) and one server and damages the
// traffic in both directions as its RelayConfig says: drop, duplicate,
// reorder, delay and jitter (DESIGN §7; RFC 8921 §11.4 is what makes CPNP
// survive it, with DTLS's own flight retransmission under the handshake).
//
// Each client source address gets its own upstream socket, created on its
// first datagram, so the server sees as many distinct peers as there are
// clients, and replies go back to the right client. Upstream sockets are
// closed after IdleTimeout of silence (a client that then sends again gets
// a new one, as after a NAT rebinding); at most MaxPeers exist at once.
//
// Decisions come from math/rand/v2 seeded with RelayConfig.Seed, one
// stream per direction, so they are reproducible given the same order of
// datagrams. The relay is bounded: one goroutine reads from clients, one
// per client address reads from the server, and one scheduler releases
// delayed datagrams from a heap capped at MaxQueue entries; no goroutine
// is started per datagram.
//
// Pause partitions the network (what is queued and every datagram after
// it is dropped) until Resume. A Relay is safe for concurrent use;
// Close stops it and waits for its goroutines.
type Relay struct {
	down   *net.UDPConn // faces the clients
	target *net.UDPAddr
	done   chan struct{}
	wake   chan struct{} // cap 1: the scheduler's head or reap time changed
	wg     sync.WaitGroup

	// fixed is the configuration at start, never changed: the fields that
	// SetConfig may not change are read from it without locking.
	fixed RelayConfig

	mu     sync.Mutex
	cfg    RelayConfig // in force, with defaults
	imp    [2]Impairment
	rng    [2]*rand.Rand
	paused bool
	closed bool
	peers  map[netip.AddrPort]*relayPeer
	queue  relayQueue
	seq    uint64
	reapAt time.Time // zero: no peer
	stats  [2]DirStats
}

// DirStats counts what happened to the datagrams of one direction. Every
// datagram received is accounted for exactly once among Dropped,
// Partitioned, Overflow, Refused, Oversize and (once released) Forwarded or
// WriteErrors; a duplicate adds one to Duplicated and one more release.
type DirStats struct {
	// Received is the datagrams read from the sending side.
	Received uint64
	// Forwarded is the datagrams written to the receiving side,
	// duplicates included.
	Forwarded uint64
	// Dropped is the datagrams lost on purpose (Drop).
	Dropped uint64
	// Duplicated is the extra copies made (Duplicate).
	Duplicated uint64
	// Reordered is the datagrams held back to go after a later one
	// (Reorder).
	Reordered uint64
	// Partitioned is the datagrams (or queued copies) dropped while paused.
	Partitioned uint64
	// Overflow is the copies dropped because the queue was full.
	Overflow uint64
	// Refused is the datagrams from a new client address dropped because
	// MaxPeers addresses were in use (ToServer only).
	Refused uint64
	// Oversize is the datagrams longer than MaxDatagram, dropped.
	Oversize uint64
	// WriteErrors is the copies whose write failed (e.g. the server's
	// port is closed, or the client address was reaped meanwhile).
	WriteErrors uint64
}

// RelayStats is a snapshot of a relay's counters.
type RelayStats struct {
	// ToServer counts datagrams from clients to the server.
	ToServer DirStats
	// ToClient counts datagrams from the server to clients.
	ToClient DirStats
	// Peers is the number of client addresses with an upstream socket.
	Peers int
	// Queued is the number of datagram copies waiting to be released.
	Queued int
}

// relayPeer is one client address and its upstream socket.
type relayPeer struct {
	addr netip.AddrPort
	up   *net.UDPConn
	// Guarded by Relay.mu:
	lastActive time.Time
	held       [2]*relayItem // the datagram held back for reordering, per direction
	closed     bool
}

// NewRelay validates cfg, resolves Target, listens on cfg.Listen and starts
// relaying.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new relay: %w", err)
	}
	cfg = cfg.withDefaults()
	target, err := net.ResolveUDPAddr("udp", cfg.Target)
	if err != nil {
		return nil, fmt.Errorf("new relay: target: %w", err)
	}
	laddr, err := net.ResolveUDPAddr("udp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("new relay: listen: %w", err)
	}
	down, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("new relay: %w", err)
	}
	r := &Relay{
		down:   down,
		target: target,
		done:   make(chan struct{}),
		wake:   make(chan struct{}, 1),
		fixed:  cfg,
		cfg:    cfg,
		imp:    [2]Impairment{cfg.impairment(ToServer), cfg.impairment(ToClient)},
		rng:    [2]*rand.Rand{newRNG(cfg.Seed, ToServer), newRNG(cfg.Seed, ToClient)},
		peers:  map[netip.AddrPort]*relayPeer{},
	}
	r.wg.Add(2)
	go r.readClients()
	go r.schedule()
	return r, nil
}

// Addr is where clients send: the relay's listening address.
func (r *Relay) Addr() net.Addr { return r.down.LocalAddr() }

// Config returns the configuration in force, defaults filled in.
func (r *Relay) Config() RelayConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg
}

// SetConfig changes the damage done from now on: the impairment fields,
// the overrides and ReorderWindow. Target, Listen, Seed, MaxQueue,
// MaxPeers, IdleTimeout and MaxDatagram are fixed when the relay starts; a
// cfg that changes one (after defaults) is refused. The decision streams
// go on where they are. Typical use: cfg := r.Config(); cfg.Drop = 1;
// r.SetConfig(cfg).
func (r *Relay) SetConfig(cfg RelayConfig) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("set relay config: %w", err)
	}
	cfg = cfg.withDefaults()
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.fixed
	var errs []error
	for _, f := range []struct {
		name     string
		old, new any
	}{
		{"Target", old.Target, cfg.Target}, {"Listen", old.Listen, cfg.Listen}, {"Seed", old.Seed, cfg.Seed},
		{"MaxQueue", old.MaxQueue, cfg.MaxQueue}, {"MaxPeers", old.MaxPeers, cfg.MaxPeers},
		{"IdleTimeout", old.IdleTimeout, cfg.IdleTimeout}, {"MaxDatagram", old.MaxDatagram, cfg.MaxDatagram},
	} {
		if f.old != f.new {
			errs = append(errs, &RelayConfigError{Field: f.name, Value: f.new, Reason: fmt.Sprintf("cannot change on a running relay (is %v)", f.old)})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("set relay config: %w", err)
	}
	r.cfg = cfg
	r.imp = [2]Impairment{cfg.impairment(ToServer), cfg.impairment(ToClient)}
	return nil
}

// Pause starts a partition: every datagram still queued in the relay is
// dropped at once (it was in flight), and from now on every datagram, in
// both directions, is dropped until Resume. Use it to make the server
// unreachable. The decision streams still advance while paused.
func (r *Relay) Pause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paused = true
	for _, it := range r.queue {
		r.stats[it.dir].Partitioned++
		it.index = -1
		it.peer.held[it.dir] = nil
	}
	r.queue = nil
}

// Resume ends a partition started by Pause.
func (r *Relay) Resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paused = false
}

// Stats returns a snapshot of the counters.
func (r *Relay) Stats() RelayStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RelayStats{ToServer: r.stats[ToServer], ToClient: r.stats[ToClient], Peers: len(r.peers), Queued: len(r.queue)}
}

// Close stops the relay: it closes every socket, discards what is queued,
// and waits for all its goroutines to return. Closing twice is a no-op.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	peers := make([]*relayPeer, 0, len(r.peers))
	for _, p := range r.peers {
		p.closed = true
		peers = append(peers, p)
	}
	clear(r.peers)
	r.queue = nil
	r.mu.Unlock()

	close(r.done)
	errs := []error{r.down.Close()}
	for _, p := range peers {
		errs = append(errs, p.up.Close())
	}
	r.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close relay: %w", err)
	}
	return nil
}
