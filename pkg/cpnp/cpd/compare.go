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
	"strconv"
	"strings"
)

// Clause names of RFC 7297 §3, as used in Mismatch.Clause.
const (
	ClauseComponent          = "Connectivity Provisioning Component" // RFC 7297 §4
	ClauseCustomerNodes      = "Customer Nodes Map"                  // RFC 7297 §3.1
	ClauseScope              = "Scope"                               // RFC 7297 §3.2
	ClauseQoS                = "QoS Guarantees"                      // RFC 7297 §3.3
	ClauseAvailability       = "Availability"                        // RFC 7297 §3.4
	ClauseCapacity           = "Capacity"                            // RFC 7297 §3.5
	ClauseConformance        = "Conformance Traffic"                 // RFC 7297 §3.6
	ClauseOverallGuarantees  = "Overall Traffic Guarantees"          // RFC 7297 §3.7
	ClauseTrafficIsolation   = "Traffic Isolation"                   // RFC 7297 §3.8
	ClauseFlowIdentification = "Flow Identification"                 // RFC 7297 §3.9
	ClauseRouting            = "Routing and Forwarding"              // RFC 7297 §3.10
	ClauseActivationMeans    = "Activation Means"                    // RFC 7297 §3.11
	ClauseInvocationMeans    = "Invocation Means"                    // RFC 7297 §3.12
	ClauseNotifications      = "Notifications"                       // RFC 7297 §3.13
)

var clauseSections = map[string]string{
	ClauseComponent:          "RFC 7297 §4",
	ClauseCustomerNodes:      "RFC 7297 §3.1",
	ClauseScope:              "RFC 7297 §3.2",
	ClauseQoS:                "RFC 7297 §3.3",
	ClauseAvailability:       "RFC 7297 §3.4",
	ClauseCapacity:           "RFC 7297 §3.5",
	ClauseConformance:        "RFC 7297 §3.6",
	ClauseOverallGuarantees:  "RFC 7297 §3.7",
	ClauseTrafficIsolation:   "RFC 7297 §3.8",
	ClauseFlowIdentification: "RFC 7297 §3.9",
	ClauseRouting:            "RFC 7297 §3.10",
	ClauseActivationMeans:    "RFC 7297 §3.11",
	ClauseInvocationMeans:    "RFC 7297 §3.12",
	ClauseNotifications:      "RFC 7297 §3.13",
}

// absent is how Mismatch shows a member that is not there.
const absent = "absent"

// Mismatch is one reason why an offered CPD does not satisfy a requested one.
type Mismatch struct {
	// Path is the JSON path of the member, relative to the CPD root, e.g.
	// "components[0].capacity.incoming_bps".
	Path string
	// Clause is the RFC 7297 clause name, one of the Clause* constants.
	Clause string
	// Requested and Offered render the two members ("absent" when missing;
	// Values as by Value.String).
	Requested, Offered string
	// Why explains the mismatch.
	Why string
}

// String returns "path: why (requested R, offered O; Clause, RFC 7297 §x)".
func (m Mismatch) String() string {
	return m.Path + ": " + m.Why + " (requested " + m.Requested + ", offered " + m.Offered +
		"; " + m.Clause + ", " + clauseSections[m.Clause] + ")"
}

// Satisfies compares an offered CPD with the requested one clause by clause
// and returns every mismatch, in canonical order; nil means the offer
// satisfies every bound of the request (the operator's Automatic acceptance,
// DESIGN §5, and the server policy use it). The rules:
//
//   - Components are matched by index: the offer answers the request
//     component for component (RFC 8921 §8.7 "reflects the proposal of the
//     server to accommodate all or a subset of the clauses"). A missing or an
//     extra offered component is a mismatch.
//   - Customer nodes are matched by identifier and must be the same set. A
//     requested link_identifier, localization or site_identifier must be
//     offered unchanged; one the request leaves out may be filled in by the
//     provider (RFC 7297 §3.1: the provider retrieves the border link).
//   - A clause or member absent from the request is unconstrained; one present
//     in the request must be present in the offer.
//   - Numbers (Values) by the direction of the metric, comparing the offer's
//     guaranteed bound, so a loose offered value satisfies only if its whole
//     range does:
//     delay, delay variation, loss ratio and notification interval (lower is
//     better): the offer's upper bound must not exceed the requested upper
//     bound (the value itself when fixed); a requested lower bound is ignored.
//     Availability (higher is better): the offer's lower bound must reach the
//     requested lower bound; a requested upper bound is ignored.
//     Capacity and MTU: the offered range must lie within the requested range,
//     so a fixed request must be met exactly, {"min": m} means at least m.
//   - QoS: a requested class must be offered as the same class; requested
//     quantitative bounds must be offered as quantitative bounds.
//   - Traffic isolation and backup paths: a requested true must be offered
//     true; a requested false is no constraint.
//   - Other members (strings, enums, reachability) must be equal; lists
//     (prefixes, ingress, egress, activation means, flow identifiers, ...)
//     must be equal as sets.
func Satisfies(offered, requested CPD) []Mismatch {
	var k comparer
	k.cpd(offered, requested)
	return k.ms
}

// Score ranks offers for one request, for picking the best of several (RFC
// 8921 §8.10). An offer that does not satisfy the request scores minus its
// number of mismatches, so it always ranks below one that does. An offer
// that satisfies it scores in [0, 1]: the mean headroom it leaves on the
// directional bounds the request sets (delay, delay variation, loss ratio,
// notification interval: (requested max - offered max) / requested max;
// availability: (offered min - requested min) / (100 - requested min)), or 0
// when the request sets none. Capacity does not count: any capacity within
// the request is as good. Higher is better.
func Score(offered, requested CPD) float64 {
	var k comparer
	k.cpd(offered, requested)
	if len(k.ms) > 0 {
		return -float64(len(k.ms))
	}
	if k.bounds == 0 {
		return 0
	}
	return k.headroom / float64(k.bounds)
}

// Better reports whether offer a ranks strictly above offer b for the
// request (by Score); on a tie keep the offer you already have.
func Better(a, b, requested CPD) bool {
	return Score(a, requested) > Score(b, requested)
}

// comparer accumulates mismatches and headroom.
type comparer struct {
	ms       []Mismatch
	headroom float64
	bounds   int
}

func (k *comparer) add(path lazyPath, clause, requested, offered, why string) {
	k.ms = append(k.ms, Mismatch{Path: path.String(), Clause: clause, Requested: requested, Offered: offered, Why: why})
}

func (k *comparer) cpd(off, req CPD) {
	components := lazyPath{name: "components"}
	for i := range req.Components {
		p := components.at(i)
		if i >= len(off.Components) {
			k.add(p, ClauseComponent, "component", absent, "component not offered")
			continue
		}
		k.component(p, &off.Components[i], &req.Components[i])
	}
	for i := len(req.Components); i < len(off.Components); i++ {
		k.add(components.at(i), ClauseComponent, absent, "component", "component was not requested")
	}
}

func (k *comparer) component(path lazyPath, off, req *Component) {
	k.nodes(path.member("customer_nodes"), off.CustomerNodes, req.CustomerNodes)
	if req.Scope != nil {
		k.scope(path.member("scope"), off.Scope, req.Scope)
	}
	if req.QoS != nil {
		k.qos(path.member("qos"), off.QoS, req.QoS)
	}
	if r := req.Availability; r != nil {
		p := path.member("availability")
		if o := off.Availability; o == nil {
			k.missing(p, ClauseAvailability)
		} else {
			k.value(p.member("percent"), ClauseAvailability, o.Percent, r.Percent, higherIsBetter, 100)
			k.str(p.member("bound"), ClauseAvailability, string(o.Bound), string(r.Bound))
		}
	}
	if r := req.Capacity; r != nil {
		p := path.member("capacity")
		if o := off.Capacity; o == nil {
			k.missing(p, ClauseCapacity)
		} else {
			k.value(p.member("incoming_bps"), ClauseCapacity, o.IncomingBps, r.IncomingBps, within, 0)
			k.value(p.member("outgoing_bps"), ClauseCapacity, o.OutgoingBps, r.OutgoingBps, within, 0)
		}
	}
	if r := req.TrafficIsolation; r != nil {
		p := path.member("traffic_isolation")
		if o := off.TrafficIsolation; o == nil {
			k.missing(p, ClauseTrafficIsolation)
		} else {
			k.flag(p.member("required"), ClauseTrafficIsolation, o.Required, r.Required)
			k.str(p.member("means"), ClauseTrafficIsolation, o.Means, r.Means)
		}
	}
	if r := req.Conformance; r != nil {
		p := path.member("conformance")
		if o := off.Conformance; o == nil {
			k.missing(p, ClauseConformance)
		} else {
			k.str(p.member("out_of_profile"), ClauseConformance, string(o.OutOfProfile), string(r.OutOfProfile))
			k.str(p.member("remark_class"), ClauseConformance, o.RemarkClass, r.RemarkClass)
			k.value(p.member("mtu"), ClauseConformance, o.MTU, r.MTU, within, 0)
		}
	}
	k.flows(path.member("flow_identification"), off.FlowIdentification, req.FlowIdentification)
	if r := req.OverallGuarantees; r != nil {
		p := path.member("overall_guarantees")
		if o := off.OverallGuarantees; o == nil {
			k.missing(p, ClauseOverallGuarantees)
		} else {
			k.str(p.member("delay"), ClauseOverallGuarantees, o.Delay, r.Delay)
			k.str(p.member("loss"), ClauseOverallGuarantees, o.Loss, r.Loss)
			k.str(p.member("throughput"), ClauseOverallGuarantees, o.Throughput, r.Throughput)
		}
	}
	if r := req.Routing; r != nil {
		p := path.member("routing")
		if o := off.Routing; o == nil {
			k.missing(p, ClauseRouting)
		} else {
			k.set(p.member("avoid"), ClauseRouting, o.Avoid, r.Avoid)
			k.set(p.member("via"), ClauseRouting, o.Via, r.Via)
			k.set(p.member("geographic_restrictions"), ClauseRouting, o.GeographicRestrictions, r.GeographicRestrictions)
			k.str(p.member("topology"), ClauseRouting, o.Topology, r.Topology)
			k.str(p.member("forwarding_behavior"), ClauseRouting, o.ForwardingBehavior, r.ForwardingBehavior)
			k.flag(p.member("backup_paths"), ClauseRouting, o.BackupPaths, r.BackupPaths)
		}
	}
	k.set(path.member("activation_means"), ClauseActivationMeans, off.ActivationMeans, req.ActivationMeans)
	k.str(path.member("invocation_means"), ClauseInvocationMeans, string(off.InvocationMeans), string(req.InvocationMeans))
	if r := req.Notifications; r != nil {
		p := path.member("notifications")
		if o := off.Notifications; o == nil {
			k.missing(p, ClauseNotifications)
		} else {
			k.set(p.member("means"), ClauseNotifications, o.Means, r.Means)
			k.set(p.member("events"), ClauseNotifications, o.Events, r.Events)
			k.value(p.member("interval_s"), ClauseNotifications, o.IntervalS, r.IntervalS, lowerIsBetter, 0)
			k.str(p.member("data_model"), ClauseNotifications, o.DataModel, r.DataModel)
			k.str(p.member("destination"), ClauseNotifications, o.Destination, r.Destination)
		}
	}
}

func (k *comparer) missing(path lazyPath, clause string) {
	k.add(path, clause, "clause", absent, "requested clause not offered")
}

func (k *comparer) nodes(path lazyPath, off, req []CustomerNode) {
	// Index the offer once: the lists can be long (a peer writes them), and
	// pairwise searches would make one comparison quadratic.
	offAt := make(map[string]int, len(off))
	for j := len(off) - 1; j >= 0; j-- { // first occurrence wins, as a linear search would
		offAt[off[j].Identifier] = j
	}
	reqIDs := make(map[string]struct{}, len(req))
	for _, r := range req {
		reqIDs[r.Identifier] = struct{}{}
	}
	for i, r := range req {
		p := path.at(i)
		j, ok := offAt[r.Identifier]
		if !ok {
			k.add(p.member("identifier"), ClauseCustomerNodes, r.Identifier, absent, "customer node not offered")
			continue
		}
		o := off[j]
		k.str(p.member("link_identifier"), ClauseCustomerNodes, o.LinkIdentifier, r.LinkIdentifier)
		k.str(p.member("localization"), ClauseCustomerNodes, o.Localization, r.Localization)
		k.str(p.member("site_identifier"), ClauseCustomerNodes, o.SiteIdentifier, r.SiteIdentifier)
	}
	for j, o := range off {
		if _, ok := reqIDs[o.Identifier]; !ok {
			node := path.at(j)
			k.add(node.member("identifier"), ClauseCustomerNodes, absent, o.Identifier, "customer node was not requested")
		}
	}
}

func (k *comparer) scope(path lazyPath, off, req *Scope) {
	if off == nil {
		k.missing(path, ClauseScope)
		return
	}
	k.str(path.member("model"), ClauseScope, string(off.Model), string(req.Model))
	k.set(path.member("ingress"), ClauseScope, off.Ingress, req.Ingress)
	k.set(path.member("egress"), ClauseScope, off.Egress, req.Egress)
	k.reach(path.member("incoming"), off.Incoming, req.Incoming)
	k.reach(path.member("outgoing"), off.Outgoing, req.Outgoing)
}

func (k *comparer) reach(path lazyPath, off, req *Reachability) {
	switch {
	case req == nil:
		return
	case off == nil:
		k.add(path, ClauseScope, reachString(req), absent, "requested reachability not offered")
		return
	case off.Global != req.Global:
		k.add(path.member("global"), ClauseScope, reachString(req), reachString(off), "reachability scope differs")
		return
	}
	k.set(path.member("prefixes"), ClauseScope, off.Prefixes, req.Prefixes)
}

func reachString(r *Reachability) string {
	if r.Global {
		return "global"
	}
	return "restricted"
}

func (k *comparer) qos(path lazyPath, off, req *QoS) {
	switch {
	case off == nil:
		k.missing(path, ClauseQoS)
	case req.Qualitative():
		if off.Class != req.Class {
			offered := off.Class
			if offered == "" {
				offered = "quantitative bounds"
			}
			k.add(path.member("class"), ClauseQoS, req.Class, offered, "offered QoS class differs from the requested class")
		}
	case off.Qualitative():
		k.add(path, ClauseQoS, "quantitative bounds", off.Class, "offered a QoS class where quantitative bounds were requested")
	default:
		k.value(path.member("one_way_delay_ms"), ClauseQoS, off.OneWayDelayMs, req.OneWayDelayMs, lowerIsBetter, 0)
		k.value(path.member("delay_variation_ms"), ClauseQoS, off.DelayVariationMs, req.DelayVariationMs, lowerIsBetter, 0)
		k.value(path.member("loss_ratio"), ClauseQoS, off.LossRatio, req.LossRatio, lowerIsBetter, 0)
		k.str(path.member("bound"), ClauseQoS, string(off.Bound), string(req.Bound))
		if req.Percentile != 0 && off.Percentile != req.Percentile {
			k.add(path.member("percentile"), ClauseQoS, formatNumber(req.Percentile), formatNumber(off.Percentile), "offered percentile differs from the request")
		}
	}
}

func (k *comparer) flows(path lazyPath, off, req []FlowIdentifier) {
	if len(req) == 0 {
		return
	}
	offKeys := make([]string, len(off))
	offSet := make(map[string]struct{}, len(off))
	for j := range off {
		offKeys[j] = flowKey(off[j])
		offSet[offKeys[j]] = struct{}{}
	}
	reqSet := make(map[string]struct{}, len(req))
	for i := range req {
		key := flowKey(req[i])
		reqSet[key] = struct{}{}
		if _, ok := offSet[key]; !ok {
			k.add(path.at(i), ClauseFlowIdentification, key, absent, "requested flow identifier not offered")
		}
	}
	for j, key := range offKeys {
		if _, ok := reqSet[key]; !ok {
			k.add(path.at(j), ClauseFlowIdentification, absent, key, "flow identifier was not requested")
		}
	}
}

// flowKey is the canonical JSON of a flow identifier (it has no Value, so
// encoding/json is canonical for it).
func flowKey(f FlowIdentifier) string {
	b, err := json.Marshal(f)
	if err != nil { // unreachable: strings and ints only
		return ""
	}
	return string(b)
}

// str compares a string member: a requested non-empty value must be offered
// unchanged.
func (k *comparer) str(path lazyPath, clause, off, req string) {
	switch {
	case req == "" || off == req:
	case off == "":
		k.add(path, clause, strconv.Quote(req), absent, "requested member not offered")
	default:
		k.add(path, clause, strconv.Quote(req), strconv.Quote(off), "offered value differs from the request")
	}
}

// flag compares a boolean requirement: a requested true must be offered true.
func (k *comparer) flag(path lazyPath, clause string, off, req bool) {
	if req && !off {
		k.add(path, clause, "true", "false", "requirement not offered")
	}
}

// set compares lists as sets.
func (k *comparer) set(path lazyPath, clause string, off, req []string) {
	if len(req) == 0 {
		return
	}
	offSet := make(map[string]bool, len(off)) // value: already reported as added
	for _, o := range off {
		offSet[o] = false
	}
	reqSet := make(map[string]bool, len(req)) // value: already reported as lacking
	var lacks, adds []string
	for _, r := range req {
		if _, ok := offSet[r]; !ok && !reqSet[r] {
			lacks = append(lacks, r)
		}
		reqSet[r] = true
	}
	for _, o := range off {
		if _, ok := reqSet[o]; !ok && !offSet[o] {
			adds = append(adds, o)
			offSet[o] = true
		}
	}
	if len(lacks) == 0 && len(adds) == 0 {
		return
	}
	var why []string
	if len(lacks) > 0 {
		why = append(why, "offer lacks "+strings.Join(lacks, ", "))
	}
	if len(adds) > 0 {
		why = append(why, "offer adds "+strings.Join(adds, ", "))
	}
	offered := strings.Join(off, ", ")
	if len(off) == 0 {
		offered = absent
	}
	k.add(path, clause, strings.Join(req, ", "), offered, strings.Join(why, "; "))
}

// sense is the direction in which a metric improves.
type sense int

const (
	// lowerIsBetter: delay, delay variation, loss, notification interval.
	lowerIsBetter sense = iota
	// higherIsBetter: availability.
	higherIsBetter
	// within: capacity and MTU, where more is not better (it costs).
	within
)

// value compares one Value; ceiling is the best possible value of a
// higherIsBetter metric (for the headroom of Score).
func (k *comparer) value(path lazyPath, clause string, off, req Value, s sense, ceiling float64) {
	if req.IsZero() {
		return
	}
	if off.IsZero() {
		k.add(path, clause, req.String(), absent, "requested value not offered")
		return
	}
	if s != higherIsBetter { // the requested upper bound binds
		if rmax, ok := req.Max(); ok {
			omax, ok := off.Max()
			switch {
			case !ok:
				k.add(path, clause, req.String(), off.String(), "offer is not bounded above; requested at most "+formatNumber(rmax))
				return
			case omax > rmax:
				k.add(path, clause, req.String(), off.String(), "offered "+formatNumber(omax)+" exceeds the requested maximum "+formatNumber(rmax))
				return
			case s == lowerIsBetter:
				k.bounds++
				if rmax > 0 {
					k.headroom += clamp01((rmax - omax) / rmax)
				}
			}
		}
	}
	if s != lowerIsBetter { // the requested lower bound binds
		if rmin, ok := req.Min(); ok {
			omin, ok := off.Min()
			switch {
			case !ok:
				k.add(path, clause, req.String(), off.String(), "offer is not bounded below; requested at least "+formatNumber(rmin))
			case omin < rmin:
				k.add(path, clause, req.String(), off.String(), "offered "+formatNumber(omin)+" is below the requested minimum "+formatNumber(rmin))
			case s == higherIsBetter:
				k.bounds++
				if ceiling > rmin {
					k.headroom += clamp01((omin - rmin) / (ceiling - rmin))
				}
			}
		}
	}
}

func clamp01(f float64) float64 { return max(0, min(f, 1)) }
