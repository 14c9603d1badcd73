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
	"errors"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Reasons of cpnp_server_dropped_total.
const (
	dropInvalid         = "invalid"           // structurally invalid and not identified (§13)
	dropAccessFilter    = "access_filter"     // source not in AllowedSources (Table 6)
	dropFailRateLimited = "fail_rate_limited" // FAIL over the per-client limit (§9.2.5)
	dropRepeatLimited   = "repeat_rate_limited"
	dropDiscarded       = "discarded"        // the machine discarded it (Table 6, §11.3)
	dropNoAssociation   = "no_association"   // nothing to send an answer on
	dropSendQueueFull   = "send_queue_full"  // the association's queue is full
	dropStoreFailed     = "store_failed"     // the engine stopped after a store failure
	dropUnknownFail     = "unknown_fail"     // a FAIL for no known order is never answered
	dropRandomFailure   = "random_failure"   // Config.Rand failed
	dropShuttingDown    = "shutting_down"    // arrived while the engine stopped
	dropUnexpected      = "unexpected_child" // a child-order message for an upstream not configured
)

// dropReasons lists every reason of cpnp_server_dropped_total, those of
// child orders (child.go) included: each series starts at 0.
var dropReasons = []string{
	dropInvalid, dropAccessFilter, dropFailRateLimited, dropRepeatLimited, dropDiscarded,
	dropNoAssociation, dropSendQueueFull, dropStoreFailed, dropUnknownFail, dropRandomFailure,
	dropShuttingDown, dropUnexpected,
	dropUpstreamQueueFull, dropUpstreamSendFailed, dropChildInboxFull, dropChildUnknown,
}

// metrics are the engine's Prometheus metrics. They always exist (so the
// engine never checks for nil); they are registered only when
// Config.Registerer is set.
type metrics struct {
	received      *prometheus.CounterVec
	sent          *prometheus.CounterVec
	fails         *prometheus.CounterVec
	orders        *prometheus.GaugeVec
	completed     *prometheus.CounterVec
	retransmitted *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	transitions   *prometheus.CounterVec
	alarms        prometheus.Counter
	commits       prometheus.Histogram
	storeFailures prometheus.Counter
	associations  prometheus.Counter
	// deferredWrites counts order writes deferred (writes.go).
	deferredWrites prometheus.Counter

	// Children of the vectors above resolved once, so that the loop's hot
	// path neither hashes label values nor allocates: by method code
	// (index 1..11), and by transition reason (written by the loop only).
	receivedBy, sentBy [wire.MethodActivate + 1]prometheus.Counter
	transitionsBy      map[string]prometheus.Counter
	completedBy        map[string]prometheus.Counter
}

func newMetrics() *metrics {
	const ns, sub = "cpnp", "server"
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "messages_received_total",
			Help: "CPNP messages received, by method (\"invalid\" for messages that failed validation).",
		}, []string{"method"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "messages_sent_total",
			Help: "CPNP messages handed to an association for sending, by method.",
		}, []string{"method"}),
		fails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "fails_sent_total",
			Help: "FAIL messages sent, by status code (RFC 8921 Table 4).",
		}, []string{"status_code"}),
		orders: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "orders",
			Help: "Orders held by the server, by state (RFC 8921 Figure 9).",
		}, []string{"state"}),
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "negotiations_completed_total",
			Help: "Negotiation cycles that ended, by outcome (agreed, updated, declined, cancelled, failed, expired, rejected).",
		}, []string{"outcome"}),
		retransmitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "retransmissions_total",
			Help: "Messages sent again: by RETRANS_TIMER (timer) or to answer a repeated request (repeat), RFC 8921 §11.4.",
		}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "dropped_total",
			Help: "Datagrams and answers dropped, by reason.",
		}, []string{"reason"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "transitions_total",
			Help: "Order state transitions, by reason (the event of the log line).",
		}, []string{"event"}),
		alarms: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "alarms_total",
			Help: "Alarms raised by the state machine (RFC 8921 §11.1.2).",
		}),
		commits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "store_commit_seconds",
			Help:    "Time from submitting an order write to its durable commit (group commit, write-ahead).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		storeFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "store_failures_total",
			Help: "Order writes that failed; the engine stops answering after the first.",
		}),
		associations: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "associations_accepted_total",
			Help: "Associations accepted by Serve (after the access filter).",
		}),
		deferredWrites: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "store_deferred_writes_total",
			Help: "Order writes deferred to share a later commit: steps that changed an order but sent nothing (DESIGN §4).",
		}),
	}
	// Every label value that is known in advance starts at 0, so that
	// dashboards and rate() see the series from the start.
	for _, st := range fsm.ServerStates {
		m.orders.WithLabelValues(string(st)).Set(0)
	}
	for _, r := range dropReasons {
		m.dropped.WithLabelValues(r)
	}
	for _, k := range []string{"timer", "repeat"} {
		m.retransmitted.WithLabelValues(k)
	}
	for c := wire.StatusCode(1); c.Valid(); c++ {
		m.fails.WithLabelValues(strconv.Itoa(int(c)))
	}
	for meth := wire.MethodQuotation; meth <= wire.MethodActivate; meth++ {
		m.receivedBy[meth] = m.received.WithLabelValues(meth.String())
		m.sentBy[meth] = m.sent.WithLabelValues(meth.String())
	}
	m.transitionsBy = make(map[string]prometheus.Counter)
	// This also starts every outcome of negotiations_completed_total at 0.
	m.completedBy = make(map[string]prometheus.Counter, len(outcomes))
	for reason, oc := range outcomes {
		m.completedBy[reason] = m.completed.WithLabelValues(oc)
	}
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		m.received, m.sent, m.fails, m.orders, m.completed, m.retransmitted, m.dropped,
		m.transitions, m.alarms, m.commits, m.storeFailures, m.associations, m.deferredWrites,
	}
}

// register registers every metric (and the collectors of the transport and
// the policy) with r.
func (m *metrics) register(r prometheus.Registerer, tm *transport.Metrics, pol policy.Policy) error {
	cs := m.collectors()
	if tm != nil {
		cs = append(cs, transportCollector{m: tm})
	}
	cs = append(cs, policyCollector{p: pol})
	var errs []error
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	return nil
}

func (m *metrics) drop(reason string) { m.dropped.WithLabelValues(reason).Inc() }

// byMethod returns the counter of vec for meth: its child resolved in
// newMetrics (by) for the methods 1..11, else looked up in vec.
func byMethod(by *[wire.MethodActivate + 1]prometheus.Counter, vec *prometheus.CounterVec, meth wire.Method) prometheus.Counter {
	if meth >= wire.MethodQuotation && meth <= wire.MethodActivate {
		return by[meth]
	}
	return vec.WithLabelValues(meth.String())
}

// receivedMsg counts a message received (only the loop calls it).
func (m *metrics) receivedMsg(meth wire.Method) { byMethod(&m.receivedBy, m.received, meth).Inc() }

// transition counts an order transition and, when it ends a cycle, its
// outcome. Only the loop calls it: it owns transitionsBy.
func (m *metrics) transition(reason string) {
	c := m.transitionsBy[reason]
	if c == nil {
		c = m.transitions.WithLabelValues(reason)
		m.transitionsBy[reason] = c
	}
	c.Inc()
	if oc := m.completedBy[reason]; oc != nil {
		oc.Inc()
	}
}

func (m *metrics) sentMsg(msg wire.Message) {
	byMethod(&m.sentBy, m.sent, msg.Method).Inc()
	if msg.Method == wire.MethodFail {
		m.fails.WithLabelValues(strconv.Itoa(int(msg.StatusCode))).Inc()
	}
}

// outcomes maps the reasons of the transitions that end a negotiation
// cycle to the outcome label of negotiations_completed_total.
var outcomes = map[string]string{
	"AgreementReached":               "agreed",
	"UpdateAgreed":                   "updated",
	"Declined":                       "declined",
	"UpdateDeclined":                 "declined",
	"Cancelled":                      "cancelled",
	"UpdateCancelled":                "cancelled",
	"Failed":                         "failed",
	"UpdateFailed":                   "failed",
	"MoreTimeRejected":               "failed",
	"UpdateMoreTimeRejected":         "failed",
	"ClientFailed":                   "failed",
	"UpdateClientFailed":             "failed",
	"OfferExpired":                   "expired",
	"UpdateOfferExpired":             "expired",
	"ExpectedOfferTimeElapsed":       "expired",
	"UpdateExpectedOfferTimeElapsed": "expired",
	"Rejected":                       "rejected",
	"UpdateRejected":                 "rejected",
}

// transportCollector exports transport.Metrics (handshakes, admissions,
// associations, fragments) at scrape time.
type transportCollector struct{ m *transport.Metrics }

var (
	descHandshakes = prometheus.NewDesc("cpnp_server_handshakes_total",
		"(D)TLS handshakes completed.", nil, nil)
	descHandshakeFailures = prometheus.NewDesc("cpnp_server_handshake_failures_total",
		"(D)TLS handshakes that failed, by reason.", []string{"reason"}, nil)
	descHalfOpenRefused = prometheus.NewDesc("cpnp_server_half_open_refused_total",
		"Handshake attempts refused by the per-source half-open cap.", nil, nil)
	descHalfOpenEvicted = prometheus.NewDesc("cpnp_server_half_open_evicted_total",
		"Half-open handshakes evicted by the global cap.", nil, nil)
	descHalfOpen = prometheus.NewDesc("cpnp_server_half_open_handshakes",
		"Handshakes in progress.", nil, nil)
	descActive = prometheus.NewDesc("cpnp_server_associations",
		"Open associations.", nil, nil)
	descIdleClosed = prometheus.NewDesc("cpnp_server_idle_closed_total",
		"Associations closed by the idle timeout.", nil, nil)
	descFragmentDrops = prometheus.NewDesc("cpnp_server_fragment_drops_total",
		"Fragments dropped during reassembly, by reason.", []string{"reason"}, nil)
)

func (transportCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHandshakes, descHandshakeFailures, descHalfOpenRefused,
		descHalfOpenEvicted, descHalfOpen, descActive, descIdleClosed, descFragmentDrops} {
		ch <- d
	}
}

func (c transportCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.Snapshot()
	ch <- prometheus.MustNewConstMetric(descHandshakes, prometheus.CounterValue, float64(s.HandshakesCompleted))
	for _, r := range transport.HandshakeReasons() {
		ch <- prometheus.MustNewConstMetric(descHandshakeFailures, prometheus.CounterValue, float64(s.HandshakeFailures[r]), r.String())
	}
	ch <- prometheus.MustNewConstMetric(descHalfOpenRefused, prometheus.CounterValue, float64(s.HalfOpenRefused))
	ch <- prometheus.MustNewConstMetric(descHalfOpenEvicted, prometheus.CounterValue, float64(s.HalfOpenEvicted))
	ch <- prometheus.MustNewConstMetric(descHalfOpen, prometheus.GaugeValue, float64(s.HalfOpen))
	ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(s.ActiveAssociations))
	ch <- prometheus.MustNewConstMetric(descIdleClosed, prometheus.CounterValue, float64(s.IdleClosed))
	for _, r := range transport.DropReasons() {
		ch <- prometheus.MustNewConstMetric(descFragmentDrops, prometheus.CounterValue, float64(s.FragmentDrops[r]), r.String())
	}
}

// policyCollector exports the policy's holdings at scrape time (DESIGN §3:
// open offers count as reserved; §6: agreements hold capacity).
type policyCollector struct{ p policy.Policy }

var (
	descHoldings = prometheus.NewDesc("cpnp_server_policy_holdings",
		"Holdings of the decision policy: open offers (Reserved) and agreements (Committed).", []string{"state"}, nil)
	descHeldBps = prometheus.NewDesc("cpnp_server_policy_held_bps",
		"Capacity held per pool, direction and holding state, in bits per second.", []string{"pool", "direction", "state"}, nil)
)

func (policyCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descHoldings
	ch <- descHeldBps
}

func (c policyCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ pool, state string }
	counts := map[string]int{string(policy.HoldingReserved): 0, string(policy.HoldingCommitted): 0}
	held := map[key][2]int64{}
	for _, h := range c.p.Holdings() {
		counts[string(h.State)]++
		k := key{h.Pool, string(h.State)}
		v := held[k]
		v[0] += h.IncomingBps
		v[1] += h.OutgoingBps
		held[k] = v
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(descHoldings, prometheus.GaugeValue, float64(n), st)
	}
	for k, v := range held {
		ch <- prometheus.MustNewConstMetric(descHeldBps, prometheus.GaugeValue, float64(v[0]), k.pool, "incoming", k.state)
		ch <- prometheus.MustNewConstMetric(descHeldBps, prometheus.GaugeValue, float64(v[1]), k.pool, "outgoing", k.state)
	}
}
