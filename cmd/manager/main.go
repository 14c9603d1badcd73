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
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/controllers"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/client"
)

// options are the manager's command-line flags.
type options struct {
	metricsAddr      string
	probeAddr        string
	leaderElect      bool
	concurrency      int
	sendTimeout      time.Duration
	minBackoff       time.Duration
	maxBackoff       time.Duration
	staleAfter       time.Duration
	inboxLimit       int
	leaderElectionID string
	// providerCheckInterval is the wait between two reachability checks
	// of a Provider or ClusterProvider.
	providerCheckInterval time.Duration
	// gcTTL, gcKeep and gcInterval bound the terminal QuotationOrders and
	// Offers kept (controllers.GarbageCollector).
	gcTTL      time.Duration
	gcKeep     int
	gcInterval time.Duration
	// kubeconfig is the kubeconfig file; empty: $KUBECONFIG, the
	// in-cluster configuration, then ~/.kube/config (ctrl.GetConfig).
	kubeconfig string
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// parseOptions parses the command line.
func parseOptions(args []string) (options, zap.Options, error) {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address the metrics endpoint binds to; 0 disables it.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address the health probes bind to.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Enable leader election, so that one manager negotiates at a time.")
	fs.StringVar(&o.leaderElectionID, "leader-election-id", "cpnp-operator.negotiation.cpnp.dev", "Name of the leader election lease.")
	fs.IntVar(&o.concurrency, "concurrency", 4, "QuotationOrders reconciled in parallel.")
	fs.DurationVar(&o.sendTimeout, "engine-send-timeout", controllers.DefaultSendTimeout, "Longest wait for an association when sending a message.")
	fs.DurationVar(&o.minBackoff, "engine-min-backoff", client.DefaultMinBackoff, "First wait before dialling a server again.")
	fs.DurationVar(&o.maxBackoff, "engine-max-backoff", client.DefaultMaxBackoff, "Longest wait between two dials of a server.")
	fs.DurationVar(&o.staleAfter, "engine-stale-after", client.DefaultStaleAfter, "Silence after which a retransmission re-dials the association (RFC 8921 §11.4).")
	fs.IntVar(&o.inboxLimit, "engine-inbox-limit", controllers.DefaultInboxLimit, "Messages recorded per order before the oldest are dropped.")
	fs.DurationVar(&o.providerCheckInterval, "provider-check-interval", controllers.DefaultProviderCheckInterval,
		"Wait between two reachability checks (a DTLS/TLS handshake) of a Provider or ClusterProvider; a failed check is repeated after at most 1m.")
	fs.DurationVar(&o.gcTTL, "gc-ttl", controllers.DefaultGCTTL,
		"Terminal QuotationOrders and Offers are deleted once terminal for longer than this; 0 disables the time bound.")
	fs.IntVar(&o.gcKeep, "gc-keep", controllers.DefaultGCKeep,
		"At most this many terminal QuotationOrders, and as many terminal Offers, are kept per namespace (newest first); -1 disables the count bound.")
	fs.DurationVar(&o.gcInterval, "gc-interval", controllers.DefaultGCInterval, "Wait between two garbage collections.")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "Path to a kubeconfig; default $KUBECONFIG, the in-cluster configuration, then ~/.kube/config.")
	zo := zap.Options{}
	zo.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, zo, err
	}
	if o.concurrency < 1 {
		return o, zo, errors.New("--concurrency must be at least 1")
	}
	if err := o.engineConfig().Validate(); err != nil {
		return o, zo, err
	}
	if o.providerCheckInterval <= 0 {
		return o, zo, errors.New("--provider-check-interval must be positive")
	}
	if o.gcTTL < 0 {
		return o, zo, errors.New("--gc-ttl must not be negative (0 disables the time bound)")
	}
	if o.gcKeep < -1 {
		return o, zo, errors.New("--gc-keep must be at least -1 (-1 disables the count bound)")
	}
	if o.gcInterval <= 0 {
		return o, zo, errors.New("--gc-interval must be positive")
	}
	return o, zo, nil
}

// engineConfig is the engine's configuration from the flags.
func (o options) engineConfig() controllers.EngineConfig {
	return controllers.EngineConfig{
		Mux: client.MuxConfig{
			MinBackoff: o.minBackoff,
			MaxBackoff: o.maxBackoff,
			StaleAfter: o.staleAfter,
		},
		SendTimeout: o.sendTimeout,
		InboxLimit:  o.inboxLimit,
	}
}

// restConfig loads the kubeconfig at path, or ctrl.GetConfig's default
// chain when path is empty. The manager parses its own FlagSet, so
// controller-runtime's --kubeconfig (on flag.CommandLine) is not seen.
func restConfig(path string) (*rest.Config, error) {
	if path == "" {
		return ctrl.GetConfig()
	}
	return clientcmd.BuildConfigFromFlags("", path)
}

// run parses args, builds the manager with the engine and the controllers,
// and runs it until SIGTERM or SIGINT.
func run(args []string) error {
	o, zo, err := parseOptions(args)
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zo)))
	log := ctrl.Log.WithName("setup")

	scheme := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		return fmt.Errorf("scheme: %w", err)
	}
	cfg, err := restConfig(o.kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress: o.probeAddr,
		LeaderElection:         o.leaderElect,
		LeaderElectionID:       o.leaderElectionID,
		// Secrets are read from the API server, never cached (no
		// cluster-wide Secret informer); cached objects lose managedFields.
		Client: controllers.ClientOptions(),
		Cache:  controllers.CacheOptions(),
	})
	if err != nil {
		return fmt.Errorf("new manager: %w", err)
	}
	ec := o.engineConfig()
	ec.Logger = ctrl.Log.WithName("engine")
	engine, err := controllers.NewEngine(ec)
	if err != nil {
		return err
	}
	if err := mgr.Add(engine); err != nil {
		return fmt.Errorf("add engine: %w", err)
	}
	r := &controllers.QuotationOrderReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Engine:    engine,
		Recorder:  mgr.GetEventRecorder("cpnp-operator"),
	}
	if err := r.SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: o.concurrency}); err != nil {
		return fmt.Errorf("quotationorder controller: %w", err)
	}
	ar := &controllers.AgreementReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Engine:    engine,
		Recorder:  mgr.GetEventRecorder("cpnp-operator"),
	}
	if err := ar.SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: o.concurrency}); err != nil {
		return fmt.Errorf("agreement controller: %w", err)
	}
	pr := &controllers.ProviderReconciler{
		Client:        mgr.GetClient(),
		APIReader:     mgr.GetAPIReader(),
		Recorder:      mgr.GetEventRecorder("cpnp-operator"),
		CheckInterval: o.providerCheckInterval,
	}
	if err := pr.SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: o.concurrency}); err != nil {
		return err
	}
	if err := mgr.Add(&controllers.GarbageCollector{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		TTL:       o.gcTTL,
		Keep:      o.gcKeep,
		Interval:  o.gcInterval,
		Logger:    ctrl.Log.WithName("gc"),
	}); err != nil {
		return fmt.Errorf("add garbage collector: %w", err)
	}
	if err := errors.Join(metrics.Registry.Register(controllers.NewStateCollector(mgr.GetCache())),
		metrics.Registry.Register(controllers.NewEngineCollector(engine))); err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	if err := errors.Join(mgr.AddHealthzCheck("healthz", healthz.Ping), mgr.AddReadyzCheck("readyz", healthz.Ping)); err != nil {
		return fmt.Errorf("health checks: %w", err)
	}
	log.Info("Configured manager", "concurrency", o.concurrency, "leaderElection", o.leaderElect,
		"providerCheckInterval", o.providerCheckInterval.String(), "gcTTL", o.gcTTL.String(), "gcKeep", o.gcKeep)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		return fmt.Errorf("run manager: %w", err)
	}
	return nil
}
