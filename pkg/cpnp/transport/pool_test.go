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
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// fakeConn is a Conn without a network, for Pool tests.
type fakeConn struct {
	addr   string
	done   chan struct{}
	closed sync.Once
}

func newFakeConn(addr string) *fakeConn { return &fakeConn{addr: addr, done: make(chan struct{})} }

func (c *fakeConn) ReadMessage(ctx context.Context) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (c *fakeConn) WriteMessage(context.Context, []byte) error { return nil }
func (c *fakeConn) Identity() string                           { return "server" }
func (c *fakeConn) RemoteAddr() net.Addr                       { return stringAddr(c.addr) }
func (c *fakeConn) LocalAddr() net.Addr                        { return stringAddr("local") }
func (c *fakeConn) Done() <-chan struct{}                      { return c.done }
func (c *fakeConn) Close() error                               { c.closed.Do(func() { close(c.done) }); return nil }

// fakeDialer counts dials per address; dials wait for release when gated.
type fakeDialer struct {
	dials   atomic.Int64
	gate    chan struct{} // nil: dial at once
	fail    atomic.Bool
	started chan struct{}
}

var errDialFailed = errors.New("dial failed")

func (d *fakeDialer) dial(ctx context.Context, addr string) (Conn, error) {
	d.dials.Add(1)
	if d.started != nil {
		select {
		case d.started <- struct{}{}:
		default:
		}
	}
	if d.gate != nil {
		select {
		case <-d.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if d.fail.Load() {
		return nil, errDialFailed
	}
	return newFakeConn(addr), nil
}

func newTestPool(t *testing.T, d *fakeDialer) *Pool {
	t.Helper()
	p, err := NewPool(PoolConfig{Dial: d.dial})
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// Reference: DESIGN §4: one association per (client identity, server)
// carries all transactions.
func TestPoolSharesOneDial(t *testing.T) {
	t.Parallel()
	d := &fakeDialer{gate: make(chan struct{})}
	p := newTestPool(t, d)
	const callers = 32
	conns := make([]Conn, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := p.Get(context.Background(), "server-a:8921")
			if err != nil {
				t.Errorf("Get: %v", err)
			}
			conns[i] = c
		}()
	}
	close(d.gate)
	wg.Wait()
	if got := d.dials.Load(); got != 1 {
		t.Errorf("dials: got %d, want 1", got)
	}
	for i, c := range conns {
		if c != conns[0] {
			t.Fatalf("caller %d got a different Conn", i)
		}
	}
	// Another server gets its own association.
	other, err := p.Get(context.Background(), "server-b:8921")
	if err != nil || other == conns[0] {
		t.Fatalf("Get server-b: got %v, %v, want a new Conn", other, err)
	}
	if got := d.dials.Load(); got != 2 {
		t.Errorf("dials: got %d, want 2", got)
	}
}

func TestPoolRedialsAfterClose(t *testing.T) {
	t.Parallel()
	d := &fakeDialer{}
	p := newTestPool(t, d)
	ctx := context.Background()
	c1, err := p.Get(ctx, "s:1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	c2, _ := p.Get(ctx, "s:1")
	if c1 != c2 || d.dials.Load() != 1 {
		t.Fatalf("second Get: got a new Conn or %d dials, want the same Conn and 1 dial", d.dials.Load())
	}
	_ = c1.Close() // as idle expiry or the peer would
	c3, err := p.Get(ctx, "s:1")
	if err != nil {
		t.Fatalf("Get after close: %v", err)
	}
	if c3 == c1 || d.dials.Load() != 2 {
		t.Errorf("Get after close: got the closed Conn or %d dials, want a new Conn and 2 dials", d.dials.Load())
	}
}

func TestPoolDialFailure(t *testing.T) {
	t.Parallel()
	d := &fakeDialer{}
	d.fail.Store(true)
	p := newTestPool(t, d)
	ctx := context.Background()
	if _, err := p.Get(ctx, "s:1"); !errors.Is(err, errDialFailed) {
		t.Fatalf("Get: got %v, want the dial error", err)
	}
	d.fail.Store(false)
	if _, err := p.Get(ctx, "s:1"); err != nil {
		t.Fatalf("Get after a failed dial: got %v, want a fresh dial", err)
	}
	if got := d.dials.Load(); got != 2 {
		t.Errorf("dials: got %d, want 2 (failures are not cached)", got)
	}
}

func TestPoolCallerContextAndClose(t *testing.T) {
	t.Parallel()
	d := &fakeDialer{gate: make(chan struct{}), started: make(chan struct{}, 1)}
	p, err := NewPool(PoolConfig{Dial: d.dial})
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.Get(ctx, "s:1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with a short context: got %v, want context.DeadlineExceeded", err)
	}
	<-d.started
	// Close cancels the dial still in progress and waits for it.
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := p.Get(context.Background(), "s:1"); !errors.Is(err, ErrPoolClosed) || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Get after Close: got %v, want ErrPoolClosed matching net.ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestPoolCloseClosesConns(t *testing.T) {
	t.Parallel()
	d := &fakeDialer{}
	p, _ := NewPool(PoolConfig{Dial: d.dial})
	c, err := p.Get(context.Background(), "s:1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-c.Done():
	default:
		t.Error("pool Close left its association open")
	}
}

// The pool over real DTLS: idle expiry of the association leads to a new
// dial on the next Get.
func TestPoolDTLSIdleRedial(t *testing.T) {
	cpnptest.CheckGoroutines(t)
	p := getPKI(t)
	l := listen(t, "dtls", p.serverConfig())
	serveEcho(t, l)
	ccfg := p.clientConfig(&p.clientCN)
	ccfg.IdleTimeout = 150 * time.Millisecond
	var dials atomic.Int64
	pool, err := NewPool(PoolConfig{Dial: func(ctx context.Context, addr string) (Conn, error) {
		dials.Add(1)
		return DialDTLS(ctx, addr, ccfg)
	}})
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	defer pool.Close()
	ctx := testContext(t)
	c1, err := pool.Get(ctx, l.Addr().String())
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	echoOnce(t, c1, jsonMessage(40))
	<-c1.Done() // idle expiry
	c2, err := pool.Get(ctx, l.Addr().String())
	if err != nil {
		t.Fatalf("Get after expiry: %v", err)
	}
	if c2 == c1 || dials.Load() != 2 {
		t.Errorf("Get after expiry: got the expired Conn or %d dials, want a new Conn and 2 dials", dials.Load())
	}
	echoOnce(t, c2, jsonMessage(40))
}
