#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test of --vlan: the real pollux on the lab's veth (tests/lab/lab.sh) with
# --vlan 100, queried by tests/lab/vlan_client.py, which writes and reads whole 802.1Q frames on
# the client's end of the pair through a raw socket. The lab's kernel has no 8021q module and
# cannot make a VLAN-filtering bridge, so no kernel interface can be the tagged client.
#
# Checked, once per PMD: a tagged ARP request gets a tagged reply with pollux's MAC; tagged DNS
# queries over UDP get tagged answers from the local zone; DNS over TCP works through the
# exception path (the kernel's SYN-ACK and answer come back tagged); a query sent untagged,
# with another VLAN ID, or inside an 802.1ad S-tag gets no answer, and the drop counters of
# `polluxctl stats` move. Both PMDs are run unless POLLUX_LAB_PMD names one: net_af_xdp, which
# offloads nothing (the workers tag and untag in software), and net_af_packet, which advertises
# VLAN strip and insert (done by the PMD from the kernel's packet metadata).
#
# Prints one 'ok - ...' or 'not ok - ...' line per assertion, then 'N passed, M failed'; exits
# non-zero if anything failed. The lab is torn down at exit. Run as root, under the lab lock.

# shellcheck disable=SC2016

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.sh
. "$TEST_DIR/lab.sh"
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

ZONE=$TEST_DIR/zones/example.test.zone
VID=100
CLIENT="$TEST_DIR/vlan_client.py"

finish() {
	local rc=$?
	trap - EXIT INT TERM
	lab_down >/dev/null 2>&1 || echo "# warning: lab teardown reported errors" >&2
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
trap finish EXIT
trap 'echo "# interrupted"; FAILED=$((FAILED + 1)); exit 1' INT TERM

px_mac() {
	ip netns exec "$POLLUX_LAB_NS_PX" cat "/sys/class/net/$POLLUX_LAB_IF_PX/address"
}

vc() { # vc VID COMMAND ARGS...: vlan_client.py on the client's end
	local vid=$1
	shift
	lab_cli python3 "$CLIENT" "$POLLUX_LAB_IF_CLI" "$vid" "$@" 2>&1
}

# lab_start waits for pollux to answer a query: with --vlan only a tagged one can.
lab_answers() {
	lab_ctl status >/dev/null 2>&1 &&
		vc "$VID" dns "$LAB_CLI_IP4" "$LAB_PX_IP4" "$(px_mac)" lab-probe.invalid A >/dev/null
}

stat_of() { # stat_of NAME: a total counter of the running pollux
	lab_ctl stats 2>/dev/null | awk -v n="total.$1" '$1 == n {print $2; f = 1} END {if (!f) print -1}'
}

run_pmd() {
	local pmd=$1 mac out before after
	echo "# PMD $pmd"
	if ! lab_up; then
		not_ok "$pmd: lab up" "see above"
		return
	fi
	if ! POLLUX_LAB_PMD=$pmd lab_start --local-zone "$ZONE" --vlan "$VID"; then
		not_ok "$pmd: pollux --vlan $VID starts and answers a tagged query" "see the log above"
		return
	fi
	ok "$pmd: pollux --vlan $VID starts and answers a tagged query"
	diag "$(grep -o 'VLAN [0-9]*: tag .*' "$LAB_LOG")"
	mac=$(px_mac)

	out=$(vc "$VID" arp "$LAB_CLI_IP4" "$LAB_PX_IP4")
	check "$pmd: tagged ARP request answered, tagged, with pollux's MAC" "$(oneline "$out")" \
		test "$out" = "$mac"

	out=$(vc "$VID" dns "$LAB_CLI_IP4" "$LAB_PX_IP4" "$mac" www.example.test A)
	check "$pmd: tagged UDP query answered tagged (A)" "$(oneline "$out")" \
		test "$out" = $'rcode 0\nA 198.18.1.10'
	out=$(vc "$VID" dns "$LAB_CLI_IP4" "$LAB_PX_IP4" "$mac" www.example.test AAAA)
	check "$pmd: tagged UDP query answered tagged (AAAA)" "$(oneline "$out")" \
		test "$out" = $'rcode 0\nAAAA 2001:2:0:1::10'
	out=$(vc "$VID" dns "$LAB_CLI_IP4" "$LAB_PX_IP4" "$mac" nope.example.test A)
	check "$pmd: tagged UDP query for a missing name: NXDOMAIN, tagged" "$(oneline "$out")" \
		test "$out" = "rcode 3"

	before=$(stat_of tcp_to_kernel)
	out=$(vc "$VID" tcp "$LAB_CLI_IP4" "$LAB_PX_IP4" "$mac" www.example.test A)
	after=$(stat_of tcp_to_kernel)
	check "$pmd: DNS over TCP through the exception path, every segment tagged" \
		"$(oneline "$out")" test "$out" = $'rcode 0\nA 198.18.1.10'
	check "$pmd: the TCP segments went to the kernel untagged (tcp_to_kernel moved)" \
		"$before -> $after" test "$after" -ge $((before + 3))

	before=$(stat_of drop_vlan_untagged)
	out=$(vc "$VID" silent "$LAB_CLI_IP4" "$LAB_PX_IP4" "$mac" www.example.test A --untagged)
	out=$out$(vc "$VID" silent "$LAB_CLI_IP4" "$LAB_PX_IP4" "$mac" www.example.test A --untagged)
	after=$(stat_of drop_vlan_untagged)
	check "$pmd: untagged queries get no answer" "$(oneline "$out")" \
		test "$out" = "no replyno reply"
	check "$pmd: ... and count in drop_vlan_untagged" "$before -> $after" \
		test "$after" -ge $((before + 2))

	before=$(stat_of drop_vlan_id)
	out=$(vc 200 silent "$LAB_CLI_IP4" "$LAB_PX_IP4" "$mac" www.example.test A)
	after=$(stat_of drop_vlan_id)
	check "$pmd: a query tagged VLAN 200 gets no answer, counted in drop_vlan_id" \
		"$(oneline "$out"); $before -> $after" test "$out" = "no reply" -a "$after" -gt "$before"

	before=$(stat_of drop_vlan_double)
	out=$(vc "$VID" silent "$LAB_CLI_IP4" "$LAB_PX_IP4" "$mac" www.example.test A --qinq)
	after=$(stat_of drop_vlan_double)
	check "$pmd: a QinQ query (802.1ad outer tag) gets no answer, counted in drop_vlan_double" \
		"$(oneline "$out"); $before -> $after" test "$out" = "no reply" -a "$after" -gt "$before"

	out=$(vc "$VID" dns "$LAB_CLI_IP4" "$LAB_PX_IP4" "$mac" www.example.test A)
	check "$pmd: still answering tagged queries" "$(oneline "$out")" \
		test "$out" = $'rcode 0\nA 198.18.1.10'
	check "$pmd: no frame lost for want of room for the tag (drop_vlan_tx 0)" \
		"$(stat_of drop_vlan_tx)" test "$(stat_of drop_vlan_tx)" = 0
	lab_stop
}

lab_require_root || exit 1
command -v python3 >/dev/null || {
	not_ok "python3 present" "apt-get install python3"
	exit 1
}
case $POLLUX_LAB_PMD in
af_xdp | af_packet) pmds=$POLLUX_LAB_PMD ;;
*) pmds="af_xdp af_packet" ;;
esac
for pmd in $pmds; do
	run_pmd "$pmd"
done
