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

package controllers_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/cpnptest"
)

// TestKstatusProviders checks the kstatus of every observed version of a
// Provider and a ClusterProvider (kstatus_test.go says how): Current once
// a handshake with the server succeeded, Failed when a Secret they name is
// missing (Stalled), and from the first status write on never Unknown and
// never Current before the check ends.
// Reference: RFC 8921 §8.1, §13 (reaching and authenticating the server);
// DESIGN §5 (Provider status: last reachability check; kstatus conditions
// from the first reconcile).
func TestKstatusProviders(t *testing.T) {
	c := apiServer(t)
	wc, err := client.NewWithWatch(apiCfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatalf("watch client: %v", err)
	}
	tests := []struct {
		name string
		// cluster makes a ClusterProvider instead of a Provider.
		cluster bool
		// clientSecret is the client certificate Secret the provider
		// names; provider() creates acme-tls.
		clientSecret string
		final        kstatus.Status
	}{
		{name: "provider reachable", clientSecret: "acme-tls", final: kstatus.CurrentStatus},
		{name: "provider without its Secret", clientSecret: "missing", final: kstatus.FailedStatus},
		{name: "cluster provider reachable", cluster: true, clientSecret: "acme-tls", final: kstatus.CurrentStatus},
		{name: "cluster provider without its Secret", cluster: true, clientSecret: "missing", final: kstatus.FailedStatus},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns := namespace(t, c, "kstatus-provider")
			p := cpnptest.NewPKI(t)
			srv := startServer(t, p, 0)
			// The Secrets (and a Provider "wan" that is not watched).
			provider(t, c, ns, "wan", p, srv)
			kind, name := "Provider", "p"
			var rec *versionRecorder
			if tc.cluster {
				kind, name = "ClusterProvider", ns
				rec = watchKindsWhere(t, wc, "", func(u *unstructured.Unstructured) bool { return u.GetName() == name }, kind)
			} else {
				rec = watchKindsWhere(t, wc, ns, func(u *unstructured.Unstructured) bool { return u.GetName() == name }, kind)
			}
			providerManager(t, time.Hour)

			spec := v1alpha1.ProviderSpec{
				Address:                    srv.addr,
				ServerName:                 p.ServerName,
				CASecretRef:                &v1alpha1.SecretReference{Name: "cpnp-ca"},
				ClientCertificateSecretRef: v1alpha1.SecretReference{Name: tc.clientSecret},
			}
			var obj client.Object = &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
			if tc.cluster {
				spec.CASecretRef.Namespace, spec.ClientCertificateSecretRef.Namespace = ns, ns
				obj = &v1alpha1.ClusterProvider{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
			}
			if err := c.Create(ctxFor(t), obj); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Delete(context.Background(), obj) })

			got := rec.waitFinal(t, map[string]kstatus.Status{kind: tc.final})
			versions := got[objectKey{kind, name}]
			seq, err := checkKstatusSequence(versions, tc.final, false)
			if err != nil {
				t.Errorf("%s %s: %v; kstatus of each version: %s", kind, name, err, seq)
			} else {
				t.Logf("%s %s: %s", kind, name, seq)
			}
		})
	}
}
