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

package benchoperator_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/test/benchoperator"
)

// TestClassify checks how API request paths are counted (issue #4: API
// writes per order by verb and resource).
func TestClassify(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		method, path, watch string
		want                benchoperator.Request
		mutating, event     bool
	}{
		"status patch": {
			method: "PATCH", path: "/apis/negotiation.cpnp.dev/v1alpha1/namespaces/ns/quotationorders/qo-1/status",
			want: benchoperator.Request{Verb: "PATCH", Resource: "quotationorders/status"}, mutating: true,
		},
		"create in namespace": {
			method: "POST", path: "/apis/negotiation.cpnp.dev/v1alpha1/namespaces/ns/agreements",
			want: benchoperator.Request{Verb: "POST", Resource: "agreements"}, mutating: true,
		},
		"core secret update": {
			method: "PUT", path: "/api/v1/namespaces/ns/secrets/s",
			want: benchoperator.Request{Verb: "PUT", Resource: "secrets"}, mutating: true,
		},
		"event": {
			method: "POST", path: "/apis/events.k8s.io/v1/namespaces/ns/events",
			want: benchoperator.Request{Verb: "POST", Resource: "events"}, mutating: true, event: true,
		},
		"cluster-scoped get": {
			method: "GET", path: "/apis/negotiation.cpnp.dev/v1alpha1/clusterproviders/p",
			want: benchoperator.Request{Verb: "GET", Resource: "clusterproviders"},
		},
		"watch": {
			method: "GET", path: "/apis/negotiation.cpnp.dev/v1alpha1/agreements", watch: "true",
			want: benchoperator.Request{Verb: "WATCH", Resource: "agreements"},
		},
		"namespace itself": {
			method: "DELETE", path: "/api/v1/namespaces/ns",
			want: benchoperator.Request{Verb: "DELETE", Resource: "namespaces"}, mutating: true,
		},
		"discovery": {
			method: "GET", path: "/apis",
			want: benchoperator.Request{Verb: "GET", Resource: "[apis]"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := benchoperator.Classify(tc.method, tc.path, tc.watch)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Classify(%s %s) (-want +got):\n%s", tc.method, tc.path, diff)
			}
			if got.Mutating() != tc.mutating {
				t.Errorf("%v.Mutating(): got %t, want %t", got, got.Mutating(), tc.mutating)
			}
			if got.Event() != tc.event {
				t.Errorf("%v.Event(): got %t, want %t", got, got.Event(), tc.event)
			}
		})
	}
}

// TestCounter sends requests through a wrapped transport and checks the
// counts, their difference and the write totals.
func TestCounter(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	var c benchoperator.Counter
	hc := &http.Client{Transport: c.Wrap(http.DefaultTransport)}
	do := func(method, path string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if err := resp.Body.Close(); err != nil {
			t.Fatal(err)
		}
	}
	do("GET", "/api/v1/namespaces/ns/secrets/s")
	base := c.Snapshot()
	do("PATCH", "/apis/g/v1/namespaces/ns/quotationorders/q/status")
	do("PATCH", "/apis/g/v1/namespaces/ns/quotationorders/q/status")
	do("POST", "/apis/events.k8s.io/v1/namespaces/ns/events")
	do("GET", "/api/v1/namespaces/ns/secrets/s")

	got := c.Snapshot().Sub(base)
	want := benchoperator.Counts{
		{Verb: "PATCH", Resource: "quotationorders/status"}: 2,
		{Verb: "POST", Resource: "events"}:                  1,
		{Verb: "GET", Resource: "secrets"}:                  1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Snapshot().Sub(base) (-want +got):\n%s", diff)
	}
	objects, events := got.Writes()
	if objects != 2 || events != 1 {
		t.Errorf("Writes(): got %d objects, %d events, want 2, 1", objects, events)
	}
	order := got.Sorted()
	if order[0] != (benchoperator.Request{Verb: "PATCH", Resource: "quotationorders/status"}) {
		t.Errorf("Sorted()[0]: got %v, want the most frequent, PATCH quotationorders/status", order[0])
	}
}
