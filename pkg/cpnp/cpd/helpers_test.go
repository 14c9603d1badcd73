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
	"errors"
	"testing"
)

// ip returns a pointer to i.
func ip(i int) *int { return &i }

// wrap places a component body after a valid customer_nodes member.
func wrap(members string) string {
	return `{"components":[{"customer_nodes":[{"identifier":"ce1"}]` + members + `}]}`
}

// node1 is the component that wrap produces before its members.
func node1() []CustomerNode { return []CustomerNode{{Identifier: "ce1"}} }

// one returns a CPD of one component with the node of wrap.
func one(c Component) CPD {
	c.CustomerNodes = node1()
	return CPD{Components: []Component{c}}
}

// full is a CPD that sets every member of the model.
func full() CPD {
	return CPD{Components: []Component{{
		CustomerNodes: []CustomerNode{
			{Identifier: "ce-par-1", LinkIdentifier: "pe1:xe-0/0/1", Localization: "48.85,2.35", SiteIdentifier: "paris"},
			{Identifier: "ce-par-2"},
		},
		Scope: &Scope{
			Model: ModelPipe, Ingress: []string{"pe1"}, Egress: []string{"pe9"},
			Incoming: &Reachability{Global: true},
			Outgoing: &Reachability{Prefixes: []string{"10.0.0.0/8", "2001:db8::/32"}},
		},
		QoS:              &QoS{OneWayDelayMs: Between(5, 30), DelayVariationMs: AtMost(5), LossRatio: Fixed(0.001), Bound: BoundPercentile, Percentile: 99},
		Availability:     &Availability{Percent: AtLeast(99.99), Bound: BoundMaximum},
		Capacity:         &Capacity{IncomingBps: Fixed(1e9), OutgoingBps: Between(1e8, 1e9)},
		TrafficIsolation: &TrafficIsolation{Required: true, Means: "ipsec"},
		Conformance:      &Conformance{OutOfProfile: OutOfProfileRemark, RemarkClass: "le", MTU: Between(1500, 9000)},
		FlowIdentification: []FlowIdentifier{{
			SourcePrefix: "10.1.0.0/16", SourcePort: ip(0), DestinationPrefix: "2001:db8:1::/48", DestinationPort: ip(5060),
			Protocol: ip(17), DSCP: ip(0), TunnelEndpoint: "192.0.2.1", LinkIdentifier: "pe1:xe-0/0/1", RemarkDSCP: ip(46),
		}},
		OverallGuarantees: &OverallGuarantees{Delay: "low", Loss: "low", Throughput: "high"},
		Routing: &Routing{
			Avoid: []string{"satellite"}, Via: []string{"firewall"}, GeographicRestrictions: []string{"EU"},
			Topology: "mt-voice", ForwardingBehavior: "EF", BackupPaths: true,
		},
		ActivationMeans: []string{"bgp", "bfd"},
		InvocationMeans: InvocationExplicit,
		Notifications: &Notifications{
			Means: []string{"syslog", "netconf"}, Events: []string{"sla-violation"}, IntervalS: AtMost(60),
			DataModel: "ietf-connectivity", Destination: "udp://192.0.2.10:514",
		},
	}}}
}

// fullJSON is the canonical encoding of full(): members in RFC 8921
// Figure 10 order.
const fullJSON = `{"components":[{"customer_nodes":[{"identifier":"ce-par-1","link_identifier":"pe1:xe-0/0/1","localization":"48.85,2.35","site_identifier":"paris"},{"identifier":"ce-par-2"}],` +
	`"scope":{"model":"1:1","ingress":["pe1"],"egress":["pe9"],"incoming":{"global":true},"outgoing":{"global":false,"prefixes":["10.0.0.0/8","2001:db8::/32"]}},` +
	`"qos":{"one_way_delay_ms":{"min":5,"max":30},"delay_variation_ms":{"max":5},"loss_ratio":0.001,"bound":"percentile","percentile":99},` +
	`"availability":{"percent":{"min":99.99},"bound":"maximum"},` +
	`"capacity":{"incoming_bps":1000000000,"outgoing_bps":{"min":100000000,"max":1000000000}},` +
	`"traffic_isolation":{"required":true,"means":"ipsec"},` +
	`"conformance":{"out_of_profile":"remark","remark_class":"le","mtu":{"min":1500,"max":9000}},` +
	`"flow_identification":[{"source_prefix":"10.1.0.0/16","source_port":0,"destination_prefix":"2001:db8:1::/48","destination_port":5060,"protocol":17,"dscp":0,"tunnel_endpoint":"192.0.2.1","link_identifier":"pe1:xe-0/0/1","remark_dscp":46}],` +
	`"overall_guarantees":{"delay":"low","loss":"low","throughput":"high"},` +
	`"routing":{"avoid":["satellite"],"via":["firewall"],"geographic_restrictions":["EU"],"topology":"mt-voice","forwarding_behavior":"EF","backup_paths":true},` +
	`"activation_means":["bgp","bfd"],"invocation_means":"explicit",` +
	`"notifications":{"means":["syslog","netconf"],"events":["sla-violation"],"interval_s":{"max":60},"data_model":"ietf-connectivity","destination":"udp://192.0.2.10:514"}}]}`

// errorOf returns err as *Error, failing the test when it is not one.
func errorOf(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want *cpd.Error", err, err)
	}
	return e
}

// where is the part of an *Error that tests compare.
type where struct {
	Path string
	Kind ErrorKind
}
