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
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devcluster:", err)
		os.Exit(1)
	}
}

// run starts the control plane, writes the kubeconfig and waits for ctx.
func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("devcluster", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "where to write the kubeconfig of a cluster-admin user (required)")
	crds := fs.String("crds", filepath.Join("config", "crd", "bases"), "directory of the CRDs to install")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *kubeconfig == "" {
		return errors.New("flag --kubeconfig is required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set: use KUBEBUILDER_ASSETS=\"$(hack/envtest-assets.sh --assets-only)\"")
	}
	// controller-runtime warns once when no logger is set; envtest's own
	// output is not needed here.
	logf.SetLogger(logr.Discard())

	fmt.Fprintf(os.Stderr, "devcluster: starting etcd and kube-apiserver from %s with the CRDs of %s\n", os.Getenv("KUBEBUILDER_ASSETS"), *crds)
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{*crds},
		ErrorIfCRDPathMissing: true,
	}
	if _, err := env.Start(); err != nil {
		// Start leaves whatever it started running when it fails later
		// on (installing the CRDs); Stop is safe on a half-started plane.
		return errors.Join(fmt.Errorf("start the control plane: %w", err), env.Stop())
	}
	defer func() {
		err = errors.Join(err, stopPlane(env), removeIfExists(*kubeconfig))
	}()

	user, err := env.AddUser(envtest.User{Name: "cpnp-demo", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add the admin user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("render the kubeconfig: %w", err)
	}
	if err := writeFileAtomic(*kubeconfig, kc); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ready %s %s\n", env.Config.Host, *kubeconfig)

	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "devcluster: stopping the control plane")
	return nil
}

// stopPlane stops the API server and etcd and removes their directories.
func stopPlane(env *envtest.Environment) error {
	if err := env.Stop(); err != nil {
		return fmt.Errorf("stop the control plane: %w", err)
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and one rename, with mode 0600 (it holds credentials).
func writeFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, removeIfExists(f.Name()))
		}
	}()
	if _, err := f.Write(data); err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", path, err), f.Close())
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// removeIfExists removes path; a path that is already gone is not an error.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}
