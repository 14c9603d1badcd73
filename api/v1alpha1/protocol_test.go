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
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

var t0 = time.Date(2026, time.November, 21, 22, 24, 25, 0, time.UTC)

// step runs one event through the client machine and fails the test when
// the machine did not end in state want.
func step(t *testing.T, o fsm.ClientOrder, ev fsm.Event, want fsm.ClientState) fsm.ClientOrder {
	t.Helper()
	o, _ = fsm.DefaultClient().Step(o, ev)
	if o.State != want {
		t.Fatalf("after %T: got state %s, want %s", ev, o.State, want)
	}
	return o
}

// clientOrderAfterAccept drives a client order through RFC 8921 Figure 6 up
// to a sent ACCEPT: it then holds the offer's nonce in Offer and in the
// unanswered ACCEPT.
func clientOrderAfterAccept(t *testing.T, req cpd.CPD) fsm.ClientOrder {
	t.Helper()
	quote := wire.Example(wire.MethodQuotation)
	o := fsm.NewClientOrder(quote.CustomerOrderID, fsm.Request{CPD: req}, true)
	o = step(t, o, fsm.Quote{At: t0, TransactionID: quote.TransactionID, Seq: quote.Seq}, fsm.ClientPQOSent)
	o = step(t, o, fsm.MsgReceived{Msg: wire.Example(wire.MethodOffer), Identity: "srv", At: t0.Add(time.Second)}, fsm.ClientOfferProcessing)
	return step(t, o, fsm.AcceptOffer{At: t0.Add(2 * time.Second)}, fsm.ClientAcceptSent)
}

// TestProtocolKeepsNoNonce checks that status.protocol never holds a nonce
// (DESIGN §5: nonces live in a Secret) and that DecodeProtocol restores the
// exact client order from it and the Secret's data.
// Reference: RFC 8921 §9.1.5, §13.
func TestProtocolKeepsNoNonce(t *testing.T) {
	t.Parallel()
	accepted := clientOrderAfterAccept(t, cpd.Sample())
	completed := step(t, accepted, fsm.MsgReceived{Msg: wire.Example(wire.MethodAck), Identity: "srv", At: t0.Add(3 * time.Second)}, fsm.ClientCompleted)
	nonce := wire.Example(wire.MethodOffer).Nonce

	tests := map[string]struct {
		order fsm.ClientOrder
		want  v1alpha1.Nonces
	}{
		"new order":          {fsm.NewClientOrder("acme-wan-0001", fsm.Request{CPD: cpd.Sample()}, false), v1alpha1.Nonces{}},
		"ACCEPT unanswered":  {accepted, v1alpha1.Nonces{Offer: nonce, Unanswered: nonce}},
		"agreement in force": {completed, v1alpha1.Nonces{Offer: nonce, Agreement: nonce}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, nonces, err := v1alpha1.EncodeProtocol(tc.order)
			if err != nil {
				t.Fatalf("EncodeProtocol: %v", err)
			}
			if diff := cmp.Diff(tc.want, nonces); diff != "" {
				t.Errorf("nonces (-want +got):\n%s", diff)
			}
			if strings.Contains(string(raw.Raw), nonce) {
				t.Errorf("status.protocol holds the nonce %s:\n%s", nonce, raw.Raw)
			}
			if !json.Valid(raw.Raw) || raw.Raw[0] != '{' {
				t.Errorf("status.protocol is not a JSON object: %s", raw.Raw)
			}
			// Through the Secret's data, as the controller stores them.
			got, err := v1alpha1.DecodeProtocol(raw, v1alpha1.NoncesFromSecretData(nonces.SecretData("p1."), "p1."))
			if err != nil {
				t.Fatalf("DecodeProtocol: %v", err)
			}
			if diff := cmp.Diff(tc.order, got); diff != "" {
				t.Errorf("decoded order (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeProtocolErrors covers what a controller may find in status.
func TestDecodeProtocolErrors(t *testing.T) {
	t.Parallel()
	raw, nonces, err := v1alpha1.EncodeProtocol(clientOrderAfterAccept(t, cpd.Sample()))
	if err != nil {
		t.Fatal(err)
	}
	lost := nonces
	lost.Unanswered = ""
	tests := map[string]struct {
		raw     *runtime.RawExtension
		nonces  v1alpha1.Nonces
		wantErr bool
		// wantIs is the sentinel the error matches, if one.
		wantIs error
		want   fsm.ClientState
	}{
		"absent":          {nil, v1alpha1.Nonces{}, false, nil, ""},
		"empty":           {&runtime.RawExtension{}, v1alpha1.Nonces{}, false, nil, ""},
		"nonce lost":      {raw, lost, true, v1alpha1.ErrNonceMissing, ""},
		"not an order":    {&runtime.RawExtension{Raw: []byte(`{"state": 7}`)}, v1alpha1.Nonces{}, true, nil, ""},
		"nonces complete": {raw, nonces, false, nil, fsm.ClientAcceptSent},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := v1alpha1.DecodeProtocol(tc.raw, tc.nonces)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Fatalf("got error %v, want one matching %v", err, tc.wantIs)
			}
			if got.State != tc.want {
				t.Errorf("state: got %q, want %q", got.State, tc.want)
			}
		})
	}
}
