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

package client

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// DropReason says why a received datagram or message was discarded without
// reaching an order (RFC 8921 §10.1, §13: the client discards silently). It
// indexes Metrics and its String is a metric label value.
type DropReason int

// Drop reasons.
const (
	// DropInvalid: the datagram is not a valid CPNP message (wire.Decode failed).
	DropInvalid DropReason = iota
	// DropClientMethod: a method that only clients send (§8.6).
	DropClientMethod
	// DropUnknownOrder: no order with this customer order identifier is
	// registered for the server the message came from.
	DropUnknownOrder
	// DropWrongServer: the order exists, but with another server (§13:
	// responses from unknown servers are discarded).
	DropWrongServer
	// DropOverload: the engine's inbox was full; the server retransmits (§11.4).
	DropOverload
	// DropMachine: the client machine discarded the message (Table 5
	// checks, stale sequence number, unexpected in the state).
	DropMachine
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
	DropInvalid:      "invalid",
	DropClientMethod: "client_method",
	DropUnknownOrder: "unknown_order",
	DropWrongServer:  "wrong_server",
	DropOverload:     "overload",
	DropMachine:      "machine",
}

// String returns the reason as a metric label value, e.g. "unknown_order".
func (r DropReason) String() string {
	if r < 0 || r >= numDropReasons {
		return fmt.Sprintf("DropReason(%d)", int(r))
	}
	return dropReasonNames[r]
}

// DropReasons lists every reason, for registering metrics up front.
func DropReasons() []DropReason {
	rs := make([]DropReason, numDropReasons)
	for i := range rs {
		rs[i] = DropReason(i)
	}
	return rs
}

// numMethods sizes the per-method counters: index = method code (1..11).
const numMethods = 12

// Metrics counts client events with plain atomic counters, so that this
// package needs no metrics library; the operator exports them, e.g. as
// Prometheus CounterFuncs reading Snapshot. The zero value is ready to use;
// a nil *Metrics counts nothing. A Mux and an Engine may share one.
type Metrics struct {
	dials             atomic.Uint64
	handshakeFailures atomic.Uint64
	dialFailures      atomic.Uint64
	associations      atomic.Int64
	sent              [numMethods]atomic.Uint64
	received          [numMethods]atomic.Uint64
	sendFailures      atomic.Uint64
	drops             [numDropReasons]atomic.Uint64
	retransmissions   atomic.Uint64
	roundTrips        atomic.Uint64
	roundTripNanos    atomic.Uint64
	alarms            atomic.Uint64
	storeFailures     atomic.Uint64
	eventsDropped     atomic.Uint64
}

// MetricsSnapshot is a copy of the counters at one instant.
type MetricsSnapshot struct {
	// Dials counts association attempts (the first one and re-dials).
	Dials uint64
	// HandshakeFailures counts dials whose DTLS/TLS handshake failed
	// (transport.ErrHandshakeFailed: unknown authority, bad server name, ...).
	HandshakeFailures uint64
	// DialFailures counts dials that failed before or outside the handshake.
	DialFailures uint64
	// Associations is the number of open associations.
	Associations int64
	// Sent and Received count messages by method (only valid methods).
	Sent, Received map[wire.Method]uint64
	// SendFailures counts messages that could not be written (no
	// association within the send timeout, write error, full outbox).
	SendFailures uint64
	// Drops counts discarded messages by reason; every reason is present.
	Drops map[DropReason]uint64
	// Retransmissions counts messages re-sent unchanged (§11.4).
	Retransmissions uint64
	// RoundTrips counts requests answered without having been
	// retransmitted, and RoundTripTime is the sum of their round-trip times
	// (Karn's rule), so RoundTripTime/RoundTrips is the mean.
	RoundTrips    uint64
	RoundTripTime time.Duration
	// Alarms counts alarms raised by the machine (§11.1.2).
	Alarms uint64
	// StoreFailures counts Store.Save errors (the step was not applied).
	StoreFailures uint64
	// EventsDropped counts events not delivered to a full subscriber channel.
	EventsDropped uint64
}

// Snapshot copies the counters.
func (m *Metrics) Snapshot() MetricsSnapshot {
	if m == nil {
		m = &Metrics{}
	}
	s := MetricsSnapshot{
		Dials:             m.dials.Load(),
		HandshakeFailures: m.handshakeFailures.Load(),
		DialFailures:      m.dialFailures.Load(),
		Associations:      m.associations.Load(),
		Sent:              make(map[wire.Method]uint64),
		Received:          make(map[wire.Method]uint64),
		SendFailures:      m.sendFailures.Load(),
		Drops:             make(map[DropReason]uint64, numDropReasons),
		Retransmissions:   m.retransmissions.Load(),
		RoundTrips:        m.roundTrips.Load(),
		RoundTripTime:     time.Duration(m.roundTripNanos.Load()),
		Alarms:            m.alarms.Load(),
		StoreFailures:     m.storeFailures.Load(),
		EventsDropped:     m.eventsDropped.Load(),
	}
	for _, meth := range wire.Methods {
		if n := m.sent[meth].Load(); n > 0 {
			s.Sent[meth] = n
		}
		if n := m.received[meth].Load(); n > 0 {
			s.Received[meth] = n
		}
	}
	for i := range m.drops {
		s.Drops[DropReason(i)] = m.drops[i].Load()
	}
	return s
}

func (m *Metrics) inc(c *atomic.Uint64) {
	if m != nil {
		c.Add(1)
	}
}

func (m *Metrics) dial() {
	if m != nil {
		m.inc(&m.dials)
	}
}

func (m *Metrics) dialFailed(handshake bool) {
	if m == nil {
		return
	}
	if handshake {
		m.inc(&m.handshakeFailures)
	} else {
		m.inc(&m.dialFailures)
	}
}

func (m *Metrics) addAssociations(d int64) {
	if m != nil {
		m.associations.Add(d)
	}
}

func (m *Metrics) sentMsg(meth wire.Method) {
	if m != nil && meth > 0 && meth < numMethods {
		m.sent[meth].Add(1)
	}
}

// unsentMsg takes back the count of a message whose write failed (see Mux.Send).
func (m *Metrics) unsentMsg(meth wire.Method) {
	if m != nil && meth > 0 && meth < numMethods {
		m.sent[meth].Add(^uint64(0)) // minus one
	}
}

func (m *Metrics) receivedMsg(meth wire.Method) {
	if m != nil && meth > 0 && meth < numMethods {
		m.received[meth].Add(1)
	}
}

func (m *Metrics) sendFailed() {
	if m != nil {
		m.inc(&m.sendFailures)
	}
}

func (m *Metrics) dropped(r DropReason) {
	if m != nil && r >= 0 && r < numDropReasons {
		m.drops[r].Add(1)
	}
}

func (m *Metrics) retransmitted() {
	if m != nil {
		m.inc(&m.retransmissions)
	}
}

func (m *Metrics) roundTrip(rtt time.Duration) {
	if m != nil && rtt >= 0 {
		m.roundTrips.Add(1)
		m.roundTripNanos.Add(uint64(rtt))
	}
}

func (m *Metrics) alarm() {
	if m != nil {
		m.inc(&m.alarms)
	}
}

func (m *Metrics) storeFailed() {
	if m != nil {
		m.inc(&m.storeFailures)
	}
}

func (m *Metrics) eventDropped() {
	if m != nil {
		m.inc(&m.eventsDropped)
	}
}
