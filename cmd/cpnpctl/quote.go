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
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Acceptance modes of --accept.
const (
	acceptManual = "manual"
	acceptAuto   = "auto"
)

func parseAccept(s string) (bool, error) {
	switch s {
	case acceptManual:
		return false, nil
	case acceptAuto:
		return true, nil
	}
	return false, fmt.Errorf("flag --accept %q: want manual or auto", s)
}

// negotiationFlags are the flags of the verbs that start a negotiation
// (quote, update).
type negotiationFlags struct {
	file   string
	accept string
	wait   bool
}

func (n *negotiationFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&n.file, "filename", "f", "", "order file (YAML or JSON, see docs/cpnpctl.md); - reads standard input")
	cmd.Flags().StringVar(&n.accept, "accept", acceptManual,
		"manual: stop at the offer and print it; auto: accept an offer that satisfies every bound of the request, else decline it (reason 1)")
	cmd.Flags().BoolVar(&n.wait, "wait", false,
		"wait until the order is Completed or Cancelled (manual: until the offer arrives)")
}

func newQuoteCommand(s IOStreams, g *globalOptions) *cobra.Command {
	var nf negotiationFlags
	cmd := &cobra.Command{
		Use:   "quote -f order.yaml",
		Short: "Send a QUOTATION and follow the negotiation (RFC 8921 §9.2.1)",
		Long: "quote creates an order from the order file, stores it in the state file, sends its QUOTATION\n" +
			"to --server and prints one line per state change (time, state, reason).\n\n" +
			"Without --wait it returns once the server has answered (PROCESSING, OFFER or FAIL). With\n" +
			"--accept manual (the default) and --wait it stops when the offer arrives and prints it with\n" +
			"the commands that accept or decline it. --accept auto always waits: it accepts an offer that\n" +
			"satisfies every bound of the request and declines any other with reason 1 (Unacceptable\n" +
			"gap), then waits for the ACK.\n\n" +
			"Exit status: 0 success, 1 error, 2 the order ended Cancelled (FAIL, expiry, declined).",
		Example: "  cpnpctl quote -f order.yaml --wait\n  cpnpctl quote -f order.yaml --accept auto --timeout 5m",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			auto, err := parseAccept(nf.accept)
			if err != nil {
				return err
			}
			spec, err := readOrderFile(s.In, nf.file, time.Now())
			if err != nil {
				return err
			}
			id := spec.CustomerOrderID
			if id == "" {
				if id, err = client.NewCustomerOrderID(rand.Reader); err != nil {
					return err
				}
			}
			ss, err := openSession(cmd, g, s, id, false)
			if err != nil {
				return err
			}
			defer ss.stop()
			labels := map[string]string{labelTransport: string(ss.transport)}
			if g.serverName != "" {
				labels[labelServerName] = g.serverName
			}
			_, err = ss.eng.Quote(ss.ctx, ss.server, client.QuoteRequest{
				CustomerOrderID:      id,
				CPD:                  spec.CPD,
				ExpectedResponseTime: spec.ExpectedResponseTime,
				ExtensionLimit:       spec.ExtensionLimit,
				InformationElements:  spec.InformationElements,
				Name:                 nameOf(nf.file),
				Labels:               labels,
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "Order %s: QUOTATION sent to %s\n", id, ss.server)
			return ss.negotiate(auto, nf.wait)
		},
	}
	nf.add(cmd)
	return cmd
}

// nameOf is the order's name: the order file's path ("" for stdin).
func nameOf(file string) string {
	if file == "-" {
		return ""
	}
	return file
}

// negotiate follows a QUOTATION or UPDATE negotiation until the verb's
// end: see the quote command's help.
func (ss *session) negotiate(auto, wait bool) error {
	acted := false
	react := func(o client.Order) error {
		if !auto || acted || o.State() != fsm.ClientOfferProcessing || o.FSM.Offer == nil {
			return nil
		}
		acted = true
		fmt.Fprint(ss.s.Out, offerText(o))
		if ms := cpd.Satisfies(o.FSM.Offer.CPD, requestOf(o).CPD); len(ms) > 0 {
			fmt.Fprintf(ss.s.Out, "Declining the offer (reason 1, %s).\n", wire.ReasonUnacceptableGap)
			return ss.eng.Decline(ss.ctx, ss.id, wire.ReasonUnacceptableGap)
		}
		fmt.Fprintln(ss.s.Out, "Accepting the offer.")
		return ss.eng.Accept(ss.ctx, ss.id)
	}
	return ss.wait(negotiationJudge(auto, wait), react)
}

// negotiationJudge concludes a negotiation verb (quote, update, extend,
// wait): see the quote command's help.
func negotiationJudge(auto, wait bool) judge {
	return func(o client.Order, _ *client.Event) (verdict, string) {
		f := o.FSM
		switch f.State {
		case fsm.ClientCancelled:
			return failed, fmt.Sprintf("order %s ended %s", o.ID(), describeState(o))
		case fsm.ClientCompleted:
			if f.Failure != nil {
				return failed, fmt.Sprintf("order %s: the %s transaction ended %s; the agreement in force stands",
					o.ID(), strings.ToLower(string(f.Failure.Txn)), failureText(f.Failure))
			}
			if f.Txn.Unanswered != nil {
				return pending, ""
			}
			return succeeded, fmt.Sprintf("Order %s: agreement reached with %s (provider order %s), %s.",
				o.ID(), o.Server, f.ProviderOrderID, agreementText(o, time.Now()))
		case fsm.ClientOfferProcessing, fsm.ClientOfferReceived:
			if auto {
				return pending, ""
			}
			return succeeded, strings.TrimSuffix(offerText(o), "\n")
		case fsm.ClientServerProcessing:
			if f.PendingExtension != nil {
				return succeeded, fmt.Sprintf("Order %s: the server asks for more time, until %s.\n"+
					"To grant it:  cpnpctl extend %s --grant --wait\nTo refuse it: cpnpctl extend %s --refuse",
					o.ID(), timeText(*f.PendingExtension), o.ID(), o.ID())
			}
			if !wait && !auto {
				eot := "not given"
				if f.ExpectedOfferTime != nil {
					eot = timeText(*f.ExpectedOfferTime)
				}
				return succeeded, fmt.Sprintf("Order %s: the server is processing it (expected offer time %s).\n"+
					"To wait for the offer: cpnpctl wait %s", o.ID(), eot, o.ID())
			}
		}
		return pending, ""
	}
}
