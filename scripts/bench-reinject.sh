#!/usr/bin/env bash
# Reinjection hop benchmark, side by side in one run: smtp-source ->
# smtp-sink directly, through Postfix's own before-queue proxy
# (smtpd_proxy_filter pointing at the sink: pure pass-through), and
# through the maildlp hop (forwarding mode, full default policy). 4 KiB
# and 1 MiB business-text messages, 10 and 50 sessions. Prints msg/s and
# the ratio to direct. Not part of `make test`.
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

declare -A RATES BUSY DLPCPU MBS
run() { # label size-label file count sessions port
	local label=$1 sz=$2 file=$3 n=$4 s=$5 port=$6
	local b0 t0 d0 start end b1 t1 d1 secs rate mbs busy dlp bytes
	bytes=$(stat -c %s "$file")
	b0=$(cpu_busy); t0=$(cpu_total); d0=$(proc_cpu "$DLP_PID")
	start=$(now_ns)
	timeout 600 smtp-source -s "$s" -m "$n" -F "$file" -f bench@test.example -t sink@ext.example "127.0.0.1:$port" ||
		die "smtp-source failed ($label $sz c=$s)"
	end=$(now_ns)
	b1=$(cpu_busy); t1=$(cpu_total); d1=$(proc_cpu "$DLP_PID")
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f", (b-a)/1e9}')
	rate=$(awk -v n="$n" -v s="$secs" 'BEGIN{printf "%.1f", n/s}')
	mbs=$(awk -v n="$n" -v b="$bytes" -v s="$secs" 'BEGIN{printf "%.1f", n*b/s/1048576}')
	busy=$(awk -v b="$((b1-b0))" -v t="$((t1-t0))" -v c="$NCPU" 'BEGIN{ if (t>0) printf "%.2f", b/t*c; else print 0 }')
	dlp=$(awk -v d="$((d1-d0))" -v hz="$HZ" -v s="$secs" 'BEGIN{ printf "%.2f", d/hz/s }')
	RATES[$sz/$s/$label]+="$rate "
	BUSY[$sz/$s/$label]+="$busy "
	DLPCPU[$sz/$s/$label]+="$dlp "
	MBS[$sz/$s/$label]+="$mbs "
}

# Rounds alternate the paths so that load from elsewhere on the machine
# spreads over all of them; the table shows the median of the rounds.
for round in $(seq "$ROUNDS"); do
	for sz in 4k 1m; do
		if [ "$sz" = 4k ]; then n=$N4K; else n=$N1M; fi
		for s in $SESSIONS; do
			run direct "$sz" "$T/msg-$sz" "$n" "$s" "$SINK"
			run postfix-proxy "$sz" "$T/msg-$sz" "$n" "$s" "$PX"
			run maildlp-hop "$sz" "$T/msg-$sz" "$n" "$s" "$HOP"
		done
	done
	echo "round $round of $ROUNDS done" >&2
done
summary "direct" "direct postfix-proxy maildlp-hop"
echo "machine: $NCPU cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
