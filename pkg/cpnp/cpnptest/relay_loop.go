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
	"container/heap"
	"errors"
	"net"
	"net/netip"
	"time"
)

// relayItem is one copy of a datagram waiting in the relay's queue.
type relayItem struct {
	at    time.Time // release time
	seq   uint64    // breaks ties: release in scheduling order
	dir   Direction
	peer  *relayPeer
	data  []byte
	index int // in the heap; -1 once popped
}

// readClients reads datagrams from clients and feeds them to ingest.
func (r *Relay) readClients() {
	defer r.wg.Done()
	buf := make([]byte, r.fixed.MaxDatagram+1) // one more byte reveals an oversize datagram
	for {
		n, from, err := r.down.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || r.isDone() {
				return
			}
			continue // a transient error: keep serving the other clients
		}
		if n > r.fixed.MaxDatagram {
			r.count(ToServer, func(s *DirStats) { s.Received++; s.Oversize++ })
			continue
		}
		p := r.peerFor(from)
		if p == nil {
			continue
		}
		r.ingest(ToServer, p, append([]byte(nil), buf[:n]...))
	}
}

// readServer reads the server's datagrams to one client address.
func (r *Relay) readServer(p *relayPeer) {
	defer r.wg.Done()
	buf := make([]byte, r.fixed.MaxDatagram+1)
	for {
		n, err := p.up.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || r.isDone() {
				return
			}
			// ECONNREFUSED after an ICMP port unreachable (the server is
			// down): the socket stays usable.
			continue
		}
		if n > r.fixed.MaxDatagram {
			r.count(ToClient, func(s *DirStats) { s.Received++; s.Oversize++ })
			continue
		}
		r.ingest(ToClient, p, append([]byte(nil), buf[:n]...))
	}
}

// isDone reports whether Close has been called.
func (r *Relay) isDone() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// count applies f to the counters of d.
func (r *Relay) count(d Direction, f func(*DirStats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.stats[d])
}

// peerFor returns the peer of a client address, creating it (socket and
// reader goroutine) on first use; nil when refused or closing.
func (r *Relay) peerFor(addr netip.AddrPort) *relayPeer {
	r.mu.Lock()
	p, ok := r.peers[addr]
	full := len(r.peers) >= r.fixed.MaxPeers
	r.mu.Unlock()
	if ok {
		return p
	}
	if full {
		r.count(ToServer, func(s *DirStats) { s.Received++; s.Refused++ })
		return nil
	}
	// Only this goroutine creates peers, so nobody else adds addr meanwhile.
	up, err := net.DialUDP("udp", nil, r.target)
	if err != nil {
		r.count(ToServer, func(s *DirStats) { s.Received++; s.WriteErrors++ })
		return nil
	}
	p = &relayPeer{addr: addr, up: up}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		_ = up.Close() // never used
		return nil
	}
	r.peers[addr] = p
	p.lastActive = time.Now()
	if r.reapAt.IsZero() {
		r.reapAt = p.lastActive.Add(r.fixed.IdleTimeout)
		r.poke()
	}
	r.wg.Add(1)
	go r.readServer(p)
	return p
}

// ingest decides the fate of one datagram travelling in direction d for
// peer p, and queues what is to be forwarded.
func (r *Relay) ingest(d Direction, p *relayPeer, data []byte) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	st := &r.stats[d]
	st.Received++
	p.lastActive = now
	dec := r.imp[d].decide(r.rng[d]) // drawn even when paused: pausing does not shift later decisions
	held := p.held[d]
	releaseHeld := now // when no copy of this datagram is forwarded
	switch {
	case r.paused:
		st.Partitioned++
	case dec.drop:
		st.Dropped++
	default:
		first := &relayItem{at: now.Add(dec.delay[0]), dir: d, peer: p, data: data}
		if dec.reorder && held == nil {
			// Hold it back: the next datagram of this flow releases it
			// after itself, or the reorder window does.
			first.at = first.at.Add(r.cfg.ReorderWindow)
			if r.pushLocked(first) {
				st.Reordered++
				p.held[d] = first
			}
		} else {
			r.pushLocked(first)
			releaseHeld = first.at
		}
		if dec.duplicate {
			st.Duplicated++
			r.pushLocked(&relayItem{at: now.Add(dec.delay[1]), dir: d, peer: p, data: data})
		}
	}
	if held != nil && held.index >= 0 {
		// Release the held datagram right after this one (same release
		// time, later sequence number), unless its window ends first.
		if releaseHeld.Before(held.at) {
			held.at = releaseHeld
		}
		r.seq++
		held.seq = r.seq
		heap.Fix(&r.queue, held.index)
		p.held[d] = nil
		r.poke()
	}
}

// pushLocked queues it, or counts an overflow; it reports whether it was
// queued.
func (r *Relay) pushLocked(it *relayItem) bool {
	if len(r.queue) >= r.fixed.MaxQueue {
		r.stats[it.dir].Overflow++
		return false
	}
	r.seq++
	it.seq = r.seq
	heap.Push(&r.queue, it)
	if it.index == 0 {
		r.poke()
	}
	return true
}

// poke wakes the scheduler to look at the queue head and reap time again.
func (r *Relay) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// schedule releases queued datagrams when they are due and closes idle
// upstream sockets. It is the only goroutine that writes datagrams.
func (r *Relay) schedule() {
	defer r.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		r.mu.Lock()
		var due []*relayItem
		for len(r.queue) > 0 && !r.queue[0].at.After(now) {
			it := heap.Pop(&r.queue).(*relayItem)
			if it.peer.held[it.dir] == it {
				it.peer.held[it.dir] = nil
			}
			due = append(due, it)
		}
		var reaped []*relayPeer
		if !r.reapAt.IsZero() && !now.Before(r.reapAt) {
			reaped = r.reapLocked(now)
		}
		next := r.reapAt
		if len(r.queue) > 0 && (next.IsZero() || r.queue[0].at.Before(next)) {
			next = r.queue[0].at
		}
		r.mu.Unlock()

		r.send(due)
		for _, p := range reaped {
			_ = p.up.Close() // its reader returns on net.ErrClosed
		}

		var tick <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			tick = timer.C
		}
		select {
		case <-r.done:
			return
		case <-r.wake:
		case <-tick:
		}
	}
}

// send writes the due copies.
func (r *Relay) send(due []*relayItem) {
	if len(due) == 0 {
		return
	}
	var forwarded, failed [2]uint64
	for _, it := range due {
		var err error
		if it.dir == ToServer {
			_, err = it.peer.up.Write(it.data)
		} else {
			_, err = r.down.WriteToUDPAddrPort(it.data, it.peer.addr)
		}
		if err != nil {
			failed[it.dir]++
		} else {
			forwarded[it.dir]++
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for d := range r.stats {
		r.stats[d].Forwarded += forwarded[d]
		r.stats[d].WriteErrors += failed[d]
	}
}

// reapLocked forgets the peers idle since IdleTimeout, returns them for
// their sockets to be closed, and sets the next reap time.
func (r *Relay) reapLocked(now time.Time) []*relayPeer {
	var reaped []*relayPeer
	r.reapAt = time.Time{}
	for addr, p := range r.peers {
		end := p.lastActive.Add(r.fixed.IdleTimeout)
		if !now.Before(end) {
			p.closed = true
			delete(r.peers, addr)
			reaped = append(reaped, p)
			continue
		}
		if r.reapAt.IsZero() || end.Before(r.reapAt) {
			r.reapAt = end
		}
	}
	return reaped
}

// relayQueue is a min-heap of copies by release time, then sequence.
type relayQueue []*relayItem

func (q relayQueue) Len() int { return len(q) }

func (q relayQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}

func (q relayQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *relayQueue) Push(x any) {
	it := x.(*relayItem)
	it.index = len(*q)
	*q = append(*q, it)
}

func (q *relayQueue) Pop() any {
	old := *q
	n := len(old)
	it := old[n-1]
	old[n-1] = nil
	it.index = -1
	*q = old[:n-1]
	return it
}
