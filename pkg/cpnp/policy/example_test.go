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

package policy_test

import (
	"fmt"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
)

// A standalone server loads policy.yaml, decides a QUOTATION, and commits
// the offer once the ACCEPT is acknowledged (RFC 8921 §11.2.1).
func Example() {
	cfg, err := policy.Load("testdata/policy.yaml")
	if err != nil {
		panic(err)
	}
	p, err := policy.New(cfg)
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	req := policy.Request{
		Kind:            policy.RequestQuotation,
		Identity:        "acme",
		ProviderOrderID: "p-1",
		Requested: cpd.CPD{Components: []cpd.Component{{
			CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-par-1"}},
			QoS:           &cpd.QoS{OneWayDelayMs: cpd.AtMost(30)},
			Capacity:      &cpd.Capacity{OutgoingBps: cpd.Between(100e6, 800e6)},
		}}},
		At: at,
	}
	d := p.Decide(req)
	b, _ := d.Offered.MarshalJSON()
	fmt.Println(d.Outcome, d.Pool, d.Partial, d.ValidUntil.Sub(at))
	fmt.Println(string(b))
	p.Commit("p-1")
	fmt.Printf("%+v\n", p.Holdings())
	// Output:
	// Offer wan false 5m0s
	// {"components":[{"customer_nodes":[{"identifier":"ce-par-1"}],"qos":{"one_way_delay_ms":10,"delay_variation_ms":2,"loss_ratio":0.0001},"capacity":{"outgoing_bps":500000000}}]}
	// [{ProviderOrderID:p-1 Identity:acme Pool:wan IncomingBps:0 OutgoingBps:500000000 State:Committed Expires:0001-01-01 00:00:00 +0000 UTC}]
}
