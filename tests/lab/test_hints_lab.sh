#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test of the root hints: `pollux --check-hints` on the lab's hints files,
# then the real pollux in the lab (tests/lab/lab.sh) started with a corrupt file (it falls back
# to the built-in hints and serves), refusing to start with hints-fallback refuse, and swapping
# hints by every trigger (polluxctl reload-hints, SIGHUP, the file changing on disk) with bad and
# good files while dig queries it without pause: not one query may go unanswered or be answered
# wrongly. Runs as root, unattended, in about half a minute. Prints one 'ok - ...' or
# 'not ok - ...' line per assertion, then 'N passed, M failed'; exits non-zero if anything
# failed. The lab and the temporary directory are removed at exit, whatever happens.
#
# The committed files in tests/lab/hints/ are only ever read: every file pollux is pointed at is
# a copy in a temporary directory.
#
# Environment: as tests/lab/lab.sh (POLLUX_BIN, POLLUXCTL_BIN, POLLUX_LAB_PMD, ...).

# Conditions are passed to check() as single-quoted strings for eval, on purpose; the variables
# they use look unused to shellcheck.
# shellcheck disable=SC2016,SC2034

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lab.sh
. "$TEST_DIR/lab.sh"

ZONE=$TEST_DIR/zones/example.test.zone
WWW_A=198.18.1.10 # www.example.test A in the zone
HINTS=$TEST_DIR/hints
BUILTIN=$LAB_ROOT/control/named.root # what pollux compiles in, byte for byte

# What the hints files hold (see their comments).
GOOD_SERVERS="a.root.lab. 198.18.1.1 2001:2:0:1::1|b.root.lab. 198.18.1.2 2001:2:0:1::2|"
GOOD_TTL=3600000
GOOD2_SERVERS="c.root.lab. 198.18.2.3 2001:2:0:2::3|d.root.lab. 198.18.2.4|e.root.lab. 2001:2:0:2::5|"
GOOD2_TTL=518400
CORRUPT_LINE=11 # the line corrupt.root is cut in
REASONS="unspecified loopback broadcast multicast reserved v4mapped v4compat link_local do_not_query"

TMP=
DIG_PID=

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$TEST_DIR/tap.sh"

stop_dig_loop() {
	[ -n "$DIG_PID" ] || return 0
	touch "$TMP/dig.stop"
	wait "$DIG_PID" 2>/dev/null
	DIG_PID=
}

finish() {
	local rc=$?
	trap - EXIT INT TERM
	stop_dig_loop
	lab_down >/dev/null 2>&1 || echo "# warning: lab teardown reported errors" >&2
	[ -z "$TMP" ] || rm -rf "$TMP"
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
trap finish EXIT
trap 'echo "# interrupted"; FAILED=$((FAILED + 1)); exit 1' INT TERM

sha() {
	sha256sum "$1" | awk '{print $1}'
}

# A field of `polluxctl hints` ("source", "generation", ...): the first line with that key.
hints_field() { # hints_field OUTPUT KEY
	sed -n "s/^$2: //p" <<<"$1" | head -n 1
}

# The server lines of `polluxctl hints`, each followed by '|'.
hints_servers() {
	sed -n 's/^server: //p' <<<"$1" | tr '\n' '|'
}

# The indented reason lines after last_rejected_reasons:, without the indent, '|'-joined.
hints_reasons() {
	awk '/^last_rejected_reasons:$/ {on = 1; next} on && /^  / {sub(/^  /, ""); print}' <<<"$1" |
		tr '\n' '|'
}

# One counter of `polluxctl stats` (hints counters have no total./workerN. prefix); -1 if absent.
stat_of() {
	awk -v n="$1" '$1 == n {print $2; f = 1} END {if (!f) print -1}' <<<"$STATS"
}

read_stats() {
	STATS=$(lab_ctl stats 2>&1)
}

# check_counters DESC LOADS REJECTIONS FALLBACKS GENERATION [REASON=N...]: the hints counters,
# exactly; every addr_rejected.hints.<reason> not named must be 0.
check_counters() {
	local desc=$1 want got r n kv
	shift
	read_stats
	want="loads=$1 rejections=$2 fallbacks=$3 generation=$4"
	got="loads=$(stat_of hints.loads) rejections=$(stat_of hints.rejections)"
	got="$got fallbacks=$(stat_of hints.fallbacks) generation=$(stat_of hints.generation)"
	shift 4
	for r in $REASONS; do
		n=0
		for kv in "$@"; do
			[ "${kv%%=*}" != "$r" ] || n=${kv#*=}
		done
		want="$want $r=$n"
		got="$got $r=$(stat_of "addr_rejected.hints.$r")"
	done
	check "$desc: $want" "got $got" test "$got" = "$want"
}

# Waits up to `ms` for a command to succeed, polling every 50 ms. Sets WAITED_MS.
wait_for() { # wait_for MS COMMAND...
	local ms=$1 t0
	shift
	t0=$(date +%s%N)
	while :; do
		WAITED_MS=$((($(date +%s%N) - t0) / 1000000))
		"$@" && return 0
		[ "$WAITED_MS" -lt "$ms" ] || return 1
		sleep 0.05
	done
}

generation_is() {
	[ "$(hints_field "$(lab_ctl hints 2>/dev/null)" generation)" = "$1" ]
}

rejections_are() {
	read_stats
	[ "$(stat_of hints.rejections)" = "$1" ]
}

www_answers() {
	[ "$(lab_cli dig +tries=1 +time=2 +short "@$LAB_PX_IP4" www.example.test A 2>&1)" = "$WWW_A" ]
}

# The identity of a file's bytes and of the file itself: pollux must change neither.
file_id() {
	echo "$(sha "$1") $(stat -c '%i %s %y' "$1")"
}

UNTOUCHED_BAD=
UNTOUCHED_N=0
# untouched WHAT BEFORE PATH: the file is as it was before pollux read it.
untouched() {
	local now
	now=$(file_id "$3")
	UNTOUCHED_N=$((UNTOUCHED_N + 1))
	[ "$now" = "$2" ] || UNTOUCHED_BAD="$UNTOUCHED_BAD [$1: before '$2', after '$now']"
}

TMP=$(mktemp -d /tmp/pollux-hints-lab.XXXXXX) || {
	not_ok "temporary directory" "mktemp failed"
	exit 1
}
mkdir -p "$TMP/src" "$TMP/store" "$TMP/live" || exit 1
cp "$HINTS"/*.root "$TMP/src/" || exit 1
S=$TMP/src

# 1. pollux --check-hints, offline: the verdict, exactly, and the exit status.

check_verdict() { # check_verdict FILE WANT_RC WANT_STDOUT [OPTIONS...]
	local f=$1 want_rc=$2 want=$3 out rc
	shift 3
	"$POLLUX_BIN" --check-hints "$f" "$@" >"$TMP/verdict" 2>"$TMP/verdict.err"
	rc=$?
	out=$(cat "$TMP/verdict")
	check "check-hints $(basename "$f")${*:+ $*}: exit $want_rc, '$(oneline "$want")'" \
		"exit $rc, stdout '$(oneline "$out")', stderr '$(oneline "$(cat "$TMP/verdict.err")")'" \
		test "$rc" = "$want_rc" -a "$out" = "$want"
	# Kept apart from the text above, so that one missing newline is one failure.
	if [ -s "$TMP/verdict" ] && [ "$(tail -c 1 "$TMP/verdict" | od -An -c | tr -d ' ')" != '\n' ]; then
		NO_FINAL_NL="$NO_FINAL_NL $(basename "$f")${*:+ $*}"
	fi
}

okline() { # okline FILE USABLE NS ADDRS REJECTED
	echo "$1: ok: $2 root servers with a usable address (of $3), $4 addresses, $5 rejected by the address policy; sha256 $(sha "$1")"
}

NO_FINAL_NL=
P=$HINTS
check_verdict "$P/good.root" 0 "$(okline "$P/good.root" 2 2 4 0)"
check_verdict "$P/good2.root" 0 "$(okline "$P/good2.root" 3 3 4 0)"
check_verdict "$P/crlf.root" 0 "$(okline "$P/crlf.root" 2 2 4 0)"
check_verdict "$P/corrupt.root" 1 "$P/corrupt.root: rejected
$P/corrupt.root:$CORRUPT_LINE: Syntax error, could not parse the RR's rdata"
check_verdict "$P/empty.root" 1 "$P/empty.root: rejected
$P/empty.root: empty file: no root NS records"
check_verdict "$P/zero.root" 1 "$P/zero.root: rejected
$P/zero.root: only 0 of 1 root servers have a usable address; at least 1 needed"
check "check-hints zero.root logs the rejected address with its reason" \
	"stderr '$(oneline "$(cat "$TMP/verdict.err")")'" \
	grep -q "hints_addr_rejected zone=. ns=z.root.lab. addr=0.0.0.0 reason=unspecified" "$TMP/verdict.err"
check_verdict "$TMP/no-such.root" 1 "$TMP/no-such.root: rejected
$TMP/no-such.root: cannot open: No such file or directory"
check_verdict "$P/good.root" 1 "$P/good.root: rejected
$P/good.root: only 2 of 2 root servers have a usable address; at least 3 needed" \
	--min-root-servers 3
check_verdict "$P/good.root" 0 "$(okline "$P/good.root" 2 2 4 2)" --do-not-query 198.18.1.0/24
check_verdict "$P/good.root" 1 "$P/good.root: rejected
$P/good.root: only 0 of 2 root servers have a usable address; at least 1 needed" \
	--do-not-query 198.18.1.0/24 --do-not-query 2001:2:0:1::/64
printf '. 3600000 NS L.ROOT.LAB.\nL.ROOT.LAB. 3600000 A 127.0.0.53\n' >"$TMP/loopback.root"
check_verdict "$TMP/loopback.root" 1 "$TMP/loopback.root: rejected
$TMP/loopback.root: only 0 of 1 root servers have a usable address; at least 1 needed"
check_verdict "$TMP/loopback.root" 0 "$(okline "$TMP/loopback.root" 1 1 1 0)" \
	--allow-loopback-ns yes
check "every check-hints verdict ends with a newline" "no final newline after:$NO_FINAL_NL" \
	test -z "$NO_FINAL_NL"
crs=$(grep -c $'\r$' "$P/crlf.root")
lines=$(wc -l <"$P/crlf.root")
check "crlf.root really has CRLF line ends ($crs of $lines lines)" \
	"$crs of $lines lines end in CR LF (a checkout converted it?)" test "$crs" = "$lines" -a "$crs" -gt 0
check "crlf.root is good.root with CRLF line ends" "they differ beyond line ends" \
	eval '[ "$(tr -d "\r" <"$P/crlf.root" | sha256sum)" = "$(sha256sum <"$P/good.root")" ]'

# The lab.

if ! lab_require_root; then
	not_ok "lab prerequisites" "not root"
	exit 1
fi
if ! lab_up; then
	not_ok "lab comes up" "see the lab's errors above"
	exit 1
fi
ok "lab comes up"

# 2. A corrupt file at start, hints-fallback builtin (the default): pollux serves on the
# built-in hints and says so.

cp "$S/corrupt.root" "$TMP/store/start-corrupt.root"
F=$TMP/store/start-corrupt.root
before=$(file_id "$F")
if ! lab_start --local-zone "$ZONE" --hints "$F" 2>"$TMP/start.err"; then
	cat "$TMP/start.err" >&2
	not_ok "pollux starts with a corrupt hints file (fallback builtin) and answers" \
		"see its log above"
	exit 1
fi
ok "pollux starts with a corrupt hints file (fallback builtin) and answers (PMD $(lab_pmd))"
# The refused starts below use the PMD that works here, rather than trying af_xdp again.
PMD=$(lab_pmd)
check "it serves: www.example.test A is $WWW_A" "no or wrong answer" www_answers
h=$(lab_ctl hints 2>&1)
nserv=$(sed -n '/^server: /p' <<<"$h" | wc -l)
check "hints: source built-in, 13 servers listed, generation 1, sha256 of control/named.root" \
	"$(oneline "$(head -n 7 <<<"$h")") ($nserv server lines)" \
	eval '[ "$(hints_field "$h" source)" = built-in ] && [ "$(hints_field "$h" servers)" = 13 ] &&
		[ "$nserv" = 13 ] && [ "$(hints_field "$h" generation)" = 1 ] &&
		[ "$(hints_field "$h" sha256)" = "$(sha "$BUILTIN")" ] &&
		grep -qx "server: a.root-servers.net. 198.41.0.4 2001:503:ba3e::2:30" <<<"$h"'
r=$(hints_reasons "$h")
check "hints: last_rejected names the corrupt file, with the line and the syntax error" \
	"last_rejected '$(hints_field "$h" last_rejected)', reasons '$r'" \
	eval '[ "$(hints_field "$h" last_rejected)" = "$F" ] &&
		grep -Eq "^$F:[0-9]+: Syntax error, could not parse the RR.s rdata\|$" <<<"$r"'
# One load of the file (rejected), then one of the built-in hints.
check_counters "stats after the fallback" 2 1 1 1
check "the log has hints_fallback_builtin naming the file" "$(grep hints_ "$LAB_LOG" | tr '\n' '|')" \
	grep -q "hints_fallback_builtin source=$F" "$LAB_LOG"
check "the log has hints_rejected with the reason" "$(grep hints_ "$LAB_LOG" | tr '\n' '|')" \
	grep -q "hints_rejected source=$F .*Syntax error" "$LAB_LOG"
untouched "fallback start" "$before" "$F"
lab_stop

# 3. hints-fallback refuse: a bad file at start stops pollux, with the reason.

refused_start() { # refused_start WHAT FILE REASON_REGEX
	local what=$1 f=$2 re=$3 st
	if POLLUX_LAB_PMD=$PMD lab_start --local-zone "$ZONE" --hints "$f" \
		--hints-fallback refuse 2>"$TMP/start.err"; then
		not_ok "hints-fallback refuse, $what: the start fails" "pollux started and answers"
		lab_stop
		return
	fi
	ok "hints-fallback refuse, $what: the start fails"
	st=$(sed -n 's/.*exited during start-up (status \([0-9]*\)).*/\1/p' "$TMP/start.err" | tail -n 1)
	check "hints-fallback refuse, $what: pollux exited with a non-zero status ($st)" \
		"lab said: $(oneline "$(grep -v '^lab:   |' "$TMP/start.err")")" \
		eval '[ -n "$st" ] && [ "$st" -ne 0 ] && [ -z "$(ip netns pids "$POLLUX_LAB_NS_PX")" ]'
	check "hints-fallback refuse, $what: the log says rejected, and why" \
		"log: $(oneline "$(tail -n 5 "$LAB_LOG")")" \
		eval 'grep -q "hints file $f rejected (hints-fallback: refuse)" "$LAB_LOG" &&
			grep -Eq "$re" "$LAB_LOG" && ! grep -q hints_fallback_builtin "$LAB_LOG"'
}

cp "$S/corrupt.root" "$TMP/store/refuse-corrupt.root"
cp "$S/empty.root" "$TMP/store/refuse-empty.root"
refused_start "corrupt file" "$TMP/store/refuse-corrupt.root" \
	"^$TMP/store/refuse-corrupt.root:[0-9]+: Syntax error"
refused_start "empty file" "$TMP/store/refuse-empty.root" \
	"^$TMP/store/refuse-empty.root: empty file: no root NS records"

# 4. Hot swaps while dig queries without pause.
#
# pollux is given a path that is, at first, a symbolic link to a file in another directory.
# pollux watches the path's directory, so writing through the link changes the hints without
# an inotify event: the reloads of the first steps are the explicit triggers' alone, and every
# counter is exact. Then the link is replaced by a regular file with an atomic mv, and the
# file is rewritten in place: those are seen by inotify.

LIVE=$TMP/live/named.root
TARGET=$TMP/store/active.root
cp "$S/good.root" "$TARGET"
ln -s "$TARGET" "$LIVE"
if ! POLLUX_LAB_PMD=$PMD lab_start --local-zone "$ZONE" --hints "$LIVE" 2>"$TMP/start.err"; then
	cat "$TMP/start.err" >&2
	not_ok "pollux starts with good.root" "see its log above"
	exit 1
fi
ok "pollux starts with good.root"
PX_PID=$(lab_pid)

h=$(lab_ctl hints 2>&1)
# No --gateway here: recursion runs for on-link nameservers only, and the lab's roots are not
# on the link, so priming cannot succeed: the hints part must be exact, and priming says it has
# no root set (a failure line may or may not have come yet).
want="source: $LIVE
sha256: $(sha "$S/good.root")
loaded_at: T
generation: 1
servers: 2
addresses_rejected: 0
ttl: $GOOD_TTL
server: a.root.lab. 198.18.1.1 2001:2:0:1::1
server: b.root.lab. 198.18.1.2 2001:2:0:1::2
last_rejected: none
priming: not primed"
got=$(sed -E 's/^loaded_at: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/loaded_at: T/' <<<"$h" |
	grep -v '^priming_last_failure')
check "polluxctl hints, exactly: source the path, 2 servers, generation 1, not primed" \
	"got '$(oneline "$got")'" test "$got" = "$want"
check_counters "stats after the start" 1 0 0 1

# The background dig loop: one query after another, ~20 ms apart, each result on one line:
# "SEQ EXIT_STATUS ANSWER".
lab_cli bash -c '
	while [ ! -e "$2" ]; do
		a=$(dig +tries=1 +time=1 +short "@$3" www.example.test A 2>&1)
		printf "%s %s\n" "$?" "$(echo $a)" >>"$1"
		sleep 0.02
	done' dig-loop "$TMP/dig.log" "$TMP/dig.stop" "$LAB_PX_IP4" &
DIG_PID=$!
sleep 0.5
SWAPS_FROM=$(wc -l <"$TMP/dig.log" 2>/dev/null || echo 0)

# The table in force is still the last good one, and the rejection is recorded.
check_kept() { # check_kept WHAT GENERATION SERVERS SHA256 REASON_REGEX
	local what=$1 gen=$2 servers=$3 sum=$4 re=$5 h r
	h=$(lab_ctl hints 2>&1)
	r=$(hints_reasons "$h")
	check "$what: hints still in force (generation $gen, same servers and sha256)" \
		"$(oneline "$(grep -E '^(source|sha256|generation|servers|server):' <<<"$h")")" \
		eval '[ "$(hints_field "$h" source)" = "$LIVE" ] &&
			[ "$(hints_field "$h" generation)" = "$gen" ] &&
			[ "$(hints_servers "$h")" = "$servers" ] && [ "$(hints_field "$h" sha256)" = "$sum" ]'
	check "$what: last_rejected names the file, with the reason" \
		"last_rejected '$(hints_field "$h" last_rejected)', reasons '$r'" \
		eval '[ "$(hints_field "$h" last_rejected)" = "$LIVE" ] &&
			[ -n "$(hints_field "$h" last_rejected_at)" ] && grep -Eq "$re" <<<"$r"'
}

# reload_rejected WHAT SRC REASON_REGEX: writes SRC through the link, polluxctl reload-hints.
reload_rejected() {
	local what=$1 src=$2 re=$3 out rc before last
	cp "$src" "$LIVE"
	before=$(file_id "$TARGET")
	out=$(lab_ctl reload-hints 2>&1)
	rc=$?
	last=$(tail -n 1 <<<"$out")
	check "reload-hints with $what: exit 1, 'rejected: PATH', the reason, 'kept: PATH (generation 1)'" \
		"exit $rc, output '$(oneline "$out")'" \
		eval '[ "$rc" = 1 ] && [ "$(head -n 1 <<<"$out")" = "rejected: $LIVE" ] &&
			grep -Eq "$re" <<<"$out" && [ "$last" = "kept: $LIVE (generation 1)" ]'
	check_kept "after reload-hints with $what" 1 "$GOOD_SERVERS" "$(sha "$S/good.root")" "$re"
	untouched "reload-hints with $what" "$before" "$TARGET"
}

reload_rejected "corrupt.root" "$S/corrupt.root" "^$LIVE:[0-9]+: Syntax error, could not parse the RR.s rdata\|?$"
check_counters "stats after the corrupt file" 2 1 0 1
reload_rejected "empty.root" "$S/empty.root" "^$LIVE: empty file: no root NS records\|?$"
check_counters "stats after the empty file" 3 2 0 1
reload_rejected "zero.root" "$S/zero.root" \
	"^$LIVE: only 0 of 1 root servers have a usable address; at least 1 needed\|?$"
check_counters "stats after the 0.0.0.0-only file (its address counted)" 4 3 0 1 unspecified=1
check "the log names the rejected 0.0.0.0 with its nameserver" "$(grep hints_addr "$LAB_LOG" | tr '\n' '|')" \
	grep -q "hints_addr_rejected zone=. ns=z.root.lab. addr=0.0.0.0 reason=unspecified source=$LIVE" "$LAB_LOG"
check "www.example.test still answers after the rejections" "no or wrong answer" www_answers

# SIGHUP: good2.root.
cp "$S/good2.root" "$LIVE"
before=$(file_id "$TARGET")
kill -HUP "$PX_PID"
wait_for 3000 generation_is 2
h=$(lab_ctl hints 2>&1)
check "SIGHUP with good2.root: generation 2, sha256 and servers of good2.root ($WAITED_MS ms)" \
	"$(oneline "$(grep -E '^(source|sha256|generation|servers|ttl|server):' <<<"$h")")" \
	eval '[ "$(hints_field "$h" generation)" = 2 ] && [ "$(hints_field "$h" source)" = "$LIVE" ] &&
		[ "$(hints_field "$h" sha256)" = "$(sha "$S/good2.root")" ] &&
		[ "$(hints_field "$h" servers)" = 3 ] && [ "$(hints_servers "$h")" = "$GOOD2_SERVERS" ] &&
		[ "$(hints_field "$h" ttl)" = "$GOOD2_TTL" ]'
untouched "SIGHUP" "$before" "$TARGET"
check_counters "stats after SIGHUP" 5 3 0 2 unspecified=1

# inotify: good.root moved over the path (replacing the link), no command given.
cp "$S/good.root" "$TMP/live/.named.root.new"
before=$(file_id "$TMP/live/.named.root.new")
mv -f "$TMP/live/.named.root.new" "$LIVE"
if wait_for 3000 generation_is 3; then
	h=$(lab_ctl hints 2>&1)
	check "mv good.root over the path: reloaded by inotify in $WAITED_MS ms (< 1000), generation 3, good.root's servers" \
		"$(oneline "$(grep -E '^(sha256|generation|server):' <<<"$h")")" \
		eval '[ "$WAITED_MS" -lt 1000 ] && [ "$(hints_servers "$h")" = "$GOOD_SERVERS" ] &&
			[ "$(hints_field "$h" sha256)" = "$(sha "$S/good.root")" ]'
else
	not_ok "mv good.root over the path: reloaded by inotify" "generation still $(hints_field "$(lab_ctl hints)" generation) after 3 s"
fi
untouched "inotify after mv" "$before" "$LIVE"
check_counters "stats after the mv" 6 3 0 3 unspecified=1

# inotify: the file rewritten in place, first with corrupt.root (rejected, kept), then good2.root.
cat "$S/corrupt.root" >"$LIVE"
before=$(file_id "$LIVE")
if wait_for 3000 rejections_are 4; then
	ok "corrupt.root written in place: rejected by an inotify reload in $WAITED_MS ms"
else
	not_ok "corrupt.root written in place: rejected by an inotify reload" "hints.rejections $(stat_of hints.rejections) after 3 s"
fi
check_kept "after corrupt.root written in place" 3 "$GOOD_SERVERS" "$(sha "$S/good.root")" \
	"^$LIVE:[0-9]+: Syntax error"
untouched "inotify, corrupt in place" "$before" "$LIVE"
cat "$S/good2.root" >"$LIVE"
before=$(file_id "$LIVE")
wait_for 3000 generation_is 4
h=$(lab_ctl hints 2>&1)
check "good2.root written in place: loaded by inotify ($WAITED_MS ms), generation 4, good2.root's servers" \
	"$(oneline "$(grep -E '^(sha256|generation|server):' <<<"$h")")" \
	eval '[ "$(hints_field "$h" generation)" = 4 ] && [ "$(hints_servers "$h")" = "$GOOD2_SERVERS" ] &&
		[ "$(hints_field "$h" sha256)" = "$(sha "$S/good2.root")" ]'
untouched "inotify, good2 in place" "$before" "$LIVE"

# The verdict below needs the dig loop to have run through the swaps, and on a busy machine a
# dig can take 100 ms or more: before the last swap, let it log at least 20 queries since the
# swaps began (bounded), rather than hope the swaps took long enough.
digs_since_swaps_at_least() {
	[ $(($(wc -l <"$TMP/dig.log") - SWAPS_FROM)) -ge "$1" ]
}
wait_for 30000 digs_since_swaps_at_least 20 ||
	diag "the dig loop logged only $(($(wc -l <"$TMP/dig.log") - SWAPS_FROM)) queries in 30 s"

# polluxctl reload-hints with a good file.
before=$(file_id "$LIVE")
out=$(lab_ctl reload-hints 2>&1)
rc=$?
check "reload-hints with good2.root: exit 0, 'loaded: PATH (sha256 ..., 3 servers, 0 addresses rejected, generation 5)'" \
	"exit $rc, output '$(oneline "$out")'" \
	test "$rc" = 0 -a "$out" = "loaded: $LIVE (sha256 $(sha "$S/good2.root"), 3 servers, 0 addresses rejected, generation 5)"
untouched "reload-hints, good2" "$before" "$LIVE"
SWAPS_TO=$(wc -l <"$TMP/dig.log")
# A moment for a stray inotify reload to show, if any was (wrongly) scheduled.
sleep 0.6

# The dig loop's verdict.
stop_dig_loop
sent=$(wc -l <"$TMP/dig.log")
good=$(awk -v a="$WWW_A" '$1 == 0 && $2 == a && NF == 2' "$TMP/dig.log" | wc -l)
diag "dig loop: $sent queries sent ($((SWAPS_TO - SWAPS_FROM)) while the hints were being swapped), $good answered with $WWW_A"
bad=$(awk -v a="$WWW_A" '!($1 == 0 && $2 == a && NF == 2)' "$TMP/dig.log" | sort | uniq -c | head -n 5)
check "not one query dropped or wrong during the swaps: $good of $sent answered $WWW_A" \
	"other results (count, dig status, output): $(oneline "$bad")" \
	test "$good" = "$sent" -a $((SWAPS_TO - SWAPS_FROM)) -ge 20

# 5. pollux never wrote to the hints file.
check "the hints file is byte for byte, inode and mtime what was written, after each of $UNTOUCHED_N reloads" \
	"changed:$UNTOUCHED_BAD" test -z "$UNTOUCHED_BAD"

# 6. The counters: 9 loads (the start, 3 refused by reload-hints, SIGHUP, the mv, 2 in-place
# writes, reload-hints), 4 rejections, no fallback, 5 tables published, one 0.0.0.0.
check_counters "stats at the end" 9 4 0 5 unspecified=1

check "pollux still runs and answers" "pollux (pid $PX_PID) gone or silent" \
	eval 'lab_pid_alive "$PX_PID" && www_answers'
