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

// Sample returns a realistic requested CPD with loosely defined values (RFC
// 8921 §8.7: "a quotation order with loosely defined parameters"): two
// components, a Paris site with quantitative QoS and a Lyon site with a
// qualitative class. It is valid, not concrete, and encodes to about 830
// bytes, so a QUOTATION carrying it fits one 1200-byte datagram. Each call
// returns a fresh value.
func Sample() CPD {
	return CPD{Components: []Component{
		{
			CustomerNodes: []CustomerNode{{Identifier: "ce-par-1", Localization: "48.8566,2.3522"}},
			Scope: &Scope{
				Model:    ModelHose,
				Outgoing: &Reachability{Prefixes: []string{"10.20.0.0/16"}},
			},
			QoS: &QoS{
				OneWayDelayMs:    AtMost(30),
				DelayVariationMs: AtMost(5),
				LossRatio:        AtMost(0.001),
			},
			Availability: &Availability{Percent: AtLeast(99.9), Bound: BoundAverage},
			Capacity: &Capacity{
				IncomingBps: Between(100e6, 200e6),
				OutgoingBps: Between(100e6, 200e6),
			},
			Conformance:        &Conformance{OutOfProfile: OutOfProfileRemark, MTU: Fixed(1500)},
			FlowIdentification: []FlowIdentifier{{SourcePrefix: "10.10.0.0/16", DSCP: intPtr(46)}},
			ActivationMeans:    []string{"bgp"},
		},
		{
			CustomerNodes:    []CustomerNode{{Identifier: "ce-lyo-1"}},
			QoS:              &QoS{Class: "silver"},
			Capacity:         &Capacity{OutgoingBps: AtLeast(50e6)},
			TrafficIsolation: &TrafficIsolation{Required: true, Means: "bgp-mpls-vpn"},
			Notifications:    &Notifications{Means: []string{"syslog"}, IntervalS: AtMost(300)},
		},
	}}
}

// SampleConcrete returns a concrete offer that satisfies Sample(): every
// value fixed within the requested bounds, and the border links the request
// left to the provider filled in (RFC 7297 §3.1).
func SampleConcrete() CPD {
	c := Sample()
	par, lyo := &c.Components[0], &c.Components[1]
	par.CustomerNodes[0].LinkIdentifier = "pe1-par:xe-0/0/1"
	par.QoS.OneWayDelayMs = Fixed(20)
	par.QoS.DelayVariationMs = Fixed(2)
	par.QoS.LossRatio = Fixed(0.0005)
	par.Availability.Percent = Fixed(99.95)
	par.Capacity.IncomingBps = Fixed(150e6)
	par.Capacity.OutgoingBps = Fixed(150e6)
	lyo.CustomerNodes[0].LinkIdentifier = "pe2-lyo:xe-0/0/3"
	lyo.Capacity.OutgoingBps = Fixed(50e6)
	lyo.Notifications.IntervalS = Fixed(60)
	return c
}

func intPtr(i int) *int { return &i }
