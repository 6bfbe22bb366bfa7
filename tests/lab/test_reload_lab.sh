#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# polluxctl reload of the whole configuration, end to end: pollux in the lab resolving through
# the simulated internet (tests/lab/internet/internet.sh), configured from a file.
#   1. a good reload changes a local zone's answer, adds a do-not-query netblock (the zone
#      whose server it covers then gets SERVFAIL, until a later reload lifts it) and a TTL cap (a name resolved afterwards is
#      served with at most that TTL), all visible in answers at once; the restart-only option
#      changed with them is reported "needs restart" and keeps its running value; polluxctl
#      config shows each value with its FILE:LINE and the reload;
#   2. a bad reload (one broken line; then a broken zone file) is refused naming FILE:LINE,
#      and every answer stays as it was;
#   3. the hints file is swapped by a reload (another path, another root server set).
#
# Runs as root, unattended, in about 30 seconds. Prints 'ok - ...' / 'not ok - ...', then
# 'N passed, M failed'. Everything is torn down at exit unless POLLUX_INET_KEEP=1.

# Conditions are often passed to check() as eval '...' strings, expanded when check runs.
# shellcheck disable=SC2016
set -u
export LC_ALL=C

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=internet/internet.sh
. "$TEST_DIR/internet/internet.sh"
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

TMP=$(mktemp -d /tmp/pollux-reload-lab.XXXXXX)
CONF=$TMP/pollux.conf
ZONE=$TMP/example.test.zone
HINTS=$TMP/lab.root
HINTS2=$TMP/lab-a-only.root

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

for t in nsd dig python3; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "prerequisites" "$t is not installed (source tests/deps.sh; px_install_deps)"
		exit 1
	fi
done
lab_require_root || { not_ok "prerequisites" "not root"; exit 1; }

ask() { # ask NAME [TYPE]: dig's whole output, over UDP
	lab_cli dig +tries=1 +time=3 +norec "@$LAB_PX_IP4" "$1" "${2:-A}" 2>&1
}

rcode_of() {
	awk '/->>HEADER<<-/ {for (i = 1; i <= NF; i++) if ($i == "status:") {s = $(i + 1); sub(",", "", s); print s}}' <<<"$1"
}

# The first answer record's TTL and data ("TTL DATA").
answer_of() {
	awk '/^;; ANSWER SECTION:/ {a = 1; next} a && NF >= 5 {print $2, $5; exit}' <<<"$1"
}

stat_of() {
	lab_ctl stats 2>/dev/null | awk -v n="total.$1" '$1 == n {print $2}'
}

hints_field() {
	awk -v k="$2:" '$1 == k {print $2; exit}' <<<"$1"
}

# The config file: numbered lines matter, the checks name them.
write_conf() { # write_conf HINTS CACHE_SIZE [LINE...]: lines 5 on are the extra lines
	{
		echo "# pollux reload lab"
		echo "local-zone: $ZONE"
		echo "hints: $1"
		echo "cache-size: $2"
		shift 2
		printf '%s\n' "$@"
	} >"$CONF"
}

cp "$TEST_DIR/zones/example.test.zone" "$ZONE"
cp "$TEST_DIR/internet/lab.root" "$HINTS"
# The same lab root, with only its first server.
sed '/B.ROOT.LAB/d' "$TEST_DIR/internet/lab.root" >"$HINTS2"
write_conf "$HINTS" 65536

if ! inet_up >/dev/null; then
	not_ok "the internet comes up" "see the errors above"
	exit 1
fi
ok "the internet comes up"
lab_stop >/dev/null 2>&1
if ! lab_start --gateway "$LAB_CLI_IP4" --gateway6 "$LAB_CLI_IP6" --config "$CONF"; then
	not_ok "pollux starts from $CONF" "$(oneline "$(tail -5 "$LAB_LOG")")"
	exit 1
fi
ok "pollux starts from $CONF (PMD $(lab_pmd))"

# Before: the zone's answer, a resolved name with its full TTL, and z2.test resolving.
out=$(ask www.example.test)
check "before: www.example.test A is the zone's 198.18.1.10" "$(oneline "$out")" \
	test "$(answer_of "$out" | cut -d' ' -f2)" = 198.18.1.10
out=$(ask www.z3.test)
ttl=$(answer_of "$out" | cut -d' ' -f1)
check "before: www.z3.test resolves with a TTL above 60 s ($ttl)" "$(oneline "$out")" \
	test "$(rcode_of "$out")" = NOERROR -a "${ttl:-0}" -gt 60
out=$(ask site.example SOA)
check "before: site.example SOA resolves (its server, sld-c, is 198.18.3.3)" "$(oneline "$out")" \
	test "$(rcode_of "$out")" = NOERROR
applied0=$(stat_of rec_settings_applied)

# 1. A good reload: zone data, do-not-query, a TTL cap, and a restart-only change.
sed -i 's/^www       300   IN A     198.18.1.10/www       300   IN A     198.18.1.99/' "$ZONE"
write_conf "$HINTS" 131072 "max-ttl: 60" "do-not-query: 198.18.3.3" \
	"do-not-query: 2001:2:0:3::3/128"
rl=$(lab_ctl reload 2>&1)
rc=$?
check "a good reload succeeds" "exit $rc: $(oneline "$rl")" test "$rc" -eq 0
check "it lists what changed: do-not-query and max-ttl applied" \
	"$(oneline "$rl")" grep -q "^applied (changed: .*do-not-query, .*max-ttl" <<<"$rl"
check "cache-size is reported as needing a restart" "$(oneline "$rl")" \
	grep -qx "needs restart (running values kept): cache-size" <<<"$rl"
check "the running cache size is unchanged" "$(oneline "$(lab_ctl status)")" \
	grep -qx "cache_size: 65536" <<<"$(lab_ctl status)"
out=$(ask www.example.test)
check "after: www.example.test A is the edited zone's 198.18.1.99" "$(oneline "$out")" \
	test "$(answer_of "$out" | cut -d' ' -f2)" = 198.18.1.99
check "the workers took the new settings in ($applied0 -> $(stat_of rec_settings_applied))" "" \
	test "$(stat_of rec_settings_applied)" -gt "${applied0:-0}"
out=$(ask www.z4.test)
ttl=$(answer_of "$out" | cut -d' ' -f1)
check "after: www.z4.test (first asked now) is served with the 60 s cap ($ttl)" \
	"$(oneline "$out")" test "$(rcode_of "$out")" = NOERROR -a "${ttl:-999}" -le 60
out=$(ask www.site.example)
check "after: www.site.example, whose only server is do-not-query now, gets SERVFAIL" \
	"$(oneline "$out")" test "$(rcode_of "$out")" = SERVFAIL
cfg=$(lab_ctl config 2>&1)
check "polluxctl config: max-ttl 60 from $CONF:5, changed by a reload" "$(oneline "$cfg")" \
	grep -Eq "^max-ttl: 60  # $CONF:5, reload at [0-9T:-]+Z$" <<<"$cfg"
check "polluxctl config: both do-not-query netblocks with their lines" "$(oneline "$cfg")" \
	eval 'grep -q "^do-not-query: 198.18.3.3  # $CONF:6, reload at" <<<"$cfg" &&
		grep -q "^do-not-query: 2001:2:0:3::3/128  # $CONF:7, reload at" <<<"$cfg"'
check "polluxctl config: cache-size still 65536 from $CONF:4 (a restart would apply it)" \
	"$(oneline "$cfg")" grep -qx "cache-size: 65536  # $CONF:4" <<<"$cfg"
check "polluxctl config: ip from the command line, max-neg-ttl by default" "$(oneline "$cfg")" \
	eval 'grep -qx "ip: $LAB_PX_IP4/$LAB_IP4_LEN  # command line" <<<"$cfg" &&
		grep -qx "max-neg-ttl: 3600  # default" <<<"$cfg"'

# 2. Bad reloads change nothing: a broken line (with a zone edit and a lifted netblock that
# would show), then a broken zone file.
sed -i 's/198.18.1.99/198.18.1.77/' "$ZONE"
write_conf "$HINTS" 131072 "max-ttl: sixty" "do-not-query: 2001:2:0:3::3/128"
rl=$(lab_ctl reload 2>&1)
rc=$?
check "a reload with a broken line is refused (exit $rc), naming $CONF:5 and why" \
	"$(oneline "$rl")" eval '[ "$rc" -ne 0 ] &&
		grep -q "reload refused, nothing changed: $CONF:5: max-ttl: .sixty.: " <<<"$rl"'
check "the refusal is in the log" "" grep -q "reload_rejected (control): $CONF:5" "$LAB_LOG"
out=$(ask www.example.test)
check "after the refusal: www.example.test is still 198.18.1.99" "$(oneline "$out")" \
	test "$(answer_of "$out" | cut -d' ' -f2)" = 198.18.1.99
out=$(ask ftp.site.example)
check "after the refusal: ftp.site.example SERVFAIL too (do-not-query kept)" "$(oneline "$out")" \
	test "$(rcode_of "$out")" = SERVFAIL
out=$(ask www.z5.test)
ttl=$(answer_of "$out" | cut -d' ' -f1)
check "after the refusal: the 60 s cap still holds (www.z5.test TTL $ttl)" "$(oneline "$out")" \
	test "$(rcode_of "$out")" = NOERROR -a "${ttl:-999}" -le 60
write_conf "$HINTS" 131072 "max-ttl: 60" "do-not-query: 198.18.3.3" \
	"do-not-query: 2001:2:0:3::3/128"
printf 'broken  IN  A  not-an-address\n' >>"$ZONE"
zl=$(wc -l <"$ZONE")
rl=$(lab_ctl reload 2>&1)
rc=$?
check "a reload with a broken zone file is refused (exit $rc), naming $ZONE:$zl" \
	"$(oneline "$rl")" eval '[ "$rc" -ne 0 ] && grep -q "nothing changed: $ZONE:$zl: " <<<"$rl"'
out=$(ask www.example.test)
check "after it: www.example.test is still 198.18.1.99" "$(oneline "$out")" \
	test "$(answer_of "$out" | cut -d' ' -f2)" = 198.18.1.99
sed -i '$d' "$ZONE"
sed -i 's/198.18.1.77/198.18.1.99/' "$ZONE"

# 3. The hints file swapped by a reload.
h=$(lab_ctl hints 2>&1)
gen=$(hints_field "$h" generation)
write_conf "$HINTS2" 131072 "max-ttl: 60"
rl=$(lab_ctl reload 2>&1)
rc=$?
h=$(lab_ctl hints 2>&1)
check "a reload naming another hints file succeeds and says so" "exit $rc: $(oneline "$rl")" \
	eval '[ "$rc" -eq 0 ] && grep -q "changed: hints" <<<"$rl" &&
		grep -qx "hints: $HINTS2 (generation $((gen + 1)))" <<<"$rl"'
check "polluxctl hints: source $HINTS2, one server, generation $((gen + 1))" "$(oneline "$h")" \
	eval '[ "$(hints_field "$h" source)" = "$HINTS2" ] && [ "$(hints_field "$h" servers)" = 1 ] &&
		[ "$(hints_field "$h" generation)" = $((gen + 1)) ]'
out=$(ask www.z6.test)
check "resolution goes on with the new hints" "$(oneline "$out")" \
	test "$(rcode_of "$out")" = NOERROR
out=$(ask nx.site.example)
check "the same reload lifted do-not-query: site.example's server answers again (NXDOMAIN)" \
	"$(oneline "$out")" test "$(rcode_of "$out")" = NXDOMAIN
printf 'garbage\n' >"$TMP/bad.root"
write_conf "$TMP/bad.root" 131072 "max-ttl: 60"
rl=$(lab_ctl reload 2>&1)
rc=$?
h=$(lab_ctl hints 2>&1)
check "a reload naming a bad hints file is refused, with its line; the hints stay" \
	"$(oneline "$rl")" eval '[ "$rc" -ne 0 ] &&
		grep -q "nothing changed: hints file $TMP/bad.root rejected: $TMP/bad.root:1: " <<<"$rl" &&
		[ "$(hints_field "$h" source)" = "$HINTS2" ]'
