#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The measurements of bench/run.sh, one system at a time, with dnsperf (Debian 12: 2.10.0) in
# the lab's client namespace, pinned to BENCH_CLIENT_CORE. Sourced, never run.
#
# dnsperf 2.10 has no latency histogram (no -O latency-histogram; its long options are only
# num-queries-per-conn, suppress and the DoH ones): it prints the mean and the standard
# deviation. Percentiles come from its verbose mode instead, which prints one line per answer,
# "> RCODE qname qtype latency" ("T" for a timeout). Writing a line per answer costs the client
# time, so percentiles are taken in their own run at a fixed rate well under every system's
# ceiling (BENCH_LAT_QPS), never during a throughput run.
#
# Query names, all in the lab's zN.test wildcards (*.w.zN.test A), so every one exists and is
# answered NOERROR with one A record by every system:
#   hit set    h<i>.w.z<k>.test, BENCH_HIT_NAMES of them, asked twice before any hit figure
#              (the second pass proves them cached: for pollux, the hit counter must grow by
#              the number asked).
#   misses     <tag>-<i>.w.z<k>.test, with a tag per system and run, never asked before: each is a
#              resolution (from the cached zone cut once the zone's delegation is cached, for
#              every system).
#   mix        with --hit-ratio P < 100, the throughput files have P % hit-set lines and the
#              rest fresh miss names, in a fixed pattern; read once (-n 1), never looped, so a
#              miss name is never asked twice.
#
# CPU time: for a stock resolver, utime + stime of the process (all its threads) from
# /proc/PID/stat, before and after a run; for pollux the worker's busy_cycles / tsc.hz from
# polluxctl stats (TSC cycles of loop iterations that received packets), and its process CPU
# time as well, which counts polling: see bench/README.md.
#
# Each figure goes to $BENCH_RUN/<label>.kv as "key value" lines; each open-loop run adds a line
# "offered answered loss_pct" to $BENCH_RUN/<label>.ladder.

BENCH_CLIENT_CORE=${BENCH_CLIENT_CORE:-0}
BENCH_CLK_TCK=$(getconf CLK_TCK)

bench_kv() { # LABEL KEY VALUE
	echo "$2 $3" >>"$BENCH_RUN/$1.kv"
}

bench_get() { # LABEL KEY
	awk -v k="$2" '$1 == k {v = $0; sub(/^[^ ]+ /, "", v)} END {print v}' "$BENCH_RUN/$1.kv" 2>/dev/null
}

# dnsperf from the client namespace on the client core; its whole output in OUT.
bench_dnsperf() { # OUT ADDR ARGS...
	local out=$1 addr=$2
	shift 2
	# -b: 4 MB socket buffers, so that answers arriving while dnsperf is off its core (the CPU
	# is shared) wait in its buffer instead of being dropped and counted as the resolver's loss.
	ip netns exec "$POLLUX_LAB_NS_CLI" taskset -c "$BENCH_CLIENT_CORE" \
		dnsperf -s "$addr" -b 4096 "$@" >"$out" 2>&1
}

# One field of dnsperf's summary: sent, completed, lost, noerror, runtime, qps, avg_lat.
bench_dp_field() { # FILE FIELD
	awk -v f="$2" '
		/Queries sent:/ {v["sent"] = $3}
		/Queries completed:/ {v["completed"] = $3}
		/Queries lost:/ {v["lost"] = $3}
		/Response codes:/ {for (i = 3; i <= NF; i++) if ($i == "NOERROR") v["noerror"] = $(i + 1)}
		/Run time \(s\):/ {v["runtime"] = $4}
		/Queries per second:/ {v["qps"] = $4}
		/Average Latency \(s\):/ {v["avg_lat"] = $4}
		END {print (f in v) ? v[f] : 0}' "$1"
}

# utime + stime of a process, all threads, in seconds.
bench_cpu_s() { # PID
	awk -v hz="$BENCH_CLK_TCK" '{
		# The comm field may hold spaces: count from the closing parenthesis.
		sub(/^.*\) /, "")
		printf "%.6f\n", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

bench_pollux_stat() { # COUNTER
	lab_ctl stats 2>/dev/null | awk -v k="$1" '$1 == k {print $2}'
}

# pollux's loop gaps, summed over workers: "polls >= 1 ms apart, polls >= 10 ms apart".
bench_pollux_gaps() {
	lab_ctl stats 2>/dev/null | awk '$1 == "total.poll_gap_1ms" {a = $2} $1 == "total.poll_gap_10ms" {b = $2}
		END {print a + 0, b + 0}'
}

# pollux's upstream counters, summed over workers: BENCH_S_UP=(queries sent, timeouts, late
# replies, i.e. spurious timeouts).
bench_upstream_sample() {
	local st
	st=$(lab_ctl stats 2>/dev/null)
	BENCH_S_UP=()
	for k in total.rec_queries_sent total.rec_timeouts total.rec_late_replies; do
		BENCH_S_UP+=("$(awk -v k="$k" '$1 == k {print $2; f = 1} END {if (!f) print 0}' <<<"$st")")
	done
}

# Resource samples around a run: BENCH_S_CPU, BENCH_S_BUSY (pollux's busy cycles), BENCH_S_HITS.
bench_sample() { # SYS PID
	BENCH_S_CPU=$(bench_cpu_s "$2")
	BENCH_S_BUSY=0
	BENCH_S_HITS=0
	if [ "$1" = pollux ]; then
		BENCH_S_BUSY=$(bench_pollux_stat total.busy_cycles)
		BENCH_S_HITS=$(bench_pollux_stat total.hits)
	fi
}

# The names: the hit set (shared by all systems) and a file of fresh names for one run.
bench_gen_hit_file() { # FILE COUNT ZONES
	awk -v n="$2" -v z="$3" 'BEGIN {for (i = 1; i <= n; i++) printf "h%d.w.z%d.test A\n", i, (i % z) + 1}' >"$1"
}

bench_gen_fresh_file() { # FILE TAG LINES ZONES HIT_RATIO HITNAMES
	awk -v t="$2" -v n="$3" -v z="$4" -v p="$5" -v h="$6" 'BEGIN {
		for (i = 0; i < n; i++)
			if (i % 100 < p) {
				j = (i * 7919) % h + 1
				printf "h%d.w.z%d.test A\n", j, (j % z) + 1
			} else
				printf "%s-%d.w.z%d.test A\n", t, i, (i % z) + 1
	}' >"$1"
}

# The query file for one throughput run of the hit phase: the hit set, looped by -l (hit ratio
# 100), or a fresh mix sized for RATE queries/s over SECS, read once. Prints dnsperf's file
# arguments.
bench_phase_args() { # LABEL TAG RATE SECS
	local f
	if [ "$BENCH_HIT_RATIO" -ge 100 ]; then
		echo "-d $BENCH_HIT_FILE"
		return
	fi
	f=$BENCH_RUN/$1.$2.names
	bench_gen_fresh_file "$f" "m$BENCH_STAMP_SHORT-$1-$2" $(($3 * $4 * 3 / 2 + 1000)) \
		"$BENCH_ZONES" "$BENCH_HIT_RATIO" "$BENCH_HIT_NAMES"
	echo "-d $f -n 1"
}

# Progress goes to stderr: stdout of some of these functions is a value.
bench_step() {
	printf '  %-16s %s\n' "$BENCH_CUR" "$*" >&2
}

# Warm the cache: the hit set twice; the second pass must be answered (and, for pollux, be hits).
bench_warm() { # LABEL SYS PID ADDR
	local label=$1 sys=$2 pid=$3 addr=$4 out=$BENCH_RUN/$1.warm c n
	bench_dnsperf "$out.1" "$addr" -d "$BENCH_HIT_FILE" -n 1 -q 200 -t 5 || true
	# pollux's control thread moves answers into the cache every 20 ms.
	sleep 0.5
	bench_sample "$sys" "$pid"
	local h0=$BENCH_S_HITS
	bench_dnsperf "$out.2" "$addr" -d "$BENCH_HIT_FILE" -n 1 -q 200 -t 5 || true
	bench_sample "$sys" "$pid"
	c=$(bench_dp_field "$out.2" completed)
	n=$(bench_dp_field "$out.2" noerror)
	bench_kv "$label" warm_answered "$c"
	bench_kv "$label" warm_noerror "$n"
	if [ "$sys" = pollux ]; then
		bench_kv "$label" warm_hits $((BENCH_S_HITS - h0))
		bench_step "warm: $BENCH_HIT_NAMES names asked twice; second pass $c answered," \
			"$n NOERROR, $((BENCH_S_HITS - h0)) cache hits"
	else
		bench_step "warm: $BENCH_HIT_NAMES names asked twice; second pass $c answered, $n NOERROR"
	fi
	[ "${c:-0}" -gt 0 ]
}

# Closed loop: BENCH_OUTSTANDING queries in flight, as fast as answers come back.
bench_closed() { # LABEL SYS PID ADDR
	local label=$1 sys=$2 pid=$3 addr=$4 out=$BENCH_RUN/$1.closed c0 b0 c rt qps cpu busy hz
	# shellcheck disable=SC2046
	set -- $(bench_phase_args "$label" closed 200000 "$BENCH_SECS")
	bench_sample "$sys" "$pid"
	c0=$BENCH_S_CPU b0=$BENCH_S_BUSY
	bench_dnsperf "$out" "$addr" "$@" -l "$BENCH_SECS" -q "$BENCH_OUTSTANDING" -c 4 -t 2 || true
	bench_sample "$sys" "$pid"
	c=$(bench_dp_field "$out" completed)
	rt=$(bench_dp_field "$out" runtime)
	qps=$(awk -v c="$c" -v t="$rt" 'BEGIN {printf "%.0f", (t > 0 ? c / t : 0)}')
	cpu=$(awk -v a="$c0" -v b="$BENCH_S_CPU" 'BEGIN {printf "%.6f", b - a}')
	bench_kv "$label" closed_qps "$qps"
	bench_kv "$label" closed_answered "$c"
	bench_kv "$label" closed_lost "$(bench_dp_field "$out" lost)"
	bench_kv "$label" closed_noerror "$(bench_dp_field "$out" noerror)"
	bench_kv "$label" closed_avg_lat_ms "$(awk -v l="$(bench_dp_field "$out" avg_lat)" 'BEGIN {printf "%.3f", l * 1000}')"
	bench_kv "$label" closed_cpu_s "$cpu"
	bench_kv "$label" cpu_s_per_m "$(awk -v s="$cpu" -v c="$c" 'BEGIN {printf "%.3f", (c > 0 ? s / c * 1e6 : 0)}')"
	if [ "$sys" = pollux ]; then
		hz=$(bench_pollux_stat tsc.hz)
		busy=$(awk -v a="$b0" -v b="$BENCH_S_BUSY" -v hz="${hz:-0}" 'BEGIN {printf "%.6f", (hz > 0 ? (b - a) / hz : 0)}')
		bench_kv "$label" closed_busy_s "$busy"
		bench_kv "$label" busy_s_per_m "$(awk -v s="$busy" -v c="$c" 'BEGIN {printf "%.3f", (c > 0 ? s / c * 1e6 : 0)}')"
		bench_kv "$label" busy_cycles_per_answer "$(awk -v s="$busy" -v c="$c" -v hz="${hz:-0}" 'BEGIN {printf "%.0f", (c > 0 ? s * hz / c : 0)}')"
		bench_step "closed loop: $qps answers/s; process CPU ${cpu} s, worker busy ${busy} s" \
			"for $c answers"
	else
		bench_step "closed loop: $qps answers/s; CPU ${cpu} s for $c answers"
	fi
	[ "${c:-0}" -gt 0 ]
}

# One open-loop run at RATE queries/s: appends "offered answered loss_pct" to the ladder and
# prints the loss in percent.
bench_open() { # LABEL ADDR RATE SECS
	local label=$1 addr=$2 rate=$3 secs=$4 out=$BENCH_RUN/$1.open-$3 s c rt line path
	local sys
	sys=$(bench_get "$label" sys)
	bench_path_sample "$sys" "$out.path0"
	# shellcheck disable=SC2046
	set -- $(bench_phase_args "$label" "q$rate" "$rate" "$secs")
	bench_dnsperf "$out" "$addr" "$@" -l "$secs" -Q "$rate" -q 20000 -c 4 -t 1 || true
	# dnsperf waits -t 1 s for the last answers: every counter has settled when it exits.
	bench_path_sample "$sys" "$out.path1"
	s=$(bench_dp_field "$out" sent)
	c=$(bench_dp_field "$out" completed)
	rt=$(bench_dp_field "$out" runtime)
	path=$(bench_path_report "$sys" "$out.path0" "$out.path1" "${s:-0}" "${c:-0}")
	echo "$rate | $path" >>"$BENCH_RUN/$label.path"
	line=$(awk -v s="$s" -v c="$c" -v t="$rt" 'BEGIN {
		if (t <= 0 || s <= 0) {print "0 0 100"; exit}
		printf "%.0f %.0f %.4f\n", s / t, c / t, (s - c) * 100 / s }')
	echo "$line" >>"$BENCH_RUN/$label.ladder"
	bench_step "offered $rate/s: sent $(awk '{print $1}' <<<"$line")/s, answered" \
		"$(awk '{print $2}' <<<"$line")/s, loss $(awk '{print $3}' <<<"$line") %"
	bench_step "  path: ${path#*| most lost: }"
	# A step the client could not send at (under 95 % of the rate) did not test that rate: it
	# counts as failed, and the figure is marked client-bound.
	if awk -v r="$rate" '{exit !($1 < r * 0.95)}' <<<"$line"; then
		bench_step "  (dnsperf could not send $rate/s: the client is the limit here)"
		echo "100 client"
		return
	fi
	awk '{print $3}' <<<"$line"
}

bench_loss_ok() { # LOSS_PCT
	awk -v l="$1" -v m="$BENCH_MAX_LOSS" 'BEGIN {exit !(l <= m)}'
}

# One open-loop step for the ladder: its loss in percent in BENCH_STEP_LOSS; a step that lost
# more than BENCH_MAX_LOSS % at a rate dnsperf did send at adds that rate to BENCH_LOST_RATES.
bench_ladder_step() { # LABEL ADDR RATE
	local out loss why
	out=$(bench_open "$1" "$2" "$3" "$BENCH_STEP_SECS" | tail -1)
	read -r loss why <<<"$out"
	if [ -z "$why" ] && ! bench_loss_ok "$loss"; then
		BENCH_LOST_RATES+=("$3")
	fi
	BENCH_STEP_LOSS=$loss
}

# The lowest rate above RATE at which a step lost queries dnsperf did send, or 0.
bench_lost_above() { # RATE
	local r m=0
	for r in "${BENCH_LOST_RATES[@]}"; do
		if [ "$r" -gt "$1" ] && { [ "$m" -eq 0 ] || [ "$r" -lt "$m" ]; }; then m=$r; fi
	done
	echo "$m"
}

# The highest rate with at most BENCH_MAX_LOSS % loss: a ladder of rates around the closed-loop
# figure (which also draws the plot), then a bisection between the last good and first bad step.
# The figure is the resolver's ceiling when a step above it lost queries that dnsperf did send;
# otherwise (every failed step was one dnsperf could not send at) it is the client's.
bench_ladder() { # LABEL ADDR
	local label=$1 addr=$2 base f rate loss good=0 bad=0 i mid lost
	base=$(bench_get "$label" closed_qps)
	[ "${base:-0}" -gt 0 ] || base=1000
	: >"$BENCH_RUN/$label.ladder"
	: >"$BENCH_RUN/$label.path"
	BENCH_LOST_RATES=()
	for f in $BENCH_LADDER; do
		rate=$(awk -v b="$base" -v f="$f" 'BEGIN {printf "%.0f", b * f}')
		[ "$rate" -ge 100 ] || rate=100
		bench_ladder_step "$label" "$addr" "$rate"
		loss=$BENCH_STEP_LOSS
		if bench_loss_ok "$loss"; then
			good=$rate
		else
			[ "$bad" -gt 0 ] || bad=$rate
			# Two failed steps in a row: the system is past its ceiling; stop pushing it.
			[ "$bad" -ne "$rate" ] && break
		fi
	done
	# Every step lost too much: go down until one does not, or give up at a hundredth.
	rate=$bad
	while [ "$good" -eq 0 ] && [ "$rate" -gt 0 ] && [ "$rate" -ge $((base / 100)) ]; do
		rate=$((rate / 3))
		[ "$rate" -ge 100 ] || break
		bench_ladder_step "$label" "$addr" "$rate"
		if bench_loss_ok "$BENCH_STEP_LOSS"; then good=$rate; else bad=$rate; fi
	done
	if [ "$bad" -gt 0 ] && [ "$good" -gt 0 ] && [ "$good" -lt "$bad" ]; then
		for ((i = 0; i < BENCH_BISECT; i++)); do
			mid=$(((good + bad) / 2))
			[ "$mid" -gt "$good" ] && [ "$mid" -lt "$bad" ] || break
			bench_ladder_step "$label" "$addr" "$mid"
			if bench_loss_ok "$BENCH_STEP_LOSS"; then good=$mid; else bad=$mid; fi
		done
	fi
	bench_kv "$label" max_rate_ok "$good"
	# Whether the ceiling was found (a step above it lost queries dnsperf did send) or the
	# ladder ran out first. "no": the client was the ceiling (it could not send faster, or no
	# step lost more).
	lost=$(bench_lost_above "$good")
	bench_kv "$label" max_rate_bounded "$([ "$lost" -gt 0 ] && echo yes || echo no)"
	bench_step "highest offered rate with loss <= $BENCH_MAX_LOSS %: $good/s" \
		"$([ "$lost" -gt 0 ] && echo "(more lost at $lost/s)" ||
			echo '(client-bound: dnsperf could not offer more, or no step lost more)')"
}

# Latency percentiles from dnsperf -v at one fixed rate for every system (BENCH_LAT_QPS), so
# that their distributions compare; a system whose max rate is below it is noted, not spared.
bench_latency() { # LABEL ADDR
	local label=$1 addr=$2 out=$BENCH_RUN/$1.latency rate max p p50 p99 p999 n
	rate=$BENCH_LAT_QPS
	max=$(bench_get "$label" max_rate_ok)
	if [ "${max:-0}" -gt 0 ] && [ "$rate" -gt "$max" ]; then
		bench_step "latency: $rate/s is above this system's max rate ($max/s): queueing included"
	fi
	[ "$rate" -ge 100 ] || rate=100
	# shellcheck disable=SC2046
	set -- $(bench_phase_args "$label" lat "$rate" "$BENCH_STEP_SECS")
	local sys g0=() g1=()
	sys=$(bench_get "$label" sys)
	[ "$sys" = pollux ] && read -ra g0 <<<"$(bench_pollux_gaps)"
	bench_dnsperf "$out" "$addr" "$@" -l "$BENCH_STEP_SECS" -Q "$rate" -q 20000 -c 4 -t 1 -v || true
	if [ "$sys" = pollux ]; then
		read -ra g1 <<<"$(bench_pollux_gaps)"
		bench_kv "$label" lat_px_gap_1ms $((g1[0] - g0[0]))
		bench_kv "$label" lat_px_gap_10ms $((g1[1] - g0[1]))
	fi
	# Every answer's latency in ms, sorted: the percentiles and the latency plot.
	awk '$1 == ">" && $2 != "T" && $2 != "I" && NF >= 5 {print $NF * 1000}' "$out" | sort -g \
		>"$BENCH_RUN/$label.lat"
	p=$(awk '{v[n++] = $1} END {
			if (n == 0) {print "0 0 0 0"; exit}
			i50 = int(n * 0.50); i99 = int(n * 0.99); i999 = int(n * 0.999)
			if (i999 >= n) i999 = n - 1
			printf "%.3f %.3f %.3f %d\n", v[i50], v[i99], v[i999], n }' "$BENCH_RUN/$label.lat")
	read -r p50 p99 p999 n <<<"$p"
	bench_kv "$label" lat_qps "$rate"
	bench_kv "$label" lat_p50_ms "$p50"
	bench_kv "$label" lat_p99_ms "$p99"
	bench_kv "$label" lat_p999_ms "$p999"
	bench_kv "$label" lat_answers "$n"
	bench_kv "$label" lat_timeouts "$(awk '$1 == ">" && $2 == "T"' "$out" | wc -l)"
	bench_kv "$label" lat_slow_1ms "$(awk '$1 >= 1 {n++} END {print n + 0}' "$BENCH_RUN/$label.lat")"
	bench_kv "$label" lat_slow_10ms "$(awk '$1 >= 10 {n++} END {print n + 0}' "$BENCH_RUN/$label.lat")"
	bench_step "latency at $rate/s over $n answers: p50 $p50 ms, p99 $p99 ms, p99.9 $p999 ms;" \
		"$(bench_get "$label" lat_slow_1ms) answers took 1 ms or more$([ "$sys" = pollux ] &&
			echo ", pollux's worker polled $(bench_get "$label" lat_px_gap_1ms) times 1 ms or more after the previous poll")"
}

# Cache-miss throughput: dnsperf closed loop over names never asked before.
bench_miss() { # LABEL SYS PID ADDR
	local label=$1 sys=$2 pid=$3 addr=$4 out=$BENCH_RUN/$1.miss f c0 c n rt cpu
	f=$BENCH_RUN/$label.miss.names
	bench_gen_fresh_file "$f" "u$BENCH_STAMP_SHORT-$label" "$BENCH_MISS_LINES" "$BENCH_ZONES" 0 1
	BENCH_S_UP=(0 0 0)
	[ "$sys" = pollux ] && bench_upstream_sample
	local up0=("${BENCH_S_UP[@]}")
	bench_sample "$sys" "$pid"
	c0=$BENCH_S_CPU
	bench_dnsperf "$out" "$addr" -d "$f" -n 1 -l "$BENCH_SECS" -q "$BENCH_MISS_OUTSTANDING" \
		-c 4 -t 5 || true
	bench_sample "$sys" "$pid"
	c=$(bench_dp_field "$out" completed)
	n=$(bench_dp_field "$out" noerror)
	rt=$(bench_dp_field "$out" runtime)
	cpu=$(awk -v a="$c0" -v b="$BENCH_S_CPU" 'BEGIN {printf "%.6f", b - a}')
	bench_kv "$label" miss_sent "$(bench_dp_field "$out" sent)"
	bench_kv "$label" miss_answered "$c"
	bench_kv "$label" miss_noerror "$n"
	bench_kv "$label" miss_lost "$(bench_dp_field "$out" lost)"
	bench_kv "$label" miss_qps "$(awk -v n="$n" -v t="$rt" 'BEGIN {printf "%.0f", (t > 0 ? n / t : 0)}')"
	bench_kv "$label" miss_cpu_s_per_k "$(awk -v s="$cpu" -v n="$n" 'BEGIN {printf "%.4f", (n > 0 ? s / n * 1e3 : 0)}')"
	bench_step "cache misses: $(bench_get "$label" miss_qps) NOERROR answers/s ($n of" \
		"$(bench_dp_field "$out" sent) sent, $(bench_dp_field "$out" lost) lost)"
	if [ "$sys" = pollux ]; then
		bench_upstream_sample
		local sent=$((BENCH_S_UP[0] - up0[0])) tmo=$((BENCH_S_UP[1] - up0[1]))
		local late=$((BENCH_S_UP[2] - up0[2]))
		bench_kv "$label" miss_upstream_sent "$sent"
		bench_kv "$label" miss_upstream_timeouts "$tmo"
		bench_kv "$label" miss_upstream_spurious "$late"
		bench_kv "$label" miss_upstream_spurious_pct \
			"$(awk -v l="$late" -v s="$sent" 'BEGIN {printf "%.4f", (s > 0 ? 100 * l / s : 0)}')"
		bench_step "upstream during the misses: $sent queries, $tmo timed out, $late of them" \
			"answered late (spurious: $(bench_get "$label" miss_upstream_spurious_pct) %)"
	fi
	if [ "$(bench_dp_field "$out" sent)" -ge "$BENCH_MISS_LINES" ]; then
		bench_step "warning: the $BENCH_MISS_LINES miss names ran out before ${BENCH_SECS}s"
	fi
}
