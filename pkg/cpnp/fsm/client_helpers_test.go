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

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Fixed identifiers and times of the client tests. Real ones come from
// crypto/rand in the shells.
const (
	clCustomerID = "acme-wan-0001"
	clProviderID = "ENP-2026-000417"
	clNonce      = "6512bd43d9caa6e02c990b0a82652dca"
	clNonce2     = "b6d767d2f8ed5d21a44b0e5886680cb9"
	clTxnQuote   = "8f14e45fceea167a5a36dedd4bea2543"
	clTxnUpdate  = "c9f0f895fb98ab9159f51fd0297e236d"
	clTxnWd      = "45c48cce2e2d7fbdea1afc51c7c6ad26"
	clTxnAct     = "d3d9446802a44259755d38e6d163e820"
	clClientSeq  = 3172
	clServerSeq  = 90210
)

// clT0 is the reference time of the client tests.
var clT0 = time.Date(2026, time.November, 21, 22, 0, 0, 0, time.UTC)

func clAt(d time.Duration) time.Time { return clT0.Add(d) }

func clAtp(d time.Duration) *time.Time { t := clAt(d); return &t }

func clOffered() cpd.CPD   { return cpd.SampleConcrete() }
func clRequested() cpd.CPD { return cpd.Sample() }

// clRequest is a QUOTATION request with a one-hour EXPECTED_RESPONSE_TIME.
func clRequest() Request {
	return Request{
		CPD:                  clRequested(),
		ExpectedResponseTime: clAtp(time.Hour),
		InformationElements: &wire.InformationElements{
			CustomerDescription: &wire.CustomerDescription{Name: "ACME Corp"},
		},
	}
}

// clSrv builds a message from the order's server in the order's current
// transaction, with the identifiers of the order.
func clSrv(o ClientOrder, method wire.Method, seq uint32) wire.Message {
	m := wire.Message{
		Version:         wire.Version,
		Method:          method,
		Seq:             seq,
		TransactionID:   o.Txn.ID,
		CustomerOrderID: clCustomerID,
		ProviderOrderID: clProviderID,
	}
	return m
}

// clNextSeq is a fresh incoming sequence number for o.
func clNextSeq(o ClientOrder) uint32 {
	if !o.Txn.Counters.InSet {
		return clServerSeq
	}
	return o.Txn.Counters.In + 1
}

func clRecv(m wire.Message, d time.Duration) MsgReceived { return MsgReceived{Msg: m, At: clAt(d)} }

// clProcessing is a PROCESSING; eot is its EXPECTED_OFFER_TIME (nil: none).
func clProcessing(o ClientOrder, eot *time.Time) wire.Message {
	m := clSrv(o, wire.MethodProcessing, clNextSeq(o))
	m.ExpectedOfferTime = eot
	return m
}

// clOffer is an OFFER of the concrete sample CPD valid until validity.
func clOffer(o ClientOrder, nonce string, validity time.Time) wire.Message {
	m := clSrv(o, wire.MethodOffer, clNextSeq(o))
	m.Nonce = nonce
	m.ValidityOfferTime = &validity
	c := clOffered()
	m.OfferedCPD = &c
	m.InformationElements = &wire.InformationElements{
		ProviderDescription: &wire.ProviderDescription{Name: "ENP", ASNumber: 64500},
	}
	return m
}

// clAck is an ACK carrying c (nil: no CPD).
func clAck(o ClientOrder, c *cpd.CPD) wire.Message {
	m := clSrv(o, wire.MethodAck, clNextSeq(o))
	m.CPD = c
	return m
}

func clFail(o ClientOrder, code wire.StatusCode) wire.Message {
	m := clSrv(o, wire.MethodFail, clNextSeq(o))
	m.StatusCode = code
	return m
}

func clCPDPtr(c cpd.CPD) *cpd.CPD { return &c }

// clStepper runs a machine over a sequence of events and checks the
// invariants of every step (see checkClientStep).
type clStepper struct {
	t *testing.T
	m Client
	o ClientOrder
	// last holds the actions of the last step.
	last []Action
}

func newClStepper(t *testing.T, o ClientOrder) *clStepper {
	t.Helper()
	return &clStepper{t: t, m: DefaultClient(), o: o}
}

func (s *clStepper) step(ev Event) []Action {
	s.t.Helper()
	next, acts := clStepChecked(s.t, s.m, s.o, ev)
	s.o, s.last = next, acts
	return acts
}

// clStepChecked steps and checks the invariants that hold for every step.
func clStepChecked(t *testing.T, m Client, o ClientOrder, ev Event) (ClientOrder, []Action) {
	t.Helper()
	before, err := json.Marshal(o)
	if err != nil {
		t.Fatalf("marshal order: %v", err)
	}
	snapshot := o.Clone()
	next, acts := m.Step(o, ev)
	after, _ := json.Marshal(o)
	if string(before) != string(after) {
		t.Fatalf("Step modified its input order:\nbefore %s\nafter  %s", before, after)
	}
	if err := checkCopyOnWrite(snapshot, o, next, ClientOrder.Clone); err != nil {
		t.Fatal(err)
	}
	if err := checkClientStep(m, o, ev, next, acts); err != nil {
		t.Fatalf("step %s in state %s: %v\nactions: %s", clDescribeEvent(ev), o.State, err, clDescribeActions(acts))
	}
	return next, acts
}

// checkClientStep verifies the invariants of one step: shared by the unit tests
// and FuzzClientSteps.
func checkClientStep(m Client, old ClientOrder, ev Event, next ClientOrder, acts []Action) error {
	if len(acts) == 0 {
		return fmt.Errorf("no action: every input must have an outcome")
	}
	changed := !reflect.DeepEqual(old, next)
	if same := sameClientOrder(&old, &next); same == changed {
		return fmt.Errorf("sameClientOrder: got %v, want %v (reflect.DeepEqual)", same, !changed)
	}
	persists, firstSend, firstPersist, discards := 0, -1, -1, 0
	timers := map[TimerID]time.Time{}
	for k, v := range old.Timers {
		timers[k] = v
	}
	if tf, ok := ev.(TimerFired); ok && changed {
		delete(timers, tf.ID) // a handled timer has fired
	}
	for i, a := range acts {
		switch a := a.(type) {
		case Persist:
			persists++
			if firstPersist < 0 {
				firstPersist = i
			}
		case Send:
			if firstSend < 0 {
				firstSend = i
			}
			if err := a.Msg.Validate(); err != nil {
				return fmt.Errorf("sent an invalid %s: %w", a.Msg.Method, err)
			}
			if a.Msg.CustomerOrderID != old.CustomerOrderID {
				return fmt.Errorf("sent customer order ID %q, want %q", a.Msg.CustomerOrderID, old.CustomerOrderID)
			}
		case Discard:
			discards++
			if a.Reason == "" {
				return fmt.Errorf("discard without a reason")
			}
		case StartTimer:
			timers[a.ID] = a.At
		case StopTimer:
			delete(timers, a.ID)
		case Transition:
			if a.Reason == "" || a.Cause == "" {
				return fmt.Errorf("transition %s→%s without cause or reason", a.From, a.To)
			}
		}
	}
	switch {
	case discards > 0 && len(acts) != 1:
		return fmt.Errorf("a discard comes alone, got %d actions", len(acts))
	case discards > 0 && changed:
		return fmt.Errorf("a discarded input changed the order")
	case changed && persists != 1:
		return fmt.Errorf("changed order with %d Persist actions, want 1", persists)
	case !changed && persists != 0:
		return fmt.Errorf("unchanged order with %d Persist actions, want 0", persists)
	case changed && firstSend >= 0 && firstPersist > firstSend:
		return fmt.Errorf("Persist at %d after the first Send at %d (write-ahead)", firstPersist, firstSend)
	}
	if len(timers) == 0 {
		timers = nil
	}
	if !reflect.DeepEqual(timers, next.Timers) {
		return fmt.Errorf("timers %v do not mirror the timer actions (want %v)", next.Timers, timers)
	}
	for id := range next.Timers {
		if _, ok := clientTable[next.State][string(id)]; !ok {
			return fmt.Errorf("timer %s armed in state %s, which has no rule for it", id, next.State)
		}
	}
	if _, ok := next.Timers[TimerRetransmit]; ok && next.Txn.Unanswered == nil {
		return fmt.Errorf("retransmission timer armed with nothing to retransmit")
	}
	if next.CustomerOrderID != old.CustomerOrderID {
		return fmt.Errorf("customer order ID changed from %q to %q", old.CustomerOrderID, next.CustomerOrderID)
	}
	if old.ProviderOrderID != "" && next.ProviderOrderID != old.ProviderOrderID {
		return fmt.Errorf("provider order ID changed from %q to %q", old.ProviderOrderID, next.ProviderOrderID)
	}
	if old.Terminal() {
		if !next.Terminal() {
			return fmt.Errorf("a terminal order became non-terminal")
		}
		for _, a := range acts {
			if s, ok := a.(Send); ok && (!s.Retransmission || old.Txn.LastAnswer == nil ||
				!reflect.DeepEqual(s.Msg, *old.Txn.LastAnswer)) {
				return fmt.Errorf("a terminal order sent %s", s.Msg.Method)
			}
		}
	}
	if next.State != old.State || changed {
		if rule, ok := clRuleFor(old, ev); ok && !clContains(rule.next, next.State) && next.State != old.State {
			return fmt.Errorf("state %s is not among the table's next states %v", next.State, rule.next)
		}
	}
	// JSON round trip.
	b, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("marshal: %w", err)
	}
	var back ClientOrder
	if err := json.Unmarshal(b, &back); err != nil {
		return fmt.Errorf("unmarshal: %w", err)
	}
	if b2, err := json.Marshal(back); err != nil || string(b2) != string(b) {
		diff := cmp.Diff(next, back, cmpopts.EquateEmpty())
		return fmt.Errorf("JSON round trip differs (-want +got):\n%s", diff)
	}
	return nil
}

func clRuleFor(o ClientOrder, ev Event) (clientRule, bool) {
	var in string
	switch e := ev.(type) {
	case MsgReceived:
		in = e.Msg.Method.String()
	case TimerFired:
		in = string(e.ID)
	case ClientCommand:
		in = e.command()
	default:
		return clientRule{}, false
	}
	r, ok := clientTable[o.State][in]
	return r, ok
}

func clContains(list []ClientState, s ClientState) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clSends returns the Send actions.
func clSends(acts []Action) []Send {
	var out []Send
	for _, a := range acts {
		if s, ok := a.(Send); ok {
			out = append(out, s)
		}
	}
	return out
}

// clTransitions returns the Transition actions as "From→To(Reason)".
func clTransitions(acts []Action) []string {
	var out []string
	for _, a := range acts {
		if tr, ok := a.(Transition); ok {
			out = append(out, fmt.Sprintf("%s→%s(%s)", tr.From, tr.To, tr.Reason))
		}
	}
	return out
}

func clDiscarded(acts []Action) (string, bool) {
	if len(acts) == 1 {
		if d, ok := acts[0].(Discard); ok {
			return d.Reason, true
		}
	}
	return "", false
}

func clAlarms(acts []Action) []string {
	var out []string
	for _, a := range acts {
		if al, ok := a.(Alarm); ok {
			out = append(out, al.Reason)
		}
	}
	return out
}

// Order fixtures, reached by running the machine (not built by hand), so
// that they are states the machine really produces.

func clFxApproved(t *testing.T) *clStepper {
	t.Helper()
	return newClStepper(t, NewClientOrder(clCustomerID, clRequest(), true))
}

func clFxPQOSent(t *testing.T) *clStepper {
	t.Helper()
	s := clFxApproved(t)
	s.step(Quote{At: clAt(0), TransactionID: clTxnQuote, Seq: clClientSeq})
	return s
}

func clFxServerProcessing(t *testing.T) *clStepper {
	t.Helper()
	s := clFxPQOSent(t)
	s.step(clRecv(clProcessing(s.o, clAtp(30*time.Minute)), time.Second/2))
	return s
}

func clFxOfferProcessing(t *testing.T) *clStepper {
	t.Helper()
	s := clFxServerProcessing(t)
	s.step(clRecv(clOffer(s.o, clNonce, clAt(2*time.Hour)), time.Minute))
	return s
}

func clFxAcceptSent(t *testing.T) *clStepper {
	t.Helper()
	s := clFxOfferProcessing(t)
	s.step(AcceptOffer{At: clAt(2 * time.Minute)})
	return s
}

func clFxCompleted(t *testing.T) *clStepper {
	t.Helper()
	s := clFxAcceptSent(t)
	s.step(clRecv(clAck(s.o, clCPDPtr(clOffered())), 2*time.Minute+time.Second/2))
	if s.o.State != ClientCompleted {
		t.Fatalf("fixture: got state %s, want Completed", s.o.State)
	}
	return s
}

func clFxWithdrawing(t *testing.T) *clStepper {
	t.Helper()
	s := clFxCompleted(t)
	s.step(WithdrawOrder{At: clAt(time.Hour), TransactionID: clTxnWd, Seq: 7000})
	return s
}

func clFxUpdating(t *testing.T) *clStepper {
	t.Helper()
	s := clFxCompleted(t)
	s.step(UpdateOrder{
		At: clAt(time.Hour), TransactionID: clTxnUpdate, Seq: 5000,
		CPD: clRequested(), ExpectedResponseTime: clAtp(2 * time.Hour),
	})
	return s
}

// clDescribeEvent renders an event for transcripts and failure messages.
func clDescribeEvent(ev Event) string {
	switch e := ev.(type) {
	case MsgReceived:
		return "recv " + clDescribeMsg(e.Msg)
	case TimerFired:
		return "timer " + string(e.ID)
	case ClientCommand:
		return "cmd " + e.command()
	case nil:
		return "nil"
	}
	return fmt.Sprintf("%T", ev)
}

// clDescribeMsg renders the members of a message that matter to the machine.
func clDescribeMsg(m wire.Message) string {
	s := fmt.Sprintf("%s seq=%d", m.Method, m.Seq)
	if m.TransactionID != "" {
		s += " txn=" + m.TransactionID[:8]
	}
	if m.ProviderOrderID != "" {
		s += " provider=" + m.ProviderOrderID
	}
	if m.Nonce != "" {
		s += " nonce=" + m.Nonce[:8]
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"ert", m.ExpectedResponseTime}, {"eot", m.ExpectedOfferTime}, {"validity", m.ValidityOfferTime}} {
		if p.t != nil {
			s += fmt.Sprintf(" %s=%s", p.name, p.t.Sub(clT0))
		}
	}
	for _, p := range []struct {
		name string
		c    *cpd.CPD
	}{{"requested", m.RequestedCPD}, {"offered", m.OfferedCPD}, {"accepted", m.AcceptedCPD}, {"cpd", m.CPD}} {
		if p.c != nil {
			s += " " + p.name + "=" + clCPDName(*p.c)
		}
	}
	if m.StatusCode != 0 {
		s += fmt.Sprintf(" status=%d", int(m.StatusCode))
	}
	if len(m.Reasons) > 0 {
		s += fmt.Sprintf(" reasons=%v", m.Reasons)
	}
	if sc := m.ActivationSchedule; sc != nil {
		if sc.Deactivate {
			s += " schedule=0"
		} else {
			s += fmt.Sprintf(" schedule=%s", sc.At.Sub(clT0))
		}
	}
	return s
}

func clCPDName(c cpd.CPD) string {
	switch {
	case c.IsEmpty():
		return "Empty"
	case cpd.Equal(c, clOffered()):
		return "Offered"
	case cpd.Equal(c, clRequested()):
		return "Requested"
	case cpd.Equal(c, clUpdatedOffer()):
		return "UpdatedOffer"
	case cpd.Equal(c, clUpdatedRequest()):
		return "UpdatedRequest"
	}
	return "Other"
}

func clDescribeActions(acts []Action) string {
	s := ""
	for _, a := range acts {
		s += "\n  " + clDescribeAction(a)
	}
	return s
}

func clDescribeAction(a Action) string {
	switch a := a.(type) {
	case Send:
		r := ""
		if a.Retransmission {
			r = " (retransmission)"
		}
		return "send " + clDescribeMsg(a.Msg) + r
	case StartTimer:
		return fmt.Sprintf("start %s at +%s", a.ID, a.At.Sub(clT0))
	case StopTimer:
		return "stop " + string(a.ID)
	case Persist:
		return "persist"
	case Transition:
		s := fmt.Sprintf("transition %s -> %s cause=%s reason=%s", a.From, a.To, a.Cause, a.Reason)
		if a.StatusCode != 0 {
			s += fmt.Sprintf(" status=%d", int(a.StatusCode))
		}
		return s
	case Discard:
		return "discard: " + a.Reason
	case Alarm:
		return "alarm: " + a.Reason
	}
	return fmt.Sprintf("%T", a)
}
