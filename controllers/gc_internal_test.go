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
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
)

// TestGCRules checks, case by case, which QuotationOrders and Offers are
// terminal for the garbage collector.
// Reference: DESIGN §5; RFC 8921 §8.11.1 (Figure 8), §9.2.8, §9.2.9.
func TestGCRules(t *testing.T) {
	t.Parallel()
	now := metav1.Now()
	agreements := map[string]*v1alpha1.Agreement{
		"live":     {ObjectMeta: metav1.ObjectMeta{Name: "live", OwnerReferences: []metav1.OwnerReference{{UID: "uid-owner"}}}},
		"updating": {ObjectMeta: metav1.ObjectMeta{Name: "updating"}, Status: v1alpha1.AgreementStatus{State: v1alpha1.AgreementUpdating}},
		"updated": {ObjectMeta: metav1.ObjectMeta{Name: "updated"}, Status: v1alpha1.AgreementStatus{State: v1alpha1.AgreementEstablished,
			UpdateOfferRef: &v1alpha1.LocalObjectReference{Name: "current"}}},
	}
	qo := func(uid string, st v1alpha1.ClientState, agr string, deleting bool) *v1alpha1.QuotationOrder {
		o := &v1alpha1.QuotationOrder{ObjectMeta: metav1.ObjectMeta{Name: "qo-" + uid, UID: types.UID(uid)}, Status: v1alpha1.QuotationOrderStatus{State: st}}
		if agr != "" {
			o.Status.AgreementRef = &v1alpha1.LocalObjectReference{Name: agr}
		}
		if deleting {
			o.DeletionTimestamp = &now
		}
		return o
	}
	orderTests := map[string]struct {
		qo   *v1alpha1.QuotationOrder
		want bool
	}{
		"cancelled":                    {qo("a", v1alpha1.StateCancelled, "", false), true},
		"cancelled, being deleted":     {qo("b", v1alpha1.StateCancelled, "", true), false},
		"cancelled, owns an agreement": {qo("uid-owner", v1alpha1.StateCancelled, "", false), false},
		"completed, agreement gone":    {qo("c", v1alpha1.StateCompleted, "gone", false), true},
		"completed, agreement exists":  {qo("d", v1alpha1.StateCompleted, "live", false), false},
		"completed, agreement pending": {qo("e", v1alpha1.StateCompleted, "", false), false},
		"negotiating":                  {qo("f", v1alpha1.StateServerProcessing, "", false), false},
		"offer processing":             {qo("g", v1alpha1.StateOfferProcessing, "", false), false},
		"not reconciled yet":           {qo("h", "", "", false), false},
	}
	for name, tc := range orderTests {
		t.Run("order/"+name, func(t *testing.T) {
			t.Parallel()
			if got := orderTerminal(tc.qo, agreements); got != tc.want {
				t.Errorf("orderTerminal: got %v, want %v", got, tc.want)
			}
		})
	}

	orders := map[string]*v1alpha1.QuotationOrder{
		"cancelled": qo("x1", v1alpha1.StateCancelled, "", false), "open": qo("x2", v1alpha1.StateOfferReceived, "", false),
		"done-live": qo("x3", v1alpha1.StateCompleted, "live", false), "done-gone": qo("x4", v1alpha1.StateCompleted, "gone", false),
		"pending": qo("x5", v1alpha1.StateCompleted, "", false),
	}
	offer := func(name, order string, st v1alpha1.OfferState, agr string) *v1alpha1.Offer {
		o := &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.OfferSpec{QuotationOrderRef: v1alpha1.LocalObjectReference{Name: order}},
			Status: v1alpha1.OfferStatus{State: st}}
		if agr != "" {
			o.Spec.AgreementRef = &v1alpha1.LocalObjectReference{Name: agr}
		}
		return o
	}
	offerTests := map[string]struct {
		of   *v1alpha1.Offer
		want bool
	}{
		"declined, order cancelled":           {offer("o", "cancelled", v1alpha1.OfferDeclined, ""), true},
		"expired, order gone":                 {offer("o", "nobody", v1alpha1.OfferExpired, ""), true},
		"declined, order negotiating":         {offer("o", "open", v1alpha1.OfferDeclined, ""), false},
		"open":                                {offer("o", "cancelled", v1alpha1.OfferOpen, ""), false},
		"accepting":                           {offer("o", "cancelled", v1alpha1.OfferAccepting, ""), false},
		"declining":                           {offer("o", "cancelled", v1alpha1.OfferDeclining, ""), false},
		"accepted, agreement in force":        {offer("o", "done-live", v1alpha1.OfferAccepted, ""), false},
		"expired, agreement in force":         {offer("o", "done-live", v1alpha1.OfferExpired, ""), true},
		"accepted, agreement withdrawn":       {offer("o", "done-gone", v1alpha1.OfferAccepted, ""), true},
		"accepted, agreement being created":   {offer("o", "pending", v1alpha1.OfferAccepted, ""), false},
		"update, agreement updating":          {offer("o", "done-live", v1alpha1.OfferDeclined, "updating"), false},
		"update, the last one":                {offer("current", "done-live", v1alpha1.OfferDeclined, "updated"), false},
		"update, superseded":                  {offer("older", "done-live", v1alpha1.OfferAccepted, "updated"), true},
		"update, agreement gone":              {offer("o", "done-live", v1alpha1.OfferCancelled, "gone"), true},
		"update, accepted, cycle in progress": {offer("o", "done-live", v1alpha1.OfferAccepted, "updating"), false},
	}
	for name, tc := range offerTests {
		t.Run("offer/"+name, func(t *testing.T) {
			t.Parallel()
			if got := offerCollectable(tc.of, orders, agreements); got != tc.want {
				t.Errorf("offerCollectable: got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestGCBounds checks the ranking and both bounds: terminal for longer
// than TTL, or beyond the Keep newest; either bound can be disabled.
// Reference: DESIGN §5 ("kept for a bounded time/count").
func TestGCBounds(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	mk := func() []gcCandidate {
		var cs []gcCandidate
		for _, h := range []int{1, 5, 3, 2, 4} { // terminal since t0 + h hours
			name := "h" + strconv.Itoa(h)
			cs = append(cs, gcCandidate{&v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Name: name}}, t0.Add(time.Duration(h) * time.Hour)})
		}
		return cs
	}
	now := t0.Add(6 * time.Hour)
	tests := map[string]struct {
		ttl  time.Duration
		keep int
		want []string
	}{
		"ttl only":        {ttl: 3*time.Hour + time.Minute, keep: -1, want: []string{"h2", "h1"}},
		"keep only":       {keep: 2, want: []string{"h3", "h2", "h1"}},
		"both":            {ttl: 4*time.Hour + time.Minute, keep: 4, want: []string{"h1"}},
		"both, keep wins": {ttl: 10 * time.Hour, keep: 1, want: []string{"h4", "h3", "h2", "h1"}},
		"keep zero":       {keep: 0, want: []string{"h5", "h4", "h3", "h2", "h1"}},
		"nothing to do":   {ttl: 10 * time.Hour, keep: 5},
		"disabled bounds": {keep: -1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g := &GarbageCollector{TTL: tc.ttl, Keep: tc.keep}
			var got []string
			for _, c := range g.beyondBounds(mk(), now) {
				got = append(got, c.obj.GetName())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTerminalSince checks the time an object became terminal: the latest
// of its creation, last history entry, conditions and decision.
// Reference: RFC 8921 §8.11 (timestamps of state changes).
func TestTerminalSince(t *testing.T) {
	t.Parallel()
	at := func(h int) metav1.Time { return metav1.NewTime(time.Date(2026, 11, 22, h, 0, 0, 0, time.UTC)) }
	decided := at(7)
	tests := map[string]struct {
		hist  []v1alpha1.Transition
		conds []metav1.Condition
		extra *metav1.Time
		want  metav1.Time
	}{
		"creation":  {want: at(1)},
		"history":   {hist: []v1alpha1.Transition{{Time: at(5)}, {Time: at(3)}}, want: at(3)},
		"condition": {hist: []v1alpha1.Transition{{Time: at(3)}}, conds: []metav1.Condition{{LastTransitionTime: at(4)}}, want: at(4)},
		"decided":   {conds: []metav1.Condition{{LastTransitionTime: at(4)}}, extra: &decided, want: at(7)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := terminalSince(at(1), tc.hist, tc.conds, tc.extra); !got.Equal(tc.want.Time) {
				t.Errorf("got %v, want %v", got, tc.want.Time)
			}
		})
	}
}

// TestGCStart checks the Runnable: disabled, it returns at once; enabled,
// it collects at start and returns when the context ends; it runs on the
// leader only.
// Reference: DESIGN §5.
func TestGCStart(t *testing.T) {
	t.Parallel()
	scheme := runtime.NewScheme()
	if err := errors.Join(corev1.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		t.Fatal(err)
	}
	old := &v1alpha1.QuotationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "old", UID: "u1"},
		Status: v1alpha1.QuotationOrderStatus{State: v1alpha1.StateCancelled}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(old).WithStatusSubresource(old).Build()

	off := &GarbageCollector{Client: c, TTL: 0, Keep: -1}
	if err := off.Start(context.Background()); err != nil {
		t.Errorf("disabled Start: got %v, want nil at once", err)
	}
	if !off.NeedLeaderElection() {
		t.Error("NeedLeaderElection: got false, want true")
	}

	g := &GarbageCollector{Client: c, TTL: time.Hour, Keep: -1, Interval: time.Hour,
		Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Start(ctx) }()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Get(ctx, ctrlclient.ObjectKeyFromObject(old), &v1alpha1.QuotationOrder{})
		if err != nil {
			break // deleted by the collection at start
		}
		select {
		case <-deadline.C:
			t.Fatal("the order was not collected within 10s of Start")
		case <-tick.C:
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Start: got %v, want nil", err)
	}
}
