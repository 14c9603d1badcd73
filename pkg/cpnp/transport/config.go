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
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
)

// Defaults (DESIGN §3 "Settled details").
const (
	// DefaultHandshakeTimeout bounds one DTLS or TLS handshake.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultIdleTimeout closes an association without traffic in either direction.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultMaxHalfOpen caps handshakes in progress on one listener.
	DefaultMaxHalfOpen = 1024
	// DefaultMaxHalfOpenPerSource caps handshakes in progress from one source IP.
	DefaultMaxHalfOpenPerSource = 8
	// DefaultDatagramLimit is the largest message sent as one bare DTLS record:
	// the safe path MTU that pion/dtls also uses for handshake flights.
	DefaultDatagramLimit = 1200
	// MaxDatagramLimit is the largest allowed DatagramLimit: pion's receive
	// buffer is 8192 bytes and silently drops larger datagrams, and a record
	// adds 37 bytes (header, explicit nonce, GCM tag) to the message.
	MaxDatagramLimit = 8000
	// MinDatagramLimit is the smallest allowed DatagramLimit; below it the
	// fragmentation envelope leaves too little room for data.
	MinDatagramLimit = 512
	// MaxMessageSize is the largest message either transport carries (1 MiB).
	MaxMessageSize = 1 << 20
)

// Defaults of ReassemblyLimits (docs/wire.md "Fragmentation").
const (
	DefaultMaxPartials     = 4
	DefaultMaxMessageSize  = MaxMessageSize
	DefaultReassemblyTimer = 10 * time.Second
	// DefaultMaxFragments is 2048, not the 1024 of the first draft of the
	// envelope text: at the default 1200-byte datagram limit a fragment
	// carries at most 822 message bytes, so a 1 MiB message needs 1276
	// fragments and 1024 would make the 1 MiB maximum unreachable.
	DefaultMaxFragments = 2048
)

// ReassemblyLimits bound what one association may hold in reassembly
// (docs/wire.md "Fragmentation"), so that a peer cannot exhaust memory. The
// sender applies the same MaxMessageSize and MaxFragments to what it sends,
// on the assumption that its peer uses the same limits. Zero values take the
// defaults.
type ReassemblyLimits struct {
	// MaxPartials is the number of messages in reassembly at once (default 4).
	MaxPartials int
	// MaxMessageSize is the largest reassembled message in bytes (default and
	// maximum 1 MiB). Over TLS it bounds one line.
	MaxMessageSize int
	// MaxFragments is the largest fragment count of one message (default 2048).
	MaxFragments int
	// Timeout is the time from a message's first fragment to its completion
	// (default 10 s); a partial message older than that is discarded.
	Timeout time.Duration
}

// Config configures listeners (servers) and dialers (clients) of both
// transports. The zero value of every numeric field takes its default.
// A Config is read, never modified, by this package.
type Config struct {
	// Certificates are the local certificate chains with their keys. A
	// server needs one; a client presents the first one to the server.
	Certificates []tls.Certificate
	// RootCAs verifies the server certificate (client side). Nil means the
	// system roots.
	RootCAs *x509.CertPool
	// ClientCAs verifies client certificates (server side). Required unless
	// InsecureNoClientAuth is set.
	ClientCAs *x509.CertPool
	// ServerName is the name the client verifies in the server certificate
	// (RFC 8921 §8.1: DNS-ID preferred). Empty means the host part of the
	// address dialled.
	ServerName string
	// InsecureNoClientAuth lets clients in without a certificate (a
	// certificate that is presented is still verified against ClientCAs).
	// UNSAFE: RFC 8921 §13 requires mutual authentication and the server
	// binds orders to the client identity (DESIGN §4), which is then empty
	// for anonymous clients. Meant for lab setups only.
	InsecureNoClientAuth bool

	// HandshakeTimeout bounds one handshake (default 10 s).
	HandshakeTimeout time.Duration
	// IdleTimeout closes an association that carried no message in either
	// direction for that long (default 5 min).
	IdleTimeout time.Duration
	// MaxHalfOpen caps handshakes in progress on one listener (default
	// 1024). At the cap a new attempt evicts the oldest handshake whose
	// client has not returned its cookie, else the oldest one.
	MaxHalfOpen int
	// MaxHalfOpenPerSource caps handshakes in progress from one source IP
	// address (default 8); it must not exceed MaxHalfOpen.
	MaxHalfOpenPerSource int

	// DatagramLimit is the largest message sent as one bare DTLS record
	// (default 1200, at most 8000). Larger messages are fragmented.
	DatagramLimit int
	// Reassembly bounds fragment reassembly (and the TLS line length).
	Reassembly ReassemblyLimits

	// Logger receives transport events; the zero value discards them.
	// Handshake outcomes are logged at V(1), refused admissions and dropped
	// fragments at V(4), pion's own messages at V(4) and above.
	Logger logr.Logger
	// Metrics, when not nil, counts handshakes, admissions, associations and
	// dropped fragments. Several listeners and dialers may share one.
	Metrics *Metrics
}

// Validate reports a Config that cannot work. It does not check the
// role-specific requirements (a server needs a certificate and, unless
// InsecureNoClientAuth, ClientCAs); ListenDTLS and ListenTLS do.
func (c Config) Validate() error {
	var errs []error
	if c.HandshakeTimeout < 0 {
		errs = append(errs, errors.New("handshakeTimeout must not be negative"))
	}
	if c.IdleTimeout < 0 {
		errs = append(errs, errors.New("idleTimeout must not be negative"))
	}
	if c.MaxHalfOpen < 0 {
		errs = append(errs, errors.New("maxHalfOpen must not be negative"))
	}
	if c.MaxHalfOpenPerSource < 0 {
		errs = append(errs, errors.New("maxHalfOpenPerSource must not be negative"))
	}
	d := c.withDefaults()
	if c.MaxHalfOpen >= 0 && c.MaxHalfOpenPerSource >= 0 && d.MaxHalfOpenPerSource > d.MaxHalfOpen {
		errs = append(errs, fmt.Errorf("maxHalfOpenPerSource %d exceeds maxHalfOpen %d",
			d.MaxHalfOpenPerSource, d.MaxHalfOpen))
	}
	if c.DatagramLimit != 0 && (c.DatagramLimit < MinDatagramLimit || c.DatagramLimit > MaxDatagramLimit) {
		errs = append(errs, fmt.Errorf("datagramLimit %d outside [%d, %d]",
			c.DatagramLimit, MinDatagramLimit, MaxDatagramLimit))
	}
	if err := c.Reassembly.validate(); err != nil {
		errs = append(errs, err)
	}
	for i, cert := range c.Certificates {
		if len(cert.Certificate) == 0 {
			errs = append(errs, fmt.Errorf("certificates[%d]: empty certificate chain", i))
		}
		if cert.PrivateKey == nil {
			errs = append(errs, fmt.Errorf("certificates[%d]: no private key", i))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("transport config: %w", err)
	}
	return nil
}

// validateServer adds the checks of a listener to Validate.
func (c Config) validateServer() error {
	if err := c.Validate(); err != nil {
		return err
	}
	if len(c.Certificates) == 0 {
		return errors.New("transport config: a server needs a certificate")
	}
	if c.ClientCAs == nil && !c.InsecureNoClientAuth {
		return errors.New("transport config: clientCAs is required unless insecureNoClientAuth is set")
	}
	return nil
}

func (r ReassemblyLimits) validate() error {
	var errs []error
	if r.MaxPartials < 0 {
		errs = append(errs, errors.New("maxPartials must not be negative"))
	}
	if r.MaxMessageSize < 0 || r.MaxMessageSize > MaxMessageSize {
		errs = append(errs, fmt.Errorf("maxMessageSize %d outside [0, %d]", r.MaxMessageSize, MaxMessageSize))
	}
	if r.MaxFragments < 0 || r.MaxFragments == 1 {
		errs = append(errs, fmt.Errorf("maxFragments %d: must be 0 (default) or at least 2", r.MaxFragments))
	}
	if r.Timeout < 0 {
		errs = append(errs, errors.New("timeout must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("reassembly: %w", err)
	}
	return nil
}

// withDefaults returns c with every zero numeric field set to its default.
func (c Config) withDefaults() Config {
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxHalfOpen == 0 {
		c.MaxHalfOpen = DefaultMaxHalfOpen
	}
	if c.MaxHalfOpenPerSource == 0 {
		c.MaxHalfOpenPerSource = DefaultMaxHalfOpenPerSource
	}
	if c.DatagramLimit == 0 {
		c.DatagramLimit = DefaultDatagramLimit
	}
	c.Reassembly = c.Reassembly.withDefaults()
	if c.Logger.GetSink() == nil {
		c.Logger = logr.Discard()
	}
	return c
}

func (r ReassemblyLimits) withDefaults() ReassemblyLimits {
	if r.MaxPartials == 0 {
		r.MaxPartials = DefaultMaxPartials
	}
	if r.MaxMessageSize == 0 {
		r.MaxMessageSize = DefaultMaxMessageSize
	}
	if r.MaxFragments == 0 {
		r.MaxFragments = DefaultMaxFragments
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultReassemblyTimer
	}
	return r
}

// tlsCipherSuites are the RFC 7525 §4.2 suites: ECDHE key exchange with
// AES-GCM, for ECDSA and RSA server keys (TLS 1.2 and DTLS 1.2 only; the
// TLS 1.3 suites are fixed by crypto/tls and all AEAD).
var tlsCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
}
