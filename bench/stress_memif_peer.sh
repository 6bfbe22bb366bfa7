#!/usr/bin/env bash
# Does pollux survive its net_memif peer going away? Each cycle starts bench/gen_memif as the memif
# server (as bench/run_memif.sh does), pollux as the client (-l 0-1 --main-lcore 0, a local zone,
# recursion off), waits until queries flow, then, after a random 0-0.99 s, kills one of the two
# with SIGKILL or SIGTERM (chosen at random) in the middle of the load:
#   --kill peer    the generator dies; pollux must still be running 1 s later and must then
#                  exit 0 on SIGTERM within 10 s (a death by signal is a crash, a timeout a hang).
#   --kill pollux  pollux dies (SIGTERM: it must exit 0 within 10 s); the generator must not
#                  crash meanwhile.
#   --kill peer --keep-pollux   one pollux across all cycles: each new generator must get
#                  answers within 10 s (pollux restarts its port when a memif peer goes away,
#                  README "net_memif"), or the cycle counts as hung; a pollux that died is counted
#                  and started again for the next cycle.
#
# Why this exists: net_memif tears a connection down on the EAL interrupt thread (the control
# socket reads EOF or a DISCONNECT message: memif_disconnect() clears the CONNECTED flag, zeroes
# the run parameters and munmaps the shared regions) with no handshake with the lcores polling the
# port. A worker already inside rte_eth_rx_burst or rte_eth_tx_burst then touches unmapped memory
# and the process dies with SIGSEGV in librte_net_memif. This script counts how often.
#
# Usage: bench/stress_memif_peer.sh [--cycles N] [--kill peer|pollux] [--keep-pollux]
#                                   [--build DIR] [--keep-logs]
#   --build DIR: where pollux and gen_memif were built (default build); an ASan build works too.
# Prints one line per failed cycle and a summary; exits 1 when any cycle crashed, hung or exited
# wrongly, 0 otherwise. Run as root (hugepages). Core dumps go wherever
# /proc/sys/kernel/core_pattern says (with `ulimit -c unlimited` in the calling shell).
set -uo pipefail
cd "$(dirname "$0")/.."

cycles=50 kill_who=peer build=build keep=no keep_px=no
while [ $# -gt 0 ]; do
	case $1 in
	--cycles) cycles=$2; shift 2 ;;
	--kill) kill_who=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--keep-logs) keep=yes; shift ;;
	--keep-pollux) keep_px=yes; shift ;;
	-h | --help) sed -n '2,32p' "$0"; exit 0 ;;
	*) echo "stress_memif_peer.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
	esac
done
case $cycles in '' | *[!0-9]*) echo "stress_memif_peer.sh: --cycles takes a number" >&2; exit 2 ;; esac
case $kill_who in peer | pollux) ;; *) echo "stress_memif_peer.sh: --kill peer|pollux" >&2; exit 2 ;; esac
[ "$keep_px" = no ] || [ "$kill_who" = peer ] ||
	{ echo "stress_memif_peer.sh: --keep-pollux goes with --kill peer" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "stress_memif_peer.sh: run as root (hugepages, DPDK)" >&2; exit 1; }
gen=$build/bench/gen_memif pollux=$build/control/pollux ctl=$build/control/polluxctl
for b in "$gen" "$pollux" "$ctl"; do
	[ -x "$b" ] || { echo "stress_memif_peer.sh: $b was not built" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/pxstress.XXXXXX)
tag=pxstress$$
gp= pp=
cleanup() {
	local p
	for p in $gp $pp; do kill -KILL "$p" 2>/dev/null || true; done
	for p in $gp $pp; do wait "$p" 2>/dev/null || true; done
	if [ "$keep" = yes ]; then echo "logs kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Each process takes 512 MB at most: hugepages when enough are free, 4 KB pages otherwise.
free_mb=$(awk '/HugePages_Free/ {f = $2} /Hugepagesize/ {s = $2} END {print int(f * s / 1024)}' \
	/proc/meminfo)
if [ "$free_mb" -ge 1024 ]; then mem=(--in-memory -m 512); else mem=(--no-huge --no-shconf -m 512); fi
eal=(--no-pci --no-telemetry "${mem[@]}")
sock=$tmp/memif.sock
zone=$tmp/bench.zone
{
	printf '$ORIGIN bench.example.\n$TTL 3600\n'
	printf '@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 198.18.0.2\n'
	awk 'BEGIN { for (i = 0; i < 1000; i++)
		printf "host%d IN A 198.19.%d.%d\n", i, int(i / 256), i % 256 }'
} >"$zone"

# Waits up to 10 s for a process to end; returns 1 (still running) if it does not.
wait_gone() {
	local i
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# The total.rx_pkts pollux reports, or 0.
rx_pkts() {
	"$ctl" -s "$tmp/ctl.sock" stats 2>/dev/null | awk '$1 == "total.rx_pkts" {r = $2} END {print r + 0}'
}

start_pollux() {
	rm -f "$tmp/ctl.sock"
	"$pollux" -l 0-1 --main-lcore 0 --file-prefix "$tag-px" "${eal[@]}" \
		--vdev "net_memif0,role=client,id=0,socket=$sock,socket-abstract=no" -- \
		--ip 198.18.0.2/24 --local-zone "$zone" --control "$tmp/ctl.sock" \
		--cache-size 65536 --recursion no --tcp off >"$tmp/pollux.$1.log" 2>&1 &
	pp=$!
}

crashed=0 hung=0 bad=0 ok=0 noload=0
for c in $(seq "$cycles"); do
	rm -f "$sock"
	"$gen" -l 0 --file-prefix "$tag-gen" "${eal[@]}" \
		--vdev "net_memif0,role=server,id=0,socket=$sock,socket-abstract=no" -- --mode dns \
		--dst-ip 198.18.0.2 --src-ip 198.18.0.1 --names 1000 --a-base 198.19.0.0 \
		--window 512 --seconds 60 --warmup 0 --link-wait 20 >"$tmp/gen.out" 2>"$tmp/gen.err" &
	gp=$!
	for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	[ -n "$pp" ] || start_pollux "$c"
	rx0=$(rx_pkts) rx=0
	for i in $(seq 200); do
		rx=$(($(rx_pkts) - rx0))
		[ "$rx" -gt 1000 ] && break
		kill -0 "$pp" 2>/dev/null || break
		sleep 0.05
	done
	if [ "$rx" -le 1000 ]; then
		noload=$((noload + 1))
		if [ "$keep_px" = yes ] && kill -0 "$pp" 2>/dev/null; then
			echo "cycle $c: no answers from the running pollux within 10 s of a new peer"
			hung=$((hung + 1))
		fi
	fi
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	sig=TERM
	[ $((RANDOM % 2)) -eq 0 ] && sig=KILL
	fail=
	if [ "$kill_who" = peer ]; then
		kill -s "$sig" "$gp"
		wait "$gp" 2>/dev/null
		gp=
		sleep 1 # an ASan build takes a while to print a report before it exits
		if ! kill -0 "$pp" 2>/dev/null; then
			wait "$pp"
			fail="pollux died when its peer got SIG$sig (exit $?)"
			crashed=$((crashed + 1))
			pp=
		elif [ "$keep_px" = yes ] && [ "$c" -lt "$cycles" ]; then
			: # pollux meets the next generator
		else
			kill -TERM "$pp"
			if ! wait_gone "$pp"; then
				fail="pollux did not exit within 10 s of SIGTERM"
				hung=$((hung + 1))
				kill -KILL "$pp"
			fi
			wait "$pp"
			rc=$?
			if [ -z "$fail" ] && [ "$rc" -ne 0 ]; then
				fail="pollux exited $rc on SIGTERM after its peer got SIG$sig"
				bad=$((bad + 1))
			fi
			pp=
		fi
	else
		kill -s "$sig" "$pp"
		if ! wait_gone "$pp"; then
			fail="pollux did not exit within 10 s of SIG$sig"
			hung=$((hung + 1))
			kill -KILL "$pp"
		fi
		wait "$pp"
		rc=$?
		pp=
		want=0
		[ "$sig" = KILL ] && want=137
		if [ -z "$fail" ] && [ "$rc" -ne "$want" ]; then
			fail="pollux exited $rc on SIG$sig"
			bad=$((bad + 1))
		fi
		sleep 0.3
		if ! kill -0 "$gp" 2>/dev/null; then
			wait "$gp"
			rc=$?
			# The generator exits 1 on its own only when it gives up on the link.
			[ "$rc" -gt 128 ] && { fail="${fail:+$fail; }generator died (exit $rc)"; crashed=$((crashed + 1)); }
		else
			kill -TERM "$gp"
			wait_gone "$gp" || kill -KILL "$gp"
			wait "$gp" 2>/dev/null
		fi
		gp=
	fi
	if [ -n "$fail" ]; then
		echo "cycle $c ($rx packets received this cycle): $fail"
		grep -v '^EAL: \|^hints_loaded\|^pollux: \(recursion\|local zone\|serving\|link_\|port_\)' \
			"$(ls -t "$tmp"/pollux.*.log | head -1)" | tail -3 | sed 's/^/    /'
	else
		ok=$((ok + 1))
		[ "$keep" = yes ] || [ -n "$pp" ] || rm -f "$tmp"/pollux.*.log
	fi
done
[ "$keep_px" = no ] || kill_who="peer, one pollux"
echo "memif peer stress: build $build, kill $kill_who, $cycles cycles: $ok ok, $crashed crashed," \
	"$hung hung, $bad bad exit; $noload cycles killed before 1000 packets had flowed"
[ $((crashed + hung + bad)) -eq 0 ]
