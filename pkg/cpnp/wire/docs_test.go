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
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDocsMatchCode checks that the per-method tables of docs/wire.md §3
// list exactly the members, attributes and presence that the code enforces,
// so that the specification and the decoder cannot drift apart.
// Reference: RFC 8921 §9.2.1–§9.2.11.
func TestDocsMatchCode(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("..", "..", "..", "docs", "wire.md"))
	if err != nil {
		t.Fatalf("open docs/wire.md: %v", err)
	}
	defer f.Close()

	heading := regexp.MustCompile(`^### ([A-Z]+) \((\d+), (§9\.2\.\d+)\)$`)
	row := regexp.MustCompile("^\\| `([a-z_]+)` \\| ([A-Z_.]+) \\| (mandatory|optional) \\|")
	header := []MemberRule{
		{MemberVersion, "VERSION", true},
		{MemberMethodCode, "METHOD_CODE", true},
		{MemberSequenceNumber, "SEQUENCE_NUMBER", true},
		{MemberTransactionID, "TRANSACTION_ID", true},
		{MemberCustomerOrderID, "CUSTOMER_ORDER_IDENTIFIER", true},
	}
	got := map[Method][]MemberRule{}
	var current Method
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := heading.FindStringSubmatch(line); m != nil {
			method, ok := ParseMethod(m[1])
			if !ok {
				t.Fatalf("docs/wire.md: unknown method in %q", line)
			}
			if code, _ := strconv.Atoi(m[2]); Method(code) != method || method.Section() != m[3] {
				t.Errorf("docs/wire.md: heading %q, want code %d and %s", line, int(method), method.Section())
			}
			current = method
			continue
		}
		if len(line) > 2 && line[:2] == "##" {
			current = 0
		}
		if current == 0 {
			continue
		}
		if line == "| header | | mandatory | as above |" {
			got[current] = append(got[current], header...)
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil {
			got[current] = append(got[current], MemberRule{Name: m[1], Attribute: m[2], Mandatory: m[3] == "mandatory"})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, m := range Methods {
		if diff := cmp.Diff(m.Members(), got[m]); diff != "" {
			t.Errorf("docs/wire.md table for %v differs from the code (-code +docs):\n%s", m, diff)
		}
	}
}
