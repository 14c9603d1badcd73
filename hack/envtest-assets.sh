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

# envtest-assets.sh builds the control plane that envtest needs (kube-apiserver
# and etcd) and kubectl from Go modules, because prebuilt envtest binaries
# cannot be downloaded here, and installs the pinned code-generation and chart
# tools (controller-gen, helm) into ./bin with `go install`.
#
# Usage:
#   KUBEBUILDER_ASSETS="$(hack/envtest-assets.sh)" go test ./...
#   hack/envtest-assets.sh [--assets-only | --tools-only | --kubectl] [--check] [-h]
#
# --assets-only  the control plane only (what the envtest tests need);
# --tools-only   controller-gen and helm only;
# --kubectl      the control plane and kubectl; prints the kubectl path;
# --check        build nothing: exit 1 unless the control plane (with
#                --kubectl: and kubectl) is cached, else print as above.
# Without a mode it installs everything: tools, control plane and kubectl.
#
# stdout carries exactly one line, the directory to use as KUBEBUILDER_ASSETS
# (the kubectl path with --kubectl; nothing with --tools-only); progress and
# errors go to stderr.
#
# The control plane is cached outside the repository in
#   ${CPNP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cpnp-operator}/envtest/k8s-<v>_etcd-<v>_<os>-<arch>/
# holding kube-apiserver, etcd and a .stamp file. The directory is built under
# a temporary name and renamed into place only after both builds succeeded, so
# an interrupted or failed run leaves nothing that a later run would trust.
# A run that finds the stamp does nothing and finishes in well under a second.
# kubectl is built on demand (--kubectl, or no mode) into the same directory,
# under a temporary name renamed into place when it works, so a cached control
# plane is kept and an existing ${ASSETS_DIR}/kubectl is always a complete one
# (envtest also finds it there, as $KUBEBUILDER_ASSETS/kubectl).
#
# A cold build takes 5 to 10 minutes on two cores (kube-apiserver 4.5 to 8,
# etcd 1 to 1.5, plus the tools 2; kubectl 3 to 5 more); it runs under `nice` so that it yields to
# other work. The Go build and module caches (GOCACHE, GOMODCACHE) are the
# defaults, so a rebuild after the cache directory was removed mostly links.
#
# Environment (defaults in brackets):
#   K8S_VERSION               k8s.io/kubernetes module version [v1.37.0]
#   K8S_STAGING_VERSION       version of the k8s.io/<staging> modules [v0.<minor>.<patch> of K8S_VERSION]
#   ETCD_VERSION              go.etcd.io/etcd/server/v3 module version [v3.6.16]
#   CONTROLLER_TOOLS_VERSION  sigs.k8s.io/controller-tools version [v0.23.0]
#   HELM_VERSION              helm.sh/helm/v3 version [v3.22.0]
#   LOCALBIN                  where the tools go [<repo>/bin]
#   CPNP_CACHE                cache root [${XDG_CACHE_HOME:-$HOME/.cache}/cpnp-operator]
#   ENVTEST_NICE              niceness of the builds [15]

set -euo pipefail

readonly PROG="envtest-assets"

log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "${PROG}" "$*" >&2
	exit 1
}

usage() {
	sed -n '/^# envtest-assets.sh builds/,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}

mode=all
check=false
while (($# > 0)); do
	case "$1" in
	--assets-only) mode=assets ;;
	--tools-only) mode=tools ;;
	--kubectl) mode=kubectl ;;
	--check) check=true ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage
		die "unknown argument: $1"
		;;
	esac
	shift
done

# The repository root, whatever the caller's working directory.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT

command -v go >/dev/null 2>&1 ||
	die "'go' was not found in PATH; install Go 1.26 or newer (see go.mod) and run this again"
GO_VERSION="$(go env GOVERSION 2>/dev/null)" || die "'go env' failed; check the Go installation"
GOOS="$(go env GOOS)"
GOARCH="$(go env GOARCH)"

K8S_VERSION="${K8S_VERSION:-v1.37.0}"
[[ "${K8S_VERSION}" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] ||
	die "K8S_VERSION must look like v1.<minor>.<patch>, got ${K8S_VERSION}"
K8S_MINOR="${BASH_REMATCH[1]}"
K8S_STAGING_VERSION="${K8S_STAGING_VERSION:-v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CONTROLLER_TOOLS_VERSION="${CONTROLLER_TOOLS_VERSION:-v0.23.0}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
LOCALBIN="${LOCALBIN:-${ROOT}/bin}"
ENVTEST_NICE="${ENVTEST_NICE:-15}"
if [[ -z "${CPNP_CACHE:-}" && -z "${XDG_CACHE_HOME:-}" && -z "${HOME:-}" ]]; then
	die "cannot place the cache: set CPNP_CACHE, XDG_CACHE_HOME or HOME"
fi
CACHE_ROOT="${CPNP_CACHE:-${XDG_CACHE_HOME:-${HOME:-}/.cache}/cpnp-operator}"

readonly ASSETS_PARENT="${CACHE_ROOT}/envtest"
readonly ASSETS_KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_${GOOS}-${GOARCH}"
readonly ASSETS_DIR="${ASSETS_PARENT}/${ASSETS_KEY}"
readonly STAMP="${ASSETS_DIR}/.stamp"
readonly KUBECTL="${ASSETS_DIR}/kubectl"

# The throwaway modules must not pick up a go.work or flags meant for the repo.
export GOWORK=off GO111MODULE=on GOFLAGS="-buildvcs=false" CGO_ENABLED=0

# Paths removed on exit; a build that fails or is interrupted leaves no trace
# except what is in the Go caches.
CLEANUP=()
cleanup() {
	local p
	for p in "${CLEANUP[@]+"${CLEANUP[@]}"}"; do
		rm -rf -- "${p}"
	done
}
trap cleanup EXIT
# Turn signals into an exit so that the EXIT trap runs.
trap 'exit 130' INT
trap 'exit 143' TERM

nicely() {
	if command -v nice >/dev/null 2>&1; then
		nice -n "${ENVTEST_NICE}" "$@"
	else
		"$@"
	fi
}

# elapsed prints the seconds since the epoch second $1.
elapsed() { echo "$(($(date +%s) - $1))s"; }

# assets_ok succeeds when the cached control plane is complete for this key.
assets_ok() {
	[[ -f "${STAMP}" && -x "${ASSETS_DIR}/kube-apiserver" && -x "${ASSETS_DIR}/etcd" ]] &&
		grep -qxF "key=${ASSETS_KEY}" "${STAMP}"
}

# kubectl_ok succeeds when the cached kubectl is there (it is only ever
# renamed into place complete and working, see ensure_kubectl).
kubectl_ok() {
	assets_ok && [[ -x "${KUBECTL}" ]]
}

# modfile_of downloads module $1 and prints the path of its go.mod.
modfile_of() {
	local json reason
	if ! json="$(go mod download -json "$1")"; then
		# -json reports the failure in the Error member on stdout.
		reason="$(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"${json}")"
		die "download $1 failed: ${reason:-see above} (is the Go module proxy reachable?)"
	fi
	sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"${json}"
}

# module_time prints the publication time of module $1 (RFC 3339, UTC).
module_time() {
	go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' "$1" 2>/dev/null || true
}

# go_header prints the go and godebug lines of go.mod $1, so the throwaway main
# module builds with the same language version and GODEBUG defaults upstream uses.
go_header() {
	grep -E '^(go|godebug) ' "$1" || true
}

# build_kubernetes_cmd builds command k8s.io/kubernetes/cmd/$3 into directory
# $1, using the empty directory $2 as its throwaway main module; $4 says how
# long it takes.
#
# k8s.io/kubernetes cannot be built with `go install pkg@version`: its go.mod
# replaces the k8s.io/<staging> modules with paths inside its own tree. A
# throwaway main module requires it and maps each of those modules to the
# published k8s.io/<staging> release of the same minor (v0.<minor>.<patch>).
build_kubernetes_cmd() {
	local out="$1" mod="$2" cmd="$3" duration="$4" start kgomod staging m ldflags date
	start="$(date +%s)"
	log "resolving k8s.io/kubernetes@${K8S_VERSION} (staging modules at ${K8S_STAGING_VERSION})"
	kgomod="$(modfile_of "k8s.io/kubernetes@${K8S_VERSION}")"
	[[ -n "${kgomod}" && -f "${kgomod}" ]] || die "no go.mod found for k8s.io/kubernetes@${K8S_VERSION}"
	staging="$(awk '/^replace[[:space:]]*\(/ { inblock = 1; next }
		inblock && /^\)/ { inblock = 0 }
		/=>[[:space:]]*\.\/staging\// { sub(/^replace[[:space:]]+/, ""); print $1 }' "${kgomod}")"
	[[ -n "${staging}" ]] || die "found no ./staging replace directives in ${kgomod}"
	{
		echo "module cpnp.invalid/envtest/${cmd}"
		echo
		go_header "${kgomod}"
		echo
		echo "require k8s.io/kubernetes ${K8S_VERSION}"
		echo
		echo "replace ("
		for m in ${staging}; do
			printf '\t%s => %s %s\n' "${m}" "${m}" "${K8S_STAGING_VERSION}"
		done
		echo ")"
	} >"${mod}/go.mod"
	log "fetching the ${cmd} dependencies ($(wc -w <<<"${staging}") staging modules replaced)"
	(cd "${mod}" && go get "k8s.io/kubernetes/cmd/${cmd}@${K8S_VERSION}" >&2) ||
		die "resolving k8s.io/kubernetes/cmd/${cmd}@${K8S_VERSION} failed; see above"
	date="$(cd "${mod}" && module_time "k8s.io/kubernetes")"
	# The same -X flags as kubernetes' hack/lib/version.sh, so that /version
	# and the clients report v1.<minor>.<patch> instead of v0.0.0-master.
	ldflags="-s -w"
	for m in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X ${m}.gitVersion=${K8S_VERSION} -X ${m}.gitMajor=1 -X ${m}.gitMinor=${K8S_MINOR}"
		[[ -z "${date}" ]] || ldflags+=" -X ${m}.buildDate=${date}"
	done
	log "building ${cmd} ${K8S_VERSION} (${duration} on 2 cores when cold)"
	(cd "${mod}" && nicely go build -trimpath -ldflags "${ldflags}" \
		-o "${out}/${cmd}" "k8s.io/kubernetes/cmd/${cmd}" >&2) ||
		die "building ${cmd} ${K8S_VERSION} failed; see above"
	log "built ${cmd} in $(elapsed "${start}")"
}

# build_etcd builds etcd into directory $1, using the empty directory $2 as
# its throwaway main module: etcd's server module carries replace directives
# too, so `go install go.etcd.io/etcd/server/v3@version` refuses it as well.
build_etcd() {
	local out="$1" mod="$2" start egomod
	start="$(date +%s)"
	log "resolving go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
	egomod="$(modfile_of "go.etcd.io/etcd/server/v3@${ETCD_VERSION}")"
	[[ -n "${egomod}" && -f "${egomod}" ]] || die "no go.mod found for go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
	{
		echo "module cpnp.invalid/envtest/etcd"
		echo
		go_header "${egomod}"
		echo
		echo "require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}"
	} >"${mod}/go.mod"
	(cd "${mod}" && go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >&2) ||
		die "resolving go.etcd.io/etcd/server/v3@${ETCD_VERSION} failed; see above"
	log "building etcd ${ETCD_VERSION} (about a minute on 2 cores when cold)"
	(cd "${mod}" && nicely go build -trimpath -ldflags "-s -w" \
		-o "${out}/etcd" go.etcd.io/etcd/server/v3 >&2) ||
		die "building etcd ${ETCD_VERSION} failed; see above"
	log "built etcd in $(elapsed "${start}")"
}

# ensure_assets builds the control plane unless the stamp says it is there.
ensure_assets() {
	assets_ok && return 0

	mkdir -p "${ASSETS_PARENT}"
	# Serialize builders (two `make test` at once on the same machine): the
	# second one waits and then finds the stamp. The lock is held until exit.
	if command -v flock >/dev/null 2>&1; then
		exec 9>"${ASSETS_PARENT}/.lock"
		if ! flock -n 9; then
			log "another build holds ${ASSETS_PARENT}/.lock; waiting for it"
			flock 9
		fi
		assets_ok && return 0
		# Leftovers of runs killed before their trap ran; safe under the lock.
		rm -rf -- "${ASSETS_PARENT}/.tmp-${ASSETS_KEY}".*
	fi

	local start work out
	start="$(date +%s)"
	# An unstamped directory under the final name (a binary was removed by
	# hand, or an older layout) is not trusted.
	rm -rf -- "${ASSETS_DIR}"
	# One scratch directory beside the final one holds the throwaway modules
	# and the output, so that one rename publishes it and one rm cleans up.
	work="$(mktemp -d "${ASSETS_PARENT}/.tmp-${ASSETS_KEY}.XXXXXX")"
	CLEANUP+=("${work}")
	out="${work}/out"
	mkdir -p "${out}" "${work}/etcd" "${work}/kube-apiserver"
	log "building the envtest control plane into ${ASSETS_DIR}"

	build_etcd "${out}" "${work}/etcd"
	build_kubernetes_cmd "${out}" "${work}/kube-apiserver" kube-apiserver "5 to 8 minutes"

	"${out}/kube-apiserver" --version >/dev/null 2>&1 || die "the built kube-apiserver does not run"
	"${out}/etcd" --version >/dev/null 2>&1 || die "the built etcd does not run"
	{
		echo "key=${ASSETS_KEY}"
		echo "kubernetes=${K8S_VERSION}"
		echo "staging=${K8S_STAGING_VERSION}"
		echo "etcd=${ETCD_VERSION}"
		echo "go=${GO_VERSION}"
		echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	} >"${out}/.stamp"
	chmod 0755 "${out}"
	# rename(2) within one directory: readers see the old state or the whole
	# new directory, never a half-written one.
	mv -T -- "${out}" "${ASSETS_DIR}"
	log "control plane ready in $(elapsed "${start}"): ${ASSETS_DIR}"
}

# ensure_kubectl builds kubectl into the cached control plane directory unless
# it is there; the control plane must be there (ensure_assets).
ensure_kubectl() {
	kubectl_ok && return 0
	# The same lock as ensure_assets (a no-op re-lock when it already holds it).
	if command -v flock >/dev/null 2>&1; then
		exec 9>"${ASSETS_PARENT}/.lock"
		if ! flock -n 9; then
			log "another build holds ${ASSETS_PARENT}/.lock; waiting for it"
			flock 9
		fi
		kubectl_ok && return 0
		rm -rf -- "${ASSETS_PARENT}/.tmp-kubectl-${ASSETS_KEY}".*
	fi
	local start work
	start="$(date +%s)"
	work="$(mktemp -d "${ASSETS_PARENT}/.tmp-kubectl-${ASSETS_KEY}.XXXXXX")"
	CLEANUP+=("${work}")
	mkdir -p "${work}/out" "${work}/kubectl"
	build_kubernetes_cmd "${work}/out" "${work}/kubectl" kubectl "3 to 5 minutes"
	"${work}/out/kubectl" version --client >/dev/null 2>&1 || die "the built kubectl does not run"
	# Same file system: the rename publishes a complete binary or nothing.
	mv -f -- "${work}/out/kubectl" "${KUBECTL}"
	log "kubectl ready in $(elapsed "${start}"): ${KUBECTL}"
}

# install_tool installs Go command $1 at version $2 as ${LOCALBIN}/$3-$2, with
# a symlink ${LOCALBIN}/$3, passing extra go install arguments $4...
install_tool() {
	local pkg="$1" version="$2" name="$3"
	shift 3
	local target="${LOCALBIN}/${name}-${version}"
	if [[ -x "${target}" ]]; then
		ln -sfn "${name}-${version}" "${LOCALBIN}/${name}"
		return 0
	fi
	local start gobin
	start="$(date +%s)"
	mkdir -p "${LOCALBIN}"
	gobin="$(mktemp -d "${LOCALBIN}/.tmp-${name}.XXXXXX")"
	CLEANUP+=("${gobin}")
	log "installing ${pkg}@${version} into ${LOCALBIN}"
	GOBIN="${gobin}" nicely go install -trimpath "$@" "${pkg}@${version}" >&2 ||
		die "go install ${pkg}@${version} failed; see above"
	mv -f -- "${gobin}/${name}" "${target}"
	ln -sfn "${name}-${version}" "${LOCALBIN}/${name}"
	log "installed ${name} ${version} in $(elapsed "${start}")"
}

# install_helm installs helm with the version and Kubernetes version that
# helm's own Makefile sets through -X (its defaults are "v3.<minor>" and
# Kubernetes 1.20, which `helm lint` and `.Capabilities` would report).
install_helm() {
	local k8s_minor hgomod
	if [[ -x "${LOCALBIN}/helm-${HELM_VERSION}" ]]; then
		install_tool helm.sh/helm/v3/cmd/helm "${HELM_VERSION}" helm
		return 0
	fi
	# helm's Makefile derives the Kubernetes version from its client-go
	# requirement (v0.<minor>.x => 1.<minor>); do the same.
	hgomod="$(modfile_of "helm.sh/helm/v3@${HELM_VERSION}")"
	k8s_minor="$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9][0-9]*\)\..*/\1/p' "${hgomod}" | head -n 1)"
	[[ -n "${k8s_minor}" ]] || die "cannot find the k8s.io/client-go version in ${hgomod}"
	local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
	ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
	local p
	for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
		ldflags+=" -X ${p}.k8sVersionMajor=1 -X ${p}.k8sVersionMinor=${k8s_minor}"
	done
	install_tool helm.sh/helm/v3/cmd/helm "${HELM_VERSION}" helm -ldflags "${ldflags}"
}

ensure_tools() {
	install_tool sigs.k8s.io/controller-tools/cmd/controller-gen "${CONTROLLER_TOOLS_VERSION}" controller-gen
	install_helm
}

if "${check}"; then
	case "${mode}" in
	kubectl)
		kubectl_ok || exit 1
		echo "${KUBECTL}"
		;;
	tools) die "--check goes with --kubectl, --assets-only or no mode" ;;
	*)
		assets_ok || exit 1
		echo "${ASSETS_DIR}"
		;;
	esac
	exit 0
fi

case "${mode}" in
tools)
	ensure_tools
	;;
assets)
	ensure_assets
	echo "${ASSETS_DIR}"
	;;
kubectl)
	ensure_assets
	ensure_kubectl
	echo "${KUBECTL}"
	;;
all)
	ensure_tools
	ensure_assets
	ensure_kubectl
	echo "${ASSETS_DIR}"
	;;
esac
