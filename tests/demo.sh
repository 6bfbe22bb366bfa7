#!/usr/bin/env bash
# The README's first command: installs what pollux needs (Debian 12, as root), builds it, and
# runs it in its built-in lab (network namespaces, a veth pair, DPDK on one end, dig on the
# other) to show it answering.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/deps.sh
px_install_deps
echo "building pollux in build/ ..."
px_build build -Dbuildtype=release
exec tests/lab/demo.sh
