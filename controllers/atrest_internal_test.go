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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
)

// protocolOf encodes o as status.protocol, failing the test on error.
func protocolOf(t *testing.T, o fsm.ClientOrder) *runtime.RawExtension {
	t.Helper()
	raw, _, err := v1alpha1.EncodeProtocol(o)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// cancelSent returns a client order whose QUOTATION was sent and then
// cancelled: Cancelled with its CANCEL awaiting the ACK (RFC 8921 §9.2.7).
func cancelSent(t *testing.T) fsm.ClientOrder {
	t.Helper()
	at := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	c := cpd.CPD{Components: []cpd.Component{{
		CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-par-1"}},
		Capacity:      &cpd.Capacity{IncomingBps: cpd.Fixed(10e6), OutgoingBps: cpd.Fixed(10e6)},
	}}}
	spec := v1alpha1.QuotationOrderSpec{CPD: v1alpha1.CPDFromProtocol(c), ExpectedResponseTime: &metav1.Duration{Duration: time.Minute}}
	req, err := spec.Request(at)
	if err != nil {
		t.Fatal(err)
	}
	m := fsm.DefaultClient()
	o := fsm.NewClientOrder("c0ffee00c0ffee00c0ffee00c0ffee00", req, true)
	o, _ = m.Step(o, fsm.Quote{At: at, TransactionID: "0123456789abcdef0123456789abcdef", Seq: 7})
	o, _ = m.Step(o, fsm.CancelOrder{At: at})
	if o.State != fsm.ClientCancelled || o.Txn.Unanswered == nil || o.Terminal() {
		t.Fatalf("cancelled order: got state %s, unanswered %v, terminal %v; want Cancelled, a CANCEL awaiting its ACK, not terminal",
			o.State, o.Txn.Unanswered != nil, o.Terminal())
	}
	return o
}

// TestOrderAtRest checks the "nothing to do" predicate a QuotationOrder
// reconcile decides on the cached copy, case by case: only an order handed
// over to its Agreement, with every other negotiation over, nothing
// pending from the Engine, nothing unobserved and nothing being deleted.
// Reference: RFC 8921 §8.11.1, §9.2.4, §9.2.6 (hand-over to the Agreement),
// §9.2.7 (CANCEL on deletion), §11.4 (retransmission timers); DESIGN §5.
func TestOrderAtRest(t *testing.T) {
	t.Parallel()
	wan := v1alpha1.ProviderReference{Kind: v1alpha1.ProviderKindProvider, Name: "wan"}
	lan := v1alpha1.ProviderReference{Kind: v1alpha1.ProviderKindProvider, Name: "lan"}
	completed := protocolOf(t, fsm.ClientOrder{State: fsm.ClientCompleted})
	over := protocolOf(t, fsm.ClientOrder{State: fsm.ClientCancelled})
	unanswered := protocolOf(t, cancelSent(t))
	armed := protocolOf(t, fsm.ClientOrder{State: fsm.ClientCancelled,
		Timers: map[fsm.TimerID]time.Time{fsm.TimerRetransmit: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}})
	offering := protocolOf(t, fsm.ClientOrder{State: fsm.ClientOfferProcessing})
	resting := func() *v1alpha1.QuotationOrder {
		return &v1alpha1.QuotationOrder{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "o", Generation: 2, Finalizers: []string{CancelFinalizer}},
			Spec:       v1alpha1.QuotationOrderSpec{ProviderRefs: []v1alpha1.ProviderReference{wan}},
			Status: v1alpha1.QuotationOrderStatus{
				ObservedGeneration: 2,
				State:              v1alpha1.StateCompleted,
				AgreementRef:       &v1alpha1.LocalObjectReference{Name: "o"},
				Providers: []v1alpha1.ProviderNegotiation{{ProviderReference: wan, State: v1alpha1.StateCompleted, Protocol: completed,
					OfferRef: &v1alpha1.LocalObjectReference{Name: "o-wan"}}},
				Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonAgreementReached}},
			},
		}
	}
	// second adds lan, in state st with protocol raw and Offer o-lan.
	second := func(st v1alpha1.ClientState, raw *runtime.RawExtension) func(*v1alpha1.QuotationOrder) {
		return func(qo *v1alpha1.QuotationOrder) {
			qo.Spec.ProviderRefs = append(qo.Spec.ProviderRefs, lan)
			qo.Status.Providers = append(qo.Status.Providers, v1alpha1.ProviderNegotiation{ProviderReference: lan, State: st, Protocol: raw,
				OfferRef: &v1alpha1.LocalObjectReference{Name: "o-lan"}})
		}
	}
	observed := func(name string) bool { return name == "o-lan" }
	// ended makes the order Cancelled without an agreement: wan ended with
	// protocol raw and the Ready reason reason, lan as second(Cancelled, over).
	ended := func(raw *runtime.RawExtension, reason string) func(*v1alpha1.QuotationOrder) {
		return func(qo *v1alpha1.QuotationOrder) {
			second(v1alpha1.StateCancelled, over)(qo)
			qo.Status.State, qo.Status.AgreementRef = v1alpha1.StateCancelled, nil
			qo.Status.Failure = &v1alpha1.Failure{Reason: "Declined"}
			qo.Status.Providers[0].State, qo.Status.Providers[0].Protocol, qo.Status.Providers[0].OfferRef = v1alpha1.StateCancelled, raw, nil
			qo.Status.Conditions[0].Status, qo.Status.Conditions[0].Reason = metav1.ConditionFalse, reason
			qo.Finalizers = nil
		}
	}
	for _, tc := range []struct {
		name   string
		edit   func(*v1alpha1.QuotationOrder)
		view   orderView
		want   bool
		reason string
	}{
		{name: "handed over to its cached Agreement", view: orderView{Agreement: true}, want: true},
		{name: "a message pending in the Engine", view: orderView{Agreement: true, Pending: 1}, want: false},
		{name: "Agreement not cached yet", view: orderView{}, want: false},
		{name: "being deleted", view: orderView{Agreement: true}, want: false, edit: func(qo *v1alpha1.QuotationOrder) {
			qo.DeletionTimestamp = &metav1.Time{Time: time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)}
		}},
		{name: "spec change not observed", view: orderView{Agreement: true}, want: false, edit: func(qo *v1alpha1.QuotationOrder) {
			qo.Generation = 3
		}},
		{name: "no finalizer needed once handed over", view: orderView{Agreement: true}, want: true, edit: func(qo *v1alpha1.QuotationOrder) {
			qo.Finalizers = nil
		}},
		{name: "not completed", view: orderView{Agreement: true}, want: false, edit: func(qo *v1alpha1.QuotationOrder) {
			qo.Status.State = v1alpha1.StateAcceptSent
		}},
		{name: "completed, no agreementRef yet", view: orderView{Agreement: true}, want: false, edit: func(qo *v1alpha1.QuotationOrder) {
			qo.Status.AgreementRef = nil
		}},
		{name: "status.failure to clear", view: orderView{Agreement: true}, want: false, edit: func(qo *v1alpha1.QuotationOrder) {
			qo.Status.Failure = &v1alpha1.Failure{Reason: "X"}
		}},
		{name: "Ready not written yet", view: orderView{Agreement: true}, want: false, edit: func(qo *v1alpha1.QuotationOrder) {
			qo.Status.Conditions = nil
		}},
		{name: "withdrawn and gone", view: orderView{}, want: true, edit: func(qo *v1alpha1.QuotationOrder) {
			qo.Status.Conditions[0].Reason = ReasonAgreementWithdrawn
		}},
		{name: "withdrawn but an Agreement is cached", view: orderView{Agreement: true}, want: false, edit: func(qo *v1alpha1.QuotationOrder) {
			qo.Status.Conditions[0].Reason = ReasonAgreementWithdrawn
		}},
		{name: "other provider never contacted", view: orderView{Agreement: true}, want: true, edit: func(qo *v1alpha1.QuotationOrder) {
			qo.Spec.ProviderRefs = append(qo.Spec.ProviderRefs, lan)
		}},
		{name: "other negotiation over, Offer observed", view: orderView{Agreement: true, OfferObserved: observed}, want: true,
			edit: second(v1alpha1.StateCancelled, over)},
		{name: "other negotiation over, Offer not observed", view: orderView{Agreement: true, OfferObserved: func(string) bool { return false }},
			want: false, edit: second(v1alpha1.StateCancelled, over)},
		{name: "other negotiation over, no Offer lookup", view: orderView{Agreement: true}, want: false,
			edit: second(v1alpha1.StateCancelled, over)},
		{name: "other CANCEL unanswered", view: orderView{Agreement: true, OfferObserved: observed}, want: false,
			edit: second(v1alpha1.StateCancelled, unanswered)},
		{name: "other negotiation with a timer armed", view: orderView{Agreement: true, OfferObserved: observed}, want: false,
			edit: second(v1alpha1.StateCancelled, armed)},
		{name: "other offer still open", view: orderView{Agreement: true, OfferObserved: observed}, want: false,
			edit: second(v1alpha1.StateOfferProcessing, offering)},
		{name: "other protocol state undecodable", view: orderView{Agreement: true, OfferObserved: observed}, want: false,
			edit: second(v1alpha1.StateCancelled, &runtime.RawExtension{Raw: []byte("{")})},
		{name: "ended: every negotiation over", view: orderView{OfferObserved: observed}, want: true, edit: ended(over, ReasonNegotiationEnded)},
		{name: "ended by a FAIL", view: orderView{OfferObserved: observed}, want: true, edit: ended(over, ReasonServerFailed)},
		{name: "ended, CANCEL unanswered", view: orderView{OfferObserved: observed}, want: false, edit: ended(unanswered, ReasonNegotiationEnded)},
		{name: "ended, provider never contacted", view: orderView{OfferObserved: observed}, want: false, edit: func(qo *v1alpha1.QuotationOrder) {
			ended(over, ReasonNegotiationEnded)(qo)
			qo.Spec.ProviderRefs = append(qo.Spec.ProviderRefs, v1alpha1.ProviderReference{Name: "dc"})
		}},
		{name: "ended but a provider unavailable", view: orderView{OfferObserved: observed}, want: false,
			edit: ended(over, ReasonProviderUnavailable)},
		{name: "ended, a message pending", view: orderView{OfferObserved: observed, Pending: 1}, want: false,
			edit: ended(over, ReasonNegotiationEnded)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			qo := resting()
			if tc.edit != nil {
				tc.edit(qo)
			}
			if got := orderAtRest(qo, tc.view); got != tc.want {
				t.Errorf("orderAtRest: got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestAgreementAtRest checks the "nothing to do" predicate an Agreement
// reconcile decides on the cached copy: an agreement in force with no
// ACTIVATE, UPDATE or WITHDRAW to start or in flight and nothing pending.
// Reference: RFC 8921 §9.2.8 (WITHDRAW), §9.2.9 (UPDATE), §9.2.11
// (ACTIVATE), §11.4; DESIGN §4 (write-ahead), §5.
func TestAgreementAtRest(t *testing.T) {
	t.Parallel()
	activate := &v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionActivate}
	deactivate := &v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionDeactivate}
	resting := func() *v1alpha1.Agreement {
		return &v1alpha1.Agreement{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a", Generation: 1, Finalizers: []string{WithdrawFinalizer}},
			Status: v1alpha1.AgreementStatus{
				ObservedGeneration: 1,
				AgreedGeneration:   1,
				State:              v1alpha1.AgreementEstablished,
				Protocol:           &runtime.RawExtension{Raw: []byte(`{"state":"Completed"}`)},
				Conditions:         []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonAgreementReached}},
			},
		}
	}
	for _, tc := range []struct {
		name    string
		edit    func(*v1alpha1.Agreement)
		pending int
		want    bool
	}{
		{name: "established, nothing asked", want: true},
		{name: "a message pending in the Engine", pending: 2, want: false},
		{name: "being deleted", want: false, edit: func(a *v1alpha1.Agreement) {
			a.DeletionTimestamp = &metav1.Time{Time: time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)}
		}},
		{name: "finalizer missing", want: false, edit: func(a *v1alpha1.Agreement) { a.Finalizers = nil }},
		{name: "created, status not written yet", want: true, edit: func(a *v1alpha1.Agreement) { a.Status = v1alpha1.AgreementStatus{} }},
		{name: "created without finalizer", want: false, edit: func(a *v1alpha1.Agreement) {
			a.Status, a.Finalizers = v1alpha1.AgreementStatus{}, nil
		}},
		{name: "deleted before its status was written", want: false, edit: func(a *v1alpha1.Agreement) {
			a.Status = v1alpha1.AgreementStatus{}
			a.DeletionTimestamp = &metav1.Time{Time: time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)}
		}},
		{name: "ACTIVATE in flight", want: false, edit: func(a *v1alpha1.Agreement) { a.Status.State = v1alpha1.AgreementActivating }},
		{name: "UPDATE in flight", want: false, edit: func(a *v1alpha1.Agreement) { a.Status.State = v1alpha1.AgreementUpdating }},
		{name: "spec changed, not observed", want: false, edit: func(a *v1alpha1.Agreement) { a.Generation = 2 }},
		{name: "spec changed and acted on (UPDATE failed)", want: true, edit: func(a *v1alpha1.Agreement) {
			a.Generation, a.Status.ObservedGeneration = 2, 2
			a.Status.Conditions[0].Reason = ReasonUpdateFailed
		}},
		{name: "new spec.activation", want: false, edit: func(a *v1alpha1.Agreement) {
			a.Generation, a.Spec.Activation = 2, activate
		}},
		{name: "spec.activation acknowledged", want: true, edit: func(a *v1alpha1.Agreement) {
			a.Generation, a.Status.ObservedGeneration, a.Spec.Activation = 2, 2, activate
			a.Status.Activation = &v1alpha1.AgreementActivation{State: v1alpha1.ActivationActive, ObservedSchedule: activate.DeepCopy()}
		}},
		{name: "spec.activation changed after an ACK", want: false, edit: func(a *v1alpha1.Agreement) {
			a.Generation, a.Status.ObservedGeneration, a.Spec.Activation = 3, 2, deactivate
			a.Status.Activation = &v1alpha1.AgreementActivation{State: v1alpha1.ActivationActive, ObservedSchedule: activate.DeepCopy()}
		}},
		{name: "ACTIVATE failed for this generation", want: true, edit: func(a *v1alpha1.Agreement) {
			a.Generation, a.Status.ObservedGeneration, a.Spec.Activation = 2, 2, activate
			a.Status.Conditions[0].Reason = ReasonActivationFailed
		}},
		{name: "ACTIVATE failed for an older generation", want: false, edit: func(a *v1alpha1.Agreement) {
			a.Generation, a.Status.ObservedGeneration, a.Status.AgreedGeneration, a.Spec.Activation = 3, 2, 3, activate
			a.Status.Conditions[0].Reason = ReasonActivationFailed
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := resting()
			if tc.edit != nil {
				tc.edit(a)
			}
			if got := agreementAtRest(a, tc.pending); got != tc.want {
				t.Errorf("agreementAtRest: got %v, want %v", got, tc.want)
			}
		})
	}
}
