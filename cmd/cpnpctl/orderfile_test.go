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
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

var parseNow = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)

// TestOrderFileExample parses testdata/order.yaml, which docs/cpnpctl.md
// shows in full, and checks every member.
// Reference: RFC 8921 §9.2.1, §9.1.6, §9.1.10.
func TestOrderFileExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/order.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := parseOrderFile(data, parseNow)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	ert, ext := parseNow.Add(10*time.Minute), parseNow.Add(30*time.Minute)
	want := orderSpec{
		CustomerOrderID:      "acme-wan-0001",
		ExpectedResponseTime: &ert,
		ExtensionLimit:       &ext,
		InformationElements: &wire.InformationElements{
			CustomerDescription: &wire.CustomerDescription{Name: "ACME Corp", Contact: &wire.Contact{
				Email: "noc@acme.example", PostalAddress: "1 Main Street, 75001 Paris", TelephoneNumbers: []string{"+33 1 23 45 67 89"},
			}},
			NegotiationOptions: &wire.NegotiationOptions{Purpose: wire.PurposePermanent, ActivationType: wire.ActivationImmediate, Scope: wire.ScopeLocal},
		},
	}
	got := spec
	got.CPD = cpd.CPD{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order file (-want +got):\n%s", diff)
	}
	c := spec.CPD.Components
	if len(c) != 1 || c[0].Capacity == nil || c[0].QoS == nil || !c[0].QoS.OneWayDelayMs.Equal(cpd.AtMost(30)) ||
		!c[0].Capacity.OutgoingBps.Equal(cpd.Between(100e6, 200e6)) {
		t.Errorf("cpd = %s, want the example's component", spec.CPD.Canonical())
	}

	// docs/cpnpctl.md shows the same file.
	doc, err := os.ReadFile("../../docs/cpnpctl.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, bytes.TrimSpace(data)) {
		t.Errorf("docs/cpnpctl.md does not show testdata/order.yaml verbatim")
	}
}

// TestOrderFileErrors: every error names the field (or file position) at
// fault; unknown fields are errors at every level, including inside cpd.
func TestOrderFileErrors(t *testing.T) {
	t.Parallel()
	const cpdOK = "cpd: {components: [{customer_nodes: [{identifier: ce1}], capacity: {outgoing_bps: 1000}}]}\n"
	tests := map[string]struct {
		file string
		want string // a regexp the error must match
	}{
		"unknown top-level field":   {file: cpdOK + "expectedResponsTime: 10m\n", want: `^expectedResponsTime: unknown field \(known: .*expectedResponseTime`},
		"unknown customer field":    {file: cpdOK + "customer: {name: A, phone: 1}\n", want: `^customer\.phone: unknown field`},
		"unknown contact field":     {file: cpdOK + "customer: {contact: {mail: a@b}}\n", want: `^customer\.contact\.mail: unknown field`},
		"unknown cpd member":        {file: "cpd: {components: [{customer_nodes: [{identifier: ce1}], qos: {delay_ms: 3}}]}\n", want: `^cpd\.components\[0\]\.qos\.delay_ms: unknown field`},
		"unknown cpd node member":   {file: "cpd: {components: [{customer_nodes: [{identifier: ce1, site: x}]}]}\n", want: `^cpd\.components\[0\]\.customer_nodes\[0\]\.site: unknown field`},
		"unknown value bound":       {file: "cpd: {components: [{customer_nodes: [{identifier: ce1}], capacity: {outgoing_bps: {minimum: 1}}}]}\n", want: `^cpd\.components\[0\]\.capacity\.outgoing_bps\.minimum: unknown field`},
		"cpd missing":               {file: "expectedResponseTime: 10m\n", want: `^cpd: required`},
		"cpd empty":                 {file: "cpd: {components: []}\n", want: `^cpd: .*components`},
		"cpd bad type":              {file: "cpd: {components: [{customer_nodes: [{identifier: ce1}], capacity: {outgoing_bps: fast}}]}\n", want: `^cpd: .*outgoing_bps`},
		"cpd out of range":          {file: "cpd: {components: [{customer_nodes: [{identifier: ce1}], qos: {loss_ratio: 2}}]}\n", want: `^cpd: .*loss_ratio`},
		"bad response time":         {file: cpdOK + "expectedResponseTime: soon\n", want: `^expectedResponseTime "soon": want a duration`},
		"negative duration":         {file: cpdOK + "extensionLimit: -5m\n", want: `^extensionLimit "-5m": a duration must be positive`},
		"bad purpose":               {file: cpdOK + "negotiationOptions: {purpose: forever}\n", want: `^negotiationOptions\.purpose "forever"`},
		"bad activation type":       {file: cpdOK + "negotiationOptions: {activationType: lazy}\n", want: `^negotiationOptions\.activationType "lazy"`},
		"bad scope":                 {file: cpdOK + "negotiationOptions: {scope: galactic}\n", want: `^negotiationOptions\.scope "galactic"`},
		"wrong type":                {file: cpdOK + "customer: {name: [1]}\n", want: `^customer\.name: want a string`},
		"not a mapping":             {file: "- a\n- b\n", want: `^want a mapping`},
		"not YAML":                  {file: "cpd: {components: [\n", want: `^not valid YAML`},
		"customer order ID is text": {file: cpdOK + "customerOrderID: 42\n", want: `^customerOrderID: want a string`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := parseOrderFile([]byte(tt.file), parseNow)
			if err == nil || !regexp.MustCompile(tt.want).MatchString(err.Error()) {
				t.Fatalf("got %v, want an error matching %q", err, tt.want)
			}
		})
	}
}

// TestOrderFileTimes: durations count from now, RFC 3339 times are absolute.
// Reference: RFC 8921 §9.1.6.
func TestOrderFileTimes(t *testing.T) {
	t.Parallel()
	const cpdOK = "cpd: {components: [{customer_nodes: [{identifier: ce1}]}]}\n"
	spec, err := parseOrderFile([]byte(cpdOK+"expectedResponseTime: 2026-05-01T12:00:00Z\nextensionLimit: 1h30m\n"), parseNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC); !spec.ExpectedResponseTime.Equal(want) {
		t.Errorf("expectedResponseTime %v, want %v", spec.ExpectedResponseTime, want)
	}
	if want := parseNow.Add(90 * time.Minute); !spec.ExtensionLimit.Equal(want) {
		t.Errorf("extensionLimit %v, want %v", spec.ExtensionLimit, want)
	}
	if spec.InformationElements != nil {
		t.Errorf("information elements %+v, want none", spec.InformationElements)
	}
	// JSON is YAML too.
	if _, err := parseOrderFile([]byte(`{"cpd":{"components":[{"customer_nodes":[{"identifier":"ce1"}]}]}}`), parseNow); err != nil {
		t.Errorf("JSON order file: %v", err)
	}
}

// TestReadOrderFile reads files and standard input, and names the file in errors.
func TestReadOrderFile(t *testing.T) {
	t.Parallel()
	if _, err := readOrderFile(nil, "", parseNow); err == nil || !strings.Contains(err.Error(), "flag -f is required") {
		t.Errorf("no file: %v", err)
	}
	if _, err := readOrderFile(nil, "testdata/missing.yaml", parseNow); err == nil || !strings.Contains(err.Error(), "testdata/missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	in := strings.NewReader("cpd: {components: [{customer_nodes: [{identifier: ce1}]}]}\nfoo: 1\n")
	if _, err := readOrderFile(in, "-", parseNow); err == nil || !strings.Contains(err.Error(), "order file standard input: foo: unknown field") {
		t.Errorf("stdin: %v", err)
	}
	big := bytes.NewReader(make([]byte, maxOrderFile+1))
	if _, err := readOrderFile(big, "-", parseNow); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversize: %v", err)
	}
	if spec, err := readOrderFile(nil, "testdata/order.yaml", parseNow); err != nil || spec.CustomerOrderID != "acme-wan-0001" {
		t.Errorf("testdata/order.yaml: %v", err)
	}
}
