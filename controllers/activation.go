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
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
)

// Reasons of the Agreement's conditions around ACTIVATE (RFC 8921
// §9.2.11). An Event's reason equals the condition's reason (STYLE §3).
const (
	// ReasonActivating is set while an ACTIVATE awaits its answer:
	// Reconciling=True.
	ReasonActivating = "Activating"
	// ReasonActivated is set when the server acknowledged the ACTIVATE:
	// Ready=True; status.activation shows the new state.
	ReasonActivated = "Activated"
	// ReasonActivationFailed is set when the server refused the ACTIVATE
	// (FAIL, e.g. 8 for an agreement not negotiated with activation type
	// Explicit, §9.2.10 Table 4) or left it unanswered: Stalled=True until
	// spec.activation changes. The agreement stays in force as it was.
	ReasonActivationFailed = "ActivationFailed"
)

// activationDue reports whether spec.activation asks for an ACTIVATE that
// was neither acknowledged (status.activation.observedSchedule) nor already
// tried for this generation (a failed attempt waits for a new spec).
func activationDue(agr *v1alpha1.Agreement, o *fsm.ClientOrder) bool {
	want := agr.Spec.Activation
	if want == nil || o.State != fsm.ClientCompleted || o.Agreement == nil || o.Txn.Kind == fsm.TxnActivate && o.Activation != nil {
		return false
	}
	if a := agr.Status.Activation; a != nil && a.ObservedSchedule != nil && equality.Semantic.DeepEqual(*a.ObservedSchedule, *want) {
		return false
	}
	failed := o.Failure != nil && o.Failure.Txn == fsm.TxnActivate
	return !failed || agr.Status.ObservedGeneration != agr.Generation
}

// live runs the ACTIVATE transaction of a live Agreement (RFC 8921
// §9.2.11): when spec.activation changed it steps fsm.ActivateOrder with a
// new TRANSACTION_ID and sequence number, persists the status (nonces
// first) before the send (write-ahead, DESIGN §4), and applies the answer:
// the ACK updates status.activation, a FAIL (8 when the agreement was not
// negotiated with activation type Explicit) makes the Agreement Stalled
// with status.failure and a Warning Event; the agreement stays in force.
//
// The same pass runs the UPDATE cycle of an edited spec.cpd (§9.2.9, see
// updateDue): UPDATE, an Offer owned by the Agreement decided per
// spec.acceptance, ACCEPT or DECLINE, and on the ACK the new CPD in force
// (status.agreedGeneration); a cycle that ends otherwise keeps the previous
// agreement (DESIGN §3) with status.failure and Stalled=True.
func (r *AgreementReconciler) live(ctx context.Context, agr *v1alpha1.Agreement) (ctrl.Result, error) {
	if agr.Status.Protocol == nil || agr.Spec.Activation == nil && agr.Status.State == v1alpha1.AgreementEstablished &&
		agr.Generation == agr.Status.AgreedGeneration {
		return ctrl.Result{}, nil
	}
	log := logf.FromContext(ctx)
	sr := r.secrets()
	key := ctrlclient.ObjectKeyFromObject(agr)
	secName := agr.Name + AgreementNonceSecretSuffix
	secret, err := sr.nonceSecret(ctx, agr.Namespace, secName)
	if err != nil {
		return ctrl.Result{}, err
	}
	data := map[string][]byte{}
	if secret != nil {
		maps.Copy(data, secret.Data)
	}
	o, err := v1alpha1.DecodeProtocol(agr.Status.Protocol, v1alpha1.NoncesFromSecretData(data, ""))
	if err != nil {
		return ctrl.Result{}, reconcile.TerminalError(fmt.Errorf("agreement %s: %w", key, err))
	}
	var want cpd.CPD
	if agr.Generation != agr.Status.AgreedGeneration {
		if want, err = agr.Spec.CPD.ToProtocol(); err != nil {
			return ctrl.Result{}, reconcile.TerminalError(fmt.Errorf("agreement %s: spec.cpd: %w", key, err))
		}
	}
	inFlight := activationPending(&o) || o.Update != nil
	updDue := updateDue(agr, &o, want)
	due := !updDue && activationDue(agr, &o)
	if !inFlight && !due && !updDue {
		return ctrl.Result{}, nil
	}
	actWas := activationPending(&o) || due
	updWas := o.Update != nil || updDue
	// Each ACK of an ACCEPT brings a new agreement nonce (§9.2.6).
	var prevNonce string
	if o.Agreement != nil {
		prevNonce = o.Agreement.Nonce
	}
	res, err := r.providers().Resolve(ctx, r.Client, agr.Namespace, agr.Spec.ProviderRef)
	if err == nil {
		err = r.Engine.EnsureServer(res.Server, res.Config, res.Fingerprint)
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("activate agreement %s: %w", key, err)
	}
	r.Engine.WatchAgreement(res.Server, o.CustomerOrderID, key)

	now := r.now()
	var actions []fsm.Action
	stepOne := func(ev fsm.Event) {
		var acts []fsm.Action
		o, acts = res.Machine.Step(o, ev)
		actions = append(actions, acts...)
	}
	base := agr.DeepCopy()
	if updDue {
		tid, seq, err := newTransaction(r.rand())
		if err != nil {
			return ctrl.Result{}, err
		}
		stepOne(startUpdate(agr, want, now, tid, seq))
		agr.Status.TransactionID = tid
		agr.Status.UpdateOfferRef = nil
		// The generation whose spec.cpd this UPDATE carries.
		agr.Status.ObservedGeneration = agr.Generation
	}
	if due {
		sched, err := agr.Spec.Activation.ToProtocol(now)
		if err != nil {
			return ctrl.Result{}, reconcile.TerminalError(fmt.Errorf("agreement %s: spec.activation: %w", key, err))
		}
		tid, seq, err := newTransaction(r.rand())
		if err != nil {
			return ctrl.Result{}, err
		}
		stepOne(fsm.ActivateOrder{At: now, TransactionID: tid, Seq: seq, Schedule: sched})
		agr.Status.TransactionID = tid
		// The generation whose spec.activation this ACTIVATE carries.
		agr.Status.ObservedGeneration = agr.Generation
	}
	sent := o.Activation
	pending := r.Engine.Pending(res.Server, o.CustomerOrderID)
	for _, in := range pending {
		stepOne(fsm.MsgReceived{Msg: in.Msg, At: in.ReceivedAt})
	}
	for range maxTimerSteps {
		id, at, ok := o.NextDeadline()
		if !ok || at.After(now) {
			break
		}
		stepOne(fsm.TimerFired{ID: id, At: now})
	}

	if o.Update != nil && o.State == fsm.ClientOfferProcessing && o.Offer != nil {
		// The Offer exists before the decision is sent (write-ahead).
		var decision v1alpha1.OfferDecision
		var reasons []v1alpha1.DeclineReason
		if agr.Spec.Acceptance == v1alpha1.AcceptanceAutomatic {
			if decision, reasons, err = r.updateDecision(ctx, agr, &o, ""); err != nil {
				return ctrl.Result{}, err
			}
		}
		name, err := r.ensureUpdateOffer(ctx, agr, &o, decision, reasons)
		if err != nil {
			return ctrl.Result{}, err
		}
		agr.Status.UpdateOfferRef = &v1alpha1.LocalObjectReference{Name: name}
		if agr.Spec.Acceptance != v1alpha1.AcceptanceAutomatic {
			if decision, reasons, err = r.updateDecision(ctx, agr, &o, name); err != nil {
				return ctrl.Result{}, err
			}
		}
		switch decision {
		case v1alpha1.DecisionAccept:
			stepOne(fsm.AcceptOffer{At: now})
		case v1alpha1.DecisionDecline:
			codes, err := v1alpha1.DeclineReasonsToProtocol(reasons)
			if err != nil {
				return ctrl.Result{}, reconcile.TerminalError(fmt.Errorf("offer %s: %w", name, err))
			}
			stepOne(fsm.DeclineOffer{At: now, Reasons: codes})
		}
	}

	raw, nonces, err := v1alpha1.EncodeProtocol(o)
	if err != nil {
		return ctrl.Result{}, err
	}
	maps.Copy(data, nonces.SecretData(""))
	agr.Status.Protocol = raw
	oldReason := readyReasonOf(base.Status.Conditions)
	reason := oldReason
	updated := false
	switch {
	case o.Update != nil:
		agr.Status.State = v1alpha1.AgreementUpdating
		reason = ReasonUpdating
		setProgress(&agr.Status.Conditions, agr.Generation, reason, "The UPDATE of spec.cpd is being negotiated (RFC 8921 §9.2.9)")
	case updWas && (o.Agreement == nil || o.Agreement.Nonce == prevNonce):
		agr.Status.State = v1alpha1.AgreementEstablished
		reason = ReasonUpdateFailed
		f := v1alpha1.Failure{Reason: "UpdateDeclined", Message: "The UPDATE's offer was declined (RFC 8921 §9.2.5)", Time: metaTime(&now)}
		if o.Failure != nil && o.Failure.Txn == fsm.TxnUpdate {
			f = v1alpha1.FailureFromProtocol(*o.Failure)
		}
		agr.Status.Failure = &f
		setStalled(&agr.Status.Conditions, agr.Generation, reason,
			"The UPDATE ended without a new agreement ("+f.Reason+"); the previous CPD stays in force (RFC 8921 §9.2.9)")
	case updWas:
		updated = true
		agr.Status.State = v1alpha1.AgreementEstablished
		reason = ReasonUpdated
		agr.Status.Failure = nil
		agr.Status.AgreedGeneration = agr.Status.ObservedGeneration
		agr.Status.AgreedAt = metaTime(&o.Agreement.Since)
		act := activationOf(o.Agreement)
		if base.Status.Activation != nil {
			act.ObservedSchedule = base.Status.Activation.ObservedSchedule
		}
		agr.Status.Activation = act
		setReady(&agr.Status.Conditions, agr.Generation, reason, "The server acknowledged the ACCEPT of the UPDATE's offer; the new CPD is in force (RFC 8921 §9.2.9)")
	case o.Txn.Kind == fsm.TxnActivate && o.Activation != nil:
		reason = ReasonActivating
		agr.Status.State = v1alpha1.AgreementActivating
		setProgress(&agr.Status.Conditions, agr.Generation, reason, "The ACTIVATE awaits the server's answer (RFC 8921 §9.2.11)")
	case actWas && o.Failure != nil && o.Failure.Txn == fsm.TxnActivate:
		agr.Status.State = v1alpha1.AgreementEstablished
		reason = ReasonActivationFailed
		f := v1alpha1.FailureFromProtocol(*o.Failure)
		agr.Status.Failure = &f
		msg := "The ACTIVATE went unanswered; the agreement stays as it was (RFC 8921 §9.2.11)"
		if o.Failure.StatusCode != 0 {
			msg = fmt.Sprintf("The server refused the ACTIVATE with FAIL %d (%s); the agreement stays as it was (RFC 8921 §9.2.10, §9.2.11)",
				int(o.Failure.StatusCode), o.Failure.StatusCode)
		}
		setStalled(&agr.Status.Conditions, agr.Generation, reason, msg)
	case actWas:
		agr.Status.State = v1alpha1.AgreementEstablished
		reason = ReasonActivated
		agr.Status.Failure = nil
		act := activationOf(o.Agreement)
		switch {
		case agr.Status.ObservedGeneration == agr.Generation && agr.Spec.Activation != nil:
			act.ObservedSchedule = agr.Spec.Activation.DeepCopy()
		case sent != nil:
			s := v1alpha1.ActivationScheduleFromProtocol(*sent)
			act.ObservedSchedule = &s
		case base.Status.Activation != nil:
			act.ObservedSchedule = base.Status.Activation.ObservedSchedule
		}
		agr.Status.Activation = act
		setReady(&agr.Status.Conditions, agr.Generation, reason, fmt.Sprintf("The server acknowledged the ACTIVATE; the service is %s (RFC 8921 §9.2.11)", act.State))
	}

	// Write-ahead (DESIGN §4): nonces, then status, then the sends.
	if err := sr.saveNonces(ctx, agr, secName, secret, data); err != nil {
		return ctrl.Result{}, err
	}
	if !equality.Semantic.DeepEqual(base.Status, agr.Status) {
		if err := r.Client.Status().Patch(ctx, agr, ctrlclient.MergeFromWithOptions(base, ctrlclient.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("patch agreement %s status: %w", key, err)
		}
	}
	r.Engine.Consume(res.Server, o.CustomerOrderID, len(pending))
	if ref := agr.Status.UpdateOfferRef; ref != nil && updWas {
		if err := r.syncUpdateOffer(ctx, agr, ref.Name, &o, updated); err != nil {
			log.Error(err, "Failed to update the status of the UPDATE's Offer", "offer", ref.Name)
		}
	}
	if reason != oldReason && r.Recorder != nil {
		typ := corev1.EventTypeNormal
		if reason == ReasonActivationFailed || reason == ReasonUpdateFailed {
			typ = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(agr, nil, typ, reason, "Activate", "%s", condMessage(agr, reason))
	}
	for _, a := range actions {
		s, ok := a.(fsm.Send)
		if !ok {
			continue
		}
		if err := r.Engine.Send(ctx, res.Server, s); err != nil {
			// The message is in status; RETRANS_TIMER re-sends it (§11.4).
			log.Error(err, "Failed to send message", "method", s.Msg.Method.String(),
				"customerOrderID", s.Msg.CustomerOrderID, "transactionID", s.Msg.TransactionID, "seq", s.Msg.Seq)
		}
	}
	if _, at, ok := o.NextDeadline(); ok {
		return ctrl.Result{RequeueAfter: max(at.Sub(r.now()), minRequeue)}, nil
	}
	return ctrl.Result{}, nil
}

// condMessage returns the message of the Ready condition when its reason is
// reason, else reason.
func condMessage(agr *v1alpha1.Agreement, reason string) string {
	for _, c := range agr.Status.Conditions {
		if c.Type == v1alpha1.ConditionReady && c.Reason == reason {
			return c.Message
		}
	}
	return reason
}
