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
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

var errShortRead = io.ErrUnexpectedEOF

// testCredentials returns a CA PEM and a client certificate and key PEM.
func testCredentials(t *testing.T) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	now := time.Now()
	ca, err := pki.NewCA("test CA", 2*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ca.IssueClient("acme", "", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	return ca.CertPEM, b.CertPEM, b.KeyPEM
}

// TestResolveProvider resolves Provider and ClusterProvider references to a
// server configuration, with credentials from Secrets only, and reports
// what is missing as a *ProviderError matching ErrProviderUnavailable.
// Reference: RFC 8921 §8.1, §13 (mutual authentication); DESIGN §5, §6.
func TestResolveProvider(t *testing.T) {
	t.Parallel()
	caPEM, certPEM, keyPEM := testCredentials(t)
	scheme := runtime.NewScheme()
	if err := errors.Join(corev1.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		t.Fatal(err)
	}
	tlsSecret := func(ns, name string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}}
	}
	spec := func(mut func(*v1alpha1.ProviderSpec)) v1alpha1.ProviderSpec {
		s := v1alpha1.ProviderSpec{
			Address:                    "127.0.0.1:8921",
			ServerName:                 "localhost",
			CASecretRef:                &v1alpha1.SecretReference{Name: "ca"},
			ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "client"},
			HandshakeTimeout:           &metav1.Duration{Duration: 3 * time.Second},
			DatagramLimit:              ptrTo(int32(1000)),
			Retransmission:             &v1alpha1.Retransmission{Timer: &metav1.Duration{Duration: 2 * time.Second}, MaxRetries: ptrTo(int32(5))},
		}
		if mut != nil {
			mut(&s)
		}
		return s
	}
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "ca"}, Data: map[string][]byte{"ca.crt": caPEM}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "ca-other-key"}, Data: map[string][]byte{"bundle.pem": caPEM}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "junk"}, Data: map[string][]byte{"ca.crt": []byte("junk")}},
		tlsSecret("team", "client"),
		tlsSecret("cpnp-system", "shared"),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "cpnp-system", Name: "ca"}, Data: map[string][]byte{"ca.crt": caPEM}},
		&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "p"}, Spec: spec(nil)},
		&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "bundle"}, Spec: spec(func(s *v1alpha1.ProviderSpec) {
			s.CASecretRef, s.CABundle = nil, caPEM
		})},
		&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "other-key"}, Spec: spec(func(s *v1alpha1.ProviderSpec) {
			s.CASecretRef = &v1alpha1.SecretReference{Name: "ca-other-key", Key: "bundle.pem"}
		})},
		&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "no-secret"}, Spec: spec(func(s *v1alpha1.ProviderSpec) {
			s.ClientCertificateSecretRef.Name = "missing"
		})},
		&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "bad-ca"}, Spec: spec(func(s *v1alpha1.ProviderSpec) {
			s.CASecretRef.Name = "junk"
		})},
		&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "srv"}, Spec: spec(func(s *v1alpha1.ProviderSpec) {
			s.Address = "_cpnp._udp.example.net"
		})},
		&v1alpha1.ClusterProvider{ObjectMeta: metav1.ObjectMeta{Name: "per-tenant"}, Spec: spec(func(s *v1alpha1.ProviderSpec) {
			s.CASecretRef.Namespace = "cpnp-system"
		})},
		&v1alpha1.ClusterProvider{ObjectMeta: metav1.ObjectMeta{Name: "shared"}, Spec: spec(func(s *v1alpha1.ProviderSpec) {
			s.CASecretRef.Namespace = "cpnp-system"
			s.ClientCertificateSecretRef = v1alpha1.SecretReference{Name: "shared", Namespace: "cpnp-system"}
		})},
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()

	type want struct {
		Server, Address, ServerName string
		HandshakeTimeout            time.Duration
		DatagramLimit               int
		RetransTimer                time.Duration
		MaxRetries                  int
		HasCA, HasCert              bool
	}
	ok := func(server string) want {
		return want{Server: server, Address: "127.0.0.1:8921", ServerName: "localhost", HandshakeTimeout: 3 * time.Second,
			DatagramLimit: 1000, RetransTimer: 2 * time.Second, MaxRetries: 5, HasCA: true, HasCert: true}
	}
	tests := map[string]struct {
		ref        v1alpha1.ProviderReference
		want       want
		wantReason string
	}{
		"provider":                      {ref: v1alpha1.ProviderReference{Name: "p"}, want: ok("Provider/team/p")},
		"provider with caBundle":        {ref: v1alpha1.ProviderReference{Name: "bundle"}, want: ok("Provider/team/bundle")},
		"CA secret key":                 {ref: v1alpha1.ProviderReference{Name: "other-key"}, want: ok("Provider/team/other-key")},
		"cluster provider, per tenant":  {ref: v1alpha1.ProviderReference{Kind: v1alpha1.ProviderKindClusterProvider, Name: "per-tenant"}, want: ok("ClusterProvider/per-tenant@team")},
		"cluster provider, shared cert": {ref: v1alpha1.ProviderReference{Kind: v1alpha1.ProviderKindClusterProvider, Name: "shared"}, want: ok("ClusterProvider/shared")},
		"missing provider":              {ref: v1alpha1.ProviderReference{Name: "nope"}, wantReason: providerNotFound},
		"missing secret":                {ref: v1alpha1.ProviderReference{Name: "no-secret"}, wantReason: secretNotFound},
		"invalid CA":                    {ref: v1alpha1.ProviderReference{Name: "bad-ca"}, wantReason: invalidSecret},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := ResolveProvider(context.Background(), c, "team", tc.ref)
			if tc.wantReason != "" {
				var pe *ProviderError
				if !errors.As(err, &pe) || pe.Reason != tc.wantReason || !errors.Is(err, ErrProviderUnavailable) {
					t.Fatalf("got error %v, want a *ProviderError with reason %s", err, tc.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			got := want{
				Server: res.Server, Address: res.Config.Address, ServerName: res.Config.ServerName,
				HandshakeTimeout: res.Config.Options.HandshakeTimeout, DatagramLimit: res.Config.Options.DatagramLimit,
				RetransTimer: res.Machine.Retransmit.Timer, MaxRetries: res.Machine.Retransmit.MaxRetries,
				HasCA: res.Config.RootCAs != nil, HasCert: res.Config.Certificate != nil,
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if res.Fingerprint == "" {
				t.Error("fingerprint: got empty, want a hash")
			}
		})
	}
}

// TestResolveProviderFingerprint checks that the fingerprint follows the
// credentials, so that a rotated client certificate replaces the
// association (the engine re-adds the server).
// Reference: RFC 8921 §13; DESIGN §4.
func TestResolveProviderFingerprint(t *testing.T) {
	t.Parallel()
	caPEM, certPEM, keyPEM := testCredentials(t)
	_, cert2, key2 := testCredentials(t)
	scheme := runtime.NewScheme()
	if err := errors.Join(corev1.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "client"},
		Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}}
	p := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "p"}, Spec: v1alpha1.ProviderSpec{
		Address: "127.0.0.1:8921", CABundle: caPEM, ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "client"},
	}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(sec, p).Build()
	ctx := context.Background()
	ref := v1alpha1.ProviderReference{Name: "p"}
	a, err := ResolveProvider(ctx, c, "team", ref)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ResolveProvider(ctx, c, "team", ref)
	if err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint != b.Fingerprint {
		t.Errorf("same inputs: got fingerprints %s and %s, want equal", a.Fingerprint, b.Fingerprint)
	}
	sec.Data = map[string][]byte{corev1.TLSCertKey: cert2, corev1.TLSPrivateKeyKey: key2}
	if err := c.Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	r, err := ResolveProvider(ctx, c, "team", ref)
	if err != nil {
		t.Fatal(err)
	}
	if r.Fingerprint == a.Fingerprint {
		t.Error("rotated certificate: got the same fingerprint, want a new one")
	}
}
