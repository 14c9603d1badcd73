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

// Condition types shared by every kind (DESIGN §5). Ready is what `kubectl
// wait --for=condition=Ready` waits for; Reconciling and Stalled are the
// kstatus abnormal-true conditions, written from the first reconcile.
const (
	// ConditionReady is True when the object reached what its spec asks:
	// an Agreement in force, an Offer decided and acknowledged, a
	// QuotationOrder with an Agreement, a Provider that answered its last
	// reachability check, a CapacityPool loaded by the server.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the controller works towards the
	// spec (a negotiation in progress, a transient error being retried).
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when the controller cannot make progress
	// without a change to the spec (a terminal FAIL, an expired offer, an
	// invalid reference).
	ConditionStalled = "Stalled"
)

// ProviderKind names the kind a ProviderReference points at.
// +kubebuilder:validation:Enum=Provider;ClusterProvider
type ProviderKind string

// Provider kinds.
const (
	// ProviderKindProvider is a namespaced Provider in the referrer's namespace.
	ProviderKindProvider ProviderKind = "Provider"
	// ProviderKindClusterProvider is a cluster-scoped ClusterProvider.
	ProviderKindClusterProvider ProviderKind = "ClusterProvider"
)

// ProviderReference names the CPNP server an order negotiates with, as
// cert-manager's issuerRef names an Issuer or ClusterIssuer.
type ProviderReference struct {
	// kind is Provider (in the same namespace, the default) or ClusterProvider.
	// +optional
	// +kubebuilder:default=Provider
	Kind ProviderKind `json:"kind,omitempty"`
	// name is the name of the Provider or ClusterProvider.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SecretReference names a Secret and, for cluster-scoped referrers, its
// namespace.
type SecretReference struct {
	// name is the name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// namespace is the namespace of the Secret. A Provider refers to
	// Secrets in its own namespace and must leave it unset; see
	// ClusterProvider for what an unset namespace means there.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// key is the data key of the Secret to read; each referrer documents
	// its default.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// name is the name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// ClientState is a client order state, named verbatim after RFC 8921
// §8.11.1, Figure 8 (fsm.ClientState).
// +kubebuilder:validation:Enum=Created;AwaitingProcessing;PQOSent;ServerProcessing;OfferReceived;OfferProcessing;AcceptSent;Completed;Cancelled
type ClientState string

// Client states (Figure 8).
const (
	StateCreated            ClientState = "Created"
	StateAwaitingProcessing ClientState = "AwaitingProcessing"
	StatePQOSent            ClientState = "PQOSent"
	StateServerProcessing   ClientState = "ServerProcessing"
	StateOfferReceived      ClientState = "OfferReceived"
	StateOfferProcessing    ClientState = "OfferProcessing"
	StateAcceptSent         ClientState = "AcceptSent"
	StateCompleted          ClientState = "Completed"
	StateCancelled          ClientState = "Cancelled"
)

// Failure says why a negotiation or a transaction ended abnormally: a FAIL
// received or sent (RFC 8921 §9.2.10), or a timer that ran out.
type Failure struct {
	// statusCode is the FAIL status code of Table 4 (1 to 8), absent when no
	// FAIL was involved (an expired offer, a response time that ran out).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=8
	StatusCode *int32 `json:"statusCode,omitempty"`
	// reason is a short UpperCamelCase reason, e.g. "OutOfResources",
	// "OfferExpired", "MoreTimeRejected".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Reason string `json:"reason"`
	// message is a human-readable explanation.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// sender is Client when this side sent the FAIL (for example FAIL 7,
	// More Time Rejected) and Server when the server sent it.
	// +optional
	Sender FailureSender `json:"sender,omitempty"`
	// time is when it happened.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
}

// FailureSender says which side sent a FAIL.
// +kubebuilder:validation:Enum=Client;Server
type FailureSender string

// FAIL senders.
const (
	FailureSenderClient FailureSender = "Client"
	FailureSenderServer FailureSender = "Server"
)

// MaxHistory is the number of transitions status.history keeps; the
// controllers drop the oldest beyond it (RFC 8921 §8.11: "Timestamps are
// also logged to track state change").
const MaxHistory = 32

// Transition is one entry of a status history: a state change of the
// client order (fsm.Transition).
type Transition struct {
	// time is when the transition happened.
	// +required
	Time metav1.Time `json:"time"`
	// provider names the provider whose negotiation moved, as kind/name;
	// empty for an order with one provider.
	// +optional
	// +kubebuilder:validation:MaxLength=300
	Provider string `json:"provider,omitempty"`
	// from is the state before.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	From string `json:"from,omitempty"`
	// to is the state after.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	To string `json:"to"`
	// cause names what moved the machine: a method ("OFFER"), a timer or a
	// command.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Cause string `json:"cause,omitempty"`
	// reason is a short UpperCamelCase reason.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Reason string `json:"reason,omitempty"`
	// statusCode is the FAIL status code (Table 4) that caused or
	// accompanied the transition, if any.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=8
	StatusCode *int32 `json:"statusCode,omitempty"`
}

// Contact is the Contact Information of RFC 8921 §9.1.10.1.
type Contact struct {
	// email is an email address.
	// +optional
	// +kubebuilder:validation:MaxLength=254
	Email string `json:"email,omitempty"`
	// postalAddress is a postal address.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	PostalAddress string `json:"postalAddress,omitempty"`
	// telephoneNumbers are telephone numbers, at most 4.
	// +optional
	// +kubebuilder:validation:MaxItems=4
	// +listType=atomic
	TelephoneNumbers []Text `json:"telephoneNumbers,omitempty"`
}

// CustomerDescription is the Customer Description IE (RFC 8921 §9.1.10.1).
type CustomerDescription struct {
	// name is the customer's name.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// contact is how to reach the customer.
	// +optional
	Contact *Contact `json:"contact,omitempty"`
}

// ProviderDescription is the Provider Description IE (RFC 8921 §9.1.10.2).
type ProviderDescription struct {
	// name is the provider's name.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// contact is how to reach the provider.
	// +optional
	Contact *Contact `json:"contact,omitempty"`
	// asNumber is the provider's 4-octet AS number (RFC 6793), 1 to 4294967295.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	ASNumber *int64 `json:"asNumber,omitempty"`
}

// Purpose is the setup purpose (RFC 8921 §9.1.10.3).
// +kubebuilder:validation:Enum=Permanent;Test
type Purpose string

// Purposes (wire "permanent", "test").
const (
	PurposePermanent Purpose = "Permanent"
	PurposeTest      Purpose = "Test"
)

// ActivationType is how an agreement becomes active (RFC 8921 §9.1.10.3,
// DESIGN §3).
// +kubebuilder:validation:Enum=Immediate;Scheduled;Explicit
type ActivationType string

// Activation types (wire "immediate", "scheduled", "explicit").
const (
	// ActivationImmediate: active when the negotiation ends (the server's default).
	ActivationImmediate ActivationType = "Immediate"
	// ActivationScheduled: the offer carries the activation schedule.
	ActivationScheduled ActivationType = "Scheduled"
	// ActivationExplicit: only ACTIVATE (an Agreement's spec.activation) turns it on.
	ActivationExplicit ActivationType = "Explicit"
)

// NegotiationScope restricts recursion (RFC 8921 §8.8).
// +kubebuilder:validation:Enum=Recursive;Local
type NegotiationScope string

// Negotiation scopes (wire "recursive", "local").
const (
	// ScopeRecursive lets the server negotiate child orders upstream.
	ScopeRecursive NegotiationScope = "Recursive"
	// ScopeLocal forbids child orders.
	ScopeLocal NegotiationScope = "Local"
)

// NegotiationOptions is the Negotiation Options IE (RFC 8921 §9.1.10.3). An
// absent member is left to the server (immediate activation, recursive scope).
type NegotiationOptions struct {
	// purpose is Permanent or Test.
	// +optional
	Purpose Purpose `json:"purpose,omitempty"`
	// activationType is Immediate, Scheduled or Explicit.
	// +optional
	ActivationType ActivationType `json:"activationType,omitempty"`
	// scope is Recursive or Local (no child orders, RFC 8921 §8.8).
	// +optional
	Scope NegotiationScope `json:"scope,omitempty"`
}

// ActivationAction is what an ACTIVATION_SCHEDULE asks for (RFC 8921 §9.2.11).
// +kubebuilder:validation:Enum=Activate;Deactivate
type ActivationAction string

// Activation actions.
const (
	// ActivationActionActivate activates at the given time, or now.
	ActivationActionActivate ActivationAction = "Activate"
	// ActivationActionDeactivate is the special schedule "0".
	ActivationActionDeactivate ActivationAction = "Deactivate"
)

// ActivationSchedule is an ACTIVATION_SCHEDULE (RFC 8921 §9.2.11): activate
// at a time (or immediately), or deactivate.
// +kubebuilder:validation:XValidation:rule="!has(self.action) || self.action == 'Activate' || !has(self.at)",message="at only applies to action Activate; Deactivate takes no time (RFC 8921 §9.2.11)",fieldPath=".at"
type ActivationSchedule struct {
	// action is Activate or Deactivate.
	// +optional
	// +kubebuilder:default=Activate
	Action ActivationAction `json:"action,omitempty"`
	// at is when to activate (RFC 3339); absent, or a time at or before
	// now, means immediately (DESIGN §3). The API keeps whole seconds.
	// +optional
	At *metav1.Time `json:"at,omitempty"`
}

// DeclineReason is a DECLINE reason (RFC 8921 §9.2.5, Table 3).
// +kubebuilder:validation:Enum=UnacceptableGap;ConflictWithOtherOffer;ActivationTypeMismatch
type DeclineReason string

// Decline reasons (Table 3 codes 1, 2, 3).
const (
	// DeclineUnacceptableGap is code 1: unacceptable gap between the request and the offer.
	DeclineUnacceptableGap DeclineReason = "UnacceptableGap"
	// DeclineConflictWithOtherOffer is code 2: conflict with another offer
	// from another server (parallel negotiation, RFC 8921 §8.10).
	DeclineConflictWithOtherOffer DeclineReason = "ConflictWithOtherOffer"
	// DeclineActivationTypeMismatch is code 3: activation type mismatch.
	DeclineActivationTypeMismatch DeclineReason = "ActivationTypeMismatch"
)
