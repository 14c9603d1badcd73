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
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/clock"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Defaults of Config.
const (
	// DefaultSendTimeout bounds one send: waiting for the association and
	// writing. A message not sent in time is dropped; the machine's
	// retransmissions cover requests (§11.4).
	DefaultSendTimeout = 10 * time.Second
	// DefaultOutboxSize is the number of messages queued per server.
	DefaultOutboxSize = 256
	// DefaultInboxSize is the number of received messages queued for the
	// engine's loop; beyond it messages are dropped (the server retransmits).
	DefaultInboxSize = 1024
	// DefaultEventBuffer is the capacity of a subscriber's channel. An
	// order's negotiation produces about ten events, and each slot of the
	// channel is one Event (about 190 bytes: its Order is a pointer),
	// allocated by Subscribe.
	DefaultEventBuffer = 64
	// storeRetryDelay is the wait before a timer whose step could not be
	// stored fires again.
	storeRetryDelay = time.Second
)

// Config configures an Engine.
type Config struct {
	// Machine configures the client machine (RETRANS_TIMER schedule,
	// withdrawal cycle interval); the zero value is fsm.DefaultClient().
	Machine fsm.Client
	// Store keeps the orders; required.
	Store Store
	// Clock tells the time of every event and runs the timers; default
	// clock.Real().
	Clock clock.Clock
	// Rand draws transaction IDs, first sequence numbers and generated
	// customer order identifiers; default crypto/rand.Reader.
	Rand io.Reader
	// Logger receives engine events: transitions at V(1), discarded inputs
	// at V(1), alarms and store failures as errors. Nonces are never logged.
	Logger logr.Logger
	// Metrics, when not nil, counts engine and association events.
	Metrics *Metrics
	// Mux configures the associations; its Clock, Logger and Metrics
	// default to the ones above.
	Mux MuxConfig
	// SendTimeout bounds one send (default 10 s): a send gives up between
	// SendTimeout and 1.5 × SendTimeout after it started (see runOutbox).
	SendTimeout time.Duration
	// OutboxSize, InboxSize and EventBuffer size the engine's queues
	// (defaults 256, 1024, 64).
	OutboxSize, InboxSize, EventBuffer int
	// MaxHistory bounds Order.History (default 64).
	MaxHistory int
	// OnRoundTrip, when set, is called with the time from a request's send
	// to its answer, for requests answered without retransmission (Karn's
	// rule). It runs on the engine loop and must not block.
	OnRoundTrip func(server string, method wire.Method, rtt time.Duration)
	// OnAlarm, when set, is called for every Alarm of the machine (§11.1.2),
	// besides the Event and the error log line. It must not block.
	OnAlarm func(o Order, reason string)
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("store is required"))
	}
	if err := c.Machine.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Mux.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.SendTimeout < 0 || c.OutboxSize < 0 || c.InboxSize < 0 || c.EventBuffer < 0 || c.MaxHistory < 0 {
		errs = append(errs, errors.New("sendTimeout, outboxSize, inboxSize, eventBuffer and maxHistory must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: engine config: %w", ErrInvalidConfig, err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Logger.GetSink() == nil {
		c.Logger = logr.Discard()
	}
	if c.Mux.Clock == nil {
		c.Mux.Clock = c.Clock
	}
	if c.Mux.Logger.GetSink() == nil {
		c.Mux.Logger = c.Logger
	}
	if c.Mux.Metrics == nil {
		c.Mux.Metrics = c.Metrics
	}
	if c.SendTimeout == 0 {
		c.SendTimeout = DefaultSendTimeout
	}
	if c.OutboxSize == 0 {
		c.OutboxSize = DefaultOutboxSize
	}
	if c.InboxSize == 0 {
		c.InboxSize = DefaultInboxSize
	}
	if c.EventBuffer == 0 {
		c.EventBuffer = DefaultEventBuffer
	}
	if c.MaxHistory == 0 {
		c.MaxHistory = DefaultMaxHistory
	}
	return c
}

// Engine runs client orders against CPNP servers (see the package
// documentation). Its methods are safe for concurrent use; commands (Quote,
// Accept, ...) are executed by Run's loop and wait until Run runs.
type Engine struct {
	cfg Config
	log logr.Logger
	mux *Mux

	base       context.Context // ends at shutdown; outboxes and stores run under it
	cancelBase context.CancelFunc
	cmds       chan command
	inbox      chan inbound
	fires      chan timerFire
	quit       chan struct{} // closed by Close
	stopped    chan struct{} // closed when shutdown is complete

	stateMu  sync.Mutex
	running  bool
	closed   bool
	shutOnce sync.Once
	quitOnce sync.Once
	outWG    sync.WaitGroup

	// orders is owned by the loop goroutine (and NewEngine before it).
	orders map[string]*entry
	// transitions and events are step's scratch slices, owned by the loop
	// goroutine: a step reuses their arrays instead of allocating its own.
	transitions []fsm.Transition
	events      []Event

	mu sync.RWMutex
	// snap holds the published copy of every order: the loop's own order
	// after its last step (immutable, see step), which Get and List copy
	// and the Events of that step share.
	snap       map[string]Order
	subs       map[string]map[*subscriber]struct{}
	subsClosed bool
	outboxes   map[string]*outbox
}

// entry is the loop's record of one order.
type entry struct {
	order Order
	timer clock.Timer
	gen   uint64 // generation of timer; a fire of an older one is stale
	// timerID and timerAt are the deadline timer is armed for; delayed
	// when it was armed later than that (rearm's minDelay).
	timerID fsm.TimerID
	timerAt time.Time
	delayed bool
	// dead holds due timers that the machine discarded, so that they are
	// not armed again at the same deadline.
	dead map[fsm.TimerID]time.Time
	// The request whose round trip is being timed (Karn's rule).
	rttSeq           uint32
	rttMethod        wire.Method
	rttSentAt        time.Time
	rttRetransmitted bool
}

type command struct {
	fn    func() error
	reply chan error
}

type inbound struct {
	id  string
	msg wire.Message
	at  time.Time
}

type timerFire struct {
	id    string
	gen   uint64
	timer fsm.TimerID
}

type subscriber struct{ ch chan Event }

// outbox queues the messages to one server for its writer goroutine
// (runOutbox). The loop writes a message itself, without the hand-off to
// the writer (Engine.sendDirect), when the outbox is idle (pending is
// zero: what the loop queued before was written, so the order holds), the
// message is not a retransmission, the transport is DTLS (direct): a
// datagram write does not wait for a slow peer, so the loop never blocks
// on one; and no received message waits for the loop (under load the
// writer's goroutine writes while the loop steps the next message).
type outbox struct {
	ch     chan outItem
	ctx    context.Context //nolint:containedctx // the outbox's lifetime, shared by its writer and the loop
	cancel context.CancelFunc
	done   chan struct{}
	direct bool
	// pending counts the messages queued and not yet handled by the writer.
	pending atomic.Int64
	// sd is the sends' deadline: the writer's, and the loop's while pending
	// is zero (the writer then waits for the next item, which the loop
	// queues after it is done with sd).
	sd sendDeadline
}

// outItem is a message to send, or a flush marker (flushed != nil) that
// the outbox closes when every item queued before it was handled.
type outItem struct {
	msg     wire.Message
	flushed chan struct{}
	// retransmission marks a request re-sent by RETRANS_TIMER (§11.4).
	retransmission bool
}

// NewEngine returns an engine holding every order of cfg.Store, with their
// routes registered and no server added. Call AddServer for the servers,
// then Run.
func NewEngine(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	mux, err := NewMux(cfg.Mux)
	if err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(context.Background())
	e := &Engine{
		cfg:        cfg,
		log:        cfg.Logger,
		mux:        mux,
		base:       base,
		cancelBase: cancel,
		cmds:       make(chan command),
		inbox:      make(chan inbound, cfg.InboxSize),
		fires:      make(chan timerFire),
		quit:       make(chan struct{}),
		stopped:    make(chan struct{}),
		orders:     make(map[string]*entry),
		snap:       make(map[string]Order),
		subs:       make(map[string]map[*subscriber]struct{}),
		outboxes:   make(map[string]*outbox),
	}
	orders, err := cfg.Store.Load(base)
	if err != nil {
		cancel()
		return nil, errors.Join(fmt.Errorf("new engine: %w", err), mux.Close())
	}
	for _, o := range orders {
		if o.ID() == "" {
			continue
		}
		// The store may keep o: the loop's History, clipped, is copied on
		// its first append, and the published copy is a deep copy.
		e.register(&entry{order: publishedOrder(o)})
		e.publish(o.Clone())
	}
	e.log.V(1).Info("Restored orders", "count", len(e.orders))
	return e, nil
}

// AddServer adds a server under name (the name orders refer to) and starts
// dialling it.
func (e *Engine) AddServer(name string, sc ServerConfig) error {
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	if e.closed {
		return fmt.Errorf("add server %q: %w", name, ErrClosed)
	}
	if err := e.mux.AddServer(name, sc); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(e.base)
	t, _ := ParseTransport(string(sc.Transport))
	ob := &outbox{
		ch: make(chan outItem, e.cfg.OutboxSize), ctx: ctx, cancel: cancel, done: make(chan struct{}),
		direct: t == TransportDTLS && sc.Dial == nil,
	}
	e.mu.Lock()
	e.outboxes[name] = ob
	e.mu.Unlock()
	e.outWG.Add(1)
	go func() {
		defer e.outWG.Done()
		defer close(ob.done)
		e.runOutbox(name, ob)
	}()
	return nil
}

// RemoveServer closes the association with the server; messages to it are
// dropped from now on (its orders stay, their timers keep running).
func (e *Engine) RemoveServer(name string) error {
	e.mu.Lock()
	ob := e.outboxes[name]
	delete(e.outboxes, name)
	e.mu.Unlock()
	if ob != nil {
		ob.cancel()
		<-ob.done
	}
	return e.mux.RemoveServer(name)
}

// Connect waits until the association with server is up; see Mux.Connect.
func (e *Engine) Connect(ctx context.Context, server string) error { return e.mux.Connect(ctx, server) }

// runOutbox sends the messages queued for one server, in order. Each send
// is bounded by a deadline at least SendTimeout away when it starts; the
// deadline (a context with its timer) is shared by the sends of the next
// SendTimeout/2, and by the loop's direct writes (sendDirect), so that a
// send does not cost a context and a timer, and the association keeps its
// write deadline.
func (e *Engine) runOutbox(name string, ob *outbox) {
	// ob.sd's context ends with ctx, its parent: the loop may still use sd
	// while this returns, so it is not stopped here.
	ctx := ob.ctx
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-ob.ch:
			if it.flushed != nil {
				close(it.flushed)
				continue
			}
			msg := it.msg
			sctx := ob.sd.next(ctx, e.cfg.SendTimeout)
			err := e.mux.send(sctx, name, msg, it.retransmission)
			ob.pending.Add(-1)
			if err != nil && ctx.Err() == nil {
				e.logSendFailure(name, msg, err)
			}
		}
	}
}

// sendDirect writes msg to the server of ob from the loop, without the
// hand-off to ob's writer, when ob allows it (see outbox); it reports
// false when msg must be queued instead: ob does not allow it, or there is
// no association to write on (nothing was sent).
func (e *Engine) sendDirect(name string, ob *outbox, msg wire.Message, retransmission bool) bool {
	// Under load (messages waiting for the loop) the writer takes the
	// write, so that the loop goes on with the next message meanwhile.
	if !ob.canWriteDirect(retransmission) || len(e.inbox) > 0 {
		return false
	}
	err := e.mux.write(ob.sd.next(ob.ctx, e.cfg.SendTimeout), name, msg, false, false)
	switch {
	case errors.Is(err, errNoAssociation):
		return false
	case err != nil && ob.ctx.Err() == nil:
		e.logSendFailure(name, msg, err)
	}
	return true
}

// canWriteDirect reports whether the loop may write a message itself
// rather than queue it (see outbox).
func (ob *outbox) canWriteDirect(retransmission bool) bool {
	return ob.direct && !retransmission && ob.pending.Load() == 0 && ob.ctx.Err() == nil
}

func (e *Engine) logSendFailure(name string, msg wire.Message, err error) {
	e.log.V(1).Info("Failed to send message", "peer", name, "method", msg.Method.String(),
		"customerOrderID", msg.CustomerOrderID, "transactionID", msg.TransactionID, "seq", msg.Seq,
		"error", err.Error())
}

// sendDeadline is the context an outbox's sends run under, renewed when
// less than the send timeout is left (runOutbox).
type sendDeadline struct {
	ctx    context.Context //nolint:containedctx // reused by the sends of one outbox
	cancel context.CancelFunc
	until  time.Time
}

// next returns a context under parent that ends at least timeout from now
// and at most 1.5 × timeout from now.
func (d *sendDeadline) next(parent context.Context, timeout time.Duration) context.Context {
	now := time.Now()
	if d.ctx != nil && d.ctx.Err() == nil && d.until.Sub(now) >= timeout {
		return d.ctx
	}
	d.stop()
	d.until = now.Add(timeout + timeout/2)
	d.ctx, d.cancel = context.WithDeadline(parent, d.until)
	return d.ctx
}

func (d *sendDeadline) stop() {
	if d.cancel != nil {
		d.cancel()
	}
}

// Flush waits until every message queued before the call has been written
// (or has failed to be), so that a short-lived user such as cpnpctl can
// stop the engine without losing an answer it just queued. It returns
// ctx's error when ctx ends first, and ErrClosed after Close.
func (e *Engine) Flush(ctx context.Context) error {
	e.mu.RLock()
	obs := make([]*outbox, 0, len(e.outboxes))
	for _, ob := range e.outboxes {
		obs = append(obs, ob)
	}
	e.mu.RUnlock()
	for _, ob := range obs {
		marker := make(chan struct{})
		select {
		case ob.ch <- outItem{flushed: marker}:
		case <-ob.done:
			return fmt.Errorf("flush: %w", ErrClosed)
		case <-ctx.Done():
			return fmt.Errorf("flush: %w", ctx.Err())
		}
		select {
		case <-marker:
		case <-ob.done:
			return fmt.Errorf("flush: %w", ErrClosed)
		case <-ctx.Done():
			return fmt.Errorf("flush: %w", ctx.Err())
		}
	}
	return nil
}

// Run executes the engine until ctx ends or Close is called, then closes
// it (associations, outboxes, subscriptions) and returns nil. It arms the
// timers of every order first: a deadline that passed while no engine ran
// fires at once.
func (e *Engine) Run(ctx context.Context) error {
	e.stateMu.Lock()
	switch {
	case e.closed:
		e.stateMu.Unlock()
		return fmt.Errorf("run: %w", ErrClosed)
	case e.running:
		e.stateMu.Unlock()
		return fmt.Errorf("run: %w", ErrAlreadyRunning)
	}
	e.running = true
	e.stateMu.Unlock()
	defer e.shutdown()

	for _, ent := range e.orders {
		e.rearm(ent, 0)
	}
	defer func() {
		for _, ent := range e.orders {
			if ent.timer != nil {
				ent.timer.Stop()
				ent.timer = nil
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.quit:
			return nil
		case c := <-e.cmds:
			c.reply <- c.fn()
		case in := <-e.inbox:
			e.onMessage(in)
		case f := <-e.fires:
			e.onTimer(f)
		}
	}
}

// Close stops the engine: a running Run returns, associations close, and
// subscriber channels are closed. It waits for the engine's goroutines.
func (e *Engine) Close() error {
	e.stateMu.Lock()
	running := e.running
	e.closed = true
	e.stateMu.Unlock()
	e.quitOnce.Do(func() { close(e.quit) })
	if running {
		<-e.stopped
		return nil
	}
	e.shutdown()
	return nil
}

func (e *Engine) shutdown() {
	e.shutOnce.Do(func() {
		e.stateMu.Lock()
		e.closed = true
		e.stateMu.Unlock()
		e.quitOnce.Do(func() { close(e.quit) })
		e.cancelBase()
		e.outWG.Wait()
		_ = e.mux.Close()
		e.mu.Lock()
		for _, set := range e.subs {
			for s := range set {
				close(s.ch)
			}
		}
		e.subs = make(map[string]map[*subscriber]struct{})
		e.subsClosed = true
		e.mu.Unlock()
		close(e.stopped)
	})
}

// do runs fn on the loop goroutine and returns its error.
func (e *Engine) do(ctx context.Context, fn func() error) error {
	c := command{fn: fn, reply: make(chan error, 1)}
	select {
	case e.cmds <- c:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.quit:
		return ErrClosed
	}
	return <-c.reply
}

// Get returns a copy of the order with customer order identifier id.
func (e *Engine) Get(id string) (Order, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	o, ok := e.snap[id]
	if !ok {
		return Order{}, false
	}
	return o.Clone(), true
}

// List returns a copy of every order, oldest first (then by identifier).
func (e *Engine) List() []Order {
	e.mu.RLock()
	out := make([]Order, 0, len(e.snap))
	for _, o := range e.snap {
		out = append(out, o.Clone())
	}
	e.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID() < out[j].ID()
	})
	return out
}

// Subscribe returns a channel of the events of order id ("" for every
// order) and a function that ends the subscription and closes the channel.
// The channel is also closed when the engine closes. Events are not
// delivered to a full channel (Config.EventBuffer, default 64); a
// subscriber that fell behind can call Get. To miss nothing, subscribe
// before issuing the command, or subscribe and then Get.
//
// Event.Order points to the order after the step, shared (not copied)
// between the subscribers of the step's events, and sharing its records
// with the engine's own order and the published copy that Get copies: read
// it, or Clone it to keep or change it. Copying the whole order into every
// event, or into every slot of the channel, was most of a subscription's
// cost.
func (e *Engine) Subscribe(id string) (<-chan Event, func()) {
	s := &subscriber{ch: make(chan Event, e.cfg.EventBuffer)}
	e.mu.Lock()
	if e.subsClosed {
		e.mu.Unlock()
		close(s.ch)
		return s.ch, func() {}
	}
	if e.subs[id] == nil {
		e.subs[id] = make(map[*subscriber]struct{})
	}
	e.subs[id][s] = struct{}{}
	e.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			if _, ok := e.subs[id][s]; ok {
				delete(e.subs[id], s)
				close(s.ch)
			}
		})
	}
}

func (e *Engine) emit(ev Event) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, key := range []string{ev.CustomerOrderID, ""} {
		for s := range e.subs[key] {
			select {
			case s.ch <- ev:
			default:
				e.cfg.Metrics.eventDropped()
			}
		}
	}
}

// publish records c, a copy of the loop's order that nothing else holds,
// as the order's published copy (Get, List, Events).
func (e *Engine) publish(c Order) {
	e.mu.Lock()
	e.snap[c.ID()] = c
	e.mu.Unlock()
}

// now is the clock's time in UTC without a monotonic reading, as it will
// read back from the store.
func (e *Engine) now() time.Time { return e.cfg.Clock.Now().Round(0).UTC() }

// register adds ent to the loop's orders and routes its messages to the loop.
func (e *Engine) register(ent *entry) {
	id := ent.order.ID()
	e.orders[id] = ent
	e.mux.Register(ent.order.Server, id, func(msg wire.Message, at time.Time) {
		select {
		case e.inbox <- inbound{id: id, msg: msg, at: at}:
		default:
			e.cfg.Metrics.dropped(DropOverload)
		}
	})
}

// unregister forgets ent (a Quote that failed before anything was stored).
func (e *Engine) unregister(ent *entry) {
	id := ent.order.ID()
	delete(e.orders, id)
	e.mux.Unregister(ent.order.Server, id)
	e.mu.Lock()
	delete(e.snap, id)
	e.mu.Unlock()
}

func (e *Engine) onMessage(in inbound) {
	ent := e.orders[in.id]
	if ent == nil {
		e.cfg.Metrics.dropped(DropUnknownOrder)
		return
	}
	ev := fsm.MsgReceived{Msg: in.msg, Identity: ent.order.Server, At: in.at.Round(0).UTC()}
	discard, err := e.step(e.base, ent, ev)
	switch {
	case err != nil:
		e.log.Error(err, "Failed to handle message; dropped it (the server retransmits)",
			"customerOrderID", in.id, "method", in.msg.Method.String(), "seq", in.msg.Seq)
	case discard != "":
		e.cfg.Metrics.dropped(DropMachine)
		e.log.V(1).Info("Discarded message", "customerOrderID", in.id, "peer", ent.order.Server,
			"method", in.msg.Method.String(), "transactionID", in.msg.TransactionID, "seq", in.msg.Seq,
			"reason", discard)
	}
}

func (e *Engine) onTimer(f timerFire) {
	ent := e.orders[f.id]
	if ent == nil || f.gen != ent.gen {
		return // stale: the timer was re-armed since
	}
	ent.timer = nil
	deadline := ent.order.FSM.Timers[f.timer]
	discard, err := e.step(e.base, ent, fsm.TimerFired{ID: f.timer, At: e.now()})
	switch {
	case err != nil:
		e.log.Error(err, "Failed to handle timer; retrying", "customerOrderID", f.id, "timer", string(f.timer))
		e.rearm(ent, storeRetryDelay)
	case discard != "":
		if !e.now().Before(deadline) {
			// Due, yet the machine has no use for it: do not arm it again
			// at the same deadline.
			if ent.dead == nil {
				ent.dead = make(map[fsm.TimerID]time.Time)
			}
			ent.dead[f.timer] = deadline
		}
		e.log.V(1).Info("Discarded timer", "customerOrderID", f.id, "timer", string(f.timer), "reason", discard)
		e.rearm(ent, 0)
	}
}

// rearm arms the order's clock timer at its earliest deadline (not before
// minDelay from now), replacing the one armed before. A timer already
// armed for the same deadline is kept: most steps do not change it.
func (e *Engine) rearm(ent *entry, minDelay time.Duration) {
	id, at, ok := nextDeadline(ent.order.FSM.Timers, ent.dead)
	if ent.timer != nil && ok && minDelay == 0 && !ent.delayed && id == ent.timerID && at.Equal(ent.timerAt) {
		return
	}
	if ent.timer != nil {
		ent.timer.Stop()
		ent.timer = nil
	}
	if !ok {
		return
	}
	ent.gen++
	ent.timerID, ent.timerAt, ent.delayed = id, at, minDelay > 0
	fire := timerFire{id: ent.order.ID(), gen: ent.gen, timer: id}
	d := max(at.Sub(e.cfg.Clock.Now()), minDelay)
	ent.timer = e.cfg.Clock.AfterFunc(d, func() {
		select {
		case e.fires <- fire:
		case <-e.quit:
		}
	})
}

// nextDeadline is fsm.ClientOrder.NextDeadline without the dead timers
// (due timers that the machine discarded, not armed again at the same
// deadline): the same choice, ties included, through fsm.EarliestTimer.
func nextDeadline(timers map[fsm.TimerID]time.Time, dead map[fsm.TimerID]time.Time) (fsm.TimerID, time.Time, bool) {
	return fsm.EarliestTimer(timers, func(id fsm.TimerID, t time.Time) bool {
		d, isDead := dead[id]
		return isDead && d.Equal(t)
	})
}
