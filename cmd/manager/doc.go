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

// Command manager runs the cpnp-operator: the client engine (a manager
// Runnable owning the DTLS associations with CPNP servers, RFC 8921 §8.1),
// the controllers that negotiate QuotationOrders, Offers and Agreements
// (RFC 8921 §8.11.1; DESIGN §5), the Provider and ClusterProvider
// reachability checks, and the garbage collector of terminal objects.
// Secrets are never cached (no cluster-wide Secret informer); the state
// gauges are computed from the manager's cache at scrape time.
//
// Flags: --metrics-bind-address, --health-probe-bind-address,
// --leader-elect, --leader-election-id, --concurrency, the engine's timers
// (--engine-send-timeout, --engine-min-backoff, --engine-max-backoff,
// --engine-stale-after, --engine-inbox-limit), --provider-check-interval,
// the garbage collector's bounds (--gc-ttl, --gc-keep, --gc-interval),
// --kubeconfig, and the zap logging flags (--zap-log-level, --zap-encoder,
// ...). See docs/operations.md.
package main
