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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// approvalLabel switches the approval gate on in a namespace
// (config/admission/approval_binding.yaml, docs/approval.md).
const approvalLabel = "negotiation.cpnp.dev/approval"

// TestApprovalGate applies the shipped approval gate (config/admission) and
// tenant roles (config/rbac) to the envtest API server and checks, with
// real users authorized by RBAC, that in a namespace labelled for the gate
// only a holder of the `approve` verb can let an order leave state
// Created, that the gate is off elsewhere, and that the operator, running
// as an identity with only manager-role (no `approve`), still writes status
// and negotiates the approved order to Completed.
// Reference: RFC 8921 §8.11.1 (Created: "not handled by the client until
// the administrator allows it to be processed"; AwaitingProcessing: "the
// administrator has approved"), Figure 8; DESIGN §5 (approval).
func TestApprovalGate(t *testing.T) {
	c := apiServer(t)
	ac := gateClient(t, apiCfg)
	requireVAPServed(t)

	// The shipped manifests, read from disk so that they are what is tested.
	for _, m := range []struct {
		path string
		obj  client.Object
	}{
		{filepath.Join("..", "config", "admission", "approval_policy.yaml"), &admissionregistrationv1.ValidatingAdmissionPolicy{}},
		{filepath.Join("..", "config", "admission", "approval_binding.yaml"), &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}},
		{filepath.Join("..", "config", "rbac", "approver_role.yaml"), &rbacv1.ClusterRole{}},
		{filepath.Join("..", "config", "rbac", "editor_role.yaml"), &rbacv1.ClusterRole{}},
		{filepath.Join("..", "config", "rbac", "role.yaml"), &rbacv1.ClusterRole{}},
	} {
		apply(t, ac, readManifest(t, m.path, m.obj))
	}

	gated := namespace(t, c, "approval-gated")
	labelNamespace(t, c, gated, map[string]string{approvalLabel: "required"})
	open := namespace(t, c, "approval-open")

	// Users: a tenant (editor role in both namespaces), an approver
	// (approver role), a lead (both roles) and the operator (manager-role,
	// cluster-wide, as config/rbac/role_binding.yaml binds it).
	tenant := addUser(t, "tenant-"+gated)
	approver := addUser(t, "approver-"+gated)
	lead := addUser(t, "lead-"+gated)
	operator := addUser(t, "operator-"+gated)
	bind(t, ac, gated, "tenant-editor", "cpnp-quotationorder-editor", tenant.name)
	bind(t, ac, open, "tenant-editor", "cpnp-quotationorder-editor", tenant.name)
	bind(t, ac, gated, "approver", "cpnp-quotationorder-approver", approver.name)
	bind(t, ac, gated, "lead-editor", "cpnp-quotationorder-editor", lead.name)
	bind(t, ac, gated, "lead-approver", "cpnp-quotationorder-approver", lead.name)
	apply(t, ac, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "cpnp-approval-test-" + gated},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "manager-role"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: operator.name}},
	})

	// What RBAC lets each user do, once the bindings are in the
	// authorizer's cache (it fills asynchronously; this bounds the wait).
	qo := func(ns, verb string) authorizationv1.ResourceAttributes {
		return authorizationv1.ResourceAttributes{Group: v1alpha1.GroupVersion.Group, Resource: "quotationorders", Namespace: ns, Verb: verb}
	}
	status := authorizationv1.ResourceAttributes{Group: v1alpha1.GroupVersion.Group, Resource: "quotationorders",
		Subresource: "status", Namespace: gated, Verb: "patch"}
	for _, a := range []struct {
		who   gateUser
		attrs authorizationv1.ResourceAttributes
		want  bool
	}{
		{tenant, qo(gated, "create"), true},
		{tenant, qo(open, "create"), true},
		{approver, qo(gated, "approve"), true},
		{lead, qo(gated, "approve"), true},
		{operator, qo("", "list"), true},
		{operator, status, true},
		{tenant, qo(gated, "approve"), false},
		{approver, qo(gated, "create"), false},
		{operator, qo(gated, "approve"), false},
	} {
		waitAccess(t, a.who, a.attrs, a.want)
	}

	// The policy is enforced asynchronously after it is created: probe
	// with a dry-run create until the gate refuses it.
	waitGateOn(t, tenant.c, gated)

	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, gated, "wan", p, srv)
	provider(t, c, open, "wan", p, srv)
	managerOpts(t, mgrOpts{cfg: operator.cfg})

	// Admission of creates, dry-run so that nothing is negotiated (dry-run
	// requests run validating admission).
	// Reference: RFC 8921 §8.11.1 (only the administrator lets an order
	// leave Created); DESIGN §5 (approval defaults to Approved).
	t.Run("create", func(t *testing.T) {
		tests := []struct {
			name     string
			as       gateUser
			ns       string
			approval v1alpha1.ApprovalState // "" leaves it out (the CRD defaults it to Approved)
			denied   bool
		}{
			{name: "tenant, Pending, gated", as: tenant, ns: gated, approval: v1alpha1.ApprovalPending},
			{name: "tenant, omitted, gated", as: tenant, ns: gated, denied: true},
			{name: "tenant, Approved, gated", as: tenant, ns: gated, approval: v1alpha1.ApprovalApproved, denied: true},
			{name: "lead, Approved, gated", as: lead, ns: gated, approval: v1alpha1.ApprovalApproved},
			{name: "lead, omitted, gated", as: lead, ns: gated},
			{name: "tenant, omitted, gate off", as: tenant, ns: open},
			{name: "tenant, Approved, gate off", as: tenant, ns: open, approval: v1alpha1.ApprovalApproved},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				o := order(tc.ns, "probe", "wan", "gold", v1alpha1.AcceptanceAutomatic)
				o.Spec.Approval = tc.approval
				err := tc.as.c.Create(ctxFor(t), o, client.DryRunAll)
				checkGate(t, err, tc.ns, tc.denied, "CREATE")
			})
		}
	})

	// A tenant's Pending order stays in Created and sends nothing; the
	// operator (without `approve`) writes its status.
	// Reference: RFC 8921 §8.11.1 (Created: "not handled by the client").
	held := order(gated, "held", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	held.Spec.Approval = v1alpha1.ApprovalPending
	if err := tenant.c.Create(ctxFor(t), held); err != nil {
		t.Fatalf("tenant creates a Pending order: got %v, want it allowed", err)
	}
	held = waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: held.ObjectMeta}, "Reconciling reason AwaitingApproval",
		func(o *v1alpha1.QuotationOrder) bool {
			r := condition(o.Status.Conditions, v1alpha1.ConditionReconciling)
			return r != nil && r.Status == metav1.ConditionTrue && r.Reason == controllers.ReasonAwaitingApproval
		})
	if got, want := held.Status.State, v1alpha1.StateCreated; got != want {
		t.Errorf("Pending order status.state: got %s, want %s (RFC 8921 §8.11.1)", got, want)
	}
	if r := condition(held.Status.Conditions, v1alpha1.ConditionReady); r == nil || r.Reason != controllers.ReasonAwaitingApproval {
		t.Errorf("Pending order Ready: got %+v, want reason %s", r, controllers.ReasonAwaitingApproval)
	}
	if got := len(srv.srv.List()); got != 0 {
		t.Errorf("server orders while Pending: got %d, want 0 (nothing is sent from Created)", got)
	}

	approve := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"approval":"Approved"}}`))
	t.Run("update", func(t *testing.T) {
		// Edits that leave spec.approval alone are not gated.
		label := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"wan"}}}`))
		if err := tenant.c.Patch(ctxFor(t), held.DeepCopy(), label); err != nil {
			t.Errorf("tenant labels a Pending order: got %v, want it allowed", err)
		}
		// Reference: RFC 8921 §8.11.1: only the administrator approves.
		err := tenant.c.Patch(ctxFor(t), held.DeepCopy(), approve)
		checkGate(t, err, gated, true, "UPDATE")
		var got v1alpha1.QuotationOrder
		if err := c.Get(ctxFor(t), client.ObjectKeyFromObject(held), &got); err != nil {
			t.Fatal(err)
		}
		if got.Spec.Approval != v1alpha1.ApprovalPending {
			t.Errorf("spec.approval after the refused patch: got %s, want Pending", got.Spec.Approval)
		}
	})
	if got := len(srv.srv.List()); got != 0 {
		t.Errorf("server orders after the refused approval: got %d, want 0", got)
	}

	// The approver approves; the order leaves Created for
	// AwaitingProcessing and negotiates to Completed.
	// Reference: RFC 8921 §8.11.1, Figure 8 (Created -> AwaitingProcessing).
	if err := approver.c.Patch(ctxFor(t), held.DeepCopy(), approve); err != nil {
		t.Fatalf("approver approves: got %v, want it allowed", err)
	}
	done := waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: held.ObjectMeta}, "Ready=True", func(o *v1alpha1.QuotationOrder) bool {
		r := condition(o.Status.Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Status == metav1.ConditionTrue
	})
	if got, want := done.Status.State, v1alpha1.StateCompleted; got != want {
		t.Errorf("approved order status.state: got %s, want %s", got, want)
	}
	if len(done.Status.History) == 0 {
		t.Fatalf("history: empty, want Created -> AwaitingProcessing first")
	}
	first := done.Status.History[0]
	if diff := cmp.Diff([2]string{"Created", "AwaitingProcessing"}, [2]string{first.From, first.To}); diff != "" {
		t.Errorf("first transition (-want +got):\n%s", diff)
	}
	var states []string
	for _, h := range done.Status.History {
		if h.To != string(v1alpha1.StateServerProcessing) { // PROCESSING is the server's choice (§9.2.2)
			states = append(states, h.To)
		}
	}
	want := []string{"AwaitingProcessing", "PQOSent", "OfferReceived", "OfferProcessing", "AcceptSent", "Completed"}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("history states (-want +got):\n%s", diff)
	}
	if got := len(srv.srv.List()); got != 1 {
		t.Errorf("server orders after approval: got %d, want 1", got)
	}
}

// checkGate checks the outcome of a request that the approval gate of
// namespace ns allows (denied false) or refuses with its message.
func checkGate(t *testing.T, err error, ns string, denied bool, op string) {
	t.Helper()
	if !denied {
		if err != nil {
			t.Errorf("%s: got %v, want it allowed", op, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s: got it allowed, want it refused by the approval gate", op)
	}
	t.Logf("%s refused: %v", op, err)
	if !apierrors.IsForbidden(err) {
		t.Errorf("%s: got %v (reason %s), want reason Forbidden", op, err, apierrors.ReasonForError(err))
	}
	for _, want := range []string{
		"spec.approval: only a user allowed to 'approve' quotationorders in namespace " + ns + " may set Approved",
		"the approval gate is on: namespace label " + approvalLabel + "=required",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got message %q, want it to contain %q", op, err.Error(), want)
		}
	}
}

// gateUser is an envtest user authenticated by a client certificate and
// authorized by RBAC, with a client.
type gateUser struct {
	name string
	cfg  *rest.Config
	c    client.Client
}

// addUser provisions user name (no groups beyond system:authenticated).
func addUser(t *testing.T, name string) gateUser {
	t.Helper()
	u, err := apiEnv.AddUser(envtest.User{Name: name}, nil)
	if err != nil {
		t.Fatalf("add user %s: %v", name, err)
	}
	cfg := u.Config()
	return gateUser{name: name, cfg: cfg, c: gateClient(t, cfg)}
}

var (
	gateSchemeOnce sync.Once
	gateScheme     *runtime.Scheme
	gateSchemeErr  error
)

// gateSchemeFor returns the scheme of the approval gate's test: the shared
// one's kinds plus RBAC, admission registration and authorization.
func gateSchemeFor(t *testing.T) *runtime.Scheme {
	t.Helper()
	gateSchemeOnce.Do(func() {
		gateScheme = runtime.NewScheme()
		gateSchemeErr = errors.Join(corev1.AddToScheme(gateScheme), rbacv1.AddToScheme(gateScheme),
			admissionregistrationv1.AddToScheme(gateScheme), authorizationv1.AddToScheme(gateScheme),
			v1alpha1.AddToScheme(gateScheme))
	})
	if gateSchemeErr != nil {
		t.Fatal(gateSchemeErr)
	}
	return gateScheme
}

// gateClient returns a client for cfg with the scheme of gateSchemeFor.
func gateClient(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	c, err := client.New(cfg, client.Options{Scheme: gateSchemeFor(t)})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return c
}

// requireVAPServed fails the test unless the API server serves
// ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in
// Kubernetes 1.30).
func requireVAPServed(t *testing.T) {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(apiCfg)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := dc.ServerResourcesForGroupVersion(admissionregistrationv1.SchemeGroupVersion.String())
	if err != nil {
		t.Fatalf("discovery of %s: %v", admissionregistrationv1.SchemeGroupVersion, err)
	}
	var served []string
	for _, r := range rl.APIResources {
		served = append(served, r.Name)
	}
	for _, want := range []string{"validatingadmissionpolicies", "validatingadmissionpolicybindings"} {
		if !slices.Contains(served, want) {
			t.Fatalf("%s serves %v, want %s: the approval gate needs it", admissionregistrationv1.SchemeGroupVersion, served, want)
		}
	}
}

// readManifest decodes the YAML file at path into obj, strictly (an
// unknown field fails the test), and checks its apiVersion and kind.
func readManifest(t *testing.T, path string, obj client.Object) client.Object {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	want, err := apiutil.GVKForObject(obj, gateSchemeFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := obj.GetObjectKind().GroupVersionKind(); got != want {
		t.Fatalf("%s: got %s, want %s", path, got, want)
	}
	return obj
}

// apply creates obj, or replaces the object of the same name (an earlier
// -count run), and deletes it when the test ends.
func apply(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	ctx := ctxFor(t)
	err := c.Create(ctx, obj.DeepCopyObject().(client.Object))
	if apierrors.IsAlreadyExists(err) {
		cur := obj.DeepCopyObject().(client.Object)
		if err = c.Get(ctx, client.ObjectKeyFromObject(obj), cur); err == nil {
			upd := obj.DeepCopyObject().(client.Object)
			upd.SetResourceVersion(cur.GetResourceVersion())
			err = c.Update(ctx, upd)
		}
	}
	if err != nil {
		t.Fatalf("apply %T %s: %v", obj, obj.GetName(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Delete(ctx, obj.DeepCopyObject().(client.Object)); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete %T %s: %v", obj, obj.GetName(), err)
		}
	})
}

// labelNamespace adds labels to namespace ns.
func labelNamespace(t *testing.T, c client.Client, ns string, labels map[string]string) {
	t.Helper()
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	patch := client.MergeFrom(obj.DeepCopy())
	obj.Labels = labels
	if err := c.Patch(ctxFor(t), obj, patch); err != nil {
		t.Fatalf("label namespace %s: %v", ns, err)
	}
}

// bind binds ClusterRole role to user in namespace ns.
func bind(t *testing.T, c client.Client, ns, name, role, user string) {
	t.Helper()
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if err := c.Create(ctxFor(t), rb); err != nil {
		t.Fatalf("bind %s to %s in %s: %v", role, user, ns, err)
	}
}

// waitAccess polls a SelfSubjectAccessReview of u for attrs until its
// answer is want (RBAC's cache fills asynchronously after a binding is
// created), bounded by ctxFor.
func waitAccess(t *testing.T, u gateUser, attrs authorizationv1.ResourceAttributes, want bool) {
	t.Helper()
	ctx := ctxFor(t)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		r := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: ptr.To(attrs)}}
		err := u.c.Create(ctx, r)
		if err == nil && r.Status.Allowed == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s may %s %s/%s in %q: got allowed=%t (error %v), want %t",
				u.name, attrs.Verb, attrs.Resource, attrs.Subresource, attrs.Namespace, r.Status.Allowed, err, want)
		case <-tick.C:
		}
	}
}

// waitGateOn polls a dry-run create of an order with spec.approval
// omitted, as a user who may create but not approve, until the approval
// gate of namespace ns refuses it (the policy and its binding take effect
// asynchronously), bounded by ctxFor.
func waitGateOn(t *testing.T, c client.Client, ns string) {
	t.Helper()
	ctx := ctxFor(t)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Create(ctx, order(ns, "gate-probe", "wan", "gold", v1alpha1.AcceptanceAutomatic), client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), "spec.approval: only a user allowed to 'approve'") {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the approval gate did not refuse an unapproved order in %s (last error %v)", ns, err)
		case <-tick.C:
		}
	}
}
