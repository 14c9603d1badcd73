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
)

// ServeEcho accepts associations from l and writes every message back to
// its sender until ctx ends or l is closed, then waits for its goroutines
// and returns nil (or the Accept error that stopped it). It is the raw echo
// baseline that the engine benchmarks compare against (DESIGN §7), and a
// small test peer; it does not close l.
func ServeEcho(ctx context.Context, l Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			stop := context.AfterFunc(ctx, func() { _ = c.Close() })
			defer stop()
			for {
				msg, err := c.ReadMessage(ctx)
				if err != nil {
					return
				}
				if err := c.WriteMessage(ctx, msg); err != nil {
					return
				}
			}
		}()
	}
}
