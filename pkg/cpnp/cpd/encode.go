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
	"fmt"
	"slices"
	"sync"
)

// MarshalJSON returns the canonical encoding of c, after checking it with
// Validate(false) so that nothing unparseable leaves this package. The
// canonical encoding is:
//
//   - members in the order of the Go structs, which is RFC 8921 Figure 10's
//     clause order (customer_nodes, scope, qos, availability, capacity,
//     traffic_isolation, conformance, flow_identification,
//     overall_guarantees, routing, activation_means, invocation_means,
//     notifications) and the member order of docs/cpd.md;
//   - no insignificant whitespace;
//   - absent optional members omitted: nil clauses, empty strings and lists,
//     zero Values; "components", "customer_nodes", "identifier",
//     "percent", "global" and "required" are always present;
//   - a Value as a number when fixed, else {"min":a,"max":b} without the
//     open bound;
//   - numbers as by appendNumber (ECMAScript / RFC 8785 style: shortest
//     round-trip digits, no exponent for 1e-6 <= |x| < 1e21, no "-0");
//   - strings as encoding/json writes them (HTML-safe escapes, invalid UTF-8
//     replaced by U+FFFD), so embedding the result in json.Marshal output
//     leaves it byte-identical;
//   - list order preserved (lists are not sorted: an ACK carries a copy).
//
// Parse(MarshalJSON(c)) equals c for every valid c built with nil for absent
// lists, and MarshalJSON(Parse(b)) is a fixed point after one round.
func (c CPD) MarshalJSON() ([]byte, error) {
	if err := c.Validate(false); err != nil {
		return nil, fmt.Errorf("encode cpd: %w", err)
	}
	return c.encode()
}

// encode writes the canonical form without validating (appendCanonical,
// canonical.go). It fails only on a non-finite number.
func (c CPD) encode() ([]byte, error) {
	return c.appendCanonical(make([]byte, 0, encodedSizeHint(c)))
}

// encodedSizeHint is a guess at the length of the canonical encoding of c,
// so that encoding rarely grows its buffer: Sample's components encode to
// about 400 bytes each.
func encodedSizeHint(c CPD) int { return 16 + 512*len(c.Components) }

// Canonical returns the canonical encoding of c (see MarshalJSON) without
// validating it, or nil when c holds a non-finite number. It is what Equal
// compares, and a stable key for maps and logs.
func (c CPD) Canonical() []byte {
	b, err := c.encode()
	if err != nil {
		return nil
	}
	return b
}

// AppendCanonical appends the canonical encoding of c (see MarshalJSON) to
// dst without validating c, for encoders that reuse their buffers (the wire
// codec writes a message's CPD member with it, after validating the
// message). It fails only when c holds a non-finite number; dst is then
// returned unchanged.
func (c CPD) AppendCanonical(dst []byte) ([]byte, error) {
	b, err := c.appendCanonical(dst)
	if err != nil {
		return dst, fmt.Errorf("encode cpd: %w", err)
	}
	return b, nil
}

// Equal reports whether a and b have the same canonical encoding, the test
// Table 5 and Table 6 of RFC 8921 need: "the ACK carries the offered CPD"
// (§9.2.6) and an ACCEPT carries the Offered CPD (§8.7). The zero CPD equals
// Empty(); list order matters; a CPD holding a non-finite number equals
// nothing.
func Equal(a, b CPD) bool {
	// One buffer holds both encodings; it is recycled (equalBuffers), as
	// the engines compare a CPD on every ACCEPT and ACK.
	bp := equalBuffers.Get().(*[]byte) //nolint:forcetypeassert // the pool holds *[]byte only
	defer putEqualBuffer(bp)
	buf := (*bp)[:0]
	if n := encodedSizeHint(a) + encodedSizeHint(b); n > cap(buf) {
		buf = make([]byte, 0, n)
	}
	buf, err := a.appendCanonical(buf)
	if err != nil {
		return false
	}
	n := len(buf)
	if buf, err = b.appendCanonical(buf); err != nil {
		return false
	}
	*bp = buf
	return bytes.Equal(buf[:n], buf[n:])
}

// equalBuffers recycles Equal's buffers.
var equalBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 2*encodedSizeHint(CPD{Components: make([]Component, 1)}))
	return &b
}}

// maxPooledEqualBuffer bounds the buffers Equal keeps: a rare large CPD
// does not pin its buffer.
const maxPooledEqualBuffer = 64 << 10

func putEqualBuffer(bp *[]byte) {
	if cap(*bp) > maxPooledEqualBuffer {
		return
	}
	equalBuffers.Put(bp)
}

// DeepCopyInto copies c into out, sharing no memory (the Kubernetes
// convention, so API types can embed a CPD).
func (c *CPD) DeepCopyInto(out *CPD) {
	if c.Components == nil {
		out.Components = nil
		return
	}
	out.Components = make([]Component, len(c.Components))
	for i := range c.Components {
		c.Components[i].deepCopyInto(&out.Components[i])
	}
}

// DeepCopy returns a copy of c that shares no memory with it.
func (c *CPD) DeepCopy() *CPD {
	if c == nil {
		return nil
	}
	out := new(CPD)
	c.DeepCopyInto(out)
	return out
}

func (c *Component) deepCopyInto(out *Component) {
	*out = *c
	out.CustomerNodes = slices.Clone(c.CustomerNodes)
	if c.Scope != nil {
		s := *c.Scope
		s.Ingress = slices.Clone(s.Ingress)
		s.Egress = slices.Clone(s.Egress)
		s.Incoming = copyReachability(s.Incoming)
		s.Outgoing = copyReachability(s.Outgoing)
		out.Scope = &s
	}
	out.QoS = copyPtr(c.QoS)
	out.Availability = copyPtr(c.Availability)
	out.Capacity = copyPtr(c.Capacity)
	out.TrafficIsolation = copyPtr(c.TrafficIsolation)
	out.Conformance = copyPtr(c.Conformance)
	if c.FlowIdentification != nil {
		out.FlowIdentification = make([]FlowIdentifier, len(c.FlowIdentification))
		for i, f := range c.FlowIdentification {
			f.SourcePort = copyPtr(f.SourcePort)
			f.DestinationPort = copyPtr(f.DestinationPort)
			f.Protocol = copyPtr(f.Protocol)
			f.DSCP = copyPtr(f.DSCP)
			f.RemarkDSCP = copyPtr(f.RemarkDSCP)
			out.FlowIdentification[i] = f
		}
	}
	out.OverallGuarantees = copyPtr(c.OverallGuarantees)
	if c.Routing != nil {
		r := *c.Routing
		r.Avoid = slices.Clone(r.Avoid)
		r.Via = slices.Clone(r.Via)
		r.GeographicRestrictions = slices.Clone(r.GeographicRestrictions)
		out.Routing = &r
	}
	out.ActivationMeans = slices.Clone(c.ActivationMeans)
	if c.Notifications != nil {
		n := *c.Notifications
		n.Means = slices.Clone(n.Means)
		n.Events = slices.Clone(n.Events)
		out.Notifications = &n
	}
}

func copyReachability(r *Reachability) *Reachability {
	if r == nil {
		return nil
	}
	out := *r
	out.Prefixes = slices.Clone(r.Prefixes)
	return &out
}

// copyPtr copies a pointer to a struct without reference members.
func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
