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
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// newWireCommand builds "cpnpctl wire": offline tools for CPNP messages
// (RFC 8921 §9, docs/wire.md).
func newWireCommand(s IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wire",
		Short: "Validate and show CPNP messages (RFC 8921 §9, docs/wire.md)",
		RunE:  runGroup,
	}
	cmd.AddCommand(newWireDecodeCommand(s), newWireExampleCommand(s))
	return cmd
}

func newWireDecodeCommand(s IOStreams) *cobra.Command {
	var (
		pretty  bool
		maxSize int
	)
	cmd := &cobra.Command{
		Use:   "decode [FILE|-]",
		Short: "Validate one CPNP message and print its canonical form",
		Long: "decode reads one CPNP message (a JSON object) from FILE, or from standard input when FILE\n" +
			"is \"-\" or absent, validates it against the RBNF of its method (RFC 8921 §9.2) and prints\n" +
			"its canonical encoding followed by a newline. Unknown members, and members that the\n" +
			"method does not carry, are dropped. An invalid message is reported on standard error,\n" +
			"naming the offending member, and the exit status is 1.",
		Example: "  cpnpctl wire example quotation | cpnpctl wire decode\n" +
			"  cpnpctl wire decode --pretty offer.json",
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := "-"
			if len(args) == 1 {
				name = args[0]
			}
			data, err := readInput(s.In, name, maxSize)
			if err != nil {
				return err
			}
			m, err := wire.DecodeWithLimit(data, maxSize)
			if err != nil {
				return fmt.Errorf("%s: %w", displayName(name), err)
			}
			return printMessage(s.Out, m, pretty)
		},
	}
	cmd.Flags().BoolVar(&pretty, "pretty", false, "indent the output (the canonical form is compact)")
	cmd.Flags().IntVar(&maxSize, "max-size", wire.DefaultMaxMessageSize, "largest message accepted, in bytes")
	return cmd
}

func newWireExampleCommand(s IOStreams) *cobra.Command {
	var pretty bool
	names := make([]string, 0, len(wire.Methods))
	for _, m := range wire.Methods {
		names = append(names, strings.ToLower(m.String()))
	}
	cmd := &cobra.Command{
		Use:   "example METHOD",
		Short: "Print a valid example message of a method",
		Long: "example prints a valid, realistic CPNP message of METHOD in canonical form. METHOD is an\n" +
			"operation name of RFC 8921 Table 1 in any case (" + strings.Join(names, ", ") + ")\n" +
			"or its code (1-11).",
		Example:   "  cpnpctl wire example offer\n  cpnpctl wire example 11 --pretty",
		Args:      cobra.ExactArgs(1),
		ValidArgs: names,
		RunE: func(_ *cobra.Command, args []string) error {
			m, ok := wire.ParseMethod(args[0])
			if !ok {
				return fmt.Errorf("unknown method %q: want one of %s, or a code 1-11", args[0], strings.Join(names, ", "))
			}
			return printMessage(s.Out, wire.Example(m), pretty)
		},
	}
	cmd.Flags().BoolVar(&pretty, "pretty", false, "indent the output (the canonical form is compact)")
	return cmd
}

// readInput reads the message named name ("-" is in), reading at most one
// byte more than limit so that oversize input is detected without reading
// it all.
func readInput(in io.Reader, name string, limit int) ([]byte, error) {
	if limit <= 0 {
		limit = wire.DefaultMaxMessageSize
	}
	r := in
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read message: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", displayName(name), err)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("%s: %w", displayName(name), &wire.ValidationError{
			Code:   wire.CodeTooLarge,
			Detail: fmt.Sprintf("message is larger than the limit of %d bytes", limit),
		})
	}
	return data, nil
}

func displayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}

// printMessage writes the canonical encoding of m and a newline.
func printMessage(w io.Writer, m wire.Message, pretty bool) error {
	b, err := wire.Encode(m)
	if err != nil {
		return err
	}
	if pretty {
		var buf bytes.Buffer
		if err := json.Indent(&buf, b, "", "  "); err != nil {
			return fmt.Errorf("indent: %w", err)
		}
		b = buf.Bytes()
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	return nil
}
