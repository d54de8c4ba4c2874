#!/usr/bin/env bash
# Memory under hostile input: 16 messages at once through the milter
# (in-process go-milter client, default config and policy), each carrying
# a 14 KB ZIP whose members declare 200 MiB. Prints the peak RSS of the
# process (VmHWM) with the default max_concurrent_scans and with 16 scan
# slots, and fails when the default one is 256 MiB or more. Not part of
# `make test`; each benchmark runs alone so that the peak is its own.
# Then the peak RSS rise of one 50 MiB message through the milter and the
# hop, which fails at 64 MiB or more (see the end).
#
#   scripts/bench-hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
LIMIT_MIB=${LIMIT_MIB:-256}

out=$(timeout 900 "$GO" test -run '^$' -bench 'Issue7HostileZIPs' -benchtime 1x ./milter/ 2>&1 | grep -v '"level"')
echo "$out" | grep -E 'Benchmark|peak RSS' || { echo "$out"; exit 1; }
peak=$(echo "$out" | awk '/^BenchmarkIssue7HostileZIPs\/max_concurrent_scans=/ && !/=16-/ {for (i = 1; i < NF; i++) if ($(i+1) == "peak-RSS-MiB") print int($i)}' | head -1)
if [ -z "$peak" ]; then
	echo "bench-hostile: no peak RSS figure" >&2
	exit 1
fi
if [ "$peak" -ge "$LIMIT_MIB" ]; then
	echo "bench-hostile: peak RSS ${peak} MiB with the default scan slots, want < ${LIMIT_MIB} MiB" >&2
	exit 1
fi
echo "bench-hostile: peak RSS ${peak} MiB < ${LIMIT_MIB} MiB"

# One large message: how much one 50 MiB message (max_message_bytes)
# raises the peak RSS through the milter and through the hop, with the
# default spill_bytes (checked: < 64 MiB, the message's own copy in the
# engine and what the front end holds) and with the message held in
# memory by the front end too (printed). The milter is measured with a
# plain-text body and with a base64 attachment; the hop with the default
# policy and with an engine that only copies the message (the rise less
# 50 MiB is the hop's own, bounded by about spill_bytes).
check_rise() { # OUTPUT PATTERN: every line matching PATTERN must show a rise < 64 MiB
	local bad
	bad=$(echo "$1" | grep -E "$2" | awk '{for (i = 1; i < NF; i++) if ($i == "by") { v = $(i+1) + 0; if (v >= 64) print } }')
	if [ -n "$bad" ]; then
		echo "bench-hostile: a 50 MiB message raised peak RSS by 64 MiB or more:" >&2
		echo "$bad" >&2
		exit 1
	fi
}
out=$(timeout 900 "$GO" test -run '^$' -bench 'Issue12PeakRSS' -benchtime 1x ./milter/ 2>&1 | grep -v '"level"')
echo "$out" | grep -E 'raised peak RSS' || { echo "$out"; exit 1; }
check_rise "$out" 'raised peak RSS.*spill_bytes 1 MiB'

out=$(timeout 900 "$GO" test -run '^$' -bench 'Issue12HopPeakRSS' -benchtime 1x ./reinject/ 2>&1 | grep -v '"level"')
echo "$out" | grep -E 'raised peak RSS' || { echo "$out"; exit 1; }
check_rise "$out" 'raised peak RSS.*spill_bytes 1 MiB'
echo "bench-hostile: one 50 MiB message raised peak RSS by less than 64 MiB through the milter and the hop"
