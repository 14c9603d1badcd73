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
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/cpnp-dev/cpnp-operator/api/v1alpha1"
)

// The tests in this package that need an API server share one envtest
// control plane (a real kube-apiserver and etcd from KUBEBUILDER_ASSETS,
// which hack/envtest-assets.sh builds), started by the first test that asks
// for it, with the CRDs of config/crd/bases installed once; TestMain stops it.

// envRequired is the variable `make test` sets so that a missing control
// plane fails the tests instead of skipping them.
const envRequired = "CPNP_REQUIRE_ENVTEST"

// testNamespace holds the namespaced objects of every test; names are unique
// per test case.
const testNamespace = "cpnp-api-test"

var (
	apiOnce sync.Once
	apiEnv  *envtest.Environment
	apiC    client.Client
	apiCfg  *rest.Config
	apiErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if apiEnv != nil {
		if err := apiEnv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop envtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// apiServer returns a client of the shared API server, starting it on first
// use. Without KUBEBUILDER_ASSETS the test is skipped, unless
// CPNP_REQUIRE_ENVTEST=1 (make test), which makes it fail.
func apiServer(t *testing.T) client.Client {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		const how = "KUBEBUILDER_ASSETS is not set: run `make test`, or " +
			"KUBEBUILDER_ASSETS=\"$(hack/envtest-assets.sh --assets-only)\" go test ./api/..."
		if os.Getenv(envRequired) == "1" {
			t.Fatal(how + " (" + envRequired + "=1 requires the API server tests)")
		}
		t.Skip(how)
	}
	apiOnce.Do(startAPIServer)
	if apiErr != nil {
		t.Fatalf("envtest: %v", apiErr)
	}
	return apiC
}

func startAPIServer() {
	logf.SetLogger(logr.Discard())
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		apiErr = fmt.Errorf("start the control plane from KUBEBUILDER_ASSETS=%s: %w", os.Getenv("KUBEBUILDER_ASSETS"), err)
		return
	}
	apiEnv = env
	scheme := runtime.NewScheme()
	if err := errors.Join(corev1.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		apiErr = err
		return
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		apiErr = fmt.Errorf("client: %w", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNamespace}}
	if err := c.Create(ctx, ns); err != nil {
		apiErr = fmt.Errorf("create namespace %s: %w", testNamespace, err)
		return
	}
	apiC, apiCfg = c, cfg
}

// ctx returns a context bounded by the test's deadline, or 30 s.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// fromYAML parses a manifest into an unstructured object.
func fromYAML(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatalf("parse manifest: %v\n%s", err, manifest)
	}
	return u
}

// readSample parses config/samples/<name>.
func readSample(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", name))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	return fromYAML(t, string(data))
}

// place gives u a unique name and, for namespaced kinds, the test namespace.
func place(u *unstructured.Unstructured, name string) {
	u.SetName(name)
	switch u.GetKind() {
	case "ClusterProvider", "CapacityPool":
		u.SetNamespace("")
	default:
		u.SetNamespace(testNamespace)
	}
}

// dnsName turns a test case name into an object name.
func dnsName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 50 {
		out = strings.TrimRight(out[:50], "-")
	}
	return out
}

// wantInvalid asserts that err is the API server's Invalid error with a
// cause on field whose message contains msg, and that the error text a
// person sees names the field.
func wantInvalid(t *testing.T, err error, field, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want the API server to reject it naming %s (%q)", field, msg)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("got %v, want an Invalid error naming %s", err, field)
	}
	t.Logf("rejected as wanted: %v", err)
	if !strings.Contains(err.Error(), field) {
		t.Errorf("error %q does not name the field %s", err.Error(), field)
	}
	var se *apierrors.StatusError
	if !errors.As(err, &se) || se.ErrStatus.Details == nil {
		t.Fatalf("got %v, want a StatusError with details", err)
	}
	var causes []string
	for _, c := range se.ErrStatus.Details.Causes {
		if c.Field == field && strings.Contains(c.Message, msg) {
			return
		}
		causes = append(causes, c.Field+": "+c.Message)
	}
	t.Errorf("got causes %q, want one on field %s containing %q", causes, field, msg)
}

// setPath sets the member at path ("spec.cpd.components[0].qos.class") of a
// decoded manifest, creating objects on the way; a nil value deletes it.
func setPath(t *testing.T, obj map[string]any, path string, value any) {
	t.Helper()
	parts := strings.Split(path, ".")
	var cur any = obj
	for i, p := range parts {
		name, idx, hasIdx := strings.Cut(p, "[")
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("setPath %s: %s is not an object", path, strings.Join(parts[:i], "."))
		}
		last := i == len(parts)-1
		if !hasIdx {
			if last {
				if value == nil {
					delete(m, name)
				} else {
					m[name] = value
				}
				return
			}
			next, ok := m[name]
			if !ok {
				next = map[string]any{}
				m[name] = next
			}
			cur = next
			continue
		}
		var n int
		if _, err := fmt.Sscanf(idx, "%d]", &n); err != nil {
			t.Fatalf("setPath %s: bad index in %s", path, p)
		}
		list, ok := m[name].([]any)
		if !ok || n >= len(list) {
			t.Fatalf("setPath %s: %s has no element %d", path, name, n)
		}
		if last {
			if value == nil {
				m[name] = append(list[:n:n], list[n+1:]...)
			} else {
				list[n] = value
			}
			return
		}
		cur = list[n]
	}
}
