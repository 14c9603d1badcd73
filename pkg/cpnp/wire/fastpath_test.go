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
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// AppendTrusted writes exactly what Append writes for every valid message
// (the examples of all eleven methods of Table 1).
// Reference: RFC 8921 §9.2, Table 1; DESIGN §3 (canonical encoding).
func TestAppendTrustedValid(t *testing.T) {
	t.Parallel()
	for _, method := range Methods {
		t.Run(method.String(), func(t *testing.T) {
			t.Parallel()
			m := Example(method)
			want, err := Append([]byte("prefix:"), m)
			if err != nil {
				t.Fatalf("Append(Example(%s)): %v", method, err)
			}
			got, err := AppendTrusted([]byte("prefix:"), m)
			if err != nil || string(got) != string(want) {
				t.Errorf("AppendTrusted = %q, %v; want %q, nil", got, err, want)
			}
		})
	}
}

// AppendTrusted keeps the checks that select the member rules (version and
// method) and reports them as Append does; it does not validate members,
// omits those the method does not carry, and fails only on a CPD that has
// no encoding.
// Reference: RFC 8921 §9.2 (version 1), Table 1 (method codes).
func TestAppendTrustedChecks(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		edit func(*Message)
		// want is the ValidationError, or the zero verdict for none.
		want verdict
		// same is true when the result equals Append of the message after Strip.
		same bool
	}{
		"bad version":    {edit: func(m *Message) { m.Version = 2 }, want: verdict{MemberVersion, CodeBadVersion}},
		"unknown method": {edit: func(m *Message) { m.Method = 12 }, want: verdict{MemberMethodCode, CodeUnknownMethod}},
		"zero method":    {edit: func(m *Message) { m.Method = 0 }, want: verdict{MemberMethodCode, CodeUnknownMethod}},
		"member not carried is omitted": {
			edit: func(m *Message) { m.StatusCode = StatusOutOfResources },
			same: true,
		},
		"members are not validated": {
			edit: func(m *Message) { m.Nonce = "not hex" },
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := Example(MethodOffer)
			tt.edit(&m)
			got, err := AppendTrusted([]byte("prefix:"), m)
			if tt.want != (verdict{}) {
				if v := verdictOf(t, err); v != tt.want {
					t.Errorf("got %+v (%v), want %+v", v, err, tt.want)
				}
				if string(got) != "prefix:" {
					t.Errorf("got %q with the error, want the unchanged prefix", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("AppendTrusted: got error %v, want nil", err)
			}
			if tt.same {
				want := "prefix:" + string(mustEncode(t, m.Strip()))
				if string(got) != want {
					t.Errorf("got %q, want %q", got, want)
				}
			}
			if _, err := Decode(got[len("prefix:"):]); (err == nil) != tt.same {
				t.Errorf("Decode(AppendTrusted(m)): got error %v, want an error: %v", err, !tt.same)
			}
		})
	}
}

// A CPD holding a non-finite number has no JSON encoding (RFC 8259 §6):
// AppendTrusted reports it and leaves dst as it was.
func TestAppendTrustedNonFinite(t *testing.T) {
	t.Parallel()
	m := Example(MethodOffer)
	c := cpd.SampleConcrete()
	c.Components[0].Capacity = &cpd.Capacity{IncomingBps: cpd.Fixed(math.Inf(1))}
	m.OfferedCPD = &c
	got, err := AppendTrusted([]byte("prefix:"), m)
	if err == nil || string(got) != "prefix:" {
		t.Errorf("AppendTrusted(non-finite CPD) = %q, %v; want the unchanged prefix and an error", got, err)
	}
}

// The identifiers of a message (§9.1.1–§9.1.5) decode to the same strings
// whether or not they use JSON escapes: unescaped ones share one buffer,
// escaped ones are unquoted on their own.
// Reference: RFC 8921 §9.1.1–§9.1.5; RFC 8259 §7.
func TestDecodeIdentifiers(t *testing.T) {
	t.Parallel()
	want := Example(MethodAccept)
	tests := map[string]map[string]string{
		"plain":                             nil,
		"escaped customer order identifier": {"customer_order_identifier": `"` + strings.ReplaceAll(want.CustomerOrderID, "-", `\u002d`) + `"`},
		"escaped transaction ID and nonce": {
			"transaction_id": `"\u0038` + want.TransactionID[1:] + `"`,
			"nonce":          `"` + want.Nonce[:31] + `\u00` + hex.EncodeToString([]byte{want.Nonce[31]}) + `"`,
		},
	}
	for name, set := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(edit(t, MethodAccept, set))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
