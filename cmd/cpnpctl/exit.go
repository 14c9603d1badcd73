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

package main

import "errors"

// Exit statuses (docs/cpnpctl.md).
const (
	statusOK     = 0
	statusError  = 1
	statusFailed = 2
)

// exitError is an error with its own exit status: statusFailed when the
// order ended Cancelled or its transaction failed while the verb waited
// for its outcome.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode is the exit status for the error a command returned.
func exitCode(err error) int {
	if err == nil {
		return statusOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return statusError
}
