#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Serve-stale (RFC 8767) and prefetch in the lab's simulated internet, pollux and Unbound asked
# the same questions in the same run. stale.test has one server (role "stale", 198.18.4.5) and
# short TTLs: www.stale.test A 2 s, pf.stale.test A 20 s. Unbound runs with serve-expired (a
# 1.8 s client timeout, 30 s reply TTL) and prefetch, pollux with its defaults
# (serve-stale-max 86400, serve-stale-client-timeout 1800, serve-stale-ttl 30, prefetch yes):
#   1. both resolve www and pf (cached);
#   2. at 18.5 s pf.stale.test is in the last tenth of its TTL: both answer it from the cache,
#      and pollux's `prefetch` counter moves (the refresh goes to stale.test's server);
#   3. stale.test's only server is stopped;
#   4. at 21 s, past pf's first expiry, pollux answers pf from the cache (a hit: the prefetch
#      refreshed it; no miss), as does Unbound, with the same address;
#   5. www.stale.test, expired for 19 s and its server gone: pollux answers NOERROR with the
#      cached address, TTL 30 and EDE 3 (Stale Answer), counted stale_served; Unbound with
#      serve-expired answers too, and the two answers agree; without EDNS pollux's stale
#      answer carries no OPT.
#
# Runs as root, unattended, in about 40 seconds. Prints 'ok - ...' / 'not ok - ...', then
# 'N passed, M failed'. Everything is torn down at exit unless POLLUX_INET_KEEP=1.

set -u
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export POLLUX_INET_UNBOUND_EXTRA='	serve-expired: yes
	serve-expired-ttl: 86400
	serve-expired-reply-ttl: 30
	serve-expired-client-timeout: 1800
	prefetch: yes'
# shellcheck source-path=SCRIPTDIR source=internet.sh
. "$TEST_DIR/internet.sh"
# shellcheck source-path=SCRIPTDIR source=../tap.sh
. "$TEST_DIR/../tap.sh"

WWW=198.18.12.40
PF=198.18.12.41

finish() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "${POLLUX_INET_KEEP:-0}" = 1 ]; then
		diag "POLLUX_INET_KEEP=1: the lab, the internet and pollux stay up"
	else
		lab_stop >/dev/null 2>&1
		inet_teardown >/dev/null 2>&1 || echo "# warning: teardown reported errors" >&2
	fi
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
trap finish EXIT
trap 'echo "# interrupted"; FAILED=$((FAILED + 1)); exit 1' INT TERM

for t in nsd dig unbound python3; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "prerequisites" "$t is not installed (source tests/deps.sh; px_install_deps)"
		exit 1
	fi
done
lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }

stat_of() { # COUNTER: pollux's total
	lab_ctl stats 2>&1 | awk -v k="total.$1" '$1 == k {print $2}'
}

# ask SERVER NAME [dig options...]: the whole dig output.
ask() {
	local server=$1 name=$2
	shift 2
	lab_cli dig +tries=1 +time=4 "@$server" "$name" A "$@" 2>&1
}

status_of() {
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$1" | head -1
}

# The first answer record's TTL and address.
ttl_of() {
	awk '/^;; ANSWER SECTION:/ {a = 1; next} a && NF >= 5 {print $2; exit}' <<<"$1"
}

addr_of() {
	awk '/^;; ANSWER SECTION:/ {a = 1; next} a && NF >= 5 {print $5; exit}' <<<"$1"
}

# 1. Up: the internet, pollux, Unbound with serve-expired.
if ! inet_up >/dev/null; then
	not_ok "the internet comes up" "see the errors above"
	exit 1
fi
lab_stop >/dev/null 2>&1
if ! lab_start --gateway "$LAB_CLI_IP4" --gateway6 "$LAB_CLI_IP6" --hints "$TEST_DIR/lab.root"; then
	not_ok "pollux starts in the simulated internet" "see its log above"
	exit 1
fi
if ! inet_unbound_start; then
	not_ok "Unbound starts with serve-expired and prefetch" "see the errors above"
	exit 1
fi
ok "the internet, pollux and Unbound (serve-expired, prefetch) are up"

# t0 is taken right after pollux cached pf.stale.test: its entry expires at most 20 s later.
for srv in "$LAB_PX_IP4" "$INET_RES_IP4"; do
	w=$(ask "$srv" www.stale.test)
	p=$(ask "$srv" pf.stale.test)
	[ "$srv" = "$LAB_PX_IP4" ] && t0=$(date +%s.%N)
	check "$srv resolves www.stale.test ($(addr_of "$w")) and pf.stale.test ($(addr_of "$p"))" \
		"$(oneline "$w") / $(oneline "$p")" \
		test "$(addr_of "$w")" = "$WWW" -a "$(addr_of "$p")" = "$PF"
done

# sleep_until SECONDS: until t0 + SECONDS.
sleep_until() {
	local left
	left=$(awk -v t0="$t0" -v s="$1" -v now="$(date +%s.%N)" 'BEGIN {d = t0 + s - now;
		printf "%.3f", (d > 0 ? d : 0)}')
	sleep "$left"
}

# 2. pf.stale.test in the last tenth of its 20 s TTL (18 to 20 s after it was cached).
sleep_until 18.5
pf0=$(stat_of prefetch)
p=$(ask "$LAB_PX_IP4" pf.stale.test)
u=$(ask "$INET_RES_IP4" pf.stale.test)
sleep 0.5 # the refresh's round trip
pf1=$(stat_of prefetch)
check "pf.stale.test near its expiry: pollux answers from the cache (TTL $(ttl_of "$p")) and prefetches ($pf0 -> $pf1)" \
	"$(oneline "$p"), prefetch '$pf0' -> '$pf1'" \
	test "$(addr_of "$p")" = "$PF" -a "${pf1:-0}" -eq $((${pf0:-0} + 1)) -a "$(ttl_of "$p")" -le 2
check "pf.stale.test near its expiry: Unbound answers the same ($(addr_of "$u"))" "$(oneline "$u")" \
	test "$(addr_of "$u")" = "$(addr_of "$p")"

# 3. stale.test's only server goes away.
pid=$(cat "$POLLUX_INET_RUN/nsd/stale/nsd.pid" 2>/dev/null)
if [ -n "$pid" ] && inet_kill_wait "$POLLUX_INET_NS" TERM 5 "$pid"; then
	ok "stale.test's only server (nsd role stale, pid $pid) is stopped"
else
	not_ok "stale.test's only server is stopped" "pid '$pid'"
fi
out=$(lab_cli dig +norec +tries=1 +time=1 @198.18.4.5 stale.test SOA 2>&1)
check "stale.test's server no longer answers" "$(oneline "$out")" \
	eval '! grep -q "status: NOERROR" <<<"$out"'

# 4. Past pf's first expiry: the prefetched entry answers, no miss.
sleep_until 21
hits0=$(stat_of hits)
miss0=$(stat_of misses)
p=$(ask "$LAB_PX_IP4" pf.stale.test)
u=$(ask "$INET_RES_IP4" pf.stale.test)
hits1=$(stat_of hits)
miss1=$(stat_of misses)
check "pf.stale.test after its first expiry: a hit at pollux (hits $hits0 -> $hits1, misses $miss0 -> $miss1), TTL $(ttl_of "$p") from the refresh" \
	"$(oneline "$p")" test "$(addr_of "$p")" = "$PF" -a "${hits1:-0}" -eq $((${hits0:-0} + 1)) \
	-a "${miss1:-x}" = "${miss0:-y}" -a "$(ttl_of "$p")" -gt 10
check "pf.stale.test after its first expiry: Unbound answers the same ($(addr_of "$u"), $(status_of "$u"))" \
	"$(oneline "$u")" test "$(addr_of "$u")" = "$(addr_of "$p")"

# 5. www.stale.test: expired for 19 s, its server gone.
st0=$(stat_of stale_served)
p=$(ask "$LAB_PX_IP4" www.stale.test)
st1=$(stat_of stale_served)
u=$(ask "$INET_RES_IP4" www.stale.test)
check "www.stale.test, server gone: pollux serves the stale answer ($(status_of "$p"), $(addr_of "$p"), TTL $(ttl_of "$p"))" \
	"$(oneline "$p")" test "$(status_of "$p")" = NOERROR -a "$(addr_of "$p")" = "$WWW" \
	-a "$(ttl_of "$p")" = 30
check "the stale answer carries EDE 3 ($(oneline "$(grep -m1 '^; EDE:' <<<"$p")"))" \
	"$(oneline "$p")" grep -q '^; EDE: 3 (Stale Answer)' <<<"$p"
check "stale_served counted it ($st0 -> $st1)" "'$st0' '$st1'" \
	test "${st1:-0}" -eq $((${st0:-0} + 1))
check "Unbound (serve-expired) answers too, the same ($(status_of "$u"), $(addr_of "$u"), TTL $(ttl_of "$u"))" \
	"$(oneline "$u")" test "$(status_of "$u")" = NOERROR -a "$(addr_of "$u")" = "$(addr_of "$p")"
p=$(ask "$LAB_PX_IP4" www.stale.test +noedns)
check "without EDNS the stale answer has no OPT ($(status_of "$p"), $(addr_of "$p"))" \
	"$(oneline "$p")" eval 'test "$(addr_of "$p")" = "$WWW" && ! grep -q "OPT PSEUDOSECTION\|EDE:" <<<"$p"'
