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

package cpd

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// diffEncoding returns "" when the canonical encoder and the former
// json.Marshal one (refEncode) produce the same bytes for c, or both fail.
func diffEncoding(c CPD) string {
	got, err := c.encode()
	want, wantErr := refEncode(c)
	switch {
	case (err == nil) != (wantErr == nil):
		return "got error " + errString(err) + ", reference error " + errString(wantErr)
	case !bytes.Equal(got, want):
		return "got  " + string(got) + "\nwant " + string(want)
	case Equal(c, c) != (err == nil):
		return "Equal(c, c) disagrees with the encoding error"
	}
	return ""
}

// allBytes is every byte value, as a string, so that the encoder meets each
// escape rule and invalid UTF-8.
func allBytes() string {
	var b strings.Builder
	for c := range 256 {
		b.WriteByte(byte(c))
	}
	return b.String()
}

// The canonical encoding is byte-identical to what json.Marshal wrote for
// the model, including for CPDs that Validate refuses (Canonical does not
// validate). Reference: RFC 8921 §9.2.6, Tables 5 and 6 (equality of the
// ACK's copy); RFC 8259 §7 (strings).
func TestCanonicalMatchesReference(t *testing.T) {
	t.Parallel()
	weird := allBytes() + "\u2028\u2029\uFFFD<>&\xed\xa0\x80é😀"
	nan, inf := math.NaN(), math.Inf(1)
	tests := map[string]CPD{
		"zero":                     {},
		"empty":                    Empty(),
		"sample":                   Sample(),
		"sample concrete":          SampleConcrete(),
		"full":                     full(),
		"bench":                    benchCPD(),
		"nil customer nodes":       {Components: []Component{{}}},
		"empty customer nodes":     {Components: []Component{{CustomerNodes: []CustomerNode{}}}},
		"empty lists":              one(Component{ActivationMeans: []string{}, FlowIdentification: []FlowIdentifier{}, Scope: &Scope{Ingress: []string{}, Incoming: &Reachability{Prefixes: []string{}}}}),
		"empty clauses":            one(Component{Scope: &Scope{}, QoS: &QoS{}, Availability: &Availability{}, Capacity: &Capacity{}, TrafficIsolation: &TrafficIsolation{}, Conformance: &Conformance{}, OverallGuarantees: &OverallGuarantees{}, Routing: &Routing{}, Notifications: &Notifications{}}),
		"every byte in strings":    one(Component{CustomerNodes: []CustomerNode{{Identifier: weird, LinkIdentifier: weird, Localization: weird, SiteIdentifier: weird}}, ActivationMeans: []string{weird, ""}, InvocationMeans: InvocationMeans(weird)}),
		"every byte in clauses":    one(Component{Scope: &Scope{Model: ScopeModel(weird), Egress: []string{weird}}, QoS: &QoS{Class: weird, Bound: Bound(weird)}, Routing: &Routing{Topology: weird, Via: []string{weird}}, Notifications: &Notifications{DataModel: weird, Events: []string{weird}}}),
		"integers":                 one(Component{FlowIdentification: []FlowIdentifier{{SourcePort: ip(-1), DestinationPort: ip(math.MaxInt), Protocol: ip(math.MinInt), DSCP: ip(0), RemarkDSCP: ip(63)}, {TunnelEndpoint: "x"}}}),
		"numbers":                  one(Component{QoS: &QoS{OneWayDelayMs: Between(1e-7, 1e21), DelayVariationMs: AtLeast(math.Copysign(0, -1)), LossRatio: AtMost(5e-324), Percentile: 99.999}}),
		"negative zero percentile": one(Component{QoS: &QoS{Percentile: math.Copysign(0, -1)}}),
		"tiny percentile":          one(Component{QoS: &QoS{Percentile: 1e-9}}),
		"huge percentile":          one(Component{QoS: &QoS{Percentile: -1e300}}),
		"NaN percentile":           one(Component{QoS: &QoS{Percentile: nan}}),
		"infinite percentile":      one(Component{QoS: &QoS{Percentile: -inf}}),
		"NaN value":                one(Component{Capacity: &Capacity{OutgoingBps: AtLeast(nan)}}),
		"infinite value":           one(Component{Notifications: &Notifications{IntervalS: AtMost(inf)}}),
		"zero availability":        one(Component{Availability: &Availability{Bound: BoundAverage}}),
		"NaN availability":         one(Component{Availability: &Availability{Percent: Fixed(nan)}}),
		"backup paths":             one(Component{Routing: &Routing{BackupPaths: true}}),
		"many components":          {Components: append(append(full().Components, Sample().Components...), benchCPD().Components...)},
	}
	for name, c := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if d := diffEncoding(c); d != "" {
				t.Errorf("canonical encoding differs from json.Marshal's:\n%s", d)
			}
		})
	}
}

// FuzzCanonicalEquivalence builds CPDs from fuzzed strings, numbers and
// integers and checks that the canonical encoder writes what json.Marshal
// wrote. Reference: RFC 8921 §9.2.6; RFC 8259 §6, §7.
func FuzzCanonicalEquivalence(f *testing.F) {
	f.Add("ce1", "<a&b>\u2028", 1.5, 1e21, int64(46), true)
	f.Add("\xff\x00\"\\", "", math.NaN(), 0.0, int64(-1), false)
	f.Add("", "\t\n", math.Inf(-1), 1e-7, int64(math.MaxInt64), true)
	f.Fuzz(func(t *testing.T, s1, s2 string, f1, f2 float64, i int64, flag bool) {
		n := int(i)
		c := CPD{Components: []Component{{
			CustomerNodes: []CustomerNode{{Identifier: s1, Localization: s2}},
			Scope:         &Scope{Model: ScopeModel(s2), Ingress: []string{s1, s2}, Outgoing: &Reachability{Global: flag, Prefixes: []string{s2}}},
			QoS:           &QoS{Class: s1, OneWayDelayMs: Between(f1, f2), LossRatio: AtMost(f2), Percentile: f1},
			Availability:  &Availability{Percent: AtLeast(f2), Bound: Bound(s1)},
			Capacity:      &Capacity{IncomingBps: Fixed(f1)},
			FlowIdentification: []FlowIdentifier{
				{SourcePrefix: s1, DSCP: &n},
				{DestinationPort: &n, LinkIdentifier: s2},
			},
			Routing:         &Routing{BackupPaths: flag, Topology: s2},
			InvocationMeans: InvocationMeans(s1),
			Notifications:   &Notifications{Means: []string{s1}, IntervalS: Fixed(f2)},
		}}}
		if d := diffEncoding(c); d != "" {
			t.Fatalf("canonical encoding differs from json.Marshal's:\n%s", d)
		}
	})
}

// A CPD holding a non-finite number has no canonical encoding and equals
// nothing, on either side of Equal. Reference: RFC 8259 §6; RFC 8921 §9.2.6.
func TestEqualNonFinite(t *testing.T) {
	t.Parallel()
	bad := one(Component{Capacity: &Capacity{IncomingBps: Fixed(math.Inf(-1))}})
	for name, pair := range map[string][2]CPD{"left": {bad, Sample()}, "right": {Sample(), bad}, "both": {bad, bad}} {
		if Equal(pair[0], pair[1]) {
			t.Errorf("%s: Equal: got true, want false", name)
		}
	}
}

// AppendCanonical appends exactly Canonical's bytes to the caller's buffer
// (the wire codec writes a message's CPD member with it), and leaves the
// buffer as it was for a CPD that has no encoding. Reference: RFC 8259 §6;
// RFC 8921 §9.1.9.1 (the CPD member of a message).
func TestAppendCanonical(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      CPD
		want    string
		wantErr bool
	}{
		"sample":     {in: Sample(), want: "prefix:" + string(Sample().Canonical())},
		"empty":      {in: Empty(), want: `prefix:{"components":[]}`},
		"non-finite": {in: one(Component{Capacity: &Capacity{IncomingBps: Fixed(math.NaN())}}), want: "prefix:", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.in.AppendCanonical([]byte("prefix:"))
			if (err != nil) != tt.wantErr || string(got) != tt.want {
				t.Errorf("AppendCanonical = %q, %v; want %q (error: %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
