#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: the real pollux on a veth in a network namespace (tests/lab/lab.sh), queried
# with dig, ping and hand-made packets from the client namespace. Runs as root, unattended, in
# about half a minute. Prints one 'ok - ...' or 'not ok - ...' line per assertion, then
# 'N passed, M failed'; exits non-zero if anything failed. The lab is torn down at exit, whatever
# happens.
#
# Environment: as tests/lab/lab.sh (POLLUX_BIN, POLLUXCTL_BIN, POLLUX_LAB_PMD, ...).

# Conditions are passed to check() as single-quoted strings for eval, on purpose.
# shellcheck disable=SC2016

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.sh
. "$TEST_DIR/lab.sh"

ZONE=$TEST_DIR/zones/example.test.zone
ZONE_WWW_TTL=300 # www.example.test's TTL in the zone
ZONE_SHORT_TTL=5 # short.example.test's

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

finish() {
	local rc=$?
	trap - EXIT INT TERM
	lab_down >/dev/null 2>&1 || echo "# warning: lab teardown reported errors" >&2
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
trap finish EXIT
trap 'echo "# interrupted"; FAILED=$((FAILED + 1)); exit 1' INT TERM

q() {
	lab_cli dig +tries=1 +time=2 "$@" 2>&1
}

# Fields of a dig reply (full output with comments) read with awk.
dig_status() {
	awk '/->>HEADER<<-/ {for (i = 1; i <= NF; i++) if ($i == "status:") {s = $(i + 1); sub(",", "", s); print s}}' <<<"$1"
}

dig_flags() {
	sed -n 's/^;; flags: \([^;]*\);.*/\1/p' <<<"$1"
}

dig_has_flag() {
	dig_flags "$1" | tr ' ' '\n' | grep -qx "$2"
}

dig_count() { # dig_count OUTPUT ANSWER|AUTHORITY|ADDITIONAL
	sed -n "s/^;; flags: .* $2: \([0-9]*\).*/\1/p" <<<"$1"
}

# The records of one section, one per line as dig prints them.
dig_section() { # dig_section OUTPUT ANSWER|AUTHORITY
	awk -v s=";; $2 SECTION:" '$0 == s {on = 1; next} /^$/ {on = 0} on' <<<"$1"
}

dig_udp() {
	sed -n 's/^; EDNS: .*udp: \([0-9]*\).*/\1/p' <<<"$1"
}

stat_of() { # stat_of NAME: a total counter of the running pollux
	lab_ctl stats 2>/dev/null | awk -v n="total.$1" '$1 == n {print $2; f = 1} END {if (!f) print -1}'
}

# One query's full reply, plus the usual checks: rcode, the aa flag.
expect_answer() { # expect_answer DESC EXPECTED_RDATA DIG_ARGS...
	local desc=$1 want=$2 out ans
	shift 2
	out=$(q +noall +comments +answer "$@")
	ans=$(dig_section "$out" ANSWER | awk '{print $NF}' | tr '\n' ' ' | sed 's/ $//')
	if [ "$(dig_status "$out")" = NOERROR ] && dig_has_flag "$out" aa && [ "$ans" = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc" "status '$(dig_status "$out")', flags '$(dig_flags "$out")', answer '$ans', want '$want' with aa"
	fi
}

# ICMP echo with python3 raw sockets, for hosts without iputils-ping. Prints the reply's source.
py_ping() { # py_ping 4|6 ADDR
	lab_cli python3 - "$@" <<'EOF'
import os, socket, struct, sys, time
fam, addr = sys.argv[1], sys.argv[2]
ident = os.getpid() & 0xffff
if fam == "4":
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    typ, rtyp = 8, 0
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    typ, rtyp = 128, 129
def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff)
    t += t >> 16
    return ~t & 0xffff
payload = b"pollux-lab"
hdr = struct.pack("!BBHHH", typ, 0, 0, ident, 1)
c = csum(hdr + payload) if fam == "4" else 0  # the kernel fills in the ICMPv6 checksum
s.sendto(struct.pack("!BBHHH", typ, 0, c, ident, 1) + payload, (addr, 0))
s.settimeout(0.5)
end = time.time() + 2
while time.time() < end:
    try:
        data, src = s.recvfrom(2048)
    except socket.timeout:
        continue
    if fam == "4":
        data = data[(data[0] & 15) * 4:]
    if len(data) >= 8 and data[0] == rtyp and struct.unpack("!H", data[4:6])[0] == ident \
            and data[8:] == payload:
        print(src[0])
        sys.exit(0)
sys.exit(1)
EOF
}

# Sends malformed DNS messages over UDP and reports what came back.
malformed() {
	lab_cli python3 - "$LAB_PX_IP4" <<'EOF'
import socket, struct, sys
addr = sys.argv[1]
def hdr(ident, qd, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", ident, 0x0100, qd, an, ns, ar)
q = b"\x03www\x07example\x04test\x00" + struct.pack("!HH", 1, 1)
msgs = []
for i in range(7):
    msgs.append(("runt", bytes([0x12, 0x34, 0x01, 0x00, i])))  # 5 bytes: under a header
for i in range(7):
    msgs.append(("qdcount", hdr(0x2000 + i, 2) + q + q))
for i in range(3):
    # The qname is a pointer to itself (offset 12).
    msgs.append(("loop", hdr(0x3000 + i, 1) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)))
for i in range(3):
    # A label, then a pointer back to the start of the name: a two-step loop.
    msgs.append(("loop", hdr(0x3100 + i, 1) + b"\x01a\xc0\x0c" + struct.pack("!HH", 1, 1)))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((addr, 53))
res = {}
for kind, m in msgs:
    s.send(m)
    s.settimeout(0.3 if kind == "runt" else 1.0)
    got = "silent"
    try:
        r = s.recv(4096)
        if len(r) >= 12 and r[:2] == m[:2] and r[2] & 0x80:
            got = "rcode%d" % (r[3] & 15)
        else:
            got = "other"
    except socket.timeout:
        pass
    res.setdefault(kind, {}).setdefault(got, 0)
    res[kind][got] += 1
for kind in ("runt", "qdcount", "loop"):
    print(kind, " ".join("%s=%d" % kv for kv in sorted(res.get(kind, {}).items())))
EOF
}

# The lab and pollux.

if ! lab_require_root; then
	not_ok "lab prerequisites" "not root"
	exit 1
fi
if ! lab_up; then
	not_ok "lab comes up" "see the lab's errors above"
	exit 1
fi
ok "lab comes up"
if ! lab_start --local-zone "$ZONE"; then
	not_ok "pollux starts and answers" "see its log above"
	exit 1
fi
ok "pollux starts and answers (PMD $(lab_pmd))"
PX_PID=$(lab_pid)

# Answers from the local zone, over both address families.

expect_answer "www A over IPv4, aa" 198.18.1.10 "@$LAB_PX_IP4" www.example.test A
expect_answer "www AAAA over IPv4, aa" 2001:2:0:1::10 "@$LAB_PX_IP4" www.example.test AAAA
expect_answer "www A over IPv6, aa" 198.18.1.10 "@$LAB_PX_IP6" www.example.test A
expect_answer "www AAAA over IPv6, aa" 2001:2:0:1::10 "@$LAB_PX_IP6" www.example.test AAAA
expect_answer "mixed-case qname answered" 198.18.1.10 "@$LAB_PX_IP4" WwW.ExAmPlE.TeSt A

# TTLs count down.

ttl1=$(q +noall +answer "@$LAB_PX_IP4" www.example.test A | awk '{print $2; exit}')
sleep 2.2
ttl2=$(q +noall +answer "@$LAB_PX_IP4" www.example.test A | awk '{print $2; exit}')
if [ -n "$ttl1" ] && [ -n "$ttl2" ] && [ "$ttl2" -lt "$ttl1" ] &&
	[ "$ttl1" -le "$ZONE_WWW_TTL" ] && [ "$ttl2" -gt 0 ]; then
	ok "TTL counts down ($ttl1 then $ttl2, zone $ZONE_WWW_TTL)"
else
	not_ok "TTL counts down" "got '$ttl1' then '$ttl2' 2.2 s later, zone TTL $ZONE_WWW_TTL"
fi

# Pinned local data never expires: a short TTL counts down to 1 and starts again.
short_ttls=
short_bad=0
for _ in 1 2 3 4 5 6 7; do
	out=$(q +noall +answer "@$LAB_PX_IP4" short.example.test A)
	t=$(awk '{print $2; exit}' <<<"$out")
	short_ttls="$short_ttls ${t:-none}"
	case $t in
	[1-5]) ;;
	*) short_bad=1 ;;
	esac
	sleep 1
done
rises=$(tr ' ' '\n' <<<"$short_ttls" | awk 'NF {if (p != "" && $1 > p) r++; p = $1} END {print r + 0}')
if [ "$short_bad" -eq 0 ] && [ "$rises" -ge 1 ]; then
	ok "short TTL cycles within 1..$ZONE_SHORT_TTL (TTLs:$short_ttls)"
else
	not_ok "short TTL cycles within 1..$ZONE_SHORT_TTL" "TTLs once a second:$short_ttls"
fi

# A CNAME chain is answered whole.

out=$(q +noall +comments +answer "@$LAB_PX_IP6" alias.example.test AAAA)
chain=$(dig_section "$out" ANSWER | awk '{printf "%s %s %s;", $1, $4, $5}')
want="alias.example.test. CNAME alias2.example.test.;alias2.example.test. CNAME www.example.test.;www.example.test. AAAA 2001:2:0:1::10;"
check "CNAME chain answered whole (alias AAAA)" "got '$chain'" \
	test "$chain" = "$want" -a "$(dig_status "$out")" = NOERROR

# Negative answers.

out=$(q +noall +comments +authority "@$LAB_PX_IP4" nope.example.test A)
soa=$(dig_section "$out" AUTHORITY | awk '$4 == "SOA" {print $1}')
check "NXDOMAIN for nope.example.test, SOA in authority, aa" \
	"status '$(dig_status "$out")', authority SOA owner '$soa', flags '$(dig_flags "$out")'" \
	eval '[ "$(dig_status "$out")" = NXDOMAIN ] && [ "$soa" = example.test. ] && dig_has_flag "$out" aa'

out=$(q +noall +comments +authority "@$LAB_PX_IP4" www.example.test TXT)
soa=$(dig_section "$out" AUTHORITY | awk '$4 == "SOA" {print $1}')
check "NODATA for www.example.test TXT (NOERROR, 0 answers, SOA)" \
	"status '$(dig_status "$out")', answers '$(dig_count "$out" ANSWER)', SOA owner '$soa'" \
	eval '[ "$(dig_status "$out")" = NOERROR ] && [ "$(dig_count "$out" ANSWER)" = 0 ] && [ "$soa" = example.test. ]'

out=$(q +noall +comments "@$LAB_PX_IP4" b.example.test A)
check "NOERROR (not NXDOMAIN) for the empty non-terminal b.example.test" \
	"status '$(dig_status "$out")', answers '$(dig_count "$out" ANSWER)'" \
	eval '[ "$(dig_status "$out")" = NOERROR ] && [ "$(dig_count "$out" ANSWER)" = 0 ]'

expect_answer "a.b.example.test below the empty non-terminal" 198.18.1.11 \
	"@$LAB_PX_IP4" a.b.example.test A

# Outside the local zones: SERVFAIL at once until the resolver exists.

t0=$(date +%s%N)
out=$(q +noall +comments "@$LAB_PX_IP4" www.elsewhere.test A)
ms=$((($(date +%s%N) - t0) / 1000000))
check "SERVFAIL for www.elsewhere.test, in ${ms} ms (< 1000)" \
	"status '$(dig_status "$out")' after ${ms} ms" \
	eval '[ "$(dig_status "$out")" = SERVFAIL ] && [ "$ms" -lt 1000 ]'

# Header-level errors.

out=$(q +noall +comments +opcode=1 "@$LAB_PX_IP4" www.example.test A)
check "NOTIMP for opcode 1 (IQUERY)" "status '$(dig_status "$out")'" \
	test "$(dig_status "$out")" = NOTIMP

out=$(q +noall +comments +header-only "@$LAB_PX_IP4")
check "FORMERR for a header-only query (qdcount 0)" "status '$(dig_status "$out")'" \
	test "$(dig_status "$out")" = FORMERR

out=$(q +noall +comments +edns=1 +noednsnegotiation "@$LAB_PX_IP4" www.example.test A)
check "BADVERS for EDNS version 1" "status '$(dig_status "$out")'" \
	test "$(dig_status "$out")" = BADVERS

out=$(q +noall +comments "@$LAB_PX_IP4" version.bind CH TXT)
check "REFUSED for class CH" "status '$(dig_status "$out")'" \
	test "$(dig_status "$out")" = REFUSED

# EDNS and truncation.

out=$(q +noall +comments "@$LAB_PX_IP4" www.example.test A)
check "EDNS: the response has an OPT with udp 1232" "OPT udp '$(dig_udp "$out")'" \
	test "$(dig_udp "$out")" = 1232

out=$(q +noall +comments +noedns "@$LAB_PX_IP4" www.example.test A)
check "no EDNS in the query: no OPT in the response" \
	"additional '$(dig_count "$out" ADDITIONAL)', OPT udp '$(dig_udp "$out")'" \
	eval '[ -z "$(dig_udp "$out")" ] && [ "$(dig_count "$out" ADDITIONAL)" = 0 ] && [ "$(dig_status "$out")" = NOERROR ]'

out=$(q +noall +comments +noedns +ignore "@$LAB_PX_IP4" big.example.test TXT)
check "a big TXT RRset over 512 bytes without EDNS is truncated (tc)" \
	"status '$(dig_status "$out")', flags '$(dig_flags "$out")'" \
	eval '[ "$(dig_status "$out")" = NOERROR ] && dig_has_flag "$out" tc'

out=$(q +noall +comments +answer "@$LAB_PX_IP4" big.example.test TXT)
n=$(dig_section "$out" ANSWER | grep -c TXT)
size=$(q "@$LAB_PX_IP4" big.example.test TXT | sed -n 's/^;; MSG SIZE  rcvd: //p')
check "the big TXT RRset fits EDNS's 1232 bytes: 12 records, no tc ($size bytes)" \
	"answers $n, flags '$(dig_flags "$out")', size '$size'" \
	eval '[ "$n" = 12 ] && ! dig_has_flag "$out" tc && [ "${size:-0}" -gt 512 ]'

# ICMP echo, with ping when installed, else with python3 raw sockets.

quiet() {
	"$@" >/dev/null 2>&1
}

if command -v ping >/dev/null 2>&1; then
	check "ping 198.18.0.2" "no reply" quiet lab_cli ping -c 1 -W 2 "$LAB_PX_IP4"
	check "ping -6 2001:2::2" "no reply" quiet lab_cli ping -6 -c 1 -W 2 "$LAB_PX_IP6"
else
	diag "ping is not installed (iputils-ping): ICMP echo sent with python3 raw sockets"
	check "ICMP echo to 198.18.0.2 (python3)" "no reply" quiet py_ping 4 "$LAB_PX_IP4"
	check "ICMPv6 echo to 2001:2::2 (python3)" "no reply" quiet py_ping 6 "$LAB_PX_IP6"
fi

# The control socket.

stats_ok=1
stats_bad=
for c in queries hits local_nxdomain local_nodata resp_servfail resp_formerr resp_notimp \
	resp_truncated arp_replies nd_replies icmp_echo_replies icmp6_echo_replies; do
	v=$(stat_of "$c")
	if [ "$v" -le 0 ]; then
		stats_ok=0
		stats_bad="$stats_bad $c=$v"
	fi
done
check "polluxctl stats: counters moved" "zero or missing:$stats_bad" test "$stats_ok" = 1

status=$(lab_ctl status 2>&1)
check "polluxctl status shows the zone and the PMD" "$(tr '\n' '|' <<<"$status")" \
	eval 'grep -q "^local_zone: example.test. " <<<"$status" && grep -q "net_$(lab_pmd)" <<<"$status"'

# Malformed messages: answered FORMERR or dropped, and counted; pollux carries on.

before=$(($(stat_of drop_dns_runt) + $(stat_of formerr_qdcount) + $(stat_of formerr_name)))
runt_before=$(stat_of drop_dns_runt)
res=$(malformed 2>&1)
after=$(($(stat_of drop_dns_runt) + $(stat_of formerr_qdcount) + $(stat_of formerr_name)))
runt_after=$(stat_of drop_dns_runt)
diag "$res"
check "5-byte runts are dropped silently and counted (drop_dns_runt +7)" \
	"replies: $(grep '^runt' <<<"$res"), drop_dns_runt $runt_before -> $runt_after" \
	eval 'grep -qx "runt silent=7" <<<"$res" && [ $((runt_after - runt_before)) -eq 7 ]'
check "qdcount=2 gets FORMERR" "replies: $(grep '^qdcount' <<<"$res")" \
	grep -qx "qdcount rcode1=7" <<<"$res"
check "compression loops get FORMERR" "replies: $(grep '^loop' <<<"$res")" \
	grep -qx "loop rcode1=6" <<<"$res"
check "the 20 malformed messages are all counted" "counters moved by $((after - before))" \
	test $((after - before)) -eq 20
expect_answer "pollux still answers after malformed input" 198.18.1.10 \
	"@$LAB_PX_IP4" www.example.test A

# Shutdown.

t0=$(date +%s%N)
kill -TERM "$PX_PID"
i=0
while lab_pid_alive "$PX_PID" && [ "$i" -lt 60 ]; do
	sleep 0.1
	i=$((i + 1))
done
ms=$((($(date +%s%N) - t0) / 1000000))
if lab_pid_alive "$PX_PID"; then
	not_ok "SIGTERM: pollux exits within 5 s" "still running after ${ms} ms"
else
	st=0
	wait "$PX_PID" 2>/dev/null || st=$?
	check "SIGTERM: pollux exits within 5 s with status 0 (${ms} ms)" "status $st after ${ms} ms" \
		test "$st" = 0 -a "$ms" -lt 5000
	check "SIGTERM: the control socket is removed" "$LAB_SOCK still exists" test ! -e "$LAB_SOCK"
fi
