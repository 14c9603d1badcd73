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

// Golden transcripts of the client machine for the flows of RFC 8921
// Figures 6 and 11–16, seen from the client. Regenerate with
//
//	go test ./pkg/cpnp/fsm -run TestClientGolden -update

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// The -update flag is shared by every golden test of the package: it is
// registered once, and read through flag.Lookup, so that another test file
// may register it first.
var _ = func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
	return true
}()

func clUpdateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// clUpdatedOffer is the offer of the UPDATE cycle of Figure 15: the Lyon
// site removed (§9.2.9: "only sites A and B will be included in the OFFER").
func clUpdatedOffer() cpd.CPD {
	c := cpd.SampleConcrete()
	c.Components = c.Components[:1]
	return c
}

func clUpdatedRequest() cpd.CPD {
	c := cpd.Sample()
	c.Components = c.Components[:1]
	return c
}

// clScript records a run of the client machine as a transcript.
type clScript struct {
	s   *clStepper
	out strings.Builder
}

func newClScript(t *testing.T, title string, o ClientOrder) *clScript {
	t.Helper()
	sc := &clScript{s: newClStepper(t, o)}
	sc.out.WriteString("# " + title + "\n# Each step: the input at its time (+ from the reference time), the actions, the new state.\n")
	return sc
}

func (sc *clScript) step(ev Event) *clScript {
	sc.s.t.Helper()
	acts := sc.s.step(ev)
	sc.out.WriteString("\n> +" + ev.When().Sub(clT0).String() + " " + clDescribeEvent(ev) + "\n")
	for _, a := range acts {
		sc.out.WriteString("  " + clDescribeAction(a) + "\n")
	}
	sc.out.WriteString("  = " + string(sc.s.o.State) + "\n")
	return sc
}

func (sc *clScript) recv(m wire.Message, d time.Duration) *clScript {
	sc.s.t.Helper()
	return sc.step(clRecv(m, d))
}

func (sc *clScript) check(t *testing.T, name string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	got := sc.out.String()
	if clUpdateGolden() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); run with -update if the change is intended:\n%s", path, diff)
	}
}

func clNegotiated(t *testing.T, title string, o ClientOrder) *clScript {
	t.Helper()
	sc := newClScript(t, title, o)
	sc.step(Quote{At: clAt(0), TransactionID: clTxnQuote, Seq: clClientSeq})
	sc.recv(clProcessing(sc.s.o, clAtp(30*time.Minute)), time.Second/2)
	return sc
}

func TestClientGolden(t *testing.T) {
	t.Parallel()
	tests := map[string]func(t *testing.T) *clScript{
		// Reference: RFC 8921 §8.7, Figure 6.
		"client_fig06_negotiation.txt": func(t *testing.T) *clScript {
			sc := clNegotiated(t, "RFC 8921 Figure 6: negotiation cycle (client side)", NewClientOrder(clCustomerID, clRequest(), true))
			sc.recv(clOffer(sc.s.o, clNonce, clAt(2*time.Hour)), time.Minute)
			sc.step(AcceptOffer{At: clAt(2 * time.Minute)})
			sc.step(TimerFired{ID: TimerRetransmit, At: clAt(2*time.Minute + time.Second)})
			return sc.recv(clAck(sc.s.o, clCPDPtr(clOffered())), 2*time.Minute+1500*time.Millisecond)
		},
		// Reference: RFC 8921 §9.2.2, Figure 11; the user grants the time.
		"client_fig11_more_time_granted.txt": func(t *testing.T) *clScript {
			sc := clNegotiated(t, "RFC 8921 Figure 11: request more negotiation time, granted by the user", NewClientOrder(clCustomerID, clRequest(), true))
			sc.recv(clProcessing(sc.s.o, clAtp(90*time.Minute)), 20*time.Minute)
			sc.step(GrantExtension{At: clAt(21 * time.Minute)})
			sc.recv(clOffer(sc.s.o, clNonce, clAt(3*time.Hour)), 80*time.Minute)
			sc.step(AcceptOffer{At: clAt(81 * time.Minute)})
			return sc.recv(clAck(sc.s.o, clCPDPtr(clOffered())), 81*time.Minute+time.Second/2)
		},
		// Reference: RFC 8921 §9.2.2, Figure 12; ExtensionLimit refuses at once.
		"client_fig12_more_time_rejected.txt": func(t *testing.T) *clScript {
			o := NewClientOrder(clCustomerID, clRequest(), true)
			o.ExtensionLimit = clAtp(75 * time.Minute)
			sc := clNegotiated(t, "RFC 8921 Figure 12: request more negotiation time, rejected (ExtensionLimit +1h15m)", o)
			more := clProcessing(sc.s.o, clAtp(90*time.Minute))
			sc.recv(more, 20*time.Minute)
			// §11.4: the server repeats its request; the FAIL is re-sent.
			return sc.recv(more, 20*time.Minute+time.Second)
		},
		// Reference: RFC 8921 §9.2.5, Figure 13.
		"client_fig13_decline.txt": func(t *testing.T) *clScript {
			sc := clNegotiated(t, "RFC 8921 Figure 13: DECLINE flow (client side)", NewClientOrder(clCustomerID, clRequest(), true))
			sc.recv(clOffer(sc.s.o, clNonce, clAt(2*time.Hour)), time.Minute)
			sc.step(DeclineOffer{At: clAt(2 * time.Minute), Reasons: []wire.Reason{wire.ReasonUnacceptableGap}})
			return sc.recv(clAck(sc.s.o, clCPDPtr(cpd.Empty())), 2*time.Minute+time.Second/2)
		},
		// Reference: RFC 8921 §9.2.8, Figure 14.
		"client_fig14_withdraw.txt": func(t *testing.T) *clScript {
			sc := newClScript(t, "RFC 8921 Figure 14: WITHDRAW flow (client side)", clFxCompleted(t).o)
			sc.step(WithdrawOrder{At: clAt(time.Hour), TransactionID: clTxnWd, Seq: 7000})
			sc.recv(clProcessing(sc.s.o, nil), time.Hour+time.Second/2)
			return sc.recv(clAck(sc.s.o, clCPDPtr(cpd.Empty())), time.Hour+time.Second)
		},
		// Reference: RFC 8921 §11.1.2: WITHDRAW unanswered through every retry.
		"client_withdraw_cycles.txt": func(t *testing.T) *clScript {
			sc := newClScript(t, "RFC 8921 §11.1.2: withdrawal cycles, an Alarm and a new cycle every 300 s", clFxCompleted(t).o)
			sc.step(WithdrawOrder{At: clAt(time.Hour), TransactionID: clTxnWd, Seq: 7000})
			for _, d := range []time.Duration{1, 3, 7, 15} {
				sc.step(TimerFired{ID: TimerRetransmit, At: clAt(time.Hour + d*time.Second)})
			}
			sc.step(TimerFired{ID: TimerWithdrawCycle, At: clAt(time.Hour + 315*time.Second)})
			return sc.recv(clAck(sc.s.o, clCPDPtr(cpd.Empty())), time.Hour+316*time.Second)
		},
		// Reference: RFC 8921 §9.2.9, Figure 15.
		"client_fig15_update.txt": func(t *testing.T) *clScript {
			sc := newClScript(t, "RFC 8921 Figure 15: UPDATE flow (client side); the new nonce replaces the old one", clFxCompleted(t).o)
			sc.step(UpdateOrder{At: clAt(time.Hour), TransactionID: clTxnUpdate, Seq: 5000,
				CPD: clUpdatedRequest(), ExpectedResponseTime: clAtp(2 * time.Hour)})
			sc.recv(clProcessing(sc.s.o, nil), time.Hour+time.Second/2)
			offer := clOffer(sc.s.o, clNonce2, clAt(3*time.Hour))
			offer.OfferedCPD = clCPDPtr(clUpdatedOffer())
			sc.recv(offer, time.Hour+time.Minute)
			sc.step(AcceptOffer{At: clAt(time.Hour + 2*time.Minute)})
			return sc.recv(clAck(sc.s.o, clCPDPtr(clUpdatedOffer())), time.Hour+2*time.Minute+time.Second/2)
		},
		// Reference: RFC 8921 §9.2.9, §11.1.3, DESIGN §3: a failed UPDATE cycle
		// returns to Completed with the previous agreement and nonce.
		"client_update_failed.txt": func(t *testing.T) *clScript {
			sc := newClScript(t, "UPDATE refused with FAIL 5: the previous agreement stands", clFxCompleted(t).o)
			sc.step(UpdateOrder{At: clAt(time.Hour), TransactionID: clTxnUpdate, Seq: 5000,
				CPD: clUpdatedRequest(), ExpectedResponseTime: clAtp(2 * time.Hour)})
			sc.recv(clProcessing(sc.s.o, nil), time.Hour+time.Second/2)
			sc.recv(clFail(sc.s.o, wire.StatusOutOfResources), time.Hour+time.Minute)
			// The agreement still carries the original nonce.
			return sc.step(WithdrawOrder{At: clAt(2 * time.Hour), TransactionID: clTxnWd, Seq: 7000})
		},
		// Reference: RFC 8921 §9.2.11, Figure 16 (activation type explicit).
		"client_fig16_activate.txt": func(t *testing.T) *clScript {
			req := clRequest()
			req.InformationElements.NegotiationOptions = &wire.NegotiationOptions{ActivationType: wire.ActivationExplicit}
			sc := clNegotiated(t, "RFC 8921 Figure 16: ACTIVATE flow (client side), explicit activation", NewClientOrder(clCustomerID, req, true))
			sc.recv(clOffer(sc.s.o, clNonce, clAt(2*time.Hour)), time.Minute)
			sc.step(AcceptOffer{At: clAt(2 * time.Minute)})
			sc.recv(clAck(sc.s.o, clCPDPtr(clOffered())), 2*time.Minute+time.Second/2)
			sc.step(ActivateOrder{At: clAt(time.Hour), TransactionID: clTxnAct, Seq: 6000, Schedule: wire.Schedule{At: clAt(time.Hour)}})
			sc.recv(clAck(sc.s.o, nil), time.Hour+time.Second/2)
			sc.step(ActivateOrder{At: clAt(2 * time.Hour), TransactionID: clTxnUpdate, Seq: 6100, Schedule: wire.Schedule{Deactivate: true}})
			return sc.recv(clAck(sc.s.o, nil), 2*time.Hour+time.Second/2)
		},
	}
	for name, run := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t).check(t, name)
		})
	}
}
