#!/usr/bin/env bash
# Copyright 2026 The cpnp-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# check-lint-rules.sh proves that the lint rules in .golangci.yml bite: it
# lints a scratch module laid out like this repository, with one planted
# violation per rule, and fails unless golangci-lint reports every one of
# them (and nothing in the clean file). Usage: hack/check-lint-rules.sh LINTER
set -euo pipefail

linter=$(realpath "${1:?usage: check-lint-rules.sh path/to/golangci-lint}")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cp "$root/.golangci.yml" "$scratch/"
mkdir -p "$scratch/pkg/cpnp/fsm" "$scratch/pkg/cpnp/transport" "$scratch/fakek8s"
cat > "$scratch/go.mod" <<'MOD'
module github.com/cpnp-dev/cpnp-operator

go 1.26

require k8s.io/fake v0.0.0

replace k8s.io/fake => ./fakek8s
MOD
printf 'module k8s.io/fake\n\ngo 1.26\n' > "$scratch/fakek8s/go.mod"
printf 'package fake\n\n// X is exported.\nconst X = 1\n' > "$scratch/fakek8s/fake.go"

# Pure core: clock, randomness and I/O are forbidden (DESIGN §4, STYLE §2).
cat > "$scratch/pkg/cpnp/fsm/bad.go" <<'GO'
package fsm

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"time"
)

// Bad plants one violation per rule.
func Bad() (time.Time, string, netip.Addr) {
	_, _ = rand.Read(make([]byte, 1))
	fmt.Println("x")
	return time.Now(), os.Getenv("X"), netip.Addr{}
}
GO
# Protocol library: no Kubernetes imports (DESIGN §2).
cat > "$scratch/pkg/cpnp/transport/bad.go" <<'GO'
package transport

import "k8s.io/fake"

// Y uses the Kubernetes import.
const Y = fake.X
GO
# Shells may read the clock.
cat > "$scratch/pkg/cpnp/transport/ok.go" <<'GO'
package transport

import "time"

// Now is allowed outside the pure cores.
func Now() time.Time { return time.Now() }
GO

out=$(cd "$scratch" && "$linter" run --allow-parallel-runners --max-issues-per-linter 0 --max-same-issues 0 ./... 2>&1 || true)
fail=0
expect() {
	if ! grep -q -- "$1" <<<"$out"; then
		echo "lint rule not enforced: expected a finding matching: $1" >&2
		fail=1
	fi
}
expect "bad.go:4:2: import 'crypto/rand' is not allowed"
expect "bad.go:7:2: import 'os' is not allowed"
expect 'use of `fmt.Println` forbidden'
expect 'use of `time.Now` forbidden'
expect "transport/bad.go:3:8: import 'k8s.io/fake' is not allowed"
if grep -Eq "import 'net/netip'|ok\.go:[0-9]+" <<<"$out"; then
	echo "lint rules too strict: net/netip or a shell's clock was flagged" >&2
	fail=1
fi
if [[ $fail -ne 0 ]]; then
	echo "--- golangci-lint output ---" >&2
	echo "$out" >&2
	exit 1
fi
echo "lint rules enforced: pure cores (clock, randomness, I/O) and no Kubernetes in pkg/cpnp"
