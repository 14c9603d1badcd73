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
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

// providerManager runs a manager with only the ProviderReconciler, checking
// every interval, until the test ends.
func providerManager(t *testing.T, interval time.Duration) {
	t.Helper()
	mgr, err := ctrl.NewManager(apiCfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Client:                 controllers.ClientOptions(),
	})
	if err != nil {
		t.Fatalf("new manager: %v", err)
	}
	pr := &controllers.ProviderReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder("cpnp-operator"), CheckInterval: interval}
	if err := pr.SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: 2, SkipNameValidation: ptr.To(true)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager: %v", err)
			}
		})
	})
}

// readyReason waits until the provider's Ready condition has reason and
// returns the object.
func waitProviderReason[T client.Object](t *testing.T, c client.Client, obj T, reason string, status func(T) v1alpha1.ProviderStatus) v1alpha1.ProviderStatus {
	t.Helper()
	got := waitFor(t, c, obj, "Ready reason "+reason, func(o T) bool {
		r := condition(status(o).Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Reason == reason && status(o).ObservedGeneration == o.GetGeneration()
	})
	return status(got)
}

func providerStatus(p *v1alpha1.Provider) v1alpha1.ProviderStatus               { return p.Status }
func clusterProviderStatus(p *v1alpha1.ClusterProvider) v1alpha1.ProviderStatus { return p.Status }

// wantConditions checks Ready, Reconciling and Stalled (kstatus) and the
// observed generation of every condition.
func wantConditions(t *testing.T, st v1alpha1.ProviderStatus, gen int64, ready, reconciling, stalled metav1.ConditionStatus) {
	t.Helper()
	for typ, want := range map[string]metav1.ConditionStatus{
		v1alpha1.ConditionReady: ready, v1alpha1.ConditionReconciling: reconciling, v1alpha1.ConditionStalled: stalled,
	} {
		c := condition(st.Conditions, typ)
		if c == nil || c.Status != want || c.ObservedGeneration != gen {
			t.Errorf("%s: got %+v, want %s at generation %d", typ, c, want, gen)
		}
	}
}

// handshakeFailureCount reads cpnp_operator_handshake_failures_total{provider, reason}.
func handshakeFailureCount(t *testing.T, provider, reason string) float64 {
	t.Helper()
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != controllers.MetricHandshakeFailures {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["provider"] == provider && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestProviderReachability checks the reachability check of Providers: a
// DTLS handshake with the server using the Provider's Secrets (RFC 8921
// §8.1, §13) makes it Ready (Reachable, kstatus Current); a CA that does
// not verify the server makes it Ready=False InvalidCredentials (Stalled)
// with the TLS failure in the message and in
// cpnp_operator_handshake_failures_total; a missing Secret makes it
// SecretNotFound until the Secret exists, which the periodic recheck
// notices (Secrets are not watched); a server that does not answer makes it
// Unreachable (Reconciling, transient). Each change emits an Event.
// Reference: RFC 8921 §8.1, §13; DESIGN §5 (Provider status: last
// reachability check; kstatus conditions).
func TestProviderReachability(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "reach")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	providerManager(t, 500*time.Millisecond)
	ctx := ctxFor(t)

	// Reachable.
	provider(t, c, ns, "wan", p, srv)
	wan := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wan"}}
	st := waitProviderReason(t, c, wan, controllers.ReasonReachable, providerStatus)
	wantConditions(t, st, wan.Generation, metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionFalse)
	if st.LastCheck == nil || st.LastCheck.Result != v1alpha1.Reachable || st.LastCheck.ServerIdentity == "" || st.LastCheck.Time.IsZero() {
		t.Errorf("lastCheck: got %+v, want Reachable with the server identity and a time", st.LastCheck)
	}
	waitEvent(t, c, ns, "wan", corev1.EventTypeNormal, controllers.ReasonReachable)

	// A CA that did not issue the server certificate.
	other := cpnptest.NewPKI(t)
	spec := func(ca, clientSecret string) v1alpha1.ProviderSpec {
		return v1alpha1.ProviderSpec{Address: srv.addr, ServerName: p.ServerName,
			CASecretRef:                &v1alpha1.SecretReference{Name: ca},
			ClientCertificateSecretRef: v1alpha1.SecretReference{Name: clientSecret}}
	}
	failuresBefore := handshakeFailureCount(t, "Provider/"+ns+"/wrong-ca", "unknown_authority")
	for _, o := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other-ca"}, Data: map[string][]byte{"ca.crt": other.CA.CertPEM}},
		&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wrong-ca"}, Spec: spec("other-ca", "acme-tls")},
	} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	wrong := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wrong-ca"}}
	st = waitProviderReason(t, c, wrong, controllers.ReasonInvalidCredentials, providerStatus)
	wantConditions(t, st, wrong.Generation, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue)
	if r := condition(st.Conditions, v1alpha1.ConditionReady); !strings.Contains(r.Message, "unknown authority") {
		t.Errorf("Ready message: got %q, want it to name the TLS failure (unknown authority)", r.Message)
	}
	if st.LastCheck == nil || st.LastCheck.Result != v1alpha1.Unreachable || !strings.Contains(st.LastCheck.Message, "unknown authority") {
		t.Errorf("lastCheck: got %+v, want Unreachable naming the unknown authority", st.LastCheck)
	}
	if got := handshakeFailureCount(t, "Provider/"+ns+"/wrong-ca", "unknown_authority") - failuresBefore; got < 1 {
		t.Errorf("%s{unknown_authority}: got +%v, want at least +1", controllers.MetricHandshakeFailures, got)
	}
	waitEvent(t, c, ns, "wrong-ca", corev1.EventTypeWarning, controllers.ReasonInvalidCredentials)

	// A missing client certificate Secret, then created: the periodic
	// recheck makes the Provider Ready.
	if err := c.Create(ctx, &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "late"}, Spec: spec("cpnp-ca", "late-tls")}); err != nil {
		t.Fatal(err)
	}
	late := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "late"}}
	st = waitProviderReason(t, c, late, controllers.ReasonSecretNotFound, providerStatus)
	wantConditions(t, st, late.Generation, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue)
	waitEvent(t, c, ns, "late", corev1.EventTypeWarning, controllers.ReasonSecretNotFound)
	b, err := p.CA.IssueClient("acme", "", pki.DefaultValidity, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "late-tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: b.CertPEM, corev1.TLSPrivateKeyKey: b.KeyPEM}}); err != nil {
		t.Fatal(err)
	}
	st = waitProviderReason(t, c, late, controllers.ReasonReachable, providerStatus)
	wantConditions(t, st, late.Generation, metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionFalse)
	waitEvent(t, c, ns, "late", corev1.EventTypeNormal, controllers.ReasonReachable)

	// Nobody answers: a UDP port with no server behind it.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	silent := spec("cpnp-ca", "acme-tls")
	silent.Address = pc.LocalAddr().String()
	silent.HandshakeTimeout = &metav1.Duration{Duration: time.Second}
	if err := c.Create(ctx, &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "silent"}, Spec: silent}); err != nil {
		t.Fatal(err)
	}
	sil := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "silent"}}
	st = waitProviderReason(t, c, sil, controllers.ReasonUnreachable, providerStatus)
	wantConditions(t, st, sil.Generation, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse)
}

// TestClusterProviderReachability checks ClusterProviders: one with its
// own client certificate (a namespaced clientCertificateSecretRef) is
// checked like a Provider; one whose client certificate follows the
// referring order's namespace has none of its own, and counts as
// reachable when the server verified by its CA refuses the certificate-less
// handshake, but not when the CA does not verify the server.
// Reference: RFC 8921 §8.1, §13; DESIGN §5, §6 (identity = namespace).
func TestClusterProviderReachability(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "creach")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "unused", p, srv) // the Secrets cpnp-ca and acme-tls
	providerManager(t, 500*time.Millisecond)
	ctx := ctxFor(t)

	other := cpnptest.NewPKI(t)
	if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other-ca"},
		Data: map[string][]byte{"ca.crt": other.CA.CertPEM}}); err != nil {
		t.Fatal(err)
	}
	mkCA := func(name, ca, clientNS string) *v1alpha1.ClusterProvider {
		cp := &v1alpha1.ClusterProvider{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ProviderSpec{
			Address: srv.addr, ServerName: p.ServerName,
			CASecretRef:                &v1alpha1.SecretReference{Name: ca, Namespace: ns},
			ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "acme-tls", Namespace: clientNS},
		}}
		if err := c.Create(ctx, cp); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Delete(context.Background(), cp) })
		return &v1alpha1.ClusterProvider{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	mk := func(name, clientNS string) *v1alpha1.ClusterProvider { return mkCA(name, "cpnp-ca", clientNS) }
	own := mk(ns+"-own", ns)
	st := waitProviderReason(t, c, own, controllers.ReasonReachable, clusterProviderStatus)
	wantConditions(t, st, own.Generation, metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionFalse)
	if st.LastCheck == nil || st.LastCheck.ServerIdentity == "" {
		t.Errorf("lastCheck: got %+v, want the server identity", st.LastCheck)
	}

	perNS := mk(ns+"-per-namespace", "")
	st = waitProviderReason(t, c, perNS, controllers.ReasonReachable, clusterProviderStatus)
	if r := condition(st.Conditions, v1alpha1.ConditionReady); !strings.Contains(r.Message, "without a client certificate") {
		t.Errorf("Ready message: got %q, want it to say the client certificate was not presented", r.Message)
	}

	// Without a client certificate, the server's certificate is still
	// verified: a wrong CA is InvalidCredentials, not Reachable.
	wrong := mkCA(ns+"-per-namespace-wrong-ca", "other-ca", "")
	st = waitProviderReason(t, c, wrong, controllers.ReasonInvalidCredentials, clusterProviderStatus)
	if r := condition(st.Conditions, v1alpha1.ConditionReady); !strings.Contains(r.Message, "unknown authority") {
		t.Errorf("Ready message: got %q, want it to name the unknown authority", r.Message)
	}
}
