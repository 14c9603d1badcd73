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
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// The kstatus tests read every version of the QuotationOrder, its Offer and
// its Agreement from a watch on the API server and compute each one's
// status with kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status), the
// library Flux, Argo CD's kstatus mode and `kubectl wait`-style tooling use
// (issue #4). DESIGN §5 requires kstatus-compatible Reconciling / Stalled
// conditions and observedGeneration from the first reconcile: the first
// status write of each object already has them, every version from then on
// reads InProgress until the object is done, then Current (done) or Failed
// (a terminal outcome), and never Unknown.
//
// The versions before the first status write carry no status at all: the
// status subresource cannot be written on create, so an object created by a
// user (the QuotationOrder) or by the operator (Offer, Agreement) exists for
// a moment without conditions, which kstatus reads as Current ("the absence
// of any known conditions means the resource is current"). That is a
// property of kstatus, not of this operator; the tests check that those
// versions really are status-less and that no status-less version follows
// a status write.

// TestKstatusSequences negotiates orders to their three outcomes and checks
// the kstatus of every observed version of every object.
// Reference: RFC 8921 §9.2.1-§9.2.6 (agreement), §9.2.10 Table 4 code 5
// (FAIL, terminal), §9.2.5 Table 3 code 1 (DECLINE of a counter-offer);
// DESIGN §5 (kstatus conditions from the first reconcile, Ready for
// `kubectl wait`).
func TestKstatusSequences(t *testing.T) {
	c := apiServer(t)
	wc, err := client.NewWithWatch(apiCfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatalf("watch client: %v", err)
	}
	tests := []struct {
		name string
		// class is the order's QoS class; the server only has gold.
		class string
		// maxBps, when not zero, caps what the tenant may hold, so that
		// the server counter-offers less than asked.
		maxBps int64
		// final is the kstatus each kind ends in; kinds not listed must
		// not appear.
		final map[string]kstatus.Status
	}{{
		// QUOTATION, OFFER, ACCEPT, ACK: everything ends Current.
		name:  "agreement",
		class: "gold",
		final: map[string]kstatus.Status{
			"QuotationOrder": kstatus.CurrentStatus,
			"Offer":          kstatus.CurrentStatus,
			"Agreement":      kstatus.CurrentStatus,
		},
	}, {
		// No pool has the class: FAIL 5, the order is Stalled.
		name:  "server FAIL 5",
		class: "bronze",
		final: map[string]kstatus.Status{
			"QuotationOrder": kstatus.FailedStatus,
		},
	}, {
		// A counter-offer below the request: Automatic acceptance declines
		// it (reason 1); the server's ACK of the DECLINE settles the Offer
		// (Ready), the order ends without an agreement (Stalled).
		name:   "counter-offer declined",
		class:  "gold",
		maxBps: 5e6,
		final: map[string]kstatus.Status{
			"QuotationOrder": kstatus.FailedStatus,
			"Offer":          kstatus.CurrentStatus,
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns := namespace(t, c, "kstatus")
			p := cpnptest.NewPKI(t)
			srv := startServer(t, p, tc.maxBps)
			provider(t, c, ns, "wan", p, srv)
			// The watches start before the order exists, so they see
			// every version of every object of the namespace.
			rec := watchKinds(t, wc, ns, "QuotationOrder", "Offer", "Agreement")
			manager(t)

			if err := c.Create(ctxFor(t), order(ns, "qo", "wan", tc.class, v1alpha1.AcceptanceAutomatic)); err != nil {
				t.Fatal(err)
			}
			got := rec.waitFinal(t, tc.final)

			var kinds []string
			for k := range got {
				kinds = append(kinds, k.kind)
			}
			var want []string
			for k := range tc.final {
				want = append(want, k)
			}
			slices.Sort(kinds)
			slices.Sort(want)
			kinds = slices.Compact(kinds)
			if diff := cmp.Diff(want, kinds); diff != "" {
				t.Errorf("kinds observed (-want +got):\n%s", diff)
			}
			for key, versions := range got {
				seq, err := checkKstatusSequence(versions, tc.final[key.kind], key.kind == "QuotationOrder")
				if err != nil {
					t.Errorf("%s %s: %v; kstatus of each version: %s", key.kind, key.name, err, seq)
				} else {
					t.Logf("%s %s: %s", key.kind, key.name, seq)
				}
			}
		})
	}
}

// TestKstatusSequenceCheck proves that checkKstatusSequence rejects the
// sequences the envtest test must catch, on hand-made versions.
// Reference: DESIGN §5 (kstatus Reconciling / Stalled from the first
// reconcile).
func TestKstatusSequenceCheck(t *testing.T) {
	t.Parallel()
	none := obj(1, nil, nil)
	progress := obj(1, ptrInt(1), conds("False", "True", "False"))
	current := obj(1, ptrInt(1), conds("True", "False", "False"))
	failed := obj(1, ptrInt(1), conds("False", "False", "True"))
	tests := map[string]struct {
		versions      []*unstructured.Unstructured
		final         kstatus.Status
		firstProgress bool
		wantErr       string
	}{
		"progress then current": {
			versions: []*unstructured.Unstructured{none, progress, progress, current, current},
			final:    kstatus.CurrentStatus, firstProgress: true,
		},
		"progress then failed": {
			versions: []*unstructured.Unstructured{none, progress, failed},
			final:    kstatus.FailedStatus, firstProgress: true,
		},
		"created done": {
			versions: []*unstructured.Unstructured{none, current},
			final:    kstatus.CurrentStatus,
		},
		"current before the end": {
			versions: []*unstructured.Unstructured{none, progress, current, progress, current},
			final:    kstatus.CurrentStatus,
			wantErr:  "version 3 reads InProgress after Current",
		},
		"failed, want current": {
			versions: []*unstructured.Unstructured{none, progress, failed},
			final:    kstatus.CurrentStatus,
			wantErr:  "version 2 reads Failed",
		},
		"never finished": {
			versions: []*unstructured.Unstructured{none, progress},
			final:    kstatus.CurrentStatus,
			wantErr:  "the last version reads InProgress, want Current",
		},
		"first write without conditions": {
			versions: []*unstructured.Unstructured{none, obj(1, ptrInt(1), []any{}), current},
			final:    kstatus.CurrentStatus,
			wantErr:  "the first status write (version 1) has no Ready condition",
		},
		"first write without observedGeneration": {
			versions: []*unstructured.Unstructured{none, obj(1, nil, conds("False", "True", "False")), current},
			final:    kstatus.CurrentStatus,
			wantErr:  "the first status write (version 1) has status.observedGeneration 0, want 1",
		},
		"first write not in progress": {
			versions: []*unstructured.Unstructured{none, current},
			final:    kstatus.CurrentStatus, firstProgress: true,
			wantErr: "the first status write (version 1) reads Current, want InProgress",
		},
		"status lost": {
			versions: []*unstructured.Unstructured{none, progress, none, current},
			final:    kstatus.CurrentStatus,
			wantErr:  "version 2 has no status after the first status write",
		},
		"no status write": {
			versions: []*unstructured.Unstructured{none},
			final:    kstatus.CurrentStatus,
			wantErr:  "no status was ever written",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := checkKstatusSequence(tc.versions, tc.final, tc.firstProgress)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tc.wantErr == "" && got != "" {
				t.Fatalf("got error %q, want none", got)
			}
			if !strings.Contains(got, tc.wantErr) {
				t.Fatalf("got error %q, want one containing %q", got, tc.wantErr)
			}
		})
	}
}

// checkKstatusSequence checks the versions of one object, oldest first:
// versions without status may only come first; the first status write has
// Ready, Reconciling and Stalled and status.observedGeneration equal to the
// generation (and reads InProgress when firstProgress); from it on, each
// version reads InProgress until the first that reads final, and final from
// then on, never Unknown. It returns the kstatus of each version (for
// failure messages and the log) and the first violation.
func checkKstatusSequence(versions []*unstructured.Unstructured, final kstatus.Status, firstProgress bool) (string, error) {
	var (
		seq     []string
		errs    []error
		written = -1
		done    = false
	)
	for i, u := range versions {
		st, hasStatus := u.Object["status"].(map[string]any)
		if !hasStatus || len(st) == 0 {
			seq = append(seq, "(no status)")
			if written >= 0 {
				errs = append(errs, fmt.Errorf("version %d has no status after the first status write", i))
			}
			continue
		}
		res, err := kstatus.Compute(u)
		if err != nil {
			errs = append(errs, fmt.Errorf("version %d: kstatus: %w", i, err))
			seq = append(seq, "error")
			continue
		}
		seq = append(seq, res.Status.String())
		if written < 0 {
			written = i
			errs = append(errs, checkFirstWrite(i, u, res.Status, firstProgress)...)
		}
		switch {
		case res.Status == final:
			done = true
		case res.Status == kstatus.InProgressStatus && done:
			errs = append(errs, fmt.Errorf("version %d reads InProgress after %s", i, final))
		case res.Status != kstatus.InProgressStatus:
			errs = append(errs, fmt.Errorf("version %d reads %s (%s), want InProgress or %s", i, res.Status, res.Message, final))
		}
	}
	switch {
	case written < 0:
		errs = append(errs, errors.New("no status was ever written"))
	case !done:
		errs = append(errs, fmt.Errorf("the last version reads %s, want %s", seq[len(seq)-1], final))
	}
	return strings.Join(seq, " -> "), errors.Join(errs...)
}

// checkFirstWrite checks the first version of an object with a status.
func checkFirstWrite(i int, u *unstructured.Unstructured, st kstatus.Status, firstProgress bool) []error {
	var errs []error
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	has := map[string]bool{}
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok {
			if typ, ok := m["type"].(string); ok {
				has[typ] = true
			}
		}
	}
	for _, typ := range []string{v1alpha1.ConditionReady, v1alpha1.ConditionReconciling, v1alpha1.ConditionStalled} {
		if !has[typ] {
			errs = append(errs, fmt.Errorf("the first status write (version %d) has no %s condition", i, typ))
		}
	}
	og, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if gen := u.GetGeneration(); og != gen {
		errs = append(errs, fmt.Errorf("the first status write (version %d) has status.observedGeneration %d, want %d", i, og, gen))
	}
	if firstProgress && st != kstatus.InProgressStatus {
		errs = append(errs, fmt.Errorf("the first status write (version %d) reads %s, want InProgress", i, st))
	}
	return errs
}

// objectKey names one observed object.
type objectKey struct{ kind, name string }

// versionRecorder keeps every version of every object the watches saw, in
// the order the API server sent them (per kind, resourceVersion order).
type versionRecorder struct {
	mu       sync.Mutex
	versions map[objectKey][]*unstructured.Unstructured
	err      error
	changed  chan struct{}
	// only, when not nil, selects the objects to record.
	only func(*unstructured.Unstructured) bool
}

// watchKinds watches the objects of the given kinds in ns until the test
// ends, recording every version.
func watchKinds(t *testing.T, wc client.WithWatch, ns string, kinds ...string) *versionRecorder {
	t.Helper()
	return watchKindsWhere(t, wc, ns, nil, kinds...)
}

// watchKindsWhere is watchKinds for the objects that only accepts (all
// when nil); ns is empty for cluster-scoped kinds. A watch without a
// resourceVersion starts with an ADDED event for every existing object,
// so only can drop other tests' objects.
func watchKindsWhere(t *testing.T, wc client.WithWatch, ns string, only func(*unstructured.Unstructured) bool, kinds ...string) *versionRecorder {
	t.Helper()
	rec := &versionRecorder{versions: map[objectKey][]*unstructured.Unstructured{}, changed: make(chan struct{}, 1), only: only}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	for _, kind := range kinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(kind + "List"))
		var opts []client.ListOption
		if ns != "" {
			opts = append(opts, client.InNamespace(ns))
		}
		w, err := wc.Watch(ctxFor(t), list, opts...)
		if err != nil {
			t.Fatalf("watch %s: %v", kind, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-w.ResultChan():
					if !ok {
						rec.fail(fmt.Errorf("the %s watch closed early: versions may be missing", kind))
						return
					}
					rec.record(kind, ev)
				}
			}
		}()
	}
	return rec
}

func (r *versionRecorder) record(kind string, ev watch.Event) {
	switch ev.Type {
	case watch.Added, watch.Modified, watch.Deleted:
		u, ok := ev.Object.(*unstructured.Unstructured)
		if !ok {
			r.fail(fmt.Errorf("%s watch: got a %T", kind, ev.Object))
			return
		}
		if r.only != nil && !r.only(u) {
			return
		}
		r.mu.Lock()
		k := objectKey{kind, u.GetName()}
		r.versions[k] = append(r.versions[k], u)
		r.mu.Unlock()
	case watch.Error:
		r.fail(fmt.Errorf("%s watch: %v", kind, ev.Object))
		return
	default:
		return
	}
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *versionRecorder) fail(err error) {
	r.mu.Lock()
	r.err = errors.Join(r.err, err)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// waitFinal waits until every kind of final has at least one object and
// the latest version of each object of those kinds reads its final status,
// and returns a copy of the versions seen so far.
func (r *versionRecorder) waitFinal(t *testing.T, final map[string]kstatus.Status) map[objectKey][]*unstructured.Unstructured {
	t.Helper()
	ctx := ctxFor(t)
	for {
		r.mu.Lock()
		err, snapshot := r.err, make(map[objectKey][]*unstructured.Unstructured, len(r.versions))
		for k, v := range r.versions {
			snapshot[k] = append([]*unstructured.Unstructured(nil), v...)
		}
		r.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if reached(snapshot, final) {
			return snapshot
		}
		select {
		case <-ctx.Done():
			var b strings.Builder
			for k, v := range snapshot {
				seq, _ := checkKstatusSequence(v, final[k.kind], false)
				fmt.Fprintf(&b, "\n  %s %s: %s", k.kind, k.name, seq)
			}
			t.Fatalf("timed out waiting for the final statuses %v; seen:%s", final, b.String())
		case <-r.changed:
		}
	}
}

// reached reports whether versions hold an object of every kind of final
// and the latest version of each such object reads its final status.
func reached(versions map[objectKey][]*unstructured.Unstructured, final map[string]kstatus.Status) bool {
	seen := map[string]bool{}
	for k, v := range versions {
		want, ok := final[k.kind]
		if !ok {
			continue
		}
		seen[k.kind] = true
		res, err := kstatus.Compute(v[len(v)-1])
		if _, hasStatus := v[len(v)-1].Object["status"]; err != nil || !hasStatus || res.Status != want {
			return false
		}
	}
	return len(seen) == len(final)
}

// obj is a hand-made QuotationOrder version with generation gen, the
// status.observedGeneration og (none when nil) and conditions (no status
// at all when both are nil).
func obj(gen int64, og *int64, conditions []any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(),
		"kind":       "QuotationOrder",
		"metadata":   map[string]any{"name": "qo", "namespace": "ns", "generation": gen},
	}}
	if og == nil && conditions == nil {
		return u
	}
	st := map[string]any{"state": "PQOSent"}
	if og != nil {
		st["observedGeneration"] = *og
	}
	if conditions != nil {
		st["conditions"] = conditions
	}
	u.Object["status"] = st
	return u
}

// conds returns Ready, Reconciling and Stalled with the given statuses.
func conds(ready, reconciling, stalled metav1.ConditionStatus) []any {
	var out []any
	for _, c := range []struct {
		typ string
		st  metav1.ConditionStatus
	}{{v1alpha1.ConditionReady, ready}, {v1alpha1.ConditionReconciling, reconciling}, {v1alpha1.ConditionStalled, stalled}} {
		out = append(out, map[string]any{"type": c.typ, "status": string(c.st), "reason": "Test", "message": "test", "observedGeneration": int64(1)})
	}
	return out
}

func ptrInt(v int64) *int64 { return &v }
