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
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// lendingConn is a transport.Conn that lends every message in one read
// buffer, which its next read overwrites (as DTLS associations do), and
// scribbles over the buffer before each read, so that a reader that kept
// a message would see it change.
type lendingConn struct {
	msgs  [][]byte
	buf   []byte
	done  chan struct{}
	once  sync.Once
	reads int
}

func (c *lendingConn) ReadMessageBorrowed(ctx context.Context) ([]byte, error) {
	for i := range c.buf {
		c.buf[i] = 'x'
	}
	if c.reads == len(c.msgs) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
			return nil, net.ErrClosed
		}
	}
	n := copy(c.buf, c.msgs[c.reads])
	c.reads++
	return c.buf[:n], nil
}

// ReadMessage fails: the link should borrow. It ends the association, so
// that no message is delivered.
func (c *lendingConn) ReadMessage(context.Context) ([]byte, error) {
	return nil, errors.New("lendingConn: ReadMessage called; the link should borrow")
}

func (c *lendingConn) WriteMessage(context.Context, []byte) error { return nil }
func (c *lendingConn) Identity() string                           { return "server" }
func (c *lendingConn) RemoteAddr() net.Addr                       { return &net.UDPAddr{} }
func (c *lendingConn) LocalAddr() net.Addr                        { return &net.UDPAddr{} }
func (c *lendingConn) Done() <-chan struct{}                      { return c.done }
func (c *lendingConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

// TestLinkBorrowsMessages: over an association that lends its read buffer,
// every message reaches its Handler intact, decoded before the next read
// overwrites the buffer.
// Reference: RFC 8921 §8.1 (one message per DTLS record), §10.1.
func TestLinkBorrowsMessages(t *testing.T) {
	t.Parallel()
	var want []wire.Message
	var msgs [][]byte
	for _, seq := range []uint32{10, 11, 12} {
		msg := wire.Message{
			Version: wire.Version, Method: wire.MethodProcessing, Seq: seq,
			TransactionID: "0123456789abcdef0123456789abcdef", CustomerOrderID: "co-borrow",
			ProviderOrderID: fmt.Sprintf("po-%d", seq),
		}
		data, err := wire.Encode(msg)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		want, msgs = append(want, msg), append(msgs, data)
	}
	conn := &lendingConn{msgs: msgs, buf: make([]byte, 4096), done: make(chan struct{})}
	m, err := NewMux(MuxConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()
	got := make(chan wire.Message, len(want))
	m.Register("s", "co-borrow", func(msg wire.Message, _ time.Time) { got <- msg })
	dial := func(context.Context, string) (transport.Conn, error) { return conn, nil }
	if err := m.AddServer("s", ServerConfig{Address: "127.0.0.1:1", Dial: dial}); err != nil {
		t.Fatal(err)
	}
	var delivered []wire.Message
	timeout := time.After(10 * time.Second)
	for len(delivered) < len(want) {
		select {
		case msg := <-got:
			delivered = append(delivered, msg)
		case <-timeout:
			t.Fatalf("got %d messages, want %d", len(delivered), len(want))
		}
	}
	if diff := cmp.Diff(want, delivered); diff != "" {
		t.Errorf("delivered messages (-want +got):\n%s", diff)
	}
}
