#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The README's demo: pollux on a veth in a network namespace, answering dig from another
# namespace out of the lab's local zone and resolving, from the lab's root servers, names of the
# simulated internet (tests/lab/internet: nsd root, TLD and SLD servers). Needs root, nsd and a
# built pollux (POLLUX_BIN, POLLUXCTL_BIN, POLLUX_LAB_PMD and the rest as in tests/lab/lab.sh).
# Everything is removed at exit.

set -eu

DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=internet/internet.sh
. "$DEMO_DIR/internet/internet.sh"

cleanup() {
	trap - EXIT INT TERM
	inet_teardown >/dev/null 2>&1 || echo "demo: warning: the lab teardown reported errors" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

caption() {
	printf '\n==> %s\n' "$*"
}

show() {
	printf '$ %s\n' "$*"
	"$@"
}

# dig in the client namespace, short of its banner and statistics.
ask() {
	printf '%s$ dig %s\n' "$POLLUX_LAB_NS_CLI" "$*"
	lab_cli dig +tries=1 +time=2 +nocmd +nostats "$@"
}

caption "Setting up the lab: namespaces $POLLUX_LAB_NS_CLI and $POLLUX_LAB_NS_PX, veth $POLLUX_LAB_IF_CLI/$POLLUX_LAB_IF_PX, and the simulated internet behind $POLLUX_LAB_NS_CLI (nsd root, TLD and SLD servers)"
inet_up >/dev/null
caption "Starting pollux with the local zone example.test, the lab's root hints and $LAB_CLI_IP4 as its gateway"
lab_start --local-zone "$DEMO_DIR/zones/example.test.zone" --hints "$DEMO_DIR/internet/lab.root" \
	--gateway "$LAB_CLI_IP4" --gateway6 "$LAB_CLI_IP6"
echo "pollux drives $POLLUX_LAB_IF_PX through DPDK's net_$(lab_pmd) PMD"

caption "An A record from the local zone, over IPv4 (note the aa flag)"
ask "@$LAB_PX_IP4" www.example.test A

caption "An AAAA record, asked over IPv6"
ask "@$LAB_PX_IP6" www.example.test AAAA

caption "A CNAME chain, answered whole: alias -> alias2 -> www"
ask "@$LAB_PX_IP4" alias.example.test A

caption "A name that does not exist in the zone: NXDOMAIN with the zone's SOA"
ask "@$LAB_PX_IP4" nope.example.test A

caption "A name outside the local zone, resolved from the lab's root servers (no aa: not ours)"
ask "@$LAB_PX_IP4" www.z1.test A
caption "A CNAME chain across zones, resolved whole: x.z2.test -> y.z3.test -> www.z4.test"
ask "@$LAB_PX_IP4" x.z2.test A
caption "Asked again: answered from the cache, the TTL counting down"
sleep 1
ask "@$LAB_PX_IP4" x.z2.test A
caption "A delegation whose every nameserver address is invalid (0.0.0.0, 224.0.0.1, ::, ...): SERVFAIL at once, nothing sent"
ask "@$LAB_PX_IP4" www.allbad.test A

caption "polluxctl status"
show "$POLLUXCTL_BIN" -s "$LAB_SOCK" status

caption "polluxctl stats (totals, counters that moved)"
printf '$ %s\n' "$POLLUXCTL_BIN -s $LAB_SOCK stats | grep '^total\\.' | grep -v ' 0\$'"
lab_ctl stats | grep '^total\.' | grep -v ' 0$' | grep -Ev '^total\.(idle_polls|busy_cycles) '

caption "Stopping pollux and removing the lab"
lab_stop
inet_teardown >/dev/null
echo "done"
