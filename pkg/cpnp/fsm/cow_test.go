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
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Step is copy-on-write: the order it returns shares the records that it
// did not change (CPDs, messages, information elements, agreements, the
// timer map) with its input, which is sound only because neither the
// machines nor their shells modify a record in place (see ServerOrder and
// ClientOrder). These helpers enforce both halves on every step that the
// transition tests and the fuzz targets take: the input is unchanged, and
// Clone of the output is a private copy, so that changing everything
// reachable from it changes neither the input nor the output.

// checkCopyOnWrite fails when prev differs from snapshot (a Clone of prev
// taken before the step), or when scribbling over a Clone of next changes
// prev or next.
func checkCopyOnWrite[O interface{ ServerOrder | ClientOrder }](snapshot, prev, next O, clone func(O) O) error {
	if diff := cmp.Diff(snapshot, prev); diff != "" {
		return fmt.Errorf("step modified its input order (-before +after):\n%s", diff)
	}
	prevJSON, err := json.Marshal(prev)
	if err != nil {
		return fmt.Errorf("marshal input: %w", err)
	}
	nextJSON, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("marshal output: %w", err)
	}
	c := clone(next)
	scribble(reflect.ValueOf(&c).Elem())
	if err := sameJSON(prev, prevJSON); err != nil {
		return fmt.Errorf("changing a clone of the output changed the input: %w", err)
	}
	if err := sameJSON(next, nextJSON); err != nil {
		return fmt.Errorf("changing a clone of the output changed the output: %w", err)
	}
	return nil
}

// sameJSON reports how the encoding of v differs from want.
func sameJSON(v any, want []byte) error {
	got, err := json.Marshal(v)
	switch {
	case err != nil:
		return fmt.Errorf("it no longer encodes: %w", err)
	case string(got) != string(want):
		return fmt.Errorf("got %s, want %s", got, want)
	}
	return nil
}

var timeType = reflect.TypeFor[time.Time]()

// scribble changes every exported leaf reachable from v in place: strings,
// numbers, booleans, times, and the values of maps.
func scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			scribble(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanSet() {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Hour)))
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				scribble(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			scribble(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			scribble(e)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(v.String() + "~")
		}
	case reflect.Bool:
		if v.CanSet() {
			v.SetBool(!v.Bool())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.CanSet() {
			v.SetInt(v.Int() + 1)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.CanSet() {
			v.SetUint(v.Uint() + 1)
		}
	case reflect.Float32, reflect.Float64:
		if v.CanSet() {
			v.SetFloat(v.Float() + 1)
		}
	default:
	}
}
