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

// Package cpd is the Connectivity Provisioning Document model: the RFC 7297
// Connectivity Provisioning Profile (CPP) template that CPNP messages carry
// as the Requested, Offered and Accepted CPD (RFC 8921 §8.7, §9.1.9.1; RFC
// 7297 §3, §4). The JSON mapping is DESIGN §3; docs/cpd.md documents every
// member.
//
// The package provides:
//
//   - the model: a CPD is a list of Components, each with the 13 clauses of
//     RFC 7297 §3, numeric members being a Value that is fixed or loosely
//     defined {min, max} (RFC 8921 §8.7);
//   - Parse, a strict decoder (typed *Error with a JSON path and an
//     ErrorKind; unknown members ignored; size and depth bounded; never
//     panics), and Validate for CPDs built in Go;
//   - a canonical encoding (MarshalJSON, Canonical) and Equal, so that "the
//     ACK carries the offered CPD" (RFC 8921 §9.2.6, Tables 5 and 6) is a byte
//     comparison;
//   - Empty and IsEmpty (the Empty CPD of §9.2.6), Concrete and Loose (§8.7);
//   - Satisfies, which says clause by clause whether an offer meets a
//     request and why not, and Score/Better to rank offers from several
//     servers (§8.10);
//   - Sample and SampleConcrete, a realistic request and a matching offer.
//
// The package is a pure core (STYLE §2): no clock, no randomness, no I/O.
package cpd
