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
// A request for more time (§9.2.2, Figs. 11/12) is answered by the client
// machine from spec.extensionLimit (fsm.ClientOrder.ExtensionLimit, set
// when the QUOTATION is sent): granted with an ACK up to the limit
// (status.expectedOfferTime shows the new time), refused beyond it with
// FAIL 7, which cancels the order (Stalled, status.failure code 7).
// Under Manual acceptance the order waits in OfferProcessing for the
// Offer's spec.decision: Accept sends ACCEPT, Decline sends DECLINE with
// spec.declineReasons (§9.2.5); an Offer left undecided past
// VALIDITY_OFFER_TIME becomes Expired without anything sent (§9.1.8).
//
// With several providerRefs (parallel negotiation, §8.10) at most one
// offer is accepted per order (decideOrder): under Automatic acceptance
// the satisfying offer with the most headroom on the request's bounds
// (cpd.Score; ties go to the earlier providerRef), once every
// negotiation has an offer or has ended, or at the latest 10% of the
// earliest offer's validity window (at most 30 s) before it lapses; under
// Manual acceptance the first Offer set to Accept. The other open offers
// are declined with reason 2 (ConflictWithOtherOffer, Table 3), the
// negotiations still waiting are cancelled (§9.2.7), and the decision is
// recorded in status.providers[].failure before anything is sent.
// A QuotationOrder carries the finalizer negotiation.cpnp.dev/cancel
// (CancelFinalizer) from its first QUOTATION: deleting it CANCELs every
// open negotiation and the finalizer goes when each is acknowledged or
// unanswered after every retransmission (§11.4). Once its Agreement is
// withdrawn and deleted, the order shows Ready=False AgreementWithdrawn.
//
// AgreementReconciler runs ACTIVATE (§9.2.11) when an Agreement's
// spec.activation differs from status.activation.observedSchedule: a new
// transaction stepped with fsm.ActivateOrder, the status persisted before
// the send (state Activating, Reconciling=True); the ACK sets
// status.activation and observedSchedule (Ready=True, reason Activated); a
// FAIL (8 for an agreement not negotiated with activation type Explicit)
// or no answer sets status.failure, Stalled=True (ActivationFailed) and a
// Warning Event, leaves the agreement as it was, and is not retried until
// spec.activation changes again (a new generation).
//
// Editing an Agreement's spec.cpd runs an UPDATE cycle (§9.2.9, §11.1.3)
// from the same reconciler: UPDATE with spec.expectedResponseTime (state
// Updating), the server's OFFER becomes an Offer owned by the Agreement
// (spec.agreementRef, status.updateOfferRef) decided per spec.acceptance
// like a QuotationOrder's, and the ACK of the ACCEPT puts the new CPD in
// force (status.agreedGeneration/agreedAt, Ready=True reason Updated). A
// cycle that ends otherwise (FAIL, DECLINE, expiry) keeps the previous
// agreement (DESIGN §3): status.failure, Stalled=True (UpdateFailed), a
// Warning Event, no retry until spec.cpd changes again.
//
// AgreementReconciler also withdraws deleted Agreements (§9.2.8). Every
// Agreement carries the finalizer negotiation.cpnp.dev/withdraw from its
// creation; once the Agreement exists, the QuotationOrder reconciler hands
// the negotiation over and no longer steps or watches it. On deletion the
// Agreement reconciler steps fsm.WithdrawOrder (a new TRANSACTION_ID and
// sequence number from crypto/rand), persists the status before the send,
// and removes the finalizer only when the server acknowledged the WITHDRAW
// (fsm.ClientOrder.WithdrawAcked). A WITHDRAW unanswered after every retry
// raises the alarm of §11.1.2 (a Warning Event WithdrawUnanswered and the
// cpnp_withdraw_alarms_total counter) and the next cycle runs no sooner
// than 300 s later (RequeueAfter from fsm.TimerWithdrawCycle). A FAIL to
// the WITHDRAW makes the Agreement Stalled (WithdrawFailed): the server
// may still hold the agreement, and an administrator removes the finalizer.
//
// Ownership: the Agreement stays owned (controller reference) by its
// QuotationOrder, so that deleting the order deletes the Agreement; this
// is safe because garbage collection only sets the Agreement's deletion
// timestamp, and the finalizer runs the WITHDRAW before the object goes.
// The nonce Secret of the Agreement is owned by the Agreement and outlives
// the WITHDRAW under background deletion (the default); foreground
// deletion of the Agreement would delete it first and is not supported.
// Deleting the Provider or its Secrets before the Agreement blocks the
// withdrawal (it is retried with backoff) until they are back.
//
// ResolveProvider turns a Provider or ClusterProvider reference into a
// client.ServerConfig; credentials come only from Secrets. The reconcilers
// resolve through a ProviderCache: an entry lives DefaultProviderCacheTTL
// (30 s) and only while the cached Provider keeps its UID and
// resourceVersion; failures are not kept.
//
// Both reconcilers first decide "nothing to do" on the manager's cached
// copy (orderAtRest, agreementAtRest: handed over or in force, nothing
// pending in the Engine, no timer, no deletion, every generation observed)
// and read past the cache (APIReader) only when there is work, so that a
// restart does not read every object at rest from the API server.
//
// ProviderReconciler checks that Providers and ClusterProviders are
// reachable: ResolveProvider, then one DTLS (or TLS) handshake with the
// server with the resolved credentials (§8.1, §13); status.lastCheck and
// Ready (Reachable, Unreachable, InvalidCredentials, SecretNotFound,
// Unsupported) with Reconciling/Stalled, rechecked periodically. Secrets
// are read uncached and never watched (ClientOptions).
//
// GarbageCollector, a manager Runnable, deletes terminal QuotationOrders
// and Offers beyond a time and a count bound (DESIGN §5), never an order
// whose Agreement exists nor an Offer of an open negotiation.
//
// Metrics (controller-runtime registry, docs/operations.md): the Engine
// counts retransmissions and times request round trips per provider, the
// Mux's OnHandshakeFailure hook counts failed handshakes by reason, and
// StateCollector reports QuotationOrders and Agreements by state at scrape
// time from the manager's cache.
package controllers
