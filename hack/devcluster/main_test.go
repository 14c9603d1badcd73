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
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// TestRunArguments checks the command line errors, which need no control
// plane.
func TestRunArguments(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", "/nonexistent")
	tests := map[string]struct {
		args    []string
		wantErr string
	}{
		"no kubeconfig":  {args: nil, wantErr: "flag --kubeconfig is required"},
		"extra argument": {args: []string{"--kubeconfig", "k", "extra"}, wantErr: `unexpected argument "extra"`},
		"unknown flag":   {args: []string{"--nope"}, wantErr: "flag provided but not defined: -nope"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), tc.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestRunWithoutAssets fails with the command that builds the assets.
func TestRunWithoutAssets(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", "")
	err := run(context.Background(), []string{"--kubeconfig", filepath.Join(t.TempDir(), "k")}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "hack/envtest-assets.sh --assets-only") {
		t.Fatalf("got error %v, want one naming hack/envtest-assets.sh --assets-only", err)
	}
}

// TestWriteFileAtomic writes a private file and replaces it whole.
func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	for _, data := range []string{"first", "second"} {
		if err := writeFileAtomic(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != data {
			t.Errorf("content: got %q, want %q", got, data)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("mode: got %v, want 0600 (the file holds credentials)", got)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory: got %d entries, want only the kubeconfig (no temporary file left)", len(entries))
	}
	if err := writeFileAtomic(filepath.Join(t.TempDir(), "missing", "k"), nil); err == nil {
		t.Error("write into a missing directory: got no error, want one")
	}
}

// TestRunControlPlane starts the control plane from KUBEBUILDER_ASSETS,
// reads the kubeconfig it announces, and checks that cancelling stops it
// and removes the kubeconfig. Skipped without KUBEBUILDER_ASSETS unless
// CPNP_REQUIRE_ENVTEST=1 (make test).
func TestRunControlPlane(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		if os.Getenv("CPNP_REQUIRE_ENVTEST") == "1" {
			t.Fatal("KUBEBUILDER_ASSETS is not set (CPNP_REQUIRE_ENVTEST=1)")
		}
		t.Skip(`KUBEBUILDER_ASSETS is not set: KUBEBUILDER_ASSETS="$(hack/envtest-assets.sh --assets-only)" go test ./hack/devcluster/`)
	}
	t.Setenv("TMPDIR", t.TempDir())
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"--kubeconfig", kc, "--crds", filepath.Join("..", "..", "config", "crd", "bases")}, pw)
		done <- errors.Join(err, pw.Close())
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("read the ready line: %v (run: %v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	fields := strings.Fields(line)
	if len(fields) != 3 || fields[0] != "ready" || fields[2] != kc {
		t.Errorf("ready line: got %q, want \"ready <url> %s\"", line, kc)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	if len(fields) > 1 && strings.TrimSuffix(cfg.Host, "/") != strings.TrimSuffix(fields[1], "/") {
		t.Errorf("kubeconfig server: got %s, want %s", cfg.Host, fields[1])
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := os.Stat(kc); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("kubeconfig after stop: got %v, want it removed", err)
	}
}
