#!/usr/bin/env bash
# Memory under hostile input: 16 messages at once through the milter
# (in-process go-milter client, default config and policy), each carrying
# a 14 KB ZIP whose members declare 200 MiB. Prints the peak RSS of the
# process (VmHWM) with the default max_concurrent_scans and with 16 scan
# slots, and fails when the default one is 256 MiB or more. Not part of
# `make test`; each benchmark runs alone so that the peak is its own.
# Then prints the peak RSS rise of one 50 MiB message (see the end).
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
# raises the peak RSS, with the default spill_bytes and with the message
# held in memory by the milter. Printed, not checked: the engine's own
# copy of the message keeps it above the 64 MiB aim (docs/milter.md).
out=$(timeout 900 "$GO" test -run '^$' -bench 'Issue12PeakRSS' -benchtime 1x ./milter/ 2>&1 | grep -v '"level"')
echo "$out" | grep -E 'raised peak RSS' || { echo "$out"; exit 1; }

# The same through the hop: the default policy, and an engine that only
# copies the message into one buffer (the rise less 50 MiB is the hop's
# own, bounded by about spill_bytes). Printed, not checked.
out=$(timeout 900 "$GO" test -run '^$' -bench 'Issue12HopPeakRSS' -benchtime 1x ./reinject/ 2>&1 | grep -v '"level"')
echo "$out" | grep -E 'raised peak RSS' || { echo "$out"; exit 1; }
