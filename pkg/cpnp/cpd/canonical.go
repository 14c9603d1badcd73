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
	"strconv"
	"unicode/utf8"
)

// appendCanonical appends the canonical encoding of c (see MarshalJSON) to
// dst, without validating c. It writes, byte for byte, what json.Marshal
// writes for the model's struct tags (the encoding was first defined that
// way, and an ACK's copy of a CPD must compare equal, RFC 8921 §9.2.6), but
// without reflection and into the caller's buffer. It fails only on a
// non-finite number, which JSON cannot represent (RFC 8259 §6).
func (c CPD) appendCanonical(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.b = append(e.b, `{"components":[`...)
	for i := range c.Components {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.component(&c.Components[i])
	}
	e.b = append(e.b, "]}"...)
	if e.err != nil {
		return nil, e.err
	}
	return e.b, nil
}

// encoder appends JSON to b. The first non-finite number sets err; the
// caller then discards b.
type encoder struct {
	b   []byte
	err error
}

// obj writes the members of one object: open, then one call per present
// member, then close.
type obj struct {
	e     *encoder
	empty bool
}

func (e *encoder) open() obj {
	e.b = append(e.b, '{')
	return obj{e: e, empty: true}
}

// key writes the separator and the member name; name is a plain identifier.
func (o *obj) key(name string) *encoder {
	if !o.empty {
		o.e.b = append(o.e.b, ',')
	}
	o.empty = false
	o.e.b = append(o.e.b, '"')
	o.e.b = append(o.e.b, name...)
	o.e.b = append(o.e.b, '"', ':')
	return o.e
}

func (o *obj) close() { o.e.b = append(o.e.b, '}') }

// str writes a member with encoding/json's omitempty: nothing when s is empty.
func (o *obj) str(name, s string) {
	if s != "" {
		o.key(name).string(s)
	}
}

// strs writes a list of strings with omitempty: nothing when it is empty.
func (o *obj) strs(name string, list []string) {
	if len(list) == 0 {
		return
	}
	e := o.key(name)
	e.b = append(e.b, '[')
	for i, s := range list {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.string(s)
	}
	e.b = append(e.b, ']')
}

// value writes a Value member with omitzero: nothing when it is absent.
func (o *obj) value(name string, v Value) {
	if !v.IsZero() {
		o.key(name).value(v)
	}
}

// integer writes an optional integer with omitempty: nothing when nil.
func (o *obj) integer(name string, i *int) {
	if i != nil {
		e := o.key(name)
		e.b = strconv.AppendInt(e.b, int64(*i), 10)
	}
}

func (e *encoder) value(v Value) {
	b, err := v.appendJSON(e.b)
	if err != nil {
		e.err = err
		return
	}
	e.b = b
}

func (e *encoder) boolean(v bool) { e.b = strconv.AppendBool(e.b, v) }

func (e *encoder) component(c *Component) {
	o := e.open()
	o.key("customer_nodes")
	if c.CustomerNodes == nil {
		e.b = append(e.b, "null"...) // no omitempty: a literal's nil list shows
	} else {
		e.b = append(e.b, '[')
		for i := range c.CustomerNodes {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			n := &c.CustomerNodes[i]
			no := e.open()
			no.key("identifier").string(n.Identifier)
			no.str("link_identifier", n.LinkIdentifier)
			no.str("localization", n.Localization)
			no.str("site_identifier", n.SiteIdentifier)
			no.close()
		}
		e.b = append(e.b, ']')
	}
	if s := c.Scope; s != nil {
		so := o.key("scope").open()
		so.str("model", string(s.Model))
		so.strs("ingress", s.Ingress)
		so.strs("egress", s.Egress)
		if s.Incoming != nil {
			so.key("incoming").reachability(s.Incoming)
		}
		if s.Outgoing != nil {
			so.key("outgoing").reachability(s.Outgoing)
		}
		so.close()
	}
	if q := c.QoS; q != nil {
		qo := o.key("qos").open()
		qo.str("class", q.Class)
		qo.value("one_way_delay_ms", q.OneWayDelayMs)
		qo.value("delay_variation_ms", q.DelayVariationMs)
		qo.value("loss_ratio", q.LossRatio)
		qo.str("bound", string(q.Bound))
		if q.Percentile != 0 { // omitempty; -0 is 0
			qo.key("percentile").number(q.Percentile)
		}
		qo.close()
	}
	if a := c.Availability; a != nil {
		ao := o.key("availability").open()
		ao.key("percent").value(a.Percent) // no omitzero: a zero Value is {}
		ao.str("bound", string(a.Bound))
		ao.close()
	}
	if k := c.Capacity; k != nil {
		ko := o.key("capacity").open()
		ko.value("incoming_bps", k.IncomingBps)
		ko.value("outgoing_bps", k.OutgoingBps)
		ko.close()
	}
	if t := c.TrafficIsolation; t != nil {
		to := o.key("traffic_isolation").open()
		to.key("required").boolean(t.Required)
		to.str("means", t.Means)
		to.close()
	}
	if f := c.Conformance; f != nil {
		fo := o.key("conformance").open()
		fo.str("out_of_profile", string(f.OutOfProfile))
		fo.str("remark_class", f.RemarkClass)
		fo.value("mtu", f.MTU)
		fo.close()
	}
	if len(c.FlowIdentification) > 0 {
		o.key("flow_identification")
		e.b = append(e.b, '[')
		for i := range c.FlowIdentification {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			f := &c.FlowIdentification[i]
			fo := e.open()
			fo.str("source_prefix", f.SourcePrefix)
			fo.integer("source_port", f.SourcePort)
			fo.str("destination_prefix", f.DestinationPrefix)
			fo.integer("destination_port", f.DestinationPort)
			fo.integer("protocol", f.Protocol)
			fo.integer("dscp", f.DSCP)
			fo.str("tunnel_endpoint", f.TunnelEndpoint)
			fo.str("link_identifier", f.LinkIdentifier)
			fo.integer("remark_dscp", f.RemarkDSCP)
			fo.close()
		}
		e.b = append(e.b, ']')
	}
	if g := c.OverallGuarantees; g != nil {
		gobj := o.key("overall_guarantees").open()
		gobj.str("delay", g.Delay)
		gobj.str("loss", g.Loss)
		gobj.str("throughput", g.Throughput)
		gobj.close()
	}
	if r := c.Routing; r != nil {
		ro := o.key("routing").open()
		ro.strs("avoid", r.Avoid)
		ro.strs("via", r.Via)
		ro.strs("geographic_restrictions", r.GeographicRestrictions)
		ro.str("topology", r.Topology)
		ro.str("forwarding_behavior", r.ForwardingBehavior)
		if r.BackupPaths { // omitempty
			ro.key("backup_paths").boolean(true)
		}
		ro.close()
	}
	o.strs("activation_means", c.ActivationMeans)
	o.str("invocation_means", string(c.InvocationMeans))
	if n := c.Notifications; n != nil {
		no := o.key("notifications").open()
		no.strs("means", n.Means)
		no.strs("events", n.Events)
		no.value("interval_s", n.IntervalS)
		no.str("data_model", n.DataModel)
		no.str("destination", n.Destination)
		no.close()
	}
	o.close()
}

func (e *encoder) reachability(r *Reachability) {
	o := e.open()
	o.key("global").boolean(r.Global)
	o.strs("prefixes", r.Prefixes)
	o.close()
}

// number writes a float64 member as encoding/json does: appendNumber for a
// non-zero finite f (the callers omit zero), an error otherwise.
func (e *encoder) number(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		e.err = errNonFinite
		return
	}
	e.b = appendNumber(e.b, f)
}

// string writes s as encoding/json does by default: '"' and '\\' escaped,
// \b \f \n \r \t for those controls and \u00XX for the others, '<', '>' and
// '&' as \u003c, \u003e and \u0026 (HTML-safe), U+2028 and U+2029 escaped
// (JSONP-safe), and each byte of invalid UTF-8 as \ufffd.
func (e *encoder) string(s string) {
	const hex = "0123456789abcdef"
	b := append(e.b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	e.b = append(b, '"')
}

// htmlSafe tells the ASCII bytes that encoding/json writes as they are:
// printable ASCII and DEL, but '"', '\\', '<', '>' and '&'.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()
