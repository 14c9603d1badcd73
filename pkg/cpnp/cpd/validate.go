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
	"net/netip"
	"strconv"
)

// Validate checks the rules of DESIGN §3 and RFC 7297 §3 on c and returns
// the first violation, in canonical order, as *Error. Parse calls it, and
// MarshalJSON refuses a CPD that fails it.
//
// requireComponents refuses the Empty CPD: QUOTATION, UPDATE, OFFER and
// ACCEPT carry a non-empty CPD, whereas ACK and CANCEL may carry the Empty
// CPD (RFC 8921 §9.2.6). Parse itself accepts the Empty CPD because the JSON
// does not say which message it belongs to.
func (c CPD) Validate(requireComponents bool) error {
	if requireComponents && len(c.Components) == 0 {
		return errorf("components", KindMissing, "at least one component is required; only ACK and CANCEL may carry the Empty CPD (RFC 8921 §9.2.6)")
	}
	components := lazyPath{name: "components"}
	for i := range c.Components {
		if err := c.Components[i].validate(components.at(i)); err != nil {
			return err
		}
	}
	return nil
}

// domain is the set of numbers a member accepts.
type domain struct {
	lo, hi  float64 // inclusive
	integer bool
	text    string // completes "must be ..."
}

var (
	nonNegative = domain{lo: 0, hi: math.Inf(1), text: ">= 0"}
	ratio       = domain{lo: 0, hi: 1, text: "between 0 and 1"}
	percent     = domain{lo: 0, hi: 100, text: "between 0 and 100"}
	mtuBytes    = domain{lo: 68, hi: 65535, integer: true, text: "between 68 and 65535 bytes"}
	portNumber  = domain{lo: 0, hi: 65535, integer: true, text: "between 0 and 65535"}
	protoNumber = domain{lo: 0, hi: 255, integer: true, text: "between 0 and 255"}
	dscpValue   = domain{lo: 0, hi: 63, integer: true, text: "between 0 and 63"}
)

func (dom domain) check(path lazyPath, f float64) error {
	switch {
	case !finite(f):
		return errorf(path.String(), KindRange, "must be a finite number")
	case dom.integer && f != math.Trunc(f):
		return errorf(path.String(), KindType, "must be an integer, got "+formatNumber(f))
	case f < dom.lo || f > dom.hi:
		return errorf(path.String(), KindRange, "must be "+dom.text+", got "+formatNumber(f))
	}
	return nil
}

// checkValue checks a present Value: each bound in dom, and min <= max.
func (dom domain) checkValue(path lazyPath, v Value) error {
	if v.IsFixed() {
		return dom.check(path, v.min)
	}
	if v.hasMin {
		if err := dom.check(path.member("min"), v.min); err != nil {
			return err
		}
	}
	if v.hasMax {
		if err := dom.check(path.member("max"), v.max); err != nil {
			return err
		}
	}
	if v.hasMin && v.hasMax && v.min > v.max {
		return errorf(path.String(), KindRange, "min "+formatNumber(v.min)+" is greater than max "+formatNumber(v.max))
	}
	return nil
}

// checkOptional checks v when it is present.
func (dom domain) checkOptional(path lazyPath, v Value) error {
	if v.IsZero() {
		return nil
	}
	return dom.checkValue(path, v)
}

// checkInt checks an optional integer member.
func (dom domain) checkInt(path lazyPath, i *int) error {
	if i == nil {
		return nil
	}
	return dom.check(path, float64(*i))
}

// checkList refuses empty strings in a list (an empty list is absent).
func checkList(path lazyPath, list []string) error {
	for i, s := range list {
		if s == "" {
			return errorf(path.at(i).String(), KindRange, "must not be empty")
		}
	}
	return nil
}

func checkPrefix(path lazyPath, s string) error {
	if s == "" {
		return nil
	}
	if _, err := netip.ParsePrefix(s); err != nil {
		return errorf(path.String(), KindRange, strconv.Quote(s)+" is not an IP prefix in CIDR notation")
	}
	return nil
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *Component) validate(path lazyPath) error {
	if err := c.validateNodes(path.member("customer_nodes")); err != nil {
		return err
	}
	if c.Scope != nil {
		if err := c.Scope.validate(path.member("scope")); err != nil {
			return err
		}
	}
	if c.QoS != nil {
		if err := c.QoS.validate(path.member("qos")); err != nil {
			return err
		}
	}
	if a := c.Availability; a != nil {
		p := path.member("availability")
		if a.Percent.IsZero() {
			return errorf(p.member("percent").String(), KindMissing, "member is required (RFC 7297 §3.4)")
		}
		if err := percent.checkValue(p.member("percent"), a.Percent); err != nil {
			return err
		}
		if a.Bound != "" && a.Bound != BoundAverage && a.Bound != BoundMaximum {
			return errorf(p.member("bound").String(), KindRange, "unknown bound "+strconv.Quote(string(a.Bound))+`, want "average" or "maximum" (RFC 7297 §3.4)`)
		}
	}
	if k := c.Capacity; k != nil {
		p := path.member("capacity")
		if k.IncomingBps.IsZero() && k.OutgoingBps.IsZero() {
			return errorf(p.String(), KindMissing, "needs incoming_bps, outgoing_bps or both (RFC 7297 §3.5)")
		}
		if err := firstError(
			nonNegative.checkOptional(p.member("incoming_bps"), k.IncomingBps),
			nonNegative.checkOptional(p.member("outgoing_bps"), k.OutgoingBps),
		); err != nil {
			return err
		}
	}
	// traffic_isolation: both members are free-form.
	if f := c.Conformance; f != nil {
		p := path.member("conformance")
		if f.OutOfProfile != "" && !f.OutOfProfile.Valid() {
			return errorf(p.member("out_of_profile").String(), KindRange, "unknown treatment "+strconv.Quote(string(f.OutOfProfile))+`, want "discard" or "remark" (RFC 7297 §3.6)`)
		}
		if f.RemarkClass != "" && f.OutOfProfile != OutOfProfileRemark {
			return errorf(p.member("remark_class").String(), KindConflict, `only applies when out_of_profile is "remark" (RFC 7297 §3.6)`)
		}
		if err := mtuBytes.checkOptional(p.member("mtu"), f.MTU); err != nil {
			return err
		}
	}
	flows := path.member("flow_identification")
	for i := range c.FlowIdentification {
		if err := c.FlowIdentification[i].validate(flows.at(i)); err != nil {
			return err
		}
	}
	if o := c.OverallGuarantees; o != nil {
		p := path.member("overall_guarantees")
		if o.Delay == "" && o.Loss == "" && o.Throughput == "" {
			return errorf(p.String(), KindMissing, "needs delay, loss or throughput (RFC 7297 §3.7)")
		}
		if c.Conformance != nil && c.Conformance.OutOfProfile == OutOfProfileDiscard {
			return errorf(p.String(), KindConflict, "overall guarantees need out-of-profile traffic to be remarked, not discarded (RFC 7297 §3.7)")
		}
	}
	if r := c.Routing; r != nil {
		p := path.member("routing")
		if err := firstError(
			checkList(p.member("avoid"), r.Avoid),
			checkList(p.member("via"), r.Via),
			checkList(p.member("geographic_restrictions"), r.GeographicRestrictions),
		); err != nil {
			return err
		}
	}
	if err := checkList(path.member("activation_means"), c.ActivationMeans); err != nil {
		return err
	}
	if c.InvocationMeans != "" && !c.InvocationMeans.Valid() {
		return errorf(path.member("invocation_means").String(), KindRange, "unknown invocation means "+strconv.Quote(string(c.InvocationMeans))+`, want "implicit" or "explicit" (RFC 7297 §3.12)`)
	}
	if n := c.Notifications; n != nil {
		p := path.member("notifications")
		return firstError(
			checkList(p.member("means"), n.Means),
			checkList(p.member("events"), n.Events),
			nonNegative.checkOptional(p.member("interval_s"), n.IntervalS),
		)
	}
	return nil
}

func (c *Component) validateNodes(path lazyPath) error {
	if len(c.CustomerNodes) == 0 {
		return errorf(path.String(), KindMissing, "at least one customer node is required (RFC 7297 §3.1)")
	}
	// A set keeps the duplicate check linear: a peer controls the node count
	// (up to what fits in 1 MiB), so a pairwise comparison would let one
	// message cost seconds of CPU.
	seen := make(map[string]struct{}, len(c.CustomerNodes))
	for i, n := range c.CustomerNodes {
		node := path.at(i)
		if n.Identifier == "" {
			return errorf(node.member("identifier").String(), KindMissing, "member is required (RFC 7297 §3.1)")
		}
		if _, dup := seen[n.Identifier]; dup {
			return errorf(node.member("identifier").String(), KindConflict, "duplicate identifier "+strconv.Quote(n.Identifier)+"; nodes must be unambiguously identified (RFC 7297 §3.1)")
		}
		seen[n.Identifier] = struct{}{}
	}
	return nil
}

func (s *Scope) validate(path lazyPath) error {
	if s.Model != "" && !s.Model.Valid() {
		return errorf(path.member("model").String(), KindRange, "unknown model "+strconv.Quote(string(s.Model))+`, want "1:1", "1:N" or "1:any" (RFC 7297 §3.2)`)
	}
	return firstError(
		checkList(path.member("ingress"), s.Ingress),
		checkList(path.member("egress"), s.Egress),
		s.Incoming.validate(path.member("incoming")),
		s.Outgoing.validate(path.member("outgoing")),
	)
}

func (r *Reachability) validate(path lazyPath) error {
	if r == nil {
		return nil
	}
	if r.Global && len(r.Prefixes) > 0 {
		return errorf(path.String(), KindConflict, "global reachability takes no prefixes; list prefixes only for a restricted scope (RFC 7297 §3.2)")
	}
	prefixes := path.member("prefixes")
	for i, s := range r.Prefixes {
		p := prefixes.at(i)
		if s == "" {
			return errorf(p.String(), KindRange, "must not be empty")
		}
		if err := checkPrefix(p, s); err != nil {
			return err
		}
	}
	return nil
}

func (q *QoS) validate(path lazyPath) error {
	switch {
	case q.Qualitative() && q.Quantitative():
		return errorf(path.String(), KindConflict, "qualitative class and quantitative bounds are exclusive (RFC 7297 §3.3)")
	case !q.Qualitative() && !q.Quantitative():
		return errorf(path.String(), KindMissing, "needs a class or at least one of one_way_delay_ms, delay_variation_ms, loss_ratio (RFC 7297 §3.3)")
	case q.Qualitative() && (q.Bound != "" || q.Percentile != 0):
		return errorf(path.member("bound").String(), KindConflict, "bound and percentile apply to quantitative guarantees only (RFC 7297 §3.3)")
	}
	if err := firstError(
		nonNegative.checkOptional(path.member("one_way_delay_ms"), q.OneWayDelayMs),
		nonNegative.checkOptional(path.member("delay_variation_ms"), q.DelayVariationMs),
		ratio.checkOptional(path.member("loss_ratio"), q.LossRatio),
	); err != nil {
		return err
	}
	switch q.Bound {
	case "", BoundAverage, BoundMaximum:
		if q.Percentile != 0 {
			return errorf(path.member("percentile").String(), KindConflict, `only applies when bound is "percentile" (RFC 7297 §3.3)`)
		}
	case BoundPercentile:
		p := path.member("percentile")
		if q.Percentile == 0 {
			return errorf(p.String(), KindMissing, `member is required when bound is "percentile" (RFC 7297 §3.3)`)
		}
		if !finite(q.Percentile) || q.Percentile <= 0 || q.Percentile >= 100 {
			return errorf(p.String(), KindRange, "must be greater than 0 and less than 100, got "+formatNumber(q.Percentile))
		}
	default:
		return errorf(path.member("bound").String(), KindRange, "unknown bound "+strconv.Quote(string(q.Bound))+`, want "average", "maximum" or "percentile" (RFC 7297 §3.3)`)
	}
	return nil
}

func (f *FlowIdentifier) validate(path lazyPath) error {
	if f.SourcePrefix == "" && f.SourcePort == nil && f.DestinationPrefix == "" && f.DestinationPort == nil &&
		f.Protocol == nil && f.DSCP == nil && f.TunnelEndpoint == "" && f.LinkIdentifier == "" {
		return errorf(path.String(), KindMissing, "needs at least one classifier (RFC 7297 §3.9)")
	}
	return firstError(
		checkPrefix(path.member("source_prefix"), f.SourcePrefix),
		portNumber.checkInt(path.member("source_port"), f.SourcePort),
		checkPrefix(path.member("destination_prefix"), f.DestinationPrefix),
		portNumber.checkInt(path.member("destination_port"), f.DestinationPort),
		protoNumber.checkInt(path.member("protocol"), f.Protocol),
		dscpValue.checkInt(path.member("dscp"), f.DSCP),
		dscpValue.checkInt(path.member("remark_dscp"), f.RemarkDSCP),
	)
}
