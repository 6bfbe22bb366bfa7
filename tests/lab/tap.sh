#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Assertion helpers shared by the lab tests: one 'ok - ...' or 'not ok - ... (details)' line per
# assertion, counted in PASSED and FAILED, which the test prints as 'N passed, M failed' at the
# end. Sourced, never run.

PASSED=0
FAILED=0

ok() {
	PASSED=$((PASSED + 1))
	echo "ok - $1"
}

not_ok() {
	FAILED=$((FAILED + 1))
	echo "not ok - $1 ($2)"
}

# check DESCRIPTION DETAILS CONDITION...: runs the condition as a command.
check() {
	local desc=$1 details=$2
	shift 2
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc" "$details"
	fi
}

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# Newlines as '|', so that multi-line output fits in one 'not ok' line.
oneline() {
	tr '\n' '|' <<<"$1"
}
