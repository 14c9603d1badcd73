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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReply: an answer copies the transaction's identifiers, and the
// provider order identifier and nonce only when its method carries them.
// Reference: RFC 8921 §8.4, §9.2.2 ("must copy"), §9.2.4 (copied from the OFFER).
func TestReply(t *testing.T) {
	t.Parallel()
	offer := Example(MethodOffer)
	tests := []struct {
		name string
		got  Message
		want Message
	}{
		{"ACCEPT answers OFFER", offer.Reply(MethodAccept, 7), Message{
			Version: 1, Method: MethodAccept, Seq: 7, TransactionID: offer.TransactionID,
			CustomerOrderID: offer.CustomerOrderID, ProviderOrderID: offer.ProviderOrderID, Nonce: offer.Nonce,
		}},
		{"CANCEL drops provider ID and nonce", offer.Reply(MethodCancel, 8), Message{
			Version: 1, Method: MethodCancel, Seq: 8, TransactionID: offer.TransactionID, CustomerOrderID: offer.CustomerOrderID,
		}},
		{"FAIL keeps provider ID, drops nonce", offer.Reply(MethodFail, 9), Message{
			Version: 1, Method: MethodFail, Seq: 9, TransactionID: offer.TransactionID,
			CustomerOrderID: offer.CustomerOrderID, ProviderOrderID: offer.ProviderOrderID,
		}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got, cmpOpts); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestStrip removes exactly the members the method does not carry.
// Reference: RFC 8921 §9.2.7 (CANCEL), §9.2.10 (FAIL).
func TestStrip(t *testing.T) {
	t.Parallel()
	full := fullMessage()
	for _, m := range Methods {
		msg := full
		msg.Method = m
		got := msg.Strip()
		for f := fTransactionID; f < numFields; f++ {
			if has, allowed := got.has(f), rules[m].allows(f); has != allowed {
				t.Errorf("%v: Strip left %s set=%v, want %v", m, fieldNames[f], has, allowed)
			}
		}
	}
	if diff := cmp.Diff(Example(MethodOffer), Example(MethodOffer).Strip(), cmpOpts); diff != "" {
		t.Errorf("Strip changed a clean message (-want +got):\n%s", diff)
	}
}

// TestMessageString never shows the nonce (STYLE §8).
func TestMessageString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    Message
		want string
	}{
		{Example(MethodQuotation), `QUOTATION seq=3172 txn=8f14e45fceea167a5a36dedd4bea2543 customer="acme-wan-0001"`},
		{Example(MethodFail), `FAIL seq=90211 txn=8f14e45fceea167a5a36dedd4bea2543 customer="acme-wan-0001" provider="ENP-2026-000417" status=5`},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
	if s := Example(MethodAccept).String(); strings.Contains(s, exampleNonce) {
		t.Errorf("String() = %q shows the nonce", s)
	}
}

// TestSchedule: the text form is the wire form.
// Reference: RFC 8921 §9.2.11 ("0" requests deactivation).
func TestSchedule(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.FixedZone("X", -5*3600))
	tests := []struct {
		name string
		s    Schedule
		text string
	}{
		{"deactivate", ScheduleDeactivate(), "0"},
		{"at", ScheduleAt(at), "2026-12-01T15:00:00.123Z"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.text {
			t.Errorf("%s: String() = %q, want %q", tt.name, got, tt.text)
		}
		b, err := tt.s.MarshalText()
		if err != nil || string(b) != tt.text {
			t.Errorf("%s: MarshalText() = %q, %v; want %q", tt.name, b, err, tt.text)
		}
		var back Schedule
		if err := back.UnmarshalText(b); err != nil || back != tt.s {
			t.Errorf("%s: UnmarshalText(%q) = %v, %v; want %v", tt.name, b, back, err, tt.s)
		}
	}
	var s Schedule
	err := s.UnmarshalText([]byte("tomorrow"))
	if got := verdictOf(t, err); got != (verdict{"activation_schedule", CodeInvalid}) {
		t.Errorf("UnmarshalText(tomorrow): got %+v (%v), want an activation_schedule error", got, err)
	}
	if _, err := ParseSchedule("10000-01-01T00:00:00Z"); err == nil {
		t.Error("ParseSchedule(year 10000): got nil error, want one")
	}
	if _, err := ParseSchedule("0000-01-01T00:00:00+01:00"); verdictOf(t, err).Code != CodeOutOfRange {
		t.Errorf("ParseSchedule(year -1 in UTC): got %v, want CodeOutOfRange", err)
	}
	if _, err := (Schedule{Deactivate: true, At: at}).MarshalText(); err == nil {
		t.Error("MarshalText of a deactivation with a time: got nil error, want one")
	}
}

func TestCanonicalTime(t *testing.T) {
	t.Parallel()
	in := time.Date(2026, 11, 21, 23, 24, 25, 999999999, time.FixedZone("CET", 3600))
	want := time.Date(2026, 11, 21, 22, 24, 25, 999000000, time.UTC)
	if got := CanonicalTime(in); got != want {
		t.Errorf("CanonicalTime(%v) = %v, want %v", in, got, want)
	}
}

func TestValidationErrorText(t *testing.T) {
	t.Parallel()
	e := &ValidationError{Field: "nonce", Code: CodeInvalid, Detail: "must be hex"}
	if got, want := e.Error(), "invalid CPNP message: nonce: must be hex"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &ValidationError{Code: CodeTooLarge, Detail: "too big"}
	if got, want := e.Error(), "invalid CPNP message: too big"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
