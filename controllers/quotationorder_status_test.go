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
		deleting bool
		// phase, when not nil, replaces phaseOf (set by Reconcile).
		phase *orderPhase
		want  want
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
		"deleted while open (§9.2.7)": {
			status:   v1alpha1.QuotationOrderStatus{State: v1alpha1.StateOfferProcessing},
			deleting: true,
			want:     want{ReasonCancelling, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse},
		},
		"deleted after the end": {
			status:   v1alpha1.QuotationOrderStatus{State: v1alpha1.StateCancelled, Failure: &v1alpha1.Failure{Reason: "Cancelled"}},
			deleting: true,
			want:     want{ReasonNegotiationEnded, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue},
		},
		"agreement withdrawn (§9.2.8)": {
			status: v1alpha1.QuotationOrderStatus{State: v1alpha1.StateCompleted, AgreementRef: &v1alpha1.LocalObjectReference{Name: "a"}},
			phase:  &orderPhase{Reason: ReasonAgreementWithdrawn},
			want:   want{ReasonAgreementWithdrawn, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionFalse},
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
			if tc.deleting {
				qo.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)}
			}
			p := phaseOf(qo)
			if tc.phase != nil {
				p = *tc.phase
			}
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

// TestDecideOrder checks the decisions on the negotiations of one order:
// at most one acceptance, the satisfying offer with the highest cpd.Score
// (ties: providerRefs order) under Automatic acceptance once every negotiation answered or at the
// decision margin, the others declined with reason 2 or cancelled, reason 1
// when nothing satisfies, and the user's spec.decision under Manual
// acceptance.
// Reference: RFC 8921 §8.10, §9.2.4, §9.2.5 Table 3, §9.2.7, §9.1.8; DESIGN §5.
func TestDecideOrder(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	offer := &fsm.Offer{ReceivedAt: t0, ValidUntil: t0.Add(5 * time.Minute)}
	deadline := t0.Add(5*time.Minute - 30*time.Second)
	open := func(name string, ok bool) candidate {
		return candidate{name: name, state: fsm.ClientOfferProcessing, offer: offer, satisfies: ok}
	}
	scored := func(name string, score float64) candidate {
		c := open(name, true)
		c.score = score
		return c
	}
	decided := func(c candidate, d v1alpha1.OfferDecision, rs ...v1alpha1.DeclineReason) candidate {
		c.decision, c.reasons = d, rs
		return c
	}
	inState := func(s fsm.ClientState) candidate { return candidate{name: "x", state: s} }
	gap := []v1alpha1.DeclineReason{v1alpha1.DeclineUnacceptableGap}
	conflict := []v1alpha1.DeclineReason{v1alpha1.DeclineConflictWithOtherOffer}
	type got struct {
		Kind       verdictKind
		Reasons    []v1alpha1.DeclineReason
		Record     string
		Overridden bool
	}
	accept := got{Kind: verdictAccept}
	none := got{}
	loser := got{Kind: verdictDecline, Reasons: conflict, Record: FailureDeclinedForOtherOffer}
	tests := map[string]struct {
		mode     v1alpha1.AcceptanceMode
		cs       []candidate
		now      time.Time
		want     []got
		wantWake time.Time
	}{
		"one satisfying":   {mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{open("a", true)}, want: []got{accept}},
		"one unsatisfying": {mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{open("a", false)}, want: []got{{Kind: verdictDecline, Reasons: gap}}},
		"both satisfy: first wins": {
			mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{open("a", true), open("b", true)}, want: []got{accept, loser},
		},
		"more headroom wins over providerRefs order": {
			mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{scored("a", 0.1), scored("b", 0.5), scored("c", 0.5)}, want: []got{loser, accept, loser},
		},
		"first unsatisfying: second wins": {
			mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{open("a", false), open("b", true)}, want: []got{loser, accept},
		},
		"none satisfies": {
			mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{open("a", false), open("b", false)},
			want: []got{{Kind: verdictDecline, Reasons: gap, Record: FailureDeclinedUnacceptableGap}, {Kind: verdictDecline, Reasons: gap, Record: FailureDeclinedUnacceptableGap}},
		},
		"waits for a slower provider": {
			mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{open("a", true), inState(fsm.ClientServerProcessing)}, now: deadline.Add(-time.Second),
			want: []got{none, none}, wantWake: deadline,
		},
		"decides at the margin and cancels the slower one": {
			mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{open("a", true), inState(fsm.ClientPQOSent)}, now: deadline,
			want: []got{accept, {Kind: verdictCancel, Record: FailureCancelledForOtherOffer}},
		},
		"nothing satisfies at the margin: the slower one continues": {
			mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{open("a", false), inState(fsm.ClientPQOSent)}, now: deadline,
			want: []got{{Kind: verdictDecline, Reasons: gap, Record: FailureDeclinedUnacceptableGap}, none},
		},
		"one failed: the other wins": {
			mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{inState(fsm.ClientCancelled), open("b", true)}, want: []got{none, accept},
		},
		"late offer after the decision": {
			mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{inState(fsm.ClientAcceptSent), open("b", true)}, want: []got{none, loser},
		},
		"earlier automatic decision kept": {
			mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{open("a", true), decided(open("b", true), v1alpha1.DecisionAccept)}, want: []got{loser, accept},
		},
		"unresolved provider does not block the winner": {
			mode: v1alpha1.AcceptanceAutomatic, cs: []candidate{open("a", true), inState("")}, now: deadline, want: []got{accept, none},
		},
		"manual undecided": {
			mode: v1alpha1.AcceptanceManual, cs: []candidate{open("a", true), open("b", true)}, want: []got{none, none},
		},
		"manual accept of the second": {
			mode: v1alpha1.AcceptanceManual, cs: []candidate{open("a", true), decided(open("b", false), v1alpha1.DecisionAccept)}, want: []got{loser, accept},
		},
		"manual accept of both": {
			mode: v1alpha1.AcceptanceManual, cs: []candidate{decided(open("a", true), v1alpha1.DecisionAccept), decided(open("b", true), v1alpha1.DecisionAccept)},
			want: []got{accept, {Kind: verdictDecline, Reasons: conflict, Record: FailureDeclinedForOtherOffer, Overridden: true}},
		},
		"manual decline with the user's reasons": {
			mode: v1alpha1.AcceptanceManual, cs: []candidate{decided(open("a", true), v1alpha1.DecisionDecline, gap...), open("b", true)},
			want: []got{{Kind: verdictDecline, Reasons: gap}, none},
		},
		"manual accept cancels a waiting one": {
			mode: v1alpha1.AcceptanceManual, cs: []candidate{decided(open("a", true), v1alpha1.DecisionAccept), inState(fsm.ClientServerProcessing)},
			want: []got{accept, {Kind: verdictCancel, Record: FailureCancelledForOtherOffer}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			now := tc.now
			if now.IsZero() {
				now = t0
			}
			vs, wake := decideOrder(tc.mode, tc.cs, now)
			var gs []got
			for _, v := range vs {
				gs = append(gs, got{Kind: v.kind, Reasons: v.reasons, Record: v.record, Overridden: v.overridden})
				if v.record != "" && v.why == "" {
					t.Errorf("verdict %+v: recorded without an explanation", v)
				}
			}
			if diff := cmp.Diff(tc.want, gs); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
			if !wake.Equal(tc.wantWake) {
				t.Errorf("wake: got %s, want %s", wake, tc.wantWake)
			}
		})
	}
}

// TestDecisionMargin checks how long before VALIDITY_OFFER_TIME the
// Automatic decision is taken at the latest: 10% of the validity window,
// at most 30 s.
// Reference: RFC 8921 §9.1.8, §9.2.4 (no ACCEPT after the validity time).
func TestDecisionMargin(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		validity time.Duration
		want     time.Duration
	}{
		"five minutes: 30 s cap": {validity: 5 * time.Minute, want: 5*time.Minute - 30*time.Second},
		"one minute: 10%":        {validity: time.Minute, want: 54 * time.Second},
		"already expired":        {validity: -time.Second, want: -time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := decisionMargin(&fsm.Offer{ReceivedAt: t0, ValidUntil: t0.Add(tc.validity)})
			if want := t0.Add(tc.want); !got.Equal(want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

// TestCoalescible checks when a PROCESSING may wait, unpersisted, for the
// OFFER that follows it: only a plain PROCESSING (no answer sent), fresh,
// in PQOSent or ServerProcessing, with no timer of the persisted order due.
// Reference: RFC 8921 §9.2.2 (PROCESSING), §11.4 (retransmission); DESIGN §4.
func TestCoalescible(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	proc := []Inbound{{Msg: wire.Message{Method: wire.MethodProcessing}, ReceivedAt: t0}}
	offer := []Inbound{{Msg: wire.Message{Method: wire.MethodOffer}, ReceivedAt: t0}}
	sent := fsm.ClientOrder{State: fsm.ClientPQOSent, Timers: map[fsm.TimerID]time.Time{fsm.TimerRetransmit: t0.Add(time.Second)}}
	tests := map[string]struct {
		pending []Inbound
		acts    []fsm.Action
		before  fsm.ClientOrder
		now     time.Time
		want    bool
	}{
		"fresh PROCESSING":      {pending: proc, before: sent, now: t0.Add(100 * time.Millisecond), want: true},
		"nothing pending":       {before: sent, now: t0},
		"an OFFER":              {pending: offer, before: sent, now: t0},
		"PROCESSING then OFFER": {pending: append(append([]Inbound(nil), proc...), offer...), before: sent, now: t0},
		"answered (more time)":  {pending: proc, acts: []fsm.Action{fsm.Send{}}, before: sent, now: t0},
		"too old":               {pending: proc, before: sent, now: t0.Add(processingCoalesce)},
		"retransmission due": {pending: proc, now: t0.Add(600 * time.Millisecond),
			before: fsm.ClientOrder{State: fsm.ClientPQOSent, Timers: map[fsm.TimerID]time.Time{fsm.TimerRetransmit: t0.Add(500 * time.Millisecond)}}},
		"offer already open (state)": {pending: proc, before: fsm.ClientOrder{State: fsm.ClientOfferProcessing}, now: t0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := coalescible(tc.pending, tc.acts, tc.before, tc.now); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
