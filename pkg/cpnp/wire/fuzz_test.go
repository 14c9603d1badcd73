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
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzDecode from corpusSeeds")

// FuzzDecode: Decode never panics; what it accepts is valid, encodes, and
// round-trips; Encode is a fixed point; Identify agrees with Decode.
// Reference: RFC 8921 §10 (every peer input is validated); STYLE §4 (Fuzz).
func FuzzDecode(f *testing.F) {
	for _, seed := range corpusSeeds(f) {
		f.Add(seed.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		txn, cust, method, identified := Identify(data)
		m, err := Decode(data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Decode error %v is a %T, want *ValidationError", err, err)
			}
			if ve.Identified() && (!identified || ve.TransactionID != txn || ve.CustomerOrderID != cust) {
				t.Fatalf("ValidationError names %q/%q, Identify = %q/%q/%v", ve.TransactionID, ve.CustomerOrderID, txn, cust, identified)
			}
			return
		}
		if !identified || txn != m.TransactionID || cust != m.CustomerOrderID || method != m.Method {
			t.Fatalf("Identify(valid message) = %q, %q, %v, %v; want %q, %q, %v, true",
				txn, cust, method, identified, m.TransactionID, m.CustomerOrderID, m.Method)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Decode returned a message that fails Validate: %v", err)
		}
		enc, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode(Decode(data)): %v", err)
		}
		if bytes.ContainsAny(enc, "\r\n") {
			t.Fatalf("Encode produced a raw newline: %q", enc)
		}
		if trusted, err := AppendTrusted(nil, m); err != nil || !bytes.Equal(trusted, enc) {
			t.Fatalf("AppendTrusted(valid m) = %q, %v; want Encode's %q", trusted, err, enc)
		}
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(m)): %v\n%s", err, enc)
		}
		if diff := cmp.Diff(m, m2, cmpOpts); diff != "" {
			t.Fatalf("Decode(Encode(m)) != m (-m +m2):\n%s", diff)
		}
		enc2, err := Encode(m2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("Encode is not a fixed point:\n%s\n%s (%v)", enc, enc2, err)
		}
	})
}

type seed struct {
	name string
	data []byte
}

// corpusSeeds are the examples of every method plus invalid and unusual
// messages; testdata/fuzz/FuzzDecode holds them in Go's corpus format.
func corpusSeeds(tb testing.TB) []seed {
	var seeds []seed
	for _, m := range Methods {
		seeds = append(seeds, seed{"example-" + strings.ToLower(m.String()), mustEncode(tb, Example(m))})
	}
	add := func(name string, data []byte) { seeds = append(seeds, seed{name, data}) }
	add("valid-deactivate", edit(tb, MethodActivate, map[string]string{"activation_schedule": `"0"`}))
	add("valid-ack-empty-cpd", edit(tb, MethodAck, map[string]string{"cpd": `{"components":[]}`}))
	add("valid-unknown-and-foreign-members", edit(tb, MethodCancel, map[string]string{
		"nonce": `7`, "x_future": `{"a":[1,{"b":null}]}`, "Version": `"x"`,
	}))
	add("valid-escapes-and-offset", []byte(`{"version":1,"method_code":6,"sequence_number":0,`+
		`"transaction_id":"8F14E45FCEEA167A5A36DEDD4BEA2543","customer_order_identifier":"a\"\u00e9\n\u2028",`+
		`"provider_order_identifier":"p","expected_response_time":"2026-11-22T01:24:25.123456+02:00",`+
		`"information_elements":{"customer_description":{"name":"<&>","contact":{"telephone_numbers":["1",""]}},"negotiation_options":{"scope":"local"}}}`+"\r\n"))
	add("invalid-version-2", edit(tb, MethodCancel, map[string]string{"version": "2"}))
	add("invalid-method-12", edit(tb, MethodCancel, map[string]string{"method_code": "12"}))
	add("invalid-missing-requested-cpd", edit(tb, MethodQuotation, nil, "requested_cpd"))
	add("invalid-seq-string", edit(tb, MethodCancel, map[string]string{"sequence_number": `"1"`}))
	add("invalid-seq-fraction", edit(tb, MethodCancel, map[string]string{"sequence_number": `1.5`}))
	add("invalid-seq-too-big", edit(tb, MethodCancel, map[string]string{"sequence_number": `4294967296`}))
	add("invalid-reasons", edit(tb, MethodDecline, map[string]string{"reasons": `[1,1,9]`}))
	add("invalid-cpd-qos-conflict", edit(tb, MethodOffer, map[string]string{
		"offered_cpd": `{"components":[{"customer_nodes":[{"identifier":"a"}],"qos":{"class":"gold","loss_ratio":0.1}}]}`,
	}))
	add("invalid-duplicate-member", []byte(`{"version":1,"version":1,"method_code":7}`))
	add("invalid-trailing-data", append(edit(tb, MethodCancel, nil), "x"...))
	add("invalid-not-object", []byte(`[{"version":1}]`))
	add("invalid-deep-nesting", []byte(`{"x":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`}`))
	add("invalid-utf8", []byte("{\"version\":1,\"customer_order_identifier\":\"\xc3\x28\"}"))
	add("invalid-empty", []byte{})
	add("fragment-envelope", []byte(`{"cpnp_fragment":{"id":"0123456789abcdef","index":0,"count":2,"length":1300},"data":"eyJ2ZXJzaW9uIjox"}`))
	return seeds
}

// corpusFile renders data in the Go fuzzing corpus format.
func corpusFile(data []byte) []byte {
	return []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n")
}

// TestFuzzCorpus checks that testdata/fuzz/FuzzDecode holds every seed of
// corpusSeeds in Go's corpus format (run with -update-corpus to rewrite it).
// A seed whose content differs (for example because cpd.Sample changed) is
// only logged: the committed corpus stays a valid set of starting points.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for _, s := range corpusSeeds(t) {
		path := filepath.Join(dir, s.name)
		want := corpusFile(s.data)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("seed %s: %v (run go test -run TestFuzzCorpus -update-corpus)", s.name, err)
			continue
		}
		if !bytes.HasPrefix(got, []byte("go test fuzz v1\n[]byte(\"")) || !bytes.HasSuffix(got, []byte("\")\n")) {
			t.Errorf("seed %s is not in the Go corpus format: %.60q", s.name, got)
		}
		if !bytes.Equal(got, want) {
			t.Logf("seed %s differs from corpusSeeds (refresh with -update-corpus)", s.name)
		}
	}
}
