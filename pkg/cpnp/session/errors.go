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

package session

import (
	"errors"
	"fmt"
)

// ErrInvalidConfig is matched (errors.Is) by every error that a Validate
// method in this package returns.
var ErrInvalidConfig = errors.New("invalid session configuration")

// ConfigError reports one configuration field that cannot work. Validate
// methods join one ConfigError per bad field (errors.Join), so a caller sees
// every problem at once; errors.As finds the first.
type ConfigError struct {
	// Field names the field, prefixed with its struct ("retransmit.timer").
	Field string
	// Value is the rejected value.
	Value any
	// Reason says what the field must be ("must be positive").
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s %v: %s", e.Field, e.Value, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }
