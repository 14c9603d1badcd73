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

package transport

import (
	"container/list"
	"context"
	"net"
	"net/netip"
	"sync"
)

// admission caps half-open handshakes of one listener (DESIGN §4 "DTLS
// admission", RFC 8921 §13): at most perSource from one source IP and at
// most max in all. It runs before any cryptographic work. A source at its
// cap is refused; when the global cap is reached a half-open handshake is
// evicted (its context cancelled with ErrEvicted) to make room, so a flood
// from many addresses churns through the table instead of locking
// newcomers out until the flood's handshakes time out.
//
// The victim is the oldest handshake whose client has not returned the
// HelloVerifyRequest cookie (RFC 6347 §4.2.1); handshakes whose client
// did (verify), which proves it receives at its address, are evicted only
// when no other is left. Stalled ClientHellos from spoofed or silent
// sources, which never return a cookie, thus never push out a client that
// is past the cookie exchange.
type admission struct {
	max, perSource int

	mu       sync.Mutex
	bySource map[netip.Addr]int
	fresh    *list.List // of *halfOpen without a returned cookie, oldest first
	verified *list.List // of *halfOpen whose client returned the cookie, oldest first
}

// halfOpen is one admitted handshake.
type halfOpen struct {
	src    netip.Addr
	cancel context.CancelCauseFunc
	elem   *list.Element // nil once released or evicted
	in     *list.List    // the list elem is in
}

func newAdmission(maxTotal, perSource int) *admission {
	return &admission{
		max:       maxTotal,
		perSource: perSource,
		bySource:  make(map[netip.Addr]int),
		fresh:     list.New(),
		verified:  list.New(),
	}
}

// admit reserves a slot for a handshake from src whose context is cancelled
// by cancel. It returns ErrHalfOpenLimit when src is at its cap. evicted,
// when not nil, is the handshake that was pushed out: the caller cancels it
// (outside any lock) with ErrEvicted.
func (a *admission) admit(src netip.Addr, cancel context.CancelCauseFunc) (h, evicted *halfOpen, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.bySource[src] >= a.perSource {
		return nil, nil, ErrHalfOpenLimit
	}
	if a.fresh.Len()+a.verified.Len() >= a.max {
		from := a.fresh
		if from.Len() == 0 {
			from = a.verified
		}
		evicted = from.Remove(from.Front()).(*halfOpen) //nolint:forcetypeassert // only *halfOpen is stored
		a.forget(evicted)
	}
	h = &halfOpen{src: src, cancel: cancel, in: a.fresh}
	h.elem = a.fresh.PushBack(h)
	a.bySource[src]++
	return h, evicted, nil
}

// verify records that h's client returned the cookie; it reports whether h
// still held a slot that was not verified yet.
func (a *admission) verify(h *halfOpen) bool {
	if h == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if h.elem == nil || h.in != a.fresh {
		return false
	}
	a.fresh.Remove(h.elem)
	h.elem, h.in = a.verified.PushBack(h), a.verified
	return true
}

// release frees h's slot and reports whether it still held one (false
// when h was evicted or released already).
func (a *admission) release(h *halfOpen) bool {
	if h == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if h.elem == nil {
		return false
	}
	h.in.Remove(h.elem)
	a.forget(h)
	return true
}

// forget drops h from the per-source count; the caller holds mu and has
// removed h from its list.
func (a *admission) forget(h *halfOpen) {
	h.elem, h.in = nil, nil
	if n := a.bySource[h.src] - 1; n > 0 {
		a.bySource[h.src] = n
	} else {
		delete(a.bySource, h.src)
	}
}

// len is the number of half-open handshakes.
func (a *admission) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fresh.Len() + a.verified.Len()
}

// sourceIP is the IP of a UDP or TCP address (IPv4-mapped IPv6 unmapped),
// the key of the per-source cap.
func sourceIP(addr net.Addr) netip.Addr {
	switch a := addr.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	if ap, err := netip.ParseAddrPort(addr.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}
