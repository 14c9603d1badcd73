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

/*
Command cpnp-server is the CPNP server (RFC 8921 §8.11.2) for use outside
Kubernetes: it negotiates connectivity provisioning requests from
authenticated clients against the capacity pools of a policy file, keeps
every order in a durable store, and serves an admin API. It is the
standalone contract of DESIGN §6:

	cpnp-server --listen 127.0.0.1:8921 --tls-cert server.crt --tls-key server.key \
	            --client-ca ca.crt --data-dir ./data --policy policy.yaml \
	            [--admin-listen 127.0.0.1:8922] [--log-format json|text]

It listens for DTLS 1.2 on UDP (the CPNP default transport, §8.1) and,
with --tls-listen, for TLS on TCP; clients must present a certificate that
chains to --client-ca (§13). It creates --data-dir if missing, is ready as
soon as it completes DTLS handshakes, and stops gracefully on SIGTERM or
SIGINT (exit status 0). Bad flags, unreadable files and invalid policies
are reported with the flag, file or field at fault (exit status 1).

docs/server.md is the operations guide: every flag, the admin API, the
metrics, the logs, persistence and restart semantics, security defaults.
*/
package main
