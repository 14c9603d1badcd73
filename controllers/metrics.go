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
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Metric names of the operator (docs/operations.md lists them).
const (
	// MetricQuotationOrders is the gauge of QuotationOrders by status.state.
	MetricQuotationOrders = "cpnp_operator_quotation_orders"
	// MetricAgreements is the gauge of Agreements by status.state.
	MetricAgreements = "cpnp_operator_agreements"
	// MetricRetransmissions counts messages sent again (RFC 8921 §11.4).
	MetricRetransmissions = "cpnp_operator_retransmissions_total"
	// MetricRoundTrip is the histogram of request round-trip times.
	MetricRoundTrip = "cpnp_operator_round_trip_seconds"
	// MetricHandshakeFailures counts failed DTLS/TLS handshakes (§8.1).
	MetricHandshakeFailures = "cpnp_operator_handshake_failures_total"
	// MetricGCDeleted counts the terminal objects garbage-collected.
	MetricGCDeleted = "cpnp_operator_gc_deleted_total"
	// MetricAssociations is the gauge of open associations (§8.1).
	MetricAssociations = "cpnp_operator_associations"
	// MetricDials counts association attempts.
	MetricDials = "cpnp_operator_dials_total"
	// MetricDialFailures counts failed association attempts.
	MetricDialFailures = "cpnp_operator_dial_failures_total"
	// MetricMessagesSent counts messages written, by method.
	MetricMessagesSent = "cpnp_operator_messages_sent_total"
	// MetricMessagesReceived counts messages read, by method.
	MetricMessagesReceived = "cpnp_operator_messages_received_total"
	// MetricSendFailures counts messages that could not be written.
	MetricSendFailures = "cpnp_operator_send_failures_total"
	// MetricMessagesDropped counts received messages discarded, by reason.
	MetricMessagesDropped = "cpnp_operator_messages_dropped_total"
)

var (
	// retransmissions counts the Sends of a message already sent for the
	// same negotiation: same TRANSACTION_ID, SEQUENCE_NUMBER and method
	// (RFC 8921 §11.3, §11.4).
	retransmissions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricRetransmissions,
		Help: "CPNP messages sent again with the same transaction ID, sequence number and method (RFC 8921 §11.4), by provider and method.",
	}, []string{"provider", "method"})
	// roundTrip observes the time from the first send of a request to the
	// first message of the same transaction from the server.
	roundTrip = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    MetricRoundTrip,
		Help:    "Seconds from the first send of a CPNP request to the first message of the same transaction from the server (RFC 8921 §8.4), by provider.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
	}, []string{"provider"})
	// handshakeFailures counts failed handshakes by transport.HandshakeReason.
	handshakeFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricHandshakeFailures,
		Help: "Failed DTLS/TLS handshakes with a CPNP server (RFC 8921 §8.1, §13), by provider and reason (transport.HandshakeReason).",
	}, []string{"provider", "reason"})
	// gcDeleted counts the objects the garbage collector deleted, by kind.
	gcDeleted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricGCDeleted,
		Help: "Terminal QuotationOrders and Offers deleted by the garbage collector, by kind.",
	}, []string{"kind"})
)

func init() {
	metrics.Registry.MustRegister(retransmissions, roundTrip, handshakeFailures, gcDeleted)
}

// providerLabel is the provider label of an engine server name: the name
// without the "@namespace" of a ClusterProvider's per-namespace identity,
// e.g. "Provider/team-a/wan" or "ClusterProvider/transit", so that the
// label's cardinality is the number of providers.
func providerLabel(server string) string {
	if i := strings.IndexByte(server, '@'); i >= 0 {
		return server[:i]
	}
	return server
}

// handshakeReason is the reason label of a failed dial: the
// transport.HandshakeReason of a *transport.HandshakeError, else "".
func handshakeReason(err error) (string, bool) {
	var he *transport.HandshakeError
	if !errors.As(err, &he) {
		return "", false
	}
	return he.Reason.String(), true
}

// observeHandshakeFailure counts err when it is a failed handshake.
func observeHandshakeFailure(server string, err error) {
	if reason, ok := handshakeReason(err); ok {
		handshakeFailures.WithLabelValues(providerLabel(server), reason).Inc()
	}
}

// isRequest reports whether the client sends method as a request that the
// server answers (and the client retransmits until then, RFC 8921 §11.4),
// as opposed to an answer (ACK, FAIL, PROCESSING).
func isRequest(m wire.Method) bool {
	switch m {
	case wire.MethodQuotation, wire.MethodAccept, wire.MethodDecline, wire.MethodCancel,
		wire.MethodWithdraw, wire.MethodUpdate, wire.MethodActivate:
		return true
	default:
		return false
	}
}

// stateScrapeTimeout bounds the cache reads of one scrape.
const stateScrapeTimeout = 5 * time.Second

var (
	quotationOrdersDesc = prometheus.NewDesc(MetricQuotationOrders,
		"QuotationOrders by status.state (RFC 8921 §8.11.1, Figure 8); \"\" for an order not reconciled yet.",
		[]string{"state"}, nil)
	agreementsDesc = prometheus.NewDesc(MetricAgreements,
		"Agreements by status.state; \"\" for an agreement not reconciled yet.",
		[]string{"state"}, nil)
)

// clientStates are the Figure 8 states reported even when no order is in
// them, so that a series does not vanish.
var clientStates = []v1alpha1.ClientState{
	v1alpha1.StateCreated, v1alpha1.StateAwaitingProcessing, v1alpha1.StatePQOSent,
	v1alpha1.StateServerProcessing, v1alpha1.StateOfferReceived, v1alpha1.StateOfferProcessing,
	v1alpha1.StateAcceptSent, v1alpha1.StateCompleted, v1alpha1.StateCancelled,
}

// agreementStates are the Agreement states always reported.
var agreementStates = []v1alpha1.AgreementState{
	v1alpha1.AgreementEstablished, v1alpha1.AgreementUpdating, v1alpha1.AgreementActivating,
	v1alpha1.AgreementWithdrawing, v1alpha1.AgreementWithdrawn,
}

// StateCollector is a prometheus.Collector of the QuotationOrders and
// Agreements by state, computed at scrape time from a reader: give it the
// manager's cache (mgr.GetCache()), which already holds both kinds, so that
// a scrape makes no API call. Objects are read without a deep copy.
type StateCollector struct {
	reader ctrlclient.Reader
}

// NewStateCollector returns a collector reading from r.
func NewStateCollector(r ctrlclient.Reader) *StateCollector {
	return &StateCollector{reader: r}
}

// Describe implements prometheus.Collector.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- quotationOrdersDesc
	ch <- agreementsDesc
}

// Collect implements prometheus.Collector. A kind that cannot be listed
// (cache not synced within stateScrapeTimeout) is reported as an invalid
// metric, which fails the scrape visibly rather than reporting zeros.
func (c *StateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), stateScrapeTimeout)
	defer cancel()

	var qos v1alpha1.QuotationOrderList
	if err := c.reader.List(ctx, &qos, ctrlclient.UnsafeDisableDeepCopy); err != nil {
		ch <- prometheus.NewInvalidMetric(quotationOrdersDesc, err)
	} else {
		emitCounts(ch, quotationOrdersDesc, clientStates, qos.Items, func(qo *v1alpha1.QuotationOrder) v1alpha1.ClientState { return qo.Status.State })
	}

	var agrs v1alpha1.AgreementList
	if err := c.reader.List(ctx, &agrs, ctrlclient.UnsafeDisableDeepCopy); err != nil {
		ch <- prometheus.NewInvalidMetric(agreementsDesc, err)
	} else {
		emitCounts(ch, agreementsDesc, agreementStates, agrs.Items, func(agr *v1alpha1.Agreement) v1alpha1.AgreementState { return agr.Status.State })
	}
}

// emitCounts emits one gauge of d per state: the number of items in it by
// stateOf, every state of always included (0 when no item is in it).
func emitCounts[T any, S ~string](ch chan<- prometheus.Metric, d *prometheus.Desc, always []S, items []T, stateOf func(*T) S) {
	counts := make(map[S]int, len(always)+1)
	for _, s := range always {
		counts[s] = 0
	}
	for i := range items {
		counts[stateOf(&items[i])]++
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(n), string(state))
	}
}

var (
	associationsDesc = prometheus.NewDesc(MetricAssociations,
		"Open associations with CPNP servers (RFC 8921 §8.1).", nil, nil)
	dialsDesc = prometheus.NewDesc(MetricDials,
		"Association attempts (first dials and re-dials).", nil, nil)
	dialFailuresDesc = prometheus.NewDesc(MetricDialFailures,
		"Failed association attempts, by kind: handshake (see cpnp_operator_handshake_failures_total) or other.", []string{"kind"}, nil)
	sentDesc = prometheus.NewDesc(MetricMessagesSent,
		"CPNP messages written, by method (RFC 8921 Table 1).", []string{"method"}, nil)
	receivedDesc = prometheus.NewDesc(MetricMessagesReceived,
		"CPNP messages read and routed, by method (RFC 8921 Table 1).", []string{"method"}, nil)
	sendFailuresDesc = prometheus.NewDesc(MetricSendFailures,
		"CPNP messages that could not be written (no association within the send timeout, write error).", nil, nil)
	droppedDesc = prometheus.NewDesc(MetricMessagesDropped,
		"Received messages discarded before reaching an order (RFC 8921 §10.1, §13), by reason.", []string{"reason"}, nil)
)

// EngineCollector is a prometheus.Collector of the engine's association
// counters (client.Metrics), read at scrape time. Register one per Engine
// (cmd/manager does).
type EngineCollector struct {
	engine *Engine
}

// NewEngineCollector returns a collector of e's counters.
func NewEngineCollector(e *Engine) *EngineCollector { return &EngineCollector{engine: e} }

// Describe implements prometheus.Collector.
func (c *EngineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{associationsDesc, dialsDesc, dialFailuresDesc, sentDesc, receivedDesc, sendFailuresDesc, droppedDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *EngineCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.engine.MuxMetrics()
	ch <- prometheus.MustNewConstMetric(associationsDesc, prometheus.GaugeValue, float64(s.Associations))
	ch <- prometheus.MustNewConstMetric(dialsDesc, prometheus.CounterValue, float64(s.Dials))
	ch <- prometheus.MustNewConstMetric(dialFailuresDesc, prometheus.CounterValue, float64(s.HandshakeFailures), "handshake")
	ch <- prometheus.MustNewConstMetric(dialFailuresDesc, prometheus.CounterValue, float64(s.DialFailures), "other")
	ch <- prometheus.MustNewConstMetric(sendFailuresDesc, prometheus.CounterValue, float64(s.SendFailures))
	for _, m := range wire.Methods {
		ch <- prometheus.MustNewConstMetric(sentDesc, prometheus.CounterValue, float64(s.Sent[m]), m.String())
		ch <- prometheus.MustNewConstMetric(receivedDesc, prometheus.CounterValue, float64(s.Received[m]), m.String())
	}
	for r, n := range s.Drops {
		ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(n), r.String())
	}
}
