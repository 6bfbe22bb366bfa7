/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * polluxctl dump-cache: the cache as a master file, streamed over the client's control
 * connection. The daemon never opens a path a client names (a control-socket user could
 * otherwise have pollux write anywhere it may): polluxctl writes the file itself.
 *
 * The dump runs beside the control thread's other work: each tick walks a slice of the table
 * (dp_cache_walk), copying entries under their bucket's lock, formats them after the lock is
 * gone, and sends what the socket takes without blocking. A tick spends at most
 * CTL_CACHE_DUMP_TICK_US formatting, and no more is formatted while the client has not read the
 * last slice, so a huge cache or a slow reader costs the control thread a bounded slice per
 * tick (the whole dump takes longer instead). One dump at a time; a client that reads nothing
 * for CTL_CACHE_DUMP_STALL_MS is dropped.
 *
 * The dump is not a snapshot: entries inserted, replaced or removed while it runs may or may
 * not appear. Local-zone data (configuration, not cache) and expired entries are left out.
 * The last line is PX_CTL_DUMP_END "N entries", which polluxctl checks to tell a complete dump
 * from a cut one. Control thread only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pollux/ctl_proto.h>

#include "dp_cache.h"

#define CTL_CACHE_DUMP_TICK_US 5000
#define CTL_CACHE_DUMP_STALL_MS 10000

struct ctl_api;

struct ctl_cache_dump {
	struct dp_cache *cache;
	struct ctl_api *api; /* whose connection a dump takes over (ctl_api_detach) */
	bool running;        /* a dump runs (a zeroed struct is idle) */
	int fd;              /* the client's connection while a dump runs */
	uint32_t pos;        /* next bucket to walk */
	uint64_t entries;    /* written so far */
	bool ended;          /* the end line is in buf */
	char *buf;           /* formatted, not yet sent: buf[off, len) */
	size_t len, off;
	int64_t last_ms;     /* ctl_sockio_now_ms() of the last progress */
	/* The slice being copied (visit callback): entries, malloc'ed copies. */
	struct dp_cache_entry **copies;
	size_t copy_count, copy_cap;
	bool copy_failed;
	uint64_t aborted;    /* dumps that ended before their end line (tests read it) */
};

/* Sets up an idle dump for cache c, taking connections from api. */
void ctl_cache_dump_init(struct ctl_cache_dump *d, struct dp_cache *c, struct ctl_api *api);

/*
 * From inside the control-socket handler: takes the client's connection over and starts a
 * dump on it. Returns 0, or -EBUSY (a dump runs already) or -errno with the reason written to
 * err (the handler's reply body; the server then answers ERR as usual).
 */
int ctl_cache_dump_start(struct ctl_cache_dump *d, FILE *err);

/* Starts a dump on fd (a connected, non-blocking stream socket the dump now owns): what
 * ctl_cache_dump_start() does after taking the connection. For tests. Returns 0 or -EBUSY. */
int ctl_cache_dump_start_fd(struct ctl_cache_dump *d, int fd);

/* Moves a running dump on (a slice, and what the socket takes). Once per control-loop tick. */
void ctl_cache_dump_tick(struct ctl_cache_dump *d);

/* Whether a dump runs. */
bool ctl_cache_dump_busy(const struct ctl_cache_dump *d);

/* Ends a running dump (closing its connection: the client sees no end line) and frees its
 * buffers. Before the cache is freed. */
void ctl_cache_dump_stop(struct ctl_cache_dump *d);
