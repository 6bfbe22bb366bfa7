#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Crowds of clients at once, through the lab's simulated internet: identical upstream questions
# are asked once, and every upstream qname carries 0x20.
#   1. the internet comes up and pollux starts in the lab (--gateway, --gateway6, lab hints);
#   2. 400 clients ask one uncached name (same.w.z11.test A) within 0.2 s: every one gets
#      NOERROR, and in the capture on pxl-c (upq_overlap.py) no upstream question (server,
#      qname without case, qtype, qclass) was sent while the same one was outstanding (it is
#      asked again once answered, until the answer is in the cache); then 400 clients ask
#      another name all at once (within 10 ms), with the same check;
#   3. 400 clients ask 400 names below z12.test, a zone nobody visited, within 0.2 s: every one
#      gets NOERROR, and again no question was outstanding twice at once (the TLD's referral
#      for z12.test and the sld servers' w.z12.test are shared; asked again only after the
#      last one was answered, until the cut is in the cache);
#   4. the upstream qnames carry 0x20: among the queries captured, most have an upper-case
#      letter, and rec_forged_case stayed 0 (nsd preserves case);
#   5. the counters say the same: rec_up_coalesced counted the queries not sent.
# Prints the upstream query counts of each crowd ('# crowd ...' lines): the figures to compare
# with a build without sharing (POLLUX_BIN=... of that build: its checks 2-5 fail).
#
# Runs as root, unattended, in about 30 seconds. Prints 'ok - ...' / 'not ok - ...', then
# 'N passed, M failed'. Everything is torn down at exit unless POLLUX_INET_KEEP=1.

set -u
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=internet.sh
. "$TEST_DIR/internet.sh"
# shellcheck source-path=SCRIPTDIR source=../tap.sh
. "$TEST_DIR/../tap.sh"

CROWD=${CROWD:-400}

finish() {
	local rc=$?
	trap - EXIT INT TERM
	inet_capture_stop crowd >/dev/null 2>&1
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

for t in nsd tcpdump python3; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "prerequisites" "$t is not installed (source tests/deps.sh; px_install_deps)"
		exit 1
	fi
done
lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }

stat_of() {
	lab_ctl stats 2>&1 | awk -v k="total.$1" '$1 == k {print $2}'
}

# analyze CAPTURE [--name NAME]: upq_overlap.py's 'key value' lines for pollux's queries.
analyze() {
	local cap=$1
	shift
	python3 "$TEST_DIR/upq_overlap.py" "$INET_CAPS/$cap.pcap" --resolver "$LAB_PX_IP4" \
		--resolver "$LAB_PX_IP6" --wait-ms 3000 "$@"
}

val() {
	awk -v k="$1" '$1 == k {print $2}' <<<"$2"
}

# crowd NAME ARGS...: runs the crowd in the client namespace with a capture around it.
crowd() {
	local name=$1 out
	shift
	inet_capture_start "$name" "$POLLUX_LAB_NS_CLI" "$POLLUX_LAB_IF_CLI" || return 1
	out=$(ip netns exec "$POLLUX_LAB_NS_CLI" python3 "$TEST_DIR/crowd.py" \
		--server "$LAB_PX_IP4" --count "$CROWD" "$@" 2>&1)
	# Late queries are part of the picture, and tcpdump hands packets over in blocks that a
	# timeout of 1 s closes: stopping it sooner loses what it holds.
	sleep 2
	inet_capture_stop "$name"
	echo "$out"
}

# 1. Up.
if ! inet_up >/dev/null; then
	not_ok "the internet comes up" "see the errors above"
	exit 1
fi
ok "the internet comes up"
lab_stop >/dev/null 2>&1
if ! lab_start --gateway "$LAB_CLI_IP4" --gateway6 "$LAB_CLI_IP6" \
	--hints "$TEST_DIR/lab.root"; then
	not_ok "pollux starts with --gateway, --gateway6 and the lab's hints" "see its log above"
	exit 1
fi
ok "pollux starts"
# Priming done, so that it does not land in the first crowd's capture.
for _ in $(seq 50); do
	lab_ctl hints 2>/dev/null | grep -qx 'priming: primed' && break
	sleep 0.1
done
sent0=$(stat_of rec_queries_sent)
shared0=$(stat_of rec_up_coalesced)

# 2. One name.
out=$(crowd same --spread 0.2 --same same.w.z11.test)
check "$CROWD clients, one name: every one answered NOERROR ($out)" "$out" \
	grep -q "noerror $CROWD other 0" <<<"$out"
r=$(analyze same --name same.w.z11.test)
diag "crowd same: $(val queries "$r") upstream queries, $(val name_queries "$r") for the name" \
	"itself ($(val name_servers "$r") servers); duplicates outstanding at once:" \
	"$(val outstanding_dups "$r") (at most $(val max_outstanding "$r") of one question)"
check "one name: no upstream question was outstanding twice at once" "$(oneline "$r")" \
	test "$(val outstanding_dups "$r")" = 0
upper=$(val with_upper "$r")
n=$(val queries "$r")

# 2b. One name again, all at once: 400 clients within 10 ms, long before the first answer.
out=$(crowd burst --spread 0.01 --same burst.w.z13.test)
check "$CROWD clients at once, one name: every one answered NOERROR ($out)" "$out" \
	grep -q "noerror $CROWD other 0" <<<"$out"
r=$(analyze burst --name burst.w.z13.test)
diag "crowd burst: $(val queries "$r") upstream queries, $(val name_queries "$r") for the name" \
	"itself ($(val name_servers "$r") servers); duplicates outstanding at once:" \
	"$(val outstanding_dups "$r") (at most $(val max_outstanding "$r") of one question)"
check "one name at once: no upstream question was outstanding twice at once" "$(oneline "$r")" \
	test "$(val outstanding_dups "$r")" = 0
upper=$((upper + $(val with_upper "$r")))
n=$((n + $(val queries "$r")))

# 3. Names below a zone nobody visited.
out=$(crowd below --spread 0.2 --below w.z12.test)
check "$CROWD clients, $CROWD names below z12.test: every one answered NOERROR ($out)" "$out" \
	grep -q "noerror $CROWD other 0" <<<"$out"
r=$(analyze below --name z12.test)
diag "crowd below: $(val queries "$r") upstream queries, $(val name_queries "$r") to the TLD" \
	"servers for z12.test; duplicates outstanding at once: $(val outstanding_dups "$r") (at" \
	"most $(val max_outstanding "$r") of one question)"
check "names below z12.test: no upstream question was outstanding twice at once" \
	"$(oneline "$r")" test "$(val outstanding_dups "$r")" = 0
upper=$((upper + $(val with_upper "$r")))
n=$((n + $(val queries "$r")))

# 4. 0x20.
diag "0x20: $upper of $n upstream qnames have an upper-case letter"
check "upstream qnames carry 0x20 ($upper of $n with an upper-case letter)" "$upper of $n" \
	test "$n" -gt 0 -a $((upper * 10)) -ge $((n * 8))
forged=$(stat_of rec_forged_case)
check "nsd preserves case: no reply failed the 0x20 check (rec_forged_case ${forged:-?})" \
	"rec_forged_case '$forged'" test "${forged:-x}" = 0

# 5. Counters.
sent1=$(stat_of rec_queries_sent)
shared1=$(stat_of rec_up_coalesced)
diag "counters: rec_queries_sent +$((sent1 - sent0)), rec_up_coalesced +$((${shared1:-0} - ${shared0:-0}))"
check "rec_up_coalesced counted the queries not sent (+$((${shared1:-0} - ${shared0:-0})))" \
	"rec_up_coalesced '$shared0' -> '$shared1'" test "${shared1:-0}" -gt "${shared0:-0}"
