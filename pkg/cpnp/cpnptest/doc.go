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

// Package cpnptest holds test doubles for the CPNP library and its users, in
// the spirit of etcd raft's rafttest: a fake clock (FakeClock) that tests move
// by hand to fire RETRANS_TIMER and the other timers of RFC 8921 §8.5 and
// §11.4 without sleeping, a seeded loopback relay (Relay) that drops,
// duplicates, reorders and delays datagrams between DTLS peers (DESIGN §7),
// and ready test certificates (NewPKI: a CA, a localhost server certificate
// and client certificates by name).
//
// It is imported only from tests (and test helpers of other packages); it
// never appears in a production binary.
package cpnptest
