#!/usr/bin/env bash
# Installs what a make target needs on Debian. Idempotent and quiet when
# everything is already there.
#
#   scripts/deps.sh unit          PostgreSQL server tools (initdb, pg_ctl):
#                                 the store and quarantine tests start their
#                                 own server in a temporary directory
#   scripts/deps.sh integration   Postfix (with smtp-source/smtp-sink),
#                                 swaks, miltertest, ca-certificates,
#                                 PostgreSQL (nodes sharing one store); and
#                                 Sendmail 8.17, unpacked (not installed)
#                                 under $MAILDLP_SENDMAIL_PREFIX
#   scripts/deps.sh console       chromium, which the console's browser
#                                 tests drive headless through chromedp
#   scripts/deps.sh quality       packages whose documentation make quality
#                                 scans as real clean text: git (release
#                                 notes full of versions and commit ids),
#                                 manpages, postfix
#   scripts/deps.sh store         the same as unit
#
# The system Postfix instance and the distribution's PostgreSQL cluster are
# left stopped: the tests and benchmarks start their own instances in
# temporary directories.
#
# Sendmail cannot be installed next to Postfix (sendmail-bin conflicts with
# postfix: both provide mail-transport-agent). The integration tests run a
# throwaway Sendmail from the packages' files instead: sendmail-bin,
# sendmail-base and sendmail-cf are fetched with apt-get download and
# unpacked with dpkg-deb -x into a private prefix, never installed, so no
# maintainer script runs and /etc/mail is not touched. Their libraries, m4
# (sendmail.cf is generated from a .mc) and util-linux's unshare are
# ordinary installed packages.
set -euo pipefail

sendmail_prefix=${MAILDLP_SENDMAIL_PREFIX:-/opt/maildlp-test/sendmail}
sendmail_pkgs=(sendmail-bin sendmail-base sendmail-cf)

want=()
case "${1:-integration}" in
unit | store)
	want=(postgresql)
	;;
integration)
	want=(postfix swaks miltertest ca-certificates postgresql m4 util-linux)
	;;
console)
	want=(chromium)
	;;
quality)
	want=(git manpages postfix)
	;;
*)
	echo "usage: $0 unit|store|integration|console|quality" >&2
	exit 2
	;;
esac

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

stop_system_postgresql() {
	# Debian's package creates and starts a "main" cluster on port 5432;
	# the tests never use it.
	if command -v pg_lsclusters >/dev/null 2>&1; then
		pg_lsclusters -h 2>/dev/null | while read -r ver name port status _; do
			if [ "$status" = online ]; then
				pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
			fi
		done
	fi
}

stop_system_postfix() {
	# Never leave the distribution's instance listening on port 25.
	if [ -f /etc/postfix/main.cf ] && postfix status >/dev/null 2>&1; then
		postfix stop >/dev/null 2>&1 || true
	fi
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet postfix 2>/dev/null; then
		systemctl stop postfix >/dev/null 2>&1 || true
		systemctl disable postfix >/dev/null 2>&1 || true
	fi
}

# unpack_sendmail fetches the Sendmail packages of the machine's release
# and unpacks them into $sendmail_prefix. A stamp names the versions
# unpacked; a prefix that has them is left alone.
unpack_sendmail() {
	[ "${1:-integration}" = integration ] || return 0
	local stamp="$sendmail_prefix/.maildlp-unpacked" want_stamp
	want_stamp=$(apt-cache policy "${sendmail_pkgs[@]}" 2>/dev/null | awk '/^[a-z]/{p=$1} /Candidate:/{print p, $2}')
	if [ -x "$sendmail_prefix/usr/libexec/sendmail/sendmail" ] && [ -f "$stamp" ] &&
		{ [ -z "$want_stamp" ] || [ "$(cat "$stamp")" = "$want_stamp" ]; }; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ] && ! [ -w "$(dirname "$sendmail_prefix")" ]; then
		echo "deps.sh: Sendmail not unpacked under $sendmail_prefix; run as root" >&2
		return 1
	fi
	local dl log
	dl=$(mktemp -d)
	log=$(mktemp)
	# apt-get download writes as the _apt user when it can.
	chmod 755 "$dl"
	chown _apt "$dl" 2>/dev/null || true
	if ! { apt-get update -qq && (cd "$dl" && apt-get download -qq "${sendmail_pkgs[@]}"); } >"$log" 2>&1; then
		cat "$log" >&2
		rm -rf "$dl" "$log"
		return 1
	fi
	# The libraries sendmail-bin links against, named as this release
	# names them (they differ between bookworm and trixie).
	local libs=() lib
	for lib in $(dpkg-deb -f "$dl"/sendmail-bin_*.deb Depends | tr ',' '\n' | sed -E 's/^ *//; s/[ (|].*//' | grep '^lib'); do
		if ! dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q 'install ok installed'; then
			libs+=("$lib")
		fi
	done
	if [ ${#libs[@]} -gt 0 ] && ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${libs[@]}" >"$log" 2>&1; then
		cat "$log" >&2
		rm -rf "$dl" "$log"
		return 1
	fi
	rm -rf "$sendmail_prefix"
	mkdir -p "$sendmail_prefix"
	for deb in "$dl"/*.deb; do
		dpkg-deb -x "$deb" "$sendmail_prefix"
	done
	apt-cache policy "${sendmail_pkgs[@]}" 2>/dev/null | awk '/^[a-z]/{p=$1} /Candidate:/{print p, $2}' >"$stamp"
	rm -rf "$dl" "$log"
}

stop_system() {
	if [ "$(id -u)" -eq 0 ]; then
		stop_system_postfix
		stop_system_postgresql
	fi
}

if [ ${#missing[@]} -eq 0 ]; then
	stop_system
	unpack_sendmail "${1:-integration}"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages ${missing[*]}; run as root to install them" >&2
	case "${1:-integration}" in
	quality) exit 0 ;; # the quality tests scan the documentation that is installed
	unit | store) exit 0 ;; # the PostgreSQL tests skip (fail under CI=true)
	esac
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

# Keep maintainer scripts from starting daemons while we install.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=1
fi
cleanup() { if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	cat "$log" >&2
	rm -f "$log"
	exit 1
fi
rm -f "$log"
stop_system
unpack_sendmail "${1:-integration}"
