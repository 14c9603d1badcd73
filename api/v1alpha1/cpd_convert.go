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

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// ErrInvalidCPD is matched (errors.Is) by every error that CPD.ToProtocol
// returns.
var ErrInvalidCPD = errors.New("invalid CPD")

// CPDError says which member of an API CPD cannot be converted or breaks a
// rule of RFC 7297 §3 (docs/cpd.md). It matches ErrInvalidCPD; when the
// rule is one of pkg/cpnp/cpd, errors.As also finds the *cpd.Error.
// +kubebuilder:object:generate=false
type CPDError struct {
	// Field is the path of the member in API (lowerCamelCase) form relative
	// to the CPD, e.g. "components[0].capacity.incomingBps.min".
	Field string
	// Detail says what is wrong.
	Detail string
	// Err is the underlying *cpd.Error, if any.
	Err error
}

// Error returns "field: detail".
func (e *CPDError) Error() string {
	if e.Field == "" {
		return e.Detail
	}
	return e.Field + ": " + e.Detail
}

// Unwrap returns the underlying *cpd.Error, if any.
func (e *CPDError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalidCPD) true.
func (e *CPDError) Is(target error) bool { return target == ErrInvalidCPD }

// ToProtocol converts c to the protocol model (RFC 8921 §8.7; pkg/cpnp/cpd)
// and validates the result with cpd.Validate: the API server's schema and
// CEL rules already enforce the same rules, but a CPD built in Go (or read
// through a client that skipped validation) is checked here too. Every
// error is a *CPDError naming the member in API form.
//
// Converting a CPD that passed validation and back (CPDFromProtocol) gives
// c again, except that routing.backupPaths NotRequired becomes absent (the
// wire has only "backup_paths": true).
func (c CPD) ToProtocol() (cpd.CPD, error) {
	out := cpd.CPD{Components: make([]cpd.Component, len(c.Components))}
	for i := range c.Components {
		if err := c.Components[i].toProtocol(index("components", i), &out.Components[i]); err != nil {
			return cpd.CPD{}, err
		}
	}
	if err := out.Validate(true); err != nil {
		var ce *cpd.Error
		if errors.As(err, &ce) {
			return cpd.CPD{}, &CPDError{Field: APIPath(ce.Path), Detail: ce.Detail, Err: ce}
		}
		return cpd.CPD{}, &CPDError{Detail: err.Error(), Err: err}
	}
	return out, nil
}

// CPDFromProtocol converts a protocol CPD (an OFFER's Offered CPD, an
// Accepted CPD) to the API shape. For a CPD that passes cpd.Validate the
// conversion is lossless: CPDFromProtocol(c).ToProtocol() equals c. Values
// that a valid CPD cannot hold are not refused but brought into the API's
// types (an MTU or a port is rounded to an integer), so that the API server
// refuses them with a message naming the field.
func CPDFromProtocol(c cpd.CPD) CPD {
	var out CPD
	if c.Components != nil {
		out.Components = make([]Component, len(c.Components))
	}
	for i := range c.Components {
		out.Components[i] = componentFromProtocol(&c.Components[i])
	}
	return out
}

// wirePathNames are the wire member names whose API name is not their
// lowerCamelCase form.
var wirePathNames = map[string]string{
	"global":      "mode",
	"required":    "mode",
	"remark_dscp": "remarkDSCP",
}

// APIPath converts a path of the wire CPD (a *cpd.Error's Path, e.g.
// "components[0].qos.one_way_delay_ms.min") to the API form
// ("components[0].qos.oneWayDelayMs.min").
func APIPath(wirePath string) string {
	parts := strings.Split(wirePath, ".")
	for i, p := range parts {
		name, idx, _ := strings.Cut(p, "[")
		if n, ok := wirePathNames[name]; ok {
			name = n
		} else {
			name = lowerCamel(name)
		}
		if idx != "" {
			name += "[" + idx
		}
		parts[i] = name
	}
	return strings.Join(parts, ".")
}

func lowerCamel(s string) string {
	var b strings.Builder
	upper := false
	for _, r := range s {
		switch {
		case r == '_':
			upper = true
		case upper:
			b.WriteString(strings.ToUpper(string(r)))
			upper = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func join(path, name string) string { return path + "." + name }

func invalid(path, detail string) error { return &CPDError{Field: path, Detail: detail} }

// valueToProtocol converts the members of a Value-like type.
func valueToProtocol(path string, value, lo, hi *float64) (cpd.Value, error) {
	switch {
	case value != nil && (lo != nil || hi != nil):
		return cpd.Value{}, invalid(path, "set value (a fixed value), or min and/or max (a loosely defined value), not both (RFC 8921 §8.7)")
	case value != nil:
		return cpd.Fixed(*value), nil
	case lo == nil && hi == nil:
		return cpd.Value{}, invalid(path, "set value (a fixed value), or min and/or max (a loosely defined value) (RFC 8921 §8.7)")
	}
	return cpd.Range(lo, hi), nil
}

func (v *Value) toProtocol(path string) (cpd.Value, error) {
	if v == nil {
		return cpd.Value{}, nil
	}
	return valueToProtocol(path, v.Value, v.Min, v.Max)
}

func (v *RatioValue) toProtocol(path string) (cpd.Value, error) {
	if v == nil {
		return cpd.Value{}, nil
	}
	return valueToProtocol(path, v.Value, v.Min, v.Max)
}

func (v *MTUValue) toProtocol(path string) (cpd.Value, error) {
	if v == nil {
		return cpd.Value{}, nil
	}
	return valueToProtocol(path, int32ToFloat(v.Value), int32ToFloat(v.Min), int32ToFloat(v.Max))
}

func int32ToFloat(p *int32) *float64 {
	if p == nil {
		return nil
	}
	f := float64(*p)
	return &f
}

// bounds returns the members of a present Value-like type: value when
// fixed, else min and/or max.
func bounds(v cpd.Value) (value, lo, hi *float64) {
	if f, ok := v.FixedValue(); ok {
		return &f, nil, nil
	}
	if f, ok := v.Min(); ok {
		lo = &f
	}
	if f, ok := v.Max(); ok {
		hi = &f
	}
	return nil, lo, hi
}

func valueFromProtocol(v cpd.Value) *Value {
	if v.IsZero() {
		return nil
	}
	value, lo, hi := bounds(v)
	return &Value{Value: value, Min: lo, Max: hi}
}

func ratioFromProtocol(v cpd.Value) *RatioValue {
	if v.IsZero() {
		return nil
	}
	value, lo, hi := bounds(v)
	return &RatioValue{Value: value, Min: lo, Max: hi}
}

func percentFromProtocol(v cpd.Value) PercentValue {
	value, lo, hi := bounds(v)
	return PercentValue{Value: value, Min: lo, Max: hi}
}

func mtuFromProtocol(v cpd.Value) *MTUValue {
	if v.IsZero() {
		return nil
	}
	value, lo, hi := bounds(v)
	return &MTUValue{Value: floatToInt32(value), Min: floatToInt32(lo), Max: floatToInt32(hi)}
}

// floatToInt32 rounds f into the int32 range; valid CPDs only hold integers
// that fit (an MTU).
func floatToInt32(f *float64) *int32 {
	if f == nil {
		return nil
	}
	r := math.Round(*f)
	switch {
	case math.IsNaN(r):
		r = 0
	case r > math.MaxInt32:
		r = math.MaxInt32
	case r < math.MinInt32:
		r = math.MinInt32
	}
	i := int32(r)
	return &i
}

func intToInt32(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int64(*p)
	v = max(min(v, math.MaxInt32), math.MinInt32)
	i := int32(v)
	return &i
}

func int32ToInt(p *int32) *int {
	if p == nil {
		return nil
	}
	i := int(*p)
	return &i
}

func textsToProtocol(ts []Text) []string {
	if len(ts) == 0 {
		return nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

func textsFromProtocol(ss []string) []Text {
	if len(ss) == 0 {
		return nil
	}
	out := make([]Text, len(ss))
	for i, s := range ss {
		out[i] = Text(s)
	}
	return out
}

// enum tables: API value <-> wire value.
var (
	scopeModels = map[ScopeModel]cpd.ScopeModel{
		ScopeModelPipe: cpd.ModelPipe, ScopeModelHose: cpd.ModelHose, ScopeModelUnspecifiedHose: cpd.ModelUnspecifiedHose,
	}
	qosBounds = map[QoSBound]cpd.Bound{
		QoSBoundAverage: cpd.BoundAverage, QoSBoundMaximum: cpd.BoundMaximum, QoSBoundPercentile: cpd.BoundPercentile,
	}
	availabilityBounds = map[AvailabilityBound]cpd.Bound{
		AvailabilityBoundAverage: cpd.BoundAverage, AvailabilityBoundMaximum: cpd.BoundMaximum,
	}
	outOfProfiles = map[OutOfProfile]cpd.OutOfProfile{
		OutOfProfileDiscard: cpd.OutOfProfileDiscard, OutOfProfileRemark: cpd.OutOfProfileRemark,
	}
	invocationMeans = map[InvocationMeans]cpd.InvocationMeans{
		InvocationImplicit: cpd.InvocationImplicit, InvocationExplicit: cpd.InvocationExplicit,
	}
)

// enumToProtocol maps an optional API enum value ("" is absent).
func enumToProtocol[A, W ~string](path string, table map[A]W, v A) (W, error) {
	if v == "" {
		return "", nil
	}
	w, ok := table[v]
	if !ok {
		return "", invalid(path, fmt.Sprintf("unknown value %q", string(v)))
	}
	return w, nil
}

// enumFromProtocol maps a wire enum value; an unknown one is kept as it is,
// for the API server to refuse.
func enumFromProtocol[A, W ~string](table map[A]W, w W) A {
	for a, x := range table {
		if x == w {
			return a
		}
	}
	return A(w)
}

func (c *Component) toProtocol(path string, out *cpd.Component) error {
	var err error
	out.CustomerNodes = make([]cpd.CustomerNode, len(c.CustomerNodes))
	for i, n := range c.CustomerNodes {
		out.CustomerNodes[i] = cpd.CustomerNode{
			Identifier:     n.Identifier,
			LinkIdentifier: string(n.LinkIdentifier),
			Localization:   string(n.Localization),
			SiteIdentifier: string(n.SiteIdentifier),
		}
	}
	if out.Scope, err = c.Scope.toProtocol(join(path, "scope")); err != nil {
		return err
	}
	if out.QoS, err = c.QoS.toProtocol(join(path, "qos")); err != nil {
		return err
	}
	if a := c.Availability; a != nil {
		p := join(path, "availability")
		pct, err := valueToProtocol(join(p, "percent"), a.Percent.Value, a.Percent.Min, a.Percent.Max)
		if err != nil {
			return err
		}
		bound, err := enumToProtocol(join(p, "bound"), availabilityBounds, a.Bound)
		if err != nil {
			return err
		}
		out.Availability = &cpd.Availability{Percent: pct, Bound: bound}
	}
	if k := c.Capacity; k != nil {
		p := join(path, "capacity")
		out.Capacity = &cpd.Capacity{}
		if out.Capacity.IncomingBps, err = k.IncomingBps.toProtocol(join(p, "incomingBps")); err != nil {
			return err
		}
		if out.Capacity.OutgoingBps, err = k.OutgoingBps.toProtocol(join(p, "outgoingBps")); err != nil {
			return err
		}
	}
	if t := c.TrafficIsolation; t != nil {
		p := join(path, "trafficIsolation")
		var required bool
		switch t.Mode {
		case IsolationRequired:
			required = true
		case IsolationNotRequired:
		default:
			return invalid(join(p, "mode"), fmt.Sprintf("must be Required or NotRequired, got %q", string(t.Mode)))
		}
		out.TrafficIsolation = &cpd.TrafficIsolation{Required: required, Means: string(t.Means)}
	}
	if f := c.Conformance; f != nil {
		p := join(path, "conformance")
		oop, err := enumToProtocol(join(p, "outOfProfile"), outOfProfiles, f.OutOfProfile)
		if err != nil {
			return err
		}
		mtu, err := f.MTU.toProtocol(join(p, "mtu"))
		if err != nil {
			return err
		}
		out.Conformance = &cpd.Conformance{OutOfProfile: oop, RemarkClass: string(f.RemarkClass), MTU: mtu}
	}
	if len(c.FlowIdentification) > 0 {
		out.FlowIdentification = make([]cpd.FlowIdentifier, len(c.FlowIdentification))
		for i, f := range c.FlowIdentification {
			out.FlowIdentification[i] = cpd.FlowIdentifier{
				SourcePrefix:      string(f.SourcePrefix),
				SourcePort:        int32ToInt(f.SourcePort),
				DestinationPrefix: string(f.DestinationPrefix),
				DestinationPort:   int32ToInt(f.DestinationPort),
				Protocol:          int32ToInt(f.Protocol),
				DSCP:              int32ToInt(f.DSCP),
				TunnelEndpoint:    string(f.TunnelEndpoint),
				LinkIdentifier:    string(f.LinkIdentifier),
				RemarkDSCP:        int32ToInt(f.RemarkDSCP),
			}
		}
	}
	if o := c.OverallGuarantees; o != nil {
		out.OverallGuarantees = &cpd.OverallGuarantees{Delay: string(o.Delay), Loss: string(o.Loss), Throughput: string(o.Throughput)}
	}
	if r := c.Routing; r != nil {
		p := join(path, "routing")
		var backup bool
		switch r.BackupPaths {
		case BackupPathsRequired:
			backup = true
		case BackupPathsNotRequired, "":
		default:
			return invalid(join(p, "backupPaths"), fmt.Sprintf("must be Required or NotRequired, got %q", string(r.BackupPaths)))
		}
		out.Routing = &cpd.Routing{
			Avoid:                  textsToProtocol(r.Avoid),
			Via:                    textsToProtocol(r.Via),
			GeographicRestrictions: textsToProtocol(r.GeographicRestrictions),
			Topology:               string(r.Topology),
			ForwardingBehavior:     string(r.ForwardingBehavior),
			BackupPaths:            backup,
		}
	}
	out.ActivationMeans = textsToProtocol(c.ActivationMeans)
	if out.InvocationMeans, err = enumToProtocol(join(path, "invocationMeans"), invocationMeans, c.InvocationMeans); err != nil {
		return err
	}
	if n := c.Notifications; n != nil {
		p := join(path, "notifications")
		interval, err := n.IntervalS.toProtocol(join(p, "intervalS"))
		if err != nil {
			return err
		}
		out.Notifications = &cpd.Notifications{
			Means:       textsToProtocol(n.Means),
			Events:      textsToProtocol(n.Events),
			IntervalS:   interval,
			DataModel:   string(n.DataModel),
			Destination: string(n.Destination),
		}
	}
	return nil
}

func (s *Scope) toProtocol(path string) (*cpd.Scope, error) {
	if s == nil {
		return nil, nil
	}
	model, err := enumToProtocol(join(path, "model"), scopeModels, s.Model)
	if err != nil {
		return nil, err
	}
	out := &cpd.Scope{Model: model, Ingress: textsToProtocol(s.Ingress), Egress: textsToProtocol(s.Egress)}
	if out.Incoming, err = s.Incoming.toProtocol(join(path, "incoming")); err != nil {
		return nil, err
	}
	if out.Outgoing, err = s.Outgoing.toProtocol(join(path, "outgoing")); err != nil {
		return nil, err
	}
	return out, nil
}

func (r *Reachability) toProtocol(path string) (*cpd.Reachability, error) {
	if r == nil {
		return nil, nil
	}
	out := &cpd.Reachability{}
	switch r.Mode {
	case ReachabilityGlobal:
		out.Global = true
	case ReachabilityRestricted:
	default:
		return nil, invalid(join(path, "mode"), fmt.Sprintf("must be Global or Restricted, got %q", string(r.Mode)))
	}
	if len(r.Prefixes) > 0 {
		out.Prefixes = make([]string, len(r.Prefixes))
		for i, p := range r.Prefixes {
			out.Prefixes[i] = string(p)
		}
	}
	return out, nil
}

func (q *QoS) toProtocol(path string) (*cpd.QoS, error) {
	if q == nil {
		return nil, nil
	}
	out := &cpd.QoS{Class: q.Class}
	var err error
	if out.OneWayDelayMs, err = q.OneWayDelayMs.toProtocol(join(path, "oneWayDelayMs")); err != nil {
		return nil, err
	}
	if out.DelayVariationMs, err = q.DelayVariationMs.toProtocol(join(path, "delayVariationMs")); err != nil {
		return nil, err
	}
	if out.LossRatio, err = q.LossRatio.toProtocol(join(path, "lossRatio")); err != nil {
		return nil, err
	}
	if out.Bound, err = enumToProtocol(join(path, "bound"), qosBounds, q.Bound); err != nil {
		return nil, err
	}
	if q.Percentile != nil {
		if *q.Percentile == 0 {
			return nil, invalid(join(path, "percentile"), "must be greater than 0 and less than 100, got 0")
		}
		out.Percentile = *q.Percentile
	}
	return out, nil
}

func componentFromProtocol(c *cpd.Component) Component {
	out := Component{
		ActivationMeans: textsFromProtocol(c.ActivationMeans),
		InvocationMeans: enumFromProtocol(invocationMeans, c.InvocationMeans),
	}
	if c.CustomerNodes != nil {
		out.CustomerNodes = make([]CustomerNode, len(c.CustomerNodes))
	}
	for i, n := range c.CustomerNodes {
		out.CustomerNodes[i] = CustomerNode{
			Identifier:     n.Identifier,
			LinkIdentifier: Text(n.LinkIdentifier),
			Localization:   Text(n.Localization),
			SiteIdentifier: Text(n.SiteIdentifier),
		}
	}
	if s := c.Scope; s != nil {
		out.Scope = &Scope{
			Model:    enumFromProtocol(scopeModels, s.Model),
			Ingress:  textsFromProtocol(s.Ingress),
			Egress:   textsFromProtocol(s.Egress),
			Incoming: reachabilityFromProtocol(s.Incoming),
			Outgoing: reachabilityFromProtocol(s.Outgoing),
		}
	}
	if q := c.QoS; q != nil {
		out.QoS = &QoS{
			Class:            q.Class,
			OneWayDelayMs:    valueFromProtocol(q.OneWayDelayMs),
			DelayVariationMs: valueFromProtocol(q.DelayVariationMs),
			LossRatio:        ratioFromProtocol(q.LossRatio),
			Bound:            enumFromProtocol(qosBounds, q.Bound),
		}
		if q.Percentile != 0 {
			p := q.Percentile
			out.QoS.Percentile = &p
		}
	}
	if a := c.Availability; a != nil {
		out.Availability = &Availability{Percent: percentFromProtocol(a.Percent), Bound: enumFromProtocol(availabilityBounds, a.Bound)}
	}
	if k := c.Capacity; k != nil {
		out.Capacity = &Capacity{IncomingBps: valueFromProtocol(k.IncomingBps), OutgoingBps: valueFromProtocol(k.OutgoingBps)}
	}
	if t := c.TrafficIsolation; t != nil {
		mode := IsolationNotRequired
		if t.Required {
			mode = IsolationRequired
		}
		out.TrafficIsolation = &TrafficIsolation{Mode: mode, Means: Text(t.Means)}
	}
	if f := c.Conformance; f != nil {
		out.Conformance = &Conformance{
			OutOfProfile: enumFromProtocol(outOfProfiles, f.OutOfProfile),
			RemarkClass:  Text(f.RemarkClass),
			MTU:          mtuFromProtocol(f.MTU),
		}
	}
	if len(c.FlowIdentification) > 0 {
		out.FlowIdentification = make([]FlowIdentifier, len(c.FlowIdentification))
		for i, f := range c.FlowIdentification {
			out.FlowIdentification[i] = FlowIdentifier{
				SourcePrefix:      CIDR(f.SourcePrefix),
				SourcePort:        intToInt32(f.SourcePort),
				DestinationPrefix: CIDR(f.DestinationPrefix),
				DestinationPort:   intToInt32(f.DestinationPort),
				Protocol:          intToInt32(f.Protocol),
				DSCP:              intToInt32(f.DSCP),
				TunnelEndpoint:    Text(f.TunnelEndpoint),
				LinkIdentifier:    Text(f.LinkIdentifier),
				RemarkDSCP:        intToInt32(f.RemarkDSCP),
			}
		}
	}
	if o := c.OverallGuarantees; o != nil {
		out.OverallGuarantees = &OverallGuarantees{Delay: Text(o.Delay), Loss: Text(o.Loss), Throughput: Text(o.Throughput)}
	}
	if r := c.Routing; r != nil {
		out.Routing = &Routing{
			Avoid:                  textsFromProtocol(r.Avoid),
			Via:                    textsFromProtocol(r.Via),
			GeographicRestrictions: textsFromProtocol(r.GeographicRestrictions),
			Topology:               Text(r.Topology),
			ForwardingBehavior:     Text(r.ForwardingBehavior),
		}
		if r.BackupPaths {
			out.Routing.BackupPaths = BackupPathsRequired
		}
	}
	if n := c.Notifications; n != nil {
		out.Notifications = &Notifications{
			Means:       textsFromProtocol(n.Means),
			Events:      textsFromProtocol(n.Events),
			IntervalS:   valueFromProtocol(n.IntervalS),
			DataModel:   Text(n.DataModel),
			Destination: Text(n.Destination),
		}
	}
	return out
}

func reachabilityFromProtocol(r *cpd.Reachability) *Reachability {
	if r == nil {
		return nil
	}
	out := &Reachability{Mode: ReachabilityRestricted}
	if r.Global {
		out.Mode = ReachabilityGlobal
	}
	if len(r.Prefixes) > 0 {
		out.Prefixes = make([]CIDR, len(r.Prefixes))
		for i, p := range r.Prefixes {
			out.Prefixes[i] = CIDR(p)
		}
	}
	return out
}
