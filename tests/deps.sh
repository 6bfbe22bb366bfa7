#!/usr/bin/env bash
# Sourced by tests/run_all.sh and tests/demo.sh: installs, as root on Debian 12, the packages
# pollux builds, tests and demonstrates with. Installs only what is missing, so a second run
# does not touch the network.
PX_DEPS=(gcc clang libclang-rt-14-dev meson ninja-build pkg-config
	dpdk dpdk-dev libdpdk-dev libldns-dev check
	dnsutils iproute2 ethtool iputils-ping procps python3
	nsd unbound tcpdump nftables curl prometheus
	libfstrm-dev libprotobuf-c-dev protobuf-c-compiler fstrm-bin)

px_install_deps() {
	local missing=() p
	for p in "${PX_DEPS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]}; run this as root so it can apt-get them" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
}

# Configures (once) and builds a build directory: px_build DIR [meson options...]
px_build() {
	local dir=$1 log
	shift
	log=${TMPDIR:-/tmp}/pollux-$(basename "$dir")
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$log.setup.log" 2>&1 ||
			{ cat "$log.setup.log"; return 1; }
	fi
	ninja -C "$dir" >"$log.build.log" 2>&1 || { tail -50 "$log.build.log"; return 1; }
}
