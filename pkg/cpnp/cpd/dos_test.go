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
	"fmt"
	"strings"
	"testing"
)

// manyNodes is a CPD of one component with n distinct customer nodes, close
// to the 1 MiB input limit for n = 40000: the largest list a peer can send.
func manyNodes(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"components":[{"customer_nodes":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"identifier":"ce-%d"}`, i)
	}
	b.WriteString(`]}]}`)
	return []byte(b.String())
}

// BenchmarkParseManyNodes guards against quadratic work on peer-controlled
// list sizes (RFC 8921 §13: means to defend against denial of service).
// With a pairwise duplicate check this took seconds per operation; with the
// set it is linear in the input.
func BenchmarkParseManyNodes(b *testing.B) {
	data := manyNodes(40000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseDuplicateNodeAmongMany checks the duplicate is still found, and
// reported at the later index, in a long list.
func TestParseDuplicateNodeAmongMany(t *testing.T) {
	t.Parallel()
	data := manyNodes(5000)
	data = []byte(strings.Replace(string(data), `"ce-4999"`, `"ce-17"`, 1))
	_, err := Parse(data)
	want := `components[0].customer_nodes[4999].identifier: duplicate identifier "ce-17"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want an error starting %q", err, want)
	}
}

// TestSatisfiesManyNodes compares two long node lists; the result must be
// exact (no mismatch for identical sets, one per missing node).
func TestSatisfiesManyNodes(t *testing.T) {
	t.Parallel()
	req, err := Parse(manyNodes(20000))
	if err != nil {
		t.Fatal(err)
	}
	if m := Satisfies(req, req); len(m) != 0 {
		t.Fatalf("got %d mismatches for identical CPDs, want 0", len(m))
	}
	off, err := Parse(manyNodes(19999))
	if err != nil {
		t.Fatal(err)
	}
	m := Satisfies(off, req)
	if len(m) != 1 || m[0].Path != "components[0].customer_nodes[19999].identifier" {
		t.Fatalf("got %v, want one mismatch for the missing last node", m)
	}
}
