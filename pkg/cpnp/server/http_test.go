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

package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// call performs an HTTP request against the admin handler and returns the
// status code and body.
func call(t *testing.T, h http.Handler, method, path, body string) (int, string, http.Header) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// TestAdminHoldApprove: an order held for administrative validation shows
// in the admin list with the policy's reason; approving it over HTTP sends
// the OFFER.
// Reference: RFC 8921 §8.2, §12.2; DESIGN §6 (admin API).
func TestAdminHoldApprove(t *testing.T) {
	e := newEnv(t)
	h := e.srv.Handler()
	c, n := heldOrder(t, e)

	code, body, _ := call(t, h, http.MethodGet, "/admin/orders?held=true", "")
	var list struct {
		Orders []server.OrderSummary `json:"orders"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || code != http.StatusOK {
		t.Fatalf("GET /admin/orders: %d %s (%v)", code, body, err)
	}
	if len(list.Orders) != 1 || list.Orders[0].ProviderOrderID != n.poid || !list.Orders[0].Held ||
		list.Orders[0].State != string(fsm.ServerAwaitingProcessing) || !strings.Contains(list.Orders[0].Decision, "Manual") {
		t.Fatalf("held orders: got %+v, want %s held in AwaitingProcessing with the policy's reason", list.Orders, n.poid)
	}
	if code, body, _ := call(t, h, http.MethodGet, "/admin/orders?held=false", ""); code != http.StatusOK || strings.Contains(body, n.poid) {
		t.Errorf("GET ?held=false: %d %s, want no held order", code, body)
	}

	code, body, _ = call(t, h, http.MethodPost, "/admin/orders/"+n.poid+"/approve", "")
	var sum server.OrderSummary
	if err := json.Unmarshal([]byte(body), &sum); err != nil || code != http.StatusOK {
		t.Fatalf("POST approve: %d %s (%v)", code, body, err)
	}
	if sum.State != string(fsm.ServerOfferProposed) || sum.Held {
		t.Errorf("after approve: got %+v, want OfferProposed, not held", sum)
	}
	n.expectOffer()
	// Approving again: the order is no longer held.
	if code, body, _ := call(t, h, http.MethodPost, "/admin/orders/"+n.poid+"/approve", ""); code != http.StatusConflict ||
		!strings.Contains(body, "not held") {
		t.Errorf("second approve: got %d %s, want 409", code, body)
	}
	// The detail never shows the nonce.
	code, body, _ = call(t, h, http.MethodGet, "/admin/orders/"+n.poid, "")
	if code != http.StatusOK || !strings.Contains(body, `"offer"`) || strings.Contains(body, n.offer.Nonce) {
		t.Errorf("GET order: %d, want the offer without its nonce:\n%s", code, body)
	}
	_ = c
}

// TestAdminReject: rejecting a held order answers the client FAIL 4.
// Reference: RFC 8921 §8.2, §12.2, Table 4; DESIGN §3 ("refused by
// administrative validation → 4").
func TestAdminReject(t *testing.T) {
	e := newEnv(t)
	c, n := heldOrder(t, e)
	code, body, _ := call(t, e.srv.Handler(), http.MethodPost, "/admin/orders/"+n.poid+"/reject", "")
	if code != http.StatusOK || !strings.Contains(body, `"state": "Cancelled"`) {
		t.Fatalf("POST reject: %d %s", code, body)
	}
	f := c.expectFail(wire.StatusAdministrativelyProhibited)
	if f.ProviderOrderID != n.poid || f.TransactionID != n.txn {
		t.Errorf("FAIL 4: got %v, want order %s transaction %s", f, n.poid, n.txn)
	}
	if d := e.order(n.poid); d.Failure == nil || d.Failure.Reason != "Rejected" {
		t.Errorf("failure: got %+v, want Rejected", d.Failure)
	}
	e.waitMetric("cpnp_server_fails_sent_total", map[string]string{"status_code": "4"}, 1)
}

// TestAdminErrors: every error of the admin API is a JSON object with a
// clear message and the status code that fits.
func TestAdminErrors(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	n := c.newOrder()
	n.negotiate(reqCPD(1, 1), nil)
	h := e.srv.Handler()
	tests := []struct {
		name, method, path, body string
		code                     int
		contains                 string
	}{
		{"approve unknown", http.MethodPost, "/admin/orders/po-nope/approve", "", http.StatusNotFound, "not found"},
		{"reject unknown", http.MethodPost, "/admin/orders/po-nope/reject", "", http.StatusNotFound, "not found"},
		{"get unknown", http.MethodGet, "/admin/orders/po-nope", "", http.StatusNotFound, "not found"},
		{"approve not held", http.MethodPost, "/admin/orders/" + n.poid + "/approve", "", http.StatusConflict, "Completed"},
		{"reject not held", http.MethodPost, "/admin/orders/" + n.poid + "/reject", "", http.StatusConflict, "not held"},
		{"wrong method", http.MethodDelete, "/admin/orders/" + n.poid, "", http.StatusMethodNotAllowed, "allowed: GET"},
		{"get approve", http.MethodGet, "/admin/orders/" + n.poid + "/approve", "", http.StatusMethodNotAllowed, "allowed: POST"},
		{"unknown path", http.MethodGet, "/admin/nothing", "", http.StatusNotFound, "no such endpoint"},
		{"bad held", http.MethodGet, "/admin/orders?held=maybe", "", http.StatusBadRequest, "held"},
		{"more-time bad JSON", http.MethodPost, "/admin/orders/" + n.poid + "/more-time", "{", http.StatusBadRequest, "request body"},
		{"more-time unknown field", http.MethodPost, "/admin/orders/" + n.poid + "/more-time", `{"when":"x"}`, http.StatusBadRequest, "unknown field"},
		{"more-time missing time", http.MethodPost, "/admin/orders/" + n.poid + "/more-time", `{}`, http.StatusBadRequest, "expectedOfferTime is required"},
		{"more-time not negotiating", http.MethodPost, "/admin/orders/" + n.poid + "/more-time",
			`{"expectedOfferTime":"` + t0.Add(time.Hour).Format(time.RFC3339) + `"}`, http.StatusConflict, "not awaiting an offer"},
		{"more-time bad subcode", http.MethodPost, "/admin/orders/" + n.poid + "/more-time",
			`{"expectedOfferTime":"` + t0.Add(time.Hour).Format(time.RFC3339) + `","subcode":9}`, http.StatusBadRequest, "subcode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body, hdr := call(t, h, tc.method, tc.path, tc.body)
			var v struct {
				Error  string `json:"error"`
				Status int    `json:"status"`
			}
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatalf("body is not JSON: %s", body)
			}
			if code != tc.code || v.Status != tc.code || !strings.Contains(v.Error, tc.contains) {
				t.Errorf("got %d %q, want %d containing %q", code, v.Error, tc.code, tc.contains)
			}
			if hdr.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type: got %q, want application/json", hdr.Get("Content-Type"))
			}
		})
	}
}

// TestAdminMoreTimePast: a request for more time must name a future time.
func TestAdminMoreTimePast(t *testing.T) {
	e := newEnv(t)
	_, n := heldOrder(t, e)
	code, body, _ := call(t, e.srv.Handler(), http.MethodPost, "/admin/orders/"+n.poid+"/more-time",
		`{"expectedOfferTime":"`+t0.Add(-time.Hour).Format(time.RFC3339)+`"}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "not in the future") {
		t.Errorf("got %d %s, want 400", code, body)
	}
}

// TestHealthReadyMetrics: /healthz, /readyz and /metrics.
func TestHealthReadyMetrics(t *testing.T) {
	e := newEnv(t)
	c := e.dial(idAcme)
	c.probe()
	h := e.srv.Handler()
	if code, body, _ := call(t, h, http.MethodGet, "/healthz", ""); code != http.StatusOK || !strings.Contains(body, "ok") {
		t.Errorf("/healthz: %d %s", code, body)
	}
	waitFor(t, "ready", func() bool { return e.srv.Ready() == nil })
	if code, body, _ := call(t, h, http.MethodGet, "/readyz", ""); code != http.StatusOK {
		t.Errorf("/readyz: %d %s, want 200", code, body)
	}
	code, body, _ := call(t, h, http.MethodGet, "/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, name := range []string{
		"cpnp_server_messages_received_total", "cpnp_server_fails_sent_total", "cpnp_server_orders",
		"cpnp_server_handshakes_total", "cpnp_server_handshake_failures_total", "cpnp_server_policy_holdings",
		"cpnp_server_store_commit_seconds", "cpnp_server_dropped_total",
	} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// Every reason of dropped_total that docs/server.md lists is a series
	// from the start, child orders' included (dashboards and rate() need
	// the 0).
	for _, r := range []string{"invalid", "access_filter", "fail_rate_limited", "repeat_rate_limited",
		"discarded", "unknown_fail", "no_association", "send_queue_full", "store_failed", "shutting_down",
		"random_failure", "unexpected_child", "upstream_queue_full", "upstream_send_failed",
		"child_inbox_full", "child_unknown"} {
		if series := `cpnp_server_dropped_total{reason="` + r + `"}`; !strings.Contains(body, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	e.stop()
	if code, body, _ := call(t, h, http.MethodGet, "/readyz", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "server closed") {
		t.Errorf("/readyz after Shutdown: %d %s, want 503", code, body)
	}
}

// TestNoMetricsHandler: without a Gatherer, /metrics says so.
func TestNoMetricsHandler(t *testing.T) {
	e := newEnv(t, withConfig(func(c *server.Config) { c.Registerer = nil }))
	if code, body, _ := call(t, e.srv.Handler(), http.MethodGet, "/metrics", ""); code != http.StatusNotFound || !strings.Contains(body, "not enabled") {
		t.Errorf("/metrics: %d %s, want 404", code, body)
	}
}
