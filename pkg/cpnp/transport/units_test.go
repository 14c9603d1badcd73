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
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"
)

// Reference: DESIGN §4 "DTLS admission" (8 per source, 1024 in all).
func TestAdmission(t *testing.T) {
	t.Parallel()
	a := newAdmission(3, 2)
	src1, src2, src3 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	var cancelled []string
	cancel := func(name string) context.CancelCauseFunc {
		return func(cause error) { cancelled = append(cancelled, fmt.Sprintf("%s:%v", name, cause)) }
	}
	h1, ev, err := a.admit(src1, cancel("h1"))
	if err != nil || ev != nil {
		t.Fatalf("admit h1: got evicted %v, err %v", ev, err)
	}
	h2, _, _ := a.admit(src1, cancel("h2"))
	if _, _, err := a.admit(src1, cancel("h3")); !errors.Is(err, ErrHalfOpenLimit) {
		t.Fatalf("third from src1: got %v, want ErrHalfOpenLimit", err)
	}
	h4, ev, err := a.admit(src2, cancel("h4"))
	if err != nil || ev != nil || a.len() != 3 {
		t.Fatalf("admit h4: got evicted %v, err %v, len %d", ev, err, a.len())
	}
	// At the global cap the oldest (h1) is evicted.
	_, ev, err = a.admit(src3, cancel("h5"))
	if err != nil || ev != h1 {
		t.Fatalf("admit h5 at the cap: got evicted %v, err %v, want h1 evicted", ev, err)
	}
	ev.cancel(ErrEvicted)
	if a.release(h1) {
		t.Error("release of an evicted handshake: got true, want false")
	}
	// src1 now holds one slot, so it may open another.
	if !a.release(h2) || a.release(h2) {
		t.Error("release h2 twice: want true then false")
	}
	if _, _, err := a.admit(src1, cancel("h6")); err != nil {
		t.Errorf("src1 after its slots freed: %v", err)
	}
	if !a.release(h4) {
		t.Error("release h4: got false")
	}
	if a.release(nil) {
		t.Error("release(nil): got true")
	}
	if diff := cmp.Diff([]string{"h1:" + ErrEvicted.Error()}, cancelled); diff != "" {
		t.Errorf("cancelled (-want +got):\n%s", diff)
	}
	if got, want := a.len(), 2; got != want {
		t.Errorf("len: got %d, want %d", got, want)
	}
}

func TestSourceIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.UDPAddr{IP: net.ParseIP("192.0.2.7"), Port: 1}, "192.0.2.7"},
		{&net.UDPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 1}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1}, "2001:db8::1"},
		{stringAddr("198.51.100.1:99"), "198.51.100.1"},
		{stringAddr("garbage"), "invalid IP"},
	}
	for _, tc := range tests {
		if got := sourceIP(tc.addr).String(); got != tc.want {
			t.Errorf("sourceIP(%v): got %s, want %s", tc.addr, got, tc.want)
		}
	}
}

type stringAddr string

func (s stringAddr) Network() string { return "test" }
func (s stringAddr) String() string  { return string(s) }

// Reference: DESIGN §3 "Identity of a peer: the URI SAN of its certificate
// if it has one, else its CN".
func TestPeerIdentity(t *testing.T) {
	t.Parallel()
	u1, _ := url.Parse("spiffe://example/a")
	u2, _ := url.Parse("spiffe://example/b")
	tests := map[string]struct {
		cert *x509.Certificate
		want string
	}{
		"nil":           {nil, ""},
		"CN only":       {&x509.Certificate{Subject: pkix.Name{CommonName: "acme"}}, "acme"},
		"URI SAN wins":  {&x509.Certificate{Subject: pkix.Name{CommonName: "acme"}, URIs: []*url.URL{u1}}, "spiffe://example/a"},
		"first URI SAN": {&x509.Certificate{URIs: []*url.URL{u1, u2}}, "spiffe://example/a"},
		"DNS SAN only":  {&x509.Certificate{DNSNames: []string{"x.example"}}, ""},
	}
	for name, tc := range tests {
		if got := PeerIdentity(tc.cert); got != tc.want {
			t.Errorf("%s: got %q, want %q", name, got, tc.want)
		}
	}
	p := getPKI(t)
	if id, err := identityFromRaw(p.clientURI.Certificate); err != nil || id != testClientURI {
		t.Errorf("identityFromRaw(URI client): got %q, %v", id, err)
	}
	if id, err := identityFromRaw(nil); err != nil || id != "" {
		t.Errorf("identityFromRaw(nil): got %q, %v", id, err)
	}
	if _, err := identityFromRaw([][]byte{[]byte("not DER")}); err == nil {
		t.Error("identityFromRaw(garbage): got nil error")
	}
	for _, tc := range []struct {
		chain    [][]byte
		insecure bool
		want     error
	}{
		{nil, false, errVerifyNoClientCert},
		{nil, true, nil},
		{p.clientNoID.Certificate, false, errVerifyNoIdentity},
		{p.clientCN.Certificate, false, nil},
	} {
		if got := verifyClientIdentity(tc.chain, tc.insecure); !errors.Is(got, tc.want) || (tc.want == nil && got != nil) {
			t.Errorf("verifyClientIdentity(%d certs, insecure %v): got %v, want %v", len(tc.chain), tc.insecure, got, tc.want)
		}
	}
}

// fakePionAlert has the shape of pion's unexported alert error.
type fakePionAlert struct{ desc byte }

func (a fakePionAlert) Error() string              { return "alert" }
func (a fakePionAlert) IsFatalOrCloseNotify() bool { return true }
func (a fakePionAlert) Marshal() ([]byte, error)   { return []byte{2, a.desc}, nil }

func TestClassifyHandshake(t *testing.T) {
	t.Parallel()
	expired, cancelExpired := context.WithTimeout(context.Background(), 0)
	defer cancelExpired()
	<-expired.Done()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	evicted, cancelCause := context.WithCancelCause(context.Background())
	cancelCause(ErrEvicted)
	live := context.Background()
	tests := map[string]struct {
		err          error
		presented    bool
		isClient     bool
		hctx, parent context.Context
		want         HandshakeReason
		wantIs       error
		wantAlert    uint8
	}{
		"no client cert":                  {fmt.Errorf("handshake: %w", errVerifyNoClientCert), false, false, live, nil, ReasonNoClientCertificate, ErrNoClientCertificate, 0},
		"no identity":                     {errVerifyNoIdentity, false, false, live, nil, ReasonNoIdentity, ErrNoIdentity, 0},
		"unknown authority":               {fmt.Errorf("x: %w", x509.UnknownAuthorityError{}), true, false, live, nil, ReasonUnknownAuthority, ErrUnknownAuthority, 0},
		"bad server name":                 {x509.HostnameError{Host: "x", Certificate: getPKI(t).server.Leaf}, true, true, live, nil, ReasonBadServerName, ErrBadServerName, 0},
		"expired certificate":             {x509.CertificateInvalidError{Reason: x509.Expired}, true, true, live, nil, ReasonBadCertificate, ErrBadCertificate, 0},
		"insecure session":                {fmt.Errorf("%w: x", ErrInsecureSession), true, true, live, nil, ReasonInsecureSession, ErrInsecureSession, 0},
		"pion alert, client with cert":    {fakePionAlert{42}, true, true, live, live, ReasonPeerRefused, ErrPeerRefused, 42},
		"pion alert, client without cert": {fakePionAlert{40}, false, true, live, live, ReasonNoClientCertificate, ErrNoClientCertificate, 40},
		"pion alert, server":              {fakePionAlert{42}, true, false, live, nil, ReasonPeerRefused, ErrPeerRefused, 42},
		"tls remote alert":                {&net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}, true, true, live, live, ReasonPeerRefused, ErrPeerRefused, 0},
		"timeout":                         {context.DeadlineExceeded, true, true, expired, live, ReasonTimeout, ErrHandshakeTimeout, 0},
		"deadline error":                  {os.ErrDeadlineExceeded, true, false, live, nil, ReasonTimeout, ErrHandshakeTimeout, 0},
		"caller cancelled":                {context.Canceled, true, true, canceled, canceled, ReasonCanceled, ErrHandshakeFailed, 0},
		"listener closed":                 {context.Canceled, true, false, canceled, nil, ReasonCanceled, ErrHandshakeFailed, 0},
		"evicted":                         {context.Canceled, true, false, evicted, nil, ReasonEvicted, ErrEvicted, 0},
		"other":                           {io.ErrUnexpectedEOF, true, false, live, nil, ReasonOther, ErrHandshakeFailed, 0},
	}
	for name, tc := range tests {
		he := classifyHandshake("dtls", stringAddr("192.0.2.1:5"), tc.err, tc.presented, tc.isClient, tc.hctx, tc.parent)
		if he.Reason != tc.want || he.Alert != tc.wantAlert {
			t.Errorf("%s: got reason %s alert %d, want %s alert %d", name, he.Reason, he.Alert, tc.want, tc.wantAlert)
		}
		var err error = he
		if !errors.Is(err, tc.wantIs) || !errors.Is(err, ErrHandshakeFailed) || !errors.Is(err, tc.err) {
			t.Errorf("%s: %v does not match %v, ErrHandshakeFailed and its cause", name, err, tc.wantIs)
		}
		if !strings.Contains(err.Error(), "192.0.2.1:5") {
			t.Errorf("%s: message %q does not name the peer", name, err.Error())
		}
	}
	if !strings.Contains((&HandshakeError{Transport: "dtls", Alert: 42}).Error(), "BadCertificate") {
		t.Error("HandshakeError message does not name the alert")
	}
	if errors.Is(&HandshakeError{Reason: ReasonTimeout}, ErrUnknownAuthority) {
		t.Error("a timeout matches ErrUnknownAuthority")
	}
	if (&HandshakeError{Reason: 99}).Is(ErrHandshakeTimeout) {
		t.Error("an out-of-range reason matches a sentinel")
	}
}

func TestClosedError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cause error
		is    []error
	}{
		{nil, []error{net.ErrClosed}},
		{ErrIdleTimeout, []error{net.ErrClosed, ErrIdleTimeout}},
		{errPeerClosed, []error{net.ErrClosed, ErrPeerClosed, io.EOF}},
	} {
		err := error(&closedError{cause: tc.cause})
		for _, target := range tc.is {
			if !errors.Is(err, target) {
				t.Errorf("closedError{%v}: does not match %v", tc.cause, target)
			}
		}
		if errors.Is(err, ErrMessageTooLarge) {
			t.Errorf("closedError{%v} matches an unrelated error", tc.cause)
		}
	}
}

func TestMetricsSnapshot(t *testing.T) {
	t.Parallel()
	var nilM *Metrics
	nilM.handshakeDone() // a nil *Metrics counts nothing and does not panic
	if got := nilM.Snapshot(); len(got.HandshakeFailures) != int(numHandshakeReasons) || got.HandshakesCompleted != 0 {
		t.Errorf("nil Snapshot: got %+v", got)
	}
	m := &Metrics{}
	m.handshakeDone()
	m.handshakeFailed(ReasonTimeout)
	m.handshakeFailed(ReasonTimeout)
	m.handshakeFailed(HandshakeReason(99))
	m.refused()
	m.evicted()
	m.addHalfOpen(3)
	m.addActive(2)
	m.idleClose()
	m.fragmentDropped(DropOversize)
	m.fragmentDropped(DropReason(-5))
	m.messageIn()
	m.messageOut()
	m.messageOut()
	s := m.Snapshot()
	if s.HandshakesCompleted != 1 || s.HandshakeFailures[ReasonTimeout] != 2 || s.HalfOpenRefused != 1 ||
		s.HalfOpenEvicted != 1 || s.HalfOpen != 3 || s.ActiveAssociations != 2 || s.IdleClosed != 1 ||
		s.FragmentDrops[DropOversize] != 1 || s.MessagesIn != 1 || s.MessagesOut != 2 {
		t.Errorf("Snapshot: got %+v", s)
	}
}

// pion's messages land in logr at V(4) and above (STYLE §8).
func TestPionLoggerAdapter(t *testing.T) {
	t.Parallel()
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, prefix+" "+args) }, funcr.Options{Verbosity: 5})
	l := pionLoggerFactory{log: log}.NewLogger("dtls")
	l.Error("e")
	l.Errorf("e%d", 1)
	l.Warn("w")
	l.Warnf("w%d", 1)
	l.Info("i")
	l.Infof("i%d", 1)
	l.Debug("d")
	l.Debugf("d%d", 1)
	l.Trace("t") // V(6): not enabled
	l.Tracef("t%d", 1)
	if len(lines) != 8 {
		t.Fatalf("lines: got %d, want 8:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, line := range lines {
		if !strings.Contains(line, "pion-dtls") {
			t.Errorf("line %q lacks the pion scope", line)
		}
	}
	quiet := pionLoggerFactory{log: funcr.New(func(_, _ string) { t.Error("logged while disabled") }, funcr.Options{Verbosity: 3})}
	ql := quiet.NewLogger("dtls")
	ql.Error("x")
	ql.Tracef("x %d", 1)
}
