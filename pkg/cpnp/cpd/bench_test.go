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

import "testing"

// benchCPD is about 1 KB encoded: Sample() plus a third component.
func benchCPD() CPD {
	c := Sample()
	c.Components = append(c.Components, Component{
		CustomerNodes: []CustomerNode{{Identifier: "ce-mrs-1", LinkIdentifier: "pe3-mrs:xe-0/0/2"}},
		QoS:           &QoS{Class: "gold"},
		Capacity:      &Capacity{IncomingBps: Fixed(10e6), OutgoingBps: Fixed(10e6)},
	})
	return c
}

func BenchmarkParse(b *testing.B) {
	data := benchCPD().Canonical()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseReference is BenchmarkParse with the decoder Parse used to
// have (decode_ref_test.go), measured in the same run for comparison.
func BenchmarkParseReference(b *testing.B) {
	data := benchCPD().Canonical()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := refParse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	c := benchCPD()
	b.SetBytes(int64(len(c.Canonical())))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCanonical and BenchmarkCanonicalReference compare the canonical
// encoder with the json.Marshal one it replaced (decode_ref_test.go).
func BenchmarkCanonical(b *testing.B) {
	c := benchCPD()
	b.SetBytes(int64(len(c.Canonical())))
	b.ReportAllocs()
	for b.Loop() {
		if c.Canonical() == nil {
			b.Fatal("no canonical encoding")
		}
	}
}

func BenchmarkCanonicalReference(b *testing.B) {
	c := benchCPD()
	b.SetBytes(int64(len(c.Canonical())))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := refEncode(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEqual(b *testing.B) {
	x, y := benchCPD(), benchCPD()
	b.ReportAllocs()
	for b.Loop() {
		if !Equal(x, y) {
			b.Fatal("Equal: got false, want true")
		}
	}
}

func BenchmarkSatisfies(b *testing.B) {
	off, req := SampleConcrete(), Sample()
	b.ReportAllocs()
	for b.Loop() {
		if ms := Satisfies(off, req); ms != nil {
			b.Fatal(ms)
		}
	}
}

// BenchmarkValidate checks a valid CPD, as wire.Encode and Parse do for
// every message: paths are spelled out only for an error, so this allocates
// nothing but the customer-node set.
func BenchmarkValidate(b *testing.B) {
	c := benchCPD()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Validate(true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConcrete walks every Value of a loose CPD (RFC 8921 §8.7).
func BenchmarkConcrete(b *testing.B) {
	c := benchCPD()
	b.ReportAllocs()
	for b.Loop() {
		if c.Concrete() {
			b.Fatal("Concrete: got true for the loose sample, want false")
		}
	}
}
