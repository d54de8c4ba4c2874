#!/usr/bin/env bash
# make run: scan the example messages in contrib/examples with the embedded
# default policy and print the verdict of each, then show trial mode on the
# same messages. Built by "make build" into bin/maildlp.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${MAILDLP:-bin/maildlp}
[ -x "$bin" ] || { echo "run.sh: $bin missing; run make build" >&2; exit 2; }

echo "== maildlp scan contrib/examples (embedded default policy)"
"$bin" scan contrib/examples
rc=$?
# exit 1 only means some verdict asks for an action, as expected here
[ $rc -le 1 ] || exit $rc

echo
echo "== the same messages in trial mode (contrib/examples/trial-mode.toml): everything passes, hits are recorded"
"$bin" scan --config contrib/examples/trial-mode.toml contrib/examples | grep -E '^[^ ]|policy '
rc=${PIPESTATUS[0]}
[ $rc -le 1 ] || exit $rc
exit 0
