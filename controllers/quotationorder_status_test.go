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

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

func ptrTo[T any](v T) *T { return &v }

// TestPhaseAndConditions checks the kstatus conditions derived from an
// order's status: Ready only with an agreement, Stalled only for terminal
// outcomes (a server FAIL, a negotiation that ended), Reconciling
// otherwise, all with the object's generation.
// Reference: RFC 8921 §8.11.1 Figure 8, §9.2.10; DESIGN §5; STYLE §3.
func TestPhaseAndConditions(t *testing.T) {
	t.Parallel()
	type want struct {
		reason                      string
		ready, reconciling, stalled metav1.ConditionStatus
	}
	tests := map[string]struct {
		status   v1alpha1.QuotationOrderStatus
		approval v1alpha1.ApprovalState
		want     want
	}{
		"first reconcile": {
			want: want{ReasonNegotiating, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse},
		},
		"pending approval": {
			status:   v1alpha1.QuotationOrderStatus{State: v1alpha1.StateCreated},
			approval: v1alpha1.ApprovalPending,
			want:     want{ReasonAwaitingApproval, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse},
		},
		"quotation sent": {
			status: v1alpha1.QuotationOrderStatus{State: v1alpha1.StatePQOSent},
			want:   want{ReasonNegotiating, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse},
		},
		"offer received": {
			status: v1alpha1.QuotationOrderStatus{State: v1alpha1.StateOfferProcessing},
			want:   want{ReasonOfferReceived, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse},
		},
		"accept sent": {
			status: v1alpha1.QuotationOrderStatus{State: v1alpha1.StateAcceptSent},
			want:   want{ReasonOfferReceived, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse},
		},
		"completed without agreement object yet": {
			status: v1alpha1.QuotationOrderStatus{State: v1alpha1.StateCompleted},
			want:   want{ReasonOfferReceived, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse},
		},
		"agreement": {
			status: v1alpha1.QuotationOrderStatus{State: v1alpha1.StateCompleted, AgreementRef: &v1alpha1.LocalObjectReference{Name: "a"}},
			want:   want{ReasonAgreementReached, metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionFalse},
		},
		"server FAIL 5": {
			status: v1alpha1.QuotationOrderStatus{State: v1alpha1.StateCancelled, Failure: &v1alpha1.Failure{
				StatusCode: ptrTo(int32(5)), Reason: "OutOfResources", Sender: v1alpha1.FailureSenderServer}},
			want: want{ReasonServerFailed, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue},
		},
		"client FAIL 7 is not a server failure": {
			status: v1alpha1.QuotationOrderStatus{State: v1alpha1.StateCancelled, Failure: &v1alpha1.Failure{
				StatusCode: ptrTo(int32(7)), Reason: "MoreTimeRejected", Sender: v1alpha1.FailureSenderClient}},
			want: want{ReasonNegotiationEnded, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue},
		},
		"expired": {
			status: v1alpha1.QuotationOrderStatus{State: v1alpha1.StateCancelled, Failure: &v1alpha1.Failure{Reason: "OfferExpired"}},
			want:   want{ReasonNegotiationEnded, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			qo := &v1alpha1.QuotationOrder{
				ObjectMeta: metav1.ObjectMeta{Generation: 3},
				Spec:       v1alpha1.QuotationOrderSpec{Approval: tc.approval},
				Status:     tc.status,
			}
			p := phaseOf(qo)
			setConditions(qo, p)
			got := want{reason: p.Reason}
			for _, c := range qo.Status.Conditions {
				if c.ObservedGeneration != 3 {
					t.Errorf("%s observedGeneration: got %d, want 3", c.Type, c.ObservedGeneration)
				}
				switch c.Type {
				case v1alpha1.ConditionReady:
					got.ready = c.Status
					if c.Reason != p.Reason {
						t.Errorf("Ready reason: got %s, want %s", c.Reason, p.Reason)
					}
				case v1alpha1.ConditionReconciling:
					got.reconciling = c.Status
				case v1alpha1.ConditionStalled:
					got.stalled = c.Status
				}
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if qo.Status.ObservedGeneration != 3 {
				t.Errorf("status.observedGeneration: got %d, want 3", qo.Status.ObservedGeneration)
			}
		})
	}
}

// TestAggregateState checks status.state of an order with several
// negotiations: Completed when one completed, else the furthest along,
// Cancelled only when every negotiation is.
// Reference: RFC 8921 §8.10, §8.11.1 Figure 8; DESIGN §5.
func TestAggregateState(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		states []v1alpha1.ClientState
		want   v1alpha1.ClientState
	}{
		"none":                    {want: ""},
		"one":                     {states: []v1alpha1.ClientState{v1alpha1.StatePQOSent}, want: v1alpha1.StatePQOSent},
		"furthest":                {states: []v1alpha1.ClientState{v1alpha1.StatePQOSent, v1alpha1.StateOfferProcessing}, want: v1alpha1.StateOfferProcessing},
		"completed wins":          {states: []v1alpha1.ClientState{v1alpha1.StateCancelled, v1alpha1.StateCompleted}, want: v1alpha1.StateCompleted},
		"cancelled and one alive": {states: []v1alpha1.ClientState{v1alpha1.StateCancelled, v1alpha1.StateServerProcessing}, want: v1alpha1.StateServerProcessing},
		"all cancelled":           {states: []v1alpha1.ClientState{v1alpha1.StateCancelled, v1alpha1.StateCancelled}, want: v1alpha1.StateCancelled},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var ps []v1alpha1.ProviderNegotiation
			for _, s := range tc.states {
				ps = append(ps, v1alpha1.ProviderNegotiation{State: s})
			}
			if got := aggregateState(ps); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestOfferStatus checks the Offer's state for each client state.
// Reference: RFC 8921 §9.2.3, §9.2.4, §9.2.5, §9.1.8.
func TestOfferStatus(t *testing.T) {
	t.Parallel()
	unanswered := &wire.Message{Method: wire.MethodDecline}
	tests := map[string]struct {
		decision v1alpha1.OfferDecision
		order    fsm.ClientOrder
		want     v1alpha1.OfferState
	}{
		"open":        {order: fsm.ClientOrder{State: fsm.ClientOfferProcessing}, want: v1alpha1.OfferOpen},
		"accepting":   {decision: v1alpha1.DecisionAccept, order: fsm.ClientOrder{State: fsm.ClientAcceptSent}, want: v1alpha1.OfferAccepting},
		"accepted":    {decision: v1alpha1.DecisionAccept, order: fsm.ClientOrder{State: fsm.ClientCompleted}, want: v1alpha1.OfferAccepted},
		"declining":   {decision: v1alpha1.DecisionDecline, order: fsm.ClientOrder{State: fsm.ClientCancelled, Txn: fsm.Transaction{Unanswered: unanswered}}, want: v1alpha1.OfferDeclining},
		"declined":    {decision: v1alpha1.DecisionDecline, order: fsm.ClientOrder{State: fsm.ClientCancelled}, want: v1alpha1.OfferDeclined},
		"expired":     {order: fsm.ClientOrder{State: fsm.ClientCancelled, Failure: &fsm.Failure{Reason: "OfferExpired"}}, want: v1alpha1.OfferExpired},
		"server FAIL": {order: fsm.ClientOrder{State: fsm.ClientCancelled, Failure: &fsm.Failure{StatusCode: 5, Reason: "OutOfResources"}}, want: v1alpha1.OfferCancelled},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := offerStatus(tc.decision, tc.order); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestNewTransaction checks the drawn identifiers: 32 hex digits (128 bits)
// and a first sequence number below 2^31.
// Reference: RFC 8921 §8.4, §9.1.3.
func TestNewTransaction(t *testing.T) {
	t.Parallel()
	src := &constReader{b: 0xff}
	id, seq, err := newTransaction(src)
	if err != nil {
		t.Fatal(err)
	}
	if want := "ffffffffffffffffffffffffffffffff"; id != want {
		t.Errorf("transaction ID: got %s, want %s", id, want)
	}
	if want := uint32(0x7fffffff); seq != want {
		t.Errorf("seq: got %#x, want %#x", seq, want)
	}
	if _, _, err := newTransaction(&constReader{fail: true}); err == nil {
		t.Error("short read: got nil error, want one")
	}
}

// TestActivationOf checks the Agreement's activation state.
// Reference: RFC 8921 §9.2.11.
func TestActivationOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	tests := map[string]struct {
		in   fsm.Agreement
		want *v1alpha1.AgreementActivation
	}{
		"active":    {in: fsm.Agreement{Active: true}, want: &v1alpha1.AgreementActivation{State: v1alpha1.ActivationActive}},
		"scheduled": {in: fsm.Agreement{ScheduledAt: &at}, want: &v1alpha1.AgreementActivation{State: v1alpha1.ActivationStateScheduled, ScheduledAt: ptrTo(metav1.NewTime(at.Truncate(time.Second)))}},
		"inactive":  {in: fsm.Agreement{}, want: &v1alpha1.AgreementActivation{State: v1alpha1.ActivationInactive}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, activationOf(&tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// constReader yields b forever, or fails.
type constReader struct {
	b    byte
	fail bool
}

func (r *constReader) Read(p []byte) (int, error) {
	if r.fail {
		return 0, errShortRead
	}
	for i := range p {
		p[i] = r.b
	}
	return len(p), nil
}
