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

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// timeText formats a time for people: RFC 3339 in UTC, to the second.
func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// printEvent prints one progress line: time, state, reason (and the FAIL
// status code), or an alarm.
func printEvent(w io.Writer, ev client.Event) {
	switch ev.Kind {
	case client.EventAlarm:
		fmt.Fprintf(w, "%s  %-18s %s\n", timeText(ev.Order.UpdatedAt), "ALARM", ev.Alarm)
	case client.EventTransition:
		t := ev.Transition
		line := fmt.Sprintf("%s  %-18s %s", timeText(t.At), t.To, t.Reason)
		if t.StatusCode != 0 {
			dir := "FAIL"
			if ev.Failure != nil && ev.Failure.Sent {
				dir = "sent FAIL"
			}
			line += fmt.Sprintf(" (%s %d %s)", dir, int(t.StatusCode), t.StatusCode)
		}
		fmt.Fprintln(w, line)
	}
}

// offerText shows an offer, how it compares with the request, and how to
// answer it (RFC 8921 §9.2.3; cpd.Satisfies).
func offerText(o client.Order) string {
	off := o.FSM.Offer
	if off == nil {
		return ""
	}
	var w strings.Builder
	fmt.Fprintf(&w, "Offer for %s from %s (provider order %s), valid until %s:\n",
		o.ID(), o.Server, o.FSM.ProviderOrderID, timeText(off.ValidUntil))
	if b, err := yaml.Marshal(off.CPD); err == nil {
		w.WriteString(indent(string(b), "  "))
	}
	if ms := cpd.Satisfies(off.CPD, requestOf(o).CPD); len(ms) == 0 {
		w.WriteString("The offer satisfies every bound of the request.\n")
	} else {
		w.WriteString("The offer differs from the request:\n")
		for _, m := range ms {
			fmt.Fprintf(&w, "  - %s\n", m)
		}
	}
	fmt.Fprintf(&w, "To accept:  cpnpctl accept %s\nTo decline: cpnpctl decline %s --reason 1\n", o.ID(), o.ID())
	return w.String()
}

// requestOf is the request under negotiation: the UPDATE's during an
// update cycle, else the QUOTATION's.
func requestOf(o client.Order) fsm.Request {
	if o.FSM.Update != nil {
		return *o.FSM.Update
	}
	return o.FSM.Request
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

// orderView is an order as `status -o json|yaml` shows it. It never
// carries a nonce.
type orderView struct {
	CustomerOrderID   string            `json:"customerOrderID"`
	Name              string            `json:"name,omitempty"`
	Server            string            `json:"server"`
	State             string            `json:"state"`
	ProviderOrderID   string            `json:"providerOrderID,omitempty"`
	Transaction       string            `json:"transaction,omitempty"`
	TransactionID     string            `json:"transactionID,omitempty"`
	ExpectedOfferTime *time.Time        `json:"expectedOfferTime,omitempty"`
	PendingExtension  *time.Time        `json:"pendingExtension,omitempty"`
	Request           requestView       `json:"request"`
	Update            *requestView      `json:"update,omitempty"`
	Offer             *offerView        `json:"offer,omitempty"`
	Agreement         *agreementView    `json:"agreement,omitempty"`
	WithdrawAcked     bool              `json:"withdrawAcknowledged,omitempty"`
	Failure           *failureView      `json:"failure,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	Created           time.Time         `json:"created"`
	Updated           time.Time         `json:"updated"`
	History           []historyView     `json:"history,omitempty"`
}

type requestView struct {
	CPD                  cpd.CPD                   `json:"cpd"`
	ExpectedResponseTime *time.Time                `json:"expectedResponseTime,omitempty"`
	InformationElements  *wire.InformationElements `json:"informationElements,omitempty"`
}

type offerView struct {
	CPD                cpd.CPD        `json:"cpd"`
	ValidUntil         time.Time      `json:"validUntil"`
	ActivationSchedule *wire.Schedule `json:"activationSchedule,omitempty"`
	ReceivedAt         time.Time      `json:"receivedAt"`
}

type agreementView struct {
	CPD            cpd.CPD             `json:"cpd"`
	ActivationType wire.ActivationType `json:"activationType,omitempty"`
	Active         bool                `json:"active"`
	ScheduledAt    *time.Time          `json:"scheduledAt,omitempty"`
	Since          time.Time           `json:"since"`
}

type failureView struct {
	Reason     string `json:"reason"`
	StatusCode int    `json:"statusCode,omitempty"`
	Status     string `json:"status,omitempty"`
	Sent       bool   `json:"sent,omitempty"`
	Txn        string `json:"transaction,omitempty"`
	At         string `json:"at"`
}

type historyView struct {
	At         time.Time `json:"at"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Cause      string    `json:"cause"`
	Reason     string    `json:"reason"`
	StatusCode int       `json:"statusCode,omitempty"`
}

func viewOf(o client.Order) orderView {
	f := o.FSM
	v := orderView{
		CustomerOrderID:   o.ID(),
		Name:              o.Name,
		Server:            o.Server,
		State:             string(f.State),
		ProviderOrderID:   f.ProviderOrderID,
		Transaction:       string(f.Txn.Kind),
		TransactionID:     f.Txn.ID,
		ExpectedOfferTime: f.ExpectedOfferTime,
		PendingExtension:  f.PendingExtension,
		Request:           requestView{CPD: f.Request.CPD, ExpectedResponseTime: f.Request.ExpectedResponseTime, InformationElements: f.Request.InformationElements},
		WithdrawAcked:     f.WithdrawAcked,
		Labels:            o.Labels,
		Created:           o.CreatedAt,
		Updated:           o.UpdatedAt,
	}
	if u := f.Update; u != nil {
		v.Update = &requestView{CPD: u.CPD, ExpectedResponseTime: u.ExpectedResponseTime, InformationElements: u.InformationElements}
	}
	if off := f.Offer; off != nil {
		v.Offer = &offerView{CPD: off.CPD, ValidUntil: off.ValidUntil, ActivationSchedule: off.ActivationSchedule, ReceivedAt: off.ReceivedAt}
	}
	if a := f.Agreement; a != nil {
		v.Agreement = &agreementView{CPD: a.CPD, ActivationType: a.ActivationType, Active: a.Active, ScheduledAt: a.ScheduledAt, Since: a.Since}
	}
	if fl := f.Failure; fl != nil {
		v.Failure = &failureView{Reason: fl.Reason, StatusCode: int(fl.StatusCode), Sent: fl.Sent, Txn: string(fl.Txn), At: timeText(fl.At)}
		if fl.StatusCode != 0 {
			v.Failure.Status = fl.StatusCode.String()
		}
	}
	for _, t := range o.History {
		v.History = append(v.History, historyView{At: t.At, From: t.From, To: t.To, Cause: t.Cause, Reason: t.Reason, StatusCode: int(t.StatusCode)})
	}
	return v
}

// agreementText summarizes an order's agreement for a table cell.
func agreementText(o client.Order, now time.Time) string {
	f := o.FSM
	a := f.Agreement
	switch {
	case f.Txn.Kind == fsm.TxnWithdraw && f.WithdrawAcked:
		return "withdrawn"
	case f.Txn.Kind == fsm.TxnWithdraw && f.State == fsm.ClientCancelled && a != nil:
		return "withdrawing"
	case a == nil:
		return "-"
	case a.ActiveAt(now):
		return "active"
	case a.ScheduledAt != nil:
		return "scheduled " + timeText(*a.ScheduledAt)
	case a.ActivationType == wire.ActivationExplicit:
		return "inactive (explicit)"
	default:
		return "inactive"
	}
}

// writeStructured prints v as indented JSON or as YAML.
func writeStructured(w io.Writer, format string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	if format == outputYAML {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
