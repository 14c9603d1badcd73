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

# demo.sh (`make demo`) shows the operator negotiate on this machine, with
# nothing but this repository and Go: it builds what it needs (kube-apiserver,
# etcd and kubectl from Go modules through hack/envtest-assets.sh, cached;
# about 10 minutes the first time, seconds after that), starts a local API
# server with the CRDs (hack/devcluster), a standalone cpnp-server with
# certificates from `cpnpctl certs init`, and the operator's manager, then
# applies config/demo: a Provider for the server and three QuotationOrders
# (automatic acceptance, manual acceptance, one the server refuses with
# FAIL 5), shows `kubectl get cpnp` at each step, waits for the Agreements
# to be Ready and prints their contract IDs (RFC 8921 §9.2; DESIGN §5).
#
# Usage: hack/demo.sh [-h]
#
# Everything runs from a temporary directory that is removed at the end,
# and every process the demo starts is stopped when it ends, fails or is
# interrupted. On a failure it exits non-zero, names the failing step and
# prints the tail of the API server, cpnp-server and manager logs.
#
# Environment (defaults in brackets):
#   LOCALBIN       where the binaries are built [<repo>/bin]
#   DEMO_TIMEOUT   bound of each wait, seconds [60]
#   DEMO_KEEP      1: keep the temporary directory (logs) after the demo [0]

set -euo pipefail

readonly PROG="demo"
readonly NS="cpnp-demo"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
LOCALBIN="${LOCALBIN:-${ROOT}/bin}"
DEMO_TIMEOUT="${DEMO_TIMEOUT:-60}"
DEMO_KEEP="${DEMO_KEEP:-0}"

case "${1:-}" in
-h | --help)
	sed -n '/^# demo.sh/,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
	exit 0
	;;
"") ;;
*)
	echo "${PROG}: unknown argument: $1 (usage: hack/demo.sh [-h])" >&2
	exit 2
	;;
esac

STEP="setting up"
START="$(date +%s)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cpnp-demo.XXXXXX")"
readonly WORK
# name=pid of every background process, in start order.
PROCS=()

step() {
	STEP="$*"
	printf '\n=== %s\n' "$*"
}

die() {
	echo "${PROG}: error: $*" >&2
	exit 1
}

# show prints a command the way a reader would type it (arguments with
# shell metacharacters in single quotes), then runs it.
show() {
	local a line="$"
	for a in "$@"; do
		if [[ "${a}" =~ ^[][A-Za-z0-9_./=:,@%+-]+$ ]]; then
			line+=" ${a}"
		else
			line+=" '${a}'"
		fi
	done
	printf '%s\n' "${line}"
	"$@"
}

# kubectl runs the kubectl that envtest-assets.sh built, against the demo's
# API server; the demo's commands read as plain kubectl commands.
kubectl() { "${KUBECTL}" "$@"; }

# start runs a background process named $1 with the command $2..., its
# stdout and stderr going to ${WORK}/$1.log.
start() {
	local name="$1"
	shift
	"$@" >"${WORK}/${name}.log" 2>&1 &
	PROCS+=("${name}=$!")
}

# pid_of prints the pid of the background process named $1.
pid_of() {
	local p
	for p in "${PROCS[@]}"; do
		[[ "${p%%=*}" == "$1" ]] && echo "${p#*=}" && return 0
	done
	return 1
}

# alive fails when the background process named $1 has exited.
alive() {
	kill -0 "$(pid_of "$1")" 2>/dev/null || die "$1 exited (see its log below)"
}

# wait_log waits until ${WORK}/$1.log has a line matching the ERE $2, while
# process $1 runs.
wait_log() {
	local deadline=$((SECONDS + DEMO_TIMEOUT))
	until grep -qE -- "$2" "${WORK}/$1.log" 2>/dev/null; do
		alive "$1"
		((SECONDS < deadline)) || die "$1: no log line matching /$2/ within ${DEMO_TIMEOUT}s"
		sleep 0.2
	done
}

# stop_all stops the background processes, newest first: SIGTERM, then
# SIGKILL after 20 s. Then anything still running from ${WORK} (etcd and
# kube-apiserver if devcluster could not stop them) is killed by pid.
stop_all() {
	local i name pid n
	for ((i = ${#PROCS[@]} - 1; i >= 0; i--)); do
		name="${PROCS[i]%%=*}" pid="${PROCS[i]#*=}"
		kill -TERM "${pid}" 2>/dev/null || continue
		for ((n = 0; n < 100; n++)); do
			kill -0 "${pid}" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "${pid}" 2>/dev/null; then
			echo "${PROG}: ${name} (pid ${pid}) did not stop within 20s; killing it" >&2
			kill -KILL "${pid}" 2>/dev/null || true
		fi
		wait "${pid}" 2>/dev/null || true
	done
	PROCS=()
	local left
	left="$(pgrep -f -- "${WORK}/" 2>/dev/null || true)"
	if [[ -n "${left}" ]]; then
		echo "${PROG}: killing leftover processes ${left//$'\n'/ }" >&2
		# shellcheck disable=SC2086 # one pid per word
		kill -KILL ${left} 2>/dev/null || true
	fi
}

on_exit() {
	local status=$?
	trap - EXIT INT TERM
	if ((status != 0)); then
		echo >&2
		echo "${PROG}: FAILED at step \"${STEP}\" (exit status ${status})" >&2
		local log
		for log in apiserver cpnp-server manager; do
			if [[ -s "${WORK}/${log}.log" ]]; then
				echo "---- last lines of the ${log} log ----" >&2
				tail -n 30 "${WORK}/${log}.log" >&2
			fi
		done
	fi
	stop_all
	if [[ "${DEMO_KEEP}" == 1 ]]; then
		echo "${PROG}: kept ${WORK}" >&2
	else
		rm -rf -- "${WORK}"
	fi
	exit "${status}"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v go >/dev/null 2>&1 || die "'go' was not found in PATH; install Go 1.26 or newer (see go.mod)"

step "Build the operator, cpnp-server, cpnpctl and the local API server launcher"
(cd "${ROOT}" && go build -o "${LOCALBIN}/" ./cmd/manager ./cmd/cpnp-server ./cmd/cpnpctl ./hack/devcluster)
echo "built into ${LOCALBIN}"

step "Find or build kube-apiserver, etcd and kubectl (hack/envtest-assets.sh; ~10 min the first time)"
KUBEBUILDER_ASSETS="$("${ROOT}/hack/envtest-assets.sh" --assets-only)"
KUBECTL="$("${ROOT}/hack/envtest-assets.sh" --kubectl)"
export KUBEBUILDER_ASSETS
echo "control plane and kubectl in ${KUBEBUILDER_ASSETS}"

step "Start a local API server (etcd + kube-apiserver) with the CRDs of config/crd/bases"
# TMPDIR: envtest's etcd data and certificates land in ${WORK} too.
start apiserver env TMPDIR="${WORK}" "${LOCALBIN}/devcluster" \
	--kubeconfig "${WORK}/kubeconfig" --crds "${ROOT}/config/crd/bases"
wait_log apiserver '^ready '
export KUBECONFIG="${WORK}/kubeconfig"
show kubectl api-resources --categories=cpnp

step "Start a standalone cpnp-server with a CA, certificates and a policy (as in README's quick start)"
"${LOCALBIN}/cpnpctl" certs init "${WORK}/certs" >/dev/null
cat >"${WORK}/policy.yaml" <<'EOF'
pools:
- name: wan
  capacity: {incomingBps: 1000000000, outgoingBps: 1000000000}
  qosClasses:
  - {name: gold,   oneWayDelayMs: 10, delayVariationMs: 2, lossRatio: 0.0001}
  - {name: silver, oneWayDelayMs: 40, delayVariationMs: 10, lossRatio: 0.001}
  availabilityPercent: 99.95
  approval: {mode: Automatic}
  offerValidity: 5m
tenants:
- identity: "acme"
  pools: [wan]
  maxOutgoingBps: 500000000
upstreams: []
EOF
# Port 0: the kernel picks free ports, read back from the "Started" line,
# so the demo never collides with another server (or another demo).
start cpnp-server "${LOCALBIN}/cpnp-server" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
	--tls-cert "${WORK}/certs/server.crt" --tls-key "${WORK}/certs/server.key" \
	--client-ca "${WORK}/certs/ca.crt" --data-dir "${WORK}/data" --policy "${WORK}/policy.yaml" \
	--log-format text
wait_log cpnp-server 'msg=Started '
started="$(grep -m1 'msg=Started ' "${WORK}/cpnp-server.log")"
[[ "${started}" =~ dtls=([0-9.]+:[0-9]+) ]] || die "no DTLS address in: ${started}"
SERVER="${BASH_REMATCH[1]}"
[[ "${started}" =~ admin=([0-9.]+:[0-9]+) ]] || die "no admin address in: ${started}"
ADMIN="http://${BASH_REMATCH[1]}"
echo "cpnp-server: DTLS on udp ${SERVER}, admin API on ${ADMIN}"

step "Start the operator (cmd/manager) against the local API server"
start manager "${LOCALBIN}/manager" --metrics-bind-address=0 --health-probe-bind-address=0 \
	--engine-min-backoff=100ms --engine-max-backoff=2s
wait_log manager 'Starting workers.*quotationorder'
echo "manager running (log: manager.log)"

step "Create namespace ${NS}, the tenant's Secrets and a Provider for the local server"
show kubectl create namespace "${NS}"
kubectl config set-context --current --namespace "${NS}" >/dev/null
show kubectl create secret generic cpnp-ca --from-file=ca.crt="${WORK}/certs/ca.crt"
show kubectl create secret tls acme-tls --cert="${WORK}/certs/client.crt" --key="${WORK}/certs/client.key"
sed "s/127\.0\.0\.1:8921/${SERVER}/" "${ROOT}/config/demo/provider.yaml" >"${WORK}/provider.yaml"
show kubectl apply -f "${WORK}/provider.yaml"
show kubectl get cpnp

step "Automatic acceptance: QUOTATION, OFFER, ACCEPT, ACK (RFC 8921 §9.2.1-§9.2.6)"
show kubectl apply -f "${ROOT}/config/demo/order_automatic.yaml"
show kubectl get cpnp
show kubectl wait --for=condition=Ready quotationorder/paris-wan --timeout="${DEMO_TIMEOUT}s"
show kubectl wait --for=condition=Ready agreement/paris-wan --timeout="${DEMO_TIMEOUT}s"
show kubectl get cpnp

step "Manual acceptance: the Offer waits for a person's decision (RFC 8921 §9.2.3)"
show kubectl apply -f "${ROOT}/config/demo/order_manual.yaml"
show kubectl wait --for=jsonpath='{.status.state}'=OfferProcessing quotationorder/lyon-vpn --timeout="${DEMO_TIMEOUT}s"
offer="$(kubectl get quotationorder lyon-vpn -o jsonpath='{.status.providers[0].offerRef.name}')"
[[ -n "${offer}" ]] || die "quotationorder/lyon-vpn names no Offer"
show kubectl get cpnp
show kubectl patch offer "${offer}" --type=merge -p '{"spec":{"decision":"Accept"}}'
show kubectl wait --for=condition=Ready agreement/lyon-vpn --timeout="${DEMO_TIMEOUT}s"

step "An order the server cannot serve: FAIL 5, the order is Stalled (RFC 8921 §9.2.10)"
show kubectl apply -f "${ROOT}/config/demo/order_no_capacity.yaml"
show kubectl wait --for=condition=Stalled quotationorder/platinum-link --timeout="${DEMO_TIMEOUT}s"
show kubectl get quotationorder platinum-link -o jsonpath='{.status.failure}{"\n"}'

step "The outcome, as the cluster and as the provider see it"
show kubectl get cpnp
show "${LOCALBIN}/cpnpctl" admin list --admin "${ADMIN}"
for agr in paris-wan lyon-vpn; do
	id="$(kubectl get agreement "${agr}" -o jsonpath='{.status.contractID}')"
	[[ "${id}" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
		die "agreement/${agr}: contract ID ${id:-<empty>} is not a UUID"
	echo "Agreement ${agr}: contract ID ${id}"
done

step "Stop the manager, cpnp-server and the API server"
stop_all
echo "${PROG}: ok in $(($(date +%s) - START))s"
