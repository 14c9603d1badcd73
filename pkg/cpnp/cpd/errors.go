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
