/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running daemon's state as the control thread sees it, and the views of it that
 * operators get: `polluxctl status`, `polluxctl stats` and the DPDK telemetry commands
 * /pollux/stats and /pollux/workers. Control thread (and telemetry thread: read-only) only.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <pollux/stats.h>

#include "ctl_cache_dump.h"
#include "ctl_config.h"
#include "ctl_zones.h"

struct ctl_health;
struct ctl_hints_state;
struct ctl_http;
struct ctl_prime_state;
struct ctl_tcp;
struct dp_ctx;
struct dp_lcore;
struct rte_mempool;

struct ctl_state {
	const struct ctl_config *cfg;
	struct dp_ctx *ctx;
	struct dp_lcore **workers; /* worker_count entries */
	unsigned worker_count;
	struct rte_mempool *pool;
	char driver[64];           /* the ethdev's driver name */
	uint64_t start_ms;         /* dp_clock_ms() when serving began */
	const struct ctl_zones *zones; /* the local zones in force (ctl_zones.h) */
	struct ctl_hints_state *hints;
	struct ctl_prime_state *prime; /* NULL in tests that do not prime */
	struct ctl_tcp *tcp;       /* NULL with --tcp off */
	struct ctl_access *access; /* access control (ctl_access.h) */
	struct ctl_reload *reload; /* polluxctl reload, SIGHUP (ctl_reload.h) */
	struct ctl_http *metrics;  /* --metrics-listen (ctl_http.h); NULL when off */
	struct ctl_health *health; /* dates the last successful resolution (ctl_health.h) */
	struct ctl_cache_dump dump; /* polluxctl dump-cache (ctl_cache_dump.h) */
	struct ctl_dnstap *dnstap; /* dnstap logging (ctl_dnstap.h); NULL when off */
	/* The port's link as the control thread's watch last saw it (main.c, port_watch): ctl
	 * only. A net_memif client whose peer went away is stopped and started again, which is
	 * the only way its PMD connects to the peer again. */
	bool port_restartable;     /* net_memif, not zero-copy */
	bool link_up;
	bool port_stopped;         /* a restart's rte_eth_dev_start failed: workers stay parked */
	uint64_t link_down_ms;     /* dp_clock_ms() when the link was last seen going down */
	uint64_t port_retry_ms;    /* when to try rte_eth_dev_start again, with port_stopped */
	uint64_t link_down_events;
	uint64_t port_restarts;        /* stop + start that succeeded */
	uint64_t port_restart_failures; /* start failed (the peer not there yet), or workers did
					 * not park in time */
};

/* Sums every worker's counters into total. */
void ctl_stats_total(const struct ctl_state *st, struct px_stats *total);

/* `polluxctl stats`: totals, then each worker, then mbufs and cache figures, as "name value"
 * lines. */
void ctl_stats_print(const struct ctl_state *st, FILE *out);

/* `polluxctl status`: what is running where, as "key: value" lines. */
void ctl_stats_print_status(const struct ctl_state *st, FILE *out);

/* Registers the telemetry commands, which read st until ctl_stats_telemetry_withdraw().
 * Returns 0 or -errno. */
int ctl_stats_telemetry_register(const struct ctl_state *st);

/* Makes the telemetry commands answer an error from now on, waiting for one in progress, so
 * that what they read can be freed. Call before freeing the workers or the mbuf pool. */
void ctl_stats_telemetry_withdraw(void);
