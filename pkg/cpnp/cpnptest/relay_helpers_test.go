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

package cpnptest_test

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// wait bounds every poll of the relay tests; it is reached only on failure.
const wait = 15 * time.Second

// eventually polls cond until it holds, failing the test after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", wait, what)
		}
		<-tick.C
	}
}

// udpServer stands for the CPNP server behind the relay: it records every
// datagram it receives and, if answer is set, sends answer(datagram) back
// to its source.
type udpServer struct {
	conn   *net.UDPConn
	answer func(string) string
	done   chan struct{}

	mu      sync.Mutex
	got     []string       // payloads, in arrival order
	sources map[string]int // datagrams per source address
}

// newUDPServer starts a server on a free loopback port; with echo, it
// answers each datagram with itself.
func newUDPServer(t *testing.T, echo bool) *udpServer {
	t.Helper()
	var answer func(string) string
	if echo {
		answer = func(s string) string { return s }
	}
	return newUDPServerAt(t, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, answer)
}

// newUDPServerAt starts a server on addr that answers with answer (nil:
// never).
func newUDPServerAt(t *testing.T, addr *net.UDPAddr, answer func(string) string) *udpServer {
	t.Helper()
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &udpServer{conn: conn, answer: answer, done: make(chan struct{}), sources: map[string]int{}}
	go s.run()
	t.Cleanup(func() {
		_ = conn.Close()
		<-s.done
	})
	return s
}

func (s *udpServer) run() {
	defer close(s.done)
	buf := make([]byte, 65536)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.mu.Lock()
		s.got = append(s.got, string(buf[:n]))
		s.sources[from.String()]++
		s.mu.Unlock()
		if s.answer != nil {
			_, _ = s.conn.WriteToUDP([]byte(s.answer(string(buf[:n]))), from)
		}
	}
}

func (s *udpServer) addr() string { return s.conn.LocalAddr().String() }

// received returns the payloads received so far, in order.
func (s *udpServer) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// sourceCount returns the number of distinct source addresses seen.
func (s *udpServer) sourceCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sources)
}

// newRelay starts a relay in front of target and closes it at the end.
func newRelay(t *testing.T, cfg cpnptest.RelayConfig) *cpnptest.Relay {
	t.Helper()
	r, err := cpnptest.NewRelay(cfg)
	if err != nil {
		t.Fatalf("NewRelay: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

// dial returns a UDP socket connected to the relay.
func dial(t *testing.T, r *cpnptest.Relay) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, r.Addr().(*net.UDPAddr))
	if err != nil {
		t.Fatalf("dial relay: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func send(t *testing.T, c *net.UDPConn, payload string) {
	t.Helper()
	if _, err := c.Write([]byte(payload)); err != nil {
		t.Fatalf("write %q: %v", payload, err)
	}
}

// sendInOrder sends the payloads one at a time, each only once the relay
// has taken the previous one, so the relay sees them in this order.
func sendInOrder(t *testing.T, r *cpnptest.Relay, c *net.UDPConn, payloads []string) {
	t.Helper()
	base := r.Stats().ToServer.Received
	for i, p := range payloads {
		send(t, c, p)
		want := base + uint64(i) + 1
		eventually(t, fmt.Sprintf("the relay to receive datagram %d", i), func() bool {
			return r.Stats().ToServer.Received >= want
		})
	}
}

// readN reads n datagrams from c, failing after wait.
func readN(t *testing.T, c *net.UDPConn, n int) []string {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		t.Fatalf("SetReadDeadline: %v", err)
	}
	var got []string
	buf := make([]byte, 65536)
	for len(got) < n {
		m, err := c.Read(buf)
		if err != nil {
			t.Fatalf("read datagram %d of %d: %v (got %q)", len(got)+1, n, err, got)
		}
		got = append(got, string(buf[:m]))
	}
	return got
}

// payloads returns n distinct payloads with prefix.
func payloads(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

// counts returns how many times each payload occurs.
func counts(got []string) map[string]int {
	m := map[string]int{}
	for _, g := range got {
		m[g]++
	}
	return m
}

// settled reports whether every datagram the relay took has been dealt
// with: nothing is queued and each direction's books balance.
func settled(s cpnptest.RelayStats) bool {
	for _, d := range []cpnptest.DirStats{s.ToServer, s.ToClient} {
		out := d.Forwarded + d.WriteErrors + d.Dropped + d.Partitioned + d.Overflow + d.Refused + d.Oversize
		if out != d.Received+d.Duplicated {
			return false
		}
	}
	return s.Queued == 0
}
