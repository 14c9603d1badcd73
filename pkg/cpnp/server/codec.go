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
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// RecordFormat is the version of the encoding of the order records this
// release writes (kind OrdersKind) and the newest it reads. A record
// carries it in its "format" member; a record without one was written by
// an earlier release with encoding/json (format 1), which is the same JSON
// shape and still reads. A record of a newer format is refused with a
// *RecordFormatError: New fails rather than misread the orders (RFC 8921
// §8.11: the server must answer in-flight transactions from its store).
//
// Format 2 is JSON that encoding/json decodes into record, written by hand
// (appendRecord) instead of by reflection: CPDs in cpd's canonical form
// without re-validating them, messages with wire.Append, members that hold
// their zero value left out, into a pooled buffer. It is what made the
// write of every persisted step cheap (issue #3).
const RecordFormat = 2

// maxRecordBuffer bounds the buffers kept in recordBuffers: a record larger
// than this (an order with large CPDs) is encoded into a buffer that is
// then left to the garbage collector.
const maxRecordBuffer = 64 << 10

// recordBuffers recycles the buffers of encoded records: the store copies
// a record's value into its page during the commit, so the buffer is
// returned once the commit's done callback ran.
var recordBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// getRecordBuffer returns an empty buffer from recordBuffers.
func getRecordBuffer() *[]byte {
	bp, _ := recordBuffers.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 4096)
		bp = &b
	}
	*bp = (*bp)[:0]
	return bp
}

// putRecordBuffer returns b to recordBuffers unless it grew too large.
func putRecordBuffer(bp *[]byte) {
	if bp == nil || cap(*bp) > maxRecordBuffer {
		return
	}
	recordBuffers.Put(bp)
}

// errRecordEncoding wraps what cannot be encoded (a non-finite number in a
// CPD, a time outside years 0-9999, an invalid message).
var errRecordEncoding = errors.New("cannot encode record")

// recEncoder appends JSON to b; the first error sticks.
type recEncoder struct {
	b   []byte
	err error
	// comma is set when the object being written has a member already.
	comma bool
}

func (e *recEncoder) fail(what string, err error) {
	if e.err == nil {
		e.err = fmt.Errorf("%w: %s: %w", errRecordEncoding, what, err)
	}
}

// open starts an object; the returned value restores the enclosing
// object's comma state in close.
func (e *recEncoder) open() bool {
	c := e.comma
	e.b = append(e.b, '{')
	e.comma = false
	return c
}

func (e *recEncoder) close(outer bool) {
	e.b = append(e.b, '}')
	e.comma = outer
}

// key writes the member name (a constant without characters to escape).
func (e *recEncoder) key(name string) {
	if e.comma {
		e.b = append(e.b, ',')
	}
	e.comma = true
	e.b = append(e.b, '"')
	e.b = append(e.b, name...)
	e.b = append(e.b, '"', ':')
}

// str writes member name with s, left out when s is empty.
func (e *recEncoder) str(name, s string) {
	if s == "" {
		return
	}
	e.key(name)
	e.string(s)
}

// string writes s as a JSON string. Plain printable ASCII, what
// identifiers, nonces and state names are, is copied; anything else goes
// through encoding/json, whose escaping encoding/json reads back.
func (e *recEncoder) string(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, err := json.Marshal(s)
			if err != nil {
				e.fail("string", err)
				return
			}
			e.b = append(e.b, b...)
			return
		}
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, s...)
	e.b = append(e.b, '"')
}

func (e *recEncoder) uint(name string, v uint64) {
	e.key(name)
	e.b = strconv.AppendUint(e.b, v, 10)
}

func (e *recEncoder) int(name string, v int64) {
	if v == 0 {
		return
	}
	e.key(name)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *recEncoder) boolean(name string, v bool) {
	if !v {
		return
	}
	e.key(name)
	e.b = append(e.b, "true"...)
}

// time writes t as time.Time.MarshalJSON does (RFC 3339 with nanoseconds),
// left out when t is zero.
func (e *recEncoder) time(name string, t time.Time) {
	if t.IsZero() {
		return
	}
	e.key(name)
	e.appendTime(name, t)
}

// timePtr writes *t, zero included (it reads back as a pointer), left out
// when t is nil.
func (e *recEncoder) timePtr(name string, t *time.Time) {
	if t == nil {
		return
	}
	e.key(name)
	e.appendTime(name, *t)
}

func (e *recEncoder) appendTime(name string, t time.Time) {
	if y := t.Year(); y < 0 || y > 9999 {
		e.fail(name, fmt.Errorf("year %d outside [0,9999]", y))
		return
	}
	e.b = append(e.b, '"')
	e.b = t.AppendFormat(e.b, time.RFC3339Nano)
	e.b = append(e.b, '"')
}

// cpd writes c in cpd's canonical form (what cpd.CPD.MarshalJSON writes,
// without validating c again: every CPD of an order was validated when it
// was decoded from a message or when the policy made it).
//
// It appends into the record's buffer (cpd.CPD.AppendCanonical) rather
// than through a separate encoding (cpd.CPD.Canonical): a record holds up
// to three CPDs, and each write of an order encodes them all again.
func (e *recEncoder) cpd(name string, c *cpd.CPD) {
	e.key(name)
	b, err := c.AppendCanonical(e.b)
	if err != nil {
		e.fail(name, errors.New("cpd holds a non-finite number"))
		return
	}
	e.b = b
}

// message writes m with wire.Append (what wire.Message.MarshalJSON writes).
func (e *recEncoder) message(name string, m *wire.Message) {
	if m == nil {
		return
	}
	e.key(name)
	b, err := wire.Append(e.b, *m)
	if err != nil {
		e.fail(name, err)
		return
	}
	e.b = b
}

// value writes v with encoding/json: for the members that are rare on the
// hot path (information elements, schedules, child orders, failures).
func (e *recEncoder) value(name string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		e.fail(name, err)
		return
	}
	e.key(name)
	e.b = append(e.b, b...)
}

// appendRecord appends the encoding of r (format RecordFormat) to dst.
func appendRecord(dst []byte, r *record) ([]byte, error) {
	e := recEncoder{b: dst}
	outer := e.open()
	e.uint("format", RecordFormat)
	e.key("order")
	e.order(&r.Order)
	e.str("quotationTxn", r.QuotationTxn)
	e.str("peer", r.Peer)
	e.str("offerPool", r.OfferPool)
	e.str("agreementPool", r.AgreementPool)
	e.str("prevAgreementPool", r.PrevAgreementPool)
	e.str("decision", r.Decision)
	e.time("created", r.Created)
	e.time("updated", r.Updated)
	e.close(outer)
	if e.err != nil {
		return dst, e.err
	}
	return e.b, nil
}

func (e *recEncoder) order(o *fsm.ServerOrder) {
	outer := e.open()
	e.str("state", string(o.State))
	e.str("customerOrderID", o.CustomerOrderID)
	e.str("providerOrderID", o.ProviderOrderID)
	e.str("identity", o.Identity)
	e.key("request")
	e.request(&o.Request)
	if o.Update != nil {
		e.key("update")
		e.request(o.Update)
	}
	e.key("txn")
	e.txn(&o.Txn)
	e.str("offerNonce", o.OfferNonce)
	e.timePtr("expectedOfferTime", o.ExpectedOfferTime)
	e.timePtr("requestedOfferTime", o.RequestedOfferTime)
	e.str("consulted", string(o.Consulted))
	e.boolean("held", o.Held)
	if o.Offer != nil {
		e.key("offer")
		e.offer(o.Offer)
	}
	e.boolean("reserved", o.Reserved)
	if o.Agreement != nil {
		e.key("agreement")
		e.agreement(o.Agreement)
	}
	if o.PrevAgreement != nil {
		e.key("prevAgreement")
		e.agreement(o.PrevAgreement)
	}
	if o.Child != nil {
		e.value("child", o.Child)
	}
	if o.Failure != nil {
		e.value("failure", o.Failure)
	}
	if len(o.Timers) > 0 {
		e.key("timers")
		e.timers(o.Timers)
	}
	e.close(outer)
}

func (e *recEncoder) request(r *fsm.Request) {
	outer := e.open()
	e.cpd("cpd", &r.CPD)
	e.timePtr("expectedResponseTime", r.ExpectedResponseTime)
	if r.InformationElements != nil {
		e.value("informationElements", r.InformationElements)
	}
	e.close(outer)
}

func (e *recEncoder) txn(t *fsm.Transaction) {
	outer := e.open()
	e.str("kind", string(t.Kind))
	e.str("id", t.ID)
	e.key("counters")
	c := e.open()
	e.uint("out", uint64(t.Counters.Out))
	e.uint("in", uint64(t.Counters.In))
	e.boolean("inSet", t.Counters.InSet)
	e.close(c)
	e.message("unanswered", t.Unanswered)
	e.int("retries", int64(t.Retries))
	e.int("lastReceived", int64(t.LastReceived))
	e.message("lastAnswer", t.LastAnswer)
	e.close(outer)
}

func (e *recEncoder) offer(o *fsm.Offer) {
	outer := e.open()
	e.cpd("cpd", &o.CPD)
	e.str("nonce", o.Nonce)
	e.time("validUntil", o.ValidUntil)
	if o.ActivationSchedule != nil {
		e.value("activationSchedule", o.ActivationSchedule)
	}
	if o.InformationElements != nil {
		e.value("informationElements", o.InformationElements)
	}
	e.time("receivedAt", o.ReceivedAt)
	e.close(outer)
}

func (e *recEncoder) agreement(a *fsm.Agreement) {
	outer := e.open()
	e.cpd("cpd", &a.CPD)
	e.str("nonce", a.Nonce)
	e.str("activationType", string(a.ActivationType))
	e.boolean("active", a.Active)
	e.timePtr("scheduledAt", a.ScheduledAt)
	e.time("since", a.Since)
	e.close(outer)
}

// timers writes the timers in the order of their IDs, as encoding/json
// does, so that the encoding is deterministic.
func (e *recEncoder) timers(ts map[fsm.TimerID]time.Time) {
	var arr [8]fsm.TimerID
	ids := arr[:0]
	for id := range ts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	outer := e.open()
	for _, id := range ids {
		if e.comma {
			e.b = append(e.b, ',')
		}
		e.comma = true
		e.string(string(id))
		e.b = append(e.b, ':')
		e.appendTime("timers", ts[id])
	}
	e.close(outer)
}

// RecordFormatError reports a stored order written in a record format this
// release does not read (a newer release wrote it). It matches
// ErrRecordFormat.
type RecordFormatError struct {
	// ProviderOrderID is the record's ID.
	ProviderOrderID string
	// Found is the format of the record.
	Found int
	// Supported is the newest format this release reads (RecordFormat).
	Supported int
}

// Error implements error.
func (e *RecordFormatError) Error() string {
	return fmt.Sprintf("order %q: record format %d is newer than supported format %d: upgrade this server or use another data directory",
		e.ProviderOrderID, e.Found, e.Supported)
}

// Unwrap lets errors.Is match ErrRecordFormat.
func (e *RecordFormatError) Unwrap() error { return ErrRecordFormat }
