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

package controllers_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// gcFixture creates objects with a given status in one namespace.
type gcFixture struct {
	t    *testing.T
	c    client.Client
	ns   string
	base time.Time
}

func newGCFixture(t *testing.T, prefix string) *gcFixture {
	t.Helper()
	c := apiServer(t)
	return &gcFixture{t: t, c: c, ns: namespace(t, c, prefix), base: time.Now().UTC().Truncate(time.Second)}
}

// at is base + d, as the API stores it (seconds).
func (f *gcFixture) at(d time.Duration) metav1.Time { return metav1.NewTime(f.base.Add(d)) }

// order creates a QuotationOrder in state st whose last transition is at
// base+since, naming agreement when not empty.
func (f *gcFixture) order(name string, st v1alpha1.ClientState, since time.Duration, agreement string) *v1alpha1.QuotationOrder {
	f.t.Helper()
	ctx := ctxFor(f.t)
	qo := order(f.ns, name, "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := f.c.Create(ctx, qo); err != nil {
		f.t.Fatalf("create order %s: %v", name, err)
	}
	qo.Status.State = st
	qo.Status.History = []v1alpha1.Transition{{Time: f.at(since), To: string(st)}}
	if agreement != "" {
		qo.Status.AgreementRef = &v1alpha1.LocalObjectReference{Name: agreement}
	}
	if err := f.c.Status().Update(ctx, qo); err != nil {
		f.t.Fatalf("order %s status: %v", name, err)
	}
	return qo
}

// agreement creates an Agreement owned by qo (as the reconciler does),
// naming updateOffer in status.updateOfferRef when not empty.
func (f *gcFixture) agreement(name string, qo *v1alpha1.QuotationOrder, updateOffer string) {
	f.t.Helper()
	ctx := ctxFor(f.t)
	agr := &v1alpha1.Agreement{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "QuotationOrder", Name: qo.Name, UID: qo.UID, Controller: ptr.To(true),
		}}},
		Spec: v1alpha1.AgreementSpec{QuotationOrderRef: v1alpha1.LocalObjectReference{Name: qo.Name},
			ProviderRef: qo.Spec.ProviderRefs[0], CPD: qo.Spec.CPD},
	}
	if err := f.c.Create(ctx, agr); err != nil {
		f.t.Fatalf("create agreement %s: %v", name, err)
	}
	agr.Status.State = v1alpha1.AgreementEstablished
	if updateOffer != "" {
		agr.Status.UpdateOfferRef = &v1alpha1.LocalObjectReference{Name: updateOffer}
	}
	if err := f.c.Status().Update(ctx, agr); err != nil {
		f.t.Fatalf("agreement %s status: %v", name, err)
	}
}

// offer creates an Offer of orderName (of agreement's UPDATE when not empty)
// in state st, decided at base+since.
func (f *gcFixture) offer(name, orderName string, st v1alpha1.OfferState, since time.Duration, agreement string) {
	f.t.Helper()
	ctx := ctxFor(f.t)
	of := &v1alpha1.Offer{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name},
		Spec: v1alpha1.OfferSpec{
			QuotationOrderRef: v1alpha1.LocalObjectReference{Name: orderName},
			ProviderRef:       v1alpha1.ProviderReference{Kind: v1alpha1.ProviderKindProvider, Name: "wan"},
			CustomerOrderID:   "co-" + name, ProviderOrderID: "po-" + name,
			TransactionID: strings.Repeat("ab", 16),
			CPD:           order(f.ns, "x", "wan", "gold", v1alpha1.AcceptanceAutomatic).Spec.CPD,
			ValidUntil:    f.at(time.Hour),
		},
	}
	if agreement != "" {
		of.Spec.AgreementRef = &v1alpha1.LocalObjectReference{Name: agreement}
	}
	if err := f.c.Create(ctx, of); err != nil {
		f.t.Fatalf("create offer %s: %v", name, err)
	}
	decided := f.at(since)
	of.Status.State, of.Status.DecidedAt = st, &decided
	if err := f.c.Status().Update(ctx, of); err != nil {
		f.t.Fatalf("offer %s status: %v", name, err)
	}
}

// exists reports whether the object is still there (or being deleted).
func (f *gcFixture) exists(obj client.Object, name string) bool {
	f.t.Helper()
	err := f.c.Get(ctxFor(f.t), types.NamespacedName{Namespace: f.ns, Name: name}, obj)
	if err != nil && !apierrors.IsNotFound(err) {
		f.t.Fatal(err)
	}
	return err == nil && obj.GetDeletionTimestamp().IsZero()
}

// names returns the names of keys in namespace ns, sorted.
func names(keys []types.NamespacedName, ns string) []string {
	var out []string
	for _, k := range keys {
		if k.Namespace == ns {
			out = append(out, k.Name)
		}
	}
	slices.Sort(out)
	return out
}

// TestGarbageCollectorTTL checks which terminal objects the collector
// deletes after --gc-ttl, with an injected clock 48 h after the objects
// were made: Cancelled orders (RFC 8921 §8.11.1, Figure 8) and Completed
// orders whose Agreement is gone, never an order whose Agreement exists
// (deleting it would withdraw the agreement, §9.2.8), nor an open or
// recently ended one; terminal Offers of negotiations that are over,
// never an Offer of an open negotiation, the Accepted Offer of an
// Agreement in force, nor the Offer an Agreement names as its last UPDATE
// (§9.2.9).
// Reference: DESIGN §5 ("Terminal objects are kept for a bounded
// time/count, not forever"); RFC 8921 §8.11.1, §9.2.8, §9.2.9.
func TestGarbageCollectorTTL(t *testing.T) {
	f := newGCFixture(t, "gc-ttl")
	old, recent := time.Duration(0), 47*time.Hour

	f.order("cancelled-old", v1alpha1.StateCancelled, old, "")
	f.order("cancelled-new", v1alpha1.StateCancelled, recent, "")
	live := f.order("completed-live", v1alpha1.StateCompleted, old, "completed-live")
	f.agreement("completed-live", live, "of-update-current")
	f.order("completed-gone", v1alpha1.StateCompleted, old, "gone")
	f.order("completed-pending", v1alpha1.StateCompleted, old, "")
	f.order("open", v1alpha1.StatePQOSent, old, "")
	owner := f.order("owner-only", v1alpha1.StateCancelled, old, "")
	f.agreement("owned-by-owner-only", owner, "")

	f.offer("of-declined-done", "cancelled-new", v1alpha1.OfferDeclined, old, "")
	f.offer("of-declined-recent", "cancelled-new", v1alpha1.OfferDeclined, recent, "")
	f.offer("of-declined-open", "open", v1alpha1.OfferDeclined, old, "")
	f.offer("of-open", "open", v1alpha1.OfferOpen, old, "")
	f.offer("of-accepted-live", "completed-live", v1alpha1.OfferAccepted, old, "")
	f.offer("of-expired-live", "completed-live", v1alpha1.OfferExpired, old, "")
	f.offer("of-update-declined", "completed-live", v1alpha1.OfferDeclined, old, "completed-live")
	f.offer("of-update-current", "completed-live", v1alpha1.OfferDeclined, old, "completed-live")
	f.offer("of-goes-with-order", "cancelled-old", v1alpha1.OfferDeclined, old, "")
	f.offer("of-pending", "completed-pending", v1alpha1.OfferAccepted, old, "")

	gc := &controllers.GarbageCollector{Client: f.c, TTL: 24 * time.Hour, Keep: -1, Now: func() time.Time { return f.base.Add(48 * time.Hour) }}
	res, err := gc.Collect(ctxFor(t))
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if diff := cmp.Diff([]string{"cancelled-old", "completed-gone"}, names(res.QuotationOrders, f.ns)); diff != "" {
		t.Errorf("deleted orders (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"of-declined-done", "of-expired-live", "of-update-declined"}, names(res.Offers, f.ns)); diff != "" {
		t.Errorf("deleted offers (-want +got):\n%s", diff)
	}
	for _, n := range []string{"cancelled-new", "completed-live", "completed-pending", "open", "owner-only"} {
		if !f.exists(&v1alpha1.QuotationOrder{}, n) {
			t.Errorf("order %s: got deleted, want kept", n)
		}
	}
	for _, n := range []string{"cancelled-old", "completed-gone"} {
		if f.exists(&v1alpha1.QuotationOrder{}, n) {
			t.Errorf("order %s: got kept, want deleted", n)
		}
	}
	for _, n := range []string{"of-declined-recent", "of-declined-open", "of-open", "of-accepted-live", "of-update-current", "of-pending"} {
		if !f.exists(&v1alpha1.Offer{}, n) {
			t.Errorf("offer %s: got deleted, want kept", n)
		}
	}

	// A second collection at the same time finds nothing more but the
	// Offer of the deleted order, orphaned here because envtest runs no
	// Kubernetes garbage collector (in a cluster it goes with its owner).
	res, err = gc.Collect(ctxFor(t))
	if err != nil {
		t.Fatalf("second Collect: %v", err)
	}
	if got := names(res.QuotationOrders, f.ns); len(got) != 0 {
		t.Errorf("second collection: got orders %v deleted, want none", got)
	}
	if diff := cmp.Diff([]string{"of-goes-with-order"}, names(res.Offers, f.ns)); diff != "" {
		t.Errorf("second collection: deleted offers (-want +got):\n%s", diff)
	}
}

// TestGarbageCollectorKeep checks the count bound (--gc-keep) without a
// time bound: per namespace and kind, only the newest terminal objects are
// kept, ranked by when they became terminal.
// Reference: DESIGN §5 ("kept for a bounded time/count").
func TestGarbageCollectorKeep(t *testing.T) {
	f := newGCFixture(t, "gc-keep")
	for i, n := range []string{"c1", "c2", "c3"} {
		f.order(n, v1alpha1.StateCancelled, time.Duration(i)*time.Hour, "")
	}
	// Declined Offers of a Completed order whose Agreement is in force:
	// terminal, of a negotiation that is over; the order itself is kept.
	keeper := f.order("keeper", v1alpha1.StateCompleted, 0, "keeper")
	f.agreement("keeper", keeper, "")
	for i, n := range []string{"o1", "o2", "o3"} {
		f.offer(n, "keeper", v1alpha1.OfferDeclined, time.Duration(i)*time.Hour, "")
	}
	gc := &controllers.GarbageCollector{Client: f.c, TTL: 0, Keep: 1, Now: func() time.Time { return f.base.Add(4 * time.Hour) }}
	res, err := gc.Collect(ctxFor(t))
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if diff := cmp.Diff([]string{"c1", "c2"}, names(res.QuotationOrders, f.ns)); diff != "" {
		t.Errorf("deleted orders (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"o1", "o2"}, names(res.Offers, f.ns)); diff != "" {
		t.Errorf("deleted offers (-want +got):\n%s", diff)
	}
}

// staleClient is a client whose lists miss the Agreements (a cache that
// lags) and whose deletes of one object first change it (a concurrent
// writer between the read and the delete).
type staleClient struct {
	client.Client
	touch string
}

func (s staleClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := s.Client.List(ctx, list, opts...); err != nil {
		return err
	}
	if l, ok := list.(*v1alpha1.AgreementList); ok {
		l.Items = nil
	}
	return nil
}

func (s staleClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	if obj.GetName() == s.touch {
		cur := &v1alpha1.QuotationOrder{}
		if err := s.Get(ctx, client.ObjectKeyFromObject(obj), cur); err != nil {
			return err
		}
		cur.Labels = map[string]string{"touched": "yes"}
		if err := s.Update(ctx, cur); err != nil {
			return err
		}
	}
	return s.Client.Delete(ctx, obj, opts...)
}

// TestGarbageCollectorSafety checks the two guards against stale reads:
// the Agreements are listed from the API server before an order is
// deleted, so an order whose Agreement the cache does not show yet is
// kept (its deletion would withdraw the agreement, RFC 8921 §9.2.8); and
// every deletion carries Preconditions{UID, ResourceVersion}, so an order
// changed after it was read is left alone.
// Reference: RFC 8921 §9.2.8; DESIGN §5.
func TestGarbageCollectorSafety(t *testing.T) {
	f := newGCFixture(t, "gc-safe")
	qo := f.order("has-agreement", v1alpha1.StateCancelled, 0, "")
	f.agreement("has-agreement", qo, "")
	f.order("touched", v1alpha1.StateCancelled, 0, "")
	f.order("plain", v1alpha1.StateCancelled, 0, "")

	gc := &controllers.GarbageCollector{Client: staleClient{Client: f.c, touch: "touched"}, APIReader: f.c, TTL: time.Hour, Keep: -1,
		Now: func() time.Time { return f.base.Add(48 * time.Hour) }}
	res, err := gc.Collect(ctxFor(t))
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if diff := cmp.Diff([]string{"plain"}, names(res.QuotationOrders, f.ns)); diff != "" {
		t.Errorf("deleted orders (-want +got):\n%s", diff)
	}
	for _, n := range []string{"has-agreement", "touched"} {
		if !f.exists(&v1alpha1.QuotationOrder{}, n) {
			t.Errorf("order %s: got deleted, want kept", n)
		}
	}
}

// TestGarbageCollectorAfterWithdrawal runs a real negotiation to an
// Agreement and checks the collector against it: while the Agreement
// exists, neither the order nor its Accepted Offer is deleted, however old
// (deleting the order would withdraw the agreement, RFC 8921 §9.2.8); once
// the Agreement was withdrawn and deleted, the order is terminal and is
// deleted after the TTL.
// Reference: RFC 8921 §9.2.4, §9.2.8; DESIGN §5.
func TestGarbageCollectorAfterWithdrawal(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "gc-withdraw")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	manager(t)

	qo := order(ns, "done", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, qo, "Ready=True", func(o *v1alpha1.QuotationOrder) bool {
		r := condition(o.Status.Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Status == metav1.ConditionTrue
	})
	offerName := qo.Status.Providers[0].OfferRef.Name
	waitFor(t, c, &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: offerName}}, "state Accepted",
		func(o *v1alpha1.Offer) bool { return o.Status.State == v1alpha1.OfferAccepted })

	later := func() time.Time { return time.Now().Add(48 * time.Hour) }
	gc := &controllers.GarbageCollector{Client: c, TTL: 24 * time.Hour, Keep: 0, Now: later}
	res, err := gc.Collect(ctxFor(t))
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if got := append(names(res.QuotationOrders, ns), names(res.Offers, ns)...); len(got) != 0 {
		t.Fatalf("with the Agreement in force: got %v deleted, want nothing", got)
	}

	agr := &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: qo.Status.AgreementRef.Name}}
	if err := c.Delete(ctxFor(t), agr); err != nil {
		t.Fatal(err)
	}
	waitDeleted(t, c, agr, "agreement")
	// The order shows the end (its Ready condition changes): wait for the
	// reconciler to settle before collecting, so the read is current.
	waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: qo.ObjectMeta}, "Ready=False", func(o *v1alpha1.QuotationOrder) bool {
		r := condition(o.Status.Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Status == metav1.ConditionFalse
	})
	var gone []types.NamespacedName
	gcPoll(t, func() bool {
		res, err := gc.Collect(ctxFor(t))
		if err != nil {
			t.Fatalf("Collect: %v", err)
		}
		gone = append(gone, res.QuotationOrders...)
		return len(gone) > 0
	})
	if diff := cmp.Diff([]string{"done"}, names(gone, ns)); diff != "" {
		t.Errorf("after the withdrawal: deleted orders (-want +got):\n%s", diff)
	}
}

// gcPoll polls cond until it holds, failing the test after 60 s
// (the deadline only bounds the wait).
func gcPoll(t *testing.T, cond func() bool) {
	t.Helper()
	ctx := ctxFor(t)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("timed out")
		case <-tick.C:
		}
	}
}
