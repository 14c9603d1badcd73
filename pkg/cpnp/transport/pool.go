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
	"fmt"
	"net"
	"sync"

	"github.com/go-logr/logr"
)

// DialFunc opens one association with the server at addr, for example
// DialDTLS or DialTLS with a fixed Config bound in a closure.
type DialFunc func(ctx context.Context, addr string) (Conn, error)

// PoolConfig configures a Pool.
type PoolConfig struct {
	// Dial opens an association; required.
	Dial DialFunc
	// Logger receives pool events; the zero value discards them.
	Logger logr.Logger
}

// Pool keeps one association per server address for one client identity
// (DESIGN §4: one association per client identity and server carries all
// transactions). Get returns the live association or dials one; concurrent
// Gets for the same address share a single dial. An association that closed
// (idle expiry, peer close, Close by a user) is replaced on the next Get. A
// client talking to servers with different verification settings (server
// name, CAs, client certificate) uses one Pool per setting.
type Pool struct {
	dial DialFunc
	log  logr.Logger

	ctx    context.Context // dials run under it; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	entries map[string]*poolEntry
	closed  bool
}

// poolEntry is one server's association, or the dial that will produce it.
type poolEntry struct {
	ready chan struct{} // closed when the dial ended
	conn  Conn          // set before ready closes, nil on error
	err   error
}

// ErrPoolClosed is returned by Get after Close; it matches net.ErrClosed.
var ErrPoolClosed = fmt.Errorf("pool closed: %w", net.ErrClosed)

// NewPool returns an empty Pool.
func NewPool(cfg PoolConfig) (*Pool, error) {
	if cfg.Dial == nil {
		return nil, errors.New("pool config: dial is required")
	}
	if cfg.Logger.GetSink() == nil {
		cfg.Logger = logr.Discard()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{
		dial:    cfg.Dial,
		log:     cfg.Logger,
		ctx:     ctx,
		cancel:  cancel,
		entries: make(map[string]*poolEntry),
	}, nil
}

// Get returns the association with addr, dialling it if there is none or
// the previous one ended. ctx bounds only this caller's wait: the dial runs
// on under the pool (with the dialer's handshake timeout) for the others
// waiting on it. A failed dial is reported to every waiter and not cached.
func (p *Pool) Get(ctx context.Context, addr string) (Conn, error) {
	for {
		e, err := p.entry(addr)
		if err != nil {
			return nil, err
		}
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil {
			return nil, e.err
		}
		select {
		case <-e.conn.Done():
			continue // ended between the dial and now; dial again
		default:
			return e.conn, nil
		}
	}
}

// entry returns the current entry for addr, starting a dial when there is
// none or the existing one is finished and unusable.
func (p *Pool) entry(addr string) (*poolEntry, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrPoolClosed
	}
	if e, ok := p.entries[addr]; ok && e.usable() {
		return e, nil
	}
	e := &poolEntry{ready: make(chan struct{})}
	p.entries[addr] = e
	p.wg.Add(1)
	go p.dialEntry(addr, e)
	return e, nil
}

// usable reports whether e is a dial in progress or a live association.
func (e *poolEntry) usable() bool {
	select {
	case <-e.ready:
	default:
		return true
	}
	if e.err != nil {
		return false
	}
	select {
	case <-e.conn.Done():
		return false
	default:
		return true
	}
}

func (p *Pool) dialEntry(addr string, e *poolEntry) {
	defer p.wg.Done()
	c, err := p.dial(p.ctx, addr)
	if err != nil {
		p.log.V(1).Info("Failed to dial server", "peer", addr, "error", err.Error())
		e.err = fmt.Errorf("pool dial %s: %w", addr, err)
	} else {
		p.log.V(1).Info("Opened association", "peer", addr, "identity", c.Identity())
		e.conn = c
	}
	close(e.ready)
}

// Close closes every association of the pool and waits for dials in
// progress; later Gets fail with ErrPoolClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	p.mu.Lock()
	entries := p.entries
	p.entries = nil
	p.mu.Unlock()
	var errs []error
	for _, e := range entries {
		if e.conn != nil {
			if err := e.conn.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
