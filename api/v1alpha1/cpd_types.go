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

package v1alpha1

// This file is the Connectivity Provisioning Document (RFC 8921 §8.7,
// §9.1.9.1; RFC 7297 §3) as a structural Kubernetes schema. The clauses and
// their rules are those of pkg/cpnp/cpd (docs/cpd.md); cpd_convert.go maps
// one to the other. Every list and string is bounded so that the API
// server can bound the cost of the CEL rules below.

// CPD is a Connectivity Provisioning Document: one or more Connectivity
// Provisioning Components, each following the CPP template of RFC 7297 §3.
type CPD struct {
	// components are the Connectivity Provisioning Components (RFC 8921
	// Figure 10), 1 to 16.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	Components []Component `json:"components"`
}

// Component is one Connectivity Provisioning Component: the 13 clauses of
// RFC 7297 §3. Every clause but customerNodes is optional; an absent clause
// means "not requested" (DESIGN §3), and in an offer "not offered".
// +kubebuilder:validation:XValidation:rule="!has(self.overallGuarantees) || !has(self.conformance) || !has(self.conformance.outOfProfile) || self.conformance.outOfProfile != 'Discard'",message="overallGuarantees need out-of-profile traffic to be remarked, not discarded (RFC 7297 §3.7)",fieldPath=".overallGuarantees"
type Component struct {
	// customerNodes is the Customer Nodes Map (RFC 7297 §3.1): 1 to 16
	// nodes with distinct identifiers.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=identifier
	CustomerNodes []CustomerNode `json:"customerNodes"`
	// scope is the reachability and topological scope (RFC 7297 §3.2).
	// +optional
	Scope *Scope `json:"scope,omitempty"`
	// qos is the QoS Guarantees clause (RFC 7297 §3.3): a qualitative class
	// or quantitative bounds, never both.
	// +optional
	QoS *QoS `json:"qos,omitempty"`
	// availability is the Availability clause (RFC 7297 §3.4).
	// +optional
	Availability *Availability `json:"availability,omitempty"`
	// capacity is the Capacity clause (RFC 7297 §3.5), in bits per second.
	// +optional
	Capacity *Capacity `json:"capacity,omitempty"`
	// trafficIsolation is the Traffic Isolation clause (RFC 7297 §3.8).
	// +optional
	TrafficIsolation *TrafficIsolation `json:"trafficIsolation,omitempty"`
	// conformance is the Conformance Traffic clause (RFC 7297 §3.6).
	// +optional
	Conformance *Conformance `json:"conformance,omitempty"`
	// flowIdentification lists the traffic classifiers (RFC 7297 §3.9), at
	// most 16.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	FlowIdentification []FlowIdentifier `json:"flowIdentification,omitempty"`
	// overallGuarantees is the Overall Traffic Guarantees clause (RFC 7297
	// §3.7); it cannot be combined with conformance.outOfProfile Discard.
	// +optional
	OverallGuarantees *OverallGuarantees `json:"overallGuarantees,omitempty"`
	// routing is the Routing and Forwarding clause (RFC 7297 §3.10).
	// +optional
	Routing *Routing `json:"routing,omitempty"`
	// activationMeans lists the actions that activate access to the
	// service, e.g. "bgp", "mp-bgp", "igp", "pim" (RFC 7297 §3.11).
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	ActivationMeans []Text `json:"activationMeans,omitempty"`
	// invocationMeans is Implicit or Explicit (RFC 7297 §3.12).
	// +optional
	InvocationMeans InvocationMeans `json:"invocationMeans,omitempty"`
	// notifications is the Notifications clause (RFC 7297 §3.13).
	// +optional
	Notifications *Notifications `json:"notifications,omitempty"`
}

// Text is a non-empty free-form string of at most 253 characters.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
type Text string

// CIDR is an IPv4 or IPv6 prefix in CIDR notation, e.g. "10.0.0.0/8".
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=43
// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="must be an IP prefix in CIDR notation, e.g. 10.0.0.0/8 or 2001:db8::/32"
type CIDR string

// CustomerNode is one entry of the Customer Nodes Map (RFC 7297 §3.1; RFC
// 8921 Figure 10: IDENTIFIER, LINK_IDENTIFIER, LOCALIZATION).
type CustomerNode struct {
	// identifier unambiguously identifies the node (a CE name, a MAC
	// address, ...); unique within the component.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Identifier string `json:"identifier"`
	// linkIdentifier names the border link or Provider Node the node
	// attaches to; a request may leave it to the provider.
	// +optional
	LinkIdentifier Text `json:"linkIdentifier,omitempty"`
	// localization is free-form geolocation, e.g. "48.8566,2.3522".
	// +optional
	Localization Text `json:"localization,omitempty"`
	// siteIdentifier names the service site behind the node.
	// +optional
	SiteIdentifier Text `json:"siteIdentifier,omitempty"`
}

// ScopeModel is the topological model of RFC 7297 §3.2.
// +kubebuilder:validation:Enum=Pipe;Hose;UnspecifiedHose
type ScopeModel string

// Scope models (RFC 7297 §3.2).
const (
	// ScopeModelPipe is "1:1": point-to-point communications only.
	ScopeModelPipe ScopeModel = "Pipe"
	// ScopeModelHose is "1:N": from one site towards a set of destinations.
	ScopeModelHose ScopeModel = "Hose"
	// ScopeModelUnspecifiedHose is "1:any": all outbound communications.
	ScopeModelUnspecifiedHose ScopeModel = "UnspecifiedHose"
)

// Scope is the Scope clause (RFC 7297 §3.2).
type Scope struct {
	// model is Pipe ("1:1"), Hose ("1:N") or UnspecifiedHose ("1:any").
	// +optional
	Model ScopeModel `json:"model,omitempty"`
	// ingress lists the ingress points (node names, prefixes, ...).
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	Ingress []Text `json:"ingress,omitempty"`
	// egress lists the egress points.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	Egress []Text `json:"egress,omitempty"`
	// incoming is who can reach the customer nodes.
	// +optional
	Incoming *Reachability `json:"incoming,omitempty"`
	// outgoing is what the customer nodes can reach.
	// +optional
	Outgoing *Reachability `json:"outgoing,omitempty"`
}

// ReachabilityMode says whether one direction of the scope is global.
// +kubebuilder:validation:Enum=Global;Restricted
type ReachabilityMode string

// Reachability modes (RFC 7297 §3.2).
const (
	// ReachabilityGlobal is global reachability (the whole Internet).
	ReachabilityGlobal ReachabilityMode = "Global"
	// ReachabilityRestricted restricts reachability to the listed prefixes;
	// no prefix means nothing is reachable in that direction.
	ReachabilityRestricted ReachabilityMode = "Restricted"
)

// Reachability is one direction of the reachability scope (RFC 7297 §3.2).
// +kubebuilder:validation:XValidation:rule="self.mode == 'Restricted' || !has(self.prefixes) || size(self.prefixes) == 0",message="Global reachability takes no prefixes; list prefixes only with mode Restricted (RFC 7297 §3.2)",fieldPath=".prefixes"
type Reachability struct {
	// mode is Global or Restricted (wire: "global": true or false).
	// +required
	Mode ReachabilityMode `json:"mode"`
	// prefixes are the reachable IP prefixes of a Restricted scope, at most 32.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	Prefixes []CIDR `json:"prefixes,omitempty"`
}

// QoSBound says how quantitative QoS values are read (RFC 7297 §3.3).
// +kubebuilder:validation:Enum=Average;Maximum;Percentile
type QoSBound string

// QoS bounds (RFC 7297 §3.3).
const (
	QoSBoundAverage    QoSBound = "Average"
	QoSBoundMaximum    QoSBound = "Maximum"
	QoSBoundPercentile QoSBound = "Percentile"
)

// QoS is the QoS Guarantees clause (RFC 7297 §3.3): qualitative (class) or
// quantitative (the three IP performance metrics), "both quantitative and
// qualitative guarantees cannot be specified in the same CPP".
// +kubebuilder:validation:XValidation:rule="!(has(self.class) && (has(self.oneWayDelayMs) || has(self.delayVariationMs) || has(self.lossRatio)))",message="class (qualitative QoS) and oneWayDelayMs, delayVariationMs, lossRatio (quantitative QoS) are exclusive (RFC 7297 §3.3)"
// +kubebuilder:validation:XValidation:rule="has(self.class) || has(self.oneWayDelayMs) || has(self.delayVariationMs) || has(self.lossRatio)",message="needs class, or at least one of oneWayDelayMs, delayVariationMs, lossRatio (RFC 7297 §3.3)"
// +kubebuilder:validation:XValidation:rule="!has(self.class) || (!has(self.bound) && !has(self.percentile))",message="bound and percentile apply to quantitative QoS only (RFC 7297 §3.3)",fieldPath=".bound"
// +kubebuilder:validation:XValidation:rule="(has(self.bound) && self.bound == 'Percentile') == has(self.percentile)",message="percentile is required with bound Percentile, and only then (RFC 7297 §3.3)",fieldPath=".percentile"
type QoS struct {
	// class is the qualitative class, e.g. "gold" (a Meta-QoS-Class, RFC 5160).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Class string `json:"class,omitempty"`
	// oneWayDelayMs is the one-way delay in milliseconds (RFC 2679), >= 0.
	// +optional
	OneWayDelayMs *Value `json:"oneWayDelayMs,omitempty"`
	// delayVariationMs is the one-way delay variation in milliseconds (RFC
	// 3393), >= 0.
	// +optional
	DelayVariationMs *Value `json:"delayVariationMs,omitempty"`
	// lossRatio is the packet loss ratio (RFC 2680), 0 to 1.
	// +optional
	LossRatio *RatioValue `json:"lossRatio,omitempty"`
	// bound says whether the quantitative values are averages, maximums or
	// a percentile; quantitative QoS only.
	// +optional
	Bound QoSBound `json:"bound,omitempty"`
	// percentile is the percentile (0 < p < 100) when bound is Percentile.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:validation:ExclusiveMaximum=true
	Percentile *float64 `json:"percentile,omitempty"`
}

// AvailabilityBound says how the availability percentage is read (RFC 7297 §3.4).
// +kubebuilder:validation:Enum=Average;Maximum
type AvailabilityBound string

// Availability bounds (RFC 7297 §3.4).
const (
	AvailabilityBoundAverage AvailabilityBound = "Average"
	AvailabilityBoundMaximum AvailabilityBound = "Maximum"
)

// Availability is the Availability clause (RFC 7297 §3.4).
type Availability struct {
	// percent is the percentage of time the guarantees apply, 0 to 100.
	// +required
	Percent PercentValue `json:"percent"`
	// bound is Average or Maximum.
	// +optional
	Bound AvailabilityBound `json:"bound,omitempty"`
}

// Capacity is the Capacity clause (RFC 7297 §3.5) in bits per second, seen
// from the customer nodes: incoming is delivered to them, outgoing is sent
// by them.
// +kubebuilder:validation:XValidation:rule="has(self.incomingBps) || has(self.outgoingBps)",message="needs incomingBps, outgoingBps or both (RFC 7297 §3.5)"
type Capacity struct {
	// incomingBps is the capacity towards the customer nodes, >= 0.
	// +optional
	IncomingBps *Value `json:"incomingBps,omitempty"`
	// outgoingBps is the capacity from the customer nodes, >= 0.
	// +optional
	OutgoingBps *Value `json:"outgoingBps,omitempty"`
}

// IsolationMode says whether traffic isolation is required (RFC 7297 §3.8).
// +kubebuilder:validation:Enum=Required;NotRequired
type IsolationMode string

// Isolation modes (wire: "required": true or false).
const (
	IsolationRequired    IsolationMode = "Required"
	IsolationNotRequired IsolationMode = "NotRequired"
)

// TrafficIsolation is the Traffic Isolation clause (RFC 7297 §3.8).
type TrafficIsolation struct {
	// mode is Required or NotRequired.
	// +required
	Mode IsolationMode `json:"mode"`
	// means names the isolation technique, e.g. "ipsec", "bgp-mpls-vpn".
	// +optional
	Means Text `json:"means,omitempty"`
}

// OutOfProfile is the treatment of out-of-profile traffic (RFC 7297 §3.6).
// +kubebuilder:validation:Enum=Discard;Remark
type OutOfProfile string

// Out-of-profile treatments (RFC 7297 §3.6).
const (
	OutOfProfileDiscard OutOfProfile = "Discard"
	OutOfProfileRemark  OutOfProfile = "Remark"
)

// Conformance is the Conformance Traffic clause (RFC 7297 §3.6).
// +kubebuilder:validation:XValidation:rule="!has(self.remarkClass) || (has(self.outOfProfile) && self.outOfProfile == 'Remark')",message="remarkClass only applies when outOfProfile is Remark (RFC 7297 §3.6)",fieldPath=".remarkClass"
type Conformance struct {
	// outOfProfile is Discard or Remark.
	// +optional
	OutOfProfile OutOfProfile `json:"outOfProfile,omitempty"`
	// remarkClass is the class out-of-profile traffic is assigned to; only
	// with Remark.
	// +optional
	RemarkClass Text `json:"remarkClass,omitempty"`
	// mtu is the packet MTU in bytes, 68 to 65535.
	// +optional
	MTU *MTUValue `json:"mtu,omitempty"`
}

// FlowIdentifier is one traffic classifier (RFC 7297 §3.9).
// +kubebuilder:validation:XValidation:rule="has(self.sourcePrefix) || has(self.sourcePort) || has(self.destinationPrefix) || has(self.destinationPort) || has(self.protocol) || has(self.dscp) || has(self.tunnelEndpoint) || has(self.linkIdentifier)",message="needs at least one classifier besides remarkDSCP (RFC 7297 §3.9)"
type FlowIdentifier struct {
	// sourcePrefix is an IP prefix in CIDR notation.
	// +optional
	SourcePrefix CIDR `json:"sourcePrefix,omitempty"`
	// sourcePort is 0 to 65535.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=65535
	SourcePort *int32 `json:"sourcePort,omitempty"`
	// destinationPrefix is an IP prefix in CIDR notation.
	// +optional
	DestinationPrefix CIDR `json:"destinationPrefix,omitempty"`
	// destinationPort is 0 to 65535.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=65535
	DestinationPort *int32 `json:"destinationPort,omitempty"`
	// protocol is the IP protocol number, 0 to 255.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=255
	Protocol *int32 `json:"protocol,omitempty"`
	// dscp is the Differentiated Services Code Point, 0 to 63.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=63
	DSCP *int32 `json:"dscp,omitempty"`
	// tunnelEndpoint is the tail-end tunnel endpoint.
	// +optional
	TunnelEndpoint Text `json:"tunnelEndpoint,omitempty"`
	// linkIdentifier restricts the rule to one border link.
	// +optional
	LinkIdentifier Text `json:"linkIdentifier,omitempty"`
	// remarkDSCP is the DSCP matching packets are re-marked to, 0 to 63.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=63
	RemarkDSCP *int32 `json:"remarkDSCP,omitempty"`
}

// OverallGuarantees is the Overall Traffic Guarantees clause (RFC 7297 §3.7):
// qualitative guarantees.
// +kubebuilder:validation:XValidation:rule="has(self.delay) || has(self.loss) || has(self.throughput)",message="needs delay, loss or throughput (RFC 7297 §3.7)"
type OverallGuarantees struct {
	// delay is a qualitative delay guarantee, e.g. "low".
	// +optional
	Delay Text `json:"delay,omitempty"`
	// loss is a qualitative loss guarantee.
	// +optional
	Loss Text `json:"loss,omitempty"`
	// throughput is a qualitative throughput guarantee.
	// +optional
	Throughput Text `json:"throughput,omitempty"`
}

// BackupPaths says whether pre-installed backup paths are asked for (RFC
// 7297 §3.10).
// +kubebuilder:validation:Enum=Required;NotRequired
type BackupPaths string

// Backup path requirements (wire: "backup_paths": true, or absent).
const (
	BackupPathsRequired    BackupPaths = "Required"
	BackupPathsNotRequired BackupPaths = "NotRequired"
)

// Routing is the Routing and Forwarding clause (RFC 7297 §3.10).
type Routing struct {
	// avoid lists nodes, links, networks or link types the traffic must not
	// cross, e.g. "satellite", "AS64500".
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	Avoid []Text `json:"avoid,omitempty"`
	// via lists functions that must be in the forwarding path, e.g. "firewall".
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	Via []Text `json:"via,omitempty"`
	// geographicRestrictions lists where the traffic may be routed, e.g. "EU".
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	GeographicRestrictions []Text `json:"geographicRestrictions,omitempty"`
	// topology names a logical routing topology (RFC 4915, RFC 5120).
	// +optional
	Topology Text `json:"topology,omitempty"`
	// forwardingBehavior names a Per-Domain Behavior (RFC 3086), e.g. "EF".
	// +optional
	ForwardingBehavior Text `json:"forwardingBehavior,omitempty"`
	// backupPaths is Required to ask for pre-installed backup paths;
	// NotRequired (the default meaning when absent) does not.
	// +optional
	BackupPaths BackupPaths `json:"backupPaths,omitempty"`
}

// InvocationMeans is RFC 7297 §3.12.
// +kubebuilder:validation:Enum=Implicit;Explicit
type InvocationMeans string

// Invocation means (RFC 7297 §3.12).
const (
	InvocationImplicit InvocationMeans = "Implicit"
	InvocationExplicit InvocationMeans = "Explicit"
)

// Notifications is the Notifications clause (RFC 7297 §3.13).
type Notifications struct {
	// means lists the notification channels, e.g. "snmp", "syslog", "cpnp".
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	Means []Text `json:"means,omitempty"`
	// events lists the types of information to be sent.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	Events []Text `json:"events,omitempty"`
	// intervalS is the reporting interval in seconds, >= 0.
	// +optional
	IntervalS *Value `json:"intervalS,omitempty"`
	// dataModel names the data model of the notifications.
	// +optional
	DataModel Text `json:"dataModel,omitempty"`
	// destination is where notifications are sent (address or URI).
	// +optional
	Destination Text `json:"destination,omitempty"`
}

// Value is a quantitative clause value that is never negative (delays,
// capacities, intervals). RFC 8921 §8.7: a CPD "can include parameters with
// fixed values, loosely defined values, or any combination thereof": set
// value for a fixed value, or min and/or max for a loosely defined one.
// +kubebuilder:validation:XValidation:rule="has(self.value) ? !has(self.min) && !has(self.max) : has(self.min) || has(self.max)",message="set either value (a fixed value) or min and/or max (a loosely defined value) (RFC 8921 §8.7)"
// +kubebuilder:validation:XValidation:rule="!has(self.min) || !has(self.max) || self.min <= self.max",message="min must not exceed max"
type Value struct {
	// value is a fixed value, >= 0.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Value *float64 `json:"value,omitempty"`
	// min is the lower bound of a loosely defined value, >= 0.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Min *float64 `json:"min,omitempty"`
	// max is the upper bound of a loosely defined value, >= 0.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Max *float64 `json:"max,omitempty"`
}

// RatioValue is a Value between 0 and 1 (a packet loss ratio).
// +kubebuilder:validation:XValidation:rule="has(self.value) ? !has(self.min) && !has(self.max) : has(self.min) || has(self.max)",message="set either value (a fixed value) or min and/or max (a loosely defined value) (RFC 8921 §8.7)"
// +kubebuilder:validation:XValidation:rule="!has(self.min) || !has(self.max) || self.min <= self.max",message="min must not exceed max"
type RatioValue struct {
	// value is a fixed ratio, 0 to 1.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	Value *float64 `json:"value,omitempty"`
	// min is the lower bound, 0 to 1.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	Min *float64 `json:"min,omitempty"`
	// max is the upper bound, 0 to 1.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	Max *float64 `json:"max,omitempty"`
}

// PercentValue is a Value between 0 and 100 (an availability percentage).
// +kubebuilder:validation:XValidation:rule="has(self.value) ? !has(self.min) && !has(self.max) : has(self.min) || has(self.max)",message="set either value (a fixed value) or min and/or max (a loosely defined value) (RFC 8921 §8.7)"
// +kubebuilder:validation:XValidation:rule="!has(self.min) || !has(self.max) || self.min <= self.max",message="min must not exceed max"
type PercentValue struct {
	// value is a fixed percentage, 0 to 100.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Value *float64 `json:"value,omitempty"`
	// min is the lower bound, 0 to 100.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Min *float64 `json:"min,omitempty"`
	// max is the upper bound, 0 to 100.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Max *float64 `json:"max,omitempty"`
}

// MTUValue is an integer Value between 68 and 65535 bytes (a packet MTU).
// +kubebuilder:validation:XValidation:rule="has(self.value) ? !has(self.min) && !has(self.max) : has(self.min) || has(self.max)",message="set either value (a fixed value) or min and/or max (a loosely defined value) (RFC 8921 §8.7)"
// +kubebuilder:validation:XValidation:rule="!has(self.min) || !has(self.max) || self.min <= self.max",message="min must not exceed max"
type MTUValue struct {
	// value is a fixed MTU in bytes, 68 to 65535.
	// +optional
	// +kubebuilder:validation:Minimum=68
	// +kubebuilder:validation:Maximum=65535
	Value *int32 `json:"value,omitempty"`
	// min is the lower bound in bytes, 68 to 65535.
	// +optional
	// +kubebuilder:validation:Minimum=68
	// +kubebuilder:validation:Maximum=65535
	Min *int32 `json:"min,omitempty"`
	// max is the upper bound in bytes, 68 to 65535.
	// +optional
	// +kubebuilder:validation:Minimum=68
	// +kubebuilder:validation:Maximum=65535
	Max *int32 `json:"max,omitempty"`
}
