#!/usr/bin/env bash
# Cache misses per second of one pollux worker through net_memif: pollux's generator
# (bench/gen_memif.c --mode miss) is at once the clients, pollux's gateway and the authoritative
# servers (bench/gen_auth.c: a root, test., leaf zones, from memory), and asks every name once.
# Then, in the same run, the cache's insert path alone (build/bench/bench_cache_insert).
#
# Two kinds of miss, one run each:
#   leaf:  n<i>.z<i % Z>.test, Z leaf zones (--zones). The root and test. referrals, and each
#          leaf zone's, are cached after the first names, as a resolver's are in reality: each
#          name then costs one query to its leaf server (one answer cached).
#   fresh: n<i>.d<i>.test, a zone of its own each: the test. cut is cached, so each name costs a
#          TLD query (a referral, cached as a cut) and a leaf query (an answer, cached).
# The figures, over the generator's measured interval:
#   - resolutions/s: the generator's checked answers per second (median of its one-second
#     samples, and the best second); every name is new, so each answer is a whole resolution;
#   - worker busy cycles per resolution: pollux's own counters (polluxctl stats, total.* with
#     one worker) read when the interval starts and ends: busy_cycles (TSC cycles of the
#     worker's loop iterations that received something, rx to tx) over rec_answered;
#   - the worker's on-CPU cycles per resolution (its thread's run time from
#     /proc/PID/task/TID/schedstat over the same resolutions: empty polls included, time
#     preempted excluded), and the share of the interval it waited for a CPU;
#   - inserts/s during the run: rec_cache_inserted + rec_cut_inserted per second (what the
#     misses needed, not what the cache can take);
#   - the insert path's capacity: bench_cache_insert, one writer on the worker's core, into an
#     empty and a full table (--insert-seconds).
#
# Usage: bench/run_miss.sh [--seconds S] [--warmup S] [--kinds leaf,fresh] [--zones N]
#                          [--window N] [--insert-seconds S] [--quick] [--out FILE.md]
#                          [--build DIR] [--no-build]
#   --quick: 2 s per kind, 1 s warm-up, 64 names in flight (well inside every ring, so no frame
#   is lost), a 1 s insert run, the report in $TMPDIR unless --out;
#   a smoke check (tests/run_all.sh): it fails when no resolution happened, a client query
#   went unanswered (a generator timeout or a SERVFAIL) or a frame failed a check; no figure
#   is asserted.
# Writes FILE.md (default bench/results/miss-<stamp>.md) and the generator's and the insert
# bench's raw output beside it (FILE-*.txt). Run as root, under the lab lock.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=10 warm=2 kinds=leaf,fresh zones=8 window=512 ins_secs=3 out= quick=no build=build
do_build=yes
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) secs=$2; shift 2 ;;
	--warmup) warm=$2; shift 2 ;;
	--kinds) kinds=$2; shift 2 ;;
	--zones) zones=$2; shift 2 ;;
	--window) window=$2; shift 2 ;;
	--insert-seconds) ins_secs=$2; shift 2 ;;
	--quick) secs=2 warm=1 ins_secs=1 window=64 quick=yes; shift ;;
	--out) out=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--no-build) do_build=no; shift ;;
	-h | --help) sed -n '2,35p' "$0"; exit 0 ;;
	*) echo "run_miss.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
	esac
done
for v in "$secs" "$warm" "$zones" "$window" "$ins_secs"; do
	case $v in '' | *[!0-9]*) echo "run_miss.sh: counts and seconds are whole numbers" >&2; exit 2 ;; esac
done
[ "$secs" -ge 2 ] || { echo "run_miss.sh: --seconds must be at least 2" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "run_miss.sh: run as root (hugepages, DPDK)" >&2; exit 1; }
stamp=$(date -u +%Y%m%dT%H%M%SZ)
if [ -z "$out" ]; then
	if [ "$quick" = yes ]; then
		out=${TMPDIR:-/tmp}/pollux-miss-quick/miss-$stamp.md
	else
		out=bench/results/miss-$stamp.md
	fi
fi
mkdir -p "$(dirname "$out")"
raw=${out%.md}

if [ "$do_build" = yes ]; then
	. tests/deps.sh
	px_install_deps >/dev/null
	px_build "$build" -Dbuildtype=release
fi
gen=$build/bench/gen_memif pollux=$build/control/pollux ctl=$build/control/polluxctl
ins=$build/bench/bench_cache_insert
for b in "$gen" "$pollux" "$ctl" "$ins"; do
	[ -x "$b" ] || { echo "run_miss.sh: $b was not built" >&2; exit 1; }
done

# pollux's worker on lcore 1, its control thread on 0; the generator polls a core of its own
# when there is one, else it shares core 0 with the (sleeping) control thread.
ncpu=$(nproc)
glc=$((ncpu > 2 ? 2 : 0))

tmp=$(mktemp -d /tmp/pxmiss.XXXXXX)
tag=pxmiss$$
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "${PX_KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Hugepages when both processes fit (256 MB for the generator, 512 for pollux), else 4 KB pages.
free_mb=$(awk '/HugePages_Free/ {f = $2} /Hugepagesize/ {s = $2} END {print int(f * s / 1024)}' \
	/proc/meminfo)
if [ "$free_mb" -ge 800 ]; then
	mem=(--in-memory) memdesc="hugepages (--in-memory)"
else
	mem=(--no-huge --no-shconf) memdesc="4 KB pages (--no-huge: not enough free hugepages)"
fi
sock=$tmp/memif.sock

# The root hints: the generator's root server, a lab address.
cat >"$tmp/hints" <<EOF
.                        3600000 IN NS a.root-servers.test.
a.root-servers.test.     3600000 IN A  198.18.1.1
EOF

key() { awk -F': ' -v k="$2" '$1 == k {print $2}' "$1"; }
# Every counter of interest from polluxctl stats, as one line of numbers.
counters=(busy_cycles rec_answered rec_started rec_queries_sent rec_servfail rec_cache_inserted
	rec_cut_inserted rec_cache_busy rec_cache_dropped rec_cut_busy rec_cut_dropped rec_timeouts)
snap() { # snap FILE: appends a line: the counters, the time in ns, the worker's run and wait ns
	local st
	st=$("$ctl" -s "$tmp/ctl.sock" stats) || return 1
	{
		for c in "${counters[@]}"; do
			awk -v k="total.$c" '$1 == k {print $2; f = 1} END {if (!f) print 0}' <<<"$st"
		done | tr '\n' ' '
		printf '%s %s\n' "$(date +%s%N)" \
			"$(awk '{print $1, $2}' "/proc/$px_pid/task/$wtid/schedstat")"
	} >>"$1"
}

# Runs one kind; appends a row "kind|fields..." to rows.
rows=() status=0
run_kind() {
	local kind=$1 fresh=() name=$1 i
	[ "$kind" = fresh ] && fresh=(--fresh-zones)
	echo "[$kind] generator (memif server, clients + gateway + servers, lcore $glc)," \
		"pollux (memif client, worker on lcore 1)"
	rm -f "$sock" "$tmp/ctl.sock"
	"$gen" -l "$glc" --file-prefix "$tag-gen" --no-pci --no-telemetry "${mem[@]}" -m 256 \
		--vdev "net_memif0,role=server,id=0,socket=$sock,socket-abstract=no" \
		-- --mode miss "${fresh[@]}" --zones "$zones" --dst-ip 198.18.0.2 \
		--src-ip 198.18.0.1 --a-base 198.19.0.0 --window "$window" --seconds "$secs" \
		--warmup "$warm" --timeout-ms 2000 --link-wait 30 >"$tmp/$name.out" 2>"$tmp/$name.err" &
	gen_pid=$!
	pids+=("$gen_pid")
	for i in $(seq 100); do
		[ -S "$sock" ] && break
		kill -0 "$gen_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -S "$sock" ] || { echo "run_miss.sh: the generator did not start:" >&2; cat "$tmp/$name.err" >&2; return 1; }
	# --upstream-rto-min 1000: the servers are a process on a shared machine; one descheduled
	# for more than the 50 ms floor would time queries out, and a leaf zone has one server, so
	# each timeout would be a SERVFAIL that the network of a real resolver would not cause.
	"$pollux" -l 0-1 --main-lcore 0 --file-prefix "$tag-px" --no-pci --no-telemetry \
		"${mem[@]}" -m 512 --vdev "net_memif0,role=client,id=0,socket=$sock,socket-abstract=no" \
		-- --ip 198.18.0.2/24 --gateway 198.18.0.1 --hints "$tmp/hints" \
		--hints-fallback refuse --control "$tmp/ctl.sock" --resolver-slots-per-client 0 \
		--upstream-rto-min 1000 \
		>"$tmp/pollux-$name.log" 2>&1 &
	px_pid=$!
	pids+=("$px_pid")
	for i in $(seq $(((warm + 60) * 20))); do
		grep -q '^gen.phase: measuring' "$tmp/$name.out" && break
		kill -0 "$gen_pid" 2>/dev/null || break
		sleep 0.05
	done
	wtid=
	for t in /proc/"$px_pid"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = rte-worker-1 ] && wtid=$(basename "$t")
	done
	if ! grep -q '^gen.phase: measuring' "$tmp/$name.out" || [ -z "$wtid" ] ||
		! snap "$tmp/$name.snaps"; then
		echo "run_miss.sh: [$kind] never reached the measured interval:" >&2
		grep -v '^EAL' "$tmp/$name.err" | tail -5 >&2
		grep -E '^(gen|auth)\.' "$tmp/$name.out" | grep -v ': 0$' | tail -20 >&2
		tail -5 "$tmp/pollux-$name.log" >&2
		return 1
	fi
	# A snapshot a second, and one at the end: the seconds give a median and a best cost per
	# resolution (other load on the machine only ever adds to it).
	local next=$(($(date +%s%N) + 1000000000))
	while ! grep -q '^gen.phase: done' "$tmp/$name.out" && kill -0 "$gen_pid" 2>/dev/null; do
		sleep 0.02
		if [ "$(date +%s%N)" -ge "$next" ]; then
			snap "$tmp/$name.snaps" || break
			next=$((next + 1000000000))
		fi
	done
	snap "$tmp/$name.snaps" || true
	"$ctl" -s "$tmp/ctl.sock" stats >"$tmp/$name.stats" 2>/dev/null || true
	local rc=0
	wait "$gen_pid" || rc=$?
	# net_memif's disconnect race (README, "net_memif: a peer that goes away") can kill the
	# generator in its teardown, after it has said how the run went: go by what it said.
	if [ "$rc" -ge 128 ] && [ "$(key "$tmp/$name.out" gen.exit)" = 0 ]; then
		echo "run_miss.sh: [$kind] the generator died of signal $((rc - 128)) in its teardown," \
			"after its report (net_memif's known disconnect race); its figures stand" >&2
		rc=0
	fi
	kill "$px_pid" 2>/dev/null || true
	wait "$px_pid" 2>/dev/null || true
	cp "$tmp/$name.out" "$raw-$name-gen.txt"
	cp "$tmp/$name.stats" "$raw-$name-pollux-stats.txt" 2>/dev/null || true
	if [ "$rc" -ne 0 ] || [ "$(wc -l <"$tmp/$name.snaps")" -lt 2 ]; then
		echo "run_miss.sh: [$kind] generator failed (exit $rc):" >&2
		grep -v '^EAL' "$tmp/$name.err" | tail -5 >&2
		grep -E '^(gen\.bad|auth\.bad)' "$tmp/$name.out" | grep -v ': 0$' >&2 || true
		return 1
	fi
	local hz aps best to late
	hz=$(key "$tmp/$name.out" gen.tsc_hz)
	aps=$(key "$tmp/$name.out" gen.answers_per_s_median)
	best=$(key "$tmp/$name.out" gen.answers_per_s_max)
	to=$(key "$tmp/$name.out" gen.timeouts)
	late=$(key "$tmp/$name.out" gen.late)
	# Each snapshot line: the counters in order, then ns, run_ns, wait_ns. Totals from the first
	# and the last; per interval, busy and on-CPU cycles per resolution (median and best).
	local row
	row=$(awk -v n="${#counters[@]}" -v hz="$hz" '
		function med(a, k,   i, j, t) {
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
				if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return k ? a[int((k + 1) / 2)] : 0
		}
		{ for (i = 1; i <= n + 3; i++) v[NR, i] = $i }
		NR > 1 && $2 - v[NR - 1, 2] > 0 {
			r = $2 - v[NR - 1, 2]; k++
			bc[k] = ($1 - v[NR - 1, 1]) / r; oc[k] = ($(n + 2) - v[NR - 1, n + 2]) * hz / 1e9 / r
			bm = (k == 1 || bc[k] < bm) ? bc[k] : bm; om = (k == 1 || oc[k] < om) ? oc[k] : om
		}
		END {
			for (i = 1; i <= n + 3; i++) d[i] = v[NR, i] - v[1, i]
			res = d[2]; wall = d[n + 1]
			printf "%d %.0f %.2f %.0f %.1f %.1f %.0f %d %d %d %d %d %d %.0f %.0f %.0f %.0f",
				res, res ? d[1] / res : 0, res ? d[4] / res : 0,
				res ? d[n + 2] * hz / 1e9 / res : 0,
				wall ? 100 * d[1] / (hz * wall / 1e9) : 0, wall ? 100 * d[n + 3] / wall : 0,
				wall ? (d[6] + d[7]) / (wall / 1e9) : 0, d[6], d[7], d[8] + d[10],
				d[9] + d[11], d[5], d[12], med(bc, k), bm, med(oc, k), om }' "$tmp/$name.snaps")
	rows+=("$kind $aps $best $to $late $row")
	if [ "$quick" = yes ]; then
		# The smoke check: resolutions happened, every client got its answer.
		local nres servf
		nres=$(awk '{print $6}' <<<"$kind $aps $best $to $late $row")
		servf=$(awk '{print $17}' <<<"$kind $aps $best $to $late $row")
		if [ "${nres:-0}" -eq 0 ] || [ "$(key "$tmp/$name.out" gen.answers)" -eq 0 ] ||
			[ "$to" -ne 0 ] || [ "$servf" -ne 0 ]; then
			echo "run_miss.sh: [$kind] smoke check failed: $nres resolutions, $to client" \
				"queries unanswered (timeouts), $servf SERVFAIL" >&2
			status=1
		fi
	fi
}

load1=$(cut -d' ' -f1 /proc/loadavg)
echo "pollux cache-miss benchmark: ${secs}s per kind after ${warm}s of warm-up, window $window," \
	"$zones leaf zones, $memdesc, $ncpu cores, load $load1"
for k in ${kinds//,/ }; do
	case $k in leaf | fresh) ;; *) echo "run_miss.sh: --kinds takes leaf and fresh" >&2; exit 2 ;; esac
	run_kind "$k" || exit 1
done

echo "[insert] bench_cache_insert, one writer on lcore 1, ${ins_secs}s into the full table"
ins_entries=262144
[ "$quick" = yes ] && ins_entries=65536
"$ins" -l 0,1 --main-lcore 0 --file-prefix "$tag-ins" --no-pci --no-telemetry --no-huge \
	--no-shconf -m 1024 -- --entries "$ins_entries" --seconds "$ins_secs" \
	>"$tmp/ins.out" 2>"$tmp/ins.err" || {
	echo "run_miss.sh: bench_cache_insert failed:" >&2
	grep -v '^EAL' "$tmp/ins.err" | tail -5 >&2
	exit 1
}
cp "$tmp/ins.out" "$raw-insert.txt"
ins_fill=$(key "$tmp/ins.out" w1.fill.minserts_per_s)
ins_full=$(key "$tmp/ins.out" w1.full.minserts_per_s)
ins_fill_c=$(key "$tmp/ins.out" w1.fill.cycles_per_insert)
ins_full_c=$(key "$tmp/ins.out" w1.full.cycles_per_insert)

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
dpdk=$(key "$raw-${kinds%%,*}-gen.txt" gen.dpdk)
{
	echo "# pollux cache misses through net_memif, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	echo "CPU $cpu, $ncpu cores, kernel $(uname -r), $dpdk, PMD net_memif, $memdesc," \
		"load average $load1 at the start. One pollux worker (lcore 1); the generator (clients," \
		"gateway and authoritative servers) on lcore $glc. ${secs}s per kind after ${warm}s of" \
		"warm-up, $window queries outstanding, $zones leaf zones, cache 262144 entries (full" \
		"within the run: inserts evict). Build: $build."
	echo
	echo "| kind | upstream queries per resolution | resolutions/s (median, best second) | worker busy cycles per resolution: whole run (median, best second) | worker on-CPU cycles per resolution: whole run (median, best second) | worker busy | worker waiting for a CPU | inserts/s during the run (answers + cuts) | not cached (busy, dropped) | SERVFAIL | client timeouts |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for r in "${rows[@]}"; do
		read -r kind aps best to late res cpr qpr ocpr busy wait insps ans cuts nbusy ndrop servf utime \
			bmed bbest omed obest <<<"$r"
		printf '| %s | %s | %s, %s | %s (%s, %s) | %s (%s, %s) | %s%% | %s%% | %s (%s + %s) | %s, %s | %s | %s |\n' \
			"$kind" "$qpr" "$aps" "$best" "$cpr" "$bmed" "$bbest" "$ocpr" "$omed" "$obest" \
			"$busy" "$wait" "$insps" "$ans" "$cuts" "$nbusy" "$ndrop" "$servf" "$to"
	done
	echo
	echo "Insert path alone (bench_cache_insert, one writer on lcore 1, $ins_entries entries," \
		"${ins_secs}s into the full table): filling $ins_fill M inserts/s ($ins_fill_c cycles)," \
		"into the full table **$ins_full M inserts/s** ($ins_full_c cycles) per writer; the goal" \
		"is 1 M/s per worker. Writers share only the buckets they touch: no global ceiling."
	echo
	echo "Resolutions per second are the generator's checked answers (each a name never asked);"
	echo "cycles per resolution are pollux's own counters (polluxctl stats: busy_cycles over"
	echo "rec_answered) between the interval's start and end. Busy cycles include time the worker"
	echo "was preempted inside a busy iteration; on-CPU cycles exclude it but include empty polls."
	echo "This machine is shared: figures move from run to run; compare within one run."
} >"$out"
cat "$out"
echo "written: $out and $raw-*.txt"
exit $status
