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
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// writeLog records the mutating requests (POST, PUT, PATCH, DELETE) a
// manager sends to the API server, as "VERB resource[/subresource]".
type writeLog struct {
	mu     sync.Mutex
	writes []string
}

// in returns the writes made in namespace ns, in order.
func (w *writeLog) in(ns string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, s := range w.writes {
		if strings.HasPrefix(s, ns+" ") {
			out = append(out, strings.TrimPrefix(s, ns+" "))
		}
	}
	return out
}

type countingTransport struct {
	next http.RoundTripper
	log  *writeLog
}

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		// /api(s)/.../namespaces/<ns>/<resource>[/<name>[/<subresource>]]
		parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
		for i, p := range parts {
			if p != "namespaces" || i+2 >= len(parts) {
				continue
			}
			what := parts[i+2]
			if i+4 < len(parts) {
				what += "/" + parts[i+4]
			}
			c.log.mu.Lock()
			c.log.writes = append(c.log.writes, parts[i+1]+" "+req.Method+" "+what)
			c.log.mu.Unlock()
			break
		}
	}
	return c.next.RoundTrip(req)
}

// countingManager is manager() with every write the manager makes recorded.
func countingManager(t *testing.T) *writeLog {
	t.Helper()
	log := &writeLog{}
	cfg := rest.CopyConfig(apiCfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{next: rt, log: log} })
	managerOpts(t, mgrOpts{cfg: cfg})
	return log
}

// TestAutomaticOrderWrites lists every write the operator makes for one
// order with one provider and Automatic acceptance, from the QUOTATION to
// the Agreement, and checks that none is repeated needlessly: one status
// write per persisted Figure 8 step (PQOSent, AcceptSent, Completed; the
// PROCESSING that precedes the OFFER is folded into the OFFER's write),
// one nonce Secret per owner, one Offer status write (the final state), no
// write once the order is at rest.
// Reference: RFC 8921 §8.7 Figure 6, §8.11.1; DESIGN §4 (write-ahead), §5.
func TestAutomaticOrderWrites(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "writes")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	log := countingManager(t)

	qo := order(ns, "counted", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "Ready=True", ready)
	waitFor(t, c, &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: qo.Status.Providers[0].OfferRef.Name}},
		"state Accepted", func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferAccepted })
	all := log.in(ns)
	var writes []string
	events := 0
	for _, w := range all {
		if strings.HasSuffix(w, " events") {
			events++
			continue
		}
		writes = append(writes, w)
	}
	t.Logf("%d writes and %d Events for one order: %q", len(writes), events, all)
	want := []string{
		"PATCH quotationorders",        // finalizer negotiation.cpnp.dev/cancel, before the QUOTATION (§9.2.7)
		"PATCH quotationorders/status", // PQOSent: transaction ID before the QUOTATION (write-ahead)
		"POST offers",                  // the OFFER, with the Automatic decision Accept (§9.2.3)
		"POST secrets",                 // the order's nonces, before the status that refers to them
		"PATCH quotationorders/status", // AcceptSent, before the ACCEPT (§9.2.4)
		"POST agreements",              // the ACK (§9.2.6)
		"POST secrets",                 // the Agreement's nonces
		"PATCH agreements/status",      // contract ID, Ready
		"PATCH quotationorders/status", // Completed, agreementRef
		"PATCH offers/status",          // Accepted (Accepting is not written)
	}
	if diff := cmp.Diff(want, writes); diff != "" {
		t.Errorf("writes for one Automatic order (-want +got):\n%s", diff)
	}
}
