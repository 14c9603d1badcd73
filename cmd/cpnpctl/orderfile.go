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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/wire"
)

// maxOrderFile bounds an order file (a CPD is at most 1 MiB, DESIGN §3).
const maxOrderFile = 2 << 20

// orderFile is the order.yaml format (docs/cpnpctl.md). Unknown fields are
// errors, at every level, including inside cpd.
type orderFile struct {
	// CustomerOrderID is CUSTOMER_ORDER_IDENTIFIER (§9.1.1); empty: generated.
	CustomerOrderID string `json:"customerOrderID,omitempty"`
	// ExpectedResponseTime is EXPECTED_RESPONSE_TIME (§9.1.6): a duration
	// from now ("10m") or an RFC 3339 time.
	ExpectedResponseTime string `json:"expectedResponseTime,omitempty"`
	// ExtensionLimit is the latest EXPECTED_OFFER_TIME granted without
	// asking (§9.2.2): a duration from now or an RFC 3339 time.
	ExtensionLimit string `json:"extensionLimit,omitempty"`
	// CPD is the Requested CPD in the DESIGN §3 JSON shape.
	CPD json.RawMessage `json:"cpd"`
	// Customer is the Customer Description IE (§9.1.10.1).
	Customer *customerSpec `json:"customer,omitempty"`
	// NegotiationOptions is the Negotiation Options IE (§9.1.10.3).
	NegotiationOptions *negotiationSpec `json:"negotiationOptions,omitempty"`
}

type customerSpec struct {
	Name    string       `json:"name,omitempty"`
	Contact *contactSpec `json:"contact,omitempty"`
}

type contactSpec struct {
	Email            string   `json:"email,omitempty"`
	PostalAddress    string   `json:"postalAddress,omitempty"`
	TelephoneNumbers []string `json:"telephoneNumbers,omitempty"`
}

type negotiationSpec struct {
	Purpose        string `json:"purpose,omitempty"`
	ActivationType string `json:"activationType,omitempty"`
	Scope          string `json:"scope,omitempty"`
}

// orderSpec is an order file resolved against a time.
type orderSpec struct {
	CustomerOrderID      string
	ExpectedResponseTime *time.Time
	ExtensionLimit       *time.Time
	CPD                  cpd.CPD
	InformationElements  *wire.InformationElements
}

// readOrderFile reads and parses the order file name ("-": standard input);
// relative times count from now.
func readOrderFile(in io.Reader, name string, now time.Time) (orderSpec, error) {
	if name == "" {
		return orderSpec{}, errors.New("flag -f is required: the order file (see docs/cpnpctl.md)")
	}
	r := in
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return orderSpec{}, fmt.Errorf("order file: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxOrderFile+1))
	if err != nil {
		return orderSpec{}, fmt.Errorf("order file %s: %w", displayName(name), err)
	}
	if len(data) > maxOrderFile {
		return orderSpec{}, fmt.Errorf("order file %s: larger than %d bytes", displayName(name), maxOrderFile)
	}
	spec, err := parseOrderFile(data, now)
	if err != nil {
		return orderSpec{}, fmt.Errorf("order file %s: %w", displayName(name), err)
	}
	return spec, nil
}

// parseOrderFile parses an order file (YAML or JSON) strictly.
func parseOrderFile(data []byte, now time.Time) (orderSpec, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return orderSpec{}, fmt.Errorf("not valid YAML: %w", err)
	}
	var tree any
	if err := json.Unmarshal(js, &tree); err != nil {
		return orderSpec{}, fmt.Errorf("not valid YAML: %w", err)
	}
	if _, ok := tree.(map[string]any); !ok {
		return orderSpec{}, errors.New("want a mapping with cpd, expectedResponseTime, ... (see docs/cpnpctl.md)")
	}
	if err := checkFields("", tree, reflect.TypeFor[orderFile]()); err != nil {
		return orderSpec{}, err
	}
	var f orderFile
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return orderSpec{}, fmt.Errorf("%s: want a %s, got a %s", te.Field, te.Type, te.Value)
		}
		return orderSpec{}, err
	}
	spec := orderSpec{CustomerOrderID: f.CustomerOrderID}
	if len(f.CPD) == 0 || string(f.CPD) == "null" {
		return orderSpec{}, errors.New("cpd: required (the Requested CPD, RFC 8921 §8.7)")
	}
	c, err := cpd.Parse(f.CPD)
	if err != nil {
		return orderSpec{}, fmt.Errorf("cpd: %w", err)
	}
	if err := c.Validate(true); err != nil {
		return orderSpec{}, fmt.Errorf("cpd: %w", err)
	}
	spec.CPD = c
	if spec.ExpectedResponseTime, err = parseWhen("expectedResponseTime", f.ExpectedResponseTime, now); err != nil {
		return orderSpec{}, err
	}
	if spec.ExtensionLimit, err = parseWhen("extensionLimit", f.ExtensionLimit, now); err != nil {
		return orderSpec{}, err
	}
	if spec.InformationElements, err = f.informationElements(); err != nil {
		return orderSpec{}, err
	}
	return spec, nil
}

// parseWhen parses a duration from now ("10m", "1h30m") or an RFC 3339
// time; "" is nil.
func parseWhen(field, s string, now time.Time) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return nil, fmt.Errorf("%s %q: a duration must be positive", field, s)
		}
		t := now.Add(d)
		return &t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, fmt.Errorf("%s %q: want a duration such as 10m or an RFC 3339 time such as 2026-05-01T12:00:00Z", field, s)
	}
	return &t, nil
}

func (f orderFile) informationElements() (*wire.InformationElements, error) {
	var ie wire.InformationElements
	if c := f.Customer; c != nil {
		d := &wire.CustomerDescription{Name: c.Name}
		if ct := c.Contact; ct != nil {
			d.Contact = &wire.Contact{Email: ct.Email, PostalAddress: ct.PostalAddress, TelephoneNumbers: ct.TelephoneNumbers}
		}
		ie.CustomerDescription = d
	}
	if n := f.NegotiationOptions; n != nil {
		o := &wire.NegotiationOptions{
			Purpose:        wire.Purpose(n.Purpose),
			ActivationType: wire.ActivationType(n.ActivationType),
			Scope:          wire.Scope(n.Scope),
		}
		switch {
		case !o.Purpose.Valid():
			return nil, fmt.Errorf("negotiationOptions.purpose %q: want permanent or test", n.Purpose)
		case !o.ActivationType.Valid():
			return nil, fmt.Errorf("negotiationOptions.activationType %q: want immediate, scheduled or explicit", n.ActivationType)
		case !o.Scope.Valid():
			return nil, fmt.Errorf("negotiationOptions.scope %q: want recursive or local", n.Scope)
		}
		ie.NegotiationOptions = o
	}
	if ie.CustomerDescription == nil && ie.NegotiationOptions == nil {
		return nil, nil
	}
	return &ie, nil
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	cpdType        = reflect.TypeFor[cpd.CPD]()
	valueType      = reflect.TypeFor[cpd.Value]()
)

// checkFields reports the first member of v (decoded JSON) that type t has
// no field for, by its path (e.g. cpd.components[0].qos.delay_ms). The cpd
// member is checked against cpd.CPD, whose decoder itself ignores unknown
// members (RFC 8921 §1: forward compatibility on the wire); in a file a
// person wrote, an unknown member is a typo. Type mismatches are left to
// the decoders.
func checkFields(path string, v any, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == rawMessageType && path == "cpd":
		return checkFields(path, v, cpdType)
	case t == valueType:
		if obj, ok := v.(map[string]any); ok {
			for _, k := range sortedKeys(obj) {
				if k != "min" && k != "max" {
					return fmt.Errorf("%s.%s: unknown field (a value is a number or {min, max})", path, k)
				}
			}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			ft, known := fields[k]
			p := joinPath(path, k)
			if !known {
				return fmt.Errorf("%s: unknown field (known: %s)", p, strings.Join(sortedKeys(fields), ", "))
			}
			if err := checkFields(p, obj[k], ft); err != nil {
				return err
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok || t == rawMessageType {
			return nil
		}
		for i, e := range arr {
			if err := checkFields(path+"["+strconv.Itoa(i)+"]", e, t.Elem()); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonFields maps the JSON member names of struct type t to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type)
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
