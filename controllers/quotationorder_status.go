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
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
)

// Reasons of the QuotationOrder's Ready condition. An Event's reason equals
// the condition reason (STYLE §3).
const (
	// ReasonAgreementReached is set when the server acknowledged the ACCEPT
	// and the Agreement exists (RFC 8921 §9.2.4, §9.2.6): Ready=True.
	ReasonAgreementReached = "AgreementReached"
	// ReasonAwaitingApproval is set when spec.approval is Pending: the
	// order stays in Created (RFC 8921 §8.11.1).
	ReasonAwaitingApproval = "AwaitingApproval"
	// ReasonNegotiating is set when the QUOTATION was sent and no offer
	// arrived yet (PQOSent, ServerProcessing; RFC 8921 §9.2.1, §9.2.2).
	ReasonNegotiating = "Negotiating"
	// ReasonOfferReceived is set when an offer arrived and awaits a
	// decision or its ACK (OfferReceived, OfferProcessing, AcceptSent; RFC
	// 8921 §9.2.3).
	ReasonOfferReceived = "OfferReceived"
	// ReasonProviderUnavailable is set when a providerRef cannot be
	// resolved (missing Provider or Secret) or its server cannot be added;
	// retried with backoff.
	ReasonProviderUnavailable = "ProviderUnavailable"
)

// Reasons of the QuotationOrder's Stalled condition (terminal outcomes).
const (
	// ReasonServerFailed is set when the server answered FAIL (RFC 8921
	// §9.2.10); status.failure has the code.
	ReasonServerFailed = "ServerFailed"
	// ReasonNegotiationEnded is set when the negotiation ended without an
	// agreement and without a FAIL from the server: declined, cancelled,
	// expired or unanswered (RFC 8921 §8.5, §9.2.5, §9.2.7).
	ReasonNegotiationEnded = "NegotiationEnded"
)

// Reasons of the Reconciling condition when it is False.
const (
	// ReasonReconciled is set when nothing is in progress.
	ReasonReconciled = "Reconciled"
)

// orderPhase is the outcome of one reconcile of a QuotationOrder that the
// conditions are derived from.
type orderPhase struct {
	// Reason is one of the Reason* constants.
	Reason string
	// Message is a human-readable explanation.
	Message string
}

// phaseOf derives the phase of a QuotationOrder from its status: the state
// of its negotiations and its failure.
func phaseOf(qo *v1alpha1.QuotationOrder) orderPhase {
	switch {
	case qo.Status.State == v1alpha1.StateCompleted && qo.Status.AgreementRef != nil:
		return orderPhase{ReasonAgreementReached, "Agreement " + qo.Status.AgreementRef.Name + " reached"}
	case qo.Status.State == v1alpha1.StateCancelled:
		if f := qo.Status.Failure; f != nil && f.StatusCode != nil && f.Sender == v1alpha1.FailureSenderServer {
			return orderPhase{ReasonServerFailed, fmt.Sprintf("The server answered FAIL %d: %s", *f.StatusCode, f.Reason)}
		}
		msg := "The negotiation ended without an agreement"
		if f := qo.Status.Failure; f != nil {
			msg += ": " + f.Reason
		}
		return orderPhase{ReasonNegotiationEnded, msg}
	case qo.Status.State == v1alpha1.StateCreated || qo.Status.State == "":
		if qo.Spec.Approval == v1alpha1.ApprovalPending {
			return orderPhase{ReasonAwaitingApproval, "The order waits for spec.approval to be Approved (RFC 8921 §8.11.1)"}
		}
		return orderPhase{ReasonNegotiating, "The QUOTATION is being prepared"}
	case qo.Status.State == v1alpha1.StateOfferReceived, qo.Status.State == v1alpha1.StateOfferProcessing,
		qo.Status.State == v1alpha1.StateAcceptSent:
		return orderPhase{ReasonOfferReceived, "An offer was received"}
	case qo.Status.State == v1alpha1.StateCompleted:
		return orderPhase{ReasonOfferReceived, "The offer was accepted; the Agreement is being created"}
	default:
		return orderPhase{ReasonNegotiating, "The QUOTATION was sent; waiting for an offer"}
	}
}

// setConditions writes Ready, Reconciling and Stalled (kstatus) for phase p,
// with the object's generation as ObservedGeneration, and sets
// status.observedGeneration. Ready is True only for an agreement; Stalled
// only for a terminal outcome; Reconciling otherwise.
func setConditions(qo *v1alpha1.QuotationOrder, p orderPhase) {
	gen := qo.Generation
	qo.Status.ObservedGeneration = gen
	set := func(t string, s metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&qo.Status.Conditions, metav1.Condition{
			Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen,
		})
	}
	switch p.Reason {
	case ReasonAgreementReached:
		set(v1alpha1.ConditionReady, metav1.ConditionTrue, p.Reason, p.Message)
		set(v1alpha1.ConditionReconciling, metav1.ConditionFalse, ReasonReconciled, "Nothing is in progress")
		set(v1alpha1.ConditionStalled, metav1.ConditionFalse, ReasonReconciled, "Nothing is in progress")
	case ReasonServerFailed, ReasonNegotiationEnded:
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, p.Reason, p.Message)
		set(v1alpha1.ConditionReconciling, metav1.ConditionFalse, p.Reason, p.Message)
		set(v1alpha1.ConditionStalled, metav1.ConditionTrue, p.Reason, p.Message)
	default:
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, p.Reason, p.Message)
		set(v1alpha1.ConditionReconciling, metav1.ConditionTrue, p.Reason, p.Message)
		set(v1alpha1.ConditionStalled, metav1.ConditionFalse, p.Reason, p.Message)
	}
}

// aggregateState is status.state of an order with several negotiations
// (DESIGN §5): Completed when one completed, else the state of the
// negotiation furthest along in Figure 8 (Cancelled only when all are).
func aggregateState(ps []v1alpha1.ProviderNegotiation) v1alpha1.ClientState {
	rank := map[v1alpha1.ClientState]int{
		v1alpha1.StateCreated: 1, v1alpha1.StateAwaitingProcessing: 2, v1alpha1.StatePQOSent: 3,
		v1alpha1.StateServerProcessing: 4, v1alpha1.StateOfferReceived: 5, v1alpha1.StateOfferProcessing: 6,
		v1alpha1.StateAcceptSent: 7, v1alpha1.StateCompleted: 9,
	}
	var best v1alpha1.ClientState
	cancelled := len(ps) > 0
	for _, p := range ps {
		if p.State != v1alpha1.StateCancelled {
			cancelled = false
		}
		if rank[p.State] > rank[best] {
			best = p.State
		}
	}
	if cancelled {
		return v1alpha1.StateCancelled
	}
	return best
}

// Reasons of the Offer's conditions.
const (
	// ReasonOfferOpen is set when the offer awaits a decision (RFC 8921 §9.2.3).
	ReasonOfferOpen = "OfferOpen"
	// ReasonDecisionSent is set when the ACCEPT or DECLINE awaits its ACK.
	ReasonDecisionSent = "DecisionSent"
	// ReasonDecisionAcknowledged is set when the server acknowledged the
	// ACCEPT or the DECLINE (RFC 8921 §9.2.4, §9.2.5): Ready=True.
	ReasonDecisionAcknowledged = "DecisionAcknowledged"
	// ReasonOfferClosed is set when the offer lapsed or the negotiation
	// ended otherwise (RFC 8921 §9.1.8, §9.2.10).
	ReasonOfferClosed = "OfferClosed"
)

// offerStatus is the state of an Offer given its decision and the client
// machine of its negotiation.
func offerStatus(decision v1alpha1.OfferDecision, o fsm.ClientOrder) v1alpha1.OfferState {
	switch o.State {
	case fsm.ClientOfferReceived, fsm.ClientOfferProcessing:
		return v1alpha1.OfferOpen
	case fsm.ClientAcceptSent:
		return v1alpha1.OfferAccepting
	case fsm.ClientCompleted:
		return v1alpha1.OfferAccepted
	case fsm.ClientCancelled:
		if decision == v1alpha1.DecisionDecline {
			if o.Txn.Unanswered != nil {
				return v1alpha1.OfferDeclining
			}
			return v1alpha1.OfferDeclined
		}
		if o.Failure != nil && o.Failure.Reason == "OfferExpired" {
			return v1alpha1.OfferExpired
		}
		return v1alpha1.OfferCancelled
	default:
		return v1alpha1.OfferOpen
	}
}

// offerConditions returns the Offer's conditions for state st.
func offerConditions(conds []metav1.Condition, st v1alpha1.OfferState, gen int64) []metav1.Condition {
	out := append([]metav1.Condition(nil), conds...)
	switch st {
	case v1alpha1.OfferAccepted, v1alpha1.OfferDeclined:
		setReady(&out, gen, ReasonDecisionAcknowledged, "The server acknowledged the decision")
	case v1alpha1.OfferAccepting, v1alpha1.OfferDeclining:
		setProgress(&out, gen, ReasonDecisionSent, "The decision was sent; waiting for its ACK")
	case v1alpha1.OfferExpired, v1alpha1.OfferCancelled:
		setStalled(&out, gen, ReasonOfferClosed, "The offer is closed: "+string(st))
	default:
		setProgress(&out, gen, ReasonOfferOpen, "The offer awaits a decision (spec.decision)")
	}
	return out
}

// setReady sets Ready=True, Reconciling=False and Stalled=False.
func setReady(conds *[]metav1.Condition, gen int64, reason, msg string) {
	setTriple(conds, gen, metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionFalse, reason, msg)
}

// setProgress sets Ready=False, Reconciling=True and Stalled=False.
func setProgress(conds *[]metav1.Condition, gen int64, reason, msg string) {
	setTriple(conds, gen, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse, reason, msg)
}

// setStalled sets Ready=False, Reconciling=False and Stalled=True.
func setStalled(conds *[]metav1.Condition, gen int64, reason, msg string) {
	setTriple(conds, gen, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue, reason, msg)
}

func setTriple(conds *[]metav1.Condition, gen int64, ready, reconciling, stalled metav1.ConditionStatus, reason, msg string) {
	for t, s := range map[string]metav1.ConditionStatus{
		v1alpha1.ConditionReady: ready, v1alpha1.ConditionReconciling: reconciling, v1alpha1.ConditionStalled: stalled,
	} {
		meta.SetStatusCondition(conds, metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen})
	}
}

// activationOf is the activation state of an agreement (RFC 8921 §9.2.11).
func activationOf(a *fsm.Agreement) *v1alpha1.AgreementActivation {
	switch {
	case a.Active:
		return &v1alpha1.AgreementActivation{State: v1alpha1.ActivationActive}
	case a.ScheduledAt != nil:
		return &v1alpha1.AgreementActivation{State: v1alpha1.ActivationStateScheduled, ScheduledAt: metaTime(a.ScheduledAt)}
	default:
		return &v1alpha1.AgreementActivation{State: v1alpha1.ActivationInactive}
	}
}
