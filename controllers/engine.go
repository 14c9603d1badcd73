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

package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/clock"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Defaults of EngineConfig.
const (
	// DefaultSendTimeout bounds one Send, including the wait for an
	// association that is being dialled.
	DefaultSendTimeout = 10 * time.Second
	// DefaultInboxLimit bounds the messages recorded per order and not yet
	// consumed by a reconcile; the oldest are dropped beyond it (the server
	// retransmits what matters, RFC 8921 §11.4).
	DefaultInboxLimit = 64
	// sentRecordLimit bounds the sends remembered per negotiation to tell
	// a retransmission (RFC 8921 §11.4) from a first send; the oldest are
	// forgotten beyond it.
	sentRecordLimit = 32
)

// ErrEngineStopped is returned by Send once the engine stopped.
var ErrEngineStopped = errors.New("engine stopped")

// EngineConfig configures an Engine. The zero value is valid.
type EngineConfig struct {
	// Mux configures the associations with the CPNP servers.
	Mux client.MuxConfig
	// SendTimeout bounds one Send (default DefaultSendTimeout).
	SendTimeout time.Duration
	// InboxLimit bounds the messages recorded per order (default
	// DefaultInboxLimit).
	InboxLimit int
	// Logger receives the engine's log lines; the zero value discards them.
	Logger logr.Logger
}

// Validate reports a configuration that cannot work.
func (c EngineConfig) Validate() error {
	var errs []error
	if c.SendTimeout < 0 {
		errs = append(errs, errors.New("sendTimeout must not be negative"))
	}
	if c.InboxLimit < 0 {
		errs = append(errs, errors.New("inboxLimit must not be negative"))
	}
	if err := c.Mux.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("engine config: %w", err)
	}
	return nil
}

// Inbound is a message the engine recorded for an order, with the time it
// was read.
type Inbound struct {
	Msg        wire.Message
	ReceivedAt time.Time
}

// routeKey names one negotiation: a Mux server and a customer order
// identifier (RFC 8921 §9.1.1).
type routeKey struct{ server, customerOrderID string }

// ownerKind is the kind of object a negotiation's messages wake.
type ownerKind int

const (
	// ownerOrder: a QuotationOrder (the negotiation, §9.2.1-§9.2.6).
	ownerOrder ownerKind = iota
	// ownerAgreement: an Agreement (its WITHDRAW, §9.2.8).
	ownerAgreement
)

// sendKey names one message of a negotiation: a retransmission repeats
// the TRANSACTION_ID, SEQUENCE_NUMBER and method of a message already sent
// (RFC 8921 §8.4, §11.3, §11.4).
type sendKey struct {
	transactionID string
	seq           uint32
	method        wire.Method
}

// sendLog is what the engine remembers of the sends of one negotiation,
// for the retransmission and round-trip metrics.
type sendLog struct {
	// sent are the last messages sent, oldest first, at most
	// sentRecordLimit.
	sent []sendKey
	// request is the last request sent and not answered yet, with the time
	// of its first send; nil when none.
	request *pendingRequest
}

// pendingRequest is a request waiting for the first message of its
// transaction from the server.
type pendingRequest struct {
	key    sendKey
	sentAt time.Time
}

// owner is the object that a negotiation's messages wake.
type owner struct {
	kind ownerKind
	name types.NamespacedName
}

// Engine is the operator's client engine (DESIGN §5, "Engine and reconciler
// split"): a manager Runnable that owns the associations with the CPNP
// servers (a client.Mux), records what arrives per order and wakes the
// owning QuotationOrder through a controller-runtime channel source. It
// never steps the machine and never writes to the API server: the
// reconciler steps fsm.Client with what was recorded, persists the status,
// and only then asks the engine to Send (write-ahead, DESIGN §4).
type Engine struct {
	cfg       EngineConfig
	mux       *client.Mux
	log       logr.Logger
	events    chan event.GenericEvent
	agrEvents chan event.GenericEvent
	kick      chan struct{}

	mu      sync.Mutex
	servers map[string]string // server name -> configuration fingerprint
	owners  map[routeKey]owner
	inbox   map[routeKey][]Inbound
	dirty   map[owner]struct{}
	sends   map[routeKey]*sendLog
}

// NewEngine returns an engine without servers; Start runs it.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.SendTimeout == 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.InboxLimit == 0 {
		cfg.InboxLimit = DefaultInboxLimit
	}
	if cfg.Logger.GetSink() == nil {
		cfg.Logger = logr.Discard()
	}
	if cfg.Mux.Logger.GetSink() == nil {
		cfg.Mux.Logger = cfg.Logger.WithName("mux")
	}
	if cfg.Mux.Clock == nil {
		cfg.Mux.Clock = clock.Real()
	}
	if cfg.Mux.Metrics == nil {
		cfg.Mux.Metrics = &client.Metrics{}
	}
	hook := cfg.Mux.OnHandshakeFailure
	cfg.Mux.OnHandshakeFailure = func(server string, err error) {
		observeHandshakeFailure(server, err)
		if hook != nil {
			hook(server, err)
		}
	}
	mux, err := client.NewMux(cfg.Mux)
	if err != nil {
		return nil, fmt.Errorf("new engine: %w", err)
	}
	return &Engine{
		cfg:       cfg,
		mux:       mux,
		log:       cfg.Logger,
		events:    make(chan event.GenericEvent),
		agrEvents: make(chan event.GenericEvent),
		kick:      make(chan struct{}, 1),
		servers:   make(map[string]string),
		owners:    make(map[routeKey]owner),
		inbox:     make(map[routeKey][]Inbound),
		dirty:     make(map[owner]struct{}),
		sends:     make(map[routeKey]*sendLog),
	}, nil
}

// Start implements manager.Runnable: it forwards wake-ups to the channel
// source until ctx ends, then closes every association.
func (e *Engine) Start(ctx context.Context) error {
	defer func() {
		if err := e.mux.Close(); err != nil {
			e.log.Error(err, "Failed to close the associations")
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.kick:
		}
		e.mu.Lock()
		woken := make([]owner, 0, len(e.dirty))
		for k := range e.dirty {
			woken = append(woken, k)
		}
		clear(e.dirty)
		e.mu.Unlock()
		for _, k := range woken {
			meta := metav1.ObjectMeta{Namespace: k.name.Namespace, Name: k.name.Name}
			ev, ch := event.GenericEvent{Object: &v1alpha1.QuotationOrder{ObjectMeta: meta}}, e.events
			if k.kind == ownerAgreement {
				ev, ch = event.GenericEvent{Object: &v1alpha1.Agreement{ObjectMeta: meta}}, e.agrEvents
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// MuxMetrics returns a snapshot of the associations' counters (dials,
// associations, messages, drops); EngineCollector exports them.
func (e *Engine) MuxMetrics() client.MetricsSnapshot {
	return e.cfg.Mux.Metrics.Snapshot()
}

// Source returns the channel source that wakes QuotationOrders when a
// message for one of their negotiations arrived. Use it once.
func (e *Engine) Source() source.Source {
	return source.Channel(e.events, &handler.EnqueueRequestForObject{})
}

// AgreementSource returns the channel source that wakes Agreements when a
// message for their WITHDRAW arrived (WatchAgreement). Use it once, and
// only with an AgreementReconciler running.
func (e *Engine) AgreementSource() source.Source {
	return source.Channel(e.agrEvents, &handler.EnqueueRequestForObject{})
}

// EnsureServer adds the server under name, or replaces it when its
// configuration changed (fingerprint differs, e.g. a rotated client
// certificate). The association is dialled in the background.
func (e *Engine) EnsureServer(name string, sc client.ServerConfig, fingerprint string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	old, ok := e.servers[name]
	if ok && old == fingerprint {
		return nil
	}
	if ok {
		if err := e.mux.RemoveServer(name); err != nil && !errors.Is(err, client.ErrUnknownServer) {
			return fmt.Errorf("replace server %q: %w", name, err)
		}
		delete(e.servers, name)
	}
	if err := e.mux.AddServer(name, sc); err != nil {
		return fmt.Errorf("ensure server: %w", err)
	}
	e.servers[name] = fingerprint
	e.log.V(1).Info("Added server", "server", name, "address", sc.Address)
	return nil
}

// Watch routes the messages of server about customerOrderID to the inbox
// of that negotiation and wakes owner when one arrives. Calling it again is
// cheap and changes nothing.
func (e *Engine) Watch(server, customerOrderID string, order types.NamespacedName) {
	e.watch(server, customerOrderID, owner{ownerOrder, order})
}

// WatchAgreement is Watch for the WITHDRAW of an Agreement (RFC 8921
// §9.2.8): the messages of the negotiation wake the Agreement, through
// AgreementSource, instead of its QuotationOrder.
func (e *Engine) WatchAgreement(server, customerOrderID string, agreement types.NamespacedName) {
	e.watch(server, customerOrderID, owner{ownerAgreement, agreement})
}

func (e *Engine) watch(server, customerOrderID string, o owner) {
	k := routeKey{server, customerOrderID}
	e.mu.Lock()
	if cur, ok := e.owners[k]; ok && cur == o {
		e.mu.Unlock()
		return
	}
	e.owners[k] = o
	e.mu.Unlock()
	e.mux.Register(server, customerOrderID, func(msg wire.Message, at time.Time) {
		e.record(k, o, Inbound{Msg: msg, ReceivedAt: at})
	})
}

// Forget stops routing the messages of a negotiation and drops its inbox.
func (e *Engine) Forget(server, customerOrderID string) {
	k := routeKey{server, customerOrderID}
	e.mux.Unregister(server, customerOrderID)
	e.mu.Lock()
	delete(e.owners, k)
	delete(e.inbox, k)
	delete(e.sends, k)
	e.mu.Unlock()
}

// ForgetOwner forgets every negotiation of order (a deleted
// QuotationOrder); those of its Agreement stay.
func (e *Engine) ForgetOwner(order types.NamespacedName) {
	e.mu.Lock()
	var keys []routeKey
	for k, o := range e.owners {
		if o == (owner{ownerOrder, order}) {
			keys = append(keys, k)
		}
	}
	e.mu.Unlock()
	for _, k := range keys {
		e.Forget(k.server, k.customerOrderID)
	}
}

// record runs on the association's reader goroutine: it must not block.
func (e *Engine) record(k routeKey, o owner, in Inbound) {
	e.mu.Lock()
	q := append(e.inbox[k], in)
	if n := len(q) - e.cfg.InboxLimit; n > 0 {
		q = append(q[:0:0], q[n:]...)
	}
	e.inbox[k] = q
	e.dirty[o] = struct{}{}
	var rtt time.Duration
	answered := false
	if l := e.sends[k]; l != nil && l.request != nil && l.request.key.transactionID == in.Msg.TransactionID {
		rtt, answered = in.ReceivedAt.Sub(l.request.sentAt), true
		l.request = nil
	}
	e.mu.Unlock()
	if answered {
		roundTrip.WithLabelValues(providerLabel(k.server)).Observe(max(rtt, 0).Seconds())
	}
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Pending returns a copy of the messages recorded for a negotiation, oldest
// first. They stay recorded until Consume: the reconciler consumes them only
// once the status that reflects them is persisted.
func (e *Engine) Pending(server, customerOrderID string) []Inbound {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Inbound(nil), e.inbox[routeKey{server, customerOrderID}]...)
}

// pendingFor returns how many messages are recorded, and not consumed yet,
// for the negotiations routed to o (Watch, WatchAgreement). Inboxes are
// dropped once consumed, so this walks only those with messages.
func (e *Engine) pendingFor(o owner) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for k, q := range e.inbox {
		if len(q) > 0 && e.owners[k] == o {
			n += len(q)
		}
	}
	return n
}

// Consume drops the n oldest messages recorded for a negotiation.
func (e *Engine) Consume(server, customerOrderID string, n int) {
	k := routeKey{server, customerOrderID}
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.inbox[k]
	if n >= len(q) {
		delete(e.inbox, k)
		return
	}
	e.inbox[k] = append(q[:0:0], q[n:]...)
}

// Send sends what a state machine's Send action asks for to server,
// waiting at most SendTimeout for the association. A retransmission (the
// action says so, or the engine saw the same message sent before; RFC 8921
// §11.4) goes out with client.Mux.Retransmit, which re-dials an
// association that stayed silent since an earlier retransmission
// MuxConfig.StaleAfter ago (the server probably lost it: DTLS has no
// keep-alive).
//
// For a negotiation routed by Watch or WatchAgreement, the engine also
// feeds the operator's metrics: a message whose TRANSACTION_ID,
// SEQUENCE_NUMBER and method were already sent counts as a retransmission
// (cpnp_operator_retransmissions_total), and the first send of a request
// starts the round trip that the first message of the same transaction
// from the server ends (cpnp_operator_round_trip_seconds, §8.4). A failed
// send is not remembered.
func (e *Engine) Send(ctx context.Context, server string, s fsm.Send) error {
	msg := s.Msg
	ctx, cancel := context.WithTimeout(ctx, e.cfg.SendTimeout)
	defer cancel()
	k := routeKey{server, msg.CustomerOrderID}
	key := sendKey{msg.TransactionID, msg.Seq, msg.Method}
	again, noted := e.noteSend(k, key)
	send := e.mux.Send
	if s.Retransmission || again {
		send = e.mux.Retransmit
	}
	if err := send(ctx, server, msg); err != nil {
		if noted {
			e.unnoteSend(k, key)
		}
		if errors.Is(err, client.ErrClosed) {
			return fmt.Errorf("%w: %w", ErrEngineStopped, err)
		}
		return err
	}
	if again {
		retransmissions.WithLabelValues(providerLabel(server), msg.Method.String()).Inc()
	}
	return nil
}

// noteSend remembers a send of key for the watched negotiation k, before
// the message goes out (the answer may be recorded before Send returns).
// again reports a message already sent; noted a first send, which
// unnoteSend takes back if the send fails.
func (e *Engine) noteSend(k routeKey, key sendKey) (again, noted bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.owners[k]; !ok {
		return false, false
	}
	l := e.sends[k]
	if l == nil {
		l = &sendLog{}
		e.sends[k] = l
	}
	for _, s := range l.sent {
		if s == key {
			return true, false
		}
	}
	if len(l.sent) == sentRecordLimit {
		l.sent = append(l.sent[:0], l.sent[1:]...)
	}
	l.sent = append(l.sent, key)
	if isRequest(key.method) {
		l.request = &pendingRequest{key: key, sentAt: e.cfg.Mux.Clock.Now()}
	}
	return false, true
}

// unnoteSend forgets the first send of key that failed.
func (e *Engine) unnoteSend(k routeKey, key sendKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.sends[k]
	if l == nil {
		return
	}
	for i, s := range l.sent {
		if s == key {
			l.sent = append(l.sent[:i], l.sent[i+1:]...)
			break
		}
	}
	if l.request != nil && l.request.key == key {
		l.request = nil
	}
}
