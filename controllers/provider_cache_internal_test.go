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
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

// countingReader counts the Gets it passes on, by object type.
type countingReader struct {
	ctrlclient.Reader
	mu   sync.Mutex
	gets map[string]int
}

func (r *countingReader) Get(ctx context.Context, key ctrlclient.ObjectKey, obj ctrlclient.Object, opts ...ctrlclient.GetOption) error {
	r.mu.Lock()
	switch obj.(type) {
	case *corev1.Secret:
		r.gets["Secret"]++
	case *v1alpha1.Provider:
		r.gets["Provider"]++
	default:
		r.gets["other"]++
	}
	r.mu.Unlock()
	return r.Reader.Get(ctx, key, obj, opts...)
}

// take returns the counts so far and resets them.
func (r *countingReader) take() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.gets
	r.gets = map[string]int{}
	return g
}

// TestProviderCache checks that resolved provider credentials are kept for
// the TTL while the Provider is unchanged (no Secret read), resolved again
// at once when the Provider changes or once the TTL passed (a Secret
// rotated in place), and that failures are never kept: a Secret that
// appears is used by the next call.
// Reference: RFC 8921 §8.1, §13 (mutually authenticated associations);
// DESIGN §6 (credentials only from Secrets).
func TestProviderCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := runtime.NewScheme()
	if err := errors.Join(corev1.AddToScheme(s), v1alpha1.AddToScheme(s)); err != nil {
		t.Fatal(err)
	}
	p := cpnptest.NewPKI(t)
	issued, err := p.CA.IssueClient("acme", "", pki.DefaultValidity, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := p.CA.IssueClient("acme", "", pki.DefaultValidity, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ca := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cpnp-ca"}, Data: map[string][]byte{DefaultCAKey: p.CA.CertPEM}}
	tlsSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "acme-tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: issued.CertPEM, corev1.TLSPrivateKeyKey: issued.KeyPEM}}
	prov := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "wan"}, Spec: v1alpha1.ProviderSpec{
		Address:                    "127.0.0.1:4443",
		ServerName:                 p.ServerName,
		CASecretRef:                &v1alpha1.SecretReference{Name: "cpnp-ca"},
		ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "acme-tls"},
	}}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(ca, prov).Build()
	r := &countingReader{Reader: c, gets: map[string]int{}}
	now := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	pc := NewProviderCache(30 * time.Second)
	pc.now = func() time.Time { return now }
	ref := v1alpha1.ProviderReference{Kind: v1alpha1.ProviderKindProvider, Name: "wan"}
	resolve := func() (string, error) {
		res, err := pc.Resolve(ctx, r, "ns", ref)
		return res.Fingerprint, err
	}

	// Reference: DESIGN §6: the client certificate Secret is missing.
	if _, err := resolve(); !errors.Is(err, ErrProviderUnavailable) {
		t.Fatalf("without the client certificate Secret: got %v, want ErrProviderUnavailable", err)
	}
	r.take()
	if err := c.Create(ctx, tlsSecret); err != nil {
		t.Fatal(err)
	}
	first, err := resolve()
	if err != nil {
		t.Fatalf("once the Secret exists (failures are not kept): got %v, want nil", err)
	}
	if diff := cmp.Diff(map[string]int{"Provider": 2, "Secret": 2}, r.take()); diff != "" {
		t.Errorf("first resolution reads (-want +got):\n%s", diff)
	}

	now = now.Add(29 * time.Second)
	if got, err := resolve(); err != nil || got != first {
		t.Errorf("within the TTL: got fingerprint %s, %v; want %s, nil", got, err, first)
	}
	if diff := cmp.Diff(map[string]int{"Provider": 1}, r.take()); diff != "" {
		t.Errorf("reads within the TTL (-want +got):\n%s", diff)
	}

	// A Secret rotated in place is used once the entry expires.
	tlsSecret.Data = map[string][]byte{corev1.TLSCertKey: rotated.CertPEM, corev1.TLSPrivateKeyKey: rotated.KeyPEM}
	if err := c.Update(ctx, tlsSecret); err != nil {
		t.Fatal(err)
	}
	if got, _ := resolve(); got != first {
		t.Errorf("rotated Secret within the TTL: got fingerprint %s, want the cached %s", got, first)
	}
	now = now.Add(2 * time.Second)
	second, err := resolve()
	if err != nil || second == first {
		t.Errorf("rotated Secret after the TTL: got fingerprint %s, %v; want a new one, nil", second, err)
	}
	if diff := cmp.Diff(map[string]int{"Provider": 3, "Secret": 2}, r.take()); diff != "" {
		t.Errorf("reads around the expiry (-want +got):\n%s", diff)
	}

	// A changed Provider is resolved again at once.
	prov.Spec.ServerName = "other.example"
	if err := c.Update(ctx, prov); err != nil {
		t.Fatal(err)
	}
	third, err := resolve()
	if err != nil || third == second {
		t.Errorf("changed Provider: got fingerprint %s, %v; want a new one, nil", third, err)
	}
	if diff := cmp.Diff(map[string]int{"Provider": 2, "Secret": 2}, r.take()); diff != "" {
		t.Errorf("reads after a Provider change (-want +got):\n%s", diff)
	}

	// A deleted Provider drops the entry: the error shows at once.
	if err := c.Delete(ctx, prov); err != nil {
		t.Fatal(err)
	}
	if _, err := resolve(); !errors.Is(err, ErrProviderUnavailable) {
		t.Errorf("deleted Provider: got %v, want ErrProviderUnavailable", err)
	}
	if got := len(pc.entries); got != 0 {
		t.Errorf("entries after a failure: got %d, want 0", got)
	}
}

// TestProviderCacheKeys checks that a ClusterProvider whose client
// certificate Secret follows the referrer's namespace is kept once per
// referring namespace (each its own identity and association), that an
// unsupported kind is never kept, and that expired entries are dropped
// once the cache grows past providerCacheSweep.
// Reference: RFC 8921 §13 (one client identity per association); DESIGN §6
// (identity = namespace).
func TestProviderCacheKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := runtime.NewScheme()
	if err := errors.Join(corev1.AddToScheme(s), v1alpha1.AddToScheme(s)); err != nil {
		t.Fatal(err)
	}
	p := cpnptest.NewPKI(t)
	objs := []ctrlclient.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "cpnp-system", Name: "cpnp-ca"}, Data: map[string][]byte{DefaultCAKey: p.CA.CertPEM}},
		&v1alpha1.ClusterProvider{ObjectMeta: metav1.ObjectMeta{Name: "global"}, Spec: v1alpha1.ProviderSpec{
			Address:                    "127.0.0.1:4443",
			ServerName:                 p.ServerName,
			CASecretRef:                &v1alpha1.SecretReference{Namespace: "cpnp-system", Name: "cpnp-ca"},
			ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "tenant-tls"},
		}},
	}
	for _, ns := range []string{"a", "b"} {
		b, err := p.CA.IssueClient(ns, "", pki.DefaultValidity, time.Now().Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant-tls"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: b.CertPEM, corev1.TLSPrivateKeyKey: b.KeyPEM}})
	}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
	now := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	pc := NewProviderCache(0)
	pc.now = func() time.Time { return now }
	for i := range providerCacheSweep {
		pc.entries[providerCacheKey{namespace: "old", name: fmt.Sprintf("p%d", i)}] = providerCacheEntry{expires: now.Add(-time.Second)}
	}
	ref := v1alpha1.ProviderReference{Kind: v1alpha1.ProviderKindClusterProvider, Name: "global"}
	var servers []string
	for _, ns := range []string{"a", "b", "a"} {
		res, err := pc.Resolve(ctx, c, ns, ref)
		if err != nil {
			t.Fatalf("resolve for %s: %v", ns, err)
		}
		servers = append(servers, res.Server)
	}
	want := []string{"ClusterProvider/global@a", "ClusterProvider/global@b", "ClusterProvider/global@a"}
	if diff := cmp.Diff(want, servers); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	if got := len(pc.entries); got != 2 {
		t.Errorf("entries after the sweep: got %d, want 2 (one per referring namespace)", got)
	}
	if _, err := pc.Resolve(ctx, c, "a", v1alpha1.ProviderReference{Kind: "Gateway", Name: "x"}); !errors.Is(err, ErrProviderUnavailable) {
		t.Errorf("unsupported kind: got %v, want ErrProviderUnavailable", err)
	}
	if got := len(pc.entries); got != 2 {
		t.Errorf("entries after an unsupported kind: got %d, want 2", got)
	}
	if got := pc.ttl; got != DefaultProviderCacheTTL {
		t.Errorf("TTL of NewProviderCache(0): got %v, want %v", got, DefaultProviderCacheTTL)
	}
}
