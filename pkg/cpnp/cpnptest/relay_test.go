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
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// TestRelayEcho sends datagrams through the relay to an echo server and
// checks what comes back and the counters, for the damage that has a
// certain outcome.
// Reference: RFC 8921 §8.1 (CPNP over UDP), §11.4 (what loss and
// duplication the protocol must survive).
func TestRelayEcho(t *testing.T) {
	t.Parallel()
	const n = 40
	clean := &cpnptest.Impairment{}
	tests := map[string]struct {
		cfg        cpnptest.RelayConfig
		wantEach   int // copies of each payload back at the client
		wantServer cpnptest.DirStats
		wantClient cpnptest.DirStats
	}{
		"no damage: all arrive": {
			wantEach:   1,
			wantServer: cpnptest.DirStats{Received: n, Forwarded: n},
			wantClient: cpnptest.DirStats{Received: n, Forwarded: n},
		},
		"Drop=1: none arrive": {
			cfg:        cpnptest.RelayConfig{Drop: 1},
			wantServer: cpnptest.DirStats{Received: n, Dropped: n},
		},
		"Drop=1 toward clients only: the server gets all, clients none": {
			cfg:        cpnptest.RelayConfig{ToClient: &cpnptest.Impairment{Drop: 1}},
			wantServer: cpnptest.DirStats{Received: n, Forwarded: n},
			wantClient: cpnptest.DirStats{Received: n, Dropped: n},
		},
		"Duplicate=1 toward the server: each arrives twice": {
			cfg:        cpnptest.RelayConfig{Duplicate: 1, ToClient: clean},
			wantEach:   2,
			wantServer: cpnptest.DirStats{Received: n, Duplicated: n, Forwarded: 2 * n},
			wantClient: cpnptest.DirStats{Received: 2 * n, Forwarded: 2 * n},
		},
		"Duplicate=1 both ways: each arrives four times": {
			cfg:        cpnptest.RelayConfig{Duplicate: 1},
			wantEach:   4,
			wantServer: cpnptest.DirStats{Received: n, Duplicated: n, Forwarded: 2 * n},
			wantClient: cpnptest.DirStats{Received: 2 * n, Duplicated: 2 * n, Forwarded: 4 * n},
		},
		"Drop=1 wins over Duplicate=1": {
			cfg:        cpnptest.RelayConfig{Drop: 1, Duplicate: 1, Reorder: 1},
			wantServer: cpnptest.DirStats{Received: n, Dropped: n},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newUDPServer(t, true)
			tc.cfg.Target = srv.addr()
			r := newRelay(t, tc.cfg)
			c := dial(t, r)
			sent := payloads("echo", n)
			for _, p := range sent {
				send(t, c, p)
			}
			want := cpnptest.RelayStats{ToServer: tc.wantServer, ToClient: tc.wantClient, Peers: 1}
			var got cpnptest.RelayStats
			eventually(t, "the relay's counters to settle", func() bool {
				got = r.Stats()
				return cmp.Equal(want, got)
			})
			back := readN(t, c, tc.wantEach*n)
			wantCounts := map[string]int{}
			if tc.wantEach > 0 {
				for _, p := range sent {
					wantCounts[p] = tc.wantEach
				}
			}
			if diff := cmp.Diff(wantCounts, counts(back), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("datagrams back at the client (-want +got):\n%s", diff)
			}
			if tc.wantServer.Forwarded == 0 {
				if got := srv.received(); len(got) != 0 {
					t.Errorf("the server received %d datagrams, want none", len(got))
				}
			}
		})
	}
}

// TestRelayDeterministic checks that the relay's random decisions depend
// only on the seed and the order of datagrams: two runs with the same seed
// deliver the same datagrams the same number of times; another seed
// differs.
func TestRelayDeterministic(t *testing.T) {
	t.Parallel()
	const n = 64
	run := func(t *testing.T, seed int64) []int {
		t.Helper()
		srv := newUDPServer(t, false)
		r := newRelay(t, cpnptest.RelayConfig{Target: srv.addr(), Seed: seed, Drop: 0.3, Duplicate: 0.3})
		c := dial(t, r)
		sent := payloads("seed", n)
		sendInOrder(t, r, c, sent)
		eventually(t, "the relay to settle", func() bool { return settled(r.Stats()) })
		st := r.Stats().ToServer
		eventually(t, "the server to receive every forwarded datagram", func() bool {
			return uint64(len(srv.received())) == st.Forwarded
		})
		got := counts(srv.received())
		fates := make([]int, n)
		for i, p := range sent {
			fates[i] = got[p]
		}
		return fates
	}
	a, b, other := run(t, 42), run(t, 42), run(t, 43)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different fates (-first +second):\n%s", diff)
	}
	if cmp.Equal(a, other) {
		t.Errorf("seeds 42 and 43 gave the same %d fates %v, want different", n, a)
	}
	seen := map[int]int{}
	for _, f := range a {
		seen[f]++
	}
	for _, f := range []int{0, 1, 2} {
		if seen[f] == 0 {
			t.Errorf("no datagram delivered %d times out of %d (fates %v); the damage is not random", f, n, a)
		}
	}
}

// TestRelayReorder checks that a reordered datagram goes after the next
// one of its flow: with Reorder=1 and a long window, pairs swap.
func TestRelayReorder(t *testing.T) {
	t.Parallel()
	srv := newUDPServer(t, false)
	r := newRelay(t, cpnptest.RelayConfig{Target: srv.addr(), Reorder: 1, ReorderWindow: time.Hour})
	c := dial(t, r)
	sendInOrder(t, r, c, []string{"0", "1", "2", "3", "4", "5"})
	eventually(t, "six datagrams at the server", func() bool { return len(srv.received()) == 6 })
	if diff := cmp.Diff([]string{"1", "0", "3", "2", "5", "4"}, srv.received()); diff != "" {
		t.Errorf("arrival order (-want +got):\n%s", diff)
	}
	if got := r.Stats().ToServer.Reordered; got != 3 {
		t.Errorf("Reordered: got %d, want 3", got)
	}
}

// TestRelayDelays checks the lower bounds of the delays: a datagram never
// arrives before Delay, nor a lone reordered one before its window.
func TestRelayDelays(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		cfg      cpnptest.RelayConfig
		atLeast  time.Duration
		reorders uint64
	}{
		"delay and jitter":          {cfg: cpnptest.RelayConfig{Delay: 40 * time.Millisecond, Jitter: 20 * time.Millisecond}, atLeast: 40 * time.Millisecond},
		"lone datagram held back":   {cfg: cpnptest.RelayConfig{Reorder: 1, ReorderWindow: 30 * time.Millisecond}, atLeast: 30 * time.Millisecond, reorders: 1},
		"toward the server only":    {cfg: cpnptest.RelayConfig{ToServer: &cpnptest.Impairment{Delay: 30 * time.Millisecond}, ToClient: &cpnptest.Impairment{}}, atLeast: 30 * time.Millisecond},
		"both ways add up on echos": {cfg: cpnptest.RelayConfig{Delay: 25 * time.Millisecond}, atLeast: 50 * time.Millisecond},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newUDPServer(t, true)
			tc.cfg.Target = srv.addr()
			r := newRelay(t, tc.cfg)
			c := dial(t, r)
			start := time.Now()
			send(t, c, "ping")
			readN(t, c, 1)
			if got := time.Since(start); got < tc.atLeast {
				t.Errorf("round trip took %v, want at least %v", got, tc.atLeast)
			}
			if got := r.Stats().ToServer.Reordered; got != tc.reorders {
				t.Errorf("Reordered: got %d, want %d", got, tc.reorders)
			}
		})
	}
}

// TestRelayPauseResume checks the partition: while paused nothing passes,
// not even what was already queued; after Resume traffic flows again. This
// is how tests make the server unreachable (RFC 8921 §11.4: the client
// gives up after its retries).
func TestRelayPauseResume(t *testing.T) {
	t.Parallel()
	srv := newUDPServer(t, true)
	r := newRelay(t, cpnptest.RelayConfig{Target: srv.addr()})
	c := dial(t, r)

	r.Pause()
	sendInOrder(t, r, c, payloads("paused", 10))
	if got := r.Stats().ToServer; got.Partitioned != 10 || got.Forwarded != 0 {
		t.Errorf("while paused: got Partitioned %d, Forwarded %d; want 10, 0", got.Partitioned, got.Forwarded)
	}
	r.Resume()
	resumed := payloads("resumed", 10)
	for _, p := range resumed {
		send(t, c, p)
	}
	back := readN(t, c, 10)
	if diff := cmp.Diff(counts(resumed), counts(back)); diff != "" {
		t.Errorf("after Resume (-want +got):\n%s", diff)
	}
	for _, p := range srv.received() {
		if strings.HasPrefix(p, "paused") {
			t.Errorf("the server received %q, sent while paused", p)
		}
	}
}

// TestRelayPauseDropsQueued checks that a partition also drops the
// datagrams that were in flight (delayed inside the relay), and that they
// do not come back after Resume.
func TestRelayPauseDropsQueued(t *testing.T) {
	t.Parallel()
	srv := newUDPServer(t, false)
	r := newRelay(t, cpnptest.RelayConfig{Target: srv.addr(), Delay: 50 * time.Millisecond, Reorder: 0.5})
	c := dial(t, r)
	sendInOrder(t, r, c, payloads("queued", 5))
	r.Pause()
	st := r.Stats()
	if st.Queued != 0 || st.ToServer.Partitioned+st.ToServer.Forwarded != 5 {
		t.Errorf("after Pause: got Queued %d, Partitioned %d, Forwarded %d; want 0 queued, the 5 partitioned or forwarded before",
			st.Queued, st.ToServer.Partitioned, st.ToServer.Forwarded)
	}
	r.Resume()
	sendInOrder(t, r, c, []string{"after"})
	eventually(t, "the datagram sent after Resume", func() bool {
		got := srv.received()
		return len(got) > 0 && got[len(got)-1] == "after"
	})
	if got, want := uint64(len(srv.received())), st.ToServer.Forwarded+1; got != want {
		t.Errorf("the server received %d datagrams, want %d (those forwarded before Pause, and the one after Resume)", got, want)
	}
}

// TestRelayPeers checks that each client address gets its own upstream
// socket (the server sees distinct peers) and its own replies.
// Reference: RFC 8921 §8.1 (the server replies to the source port of the
// request).
func TestRelayPeers(t *testing.T) {
	t.Parallel()
	srv := newUDPServer(t, true)
	r := newRelay(t, cpnptest.RelayConfig{Target: srv.addr()})
	clients := []*net.UDPConn{dial(t, r), dial(t, r), dial(t, r)}
	for i, c := range clients {
		for _, p := range payloads(string(rune('a'+i)), 5) {
			send(t, c, p)
		}
	}
	for i, c := range clients {
		back := readN(t, c, 5)
		if diff := cmp.Diff(counts(payloads(string(rune('a'+i)), 5)), counts(back)); diff != "" {
			t.Errorf("client %d got others' replies (-want +got):\n%s", i, diff)
		}
	}
	if got := srv.sourceCount(); got != 3 {
		t.Errorf("the server saw %d source addresses, want 3", got)
	}
	if got := r.Stats().Peers; got != 3 {
		t.Errorf("Peers: got %d, want 3", got)
	}
}

// TestRelayIdleTimeout checks that an idle client address loses its
// upstream socket, and that it gets a new one (a new source port at the
// server, as after a NAT rebinding) when it speaks again.
func TestRelayIdleTimeout(t *testing.T) {
	t.Parallel()
	srv := newUDPServer(t, true)
	r := newRelay(t, cpnptest.RelayConfig{Target: srv.addr(), IdleTimeout: 50 * time.Millisecond})
	c := dial(t, r)
	send(t, c, "first")
	readN(t, c, 1)
	eventually(t, "the idle peer to be reaped", func() bool { return r.Stats().Peers == 0 })
	send(t, c, "second")
	readN(t, c, 1)
	if got := srv.sourceCount(); got != 2 {
		t.Errorf("the server saw %d source addresses, want 2 (a new upstream socket after the idle timeout)", got)
	}
}

// TestRelayBounds checks the limits: peers, queue and datagram size.
func TestRelayBounds(t *testing.T) {
	t.Parallel()
	t.Run("MaxPeers", func(t *testing.T) {
		t.Parallel()
		srv := newUDPServer(t, true)
		r := newRelay(t, cpnptest.RelayConfig{Target: srv.addr(), MaxPeers: 1})
		a, b := dial(t, r), dial(t, r)
		send(t, a, "a")
		readN(t, a, 1)
		send(t, b, "b")
		eventually(t, "the second client to be refused", func() bool { return r.Stats().ToServer.Refused == 1 })
		if got := srv.received(); !cmp.Equal(got, []string{"a"}) {
			t.Errorf("the server received %q, want only a", got)
		}
	})
	t.Run("MaxQueue", func(t *testing.T) {
		t.Parallel()
		srv := newUDPServer(t, false)
		r := newRelay(t, cpnptest.RelayConfig{Target: srv.addr(), MaxQueue: 3, Delay: time.Hour})
		c := dial(t, r)
		sendInOrder(t, r, c, payloads("q", 5))
		st := r.Stats()
		if st.Queued != 3 || st.ToServer.Overflow != 2 {
			t.Errorf("got Queued %d, Overflow %d; want 3, 2", st.Queued, st.ToServer.Overflow)
		}
		// Close does not wait for the hour-long delay (the cleanup closes it).
	})
	t.Run("MaxDatagram toward clients", func(t *testing.T) {
		t.Parallel()
		srv := newUDPServerAt(t, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, func(s string) string {
			if s == "big" {
				return strings.Repeat("z", 101)
			}
			return s
		})
		r := newRelay(t, cpnptest.RelayConfig{Target: srv.addr(), MaxDatagram: 100})
		c := dial(t, r)
		send(t, c, "big")
		eventually(t, "the oversize answer to be dropped", func() bool { return r.Stats().ToClient.Oversize == 1 })
		send(t, c, "small")
		if got := readN(t, c, 1); got[0] != "small" {
			t.Errorf("got %q back, want %q", got[0], "small")
		}
	})
	t.Run("MaxDatagram", func(t *testing.T) {
		t.Parallel()
		srv := newUDPServer(t, true)
		r := newRelay(t, cpnptest.RelayConfig{Target: srv.addr(), MaxDatagram: 100})
		c := dial(t, r)
		send(t, c, strings.Repeat("x", 101))
		eventually(t, "the oversize datagram to be dropped", func() bool { return r.Stats().ToServer.Oversize == 1 })
		fits := strings.Repeat("y", 100)
		send(t, c, fits)
		if got := readN(t, c, 1); got[0] != fits {
			t.Errorf("got %d bytes back, want the 100-byte datagram", len(got[0]))
		}
	})
}

// TestRelayConfig checks validation, defaults and SetConfig.
func TestRelayConfig(t *testing.T) {
	t.Parallel()
	invalid := map[string]struct {
		cfg        cpnptest.RelayConfig
		wantFields []string
	}{
		"no target":           {cfg: cpnptest.RelayConfig{}, wantFields: []string{"Target"}},
		"probabilities":       {cfg: cpnptest.RelayConfig{Target: "x:1", Drop: -0.1, Duplicate: 1.5, Reorder: nan()}, wantFields: []string{"Drop", "Duplicate", "Reorder"}},
		"negative delays":     {cfg: cpnptest.RelayConfig{Target: "x:1", Delay: -1, Jitter: -1}, wantFields: []string{"Delay", "Jitter"}},
		"absurd jitter":       {cfg: cpnptest.RelayConfig{Target: "x:1", Jitter: 2 * time.Hour}, wantFields: []string{"Jitter"}},
		"bad overrides":       {cfg: cpnptest.RelayConfig{Target: "x:1", ToServer: &cpnptest.Impairment{Drop: 2}, ToClient: &cpnptest.Impairment{Delay: -1}}, wantFields: []string{"ToServer.Drop", "ToClient.Delay"}},
		"negative limits":     {cfg: cpnptest.RelayConfig{Target: "x:1", ReorderWindow: -1, MaxQueue: -1, MaxPeers: -1, IdleTimeout: -1, MaxDatagram: -1}, wantFields: []string{"ReorderWindow", "MaxQueue", "MaxPeers", "IdleTimeout", "MaxDatagram"}},
		"several fields, all": {cfg: cpnptest.RelayConfig{Drop: 2}, wantFields: []string{"Target", "Drop"}},
	}
	for name, tc := range invalid {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if !errors.Is(err, cpnptest.ErrInvalidRelayConfig) {
				t.Fatalf("Validate: got %v, want an error matching ErrInvalidRelayConfig", err)
			}
			var fields []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var ce *cpnptest.RelayConfigError
				if errors.As(e, &ce) {
					fields = append(fields, ce.Field)
				}
			}
			if diff := cmp.Diff(tc.wantFields, fields); diff != "" {
				t.Errorf("fields reported (-want +got):\n%s", diff)
			}
			if _, err := cpnptest.NewRelay(tc.cfg); !errors.Is(err, cpnptest.ErrInvalidRelayConfig) {
				t.Errorf("NewRelay: got %v, want an error matching ErrInvalidRelayConfig", err)
			}
		})
	}

	t.Run("unresolvable addresses", func(t *testing.T) {
		t.Parallel()
		for _, cfg := range []cpnptest.RelayConfig{
			{Target: "127.0.0.1:notaport"},
			{Target: "127.0.0.1:9", Listen: "127.0.0.1:notaport"},
		} {
			if r, err := cpnptest.NewRelay(cfg); err == nil {
				_ = r.Close()
				t.Errorf("NewRelay(%+v): got no error, want one", cfg)
			}
		}
	})

	t.Run("defaults and SetConfig", func(t *testing.T) {
		t.Parallel()
		srv := newUDPServer(t, true)
		r := newRelay(t, cpnptest.RelayConfig{Target: srv.addr(), Seed: 5})
		want := cpnptest.RelayConfig{
			Target: srv.addr(), Listen: cpnptest.DefaultRelayListen, Seed: 5,
			ReorderWindow: cpnptest.DefaultRelayReorderWindow, MaxQueue: cpnptest.DefaultRelayMaxQueue,
			MaxPeers: cpnptest.DefaultRelayMaxPeers, IdleTimeout: cpnptest.DefaultRelayIdleTimeout,
			MaxDatagram: cpnptest.DefaultRelayMaxDatagram,
		}
		if diff := cmp.Diff(want, r.Config()); diff != "" {
			t.Errorf("Config() (-want +got):\n%s", diff)
		}
		c := dial(t, r)
		send(t, c, "before")
		readN(t, c, 1)

		cfg := r.Config()
		cfg.Drop = 1
		if err := r.SetConfig(cfg); err != nil {
			t.Fatalf("SetConfig(Drop=1): %v", err)
		}
		sendInOrder(t, r, c, []string{"lost"})
		if got := r.Stats().ToServer.Dropped; got != 1 {
			t.Errorf("Dropped after SetConfig(Drop=1): got %d, want 1", got)
		}

		for name, change := range map[string]func(*cpnptest.RelayConfig){
			"Target":      func(c *cpnptest.RelayConfig) { c.Target = "127.0.0.1:9" },
			"Seed":        func(c *cpnptest.RelayConfig) { c.Seed = 6 },
			"MaxQueue":    func(c *cpnptest.RelayConfig) { c.MaxQueue = 1 },
			"IdleTimeout": func(c *cpnptest.RelayConfig) { c.IdleTimeout = time.Second },
			"Drop":        func(c *cpnptest.RelayConfig) { c.Drop = 3 },
		} {
			cfg := r.Config()
			change(&cfg)
			err := r.SetConfig(cfg)
			var ce *cpnptest.RelayConfigError
			if !errors.As(err, &ce) || ce.Field != name || !errors.Is(err, cpnptest.ErrInvalidRelayConfig) {
				t.Errorf("SetConfig changing %s: got %v, want a *RelayConfigError for %s", name, err, name)
			}
		}
		if got := r.Config().Drop; got != 1 {
			t.Errorf("a refused SetConfig changed Drop to %v, want 1", got)
		}
	})
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

// relayGoroutines returns the stacks of the goroutines that run relay code.
func relayGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "cpnptest.(*Relay)") {
			out = append(out, g)
		}
	}
	return out
}

// TestRelayCloseLeaksNothing checks that Close stops every goroutine the
// relay started (readers per peer, the scheduler) even with datagrams
// queued, and that a second Close is a no-op. It is not parallel, so no
// other test's relay is running.
func TestRelayCloseLeaksNothing(t *testing.T) {
	if left := relayGoroutines(); len(left) != 0 {
		t.Fatalf("relay goroutines running before the test:\n%s", strings.Join(left, "\n\n"))
	}
	srv := newUDPServer(t, true)
	r, err := cpnptest.NewRelay(cpnptest.RelayConfig{Target: srv.addr(), Delay: 10 * time.Minute, ToClient: &cpnptest.Impairment{}})
	if err != nil {
		t.Fatalf("NewRelay: %v", err)
	}
	for i := range 4 {
		c := dial(t, r)
		send(t, c, string(rune('a'+i)))
	}
	eventually(t, "four peers with queued datagrams", func() bool {
		st := r.Stats()
		return st.Peers == 4 && st.Queued == 4
	})
	if got := len(relayGoroutines()); got != 2+4 {
		t.Errorf("relay goroutines while running: got %d, want 6 (client reader, scheduler, one reader per peer)", got)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close waited for its goroutines; give the runtime a moment to
	// retire the exited ones.
	eventually(t, "no relay goroutine left", func() bool { return len(relayGoroutines()) == 0 })
	if err := r.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if got := r.Stats().Peers; got != 0 {
		t.Errorf("Peers after Close: got %d, want 0", got)
	}
}

// TestRelayServerRestart checks that the relay keeps a client's upstream
// socket usable while the server is down (ICMP port unreachable makes the
// socket report ECONNREFUSED) and forwards again once it is back on the
// same port, as for a kill -9 and restart of the server (DESIGN §4
// "Persistence").
func TestRelayServerRestart(t *testing.T) {
	t.Parallel()
	down, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := down.LocalAddr().(*net.UDPAddr)
	if err := down.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	r := newRelay(t, cpnptest.RelayConfig{Target: addr.String()})
	c := dial(t, r)
	sendInOrder(t, r, c, payloads("nobody", 5))
	eventually(t, "the relay to settle", func() bool { return settled(r.Stats()) })

	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		t.Skipf("cannot listen on %v again (taken meanwhile): %v", addr, err)
	}
	_ = conn.Close()
	srv := newUDPServerAt(t, addr, func(s string) string { return s })
	send(t, c, "back")
	if got := readN(t, c, 1); got[0] != "back" {
		t.Errorf("got %q, want %q", got[0], "back")
	}
	if got := srv.received(); !cmp.Equal(got, []string{"back"}) {
		t.Errorf("the restarted server received %q, want [back]", got)
	}
}
