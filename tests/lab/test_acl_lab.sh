#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Access control and per-client rate limiting, end to end in the base lab (tests/lab/lab.sh).
# The client namespace gets extra addresses outside pollux's subnets on its veth (198.19.0.1,
# 198.19.1.1, 198.19.2.1, 2001:2:1::1); pollux answers to a query's source MAC, so replies to
# them come back on the same link. dig -b picks the source.
#   0. a bad rule on the command line or in the file stops pollux at start, saying where and why;
#   1. no rule configured: the start-up log lists the defaults; the --ip subnet is served, a
#      source outside it is REFUSED over UDP (IPv4 and IPv6), saying why with the Extended DNS
#      Error 18 (Prohibited) when the query had EDNS, in an answer at most the option's 6 bytes
#      larger than the query (no larger at all without EDNS, or with dig's cookie), and its TCP
#      connection is closed unanswered; all counted;
#   2. a config file with allow and drop rules: allowed served (UDP, TCP), dropped gets nothing,
#      the rest still refused; polluxctl acl shows FILE:LINE origins and hit counters;
#   3. polluxctl reload applies an edited file at once; SIGHUP too; six reloads while a client
#      asks lose none of its queries; a file with one bad line changes nothing and names the
#      line (polluxctl output and log);
#   4. ratelimit (applied by reload): a client flooding at ~1000 q/s is held to its rate, every
#      second limited query gets a TC answer, and another client meanwhile loses nothing.
#
# Runs as root, unattended, in about 40 seconds. Prints 'ok - ...' / 'not ok - ...', then
# 'N passed, M failed'. The lab is torn down at exit.

set -u
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.sh
. "$TEST_DIR/lab.sh"
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

ZONE=$TEST_DIR/zones/example.test.zone
WWW_A=198.18.1.10
OUT1=198.19.0.1   # allowed by the config file
OUT2=198.19.1.1   # dropped by the config file
OUT3=198.19.2.1   # never configured: refused by default
OUT6=2001:2:1::1
TMP=$(mktemp -d /tmp/pollux-acl-lab.XXXXXX)
CONF=$TMP/pollux.conf

finish() {
	local rc=$?
	trap - EXIT INT TERM
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

q() { # q SOURCE NAME [dig options...]: over UDP, from SOURCE
	local src=$1 name=$2
	shift 2
	local srv=$LAB_PX_IP4
	case $src in *:*) srv=$LAB_PX_IP6 ;; esac
	lab_cli dig +tries=1 +time=1 -b "$src" "@$srv" "$name" A "$@" 2>&1
}

status_of() { # the status of the answer (with +qr dig prints the query's header first)
	awk '/->>HEADER<<-/ {for (i = 1; i <= NF; i++) if ($i == "status:") {s = $(i + 1); sub(",", "", s)}} END {print s}' <<<"$1"
}

stat_of() {
	lab_ctl stats 2>/dev/null | awk -v n="total.$1" '$1 == n {print $2}'
}

# Waits until a query from src gets status want (a reload is applied on the control thread's
# next tick); prints the last dig output.
wait_status() {
	local src=$1 want=$2 out i
	for i in $(seq 1 20); do
		out=$(q "$src" www.example.test)
		[ "$(status_of "$out")" = "$want" ] && break
		sleep 0.1
	done
	printf '%s' "$out"
}

lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }
for t in dig python3; do
	command -v "$t" >/dev/null 2>&1 || { not_ok "prerequisites" "$t is not installed"; exit 1; }
done
# Bad rules stop pollux at start, naming the option or the line (before the EAL: no lab needed).
err=$("$POLLUX_BIN" -- --ip 198.18.0.2/24 --access-control "198.19.0.1/16 allow" 2>&1)
rc=$?
check "a bad --access-control exits non-zero at start, saying why" "exit $rc: $(oneline "$err")" \
	test "$rc" -ne 0 -a -n "$(grep -F "pollux: --access-control: '198.19.0.1/16 allow': '198.19.0.1/16' has host bits set beyond /16" <<<"$err")"
printf 'ip: 198.18.0.2/24\naccess-control: 198.19.0.0/16 allow\naccess-control: 198.19.0.0/16 refuse\n' >"$CONF"
err=$("$POLLUX_BIN" -- --config "$CONF" 2>&1)
rc=$?
check "the same prefix twice with different actions exits non-zero, naming $CONF:3" "exit $rc: $(oneline "$err")" \
	test "$rc" -ne 0 -a -n "$(grep -F "$CONF:3: access-control: '198.19.0.0/16 refuse': the same prefix is 'allow' at $CONF:2" <<<"$err")"
if ! lab_up >/dev/null; then
	not_ok "lab comes up" "see the lab's errors above"
	exit 1
fi
for a in "$OUT1/24" "$OUT2/24" "$OUT3/24"; do
	lab_cli ip addr add "$a" dev "$POLLUX_LAB_IF_CLI"
done
lab_cli ip -6 addr add "$OUT6/64" dev "$POLLUX_LAB_IF_CLI" nodad

# 1. The default: closed.
if ! lab_start --local-zone "$ZONE"; then
	not_ok "pollux starts with no access-control rule" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
ok "pollux starts with no access-control rule (PMD $(lab_pmd))"
check "the log lists what is allowed when no rule is configured" "$(oneline "$(grep access "$LAB_LOG")")" \
	grep -q "198.18.0.0/24 allow  # default (--ip subnet)" "$LAB_LOG"
out=$(q "$LAB_CLI_IP4" www.example.test +short)
check "a client in the --ip subnet is served" "'$out'" test "$out" = "$WWW_A"
refused0=$(stat_of acl_refused)
out=$(q "$OUT3" www.example.test +qr)
sent=$(awk '/QUERY SIZE:/ {print $NF}' <<<"$out")
rcvd=$(awk '/MSG SIZE  rcvd:/ {print $NF}' <<<"$out")
check "a client outside the subnet is REFUSED over UDP" "$(oneline "$out")" \
	test "$(status_of "$out")" = REFUSED
check "the REFUSED answer is no larger than the query with dig's cookie ($rcvd <= $sent bytes)" \
	"$(oneline "$out")" test -n "$rcvd" -a -n "$sent" -a "${rcvd:-999}" -le "${sent:-0}"
check "the REFUSED says why: EDE 18 (Prohibited), no text" "$(oneline "$out")" \
	grep -qx '; EDE: 18 (Prohibited)' <<<"$out"
out=$(q "$OUT3" www.example.test +qr +nocookie)
sent=$(awk '/QUERY SIZE:/ {print $NF}' <<<"$out")
rcvd=$(awk '/MSG SIZE  rcvd:/ {print $NF}' <<<"$out")
check "with a bare OPT the REFUSED is at most the option's 6 bytes larger ($rcvd <= $sent + 6)" \
	"$(oneline "$out")" eval 'test -n "$rcvd" -a -n "$sent" -a "${rcvd:-999}" -le "$((${sent:-0} + 6))" &&
	grep -qx "; EDE: 18 (Prohibited)" <<<"$out"'
out=$(q "$OUT3" www.example.test +qr +noedns)
sent=$(awk '/QUERY SIZE:/ {print $NF}' <<<"$out")
rcvd=$(awk '/MSG SIZE  rcvd:/ {print $NF}' <<<"$out")
check "without EDNS the REFUSED has no OPT and is no larger than the query ($rcvd <= $sent)" \
	"$(oneline "$out")" eval 'test "$(status_of "$out")" = REFUSED -a -n "$rcvd" -a -n "$sent" \
	-a "${rcvd:-999}" -le "${sent:-0}" && ! grep -q "OPT PSEUDOSECTION\|EDE:" <<<"$out"'
out=$(q "$OUT6" www.example.test)
check "an IPv6 client outside --ip6's subnet is REFUSED, EDE 18" "$(oneline "$out")" \
	eval 'test "$(status_of "$out")" = REFUSED && grep -qx "; EDE: 18 (Prohibited)" <<<"$out"'
check "acl_refused counts all four ($refused0 -> $(stat_of acl_refused))" "" \
	test "$(stat_of acl_refused)" -eq $((refused0 + 4))
out=$(q "$OUT3" www.example.test +tcp)
check "over TCP the outside client gets no answer" "$(oneline "$out")" test -z "$(status_of "$out")"
acl=$(lab_ctl acl 2>&1)
check "polluxctl acl counts the refused TCP connection" "$(oneline "$acl")" \
	grep -q "tcp connections: allowed [0-9]*, refused [1-9]" <<<"$acl"
check "polluxctl acl shows the defaults and their hits" "$(oneline "$acl")" \
	grep -Eq "^0\.0\.0\.0/0 +refuse +[1-9][0-9]* +default \(every other source\)" <<<"$acl"
out=$(q "$LAB_CLI_IP4" www.example.test +tcp +short)
check "the subnet's client is served over TCP" "'$out'" test "$out" = "$WWW_A"
lab_stop >/dev/null

# 2. Configured rules, from a file.
cat >"$CONF" <<EOF
# outside clients
access-control: $OUT1/32 allow
access-control: 198.19.1.0/24 drop
EOF
if ! lab_start --local-zone "$ZONE" --config "$CONF"; then
	not_ok "pollux starts with a config file of rules" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
out=$(q "$OUT1" www.example.test +short)
check "an allowed outside client is served over UDP" "'$out'" test "$out" = "$WWW_A"
out=$(q "$OUT1" www.example.test +tcp +short)
check "an allowed outside client is served over TCP" "'$out'" test "$out" = "$WWW_A"
dropped0=$(stat_of acl_dropped)
out=$(q "$OUT2" www.example.test)
check "a dropped client gets no answer at all" "$(oneline "$out")" \
	grep -q "timed out\|no servers could be reached" <<<"$out"
check "acl_dropped counts it" "" test "$(stat_of acl_dropped)" -eq $((dropped0 + 1))
out=$(q "$OUT3" www.example.test)
check "a client no rule names is still refused" "$(oneline "$out")" test "$(status_of "$out")" = REFUSED
acl=$(lab_ctl acl 2>&1)
check "polluxctl acl: $OUT1/32 allow, hits, origin $CONF:2" "$(oneline "$acl")" \
	grep -Eq "^$OUT1/32 +allow +[1-9][0-9]* +$CONF:2$" <<<"$acl"
check "polluxctl acl: 198.19.1.0/24 drop, origin $CONF:3" "$(oneline "$acl")" \
	grep -Eq "^198\.19\.1\.0/24 +drop +1 +$CONF:3$" <<<"$acl"

# 3. Reload: applied at once; a bad file changes nothing.
cat >"$CONF" <<EOF
access-control: $OUT1/32 refuse
access-control: 198.19.1.0/24 allow
EOF
rl=$(lab_ctl reload 2>&1)
check "polluxctl reload succeeds" "$(oneline "$rl")" grep -q "changed: access-control" <<<"$rl"
out=$(wait_status "$OUT2" NOERROR)
check "after reload the once-dropped client is served" "$(oneline "$out")" \
	test "$(status_of "$out")" = NOERROR
out=$(q "$OUT1" www.example.test)
check "after reload the once-allowed client is refused" "$(oneline "$out")" \
	test "$(status_of "$out")" = REFUSED
printf 'access-control: %s/32 allow\n' "$OUT1" >"$CONF"
kill -HUP "$(lab_pid)"
out=$(wait_status "$OUT1" NOERROR)
check "SIGHUP reloads the rules too" "$(oneline "$out")" test "$(status_of "$out")" = NOERROR
# Reloads while a client asks: the swap drops no query.
lab_cli python3 - "$LAB_PX_IP4" >"$TMP/during.out" <<'EOF' &
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 53))
s.settimeout(1.0)
ok = 0
for i in range(300):
    s.send(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) +
           b"\x03www\x07example\x04test\x00\x00\x01\x00\x01")
    try:
        r = s.recv(4096)
        ok += r[:2] == struct.pack(">H", i) and (r[3] & 0x0f) == 0
    except socket.timeout:
        pass
    time.sleep(0.005)
print(ok)
EOF
asker=$!
for i in 1 2 3 4 5 6; do
	printf 'access-control: %s/32 allow\naccess-control: 198.19.%u.0/24 refuse\n' "$OUT1" "$((i + 10))" >"$CONF"
	lab_ctl reload >/dev/null 2>&1
	sleep 0.2
done
wait "$asker"
during=$(cat "$TMP/during.out")
check "six reloads while a client asks 300 queries: all answered" "answered: '$during'" \
	test "$during" = 300
cat >"$CONF" <<EOF
access-control: $OUT1/32 drop
ratelimit: 5
access-control: 198.19.2.1/24 allow
EOF
rl=$(lab_ctl reload 2>&1)
rc=$?
check "a reload with a bad line fails (exit $rc) naming $CONF:3" "$(oneline "$rl")" \
	test "$rc" -ne 0 -a -n "$(grep -F "$CONF:3: access-control: '198.19.2.1/24 allow'" <<<"$rl")"
check "the rejected reload is in the log" "" grep -q "reload_rejected (control): $CONF:3" "$LAB_LOG"
out=$(q "$OUT1" www.example.test)
check "after the bad reload nothing changed: $OUT1 still served" "$(oneline "$out")" \
	test "$(status_of "$out")" = NOERROR
out=$(q "$OUT3" www.example.test)
check "nor refused clients allowed" "$(oneline "$out")" test "$(status_of "$out")" = REFUSED
check "nor the rate limit applied" "$(oneline "$(lab_ctl acl | head -3)")" \
	grep -q "^ratelimit off" <<<"$(lab_ctl acl)"

# 4. Rate limiting, applied by reload: a flooder held to its rate, another client unhurt.
cat >"$CONF" <<EOF
access-control: $OUT1/32 allow
ratelimit: 50
ratelimit-slip: 2
EOF
rl=$(lab_ctl reload 2>&1)
check "reload applies ratelimit" "$(oneline "$rl")" grep -q "changed:.* ratelimit, ratelimit-slip" <<<"$rl"
limited0=$(stat_of ratelimited)
slipped0=$(stat_of ratelimit_slipped)
res=$(lab_cli python3 - "$LAB_PX_IP4" "$OUT1" "$LAB_CLI_IP4" <<'EOF'
import socket, struct, sys, time
srv, flood_src, calm_src = sys.argv[1], sys.argv[2], sys.argv[3]
def query(qid):
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + \
        b"\x03www\x07example\x04test\x00\x00\x01\x00\x01"
flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flood.bind((flood_src, 0))
flood.connect((srv, 53))
flood.setblocking(False)
calm = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
calm.bind((calm_src, 0))
calm.settimeout(1.0)
sent = answers = tc = calm_ok = 0
start = time.monotonic()
next_calm = start
calm_sent = 0
while time.monotonic() - start < 3.0:
    # ~1000 q/s from the flooder
    for _ in range(10):
        flood.send(query(sent & 0xffff))
        sent += 1
    while True:
        try:
            r = flood.recv(4096)
        except BlockingIOError:
            break
        if r[2] & 0x02:
            tc += 1
        else:
            answers += 1
    if time.monotonic() >= next_calm:
        calm.sendto(query(0x7000 + calm_sent), (srv, 53))
        calm_sent += 1
        try:
            r = calm.recv(4096)
            if (r[3] & 0x0f) == 0 and struct.unpack(">H", r[6:8])[0] == 1:
                calm_ok += 1
        except socket.timeout:
            pass
        next_calm += 0.1
    time.sleep(0.01)
time.sleep(0.3)
while True:
    try:
        r = flood.recv(4096)
    except BlockingIOError:
        break
    if r[2] & 0x02:
        tc += 1
    else:
        answers += 1
print(sent, answers, tc, calm_sent, calm_ok)
EOF
)
read -r f_sent f_ans f_tc c_sent c_ok <<<"$res"
diag "flood: sent $f_sent, answered $f_ans, TC $f_tc; other client: $c_ok of $c_sent answered"
# 3 s at 50 q/s plus a burst of 50: at most 200 answers, whatever was sent.
check "the flooder ($f_sent queries in 3 s) is held to its rate: $f_ans answers <= 210" "$res" \
	test "${f_sent:-0}" -gt 600 -a "${f_ans:-999}" -le 210 -a "${f_ans:-0}" -ge 100
check "every second limited query gets a TC answer ($f_tc of $((f_sent - f_ans)))" "$res" \
	test "${f_sent:-0}" -gt 600 -a "${f_tc:-0}" -ge $(((f_sent - f_ans) * 2 / 5)) -a "${f_tc:-0}" -le $(((f_sent - f_ans) / 2 + 1))
check "the other client is unhurt: $c_ok of $c_sent answered" "$res" \
	test "${c_sent:-0}" -ge 20 -a "${c_ok:-0}" -eq "${c_sent:-1}"
check "ratelimited and ratelimit_slipped count it" \
	"ratelimited $limited0 -> $(stat_of ratelimited), slipped $slipped0 -> $(stat_of ratelimit_slipped)" \
	test "${f_sent:-0}" -gt 600 -a "$(stat_of ratelimited)" -ge $((limited0 + f_sent - f_ans - 50)) -a \
	"$(stat_of ratelimit_slipped)" -ge $((slipped0 + f_tc))
