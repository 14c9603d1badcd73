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

package controllers

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// fakeSRV answers SRV lookups from a table and records the names asked.
type fakeSRV struct {
	answers map[string][]*net.SRV
	asked   []string
}

func (f *fakeSRV) lookup(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	f.asked = append(f.asked, service+"|"+proto+"|"+name)
	srvs, ok := f.answers[name]
	if !ok {
		return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return name, srvs, nil
}

// withSRV replaces lookupSRV for one test; such tests are not parallel.
func withSRV(t *testing.T, answers map[string][]*net.SRV) *fakeSRV {
	t.Helper()
	f := &fakeSRV{answers: answers}
	old := lookupSRV
	lookupSRV = f.lookup
	t.Cleanup(func() { lookupSRV = old })
	return f
}

// TestResolveProviderSRV resolves a provider address given as a DNS SRV
// name (RFC 8921 §8.1, RFC 2782): the first target (Go's resolver orders by
// priority, then weight), the source domain as the server's reference
// identity unless spec.serverName says otherwise (RFC 6125 §6.2.1), TLS for
// _cpnp._tcp, and AddressNotResolved for a name without an answer, without
// targets or with the "." target.
func TestResolveProviderSRV(t *testing.T) {
	f := withSRV(t, map[string][]*net.SRV{
		"_cpnp._udp.wan.example.net": {{Target: "cpnp-1.wan.example.net.", Port: 8921, Priority: 10}, {Target: "cpnp-2.wan.example.net.", Port: 8921, Priority: 20}},
		"_cpnp._tcp.wan.example.net": {{Target: "cpnp-tls.wan.example.net.", Port: 9921}},
		"_cpnp._udp.empty.example":   {},
		"_cpnp._udp.dot.example":     {{Target: ".", Port: 0}},
	})
	caPEM, certPEM, keyPEM := testCredentials(t)
	scheme := runtime.NewScheme()
	if err := errors.Join(corev1.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		address, serverName string
		transport           v1alpha1.Transport
		wantAddr, wantName  string
		wantTransport       client.Transport
		wantReason          string
	}{
		"udp, domain as identity": {address: "_cpnp._udp.wan.example.net", wantAddr: "cpnp-1.wan.example.net:8921",
			wantName: "wan.example.net", wantTransport: client.TransportDTLS},
		"explicit server name kept": {address: "_cpnp._udp.wan.example.net", serverName: "cpnp.wan.example.net",
			wantAddr: "cpnp-1.wan.example.net:8921", wantName: "cpnp.wan.example.net", wantTransport: client.TransportDTLS},
		"tcp for TLS": {address: "_cpnp._tcp.wan.example.net", transport: v1alpha1.TransportTLS,
			wantAddr: "cpnp-tls.wan.example.net:9921", wantName: "wan.example.net", wantTransport: client.TransportTLS},
		"host:port untouched": {address: "10.0.0.1:8921", serverName: "cpnp.example.net",
			wantAddr: "10.0.0.1:8921", wantName: "cpnp.example.net", wantTransport: client.TransportDTLS},
		"no such name":    {address: "_cpnp._udp.missing.example", wantReason: addressNotResolved},
		"no target":       {address: "_cpnp._udp.empty.example", wantReason: addressNotResolved},
		"service refused": {address: "_cpnp._udp.dot.example", wantReason: addressNotResolved},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "wan"}, Spec: v1alpha1.ProviderSpec{
				Address: tc.address, ServerName: tc.serverName, Transport: tc.transport,
				CABundle:                   caPEM,
				ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "client"},
			}}
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(p, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "client"}, Type: corev1.SecretTypeTLS,
				Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}}).Build()
			res, err := ResolveProvider(context.Background(), c, "ns", v1alpha1.ProviderReference{Name: "wan"})
			if tc.wantReason != "" {
				var pe *ProviderError
				if !errors.As(err, &pe) || pe.Reason != tc.wantReason {
					t.Fatalf("ResolveProvider: got %v, want a ProviderError with reason %s", err, tc.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveProvider: %v", err)
			}
			if res.Config.Address != tc.wantAddr || res.Config.ServerName != tc.wantName || res.Config.Transport != tc.wantTransport {
				t.Errorf("config: got address %q server name %q transport %v, want %q %q %v",
					res.Config.Address, res.Config.ServerName, res.Config.Transport, tc.wantAddr, tc.wantName, tc.wantTransport)
			}
		})
	}
	for _, a := range f.asked {
		if !strings.HasPrefix(a, "||_cpnp._") {
			t.Errorf("lookup %q: want the SRV name as given (no service/proto split)", a)
		}
	}
	if len(f.asked) != 6 {
		t.Errorf("lookups: got %d (%q), want one per SRV address (6)", len(f.asked), f.asked)
	}

	// The fingerprint follows the resolved target, so that a changed SRV
	// record makes the engine dial the new server.
	p := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "wan"}, Spec: v1alpha1.ProviderSpec{
		Address: "_cpnp._udp.wan.example.net", CABundle: caPEM, ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "client"}}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(p).WithObjects(p, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "client"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}}).Build()
	ref := v1alpha1.ProviderReference{Name: "wan"}
	before, err := ResolveProvider(context.Background(), c, "ns", ref)
	if err != nil {
		t.Fatal(err)
	}
	f.answers["_cpnp._udp.wan.example.net"] = []*net.SRV{{Target: "cpnp-3.wan.example.net.", Port: 8921}}
	after, err := ResolveProvider(context.Background(), c, "ns", ref)
	if err != nil {
		t.Fatal(err)
	}
	if before.Fingerprint == after.Fingerprint {
		t.Errorf("fingerprint: unchanged after the SRV target moved from %s to %s", before.Config.Address, after.Config.Address)
	}

	// The reachability check reports a name that does not resolve as
	// Unreachable (transient), not as a configuration error.
	p.Spec.Address = "_cpnp._udp.missing.example"
	if err := c.Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	r := &ProviderReconciler{Client: c, CheckInterval: 10 * time.Minute,
		Now: func() time.Time { return time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC) },
		Probe: func(context.Context, string, client.Transport, transport.Config) (transport.Conn, error) {
			t.Error("probe: got a handshake for an address that does not resolve")
			return nil, errors.New("unexpected")
		}}
	key := types.NamespacedName{Namespace: "ns", Name: "wan"}
	if _, err := r.reconcile(context.Background(), v1alpha1.ProviderKindProvider, ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	var got v1alpha1.Provider
	if err := c.Get(context.Background(), key, &got); err != nil {
		t.Fatal(err)
	}
	ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
	reconciling := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReconciling)
	if ready == nil || ready.Reason != ReasonUnreachable || reconciling == nil || reconciling.Status != metav1.ConditionTrue {
		t.Errorf("conditions: got Ready %+v Reconciling %+v, want Ready reason Unreachable and Reconciling=True", ready, reconciling)
	}
}
