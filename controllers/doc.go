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

// Package controllers is the Kubernetes shell of the CPNP client (RFC 8921
// §8.11.1, DESIGN §5 "Engine and reconciler split").
//
// Engine is a manager Runnable around client.Mux: it owns the DTLS
// associations with the CPNP servers (§8.1), records every message that
// arrives for an order, and wakes the owning QuotationOrder through a
// controller-runtime channel source. It never writes to the API server.
//
// QuotationOrderReconciler is level-triggered: it reads the object, steps
// the pure client machine (fsm.Client, Figure 8) with what the engine
// recorded and with the timers due (fsm.ClientOrder.NextDeadline →
// RequeueAfter), persists the nonce Secret and then the status
// (write-ahead, DESIGN §4), and only then asks the engine to send. An OFFER
// becomes an Offer owned by the QuotationOrder (§9.2.3); under Automatic
// acceptance it is accepted when it satisfies every bound of the request
// (RFC 7297 §3-4) and declined with reason 1 otherwise (§9.2.5, Table 3).
// The ACK of the ACCEPT creates the Agreement with a UUID contract ID
// (§9.2.4). A FAIL from the server (§9.2.10) makes the order Stalled.
//
// ResolveProvider turns a Provider or ClusterProvider reference into a
// client.ServerConfig; credentials come only from Secrets.
package controllers
