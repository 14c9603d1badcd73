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

import "sync/atomic"

// Metrics counts transport events. It is plain atomic counters so that this
// package needs no metrics library; an engine exports them, for example as
// Prometheus CounterFunc/GaugeFunc reading Snapshot. The zero value is ready
// to use; a nil *Metrics counts nothing. Pass one in Config.Metrics.
type Metrics struct {
	handshakes        atomic.Uint64
	handshakeFailures [numHandshakeReasons]atomic.Uint64
	halfOpenRefused   atomic.Uint64
	halfOpenEvicted   atomic.Uint64
	halfOpenVerified  atomic.Uint64
	halfOpen          atomic.Int64
	active            atomic.Int64
	idleClosed        atomic.Uint64
	fragmentDrops     [numDropReasons]atomic.Uint64
	messagesIn        atomic.Uint64
	messagesOut       atomic.Uint64
}

// MetricsSnapshot is a copy of the counters at one instant.
type MetricsSnapshot struct {
	// HandshakesCompleted counts handshakes that completed (both sides).
	HandshakesCompleted uint64
	// HandshakeFailures counts failed handshakes by reason; every reason is
	// present, with 0 when it never happened.
	HandshakeFailures map[HandshakeReason]uint64
	// HalfOpenRefused counts connection attempts refused by the per-source cap.
	HalfOpenRefused uint64
	// HalfOpenEvicted counts half-open handshakes evicted by the global cap.
	HalfOpenEvicted uint64
	// HalfOpenVerified counts DTLS handshakes whose client returned the
	// HelloVerifyRequest cookie (RFC 6347 §4.2.1); the global cap evicts
	// them only when no handshake without a returned cookie is left.
	HalfOpenVerified uint64
	// HalfOpen is the number of handshakes in progress on listeners.
	HalfOpen int64
	// ActiveAssociations is the number of open associations (both sides).
	ActiveAssociations int64
	// IdleClosed counts associations closed by the idle timeout.
	IdleClosed uint64
	// FragmentDrops counts dropped fragments by reason; every reason is present.
	FragmentDrops map[DropReason]uint64
	// MessagesIn and MessagesOut count whole messages read and written.
	MessagesIn, MessagesOut uint64
}

// Snapshot copies the counters.
func (m *Metrics) Snapshot() MetricsSnapshot {
	s := MetricsSnapshot{
		HandshakeFailures: make(map[HandshakeReason]uint64, numHandshakeReasons),
		FragmentDrops:     make(map[DropReason]uint64, numDropReasons),
	}
	if m == nil {
		m = &Metrics{}
	}
	s.HandshakesCompleted = m.handshakes.Load()
	for i := range m.handshakeFailures {
		s.HandshakeFailures[HandshakeReason(i)] = m.handshakeFailures[i].Load()
	}
	s.HalfOpenRefused = m.halfOpenRefused.Load()
	s.HalfOpenEvicted = m.halfOpenEvicted.Load()
	s.HalfOpenVerified = m.halfOpenVerified.Load()
	s.HalfOpen = m.halfOpen.Load()
	s.ActiveAssociations = m.active.Load()
	s.IdleClosed = m.idleClosed.Load()
	for i := range m.fragmentDrops {
		s.FragmentDrops[DropReason(i)] = m.fragmentDrops[i].Load()
	}
	s.MessagesIn = m.messagesIn.Load()
	s.MessagesOut = m.messagesOut.Load()
	return s
}

func (m *Metrics) handshakeDone() {
	if m != nil {
		m.handshakes.Add(1)
	}
}

func (m *Metrics) handshakeFailed(r HandshakeReason) {
	if m != nil && r >= 0 && r < numHandshakeReasons {
		m.handshakeFailures[r].Add(1)
	}
}

func (m *Metrics) refused() {
	if m != nil {
		m.halfOpenRefused.Add(1)
	}
}

func (m *Metrics) evicted() {
	if m != nil {
		m.halfOpenEvicted.Add(1)
	}
}

func (m *Metrics) verified() {
	if m != nil {
		m.halfOpenVerified.Add(1)
	}
}

func (m *Metrics) addHalfOpen(d int64) {
	if m != nil {
		m.halfOpen.Add(d)
	}
}

func (m *Metrics) addActive(d int64) {
	if m != nil {
		m.active.Add(d)
	}
}

func (m *Metrics) idleClose() {
	if m != nil {
		m.idleClosed.Add(1)
	}
}

func (m *Metrics) fragmentDropped(r DropReason) {
	if m != nil && r >= 0 && r < numDropReasons {
		m.fragmentDrops[r].Add(1)
	}
}

func (m *Metrics) messageIn() {
	if m != nil {
		m.messagesIn.Add(1)
	}
}

func (m *Metrics) messageOut() {
	if m != nil {
		m.messagesOut.Add(1)
	}
}
