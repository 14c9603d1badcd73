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
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
)

// This file is the decoder that Parse used before the hand-written scanner
// (scan.go): a walk over encoding/json's Decoder.Token stream, kept verbatim
// (identifiers prefixed with ref) as the reference that defines Parse's
// results and errors. FuzzParseEquivalence and TestParseMatchesReference
// check that Parse agrees with it on every input. refEncode is likewise the
// former canonical encoder.

// refEncode is the canonical encoding as it was first written, with
// encoding/json; appendCanonical (canonical.go) must produce the same bytes.
func refEncode(c CPD) ([]byte, error) {
	comps := c.Components
	if comps == nil {
		comps = []Component{} // the Empty CPD is {"components":[]}, never null
	}
	return json.Marshal(struct {
		Components []Component `json:"components"`
	}{comps})
}

// refUnmarshalValue is Value.UnmarshalJSON as it was, without the null case.
func refUnmarshalValue(data []byte) (Value, error) {
	d := newRefDecoder(data)
	val, err := d.value("")
	if err != nil {
		return Value{}, err
	}
	if err := d.end(); err != nil {
		return Value{}, err
	}
	return val, nil
}

// refParse decodes one CPD from JSON and validates it (DESIGN §3; RFC 8921
// §9.1.9.1; RFC 7297 §3-4).
//
// Unknown members are ignored (forward compatibility, RFC 8921 §1). Known
// members must have the right JSON type (null is never accepted: omit the
// member instead), known members may not repeat, every value must lie in its
// domain, and the rules of Validate hold. The Empty CPD {"components":[]} is
// accepted; a message that needs a non-empty CPD checks IsEmpty or calls
// Validate(true). Input larger than MaxSize or nested deeper than MaxDepth is
// refused; refParse never panics.
//
// Errors are *Error. refParse(data) of canonical data returns a CPD whose
// MarshalJSON is byte-identical to data.
func refParse(data []byte) (CPD, error) {
	if len(data) > MaxSize {
		return CPD{}, errorf("", KindRange, "document is "+strconv.Itoa(len(data))+" bytes, more than the "+strconv.Itoa(MaxSize)+" allowed")
	}
	d := newRefDecoder(data)
	var c CPD
	if err := refDecodeObject(d, "", refCPDFields, &c); err != nil {
		return CPD{}, err
	}
	if err := d.end(); err != nil {
		return CPD{}, err
	}
	if c.Components == nil {
		return CPD{}, errorf("components", KindMissing, "member is required (use [] for the Empty CPD, RFC 8921 §9.2.6)")
	}
	if err := c.Validate(false); err != nil {
		return CPD{}, err
	}
	return c, nil
}

// refDecoder walks the token stream of encoding/json's Decoder, which checks the
// syntax and unescapes strings; the refDecoder adds paths, types and the depth
// bound. Every method returns *Error.
type refDecoder struct {
	dec   *json.Decoder
	depth int
}

func newRefDecoder(data []byte) *refDecoder {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return &refDecoder{dec: dec}
}

// next returns the next token, tracking the nesting depth.
func (d *refDecoder) next(path string) (json.Token, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, refSyntaxError(path, err)
	}
	if delim, ok := tok.(json.Delim); ok {
		switch delim {
		case '{', '[':
			d.depth++
			if d.depth > MaxDepth {
				return nil, errorf(path, KindSyntax, "nesting deeper than "+strconv.Itoa(MaxDepth)+" levels")
			}
		default:
			d.depth--
		}
	}
	return tok, nil
}

// end checks that nothing but whitespace follows the top-level value.
func (d *refDecoder) end() error {
	tok, err := d.dec.Token()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return refSyntaxError("", err)
	}
	return errorf("", KindSyntax, "unexpected "+refTokenKind(tok)+" after the JSON value")
}

func refSyntaxError(path string, err error) *Error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return errorf(path, KindSyntax, "invalid JSON at offset "+strconv.FormatInt(se.Offset, 10)+": "+se.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(path, KindSyntax, "unexpected end of input")
	default:
		return errorf(path, KindSyntax, "invalid JSON: "+err.Error())
	}
}

// refTokenKind names the JSON type of a token that starts a value.
func refTokenKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	default:
		return "token"
	}
}

func refTypeError(path, want string, tok json.Token) *Error {
	return errorf(path, KindType, "must be "+want+", got "+refTokenKind(tok))
}

// skip consumes one value (an unknown member's).
func (d *refDecoder) skip(path string) error {
	depth := 0
	for {
		tok, err := d.next(path)
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// refField decodes the value of one known member into *T.
type refField[T any] func(d *refDecoder, path string, dst *T) error

// refFields maps the known member names of one object to their decoders.
type refFields[T any] map[string]refField[T]

// refDecodeObject decodes an object with the known members fs, skipping unknown
// ones and refusing a repeated known one.
func refDecodeObject[T any](d *refDecoder, path string, fs refFields[T], dst *T) error {
	tok, err := d.next(path)
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return refTypeError(path, "an object", tok)
	}
	return refDecodeMembers(d, path, fs, dst)
}

// refDecodeMembers decodes the members of an object whose '{' has been read,
// and its '}'.
func refDecodeMembers[T any](d *refDecoder, path string, fs refFields[T], dst *T) error {
	var seen []string // known members only: at most len(fs)
	for d.dec.More() {
		tok, err := d.next(path)
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok { // unreachable: the json scanner only yields string keys
			return errorf(path, KindSyntax, "member name is not a string")
		}
		p := join(path, name)
		f, known := fs[name]
		if !known {
			if err := d.skip(p); err != nil {
				return err
			}
			continue
		}
		if slices.Contains(seen, name) {
			return errorf(p, KindSyntax, "duplicate member")
		}
		seen = append(seen, name)
		if err := f(d, p, dst); err != nil {
			return err
		}
	}
	_, err := d.next(path) // '}'
	return err
}

// array decodes an array, calling elem for each element.
func (d *refDecoder) array(path string, elem func(i int, path string) error) error {
	tok, err := d.next(path)
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return refTypeError(path, "an array", tok)
	}
	for i := 0; d.dec.More(); i++ {
		if err := elem(i, index(path, i)); err != nil {
			return err
		}
	}
	_, err = d.next(path) // ']'
	return err
}

func (d *refDecoder) str(path string) (string, error) {
	tok, err := d.next(path)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", refTypeError(path, "a string", tok)
	}
	return s, nil
}

// strings decodes an array of strings; [] yields nil (absent). Validate
// refuses empty elements.
func (d *refDecoder) strings(path string) ([]string, error) {
	var out []string
	err := d.array(path, func(_ int, p string) error {
		s, err := d.str(p)
		if err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

func (d *refDecoder) boolean(path string) (bool, error) {
	tok, err := d.next(path)
	if err != nil {
		return false, err
	}
	b, ok := tok.(bool)
	if !ok {
		return false, refTypeError(path, "a boolean", tok)
	}
	return b, nil
}

func (d *refDecoder) number(path string) (float64, error) {
	tok, err := d.next(path)
	if err != nil {
		return 0, err
	}
	n, ok := tok.(json.Number)
	if !ok {
		return 0, refTypeError(path, "a number", tok)
	}
	return refParseNumber(path, n)
}

// refParseNumber converts a JSON number, dropping the sign of -0.
func refParseNumber(path string, n json.Number) (float64, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil { // only ErrRange: the scanner has checked the syntax
		return 0, errorf(path, KindRange, "number "+string(n)+" is out of range")
	}
	if f == 0 {
		f = 0 // -0 becomes 0
	}
	return f, nil
}

// integer decodes a number that must be integral; the caller checks the domain.
func (d *refDecoder) integer(path string) (*int, error) {
	f, err := d.number(path)
	if err != nil {
		return nil, err
	}
	if f != math.Trunc(f) {
		return nil, errorf(path, KindType, "must be an integer, got "+formatNumber(f))
	}
	if math.Abs(f) > maxSafeInteger {
		return nil, errorf(path, KindRange, "integer "+formatNumber(f)+" is out of range")
	}
	i := int(f)
	return &i, nil
}

// value decodes a Value: a number (fixed) or {"min","max"} with at least one
// bound. The member's domain is checked by Validate.
func (d *refDecoder) value(path string) (Value, error) {
	tok, err := d.next(path)
	if err != nil {
		return Value{}, err
	}
	switch t := tok.(type) {
	case json.Number:
		f, err := refParseNumber(path, t)
		if err != nil {
			return Value{}, err
		}
		return Fixed(f), nil
	case json.Delim:
		if t != '{' {
			break
		}
		var v Value
		if err := refDecodeMembers(d, path, refRangeFields, &v); err != nil {
			return Value{}, err
		}
		if v.IsZero() {
			return Value{}, errorf(path, KindMissing, `a loosely defined value needs "min", "max" or both`)
		}
		return v, nil
	}
	return Value{}, refTypeError(path, `a number or {"min","max"}`, tok)
}

var refRangeFields = refFields[Value]{
	"min": func(d *refDecoder, p string, v *Value) (err error) {
		v.min, err = d.number(p)
		v.hasMin = err == nil
		return err
	},
	"max": func(d *refDecoder, p string, v *Value) (err error) {
		v.max, err = d.number(p)
		v.hasMax = err == nil
		return err
	},
}

// The member tables below are the JSON schema of DESIGN §3 ("CPD" block),
// one table per object; docs/cpd.md documents every member. Decoding checks
// JSON types only; Validate checks domains and cross-member rules.

var refCPDFields = refFields[CPD]{
	"components": func(d *refDecoder, p string, c *CPD) error {
		c.Components = []Component{} // present: [] is the Empty CPD, not absent
		return d.array(p, func(_ int, ep string) error {
			var comp Component
			if err := refDecodeObject(d, ep, refComponentFields, &comp); err != nil {
				return err
			}
			c.Components = append(c.Components, comp)
			return nil
		})
	},
}

var refComponentFields = refFields[Component]{
	"customer_nodes": func(d *refDecoder, p string, c *Component) error {
		return d.array(p, func(_ int, ep string) error {
			var n CustomerNode
			if err := refDecodeObject(d, ep, refCustomerNodeFields, &n); err != nil {
				return err
			}
			c.CustomerNodes = append(c.CustomerNodes, n)
			return nil
		})
	},
	"scope":             refObjField(refScopeFields, func(c *Component) **Scope { return &c.Scope }),
	"qos":               refObjField(refQoSFields, func(c *Component) **QoS { return &c.QoS }),
	"availability":      refObjField(refAvailabilityFields, func(c *Component) **Availability { return &c.Availability }),
	"capacity":          refObjField(refCapacityFields, func(c *Component) **Capacity { return &c.Capacity }),
	"traffic_isolation": refObjField(refIsolationFields, func(c *Component) **TrafficIsolation { return &c.TrafficIsolation }),
	"conformance":       refObjField(refConformanceFields, func(c *Component) **Conformance { return &c.Conformance }),
	"flow_identification": func(d *refDecoder, p string, c *Component) error {
		return d.array(p, func(_ int, ep string) error {
			var f FlowIdentifier
			if err := refDecodeObject(d, ep, refFlowFields, &f); err != nil {
				return err
			}
			c.FlowIdentification = append(c.FlowIdentification, f)
			return nil
		})
	},
	"overall_guarantees": refObjField(refOverallFields, func(c *Component) **OverallGuarantees { return &c.OverallGuarantees }),
	"routing":            refObjField(refRoutingFields, func(c *Component) **Routing { return &c.Routing }),
	"activation_means":   refStringsField(func(c *Component) *[]string { return &c.ActivationMeans }),
	"invocation_means":   refStrField(func(c *Component) *InvocationMeans { return &c.InvocationMeans }),
	"notifications":      refObjField(refNotificationFields, func(c *Component) **Notifications { return &c.Notifications }),
}

var refCustomerNodeFields = refFields[CustomerNode]{
	"identifier":      refStrField(func(n *CustomerNode) *string { return &n.Identifier }),
	"link_identifier": refStrField(func(n *CustomerNode) *string { return &n.LinkIdentifier }),
	"localization":    refStrField(func(n *CustomerNode) *string { return &n.Localization }),
	"site_identifier": refStrField(func(n *CustomerNode) *string { return &n.SiteIdentifier }),
}

var refScopeFields = refFields[Scope]{
	"model":    refStrField(func(s *Scope) *ScopeModel { return &s.Model }),
	"ingress":  refStringsField(func(s *Scope) *[]string { return &s.Ingress }),
	"egress":   refStringsField(func(s *Scope) *[]string { return &s.Egress }),
	"incoming": refObjField(refReachabilityFields, func(s *Scope) **Reachability { return &s.Incoming }),
	"outgoing": refObjField(refReachabilityFields, func(s *Scope) **Reachability { return &s.Outgoing }),
}

var refReachabilityFields = refFields[Reachability]{
	"global":   refBoolField(func(r *Reachability) *bool { return &r.Global }),
	"prefixes": refStringsField(func(r *Reachability) *[]string { return &r.Prefixes }),
}

var refQoSFields = refFields[QoS]{
	"class":              refStrField(func(q *QoS) *string { return &q.Class }),
	"one_way_delay_ms":   refValueField(func(q *QoS) *Value { return &q.OneWayDelayMs }),
	"delay_variation_ms": refValueField(func(q *QoS) *Value { return &q.DelayVariationMs }),
	"loss_ratio":         refValueField(func(q *QoS) *Value { return &q.LossRatio }),
	"bound":              refStrField(func(q *QoS) *Bound { return &q.Bound }),
	"percentile": func(d *refDecoder, p string, q *QoS) (err error) {
		q.Percentile, err = d.number(p)
		return err
	},
}

var refAvailabilityFields = refFields[Availability]{
	"percent": refValueField(func(a *Availability) *Value { return &a.Percent }),
	"bound":   refStrField(func(a *Availability) *Bound { return &a.Bound }),
}

var refCapacityFields = refFields[Capacity]{
	"incoming_bps": refValueField(func(k *Capacity) *Value { return &k.IncomingBps }),
	"outgoing_bps": refValueField(func(k *Capacity) *Value { return &k.OutgoingBps }),
}

var refIsolationFields = refFields[TrafficIsolation]{
	"required": refBoolField(func(t *TrafficIsolation) *bool { return &t.Required }),
	"means":    refStrField(func(t *TrafficIsolation) *string { return &t.Means }),
}

var refConformanceFields = refFields[Conformance]{
	"out_of_profile": refStrField(func(f *Conformance) *OutOfProfile { return &f.OutOfProfile }),
	"remark_class":   refStrField(func(f *Conformance) *string { return &f.RemarkClass }),
	"mtu":            refValueField(func(f *Conformance) *Value { return &f.MTU }),
}

var refFlowFields = refFields[FlowIdentifier]{
	"source_prefix":      refStrField(func(f *FlowIdentifier) *string { return &f.SourcePrefix }),
	"source_port":        refIntField(func(f *FlowIdentifier) **int { return &f.SourcePort }),
	"destination_prefix": refStrField(func(f *FlowIdentifier) *string { return &f.DestinationPrefix }),
	"destination_port":   refIntField(func(f *FlowIdentifier) **int { return &f.DestinationPort }),
	"protocol":           refIntField(func(f *FlowIdentifier) **int { return &f.Protocol }),
	"dscp":               refIntField(func(f *FlowIdentifier) **int { return &f.DSCP }),
	"tunnel_endpoint":    refStrField(func(f *FlowIdentifier) *string { return &f.TunnelEndpoint }),
	"link_identifier":    refStrField(func(f *FlowIdentifier) *string { return &f.LinkIdentifier }),
	"remark_dscp":        refIntField(func(f *FlowIdentifier) **int { return &f.RemarkDSCP }),
}

var refOverallFields = refFields[OverallGuarantees]{
	"delay":      refStrField(func(o *OverallGuarantees) *string { return &o.Delay }),
	"loss":       refStrField(func(o *OverallGuarantees) *string { return &o.Loss }),
	"throughput": refStrField(func(o *OverallGuarantees) *string { return &o.Throughput }),
}

var refRoutingFields = refFields[Routing]{
	"avoid":                   refStringsField(func(r *Routing) *[]string { return &r.Avoid }),
	"via":                     refStringsField(func(r *Routing) *[]string { return &r.Via }),
	"geographic_restrictions": refStringsField(func(r *Routing) *[]string { return &r.GeographicRestrictions }),
	"topology":                refStrField(func(r *Routing) *string { return &r.Topology }),
	"forwarding_behavior":     refStrField(func(r *Routing) *string { return &r.ForwardingBehavior }),
	"backup_paths":            refBoolField(func(r *Routing) *bool { return &r.BackupPaths }),
}

var refNotificationFields = refFields[Notifications]{
	"means":       refStringsField(func(n *Notifications) *[]string { return &n.Means }),
	"events":      refStringsField(func(n *Notifications) *[]string { return &n.Events }),
	"interval_s":  refValueField(func(n *Notifications) *Value { return &n.IntervalS }),
	"data_model":  refStrField(func(n *Notifications) *string { return &n.DataModel }),
	"destination": refStrField(func(n *Notifications) *string { return &n.Destination }),
}

// refObjField decodes a nested clause object into a freshly allocated *U.
func refObjField[T, U any](fs refFields[U], get func(*T) **U) refField[T] {
	return func(d *refDecoder, p string, dst *T) error {
		u := new(U)
		if err := refDecodeObject(d, p, fs, u); err != nil {
			return err
		}
		*get(dst) = u
		return nil
	}
}

func refStrField[T any, S ~string](get func(*T) *S) refField[T] {
	return func(d *refDecoder, p string, dst *T) error {
		s, err := d.str(p)
		*get(dst) = S(s)
		return err
	}
}

func refStringsField[T any](get func(*T) *[]string) refField[T] {
	return func(d *refDecoder, p string, dst *T) (err error) {
		*get(dst), err = d.strings(p)
		return err
	}
}

func refBoolField[T any](get func(*T) *bool) refField[T] {
	return func(d *refDecoder, p string, dst *T) (err error) {
		*get(dst), err = d.boolean(p)
		return err
	}
}

func refIntField[T any](get func(*T) **int) refField[T] {
	return func(d *refDecoder, p string, dst *T) (err error) {
		*get(dst), err = d.integer(p)
		return err
	}
}

func refValueField[T any](get func(*T) *Value) refField[T] {
	return func(d *refDecoder, p string, dst *T) (err error) {
		*get(dst), err = d.value(p)
		return err
	}
}
