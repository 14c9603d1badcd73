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
	"encoding/json"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
)

// NoncePlaceholder stands for every nonce in status.protocol. It is a valid
// nonce in form (32 hex digits, RFC 8921 §9.1.5) so that the stored
// messages still encode (wire.Message validates what it encodes), and it is never a real one: real nonces come from
// crypto/rand, which draws it with probability 2^-128.
const NoncePlaceholder = "00000000000000000000000000000000"

// ErrNonceMissing is returned by DecodeProtocol when status.protocol holds a
// placeholder for a nonce that Nonces does not have (the Secret was lost).
var ErrNonceMissing = errors.New("nonce missing for the protocol state")

// Nonces are the nonces of one client order (RFC 8921 §9.1.5), kept out of
// status: DESIGN §5 keeps them in a Secret owned by the object. Each field
// is the nonce found at one place of fsm.ClientOrder; an empty field means
// none was there.
// +kubebuilder:object:generate=false
type Nonces struct {
	// Offer is ClientOrder.Offer.Nonce.
	Offer string
	// Agreement is ClientOrder.Agreement.Nonce.
	Agreement string
	// Unanswered is ClientOrder.Txn.Unanswered.Nonce (an ACCEPT, a DECLINE,
	// an UPDATE, an ACTIVATE or a WITHDRAW awaiting its answer).
	Unanswered string
	// LastAnswer is ClientOrder.Txn.LastAnswer.Nonce.
	LastAnswer string
}

// Secret data keys of Nonces (SecretData, NoncesFromSecretData).
const (
	nonceKeyOffer      = "offer"
	nonceKeyAgreement  = "agreement"
	nonceKeyUnanswered = "unanswered"
	nonceKeyLastAnswer = "lastAnswer"
)

// SecretData returns n as Secret data, each key prefixed with prefix (for
// example "p1." for the negotiation with provider p1; a Secret key is
// made of alphanumerics, '-', '_' and '.'). Empty nonces are left out.
func (n Nonces) SecretData(prefix string) map[string][]byte {
	data := make(map[string][]byte, 4)
	for k, v := range map[string]string{
		nonceKeyOffer: n.Offer, nonceKeyAgreement: n.Agreement,
		nonceKeyUnanswered: n.Unanswered, nonceKeyLastAnswer: n.LastAnswer,
	} {
		if v != "" {
			data[prefix+k] = []byte(v)
		}
	}
	return data
}

// NoncesFromSecretData reads what SecretData wrote with the same prefix.
func NoncesFromSecretData(data map[string][]byte, prefix string) Nonces {
	return Nonces{
		Offer:      string(data[prefix+nonceKeyOffer]),
		Agreement:  string(data[prefix+nonceKeyAgreement]),
		Unanswered: string(data[prefix+nonceKeyUnanswered]),
		LastAnswer: string(data[prefix+nonceKeyLastAnswer]),
	}
}

// noncePlaces returns pointers to the four nonce fields of o, in the order
// of Nonces' fields; a nil pointer is a place o does not have.
func noncePlaces(o *fsm.ClientOrder) [4]*string {
	var p [4]*string
	if o.Offer != nil {
		p[0] = &o.Offer.Nonce
	}
	if o.Agreement != nil {
		p[1] = &o.Agreement.Nonce
	}
	if o.Txn.Unanswered != nil {
		p[2] = &o.Txn.Unanswered.Nonce
	}
	if o.Txn.LastAnswer != nil {
		p[3] = &o.Txn.LastAnswer.Nonce
	}
	return p
}

func (n *Nonces) fields() [4]*string {
	return [4]*string{&n.Offer, &n.Agreement, &n.Unanswered, &n.LastAnswer}
}

// EncodeProtocol returns the client order o as the value of a
// status.protocol field, with every nonce replaced by NoncePlaceholder, and
// the nonces it removed. The controller writes the nonces to the object's
// Secret before it writes the status (write-ahead, DESIGN §4), so that
// DecodeProtocol can always restore them.
func EncodeProtocol(o fsm.ClientOrder) (*runtime.RawExtension, Nonces, error) {
	c := o.Clone()
	var n Nonces
	nf := n.fields()
	for i, p := range noncePlaces(&c) {
		if p != nil && *p != "" {
			*nf[i] = *p
			*p = NoncePlaceholder
		}
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, Nonces{}, fmt.Errorf("encode protocol state: %w", err)
	}
	return &runtime.RawExtension{Raw: raw}, n, nil
}

// DecodeProtocol reads a status.protocol value written by EncodeProtocol
// and puts the nonces back. A nil or empty raw is the zero ClientOrder. A
// placeholder whose nonce n lacks is ErrNonceMissing.
func DecodeProtocol(raw *runtime.RawExtension, n Nonces) (fsm.ClientOrder, error) {
	var o fsm.ClientOrder
	if raw == nil || len(raw.Raw) == 0 {
		return o, nil
	}
	if err := json.Unmarshal(raw.Raw, &o); err != nil {
		return fsm.ClientOrder{}, fmt.Errorf("decode protocol state: %w", err)
	}
	nf := n.fields()
	names := [4]string{"offer", "agreement", "unanswered message", "last answer"}
	for i, p := range noncePlaces(&o) {
		if p == nil || *p != NoncePlaceholder {
			continue
		}
		if *nf[i] == "" {
			return fsm.ClientOrder{}, fmt.Errorf("decode protocol state: %s: %w", names[i], ErrNonceMissing)
		}
		*p = *nf[i]
	}
	return o, nil
}
