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
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// The engine decides on its goroutine while the admin API and metrics read
// Holdings, Held and Config, and a CapacityPool watch calls Update. Run with
// -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	cfg := simpleConfig(1_000_000)
	cfg.Pools[0].Approval = Approval{Mode: ApprovalThreshold, AboveBps: 900}
	p := mustNew(t, cfg)
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				hs := p.Holdings()
				if !slices.IsSortedFunc(hs, func(a, b Holding) int {
					if a.ProviderOrderID < b.ProviderOrderID {
						return -1
					}
					if a.ProviderOrderID > b.ProviderOrderID {
						return 1
					}
					return stateRank(a.State) - stateRank(b.State)
				}) {
					errs <- fmt.Errorf("Holdings not sorted: %v", hs)
					return
				}
				_ = p.Held()
				_ = p.Config()
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			select {
			case <-done:
				return
			default:
			}
			c := simpleConfig(1_000_000 + int64(i))
			c.Pools[0].Approval = cfg.Pools[0].Approval
			if err := p.Update(c); err != nil {
				errs <- err
				return
			}
		}
	})
	for i := range 2000 {
		id := fmt.Sprint("o", i%50)
		d := p.Decide(Request{Kind: RequestQuotation, Identity: "a", ProviderOrderID: id,
			Requested: capCPD(cpd.Value{}, bps(int64(i%1000))), At: t0.Add(time.Duration(i) * time.Second)})
		switch {
		case d.Outcome == OutcomeHold:
			if _, err := p.Approve(id, t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Errorf("Approve(%s): %v", id, err)
			}
		case i%3 == 0:
			p.Commit(id)
		case i%3 == 1:
			p.Release(id)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
