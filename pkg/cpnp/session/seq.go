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

package session

// Counters are the two sequence numbers that one side keeps for one
// transaction (RFC 8921 §11.3): the next number it sends and the last number
// it accepted. The zero value has sent nothing and accepted nothing.
//
// Counters is a plain value so that it can be persisted with the order it
// belongs to (the operator keeps it in resource status, the server in bbolt).
type Counters struct {
	// Out is the sequence number the next new outgoing message carries.
	Out uint32 `json:"out"`
	// In is the last accepted incoming sequence number; meaningful when InSet.
	In uint32 `json:"in"`
	// InSet is false until the first incoming message is accepted.
	InSet bool `json:"inSet,omitempty"`
}

// NewCounters starts a transaction whose first outgoing message carries first.
// §8.4: the client selects the first number randomly; the caller (the shell)
// draws it, since this package reads no randomness. Callers should draw it
// below 2^31 so that the counter cannot wrap within a transaction.
func NewCounters(first uint32) Counters { return Counters{Out: first} }

// Next returns the number for a new outgoing message and advances Out by one
// (§11.3). A retransmission reuses the number it was first sent with and does
// not call Next (§11.1.1, §11.4).
//
// §11.3 does not say what follows 2^32-1: Out wraps to 0 (uint32
// arithmetic), which the peer's Check then classifies as Stale, so the
// transaction would stall. Drawing the first number below 2^31 (NewCounters)
// leaves 2^31 messages before that can happen, far more than a transaction
// exchanges.
func (c *Counters) Next() uint32 {
	n := c.Out
	c.Out++
	return n
}

// Verdict classifies an incoming sequence number against the counters.
type Verdict int

// Verdicts of Check.
const (
	// Fresh: larger than the last accepted number (or the first one): process it.
	Fresh Verdict = iota
	// Repeat: equal to the last accepted number: a retransmission of the last
	// message handled, which may be answered from the duplicate cache (§11.4).
	Repeat
	// Stale: lower than the last accepted number: discard (§11.3).
	Stale
)

// String names the verdict.
func (v Verdict) String() string {
	switch v {
	case Fresh:
		return "Fresh"
	case Repeat:
		return "Repeat"
	case Stale:
		return "Stale"
	}
	return "Verdict(?)"
}

// Check classifies seq without changing the counters (§11.3: "check whether
// the sequence number in the message is larger than the incoming sequence
// number maintained locally. If not, the message will be discarded").
func (c Counters) Check(seq uint32) Verdict {
	switch {
	case !c.InSet || seq > c.In:
		return Fresh
	case seq == c.In:
		return Repeat
	default:
		return Stale
	}
}

// Accept records seq as the last accepted incoming number, once the message
// carrying it "is proved to be legitimate" (§11.3). It never lowers In.
func (c *Counters) Accept(seq uint32) {
	if !c.InSet || seq > c.In {
		c.In = seq
		c.InSet = true
	}
}
