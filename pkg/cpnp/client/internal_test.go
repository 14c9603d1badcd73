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
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

func TestParseTransport(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      string
		want    Transport
		wantErr bool
	}{
		"empty is DTLS": {in: "", want: TransportDTLS},
		"dtls":          {in: "dtls", want: TransportDTLS},
		"TLS any case":  {in: "TLS", want: TransportTLS},
		"quic":          {in: "quic", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseTransport(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseTransport(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  error
		want string // a fragment of the message; "" means valid
	}{
		"server ok":             {err: ServerConfig{Address: "127.0.0.1:8921"}.Validate()},
		"server no address":     {err: ServerConfig{}.Validate(), want: "address is required"},
		"server bad address":    {err: ServerConfig{Address: "cpnp.example"}.Validate(), want: "must be host:port"},
		"server bad transport":  {err: ServerConfig{Address: "a:1", Transport: "udp"}.Validate(), want: `transport "udp"`},
		"server bad options":    {err: ServerConfig{Address: "a:1", Options: transport.Config{DatagramLimit: 10}}.Validate(), want: "datagramLimit"},
		"server custom dial":    {err: ServerConfig{Address: "a:1", Options: transport.Config{DatagramLimit: 10}, Dial: func(context.Context, string) (transport.Conn, error) { return nil, nil }}.Validate()},
		"mux ok":                {err: MuxConfig{}.Validate()},
		"mux negative backoff":  {err: MuxConfig{MinBackoff: -1}.Validate(), want: "must not be negative"},
		"mux min above max":     {err: MuxConfig{MinBackoff: time.Minute, MaxBackoff: time.Second}.Validate(), want: "exceeds maxBackoff"},
		"mux message too large": {err: MuxConfig{MaxMessageSize: 2 << 20}.Validate(), want: "maxMessageSize"},
		"engine no store":       {err: Config{}.Validate(), want: "store is required"},
		"engine ok":             {err: Config{Store: NewMemoryStore()}.Validate()},
		"engine negative size":  {err: Config{Store: NewMemoryStore(), InboxSize: -1}.Validate(), want: "must not be negative"},
		"engine bad machine": {
			err:  Config{Store: NewMemoryStore(), Machine: fsm.Client{WithdrawRetryInterval: time.Minute}}.Validate(),
			want: "withdrawRetryInterval",
		},
		"engine bad retransmit": {
			err:  Config{Store: NewMemoryStore(), Machine: fsm.Client{Retransmit: session.Retransmit{Timer: -1}}}.Validate(),
			want: "retransmit.timer",
		},
		"engine bad mux": {err: Config{Store: NewMemoryStore(), Mux: MuxConfig{MaxBackoff: -1}}.Validate(), want: "backoff"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if tt.want == "" {
				if tt.err != nil {
					t.Fatalf("got %v, want valid", tt.err)
				}
				return
			}
			if !errors.Is(tt.err, ErrInvalidConfig) || !strings.Contains(tt.err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrInvalidConfig mentioning %q", tt.err, tt.want)
			}
		})
	}
	if _, err := NewEngine(Config{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("NewEngine(Config{}) = %v, want ErrInvalidConfig", err)
	}
	if _, err := NewMux(MuxConfig{MinBackoff: -1}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("NewMux with a negative backoff = %v, want ErrInvalidConfig", err)
	}
}

// TestIdentifiers: 128 random bits for transaction IDs and customer order
// identifiers, first sequence numbers below 2^31.
// Reference: RFC 8921 §8.4, §9.1.1, §9.1.3; DESIGN §3.
func TestIdentifiers(t *testing.T) {
	t.Parallel()
	ones := bytes.NewReader(bytes.Repeat([]byte{0xff}, 64))
	id, err := NewCustomerOrderID(ones)
	if err != nil || id != "co-"+strings.Repeat("ff", 16) {
		t.Fatalf("NewCustomerOrderID = %q, %v", id, err)
	}
	txn, err := newTransactionID(ones)
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(txn) {
		t.Fatalf("newTransactionID = %q, %v", txn, err)
	}
	seq, err := newSeq(ones)
	if err != nil || seq != 1<<31-1 {
		t.Fatalf("newSeq of all-ones bytes = %d, %v; want 2^31-1", seq, err)
	}
	empty := bytes.NewReader(nil)
	if _, err := NewCustomerOrderID(empty); !errors.Is(err, io.EOF) {
		t.Errorf("NewCustomerOrderID from an empty reader = %v, want io.EOF", err)
	}
	if _, err := newTransactionID(empty); !errors.Is(err, io.EOF) {
		t.Errorf("newTransactionID from an empty reader = %v, want io.EOF", err)
	}
	if _, err := newSeq(empty); !errors.Is(err, io.EOF) {
		t.Errorf("newSeq from an empty reader = %v, want io.EOF", err)
	}
}

func TestNextDeadline(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	timers := map[fsm.TimerID]time.Time{
		fsm.TimerRetransmit: t0.Add(time.Second),
		fsm.TimerResponse:   t0.Add(time.Second),
		fsm.TimerValidity:   t0.Add(time.Hour),
	}
	tests := map[string]struct {
		dead   map[fsm.TimerID]time.Time
		wantID fsm.TimerID
		wantAt time.Time
		wantOK bool
	}{
		"tie goes to the smaller ID": {wantID: fsm.TimerResponse, wantAt: t0.Add(time.Second), wantOK: true},
		"dead timers are skipped": {
			dead:   map[fsm.TimerID]time.Time{fsm.TimerResponse: t0.Add(time.Second), fsm.TimerRetransmit: t0.Add(time.Second)},
			wantID: fsm.TimerValidity, wantAt: t0.Add(time.Hour), wantOK: true,
		},
		"a moved timer is alive again": {
			dead:   map[fsm.TimerID]time.Time{fsm.TimerResponse: t0},
			wantID: fsm.TimerResponse, wantAt: t0.Add(time.Second), wantOK: true,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			id, at, ok := nextDeadline(timers, tt.dead)
			if id != tt.wantID || !at.Equal(tt.wantAt) || ok != tt.wantOK {
				t.Fatalf("got %s %v %v, want %s %v %v", id, at, ok, tt.wantID, tt.wantAt, tt.wantOK)
			}
		})
	}
	if _, _, ok := nextDeadline(nil, nil); ok {
		t.Errorf("nextDeadline of no timers reported one")
	}
}

// TestAppendHistory: Order.History keeps the last MaxHistory transitions,
// oldest first, and appending never changes a History handed out before
// (Get, Events and the Store share the loop's arrays).
// Reference: RFC 8921 §8.11 ("Timestamps are also logged to track state
// change").
func TestAppendHistory(t *testing.T) {
	t.Parallel()
	tr := func(r string) fsm.Transition { return fsm.Transition{Reason: r} }
	trs := func(rs string) []fsm.Transition {
		var out []fsm.Transition
		for _, r := range rs {
			out = append(out, tr(string(r)))
		}
		return out
	}
	tests := map[string]struct {
		steps  []string // the transitions of each step
		maxLen int
		want   string
	}{
		"empty steps":        {steps: []string{"", ""}, maxLen: 3, want: ""},
		"under the bound":    {steps: []string{"ab", "", "c"}, maxLen: 64, want: "abc"},
		"at the bound":       {steps: []string{"ab", "c"}, maxLen: 3, want: "abc"},
		"drops the oldest":   {steps: []string{"ab", "cd"}, maxLen: 3, want: "bcd"},
		"one step too many":  {steps: []string{"abcde"}, maxLen: 3, want: "cde"},
		"long run":           {steps: []string{"abc", "de", "f", "ghij", "k", "lmnopq", "r"}, maxLen: 5, want: "nopqr"},
		"long run unbounded": {steps: []string{"abc", "de", "f", "ghij", "k", "lmnopq", "r"}, maxLen: 64, want: "abcdefghijklmnopqr"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var h []fsm.Transition
			type handed struct {
				h    []fsm.Transition
				want []fsm.Transition
			}
			var out []handed
			for _, step := range tc.steps {
				h = appendHistory(h, trs(step), tc.maxLen)
				if len(h) > tc.maxLen {
					t.Fatalf("got %d transitions, want at most %d", len(h), tc.maxLen)
				}
				p := publishedOrder(Order{History: h}).History
				if cap(p) != len(p) {
					t.Errorf("published history: got cap %d, want %d (clipped)", cap(p), len(p))
				}
				out = append(out, handed{h: p, want: append([]fsm.Transition(nil), p...)})
			}
			if diff := cmp.Diff(trs(tc.want), h, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			for i, o := range out {
				if diff := cmp.Diff(o.want, o.h); diff != "" {
					t.Errorf("history handed out after step %d changed later (-then +now):\n%s", i, diff)
				}
			}
		})
	}
}

func TestMetricsSnapshot(t *testing.T) {
	t.Parallel()
	var nilMetrics *Metrics
	nilMetrics.dropped(DropInvalid) // a nil *Metrics counts nothing
	if s := nilMetrics.Snapshot(); s.Drops[DropInvalid] != 0 || len(s.Drops) != len(DropReasons()) {
		t.Errorf("nil snapshot = %+v", s)
	}
	m := &Metrics{}
	m.sentMsg(wire.MethodAccept)
	m.sentMsg(wire.Method(99))
	m.roundTrip(3 * time.Millisecond)
	m.roundTrip(5 * time.Millisecond)
	m.dialFailed(true)
	m.dialFailed(false)
	m.eventDropped()
	s := m.Snapshot()
	if s.Sent[wire.MethodAccept] != 1 || len(s.Sent) != 1 || s.RoundTrips != 2 || s.RoundTripTime != 8*time.Millisecond ||
		s.HandshakeFailures != 1 || s.DialFailures != 1 || s.EventsDropped != 1 {
		t.Errorf("snapshot = %+v", s)
	}
	want := []string{"invalid", "client_method", "unknown_order", "wrong_server", "overload", "machine"}
	var got []string
	for _, r := range DropReasons() {
		got = append(got, r.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drop reason labels (-want +got):\n%s", diff)
	}
	if s := DropReason(42).String(); s != "DropReason(42)" {
		t.Errorf("unknown reason = %q", s)
	}
}

func TestStateErrorMessage(t *testing.T) {
	t.Parallel()
	err := error(&StateError{Command: "AcceptOffer", CustomerOrderID: "co-1", State: fsm.ClientCompleted, Reason: "no offer"})
	if got, want := err.Error(), "AcceptOffer refused in state Completed: no offer"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(err, ErrInvalidState) {
		t.Errorf("StateError does not match ErrInvalidState")
	}
}

// TestSendDeadline: an outbox's sends share one deadline context while at
// least the send timeout is left, each bounded by 1 to 1.5 send timeouts.
func TestSendDeadline(t *testing.T) {
	t.Parallel()
	parent, cancelParent := context.WithCancel(context.Background())
	defer cancelParent()
	var d sendDeadline
	defer d.stop()
	const timeout = time.Hour
	before := time.Now()
	first := d.next(parent, timeout)
	dl, ok := first.Deadline()
	if !ok || dl.Before(before.Add(timeout)) || dl.After(time.Now().Add(timeout+timeout/2)) {
		t.Fatalf("deadline: got %v (set %v), want between %v and 1.5× that from now", dl, ok, timeout)
	}
	if second := d.next(parent, timeout); second != first {
		t.Errorf("second send: got a new context, want the first one reused")
	}
	// Asking for more than is left renews it.
	if longer := d.next(parent, 2*timeout); longer == first || first.Err() == nil {
		t.Errorf("longer timeout: got the same context or the old one still live (err %v), want a new one", first.Err())
	}
	cancelParent()
	if got := d.next(parent, timeout); got.Err() == nil {
		t.Errorf("after the parent ended: got a live context, want an ended one")
	}
}

// TestOutboxCanWriteDirect: the loop writes a message itself only on a
// DTLS association whose outbox is idle (so that the messages to a server
// keep their order) and never a retransmission (§11.4), which the outbox
// sends after checking the association for silence.
// Reference: RFC 8921 §8.1 (DTLS), §11.4.
func TestOutboxCanWriteDirect(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		direct, retransmission, cancelled bool
		pending                           int64
		want                              bool
	}{
		"idle DTLS":         {direct: true, want: true},
		"TLS or own dial":   {direct: false},
		"retransmission":    {direct: true, retransmission: true},
		"messages queued":   {direct: true, pending: 1},
		"outbox stopped":    {direct: true, cancelled: true},
		"all against":       {retransmission: true, pending: 3, cancelled: true},
		"queue drained":     {direct: true, pending: 0, want: true},
		"one being written": {direct: true, pending: 1, retransmission: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ob := &outbox{ctx: ctx, direct: tc.direct}
			ob.pending.Store(tc.pending)
			if tc.cancelled {
				cancel()
			}
			if got := ob.canWriteDirect(tc.retransmission); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
