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

// Package v1alpha1 is the Kubernetes API of cpnp-operator, group
// negotiation.cpnp.dev, version v1alpha1 (DESIGN §5).
//
// Tenants describe the connectivity they want as a QuotationOrder; the
// operator runs the CPNP client state machine (RFC 8921 §8.11.1, Figure 8)
// against the servers its providerRefs name (Provider, ClusterProvider),
// surfaces each OFFER (§9.2.3) as an Offer whose spec.decision the tenant
// (or the order's automatic acceptance) sets, and records an acknowledged
// ACCEPT (§9.2.4, §9.2.6) as an Agreement. Editing an Agreement's CPD runs
// an UPDATE cycle (§9.2.9), its spec.activation drives ACTIVATE (§9.2.11) and
// deleting it runs WITHDRAW (§9.2.8). CapacityPool is read by the companion
// cpnp-server (DESIGN §6) and has the schema of its policy.yaml pools.
//
// # The CPD in the API
//
// The Connectivity Provisioning Document (RFC 8921 §8.7; RFC 7297 §3) is the
// CPD type. It carries the same clauses as the wire CPD of pkg/cpnp/cpd
// (docs/cpd.md), with three changes that make it a structural, validated
// Kubernetes schema:
//
//   - member names are lowerCamelCase (one_way_delay_ms becomes oneWayDelayMs);
//   - a quantitative value, which the wire writes as a number (fixed) or
//     {"min": a, "max": b} (loosely defined), is always an object:
//     {value: 5}, or {min: 1, max: 10} with either bound optional;
//   - enumerations are UpperCamelCase (Pipe for "1:1", Average for
//     "average") and the wire's booleans are enumerations (Global or
//     Restricted reachability; Required or NotRequired isolation).
//
// CPD.ToProtocol and CPDFromProtocol convert between the two; docs/api.md
// has the member-by-member table.
//
// # Protocol state in status
//
// QuotationOrder and Agreement status carry typed, human-facing fields
// (state, identifiers, deadlines, failure, history, conditions) and, for
// the controllers, the client machine's full state (fsm.ClientOrder) as an
// opaque JSON object in status.protocol (EncodeProtocol, DecodeProtocol).
// Nonces never appear in either: the controllers keep them in a Secret owned
// by the object (DESIGN §5) and EncodeProtocol replaces each with a
// placeholder. docs/api.md explains the choice.
package v1alpha1
