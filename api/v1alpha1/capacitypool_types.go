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

// PoolCapacity is a pool's capacity per direction in bits per second, seen
// from the customer nodes as in RFC 7297 §3.5 (incoming is delivered to
// them), each 1 to 2^53 (policy.MaxBps).
type PoolCapacity struct {
	// incomingBps is the capacity towards the customer nodes.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=9007199254740992
	IncomingBps int64 `json:"incomingBps"`
	// outgoingBps is the capacity from the customer nodes.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=9007199254740992
	OutgoingBps int64 `json:"outgoingBps"`
}

// PoolQoSClass is a QoS class the pool delivers (RFC 7297 §3.3): requested
// by name (qualitative QoS), or chosen for quantitative bounds its values
// meet. A metric the class does not state cannot meet a bound on it.
type PoolQoSClass struct {
	// name is the class name, e.g. "gold"; unique within the pool.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// oneWayDelayMs is the achievable one-way delay in milliseconds (RFC 2679).
	// +optional
	// +kubebuilder:validation:Minimum=0
	OneWayDelayMs *float64 `json:"oneWayDelayMs,omitempty"`
	// delayVariationMs is the achievable delay variation in milliseconds (RFC 3393).
	// +optional
	// +kubebuilder:validation:Minimum=0
	DelayVariationMs *float64 `json:"delayVariationMs,omitempty"`
	// lossRatio is the achievable packet loss ratio (RFC 2680), 0 to 1.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	LossRatio *float64 `json:"lossRatio,omitempty"`
}

// PoolApprovalMode says when a pool's orders wait for an administrator.
// +kubebuilder:validation:Enum=Automatic;Manual;Threshold
type PoolApprovalMode string

// Pool approval modes (RFC 8921 §8.2 "order-handling modes", §12.2).
const (
	// PoolApprovalAutomatic: "fully automated mode", no administrator involved.
	PoolApprovalAutomatic PoolApprovalMode = "Automatic"
	// PoolApprovalManual: every order is held for administrative validation.
	PoolApprovalManual PoolApprovalMode = "Manual"
	// PoolApprovalThreshold: orders asking for more than aboveBps in either
	// direction are held; smaller ones are automatic.
	PoolApprovalThreshold PoolApprovalMode = "Threshold"
)

// PoolApproval is a pool's order-handling mode (RFC 8921 §8.2, §12.2).
// +kubebuilder:validation:XValidation:rule="(has(self.mode) && self.mode == 'Threshold') == has(self.aboveBps)",message="aboveBps is required with mode Threshold, and only then",fieldPath=".aboveBps"
type PoolApproval struct {
	// mode is Automatic (the default), Manual or Threshold.
	// +optional
	// +kubebuilder:default=Automatic
	Mode PoolApprovalMode `json:"mode,omitempty"`
	// aboveBps is the threshold of mode Threshold: an order whose requested
	// capacity exceeds it in either direction is held.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=9007199254740992
	AboveBps *int64 `json:"aboveBps,omitempty"`
}

// TenantKind says what a TenantEntitlement names.
// +kubebuilder:validation:Enum=Identity;Namespace
type TenantKind string

// Tenant kinds.
const (
	// TenantIdentity names a client identity: the URI SAN or CN of its
	// certificate (DESIGN §3), or "*" for every identity without an entry
	// of its own.
	TenantIdentity TenantKind = "Identity"
	// TenantNamespace names a namespace of this cluster: the operator's
	// per-namespace client certificate names the namespace (DESIGN §6).
	TenantNamespace TenantKind = "Namespace"
)

// TenantEntitlement says who may draw from the pool and how much (RFC 8921
// §8.2 "Check whether a Customer is entitled"), like an RBAC subject.
// +kubebuilder:validation:XValidation:rule="self.kind != 'Namespace' || (size(self.name) <= 63 && self.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'))",message="a Namespace tenant must be a namespace name (a DNS label of at most 63 characters)",fieldPath=".name"
type TenantEntitlement struct {
	// kind is Identity (the default) or Namespace.
	// +optional
	// +kubebuilder:default=Identity
	Kind TenantKind `json:"kind,omitempty"`
	// name is the identity ("acme", "spiffe://example.org/ns/team-b", or
	// "*") or the namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Name string `json:"name"`
	// maxIncomingBps caps what the tenant holds in this pool towards its
	// customer nodes (offers and agreements); no cap when absent.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=9007199254740992
	MaxIncomingBps *int64 `json:"maxIncomingBps,omitempty"`
	// maxOutgoingBps caps what the tenant holds in this pool from its
	// customer nodes; no cap when absent.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=9007199254740992
	MaxOutgoingBps *int64 `json:"maxOutgoingBps,omitempty"`
}

// CapacityPoolSpec has the schema of one entry of policy.yaml's pools
// (DESIGN §6; policy.Pool) plus the tenants entitled to the pool. The pool's
// name is metadata.name.
type CapacityPoolSpec struct {
	// capacity is the pool's total capacity per direction (RFC 7297 §3.5).
	// +required
	Capacity PoolCapacity `json:"capacity"`
	// qosClasses are the classes the pool delivers, with their achievable
	// values (RFC 7297 §3.3), at most 16 with distinct names.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	QoSClasses []PoolQoSClass `json:"qosClasses,omitempty"`
	// availabilityPercent is the availability the pool guarantees (RFC 7297
	// §3.4), 0 to 100; absent means none.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	AvailabilityPercent *float64 `json:"availabilityPercent,omitempty"`
	// approval says when orders need administrative validation (RFC 8921
	// §8.2, §12.2); Automatic by default.
	// +optional
	// +kubebuilder:default={mode: Automatic}
	Approval *PoolApproval `json:"approval,omitempty"`
	// offerValidity is how long an offer from the pool stays valid, its
	// capacity reserved (VALIDITY_OFFER_TIME, RFC 8921 §9.1.8); 5m by default.
	// +optional
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="must be a positive duration"
	OfferValidity *metav1.Duration `json:"offerValidity,omitempty"`
	// tenants are the identities and namespaces entitled to the pool, at
	// most 64, each (kind, name) once. A tenant not listed cannot draw from it.
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Tenants []TenantEntitlement `json:"tenants,omitempty"`
}

// PoolUsage is what a pool holds per direction, in bits per second.
type PoolUsage struct {
	// incomingBps is held towards the customer nodes.
	// +required
	// +kubebuilder:validation:Minimum=0
	IncomingBps int64 `json:"incomingBps"`
	// outgoingBps is held from the customer nodes.
	// +required
	// +kubebuilder:validation:Minimum=0
	OutgoingBps int64 `json:"outgoingBps"`
}

// CapacityPoolStatus is what the companion server reports about the pool.
type CapacityPoolStatus struct {
	// observedGeneration is the metadata.generation the server loaded.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions are Ready (the server loaded this generation), Reconciling
	// and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// reserved is what open offers reserve (DESIGN §3).
	// +optional
	Reserved *PoolUsage `json:"reserved,omitempty"`
	// held is what agreements hold.
	// +optional
	Held *PoolUsage `json:"held,omitempty"`
}

// CapacityPool is capacity that the companion cpnp-server offers to the
// cluster's tenants (DESIGN §6): capacity per direction, the QoS classes and
// availability it can deliver, who may draw from it and how much, and how
// orders are approved.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cpool,categories=cpnp-admin
// +kubebuilder:printcolumn:name="Incoming-Bps",type=integer,JSONPath=`.spec.capacity.incomingBps`
// +kubebuilder:printcolumn:name="Outgoing-Bps",type=integer,JSONPath=`.spec.capacity.outgoingBps`
// +kubebuilder:printcolumn:name="Approval",type=string,JSONPath=`.spec.approval.mode`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CapacityPool struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata; metadata.name is the pool name.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the pool.
	// +required
	Spec CapacityPoolSpec `json:"spec"`
	// status is what the server reports.
	// +optional
	Status CapacityPoolStatus `json:"status,omitempty"`
}

// CapacityPoolList is a list of CapacityPools.
// +kubebuilder:object:root=true
type CapacityPoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CapacityPool `json:"items"`
}

func init() {
	register(&CapacityPool{}, &CapacityPoolList{})
}
