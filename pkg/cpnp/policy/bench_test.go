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

package policy

import (
	"fmt"
	"testing"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// BenchmarkDecide measures one decision (and the release of its offer) with
// 100 tenants drawing from 10 pools, 1000 agreements standing, for a request
// with quantitative QoS, availability and two components.
func BenchmarkDecide(b *testing.B) {
	cfg := Config{}
	for i := range 10 {
		pool := wanPool()
		pool.Name = fmt.Sprint("pool", i)
		pool.Capacity = Capacity{IncomingBps: 100 * gbps, OutgoingBps: 100 * gbps}
		cfg.Pools = append(cfg.Pools, pool)
	}
	for i := range 100 {
		cfg.Tenants = append(cfg.Tenants, Tenant{
			Identity:       fmt.Sprint("tenant", i),
			Pools:          []string{fmt.Sprint("pool", i%10), fmt.Sprint("pool", (i+1)%10), fmt.Sprint("pool", (i+3)%10)},
			MaxOutgoingBps: i64(10 * gbps),
		})
	}
	p := mustNew(b, cfg)
	for i := range 1000 {
		commitOrder(b, p, fmt.Sprint("agreement", i), fmt.Sprint("tenant", i%100), mbps, mbps)
	}
	reqs := make([]Request, 100)
	for i := range reqs {
		reqs[i] = quote(fmt.Sprint("bench", i), fmt.Sprint("tenant", i), cpd.Sample())
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := reqs[i%len(reqs)]
		if d := p.Decide(r); d.Outcome != OutcomeOffer {
			b.Fatalf("Decide: got %s (%s), want Offer", d.Outcome, d.Reason)
		}
		p.Release(r.ProviderOrderID)
	}
}
