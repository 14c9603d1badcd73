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

package controllers

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/fsm"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/session"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// DefaultCAKey is the data key read from a caSecretRef without a key.
const DefaultCAKey = "ca.crt"

// ErrProviderUnavailable matches every *ProviderError: a provider reference
// that cannot be turned into a server configuration (yet).
var ErrProviderUnavailable = errors.New("provider unavailable")

// ProviderError says why a provider reference could not be resolved.
type ProviderError struct {
	// Ref is the reference, as kind/name.
	Ref string
	// Reason is an UpperCamelCase reason: ProviderNotFound, SecretNotFound,
	// InvalidSecret or Unsupported.
	Reason string
	// Err is the underlying error.
	Err error
}

func (e *ProviderError) Error() string {
	return fmt.Sprintf("provider %s: %s: %v", e.Ref, strings.ToLower(e.Reason[:1])+e.Reason[1:], e.Err)
}

// Unwrap returns the underlying error.
func (e *ProviderError) Unwrap() error { return e.Err }

// Is makes every ProviderError match ErrProviderUnavailable.
func (e *ProviderError) Is(target error) bool { return target == ErrProviderUnavailable }

// Provider error reasons.
const (
	providerNotFound = "ProviderNotFound"
	secretNotFound   = "SecretNotFound"
	invalidSecret    = "InvalidSecret"
	unsupported      = "Unsupported"
	// addressNotResolved: the DNS SRV name did not resolve (transient).
	addressNotResolved = "AddressNotResolved"
)

// lookupSRV resolves a DNS SRV name (RFC 2782); tests replace it.
var lookupSRV client.LookupSRVFunc = net.DefaultResolver.LookupSRV

// ResolvedProvider is a Provider or ClusterProvider turned into what the
// engine and the client machine need.
type ResolvedProvider struct {
	// Server is the engine's name for the association: one per provider
	// and client identity (DESIGN §4: one association per client identity
	// and server).
	Server string
	// Config is how to reach and authenticate the server (RFC 8921 §8.1, §13).
	Config client.ServerConfig
	// Fingerprint changes when anything in Config changes.
	Fingerprint string
	// Machine is the client machine's configuration: the provider's
	// retransmission schedule (§11.4) and withdrawal interval (§11.1.2).
	Machine fsm.Client
}

// ResolveProvider reads the provider ref names for an object in namespace,
// and the Secrets it refers to. Credentials come only from Secrets (or the
// CA bundle in spec). A Provider reads its Secrets from its own namespace;
// a ClusterProvider from the namespace its references name, and a client
// certificate Secret without a namespace from the referrer's namespace
// (DESIGN §6: identity = namespace). Errors are *ProviderError.
func ResolveProvider(ctx context.Context, r ctrlclient.Reader, namespace string, ref v1alpha1.ProviderReference) (ResolvedProvider, error) {
	return resolveProvider(ctx, r, namespace, ref, true)
}

// resolveProvider is ResolveProvider; without needClient, a ClusterProvider
// whose client certificate Secret follows the referrer's namespace (no
// namespace given) resolves without a client certificate (Config.Certificate
// nil), for the reachability probe of a ClusterProvider, which has no
// referrer.
func resolveProvider(ctx context.Context, r ctrlclient.Reader, namespace string, ref v1alpha1.ProviderReference, needClient bool) (ResolvedProvider, error) {
	kind := ref.Kind
	if kind == "" {
		kind = v1alpha1.ProviderKindProvider
	}
	refName := string(kind) + "/" + ref.Name
	fail := func(reason string, err error) (ResolvedProvider, error) {
		return ResolvedProvider{}, &ProviderError{Ref: refName, Reason: reason, Err: err}
	}
	var (
		spec     v1alpha1.ProviderSpec
		server   string
		caNS     string
		clientNS string
	)
	switch kind {
	case v1alpha1.ProviderKindProvider:
		var p v1alpha1.Provider
		if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, &p); err != nil {
			return fail(providerNotFound, err)
		}
		spec, caNS, clientNS = p.Spec, namespace, namespace
		server = "Provider/" + namespace + "/" + ref.Name
	case v1alpha1.ProviderKindClusterProvider:
		var p v1alpha1.ClusterProvider
		if err := r.Get(ctx, types.NamespacedName{Name: ref.Name}, &p); err != nil {
			return fail(providerNotFound, err)
		}
		spec = p.Spec
		server = "ClusterProvider/" + ref.Name
		if spec.CASecretRef != nil {
			caNS = spec.CASecretRef.Namespace
		}
		clientNS = spec.ClientCertificateSecretRef.Namespace
		if clientNS == "" {
			clientNS = namespace
			server += "@" + namespace
		}
	default:
		return fail(unsupported, fmt.Errorf("kind %q", kind))
	}
	sc := client.ServerConfig{Address: spec.Address, ServerName: spec.ServerName, Transport: client.TransportDTLS}
	if spec.Transport == v1alpha1.TransportTLS {
		sc.Transport = client.TransportTLS
	}
	if client.IsSRVName(spec.Address) {
		// The API requires the SRV name to match transport (CEL).
		addr, domain, _, err := client.ResolveSRV(ctx, lookupSRV, spec.Address)
		if err != nil {
			return fail(addressNotResolved, err)
		}
		sc.Address = addr
		if sc.ServerName == "" {
			sc.ServerName = domain
		}
	}

	fp := sha256.New()
	write := func(parts ...string) {
		for _, p := range parts {
			fp.Write([]byte(p))
			fp.Write([]byte{0})
		}
	}
	write(spec.Address, spec.ServerName, string(spec.Transport), sc.Address, sc.ServerName)

	var caPEM []byte
	switch {
	case len(spec.CABundle) > 0:
		caPEM = spec.CABundle
	case spec.CASecretRef != nil:
		key := spec.CASecretRef.Key
		if key == "" {
			key = DefaultCAKey
		}
		s, err := getSecret(ctx, r, caNS, spec.CASecretRef.Name)
		if err != nil {
			return fail(secretNotFound, err)
		}
		if caPEM = s.Data[key]; len(caPEM) == 0 {
			return fail(invalidSecret, fmt.Errorf("secret %s/%s has no key %q", caNS, s.Name, key))
		}
	}
	if caPEM != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return fail(invalidSecret, errors.New("CA bundle holds no PEM certificate"))
		}
		sc.RootCAs = pool
		write(string(caPEM))
	}

	if needClient || clientNS != "" {
		s, err := getSecret(ctx, r, clientNS, spec.ClientCertificateSecretRef.Name)
		if err != nil {
			return fail(secretNotFound, err)
		}
		cert, err := tls.X509KeyPair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
		if err != nil {
			return fail(invalidSecret, fmt.Errorf("secret %s/%s: %w", clientNS, s.Name, err))
		}
		sc.Certificate = &cert
		write(string(s.Data[corev1.TLSCertKey]), string(s.Data[corev1.TLSPrivateKeyKey]))
	}

	opts := transport.Config{}
	if spec.HandshakeTimeout != nil {
		opts.HandshakeTimeout = spec.HandshakeTimeout.Duration
	}
	if spec.DatagramLimit != nil {
		opts.DatagramLimit = int(*spec.DatagramLimit)
	}
	sc.Options = opts
	write(opts.HandshakeTimeout.String(), fmt.Sprint(opts.DatagramLimit))
	if err := sc.Validate(); err != nil {
		return fail(unsupported, err)
	}
	return ResolvedProvider{
		Server:      server,
		Config:      sc,
		Fingerprint: hex.EncodeToString(fp.Sum(nil)),
		Machine:     machineConfig(spec.Retransmission),
	}, nil
}

// errNoSecretNamespace: a Secret reference resolves to no namespace.
var errNoSecretNamespace = errors.New("no namespace")

// getSecret reads a Secret; a missing namespace or name is an error.
func getSecret(ctx context.Context, r ctrlclient.Reader, namespace, name string) (*corev1.Secret, error) {
	if namespace == "" {
		return nil, fmt.Errorf("secret %q: %w", name, errNoSecretNamespace)
	}
	var s corev1.Secret
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("secret %s/%s not found: %w", namespace, name, err)
		}
		return nil, fmt.Errorf("get secret %s/%s: %w", namespace, name, err)
	}
	return &s, nil
}

// machineConfig converts the provider's retransmission settings to the
// client machine's (RFC 8921 §11.4, §11.1.2); unset fields keep the
// DESIGN §3 defaults.
func machineConfig(rt *v1alpha1.Retransmission) fsm.Client {
	m := fsm.DefaultClient()
	if rt == nil {
		return m
	}
	if rt.Timer != nil {
		m.Retransmit.Timer = rt.Timer.Duration
	}
	if rt.Backoff != nil {
		m.Retransmit.Backoff = float64(*rt.Backoff)
	}
	if rt.MaxRetries != nil {
		m.Retransmit.MaxRetries = int(*rt.MaxRetries)
	}
	if rt.MaxTimer != nil {
		m.Retransmit.MaxTimer = rt.MaxTimer.Duration
	}
	if rt.WithdrawRetryInterval != nil {
		m.WithdrawRetryInterval = max(rt.WithdrawRetryInterval.Duration, fsm.MinWithdrawRetryInterval)
	}
	if m.Retransmit.Validate() != nil {
		m.Retransmit = session.DefaultRetransmit()
	}
	return m
}

// DefaultProviderCacheTTL is how long a ProviderCache keeps a resolved
// provider: a Secret rotated in place (same Provider) is used by new
// negotiations within this time (docs/operations.md).
const DefaultProviderCacheTTL = 30 * time.Second

// ProviderCache keeps what ResolveProvider returned, in memory, for a
// bounded time, so that the reconcilers do not read a Provider's CA and
// client certificate Secrets (uncached, ClientOptions) on every reconcile.
// An entry is keyed by the referrer's namespace and the reference, and is
// used only while the Provider (or ClusterProvider), read from the
// manager's cache, has the UID and resourceVersion it was resolved from:
// any change to the Provider resolves again at once. A Secret changed in
// place is seen once the entry expires (TTL). Failures are never kept: a
// missing Provider or Secret that appears is seen by the next reconcile.
// The zero value is not usable; use NewProviderCache. It is safe for
// concurrent use.
type ProviderCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[providerCacheKey]providerCacheEntry
}

// providerCacheKey names a provider reference resolved for a namespace.
type providerCacheKey struct {
	namespace string
	kind      v1alpha1.ProviderKind
	name      string
}

// providerCacheEntry is a resolved provider and what it was resolved from.
type providerCacheEntry struct {
	uid             types.UID
	resourceVersion string
	res             ResolvedProvider
	expires         time.Time
}

// providerCacheSweep is the number of entries above which storing one
// first drops the expired ones.
const providerCacheSweep = 256

// NewProviderCache returns a cache whose entries live ttl (at most; 0 or
// less is DefaultProviderCacheTTL), on the wall clock.
func NewProviderCache(ttl time.Duration) *ProviderCache {
	if ttl <= 0 {
		ttl = DefaultProviderCacheTTL
	}
	return &ProviderCache{ttl: ttl, now: time.Now, entries: map[providerCacheKey]providerCacheEntry{}}
}

// defaultProviderCache is the cache of reconcilers whose Providers is nil.
var defaultProviderCache = NewProviderCache(DefaultProviderCacheTTL)

// Resolve is ResolveProvider through the cache: r reads the Provider (the
// manager's cached client) and, when the entry is missing, expired or was
// resolved from another version of the Provider, its Secrets.
func (c *ProviderCache) Resolve(ctx context.Context, r ctrlclient.Reader, namespace string, ref v1alpha1.ProviderReference) (ResolvedProvider, error) {
	kind := ref.Kind
	if kind == "" {
		kind = v1alpha1.ProviderKindProvider
	}
	key := providerCacheKey{namespace: namespace, kind: kind, name: ref.Name}
	var obj ctrlclient.Object
	switch kind {
	case v1alpha1.ProviderKindProvider:
		obj = &v1alpha1.Provider{}
	case v1alpha1.ProviderKindClusterProvider:
		obj, namespace = &v1alpha1.ClusterProvider{}, ""
	default:
		return ResolveProvider(ctx, r, key.namespace, ref)
	}
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, obj); err != nil {
		c.forget(key)
		return ResolveProvider(ctx, r, key.namespace, ref)
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && e.uid == obj.GetUID() && e.resourceVersion == obj.GetResourceVersion() && now.Before(e.expires) {
		return e.res, nil
	}
	res, err := ResolveProvider(ctx, r, key.namespace, ref)
	if err != nil {
		c.forget(key)
		return res, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= providerCacheSweep {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
	}
	// The Provider read before the Secrets: a newer Provider read by
	// ResolveProvider is stored under the older version and resolved again
	// by the next call.
	c.entries[key] = providerCacheEntry{uid: obj.GetUID(), resourceVersion: obj.GetResourceVersion(), res: res, expires: now.Add(c.ttl)}
	return res, nil
}

// forget drops the entry of key.
func (c *ProviderCache) forget(key providerCacheKey) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}
