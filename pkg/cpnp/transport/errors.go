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
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/pion/dtls/v3/pkg/protocol/alert"
)

// Sentinel errors. A refused or failed handshake is a *HandshakeError whose
// Is method matches the sentinel of its reason and ErrHandshakeFailed.
var (
	// ErrHandshakeFailed matches every *HandshakeError.
	ErrHandshakeFailed = errors.New("handshake failed")
	// ErrHandshakeTimeout: the handshake did not complete within
	// Config.HandshakeTimeout.
	ErrHandshakeTimeout = errors.New("handshake timed out")
	// ErrNoClientCertificate: the client presented no certificate although
	// the server requires one (RFC 8921 §13). The server reports it; a client
	// without a certificate that is refused reports it too.
	ErrNoClientCertificate = errors.New("no client certificate")
	// ErrUnknownAuthority: the peer certificate does not chain to a trusted
	// CA (ClientCAs on the server, RootCAs on the client).
	ErrUnknownAuthority = errors.New("certificate signed by unknown authority")
	// ErrBadServerName: the server certificate is not valid for the server
	// name the client expects (RFC 8921 §8.1).
	ErrBadServerName = errors.New("server certificate does not match server name")
	// ErrBadCertificate: the peer certificate is otherwise invalid (expired,
	// not yet valid, wrong key usage, ...).
	ErrBadCertificate = errors.New("bad peer certificate")
	// ErrNoIdentity: the peer certificate has neither a URI SAN nor a CN, so
	// no identity can be bound to the association (DESIGN §3).
	ErrNoIdentity = errors.New("peer certificate has no identity")
	// ErrPeerRefused: the peer aborted the handshake with a fatal alert, for
	// example because it rejected our certificate.
	ErrPeerRefused = errors.New("peer refused the handshake")
	// ErrInsecureSession: TLS 1.2 without the extended master secret.
	ErrInsecureSession = errors.New("extended master secret not negotiated")
	// ErrEvicted: the half-open handshake was evicted to admit a newer one
	// while the listener was at Config.MaxHalfOpen.
	ErrEvicted = errors.New("half-open handshake evicted")

	// ErrHalfOpenLimit refuses a connection attempt from a source that is at
	// Config.MaxHalfOpenPerSource.
	ErrHalfOpenLimit = errors.New("half-open handshake limit reached")
	// ErrMessageTooLarge: a message exceeds ReassemblyLimits.MaxMessageSize,
	// needs more than ReassemblyLimits.MaxFragments fragments, or (TLS) a
	// received line exceeds the limit.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrInvalidMessage: a message that cannot be framed (TLS: contains a raw
	// CR or LF; compact JSON never does).
	ErrInvalidMessage = errors.New("message cannot be framed")
	// ErrIdleTimeout is the cause of a close after Config.IdleTimeout
	// without traffic; the error also matches net.ErrClosed.
	ErrIdleTimeout = errors.New("association idle timeout")
	// ErrPeerClosed is the cause of a close by the peer (close_notify, EOF);
	// the error also matches net.ErrClosed and io.EOF.
	ErrPeerClosed = errors.New("association closed by peer")
)

// HandshakeReason classifies a failed handshake. It indexes the handshake
// failure counters of Metrics and its String is a metric label value.
type HandshakeReason int

// Handshake failure reasons.
const (
	ReasonOther HandshakeReason = iota
	ReasonTimeout
	ReasonNoClientCertificate
	ReasonUnknownAuthority
	ReasonBadServerName
	ReasonBadCertificate
	ReasonNoIdentity
	ReasonPeerRefused
	ReasonInsecureSession
	ReasonEvicted
	ReasonCanceled
	numHandshakeReasons
)

var handshakeReasonNames = [numHandshakeReasons]string{
	ReasonOther:               "other",
	ReasonTimeout:             "timeout",
	ReasonNoClientCertificate: "no_client_certificate",
	ReasonUnknownAuthority:    "unknown_authority",
	ReasonBadServerName:       "bad_server_name",
	ReasonBadCertificate:      "bad_certificate",
	ReasonNoIdentity:          "no_identity",
	ReasonPeerRefused:         "peer_refused",
	ReasonInsecureSession:     "insecure_session",
	ReasonEvicted:             "evicted",
	ReasonCanceled:            "canceled",
}

var handshakeReasonErrors = [numHandshakeReasons]error{
	ReasonOther:               nil,
	ReasonTimeout:             ErrHandshakeTimeout,
	ReasonNoClientCertificate: ErrNoClientCertificate,
	ReasonUnknownAuthority:    ErrUnknownAuthority,
	ReasonBadServerName:       ErrBadServerName,
	ReasonBadCertificate:      ErrBadCertificate,
	ReasonNoIdentity:          ErrNoIdentity,
	ReasonPeerRefused:         ErrPeerRefused,
	ReasonInsecureSession:     ErrInsecureSession,
	ReasonEvicted:             ErrEvicted,
	ReasonCanceled:            nil,
}

// String returns the reason as a metric label value, e.g. "unknown_authority".
func (r HandshakeReason) String() string {
	if r < 0 || r >= numHandshakeReasons {
		return fmt.Sprintf("HandshakeReason(%d)", int(r))
	}
	return handshakeReasonNames[r]
}

// HandshakeReasons lists every reason, for registering metrics up front.
func HandshakeReasons() []HandshakeReason {
	rs := make([]HandshakeReason, numHandshakeReasons)
	for i := range rs {
		rs[i] = HandshakeReason(i)
	}
	return rs
}

// HandshakeError is a failed or refused handshake. Callers match it with
// errors.Is against the sentinel of its Reason (ErrNoClientCertificate,
// ErrUnknownAuthority, ErrBadServerName, ...) or with errors.As; Unwrap gives
// the underlying error (for example an x509.UnknownAuthorityError, or
// context.DeadlineExceeded for a timeout).
type HandshakeError struct {
	// Reason classifies the failure.
	Reason HandshakeReason
	// Transport is "dtls" or "tls".
	Transport string
	// Remote is the peer address.
	Remote net.Addr
	// Alert is the TLS alert the peer sent, 0 if none (ReasonPeerRefused and
	// a refused client without certificate).
	Alert uint8
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *HandshakeError) Error() string {
	msg := e.Transport + " handshake"
	if e.Remote != nil {
		msg += " with " + e.Remote.String()
	}
	if s := handshakeReasonErrors[e.reasonIndex()]; s != nil {
		msg += ": " + s.Error()
	} else {
		msg += " failed"
	}
	if e.Alert != 0 {
		msg += fmt.Sprintf(" (alert %s)", alertName(e.Alert))
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *HandshakeError) Unwrap() error { return e.Err }

// Is matches ErrHandshakeFailed and the sentinel of e.Reason.
func (e *HandshakeError) Is(target error) bool {
	if target == ErrHandshakeFailed {
		return true
	}
	s := handshakeReasonErrors[e.reasonIndex()]
	return s != nil && target == s
}

func (e *HandshakeError) reasonIndex() HandshakeReason {
	if e.Reason < 0 || e.Reason >= numHandshakeReasons {
		return ReasonOther
	}
	return e.Reason
}

func alertName(a uint8) string {
	return alert.Description(a).String()
}

// Sentinel causes that the verify hooks return, so that classification
// needs no string matching.
var (
	errVerifyNoClientCert = errors.New("client presented no certificate")
	errVerifyNoIdentity   = errors.New("certificate has neither URI SAN nor CN")
)

// pionAlert matches pion/dtls's unexported alert error, which embeds
// *alert.Alert and so has its Marshal method ([level, description]).
type pionAlert interface {
	error
	IsFatalOrCloseNotify() bool
	Marshal() ([]byte, error)
}

// classifyHandshake turns a handshake error into a *HandshakeError.
// presentedCert tells, on the client side, whether we offered a
// certificate: a refusal of a client that had none is
// ErrNoClientCertificate. hctx is the handshake's own context; parent the
// caller's (nil on the server).
func classifyHandshake(transport string, remote net.Addr, err error, presentedCert bool, isClient bool,
	hctx, parent context.Context) *HandshakeError {
	he := &HandshakeError{Transport: transport, Remote: remote, Err: err}
	var (
		hostErr    x509.HostnameError
		authErr    x509.UnknownAuthorityError
		invalidErr x509.CertificateInvalidError
		tlsAlert   tls.AlertError
		pa         pionAlert
	)
	switch {
	case errors.Is(err, errVerifyNoClientCert):
		he.Reason = ReasonNoClientCertificate
	case errors.Is(err, errVerifyNoIdentity):
		he.Reason = ReasonNoIdentity
	case errors.Is(err, ErrInsecureSession):
		he.Reason = ReasonInsecureSession
	case errors.Is(err, ErrEvicted), hctx != nil && errors.Is(context.Cause(hctx), ErrEvicted):
		he.Reason = ReasonEvicted
	case errors.As(err, &hostErr):
		he.Reason = ReasonBadServerName
	case errors.As(err, &authErr):
		he.Reason = ReasonUnknownAuthority
	case errors.As(err, &invalidErr):
		he.Reason = ReasonBadCertificate
	case errors.As(err, &pa):
		if b, mErr := pa.Marshal(); mErr == nil && len(b) == 2 {
			he.Alert = b[1]
		}
		he.Reason = peerRefusal(presentedCert, isClient)
	case errors.As(err, &tlsAlert):
		he.Alert = uint8(tlsAlert)
		he.Reason = peerRefusal(presentedCert, isClient)
	case isRemoteTLSAlert(err):
		he.Reason = peerRefusal(presentedCert, isClient)
	case parent != nil && parent.Err() != nil:
		he.Reason = ReasonCanceled
	case hctx != nil && errors.Is(hctx.Err(), context.DeadlineExceeded),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		he.Reason = ReasonTimeout
	case hctx != nil && hctx.Err() != nil, errors.Is(err, context.Canceled):
		he.Reason = ReasonCanceled
	default:
		he.Reason = ReasonOther
	}
	return he
}

// isRemoteTLSAlert recognises an alert received by crypto/tls, which it
// reports as a *net.OpError with Op "remote error" around an unexported
// alert type (tls.AlertError is used for QUIC only).
func isRemoteTLSAlert(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "remote error"
}

// peerRefusal is the reason of a handshake the peer aborted with an alert.
func peerRefusal(presentedCert, isClient bool) HandshakeReason {
	if isClient && !presentedCert {
		return ReasonNoClientCertificate
	}
	return ReasonPeerRefused
}

// closedError is returned by a Conn once it is closed. It matches
// net.ErrClosed, and its cause (ErrIdleTimeout, ErrPeerClosed with io.EOF,
// or nil for a local Close) through Unwrap.
type closedError struct {
	cause error
}

func (e *closedError) Error() string {
	if e.cause == nil {
		return net.ErrClosed.Error()
	}
	return net.ErrClosed.Error() + ": " + e.cause.Error()
}

func (e *closedError) Is(target error) bool { return target == net.ErrClosed }

func (e *closedError) Unwrap() error { return e.cause }
