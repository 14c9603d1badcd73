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
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
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
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress: o.probeAddr,
		LeaderElection:         o.leaderElect,
		LeaderElectionID:       o.leaderElectionID,
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
	if err := errors.Join(mgr.AddHealthzCheck("healthz", healthz.Ping), mgr.AddReadyzCheck("readyz", healthz.Ping)); err != nil {
		return fmt.Errorf("health checks: %w", err)
	}
	log.Info("Configured manager", "concurrency", o.concurrency, "leaderElection", o.leaderElect)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		return fmt.Errorf("run manager: %w", err)
	}
	return nil
}
