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

package v1alpha1_test

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// statusQO is a QuotationOrder status with every recorded identifier set.
var statusQO = obj{
	"state":           "ServerProcessing",
	"customerOrderID": "acme-wan-0001",
	"providers": list{obj{
		"kind": "Provider", "name": "transit",
		"state":           "ServerProcessing",
		"transactionID":   "8f14e45fceea167a5a36dedd4bea2543",
		"providerOrderID": "ENP-2026-000417",
	}},
	"agreementRef": obj{"name": "paris-wan"},
}

// statusAgreement is an Agreement status with every recorded identifier set.
var statusAgreement = obj{
	"state":           "Established",
	"contractID":      "3f0e5a3c-2b7e-4c1e-9a55-5b0b7d1c9e21",
	"customerOrderID": "acme-wan-0001",
	"providerOrderID": "ENP-2026-000417",
	"transactionID":   "8f14e45fceea167a5a36dedd4bea2543",
}

// TestUpdates checks the transition rules (CEL rules on oldSelf): what was
// sent to a server or recorded from it cannot change, and what the user
// may still decide can. Each case creates the fixture (with status, when
// given), then applies its edits to spec (or, with status set, to status
// through the status subresource).
func TestUpdates(t *testing.T) {
	c := apiServer(t)
	tests := []struct {
		name string
		kind string
		// before are edits made before the object is created.
		before []edit
		// status is written through the status subresource after create.
		status obj
		// edits are applied to the stored object and sent as an update; to
		// status when onStatus.
		edits    []edit
		onStatus bool
		// field and msg are empty when the update must succeed.
		field, msg string
	}{
		// Reference: RFC 8921 §9.2.1 and DESIGN §5: what the QUOTATION carried is immutable.
		{name: "order cpd", kind: "QuotationOrder",
			edits: []edit{{"spec.cpd.components[0].capacity.incomingBps", obj{"min": 1}}},
			field: "spec.cpd", msg: "cpd is immutable"},
		{name: "order providerRefs", kind: "QuotationOrder",
			edits: []edit{{"spec.providerRefs", list{obj{"kind": "Provider", "name": "other"}}}},
			field: "spec.providerRefs", msg: "providerRefs is immutable"},
		{name: "order customer added", kind: "QuotationOrder",
			edits: []edit{{"spec.customer", obj{"name": "ACME"}}},
			field: "spec.customer", msg: "customer is immutable"},
		{name: "order expectedResponseTime removed", kind: "QuotationOrder",
			before: []edit{{"spec.expectedResponseTime", "10m"}},
			edits:  []edit{{"spec.expectedResponseTime", nil}},
			field:  "spec.expectedResponseTime", msg: "expectedResponseTime is immutable"},
		{name: "order negotiation options changed", kind: "QuotationOrder",
			before: []edit{{"spec.negotiationOptions", obj{"scope": "Local"}}},
			edits:  []edit{{"spec.negotiationOptions.scope", "Recursive"}},
			field:  "spec.negotiationOptions", msg: "negotiationOptions is immutable"},
		// Reference: RFC 8921 §8.11.1, Created -> AwaitingProcessing only.
		{name: "order approval back to Pending", kind: "QuotationOrder",
			edits: []edit{{"spec.approval", "Pending"}},
			field: "spec.approval", msg: "cannot return to Pending"},
		{name: "order approved", kind: "QuotationOrder",
			before: []edit{{"spec.approval", "Pending"}},
			edits:  []edit{{"spec.approval", "Approved"}}},
		{name: "order acceptance and extension limit changed", kind: "QuotationOrder",
			edits: []edit{{"spec.acceptance", "Automatic"}, {"spec.extensionLimit", "1h"}}},
		// Reference: RFC 8921 §9.1.1, §9.1.2, §8.4: recorded identifiers are immutable.
		{name: "order providerOrderID", kind: "QuotationOrder", status: statusQO, onStatus: true,
			edits: []edit{{"status.providers[0].providerOrderID", "ENP-2026-999999"}},
			field: "status.providers[0].providerOrderID", msg: "providerOrderID is immutable once recorded"},
		{name: "order providerOrderID removed", kind: "QuotationOrder", status: statusQO, onStatus: true,
			edits: []edit{{"status.providers[0].providerOrderID", nil}},
			field: "status.providers[0].providerOrderID", msg: "providerOrderID is immutable once recorded"},
		{name: "order transactionID", kind: "QuotationOrder", status: statusQO, onStatus: true,
			edits: []edit{{"status.providers[0].transactionID", "c9f0f895fb98ab9159f51fd0297e236d"}},
			field: "status.providers[0].transactionID", msg: "transactionID is immutable once recorded"},
		{name: "order customerOrderID", kind: "QuotationOrder", status: statusQO, onStatus: true,
			edits: []edit{{"status.customerOrderID", "acme-wan-0002"}},
			field: "status.customerOrderID", msg: "customerOrderID is immutable once recorded"},
		{name: "order agreementRef", kind: "QuotationOrder", status: statusQO, onStatus: true,
			edits: []edit{{"status.agreementRef", obj{"name": "other"}}},
			field: "status.agreementRef", msg: "agreementRef is immutable once recorded"},
		{name: "order state and expected offer time move on", kind: "QuotationOrder", status: statusQO, onStatus: true,
			edits: []edit{{"status.state", "OfferReceived"}, {"status.providers[0].state", "OfferReceived"},
				{"status.expectedOfferTime", "2026-11-21T23:00:00Z"}}},
		// Reference: DESIGN §5, the offered CPD, validity, provider
		// description and identifiers of an Offer are immutable.
		{name: "offered cpd", kind: "Offer",
			edits: []edit{{"spec.cpd.components[0].capacity.incomingBps", obj{"value": 200000000}}},
			field: "spec.cpd", msg: "cpd is immutable: it is the offered CPD"},
		{name: "offer validity", kind: "Offer",
			edits: []edit{{"spec.validUntil", "2026-11-22T22:34:25Z"}},
			field: "spec.validUntil", msg: "validUntil is immutable"},
		{name: "offer providerOrderID", kind: "Offer",
			edits: []edit{{"spec.providerOrderID", "ENP-2026-999999"}},
			field: "spec.providerOrderID", msg: "providerOrderID is immutable"},
		{name: "offer transactionID", kind: "Offer",
			edits: []edit{{"spec.transactionID", "c9f0f895fb98ab9159f51fd0297e236d"}},
			field: "spec.transactionID", msg: "transactionID is immutable"},
		{name: "offer provider description removed", kind: "Offer",
			edits: []edit{{"spec.providerDescription", nil}},
			field: "spec.providerDescription", msg: "providerDescription is immutable"},
		{name: "offer activation schedule added", kind: "Offer",
			edits: []edit{{"spec.activationSchedule", obj{"at": "2026-11-22T00:00:00Z"}}},
			field: "spec.activationSchedule", msg: "activationSchedule is immutable"},
		{name: "offer quotationOrderRef", kind: "Offer",
			edits: []edit{{"spec.quotationOrderRef.name", "other"}},
			field: "spec.quotationOrderRef", msg: "quotationOrderRef is immutable"},
		{name: "offer agreementRef added", kind: "Offer",
			edits: []edit{{"spec.agreementRef", obj{"name": "paris-wan"}}},
			field: "spec.agreementRef", msg: "agreementRef is immutable"},
		{name: "offer negotiation options changed", kind: "Offer",
			edits: []edit{{"spec.negotiationOptions.activationType", "Explicit"}},
			field: "spec.negotiationOptions", msg: "negotiationOptions is immutable"},
		// Reference: RFC 8921 §9.2.4, §9.2.5: the customer decides once.
		{name: "offer accepted", kind: "Offer",
			edits: []edit{{"spec.decision", "Accept"}}},
		{name: "offer declined with reasons", kind: "Offer",
			edits: []edit{{"spec.decision", "Decline"}, {"spec.declineReasons", list{"UnacceptableGap", "ConflictWithOtherOffer"}}}},
		{name: "offer decision changed", kind: "Offer",
			before: []edit{{"spec.decision", "Accept"}},
			edits:  []edit{{"spec.decision", "Decline"}},
			field:  "spec.decision", msg: "decision is final once set"},
		{name: "offer decision withdrawn", kind: "Offer",
			before: []edit{{"spec.decision", "Accept"}},
			edits:  []edit{{"spec.decision", nil}},
			field:  "spec.decision", msg: "decision is final once set"},
		{name: "offer decline reasons changed after the decision", kind: "Offer",
			before: []edit{{"spec.decision", "Decline"}, {"spec.declineReasons", list{"UnacceptableGap"}}},
			edits:  []edit{{"spec.declineReasons", list{"ActivationTypeMismatch"}}},
			field:  "spec.declineReasons", msg: "declineReasons are final once the decision is set"},
		// Reference: RFC 8921 §9.2.9: editing the agreed CPD runs an UPDATE.
		{name: "agreement cpd edited", kind: "Agreement",
			edits: []edit{{"spec.cpd.components[0].capacity.incomingBps", obj{"min": 200000000}}}},
		{name: "agreement activation set", kind: "Agreement",
			edits: []edit{{"spec.activation", obj{"action": "Deactivate"}}}},
		{name: "agreement provider", kind: "Agreement",
			edits: []edit{{"spec.providerRef.name", "other"}},
			field: "spec.providerRef", msg: "providerRef is immutable"},
		{name: "agreement contractID", kind: "Agreement", status: statusAgreement, onStatus: true,
			edits: []edit{{"status.contractID", "9b2d7a3e-6c1f-4e8a-b0d5-2f4c6e8a1b3d"}},
			field: "status.contractID", msg: "contractID is immutable once recorded"},
		{name: "agreement providerOrderID", kind: "Agreement", status: statusAgreement, onStatus: true,
			edits: []edit{{"status.providerOrderID", "ENP-2026-999999"}},
			field: "status.providerOrderID", msg: "providerOrderID is immutable once recorded"},
		{name: "agreement transaction moves on", kind: "Agreement", status: statusAgreement, onStatus: true,
			edits: []edit{{"status.transactionID", "c9f0f895fb98ab9159f51fd0297e236d"}, {"status.state", "Updating"}}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := fromYAML(t, fixtures[tc.kind])
			place(u, fmt.Sprintf("update-%02d", i))
			for _, e := range tc.before {
				setPath(t, u.Object, e.path, e.value)
			}
			if err := c.Create(ctx(t), u); err != nil {
				t.Fatalf("create: %v", err)
			}
			if tc.status != nil {
				u.Object["status"] = deepCopy(tc.status)
				if err := c.Status().Update(ctx(t), u); err != nil {
					t.Fatalf("write status: %v", err)
				}
			}
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(u.GroupVersionKind())
			if err := c.Get(ctx(t), client.ObjectKeyFromObject(u), got); err != nil {
				t.Fatalf("get: %v", err)
			}
			for _, e := range tc.edits {
				setPath(t, got.Object, e.path, e.value)
			}
			var err error
			if tc.onStatus {
				err = c.Status().Update(ctx(t), got)
			} else {
				err = c.Update(ctx(t), got)
			}
			if tc.field == "" {
				if err != nil {
					t.Fatalf("update: got %v, want it accepted", err)
				}
				return
			}
			wantInvalid(t, err, tc.field, tc.msg)
		})
	}
}

// deepCopy copies a manifest value so that cases do not share maps.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}
