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
#     and `kubectl kustomize config/demo` renders the samples of
#     config/samples (providers with the placeholder addresses the demo
#     replaces) and the demo-only order;
#  2. hack/demo.sh runs non-interactively (no terminal, its own TMPDIR),
#     exits 0, and every sample order reaches its expected end: a UUID
#     contract ID for the Agreements paris-wan (cluster-wan),
#     dual-sourced-uplink and lyon-vpn (transit-paris), lyon-vpn held in
#     Created until approved, transit-paris winning the parallel order and
#     cluster-wan's offer declined with reason 2 (RFC 8921 §8.10), FAIL 5
#     for platinum-link; and it leaves no process and no file behind.
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
want_demo=(
	'^kind: ClusterProvider$' '^  name: cluster-wan$' '^  address: 127\.0\.0\.1:8921$'
	'^kind: Provider$' '^  name: transit-paris$' '^  address: 127\.0\.0\.1:8931$'
	'^kind: CapacityPool$'
	'^  name: paris-wan$' '^  name: lyon-vpn$' '^  name: dual-sourced-uplink$' '^  name: platinum-link$'
)
for re in "${want_demo[@]}"; do
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
# want_line fails unless the transcript has a line matching the ERE $1;
# $2 says what that line shows.
want_line() {
	if ! grep -qE -- "$1" "${tmp}/transcript"; then
		show_transcript
		fail "$2 (no line matching /$1/)"
	fi
}
want_line "^Agreement paris-wan: contract ID ${uuid} \\(provider cluster-wan\\)$" \
	"the demo printed no contract ID for agreement paris-wan with cluster-wan"
want_line "^Agreement dual-sourced-uplink: contract ID ${uuid} \\(provider transit-paris\\)$" \
	"the demo printed no contract ID for agreement dual-sourced-uplink with transit-paris"
want_line "^Agreement lyon-vpn: contract ID ${uuid} \\(provider transit-paris\\)$" \
	"the demo printed no contract ID for agreement lyon-vpn with transit-paris"
want_line '^lyon-vpn is still Created while the other orders negotiated$' \
	"lyon-vpn (approval: Pending) was not shown held in Created"
want_line '^Parallel order dual-sourced-uplink: transit-paris won: its offer guarantees 99\.99% availability against 99\.95% from cluster-wan' \
	"the demo did not name transit-paris the winner of the parallel order"
want_line '^Parallel order dual-sourced-uplink: the offer of cluster-wan \(dual-sourced-uplink-[0-9a-z]+\) was declined with reason 2 \(ConflictWithOtherOffer' \
	"the demo did not show cluster-wan's offer declined with reason 2"
want_line '^dual-sourced-uplink-[0-9a-z]+ +dual-sourced-uplink +cluster-wan +99\.95 +[0-9]+ +Decline +\[ConflictWithOtherOffer\] +Declined$' \
	"the Offer of cluster-wan for dual-sourced-uplink is not Declined with ConflictWithOtherOffer"
want_line '^quotationorder\.negotiation\.cpnp\.dev/platinum-link condition met$' \
	"platinum-link did not become Stalled"
want_line '"statusCode":5' "platinum-link did not fail with FAIL 5"
grep -qE '^demo: ok in [0-9]+s$' "${tmp}/transcript" || {
	show_transcript
	fail "the demo did not end with \"demo: ok\""
}
left="$(pgrep -af -- "${tmp}/run/" || true)"
[[ -z "${left}" ]] || fail "processes left running: ${left}"
if [[ -n "$(ls -A "${tmp}/run")" ]]; then
	fail "files left in TMPDIR: $(ls -A "${tmp}/run")"
fi
echo "${PROG}: ok ($(grep -E '^demo: ok' "${tmp}/transcript" | sed 's/^demo: //'), 3 contract IDs, transit-paris won the parallel order, cluster-wan declined with reason 2, nothing left behind)"
