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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParseOptions checks the flags and their validation: the engine's
// timers reach its configuration, and a configuration that cannot work is
// refused before anything starts.
func TestParseOptions(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args    []string
		want    options
		wantErr bool
	}{
		"defaults": {
			want: options{metricsAddr: ":8080", probeAddr: ":8081", leaderElectionID: "cpnp-operator.negotiation.cpnp.dev",
				concurrency: 4, sendTimeout: 10 * time.Second, minBackoff: 250 * time.Millisecond, maxBackoff: 30 * time.Second,
				staleAfter: 5 * time.Second, inboxLimit: 64, providerCheckInterval: 5 * time.Minute,
				gcTTL: 24 * time.Hour, gcKeep: 100, gcInterval: 10 * time.Minute},
		},
		"everything": {
			args: []string{"--metrics-bind-address=0", "--health-probe-bind-address=:9", "--leader-elect", "--concurrency=8",
				"--engine-send-timeout=3s", "--engine-min-backoff=1s", "--engine-max-backoff=2s", "--engine-stale-after=-1s",
				"--engine-inbox-limit=5", "--leader-election-id=x", "--zap-log-level=debug",
				"--provider-check-interval=30s", "--gc-ttl=1h", "--gc-keep=7", "--gc-interval=1m", "--kubeconfig=/tmp/kc"},
			want: options{metricsAddr: "0", probeAddr: ":9", leaderElect: true, leaderElectionID: "x", concurrency: 8,
				sendTimeout: 3 * time.Second, minBackoff: time.Second, maxBackoff: 2 * time.Second, staleAfter: -time.Second, inboxLimit: 5,
				providerCheckInterval: 30 * time.Second, gcTTL: time.Hour, gcKeep: 7, gcInterval: time.Minute, kubeconfig: "/tmp/kc"},
		},
		"gc bounds disabled": {
			args: []string{"--gc-ttl=0", "--gc-keep=-1"},
			want: options{metricsAddr: ":8080", probeAddr: ":8081", leaderElectionID: "cpnp-operator.negotiation.cpnp.dev",
				concurrency: 4, sendTimeout: 10 * time.Second, minBackoff: 250 * time.Millisecond, maxBackoff: 30 * time.Second,
				staleAfter: 5 * time.Second, inboxLimit: 64, providerCheckInterval: 5 * time.Minute,
				gcTTL: 0, gcKeep: -1, gcInterval: 10 * time.Minute},
		},
		"zero check interval":   {args: []string{"--provider-check-interval=0"}, wantErr: true},
		"negative gc ttl":       {args: []string{"--gc-ttl=-1s"}, wantErr: true},
		"gc keep below -1":      {args: []string{"--gc-keep=-2"}, wantErr: true},
		"zero gc interval":      {args: []string{"--gc-interval=0"}, wantErr: true},
		"no concurrency":        {args: []string{"--concurrency=0"}, wantErr: true},
		"backoff inverted":      {args: []string{"--engine-min-backoff=3s", "--engine-max-backoff=1s"}, wantErr: true},
		"negative send timeout": {args: []string{"--engine-send-timeout=-1s"}, wantErr: true},
		"unknown flag":          {args: []string{"--nope"}, wantErr: true},
		"negative inbox limit":  {args: []string{"--engine-inbox-limit=-1"}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, _, err := parseOptions(tc.args)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got options %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(options{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}
