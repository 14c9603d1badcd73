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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestSamplesApply creates every manifest of config/samples on a real API
// server: each passes the schema and every CEL rule of the CRDs.
func TestSamplesApply(t *testing.T) {
	c := apiServer(t)
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "negotiation_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("found no samples (%v)", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			u := readSample(t, name)
			place(u, "sample-"+dnsName(strings.TrimSuffix(strings.TrimPrefix(name, "negotiation_v1alpha1_"), ".yaml")))
			if err := c.Create(ctx(t), u); err != nil {
				t.Fatalf("create %s: got %v, want it accepted", name, err)
			}
		})
	}
}

// TestSamplesListed checks that config/samples/kustomization.yaml lists
// every sample, so `kubectl apply -k config/samples` applies them all.
func TestSamplesListed(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "config", "samples")
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "negotiation_*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, filepath.Base(f))
	}
	got := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(got, want) {
		t.Errorf("kustomization resources: got %q, want %q", got, want)
	}
}
