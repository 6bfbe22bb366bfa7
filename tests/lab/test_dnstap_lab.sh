#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dnstap query logging, end to end: pollux in the lab resolving through the simulated internet
# (tests/lab/internet/internet.sh), its dnstap read back with BIND's dnstap-read.
#   0. an unwritable --dnstap path stops pollux at start naming the option, and in a config
#      file naming the file and line;
#   1. to a file, every message type on: a name resolved through the internet (UDP), the same
#      name again (a cache hit), another over TCP and one over IPv6; polluxctl stats counts the
#      records (dnstap_logged, none dropped); pollux stops cleanly on SIGTERM and the file,
#      flushed at shutdown, holds one frame per record: the client queries and responses (UDP
#      and TCP, IPv4 and IPv6, with the client's address and port), and the resolver's queries
#      and replies for the lab's names to the lab's servers (dnstap-read, and dnstap-read -y
#      for the fields);
#   2. to a Unix socket, with fstrm_capture (Debian's fstrm-bin) as the collector and only
#      client queries logged, 1 in 4: the collector starts after pollux (pollux connects when it
#      appears), 8 queries give 2 frames, and the capture ends cleanly when pollux stops;
#   3. a reload moves the log to another file and switches the responses off: the first file
#      holds what came before (query and response), the second only the query that came after.
#
# Runs as root, unattended, in about 40 seconds. Prints 'ok - ...' / 'not ok - ...', then
# 'N passed, M failed'. Everything is torn down at exit unless POLLUX_INET_KEEP=1.

set -u
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=internet/internet.sh
. "$TEST_DIR/internet/internet.sh"
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

TMP=$(mktemp -d /tmp/pollux-dnstap-lab.XXXXXX)
CAP_PID=

finish() {
	local rc=$?
	trap - EXIT INT TERM
	[ -z "$CAP_PID" ] || kill "$CAP_PID" 2>/dev/null
	if [ "${POLLUX_INET_KEEP:-0}" = 1 ]; then
		diag "POLLUX_INET_KEEP=1: the lab, the internet and pollux stay up; files in $TMP"
	else
		lab_stop >/dev/null 2>&1
		inet_teardown >/dev/null 2>"$TMP/teardown.err" ||
			{ echo "# warning: teardown reported errors:"; sed 's/^/#   /' "$TMP/teardown.err"; } >&2
		rm -rf "$TMP"
	fi
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
trap finish EXIT
trap 'echo "# interrupted"; FAILED=$((FAILED + 1)); exit 1' INT TERM

for t in nsd dig dnstap-read fstrm_capture python3; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "prerequisites" "$t is not installed (source tests/deps.sh; px_install_deps)"
		exit 1
	fi
done
lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }

ask() { # ask SERVER NAME TYPE [dig options...]: the rcode
	local srv=$1 name=$2 type=$3
	shift 3
	lab_cli dig +tries=1 +time=3 "$@" "@$srv" "$name" "$type" 2>&1 |
		awk '/->>HEADER<<-/ {for (i = 1; i <= NF; i++) if ($i == "status:") {s = $(i + 1); sub(",", "", s); print s}}'
}

stat_total() { # stat_total NAME: the total of one counter
	lab_ctl stats | awk -v n="total.$1" '$1 == n {print $2}'
}

# Stops pollux with SIGTERM, as an operator would; returns its exit status (0: clean).
stop_pollux() {
	local pid
	pid=$(lab_pid) || return 1
	lab_kill_wait "$pid" 10
	rm -f "$LAB_PIDFILE" "$LAB_PMDFILE"
	[ "${LAB_PX_STATUS:-1}" -eq 0 ]
}

# 0. Refused at start, before the EAL: no lab needed.
err=$("$POLLUX_BIN" -- --ip 198.18.0.2/24 --dnstap /nonexistent-pollux/q.dnstap 2>&1)
rc=$?
check "an unwritable --dnstap path exits non-zero at start, naming the option" \
	"exit $rc: $(oneline "$err")" test "$rc" -ne 0 -a \
	-n "$(grep -F "pollux: --dnstap: '/nonexistent-pollux/q.dnstap': cannot be created in '/nonexistent-pollux'" <<<"$err")"
printf 'ip: 198.18.0.2/24\n# query logging\ndnstap: %s\n' "$TMP" >"$TMP/bad.conf"
err=$("$POLLUX_BIN" -- --config "$TMP/bad.conf" 2>&1)
rc=$?
check "a directory as dnstap in a config file exits non-zero, naming the file and line" \
	"exit $rc: $(oneline "$err")" test "$rc" -ne 0 -a \
	-n "$(grep -F "pollux: $TMP/bad.conf:3: dnstap: '$TMP': is a directory, not a file" <<<"$err")"

if ! inet_up >/dev/null; then
	not_ok "the internet comes up" "see the errors above"
	exit 1
fi
ok "the internet comes up"
lab_stop >/dev/null 2>&1
START=(--gateway "$LAB_CLI_IP4" --gateway6 "$LAB_CLI_IP6" --hints "$TEST_DIR/internet/lab.root")

# 1. To a file, every type.
FILE=$TMP/pollux.dnstap
if ! lab_start "${START[@]}" --dnstap "$FILE" --dnstap-log-resolver-query-messages yes \
	--dnstap-log-resolver-response-messages yes; then
	not_ok "pollux starts with --dnstap FILE" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
ok "pollux starts with --dnstap $FILE (PMD $(lab_pmd))"
r1=$(ask "$LAB_PX_IP4" www.z1.test A)
r2=$(ask "$LAB_PX_IP4" www.z1.test A)
r3=$(ask "$LAB_PX_IP4" mail.z1.test A +tcp)
r4=$(ask "$LAB_PX_IP6" www.z2.test AAAA)
check "the lab's names resolve (UDP, again from the cache, TCP, IPv6)" "rcodes $r1 $r2 $r3 $r4" \
	test "$r1 $r2 $r3 $r4" = "NOERROR NOERROR NOERROR NOERROR"
logged=$(stat_total dnstap_logged)
dropped=$(stat_total dnstap_dropped)
check "polluxctl stats counts the records ($logged logged, $dropped dropped)" "" \
	test "${logged:-0}" -ge 16 -a "${dropped:-1}" = 0
stop_pollux
rc=$?
check "pollux stops cleanly on SIGTERM" "status ${LAB_PX_STATUS:-?}: $(oneline "$(tail -3 "$LAB_LOG")")" \
	test "$rc" -eq 0
check "the logging thread wrote every record out at shutdown" "$(oneline "$(grep dnstap "$LAB_LOG")")" \
	grep -q "dnstap: $logged frames written, 0 lost" "$LAB_LOG"

dnstap-read "$FILE" >"$TMP/read.txt" 2>"$TMP/read.err"
rc=$?
check "dnstap-read decodes the file ($(wc -l <"$TMP/read.txt") messages)" \
	"exit $rc: $(oneline "$(head -3 "$TMP/read.err")")" \
	test "$rc" -eq 0 -a "$(wc -l <"$TMP/read.txt")" = "$logged"
has() { # has PATTERN DESCRIPTION: one line of dnstap-read's at least matches (extended regex)
	check "$2" "$(oneline "$(head -12 "$TMP/read.txt")")" grep -Eqi -- "$1" "$TMP/read.txt"
}
C4=${LAB_CLI_IP4//./\\.}
P4=${LAB_PX_IP4//./\\.}
has " CQ $C4:[0-9]+ -> $P4:53 UDP [0-9]+b www\.z1\.test/IN/A$" \
	"CLIENT_QUERY over UDP from the client's address and port for www.z1.test A"
check "two client queries and two responses for www.z1.test A (the resolved one, the cache hit)" \
	"$(grep -ci ' CQ .*www\.z1\.test/IN/A$' "$TMP/read.txt") CQ, $(grep -ci ' CR .*www\.z1\.test/IN/A$' "$TMP/read.txt") CR" \
	test "$(grep -ci " CQ $C4:[0-9]* -> $P4:53 UDP .*www\.z1\.test/IN/A$" "$TMP/read.txt")" = 2 -a \
	"$(grep -ci " CR $C4:[0-9]* <- $P4:53 UDP .*www\.z1\.test/IN/A$" "$TMP/read.txt")" = 2
# Upstream, pollux uses either family: its own address, then a server's of the same family.
PXA="($P4|$LAB_PX_IP6)"
Z1NS="(198\.18\.3\.[12]|2001:2:0:3::[12])"
ROOT="(198\.18\.1\.[12]|2001:2:0:1::[12])"
has " RQ $PXA:[0-9]+ -> $Z1NS:53 UDP [0-9]+b www\.z1\.test/IN/A$" \
	"RESOLVER_QUERY for www.z1.test A to one of its servers, from pollux's address and port"
has " RR $PXA:[0-9]+ <- $Z1NS:53 UDP [0-9]+b www\.z1\.test/IN/A$" \
	"RESOLVER_RESPONSE for www.z1.test A from one of its servers"
has " RQ $PXA:[0-9]+ -> $ROOT:53 UDP " "RESOLVER_QUERY to a root server of the lab"
has " CQ $C4:[0-9]+ -> $P4:53 TCP [0-9]+b mail\.z1\.test/IN/A$" "CLIENT_QUERY over TCP for mail.z1.test A"
has " CR $C4:[0-9]+ <- $P4:53 TCP [0-9]+b mail\.z1\.test/IN/A$" "CLIENT_RESPONSE over TCP"
has " CQ \[?$LAB_CLI_IP6\]?[:.][0-9]+ -> \[?$LAB_PX_IP6\]?[:.]53 UDP [0-9]+b www\.z2\.test/IN/AAAA$" \
	"CLIENT_QUERY over IPv6 for www.z2.test AAAA"

# The fields, as dnstap-read -y prints them: one YAML document per message.
dnstap-read -y "$FILE" >"$TMP/read.yaml" 2>&1
out=$(python3 - "$TMP/read.yaml" <<'PY'
import calendar, re, socket, sys, time
docs = open(sys.argv[1]).read().split("\n---")
def field(d, k):
    m = re.search(r"^[ \t]+%s: (.*)$" % k, d, re.M)
    return m.group(1).strip().strip('"') if m else None
def near_now(t):  # "!!timestamp 2026-12-07T09:04:58Z", within ten minutes of now
    m = re.match(r"!!timestamp (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", t or "")
    return m is not None and abs(calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) - time.time()) < 600
ok = []
for d in docs:
    if field(d, "type") != "CLIENT_RESPONSE" or "www.z1.test." not in d.lower():
        continue
    if (re.search(r"^identity: %s$" % re.escape(socket.gethostname()), d, re.M)
            and re.search(r"^version: pollux ", d, re.M)
            and field(d, "socket_family") == "INET" and field(d, "socket_protocol") == "UDP"
            and field(d, "query_address") == "198.18.0.1"
            and field(d, "response_address") == "198.18.0.2"
            and field(d, "response_port") == "53"
            and near_now(field(d, "response_time"))
            and "status: NOERROR" in d and "198.19.0.1" in d):
        ok.append(d)
print(len(ok))
PY
)
check "dnstap-read -y: a CLIENT_RESPONSE with identity, version, family, protocol, addresses, the time (now) and the answer 198.19.0.1" \
	"$out matching documents; $(oneline "$(head -40 "$TMP/read.yaml")")" test "${out:-0}" -ge 1

# 2. To a Unix socket, sampled: the collector comes up after pollux.
SOCK=$TMP/tap.sock
CAP=$TMP/capture.dnstap
if ! lab_start "${START[@]}" --dnstap-socket "$SOCK" --dnstap-sample 4 \
	--dnstap-log-client-response-messages no; then
	not_ok "pollux starts with --dnstap-socket and no collector yet" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
ok "pollux starts with --dnstap-socket $SOCK before any collector listens"
fstrm_capture -t protobuf:dnstap.Dnstap -u "$SOCK" -w "$CAP" >"$TMP/capture.log" 2>&1 &
CAP_PID=$!
# pollux tries the socket again every second.
sleep 2.5
# The lab's start-up probes were client queries too: the first of them was logged (the first
# of each type always is), and the count goes on from there.
q0=$(stat_total queries)
rcs=
want=()
for i in 1 2 3 4 5 6 7 8; do
	rcs="$rcs $(ask "$LAB_PX_IP4" "q$i.w.z3.test" A)"
	[ $(((q0 + i - 1) % 4)) -eq 0 ] && want+=("q$i")
done
check "8 queries answered" "rcodes$rcs" test "$rcs" = "$(printf ' NOERROR%.0s' 1 2 3 4 5 6 7 8)"
logged=$(stat_total dnstap_logged)
check "1 in 4 client queries logged: the first probe, then ${want[*]}" \
	"dnstap_logged $logged after $q0 probes" test "${logged:-0}" = $((1 + ${#want[@]}))
stop_pollux
rc=$?
check "pollux stops cleanly with the collector connected" "status ${LAB_PX_STATUS:-?}" test "$rc" -eq 0
# The collector finishes its file when the writer ends the stream; give it a moment, then stop it.
sleep 0.5
kill -INT "$CAP_PID" 2>/dev/null
wait "$CAP_PID" 2>/dev/null
CAP_PID=
dnstap-read "$CAP" >"$TMP/cap.txt" 2>&1
rc=$?
got=$(grep -o " CQ $C4:[0-9]* -> $P4:53 UDP [0-9]*b q[0-9]\.w\.z3\.test/IN/A$" "$TMP/cap.txt" |
	sed 's/.* \(q[0-9]\)\..*/\1/' | tr '\n' ' ')
check "fstrm_capture's file decodes: the probe logged before it connected, then ${want[*]}, no responses" \
	"exit $rc, got '$got': $(oneline "$(cat "$TMP/cap.txt")") | capture: $(oneline "$(tail -3 "$TMP/capture.log")")" \
	test "$rc" -eq 0 -a "$got" = "${want[*]} " -a "$(wc -l <"$TMP/cap.txt")" = "$logged" -a \
	"$(grep -c ' CR ' "$TMP/cap.txt")" = 0

# 3. A reload: another file, responses off.
F1=$TMP/before.dnstap
F2=$TMP/after.dnstap
printf '# dnstap reload\ndnstap: %s\n' "$F1" >"$TMP/reload.conf"
if ! lab_start "${START[@]}" --config "$TMP/reload.conf"; then
	not_ok "pollux starts with dnstap in a config file" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
r1=$(ask "$LAB_PX_IP4" before.w.z3.test A)
printf '# dnstap reload\ndnstap: %s\ndnstap-log-client-response-messages: no\n' "$F2" \
	>"$TMP/reload.conf"
rl=$(lab_ctl reload 2>&1)
check "polluxctl reload applies the dnstap change" "$(oneline "$rl")" \
	grep -q 'changed: .*dnstap' <<<"$rl"
r2=$(ask "$LAB_PX_IP4" after.w.z3.test A)
check "answers before and after the reload" "rcodes $r1 $r2" test "$r1 $r2" = "NOERROR NOERROR"
stop_pollux
dnstap-read "$F1" >"$TMP/f1.txt" 2>&1
dnstap-read "$F2" >"$TMP/f2.txt" 2>&1
check "the first file holds the query and response before the reload, nothing after" \
	"$(oneline "$(grep z3 "$TMP/f1.txt")")" \
	test "$(grep -c ' CQ .* before\.w\.z3\.test/IN/A$' "$TMP/f1.txt")" = 1 -a \
	"$(grep -c ' CR .* before\.w\.z3\.test/IN/A$' "$TMP/f1.txt")" = 1 -a \
	"$(grep -c 'after\.w\.z3' "$TMP/f1.txt")" = 0
check "the second file holds the query after the reload, and no response" \
	"$(oneline "$(cat "$TMP/f2.txt")")" \
	test "$(grep -c ' CQ .* after\.w\.z3\.test/IN/A$' "$TMP/f2.txt")" = 1 -a \
	"$(grep -c ' CR ' "$TMP/f2.txt")" = 0
