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
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
)

// Defaults of GarbageCollector.
const (
	// DefaultGCTTL is how long a terminal object is kept.
	DefaultGCTTL = 24 * time.Hour
	// DefaultGCKeep is how many terminal objects of each kind are kept per
	// namespace, newest first.
	DefaultGCKeep = 100
	// DefaultGCInterval is the wait between two collections.
	DefaultGCInterval = 10 * time.Minute
)

// GarbageCollector deletes terminal QuotationOrders and Offers (DESIGN §5:
// "Terminal objects are kept for a bounded time/count, not forever"). It is
// a manager Runnable that runs Collect every Interval, on the leader only.
//
// Terminal QuotationOrders: state Cancelled (declined, failed, expired,
// cancelled; RFC 8921 §8.11.1, Figure 8), and state Completed whose
// Agreement (status.agreementRef) no longer exists. A QuotationOrder is
// never deleted while an Agreement it names or owns exists: the Agreement
// is owned by the order, so deleting the order would delete it, and its
// finalizer would WITHDRAW it from the server (§9.2.8). This is checked
// against the API server, not the cache, right before the deletions.
//
// Terminal Offers: state Declined, Expired, Cancelled or Accepted, whose
// negotiation is over — the QuotationOrder's state is Cancelled, or
// Completed with its Agreement recorded, or the order is gone; for the
// Offer of an UPDATE (spec.agreementRef), the Agreement is not Updating.
// Kept: an Accepted Offer while the Agreement it created exists, and the
// Offer an existing Agreement names in status.updateOfferRef. An Offer
// that is Open, Accepting or Declining is never deleted.
//
// Per namespace and kind, the terminal objects are ranked by the time they
// became terminal (the latest of creation, the last status.history entry,
// the conditions' lastTransitionTime and, for an Offer, status.decidedAt),
// newest first; an object is deleted when it has been terminal for longer
// than TTL, or when it is not among the Keep newest. Each deletion carries
// Preconditions{UID, ResourceVersion}: an object changed since it was read
// is left for the next collection.
type GarbageCollector struct {
	// Client lists the objects (from the manager's cache) and deletes them.
	Client ctrlclient.Client
	// APIReader lists the Agreements past the cache before a QuotationOrder
	// is deleted (default Client).
	APIReader ctrlclient.Reader
	// TTL: a terminal object older than TTL is deleted; 0 disables the
	// time bound.
	TTL time.Duration
	// Keep: at most Keep terminal objects of each kind are kept per
	// namespace; a negative value disables the count bound.
	Keep int
	// Interval is the wait between two collections (default
	// DefaultGCInterval).
	Interval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives a line per deletion; the zero value discards them.
	Logger logr.Logger
}

// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=quotationorders;offers,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=agreements,verbs=get;list;watch

// GCResult lists what one collection deleted.
type GCResult struct {
	// QuotationOrders are the deleted QuotationOrders.
	QuotationOrders []types.NamespacedName
	// Offers are the deleted Offers (not counting those deleted with their
	// QuotationOrder by the Kubernetes garbage collector).
	Offers []types.NamespacedName
}

// Enabled reports whether g bounds anything (TTL > 0 or Keep >= 0).
func (g *GarbageCollector) Enabled() bool { return g.TTL > 0 || g.Keep >= 0 }

// NeedLeaderElection implements manager.LeaderElectionRunnable: only the
// leader deletes.
func (g *GarbageCollector) NeedLeaderElection() bool { return true }

// Start implements manager.Runnable: it collects once at start, then every
// Interval until ctx ends. A failed collection is logged and retried at the
// next tick.
func (g *GarbageCollector) Start(ctx context.Context) error {
	if !g.Enabled() {
		return nil
	}
	interval := g.Interval
	if interval <= 0 {
		interval = DefaultGCInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if _, err := g.Collect(ctx); err != nil && ctx.Err() == nil {
			g.log().Error(err, "Garbage collection failed")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (g *GarbageCollector) log() logr.Logger {
	if g.Logger.GetSink() == nil {
		return logr.Discard()
	}
	return g.Logger
}

func (g *GarbageCollector) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// gcCandidate is a terminal object that may be deleted.
type gcCandidate struct {
	obj   ctrlclient.Object
	since time.Time
}

// gcNamespace are one namespace's objects.
type gcNamespace struct {
	orders     []*v1alpha1.QuotationOrder
	offers     []*v1alpha1.Offer
	agreements map[string]*v1alpha1.Agreement
}

// Collect runs one collection.
func (g *GarbageCollector) Collect(ctx context.Context) (GCResult, error) {
	var res GCResult
	if !g.Enabled() {
		return res, nil
	}
	var (
		qos  v1alpha1.QuotationOrderList
		ofs  v1alpha1.OfferList
		agrs v1alpha1.AgreementList
	)
	for _, l := range []ctrlclient.ObjectList{&qos, &ofs, &agrs} {
		if err := g.Client.List(ctx, l); err != nil {
			return res, fmt.Errorf("garbage collection: list %T: %w", l, err)
		}
	}
	byNS := map[string]*gcNamespace{}
	ns := func(n string) *gcNamespace {
		o := byNS[n]
		if o == nil {
			o = &gcNamespace{agreements: map[string]*v1alpha1.Agreement{}}
			byNS[n] = o
		}
		return o
	}
	for i := range qos.Items {
		o := &qos.Items[i]
		ns(o.Namespace).orders = append(ns(o.Namespace).orders, o)
	}
	for i := range ofs.Items {
		o := &ofs.Items[i]
		ns(o.Namespace).offers = append(ns(o.Namespace).offers, o)
	}
	for i := range agrs.Items {
		o := &agrs.Items[i]
		ns(o.Namespace).agreements[o.Name] = o
	}
	names := make([]string, 0, len(byNS))
	for n := range byNS {
		names = append(names, n)
	}
	slices.Sort(names)
	now := g.now()
	var errs []error
	for _, n := range names {
		deleted, err := g.collectOrders(ctx, n, byNS[n], now)
		res.QuotationOrders = append(res.QuotationOrders, deleted...)
		if err != nil {
			errs = append(errs, err)
		}
		gone := map[string]bool{}
		for _, d := range deleted {
			gone[d.Name] = true
		}
		deleted, err = g.collectOffers(ctx, byNS[n], gone, now)
		res.Offers = append(res.Offers, deleted...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

// collectOrders deletes the namespace's terminal QuotationOrders beyond
// the bounds.
func (g *GarbageCollector) collectOrders(ctx context.Context, ns string, objs *gcNamespace, now time.Time) ([]types.NamespacedName, error) {
	var cands []gcCandidate
	for _, qo := range objs.orders {
		if orderTerminal(qo, objs.agreements) {
			cands = append(cands, gcCandidate{qo, terminalSince(qo.CreationTimestamp, qo.Status.History, qo.Status.Conditions, nil)})
		}
	}
	doomed := g.beyondBounds(cands, now)
	if len(doomed) == 0 {
		return nil, nil
	}
	// The cache may lag: an Agreement created a moment ago must still
	// protect its order. Read them from the API server.
	reader := g.APIReader
	if reader == nil {
		reader = g.Client
	}
	var live v1alpha1.AgreementList
	if err := reader.List(ctx, &live, ctrlclient.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("garbage collection: list agreements in %s: %w", ns, err)
	}
	agreements := make(map[string]*v1alpha1.Agreement, len(live.Items))
	for i := range live.Items {
		agreements[live.Items[i].Name] = &live.Items[i]
	}
	var (
		deleted []types.NamespacedName
		errs    []error
	)
	for _, c := range doomed {
		qo := c.obj.(*v1alpha1.QuotationOrder)
		if !orderTerminal(qo, agreements) {
			continue
		}
		ok, err := g.delete(ctx, qo, "QuotationOrder", now.Sub(c.since))
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			deleted = append(deleted, ctrlclient.ObjectKeyFromObject(qo))
		}
	}
	return deleted, errors.Join(errs...)
}

// collectOffers deletes the namespace's terminal Offers beyond the bounds;
// the Offers of the orders in gone go with their order.
func (g *GarbageCollector) collectOffers(ctx context.Context, objs *gcNamespace, gone map[string]bool, now time.Time) ([]types.NamespacedName, error) {
	orders := make(map[string]*v1alpha1.QuotationOrder, len(objs.orders))
	for _, qo := range objs.orders {
		orders[qo.Name] = qo
	}
	var cands []gcCandidate
	for _, of := range objs.offers {
		if gone[of.Spec.QuotationOrderRef.Name] || !offerCollectable(of, orders, objs.agreements) {
			continue
		}
		cands = append(cands, gcCandidate{of, terminalSince(of.CreationTimestamp, nil, of.Status.Conditions, of.Status.DecidedAt)})
	}
	var (
		deleted []types.NamespacedName
		errs    []error
	)
	for _, c := range g.beyondBounds(cands, now) {
		ok, err := g.delete(ctx, c.obj, "Offer", now.Sub(c.since))
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			deleted = append(deleted, ctrlclient.ObjectKeyFromObject(c.obj))
		}
	}
	return deleted, errors.Join(errs...)
}

// beyondBounds returns the candidates beyond the bounds: terminal for longer
// than TTL, or not among the Keep newest.
func (g *GarbageCollector) beyondBounds(cands []gcCandidate, now time.Time) []gcCandidate {
	slices.SortStableFunc(cands, func(a, b gcCandidate) int {
		if c := b.since.Compare(a.since); c != 0 {
			return c
		}
		return strings.Compare(a.obj.GetName(), b.obj.GetName())
	})
	var out []gcCandidate
	for i, c := range cands {
		expired := g.TTL > 0 && now.Sub(c.since) > g.TTL
		excess := g.Keep >= 0 && i >= g.Keep
		if expired || excess {
			out = append(out, c)
		}
	}
	return out
}

// delete deletes obj if it did not change since it was read. A conflict
// or a missing object is not an error: ok is then false.
func (g *GarbageCollector) delete(ctx context.Context, obj ctrlclient.Object, kind string, age time.Duration) (ok bool, err error) {
	uid, rv := obj.GetUID(), obj.GetResourceVersion()
	pre := ctrlclient.Preconditions{UID: &uid, ResourceVersion: &rv}
	if err := g.Client.Delete(ctx, obj, pre, ctrlclient.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return false, nil
		}
		return false, fmt.Errorf("garbage collection: delete %s %s/%s: %w", kind, obj.GetNamespace(), obj.GetName(), err)
	}
	gcDeleted.WithLabelValues(kind).Inc()
	g.log().Info("Deleted terminal object", "kind", kind, "namespace", obj.GetNamespace(), "name", obj.GetName(),
		"terminalFor", age.Round(time.Second).String())
	return true, nil
}

// orderTerminal reports whether qo may be garbage-collected given the
// namespace's Agreements: not being deleted, state Cancelled or Completed
// with its Agreement gone, and no Agreement it names or owns exists.
func orderTerminal(qo *v1alpha1.QuotationOrder, agreements map[string]*v1alpha1.Agreement) bool {
	if !qo.DeletionTimestamp.IsZero() {
		return false
	}
	switch qo.Status.State {
	case v1alpha1.StateCancelled:
	case v1alpha1.StateCompleted:
		if qo.Status.AgreementRef == nil {
			return false // the Agreement is being created
		}
	default:
		return false
	}
	if ref := qo.Status.AgreementRef; ref != nil && agreements[ref.Name] != nil {
		return false
	}
	for _, agr := range agreements {
		for _, o := range agr.OwnerReferences {
			if o.UID == qo.UID {
				return false
			}
		}
	}
	return true
}

// offerCollectable reports whether the Offer is terminal and its
// negotiation over, given the namespace's orders and Agreements.
func offerCollectable(of *v1alpha1.Offer, orders map[string]*v1alpha1.QuotationOrder, agreements map[string]*v1alpha1.Agreement) bool {
	if !of.DeletionTimestamp.IsZero() {
		return false
	}
	switch of.Status.State {
	case v1alpha1.OfferDeclined, v1alpha1.OfferExpired, v1alpha1.OfferCancelled, v1alpha1.OfferAccepted:
	default:
		return false // Open, Accepting, Declining: the negotiation is open
	}
	if ref := of.Spec.AgreementRef; ref != nil {
		// The Offer of an UPDATE (RFC 8921 §9.2.9).
		if agr := agreements[ref.Name]; agr != nil {
			if agr.Status.State == v1alpha1.AgreementUpdating {
				return false
			}
			if u := agr.Status.UpdateOfferRef; u != nil && u.Name == of.Name {
				return false
			}
		}
		return true
	}
	qo := orders[of.Spec.QuotationOrderRef.Name]
	if qo == nil {
		return true // the order is gone; so is the negotiation
	}
	switch qo.Status.State {
	case v1alpha1.StateCancelled:
		return true
	case v1alpha1.StateCompleted:
		if qo.Status.AgreementRef == nil {
			return false // the Agreement is being created
		}
		if of.Status.State == v1alpha1.OfferAccepted && agreements[qo.Status.AgreementRef.Name] != nil {
			return false // the record of the Agreement in force
		}
		return true
	default:
		return false
	}
}

// terminalSince estimates when an object became terminal: the latest of
// its creation, its last history entry, its conditions' last transitions
// and extra.
func terminalSince(created metav1.Time, history []v1alpha1.Transition, conds []metav1.Condition, extra *metav1.Time) time.Time {
	t := created.Time
	if n := len(history); n > 0 && history[n-1].Time.After(t) {
		t = history[n-1].Time.Time
	}
	for _, c := range conds {
		if c.LastTransitionTime.After(t) {
			t = c.LastTransitionTime.Time
		}
	}
	if extra != nil && extra.After(t) {
		t = extra.Time
	}
	return t
}
