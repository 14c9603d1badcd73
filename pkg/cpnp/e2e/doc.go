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

/*
Package e2e proves the protocol library end to end: the real client engine
(package client) against the real server engine (package server, with its
durable store and the default policy) over real DTLS 1.2 on loopback. It
holds only tests and benchmarks; nothing in it is imported by a binary.

What the tests prove, each naming the RFC 8921 figure or section:

  - every flow figure of §9.2: Figure 6 (negotiation), Figures 11 and 12
    (more time granted, and refused with FAIL 7), Figure 13 (DECLINE),
    Figure 14 (WITHDRAW), Figure 15 (UPDATE, and a failed UPDATE cycle that
    keeps the agreement) and Figure 16 (ACTIVATE, and FAIL 8); offer expiry
    (§9.1.8) releasing the reservation;
  - transport session binding (DESIGN §4, §13): another identity presenting
    valid identifiers and nonce gets FAIL 3; refused handshakes (no client
    certificate, unknown CA on either side); a client that reconnects from
    a new port continues its order;
  - persistence (§8.11, DESIGN §4): the cpnp-server binary, killed with
    SIGKILL in the middle of negotiations and after agreements, restarted
    on its data directory, lets the client engine finish the negotiations,
    keeps the agreements, and the client withdraws one;
  - robustness (§11.4): negotiations through a seeded lossy relay (package
    cpnptest: drop, duplication, reordering, jitter) all end in consistent
    terminal states on both sides, with no capacity left reserved;
  - admission (DESIGN §4): a flood of stalled ClientHellos from many source
    ports does not keep legitimate clients from completing handshakes and
    negotiations.

The protocol timers of the flow tests run on a fake clock shared by both
engines (the DTLS handshakes use the real time); the lossy, flood and
restart tests run in real time with bounded waits.

Environment: CPNP_LOSSY_N sets the number of lossy negotiations (default
100; `make test-lossy` runs 1000) and CPNP_LOSSY_SEED the relay's seed;
CPNP_E2E_KNOWN_BUGS=1 runs the reproducers of known bugs of dependencies
(TestEarlyApplicationData). With -short the binary, flood and restart tests
are skipped and the lossy test runs 20 negotiations.

BenchmarkE2E measures, in one run, negotiations per second with the durable
store on next to a raw pion/dtls echo baseline, negotiation latency next to
the same number of echo round trips, mutual-auth handshakes per second with
and without a flood, and the heap held per idle association; `make bench`
prints the ratios (DESIGN §7).
*/
package e2e
