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

// Package clock is the time source of the shells (engines, transport,
// controllers) of the CPNP library. The pure cores (fsm, wire, cpd, session)
// read no clock: the shells read this one and pass the time into them in
// events and arguments (DESIGN §4, STYLE §2). Tests replace Real with
// cpnptest.FakeClock to drive RETRANS_TIMER (RFC 8921 §8.5, §11.4),
// EXPECTED_RESPONSE_TIME, EXPECTED_OFFER_TIME and VALIDITY_OFFER_TIME
// (§8.5) without sleeping.
package clock
