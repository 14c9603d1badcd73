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

package benchoperator_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	cpnpclient "github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
	"github.com/cpnp-dev/cpnp-operator/test/benchoperator"
)

// Sizes and knobs of BenchmarkOperator; the environment variables override
// them (make bench-operator passes them through).
var (
	// numOrders is the number of QuotationOrders negotiated end to end
	// (BENCH_ORDERS, default 1,000).
	numOrders = envInt("BENCH_ORDERS", 1000)
	// numAgreements is the number of Agreements in the API server when the
	// heap is measured (BENCH_AGREEMENTS, default 10,000): the numOrders
	// real ones plus clones of one of them.
	numAgreements = envInt("BENCH_AGREEMENTS", 10000)
	// concurrency is MaxConcurrentReconciles of both controllers, the
	// --concurrency flag of cmd/manager (BENCH_CONCURRENCY, default 4, the
	// flag's default), and the number of workers of the raw baseline.
	concurrency = envInt("BENCH_CONCURRENCY", 4)
	// rawRounds is the number of raw status writes per QuotationOrder in
	// the baseline, rounded up to an even number (BENCH_RAW_ROUNDS,
	// default 2: 2 × numOrders writes, enough for a steady rate and short
	// enough for the 5-minute budget of make bench-operator).
	rawRounds = envInt("BENCH_RAW_ROUNDS", 2)
)

// envRequired is the variable `make test` and `make bench-operator` set so
// that a missing control plane fails instead of skipping.
const envRequired = "CPNP_REQUIRE_ENVTEST"

// cloneWorkers is the number of goroutines that clone Agreements: the
// API server commits concurrent writes to etcd together, so more of them
// fill the cluster faster (setup, not measured).
var cloneWorkers = envInt("BENCH_CLONE_WORKERS", 32)

// benchProvider is the name of the one Provider of the benchmark.
const benchProvider = "bench"

// BenchmarkOperator is the operator benchmark of issue #4 (DESIGN §7); it
// runs its scenario once (make bench-operator passes -benchtime=1x):
//
//  1. Orders: numOrders QuotationOrders (the automatic-acceptance sample,
//     one Provider) are created by the benchmark's own client and
//     negotiated by a manager set up like cmd/manager (the QuotationOrder,
//     Agreement and Provider controllers with MaxConcurrentReconciles =
//     concurrency, the Engine with the cmd/manager defaults, the cache
//     options of cmd/manager: cacheTuned) against an in-process CPNP server engine over
//     DTLS: QUOTATION, OFFER, ACCEPT, ACK (RFC 8921 §9.2.1-§9.2.4, §8.11.1)
//     and the Agreement (§9.2.6). orders/s = numOrders ÷ the wall time from
//     the first create to the last QuotationOrder Completed with its
//     Agreement Ready.
//  2. Writes: every request the manager sends goes through a
//     benchoperator.Counter (rest.Config.WrapTransport); writes/order =
//     the mutating requests (POST, PUT, PATCH, DELETE) on objects ÷
//     numOrders, Events (events.k8s.io) counted apart as events/order. The
//     benchmark's own creates are not counted (another rest.Config).
//  3. Raw baseline: with the manager stopped, concurrency workers issue
//     plain merge-patch status writes (Status().Patch with the optimistic
//     lock, as the reconciler writes) on the Completed QuotationOrders
//     through the same client stack, rawRounds (an even number, so each
//     order's status ends as it was) per order; raw writes/s = writes ÷
//     their wall time.
//     ratio = (orders/s × writes/order) ÷ raw writes/s: the share of the
//     API server's status-write rate the operator turns into order writes.
//  4. Heap: the Agreements are cloned (spec, status with its
//     status.protocol blob, nonce Secret) up to numAgreements; then, for
//     each cacheSetup (controller-runtime's defaults; + ClientOptions; +
//     CacheOptions, as cmd/manager now), a fresh manager is started, its caches sync, one
//     Provider Secret is read through its client (what the first order's
//     ResolveProvider does), and its heap is HeapInuse after runtime.GC
//     minus HeapInuse before it started. The last one then waits until
//     every Agreement and QuotationOrder was reconciled once and reports
//     that startup work.
//
// The scenario runs once whatever b.N (it creates named objects).
func BenchmarkOperator(b *testing.B) {
	cfg := apiServer(b)
	ctx := b.Context()
	// The benchmark's client: no counter, no client-side rate limit.
	own := rest.CopyConfig(cfg)
	own.QPS = -1
	c, err := client.NewWithWatch(own, client.Options{Scheme: scheme})
	if err != nil {
		b.Fatal(err)
	}
	p := cpnptest.NewPKI(b)
	srv := startServer(b, p)
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-operator-"}}
	if err := c.Create(ctx, nsObj); err != nil {
		b.Fatal(err)
	}
	ns := nsObj.Name
	provider(b, c, ns, p, srv)
	sample := sampleOrder(b)

	var r result
	r.orders(b, c, cfg, ns, sample)
	r.baseline(b, cfg, c, ns)
	r.cloneAgreements(b, c, ns)
	for _, setup := range []cacheSetup{cacheDefault, cacheNoSecrets, cacheTuned} {
		r.heaps = append(r.heaps, measureHeap(b, cfg, setup, setup == cacheTuned))
	}
	r.report(b)
}

// result holds the figures of one run.
type result struct {
	elapsed      time.Duration
	writes       benchoperator.Counts
	rawWrites    int
	rawElapsed   time.Duration
	agreements   int
	heaps        []heap
	cloneElapsed time.Duration
}

// heap is what measureHeap found.
type heap struct {
	setup        cacheSetup
	inuse, alloc int64
	reconciles   map[string]int
	startup      benchoperator.Counts
	// synced is the time from the manager's start to the measurement,
	// drained the time until the startup reconciles were done (with
	// drain).
	synced, drained time.Duration
}

// orders runs step 1 and 2 of BenchmarkOperator.
func (r *result) orders(b *testing.B, c client.WithWatch, cfg *rest.Config, ns string, sample *v1alpha1.QuotationOrder) {
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
	defer cancel()
	var counter benchoperator.Counter
	stop := startManager(b, cfg, &counter, cacheTuned)
	defer stop()

	done := make(chan struct{})
	go watchCompleted(ctx, c, ns, numOrders, done)

	before := counter.Snapshot()
	start := time.Now()
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		cerr    error
	)
	for range 4 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(numOrders) {
					return
				}
				qo := sample.DeepCopy()
				qo.Namespace, qo.Name = ns, fmt.Sprintf("order-%05d", i)
				if err := c.Create(ctx, qo); err != nil {
					errOnce.Do(func() { cerr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if cerr != nil {
		b.Fatalf("create quotation orders: %v", cerr)
	}
	created := time.Since(start)
	select {
	case <-done:
	case <-ctx.Done():
		b.Fatalf("orders: %v waiting for %d QuotationOrders to complete", ctx.Err(), numOrders)
	}
	r.elapsed = time.Since(start)
	b.Logf("orders: created %d in %v, all Completed after %v", numOrders, created.Round(time.Millisecond), r.elapsed.Round(time.Millisecond))

	// Every Agreement Ready (RFC 8921 §9.2.4: the ACK of the ACCEPT).
	var agrs v1alpha1.AgreementList
	if err := c.List(ctx, &agrs, client.InNamespace(ns)); err != nil {
		b.Fatal(err)
	}
	ready := 0
	for i := range agrs.Items {
		if apimeta.IsStatusConditionTrue(agrs.Items[i].Status.Conditions, v1alpha1.ConditionReady) {
			ready++
		}
	}
	if ready != numOrders {
		b.Fatalf("orders: got %d Agreements Ready, want %d", ready, numOrders)
	}
	// The last reconciles of an order (its Offer's status, Events) may
	// trail its Completed status: wait until the manager writes nothing
	// for 2 s.
	quiet(ctx, b, &counter, 2*time.Second)
	r.writes = counter.Snapshot().Sub(before)
}

// watchCompleted closes done once want QuotationOrders of ns are Completed
// with an agreementRef (their Agreement's status is patched Ready first).
func watchCompleted(ctx context.Context, c client.WithWatch, ns string, want int, done chan<- struct{}) {
	completed := map[string]bool{}
	for ctx.Err() == nil {
		var list v1alpha1.QuotationOrderList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			pause(ctx)
			continue
		}
		for i := range list.Items {
			if isCompleted(&list.Items[i]) {
				completed[list.Items[i].Name] = true
			}
		}
		if len(completed) >= want {
			close(done)
			return
		}
		w, err := c.Watch(ctx, &v1alpha1.QuotationOrderList{}, client.InNamespace(ns),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			pause(ctx)
			continue
		}
		for ev := range w.ResultChan() {
			qo, ok := ev.Object.(*v1alpha1.QuotationOrder)
			if !ok || ev.Type == watch.Deleted || !isCompleted(qo) {
				continue
			}
			completed[qo.Name] = true
			if len(completed) >= want {
				w.Stop()
				close(done)
				return
			}
		}
		w.Stop()
	}
}

// pause waits 100 ms before a List or Watch is retried, or until ctx ends.
func pause(ctx context.Context) {
	t := time.NewTimer(100 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func isCompleted(qo *v1alpha1.QuotationOrder) bool {
	return qo.Status.State == v1alpha1.StateCompleted && qo.Status.AgreementRef != nil
}

// quiet returns once counter saw no mutating request for d (or after 30 s).
func quiet(ctx context.Context, b *testing.B, counter *benchoperator.Counter, d time.Duration) {
	b.Helper()
	writes := func() int {
		o, e := counter.Snapshot().Writes()
		return o + e
	}
	last, since := writes(), time.Now()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for time.Since(since) < d && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n := writes(); n != last {
			last, since = n, time.Now()
		}
	}
}

// baseline runs step 3 of BenchmarkOperator.
func (r *result) baseline(b *testing.B, cfg *rest.Config, c client.Client, ns string) {
	ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
	defer cancel()
	rounds := rawRounds + rawRounds%2 // even: each status ends as it was
	var counter benchoperator.Counter
	rc := managerConfig(cfg, &counter)
	wc, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		b.Fatal(err)
	}
	var list v1alpha1.QuotationOrderList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		b.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		errs = make([]error, concurrency)
	)
	start := time.Now()
	for w := range concurrency {
		wg.Go(func() {
			for i := w; i < len(list.Items); i += concurrency {
				qo := &list.Items[i]
				ready := apimeta.FindStatusCondition(qo.Status.Conditions, v1alpha1.ConditionReady)
				if ready == nil {
					errs[w] = fmt.Errorf("quotation order %s has no Ready condition", qo.Name)
					return
				}
				orig := ready.Message
				for round := range rounds {
					base := qo.DeepCopy()
					msg := "raw status write baseline"
					if round%2 == 1 {
						msg = orig
					}
					apimeta.FindStatusCondition(qo.Status.Conditions, v1alpha1.ConditionReady).Message = msg
					if err := wc.Status().Patch(ctx, qo, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
						errs[w] = fmt.Errorf("patch quotation order %s status: %w", qo.Name, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	r.rawElapsed = time.Since(start)
	if err := errors.Join(errs...); err != nil {
		b.Fatalf("baseline: %v", err)
	}
	got, _ := counter.Snapshot().Writes()
	if want := rounds * len(list.Items); got != want {
		b.Fatalf("baseline: counted %d status writes, want %d", got, want)
	}
	r.rawWrites = got
}

// cloneAgreements runs the first half of step 4: it clones the Agreement
// of the first QuotationOrder (spec, finalizer, owner, status with its
// protocol blob, nonce Secret) until ns holds numAgreements Agreements.
func (r *result) cloneAgreements(b *testing.B, c client.Client, ns string) {
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
	defer cancel()
	var qo v1alpha1.QuotationOrder
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "order-00000"}, &qo); err != nil {
		b.Fatal(err)
	}
	if qo.Status.AgreementRef == nil {
		b.Fatalf("quotation order %s has no agreementRef", qo.Name)
	}
	var tmpl v1alpha1.Agreement
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: qo.Status.AgreementRef.Name}, &tmpl); err != nil {
		b.Fatal(err)
	}
	var tsec corev1.Secret
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: tmpl.Name + controllers.AgreementNonceSecretSuffix}, &tsec); err != nil {
		b.Fatal(err)
	}
	b.Logf("heap: template Agreement %s", sizes(b, &tmpl))
	clones := numAgreements - numOrders
	start := time.Now()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make([]error, cloneWorkers)
	)
	for w := range len(errs) {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(clones) {
					return
				}
				if err := cloneAgreement(ctx, c, &tmpl, &tsec, fmt.Sprintf("clone-%05d", i)); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatalf("clone agreements: %v", err)
	}
	r.cloneElapsed = time.Since(start)
	r.agreements = numAgreements
	b.Logf("heap: cloned %d Agreements with their status and nonce Secret in %v", clones, r.cloneElapsed.Round(time.Millisecond))
}

// sizes describes how large agr is as JSON, and its largest parts.
func sizes(b *testing.B, agr *v1alpha1.Agreement) string {
	b.Helper()
	size := func(v any) int {
		raw, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		return len(raw)
	}
	protocol := 0
	if agr.Status.Protocol != nil {
		protocol = len(agr.Status.Protocol.Raw)
	}
	return fmt.Sprintf("%d bytes as JSON: metadata.managedFields %d, spec %d, status %d (status.protocol %d)",
		size(agr), size(agr.ManagedFields), size(agr.Spec), size(agr.Status), protocol)
}

// cloneAgreement creates name as a copy of tmpl (new identifiers and
// contract ID, RFC 8921 §9.2.6) and its nonce Secret as a copy of tsec.
func cloneAgreement(ctx context.Context, c client.Client, tmpl *v1alpha1.Agreement, tsec *corev1.Secret, name string) error {
	agr := &v1alpha1.Agreement{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: tmpl.Namespace, Name: name,
			Finalizers:      tmpl.Finalizers,
			OwnerReferences: tmpl.OwnerReferences,
		},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	if err := c.Create(ctx, agr); err != nil {
		return fmt.Errorf("create agreement %s: %w", name, err)
	}
	st := tmpl.Status.DeepCopy()
	st.ContractID = uuid.NewString()
	st.CustomerOrderID = strings.ReplaceAll(uuid.NewString(), "-", "")
	st.ObservedGeneration, st.AgreedGeneration = agr.Generation, agr.Generation
	for i := range st.Conditions {
		st.Conditions[i].ObservedGeneration = agr.Generation
	}
	agr.Status = *st
	if err := c.Status().Update(ctx, agr); err != nil {
		return fmt.Errorf("write agreement %s status: %w", name, err)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: tmpl.Namespace, Name: name + controllers.AgreementNonceSecretSuffix,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1alpha1.GroupVersion.String(), Kind: "Agreement", Name: name, UID: agr.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Type: tsec.Type,
		Data: tsec.Data,
	}
	if err := c.Create(ctx, s); err != nil {
		return fmt.Errorf("create nonce secret of %s: %w", name, err)
	}
	return nil
}

// measureHeap runs the second half of step 4 with a fresh manager set up
// per setup, and returns its heap. The heap is read once the manager's caches
// have synced (both controllers have finished a reconcile, so their
// sources synced) and the Provider Secret was read; the startup reconciles
// are then still running, which holds a few objects and the queued keys
// (under 1 MB for 11,000 keys). With drain, it then waits until every
// Agreement and QuotationOrder was reconciled once (the
// controller_runtime_reconcile_total counters; the workqueue_depth gauges
// are shared by every manager of the process, so they cannot tell), and
// records that startup work.
func measureHeap(b *testing.B, cfg *rest.Config, setup cacheSetup, drain bool) heap {
	ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
	defer cancel()
	h := heap{setup: setup}
	goruntime.GC()
	goruntime.GC()
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	recBefore := reconcileTotals(b)

	var counter benchoperator.Counter
	start := time.Now()
	stop, mgr := startManagerWith(b, cfg, &counter, setup)
	defer stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	wait := func(what string, cond func(map[string]int) bool) map[string]int {
		for {
			got := subTotals(reconcileTotals(b), recBefore)
			if cond(got) {
				return got
			}
			select {
			case <-ctx.Done():
				b.Fatalf("heap: %v waiting for %s: got reconciles %v", ctx.Err(), what, got)
			case <-tick.C:
			}
		}
	}
	wait("the caches to sync", func(got map[string]int) bool { return got["agreement"] > 0 && got["quotationorder"] > 0 })
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		b.Fatal("heap: the manager's caches did not sync")
	}
	// The first order's ResolveProvider reads the Provider Secret through
	// the manager's client: without ClientOptions that starts a
	// cluster-wide Secret informer and waits for it to sync.
	var s corev1.Secret
	if err := mgr.GetClient().Get(ctx, types.NamespacedName{Namespace: providerNamespace, Name: "acme-tls"}, &s); err != nil {
		b.Fatalf("heap: read the provider secret: %v", err)
	}
	goruntime.GC()
	goruntime.GC()
	goruntime.ReadMemStats(&after)
	h.inuse = int64(after.HeapInuse) - int64(before.HeapInuse)
	h.alloc = int64(after.HeapAlloc) - int64(before.HeapAlloc)
	h.synced = time.Since(start)
	if drain {
		h.reconciles = wait("the startup reconciles", func(got map[string]int) bool {
			return got["agreement"] >= numAgreements && got["quotationorder"] >= numOrders
		})
		h.drained = time.Since(start)
		quiet(ctx, b, &counter, time.Second)
		h.startup = counter.Snapshot()
	}
	goruntime.KeepAlive(mgr)
	return h
}

// providerNamespace is the namespace of the Provider and its Secrets, set
// by provider.
var providerNamespace string

// reconcileTotals returns controller_runtime_reconcile_total per
// controller (all results).
func reconcileTotals(b *testing.B) map[string]int {
	b.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	got := map[string]int{}
	for _, mf := range mfs {
		if mf.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" {
					got[l.GetValue()] += int(m.GetCounter().GetValue())
				}
			}
		}
	}
	return got
}

func subTotals(a, base map[string]int) map[string]int {
	d := map[string]int{}
	for k, v := range a {
		d[k] = v - base[k]
	}
	return d
}

// report prints the figures (step 6): one block for people, and the
// metrics of the benchmark line for tools.
func (r *result) report(b *testing.B) {
	objects, events := r.writes.Writes()
	ordersPerS := float64(numOrders) / r.elapsed.Seconds()
	wpo := float64(objects) / float64(numOrders)
	epo := float64(events) / float64(numOrders)
	rawPerS := float64(r.rawWrites) / r.rawElapsed.Seconds()
	ratio := ordersPerS * wpo / rawPerS
	ratioAll := ordersPerS * (wpo + epo) / rawPerS
	mb := func(n int64) float64 { return float64(n) / (1 << 20) }
	verdict := func(ok bool) string {
		if ok {
			return "meets the target"
		}
		return "MISSES THE TARGET"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nOperator figures (BenchmarkOperator, this run, this machine; concurrency %d):\n", concurrency)
	fmt.Fprintf(&sb, "  orders         %d QuotationOrders Completed, Agreements Ready in %v: %.1f orders/s\n",
		numOrders, r.elapsed.Round(time.Millisecond), ordersPerS)
	fmt.Fprintf(&sb, "  writes         %.2f API writes per order without Events (target <= 6, %s); %.2f Events per order; %.2f with Events\n",
		wpo, verdict(wpo <= 6), epo, wpo+epo)
	for _, k := range r.writes.Sorted() {
		if k.Mutating() {
			fmt.Fprintf(&sb, "                 %-40s %6d  %5.2f/order\n", k, r.writes[k], float64(r.writes[k])/float64(numOrders))
		}
	}
	fmt.Fprintf(&sb, "  reads          %s\n", readsLine(r.writes, numOrders))
	fmt.Fprintf(&sb, "  raw            %d status patches by %d workers in %v: %.0f writes/s\n",
		r.rawWrites, concurrency, r.rawElapsed.Round(time.Millisecond), rawPerS)
	fmt.Fprintf(&sb, "  ratio          %.1f orders/s x %.2f writes/order / %.0f raw writes/s = %.3f (target >= 0.7, %s); with Events %.3f\n",
		ordersPerS, wpo, rawPerS, ratio, verdict(ratio >= 0.7), ratioAll)
	for _, h := range r.heaps {
		fmt.Fprintf(&sb, "  %-14s %.1f MB HeapInuse (%.1f MB HeapAlloc) with %d Agreements, caches synced after %v (%s; target <= 200 MB, %s)\n",
			h.setup, mb(h.inuse), mb(h.alloc), r.agreements, h.synced.Round(time.Millisecond), h.setup.describe(), verdict(mb(h.inuse) <= 200))
		if h.reconciles != nil {
			fmt.Fprintf(&sb, "  %-14s %v to reconcile every object once after a restart: reconciles %v, %s\n",
				"startup", h.drained.Round(time.Millisecond), h.reconciles, startupLine(h.startup))
		}
	}
	fmt.Fprintln(os.Stdout, sb.String())
	b.ReportMetric(ordersPerS, "orders/s")
	b.ReportMetric(wpo, "writes/order")
	b.ReportMetric(epo, "events/order")
	b.ReportMetric(rawPerS, "raw-writes/s")
	b.ReportMetric(ratio, "ratio")
	for _, h := range r.heaps {
		b.ReportMetric(mb(h.inuse), h.setup.metric())
	}
}

// readsLine summarises the non-mutating requests of c per order.
func readsLine(c benchoperator.Counts, n int) string {
	var parts []string
	for _, k := range c.Sorted() {
		if !k.Mutating() && k.Verb == "GET" {
			parts = append(parts, fmt.Sprintf("%s %.2f/order", k, float64(c[k])/float64(n)))
		}
	}
	return strings.Join(parts, ", ")
}

// startupLine summarises the requests of a manager's startup.
func startupLine(c benchoperator.Counts) string {
	objects, events := c.Writes()
	var gets []string
	for _, k := range c.Sorted() {
		if k.Verb == "GET" && c[k] >= 10 {
			gets = append(gets, fmt.Sprintf("%s %d", k, c[k]))
		}
	}
	return fmt.Sprintf("%d writes, %d Events, %s", objects, events, strings.Join(gets, ", "))
}

// --- environment ---------------------------------------------------------

// scheme is cmd/manager's: client-go's kinds and v1alpha1.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(s), v1alpha1.AddToScheme(s)); err != nil {
		panic(err) // the schemes are compiled in: cannot fail
	}
	return s
}()

// apiServer starts the envtest control plane with the CRDs of
// config/crd/bases, stopped when the benchmark ends. Without
// KUBEBUILDER_ASSETS the benchmark is skipped, unless CPNP_REQUIRE_ENVTEST=1.
func apiServer(b *testing.B) *rest.Config {
	b.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		const how = "KUBEBUILDER_ASSETS is not set: run `make bench-operator`"
		if os.Getenv(envRequired) == "1" {
			b.Fatal(how + " (" + envRequired + "=1 requires the API server)")
		}
		b.Skip(how)
	}
	logf.SetLogger(logr.Discard())
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		b.Fatalf("start the control plane from KUBEBUILDER_ASSETS=%s: %v", os.Getenv("KUBEBUILDER_ASSETS"), err)
	}
	b.Cleanup(func() {
		if err := env.Stop(); err != nil {
			b.Errorf("stop envtest: %v", err)
		}
	})
	return cfg
}

// managerConfig is cfg as cmd/manager's ctrl.GetConfig makes it (no
// client-side rate limit: QPS -1, API priority and fairness decides),
// with every request counted.
func managerConfig(cfg *rest.Config, counter *benchoperator.Counter) *rest.Config {
	mc := rest.CopyConfig(cfg)
	mc.QPS, mc.Burst = -1, 0
	mc.WrapTransport = counter.Wrap
	return mc
}

// cacheSetup is how a benchmark manager caches.
type cacheSetup int

const (
	// cacheDefault is controller-runtime's default, cmd/manager before
	// issue #4: every kind read through the client is cached whole,
	// Secrets included.
	cacheDefault cacheSetup = iota
	// cacheNoSecrets adds controllers.ClientOptions: Secrets not cached.
	cacheNoSecrets
	// cacheTuned adds controllers.CacheOptions too: no managedFields
	// (and no last-applied annotation) in the cache. cmd/manager runs so.
	cacheTuned
)

func (c cacheSetup) String() string {
	return [...]string{"heap", "heap -secrets", "heap tuned"}[c]
}

// describe says what c is, for the figures.
func (c cacheSetup) describe() string {
	return [...]string{
		"controller-runtime defaults, cmd/manager before issue #4",
		"+ controllers.ClientOptions: Secrets not cached",
		"+ controllers.CacheOptions: no managedFields; cmd/manager now",
	}[c]
}

// metric is c's unit in the benchmark line.
func (c cacheSetup) metric() string {
	return [...]string{"heap-MB", "heap-nosecrets-MB", "heap-tuned-MB"}[c]
}

// startManager runs a manager wired like cmd/manager (see startManagerWith).
func startManager(b *testing.B, cfg *rest.Config, counter *benchoperator.Counter, setup cacheSetup) (stop func()) {
	b.Helper()
	stop, _ = startManagerWith(b, cfg, counter, setup)
	return stop
}

// startManagerWith runs a manager wired like cmd/manager/main.go: the
// Engine with the flag defaults; the QuotationOrder, Agreement and
// Provider reconcilers with MaxConcurrentReconciles = concurrency; the
// cache set up per setup. Left out: the GarbageCollector (with its
// defaults it deletes the Offers beyond the 100 newest of a namespace, a
// workload of its own that would change what the heap figure holds) and
// the metrics collectors (they run at scrape time, and register once per
// process). stop waits for the manager to return.
func startManagerWith(b *testing.B, cfg *rest.Config, counter *benchoperator.Counter, setup cacheSetup) (func(), ctrl.Manager) {
	b.Helper()
	opts := ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	}
	if setup >= cacheNoSecrets {
		opts.Client = controllers.ClientOptions()
	}
	if setup >= cacheTuned {
		opts.Cache = controllers.CacheOptions()
	}
	mgr, err := ctrl.NewManager(managerConfig(cfg, counter), opts)
	if err != nil {
		b.Fatalf("new manager: %v", err)
	}
	engine, err := controllers.NewEngine(controllers.EngineConfig{
		Mux: cpnpclient.MuxConfig{
			MinBackoff: cpnpclient.DefaultMinBackoff,
			MaxBackoff: cpnpclient.DefaultMaxBackoff,
			StaleAfter: cpnpclient.DefaultStaleAfter,
		},
		SendTimeout: controllers.DefaultSendTimeout,
		InboxLimit:  controllers.DefaultInboxLimit,
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := mgr.Add(engine); err != nil {
		b.Fatal(err)
	}
	copts := controller.Options{MaxConcurrentReconciles: concurrency, SkipNameValidation: ptr.To(true)}
	r := &controllers.QuotationOrderReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Engine: engine,
		Recorder: mgr.GetEventRecorder("cpnp-operator")}
	if err := r.SetupWithManager(mgr, copts); err != nil {
		b.Fatal(err)
	}
	ar := &controllers.AgreementReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Engine: engine,
		Recorder: mgr.GetEventRecorder("cpnp-operator")}
	if err := ar.SetupWithManager(mgr, copts); err != nil {
		b.Fatal(err)
	}
	pr := &controllers.ProviderReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder("cpnp-operator"), CheckInterval: controllers.DefaultProviderCheckInterval}
	if err := pr.SetupWithManager(mgr, copts); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				b.Errorf("manager: %v", err)
			}
		})
	}
	b.Cleanup(stop)
	return stop, mgr
}

// cpnpServer is the in-process CPNP server engine (pkg/cpnp/server).
type cpnpServer struct {
	addr string
}

// startServer runs a server engine over DTLS on 127.0.0.1 with a bbolt
// store in a temporary directory and a policy whose pool "wan" (QoS class
// gold, 99.95 % availability, automatic approval, RFC 8921 §8.2) has room
// for far more than numOrders orders of the sample.
func startServer(b *testing.B, p *cpnptest.PKI) *cpnpServer {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "data"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	gold := policy.QoSClass{Name: "gold", OneWayDelayMs: ptr.To(10.0), DelayVariationMs: ptr.To(2.0), LossRatio: ptr.To(0.0001)}
	pool := policy.Pool{Name: "wan", Capacity: policy.Capacity{IncomingBps: 1e15, OutgoingBps: 1e15},
		QoSClasses: []policy.QoSClass{gold}, AvailabilityPercent: 99.95,
		Approval: policy.Approval{Mode: policy.ApprovalAutomatic}}
	pol, err := policy.New(policy.Config{Pools: []policy.Pool{pool}, Tenants: []policy.Tenant{{Identity: "acme", Pools: []string{"wan"}}}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(server.Config{Policy: pol, Store: st})
	if err != nil {
		b.Fatal(err)
	}
	l, err := transport.ListenDTLS("127.0.0.1:0", transport.Config{Certificates: []tls.Certificate{p.Server}, ClientCAs: p.Pool})
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			b.Errorf("server shutdown: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, server.ErrServerClosed) {
			b.Errorf("Serve: %v", err)
		}
		if err := st.Close(); err != nil {
			b.Errorf("close server store: %v", err)
		}
	})
	return &cpnpServer{addr: l.Addr().String()}
}

// provider creates, in ns, the Secrets of tenant acme (CA and client
// certificate) and the Provider benchProvider for s.
func provider(b *testing.B, c client.Client, ns string, p *cpnptest.PKI, s *cpnpServer) {
	b.Helper()
	cert, err := p.CA.IssueClient("acme", "", pki.DefaultValidity, time.Now().Add(-time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cpnp-ca"}, Data: map[string][]byte{"ca.crt": p.CA.CertPEM}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "acme-tls"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: cert.CertPEM, corev1.TLSPrivateKeyKey: cert.KeyPEM}},
		&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: benchProvider}, Spec: v1alpha1.ProviderSpec{
			Address:                    s.addr,
			ServerName:                 p.ServerName,
			CASecretRef:                &v1alpha1.SecretReference{Name: "cpnp-ca"},
			ClientCertificateSecretRef: v1alpha1.SecretReference{Name: "acme-tls"},
		}},
	}
	for _, o := range objs {
		if err := c.Create(b.Context(), o); err != nil {
			b.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
	providerNamespace = ns
}

// sampleOrder reads config/samples' automatic-acceptance QuotationOrder (a
// CPD with loose values, RFC 8921 §8.7) and points it at benchProvider.
func sampleOrder(b *testing.B) *v1alpha1.QuotationOrder {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", "negotiation_v1alpha1_quotationorder_automatic.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var qo v1alpha1.QuotationOrder
	if err := yaml.UnmarshalStrict(raw, &qo); err != nil {
		b.Fatalf("sample quotation order: %v", err)
	}
	qo.Spec.ProviderRefs = []v1alpha1.ProviderReference{{Kind: v1alpha1.ProviderKindProvider, Name: benchProvider}}
	qo.Spec.Acceptance = v1alpha1.AcceptanceAutomatic
	return &qo
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
