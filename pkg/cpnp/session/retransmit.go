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
	"math"
	"time"
)

// Default retransmission settings (DESIGN §3: RETRANS_TIMER 1 s doubling, 3 retries).
const (
	DefaultRetransTimer = time.Second
	DefaultMaxRetries   = 3
	DefaultBackoff      = 2.0
)

// Retransmit is the RETRANS_TIMER schedule of RFC 8921 §8.5 and §11.4: a
// message that gets no expected reply is sent again after Timer, then after
// Timer*Backoff, and so on, at most MaxRetries times.
type Retransmit struct {
	// Timer is RETRANS_TIMER, the wait before the first retransmission.
	Timer time.Duration `json:"timer"`
	// Backoff multiplies the wait after each retransmission (1 = constant).
	Backoff float64 `json:"backoff"`
	// MaxRetries is the maximum number of retransmissions (§11.4 "e.g., three times").
	MaxRetries int `json:"maxRetries"`
	// MaxTimer caps a single wait; 0 means no cap.
	MaxTimer time.Duration `json:"maxTimer,omitempty"`
}

// DefaultRetransmit returns the DESIGN §3 defaults.
func DefaultRetransmit() Retransmit {
	return Retransmit{Timer: DefaultRetransTimer, Backoff: DefaultBackoff, MaxRetries: DefaultMaxRetries}
}

// Validate reports a schedule that cannot work: one *ConfigError per bad
// field, joined; every one matches ErrInvalidConfig.
func (r Retransmit) Validate() error {
	var errs []error
	if r.Timer <= 0 {
		errs = append(errs, &ConfigError{Field: "retransmit.timer", Value: r.Timer, Reason: "must be positive"})
	}
	if !(r.Backoff >= 1) || math.IsInf(r.Backoff, 1) { // also rejects NaN
		errs = append(errs, &ConfigError{Field: "retransmit.backoff", Value: r.Backoff, Reason: "must be a finite number of at least 1"})
	}
	if r.MaxRetries < 0 {
		errs = append(errs, &ConfigError{Field: "retransmit.maxRetries", Value: r.MaxRetries, Reason: "must not be negative"})
	}
	if r.MaxTimer < 0 {
		errs = append(errs, &ConfigError{Field: "retransmit.maxTimer", Value: r.MaxTimer, Reason: "must not be negative"})
	}
	return errors.Join(errs...)
}

// Delay is how long to wait for a reply after the send numbered attempt
// (0 = the original send, 1 = the first retransmission, ...): Timer *
// Backoff^attempt, capped at MaxTimer when it is set. It is O(1) in attempt.
// A wait that does not fit in a time.Duration saturates at the largest
// Duration instead of overflowing, so a long schedule without MaxTimer never
// yields a negative (that is, immediate) timer. A negative attempt counts as 0.
func (r Retransmit) Delay(attempt int) time.Duration {
	if attempt < 0 {
		attempt = 0
	}
	d := float64(r.Timer) * math.Pow(r.Backoff, float64(attempt))
	if r.MaxTimer > 0 && !(d <= float64(r.MaxTimer)) {
		return r.MaxTimer
	}
	if !(d < math.MaxInt64) { // also catches NaN from a Backoff that Validate rejects
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}

// Exhausted reports whether retransmissions, the number of retransmissions
// already sent for a message (not counting the original send), has used
// every retry, so that no further retransmission is allowed (§11.4: "The
// procedure is reiterated until a maximum retry is reached").
func (r Retransmit) Exhausted(retransmissions int) bool { return retransmissions >= r.MaxRetries }
