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

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// result is what one in-process run of cpnpctl produced.
type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, IOStreams{In: bytes.NewReader(stdin), Out: &out, ErrOut: &errOut})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// TestWireExamplePipe runs `cpnpctl wire example M | cpnpctl wire decode`
// for all 11 methods, naming them in several ways.
// Reference: RFC 8921 §9.2, Table 1.
func TestWireExamplePipe(t *testing.T) {
	t.Parallel()
	for _, m := range wire.Methods {
		for _, name := range []string{strings.ToLower(m.String()), m.String(), strconv.Itoa(int(m))} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ex := runCLI(t, nil, "wire", "example", name)
				if ex.code != 0 || ex.stderr != "" {
					t.Fatalf("wire example %s: exit %d, stderr %q; want 0 and nothing", name, ex.code, ex.stderr)
				}
				want, err := wire.Encode(wire.Example(m))
				if err != nil {
					t.Fatal(err)
				}
				if got := ex.stdout; got != string(want)+"\n" {
					t.Fatalf("wire example %s printed %q, want the canonical example and a newline", name, got)
				}
				dec := runCLI(t, []byte(ex.stdout), "wire", "decode")
				if dec.code != 0 || dec.stderr != "" {
					t.Fatalf("wire decode: exit %d, stderr %q; want 0 and nothing", dec.code, dec.stderr)
				}
				if diff := cmp.Diff(ex.stdout, dec.stdout); diff != "" {
					t.Errorf("decode of the canonical form is not the identity (-example +decode):\n%s", diff)
				}
			})
		}
	}
}

// TestWireDecodeSources reads from a file, from "-" and from standard input,
// with and without --pretty.
func TestWireDecodeSources(t *testing.T) {
	t.Parallel()
	canonical, err := wire.Encode(wire.Example(wire.MethodOffer))
	if err != nil {
		t.Fatal(err)
	}
	pretty := runCLI(t, nil, "wire", "example", "offer", "--pretty")
	if pretty.code != 0 || !strings.Contains(pretty.stdout, "\n  \"method_code\": 3,\n") {
		t.Fatalf("wire example --pretty: exit %d, output %q; want indented JSON", pretty.code, pretty.stdout)
	}
	path := filepath.Join(t.TempDir(), "offer.json")
	if err := os.WriteFile(path, []byte(pretty.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	want := string(canonical) + "\n"
	tests := []struct {
		name  string
		stdin []byte
		args  []string
		want  string
	}{
		{"file", nil, []string{"wire", "decode", path}, want},
		{"dash", []byte(pretty.stdout), []string{"wire", "decode", "-"}, want},
		{"stdin", []byte(pretty.stdout), []string{"wire", "decode"}, want},
		{"pretty round trip", []byte(pretty.stdout), []string{"wire", "decode", "--pretty"}, pretty.stdout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := runCLI(t, tt.stdin, tt.args...)
			if got.code != 0 || got.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", got.code, got.stderr)
			}
			if diff := cmp.Diff(tt.want, got.stdout); diff != "" {
				t.Errorf("output mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// edited returns the canonical example of m with raw JSON edits applied
// textually to its first occurrence.
func edited(t *testing.T, m wire.Method, old, replacement string) []byte {
	t.Helper()
	b, err := wire.Encode(wire.Example(m))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("example %v does not contain %q", m, old)
	}
	return bytes.Replace(b, []byte(old), []byte(replacement), 1)
}

// TestWireDecodeErrors: every kind of invalid message exits 1 with its own
// message on standard error that names the problem; an unknown member is
// accepted.
// Reference: RFC 8921 §9.2 (version 1, Table 1), §10; DESIGN §3.
func TestWireDecodeErrors(t *testing.T) {
	t.Parallel()
	huge := append(edited(t, wire.MethodCancel, "}", `,"padding":"`), bytes.Repeat([]byte("x"), wire.DefaultMaxMessageSize)...)
	huge = append(huge, `"}`...)
	tests := []struct {
		name  string
		stdin []byte
		args  []string
		want  []string // substrings of stderr
	}{
		{"version 2", edited(t, wire.MethodCancel, `"version":1`, `"version":2`), nil,
			[]string{"version: unsupported version 2"}},
		{"method 12", edited(t, wire.MethodCancel, `"method_code":7`, `"method_code":12`), nil,
			[]string{"method_code: unknown method code 12"}},
		{"missing member", edited(t, wire.MethodQuotation, `"sequence_number":3172,`, ``), nil,
			[]string{"sequence_number: missing mandatory member of QUOTATION"}},
		{"missing CPD", []byte(strings.Split(string(edited(t, wire.MethodOffer, `"offered_cpd"`, `"x"`)), `,"x"`)[0] + "}"), nil,
			[]string{"offered_cpd: missing mandatory member of OFFER"}},
		{"wrong type", edited(t, wire.MethodCancel, `"sequence_number":3173`, `"sequence_number":"3173"`), nil,
			[]string{"sequence_number: must be an integer, got string"}},
		{"oversize input", huge, nil,
			[]string{"message is larger than the limit of 1048576 bytes"}},
		{"oversize for --max-size", edited(t, wire.MethodCancel, "}", "}"), []string{"--max-size", "100"},
			[]string{"message is larger than the limit of 100 bytes"}},
		{"not JSON", []byte("QUOTATION please"), nil,
			[]string{"invalid JSON at byte offset", "invalid character 'Q'"}},
		{"no such file", nil, []string{filepath.Join(t.TempDir(), "missing.json")},
			[]string{"missing.json: no such file or directory"}},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := runCLI(t, tt.stdin, append([]string{"wire", "decode"}, tt.args...)...)
		if got.code != 1 {
			t.Errorf("%s: exit %d, want 1", tt.name, got.code)
		}
		if got.stdout != "" {
			t.Errorf("%s: stdout %q, want nothing", tt.name, got.stdout)
		}
		if !strings.HasPrefix(got.stderr, "cpnpctl: ") || strings.Count(got.stderr, "\n") != 1 {
			t.Errorf("%s: stderr %q, want one line starting with \"cpnpctl: \"", tt.name, got.stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(got.stderr, w) {
				t.Errorf("%s: stderr %q, want it to contain %q", tt.name, got.stderr, w)
			}
		}
		if other, dup := seen[got.stderr]; dup {
			t.Errorf("%s and %s print the same error %q", tt.name, other, got.stderr)
		}
		seen[got.stderr] = tt.name
	}

	// Reference: RFC 8921 §1 and DESIGN §3: unknown members are ignored.
	got := runCLI(t, edited(t, wire.MethodCancel, `{`, `{"x_future_ie":{"a":[1]},`), "wire", "decode")
	want, _ := wire.Encode(wire.Example(wire.MethodCancel))
	if got.code != 0 || got.stdout != string(want)+"\n" {
		t.Errorf("unknown member: exit %d, stdout %q, stderr %q; want 0 and the canonical CANCEL", got.code, got.stdout, got.stderr)
	}
}

// TestWireUsageErrors: usage errors exit 1 with a message.
func TestWireUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown method", []string{"wire", "example", "quote"}, `unknown method "quote"`},
		{"method code 12", []string{"wire", "example", "12"}, `unknown method "12"`},
		{"no method", []string{"wire", "example"}, "accepts 1 arg(s), received 0"},
		{"two files", []string{"wire", "decode", "a", "b"}, "accepts at most 1 arg(s), received 2"},
		{"unknown verb", []string{"wire", "encode"}, `unknown command "encode"`},
		{"unknown flag", []string{"wire", "decode", "--strict"}, "unknown flag: --strict"},
	}
	for _, tt := range tests {
		got := runCLI(t, nil, tt.args...)
		if got.code != 1 || !strings.Contains(got.stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", tt.name, got.code, got.stderr, tt.want)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"wire", "decode", "--help"}, "cpnpctl wire example quotation | cpnpctl wire decode"},
		{[]string{"wire"}, "cpnpctl wire [command]"},
		{[]string{"--help"}, "wire        Validate and show CPNP messages"},
	}
	for _, tt := range tests {
		got := runCLI(t, nil, tt.args...)
		if got.code != 0 || !strings.Contains(got.stdout, tt.want) {
			t.Errorf("%v: exit %d, stdout %q; want 0 and %q", tt.args, got.code, got.stdout, tt.want)
		}
	}
}
