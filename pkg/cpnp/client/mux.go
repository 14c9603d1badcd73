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
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Handler receives a message routed to one order, with the time it was
// read. It runs on the association's reader goroutine, so it must not
// block: record the message and wake the owner (the Engine posts it to its
// loop; the operator records it and triggers a reconcile).
type Handler func(msg wire.Message, receivedAt time.Time)

// routeKey identifies a registered order: the server it is negotiated with
// and its CUSTOMER_ORDER_IDENTIFIER (§9.1.1).
type routeKey struct{ server, customerOrderID string }

// Mux owns one association per CPNP server and routes every valid message
// that arrives to the Handler registered for (server, customer order
// identifier); see the package documentation. All methods are safe for
// concurrent use.
type Mux struct {
	cfg MuxConfig
	log logr.Logger

	mu     sync.RWMutex
	links  map[string]*link
	routes map[routeKey]Handler
	// orders counts the servers each customer order identifier is
	// registered with, to tell an unknown order from a wrong server.
	orders map[string]int
	closed bool
	wg     sync.WaitGroup
}

// NewMux returns a Mux without servers.
func NewMux(cfg MuxConfig) (*Mux, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Mux{
		cfg:    cfg,
		log:    cfg.Logger,
		links:  make(map[string]*link),
		routes: make(map[routeKey]Handler),
		orders: make(map[string]int),
	}, nil
}

// AddServer adds a server under name and starts dialling it; the
// association is kept up (dialled again with backoff when it fails or
// closes) until RemoveServer or Close.
func (m *Mux) AddServer(name string, sc ServerConfig) error {
	if name == "" {
		return fmt.Errorf("add server: %w: empty name", ErrInvalidConfig)
	}
	if err := sc.Validate(); err != nil {
		return fmt.Errorf("add server %q: %w", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return fmt.Errorf("add server %q: %w", name, ErrClosed)
	case m.links[name] != nil:
		return fmt.Errorf("add server %q: %w", name, ErrServerExists)
	}
	l := newLink(m, name, sc)
	m.links[name] = l
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		l.run()
	}()
	return nil
}

// RemoveServer closes the association with the server and stops dialling
// it. Registered orders stay registered.
func (m *Mux) RemoveServer(name string) error {
	m.mu.Lock()
	l := m.links[name]
	delete(m.links, name)
	m.mu.Unlock()
	if l == nil {
		return fmt.Errorf("remove server %q: %w", name, ErrUnknownServer)
	}
	l.stop()
	return nil
}

// Servers returns the names of the servers added, sorted.
func (m *Mux) Servers() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := make([]string, 0, len(m.links))
	for n := range m.links {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// HasServer reports whether name was added.
func (m *Mux) HasServer(name string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.links[name] != nil
}

// Register routes the messages of server about customerOrderID to h,
// replacing a Handler registered before for the same pair. The server need
// not be added yet.
func (m *Mux) Register(server, customerOrderID string, h Handler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := routeKey{server, customerOrderID}
	if _, ok := m.routes[k]; !ok {
		m.orders[customerOrderID]++
	}
	m.routes[k] = h
}

// Unregister stops routing the messages of server about customerOrderID;
// they are discarded from now on (§13).
func (m *Mux) Unregister(server, customerOrderID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := routeKey{server, customerOrderID}
	if _, ok := m.routes[k]; !ok {
		return
	}
	delete(m.routes, k)
	if m.orders[customerOrderID]--; m.orders[customerOrderID] <= 0 {
		delete(m.orders, customerOrderID)
	}
}

// Send encodes msg and writes it on the association with server, waiting
// for the association (a dial in progress, a re-dial) until ctx ends. It
// returns an error wrapping ErrUnknownServer for a server not added, the
// encoding error of an invalid message, and, when ctx ends first, an error
// that wraps ctx.Err() and names the last dial failure, if any.
func (m *Mux) Send(ctx context.Context, server string, msg wire.Message) error {
	return m.send(ctx, server, msg, false)
}

// Retransmit is Send for a retransmission (RFC 8921 §11.4: the same
// message again, e.g. fsm.Send with Retransmission set): when the
// association went silent after an earlier retransmission, at least
// MuxConfig.StaleAfter ago, with nothing received since, it is closed
// first and the message goes out on a new one (the server probably lost
// the association, e.g. it restarted). Errors are those of Send.
func (m *Mux) Retransmit(ctx context.Context, server string, msg wire.Message) error {
	return m.send(ctx, server, msg, true)
}

// send is Send; a retransmission (§11.4) first closes an association that
// went silent after an earlier retransmission (link.closeIfSilent,
// MuxConfig.StaleAfter), so that it goes out on a new one.
func (m *Mux) send(ctx context.Context, server string, msg wire.Message, retransmission bool) error {
	return m.write(ctx, server, msg, retransmission, true)
}

// errNoAssociation is what write returns, without waiting, when there is
// no association to write on: nothing was sent.
var errNoAssociation = errors.New("no association")

// write is send; with wait false it does not wait for an association: it
// returns errNoAssociation, having sent nothing and counted no failure,
// when there is none or it closed under the write.
func (m *Mux) write(ctx context.Context, server string, msg wire.Message, retransmission, wait bool) error {
	// The encoding goes to a pooled buffer: transport.Conn.WriteMessage
	// does not keep it after it returns.
	bp := encodeBuffers.Get().(*[]byte) //nolint:forcetypeassert // the pool holds *[]byte only
	defer putEncodeBuffer(bp)
	data, err := wire.Append((*bp)[:0], msg)
	if err != nil {
		return fmt.Errorf("send %s to %q: %w", msg.Method, server, err)
	}
	*bp = data
	l, err := m.link(server)
	if err != nil {
		return fmt.Errorf("send %s: %w", msg.Method, err)
	}
	for {
		c, changed := l.current()
		if c != nil && retransmission && l.closeIfSilent(c) {
			retransmission = false // once: the next association is new
		}
		if c != nil {
			// Count before the write: the peer may answer, and the caller
			// see that answer, before WriteMessage returns. A failed write
			// takes the count back.
			m.cfg.Metrics.sentMsg(msg.Method)
			err := c.WriteMessage(ctx, data)
			if err != nil {
				m.cfg.Metrics.unsentMsg(msg.Method)
			}
			if err == nil {
				if log := m.log.V(4); log.Enabled() {
					log.Info("Sent message", "peer", server, "method", msg.Method.String(),
						"customerOrderID", msg.CustomerOrderID, "transactionID", msg.TransactionID, "seq", msg.Seq)
				}
				return nil
			}
			if !errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				m.cfg.Metrics.sendFailed()
				return fmt.Errorf("send %s to %q: %w", msg.Method, server, err)
			}
			// The association closed under us: wait for the next one.
		}
		if !wait {
			return errNoAssociation
		}
		select {
		case <-changed:
		case <-ctx.Done():
			m.cfg.Metrics.sendFailed()
			return fmt.Errorf("send %s to %q: no association: %w", msg.Method, server, l.waitError(ctx.Err()))
		case <-l.ctx.Done():
			m.cfg.Metrics.sendFailed()
			return fmt.Errorf("send %s to %q: %w", msg.Method, server, ErrClosed)
		}
	}
}

// Connect waits until the association with server is up. When ctx ends
// first it returns an error wrapping ctx.Err() and the last dial failure
// (for example a *transport.HandshakeError), so that a caller can tell
// "unreachable" from "certificate refused".
func (m *Mux) Connect(ctx context.Context, server string) error {
	l, err := m.link(server)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	for {
		c, changed := l.current()
		if c != nil {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("connect to %q: %w", server, l.waitError(ctx.Err()))
		case <-l.ctx.Done():
			return fmt.Errorf("connect to %q: %w", server, ErrClosed)
		}
	}
}

// Close closes every association and stops dialling; it waits for the
// goroutines of the Mux. Later calls of AddServer fail with ErrClosed.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	links := m.links
	m.links = make(map[string]*link)
	m.mu.Unlock()
	for _, l := range links {
		l.cancel()
	}
	m.wg.Wait()
	return nil
}

func (m *Mux) link(server string) (*link, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	l := m.links[server]
	if l == nil {
		return nil, fmt.Errorf("server %q: %w", server, ErrUnknownServer)
	}
	return l, nil
}

// deliver decodes one datagram from server and hands it to the order's
// Handler, or discards it silently (§10.1, §13). It keeps no reference to
// data, which may be the association's read buffer (link.read).
func (m *Mux) deliver(server string, data []byte) {
	at := m.cfg.Clock.Now()
	msg, err := wire.DecodeWithLimit(data, m.cfg.MaxMessageSize)
	if err != nil {
		m.drop(server, DropInvalid, "error", err.Error())
		return
	}
	m.cfg.Metrics.receivedMsg(msg.Method)
	switch msg.Method {
	case wire.MethodProcessing, wire.MethodOffer, wire.MethodAck, wire.MethodFail:
	default:
		m.drop(server, DropClientMethod, "method", msg.Method.String())
		return
	}
	m.mu.RLock()
	h := m.routes[routeKey{server, msg.CustomerOrderID}]
	elsewhere := m.orders[msg.CustomerOrderID] > 0
	m.mu.RUnlock()
	if h == nil {
		r := DropUnknownOrder
		if elsewhere {
			r = DropWrongServer
		}
		m.drop(server, r, "method", msg.Method.String(), "customerOrderID", msg.CustomerOrderID)
		return
	}
	if log := m.log.V(4); log.Enabled() {
		log.Info("Received message", "peer", server, "method", msg.Method.String(),
			"customerOrderID", msg.CustomerOrderID, "transactionID", msg.TransactionID, "seq", msg.Seq)
	}
	h(msg, at)
}

func (m *Mux) drop(server string, r DropReason, kv ...any) {
	m.cfg.Metrics.dropped(r)
	if m.cfg.OnDrop != nil {
		m.cfg.OnDrop(server, r)
	}
	if log := m.log.V(4); log.Enabled() {
		log.Info("Discarded message", append([]any{"peer", server, "reason", r.String()}, kv...)...)
	}
}

// encodeBuffers recycles the buffers messages are encoded into before a
// write (one per message otherwise).
var encodeBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 2048)
	return &b
}}

// maxPooledEncodeBuffer bounds the buffers kept for reuse: a rare large
// (fragmented) message does not pin its buffer.
const maxPooledEncodeBuffer = 16 << 10

func putEncodeBuffer(bp *[]byte) {
	if cap(*bp) > maxPooledEncodeBuffer {
		return
	}
	encodeBuffers.Put(bp)
}
