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
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// cmpOpts compares messages; CPDs are compared by their canonical encoding,
// which is what "equal CPD" means on the wire (Table 5, ACK carries the
// offered CPD).
var cmpOpts = cmp.Options{
	cmp.Comparer(cpd.Equal),
}

// mustEncode encodes m or fails the test.
func mustEncode(t testing.TB, m Message) []byte {
	t.Helper()
	b, err := Encode(m)
	if err != nil {
		t.Fatalf("Encode(%v): %v", m, err)
	}
	return b
}

// mustCPD parses a CPD literal or fails the test.
func mustCPD(t testing.TB, text string) *cpd.CPD {
	t.Helper()
	c, err := cpd.Parse([]byte(text))
	if err != nil {
		t.Fatalf("cpd.Parse(%s): %v", text, err)
	}
	return &c
}

// edit returns the encoding of Example(m) with the top-level members of set
// replaced or added (values are raw JSON) and those of del removed.
func edit(t testing.TB, m Method, set map[string]string, del ...string) []byte {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(mustEncode(t, Example(m)), &obj); err != nil {
		t.Fatalf("unmarshal example: %v", err)
	}
	for k, v := range set {
		obj[k] = json.RawMessage(v)
	}
	for _, k := range del {
		delete(obj, k)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("marshal edited example: %v", err)
	}
	return b
}

// asValidation returns err as a *ValidationError or fails the test.
func asValidation(t testing.TB, err error) *ValidationError {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got error %v (%T), want a *ValidationError", err, err)
	}
	return ve
}

// verdict is the part of a ValidationError that tests compare.
type verdict struct {
	Field string
	Code  ValidationCode
}

func verdictOf(t testing.TB, err error) verdict {
	t.Helper()
	if err == nil {
		return verdict{}
	}
	ve := asValidation(t, err)
	return verdict{Field: ve.Field, Code: ve.Code}
}
