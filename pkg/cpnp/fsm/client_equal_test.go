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
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// richClientOrder is an order with every field set: an UPDATE cycle in
// progress on an agreement, with every optional record present.
func richClientOrder(t *testing.T) ClientOrder {
	t.Helper()
	o := clFxUpdating(t).o
	o.ExpectedOfferTime = clAtp(3 * time.Hour)
	o.ExtensionLimit = clAtp(4 * time.Hour)
	o.PendingExtension = clAtp(5 * time.Hour)
	o.Activation = &wire.Schedule{At: clAt(6 * time.Hour)}
	o.Failure = &Failure{StatusCode: wire.StatusCode(7), Reason: "MoreTimeRejected", Txn: TxnUpdate, At: clAt(time.Hour)}
	o.WithdrawAcked = true
	o.Txn.LastAnswer = o.Txn.Unanswered
	o.Txn.Retries = 1
	return o
}

// TestSameClientOrder checks that sameClientOrder, which decides whether a
// step changed the order and so persists it (write-ahead, DESIGN §4), gives
// reflect.DeepEqual's answer: for an order and itself, for a deep copy, and
// for a copy with any one leaf changed or any one record removed.
// Reference: RFC 8921 §8.11.1 (the order), §8.11 (permanent storage).
func TestSameClientOrder(t *testing.T) {
	t.Parallel()
	o := richClientOrder(t)
	for _, f := range []struct {
		typ  reflect.Type
		want int
	}{
		// A new field must be compared by sameClientOrder (or sameRequest,
		// sameTxn) before this count is changed.
		{reflect.TypeFor[ClientOrder](), 15},
		{reflect.TypeFor[Request](), 3},
		{reflect.TypeFor[Transaction](), 7},
	} {
		if got := f.typ.NumField(); got != f.want {
			t.Errorf("%s has %d fields, sameClientOrder compares %d: got %d, want %d", f.typ, got, f.want, got, f.want)
		}
	}
	check := func(name string, a, b ClientOrder) {
		t.Helper()
		if got, want := sameClientOrder(&a, &b), reflect.DeepEqual(a, b); got != want {
			t.Errorf("%s: got sameClientOrder %v, want %v (reflect.DeepEqual)", name, got, want)
		}
	}
	check("itself", o, o)
	check("clone", o, o.Clone())
	check("zero", ClientOrder{}, ClientOrder{})
	check("zero and order", ClientOrder{}, o)
	empty := ClientOrder{Timers: map[TimerID]time.Time{}}
	check("nil and empty timers", ClientOrder{}, empty)
	leaves := 0
	for i := 0; ; i++ {
		c, n := o.Clone(), i
		if !mutateLeaf(reflect.ValueOf(&c).Elem(), &n) {
			break
		}
		leaves++
		check(fmt.Sprintf("leaf %d", i), o, c)
		check(fmt.Sprintf("leaf %d reversed", i), c, o)
	}
	if leaves < 40 {
		t.Errorf("got %d leaves of the rich order, want at least 40", leaves)
	}
	v := reflect.ValueOf(&o).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer || f.Kind() == reflect.Map {
			c := o
			reflect.ValueOf(&c).Elem().Field(i).SetZero()
			check("nil "+v.Type().Field(i).Name, o, c)
		}
	}
	c := o
	c.Timers = map[TimerID]time.Time{TimerRetransmit: o.Timers[TimerRetransmit].In(time.FixedZone("X", 0))}
	check("timer in another location", o, c)
}

// mutateLeaf changes the *n-th leaf reachable from v (strings, numbers,
// booleans, times, map values) and reports whether there was one; *n
// counts down the leaves it passes.
func mutateLeaf(v reflect.Value, n *int) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && mutateLeaf(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == timeType {
			if *n == 0 {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Millisecond)))
				return true
			}
			*n--
			return false
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && mutateLeaf(v.Field(i), n) {
				return true
			}
		}
		return false
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if mutateLeaf(v.Index(i), n) {
				return true
			}
		}
		return false
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			if mutateLeaf(e, n) {
				v.SetMapIndex(k, e)
				return true
			}
		}
		return false
	}
	if *n > 0 {
		*n--
		return false
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "~")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(v.Float() + 1)
	default:
		return false
	}
	return true
}
