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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// TestScanMalformed drives the walkers with input that json.Valid would
// have refused: they report errMalformed and never panic.
func TestScanMalformed(t *testing.T) {
	t.Parallel()
	objects := []string{``, `x`, `{`, `{"a"`, `{"a" 1}`, `{"a":}`, `{"a":1`, `{"a":1 x`, `{"a":"b`, `{"a":{"b":1}`, `{1:2}`, `{"a\`}
	for _, in := range objects {
		err := forEachMember([]byte(in), func(_, _ []byte) error { return nil })
		if !errors.Is(err, errMalformed) {
			t.Errorf("forEachMember(%q) = %v, want errMalformed", in, err)
		}
	}
	arrays := []string{``, `x`, `[`, `[1`, `[1 2]`, `[1,`, `["a]`, `[{]`}
	for _, in := range arrays {
		err := forEachElement([]byte(in), func(int, []byte) error { return nil })
		if !errors.Is(err, errMalformed) {
			t.Errorf("forEachElement(%q) = %v, want errMalformed", in, err)
		}
	}
	for _, in := range []string{``, `"`, `x`, `"\"`} {
		if _, err := unquote([]byte(in)); err == nil {
			t.Errorf("unquote(%q): got nil error, want one", in)
		}
	}
	if _, err := unquote([]byte(`"\x"`)); err == nil {
		t.Error(`unquote("\x"): got nil error, want one`)
	}
	if _, err := memberName([]byte(`"`)); err == nil {
		t.Error(`memberName("): got nil error, want one`)
	}
	if _, err := skipValue([]byte(`,`), 0); !errors.Is(err, errMalformed) {
		t.Errorf("skipValue(,) = %v, want errMalformed", err)
	}
}

// TestScanWellFormed walks nested values, escapes and whitespace.
func TestScanWellFormed(t *testing.T) {
	t.Parallel()
	type kv struct{ Name, Value string }
	var got []kv
	obj := " {\"a\" : [1, {\"x\": \"]}\\\"\"}] ,\n\"b\\u0062\":\"s\" , \"c\":-1.5e3,\"d\":{}} "
	err := forEachMember(trimSpace([]byte(obj)), func(name, value []byte) error {
		n, err := memberName(name)
		got = append(got, kv{string(n), string(value)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []kv{{"a", `[1, {"x": "]}\""}]`}, {"bb", `"s"`}, {"c", `-1.5e3`}, {"d", `{}`}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	var elems []string
	if err := forEachElement([]byte(`[ ]`), func(_ int, v []byte) error { elems = append(elems, string(v)); return nil }); err != nil || elems != nil {
		t.Errorf("forEachElement([ ]) = %v, %v; want no elements", elems, err)
	}
}

func TestJSONKindAndTruncate(t *testing.T) {
	t.Parallel()
	kinds := map[string]string{
		``: "nothing", `"a"`: "string", `{}`: "object", `[]`: "array", `true`: "boolean", `false`: "boolean",
		`null`: "null", `12`: "integer", `-1`: "integer", `1.5`: "number with a fraction or exponent", `1E3`: "number with a fraction or exponent",
	}
	for in, want := range kinds {
		if got := jsonKind([]byte(in)); got != want {
			t.Errorf("jsonKind(%q) = %q, want %q", in, got, want)
		}
	}
	if got := truncate("short"); got != "short" {
		t.Errorf("truncate(short) = %q", got)
	}
	long := strings.Repeat("é", 30) // 60 bytes: byte 40 is a rune boundary
	if got := truncate(long); got != strings.Repeat("é", 20)+"..." {
		t.Errorf("truncate(%q) = %q", long, got)
	}
	odd := "x" + strings.Repeat("é", 30) // byte 40 is inside a rune
	if got := truncate(odd); got != "x"+strings.Repeat("é", 19)+"..." {
		t.Errorf("truncate(%q) = %q", odd, got)
	}
}

// TestCPDErrorUnwrap: the *cpd.Error behind a CPD member's ValidationError
// stays reachable with errors.As.
// Reference: RFC 7297 §3 (CPD clauses), RFC 8921 §9.1.9.1.
func TestCPDErrorUnwrap(t *testing.T) {
	t.Parallel()
	_, err := Decode(edit(t, MethodOffer, map[string]string{
		"offered_cpd": `{"components":[{"customer_nodes":[{"identifier":"a"}],"qos":{"loss_ratio":{"min":0.5,"max":0.1}}}]}`,
	}))
	var ce *cpd.Error
	if !errors.As(err, &ce) {
		t.Fatalf("errors.As(%v, *cpd.Error) = false, want true", err)
	}
	if ve := asValidation(t, err); !strings.HasPrefix(ve.Field, "offered_cpd."+ce.Path) {
		t.Errorf("Field %q does not extend the CPD path %q", ve.Field, ce.Path)
	}
	// A non-*cpd.Error from the CPD model is CodeInvalid on the member.
	plain := errors.New("boom")
	ve := cpdError("cpd", plain)
	if ve.Field != "cpd" || ve.Code != CodeInvalid || !errors.Is(ve, plain) {
		t.Errorf("cpdError(plain) = %+v, want Field cpd, CodeInvalid, wrapping the error", ve)
	}
	ve = cpdError("cpd", &cpd.Error{Kind: cpd.KindSyntax, Detail: "x"})
	if ve.Field != "cpd" || ve.Code != CodeInvalid {
		t.Errorf("cpdError(root syntax) = %+v, want Field cpd, CodeInvalid", ve)
	}
}
