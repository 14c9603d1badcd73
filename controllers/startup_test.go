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
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// getLog counts the GETs of single objects (not the informers' LIST and
// WATCH) a manager sends to the API server, by "namespace resource/name".
type getLog struct {
	mu   sync.Mutex
	gets map[string]int
}

// count returns how many GETs of resource/name in ns were sent.
func (g *getLog) count(ns, resource, name string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gets[ns+" "+resource+"/"+name]
}

type getCountingTransport struct {
	next http.RoundTripper
	log  *getLog
}

func (c getCountingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && req.URL.Query().Get("watch") == "" {
		// /api(s)/.../namespaces/<ns>/<resource>/<name>
		parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
		for i, p := range parts {
			if p != "namespaces" || i+3 >= len(parts) {
				continue
			}
			c.log.mu.Lock()
			c.log.gets[parts[i+1]+" "+parts[i+2]+"/"+parts[i+3]]++
			c.log.mu.Unlock()
			break
		}
	}
	return c.next.RoundTrip(req)
}

// TestRestartReadsNothingAtRest completes n orders (each with its
// Agreement) and lets one end with a FAIL, restarts the manager, and
// counts the GETs past the cache the new manager sends for them: an order
// handed over to its Agreement (RFC 8921 §9.2.4, §9.2.6), an Agreement
// with nothing to activate, update or withdraw (§9.2.8, §9.2.9, §9.2.11)
// and an order that ended (§9.2.10) are decided "nothing to do" on the
// cached copy (orderAtRest, agreementAtRest), so none is read past the
// cache, nor its nonce Secret. A sentinel order created after the restart
// is negotiated to its Agreement (its reads are counted, so the counting
// works) and, being queued after the objects of the informers' initial
// lists, shows that they were reconciled.
// Reference: RFC 8921 §8.11.1; DESIGN §5 (level-triggered reconcilers).
func TestRestartReadsNothingAtRest(t *testing.T) {
	const n = 4
	c := apiServer(t)
	ns := namespace(t, c, "restart")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	stop := managerOpts(t, mgrOpts{namespace: ns})
	for i := range n {
		if err := c.Create(ctxFor(t), order(ns, fmt.Sprintf("rest-%d", i), "wan", "gold", v1alpha1.AcceptanceAutomatic)); err != nil {
			t.Fatal(err)
		}
	}
	// Reference: RFC 8921 §9.2.10: the server answers FAIL 5 (no QoS class
	// bronze), the order ends Cancelled without an Agreement.
	failed := order(ns, "ended", "wan", "bronze", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), failed); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, failed, "Stalled=True ServerFailed", func(o *v1alpha1.QuotationOrder) bool {
		s := condition(o.Status.Conditions, v1alpha1.ConditionStalled)
		return s != nil && s.Status == metav1.ConditionTrue && s.Reason == controllers.ReasonServerFailed
	})
	for i := range n {
		name := fmt.Sprintf("rest-%d", i)
		waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}, "Ready=True", ready)
		waitFor(t, c, &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}, "Ready=True",
			func(a *v1alpha1.Agreement) bool {
				r := condition(a.Status.Conditions, v1alpha1.ConditionReady)
				return r != nil && r.Status == metav1.ConditionTrue
			})
	}
	stop()

	log := &getLog{gets: map[string]int{}}
	cfg := rest.CopyConfig(apiCfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return getCountingTransport{next: rt, log: log} })
	managerOpts(t, mgrOpts{cfg: cfg, namespace: ns})
	sentinel := order(ns, "sentinel", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), sentinel); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, sentinel, "Ready=True", ready)
	waitFor(t, c, &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sentinel.Name}}, "Ready=True",
		func(a *v1alpha1.Agreement) bool {
			r := condition(a.Status.Conditions, v1alpha1.ConditionReady)
			return r != nil && r.Status == metav1.ConditionTrue
		})

	if got := log.count(ns, "quotationorders", sentinel.Name); got == 0 {
		t.Fatalf("GETs of the sentinel order: got 0, want at least 1 (the count does not work)")
	}
	got := map[string]int{}
	for i := range n {
		name := fmt.Sprintf("rest-%d", i)
		got["quotationorders"] += log.count(ns, "quotationorders", name)
		got["agreements"] += log.count(ns, "agreements", name)
		got["secrets (order nonces)"] += log.count(ns, "secrets", name+"-cpnp-order-nonces")
		got["secrets (agreement nonces)"] += log.count(ns, "secrets", name+"-cpnp-agreement-nonces")
	}
	got["quotationorders (ended)"] = log.count(ns, "quotationorders", failed.Name)
	got["secrets (ended order nonces)"] = log.count(ns, "secrets", failed.Name+"-cpnp-order-nonces")
	want := map[string]int{"quotationorders": 0, "agreements": 0, "secrets (order nonces)": 0, "secrets (agreement nonces)": 0,
		"quotationorders (ended)": 0, "secrets (ended order nonces)": 0}
	t.Logf("GETs past the cache after the restart for %d orders at rest: %v; provider Secrets (the sentinel; the package ProviderCache outlives the first manager): cpnp-ca %d, acme-tls %d",
		n, got, log.count(ns, "secrets", "cpnp-ca"), log.count(ns, "secrets", "acme-tls"))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GETs past the cache for %d objects at rest after a restart (-want +got):\n%s", n, diff)
	}
}
