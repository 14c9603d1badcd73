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
	"fmt"
	"testing"
)

// fixtures are the valid manifests of fixtures_test.go by kind.
var fixtures = map[string]string{
	"QuotationOrder":  quotationOrderYAML,
	"Offer":           offerYAML,
	"Agreement":       agreementYAML,
	"Provider":        providerYAML,
	"ClusterProvider": clusterProviderYAML,
	"CapacityPool":    capacityPoolYAML,
}

// TestFixturesValid proves that every invalid case below fails because of
// its own change: the manifest it starts from is accepted.
func TestFixturesValid(t *testing.T) {
	c := apiServer(t)
	for kind, manifest := range fixtures {
		t.Run(kind, func(t *testing.T) {
			u := fromYAML(t, manifest)
			place(u, "fixture-"+dnsName(kind))
			if err := c.Create(ctx(t), u); err != nil {
				t.Fatalf("create the %s fixture: got %v, want it accepted", kind, err)
			}
		})
	}
}

// edit is one change to a manifest: set the member at path to value, or
// delete it when value is nil.
type edit struct {
	path  string
	value any
}

// obj and list build manifest values tersely.
type obj = map[string]any
type list = []any

// TestInvalidManifests is the table of DESIGN §5's acceptance item: invalid
// manifests are rejected by the API server with a message that names the
// field (the path in the error and in its cause) and the rule.
func TestInvalidManifests(t *testing.T) {
	c := apiServer(t)
	const comp = "spec.cpd.components[0]"
	tests := []struct {
		name  string
		kind  string
		edits []edit
		field string
		msg   string
	}{
		// Reference: DESIGN §5, QuotationOrder providerRefs "one or more".
		{"missing providerRefs", "QuotationOrder", []edit{{"spec.providerRefs", nil}},
			"spec.providerRefs", "Required value"},
		{"empty providerRefs", "QuotationOrder", []edit{{"spec.providerRefs", list{}}},
			"spec.providerRefs", "at least 1 items"},
		{"providerRef of an unknown kind", "QuotationOrder", []edit{{"spec.providerRefs[0]", obj{"kind": "Issuer", "name": "x"}}},
			"spec.providerRefs[0].kind", `Unsupported value: "Issuer"`},
		{"same provider twice", "QuotationOrder", []edit{{"spec.providerRefs", list{obj{"name": "a"}, obj{"kind": "Provider", "name": "a"}}}},
			"spec.providerRefs[1]", "Duplicate value"},
		{"missing cpd", "QuotationOrder", []edit{{"spec.cpd", nil}},
			"spec.cpd", "Required value"},
		// Reference: RFC 8921 §9.2.1, a QUOTATION carries a non-empty Requested CPD.
		{"no component", "QuotationOrder", []edit{{"spec.cpd.components", list{}}},
			"spec.cpd.components", "at least 1 items"},
		// Reference: RFC 7297 §3.1, nodes are unambiguously identified.
		{"duplicate customer node", "QuotationOrder", []edit{{comp + ".customerNodes", list{obj{"identifier": "a"}, obj{"identifier": "a"}}}},
			comp + ".customerNodes[1]", "Duplicate value"},
		// Reference: RFC 8921 §8.7 and DESIGN §3, a loosely defined value has min <= max.
		{"capacity min greater than max", "QuotationOrder", []edit{{comp + ".capacity.incomingBps", obj{"min": 300000000, "max": 200000000}}},
			comp + ".capacity.incomingBps", "min must not exceed max"},
		{"loss ratio min greater than max", "QuotationOrder", []edit{{comp + ".qos.lossRatio", obj{"min": 0.01, "max": 0.001}}},
			comp + ".qos.lossRatio", "min must not exceed max"},
		{"mtu min greater than max", "QuotationOrder", []edit{{comp + ".conformance.mtu", obj{"min": 9000, "max": 1500}}},
			comp + ".conformance.mtu", "min must not exceed max"},
		{"value and bounds together", "QuotationOrder", []edit{{comp + ".capacity.incomingBps", obj{"value": 1, "max": 2}}},
			comp + ".capacity.incomingBps", "set either value (a fixed value) or min and/or max"},
		{"empty value", "QuotationOrder", []edit{{comp + ".capacity.incomingBps", obj{}}},
			comp + ".capacity.incomingBps", "set either value (a fixed value) or min and/or max"},
		{"negative capacity", "QuotationOrder", []edit{{comp + ".capacity.incomingBps", obj{"min": -1}}},
			comp + ".capacity.incomingBps.min", "greater than or equal to 0"},
		{"loss ratio above 1", "QuotationOrder", []edit{{comp + ".qos.lossRatio", obj{"max": 2}}},
			comp + ".qos.lossRatio.max", "less than or equal to 1"},
		{"mtu below 68", "QuotationOrder", []edit{{comp + ".conformance.mtu", obj{"value": 20}}},
			comp + ".conformance.mtu.value", "greater than or equal to 68"},
		{"capacity without a direction", "QuotationOrder", []edit{{comp + ".capacity", obj{}}},
			comp + ".capacity", "needs incomingBps, outgoingBps or both"},
		// Reference: RFC 7297 §3.3, qualitative and quantitative QoS are exclusive.
		{"qualitative and quantitative QoS together", "QuotationOrder", []edit{{comp + ".qos.class", "gold"}},
			comp + ".qos", "are exclusive"},
		{"empty QoS", "QuotationOrder", []edit{{comp + ".qos", obj{}}},
			comp + ".qos", "needs class, or at least one of"},
		{"percentile without bound Percentile", "QuotationOrder", []edit{{comp + ".qos.percentile", 95}},
			comp + ".qos.percentile", "percentile is required with bound Percentile, and only then"},
		{"bound with a class", "QuotationOrder", []edit{{comp + ".qos", obj{"class": "gold", "bound": "Average"}}},
			comp + ".qos.bound", "quantitative QoS only"},
		// Unknown enumeration values, including the wire's spelling.
		{"unknown scope model", "QuotationOrder", []edit{{comp + ".scope.model", "1:1"}},
			comp + ".scope.model", `Unsupported value: "1:1"`},
		{"unknown acceptance", "QuotationOrder", []edit{{"spec.acceptance", "Sometimes"}},
			"spec.acceptance", `Unsupported value: "Sometimes"`},
		{"unknown approval", "QuotationOrder", []edit{{"spec.approval", "Maybe"}},
			"spec.approval", `Unsupported value: "Maybe"`},
		{"unknown activation type", "QuotationOrder", []edit{{"spec.negotiationOptions", obj{"activationType": "immediate"}}},
			"spec.negotiationOptions.activationType", `Unsupported value: "immediate"`},
		{"unknown out-of-profile treatment", "QuotationOrder", []edit{{comp + ".conformance.outOfProfile", "Drop"}},
			comp + ".conformance.outOfProfile", `Unsupported value: "Drop"`},
		{"unknown reachability mode", "QuotationOrder", []edit{{comp + ".scope.outgoing.mode", "Anywhere"}},
			comp + ".scope.outgoing.mode", `Unsupported value: "Anywhere"`},
		// Reference: RFC 7297 §3.2.
		{"prefix that is not a CIDR", "QuotationOrder", []edit{{comp + ".scope.outgoing.prefixes", list{"10.20.0.0/33"}}},
			comp + ".scope.outgoing.prefixes[0]", "CIDR notation"},
		{"global reachability with prefixes", "QuotationOrder", []edit{{comp + ".scope.outgoing.mode", "Global"}},
			comp + ".scope.outgoing.prefixes", "Global reachability takes no prefixes"},
		// Reference: RFC 7297 §3.6, §3.7.
		{"remark class with discard", "QuotationOrder", []edit{{comp + ".conformance", obj{"outOfProfile": "Discard", "remarkClass": "le"}}},
			comp + ".conformance.remarkClass", "only applies when outOfProfile is Remark"},
		{"overall guarantees with discard", "QuotationOrder", []edit{
			{comp + ".conformance.outOfProfile", "Discard"}, {comp + ".overallGuarantees", obj{"delay": "low"}}},
			comp + ".overallGuarantees", "remarked, not discarded"},
		// Reference: RFC 7297 §3.9.
		{"dscp above 63", "QuotationOrder", []edit{{comp + ".flowIdentification[0].dscp", 64}},
			comp + ".flowIdentification[0].dscp", "less than or equal to 63"},
		{"flow identifier with only remarkDSCP", "QuotationOrder", []edit{{comp + ".flowIdentification[0]", obj{"remarkDSCP": 0}}},
			comp + ".flowIdentification[0]", "needs at least one classifier"},
		{"expectedResponseTime that is not a duration", "QuotationOrder", []edit{{"spec.expectedResponseTime", "ten minutes"}},
			"spec.expectedResponseTime", "should match"},
		{"negative extensionLimit", "QuotationOrder", []edit{{"spec.extensionLimit", "-5m"}},
			"spec.extensionLimit", "should match"},

		// Reference: RFC 8921 §9.2.5, Table 3.
		{"decline reasons with Accept", "Offer", []edit{{"spec.decision", "Accept"}, {"spec.declineReasons", list{"UnacceptableGap"}}},
			"spec.declineReasons", "only apply to decision Decline"},
		{"unknown decline reason", "Offer", []edit{{"spec.decision", "Decline"}, {"spec.declineReasons", list{"TooExpensive"}}},
			"spec.declineReasons[0]", `Unsupported value: "TooExpensive"`},
		{"unknown decision", "Offer", []edit{{"spec.decision", "Maybe"}},
			"spec.decision", `Unsupported value: "Maybe"`},
		// Reference: RFC 8921 §8.4, >= 128 random bits in hex.
		{"transaction ID that is not hex", "Offer", []edit{{"spec.transactionID", "not-hex"}},
			"spec.transactionID", "should match"},
		{"AS number 0", "Offer", []edit{{"spec.providerDescription.asNumber", 0}},
			"spec.providerDescription.asNumber", "greater than or equal to 1"},

		// Reference: RFC 8921 §9.2.11, "0" deactivates and has no time.
		{"deactivation with a time", "Agreement", []edit{{"spec.activation", obj{"action": "Deactivate", "at": "2026-11-22T00:00:00Z"}}},
			"spec.activation.at", "only applies to action Activate"},
		{"agreement without cpd", "Agreement", []edit{{"spec.cpd", nil}},
			"spec.cpd", "Required value"},

		// Reference: DESIGN §5, address is host:port or _cpnp._udp.<domain>.
		{"address without port", "Provider", []edit{{"spec.address", "cpnp.example.net"}},
			"spec.address", "must be host:port"},
		{"address with port 70000", "Provider", []edit{{"spec.address", "cpnp.example.net:70000"}},
			"spec.address", "must be host:port"},
		{"SRV name of the other transport", "Provider", []edit{{"spec.address", "_cpnp._udp.example.net"}, {"spec.transport", "TLS"}},
			"spec.address", "must match the transport"},
		{"unknown transport", "Provider", []edit{{"spec.transport", "QUIC"}},
			"spec.transport", `Unsupported value: "QUIC"`},
		{"caBundle and caSecretRef", "Provider", []edit{{"spec.caBundle", "LS0tLS1CRUdJTi0tLS0t"}, {"spec.caSecretRef", obj{"name": "ca"}}},
			"spec.caSecretRef", "not both"},
		{"provider secret in another namespace", "Provider", []edit{{"spec.clientCertificateSecretRef.namespace", "other"}},
			"spec.clientCertificateSecretRef.namespace", "own namespace"},
		{"client certificate with a key", "Provider", []edit{{"spec.clientCertificateSecretRef.key", "tls.crt"}},
			"spec.clientCertificateSecretRef.key", "key does not apply"},
		{"missing client certificate", "Provider", []edit{{"spec.clientCertificateSecretRef", nil}},
			"spec.clientCertificateSecretRef", "Required value"},
		// Reference: RFC 8921 §11.1.2, no withdrawal cycle more often than every 300 s.
		{"withdrawal retry under 5m", "Provider", []edit{{"spec.retransmission", obj{"withdrawRetryInterval": "1m"}}},
			"spec.retransmission.withdrawRetryInterval", "at least 5m"},
		{"retransmission timer of 0s", "Provider", []edit{{"spec.retransmission", obj{"timer": "0s"}}},
			"spec.retransmission.timer", "positive duration"},
		{"too many retries", "Provider", []edit{{"spec.retransmission", obj{"maxRetries": 11}}},
			"spec.retransmission.maxRetries", "less than or equal to 10"},
		{"cluster provider CA without namespace", "ClusterProvider", []edit{{"spec.caSecretRef", obj{"name": "ca"}}},
			"spec.caSecretRef.namespace", "must name the namespace"},

		// Reference: DESIGN §6, the policy.yaml pool schema.
		{"threshold without aboveBps", "CapacityPool", []edit{{"spec.approval", obj{"mode": "Threshold"}}},
			"spec.approval.aboveBps", "required with mode Threshold"},
		{"aboveBps without threshold", "CapacityPool", []edit{{"spec.approval", obj{"mode": "Manual", "aboveBps": 5}}},
			"spec.approval.aboveBps", "required with mode Threshold, and only then"},
		{"zero capacity", "CapacityPool", []edit{{"spec.capacity.outgoingBps", 0}},
			"spec.capacity.outgoingBps", "greater than or equal to 1"},
		{"class loss ratio above 1", "CapacityPool", []edit{{"spec.qosClasses[0].lossRatio", 1.5}},
			"spec.qosClasses[0].lossRatio", "less than or equal to 1"},
		{"offer validity of 0s", "CapacityPool", []edit{{"spec.offerValidity", "0s"}},
			"spec.offerValidity", "positive duration"},
		{"tenant listed twice", "CapacityPool", []edit{{"spec.tenants", list{obj{"kind": "Namespace", "name": "a"}, obj{"kind": "Namespace", "name": "a"}}}},
			"spec.tenants[1]", "Duplicate value"},
		{"namespace tenant that is no namespace name", "CapacityPool", []edit{{"spec.tenants[0].name", "Team_A"}},
			"spec.tenants[0].name", "must be a namespace name"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := fromYAML(t, fixtures[tc.kind])
			place(u, fmt.Sprintf("invalid-%02d", i))
			for _, e := range tc.edits {
				setPath(t, u.Object, e.path, e.value)
			}
			wantInvalid(t, c.Create(ctx(t), u), tc.field, tc.msg)
		})
	}
}
