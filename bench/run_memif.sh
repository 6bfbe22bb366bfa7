#!/usr/bin/env bash
# Cache-hit answers per second of pollux's workers through net_memif, driven by pollux's own
# load generator (bench/gen_memif.c) in another process, beside dpdk-testpmd's io-forwarding
# rate through the same memif with the same generator (the PMD's ceiling).
#
# For each worker count W: the generator is the memif server (it creates the socket, so it
# starts first) and pollux the client (-l 0..W --main-lcore 0, workers on lcores 1..W); the
# generator checks every answer (ID, port, rcode, question, the A record) and counts one-second
# samples. While it measures, this script reads pollux's counters every second: busy_cycles over
# tx_pkts is what one answer costs the worker. Then testpmd takes pollux's place as the client
# and io-forwards the generator's queries back to it.
#
# Every figure is the median of the one-second samples (other processes on a shared machine only
# ever take time away, so the best second is printed beside it). The workers' and the
# generator's time spent runnable but not running (/proc/.../schedstat) is printed too: it is
# how much the figures owe to other load on the machine.
#
# Usage: bench/run_memif.sh [--seconds S] [--workers LIST|max] [--out DIR] [--quick]
#                           [--window N] [--zero-copy] [--build DIR] [--no-build]
#   --workers 1,2,4 or max (default): counts above what the machine has are skipped, said so.
#   --quick: 3 s per run and 1 s of warm-up, about 30 s in all (CI smoke).
#   --zero-copy: the memif clients (pollux, testpmd) map their own mbufs to the generator.
#   --build DIR: the build directory (default build, configured release if new); --no-build
#   uses what DIR already holds (a caller that has just built).
# Writes DIR/memif.csv (pmd,workers,answers_per_s,cycles_per_query,testpmd_ceiling_pps),
# DIR/memif-detail.csv and DIR/memif.md. Run as root. Exits non-zero when a run fails or the
# generator saw a wrong answer.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=10 warm=2 workers=max out= window=512 zc=no build=build names=1000 do_build=yes
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) secs=$2; shift 2 ;;
	--workers) workers=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--quick) secs=3 warm=1; shift ;;
	--window) window=$2; shift 2 ;;
	--zero-copy) zc=yes; shift ;;
	--build) build=$2; shift 2 ;;
	--no-build) do_build=no; shift ;;
	-h | --help) sed -n '2,29p' "$0"; exit 0 ;;
	*) echo "run_memif.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
	esac
done
case $secs in '' | *[!0-9]*) echo "run_memif.sh: --seconds takes whole seconds" >&2; exit 2 ;; esac
[ "$secs" -ge 2 ] || { echo "run_memif.sh: --seconds must be at least 2" >&2; exit 2; }
[ -n "$out" ] || out=bench/results/memif-$(date -u +%Y%m%dT%H%M%SZ)
[ "$(id -u)" -eq 0 ] || { echo "run_memif.sh: run as root (hugepages, DPDK)" >&2; exit 1; }

if [ "$do_build" = yes ]; then
	. tests/deps.sh
	px_install_deps
	px_build "$build" -Dbuildtype=release
fi
gen=$build/bench/gen_memif pollux=$build/control/pollux ctl=$build/control/polluxctl
for b in "$gen" "$pollux" "$ctl"; do
	[ -x "$b" ] || { echo "run_memif.sh: $b was not built" >&2; exit 1; }
done
command -v dpdk-testpmd >/dev/null || { echo "run_memif.sh: dpdk-testpmd missing" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The generator needs a core of its own to poll; pollux's control thread sleeps and shares it.
ncpu=$(nproc)
maxw=$((ncpu - 1))
if [ "$workers" = max ]; then
	list=$(seq -s, 1 "$maxw")
else
	list=$workers
fi

# A short path for the memif socket (108 bytes at most), and names no one else uses.
tmp=$(mktemp -d /tmp/pxmemif.XXXXXX)
tag=pxmemif$$
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "${PX_KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Hugepages when enough are free (each process takes 512 MB at most); 4 KB pages otherwise,
# where memif zero-copy cannot work.
free_mb=$(awk '/HugePages_Free/ {f = $2} /Hugepagesize/ {s = $2} END {print int(f * s / 1024)}' \
	/proc/meminfo)
if [ "$free_mb" -ge 1536 ]; then
	mem=(--in-memory -m 512)
	memdesc="hugepages (--in-memory)"
else
	[ "$zc" = no ] || { echo "run_memif.sh: --zero-copy needs 1.5 GB of free hugepages" >&2; exit 1; }
	mem=(--no-huge --no-shconf -m 512)
	memdesc="4 KB pages (--no-huge: not enough free hugepages)"
fi
eal_common=(--no-pci --no-telemetry "${mem[@]}")
sock=$tmp/memif.sock
client_vdev=net_memif0,role=client,id=0,socket=$sock,socket-abstract=no
client_eal=()
if [ "$zc" = yes ]; then
	# The client exports its own mbuf memory; DPDK can hand that over only as one file.
	client_vdev+=,zero-copy=yes
	client_eal=(--single-file-segments)
fi
pmd=net_memif
[ "$zc" = yes ] && pmd=net_memif-zc

# The zone: host<i>.bench.example has address 198.19.0.0 + i, as gen_memif checks.
zone=$tmp/bench.zone
{
	printf '$ORIGIN bench.example.\n$TTL 3600\n'
	printf '@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 198.18.0.2\n'
	awk -v n="$names" 'BEGIN { for (i = 0; i < n; i++)
		printf "host%d IN A 198.19.%d.%d\n", i, int(i / 256), i % 256 }'
} >"$zone"

# Starts the generator as the memif server in the background: start_gen NAME MODE GEN_LCORE.
start_gen() {
	local name=$1 mode=$2 lcore=$3
	rm -f "$sock"
	# No `timeout` wrapper: this script reads the generator's own /proc entry. It bounds
	# itself (--link-wait for the link and the first answer, then warm-up and measurement).
	"$gen" -l "$lcore" --file-prefix "$tag-gen" \
		"${eal_common[@]}" --vdev "net_memif0,role=server,id=0,socket=$sock,socket-abstract=no" \
		-- --mode "$mode" --dst-ip 198.18.0.2 --src-ip 198.18.0.1 --names "$names" \
		--a-base 198.19.0.0 --window "$window" --seconds "$secs" --warmup "$warm" \
		--link-wait 60 >"$tmp/$name.out" 2>"$tmp/$name.err" &
	gen_pid=$!
	pids+=("$gen_pid")
	local i
	for i in $(seq 100); do
		[ -S "$sock" ] && return 0
		kill -0 "$gen_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "run_memif.sh: the generator did not create $sock:" >&2
	cat "$tmp/$name.err" >&2
	return 1
}

# Waits until the generator prints "gen.phase: LINE", or fails when it exits first.
wait_phase() {
	local file=$1 phase=$2 i
	for i in $(seq $(((secs + warm + 120) * 20))); do
		grep -q "^gen.phase: $phase" "$file" && return 0
		kill -0 "$gen_pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# The ns a thread has spent running and waiting to run: schedstat TID -> "run wait".
schedstat() { cat "/proc/$1/task/$2/schedstat" 2>/dev/null | awk '{print $1, $2}' || echo "0 0"; }
# The tids of a process's threads named NAME.
tids() {
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && basename "$t"
	done
	return 0
}
key() { awk -F': ' -v k="$2" '$1 == k {print $2}' "$1"; }
median() { sort -g | awk '{v[n++] = $1} END {print n ? v[int(n / 2)] : 0}'; }
minimum() { sort -g | head -1; }

# Adds up, over threads, the share of wall time spent waiting for a CPU between two snapshots.
wait_share() { # file_before file_after wall_ns
	paste "$1" "$2" | awk -v w="$3" '{s += $4 - $2} END {printf "%.1f", (w > 0) ? 100 * s / w : 0}'
}

echo "pollux memif benchmark: ${secs}s per run, ${warm}s warm-up, window $window, $pmd," \
	"$memdesc, $ncpu cores, workers $list"
csv=$out/memif.csv detail=$out/memif-detail.csv
echo "pmd,workers,answers_per_s,cycles_per_query,testpmd_ceiling_pps" >"$csv"
echo "pmd,workers,answers_per_s_median,answers_per_s_best,cycles_per_query_median,cycles_per_query_best,oncpu_cycles_per_query,worker_busy_pct,worker_wait_pct,gen_wait_pct,gen_cycles_per_answer,gen_timeouts,testpmd_pps_median,testpmd_pps_best,loadavg" >"$detail"
rows=() skipped=() status=0

for w in ${list//,/ }; do
	case $w in '' | *[!0-9]* | 0) echo "run_memif.sh: bad worker count '$w'" >&2; exit 2 ;; esac
	if [ "$w" -gt "$maxw" ]; then
		skipped+=("$w workers: need $((w + 1)) cores (the generator polls one), machine has $ncpu")
		continue
	fi
	if [ "$w" -gt 1 ]; then
		# pollux spreads queries over several queues with RSS only, and memif has none.
		skipped+=("$w workers: net_memif has no RSS, which pollux needs for more than one queue")
		continue
	fi
	glc=$((w + 1 < ncpu ? w + 1 : 0))
	plcores=0-$w
	echo "[workers=$w] pollux (memif client, lcores $plcores, main 0) + generator (server, lcore $glc)"
	load1=$(cut -d' ' -f1 /proc/loadavg)

	start_gen "px$w" dns "$glc"
	rm -f "$tmp/ctl.sock"
	"$pollux" -l "$plcores" --main-lcore 0 --file-prefix "$tag-px" "${eal_common[@]}" \
		"${client_eal[@]}" --vdev "$client_vdev" -- --ip 198.18.0.2/24 \
		--local-zone "$zone" --control "$tmp/ctl.sock" --cache-size 65536 \
		--recursion no >"$tmp/pollux$w.log" 2>&1 &
	px_pid=$!
	pids+=("$px_pid")
	if ! wait_phase "$tmp/px$w.out" measuring; then
		echo "run_memif.sh: pollux run with $w workers never reached the measured interval" >&2
		tail -5 "$tmp/px$w.err" "$tmp/pollux$w.log" >&2
		exit 1
	fi
	# Every second: pollux's counters, and how long its workers and the generator ran/waited.
	wt=$(tids "$px_pid" rte-worker-1; for i in $(seq 2 "$w"); do tids "$px_pid" rte-worker-$i; done)
	: >"$tmp/cyc$w"
	prev=$("$ctl" -s "$tmp/ctl.sock" stats | awk '$1 == "total.busy_cycles" {b = $2}
		$1 == "total.tx_pkts" {t = $2} END {print b, t}')
	for t in $wt; do schedstat "$px_pid" "$t"; done >"$tmp/wk0"
	schedstat "$gen_pid" "$gen_pid" >"$tmp/gn0"
	t0=$(date +%s%N) tprev=$t0 t1=$t0
	cp "$tmp/wk0" "$tmp/wk1"
	cp "$tmp/gn0" "$tmp/gn1"
	while ! grep -q '^gen.phase: done' "$tmp/px$w.out"; do
		kill -0 "$gen_pid" 2>/dev/null || break
		sleep 1
		grep -q '^gen.phase: done' "$tmp/px$w.out" && break
		cur=$("$ctl" -s "$tmp/ctl.sock" stats | awk '$1 == "total.busy_cycles" {b = $2}
			$1 == "total.tx_pkts" {t = $2} END {print b, t}') || break
		now=$(date +%s%N)
		printf '%s %s %s\n' "$prev" "$cur" $((now - tprev)) | awk '$4 > $2 {
			printf "%.1f %.0f %s %.0f\n", ($3 - $1) / ($4 - $2), $3 - $1, $5, $4 - $2
			}' >>"$tmp/cyc$w"
		prev=$cur tprev=$now
		for t in $wt; do schedstat "$px_pid" "$t"; done >"$tmp/wk1"
		schedstat "$gen_pid" "$gen_pid" >"$tmp/gn1"
		t1=$now
	done
	rc=0
	wait "$gen_pid" || rc=$?
	kill "$px_pid" 2>/dev/null || true
	wait "$px_pid" 2>/dev/null || true
	if [ "$rc" -ne 0 ] || [ ! -s "$tmp/cyc$w" ]; then
		echo "run_memif.sh: generator against pollux failed (exit $rc):" >&2
		grep -v '^EAL' "$tmp/px$w.err" | tail -5 >&2
		grep '^gen.bad' "$tmp/px$w.out" | grep -v ': 0$' >&2 || true
		exit 1
	fi
	wall=$((t1 - t0))
	hz=$(key "$tmp/px$w.out" gen.tsc_hz)
	aps=$(key "$tmp/px$w.out" gen.answers_per_s_median)
	aps_best=$(key "$tmp/px$w.out" gen.answers_per_s_max)
	cpq=$(awk '{print $1}' "$tmp/cyc$w" | median)
	cpq_best=$(awk '{print $1}' "$tmp/cyc$w" | minimum)
	busy=$(awk -v hz="$hz" -v w="$w" '{s += $2; t += $3}
		END {printf "%.1f", t ? 100 * s / (hz * t / 1e9 * w) : 0}' "$tmp/cyc$w")
	wk_wait=$(wait_share "$tmp/wk0" "$tmp/wk1" $((wall * w)))
	# busy_cycles runs on while a worker is preempted inside a busy iteration; the time the
	# kernel says the workers actually ran, over the same answers, does not (but includes
	# their empty polls): where the two differ, the machine's other load is the difference.
	cpu_cpq=$(paste "$tmp/wk0" "$tmp/wk1" | awk -v hz="$hz" -v tx="$(awk '{s += $4} END {print s}' \
		"$tmp/cyc$w")" '{r += $3 - $1} END {printf "%.1f", tx ? r * hz / 1e9 / tx : 0}')
	gn_wait=$(wait_share "$tmp/gn0" "$tmp/gn1" "$wall")
	gen_cpa=$(key "$tmp/px$w.out" gen.cycles_per_answer)
	gen_to=$(key "$tmp/px$w.out" gen.timeouts)

	echo "[workers=$w] testpmd io forwarding (memif client, lcores $plcores) + generator"
	start_gen "tp$w" echo "$glc"
	timeout $((secs + warm + 120)) dpdk-testpmd -l "$plcores" --main-lcore 0 \
		--file-prefix "$tag-tp" "${eal_common[@]}" "${client_eal[@]}" --vdev "$client_vdev" \
		-- --forward-mode=io --port-topology=loop --nb-cores="$w" --rxq="$w" --txq="$w" \
		--total-num-mbufs=8192 --stats-period 1 </dev/null >"$tmp/testpmd$w.log" 2>&1 &
	tp_pid=$!
	pids+=("$tp_pid")
	rc=0
	wait "$gen_pid" || rc=$?
	kill "$tp_pid" 2>/dev/null || true
	wait "$tp_pid" 2>/dev/null || true
	if [ "$rc" -ne 0 ]; then
		echo "run_memif.sh: generator against testpmd failed (exit $rc):" >&2
		grep -v '^EAL' "$tmp/tp$w.err" | tail -5 >&2
		grep -iE 'memif|link|error|cause' "$tmp/testpmd$w.log" | tail -5 >&2
		exit 1
	fi
	tp=$(key "$tmp/tp$w.out" gen.answers_per_s_median)
	tp_best=$(key "$tmp/tp$w.out" gen.answers_per_s_max)

	echo "$pmd,$w,$aps,$cpq,$tp" >>"$csv"
	echo "$pmd,$w,$aps,$aps_best,$cpq,$cpq_best,$cpu_cpq,$busy,$wk_wait,$gn_wait,$gen_cpa,$gen_to,$tp,$tp_best,$load1" >>"$detail"
	rows+=("$w|$aps|$aps_best|$cpq|$cpq_best|$busy|$wk_wait|$gn_wait|$gen_cpa|$tp|$tp_best|$hz|$cpu_cpq")
	cp "$tmp/px$w.out" "$out/gen-pollux-w$w.txt"
	cp "$tmp/tp$w.out" "$out/gen-testpmd-w$w.txt"
done

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
{
	echo "# pollux through net_memif, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	echo "CPU $cpu, $ncpu cores, kernel $(uname -r), $(dpdk-testpmd -v 2>&1 | grep -o 'DPDK [0-9.]*' | head -1 || true)," \
		"PMD $pmd (one queue per worker), $memdesc, ${secs}s per run after ${warm}s of warm-up," \
		"window $window queries, $names names (host<i>.bench.example A 198.19.0.0+i)."
	if [ "$ncpu" -le 2 ]; then echo "This machine has $ncpu cores: one pollux worker, the generator on the other core (shared with pollux's sleeping control thread)."; fi
	echo
	echo "| workers | answers/s (median, best) | worker busy_cycles/answer (median, best) | worker on-CPU cycles/answer | worker busy | worker / generator waiting for a CPU | generator cycles/answer | testpmd io-fwd ceiling (median, best) |"
	echo "|---|---|---|---|---|---|---|---|"
	for r in "${rows[@]}"; do
		IFS='|' read -r w aps aps_best cpq cpq_best busy wkw gnw gca tp tp_best hz ccpq <<<"$r"
		awk -v w="$w" -v a="$aps" -v ab="$aps_best" -v c="$cpq" -v cb="$cpq_best" \
			-v busy="$busy" -v wkw="$wkw" -v gnw="$gnw" -v gca="$gca" -v tp="$tp" \
			-v tpb="$tp_best" -v cc="$ccpq" 'BEGIN {
			printf "| %s | %.2f M, %.2f M | %s, %s | %s | %s%% | %s%% / %s%% | %s | %.2f M, %.2f M pps |\n",
				w, a / 1e6, ab / 1e6, c, cb, cc, busy, wkw, gnw, gca, tp / 1e6, tpb / 1e6 }'
	done
	for s in "${skipped[@]}"; do echo "- skipped $s"; done
	echo
	for r in "${rows[@]}"; do
		IFS='|' read -r w aps aps_best cpq cpq_best busy wkw gnw gca tp tp_best hz ccpq <<<"$r"
		awk -v w="$w" -v a="$aps" -v b="$aps_best" -v c="$cpq" -v cb="$cpq_best" -v tp="$tp" \
			-v tpb="$tp_best" -v hz="$hz" -v busy="$busy" -v cc="$ccpq" -v wkw="$wkw" 'BEGIN {
			goal = 10e6 * w; budget = hz / 10e6
			if (a >= goal) { printf "Goal met with %d worker(s): %.2f M answers/s >= %.0f M.\n", w, a / 1e6, goal / 1e6; exit }
			printf "Goal NOT met with %d worker(s): %.2f M answers/s (best second %.2f M) against %.0f M, %.1fx short.\n", w, a / 1e6, b / 1e6, goal / 1e6, goal / a
			printf "Where the time goes: at %.2f GHz the goal leaves %.0f cycles per answer. A pollux worker spends %s TSC cycles per answer in busy iterations (best second %s), %s cycles of its own CPU time; it waited for a CPU %s%% of the wall time (other load on the machine), which the first figure counts and the second does not. bench/run_hit.sh measures pollux'"'"'s own work (parse, lookup, answer, checksums) at about 240 cycles; the rest is memif RX/TX (copies, mbuf alloc/free) and the loop.\n", hz / 1e9, budget, c, cb, cc, wkw
			printf "The PMD alone, testpmd forwarding with no DNS work, moves %.2f M pps (best %.2f M) with the same generator, %.0f%% of the goal: above that rate the PMD and the generator, not pollux, are the limit.\n", tp / 1e6, tpb / 1e6, 100 * tp / goal
			if (wkw + 0 > 10) printf "CAUTION: the worker waited for a CPU %s%% of the time: this machine was busy with other work, so every figure here is a lower bound on what pollux and memif can do; rerun on a quiet machine.\n", wkw
			if (busy < 90) printf "The worker was busy only %s%% of the time: the generator or the machine, not pollux, set the pace.\n", busy
		}'
	done
} >"$out/memif.md"
cat "$out/memif.md"
echo "written: $csv $detail $out/memif.md"
exit $status
