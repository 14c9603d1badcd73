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
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/transport"
)

// Defaults of ProviderReconciler.
const (
	// DefaultProviderCheckInterval is the wait between two reachability
	// checks of a Provider that passed.
	DefaultProviderCheckInterval = 5 * time.Minute
	// maxProviderRetryInterval caps the wait before checking again a
	// Provider that failed its check: Secrets are not watched (they are
	// not cached, to spare a cluster-wide Secret informer), so a fixed
	// Secret is noticed by this recheck.
	maxProviderRetryInterval = time.Minute
	// probeGrace is added to the handshake timeout to bound one probe.
	probeGrace = 5 * time.Second
)

// Reasons of the Provider and ClusterProvider Ready condition (and of
// Stalled or Reconciling when Ready is False). An Event's reason equals the
// condition's reason (STYLE §3).
const (
	// ReasonReachable: a DTLS (or TLS) handshake with the server completed
	// and its certificate verified (RFC 8921 §8.1, §13): Ready=True.
	ReasonReachable = "Reachable"
	// ReasonUnreachable: the server did not complete a handshake (timeout,
	// network error): Ready=False, Reconciling=True (transient, rechecked).
	ReasonUnreachable = "Unreachable"
	// ReasonInvalidCredentials: the handshake failed on a certificate (the
	// CA does not verify the server, the server name does not match, the
	// server refused the client certificate), or a Secret does not hold a
	// usable CA bundle or key pair: Ready=False, Stalled=True.
	ReasonInvalidCredentials = "InvalidCredentials"
	// ReasonSecretNotFound: a Secret the provider names does not exist:
	// Ready=False, Stalled=True.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonUnsupported: the provider asks for something the operator does
	// not implement yet (DNS SRV discovery, TLS): Ready=False, Stalled=True.
	ReasonUnsupported = "Unsupported"
)

// ProbeFunc opens one association with a server, for a reachability check.
type ProbeFunc func(ctx context.Context, addr string, transportName client.Transport, cfg transport.Config) (transport.Conn, error)

// ProviderReconciler checks that Providers and ClusterProviders are
// reachable (DESIGN §5: "Status: last reachability check"): it resolves the
// provider and its Secrets (ResolveProvider) and completes one DTLS or TLS
// handshake with the server with the resolved credentials (RFC 8921 §8.1,
// §13), then closes it. It records the outcome in status.lastCheck and the
// Ready condition (Reachable, Unreachable, InvalidCredentials,
// SecretNotFound, Unsupported) with Reconciling and Stalled (kstatus),
// emits an Event when Ready changes, and checks again after CheckInterval
// (a failed check: after min(CheckInterval, 1m)) and whenever the object's
// spec, labels or annotations change. Secrets are read uncached and not
// watched.
//
// A ClusterProvider whose client certificate Secret follows the referring
// object's namespace (clientCertificateSecretRef without a namespace) has
// no client certificate of its own: its check runs the handshake without
// one, and a server that refuses the handshake for that reason counts as
// reachable (its certificate was verified first).
type ProviderReconciler struct {
	// Client reads Providers (cached) and writes their status.
	Client ctrlclient.Client
	// APIReader reads the Secrets (default Client; the manager's client
	// does not cache Secrets).
	APIReader ctrlclient.Reader
	// Recorder emits Events; each reason equals the Ready condition's.
	Recorder events.EventRecorder
	// CheckInterval is the wait between two checks (default
	// DefaultProviderCheckInterval).
	CheckInterval time.Duration
	// Now is the clock of status.lastCheck.time (default time.Now).
	Now func() time.Time
	// Probe opens the association (default transport.DialDTLS or DialTLS).
	Probe ProbeFunc
}

// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=providers;clusterproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups=negotiation.cpnp.dev,resources=providers/status;clusterproviders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers two controllers, for Providers and for
// ClusterProviders. Status updates do not trigger a check (the status
// subresource leaves the generation alone).
func (r *ProviderReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	changed := builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{},
		predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{}))
	err := ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Provider{}, changed).
		WithOptions(opts).
		Named("provider").
		Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			return r.reconcile(ctx, v1alpha1.ProviderKindProvider, req)
		}))
	if err != nil {
		return fmt.Errorf("provider controller: %w", err)
	}
	err = ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.ClusterProvider{}, changed).
		WithOptions(opts).
		Named("clusterprovider").
		Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			return r.reconcile(ctx, v1alpha1.ProviderKindClusterProvider, req)
		}))
	if err != nil {
		return fmt.Errorf("clusterprovider controller: %w", err)
	}
	return nil
}

func (r *ProviderReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *ProviderReconciler) interval() time.Duration {
	if r.CheckInterval > 0 {
		return r.CheckInterval
	}
	return DefaultProviderCheckInterval
}

// secretReader reads Providers from Client and Secrets from APIReader.
type secretReader struct {
	ctrlclient.Reader
	secrets ctrlclient.Reader
}

func (s secretReader) Get(ctx context.Context, key ctrlclient.ObjectKey, obj ctrlclient.Object, opts ...ctrlclient.GetOption) error {
	if _, ok := obj.(*corev1.Secret); ok {
		return s.secrets.Get(ctx, key, obj, opts...)
	}
	return s.Reader.Get(ctx, key, obj, opts...)
}

// checkResult is the outcome of one reachability check.
type checkResult struct {
	reason   string
	message  string
	identity string
}

// reconcile checks one Provider or ClusterProvider.
func (r *ProviderReconciler) reconcile(ctx context.Context, kind v1alpha1.ProviderKind, req ctrl.Request) (ctrl.Result, error) {
	var (
		obj    ctrlclient.Object
		status *v1alpha1.ProviderStatus
	)
	switch kind {
	case v1alpha1.ProviderKindProvider:
		p := &v1alpha1.Provider{}
		obj, status = p, &p.Status
	default:
		p := &v1alpha1.ClusterProvider{}
		obj, status = p, &p.Status
	}
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, ctrlclient.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return ctrl.Result{}, nil
	}
	base := obj.DeepCopyObject().(ctrlclient.Object)
	before := meta.FindStatusCondition(status.Conditions, v1alpha1.ConditionReady)
	var prev *metav1.Condition
	if before != nil {
		prev = before.DeepCopy()
	}

	res, err := r.check(ctx, kind, req)
	if err != nil {
		return ctrl.Result{}, err
	}
	if res.reason == providerNotFound {
		return ctrl.Result{}, nil // deleted while checking
	}
	r.setStatus(obj.GetGeneration(), status, res)

	if !equality.Semantic.DeepEqual(base, obj) {
		if err := r.Client.Status().Patch(ctx, obj, ctrlclient.MergeFrom(base)); err != nil {
			if apierrors.IsNotFound(err) {
				return ctrl.Result{}, nil
			}
			return ctrl.Result{}, fmt.Errorf("patch %s status: %w", kind, err)
		}
	}
	if prev == nil || prev.Reason != res.reason || prev.Status != readyStatus(res.reason) {
		typ := corev1.EventTypeWarning
		if res.reason == ReasonReachable {
			typ = corev1.EventTypeNormal
		}
		if r.Recorder != nil {
			r.Recorder.Eventf(obj, nil, typ, res.reason, "CheckReachability", "%s", res.message)
		}
		logf.FromContext(ctx).Info("Provider reachability changed", "kind", kind, "reason", res.reason, "message", res.message)
	}
	next := r.interval()
	if res.reason != ReasonReachable {
		next = min(next, maxProviderRetryInterval)
	}
	return ctrl.Result{RequeueAfter: next}, nil
}

// readyStatus is the Ready condition's status for reason.
func readyStatus(reason string) metav1.ConditionStatus {
	if reason == ReasonReachable {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}

// setStatus records res in status: lastCheck, Ready, Reconciling, Stalled
// and observedGeneration (kstatus).
func (r *ProviderReconciler) setStatus(gen int64, status *v1alpha1.ProviderStatus, res checkResult) {
	status.ObservedGeneration = gen
	check := &v1alpha1.ReachabilityCheck{Time: metav1.NewTime(r.now()), Result: v1alpha1.Reachable, Message: truncate(res.message, 1024),
		ServerIdentity: truncate(res.identity, 1024)}
	if res.reason != ReasonReachable {
		check.Result = v1alpha1.Unreachable
	}
	status.LastCheck = check
	set := func(t string, s metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&status.Conditions, metav1.Condition{
			Type: t, Status: s, Reason: reason, Message: truncate(msg, 32768), ObservedGeneration: gen,
		})
	}
	set(v1alpha1.ConditionReady, readyStatus(res.reason), res.reason, res.message)
	switch res.reason {
	case ReasonReachable:
		set(v1alpha1.ConditionReconciling, metav1.ConditionFalse, ReasonReconciled, "Nothing is in progress")
		set(v1alpha1.ConditionStalled, metav1.ConditionFalse, ReasonReconciled, "Nothing is in progress")
	case ReasonUnreachable:
		set(v1alpha1.ConditionReconciling, metav1.ConditionTrue, res.reason, res.message)
		set(v1alpha1.ConditionStalled, metav1.ConditionFalse, res.reason, res.message)
	default:
		set(v1alpha1.ConditionReconciling, metav1.ConditionFalse, res.reason, res.message)
		set(v1alpha1.ConditionStalled, metav1.ConditionTrue, res.reason, res.message)
	}
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// check resolves the provider and runs one handshake with its server. An
// error is a failed API read, retried with backoff.
func (r *ProviderReconciler) check(ctx context.Context, kind v1alpha1.ProviderKind, req ctrl.Request) (checkResult, error) {
	secrets := r.APIReader
	if secrets == nil {
		secrets = r.Client
	}
	reader := secretReader{Reader: r.Client, secrets: secrets}
	ref := v1alpha1.ProviderReference{Kind: kind, Name: req.Name}
	res, err := resolveProvider(ctx, reader, req.Namespace, ref, false)
	if err != nil {
		var pe *ProviderError
		if !errors.As(err, &pe) {
			return checkResult{}, fmt.Errorf("check %s %s: %w", kind, req.NamespacedName, err)
		}
		switch pe.Reason {
		case providerNotFound:
			if apierrors.IsNotFound(pe.Err) {
				return checkResult{reason: providerNotFound}, nil
			}
			return checkResult{}, fmt.Errorf("check %s %s: %w", kind, req.NamespacedName, err)
		case secretNotFound:
			if errors.Is(pe.Err, errNoSecretNamespace) || apierrors.IsNotFound(pe.Err) {
				return checkResult{reason: ReasonSecretNotFound, message: err.Error()}, nil
			}
			return checkResult{}, fmt.Errorf("check %s %s: %w", kind, req.NamespacedName, err)
		case invalidSecret:
			return checkResult{reason: ReasonInvalidCredentials, message: err.Error()}, nil
		case addressNotResolved:
			// DNS trouble is transient: Unreachable, rechecked soon.
			return checkResult{reason: ReasonUnreachable, message: err.Error()}, nil
		default:
			return checkResult{reason: ReasonUnsupported, message: err.Error()}, nil
		}
	}
	return r.probe(ctx, res), nil
}

// probe completes one handshake with the resolved server and closes it.
func (r *ProviderReconciler) probe(ctx context.Context, res ResolvedProvider) checkResult {
	sc := res.Config
	tc := sc.Options
	tc.ServerName = sc.ServerName
	tc.RootCAs = sc.RootCAs
	tc.Certificates = nil
	if sc.Certificate != nil {
		tc.Certificates = []tls.Certificate{*sc.Certificate}
	}
	timeout := tc.HandshakeTimeout
	if timeout <= 0 {
		timeout = transport.DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+probeGrace)
	defer cancel()
	probe := r.Probe
	if probe == nil {
		probe = dialProbe
	}
	conn, err := probe(ctx, sc.Address, sc.Transport, tc)
	if err == nil {
		id := conn.Identity()
		_ = conn.Close()
		return checkResult{reason: ReasonReachable, identity: id,
			message: fmt.Sprintf("Handshake with %s completed; server identity %q", sc.Address, id)}
	}
	observeHandshakeFailure(res.Server, err)
	var he *transport.HandshakeError
	if !errors.As(err, &he) {
		return checkResult{reason: ReasonUnreachable, message: fmt.Sprintf("Handshake with %s failed: %v", sc.Address, err)}
	}
	switch he.Reason {
	case transport.ReasonUnknownAuthority, transport.ReasonBadServerName, transport.ReasonBadCertificate,
		transport.ReasonNoIdentity, transport.ReasonInsecureSession:
		return checkResult{reason: ReasonInvalidCredentials, message: fmt.Sprintf("Handshake with %s failed (%s): %v", sc.Address, he.Reason, err)}
	case transport.ReasonNoClientCertificate, transport.ReasonPeerRefused:
		if sc.Certificate == nil {
			return checkResult{reason: ReasonReachable, message: fmt.Sprintf("The server at %s answered and refused a handshake "+
				"without a client certificate, as expected: the client certificate is per namespace and checked when used (%s)", sc.Address, he.Reason)}
		}
		return checkResult{reason: ReasonInvalidCredentials, message: fmt.Sprintf("Handshake with %s failed (%s): %v", sc.Address, he.Reason, err)}
	default:
		return checkResult{reason: ReasonUnreachable, message: fmt.Sprintf("Handshake with %s failed (%s): %v", sc.Address, he.Reason, err)}
	}
}

// dialProbe is the default ProbeFunc: DialTLS for TLS, else DialDTLS.
func dialProbe(ctx context.Context, addr string, t client.Transport, cfg transport.Config) (transport.Conn, error) {
	if t == client.TransportTLS {
		return transport.DialTLS(ctx, addr, cfg)
	}
	return transport.DialDTLS(ctx, addr, cfg)
}
