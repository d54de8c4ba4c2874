#!/usr/bin/env bash
# make run: start "maildlp serve" on the embedded default config (milter on
# 127.0.0.1:10030, reinjection hop on 127.0.0.1:10025 reflecting to
# 127.0.0.1:10026, metrics on 127.0.0.1:9030, review console on
# 127.0.0.1:9031, incidents on standard output and in run/maildlp.db)
# and print how to point Postfix at it. Ctrl-C stops it (draining sessions).
#
#   scripts/run.sh         the service, in the foreground
#   scripts/run.sh scan    scan contrib/examples with the default policy instead
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${MAILDLP:-bin/maildlp}
[ -x "$bin" ] || { echo "run.sh: $bin missing; run make build" >&2; exit 2; }

if [ "${1:-}" = scan ]; then
	echo "== maildlp scan contrib/examples (embedded default policy)"
	"$bin" scan contrib/examples
	rc=$?
	# exit 1 only means some verdict asks for an action, as expected here
	[ $rc -le 1 ] || exit $rc
	exit 0
fi

cat <<'MSG'
maildlp serve: embedded default config and policy, loopback only.

  milter            inet:127.0.0.1:10030
  reinjection hop   127.0.0.1:10025  (reflects to 127.0.0.1:10026)
  metrics           http://127.0.0.1:9030/metrics  /healthz  /readyz
  review console    http://127.0.0.1:9031/  (first: bin/maildlp user add admin)
  incidents         JSON lines on standard output, with the decision log,
                    and in the incident store run/maildlp.db (SQLite):
                    bin/maildlp incidents list

Point a local Postfix at the milter (main.cf; see contrib/postfix/ and
docs/operations.md for the full set-up and the reinjection-hop variants):

  postconf -e 'smtpd_milters = inet:127.0.0.1:10030' \
              'non_smtpd_milters = inet:127.0.0.1:10030' \
              'milter_protocol = 6' \
              'milter_default_action = tempfail'
  postfix reload

Try it without Postfix:  bin/maildlp scan contrib/examples
Reload policies:         kill -HUP <pid>      Stop: Ctrl-C

MSG
exec "$bin" serve --config ''
