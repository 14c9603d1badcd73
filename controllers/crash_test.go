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

package controllers_test

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// errCrashed is what every request of a crashed manager gets.
var errCrashed = errors.New("manager crashed (test)")

// crashingTransport lets a manager make its first `after` writes (POST,
// PUT, PATCH, DELETE; Events aside) and then crashes it: the answer to the
// last allowed write is lost and every later request fails, so nothing the
// manager would do after that write (a send, another write) happens — as if
// the process had been killed right after the API server stored it.
type crashingTransport struct {
	next  http.RoundTripper
	after int

	mu      sync.Mutex
	writes  int
	crashed chan struct{}
}

func (c *crashingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	select {
	case <-c.crashed:
		c.mu.Unlock()
		return nil, errCrashed
	default:
	}
	write := req.Method != http.MethodGet && !isEventRequest(req)
	if write {
		c.writes++
	}
	last := write && c.writes == c.after
	c.mu.Unlock()
	resp, err := c.next.RoundTrip(req)
	if last {
		if resp != nil {
			_ = resp.Body.Close()
		}
		close(c.crashed)
		return nil, errCrashed
	}
	return resp, err
}

// isEventRequest reports whether req writes an Event (not part of the
// negotiation's state).
func isEventRequest(req *http.Request) bool {
	const p = "/apis/events.k8s.io/"
	return len(req.URL.Path) >= len(p) && req.URL.Path[:len(p)] == p
}

// TestCrashAfterEveryWrite stops the manager right after each write of a
// negotiation in turn — the finalizer, each status step, the Offer, the
// nonce Secrets, the Agreement and its status — and starts a new one: the
// server never holds a second order for the QuotationOrder, and the order
// still reaches its Agreement with a contract ID.
// Reference: RFC 8921 §8.11.1, §11.4 (retransmission); DESIGN §4 (write-ahead:
// a restarted client resumes from what it persisted, never a second QUOTATION).
func TestCrashAfterEveryWrite(t *testing.T) {
	c := apiServer(t)
	p := cpnptest.NewPKI(t)
	// TestAutomaticOrderWrites pins the sequence: 10 writes per order.
	const writes = 10
	for after := 1; after <= writes; after++ {
		t.Run(fmt.Sprintf("after write %d", after), func(t *testing.T) {
			t.Parallel()
			ns := namespace(t, c, fmt.Sprintf("crash-%d", after))
			srv := startServer(t, p, 0) // its own: every order it holds is this test's
			provider(t, c, ns, "wan", p, srv)
			crash := &crashingTransport{after: after, crashed: make(chan struct{})}
			cfg := rest.CopyConfig(apiCfg)
			cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { crash.next = rt; return crash })
			stop := managerOpts(t, mgrOpts{cfg: cfg, namespace: ns})

			qo := order(ns, "order", "wan", "gold", v1alpha1.AcceptanceAutomatic)
			if err := c.Create(ctxFor(t), qo); err != nil {
				t.Fatal(err)
			}
			select {
			case <-crash.crashed:
			case <-ctxFor(t).Done():
				t.Fatalf("the manager made fewer than %d writes", after)
			}
			stop()
			managerOpts(t, mgrOpts{namespace: ns})

			qo = waitFor(t, c, qo, "Ready=True", ready)
			agr := waitFor(t, c, &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: qo.Status.AgreementRef.Name}},
				"a contract ID and Ready=True", func(a *v1alpha1.Agreement) bool {
					r := condition(a.Status.Conditions, v1alpha1.ConditionReady)
					return a.Status.ContractID != "" && r != nil && r.Status == metav1.ConditionTrue
				})
			if got := srv.srv.List(); len(got) != 1 || got[0].CustomerOrderID != qo.Status.CustomerOrderID {
				t.Errorf("server orders: got %+v, want one, for customer order %s", got, qo.Status.CustomerOrderID)
			}
			if agr.Status.ProviderOrderID != qo.Status.Providers[0].ProviderOrderID {
				t.Errorf("agreement provider order ID: got %q, want the order's %q", agr.Status.ProviderOrderID, qo.Status.Providers[0].ProviderOrderID)
			}
		})
	}
}
