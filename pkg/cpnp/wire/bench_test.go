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

import "testing"

// The benchmarks use the examples of Example: a QUOTATION and an OFFER
// carrying a two-component CPD, about 1.2 KB each.

func benchmarkDecode(b *testing.B, m Method) {
	data := mustEncode(b, Example(m))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkEncode(b *testing.B, m Method) {
	msg := Example(m)
	b.SetBytes(int64(len(mustEncode(b, msg))))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkAppend encodes into a reused buffer, as the engines do, with
// the validating Append or with AppendTrusted.
func benchmarkAppend(b *testing.B, m Method, appendFn func([]byte, Message) ([]byte, error)) {
	msg := Example(m)
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(mustEncode(b, msg))))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = appendFn(buf[:0], msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendOffer(b *testing.B)        { benchmarkAppend(b, MethodOffer, Append) }
func BenchmarkAppendTrustedOffer(b *testing.B) { benchmarkAppend(b, MethodOffer, AppendTrusted) }

func BenchmarkDecodeQuotation(b *testing.B) { benchmarkDecode(b, MethodQuotation) }
func BenchmarkEncodeQuotation(b *testing.B) { benchmarkEncode(b, MethodQuotation) }
func BenchmarkDecodeOffer(b *testing.B)     { benchmarkDecode(b, MethodOffer) }
func BenchmarkEncodeOffer(b *testing.B)     { benchmarkEncode(b, MethodOffer) }

// BenchmarkDecodeInvalid measures the cost of refusing a message (a FAIL 1
// candidate): the error path must stay cheap under a flood.
func BenchmarkDecodeInvalid(b *testing.B) {
	data := edit(b, MethodOffer, map[string]string{"version": "2"})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err == nil {
			b.Fatal("got nil error")
		}
	}
}
