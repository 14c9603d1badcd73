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

package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/store"
)

type order struct {
	ProviderOrderID string `json:"providerOrderID"`
	State           string `json:"state"`
}

// Example shows the server engine's use: it submits the new state of an
// order without waiting, and sends the message that depends on it only
// once the done callback reports it durable (write-ahead, DESIGN §4). The
// callback never blocks: it records the outcome and wakes the engine.
func Example() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	s, err := store.Open(filepath.Join(dir, "data"), store.Options{}) // creates the directory
	if err != nil {
		panic(err)
	}
	defer s.Close()
	orders, err := store.NewRepo(s, "orders", func(o order) map[string]string {
		return map[string]string{"provider": o.ProviderOrderID}
	})
	if err != nil {
		panic(err)
	}

	var mu sync.Mutex
	var durable []string
	wake := make(chan struct{}, 1)
	op, err := orders.Put("prov-1", order{ProviderOrderID: "prov-1", State: "OfferProposed"})
	if err != nil {
		panic(err)
	}
	err = s.Write(context.Background(), []store.Op{op}, func(err error) {
		if err == nil {
			mu.Lock()
			durable = append(durable, "prov-1")
			mu.Unlock()
		}
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	if err != nil {
		panic(err)
	}

	<-wake // the engine's select loop would pick this up with its other events
	mu.Lock()
	fmt.Println("durable, now send the OFFER for", durable)
	mu.Unlock()

	e, err := orders.LookupOne("provider", "prov-1")
	if err != nil {
		panic(err)
	}
	fmt.Println(e.ID, e.Revision, e.Value.State)
	// Output:
	// durable, now send the OFFER for [prov-1]
	// prov-1 1 OfferProposed
}
