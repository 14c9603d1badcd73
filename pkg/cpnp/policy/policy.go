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

package policy

import (
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// Policy is the decision logic of a CPNP server (RFC 8921 §8.2, §11.2.1,
// §12.2) behind a small interface: the server engine (pkg/cpnp/server)
// consults it when its state machine asks for a decision, and tells it what
// became of each offer so that it can account for capacity (DESIGN §3
// "Offers never exceed what is free", §6).
//
// A Policy is keyed by provider order identifier (§9.1.2). Every method is
// idempotent in the way a server that crashed and replays its log needs:
// Release, ReleaseOffer and Commit of an unknown or already released
// identifier do nothing, and Decide for an identifier that already holds
// something replaces it (see Decide).
//
// Times come in the arguments; a Policy never reads the clock.
type Policy interface {
	// Decide runs the decision-making process for a QUOTATION or an UPDATE
	// (§11.2.1, §11.2.3). An Offer decision reserves what it offers, keyed by
	// req.ProviderOrderID, until Commit or Release. A Hold decision reserves
	// nothing and remembers the request for Approve.
	//
	// Decide for an identifier that already holds something replaces it: for
	// a Quotation everything the order held is released first; for an Update
	// only the pending (Reserved) update offer is, and the order's agreement
	// stays until Commit (the new offer was accepted) or is kept when the
	// update fails (ReleaseOffer).
	Decide(req Request) Decision
	// Approve re-runs the decision for an order held for administrative
	// validation (§8.2, §12.2) once an administrator approved it, at time at:
	// capacity may have changed since the order was held. It returns
	// ErrNotHeld when no order with that identifier is held (for example
	// after a restart: the engine then calls Decide with Request.Approved
	// set, which needs no memory of the hold).
	Approve(providerOrderID string, at time.Time) (Decision, error)
	// Release frees everything the order holds: its open offer, its
	// agreement and a pending hold. The engine calls it when an offer of a
	// QUOTATION is declined, cancelled or expires, and when an agreement is
	// withdrawn (§11.2.2).
	Release(providerOrderID string)
	// ReleaseOffer frees only the order's open offer (Reserved) and a
	// pending hold; an agreement (Committed) stays. The engine calls it when
	// an UPDATE's offer is declined, cancelled or expires, or the update is
	// refused: "until then, and if the UPDATE cycle fails, the old agreement
	// stands" (DESIGN §3). For a QUOTATION's offer it is the same as Release.
	ReleaseOffer(providerOrderID string)
	// Commit turns the order's open offer into its agreement once the ACCEPT
	// was acknowledged (§9.2.6), replacing the order's previous agreement
	// (an UPDATE). The agreement is held until Release.
	Commit(providerOrderID string)
	// Restore rebuilds one holding after a restart from the server's stored
	// orders (offers still open, and agreements). A holding replaces the
	// order's holding in the same state.
	Restore(h Holding) error
	// Holdings lists what is held, sorted by provider order identifier
	// (Committed before Reserved), for the admin API, metrics and tests. It
	// may be called concurrently with the other methods.
	Holdings() []Holding
}

// RequestKind says which operation a Request comes from.
type RequestKind string

// Request kinds.
const (
	// RequestQuotation is a QUOTATION (§9.2.1, §11.2.1).
	RequestQuotation RequestKind = "Quotation"
	// RequestUpdate is an UPDATE of a standing agreement (§9.2.9, §11.2.3).
	RequestUpdate RequestKind = "Update"
)

// Request is what the server engine asks the policy to decide.
type Request struct {
	// Kind is RequestQuotation or RequestUpdate.
	Kind RequestKind `json:"kind"`
	// Identity is the authenticated client identity (DESIGN §3: the URI SAN
	// of the client certificate, else its CN). Entitlements are per identity
	// (§8.2, §13).
	Identity string `json:"identity"`
	// ProviderOrderID is PROVIDER_ORDER_IDENTIFIER (§9.1.2): the key of
	// everything the policy holds for the order.
	ProviderOrderID string `json:"providerOrderID"`
	// CustomerOrderID is CUSTOMER_ORDER_IDENTIFIER (§9.1.1), for reasons and
	// logs.
	CustomerOrderID string `json:"customerOrderID,omitempty"`
	// Requested is the REQUESTED_CPD (§8.7).
	Requested cpd.CPD `json:"requested"`
	// Current is, for an Update, the standing agreement (the Accepted CPD).
	// The default policy accounts from its holdings, not from Current; it is
	// here for policies that price or compare the change.
	Current *cpd.CPD `json:"current,omitempty"`
	// Options are the client's negotiation options (§9.1.10.3): a "local"
	// scope forbids child orders (§8.8).
	Options wire.NegotiationOptions `json:"options"`
	// Approved is true when an administrator already approved the order
	// (the state machine's Consult.Approved): the policy must not hold it
	// again (§8.2, §12.2).
	Approved bool `json:"approved,omitempty"`
	// At is when the decision is made; offers are valid from then (§9.1.8).
	At time.Time `json:"at"`
}

// Outcome is the kind of a Decision.
type Outcome string

// Outcomes.
const (
	// OutcomeOffer: send an OFFER with Decision.Offered (§9.2.3). The offer
	// may be a counter-offer (Decision.Partial, §7 step 2).
	OutcomeOffer Outcome = "Offer"
	// OutcomeFail: nothing can be offered; answer FAIL Decision.StatusCode
	// (§9.2.10, §11.2.1).
	OutcomeFail Outcome = "Fail"
	// OutcomeHold: administrative validation (§8.2, §12.2): the order waits
	// in AwaitingProcessing until an administrator approves (Approve, or
	// Decide with Request.Approved) or rejects it (FAIL 4, the engine's job).
	OutcomeHold Outcome = "Hold"
	// OutcomeChild: negotiate a child order with Decision.Upstream for
	// Decision.ChildRequest first (§8.8, PROCESSING subcode 2).
	OutcomeChild Outcome = "Child"
)

// Decision is the policy's answer to a Request.
type Decision struct {
	// Outcome says what to do.
	Outcome Outcome `json:"outcome"`
	// Offered is the OFFERED_CPD of an Offer (§8.7): concrete, and keeping
	// every clause of the request.
	Offered cpd.CPD `json:"offered,omitzero"`
	// ValidUntil is VALIDITY_OFFER_TIME of an Offer (§9.1.8): Request.At plus
	// the pool's offerValidity. The reservation expires then.
	ValidUntil time.Time `json:"validUntil,omitzero"`
	// ActivationSchedule is ACTIVATION_SCHEDULE of an Offer (§9.2.3). The
	// default policy proposes none.
	ActivationSchedule *wire.Schedule `json:"activationSchedule,omitempty"`
	// Provider is the provider description of an Offer (§9.1.10.2), when
	// the policy was given one (WithProviderDescription).
	Provider *wire.ProviderDescription `json:"provider,omitempty"`
	// StatusCode is the FAIL status code of a Fail (Table 4): 3 for an
	// identity with no entitlement, 5 when nothing can be offered, 1 for a
	// malformed request (a caller bug).
	StatusCode wire.StatusCode `json:"statusCode,omitempty"`
	// Reason says why, for people (logs, admin API): which pool, what was
	// short, which rule held the order. Never sent on the wire.
	Reason string `json:"reason"`
	// Partial is true for a counter-offer: the Offered CPD does not satisfy
	// the request's capacity (§7 step 2, §11.2.1 "an offer that meets only
	// some of the requirements").
	Partial bool `json:"partial,omitempty"`
	// Pool names the pool the offer is drawn from (or that held the order).
	Pool string `json:"pool,omitempty"`
	// Upstream names the upstream provider of a Child decision (§8.8).
	Upstream string `json:"upstream,omitempty"`
	// ChildRequest is the CPD to request from Upstream: the shortfall.
	ChildRequest *cpd.CPD `json:"childRequest,omitempty"`
}

// HoldingState says whether a holding is an open offer or an agreement.
type HoldingState string

// Holding states.
const (
	// HoldingReserved: an open offer (DESIGN §3: "Open offers count as
	// reserved until accepted, declined, cancelled or expired").
	HoldingReserved HoldingState = "Reserved"
	// HoldingCommitted: an agreement, held until withdrawn (DESIGN §6).
	HoldingCommitted HoldingState = "Committed"
)

// Holding is capacity held by one order in one pool. An order holds at most
// one Committed holding (its agreement) and one Reserved holding (its open
// offer; during an UPDATE both exist).
type Holding struct {
	// ProviderOrderID identifies the order (§9.1.2).
	ProviderOrderID string `json:"providerOrderID"`
	// Identity is the client identity the capacity counts against.
	Identity string `json:"identity"`
	// Pool names the pool the capacity is drawn from.
	Pool string `json:"pool"`
	// IncomingBps and OutgoingBps are the capacity held per direction, summed
	// over the CPD's components (RFC 7297 §3.5), in bits per second.
	IncomingBps int64 `json:"incomingBps"`
	OutgoingBps int64 `json:"outgoingBps"`
	// State is Reserved or Committed.
	State HoldingState `json:"state"`
	// Expires is when a Reserved holding's offer expires (§9.1.8); zero for
	// a Committed one.
	Expires time.Time `json:"expires,omitzero"`
}
