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
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestUpdateDue checks when an edited spec.cpd opens an UPDATE cycle: only
// on an agreement in force with nothing pending, when the CPD differs, and
// once per generation after a failed cycle.
// Reference: RFC 8921 §9.2.9, §11.1.3; DESIGN §3.
func TestUpdateDue(t *testing.T) {
	t.Parallel()
	old := cpd.CPD{Components: []cpd.Component{{CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-1"}},
		Capacity: &cpd.Capacity{IncomingBps: cpd.Fixed(10e6)}}}}
	edited := cpd.CPD{Components: []cpd.Component{{CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-1"}},
		Capacity: &cpd.Capacity{IncomingBps: cpd.Fixed(20e6)}}}}
	sched := wire.ScheduleDeactivate()
	for _, tc := range []struct {
		name   string
		want   cpd.CPD
		agreed int64
		// failedGen, when not zero, is the generation of a failed cycle.
		failedGen int64
		order     func(o *fsm.ClientOrder)
		due       bool
	}{
		{name: "edited CPD", want: edited, agreed: 1, due: true},
		{name: "generation agreed", want: edited, agreed: 3, due: false},
		{name: "same CPD (another field edited)", want: old, agreed: 1, due: false},
		{name: "cycle in progress", want: edited, agreed: 1, due: false, order: func(o *fsm.ClientOrder) {
			o.Update = &fsm.Request{CPD: edited}
		}},
		{name: "ACTIVATE pending", want: edited, agreed: 1, due: false, order: func(o *fsm.ClientOrder) {
			o.Txn.Kind, o.Activation = fsm.TxnActivate, &sched
		}},
		{name: "withdrawn", want: edited, agreed: 1, due: false, order: func(o *fsm.ClientOrder) { o.State = fsm.ClientCancelled }},
		{name: "failed for this generation", want: edited, agreed: 1, failedGen: 3, due: false},
		{name: "failed for an older generation", want: edited, agreed: 1, failedGen: 2, due: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			agr := &v1alpha1.Agreement{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
			agr.Status.AgreedGeneration = tc.agreed
			if tc.failedGen != 0 {
				agr.Status.ObservedGeneration = tc.failedGen
				setStalled(&agr.Status.Conditions, tc.failedGen, ReasonUpdateFailed, "failed")
			}
			o := fsm.ClientOrder{State: fsm.ClientCompleted, Agreement: &fsm.Agreement{CPD: old}, Txn: fsm.Transaction{Kind: fsm.TxnQuotation}}
			if tc.order != nil {
				tc.order(&o)
			}
			if got := updateDue(agr, &o, tc.want); got != tc.due {
				t.Errorf("updateDue: got %v, want %v", got, tc.due)
			}
		})
	}
}

// TestUpdateOfferState checks the Offer state of an UPDATE cycle.
// Reference: RFC 8921 §9.2.9, §9.2.4, §9.2.5, §9.1.8.
func TestUpdateOfferState(t *testing.T) {
	t.Parallel()
	req := &fsm.Request{}
	for _, tc := range []struct {
		name     string
		decision v1alpha1.OfferDecision
		o        fsm.ClientOrder
		updated  bool
		want     v1alpha1.OfferState
	}{
		{name: "open", o: fsm.ClientOrder{State: fsm.ClientOfferProcessing, Update: req}, want: v1alpha1.OfferOpen},
		{name: "accepting", decision: v1alpha1.DecisionAccept, o: fsm.ClientOrder{State: fsm.ClientAcceptSent, Update: req}, want: v1alpha1.OfferAccepting},
		{name: "accepted", decision: v1alpha1.DecisionAccept, o: fsm.ClientOrder{State: fsm.ClientCompleted}, updated: true, want: v1alpha1.OfferAccepted},
		{name: "declined", decision: v1alpha1.DecisionDecline, o: fsm.ClientOrder{State: fsm.ClientCompleted}, want: v1alpha1.OfferDeclined},
		{name: "expired", o: fsm.ClientOrder{State: fsm.ClientCompleted, Failure: &fsm.Failure{Reason: "UpdateOfferExpired"}}, want: v1alpha1.OfferExpired},
		{name: "cancelled", o: fsm.ClientOrder{State: fsm.ClientCompleted, Failure: &fsm.Failure{Reason: "UpdateFailed"}}, want: v1alpha1.OfferCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := updateOfferState(tc.decision, &tc.o, tc.updated); got != tc.want {
				t.Errorf("updateOfferState: got %s, want %s", got, tc.want)
			}
		})
	}
}
