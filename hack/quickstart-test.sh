#!/usr/bin/env bash
# Copyright 2026 The cpnp-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# quickstart-test.sh proves that the README's "Standalone quick start" works
# when pasted into a fresh shell: it extracts the ```sh blocks between the
# <!-- quickstart:begin --> and <!-- quickstart:end --> markers, runs them as
# one script with `set -euo pipefail` in a new bash (no profile, no CPNP_*
# variables, TMPDIR in a fresh temporary directory where the blocks'
# `mktemp -d` lands) from the repository root, and checks that the expected
# lines appear in order. When the quick start's ports (UDP 8921, TCP 8922)
# are in use it runs on two free ports instead. Usage: hack/quickstart-test.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readme="$root/README.md"
tmp=$(mktemp -d)
pgid_file="$tmp/pgid"

cleanup() {
	# Stop whatever the quick start left running (its process group only).
	if [[ -s "$pgid_file" ]]; then
		kill -TERM -- "-$(cat "$pgid_file")" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# The blocks, in order.
script=$(awk '
	/<!-- quickstart:begin -->/ { on = 1; next }
	/<!-- quickstart:end -->/   { on = 0; next }
	on && /^```sh[[:space:]]*$/ { block = 1; next }
	on && block && /^```[[:space:]]*$/ { block = 0; print ""; next }
	on && block { print }
' "$readme")
if [[ -z "$script" ]]; then
	echo "quickstart-test: no \`\`\`sh block between the quickstart markers in $readme" >&2
	exit 1
fi

# Ports: the README's unless they are taken (a developer's own server).
port_busy() { command -v ss >/dev/null && [[ -n "$(ss -Hlnut "( sport = :$1 )" 2>/dev/null)" ]]; }
dtls=8921 admin=8922
if port_busy "$dtls" || port_busy "$admin"; then
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 20000))
		if ! port_busy "$p" && ! port_busy "$((p + 1))"; then
			dtls=$p admin=$((p + 1))
			break
		fi
	done
	echo "quickstart-test: ports 8921/8922 are in use; running on $dtls/$admin"
	script=$(printf '%s\n' "$script" | sed -e "s/\b8921\b/$dtls/g" -e "s/\b8922\b/$admin/g")
fi
printf 'echo $$ > %q\nset -euo pipefail\n%s\n' "$pgid_file" "$script" > "$tmp/quickstart.sh"

# A fresh shell: only what Go and the tools need from this environment.
env_args=(HOME="$HOME" PATH="$PATH" TMPDIR="$tmp" LANG=C.UTF-8)
while IFS='=' read -r name _; do
	[[ "$name" =~ ^(GO|CGO_) ]] && env_args+=("$name=${!name}")
done < <(env)

# Its own session (setsid), so that cleanup can stop the background server
# by process group; at most 10 minutes (timeout).
run=(bash --noprofile --norc "$tmp/quickstart.sh")
command -v setsid >/dev/null && run=(setsid "${run[@]}")
command -v timeout >/dev/null && run=(timeout -k 10 600 "${run[@]}")

echo "quickstart-test: running the README quick start (transcript in $tmp/transcript)"
status=0
(cd "$root" && exec env -i "${env_args[@]}" "${run[@]}") >"$tmp/transcript" 2>&1 </dev/null || status=$?

# What a reader is told to expect, in this order.
expected=(
	'"status": "ready"'
	'Order acme-wan-0001: QUOTATION sent'
	'Completed +Agreed'
	'agreement reached with .*, active\.'
	'^acme-wan-0001 +[^ ]+ +Completed +po-[0-9a-f]+ +active'
	'^po-[0-9a-f]+ +acme-wan-0001 +acme +Completed'
	'Order acme-wan-0001: agreement withdrawn\.'
	'^acme-wan-0001 +[^ ]+ +Cancelled +po-[0-9a-f]+ +withdrawn'
)
missing=""
line=0
for want in "${expected[@]}"; do
	at=$(tail -n +"$((line + 1))" "$tmp/transcript" | grep -nE -m1 -- "$want" | cut -d: -f1 || true)
	if [[ -z "$at" ]]; then
		missing="$want"
		break
	fi
	line=$((line + at))
done

if [[ $status -ne 0 || -n "$missing" ]]; then
	echo "quickstart-test: FAILED (exit status $status${missing:+, no line matching /$missing/ in order})" >&2
	echo "---- transcript ----" >&2
	cat "$tmp/transcript" >&2
	for log in "$tmp"/tmp.*/server.log; do
		[[ -f "$log" ]] && { echo "---- $log ----" >&2; cat "$log" >&2; }
	done
	exit 1
fi
echo "quickstart-test: ok (${#expected[@]} expected lines in order, server stopped with status 0)"
