#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Runs the libFuzzer harnesses of a -Dfuzz=true build (CC=clang, ASan+UBSan).
#
#   tests/fuzz/run.sh ci BUILD_DIR
#       What CI runs, deterministic by construction: every harness first replays its regression
#       inputs (tests/fuzz/regress/HARNESS: every crash or leak a fuzzer ever found) and the
#       committed corpus (tests/fuzz/corpus/HARNESS), then fuzzes a fixed number of runs from a
#       fixed seed, starting from that corpus. Nothing depends on the clock or on a corpus left
#       by an earlier run, so a red run means a real finding, found again on every run.
#
#   tests/fuzz/run.sh campaign BUILD_DIR HARNESS SECONDS [JOBS]
#       A long campaign, outside CI: fuzzes from the committed corpus with a random seed for
#       SECONDS (JOBS processes), keeps what it finds in BUILD_DIR/campaign/HARNESS, and prints
#       one line for tests/fuzz/README.md: date, harness, seconds, executions, result.
#       Merge what a campaign learned back into the committed corpus with
#       `HARNESS -merge=1 tests/fuzz/corpus/HARNESS BUILD_DIR/campaign/HARNESS`; put a crash or
#       leak input in tests/fuzz/regress/HARNESS with the fix.
#
# Environment: FUZZ_SEED [1], FUZZ_RUNS_SCALE [1]: the CI run counts are multiplied by it.
# FUZZ_MAX_RUNS: a campaign also stops after this many executions (all jobs together), so one
# can be run to a count, and paused (SIGSTOP) while the machine benchmarks, with SECONDS set
# high. FUZZ_CHUNK_RUNS: the campaign runs as successive processes of at most this many
# executions (per job), each from the corpus grown so far, and the row sums them. A long-lived
# fuzz_hints process slows down (17k executions/s fresh, 6k after 25 minutes on the same
# corpus); a fresh process every few million runs keeps the rate.
# ASAN_OPTIONS: a campaign defaults it to CAMPAIGN_ASAN below, an explicit value wins.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HARNESSES=(fuzz_wire fuzz_reply fuzz_frame fuzz_hints fuzz_prime fuzz_http)

# Fixed runs per harness in CI: about 15-25 s each on the 2-core CI machine. fuzz_hints goes
# through ldns per input and is ~20x slower than the wire parsers.
ci_runs() {
	case $1 in
	fuzz_wire | fuzz_frame | fuzz_http | fuzz_prime) echo 2000000 ;;
	fuzz_reply) echo 1500000 ;;
	fuzz_hints) echo 120000 ;;
	esac
}

# The inputs a harness replays: its regression inputs and its committed corpus.
inputs() {
	local d
	for d in "$here/regress/$1" "$here/corpus/$1"; do
		[ -d "$d" ] && echo "$d"
	done
}

ci() {
	local build=$1 f rc=0 work runs
	for f in "${HARNESSES[@]}"; do
		local exe=$build/tests/fuzz/$f log=$build/$f.log
		[ -x "$exe" ] || { echo "$f: not built in $build"; return 1; }
		mapfile -t dirs < <(inputs "$f")
		# Replay first: a regression that comes back fails here, named by its file.
		if ! "$exe" -runs=0 "${dirs[@]}" >"$log.replay" 2>&1; then
			echo "$f: a regression or corpus input fails:"
			tail -40 "$log.replay"
			rc=1
			continue
		fi
		# Then fuzz: new inputs go to a fresh directory (the first one named), so that the
		# committed corpus is read, never written, and no earlier run changes this one.
		work=$(mktemp -d "${TMPDIR:-/tmp}/pollux-$f.XXXXXX")
		runs=$(($(ci_runs "$f") * ${FUZZ_RUNS_SCALE:-1}))
		if "$exe" -seed="${FUZZ_SEED:-1}" -runs="$runs" -print_final_stats=1 \
			"$work" "${dirs[@]}" >"$log" 2>&1; then
			echo "$f: $(find "${dirs[@]}" -type f | wc -l) inputs replayed," \
				"$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" |
					grep -oE '[0-9]+$') runs from seed ${FUZZ_SEED:-1}: clean"
		else
			echo "$f: FAILED (seed ${FUZZ_SEED:-1}; the input is in $build or the log):"
			tail -40 "$log"
			rc=1
		fi
		rm -rf "$work"
	done
	return $rc
}

# A campaign's ASan settings. ASan fills each new block with a junk byte (up to 4 KiB) and keeps
# 256 MiB of freed blocks in quarantine; under the ldns-heavy harness that is half the time
# (10.8k against 19k executions/s for fuzz_hints, same corpus and seed). The fill only makes
# reads of uninitialised memory more visible, which ASan does not check anyway, and an 8 MiB
# quarantine is still thousands of times one input's allocations. CI keeps the defaults.
CAMPAIGN_ASAN=max_malloc_fill_size=0:quarantine_size_mb=8

campaign() {
	local build=$1 f=$2 seconds=$3 jobs=${4:-1} exe out log execs=0 result=0 n left runs
	exe=$build/tests/fuzz/$f
	[ -x "$exe" ] || { echo "$f: not built in $build" >&2; return 1; }
	out=$build/campaign/$f
	log=$build/campaign/$f.log
	mkdir -p "$out"
	: >"$log"
	mapfile -t dirs < <(inputs "$f")
	local t0=$SECONDS commit chunks=0
	commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null)
	export ASAN_OPTIONS=${ASAN_OPTIONS:-$CAMPAIGN_ASAN}
	# One process (or one set of JOBS) per chunk, each starting from the corpus grown so far.
	while left=$((seconds - (SECONDS - t0))) && [ "$left" -gt 0 ]; do
		local -a opts=(-max_total_time="$left" -print_final_stats=1)
		runs=${FUZZ_CHUNK_RUNS:-}
		if [ -n "${FUZZ_MAX_RUNS:-}" ]; then
			n=$(((FUZZ_MAX_RUNS - execs + jobs - 1) / jobs))
			[ "$n" -gt 0 ] || break
			[ -z "$runs" ] || [ "$n" -lt "$runs" ] && runs=$n
		fi
		[ -n "$runs" ] && opts+=(-runs="$runs")
		rm -f "$build"/campaign/fuzz-*.log
		if [ "$jobs" -gt 1 ]; then
			(cd "$build/campaign" && "$exe" "${opts[@]}" -jobs="$jobs" -workers="$jobs" \
				"$out" "${dirs[@]}" >"$log.chunk" 2>&1)
		else
			"$exe" "${opts[@]}" "$out" "${dirs[@]}" >"$log.chunk" 2>&1
		fi
		result=$?
		# With -jobs each worker logs to fuzz-N.log; sum their final counts.
		n=$(cat "$log.chunk" "$build"/campaign/fuzz-*.log 2>/dev/null |
			grep -oE 'stat::number_of_executed_units: [0-9]+' | grep -oE '[0-9]+$' |
			awk '{s += $1} END {print s + 0}')
		execs=$((execs + n))
		chunks=$((chunks + 1))
		cat "$log.chunk" "$build"/campaign/fuzz-*.log >>"$log" 2>/dev/null
		[ "$result" -eq 0 ] && [ -n "${FUZZ_CHUNK_RUNS:-}" ] || break
	done
	rm -f "$log.chunk"
	[ "$result" -eq 0 ] && result=clean || result="FOUND (exit $result, see $log)"
	echo "| $(date -u +%Y-%m-%d) | $f (code at $commit, ASAN_OPTIONS=$ASAN_OPTIONS) |" \
		"$((SECONDS - t0)) s x $jobs, $chunks process(es) | $execs | $result |"
}

case ${1:-} in
ci) [ $# -eq 2 ] || { echo "usage: $0 ci BUILD_DIR" >&2; exit 2; }
	ci "$2" ;;
campaign) [ $# -ge 4 ] || { echo "usage: $0 campaign BUILD_DIR HARNESS SECONDS [JOBS]" >&2; exit 2; }
	campaign "$2" "$3" "$4" "${5:-1}" ;;
*) echo "usage: $0 ci BUILD_DIR | campaign BUILD_DIR HARNESS SECONDS [JOBS]" >&2; exit 2 ;;
esac
