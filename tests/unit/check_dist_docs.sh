#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The documentation the install ships cannot drift from the code: every option `pollux --help`
# lists (one table in ctl_config.c drives it, getopt and the config-file keys) must appear in
# the example configuration, in pollux(8) and in README.md, and every option and command
# `polluxctl --help` lists in polluxctl(8). Each missing one is named.
#
# Usage: check_dist_docs.sh POLLUX POLLUXCTL SOURCE_ROOT
set -u
pollux=$1 polluxctl=$2 root=$3
conf=$root/dist/pollux.conf man=$root/dist/pollux.8 ctlman=$root/dist/polluxctl.8
missing=0

miss() {
	echo "missing: $*"
	missing=$((missing + 1))
}

# A roff source spells "--name" as "\-\-name" (an unescaped hyphen may render as a dash):
# compare with the escapes taken out.
unroff() {
	sed 's/\\-/-/g' "$1"
}

in_roff() { # in_roff FILE OPTION
	unroff "$1" | grep -qE -- "--$2([^a-z0-9-]|$)"
}

opts=$("$pollux" --help | sed -nE 's/^  (-h, )?--([a-z0-9-]+).*/\2/p')
[ -n "$opts" ] || { echo "no options parsed from $pollux --help"; exit 1; }
for o in $opts; do
	case $o in
	# Not settings of a file: the file says where they are given instead.
	config | help | check-hints)
		grep -qE -- "--$o([^a-z0-9-]|$)" "$conf" || miss "--$o in $conf (a comment)" ;;
	*)
		grep -qE "^#?$o:" "$conf" || miss "'#$o: VALUE' in $conf" ;;
	esac
	in_roff "$man" "$o" || miss "\\-\\-$o in $man"
	grep -qE -- "--$o([^a-z0-9-]|$)" "$root/README.md" || miss "--$o in README.md"
done

ctl_opts=$("$polluxctl" --help | sed -nE 's/^  -[a-z], --([a-z-]+).*/\1/p')
cmds=$("$polluxctl" --help | sed -nE '/^Commands/,/^$/s/^  ([a-z][a-z-]*)( .*)?$/\1/p')
if [ -z "$ctl_opts" ] || [ -z "$cmds" ]; then
	echo "nothing parsed from $polluxctl --help"
	exit 1
fi
for o in $ctl_opts; do
	in_roff "$ctlman" "$o" || miss "\\-\\-$o in $ctlman"
done
for c in $cmds; do
	# A command is a tagged paragraph of its own: ".B name" or ".BI name ARGS".
	unroff "$ctlman" | grep -qE "^\\.BI? \"?$c( |\"|$)" ||
		miss "'.B $c' in $ctlman"
done

echo "$(echo "$opts" | wc -w) pollux options, $(echo "$ctl_opts" | wc -w) polluxctl options" \
	"and $(echo "$cmds" | wc -w) commands checked; $missing missing"
[ "$missing" -eq 0 ]
