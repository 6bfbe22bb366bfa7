#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# `meson install` into a scratch DESTDIR: the binaries, both man pages, the example
# configuration, the EAL arguments file and the systemd unit land where they belong and are
# listed; the unit has every path filled in; `systemd-analyze verify` accepts it with no word
# of complaint (run on a copy whose paths point into the DESTDIR, so the binaries it checks
# and the man pages its Documentation= names are the installed ones); and a second install
# keeps a configuration the operator edited.
#
# Usage: check_install.sh BUILD_DIR SOURCE_ROOT
set -u
build=$1 root=$2
dest=$(mktemp -d /tmp/pollux-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
failed=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

if ! meson install -C "$build" --no-rebuild --destdir "$dest" >"$dest.log" 2>&1; then
	cat "$dest.log"
	rm -f "$dest.log"
	echo "FAIL: meson install"
	exit 1
fi
rm -f "$dest.log"
echo "installed:"
(cd "$dest" && find . -type f | sort | sed 's/^\./  /')

one() { # one PATTERN: the single installed file whose path ends in PATTERN
	find "$dest" -type f -path "*$1" | head -1
}
for f in /bin/pollux /bin/polluxctl /man8/pollux.8 /man8/polluxctl.8 /pollux/pollux.conf \
	/default/pollux /systemd/system/pollux.service; do
	[ -n "$(one "$f")" ] || fail "nothing installed as *$f"
done
[ "$failed" -eq 0 ] || exit 1

unit=$(one /systemd/system/pollux.service)
conf=$(one /pollux/pollux.conf)
cmp -s "$conf" "$root/dist/pollux.conf" || fail "the installed pollux.conf is not dist/pollux.conf"
if grep -nE '@[a-z]+@' "$unit"; then
	fail "placeholders left in $unit"
fi
# The unit names the installed binaries and configuration.
start=$(sed -nE 's/^ExecStart=([^ ]+) .*--config ([^ ]+).*/\1 \2/p' "$unit")
[ -x "$dest${start% *}" ] || fail "ExecStart's ${start% *} is not the installed pollux"
[ "$dest${start#* }" = "$conf" ] || fail "--config ${start#* } is not the installed $conf"
reload=$(sed -nE 's/^ExecReload=([^ ]+) reload$/\1/p' "$unit")
[ -x "$dest$reload" ] || fail "ExecReload's '$reload' is not the installed polluxctl"

if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$dest/verify"
	sed -E "s#^(Exec[A-Za-z]*=[-@:+!]*)/#\\1$dest/#; s#^(EnvironmentFile=-?)/#\\1$dest/#" \
		"$unit" >"$dest/verify/pollux.service"
	man8=$(dirname "$(one /man8/pollux.8)")
	out=$(MANPATH=$(dirname "$man8") systemd-analyze verify "$dest/verify/pollux.service" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		fail "systemd-analyze verify (exit $rc): $out"
	else
		echo "systemd-analyze verify: accepted"
	fi
else
	fail "systemd-analyze is not installed (Debian: systemd)"
fi

echo "# edited" >>"$conf"
if ! meson install -C "$build" --no-rebuild --destdir "$dest" >/dev/null 2>&1; then
	fail "a second meson install"
elif [ "$(tail -1 "$conf")" != "# edited" ]; then
	fail "a second install overwrote the edited $conf"
fi

[ "$failed" -eq 0 ] && echo "ok: $(find "$dest" -type f ! -path '*/verify/*' | wc -l) files installed"
[ "$failed" -eq 0 ]
