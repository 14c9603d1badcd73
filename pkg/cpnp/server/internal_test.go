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
	"bytes"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestCapacityOf: capacity is summed per direction over the components as
// the default policy accounts for it (RFC 7297 §3.5).
func TestCapacityOf(t *testing.T) {
	t.Parallel()
	comp := func(in, out cpd.Value) cpd.Component {
		return cpd.Component{CustomerNodes: []cpd.CustomerNode{{Identifier: "n"}}, Capacity: &cpd.Capacity{IncomingBps: in, OutgoingBps: out}}
	}
	tests := map[string]struct {
		c       cpd.CPD
		in, out int64
	}{
		"empty":           {cpd.Empty(), 0, 0},
		"no capacity":     {cpd.CPD{Components: []cpd.Component{{CustomerNodes: []cpd.CustomerNode{{Identifier: "n"}}}}}, 0, 0},
		"fixed":           {cpd.CPD{Components: []cpd.Component{comp(cpd.Fixed(10), cpd.Fixed(20))}}, 10, 20},
		"two components":  {cpd.CPD{Components: []cpd.Component{comp(cpd.Fixed(10), cpd.Value{}), comp(cpd.Fixed(5), cpd.Fixed(1.5))}}, 15, 2},
		"range takes max": {cpd.CPD{Components: []cpd.Component{comp(cpd.Between(1, 9), cpd.AtLeast(4))}}, 9, 4},
		"negative":        {cpd.CPD{Components: []cpd.Component{comp(cpd.Fixed(-3), cpd.Fixed(0))}}, 0, 0},
		"saturates": {cpd.CPD{Components: []cpd.Component{comp(cpd.Fixed(1e300), cpd.Fixed(1)), comp(cpd.Fixed(1e300), cpd.Fixed(1))}},
			policy.MaxBps, 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in, out := capacityOf(tc.c)
			if in != tc.in || out != tc.out {
				t.Errorf("capacityOf: got %d/%d, want %d/%d", in, out, tc.in, tc.out)
			}
		})
	}
}

// TestRandomValues: identifiers and nonces are 128-bit hex (§8.4, §9.1.5,
// §13), first sequence numbers below 2^31; a failing source is an error.
func TestRandomValues(t *testing.T) {
	t.Parallel()
	r := bytes.NewReader(bytes.Repeat([]byte{0xff}, 64))
	f, err := fresh(r, wire.MethodQuotation)
	if err != nil {
		t.Fatalf("fresh: %v", err)
	}
	if f.ProviderOrderID != "po-"+strings.Repeat("f", 32) || f.Nonce != strings.Repeat("f", 32) || f.Seq != 1<<31-1 {
		t.Errorf("fresh: got %+v, want po-fff..., fff..., 2^31-1", f)
	}
	if f, err := fresh(r, wire.MethodAccept); err != nil || f != (fsm.Fresh{}) {
		t.Errorf("fresh(ACCEPT): got %+v %v, want nothing drawn", f, err)
	}
	need := map[wire.Method]int{wire.MethodQuotation: 36, wire.MethodUpdate: 20}
	for m, max := range need {
		for _, n := range []int{0, 3, 16, 19, max - 1} {
			src := iotest.ErrReader(errors.New("no entropy"))
			if n > 0 {
				src = &limited{data: bytes.Repeat([]byte{1}, n)}
			}
			if _, err := fresh(src, m); err == nil {
				t.Errorf("fresh(%s) with %d random bytes: got nil, want an error", m, n)
			}
		}
	}
}

// TestFreshDrawsInOrder: fresh's one read gives each value the bytes that
// providerOrderID, hexID and firstSeq, called one after the other, give
// it, so that a QUOTATION and an UPDATE draw what they drew before.
// Reference: RFC 8921 §8.4, §9.1.2, §9.1.5, §11.3, §13.
func TestFreshDrawsInOrder(t *testing.T) {
	t.Parallel()
	src := make([]byte, 36)
	for i := range src {
		src[i] = byte(i*37 + 11)
	}
	for _, m := range []wire.Method{wire.MethodQuotation, wire.MethodUpdate, wire.MethodWithdraw, wire.MethodActivate} {
		t.Run(m.String(), func(t *testing.T) {
			t.Parallel()
			r := bytes.NewReader(src)
			var want fsm.Fresh
			var err error
			if m == wire.MethodQuotation {
				if want.ProviderOrderID, err = providerOrderID(r); err != nil {
					t.Fatal(err)
				}
			}
			if want.Nonce, err = hexID(r); err != nil {
				t.Fatal(err)
			}
			if want.Seq, err = firstSeq(r); err != nil {
				t.Fatal(err)
			}
			got, err := fresh(bytes.NewReader(src), m)
			if err != nil {
				t.Fatalf("fresh: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("fresh (-one value at a time +one read):\n%s", diff)
			}
		})
	}
}

// limited returns data then an error.
type limited struct{ data []byte }

func (l *limited) Read(p []byte) (int, error) {
	if len(l.data) == 0 {
		return 0, errors.New("exhausted")
	}
	n := copy(p, l.data)
	l.data = l.data[n:]
	return n, nil
}

func TestRemoteIPAndFilter(t *testing.T) {
	t.Parallel()
	c := Config{AllowedSources: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}}
	tests := []struct {
		addr net.Addr
		ip   string
		ok   bool
	}{
		{&net.UDPAddr{IP: net.ParseIP("10.1.2.3"), Port: 1}, "10.1.2.3", true},
		{&net.UDPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 1}, "10.1.2.3", true},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1}, "192.0.2.1", false},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1}, "2001:db8::1", true},
		{fakeAddr("192.0.2.9:80"), "192.0.2.9", false},
		{fakeAddr("nonsense"), "invalid IP", false},
		{nil, "invalid IP", false},
	}
	for _, tc := range tests {
		ip := remoteIP(tc.addr)
		if ip.String() != tc.ip {
			t.Errorf("remoteIP(%v): got %s, want %s", tc.addr, ip, tc.ip)
		}
		if got := c.allowed(ip); got != tc.ok {
			t.Errorf("allowed(%s): got %v, want %v", ip, got, tc.ok)
		}
	}
	if !(Config{}).allowed(netip.Addr{}) {
		t.Errorf("an empty filter must allow everything")
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "fake" }
func (a fakeAddr) String() string  { return string(a) }

func TestSeqOf(t *testing.T) {
	t.Parallel()
	tests := map[string]uint32{
		`{"sequence_number":42}`:         42,
		`{"sequence_number":"42"}`:       42, // best effort: a numeric string is read too
		`{"sequence_number":-1}`:         0,
		`{"sequence_number":4294967296}`: 0,
		`{"sequence_number":4294967295}`: 4294967295,
		`not json`:                       0,
		`{"version":1}`:                  0,
	}
	for in, want := range tests {
		if got := seqOf([]byte(in)); got != want {
			t.Errorf("seqOf(%s): got %d, want %d", in, got, want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{&badRequestError{errors.New("x")}, 400},
		{&OrderError{Err: ErrOrderNotFound}, 404},
		{&OrderError{Err: ErrNotHeld}, 409},
		{&OrderError{Err: ErrNotNegotiating}, 409},
		{ErrServerClosed, 503},
		{ErrStoreFailed, 503},
	}
	for _, tc := range tests {
		if got := statusOf(tc.err); got != tc.want {
			t.Errorf("statusOf(%v): got %d, want %d", tc.err, got, tc.want)
		}
	}
	if u := (&badRequestError{ErrNotHeld}).Unwrap(); !errors.Is(u, ErrNotHeld) {
		t.Errorf("Unwrap: got %v", u)
	}
}

// TestDeadlineHeap: deadlines come out earliest first, whatever order they
// went in, duplicates included (RFC 8921 §11.4: the loop fires each
// order's earliest timer).
func TestDeadlineHeap(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	offsets := []int{5, 3, 9, 1, 1, 7, 0, 8, 2, 6, 4, 3}
	var h deadlineHeap
	for i, o := range offsets {
		h.push(deadline{at: base.Add(time.Duration(o) * time.Second), poid: strconv.Itoa(i)})
	}
	var got []int
	for len(h) > 0 {
		got = append(got, int(h.pop().at.Sub(base)/time.Second))
	}
	want := slices.Clone(offsets)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pop order (-want +got):\n%s", diff)
	}
}

// TestSummaryNextDeadlineIncludesChild checks that the admin API's next
// deadline of an order is the earliest timer armed for it, its child
// order's included (the loop wakes the order for both, nextTimer).
// Reference: RFC 8921 §8.5, §8.8.
func TestSummaryNextDeadlineIncludesChild(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	own, child := now.Add(time.Minute), now.Add(10*time.Second)
	r := &record{Order: fsm.ServerOrder{
		Timers: map[fsm.TimerID]time.Time{fsm.TimerValidity: own},
		Child:  &fsm.ChildOrder{Order: fsm.ClientOrder{Timers: map[fsm.TimerID]time.Time{fsm.TimerRetransmit: child}}},
	}}
	if got := summaryOf(r, now).NextDeadline; got == nil || !got.Equal(child) {
		t.Errorf("next deadline with a child timer: got %v, want %v", got, child)
	}
	r.Order.Child = nil
	if got := summaryOf(r, now).NextDeadline; got == nil || !got.Equal(own) {
		t.Errorf("next deadline without a child: got %v, want %v", got, own)
	}
}

// zeroReader is an endless source of zero bytes.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// BenchmarkFresh measures the random values of a QUOTATION (§8.4, §13),
// drawn for every new order (issue #3).
func BenchmarkFresh(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fresh(zeroReader{}, wire.MethodQuotation); err != nil {
			b.Fatal(err)
		}
	}
}
