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

package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestEarlyApplicationData is a known-bug reproducer, skipped unless
// CPNP_E2E_KNOWN_BUGS is set: a client that sends several messages right
// after DialDTLS returns loses all but the first when they reach the
// server before pion has marked the server side of the handshake complete.
// pion/dtls v3.1.15 conn.go, handleIncomingPacket, case
// *protocol.ApplicationData: before isHandshakeCompletedSuccessfully() the
// record is offered to c.decrypted (a channel of capacity 1) with a
// non-blocking send, so the second and later records are dropped silently.
// The client's handshake completes when it receives the server's Finished,
// which the server sends before its own handshake loop sets the flag, so
// the window is real; under -race on two cores about one round in ten
// loses four of its five QUOTATIONs. CPNP recovers by retransmission
// (§11.4), at the cost of RETRANS_TIMER, but the last retransmission of a
// request can be lost this way right after a re-dial. The QUOTATIONs that
// are lost are never answered within the 1.5 s the test waits: the test
// client does not retransmit.
// Reference: RFC 8921 §8.1, §11.4; RFC 6347 §4.1.
func TestEarlyApplicationData(t *testing.T) {
	if os.Getenv("CPNP_E2E_KNOWN_BUGS") == "" {
		t.Skip("known bug of pion/dtls (early application data dropped); set CPNP_E2E_KNOWN_BUGS=1 to reproduce")
	}
	p := cpnptest.NewPKI(t, idAcme)
	srv := startServer(t, p, serverOptions{})
	const rounds, burst = 30, 5
	lossy := 0
	for round := range rounds {
		r := dialRaw(t, p, srv.addr, idAcme)
		for i := range burst {
			c := gold(1, 1)
			m := wire.Message{Version: wire.Version, Method: wire.MethodQuotation, Seq: 1, TransactionID: newHex(),
				CustomerOrderID: fmt.Sprintf("early-%d-%d", round, i), RequestedCPD: &c}
			b, err := wire.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.conn.WriteMessage(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		}
		// Each QUOTATION is answered with an OFFER (Fig. 6); the count
		// ends after 1.5 s of silence (the OFFERs are retransmitted every
		// RETRANS_TIMER until a PROCESSING, and the server also sends those
		// of earlier rounds' orders here: the newest association of the
		// identity).
		offered := map[string]bool{}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			data, err := r.conn.ReadMessage(ctx)
			cancel()
			if err != nil {
				break
			}
			if m, err := wire.Decode(data); err == nil && m.Method == wire.MethodOffer &&
				strings.HasPrefix(m.CustomerOrderID, fmt.Sprintf("early-%d-", round)) {
				offered[m.CustomerOrderID] = true
			}
			if len(offered) == burst {
				break
			}
		}
		if len(offered) != burst {
			lossy++
			t.Logf("round %d: %d QUOTATIONs sent right after the handshake, %d answered; want %d", round, burst, len(offered), burst)
		}
		_ = r.conn.Close()
	}
	if lossy > 0 {
		t.Errorf("%d of %d rounds lost messages sent right after the handshake", lossy, rounds)
	}
}
