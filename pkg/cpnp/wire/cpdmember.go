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

package wire

import (
	"errors"
	"fmt"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// cpdField returns the struct field of m that holds the CPD member f.
func cpdField(m *Message, f field) **cpd.CPD {
	switch f {
	case fRequestedCPD:
		return &m.RequestedCPD
	case fOfferedCPD:
		return &m.OfferedCPD
	case fAcceptedCPD:
		return &m.AcceptedCPD
	default:
		return &m.CPD
	}
}

// decodeCPD parses the CPD member name with cpd.Parse. requireComponents is
// true for requested_cpd, offered_cpd and accepted_cpd, which may not be the
// Empty CPD (RFC 8921 §8.7: they describe a service); cpd of ACK and CANCEL
// may be (§9.2.6).
func decodeCPD(name string, v []byte, requireComponents bool) (*cpd.CPD, *ValidationError) {
	if v[0] != '{' {
		return nil, wrongType(name, "a CPD object", v)
	}
	c, err := cpd.Parse(v)
	if err != nil {
		return nil, cpdError(name, err)
	}
	if requireComponents && len(c.Components) == 0 {
		return nil, emptyCPDError(name)
	}
	return &c, nil
}

func emptyCPDError(name string) *ValidationError {
	return newError(name+".components", CodeInvalid,
		"must not be the Empty CPD: "+name+" needs at least one component (RFC 8921 §8.7)")
}

// cpdError converts an error of cpd.Parse into a ValidationError whose Field
// is the member name followed by the *cpd.Error's Path
// ("requested_cpd.components[0].qos"). Kinds map as KindType →
// CodeWrongType, KindRange → CodeOutOfRange, KindMissing → CodeMissing, and
// any other kind (syntax, conflict) or any other error → CodeInvalid.
func cpdError(name string, err error) *ValidationError {
	var ce *cpd.Error
	if !errors.As(err, &ce) {
		return &ValidationError{Field: name, Code: CodeInvalid, Detail: "invalid CPD: " + err.Error(), Err: err}
	}
	path := name
	if ce.Path != "" {
		path += "." + ce.Path
	}
	code := CodeInvalid
	switch ce.Kind {
	case cpd.KindType:
		code = CodeWrongType
	case cpd.KindRange:
		code = CodeOutOfRange
	case cpd.KindMissing:
		code = CodeMissing
	default:
	}
	return &ValidationError{Field: path, Code: code, Detail: ce.Detail, Err: err}
}

// appendCPD appends the canonical encoding of c (cpd's Canonical: compact,
// deterministic, no raw newline, see docs/cpd.md) straight into dst.
// Validate has already checked c (or the caller vouches for it,
// AppendTrusted), so the encoding is not validated a second time.
func appendCPD(dst []byte, name string, c *cpd.CPD) ([]byte, error) {
	b, err := c.AppendCanonical(dst)
	if err != nil {
		return dst, fmt.Errorf("encode %s: %w", name, err)
	}
	return b, nil
}
