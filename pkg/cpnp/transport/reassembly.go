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

package transport

import (
	"errors"
	"fmt"
	"time"
)

// DropReason says why a received fragment (and with it, in most cases, the
// partial message it belonged to) was dropped. It indexes the fragment drop
// counters of Metrics and its String is a metric label value.
type DropReason int

// Fragment drop reasons (docs/wire.md "Fragmentation", receiver bounds).
const (
	// DropMalformed: not a well-formed envelope.
	DropMalformed DropReason = iota
	// DropInvalid: index outside 0..count-1, count < 2, or length smaller
	// than count.
	DropInvalid
	// DropOversize: length above MaxMessageSize, or more data than length.
	DropOversize
	// DropTooManyFragments: count above MaxFragments.
	DropTooManyFragments
	// DropInconsistent: count or length differ from earlier fragments of the
	// same id.
	DropInconsistent
	// DropLengthMismatch: all fragments arrived but their data does not add
	// up to length.
	DropLengthMismatch
	// DropTooManyPartials: a new message while MaxPartials are in reassembly.
	DropTooManyPartials
	// DropExpired: the message's first fragment is older than Timeout, or
	// the fragment belongs to a message that expired.
	DropExpired
	// DropDiscarded: the fragment belongs to a message already discarded for
	// one of the reasons above.
	DropDiscarded
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
	DropMalformed:        "malformed",
	DropInvalid:          "invalid",
	DropOversize:         "oversize",
	DropTooManyFragments: "too_many_fragments",
	DropInconsistent:     "inconsistent",
	DropLengthMismatch:   "length_mismatch",
	DropTooManyPartials:  "too_many_partials",
	DropExpired:          "expired",
	DropDiscarded:        "discarded",
}

// String returns the reason as a metric label value, e.g. "oversize".
func (r DropReason) String() string {
	if r < 0 || r >= numDropReasons {
		return fmt.Sprintf("DropReason(%d)", int(r))
	}
	return dropReasonNames[r]
}

// DropReasons lists every reason, for registering metrics up front.
func DropReasons() []DropReason {
	rs := make([]DropReason, numDropReasons)
	for i := range rs {
		rs[i] = DropReason(i)
	}
	return rs
}

// errDuplicateFragment: a fragment whose id and index were seen already
// (or whose message was already delivered); it is ignored.
var errDuplicateFragment = errors.New("duplicate fragment ignored")

// fragmentError reports a dropped fragment.
type fragmentError struct {
	ID     string
	Reason DropReason
	Detail string
}

func (e *fragmentError) Error() string {
	return fmt.Sprintf("fragment of message %s dropped: %s: %s", e.ID, e.Reason, e.Detail)
}

// partial is one message in reassembly.
type partial struct {
	count, length int
	first         time.Time
	received      int            // data bytes held
	parts         map[int][]byte // by index
}

// tombstone remembers an id whose message completed, expired or was
// discarded, so that late fragments of it are not taken for a new message.
type tombstone struct {
	id     string
	until  time.Time
	reason DropReason // DropExpired, DropDiscarded, or -1 for completed
}

const completed DropReason = -1

// reassembler joins the fragments of one association (docs/wire.md
// "Fragmentation"). It is pure: it reads no clock (now is passed in), holds
// at most MaxPartials messages of at most MaxMessageSize data bytes each and
// a fixed number of tombstones. It is not safe for concurrent use; a Conn
// uses it from ReadMessage only.
type reassembler struct {
	limits   ReassemblyLimits
	partials map[string]*partial
	tombs    []tombstone // ring of at most maxTombs entries
	next     int         // ring position of the next tombstone
}

// tombsPerPartial sizes the tombstone ring relative to MaxPartials.
const tombsPerPartial = 8

func newReassembler(limits ReassemblyLimits) *reassembler {
	limits = limits.withDefaults()
	return &reassembler{
		limits:   limits,
		partials: make(map[string]*partial, limits.MaxPartials),
	}
}

// pending is the number of messages in reassembly.
func (r *reassembler) pending() int { return len(r.partials) }

// add takes one fragment received at now. It returns the whole message when
// f completes one; errDuplicateFragment when f was seen already; a
// *fragmentError when f was dropped (and with it its partial message, except
// for DropTooManyPartials which leaves the others untouched); or nil, nil
// when f was stored and the message is still incomplete.
func (r *reassembler) add(f fragment, now time.Time) ([]byte, error) {
	r.expire(now)
	if t, ok := r.tomb(f.ID, now); ok {
		if t.reason == completed {
			return nil, errDuplicateFragment
		}
		reason := DropDiscarded
		if t.reason == DropExpired {
			reason = DropExpired
		}
		return nil, &fragmentError{ID: f.ID, Reason: reason, Detail: "message no longer in reassembly"}
	}
	if reason, detail, bad := r.check(f); bad {
		return nil, r.discard(f.ID, reason, detail, now)
	}
	p := r.partials[f.ID]
	if p == nil {
		if len(r.partials) >= r.limits.MaxPartials {
			r.bury(f.ID, DropDiscarded, now)
			return nil, &fragmentError{ID: f.ID, Reason: DropTooManyPartials,
				Detail: fmt.Sprintf("%d messages already in reassembly", len(r.partials))}
		}
		p = &partial{count: f.Count, length: f.Length, first: now, parts: make(map[int][]byte)}
		r.partials[f.ID] = p
	}
	if f.Count != p.count || f.Length != p.length {
		return nil, r.discard(f.ID, DropInconsistent,
			fmt.Sprintf("count/length %d/%d, earlier %d/%d", f.Count, f.Length, p.count, p.length), now)
	}
	if _, dup := p.parts[f.Index]; dup {
		return nil, errDuplicateFragment
	}
	if p.received+len(f.Data) > p.length {
		return nil, r.discard(f.ID, DropOversize,
			fmt.Sprintf("more than %d data bytes", p.length), now)
	}
	p.parts[f.Index] = f.Data
	p.received += len(f.Data)
	if len(p.parts) < p.count {
		return nil, nil
	}
	if p.received != p.length {
		return nil, r.discard(f.ID, DropLengthMismatch,
			fmt.Sprintf("%d data bytes, length says %d", p.received, p.length), now)
	}
	msg := make([]byte, 0, p.length)
	for i := range p.count {
		msg = append(msg, p.parts[i]...)
	}
	delete(r.partials, f.ID)
	r.bury(f.ID, completed, now)
	return msg, nil
}

// check applies the bounds that a fragment must meet on its own.
func (r *reassembler) check(f fragment) (DropReason, string, bool) {
	switch {
	case f.Count > r.limits.MaxFragments:
		return DropTooManyFragments, fmt.Sprintf("count %d above %d", f.Count, r.limits.MaxFragments), true
	case f.Length > r.limits.MaxMessageSize:
		return DropOversize, fmt.Sprintf("length %d above %d", f.Length, r.limits.MaxMessageSize), true
	case f.Count < 2:
		return DropInvalid, fmt.Sprintf("count %d below 2", f.Count), true
	case f.Index < 0 || f.Index >= f.Count:
		return DropInvalid, fmt.Sprintf("index %d outside 0..%d", f.Index, f.Count-1), true
	case f.Length < f.Count:
		return DropInvalid, fmt.Sprintf("length %d below count %d", f.Length, f.Count), true
	case len(f.Data) == 0:
		return DropInvalid, "empty data", true
	}
	return 0, "", false
}

// discard drops the partial message id (if any) and remembers it.
func (r *reassembler) discard(id string, reason DropReason, detail string, now time.Time) error {
	delete(r.partials, id)
	r.bury(id, DropDiscarded, now)
	return &fragmentError{ID: id, Reason: reason, Detail: detail}
}

// expire discards partial messages older than Timeout and forgets old
// tombstones.
func (r *reassembler) expire(now time.Time) {
	for id, p := range r.partials {
		if now.Sub(p.first) >= r.limits.Timeout {
			delete(r.partials, id)
			r.bury(id, DropExpired, now)
		}
	}
}

// bury records a tombstone for id that lasts one Timeout.
func (r *reassembler) bury(id string, reason DropReason, now time.Time) {
	t := tombstone{id: id, until: now.Add(r.limits.Timeout), reason: reason}
	maxTombs := tombsPerPartial * r.limits.MaxPartials
	for i := range r.tombs {
		if r.tombs[i].id == id {
			r.tombs[i] = t
			return
		}
	}
	if len(r.tombs) < maxTombs {
		r.tombs = append(r.tombs, t)
		return
	}
	r.tombs[r.next] = t
	r.next = (r.next + 1) % maxTombs
}

// tomb finds a live tombstone for id.
func (r *reassembler) tomb(id string, now time.Time) (tombstone, bool) {
	for _, t := range r.tombs {
		if t.id == id && now.Before(t.until) {
			return t, true
		}
	}
	return tombstone{}, false
}
