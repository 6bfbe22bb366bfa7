#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# pollux under systemd, without systemd: no service manager runs as PID 1 here, so this test
# plays its part. tests/lab/notify_listener.py binds the socket $NOTIFY_SOCKET names, as
# systemd does, and logs every datagram with the sender's pid (SO_PASSCRED).
#   1. `meson install --destdir` lists the files and `systemd-analyze verify` accepts the
#      installed unit (tests/unit/check_install.sh);
#   2. pollux in the lab with NOTIFY_SOCKET at a path and WATCHDOG_USEC=2 s: READY=1 comes
#      once, and a DNS query sent the moment it arrives is answered; WATCHDOG=1 comes every
#      second;
#   3. polluxctl reload (good and refused) and SIGHUP: each is wrapped in RELOADING=1 (with
#      MONOTONIC_USEC) and READY=1, the STATUS= saying how it went;
#   4. a stuck worker (its thread alone stopped with ptrace, as in test_health_lab.sh): the
#      pings stop within the stall limit, for longer than WATCHDOG_USEC, so systemd would
#      restart pollux; a STATUS= line names the worker; once it runs again the pings resume;
#   5. SIGTERM: STOPPING=1, and pollux exits 0;
#   6. an abstract '@' socket (bound in pollux's network namespace, where abstract names
#      live), with WATCHDOG_PID naming another process: READY=1, and no pings;
#   7. a relative NOTIFY_SOCKET: reported and ignored, pollux serves all the same.
#
# Runs as root, unattended, in about 20 seconds, with the af_packet PMD unless POLLUX_LAB_PMD
# says otherwise (the PMD does not matter here). Prints 'ok - ...' / 'not ok - ...', then
# 'N passed, M failed'.

set -u
export LC_ALL=C
export POLLUX_LAB_PMD=${POLLUX_LAB_PMD:-af_packet}

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.sh
. "$TEST_DIR/lab.sh"
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

TMP=$(mktemp -d /tmp/pollux-systemd-lab.XXXXXX)
chmod 755 "$TMP"
SOCK=$TMP/notify.sock
NLOG=$TMP/notify.log
CONF=$TMP/pollux.conf
LISTENER_PID=
STOP_PID=

finish() {
	local rc=$?
	trap - EXIT INT TERM
	[ -z "$STOP_PID" ] || kill "$STOP_PID" 2>/dev/null
	[ -z "$LISTENER_PID" ] || kill "$LISTENER_PID" 2>/dev/null
	lab_down >/dev/null 2>&1 || echo "# warning: lab teardown reported errors" >&2
	rm -rf "$TMP"
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
trap finish EXIT
trap 'echo "# interrupted"; FAILED=$((FAILED + 1)); exit 1' INT TERM

for t in python3 dig meson systemd-analyze; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "prerequisites" "$t is not installed (source tests/deps.sh; px_install_deps)"
		exit 1
	fi
done
lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }

now() {
	date +%s.%N
}

# count PID REGEX [FROM [TO]]: datagrams from PID whose text matches REGEX, received in
# [FROM, TO) (unix times; the whole log by default).
# The regex goes through the environment: awk -v would turn its "\|" into "|".
count() {
	re=$2 awk -v pid="$1" -v from="${3:-0}" -v to="${4:-1e12}" '
		$2 == pid && $1 >= from && $1 < to {
			m = $0; sub(/^[^ ]+ [^ ]+ /, "", m)
			if (m ~ ENVIRON["re"]) n++
		}
		END { print n + 0 }' "$NLOG"
}

# wait_count SECONDS PID REGEX N: waits until count PID REGEX reaches N.
wait_count() {
	local i=0
	while [ "$(count "$2" "$3")" -lt "$4" ]; do
		[ "$i" -ge $(($1 * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# listen NETNS ADDR [--probe IP]: the notify listener, in NETNS.
listen() {
	local ns=$1 i=0
	shift
	: >"$NLOG"
	ip netns exec "$ns" python3 "$TEST_DIR/notify_listener.py" "$@" "$NLOG" &
	LISTENER_PID=$!
	while ! grep -q LISTENING "$NLOG" 2>/dev/null; do
		[ "$i" -ge 50 ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

unlisten() {
	[ -z "$LISTENER_PID" ] || kill "$LISTENER_PID" 2>/dev/null
	wait "$LISTENER_PID" 2>/dev/null
	LISTENER_PID=
	rm -f "$SOCK"
}

# start VAR=VALUE... -- POLLUX_OPTIONS...: lab_start with the manager's variables exported
# for pollux only (not in a subshell: pollux must stay this shell's child, so that lab_stop
# learns its exit status).
start() {
	local rc
	while [ "$1" != -- ]; do
		export "${1?}"
		shift
	done
	shift
	lab_start "$@" >>"$TMP/lab.log" 2>&1
	rc=$?
	unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID
	return "$rc"
}

worker_tid() { # the worker thread (DPDK names it rte-worker-1)
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

# stop_thread TID SECONDS: stops that one thread (a ptrace seize and interrupt) for SECONDS;
# the tracer's exit lets it run again. The rest of pollux runs on.
stop_thread() {
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

# 1. The install.
out=$("$LAB_ROOT/tests/unit/check_install.sh" "$LAB_ROOT/build" "$LAB_ROOT" 2>&1)
rc=$?
diag "$out"
check "meson install --destdir lists the binaries, man pages, configuration and unit" \
	"$(oneline "$out")" test "$rc" -eq 0
check "systemd-analyze verify accepts the installed unit" "$(oneline "$out")" \
	grep -q '^systemd-analyze verify: accepted$' <<<"$out"

if ! lab_up >/dev/null 2>&1; then
	not_ok "the lab comes up" "$(lab_up 2>&1 | tail -3)"
	exit 1
fi

# 2. Ready, and the watchdog.
cp "$LAB_ROOT/dist/pollux.conf" "$CONF"
if ! listen "$POLLUX_LAB_NS_CLI" "$SOCK" --probe "$LAB_PX_IP4"; then
	not_ok "the notify listener binds $SOCK" "$(cat "$NLOG" 2>/dev/null)"
	exit 1
fi
if ! start NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=2000000 -- --config "$CONF"; then
	not_ok "pollux starts with NOTIFY_SOCKET and WATCHDOG_USEC" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
pid=$(lab_pid)
ok "pollux starts with NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=2000000 (PMD $(lab_pmd), pid $pid)"
wait_count 3 "$pid" '^PROBE ' 1
check "READY=1 comes once, with a STATUS= line" "$(oneline "$(cat "$NLOG")")" \
	test "$(count "$pid" '(^|\|)READY=1(\||$)')" -eq 1 -a \
	"$(count "$pid" '^READY=1\|STATUS=serving on port 0 \(net_af_[a-z]+\) with 1 workers$')" -eq 1
check "a query sent the moment READY=1 arrives is answered" "$(grep PROBE "$NLOG")" \
	test "$(count "$pid" '^PROBE answered ')" -eq 1
check "nothing but READY=1 and pings before the first reload" "$(oneline "$(cat "$NLOG")")" \
	test "$(count "$pid" '.')" -eq "$(($(count "$pid" '^(READY=1\|STATUS=|WATCHDOG=1$|PROBE )')))"
sleep 4.2
pings=$(awk -v pid="$pid" '$2 == pid && $3 == "WATCHDOG=1" {print $1}' "$NLOG")
n=$(wc -w <<<"$pings")
gaps=$(awk 'NR > 1 {printf "%.2f ", $1 - prev} {prev = $1}' <<<"$pings")
check "WATCHDOG=1 every second (half of WATCHDOG_USEC)" "$n pings, gaps $gaps" \
	awk -v n="$n" -v g="$gaps" 'BEGIN {
		k = split(g, a, " "); if (n < 4) exit 1
		for (i = 1; i <= k; i++) if (a[i] < 0.8 || a[i] > 1.3) exit 1 }'

# 3. Reloads.
echo "ratelimit: 1000" >>"$CONF"
lab_ctl reload >"$TMP/r.txt" 2>&1
rc=$?
wait_count 2 "$pid" 'configuration reloaded' 1
check "polluxctl reload: RELOADING=1 with MONOTONIC_USEC, then READY=1, configuration reloaded" \
	"exit $rc: $(oneline "$(grep -v WATCHDOG "$NLOG")")" \
	test "$rc" -eq 0 -a "$(count "$pid" '^RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=reloading')" -eq 1 \
	-a "$(count "$pid" '^READY=1\|STATUS=serving; configuration reloaded$')" -eq 1
# MONOTONIC_USEC is CLOCK_MONOTONIC, which /proc/uptime follows (both exclude suspend).
mono=$(sed -nE "s/^[^ ]+ $pid RELOADING=1\|MONOTONIC_USEC=([0-9]+).*/\1/p" "$NLOG" | tail -1)
up=$(awk '{printf "%.0f", $1 * 1000000}' /proc/uptime)
check "MONOTONIC_USEC is the monotonic clock" "MONOTONIC_USEC=$mono, uptime ${up} us" \
	awk -v m="${mono:-0}" -v u="$up" 'BEGIN {exit !(m > 0 && u - m >= 0 && u - m < 5000000)}'
echo "no-such-key: 1" >>"$CONF"
lab_ctl reload >"$TMP/r.txt" 2>&1
rc=$?
wait_count 2 "$pid" 'reload was refused' 1
check "a refused reload: exit 1, RELOADING=1, then READY=1 saying the old configuration stays" \
	"exit $rc: $(oneline "$(grep -v WATCHDOG "$NLOG")")" \
	test "$rc" -eq 1 -a "$(count "$pid" '^RELOADING=1')" -eq 2 \
	-a "$(count "$pid" '^READY=1\|STATUS=serving; a reload was refused, the previous configuration stays')" -eq 1
sed -i '$d' "$CONF"
kill -HUP "$pid"
wait_count 2 "$pid" '^READY=1' 4
check "SIGHUP: RELOADING=1, then READY=1" "$(oneline "$(grep -v WATCHDOG "$NLOG")")" \
	test "$(count "$pid" '^RELOADING=1')" -eq 3 -a "$(count "$pid" '^READY=1')" -eq 4

# 4. A stuck worker.
tid=$(worker_tid)
check "the worker thread is found" "tid '$tid'" test -n "$tid"
if [ -n "$tid" ]; then
	t_stop=$(now)
	stop_thread "$tid" 5
	sleep 5.3
	wait "$STOP_PID"
	STOP_PID=
	t_run=$(now)
	sleep 2.5
	# The thread stops a moment after t_stop and runs again 5 s after that, before t_run.
	pings=$(awk -v pid="$pid" -v t="$t_stop" '$2 == pid && $3 == "WATCHDOG=1" && $1 >= t - 1 {print $1}' "$NLOG")
	gap=$(awk 'NR > 1 && $1 - prev > g {g = $1 - prev} {prev = $1} END {printf "%.2f", g}' <<<"$pings")
	during=$(count "$pid" '^WATCHDOG=1$' "$(awk -v t="$t_stop" 'BEGIN {printf "%.3f", t + 1.5}')" \
		"$(awk -v t="$t_stop" 'BEGIN {printf "%.3f", t + 4.9}')")
	resumed=$(count "$pid" '^WATCHDOG=1$' "$(awk -v t="$t_stop" 'BEGIN {printf "%.3f", t + 4.9}')" \
		"$(awk -v t="$t_run" 'BEGIN {printf "%.3f", t + 1.2}')")
	check "the worker stopped: no WATCHDOG=1 from 1.5 s on" "$during pings while it was stopped" \
		test "$during" -eq 0
	check "no ping for longer than WATCHDOG_USEC: systemd would restart pollux" \
		"longest gap between pings ${gap} s" awk -v g="$gap" 'BEGIN {exit !(g > 2.0 && g < 7)}'
	check "a STATUS= line names the stuck worker" "$(oneline "$(grep -v WATCHDOG "$NLOG")")" \
		test "$(count "$pid" '^STATUS=worker 0 \(lcore 1\) has not polled for [0-9]+ ms: watchdog pings withheld$')" -eq 1
	check "pollux logs watchdog_withheld" "" grep -q 'watchdog_withheld: worker 0 (lcore 1)' "$LAB_LOG"
	check "the worker runs again: the pings resume at once" "$resumed pings" \
		test "$resumed" -ge 1
	check "and STATUS= says so" "" test "$(count "$pid" '^STATUS=serving: every worker polls again$')" -eq 1
fi

# 5. Shutdown.
lab_stop >/dev/null 2>&1
wait_count 2 "$pid" '^STOPPING=1' 1
check "SIGTERM: STOPPING=1, and pollux exits 0" \
	"exit '$LAB_PX_STATUS': $(oneline "$(grep -v WATCHDOG "$NLOG" | tail -3)")" \
	test "$(count "$pid" '^STOPPING=1\|STATUS=shutting down$')" -eq 1 -a "${LAB_PX_STATUS:-x}" = 0
unlisten

# 6. An abstract socket, and a watchdog meant for another process.
ABSTRACT=@pollux-systemd-lab-$$
if listen "$POLLUX_LAB_NS_PX" "$ABSTRACT" &&
	start NOTIFY_SOCKET="$ABSTRACT" WATCHDOG_USEC=1000000 WATCHDOG_PID=1 --; then
	pid=$(lab_pid)
	wait_count 3 "$pid" '^READY=1' 1
	sleep 1.5
	check "an abstract NOTIFY_SOCKET ($ABSTRACT): READY=1" "$(oneline "$(cat "$NLOG")")" \
		test "$(count "$pid" '^READY=1')" -eq 1
	check "WATCHDOG_PID names another process: no pings" "$(oneline "$(cat "$NLOG")")" \
		test "$(count "$pid" 'WATCHDOG')" -eq 0
	lab_stop >/dev/null 2>&1
	wait_count 2 "$pid" '^STOPPING=1' 1
	check "and STOPPING=1 at the end" "" test "$(count "$pid" '^STOPPING=1')" -eq 1
else
	not_ok "pollux starts with an abstract NOTIFY_SOCKET" "$(oneline "$(tail -5 "$LAB_LOG")")"
fi
unlisten

# 7. A bad NOTIFY_SOCKET.
if start NOTIFY_SOCKET=relative/notify WATCHDOG_USEC=1000000 --; then
	ok "a relative NOTIFY_SOCKET: pollux serves all the same"
	check "and says it ignored it" "$(oneline "$(head -5 "$LAB_LOG")")" \
		grep -q "NOTIFY_SOCKET='relative/notify' ignored: neither an absolute path" "$LAB_LOG"
	lab_stop >/dev/null 2>&1
else
	not_ok "a relative NOTIFY_SOCKET: pollux serves all the same" "$(oneline "$(tail -5 "$LAB_LOG")")"
fi
