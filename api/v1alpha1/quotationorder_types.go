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
	"k8s.io/apimachinery/pkg/runtime"
)

// AcceptanceMode says who accepts offers.
// +kubebuilder:validation:Enum=Manual;Automatic
type AcceptanceMode string

// Acceptance modes (DESIGN §5).
const (
	// AcceptanceManual waits for a person (or a tool) to set the Offer's
	// spec.decision.
	AcceptanceManual AcceptanceMode = "Manual"
	// AcceptanceAutomatic accepts an offer that satisfies every bound of the
	// request (cpd.Satisfies); with several providers it accepts the best
	// (cpd.Score, ties in providerRefs order) and declines the others with reason ConflictWithOtherOffer
	// (RFC 8921 §8.10, Table 3 code 2). An offer that does not satisfy the
	// request is declined with reason UnacceptableGap (Table 3 code 1).
	AcceptanceAutomatic AcceptanceMode = "Automatic"
)

// ApprovalState is the client-side administrative gate of RFC 8921
// §8.11.1: an order "is not handled by the client until the administrator
// allows it to be processed".
// +kubebuilder:validation:Enum=Approved;Pending
type ApprovalState string

// Approval states.
const (
	// ApprovalApproved lets the order be processed (state AwaitingProcessing,
	// then the QUOTATION is sent).
	ApprovalApproved ApprovalState = "Approved"
	// ApprovalPending holds the order in state Created until approval is
	// set to Approved.
	ApprovalPending ApprovalState = "Pending"
)

// QuotationOrderSpec is what the customer asks for (RFC 8921 §9.2.1). The
// content sent in the QUOTATION (providerRefs, cpd, expectedResponseTime,
// customer, negotiationOptions) is immutable: to change a concluded
// negotiation edit its Agreement (UPDATE, §9.2.9); to ask again create a new
// QuotationOrder.
// +kubebuilder:validation:XValidation:rule="has(oldSelf.expectedResponseTime) ? has(self.expectedResponseTime) && self.expectedResponseTime == oldSelf.expectedResponseTime : !has(self.expectedResponseTime)",message="expectedResponseTime is immutable: it is sent in the QUOTATION (RFC 8921 §9.2.1)",fieldPath=".expectedResponseTime"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.customer) ? has(self.customer) && self.customer == oldSelf.customer : !has(self.customer)",message="customer is immutable: it is sent in the QUOTATION (RFC 8921 §9.1.10.1)",fieldPath=".customer"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.negotiationOptions) ? has(self.negotiationOptions) && self.negotiationOptions == oldSelf.negotiationOptions : !has(self.negotiationOptions)",message="negotiationOptions is immutable: it is sent in the QUOTATION (RFC 8921 §9.1.10.3)",fieldPath=".negotiationOptions"
type QuotationOrderSpec struct {
	// providerRefs are the CPNP servers to negotiate with, 1 to 8; several
	// run in parallel (RFC 8921 §8.10). Immutable.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="providerRefs is immutable: the QUOTATIONs were sent to these providers; create a new QuotationOrder to ask others"
	ProviderRefs []ProviderReference `json:"providerRefs"`
	// cpd is the Requested CPD (RFC 8921 §8.7, §9.2.1), fixed or loosely
	// defined values. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="cpd is immutable: it is sent in the QUOTATION (RFC 8921 §9.2.1); edit the Agreement to run an UPDATE, or create a new QuotationOrder"
	CPD CPD `json:"cpd"`
	// expectedResponseTime is how long after the QUOTATION is sent the
	// customer waits for a response: the QUOTATION carries the QUOTATION
	// time plus this duration as EXPECTED_RESPONSE_TIME (RFC 8921 §9.1.6),
	// and the order is cancelled when it passes with no answer (§8.5).
	// Absent: no deadline. A Go duration such as "10m". Immutable.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$`
	ExpectedResponseTime *metav1.Duration `json:"expectedResponseTime,omitempty"`
	// customer is the Customer Description IE (RFC 8921 §9.1.10.1). Immutable.
	// +optional
	Customer *CustomerDescription `json:"customer,omitempty"`
	// negotiationOptions is the Negotiation Options IE (RFC 8921
	// §9.1.10.3). Immutable.
	// +optional
	NegotiationOptions *NegotiationOptions `json:"negotiationOptions,omitempty"`
	// acceptance is Manual (the default: set each Offer's spec.decision)
	// or Automatic (accept an offer that satisfies every bound of the
	// request; with several providers the best one, declining the others).
	// +optional
	// +kubebuilder:default=Manual
	Acceptance AcceptanceMode `json:"acceptance,omitempty"`
	// approval is Approved (the default) or Pending. A Pending order stays in
	// state Created and sends nothing until approval is set to Approved
	// (RFC 8921 §8.11.1); an Approved order cannot return to Pending.
	// +optional
	// +kubebuilder:default=Approved
	// +kubebuilder:validation:XValidation:rule="oldSelf == 'Pending' || self == 'Approved'",message="approval cannot return to Pending once Approved: the order has left state Created (RFC 8921 §8.11.1)"
	Approval ApprovalState `json:"approval,omitempty"`
	// extensionLimit bounds the server's requests for more time (a
	// PROCESSING with a later EXPECTED_OFFER_TIME, RFC 8921 §9.2.2): a
	// request for an offer time at most extensionLimit after the QUOTATION
	// was sent is granted with an ACK (Figure 11), a later one is refused
	// with FAIL 7, More Time Rejected (Figure 12). Absent: every request for
	// more time is refused. A Go duration such as "1h".
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$`
	ExtensionLimit *metav1.Duration `json:"extensionLimit,omitempty"`
}

// ProviderNegotiation is the negotiation of one QuotationOrder with one
// provider: one client order of RFC 8921 §8.11.1 (parallel negotiation,
// §8.10, runs one per provider).
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.transactionID) || (has(self.transactionID) && self.transactionID == oldSelf.transactionID)",message="transactionID is immutable once recorded (RFC 8921 §8.4)",fieldPath=".transactionID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.providerOrderID) || (has(self.providerOrderID) && self.providerOrderID == oldSelf.providerOrderID)",message="providerOrderID is immutable once recorded (RFC 8921 §9.1.2)",fieldPath=".providerOrderID"
type ProviderNegotiation struct {
	// kind and name identify the provider, as in spec.providerRefs.
	ProviderReference `json:",inline"`
	// state is the Figure 8 state of this negotiation.
	// +optional
	State ClientState `json:"state,omitempty"`
	// transactionID is the TRANSACTION_ID of the QUOTATION (RFC 8921 §8.4,
	// §9.1.3), recorded before it is sent; immutable once set.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9A-Fa-f]{32,128}$`
	TransactionID string `json:"transactionID,omitempty"`
	// providerOrderID is the PROVIDER_ORDER_IDENTIFIER (RFC 8921 §9.1.2),
	// learnt from the server's first answer; immutable once set.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ProviderOrderID string `json:"providerOrderID,omitempty"`
	// expectedOfferTime is the EXPECTED_OFFER_TIME granted to this server
	// (RFC 8921 §9.1.7).
	// +optional
	ExpectedOfferTime *metav1.Time `json:"expectedOfferTime,omitempty"`
	// offerRef names the Offer this server made, if any.
	// +optional
	OfferRef *LocalObjectReference `json:"offerRef,omitempty"`
	// failure says why this negotiation failed, if it did.
	// +optional
	Failure *Failure `json:"failure,omitempty"`
	// protocol is the client state machine's state for this negotiation
	// (fsm.ClientOrder as JSON, nonces replaced by a placeholder; see
	// EncodeProtocol). It is for the controller: opaque, not an API.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Protocol *runtime.RawExtension `json:"protocol,omitempty"`
}

// QuotationOrderStatus is the state of the negotiation (RFC 8921 §8.11.1).
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.customerOrderID) || (has(self.customerOrderID) && self.customerOrderID == oldSelf.customerOrderID)",message="customerOrderID is immutable once recorded (RFC 8921 §9.1.1)",fieldPath=".customerOrderID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.agreementRef) || (has(self.agreementRef) && self.agreementRef == oldSelf.agreementRef)",message="agreementRef is immutable once recorded",fieldPath=".agreementRef"
type QuotationOrderStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions are Ready (an Agreement was reached), Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// state is the Figure 8 state of the order (RFC 8921 §8.11.1): with one
	// provider, that negotiation's state; with several, Completed when one
	// of them completed, else the state of the negotiation furthest along.
	// +optional
	State ClientState `json:"state,omitempty"`
	// customerOrderID is the CUSTOMER_ORDER_IDENTIFIER (RFC 8921 §9.1.1)
	// every negotiation of this order uses; immutable once set.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	CustomerOrderID string `json:"customerOrderID,omitempty"`
	// expectedResponseTime is the EXPECTED_RESPONSE_TIME sent (RFC 8921 §9.1.6).
	// +optional
	ExpectedResponseTime *metav1.Time `json:"expectedResponseTime,omitempty"`
	// expectedOfferTime is the latest EXPECTED_OFFER_TIME granted to a
	// negotiation still waiting for an offer (RFC 8921 §9.1.7).
	// +optional
	ExpectedOfferTime *metav1.Time `json:"expectedOfferTime,omitempty"`
	// providers has one entry per providerRef: that negotiation's state,
	// identifiers and offer.
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=8
	Providers []ProviderNegotiation `json:"providers,omitempty"`
	// offerRefs name the Offers received, at most 16.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	OfferRefs []LocalObjectReference `json:"offerRefs,omitempty"`
	// agreementRef names the Agreement, once an offer was accepted and
	// acknowledged; immutable once set.
	// +optional
	AgreementRef *LocalObjectReference `json:"agreementRef,omitempty"`
	// failure says why the order failed: the failure of the last
	// negotiation that ended when none completed.
	// +optional
	Failure *Failure `json:"failure,omitempty"`
	// history lists the last state transitions with their timestamps (RFC
	// 8921 §8.11), oldest first, at most 32 (MaxHistory).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	History []Transition `json:"history,omitempty"`
}

// QuotationOrder is a customer's request for connectivity, negotiated with
// CPNP (RFC 8921 §9.2.1) with one or more providers.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=qo,categories=cpnp
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.providerRefs[*].name`
// +kubebuilder:printcolumn:name="Acceptance",type=string,JSONPath=`.spec.acceptance`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Agreement",type=string,JSONPath=`.status.agreementRef.name`,priority=1
// +kubebuilder:printcolumn:name="Order-ID",type=string,JSONPath=`.status.customerOrderID`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type QuotationOrder struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what the customer asks for.
	// +required
	Spec QuotationOrderSpec `json:"spec"`
	// status is the state of the negotiation.
	// +optional
	Status QuotationOrderStatus `json:"status,omitempty"`
}

// QuotationOrderList is a list of QuotationOrders.
// +kubebuilder:object:root=true
type QuotationOrderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []QuotationOrder `json:"items"`
}

func init() {
	register(&QuotationOrder{}, &QuotationOrderList{})
}
