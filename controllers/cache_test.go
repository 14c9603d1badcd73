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
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
)

// TestStripCacheOnly checks that the cache transform drops managedFields
// and the last-applied annotation, and keeps everything else, status
// included (the reconcilers read status.protocol, RFC 8921 §8.11).
func TestStripCacheOnly(t *testing.T) {
	t.Parallel()
	mf := []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	tests := map[string]struct {
		in, want any
	}{
		"managed fields and last-applied dropped": {
			in: &v1alpha1.Agreement{
				ObjectMeta: metav1.ObjectMeta{Name: "a", ManagedFields: mf,
					Annotations: map[string]string{controllers.LastAppliedAnnotation: "{}", "keep": "me"}},
				Status: v1alpha1.AgreementStatus{ContractID: "c"},
			},
			want: &v1alpha1.Agreement{
				ObjectMeta: metav1.ObjectMeta{Name: "a", Annotations: map[string]string{"keep": "me"}},
				Status:     v1alpha1.AgreementStatus{ContractID: "c"},
			},
		},
		"only annotation is last-applied": {
			in: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s",
				Annotations: map[string]string{controllers.LastAppliedAnnotation: "{}"}}},
			want: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}},
		},
		"nothing to strip": {
			in:   &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Name: "o", Labels: map[string]string{"l": "v"}}},
			want: &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Name: "o", Labels: map[string]string{"l": "v"}}},
		},
		"not an object": {
			in:   toolscache.DeletedFinalStateUnknown{Key: "ns/x"},
			want: toolscache.DeletedFinalStateUnknown{Key: "ns/x"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := controllers.StripCacheOnly(tc.in)
			if err != nil {
				t.Fatalf("StripCacheOnly: got error %v, want nil", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("StripCacheOnly (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCacheAndClientOptions checks the manager options: every kind goes
// through StripCacheOnly, and Secrets bypass the cache.
func TestCacheAndClientOptions(t *testing.T) {
	t.Parallel()
	co := controllers.CacheOptions()
	if co.DefaultTransform == nil {
		t.Fatal("CacheOptions().DefaultTransform: got nil, want StripCacheOnly")
	}
	in := &v1alpha1.QuotationOrder{ObjectMeta: metav1.ObjectMeta{Name: "q", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}}}}
	out, err := co.DefaultTransform(in)
	if err != nil {
		t.Fatalf("DefaultTransform: %v", err)
	}
	if got := out.(*v1alpha1.QuotationOrder).ManagedFields; got != nil {
		t.Errorf("DefaultTransform: got managedFields %v, want nil", got)
	}
	cl := controllers.ClientOptions()
	if cl.Cache == nil || len(cl.Cache.DisableFor) != 1 {
		t.Fatalf("ClientOptions().Cache: got %+v, want DisableFor Secret", cl.Cache)
	}
	if _, ok := cl.Cache.DisableFor[0].(*corev1.Secret); !ok {
		t.Errorf("ClientOptions().Cache.DisableFor[0]: got %T, want *corev1.Secret", cl.Cache.DisableFor[0])
	}
}
