#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The results of bench/run.sh: from the per-system "key value" files in $BENCH_RUN, writes
#   <out>.md          the machine, one row per system, the goals (met or by how much not), the
#                     memif generator rows, how each figure was taken;
#   <out>.csv         long format, one figure a line: stamp,system,metric,value,unit (machine
#                     facts under system "machine", run_memif.sh rows under "pollux-memif"), so
#                     that runs with different systems or options concatenate;
#   <out>-ladder.csv  system,offered_qps,answered_qps,loss_pct: every open-loop run;
#   <out>.png         answered rate against offered load, one line per system (gnuplot), when
#                     gnuplot is installed (the run says so when it is not);
#   <out>-latency.png the latency run's distribution, one line per system: the share of answers
#                     slower than x (log scales, so the tail shows), likewise.
# Sourced, never run.

bench_machine() {
	BENCH_M_CPU=$(lscpu 2>/dev/null | awk -F': *' '$1 == "Model name" {print $2; exit}')
	BENCH_M_CORES=$(nproc)
	BENCH_M_KERNEL=$(uname -r)
	# Others may share the machine: their load at the start explains noisy figures.
	BENCH_M_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
	BENCH_M_DPDK=$(pkg-config --modversion libdpdk 2>/dev/null ||
		dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo unknown)
}

# A figure of a system, or "-" when it was not measured.
bench_fig() { # LABEL KEY
	local v
	v=$(bench_get "$1" "$2")
	echo "${v:--}"
}

bench_ratio() { # A B -> A / B with one decimal, or "-"
	awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-" || b + 0 <= 0 || a == "") print "-";
		else printf "%.1f", a / b}'
}

# Answers per CPU-second from CPU-seconds per million answers.
bench_per_cpu_s() { # CPU_S_PER_M
	awk -v s="$1" 'BEGIN {if (s == "-" || s + 0 <= 0) print "-"; else printf "%.0f", 1e6 / s}'
}

bench_write_csv() { # FILE
	local f=$1 label k u
	{
		echo "stamp,system,metric,value,unit"
		echo "$BENCH_STAMP,machine,cpu,\"$BENCH_M_CPU\","
		echo "$BENCH_STAMP,machine,cores,$BENCH_M_CORES,"
		echo "$BENCH_STAMP,machine,kernel,$BENCH_M_KERNEL,"
		echo "$BENCH_STAMP,machine,loadavg,\"$BENCH_M_LOAD\","
		echo "$BENCH_STAMP,machine,dpdk,$BENCH_M_DPDK,"
		echo "$BENCH_STAMP,machine,mode,$BENCH_MODE,"
		echo "$BENCH_STAMP,machine,hit_ratio,$BENCH_HIT_RATIO,%"
		echo "$BENCH_STAMP,machine,seconds_per_run,$BENCH_SECS,s"
		for label in "${BENCH_DONE[@]}"; do
			while read -r k v; do
				[ -n "$k" ] || continue
				case $k in
				*_qps | max_rate_ok) u=queries/s ;;
				*_ms) u=ms ;;
				*_s_per_m) u=cpu_s/M_answers ;;
				*_cpu_s_per_k) u=cpu_s/k_answers ;;
				*_cpu_s | *_busy_s) u=s ;;
				busy_cycles_per_answer) u=cycles ;;
				*) u= ;;
				esac
				case $v in
				*[,\ ]*) v="\"$v\"" ;;
				esac
				echo "$BENCH_STAMP,$label,$k,$v,$u"
			done <"$BENCH_RUN/$label.kv"
		done
		if [ -s "$BENCH_RUN/memif/memif.csv" ]; then
			awk -F, -v s="$BENCH_STAMP" 'NR == 1 {for (i = 1; i <= NF; i++) h[i] = $i; next}
				{for (i = 2; i <= NF; i++) printf "%s,pollux-memif,w%s_%s,%s,\n", s, $2, h[i], $i}' \
				"$BENCH_RUN/memif/memif.csv"
		fi
	} >"$f"
}

bench_write_ladder() { # FILE
	local label
	{
		echo "system,offered_qps,answered_qps,loss_pct"
		for label in "${BENCH_DONE[@]}"; do
			[ -s "$BENCH_RUN/$label.ladder" ] || continue
			sort -n "$BENCH_RUN/$label.ladder" | awk -v s="$label" '{print s "," $1 "," $2 "," $3}'
		done
	} >"$1"
}

bench_write_png() { # LADDER_CSV PNG
	local csv=$1 png=$2 label plot= sep=
	if ! command -v gnuplot >/dev/null 2>&1; then
		echo "bench: gnuplot is not installed: no plot" >&2
		return 1
	fi
	for label in "${BENCH_DONE[@]}"; do
		grep -q "^$label," "$csv" || continue
		plot="$plot$sep'< grep \"^$label,\" $csv' using (\$2/1000):(\$3/1000) with linespoints title '$label'"
		sep=", "
	done
	[ -n "$plot" ] || return 1
	gnuplot <<EOF
set terminal pngcairo size 1000,650 noenhanced
set output '$png'
set datafile separator ','
set title 'Cache-hit answers against offered load ($BENCH_MODE run, $BENCH_STAMP, hit ratio $BENCH_HIT_RATIO %)'
set xlabel 'offered load (k queries/s, dnsperf -Q on core $BENCH_CLIENT_CORE)'
set ylabel 'answered (k answers/s)'
set key left top
set grid
plot $plot, x with lines dashtype 2 lc rgb 'gray' title 'answered = offered'
EOF
}

bench_write_latency_png() { # PNG
	local png=$1 label plot= sep= f
	command -v gnuplot >/dev/null 2>&1 || return 1
	for label in "${BENCH_DONE[@]}"; do
		f=$BENCH_RUN/$label.lat
		[ -s "$f" ] || continue
		# x: latency (ms); y: the share of answers at least that slow.
		awk -v n="$(wc -l <"$f")" '{print $1, (n - NR + 1) / n}' "$f" >"$f.ccdf"
		plot="$plot$sep'$f.ccdf' using 1:2 with lines title '$label at $(bench_get "$label" lat_qps) q/s'"
		sep=", "
	done
	[ -n "$plot" ] || return 1
	gnuplot <<EOF
set terminal pngcairo size 1000,650 noenhanced
set output '$png'
set title 'Latency of cache hits ($BENCH_MODE run, $BENCH_STAMP): share of answers slower than x'
set xlabel 'latency (ms, dnsperf on core $BENCH_CLIENT_CORE)'
set ylabel 'share of answers at least this slow'
set logscale xy
set format y '%g'
set yrange [0.0001:1]
set key right top
set grid
plot $plot
EOF
}

bench_write_md() { # FILE
	local f=$1 label ub px best bestsys v m r
	{
		echo "# pollux against stock resolvers, $BENCH_STAMP ($BENCH_MODE run)"
		echo
		echo "| machine | |"
		echo "|---|---|"
		echo "| CPU | $BENCH_M_CPU |"
		echo "| cores | $BENCH_M_CORES (client dnsperf on core $BENCH_CLIENT_CORE; resolver on core $BENCH_RES_CORE) |"
		echo "| kernel | $BENCH_M_KERNEL |"
		echo "| load average before the run | $BENCH_M_LOAD (on $BENCH_M_CORES cores: other work shares them) |"
		echo "| DPDK | $BENCH_M_DPDK |"
		echo "| pollux PMD in the lab | $(for label in "${BENCH_DONE[@]}"; do v=$(bench_get "$label" pmd); [ -n "$v" ] && printf '%s: %s ' "$label" "$v"; done) |"
		echo "| query mix | $BENCH_HIT_RATIO % cache hits in the hit-phase runs; hit set of $BENCH_HIT_NAMES names; $BENCH_ZONES zones |"
		echo "| run lengths | ${BENCH_SECS}s closed loop and misses, ${BENCH_STEP_SECS}s per open-loop step |"
		echo
		echo "| system | version | closed loop (answers/s) | max rate, loss <= $BENCH_MAX_LOSS % (q/s) | p50 / p99 / p99.9 (ms) at q/s | CPU s per M answers | answers per CPU-s | misses (NOERROR/s) |"
		echo "|---|---|---|---|---|---|---|---|"
		for label in "${BENCH_DONE[@]}"; do
			v=$(bench_fig "$label" cpu_s_per_m)
			m=$(bench_fig "$label" max_rate_ok)
			[ "$(bench_get "$label" max_rate_bounded)" = no ] && m="$m (client-bound)"
			if [ "$(bench_get "$label" sys)" = pollux ]; then
				r="$(bench_fig "$label" busy_s_per_m) busy ($v process)"
				v=$(bench_per_cpu_s "$(bench_fig "$label" busy_s_per_m)")
			else
				r=$v
				v=$(bench_per_cpu_s "$v")
			fi
			echo "| $label | $(bench_get "$label" version) | $(bench_fig "$label" closed_qps) | $m | $(bench_fig "$label" lat_p50_ms) / $(bench_fig "$label" lat_p99_ms) / $(bench_fig "$label" lat_p999_ms) at $(bench_fig "$label" lat_qps) | $r | $v | $(bench_fig "$label" miss_qps) |"
		done
		for label in "${BENCH_FAILED[@]}"; do
			echo "| $label | $(bench_sys_version "${label%%-*}") | failed: ${BENCH_FAIL_WHY[$label]} | | | | | |"
		done
		echo
		bench_md_goals
		echo
		bench_md_memif
		echo
		bench_md_path
		echo
		echo "## How these figures were taken"
		echo
		cat <<EOF
- One lab (tests/lab/internet/: nsd root, TLD and $BENCH_ZONES zN.test zones with wildcards),
  one client (dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2}') in the client namespace,
  pinned to core $BENCH_CLIENT_CORE), each system in turn on core $BENCH_RES_CORE, all in this one
  run. Stock resolvers: one worker thread, DNSSEC off, the lab's root hints, ${BENCH_CACHE_MB} MB of
  cache, $BENCH_RES_SLOTS concurrent resolutions (bench/lib/resolvers.sh has their configs).
  pollux: control thread on core 0, one worker on core 1, --idle-sleep-us $POLLUX_LAB_IDLE_US.
- Closed loop: dnsperf -q $BENCH_OUTSTANDING -c 4 for ${BENCH_SECS}s over the warmed hit set.
  Max rate: open-loop dnsperf -Q steps at $(echo "$BENCH_LADDER" | tr ' ' '/') x the closed-loop
  figure, then $BENCH_BISECT bisection steps; a step dnsperf could not send at (under 95 % of
  the rate) counts as failed. "client-bound" means no step lost more than $BENCH_MAX_LOSS %, or
  dnsperf could not send faster: the figure is then dnsperf's ceiling on one core, not the
  resolver's.
- Latency: dnsperf -v (one line per answer) at one rate for every system ($BENCH_LAT_QPS q/s,
  queueing included for a system whose max rate is lower); percentiles over the answers,
  timeouts counted apart; the distribution is the -latency.png plot.
- CPU per million answers: over the closed-loop run. Stock resolvers: utime+stime of the
  process, all threads (/proc/PID/stat). pollux: the worker's busy_cycles / tsc.hz (cycles of
  loop iterations that received packets), which is its capacity per core; its process CPU
  time is shown beside it and is not comparable: a DPDK worker polls, so it burns its core
  whether or not there is traffic (minus --idle-sleep-us naps), and on af_xdp/af_packet much of
  the per-packet cost is in the kernel's softirq, charged to no process (the stock resolvers'
  socket receive path is largely there too).
- Misses: closed loop (dnsperf -n 1 -q $BENCH_MISS_OUTSTANDING) over $BENCH_MISS_LINES names
  never asked before (wildcards): every answer is a resolution through the lab's nsd servers,
  which run unpinned on the same two cores.
EOF
	} >"$f"
}

bench_md_goals() {
	local label px= ub= best=0 bestsys= pxb pxm ubm ratio v w1
	for label in "${BENCH_DONE[@]}"; do
		case $(bench_get "$label" sys) in
		pollux) [ -n "$px" ] || px=$label ;;
		unbound) ub=$label ;;
		esac
		if [ "$(bench_get "$label" sys)" != pollux ]; then
			v=$(bench_get "$label" miss_qps)
			if [ "${v:-0}" -gt "$best" ]; then
				best=$v
				bestsys=$label
			fi
		fi
	done
	echo "## Goals (measured, not asserted)"
	echo
	echo "| goal | measured | verdict |"
	echo "|---|---|---|"
	if [ -n "$px" ] && [ -n "$ub" ]; then
		pxb=$(bench_per_cpu_s "$(bench_fig "$px" busy_s_per_m)")
		ubm=$(bench_per_cpu_s "$(bench_fig "$ub" cpu_s_per_m)")
		ratio=$(bench_ratio "$pxb" "$ubm")
		echo "| cache hits per CPU-second: pollux >= 50x Unbound | pollux $pxb (worker busy time), Unbound $ubm: ${ratio}x | $(bench_verdict "$ratio" 50 x) |"
	else
		echo "| cache hits per CPU-second: pollux >= 50x Unbound | not measured (needs pollux and unbound in --systems) | - |"
	fi
	w1=
	if [ -s "$BENCH_RUN/memif/memif.csv" ]; then
		w1=$(awk -F, 'NR > 1 && $2 == 1 {print $3; exit}' "$BENCH_RUN/memif/memif.csv")
	fi
	# Through memif the one worker is saturated by pollux's own generator, so its answers per
	# second are its answers per CPU-second, without the kernel's af_xdp/af_packet path.
	if [ -n "$w1" ] && [ -n "$ub" ]; then
		ubm=$(bench_per_cpu_s "$(bench_fig "$ub" cpu_s_per_m)")
		ratio=$(bench_ratio "$w1" "$ubm")
		echo "| the same, pollux's worker saturated through memif | pollux $(printf '%.0f' "$w1") (1 worker, memif), Unbound $ubm: ${ratio}x | $(bench_verdict "$ratio" 50 x) |"
	fi
	if [ -n "$w1" ]; then
		echo "| >= 10 M answers/s per worker core through memif | $(awk -v a="$w1" 'BEGIN {printf "%.2f M", a / 1e6}') (1 worker) | $(bench_verdict "$(awk -v a="$w1" 'BEGIN {printf "%.2f", a / 1e6}')" 10 M) |"
	else
		echo "| >= 10 M answers/s per worker core through memif | not measured: ${BENCH_MEMIF_WHY:-no memif row} | - |"
	fi
	if [ -n "$px" ] && [ -n "$bestsys" ]; then
		pxm=$(bench_fig "$px" miss_qps)
		ratio=$(bench_ratio "$pxm" "$best")
		echo "| cache-miss answers/s: pollux >= 2x the best stock resolver | pollux $pxm, best $bestsys $best: ${ratio}x | $(bench_verdict "$ratio" 2 x) |"
	else
		echo "| cache-miss answers/s: pollux >= 2x the best stock resolver | not measured (needs pollux and a stock resolver) | - |"
	fi
	# The open-loop goals, for each pollux row (one per lab PMD) against Unbound's.
	for label in "${BENCH_DONE[@]}"; do
		[ "$(bench_get "$label" sys)" = pollux ] && [ -n "$ub" ] || continue
		bench_md_goal_rate "$label" "$ub"
		bench_md_goal_p99 "$label" "$ub"
	done
	for label in "${BENCH_DONE[@]}"; do
		[ "$(bench_get "$label" sys)" = pollux ] && [ -n "$(bench_get "$label" miss_upstream_sent)" ] || continue
		v=$(bench_get "$label" miss_upstream_spurious_pct)
		echo "| spurious upstream timeouts in the miss run < 0.01 % of upstream queries ($label) | $(bench_get "$label" miss_upstream_spurious) late replies of $(bench_get "$label" miss_upstream_sent) queries ($(bench_get "$label" miss_upstream_timeouts) timeouts): $v % | $(awk -v v="$v" 'BEGIN {print (v + 0 < 0.01 ? "met" : "not met")}') |"
	done
}

# Highest rate at <= BENCH_MAX_LOSS % loss: pollux at least Unbound's, or dnsperf the limit for
# both (no step of either lost more: their figures are then the client's ceiling).
bench_md_goal_rate() { # POLLUX_LABEL UNBOUND_LABEL
	local p u pb ub verdict
	p=$(bench_fig "$1" max_rate_ok) u=$(bench_fig "$2" max_rate_ok)
	pb=$(bench_get "$1" max_rate_bounded) ub=$(bench_get "$2" max_rate_bounded)
	if [ "$p" = - ] || [ "$u" = - ]; then
		verdict="not measured"
	elif [ "$p" -ge "$u" ]; then
		verdict=met
	elif [ "$pb" = no ] && [ "$ub" = no ]; then
		verdict="met: dnsperf is the limit for both"
	else
		verdict=$(bench_verdict "$(awk -v p="$p" -v u="$u" 'BEGIN {printf "%.3f", p / u}')" 1 x)
	fi
	echo "| max rate at <= $BENCH_MAX_LOSS % loss: $1 >= Unbound (or dnsperf the limit for both) | $1 $p$([ "$pb" = no ] && echo ' (client-bound)'), Unbound $u$([ "$ub" = no ] && echo ' (client-bound)') | $verdict |"
}

# p99 latency at the common latency rate: pollux no worse than Unbound.
bench_md_goal_p99() { # POLLUX_LABEL UNBOUND_LABEL
	local p u verdict
	p=$(bench_fig "$1" lat_p99_ms) u=$(bench_fig "$2" lat_p99_ms)
	if [ "$p" = - ] || [ "$u" = - ]; then
		verdict="not measured"
	else
		verdict=$(awk -v p="$p" -v u="$u" 'BEGIN {
			if (p <= u) print "met"; else printf "not met: %.3f ms slower\n", p - u}')
	fi
	echo "| p99 at $(bench_fig "$1" lat_qps) q/s: $1 no worse than Unbound | $1 $p ms, Unbound $u ms | $verdict |"
}

bench_verdict() { # VALUE GOAL UNIT
	awk -v v="$1" -v g="$2" -v u="$3" 'BEGIN {
		if (v == "-" || v == "") {print "not measured"; exit}
		if (v + 0 >= g + 0) printf "met\n"
		else printf "not met: %.1f%s short (%.0f %% of the goal)\n", g - v, u, v * 100 / g }'
}

# Every open-loop step's path (bench/lib/path.sh): the counts hop by hop, the hop that lost
# most, and the drops the kernel and the PMD counted.
bench_md_path() {
	local label v
	echo "## Where lost queries died (open-loop steps)"
	echo
	echo "Counts per hop over each step, queries then answers; the hop where the count fell most;"
	echo "every drop counter that moved (bench/lib/path.sh says what each one is); for pollux, how"
	echo "often its worker went 1 ms or more without polling (a loss or tail of its own)."
	echo
	echo "| system | offered q/s | path | most lost | drops counted | pollux polls >= 1 ms apart |"
	echo "|---|---|---|---|---|---|"
	for label in "${BENCH_DONE[@]}"; do
		[ -s "$BENCH_RUN/$label.path" ] || continue
		awk -F' [|] ' -v s="$label" '{
			sub(/^most lost: /, "", $3); sub(/^drops counted: ?/, "", $4)
			sub(/^pollux polls 1 ms or more apart: /, "", $5)
			print "| " s " | " $1 " | " $2 " | " $3 " | " $4 " | " $5 " |"}' "$BENCH_RUN/$label.path"
	done
	echo
	echo "## Where the latency tail came from (the latency run)"
	echo
	echo "Answers slower than 1 ms at the client, and, for pollux, the polls its worker made 1 ms"
	echo "or more after the previous one over the same run. A tail with no such gap was spent"
	echo "outside pollux: in the kernel's path on the client's core, or in dnsperf itself."
	echo
	echo "| system | q/s | answers | slower than 1 ms | slower than 10 ms | pollux polls >= 1 ms apart (>= 10 ms) |"
	echo "|---|---|---|---|---|---|"
	for label in "${BENCH_DONE[@]}"; do
		[ -n "$(bench_get "$label" lat_answers)" ] || continue
		if [ "$(bench_get "$label" sys)" = pollux ]; then
			v="$(bench_fig "$label" lat_px_gap_1ms) ($(bench_fig "$label" lat_px_gap_10ms))"
		else
			v=-
		fi
		echo "| $label | $(bench_fig "$label" lat_qps) | $(bench_fig "$label" lat_answers) | $(bench_fig "$label" lat_slow_1ms) | $(bench_fig "$label" lat_slow_10ms) | $v |"
	done
}

bench_md_memif() {
	echo "## pollux's own generator through net_memif (bench/run_memif.sh)"
	echo
	if [ -s "$BENCH_RUN/memif/memif.csv" ]; then
		awk -F, 'NR == 1 {printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; printf "\n|";
				for (i = 1; i <= NF; i++) printf "---|"; printf "\n"; next}
			{printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; printf "\n"}' \
			"$BENCH_RUN/memif/memif.csv"
		echo
		echo "Scaling: worker counts 1..$BENCH_MAX_WORKERS on $BENCH_M_CORES cores (one core is the" \
			"control thread's and the generator's$([ "$BENCH_MAX_WORKERS" -le 1 ] && echo ': on this machine that leaves 1 worker, so only 1 was measured'))"
	else
		echo "Not measured: ${BENCH_MEMIF_WHY:-not requested}. No row is made up in its place."
	fi
}
