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
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// IOStreams are the standard streams a command uses, so that tests run
// commands in-process.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// newRootCommand builds the cpnpctl command tree. Each verb group is built
// by its own file (wire.go, ...) and added here.
func newRootCommand(s IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "cpnpctl",
		Short: "Command-line client of the Connectivity Provisioning Negotiation Protocol (RFC 8921)",
		Long: "cpnpctl negotiates connectivity with CPNP servers (RFC 8921) and inspects CPNP messages.\n" +
			"It is also installable as the kubectl plugin kubectl-cpnp.",
		SilenceUsage:  true, // an invalid message is not a usage error
		SilenceErrors: true, // run prints the error once, prefixed
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.AddCommand(newWireCommand(s))
	g := addGlobalFlags(root)
	root.AddCommand(newQuoteCommand(s, g))
	root.AddCommand(newAcceptCommand(s, g))
	root.AddCommand(newDeclineCommand(s, g))
	root.AddCommand(newCancelCommand(s, g))
	root.AddCommand(newUpdateCommand(s, g))
	root.AddCommand(newWithdrawCommand(s, g))
	root.AddCommand(newActivateCommand(s, g))
	root.AddCommand(newExtendCommand(s, g))
	root.AddCommand(newWaitCommand(s, g))
	root.AddCommand(newStatusCommand(s, g))
	root.AddCommand(newAdminCommand(s, g))
	root.AddCommand(newCertsCommand(s, g))
	return root
}

// runGroup is the RunE of a command that only groups verbs ("cpnpctl wire"):
// without arguments it prints its help, and an unknown verb is an error
// (cobra only checks verbs of the root command).
func runGroup(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return fmt.Errorf("unknown command %q for %q; see %q", args[0], cmd.CommandPath(), cmd.CommandPath()+" --help")
}

// run executes the command line args and returns the exit status: 0 on
// success, else the error's status (exitCode: 2 when an order ended
// Cancelled or failed, else 1) after printing the error, prefixed with
// "cpnpctl: ", as one line on s.ErrOut.
func run(args []string, s IOStreams) int {
	root := newRootCommand(s)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(s.ErrOut, "cpnpctl: %v\n", err)
		return exitCode(err)
	}
	return 0
}
