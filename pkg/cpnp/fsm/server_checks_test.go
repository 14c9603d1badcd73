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
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Tests of the Table 6 checks, §11.3/§11.4 sequence handling, the
// policy and administrator inputs, and the odd inputs of the server machine.

// Reference: RFC 8921 §11.4 (retransmission of the last incoming packet: resend the same answer), §8.11.2 Completed.
func TestServerRepeats(t *testing.T) {
	t.Parallel()
	t.Run("QUOTATION before the offer", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		first := sOneSend(t, d.acts).Msg
		s := sOneSend(t, d.send(sQuotation()))
		if !s.Retransmission || !cmp.Equal(s.Msg, first, sCmp...) {
			t.Errorf("got %+v, want the PROCESSING re-sent", s)
		}
	})
	t.Run("QUOTATION after the offer", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.offer()
		s := sOneSend(t, d.send(sQuotation()))
		if !s.Retransmission || s.Msg.Method != wire.MethodOffer {
			t.Errorf("got %+v, want the OFFER (the latest answer to the QUOTATION) re-sent", s)
		}
	})
	t.Run("ACCEPT after Completed", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.toCompleted()
		ack := sOneSend(t, d.acts).Msg
		before := d.o.Clone()
		s := sOneSend(t, d.send(ack2req(d, wire.MethodAccept)))
		if !s.Retransmission || !cmp.Equal(s.Msg, ack, sCmp...) {
			t.Errorf("got %+v, want the stored ACK re-sent", s)
		}
		if diff := cmp.Diff(before, d.o, sCmp...); diff != "" {
			t.Errorf("the repeat changed the order (-before +after):\n%s", diff)
		}
	})
	t.Run("PROCESSING needs no answer", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.offer()
		p := d.cmsg(wire.MethodProcessing)
		d.send(p)
		acts := d.send(p)
		if len(sSends(acts)) != 0 || !sHas[Discard](acts) {
			t.Errorf("got %#v, want a Discard and no send (no ping-pong with the client's repeated PROCESSING)", acts)
		}
	})
	t.Run("same seq, another method", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.offer()
		d.send(d.cmsg(wire.MethodProcessing))
		acts := d.send(ack2req(d, wire.MethodAccept))
		if len(sSends(acts)) != 0 || !sHas[Discard](acts) || d.o.State != ServerProcessingReceived {
			t.Errorf("got %#v in %s, want a Discard (§11.3)", acts, d.o.State)
		}
	})
	t.Run("QUOTATION with a higher seq", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		q := sQuotation()
		q.Seq = sCliSeq + 5
		acts := d.send(q)
		if len(sSends(acts)) != 0 || !sHas[Discard](acts) {
			t.Errorf("got %#v, want a Discard (a new request needs a new transaction, §8.4)", acts)
		}
	})
}

// Reference: RFC 8921 §11.3 (a number not larger than the last accepted is discarded), Table 6.
func TestServerStaleSequence(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	d.offer()
	d.send(d.cmsg(wire.MethodProcessing)) // seq 101
	before := d.o.Clone()
	stale := sClientMsg(d.o, wire.MethodAccept, sCliSeq)
	acts := d.step(MsgReceived{Msg: stale, Identity: sIdentity, At: d.at})
	if diff := cmp.Diff([]Action{Discard{Reason: "stale sequence number (§11.3)"}}, acts); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, d.o, sCmp...); diff != "" {
		t.Errorf("a stale message changed the order (-before +after):\n%s", diff)
	}
}

// Reference: RFC 8921 Table 6, §9.1.5, §13; DESIGN §3 FAIL codes and §4 identity binding.
func TestServerTable6Refusals(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		state   func(d *sDriver)
		msg     func(d *sDriver) wire.Message
		ident   string
		status  wire.StatusCode
		echoSeq bool // the FAIL echoes the request's sequence number (outside the transaction)
	}{
		"another identity": {
			state: func(d *sDriver) { d.offer() }, msg: func(d *sDriver) wire.Message { return d.cmsg(wire.MethodAccept) },
			ident: sOther, status: 3, echoSeq: true,
		},
		"wrong nonce on ACCEPT": {
			state: func(d *sDriver) { d.offer() },
			msg: func(d *sDriver) wire.Message {
				m := d.cmsg(wire.MethodAccept)
				m.Nonce = sNonce2
				return m
			},
			status: 3,
		},
		"wrong nonce on DECLINE": {
			state: func(d *sDriver) { d.offer() },
			msg: func(d *sDriver) wire.Message {
				m := d.cmsg(wire.MethodDecline)
				m.Nonce = sNonce2
				return m
			},
			status: 3,
		},
		"ACCEPT of another CPD": {
			state: func(d *sDriver) { d.offer() },
			msg: func(d *sDriver) wire.Message {
				m := d.cmsg(wire.MethodAccept)
				m.AcceptedCPD = ptrCPD(cpd.Sample())
				return m
			},
			status: 1,
		},
		"unknown transaction": {
			state: func(d *sDriver) { d.offer() },
			msg: func(d *sDriver) wire.Message {
				m := d.cmsg(wire.MethodAccept)
				m.TransactionID = sXTxn
				return m
			},
			status: 1, echoSeq: true,
		},
		"another customer order ID": {
			state: func(d *sDriver) { d.offer() },
			msg: func(d *sDriver) wire.Message {
				m := d.cmsg(wire.MethodDecline)
				m.CustomerOrderID = "acme-order-2"
				return m
			},
			status: 1, echoSeq: true,
		},
		"another provider order ID": {
			state: func(d *sDriver) { d.toCompleted() },
			msg: func(d *sDriver) wire.Message {
				m := sNewTxnMsg(d.o, wire.MethodWithdraw, sWTxn)
				m.ProviderOrderID = "prov-other"
				return m
			},
			status: 1, echoSeq: true,
		},
		"wrong nonce on WITHDRAW": {
			state: func(d *sDriver) { d.toCompleted() },
			msg: func(d *sDriver) wire.Message {
				m := sNewTxnMsg(d.o, wire.MethodWithdraw, sWTxn)
				m.Nonce = sNonce2
				return m
			},
			status: 3, echoSeq: true,
		},
		"wrong nonce on UPDATE": {
			state: func(d *sDriver) { d.toCompleted() },
			msg: func(d *sDriver) wire.Message {
				m := sNewTxnMsg(d.o, wire.MethodUpdate, sUTxn)
				m.Nonce = sNonce2
				return m
			},
			status: 3, echoSeq: true,
		},
		"UPDATE before Completed": {
			state: func(d *sDriver) { d.offer() }, msg: func(d *sDriver) wire.Message { return sNewTxnMsg(d.o, wire.MethodUpdate, sUTxn) },
			status: 1, echoSeq: true,
		},
		"DECLINE after Completed": {
			state: func(d *sDriver) { d.toCompleted() }, msg: func(d *sDriver) wire.Message { return d.cmsg(wire.MethodDecline) },
			status: 1,
		},
		"WITHDRAW reusing the current transaction": {
			state: func(d *sDriver) { d.toCompleted() },
			msg: func(d *sDriver) wire.Message {
				m := sNewTxnMsg(d.o, wire.MethodWithdraw, sQTxn)
				m.Seq = d.seq
				return m
			},
			status: 0, // discarded, see below
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer())
			tc.state(d)
			before := d.o.Clone()
			msg := tc.msg(d)
			ident := sIdentity
			if tc.ident != "" {
				ident = tc.ident
			}
			acts := d.step(MsgReceived{Msg: msg, Identity: ident, At: d.at, Fresh: Fresh{Nonce: sNonce2, Seq: 700}})
			if tc.status == 0 {
				if len(sSends(acts)) != 0 || !sHas[Discard](acts) {
					t.Fatalf("got %#v, want a Discard", acts)
				}
				return
			}
			f := sOneSend(t, acts).Msg
			if f.Method != wire.MethodFail || f.StatusCode != tc.status || f.TransactionID != msg.TransactionID || f.ProviderOrderID == "" {
				t.Errorf("got %v status %d txn %s, want FAIL %d in the request's transaction", f.Method, f.StatusCode, f.TransactionID, tc.status)
			}
			if tc.echoSeq != (f.Seq == msg.Seq) {
				t.Errorf("got FAIL seq %d for request seq %d, want echoed %v", f.Seq, msg.Seq, tc.echoSeq)
			}
			// Only the outgoing counter may move (§11.3); nothing else changes.
			before.Txn.Counters.Out = d.o.Txn.Counters.Out
			if diff := cmp.Diff(before, d.o, sCmp...); diff != "" {
				t.Errorf("a refused request changed the order (-before +after):\n%s", diff)
			}
			if tc.echoSeq && sHas[Persist](acts) {
				t.Errorf("got Persist for an unchanged order, want none")
			}
		})
	}
}

// Reference: RFC 8921 §9.2.10 (a FAIL is not answered), §9.2.3 (OFFER is a server message).
func TestServerNeverAnswersFailOrOffer(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	d.offer()
	for _, tc := range []struct {
		msg   wire.Message
		ident string
	}{
		{d.cmsg(wire.MethodFail), sIdentity},
		{d.cmsg(wire.MethodFail), sOther},
		{d.cmsg(wire.MethodOffer), sIdentity},
		{wire.Message{Version: 1, Method: 42, TransactionID: sQTxn, CustomerOrderID: sCustomer}, sIdentity},
	} {
		acts := d.step(MsgReceived{Msg: tc.msg, Identity: tc.ident, At: d.at})
		if len(sSends(acts)) != 0 || !sHas[Discard](acts) {
			t.Errorf("%v from %s: got %#v, want a Discard only", tc.msg.Method, tc.ident, acts)
		}
	}
}

// Reference: RFC 8921 §9.2.2, §9.1.7, Fig. 11 (more time granted), Fig. 12 (rejected), Table 6 FAIL row.
func TestServerMoreTime(t *testing.T) {
	t.Parallel()
	later := st0.Add(90 * time.Minute) // after the client's EXPECTED_RESPONSE_TIME (st0+1h)
	for name, ev := range map[string]func(o ServerOrder) Event{
		"decision": func(o ServerOrder) Event {
			return Decision{Kind: DecideMoreTime, TransactionID: o.Txn.ID, At: st0,
				MoreTime: &MoreTimeDecision{ExpectedOfferTime: later, Subcode: wire.SubcodeUpgradeLocalResources}}
		},
		"command": func(ServerOrder) Event {
			return RequestMoreTime{ExpectedOfferTime: later, Subcode: wire.SubcodeUpgradeLocalResources, At: st0}
		},
	} {
		t.Run(name+" granted", func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer())
			acts := d.step(ev(d.o))
			p := sOneSend(t, acts).Msg
			if p.Method != wire.MethodProcessing || p.ExpectedOfferTime == nil || !p.ExpectedOfferTime.Equal(later) ||
				p.Subcode != wire.SubcodeUpgradeLocalResources || p.Seq != sSrvSeq+1 {
				t.Fatalf("got %+v, want PROCESSING seq %d with the new EXPECTED_OFFER_TIME and subcode", p, sSrvSeq+1)
			}
			if d.o.RequestedOfferTime == nil || d.o.Txn.Unanswered == nil {
				t.Fatalf("got requested %v unanswered %v, want a pending request for more time", d.o.RequestedOfferTime, d.o.Txn.Unanswered)
			}
			// Retransmitted until answered (§11.4).
			if s := sOneSend(t, d.step(TimerFired{ID: TimerRetransmit, At: d.later(time.Second)})); !s.Retransmission || !cmp.Equal(s.Msg, p, sCmp...) {
				t.Errorf("got %+v, want the PROCESSING retransmitted", s)
			}
			granted := st0.Add(80 * time.Minute)
			ack := d.cmsg(wire.MethodAck)
			ack.ExpectedResponseTime = &granted
			acts = d.send(ack)
			if len(sSends(acts)) != 0 || d.o.State != ServerAwaitingProcessing {
				t.Errorf("got sends %v state %s, want no answer and AwaitingProcessing", sSentMethods(acts), d.o.State)
			}
			if d.o.ExpectedOfferTime == nil || !d.o.ExpectedOfferTime.Equal(granted) || !d.o.Timers[TimerOffer].Equal(granted) {
				t.Errorf("got deadline %v / timer %v, want the granted %v", d.o.ExpectedOfferTime, d.o.Timers[TimerOffer], granted)
			}
			if _, armed := d.o.Timers[TimerRetransmit]; armed || d.o.RequestedOfferTime != nil {
				t.Errorf("got retransmission armed %v, pending %v; want both cleared", armed, d.o.RequestedOfferTime)
			}
			// A second ACK has nothing to answer: discarded.
			if acts := d.send(d.cmsg(wire.MethodAck)); !sHas[Discard](acts) {
				t.Errorf("got %#v, want a Discard", acts)
			}
		})
		t.Run(name+" rejected", func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer())
			d.step(ev(d.o))
			acts := d.send(d.cmsg(wire.MethodFail))
			trs := sOnly[Transition](acts)
			if len(trs) != 1 || trs[0].To != "Cancelled" || trs[0].Reason != "MoreTimeRejected" || trs[0].StatusCode != 7 {
				t.Errorf("got transitions %+v, want Cancelled (MoreTimeRejected, 7)", trs)
			}
			if len(sSends(acts)) != 0 || len(d.o.Timers) != 0 {
				t.Errorf("got sends %v timers %v, want none", sSentMethods(acts), d.o.Timers)
			}
		})
	}
	t.Run("ACK without its time grants the requested one", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.step(RequestMoreTime{ExpectedOfferTime: later, At: st0})
		ack := d.cmsg(wire.MethodAck)
		ack.ExpectedResponseTime = nil
		d.send(ack)
		if d.o.ExpectedOfferTime == nil || !d.o.ExpectedOfferTime.Equal(later) {
			t.Errorf("got deadline %v, want %v", d.o.ExpectedOfferTime, later)
		}
	})
	t.Run("an earlier time is a notice", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.step(RequestMoreTime{ExpectedOfferTime: later, At: st0})
		earlier := st0.Add(20 * time.Minute)
		d.step(RequestMoreTime{ExpectedOfferTime: earlier, At: st0})
		if d.o.RequestedOfferTime != nil || d.o.Txn.Unanswered != nil || !d.o.Timers[TimerOffer].Equal(earlier) {
			t.Errorf("got pending %v unanswered %v timer %v, want the notice to replace the request", d.o.RequestedOfferTime, d.o.Txn.Unanswered, d.o.Timers[TimerOffer])
		}
		if _, armed := d.o.Timers[TimerRetransmit]; armed {
			t.Errorf("got retransmission armed, want stopped")
		}
	})
	t.Run("a FAIL without a pending request is discarded", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		acts := d.send(d.cmsg(wire.MethodFail))
		if len(sSends(acts)) != 0 || !sHas[Discard](acts) || d.o.State != ServerAwaitingProcessing {
			t.Errorf("got %#v in %s, want a Discard (Table 6 FAIL row)", acts, d.o.State)
		}
	})
	t.Run("invalid requests are discarded", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		for _, ev := range []Event{
			RequestMoreTime{At: st0},
			RequestMoreTime{ExpectedOfferTime: later, Subcode: 9, At: st0},
			Decision{Kind: DecideMoreTime, TransactionID: sQTxn, At: st0},
		} {
			if acts := d.step(ev); len(acts) != 1 || !sHas[Discard](acts) {
				t.Errorf("%#v: got %#v, want one Discard", ev, acts)
			}
		}
	})
}

// Reference: RFC 8921 §8.2, §12.2 (administrative validation), DESIGN §3 (FAIL 4).
func TestServerAdministrativeValidation(t *testing.T) {
	t.Parallel()
	t.Run("approve", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		acts := d.step(Decision{Kind: DecideHold, TransactionID: sQTxn, At: st0})
		if !d.o.Held || len(sSends(acts)) != 0 || d.o.State != ServerAwaitingProcessing || !sHas[Persist](acts) {
			t.Fatalf("got held %v, actions %#v; want a persisted hold in AwaitingProcessing", d.o.Held, acts)
		}
		// While held, the policy's decisions wait for the administrator.
		if acts := d.offer(); !sHas[Discard](acts) || d.o.State != ServerAwaitingProcessing {
			t.Errorf("got %#v, want the offer discarded while held", acts)
		}
		acts = d.step(AdminApprove{At: st0})
		if diff := cmp.Diff([]Consult{{Kind: ConsultQuotation, TransactionID: sQTxn, Approved: true}}, sOnly[Consult](acts)); diff != "" {
			t.Errorf("consults (-want +got):\n%s", diff)
		}
		if d.o.Held {
			t.Errorf("got held after approval")
		}
		if acts := d.offer(); d.o.State != ServerOfferProposed {
			t.Errorf("got %#v, want the offer made after approval", acts)
		}
	})
	t.Run("reject", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.step(Decision{Kind: DecideHold, TransactionID: sQTxn, At: st0})
		acts := d.step(AdminReject{At: st0})
		f := sOneSend(t, acts).Msg
		if f.Method != wire.MethodFail || f.StatusCode != wire.StatusAdministrativelyProhibited || d.o.State != ServerCancelled {
			t.Errorf("got %v %d in %s, want FAIL 4 and Cancelled", f.Method, f.StatusCode, d.o.State)
		}
		// The FAIL is the stored answer to the QUOTATION.
		if s := sOneSend(t, d.send(sQuotation())); !s.Retransmission || !cmp.Equal(s.Msg, f, sCmp...) {
			t.Errorf("got %+v, want the FAIL re-sent to a repeated QUOTATION", s)
		}
	})
	t.Run("commands without a hold", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		for _, ev := range []Event{AdminApprove{At: st0}, AdminReject{At: st0}} {
			if acts := d.step(ev); len(acts) != 1 || !sHas[Discard](acts) {
				t.Errorf("%T: got %#v, want one Discard", ev, acts)
			}
		}
	})
}

// Reference: RFC 8921 §8.5, §9.1.6, §9.1.7 (the client considers the order rejected when its deadline passes).
func TestServerOfferDeadline(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	acts := d.step(TimerFired{ID: TimerOffer, At: d.later(time.Hour)})
	trs := sOnly[Transition](acts)
	if len(trs) != 1 || trs[0].To != "Cancelled" || trs[0].Reason != "ExpectedOfferTimeElapsed" {
		t.Errorf("got %+v, want Cancelled (ExpectedOfferTimeElapsed)", trs)
	}
	if len(sSends(acts)) != 0 {
		t.Errorf("got sends %v, want none", sSentMethods(acts))
	}
	// A decision arriving afterwards is discarded: the order is over.
	if acts := d.offer(); !sHas[Discard](acts) || sHas[Reserve](acts) {
		t.Errorf("got %#v, want a late decision discarded", acts)
	}
}

// Reference: RFC 8921 §9.2.10, §11.2.1 ("If the server cannot make an offer, it sends back a FAIL").
func TestServerDecisionFail(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	acts := d.step(Decision{Kind: DecideFail, TransactionID: sQTxn, StatusCode: wire.StatusOutOfResources, At: st0})
	sCheckPersistFirst(t, acts)
	f := sOneSend(t, acts).Msg
	if f.Method != wire.MethodFail || f.StatusCode != 5 || f.ProviderOrderID != sProvider || f.Seq != sSrvSeq+1 {
		t.Errorf("got %+v, want FAIL 5 with the provider order ID (DESIGN §3)", f)
	}
	if d.o.State != ServerCancelled || d.o.Failure == nil || d.o.Failure.StatusCode != 5 {
		t.Errorf("got state %s failure %+v, want Cancelled with failure 5", d.o.State, d.o.Failure)
	}
}

// Reference: DESIGN §4 (pure machine; caller bugs in decisions are discarded, the order keeps waiting).
func TestServerInvalidDecisions(t *testing.T) {
	t.Parallel()
	tests := map[string]func(o ServerOrder) Decision{
		"another transaction": func(o ServerOrder) Decision { d := sOffer(o, st0); d.TransactionID = sXTxn; return d },
		"offer missing":       func(o ServerOrder) Decision { return Decision{Kind: DecideOffer, TransactionID: o.Txn.ID, At: st0} },
		"empty CPD": func(o ServerOrder) Decision {
			d := sOffer(o, st0)
			d.Offer.CPD = cpd.Empty()
			return d
		},
		"validity over": func(o ServerOrder) Decision { d := sOffer(o, st0); d.Offer.ValidUntil = st0; return d },
		"FAIL code 0":   func(o ServerOrder) Decision { return Decision{Kind: DecideFail, TransactionID: o.Txn.ID, At: st0} },
		"FAIL code 7": func(o ServerOrder) Decision {
			return Decision{Kind: DecideFail, TransactionID: o.Txn.ID, StatusCode: 7, At: st0}
		},
		"unknown kind":  func(o ServerOrder) Decision { return Decision{Kind: "Maybe", TransactionID: o.Txn.ID, At: st0} },
		"child missing": func(o ServerOrder) Decision { return Decision{Kind: DecideChild, TransactionID: o.Txn.ID, At: st0} },
	}
	for name, mk := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newSDriver(t, DefaultServer())
			before := d.o.Clone()
			acts := d.step(mk(d.o))
			if len(acts) != 1 || !sHas[Discard](acts) {
				t.Errorf("got %#v, want one Discard", acts)
			}
			if diff := cmp.Diff(before, d.o, sCmp...); diff != "" {
				t.Errorf("an invalid decision changed the order (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("no nonce at all", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.toCompleted()
		d.step(MsgReceived{Msg: sNewTxnMsg(d.o, wire.MethodUpdate, sUTxn), Identity: sIdentity, At: st0, Fresh: Fresh{Seq: 700}})
		if acts := d.offer(); !sHas[Discard](acts) || d.o.State != ServerAwaitingProcessing {
			t.Errorf("got %#v, want the nonce-less offer discarded", acts)
		}
		dec := sOffer(d.o, st0)
		dec.Offer.Nonce = sNonce2
		if sOneSend(t, d.step(dec)).Msg.Nonce != sNonce2 {
			t.Errorf("want the decision's nonce used")
		}
	})
}

// Reference: RFC 8921 §8.11.2 Completed ("assumes that the ACK was received by the client"), §9.2.7, Fig. 8 AcceptSent --CANCEL-->.
func TestServerCancelAfterLostAck(t *testing.T) {
	t.Parallel()
	t.Run("QUOTATION", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.toCompleted()
		acts := d.send(d.cmsg(wire.MethodCancel))
		if got, want := sStates(acts), []string{"Completed->Cancelled"}; !cmp.Equal(got, want) {
			t.Errorf("got transitions %v, want %v", got, want)
		}
		if diff := cmp.Diff([]Release{{Agreement: true, Reason: "CancelledAfterAck"}}, sOnly[Release](acts)); diff != "" {
			t.Errorf("releases (-want +got):\n%s", diff)
		}
		if ack := sOneSend(t, acts).Msg; ack.Method != wire.MethodAck || ack.CPD == nil || !cpd.Equal(*ack.CPD, cpd.SampleConcrete()) {
			t.Errorf("got %v, want ACK with the offered CPD", ack)
		}
		if d.o.Agreement != nil {
			t.Errorf("got agreement %+v, want none", d.o.Agreement)
		}
	})
	t.Run("UPDATE", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.toCompleted()
		old := d.o.Agreement.clone()
		d.toUpdate()
		d.offer()
		d.send(d.cmsg(wire.MethodAccept))
		acts := d.send(d.cmsg(wire.MethodCancel))
		trs := sOnly[Transition](acts)
		if len(trs) != 1 || trs[0].To != "Completed" || trs[0].Reason != "UpdateCancelledAfterAck" {
			t.Errorf("got %+v, want Completed (UpdateCancelledAfterAck)", trs)
		}
		if diff := cmp.Diff(old, d.o.Agreement, sCmp...); diff != "" {
			t.Errorf("restored agreement (-want +got):\n%s", diff)
		}
		if got := sOnly[Commit](acts); len(got) != 1 || !cpd.Equal(got[0].CPD, old.CPD) {
			t.Errorf("got commits %+v, want the previous agreement re-committed", got)
		}
	})
	t.Run("not after another request", func(t *testing.T) {
		t.Parallel()
		d := newSDriver(t, DefaultServer())
		d.toCompleted()
		d.sendNew(sNewTxnMsg(d.o, wire.MethodActivate, sATxn))
		c := d.cmsg(wire.MethodCancel)
		if f := sOneSend(t, d.send(c)).Msg; f.Method != wire.MethodFail || f.StatusCode != 1 {
			t.Errorf("got %v, want FAIL 1: the agreement was acknowledged", f)
		}
	})
}

// Reference: RFC 8921 §11.4; timers fire once, at or after their deadline.
func TestServerStaleTimers(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	d.offer()
	for _, ev := range []TimerFired{
		{ID: TimerValidity, At: st0.Add(time.Minute)},    // before its deadline
		{ID: TimerWithdrawCycle, At: st0.Add(time.Hour)}, // never armed by the server
		{ID: TimerResponse, At: st0.Add(time.Hour)},      // client timer
	} {
		before := d.o.Clone()
		if acts := d.step(ev); len(acts) != 1 || !sHas[Discard](acts) {
			t.Errorf("%v: got %#v, want one Discard", ev.ID, acts)
		}
		if diff := cmp.Diff(before, d.o, sCmp...); diff != "" {
			t.Errorf("%v changed the order (-before +after):\n%s", ev.ID, diff)
		}
	}
}

// Reference: STYLE §2 (every input has an outcome; the zero order and foreign events are discarded).
func TestServerStepOddInputs(t *testing.T) {
	t.Parallel()
	m := DefaultServer()
	if o, acts := m.Step(ServerOrder{}, TimerFired{ID: TimerOffer, At: st0}); o.State != "" || len(acts) != 1 || !sHas[Discard](acts) {
		t.Errorf("zero order: got %v %#v, want one Discard", o.State, acts)
	}
	d := newSDriver(t, m)
	for _, ev := range []Event{nil, ApproveOrder{At: st0}, ChildEvent{}, ChildEvent{Event: TimerFired{ID: TimerRetransmit, At: st0}}} {
		if _, acts := m.Step(d.o, ev); len(acts) != 1 || !sHas[Discard](acts) {
			t.Errorf("%#v: got %#v, want one Discard", ev, acts)
		}
	}
	if got := (ChildEvent{}).When(); !got.IsZero() {
		t.Errorf("got %v, want the zero time for an empty ChildEvent", got)
	}
}

// Reference: DESIGN §3 (defaults), STYLE §5 (configs validate themselves).
func TestServerValidate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		m       Server
		wantErr bool
	}{
		"default":         {m: DefaultServer()},
		"zero":            {m: Server{}},
		"bad retransmit":  {m: Server{Retransmit: session.Retransmit{Timer: -1, Backoff: 2}}, wantErr: true},
		"negative delay":  {m: Server{ExpectedOfferDelay: -time.Second}, wantErr: true},
		"bad child cycle": {m: Server{Child: Client{WithdrawRetryInterval: time.Second}}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.m.Validate()
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
				t.Errorf("got %v, want error %v matching ErrInvalidConfig", err, tc.wantErr)
			}
		})
	}
	if got := (Server{}).schedule(); got != session.DefaultRetransmit() {
		t.Errorf("got schedule %+v for the zero Server, want the default", got)
	}
}

// Reference: RFC 8921 §8.11 (state survives restarts: the shell re-arms the recorded timers).
func TestServerOrderHelpers(t *testing.T) {
	t.Parallel()
	d := newSDriver(t, DefaultServer())
	d.offer()
	id, at, ok := d.o.NextDeadline()
	if !ok || id != TimerRetransmit || !at.Equal(st0.Add(time.Second)) {
		t.Errorf("got %v %v %v, want Retransmit at +1s", id, at, ok)
	}
	if _, _, ok := (ServerOrder{}).NextDeadline(); ok {
		t.Errorf("got a deadline for an order without timers")
	}
	c := d.o.Clone()
	c.Timers[TimerOffer] = st0
	c.Offer.CPD.Components[0].CustomerNodes = nil
	c.Txn.LastAnswer.Seq = 1
	if _, armed := d.o.Timers[TimerOffer]; armed || d.o.Txn.LastAnswer.Seq == 1 {
		t.Errorf("changing a clone changed the original")
	}
	if got := d.o.CurrentRequest(); !cpd.Equal(got.CPD, cpd.Sample()) {
		t.Errorf("got current request %v, want the QUOTATION's", got.CPD)
	}
	if d.o.Terminal() {
		t.Errorf("got Terminal for an open offer")
	}
}
