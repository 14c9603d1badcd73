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
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
)

func newStatusCommand(s IOStreams, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status [ORDER]",
		Short: "Show the orders of the state file",
		Long: "status lists the orders kept in the state file (--state) with their server, Figure 8 state\n" +
			"(RFC 8921 §8.11.1), provider order identifier, agreement and last failure, or shows one\n" +
			"ORDER in detail with its history. It does not contact the server. -o json|yaml prints the\n" +
			"same data structured (never the nonces).",
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			state, err := g.readState()
			if err != nil {
				return err
			}
			var orders []client.Order
			if state != nil {
				defer state.Close()
				if len(args) == 1 {
					o, err := state.Get(args[0])
					if err != nil {
						if errors.Is(err, client.ErrUnknownOrder) {
							return fmt.Errorf("order %s not found in %s", args[0], g.state)
						}
						return err
					}
					orders = []client.Order{o}
				} else if orders, err = state.Load(context.Background()); err != nil {
					return err
				}
			} else if len(args) == 1 {
				return fmt.Errorf("order %s not found: no state file %s", args[0], g.state)
			}
			sort.SliceStable(orders, func(i, j int) bool { return orders[i].CreatedAt.Before(orders[j].CreatedAt) })
			if len(args) == 1 {
				return printOrder(s.Out, g.output, orders[0])
			}
			return printOrders(s.Out, g.output, orders)
		},
	}
}

func printOrders(w io.Writer, format string, orders []client.Order) error {
	if format != outputTable {
		views := make([]orderView, 0, len(orders))
		for _, o := range orders {
			views = append(views, viewOf(o))
		}
		return writeStructured(w, format, map[string][]orderView{"orders": views})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORDER\tSERVER\tSTATE\tPROVIDER ORDER\tAGREEMENT\tFAILURE")
	now := time.Now()
	for _, o := range orders {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.ID(), o.Server, o.State(), dash(o.FSM.ProviderOrderID),
			agreementText(o, now), dash(failureText(o.FSM.Failure)))
	}
	return tw.Flush()
}

func printOrder(w io.Writer, format string, o client.Order) error {
	if format != outputTable {
		return writeStructured(w, format, viewOf(o))
	}
	f := o.FSM
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("Order", o.ID())
	row("Server", o.Server)
	row("State", string(f.State))
	row("Provider order", dash(f.ProviderOrderID))
	row("Transaction", dash(string(f.Txn.Kind)+" "+f.Txn.ID))
	if t := f.Request.ExpectedResponseTime; t != nil {
		row("Expected response time", timeText(*t))
	}
	if t := f.ExpectedOfferTime; t != nil {
		row("Expected offer time", timeText(*t))
	}
	if t := f.PendingExtension; t != nil {
		row("More time requested until", timeText(*t))
	}
	if off := f.Offer; off != nil {
		row("Offer valid until", timeText(off.ValidUntil))
	}
	row("Agreement", agreementText(o, time.Now()))
	row("Failure", dash(failureText(f.Failure)))
	row("Created", timeText(o.CreatedAt))
	row("Updated", timeText(o.UpdatedAt))
	if err := tw.Flush(); err != nil {
		return err
	}
	if a := f.Agreement; a != nil {
		fmt.Fprintln(w, "Agreed CPD:")
		if b, err := yaml.Marshal(a.CPD); err == nil {
			fmt.Fprint(w, indent(string(b), "  "))
		}
	}
	if len(o.History) > 0 {
		fmt.Fprintln(w, "History:")
		for _, t := range o.History {
			line := fmt.Sprintf("  %s  %-18s %s", timeText(t.At), t.To, t.Reason)
			if t.StatusCode != 0 {
				line += fmt.Sprintf(" (FAIL %d %s)", int(t.StatusCode), t.StatusCode)
			}
			fmt.Fprintln(w, line)
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" || s == " " {
		return "-"
	}
	return s
}
