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

package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultOfferValidity is the offer validity of a pool that sets no
// offerValidity: how long an OFFER stays open, and its capacity reserved
// (§9.1.8, DESIGN §3).
const DefaultOfferValidity = 5 * time.Minute

// MaxBps is the largest capacity, in bits per second, that a pool, a tenant
// limit or a holding may state (2^53, about 9 Pbps: the largest integer a
// JSON number carries exactly). Larger requested amounts are treated as
// MaxBps.
const MaxBps = int64(1) << 53

// Wildcard is the tenant identity that matches every identity without an
// entry of its own. Its limits apply to each such identity separately.
const Wildcard = "*"

// Config is the policy configuration: policy.yaml of the standalone
// cpnp-server (DESIGN §6), with the same schema as the CapacityPool spec so
// that the in-cluster server can build one from CapacityPool objects. The
// JSON (and YAML) member names are those of DESIGN §6; docs/policy.md
// documents every field.
type Config struct {
	// Pools are the capacity pools offers are drawn from.
	Pools []Pool `json:"pools,omitempty"`
	// Tenants say which client identities may draw from which pools and how
	// much (§8.2 "Check whether a Customer is entitled").
	Tenants []Tenant `json:"tenants,omitempty"`
	// Upstreams are the providers child orders go to (§8.8).
	Upstreams []Upstream `json:"upstreams,omitempty"`
}

// Pool is one capacity pool (a CapacityPool): capacity per direction, the
// QoS classes it can deliver, its availability, how orders are approved and
// how long offers stay valid.
type Pool struct {
	// Name identifies the pool; unique.
	Name string `json:"name"`
	// Capacity is the pool's total capacity per direction (RFC 7297 §3.5).
	Capacity Capacity `json:"capacity"`
	// QoSClasses are the classes the pool delivers, with their achievable
	// quantitative values (RFC 7297 §3.3).
	QoSClasses []QoSClass `json:"qosClasses,omitempty"`
	// AvailabilityPercent is the availability the pool guarantees (RFC 7297
	// §3.4), 0..100; 0 means the pool guarantees none.
	AvailabilityPercent float64 `json:"availabilityPercent,omitempty"`
	// Approval says when orders need administrative validation (§8.2, §12.2).
	Approval Approval `json:"approval,omitzero"`
	// OfferValidity is how long offers from the pool stay valid (§9.1.8);
	// DefaultOfferValidity when absent.
	OfferValidity *Duration `json:"offerValidity,omitempty"`
}

// Capacity is a capacity per direction in bits per second, seen from the
// customer nodes as in RFC 7297 §3.5 (incoming is delivered to them).
type Capacity struct {
	IncomingBps int64 `json:"incomingBps"`
	OutgoingBps int64 `json:"outgoingBps"`
}

// QoSClass is a QoS class a pool delivers (RFC 7297 §3.3): requested by
// name (qualitative QoS), or chosen for quantitative bounds its values meet.
// A metric the class does not state cannot meet a bound on that metric.
type QoSClass struct {
	// Name is the class name, e.g. "gold"; unique within the pool.
	Name string `json:"name"`
	// OneWayDelayMs is the achievable one-way delay (RFC 2679), >= 0.
	OneWayDelayMs *float64 `json:"oneWayDelayMs,omitempty"`
	// DelayVariationMs is the achievable delay variation (RFC 3393), >= 0.
	DelayVariationMs *float64 `json:"delayVariationMs,omitempty"`
	// LossRatio is the achievable packet loss ratio (RFC 2680), 0..1.
	LossRatio *float64 `json:"lossRatio,omitempty"`
}

// ApprovalMode says when a pool's orders wait for an administrator.
type ApprovalMode string

// Approval modes (§8.2 "order-handling modes", §12.2).
const (
	// ApprovalAutomatic: "fully automated mode", no administrator involved.
	ApprovalAutomatic ApprovalMode = "Automatic"
	// ApprovalManual: every order is held for administrative validation.
	ApprovalManual ApprovalMode = "Manual"
	// ApprovalThreshold: orders asking for more than AboveBps in either
	// direction are held; smaller ones are automatic.
	ApprovalThreshold ApprovalMode = "Threshold"
)

// Approval is a pool's order-handling mode (§8.2, §12.2).
type Approval struct {
	// Mode is Automatic (the default when empty), Manual or Threshold.
	Mode ApprovalMode `json:"mode,omitempty"`
	// AboveBps is the threshold of mode Threshold: an order whose requested
	// capacity exceeds it in either direction is held. Required for
	// Threshold, refused otherwise.
	AboveBps int64 `json:"aboveBps,omitempty"`
}

// Tenant is one client identity's entitlement (§8.2).
type Tenant struct {
	// Identity is the client certificate's URI SAN or CN (DESIGN §3), or
	// Wildcard ("*") for every identity without an entry of its own.
	Identity string `json:"identity"`
	// Pools are the pools the tenant may draw from; at least one.
	Pools []string `json:"pools"`
	// MaxIncomingBps and MaxOutgoingBps cap what the tenant holds across
	// all its pools, per direction; no cap when absent.
	MaxIncomingBps *int64 `json:"maxIncomingBps,omitempty"`
	MaxOutgoingBps *int64 `json:"maxOutgoingBps,omitempty"`
}

// Upstream is a provider child orders are negotiated with (§8.8). It is
// parsed and validated; the server engine dials it.
type Upstream struct {
	// Name identifies the upstream; unique.
	Name string `json:"name"`
	// Address is host:port, or a DNS SRV name _cpnp._udp.<domain>.
	Address string `json:"address"`
	// ServerName is the name verified in the upstream's certificate; the
	// address's host when empty.
	ServerName string `json:"serverName,omitempty"`
	// CAFile is the PEM bundle that verifies the upstream.
	CAFile string `json:"caFile,omitempty"`
	// CertFile and KeyFile are this server's client certificate and key
	// towards the upstream; both or neither.
	CertFile string `json:"certFile,omitempty"`
	KeyFile  string `json:"keyFile,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("5m",
// "90s"), like metav1.Duration in Kubernetes objects.
type Duration struct {
	time.Duration
}

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"5m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	d.Duration = v
	return nil
}

// Validity returns the pool's offer validity, DefaultOfferValidity when unset.
func (p Pool) Validity() time.Duration {
	if p.OfferValidity == nil {
		return DefaultOfferValidity
	}
	return p.OfferValidity.Duration
}

// Load reads and parses a policy file (Parse).
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("load policy: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("load policy %s: %w", path, err)
	}
	return c, nil
}

// Validate checks c and returns every violation, each a *FieldError naming
// the field path and the rule (joined with errors.Join; use errors.As).
// The rules are those of docs/policy.md.
func (c Config) Validate() error {
	var v validator
	pools := make(map[string]bool, len(c.Pools))
	for i, p := range c.Pools {
		path := "pools[" + strconv.Itoa(i) + "]"
		switch {
		case p.Name == "":
			v.add(path+".name", "is required")
		case pools[p.Name]:
			v.add(path+".name", fmt.Sprintf("duplicate pool name %q", p.Name))
		}
		pools[p.Name] = true
		v.positive(path+".capacity.incomingBps", p.Capacity.IncomingBps)
		v.positive(path+".capacity.outgoingBps", p.Capacity.OutgoingBps)
		classes := make(map[string]bool, len(p.QoSClasses))
		for j, q := range p.QoSClasses {
			cp := path + ".qosClasses[" + strconv.Itoa(j) + "]"
			switch {
			case q.Name == "":
				v.add(cp+".name", "is required")
			case classes[q.Name]:
				v.add(cp+".name", fmt.Sprintf("duplicate class name %q in the pool", q.Name))
			}
			classes[q.Name] = true
			v.between(cp+".oneWayDelayMs", q.OneWayDelayMs, 0, math.MaxFloat64, "must be a finite number >= 0")
			v.between(cp+".delayVariationMs", q.DelayVariationMs, 0, math.MaxFloat64, "must be a finite number >= 0")
			v.between(cp+".lossRatio", q.LossRatio, 0, 1, "must be between 0 and 1")
		}
		a := p.AvailabilityPercent
		v.between(path+".availabilityPercent", &a, 0, 100, "must be between 0 and 100")
		switch p.Approval.Mode {
		case "", ApprovalAutomatic, ApprovalManual:
			if p.Approval.AboveBps != 0 {
				v.add(path+".approval.aboveBps", "is only allowed with mode Threshold")
			}
		case ApprovalThreshold:
			v.positive(path+".approval.aboveBps", p.Approval.AboveBps)
		default:
			v.add(path+".approval.mode", fmt.Sprintf("must be Automatic, Manual or Threshold, got %q", p.Approval.Mode))
		}
		if p.OfferValidity != nil && p.OfferValidity.Duration <= 0 {
			v.add(path+".offerValidity", "must be a positive duration, got "+p.OfferValidity.String())
		}
	}
	identities := make(map[string]bool, len(c.Tenants))
	for i, t := range c.Tenants {
		path := "tenants[" + strconv.Itoa(i) + "]"
		switch {
		case t.Identity == "":
			v.add(path+".identity", "is required")
		case identities[t.Identity]:
			v.add(path+".identity", fmt.Sprintf("duplicate identity %q", t.Identity))
		}
		identities[t.Identity] = true
		if len(t.Pools) == 0 {
			v.add(path+".pools", "must name at least one pool")
		}
		seen := make(map[string]bool, len(t.Pools))
		for j, name := range t.Pools {
			pp := path + ".pools[" + strconv.Itoa(j) + "]"
			switch {
			case !pools[name] || name == "":
				v.add(pp, fmt.Sprintf("no pool named %q", name))
			case seen[name]:
				v.add(pp, fmt.Sprintf("pool %q listed twice", name))
			}
			seen[name] = true
		}
		v.limit(path+".maxIncomingBps", t.MaxIncomingBps)
		v.limit(path+".maxOutgoingBps", t.MaxOutgoingBps)
	}
	upstreams := make(map[string]bool, len(c.Upstreams))
	for i, u := range c.Upstreams {
		path := "upstreams[" + strconv.Itoa(i) + "]"
		switch {
		case u.Name == "":
			v.add(path+".name", "is required")
		case upstreams[u.Name]:
			v.add(path+".name", fmt.Sprintf("duplicate upstream name %q", u.Name))
		}
		upstreams[u.Name] = true
		if u.Address == "" {
			v.add(path+".address", "is required")
		} else if why := checkAddress(u.Address); why != "" {
			v.add(path+".address", why)
		}
		if (u.CertFile == "") != (u.KeyFile == "") {
			v.add(path+".keyFile", "certFile and keyFile must be set together")
		}
	}
	return v.err()
}

// checkAddress returns why addr is neither host:port nor a CPNP DNS SRV
// name, or "".
func checkAddress(addr string) string {
	if strings.HasPrefix(addr, "_cpnp._udp.") || strings.HasPrefix(addr, "_cpnp._tcp.") {
		if len(addr) == len("_cpnp._udp.") {
			return "the DNS SRV name has no domain"
		}
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return fmt.Sprintf("must be host:port or a DNS SRV name _cpnp._udp.<domain>, got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("port must be 1..65535, got %q", port)
	}
	return ""
}

// validator collects FieldErrors.
type validator struct{ errs []error }

func (v *validator) add(field, rule string) {
	v.errs = append(v.errs, &FieldError{Field: field, Rule: rule})
}

func (v *validator) positive(field string, n int64) {
	switch {
	case n <= 0:
		v.add(field, "must be positive, got "+strconv.FormatInt(n, 10))
	case n > MaxBps:
		v.add(field, "must be at most "+strconv.FormatInt(MaxBps, 10))
	}
}

func (v *validator) limit(field string, n *int64) {
	switch {
	case n == nil:
	case *n < 0:
		v.add(field, "must not be negative, got "+strconv.FormatInt(*n, 10))
	case *n > MaxBps:
		v.add(field, "must be at most "+strconv.FormatInt(MaxBps, 10))
	}
}

func (v *validator) between(field string, f *float64, lo, hi float64, rule string) {
	if f != nil && (math.IsNaN(*f) || *f < lo || *f > hi) {
		v.add(field, rule)
	}
}

func (v *validator) err() error {
	return errors.Join(v.errs...)
}
