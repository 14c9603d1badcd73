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
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/server"
)

// agreementFor negotiates qo to an Agreement (Automatic acceptance) and
// returns the Agreement once it carries the withdraw finalizer and its
// status.
func agreementFor(t *testing.T, c client.Client, qo *v1alpha1.QuotationOrder) *v1alpha1.Agreement {
	t.Helper()
	if err := c.Create(ctxFor(t), qo); err != nil {
		t.Fatal(err)
	}
	qo = waitFor(t, c, &v1alpha1.QuotationOrder{ObjectMeta: qo.ObjectMeta}, "Ready=True", func(o *v1alpha1.QuotationOrder) bool {
		r := condition(o.Status.Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Status == metav1.ConditionTrue
	})
	return waitFor(t, c, &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Namespace: qo.Namespace, Name: qo.Status.AgreementRef.Name}},
		"a contract ID and the finalizer", func(a *v1alpha1.Agreement) bool {
			return a.Status.ContractID != "" && a.Status.Activation != nil && len(a.Finalizers) > 0
		})
}

// setActivation sets spec.activation of agr.
func setActivation(t *testing.T, c client.Client, agr *v1alpha1.Agreement, s v1alpha1.ActivationSchedule) {
	t.Helper()
	base := agr.DeepCopy()
	agr.Spec.Activation = &s
	if err := c.Patch(ctxFor(t), agr, client.MergeFrom(base)); err != nil {
		t.Fatalf("set spec.activation: %v", err)
	}
}

// TestActivateExplicit negotiates an agreement with activation type
// Explicit, which starts Inactive; setting spec.activation to Activate runs
// an ACTIVATE whose ACK makes it Active (on the server too), and Deactivate
// then makes it Inactive again.
// Reference: RFC 8921 §9.1.10.3, §9.2.11, §9.2.6; DESIGN §3, §4, §5.
func TestActivateExplicit(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "activate")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	manager(t)

	qo := order(ns, "explicit", "wan", "gold", v1alpha1.AcceptanceAutomatic)
	qo.Spec.NegotiationOptions = &v1alpha1.NegotiationOptions{ActivationType: v1alpha1.ActivationExplicit}
	agr := agreementFor(t, c, qo)
	if got, want := agr.Status.ActivationType, v1alpha1.ActivationExplicit; got != want {
		t.Fatalf("status.activationType: got %s, want %s", got, want)
	}
	if got, want := agr.Status.Activation.State, v1alpha1.ActivationInactive; got != want {
		t.Fatalf("status.activation.state before ACTIVATE: got %s, want %s", got, want)
	}
	poid := agr.Status.ProviderOrderID

	for _, step := range []struct {
		sched  v1alpha1.ActivationSchedule
		want   v1alpha1.ActivationState
		active bool
	}{
		{v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionActivate}, v1alpha1.ActivationActive, true},
		{v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionDeactivate}, v1alpha1.ActivationInactive, false},
	} {
		tid := agr.Status.TransactionID
		setActivation(t, c, agr, step.sched)
		agr = waitFor(t, c, agr, "the ACK of "+string(step.sched.Action), func(a *v1alpha1.Agreement) bool {
			return a.Status.Activation != nil && a.Status.Activation.ObservedSchedule != nil &&
				a.Status.Activation.ObservedSchedule.Action == step.sched.Action
		})
		if got := agr.Status.Activation.State; got != step.want {
			t.Errorf("%s: status.activation.state: got %s, want %s", step.sched.Action, got, step.want)
		}
		if diff := cmp.Diff(agr.Spec.Activation, agr.Status.Activation.ObservedSchedule); diff != "" {
			t.Errorf("%s: observedSchedule (-spec +status):\n%s", step.sched.Action, diff)
		}
		if agr.Status.TransactionID == tid {
			t.Errorf("%s: transactionID: got %s again, want a new transaction (RFC 8921 §8.4)", step.sched.Action, tid)
		}
		if r := condition(agr.Status.Conditions, v1alpha1.ConditionReady); r == nil || r.Status != metav1.ConditionTrue || r.Reason != controllers.ReasonActivated {
			t.Errorf("%s: Ready: got %+v, want True with reason %s", step.sched.Action, r, controllers.ReasonActivated)
		}
		if got, want := agr.Status.State, v1alpha1.AgreementEstablished; got != want {
			t.Errorf("%s: status.state: got %s, want %s", step.sched.Action, got, want)
		}
		d := waitServer(t, srv, poid, "the agreement", func(d server.OrderDetail) bool { return d.Agreement != nil })
		if d.Agreement.Active != step.active {
			t.Errorf("%s: server agreement active: got %v, want %v", step.sched.Action, d.Agreement.Active, step.active)
		}
	}
	waitEvent(t, c, ns, agr.Name, corev1.EventTypeNormal, controllers.ReasonActivated)
}

// TestActivateRefused sets spec.activation on an agreement negotiated
// without activation type Explicit: the server answers FAIL 8, and the
// Agreement shows the code in status.failure with Stalled=True and a
// Warning Event, its activation state unchanged.
// Reference: RFC 8921 §9.2.11, §9.2.10 Table 4 (code 8); DESIGN §3, §5.
func TestActivateRefused(t *testing.T) {
	c := apiServer(t)
	ns := namespace(t, c, "activate-fail")
	p := cpnptest.NewPKI(t)
	srv := startServer(t, p, 0)
	provider(t, c, ns, "wan", p, srv)
	manager(t)

	agr := agreementFor(t, c, order(ns, "immediate", "wan", "gold", v1alpha1.AcceptanceAutomatic))
	before := agr.Status.Activation.DeepCopy()
	setActivation(t, c, agr, v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionActivate})
	agr = waitFor(t, c, agr, "Stalled=True", func(a *v1alpha1.Agreement) bool {
		s := condition(a.Status.Conditions, v1alpha1.ConditionStalled)
		return s != nil && s.Status == metav1.ConditionTrue
	})
	if s := condition(agr.Status.Conditions, v1alpha1.ConditionStalled); s.Reason != controllers.ReasonActivationFailed {
		t.Errorf("Stalled reason: got %s, want %s", s.Reason, controllers.ReasonActivationFailed)
	}
	f := agr.Status.Failure
	if f == nil || f.StatusCode == nil || *f.StatusCode != 8 || f.Sender != v1alpha1.FailureSenderServer {
		t.Fatalf("status.failure: got %+v, want statusCode 8 from the server", f)
	}
	if diff := cmp.Diff(before, agr.Status.Activation); diff != "" {
		t.Errorf("status.activation changed by a refused ACTIVATE (-before +after):\n%s", diff)
	}
	if got, want := agr.Status.State, v1alpha1.AgreementEstablished; got != want {
		t.Errorf("status.state: got %s, want %s", got, want)
	}
	if d, ok := srv.srv.Get(agr.Status.ProviderOrderID); !ok || d.Agreement == nil {
		t.Errorf("server order: got %+v (found %v), want the agreement still in force", d.OrderSummary, ok)
	}
	waitEvent(t, c, ns, agr.Name, corev1.EventTypeWarning, controllers.ReasonActivationFailed)
}
