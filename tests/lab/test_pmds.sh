#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# pollux on ethdevs other than the lab's default (net_af_xdp, tested by test_lab.sh):
#   - net_pcap: queries replayed from a pcap file, answers written to another and checked with
#     tcpdump (no network at all);
#   - net_tap: pollux in a namespace of its own behind a tap device, queried by the kernel side;
#   - net_af_packet: the lab's veth, forced to the fallback PMD.
# Prints 'ok - ...' / 'not ok - ...' per assertion and 'N passed, M failed'; runs as root.

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.sh
. "$TEST_DIR/lab.sh"

ZONE=$TEST_DIR/zones/example.test.zone
TMP=$(mktemp -d /tmp/pollux-pmds.XXXXXX)
TAP_NS=pxpmd-tap
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

finish() {
	trap - EXIT INT TERM
	ip netns pids "$TAP_NS" 2>/dev/null | xargs -r kill -TERM 2>/dev/null
	sleep 0.5
	ip netns del "$TAP_NS" 2>/dev/null
	lab_down >/dev/null 2>&1
	rm -rf "$TMP"
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit
}
trap finish EXIT
trap 'exit 1' INT TERM

lab_require_root || exit 1
lab_require_bins || exit 1

# --- net_pcap: four queries in, four answers out ---------------------------------------------
python3 - "$TMP/in.pcap" "$TEST_DIR/../fuzz" <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[2])
import make_seeds as ms
# Broadcast destination: the pcap PMD's MAC is its own choice, and pollux takes broadcast
# frames to its IP address.
qs = [ms.udp4(ms.query("www.example.test")), ms.udp4(ms.query("nope.example.test")),
      ms.udp4(ms.query("www.elsewhere.test")), ms.udp6(ms.query("www.example.test", 28)),
      ms.udp4(ms.query("x.test", qd=2)), b"\xff" * 6 + b"\x02" * 6]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, fr in enumerate(qs):
        fr = b"\xff" * 6 + fr[6:]
        f.write(struct.pack("<IIII", 1700000000, i, len(fr), len(fr)) + fr)
PY
# --tcp off here and for net_tap below: this pollux runs in the root namespace (the TCP exception
# path would add its interface and rules there), and the tap's client is the kernel of pollux's
# own namespace, for which the tun would make pollux's address a local one (README, "TCP").
timeout -s TERM 5 "$POLLUX_BIN" -l 0,1 --no-huge -m 512 --no-pci --no-telemetry \
	--file-prefix pxpmd-pcap --vdev "net_pcap0,rx_pcap=$TMP/in.pcap,tx_pcap=$TMP/out.pcap" -- \
	--ip 198.18.0.2/24 --ip6 2001:2::2/64 --local-zone "$ZONE" --control "$TMP/pcap.sock" \
	--idle-sleep-us 1000 --tcp off >"$TMP/pcap.log" 2>&1
st=$?
# timeout's 124 means pollux ran until it was told to stop, which is what a daemon does.
if [ "$st" -eq 124 ] || [ "$st" -eq 0 ]; then
	ok "net_pcap: pollux ran on the pcap PMD and stopped on SIGTERM"
else
	not_ok "net_pcap: pollux ran on the pcap PMD" "exit $st: $(tail -3 "$TMP/pcap.log" | tr '\n' '|')"
fi
out=$(tcpdump -nr "$TMP/out.pcap" 2>/dev/null)
expect_line() {
	if printf '%s\n' "$out" | grep -Eq "$2"; then ok "net_pcap: $1"; else
		not_ok "net_pcap: $1" "tcpdump: $(printf '%s' "$out" | tr '\n' '|')"; fi
}
expect_line "A answer for www.example.test" '198\.18\.0\.2\.53 > 198\.18\.0\.1\.40000: 4660\* 1/0/1 A 198\.18\.1\.10'
expect_line "NXDOMAIN for nope.example.test" '4660 NXDomain\* 0/1/1'
expect_line "SERVFAIL outside the local zones" '4660 ServFail 0/0/1'
expect_line "AAAA answer over IPv6" '2001:2::2\.53 > 2001:2::1\.40000: 4660\* 1/0/1 AAAA'
expect_line "FORMERR for qdcount 2" '4660 FormErr'
n=$(printf '%s\n' "$out" | grep -c . || true)
if [ "$n" -eq 5 ]; then ok "net_pcap: five answers, the runt frame dropped"; else
	not_ok "net_pcap: five answers, the runt frame dropped" "$n packets out"; fi

# --- net_tap: the kernel side of a tap device asks ---------------------------------------------
ip netns del "$TAP_NS" 2>/dev/null
ip netns add "$TAP_NS"
ip netns exec "$TAP_NS" "$POLLUX_BIN" -l 0,1 --no-huge -m 512 --no-pci --no-telemetry \
	--file-prefix pxpmd-tap --vdev net_tap0,iface=pxtap0 -- --ip 198.18.7.2/24 \
	--local-zone "$ZONE" --control "$TMP/tap.sock" --idle-sleep-us 100 --tcp off \
	>"$TMP/tap.log" 2>&1 &
tap_ok=false
for _ in $(seq 1 50); do
	if ip netns exec "$TAP_NS" ip link show pxtap0 >/dev/null 2>&1; then tap_ok=true; break; fi
	sleep 0.1
done
if $tap_ok; then
	ip netns exec "$TAP_NS" ip addr add 198.18.7.1/24 dev pxtap0
	ip netns exec "$TAP_NS" ip link set pxtap0 up
	ans=""
	for _ in $(seq 1 20); do
		ans=$(ip netns exec "$TAP_NS" dig +tries=1 +time=1 +short @198.18.7.2 www.example.test A 2>/dev/null)
		[ "$ans" = 198.18.1.10 ] && break
		sleep 0.2
	done
	if [ "$ans" = 198.18.1.10 ]; then ok "net_tap: dig through the tap gets the local-zone answer"; else
		not_ok "net_tap: dig through the tap gets the local-zone answer" "got '$ans'; log: $(tail -3 "$TMP/tap.log" | tr '\n' '|')"; fi
else
	not_ok "net_tap: the tap device appears" "log: $(tail -3 "$TMP/tap.log" | tr '\n' '|')"
fi

# --- net_af_packet: the lab's veth with the fallback PMD ---------------------------------------
if lab_up >/dev/null 2>&1 && POLLUX_LAB_PMD=af_packet lab_start --local-zone "$ZONE" >/dev/null 2>&1; then
	ans=$(lab_cli dig +tries=1 +time=2 +short @198.18.0.2 www.example.test A)
	if [ "$ans" = 198.18.1.10 ]; then ok "net_af_packet: dig over the veth gets the answer"; else
		not_ok "net_af_packet: dig over the veth gets the answer" "got '$ans'"; fi
else
	not_ok "net_af_packet: pollux starts on the lab veth" "see $POLLUX_LAB_RUN"
fi
