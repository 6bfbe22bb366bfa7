#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# One command that measures pollux against Unbound, Knot Resolver, PowerDNS Recursor and BIND
# in the lab's simulated internet. As root on Debian 12:
#
#   bench/run.sh            the full run (about 20 minutes on 2 cores)
#   bench/run.sh --quick    the CI smoke run (under 4 minutes)
#   bench/run.sh --help     every option
#
# What it does, in order, printing each step: installs what is missing (apt-get: dnsperf,
# knot-resolver, pdns-recursor, bind9, gnuplot-nox, and tests/deps.sh's list); builds pollux
# (release, in its own build directory); brings up the lab and its internet under the
# benchmark's own names (pxb-*, /tmp/pxb-*: never the tests' pxlab-*); then for each system in
# turn: start, warm the cache, closed-loop hits, the open-loop ladder (max rate at <= 0.1 %
# loss and the plot's points), latency percentiles, cache misses, stop. Then pollux's own
# generator through net_memif (bench/run_memif.sh, when it exists), and the results:
# bench/results/compare-<stamp>.{md,csv,png} and -ladder.csv (bench/lib/report.sh says what is
# in each). The lab is removed at exit, Ctrl-C included, unless --keep.
#
# Exit status: 0 when every system asked for started and answered; 1 when one did not start or
# answered nothing (the others are still measured and reported); 2 for a usage error. A goal not
# met is a result, not a failure.
#
# Layout: bench/lib/resolvers.sh starts and stops each system, bench/lib/measure.sh takes the
# figures, bench/lib/report.sh writes them. bench/README.md explains the method and its limits.

set -u
export LC_ALL=C

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)

# The benchmark's own lab names, so it never collides with the test suite's pxlab-* lab. Each
# can be overridden the way tests/lab/lab.sh and internet.sh document.
export POLLUX_LAB_NS_CLI=${POLLUX_LAB_NS_CLI:-pxb-cli}
export POLLUX_LAB_NS_PX=${POLLUX_LAB_NS_PX:-pxb-px}
export POLLUX_LAB_IF_CLI=${POLLUX_LAB_IF_CLI:-pxb-c}
export POLLUX_LAB_IF_PX=${POLLUX_LAB_IF_PX:-pxb-p}
export POLLUX_LAB_RUN=${POLLUX_LAB_RUN:-/tmp/pxb-lab}
export POLLUX_INET_RUN=${POLLUX_INET_RUN:-/tmp/pxb-inet}
export POLLUX_INET_NS=${POLLUX_INET_NS:-pxb-net}
export POLLUX_INET_NS_RES=${POLLUX_INET_NS_RES:-pxb-res}
export POLLUX_INET_IF_CLI=${POLLUX_INET_IF_CLI:-pxb-cn}
export POLLUX_INET_IF_NET=${POLLUX_INET_IF_NET:-pxb-nc}
export POLLUX_INET_IF_RES_CLI=${POLLUX_INET_IF_RES_CLI:-pxb-cr}
export POLLUX_INET_IF_RES=${POLLUX_INET_IF_RES:-pxb-rc}
BENCH_RUN=${BENCH_RUN:-/tmp/pxb-bench}

ALL_SYSTEMS="pollux unbound kresd pdns named"
BENCH_PKGS=(dnsperf knot-resolver pdns-recursor bind9 gnuplot-nox)

usage() {
	cat <<EOF
Usage: bench/run.sh [OPTIONS]     (as root)

Measures pollux and the stock resolvers in the lab, one after the other, same client, same
cores, and writes bench/results/compare-<stamp>.{md,csv,png}.

  --systems LIST     comma-separated, from: ${ALL_SYSTEMS// /,} [all of them]
  --pmd LIST         comma-separated: the DPDK PMD(s) of pollux in the lab, af_xdp, af_packet
                     or auto (af_xdp, else af_packet), each measured as its own row; and memif,
                     pollux's own load generator through net_memif (bench/run_memif.sh)
                     [af_xdp,af_packet,memif: on a veth neither PMD is best at every rate, so
                     both are reported (bench/README.md, "The veth path")]
  --duration S       seconds of each closed-loop and miss run [10; quick: 3]
  --step S           seconds of each open-loop (ladder, latency) run [5; quick: 2]
  --hit-ratio P      percent of cache hits in the hit-phase runs (closed loop, ladder, latency);
                     below 100 the rest are fresh names, each a resolution [100]
  --names N          names in the warmed hit set [10000; quick: 2000]
  --zones N          zN.test zones in the lab's internet [1000; quick: 100]
  --miss-names N     fresh names available to the miss run [1000000; quick: 200000]
  --lat-qps R        rate of the latency run, the same for every system [10000]
  --workers N        memif scaling: runs with 1..N workers [half the cores, at least 1]
  --quick            short runs, fewer ladder steps and names: the CI smoke test, < 4 minutes
  --out DIR          where results go [bench/results]
  --build-dir DIR    pollux's build directory, configured release [build-bench]
  --no-install       do not apt-get missing packages (fail if they are missing)
  --keep             leave the lab up at the end (and after a failure), for a look
  -h, --help         this text

Environment: POLLUX_LAB_* and POLLUX_INET_* name the lab's namespaces, interfaces and run
directories (defaults pxb-*, /tmp/pxb-*, see tests/lab/lab.sh and internet.sh);
BENCH_RUN [/tmp/pxb-bench] holds raw outputs; BENCH_CACHE_MB [512] and BENCH_RES_SLOTS [4096]
size the resolvers; BENCH_CLIENT_CORE [0] and BENCH_RES_CORE [1] pin client and resolver.
EOF
}

die_usage() {
	echo "bench: $*" >&2
	echo "bench: see bench/run.sh --help" >&2
	exit 2
}

need_num() { # OPTION VALUE
	case $2 in
	'' | *[!0-9]*) die_usage "$1 needs a whole number, not '$2'" ;;
	esac
}

quick=0 install=1 keep=0
opt_systems='' opt_pmd=af_xdp,af_packet,memif opt_secs='' opt_step='' opt_ratio=100 opt_names='' opt_zones=''
opt_miss='' opt_lat=10000 opt_workers='' opt_out=$REPO/bench/results opt_build=$REPO/build-bench
while [ $# -gt 0 ]; do
	case $1 in
	--systems) opt_systems=${2-}; shift ;;
	--pmd) opt_pmd=${2-}; shift ;;
	--duration) need_num "$1" "${2-}"; opt_secs=$2; shift ;;
	--step) need_num "$1" "${2-}"; opt_step=$2; shift ;;
	--hit-ratio) need_num "$1" "${2-}"; opt_ratio=$2; shift ;;
	--names) need_num "$1" "${2-}"; opt_names=$2; shift ;;
	--zones) need_num "$1" "${2-}"; opt_zones=$2; shift ;;
	--miss-names) need_num "$1" "${2-}"; opt_miss=$2; shift ;;
	--lat-qps) need_num "$1" "${2-}"; opt_lat=$2; shift ;;
	--workers) need_num "$1" "${2-}"; opt_workers=$2; shift ;;
	--out) opt_out=${2-}; shift ;;
	--build-dir) opt_build=${2-}; shift ;;
	--quick) quick=1 ;;
	--no-install) install=0 ;;
	--keep) keep=1 ;;
	-h | --help) usage; exit 0 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
	shift
done

if [ "$quick" = 1 ]; then
	BENCH_MODE=quick
	BENCH_SECS=${opt_secs:-3}
	BENCH_STEP_SECS=${opt_step:-2}
	BENCH_HIT_NAMES=${opt_names:-2000}
	BENCH_ZONES=${opt_zones:-100}
	BENCH_MISS_LINES=${opt_miss:-200000}
	BENCH_LADDER="0.5 1.0 1.5 2.5"
	BENCH_BISECT=1
	BENCH_MEMIF_SECS=2
else
	BENCH_MODE=full
	BENCH_SECS=${opt_secs:-10}
	BENCH_STEP_SECS=${opt_step:-5}
	BENCH_HIT_NAMES=${opt_names:-10000}
	BENCH_ZONES=${opt_zones:-1000}
	BENCH_MISS_LINES=${opt_miss:-1000000}
	BENCH_LADDER="0.25 0.5 0.75 1.0 1.25 1.5 2.0 3.0"
	BENCH_BISECT=3
	BENCH_MEMIF_SECS=10
fi
BENCH_HIT_RATIO=$opt_ratio
BENCH_LAT_QPS=$opt_lat
BENCH_MAX_LOSS=0.1
BENCH_OUTSTANDING=200
BENCH_MISS_OUTSTANDING=1000
BENCH_POLLUX_CACHE=$((BENCH_HIT_NAMES * 4 > 1048576 ? BENCH_HIT_NAMES * 4 : 1048576))
BENCH_MAX_WORKERS=${opt_workers:-$(($(nproc) / 2 > 1 ? $(nproc) / 2 : 1))}
[ "$BENCH_HIT_RATIO" -le 100 ] || die_usage "--hit-ratio is a percentage (0..100)"
[ "$BENCH_SECS" -ge 1 ] && [ "$BENCH_STEP_SECS" -ge 1 ] || die_usage "durations are >= 1 s"
[ "$BENCH_HIT_NAMES" -ge 1 ] || die_usage "--names must be >= 1"
[ "$BENCH_ZONES" -ge 10 ] && [ "$BENCH_ZONES" -le 60000 ] || die_usage "--zones is 10..60000"
[ "$BENCH_MAX_WORKERS" -ge 1 ] || die_usage "--workers must be >= 1"

# The systems, expanded: pollux once per lab PMD ("pollux" alone when there is one).
systems=${opt_systems:-$ALL_SYSTEMS}
systems=${systems//,/ }
lab_pmds=() memif=0
for p in ${opt_pmd//,/ }; do
	case $p in
	af_xdp | af_packet | auto) lab_pmds+=("$p") ;;
	memif) memif=1 ;;
	*) die_usage "--pmd: unknown PMD '$p' (af_xdp, af_packet, auto, memif)" ;;
	esac
done
BENCH_LABELS=()
for s in $systems; do
	case " $ALL_SYSTEMS " in
	*" $s "*) ;;
	*) die_usage "--systems: unknown system '$s' (${ALL_SYSTEMS// /, })" ;;
	esac
	if [ "$s" = pollux ]; then
		if [ ${#lab_pmds[@]} -eq 1 ]; then
			BENCH_LABELS+=(pollux)
		else
			for p in "${lab_pmds[@]}"; do BENCH_LABELS+=("pollux-$p"); done
		fi
	else
		BENCH_LABELS+=("$s")
	fi
done
case " $systems " in *" pollux "*) ;; *) memif=0 ;; esac
[ ${#BENCH_LABELS[@]} -gt 0 ] || [ "$memif" = 1 ] || die_usage "nothing to measure"

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: run this as root (network namespaces, DPDK, apt-get)" >&2
	exit 1
fi

T0=$SECONDS
phase() {
	printf '[%3ds] %s\n' $((SECONDS - T0)) "$*" >&2
}

# 1. Packages and build.
# shellcheck source=../tests/deps.sh
. "$REPO/tests/deps.sh"
phase "checking packages"
if [ "$install" = 1 ]; then
	PX_DEPS+=("${BENCH_PKGS[@]}")
	px_install_deps || { echo "bench: installing packages failed" >&2; exit 1; }
fi
for t in dnsperf taskset ip dig nsd; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "bench: $t is missing (run without --no-install, or apt-get it)" >&2; exit 1; }
done
phase "building pollux (release) in $opt_build"
px_build "$opt_build" -Dbuildtype=release || { echo "bench: the build failed" >&2; exit 1; }
export POLLUX_BIN=$opt_build/control/pollux POLLUXCTL_BIN=$opt_build/control/polluxctl
# af_packet runs without hugepages: its EAL memory must hold the benchmark's 1M-entry cache.
export POLLUX_LAB_MEM_MB=${POLLUX_LAB_MEM_MB:-2048}
export POLLUX_INET_SLD_COUNT=$BENCH_ZONES

# shellcheck source=../tests/lab/internet/internet.sh
. "$REPO/tests/lab/internet/internet.sh"
# shellcheck source=lib/resolvers.sh
. "$BENCH_DIR/lib/resolvers.sh"
# shellcheck source=lib/measure.sh
. "$BENCH_DIR/lib/measure.sh"
# shellcheck source=lib/path.sh
. "$BENCH_DIR/lib/path.sh"
# shellcheck source=lib/report.sh
. "$BENCH_DIR/lib/report.sh"

BENCH_CUR=
cleaned=0
cleanup() {
	local l
	[ "$cleaned" = 0 ] || return 0
	cleaned=1
	if [ "$keep" = 1 ]; then
		phase "--keep: the lab stays up ($POLLUX_LAB_NS_CLI, $POLLUX_INET_NS_RES ...; raw outputs in $BENCH_RUN)"
		return 0
	fi
	phase "removing the lab"
	for l in unbound kresd pdns named; do bench_sys_stop "$l" >/dev/null 2>&1; done
	inet_teardown >/dev/null 2>&1 || echo "bench: warning: the lab's teardown reported errors" >&2
}
trap 'cleanup' EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

case $BENCH_RUN in
/tmp/?* | /var/tmp/?* | /run/?*) ;;
*) echo "bench: BENCH_RUN must be under /tmp, /var/tmp or /run" >&2; exit 1 ;;
esac
rm -rf "$BENCH_RUN" && mkdir -p "$BENCH_RUN" "$opt_out" || exit 1
BENCH_STAMP=$(date -u +%Y%m%dT%H%M%SZ)
BENCH_STAMP_SHORT=$(date -u +%H%M%S)
BENCH_HIT_FILE=$BENCH_RUN/hit.names
bench_gen_hit_file "$BENCH_HIT_FILE" "$BENCH_HIT_NAMES" "$BENCH_ZONES"
bench_machine

# 2. The lab.
phase "bringing up the lab and its internet ($BENCH_ZONES zones; namespaces $POLLUX_LAB_NS_CLI, $POLLUX_LAB_NS_PX, $POLLUX_INET_NS, $POLLUX_INET_NS_RES)"
if ! inet_up >"$BENCH_RUN/inet_up.log" 2>&1; then
	cat "$BENCH_RUN/inet_up.log" >&2
	echo "bench: the lab's internet did not come up" >&2
	exit 1
fi
inet_res_up || { echo "bench: the stock resolvers' namespace did not come up" >&2; exit 1; }

# 3. Each system.
BENCH_DONE=()
BENCH_FAILED=()
declare -A BENCH_FAIL_WHY
fail_sys() { # LABEL WHY
	BENCH_FAILED+=("$1")
	BENCH_FAIL_WHY[$1]=$2
	echo "bench: $1: $2" >&2
}

n=0
for label in "${BENCH_LABELS[@]}"; do
	n=$((n + 1))
	BENCH_CUR=$label
	sys=${label%%-*}
	phase "[$n/${#BENCH_LABELS[@]}] $label: starting"
	: >"$BENCH_RUN/$label.kv"
	bench_kv "$label" sys "$sys"
	if [ "$sys" = pollux ]; then
		if [ "$label" = pollux ]; then POLLUX_LAB_PMD=${lab_pmds[0]:-auto}; else POLLUX_LAB_PMD=${label#pollux-}; fi
		export POLLUX_LAB_PMD
	fi
	if ! bench_sys_start "$sys" 2>"$BENCH_RUN/$label.start.log"; then
		cat "$BENCH_RUN/$label.start.log" >&2
		fail_sys "$label" "did not start"
		bench_sys_stop "$sys" >/dev/null 2>&1
		continue
	fi
	pid=$(bench_sys_pid "$sys")
	addr=$(bench_sys_addr "$sys")
	bench_kv "$label" version "$(bench_sys_version "$sys")"
	[ "$sys" = pollux ] && bench_kv "$label" pmd "$(lab_pmd)"
	bench_step "runs (pid $pid, $addr$([ "$sys" = pollux ] && echo ", PMD $(lab_pmd)"))"
	if ! bench_warm "$label" "$sys" "$pid" "$addr"; then
		fail_sys "$label" "answered nothing while warming"
	elif ! bench_closed "$label" "$sys" "$pid" "$addr"; then
		fail_sys "$label" "answered nothing in the closed-loop run"
	else
		bench_ladder "$label" "$addr"
		bench_latency "$label" "$addr"
		bench_miss "$label" "$sys" "$pid" "$addr"
		BENCH_DONE+=("$label")
	fi
	[ "$sys" = pollux ] && lab_ctl stats >"$BENCH_RUN/$label.stats" 2>&1
	if ! bench_sys_stop "$sys"; then
		echo "bench: $label did not stop cleanly" >&2
	fi
done
BENCH_CUR=

# 4. pollux's own generator through net_memif, 1..N workers.
BENCH_MEMIF_WHY=
if [ "$memif" = 1 ]; then
	if [ ! -x "$BENCH_DIR/run_memif.sh" ]; then
		BENCH_MEMIF_WHY="bench/run_memif.sh is absent or not executable"
		phase "memif: skipped: $BENCH_MEMIF_WHY"
	else
		mkdir -p "$BENCH_RUN/memif"
		for ((w = 1; w <= BENCH_MAX_WORKERS; w++)); do
			phase "memif: bench/run_memif.sh --seconds $BENCH_MEMIF_SECS --workers $w"
			if "$BENCH_DIR/run_memif.sh" --seconds "$BENCH_MEMIF_SECS" --workers "$w" --build "$opt_build" \
				--out "$BENCH_RUN/memif/w$w" >"$BENCH_RUN/memif/w$w.log" 2>&1 &&
				[ -s "$BENCH_RUN/memif/w$w/memif.csv" ]; then
				# Keep the header once and this worker count's row.
				[ -s "$BENCH_RUN/memif/memif.csv" ] ||
					head -1 "$BENCH_RUN/memif/w$w/memif.csv" >"$BENCH_RUN/memif/memif.csv"
				awk -F, -v w="$w" 'NR > 1 && $2 == w' "$BENCH_RUN/memif/w$w/memif.csv" \
					>>"$BENCH_RUN/memif/memif.csv"
			else
				BENCH_MEMIF_WHY="bench/run_memif.sh failed with $w worker(s) (log: $BENCH_RUN/memif/w$w.log)"
				tail -5 "$BENCH_RUN/memif/w$w.log" | sed 's/^/bench:   | /' >&2
				phase "memif: $BENCH_MEMIF_WHY"
				break
			fi
		done
		# Only a header, no row: nothing was measured.
		if [ -s "$BENCH_RUN/memif/memif.csv" ] && [ "$(wc -l <"$BENCH_RUN/memif/memif.csv")" -lt 2 ]; then
			rm -f "$BENCH_RUN/memif/memif.csv"
			BENCH_MEMIF_WHY=${BENCH_MEMIF_WHY:-"bench/run_memif.sh wrote no row"}
		fi
	fi
else
	BENCH_MEMIF_WHY="not requested (--pmd without memif, or pollux not in --systems)"
fi

# 5. Results.
out=$opt_out/compare-$BENCH_STAMP
phase "writing $out.md, .csv, -ladder.csv, .png"
bench_write_csv "$out.csv"
bench_write_ladder "$out-ladder.csv"
bench_write_png "$out-ladder.csv" "$out.png" || echo "bench: no plot written" >&2
bench_write_latency_png "$out-latency.png" || echo "bench: no latency plot written" >&2
bench_write_md "$out.md"
[ -s "$out.png" ] && sed -i "s|^## Goals|![answered against offered]($(basename "$out").png)\n\n## Goals|" "$out.md"
cat "$out.md"
phase "done: $out.md"
if [ ${#BENCH_FAILED[@]} -gt 0 ]; then
	echo "bench: failed: ${BENCH_FAILED[*]}" >&2
	exit 1
fi
exit 0
