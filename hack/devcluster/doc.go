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

// Command devcluster runs a local Kubernetes control plane (etcd and
// kube-apiserver from KUBEBUILDER_ASSETS, which hack/envtest-assets.sh
// builds) with the CRDs of config/crd/bases installed, for `make demo`
// (hack/demo.sh) and for trying the operator by hand:
//
//	KUBEBUILDER_ASSETS="$(hack/envtest-assets.sh --assets-only)" \
//	  go run ./hack/devcluster --kubeconfig /tmp/cpnp.kubeconfig
//
// Once the API server serves the CRDs it writes a kubeconfig for a
// cluster-admin user (group system:masters) to --kubeconfig, replacing the
// file in one rename so that a reader never sees half of it, and prints
// "ready" with the API server's URL on stdout. It runs until SIGINT or
// SIGTERM, then stops the API server and etcd, removes their temporary
// directories (under $TMPDIR) and the kubeconfig, and exits 0. It is not a
// cluster: nothing runs Pods, and there are no controllers besides the ones
// started by hand (the operator's manager).
package main
