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
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Parse must decide exactly as the decoder it replaced (refParse,
// decode_ref_test.go): the same CPD, or the same *Error, Detail included,
// since wire maps the path and kind of a CPD error to a FAIL status code and
// peers see the detail (RFC 8921 §13, DESIGN §3).

// diffReference returns "" when Parse and refParse agree on data, else a
// description of the difference. It also compares Value.UnmarshalJSON, and
// the canonical encoding of the parsed CPD with the former encoder.
func diffReference(data []byte) string {
	got, err := Parse(data)
	want, wantErr := refParse(data)
	if d := diffResults(got, err, want, wantErr); d != "" {
		return "Parse: " + d
	}
	if err == nil {
		if d := diffEncoding(got); d != "" {
			return "Canonical of the parsed CPD: " + d
		}
	}
	var v Value
	err = v.UnmarshalJSON(data)
	var wantV Value
	if !isNull(data) {
		wantV, wantErr = refUnmarshalValue(data)
	} else {
		wantErr = nil
	}
	if d := diffResults(v, err, wantV, wantErr); d != "" {
		return "Value.UnmarshalJSON: " + d
	}
	return ""
}

func diffResults[T any](got T, err error, want T, wantErr error) string {
	if (err == nil) != (wantErr == nil) {
		return "got error " + errString(err) + ", reference error " + errString(wantErr)
	}
	if err == nil {
		return cmp.Diff(want, got)
	}
	var e, we *Error
	if !errors.As(err, &e) || !errors.As(wantErr, &we) {
		return "got error " + errString(err) + ", reference error " + errString(wantErr) + ": want both *cpd.Error"
	}
	return cmp.Diff(*we, *e)
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return strconv.Quote(err.Error())
}

// equivalenceInputs are inputs that reach every branch of the scanner and
// of the decoder: every JSON syntax error at every kind of position (each
// token state, inside each kind of scalar, at the end of input), every type
// error, escapes and invalid UTF-8 in values and in member names, depth and
// duplicates.
func equivalenceInputs() []string {
	in := []string{
		// Empty, whitespace, top level.
		``, ` `, "\t\r\n ", `{`, `}`, `]`, `[`, `:`, `,`, `x`, `"`, `"x"`, `1`, `-`, `true`, `tru`, `nul`, `null`, `false`, `fals`,
		`[]`, `[1]`, `{}`, `{} `, `{}x`, `{}}`, `{}]`, `{},`, `{}:`, `{}"`, `{}"a"`, `{}1`, `{}-`, `{}{}`, `{}[]`, `{}true`, `{}nul`, `{}tr`,
		"\xef\xbb\xbf{}", "\x00", "\xff",
		// Punctuation in each token state.
		`{1}`, `{{`, `{[`, `{]`, `{,`, `{:`, `{"a"}`, `{"a",}`, `{"a"1}`, `{"a"::1}`, `{"a":}`, `{"a":,}`, `{"a":]`, `{"a":1,}`,
		`{"a":1 "b":2}`, `{"a":1:}`, `{"a":1]`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":[1 2]}`, `{"a":[1:2]}`, `{"a":[1}`, `{"a":{]}`,
		`{"a":{"b"}}`, `{"a":[[]],}`, `{"a":[[],]}`, `{"a":[{},{}],"b":[}`, `{"a":1}}`, `{"a":1}]`,
		// Scalars: each scanner error.
		`{"a":-}`, `{"a":-x}`, `{"a":01}`, `{"a":1.}`, `{"a":1.x}`, `{"a":1e}`, `{"a":1e+}`, `{"a":1E-x}`, `{"a":1ex}`, `{"a":.5}`,
		`{"a":+1}`, `{"a":1.5e3}`, `{"a":-0.0e-0}`, `{"a":tx}`, `{"a":trx}`, `{"a":trux}`, `{"a":truex}`, `{"a":fx}`, `{"a":fax}`,
		`{"a":falx}`, `{"a":falsx}`, `{"a":nx}`, `{"a":nux}`, `{"a":nulx}`, `{"a":nullx}`, `{"a":"\x01"}`, `{"a":"\q"}`, `{"a":"\u12"}`,
		`{"a":"\u12x4"}`, `{"a":"\uD83D\uDE00"}`, "{\"a\":\"\t\"}", `{"a":'x'}`, `{"a":"x`, `{"a":"x\`, `{"a":"\u`, `{"a":"\u0`,
		`{"a":1`, `{"a":-`, `{"a":1.`, `{"a":1e`, `{"a":1e-`, `{"a":t`, `{"a":fa`, `{"a":n`, `{"a"`, `{"a":`, `{"a":[`, `{"a":[1`, `{"a":[1,`,
		`{"\x01":1}`, `{"\q":1}`, `{"a\`, `{"a`,
		// The scalar byte count of an error offset runs over earlier scalars.
		`{"components":[],"abc":"defgh","n":123,"t":true,"bad":"\x02"}`,
		`{"x":[1,2,3,"four",null,false],"y":1.5x}`,
		// Depth.
		`{"components":[],"x":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`,
		`{"components":[],"x":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
		`{"components":[],"x":` + strings.Repeat(`{"y":`, MaxDepth) + `1` + strings.Repeat("}", MaxDepth) + `}`,
		strings.Repeat("[", MaxDepth+2),
		wrap(`,"capacity":{"incoming_bps":{"min":1,"x":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + "}}"),
		// Types of every member.
		`{"components":{}}`, `{"components":null}`, `{"components":"x"}`, `{"components":1}`, `{"components":true}`,
		`{"components":[1]}`, `{"components":[[]]}`, `{"components":[null]}`, `{"components":[{"customer_nodes":{}}]}`,
		`{"components":[{"customer_nodes":[1]}]}`, `{"components":[{"customer_nodes":[{"identifier":1}]}]}`,
		`{"components":[{"customer_nodes":[{"identifier":"a","link_identifier":[],"localization":{},"site_identifier":null}]}]}`,
		`{"components":[{"customer_nodes":[{"identifier":"a","site_identifier":false}]}]}`,
		wrap(`,"scope":[]`), wrap(`,"scope":{"model":1}`), wrap(`,"scope":{"ingress":"x"}`), wrap(`,"scope":{"egress":[1]}`),
		wrap(`,"scope":{"incoming":[]}`), wrap(`,"scope":{"outgoing":{"global":"x"}}`), wrap(`,"scope":{"outgoing":{"prefixes":{}}}`),
		wrap(`,"qos":1`), wrap(`,"qos":{"class":{}}`), wrap(`,"qos":{"one_way_delay_ms":"1"}`), wrap(`,"qos":{"delay_variation_ms":[]}`),
		wrap(`,"qos":{"loss_ratio":{"min":null}}`), wrap(`,"qos":{"loss_ratio":{"max":"1"}}`), wrap(`,"qos":{"loss_ratio":{"min":1,"min":2}}`),
		wrap(`,"qos":{"loss_ratio":true}`), wrap(`,"qos":{"bound":1}`), wrap(`,"qos":{"percentile":"1"}`),
		wrap(`,"availability":"x"`), wrap(`,"availability":{"percent":"x"}`), wrap(`,"availability":{"percent":1,"bound":2}`),
		wrap(`,"capacity":null`), wrap(`,"capacity":{"incoming_bps":null}`), wrap(`,"capacity":{"outgoing_bps":[]}`),
		wrap(`,"traffic_isolation":[]`), wrap(`,"traffic_isolation":{"required":"yes"}`), wrap(`,"traffic_isolation":{"means":1}`),
		wrap(`,"conformance":1`), wrap(`,"conformance":{"out_of_profile":1}`), wrap(`,"conformance":{"remark_class":true}`),
		wrap(`,"conformance":{"mtu":"1500"}`), wrap(`,"flow_identification":{}`), wrap(`,"flow_identification":[1]`),
		wrap(`,"flow_identification":[{"source_prefix":1}]`), wrap(`,"flow_identification":[{"source_port":"1"}]`),
		wrap(`,"flow_identification":[{"destination_prefix":[]}]`), wrap(`,"flow_identification":[{"destination_port":1.5}]`),
		wrap(`,"flow_identification":[{"protocol":1e300}]`), wrap(`,"flow_identification":[{"dscp":-1e16}]`),
		wrap(`,"flow_identification":[{"tunnel_endpoint":1}]`), wrap(`,"flow_identification":[{"link_identifier":null}]`),
		wrap(`,"flow_identification":[{"remark_dscp":"x"}]`), wrap(`,"flow_identification":[{"dscp":1e400}]`),
		wrap(`,"flow_identification":[{"dscp":9007199254740993}]`), wrap(`,"flow_identification":[{"dscp":-9007199254740992}]`),
		wrap(`,"overall_guarantees":[]`), wrap(`,"overall_guarantees":{"delay":1}`), wrap(`,"overall_guarantees":{"loss":[]}`),
		wrap(`,"overall_guarantees":{"throughput":{}}`), wrap(`,"routing":"x"`), wrap(`,"routing":{"avoid":"x"}`),
		wrap(`,"routing":{"via":[1]}`), wrap(`,"routing":{"geographic_restrictions":{}}`), wrap(`,"routing":{"topology":1}`),
		wrap(`,"routing":{"forwarding_behavior":[]}`), wrap(`,"routing":{"backup_paths":"x"}`), wrap(`,"routing":{"backup_paths":null}`),
		wrap(`,"activation_means":{}`), wrap(`,"activation_means":["x",null]`), wrap(`,"invocation_means":[]`),
		wrap(`,"notifications":[]`), wrap(`,"notifications":{"means":"x"}`), wrap(`,"notifications":{"events":[{}]}`),
		wrap(`,"notifications":{"interval_s":"x"}`), wrap(`,"notifications":{"data_model":1}`), wrap(`,"notifications":{"destination":true}`),
		wrap(`,"qos":{"loss_ratio":1e400}`), wrap(`,"qos":{"loss_ratio":{"min":-1e400}}`), wrap(`,"qos":{"loss_ratio":1e-400}`),
		wrap(`,"qos":{"loss_ratio":{}}`), wrap(`,"qos":{"loss_ratio":{"x":1}}`), wrap(`,"qos":{"loss_ratio":{"min":0.1,"x":[1,{"y":2}]}}`),
		// Duplicates, known and unknown, at every level; escaped names.
		`{"components":[],"components":[]}`, `{"components":[],"comp\u006fnents":[]}`, `{"x":1,"x":2,"components":[]}`,
		wrap(`,"qos":{"class":"a"},"qos":{"class":"b"}`), wrap(`,"scope":{"model":"1:1","model":"1:N"}`),
		`{"components":[{"customer_nodes":[{"identifier":"a","identifier":"b"}]}]}`,
		`{"\u0063omponents":[{"customer_nodes":[{"identifier":"a"}],"q\u006fs":{"class":"gold"}}]}`,
		"{\"components\":[{\"customer_nodes\":[{\"identifier\":\"a\"}],\"qos\xff\":[1,2}]}",
		"{\"components\":[{\"customer_nodes\":[{\"identifier\":\"a\"}],\"\\ud800\":[1,2}]}",
		`{"components":[{"customer_nodes":[{"identifier":"a"}],"x\ty":1}]}`,
		`{"components":[{"customer_nodes":[{"identifier":"a"}],"x\"y":[}]}`,
		`{"components":[{"customer_nodes":[{"identifier":"a"}]}],"\u00e9\ud83d\ude00\ud800\u0041":[}`,
		// Strings: escapes, surrogates, invalid UTF-8 (replaced by U+FFFD).
		`{"components":[{"customer_nodes":[{"identifier":"\ud800"}]}]}`,
		`{"components":[{"customer_nodes":[{"identifier":"\udc00\ud800\ud800\udc00"}]}]}`,
		`{"components":[{"customer_nodes":[{"identifier":"\ud83d\u0041"}]}]}`,
		`{"components":[{"customer_nodes":[{"identifier":"\ud83dx"}]}]}`,
		`{"components":[{"customer_nodes":[{"identifier":"\"\\\/\b\f\n\r\t\u0000\u001f\u007f\u00FF\uFFFF"}]}]}`,
		"{\"components\":[{\"customer_nodes\":[{\"identifier\":\"a\xffb\xc3\"}]}]}",
		"{\"components\":[{\"customer_nodes\":[{\"identifier\":\"\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf\"}]}]}",
		"{\"components\":[{\"customer_nodes\":[{\"identifier\":\"\xef\xbf\xbd\xe2\x80\xa8\"}]}]}",
		"{\"components\":[{\"customer_nodes\":[{\"identifier\":\"\xe2\x82\"}]}]}",
		"{\"components\":[{\"customer_nodes\":[{\"identifier\":\"\\n\xff\"}]}]}",
		"{\"components\":[{\"customer_nodes\":[{\"identifier\":\"a\"}],\"activation_means\":[\"\xff\",\"\\u00e9\"]}]}",
		`{"components":[],"a_member_name_longer_than_any_known_one":[1,}`, wrap(`,"scope":{"incoming":{"global":`),
		wrap(`,"scope":{"incoming":{"global":t`), wrap(`,"activation_means":["a",`), wrap(`,"activation_means":["a"`),
		// Semantics after syntax: missing, range and conflict errors.
		`{}`, `{"x":1}`, `{"components":[]}`, `{"components":[{}]}`, `{"components":[],"x":[1,"a",{"b":null}]}`,
		wrap(`,"qos":{"class":"gold","loss_ratio":0.1}`), wrap(`,"capacity":{"incoming_bps":{"min":10,"max":1}}`),
		// Trailing data after an invalid CPD: the decoding error comes first.
		`{"components":[{}]} x`, `{"components":1} x`,
	}
	for _, c := range []CPD{Empty(), Sample(), SampleConcrete(), full(), benchCPD()} {
		in = append(in, string(c.Canonical()))
	}
	in = append(in, fullJSON, " \n"+fullJSON+"\t\r\n", strings.ReplaceAll(fullJSON, ",", " ,\n "), strings.ReplaceAll(fullJSON, ":", "\t: "))
	// Every prefix of a document: end of input at every position.
	doc := wrap(`,"qos":{"one_way_delay_ms":{"min":1.5e1,"max":30},"bound":"average"},"x":[true,false,null,"\u00e9"],` +
		`"flow_identification":[{"dscp":-0,"source_prefix":"10.0.0.0/8"}]`)
	for i := range doc {
		in = append(in, doc[:i])
	}
	// Values alone (Value.UnmarshalJSON).
	in = append(in, `5`, `-0`, `{"min":1}`, `{"max":2,"min":1}`, `{}`, `{"x":1}`, `null`, ` null `, `"5"`, `[1]`, `5 5`, `{"min":1}x`, `1e400`)
	return in
}

// TestParseMatchesReference checks Parse against the reference decoder on
// inputs chosen to reach every syntax, type and path case.
// Reference: DESIGN §3 (structurally invalid messages); RFC 8921 §9.1.9.1.
func TestParseMatchesReference(t *testing.T) {
	t.Parallel()
	for _, in := range equivalenceInputs() {
		if d := diffReference([]byte(in)); d != "" {
			t.Errorf("input %q: new and reference decoders disagree (-reference +new):\n%s", in, d)
		}
	}
}

// FuzzParseEquivalence checks that Parse and the decoder it replaced agree
// on every input: the same CPD, or the same *Error (path, kind and detail);
// and so do Value.UnmarshalJSON and its former version, and the canonical
// encoder and its former version on what Parse accepts.
// Reference: RFC 8921 §9.1.9.1; DESIGN §3.
func FuzzParseEquivalence(f *testing.F) {
	for _, in := range equivalenceInputs() {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if d := diffReference(data); d != "" {
			t.Fatalf("input %q: new and reference decoders disagree (-reference +new):\n%s", data, d)
		}
	})
}
