#!/usr/bin/env bash
# Milter benchmark: smtp-source -> Postfix -> smtp-sink, side by side in
# one run: Postfix with no milter, with maildlp over TCP and over a unix
# socket (full default policy). 4 KiB and 1 MiB business-text messages
# with many numbers but no sensitive data, 10 and 50 parallel sessions,
# then one session for per-message latency. Prints msg/s, CPU and the
# ratio to the no-milter run. Not part of `make test`.
#
#   make bench-milter             (or: sudo scripts/bench-milter.sh)
#   ROUNDS=3 N4K=1500 N1M=100 NLAT=300 SESSIONS="10 50" scripts/bench-milter.sh
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"

N4K=${N4K:-1500}
N1M=${N1M:-100}
NLAT=${NLAT:-300}
SESSIONS=${SESSIONS:-10 50}
ROUNDS=${ROUNDS:-3}

bench_prereqs
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

declare -A RATES BUSY DLPCPU MBS
run() { # label size-label file count sessions port
	local label=$1 sz=$2 file=$3 n=$4 s=$5 port=$6
	local b0 t0 d0 start end b1 t1 d1 secs rate mbs busy dlp bytes
	bytes=$(stat -c %s "$file")
	b0=$(cpu_busy); t0=$(cpu_total); d0=$(proc_cpu "$DLP_PID")
	start=$(now_ns)
	timeout 600 smtp-source -s "$s" -m "$n" -F "$file" -f bench@test.example -t sink@ext.example "127.0.0.1:$port" ||
		die "smtp-source failed ($label $sz c=$s)"
	queue_empty "$PF" 600
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
			run none "$sz" "$T/msg-$sz" "$n" "$s" "$P0"
			run tcp "$sz" "$T/msg-$sz" "$n" "$s" "$P1"
			run unix "$sz" "$T/msg-$sz" "$n" "$s" "$P2"
		done
	done
	echo "round $round of $ROUNDS done" >&2
done
summary "none" "none tcp unix"

sent=$(grep -c 'status=sent' "$PF/maillog" || true)
rejected=$(grep -c 'milter-reject\|milter-discard\|milter-hold' "$PF/maillog" || true)
echo "delivered to the sink: $sent messages; milter rejects/holds: $rejected (want 0: no sensitive data)"

echo
echo "latency at c=1 (time from the final dot to the reply, one session, $NLAT messages of 4 KiB):"
if command -v go >/dev/null && (cd "$ROOT/integration" && go build -o "$T/smtplat" ./cmd/smtplat); then
	l0=$("$T/smtplat" -addr "127.0.0.1:$P0" -n "$NLAT" -msg "$T/msg-4k" -label none)
	l1=$("$T/smtplat" -addr "127.0.0.1:$P1" -n "$NLAT" -msg "$T/msg-4k" -label tcp)
	l2=$("$T/smtplat" -addr "127.0.0.1:$P2" -n "$NLAT" -msg "$T/msg-4k" -label unix)
	printf '  %s\n  %s\n  %s\n' "$l0" "$l1" "$l2"
	p99() { sed -E 's/.*p99=([0-9.]+)ms.*/\1/' <<<"$1"; }
	p50() { sed -E 's/.*p50=([0-9.]+)ms.*/\1/' <<<"$1"; }
	echo "  added by the milter: tcp p50 +$(awk -v a="$(p50 "$l1")" -v b="$(p50 "$l0")" 'BEGIN{printf "%.2f", a-b}')ms p99 +$(awk -v a="$(p99 "$l1")" -v b="$(p99 "$l0")" 'BEGIN{printf "%.2f", a-b}')ms;" \
		"unix p50 +$(awk -v a="$(p50 "$l2")" -v b="$(p50 "$l0")" 'BEGIN{printf "%.2f", a-b}')ms p99 +$(awk -v a="$(p99 "$l2")" -v b="$(p99 "$l0")" 'BEGIN{printf "%.2f", a-b}')ms"
	queue_empty "$PF"
else
	echo "  (go not available: latency not measured)"
fi
echo "machine: $NCPU cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
