#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Installs a configuration file unless one is there already: once installed it is the
# operator's, and a second `meson install` must not overwrite their edits.
#
# Usage (meson.add_install_script): install_conf.sh SOURCE DESTINATION
set -eu
src=$1
dest=${DESTDIR:-}$2
if [ -e "$dest" ]; then
	echo "Keeping $dest (already there; the shipped version is $src)"
	exit 0
fi
echo "Installing $src to $dest"
install -D -m 0644 "$src" "$dest"
