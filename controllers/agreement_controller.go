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
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
)

// WithdrawFinalizer keeps a deleted Agreement until the server acknowledged
// its WITHDRAW (RFC 8921 §9.2.8, §11.1.2).
const WithdrawFinalizer = "negotiation.cpnp.dev/withdraw"

// Reasons of the Agreement's conditions during its withdrawal. An Event's
// reason equals the condition's reason (STYLE §3).
const (
	// ReasonWithdrawing is set when the Agreement is being deleted and its
	// WITHDRAW awaits the ACK (RFC 8921 §9.2.8): Reconciling=True.
	ReasonWithdrawing = "Withdrawing"
	// ReasonWithdrawUnanswered is set when the WITHDRAW went unanswered
	// through every retry: an alarm, and another cycle no sooner than
	// fsm.MinWithdrawRetryInterval (RFC 8921 §11.1.2): Reconciling=True.
	ReasonWithdrawUnanswered = "WithdrawUnanswered"
	// ReasonWithdrawFailed is set when the server answered the WITHDRAW
	// with FAIL (RFC 8921 §9.2.10): Stalled=True; the server may still hold
	// the agreement and the finalizer stays until an administrator removes
	// it.
	ReasonWithdrawFailed = "WithdrawFailed"
)

// withdrawAlarms counts the alarms of unanswered or refused WITHDRAWs (RFC
// 8921 §11.1.2: "an alarm should be raised"), by reason.
var withdrawAlarms = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "cpnp_withdraw_alarms_total",
	Help: "Alarms raised for a WITHDRAW the server did not acknowledge (RFC 8921 §11.1.2), by condition reason.",
}, []string{"reason"})

func init() {
	metrics.Registry.MustRegister(withdrawAlarms)
}

// AgreementReconciler runs ACTIVATE (RFC 8921 §9.2.11) and UPDATE (§9.2.9)
// for live Agreements whose spec.activation or spec.cpd changed (see live),
// and withdraws deleted Agreements (RFC 8921 §9.2.8): it keeps
// WithdrawFinalizer on every Agreement; on deletion it steps
// fsm.WithdrawOrder on the client machine kept in the Agreement's status,
// persists the status (and the nonce Secret) before the send (write-ahead,
// DESIGN §4), and removes the finalizer only once the server acknowledged
// the WITHDRAW (fsm.ClientOrder.WithdrawAcked).
type AgreementReconciler struct {
	// Client reads and writes the API objects.
	Client ctrlclient.Client
	// APIReader reads the Agreements and nonce Secrets past the cache
	// (default Client).
	APIReader ctrlclient.Reader
	// Engine owns the associations and records what arrived.
	Engine *Engine
	// Recorder emits Events; each reason equals the condition's reason.
	Recorder events.EventRecorder
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the source of transaction IDs and sequence numbers (default
	// crypto/rand.Reader, RFC 8921 §8.4).
	Rand io.Reader
	// Providers keeps resolved providers for a bounded time (default: a
	// cache shared by the package, DefaultProviderCacheTTL).
	Providers *ProviderCache
}

// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=agreements/finalizers,verbs=update

// SetupWithManager registers the reconciler: it watches Agreements and the
// Engine's Agreement source.
func (r *AgreementReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Agreement{}).
		Owns(&v1alpha1.Offer{}).
		WatchesRawSource(r.Engine.AgreementSource()).
		WithOptions(opts).
		Named("agreement").
		Complete(r)
}

func (r *AgreementReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *AgreementReconciler) providers() *ProviderCache {
	if r.Providers != nil {
		return r.Providers
	}
	return defaultProviderCache
}

func (r *AgreementReconciler) rand() io.Reader {
	if r.Rand != nil {
		return r.Rand
	}
	return rand.Reader
}

// secrets returns a QuotationOrderReconciler sharing r's clients, for its
// nonce Secret helpers.
func (r *AgreementReconciler) secrets() *QuotationOrderReconciler {
	return &QuotationOrderReconciler{Client: r.Client, APIReader: r.APIReader}
}

// Reconcile runs one level-triggered pass (STYLE §3).
func (r *AgreementReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if r.atRest(ctx, req.NamespacedName) {
		return ctrl.Result{}, nil
	}
	sr := r.secrets()
	var agr v1alpha1.Agreement
	if err := sr.reader().Get(ctx, req.NamespacedName, &agr); err != nil {
		return ctrl.Result{}, ctrlclient.IgnoreNotFound(err)
	}
	if agr.DeletionTimestamp.IsZero() {
		if controllerutil.ContainsFinalizer(&agr, WithdrawFinalizer) {
			return r.live(ctx, &agr)
		}
		base := agr.DeepCopy()
		controllerutil.AddFinalizer(&agr, WithdrawFinalizer)
		if err := r.Client.Patch(ctx, &agr, ctrlclient.MergeFromWithOptions(base, ctrlclient.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer to agreement %s: %w", req.NamespacedName, err)
		}
		return ctrl.Result{}, nil
	}
	if !controllerutil.ContainsFinalizer(&agr, WithdrawFinalizer) {
		return ctrl.Result{}, nil
	}
	if agr.Status.Protocol == nil {
		// Never agreed (no status yet): nothing to withdraw.
		return ctrl.Result{}, r.removeFinalizer(ctx, &agr)
	}
	return r.withdraw(ctx, &agr)
}

// atRest reports whether the manager's cache shows the Agreement with
// nothing to do (agreementAtRest). It reads only the cache and the
// Engine's inboxes, so that a restart, which reconciles every Agreement,
// reads none at rest past the cache. Any doubt (not cached yet, a cache
// error) answers false: the full pass runs.
func (r *AgreementReconciler) atRest(ctx context.Context, key types.NamespacedName) bool {
	if r.APIReader == nil {
		// Client is the only reader: the full pass reads the same copy.
		return false
	}
	var agr v1alpha1.Agreement
	if err := r.Client.Get(ctx, key, &agr); err != nil {
		return false
	}
	return agreementAtRest(&agr, r.Engine.pendingFor(owner{ownerAgreement, key}))
}

// agreementAtRest is the "nothing to do" predicate of an Agreement as the
// manager's cache shows it: a full pass would step nothing, send nothing,
// write nothing and requeue nothing. It holds exactly when all of these
// hold:
//
//   - pending is 0: no message from the server awaits stepping (Engine
//     wake-ups through AgreementSource);
//   - no deletion timestamp (deletion runs the WITHDRAW, RFC 8921 §9.2.8)
//     and WithdrawFinalizer is present (else the pass adds it);
//   - status.protocol is not set yet: the QuotationOrder reconciler
//     created the Agreement and writes its status next (§9.2.4, §9.2.6);
//     there is nothing to act on, and that write brings its own event. At
//     rest, whatever the rest. Otherwise the next three hold too:
//   - status.state is Established: no ACTIVATE (§9.2.11, Activating)
//     nor UPDATE (§9.2.9, Updating) is in flight, since the status is
//     persisted before every send (write-ahead, DESIGN §4), so no
//     retransmission timer is armed and no RequeueAfter is due;
//   - spec.cpd needs no UPDATE: metadata.generation equals
//     status.agreedGeneration (the CPD in force) or
//     status.observedGeneration (this generation's spec was already acted
//     on: updated, activated with spec.cpd unchanged, or failed, which
//     waits for a new spec);
//   - spec.activation needs no ACTIVATE: it is absent, equals
//     status.activation.observedSchedule, or its ACTIVATE failed for this
//     generation (Ready reason ActivationFailed, status.observedGeneration
//     equal to metadata.generation).
//
// A stale cached copy can only be older than the stored object; a newer
// version brings its own watch event, handled once the cache has it, so
// answering "nothing to do" from the cache never loses work
// (level-triggered, DESIGN §5). Anything else is false.
func agreementAtRest(agr *v1alpha1.Agreement, pending int) bool {
	st := &agr.Status
	if pending != 0 || !agr.DeletionTimestamp.IsZero() || !controllerutil.ContainsFinalizer(agr, WithdrawFinalizer) {
		return false
	}
	if st.Protocol == nil {
		// Created, its status not written yet by the QuotationOrder
		// reconciler: live has nothing to act on; the status write
		// brings its own event.
		return true
	}
	if st.State != v1alpha1.AgreementEstablished {
		return false
	}
	observed := st.ObservedGeneration == agr.Generation
	if agr.Generation != st.AgreedGeneration && !observed {
		return false
	}
	want := agr.Spec.Activation
	switch {
	case want == nil:
	case st.Activation != nil && st.Activation.ObservedSchedule != nil && equality.Semantic.DeepEqual(*st.Activation.ObservedSchedule, *want):
	case observed && readyReasonOf(st.Conditions) == ReasonActivationFailed:
	default:
		return false
	}
	return true
}

// withdraw advances the WITHDRAW of a deleted Agreement (RFC 8921 §9.2.8,
// §11.1.2).
func (r *AgreementReconciler) withdraw(ctx context.Context, agr *v1alpha1.Agreement) (ctrl.Result, error) {
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
	if o.WithdrawAcked {
		return ctrl.Result{}, r.removeFinalizer(ctx, agr)
	}
	res, err := r.providers().Resolve(ctx, r.Client, agr.Namespace, agr.Spec.ProviderRef)
	if err == nil {
		err = r.Engine.EnsureServer(res.Server, res.Config, res.Fingerprint)
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("withdraw agreement %s: %w", key, err)
	}
	r.Engine.WatchAgreement(res.Server, o.CustomerOrderID, key)

	now := r.now()
	var actions []fsm.Action
	stepOne := func(ev fsm.Event) {
		var acts []fsm.Action
		o, acts = res.Machine.Step(o, ev)
		actions = append(actions, acts...)
	}
	if o.State == fsm.ClientCompleted && o.Txn.Kind != fsm.TxnWithdraw {
		tid, seq, err := newTransaction(r.rand())
		if err != nil {
			return ctrl.Result{}, err
		}
		stepOne(fsm.WithdrawOrder{At: now, TransactionID: tid, Seq: seq})
	}
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

	raw, nonces, err := v1alpha1.EncodeProtocol(o)
	if err != nil {
		return ctrl.Result{}, err
	}
	maps.Copy(data, nonces.SecretData(""))
	base := agr.DeepCopy()
	agr.Status.Protocol = raw
	var alarms []fsm.Alarm
	for _, a := range actions {
		if al, ok := a.(fsm.Alarm); ok {
			alarms = append(alarms, al)
		}
	}
	oldReason := readyReasonOf(base.Status.Conditions)
	reason := oldReason
	switch {
	case o.WithdrawAcked:
		agr.Status.State = v1alpha1.AgreementWithdrawn
		reason = ReasonWithdrawing
		setProgress(&agr.Status.Conditions, agr.Generation, reason, "The server acknowledged the WITHDRAW (RFC 8921 §9.2.8)")
	case o.Failure != nil && o.Failure.Reason == ReasonWithdrawFailed && o.Txn.Unanswered == nil:
		agr.Status.State = v1alpha1.AgreementWithdrawing
		reason = ReasonWithdrawFailed
		setStalled(&agr.Status.Conditions, agr.Generation, reason,
			"The server refused the WITHDRAW and may still hold the agreement; remove the finalizer "+WithdrawFinalizer+" once resolved (RFC 8921 §11.1.2)")
	case len(alarms) > 0:
		agr.Status.State = v1alpha1.AgreementWithdrawing
		reason = ReasonWithdrawUnanswered
		setProgress(&agr.Status.Conditions, agr.Generation, reason, alarms[len(alarms)-1].Reason)
	case reason != ReasonWithdrawUnanswered:
		agr.Status.State = v1alpha1.AgreementWithdrawing
		reason = ReasonWithdrawing
		setProgress(&agr.Status.Conditions, agr.Generation, reason, "The WITHDRAW awaits the server's ACK (RFC 8921 §9.2.8)")
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
	for _, al := range alarms {
		withdrawAlarms.WithLabelValues(reason).Inc()
		log.Info("Alarm", "reason", reason, "message", al.Reason)
		if r.Recorder != nil {
			r.Recorder.Eventf(agr, nil, corev1.EventTypeWarning, reason, "Withdraw", "%s", al.Reason)
		}
	}
	if reason != oldReason && reason == ReasonWithdrawing && r.Recorder != nil && !o.WithdrawAcked {
		r.Recorder.Eventf(agr, nil, corev1.EventTypeNormal, reason, "Withdraw", "Sent WITHDRAW to %s", res.Server)
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
	if o.WithdrawAcked {
		r.Engine.Forget(res.Server, o.CustomerOrderID)
		return ctrl.Result{}, r.removeFinalizer(ctx, agr)
	}
	if _, at, ok := o.NextDeadline(); ok {
		return ctrl.Result{RequeueAfter: max(at.Sub(r.now()), minRequeue)}, nil
	}
	return ctrl.Result{}, nil
}

// removeFinalizer lets the API server delete the Agreement.
func (r *AgreementReconciler) removeFinalizer(ctx context.Context, agr *v1alpha1.Agreement) error {
	base := agr.DeepCopy()
	if !controllerutil.RemoveFinalizer(agr, WithdrawFinalizer) {
		return nil
	}
	if err := r.Client.Patch(ctx, agr, ctrlclient.MergeFromWithOptions(base, ctrlclient.MergeFromWithOptimisticLock{})); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer of agreement %s: %w", agr.Name, err)
	}
	return nil
}

// readyReasonOf returns the reason of the Ready condition, or "".
func readyReasonOf(conds []metav1.Condition) string {
	for _, c := range conds {
		if c.Type == v1alpha1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}
