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

package fsm

// One test per edge of RFC 8921 Figure 8 (client side).

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// wantEdge checks the transitions and sent methods of the last step.
func wantEdge(t *testing.T, s *clStepper, wantState ClientState, wantTransitions []string, wantSent []wire.Method) {
	t.Helper()
	if s.o.State != wantState {
		t.Errorf("got state %s, want %s", s.o.State, wantState)
	}
	if diff := cmp.Diff(wantTransitions, clTransitions(s.last)); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	var sent []wire.Method
	for _, m := range clSends(s.last) {
		sent = append(sent, m.Msg.Method)
	}
	if diff := cmp.Diff(wantSent, sent); diff != "" {
		t.Errorf("sent methods (-want +got):\n%s", diff)
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (Created → AwaitingProcessing: the
// administrator approves the order).
func TestClientEdgeCreatedToAwaitingProcessing(t *testing.T) {
	t.Parallel()
	s := newClStepper(t, NewClientOrder(clCustomerID, clRequest(), false))
	if s.o.State != ClientCreated {
		t.Fatalf("got state %s, want Created", s.o.State)
	}
	s.step(ApproveOrder{At: clAt(0)})
	wantEdge(t, s, ClientAwaitingProcessing, []string{"Created→AwaitingProcessing(Approved)"}, nil)
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (Created → Cancelled: nothing was sent,
// so nothing is sent).
func TestClientEdgeCreatedToCancelled(t *testing.T) {
	t.Parallel()
	s := newClStepper(t, NewClientOrder(clCustomerID, clRequest(), false))
	s.step(CancelOrder{At: clAt(0)})
	wantEdge(t, s, ClientCancelled, []string{"Created→Cancelled(Cancelled)"}, nil)
	if !s.o.Terminal() {
		t.Errorf("got Terminal() false, want true")
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (AwaitingProcessing --QUOTATION--> PQOSent);
// §9.2.1, §11.1.1.
func TestClientEdgeAwaitingProcessingToPQOSent(t *testing.T) {
	t.Parallel()
	s := clFxApproved(t)
	s.step(Quote{At: clAt(0), TransactionID: clTxnQuote, Seq: clClientSeq})
	wantEdge(t, s, ClientPQOSent, []string{"AwaitingProcessing→PQOSent(QuotationSent)"}, []wire.Method{wire.MethodQuotation})
	q := clSends(s.last)[0].Msg
	want := wire.Message{
		Version: 1, Method: wire.MethodQuotation, Seq: clClientSeq, TransactionID: clTxnQuote,
		CustomerOrderID: clCustomerID, ExpectedResponseTime: clAtp(time.Hour),
		RequestedCPD: clCPDPtr(clRequested()), InformationElements: clRequest().InformationElements,
	}
	if diff := cmp.Diff(want, q); diff != "" {
		t.Errorf("QUOTATION (-want +got):\n%s", diff)
	}
	// §11.1.1: "if a response time is included in the quotation order, a
	// timer is set to the expiration time"; §11.4: RETRANS_TIMER.
	wantTimers := map[TimerID]time.Time{TimerResponse: clAt(time.Hour), TimerRetransmit: clAt(time.Second)}
	if diff := cmp.Diff(wantTimers, s.o.Timers); diff != "" {
		t.Errorf("timers (-want +got):\n%s", diff)
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (AwaitingProcessing → Cancelled).
func TestClientEdgeAwaitingProcessingToCancelled(t *testing.T) {
	t.Parallel()
	s := clFxApproved(t)
	s.step(CancelOrder{At: clAt(0)})
	wantEdge(t, s, ClientCancelled, []string{"AwaitingProcessing→Cancelled(Cancelled)"}, nil)
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (PQOSent --PROCESSING--> ServerProcessing);
// §9.2.2, §11.1.1: the timer is set to EXPECTED_OFFER_TIME.
func TestClientEdgePQOSentToServerProcessing(t *testing.T) {
	t.Parallel()
	s := clFxPQOSent(t)
	s.step(clRecv(clProcessing(s.o, clAtp(30*time.Minute)), time.Second/2))
	wantEdge(t, s, ClientServerProcessing, []string{"PQOSent→ServerProcessing(ServerProcessing)"}, nil)
	if s.o.ProviderOrderID != clProviderID {
		t.Errorf("got provider order ID %q, want %q", s.o.ProviderOrderID, clProviderID)
	}
	wantTimers := map[TimerID]time.Time{TimerOffer: clAt(30 * time.Minute)}
	if diff := cmp.Diff(wantTimers, s.o.Timers); diff != "" {
		t.Errorf("timers (-want +got):\n%s", diff)
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (PQOSent --CANCEL--> Cancelled); §9.2.7.
func TestClientEdgePQOSentToCancelled(t *testing.T) {
	t.Parallel()
	s := clFxPQOSent(t)
	s.step(CancelOrder{At: clAt(time.Second / 2)})
	wantEdge(t, s, ClientCancelled, []string{"PQOSent→Cancelled(Cancelled)"}, []wire.Method{wire.MethodCancel})
	c := clSends(s.last)[0].Msg
	if c.Seq != clClientSeq+1 || c.ProviderOrderID != "" {
		t.Errorf("got CANCEL seq %d provider %q, want seq %d and no provider order identifier", c.Seq, c.ProviderOrderID, clClientSeq+1)
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (ServerProcessing --OFFER--> OfferReceived,
// then OfferReceived --PROCESSING--> OfferProcessing in the same step); §11.1.1.
func TestClientEdgeServerProcessingToOfferReceived(t *testing.T) {
	t.Parallel()
	s := clFxServerProcessing(t)
	s.step(clRecv(clOffer(s.o, clNonce, clAt(2*time.Hour)), time.Minute))
	wantEdge(t, s, ClientOfferProcessing, []string{
		"ServerProcessing→OfferReceived(OfferReceived)",
		"OfferReceived→OfferProcessing(OfferProcessing)",
	}, []wire.Method{wire.MethodProcessing})
	if s.o.Offer == nil || s.o.Offer.Nonce != clNonce || !s.o.Offer.ValidUntil.Equal(clAt(2*time.Hour)) {
		t.Errorf("got offer %+v, want nonce %s valid until +2h", s.o.Offer, clNonce)
	}
	wantTimers := map[TimerID]time.Time{TimerValidity: clAt(2 * time.Hour)}
	if diff := cmp.Diff(wantTimers, s.o.Timers); diff != "" {
		t.Errorf("timers (-want +got):\n%s", diff)
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (ServerProcessing --CANCEL--> Cancelled).
func TestClientEdgeServerProcessingCancel(t *testing.T) {
	t.Parallel()
	s := clFxServerProcessing(t)
	s.step(CancelOrder{At: clAt(time.Minute)})
	wantEdge(t, s, ClientCancelled, []string{"ServerProcessing→Cancelled(Cancelled)"}, []wire.Method{wire.MethodCancel})
	if len(s.o.Timers) != 1 || s.o.Txn.Unanswered == nil {
		t.Errorf("got timers %v, want only the CANCEL's retransmission timer", s.o.Timers)
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (ServerProcessing --FAIL--> Cancelled); §9.2.10.
func TestClientEdgeServerProcessingFail(t *testing.T) {
	t.Parallel()
	s := clFxServerProcessing(t)
	s.step(clRecv(clFail(s.o, wire.StatusOutOfResources), time.Minute))
	wantEdge(t, s, ClientCancelled, []string{"ServerProcessing→Cancelled(Failed)"}, nil)
	want := &Failure{StatusCode: wire.StatusOutOfResources, Reason: "Failed", Txn: TxnQuotation, At: clAt(time.Minute)}
	if diff := cmp.Diff(want, s.o.Failure); diff != "" {
		t.Errorf("failure (-want +got):\n%s", diff)
	}
	if !s.o.Terminal() {
		t.Errorf("got Terminal() false, want true")
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (OfferReceived --PROCESSING--> OfferProcessing):
// the PROCESSING answers the OFFER with the next sequence number and the
// provider order identifier (§9.2.2, Fig. 6).
func TestClientEdgeOfferReceivedToOfferProcessing(t *testing.T) {
	t.Parallel()
	s := clFxServerProcessing(t)
	s.step(clRecv(clOffer(s.o, clNonce, clAt(2*time.Hour)), time.Minute))
	p := clSends(s.last)[0].Msg
	want := wire.Message{
		Version: 1, Method: wire.MethodProcessing, Seq: clClientSeq + 1, TransactionID: clTxnQuote,
		CustomerOrderID: clCustomerID, ProviderOrderID: clProviderID,
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("PROCESSING (-want +got):\n%s", diff)
	}
	if s.o.Txn.LastAnswer == nil || s.o.Txn.LastAnswer.Method != wire.MethodProcessing {
		t.Errorf("got last answer %v, want the PROCESSING", s.o.Txn.LastAnswer)
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (OfferReceived --CANCEL--> Cancelled).
// OfferReceived is passed through within one step; an order stored in it (a
// restored order) still follows the figure.
func TestClientEdgeOfferReceivedCancel(t *testing.T) {
	t.Parallel()
	s := clFxOfferProcessing(t)
	s.o.State = ClientOfferReceived
	s.step(CancelOrder{At: clAt(3 * time.Minute)})
	wantEdge(t, s, ClientCancelled, []string{"OfferReceived→Cancelled(Cancelled)"}, []wire.Method{wire.MethodCancel})
	if _, ok := s.o.Timers[TimerValidity]; ok {
		t.Errorf("validity timer still armed after CANCEL")
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (OfferProcessing --ACCEPT--> AcceptSent);
// §9.2.4: "The fields of this message must be copied from the received OFFER".
func TestClientEdgeOfferProcessingToAcceptSent(t *testing.T) {
	t.Parallel()
	s := clFxOfferProcessing(t)
	offer := clOffer(s.o, clNonce, clAt(2*time.Hour))
	s.step(AcceptOffer{At: clAt(2 * time.Minute)})
	wantEdge(t, s, ClientAcceptSent, []string{"OfferProcessing→AcceptSent(OfferAccepted)"}, []wire.Method{wire.MethodAccept})
	want := wire.Message{
		Version: 1, Method: wire.MethodAccept, Seq: clClientSeq + 2, TransactionID: clTxnQuote,
		CustomerOrderID: clCustomerID, ProviderOrderID: clProviderID, Nonce: clNonce,
		AcceptedCPD: clCPDPtr(clOffered()), InformationElements: offer.InformationElements,
	}
	if diff := cmp.Diff(want, clSends(s.last)[0].Msg); diff != "" {
		t.Errorf("ACCEPT (-want +got):\n%s", diff)
	}
	wantTimers := map[TimerID]time.Time{TimerRetransmit: clAt(2*time.Minute + time.Second)}
	if diff := cmp.Diff(wantTimers, s.o.Timers); diff != "" {
		t.Errorf("timers (-want +got):\n%s", diff)
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (OfferProcessing --DECLINE--> Cancelled);
// §9.2.5, Fig. 13.
func TestClientEdgeOfferProcessingDecline(t *testing.T) {
	t.Parallel()
	s := clFxOfferProcessing(t)
	s.step(DeclineOffer{At: clAt(2 * time.Minute), Reasons: []wire.Reason{wire.ReasonConflictWithOtherOffer}})
	wantEdge(t, s, ClientCancelled, []string{"OfferProcessing→Cancelled(Declined)"}, []wire.Method{wire.MethodDecline})
	d := clSends(s.last)[0].Msg
	if d.Nonce != clNonce || !cmp.Equal(d.Reasons, []wire.Reason{wire.ReasonConflictWithOtherOffer}) {
		t.Errorf("got DECLINE nonce %q reasons %v, want %q [2]", d.Nonce, d.Reasons, clNonce)
	}
	if s.o.Failure != nil {
		t.Errorf("got failure %+v, want none: declining is the user's choice", s.o.Failure)
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (AcceptSent --ACK--> Completed); Table 5:
// the ACK must carry the Offered CPD.
func TestClientEdgeAcceptSentToCompleted(t *testing.T) {
	t.Parallel()
	s := clFxAcceptSent(t)
	s.step(clRecv(clAck(s.o, clCPDPtr(clOffered())), 3*time.Minute))
	wantEdge(t, s, ClientCompleted, []string{"AcceptSent→Completed(Agreed)"}, nil)
	want := &Agreement{CPD: clOffered(), Nonce: clNonce, Active: true, Since: clAt(3 * time.Minute)}
	if diff := cmp.Diff(want, s.o.Agreement); diff != "" {
		t.Errorf("agreement (-want +got):\n%s", diff)
	}
	if len(s.o.Timers) != 0 || s.o.Txn.Unanswered != nil {
		t.Errorf("got timers %v unanswered %v, want none", s.o.Timers, s.o.Txn.Unanswered)
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (AcceptSent --CANCEL--> Cancelled).
func TestClientEdgeAcceptSentCancel(t *testing.T) {
	t.Parallel()
	s := clFxAcceptSent(t)
	s.step(CancelOrder{At: clAt(3 * time.Minute)})
	wantEdge(t, s, ClientCancelled, []string{"AcceptSent→Cancelled(Cancelled)"}, []wire.Method{wire.MethodCancel})
	if u := s.o.Txn.Unanswered; u == nil || u.Method != wire.MethodCancel {
		t.Errorf("got unanswered %v, want the CANCEL (it replaces the ACCEPT)", u)
	}
}

// Reference: RFC 8921 §8.11.1, Fig. 8 (Completed --WITHDRAW--> Cancelled);
// §9.2.8: same customer and provider order identifiers and nonce; a new
// transaction (DESIGN §3).
func TestClientEdgeCompletedWithdraw(t *testing.T) {
	t.Parallel()
	s := clFxCompleted(t)
	s.step(WithdrawOrder{At: clAt(time.Hour), TransactionID: clTxnWd, Seq: 7000})
	wantEdge(t, s, ClientCancelled, []string{"Completed→Cancelled(Withdrawn)"}, []wire.Method{wire.MethodWithdraw})
	want := wire.Message{
		Version: 1, Method: wire.MethodWithdraw, Seq: 7000, TransactionID: clTxnWd,
		CustomerOrderID: clCustomerID, ProviderOrderID: clProviderID, Nonce: clNonce,
		AcceptedCPD: clCPDPtr(clOffered()),
	}
	if diff := cmp.Diff(want, clSends(s.last)[0].Msg); diff != "" {
		t.Errorf("WITHDRAW (-want +got):\n%s", diff)
	}
	if s.o.WithdrawAcked || s.o.Terminal() {
		t.Errorf("got WithdrawAcked %v Terminal %v, want both false until the ACK", s.o.WithdrawAcked, s.o.Terminal())
	}
}
