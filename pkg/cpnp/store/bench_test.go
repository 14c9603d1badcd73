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

package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// benchSubmitters is the number of goroutines per GOMAXPROCS that submit
// writes in the parallel benchmarks (b.SetParallelism).
const benchSubmitters = 16

// benchOrder is a record the size of a server order with a CPD.
var benchOrder = func() []byte {
	b, _ := json.Marshal(map[string]any{
		"state": "OfferProposed", "providerOrderID": "prov-0123456789", "customerOrderID": "cust-42",
		"transactionID": strings.Repeat("ab", 16), "nonce": strings.Repeat("cd", 16), "seq": 12345,
		"cpd": map[string]any{"components": []any{map[string]any{
			"customer_nodes": []any{map[string]string{"identifier": "ce-par-1", "link_identifier": "pe1:xe-0/0/1"}},
			"capacity":       map[string]int{"incoming_bps": 100000000, "outgoing_bps": 100000000},
			"qos":            map[string]string{"class": "gold"},
		}}},
	})
	return b
}()

func benchOps(n uint64) []Op {
	id := "prov-" + strconv.FormatUint(n, 10)
	return []Op{Put("orders", id, benchOrder, map[string]string{"provider": id, "cancel": IndexKey("acme", id, "t1")})}
}

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkWriteGroupCommit: many submitters each wait for their own write
// (WriteSync) through the group committer. Compare with
// BenchmarkWriteOneFsyncEach, the same load with one transaction and one
// fsync per write: the ratio is what group commit buys (DESIGN §4: the
// engine never pays one fsync per message).
func BenchmarkWriteGroupCommit(b *testing.B) {
	s := openBench(b)
	var n atomic.Uint64
	b.SetParallelism(benchSubmitters)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := s.WriteSync(ctx, benchOps(n.Add(1))...); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	st := s.Stats()
	b.ReportMetric(float64(st.Acknowledged)/float64(max(st.Commits, 1)), "writes/fsync")
}

// BenchmarkWriteOneFsyncEach is the baseline: the same submitters, each
// write in its own bbolt transaction (db.Update, one fsync each).
func BenchmarkWriteOneFsyncEach(b *testing.B) {
	s := openBench(b)
	var n atomic.Uint64
	b.SetParallelism(benchSubmitters)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ops := benchOps(n.Add(1))
			if err := s.db.Update(func(tx *bolt.Tx) error { return s.apply(tx, ops) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(1, "writes/fsync")
}

// BenchmarkWriteAsyncOneSubmitter is the server engine's pattern: one
// goroutine submits with Write and a done callback and never waits for the
// disk; ns/op is the throughput of the whole pipeline, including the final
// flush.
func BenchmarkWriteAsyncOneSubmitter(b *testing.B) {
	s := openBench(b)
	var acked atomic.Uint64
	done := func(err error) {
		if err != nil {
			b.Error(err)
		}
		acked.Add(1)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.Write(ctx, benchOps(uint64(i)), done); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.WriteSync(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if got := acked.Load(); got != uint64(b.N) {
		b.Fatalf("acknowledged %d writes, want %d", got, b.N)
	}
	st := s.Stats()
	b.ReportMetric(float64(st.Acknowledged)/float64(max(st.Commits, 1)), "writes/fsync")
}
