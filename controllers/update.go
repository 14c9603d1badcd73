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
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Reasons of the Agreement's conditions around UPDATE (RFC 8921 §9.2.9).
const (
	// ReasonUpdating is set while an UPDATE cycle runs: Reconciling=True.
	ReasonUpdating = "Updating"
	// ReasonUpdated is set when the server acknowledged the ACCEPT of the
	// update's offer: the edited spec.cpd is in force, Ready=True.
	ReasonUpdated = "Updated"
	// ReasonUpdateFailed is set when the UPDATE cycle ended without a new
	// agreement (FAIL, DECLINE, expiry): the previous CPD stays in force
	// (DESIGN §3), Stalled=True until spec.cpd changes again.
	ReasonUpdateFailed = "UpdateFailed"
)

// defaultUpdateResponseTime is the UPDATE's EXPECTED_RESPONSE_TIME when
// spec.expectedResponseTime is absent (the CRD default).
const defaultUpdateResponseTime = 10 * time.Minute

// updateDue reports whether spec.cpd differs from the CPD in force and no
// UPDATE cycle was tried for this generation (a failed cycle waits for a
// new spec). want is spec.cpd in protocol form.
func updateDue(agr *v1alpha1.Agreement, o *fsm.ClientOrder, want cpd.CPD) bool {
	if o.State != fsm.ClientCompleted || o.Agreement == nil || o.Update != nil || activationPending(o) ||
		agr.Generation == agr.Status.AgreedGeneration || cpd.Equal(want, o.Agreement.CPD) {
		return false
	}
	failed := readyReasonOf(agr.Status.Conditions) == ReasonUpdateFailed
	return !failed || agr.Status.ObservedGeneration != agr.Generation
}

// activationPending reports an ACTIVATE awaiting its answer (§9.2.11).
func activationPending(o *fsm.ClientOrder) bool {
	return o.Txn.Kind == fsm.TxnActivate && o.Activation != nil
}

// startUpdate returns the UpdateOrder for spec.cpd (§9.2.9): the UPDATE
// carries now plus spec.expectedResponseTime as EXPECTED_RESPONSE_TIME.
func startUpdate(agr *v1alpha1.Agreement, want cpd.CPD, now time.Time, tid string, seq uint32) fsm.UpdateOrder {
	d := defaultUpdateResponseTime
	if agr.Spec.ExpectedResponseTime != nil {
		d = agr.Spec.ExpectedResponseTime.Duration
	}
	ert := wire.CanonicalTime(now.Add(d))
	return fsm.UpdateOrder{At: now, TransactionID: tid, Seq: seq, CPD: want, ExpectedResponseTime: &ert}
}

// updateDecision returns the decision on the update's open offer: under
// Automatic acceptance accept an offer that satisfies every bound of the
// updated CPD (RFC 7297 §3-4) and decline the others with reason 1
// (§9.2.5 Table 3); under Manual acceptance the Offer's spec.decision.
func (r *AgreementReconciler) updateDecision(ctx context.Context, agr *v1alpha1.Agreement, o *fsm.ClientOrder, offerName string,
) (v1alpha1.OfferDecision, []v1alpha1.DeclineReason, error) {
	if agr.Spec.Acceptance == v1alpha1.AcceptanceAutomatic {
		if len(cpd.Satisfies(o.Offer.CPD, o.Update.CPD)) == 0 {
			return v1alpha1.DecisionAccept, nil, nil
		}
		return v1alpha1.DecisionDecline, []v1alpha1.DeclineReason{v1alpha1.DeclineUnacceptableGap}, nil
	}
	var offer v1alpha1.Offer
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: agr.Namespace, Name: offerName}, &offer); err != nil {
		return "", nil, ctrlclient.IgnoreNotFound(err)
	}
	return offer.Spec.Decision, offer.Spec.DeclineReasons, nil
}

// ensureUpdateOffer creates the Offer of an UPDATE cycle (§9.2.9, §9.2.3),
// owned by the Agreement, named after the cycle's transaction so that a
// retried reconcile finds it.
func (r *AgreementReconciler) ensureUpdateOffer(ctx context.Context, agr *v1alpha1.Agreement, o *fsm.ClientOrder,
	decision v1alpha1.OfferDecision, reasons []v1alpha1.DeclineReason,
) (string, error) {
	name := childName(agr.Name, "update/"+o.Txn.ID)
	offer := &v1alpha1.Offer{
		ObjectMeta: metav1.ObjectMeta{Namespace: agr.Namespace, Name: name},
		Spec: v1alpha1.OfferSpec{
			QuotationOrderRef: agr.Spec.QuotationOrderRef,
			AgreementRef:      &v1alpha1.LocalObjectReference{Name: agr.Name},
			ProviderRef:       agr.Spec.ProviderRef,
			CustomerOrderID:   o.CustomerOrderID,
			ProviderOrderID:   o.ProviderOrderID,
			TransactionID:     o.Txn.ID,
			CPD:               v1alpha1.CPDFromProtocol(o.Offer.CPD),
			ValidUntil:        *metaTime(&o.Offer.ValidUntil),
			Decision:          decision,
			DeclineReasons:    reasons,
		},
	}
	if s := o.Offer.ActivationSchedule; s != nil {
		as := v1alpha1.ActivationScheduleFromProtocol(*s)
		offer.Spec.ActivationSchedule = &as
	}
	if ie := o.Offer.InformationElements; ie != nil {
		offer.Spec.ProviderDescription = v1alpha1.ProviderDescriptionFromProtocol(ie.ProviderDescription)
		offer.Spec.NegotiationOptions = v1alpha1.NegotiationOptionsFromProtocol(ie.NegotiationOptions)
	}
	if err := controllerutil.SetControllerReference(agr, offer, r.Client.Scheme()); err != nil {
		return "", fmt.Errorf("offer %s: %w", name, err)
	}
	if err := r.Client.Create(ctx, offer); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("create offer %s: %w", name, err)
	}
	return name, nil
}

// updateOfferState is the state of the update's Offer given the client
// machine: open while the cycle waits for a decision, then Accepted when
// the cycle ended in a new agreement (updated is true), else Declined,
// Expired or Cancelled.
func updateOfferState(decision v1alpha1.OfferDecision, o *fsm.ClientOrder, updated bool) v1alpha1.OfferState {
	switch {
	case o.Update != nil && o.State == fsm.ClientAcceptSent:
		return v1alpha1.OfferAccepting
	case o.Update != nil && o.Txn.Unanswered != nil && decision == v1alpha1.DecisionDecline:
		return v1alpha1.OfferDeclining
	case o.Update != nil:
		return v1alpha1.OfferOpen
	case updated:
		return v1alpha1.OfferAccepted
	case decision == v1alpha1.DecisionDecline:
		return v1alpha1.OfferDeclined
	case o.Failure != nil && o.Failure.Reason == "UpdateOfferExpired":
		return v1alpha1.OfferExpired
	default:
		return v1alpha1.OfferCancelled
	}
}

// syncUpdateOffer writes the status of the update's Offer.
func (r *AgreementReconciler) syncUpdateOffer(ctx context.Context, agr *v1alpha1.Agreement, name string, o *fsm.ClientOrder, updated bool) error {
	var offer v1alpha1.Offer
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: agr.Namespace, Name: name}, &offer); err != nil {
		return ctrlclient.IgnoreNotFound(err)
	}
	base := offer.DeepCopy()
	st := updateOfferState(offer.Spec.Decision, o, updated)
	offer.Status.State = st
	offer.Status.ObservedGeneration = offer.Generation
	if o.Offer != nil {
		req := o.Request.CPD
		if o.Update != nil {
			req = o.Update.CPD
		}
		offer.Status.SatisfiesRequest = metav1.ConditionTrue
		offer.Status.Mismatches = nil
		for i, m := range cpd.Satisfies(o.Offer.CPD, req) {
			offer.Status.SatisfiesRequest = metav1.ConditionFalse
			if i < 16 {
				offer.Status.Mismatches = append(offer.Status.Mismatches, m.String())
			}
		}
	}
	if offer.Spec.Decision != "" && offer.Status.DecidedAt == nil {
		t := metav1.NewTime(r.now().UTC().Truncate(time.Second))
		offer.Status.DecidedAt = &t
	}
	offer.Status.Conditions = offerConditions(offer.Status.Conditions, st, offer.Generation)
	if equality.Semantic.DeepEqual(base.Status, offer.Status) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, &offer, ctrlclient.MergeFrom(base)); err != nil {
		return fmt.Errorf("patch offer %s status: %w", offer.Name, err)
	}
	return nil
}
