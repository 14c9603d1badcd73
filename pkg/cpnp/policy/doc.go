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

// Package policy is the decision logic of the CPNP server (RFC 8921 §8.2,
// §11.2, §12.2; DESIGN §3 "Settled details", §6): the small Policy
// interface the server engine (pkg/cpnp/server) consults, and Pools, its
// default implementation, configured by policy.yaml in the standalone
// cpnp-server or by CapacityPool objects in the cluster.
//
// # Configuration
//
// Config has the schema of DESIGN §6 (pools, tenants, upstreams). Parse
// decodes it strictly (unknown fields are errors naming their path) and
// Validate checks it, each violation a *FieldError such as
// "pools[1].qosClasses[0].lossRatio: must be between 0 and 1".
//
// # Decisions
//
// Pools.Decide answers a QUOTATION or an UPDATE (a Request) with a Decision:
//
//   - an identity without a tenant entry gets FAIL 3 (Authorization Failed,
//     §8.2 "entitled to initiate a provisioning quotation request");
//   - among the tenant's pools, those whose QoS classes and availability
//     meet every component (RFC 7297 §3.3, §3.4) are candidates; none means
//     FAIL 5 (Out of Resources), or a child order (§8.8) when upstreams are
//     configured and the scope is not "local";
//   - the candidate with the most free capacity for the tenant is chosen;
//     free = min(pool capacity - held in the pool, tenant limit - held by the
//     tenant), per direction (RFC 7297 §3.5);
//   - the request fits: an offer; it does not: a counter-offer of exactly what
//     is free (Decision.Partial, §7 step 2); nothing free in a requested
//     direction: FAIL 5. Offers never exceed what is free (DESIGN §3);
//   - a pool in approval mode Manual, or Threshold above its aboveBps, holds
//     the order for administrative validation (§8.2, §12.2) until Approve;
//   - the offered CPD is concrete (§8.7) and keeps every requested clause.
//
// docs/policy.md states every rule with examples.
//
// # Holdings
//
// An offer reserves what it offers until the engine calls Commit (the
// ACCEPT was acknowledged: the reservation becomes the agreement), Release
// or ReleaseOffer (declined, cancelled, expired, withdrawn). During an
// UPDATE an order holds both its agreement and the update's offer; it needs
// room for the larger of the two, and the agreement stands until the update
// commits. Restore rebuilds holdings from the server's store after a
// restart.
//
// The package reads no clock: times come in the arguments. Pools is safe
// for concurrent use.
package policy
