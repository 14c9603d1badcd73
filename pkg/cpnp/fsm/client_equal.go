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

package fsm

import (
	"reflect"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// sameClientOrder reports whether reflect.DeepEqual(*a, *b) holds. Step
// asks it after every step to decide whether the order changed and so
// must be persisted (write-ahead, DESIGN §4; RFC 8921 §8.11). It gives
// DeepEqual's answer without DeepEqual's cost on the common path (two
// boxed orders and a visited map per step): Step is copy-on-write, so a
// record the step did not change is the very same pointer, slice or map in
// both orders, which is equal without looking inside; only records that
// differ by identity are compared deeply, with reflect.DeepEqual.
// TestSameClientOrder keeps it in step with ClientOrder's fields.
func sameClientOrder(a, b *ClientOrder) bool {
	return a.State == b.State &&
		a.CustomerOrderID == b.CustomerOrderID &&
		a.ProviderOrderID == b.ProviderOrderID &&
		sameRequest(&a.Request, &b.Request) &&
		samePtr(a.Update, b.Update) &&
		sameTxn(&a.Txn, &b.Txn) &&
		samePtr(a.ExpectedOfferTime, b.ExpectedOfferTime) &&
		samePtr(a.ExtensionLimit, b.ExtensionLimit) &&
		samePtr(a.PendingExtension, b.PendingExtension) &&
		samePtr(a.Offer, b.Offer) &&
		samePtr(a.Agreement, b.Agreement) &&
		samePtr(a.Activation, b.Activation) &&
		a.WithdrawAcked == b.WithdrawAcked &&
		samePtr(a.Failure, b.Failure) &&
		sameTimers(a.Timers, b.Timers)
}

func sameRequest(a, b *Request) bool {
	return sameCPD(a.CPD, b.CPD) &&
		samePtr(a.ExpectedResponseTime, b.ExpectedResponseTime) &&
		samePtr(a.InformationElements, b.InformationElements)
}

func sameTxn(a, b *Transaction) bool {
	return a.Kind == b.Kind &&
		a.ID == b.ID &&
		a.Counters == b.Counters &&
		samePtr(a.Unanswered, b.Unanswered) &&
		a.Retries == b.Retries &&
		a.LastReceived == b.LastReceived &&
		samePtr(a.LastAnswer, b.LastAnswer)
}

// samePtr is reflect.DeepEqual(a, b) for two pointers: the same pointer
// (nil included) is equal, a nil and a non-nil one are not, and two others
// are equal when what they point to is.
func samePtr[T any](a, b *T) bool {
	switch {
	case a == b:
		return true
	case a == nil || b == nil:
		return false
	}
	return reflect.DeepEqual(a, b)
}

// sameCPD is reflect.DeepEqual(a, b): the same non-empty component slice
// is equal without comparing its components.
func sameCPD(a, b cpd.CPD) bool {
	switch {
	case a.Components == nil && b.Components == nil:
		return true
	case len(a.Components) > 0 && len(a.Components) == len(b.Components) && &a.Components[0] == &b.Components[0]:
		return true
	}
	return reflect.DeepEqual(a, b)
}

// sameTimers is reflect.DeepEqual(a, b) for timer maps.
func sameTimers(a, b map[TimerID]time.Time) bool {
	switch {
	case (a == nil) != (b == nil) || len(a) != len(b):
		return false
	case len(a) == 0 || reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer():
		return true
	}
	for id, t := range a {
		u, ok := b[id]
		if !ok {
			return false
		}
		// == compares the Location by pointer; DeepEqual by value.
		if t != u && !reflect.DeepEqual(t, u) {
			return false
		}
	}
	return true
}
