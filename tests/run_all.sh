#!/usr/bin/env bash
# The README's second command, and what .ci/run calls: installs what the tests need (Debian 12,
# as root), then builds and runs every test:
#   1. the Check unit tests and the data-plane symbol check, in a -Werror build;
#   2. the same tests again under AddressSanitizer and UndefinedBehaviorSanitizer;
#   3. the libFuzzer harnesses (clang), deterministically: each replays its regression inputs
#      and the committed corpus, then fuzzes a fixed number of runs from a fixed seed
#      (tests/fuzz/run.sh; long campaigns run outside CI: tests/fuzz/README.md);
#   4. the lab integration tests: the real daemon on a veth pair in network namespaces (DNS over
#      TCP included: tests/lab/test_tcp_lab.sh);
#   5. a one-second smoke run of the cache-hit benchmark (it checks itself; no timing asserted),
#      a short run of the cache-miss benchmark (bench/run_miss.sh --quick: resolutions happened,
#      every query was answered),
#      and bench/run.sh --quick: every system (pollux, Unbound, kresd, pdns_recursor, named) and
#      pollux's memif generator measured briefly, so the harness itself is known to work. Its
#      figures are not asserted (they go to $PX_BENCH_OUT); the full benchmark is not run here.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/deps.sh
px_install_deps || exit 1

passed=0
failed=0
failures=()
step() { # step NAME COMMAND...
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
		echo "=== $name: ok"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "=== $name: FAILED"
	fi
}

unit() { # unit BUILD_DIR [meson options...]
	local dir=$1
	shift
	px_build "$dir" "$@" && meson test -C "$dir" --print-errorlogs --num-processes 1
}

fuzz() {
	local dir=build-fuzz
	CC=clang px_build "$dir" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debugoptimized || return 1
	tests/fuzz/run.sh ci "$dir"
}

bench_smoke() {
	./build/bench/bench_hit -l 0,1 --no-huge -m 512 --no-pci --no-telemetry \
		--file-prefix pxbench-smoke -- --seconds 1 --names 1000 2>/dev/null &&
		./build/bench/bench_hit -l 0,1 --no-huge -m 512 --no-pci --no-telemetry \
			--file-prefix pxbench-smoke -- --seconds 1 --names 1000 --mode inline \
			--access compare 2>/dev/null
}

step "unit tests (-Werror)" unit build -Dwerror=true
step "unit tests (ASan+UBSan)" unit build-asan -Dwerror=true -Db_sanitize=address,undefined \
	-Db_lundef=false -Dbuildtype=debug
step "fuzz (regression inputs, committed corpus, fixed seed and runs)" fuzz
step "lab integration" tests/lab/test_lab.sh
step "lab root hints" tests/lab/test_hints_lab.sh
step "lab simulated internet (Unbound)" tests/lab/internet/test_internet.sh
step "lab simulated internet (pollux resolves)" tests/lab/internet/test_pollux_internet.sh
step "lab upstream sharing and 0x20 (400-client crowds)" tests/lab/internet/test_coalesce_lab.sh
step "lab serve-stale and prefetch (pollux and Unbound, a zone's server stopped)" tests/lab/internet/test_stale_lab.sh
step "lab DNS over TCP (client TCP, TC retry upstream, only DNS reaches the kernel)" tests/lab/test_tcp_lab.sh
step "lab fair share (a silent-zone flood starves nobody)" tests/lab/test_fairshare_lab.sh
step "lab PMDs (pcap, tap, af_packet)" tests/lab/test_pmds.sh
step "lab access control and rate limiting" tests/lab/test_acl_lab.sh
step "lab Prometheus metrics (promtool, a real Prometheus scrapes)" tests/lab/test_metrics_lab.sh
step "lab health (polluxctl health, GET /health: a stuck worker, no resolution)" tests/lab/test_health_lab.sh
step "lab VLAN (802.1Q tagged ARP, UDP and TCP; untagged, other-VLAN and QinQ dropped)" tests/lab/test_vlan_lab.sh
step "lab reload (zones, do-not-query, TTL caps, hints; a bad line refused; restart-only)" tests/lab/test_reload_lab.sh
step "lab cache control (flush, flush-zone, flush-all, lookup, dump-cache)" tests/lab/test_flush_lab.sh
step "lab dnstap (a file read by dnstap-read, fstrm_capture on a socket, sampling)" tests/lab/test_dnstap_lab.sh
step "lab systemd (install, systemd-analyze verify, READY=1, reloads, watchdog vs a stuck worker)" tests/lab/test_systemd_lab.sh
step "benchmark smoke run" bench_smoke
# The cache-miss benchmark, short (about 15 s): resolutions happened through the generator's
# authoritative servers and every query was answered; no figure is asserted.
step "benchmark smoke: cache misses through memif (bench/run_miss.sh --quick)" \
	bench/run_miss.sh --quick --no-build
PX_BENCH_OUT=${PX_BENCH_OUT:-${TMPDIR:-/tmp}/pollux-bench-quick}
# The quick run asserts no figure, only that the report carries what each run reads: here,
# pollux's upstream counters over the miss run.
bench_quick() {
	local md
	bench/run.sh --quick --out "$PX_BENCH_OUT" || return 1
	md=$(ls -t "$PX_BENCH_OUT"/compare-*.md 2>/dev/null | head -1)
	if ! grep -Eq '^\| spurious upstream timeouts in the miss run .*\| [0-9]+ late replies of [0-9]+ queries \([0-9]+ timeouts\)' "$md"; then
		echo "bench: ${md:-no report}: no spurious-timeout row with pollux's upstream counters"
		return 1
	fi
	# Each open-loop step's path, hop by hop: for pollux, on each PMD, through its port counters
	# (the XDP program's count on af_xdp) and its loop gaps, for a stock resolver through its
	# namespace's UDP counters.
	if ! grep -Eq '^\| pollux-af_xdp \| [0-9]+ \| dnsperf sent [0-9]+ > .* > server veth xdp [0-9]+ > pollux in [0-9]+ > pollux out [0-9]+ > .* > dnsperf completed [0-9]+ \| .* \| [0-9]+ \([0-9]+ of 10 ms or more\) \|$' "$md" ||
		! grep -Eq '^\| pollux-af_packet \| [0-9]+ \| dnsperf sent [0-9]+ > .* > server veth rx [0-9]+ > pollux in [0-9]+ > pollux out [0-9]+ > .* > dnsperf completed [0-9]+ \| .* \| [0-9]+ \([0-9]+ of 10 ms or more\) \|$' "$md" ||
		! grep -Eq '^\| unbound \| [0-9]+ \| dnsperf sent [0-9]+ > .* > resolver udp in [0-9]+ > .* > dnsperf completed [0-9]+ \| .* \| - \|$' "$md"; then
		echo "bench: $md: the open-loop steps' paths are missing"
		return 1
	fi
	# The latency run's tail, with pollux's loop gaps over it, and the open-loop goals.
	if ! grep -Eq '^\| pollux-af_xdp \| [0-9]+ \| [0-9]+ \| [0-9]+ \| [0-9]+ \| [0-9]+ \([0-9]+\) \|$' "$md" ||
		! grep -Eq '^\| max rate at <= [0-9.]+ % loss: pollux-af_packet >= Unbound' "$md" ||
		! grep -Eq '^\| p99 at [0-9]+ q/s: pollux-af_xdp no worse than Unbound \| pollux-af_xdp [0-9.]+ ms, Unbound [0-9.]+ ms \| (met|not met)' "$md"; then
		echo "bench: $md: the latency tail or the open-loop goals are missing"
		return 1
	fi
}
step "benchmark harness, quick mode (bench/run.sh --quick)" bench_quick

echo
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
