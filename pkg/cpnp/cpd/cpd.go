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

// CPD is a Connectivity Provisioning Document (RFC 8921 §8.7, §9.1.9.1): a
// list of Connectivity Provisioning Components, each following the CPP
// template of RFC 7297 §4. JSON: {"components":[...]} (DESIGN §3).
//
// The zero CPD and Empty() are the Empty CPD {"components":[]} that an ACK
// carries after DECLINE or WITHDRAW (RFC 8921 §9.2.6). Build CPDs with Parse
// or as literals; Validate checks a literal, MarshalJSON encodes it
// canonically.
type CPD struct {
	// Components are the Connectivity Provisioning Components
	// (<Connectivity Provisioning Component> ..., RFC 8921 Figure 10).
	Components []Component `json:"components"`
}

// Component is one Connectivity Provisioning Component with the 13 clauses
// of RFC 7297 §3, in the order of RFC 8921 Figure 10 (which is also the
// canonical JSON member order). Every clause but CustomerNodes is optional;
// an absent clause (nil pointer, nil slice, empty string) means "not
// requested" (DESIGN §3), and in an offer "not offered".
type Component struct {
	// CustomerNodes is the Customer Nodes Map (RFC 7297 §3.1): at least one
	// node, identifiers unique within the component. JSON "customer_nodes".
	CustomerNodes []CustomerNode `json:"customer_nodes"`
	// Scope is the reachability and topological scope (RFC 7297 §3.2).
	Scope *Scope `json:"scope,omitempty"`
	// QoS is the QoS Guarantees clause (RFC 7297 §3.3). JSON "qos".
	QoS *QoS `json:"qos,omitempty"`
	// Availability is RFC 7297 §3.4.
	Availability *Availability `json:"availability,omitempty"`
	// Capacity is RFC 7297 §3.5.
	Capacity *Capacity `json:"capacity,omitempty"`
	// TrafficIsolation is RFC 7297 §3.8. JSON "traffic_isolation".
	TrafficIsolation *TrafficIsolation `json:"traffic_isolation,omitempty"`
	// Conformance is the Conformance Traffic clause (RFC 7297 §3.6).
	Conformance *Conformance `json:"conformance,omitempty"`
	// FlowIdentification lists the flow identifiers (RFC 7297 §3.9). JSON
	// "flow_identification".
	FlowIdentification []FlowIdentifier `json:"flow_identification,omitempty"`
	// OverallGuarantees is the Overall Traffic Guarantees clause (RFC 7297
	// §3.7). JSON "overall_guarantees".
	OverallGuarantees *OverallGuarantees `json:"overall_guarantees,omitempty"`
	// Routing is the Routing and Forwarding clause (RFC 7297 §3.10).
	Routing *Routing `json:"routing,omitempty"`
	// ActivationMeans lists the actions that activate access to the service,
	// e.g. "bgp", "mp-bgp", "igp", "pim" (RFC 7297 §3.11). JSON "activation_means".
	ActivationMeans []string `json:"activation_means,omitempty"`
	// InvocationMeans is implicit or explicit (RFC 7297 §3.12). JSON "invocation_means".
	InvocationMeans InvocationMeans `json:"invocation_means,omitempty"`
	// Notifications is RFC 7297 §3.13.
	Notifications *Notifications `json:"notifications,omitempty"`
}

// CustomerNode is one entry of the Customer Nodes Map (RFC 7297 §3.1; RFC
// 8921 Figure 10: <IDENTIFIER> <LINK_IDENTIFIER> <LOCALIZATION>).
type CustomerNode struct {
	// Identifier unambiguously identifies the node (e.g. a CE name, a MAC
	// address); mandatory.
	Identifier string `json:"identifier"`
	// LinkIdentifier names the border link or Provider Node the node
	// attaches to. A request may leave it to the provider, which fills it in
	// (RFC 7297 §3.1: "appropriate operations to retrieve the corresponding
	// border link ... should be undertaken").
	LinkIdentifier string `json:"link_identifier,omitempty"`
	// Localization is free-form geolocation, e.g. "48.8566,2.3522".
	Localization string `json:"localization,omitempty"`
	// SiteIdentifier names the service site behind the node (RFC 7297 §3.1,
	// "Site_identifier" for managed VPN services).
	SiteIdentifier string `json:"site_identifier,omitempty"`
}

// ScopeModel is the topological scope type of RFC 7297 §3.2.
type ScopeModel string

// Scope models (RFC 7297 §3.2).
const (
	// ModelPipe is "1:1": only point-to-point communications are allowed.
	ModelPipe ScopeModel = "1:1"
	// ModelHose is "1:N": only communications from one site towards a set of
	// destinations are allowed.
	ModelHose ScopeModel = "1:N"
	// ModelUnspecifiedHose is "1:any": all outbound communications are allowed.
	ModelUnspecifiedHose ScopeModel = "1:any"
)

// Valid reports whether m is one of the three models of RFC 7297 §3.2.
func (m ScopeModel) Valid() bool {
	return m == ModelPipe || m == ModelHose || m == ModelUnspecifiedHose
}

// Scope is the Scope clause (RFC 7297 §3.2): the reachability of the
// Customer Nodes in each direction, and the topological portion (ingress
// and egress points) beyond which the guarantees do not apply.
type Scope struct {
	// Model is "1:1", "1:N" or "1:any".
	Model ScopeModel `json:"model,omitempty"`
	// Ingress lists the ingress points (node names, prefixes, ...).
	Ingress []string `json:"ingress,omitempty"`
	// Egress lists the egress points.
	Egress []string `json:"egress,omitempty"`
	// Incoming is who can reach the Customer Nodes.
	Incoming *Reachability `json:"incoming,omitempty"`
	// Outgoing is what the Customer Nodes can reach.
	Outgoing *Reachability `json:"outgoing,omitempty"`
}

// Reachability is one direction of the reachability scope (RFC 7297 §3.2):
// global (the whole Internet), or restricted to a set of IPv4/IPv6 unicast
// or multicast prefixes. Global with prefixes is a conflict; restricted with
// no prefix means nothing is reachable in that direction.
type Reachability struct {
	// Global is true for global reachability. Always encoded.
	Global bool `json:"global"`
	// Prefixes are IP prefixes in CIDR notation, for a restricted scope.
	Prefixes []string `json:"prefixes,omitempty"`
}

// Bound says how a quantitative value is to be read (RFC 7297 §3.3, §3.4).
type Bound string

// Bounds.
const (
	// BoundAverage: the value is an average over the measurement interval.
	BoundAverage Bound = "average"
	// BoundMaximum: the value is a maximum bound.
	BoundMaximum Bound = "maximum"
	// BoundPercentile: the value is a percentile (QoS only, RFC 7297 §3.3);
	// QoS.Percentile says which.
	BoundPercentile Bound = "percentile"
)

// QoS is the QoS Guarantees clause (RFC 7297 §3.3). It is either qualitative
// (Class, e.g. a Meta-QoS-Class name of RFC 5160) or quantitative (the three
// IP performance metrics, each optional); "both quantitative and qualitative
// guarantees cannot be specified in the same CPP".
type QoS struct {
	// Class is the qualitative class, e.g. "gold".
	Class string `json:"class,omitempty"`
	// OneWayDelayMs is the one-way delay in milliseconds (RFC 2679), >= 0.
	OneWayDelayMs Value `json:"one_way_delay_ms,omitzero"`
	// DelayVariationMs is the one-way delay variation in milliseconds (RFC
	// 3393), >= 0.
	DelayVariationMs Value `json:"delay_variation_ms,omitzero"`
	// LossRatio is the packet loss ratio (RFC 2680), 0..1.
	LossRatio Value `json:"loss_ratio,omitzero"`
	// Bound says whether the quantitative values are averages, maximums or
	// percentiles; quantitative QoS only.
	Bound Bound `json:"bound,omitempty"`
	// Percentile is the percentile (0 < p < 100) when Bound is "percentile".
	Percentile float64 `json:"percentile,omitempty"`
}

// Qualitative reports whether q names a class.
func (q QoS) Qualitative() bool { return q.Class != "" }

// Quantitative reports whether q has at least one metric bound.
func (q QoS) Quantitative() bool {
	return !q.OneWayDelayMs.IsZero() || !q.DelayVariationMs.IsZero() || !q.LossRatio.IsZero()
}

// Availability is RFC 7297 §3.4: the percentage of time during which the
// agreed guarantees apply.
type Availability struct {
	// Percent is 0..100; mandatory.
	Percent Value `json:"percent"`
	// Bound is "average" or "maximum"; "the exact meaning of the clause value
	// is defined during the CPP negotiation process".
	Bound Bound `json:"bound,omitempty"`
}

// Capacity is RFC 7297 §3.5, per direction, in bits per second (>= 0), seen
// from the Customer Nodes: incoming is delivered to them, outgoing is sent by
// them. At least one direction is required.
type Capacity struct {
	// IncomingBps is the capacity towards the Customer Nodes.
	IncomingBps Value `json:"incoming_bps,omitzero"`
	// OutgoingBps is the capacity from the Customer Nodes.
	OutgoingBps Value `json:"outgoing_bps,omitzero"`
}

// TrafficIsolation is RFC 7297 §3.8.
type TrafficIsolation struct {
	// Required is true when the traffic must be isolated. Always encoded.
	Required bool `json:"required"`
	// Means names the isolation technique, e.g. "ipsec", "bgp-mpls-vpn".
	Means string `json:"means,omitempty"`
}

// OutOfProfile is the out-of-profile treatment of RFC 7297 §3.6.
type OutOfProfile string

// Out-of-profile treatments.
const (
	// OutOfProfileDiscard drops out-of-profile traffic.
	OutOfProfileDiscard OutOfProfile = "discard"
	// OutOfProfileRemark assigns it another class (e.g. LE PDB, RFC 3662).
	OutOfProfileRemark OutOfProfile = "remark"
)

// Valid reports whether o is "discard" or "remark".
func (o OutOfProfile) Valid() bool { return o == OutOfProfileDiscard || o == OutOfProfileRemark }

// Conformance is the Conformance Traffic clause (RFC 7297 §3.6).
type Conformance struct {
	// OutOfProfile is "discard" or "remark".
	OutOfProfile OutOfProfile `json:"out_of_profile,omitempty"`
	// RemarkClass is the class out-of-profile traffic is assigned to; only
	// with "remark".
	RemarkClass string `json:"remark_class,omitempty"`
	// MTU is the packet MTU in bytes, an integer 68..65535.
	MTU Value `json:"mtu,omitzero"`
}

// FlowIdentifier is one traffic classifier (RFC 7297 §3.9). At least one
// member other than RemarkDSCP is required. Optional integers are pointers
// because 0 is a meaningful DSCP, port and protocol.
type FlowIdentifier struct {
	// SourcePrefix is an IP prefix in CIDR notation.
	SourcePrefix string `json:"source_prefix,omitempty"`
	// SourcePort is 0..65535.
	SourcePort *int `json:"source_port,omitempty"`
	// DestinationPrefix is an IP prefix in CIDR notation.
	DestinationPrefix string `json:"destination_prefix,omitempty"`
	// DestinationPort is 0..65535.
	DestinationPort *int `json:"destination_port,omitempty"`
	// Protocol is the IP protocol number, 0..255.
	Protocol *int `json:"protocol,omitempty"`
	// DSCP is the Differentiated Services Code Point, 0..63.
	DSCP *int `json:"dscp,omitempty"`
	// TunnelEndpoint is the tail-end tunnel endpoint.
	TunnelEndpoint string `json:"tunnel_endpoint,omitempty"`
	// LinkIdentifier restricts the rule to one border link.
	LinkIdentifier string `json:"link_identifier,omitempty"`
	// RemarkDSCP is the DSCP that matching packets are re-marked to, 0..63.
	RemarkDSCP *int `json:"remark_dscp,omitempty"`
}

// OverallGuarantees is the Overall Traffic Guarantees clause (RFC 7297
// §3.7): qualitative only; at least one member. It cannot be combined with
// discarding out-of-profile traffic.
type OverallGuarantees struct {
	// Delay is a qualitative delay guarantee, e.g. "low".
	Delay string `json:"delay,omitempty"`
	// Loss is a qualitative loss guarantee.
	Loss string `json:"loss,omitempty"`
	// Throughput is a qualitative throughput guarantee.
	Throughput string `json:"throughput,omitempty"`
}

// Routing is the Routing and Forwarding clause (RFC 7297 §3.10).
type Routing struct {
	// Avoid lists nodes, links, networks or link types that the traffic must
	// not cross, e.g. "satellite", "AS64500".
	Avoid []string `json:"avoid,omitempty"`
	// Via lists intermediate functions that must be invoked in the
	// forwarding path, e.g. "firewall".
	Via []string `json:"via,omitempty"`
	// GeographicRestrictions lists where the traffic may be routed, e.g. "EU".
	GeographicRestrictions []string `json:"geographic_restrictions,omitempty"`
	// Topology names a logical routing topology (RFC 4915, RFC 5120).
	Topology string `json:"topology,omitempty"`
	// ForwardingBehavior names a Per-Domain Behavior (RFC 3086), e.g. "EF".
	ForwardingBehavior string `json:"forwarding_behavior,omitempty"`
	// BackupPaths asks for pre-installed backup paths (resilience).
	BackupPaths bool `json:"backup_paths,omitempty"`
}

// InvocationMeans is RFC 7297 §3.12.
type InvocationMeans string

// Invocation means.
const (
	// InvocationImplicit: no explicit means to invoke the service is required.
	InvocationImplicit InvocationMeans = "implicit"
	// InvocationExplicit: explicit means (RSVP-TE, IGMP, MLD, ...) are needed.
	InvocationExplicit InvocationMeans = "explicit"
)

// Valid reports whether i is "implicit" or "explicit".
func (i InvocationMeans) Valid() bool { return i == InvocationImplicit || i == InvocationExplicit }

// Notifications is RFC 7297 §3.13: how management platforms are told about
// events that may impact the service.
type Notifications struct {
	// Means lists the notification channels, e.g. "snmp", "syslog", "cpnp",
	// "netconf", "phone".
	Means []string `json:"means,omitempty"`
	// Events lists the types of information to be sent.
	Events []string `json:"events,omitempty"`
	// IntervalS is the reporting interval in seconds, >= 0.
	IntervalS Value `json:"interval_s,omitzero"`
	// DataModel names the data model of the notifications.
	DataModel string `json:"data_model,omitempty"`
	// Destination is where notifications are sent (address or URI).
	Destination string `json:"destination,omitempty"`
}

// Empty returns the Empty CPD {"components":[]} (RFC 8921 §9.2.6).
func Empty() CPD { return CPD{Components: []Component{}} }

// IsEmpty reports whether c is the Empty CPD (no component).
func (c CPD) IsEmpty() bool { return len(c.Components) == 0 }

// Concrete reports whether every Value in c is fixed (RFC 8921 §8.7: "A CPD
// is said to be concrete if all clauses have fixed values"). Non-numeric
// members are fixed by nature. The Empty CPD is concrete.
func (c CPD) Concrete() bool {
	concrete := true
	c.eachValue(func(_ int, _, _ string, v Value) {
		concrete = concrete && v.IsFixed()
	})
	return concrete
}

// Loose returns the paths of the values of c that are not fixed, in
// canonical order, e.g. ["components[0].capacity.incoming_bps"]; nil when c
// is concrete. Useful to say why an offer or an accepted CPD is refused.
func (c CPD) Loose() []string {
	var paths []string
	c.eachValue(func(comp int, clause, member string, v Value) {
		if !v.IsFixed() {
			paths = append(paths, join(join(index("components", comp), clause), member))
		}
	})
	return paths
}

// eachValue calls fn for every present Value of c in canonical order, with
// the index of its component and the names of its clause and member: fn
// spells out the path only if it needs it, so walking allocates nothing.
func (c CPD) eachValue(fn func(comp int, clause, member string, v Value)) {
	for i := range c.Components {
		visit := func(clause, member string, v Value) {
			if !v.IsZero() {
				fn(i, clause, member, v)
			}
		}
		comp := &c.Components[i]
		if q := comp.QoS; q != nil {
			visit("qos", "one_way_delay_ms", q.OneWayDelayMs)
			visit("qos", "delay_variation_ms", q.DelayVariationMs)
			visit("qos", "loss_ratio", q.LossRatio)
		}
		if a := comp.Availability; a != nil {
			visit("availability", "percent", a.Percent)
		}
		if k := comp.Capacity; k != nil {
			visit("capacity", "incoming_bps", k.IncomingBps)
			visit("capacity", "outgoing_bps", k.OutgoingBps)
		}
		if f := comp.Conformance; f != nil {
			visit("conformance", "mtu", f.MTU)
		}
		if n := comp.Notifications; n != nil {
			visit("notifications", "interval_s", n.IntervalS)
		}
	}
}

// Capacity returns the total capacity c asks for (or offers) per direction,
// summed over the components that have a capacity clause for it: the sum of
// the lower bounds (an open lower bound counts as 0) and the sum of the upper
// bounds (open when any is open). A direction that no component mentions is
// the zero Value. A policy admits on the lower bound: DESIGN §3 "a fixed
// value, or the min of a range".
func (c CPD) Capacity() (incoming, outgoing Value) {
	for i := range c.Components {
		if k := c.Components[i].Capacity; k != nil {
			incoming = addValues(incoming, k.IncomingBps)
			outgoing = addValues(outgoing, k.OutgoingBps)
		}
	}
	return incoming, outgoing
}

// addValues adds b to the running total a; a zero b adds nothing.
func addValues(a, b Value) Value {
	switch {
	case b.IsZero():
		return a
	case a.IsZero():
		return Value{min: b.min, max: b.max, hasMin: true, hasMax: b.hasMax}
	}
	return Value{min: a.min + b.min, max: a.max + b.max, hasMin: true, hasMax: a.hasMax && b.hasMax}
}
