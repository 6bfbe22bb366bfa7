#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The lab's simulated internet: a root, TLDs and many second-level zones served by nsd instances
# in a third network namespace, plus the pathological servers a resolver must survive (bad glue,
# every address invalid, lame, glueless, poisoning, silent). pollux's iterative resolver and the
# stock resolvers it is measured against resolve through it; tests/lab/internet/test_internet.sh
# proves it right with Unbound.
#
#   pxlab-px                 pxlab-cli (client + router)              pxlab-net ("the internet")
#   pxl-p  <-------------->  pxl-c  198.18.0.1/24   2001:2::1/64
#   (pollux: 198.18.0.2,     pxl-cn 198.19.255.1/30 2001:2:0:ff00::1/64 <--> pxl-nc 198.19.255.2/30
#    2001:2::2, gateway                                                        2001:2:0:ff00::2/64
#    198.18.0.1/2001:2::1)   pxl-cr 198.19.255.5/30 2001:2:0:ff01::1/64      lo: every server
#                               ^                                            address below
#                               |   pxlab-res (a stock resolver, Unbound by default)
#                               +-> pxl-rc 198.19.255.6/30 2001:2:0:ff01::2/64, and 127.0.0.1, ::1
#
# pxlab-cli forwards (IPv4 and IPv6) between the client LAN, the internet and pxlab-res. Routes:
# pxlab-cli sends 198.18.0.0/15 and 2001:2::/48 to pxlab-net (its connected LAN and links are
# more specific); pxlab-net sends 198.18.0.0/24, 198.19.255.0/24, 2001:2::/64 and
# 2001:2:0:ff00::/56 back to pxlab-cli; pxlab-res sends 198.18.0.0/15 and 2001:2::/48 to
# pxlab-cli. No namespace has a default route, so nothing reaches outside 198.18.0.0/15 and
# 2001:2::/48.
#
# The servers (role = one nsd instance, its own config, pid file and log; it listens on exactly
# its two addresses, and each address answers only for the zones of its role, REFUSED otherwise):
#
#   role    name(s)                      IPv4         IPv6            zones
#   root-a  a.root.lab                   198.18.1.1   2001:2:0:1::1   .
#   root-b  b.root.lab                   198.18.1.2   2001:2:0:1::2   .
#   tld-a   a.tld.lab                    198.18.2.1   2001:2:0:2::1   test. lab. example.
#   tld-b   b.tld.lab                    198.18.2.2   2001:2:0:2::2   test. lab. example.
#   sld-a   ns1.zN.test, ns1.chain.test  198.18.3.1   2001:2:0:3::1   z1..zN.test chain.test
#           ns2.badglue/halflame.test                                 badglue.test halflame.test
#           ns6.mixed.test                                            mixed.test
#   sld-b   ns2.zN.test, ns2.chain.test  198.18.3.2   2001:2:0:3::2   z1..zN.test chain.test
#   sld-c   ns1.victim.test, ns.z1.test  198.18.3.3   2001:2:0:3::3   victim.test glueless.test
#           ns.z2.test, ns1.site.example                              glueless.example
#           ns.v6only.test (AAAA only)                                site.example v6only.test
#   lame    ns.lame.test, ns1.halflame   198.18.4.1   2001:2:0:4::1   none: REFUSED for everything
#   evil    ns.evil.test                 198.18.4.2   2001:2:0:4::2   evil.test (evil_responder.py,
#                                                                     not nsd: it lies about
#                                                                     victim.test)
#   silent  ns.silent.test               198.18.4.3   2001:2:0:4::3   nothing: a blackhole route
#                                                                     in pxlab-net drops it all
#   odd     ns.odd.test                  198.18.4.4   2001:2:0:4::4   odd.test (odd_responder.py:
#                                                                     glue out of its bailiwick,
#                                                                     A records for AAAA)
#   fb      ns.host/liar/oob.example     198.18.5.1   2001:2:0:5::1   host.example liar.example
#           (glue; their own zones say                                oob.example sib.test
#           otherwise), ns.moved.test                                 lies.test oob.odd.test
#           once moved                                                moved.test
#   fb-old  ns.moved.test until moved    198.18.5.2   2001:2:0:5::2   moved.test (stopped and
#                                                                     blackholed by
#                                                                     inet_move_zone)
#   stale   ns.stale.test                198.18.4.5   2001:2:0:4::5   stale.test (short TTLs; the
#                                                                     serve-stale test stops it)
#
# The pathological delegations, all in test.: badglue.test (ns1 glue 0.0.0.0, ns2 good),
# allbad.test (ns1..ns6 at 0.0.0.0, 255.255.255.255, 224.0.0.1, 127.0.0.1, ::, 240.0.0.1),
# lame.test (to the lame server), halflame.test (lame first, good second), glueless.test
# (NS ns.z1.test, no glue), glueless.example (NS ns.z2.test, across TLDs), v6only.test (AAAA glue
# only), evil.test and victim.test (poisoning), silent.test, selfish.test (ns1..ns5 at
# 169.254.169.254, pollux's 198.18.0.2 and 2001:2::2, 198.18.0.255, 64:ff9b::7f00:1),
# mixed.test (the same five, then ns6 on sld-a) and noarp.test (ns1 at 198.18.0.99, on pollux's
# subnet, where nobody answers ARP). For the fallbacks within one resolution: sib.test (NS
# ns.host.example, whose own zone puts it at the silent address; example.'s glue works),
# lies.test (NS ns.liar.example, which its own zone denies), oob.odd.test (glue out of
# odd.test's bailiwick), wrongtype.odd.test (A records for AAAA questions) and moved.test
# (moved to another server mid-run by inet_move_zone). Data addresses (www records) come
# from 198.18.10.0-198.18.20.255 and 198.19.0.0/16: nothing listens there. Every zN.test also
# has a wildcard *.w.zN.test A/AAAA: unlimited distinct names for cache-miss benchmarks.
# tests/lab/internet/questions.txt lists the questions and their right answers.
#
# Usage, as root:
#   tests/lab/internet/internet.sh up             build it (and the base lab, tests/lab/lab.sh,
#                                                 if that is not up; a running pollux is left
#                                                 alone); tears down a previous internet first
#   tests/lab/internet/internet.sh status         what runs
#   tests/lab/internet/internet.sh unbound-start  Unbound in pxlab-res, resolving through it
#   tests/lab/internet/internet.sh unbound-stop
#   tests/lab/internet/internet.sh down           remove the internet (leaves the base lab)
#   tests/lab/internet/internet.sh teardown       down, then the base lab's lab_down
#
# Or source it (it sources ../lab.sh) and call inet_up, inet_down, inet_teardown, inet_status,
# inet_unbound_start, inet_unbound_stop, inet_dig (dig from pxlab-cli), inet_capture_start,
# inet_capture_stop, inet_capture_invalid, inet_capture_dests. Functions report failures on
# stderr and return non-zero; they never exit.
#
# pollux in this lab: lab_start --gateway 198.18.0.1 --gateway6 2001:2::1 --hints
# tests/lab/internet/lab.root. Its clients are in pxlab-cli's LAN, inside its --ip/--ip6
# subnets, which its access control allows by default; the servers in pxlab-net only answer it
# (replies to its own queries are never subject to access control). Its upstream packets all cross pxl-c, so the capture that proves
# it never sends to an invalid address is: inet_capture_start px "$POLLUX_LAB_NS_CLI"
# "$POLLUX_LAB_IF_CLI"; (queries); inet_capture_stop px; inet_capture_invalid px. (A kernel
# resolver such as Unbound never puts such packets on a wire: the kernel delivers 0.0.0.0 and
# 127.0.0.1 locally and refuses to route the rest, so for Unbound the test captures lo in
# pxlab-res as well.)
#
# Environment (defaults in brackets), besides tests/lab/lab.sh's:
#   POLLUX_INET_RUN        run directory: zones, configs, pid files, logs, captures
#                          [/tmp/pollux-internet]; emptied by `up`, kept by `down` for a look
#   POLLUX_INET_NS         the internet's namespace [pxlab-net]
#   POLLUX_INET_NS_RES     the stock resolver's namespace [pxlab-res]
#   POLLUX_INET_IF_CLI, POLLUX_INET_IF_NET          the pxlab-cli/pxlab-net link [pxl-cn, pxl-nc]
#   POLLUX_INET_IF_RES_CLI, POLLUX_INET_IF_RES      the pxlab-cli/pxlab-res link [pxl-cr, pxl-rc]
#   POLLUX_INET_SLD_COUNT  how many zN.test zones [20]; 10 to 60000
#   POLLUX_INET_UNBOUND_EXTRA  lines added to Unbound's server: clause (e.g. serve-expired) []
#   POLLUX_INET_TIMEOUT    seconds `up` waits for every server to answer [10]
#
# Two labs can run side by side only if every namespace, interface and run directory name (these
# and tests/lab/lab.sh's) differs; with the defaults, a second `lab.sh up` or test_lab.sh
# deletes pxlab-cli, and with it this internet's links.
#
# Nothing outside the namespaces pxlab-cli, pxlab-net and pxlab-res is touched, besides the run
# directory; in pxlab-cli only the links to pxlab-net and pxlab-res, their routes and the
# forwarding sysctls (set back to 0 by `down`).

INET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lab.sh
. "$INET_DIR/../lab.sh"

POLLUX_INET_RUN=${POLLUX_INET_RUN:-/tmp/pollux-internet}
POLLUX_INET_NS=${POLLUX_INET_NS:-pxlab-net}
POLLUX_INET_NS_RES=${POLLUX_INET_NS_RES:-pxlab-res}
POLLUX_INET_SLD_COUNT=${POLLUX_INET_SLD_COUNT:-20}
POLLUX_INET_TIMEOUT=${POLLUX_INET_TIMEOUT:-10}

INET_HINTS=$INET_DIR/lab.root
INET_RESPONDER=$INET_DIR/evil_responder.py

# The link between pxlab-cli (the router) and pxlab-net, and the one to pxlab-res.
INET_IF_CLI=${POLLUX_INET_IF_CLI:-pxl-cn}
INET_IF_NET=${POLLUX_INET_IF_NET:-pxl-nc}
INET_CLI_IP4=198.19.255.1
INET_NET_IP4=198.19.255.2
INET_CLI_IP6=2001:2:0:ff00::1
INET_NET_IP6=2001:2:0:ff00::2
INET_IF_RES_CLI=${POLLUX_INET_IF_RES_CLI:-pxl-cr}
INET_IF_RES=${POLLUX_INET_IF_RES:-pxl-rc}
INET_RES_CLI_IP4=198.19.255.5
INET_RES_IP4=198.19.255.6
INET_RES_CLI_IP6=2001:2:0:ff01::1
INET_RES_IP6=2001:2:0:ff01::2
INET_LINK4_LEN=30
INET_LINK6_LEN=64

# The nsd roles: name, IPv4, IPv6, zones ("@SLD" stands for z1.test..zN.test, "-" for none).
INET_ROLES=(
	"root-a 198.18.1.1 2001:2:0:1::1 ."
	"root-b 198.18.1.2 2001:2:0:1::2 ."
	"tld-a 198.18.2.1 2001:2:0:2::1 test. lab. example."
	"tld-b 198.18.2.2 2001:2:0:2::2 test. lab. example."
	"sld-a 198.18.3.1 2001:2:0:3::1 @SLD chain.test. badglue.test. halflame.test. mixed.test."
	"sld-b 198.18.3.2 2001:2:0:3::2 @SLD chain.test."
	"sld-c 198.18.3.3 2001:2:0:3::3 victim.test. glueless.test. glueless.example. site.example. v6only.test."
	"lame 198.18.4.1 2001:2:0:4::1 -"
	"fb 198.18.5.1 2001:2:0:5::1 host.example. liar.example. oob.example. sib.test. lies.test. oob.odd.test. moved.test."
	"fb-old 198.18.5.2 2001:2:0:5::2 moved.test."
	"stale 198.18.4.5 2001:2:0:4::5 stale.test."
)
INET_EVIL_IP4=198.18.4.2
INET_EVIL_IP6=2001:2:0:4::2
INET_SILENT_IP4=198.18.4.3
INET_SILENT_IP6=2001:2:0:4::3
INET_VICTIM_WWW4=198.18.20.1 # www.victim.test's real address
INET_FORGED_WWW4=198.18.66.66 # the one evil.test's server claims

INET_ZONES=$POLLUX_INET_RUN/zones
INET_CAPS=$POLLUX_INET_RUN/capture
INET_UB=$POLLUX_INET_RUN/unbound
INET_UB_CONF=$INET_UB/unbound.conf
INET_UB_PID=$INET_UB/unbound.pid
INET_UB_LOG=$INET_UB/unbound.log
INET_UB_CTL=$INET_UB/unbound.ctl
INET_EVIL_PID=$POLLUX_INET_RUN/evil/evil.pid
INET_EVIL_LOG=$POLLUX_INET_RUN/evil/evil.log
INET_ODD_IP4=198.18.4.4
INET_ODD_IP6=2001:2:0:4::4
INET_ODD=$INET_DIR/odd_responder.py
INET_ODD_PID=$POLLUX_INET_RUN/odd/odd.pid
INET_ODD_LOG=$POLLUX_INET_RUN/odd/odd.log

inet_log() {
	echo "internet: $*" >&2
}

inet_err() {
	echo "internet: error: $*" >&2
}

# Runs a command in a namespace of the lab.
inet_net() {
	ip netns exec "$POLLUX_INET_NS" "$@"
}

inet_res() {
	ip netns exec "$POLLUX_INET_NS_RES" "$@"
}

# dig from the client namespace, the way pollux's clients and upstream packets see the lab.
inet_dig() {
	ip netns exec "$POLLUX_LAB_NS_CLI" dig "$@"
}

inet_require_tools() {
	local t missing=
	for t in ip ethtool sysctl dig awk nsd nsd-checkzone python3; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		inet_err "missing tools:$missing (Debian: apt-get install nsd dnsutils python3; or" \
			"source tests/deps.sh and run px_install_deps)"
		return 1
	fi
}

# True when pid names a live process (not a zombie) in namespace ns: a stale pid file must never
# name somebody else's process.
inet_pid_alive() {
	lab_pid_in_ns "$1" "$2"
}

# Sends `sig` to the listed pids of namespace ns, waits up to `secs` for them to go, then
# SIGKILLs what is left. Reaps those that are this shell's children.
inet_kill_wait() {
	local ns=$1 sig=$2 secs=$3 pid left i=0
	shift 3
	for pid in "$@"; do
		inet_pid_alive "$pid" "$ns" && kill "-$sig" "$pid" 2>/dev/null
	done
	while [ "$i" -lt $((secs * 20)) ]; do
		left=
		for pid in "$@"; do
			inet_pid_alive "$pid" "$ns" && left="$left $pid"
		done
		[ -n "$left" ] || break
		sleep 0.05
		i=$((i + 1))
	done
	for pid in $left; do
		inet_log "pid $pid in $ns still runs ${secs}s after SIG$sig: sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in "$@"; do
		wait "$pid" 2>/dev/null || true
	done
	for pid in $left; do
		i=0
		while inet_pid_alive "$pid" "$ns" && [ "$i" -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if inet_pid_alive "$pid" "$ns"; then
			inet_err "pid $pid in $ns survived SIGKILL"
			return 1
		fi
	done
}

# Stops every process in a namespace of ours: first those with a pid file (politely, so nsd's
# main process stops its own children), then any leftover (a killed run's orphans).
inet_ns_stop_all() {
	local ns=$1 f pids=
	shift
	lab_ns_exists "$ns" || return 0
	for f in "$@"; do
		[ -r "$f" ] && pids="$pids $(cat "$f" 2>/dev/null)"
	done
	# shellcheck disable=SC2086
	[ -z "$pids" ] || inet_kill_wait "$ns" TERM 3 $pids || return 1
	pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
	[ -z "${pids// /}" ] && return 0
	inet_log "stopping leftover processes in $ns:$(for p in $pids; do
		printf ' %s(%s)' "$p" "$(cat "/proc/$p/comm" 2>/dev/null)"
	done)"
	# shellcheck disable=SC2086
	inet_kill_wait "$ns" TERM 3 $pids
}

# The zone files: inet_gen_zones, inet_check_zones, inet_role_zones, inet_zone_file.
# shellcheck source-path=SCRIPTDIR source=zones.sh
. "$INET_DIR/zones.sh"

inet_gen_nsd_conf() { # ROLE IP4 IP6 ZONES...
	local role=$1 ip4=$2 ip6=$3 dir=$POLLUX_INET_RUN/nsd/$1 z
	shift 3
	cat <<EOF
# nsd for the lab role $role (generated by tests/lab/internet/internet.sh).
server:
	ip-address: $ip4
	ip-address: $ip6
	do-ip4: yes
	do-ip6: yes
	port: 53
	server-count: 1
	reuseport: no
	username: ""
	chroot: ""
	zonesdir: "$INET_ZONES"
	database: ""
	zonelistfile: "$dir/zone.list"
	xfrdfile: "$dir/xfrd.state"
	xfrdir: "$dir"
	cookie-secret-file: "$dir/cookiesecrets.txt"
	pidfile: "$dir/nsd.pid"
	logfile: "$dir/nsd.log"
	verbosity: 1
	hide-version: no
	identity: "$role"
	# Debian's nsd rate-limits by default: a resolver under test would see drops and TC.
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
	zonefiles-check: yes
	zonefiles-write: 0
remote-control:
	control-enable: no
EOF
	for z in $(inet_role_zones "$@"); do
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "$z" "$(inet_zone_file "$z")"
	done
}

# The namespace, its link to pxlab-cli, addresses and routes.
inet_net_steps() {
	local c=$POLLUX_LAB_NS_CLI n=$POLLUX_INET_NS r ip4 ip6 rest
	lab_run "creating namespace $n" ip netns add "$n" &&
		lab_run "creating veth $INET_IF_CLI/$INET_IF_NET" \
			ip link add "$INET_IF_CLI" type veth peer name "$INET_IF_NET" &&
		lab_run "moving $INET_IF_CLI to $c" ip link set "$INET_IF_CLI" netns "$c" &&
		lab_run "moving $INET_IF_NET to $n" ip link set "$INET_IF_NET" netns "$n" &&
		lab_run "addressing $INET_IF_CLI" \
			ip -n "$c" addr add "$INET_CLI_IP4/$INET_LINK4_LEN" dev "$INET_IF_CLI" &&
		lab_run "addressing $INET_IF_CLI" \
			ip -n "$c" addr add "$INET_CLI_IP6/$INET_LINK6_LEN" dev "$INET_IF_CLI" nodad &&
		lab_run "addressing $INET_IF_NET" \
			ip -n "$n" addr add "$INET_NET_IP4/$INET_LINK4_LEN" dev "$INET_IF_NET" &&
		lab_run "addressing $INET_IF_NET" \
			ip -n "$n" addr add "$INET_NET_IP6/$INET_LINK6_LEN" dev "$INET_IF_NET" nodad &&
		lab_run "bringing up lo in $n" ip -n "$n" link set lo up &&
		lab_run "bringing up $INET_IF_CLI" ip -n "$c" link set "$INET_IF_CLI" up &&
		lab_run "bringing up $INET_IF_NET" ip -n "$n" link set "$INET_IF_NET" up &&
		# Unfinished checksums (CHECKSUM_PARTIAL) must not reach pollux's DPDK port through
		# the router, nor confuse a capture.
		lab_run "disabling checksum offload on $INET_IF_CLI" \
			ip netns exec "$c" ethtool -K "$INET_IF_CLI" rx off tx off &&
		lab_run "disabling checksum offload on $INET_IF_NET" \
			ip netns exec "$n" ethtool -K "$INET_IF_NET" rx off tx off &&
		lab_run "enabling IPv4 forwarding in $c" \
			ip netns exec "$c" sysctl -qw net.ipv4.ip_forward=1 &&
		lab_run "enabling IPv6 forwarding in $c" \
			ip netns exec "$c" sysctl -qw net.ipv6.conf.all.forwarding=1 &&
		# Forwarding in pxlab-net too, only so that the kernel drops what a blackhole route
		# matches silently: without it, it answers ICMP host unreachable, and the silent
		# server would not be silent. pxlab-net has no route onward, so nothing is forwarded.
		lab_run "enabling IPv4 forwarding in $n" \
			ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1 &&
		lab_run "enabling IPv6 forwarding in $n" \
			ip netns exec "$n" sysctl -qw net.ipv6.conf.all.forwarding=1 &&
		lab_run "routing 198.18.0.0/15 to $n" \
			ip -n "$c" route add 198.18.0.0/15 via "$INET_NET_IP4" dev "$INET_IF_CLI" &&
		lab_run "routing 2001:2::/48 to $n" \
			ip -n "$c" -6 route add 2001:2::/48 via "$INET_NET_IP6" dev "$INET_IF_CLI" &&
		lab_run "routing the client LAN back" \
			ip -n "$n" route add "198.18.0.0/$LAB_IP4_LEN" via "$INET_CLI_IP4" &&
		lab_run "routing the links back" \
			ip -n "$n" route add 198.19.255.0/24 via "$INET_CLI_IP4" &&
		lab_run "routing the client LAN back (IPv6)" \
			ip -n "$n" -6 route add "2001:2::/$LAB_IP6_LEN" via "$INET_CLI_IP6" &&
		lab_run "routing the links back (IPv6)" \
			ip -n "$n" -6 route add 2001:2:0:ff00::/56 via "$INET_CLI_IP6" &&
		lab_run "blackholing the silent server" \
			ip -n "$n" route add blackhole "$INET_SILENT_IP4/32" &&
		lab_run "blackholing the silent server (IPv6)" \
			ip -n "$n" -6 route add blackhole "$INET_SILENT_IP6/128" || return 1
	for r in "${INET_ROLES[@]}"; do
		read -r _ ip4 ip6 rest <<<"$r"
		lab_run "adding $ip4 to lo" ip -n "$n" addr add "$ip4/32" dev lo &&
			lab_run "adding $ip6 to lo" ip -n "$n" addr add "$ip6/128" dev lo || return 1
	done
	lab_run "adding $INET_EVIL_IP4 to lo" ip -n "$n" addr add "$INET_EVIL_IP4/32" dev lo &&
		lab_run "adding $INET_EVIL_IP6 to lo" ip -n "$n" addr add "$INET_EVIL_IP6/128" dev lo &&
		lab_run "adding $INET_ODD_IP4 to lo" ip -n "$n" addr add "$INET_ODD_IP4/32" dev lo &&
		lab_run "adding $INET_ODD_IP6 to lo" ip -n "$n" addr add "$INET_ODD_IP6/128" dev lo
}

inet_start_servers() {
	local r role ip4 ip6 zones conf out
	for r in "${INET_ROLES[@]}"; do
		read -r role ip4 ip6 zones <<<"$r"
		conf=$POLLUX_INET_RUN/nsd/$role/nsd.conf
		mkdir -p "${conf%/*}" || return 1
		# shellcheck disable=SC2086
		inet_gen_nsd_conf "$role" "$ip4" "$ip6" $zones >"$conf" || return 1
		if ! out=$(nsd-checkconf "$conf" 2>&1); then
			inet_err "nsd-checkconf rejected $conf: $out"
			return 1
		fi
		# nsd forks into the background itself and writes its pid file.
		lab_run "starting nsd $role" inet_net nsd -c "$conf" || return 1
	done
	mkdir -p "$(dirname "$INET_EVIL_PID")" || return 1
	# setsid: no terminal's SIGHUP reaches it. `ip netns exec` and setsid both exec, so $! is
	# the responder itself.
	ip netns exec "$POLLUX_INET_NS" setsid python3 "$INET_RESPONDER" --listen "$INET_EVIL_IP4" --listen "$INET_EVIL_IP6" \
		--forged "$INET_FORGED_WWW4" --pidfile "$INET_EVIL_PID" --logfile "$INET_EVIL_LOG" \
		</dev/null >>"$INET_EVIL_LOG.stderr" 2>&1 &
	echo $! >"$INET_EVIL_PID.launch"
	mkdir -p "$(dirname "$INET_ODD_PID")" || return 1
	ip netns exec "$POLLUX_INET_NS" setsid python3 "$INET_ODD" --zone odd.test \
		--listen "$INET_ODD_IP4" --listen "$INET_ODD_IP6" --address4 198.18.12.23 \
		--pidfile "$INET_ODD_PID" --logfile "$INET_ODD_LOG" \
		</dev/null >>"$INET_ODD_LOG.stderr" 2>&1 &
	echo $! >"$INET_ODD_PID.launch"
}

# Moves moved.test (zones.sh): test. now delegates it to role fb, both TLD servers reload, and
# role fb-old stops and its addresses go silent (blackholed: no ICMP, as for silent.test).
inet_move_zone() {
	local r role ip4 ip6 zones pid i=0 ok
	INET_MOVED4=$INET_MOVED_NEW4 INET_MOVED6=$INET_MOVED_NEW6 inet_gen_test \
		>"$INET_ZONES/test.zone.new" && mv "$INET_ZONES/test.zone.new" "$INET_ZONES/test.zone" ||
		return 1
	for r in "${INET_ROLES[@]}"; do
		read -r role ip4 ip6 zones <<<"$r"
		case $role in
		tld-*)
			# nsd reloads its zone files on SIGHUP.
			pid=$(cat "$POLLUX_INET_RUN/nsd/$role/nsd.pid" 2>/dev/null) &&
				inet_pid_alive "$pid" "$POLLUX_INET_NS" && kill -HUP "$pid" || return 1
			;;
		fb-old)
			pid=$(cat "$POLLUX_INET_RUN/nsd/$role/nsd.pid" 2>/dev/null) &&
				inet_kill_wait "$POLLUX_INET_NS" TERM 3 "$pid" || return 1
			ip -n "$POLLUX_INET_NS" addr del "$ip4/32" dev lo &&
				ip -n "$POLLUX_INET_NS" -6 addr del "$ip6/128" dev lo &&
				ip -n "$POLLUX_INET_NS" route add blackhole "$ip4/32" &&
				ip -n "$POLLUX_INET_NS" -6 route add blackhole "$ip6/128" || return 1
			;;
		esac
	done
	# Until both TLD servers give the new delegation.
	while [ "$i" -lt 50 ]; do
		ok=0
		for ip4 in 198.18.2.1 198.18.2.2; do
			inet_dig +norec +tries=1 +time=1 "@$ip4" www.moved.test A 2>/dev/null |
				grep -q "$INET_MOVED_NEW4" && ok=$((ok + 1))
		done
		[ "$ok" = 2 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	inet_err "the TLD servers still give moved.test's old delegation"
	return 1
}

# One probe: the server at addr answers for zone with the expected rcode (aa for NOERROR).
inet_probe() { # ADDR ZONE RCODE
	local out
	out=$(inet_dig +norec +tries=1 +time=1 "@$1" "$2" SOA 2>/dev/null) || return 1
	grep -q "status: $3," <<<"$out" || return 1
	[ "$3" != NOERROR ] || grep -q '^;; flags:[^;]* aa' <<<"$out"
}

# Waits until every server address answers (nsd serves once all its zones are loaded, so one
# zone per address is enough), or POLLUX_INET_TIMEOUT passes.
inet_wait_servers() {
	local end=$((SECONDS + POLLUX_INET_TIMEOUT)) r role ip4 ip6 zones z pending probes p
	probes=()
	for r in "${INET_ROLES[@]}"; do
		read -r role ip4 ip6 zones <<<"$r"
		# shellcheck disable=SC2086
		z=$(inet_role_zones $zones | awk '{print $1}')
		if [ -n "$z" ]; then
			probes+=("$role $ip4 $z NOERROR" "$role $ip6 $z NOERROR")
		else
			probes+=("$role $ip4 . REFUSED" "$role $ip6 . REFUSED")
		fi
	done
	probes+=("evil $INET_EVIL_IP4 evil.test. NOERROR" "evil $INET_EVIL_IP6 evil.test. NOERROR")
	probes+=("odd $INET_ODD_IP4 odd.test. NOERROR" "odd $INET_ODD_IP6 odd.test. NOERROR")
	while :; do
		pending=()
		for p in "${probes[@]}"; do
			read -r role ip4 z r <<<"$p"
			inet_probe "$ip4" "$z" "$r" || pending+=("$p")
		done
		[ ${#pending[@]} -eq 0 ] && return 0
		probes=("${pending[@]}")
		if [ "$SECONDS" -ge "$end" ]; then
			for p in "${pending[@]}"; do
				read -r role ip4 z r <<<"$p"
				inet_err "$role ($ip4) does not answer $z SOA with $r"
				if [ "$role" = evil ] || [ "$role" = odd ]; then
					tail -5 "$INET_EVIL_LOG" "$INET_EVIL_LOG.stderr" "$INET_ODD_LOG" \
						"$INET_ODD_LOG.stderr" 2>/dev/null
				else
					tail -5 "$POLLUX_INET_RUN/nsd/$role/nsd.log" 2>/dev/null
				fi | sed 's/^/internet:   | /' >&2
			done
			return 1
		fi
		sleep 0.1
	done
}

inet_lab_is_up() {
	lab_ns_exists "$POLLUX_LAB_NS_CLI" && lab_ns_exists "$POLLUX_LAB_NS_PX" &&
		ip -n "$POLLUX_LAB_NS_CLI" link show "$POLLUX_LAB_IF_CLI" >/dev/null 2>&1
}

inet_is_up() {
	lab_ns_exists "$POLLUX_INET_NS" &&
		ip -n "$POLLUX_INET_NS" link show "$INET_IF_NET" >/dev/null 2>&1
}

# Builds the internet (and the base lab if it is not up), after removing a previous one.
inet_up() {
	local t0=$SECONDS
	lab_require_root || return 1
	lab_require_tools || return 1
	inet_require_tools || return 1
	case $POLLUX_INET_SLD_COUNT in
	'' | *[!0-9]*)
		inet_err "POLLUX_INET_SLD_COUNT must be a number, not '$POLLUX_INET_SLD_COUNT'"
		return 1
		;;
	esac
	if [ "$POLLUX_INET_SLD_COUNT" -lt 10 ] || [ "$POLLUX_INET_SLD_COUNT" -gt 60000 ]; then
		inet_err "POLLUX_INET_SLD_COUNT must be within 10..60000"
		return 1
	fi
	inet_down || {
		inet_err "could not remove a previous internet; fix the above and retry"
		return 1
	}
	if ! inet_lab_is_up; then
		lab_up || return 1
	fi
	# The run directory is ours alone: refuse to empty anything that does not look like it.
	case $POLLUX_INET_RUN in
	/tmp/?* | /var/tmp/?* | /run/?*) ;;
	*)
		inet_err "POLLUX_INET_RUN must be under /tmp, /var/tmp or /run, not '$POLLUX_INET_RUN'"
		return 1
		;;
	esac
	rm -rf "$POLLUX_INET_RUN" && mkdir -p "$POLLUX_INET_RUN" || return 1
	if ! inet_gen_zones || ! inet_check_zones; then
		inet_err "bad zones in $INET_ZONES"
		return 1
	fi
	if ! inet_net_steps || ! inet_start_servers || ! inet_wait_servers; then
		inet_err "internet setup failed; removing it (logs stay in $POLLUX_INET_RUN)"
		inet_down >/dev/null 2>&1 || true
		return 1
	fi
	inet_log "up in $((SECONDS - t0))s: ${#INET_ROLES[@]} nsd roles, evil.test responder," \
		"$(find "$INET_ZONES" -name '*.zone' | wc -l) zones; hints $INET_HINTS; run dir" \
		"$POLLUX_INET_RUN"
}

# Removes everything inet_up and inet_unbound_start created, and nothing of the base lab.
inet_down() {
	local rc=0 f dev
	lab_require_root || return 1
	inet_unbound_stop || rc=1
	for f in "$INET_CAPS"/*.pid; do
		[ -e "$f" ] || continue
		f=${f##*/}
		inet_capture_stop "${f%.pid}" || rc=1
	done
	inet_ns_stop_all "$POLLUX_INET_NS_RES" "$INET_UB_PID" || rc=1
	inet_ns_stop_all "$POLLUX_INET_NS" "$POLLUX_INET_RUN"/nsd/*/nsd.pid "$INET_EVIL_PID" \
		"$INET_ODD_PID" || rc=1
	for f in "$POLLUX_INET_NS_RES" "$POLLUX_INET_NS"; do
		if lab_ns_exists "$f"; then
			lab_run "deleting namespace $f" ip netns delete "$f" || rc=1
		fi
	done
	# Deleting a namespace deletes its veth ends and their peers in pxlab-cli. A run killed
	# before the ends were moved leaves them in the root namespace: remove them by name, and
	# only if they are veths.
	for dev in "$INET_IF_CLI" "$INET_IF_NET" "$INET_IF_RES_CLI" "$INET_IF_RES"; do
		if ip -d link show "$dev" 2>/dev/null | grep -qw veth; then
			lab_run "deleting $dev" ip link delete "$dev" || rc=1
		fi
		if lab_ns_exists "$POLLUX_LAB_NS_CLI" &&
			ip -n "$POLLUX_LAB_NS_CLI" -d link show "$dev" 2>/dev/null | grep -qw veth; then
			lab_run "deleting $dev in $POLLUX_LAB_NS_CLI" \
				ip -n "$POLLUX_LAB_NS_CLI" link delete "$dev" || rc=1
		fi
	done
	if lab_ns_exists "$POLLUX_LAB_NS_CLI"; then
		ip netns exec "$POLLUX_LAB_NS_CLI" sysctl -qw net.ipv4.ip_forward=0 2>/dev/null
		ip netns exec "$POLLUX_LAB_NS_CLI" sysctl -qw net.ipv6.conf.all.forwarding=0 2>/dev/null
	fi
	rm -f "$POLLUX_INET_RUN"/nsd/*/nsd.pid "$INET_EVIL_PID" "$INET_EVIL_PID.launch" \
		"$INET_ODD_PID" "$INET_ODD_PID.launch" \
		"$INET_UB_PID" 2>/dev/null
	return "$rc"
}

# The internet, then the base lab (and the pollux in it).
inet_teardown() {
	local rc=0
	inet_down || rc=1
	lab_down || rc=1
	return "$rc"
}

# Stock resolver: Unbound in its own namespace, pxlab-res, hanging off pxlab-cli like the
# internet does, so its upstream queries cross pxlab-cli's router like pollux's. It listens on
# 127.0.0.1 and ::1 there (for ip netns exec pxlab-res dig @127.0.0.1) and on its link addresses
# 198.19.255.6 and 2001:2:0:ff01::2, which clients in pxlab-cli (dig, dnsperf) use.

inet_res_up() {
	local c=$POLLUX_LAB_NS_CLI r=$POLLUX_INET_NS_RES
	if lab_ns_exists "$r" && ip -n "$r" link show "$INET_IF_RES" >/dev/null 2>&1; then
		return 0
	fi
	if lab_ns_exists "$r"; then
		inet_ns_stop_all "$r" && lab_run "deleting namespace $r" ip netns delete "$r" || return 1
	fi
	lab_run "creating namespace $r" ip netns add "$r" &&
		lab_run "creating veth $INET_IF_RES_CLI/$INET_IF_RES" \
			ip link add "$INET_IF_RES_CLI" type veth peer name "$INET_IF_RES" &&
		lab_run "moving $INET_IF_RES_CLI to $c" ip link set "$INET_IF_RES_CLI" netns "$c" &&
		lab_run "moving $INET_IF_RES to $r" ip link set "$INET_IF_RES" netns "$r" &&
		lab_run "addressing $INET_IF_RES_CLI" \
			ip -n "$c" addr add "$INET_RES_CLI_IP4/$INET_LINK4_LEN" dev "$INET_IF_RES_CLI" &&
		lab_run "addressing $INET_IF_RES_CLI" \
			ip -n "$c" addr add "$INET_RES_CLI_IP6/$INET_LINK6_LEN" dev "$INET_IF_RES_CLI" nodad &&
		lab_run "addressing $INET_IF_RES" \
			ip -n "$r" addr add "$INET_RES_IP4/$INET_LINK4_LEN" dev "$INET_IF_RES" &&
		lab_run "addressing $INET_IF_RES" \
			ip -n "$r" addr add "$INET_RES_IP6/$INET_LINK6_LEN" dev "$INET_IF_RES" nodad &&
		lab_run "bringing up lo in $r" ip -n "$r" link set lo up &&
		lab_run "bringing up $INET_IF_RES_CLI" ip -n "$c" link set "$INET_IF_RES_CLI" up &&
		lab_run "bringing up $INET_IF_RES" ip -n "$r" link set "$INET_IF_RES" up &&
		lab_run "disabling checksum offload on $INET_IF_RES_CLI" \
			ip netns exec "$c" ethtool -K "$INET_IF_RES_CLI" rx off tx off &&
		lab_run "disabling checksum offload on $INET_IF_RES" \
			ip netns exec "$r" ethtool -K "$INET_IF_RES" rx off tx off &&
		lab_run "routing 198.18.0.0/15 from $r" \
			ip -n "$r" route add 198.18.0.0/15 via "$INET_RES_CLI_IP4" &&
		lab_run "routing 2001:2::/48 from $r" \
			ip -n "$r" -6 route add 2001:2::/48 via "$INET_RES_CLI_IP6"
}

inet_gen_unbound_conf() {
	cat <<EOF
# Unbound for the lab (generated by tests/lab/internet/internet.sh): iterator only (no DNSSEC,
# no trust anchor), the lab's root hints, its own files, one thread.
server:
	verbosity: 1
	num-threads: 1
	so-reuseport: no
	chroot: ""
	username: ""
	directory: "$INET_UB"
	pidfile: "$INET_UB_PID"
	logfile: "$INET_UB_LOG"
	use-syslog: no
	log-time-ascii: yes
	interface: 127.0.0.1
	interface: ::1
	interface: $INET_RES_IP4
	interface: $INET_RES_IP6
	port: 53
	do-ip4: yes
	do-ip6: yes
	do-udp: yes
	do-tcp: yes
	access-control: 127.0.0.0/8 allow
	access-control: ::1/128 allow
	access-control: 198.18.0.0/15 allow
	access-control: 2001:2::/48 allow
	root-hints: "$INET_HINTS"
	module-config: "iterator"
	harden-glue: yes
	qname-minimisation: yes
	do-not-query-localhost: yes
	# Unbound answers the special-use name test. (RFC 6761) itself, NXDOMAIN for everything;
	# the lab's TLD test. must be resolved like any other.
	local-zone: "test." nodefault
${POLLUX_INET_UNBOUND_EXTRA:-}
	# 1024 file descriptors are the default limit here: leave room for the listening sockets.
	outgoing-range: 900
remote-control:
	control-enable: yes
	control-interface: "$INET_UB_CTL"
	control-use-cert: no
EOF
}

# Starts Unbound in pxlab-res and waits until it answers (a local CH question: no upstream
# traffic, the cache stays cold).
inet_unbound_start() {
	local pid i=0 out
	lab_require_root || return 1
	command -v unbound >/dev/null 2>&1 || {
		inet_err "no unbound (apt-get install unbound)"
		return 1
	}
	if ! inet_is_up; then
		inet_err "the internet is not up ($INET_DIR/internet.sh up)"
		return 1
	fi
	inet_unbound_stop || return 1
	inet_res_up || return 1
	mkdir -p "$INET_UB" && rm -f "$INET_UB_LOG" "$INET_UB_CTL" || return 1
	inet_gen_unbound_conf >"$INET_UB_CONF" || return 1
	if ! out=$(unbound-checkconf "$INET_UB_CONF" 2>&1); then
		inet_err "unbound-checkconf: $out"
		return 1
	fi
	# -d: stay in the foreground, so $! is Unbound (ip netns exec execs it).
	ip netns exec "$POLLUX_INET_NS_RES" unbound -d -c "$INET_UB_CONF" </dev/null >>"$INET_UB_LOG.stderr" 2>&1 &
	pid=$!
	echo "$pid" >"$INET_UB_PID"
	while [ "$i" -lt $((POLLUX_INET_TIMEOUT * 10)) ]; do
		# Alive in any namespace: right after the fork `ip netns exec` may not have entered
		# the namespace yet (lab_proc_live).
		if ! lab_proc_live "$pid"; then
			inet_err "unbound exited during start-up:"
			cat "$INET_UB_LOG.stderr" "$INET_UB_LOG" 2>/dev/null | tail -20 |
				sed 's/^/internet:   | /' >&2
			return 1
		fi
		if inet_dig +tries=1 +time=1 "@$INET_RES_IP4" version.server CH TXT 2>/dev/null |
			grep -q 'status: NOERROR'; then
			inet_log "unbound runs in $POLLUX_INET_NS_RES (pid $pid) on $INET_RES_IP4," \
				"$INET_RES_IP6, 127.0.0.1, ::1; log $INET_UB_LOG"
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	inet_err "unbound did not answer within ${POLLUX_INET_TIMEOUT}s"
	inet_unbound_stop
	return 1
}

inet_unbound_stop() {
	local pid
	[ -r "$INET_UB_PID" ] || return 0
	pid=$(cat "$INET_UB_PID")
	if inet_pid_alive "$pid" "$POLLUX_INET_NS_RES"; then
		inet_kill_wait "$POLLUX_INET_NS_RES" TERM 5 "$pid" || return 1
	fi
	rm -f "$INET_UB_PID"
}

# unbound-control against the lab's Unbound (its socket is a file: any namespace will do).
inet_unbound_ctl() {
	unbound-control -c "$INET_UB_CONF" "$@"
}

# Packet capture on a lab link, for proving what a resolver sent where.
#   inet_capture_start NAME NS IFACE [FILTER]  tcpdump in NS on IFACE (any: all of NS's
#                                              interfaces, lo included) into
#                                              $POLLUX_INET_RUN/capture/NAME.pcap; FILTER
#                                              defaults to DNS (port 53, UDP and TCP)
#   inet_capture_stop NAME                     stops it, the file complete
#   inet_capture_invalid NAME                  prints the DNS packets sent to an invalid address
#                                              (0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/3: multicast,
#                                              class E and broadcast; ::, ::1, ff00::/8,
#                                              ::ffff:0:0/96); none: prints nothing
#   inet_capture_dests NAME                    "count address" per destination of DNS queries

inet_capture_start() {
	local name=$1 ns=$2 ifc=$3 filter=${4:-udp port 53 or tcp port 53} pid i=0
	mkdir -p "$INET_CAPS" || return 1
	command -v tcpdump >/dev/null 2>&1 || {
		inet_err "no tcpdump (apt-get install tcpdump)"
		return 1
	}
	inet_capture_stop "$name" || return 1
	rm -f "$INET_CAPS/$name.pcap" "$INET_CAPS/$name.err"
	# -Z root: tcpdump would otherwise drop to its own user and fail to write in our run dir.
	# -U: write each packet at once, so a killed capture still has what it saw.
	# shellcheck disable=SC2086
	ip netns exec "$ns" tcpdump -Z root -U -n -s 0 -i "$ifc" -w "$INET_CAPS/$name.pcap" \
		$filter </dev/null 2>"$INET_CAPS/$name.err" &
	pid=$!
	echo "$pid $ns" >"$INET_CAPS/$name.pid"
	# Alive in any namespace, as the child may not have entered ns yet (lab_proc_live); up to
	# 10 s, as tcpdump starts slowly on a loaded machine.
	while ! grep -q 'listening on' "$INET_CAPS/$name.err" 2>/dev/null; do
		if ! lab_proc_live "$pid" || [ "$i" -ge 200 ]; then
			inet_err "tcpdump on $ns/$ifc did not start: $(cat "$INET_CAPS/$name.err")"
			inet_capture_stop "$name"
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

inet_capture_stop() {
	local name=$1 pid ns
	[ -r "$INET_CAPS/$name.pid" ] || return 0
	read -r pid ns <"$INET_CAPS/$name.pid"
	if inet_pid_alive "$pid" "$ns" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = tcpdump ]; then
		inet_kill_wait "$ns" INT 3 "$pid" || return 1
	fi
	rm -f "$INET_CAPS/$name.pid"
}

INET_INVALID_FILTER='dst port 53 and (dst net 0.0.0.0/8 or dst net 127.0.0.0/8 or dst net 224.0.0.0/3 or ip6 dst host :: or ip6 dst host ::1 or ip6 dst net ff00::/8 or ip6 dst net ::ffff:0:0/96)'

inet_capture_invalid() {
	tcpdump -r "$INET_CAPS/$1.pcap" -nn "$INET_INVALID_FILTER" 2>/dev/null
}

inet_capture_dests() {
	# IPv6 addresses end in ".port" in tcpdump's output too: strip the last dot-field.
	tcpdump -r "$INET_CAPS/$1.pcap" -nn 'dst port 53' 2>/dev/null |
		awk '{for (i = 1; i < NF; i++) if ($i == ">") {d = $(i + 1); sub(/:$/, "", d);
			sub(/\.[0-9]+$/, "", d); n[d]++}} END {for (d in n) print n[d], d}' | sort -k2
}

inet_status() {
	local ns r role ip4 ip6 pid f
	for ns in "$POLLUX_LAB_NS_CLI" "$POLLUX_LAB_NS_PX" "$POLLUX_INET_NS" "$POLLUX_INET_NS_RES"; do
		if lab_ns_exists "$ns"; then
			echo "namespace $ns: up"
		else
			echo "namespace $ns: absent"
		fi
	done
	for r in "${INET_ROLES[@]}"; do
		read -r role ip4 ip6 _ <<<"$r"
		pid=$(cat "$POLLUX_INET_RUN/nsd/$role/nsd.pid" 2>/dev/null)
		if inet_pid_alive "$pid" "$POLLUX_INET_NS"; then
			echo "nsd $role ($ip4, $ip6): running, pid $pid"
		else
			echo "nsd $role ($ip4, $ip6): not running"
		fi
	done
	pid=$(cat "$INET_EVIL_PID" 2>/dev/null)
	if inet_pid_alive "$pid" "$POLLUX_INET_NS"; then
		echo "evil.test responder ($INET_EVIL_IP4, $INET_EVIL_IP6): running, pid $pid"
	else
		echo "evil.test responder ($INET_EVIL_IP4, $INET_EVIL_IP6): not running"
	fi
	echo "silent server ($INET_SILENT_IP4, $INET_SILENT_IP6): blackholed"
	pid=$(cat "$INET_UB_PID" 2>/dev/null)
	if inet_pid_alive "$pid" "$POLLUX_INET_NS_RES"; then
		echo "unbound: running, pid $pid, on $INET_RES_IP4 $INET_RES_IP6 (log $INET_UB_LOG)"
	else
		echo "unbound: not running"
	fi
	for f in "$INET_CAPS"/*.pid; do
		[ -e "$f" ] || continue
		echo "capture ${f##*/}: $(cat "$f")"
	done
	echo "hints: $INET_HINTS; run dir: $POLLUX_INET_RUN"
}

inet_usage() {
	cat <<EOF
Usage: $0 up|status|unbound-start|unbound-stop|down|teardown

  up             build the simulated internet in $POLLUX_INET_NS (and the base lab if needed)
  status         what runs
  unbound-start  Unbound in $POLLUX_INET_NS_RES, on $INET_RES_IP4 and $INET_RES_IP6
  unbound-stop   stop it
  down           remove the internet (the base lab stays)
  teardown       remove the internet and the base lab

Environment: POLLUX_INET_RUN, POLLUX_INET_NS, POLLUX_INET_NS_RES, POLLUX_INET_SLD_COUNT,
POLLUX_INET_TIMEOUT, and tests/lab/lab.sh's (see the top of $INET_DIR/internet.sh).
EOF
}

inet_main() {
	local cmd=${1:-}
	case $cmd in
	up) inet_up ;;
	down) inet_down ;;
	teardown | down-all) inet_teardown ;;
	status) inet_status ;;
	unbound-start) inet_unbound_start ;;
	unbound-stop) inet_unbound_stop ;;
	-h | --help | help) inet_usage ;;
	*)
		inet_usage >&2
		return 2
		;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	inet_main "$@"
fi
