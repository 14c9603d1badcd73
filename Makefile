# cpnp-operator — run `make help` for the targets.
# Tools are pinned and installed with `go install` into ./bin (no prebuilt downloads).

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(CURDIR)/bin
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

# FUZZTIME is how long each fuzz target runs under `make fuzz`.
FUZZTIME ?= 30s
# BENCHTIME is passed to -benchtime under `make bench`.
BENCHTIME ?= 1s
# PROTOCOL_PKGS are the pure protocol packages whose coverage is reported.
PROTOCOL_PKGS ?= ./pkg/cpnp/wire/... ./pkg/cpnp/cpd/... ./pkg/cpnp/fsm/... ./pkg/cpnp/session/...

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

.PHONY: ci
ci: verify lint test ## What CI runs (.ci/run): verify, lint and test.

##@ Development

.PHONY: fmt
fmt: ## Run gofmt on the tree.
	gofmt -s -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint, and prove its purity and import rules still bite.
	$(GOLANGCI_LINT) run ./...
	hack/check-lint-rules.sh $(GOLANGCI_LINT)

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes.
	$(GOLANGCI_LINT) run --fix ./...

.PHONY: verify
verify: vet ## Fail when formatting, go.mod or generated files are stale.
	@out=$$(gofmt -s -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go mod tidy -diff
	go generate ./...
	@if [ -n "$$(git status --porcelain --untracked-files=all -- . ':!bin')" ]; then echo "generated files are stale:"; git status --porcelain --untracked-files=all; git diff; exit 1; fi

##@ Test

.PHONY: test
test: ## Run all tests; the protocol library runs with -race.
	go test -race -count=1 ./pkg/cpnp/...
	go test -count=1 $$(go list ./... | grep -v '/pkg/cpnp/')

.PHONY: test-race
test-race: ## Run every test with the race detector.
	go test -race -count=1 ./...

.PHONY: cover
cover: ## Statement coverage of the pure protocol packages.
	go test -count=1 -coverprofile=cover.out $(PROTOCOL_PKGS)
	go tool cover -func=cover.out | tail -n 1

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 30s).
	@set -e; for pkg in $$(go list ./pkg/...); do \
	  for t in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t ($(FUZZTIME))"; \
	    go test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

.PHONY: bench
bench: ## Run the benchmarks (allocations reported).
	go test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./pkg/...

##@ Build

.PHONY: build
build: ## Build the binaries into ./bin.
	go build -o $(LOCALBIN)/ ./cmd/...

##@ Tools

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Install golangci-lint into ./bin.
$(GOLANGCI_LINT):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $(GOLANGCI_LINT)

##@ Test tools

# Pinned tools that hack/envtest-assets.sh installs into ./bin with `go install`
# (as <name>-<version>, plus a <name> symlink), and the control plane it builds
# from Go modules into a cache outside the repository
# (${CPNP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cpnp-operator}/envtest/...).
CONTROLLER_TOOLS_VERSION ?= v0.23.0
HELM_VERSION ?= v3.22.0
ENVTEST_K8S_VERSION ?= v1.37.0
ENVTEST_ETCD_VERSION ?= v3.6.16
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
ENVTEST_ASSETS_ENV = LOCALBIN=$(LOCALBIN) CONTROLLER_TOOLS_VERSION=$(CONTROLLER_TOOLS_VERSION) \
	HELM_VERSION=$(HELM_VERSION) K8S_VERSION=$(ENVTEST_K8S_VERSION) ETCD_VERSION=$(ENVTEST_ETCD_VERSION)

.PHONY: envtest-assets
envtest-assets: ## Build kube-apiserver and etcd from source (cached; ~10 min cold) and print the KUBEBUILDER_ASSETS directory.
	@$(ENVTEST_ASSETS_ENV) $(CURDIR)/hack/envtest-assets.sh --assets-only

.PHONY: tools
tools: ## Install controller-gen and helm (pinned) into ./bin.
	@$(ENVTEST_ASSETS_ENV) $(CURDIR)/hack/envtest-assets.sh --tools-only
