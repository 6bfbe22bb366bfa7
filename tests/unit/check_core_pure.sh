#!/bin/sh
# The core library (dataplane/core/) is DPDK-free and ldns-free: fails if it imports or defines
# any rte_ or ldns symbol. Workers call it per packet, so it must not allocate, log with stdio or
# lock either, with one exception: px_acl.o, whose table builder runs on the control thread
# (workers use only the inline lookup in pollux/acl.h).
set -eu
lib=$1
bad=$(nm -A "$lib" | awk '{print $1, $NF}' | grep -E ' (rte_|ldns_)' | sort -u || true)
if [ -n "$bad" ]; then
	echo "core library $lib uses DPDK or ldns:"
	echo "$bad"
	exit 1
fi
bad=$(nm -A -u "$lib" | awk '{print $1, $NF}' | grep -Ev '^[^ ]*px_acl(\.c)?\.o:? ' | grep -E \
	' (malloc|calloc|realloc|free|strdup|strndup|posix_memalign|aligned_alloc|printf|fprintf|puts|fputs|fwrite|syslog|pthread_mutex_.*|pthread_rwlock_.*|pthread_spin_.*|sem_.*)$' \
	| sort -u || true)
if [ -n "$bad" ]; then
	echo "core library $lib imports symbols a worker must never call:"
	echo "$bad"
	exit 1
fi
echo "core library: no rte_ or ldns_ symbol, no forbidden import outside px_acl.o ($(nm -u "$lib" | grep -c .) imports checked)"
