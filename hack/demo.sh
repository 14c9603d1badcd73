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
# server with the CRDs (hack/devcluster), two standalone cpnp-servers with
# certificates from `cpnpctl certs init` and the policies of config/demo
# (one plays ClusterProvider cluster-wan, one Provider transit-paris), and
# the operator's manager, then applies the samples of config/samples
# through config/demo (the providers' addresses pointed at the local
# servers): paris-wan (automatic acceptance), lyon-vpn (approval: Pending,
# held in Created until the demo approves it, then manual acceptance),
# dual-sourced-uplink (parallel negotiation with both servers: the best
# offer is accepted, the other declined with reason 2, RFC 8921 §8.10), and
# the demo-only platinum-link (FAIL 5). It shows `kubectl get cpnp` at each
# step, waits for the Agreements to be Ready and prints their contract IDs
# (RFC 8921 §9.2; DESIGN §5) and the parallel order's winner.
#
# Usage: hack/demo.sh [-h]
#
# Everything runs from a temporary directory that is removed at the end,
# and every process the demo starts is stopped when it ends, fails or is
# interrupted. On a failure it exits non-zero, names the failing step and
# prints the tail of the API server, cpnp-servers' and manager logs.
#
# Environment (defaults in brackets):
#   LOCALBIN       where the binaries are built [<repo>/bin]
#   DEMO_TIMEOUT   bound of each wait, seconds [60]
#   DEMO_KEEP      1: keep the temporary directory (logs) after the demo [0]

set -euo pipefail

readonly PROG="demo"
readonly NS="team-a"

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
		for log in apiserver cluster-wan transit-paris manager; do
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

step "Start two standalone cpnp-servers: cluster-wan and transit-paris, each with its own CA and policy"
# start_server NAME DNS-NAME CLIENT-CN: a CA and certificates from
# `cpnpctl certs init` in ${WORK}/NAME (the server certificate names
# DNS-NAME, the serverName of the sample provider; the client certificate's
# CN is the identity the server's policy knows), then cpnp-server with
# config/demo/policy-NAME.yaml on free ports (port 0: the kernel picks
# them; the demo reads them back from the "Started" line, so it never
# collides with another server or another demo). It sets ADDR[NAME] and
# ADMIN[NAME].
declare -A ADDR=() ADMIN=()
start_server() {
	local name="$1" dns="$2" cn="$3" started
	"${LOCALBIN}/cpnpctl" certs init "${WORK}/${name}" --dns-name "${dns}" --client-cn "${cn}" >/dev/null
	start "${name}" "${LOCALBIN}/cpnp-server" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
		--tls-cert "${WORK}/${name}/server.crt" --tls-key "${WORK}/${name}/server.key" \
		--client-ca "${WORK}/${name}/ca.crt" --data-dir "${WORK}/${name}/data" \
		--policy "${ROOT}/config/demo/policy-${name}.yaml" --log-format text
	wait_log "${name}" 'msg=Started '
	started="$(grep -m1 'msg=Started ' "${WORK}/${name}.log")"
	[[ "${started}" =~ dtls=([0-9.]+:[0-9]+) ]] || die "${name}: no DTLS address in: ${started}"
	ADDR[${name}]="${BASH_REMATCH[1]}"
	[[ "${started}" =~ admin=([0-9.]+:[0-9]+) ]] || die "${name}: no admin address in: ${started}"
	ADMIN[${name}]="http://${BASH_REMATCH[1]}"
	echo "${name}: DTLS on udp ${ADDR[${name}]} (certificate for ${dns}, client CN ${cn}), admin API on ${ADMIN[${name}]}, policy config/demo/policy-${name}.yaml"
}
start_server cluster-wan cpnp-server.cpnp-system.svc team-a
start_server transit-paris cpnp.transit.example.net acme

step "Start the operator (cmd/manager) against the local API server"
start manager "${LOCALBIN}/manager" --metrics-bind-address=0 --health-probe-bind-address=0 \
	--engine-min-backoff=100ms --engine-max-backoff=2s
wait_log manager 'Starting workers.*quotationorder'
echo "manager running (log: manager.log)"

step "Render config/demo (config/samples with the providers' addresses on this machine)"
cd "${WORK}"
"${KUBECTL}" kustomize "${ROOT}/config/demo" |
	sed -e "s/127\.0\.0\.1:8921/${ADDR[cluster-wan]}/" -e "s/127\.0\.0\.1:8931/${ADDR[transit-paris]}/" >demo.yaml
# One file per object, named kind-name.yaml, so that each step applies its
# own objects. In kustomize's output "kind:" and metadata's "  name:" come
# first in each document.
mkdir manifests
awk -v dir=manifests '
	function flush() {
		if (doc != "") { f = dir "/" tolower(kind) "-" name ".yaml"; printf "%s", doc > f; close(f) }
		doc = ""; kind = ""; name = ""
	}
	/^---$/ { flush(); next }
	kind == "" && /^kind: / { kind = $2 }
	name == "" && /^  name: / { name = $2 }
	{ doc = doc $0 "\n" }
	END { flush() }
' demo.yaml
ls manifests
grep -E '^  (address|serverName): ' manifests/clusterprovider-cluster-wan.yaml manifests/provider-transit-paris.yaml

step "Namespace ${NS}, the Secrets the samples name, the providers and the CapacityPool"
show kubectl create namespace "${NS}"
show kubectl create namespace cpnp-system
kubectl config set-context --current --namespace "${NS}" >/dev/null
# ClusterProvider cluster-wan: the CA in cpnp-system, the client
# certificate in the order's namespace (one identity per tenant namespace).
show kubectl create secret generic cpnp-ca -n cpnp-system --from-file=ca.crt=cluster-wan/ca.crt
show kubectl create secret tls cpnp-client --cert=cluster-wan/client.crt --key=cluster-wan/client.key
# Provider transit-paris: both Secrets in its namespace.
show kubectl create secret generic transit-ca --from-file=ca.crt=transit-paris/ca.crt
show kubectl create secret tls transit-client --cert=transit-paris/client.crt --key=transit-paris/client.key
show kubectl apply -f manifests/clusterprovider-cluster-wan.yaml -f manifests/provider-transit-paris.yaml \
	-f manifests/capacitypool-wan.yaml
show kubectl get cpnp-admin
show kubectl get cpnp

step "lyon-vpn (approval: Pending): held in state Created, nothing is sent (RFC 8921 §8.11.1; docs/approval.md)"
show kubectl apply -f manifests/quotationorder-lyon-vpn.yaml
show kubectl wait --for=jsonpath='{.status.state}'=Created quotationorder/lyon-vpn --timeout="${DEMO_TIMEOUT}s"
show kubectl get quotationorder lyon-vpn -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}{"\n"}'
show kubectl get cpnp

step "paris-wan, automatic acceptance: QUOTATION, OFFER, ACCEPT, ACK with cluster-wan (RFC 8921 §9.2.1-§9.2.6)"
show kubectl apply -f manifests/quotationorder-paris-wan.yaml
show kubectl wait --for=condition=Ready quotationorder/paris-wan --timeout="${DEMO_TIMEOUT}s"
show kubectl wait --for=condition=Ready agreement/paris-wan --timeout="${DEMO_TIMEOUT}s"
show kubectl get cpnp

step "dual-sourced-uplink, parallel negotiation with cluster-wan and transit-paris (RFC 8921 §8.10)"
show kubectl apply -f manifests/quotationorder-dual-sourced-uplink.yaml
show kubectl wait --for=condition=Ready quotationorder/dual-sourced-uplink --timeout="${DEMO_TIMEOUT}s"
show kubectl wait --for=condition=Ready agreement/dual-sourced-uplink --timeout="${DEMO_TIMEOUT}s"
winner="$(kubectl get agreement dual-sourced-uplink -o jsonpath='{.spec.providerRef.name}')"
offers=()
for ref in $(kubectl get quotationorder dual-sourced-uplink -o jsonpath='{.status.offerRefs[*].name}'); do
	offers+=("${ref}")
done
((${#offers[@]} == 2)) || die "quotationorder/dual-sourced-uplink names ${#offers[@]} Offers, want 2"
loser="" loser_offer="" winner_avail="" loser_avail=""
for o in "${offers[@]}"; do
	prov="$(kubectl get offer "${o}" -o jsonpath='{.spec.providerRef.name}')"
	avail="$(kubectl get offer "${o}" -o jsonpath='{.spec.cpd.components[0].availability.percent.value}')"
	if [[ "${prov}" == "${winner}" ]]; then
		winner_avail="${avail}"
	else
		loser="${prov}" loser_offer="${o}" loser_avail="${avail}"
	fi
done
[[ -n "${loser}" ]] || die "dual-sourced-uplink: no Offer from a provider other than the winner ${winner}"
show kubectl wait --for=jsonpath='{.status.state}'=Declined offer/"${loser_offer}" --timeout="${DEMO_TIMEOUT}s"
show kubectl get offers -o custom-columns='NAME:.metadata.name,ORDER:.spec.quotationOrderRef.name,PROVIDER:.spec.providerRef.name,AVAILABILITY:.spec.cpd.components[0].availability.percent.value,OUT-BPS:.spec.cpd.components[0].capacity.outgoingBps.value,DECISION:.spec.decision,REASONS:.spec.declineReasons,STATE:.status.state'
show kubectl get quotationorder dual-sourced-uplink \
	-o jsonpath='{range .status.providers[*]}{.kind}/{.name}: {.state}, offer {.offerRef.name}{"\n"}{end}'
reasons="$(kubectl get offer "${loser_offer}" -o jsonpath='{.spec.declineReasons}')"
[[ "${reasons}" == *ConflictWithOtherOffer* ]] ||
	die "offer/${loser_offer} of ${loser}: decline reasons ${reasons:-<none>}, want ConflictWithOtherOffer"
# The only directional bound the order sets is the availability's minimum,
# so cpd.Score ranks the offers by their headroom over it; on a tie the
# first of spec.providerRefs wins (RFC 8921 §8.10).
want_avail="$(kubectl get quotationorder dual-sourced-uplink -o jsonpath='{.spec.cpd.components[0].availability.percent.min}')"
if awk -v a="${winner_avail}" -v b="${loser_avail}" 'BEGIN { exit !(a + 0 > b + 0) }'; then
	why="more headroom over the requested ${want_avail}% (cpd.Score)"
else
	why="a tie on cpd.Score, and ${winner} comes first in spec.providerRefs"
fi
echo "Parallel order dual-sourced-uplink: ${winner} won: its offer guarantees ${winner_avail}% availability against ${loser_avail}% from ${loser}, ${why}"
echo "Parallel order dual-sourced-uplink: the offer of ${loser} (${loser_offer}) was declined with reason 2 (ConflictWithOtherOffer, RFC 8921 §9.2.5 Table 3)"
show kubectl get cpnp

step "lyon-vpn: the administrator approves it, then a person accepts its Offer (RFC 8921 §8.11.1, §9.2.3, §9.2.4)"
state="$(kubectl get quotationorder lyon-vpn -o jsonpath='{.status.state}')"
[[ "${state}" == Created ]] || die "quotationorder/lyon-vpn is ${state} before its approval, want Created"
echo "lyon-vpn is still ${state} while the other orders negotiated"
show kubectl patch quotationorder lyon-vpn --type=merge -p '{"spec":{"approval":"Approved"}}'
show kubectl wait --for=jsonpath='{.status.state}'=OfferProcessing quotationorder/lyon-vpn --timeout="${DEMO_TIMEOUT}s"
offer="$(kubectl get quotationorder lyon-vpn -o jsonpath='{.status.providers[0].offerRef.name}')"
[[ -n "${offer}" ]] || die "quotationorder/lyon-vpn names no Offer"
show kubectl get cpnp
show kubectl patch offer "${offer}" --type=merge -p '{"spec":{"decision":"Accept"}}'
show kubectl wait --for=condition=Ready quotationorder/lyon-vpn --timeout="${DEMO_TIMEOUT}s"
show kubectl wait --for=condition=Ready agreement/lyon-vpn --timeout="${DEMO_TIMEOUT}s"

step "platinum-link (demo only): a class cluster-wan does not have, FAIL 5, the order is Stalled (RFC 8921 §9.2.10)"
show kubectl apply -f manifests/quotationorder-platinum-link.yaml
show kubectl wait --for=condition=Stalled quotationorder/platinum-link --timeout="${DEMO_TIMEOUT}s"
show kubectl get quotationorder platinum-link -o jsonpath='{.status.failure}{"\n"}'

step "The outcome, as the cluster and as the providers see it"
show kubectl get cpnp
for srv in cluster-wan transit-paris; do
	echo "# ${srv}:"
	show "${LOCALBIN}/cpnpctl" admin list --admin "${ADMIN[${srv}]}"
done
for agr in paris-wan dual-sourced-uplink lyon-vpn; do
	id="$(kubectl get agreement "${agr}" -o jsonpath='{.status.contractID}')"
	prov="$(kubectl get agreement "${agr}" -o jsonpath='{.spec.providerRef.name}')"
	[[ "${id}" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
		die "agreement/${agr}: contract ID ${id:-<empty>} is not a UUID"
	echo "Agreement ${agr}: contract ID ${id} (provider ${prov})"
done

step "Stop the manager, the cpnp-servers and the API server"
stop_all
echo "${PROG}: ok in $(($(date +%s) - START))s"
