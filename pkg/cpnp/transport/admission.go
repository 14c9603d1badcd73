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
// cap is refused; when the global cap is reached the oldest half-open
// handshake is evicted (its context cancelled with ErrEvicted) to make room,
// so a flood from many addresses churns through the table instead of
// locking newcomers out until the flood's handshakes time out.
type admission struct {
	max, perSource int

	mu       sync.Mutex
	bySource map[netip.Addr]int
	order    *list.List // of *halfOpen, oldest first
}

// halfOpen is one admitted handshake.
type halfOpen struct {
	src    netip.Addr
	cancel context.CancelCauseFunc
	elem   *list.Element // nil once released or evicted
}

func newAdmission(maxTotal, perSource int) *admission {
	return &admission{
		max:       maxTotal,
		perSource: perSource,
		bySource:  make(map[netip.Addr]int),
		order:     list.New(),
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
	if a.order.Len() >= a.max {
		evicted = a.order.Remove(a.order.Front()).(*halfOpen) //nolint:forcetypeassert // only *halfOpen is stored
		a.forget(evicted)
	}
	h = &halfOpen{src: src, cancel: cancel}
	h.elem = a.order.PushBack(h)
	a.bySource[src]++
	return h, evicted, nil
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
	a.order.Remove(h.elem)
	a.forget(h)
	return true
}

// forget drops h from the per-source count; the caller holds mu and has
// removed h from order.
func (a *admission) forget(h *halfOpen) {
	h.elem = nil
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
	return a.order.Len()
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
