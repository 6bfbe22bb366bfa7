#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The pollux lab: two network namespaces joined by a veth pair. pollux runs in one namespace and
# drives its end of the pair through DPDK (net_af_xdp, else net_af_packet); the other namespace
# is a plain Linux client that queries it with dig, ping or anything else.
#
#   client namespace (pxlab-cli)              pollux namespace (pxlab-px)
#   pxl-c 198.18.0.1/24 2001:2::1/64  <--->  pxl-p (no kernel addresses; pollux owns
#                                                    198.18.0.2/24 and 2001:2::2/64)
#
# Usage, as root:
#   tests/lab/lab.sh up                    create the namespaces and the veth pair (tears down
#                                          what a previous run left first)
#   tests/lab/lab.sh start [OPTIONS...]    start pollux in the lab; OPTIONS are pollux options
#                                          appended to the lab's own (--ip, --ip6, --control,
#                                          --idle-sleep-us), e.g. --local-zone FILE
#   tests/lab/lab.sh status                what exists and, if pollux runs, `polluxctl status`
#   tests/lab/lab.sh stop                  stop pollux (SIGTERM, SIGKILL after 5 s)
#   tests/lab/lab.sh down                  stop pollux and remove everything `up` created
#
# Or source it (`. tests/lab/lab.sh`) and call lab_up, lab_start, lab_cli, lab_ctl, lab_stop,
# lab_down. The functions report failures on stderr and return non-zero; they never exit, so a
# sourcing script keeps control of its own cleanup.
#
# Environment (defaults in brackets):
#   POLLUX_BIN            the daemon [<repo>/build/control/pollux]
#   POLLUXCTL_BIN         the CLI [<repo>/build/control/polluxctl]
#   POLLUX_LAB_PMD        af_xdp, af_packet or auto (af_xdp, falling back to af_packet) [auto]
#   POLLUX_LAB_RUN        run directory: pid file, control socket, log [/tmp/pollux-lab]
#   POLLUX_LAB_NS_CLI     client namespace [pxlab-cli]
#   POLLUX_LAB_NS_PX      pollux namespace [pxlab-px]
#   POLLUX_LAB_IF_CLI     client end of the veth pair [pxl-c]
#   POLLUX_LAB_IF_PX      pollux end of the veth pair [pxl-p]
#   POLLUX_LAB_LCORES     EAL core list: control thread, then workers [0,1]
#   POLLUX_LAB_IDLE_US    pollux --idle-sleep-us, so the worker leaves CPU to the client [100]
#   POLLUX_LAB_TIMEOUT    seconds `start` waits for pollux to answer [15]
#   POLLUX_LAB_HUGEPAGES  2 MB hugepages to reserve for af_xdp if fewer are configured [512]
#   POLLUX_LAB_MEM_MB     EAL memory (-m) of af_packet, which runs without hugepages [512]
#   POLLUX_LAB_XDP_ARGS   extra net_af_xdp devargs, e.g. busy_budget=0 [none]
#   POLLUX_LAB_PACKET_ARGS  net_af_packet devargs besides iface [framecnt=4096: with the PMD's
#                         512 frames its ring lost 0.6-1.3 % of queries at 70k-200k q/s on the
#                         veth, none with 4096]
#
# Access control: pollux serves the subnets of its --ip and --ip6 by default and refuses every
# other source; the client above sits in both, so the lab needs no access-control rule. A client
# given another address (test_acl_lab.sh) must be allowed with --access-control 'NET allow'.
#
# Addresses come from the benchmarking ranges 198.18.0.0/15 and 2001:2::/48 and the namespaces
# have no default route: nothing in the lab can reach a real network.
#
# Nothing outside the two namespaces is touched, with two exceptions, both needed by af_xdp only:
# the system-wide 2 MB hugepage reservation is raised to POLLUX_LAB_HUGEPAGES when it is lower
# (it is never lowered, and `down` leaves it as it is), and hugetlbfs is mounted at
# /dev/hugepages when no hugetlbfs is mounted anywhere. pollux runs with its own EAL file prefix
# and --huge-unlink, so even a killed run leaves no hugepage files behind.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_ROOT=$(cd "$LAB_DIR/../.." && pwd)

POLLUX_BIN=${POLLUX_BIN:-$LAB_ROOT/build/control/pollux}
POLLUXCTL_BIN=${POLLUXCTL_BIN:-$LAB_ROOT/build/control/polluxctl}
POLLUX_LAB_PMD=${POLLUX_LAB_PMD:-auto}
POLLUX_LAB_RUN=${POLLUX_LAB_RUN:-/tmp/pollux-lab}
POLLUX_LAB_NS_CLI=${POLLUX_LAB_NS_CLI:-pxlab-cli}
POLLUX_LAB_NS_PX=${POLLUX_LAB_NS_PX:-pxlab-px}
POLLUX_LAB_IF_CLI=${POLLUX_LAB_IF_CLI:-pxl-c}
POLLUX_LAB_IF_PX=${POLLUX_LAB_IF_PX:-pxl-p}
POLLUX_LAB_LCORES=${POLLUX_LAB_LCORES:-0,1}
POLLUX_LAB_IDLE_US=${POLLUX_LAB_IDLE_US:-100}
POLLUX_LAB_TIMEOUT=${POLLUX_LAB_TIMEOUT:-15}
POLLUX_LAB_HUGEPAGES=${POLLUX_LAB_HUGEPAGES:-512}
POLLUX_LAB_MEM_MB=${POLLUX_LAB_MEM_MB:-512}
POLLUX_LAB_XDP_ARGS=${POLLUX_LAB_XDP_ARGS:-}
POLLUX_LAB_PACKET_ARGS=${POLLUX_LAB_PACKET_ARGS-framecnt=4096}

LAB_CLI_IP4=198.18.0.1
LAB_PX_IP4=198.18.0.2
LAB_IP4_LEN=24
LAB_CLI_IP6=2001:2::1
LAB_PX_IP6=2001:2::2
LAB_IP6_LEN=64

LAB_PIDFILE=$POLLUX_LAB_RUN/pollux.pid
LAB_PMDFILE=$POLLUX_LAB_RUN/pollux.pmd
LAB_SOCK=$POLLUX_LAB_RUN/pollux.sock
LAB_LOG=$POLLUX_LAB_RUN/pollux.log
# One EAL file prefix per pollux namespace, so that two labs or a hand-run pollux never share
# DPDK runtime files.
LAB_FILE_PREFIX=${POLLUX_LAB_NS_PX}
# How long af_xdp gets to answer under POLLUX_LAB_PMD=auto before the lab falls back.
LAB_XDP_TRY_S=8

# The exit status of the last pollux lab_stop stopped; known only when the calling shell started
# pollux itself (it is then its child), else empty.
LAB_PX_STATUS=

lab_log() {
	echo "lab: $*" >&2
}

lab_err() {
	echo "lab: error: $*" >&2
}

# Runs a command; on failure says what failed, with the command's own stderr, and returns 1.
lab_run() {
	local what=$1 out rc
	shift
	if out=$("$@" 2>&1); then
		return 0
	else
		rc=$?
	fi
	lab_err "$what failed (exit $rc): $*"
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/lab:   /' >&2
	return 1
}

# Runs a command in the client namespace.
lab_cli() {
	ip netns exec "$POLLUX_LAB_NS_CLI" "$@"
}

# Runs polluxctl against the lab's pollux.
lab_ctl() {
	"$POLLUXCTL_BIN" -s "$LAB_SOCK" "$@"
}

lab_ns_exists() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1"
}

lab_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		lab_err "the lab needs root (network namespaces, DPDK)"
		return 1
	fi
}

lab_require_tools() {
	local t missing=
	for t in ip ethtool sysctl dig awk; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		lab_err "missing tools:$missing (Debian: apt-get install iproute2 ethtool procps dnsutils)"
		return 1
	fi
}

lab_require_bins() {
	if [ ! -x "$POLLUX_BIN" ]; then
		lab_err "no pollux at $POLLUX_BIN (build it: ninja -C $LAB_ROOT/build, or set POLLUX_BIN)"
		return 1
	fi
	if [ ! -x "$POLLUXCTL_BIN" ]; then
		lab_err "no polluxctl at $POLLUXCTL_BIN (build it, or set POLLUXCTL_BIN)"
		return 1
	fi
}

# True when pid names a live process (a zombie is not live) inside the pollux namespace. The
# namespace check keeps a stale pid file from ever naming somebody else's process.
lab_pid_alive() {
	lab_pid_in_ns "$1" "$POLLUX_LAB_NS_PX"
}

# Prints /proc/PID/task/TID of one live thread of pid, if it has one. A process is live while
# any of its threads is not a zombie: SIGKILL can leave the leader thread a zombie while the
# others still exit, holding the process's files (DPDK's locks on its runtime files among
# them, so a pollux started then with the same --file-prefix fails with "Cannot allocate
# memzone list"). The state is the field after the command name, which may hold spaces.
lab_live_task() {
	local t state
	[ -n "$1" ] && [ -d "/proc/$1/task" ] || return 1
	for t in /proc/"$1"/task/*; do
		state=$(awk '{sub(/^.*\) /, ""); print $1}' "$t/stat" 2>/dev/null) || continue
		case $state in '' | Z | X) continue ;; esac
		echo "$t"
		return 0
	done
	return 1
}

# True if pid is a live process in network namespace ns. The namespace is compared by inode:
# `ip netns identify` walks every entry of /run/netns and fails when another lab creates or
# deletes a namespace meanwhile, which made a live pollux look dead (and the caller wait on it
# forever).
lab_pid_in_ns() {
	local t a b
	t=$(lab_live_task "$1") || return 1
	a=$(stat -L -c %d:%i "$t/ns/net" 2>/dev/null) || return 1
	b=$(stat -L -c %d:%i "/run/netns/$2" 2>/dev/null) || return 1
	[ "$a" = "$b" ]
}

# True if pid is a live process, in whatever namespace: right after the fork,
# `ip netns exec` has not entered the namespace yet, so lab_pid_alive would call a starting
# pollux dead (and the caller would then wait for it forever).
lab_proc_live() {
	lab_live_task "$1" >/dev/null
}

lab_pid() {
	local pid
	[ -r "$LAB_PIDFILE" ] || return 1
	pid=$(cat "$LAB_PIDFILE")
	lab_pid_alive "$pid" || return 1
	echo "$pid"
}

# Sends SIGTERM and waits up to `secs` for the process to end; SIGKILL after that. Sets
# LAB_PX_STATUS when the process is this shell's child.
lab_kill_wait() {
	local pid=$1 secs=$2 i=0
	LAB_PX_STATUS=
	kill -TERM "$pid" 2>/dev/null || true
	while lab_pid_alive "$pid" && [ "$i" -lt $((secs * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if lab_pid_alive "$pid"; then
		lab_log "pollux (pid $pid) still running ${secs}s after SIGTERM: sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		i=0
		while lab_pid_alive "$pid" && [ "$i" -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	# `wait` reaps a child and gives its status; for any other pid it fails at once.
	if wait "$pid" 2>/dev/null; then
		LAB_PX_STATUS=0
	else
		LAB_PX_STATUS=$?
		# 127: not our child, status unknown.
		[ "$LAB_PX_STATUS" -ne 127 ] || LAB_PX_STATUS=
	fi
	if lab_pid_alive "$pid"; then
		lab_err "pollux (pid $pid) survived SIGKILL"
		return 1
	fi
}

# Stops the pollux the lab started. Returns 0 if none runs.
lab_stop() {
	local pid
	pid=$(lab_pid) || {
		rm -f "$LAB_PIDFILE" "$LAB_PMDFILE"
		return 0
	}
	lab_kill_wait "$pid" 5 || return 1
	rm -f "$LAB_PIDFILE" "$LAB_PMDFILE"
}

# Removes everything lab_up created. Safe to call at any point, any number of times.
lab_down() {
	local pid rc=0
	lab_require_root || return 1
	lab_stop || rc=1
	# Whatever else still runs in the pollux namespace is a leftover of the lab (a pollux whose
	# pid file was lost, a killed run's children): it would keep the namespace alive.
	if lab_ns_exists "$POLLUX_LAB_NS_PX"; then
		for pid in $(ip netns pids "$POLLUX_LAB_NS_PX" 2>/dev/null); do
			lab_log "stopping leftover process $pid in $POLLUX_LAB_NS_PX"
			lab_kill_wait "$pid" 2 || rc=1
		done
	fi
	# Deleting a namespace deletes the veth end in it, and with it the peer.
	if lab_ns_exists "$POLLUX_LAB_NS_PX"; then
		lab_run "deleting namespace $POLLUX_LAB_NS_PX" ip netns delete "$POLLUX_LAB_NS_PX" || rc=1
	fi
	if lab_ns_exists "$POLLUX_LAB_NS_CLI"; then
		lab_run "deleting namespace $POLLUX_LAB_NS_CLI" ip netns delete "$POLLUX_LAB_NS_CLI" || rc=1
	fi
	# A veth pair created before its ends were moved (a run killed in lab_up) is in the root
	# namespace: delete it only under the lab's own name and only if it is a veth.
	if ip -d link show "$POLLUX_LAB_IF_CLI" 2>/dev/null | grep -qw veth; then
		lab_run "deleting $POLLUX_LAB_IF_CLI" ip link delete "$POLLUX_LAB_IF_CLI" || rc=1
	fi
	if ip -d link show "$POLLUX_LAB_IF_PX" 2>/dev/null | grep -qw veth; then
		lab_run "deleting $POLLUX_LAB_IF_PX" ip link delete "$POLLUX_LAB_IF_PX" || rc=1
	fi
	rm -f "$LAB_SOCK" "$LAB_PIDFILE" "$LAB_PMDFILE"
	# DPDK's runtime directory for the lab's file prefix (the multi-process socket, config).
	rm -rf "/var/run/dpdk/$LAB_FILE_PREFIX"
	return "$rc"
}

lab_up_steps() {
	local c=$POLLUX_LAB_NS_CLI p=$POLLUX_LAB_NS_PX ic=$POLLUX_LAB_IF_CLI ip_=$POLLUX_LAB_IF_PX
	lab_run "creating namespace $c" ip netns add "$c" &&
	lab_run "creating namespace $p" ip netns add "$p" &&
	lab_run "creating veth $ic/$ip_" ip link add "$ic" type veth peer name "$ip_" &&
	lab_run "moving $ic to $c" ip link set "$ic" netns "$c" &&
	lab_run "moving $ip_ to $p" ip link set "$ip_" netns "$p" &&
	lab_run "addressing $ic" ip -n "$c" addr add "$LAB_CLI_IP4/$LAB_IP4_LEN" dev "$ic" &&
	lab_run "addressing $ic" ip -n "$c" addr add "$LAB_CLI_IP6/$LAB_IP6_LEN" dev "$ic" nodad &&
	lab_run "bringing up lo in $c" ip -n "$c" link set lo up &&
	lab_run "bringing up $ic" ip -n "$c" link set "$ic" up &&
	# pollux owns its end: the kernel must not answer ND or send its own IPv6 traffic there.
	lab_run "disabling IPv6 on $ip_" \
		ip netns exec "$p" sysctl -qw "net.ipv6.conf.$ip_.disable_ipv6=1" &&
	lab_run "bringing up $ip_" ip -n "$p" link set "$ip_" up &&
	# veth leaves checksums to be filled in later (CHECKSUM_PARTIAL) when offloads are on: a
	# DPDK port would see, and drop, frames with unfinished UDP checksums.
	lab_run "disabling checksum offload on $ic" \
		ip netns exec "$c" ethtool -K "$ic" rx off tx off &&
	lab_run "disabling checksum offload on $ip_" \
		ip netns exec "$p" ethtool -K "$ip_" rx off tx off
}

# Creates the lab, after removing whatever a previous run left.
lab_up() {
	lab_require_root || return 1
	lab_require_tools || return 1
	lab_down || {
		lab_err "could not remove a previous lab; fix the above and retry"
		return 1
	}
	if ! mkdir -p "$POLLUX_LAB_RUN"; then
		lab_err "cannot create the run directory $POLLUX_LAB_RUN"
		return 1
	fi
	if ! lab_up_steps; then
		lab_err "lab setup failed; removing what was created"
		lab_down >/dev/null 2>&1 || true
		return 1
	fi
	lab_log "up: $POLLUX_LAB_NS_CLI/$POLLUX_LAB_IF_CLI ($LAB_CLI_IP4, $LAB_CLI_IP6) <->" \
		"$POLLUX_LAB_NS_PX/$POLLUX_LAB_IF_PX (pollux: $LAB_PX_IP4, $LAB_PX_IP6)"
}

# Makes 2 MB hugepages available for af_xdp (see the header: the one change outside the
# namespaces besides mounting hugetlbfs).
lab_hugepages() {
	local nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages cur
	if [ ! -w "$nr" ]; then
		lab_log "no 2 MB hugepage support ($nr)"
		return 1
	fi
	cur=$(cat "$nr")
	if [ "$cur" -lt "$POLLUX_LAB_HUGEPAGES" ]; then
		lab_log "reserving $POLLUX_LAB_HUGEPAGES hugepages of 2 MB (was $cur)"
		echo "$POLLUX_LAB_HUGEPAGES" >"$nr" 2>/dev/null || true
		cur=$(cat "$nr")
		if [ "$cur" -lt 64 ]; then
			lab_log "only $cur hugepages could be reserved"
			return 1
		fi
	fi
	if ! awk '$3 == "hugetlbfs" {found = 1} END {exit !found}' /proc/mounts; then
		lab_log "mounting hugetlbfs at /dev/hugepages"
		mkdir -p /dev/hugepages &&
			lab_run "mounting hugetlbfs" mount -t hugetlbfs nodev /dev/hugepages || return 1
	fi
}

# True once pollux replies on its control socket and answers a DNS query (any rcode).
lab_answers() {
	lab_ctl status >/dev/null 2>&1 &&
		lab_cli dig +tries=1 +time=1 "@$LAB_PX_IP4" lab-probe.invalid A >/dev/null 2>&1
}

# Waits (up to 5 s) until no process holds a lock on the DPDK runtime files of the lab's file
# prefix. A pollux killed a moment ago can still hold them while the kernel finishes tearing it
# down (its sockets, its children), and EAL then fails with "Cannot allocate memzone list".
# flock -x succeeds only when no shared lock is left, which is what EAL needs.
lab_wait_runtime_unlocked() {
	local dir=/var/run/dpdk/$LAB_FILE_PREFIX f i=0 busy
	[ -d "$dir" ] && command -v flock >/dev/null 2>&1 || return 0
	while [ "$i" -lt 50 ]; do
		busy=0
		for f in "$dir"/fbarray_*; do
			[ -e "$f" ] || continue
			flock -n -x "$f" true 2>/dev/null || { busy=1; break; }
		done
		[ "$busy" = 0 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	lab_log "the DPDK runtime files in $dir are still locked after 5 s (a previous pollux?)"
	return 0
}

# Starts pollux with one PMD in the background and waits up to `secs` for it to answer.
# Returns 0 when it answers (its pid in the pid file), 1 otherwise (pollux stopped).
lab_try_pmd() {
	local pmd=$1 secs=$2 pid i=0 st
	shift 2
	local -a eal=(-l "$POLLUX_LAB_LCORES" --no-pci --file-prefix "$LAB_FILE_PREFIX")
	case $pmd in
	af_xdp)
		lab_hugepages || return 1
		eal+=(--huge-unlink
			--vdev "net_af_xdp0,iface=$POLLUX_LAB_IF_PX,start_queue=0,queue_count=1${POLLUX_LAB_XDP_ARGS:+,$POLLUX_LAB_XDP_ARGS}")
		;;
	af_packet)
		eal+=(--no-huge -m "$POLLUX_LAB_MEM_MB"
			--vdev "net_af_packet0,iface=$POLLUX_LAB_IF_PX${POLLUX_LAB_PACKET_ARGS:+,$POLLUX_LAB_PACKET_ARGS}")
		;;
	esac
	rm -f "$LAB_SOCK"
	lab_wait_runtime_unlocked
	{
		echo "# $(date '+%F %T') PMD $pmd"
		echo "# $POLLUX_BIN ${eal[*]} -- --ip $LAB_PX_IP4/$LAB_IP4_LEN" \
			"--ip6 $LAB_PX_IP6/$LAB_IP6_LEN --control $LAB_SOCK" \
			"--idle-sleep-us $POLLUX_LAB_IDLE_US $*"
	} >>"$LAB_LOG"
	# `ip netns exec` execs the command, so $! is pollux itself. stdin from /dev/null: pollux
	# must not steal the caller's terminal or pipe.
	ip netns exec "$POLLUX_LAB_NS_PX" "$POLLUX_BIN" "${eal[@]}" -- \
		--ip "$LAB_PX_IP4/$LAB_IP4_LEN" --ip6 "$LAB_PX_IP6/$LAB_IP6_LEN" \
		--control "$LAB_SOCK" --idle-sleep-us "$POLLUX_LAB_IDLE_US" "$@" \
		</dev/null >>"$LAB_LOG" 2>&1 &
	pid=$!
	echo "$pid" >"$LAB_PIDFILE"
	echo "$pmd" >"$LAB_PMDFILE"
	while [ "$i" -lt $((secs * 5)) ]; do
		if ! lab_proc_live "$pid"; then
			st=0
			wait "$pid" 2>/dev/null || st=$?
			lab_log "pollux with $pmd exited during start-up (status $st)"
			rm -f "$LAB_PIDFILE" "$LAB_PMDFILE"
			return 1
		fi
		if lab_answers; then
			return 0
		fi
		sleep 0.2
		i=$((i + 1))
	done
	lab_log "pollux with $pmd did not answer within ${secs}s"
	lab_stop >/dev/null 2>&1 || true
	return 1
}

# Starts pollux in the lab with the given extra pollux options and waits until it answers.
lab_start() {
	local log_start=1
	lab_require_root || return 1
	lab_require_bins || return 1
	if ! lab_ns_exists "$POLLUX_LAB_NS_PX" || ! lab_ns_exists "$POLLUX_LAB_NS_CLI"; then
		lab_err "the lab is not up (run: $LAB_DIR/lab.sh up)"
		return 1
	fi
	if lab_pid >/dev/null; then
		lab_err "pollux already runs in the lab (pid $(lab_pid)); stop it first"
		return 1
	fi
	mkdir -p "$POLLUX_LAB_RUN" || return 1
	: >"$LAB_LOG"
	case $POLLUX_LAB_PMD in
	af_xdp | af_packet)
		if lab_try_pmd "$POLLUX_LAB_PMD" "$POLLUX_LAB_TIMEOUT" "$@"; then
			lab_log "pollux runs (pid $(cat "$LAB_PIDFILE"), PMD $POLLUX_LAB_PMD," \
				"log $LAB_LOG, socket $LAB_SOCK)"
			return 0
		fi
		;;
	auto)
		if lab_try_pmd af_xdp "$LAB_XDP_TRY_S" "$@"; then
			lab_log "pollux runs (pid $(cat "$LAB_PIDFILE"), PMD af_xdp," \
				"log $LAB_LOG, socket $LAB_SOCK)"
			return 0
		fi
		lab_log "af_xdp failed; its log:"
		sed 's/^/lab:   | /' "$LAB_LOG" >&2
		lab_log "falling back to af_packet"
		log_start=$(($(wc -l <"$LAB_LOG") + 1))
		if lab_try_pmd af_packet "$POLLUX_LAB_TIMEOUT" "$@"; then
			lab_log "pollux runs (pid $(cat "$LAB_PIDFILE"), PMD af_packet," \
				"log $LAB_LOG, socket $LAB_SOCK)"
			return 0
		fi
		;;
	*)
		lab_err "POLLUX_LAB_PMD must be af_xdp, af_packet or auto, not '$POLLUX_LAB_PMD'"
		return 1
		;;
	esac
	# Under auto, af_xdp's part of the log was printed above already.
	lab_err "pollux did not start; its log ($LAB_LOG):"
	tail -n "+$log_start" "$LAB_LOG" | sed 's/^/lab:   | /' >&2
	return 1
}

# The PMD of the running pollux, or nothing.
lab_pmd() {
	[ -r "$LAB_PMDFILE" ] && cat "$LAB_PMDFILE"
}

lab_status() {
	local ns pid
	for ns in "$POLLUX_LAB_NS_CLI" "$POLLUX_LAB_NS_PX"; do
		if lab_ns_exists "$ns"; then
			echo "namespace $ns: up"
		else
			echo "namespace $ns: absent"
		fi
	done
	if lab_ns_exists "$POLLUX_LAB_NS_CLI"; then
		ip -n "$POLLUX_LAB_NS_CLI" -brief addr show dev "$POLLUX_LAB_IF_CLI" 2>/dev/null |
			sed 's/^/  /'
	fi
	if pid=$(lab_pid); then
		echo "pollux: running, pid $pid, PMD $(lab_pmd), socket $LAB_SOCK, log $LAB_LOG"
		lab_ctl status | sed 's/^/  /'
	else
		echo "pollux: not running"
	fi
}

lab_usage() {
	cat <<EOF
Usage: $0 up|down|start [pollux options...]|stop|status

  up       create namespaces $POLLUX_LAB_NS_CLI/$POLLUX_LAB_NS_PX and veth $POLLUX_LAB_IF_CLI/$POLLUX_LAB_IF_PX
           (removes a previous lab first)
  start    start pollux on $LAB_PX_IP4 and $LAB_PX_IP6 and wait until it answers;
           extra arguments are pollux options (e.g. --local-zone FILE)
  stop     stop pollux
  status   show the lab and pollux's status
  down     stop pollux and remove the lab

Environment: POLLUX_BIN, POLLUXCTL_BIN, POLLUX_LAB_PMD (af_xdp|af_packet|auto),
POLLUX_LAB_RUN, POLLUX_LAB_NS_CLI, POLLUX_LAB_NS_PX, POLLUX_LAB_IF_CLI, POLLUX_LAB_IF_PX,
POLLUX_LAB_LCORES, POLLUX_LAB_IDLE_US, POLLUX_LAB_TIMEOUT, POLLUX_LAB_HUGEPAGES
(see the top of $LAB_DIR/lab.sh).
EOF
}

lab_main() {
	local cmd=${1:-}
	[ $# -eq 0 ] || shift
	case $cmd in
	up) lab_up ;;
	down) lab_down ;;
	start)
		# A failed start leaves the lab up: the namespaces are still useful for a look.
		lab_start "$@"
		;;
	stop) lab_stop ;;
	status) lab_status ;;
	-h | --help | help)
		lab_usage
		;;
	*)
		lab_usage >&2
		return 2
		;;
	esac
}

# Run as a command rather than sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -eu
	lab_main "$@"
fi
