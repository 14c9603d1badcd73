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
	"errors"
	"testing"
)

// Reference: RFC 8921 §8.11.1 and §8.11.2: states are named verbatim after
// Figures 8 and 9.
func TestStateNames(t *testing.T) {
	t.Parallel()
	for _, s := range ClientStates {
		if s.String() != string(s) || s.String() == "" {
			t.Errorf("client state %q: got String() %q", string(s), s.String())
		}
	}
	for _, s := range ServerStates {
		if s.String() != string(s) || s.String() == "" {
			t.Errorf("server state %q: got String() %q", string(s), s.String())
		}
	}
	if len(ClientStates) != 9 || len(ServerStates) != 14 {
		t.Errorf("got %d client and %d server states, want 9 and 14", len(ClientStates), len(ServerStates))
	}
}

// Every shared action satisfies Action (the shells switch on the type).
func TestSharedActions(t *testing.T) {
	t.Parallel()
	for _, a := range []Action{Send{}, StartTimer{}, StopTimer{}, Persist{}, Transition{}, Discard{}, Alarm{}} {
		a.isAction()
	}
}

func TestConfigError(t *testing.T) {
	t.Parallel()
	err := error(&ConfigError{Field: "f", Value: 1, Reason: "must be 2"})
	if got, want := err.Error(), "f 1: must be 2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("got errors.Is false, want true")
	}
	if errors.Is(err, errors.New("other")) {
		t.Errorf("matched an unrelated error")
	}
}
