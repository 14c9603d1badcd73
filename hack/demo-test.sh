#!/usr/bin/env bash
# Copyright 2026 The cpnp-operator Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# demo-test.sh (`make test-demo`) checks the kustomizations and the demo:
#  1. `kubectl kustomize config/default` renders the six CRDs, the RBAC and
#     the manager Deployment in namespace cpnp-system with the cpnp- prefix,
#     and `kubectl kustomize config/demo` renders the demo's manifests;
#  2. hack/demo.sh runs non-interactively (no terminal, its own TMPDIR),
#     exits 0, prints a UUID contract ID for each Agreement, and leaves no
#     process and no file behind.
# Usage: hack/demo-test.sh
set -euo pipefail

readonly PROG="demo-test"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
tmp="$(mktemp -d)"
trap 'rm -rf -- "${tmp}"' EXIT

fail() {
	echo "${PROG}: FAILED: $*" >&2
	exit 1
}

kubectl="$("${ROOT}/hack/envtest-assets.sh" --kubectl)"

# 1. The kustomizations render, with what an install needs.
"${kubectl}" kustomize "${ROOT}/config/default" >"${tmp}/default.yaml" ||
	fail "kubectl kustomize config/default does not render"
want_default=(
	'^kind: Namespace$'
	'^  name: cpnp-system$'
	'^  name: agreements\.negotiation\.cpnp\.dev$'
	'^  name: capacitypools\.negotiation\.cpnp\.dev$'
	'^  name: clusterproviders\.negotiation\.cpnp\.dev$'
	'^  name: offers\.negotiation\.cpnp\.dev$'
	'^  name: providers\.negotiation\.cpnp\.dev$'
	'^  name: quotationorders\.negotiation\.cpnp\.dev$'
	'^  name: cpnp-manager-role$'
	'^  name: cpnp-manager-rolebinding$'
	'^  name: cpnp-controller-manager$'
	'^kind: Deployment$'
	'^  namespace: cpnp-system$'
)
for re in "${want_default[@]}"; do
	grep -qE -- "${re}" "${tmp}/default.yaml" || fail "config/default renders no line matching /${re}/"
done
# Every namespaced object lands in cpnp-system: no "system" left over.
if grep -nE '^  namespace: system$|^    namespace: system$' "${tmp}/default.yaml"; then
	fail "config/default leaves objects in namespace \"system\""
fi
"${kubectl}" kustomize "${ROOT}/config/demo" >"${tmp}/demo.yaml" ||
	fail "kubectl kustomize config/demo does not render"
for re in '^kind: Provider$' '^  name: paris-wan$' '^  name: lyon-vpn$' '^  name: platinum-link$'; do
	grep -qE -- "${re}" "${tmp}/demo.yaml" || fail "config/demo renders no line matching /${re}/"
done
echo "${PROG}: config/default and config/demo render"

# 2. The demo, with no terminal and its own TMPDIR, so that what it leaves
# behind (files, processes with that path in their command line) shows.
mkdir "${tmp}/run"
status=0
TMPDIR="${tmp}/run" "${ROOT}/hack/demo.sh" </dev/null >"${tmp}/transcript" 2>&1 || status=$?
show_transcript() {
	echo "---- demo transcript ----" >&2
	cat "${tmp}/transcript" >&2
}
if ((status != 0)); then
	show_transcript
	fail "hack/demo.sh exited with status ${status}"
fi
uuid='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
for agr in paris-wan lyon-vpn; do
	if ! grep -qE "^Agreement ${agr}: contract ID ${uuid}$" "${tmp}/transcript"; then
		show_transcript
		fail "the demo printed no contract ID for agreement ${agr}"
	fi
done
grep -qE '^demo: ok in [0-9]+s$' "${tmp}/transcript" || {
	show_transcript
	fail "the demo did not end with \"demo: ok\""
}
left="$(pgrep -af -- "${tmp}/run/" || true)"
[[ -z "${left}" ]] || fail "processes left running: ${left}"
if [[ -n "$(ls -A "${tmp}/run")" ]]; then
	fail "files left in TMPDIR: $(ls -A "${tmp}/run")"
fi
echo "${PROG}: ok ($(grep -E '^demo: ok' "${tmp}/transcript" | sed 's/^demo: //'), 2 contract IDs, nothing left behind)"
