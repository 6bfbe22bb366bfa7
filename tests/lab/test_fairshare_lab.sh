#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A client flooding a silent zone does not starve another client (the fair share of the
# resolver, include/pollux/share.h, and the jostle, dataplane/dp_miss_share.c). In the lab's
# simulated internet (internet/internet.sh), two clients with their own addresses on the client
# side (198.18.0.11 floods, 198.18.0.10 is the victim) query pollux at once for FAIRSHARE_S
# seconds (tests/lab/fairshare.py):
#   - the flooder: FAIRSHARE_RATE (3000) queries a second for random names under silent.test,
#     whose only server (198.18.4.3, 2001:2:0:4::3) never answers;
#   - the victim: a fresh name every 100 ms under the healthy zones' wildcards (*.w.zN.test),
#     every one a cache miss.
# Three runs, pollux restarted for each:
#   1. defaults (a cap of resolver-slots/8 per client, jostle on): every one of the victim's
#      questions is answered NOERROR, and the flooder was capped (rec_client_capped);
#   2. --resolver-slots-per-client 0 --resolver-jostle-ms 0 (no protection at all): the flood
#      fills every slot and the victim gets SERVFAIL (the starvation the cap prevents). Checked
#      only when the flooder reached the rate needed to fill the slots on this machine;
#   3. --resolver-slots-per-client 0 with the jostle on: the victim's misses take the place of
#      the oldest resolutions stuck on the silent server (rec_jostled), and are all answered.
# The figures of every run are printed as diagnostics.
#
# Runs as root, under the lab lock (flock /tmp/pollux-lab.lock), in about 70 seconds. Prints
# 'ok - ...' / 'not ok - ...', then 'N passed, M failed'. Everything is torn down at exit
# unless POLLUX_INET_KEEP=1.

set -u
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=internet/internet.sh
. "$TEST_DIR/internet/internet.sh"
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

FAIRSHARE_S=${FAIRSHARE_S:-10}
FAIRSHARE_RATE=${FAIRSHARE_RATE:-3000}
VICTIM_IP4=198.18.0.10
FLOOD_IP4=198.18.0.11
# A silent resolution lives until its deadline (3 s): the rate that keeps this many pending.
SLOTS=4096
DEADLINE_S=3

finish() {
	local rc=$?
	trap - EXIT INT TERM
	ip -n "$POLLUX_LAB_NS_CLI" addr del "$VICTIM_IP4/$LAB_IP4_LEN" dev "$POLLUX_LAB_IF_CLI" \
		>/dev/null 2>&1
	ip -n "$POLLUX_LAB_NS_CLI" addr del "$FLOOD_IP4/$LAB_IP4_LEN" dev "$POLLUX_LAB_IF_CLI" \
		>/dev/null 2>&1
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

for t in nsd dig python3; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "prerequisites" "$t is not installed (source tests/deps.sh; px_install_deps)"
		exit 1
	fi
done
lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }

if ! inet_up >/dev/null; then
	not_ok "the internet comes up" "see the errors above"
	exit 1
fi
ok "the internet comes up"
for a in "$VICTIM_IP4" "$FLOOD_IP4"; do
	ip -n "$POLLUX_LAB_NS_CLI" addr replace "$a/$LAB_IP4_LEN" dev "$POLLUX_LAB_IF_CLI" || {
		not_ok "client address $a on $POLLUX_LAB_NS_CLI" "ip addr failed"
		exit 1
	}
done

# The value of key=VALUE in a line of fairshare.py's output.
field() {
	sed -n "s/.*\b$2=\([0-9]*\).*/\1/p" <<<"$1"
}

pstat() {
	lab_ctl stats 2>&1 | awk -v k="total.$1" '$1 == k {print $2}'
}

# run NAME [POLLUX OPTIONS...]: starts pollux with the options, floods, and leaves the two
# clients' lines in FLOOD and VICTIM (and pollux running, for its counters).
run() {
	local name=$1 out
	shift
	diag "$name: starting pollux at $(date +%T)"
	lab_stop >/dev/null 2>&1
	if ! lab_start --gateway "$LAB_CLI_IP4" --gateway6 "$LAB_CLI_IP6" \
		--hints "$TEST_DIR/internet/lab.root" "$@"; then
		not_ok "$name: pollux starts" "see its log above"
		return 1
	fi
	# One question first: the root is primed and silent.test's delegation cached, as on a
	# resolver that has been up for a while.
	lab_cli dig +tries=1 +time=4 "@$LAB_PX_IP4" warm.silent.test A >/dev/null 2>&1
	diag "$name: clients start at $(date +%T)"
	out=$(lab_cli python3 "$TEST_DIR/fairshare.py" --server "$LAB_PX_IP4" \
		--flood-src "$FLOOD_IP4" --victim-src "$VICTIM_IP4" --rate "$FAIRSHARE_RATE" \
		--duration "$FAIRSHARE_S" 2>&1)
	FLOOD=$(grep '^flood ' <<<"$out")
	VICTIM=$(grep '^victim ' <<<"$out")
	if [ -z "$FLOOD" ] || [ -z "$VICTIM" ]; then
		not_ok "$name: the clients ran" "$(oneline "$out")"
		return 1
	fi
	diag "$name: $FLOOD" "$name: $VICTIM" \
		"$name: rec_client_capped $(pstat rec_client_capped) rec_jostled $(pstat rec_jostled)" \
		"$name: rec_no_client_slot $(pstat rec_no_client_slot) rec_started $(pstat rec_started)"
}

# 1. Defaults.
if run "defaults"; then
	vs=$(field "$VICTIM" sent)
	vok=$(field "$VICTIM" noerror)
	check "defaults: all $vs of the victim's misses answered NOERROR while the flood ran ($vok)" \
		"$VICTIM" test "${vs:-0}" -ge $((FAIRSHARE_S * 8)) -a "${vok:-0}" = "${vs:-x}"
	capped=$(pstat rec_client_capped)
	check "defaults: the flooder was held to its share (rec_client_capped $capped)" \
		"rec_client_capped '$capped'" test "${capped:-0}" -gt 0
fi

# 2. No cap, no jostle: the starvation.
if run "unprotected" --resolver-slots-per-client 0 --resolver-jostle-ms 0; then
	rate=$(field "$FLOOD" rate)
	vs=$(field "$VICTIM" sent)
	vok=$(field "$VICTIM" noerror)
	vsf=$(field "$VICTIM" servfail)
	if [ "${rate:-0}" -ge $((SLOTS / DEADLINE_S + SLOTS / 10)) ]; then
		check "unprotected: the flood starves the victim ($vsf of $vs SERVFAIL, $vok answered)" \
			"$VICTIM" test "${vsf:-0}" -gt 0 -a "${vok:-0}" -lt "${vs:-0}"
		noslot=$(pstat rec_no_client_slot)
		check "unprotected: misses were refused for want of a slot ($noslot)" \
			"rec_no_client_slot '$noslot'" test "${noslot:-0}" -gt 0
	else
		diag "unprotected: the flooder reached $rate queries/s here, too few to fill $SLOTS" \
			"slots held ${DEADLINE_S} s each: the starvation check is skipped"
	fi
fi

# 3. No cap, the jostle alone.
if run "jostle only" --resolver-slots-per-client 0; then
	vs=$(field "$VICTIM" sent)
	vok=$(field "$VICTIM" noerror)
	check "jostle only: all $vs of the victim's misses answered NOERROR ($vok)" "$VICTIM" \
		test "${vs:-0}" -ge $((FAIRSHARE_S * 8)) -a "${vok:-0}" = "${vs:-x}"
	rate=$(field "$FLOOD" rate)
	jostled=$(pstat rec_jostled)
	if [ "${rate:-0}" -ge $((SLOTS / DEADLINE_S + SLOTS / 10)) ]; then
		check "jostle only: resolutions stuck on the silent server made room ($jostled)" \
			"rec_jostled '$jostled'" test "${jostled:-0}" -gt 0
	fi
fi
