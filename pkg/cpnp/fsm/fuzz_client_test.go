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
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Operations of the client fuzz script. Each step of the script is two
// bytes: the operation (modulo clFzOps) and an argument whose low 3 bits
// advance the clock and whose high 5 bits choose a variant (3 bits of
// choice, 2 bits of corruption for messages).
const (
	clFzProcessing = iota
	clFzOffer
	clFzAck
	clFzFail
	clFzClientMsg
	clFzNextTimer
	clFzTimer
	clFzRepeat
	clFzStale
	clFzApprove
	clFzQuote
	clFzAccept
	clFzDecline
	clFzCancel
	clFzUpdate
	clFzActivate
	clFzWithdraw
	clFzGrant
	clFzRefuse
	clFzOps
)

// clFzMaxSteps bounds one script, to keep each fuzz input fast.
const clFzMaxSteps = 64

var clFzAdvance = [8]time.Duration{0, 100 * time.Millisecond, time.Second, 2 * time.Second, 10 * time.Second, time.Minute, 10 * time.Minute, time.Hour}

// clFzWorld drives the client machine as a (sometimes misbehaving) server
// and user would, and checks the invariants after every step.
type clFzWorld struct {
	m       Client
	o       ClientOrder
	now     time.Time
	srvSeq  uint32
	txns    int
	last    *wire.Message // the last message delivered, for repeats
	sent    map[string]map[uint32]wire.Message
	maxSent map[string]uint32
}

func newClFzWorld(head byte) *clFzWorld {
	req := clRequest()
	if head&4 != 0 {
		req.ExpectedResponseTime = nil
	}
	if head&8 != 0 {
		req.InformationElements.NegotiationOptions = &wire.NegotiationOptions{ActivationType: wire.ActivationExplicit}
	}
	w := &clFzWorld{
		m:       DefaultClient(),
		o:       NewClientOrder(clCustomerID, req, head&1 != 0),
		now:     clT0,
		srvSeq:  clServerSeq,
		sent:    map[string]map[uint32]wire.Message{},
		maxSent: map[string]uint32{},
	}
	if head&2 != 0 {
		w.o.ExtensionLimit = clAtp(2 * time.Hour)
	}
	return w
}

// msg is a server message of the order's transaction, possibly corrupted.
func (w *clFzWorld) msg(method wire.Method, corrupt byte) wire.Message {
	w.srvSeq++
	m := clSrv(w.o, method, w.srvSeq)
	if m.TransactionID == "" {
		m.TransactionID = clTxnQuote
	}
	switch corrupt {
	case 2:
		m.ProviderOrderID = "ENP-other"
	case 3:
		m.TransactionID = "ffffffffffffffffffffffffffffffff"
	}
	return m
}

func (w *clFzWorld) newTxn() string {
	w.txns++
	return fmt.Sprintf("%032x", w.txns)
}

// event decodes one step of the script.
func (w *clFzWorld) event(op, arg byte) Event {
	w.now = w.now.Add(clFzAdvance[arg&7])
	choice, corrupt := (arg>>3)&7, arg>>6
	after := func(d time.Duration) *time.Time { t := w.now.Add(d); return &t }
	switch int(op) % clFzOps {
	case clFzProcessing:
		m := w.msg(wire.MethodProcessing, corrupt)
		m.ExpectedOfferTime = [4]*time.Time{nil, after(20 * time.Minute), after(90 * time.Minute), after(5 * time.Hour)}[choice%4]
		return w.deliver(m)
	case clFzOffer:
		m := w.msg(wire.MethodOffer, corrupt)
		// choice bits 0-1: validity; bit 2: the UPDATE's offer (new nonce, updated CPD).
		m.ValidityOfferTime = [4]*time.Time{after(time.Hour), after(time.Minute), after(-time.Second), after(time.Hour)}[choice&3]
		m.Nonce = [2]string{clNonce, clNonce2}[choice>>2]
		m.OfferedCPD = clCPDPtr([2]cpd.CPD{clOffered(), clUpdatedOffer()}[choice>>2])
		if choice&3 == 3 {
			m.ActivationSchedule = &wire.Schedule{At: w.now.Add(time.Hour)}
		}
		return w.deliver(m)
	case clFzAck:
		m := w.msg(wire.MethodAck, corrupt)
		m.CPD = [5]*cpd.CPD{clCPDPtr(clOffered()), clCPDPtr(cpd.Empty()), clCPDPtr(clRequested()), nil, clCPDPtr(clUpdatedOffer())}[choice%5]
		return w.deliver(m)
	case clFzFail:
		m := w.msg(wire.MethodFail, corrupt)
		m.StatusCode = wire.StatusCode(1 + choice)
		return w.deliver(m)
	case clFzClientMsg:
		methods := [7]wire.Method{wire.MethodQuotation, wire.MethodAccept, wire.MethodDecline, wire.MethodCancel,
			wire.MethodWithdraw, wire.MethodUpdate, wire.MethodActivate}
		return w.deliver(w.msg(methods[choice%7], corrupt))
	case clFzNextTimer:
		w.now = w.now.Add(-clFzAdvance[arg&7])
		if id, when, ok := w.o.NextDeadline(); ok {
			if when.After(w.now) {
				w.now = when
			}
			return TimerFired{ID: id, At: w.now}
		}
		return TimerFired{ID: TimerRetransmit, At: w.now}
	case clFzTimer:
		return TimerFired{ID: clientTimerInputs[int(choice)%len(clientTimerInputs)], At: w.now}
	case clFzRepeat, clFzStale:
		if w.last == nil {
			return ApproveOrder{At: w.now}
		}
		m := *cloneMessage(w.last)
		if int(op)%clFzOps == clFzStale {
			m.Seq--
		}
		return MsgReceived{Msg: m, At: w.now}
	case clFzApprove:
		return ApproveOrder{At: w.now}
	case clFzQuote:
		return Quote{At: w.now, TransactionID: w.newTxn(), Seq: uint32(choice) * 1000}
	case clFzAccept:
		return AcceptOffer{At: w.now}
	case clFzDecline:
		reasons := [4][]wire.Reason{nil, {1}, {2, 3}, {4}}[choice%4]
		return DeclineOffer{At: w.now, Reasons: reasons}
	case clFzCancel:
		return CancelOrder{At: w.now}
	case clFzUpdate:
		return UpdateOrder{At: w.now, TransactionID: w.newTxn(), Seq: uint32(choice) * 1000,
			CPD:                  [2]cpd.CPD{clRequested(), clUpdatedRequest()}[choice%2],
			ExpectedResponseTime: [3]*time.Time{after(time.Hour), after(2 * time.Hour), after(-time.Second)}[choice%3]}
	case clFzActivate:
		sc := [3]wire.Schedule{{At: w.now}, {At: w.now.Add(time.Hour)}, {Deactivate: true}}[choice%3]
		return ActivateOrder{At: w.now, TransactionID: w.newTxn(), Seq: uint32(choice) * 1000, Schedule: sc}
	case clFzWithdraw:
		return WithdrawOrder{At: w.now, TransactionID: w.newTxn(), Seq: uint32(choice) * 1000}
	case clFzGrant:
		return GrantExtension{At: w.now}
	default:
		return RefuseExtension{At: w.now}
	}
}

func (w *clFzWorld) deliver(m wire.Message) Event {
	w.last = cloneMessage(&m)
	return MsgReceived{Msg: m, At: w.now}
}

// step runs one event and checks every invariant.
func (w *clFzWorld) step(ev Event) error {
	before, err := json.Marshal(w.o)
	if err != nil {
		return fmt.Errorf("marshal: %w", err)
	}
	old := w.o
	snapshot := old.Clone()
	next, acts := w.m.Step(old, ev)
	if after, _ := json.Marshal(old); string(after) != string(before) {
		return fmt.Errorf("Step modified its input")
	}
	if err := checkCopyOnWrite(snapshot, old, next, ClientOrder.Clone); err != nil {
		return err
	}
	if err := checkClientStep(w.m, old, ev, next, acts); err != nil {
		return err
	}
	if !clContains(ClientStates, next.State) {
		return fmt.Errorf("unknown state %q", next.State)
	}
	// §11.3: incoming numbers accepted within a transaction only grow.
	if next.Txn.ID == old.Txn.ID && old.Txn.Counters.InSet &&
		(!next.Txn.Counters.InSet || next.Txn.Counters.In < old.Txn.Counters.In) {
		return fmt.Errorf("incoming counter went from %d to %d", old.Txn.Counters.In, next.Txn.Counters.In)
	}
	// §11.3, §11.4: outgoing numbers grow within a transaction; a
	// retransmission repeats an earlier message unchanged.
	for _, a := range acts {
		s, ok := a.(Send)
		if !ok {
			continue
		}
		txn := s.Msg.TransactionID
		if s.Retransmission {
			prev, ok := w.sent[txn][s.Msg.Seq]
			if !ok || !reflect.DeepEqual(prev, s.Msg) {
				return fmt.Errorf("retransmitted %s seq %d that was never sent as is", s.Msg.Method, s.Msg.Seq)
			}
			continue
		}
		if max, ok := w.maxSent[txn]; ok && s.Msg.Seq <= max {
			return fmt.Errorf("sent %s seq %d after seq %d in the same transaction", s.Msg.Method, s.Msg.Seq, max)
		}
		if w.sent[txn] == nil {
			w.sent[txn] = map[uint32]wire.Message{}
		}
		w.sent[txn][s.Msg.Seq] = *cloneMessage(&s.Msg)
		w.maxSent[txn] = s.Msg.Seq
	}
	w.o = next
	return nil
}

// clFuzzRun runs one fuzz script.
func clFuzzRun(t *testing.T, data []byte) {
	if len(data) == 0 {
		return
	}
	w := newClFzWorld(data[0])
	data = data[1:]
	for i := 0; i+1 < len(data) && i < 2*clFzMaxSteps; i += 2 {
		ev := w.event(data[i], data[i+1])
		if err := w.step(ev); err != nil {
			t.Fatalf("step %d (%s) in state %s: %v", i/2, clDescribeEvent(ev), w.o.State, err)
		}
	}
}

// FuzzClientSteps drives the client machine with random scripts of
// messages, timers and commands with plausible identifiers, checking after
// every step: no panic; the input order is never modified; every input has
// an outcome; Persist precedes the first Send; the timers mirror the timer
// actions; sequence numbers follow §11.3 and §11.4; a terminal order sends
// nothing but re-answers; identifiers never change once set; the order
// round-trips through JSON. Reference: RFC 8921 §8.11.1, §11.3, §11.4.
func FuzzClientSteps(f *testing.F) {
	for _, seed := range clFuzzSeeds() {
		f.Add(seed.data)
	}
	f.Fuzz(clFuzzRun)
}

// clFuzzSeed is a named seed script.
type clFuzzSeed struct {
	name string
	data []byte
}

// clScriptBytes encodes a script: a header byte then (op, arg) pairs.
func clScriptBytes(head byte, steps ...[2]byte) []byte {
	out := []byte{head}
	for _, s := range steps {
		out = append(out, s[0], s[1])
	}
	return out
}

// arg builds an argument byte: advance index, choice, corruption.
func clFzArg(advance, choice, corrupt byte) byte { return advance&7 | (choice&7)<<3 | corrupt<<6 }

// clFuzzSeeds are scripts that reach every state and cycle: the flows of
// Figures 6 and 11–16, retransmission and withdrawal cycles, expiries and
// corrupted messages.
func clFuzzSeeds() []clFuzzSeed {
	a := clFzArg
	neg := [][2]byte{
		{clFzQuote, a(0, 1, 0)}, {clFzProcessing, a(1, 1, 0)}, {clFzOffer, a(5, 0, 0)},
		{clFzAccept, a(5, 0, 0)}, {clFzAck, a(1, 0, 0)},
	}
	seq := func(parts ...[][2]byte) [][2]byte {
		var out [][2]byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	timers := func(n int) [][2]byte {
		var out [][2]byte
		for i := 0; i < n; i++ {
			out = append(out, [2]byte{clFzNextTimer, 0})
		}
		return out
	}
	return []clFuzzSeed{
		{"fig06", clScriptBytes(1, neg...)},
		{"approval", clScriptBytes(0, seq([][2]byte{{clFzQuote, 0}, {clFzApprove, 0}}, neg)...)},
		{"fig11_granted", clScriptBytes(1, seq([][2]byte{{clFzQuote, 0}, {clFzProcessing, a(1, 1, 0)},
			{clFzProcessing, a(5, 2, 0)}, {clFzGrant, a(1, 0, 0)}, {clFzRepeat, 0}, {clFzOffer, 0}, {clFzAccept, 0}, {clFzAck, 0}})...)},
		{"fig12_refused", clScriptBytes(3, [2]byte{clFzQuote, 0}, [2]byte{clFzProcessing, a(1, 3, 0)},
			[2]byte{clFzRepeat, 0}, [2]byte{clFzStale, 0})},
		{"fig13_decline", clScriptBytes(1, [2]byte{clFzQuote, 0}, [2]byte{clFzOffer, a(1, 0, 0)},
			[2]byte{clFzRepeat, 0}, [2]byte{clFzDecline, a(1, 1, 0)}, [2]byte{clFzAck, a(1, 1, 0)})},
		{"fig14_withdraw", clScriptBytes(1, seq(neg, [][2]byte{{clFzWithdraw, a(7, 0, 0)}, {clFzProcessing, a(1, 0, 0)}, {clFzAck, a(1, 1, 0)}})...)},
		{"withdraw_cycles", clScriptBytes(1, seq(neg, [][2]byte{{clFzWithdraw, a(7, 0, 0)}}, timers(6), [][2]byte{{clFzFail, a(1, 2, 0)}})...)},
		{"fig15_update", clScriptBytes(1, seq(neg, [][2]byte{{clFzUpdate, a(7, 1, 0)}, {clFzProcessing, a(1, 0, 0)},
			{clFzOffer, a(1, 4, 0)}, {clFzAccept, 0}, {clFzAck, a(1, 4, 0)}})...)},
		{"update_fail", clScriptBytes(1, seq(neg, [][2]byte{{clFzUpdate, a(7, 0, 0)}, {clFzFail, a(1, 4, 0)}, {clFzCancel, 0}})...)},
		{"fig16_activate", clScriptBytes(9, seq(neg, [][2]byte{{clFzActivate, a(7, 0, 0)}, {clFzAck, a(1, 3, 0)},
			{clFzActivate, a(7, 2, 0)}, {clFzFail, a(1, 7, 0)}})...)},
		{"retransmit_quote", clScriptBytes(1, seq([][2]byte{{clFzQuote, 0}}, timers(5))...)},
		{"retransmit_accept", clScriptBytes(1, seq(neg[:4], timers(6), [][2]byte{{clFzFail, a(1, 0, 0)}})...)},
		{"expiries", clScriptBytes(1, seq(neg[:3], [][2]byte{{clFzTimer, a(7, 3, 0)}}, timers(3))...)},
		{"corrupted", clScriptBytes(1, [2]byte{clFzQuote, 0}, [2]byte{clFzProcessing, a(1, 0, 2)},
			[2]byte{clFzOffer, a(1, 0, 3)}, [2]byte{clFzClientMsg, a(1, 1, 0)}, [2]byte{clFzAck, a(1, 2, 0)},
			[2]byte{clFzOffer, a(1, 2, 0)})},
	}
}

// TestClientFuzzSeeds runs every seed as a test and keeps the committed
// corpus under testdata/fuzz/FuzzClientSteps in sync with clFuzzSeeds
// (rewritten with -update).
func TestClientFuzzSeeds(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "fuzz", "FuzzClientSteps")
	for _, seed := range clFuzzSeeds() {
		clFuzzRun(t, seed.data)
		content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(seed.data)) + ")\n"
		path := filepath.Join(dir, seed.name)
		if clUpdateGolden() {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("corpus file %s is missing or stale (run with -update): %v", path, err)
		}
	}
}

// The seeds reach every Figure 8 state.
func TestClientFuzzSeedsCoverStates(t *testing.T) {
	t.Parallel()
	seen := map[ClientState]bool{}
	for _, seed := range clFuzzSeeds() {
		w := newClFzWorld(seed.data[0])
		d := seed.data[1:]
		for i := 0; i+1 < len(d); i += 2 {
			ev := w.event(d[i], d[i+1])
			next, acts := w.m.Step(w.o, ev)
			for _, a := range acts {
				if tr, ok := a.(Transition); ok {
					seen[ClientState(tr.To)] = true
				}
			}
			w.o = next
		}
	}
	for _, s := range ClientStates {
		if s != ClientCreated && !seen[s] {
			t.Errorf("no seed reaches %s", s)
		}
	}
}
