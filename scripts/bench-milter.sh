#!/usr/bin/env bash
# Milter benchmark: smtp-source -> Postfix -> smtp-sink, side by side in
# one run: Postfix with no milter, with maildlp over TCP and over a unix
# socket (full default policy). 4 KiB and 1 MiB business-text messages
# with many numbers but no sensitive data, 10 and 50 parallel sessions,
# then one session for per-message latency. Prints msg/s, CPU and the
# ratio to the no-milter run, maildlp's CPU per message and peak RSS,
# in one table. PPROF=SECONDS records maildlp's CPU and allocation
# profiles over the first SECONDS into bin/pprof/. Not part of `make test`.
#
#   make bench-milter             (or: sudo scripts/bench-milter.sh)
#   ROUNDS=5 N4K=600 N1M=30 NLAT=300 SESSIONS="10 50" scripts/bench-milter.sh
#
# Every case runs ROUNDS times as a group of adjacent runs (no milter,
# TCP, unix socket); ratios are taken within a group and the median over
# the rounds is shown, so that load from elsewhere on the machine hits
# both sides alike. Each run is bounded (timeout 600 s).
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"

N4K=${N4K:-1500}
N1M=${N1M:-100}
NLAT=${NLAT:-300}
SESSIONS=${SESSIONS:-10 50}
ROUNDS=${ROUNDS:-3}

bench_prereqs
LOAD0=$(loadavg)
make_message "$T/msg-4k" 4096
make_message "$T/msg-1m" 1048576

free_port SINK
start_sink "$SINK"

free_port MPORT
free_port HPORT
SOCK=$T/milter.sock
write_maildlp_config "$T/maildlp.toml" "$MPORT" "$SOCK" "$HPORT" "$SINK" true false
start_maildlp "$T/maildlp.toml"
wait_port "127.0.0.1:$MPORT"
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || die "maildlp did not create $SOCK"

# The milter settings (protocol, default action, timeouts, macros) come
# from the shipped fragment; each listener then picks its milter.
frag=""
for f in contrib/postfix/milter/main.cf contrib/postfix/milter-main.cf contrib/postfix/main.cf.milter contrib/postfix/main.cf; do
	if [ -f "$ROOT/$f" ]; then
		frag=$(sed -E "s/(^|[^0-9])10030([^0-9]|$)/\1$MPORT\2/g" "$ROOT/$f")
		break
	fi
done
free_port P0; free_port P1; free_port P2
PF=$T/postfix
postfix_instance "$PF" "$SINK" "127.0.0.1:$P0 inet n - n - - smtpd -o smtpd_milters=
127.0.0.1:$P1 inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$MPORT
127.0.0.1:$P2 inet n - n - - smtpd -o smtpd_milters=unix:$SOCK" "$frag"
wait_port "127.0.0.1:$P0"

# Warm up every path (process start, caches).
for p in $P0 $P1 $P2; do smtp-source -s 2 -m 10 -F "$T/msg-4k" -f bench@test.example -t sink@ext.example "127.0.0.1:$p"; done
queue_empty "$PF"

declare -A RATIOS
# Each round measures every case as a group of adjacent runs, no milter
# and maildlp over TCP and the unix socket, and takes the ratio within the
# group, so that load from elsewhere on the machine that drifts during the
# benchmark hits both sides of a ratio alike. The order within a group
# alternates from round to round (none tcp unix, then unix tcp none) so
# that neither side always runs first. The table shows medians over the
# rounds: of msg/s, and of the per-round ratios (with their range), of
# maildlp's CPU milliseconds per message and of its peak RSS in the run.
start_profile milter
for round in $(seq "$ROUNDS"); do
	order="none tcp unix"
	[ $((round % 2)) -eq 0 ] && order="unix tcp none"
	for sz in 4k 1m; do
		if [ "$sz" = 4k ]; then n=$N4K; else n=$N1M; fi
		for s in $SESSIONS; do
			declare -A got=()
			for l in $order; do
				case $l in none) p=$P0 ;; tcp) p=$P1 ;; unix) p=$P2 ;; esac
				measure "$l" "$sz" "$T/msg-$sz" "$n" "$s" "$p" "$PF"
				got[$l]=$RATE
			done
			for l in tcp unix; do
				RATIOS[$sz/$s/$l]+="$(fmt_ratio "${got[$l]}" "${got[none]}") "
			done
		done
	done
	echo "round $round of $ROUNDS done ($(loadavg) load)" >&2
done
finish_profile

echo "Postfix $(postconf -d -h mail_version 2>/dev/null) with no milter (none) and with maildlp over TCP and a unix socket;"
echo "ratio: msg/s to none within a round; load average $LOAD0 at the start, $(loadavg) at the end"
table none "none tcp unix"
# Where the CPU the milter adds per message goes: the whole machine's CPU
# per message with the milter minus without it, maildlp's share of that,
# and the rest (Postfix's side of the milter protocol: its milter client
# in smtpd and cleanup). Postfix and the load generator keep both cores
# busy, so a ratio of 0.90 leaves the milter about a ninth of the CPU
# per message of the run without it.
echo
echo "CPU added per message by the milter (medians, ms): all = whole machine with the milter minus without it"
for sz in 4k 1m; do
	for s in $SESSIONS; do
		none=$(median "${ALLMS[$sz/$s/none]}")
		for l in tcp unix; do
			awk -v sz="$sz" -v s="$s" -v l="$l" -v none="$none" -v all="$(median "${ALLMS[$sz/$s/$l]}")" -v dlp="$(median "${DLPMS[$sz/$s/$l]}")" \
				'BEGIN { printf "  %-3s %3s sessions %-5s added %.3f: maildlp %.3f, Postfix and the rest %.3f; for a ratio of 0.90 the milter may add %.3f\n", sz, s, l, all - none, dlp, all - none - dlp, none / 9 }'
		done
	done
done

sent=$(grep -c 'status=sent' "$PF/maillog" || true)
rejected=$(grep -c 'milter-reject\|milter-discard\|milter-hold' "$PF/maillog" || true)
echo "delivered to the sink: $sent messages; milter rejects/holds: $rejected (want 0: no sensitive data)"

# Latency: ROUNDS rounds of NLAT messages per path, the paths in
# alternating order as above; the added latency is taken within a round
# (milter minus no milter) and the median over the rounds is shown.
echo
echo "latency at c=1 (time from the final dot to the reply, one session, $NLAT messages of 4 KiB per path and round):"
if command -v go >/dev/null && (cd "$ROOT/integration" && go build -o "$T/smtplat" ./cmd/smtplat); then
	q() { sed -E "s/.*$1=([0-9.]+)ms.*/\1/" <<<"$2"; }
	declare -A LAT ADD
	for round in $(seq "$ROUNDS"); do
		order="none tcp unix"
		[ $((round % 2)) -eq 0 ] && order="unix tcp none"
		declare -A line=()
		for l in $order; do
			case $l in none) p=$P0 ;; tcp) p=$P1 ;; unix) p=$P2 ;; esac
			line[$l]=$("$T/smtplat" -addr "127.0.0.1:$p" -n "$NLAT" -msg "$T/msg-4k" -label "$l")
			echo "  round $round: ${line[$l]}"
			for k in p50 p99; do LAT[$l/$k]+="$(q "$k" "${line[$l]}") "; done
		done
		for l in tcp unix; do
			for k in p50 p99; do
				ADD[$l/$k]+="$(awk -v a="$(q "$k" "${line[$l]}")" -v b="$(q "$k" "${line[none]}")" 'BEGIN{printf "%.2f", a-b}') "
			done
		done
	done
	for l in none tcp unix; do
		echo "  $l: median p50=$(median "${LAT[$l/p50]}")ms p99=$(median "${LAT[$l/p99]}")ms"
	done
	echo "  added by the milter (median of the rounds): tcp p50 +$(median "${ADD[tcp/p50]}")ms p99 +$(median "${ADD[tcp/p99]}")ms;" \
		"unix p50 +$(median "${ADD[unix/p50]}")ms p99 +$(median "${ADD[unix/p99]}")ms" \
		"(p99 of each round: tcp ${ADD[tcp/p99]}; unix ${ADD[unix/p99]})"
	queue_empty "$PF"
else
	echo "  (go not available: latency not measured)"
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $NCPU cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
