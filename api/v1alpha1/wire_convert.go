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

package v1alpha1

import (
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// This file converts the API's Information Elements (RFC 8921 §9.1.10),
// activation schedules (§9.2.11), decline reasons (Table 3), FAIL status
// codes (Table 4) and client machine records to and from the protocol types.

// ErrInvalidField is matched (errors.Is) by the errors of the conversions
// below other than the CPD's.
var ErrInvalidField = errors.New("invalid field")

// FieldError names an API field that cannot be converted to the protocol.
// It matches ErrInvalidField.
// +kubebuilder:object:generate=false
type FieldError struct {
	// Field is the path of the field, e.g. "negotiationOptions.purpose".
	Field string
	// Detail says what is wrong.
	Detail string
}

// Error returns "field: detail".
func (e *FieldError) Error() string { return e.Field + ": " + e.Detail }

// Is makes errors.Is(err, ErrInvalidField) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidField }

var (
	purposes = map[Purpose]wire.Purpose{
		PurposePermanent: wire.PurposePermanent, PurposeTest: wire.PurposeTest,
	}
	activationTypes = map[ActivationType]wire.ActivationType{
		ActivationImmediate: wire.ActivationImmediate, ActivationScheduled: wire.ActivationScheduled, ActivationExplicit: wire.ActivationExplicit,
	}
	negotiationScopes = map[NegotiationScope]wire.Scope{
		ScopeRecursive: wire.ScopeRecursive, ScopeLocal: wire.ScopeLocal,
	}
	declineReasons = map[DeclineReason]wire.Reason{
		DeclineUnacceptableGap: wire.ReasonUnacceptableGap, DeclineConflictWithOtherOffer: wire.ReasonConflictWithOtherOffer,
		DeclineActivationTypeMismatch: wire.ReasonActivationTypeMismatch,
	}
)

func fieldEnum[A, W comparable](field string, table map[A]W, v A) (W, error) {
	var zero A
	if v == zero {
		var none W
		return none, nil
	}
	w, ok := table[v]
	if !ok {
		var none W
		return none, &FieldError{Field: field, Detail: fmt.Sprintf("unknown value %v", v)}
	}
	return w, nil
}

func fieldEnumFrom[A, W comparable](table map[A]W, w W) (A, bool) {
	for a, x := range table {
		if x == w {
			return a, true
		}
	}
	var zero A
	return zero, false
}

// ToProtocol converts the Negotiation Options IE (RFC 8921 §9.1.10.3); it
// returns nil when no option is set.
func (o *NegotiationOptions) ToProtocol() (*wire.NegotiationOptions, error) {
	if o == nil {
		return nil, nil
	}
	var (
		out wire.NegotiationOptions
		err error
	)
	if out.Purpose, err = fieldEnum("negotiationOptions.purpose", purposes, o.Purpose); err != nil {
		return nil, err
	}
	if out.ActivationType, err = fieldEnum("negotiationOptions.activationType", activationTypes, o.ActivationType); err != nil {
		return nil, err
	}
	if out.Scope, err = fieldEnum("negotiationOptions.scope", negotiationScopes, o.Scope); err != nil {
		return nil, err
	}
	if out == (wire.NegotiationOptions{}) {
		return nil, nil
	}
	return &out, nil
}

// NegotiationOptionsFromProtocol converts the Negotiation Options IE; values
// outside RFC 8921 §9.1.10.3 are dropped (wire.Decode refuses them anyway).
func NegotiationOptionsFromProtocol(o *wire.NegotiationOptions) *NegotiationOptions {
	if o == nil {
		return nil
	}
	var out NegotiationOptions
	out.Purpose, _ = fieldEnumFrom(purposes, o.Purpose)
	out.ActivationType, _ = fieldEnumFrom(activationTypes, o.ActivationType)
	out.Scope, _ = fieldEnumFrom(negotiationScopes, o.Scope)
	if out == (NegotiationOptions{}) {
		return nil
	}
	return &out
}

func (c *Contact) toProtocol() *wire.Contact {
	if c == nil || (c.Email == "" && c.PostalAddress == "" && len(c.TelephoneNumbers) == 0) {
		return nil
	}
	return &wire.Contact{Email: c.Email, PostalAddress: c.PostalAddress, TelephoneNumbers: textsToProtocol(c.TelephoneNumbers)}
}

func contactFromProtocol(c *wire.Contact) *Contact {
	if c == nil {
		return nil
	}
	return &Contact{Email: c.Email, PostalAddress: c.PostalAddress, TelephoneNumbers: textsFromProtocol(c.TelephoneNumbers)}
}

// ToProtocol converts the Customer Description IE (RFC 8921 §9.1.10.1); it
// returns nil when nothing is set.
func (d *CustomerDescription) ToProtocol() *wire.CustomerDescription {
	if d == nil {
		return nil
	}
	out := &wire.CustomerDescription{Name: d.Name, Contact: d.Contact.toProtocol()}
	if out.Name == "" && out.Contact == nil {
		return nil
	}
	return out
}

// CustomerDescriptionFromProtocol converts the Customer Description IE.
func CustomerDescriptionFromProtocol(d *wire.CustomerDescription) *CustomerDescription {
	if d == nil {
		return nil
	}
	return &CustomerDescription{Name: d.Name, Contact: contactFromProtocol(d.Contact)}
}

// ToProtocol converts the Provider Description IE (RFC 8921 §9.1.10.2); it
// returns nil when nothing is set.
func (d *ProviderDescription) ToProtocol() (*wire.ProviderDescription, error) {
	if d == nil {
		return nil, nil
	}
	out := &wire.ProviderDescription{Name: d.Name, Contact: d.Contact.toProtocol()}
	if d.ASNumber != nil {
		if *d.ASNumber < 1 || *d.ASNumber > 4294967295 {
			return nil, &FieldError{Field: "providerDescription.asNumber", Detail: fmt.Sprintf("must be 1 to 4294967295 (a 4-octet AS number, RFC 6793), got %d", *d.ASNumber)}
		}
		out.ASNumber = uint32(*d.ASNumber)
	}
	if out.Name == "" && out.Contact == nil && out.ASNumber == 0 {
		return nil, nil
	}
	return out, nil
}

// ProviderDescriptionFromProtocol converts the Provider Description IE.
func ProviderDescriptionFromProtocol(d *wire.ProviderDescription) *ProviderDescription {
	if d == nil {
		return nil
	}
	out := &ProviderDescription{Name: d.Name, Contact: contactFromProtocol(d.Contact)}
	if d.ASNumber != 0 {
		n := int64(d.ASNumber)
		out.ASNumber = &n
	}
	return out
}

// ToProtocol converts an activation schedule to ACTIVATION_SCHEDULE (RFC
// 8921 §9.2.11). An Activate without a time means now: the shell passes its
// clock reading (the pure packages read no clock).
func (s ActivationSchedule) ToProtocol(now time.Time) (wire.Schedule, error) {
	switch s.Action {
	case ActivationActionDeactivate:
		if s.At != nil {
			return wire.Schedule{}, &FieldError{Field: "at", Detail: "only applies to action Activate (RFC 8921 §9.2.11)"}
		}
		return wire.ScheduleDeactivate(), nil
	case ActivationActionActivate, "":
		if s.At == nil {
			return wire.ScheduleAt(now), nil
		}
		return wire.ScheduleAt(s.At.Time), nil
	}
	return wire.Schedule{}, &FieldError{Field: "action", Detail: fmt.Sprintf("must be Activate or Deactivate, got %q", string(s.Action))}
}

// ActivationScheduleFromProtocol converts an ACTIVATION_SCHEDULE. The API
// keeps whole seconds (metav1.Time), so a time is rounded down to the second.
func ActivationScheduleFromProtocol(s wire.Schedule) ActivationSchedule {
	if s.Deactivate {
		return ActivationSchedule{Action: ActivationActionDeactivate}
	}
	return ActivationSchedule{Action: ActivationActionActivate, At: timeFromProtocol(s.At)}
}

// timeFromProtocol converts a protocol time to a metav1.Time rounded down to
// the second, the precision metav1.Time keeps in JSON.
func timeFromProtocol(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}

// DeclineReasonsToProtocol converts DECLINE reasons to Table 3 codes (RFC
// 8921 §9.2.5).
func DeclineReasonsToProtocol(rs []DeclineReason) ([]wire.Reason, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	out := make([]wire.Reason, len(rs))
	for i, r := range rs {
		w, ok := declineReasons[r]
		if !ok {
			return nil, &FieldError{Field: index("declineReasons", i), Detail: fmt.Sprintf("unknown reason %q", string(r))}
		}
		out[i] = w
	}
	return out, nil
}

// DeclineReasonFromProtocol converts a Table 3 code; false for an unknown code.
func DeclineReasonFromProtocol(r wire.Reason) (DeclineReason, bool) {
	return fieldEnumFrom(declineReasons, r)
}

// StatusCodeFromProtocol converts a FAIL status code (Table 4) to the API's
// optional integer: nil for 0 (no FAIL).
func StatusCodeFromProtocol(c wire.StatusCode) *int32 {
	if c == 0 {
		return nil
	}
	v := int32(c)
	return &v
}

// StatusCodeToProtocol converts the API's optional status code.
func StatusCodeToProtocol(c *int32) wire.StatusCode {
	if c == nil {
		return 0
	}
	return wire.StatusCode(*c)
}

// FailureFromProtocol converts a failure the client machine recorded; the
// message names the FAIL code (Table 4) when there is one.
func FailureFromProtocol(f fsm.Failure) Failure {
	out := Failure{
		StatusCode: StatusCodeFromProtocol(f.StatusCode),
		Reason:     f.Reason,
	}
	if f.StatusCode != 0 {
		out.Sender = FailureSenderServer
		if f.Sent {
			out.Sender = FailureSenderClient
		}
		out.Message = fmt.Sprintf("FAIL %d (%s)", int(f.StatusCode), f.StatusCode)
	}
	if !f.At.IsZero() {
		out.Time = timeFromProtocol(f.At)
	}
	return out
}

// TransitionFromProtocol converts a transition of the client machine to a
// history entry; provider is "kind/name" for an order with several
// providers, else "".
func TransitionFromProtocol(provider string, t fsm.Transition) Transition {
	return Transition{
		Time:       *timeFromProtocol(t.At),
		Provider:   provider,
		From:       t.From,
		To:         t.To,
		Cause:      t.Cause,
		Reason:     t.Reason,
		StatusCode: StatusCodeFromProtocol(t.StatusCode),
	}
}

// AppendHistory appends t to h and drops the oldest entries beyond MaxHistory.
func AppendHistory(h []Transition, t ...Transition) []Transition {
	h = append(h, t...)
	if n := len(h) - MaxHistory; n > 0 {
		h = append(h[:0:0], h[n:]...)
	}
	return h
}

// InformationElements returns the IEs the QUOTATION carries: the customer
// description and the negotiation options (RFC 8921 §9.1.10); nil when the
// spec sets neither.
func (s *QuotationOrderSpec) InformationElements() (*wire.InformationElements, error) {
	opts, err := s.NegotiationOptions.ToProtocol()
	if err != nil {
		return nil, err
	}
	ie := &wire.InformationElements{CustomerDescription: s.Customer.ToProtocol(), NegotiationOptions: opts}
	if ie.CustomerDescription == nil && ie.NegotiationOptions == nil {
		return nil, nil
	}
	return ie, nil
}

// Request returns what the QUOTATION sent at sentAt asks for (RFC 8921
// §9.2.1): the Requested CPD, EXPECTED_RESPONSE_TIME (sentAt plus
// spec.expectedResponseTime) and the IEs. Errors name the field.
func (s *QuotationOrderSpec) Request(sentAt time.Time) (fsm.Request, error) {
	c, err := s.CPD.ToProtocol()
	if err != nil {
		return fsm.Request{}, fmt.Errorf("spec.cpd: %w", err)
	}
	ie, err := s.InformationElements()
	if err != nil {
		return fsm.Request{}, fmt.Errorf("spec: %w", err)
	}
	req := fsm.Request{CPD: c, InformationElements: ie}
	if s.ExpectedResponseTime != nil {
		t := wire.CanonicalTime(sentAt.Add(s.ExpectedResponseTime.Duration))
		req.ExpectedResponseTime = &t
	}
	return req, nil
}

// ExtensionLimitAt returns fsm.ClientOrder.ExtensionLimit for a QUOTATION
// sent at sentAt: sentAt plus spec.extensionLimit, or sentAt itself when
// the spec sets none, so that every request for more time is refused with
// FAIL 7 (RFC 8921 §9.2.2, Figure 12).
func (s *QuotationOrderSpec) ExtensionLimitAt(sentAt time.Time) time.Time {
	if s.ExtensionLimit == nil {
		return wire.CanonicalTime(sentAt)
	}
	return wire.CanonicalTime(sentAt.Add(s.ExtensionLimit.Duration))
}
