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

// Validate reports a schedule that cannot work.
func (r Retransmit) Validate() error {
	var errs []error
	if r.Timer <= 0 {
		errs = append(errs, errors.New("retransmit: timer must be positive"))
	}
	if r.Backoff < 1 {
		errs = append(errs, errors.New("retransmit: backoff must be at least 1"))
	}
	if r.MaxRetries < 0 {
		errs = append(errs, errors.New("retransmit: maxRetries must not be negative"))
	}
	if r.MaxTimer < 0 {
		errs = append(errs, errors.New("retransmit: maxTimer must not be negative"))
	}
	return errors.Join(errs...)
}

// Delay is how long to wait for a reply after the send numbered attempt
// (0 = the original send, 1 = the first retransmission, ...).
func (r Retransmit) Delay(attempt int) time.Duration {
	d := float64(r.Timer)
	for i := 0; i < attempt; i++ {
		d *= r.Backoff
		if r.MaxTimer > 0 && d >= float64(r.MaxTimer) {
			return r.MaxTimer
		}
	}
	if r.MaxTimer > 0 && time.Duration(d) > r.MaxTimer {
		return r.MaxTimer
	}
	return time.Duration(d)
}

// Exhausted reports whether attempt sends (the original plus retransmissions)
// already used every retry, so that no further retransmission is allowed.
func (r Retransmit) Exhausted(retransmissions int) bool { return retransmissions >= r.MaxRetries }
