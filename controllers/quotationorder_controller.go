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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/google/uuid"
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
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Suffixes of the Secrets, owned by a QuotationOrder or by an Agreement,
// that keep the nonces of their negotiations (RFC 8921 §9.1.5; DESIGN §5:
// nonces never in spec or status). They differ in their last word, so the
// Secrets of an order and of an Agreement never share a name.
const (
	OrderNonceSecretSuffix     = "-cpnp-order-nonces"
	AgreementNonceSecretSuffix = "-cpnp-agreement-nonces"
)

// maxTimerSteps bounds the timers fired in one reconcile per negotiation.
const maxTimerSteps = 8

// minRequeue is the shortest RequeueAfter, so that a timer the machine does
// not consume cannot spin the controller.
const minRequeue = 100 * time.Millisecond

// QuotationOrderReconciler negotiates QuotationOrders (RFC 8921 §8.11.1):
// it steps the pure client machine (fsm.Client) with what the Engine
// recorded and with the timers due, persists the status (and the nonce
// Secret) first, and only then asks the Engine to send (write-ahead,
// DESIGN §4, §5), so a restart never opens a second remote order.
type QuotationOrderReconciler struct {
	// Client reads and writes the API objects.
	Client ctrlclient.Client
	// APIReader reads the nonce Secrets past the cache (default Client): a
	// Secret written by the previous reconcile must be seen by the next one,
	// or its placeholders could not be restored (v1alpha1.ErrNonceMissing).
	APIReader ctrlclient.Reader
	// Engine owns the associations and records what arrived.
	Engine *Engine
	// Recorder emits Events; each reason equals the condition's reason.
	Recorder events.EventRecorder
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the source of transaction IDs, sequence numbers and customer
	// order identifiers (default crypto/rand.Reader, RFC 8921 §8.4, §13).
	Rand io.Reader
	// Providers keeps resolved providers for a bounded time (default: a
	// cache shared by the package, DefaultProviderCacheTTL), so that a
	// reconcile does not read the Provider's Secrets each time.
	Providers *ProviderCache
}

// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=quotationorders,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=quotationorders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=quotationorders/finalizers,verbs=update
// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=offers,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=offers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=agreements,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=agreements/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=providers;clusterproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create;update;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the reconciler: it watches QuotationOrders,
// the Offers and Agreements they own, and the Engine's channel source.
func (r *QuotationOrderReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.QuotationOrder{}).
		Owns(&v1alpha1.Offer{}).
		Owns(&v1alpha1.Agreement{}).
		WatchesRawSource(r.Engine.Source()).
		WithOptions(opts).
		Named("quotationorder").
		Complete(r)
}

func (r *QuotationOrderReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *QuotationOrderReconciler) reader() ctrlclient.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}

func (r *QuotationOrderReconciler) providers() *ProviderCache {
	if r.Providers != nil {
		return r.Providers
	}
	return defaultProviderCache
}

func (r *QuotationOrderReconciler) rand() io.Reader {
	if r.Rand != nil {
		return r.Rand
	}
	return rand.Reader
}

// CancelFinalizer keeps a deleted QuotationOrder until every negotiation it
// opened is closed: the server acknowledged its CANCEL (RFC 8921 §9.2.7),
// the CANCEL went unanswered after every retransmission (§11.4; the offer
// then lapses at VALIDITY_OFFER_TIME, §9.1.8), or the negotiation was
// already over or handed over to its Agreement (whose own finalizer,
// WithdrawFinalizer, runs the WITHDRAW). It is added before the first
// QUOTATION is sent.
const CancelFinalizer = "negotiation.cpnp.dev/cancel"

// processingCoalesce is how long a PROCESSING that only moves a negotiation
// to ServerProcessing (RFC 8921 §9.2.2) waits, unpersisted, for the OFFER
// that usually follows it within a round trip, so that both are persisted
// in one status write. A PROCESSING that asks for more time, or any other
// message, is persisted at once. Until it is persisted the message stays in
// the Engine's inbox; after a restart the QUOTATION's retransmission timer
// (persisted) re-sends it and the server answers it again (§11.4).
const processingCoalesce = time.Second

// negotiation is the work of one reconcile on one providerRef.
type negotiation struct {
	ref     v1alpha1.ProviderReference
	server  string
	machine fsm.Client
	order   fsm.ClientOrder
	actions []fsm.Action
	// consumed is the number of recorded messages stepped.
	consumed int
	// deferUntil, when not zero, is when a coalesced PROCESSING is
	// persisted at the latest (processingCoalesce).
	deferUntil time.Time
	// record is a decision of the controller that the client machine does
	// not keep (decisionRecord), for the status entry's failure.
	record *v1alpha1.Failure
}

// step feeds ev to the client machine.
func (n *negotiation) step(ev fsm.Event) {
	var acts []fsm.Action
	n.order, acts = n.machine.Step(n.order, ev)
	n.actions = append(n.actions, acts...)
}

// orderEvent is an Event about the QuotationOrder, emitted once the status
// that reflects it is persisted.
type orderEvent struct{ typ, reason, msg string }

// Reconcile runs one level-triggered pass (STYLE §3).
func (r *QuotationOrderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	if r.atRest(ctx, req.NamespacedName) {
		return ctrl.Result{}, nil
	}
	// The object is read past the cache: stepping a stale status would
	// redo what the previous reconcile persisted (its patch is refused by
	// the optimistic lock, but the nonce Secret is written before it).
	var qo v1alpha1.QuotationOrder
	if err := r.reader().Get(ctx, req.NamespacedName, &qo); err != nil {
		if apierrors.IsNotFound(err) {
			r.Engine.ForgetOwner(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get quotation order %s: %w", req.NamespacedName, err)
	}
	deleting := !qo.DeletionTimestamp.IsZero()
	if deleting && !controllerutil.ContainsFinalizer(&qo, CancelFinalizer) {
		return ctrl.Result{}, nil
	}
	if deleting && qo.Status.CustomerOrderID == "" {
		// Nothing was ever sent (RFC 8921 §8.11.1: Created).
		return ctrl.Result{}, r.removeFinalizer(ctx, &qo)
	}
	if !deleting && needsFinalizer(&qo) {
		if err := r.addFinalizer(ctx, &qo); err != nil {
			return ctrl.Result{}, err
		}
	}
	base := qo.DeepCopy()
	now := r.now()

	secret, err := r.nonceSecret(ctx, qo.Namespace, qo.Name+OrderNonceSecretSuffix)
	if err != nil {
		return ctrl.Result{}, err
	}
	if qo.Status.CustomerOrderID == "" {
		id, err := client.NewCustomerOrderID(r.rand())
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("quotation order %s: %w", req.NamespacedName, err)
		}
		qo.Status.CustomerOrderID = id
	}

	var (
		negs     []*negotiation
		provErr  error
		terminal error
		events   []orderEvent
		data     = map[string][]byte{}
		multi    = len(qo.Spec.ProviderRefs) > 1
	)
	if secret != nil {
		maps.Copy(data, secret.Data)
	}
	decided := qo.Status.AgreementRef != nil
	for _, p := range qo.Status.Providers {
		decided = decided || p.State == v1alpha1.StateAcceptSent || p.State == v1alpha1.StateCompleted
	}
	for _, ref := range qo.Spec.ProviderRefs {
		if handedOver(&qo, ref) {
			// The Agreement's reconciler owns the negotiation from now on
			// (its WITHDRAW, RFC 8921 §9.2.8): no Watch, no step.
			continue
		}
		if deleting && closedForDeletion(&qo, ref, data) {
			continue
		}
		if e := findEntry(&qo, ref); decided && (e == nil || e.Protocol == nil) {
			// An offer was already accepted (RFC 8921 §8.10): a provider
			// that could not be reached so far is not asked any more.
			continue
		}
		res, err := r.providers().Resolve(ctx, r.Client, qo.Namespace, ref)
		if err == nil {
			err = r.Engine.EnsureServer(res.Server, res.Config, res.Fingerprint)
		}
		if err != nil {
			if deleting {
				// The CANCEL cannot be sent: the server's offer lapses by
				// itself (§9.1.8); the deletion does not wait for the
				// Provider to come back.
				events = append(events, orderEvent{corev1.EventTypeWarning, ReasonCancelUnanswered,
					fmt.Sprintf("No CANCEL sent to %s: %v", refName(ref), err)})
				continue
			}
			provErr = errors.Join(provErr, err)
			continue
		}
		r.Engine.Watch(res.Server, qo.Status.CustomerOrderID, req.NamespacedName)
		n, err := r.advance(&qo, ref, res, data, now, deleting)
		if errors.Is(err, reconcile.TerminalError(nil)) {
			if deleting {
				log.Error(err, "Abandoned a negotiation of a deleted order", "provider", refName(ref))
				continue
			}
			terminal = errors.Join(terminal, err)
			continue
		}
		if err != nil {
			return ctrl.Result{}, err
		}
		negs = append(negs, n)
	}
	if terminal != nil {
		for _, n := range negs {
			if err := r.record(&qo, n, data, multi); err != nil {
				return ctrl.Result{}, err
			}
		}
		meta := orderPhase{Reason: ReasonNegotiationEnded, Message: terminal.Error()}
		setConditions(&qo, meta)
		if readyReason(base) != meta.Reason {
			r.event(&qo, corev1.EventTypeWarning, meta)
		}
		// Other negotiations may have stepped: their nonces go first.
		if err := r.saveNonces(ctx, &qo, qo.Name+OrderNonceSecretSuffix, secret, data); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, errors.Join(r.patchStatus(ctx, base, &qo), terminal)
	}

	var wake time.Time
	if deleting {
		// CANCEL every open negotiation (RFC 8921 §9.2.7); one that sent
		// nothing yet just ends.
		for _, n := range negs {
			switch n.order.State {
			case fsm.ClientCreated, fsm.ClientAwaitingProcessing, fsm.ClientPQOSent, fsm.ClientServerProcessing,
				fsm.ClientOfferReceived, fsm.ClientOfferProcessing, fsm.ClientAcceptSent:
				n.step(fsm.CancelOrder{At: now})
			}
		}
	} else {
		wake, err = r.decideAll(ctx, &qo, negs, now, &events)
		if err != nil {
			return ctrl.Result{}, err
		}
	}
	for _, n := range negs {
		if err := r.record(&qo, n, data, multi); err != nil {
			return ctrl.Result{}, err
		}
		if deleting {
			for _, a := range n.actions {
				if t, ok := a.(fsm.Transition); ok && t.Reason == "NoAcknowledgement" {
					events = append(events, orderEvent{corev1.EventTypeWarning, ReasonCancelUnanswered,
						fmt.Sprintf("The CANCEL to %s went unanswered after every retransmission (RFC 8921 §11.4); its offer lapses at its validity time (§9.1.8)", refName(n.ref))})
				}
			}
		}
	}

	// Agreement: created once a negotiation completed (ACK of the ACCEPT).
	created := false
	for _, n := range negs {
		if n.order.State == fsm.ClientCompleted && n.order.Agreement != nil && qo.Status.AgreementRef == nil {
			name, err := r.ensureAgreement(ctx, &qo, n)
			if err != nil {
				return ctrl.Result{}, err
			}
			qo.Status.AgreementRef = &v1alpha1.LocalObjectReference{Name: name}
			created = true
			// The agreement's nonce lives in the Agreement's Secret. The
			// order's Secret does not take it: the status that refers to it
			// is written together with agreementRef, after which this
			// negotiation is never decoded from the order again (handedOver),
			// so the order's Secret is not rewritten for it.
			for k := range (v1alpha1.Nonces{Agreement: "-"}).SecretData(noncePrefix(n.ref)) {
				if _, ok := secretData(secret)[k]; !ok {
					delete(data, k)
				}
			}
		}
	}

	qo.Status.State = aggregateState(qo.Status.Providers)
	qo.Status.Failure = nil
	if qo.Status.State == v1alpha1.StateCancelled {
		for _, p := range qo.Status.Providers {
			if p.Failure != nil {
				qo.Status.Failure = p.Failure.DeepCopy()
			}
		}
	}
	phase := phaseOf(&qo)
	if provErr != nil && phase.Reason != ReasonAgreementReached && phase.Reason != ReasonServerFailed && phase.Reason != ReasonNegotiationEnded {
		phase = orderPhase{Reason: ReasonProviderUnavailable, Message: provErr.Error()}
	}
	if phase.Reason == ReasonAgreementReached && !created {
		gone, err := r.agreementGone(ctx, &qo)
		if err != nil {
			return ctrl.Result{}, err
		}
		if gone {
			phase = orderPhase{Reason: ReasonAgreementWithdrawn,
				Message: "Agreement " + qo.Status.AgreementRef.Name + " was withdrawn (RFC 8921 §9.2.8) and deleted"}
		}
	}
	setConditions(&qo, phase)

	// Write-ahead (DESIGN §4): nonces, then status, then the sends.
	if err := r.saveNonces(ctx, &qo, qo.Name+OrderNonceSecretSuffix, secret, data); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.patchStatus(ctx, base, &qo); err != nil {
		return ctrl.Result{}, err
	}
	if old := readyReason(base); old != phase.Reason {
		typ := corev1.EventTypeNormal
		if phase.Reason == ReasonServerFailed || phase.Reason == ReasonNegotiationEnded || phase.Reason == ReasonProviderUnavailable {
			typ = corev1.EventTypeWarning
		}
		r.event(&qo, typ, phase)
	}
	if r.Recorder != nil {
		for _, e := range events {
			r.Recorder.Eventf(&qo, nil, e.typ, e.reason, "Negotiate", "%s", e.msg)
		}
	}
	next := wake
	for _, n := range negs {
		r.Engine.Consume(n.server, qo.Status.CustomerOrderID, n.consumed)
		for _, a := range n.actions {
			s, ok := a.(fsm.Send)
			if !ok {
				continue
			}
			if err := r.Engine.Send(ctx, n.server, s); err != nil {
				// The message is in status; RETRANS_TIMER re-sends it (§11.4).
				log.Error(err, "Failed to send message", "method", s.Msg.Method.String(),
					"customerOrderID", s.Msg.CustomerOrderID, "transactionID", s.Msg.TransactionID, "seq", s.Msg.Seq)
				continue
			}
			log.V(1).Info("Sent message", "method", s.Msg.Method.String(), "provider", n.server,
				"customerOrderID", s.Msg.CustomerOrderID, "transactionID", s.Msg.TransactionID, "seq", s.Msg.Seq)
		}
		if _, at, ok := n.order.NextDeadline(); ok && (next.IsZero() || at.Before(next)) {
			next = at
		}
		if !n.deferUntil.IsZero() && (next.IsZero() || n.deferUntil.Before(next)) {
			next = n.deferUntil
		}
		if err := r.syncOffer(ctx, &qo, n); err != nil {
			return ctrl.Result{}, err
		}
	}
	if deleting && cancelsDone(negs) {
		return ctrl.Result{}, r.removeFinalizer(ctx, &qo)
	}
	if provErr != nil {
		return ctrl.Result{}, provErr
	}
	if next.IsZero() {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{RequeueAfter: max(next.Sub(r.now()), minRequeue)}, nil
}

// atRest reports whether the manager's cache shows qo with nothing to do
// (orderAtRest). It reads only the cache and the Engine's inboxes, so that
// a restart, which reconciles every order, reads no order at rest past the
// cache (neither the order, nor its nonce Secret, nor its Agreement). Any
// doubt (not cached yet, a cache error) answers false: the full pass runs.
func (r *QuotationOrderReconciler) atRest(ctx context.Context, key types.NamespacedName) bool {
	if r.APIReader == nil {
		// Client is the only reader: the full pass reads the same copy.
		return false
	}
	var qo v1alpha1.QuotationOrder
	if err := r.Client.Get(ctx, key, &qo); err != nil ||
		qo.Status.State != v1alpha1.StateCompleted && qo.Status.State != v1alpha1.StateCancelled {
		return false
	}
	v := orderView{Pending: r.Engine.pendingFor(owner{ownerOrder, key})}
	if ref := qo.Status.AgreementRef; ref != nil {
		var agr v1alpha1.Agreement
		switch err := r.Client.Get(ctx, types.NamespacedName{Namespace: qo.Namespace, Name: ref.Name}, &agr); {
		case err == nil:
			v.Agreement = true
		case !apierrors.IsNotFound(err):
			return false
		}
	}
	v.OfferObserved = func(name string) bool {
		var o v1alpha1.Offer
		err := r.Client.Get(ctx, types.NamespacedName{Namespace: qo.Namespace, Name: name}, &o)
		return err == nil && o.Status.ObservedGeneration == o.Generation
	}
	return orderAtRest(&qo, v)
}

// orderView is what orderAtRest needs besides the order: what the Engine
// recorded for it and what the manager's cache shows of its children.
type orderView struct {
	// Pending is the number of messages the Engine recorded for the
	// order's negotiations and the reconciler did not consume yet.
	Pending int
	// Agreement is true when status.agreementRef's Agreement is cached.
	Agreement bool
	// OfferObserved reports whether the named Offer is cached with
	// status.observedGeneration equal to its generation (nil: never).
	OfferObserved func(name string) bool
}

// orderAtRest is the "nothing to do" predicate of a QuotationOrder as the
// manager's cache shows it: a full pass (Reconcile past the cache) would
// step nothing, send nothing, write nothing and requeue nothing. It holds
// exactly when all of these hold:
//
//   - v.Pending is 0: no message from a server awaits stepping (Engine
//     wake-ups);
//   - no deletion timestamp (deletion runs the CANCELs, §9.2.7, and the
//     finalizer), and needsFinalizer is false;
//   - status.observedGeneration equals metadata.generation (every spec
//     change was observed);
//   - either (completed) status.state is Completed with
//     status.agreementRef set and no status.failure: the negotiation was
//     handed over to its Agreement (RFC 8921 §9.2.4, §9.2.6), whose
//     reconciler owns the WITHDRAW (§9.2.8); and Ready's reason is
//     AgreementReached with the Agreement cached, or AgreementWithdrawn
//     with it not cached (agreementGone would not change it);
//   - or (ended) status.state is Cancelled without status.agreementRef and
//     Ready's reason is ServerFailed or NegotiationEnded (§9.2.10);
//   - every spec.providerRefs entry is handed over (handedOver, completed
//     only), was never contacted (no status.providers entry or no protocol
//     state; completed only: an offer was accepted elsewhere, §8.10, while
//     an ended order would send its QUOTATION), or is over: its client
//     machine is Terminal (Cancelled, nothing unanswered, no timer armed,
//     so no RequeueAfter is due, §11.4) and its Offer, if any, is observed
//     (v.OfferObserved).
//
// A stale cached copy can only be older than the stored object; a newer
// version brings its own watch event, and the cache is updated before that
// event is handled, so answering "nothing to do" from the cache never
// loses work (level-triggered, DESIGN §5). Anything else is false.
func orderAtRest(qo *v1alpha1.QuotationOrder, v orderView) bool {
	if v.Pending != 0 || !qo.DeletionTimestamp.IsZero() || needsFinalizer(qo) || qo.Status.ObservedGeneration != qo.Generation {
		return false
	}
	st := &qo.Status
	completed := st.State == v1alpha1.StateCompleted && st.AgreementRef != nil && st.Failure == nil
	ended := st.State == v1alpha1.StateCancelled && st.AgreementRef == nil
	switch reason := readyReason(qo); {
	case completed && reason == ReasonAgreementReached:
		if !v.Agreement {
			return false
		}
	case completed && reason == ReasonAgreementWithdrawn:
		if v.Agreement {
			return false
		}
	case ended && (reason == ReasonServerFailed || reason == ReasonNegotiationEnded):
	default:
		return false
	}
	for _, ref := range qo.Spec.ProviderRefs {
		if completed && handedOver(qo, ref) {
			continue
		}
		e := findEntry(qo, ref)
		if e == nil || e.Protocol == nil {
			if completed {
				// Never contacted, and no longer asked (§8.10).
				continue
			}
			// An order without agreement would send its QUOTATION.
			return false
		}
		if !negotiationOver(e) {
			return false
		}
		if e.OfferRef != nil && (v.OfferObserved == nil || !v.OfferObserved(e.OfferRef.Name)) {
			return false
		}
	}
	return true
}

// negotiationOver reports whether the client machine kept in e is
// Terminal (fsm.ClientOrder.Terminal). Only the state, the unanswered
// message and the timers are read, so the nonces (placeholders in status,
// RFC 8921 §9.1.5) are not needed; a state that does not decode is not
// over.
func negotiationOver(e *v1alpha1.ProviderNegotiation) bool {
	if e.State != v1alpha1.StateCancelled {
		return false
	}
	var o fsm.ClientOrder
	if err := json.Unmarshal(e.Protocol.Raw, &o); err != nil {
		return false
	}
	return o.Terminal()
}

// needsFinalizer reports whether CancelFinalizer must be added before the
// order sends anything: it is approved (RFC 8921 §8.11.1) and not over.
func needsFinalizer(qo *v1alpha1.QuotationOrder) bool {
	if controllerutil.ContainsFinalizer(qo, CancelFinalizer) || qo.Spec.Approval == v1alpha1.ApprovalPending {
		return false
	}
	switch qo.Status.State {
	case v1alpha1.StateCancelled:
		return false
	case v1alpha1.StateCompleted:
		return qo.Status.AgreementRef == nil
	}
	return true
}

// addFinalizer adds CancelFinalizer; qo becomes the stored object.
func (r *QuotationOrderReconciler) addFinalizer(ctx context.Context, qo *v1alpha1.QuotationOrder) error {
	base := qo.DeepCopy()
	controllerutil.AddFinalizer(qo, CancelFinalizer)
	if err := r.Client.Patch(ctx, qo, ctrlclient.MergeFromWithOptions(base, ctrlclient.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("add finalizer to quotation order %s: %w", qo.Name, err)
	}
	return nil
}

// removeFinalizer removes CancelFinalizer: the deletion proceeds.
func (r *QuotationOrderReconciler) removeFinalizer(ctx context.Context, qo *v1alpha1.QuotationOrder) error {
	if !controllerutil.ContainsFinalizer(qo, CancelFinalizer) {
		return nil
	}
	base := qo.DeepCopy()
	controllerutil.RemoveFinalizer(qo, CancelFinalizer)
	if err := r.Client.Patch(ctx, qo, ctrlclient.MergeFromWithOptions(base, ctrlclient.MergeFromWithOptimisticLock{})); err != nil {
		return ctrlclient.IgnoreNotFound(fmt.Errorf("remove finalizer from quotation order %s: %w", qo.Name, err))
	}
	return nil
}

// closedForDeletion reports whether the negotiation with ref needs nothing
// before a deleted order goes: it never sent anything, or it is terminal
// (fsm.ClientOrder.Terminal: no request awaits an answer).
func closedForDeletion(qo *v1alpha1.QuotationOrder, ref v1alpha1.ProviderReference, data map[string][]byte) bool {
	p := findEntry(qo, ref)
	if p == nil || p.Protocol == nil {
		return true
	}
	switch p.State {
	case "", v1alpha1.StateCreated, v1alpha1.StateAwaitingProcessing:
		return true
	case v1alpha1.StateCancelled:
		o, err := v1alpha1.DecodeProtocol(p.Protocol, v1alpha1.NoncesFromSecretData(data, noncePrefix(ref)))
		return err != nil || o.Txn.Unanswered == nil
	}
	return false
}

// cancelsDone reports whether every negotiation stepped during a deletion
// is closed: Cancelled with nothing awaiting an answer (the ACK of the
// CANCEL arrived, or every retransmission went unanswered), or Completed
// and handed over to its Agreement.
func cancelsDone(negs []*negotiation) bool {
	for _, n := range negs {
		switch {
		case n.order.State == fsm.ClientCompleted:
		case n.order.State == fsm.ClientCancelled && n.order.Txn.Unanswered == nil:
		default:
			return false
		}
	}
	return true
}

// agreementGone reports whether the order's Agreement no longer exists (it
// was withdrawn and deleted, RFC 8921 §9.2.8). It reads past the cache, so
// that an Agreement created by the previous reconcile is found.
func (r *QuotationOrderReconciler) agreementGone(ctx context.Context, qo *v1alpha1.QuotationOrder) (bool, error) {
	var agr v1alpha1.Agreement
	err := r.reader().Get(ctx, types.NamespacedName{Namespace: qo.Namespace, Name: qo.Status.AgreementRef.Name}, &agr)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("get agreement %s: %w", qo.Status.AgreementRef.Name, err)
	}
	return false, nil
}

// advance steps the negotiation with one provider with what it needs now:
// the approval and the QUOTATION (not during a deletion), the messages the
// Engine recorded and the timers due. An invalid spec or lost nonces are
// terminal errors (reconcile.TerminalError); other errors are transient.
func (r *QuotationOrderReconciler) advance(qo *v1alpha1.QuotationOrder, ref v1alpha1.ProviderReference,
	res ResolvedProvider, data map[string][]byte, now time.Time, deleting bool,
) (*negotiation, error) {
	entry := providerEntry(qo, ref)
	prefix := noncePrefix(ref)
	o, err := v1alpha1.DecodeProtocol(entry.Protocol, v1alpha1.NoncesFromSecretData(data, prefix))
	if err != nil {
		return nil, reconcile.TerminalError(fmt.Errorf("provider %s: %w", ref.Name, err))
	}
	n := &negotiation{ref: ref, server: res.Server, machine: res.Machine, order: o}
	approved := qo.Spec.Approval != v1alpha1.ApprovalPending
	if !deleting && (entry.Protocol == nil || n.order.State == fsm.ClientCreated && approved) {
		// The request is built when it is sent, so that
		// EXPECTED_RESPONSE_TIME counts from the QUOTATION (§9.1.6).
		request, err := qo.Spec.Request(now)
		if err != nil {
			return nil, reconcile.TerminalError(fmt.Errorf("provider %s: %w", ref.Name, err))
		}
		if entry.Protocol == nil {
			n.order = fsm.NewClientOrder(qo.Status.CustomerOrderID, request, false)
		}
		n.order.Request = request
		limit := qo.Spec.ExtensionLimitAt(now)
		n.order.ExtensionLimit = &limit
		if approved {
			n.step(fsm.ApproveOrder{At: now})
		}
	}
	if !deleting && n.order.State == fsm.ClientAwaitingProcessing {
		tid, seq, err := newTransaction(r.rand())
		if err != nil {
			return nil, err
		}
		n.step(fsm.Quote{At: now, TransactionID: tid, Seq: seq})
	}
	pending := r.Engine.Pending(res.Server, qo.Status.CustomerOrderID)
	before, acted := n.order, len(n.actions)
	for _, in := range pending {
		n.step(fsm.MsgReceived{Msg: in.Msg, At: in.ReceivedAt})
	}
	n.consumed = len(pending)
	if !deleting && acted == 0 && coalescible(pending, n.actions, before, now) {
		n.order, n.actions, n.consumed = before, nil, 0
		n.deferUntil = pending[0].ReceivedAt.Add(processingCoalesce)
		return n, nil
	}
	for range maxTimerSteps {
		id, at, ok := n.order.NextDeadline()
		if !ok || at.After(now) {
			break
		}
		n.step(fsm.TimerFired{ID: id, At: now})
	}
	return n, nil
}

// coalescible reports whether the messages in pending, which produced
// acts from before, may wait unpersisted for the OFFER that usually follows
// (processingCoalesce): they are all PROCESSING, they made the client send
// nothing (no answer to a request for more time), they arrived less than
// processingCoalesce ago, and no timer of the persisted order is due.
func coalescible(pending []Inbound, acts []fsm.Action, before fsm.ClientOrder, now time.Time) bool {
	if len(pending) == 0 || !now.Before(pending[0].ReceivedAt.Add(processingCoalesce)) {
		return false
	}
	for _, in := range pending {
		if in.Msg.Method != wire.MethodProcessing {
			return false
		}
	}
	for _, a := range acts {
		if _, ok := a.(fsm.Send); ok {
			return false
		}
	}
	if _, at, ok := before.NextDeadline(); ok && !at.After(now) {
		return false
	}
	return before.State == fsm.ClientPQOSent || before.State == fsm.ClientServerProcessing
}

// record writes the negotiation's entry of status.providers (state,
// identifiers, failure, history, the client machine's state) and its
// nonces into data.
func (r *QuotationOrderReconciler) record(qo *v1alpha1.QuotationOrder, n *negotiation, data map[string][]byte, multi bool) error {
	entry := providerEntry(qo, n.ref)
	o := n.order
	label := ""
	if multi {
		label = string(n.ref.Kind) + "/" + n.ref.Name
	}
	for _, a := range n.actions {
		if t, ok := a.(fsm.Transition); ok {
			qo.Status.History = v1alpha1.AppendHistory(qo.Status.History, v1alpha1.TransitionFromProtocol(label, t))
		}
	}
	entry.State = v1alpha1.ClientState(o.State)
	if entry.TransactionID == "" && o.Txn.Kind == fsm.TxnQuotation {
		entry.TransactionID = o.Txn.ID
	}
	if entry.ProviderOrderID == "" {
		entry.ProviderOrderID = o.ProviderOrderID
	}
	entry.ExpectedOfferTime = metaTime(o.ExpectedOfferTime)
	if o.ExpectedOfferTime != nil {
		qo.Status.ExpectedOfferTime = metaTime(o.ExpectedOfferTime)
	}
	if o.Request.ExpectedResponseTime != nil {
		qo.Status.ExpectedResponseTime = metaTime(o.Request.ExpectedResponseTime)
	}
	prev := entry.Failure
	entry.Failure = nil
	switch {
	case n.record != nil:
		entry.Failure = n.record
	case o.Failure != nil:
		f := v1alpha1.FailureFromProtocol(*o.Failure)
		entry.Failure = &f
	case decisionRecord(prev):
		entry.Failure = prev
	}
	raw, nonces, err := v1alpha1.EncodeProtocol(o)
	if err != nil {
		return err
	}
	entry.Protocol = raw
	// Keys are only added or replaced, never removed: a nonce the status
	// may still refer to stays restorable.
	maps.Copy(data, nonces.SecretData(noncePrefix(n.ref)))
	return nil
}

// decideAll decides the open offers of the order (decideOrder, RFC 8921
// §8.10, §9.2.4, §9.2.5, §9.2.7), steps the client machines with the
// verdicts, creates the Offers of new offers (owned by the order; under
// Automatic acceptance with the controller's decision in spec.decision)
// and queues an Event per decision of an order with several providers. It
// returns when the Automatic decision is taken at the latest, if it waits.
func (r *QuotationOrderReconciler) decideAll(ctx context.Context, qo *v1alpha1.QuotationOrder, negs []*negotiation,
	now time.Time, events *[]orderEvent,
) (time.Time, error) {
	refs := qo.Spec.ProviderRefs
	cs := make([]candidate, len(refs))
	byRef := make([]*negotiation, len(refs))
	offers := make([]*v1alpha1.Offer, len(refs))
	for i, ref := range refs {
		cs[i].name = refName(ref)
		for _, n := range negs {
			if sameRef(n.ref, ref) {
				byRef[i] = n
			}
		}
		entry := findEntry(qo, ref)
		n := byRef[i]
		if n == nil {
			if entry != nil {
				cs[i].state = fsm.ClientState(entry.State)
			}
			continue
		}
		cs[i].state = n.order.State
		o := n.order
		if o.Offer == nil || o.State != fsm.ClientOfferReceived && o.State != fsm.ClientOfferProcessing {
			continue
		}
		cs[i].offer = o.Offer
		cs[i].satisfies = len(cpd.Satisfies(o.Offer.CPD, o.Request.CPD)) == 0
		cs[i].score = cpd.Score(o.Offer.CPD, o.Request.CPD)
		if entry == nil || entry.OfferRef == nil {
			continue
		}
		var offer v1alpha1.Offer
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: qo.Namespace, Name: entry.OfferRef.Name}, &offer); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return time.Time{}, fmt.Errorf("get offer %s: %w", entry.OfferRef.Name, err)
		}
		offers[i] = &offer
		cs[i].decision, cs[i].reasons = offer.Spec.Decision, offer.Spec.DeclineReasons
	}
	vs, wake := decideOrder(qo.Spec.Acceptance, cs, now)
	auto := qo.Spec.Acceptance == v1alpha1.AcceptanceAutomatic
	multi := len(refs) > 1
	for i, v := range vs {
		n := byRef[i]
		if n == nil {
			continue
		}
		open := cs[i].offer != nil
		pre := n.order
		var decision v1alpha1.OfferDecision
		switch v.kind {
		case verdictNone:
		case verdictAccept:
			decision = v1alpha1.DecisionAccept
			n.step(fsm.AcceptOffer{At: now})
			if multi {
				*events = append(*events, orderEvent{corev1.EventTypeNormal, ReasonOfferAccepted,
					"Accepted the offer of " + cs[i].name + " (RFC 8921 §9.2.4)"})
			}
		case verdictDecline:
			decision = v1alpha1.DecisionDecline
			wr, err := v1alpha1.DeclineReasonsToProtocol(v.reasons)
			if err != nil {
				return time.Time{}, reconcile.TerminalError(err)
			}
			n.step(fsm.DeclineOffer{At: now, Reasons: wr})
			if multi {
				msg := "Declined the offer of " + cs[i].name + " (RFC 8921 §9.2.5)"
				if v.why != "" {
					msg += ": " + v.why
				}
				*events = append(*events, orderEvent{corev1.EventTypeNormal, ReasonOfferDeclined, msg})
			}
		case verdictCancel:
			n.step(fsm.CancelOrder{At: now})
			*events = append(*events, orderEvent{corev1.EventTypeNormal, ReasonNegotiationCancelled,
				"Cancelled the negotiation with " + cs[i].name + ": " + v.why})
		}
		if v.record != "" {
			t := metav1.NewTime(now.UTC().Truncate(time.Second))
			n.record = &v1alpha1.Failure{Reason: v.record, Message: v.why, Sender: v1alpha1.FailureSenderClient, Time: &t}
		}
		if v.overridden {
			name := ""
			if offers[i] != nil {
				name = offers[i].Name
			}
			*events = append(*events, orderEvent{corev1.EventTypeWarning, ReasonAcceptOverridden,
				fmt.Sprintf("Offer %s of %s has spec.decision Accept, but only one offer is accepted per order: %s", name, cs[i].name, v.why)})
		}
		if !open {
			continue
		}
		entry := providerEntry(qo, n.ref)
		switch {
		case entry.OfferRef == nil:
			// The Offer carries the decision when it is the controller's
			// (Automatic acceptance, or a late offer declined because
			// another was accepted).
			var reasons []v1alpha1.DeclineReason
			if decision == v1alpha1.DecisionDecline {
				reasons = v.reasons
			}
			name, err := r.ensureOffer(ctx, qo, n.ref, pre, decision, reasons)
			if err != nil {
				return time.Time{}, err
			}
			entry.OfferRef = &v1alpha1.LocalObjectReference{Name: name}
			addOfferRef(qo, name)
		case auto && offers[i] != nil && offers[i].Spec.Decision == "" && decision != "":
			if err := r.setOfferDecision(ctx, offers[i], decision, v.reasons); err != nil {
				return time.Time{}, err
			}
		}
	}
	return wake, nil
}

// setOfferDecision records the controller's Automatic decision in the
// Offer's spec.decision (final once set, RFC 8921 §9.2.4, §9.2.5).
func (r *QuotationOrderReconciler) setOfferDecision(ctx context.Context, offer *v1alpha1.Offer, d v1alpha1.OfferDecision, reasons []v1alpha1.DeclineReason) error {
	base := offer.DeepCopy()
	offer.Spec.Decision = d
	offer.Spec.DeclineReasons = nil
	if d == v1alpha1.DecisionDecline {
		offer.Spec.DeclineReasons = reasons
	}
	if err := r.Client.Patch(ctx, offer, ctrlclient.MergeFromWithOptions(base, ctrlclient.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("set decision of offer %s: %w", offer.Name, err)
	}
	return nil
}

// ensureOffer creates the Offer of a negotiation, owned by the
// QuotationOrder, with the offered CPD (RFC 8921 §9.2.3); its name is
// derived from the offer's transaction, so a retried reconcile finds it.
func (r *QuotationOrderReconciler) ensureOffer(ctx context.Context, qo *v1alpha1.QuotationOrder, ref v1alpha1.ProviderReference,
	o fsm.ClientOrder, decision v1alpha1.OfferDecision, reasons []v1alpha1.DeclineReason,
) (string, error) {
	name := childName(qo.Name, string(ref.Kind)+"/"+ref.Name+"/"+o.Txn.ID)
	offer := &v1alpha1.Offer{
		ObjectMeta: metav1.ObjectMeta{Namespace: qo.Namespace, Name: name},
		Spec: v1alpha1.OfferSpec{
			QuotationOrderRef: v1alpha1.LocalObjectReference{Name: qo.Name},
			ProviderRef:       ref,
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
	if err := controllerutil.SetControllerReference(qo, offer, r.Client.Scheme()); err != nil {
		return "", fmt.Errorf("offer %s: %w", name, err)
	}
	if err := r.Client.Create(ctx, offer); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("create offer %s: %w", name, err)
	}
	return name, nil
}

// syncOffer writes the status of the negotiation's Offer from the state of
// the client machine. A decision the controller took without (or against)
// spec.decision (decisionRecord in the status entry) counts as Decline and
// its explanation goes into the conditions' messages. The transient states
// Accepting and Declining are not written while the decision awaits its
// first ACK (one round trip, RFC 8921 §9.2.4, §9.2.5): the Offer goes from
// Open (or no status) to Accepted or Declined in one write; they are
// written once the decision is retransmitted (§11.4).
func (r *QuotationOrderReconciler) syncOffer(ctx context.Context, qo *v1alpha1.QuotationOrder, n *negotiation) error {
	entry := providerEntry(qo, n.ref)
	if entry.OfferRef == nil || n.order.Offer == nil {
		return nil
	}
	var offer v1alpha1.Offer
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: qo.Namespace, Name: entry.OfferRef.Name}, &offer); err != nil {
		return ctrlclient.IgnoreNotFound(err)
	}
	base := offer.DeepCopy()
	decision, why := offer.Spec.Decision, ""
	if f := entry.Failure; decisionRecord(f) {
		decision, why = v1alpha1.DecisionDecline, f.Message
	}
	st := offerStatus(decision, n.order)
	if (st == v1alpha1.OfferAccepting || st == v1alpha1.OfferDeclining) && n.order.Txn.Retries == 0 {
		return nil
	}
	offer.Status.State = st
	offer.Status.ObservedGeneration = offer.Generation
	ms := cpd.Satisfies(n.order.Offer.CPD, n.order.Request.CPD)
	offer.Status.SatisfiesRequest = metav1.ConditionTrue
	offer.Status.Mismatches = nil
	if len(ms) > 0 {
		offer.Status.SatisfiesRequest = metav1.ConditionFalse
		for i, m := range ms {
			if i == 16 {
				break
			}
			offer.Status.Mismatches = append(offer.Status.Mismatches, m.String())
		}
	}
	if decision != "" && offer.Status.DecidedAt == nil {
		t := metav1.NewTime(r.now().UTC().Truncate(time.Second))
		offer.Status.DecidedAt = &t
	}
	offer.Status.Conditions = offerWhy(offerConditions(offer.Status.Conditions, st, offer.Generation), why)
	if unchanged(base, &offer) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, &offer, ctrlclient.MergeFrom(base)); err != nil {
		return fmt.Errorf("patch offer %s status: %w", offer.Name, err)
	}
	return nil
}

// unchanged reports whether obj's JSON merge patch against base is empty:
// nothing to write. It compares JSON, not Go values, so that a status.protocol
// whose members the API server re-ordered does not count as a change.
func unchanged(base, obj ctrlclient.Object) bool {
	data, err := ctrlclient.MergeFrom(base).Data(obj)
	return err == nil && string(data) == "{}"
}

// ensureAgreement creates the Agreement of a completed negotiation (RFC
// 8921 §9.2.4, §9.2.6) with the accepted CPD, owned by the QuotationOrder
// and carrying WithdrawFinalizer (deleting it runs the WITHDRAW, §9.2.8),
// and gives it a UUID contract ID (RFC 4122, DESIGN §4), Ready=True, and
// the client machine's state with its nonces in the Agreement's Secret.
func (r *QuotationOrderReconciler) ensureAgreement(ctx context.Context, qo *v1alpha1.QuotationOrder, n *negotiation) (string, error) {
	name := qo.Name
	agr := &v1alpha1.Agreement{
		ObjectMeta: metav1.ObjectMeta{Namespace: qo.Namespace, Name: name, Finalizers: []string{WithdrawFinalizer}},
		Spec: v1alpha1.AgreementSpec{
			QuotationOrderRef: v1alpha1.LocalObjectReference{Name: qo.Name},
			ProviderRef:       n.ref,
			CPD:               v1alpha1.CPDFromProtocol(n.order.Agreement.CPD),
		},
	}
	if err := controllerutil.SetControllerReference(qo, agr, r.Client.Scheme()); err != nil {
		return "", fmt.Errorf("agreement %s: %w", name, err)
	}
	if err := r.Client.Create(ctx, agr); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("create agreement %s: %w", name, err)
		}
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: qo.Namespace, Name: name}, agr); err != nil {
			return "", fmt.Errorf("get agreement %s: %w", name, err)
		}
	}
	if agr.Status.ContractID != "" {
		return name, nil
	}
	raw, nonces, err := v1alpha1.EncodeProtocol(n.order)
	if err != nil {
		return "", err
	}
	secName := name + AgreementNonceSecretSuffix
	old, err := r.nonceSecret(ctx, agr.Namespace, secName)
	if err != nil {
		return "", err
	}
	if err := r.saveNonces(ctx, agr, secName, old, nonces.SecretData("")); err != nil {
		return "", err
	}
	base := agr.DeepCopy()
	a := n.order.Agreement
	entry := providerEntry(qo, n.ref)
	since := metaTime(&a.Since)
	agr.Status = v1alpha1.AgreementStatus{
		ObservedGeneration: agr.Generation,
		State:              v1alpha1.AgreementEstablished,
		ContractID:         uuid.NewString(),
		CustomerOrderID:    n.order.CustomerOrderID,
		ProviderOrderID:    n.order.ProviderOrderID,
		TransactionID:      entry.TransactionID,
		AgreedAt:           since,
		AgreedGeneration:   agr.Generation,
		Activation:         activationOf(a),
		Protocol:           raw,
	}
	if a.ActivationType != "" {
		if opts := v1alpha1.NegotiationOptionsFromProtocol(&wire.NegotiationOptions{ActivationType: a.ActivationType}); opts != nil {
			agr.Status.ActivationType = opts.ActivationType
		}
	}
	setReady(&agr.Status.Conditions, agr.Generation, ReasonAgreementReached, "The server acknowledged the ACCEPT (RFC 8921 §9.2.4)")
	if err := r.Client.Status().Patch(ctx, agr, ctrlclient.MergeFrom(base)); err != nil {
		return "", fmt.Errorf("patch agreement %s status: %w", name, err)
	}
	if r.Recorder != nil {
		r.Recorder.Eventf(agr, qo, corev1.EventTypeNormal, ReasonAgreementReached, "Negotiate",
			"Agreement reached with %s, contract ID %s", n.ref.Name, agr.Status.ContractID)
	}
	return name, nil
}

// secretData returns s's data, or nil for no Secret.
func secretData(s *corev1.Secret) map[string][]byte {
	if s == nil {
		return nil
	}
	return s.Data
}

// nonceSecret returns the nonce Secret, or nil when there is none yet.
func (r *QuotationOrderReconciler) nonceSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := r.reader().Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get nonce secret %s/%s: %w", namespace, name, err)
	}
	return &s, nil
}

// saveNonces makes the Secret name, owned by owner, hold exactly data. It
// runs before the status that refers to the nonces is written (DESIGN §4).
// The caller passes old's data plus the new nonces, so nothing is removed.
func (r *QuotationOrderReconciler) saveNonces(ctx context.Context, owner ctrlclient.Object, name string, old *corev1.Secret, data map[string][]byte) error {
	if old == nil {
		if len(data) == 0 {
			return nil
		}
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: owner.GetNamespace(), Name: name},
			Type:       corev1.SecretTypeOpaque,
			Data:       data,
		}
		if err := controllerutil.SetControllerReference(owner, s, r.Client.Scheme()); err != nil {
			return fmt.Errorf("nonce secret %s: %w", name, err)
		}
		if err := r.Client.Create(ctx, s); err != nil {
			return fmt.Errorf("create nonce secret %s: %w", name, err)
		}
		return nil
	}
	if equality.Semantic.DeepEqual(old.Data, data) || len(old.Data) == 0 && len(data) == 0 {
		return nil
	}
	s := old.DeepCopy()
	s.Data = data
	if err := r.Client.Update(ctx, s); err != nil {
		return fmt.Errorf("update nonce secret %s: %w", name, err)
	}
	return nil
}

// patchStatus writes qo's status when it changed, with an optimistic lock
// so that a stale reconcile cannot overwrite what a newer one persisted.
func (r *QuotationOrderReconciler) patchStatus(ctx context.Context, base, qo *v1alpha1.QuotationOrder) error {
	if equality.Semantic.DeepEqual(base.Status, qo.Status) || unchanged(base, qo) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, qo, ctrlclient.MergeFromWithOptions(base, ctrlclient.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("patch quotation order %s status: %w", qo.Name, err)
	}
	return nil
}

// event emits an Event whose reason is the Ready condition's reason.
func (r *QuotationOrderReconciler) event(qo *v1alpha1.QuotationOrder, typ string, p orderPhase) {
	if r.Recorder != nil {
		r.Recorder.Eventf(qo, nil, typ, p.Reason, "Negotiate", "%s", p.Message)
	}
}

// readyReason returns the reason of the Ready condition, or "".
func readyReason(qo *v1alpha1.QuotationOrder) string {
	for _, c := range qo.Status.Conditions {
		if c.Type == v1alpha1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}

// handedOver reports whether the negotiation with ref completed and its
// Agreement exists: the AgreementReconciler continues it.
func handedOver(qo *v1alpha1.QuotationOrder, ref v1alpha1.ProviderReference) bool {
	if qo.Status.AgreementRef == nil {
		return false
	}
	e := findEntry(qo, ref)
	return e != nil && e.State == v1alpha1.StateCompleted
}

// findEntry returns the status.providers entry of ref, or nil.
func findEntry(qo *v1alpha1.QuotationOrder, ref v1alpha1.ProviderReference) *v1alpha1.ProviderNegotiation {
	for i := range qo.Status.Providers {
		if sameRef(qo.Status.Providers[i].ProviderReference, ref) {
			return &qo.Status.Providers[i]
		}
	}
	return nil
}

// sameRef reports whether a and b name the same provider (an empty kind
// is Provider).
func sameRef(a, b v1alpha1.ProviderReference) bool {
	if a.Kind == "" {
		a.Kind = v1alpha1.ProviderKindProvider
	}
	if b.Kind == "" {
		b.Kind = v1alpha1.ProviderKindProvider
	}
	return a == b
}

// refName is "Kind/name" of ref, for messages.
func refName(ref v1alpha1.ProviderReference) string {
	if ref.Kind == "" {
		ref.Kind = v1alpha1.ProviderKindProvider
	}
	return string(ref.Kind) + "/" + ref.Name
}

// providerEntry returns the status.providers entry of ref, adding it.
func providerEntry(qo *v1alpha1.QuotationOrder, ref v1alpha1.ProviderReference) *v1alpha1.ProviderNegotiation {
	if e := findEntry(qo, ref); e != nil {
		return e
	}
	if ref.Kind == "" {
		ref.Kind = v1alpha1.ProviderKindProvider
	}
	qo.Status.Providers = append(qo.Status.Providers, v1alpha1.ProviderNegotiation{ProviderReference: ref})
	return &qo.Status.Providers[len(qo.Status.Providers)-1]
}

func addOfferRef(qo *v1alpha1.QuotationOrder, name string) {
	for _, r := range qo.Status.OfferRefs {
		if r.Name == name {
			return
		}
	}
	qo.Status.OfferRefs = append(qo.Status.OfferRefs, v1alpha1.LocalObjectReference{Name: name})
}

// noncePrefix is the Secret data key prefix of one negotiation's nonces.
func noncePrefix(ref v1alpha1.ProviderReference) string {
	kind := ref.Kind
	if kind == "" {
		kind = v1alpha1.ProviderKindProvider
	}
	return string(kind) + "." + ref.Name + "."
}

// childName is parent plus a short hash of key, a valid object name.
func childName(parent, key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])[:10]
	if len(parent) > 242 {
		parent = parent[:242]
	}
	return parent + "-" + h
}

// newTransaction draws a TRANSACTION_ID (128 bits, 32 hex digits) and a
// first sequence number below 2^31 (RFC 8921 §8.4, §9.1.3).
func newTransaction(r io.Reader) (string, uint32, error) {
	var b [20]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", 0, fmt.Errorf("draw transaction: %w", err)
	}
	seq := (uint32(b[16])<<24 | uint32(b[17])<<16 | uint32(b[18])<<8 | uint32(b[19])) & 0x7fffffff
	return hex.EncodeToString(b[:16]), seq, nil
}

// metaTime converts a protocol time to whole seconds (metav1.Time's JSON
// precision).
func metaTime(t *time.Time) *metav1.Time {
	if t == nil {
		return nil
	}
	m := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &m
}
