#!/usr/bin/env bash
# Reinjection hop benchmark, side by side in one run: smtp-source ->
# smtp-sink directly, through Postfix's own before-queue proxy
# (smtpd_proxy_filter pointing at the sink: pure pass-through), and
# through the maildlp hop (forwarding mode, full default policy). 4 KiB
# and 1 MiB business-text messages, 10 and 50 sessions. Prints msg/s and
# the ratio to direct, maildlp's CPU per message and peak RSS in one
# table. PPROF=SECONDS records maildlp's profiles into bin/pprof/. Not
# part of `make test`.
#
#   make bench-reinject           (or: sudo scripts/bench-reinject.sh)
#   ROUNDS=3 N4K=5000 N1M=150 SESSIONS="10 50" scripts/bench-reinject.sh
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"

N4K=${N4K:-5000}
N1M=${N1M:-150}
SESSIONS=${SESSIONS:-10 50}
ROUNDS=${ROUNDS:-3}

bench_prereqs
LOAD0=$(loadavg)
make_message "$T/msg-4k" 4096
make_message "$T/msg-1m" 1048576

free_port SINK
start_sink "$SINK"

free_port MPORT
free_port HOP
write_maildlp_config "$T/maildlp.toml" "$MPORT" "$T/milter.sock" "$HOP" "$SINK" false true
start_maildlp "$T/maildlp.toml"
wait_port "127.0.0.1:$HOP"

free_port PX
PF=$T/postfix
postfix_instance "$PF" "$SINK" "127.0.0.1:$PX inet n - n - 100 smtpd -o smtpd_proxy_filter=127.0.0.1:$SINK -o smtpd_proxy_ehlo=mta.test.example" "smtpd_milters ="
wait_port "127.0.0.1:$PX"

for p in $SINK $PX $HOP; do smtp-source -s 2 -m 10 -F "$T/msg-4k" -f bench@test.example -t sink@ext.example "127.0.0.1:$p"; done

declare -A RATIOS
# Each round measures every case as a group of adjacent runs (direct,
# Postfix's proxy, the hop), in alternating order from round to round,
# and takes the ratios within the group: to direct, and the hop's to
# Postfix's proxy (hop/proxy). The table shows medians over the rounds.
start_profile reinject
for round in $(seq "$ROUNDS"); do
	order="direct postfix-proxy maildlp-hop"
	[ $((round % 2)) -eq 0 ] && order="maildlp-hop postfix-proxy direct"
	for sz in 4k 1m; do
		if [ "$sz" = 4k ]; then n=$N4K; else n=$N1M; fi
		for s in $SESSIONS; do
			declare -A got=()
			for l in $order; do
				case $l in direct) p=$SINK ;; postfix-proxy) p=$PX ;; maildlp-hop) p=$HOP ;; esac
				measure "$l" "$sz" "$T/msg-$sz" "$n" "$s" "$p" ""
				got[$l]=$RATE
			done
			for l in postfix-proxy maildlp-hop; do
				RATIOS[$sz/$s/$l]+="$(fmt_ratio "${got[$l]}" "${got[direct]}") "
			done
			RATIOS[$sz/$s/hop/proxy]+="$(fmt_ratio "${got[maildlp-hop]}" "${got[postfix-proxy]}") "
		done
	done
	echo "round $round of $ROUNDS done ($(loadavg) load)" >&2
done
finish_profile

echo "smtp-source straight to smtp-sink (direct), through Postfix $(postconf -d -h mail_version 2>/dev/null)'s smtpd_proxy_filter"
echo "(pass-through, no DLP) and through the maildlp hop (full default policy); ratio: msg/s to direct within a round;"
echo "load average $LOAD0 at the start, $(loadavg) at the end"
table direct "direct postfix-proxy maildlp-hop"
echo "hop / Postfix proxy (median of the rounds, range):"
for sz in 4k 1m; do
	for s in $SESSIONS; do
		echo "  $sz $s sessions: $(median "${RATIOS[$sz/$s/hop/proxy]}") ($(range "${RATIOS[$sz/$s/hop/proxy]}"))"
	done
done
echo "machine: $NCPU cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
