#!/bin/sh
# Fails if the data-plane library imports anything a worker must never call: heap allocation,
# stdio, locks that sleep, or ldns (which allocates per field).
set -eu
lib=$1
bad=$(nm -u "$lib" | awk '{print $2}' | grep -E \
	'^(malloc|calloc|realloc|free|strdup|strndup|posix_memalign|aligned_alloc|printf|fprintf|puts|fputs|fwrite|syslog|pthread_mutex_.*|pthread_rwlock_.*|pthread_spin_.*|sem_.*|ldns_.*)$' \
	| sort -u || true)
if [ -n "$bad" ]; then
	echo "data-plane library $lib imports forbidden symbols:"
	echo "$bad"
	exit 1
fi
echo "data-plane library imports none of the forbidden symbols ($(nm -u "$lib" | wc -l) imports checked)"
