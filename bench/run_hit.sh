#!/usr/bin/env bash
# Cache-hit capacity of one worker core, beside DPDK testpmd's io-forwarding ceiling on the
# same PMD (net_ring), measured in the same run; then what access control (1,000 prefixes) and
# rate limiting add per query (bench_hit --access compare: rounds alternating off and on).
# Writes bench/results/hit-<date>.md and .csv.
#
# Usage: bench/run_hit.sh [SECONDS]      (as root; builds build/ first if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
. tests/deps.sh
px_install_deps
px_build build -Dbuildtype=release
eal=(-l 0,1 --no-huge -m 1024 --no-pci --no-telemetry)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/results/hit-$stamp
mkdir -p bench/results

echo "[1/3] testpmd io forwarding on net_ring, ${secs}s ..."
tp=$(timeout $((secs + 10)) dpdk-testpmd "${eal[@]}" --file-prefix pxbench-tp \
	--vdev net_ring0 --vdev net_ring1 -- --forward-mode=io --tx-first --stats-period 1 \
	--nb-cores=1 --total-num-mbufs=8192 2>&1 </dev/null || true)
# Each second prints Rx-pps for both ports; what one core forwards is their sum. Take the
# median of the samples after the first two (warm-up).
tp_pps=$(printf '%s\n' "$tp" | awk '/Rx-pps:/ {v[n++] = $2} END {
	for (i = 4; i + 1 < n; i += 2) print v[i] + v[i + 1] }' | sort -n |
	awk '{s[n++] = $1} END { print n ? s[int(n / 2)] : 0 }')

echo "[2/3] pollux bench_hit, ${secs}s per mode ..."
bh=$(./build/bench/bench_hit "${eal[@]}" --file-prefix pxbench-hit -- --seconds "$secs" \
	2>/dev/null)
echo "[3/3] pollux bench_hit --access compare, ${secs}s ..."
bh=$bh$'\n'$(./build/bench/bench_hit "${eal[@]}" --file-prefix pxbench-hit -- --seconds "$secs" \
	--mode inline --access compare 2>/dev/null)
val() { printf '%s\n' "$bh" | awk -F': ' -v k="$1" '$1 == k {print $2}'; }

{
	echo "# pollux cache-hit benchmark, $stamp"
	echo
	echo "| what | value |"
	echo "|---|---|"
	echo "| CPU | $(val cpu) |"
	echo "| cores | $(nproc) (control on lcore 0, one worker on lcore 1) |"
	echo "| kernel | $(uname -r) |"
	echo "| DPDK | $(val dpdk) |"
	echo "| PMD | net_ring (rte_eth_from_rings), --no-huge |"
	echo "| TSC | $(val tsc_hz) Hz |"
	echo "| names in cache | $(val names) |"
	echo "| testpmd io-forwarding, 1 core, net_ring | $(awk -v p="$tp_pps" 'BEGIN {printf "%.1f M pps", p / 1e6}') |"
	echo "| pollux inline: cycles per query (parse, lookup, answer, checksums) | $(val inline.cycles_per_query) |"
	echo "| pollux inline: answers per second per core | $(val inline.mqps_per_core) M |"
	echo "| pollux worker loop over net_ring: answers per second | $(val ring.mqps) M |"
	echo "| pollux worker loop: worker cycles per answer | $(val ring.worker_cycles_per_query) |"
	echo "| pollux worker loop: idle polls (generator-bound when high) | $(val ring.worker_idle_polls) |"
	echo "| inline, no access control: cycles per query (median of $(val acl.rounds) rounds) | $(val acl.off_cycles_per_query) |"
	echo "| inline, $(val acl.prefixes) access-control prefixes + rate limiting ($(val acl.clients) clients): cycles per query (median) | $(val acl.on_cycles_per_query) |"
	echo "| cycles per query added by access control alone | $(val acl.acl_only_added_cycles_per_query) |"
	echo "| cycles per query added by access control and rate limiting (budget 25; median of paired rounds) | $(val acl.added_cycles_per_query) |"
	echo
	echo "Goal: 10 M answers per second per worker core, about 300 cycles per query."
} >"$out.md"
{
	echo "stamp,cpu,dpdk,testpmd_ring_pps,inline_cycles_per_query,inline_mqps,ring_mqps,ring_worker_cycles,ring_idle_polls,acl_off_cycles,acl_on_cycles,acl_added_cycles"
	echo "$stamp,\"$(val cpu)\",\"$(val dpdk)\",$tp_pps,$(val inline.cycles_per_query),$(val inline.mqps_per_core),$(val ring.mqps),$(val ring.worker_cycles_per_query),$(val ring.worker_idle_polls),$(val acl.off_cycles_per_query),$(val acl.on_cycles_per_query),$(val acl.added_cycles_per_query)"
} >"$out.csv"
cat "$out.md"
echo "written: $out.md $out.csv"
