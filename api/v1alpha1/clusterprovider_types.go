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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterProvider is a CPNP server that QuotationOrders in every namespace
// can negotiate with (the cluster-scoped half of the cert-manager Issuer /
// ClusterIssuer split), typically the companion cpnp-server (DESIGN §6).
//
// Its caSecretRef must name a namespace. Its clientCertificateSecretRef may
// name one, and then every tenant presents that one certificate; without a
// namespace the Secret is read from the namespace of each QuotationOrder,
// so that each tenant presents its own certificate and the server can
// enforce per-tenant entitlements (DESIGN §6: identity = namespace).
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ccprov,categories=cpnp-admin
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.spec.address`
// +kubebuilder:printcolumn:name="Transport",type=string,JSONPath=`.spec.transport`
// +kubebuilder:printcolumn:name="Reachability",type=string,JSONPath=`.status.lastCheck.result`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterProvider struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says how to reach the server.
	// +required
	// +kubebuilder:validation:XValidation:rule="!has(self.caSecretRef) || has(self.caSecretRef.namespace)",message="a ClusterProvider must name the namespace of caSecretRef",fieldPath=".caSecretRef.namespace"
	Spec ProviderSpec `json:"spec"`
	// status is the last reachability check.
	// +optional
	Status ProviderStatus `json:"status,omitempty"`
}

// ClusterProviderList is a list of ClusterProviders.
// +kubebuilder:object:root=true
type ClusterProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterProvider `json:"items"`
}

func init() {
	register(&ClusterProvider{}, &ClusterProviderList{})
}
