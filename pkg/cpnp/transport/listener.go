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
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/go-logr/logr"
)

// listenerCore is what the DTLS and TLS listeners share: admission,
// concurrent handshakes, delivery to Accept and shutdown.
type listenerCore struct {
	transport string
	cfg       Config // with defaults
	log       logr.Logger
	adm       *admission

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // accept loop and handshake goroutines
	ready  chan Conn      // completed handshakes waiting for Accept

	loopDone chan struct{} // closed when the accept loop ends
	loopErr  error         // why it ended, written before loopDone closes

	mu     sync.Mutex
	conns  map[Conn]struct{} // established associations, closed by Close
	closed bool

	closeOnce sync.Once
	closeErr  error
}

func newListenerCore(transport string, cfg Config) *listenerCore {
	ctx, cancel := context.WithCancel(context.Background())
	return &listenerCore{
		transport: transport,
		cfg:       cfg,
		log:       cfg.Logger.WithValues("transport", transport),
		adm:       newAdmission(cfg.MaxHalfOpen, cfg.MaxHalfOpenPerSource),
		ctx:       ctx,
		cancel:    cancel,
		ready:     make(chan Conn),
		loopDone:  make(chan struct{}),
		conns:     make(map[Conn]struct{}),
	}
}

// attempt is an admitted connection attempt, before its handshake runs.
type attempt struct {
	slot        *halfOpen
	base        context.Context // cancelled on eviction (cause ErrEvicted) and Close
	cancelCause context.CancelCauseFunc
	remote      net.Addr
	cookie      *cookieConn // DTLS: watches the cookie exchange; nil otherwise
}

// done ends the attempt's cookie watch (its handshake ended).
func (a *attempt) done() {
	if a.cookie != nil {
		a.cookie.stop()
	}
}

// admit applies the half-open caps to a new attempt from remote, before any
// cryptographic work (DESIGN §4 "DTLS admission").
func (l *listenerCore) admit(remote net.Addr) (*attempt, error) {
	base, cancelCause := context.WithCancelCause(l.ctx)
	slot, evicted, err := l.adm.admit(sourceIP(remote), cancelCause)
	if err != nil {
		cancelCause(nil)
		l.cfg.Metrics.refused()
		if log := l.log.V(4); log.Enabled() { // guarded: once per flood datagram
			log.Info("Refused handshake attempt", "peer", remote.String(), "reason", err.Error())
		}
		return nil, fmt.Errorf("admit %s: %w", remote, err)
	}
	if evicted != nil {
		evicted.cancel(ErrEvicted)
		l.cfg.Metrics.evicted()
		l.cfg.Metrics.addHalfOpen(-1)
		if log := l.log.V(4); log.Enabled() {
			log.Info("Evicted oldest half-open handshake", "source", evicted.src.String())
		}
	}
	l.cfg.Metrics.addHalfOpen(1)
	return &attempt{slot: slot, base: base, cancelCause: cancelCause, remote: remote}, nil
}

// abandon gives back the slot of an attempt that never ran its handshake.
func (l *listenerCore) abandon(a *attempt) {
	if a == nil {
		return
	}
	if l.adm.release(a.slot) {
		l.cfg.Metrics.addHalfOpen(-1)
	}
	a.done()
	a.cancelCause(nil)
}

// serverHandshake runs one server-side handshake and yields the association.
type serverHandshake func(ctx context.Context) (Conn, error)

// handshakeAsync runs shake in its own goroutine under HandshakeTimeout
// (counted from admission), frees the half-open slot when it ends and
// hands a completed association to Accept. abort closes the transport
// connection of a failed handshake.
func (l *listenerCore) handshakeAsync(a *attempt, shake serverHandshake, abort func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer a.cancelCause(nil)
		hctx, cancel := context.WithTimeout(a.base, l.cfg.HandshakeTimeout)
		defer cancel()
		c, err := shake(hctx)
		a.done()
		if l.adm.release(a.slot) {
			l.cfg.Metrics.addHalfOpen(-1)
		}
		if err != nil {
			abort()
			he := classifyHandshake(l.transport, a.remote, err, true, false, hctx, nil)
			l.cfg.Metrics.handshakeFailed(he.Reason)
			if log := l.log.V(1); log.Enabled() {
				log.Info("Refused handshake", "peer", a.remote.String(), "reason", he.Reason.String(),
					"error", err.Error())
			}
			return
		}
		l.cfg.Metrics.handshakeDone()
		l.log.V(1).Info("Accepted association", "peer", a.remote.String(), "identity", c.Identity())
		if !l.track(c) {
			_ = c.Close()
			return
		}
		select {
		case l.ready <- c:
		case <-l.ctx.Done():
			_ = c.Close()
		}
	}()
}

// track registers an established association so that Close closes it; it
// reports false when the listener is already closed.
func (l *listenerCore) track(c Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	select {
	case <-c.Done():
		return false
	default:
	}
	l.conns[c] = struct{}{}
	return true
}

// untrack is the onClose hook of an association.
func (l *listenerCore) untrack(c Conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// endLoop records why the accept loop ended.
func (l *listenerCore) endLoop(err error) {
	l.loopErr = err
	close(l.loopDone)
}

// Accept implements Listener.
func (l *listenerCore) Accept(ctx context.Context) (Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.ctx.Done():
		return nil, fmt.Errorf("accept: %w", net.ErrClosed)
	case <-l.loopDone:
		if l.loopErr != nil {
			return nil, fmt.Errorf("accept: %w", l.loopErr)
		}
		return nil, fmt.Errorf("accept: %w", net.ErrClosed)
	}
}

// close shuts the listener down: no new attempts, handshakes aborted,
// closeListener called, goroutines waited for, associations closed.
func (l *listenerCore) close(closeListener func() error) error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		l.cancel()
		var errs []error
		if err := closeListener(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
		l.wg.Wait()
		l.mu.Lock()
		conns := make([]Conn, 0, len(l.conns))
		for c := range l.conns {
			conns = append(conns, c)
		}
		l.mu.Unlock()
		for _, c := range conns {
			if err := c.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			l.closeErr = fmt.Errorf("close %s listener: %w", l.transport, err)
		}
	})
	return l.closeErr
}
