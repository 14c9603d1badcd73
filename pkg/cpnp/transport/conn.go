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
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

// Conn is one authenticated association (RFC 8921 §8.1) that carries whole
// CPNP messages. ReadMessage must not be called concurrently with itself;
// WriteMessage is safe for concurrent use, and so are the other methods.
type Conn interface {
	// ReadMessage returns the next complete message (reassembled from
	// fragments when it was fragmented). It returns ctx's error when ctx
	// ends first, and an error matching net.ErrClosed once the association
	// is closed (errors.Is with ErrIdleTimeout or ErrPeerClosed tells why).
	ReadMessage(ctx context.Context) ([]byte, error)
	// WriteMessage sends msg, one compact JSON object, fragmenting it over
	// DTLS when it exceeds Config.DatagramLimit. It fails with
	// ErrMessageTooLarge above ReassemblyLimits.MaxMessageSize. Like
	// io.Writer's Write, it does not keep msg after it returns, so callers
	// may reuse the buffer.
	WriteMessage(ctx context.Context, msg []byte) error
	// Identity is the authenticated identity of the peer: the URI SAN of its
	// certificate, else its CN (DESIGN §3); "" for an anonymous client of a
	// server with InsecureNoClientAuth.
	Identity() string
	// RemoteAddr is the peer's address.
	RemoteAddr() net.Addr
	// LocalAddr is the local address.
	LocalAddr() net.Addr
	// Done is closed when the association ends, whoever ended it.
	Done() <-chan struct{}
	// Close ends the association (sending close_notify). It is idempotent.
	Close() error
}

// BorrowingConn is a Conn that can lend a message instead of copying it.
// ReadMessageBorrowed is ReadMessage, except that the returned slice may be
// the connection's read buffer: it is valid only until the next call of
// ReadMessage or ReadMessageBorrowed, and the caller must not keep it nor
// write to it. A reader that is done with each message before it reads the
// next one (it decodes it: wire.Decode keeps no reference to its input)
// saves one allocation and copy per message (issue #3). DTLS and TLS
// associations implement it.
type BorrowingConn interface {
	Conn
	ReadMessageBorrowed(ctx context.Context) ([]byte, error)
}

// Listener accepts authenticated associations.
type Listener interface {
	// Accept returns the next association whose handshake completed;
	// handshakes run concurrently and never wait for Accept to be called
	// (a completed one waits for Accept). It returns ctx's error when ctx
	// ends first and an error matching net.ErrClosed after Close.
	Accept(ctx context.Context) (Conn, error)
	// Close stops accepting, aborts handshakes in progress and closes every
	// association this listener accepted (with DTLS they share its UDP
	// socket). It waits for the goroutines the listener started.
	Close() error
	// Addr is the listening address.
	Addr() net.Addr
}

// assoc is the part of a Conn both transports share: identity, addresses,
// idle expiry and closing.
type assoc struct {
	identity      string
	local, remote net.Addr
	metrics       *Metrics
	log           logr.Logger

	idle       time.Duration
	start      time.Time    // monotonic base of lastActive
	lastActive atomic.Int64 // time.Since(start) at the last message
	timerMu    sync.Mutex   // guards timer: the callback may run before AfterFunc returns
	timer      *time.Timer

	done      chan struct{}
	closeOnce sync.Once
	cause     error // why it closed; written before done is closed
	closeErr  error

	closeUnderlying func() error
	onClose         func() // listener bookkeeping, may be nil
}

// initAssoc fills in a; the association counts as active. The caller sets
// onClose, if any, and then calls startIdle.
func (a *assoc) initAssoc(identity string, local, remote net.Addr, cfg Config, closeUnderlying func() error) {
	a.identity = identity
	a.local, a.remote = local, remote
	a.metrics = cfg.Metrics
	a.log = cfg.Logger.WithValues("peer", remote.String(), "identity", identity)
	a.idle = cfg.IdleTimeout
	a.start = time.Now()
	a.done = make(chan struct{})
	a.closeUnderlying = closeUnderlying
	a.metrics.addActive(1)
}

// startIdle arms idle expiry.
func (a *assoc) startIdle() {
	a.timerMu.Lock()
	defer a.timerMu.Unlock()
	a.timer = time.AfterFunc(a.idle, a.idleCheck)
}

// touch records traffic, postponing idle expiry.
func (a *assoc) touch() { a.lastActive.Store(int64(time.Since(a.start))) }

// idleCheck runs when the idle timer fires: it closes the association when
// it has been idle for the whole timeout, else re-arms for the remainder.
func (a *assoc) idleCheck() {
	if a.isClosed() {
		return
	}
	idleFor := time.Since(a.start) - time.Duration(a.lastActive.Load())
	if idleFor < a.idle {
		a.timerMu.Lock()
		a.timer.Reset(a.idle - idleFor)
		a.timerMu.Unlock()
		return
	}
	a.metrics.idleClose()
	a.log.V(1).Info("Closed idle association", "idleTimeout", a.idle)
	_ = a.shutdown(ErrIdleTimeout)
}

// shutdown closes the association once, recording cause.
func (a *assoc) shutdown(cause error) error {
	did := false
	a.closeOnce.Do(func() {
		did = true
		a.cause = cause
		close(a.done)
		a.timerMu.Lock()
		if a.timer != nil {
			a.timer.Stop()
		}
		a.timerMu.Unlock()
		a.closeErr = a.closeUnderlying()
		a.metrics.addActive(-1)
		if a.onClose != nil {
			a.onClose()
		}
	})
	if did {
		return a.closeErr
	}
	return nil
}

// closedErr is the error of operations on a closed association.
func (a *assoc) closedErr() error {
	<-a.done
	return &closedError{cause: a.cause}
}

func (a *assoc) isClosed() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// Identity implements Conn.
func (a *assoc) Identity() string { return a.identity }

// RemoteAddr implements Conn.
func (a *assoc) RemoteAddr() net.Addr { return a.remote }

// LocalAddr implements Conn.
func (a *assoc) LocalAddr() net.Addr { return a.local }

// Done implements Conn.
func (a *assoc) Done() <-chan struct{} { return a.done }

// Close implements Conn.
func (a *assoc) Close() error {
	if err := a.shutdown(nil); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close association with %s: %w", a.remote, err)
	}
	return nil
}

// errPeerClosed is the cause of an association the peer ended.
var errPeerClosed = fmt.Errorf("%w: %w", ErrPeerClosed, io.EOF)

// ctxDeadline maps a context onto a connection's read or write deadline:
// the context's deadline becomes the connection's, and its cancellation
// sets a deadline in the past. A reader or writer usually passes the same
// long-lived context to every operation, so the watch of its cancellation
// (context.AfterFunc) is kept from one operation to the next and the
// deadline is set only when it changes: an operation then allocates
// nothing here. A generation counter keeps a late cancellation of a
// context no longer watched from touching a later operation.
type ctxDeadline struct {
	mu  sync.Mutex
	gen uint64
	set func(time.Time) error

	cur    time.Time // the deadline set last
	curSet bool      // whether one was set
	// watched is the context whose cancellation stop stops watching.
	watched  context.Context //nolint:containedctx // the context of the operations, kept to reuse its watch
	stop     func() bool
	released bool // the connection closed: watch nothing more
}

// pastDeadline is a deadline that has always passed.
var pastDeadline = time.Unix(1, 0)

// arm applies ctx to the next operation.
func (d *ctxDeadline) arm(ctx context.Context) {
	dl, _ := ctx.Deadline()
	d.mu.Lock()
	defer d.mu.Unlock()
	if ctx != d.watched {
		d.unwatchLocked()
		if ctx.Done() != nil && !d.released {
			d.gen++
			gen := d.gen
			d.watched = ctx
			d.stop = context.AfterFunc(ctx, func() {
				d.mu.Lock()
				defer d.mu.Unlock()
				if d.gen == gen {
					d.setLocked(pastDeadline)
				}
			})
		}
	}
	if ctx.Err() != nil {
		// Cancelled already: its watch may have run before this operation.
		dl = pastDeadline
	}
	if !d.curSet || !d.cur.Equal(dl) {
		d.setLocked(dl)
	}
}

func (d *ctxDeadline) setLocked(t time.Time) {
	_ = d.set(t)
	d.cur, d.curSet = t, true
}

// unwatchLocked stops watching the context of earlier operations.
func (d *ctxDeadline) unwatchLocked() {
	if d.stop != nil {
		d.stop()
	}
	d.watched, d.stop = nil, nil
	d.gen++
}

// release stops watching contexts; the connection closes.
func (d *ctxDeadline) release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.released = true
	d.unwatchLocked()
}

// ctxError is the error to return when an operation under ctx hit its
// deadline: ctx's own error, or DeadlineExceeded when the connection's
// deadline (ctx's) fired a moment before ctx's timer.
func ctxError(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.DeadlineExceeded
}

// isTimeout reports a deadline error of a connection.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
