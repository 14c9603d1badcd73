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
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// benchModes are the commit paths compared in one run: the journal (one
// fdatasync of a preallocated file per commit) and NoJournal (one synced
// bbolt transaction per commit).
var benchModes = []struct {
	name string
	opts Options
}{
	{"journal", Options{}},
	{"nojournal", Options{NoJournal: true}},
}

func openBench(b *testing.B, opts Options) *Store {
	b.Helper()
	s, err := Open(b.TempDir(), opts)
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
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) { benchWriteGroupCommit(b, m.opts) })
	}
}

func benchWriteGroupCommit(b *testing.B, opts Options) {
	s := openBench(b, opts)
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
	b.ReportMetric(float64(st.Commits)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkWriteOneFsyncEach is the baseline: the same submitters, each
// write in its own bbolt transaction (db.Update, one fsync each).
func BenchmarkWriteOneFsyncEach(b *testing.B) {
	s := openBench(b, Options{NoJournal: true})
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
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) { benchWriteAsyncOneSubmitter(b, m.opts) })
	}
}

func benchWriteAsyncOneSubmitter(b *testing.B, opts Options) {
	s := openBench(b, opts)
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

// BenchmarkWriteSyncLatency: one caller, one WriteSync at a time (cpnpctl,
// and the server engine when it is idle): every write pays a whole commit.
// It reports the latency percentiles of one WriteSync and the commits per
// second, and allocs/op is the allocation of one durable write including
// its share of the checkpoints.
func BenchmarkWriteSyncLatency(b *testing.B) {
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) {
			s := openBench(b, m.opts)
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				if err := s.WriteSync(ctx, benchOps(uint64(i))...); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
			b.ReportMetric(pct(0.50), "p50-µs")
			b.ReportMetric(pct(0.99), "p99-µs")
			st := s.Stats()
			b.ReportMetric(float64(st.Commits)/b.Elapsed().Seconds(), "commits/s")
			b.ReportMetric(float64(st.Checkpoints), "checkpoints")
		})
	}
}

// BenchmarkOpenNew is the cost of creating a store in an empty directory,
// journal included (it is zero-filled and synced once).
func BenchmarkOpenNew(b *testing.B) {
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) {
			for range b.N {
				s, err := Open(b.TempDir(), m.opts)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
