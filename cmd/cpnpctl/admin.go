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
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// maxAdminResponse bounds what cpnpctl reads from the admin API.
const maxAdminResponse = 16 << 20

// newAdminCommand builds "cpnpctl admin": the admin API of cpnp-server
// (--admin-listen, docs/server.md), for orders held for administrative
// validation (RFC 8921 §8.2, §12.2).
func newAdminCommand(s IOStreams, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "List, approve and reject orders on a cpnp-server (admin API, --admin URL)",
		Long: "admin talks HTTP to the admin API that cpnp-server serves on --admin-listen (--admin,\n" +
			"default " + defaultAdminURL + "): orders held for administrative validation (RFC 8921\n" +
			"§8.2, §12.2) wait in AwaitingProcessing until approved; a rejected order gets FAIL 4.",
		RunE: runGroup,
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List the server's orders (GET /admin/orders)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := g.checkOutput(); err != nil {
					return err
				}
				body, err := adminCall(cmd.Context(), g, http.MethodGet, "/admin/orders")
				if err != nil {
					return err
				}
				return printAdminOrders(s.Out, g.output, body)
			},
		},
		adminPost(s, g, "approve", "Approve a held order (POST /admin/orders/ID/approve)", "approved"),
		adminPost(s, g, "reject", "Reject a held order with FAIL 4 (POST /admin/orders/ID/reject)", "rejected"),
	)
	return cmd
}

func adminPost(s IOStreams, g *globalOptions, verb, short, done string) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Long:  short + ". ID is the provider order identifier that admin list shows.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := adminCall(cmd.Context(), g, http.MethodPost, "/admin/orders/"+url.PathEscape(args[0])+"/"+verb)
			if err != nil {
				return err
			}
			state := "?"
			var sum map[string]any
			if json.Unmarshal(body, &sum) == nil {
				state = field(sum, "state")
			}
			fmt.Fprintf(s.Out, "Order %s %s; it is %s.\n", args[0], done, state)
			return nil
		},
	}
}

// adminCall sends one request to the admin API and returns the body of a
// 2xx answer; any other answer is an error carrying the API's message.
func adminCall(ctx context.Context, g *globalOptions, method, path string) ([]byte, error) {
	base, err := url.Parse(g.admin)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("flag --admin %q: want a URL such as %s", g.admin, defaultAdminURL)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	target := strings.TrimSuffix(base.String(), "/") + path
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin API at %s: %w", g.admin, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminResponse))
	if err != nil {
		return nil, fmt.Errorf("admin API %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(body))
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return nil, fmt.Errorf("admin API %s %s: %s: %s", method, path, resp.Status, msg)
	}
	return body, nil
}

// printAdminOrders prints GET /admin/orders. It accepts {"orders": [...]}
// or a bare array, and reads the members it knows, so that it keeps
// working when the server adds some.
func printAdminOrders(w io.Writer, format string, body []byte) error {
	var orders []map[string]any
	var wrapped struct {
		Orders []map[string]any `json:"orders"`
	}
	if err := json.Unmarshal(body, &wrapped); err == nil && wrapped.Orders != nil {
		orders = wrapped.Orders
	} else if err := json.Unmarshal(body, &orders); err != nil {
		return fmt.Errorf("admin API: unexpected list of orders: %s", truncate(string(body), 200))
	}
	if format != outputTable {
		return writeStructured(w, format, map[string]any{"orders": orders})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER ORDER\tCUSTOMER ORDER\tIDENTITY\tSTATE\tHELD\tDECISION")
	for _, o := range orders {
		held := "no"
		if b, _ := o["held"].(bool); b {
			held = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n",
			dash(field(o, "providerOrderID", "provider_order_identifier", "id")),
			dash(field(o, "customerOrderID", "customer_order_identifier")),
			dash(field(o, "identity")), dash(field(o, "state")), held,
			dash(truncate(field(o, "decision"), 60)))
	}
	return tw.Flush()
}

// field returns the first of the named members that is a string.
func field(m map[string]any, names ...string) string {
	for _, n := range names {
		if v, ok := m[n].(string); ok {
			return v
		}
	}
	return ""
}

func truncate(s string, n int) string {
	s = string(bytes.ToValidUTF8([]byte(s), nil))
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
