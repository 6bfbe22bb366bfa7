#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Cache control end to end: pollux in the lab resolving through the simulated internet
# (tests/lab/internet/internet.sh), with the lab's local zone example.test. Whether a query was
# a cache hit or a miss is read from pollux's own counters (total.hits, total.misses of
# `polluxctl stats`) around it.
#   1. names in two zones (z1.test, z2.test) resolve, then hit;
#   2. `polluxctl lookup` shows an entry: rcode, records, TTL, fresh, origin (resolved,
#      local-zone, primed), and says when a key is not in the cache;
#   3. `flush www.z1.test`: only that name misses again; a name with nothing cached is an error;
#   4. `flush-zone z1.test`: every z1.test name misses again and its delegation is gone, z2.test
#      still hits; local-zone data is never flushed and still answers;
#   5. `dump-cache FILE` (and `-`) writes a complete master file that named-checkzone loads;
#   6. `flush-all` empties the cache of everything but local-zone data: z2.test misses again.
#
# Runs as root, unattended, in about 20 seconds. Prints 'ok - ...' / 'not ok - ...', then
# 'N passed, M failed'. Everything is torn down at exit unless POLLUX_INET_KEEP=1.

set -u
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=internet/internet.sh
. "$TEST_DIR/internet/internet.sh"
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

TMP=$(mktemp -d /tmp/pollux-flush-lab.XXXXXX)
ZONE=$TEST_DIR/zones/example.test.zone

finish() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "${POLLUX_INET_KEEP:-0}" = 1 ]; then
		diag "POLLUX_INET_KEEP=1: the lab, the internet and pollux stay up"
	else
		lab_stop >/dev/null 2>&1
		inet_teardown >/dev/null 2>&1 || echo "# warning: teardown reported errors" >&2
	fi
	rm -rf "$TMP"
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
trap finish EXIT
trap 'echo "# interrupted"; FAILED=$((FAILED + 1)); exit 1' INT TERM

for t in nsd dig named-checkzone; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "prerequisites" "$t is not installed (source tests/deps.sh; px_install_deps)"
		exit 1
	fi
done
lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }

stat_of() { # stat_of NAME: one figure of `polluxctl stats`
	lab_ctl stats | awk -v k="$1" '$1 == k {print $2}'
}

# ask NAME [TYPE]: queries pollux and prints "hit", "miss" or "other" as pollux counted it,
# then the rcode.
ask() {
	local h0 m0 h1 m1 rc
	h0=$(stat_of total.hits)
	m0=$(stat_of total.misses)
	rc=$(lab_cli dig +tries=1 +time=3 "@$LAB_PX_IP4" "$1" "${2:-A}" 2>&1 |
		awk '/->>HEADER<<-/ {for (i = 1; i <= NF; i++) if ($i == "status:") {s = $(i + 1); sub(",", "", s); print s}}')
	h1=$(stat_of total.hits)
	m1=$(stat_of total.misses)
	if [ $((h1 - h0)) -eq 1 ] && [ "$m1" -eq "$m0" ]; then
		echo "hit $rc"
	elif [ $((m1 - m0)) -eq 1 ] && [ "$h1" -eq "$h0" ]; then
		echo "miss $rc"
	else
		echo "other $rc"
	fi
}

# expect DESCRIPTION NAME KIND: a query for NAME A is a KIND (hit or miss) answered NOERROR.
expect() {
	local got
	got=$(ask "$2")
	check "$1" "got '$got'" test "$got" = "$3 NOERROR"
}

ctl() { # ctl ARGS...: polluxctl's stdout and stderr in $TMP/out.txt; returns its status
	lab_ctl "$@" >"$TMP/out.txt" 2>&1
}

out() {
	oneline "$(cat "$TMP/out.txt")"
}

if ! inet_up >/dev/null; then
	not_ok "the internet comes up" "see the errors above"
	exit 1
fi
ok "the internet comes up"
lab_stop >/dev/null 2>&1
if ! lab_start --gateway "$LAB_CLI_IP4" --gateway6 "$LAB_CLI_IP6" \
	--hints "$TEST_DIR/internet/lab.root" --local-zone "$ZONE"; then
	not_ok "pollux starts" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
ok "pollux starts with the local zone example.test (PMD $(lab_pmd))"

# 1. Two zones, resolved then cached.
NAMES="www.z1.test mail.z1.test www.z2.test mail.z2.test"
for n in $NAMES; do
	got=$(ask "$n")
	check "$n resolves (a miss)" "got '$got'" test "$got" = "miss NOERROR"
done
for n in $NAMES; do
	expect "$n is then a hit" "$n" hit
done

# 2. lookup.
ctl lookup www.z1.test A
rc=$?
check "lookup www.z1.test A: rcode, origin, state, the record" "exit $rc: $(out)" \
	test "$rc" -eq 0 -a -n "$(grep -x 'rcode: NOERROR' "$TMP/out.txt")" \
	-a -n "$(grep -x 'origin: resolved' "$TMP/out.txt")" \
	-a -n "$(grep -x 'state: fresh' "$TMP/out.txt")" \
	-a -n "$(grep -E '^ttl: [0-9]+ of 3600$' "$TMP/out.txt")" \
	-a -n "$(grep -E "^www\.z1\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+$(inet_www4 1)$" "$TMP/out.txt")"
ctl lookup z1.test NS
rc=$?
check "lookup z1.test NS shows the delegation" "exit $rc: $(out)" \
	test "$rc" -eq 0 -a -n "$(grep -x 'kind: delegation' "$TMP/out.txt")" \
	-a -n "$(grep -E '^z1\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+NS[[:space:]]+ns1\.z1\.test\.$' "$TMP/out.txt")"
ctl lookup . NS
rc=$?
check "lookup . NS: the root set, origin primed" "exit $rc: $(out)" \
	test "$rc" -eq 0 -a -n "$(grep -x 'origin: primed' "$TMP/out.txt")"
ctl lookup www.example.test A
rc=$?
check "lookup www.example.test A: origin local-zone" "exit $rc: $(out)" \
	test "$rc" -eq 0 -a -n "$(grep -x 'origin: local-zone' "$TMP/out.txt")"
ctl lookup www.z3.test A
rc=$?
check "lookup of a key not in the cache says so, exit 1" "exit $rc: $(out)" \
	test "$rc" -eq 1 -a "$(cat "$TMP/out.txt")" = "www.z3.test A is not in the cache"

# 3. One name.
ctl flush www.z1.test
rc=$?
check "flush www.z1.test says how many entries it removed" "exit $rc: $(out)" \
	test "$rc" -eq 0 -a -n "$(grep -E '^removed [1-9][0-9]* entries$' "$TMP/out.txt")"
expect "after flush www.z1.test: www.z1.test misses" www.z1.test miss
expect "after flush www.z1.test: mail.z1.test still hits" mail.z1.test hit
expect "after flush www.z1.test: www.z2.test still hits" www.z2.test hit
expect "www.z1.test is cached again" www.z1.test hit
ctl flush nothing.z7.test
rc=$?
check "flush of a name not in the cache says so, exit 1" "exit $rc: $(out)" \
	test "$rc" -eq 1 -a "$(cat "$TMP/out.txt")" = "nothing.z7.test is not in the cache"
ctl flush 'bad..name'
rc=$?
check "flush of a malformed name is refused" "exit $rc: $(out)" test "$rc" -eq 1

# 4. A zone.
ctl flush-zone z1.test
rc=$?
check "flush-zone z1.test says how many entries it removed" "exit $rc: $(out)" \
	test "$rc" -eq 0 -a -n "$(grep -E '^removed ([3-9]|[1-9][0-9]+) entries$' "$TMP/out.txt")"
ctl lookup z1.test NS
rc=$?
check "the delegation z1.test went with it" "exit $rc: $(out)" test "$rc" -eq 1
expect "after flush-zone z1.test: www.z2.test still hits" www.z2.test hit
expect "after flush-zone z1.test: mail.z2.test still hits" mail.z2.test hit
expect "after flush-zone z1.test: www.z1.test misses" www.z1.test miss
expect "after flush-zone z1.test: mail.z1.test misses" mail.z1.test miss
ctl flush-zone example.test
rc=$?
check "flush-zone of a local zone removes nothing and says so" "exit $rc: $(out)" \
	test "$rc" -eq 1 -a -n "$(grep 'only local-zone data' "$TMP/out.txt")"
expect "the local zone still answers from the cache" www.example.test hit

# 5. The dump.
ctl dump-cache "$TMP/dump.zone"
rc=$?
n=$(sed -n 's/^; end of dump: \([0-9]*\) entries$/\1/p' "$TMP/dump.zone" 2>/dev/null)
check "dump-cache FILE writes a complete dump" "exit $rc, entries '$n': $(out)" \
	test "$rc" -eq 0 -a "${n:-0}" -ge 5
check "the dump holds the cached names, not the local zone" "" \
	test -n "$(grep -E '^www\.z2\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]' "$TMP/dump.zone")" \
	-a -n "$(grep -E '^z2\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+NS[[:space:]]' "$TMP/dump.zone")" \
	-a -z "$(grep -E '^[^;].*example\.test\.' "$TMP/dump.zone")"
# A master file of the root: it needs an SOA and an NS at the apex to load, which the cache has
# only if it holds a negative answer from the root (the SOA) and the primed root set (the NS):
# the check adds what is missing.
{
	grep -Eq '^\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+SOA[[:space:]]' "$TMP/dump.zone" ||
		printf '. 3600 IN SOA check. check. 1 1 1 1 1\n'
	printf '. 3600 IN NS check.\ncheck. 3600 IN A 198.18.0.1\n'
	cat "$TMP/dump.zone"
} >"$TMP/check.zone"
named-checkzone -i none -k ignore -n ignore -m ignore -M ignore -S ignore -W ignore \
	. "$TMP/check.zone" >"$TMP/nc.txt" 2>&1
rc=$?
check "named-checkzone loads the dump" "exit $rc: $(oneline "$(cat "$TMP/nc.txt")")" \
	test "$rc" -eq 0
lab_ctl dump-cache - >"$TMP/stdout.zone" 2>"$TMP/out.txt"
rc=$?
check "dump-cache - writes to stdout" "exit $rc: $(out)" \
	test "$rc" -eq 0 -a -n "$(grep -E '^; end of dump: [0-9]+ entries$' "$TMP/stdout.zone")"

# 6. Everything.
ctl flush-all
rc=$?
check "flush-all says how many entries it removed" "exit $rc: $(out)" \
	test "$rc" -eq 0 -a -n "$(grep -E '^removed ([5-9]|[1-9][0-9]+) entries$' "$TMP/out.txt")"
lab_ctl dump-cache - >"$TMP/after.zone" 2>/dev/null
n=$(sed -n 's/^; end of dump: \([0-9]*\) entries$/\1/p' "$TMP/after.zone")
# Priming may put the root set back at once; nothing else comes back without a query.
check "after flush-all the dump is empty (the root set aside)" "entries '$n'" \
	test -n "$n" -a "${n:-9}" -le 1 -a -z "$(grep -E '^[^;].*z[12]\.test\.' "$TMP/after.zone")"
expect "after flush-all: www.z2.test misses" www.z2.test miss
expect "after flush-all: the local zone still hits" www.example.test hit
flushed=$(stat_of cache.flushed)
check "cache.flushed counts what the flushes removed" "cache.flushed '$flushed'" \
	test "${flushed:-0}" -ge 10
