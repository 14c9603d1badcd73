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

package cpd_test

import (
	"errors"
	"fmt"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

func ExampleParse() {
	c, err := cpd.Parse([]byte(`{"components":[{"customer_nodes":[{"identifier":"ce-par-1"}],
		"capacity":{"outgoing_bps":{"min":100000000}},"qos":{"class":"gold"}}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	in, out := c.Capacity()
	fmt.Println(c.Concrete(), c.Loose(), in, out)
	fmt.Println(string(c.Canonical()))
	// Output:
	// false [components[0].capacity.outgoing_bps] absent >=100000000
	// {"components":[{"customer_nodes":[{"identifier":"ce-par-1"}],"qos":{"class":"gold"},"capacity":{"outgoing_bps":{"min":100000000}}}]}
}

func ExampleParse_error() {
	_, err := cpd.Parse([]byte(`{"components":[{"customer_nodes":[{"identifier":"ce1"}],
		"qos":{"class":"gold","one_way_delay_ms":10}}]}`))
	var e *cpd.Error
	if errors.As(err, &e) {
		fmt.Println(e.Kind, e.Path)
		fmt.Println(err)
	}
	// Output:
	// conflict components[0].qos
	// components[0].qos: qualitative class and quantitative bounds are exclusive (RFC 7297 §3.3)
}

func ExampleSatisfies() {
	requested := cpd.Sample()
	offer := cpd.SampleConcrete()
	fmt.Println(cpd.Satisfies(offer, requested) == nil)

	offer.Components[0].QoS.OneWayDelayMs = cpd.Fixed(45)
	for _, m := range cpd.Satisfies(offer, requested) {
		fmt.Println(m)
	}
	// Output:
	// true
	// components[0].qos.one_way_delay_ms: offered 45 exceeds the requested maximum 30 (requested <=30, offered 45; QoS Guarantees, RFC 7297 §3.3)
}

func ExampleEqual() {
	offered := cpd.SampleConcrete()
	// The server's ACK carries a copy of the offered CPD (RFC 8921 §9.2.6).
	acked, _ := cpd.Parse(offered.Canonical())
	fmt.Println(cpd.Equal(offered, acked), cpd.Equal(cpd.Empty(), cpd.CPD{}))
	// Output: true true
}

func ExampleValue() {
	for _, v := range []cpd.Value{cpd.Fixed(1500), cpd.AtLeast(99.9), cpd.AtMost(30), cpd.Between(1e8, 2e8)} {
		b, _ := v.MarshalJSON()
		fmt.Println(v, v.IsFixed(), string(b))
	}
	// Output:
	// 1500 true 1500
	// >=99.9 false {"min":99.9}
	// <=30 false {"max":30}
	// 100000000..200000000 false {"min":100000000,"max":200000000}
}

func ExampleBetter() {
	requested := cpd.Sample()
	a, b := cpd.SampleConcrete(), cpd.SampleConcrete()
	b.Components[0].QoS.OneWayDelayMs = cpd.Fixed(10) // lower delay than a's 20
	fmt.Println(cpd.Better(b, a, requested), cpd.Better(a, b, requested))
	// Output: true false
}
