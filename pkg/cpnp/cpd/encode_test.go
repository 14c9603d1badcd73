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
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Reference: RFC 8921 §9.2.6 ("the ACK message must include the copy of the
// service description"), Tables 5 and 6: equality by canonical encoding.
func TestMarshalCanonical(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   CPD
		want string
	}{
		"zero CPD is the Empty CPD":       {CPD{}, `{"components":[]}`},
		"Empty":                           {Empty(), `{"components":[]}`},
		"every member in Figure 10 order": {full(), fullJSON},
		"absent members omitted": {
			one(Component{QoS: &QoS{Class: "gold"}, TrafficIsolation: &TrafficIsolation{}, Scope: &Scope{Incoming: &Reachability{}}}),
			`{"components":[{"customer_nodes":[{"identifier":"ce1"}],"scope":{"incoming":{"global":false}},"qos":{"class":"gold"},"traffic_isolation":{"required":false}}]}`,
		},
		"HTML-safe escapes as encoding/json": {
			CPD{Components: []Component{{CustomerNodes: []CustomerNode{{Identifier: "<a&b>\u2028é"}}}}},
			`{"components":[{"customer_nodes":[{"identifier":"\u003ca\u0026b\u003e\u2028é"}]}]}`,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.in.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON: got error %v, want nil", err)
			}
			if string(got) != tt.want {
				t.Errorf("MarshalJSON:\ngot  %s\nwant %s", got, tt.want)
			}
			if c := tt.in.Canonical(); !bytes.Equal(c, got) {
				t.Errorf("Canonical: got %s, want %s", c, got)
			}
			// Embedded by encoding/json (as wire.Encode does), the bytes do not change.
			wrapped, err := json.Marshal(struct {
				CPD CPD `json:"cpd"`
			}{tt.in})
			if err != nil {
				t.Fatalf("json.Marshal: got error %v, want nil", err)
			}
			if want := `{"cpd":` + tt.want + "}"; string(wrapped) != want {
				t.Errorf("json.Marshal embedded:\ngot  %s\nwant %s", wrapped, want)
			}
		})
	}
}

// Reference: RFC 8921 §8.7, Figure 6 (the Offered CPD travels OFFER -> ACCEPT
// -> ACK and must come back identical).
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	tests := map[string]CPD{
		"empty":           Empty(),
		"sample":          Sample(),
		"sample concrete": SampleConcrete(),
		"full":            full(),
		"fractions": one(Component{QoS: &QoS{
			OneWayDelayMs: Between(0.1, 1.0000000000000002), DelayVariationMs: Fixed(1e-7), LossRatio: AtMost(5e-324),
		}}),
		"large numbers": one(Component{Capacity: &Capacity{IncomingBps: Fixed(1e21), OutgoingBps: AtLeast(math.MaxFloat64)}}),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b1, err := in.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON: got error %v, want nil", err)
			}
			got, err := Parse(b1)
			if err != nil {
				t.Fatalf("Parse(%s): got error %v, want nil", b1, err)
			}
			if diff := cmp.Diff(in, got); diff != "" {
				t.Errorf("Parse(Marshal(x)) != x (-want +got):\n%s", diff)
			}
			b2, err := got.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON again: got error %v, want nil", err)
			}
			if !bytes.Equal(b1, b2) {
				t.Errorf("re-encoding differs:\n%s\n%s", b1, b2)
			}
			if !Equal(in, got) {
				t.Errorf("Equal(x, Parse(Marshal(x))): got false, want true")
			}
		})
	}
}

// Non-canonical input converges after one decode/encode round.
func TestCanonicalFixedPoint(t *testing.T) {
	t.Parallel()
	in := `{ "zz":1, "components" : [ { "qos" : {"loss_ratio":{"max":1E-3,"min":0.0}, "one_way_delay_ms":{"min":30,"max":30.0}},` +
		` "customer_nodes":[{"localization":"x","identifier":"ce1"}], "activation_means":[] } ] }`
	c, err := Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse: got error %v, want nil", err)
	}
	want := `{"components":[{"customer_nodes":[{"identifier":"ce1","localization":"x"}],"qos":{"one_way_delay_ms":30,"loss_ratio":{"min":0,"max":0.001}}}]}`
	if got := string(c.Canonical()); got != want {
		t.Errorf("Canonical:\ngot  %s\nwant %s", got, want)
	}
}

// MarshalJSON refuses what Parse would refuse, so nothing unparseable is sent.
func TestMarshalInvalid(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   CPD
		want where
	}{
		"no customer node":  {CPD{Components: []Component{{}}}, where{"components[0].customer_nodes", KindMissing}},
		"NaN":               {one(Component{QoS: &QoS{LossRatio: Fixed(math.NaN())}}), where{"components[0].qos.loss_ratio.min", KindRange}},
		"infinite capacity": {one(Component{Capacity: &Capacity{IncomingBps: Fixed(math.Inf(1))}}), where{"components[0].capacity.incoming_bps", KindRange}},
		"infinite max":      {one(Component{Capacity: &Capacity{IncomingBps: AtMost(math.Inf(1))}}), where{"components[0].capacity.incoming_bps.max", KindRange}},
		"NaN percentile": {
			one(Component{QoS: &QoS{LossRatio: Fixed(0), Bound: BoundPercentile, Percentile: math.NaN()}}),
			where{"components[0].qos.percentile", KindRange},
		},
		"empty list element": {one(Component{ActivationMeans: []string{""}}), where{"components[0].activation_means[0]", KindRange}},
		"zero availability":  {one(Component{Availability: &Availability{}}), where{"components[0].availability.percent", KindMissing}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := tt.in.MarshalJSON()
			if err == nil {
				t.Fatalf("MarshalJSON: got %s, want an error", b)
			}
			e := errorOf(t, err)
			if diff := cmp.Diff(tt.want, where{e.Path, e.Kind}); diff != "" {
				t.Errorf("error %q (-want +got):\n%s", err, diff)
			}
			if _, err := json.Marshal(tt.in); err == nil {
				t.Errorf("json.Marshal: got nil error, want one")
			}
		})
	}
}

// Reference: RFC 8921 §10.1-10.2 (Tables 5, 6: the ACCEPT/ACK CPD must match).
func TestEqual(t *testing.T) {
	t.Parallel()
	reordered := Sample()
	reordered.Components[0], reordered.Components[1] = reordered.Components[1], reordered.Components[0]
	tests := map[string]struct {
		a, b CPD
		want bool
	}{
		"same":                       {Sample(), Sample(), true},
		"zero and Empty":             {CPD{}, Empty(), true},
		"degenerate range and fixed": {one(Component{Capacity: &Capacity{IncomingBps: Between(5, 5)}}), one(Component{Capacity: &Capacity{IncomingBps: Fixed(5)}}), true},
		"nil and empty list":         {one(Component{ActivationMeans: []string{}}), one(Component{}), true},
		"different value":            {Sample(), SampleConcrete(), false},
		"component order matters":    {Sample(), reordered, false},
		"empty and non-empty":        {Empty(), Sample(), false},
		"NaN equals nothing":         {one(Component{QoS: &QoS{LossRatio: Fixed(math.NaN())}}), one(Component{QoS: &QoS{LossRatio: Fixed(math.NaN())}}), false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("Equal: got %v, want %v", got, tt.want)
			}
			if got := Equal(tt.b, tt.a); got != tt.want {
				t.Errorf("Equal (swapped): got %v, want %v", got, tt.want)
			}
		})
	}
	if c := one(Component{QoS: &QoS{LossRatio: Fixed(math.NaN())}}).Canonical(); c != nil {
		t.Errorf("Canonical with NaN: got %s, want nil", c)
	}
}

func TestDeepCopy(t *testing.T) {
	t.Parallel()
	orig := full()
	before := orig.Canonical()
	cp := orig.DeepCopy()
	if diff := cmp.Diff(orig, *cp); diff != "" {
		t.Fatalf("DeepCopy differs (-orig +copy):\n%s", diff)
	}
	// Mutate everything reachable from the copy; the original must not move.
	c := &cp.Components[0]
	c.CustomerNodes[0].Identifier = "x"
	c.Scope.Ingress[0], c.Scope.Egress[0] = "x", "x"
	c.Scope.Incoming.Global = false
	c.Scope.Outgoing.Prefixes[0] = "x"
	c.QoS.Class = "x"
	c.Availability.Bound = "x"
	c.Capacity.IncomingBps = Fixed(1)
	c.TrafficIsolation.Means = "x"
	c.Conformance.RemarkClass = "x"
	f := &c.FlowIdentification[0]
	*f.SourcePort, *f.DestinationPort, *f.Protocol, *f.DSCP, *f.RemarkDSCP = 1, 1, 1, 1, 1
	f.TunnelEndpoint = "x"
	c.OverallGuarantees.Delay = "x"
	c.Routing.Avoid[0], c.Routing.Via[0], c.Routing.GeographicRestrictions[0] = "x", "x", "x"
	c.ActivationMeans[0] = "x"
	c.Notifications.Means[0], c.Notifications.Events[0] = "x", "x"
	if after := orig.Canonical(); !bytes.Equal(before, after) {
		t.Errorf("mutating the copy changed the original:\nbefore %s\nafter  %s", before, after)
	}

	var nilCPD *CPD
	if got := nilCPD.DeepCopy(); got != nil {
		t.Errorf("nil.DeepCopy(): got %v, want nil", got)
	}
	var out CPD
	(&CPD{}).DeepCopyInto(&out)
	if out.Components != nil {
		t.Errorf("DeepCopyInto of zero CPD: got %v, want nil components", out.Components)
	}
	sparse := one(Component{})
	if got := sparse.DeepCopy(); !cmp.Equal(sparse, *got) {
		t.Errorf("DeepCopy of sparse component: got %+v, want %+v", *got, sparse)
	}
}
