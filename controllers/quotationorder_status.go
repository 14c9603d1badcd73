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
	"time"

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
	// ReasonAgreementWithdrawn is set when the Agreement this order reached
	// was withdrawn and deleted (RFC 8921 §9.2.8): Ready=False, neither
	// Reconciling nor Stalled; status.state stays Completed (the order's
	// last Figure 8 state) and status.agreementRef keeps the name.
	ReasonAgreementWithdrawn = "AgreementWithdrawn"
	// ReasonCancelling is set while a deleted order's CANCELs await their
	// ACK (RFC 8921 §9.2.7); the finalizer CancelFinalizer holds the object.
	ReasonCancelling = "Cancelling"
)

// Reasons of the Events about the decisions the controller takes on a
// negotiation of an order with several providers (RFC 8921 §8.10) and about
// the CANCEL of a deleted order (§9.2.7). They name no condition: the
// Ready condition keeps the order's phase.
const (
	// ReasonOfferAccepted: the controller sent ACCEPT for a provider's
	// offer (§9.2.4).
	ReasonOfferAccepted = "OfferAccepted"
	// ReasonOfferDeclined: the controller sent DECLINE for a provider's
	// offer (§9.2.5), with the reason codes of Table 3.
	ReasonOfferDeclined = "OfferDeclined"
	// ReasonAcceptOverridden (Warning): spec.decision was Accept on more
	// than one Offer; every one but the first in spec.providerRefs order
	// was declined with reason 2 (ConflictWithOtherOffer, Table 3).
	ReasonAcceptOverridden = "AcceptOverridden"
	// ReasonNegotiationCancelled: the controller sent CANCEL (§9.2.7) to a
	// provider that had not made its offer when another offer was accepted.
	ReasonNegotiationCancelled = "NegotiationCancelled"
	// ReasonCancelUnanswered (Warning): a deleted order's CANCEL went
	// unanswered after every retransmission (§11.4); the finalizer is
	// removed anyway and the server's offer lapses at VALIDITY_OFFER_TIME
	// (§9.1.8).
	ReasonCancelUnanswered = "CancelUnanswered"
)

// Reasons of status.providers[].failure for negotiations the controller
// ended because of the other negotiations of the order (RFC 8921 §8.10).
const (
	// FailureDeclinedForOtherOffer: the offer was declined with reason 2,
	// ConflictWithOtherOffer (Table 3), because another offer was accepted.
	FailureDeclinedForOtherOffer = "DeclinedForOtherOffer"
	// FailureDeclinedUnacceptableGap: the offer was declined with reason 1,
	// UnacceptableGap (Table 3): it does not satisfy the request.
	FailureDeclinedUnacceptableGap = "DeclinedUnacceptableGap"
	// FailureCancelledForOtherOffer: the negotiation had no offer yet when
	// another offer was accepted; the controller sent CANCEL (§9.2.7).
	FailureCancelledForOtherOffer = "CancelledForOtherOffer"
)

// decisionRecord reports whether f records a decision of the controller
// (one of the Failure* reasons above), which the client machine does not
// keep itself.
func decisionRecord(f *v1alpha1.Failure) bool {
	if f == nil || f.Sender != v1alpha1.FailureSenderClient {
		return false
	}
	switch f.Reason {
	case FailureDeclinedForOtherOffer, FailureDeclinedUnacceptableGap, FailureCancelledForOtherOffer:
		return true
	}
	return false
}

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
	case !qo.DeletionTimestamp.IsZero() && qo.Status.AgreementRef == nil && qo.Status.State != v1alpha1.StateCancelled:
		return orderPhase{ReasonCancelling, "The order is being deleted: its negotiations are cancelled (RFC 8921 §9.2.7)"}
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
	case ReasonAgreementWithdrawn:
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, p.Reason, p.Message)
		set(v1alpha1.ConditionReconciling, metav1.ConditionFalse, p.Reason, p.Message)
		set(v1alpha1.ConditionStalled, metav1.ConditionFalse, p.Reason, p.Message)
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

// offerWhy appends why to the message of the Offer's Ready, Reconciling
// and Stalled conditions: the controller decided the offer against or
// without its spec.decision (RFC 8921 §8.10).
func offerWhy(conds []metav1.Condition, why string) []metav1.Condition {
	if why == "" {
		return conds
	}
	for i := range conds {
		switch conds[i].Type {
		case v1alpha1.ConditionReady, v1alpha1.ConditionReconciling, v1alpha1.ConditionStalled:
			conds[i].Message += ": " + why
		}
	}
	return conds
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
	// In a fixed order, so that a new object's conditions always read the
	// same (a map's order changes from run to run).
	for _, c := range [...]struct {
		typ    string
		status metav1.ConditionStatus
	}{{v1alpha1.ConditionReady, ready}, {v1alpha1.ConditionReconciling, reconciling}, {v1alpha1.ConditionStalled, stalled}} {
		meta.SetStatusCondition(conds, metav1.Condition{Type: c.typ, Status: c.status, Reason: reason, Message: msg, ObservedGeneration: gen})
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

// verdictKind is what the controller does with one negotiation.
type verdictKind int

// Verdicts of decideOrder.
const (
	// verdictNone: nothing now.
	verdictNone verdictKind = iota
	// verdictAccept: send ACCEPT (RFC 8921 §9.2.4).
	verdictAccept
	// verdictDecline: send DECLINE with reasons (§9.2.5, Table 3).
	verdictDecline
	// verdictCancel: send CANCEL, or end an unsent order (§9.2.7).
	verdictCancel
)

// candidate is one negotiation of an order as decideOrder sees it, in
// spec.providerRefs order.
type candidate struct {
	// name is "Kind/name" of the provider, for messages.
	name string
	// state is the negotiation's Figure 8 state; "" when it never started
	// (its provider could not be resolved yet).
	state fsm.ClientState
	// offer is the open offer (OfferReceived, OfferProcessing), else nil.
	offer *fsm.Offer
	// satisfies reports whether offer satisfies every bound of the
	// request (cpd.Satisfies, RFC 7297 §3-4).
	satisfies bool
	// score ranks a satisfying offer against the other satisfying ones
	// (cpd.Score: the headroom it leaves on the request's delay, jitter,
	// loss, availability and notification bounds); higher is better.
	score float64
	// decision and reasons are the Offer's spec.decision and
	// spec.declineReasons: the user's under Manual acceptance, the
	// controller's earlier decision under Automatic.
	decision v1alpha1.OfferDecision
	reasons  []v1alpha1.DeclineReason
}

// verdict is the decision on one negotiation.
type verdict struct {
	kind    verdictKind
	reasons []v1alpha1.DeclineReason
	// record, when not empty, is the status.providers[].failure reason
	// that records a decision the controller took without (or against)
	// spec.decision (Failure* constants); why explains it.
	record, why string
	// overridden is true when spec.decision was Accept and the controller
	// declines the offer because another one was accepted first.
	overridden bool
}

// maxDecisionMargin bounds decisionMargin.
const maxDecisionMargin = 30 * time.Second

// decisionMargin is how long before an offer's VALIDITY_OFFER_TIME (RFC
// 8921 §9.1.8) the Automatic decision is taken at the latest, even if
// other providers have not answered: 10% of the offer's validity window
// (from its arrival to VALIDITY_OFFER_TIME), at most 30 s, so that the
// ACCEPT reaches the server while the offer is still valid (§9.2.4).
func decisionMargin(o *fsm.Offer) time.Time {
	window := o.ValidUntil.Sub(o.ReceivedAt)
	if window < 0 {
		window = 0
	}
	return o.ValidUntil.Add(-min(window/10, maxDecisionMargin))
}

// waiting reports whether a negotiation in state s may still make an offer.
func waiting(s fsm.ClientState) bool {
	switch s {
	case "", fsm.ClientCreated, fsm.ClientAwaitingProcessing, fsm.ClientPQOSent, fsm.ClientServerProcessing:
		return true
	}
	return false
}

// decideOrder decides the negotiations of one order (RFC 8921 §8.10,
// DESIGN §5): cs in spec.providerRefs order. It returns one verdict per
// candidate and, when the Automatic decision waits for slower providers,
// the time at which it is taken anyway.
//
// An offer whose spec.decision is Decline is declined with its reasons.
// At most one offer is accepted per order: the winner is the first
// negotiation (in providerRefs order) that was already accepted (AcceptSent
// or Completed) or whose open offer has spec.decision Accept; failing that,
// under Automatic acceptance, the best open offer that satisfies the
// request, once every negotiation has an open offer or has ended, or
// earlier at the earliest decisionMargin of the open offers. "Best" is the
// highest cpd.Score (the most headroom on the request's bounds); among
// equal scores the user's order of preference, providerRefs order, decides.
// When there is a winner, every other open offer is declined with reason 2
// (ConflictWithOtherOffer, Table 3) and every negotiation still waiting for
// its offer is cancelled (§9.2.7). When the Automatic decision finds no
// satisfying offer, the open offers are declined with reason 1
// (UnacceptableGap) and the waiting negotiations continue. Under Manual
// acceptance, undecided offers wait for their spec.decision.
func decideOrder(mode v1alpha1.AcceptanceMode, cs []candidate, now time.Time) ([]verdict, time.Time) {
	vs := make([]verdict, len(cs))
	winner := -1
	for i, c := range cs {
		if c.offer != nil && c.decision == v1alpha1.DecisionDecline {
			vs[i] = verdict{kind: verdictDecline, reasons: c.reasons}
		}
	}
	for i, c := range cs {
		if c.state == fsm.ClientAcceptSent || c.state == fsm.ClientCompleted {
			winner = i
			break
		}
		if c.offer != nil && c.decision == v1alpha1.DecisionAccept {
			winner = i
			vs[i] = verdict{kind: verdictAccept}
			break
		}
	}
	if winner < 0 && mode == v1alpha1.AcceptanceAutomatic {
		var (
			open     []int
			deadline time.Time
			pending  bool
		)
		for i, c := range cs {
			switch {
			case c.offer != nil && c.decision == "":
				open = append(open, i)
				if d := decisionMargin(c.offer); deadline.IsZero() || d.Before(deadline) {
					deadline = d
				}
			case c.offer == nil && waiting(c.state):
				pending = true
			}
		}
		if len(open) == 0 {
			return vs, time.Time{}
		}
		if pending && now.Before(deadline) {
			return vs, deadline
		}
		for _, i := range open {
			if cs[i].satisfies && (winner < 0 || cs[i].score > cs[winner].score) {
				winner = i
			}
		}
		if winner >= 0 {
			vs[winner] = verdict{kind: verdictAccept}
		}
		if winner < 0 {
			for _, i := range open {
				vs[i] = verdict{kind: verdictDecline, reasons: []v1alpha1.DeclineReason{v1alpha1.DeclineUnacceptableGap}}
				if len(cs) > 1 {
					vs[i].record = FailureDeclinedUnacceptableGap
					vs[i].why = "declined with reason 1 (UnacceptableGap, RFC 8921 Table 3): the offer does not satisfy the request"
				}
			}
			return vs, time.Time{}
		}
	}
	if winner < 0 {
		return vs, time.Time{}
	}
	for i, c := range cs {
		switch {
		case i == winner || vs[i].kind == verdictDecline:
		case c.offer != nil:
			vs[i] = verdict{
				kind: verdictDecline, reasons: []v1alpha1.DeclineReason{v1alpha1.DeclineConflictWithOtherOffer},
				record:     FailureDeclinedForOtherOffer,
				why:        "declined with reason 2 (ConflictWithOtherOffer, RFC 8921 Table 3): the offer of " + cs[winner].name + " was accepted",
				overridden: c.decision == v1alpha1.DecisionAccept,
			}
		case waiting(c.state) && c.state != "":
			vs[i] = verdict{
				kind:   verdictCancel,
				record: FailureCancelledForOtherOffer,
				why:    "cancelled (RFC 8921 §9.2.7): the offer of " + cs[winner].name + " was accepted before this provider made one",
			}
		}
	}
	return vs, time.Time{}
}
