#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The health check (polluxctl health, GET /health on the metrics listener), end to end: pollux in
# the lab resolving through the simulated internet (tests/lab/internet/internet.sh), with a
# short --health-resolve-window.
#   1. after start and a resolution, `polluxctl health` prints ok and exits 0, and GET /health
#      answers 200 with ok;
#   2. idle for twice the window, health stays ok: the probe (". NS" when no resolution
#      succeeded for half the window) resolves, counted rec_probe_started;
#   3. a stuck worker: its thread alone is stopped (ptrace, the rest of pollux runs on); within
#      a second health exits 1 naming the worker, and /health answers 503 with the same
#      reason; both are ok again once the thread runs;
#   4. no resolution succeeds: the lab's router stops forwarding (an nftables table of this
#      test's own), and once the window has passed health exits 1 and /health answers 503
#      saying so (the probes fail too); with the table gone, a resolution makes them ok again;
#   5. with pollux gone, `polluxctl health` exits 2 (cannot reach pollux).
#
# Runs as root, unattended, in about 30 seconds. Prints 'ok - ...' / 'not ok - ...', then
# 'N passed, M failed'. Everything is torn down at exit unless POLLUX_INET_KEEP=1.

set -u
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=internet/internet.sh
. "$TEST_DIR/internet/internet.sh"
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

MPORT=9153
URL=http://127.0.0.1:$MPORT
WINDOW=4
TMP=$(mktemp -d /tmp/pollux-health-lab.XXXXXX)
STOP_PID=

finish() {
	local rc=$?
	trap - EXIT INT TERM
	[ -z "$STOP_PID" ] || kill "$STOP_PID" 2>/dev/null
	cut_internet off
	if [ "${POLLUX_INET_KEEP:-0}" = 1 ]; then
		diag "POLLUX_INET_KEEP=1: the lab, the internet and pollux stay up"
	else
		lab_stop >/dev/null 2>&1
		inet_teardown >/dev/null 2>&1 || echo "# warning: teardown reported errors" >&2
	fi
	rm -rf "$TMP"
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
trap finish EXIT
trap 'echo "# interrupted"; FAILED=$((FAILED + 1)); exit 1' INT TERM

for t in nsd dig curl python3 nft; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "prerequisites" "$t is not installed (source tests/deps.sh; px_install_deps)"
		exit 1
	fi
done
lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }

# The router (the client namespace) forwards nothing while this table exists: the routes stay.
NFT_TABLE=pollux_health_lab
cut_internet() { # cut_internet on|off
	if [ "$1" = on ]; then
		lab_cli nft -f - <<-NFT
			table inet $NFT_TABLE {
				chain forward { type filter hook forward priority 0; policy drop; }
			}
		NFT
	else
		lab_cli nft delete table inet "$NFT_TABLE" 2>/dev/null
	fi
}

in_px() {
	ip netns exec "$POLLUX_LAB_NS_PX" "$@"
}

health() { # health: polluxctl health's stdout and stderr in $TMP/h.txt; returns its status
	lab_ctl health >"$TMP/h.txt" 2>&1
}

get_health() { # get_health: the status code; the body in $TMP/g.txt
	in_px curl -sS --max-time 3 -o "$TMP/g.txt" -w '%{http_code}' "$URL/health"
}

resolve() { # resolve NAME: the rcode of a query through pollux
	lab_cli dig +tries=1 +time=3 "@$LAB_PX_IP4" "$1" A 2>&1 |
		awk '/->>HEADER<<-/ {for (i = 1; i <= NF; i++) if ($i == "status:") {s = $(i + 1); sub(",", "", s); print s}}'
}

# Waits up to $1 seconds for `polluxctl health` to exit with status $2.
wait_health() {
	local secs=$1 want=$2 i=0 rc
	while :; do
		health
		rc=$?
		[ "$rc" -eq "$want" ] && return 0
		[ "$i" -ge $((secs * 5)) ] && return 1
		sleep 0.2
		i=$((i + 1))
	done
}

# The worker thread (DPDK names it rte-worker-N), stopped alone: a ptrace seize and
# interrupt stops that one thread, and the tracer's exit lets it run again.
stop_thread() { # stop_thread TID SECONDS
	python3 - "$1" "$2" <<'PY' &
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH = 0x4206, 0x4207, 17
tid = int(sys.argv[1])
if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0 or libc.ptrace(PTRACE_INTERRUPT, tid, None, None) != 0:
    sys.exit("ptrace: " + os.strerror(ctypes.get_errno()))
os.waitpid(tid, 0x40000000)  # __WALL: wait for the thread to stop
time.sleep(float(sys.argv[2]))
libc.ptrace(PTRACE_DETACH, tid, None, None)
PY
	STOP_PID=$!
}

worker_tid() {
	local pid t
	pid=$(lab_pid) || return 1
	for t in /proc/"$pid"/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = rte-worker-1 ]; then
			echo "${t##*/}"
			return 0
		fi
	done
	return 1
}

if ! inet_up >/dev/null; then
	not_ok "the internet comes up" "see the errors above"
	exit 1
fi
ok "the internet comes up"
lab_stop >/dev/null 2>&1
in_px ip link set lo up
if ! lab_start --gateway "$LAB_CLI_IP4" --gateway6 "$LAB_CLI_IP6" \
	--hints "$TEST_DIR/internet/lab.root" --metrics-listen "127.0.0.1:$MPORT" \
	--health-resolve-window "$WINDOW"; then
	not_ok "pollux starts" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
ok "pollux starts with --health-resolve-window $WINDOW (PMD $(lab_pmd))"

# 1. Healthy.
rc=$(resolve www.z1.test)
check "a name resolves through the internet" "rcode '$rc'" test "$rc" = NOERROR
wait_health 3 0
health
rc=$?
check "polluxctl health prints ok and exits 0" "exit $rc: $(oneline "$(cat "$TMP/h.txt")")" \
	test "$rc" -eq 0 -a "$(cat "$TMP/h.txt")" = ok
st=$(get_health)
check "GET /health answers 200 with ok" "status $st: $(oneline "$(cat "$TMP/g.txt")")" \
	test "$st" = 200 -a "$(cat "$TMP/g.txt")" = ok

# 2. Idle: the probe keeps proving resolution works.
sleep $((WINDOW * 2))
health
rc=$?
probe_count=$(lab_ctl stats | awk '$1 == "total.rec_probe_started" {print $2}')
check "idle for $((WINDOW * 2)) s: the probe resolved, health still ok" \
	"exit $rc, probes '$probe_count': $(oneline "$(cat "$TMP/h.txt")")" \
	test "$rc" -eq 0 -a "${probe_count:-0}" -ge 1

# 3. A stuck worker.
tid=$(worker_tid)
check "the worker thread is found" "tid '$tid'" test -n "$tid"
if [ -n "$tid" ]; then
	stop_thread "$tid" 3
	sleep 1.6
	health
	rc=$?
	check "a stopped worker thread: polluxctl health exits 1 naming it" \
		"exit $rc: $(oneline "$(cat "$TMP/h.txt")")" \
		test "$rc" -eq 1 -a -n "$(grep -E '^worker 0 \(lcore 1\) has not polled for [0-9]+ ms \(stuck or descheduled\)$' "$TMP/h.txt")"
	st=$(get_health)
	check "GET /health answers 503 with the same reason" "status $st: $(oneline "$(cat "$TMP/g.txt")")" \
		test "$st" = 503 -a -n "$(grep -E '^worker 0 \(lcore 1\) has not polled' "$TMP/g.txt")"
	wait "$STOP_PID"
	STOP_PID=
	wait_health 3 0
	health
	rc=$?
	check "the worker polls again: health ok" "exit $rc: $(oneline "$(cat "$TMP/h.txt")")" \
		test "$rc" -eq 0
fi

# 4. No resolution succeeds: the internet is cut off behind the lab's router.
cut_internet on
rc=$(resolve www.z2.test)
check "with the internet cut off a new name fails" "rcode '$rc'" test "$rc" != NOERROR
wait_health $((WINDOW * 3)) 1
health
rc=$?
check "no resolution for the window: polluxctl health exits 1 saying so" \
	"exit $rc: $(oneline "$(cat "$TMP/h.txt")")" \
	test "$rc" -eq 1 -a -n "$(grep -E "^no resolution has succeeded for [0-9]+ s \(window $WINDOW s\)$" "$TMP/h.txt")"
st=$(get_health)
check "GET /health answers 503 saying so" "status $st: $(oneline "$(cat "$TMP/g.txt")")" \
	test "$st" = 503 -a -n "$(grep '^no resolution has succeeded' "$TMP/g.txt")"
check "the listener counted the answers" "" \
	test -n "$(in_px curl -sS --max-time 3 "$URL/metrics" | grep -E '^pollux_metrics_health_failed_total [1-9]')"
cut_internet off
# The servers that timed out are held down for a while: ask fresh names until one resolves.
for n in 3 5 6 7 8 9 10 11; do
	rc=$(resolve "www.z$n.test")
	[ "$rc" = NOERROR ] && break
	sleep 1
done
wait_health 5 0
health
hrc=$?
check "the internet back: a resolution, and health ok again" \
	"rcode '$rc', exit $hrc: $(oneline "$(cat "$TMP/h.txt")")" test "$rc" = NOERROR -a "$hrc" -eq 0

# 5. Nobody there.
lab_stop >/dev/null 2>&1
health
rc=$?
check "pollux stopped: polluxctl health exits 2" "exit $rc: $(oneline "$(cat "$TMP/h.txt")")" \
	test "$rc" -eq 2
