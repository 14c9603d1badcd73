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
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpd"
)

// fullCPD has every clause and member of RFC 7297 §3 (docs/cpd.md), with
// fixed, loose and half-open values.
func fullCPD() cpd.CPD {
	lo, hi := 10.0, 20.0
	return cpd.CPD{Components: []cpd.Component{
		{
			CustomerNodes: []cpd.CustomerNode{
				{Identifier: "ce-1", LinkIdentifier: "pe1:xe-0/0/1", Localization: "48.85,2.35", SiteIdentifier: "par-dc1"},
				{Identifier: "ce-2"},
			},
			Scope: &cpd.Scope{
				Model: cpd.ModelPipe, Ingress: []string{"pe1"}, Egress: []string{"pe2", "pe3"},
				Incoming: &cpd.Reachability{Global: true},
				Outgoing: &cpd.Reachability{Prefixes: []string{"10.0.0.0/8", "2001:db8::/32"}},
			},
			QoS: &cpd.QoS{
				OneWayDelayMs: cpd.Range(&lo, &hi), DelayVariationMs: cpd.Fixed(2), LossRatio: cpd.AtMost(0.01),
				Bound: cpd.BoundPercentile, Percentile: 99.9,
			},
			Availability:     &cpd.Availability{Percent: cpd.Between(99.9, 99.99), Bound: cpd.BoundMaximum},
			Capacity:         &cpd.Capacity{IncomingBps: cpd.AtLeast(1e8)},
			TrafficIsolation: &cpd.TrafficIsolation{},
			Conformance:      &cpd.Conformance{OutOfProfile: cpd.OutOfProfileRemark, RemarkClass: "le", MTU: cpd.Between(1500, 9000)},
			FlowIdentification: []cpd.FlowIdentifier{{
				SourcePrefix: "10.1.0.0/16", SourcePort: ptr.To(0), DestinationPrefix: "10.2.0.0/16",
				DestinationPort: ptr.To(443), Protocol: ptr.To(6), DSCP: ptr.To(0), TunnelEndpoint: "192.0.2.1",
				LinkIdentifier: "pe1:xe-0/0/1", RemarkDSCP: ptr.To(10),
			}},
			OverallGuarantees: &cpd.OverallGuarantees{Delay: "low", Loss: "low", Throughput: "high"},
			Routing: &cpd.Routing{
				Avoid: []string{"satellite"}, Via: []string{"firewall"}, GeographicRestrictions: []string{"EU"},
				Topology: "red", ForwardingBehavior: "EF", BackupPaths: true,
			},
			ActivationMeans: []string{"bgp", "pim"},
			InvocationMeans: cpd.InvocationExplicit,
			Notifications: &cpd.Notifications{
				Means: []string{"syslog"}, Events: []string{"outage"}, IntervalS: cpd.Fixed(60),
				DataModel: "ietf-cpp", Destination: "udp://192.0.2.9:514",
			},
		},
		{
			CustomerNodes:    []cpd.CustomerNode{{Identifier: "ce-3"}},
			QoS:              &cpd.QoS{Class: "gold"},
			TrafficIsolation: &cpd.TrafficIsolation{Required: true, Means: "ipsec"},
			InvocationMeans:  cpd.InvocationImplicit,
			Conformance:      &cpd.Conformance{OutOfProfile: cpd.OutOfProfileDiscard},
			Scope:            &cpd.Scope{Model: cpd.ModelUnspecifiedHose},
		},
	}}
}

// cpdOpts compares CPDs: cpd.Value has an Equal method; nil and empty
// slices are the same absent member.
var cpdOpts = cmp.Options{cmpopts.EquateEmpty()}

// TestCPDRoundTrip converts protocol CPDs to the API shape and back.
// Reference: RFC 8921 §8.7 (fixed and loosely defined values), RFC 7297 §3.
func TestCPDRoundTrip(t *testing.T) {
	t.Parallel()
	tests := map[string]cpd.CPD{
		"Sample (loose)":            cpd.Sample(),
		"SampleConcrete (concrete)": cpd.SampleConcrete(),
		"every clause":              fullCPD(),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := in.Validate(true); err != nil {
				t.Fatalf("the input is not valid: %v", err)
			}
			api := v1alpha1.CPDFromProtocol(in)
			got, err := api.ToProtocol()
			if err != nil {
				t.Fatalf("ToProtocol: %v", err)
			}
			if diff := cmp.Diff(in, got, cpdOpts); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			if !cpd.Equal(in, got) {
				t.Errorf("round trip: got canonical %s, want %s", got.Canonical(), in.Canonical())
			}
			// And back again: the API shape is stable too.
			if diff := cmp.Diff(api, v1alpha1.CPDFromProtocol(got)); diff != "" {
				t.Errorf("API round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCPDFromProtocolSample pins the mapping of docs/api.md on cpd.Sample():
// camelCase members, {value} or {min, max} objects, UpperCamelCase enums.
func TestCPDFromProtocolSample(t *testing.T) {
	t.Parallel()
	want := v1alpha1.CPD{Components: []v1alpha1.Component{
		{
			CustomerNodes: []v1alpha1.CustomerNode{{Identifier: "ce-par-1", Localization: "48.8566,2.3522"}},
			Scope: &v1alpha1.Scope{
				Model:    v1alpha1.ScopeModelHose,
				Outgoing: &v1alpha1.Reachability{Mode: v1alpha1.ReachabilityRestricted, Prefixes: []v1alpha1.CIDR{"10.20.0.0/16"}},
			},
			QoS: &v1alpha1.QoS{
				OneWayDelayMs:    &v1alpha1.Value{Max: ptr.To(30.0)},
				DelayVariationMs: &v1alpha1.Value{Max: ptr.To(5.0)},
				LossRatio:        &v1alpha1.RatioValue{Max: ptr.To(0.001)},
			},
			Availability: &v1alpha1.Availability{Percent: v1alpha1.PercentValue{Min: ptr.To(99.9)}, Bound: v1alpha1.AvailabilityBoundAverage},
			Capacity: &v1alpha1.Capacity{
				IncomingBps: &v1alpha1.Value{Min: ptr.To(100e6), Max: ptr.To(200e6)},
				OutgoingBps: &v1alpha1.Value{Min: ptr.To(100e6), Max: ptr.To(200e6)},
			},
			Conformance:        &v1alpha1.Conformance{OutOfProfile: v1alpha1.OutOfProfileRemark, MTU: &v1alpha1.MTUValue{Value: ptr.To[int32](1500)}},
			FlowIdentification: []v1alpha1.FlowIdentifier{{SourcePrefix: "10.10.0.0/16", DSCP: ptr.To[int32](46)}},
			ActivationMeans:    []v1alpha1.Text{"bgp"},
		},
		{
			CustomerNodes:    []v1alpha1.CustomerNode{{Identifier: "ce-lyo-1"}},
			QoS:              &v1alpha1.QoS{Class: "silver"},
			Capacity:         &v1alpha1.Capacity{OutgoingBps: &v1alpha1.Value{Min: ptr.To(50e6)}},
			TrafficIsolation: &v1alpha1.TrafficIsolation{Mode: v1alpha1.IsolationRequired, Means: "bgp-mpls-vpn"},
			Notifications:    &v1alpha1.Notifications{Means: []v1alpha1.Text{"syslog"}, IntervalS: &v1alpha1.Value{Max: ptr.To(300.0)}},
		},
	}}
	if diff := cmp.Diff(want, v1alpha1.CPDFromProtocol(cpd.Sample())); diff != "" {
		t.Errorf("CPDFromProtocol(cpd.Sample()) (-want +got):\n%s", diff)
	}
}

// TestCPDToProtocolErrors checks that ToProtocol refuses what the API
// server refuses, naming the member in API form.
func TestCPDToProtocolErrors(t *testing.T) {
	t.Parallel()
	valid := func() v1alpha1.CPD { return v1alpha1.CPDFromProtocol(cpd.Sample()) }
	tests := map[string]struct {
		mutate    func(c *v1alpha1.CPD)
		wantField string
		wantWire  bool // the rule is one of pkg/cpnp/cpd (errors.As finds a *cpd.Error)
	}{
		// Reference: RFC 8921 §8.7.
		"value and bounds": {func(c *v1alpha1.CPD) {
			c.Components[0].Capacity.IncomingBps.Value = ptr.To(1.0)
		}, "components[0].capacity.incomingBps", false},
		"empty value": {func(c *v1alpha1.CPD) {
			c.Components[0].QoS.LossRatio = &v1alpha1.RatioValue{}
		}, "components[0].qos.lossRatio", false},
		"min greater than max": {func(c *v1alpha1.CPD) {
			c.Components[0].Capacity.IncomingBps = &v1alpha1.Value{Min: ptr.To(3.0), Max: ptr.To(2.0)}
		}, "components[0].capacity.incomingBps", true},
		"empty mtu": {func(c *v1alpha1.CPD) {
			c.Components[0].Conformance.MTU = &v1alpha1.MTUValue{}
		}, "components[0].conformance.mtu", false},
		// Reference: RFC 7297 §3.3.
		"qualitative and quantitative QoS": {func(c *v1alpha1.CPD) {
			c.Components[0].QoS.Class = "gold"
		}, "components[0].qos", true},
		"zero percentile": {func(c *v1alpha1.CPD) {
			c.Components[0].QoS.Bound = v1alpha1.QoSBoundPercentile
			c.Components[0].QoS.Percentile = ptr.To(0.0)
		}, "components[0].qos.percentile", false},
		"unknown scope model": {func(c *v1alpha1.CPD) {
			c.Components[0].Scope.Model = "1:1"
		}, "components[0].scope.model", false},
		"unknown qos bound": {func(c *v1alpha1.CPD) {
			c.Components[0].QoS.Bound = "average"
		}, "components[0].qos.bound", false},
		"unknown availability bound": {func(c *v1alpha1.CPD) {
			c.Components[0].Availability.Bound = "Percentile"
		}, "components[0].availability.bound", false},
		"unknown reachability mode": {func(c *v1alpha1.CPD) {
			c.Components[0].Scope.Outgoing.Mode = ""
		}, "components[0].scope.outgoing.mode", false},
		"unknown isolation mode": {func(c *v1alpha1.CPD) {
			c.Components[1].TrafficIsolation.Mode = "Yes"
		}, "components[1].trafficIsolation.mode", false},
		"unknown backup paths": {func(c *v1alpha1.CPD) {
			c.Components[1].Routing = &v1alpha1.Routing{BackupPaths: "Yes"}
		}, "components[1].routing.backupPaths", false},
		"unknown out of profile": {func(c *v1alpha1.CPD) {
			c.Components[0].Conformance.OutOfProfile = "Drop"
		}, "components[0].conformance.outOfProfile", false},
		"unknown invocation means": {func(c *v1alpha1.CPD) {
			c.Components[0].InvocationMeans = "Sometimes"
		}, "components[0].invocationMeans", false},
		// Reference: RFC 7297 §3.1, §3.2, §3.9 (rules of cpd.Validate).
		"no customer node": {func(c *v1alpha1.CPD) {
			c.Components[1].CustomerNodes = nil
		}, "components[1].customerNodes", true},
		"global reachability with prefixes": {func(c *v1alpha1.CPD) {
			c.Components[0].Scope.Outgoing.Mode = v1alpha1.ReachabilityGlobal
		}, "components[0].scope.outgoing", true},
		"bad prefix": {func(c *v1alpha1.CPD) {
			c.Components[0].FlowIdentification[0].SourcePrefix = "10.0.0.0/33"
		}, "components[0].flowIdentification[0].sourcePrefix", true},
		"remark dscp out of range": {func(c *v1alpha1.CPD) {
			c.Components[0].FlowIdentification[0].RemarkDSCP = ptr.To[int32](64)
		}, "components[0].flowIdentification[0].remarkDSCP", true},
		"no component": {func(c *v1alpha1.CPD) {
			c.Components = nil
		}, "components", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tc.mutate(&c)
			_, err := c.ToProtocol()
			if !errors.Is(err, v1alpha1.ErrInvalidCPD) {
				t.Fatalf("got %v, want an error matching ErrInvalidCPD", err)
			}
			var ce *v1alpha1.CPDError
			if !errors.As(err, &ce) {
				t.Fatalf("got %T, want *CPDError", err)
			}
			if ce.Field != tc.wantField {
				t.Errorf("field: got %q, want %q (%v)", ce.Field, tc.wantField, err)
			}
			var we *cpd.Error
			if got := errors.As(err, &we); got != tc.wantWire {
				t.Errorf("errors.As(*cpd.Error): got %v, want %v (%v)", got, tc.wantWire, err)
			}
		})
	}
}

// TestAPIPath converts the paths of cpd.Error to API form.
func TestAPIPath(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                                       "",
		"components":                             "components",
		"components[0].qos.one_way_delay_ms.min": "components[0].qos.oneWayDelayMs.min",
		"components[2].customer_nodes[1].identifier":       "components[2].customerNodes[1].identifier",
		"components[0].scope.incoming.global":              "components[0].scope.incoming.mode",
		"components[0].traffic_isolation.required":         "components[0].trafficIsolation.mode",
		"components[0].flow_identification[3].remark_dscp": "components[0].flowIdentification[3].remarkDSCP",
		"components[0].notifications.interval_s":           "components[0].notifications.intervalS",
	}
	for in, want := range tests {
		if got := v1alpha1.APIPath(in); got != want {
			t.Errorf("APIPath(%q): got %q, want %q", in, got, want)
		}
	}
}

// TestSampleOrdersConvert checks that the CPD of every sample order, which
// the API server accepts (TestSamplesApply), also converts to a valid
// protocol CPD: the CRD's rules and cpd.Validate agree on them.
func TestSampleOrdersConvert(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "negotiation_v1alpha1_quotationorder_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("found no sample orders (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var qo v1alpha1.QuotationOrder
			if err := yaml.UnmarshalStrict(data, &qo); err != nil {
				t.Fatalf("decode: %v", err)
			}
			got, err := qo.Spec.CPD.ToProtocol()
			if err != nil {
				t.Fatalf("ToProtocol: %v", err)
			}
			if diff := cmp.Diff(qo.Spec.CPD, v1alpha1.CPDFromProtocol(got)); diff != "" {
				t.Errorf("API round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCPDFromProtocolInvalid shows what happens to values a valid CPD
// cannot hold: they are brought into the API's integer types, and the API
// server (not the conversion) refuses them, naming the field.
func TestCPDFromProtocolInvalid(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		mtu  cpd.Value
		want v1alpha1.MTUValue
	}{
		"fraction":      {cpd.Fixed(1500.4), v1alpha1.MTUValue{Value: ptr.To[int32](1500)}},
		"beyond int32":  {cpd.AtMost(1e12), v1alpha1.MTUValue{Max: ptr.To[int32](2147483647)}},
		"below int32":   {cpd.AtLeast(-1e12), v1alpha1.MTUValue{Min: ptr.To[int32](-2147483648)}},
		"in the domain": {cpd.Between(1280, 9000), v1alpha1.MTUValue{Min: ptr.To[int32](1280), Max: ptr.To[int32](9000)}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := cpd.CPD{Components: []cpd.Component{{
				CustomerNodes: []cpd.CustomerNode{{Identifier: "ce-1"}},
				Conformance:   &cpd.Conformance{MTU: tc.mtu},
			}}}
			got := v1alpha1.CPDFromProtocol(in).Components[0].Conformance.MTU
			if diff := cmp.Diff(&tc.want, got); diff != "" {
				t.Errorf("mtu (-want +got):\n%s", diff)
			}
		})
	}
}
