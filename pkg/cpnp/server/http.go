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

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// maxAdminBody bounds the body of an admin request.
const maxAdminBody = 64 << 10

// Handler returns the HTTP handler of the admin listener (docs/server.md):
//
//	GET  /healthz                          200 while the process runs
//	GET  /readyz                           200 when ready (Ready), else 503
//	GET  /metrics                          Prometheus metrics (Config.Gatherer)
//	GET  /admin/orders[?state=S&held=true&identity=I]
//	                                       {"orders": [OrderSummary...]}
//	GET  /admin/orders/{id}                OrderDetail
//	POST /admin/orders/{id}/approve        approve a held order → OrderSummary
//	POST /admin/orders/{id}/reject         reject a held order (FAIL 4) → OrderSummary
//	POST /admin/orders/{id}/more-time      {"expectedOfferTime": RFC 3339, "subcode": 1|2}
//	                                       ask the client for more time (§9.2.2) → OrderSummary
//
// Errors are JSON objects {"error": "...", "status": N} with the status code
// that fits: 400 for a bad request, 404 for an unknown order or path, 405
// for a wrong method, 409 when the order is not in a state that allows the
// command, 503 when the server is closed or failed. The handler has no
// authentication: bind the admin listener to a loopback or otherwise
// protected address.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.Ready(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	if s.cfg.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{}))
	} else {
		mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusNotFound, errors.New("metrics are not enabled"))
		})
	}
	mux.HandleFunc("GET /admin/orders", s.listOrders)
	mux.HandleFunc("GET /admin/orders/{id}", s.getOrder)
	mux.HandleFunc("POST /admin/orders/{id}/approve", s.postCommand(func(ctx context.Context, id string, _ *http.Request) error {
		return s.Approve(ctx, id)
	}))
	mux.HandleFunc("POST /admin/orders/{id}/reject", s.postCommand(func(ctx context.Context, id string, _ *http.Request) error {
		return s.Reject(ctx, id)
	}))
	mux.HandleFunc("POST /admin/orders/{id}/more-time", s.postCommand(s.moreTime))
	for path, allow := range map[string]string{
		"/healthz":                     "GET",
		"/readyz":                      "GET",
		"/metrics":                     "GET",
		"/admin/orders":                "GET",
		"/admin/orders/{id}":           "GET",
		"/admin/orders/{id}/approve":   "POST",
		"/admin/orders/{id}/reject":    "POST",
		"/admin/orders/{id}/more-time": "POST",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no such endpoint: %s", r.URL.Path))
	})
	return mux
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state, identity := q.Get("state"), q.Get("identity")
	var held *bool
	if v := q.Get("held"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("query parameter held=%q: must be true or false", v))
			return
		}
		held = &b
	}
	orders := s.List()
	out := orders[:0]
	for _, o := range orders {
		if (state == "" || o.State == state) && (identity == "" || o.Identity == identity) && (held == nil || o.Held == *held) {
			out = append(out, o)
		}
	}
	writeJSON(w, http.StatusOK, map[string][]OrderSummary{"orders": out})
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, ok := s.Get(id)
	if !ok {
		writeError(w, http.StatusNotFound, &OrderError{ProviderOrderID: id, Err: ErrOrderNotFound})
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// postCommand runs an admin command and answers with the order's summary.
func (s *Server) postCommand(fn func(ctx context.Context, id string, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := fn(r.Context(), id, r); err != nil {
			writeError(w, statusOf(err), err)
			return
		}
		d, ok := s.Get(id)
		if !ok {
			writeError(w, http.StatusNotFound, &OrderError{ProviderOrderID: id, Err: ErrOrderNotFound})
			return
		}
		writeJSON(w, http.StatusOK, d.OrderSummary)
	}
}

// moreTimeRequest is the body of POST /admin/orders/{id}/more-time.
type moreTimeRequest struct {
	ExpectedOfferTime time.Time    `json:"expectedOfferTime"`
	Subcode           wire.Subcode `json:"subcode,omitempty"`
}

func (s *Server) moreTime(ctx context.Context, id string, r *http.Request) error {
	var body moreTimeRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return &badRequestError{fmt.Errorf("request body: %w (want {\"expectedOfferTime\": RFC 3339 time, \"subcode\": 1 or 2})", err)}
	}
	if body.ExpectedOfferTime.IsZero() {
		return &badRequestError{errors.New("request body: expectedOfferTime is required")}
	}
	err := s.RequestMoreTime(ctx, id, body.ExpectedOfferTime, body.Subcode)
	var oe *OrderError
	if err != nil && !errors.As(err, &oe) && !errors.Is(err, ErrServerClosed) && !errors.Is(err, ErrStoreFailed) &&
		ctx.Err() == nil {
		return &badRequestError{err}
	}
	return err
}

// badRequestError marks an error caused by the request itself (400).
type badRequestError struct{ err error }

func (e *badRequestError) Error() string { return e.err.Error() }
func (e *badRequestError) Unwrap() error { return e.err }

// statusOf maps an admin error to its HTTP status code.
func statusOf(err error) int {
	var br *badRequestError
	switch {
	case errors.As(err, &br):
		return http.StatusBadRequest
	case errors.Is(err, ErrOrderNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrNotHeld), errors.Is(err, ErrNotNegotiating):
		return http.StatusConflict
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusServiceUnavailable
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]any{"error": err.Error(), "status": code})
}
