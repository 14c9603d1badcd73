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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Transport is how CPNP messages travel (RFC 8921 §8.1).
// +kubebuilder:validation:Enum=DTLS;TLS
type Transport string

// Transports.
const (
	// TransportDTLS is DTLS 1.2 over UDP, the RFC's default (§8.1).
	TransportDTLS Transport = "DTLS"
	// TransportTLS is TLS over TCP.
	TransportTLS Transport = "TLS"
)

// Retransmission is the RETRANS_TIMER schedule (RFC 8921 §8.5, §11.4;
// session.Retransmit) and the withdrawal retry interval (§11.1.2).
type Retransmission struct {
	// timer is RETRANS_TIMER, the wait before the first retransmission.
	// +optional
	// +kubebuilder:default="1s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="must be a positive duration"
	Timer *metav1.Duration `json:"timer,omitempty"`
	// backoff multiplies the wait after each retransmission: 1 keeps it
	// constant, 2 (the default) doubles it.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	Backoff *int32 `json:"backoff,omitempty"`
	// maxRetries is the maximum number of retransmissions of one message
	// (§11.4 "e.g., three times"); 0 disables retransmission.
	// +optional
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	MaxRetries *int32 `json:"maxRetries,omitempty"`
	// maxTimer caps a single wait; absent means no cap.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$`
	MaxTimer *metav1.Duration `json:"maxTimer,omitempty"`
	// withdrawRetryInterval is the wait before another withdrawal cycle
	// after a WITHDRAW went unanswered through every retry; at least 5m
	// (§11.1.2: "not ... more frequently than every 300 seconds").
	// +optional
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('5m')",message="must be at least 5m (RFC 8921 §11.1.2)"
	WithdrawRetryInterval *metav1.Duration `json:"withdrawRetryInterval,omitempty"`
}

// ProviderSpec says how to reach and authenticate a CPNP server (DESIGN §5).
// Provider and ClusterProvider share it.
// +kubebuilder:validation:XValidation:rule="!(has(self.caBundle) && has(self.caSecretRef))",message="set caBundle or caSecretRef, not both",fieldPath=".caSecretRef"
// +kubebuilder:validation:XValidation:rule="!self.address.startsWith('_cpnp._') || self.address.startsWith(self.transport == 'TLS' ? '_cpnp._tcp.' : '_cpnp._udp.')",message="a DNS SRV address must match the transport: _cpnp._udp.<domain> for DTLS, _cpnp._tcp.<domain> for TLS",fieldPath=".address"
// +kubebuilder:validation:XValidation:rule="!has(self.clientCertificateSecretRef.key)",message="clientCertificateSecretRef names a kubernetes.io/tls Secret (tls.crt, tls.key); key does not apply",fieldPath=".clientCertificateSecretRef.key"
type ProviderSpec struct {
	// address is where the server listens: host:port (a DNS name, an IPv4
	// address or a bracketed IPv6 address; CPNP_PORT is 8921), or a DNS SRV
	// name _cpnp._udp.<domain> (DTLS) or _cpnp._tcp.<domain> (TLS).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=270
	// +kubebuilder:validation:XValidation:rule="self.startsWith('_cpnp._') ? self.matches('^_cpnp[.]_(udp|tcp)[.][A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$') : (self.matches('^([[][0-9A-Fa-f:.]+[]]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):[0-9]{1,5}$') && int(self.substring(self.lastIndexOf(':') + 1)) >= 1 && int(self.substring(self.lastIndexOf(':') + 1)) <= 65535)",message="must be host:port with a port from 1 to 65535 (e.g. cpnp.example.net:8921, [2001:db8::1]:8921), or a DNS SRV name _cpnp._udp.<domain>"
	Address string `json:"address"`
	// serverName is the name verified in the server's certificate (its
	// DNS or IP SAN, RFC 8921 §8.1); when absent, the host of address, or
	// for a DNS SRV address its domain (RFC 6125 §6.2.1).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ServerName string `json:"serverName,omitempty"`
	// caBundle is the PEM bundle of the CAs that verify the server. Set at
	// most one of caBundle and caSecretRef; with neither, the system's
	// roots are used.
	// +optional
	// +kubebuilder:validation:MaxLength=65536
	CABundle []byte `json:"caBundle,omitempty"`
	// caSecretRef names a Secret whose key holds the PEM bundle of the CAs
	// that verify the server; the controller reads key "ca.crt" when key is
	// unset.
	// +optional
	CASecretRef *SecretReference `json:"caSecretRef,omitempty"`
	// clientCertificateSecretRef names a kubernetes.io/tls Secret (tls.crt,
	// tls.key) with the client certificate presented to the server: mutual
	// authentication is required (RFC 8921 §13), and its URI SAN or CN is the
	// identity the server binds orders to (DESIGN §3, §4).
	// +required
	ClientCertificateSecretRef SecretReference `json:"clientCertificateSecretRef"`
	// transport is DTLS (the default, UDP) or TLS (TCP).
	// +optional
	// +kubebuilder:default=DTLS
	Transport Transport `json:"transport,omitempty"`
	// retransmission is the RETRANS_TIMER schedule (defaults: 1s doubling,
	// 3 retries, DESIGN §3) and the withdrawal retry interval.
	// +optional
	// +kubebuilder:default={}
	Retransmission *Retransmission `json:"retransmission,omitempty"`
	// handshakeTimeout bounds one DTLS or TLS handshake (default 10s, DESIGN §3).
	// +optional
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="must be a positive duration"
	HandshakeTimeout *metav1.Duration `json:"handshakeTimeout,omitempty"`
	// datagramLimit is the largest message, in bytes, sent as one datagram
	// (default 1200, at most 8000); longer messages are fragmented (DESIGN §3).
	// +optional
	// +kubebuilder:default=1200
	// +kubebuilder:validation:Minimum=576
	// +kubebuilder:validation:Maximum=8000
	DatagramLimit *int32 `json:"datagramLimit,omitempty"`
}

// ReachabilityResult is the outcome of a reachability check.
// +kubebuilder:validation:Enum=Reachable;Unreachable
type ReachabilityResult string

// Reachability results.
const (
	// Reachable: a (D)TLS handshake with the server completed and its
	// certificate verified.
	Reachable ReachabilityResult = "Reachable"
	// Unreachable: the handshake failed; message says why.
	Unreachable ReachabilityResult = "Unreachable"
)

// ReachabilityCheck is the last check of a server.
type ReachabilityCheck struct {
	// time is when the check ran.
	// +required
	Time metav1.Time `json:"time"`
	// result is Reachable or Unreachable.
	// +required
	Result ReachabilityResult `json:"result"`
	// message says why a check failed.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// serverIdentity is the identity in the server's verified certificate.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	ServerIdentity string `json:"serverIdentity,omitempty"`
}

// ProviderStatus is the last reachability check of the server.
type ProviderStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions are Ready (the last check reached the server), Reconciling
	// and Stalled (for example a missing Secret).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// lastCheck is the last reachability check.
	// +optional
	LastCheck *ReachabilityCheck `json:"lastCheck,omitempty"`
}

// Provider is a CPNP server that QuotationOrders in its namespace can
// negotiate with (the namespaced half of the cert-manager Issuer /
// ClusterIssuer split). Its Secrets are in its own namespace.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=cprov,categories=cpnp
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.spec.address`
// +kubebuilder:printcolumn:name="Transport",type=string,JSONPath=`.spec.transport`
// +kubebuilder:printcolumn:name="Reachability",type=string,JSONPath=`.status.lastCheck.result`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Provider struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says how to reach the server.
	// +required
	// +kubebuilder:validation:XValidation:rule="!has(self.caSecretRef) || !has(self.caSecretRef.namespace)",message="a Provider reads Secrets from its own namespace: leave caSecretRef.namespace unset (use a ClusterProvider for another namespace)",fieldPath=".caSecretRef.namespace"
	// +kubebuilder:validation:XValidation:rule="!has(self.clientCertificateSecretRef.namespace)",message="a Provider reads Secrets from its own namespace: leave clientCertificateSecretRef.namespace unset",fieldPath=".clientCertificateSecretRef.namespace"
	Spec ProviderSpec `json:"spec"`
	// status is the last reachability check.
	// +optional
	Status ProviderStatus `json:"status,omitempty"`
}

// ProviderList is a list of Providers.
// +kubebuilder:object:root=true
type ProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Provider `json:"items"`
}

func init() {
	register(&Provider{}, &ProviderList{})
}
