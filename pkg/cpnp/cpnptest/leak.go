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

package cpnptest

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// CheckGoroutines fails the test if goroutines started after this call are
// still running once the test and the cleanups registered after this call
// have finished (Go runs cleanups last-in first-out). Goroutines that end
// on their own are waited for up to 10 s, by polling; the poll interval is
// not an assertion. Tests that use it must not run in parallel with
// others, whose goroutines it would count.
func CheckGoroutines(tb testing.TB) {
	tb.Helper()
	before := goroutineIDs()
	tb.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			leaked := newGoroutines(before)
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				tb.Errorf("leaked %d goroutines:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			runtime.Gosched()
			time.Sleep(20 * time.Millisecond) // polling, not an assertion
		}
	})
}

func goroutineIDs() map[int]bool {
	ids := make(map[int]bool)
	for _, g := range goroutineStacks() {
		ids[goroutineID(g)] = true
	}
	return ids
}

// newGoroutines lists the stacks of goroutines not in before, except the
// testing framework's own.
func newGoroutines(before map[int]bool) []string {
	var out []string
	for _, g := range goroutineStacks() {
		if before[goroutineID(g)] ||
			strings.Contains(g, "testing.(*T).Run(") ||
			strings.Contains(g, "testing.(*T).Parallel(") ||
			strings.Contains(g, "testing.tRunner.func1") ||
			strings.Contains(g, "cpnptest.goroutineStacks(") {
			continue
		}
		out = append(out, g)
	}
	return out
}

func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// goroutineID parses the ID of "goroutine 123 [running]:".
func goroutineID(stack string) int {
	f := strings.Fields(stack)
	if len(f) < 2 {
		return -1
	}
	id, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return id
}
