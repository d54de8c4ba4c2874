#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 5s).
# A failure with a new crasher (written to testdata/fuzz/) fails the run. A
# failure of the fuzzing engine itself on a loaded machine (e.g. "context
# deadline exceeded" from its coordinator, with no failing input) is retried once.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${FUZZTIME:-5s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
n=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)' "$dir"/*_test.go 2>/dev/null | awk '{print $2}' | sort -u); do
    n=$((n+1))
    for try in 1 2; do
      if go test -run '^$' -fuzz "^${f}\$" -fuzztime "$t" -fuzzminimizetime 2s "$pkg" >"$log" 2>&1; then
        echo "ok   fuzz $pkg $f ($t)"
        break
      fi
      if [ "$try" = 1 ] && ! grep -q 'Failing input written to' "$log"; then
        echo "retry fuzz $pkg $f: fuzzing engine failed without a failing input"
        continue
      fi
      cat "$log"
      echo "FAIL fuzz $pkg $f"
      exit 1
    done
  done
done
echo "fuzz: $n targets, $t each"
