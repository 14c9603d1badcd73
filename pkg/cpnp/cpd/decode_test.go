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

package cpd

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Reference: DESIGN §3 (CPD block); RFC 8921 §9.1.9.1 Figure 10; RFC 7297 §3.
func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want CPD
	}{
		// Reference: RFC 8921 §9.2.6 (the Empty CPD).
		"empty CPD": {in: `{"components":[]}`, want: Empty()},
		"whitespace around and inside": {
			in:   " \n{ \"components\" : [ ] }\r\n\t",
			want: Empty(),
		},
		"every member": {in: fullJSON, want: full()},
		"sample":       {in: string(Sample().Canonical()), want: Sample()},
		// Reference: DESIGN §3, unknown members are ignored (RFC 8921 §1: new IEs can be added).
		"unknown members at every level": {
			in: `{"v2":{"deep":[[{"x":null}]]},"components":[{"customer_nodes":[{"identifier":"ce1","color":"red"}],` +
				`"qos":{"one_way_delay_ms":{"min":1,"unit":"ms"},"future":true},"extension":[1,2]}],"trailer":"x"}`,
			want: one(Component{QoS: &QoS{OneWayDelayMs: AtLeast(1)}}),
		},
		// Reference: RFC 8921 §8.7, a range with equal bounds is a fixed value.
		"degenerate range is fixed": {
			in:   wrap(`,"capacity":{"incoming_bps":{"min":5,"max":5}}`),
			want: one(Component{Capacity: &Capacity{IncomingBps: Fixed(5)}}),
		},
		"negative zero becomes zero": {
			in:   wrap(`,"qos":{"loss_ratio":-0,"one_way_delay_ms":{"min":-0.0}}`),
			want: one(Component{QoS: &QoS{LossRatio: Fixed(0), OneWayDelayMs: AtLeast(0)}}),
		},
		"integral numbers in any notation": {
			in:   wrap(`,"flow_identification":[{"dscp":46.0,"protocol":1.7e1,"source_port":0}]`),
			want: one(Component{FlowIdentification: []FlowIdentifier{{DSCP: ip(46), Protocol: ip(17), SourcePort: ip(0)}}}),
		},
		"exponent numbers": {
			in:   wrap(`,"capacity":{"outgoing_bps":1E9},"qos":{"loss_ratio":1e-7}`),
			want: one(Component{Capacity: &Capacity{OutgoingBps: Fixed(1e9)}, QoS: &QoS{LossRatio: Fixed(1e-7)}}),
		},
		"empty lists and strings are absent": {
			in: wrap(`,"activation_means":[],"invocation_means":"","flow_identification":[],` +
				`"scope":{"model":"","ingress":[],"outgoing":{"global":false,"prefixes":[]}}`),
			want: one(Component{Scope: &Scope{Outgoing: &Reachability{}}}),
		},
		"empty clause objects where allowed": {
			in: wrap(`,"scope":{},"traffic_isolation":{},"conformance":{},"routing":{},"notifications":{}`),
			want: one(Component{Scope: &Scope{}, TrafficIsolation: &TrafficIsolation{}, Conformance: &Conformance{},
				Routing: &Routing{}, Notifications: &Notifications{}}),
		},
		"escaped strings": {
			in:   `{"components":[{"customer_nodes":[{"identifier":"ce\u002d1\n\"x\""}]}]}`,
			want: CPD{Components: []Component{{CustomerNodes: []CustomerNode{{Identifier: "ce-1\n\"x\""}}}}},
		},
		"duplicate unknown members are ignored": {
			in:   `{"x":1,"x":2,"components":[]}`,
			want: Empty(),
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: got error %v, want nil", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Parse drops the sign of -0, so the model never holds a value that prints
// differently from its canonical encoding. Reference: RFC 8785 §3.2.2.3.
func TestParseNegativeZero(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(wrap(`,"qos":{"loss_ratio":-0.0,"one_way_delay_ms":{"max":-0}},"flow_identification":[{"dscp":-0}]`)))
	if err != nil {
		t.Fatalf("Parse: got error %v, want nil", err)
	}
	loss, _ := c.Components[0].QoS.LossRatio.FixedValue()
	delay, _ := c.Components[0].QoS.OneWayDelayMs.Max()
	for name, f := range map[string]float64{"loss_ratio": loss, "one_way_delay_ms.max": delay} {
		if math.Signbit(f) {
			t.Errorf("%s: got -0, want +0", name)
		}
	}
	if d := c.Components[0].FlowIdentification[0].DSCP; d == nil || *d != 0 {
		t.Errorf("dscp: got %v, want 0", d)
	}
}

// Reference: DESIGN §3 ("known members with a wrong type, out-of-range codes,
// or a missing mandatory member make the message invalid"); RFC 7297 §3.
func TestParseInvalid(t *testing.T) {
	t.Parallel()
	c0 := "components[0]"
	tests := map[string]struct {
		in   string
		want where
	}{
		// Syntax.
		"empty input":                 {``, where{"", KindSyntax}},
		"truncated":                   {`{"components":[`, where{"components", KindSyntax}},
		"not JSON":                    {`components`, where{"", KindSyntax}},
		"trailing comma":              {`{"components":[],}`, where{"", KindSyntax}},
		"trailing garbage":            {`{"components":[]} x`, where{"", KindSyntax}},
		"second value":                {`{"components":[]}{}`, where{"", KindSyntax}},
		"duplicate known member":      {`{"components":[],"components":[]}`, where{"components", KindSyntax}},
		"duplicate clause":            {wrap(`,"qos":{"class":"a"},"qos":{"class":"b"}`), where{c0 + ".qos", KindSyntax}},
		"syntax error in unknown":     {`{"x":[1,,2],"components":[]}`, where{"x", KindSyntax}},
		"syntax error inside a value": {wrap(`,"capacity":{"incoming_bps":{"min":1,}}`), where{c0 + ".capacity.incoming_bps", KindSyntax}},
		// Type.
		"root array":             {`[]`, where{"", KindType}},
		"root null":              {`null`, where{"", KindType}},
		"components object":      {`{"components":{}}`, where{"components", KindType}},
		"components null":        {`{"components":null}`, where{"components", KindType}},
		"component number":       {`{"components":[1]}`, where{c0, KindType}},
		"customer_nodes string":  {`{"components":[{"customer_nodes":"ce1"}]}`, where{c0 + ".customer_nodes", KindType}},
		"identifier number":      {`{"components":[{"customer_nodes":[{"identifier":1}]}]}`, where{c0 + ".customer_nodes[0].identifier", KindType}},
		"value string":           {wrap(`,"qos":{"one_way_delay_ms":"5"}`), where{c0 + ".qos.one_way_delay_ms", KindType}},
		"value array":            {wrap(`,"qos":{"one_way_delay_ms":[1,5]}`), where{c0 + ".qos.one_way_delay_ms", KindType}},
		"value null":             {wrap(`,"qos":{"one_way_delay_ms":null}`), where{c0 + ".qos.one_way_delay_ms", KindType}},
		"bound string":           {wrap(`,"qos":{"one_way_delay_ms":{"min":"1"}}`), where{c0 + ".qos.one_way_delay_ms.min", KindType}},
		"bound null":             {wrap(`,"qos":{"one_way_delay_ms":{"max":null}}`), where{c0 + ".qos.one_way_delay_ms.max", KindType}},
		"class number":           {wrap(`,"qos":{"class":1}`), where{c0 + ".qos.class", KindType}},
		"clause array":           {wrap(`,"capacity":[]`), where{c0 + ".capacity", KindType}},
		"global string":          {wrap(`,"scope":{"incoming":{"global":"yes"}}`), where{c0 + ".scope.incoming.global", KindType}},
		"required number":        {wrap(`,"traffic_isolation":{"required":1}`), where{c0 + ".traffic_isolation.required", KindType}},
		"list of numbers":        {wrap(`,"activation_means":["bgp",1]`), where{c0 + ".activation_means[1]", KindType}},
		"list as string":         {wrap(`,"activation_means":"bgp"`), where{c0 + ".activation_means", KindType}},
		"fractional dscp":        {wrap(`,"flow_identification":[{"dscp":46.5}]`), where{c0 + ".flow_identification[0].dscp", KindType}},
		"dscp string":            {wrap(`,"flow_identification":[{"dscp":"ef"}]`), where{c0 + ".flow_identification[0].dscp", KindType}},
		"fractional mtu":         {wrap(`,"conformance":{"mtu":1500.5}`), where{c0 + ".conformance.mtu", KindType}},
		"fractional mtu min":     {wrap(`,"conformance":{"mtu":{"min":1500.5}}`), where{c0 + ".conformance.mtu.min", KindType}},
		"percentile string":      {wrap(`,"qos":{"loss_ratio":0,"bound":"percentile","percentile":"99"}`), where{c0 + ".qos.percentile", KindType}},
		"flow identifier string": {wrap(`,"flow_identification":["x"]`), where{c0 + ".flow_identification[0]", KindType}},
		// Range.
		"huge number":            {wrap(`,"capacity":{"incoming_bps":1e400}`), where{c0 + ".capacity.incoming_bps", KindRange}},
		"huge bound":             {wrap(`,"capacity":{"incoming_bps":{"max":1e400}}`), where{c0 + ".capacity.incoming_bps.max", KindRange}},
		"huge integer":           {wrap(`,"flow_identification":[{"dscp":1e300}]`), where{c0 + ".flow_identification[0].dscp", KindRange}},
		"huge percentile":        {wrap(`,"qos":{"loss_ratio":0,"bound":"percentile","percentile":1e999}`), where{c0 + ".qos.percentile", KindRange}},
		"negative capacity":      {wrap(`,"capacity":{"incoming_bps":-1}`), where{c0 + ".capacity.incoming_bps", KindRange}},
		"negative capacity min":  {wrap(`,"capacity":{"outgoing_bps":{"min":-1,"max":5}}`), where{c0 + ".capacity.outgoing_bps.min", KindRange}},
		"loss above 1":           {wrap(`,"qos":{"loss_ratio":1.5}`), where{c0 + ".qos.loss_ratio", KindRange}},
		"loss max above 1":       {wrap(`,"qos":{"loss_ratio":{"max":2}}`), where{c0 + ".qos.loss_ratio.max", KindRange}},
		"negative delay":         {wrap(`,"qos":{"one_way_delay_ms":-1}`), where{c0 + ".qos.one_way_delay_ms", KindRange}},
		"negative jitter":        {wrap(`,"qos":{"delay_variation_ms":{"max":-1}}`), where{c0 + ".qos.delay_variation_ms.max", KindRange}},
		"percent above 100":      {wrap(`,"availability":{"percent":100.5}`), where{c0 + ".availability.percent", KindRange}},
		"min above max":          {wrap(`,"capacity":{"incoming_bps":{"min":10,"max":1}}`), where{c0 + ".capacity.incoming_bps", KindRange}},
		"unknown model":          {wrap(`,"scope":{"model":"1:2"}`), where{c0 + ".scope.model", KindRange}},
		"unknown out_of_profile": {wrap(`,"conformance":{"out_of_profile":"drop"}`), where{c0 + ".conformance.out_of_profile", KindRange}},
		"unknown invocation":     {wrap(`,"invocation_means":"sometimes"`), where{c0 + ".invocation_means", KindRange}},
		"unknown qos bound":      {wrap(`,"qos":{"loss_ratio":0,"bound":"median"}`), where{c0 + ".qos.bound", KindRange}},
		"percentile availability": {
			wrap(`,"availability":{"percent":99,"bound":"percentile"}`), where{c0 + ".availability.bound", KindRange},
		},
		"percentile 100":        {wrap(`,"qos":{"loss_ratio":0,"bound":"percentile","percentile":100}`), where{c0 + ".qos.percentile", KindRange}},
		"negative percentile":   {wrap(`,"qos":{"loss_ratio":0,"bound":"percentile","percentile":-5}`), where{c0 + ".qos.percentile", KindRange}},
		"mtu too small":         {wrap(`,"conformance":{"mtu":10}`), where{c0 + ".conformance.mtu", KindRange}},
		"mtu too large":         {wrap(`,"conformance":{"mtu":{"max":65536}}`), where{c0 + ".conformance.mtu.max", KindRange}},
		"dscp 64":               {wrap(`,"flow_identification":[{"dscp":64}]`), where{c0 + ".flow_identification[0].dscp", KindRange}},
		"remark dscp -1":        {wrap(`,"flow_identification":[{"dscp":0,"remark_dscp":-1}]`), where{c0 + ".flow_identification[0].remark_dscp", KindRange}},
		"port 65536":            {wrap(`,"flow_identification":[{"destination_port":65536}]`), where{c0 + ".flow_identification[0].destination_port", KindRange}},
		"source port -1":        {wrap(`,"flow_identification":[{"source_port":-1}]`), where{c0 + ".flow_identification[0].source_port", KindRange}},
		"protocol 256":          {wrap(`,"flow_identification":[{"protocol":256}]`), where{c0 + ".flow_identification[0].protocol", KindRange}},
		"prefix without length": {wrap(`,"flow_identification":[{"source_prefix":"10.0.0.0"}]`), where{c0 + ".flow_identification[0].source_prefix", KindRange}},
		"prefix too long": {
			wrap(`,"flow_identification":[{"destination_prefix":"10.0.0.0/33"}]`), where{c0 + ".flow_identification[0].destination_prefix", KindRange},
		},
		"scope prefix not IP":   {wrap(`,"scope":{"outgoing":{"prefixes":["paris"]}}`), where{c0 + ".scope.outgoing.prefixes[0]", KindRange}},
		"scope prefix empty":    {wrap(`,"scope":{"incoming":{"prefixes":["10.0.0.0/8",""]}}`), where{c0 + ".scope.incoming.prefixes[1]", KindRange}},
		"empty activation mean": {wrap(`,"activation_means":["bgp",""]`), where{c0 + ".activation_means[1]", KindRange}},
		"empty ingress":         {wrap(`,"scope":{"ingress":[""]}`), where{c0 + ".scope.ingress[0]", KindRange}},
		"empty egress":          {wrap(`,"scope":{"egress":[""]}`), where{c0 + ".scope.egress[0]", KindRange}},
		"empty avoid":           {wrap(`,"routing":{"avoid":[""]}`), where{c0 + ".routing.avoid[0]", KindRange}},
		"empty via":             {wrap(`,"routing":{"via":[""]}`), where{c0 + ".routing.via[0]", KindRange}},
		"empty region":          {wrap(`,"routing":{"geographic_restrictions":[""]}`), where{c0 + ".routing.geographic_restrictions[0]", KindRange}},
		"empty notification":    {wrap(`,"notifications":{"means":[""]}`), where{c0 + ".notifications.means[0]", KindRange}},
		"empty event":           {wrap(`,"notifications":{"events":[""]}`), where{c0 + ".notifications.events[0]", KindRange}},
		"negative interval":     {wrap(`,"notifications":{"interval_s":-1}`), where{c0 + ".notifications.interval_s", KindRange}},
		// Missing.
		"no components":             {`{}`, where{"components", KindMissing}},
		"no customer_nodes":         {`{"components":[{}]}`, where{c0 + ".customer_nodes", KindMissing}},
		"empty customer_nodes":      {`{"components":[{"customer_nodes":[]}]}`, where{c0 + ".customer_nodes", KindMissing}},
		"no identifier":             {`{"components":[{"customer_nodes":[{"link_identifier":"pe1"}]}]}`, where{c0 + ".customer_nodes[0].identifier", KindMissing}},
		"empty identifier":          {`{"components":[{"customer_nodes":[{"identifier":""}]}]}`, where{c0 + ".customer_nodes[0].identifier", KindMissing}},
		"empty qos":                 {wrap(`,"qos":{}`), where{c0 + ".qos", KindMissing}},
		"empty value object":        {wrap(`,"qos":{"loss_ratio":{}}`), where{c0 + ".qos.loss_ratio", KindMissing}},
		"value with unknown only":   {wrap(`,"qos":{"loss_ratio":{"avg":0.1}}`), where{c0 + ".qos.loss_ratio", KindMissing}},
		"availability sans percent": {wrap(`,"availability":{"bound":"average"}`), where{c0 + ".availability.percent", KindMissing}},
		"empty capacity":            {wrap(`,"capacity":{}`), where{c0 + ".capacity", KindMissing}},
		"empty flow identifier":     {wrap(`,"flow_identification":[{}]`), where{c0 + ".flow_identification[0]", KindMissing}},
		"flow with remark only":     {wrap(`,"flow_identification":[{"remark_dscp":0}]`), where{c0 + ".flow_identification[0]", KindMissing}},
		"empty overall guarantees":  {wrap(`,"overall_guarantees":{}`), where{c0 + ".overall_guarantees", KindMissing}},
		"percentile bound alone":    {wrap(`,"qos":{"loss_ratio":0,"bound":"percentile"}`), where{c0 + ".qos.percentile", KindMissing}},
		// Conflict.
		"qualitative and quantitative": {wrap(`,"qos":{"class":"gold","loss_ratio":0.1}`), where{c0 + ".qos", KindConflict}},
		"class with bound":             {wrap(`,"qos":{"class":"gold","bound":"average"}`), where{c0 + ".qos.bound", KindConflict}},
		"percentile without bound":     {wrap(`,"qos":{"loss_ratio":0,"percentile":99}`), where{c0 + ".qos.percentile", KindConflict}},
		"global with prefixes":         {wrap(`,"scope":{"incoming":{"global":true,"prefixes":["10.0.0.0/8"]}}`), where{c0 + ".scope.incoming", KindConflict}},
		"remark class with discard": {
			wrap(`,"conformance":{"out_of_profile":"discard","remark_class":"le"}`), where{c0 + ".conformance.remark_class", KindConflict},
		},
		"overall guarantees with discard": {
			wrap(`,"conformance":{"out_of_profile":"discard"},"overall_guarantees":{"loss":"low"}`), where{c0 + ".overall_guarantees", KindConflict},
		},
		"duplicate node": {
			`{"components":[{"customer_nodes":[{"identifier":"a"},{"identifier":"b"},{"identifier":"a"}]}]}`,
			where{c0 + ".customer_nodes[2].identifier", KindConflict},
		},
		"error in second component": {
			`{"components":[{"customer_nodes":[{"identifier":"a"}]},{"customer_nodes":[{"identifier":"a"}],"qos":{"loss_ratio":2}}]}`,
			where{"components[1].qos.loss_ratio", KindRange},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse(%s): got %+v, want error %+v", tt.in, got, tt.want)
			}
			e := errorOf(t, err)
			if diff := cmp.Diff(tt.want, where{e.Path, e.Kind}); diff != "" {
				t.Errorf("Parse(%s): error %q: (-want +got):\n%s", tt.in, err, diff)
			}
			if e.Detail == "" {
				t.Errorf("got empty Detail, want an explanation")
			}
			if !cmp.Equal(got, CPD{}) {
				t.Errorf("got %+v with the error, want the zero CPD", got)
			}
		})
	}
}

// Reference: DESIGN §3 (messages up to 1 MiB; reassembly "with bounds").
func TestParseBounds(t *testing.T) {
	t.Parallel()
	nest := func(n int) string {
		return `{"components":[],"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + "}"
	}
	tests := map[string]struct {
		in      string
		wantErr *where
	}{
		// The root object is level 1, so an unknown member may nest MaxDepth-1 deep.
		"nesting at the limit":   {in: nest(MaxDepth - 1)},
		"nesting over the limit": {in: nest(MaxDepth), wantErr: &where{"x", KindSyntax}},
		"deep nesting":           {in: nest(100000), wantErr: &where{"x", KindSyntax}},
		"deep value object": {
			in:      wrap(`,"capacity":{"incoming_bps":{"min":1,"x":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + "}}"),
			wantErr: &where{"components[0].capacity.incoming_bps.x", KindSyntax},
		},
		"size at the limit": {in: `{"components":[]}` + strings.Repeat(" ", MaxSize-len(`{"components":[]}`))},
		"size over the limit": {
			in:      `{"components":[]}` + strings.Repeat(" ", MaxSize+1-len(`{"components":[]}`)),
			wantErr: &where{"", KindRange},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.in))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				return
			}
			e := errorOf(t, err)
			if diff := cmp.Diff(*tt.wantErr, where{e.Path, e.Kind}); diff != "" {
				t.Errorf("error %q (-want +got):\n%s", err, diff)
			}
		})
	}
}

// Reference: RFC 7297 §3.3 (the message of the brief's example).
func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  *Error
		want string
	}{
		"with path": {
			err:  &Error{Path: "components[0].qos", Kind: KindConflict, Detail: "qualitative class and quantitative bounds are exclusive (RFC 7297 §3.3)"},
			want: "components[0].qos: qualitative class and quantitative bounds are exclusive (RFC 7297 §3.3)",
		},
		"root": {err: &Error{Kind: KindType, Detail: "must be an object, got array"}, want: "must be an object, got array"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	// The real Parse error for the example reads exactly the same.
	_, err := Parse([]byte(wrap(`,"qos":{"class":"gold","one_way_delay_ms":10}`)))
	if got, want := err.Error(), "components[0].qos: qualitative class and quantitative bounds are exclusive (RFC 7297 §3.3)"; got != want {
		t.Errorf("Parse error: got %q, want %q", got, want)
	}
}

func TestErrorKindString(t *testing.T) {
	t.Parallel()
	tests := map[ErrorKind]string{
		KindSyntax: "syntax", KindType: "type", KindRange: "range", KindMissing: "missing", KindConflict: "conflict",
		ErrorKind(0): "ErrorKind(0)", ErrorKind(42): "ErrorKind(42)",
	}
	for k, want := range tests {
		if got := k.String(); got != want {
			t.Errorf("ErrorKind(%d).String(): got %q, want %q", int(k), got, want)
		}
	}
}

// UnmarshalJSON makes a CPD embedded in a message as strict as Parse.
// Reference: RFC 8921 §9.1.9.1.
func TestCPDUnmarshalJSON(t *testing.T) {
	t.Parallel()
	type msg struct {
		CPD *CPD `json:"offered_cpd"`
	}
	var ok msg
	if err := json.Unmarshal([]byte(`{"offered_cpd":`+string(Sample().Canonical())+`}`), &ok); err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	if ok.CPD == nil || !Equal(*ok.CPD, Sample()) {
		t.Errorf("got %+v, want Sample()", ok.CPD)
	}
	// encoding/json's convention: null leaves the value as it was.
	var plain struct {
		CPD   CPD   `json:"cpd"`
		Value Value `json:"v"`
	}
	plain.CPD, plain.Value = Sample(), Fixed(7)
	if err := json.Unmarshal([]byte(`{"cpd":null,"v":null}`), &plain); err != nil {
		t.Fatalf("null members: got error %v, want nil", err)
	}
	if !Equal(plain.CPD, Sample()) || !plain.Value.Equal(Fixed(7)) {
		t.Errorf("null members: got %+v, want them unchanged", plain)
	}
	if err := json.Unmarshal([]byte(`{"cpd":{"components":[]},"v":{"max":3}}`), &plain); err != nil {
		t.Fatalf("embedded members: got error %v, want nil", err)
	}
	if !plain.CPD.IsEmpty() || !plain.Value.Equal(AtMost(3)) {
		t.Errorf("embedded members: got %+v, want the Empty CPD and <=3", plain)
	}
	var bad msg
	err := json.Unmarshal([]byte(`{"offered_cpd":`+wrap(`,"qos":{"loss_ratio":7}`)+`}`), &bad)
	e := errorOf(t, err)
	if diff := cmp.Diff(where{"components[0].qos.loss_ratio", KindRange}, where{e.Path, e.Kind}); diff != "" {
		t.Errorf("error %q (-want +got):\n%s", err, diff)
	}
}
