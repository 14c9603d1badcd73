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
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/clock"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// Defaults of Config.
const (
	// DefaultTerminalRetention is how long a terminal order (Cancelled, no
	// timer armed) is kept to answer repeats of its last request (§11.4)
	// before it is deleted.
	DefaultTerminalRetention = 24 * time.Hour
	// DefaultInboxSize bounds the messages that readers have decoded and
	// the loop has not handled yet; a full inbox makes readers wait
	// (backpressure on their association).
	DefaultInboxSize = 1024
	// DefaultSendQueueSize bounds the messages waiting to be written on one
	// association; beyond it a message is dropped (the peer retransmits,
	// §11.4).
	DefaultSendQueueSize = 64
)

// OrdersKind is the store kind that holds the server's orders, keyed by
// provider order identifier (RFC 8921 §8.11: the server keeps every order
// in its repository).
const OrdersKind = "orders"

// Config configures a Server. The zero value of every optional field takes
// its default.
type Config struct {
	// Machine configures the server state machine (RETRANS_TIMER of the
	// OFFER, the EXPECTED_OFFER_TIME announced in PROCESSING, §11.2.1,
	// §11.4). The zero value behaves as fsm.DefaultServer.
	Machine fsm.Server
	// Policy decides offers and accounts for capacity (§8.2, §11.2.1).
	// Required.
	Policy policy.Policy
	// Store keeps the orders (§8.11, DESIGN §4). Required; the caller
	// opens it and closes it after Shutdown.
	Store *store.Store
	// Clock gives the time and the timers; default clock.Real().
	Clock clock.Clock
	// Logger receives the order events (§12.1); default discard.
	Logger logr.Logger
	// Registerer, when not nil, gets the engine's Prometheus metrics
	// (cpnp_server_*).
	Registerer prometheus.Registerer
	// Gatherer serves /metrics in Handler; when nil and Registerer is also
	// a Gatherer (a *prometheus.Registry), that one is used.
	Gatherer prometheus.Gatherer
	// TransportMetrics, when not nil, are the counters given to the
	// listeners' transport.Config; they are exported as the handshake and
	// association metrics.
	TransportMetrics *transport.Metrics
	// AllowedSources is the access filter of Table 6 (§10.2): when not
	// empty, an association whose source address is in none of these
	// prefixes is closed as soon as it is accepted.
	AllowedSources []netip.Prefix
	// DupCache configures the limiter of repeated answers (§11.4).
	DupCache session.DupCacheConfig
	// FailLimit configures the FAIL rate limit per client (§9.2.5, §13).
	FailLimit session.FailLimiterConfig
	// Rand is the source of provider order identifiers, nonces and first
	// sequence numbers (§8.4, §9.1.5, §13); default crypto/rand.Reader.
	Rand io.Reader
	// TerminalRetention is how long a terminal order is kept; default
	// DefaultTerminalRetention.
	TerminalRetention time.Duration
	// InboxSize bounds the loop's inbox; default DefaultInboxSize.
	InboxSize int
	// SendQueueSize bounds each association's send queue; default
	// DefaultSendQueueSize.
	SendQueueSize int
	// Upstreams are the providers of child orders (RFC 8921 §8.8), by the
	// name policy decisions use (policy.Upstream.Name): how to reach each
	// and with which client certificate. A Child decision for a name not
	// here is answered FAIL 5.
	Upstreams map[string]client.ServerConfig
	// UpstreamMux configures the associations with the upstreams (backoff,
	// metrics); its Logger defaults to the engine's.
	UpstreamMux client.MuxConfig
	// ChildOfferValidity is the VALIDITY_OFFER_TIME (§9.1.8) of an offer
	// made of a child agreement alone; default DefaultChildOfferValidity.
	ChildOfferValidity time.Duration
	// ChildResponseTime is how long a child's QUOTATION gives the upstream
	// to answer (EXPECTED_RESPONSE_TIME, §9.1.6); default
	// DefaultChildResponseTime.
	ChildResponseTime time.Duration
}

// Validate reports the fields that cannot work, each a *ConfigError
// (joined); every error matches ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	add := func(field, reason string) { errs = append(errs, &ConfigError{Field: field, Reason: reason}) }
	if c.Policy == nil {
		add("policy", "is required")
	}
	if c.Store == nil {
		add("store", "is required")
	}
	if err := c.Machine.Validate(); err != nil {
		add("machine", err.Error())
	}
	if err := c.DupCache.Validate(); err != nil {
		add("dupCache", err.Error())
	}
	if err := c.FailLimit.Validate(); err != nil {
		add("failLimit", err.Error())
	}
	for i, p := range c.AllowedSources {
		if !p.IsValid() {
			add("allowedSources["+strconv.Itoa(i)+"]", "is not a valid CIDR prefix")
		}
	}
	if c.TerminalRetention < 0 {
		add("terminalRetention", fmt.Sprintf("%s must not be negative", c.TerminalRetention))
	}
	if c.InboxSize < 0 {
		add("inboxSize", fmt.Sprintf("%d must not be negative", c.InboxSize))
	}
	if c.SendQueueSize < 0 {
		add("sendQueueSize", fmt.Sprintf("%d must not be negative", c.SendQueueSize))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Upstreams)) {
		if name == "" {
			add("upstreams", "an upstream has an empty name")
		} else if err := c.Upstreams[name].Validate(); err != nil {
			add("upstreams["+name+"]", err.Error())
		}
	}
	if err := c.UpstreamMux.Validate(); err != nil {
		add("upstreamMux", err.Error())
	}
	if c.ChildOfferValidity < 0 {
		add("childOfferValidity", fmt.Sprintf("%s must not be negative", c.ChildOfferValidity))
	}
	if c.ChildResponseTime < 0 {
		add("childResponseTime", fmt.Sprintf("%s must not be negative", c.ChildResponseTime))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
}

// withDefaults fills in the optional fields.
func (c Config) withDefaults() Config {
	if c.Machine.Retransmit == (session.Retransmit{}) {
		c.Machine.Retransmit = session.DefaultRetransmit()
	}
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.Logger.GetSink() == nil {
		c.Logger = logr.Discard()
	}
	if c.Gatherer == nil {
		if g, ok := c.Registerer.(prometheus.Gatherer); ok {
			c.Gatherer = g
		}
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.TerminalRetention == 0 {
		c.TerminalRetention = DefaultTerminalRetention
	}
	if c.InboxSize == 0 {
		c.InboxSize = DefaultInboxSize
	}
	if c.SendQueueSize == 0 {
		c.SendQueueSize = DefaultSendQueueSize
	}
	if c.ChildOfferValidity == 0 {
		c.ChildOfferValidity = DefaultChildOfferValidity
	}
	if c.ChildResponseTime == 0 {
		c.ChildResponseTime = DefaultChildResponseTime
	}
	return c
}

// allowed reports whether the access filter lets addr in.
func (c Config) allowed(addr netip.Addr) bool {
	if len(c.AllowedSources) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range c.AllowedSources {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
