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
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
)

// TestHandedOver checks when the QuotationOrder reconciler leaves a
// negotiation to the Agreement's reconciler: only a Completed negotiation
// of an order with an Agreement (its WITHDRAW is the Agreement's, RFC 8921
// §9.2.8).
func TestHandedOver(t *testing.T) {
	t.Parallel()
	ref := v1alpha1.ProviderReference{Name: "wan"}
	entry := func(kind v1alpha1.ProviderKind, st v1alpha1.ClientState) v1alpha1.ProviderNegotiation {
		return v1alpha1.ProviderNegotiation{ProviderReference: v1alpha1.ProviderReference{Kind: kind, Name: "wan"}, State: st}
	}
	agr := &v1alpha1.LocalObjectReference{Name: "a"}
	tests := []struct {
		name      string
		agreement *v1alpha1.LocalObjectReference
		providers []v1alpha1.ProviderNegotiation
		want      bool
	}{
		{"no agreement", nil, []v1alpha1.ProviderNegotiation{entry(v1alpha1.ProviderKindProvider, v1alpha1.StateCompleted)}, false},
		{"completed with agreement", agr, []v1alpha1.ProviderNegotiation{entry(v1alpha1.ProviderKindProvider, v1alpha1.StateCompleted)}, true},
		{"empty kind is Provider", agr, []v1alpha1.ProviderNegotiation{entry("", v1alpha1.StateCompleted)}, true},
		{"other provider kind", agr, []v1alpha1.ProviderNegotiation{entry(v1alpha1.ProviderKindClusterProvider, v1alpha1.StateCompleted)}, false},
		{"not completed", agr, []v1alpha1.ProviderNegotiation{entry(v1alpha1.ProviderKindProvider, v1alpha1.StateOfferProcessing)}, false},
		{"no entry", agr, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			qo := &v1alpha1.QuotationOrder{Status: v1alpha1.QuotationOrderStatus{AgreementRef: tc.agreement, Providers: tc.providers}}
			if got := handedOver(qo, ref); got != tc.want {
				t.Errorf("handedOver: got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestAgreementFinalizer checks the finalizer's life outside a withdrawal:
// an Agreement without it gets it; a deleted Agreement that never agreed
// (no protocol state) loses it without any WITHDRAW (nothing to withdraw,
// RFC 8921 §9.2.8).
// Reference: RFC 8921 §9.2.8; DESIGN §5.
func TestAgreementFinalizer(t *testing.T) {
	t.Parallel()
	s := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	tests := []struct {
		name string
		obj  *v1alpha1.Agreement
		want []string // finalizers after the reconcile; nil: object gone
	}{
		{"added", &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"}}, []string{WithdrawFinalizer}},
		{"kept", &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a", Finalizers: []string{WithdrawFinalizer}}},
			[]string{WithdrawFinalizer}},
		{"removed without agreement", &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a",
			Finalizers: []string{WithdrawFinalizer}, DeletionTimestamp: &now}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := fake.NewClientBuilder().WithScheme(s).WithObjects(tc.obj).WithStatusSubresource(&v1alpha1.Agreement{}).Build()
			r := &AgreementReconciler{Client: c}
			key := types.NamespacedName{Namespace: "ns", Name: "a"}
			if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key}); err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			var got v1alpha1.Agreement
			err := c.Get(context.Background(), key, &got)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("agreement: got finalizers %v, want it gone", got.Finalizers)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Finalizers); diff != "" {
				t.Errorf("finalizers (-want +got):\n%s", diff)
			}
		})
	}
}
