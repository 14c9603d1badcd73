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
	"sync"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// link keeps the association with one server: one goroutine (run) dials,
// reads every message of the association and hands it to the Mux, and
// dials again when the association ends, with a bounded exponential
// backoff (DESIGN §4: one association per client identity and server).
type link struct {
	m    *Mux
	name string
	addr string
	dial transport.DialFunc

	ctx    context.Context // cancelled by stop
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	mu      sync.Mutex
	conn    transport.Conn // nil while there is no association
	changed chan struct{}  // closed (and replaced) whenever conn changes
	lastErr error          // the last dial failure, nil after a success
	// heard counts the datagrams conn delivered; mark is the first
	// retransmission sent on conn since the last of them, if marked
	// (closeIfSilent).
	heard     uint64
	marked    bool
	markAt    time.Time
	markHeard uint64
}

func newLink(m *Mux, name string, sc ServerConfig) *link {
	ctx, cancel := context.WithCancel(context.Background())
	return &link{
		m:       m,
		name:    name,
		addr:    sc.Address,
		dial:    sc.dialFunc(),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
}

// stop ends the link and waits for its goroutine.
func (l *link) stop() {
	l.cancel()
	<-l.done
}

// current returns the live association (nil if none) and a channel closed
// at the next change.
func (l *link) current() (transport.Conn, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn, l.changed
}

// waitError is cause, with the last dial failure when there was one.
func (l *link) waitError(cause error) error {
	l.mu.Lock()
	last := l.lastErr
	l.mu.Unlock()
	if last == nil {
		return cause
	}
	return fmt.Errorf("%w (last dial: %w)", cause, last)
}

func (l *link) set(c transport.Conn, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conn = c
	if c != nil {
		l.heard, l.marked = 0, false
	}
	if c != nil || err != nil {
		l.lastErr = err
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// run dials, reads and re-dials until stop. After a failed dial, or an
// association that ended without delivering anything (a server that
// accepts and drops us), it waits MinBackoff, doubling up to MaxBackoff;
// after an association that worked it dials again at once.
func (l *link) run() {
	defer close(l.done)
	log := l.m.log.WithValues("peer", l.name, "address", l.addr)
	cfg := l.m.cfg
	backoff := cfg.MinBackoff
	failures := 0
	for l.ctx.Err() == nil {
		cfg.Metrics.dial()
		c, err := l.dial(l.ctx, l.addr)
		if err != nil {
			if l.ctx.Err() != nil {
				return
			}
			handshake := errors.Is(err, transport.ErrHandshakeFailed)
			cfg.Metrics.dialFailed(handshake)
			// Record the error before the hook runs, so that whoever the
			// hook wakes (Connect, Send) already sees this dial's failure.
			l.set(nil, err)
			if handshake && cfg.OnHandshakeFailure != nil {
				cfg.OnHandshakeFailure(l.name, err)
			}
			failures++
			lg := log.V(1)
			if failures == 1 {
				lg = log
			}
			lg.Info("Failed to open association", "error", err.Error(), "retryIn", backoff.String(), "failures", failures)
			if !l.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, cfg.MaxBackoff)
			continue
		}
		failures = 0
		start := cfg.Clock.Now()
		cfg.Metrics.addAssociations(1)
		log.V(1).Info("Opened association", "identity", c.Identity(), "remote", c.RemoteAddr().String())
		l.set(c, nil)
		delivered, cause := l.read(c)
		l.set(nil, nil)
		_ = c.Close()
		cfg.Metrics.addAssociations(-1)
		if l.ctx.Err() != nil {
			return
		}
		log.V(1).Info("Association ended", "cause", cause.Error())
		if delivered || cfg.Clock.Now().Sub(start) >= cfg.MaxBackoff {
			backoff = cfg.MinBackoff
			continue
		}
		if !l.sleep(backoff) {
			return
		}
		backoff = min(2*backoff, cfg.MaxBackoff)
	}
}

// read hands every message of c to the Mux until the association ends or
// the link stops; it reports whether any message arrived and why it ended.
// A connection that lends its messages (transport.BorrowingConn) saves a
// copy of each: Mux.deliver decodes the message before the next read and
// keeps no reference to it (wire.Decode copies what it keeps).
func (l *link) read(c transport.Conn) (delivered bool, cause error) {
	read := c.ReadMessage
	if bc, ok := c.(transport.BorrowingConn); ok {
		read = bc.ReadMessageBorrowed
	}
	for {
		data, err := read(l.ctx)
		if err != nil {
			return delivered, err
		}
		delivered = true
		l.mu.Lock()
		l.heard++
		l.mu.Unlock()
		l.m.deliver(l.name, data)
	}
}

// closeIfSilent is called before a retransmission on c, the current
// association. It closes c, and reports true, when c delivered messages
// before but nothing since an earlier retransmission sent at least
// StaleAfter ago: the server probably lost the association (a restart);
// the link then dials again. Otherwise it marks this retransmission as the
// start of the silence, unless one is marked already.
func (l *link) closeIfSilent(c transport.Conn) bool {
	stale := l.m.cfg.StaleAfter
	if stale < 0 {
		return false
	}
	now := l.m.cfg.Clock.Now()
	l.mu.Lock()
	if l.conn != c {
		l.mu.Unlock()
		return false
	}
	if !l.marked || l.heard != l.markHeard {
		l.marked, l.markAt, l.markHeard = true, now, l.heard
		l.mu.Unlock()
		return false
	}
	silent := now.Sub(l.markAt)
	if l.heard == 0 || silent < stale {
		l.mu.Unlock()
		return false
	}
	l.marked = false
	l.mu.Unlock()
	l.m.log.V(1).Info("Closing a silent association before a retransmission", "peer", l.name,
		"address", l.addr, "silentFor", silent.String())
	_ = c.Close()
	return true
}

// sleep waits d on the Mux clock; it returns false when the link stops first.
func (l *link) sleep(d time.Duration) bool {
	t := l.m.cfg.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-l.ctx.Done():
		return false
	}
}
