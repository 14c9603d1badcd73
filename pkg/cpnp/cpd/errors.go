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

import "strconv"

// ErrorKind classifies why a CPD is invalid. The wire package maps it to its
// own validation codes (and from there to FAIL status codes), so callers
// switch on the kind, never on the message.
type ErrorKind int

// Error kinds.
const (
	// KindSyntax is set when the text is not JSON, is truncated, nests deeper
	// than MaxDepth, repeats a known member, or has data after the CPD.
	KindSyntax ErrorKind = iota + 1
	// KindType is set when a known member has the wrong JSON type (including
	// null, and a fraction where an integer is required).
	KindType
	// KindRange is set when a value is outside its domain: a negative
	// capacity, a loss ratio above 1, min > max, an unknown enum string, an
	// empty string in a list, a document larger than MaxSize.
	KindRange
	// KindMissing is set when a mandatory member is absent: components, a
	// component's customer nodes, a node identifier, a clause's only
	// meaningful member (e.g. availability.percent).
	KindMissing
	// KindConflict is set when members exclude each other, e.g. qualitative
	// and quantitative QoS (RFC 7297 §3.3).
	KindConflict
)

var kindNames = map[ErrorKind]string{
	KindSyntax:   "syntax",
	KindType:     "type",
	KindRange:    "range",
	KindMissing:  "missing",
	KindConflict: "conflict",
}

// String returns the lowercase kind name ("syntax", "type", "range",
// "missing", "conflict") or "ErrorKind(N)".
func (k ErrorKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// Error describes why a CPD is invalid. Parse, Validate and Value's
// UnmarshalJSON return it; use errors.As to get at it.
type Error struct {
	// Path is the JSON path of the offending member relative to the CPD root,
	// e.g. "components[0].qos.one_way_delay_ms.min"; empty for the root itself.
	Path string
	// Kind classifies the problem.
	Kind ErrorKind
	// Detail is a human-readable explanation, citing the RFC where one applies.
	Detail string
}

// Error returns "path: detail", or only the detail for the root.
func (e *Error) Error() string {
	if e.Path == "" {
		return e.Detail
	}
	return e.Path + ": " + e.Detail
}

func errorf(path string, kind ErrorKind, detail string) *Error {
	return &Error{Path: path, Kind: kind, Detail: detail}
}

// join appends a member name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// index appends an array index to a path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// lazyPath is a JSON path that is only spelled out when it is reported: each
// segment lives in its caller's frame and points at its parent, so checking
// a valid CPD (Validate) or an offer that satisfies its request (Satisfies)
// builds no strings. member and at take the address of their
// receiver, so call them on variables, not on results.
type lazyPath struct {
	parent *lazyPath
	name   string // the member name; empty for an array index
	index  int
}

// member returns the path of the member name of p.
func (p *lazyPath) member(name string) lazyPath { return lazyPath{parent: p, name: name} }

// at returns the path of the element i of the array at p.
func (p *lazyPath) at(i int) lazyPath { return lazyPath{parent: p, index: i} }

// String spells the path as join and index do: "components[0].qos".
func (p lazyPath) String() string {
	return string(p.appendTo(make([]byte, 0, 64)))
}

func (p *lazyPath) appendTo(b []byte) []byte {
	if p == nil {
		return b
	}
	b = p.parent.appendTo(b)
	if p.name == "" {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(p.index), 10)
		return append(b, ']')
	}
	if len(b) > 0 {
		b = append(b, '.')
	}
	return append(b, p.name...)
}
