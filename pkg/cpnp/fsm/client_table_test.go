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
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// clFixture is a representative order in one state and the time of its next
// input.
type clFixture struct {
	o   ClientOrder
	now time.Time
}

// clFixtures returns one order per Figure 8 state, reached by running the
// machine. ServerProcessing holds a pending request for more time (so that
// GrantExtension and RefuseExtension apply); Cancelled holds a WITHDRAW
// awaiting its ACK. OfferReceived is never stored by the machine (it answers
// an OFFER in the same step), so its fixture is a restored OfferProcessing
// order relabelled.
func clFixtures(t *testing.T) map[ClientState]clFixture {
	t.Helper()
	out := map[ClientState]clFixture{}
	out[ClientCreated] = clFixture{NewClientOrder(clCustomerID, clRequest(), false), clAt(0)}
	out[ClientAwaitingProcessing] = clFixture{clFxApproved(t).o, clAt(0)}
	out[ClientPQOSent] = clFixture{clFxPQOSent(t).o, clAt(time.Second / 2)}
	sp := clFxPQOSent(t)
	sp.step(clRecv(clProcessing(sp.o, clAtp(90*time.Minute)), time.Second/2))
	out[ClientServerProcessing] = clFixture{sp.o, clAt(time.Second)}
	op := clFxOfferProcessing(t).o
	out[ClientOfferProcessing] = clFixture{op, clAt(90 * time.Second)}
	or := op.Clone()
	or.State = ClientOfferReceived
	out[ClientOfferReceived] = clFixture{or, clAt(90 * time.Second)}
	out[ClientAcceptSent] = clFixture{clFxAcceptSent(t).o, clAt(2*time.Minute + time.Second/2)}
	out[ClientCompleted] = clFixture{clFxCompleted(t).o, clAt(10 * time.Minute)}
	out[ClientCancelled] = clFixture{clFxWithdrawing(t).o, clAt(time.Hour + time.Second/2)}
	for _, s := range ClientStates {
		if f, ok := out[s]; !ok || f.o.State != s {
			t.Fatalf("fixture for %s is in state %s", s, f.o.State)
		}
	}
	return out
}

// clInputEvent builds a matching input of the named kind for the fixture: a
// message of the order's transaction with a fresh sequence number and the
// content its state expects, a due timer, or a command with valid fields.
func clInputEvent(f clFixture, in string) Event {
	o := f.o
	switch in {
	case "PROCESSING":
		return MsgReceived{Msg: clProcessing(o, nil), At: f.now}
	case "OFFER":
		return MsgReceived{Msg: clOffer(o, clNonce2, clAt(3*time.Hour)), At: f.now}
	case "ACK":
		c := clOffered()
		if o.State == ClientCancelled {
			c = cpd.Empty()
		}
		return MsgReceived{Msg: clAck(o, &c), At: f.now}
	case "FAIL":
		return MsgReceived{Msg: clFail(o, wire.StatusOutOfResources), At: f.now}
	}
	if m, ok := wire.ParseMethod(in); ok {
		return MsgReceived{Msg: clSrv(o, m, clNextSeq(o)), At: f.now}
	}
	for _, id := range clientTimerInputs {
		if in == string(id) {
			return TimerFired{ID: id, At: f.now}
		}
	}
	switch in {
	case "ApproveOrder":
		return ApproveOrder{At: f.now}
	case "Quote":
		return Quote{At: f.now, TransactionID: clTxnQuote, Seq: clClientSeq}
	case "AcceptOffer":
		return AcceptOffer{At: f.now}
	case "DeclineOffer":
		return DeclineOffer{At: f.now, Reasons: []wire.Reason{wire.ReasonUnacceptableGap}}
	case "CancelOrder":
		return CancelOrder{At: f.now}
	case "UpdateOrder":
		return UpdateOrder{At: f.now, TransactionID: clTxnUpdate, Seq: 5000, CPD: clRequested(), ExpectedResponseTime: clAtp(5 * time.Hour)}
	case "ActivateOrder":
		return ActivateOrder{At: f.now, TransactionID: clTxnAct, Seq: 6000, Schedule: wire.Schedule{At: f.now}}
	case "WithdrawOrder":
		return WithdrawOrder{At: f.now, TransactionID: clTxnWd, Seq: 7000}
	case "GrantExtension":
		return GrantExtension{At: f.now}
	case "RefuseExtension":
		return RefuseExtension{At: f.now}
	}
	panic("unknown input " + in)
}

// clWant is the expected outcome of one (state, input) pair: "-" means no
// rule (the input is discarded), "d" means a rule whose handler discards this
// fixture's input, anything else the resulting state.
var clWant = map[ClientState]map[string]string{
	ClientCreated: {
		"ApproveOrder": "AwaitingProcessing", "CancelOrder": "Cancelled",
	},
	ClientAwaitingProcessing: {
		"Quote": "PQOSent", "CancelOrder": "Cancelled",
	},
	ClientPQOSent: {
		"PROCESSING": "ServerProcessing", "OFFER": "OfferProcessing", "FAIL": "Cancelled",
		"Retransmit": "PQOSent", "ExpectedResponse": "Cancelled", "CancelOrder": "Cancelled",
	},
	ClientServerProcessing: {
		"PROCESSING": "ServerProcessing", "OFFER": "OfferProcessing", "FAIL": "Cancelled",
		"ExpectedResponse": "Cancelled", "ExpectedOffer": "Cancelled", "CancelOrder": "Cancelled",
		"GrantExtension": "ServerProcessing", "RefuseExtension": "Cancelled",
	},
	ClientOfferReceived: {
		"FAIL": "Cancelled", "OfferValidity": "Cancelled", "AcceptOffer": "AcceptSent",
		"DeclineOffer": "Cancelled", "CancelOrder": "Cancelled",
	},
	ClientOfferProcessing: {
		"FAIL": "Cancelled", "OfferValidity": "Cancelled", "AcceptOffer": "AcceptSent",
		"DeclineOffer": "Cancelled", "CancelOrder": "Cancelled",
	},
	ClientAcceptSent: {
		"ACK": "Completed", "FAIL": "Cancelled", "Retransmit": "AcceptSent", "CancelOrder": "Cancelled",
	},
	ClientCompleted: {
		"ACK": "d", "FAIL": "d", "Retransmit": "d",
		"UpdateOrder": "PQOSent", "ActivateOrder": "Completed", "WithdrawOrder": "Cancelled",
	},
	ClientCancelled: {
		"PROCESSING": "Cancelled", "ACK": "Cancelled", "FAIL": "Cancelled",
		"Retransmit": "Cancelled", "WithdrawCycle": "Cancelled",
	},
}

func clAllInputs() []string {
	in := slices.Clone(clientMsgInputs)
	for _, id := range clientTimerInputs {
		in = append(in, string(id))
	}
	return append(in, clientCmdInputs...)
}

// TestClientTableExhaustive walks every Figure 8 state × every input (the 11
// methods as received messages, the 5 timers, the 10 commands) and checks
// the outcome against clWant, which is written independently of the table.
// Reference: RFC 8921 §8.11.1, Fig. 8; §10.1, Table 5; DESIGN §4 ("every
// other (state, message) pair has a defined outcome").
func TestClientTableExhaustive(t *testing.T) {
	t.Parallel()
	fixtures := clFixtures(t)
	m := DefaultClient()
	for _, state := range ClientStates {
		for _, in := range clAllInputs() {
			t.Run(fmt.Sprintf("%s/%s", state, in), func(t *testing.T) {
				f := fixtures[state]
				f.o = f.o.Clone()
				want, ok := clWant[state][in]
				if !ok {
					want = "-"
				}
				_, inTable := clientTable[state][in]
				if inTable != (want != "-") {
					t.Fatalf("got rule in table %v, want %v", inTable, want != "-")
				}
				ev := clInputEvent(f, in)
				armed := true
				if tf, ok := ev.(TimerFired); ok {
					if d, ok := f.o.Timers[tf.ID]; ok {
						tf.At = d
						ev = tf
					} else {
						// Arm it, so that the table (not the armed check) decides.
						armed = false
						f.o.Timers = map[TimerID]time.Time{tf.ID: tf.At}
					}
				}
				var (
					next ClientOrder
					acts []Action
				)
				if armed {
					next, acts = clStepChecked(t, m, f.o, ev)
				} else {
					next, acts = m.Step(f.o, ev)
				}
				reason, isDiscard := clDiscarded(acts)
				switch want {
				case "-", "d":
					if !isDiscard {
						t.Fatalf("got actions %s, want a single Discard", clDescribeActions(acts))
					}
					if diff := cmp.Diff(f.o, next); diff != "" {
						t.Errorf("discard changed the order (-want +got):\n%s", diff)
					}
				default:
					if isDiscard {
						t.Fatalf("got Discard %q, want state %s", reason, want)
					}
					if string(next.State) != want {
						t.Errorf("got state %s, want %s; actions: %s", next.State, want, clDescribeActions(acts))
					}
					if !clContains(clientTable[state][in].next, next.State) {
						t.Errorf("state %s is not in the table's next states %v", next.State, clientTable[state][in].next)
					}
				}
			})
		}
	}
}

// TestClientTableInputsComplete checks that the input lists of the table
// cover every method, timer and command, so the exhaustive test misses none.
func TestClientTableInputsComplete(t *testing.T) {
	t.Parallel()
	if len(clientMsgInputs) != len(wire.Methods) {
		t.Errorf("got %d message inputs, want %d", len(clientMsgInputs), len(wire.Methods))
	}
	for i, m := range wire.Methods {
		if clientMsgInputs[i] != m.String() {
			t.Errorf("message input %d: got %s, want %s", i, clientMsgInputs[i], m)
		}
	}
	all := map[string]bool{}
	for _, in := range clAllInputs() {
		if all[in] {
			t.Errorf("input %s listed twice", in)
		}
		all[in] = true
	}
	for state, rules := range clientTable {
		if !slices.Contains(ClientStates, state) {
			t.Errorf("table has unknown state %s", state)
		}
		for in, r := range rules {
			if !all[in] {
				t.Errorf("table input %s/%s is not in the input lists", state, in)
			}
			if r.handle == nil || len(r.next) == 0 {
				t.Errorf("rule %s/%s has no handler or no next states", state, in)
			}
		}
	}
	cmds := []ClientCommand{
		ApproveOrder{}, Quote{}, AcceptOffer{}, DeclineOffer{}, CancelOrder{},
		UpdateOrder{}, ActivateOrder{}, WithdrawOrder{}, GrantExtension{}, RefuseExtension{},
	}
	var names []string
	for _, c := range cmds {
		names = append(names, c.command())
	}
	if diff := cmp.Diff(clientCmdInputs, names); diff != "" {
		t.Errorf("command inputs (-table +commands):\n%s", diff)
	}
}
