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

package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/clock"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Server is the CPNP server engine (see the package documentation). Create
// it with New, run Serve for each listener, and stop it with Shutdown or
// Close. Its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	machine fsm.Server
	pol     policy.Policy
	st      *store.Store
	repo    *store.Repo[record]
	clk     clock.Clock
	log     logr.Logger
	m       *metrics

	// Channels into the loop.
	inbox      chan inbound
	cmds       chan command
	commitWake chan struct{}
	timerWake  chan struct{}
	flushWake  chan struct{}
	stop       chan struct{} // closed by Shutdown: the loop flushes and exits
	loopDone   chan struct{} // closed when the loop has exited

	// Commit notifications, written by the store's committer.
	commitMu  sync.Mutex
	committed uint64 // highest write sequence number called back
	commitErr error  // first failure
	// loopWaits is set while the loop has sends waiting for a commit
	// (Server.waiting, Server.awaitCommit): a done callback wakes the
	// loop only then, after a failure, or for orphans, rather than after
	// every commit (issue #3: a wake-up is a futex and a scheduling round).
	loopWaits bool

	// Lifecycle.
	mu           sync.Mutex
	closing      bool
	listeners    map[transport.Listener]struct{}
	serving      sync.WaitGroup // Serve calls in progress
	acceptCtx    context.Context
	cancelAccept context.CancelFunc
	failedCtx    context.Context // done once the store failed
	markFailed   context.CancelCauseFunc
	stopCtx      context.Context // bounds the loop's final flush (Shutdown's ctx)
	shutdownOnce sync.Once
	// closeUpstreams closes up once the loop exited.
	closeUpstreams sync.Once

	// Snapshot of every order for List and Get, written by the loop. The
	// orders it holds are never modified (fsm.Server.Step returns new
	// values), so readers may use them without copying.
	snapMu sync.RWMutex
	snap   map[string]record

	// Owned by the loop goroutine.
	orders     map[string]*entry
	byTxn      map[txnKey]*entry
	byIdentity map[string]*peerConn
	dup        *session.DupCache
	fails      *session.FailLimiter
	writeSeq   uint64
	waiting    map[*entry]struct{}
	// dirty holds the orders whose write is deferred (writes.go);
	// flushTimer commits them after DeferredFlushDelay when flushArmed.
	dirty      map[*entry]struct{}
	flushTimer clock.Timer
	flushArmed bool
	// writes recycles orderWrites (writes.go).
	writes sync.Pool
	// orphans are sends that a commit's done callback could not hand to
	// their association (closed): the loop delivers them (writes.go).
	orphanMu  sync.Mutex
	orphans   []queuedSend
	deadlines deadlineHeap
	timer     clock.Timer
	timerAt   time.Time
	// up carries child orders to the upstreams (child.go, §8.8); nil
	// without upstreams. children finds an order by its child's customer
	// order identifier (loop-owned).
	up       *upstreams
	children map[string]*entry
}

// txnKey finds an order by what a QUOTATION or a CANCEL carries (DESIGN §3:
// CANCEL has no provider order identifier).
type txnKey struct {
	identity, customerOrderID, transactionID string
}

// entry is one order in the loop.
type entry struct {
	rec record
	// pc is the association the order's client used last.
	pc *peerConn
	// keys are the byTxn keys of the order.
	keys []txnKey
	// lastWrite is the sequence number of the last write of the order.
	lastWrite uint64
	// queue holds the sends that wait for a commit (write-ahead).
	queue []queuedSend
	// deadline is the wake-up scheduled in the heap (zero: none).
	deadline time.Time
	deleted  bool
	// childID and childUpstream are the child order routed to e
	// (trackChild, §8.8).
	childID, childUpstream string
}

// queuedSend is a message that may go out once write dep is durable.
type queuedSend struct {
	dep uint64
	msg wire.Message
	pc  *peerConn
	// upstream, when set, sends msg to that upstream (a child order's
	// message, §8.8) instead of pc; retransmission marks a child's
	// retransmission (§11.4).
	upstream       string
	retransmission bool
}

// command runs fn on the loop goroutine.
type command struct {
	fn   func()
	done chan struct{}
}

// New creates the engine: it loads every stored order, restores the
// policy's holdings (Policy.Restore) and re-arms the orders' timers (RFC
// 8921 §8.11: "the server keeps every order in its store"; after a restart
// it answers in-flight transactions and keeps agreements). Timers whose
// deadline passed while the server was down fire at once. New starts the
// engine's loop; Shutdown or Close stops it.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	cfg = cfg.withDefaults()
	repo, err := store.NewRepo[record](cfg.Store, OrdersKind, nil)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	dup, err := session.NewDupCache(cfg.DupCache)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	fails, err := session.NewFailLimiter(cfg.FailLimit)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s := &Server{
		cfg:        cfg,
		machine:    cfg.Machine,
		pol:        cfg.Policy,
		st:         cfg.Store,
		repo:       repo,
		clk:        cfg.Clock,
		log:        cfg.Logger,
		m:          newMetrics(),
		inbox:      make(chan inbound, cfg.InboxSize),
		cmds:       make(chan command),
		commitWake: make(chan struct{}, 1),
		timerWake:  make(chan struct{}, 1),
		flushWake:  make(chan struct{}, 1),
		stop:       make(chan struct{}),
		loopDone:   make(chan struct{}),
		listeners:  make(map[transport.Listener]struct{}),
		snap:       make(map[string]record),
		orders:     make(map[string]*entry),
		byTxn:      make(map[txnKey]*entry),
		byIdentity: make(map[string]*peerConn),
		dup:        dup,
		fails:      fails,
		waiting:    make(map[*entry]struct{}),
		dirty:      make(map[*entry]struct{}),
		children:   make(map[string]*entry),
		stopCtx:    context.Background(),
	}
	s.acceptCtx, s.cancelAccept = context.WithCancel(context.Background())
	s.failedCtx, s.markFailed = context.WithCancelCause(context.Background())
	if cfg.Registerer != nil {
		if err := s.m.register(cfg.Registerer, cfg.TransportMetrics, cfg.Policy); err != nil {
			return nil, fmt.Errorf("new server: %w", err)
		}
	}
	if s.up, err = s.newUpstreams(); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	if err := s.load(); err != nil {
		s.up.close()
		return nil, fmt.Errorf("new server: %w", err)
	}
	go s.loop()
	return s, nil
}

// load rebuilds the orders from the store, before the loop starts.
func (s *Server) load() error {
	n := 0
	err := s.repo.Scan(func(en store.Entry[record]) error {
		rec := en.Value
		if rec.Format > RecordFormat {
			return &RecordFormatError{ProviderOrderID: en.ID, Found: rec.Format, Supported: RecordFormat}
		}
		o := &rec.Order
		if o.ProviderOrderID == "" || o.ProviderOrderID != en.ID || o.State == "" {
			return fmt.Errorf("order %q: stored record has no order or another provider order identifier", en.ID)
		}
		e := &entry{rec: rec}
		s.orders[o.ProviderOrderID] = e
		s.index(e)
		s.trackChild(e)
		for _, h := range rec.holdings() {
			if err := s.pol.Restore(h); err != nil {
				s.log.Error(err, "Restoring policy holding failed", keyProviderOrderID, o.ProviderOrderID, "holding", h.State)
			}
		}
		s.m.orders.WithLabelValues(string(o.State)).Inc()
		s.publish(e)
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("load orders: %w", err)
	}
	// Arm the timers only once every order is in: schedule drops deadlines
	// of unknown orders.
	for _, e := range s.orders {
		s.schedule(e)
	}
	s.log.Info("Loaded orders", "orders", n)
	return nil
}

// Serve accepts associations from l and serves them until ctx ends,
// Shutdown is called or the store fails; it may run for several listeners
// at once (DTLS and TLS). It closes l before it returns, after its
// associations ended. It returns nil when ctx ended, ErrServerClosed after
// Shutdown, an error wrapping ErrStoreFailed after a store failure, or the
// listener's Accept error.
func (s *Server) Serve(ctx context.Context, l transport.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		if l == nil {
			return ErrServerClosed
		}
		return errors.Join(ErrServerClosed, l.Close())
	}
	if l == nil {
		s.mu.Unlock()
		return errors.New("serve: nil listener")
	}
	s.listeners[l] = struct{}{}
	s.serving.Add(1)
	s.mu.Unlock()
	defer s.serving.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopA := context.AfterFunc(s.acceptCtx, cancel)
	defer stopA()
	stopF := context.AfterFunc(s.failedCtx, cancel)
	defer stopF()

	s.log.Info("Serving", "address", l.Addr().String())
	var wg sync.WaitGroup
	var acceptErr error
	for {
		c, err := l.Accept(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				acceptErr = fmt.Errorf("accept on %s: %w", l.Addr(), err)
			}
			break
		}
		if !s.cfg.allowed(remoteIP(c.RemoteAddr())) {
			s.m.drop(dropAccessFilter)
			s.log.V(1).Info("Closed association from a source outside the access filter",
				keyPeer, c.RemoteAddr().String(), keyIdentity, c.Identity())
			_ = c.Close()
			continue
		}
		s.m.associations.Inc()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handleConn(ctx, c)
		}()
	}
	wg.Wait()
	s.mu.Lock()
	delete(s.listeners, l)
	s.mu.Unlock()
	closeErr := l.Close()
	switch {
	case acceptErr != nil:
		return errors.Join(acceptErr, closeErr)
	case s.failedCtx.Err() != nil:
		return fmt.Errorf("serve %s: %w", l.Addr(), context.Cause(s.failedCtx))
	case s.acceptCtx.Err() != nil:
		return ErrServerClosed
	}
	return nil
}

// remoteIP returns the IP address of addr, or the zero Addr.
func remoteIP(addr net.Addr) netip.Addr {
	switch a := addr.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	if addr == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// Shutdown stops the engine gracefully: it stops accepting associations
// and reading messages, commits the writes in flight and sends the answers
// that waited for them, then closes the associations (the Serve calls
// return) and stops the loop. When ctx ends first, the listeners are
// closed at once and Shutdown returns ctx's error once everything stopped.
// It does not close the store: the caller does, after Shutdown. Shutdown is
// idempotent; later calls wait like the first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.stopCtx = ctx
		s.mu.Unlock()
		s.cancelAccept()
		close(s.stop)
	})
	served := make(chan struct{})
	go func() {
		s.serving.Wait()
		close(served)
	}()
	var err error
	select {
	case <-served:
	case <-ctx.Done():
		err = fmt.Errorf("shutdown: %w", ctx.Err())
		s.mu.Lock()
		ls := make([]transport.Listener, 0, len(s.listeners))
		for l := range s.listeners {
			ls = append(ls, l)
		}
		s.mu.Unlock()
		for _, l := range ls {
			_ = l.Close()
		}
		<-served
	}
	<-s.loopDone
	s.closeUpstreams.Do(s.up.close)
	return err
}

// Close stops the engine as Shutdown does, without a deadline.
func (s *Server) Close() error { return s.Shutdown(context.Background()) }

// isClosing reports whether Shutdown has begun.
func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// shutdownCtx returns the context that bounds the final flush.
func (s *Server) shutdownCtx() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopCtx
}

// Ready reports why the engine cannot serve, or nil: it has no listener
// serving, its store failed or is closed, or it is shutting down.
func (s *Server) Ready() error {
	if err := context.Cause(s.failedCtx); err != nil {
		return err
	}
	s.mu.Lock()
	closing, n := s.closing, len(s.listeners)
	s.mu.Unlock()
	if closing {
		return ErrServerClosed
	}
	if n == 0 {
		return errors.New("no listener is serving")
	}
	if err := s.st.TryWrite(nil, nil); err != nil && !errors.Is(err, store.ErrQueueFull) {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
