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

// Package benchoperator is the operator benchmark of issue #4 (DESIGN §7,
// `make bench-operator`, docs/benchmarks.md): 1,000 QuotationOrders
// negotiated end to end (RFC 8921 §8.11.1: QUOTATION, OFFER, ACCEPT, ACK,
// Agreement) by the real reconcilers against a local kube-apiserver
// (envtest) and an in-process CPNP server engine over DTLS, with every API
// request the manager makes counted by verb and resource (Counter, a
// rest.Config.WrapTransport), a raw status-write baseline measured in the
// same run, and the manager's heap with 10,000 Agreements in its caches,
// with and without controllers.CacheOptions / controllers.ClientOptions.
//
// The benchmark itself is BenchmarkOperator in bench_test.go; it needs
// KUBEBUILDER_ASSETS (hack/envtest-assets.sh --assets-only) and is not part
// of `make test`.
package benchoperator
