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
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestActivationDue checks when a change of spec.activation opens an
// ACTIVATE transaction: once per generation, never while one is pending,
// never for an acknowledged schedule, and only on an agreement in force.
// Reference: RFC 8921 §9.2.11, §9.2.10 (FAIL ends the transaction); DESIGN §3.
func TestActivationDue(t *testing.T) {
	t.Parallel()
	activate := &v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionActivate}
	deactivate := &v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionDeactivate}
	completed := func() fsm.ClientOrder {
		return fsm.ClientOrder{State: fsm.ClientCompleted, Agreement: &fsm.Agreement{Active: true}, Txn: fsm.Transaction{Kind: fsm.TxnQuotation}}
	}
	sched := wire.ScheduleDeactivate()
	for _, tc := range []struct {
		name     string
		spec     *v1alpha1.ActivationSchedule
		observed *v1alpha1.ActivationSchedule
		// observedGen is status.observedGeneration; the object is at generation 3.
		observedGen int64
		order       func(o *fsm.ClientOrder)
		want        bool
	}{
		{name: "no spec.activation", want: false},
		{name: "new schedule", spec: activate, want: true},
		{name: "acknowledged schedule", spec: activate, observed: activate, want: false},
		{name: "changed after an ACK", spec: deactivate, observed: activate, want: true},
		{name: "ACTIVATE pending", spec: deactivate, want: false, order: func(o *fsm.ClientOrder) {
			o.Txn.Kind, o.Activation = fsm.TxnActivate, &sched
		}},
		{name: "failed for this generation", spec: activate, observedGen: 3, want: false, order: func(o *fsm.ClientOrder) {
			o.Txn.Kind, o.Failure = fsm.TxnActivate, &fsm.Failure{StatusCode: wire.StatusCode(8), Txn: fsm.TxnActivate}
		}},
		{name: "failed for an older generation", spec: activate, observedGen: 2, want: true, order: func(o *fsm.ClientOrder) {
			o.Txn.Kind, o.Failure = fsm.TxnActivate, &fsm.Failure{StatusCode: wire.StatusCode(8), Txn: fsm.TxnActivate}
		}},
		{name: "agreement withdrawn", spec: activate, want: false, order: func(o *fsm.ClientOrder) {
			o.State = fsm.ClientCancelled
		}},
		{name: "no agreement", spec: activate, want: false, order: func(o *fsm.ClientOrder) {
			o.Agreement = nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			agr := &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
			agr.Spec.Activation = tc.spec
			agr.Status.ObservedGeneration = tc.observedGen
			if tc.observed != nil {
				agr.Status.Activation = &v1alpha1.AgreementActivation{State: v1alpha1.ActivationActive, ObservedSchedule: tc.observed}
			}
			o := completed()
			if tc.order != nil {
				tc.order(&o)
			}
			if got := activationDue(agr, &o); got != tc.want {
				t.Errorf("activationDue: got %v, want %v", got, tc.want)
			}
		})
	}
}
