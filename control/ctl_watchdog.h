/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * When the control thread may tell the service manager that pollux is alive (WATCHDOG=1), and
 * when it says the workers are polling (READY=1). A control thread that pings on its own would
 * keep a pollux with a stuck worker alive for ever; so each tick the control thread shows this
 * module every worker's heartbeat (struct dp_lcore's poll_tsc, stored at the top of each loop
 * iteration), and a ping is due only while every heartbeat has moved within stall_ms. A stuck
 * worker means no ping, and the manager restarts pollux once WatchdogSec has passed.
 *
 * A worker the control thread parked itself (a port restart, main.c) counts as alive: it waits
 * in a loop of its own, and restarting pollux would not bring the port back sooner.
 *
 * Pure: heartbeats are opaque numbers compared for change and time is what the caller passes,
 * so the decision is tested without DPDK or sleeping. Control thread only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ctl_watchdog_worker {
	uint64_t beat;     /* the heartbeat last seen */
	uint64_t moved_ms; /* when it was last seen to move (or the worker parked); init time first */
	bool moved;        /* it moved at least once since init: the worker polls */
};

enum ctl_watchdog_verdict {
	CTL_WATCHDOG_WAIT,     /* no ping due (none asked for, or half the interval not over) */
	CTL_WATCHDOG_PING,     /* send WATCHDOG=1 now */
	CTL_WATCHDOG_WITHHOLD, /* a ping is due but a worker is stuck: send nothing */
};

struct ctl_watchdog {
	uint64_t period_ms;    /* half the manager's interval; 0: no watchdog */
	uint64_t stall_ms;     /* a heartbeat still this long is a stuck worker */
	uint64_t next_ping_ms; /* the next ping is due at this time */
	unsigned worker_count;
	struct ctl_watchdog_worker *workers;
	bool withholding; /* the last due ping was withheld (set until one is sent again) */
	uint64_t pings;
	uint64_t withheld; /* times pings stopped for a stuck worker */
};

/*
 * Sets wd up for worker_count workers at now_ms. watchdog_usec is the manager's interval
 * ($WATCHDOG_USEC; 0: no pings, the heartbeats are still followed for READY=1). Returns 0, or
 * -ENOMEM.
 */
int ctl_watchdog_init(struct ctl_watchdog *wd, uint64_t watchdog_usec, uint64_t stall_ms,
		      unsigned worker_count, uint64_t now_ms);

void ctl_watchdog_free(struct ctl_watchdog *wd);

/* Shows wd worker i's heartbeat, and whether the control thread has parked it, at now_ms. */
void ctl_watchdog_observe(struct ctl_watchdog *wd, unsigned i, uint64_t beat, bool parked,
			  uint64_t now_ms);

/* Whether every worker has polled (its heartbeat moved) since init. */
bool ctl_watchdog_polling(const struct ctl_watchdog *wd);

/* The first worker whose heartbeat has not moved for more than stall_ms at now_ms, or -1. */
int ctl_watchdog_stuck(const struct ctl_watchdog *wd, uint64_t now_ms);

/*
 * The verdict at now_ms. After a ping the next one is due half the interval later; a withheld
 * ping stays due, so it goes out at the first tick every worker moves again.
 */
enum ctl_watchdog_verdict ctl_watchdog_check(struct ctl_watchdog *wd, uint64_t now_ms);
