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

package server

import (
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/policy"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// record is what the engine stores per order (kind OrdersKind, ID the
// provider order identifier): the machine's order and what the engine needs
// besides to restart (RFC 8921 §8.11) — the transaction that opened the
// order (a repeated QUOTATION must find it, §11.4), the pools the policy
// drew the offer and the agreements from (to restore its holdings), and
// bookkeeping for the admin API. Nonces inside Order never leave the store
// and the loop: the admin API and the logs omit them.
type record struct {
	// Format is the record format (RecordFormat); 0 in records written by
	// encoding/json before format 2, which read the same.
	Format int `json:"format,omitempty"`
	// Order is the server machine's order.
	Order fsm.ServerOrder `json:"order"`
	// QuotationTxn is the transaction ID of the QUOTATION that opened the order.
	QuotationTxn string `json:"quotationTxn"`
	// Peer is the address the client last sent from (§12.1), informative.
	Peer string `json:"peer,omitempty"`
	// OfferPool is the pool of the open offer (Order.Reserved).
	OfferPool string `json:"offerPool,omitempty"`
	// AgreementPool is the pool of the agreement in force.
	AgreementPool string `json:"agreementPool,omitempty"`
	// PrevAgreementPool is the pool of the agreement that an UPDATE
	// replaced in the current transaction (Order.PrevAgreement).
	PrevAgreementPool string `json:"prevAgreementPool,omitempty"`
	// Decision is the policy's reason for its last decision (§12.2: why an
	// order is held, which pool offers).
	Decision string `json:"decision,omitempty"`
	// Created and Updated are when the order was opened and last changed.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// holdings returns the policy holdings that r stands for: its agreement
// (Committed) and its open offer (Reserved), to be restored after a
// restart. A holding without a recorded pool (a policy that names none) is
// left out.
func (r *record) holdings() []policy.Holding {
	o := &r.Order
	var hs []policy.Holding
	if a := o.Agreement; a != nil && r.AgreementPool != "" {
		h := holdingOf(o, r.AgreementPool, a.CPD, policy.HoldingCommitted, time.Time{})
		// The part a child order provides is held upstream (§8.8).
		h.IncomingBps, h.OutgoingBps = localCapacity(o, a.CPD)
		hs = append(hs, h)
	}
	if off := o.Offer; off != nil && o.Reserved && r.OfferPool != "" {
		h := holdingOf(o, r.OfferPool, off.CPD, policy.HoldingReserved, off.ValidUntil)
		h.IncomingBps, h.OutgoingBps = localCapacity(o, off.CPD)
		hs = append(hs, h)
	}
	return hs
}

func holdingOf(o *fsm.ServerOrder, pool string, c cpd.CPD, st policy.HoldingState, expires time.Time) policy.Holding {
	in, out := capacityOf(c)
	return policy.Holding{
		ProviderOrderID: o.ProviderOrderID,
		Identity:        o.Identity,
		Pool:            pool,
		IncomingBps:     in,
		OutgoingBps:     out,
		State:           st,
		Expires:         expires,
	}
}

// capacityOf sums the capacity of c per direction over its components
// (RFC 7297 §3.5), in whole bits per second, the way package policy
// accounts for an offer: a fixed value, else the upper bound, else the
// lower bound, rounded up and capped at policy.MaxBps. Offers of the
// default policy are concrete, so this is their exact amount.
func capacityOf(c cpd.CPD) (in, out int64) {
	for i := range c.Components {
		k := c.Components[i].Capacity
		if k == nil {
			continue
		}
		in = satAdd(in, bps(k.IncomingBps))
		out = satAdd(out, bps(k.OutgoingBps))
	}
	return in, out
}

func bps(v cpd.Value) int64 {
	f := amount(v)
	switch {
	case !(f > 0):
		return 0
	case f >= float64(policy.MaxBps):
		return policy.MaxBps
	}
	return int64(math.Ceil(f))
}

func satAdd(a, b int64) int64 {
	if a > policy.MaxBps-b {
		return policy.MaxBps
	}
	return a + b
}

// Random values (§8.4, §9.1.5, §13: unguessable, >= 128 bits).

// hexID reads 16 bytes from r and returns them as 32 lowercase hex digits.
func hexID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// providerOrderID returns a fresh provider order identifier (§9.1.2).
func providerOrderID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return poidOf(b[:]), nil
}

// providerOrderIDPrefix starts every provider order identifier.
const providerOrderIDPrefix = "po-"

// poidOf returns the provider order identifier of 16 random bytes:
// "po-" and 32 lowercase hex digits, built in one allocation.
func poidOf(b []byte) string {
	var out [len(providerOrderIDPrefix) + 32]byte
	n := copy(out[:], providerOrderIDPrefix)
	hex.Encode(out[n:], b[:16])
	return string(out[:])
}

// firstSeq returns a random first sequence number below 2^31 (§8.4, §11.3),
// so that a transaction has room to count up without wrapping.
func firstSeq(r io.Reader) (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("read random bytes: %w", err)
	}
	return (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) & 0x7fffffff, nil
}

// fresh draws the values a message may need to open an order or a
// transaction (fsm.Fresh): all three for a QUOTATION, a nonce and a
// sequence number for UPDATE, WITHDRAW and ACTIVATE, nothing otherwise.
// It reads them from r in that order (identifier, nonce, sequence number)
// with one read, as hexID, providerOrderID and firstSeq would one after
// the other.
func fresh(r io.Reader, m wire.Method) (fsm.Fresh, error) {
	var f fsm.Fresh
	var b [16 + 16 + 4]byte
	rnd := b[:]
	switch m {
	case wire.MethodQuotation:
	case wire.MethodUpdate, wire.MethodWithdraw, wire.MethodActivate:
		rnd = b[16:]
	default:
		return f, nil
	}
	if _, err := io.ReadFull(r, rnd); err != nil {
		return f, fmt.Errorf("read random bytes: %w", err)
	}
	if len(rnd) == len(b) {
		f.ProviderOrderID = poidOf(b[:16])
	}
	f.Nonce = hex.EncodeToString(b[16:32])
	f.Seq = (uint32(b[32])<<24 | uint32(b[33])<<16 | uint32(b[34])<<8 | uint32(b[35])) & 0x7fffffff
	return f, nil
}
