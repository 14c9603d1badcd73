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

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/pflag"
	"golang.org/x/time/rate"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// options are the command-line flags (docs/server.md lists them).
type options struct {
	listen, tlsListen, adminListen string
	tlsCert, tlsKey, clientCA      string
	dataDir, policyFile            string
	logFormat                      string
	verbosity                      int
	allow                          []string

	retransTimer       time.Duration
	maxRetries         int
	expectedOfferDelay time.Duration

	handshakeTimeout     time.Duration
	idleTimeout          time.Duration
	maxHalfOpen          int
	maxHalfOpenPerSource int
	datagramLimit        int

	failRate        float64
	failBurst       int
	retention       time.Duration
	shutdownTimeout time.Duration

	allowed []netip.Prefix
}

// usageError is a problem with the command line; its message names the flag.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parseFlags reads args. --help prints the usage to stdout and returns
// pflag.ErrHelp.
func parseFlags(args []string, stdout io.Writer) (*options, error) {
	o := &options{}
	fs := pflag.NewFlagSet("cpnp-server", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8921", "UDP address of the DTLS listener (CPNP_PORT 8921); empty to serve TLS only")
	fs.StringVar(&o.tlsListen, "tls-listen", "", "TCP address of an additional TLS listener (optional)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "server certificate chain, PEM (required)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "server private key, PEM (required)")
	fs.StringVar(&o.clientCA, "client-ca", "", "CA bundle that client certificates must chain to, PEM (required)")
	fs.StringVar(&o.dataDir, "data-dir", "", "directory of the order store, created if missing (required)")
	fs.StringVar(&o.policyFile, "policy", "", "policy file: pools, tenants, upstreams (required; docs/policy.md)")
	fs.StringVar(&o.adminListen, "admin-listen", "", "TCP address of the admin API, /healthz, /readyz and /metrics (optional; unauthenticated: keep it private)")
	fs.StringVar(&o.logFormat, "log-format", "json", "log format: json or text")
	fs.IntVarP(&o.verbosity, "v", "v", 0, "log verbosity: 0 order events, 1 transitions and discards, 4 every message")
	fs.StringSliceVar(&o.allow, "allow", nil, "CIDR prefix a client may connect from (repeatable or comma-separated; default: any)")
	fs.DurationVar(&o.retransTimer, "retrans-timer", session.DefaultRetransTimer, "RETRANS_TIMER of the OFFER and of requests for more time (RFC 8921 §11.4); doubles at each retry")
	fs.IntVar(&o.maxRetries, "max-retries", session.DefaultMaxRetries, "retransmissions before giving up (RFC 8921 §11.4)")
	fs.DurationVar(&o.expectedOfferDelay, "expected-offer-delay", 0, "announce EXPECTED_OFFER_TIME = receipt + this in the first PROCESSING (0: none)")
	fs.DurationVar(&o.handshakeTimeout, "handshake-timeout", transport.DefaultHandshakeTimeout, "bound of one (D)TLS handshake")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", transport.DefaultIdleTimeout, "close associations idle for this long")
	fs.IntVar(&o.maxHalfOpen, "max-half-open", transport.DefaultMaxHalfOpen, "handshakes in progress, in all")
	fs.IntVar(&o.maxHalfOpenPerSource, "max-half-open-per-source", transport.DefaultMaxHalfOpenPerSource, "handshakes in progress per source address")
	fs.IntVar(&o.datagramLimit, "datagram-limit", transport.DefaultDatagramLimit, "largest message sent in one DTLS record, bytes (512..8000)")
	fs.Float64Var(&o.failRate, "fail-rate", float64(session.DefaultFailRate), "FAIL messages per second per client (RFC 8921 §9.2.5)")
	fs.IntVar(&o.failBurst, "fail-burst", session.DefaultFailBurst, "burst of FAIL messages per client")
	fs.DurationVar(&o.retention, "retention", server.DefaultTerminalRetention, "how long finished orders are kept to answer repeated requests")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "bound of the graceful shutdown on SIGTERM")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(stdout, "Usage: cpnp-server --tls-cert FILE --tls-key FILE --client-ca FILE --data-dir DIR --policy FILE [flags]\n\n%s", fs.FlagUsages())
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, &usageError{fmt.Sprintf("unexpected argument %q (every option is a flag)", fs.Arg(0))}
	}
	var errs []error
	for _, req := range []struct{ name, val string }{
		{"tls-cert", o.tlsCert}, {"tls-key", o.tlsKey}, {"client-ca", o.clientCA}, {"data-dir", o.dataDir}, {"policy", o.policyFile},
	} {
		if req.val == "" {
			errs = append(errs, &usageError{"flag --" + req.name + " is required"})
		}
	}
	if o.listen == "" && o.tlsListen == "" {
		errs = append(errs, &usageError{"flag --listen is empty and --tls-listen is not set: nothing to serve"})
	}
	if o.logFormat != "json" && o.logFormat != "text" {
		errs = append(errs, &usageError{fmt.Sprintf("flag --log-format: must be json or text, got %q", o.logFormat)})
	}
	if o.verbosity < 0 {
		errs = append(errs, &usageError{fmt.Sprintf("flag -v: must not be negative, got %d", o.verbosity)})
	}
	for _, a := range o.allow {
		p, err := netip.ParsePrefix(strings.TrimSpace(a))
		if err != nil {
			errs = append(errs, &usageError{fmt.Sprintf("flag --allow: %q is not a CIDR prefix such as 10.0.0.0/8", a)})
			continue
		}
		o.allowed = append(o.allowed, p.Masked())
	}
	positive := func(name string, ok bool, val any) {
		if !ok {
			errs = append(errs, &usageError{fmt.Sprintf("flag --%s: must be positive, got %v", name, val)})
		}
	}
	positive("retrans-timer", o.retransTimer > 0, o.retransTimer)
	positive("handshake-timeout", o.handshakeTimeout > 0, o.handshakeTimeout)
	positive("idle-timeout", o.idleTimeout > 0, o.idleTimeout)
	positive("max-half-open", o.maxHalfOpen > 0, o.maxHalfOpen)
	positive("max-half-open-per-source", o.maxHalfOpenPerSource > 0, o.maxHalfOpenPerSource)
	positive("fail-rate", o.failRate > 0, o.failRate)
	positive("fail-burst", o.failBurst > 0, o.failBurst)
	positive("retention", o.retention > 0, o.retention)
	positive("shutdown-timeout", o.shutdownTimeout > 0, o.shutdownTimeout)
	if o.maxRetries < 0 {
		errs = append(errs, &usageError{fmt.Sprintf("flag --max-retries: must not be negative, got %d", o.maxRetries)})
	}
	if o.expectedOfferDelay < 0 {
		errs = append(errs, &usageError{fmt.Sprintf("flag --expected-offer-delay: must not be negative, got %s", o.expectedOfferDelay)})
	}
	if o.datagramLimit < transport.MinDatagramLimit || o.datagramLimit > transport.MaxDatagramLimit {
		errs = append(errs, &usageError{fmt.Sprintf("flag --datagram-limit: must be between %d and %d, got %d",
			transport.MinDatagramLimit, transport.MaxDatagramLimit, o.datagramLimit)})
	}
	if o.maxHalfOpenPerSource > o.maxHalfOpen && o.maxHalfOpen > 0 {
		errs = append(errs, &usageError{fmt.Sprintf("flag --max-half-open-per-source: %d exceeds --max-half-open %d", o.maxHalfOpenPerSource, o.maxHalfOpen)})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

// newLogger returns the logr.Logger of the process: slog JSON or text on
// stderr (STYLE §8); -v N enables logr V(N) (slog level -N).
func newLogger(format string, verbosity int, w io.Writer) logr.Logger {
	opts := &slog.HandlerOptions{Level: slog.Level(-verbosity)}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return logr.FromSlogHandler(h)
}

// run is the whole command: it returns when ctx ends (SIGTERM, SIGINT),
// after a graceful shutdown, or when serving fails.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stdout)
	if errors.Is(err, pflag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(o.logFormat, o.verbosity, stderr)

	cert, err := pki.LoadKeyPair(o.tlsCert, o.tlsKey)
	if err != nil {
		return fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	clientCAs, err := pki.LoadCertPool(o.clientCA)
	if err != nil {
		return fmt.Errorf("--client-ca: %w", err)
	}
	pcfg, err := policy.Load(o.policyFile)
	if err != nil {
		return fmt.Errorf("--policy: %w", err)
	}
	pol, err := policy.New(pcfg)
	if err != nil {
		return fmt.Errorf("--policy %s: %w", o.policyFile, err)
	}
	ups, err := upstreamConfigs(ctx, net.DefaultResolver, pcfg.Upstreams, o.handshakeTimeout)
	if err != nil {
		return fmt.Errorf("--policy %s: %w", o.policyFile, err)
	}
	for _, u := range pcfg.Upstreams {
		sc := ups[u.Name]
		log.Info("Child-order upstream configured (RFC 8921 §8.8)", "upstream", u.Name, "address", sc.Address,
			"serverName", sc.ServerName, "clientCertificate", sc.Certificate != nil)
	}

	st, err := store.Open(o.dataDir, store.Options{Logger: log.WithName("store")})
	if err != nil {
		return fmt.Errorf("--data-dir %s: %w", o.dataDir, err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
			return
		}
		log.Info("Closed the store", "path", st.Path())
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	tm := &transport.Metrics{}
	machine := fsm.DefaultServer()
	machine.Retransmit.Timer = o.retransTimer
	machine.Retransmit.MaxRetries = o.maxRetries
	machine.ExpectedOfferDelay = o.expectedOfferDelay
	srv, err := server.New(server.Config{
		Machine:           machine,
		Policy:            pol,
		Store:             st,
		Logger:            log,
		Registerer:        reg,
		TransportMetrics:  tm,
		AllowedSources:    o.allowed,
		FailLimit:         session.FailLimiterConfig{Rate: rate.Limit(o.failRate), Burst: o.failBurst},
		TerminalRetention: o.retention,
		Upstreams:         ups,
	})
	if err != nil {
		return err
	}
	stopped := false
	shut := func() error {
		stopped = true
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.shutdownTimeout)
		defer cancel()
		return srv.Shutdown(sctx)
	}
	defer func() {
		if !stopped {
			err = errors.Join(err, shut())
		}
	}()

	tc := transport.Config{
		Certificates:         []tls.Certificate{cert},
		ClientCAs:            clientCAs,
		HandshakeTimeout:     o.handshakeTimeout,
		IdleTimeout:          o.idleTimeout,
		MaxHalfOpen:          o.maxHalfOpen,
		MaxHalfOpenPerSource: o.maxHalfOpenPerSource,
		DatagramLimit:        o.datagramLimit,
		Logger:               log.WithName("transport"),
		Metrics:              tm,
	}
	type named struct {
		name string
		l    transport.Listener
	}
	var listeners []named
	closeAll := func() {
		for _, n := range listeners {
			_ = n.l.Close()
		}
	}
	if o.listen != "" {
		l, err := transport.ListenDTLS(o.listen, tc)
		if err != nil {
			return fmt.Errorf("--listen %s: %w", o.listen, err)
		}
		listeners = append(listeners, named{"dtls", l})
	}
	if o.tlsListen != "" {
		l, err := transport.ListenTLS(o.tlsListen, tc)
		if err != nil {
			closeAll()
			return fmt.Errorf("--tls-listen %s: %w", o.tlsListen, err)
		}
		listeners = append(listeners, named{"tls", l})
	}
	var admin *http.Server
	var adminLn net.Listener
	if o.adminListen != "" {
		adminLn, err = (&net.ListenConfig{}).Listen(ctx, "tcp", o.adminListen)
		if err != nil {
			closeAll()
			return fmt.Errorf("--admin-listen %s: %w", o.adminListen, err)
		}
		admin = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	}

	var wg sync.WaitGroup
	errc := make(chan error, len(listeners)+1)
	for _, n := range listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Serve ends with Shutdown (graceful: answers waiting for their
			// commit still go out), not with ctx.
			if err := srv.Serve(context.WithoutCancel(ctx), n.l); err != nil && !errors.Is(err, server.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	if admin != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := admin.Serve(adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("admin listener: %w", err)
			}
		}()
	}
	kv := []any{"dataDir", o.dataDir, "orders", len(srv.List())}
	for _, n := range listeners {
		kv = append(kv, n.name, n.l.Addr().String())
	}
	if adminLn != nil {
		kv = append(kv, "admin", adminLn.Addr().String())
	}
	log.Info("Started", kv...)

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("Stopping", "cause", context.Cause(ctx).Error())
	case serveErr = <-errc:
		log.Error(serveErr, "Serving failed; stopping")
	}
	shutErr := shut()
	if admin != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.shutdownTimeout)
		shutErr = errors.Join(shutErr, admin.Shutdown(sctx))
		cancel()
	}
	wg.Wait()
	close(errc)
	for e := range errc {
		serveErr = errors.Join(serveErr, e)
	}
	log.Info("Stopped")
	return errors.Join(serveErr, shutErr)
}
