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
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Child orders (RFC 8921 §8.8, Figure 7, the Child* states of Figure 9).
//
// The state machine runs the child order itself (fsm.ServerOrder.Child, a
// client order stepped by fsm.Client): the engine only carries its
// messages. A policy decision OutcomeChild becomes an fsm.DecideChild with
// identifiers drawn here (crypto/rand); the machine answers the customer
// with PROCESSING subcode 2 and emits the child's QUOTATION as a SendChild.
// SendChild messages go, once the step's write is durable (write-ahead,
// DESIGN §4), to the upstream's association of a client.Mux (one per
// upstream, with the upstream's credentials); what the upstream answers
// comes back through the Mux's Handler into the loop and is stepped as
// fsm.ChildEvent{MsgReceived}. Child timers live in Child.Order.Timers and
// are fired like the order's own (ChildEvent{TimerFired}).
//
// Consult{ChildOffer} is answered with ChildEvent{AcceptOffer}: the policy
// has no hook to judge an upstream offer, so every offer with components
// is accepted (a counter-offer from upstream makes the parent's offer a
// counter-offer too; the customer judges it). Consult{ChildDone} composes
// the parent's offer: the request minus the child's agreed capacity is
// decided by the policy with scope "local" (no second child) and the
// administrative approval already given, and the child's capacity is added
// to the local offer component by component; when nothing is left to
// serve locally the child's agreed CPD is offered as is, valid
// Config.ChildOfferValidity. The parent's holding in the policy is the
// local part only.
//
// Everything the child needs to resume after a restart (identifiers,
// transaction, nonce of its offer, state, timers) is in the stored order,
// written before any of its messages is sent: a restarted engine routes
// the upstream's answers again and re-arms the child's timers, and the
// client machine retransmits what was unanswered (§11.4).

// Defaults of the child-order settings of Config.
const (
	// DefaultChildOfferValidity is the VALIDITY_OFFER_TIME (§9.1.8) of a
	// parent offer made of a child agreement alone.
	DefaultChildOfferValidity = 5 * time.Minute
	// DefaultChildResponseTime is the EXPECTED_RESPONSE_TIME (§9.1.6) the
	// child's QUOTATION gives the upstream.
	DefaultChildResponseTime = time.Minute
	// childQueueSize bounds the messages waiting for one upstream's
	// association; beyond it a message is dropped (the child machine
	// retransmits, §11.4).
	childQueueSize = 64
	// childInboxSize bounds the upstream messages the loop has not handled.
	childInboxSize = 256
	// childSendTimeout bounds one write to an upstream, including waiting
	// for its association.
	childSendTimeout = 5 * time.Second
)

// Reasons of cpnp_server_dropped_total for child orders.
const (
	dropUpstreamQueueFull  = "upstream_queue_full"  // the upstream's send queue is full
	dropUpstreamSendFailed = "upstream_send_failed" // the write to the upstream failed
	dropChildInboxFull     = "child_inbox_full"     // the loop's inbox of upstream messages is full
	dropChildUnknown       = "child_unknown"        // an upstream message for no child order
)

// ChildSummary describes the child order of an order (§8.8).
type ChildSummary struct {
	// Upstream names the upstream provider.
	Upstream string `json:"upstream"`
	// CustomerOrderID is the child's CUSTOMER_ORDER_IDENTIFIER, drawn by
	// this server; ProviderOrderID the upstream's identifier, once known.
	CustomerOrderID string `json:"customerOrderID"`
	ProviderOrderID string `json:"providerOrderID,omitempty"`
	// State is the client state (Figure 8) of the child order.
	State string `json:"state"`
}

func childSummaryOf(o *fsm.ServerOrder) *ChildSummary {
	c := o.Child
	if c == nil {
		return nil
	}
	return &ChildSummary{
		Upstream:        c.Upstream,
		CustomerOrderID: c.Order.CustomerOrderID,
		ProviderOrderID: c.Order.ProviderOrderID,
		State:           string(c.Order.State),
	}
}

// childInbound is a message from an upstream, on its way to the loop.
type childInbound struct {
	upstream string
	msg      wire.Message
}

// upstreams owns the associations with the upstream providers and one
// writer goroutine per upstream (client.Mux.Send blocks while the
// association is down; the loop never does).
type upstreams struct {
	mux    *client.Mux
	queues map[string]chan fsm.SendChild
	in     chan childInbound
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newUpstreams starts the associations with the configured upstreams; nil
// when there are none.
func (s *Server) newUpstreams() (*upstreams, error) {
	if len(s.cfg.Upstreams) == 0 {
		return nil, nil
	}
	// The Mux's clock (re-dial backoff) is its own: the network runs in
	// real time even when the engine's clock is a test's fake one.
	mc := s.cfg.UpstreamMux
	if mc.Logger.GetSink() == nil {
		mc.Logger = s.log.WithName("upstream")
	}
	mux, err := client.NewMux(mc)
	if err != nil {
		return nil, fmt.Errorf("upstreams: %w", err)
	}
	u := &upstreams{
		mux:    mux,
		queues: make(map[string]chan fsm.SendChild, len(s.cfg.Upstreams)),
		in:     make(chan childInbound, childInboxSize),
	}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	for _, name := range slices.Sorted(maps.Keys(s.cfg.Upstreams)) {
		if err := mux.AddServer(name, s.cfg.Upstreams[name]); err != nil {
			u.close()
			return nil, fmt.Errorf("upstream %q: %w", name, err)
		}
		q := make(chan fsm.SendChild, childQueueSize)
		u.queues[name] = q
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			s.writeUpstream(u, name, q)
		}()
	}
	return u, nil
}

// writeUpstream writes the messages queued for one upstream, in order.
func (s *Server) writeUpstream(u *upstreams, name string, q <-chan fsm.SendChild) {
	for {
		select {
		case <-u.ctx.Done():
			return
		case sc := <-q:
			msg := sc.Msg
			send := u.mux.Send
			if sc.Retransmission {
				// Re-dials an association gone silent (§11.4,
				// client.MuxConfig.StaleAfter): the upstream may have
				// restarted.
				send = u.mux.Retransmit
			}
			ctx, cancel := context.WithTimeout(u.ctx, childSendTimeout)
			err := send(ctx, name, msg)
			cancel()
			if err != nil {
				s.m.drop(dropUpstreamSendFailed)
				s.log.V(1).Info("Sending a child-order message upstream failed; the child order retransmits (§11.4)",
					keyUpstream, name, "method", msg.Method.String(), keyCustomerOrderID, msg.CustomerOrderID, "error", err.Error())
			}
		}
	}
}

// close stops the writers and the associations; queued messages are lost
// (the child machine retransmits after a restart, §11.4).
func (u *upstreams) close() {
	if u == nil {
		return
	}
	u.cancel()
	u.wg.Wait()
	_ = u.mux.Close()
}

// childHandler returns the Mux Handler of the child orders of upstream: it
// posts the message to the loop without blocking.
func (s *Server) childHandler(upstream string) client.Handler {
	return func(msg wire.Message, _ time.Time) {
		select {
		case s.up.in <- childInbound{upstream: upstream, msg: msg}:
		default:
			s.m.drop(dropChildInboxFull)
		}
	}
}

// childInbox is the loop's channel of upstream messages (nil without
// upstreams: never ready).
func (s *Server) childInbox() <-chan childInbound {
	if s.up == nil {
		return nil
	}
	return s.up.in
}

// keyUpstream and keyChildOrderID are the log keys of child orders (§12.1).
const (
	keyUpstream     = "upstream"
	keyChildOrderID = "childCustomerOrderID"
)

// trackChild routes the upstream's messages about e's child order to e
// (Mux.Register), once per child.
func (s *Server) trackChild(e *entry) {
	c := e.rec.Order.Child
	if c == nil || c.Order.CustomerOrderID == e.childID {
		return
	}
	s.untrackChild(e)
	e.childID, e.childUpstream = c.Order.CustomerOrderID, c.Upstream
	s.children[e.childID] = e
	if s.up != nil {
		s.up.mux.Register(c.Upstream, e.childID, s.childHandler(c.Upstream))
	}
}

// untrackChild stops routing e's child's messages (the order is deleted).
func (s *Server) untrackChild(e *entry) {
	if e.childID == "" {
		return
	}
	if s.children[e.childID] == e {
		delete(s.children, e.childID)
	}
	if s.up != nil {
		s.up.mux.Unregister(e.childUpstream, e.childID)
	}
	e.childID, e.childUpstream = "", ""
}

// onChildMessage steps the parent of the child order that an upstream's
// message names (§8.8); the client machine checks it (§10.1).
func (s *Server) onChildMessage(in childInbound) {
	if s.failedCtx.Err() != nil {
		s.m.drop(dropStoreFailed)
		return
	}
	e := s.children[in.msg.CustomerOrderID]
	if e == nil || e.childUpstream != in.upstream {
		s.m.drop(dropChildUnknown)
		s.log.V(1).Info("Discarded an upstream message for no child order (§13)", keyUpstream, in.upstream,
			"method", in.msg.Method.String(), keyChildOrderID, in.msg.CustomerOrderID)
		return
	}
	now := s.clk.Now()
	s.stepOrder(e, nil, nil, fsm.ChildEvent{Event: fsm.MsgReceived{Msg: in.msg, Identity: in.upstream, At: now}})
}

// childDecision turns the policy's OutcomeChild into the machine's
// DecideChild, drawing the child's identifiers (§8.4, §9.1.1, §13).
func (s *Server) childDecision(st *step, pd policy.Decision) (*fsm.ChildDecision, error) {
	switch {
	case pd.ChildRequest == nil || len(pd.ChildRequest.Components) == 0:
		return nil, errors.New("the policy named no child request")
	case s.up == nil || s.up.queues[pd.Upstream] == nil:
		return nil, fmt.Errorf("upstream %q is not configured in this server", pd.Upstream)
	}
	coid, err := client.NewCustomerOrderID(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	txn, err := hexID(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	seq, err := firstSeq(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	wtxn, err := hexID(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	wseq, err := firstSeq(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	ert := wire.CanonicalTime(st.now.Add(s.cfg.ChildResponseTime))
	return &fsm.ChildDecision{
		Upstream:              pd.Upstream,
		CustomerOrderID:       coid,
		TransactionID:         txn,
		Seq:                   seq,
		WithdrawTransactionID: wtxn,
		WithdrawSeq:           wseq,
		Request:               fsm.Request{CPD: *pd.ChildRequest.DeepCopy(), ExpectedResponseTime: &ert},
	}, nil
}

// answerChildOffer answers Consult{ChildOffer}: accept the upstream's
// offer (see the comment at the top of this file), or decline an offer
// without components.
func (s *Server) answerChildOffer(st *step) {
	e := st.e
	c := e.rec.Order.Child
	var ev fsm.Event = fsm.AcceptOffer{At: st.now}
	if c == nil || c.Order.Offer == nil || len(c.Order.Offer.CPD.Components) == 0 {
		ev = fsm.DeclineOffer{At: st.now}
		e.rec.Decision = "declining the upstream's offer: it offers nothing (RFC 8921 §8.8)"
	} else {
		e.rec.Decision = "accepting the offer of upstream " + c.Upstream + " for child order " + c.Order.CustomerOrderID + " (RFC 8921 §8.8)"
	}
	if v := s.log.V(1); v.Enabled() {
		v.Info("Answered the upstream's offer", s.orderKeys(e, "reason", e.rec.Decision)...)
	}
	next, acts := s.machine.Step(e.rec.Order, fsm.ChildEvent{Event: ev})
	s.exec(st, next, acts)
}

// decideChildDone composes the parent's offer once the child completed
// (Consult{ChildDone}, Figure 7; see the comment at the top of this file).
func (s *Server) decideChildDone(st *step, req policy.Request) policy.Decision {
	o := &st.e.rec.Order
	c := o.Child
	if c == nil || c.Order.Agreement == nil {
		return policy.Decision{Outcome: policy.OutcomeFail, StatusCode: wire.StatusOutOfResources,
			Reason: "the child order completed without an agreement (RFC 8921 §8.8)"}
	}
	child := c.Order.Agreement.CPD
	local, rest := remainder(req.Requested, child)
	if !rest {
		return policy.Decision{
			Outcome:    policy.OutcomeOffer,
			Offered:    *child.DeepCopy(),
			ValidUntil: st.now.Add(s.cfg.ChildOfferValidity),
			Reason:     "offer of the agreement of child order " + c.Order.CustomerOrderID + " at upstream " + c.Upstream + " (RFC 8921 §8.8)",
		}
	}
	req.Requested = local
	req.Approved = true // the decision that made the child was past approval
	req.Options.Scope = wire.ScopeLocal
	pd := s.pol.Decide(req)
	if pd.Outcome != policy.OutcomeOffer {
		pd.Reason = "the local part of a request served partly upstream: " + pd.Reason
		return pd
	}
	pd.Offered = combine(pd.Offered, child)
	pd.Reason += "; plus child order " + c.Order.CustomerOrderID + " at upstream " + c.Upstream + " (RFC 8921 §8.8)"
	return pd
}

// matchChild pairs each component of parent with the component of child
// that has the same customer nodes (the policy's shortfall keeps them,
// RFC 7297 §3.2), each child component used once; -1 when none.
func matchChild(parent, child cpd.CPD) []int {
	used := make([]bool, len(child.Components))
	out := make([]int, len(parent.Components))
	for i := range parent.Components {
		out[i] = -1
		for j := range child.Components {
			if !used[j] && sameNodes(parent.Components[i].CustomerNodes, child.Components[j].CustomerNodes) {
				used[j], out[i] = true, j
				break
			}
		}
	}
	return out
}

func sameNodes(a, b []cpd.CustomerNode) bool {
	return slices.EqualFunc(a, b, func(x, y cpd.CustomerNode) bool { return x.Identifier == y.Identifier })
}

// amount is the capacity a value stands for: fixed, else its upper bound,
// else its lower bound (as the policy accounts; record.go bps rounds it).
func amount(v cpd.Value) float64 {
	if f, ok := v.FixedValue(); ok {
		return f
	}
	if f, ok := v.Max(); ok {
		return f
	}
	f, _ := v.Min()
	return f
}

// minus is v reduced by c, never below zero; the zero Value when nothing
// is left.
func minus(v cpd.Value, c float64) cpd.Value {
	if f, ok := v.FixedValue(); ok {
		if f-c <= 0 {
			return cpd.Value{}
		}
		return cpd.Fixed(f - c)
	}
	lo, hasLo := v.Min()
	hi, hasHi := v.Max()
	lo, hi = max(lo-c, 0), max(hi-c, 0)
	switch {
	case hasHi && hi == 0:
		return cpd.Value{}
	case hasLo && hasHi:
		return cpd.Between(lo, hi)
	case hasHi:
		return cpd.AtMost(hi)
	case hasLo && lo > 0:
		return cpd.AtLeast(lo)
	}
	return cpd.Value{}
}

// remainder is the request reduced by the child's agreed capacity, and
// whether any capacity is left to serve locally.
func remainder(req, child cpd.CPD) (cpd.CPD, bool) {
	out := *req.DeepCopy()
	rest := false
	for i, j := range matchChild(out, child) {
		k := out.Components[i].Capacity
		if k == nil {
			continue
		}
		if j >= 0 {
			if ck := child.Components[j].Capacity; ck != nil {
				k.IncomingBps = minus(k.IncomingBps, amount(ck.IncomingBps))
				k.OutgoingBps = minus(k.OutgoingBps, amount(ck.OutgoingBps))
			}
		}
		if !k.IncomingBps.IsZero() || !k.OutgoingBps.IsZero() {
			rest = true
		}
	}
	return out, rest
}

// combine adds the child's agreed capacity to the local offer, component
// by component (the parent's offer, Figure 7).
func combine(local, child cpd.CPD) cpd.CPD {
	out := *local.DeepCopy()
	for i, j := range matchChild(out, child) {
		if j < 0 || child.Components[j].Capacity == nil {
			continue
		}
		ck := child.Components[j].Capacity
		k := out.Components[i].Capacity
		if k == nil {
			k = &cpd.Capacity{}
			out.Components[i].Capacity = k
		}
		k.IncomingBps = plus(k.IncomingBps, amount(ck.IncomingBps))
		k.OutgoingBps = plus(k.OutgoingBps, amount(ck.OutgoingBps))
	}
	return out
}

func plus(v cpd.Value, c float64) cpd.Value {
	if c <= 0 {
		return v
	}
	return cpd.Fixed(amount(v) + c)
}

// localCapacity is the capacity of an order's agreement that its own pool
// holds: the agreement minus what its completed child order provides.
func localCapacity(o *fsm.ServerOrder, c cpd.CPD) (in, out int64) {
	in, out = capacityOf(c)
	if ch := o.Child; ch != nil && ch.Order.State == fsm.ClientCompleted && ch.Order.Agreement != nil {
		cin, cout := capacityOf(ch.Order.Agreement.CPD)
		in, out = max(in-cin, 0), max(out-cout, 0)
	}
	return in, out
}

// childTransition logs a state change of a child order (§12.1: one line
// per order event, with the upstream and the child's identifiers).
func (s *Server) childTransition(st *step, t fsm.ChildTransition) {
	s.m.transition("child:" + t.Transition.Reason)
	if !s.log.Enabled() {
		return
	}
	var upstream, coid string
	if c := st.e.rec.Order.Child; c != nil {
		upstream, coid = c.Upstream, c.Order.CustomerOrderID
	}
	kv := append(make([]any, 0, 16), keyUpstream, upstream, keyChildOrderID, coid)
	s.log.Info("Child order changed state", s.orderKeys(st.e, transitionKeys(kv, t.Transition)...)...)
}

// sendChild hands a message of e's child order to its upstream once write
// dep is durable (write-ahead: the child's state is stored before the
// upstream sees the message).
func (s *Server) sendChild(e *entry, sc fsm.SendChild, dep uint64) {
	if s.failedCtx.Err() != nil {
		s.m.drop(dropStoreFailed)
		return
	}
	if len(e.queue) == 0 && s.durable(dep) {
		s.deliverChild(sc)
		return
	}
	e.queue = append(e.queue, queuedSend{dep: dep, msg: sc.Msg, upstream: sc.Upstream, retransmission: sc.Retransmission})
	s.waiting[e] = struct{}{}
	s.awaitCommit(dep)
}

// deliverQueued delivers a send that waited for its write.
func (s *Server) deliverQueued(q queuedSend) {
	if q.upstream != "" {
		s.deliverChild(fsm.SendChild{Upstream: q.upstream, Msg: q.msg, Retransmission: q.retransmission})
		return
	}
	s.deliver(q.pc, q.msg)
}

// deliverChild queues sc for its upstream's writer without blocking; the
// writer sends a retransmission with client.Mux.Retransmit.
func (s *Server) deliverChild(sc fsm.SendChild) {
	upstream, msg := sc.Upstream, sc.Msg
	var q chan fsm.SendChild
	if s.up != nil {
		q = s.up.queues[upstream]
	}
	if q == nil {
		s.m.drop(dropUnexpected)
		s.log.Error(nil, "Dropped a child-order message: the upstream is not configured", keyUpstream, upstream,
			"method", msg.Method.String(), keyChildOrderID, msg.CustomerOrderID)
		return
	}
	select {
	case q <- sc:
		if v := s.log.V(4); v.Enabled() {
			v.Info("Sent message upstream", keyUpstream, upstream, "method", msg.Method.String(), "seq", msg.Seq,
				keyTransactionID, msg.TransactionID, keyChildOrderID, msg.CustomerOrderID)
		}
	default:
		s.m.drop(dropUpstreamQueueFull)
	}
}
