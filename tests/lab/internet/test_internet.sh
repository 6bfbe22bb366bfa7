#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Proves the lab's simulated internet (internet.sh) right, with Unbound as the resolver:
#   1. it comes up fast, twice in a row (the second time over the first), and leaves the base
#      lab alone when that is up;
#   2. nothing routes outside the lab; the client LAN reaches the servers through pxlab-cli;
#   3. every server answers, authoritatively, exactly for its zones, and the referrals,
#      pathological delegations, truncation, the lame, evil and silent servers look the way
#      questions.txt assumes;
#   4. Unbound (pxlab-res, see internet.sh) answers every line of questions.txt as that file
#      says it does (ask.py --expect unbound); the lines where it falls short of a correct
#      resolver are reported as documented differences;
#   5. after the poisoning attempt, Unbound's cache holds none of the forged records;
#   6. a capture on the pxlab-cli side of the internet link, and on lo in pxlab-res, reports
#      (without asserting: that is pollux's test) every DNS packet Unbound sent to an invalid
#      address, with the invalid addresses in Unbound's infrastructure cache;
#   7. `down` leaves no namespace and no process of the internet behind.
#
# Runs as root, unattended, in about 25 seconds. Prints 'ok - ...' or 'not ok - ...' per
# assertion, '#' diagnostics, then 'N passed, M failed'; exits non-zero if anything failed.
# Everything (the internet and the base lab) is torn down at exit unless POLLUX_INET_KEEP=1.
#
# Environment: as internet.sh and tests/lab/lab.sh (POLLUX_INET_*, POLLUX_LAB_*), and
#   POLLUX_INET_KEEP   1: leave the lab, the internet and Unbound up at the end [0]

# Conditions are passed to check() as single-quoted strings for eval, on purpose.
# shellcheck disable=SC2016

set -u
# Sorted lists compare byte by byte.
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=internet.sh
. "$TEST_DIR/internet.sh"

QUESTIONS=$TEST_DIR/questions.txt
UP_LIMIT_S=10

# shellcheck source-path=SCRIPTDIR source=../tap.sh
. "$TEST_DIR/../tap.sh"

finish() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "${POLLUX_INET_KEEP:-0}" = 1 ]; then
		diag "POLLUX_INET_KEEP=1: the lab, the internet and Unbound stay up" \
			"(tear down: $TEST_DIR/internet.sh teardown)"
	else
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

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# dig from the client namespace, no recursion, short timeout: a direct look at one server.
ask_server() { # SERVER NAME TYPE [dig options...]
	local server=$1 name=$2 type=$3
	shift 3
	inet_dig +norec +tries=1 +time=1 +nocookie "$@" "@$server" "$name" "$type" 2>&1
}

dig_status() {
	awk '/->>HEADER<<-/ {for (i = 1; i <= NF; i++) if ($i == "status:") {s = $(i + 1); sub(",", "", s); print s}}' <<<"$1"
}

dig_has_flag() {
	sed -n 's/^;; flags: \([^;]*\);.*/\1/p' <<<"$1" | tr ' ' '\n' | grep -qx "$2"
}

# "TYPE RDATA" of one section's records, sorted, joined with ';'.
dig_section() { # OUTPUT ANSWER|AUTHORITY|ADDITIONAL
	awk -v s=";; $2 SECTION:" '$0 == s {on = 1; next} /^$/ {on = 0} on {r = $4; for (i = 5; i <= NF; i++) r = r " " $i; print $1 " " r}' <<<"$1" |
		sort | tr '\n' ';' | sed 's/;$//'
}

ns_inode() {
	stat -L -c %i "/run/netns/$1" 2>/dev/null
}

# 1. Up, fast, twice.

for t in nsd nsd-checkzone unbound unbound-control tcpdump dig python3; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "prerequisites" "$t is not installed (source tests/deps.sh; px_install_deps)"
		exit 1
	fi
done
if ! lab_require_root; then
	not_ok "prerequisites" "not root"
	exit 1
fi

t0=$SECONDS
if ! inet_up; then
	not_ok "the internet comes up" "see the errors above"
	exit 1
fi
secs=$((SECONDS - t0))
check "the internet (and the base lab) comes up in ${secs}s (< ${UP_LIMIT_S}s)" "${secs}s" \
	test "$secs" -lt "$UP_LIMIT_S"

cli_ns=$(ns_inode "$POLLUX_LAB_NS_CLI")
px_ns=$(ns_inode "$POLLUX_LAB_NS_PX")
t0=$SECONDS
if inet_up 2>/dev/null; then
	secs=$((SECONDS - t0))
	check "up again over a running internet, in ${secs}s (< ${UP_LIMIT_S}s)" "${secs}s" \
		test "$secs" -lt "$UP_LIMIT_S"
else
	not_ok "up again over a running internet" "inet_up failed"
	exit 1
fi
check "the second up keeps the base lab's namespaces" \
	"pxlab-cli $cli_ns -> $(ns_inode "$POLLUX_LAB_NS_CLI"), pxlab-px $px_ns -> $(ns_inode "$POLLUX_LAB_NS_PX")" \
	test "$cli_ns" = "$(ns_inode "$POLLUX_LAB_NS_CLI")" -a "$px_ns" = "$(ns_inode "$POLLUX_LAB_NS_PX")"

# 2. Routing.

routes_out=
for ns in "$POLLUX_LAB_NS_CLI" "$POLLUX_INET_NS"; do
	for a in 192.0.2.1 8.8.8.8 2001:db8::1 2606:4700::1111; do
		if ip -n "$ns" route get "$a" >/dev/null 2>&1; then
			routes_out="$routes_out $ns:$a"
		fi
	done
done
check "no route from pxlab-cli or pxlab-net to outside 198.18.0.0/15 and 2001:2::/48" \
	"routes to:$routes_out" test -z "$routes_out"

out=$(ask_server 198.18.1.1 . SOA -b "$LAB_CLI_IP4")
check "the client LAN (from $LAB_CLI_IP4) reaches a.root.lab through pxlab-cli" \
	"status '$(dig_status "$out")'" eval 'dig_has_flag "$out" aa'
out=$(ask_server 2001:2:0:1::2 . SOA -b "$LAB_CLI_IP6")
check "the client LAN (from $LAB_CLI_IP6) reaches b.root.lab over IPv6" \
	"status '$(dig_status "$out")'" eval 'dig_has_flag "$out" aa'

# pollux's own path: from 198.18.0.2 and 2001:2::2 on pxl-p, through the gateway, and back by
# ARP and ND on the client LAN. Without pollux, the kernel stands in for it on pxl-p for a
# moment; the lab's state (no kernel addresses, IPv6 off on pxl-p) is restored afterwards.
if lab_pid >/dev/null; then
	diag "pollux runs in $POLLUX_LAB_NS_PX: its path is not checked with kernel addresses"
else
	px() { ip -n "$POLLUX_LAB_NS_PX" "$@"; }
	ip netns exec "$POLLUX_LAB_NS_PX" sysctl -qw "net.ipv6.conf.$POLLUX_LAB_IF_PX.disable_ipv6=0"
	px addr add "$LAB_PX_IP4/$LAB_IP4_LEN" dev "$POLLUX_LAB_IF_PX"
	px addr add "$LAB_PX_IP6/$LAB_IP6_LEN" dev "$POLLUX_LAB_IF_PX" nodad
	px route add 198.18.0.0/15 via "$LAB_CLI_IP4"
	px -6 route add 2001:2::/48 via "$LAB_CLI_IP6"
	out4=$(ip netns exec "$POLLUX_LAB_NS_PX" dig +norec +tries=1 +time=1 @198.18.1.1 . SOA 2>&1)
	out6=$(ip netns exec "$POLLUX_LAB_NS_PX" dig +norec +tries=1 +time=1 @2001:2:0:1::2 . SOA 2>&1)
	px addr flush dev "$POLLUX_LAB_IF_PX"
	ip netns exec "$POLLUX_LAB_NS_PX" sysctl -qw "net.ipv6.conf.$POLLUX_LAB_IF_PX.disable_ipv6=1"
	ip -n "$POLLUX_LAB_NS_CLI" neigh flush dev "$POLLUX_LAB_IF_CLI"
	check "pollux's path: $LAB_PX_IP4 reaches a.root.lab via gateway $LAB_CLI_IP4" \
		"status '$(dig_status "$out4")'" eval 'dig_has_flag "$out4" aa'
	check "pollux's path: $LAB_PX_IP6 reaches b.root.lab via gateway $LAB_CLI_IP6" \
		"status '$(dig_status "$out6")'" eval 'dig_has_flag "$out6" aa'
	left=$(px -brief addr show dev "$POLLUX_LAB_IF_PX" | awk '{print $3}')
	check "pxl-p has no kernel address again" "'$left'" test -z "$left"
fi

# 3. The servers.

for r in "${INET_ROLES[@]}"; do
	read -r role ip4 ip6 zones <<<"$r"
	# shellcheck disable=SC2086
	zl=$(inet_role_zones $zones)
	bad=
	n=0
	for a in "$ip4" "$ip6"; do
		for z in $zl; do
			out=$(ask_server "$a" "$z" SOA)
			n=$((n + 1))
			if [ "$(dig_status "$out")" != NOERROR ] || ! dig_has_flag "$out" aa; then
				bad="$bad $a:$z=$(dig_status "$out")"
			fi
		done
		# Anything else is REFUSED: the root zone for all but the root servers, and a zone
		# served elsewhere for the root servers (whose zone covers every name: a referral).
		case $role in
		root-*) out=$(ask_server "$a" nonexistent-zone.invalid SOA)
			want=NXDOMAIN ;;
		*) out=$(ask_server "$a" . SOA)
			want=REFUSED ;;
		esac
		[ "$(dig_status "$out")" = "$want" ] || bad="$bad $a:other=$(dig_status "$out")"
	done
	if [ -z "$zl" ]; then
		check "$role ($ip4, $ip6) serves no zone: REFUSED for everything" "$bad" test -z "$bad"
	else
		check "$role ($ip4, $ip6) answers aa for its $(wc -w <<<"$zl") zones ($n queries), nothing else" \
			"$bad" test -z "$bad"
	fi
done

out=$(ask_server 198.18.1.2 www.z1.test A)
check "root referral for www.z1.test: test. NS, glue, no aa" \
	"$(dig_section "$out" AUTHORITY) / $(dig_section "$out" ADDITIONAL)" \
	eval '! dig_has_flag "$out" aa && [ "$(dig_section "$out" AUTHORITY)" = "test. NS a.tld.lab.;test. NS b.tld.lab." ] && [ "$(dig_section "$out" ADDITIONAL | tr ";" "\n" | grep -c tld.lab)" = 4 ]'

out=$(ask_server 198.18.2.2 www.z1.test A)
check "TLD referral for www.z1.test: z1.test. NS ns1/ns2, 4 glue records" \
	"$(dig_section "$out" AUTHORITY) / $(dig_section "$out" ADDITIONAL)" \
	eval '[ "$(dig_section "$out" AUTHORITY)" = "z1.test. NS ns1.z1.test.;z1.test. NS ns2.z1.test." ] && [ "$(dig_section "$out" ADDITIONAL | tr ";" "\n" | grep -c z1.test)" = 4 ]'

out=$(ask_server 198.18.2.1 www.glueless.test A)
check "glueless.test referral: NS ns.z1.test., no additional records" \
	"$(dig_section "$out" AUTHORITY) / '$(dig_section "$out" ADDITIONAL)'" \
	eval '[ "$(dig_section "$out" AUTHORITY)" = "glueless.test. NS ns.z1.test." ] && [ -z "$(dig_section "$out" ADDITIONAL)" ]'

out=$(ask_server 198.18.2.1 www.glueless.example A)
check "glueless.example referral: NS ns.z2.test. (another TLD), no additional records" \
	"$(dig_section "$out" AUTHORITY) / '$(dig_section "$out" ADDITIONAL)'" \
	eval '[ "$(dig_section "$out" AUTHORITY)" = "glueless.example. NS ns.z2.test." ] && [ -z "$(dig_section "$out" ADDITIONAL)" ]'

out=$(ask_server 198.18.2.2 www.badglue.test A)
add=$(dig_section "$out" ADDITIONAL)
check "badglue.test referral: ns1 glue 0.0.0.0, ns2 glue good" "$add" \
	eval 'grep -q "ns1.badglue.test. A 0.0.0.0" <<<"$add" && grep -q "ns2.badglue.test. A 198.18.3.1" <<<"$add"'

out=$(ask_server 198.18.2.1 www.allbad.test A)
add=$(dig_section "$out" ADDITIONAL | tr ';' '\n' | awk '{print $3}' | sort | tr '\n' ' ')
check "allbad.test referral: glue 0.0.0.0 127.0.0.1 224.0.0.1 240.0.0.1 255.255.255.255 ::" \
	"$add" test "$add" = "0.0.0.0 127.0.0.1 224.0.0.1 240.0.0.1 255.255.255.255 :: "

out=$(ask_server 198.18.2.1 www.v6only.test A)
add=$(dig_section "$out" ADDITIONAL)
check "v6only.test referral: AAAA glue only" "$add" \
	test "$add" = "ns.v6only.test. AAAA 2001:2:0:3::3"

out=$(ask_server 198.18.4.1 www.lame.test A)
check "the lame server answers REFUSED for lame.test" "status '$(dig_status "$out")'" \
	test "$(dig_status "$out")" = REFUSED

out=$(ask_server 198.18.3.1 big.z7.test TXT +ignore)
check "big.z7.test TXT over UDP is truncated (tc)" "flags: $(grep '^;; flags' <<<"$out")" \
	dig_has_flag "$out" tc
out=$(ask_server 198.18.3.2 big.z7.test TXT +tcp)
check "big.z7.test TXT over TCP: 12 records" "answer: $(dig_section "$out" ANSWER | tr ';' '\n' | grep -c TXT)" \
	test "$(dig_section "$out" ANSWER | tr ';' '\n' | grep -c TXT)" = 12

for a in "$INET_EVIL_IP4" "$INET_EVIL_IP6"; do
	out=$(ask_server "$a" www.evil.test A)
	check "evil.test's server ($a): aa answer, plus forged victim.test NS and www A" \
		"$(dig_section "$out" ANSWER) / $(dig_section "$out" AUTHORITY) / $(dig_section "$out" ADDITIONAL)" \
		eval 'dig_has_flag "$out" aa && [ "$(dig_section "$out" ANSWER)" = "www.evil.test. A 198.18.4.200" ] && grep -q "victim.test. NS ns.evil.test." <<<"$(dig_section "$out" AUTHORITY)" && grep -q "www.victim.test. A $INET_FORGED_WWW4" <<<"$(dig_section "$out" ADDITIONAL)"'
done
out=$(ask_server "$INET_EVIL_IP4" cname.evil.test A)
check "evil.test's server slips the forged A into the answer after a CNAME" \
	"$(dig_section "$out" ANSWER)" \
	test "$(dig_section "$out" ANSWER)" = "cname.evil.test. CNAME www.victim.test.;www.victim.test. A $INET_FORGED_WWW4"
out=$(ask_server "$INET_EVIL_IP4" www.victim.test A)
check "evil.test's server answers REFUSED outside its zone" "status '$(dig_status "$out")'" \
	test "$(dig_status "$out")" = REFUSED
# odd.test's server (odd_responder.py): the two habits the fallbacks of a resolver must meet.
out=$(ask_server "$INET_ODD_IP4" www.oob.odd.test A)
check "odd.test's server: a referral for oob.odd.test with glue out of its bailiwick" \
	"$(oneline "$out")" eval '! dig_has_flag "$out" aa && [ "$(dig_section "$out" AUTHORITY)" = "oob.odd.test. NS ns.oob.example." ] && grep -q "ns.oob.example. A $INET_SILENT_IP4" <<<"$(dig_section "$out" ADDITIONAL)"'
out=$(ask_server "$INET_ODD_IP6" wrongtype.odd.test AAAA)
check "odd.test's server: an A record, with AA, in reply to an AAAA question" "$(oneline "$out")" \
	eval '[ "$(dig_status "$out")" = NOERROR ] && dig_has_flag "$out" aa && [ "$(dig_section "$out" ANSWER)" = "wrongtype.odd.test. A 198.18.12.23" ]'
out=$(ask_server "$INET_EVIL_IP4" www.evil.test A +edns=1 +noednsnegotiation)
check "evil.test's server: BADVERS for EDNS version 1" "status '$(dig_status "$out")'" \
	test "$(dig_status "$out")" = BADVERS
out=$(ask_server "$INET_EVIL_IP4" www.evil.test TXT +noedns)
check "evil.test's server: NODATA with the SOA, no OPT without EDNS in the query" \
	"status '$(dig_status "$out")', $(dig_section "$out" AUTHORITY), $(grep -c 'EDNS:' <<<"$out") OPT" \
	eval '[ "$(dig_status "$out")" = NOERROR ] && grep -q "evil.test. SOA" <<<"$(dig_section "$out" AUTHORITY)" && ! grep -q "EDNS:" <<<"$out"'

# Malformed input: each kind is answered as the responder's docstring says, and it carries on.
res=$(ip netns exec "$POLLUX_LAB_NS_CLI" python3 - "$INET_EVIL_IP4" <<'EOF'
import socket, struct, sys
q = b"\x03www\x04evil\x04test\x00" + struct.pack("!HH", 1, 1)
def hdr(ident, flags=0x0100, qd=1):
    return struct.pack("!HHHHHH", ident, flags, qd, 0, 0, 0)
cases = [
    ("runt", b"\x12\x34\x01"),
    ("response", hdr(1, 0x8100) + q),
    ("qdcount0", hdr(2, qd=0)),
    ("qdcount2", hdr(3, qd=2) + q + q),
    ("pointer", hdr(4) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)),
    ("truncated", hdr(5) + b"\x03www\x04ev"),
    ("opcode2", hdr(6, 0x1100) + q),
    ("chaos", hdr(7) + q[:-2] + struct.pack("!H", 3)),
    ("good", hdr(8) + q),
]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 53))
out = []
for name, m in cases:
    s.send(m)
    s.settimeout(0.3)
    try:
        r = s.recv(4096)
        out.append("%s=rcode%d" % (name, r[3] & 15) if r[:2] == m[:2] else "%s=other" % name)
    except socket.timeout:
        out.append("%s=silent" % name)
print(" ".join(out))
EOF
)
check "evil.test's server handles malformed queries and carries on" "$res" test "$res" = \
	"runt=silent response=silent qdcount0=rcode1 qdcount2=rcode1 pointer=rcode1 truncated=rcode1 opcode2=rcode4 chaos=rcode5 good=rcode0"

for a in "$INET_SILENT_IP4" "$INET_SILENT_IP6"; do
	out=$(ask_server "$a" www.silent.test A)
	check "the silent server ($a) never answers" "$(tail -3 <<<"$out" | tr '\n' ' ')" \
		eval '[ -z "$(dig_status "$out")" ] && grep -q "timed out\|no servers could be reached" <<<"$out"'
done

# 4. Unbound through the internet.

if ! inet_unbound_start; then
	not_ok "Unbound starts in $POLLUX_INET_NS_RES" "see its log above"
	exit 1
fi
ok "Unbound starts in $POLLUX_INET_NS_RES ($INET_RES_IP4, $INET_RES_IP6, 127.0.0.1, ::1)"

inet_capture_start net "$POLLUX_LAB_NS_CLI" "$INET_IF_CLI" ||
	not_ok "capture on $POLLUX_LAB_NS_CLI/$INET_IF_CLI starts" "tcpdump failed"
inet_capture_start reslo "$POLLUX_INET_NS_RES" lo ||
	not_ok "capture on $POLLUX_INET_NS_RES/lo starts" "tcpdump failed"

diag "questions.txt against Unbound (ask.py --expect unbound; TIMEOUT waits 3 s):"
t0=$(now_ms)
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) FAILED=$((FAILED + 1)); echo "$line" ;;
	"ask: "*) diag "$line" ;;
	*) echo "$line" ;;
	esac
done < <(ip netns exec "$POLLUX_LAB_NS_CLI" python3 "$TEST_DIR/ask.py" --server "$INET_RES_IP4" \
	--expect unbound --timeout 3 --fast-ms 1000 --results "$POLLUX_INET_RUN/unbound.results" \
	"$QUESTIONS" 2>&1)
diag "all questions took $(($(now_ms) - t0)) ms; results in $POLLUX_INET_RUN/unbound.results"
nq=$(grep -cv '^\s*\(#\|$\)' "$QUESTIONS")
nr=$(wc -l <"$POLLUX_INET_RUN/unbound.results" 2>/dev/null || echo 0)
check "every question was asked ($nr of $nq)" "$nr results" test "$nr" = "$nq"

# The other transports to the resolver.
out=$(inet_dig +tries=1 +time=2 "@$INET_RES_IP6" www.z3.test AAAA +short 2>&1)
check "Unbound over IPv6 from pxlab-cli: www.z3.test AAAA" "'$out'" test "$out" = 2001:2:0:100::3
out=$(inet_res dig +tries=1 +time=2 @127.0.0.1 www.z13.test A +short 2>&1)
check "Unbound on 127.0.0.1 in $POLLUX_INET_NS_RES: www.z13.test A" "'$out'" test "$out" = 198.19.0.13
out=$(inet_res dig +tries=1 +time=2 @::1 www.z14.test A +short 2>&1)
check "Unbound on ::1 in $POLLUX_INET_NS_RES: www.z14.test A" "'$out'" test "$out" = 198.19.0.14

# 5. Poisoning: nothing evil.test's server said about victim.test stayed.

cache=$(inet_unbound_ctl dump_cache 2>&1)
forged=$(grep -iE "$INET_FORGED_WWW4|^victim\.test\.[[:space:]].*NS[[:space:]]+ns\.evil\.test\." <<<"$cache")
check "Unbound's cache holds no forged record (no $INET_FORGED_WWW4, no victim.test NS ns.evil.test)" \
	"$(tr '\n' '|' <<<"$forged")" eval '[ -z "$forged" ] && grep -q "^www.victim.test.[[:space:]].*A[[:space:]]*$INET_VICTIM_WWW4" <<<"$cache"'
out=$(inet_dig +tries=1 +time=2 "@$INET_RES_IP4" www.victim.test A +short 2>&1)
check "www.victim.test A still resolves to the real $INET_VICTIM_WWW4" "'$out'" \
	test "$out" = "$INET_VICTIM_WWW4"

# 6. What Unbound sent where: reported, not asserted.

inet_capture_stop net
inet_capture_stop reslo
diag "DNS queries Unbound sent across $POLLUX_LAB_NS_CLI/$INET_IF_CLI, per destination:"
diag "$(inet_capture_dests net | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
bad=$(inet_capture_invalid net)
if [ -z "$bad" ]; then
	diag "none of them to an invalid address (0.0.0.0/8, 127/8, 224/3, ::, ::1, ff00::/8, ::ffff:0:0/96)"
else
	diag "$(wc -l <<<"$bad") of them to an invalid address, e.g.:" "$(head -5 <<<"$bad")"
fi
bad=$(inet_capture_invalid reslo)
if [ -z "$bad" ]; then
	diag "$POLLUX_INET_NS_RES/lo: no query to a local address"
else
	diag "$POLLUX_INET_NS_RES/lo: $(wc -l <<<"$bad") queries from Unbound to its own host, i.e." \
		"sent to 0.0.0.0 or :: (the kernel delivers those to 127.0.0.1 and ::1) or to loopback;" \
		"by name: $(awk '{for (i = 1; i <= NF; i++) if ($i ~ /\?$/) print $(i + 1)}' <<<"$bad" |
			sort | uniq -c | awk '{printf "%s %s, ", $2, $1}' | sed 's/, $//')" \
		"first: $(head -1 <<<"$bad")"
fi
infra=$(inet_unbound_ctl dump_infra 2>/dev/null | awk '$1 ~ /^(0\.|127\.|22[4-9]\.|2[3-5][0-9]\.|::$|::1$|::ffff:)/ {printf "%s (%s) timeouts A %s AAAA %s; ", $1, $2, $14, $16}')
diag "invalid addresses in Unbound's infrastructure cache (it picked them as targets): ${infra:-none}"
errs=$(grep -ciE 'error|fail' "$INET_UB_LOG" 2>/dev/null)
diag "Unbound's log ($INET_UB_LOG): ${errs:-0} error lines"

# 7. Down.

if [ "${POLLUX_INET_KEEP:-0}" != 1 ]; then
	inet_down
	left=
	for ns in "$POLLUX_INET_NS" "$POLLUX_INET_NS_RES"; do
		lab_ns_exists "$ns" && left="$left namespace:$ns"
	done
	for f in "$POLLUX_INET_RUN"/nsd/*/nsd.pid "$INET_EVIL_PID" "$INET_UB_PID"; do
		[ -e "$f" ] && left="$left pidfile:$f"
	done
	for p in $(pgrep -x nsd) $(pgrep -x unbound) $(pgrep -f "$INET_RESPONDER"); do
		grep -q "$POLLUX_INET_RUN" "/proc/$p/cmdline" 2>/dev/null && left="$left pid:$p"
	done
	check "down leaves no namespace, pid file or process of the internet" "$left" test -z "$left"
	check "the evil.test responder exited cleanly on SIGTERM" "$(oneline "$(tail -2 "$INET_EVIL_LOG")")" \
		grep -q "stopping after" "$INET_EVIL_LOG"
	check "down leaves the base lab up" "pxlab-cli or pxlab-px is gone" inet_lab_is_up
fi
