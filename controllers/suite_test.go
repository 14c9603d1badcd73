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
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	cpnpclient "github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// The integration tests share one envtest control plane (a real
// kube-apiserver and etcd from KUBEBUILDER_ASSETS, which
// hack/envtest-assets.sh builds) with the CRDs of config/crd/bases, started
// by the first test that asks for it; TestMain stops it. Each test runs its
// own manager (engine + reconciler) against an in-process CPNP server
// engine over real DTLS on 127.0.0.1.

// envRequired is the variable `make test` sets so that a missing control
// plane fails the tests instead of skipping them.
const envRequired = "CPNP_REQUIRE_ENVTEST"

var (
	apiOnce sync.Once
	apiEnv  *envtest.Environment
	apiC    client.Client
	apiCfg  *rest.Config
	apiErr  error
	scheme  = runtime.NewScheme()
)

func TestMain(m *testing.M) {
	code := m.Run()
	if apiEnv != nil {
		if err := apiEnv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop envtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// apiServer returns a client of the shared API server, starting it on first
// use. Without KUBEBUILDER_ASSETS the test is skipped, unless
// CPNP_REQUIRE_ENVTEST=1 (make test), which makes it fail.
func apiServer(t *testing.T) client.Client {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		const how = "KUBEBUILDER_ASSETS is not set: run `make test`, or " +
			"KUBEBUILDER_ASSETS=\"$(hack/envtest-assets.sh --assets-only)\" go test ./controllers/..."
		if os.Getenv(envRequired) == "1" {
			t.Fatal(how + " (" + envRequired + "=1 requires the API server tests)")
		}
		t.Skip(how)
	}
	apiOnce.Do(startAPIServer)
	if apiErr != nil {
		t.Fatalf("envtest: %v", apiErr)
	}
	return apiC
}

func startAPIServer() {
	logf.SetLogger(logr.Discard())
	if err := errors.Join(corev1.AddToScheme(scheme), eventsv1.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		apiErr = err
		return
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		apiErr = fmt.Errorf("start the control plane from KUBEBUILDER_ASSETS=%s: %w", os.Getenv("KUBEBUILDER_ASSETS"), err)
		return
	}
	apiEnv = env
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		apiErr = fmt.Errorf("client: %w", err)
		return
	}
	apiC, apiCfg = c, cfg
}

// ctxFor returns a context bounded by 60 s and the test.
func ctxFor(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// namespace creates a namespace for one test run, named after prefix (so
// that -count=N runs do not collide), and returns its name.
func namespace(t *testing.T, c client.Client, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := c.Create(ctxFor(t), ns); err != nil {
		t.Fatalf("create namespace %s-*: %v", prefix, err)
	}
	return ns.Name
}

// manager runs the engine and the QuotationOrder reconciler until stop is
// called or the test ends; stop waits for the manager to return.
func manager(t *testing.T) (stop func()) {
	t.Helper()
	return managerWith(t, nil)
}

// managerWith is manager with agreementNow, when not nil, as the clock of
// the AgreementReconciler.
func managerWith(t *testing.T, agreementNow func() time.Time) (stop func()) {
	t.Helper()
	return managerOpts(t, mgrOpts{agreementNow: agreementNow})
}

// mgrOpts are the knobs of managerOpts; the zero value is manager(t).
type mgrOpts struct {
	// cfg, when not nil, authenticates the manager (default: the envtest
	// administrator, apiCfg).
	cfg *rest.Config
	// agreementNow, when not nil, is the AgreementReconciler's clock.
	agreementNow func() time.Time
	// namespace, when not empty, is the only namespace the manager's
	// cache watches, so that several managers can run side by side.
	namespace string
}

// managerOpts runs the engine and the QuotationOrder and Agreement
// reconcilers as cmd/manager does, with the options o, until stop is called
// or the test ends; stop waits for the manager to return.
func managerOpts(t *testing.T, o mgrOpts) (stop func()) {
	t.Helper()
	cfg := o.cfg
	if cfg == nil {
		cfg = apiCfg
	}
	opts := ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Client:                 controllers.ClientOptions(), // Secrets uncached, as cmd/manager
	}
	if o.namespace != "" {
		opts.Cache.DefaultNamespaces = map[string]cache.Config{o.namespace: {}}
	}
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		t.Fatalf("new manager: %v", err)
	}
	engine, err := controllers.NewEngine(controllers.EngineConfig{
		Mux:         cpnpclient.MuxConfig{MinBackoff: 20 * time.Millisecond, MaxBackoff: 500 * time.Millisecond},
		SendTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Add(engine); err != nil {
		t.Fatal(err)
	}
	r := &controllers.QuotationOrderReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Engine: engine, Recorder: mgr.GetEventRecorder("cpnp-operator")}
	if err := r.SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: 2, SkipNameValidation: ptr.To(true)}); err != nil {
		t.Fatal(err)
	}
	ar := &controllers.AgreementReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Engine: engine,
		Recorder: mgr.GetEventRecorder("cpnp-operator"), Now: o.agreementNow}
	if err := ar.SetupWithManager(mgr, controller.Options{SkipNameValidation: ptr.To(true)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// cpnpServer is the in-process server engine (pkg/cpnp/server) over DTLS.
type cpnpServer struct {
	addr string
	srv  *server.Server
	pol  *policy.Pools
}

// startServer runs a server for tenant acme with pool "wan" (1 Gb/s each
// way, QoS class gold, automatic approval); maxBps, when not zero, caps what
// acme may hold each way, so that larger requests get a counter-offer.
func startServer(t *testing.T, p *cpnptest.PKI, maxBps int64) *cpnpServer {
	t.Helper()
	return startServerWith(t, p, maxBps, 0)
}

// startServerWith is startServer with the pool's offer validity (RFC 8921
// §9.1.8) set to validity when not zero.
func startServerWith(t *testing.T, p *cpnptest.PKI, maxBps int64, validity time.Duration) *cpnpServer {
	t.Helper()
	return startServerOpts(t, p, serverOpts{maxBps: maxBps, validity: validity})
}

// serverOpts are the knobs of startServerOpts; the zero value is
// startServer(t, p, 0).
type serverOpts struct {
	// maxBps, when not zero, caps what acme may hold each way.
	maxBps int64
	// validity, when not zero, is the pool's offer validity (§9.1.8).
	validity time.Duration
	// approval, when not empty, is the pool's approval mode (RFC 8921
	// §8.2, §12.2); Manual holds every order in AwaitingProcessing.
	approval policy.ApprovalMode
	// wrap, when not nil, wraps the server's listener (for example to
	// record the messages the server receives).
	wrap func(transport.Listener) transport.Listener
}

// startServerOpts is startServer with the options o.
func startServerOpts(t *testing.T, p *cpnptest.PKI, o serverOpts) *cpnpServer {
	t.Helper()
	maxBps, validity := o.maxBps, o.validity
	st, err := store.Open(filepath.Join(t.TempDir(), "data"), store.Options{JournalSize: store.MinJournalSize})
	if err != nil {
		t.Fatal(err)
	}
	gold := policy.QoSClass{Name: "gold", OneWayDelayMs: ptr.To(10.0), DelayVariationMs: ptr.To(2.0), LossRatio: ptr.To(0.0001)}
	tenant := policy.Tenant{Identity: "acme", Pools: []string{"wan"}}
	if maxBps != 0 {
		tenant.MaxIncomingBps, tenant.MaxOutgoingBps = &maxBps, &maxBps
	}
	pool := policy.Pool{Name: "wan", Capacity: policy.Capacity{IncomingBps: 1e9, OutgoingBps: 1e9},
		QoSClasses: []policy.QoSClass{gold}, Approval: policy.Approval{Mode: policy.ApprovalAutomatic}}
	if o.approval != "" {
		pool.Approval.Mode = o.approval
	}
	if validity != 0 {
		pool.OfferValidity = &policy.Duration{Duration: validity}
	}
	pol, err := policy.New(policy.Config{Pools: []policy.Pool{pool}, Tenants: []policy.Tenant{tenant}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Policy: pol, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	l, err := transport.ListenDTLS("127.0.0.1:0", transport.Config{Certificates: []tls.Certificate{p.Server}, ClientCAs: p.Pool})
	if err != nil {
		t.Fatal(err)
	}
	if o.wrap != nil {
		l = o.wrap(l)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("close server store: %v", err)
		}
	})
	return &cpnpServer{addr: l.Addr().String(), srv: srv, pol: pol}
}

// provider creates, in ns, the Secrets of tenant acme (CA and client
// certificate) and a Provider named name for s.
func provider(t *testing.T, c client.Client, ns, name string, p *cpnptest.PKI, s *cpnpServer) {
	t.Helper()
	ctx := ctxFor(t)
	b, err := p.CA.IssueClient("acme", "", pki.DefaultValidity, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cpnp-ca"}, Data: map[string][]byte{"ca.crt": p.CA.CertPEM}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "acme-tls"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: b.CertPEM, corev1.TLSPrivateKeyKey: b.KeyPEM}},
		&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1alpha1.ProviderSpec{
			Address:                    s.addr,
			ServerName:                 p.ServerName,
			CASecretRef:                &v1alpha1.SecretReference{Name: "cpnp-ca"},
			ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "acme-tls"},
		}},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

// order returns a QuotationOrder asking provider for 10 Mb/s each way of
// QoS class class.
func order(ns, name, provider, class string, acceptance v1alpha1.AcceptanceMode) *v1alpha1.QuotationOrder {
	c := cpd.CPD{Components: []cpd.Component{{
		CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-par-1"}},
		QoS:           &cpd.QoS{Class: class},
		Capacity:      &cpd.Capacity{IncomingBps: cpd.Fixed(10e6), OutgoingBps: cpd.Fixed(10e6)},
	}}}
	return &v1alpha1.QuotationOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.QuotationOrderSpec{
			ProviderRefs:         []v1alpha1.ProviderReference{{Kind: v1alpha1.ProviderKindProvider, Name: provider}},
			CPD:                  v1alpha1.CPDFromProtocol(c),
			ExpectedResponseTime: &metav1.Duration{Duration: 10 * time.Minute},
			Acceptance:           acceptance,
		},
	}
}

// waitFor polls get until cond holds or ctx ends (no sleep-based
// assertions: the deadline only bounds the wait).
func waitFor[T client.Object](t *testing.T, c client.Client, obj T, what string, cond func(T) bool) T {
	t.Helper()
	ctx := ctxFor(t)
	key := client.ObjectKeyFromObject(obj)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Get(ctx, key, obj)
		if err == nil && cond(obj) {
			return obj
		}
		select {
		case <-ctx.Done():
			var secrets corev1.SecretList
			_ = c.List(context.Background(), &secrets, client.InNamespace(key.Namespace))
			var keys []string
			for _, s := range secrets.Items {
				for k := range s.Data {
					keys = append(keys, s.Name+":"+k)
				}
			}
			t.Fatalf("%T %s: timed out waiting for %s (last error %v): %s; secret keys %v", obj, key, what, err, statusOf(obj), keys)
		case <-tick.C:
		}
	}
}

// waitAgreement waits until the Agreement of qo (status.agreementRef) has
// a contract ID, and returns it.
func waitAgreement(t *testing.T, c client.Client, qo *v1alpha1.QuotationOrder) *v1alpha1.Agreement {
	t.Helper()
	return waitFor(t, c, &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Namespace: qo.Namespace, Name: qo.Status.AgreementRef.Name}},
		"a contract ID", func(a *v1alpha1.Agreement) bool { return a.Status.ContractID != "" })
}

// condition returns the condition of type typ, or nil.
func condition(conds []metav1.Condition, typ string) *metav1.Condition {
	return apimeta.FindStatusCondition(conds, typ)
}

// statusOf renders obj's status as JSON for failure messages, without the
// opaque protocol state.
func statusOf(obj client.Object) string {
	var st any
	switch o := obj.(type) {
	case *v1alpha1.QuotationOrder:
		s := o.Status.DeepCopy()
		for i := range s.Providers {
			s.Providers[i].Protocol = nil
		}
		st = s
	case *v1alpha1.Offer:
		st = o.Status
	case *v1alpha1.Agreement:
		s := o.Status.DeepCopy()
		s.Protocol = nil
		st = s
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
