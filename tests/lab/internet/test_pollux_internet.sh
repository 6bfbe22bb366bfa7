#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# pollux resolving through the lab's simulated internet (issue 4, UDP step):
#   1. the internet comes up (internet.sh) and pollux starts in the lab with --gateway,
#      --gateway6, the lab's root hints and a local zone;
#   2. every line of questions.txt is asked of pollux (ask.py --expect correct, --fast-ms 100):
#      the rcode and answer must be the correct ones, and the 'fast' lines (no usable
#      nameserver) must be answered within 100 ms;
#   3. a capture on pxlab-cli's pxl-c (every upstream packet of pollux crosses it) holds not
#      one DNS packet to an invalid address (0.0.0.0/8, 127/8, 224/3 which holds 240/4 and
#      255.255.255.255, ::, ::1, ff00::/8, ::ffff:0:0/96), and pollux did query over IPv6;
#   4. www.allbad.test gets SERVFAIL in under 100 ms, where Unbound never answers;
#   5. the local zone still answers, and a client over IPv6 is resolved for too;
#   6. an answer resolved once is cached: asked again it is a hit, with a lower TTL;
#   7. big.z7.test (TC over UDP upstream) was asked again over TCP and answered.
#
# Differences from Unbound 1.17.1 that are deliberate (questions.txt's 'unbound' column):
#   - www.allbad.test A/AAAA: pollux answers SERVFAIL at once (every glue address fails the
#     address policy: nothing to send to); Unbound sends to 0.0.0.0 and :: and its client times
#     out.
#   - www.silent.test A: pollux answers SERVFAIL when its resolution deadline or its servers run
#     out; Unbound's client times out.
# The 'tcp' lines (big.z7.test TXT: over 1232 bytes) need TCP upstream: the server's UDP reply
# has TC and pollux asks it again over TCP (dataplane/dp_tcp.h); the client (dig) gets TC over
# UDP and asks pollux again over TCP. They must be answered correctly like every other line, and
# step 7 checks the retry really went over TCP. Answers are cached (step 6), delegations not yet: every resolution starts at the root hints.
#
# Runs as root, unattended, in about 20 seconds. Prints 'ok - ...' / 'not ok - ...', then
# 'N passed, M failed'. Everything is torn down at exit unless POLLUX_INET_KEEP=1.

set -u
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=internet.sh
. "$TEST_DIR/internet.sh"
# shellcheck source-path=SCRIPTDIR source=../tap.sh
. "$TEST_DIR/../tap.sh"

QUESTIONS=$TEST_DIR/questions.txt
FAST_MS=100
RESULTS=$POLLUX_INET_RUN/pollux.results

finish() {
	local rc=$?
	trap - EXIT INT TERM
	inet_capture_stop px >/dev/null 2>&1
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

for t in nsd tcpdump dig python3; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "prerequisites" "$t is not installed (source tests/deps.sh; px_install_deps)"
		exit 1
	fi
done
lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }

# 1. Up.
if ! inet_up >/dev/null; then
	not_ok "the internet comes up" "see the errors above"
	exit 1
fi
ok "the internet comes up"
lab_stop >/dev/null 2>&1
if ! lab_start --gateway "$LAB_CLI_IP4" --gateway6 "$LAB_CLI_IP6" \
	--hints "$TEST_DIR/lab.root" --local-zone "$LAB_DIR/zones/example.test.zone"; then
	not_ok "pollux starts with --gateway, --gateway6 and the lab's hints" "see its log above"
	exit 1
fi
ok "pollux starts with --gateway $LAB_CLI_IP4 --gateway6 $LAB_CLI_IP6 and the lab's hints"

inet_capture_start px "$POLLUX_LAB_NS_CLI" "$POLLUX_LAB_IF_CLI" ||
	not_ok "capture on $POLLUX_LAB_NS_CLI/$POLLUX_LAB_IF_CLI starts" "tcpdump failed"

# 2. Every question.
diag "questions.txt against pollux (ask.py --expect correct --fast-ms $FAST_MS):"
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*)
		FAILED=$((FAILED + 1))
		echo "$line"
		;;
	"ask: "*) diag "$line" ;;
	*) echo "$line" ;;
	esac
done < <(ip netns exec "$POLLUX_LAB_NS_CLI" python3 "$TEST_DIR/ask.py" --server "$LAB_PX_IP4" \
	--expect correct --timeout 3 --slow-s 10 --fast-ms "$FAST_MS" --results "$RESULTS" \
	"$QUESTIONS" 2>&1)
nq=$(grep -cv '^\s*\(#\|$\)' "$QUESTIONS")
nr=$(wc -l <"$RESULTS" 2>/dev/null || echo 0)
check "every question was asked ($nr of $nq)" "$nr results" test "$nr" = "$nq"
# 7. The TC retry went over TCP: pollux asked a server again over TCP and got its reply.
tcp=$(lab_ctl tcp 2>&1)
asked=$(lab_ctl stats 2>&1 | awk '$1 == "total.tcp_up_asked" {print $2}')
upok=$(awk '$1 == "tcp.up_ok" {print $2}' <<<"$tcp")
check "truncated upstream replies were asked again over TCP ($asked) and answered ($upok)" \
	"tcp_up_asked '$asked', tcp.up_ok '$upok'" test "${asked:-0}" -gt 0 -a "${upok:-0}" -gt 0

# 4. allbad.test: SERVFAIL, fast, on its own (nothing cached helps: there is no cache yet).
out=$(lab_cli dig +tries=1 +time=3 "@$LAB_PX_IP4" fresh.allbad.test A 2>&1)
st=$(awk '/->>HEADER<<-/ {for (i = 1; i <= NF; i++) if ($i == "status:") {s = $(i + 1); sub(",", "", s); print s}}' <<<"$out")
qt=$(sed -n 's/^;; Query time: \([0-9]*\) msec.*/\1/p' <<<"$out")
check "fresh.allbad.test A: SERVFAIL in ${qt:-?} ms (< $FAST_MS ms; Unbound never answers)" \
	"status '$st', time '${qt:-none}'" test "$st" = SERVFAIL -a "${qt:-99999}" -lt "$FAST_MS"

# 5. The local zone, and a client over IPv6.
out=$(lab_cli dig +tries=1 +time=2 "@$LAB_PX_IP4" nonexistent.example.test A 2>&1)
check "the local zone still answers NXDOMAIN itself" "$(oneline "$(grep HEADER <<<"$out")")" \
	grep -q "status: NXDOMAIN" <<<"$out"
out=$(lab_cli dig +tries=1 +time=3 "@$LAB_PX_IP6" www.z5.test AAAA +short 2>&1)
check "a client over IPv6: www.z5.test AAAA resolved" "'$out'" test "$out" = 2001:2:0:100::5

# 6. What was resolved is cached: asked again, www.z3.test is a hit with a TTL that only went
# down, answered without a single upstream query.
out1=$(lab_cli dig +tries=1 +time=3 "@$LAB_PX_IP4" www.z3.test A +noall +answer 2>&1)
sleep 1.2 # the control thread drains the cache feed every 20 ms; let a second pass
hits0=$(lab_ctl stats 2>&1 | awk '$1 == "total.hits" {print $2}')
sent0=$(lab_ctl stats 2>&1 | awk '$1 == "total.rec_queries_sent" {print $2}')
out2=$(lab_cli dig +tries=1 +time=3 "@$LAB_PX_IP4" www.z3.test A +noall +answer 2>&1)
hits1=$(lab_ctl stats 2>&1 | awk '$1 == "total.hits" {print $2}')
sent1=$(lab_ctl stats 2>&1 | awk '$1 == "total.rec_queries_sent" {print $2}')
ttl1=$(awk '{print $2; exit}' <<<"$out1")
ttl2=$(awk '{print $2; exit}' <<<"$out2")
check "asked again, www.z3.test is answered from the cache (hits $hits0 -> $hits1, no upstream query)" \
	"first '$(oneline "$out1")', second '$(oneline "$out2")', queries sent $sent0 -> $sent1" \
	test "${hits1:-0}" -eq $((${hits0:-0} + 1)) -a "${sent1:-x}" = "${sent0:-y}" \
	-a "$(awk '{print $5; exit}' <<<"$out2")" = "$(awk '{print $5; exit}' <<<"$out1")"
check "the cached answer's TTL counts down ($ttl1 then $ttl2)" "'$ttl1' '$ttl2'" \
	test -n "$ttl1" -a -n "$ttl2" -a "${ttl2:-99999999}" -lt "${ttl1:-0}"

# 3. The capture.
inet_capture_stop px
dests=$(inet_capture_dests px)
diag "DNS queries pollux sent across $POLLUX_LAB_NS_CLI/$POLLUX_LAB_IF_CLI, per destination:" \
	"$(tr '\n' ',' <<<"$dests" | sed 's/,$//; s/,/, /g')"
bad=$(inet_capture_invalid px)
check "not one DNS packet to an invalid address on $POLLUX_LAB_IF_CLI" \
	"$(wc -l <<<"$bad") packets, e.g. $(oneline "$(head -3 <<<"$bad")")" test -z "$bad"
check "pollux queried nameservers over IPv6 too" "$(oneline "$dests")" \
	grep -q ' 2001:2:' <<<"$dests"
sent=$(awk -v a="$LAB_PX_IP4" -v b="$LAB_PX_IP6" '$2 != a && $2 != b {s += $1} END {print s + 0}' <<<"$dests")
check "the capture saw pollux's upstream queries ($sent)" "$sent" test "$sent" -gt 20

stats=$(lab_ctl stats 2>&1)
diag "pollux counters (total, non-zero, rec_* and resp_*):" \
	"$(grep -E '^total\.(rec_|resp_)' <<<"$stats" | grep -v ' 0$' | sed 's/^total\.//' | tr '\n' ' ')"
rej=$(grep -E '^total\.rec_send_rejected_' <<<"$stats" | awk '{s += $2} END {print s + 0}')
check "no server address reached the send-time policy check only to be rejected ($rej)" \
	"$rej" test "$rej" = 0
