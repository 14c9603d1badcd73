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

// OfferDecision is the customer's answer to an offer.
// +kubebuilder:validation:Enum=Accept;Decline
type OfferDecision string

// Decisions (RFC 8921 §9.2.4, §9.2.5).
const (
	// DecisionAccept sends ACCEPT (§9.2.4).
	DecisionAccept OfferDecision = "Accept"
	// DecisionDecline sends DECLINE with spec.declineReasons (§9.2.5).
	DecisionDecline OfferDecision = "Decline"
)

// OfferSpec is an OFFER (RFC 8921 §9.2.3) as the operator received it, and
// the customer's decision. The operator writes everything but decision and
// declineReasons when it creates the Offer, and the API server keeps it
// immutable: what is accepted is exactly what was offered.
// +kubebuilder:validation:XValidation:rule="has(oldSelf.agreementRef) ? has(self.agreementRef) && self.agreementRef == oldSelf.agreementRef : !has(self.agreementRef)",message="agreementRef is immutable",fieldPath=".agreementRef"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.activationSchedule) ? has(self.activationSchedule) && self.activationSchedule == oldSelf.activationSchedule : !has(self.activationSchedule)",message="activationSchedule is immutable: it is part of the offer (RFC 8921 §9.2.3)",fieldPath=".activationSchedule"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.providerDescription) ? has(self.providerDescription) && self.providerDescription == oldSelf.providerDescription : !has(self.providerDescription)",message="providerDescription is immutable: it is part of the offer (RFC 8921 §9.1.10.2)",fieldPath=".providerDescription"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.negotiationOptions) ? has(self.negotiationOptions) && self.negotiationOptions == oldSelf.negotiationOptions : !has(self.negotiationOptions)",message="negotiationOptions is immutable: it is part of the offer (RFC 8921 §9.1.10.3)",fieldPath=".negotiationOptions"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.decision) || (has(self.decision) && self.decision == oldSelf.decision)",message="decision is final once set: the ACCEPT or DECLINE may already be sent (RFC 8921 §9.2.4, §9.2.5)",fieldPath=".decision"
// +kubebuilder:validation:XValidation:rule="!has(self.declineReasons) || (has(self.decision) && self.decision == 'Decline')",message="declineReasons only apply to decision Decline (RFC 8921 §9.2.5)",fieldPath=".declineReasons"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.decision) || (has(oldSelf.declineReasons) ? has(self.declineReasons) && self.declineReasons == oldSelf.declineReasons : !has(self.declineReasons))",message="declineReasons are final once the decision is set (RFC 8921 §9.2.5)",fieldPath=".declineReasons"
type OfferSpec struct {
	// quotationOrderRef names the QuotationOrder (same namespace) this offer
	// answers. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="quotationOrderRef is immutable"
	QuotationOrderRef LocalObjectReference `json:"quotationOrderRef"`
	// agreementRef names the Agreement whose UPDATE (RFC 8921 §9.2.9) this
	// offer answers; absent for the offer of a QUOTATION. Immutable.
	// +optional
	AgreementRef *LocalObjectReference `json:"agreementRef,omitempty"`
	// providerRef names the provider that made the offer. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="providerRef is immutable"
	ProviderRef ProviderReference `json:"providerRef"`
	// customerOrderID is the CUSTOMER_ORDER_IDENTIFIER (RFC 8921 §9.1.1). Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="customerOrderID is immutable (RFC 8921 §9.1.1)"
	CustomerOrderID string `json:"customerOrderID"`
	// providerOrderID is the PROVIDER_ORDER_IDENTIFIER (RFC 8921 §9.1.2). Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="providerOrderID is immutable (RFC 8921 §9.1.2)"
	ProviderOrderID string `json:"providerOrderID"`
	// transactionID is the TRANSACTION_ID of the OFFER (RFC 8921 §9.1.3). Immutable.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9A-Fa-f]{32,128}$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="transactionID is immutable (RFC 8921 §8.4)"
	TransactionID string `json:"transactionID"`
	// cpd is the Offered CPD (RFC 8921 §8.7, §9.2.3). Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="cpd is immutable: it is the offered CPD (RFC 8921 §9.2.3); decide with spec.decision"
	CPD CPD `json:"cpd"`
	// validUntil is the VALIDITY_OFFER_TIME (RFC 8921 §9.1.8), in whole
	// seconds (rounded down): the offer lapses then. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="validUntil is immutable: it is part of the offer (RFC 8921 §9.1.8)"
	ValidUntil metav1.Time `json:"validUntil"`
	// activationSchedule is the offer's ACTIVATION_SCHEDULE, if any (RFC
	// 8921 §9.2.3). Immutable.
	// +optional
	ActivationSchedule *ActivationSchedule `json:"activationSchedule,omitempty"`
	// providerDescription is the server's Provider Description IE (RFC 8921
	// §9.1.10.2). Immutable.
	// +optional
	ProviderDescription *ProviderDescription `json:"providerDescription,omitempty"`
	// negotiationOptions are the server's Negotiation Options IE, such as
	// the activation type (RFC 8921 §9.1.10.3). Immutable.
	// +optional
	NegotiationOptions *NegotiationOptions `json:"negotiationOptions,omitempty"`
	// decision is the customer's answer: Accept or Decline. Absent until
	// decided; final once set. The operator sets it itself under the
	// order's Automatic acceptance.
	// +optional
	Decision OfferDecision `json:"decision,omitempty"`
	// declineReasons are the DECLINE reasons (RFC 8921 Table 3), at most 3,
	// each at most once; only with decision Decline.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=3
	DeclineReasons []DeclineReason `json:"declineReasons,omitempty"`
}

// OfferState is where an offer stands.
// +kubebuilder:validation:Enum=Open;Accepting;Accepted;Declining;Declined;Expired;Cancelled
type OfferState string

// Offer states.
const (
	// OfferOpen: received, awaiting a decision, valid until spec.validUntil.
	OfferOpen OfferState = "Open"
	// OfferAccepting: ACCEPT sent, awaiting its ACK (RFC 8921 §9.2.4).
	OfferAccepting OfferState = "Accepting"
	// OfferAccepted: ACCEPT acknowledged; the Agreement exists.
	OfferAccepted OfferState = "Accepted"
	// OfferDeclining: DECLINE sent, awaiting its ACK (RFC 8921 §9.2.5).
	OfferDeclining OfferState = "Declining"
	// OfferDeclined: DECLINE sent (and acknowledged, or given up on).
	OfferDeclined OfferState = "Declined"
	// OfferExpired: VALIDITY_OFFER_TIME passed before a decision (RFC 8921 §9.1.8).
	OfferExpired OfferState = "Expired"
	// OfferCancelled: the negotiation ended otherwise (a FAIL, a CANCEL).
	OfferCancelled OfferState = "Cancelled"
)

// OfferStatus is where the offer stands.
type OfferStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions are Ready (the decision was sent and acknowledged),
	// Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// state is Open, Accepting, Accepted, Declining, Declined, Expired or Cancelled.
	// +optional
	State OfferState `json:"state,omitempty"`
	// decidedAt is when the decision was sent.
	// +optional
	DecidedAt *metav1.Time `json:"decidedAt,omitempty"`
	// satisfiesRequest is True when the offer satisfies every bound of the
	// request (cpd.Satisfies), False otherwise; mismatches lists why.
	// +optional
	// +kubebuilder:validation:Enum=True;False;Unknown
	SatisfiesRequest metav1.ConditionStatus `json:"satisfiesRequest,omitempty"`
	// mismatches lists how the offer departs from the request, at most 16,
	// as cpd.Mismatch.String renders them (wire paths).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=1024
	Mismatches []string `json:"mismatches,omitempty"`
	// nonceSecretRef names the Secret, owned by this Offer, that holds the
	// offer's NONCE (RFC 8921 §9.1.5). Nonces are never in spec or status.
	// +optional
	NonceSecretRef *LocalObjectReference `json:"nonceSecretRef,omitempty"`
}

// Offer is an offer a provider made for a QuotationOrder (RFC 8921
// §9.2.3). The operator creates it, owned by its QuotationOrder; the
// customer's only field is spec.decision (with spec.declineReasons).
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=ofr,categories=cpnp
// +kubebuilder:printcolumn:name="Order",type=string,JSONPath=`.spec.quotationOrderRef.name`
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.providerRef.name`
// +kubebuilder:printcolumn:name="Decision",type=string,JSONPath=`.spec.decision`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Satisfies",type=string,JSONPath=`.status.satisfiesRequest`
// +kubebuilder:printcolumn:name="Valid-Until",type=string,JSONPath=`.spec.validUntil`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Offer struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the offer and the customer's decision.
	// +required
	Spec OfferSpec `json:"spec"`
	// status is where the offer stands.
	// +optional
	Status OfferStatus `json:"status,omitempty"`
}

// OfferList is a list of Offers.
// +kubebuilder:object:root=true
type OfferList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Offer `json:"items"`
}

func init() {
	register(&Offer{}, &OfferList{})
}
