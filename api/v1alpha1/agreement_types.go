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

// AgreementSpec is a concluded negotiation (RFC 8921 §9.2.4, §9.2.6) and
// what the customer wants done with it next.
type AgreementSpec struct {
	// quotationOrderRef names the QuotationOrder (same namespace) that led
	// to this agreement. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="quotationOrderRef is immutable"
	QuotationOrderRef LocalObjectReference `json:"quotationOrderRef"`
	// providerRef names the provider the agreement is with. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="providerRef is immutable: an agreement is with one provider"
	ProviderRef ProviderReference `json:"providerRef"`
	// cpd is the CPD in force. The operator creates the Agreement with the
	// Accepted CPD (RFC 8921 §8.7); editing it runs an UPDATE cycle
	// (§9.2.9, §11.1.3): the edited CPD is the Requested CPD, the server's
	// answer is a new Offer, and status.state returns to Established when
	// that offer's ACCEPT is acknowledged (the new CPD is then in force) or
	// when the cycle fails (the old CPD stays in force, DESIGN §3).
	// +required
	CPD CPD `json:"cpd"`
	// expectedResponseTime is how long an UPDATE waits for a response: the
	// UPDATE carries its send time plus this duration as
	// EXPECTED_RESPONSE_TIME, which an UPDATE must carry (RFC 8921 §9.2.9).
	// A Go duration such as "10m".
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$`
	ExpectedResponseTime *metav1.Duration `json:"expectedResponseTime,omitempty"`
	// acceptance says who accepts the offer of an UPDATE: Manual (the
	// default) or Automatic (when it satisfies every bound of the update).
	// +optional
	// +kubebuilder:default=Manual
	Acceptance AcceptanceMode `json:"acceptance,omitempty"`
	// activation drives ACTIVATE (RFC 8921 §9.2.11): setting or changing it
	// sends one ACTIVATE with this schedule; an unchanged value sends
	// nothing. The server refuses ACTIVATE (FAIL 8) unless the agreement
	// was negotiated with activationType Explicit (DESIGN §3).
	// +optional
	Activation *ActivationSchedule `json:"activation,omitempty"`
}

// AgreementState is where an agreement stands.
// +kubebuilder:validation:Enum=Established;Updating;Activating;Withdrawing;Withdrawn
type AgreementState string

// Agreement states.
const (
	// AgreementEstablished: the agreement in status is in force and nothing is in progress.
	AgreementEstablished AgreementState = "Established"
	// AgreementUpdating: an UPDATE cycle runs (RFC 8921 §9.2.9).
	AgreementUpdating AgreementState = "Updating"
	// AgreementActivating: an ACTIVATE awaits its ACK (RFC 8921 §9.2.11).
	AgreementActivating AgreementState = "Activating"
	// AgreementWithdrawing: the object is being deleted; WITHDRAW awaits
	// its ACK (RFC 8921 §9.2.8, §11.1.2).
	AgreementWithdrawing AgreementState = "Withdrawing"
	// AgreementWithdrawn: the server acknowledged the WITHDRAW.
	AgreementWithdrawn AgreementState = "Withdrawn"
)

// ActivationState says whether the agreed service is active.
// +kubebuilder:validation:Enum=Active;Scheduled;Inactive
type ActivationState string

// Activation states.
const (
	// ActivationActive: the service is active.
	ActivationActive ActivationState = "Active"
	// ActivationStateScheduled: it becomes active at status.activation.scheduledAt.
	ActivationStateScheduled ActivationState = "Scheduled"
	// ActivationInactive: not active (explicit activation pending, or deactivated).
	ActivationInactive ActivationState = "Inactive"
)

// AgreementActivation is the activation state of an agreement.
type AgreementActivation struct {
	// state is Active, Scheduled or Inactive.
	// +required
	State ActivationState `json:"state"`
	// scheduledAt is the future activation time of a Scheduled agreement.
	// +optional
	ScheduledAt *metav1.Time `json:"scheduledAt,omitempty"`
	// observedSchedule is the last spec.activation acknowledged by the
	// server, so that an unchanged spec sends no second ACTIVATE.
	// +optional
	ObservedSchedule *ActivationSchedule `json:"observedSchedule,omitempty"`
}

// AgreementStatus is the state of the agreement.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.customerOrderID) || (has(self.customerOrderID) && self.customerOrderID == oldSelf.customerOrderID)",message="customerOrderID is immutable once recorded (RFC 8921 §9.1.1)",fieldPath=".customerOrderID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.providerOrderID) || (has(self.providerOrderID) && self.providerOrderID == oldSelf.providerOrderID)",message="providerOrderID is immutable once recorded (RFC 8921 §9.1.2)",fieldPath=".providerOrderID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.contractID) || (has(self.contractID) && self.contractID == oldSelf.contractID)",message="contractID is immutable once recorded",fieldPath=".contractID"
type AgreementStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions are Ready (the CPD in spec is in force and nothing is in
	// progress), Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// state is Established, Updating, Activating, Withdrawing or Withdrawn.
	// +optional
	State AgreementState `json:"state,omitempty"`
	// contractID is the contract identifier (an RFC 4122 UUID) downstream
	// systems use, e.g. a PCE (draft-leroux-pce-contract-id); immutable once set.
	// +optional
	// +kubebuilder:validation:Format=uuid
	ContractID string `json:"contractID,omitempty"`
	// customerOrderID is the CUSTOMER_ORDER_IDENTIFIER (RFC 8921 §9.1.1);
	// immutable once set.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	CustomerOrderID string `json:"customerOrderID,omitempty"`
	// providerOrderID is the PROVIDER_ORDER_IDENTIFIER (RFC 8921 §9.1.2),
	// kept by UPDATE; immutable once set.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ProviderOrderID string `json:"providerOrderID,omitempty"`
	// transactionID is the TRANSACTION_ID of the last transaction on this
	// agreement (UPDATE, ACTIVATE and WITHDRAW each open a new one, RFC
	// 8921 §8.4).
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9A-Fa-f]{32,128}$`
	TransactionID string `json:"transactionID,omitempty"`
	// agreedAt is when the agreement (or its last UPDATE) was acknowledged.
	// +optional
	AgreedAt *metav1.Time `json:"agreedAt,omitempty"`
	// agreedGeneration is the metadata.generation whose spec.cpd is in force.
	// +optional
	AgreedGeneration int64 `json:"agreedGeneration,omitempty"`
	// activationType is the negotiated activation type (RFC 8921 §9.1.10.3).
	// +optional
	ActivationType ActivationType `json:"activationType,omitempty"`
	// activation says whether the service is active.
	// +optional
	Activation *AgreementActivation `json:"activation,omitempty"`
	// updateOfferRef names the Offer of the UPDATE cycle in progress, or of
	// the last one once it has ended (its status says how it ended).
	// +optional
	UpdateOfferRef *LocalObjectReference `json:"updateOfferRef,omitempty"`
	// failure says why the last transaction failed (a failed UPDATE leaves
	// the agreement in force, DESIGN §3).
	// +optional
	Failure *Failure `json:"failure,omitempty"`
	// history lists the last state transitions with their timestamps (RFC
	// 8921 §8.11), oldest first, at most 32 (MaxHistory).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	History []Transition `json:"history,omitempty"`
	// protocol is the client state machine's state of the order from the
	// ACK of the ACCEPT on (fsm.ClientOrder as JSON, nonces replaced by a
	// placeholder; see EncodeProtocol). For the controller: opaque, not an API.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Protocol *runtime.RawExtension `json:"protocol,omitempty"`
}

// Agreement is an accepted and acknowledged offer (RFC 8921 §9.2.4,
// §9.2.6). Editing spec.cpd runs UPDATE, spec.activation drives ACTIVATE
// and deleting the object runs WITHDRAW behind a finalizer (§9.2.8).
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=agr,categories=cpnp
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Activation",type=string,JSONPath=`.status.activation.state`
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.providerRef.name`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="ContractID",type=string,JSONPath=`.status.contractID`
// +kubebuilder:printcolumn:name="Order",type=string,JSONPath=`.spec.quotationOrderRef.name`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Agreement struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the CPD in force and the activation wanted.
	// +required
	Spec AgreementSpec `json:"spec"`
	// status is the state of the agreement.
	// +optional
	Status AgreementStatus `json:"status,omitempty"`
}

// AgreementList is a list of Agreements.
// +kubebuilder:object:root=true
type AgreementList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Agreement `json:"items"`
}

func init() {
	register(&Agreement{}, &AgreementList{})
}
