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
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// offerWith returns SampleConcrete() changed by f.
func offerWith(f func(par, lyo *Component)) CPD {
	c := SampleConcrete()
	f(&c.Components[0], &c.Components[1])
	return c
}

// requestWith returns Sample() changed by f.
func requestWith(f func(par, lyo *Component)) CPD {
	c := Sample()
	f(&c.Components[0], &c.Components[1])
	return c
}

// Reference: RFC 8921 §8.7 (Offered CPD: "all or a subset of the clauses
// depicted in a Requested CPD"), §8.10; DESIGN §5 (Automatic acceptance
// "accepts an offer that satisfies every bound of the request").
func TestSatisfies(t *testing.T) {
	t.Parallel()
	p0, p1 := "components[0].", "components[1]."
	tests := map[string]struct {
		offered, requested CPD
		want               []string // mismatch paths
	}{
		"concrete offer within every bound": {SampleConcrete(), Sample(), nil},
		"loose offer inside the request":    {Sample(), Sample(), nil},
		"empty for empty":                   {Empty(), Empty(), nil},
		"offer at the bounds": {
			offered: offerWith(func(par, lyo *Component) {
				par.QoS.OneWayDelayMs = Fixed(30)
				par.Availability.Percent = Fixed(99.9)
				par.Capacity.IncomingBps = Fixed(200e6)
				par.Capacity.OutgoingBps = Fixed(100e6)
			}),
			requested: Sample(),
		},
		"clauses not requested are unconstrained": {
			offered: offerWith(func(par, lyo *Component) {
				lyo.Routing = &Routing{Avoid: []string{"satellite"}}
				lyo.Scope = &Scope{Model: ModelPipe}
				par.InvocationMeans = InvocationExplicit
				par.Notifications = &Notifications{Means: []string{"snmp"}}
			}),
			requested: Sample(),
		},
		"members not requested are unconstrained": {
			offered:   offerWith(func(par, _ *Component) { par.Availability.Bound = BoundMaximum }),
			requested: requestWith(func(par, _ *Component) { par.Availability.Bound = "" }),
		},
		// Reference: RFC 7297 §3.3, lower delay, jitter and loss are better.
		"delay above the maximum": {
			offered:   offerWith(func(par, _ *Component) { par.QoS.OneWayDelayMs = Fixed(31) }),
			requested: Sample(), want: []string{p0 + "qos.one_way_delay_ms"},
		},
		"loose delay unbounded above": {
			offered:   offerWith(func(par, _ *Component) { par.QoS.OneWayDelayMs = AtLeast(1) }),
			requested: Sample(), want: []string{p0 + "qos.one_way_delay_ms"},
		},
		"loose delay partly above": {
			offered:   offerWith(func(par, _ *Component) { par.QoS.DelayVariationMs = Between(1, 6) }),
			requested: Sample(), want: []string{p0 + "qos.delay_variation_ms"},
		},
		"requested lower bound on delay is ignored": {
			offered:   offerWith(func(par, _ *Component) { par.QoS.OneWayDelayMs = Fixed(1) }),
			requested: requestWith(func(par, _ *Component) { par.QoS.OneWayDelayMs = Between(10, 30) }),
		},
		"requested delay without upper bound binds nothing": {
			offered:   offerWith(func(par, _ *Component) { par.QoS.OneWayDelayMs = AtLeast(500) }),
			requested: requestWith(func(par, _ *Component) { par.QoS.OneWayDelayMs = AtLeast(10) }),
		},
		"loss above the maximum": {
			offered:   offerWith(func(par, _ *Component) { par.QoS.LossRatio = Fixed(0.01) }),
			requested: Sample(), want: []string{p0 + "qos.loss_ratio"},
		},
		"metric not offered": {
			offered:   offerWith(func(par, _ *Component) { par.QoS.LossRatio = Value{} }),
			requested: Sample(), want: []string{p0 + "qos.loss_ratio"},
		},
		"qos bound differs": {
			offered:   offerWith(func(par, _ *Component) { par.QoS.Bound = BoundMaximum }),
			requested: requestWith(func(par, _ *Component) { par.QoS.Bound = BoundAverage }),
			want:      []string{p0 + "qos.bound"},
		},
		"qos percentile differs": {
			offered: offerWith(func(par, _ *Component) { par.QoS.Bound, par.QoS.Percentile = BoundPercentile, 95 }),
			requested: requestWith(func(par, _ *Component) {
				par.QoS.Bound, par.QoS.Percentile = BoundPercentile, 99
			}),
			want: []string{p0 + "qos.percentile"},
		},
		// Reference: RFC 7297 §3.4, higher availability is better.
		"availability below the minimum": {
			offered:   offerWith(func(par, _ *Component) { par.Availability.Percent = Fixed(99.5) }),
			requested: Sample(), want: []string{p0 + "availability.percent"},
		},
		"loose availability unbounded below": {
			offered:   offerWith(func(par, _ *Component) { par.Availability.Percent = AtMost(100) }),
			requested: Sample(), want: []string{p0 + "availability.percent"},
		},
		"requested availability maximum is ignored": {
			offered:   offerWith(func(par, _ *Component) { par.Availability.Percent = Fixed(99.999) }),
			requested: requestWith(func(par, _ *Component) { par.Availability.Percent = Between(99.9, 99.99) }),
		},
		// Reference: RFC 7297 §3.5, capacity within the requested range.
		"capacity above the maximum": {
			offered:   offerWith(func(par, _ *Component) { par.Capacity.IncomingBps = Fixed(250e6) }),
			requested: Sample(), want: []string{p0 + "capacity.incoming_bps"},
		},
		"capacity below the minimum": {
			offered:   offerWith(func(par, _ *Component) { par.Capacity.OutgoingBps = Fixed(50e6) }),
			requested: Sample(), want: []string{p0 + "capacity.outgoing_bps"},
		},
		"loose capacity partly below": {
			offered:   offerWith(func(par, _ *Component) { par.Capacity.IncomingBps = Between(50e6, 150e6) }),
			requested: Sample(), want: []string{p0 + "capacity.incoming_bps"},
		},
		"loose capacity unbounded below": {
			offered:   offerWith(func(par, _ *Component) { par.Capacity.IncomingBps = AtMost(150e6) }),
			requested: Sample(), want: []string{p0 + "capacity.incoming_bps"},
		},
		"loose capacity unbounded above": {
			offered:   offerWith(func(par, _ *Component) { par.Capacity.IncomingBps = AtLeast(150e6) }),
			requested: Sample(), want: []string{p0 + "capacity.incoming_bps"},
		},
		"capacity above an open maximum": {
			offered:   offerWith(func(_, lyo *Component) { lyo.Capacity.OutgoingBps = Fixed(10e9) }),
			requested: Sample(),
		},
		"fixed capacity request must be met exactly": {
			offered:   offerWith(func(par, _ *Component) { par.Capacity.IncomingBps = Fixed(150e6 + 1) }),
			requested: requestWith(func(par, _ *Component) { par.Capacity.IncomingBps = Fixed(150e6) }),
			want:      []string{p0 + "capacity.incoming_bps"},
		},
		"capacity direction not offered": {
			offered:   offerWith(func(par, _ *Component) { par.Capacity.OutgoingBps = Value{} }),
			requested: Sample(), want: []string{p0 + "capacity.outgoing_bps"},
		},
		"mtu differs from a fixed request": {
			offered:   offerWith(func(par, _ *Component) { par.Conformance.MTU = Fixed(9000) }),
			requested: Sample(), want: []string{p0 + "conformance.mtu"},
		},
		"notification interval too long": {
			offered:   offerWith(func(_, lyo *Component) { lyo.Notifications.IntervalS = Fixed(600) }),
			requested: Sample(), want: []string{p1 + "notifications.interval_s"},
		},
		// Reference: RFC 7297 §3.3, qualitative versus quantitative.
		"class differs": {
			offered:   offerWith(func(_, lyo *Component) { lyo.QoS.Class = "bronze" }),
			requested: Sample(), want: []string{p1 + "qos.class"},
		},
		"class requested, quantitative offered": {
			offered:   offerWith(func(_, lyo *Component) { lyo.QoS = &QoS{OneWayDelayMs: Fixed(1)} }),
			requested: Sample(), want: []string{p1 + "qos.class"},
		},
		"quantitative requested, class offered": {
			offered:   offerWith(func(par, _ *Component) { par.QoS = &QoS{Class: "gold"} }),
			requested: Sample(), want: []string{p0 + "qos"},
		},
		// Every requested clause must be offered.
		"clauses not offered": {
			offered: offerWith(func(par, lyo *Component) {
				par.QoS, par.Availability, par.Capacity, par.Conformance, par.Scope = nil, nil, nil, nil, nil
				lyo.TrafficIsolation, lyo.Notifications = nil, nil
			}),
			requested: Sample(),
			want: []string{
				p0 + "scope", p0 + "qos", p0 + "availability", p0 + "capacity", p0 + "conformance",
				p1 + "traffic_isolation", p1 + "notifications",
			},
		},
		"more clauses not offered": {
			offered: one(Component{}),
			requested: one(Component{
				OverallGuarantees: &OverallGuarantees{Loss: "low"}, Routing: &Routing{}, FlowIdentification: []FlowIdentifier{{DSCP: ip(0)}},
				ActivationMeans: []string{"bgp"}, InvocationMeans: InvocationImplicit,
			}),
			want: []string{
				"components[0].flow_identification[0]", "components[0].overall_guarantees", "components[0].routing",
				"components[0].activation_means", "components[0].invocation_means",
			},
		},
		// Reference: RFC 8921 §8.7; components are matched by index.
		"component not offered": {
			offered:   CPD{Components: SampleConcrete().Components[:1]},
			requested: Sample(), want: []string{"components[1]"},
		},
		"component not requested": {
			offered:   CPD{Components: append(SampleConcrete().Components, one(Component{}).Components...)},
			requested: Sample(), want: []string{"components[2]"},
		},
		"offer for the Empty CPD": {offered: Sample(), requested: Empty(), want: []string{"components[0]", "components[1]"}},
		// Reference: RFC 7297 §3.1, customer nodes and border links.
		"customer node replaced": {
			offered:   offerWith(func(par, _ *Component) { par.CustomerNodes[0].Identifier = "ce-par-9" }),
			requested: Sample(), want: []string{p0 + "customer_nodes[0].identifier", p0 + "customer_nodes[0].identifier"},
		},
		"extra customer node": {
			offered: offerWith(func(par, _ *Component) {
				par.CustomerNodes = append(par.CustomerNodes, CustomerNode{Identifier: "ce-par-2"})
			}),
			requested: Sample(), want: []string{p0 + "customer_nodes[1].identifier"},
		},
		"nodes in another order": {
			offered:   CPD{Components: []Component{{CustomerNodes: []CustomerNode{{Identifier: "b"}, {Identifier: "a", LinkIdentifier: "pe1"}}}}},
			requested: CPD{Components: []Component{{CustomerNodes: []CustomerNode{{Identifier: "a", LinkIdentifier: "pe1"}, {Identifier: "b"}}}}},
		},
		"requested border link changed": {
			offered: offerWith(func(par, _ *Component) { par.CustomerNodes[0].LinkIdentifier = "pe7:xe-1/1/1" }),
			requested: requestWith(func(par, _ *Component) {
				par.CustomerNodes[0].LinkIdentifier = "pe1-par:xe-0/0/1"
			}),
			want: []string{p0 + "customer_nodes[0].link_identifier"},
		},
		"requested localization dropped": {
			offered:   offerWith(func(par, _ *Component) { par.CustomerNodes[0].Localization = "" }),
			requested: Sample(), want: []string{p0 + "customer_nodes[0].localization"},
		},
		// Reference: RFC 7297 §3.2.
		"scope model differs": {
			offered:   offerWith(func(par, _ *Component) { par.Scope.Model = ModelUnspecifiedHose }),
			requested: Sample(), want: []string{p0 + "scope.model"},
		},
		"restricted reachability offered as global": {
			offered:   offerWith(func(par, _ *Component) { par.Scope.Outgoing = &Reachability{Global: true} }),
			requested: Sample(), want: []string{p0 + "scope.outgoing.global"},
		},
		"reachability not offered": {
			offered:   offerWith(func(par, _ *Component) { par.Scope.Outgoing = nil }),
			requested: Sample(), want: []string{p0 + "scope.outgoing"},
		},
		"prefixes differ": {
			offered:   offerWith(func(par, _ *Component) { par.Scope.Outgoing.Prefixes = []string{"10.20.0.0/17", "10.20.128.0/17"} }),
			requested: Sample(), want: []string{p0 + "scope.outgoing.prefixes"},
		},
		"lists compare as sets": {
			offered: offerWith(func(par, _ *Component) {
				par.Scope.Ingress = []string{"b", "a", "a"}
				par.ActivationMeans = []string{"bgp", "bgp"}
			}),
			requested: requestWith(func(par, _ *Component) { par.Scope.Ingress = []string{"a", "b"} }),
		},
		"ingress and egress differ": {
			offered: offerWith(func(par, _ *Component) {
				par.Scope.Ingress, par.Scope.Egress = []string{"a"}, []string{"e", "f"}
			}),
			requested: requestWith(func(par, _ *Component) {
				par.Scope.Ingress, par.Scope.Egress = []string{"a", "b"}, []string{"e"}
			}),
			want: []string{p0 + "scope.ingress", p0 + "scope.egress"},
		},
		// Reference: RFC 7297 §3.8.
		"isolation required but not offered": {
			offered:   offerWith(func(_, lyo *Component) { lyo.TrafficIsolation.Required = false }),
			requested: Sample(), want: []string{p1 + "traffic_isolation.required"},
		},
		"isolation offered though not required": {
			offered:   offerWith(func(par, _ *Component) { par.TrafficIsolation = &TrafficIsolation{Required: true} }),
			requested: requestWith(func(par, _ *Component) { par.TrafficIsolation = &TrafficIsolation{} }),
		},
		"isolation means differ": {
			offered:   offerWith(func(_, lyo *Component) { lyo.TrafficIsolation.Means = "ipsec" }),
			requested: Sample(), want: []string{p1 + "traffic_isolation.means"},
		},
		// Reference: RFC 7297 §3.6, §3.7, §3.9-3.13.
		"out-of-profile treatment differs": {
			offered:   offerWith(func(par, _ *Component) { par.Conformance.OutOfProfile = OutOfProfileDiscard }),
			requested: Sample(), want: []string{p0 + "conformance.out_of_profile"},
		},
		"remark class differs": {
			offered:   offerWith(func(par, _ *Component) { par.Conformance.RemarkClass = "be" }),
			requested: requestWith(func(par, _ *Component) { par.Conformance.RemarkClass = "le" }),
			want:      []string{p0 + "conformance.remark_class"},
		},
		"flow identifiers differ": {
			offered:   offerWith(func(par, _ *Component) { par.FlowIdentification[0].DSCP = ip(34) }),
			requested: Sample(), want: []string{p0 + "flow_identification[0]", p0 + "flow_identification[0]"},
		},
		"overall guarantees differ": {
			offered: offerWith(func(par, _ *Component) {
				par.OverallGuarantees = &OverallGuarantees{Delay: "high", Loss: "low"}
			}),
			requested: requestWith(func(par, _ *Component) {
				par.OverallGuarantees = &OverallGuarantees{Delay: "low", Loss: "low", Throughput: "high"}
			}),
			want: []string{p0 + "overall_guarantees.delay", p0 + "overall_guarantees.throughput"},
		},
		"routing differs": {
			offered: offerWith(func(par, _ *Component) {
				par.Routing = &Routing{Avoid: []string{"satellite"}, Topology: "red"}
			}),
			requested: requestWith(func(par, _ *Component) {
				par.Routing = &Routing{
					Avoid: []string{"satellite", "AS64500"}, Via: []string{"firewall"}, GeographicRestrictions: []string{"EU"},
					Topology: "blue", ForwardingBehavior: "EF", BackupPaths: true,
				}
			}),
			want: []string{
				p0 + "routing.avoid", p0 + "routing.via", p0 + "routing.geographic_restrictions",
				p0 + "routing.topology", p0 + "routing.forwarding_behavior", p0 + "routing.backup_paths",
			},
		},
		"activation means differ": {
			offered:   offerWith(func(par, _ *Component) { par.ActivationMeans = []string{"bgp", "bfd"} }),
			requested: Sample(), want: []string{p0 + "activation_means"},
		},
		"invocation means differ": {
			offered:   offerWith(func(par, _ *Component) { par.InvocationMeans = InvocationExplicit }),
			requested: requestWith(func(par, _ *Component) { par.InvocationMeans = InvocationImplicit }),
			want:      []string{p0 + "invocation_means"},
		},
		"notification members differ": {
			offered: offerWith(func(_, lyo *Component) {
				lyo.Notifications.Means = []string{"snmp"}
				lyo.Notifications.DataModel = "b"
			}),
			requested: requestWith(func(_, lyo *Component) {
				lyo.Notifications.Events = []string{"down"}
				lyo.Notifications.DataModel = "a"
				lyo.Notifications.Destination = "udp://192.0.2.1:514"
			}),
			want: []string{
				p1 + "notifications.means", p1 + "notifications.events", p1 + "notifications.data_model",
				p1 + "notifications.destination",
			},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := Satisfies(tt.offered, tt.requested)
			var paths []string
			for _, m := range got {
				paths = append(paths, m.Path)
				if m.Clause == "" || m.Why == "" || m.Requested == "" || m.Offered == "" || clauseSections[m.Clause] == "" {
					t.Errorf("mismatch %+v: want every field set and a known clause", m)
				}
			}
			if diff := cmp.Diff(tt.want, paths); diff != "" {
				t.Errorf("Satisfies paths (-want +got):\n%s\nmismatches: %v", diff, got)
			}
		})
	}
}

// The mismatch says why, in terms a person can act on.
// Reference: RFC 7297 §3.3, §3.5.
func TestSatisfiesExplains(t *testing.T) {
	t.Parallel()
	offered := offerWith(func(par, lyo *Component) {
		par.QoS.OneWayDelayMs = Fixed(45)
		par.Capacity.IncomingBps = AtMost(150e6)
		lyo.Capacity = nil
		lyo.QoS.Class = "bronze"
	})
	want := []Mismatch{
		{
			Path: "components[0].qos.one_way_delay_ms", Clause: ClauseQoS, Requested: "<=30", Offered: "45",
			Why: "offered 45 exceeds the requested maximum 30",
		},
		{
			Path: "components[0].capacity.incoming_bps", Clause: ClauseCapacity, Requested: "100000000..200000000", Offered: "<=150000000",
			Why: "offer is not bounded below; requested at least 100000000",
		},
		{Path: "components[1].qos.class", Clause: ClauseQoS, Requested: "silver", Offered: "bronze", Why: "offered QoS class differs from the requested class"},
		{Path: "components[1].capacity", Clause: ClauseCapacity, Requested: "clause", Offered: "absent", Why: "requested clause not offered"},
	}
	got := Satisfies(offered, Sample())
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Satisfies (-want +got):\n%s", diff)
	}
	wantString := "components[0].qos.one_way_delay_ms: offered 45 exceeds the requested maximum 30 " +
		"(requested <=30, offered 45; QoS Guarantees, RFC 7297 §3.3)"
	if len(got) > 0 && got[0].String() != wantString {
		t.Errorf("String: got %q, want %q", got[0].String(), wantString)
	}
}

// Reference: RFC 8921 §8.10 (several servers; the client picks).
func TestScore(t *testing.T) {
	t.Parallel()
	// SampleConcrete against Sample: delay 20 of <=30, jitter 2 of <=5, loss
	// 0.0005 of <=0.001, availability 99.95 of >=99.9 (ceiling 100), interval
	// 60 of <=300.
	sampleScore := ((30.0-20)/30 + (5.0-2)/5 + (0.001-0.0005)/0.001 + (99.95-99.9)/(100-99.9) + (300.0-60)/300) / 5
	tests := map[string]struct {
		offered, requested CPD
		want               float64
	}{
		"sample offer":  {SampleConcrete(), Sample(), sampleScore},
		"at the bounds": {Sample(), Sample(), 0},
		"no directional bounds requested": {
			offered:   one(Component{Capacity: &Capacity{IncomingBps: Fixed(5)}}),
			requested: one(Component{Capacity: &Capacity{IncomingBps: AtLeast(1)}}),
			want:      0,
		},
		"perfect offer": {
			offered:   one(Component{QoS: &QoS{LossRatio: Fixed(0)}, Availability: &Availability{Percent: Fixed(100)}}),
			requested: one(Component{QoS: &QoS{LossRatio: AtMost(0.01)}, Availability: &Availability{Percent: AtLeast(99)}}),
			want:      1,
		},
		"zero maximum and full availability requested": {
			offered:   one(Component{QoS: &QoS{LossRatio: Fixed(0)}, Availability: &Availability{Percent: Fixed(100)}}),
			requested: one(Component{QoS: &QoS{LossRatio: Fixed(0)}, Availability: &Availability{Percent: Fixed(100)}}),
			want:      0,
		},
		"unsatisfying offer": {
			offered:   offerWith(func(par, _ *Component) { par.QoS, par.Capacity = nil, nil }),
			requested: Sample(),
			want:      -2,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := Score(tt.offered, tt.requested)
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Score: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBetter(t *testing.T) {
	t.Parallel()
	faster := offerWith(func(par, _ *Component) { par.QoS.OneWayDelayMs = Fixed(10) })
	slower := offerWith(func(par, _ *Component) { par.QoS.OneWayDelayMs = Fixed(25) })
	broken := offerWith(func(par, _ *Component) { par.QoS.OneWayDelayMs = Fixed(35) })
	tests := map[string]struct {
		a, b CPD
		want bool
	}{
		"lower delay wins":             {faster, slower, true},
		"higher delay loses":           {slower, faster, false},
		"satisfying beats broken":      {slower, broken, true},
		"broken loses":                 {broken, slower, false},
		"tie keeps the current one":    {SampleConcrete(), SampleConcrete(), false},
		"fewer mismatches rank higher": {broken, CPD{}, true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Better(tt.a, tt.b, Sample()); got != tt.want {
				t.Errorf("Better: got %v, want %v (scores %v, %v)", got, tt.want, Score(tt.a, Sample()), Score(tt.b, Sample()))
			}
		})
	}
}

// Reference: RFC 8921 §8.7 ("A CPD is said to be concrete if all clauses have
// fixed values").
func TestConcreteAndLoose(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in        CPD
		wantLoose []string
	}{
		"empty":           {Empty(), nil},
		"sample concrete": {SampleConcrete(), nil},
		"no values":       {one(Component{QoS: &QoS{Class: "gold"}}), nil},
		"sample": {Sample(), []string{
			"components[0].qos.one_way_delay_ms", "components[0].qos.delay_variation_ms", "components[0].qos.loss_ratio",
			"components[0].availability.percent", "components[0].capacity.incoming_bps", "components[0].capacity.outgoing_bps",
			"components[1].capacity.outgoing_bps", "components[1].notifications.interval_s",
		}},
		"full": {full(), []string{
			"components[0].qos.one_way_delay_ms", "components[0].qos.delay_variation_ms",
			"components[0].availability.percent", "components[0].capacity.outgoing_bps",
			"components[0].conformance.mtu", "components[0].notifications.interval_s",
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.wantLoose, tt.in.Loose()); diff != "" {
				t.Errorf("Loose (-want +got):\n%s", diff)
			}
			if got, want := tt.in.Concrete(), len(tt.wantLoose) == 0; got != want {
				t.Errorf("Concrete: got %v, want %v", got, want)
			}
		})
	}
}

// Reference: DESIGN §3 ("a fixed value, or the min of a range" is what a
// request asks for); RFC 7297 §3.5.
func TestCapacity(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in              CPD
		wantIn, wantOut Value
	}{
		"empty":           {Empty(), Value{}, Value{}},
		"sample":          {Sample(), Between(100e6, 200e6), AtLeast(150e6)},
		"sample concrete": {SampleConcrete(), Fixed(150e6), Fixed(200e6)},
		"open lower bound counts as zero": {
			CPD{Components: []Component{
				{CustomerNodes: node1(), Capacity: &Capacity{IncomingBps: AtMost(10)}},
				{CustomerNodes: node1(), Capacity: &Capacity{IncomingBps: Fixed(5)}},
				{CustomerNodes: node1()},
			}},
			Between(5, 15), Value{},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			gotIn, gotOut := tt.in.Capacity()
			if !gotIn.Equal(tt.wantIn) || !gotOut.Equal(tt.wantOut) {
				t.Errorf("Capacity: got (%v, %v), want (%v, %v)", gotIn, gotOut, tt.wantIn, tt.wantOut)
			}
		})
	}
}

func TestQoSKind(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		q                         QoS
		qualitative, quantitative bool
	}{
		"class":   {QoS{Class: "gold"}, true, false},
		"delay":   {QoS{OneWayDelayMs: AtMost(1)}, false, true},
		"jitter":  {QoS{DelayVariationMs: AtMost(1)}, false, true},
		"loss":    {QoS{LossRatio: AtMost(1)}, false, true},
		"nothing": {QoS{Bound: BoundAverage}, false, false},
	}
	for name, tt := range tests {
		if got := tt.q.Qualitative(); got != tt.qualitative {
			t.Errorf("%s: Qualitative got %v, want %v", name, got, tt.qualitative)
		}
		if got := tt.q.Quantitative(); got != tt.quantitative {
			t.Errorf("%s: Quantitative got %v, want %v", name, got, tt.quantitative)
		}
	}
}

func TestEnumsValid(t *testing.T) {
	t.Parallel()
	for _, m := range []ScopeModel{ModelPipe, ModelHose, ModelUnspecifiedHose} {
		if !m.Valid() {
			t.Errorf("%q.Valid(): got false, want true", m)
		}
	}
	for _, m := range []ScopeModel{"", "1:n", "1:ANY", "N:N"} {
		if m.Valid() {
			t.Errorf("%q.Valid(): got true, want false", m)
		}
	}
	if !OutOfProfileDiscard.Valid() || !OutOfProfileRemark.Valid() || OutOfProfile("drop").Valid() {
		t.Errorf("OutOfProfile.Valid: got wrong answers")
	}
	if !InvocationImplicit.Valid() || !InvocationExplicit.Valid() || InvocationMeans("Implicit").Valid() {
		t.Errorf("InvocationMeans.Valid: got wrong answers")
	}
}
