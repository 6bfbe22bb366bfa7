#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# DNS over TCP (dataplane/dp_tcp.h), end to end: pollux in the lab resolving
# through the simulated internet (tests/lab/internet/internet.sh), asked over TCP by dig and by
# tests/lab/tcp_pipeline.py from the client namespace:
#   1. the exception path exists: the tun interface has pollux's addresses (/32, /128), its
#      table has the default routes, and the policy rules send pollux's source addresses there;
#   2. dig +tcp: a local-zone answer (IPv4 and IPv6 clients), a miss resolved through the
#      internet, then the same name again as a cache hit;
#   3. big.z7.test TXT asked over TCP, never asked before: its upstream UDP reply has TC, pollux
#      asks the server again over TCP, and the client gets all 12 records;
#   4. pipelining: several queries written at once on one connection are each answered once,
#      with their own ID and question; a miss asked first is answered after the local-zone
#      answers asked behind it (out of order, RFC 7766 6.2.1.1);
#   5. a length prefix over the message room closes the connection (counted), and pollux still
#      serves;
#   6. only DNS reaches the kernel: a web server listening on port 8080 in pollux's namespace
#      cannot be reached from the client (IPv4, IPv6), counted drop_tcp_port, and each of the
#      two filters alone keeps it out: with pollux's nftables table deleted by hand the
#      workers still drop the segments; a SYN written straight into the tun (the workers'
#      filter out of the way) is dropped by the table, and reaches the listener once the table
#      is gone. A killed run's table is replaced at the next start;
#   7. stopping pollux removes the interface, the rules and the table; with --tcp off there is
#      no tun, a TCP query gets no answer and the segment is counted as drop_l4_proto.
#
# Runs as root, unattended, in about 30 seconds. Every name (namespaces, interfaces, run
# directories) comes from the lab.sh / internet.sh environment variables. Prints 'ok - ...' /
# 'not ok - ...', then 'N passed, M failed'. Everything is torn down at exit unless
# POLLUX_INET_KEEP=1.

set -u
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=internet/internet.sh
. "$TEST_DIR/internet/internet.sh"
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

TUN=${POLLUX_TCP_IFACE:-pxtcp0}
TABLE=5353
NFT_TABLE=pollux_$(tr -c 'A-Za-z0-9\n' _ <<<"$TUN")
HTTP_PORT=8080
HTTP_PID=

finish() {
	local rc=$?
	trap - EXIT INT TERM
	[ -z "$HTTP_PID" ] || kill "$HTTP_PID" 2>/dev/null
	if [ "${POLLUX_INET_KEEP:-0}" = 1 ]; then
		diag "POLLUX_INET_KEEP=1: the lab, the internet and pollux stay up"
	else
		lab_stop >/dev/null 2>&1
		inet_teardown >/dev/null 2>&1 || echo "# warning: teardown reported errors" >&2
	fi
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
trap finish EXIT
trap 'echo "# interrupted"; FAILED=$((FAILED + 1)); exit 1' INT TERM

for t in nsd dig python3 nft; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "prerequisites" "$t is not installed (source tests/deps.sh; px_install_deps)"
		exit 1
	fi
done
lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }

tq() { # tq SERVER NAME TYPE [dig options...]: over TCP
	local s=$1 n=$2 t=$3
	shift 3
	lab_cli dig +tcp +tries=1 +time=3 "@$s" "$n" "$t" "$@" 2>&1
}

dig_status() {
	awk '/->>HEADER<<-/ {for (i = 1; i <= NF; i++) if ($i == "status:") {s = $(i + 1); sub(",", "", s); print s}}' <<<"$1"
}

stat_of() { # stat_of NAME: a total counter, or a tcp.* line
	lab_ctl stats 2>/dev/null | awk -v n="total.$1" '$1 == n {print $2}'
}

tcp_of() {
	lab_ctl tcp 2>/dev/null | awk -v n="tcp.$1" '$1 == n {print $2}'
}

start_px() {
	lab_start --gateway "$LAB_CLI_IP4" --gateway6 "$LAB_CLI_IP6" \
		--hints "$TEST_DIR/internet/lab.root" --local-zone "$LAB_DIR/zones/example.test.zone" \
		--tcp-iface "$TUN" "$@"
}

if ! inet_up >/dev/null; then
	not_ok "the internet comes up" "see the errors above"
	exit 1
fi
ok "the internet comes up"
lab_stop >/dev/null 2>&1
if ! start_px; then
	not_ok "pollux starts with TCP on" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
ok "pollux starts with TCP on (the default)"

# 1. The exception path, as the kernel sees it.
addrs=$(ip -n "$POLLUX_LAB_NS_PX" addr show dev "$TUN" 2>&1)
check "$TUN has $LAB_PX_IP4/32 and $LAB_PX_IP6/128" "$(oneline "$addrs")" \
	grep -q "inet $LAB_PX_IP4/32" <<<"$addrs"
check "$TUN's IPv6 address is /128" "$(oneline "$addrs")" grep -q "inet6 $LAB_PX_IP6/128" <<<"$addrs"
rules=$(ip -n "$POLLUX_LAB_NS_PX" rule; ip -n "$POLLUX_LAB_NS_PX" -6 rule)
check "policy rules send pollux's source addresses to table $TABLE" "$(oneline "$rules")" \
	test "$(grep -c "from \($LAB_PX_IP4\|$LAB_PX_IP6\) lookup $TABLE" <<<"$rules")" = 2
routes=$(ip -n "$POLLUX_LAB_NS_PX" route show table "$TABLE"; ip -n "$POLLUX_LAB_NS_PX" -6 route show table "$TABLE")
check "table $TABLE routes IPv4 and IPv6 through $TUN" "$(oneline "$routes")" \
	test "$(grep -c "default dev $TUN" <<<"$routes")" = 2
main_routes=$(ip -n "$POLLUX_LAB_NS_PX" route show table main)
check "the main table is left alone (no default route added)" "$(oneline "$main_routes")" \
	test -z "$(grep default <<<"$main_routes")"

# 2. Local zone, miss, hit.
out=$(tq "$LAB_PX_IP4" www.example.test A)
check "dig +tcp: local-zone answer over TCP" "$(oneline "$out")" \
	grep -q "^www.example.test.*IN.*A.*198.18.1.10" <<<"$out"
check "dig says it used TCP" "$(oneline "$out")" grep -q "(TCP)" <<<"$out"
out=$(tq "$LAB_PX_IP6" www.example.test AAAA +short)
check "dig +tcp from an IPv6 client: local-zone AAAA" "'$out'" test "$out" = 2001:2:0:1::10
out=$(tq "$LAB_PX_IP4" a.b.z5.test A +short)
check "dig +tcp: a miss resolved through the internet (a.b.z5.test A)" "'$out'" \
	test "$out" = 198.18.12.5
sleep 1.2 # let a second pass: the cached TTL must have gone down
hits0=$(stat_of hits)
sent0=$(stat_of rec_queries_sent)
out=$(tq "$LAB_PX_IP4" a.b.z5.test A +short)
hits1=$(stat_of hits)
sent1=$(stat_of rec_queries_sent)
check "asked again over TCP it is a cache hit (hits $hits0 -> $hits1, no upstream query)" \
	"'$out', queries sent $sent0 -> $sent1" \
	test "$out" = 198.18.12.5 -a "${hits1:-0}" -eq $((${hits0:-0} + 1)) -a "${sent1:-x}" = "${sent0:-y}"

# 3. TC upstream, retried over TCP.
asked0=$(stat_of tcp_up_asked)
ok0=$(tcp_of up_ok)
out=$(tq "$LAB_PX_IP4" big.z7.test TXT)
n=$(grep -c '^big.z7.test.*IN.*TXT' <<<"$out")
check "big.z7.test TXT over TCP: NOERROR with 12 records" "status $(dig_status "$out"), $n TXT" \
	test "$(dig_status "$out")" = NOERROR -a "$n" = 12
asked1=$(stat_of tcp_up_asked)
ok1=$(tcp_of up_ok)
check "its truncated upstream reply was asked again over TCP ($asked0 -> $asked1, replies $ok0 -> $ok1)" \
	"tcp_up_asked $asked0 -> $asked1, tcp.up_ok $ok0 -> $ok1" \
	test "${asked1:-0}" -gt "${asked0:-0}" -a "${ok1:-0}" -gt "${ok0:-0}"
out=$(lab_cli dig +tries=1 +time=3 +ignore "@$LAB_PX_IP4" big.z7.test TXT 2>&1)
check "over UDP the same answer is TC (the client must come over TCP)" "$(oneline "$out")" \
	grep -q "flags: qr tc" <<<"$out"

# 4. Pipelining.
out=$(lab_cli python3 "$TEST_DIR/tcp_pipeline.py" "$LAB_PX_IP4" www.glueless.test/A \
	www.example.test/A nosuch.example.test/A www.example.test/AAAA nosuch.test/A 2>&1)
rc=$?
check "5 pipelined queries on one connection: 5 answers, each with its ID and question" \
	"$(oneline "$out")" test "$rc" = 0 -a "$(grep -c '^[0-9]' <<<"$out")" = 5
check "rcodes: glueless NOERROR, local zone NOERROR/NXDOMAIN, nosuch.test NXDOMAIN" \
	"$(oneline "$out")" test "$(awk '/^[0-9]/ {print $2 "=" $3 "/" $4}' <<<"$out" | sort | tr '\n' ' ')" = \
	"nosuch.example.test=3/0 nosuch.test=3/0 www.example.test=0/1 www.example.test=0/1 www.glueless.test=0/1 "
check "answers came back out of order (the miss asked first was answered last)" \
	"$(oneline "$out")" grep -q "order: out-of-order" <<<"$out"
out=$(lab_cli python3 "$TEST_DIR/tcp_pipeline.py" "$LAB_PX_IP6" www.example.test/A \
	www.example.test/AAAA 2>&1)
check "pipelined over IPv6" "$(oneline "$out")" test "$(grep -c '^[0-9].* 0 1$' <<<"$out")" = 2

# 5. A message longer than pollux takes closes the connection.
big0=$(tcp_of query_too_big)
out=$(lab_cli python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 53), timeout=5)
s.sendall(b"\xff\xff" + b"\0" * 100)
print("closed" if s.recv(10) == b"" else "open")' "$LAB_PX_IP4" 2>&1)
big1=$(tcp_of query_too_big)
check "a 65535-byte length prefix closes the connection (query_too_big $big0 -> $big1)" \
	"'$out'" test "$out" = closed -a "${big1:-0}" -gt "${big0:-0}"
out=$(tq "$LAB_PX_IP4" www.example.test A +short)
check "pollux still answers over TCP after it" "'$out'" test "$out" = 198.18.1.10
sleep 0.5
open=$(tcp_of conns_open)
check "every connection was closed when its client was done (conns_open $open)" "$open" \
	test "$open" = 0
stats=$(lab_ctl stats 2>&1)
diag "pollux counters (tcp_*):" "$(grep -E '^total\.tcp_' <<<"$stats" | grep -v ' 0$' | sed 's/^total\.//' | tr '\n' ' ')"
diag "TCP thread:" "$(lab_ctl tcp 2>&1 | grep -v ' 0$' | tr '\n' ' ')"

# 6. Only DNS reaches the kernel.
px_ns() { ip netns exec "$POLLUX_LAB_NS_PX" "$@"; }
reach() { # reach ADDR PORT: "connected" or "blocked", from the client
	lab_cli python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
    print("connected")
except OSError:
    print("blocked")' "$1" "$2" 2>&1
}
nft_drops() { # the packets the input chain's drop rule counted
	px_ns nft list table inet "$NFT_TABLE" 2>/dev/null |
		awk '/counter packets .* drop/ && !/iifname/ {for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1)}'
}
syn_recv() { # half-open connections on the listener's port
	px_ns ss -Htn state syn-recv "( sport = :$HTTP_PORT )" 2>/dev/null | wc -l
}
inject_syn() {
	px_ns python3 "$TEST_DIR/tun_inject.py" "$TUN" 198.18.0.77 "$LAB_PX_IP4" "$HTTP_PORT"
}

table=$(px_ns nft list table inet "$NFT_TABLE" 2>&1)
check "pollux's nftables table inet $NFT_TABLE filters $TUN's input" "$(oneline "$table")" \
	test "$(grep -c -e "iifname != \"$TUN\" accept" -e "ip daddr $LAB_PX_IP4 tcp dport 53 accept" \
		-e "ip6 daddr $LAB_PX_IP6 tcp dport 53 accept" -e "ct state established,related accept" \
		-e "^[[:space:]]*counter packets [0-9]* bytes [0-9]* drop" \
		-e "iifname \"$TUN\" counter packets [0-9]* bytes [0-9]* drop" \
		-e "iifname != \"$TUN\" ip daddr $LAB_PX_IP4 counter packets [0-9]* bytes [0-9]* drop" \
		-e "iifname != \"$TUN\" ip6 daddr $LAB_PX_IP6 counter packets [0-9]* bytes [0-9]* drop" \
		<<<"$table")" = 8
# Not through a function: $! is then the server itself (ip netns exec execs it).
ip netns exec "$POLLUX_LAB_NS_PX" python3 -m http.server "$HTTP_PORT" --bind :: >/dev/null 2>&1 &
HTTP_PID=$!
for _ in $(seq 50); do
	[ "$(px_ns ss -Htln "( sport = :$HTTP_PORT )" | wc -l)" -gt 0 ] && break
	sleep 0.1
done
check "a web server listens on port $HTTP_PORT in pollux's namespace" "not listening" \
	test "$(px_ns ss -Htln "( sport = :$HTTP_PORT )" | wc -l)" -gt 0
p0=$(stat_of drop_tcp_port)
out4=$(reach "$LAB_PX_IP4" "$HTTP_PORT")
out6=$(reach "$LAB_PX_IP6" "$HTTP_PORT")
p1=$(stat_of drop_tcp_port)
check "a client cannot reach it over IPv4 or IPv6 (drop_tcp_port $p0 -> $p1)" "IPv4 $out4, IPv6 $out6" \
	test "$out4" = blocked -a "$out6" = blocked -a "${p1:-0}" -gt "${p0:-0}"
out=$(reach "$LAB_PX_IP4" 22)
check "nor any other port (22)" "$out" test "$out" = blocked
out=$(tq "$LAB_PX_IP4" www.example.test A +short)
check "DNS over TCP still works beside it" "'$out'" test "$out" = 198.18.1.10

# The table alone: a SYN written straight into the tun never reaches the listener.
n0=$(nft_drops)
inj=$(inject_syn 2>&1)
rc=$?
sleep 0.3
n1=$(nft_drops)
sr=$(syn_recv)
check "the nftables table alone drops a SYN to port $HTTP_PORT that got past the workers (drops $n0 -> $n1)" \
	"inject rc $rc $(oneline "$inj"), half-open: $sr" test "$rc" = 0 -a "${n1:-0}" -gt "${n0:-0}" -a "$sr" = 0

# The workers alone: the table deleted by hand.
px_ns nft delete table inet "$NFT_TABLE"
p0=$(stat_of drop_tcp_port)
out=$(reach "$LAB_PX_IP4" "$HTTP_PORT")
p1=$(stat_of drop_tcp_port)
check "with the table deleted the workers alone keep port $HTTP_PORT out of reach ($p0 -> $p1)" "$out" \
	test "$out" = blocked -a "${p1:-0}" -gt "${p0:-0}"
inject_syn
sleep 0.3
sr=$(syn_recv)
check "without the table the same injected SYN reaches the listener (so the table is what stopped it)" \
	"half-open: $sr" test "$sr" -gt 0
out=$(tq "$LAB_PX_IP4" www.example.test A +short)
check "DNS over TCP still works with the workers' filter alone" "'$out'" test "$out" = 198.18.1.10

# A killed run leaves its table (and rules) behind; the next start replaces them. That start
# uses net_af_packet, which leaves the kernel a copy of every frame on the DPDK port's
# interface: the table must also keep pollux's addresses from being reached that way.
lab_stop >/dev/null 2>&1
if ! start_px >/dev/null 2>&1; then
	not_ok "pollux restarts" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
px_ns nft add rule inet "$NFT_TABLE" input tcp dport "$HTTP_PORT" accept 2>/dev/null
pid=$(cat "$LAB_PIDFILE" 2>/dev/null)
if [ -n "$pid" ]; then
	kill -KILL "$pid" 2>/dev/null
	for _ in $(seq 50); do lab_pid_alive "$pid" || break; sleep 0.1; done
fi
check "a killed pollux (pid '$pid') leaves its table behind" "no table" \
	test -n "$pid" -a -n "$(px_ns nft list table inet "$NFT_TABLE" 2>/dev/null)"
rm -f "$LAB_PIDFILE"
if ! POLLUX_LAB_PMD=af_packet start_px; then
	not_ok "pollux starts after a killed run" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
table=$(px_ns nft list table inet "$NFT_TABLE" 2>&1)
check "the next start replaced the stale table (one table, no stray accept for $HTTP_PORT)" \
	"$(oneline "$table")" test "$(px_ns nft list tables | grep -c "inet $NFT_TABLE")" = 1 -a \
	"$(grep -c "dport $HTTP_PORT" <<<"$table")" = 0
other() { # packets to pollux's addresses the table dropped on other interfaces
	px_ns nft list table inet "$NFT_TABLE" 2>/dev/null |
		awk '/iifname != .* daddr .* drop/ {for (i = 1; i <= NF; i++) if ($i == "packets") s += $(i + 1)} END {print s + 0}'
}
o0=$(other)
out4=$(reach "$LAB_PX_IP4" "$HTTP_PORT")
out6=$(reach "$LAB_PX_IP6" "$HTTP_PORT")
o1=$(other)
check "with af_packet (the kernel sees every frame) port $HTTP_PORT is still out of reach ($o0 -> $o1 dropped off the tun)" \
	"IPv4 $out4, IPv6 $out6" test "$out4" = blocked -a "$out6" = blocked -a "$o1" -gt "$o0"
out=$(tq "$LAB_PX_IP4" www.example.test A +short)
check "DNS over TCP works after the restart" "'$out'" test "$out" = 198.18.1.10
kill "$HTTP_PID" 2>/dev/null
HTTP_PID=

# 7. Stop, then --tcp off.
lab_stop >/dev/null 2>&1
check "stopping pollux removes $TUN" "$(ip -n "$POLLUX_LAB_NS_PX" link show "$TUN" 2>&1)" \
	test -z "$(ip -n "$POLLUX_LAB_NS_PX" link show "$TUN" 2>/dev/null)"
rules=$(ip -n "$POLLUX_LAB_NS_PX" rule; ip -n "$POLLUX_LAB_NS_PX" -6 rule)
check "stopping pollux removes its rules" "$(oneline "$rules")" \
	test -z "$(grep "lookup $TABLE" <<<"$rules")"
check "stopping pollux removes its nftables table" "$(px_ns nft list tables 2>&1 | tr '\n' ' ')" \
	test -z "$(px_ns nft list tables 2>/dev/null | grep "$NFT_TABLE")"
if ! start_px --tcp off; then
	not_ok "pollux starts with --tcp off" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
check "with --tcp off there is no $TUN" "$(ip -n "$POLLUX_LAB_NS_PX" link show "$TUN" 2>&1)" \
	test -z "$(ip -n "$POLLUX_LAB_NS_PX" link show "$TUN" 2>/dev/null)"
d0=$(stat_of drop_l4_proto)
out=$(lab_cli dig +tcp +tries=1 +time=1 "@$LAB_PX_IP4" www.example.test A 2>&1)
d1=$(stat_of drop_l4_proto)
check "with --tcp off a TCP query gets no answer, dropped as drop_l4_proto ($d0 -> $d1)" \
	"$(oneline "$out")" test "$(dig_status "$out")" = "" -a "${d1:-0}" -gt "${d0:-0}"
out=$(lab_cli dig +tries=1 +time=2 +short "@$LAB_PX_IP4" www.example.test A 2>&1)
check "with --tcp off UDP still answers" "'$out'" test "$out" = 198.18.1.10
