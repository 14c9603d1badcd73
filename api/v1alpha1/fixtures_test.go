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

// Valid manifests that the tests modify; each passes validation as it is
// (TestFixturesValid).

const quotationOrderYAML = `
apiVersion: negotiation.cpnp.dev/v1alpha1
kind: QuotationOrder
metadata: {name: x}
spec:
  providerRefs:
  - {kind: Provider, name: transit}
  cpd:
    components:
    - customerNodes:
      - {identifier: ce-par-1}
      scope:
        model: Hose
        outgoing: {mode: Restricted, prefixes: [10.20.0.0/16]}
      qos:
        oneWayDelayMs: {max: 30}
        lossRatio: {max: 0.001}
      capacity:
        incomingBps: {min: 100000000, max: 200000000}
      conformance:
        outOfProfile: Remark
        mtu: {value: 1500}
      flowIdentification:
      - {sourcePrefix: 10.10.0.0/16, dscp: 46}
`

const offerYAML = `
apiVersion: negotiation.cpnp.dev/v1alpha1
kind: Offer
metadata: {name: x}
spec:
  quotationOrderRef: {name: paris-wan}
  providerRef: {kind: ClusterProvider, name: cluster-wan}
  customerOrderID: acme-wan-0001
  providerOrderID: ENP-2026-000417
  transactionID: 8f14e45fceea167a5a36dedd4bea2543
  validUntil: "2026-11-21T22:34:25Z"
  providerDescription: {name: Example Networks, asNumber: 64500}
  negotiationOptions: {activationType: Immediate}
  cpd:
    components:
    - customerNodes:
      - {identifier: ce-par-1, linkIdentifier: "pe1-par:xe-0/0/1"}
      capacity:
        incomingBps: {value: 150000000}
`

const agreementYAML = `
apiVersion: negotiation.cpnp.dev/v1alpha1
kind: Agreement
metadata: {name: x}
spec:
  quotationOrderRef: {name: paris-wan}
  providerRef: {kind: ClusterProvider, name: cluster-wan}
  cpd:
    components:
    - customerNodes:
      - {identifier: ce-par-1}
      capacity:
        incomingBps: {value: 150000000}
`

const providerYAML = `
apiVersion: negotiation.cpnp.dev/v1alpha1
kind: Provider
metadata: {name: x}
spec:
  address: cpnp.example.net:8921
  clientCertificateSecretRef: {name: client}
`

const clusterProviderYAML = `
apiVersion: negotiation.cpnp.dev/v1alpha1
kind: ClusterProvider
metadata: {name: x}
spec:
  address: "[2001:db8::1]:8921"
  caSecretRef: {name: ca, namespace: cpnp-system}
  clientCertificateSecretRef: {name: client}
`

const capacityPoolYAML = `
apiVersion: negotiation.cpnp.dev/v1alpha1
kind: CapacityPool
metadata: {name: x}
spec:
  capacity: {incomingBps: 1000000000, outgoingBps: 1000000000}
  qosClasses:
  - {name: gold, oneWayDelayMs: 10, lossRatio: 0.0001}
  tenants:
  - {kind: Namespace, name: team-a, maxOutgoingBps: 500000000}
`
