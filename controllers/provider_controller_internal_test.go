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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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

// TestProviderCheckReasons checks how one reachability check is
// classified, with the handshake stubbed: each resolution failure and each
// handshake outcome maps to the Ready reason, lastCheck result and kstatus
// conditions documented in docs/operations.md, and the next check is
// scheduled after CheckInterval (at most 1m after a failure).
// Reference: RFC 8921 §8.1, §13; DESIGN §5.
func TestProviderCheckReasons(t *testing.T) {
	t.Parallel()
	caPEM, certPEM, keyPEM := testCredentials(t)
	scheme := runtime.NewScheme()
	if err := errors.Join(corev1.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		t.Fatal(err)
	}
	hs := func(r transport.HandshakeReason) error {
		return fmt.Errorf("dial: %w", &transport.HandshakeError{Reason: r, Transport: "dtls"})
	}
	type want struct {
		reason                      string
		result                      v1alpha1.ReachabilityResult
		ready, reconciling, stalled metav1.ConditionStatus
		requeue                     time.Duration
	}
	reachable := want{ReasonReachable, v1alpha1.Reachable, metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionFalse, 10 * time.Minute}
	stalled := func(reason string) want {
		return want{reason, v1alpha1.Unreachable, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue, time.Minute}
	}
	unreachable := want{ReasonUnreachable, v1alpha1.Unreachable, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse, time.Minute}
	tests := map[string]struct {
		mut      func(*v1alpha1.ProviderSpec)
		secrets  []string // default: ca and client
		probeErr error
		want     want
	}{
		"reachable":           {want: reachable},
		"unknown authority":   {probeErr: hs(transport.ReasonUnknownAuthority), want: stalled(ReasonInvalidCredentials)},
		"bad server name":     {probeErr: hs(transport.ReasonBadServerName), want: stalled(ReasonInvalidCredentials)},
		"refused certificate": {probeErr: hs(transport.ReasonPeerRefused), want: stalled(ReasonInvalidCredentials)},
		"timeout":             {probeErr: hs(transport.ReasonTimeout), want: unreachable},
		"network error":       {probeErr: errors.New("connection refused"), want: unreachable},
		"missing secret":      {secrets: []string{"ca"}, want: stalled(ReasonSecretNotFound)},
		"ca secret without the key": {
			mut: func(s *v1alpha1.ProviderSpec) { s.CASecretRef.Key = "other.crt" }, want: stalled(ReasonInvalidCredentials)},
		"tls transport": {mut: func(s *v1alpha1.ProviderSpec) { s.Transport = v1alpha1.TransportTLS }, want: reachable},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec := v1alpha1.ProviderSpec{Address: "127.0.0.1:8921", ServerName: "localhost",
				CASecretRef: &v1alpha1.SecretReference{Name: "ca"}, ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "client"}}
			if tc.mut != nil {
				tc.mut(&spec)
			}
			p := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "wan", Generation: 3}, Spec: spec}
			secrets := map[string]*corev1.Secret{
				"ca": {ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ca"}, Data: map[string][]byte{"ca.crt": caPEM}},
				"client": {ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "client"}, Type: corev1.SecretTypeTLS,
					Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}},
			}
			b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(p).WithStatusSubresource(p)
			names := tc.secrets
			if names == nil {
				names = []string{"ca", "client"}
			}
			for _, n := range names {
				b = b.WithObjects(secrets[n])
			}
			c := b.Build()
			var dialled *transport.Config
			r := &ProviderReconciler{Client: c, CheckInterval: 10 * time.Minute,
				Now: func() time.Time { return time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC) },
				Probe: func(_ context.Context, addr string, _ client.Transport, cfg transport.Config) (transport.Conn, error) {
					dialled = &cfg
					if tc.probeErr != nil {
						return nil, tc.probeErr
					}
					return newMemConn(), nil
				}}
			key := types.NamespacedName{Namespace: "ns", Name: "wan"}
			res, err := r.reconcile(context.Background(), v1alpha1.ProviderKindProvider, ctrl.Request{NamespacedName: key})
			if err != nil {
				t.Fatalf("reconcile: %v", err)
			}
			if res.RequeueAfter != tc.want.requeue {
				t.Errorf("requeue after: got %s, want %s", res.RequeueAfter, tc.want.requeue)
			}
			var got v1alpha1.Provider
			if err := c.Get(context.Background(), key, &got); err != nil {
				t.Fatal(err)
			}
			st := got.Status
			if st.ObservedGeneration != 3 || st.LastCheck == nil || st.LastCheck.Result != tc.want.result {
				t.Fatalf("status: got observedGeneration %d lastCheck %+v, want 3 and %s", st.ObservedGeneration, st.LastCheck, tc.want.result)
			}
			gotConds := map[string]string{}
			for _, cond := range st.Conditions {
				gotConds[cond.Type] = string(cond.Status)
			}
			wantConds := map[string]string{v1alpha1.ConditionReady: string(tc.want.ready),
				v1alpha1.ConditionReconciling: string(tc.want.reconciling), v1alpha1.ConditionStalled: string(tc.want.stalled)}
			if diff := cmp.Diff(wantConds, gotConds); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if r := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady); r.Reason != tc.want.reason || r.ObservedGeneration != 3 {
				t.Errorf("Ready: got reason %s generation %d, want %s generation 3", r.Reason, r.ObservedGeneration, tc.want.reason)
			}
			if tc.want.reason == ReasonReachable || tc.probeErr != nil {
				if dialled == nil || dialled.RootCAs == nil || len(dialled.Certificates) != 1 || dialled.ServerName != "localhost" {
					t.Errorf("probe config: got %+v, want the CA, the client certificate and the server name", dialled)
				}
			} else if dialled != nil {
				t.Errorf("probe: got a handshake, want none when the provider does not resolve")
			}
		})
	}
}

// TestProviderCheckDeleted checks that a Provider deleted before its check
// is not an error and schedules nothing.
// Reference: DESIGN §5.
func TestProviderCheckDeleted(t *testing.T) {
	t.Parallel()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	r := &ProviderReconciler{Client: fake.NewClientBuilder().WithScheme(scheme).Build()}
	for _, kind := range []v1alpha1.ProviderKind{v1alpha1.ProviderKindProvider, v1alpha1.ProviderKindClusterProvider} {
		res, err := r.reconcile(context.Background(), kind, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "gone"}})
		if err != nil || res.RequeueAfter != 0 {
			t.Errorf("%s: got %+v, %v; want nothing scheduled and no error", kind, res, err)
		}
	}
}
