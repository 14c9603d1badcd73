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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// LastAppliedAnnotation is the annotation `kubectl apply` keeps a full copy
// of the applied object in; StripCacheOnly drops it from cached objects.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// StripCacheOnly is a cache transform (cache.Options.DefaultTransform) that
// drops what no reconciler of this package reads from a cached object: its
// metadata.managedFields (server-side apply bookkeeping, often as large as
// the object) and the kubectl last-applied-configuration annotation (a
// second copy of the spec). Everything else, status included, is kept.
// Objects that have no metadata pass through unchanged; it never fails.
//
// The reconcilers write with merge patches and updates built from objects
// read past the cache (APIReader), so they never send managedFields back.
func StripCacheOnly(in any) (any, error) {
	obj, err := meta.Accessor(in)
	if err != nil {
		// Not an object (a tombstone): nothing to strip.
		return in, nil
	}
	// Nil check first: setting nil on nil fields allocates in some types
	// (kubernetes/kubernetes#124337).
	if obj.GetManagedFields() != nil {
		obj.SetManagedFields(nil)
	}
	if a := obj.GetAnnotations(); a != nil {
		if _, ok := a[LastAppliedAnnotation]; ok {
			b := make(map[string]string, len(a)-1)
			for k, v := range a {
				if k != LastAppliedAnnotation {
					b[k] = v
				}
			}
			if len(b) == 0 {
				b = nil
			}
			obj.SetAnnotations(b)
		}
	}
	return in, nil
}

// CacheOptions returns the manager's informer cache options
// (ctrl.Options.Cache): every cached kind goes through StripCacheOnly.
// With 10,000 Agreements this is the difference docs/benchmarks.md
// measures ("heap with 10,000 Agreements").
func CacheOptions() cache.Options {
	return cache.Options{DefaultTransform: toolscache.TransformFunc(StripCacheOnly)}
}

// ClientOptions returns the manager's client options (ctrl.Options.Client):
// Secrets are read from the API server, never cached, so the manager starts
// no cluster-wide Secret informer (memory, and RBAC list/watch on every
// Secret of the cluster). The nonce Secrets are already read past the cache
// (QuotationOrderReconciler.APIReader); the Provider Secrets are read when
// a provider is resolved, at most once per ProviderCache TTL while the
// Provider is unchanged.
func ClientOptions() ctrlclient.Options {
	return ctrlclient.Options{Cache: &ctrlclient.CacheOptions{DisableFor: []ctrlclient.Object{&corev1.Secret{}}}}
}
