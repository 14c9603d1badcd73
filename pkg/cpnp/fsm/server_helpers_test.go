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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Identifiers and times of the server tests. Hex identifiers have 32 digits
// (128 bits, DESIGN §3) so that every message the machine stores encodes.
var st0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

const (
	sIdentity = "acme"
	sOther    = "mallory"
	sCustomer = "acme-order-1"
	sProvider = "prov-7f3a"
	sQTxn     = "11111111111111111111111111111111"
	sUTxn     = "22222222222222222222222222222222"
	sWTxn     = "33333333333333333333333333333333"
	sATxn     = "44444444444444444444444444444444"
	sXTxn     = "99999999999999999999999999999999"
	sU2Txn    = "77777777777777777777777777777777"
	sNonce    = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	sNonce2   = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	sSrvSeq   = 500
	sCliSeq   = 100

	// The child order (§8.8).
	sUpstream   = "upstream-b"
	sChildCust  = "prov-7f3a-c1"
	sChildTxn   = "55555555555555555555555555555555"
	sChildWTxn  = "66666666666666666666666666666666"
	sUpProvider = "up-41"
	sUpNonce    = "cccccccccccccccccccccccccccccccc"
)

// sIEs returns negotiation options with the activation type and scope.
func sIEs(at wire.ActivationType, sc wire.Scope) *wire.InformationElements {
	return &wire.InformationElements{NegotiationOptions: &wire.NegotiationOptions{ActivationType: at, Scope: sc}}
}

// sQuotation is the client's QUOTATION: EXPECTED_RESPONSE_TIME in one hour,
// the sample loose CPD, activation type explicit.
func sQuotation() wire.Message {
	return wire.Message{
		Version: wire.Version, Method: wire.MethodQuotation, Seq: sCliSeq,
		TransactionID: sQTxn, CustomerOrderID: sCustomer,
		ExpectedResponseTime: timePtr(st0.Add(time.Hour)),
		RequestedCPD:         ptrCPD(cpd.Sample()),
		InformationElements:  sIEs(wire.ActivationExplicit, ""),
	}
}

func sOpenEvent(msg wire.Message) MsgReceived {
	return MsgReceived{Msg: msg, Identity: sIdentity, At: st0, Fresh: Fresh{ProviderOrderID: sProvider, Nonce: sNonce, Seq: sSrvSeq}}
}

// sOffer is the policy's offer: the concrete sample, valid 30 minutes.
func sOffer(o ServerOrder, at time.Time) Decision {
	return Decision{Kind: DecideOffer, TransactionID: o.Txn.ID, At: at,
		Offer: &OfferDecision{CPD: cpd.SampleConcrete(), ValidUntil: at.Add(30 * time.Minute)}}
}

// sDriver runs the server machine through a scenario and checks after
// every step that Step did not modify its input and that the order
// survives a JSON round trip (the engine stores it in bbolt).
type sDriver struct {
	t    *testing.T
	m    Server
	o    ServerOrder
	at   time.Time
	seq  uint32 // next client sequence number in the current transaction
	acts []Action
}

// newSDriver opens an order with the QUOTATION, modified by mods.
func newSDriver(t *testing.T, m Server, mods ...func(*wire.Message)) *sDriver {
	t.Helper()
	q := sQuotation()
	for _, f := range mods {
		f(&q)
	}
	o, acts, err := m.Open(sOpenEvent(q))
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	d := &sDriver{t: t, m: m, o: o, at: st0, seq: q.Seq + 1, acts: acts}
	d.checkJSON()
	return d
}

// step feeds ev and returns the actions.
func (d *sDriver) step(ev Event) []Action {
	d.t.Helper()
	before := sSnapshot(d.t, d.o)
	snapshot := d.o.Clone()
	next, acts := d.m.Step(d.o, ev)
	if after := sSnapshot(d.t, d.o); after != before {
		d.t.Fatalf("Step modified its input order:\nbefore %s\nafter  %s", before, after)
	}
	if err := checkCopyOnWrite(snapshot, d.o, next, ServerOrder.Clone); err != nil {
		d.t.Fatal(err)
	}
	d.o, d.acts = next, acts
	d.checkJSON()
	return acts
}

// later advances the driver's clock.
func (d *sDriver) later(dt time.Duration) time.Time {
	d.at = d.at.Add(dt)
	return d.at
}

// cmsg builds a client message of the current transaction (or, for
// UPDATE, WITHDRAW and ACTIVATE, of a new one) with plausible members.
func (d *sDriver) cmsg(method wire.Method) wire.Message {
	return sClientMsg(d.o, method, d.seq)
}

// send feeds a client message and advances the client's sequence number.
func (d *sDriver) send(msg wire.Message) []Action {
	d.t.Helper()
	acts := d.step(MsgReceived{Msg: msg, Identity: sIdentity, At: d.at, Fresh: Fresh{Nonce: sNonce2, Seq: 700}})
	if msg.Seq >= d.seq {
		d.seq = msg.Seq + 1
	}
	return acts
}

// sendNew feeds a request that opens a new transaction (first client seq 300).
func (d *sDriver) sendNew(msg wire.Message) []Action {
	d.t.Helper()
	d.seq = msg.Seq
	return d.send(msg)
}

// offer makes the policy's standard offer.
func (d *sDriver) offer() []Action {
	d.t.Helper()
	return d.step(sOffer(d.o, d.at))
}

// toCompleted drives an opened order through OFFER, PROCESSING, ACCEPT.
func (d *sDriver) toCompleted() {
	d.t.Helper()
	d.offer()
	d.send(d.cmsg(wire.MethodProcessing))
	d.send(d.cmsg(wire.MethodAccept))
	if d.o.State != ServerCompleted {
		d.t.Fatalf("setup: got state %s, want Completed; actions %v", d.o.State, d.acts)
	}
}

// toUpdate starts an UPDATE cycle on a Completed order.
func (d *sDriver) toUpdate() {
	d.t.Helper()
	d.sendNew(sNewTxnMsg(d.o, wire.MethodUpdate, sUTxn))
	if d.o.State != ServerAwaitingProcessing {
		d.t.Fatalf("setup: got state %s, want AwaitingProcessing; actions %v", d.o.State, d.acts)
	}
}

// checkJSON checks that the order's JSON form is stable through a round
// trip (cheap enough for every step; TestServerOrderJSON compares the
// decoded values field by field).
func (d *sDriver) checkJSON() {
	d.t.Helper()
	b := sSnapshot(d.t, d.o)
	var back ServerOrder
	if err := json.Unmarshal([]byte(b), &back); err != nil {
		d.t.Fatalf("json.Unmarshal(order): %v\n%s", err, b)
	}
	if again := sSnapshot(d.t, back); again != b {
		d.t.Fatalf("order does not survive a JSON round trip:\nwant %s\ngot  %s", b, again)
	}
}

// sCmp compares orders and actions: empty and nil collections are equal
// (JSON drops them).
var sCmp = []cmp.Option{cmpopts.EquateEmpty()}

func sSnapshot(t *testing.T, o ServerOrder) string {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatalf("json.Marshal(order): %v", err)
	}
	return string(b)
}

// sClientMsg builds a plausible client message for order o.
func sClientMsg(o ServerOrder, method wire.Method, seq uint32) wire.Message {
	switch method {
	case wire.MethodUpdate:
		if o.Txn.ID == sUTxn {
			return sNewTxnMsg(o, method, sU2Txn)
		}
		return sNewTxnMsg(o, method, sUTxn)
	case wire.MethodWithdraw:
		return sNewTxnMsg(o, method, sWTxn)
	case wire.MethodActivate:
		return sNewTxnMsg(o, method, sATxn)
	}
	m := wire.Message{
		Version: wire.Version, Method: method, Seq: seq,
		TransactionID: o.Txn.ID, CustomerOrderID: o.CustomerOrderID, ProviderOrderID: o.ProviderOrderID,
	}
	switch method {
	case wire.MethodQuotation:
		q := sQuotation()
		q.Seq, q.TransactionID = seq, o.Txn.ID
		return q
	case wire.MethodCancel:
		m.ProviderOrderID = ""
	case wire.MethodAccept:
		if o.Offer != nil {
			m.Nonce = o.Offer.Nonce
			m.AcceptedCPD = ptrCPD(o.Offer.CPD)
		} else {
			m.Nonce = sNonce
			m.AcceptedCPD = ptrCPD(cpd.SampleConcrete())
		}
	case wire.MethodDecline:
		m.Nonce = sNonce
		if o.Offer != nil {
			m.Nonce = o.Offer.Nonce
		}
	case wire.MethodAck:
		if o.RequestedOfferTime != nil {
			m.ExpectedResponseTime = timePtr(*o.RequestedOfferTime)
		}
	case wire.MethodFail:
		m.StatusCode = wire.StatusMoreTimeRejected
	case wire.MethodOffer:
		m.Nonce = sNonce
		m.ValidityOfferTime = timePtr(st0.Add(time.Hour))
		m.OfferedCPD = ptrCPD(cpd.SampleConcrete())
	}
	return m
}

// sNewTxnMsg builds an UPDATE, WITHDRAW or ACTIVATE of a new transaction,
// with the agreement's nonce, first client sequence number 300.
func sNewTxnMsg(o ServerOrder, method wire.Method, txn string) wire.Message {
	m := wire.Message{
		Version: wire.Version, Method: method, Seq: 300,
		TransactionID: txn, CustomerOrderID: o.CustomerOrderID, ProviderOrderID: o.ProviderOrderID,
		Nonce: sNonce,
	}
	if o.Agreement != nil {
		m.Nonce = o.Agreement.Nonce
	}
	switch method {
	case wire.MethodUpdate:
		m.ExpectedResponseTime = timePtr(st0.Add(2 * time.Hour))
		m.RequestedCPD = ptrCPD(cpd.Sample())
	case wire.MethodActivate:
		m.ActivationSchedule = &wire.Schedule{At: st0}
	}
	return m
}

// Action filters.

func sSends(acts []Action) []Send {
	var out []Send
	for _, a := range acts {
		if s, ok := a.(Send); ok {
			out = append(out, s)
		}
	}
	return out
}

func sOnly[T Action](acts []Action) []T {
	var out []T
	for _, a := range acts {
		if v, ok := a.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func sHas[T Action](acts []Action) bool { return len(sOnly[T](acts)) > 0 }

// sSentMethods lists the methods sent to the client.
func sSentMethods(acts []Action) []wire.Method {
	var out []wire.Method
	for _, s := range sSends(acts) {
		out = append(out, s.Msg.Method)
	}
	return out
}

// sStates lists the From→To of the Transitions.
func sStates(acts []Action) []string {
	var out []string
	for _, tr := range sOnly[Transition](acts) {
		out = append(out, tr.From+"->"+tr.To)
	}
	return out
}

// sOneSend returns the single message sent to the client, failing otherwise.
func sOneSend(t *testing.T, acts []Action) Send {
	t.Helper()
	s := sSends(acts)
	if len(s) != 1 {
		t.Fatalf("got %d messages sent to the client, want 1; actions %#v", len(s), acts)
	}
	return s[0]
}

// sCheckPersistFirst checks write-ahead (DESIGN §4): when a step changes
// the order it emits Persist before the first message or resource action;
// a step without Persist leaves the order unchanged and may only re-send a
// stored answer or refuse with a FAIL.
func sCheckPersistFirst(t *testing.T, acts []Action) {
	t.Helper()
	persisted := !sHas[Persist](acts)
	for _, a := range acts {
		switch a := a.(type) {
		case Persist:
			return
		case Send:
			if !a.Retransmission && (!persisted || a.Msg.Method != wire.MethodFail) {
				t.Fatalf("got %s sent before Persist, want Persist first (write-ahead); actions %#v", a.Msg.Method, acts)
			}
		case SendChild, Reserve, Release, Commit, Consult, Activation:
			t.Fatalf("got %T before Persist, want Persist first (write-ahead); actions %#v", a, acts)
		}
	}
}
