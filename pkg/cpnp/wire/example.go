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

package wire

import (
	"time"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// Values used by Example. They are fixed so that examples are deterministic;
// real identifiers, nonces and sequence numbers come from crypto/rand (§8.4,
// §9.1.5, §13).
const (
	exampleCustomerOrderID = "acme-wan-0001"
	exampleProviderOrderID = "ENP-2026-000417"
	exampleNonce           = "6512bd43d9caa6e02c990b0a82652dca"
	exampleQuotationTxn    = "8f14e45fceea167a5a36dedd4bea2543"
	exampleWithdrawTxn     = "45c48cce2e2d7fbdea1afc51c7c6ad26"
	exampleUpdateTxn       = "c9f0f895fb98ab9159f51fd0297e236d"
	exampleActivateTxn     = "d3d9446802a44259755d38e6d163e820"
	exampleClientSeq       = 3172
	exampleServerSeq       = 90210
)

// exampleTime is the reference time of the examples.
var exampleTime = time.Date(2026, time.November, 21, 22, 24, 25, 0, time.UTC)

func sample() *cpd.CPD {
	c := cpd.Sample()
	return &c
}

func sampleConcrete() *cpd.CPD {
	c := cpd.SampleConcrete()
	return &c
}

func at(d time.Duration) *time.Time {
	t := exampleTime.Add(d)
	return &t
}

// Example returns a valid, realistic message of method m with fixed values
// (identifiers, sequence numbers, timestamps around 2026-11-21T22:24:25Z),
// following the negotiation of RFC 8921 Figure 6 and the ACK contents of
// DESIGN §3. It returns the zero Message for an unknown method. cpnpctl
// wire example prints these; tests of other packages use them as fixtures
// (every call returns fresh values, which the caller may modify).
func Example(m Method) Message {
	quote := Message{
		Version:         Version,
		Method:          MethodQuotation,
		Seq:             exampleClientSeq,
		TransactionID:   exampleQuotationTxn,
		CustomerOrderID: exampleCustomerOrderID,
	}
	provider := quote
	provider.ProviderOrderID = exampleProviderOrderID
	provider.Nonce = exampleNonce

	switch m {
	case MethodQuotation:
		// §9.2.1, Figure 6: the client's Provisioning Quotation Order.
		quote.ExpectedResponseTime = at(time.Hour)
		quote.RequestedCPD = sample()
		quote.InformationElements = &InformationElements{
			CustomerDescription: &CustomerDescription{Name: "ACME Corp"},
			NegotiationOptions:  &NegotiationOptions{ActivationType: ActivationImmediate},
		}
		return quote
	case MethodProcessing:
		// §9.2.2: the server has received the order and promises an offer.
		msg := quote.Reply(MethodProcessing, exampleServerSeq)
		msg.ProviderOrderID = exampleProviderOrderID
		msg.ExpectedOfferTime = at(30 * time.Minute)
		msg.Subcode = SubcodeUpgradeLocalResources
		return msg
	case MethodOffer:
		// §9.2.3: a concrete offer valid for two hours.
		msg := provider.Reply(MethodOffer, exampleServerSeq+1)
		msg.ValidityOfferTime = at(2 * time.Hour)
		msg.OfferedCPD = sampleConcrete()
		msg.InformationElements = &InformationElements{
			ProviderDescription: &ProviderDescription{Name: "ENP", ASNumber: 64500},
		}
		return msg
	case MethodAccept:
		// §9.2.4: the fields are copied from the OFFER.
		msg := provider.Reply(MethodAccept, exampleClientSeq+2)
		msg.AcceptedCPD = sampleConcrete()
		return msg
	case MethodDecline:
		// §9.2.5: declined because the gap to the request is too large.
		msg := provider.Reply(MethodDecline, exampleClientSeq+2)
		msg.Reasons = []Reason{ReasonUnacceptableGap}
		return msg
	case MethodAck:
		// §9.2.6, DESIGN §3: after ACCEPT the server's ACK carries the offered CPD.
		msg := provider.Reply(MethodAck, exampleServerSeq+2)
		msg.CPD = sampleConcrete()
		return msg
	case MethodCancel:
		// §9.2.7: no provider order identifier, no nonce, no CPD needed.
		return quote.Reply(MethodCancel, exampleClientSeq+1)
	case MethodWithdraw:
		// §9.2.8, Figure 14: a new transaction carrying the accepted CPD.
		msg := provider.Reply(MethodWithdraw, exampleClientSeq+100)
		msg.TransactionID = exampleWithdrawTxn
		msg.AcceptedCPD = sampleConcrete()
		return msg
	case MethodUpdate:
		// §9.2.9: a new transaction with the updated requested CPD.
		msg := provider.Reply(MethodUpdate, exampleClientSeq+200)
		msg.TransactionID = exampleUpdateTxn
		msg.ExpectedResponseTime = at(25 * time.Hour)
		msg.RequestedCPD = sample()
		return msg
	case MethodFail:
		// §9.2.10: nothing can be offered (Out of Resources, Table 4).
		msg := provider.Reply(MethodFail, exampleServerSeq+1)
		msg.StatusCode = StatusOutOfResources
		return msg
	case MethodActivate:
		// §9.2.11: activate the agreement one day later.
		msg := provider.Reply(MethodActivate, exampleClientSeq+300)
		msg.TransactionID = exampleActivateTxn
		s := ScheduleAt(exampleTime.Add(24 * time.Hour))
		msg.ActivationSchedule = &s
		return msg
	}
	return Message{}
}
