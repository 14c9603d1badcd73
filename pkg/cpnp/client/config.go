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
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/clock"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Transport selects how a server is reached.
type Transport string

// Transports (RFC 8921 §8.1: DTLS over UDP is the default; TLS over TCP is
// the alternative of DESIGN §2).
const (
	TransportDTLS Transport = "dtls"
	TransportTLS  Transport = "tls"
)

// ParseTransport parses "dtls" or "tls" (any case); "" means DTLS.
func ParseTransport(s string) (Transport, error) {
	switch t := Transport(strings.ToLower(s)); t {
	case "", TransportDTLS:
		return TransportDTLS, nil
	case TransportTLS:
		return TransportTLS, nil
	default:
		return "", fmt.Errorf("transport %q: must be %q or %q", s, TransportDTLS, TransportTLS)
	}
}

// ServerConfig says how to reach one CPNP server.
type ServerConfig struct {
	// Address is host:port, e.g. "cpnp.example.net:8921" (CPNP_PORT 8921).
	Address string
	// ServerName is the name verified in the server certificate (§8.1:
	// DNS-ID); empty means the host part of Address.
	ServerName string
	// RootCAs verifies the server certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// Certificate is the client certificate presented to the server
	// (mutual authentication, §13). Its URI SAN, else its CN, is the
	// identity the server binds orders to (DESIGN §4).
	Certificate *tls.Certificate
	// Transport is TransportDTLS (default) or TransportTLS.
	Transport Transport
	// Options tunes the transport (handshake timeout, idle timeout, datagram
	// limit, logger, metrics). Its Certificates, RootCAs and ServerName are
	// replaced by the fields above.
	Options transport.Config
	// Dial, when set, opens the association instead of DialDTLS/DialTLS
	// (for example through a lossy relay in tests); the fields above are
	// then only checked, not used.
	Dial transport.DialFunc
}

// Validate reports a configuration that cannot work.
func (c ServerConfig) Validate() error {
	var errs []error
	if c.Address == "" {
		errs = append(errs, errors.New("address is required"))
	} else if _, _, err := net.SplitHostPort(c.Address); err != nil {
		errs = append(errs, fmt.Errorf("address %q: must be host:port: %w", c.Address, err))
	}
	if _, err := ParseTransport(string(c.Transport)); err != nil {
		errs = append(errs, err)
	}
	if c.Dial == nil {
		if err := c.transportConfig().Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: server config: %w", ErrInvalidConfig, err)
	}
	return nil
}

// transportConfig is Options with the identity fields of c.
func (c ServerConfig) transportConfig() transport.Config {
	tc := c.Options
	tc.ServerName = c.ServerName
	tc.RootCAs = c.RootCAs
	tc.Certificates = nil
	if c.Certificate != nil {
		tc.Certificates = []tls.Certificate{*c.Certificate}
	}
	return tc
}

// dialFunc opens one association with the server.
func (c ServerConfig) dialFunc() transport.DialFunc {
	if c.Dial != nil {
		return c.Dial
	}
	tc := c.transportConfig()
	if t, _ := ParseTransport(string(c.Transport)); t == TransportTLS {
		return func(ctx context.Context, addr string) (transport.Conn, error) {
			return transport.DialTLS(ctx, addr, tc)
		}
	}
	return func(ctx context.Context, addr string) (transport.Conn, error) {
		return transport.DialDTLS(ctx, addr, tc)
	}
}

// Defaults of MuxConfig.
const (
	// DefaultMinBackoff is the first wait before dialling a server again.
	DefaultMinBackoff = 250 * time.Millisecond
	// DefaultMaxBackoff bounds the wait between two dials of a server.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultStaleAfter is the silence after a retransmission after which
	// the next one re-dials the association (MuxConfig.StaleAfter).
	DefaultStaleAfter = 5 * time.Second
)

// MuxConfig configures a Mux. The zero value is valid.
type MuxConfig struct {
	// Clock times the re-dial backoff and stamps received messages;
	// default clock.Real().
	Clock clock.Clock
	// Logger receives association events; the zero value discards them.
	// Dial failures are logged at V(0) (the first of a series) and V(1),
	// associations at V(1), discarded messages at V(4).
	Logger logr.Logger
	// Metrics, when not nil, counts dials, associations, messages and drops.
	Metrics *Metrics
	// MinBackoff and MaxBackoff bound the exponential backoff between two
	// dials of a server (defaults 250 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// MaxMessageSize bounds a received message (default and maximum
	// wire.DefaultMaxMessageSize, 1 MiB).
	MaxMessageSize int
	// OnHandshakeFailure, when set, is called for each failed dial whose
	// handshake failed (a *transport.HandshakeError), e.g. to count it by
	// reason. It runs on the server's dial goroutine and must not block.
	OnHandshakeFailure func(server string, err error)
	// OnDrop, when set, is called for every received message discarded
	// before it reached a Handler. It must not block.
	OnDrop func(server string, reason DropReason)
	// StaleAfter: a retransmission (§11.4) closes the association, and goes
	// out on a new one, when an earlier retransmission on it was sent at
	// least StaleAfter ago and nothing arrived since, on an association that
	// did deliver messages before (default DefaultStaleAfter; negative:
	// never). DTLS has no keep-alive: a server that restarted on the same
	// address lost the association and silently drops our records, and
	// pion ignores the ICMP port-unreachable errors (a TemporaryError), so
	// without this a client would retransmit into a dead association until
	// its retries ran out.
	StaleAfter time.Duration
}

// Validate reports a configuration that cannot work.
func (c MuxConfig) Validate() error {
	var errs []error
	if c.MinBackoff < 0 || c.MaxBackoff < 0 {
		errs = append(errs, errors.New("backoff must not be negative"))
	}
	d := c.withDefaults()
	if d.MinBackoff > d.MaxBackoff {
		errs = append(errs, fmt.Errorf("minBackoff %s exceeds maxBackoff %s", d.MinBackoff, d.MaxBackoff))
	}
	if c.MaxMessageSize < 0 || c.MaxMessageSize > wire.DefaultMaxMessageSize {
		errs = append(errs, fmt.Errorf("maxMessageSize %d outside [0, %d]", c.MaxMessageSize, wire.DefaultMaxMessageSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: mux config: %w", ErrInvalidConfig, err)
	}
	return nil
}

func (c MuxConfig) withDefaults() MuxConfig {
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.Logger.GetSink() == nil {
		c.Logger = logr.Discard()
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = wire.DefaultMaxMessageSize
	}
	if c.StaleAfter == 0 {
		c.StaleAfter = DefaultStaleAfter
	}
	return c
}
