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

package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// defaultUpdateResponseTime is the EXPECTED_RESPONSE_TIME of an UPDATE whose
// order file gives none (an UPDATE must carry one, RFC 8921 §9.2.9).
const defaultUpdateResponseTime = 10 * time.Minute

// orderVerb builds a verb that acts on one existing order: open a session,
// run act, then wait with the judge it returns.
func orderVerb(s IOStreams, g *globalOptions, use, short, long string, act func(ss *session) (judge, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ss, err := openSession(cmd, g, s, args[0], true)
			if err != nil {
				return err
			}
			defer ss.stop()
			j, err := act(ss)
			if err != nil {
				return err
			}
			return ss.wait(j, nil)
		},
	}
}

func newAcceptCommand(s IOStreams, g *globalOptions) *cobra.Command {
	return orderVerb(s, g, "accept ORDER", "Accept the order's offer and wait for the ACK (RFC 8921 §9.2.4)",
		"accept sends the ACCEPT of the offer of ORDER (a customer order identifier) and waits for the\n"+
			"server's ACK, which concludes the agreement. Exit status 2 when the order ends Cancelled.",
		func(ss *session) (judge, error) {
			if err := ss.eng.Accept(ss.ctx, ss.id); err != nil {
				return nil, err
			}
			return func(o client.Order, _ *client.Event) (verdict, string) {
				f := o.FSM
				switch {
				case f.State == fsm.ClientCancelled:
					return failed, fmt.Sprintf("order %s ended %s", o.ID(), describeState(o))
				case f.State == fsm.ClientCompleted && f.Failure != nil:
					return failed, fmt.Sprintf("order %s: the update ended %s; the previous agreement stands", o.ID(), failureText(f.Failure))
				case f.State == fsm.ClientCompleted && f.Txn.Unanswered == nil:
					return succeeded, fmt.Sprintf("Order %s: agreement reached (provider order %s), %s.",
						o.ID(), f.ProviderOrderID, agreementText(o, time.Now()))
				}
				return pending, ""
			}, nil
		})
}

// closeJudge concludes decline and cancel: done when the server
// acknowledged (or the retries ran out); the order is cancelled locally
// either way.
func closeJudge(what string) judge {
	return func(o client.Order, _ *client.Event) (verdict, string) {
		f := o.FSM
		if f.Txn.Unanswered != nil {
			return pending, ""
		}
		msg := fmt.Sprintf("Order %s %s; it is %s.", o.ID(), what, describeState(o))
		if f.Failure != nil && f.Failure.Reason == "CancelRefused" {
			msg += " The server refused it: it may not know the order any more."
		}
		return succeeded, msg
	}
}

func newDeclineCommand(s IOStreams, g *globalOptions) *cobra.Command {
	var reasons []int
	cmd := orderVerb(s, g, "decline ORDER [--reason N]...", "Decline the order's offer (RFC 8921 §9.2.5)",
		"decline sends a DECLINE of the offer of ORDER with the given reasons of RFC 8921 Table 3\n"+
			"(1 Unacceptable gap between the request and the offer, 2 Conflict with another offer from\n"+
			"another server, 3 Activation type mismatch) and waits for the server's ACK.",
		func(ss *session) (judge, error) {
			rs := make([]wire.Reason, 0, len(reasons))
			for _, r := range reasons {
				rs = append(rs, wire.Reason(r))
			}
			if err := ss.eng.Decline(ss.ctx, ss.id, rs...); err != nil {
				if errors.Is(err, client.ErrInvalidRequest) {
					return nil, fmt.Errorf("flag --reason: %w", err)
				}
				return nil, err
			}
			ss.softTimeout = "no ACK from the server to the DECLINE"
			return closeJudge("declined"), nil
		})
	cmd.Flags().IntSliceVar(&reasons, "reason", nil, "decline reason of RFC 8921 Table 3 (1, 2 or 3); repeatable")
	return cmd
}

func newCancelCommand(s IOStreams, g *globalOptions) *cobra.Command {
	return orderVerb(s, g, "cancel ORDER", "Cancel the order's negotiation (RFC 8921 §9.2.7)",
		"cancel sends a CANCEL for ORDER, whose negotiation has not reached an agreement yet, and\n"+
			"waits for the server's ACK. An agreement is ended with withdraw instead.",
		func(ss *session) (judge, error) {
			if err := ss.eng.Cancel(ss.ctx, ss.id); err != nil {
				return nil, err
			}
			ss.softTimeout = "no ACK from the server to the CANCEL"
			return closeJudge("cancelled"), nil
		})
}

func newWithdrawCommand(s IOStreams, g *globalOptions) *cobra.Command {
	return orderVerb(s, g, "withdraw ORDER", "Withdraw the order's agreement (RFC 8921 §9.2.8, §11.1.2)",
		"withdraw sends a WITHDRAW of the agreement of ORDER and waits for the server's ACK. Without an\n"+
			"ACK after every retransmission it raises an alarm and exits with status 2; the next\n"+
			"withdrawal cycle (at least 300 s later, §11.1.2) runs when `cpnpctl wait ORDER` runs.",
		func(ss *session) (judge, error) {
			if err := ss.eng.Withdraw(ss.ctx, ss.id); err != nil {
				return nil, err
			}
			return func(o client.Order, ev *client.Event) (verdict, string) {
				f := o.FSM
				switch {
				case f.WithdrawAcked:
					return succeeded, fmt.Sprintf("Order %s: agreement withdrawn.", o.ID())
				case f.Failure != nil && f.Failure.Reason == "WithdrawFailed":
					return failed, fmt.Sprintf("order %s: the server refused the WITHDRAW (%s); it may still hold the agreement",
						o.ID(), failureText(f.Failure))
				case ev != nil && ev.Kind == client.EventAlarm:
					next := "later"
					if t, ok := f.Timers[fsm.TimerWithdrawCycle]; ok {
						next = timeText(t)
					}
					return failed, fmt.Sprintf("order %s: no ACK to the WITHDRAW after every retry; run `cpnpctl wait %s` after %s for the next withdrawal cycle",
						o.ID(), o.ID(), next)
				}
				return pending, ""
			}, nil
		})
}

func newActivateCommand(s IOStreams, g *globalOptions) *cobra.Command {
	var (
		at         string
		deactivate bool
	)
	cmd := orderVerb(s, g, "activate ORDER [--at RFC3339 | --deactivate]", "Activate or deactivate the order's agreement (RFC 8921 §9.2.11)",
		"activate sends an ACTIVATE for the agreement of ORDER: at once by default, at --at, or\n"+
			"--deactivate (ACTIVATION_SCHEDULE \"0\"), and waits for the ACK. Servers accept it only for\n"+
			"agreements negotiated with activationType explicit (FAIL 8 otherwise).",
		func(ss *session) (judge, error) {
			sched := wire.ScheduleAt(time.Now())
			switch {
			case deactivate:
				sched = wire.ScheduleDeactivate()
			case at != "":
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return nil, fmt.Errorf("flag --at %q: want an RFC 3339 time such as 2026-05-01T12:00:00Z", at)
				}
				sched = wire.ScheduleAt(t)
			}
			if err := ss.eng.Activate(ss.ctx, ss.id, sched); err != nil {
				return nil, err
			}
			return func(o client.Order, _ *client.Event) (verdict, string) {
				f := o.FSM
				if f.Activation != nil || f.Txn.Unanswered != nil {
					return pending, ""
				}
				if f.Failure != nil {
					return failed, fmt.Sprintf("order %s: %s", o.ID(), failureText(f.Failure))
				}
				return succeeded, fmt.Sprintf("Order %s: agreement %s.", o.ID(), agreementText(o, time.Now()))
			}, nil
		})
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if deactivate && at != "" {
			return errors.New("flags --at and --deactivate are exclusive")
		}
		return nil
	}
	cmd.Flags().StringVar(&at, "at", "", "activation time (RFC 3339); at or before now means at once")
	cmd.Flags().BoolVar(&deactivate, "deactivate", false, "deactivate the agreement")
	return cmd
}

func newExtendCommand(s IOStreams, g *globalOptions) *cobra.Command {
	var grant, refuse, wait bool
	cmd := orderVerb(s, g, "extend ORDER (--grant | --refuse)", "Answer the server's request for more time (RFC 8921 §9.2.2)",
		"extend answers a PROCESSING that asked for a later expected offer time than granted (when the\n"+
			"order file set no extensionLimit, or the request went beyond it): --grant sends an ACK\n"+
			"(Figure 11), --refuse sends FAIL 7 More Time Rejected and ends the negotiation (Figure 12).\n"+
			"With --grant --wait it then waits for the offer.",
		func(ss *session) (judge, error) {
			if refuse {
				if err := ss.eng.RefuseExtension(ss.ctx, ss.id); err != nil {
					return nil, err
				}
				return func(o client.Order, _ *client.Event) (verdict, string) {
					return succeeded, fmt.Sprintf("Order %s: more time refused; it is %s.", o.ID(), describeState(o))
				}, nil
			}
			if err := ss.eng.GrantExtension(ss.ctx, ss.id); err != nil {
				return nil, err
			}
			return negotiationJudge(false, wait), nil
		})
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if grant == refuse {
			return errors.New("give exactly one of --grant and --refuse")
		}
		return nil
	}
	cmd.Flags().BoolVar(&grant, "grant", false, "grant the requested time (ACK)")
	cmd.Flags().BoolVar(&refuse, "refuse", false, "refuse it (FAIL 7)")
	cmd.Flags().BoolVar(&wait, "wait", false, "after granting, wait for the offer")
	return cmd
}

func newWaitCommand(s IOStreams, g *globalOptions) *cobra.Command {
	return orderVerb(s, g, "wait ORDER", "Run the order until it needs you or settles",
		"wait runs the engine for ORDER — retransmissions, timers, the server's messages — until the\n"+
			"offer arrives, the server asks for more time, the agreement is reached (and nothing is\n"+
			"pending) or the order ends; or until --timeout. Messages the server sends while no cpnpctl\n"+
			"runs for the order are only received if the server retransmits them while one does.",
		func(*session) (judge, error) {
			wj := negotiationJudge(false, true)
			return func(o client.Order, ev *client.Event) (verdict, string) {
				f := o.FSM
				switch f.State {
				case fsm.ClientCancelled:
					switch {
					case f.Txn.Kind == fsm.TxnWithdraw && f.WithdrawAcked:
						return succeeded, fmt.Sprintf("Order %s: agreement withdrawn.", o.ID())
					case !f.Terminal():
						return pending, ""
					}
				case fsm.ClientCompleted:
					if f.Txn.Unanswered != nil {
						return pending, ""
					}
				}
				return wj(o, ev)
			}, nil
		})
}

func newUpdateCommand(s IOStreams, g *globalOptions) *cobra.Command {
	var nf negotiationFlags
	cmd := &cobra.Command{
		Use:   "update ORDER -f order.yaml",
		Short: "Start an UPDATE of the order's agreement (RFC 8921 §9.2.9)",
		Long: "update sends an UPDATE of the agreement of ORDER with the cpd of the order file (and its\n" +
			"expectedResponseTime, default 10m) and follows the negotiation like quote. The agreement\n" +
			"stands until the new offer is accepted and acknowledged; a failed update leaves it as it was\n" +
			"(exit status 2).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			auto, err := parseAccept(nf.accept)
			if err != nil {
				return err
			}
			now := time.Now()
			spec, err := readOrderFile(s.In, nf.file, now)
			if err != nil {
				return err
			}
			id := args[0]
			if spec.CustomerOrderID != "" && spec.CustomerOrderID != id {
				return fmt.Errorf("order file %s: customerOrderID %s is not ORDER %s", displayName(nf.file), spec.CustomerOrderID, id)
			}
			ert := now.Add(defaultUpdateResponseTime)
			if spec.ExpectedResponseTime != nil {
				ert = *spec.ExpectedResponseTime
			}
			ss, err := openSession(cmd, g, s, id, true)
			if err != nil {
				return err
			}
			defer ss.stop()
			if err := ss.eng.Update(ss.ctx, id, spec.CPD, ert); err != nil {
				return err
			}
			return ss.negotiate(auto, nf.wait)
		},
	}
	nf.add(cmd)
	return cmd
}
