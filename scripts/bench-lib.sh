# Shared helpers of bench-milter.sh and bench-reinject.sh (sourced).
# Everything runs on loopback in a temporary directory that is removed on
# exit; every wait is bounded.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${MAILDLP_BIN:-$ROOT/bin/maildlp}
PATH=$PATH:/usr/sbin:/usr/lib/postfix/sbin

die() {
	echo "bench: $*" >&2
	# What the MTA and maildlp said about it.
	if [ -n "${T:-}" ]; then
		for d in "${PF_DIRS[@]}"; do
			grep -E 'warning|error|fatal|reject' "$d/maillog" 2>/dev/null | grep -v 'overriding earlier entry' | tail -15 >&2 || true
		done
		grep -E '"level":"(WARN|ERROR)"' "$T/maildlp.log" 2>/dev/null | tail -15 >&2 || true
	fi
	exit 1
}

bench_prereqs() {
	[ "$(id -u)" -eq 0 ] || die "run as root (Postfix instances drop to the postfix user)"
	for t in postfix postqueue smtp-source smtp-sink; do
		command -v "$t" >/dev/null || die "$t missing: run scripts/deps.sh integration"
	done
	[ -x "$BIN" ] || die "$BIN missing: run make build"
	T=$(mktemp -d /tmp/maildlp-bench.XXXXXX)
	chmod 755 "$T"
	PIDS=()
	PF_DIRS=()
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	for d in "${PF_DIRS[@]}"; do postfix -c "$d/etc" stop >/dev/null 2>&1 || true; done
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	if [ -n "${KEEP:-}" ]; then echo "bench: kept $T" >&2; else rm -rf "$T"; fi
}

# free_port VAR sets VAR to a loopback TCP port nobody listens on, below the
# kernel's ephemeral range (so no outgoing connection holds it) and not
# handed out before by this script.
USED_PORTS=" "
free_port() {
	local p lo hi
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
	for _ in $(seq 200); do
		p=$((10000 + RANDOM % (lo - 10000)))
		case $USED_PORTS in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED_PORTS+="$p "
			printf -v "$1" '%s' "$p"
			return
		fi
	done
	die "no free port"
}

# wait_port HOST:PORT waits (10 s at most) until something listens.
wait_port() {
	local host=${1%:*} port=${1##*:}
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	die "nothing listens on $1"
}

# make_message FILE BYTES: business text with many numbers (order and
# invoice numbers, dates, amounts, quantities) and no sensitive data.
make_message() {
	local file=$1 size=$2
	{
		printf 'From: Bench Sender <bench@test.example>\n'
		printf 'To: Sink <sink@ext.example>\n'
		printf 'Subject: Order status report\n'
		printf 'Message-ID: <bench-%s@test.example>\n' "$size"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
		awk -v size="$size" 'BEGIN {
			size += 0
			srand(42)
			split("widget gasket bearing valve sensor bracket cable relay fuse panel", item, " ")
			split("Hamburg Lyon Leeds Porto Turin Gdansk Utrecht Graz Malmo Cork", city, " ")
			n = 0
			while (n < size) {
				line = sprintf("Order %d-%04d: %d x %s %c%d at %d.%02d EUR, ship %04d-%02d-%02d to %s depot %d, invoice %d/%d, total %d,%03d.%02d EUR.",
					2026, int(rand()*9999), 1+int(rand()*500), item[1+int(rand()*10)], 65+int(rand()*26), int(rand()*999),
					int(rand()*900)+10, int(rand()*100), 2026, 1+int(rand()*12), 1+int(rand()*28), city[1+int(rand()*10)],
					int(rand()*90)+1, int(rand()*99999), 2026, int(rand()*999), int(rand()*1000), int(rand()*100))
				print line
				n += length(line) + 1
			}
		}'
	} >"$file"
}

# cpu_busy prints the machine's busy jiffies so far (user+nice+system+irq+softirq+steal).
cpu_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
# cpu_total prints all jiffies so far.
cpu_total() { awk '/^cpu /{s=0; for(i=2;i<=NF;i++) s+=$i; print s}' /proc/stat; }
# proc_cpu PID prints the process's utime+stime in jiffies.
proc_cpu() { if [ -r "/proc/$1/stat" ]; then awk '{print $14+$15}' "/proc/$1/stat"; else echo 0; fi; }
# busy_cpu prints the CPU time of the whole machine outside idle and I/O
# wait (user, nice, system, irq, softirq, steal) in jiffies: everything
# the run cost, Postfix, the load generator and the sink included.
busy_cpu() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

now_ns() { date +%s%N; }

# start_sink PORT: smtp-sink on 127.0.0.1:PORT.
start_sink() {
	smtp-sink -u postfix -h sink.test.example "127.0.0.1:$1" 1024 >"$T/sink-$1.log" 2>&1 &
	PIDS+=($!)
	wait_port "127.0.0.1:$1"
}

# postfix_instance DIR RELAY_PORT MASTER_LINES: writes and starts a
# throwaway Postfix instance in DIR relaying to 127.0.0.1:RELAY_PORT; the
# caller gives the master.cf listener lines, the other services are those
# the integration tests use (integration/testdata/master.cf).
postfix_instance() {
	local dir=$1 relay=$2 master=$3 extra_main=${4:-}
	mkdir -p "$dir/etc" "$dir/spool" "$dir/data"
	chown postfix "$dir/data"
	cat >"$dir/etc/main.cf" <<EOM
compatibility_level = 3.6
myhostname = mta.test.example
mydomain = test.example
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
smtp_dns_support_level = disabled
in_flow_delay = 0
smtpd_error_sleep_time = 0
message_size_limit = 52428800
default_process_limit = 200
default_destination_concurrency_limit = 50
smtp_tls_security_level = none
$extra_main
queue_directory = $dir/spool
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mail_owner = postfix
setgid_group = postdrop
relayhost = [127.0.0.1]:$relay
EOM
	{ printf '%s\n' "$master"; cat "$ROOT/integration/testdata/master.cf"; } >"$dir/etc/master.cf"
	PF_DIRS+=("$dir")
	postfix -c "$dir/etc" start >/dev/null 2>&1 || { cat "$dir/maillog" >&2; die "postfix start failed"; }
}

# queue_empty DIR waits (bounded by SECS, default 300) until the instance's
# queue is empty.
queue_empty() {
	local dir=$1 secs=${2:-300}
	local deadline=$(( $(date +%s) + secs ))
	while [ -n "$(postqueue -c "$dir/etc" -j 2>/dev/null | head -c1)" ]; do
		[ "$(date +%s)" -lt "$deadline" ] || die "queue of $dir not empty after ${secs}s"
		sleep 0.05
	done
}

# write_maildlp_config FILE MILTER_PORT SOCK HOP_PORT NEXT_HOP MILTER(true|false) REINJECT(true|false)
write_maildlp_config() {
	local file=$1 mport=$2 sock=$3 hport=$4 next=$5 milter=$6 reinject=$7
	cat >"$file" <<EOM
policy_files = ["$ROOT/contrib/policies/default.toml"]
internal_domains = ["test.example"]

[log]
format = "json"
level = "warn"

[incidents]
path = "$T/incidents.jsonl"

# The incident store is on, as in production (SQLite, the default).
[store]
path = "$T/maildlp.db"
queue_dir = "$T/incident-queue"

[notify]
relay = "127.0.0.1:9"
from = "dlp@test.example"
outbox_dir = "$T/outbox"

[milter]
enabled = $milter
listen = ["inet:$mport@127.0.0.1", "unix:$sock"]
socket_mode = "0666"

[reinject]
enabled = $reinject
listen = "127.0.0.1:$hport"
mode = "forward"
next_hops = ["127.0.0.1:$next"]
EOM
}

# start_maildlp CONFIG: runs maildlp serve; sets DLP_PID.
# With PPROF=SECONDS, maildlp serves its profiles on a loopback port
# (MAILDLP_PPROF) and start_profile records them.
start_maildlp() {
	if [ -n "${PPROF:-}" ]; then
		free_port PPROF_PORT
		export MAILDLP_PPROF=127.0.0.1:$PPROF_PORT
	fi
	"$BIN" serve --config "$1" >"$T/maildlp.log" 2>&1 &
	DLP_PID=$!
	PIDS+=("$DLP_PID")
	unset MAILDLP_PPROF
}

# start_profile NAME: with PPROF=SECONDS, records a CPU profile of maildlp
# over the next SECONDS in the background, then its allocation profile,
# into PPROF_DIR (default bin/pprof) as NAME.cpu.pprof and NAME.allocs.pprof.
start_profile() {
	[ -n "${PPROF:-}" ] || return 0
	local dir=${PPROF_DIR:-$ROOT/bin/pprof}
	mkdir -p "$dir"
	( curl -fsS -o "$dir/$1.cpu.pprof" "http://127.0.0.1:$PPROF_PORT/debug/pprof/profile?seconds=$PPROF" &&
		curl -fsS -o "$dir/$1.allocs.pprof" "http://127.0.0.1:$PPROF_PORT/debug/pprof/allocs" &&
		echo "bench: profiles in $dir/$1.*.pprof (go tool pprof -top $BIN $dir/$1.cpu.pprof)" >&2 ) &
	PROF_PID=$!
}

# finish_profile waits for the profile start_profile began.
finish_profile() { [ -z "${PROF_PID:-}" ] || wait "$PROF_PID" || true; }

# reset_peak forgets the process's peak RSS (VmHWM), peak_rss prints it in MiB.
reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
peak_rss() { awk '/^VmHWM:/{printf "%.0f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo -; }

# measure LABEL SIZE FILE COUNT SESSIONS PORT DRAIN: sends COUNT messages
# of FILE with SESSIONS parallel sessions to 127.0.0.1:PORT (DRAIN: a
# Postfix directory whose queue must then be empty, or "") and records,
# under SIZE/SESSIONS/LABEL, msg/s (RATES), maildlp's CPU milliseconds per
# message (DLPMS), the whole machine's (ALLMS: see busy_cpu; anything else
# running on the machine counts too) and maildlp's peak RSS in MiB during
# the run (RSS). Sets RATE.
declare -A RATES DLPMS ALLMS RSS
measure() {
	local label=$1 sz=$2 file=$3 n=$4 s=$5 port=$6 drain=$7
	local d0 d1 b0 b1 start end secs
	reset_peak "$DLP_PID"
	d0=$(proc_cpu "$DLP_PID")
	b0=$(busy_cpu)
	start=$(now_ns)
	timeout 600 smtp-source -s "$s" -m "$n" -F "$file" -f bench@test.example -t sink@ext.example "127.0.0.1:$port" ||
		die "smtp-source failed ($label $sz c=$s)"
	[ -z "$drain" ] || queue_empty "$drain" 600
	end=$(now_ns)
	d1=$(proc_cpu "$DLP_PID")
	b1=$(busy_cpu)
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f", (b-a)/1e9}')
	RATE=$(awk -v n="$n" -v s="$secs" 'BEGIN{printf "%.1f", n/s}')
	RATES[$sz/$s/$label]+="$RATE "
	DLPMS[$sz/$s/$label]+="$(awk -v d="$((d1-d0))" -v hz="$HZ" -v n="$n" 'BEGIN{ printf "%.3f", d/hz/n*1000 }') "
	ALLMS[$sz/$s/$label]+="$(awk -v d="$((b1-b0))" -v hz="$HZ" -v n="$n" 'BEGIN{ printf "%.3f", d/hz/n*1000 }') "
	RSS[$sz/$s/$label]+="$(peak_rss "$DLP_PID") "
}

# table REF "LABELS" [OTHER]: the one table of a benchmark: per size,
# sessions and path the median msg/s over the rounds, the median of the
# per-round ratios to REF (within a round, so that load drifting over the
# run hits both sides alike; RATIOS[size/sessions/label] holds them), with
# their range, maildlp's CPU per message and its peak RSS.
table() {
	local ref=$1 labels=$2 sz s l ratio rr
	printf '%-4s %-4s %-16s %8s %7s %11s %13s %11s %9s   %s\n' size sess path "msg/s" ratio "ratio range" "maildlp ms/msg" "all ms/msg" "peak RSS" "msg/s of each round"
	for sz in 4k 1m; do
		for s in $SESSIONS; do
			for l in $labels; do
				if [ "$l" = "$ref" ]; then ratio=1.00 rr=-; else ratio=$(median "${RATIOS[$sz/$s/$l]}") rr=$(range "${RATIOS[$sz/$s/$l]}"); fi
				printf '%-4s %-4s %-16s %8s %7s %11s %13s %11s %8sM   %s\n' "$sz" "$s" "$l" "$(median "${RATES[$sz/$s/$l]}")" "$ratio" "$rr" \
					"$(median "${DLPMS[$sz/$s/$l]}")" "$(median "${ALLMS[$sz/$s/$l]}")" "$(median "${RSS[$sz/$s/$l]}")" "${RATES[$sz/$s/$l]}"
			done
		done
	done
}

range() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | sed -n '1p;$p' | paste -sd- -; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

fmt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# median of the numbers in $1 (space-separated).
median() {
	tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g |
		awk '{a[NR]=$1} END { if (NR == 0) print 0; else if (NR % 2) print a[(NR+1)/2]; else printf "%.2f", (a[NR/2]+a[NR/2+1])/2 }'
}
