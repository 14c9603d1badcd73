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
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// TestNegotiationOptions converts the Negotiation Options IE both ways.
// Reference: RFC 8921 §9.1.10.3; DESIGN §3.
func TestNegotiationOptions(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		api  *v1alpha1.NegotiationOptions
		wire *wire.NegotiationOptions
	}{
		"absent": {nil, nil},
		"all set": {
			&v1alpha1.NegotiationOptions{Purpose: v1alpha1.PurposeTest, ActivationType: v1alpha1.ActivationExplicit, Scope: v1alpha1.ScopeLocal},
			&wire.NegotiationOptions{Purpose: wire.PurposeTest, ActivationType: wire.ActivationExplicit, Scope: wire.ScopeLocal},
		},
		"permanent, scheduled, recursive": {
			&v1alpha1.NegotiationOptions{Purpose: v1alpha1.PurposePermanent, ActivationType: v1alpha1.ActivationScheduled, Scope: v1alpha1.ScopeRecursive},
			&wire.NegotiationOptions{Purpose: wire.PurposePermanent, ActivationType: wire.ActivationScheduled, Scope: wire.ScopeRecursive},
		},
		"immediate only": {
			&v1alpha1.NegotiationOptions{ActivationType: v1alpha1.ActivationImmediate},
			&wire.NegotiationOptions{ActivationType: wire.ActivationImmediate},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.api.ToProtocol()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wire, got); diff != "" {
				t.Errorf("ToProtocol (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.api, v1alpha1.NegotiationOptionsFromProtocol(tc.wire)); diff != "" {
				t.Errorf("FromProtocol (-want +got):\n%s", diff)
			}
		})
	}
	// An empty struct is absent on the wire.
	if got, err := (&v1alpha1.NegotiationOptions{}).ToProtocol(); err != nil || got != nil {
		t.Errorf("empty options: got %v, %v, want nil, nil", got, err)
	}
	for _, bad := range []v1alpha1.NegotiationOptions{{Purpose: "permanent"}, {ActivationType: "Later"}, {Scope: "Global"}} {
		if _, err := bad.ToProtocol(); !errors.Is(err, v1alpha1.ErrInvalidField) {
			t.Errorf("%+v: got %v, want ErrInvalidField", bad, err)
		}
	}
}

// TestDescriptions converts the Customer and Provider Description IEs.
// Reference: RFC 8921 §9.1.10.1, §9.1.10.2.
func TestDescriptions(t *testing.T) {
	t.Parallel()
	contact := &v1alpha1.Contact{Email: "noc@acme.example", PostalAddress: "1 rue de Rivoli, Paris", TelephoneNumbers: []v1alpha1.Text{"+33 1 23 45 67 89"}}
	wireContact := &wire.Contact{Email: "noc@acme.example", PostalAddress: "1 rue de Rivoli, Paris", TelephoneNumbers: []string{"+33 1 23 45 67 89"}}

	customer := &v1alpha1.CustomerDescription{Name: "ACME", Contact: contact}
	wantCustomer := &wire.CustomerDescription{Name: "ACME", Contact: wireContact}
	if diff := cmp.Diff(wantCustomer, customer.ToProtocol()); diff != "" {
		t.Errorf("customer ToProtocol (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(customer, v1alpha1.CustomerDescriptionFromProtocol(wantCustomer)); diff != "" {
		t.Errorf("customer FromProtocol (-want +got):\n%s", diff)
	}
	if got := (&v1alpha1.CustomerDescription{Contact: &v1alpha1.Contact{}}).ToProtocol(); got != nil {
		t.Errorf("empty customer: got %+v, want nil", got)
	}

	provider := &v1alpha1.ProviderDescription{Name: "Example Networks", Contact: contact, ASNumber: ptr.To[int64](4200000000)}
	wantProvider := &wire.ProviderDescription{Name: "Example Networks", Contact: wireContact, ASNumber: 4200000000}
	got, err := provider.ToProtocol()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantProvider, got); diff != "" {
		t.Errorf("provider ToProtocol (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(provider, v1alpha1.ProviderDescriptionFromProtocol(wantProvider)); diff != "" {
		t.Errorf("provider FromProtocol (-want +got):\n%s", diff)
	}
	for _, asn := range []int64{0, 1 << 32} {
		_, err := (&v1alpha1.ProviderDescription{ASNumber: ptr.To(asn)}).ToProtocol()
		if !errors.Is(err, v1alpha1.ErrInvalidField) {
			t.Errorf("asNumber %d: got %v, want ErrInvalidField", asn, err)
		}
	}
}

// TestActivationSchedule converts ACTIVATION_SCHEDULE both ways.
// Reference: RFC 8921 §9.2.11; DESIGN §3 ("0" deactivates, a past time means now).
func TestActivationSchedule(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 21, 22, 24, 25, 678_000_000, time.UTC)
	later := metav1.NewTime(time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC))
	tests := map[string]struct {
		in      v1alpha1.ActivationSchedule
		want    wire.Schedule
		wantErr bool
	}{
		"activate now":           {v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionActivate}, wire.ScheduleAt(now), false},
		"activate, action unset": {v1alpha1.ActivationSchedule{}, wire.ScheduleAt(now), false},
		"activate later":         {v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionActivate, At: &later}, wire.ScheduleAt(later.Time), false},
		"deactivate":             {v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionDeactivate}, wire.ScheduleDeactivate(), false},
		"deactivate with a time": {v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionDeactivate, At: &later}, wire.Schedule{}, true},
		"unknown action":         {v1alpha1.ActivationSchedule{Action: "Toggle"}, wire.Schedule{}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.in.ToProtocol(now)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if !errors.Is(err, v1alpha1.ErrInvalidField) {
					t.Errorf("got %v, want ErrInvalidField", err)
				}
				return
			}
			if got.String() != tc.want.String() {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	// From the wire: "0", and a time rounded down to whole seconds.
	if diff := cmp.Diff(v1alpha1.ActivationSchedule{Action: v1alpha1.ActivationActionDeactivate},
		v1alpha1.ActivationScheduleFromProtocol(wire.ScheduleDeactivate())); diff != "" {
		t.Errorf("deactivate (-want +got):\n%s", diff)
	}
	got := v1alpha1.ActivationScheduleFromProtocol(wire.ScheduleAt(now))
	wantAt := metav1.NewTime(time.Date(2026, 11, 21, 22, 24, 25, 0, time.UTC))
	if got.Action != v1alpha1.ActivationActionActivate || got.At == nil || !got.At.Equal(&wantAt) {
		t.Errorf("got %+v, want Activate at %s", got, wantAt)
	}
}

// TestDeclineReasons converts Table 3 codes.
// Reference: RFC 8921 §9.2.5, Table 3.
func TestDeclineReasons(t *testing.T) {
	t.Parallel()
	api := []v1alpha1.DeclineReason{v1alpha1.DeclineUnacceptableGap, v1alpha1.DeclineConflictWithOtherOffer, v1alpha1.DeclineActivationTypeMismatch}
	want := []wire.Reason{wire.ReasonUnacceptableGap, wire.ReasonConflictWithOtherOffer, wire.ReasonActivationTypeMismatch}
	got, err := v1alpha1.DeclineReasonsToProtocol(api)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ToProtocol (-want +got):\n%s", diff)
	}
	for i, w := range want {
		r, ok := v1alpha1.DeclineReasonFromProtocol(w)
		if !ok || r != api[i] {
			t.Errorf("DeclineReasonFromProtocol(%d): got %q, %v, want %q", w, r, ok, api[i])
		}
	}
	if r, ok := v1alpha1.DeclineReasonFromProtocol(4); ok {
		t.Errorf("DeclineReasonFromProtocol(4): got %q, want none", r)
	}
	if got, err := v1alpha1.DeclineReasonsToProtocol(nil); got != nil || err != nil {
		t.Errorf("no reasons: got %v, %v, want nil, nil", got, err)
	}
	if _, err := v1alpha1.DeclineReasonsToProtocol([]v1alpha1.DeclineReason{"TooExpensive"}); !errors.Is(err, v1alpha1.ErrInvalidField) {
		t.Errorf("unknown reason: got %v, want ErrInvalidField", err)
	}
}

// TestFailureAndHistory converts what the client machine records.
// Reference: RFC 8921 §9.2.10 (Table 4), §8.11 (timestamps of state changes).
func TestFailureAndHistory(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 21, 22, 24, 25, 500_000_000, time.UTC)
	sec := metav1.NewTime(at.Truncate(time.Second))
	tests := map[string]struct {
		in   fsm.Failure
		want v1alpha1.Failure
	}{
		"FAIL 5 from the server": {
			fsm.Failure{StatusCode: wire.StatusOutOfResources, Reason: "ServerFailed", At: at},
			v1alpha1.Failure{StatusCode: ptr.To[int32](5), Reason: "ServerFailed", Message: "FAIL 5 (Out of Resources)", Sender: v1alpha1.FailureSenderServer, Time: &sec},
		},
		"FAIL 7 sent": {
			fsm.Failure{StatusCode: wire.StatusMoreTimeRejected, Sent: true, Reason: "ExtensionRefused", At: at},
			v1alpha1.Failure{StatusCode: ptr.To[int32](7), Reason: "ExtensionRefused", Message: "FAIL 7 (More Time Rejected)", Sender: v1alpha1.FailureSenderClient, Time: &sec},
		},
		"expiry": {
			fsm.Failure{Reason: "OfferExpired", At: at},
			v1alpha1.Failure{Reason: "OfferExpired", Time: &sec},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, v1alpha1.FailureFromProtocol(tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if got := v1alpha1.StatusCodeToProtocol(ptr.To[int32](3)); got != wire.StatusAuthorizationFailed {
		t.Errorf("StatusCodeToProtocol(3): got %v, want %v", got, wire.StatusAuthorizationFailed)
	}
	if got := v1alpha1.StatusCodeToProtocol(nil); got != 0 {
		t.Errorf("StatusCodeToProtocol(nil): got %v, want 0", got)
	}

	tr := v1alpha1.TransitionFromProtocol("ClusterProvider/cluster-wan", fsm.Transition{
		From: "ServerProcessing", To: "Cancelled", Cause: "FAIL", Reason: "ServerFailed", StatusCode: wire.StatusOutOfResources, At: at,
	})
	wantTr := v1alpha1.Transition{Time: sec, Provider: "ClusterProvider/cluster-wan", From: "ServerProcessing", To: "Cancelled",
		Cause: "FAIL", Reason: "ServerFailed", StatusCode: ptr.To[int32](5)}
	if diff := cmp.Diff(wantTr, tr); diff != "" {
		t.Errorf("TransitionFromProtocol (-want +got):\n%s", diff)
	}

	// The history keeps the last MaxHistory transitions, oldest first.
	var h []v1alpha1.Transition
	for i := range v1alpha1.MaxHistory + 5 {
		h = v1alpha1.AppendHistory(h, v1alpha1.Transition{To: fmt.Sprint(i)})
	}
	if len(h) != v1alpha1.MaxHistory || h[0].To != "5" || h[len(h)-1].To != fmt.Sprint(v1alpha1.MaxHistory+4) {
		t.Errorf("history: got %d entries from %q to %q, want %d from \"5\" to %q",
			len(h), h[0].To, h[len(h)-1].To, v1alpha1.MaxHistory, fmt.Sprint(v1alpha1.MaxHistory+4))
	}
}

// TestOrderRequest builds the QUOTATION's request from a spec.
// Reference: RFC 8921 §9.2.1 (EXPECTED_RESPONSE_TIME, IEs), §9.2.2 (more time).
func TestOrderRequest(t *testing.T) {
	t.Parallel()
	sent := time.Date(2026, 11, 21, 22, 24, 25, 123_456_789, time.UTC)
	spec := v1alpha1.QuotationOrderSpec{
		ProviderRefs:         []v1alpha1.ProviderReference{{Name: "transit"}},
		CPD:                  v1alpha1.CPDFromProtocol(cpd.Sample()),
		ExpectedResponseTime: &metav1.Duration{Duration: 10 * time.Minute},
		Customer:             &v1alpha1.CustomerDescription{Name: "ACME"},
		NegotiationOptions:   &v1alpha1.NegotiationOptions{ActivationType: v1alpha1.ActivationExplicit},
		ExtensionLimit:       &metav1.Duration{Duration: time.Hour},
	}
	req, err := spec.Request(sent)
	if err != nil {
		t.Fatal(err)
	}
	ert := wire.CanonicalTime(sent.Add(10 * time.Minute))
	want := fsm.Request{
		CPD:                  cpd.Sample(),
		ExpectedResponseTime: &ert,
		InformationElements: &wire.InformationElements{
			CustomerDescription: &wire.CustomerDescription{Name: "ACME"},
			NegotiationOptions:  &wire.NegotiationOptions{ActivationType: wire.ActivationExplicit},
		},
	}
	if diff := cmp.Diff(want, req, cpdOpts); diff != "" {
		t.Errorf("Request (-want +got):\n%s", diff)
	}
	if got, want := spec.ExtensionLimitAt(sent), wire.CanonicalTime(sent.Add(time.Hour)); !got.Equal(want) {
		t.Errorf("ExtensionLimitAt: got %s, want %s", got, want)
	}

	// Without expectedResponseTime, IEs or extensionLimit.
	bare := v1alpha1.QuotationOrderSpec{CPD: spec.CPD}
	req, err = bare.Request(sent)
	if err != nil {
		t.Fatal(err)
	}
	if req.ExpectedResponseTime != nil || req.InformationElements != nil {
		t.Errorf("bare request: got ERT %v and IEs %+v, want neither", req.ExpectedResponseTime, req.InformationElements)
	}
	if got, want := bare.ExtensionLimitAt(sent), wire.CanonicalTime(sent); !got.Equal(want) {
		t.Errorf("ExtensionLimitAt without a limit: got %s, want %s (refuse every request for more time)", got, want)
	}

	// Errors name the field.
	bad := spec
	bad.CPD = v1alpha1.CPD{}
	if _, err := bad.Request(sent); !errors.Is(err, v1alpha1.ErrInvalidCPD) {
		t.Errorf("empty cpd: got %v, want ErrInvalidCPD", err)
	}
	bad = spec
	bad.NegotiationOptions = &v1alpha1.NegotiationOptions{Scope: "Nowhere"}
	if _, err := bad.Request(sent); !errors.Is(err, v1alpha1.ErrInvalidField) {
		t.Errorf("bad scope: got %v, want ErrInvalidField", err)
	}
}
