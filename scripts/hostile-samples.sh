#!/usr/bin/env bash
# Measures CPU seconds and peak RSS of `maildlp scan` on the hostile
# samples of policy/extract/hostile_test.go (a PDF of repeated objects at
# 1.2 MB and 9.6 MB, a 14 KB ZIP whose members declare 200 MiB each), with
# the embedded default config (scan_timeout 20s) and with scan_timeout 2s.
#
#   scripts/hostile-samples.sh [BIN]    (default: bin/maildlp, built)
#
# Each scan is stopped after HOSTILE_MAX (default 900) seconds. Needs GNU
# time (/usr/bin/time).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=${1:-}
if [ -z "$BIN" ]; then
	go build -o bin/maildlp ./cmd/maildlp
	BIN=$ROOT/bin/maildlp
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
go test ./policy/extract/ -run '^TestWriteHostileSamples$' -hostile.write="$T" >/dev/null
cp config/default.toml config/default-policy.toml "$T/"
printf '\n[limits]\nscan_timeout = "2s"\n' >>"$T/default.toml"
printf '%-24s %-8s %10s %10s %12s  %s\n' sample timeout cpu_s wall_s peak_rss_MB verdict
for f in zip-lying-14KB pdf-objects-1.2MB pdf-objects-9.6MB; do
	for cfg in 20s 2s; do
		args=()
		[ "$cfg" = 2s ] && args=(--config "$T/default.toml")
		/usr/bin/time -f '%U %S %e %M' -o "$T/time" timeout "${HOSTILE_MAX:-900}" \
			"$BIN" scan "${args[@]}" "$T/$f.eml" >"$T/out" 2>&1 || true
		read -r user sys wall rss < <(tail -n 1 "$T/time") || true
		# The action, then how many unscannable items of each reason.
		verdict=$(head -n 1 "$T/out" | sed 's/.*: //; s/ (.*//')
		verdict="$verdict $(grep -E '^ +unscannable ' "$T/out" | sed 's/.*: //' | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//' || true)"
		awk -v f="$f" -v c="$cfg" -v u="$user" -v s="$sys" -v w="$wall" -v r="$rss" -v v="$verdict" \
			'BEGIN { printf "%-24s %-8s %10.2f %10.2f %12.0f  %s\n", f, c, u+s, w, r/1024, v }'
	done
done
