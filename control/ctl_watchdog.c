/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_watchdog.h"

int
ctl_watchdog_init(struct ctl_watchdog *wd, uint64_t watchdog_usec, uint64_t stall_ms,
		  unsigned worker_count, uint64_t now_ms)
{
	memset(wd, 0, sizeof(*wd));
	wd->workers = calloc(worker_count + 1, sizeof(*wd->workers));
	if (wd->workers == NULL)
		return -ENOMEM;
	wd->worker_count = worker_count;
	/* Half the interval, as sd_watchdog_enabled(3) advises; at least 1 ms so that a tiny
	 * interval pings every tick rather than never. */
	wd->period_ms = watchdog_usec == 0 ? 0 : watchdog_usec / 2000 > 0 ? watchdog_usec / 2000 : 1;
	wd->stall_ms = stall_ms;
	wd->next_ping_ms = now_ms;
	for (unsigned i = 0; i < worker_count; i++)
		wd->workers[i].moved_ms = now_ms;
	return 0;
}

void
ctl_watchdog_free(struct ctl_watchdog *wd)
{
	free(wd->workers);
	wd->workers = NULL;
	wd->worker_count = 0;
}

void
ctl_watchdog_observe(struct ctl_watchdog *wd, unsigned i, uint64_t beat, bool parked,
		     uint64_t now_ms)
{
	struct ctl_watchdog_worker *w;

	if (i >= wd->worker_count)
		return;
	w = &wd->workers[i];
	if (beat != w->beat) {
		/* A worker not started yet shows 0, and one that just started the TSC it stored on
		 * entry: only a change from one TSC to the next is a poll. */
		if (w->beat != 0)
			w->moved = true;
		w->beat = beat;
		w->moved_ms = now_ms;
	} else if (parked) {
		w->moved_ms = now_ms;
	}
}

bool
ctl_watchdog_polling(const struct ctl_watchdog *wd)
{
	for (unsigned i = 0; i < wd->worker_count; i++)
		if (!wd->workers[i].moved)
			return false;
	return true;
}

int
ctl_watchdog_stuck(const struct ctl_watchdog *wd, uint64_t now_ms)
{
	for (unsigned i = 0; i < wd->worker_count; i++)
		if (now_ms > wd->workers[i].moved_ms &&
		    now_ms - wd->workers[i].moved_ms > wd->stall_ms)
			return (int)i;
	return -1;
}

enum ctl_watchdog_verdict
ctl_watchdog_check(struct ctl_watchdog *wd, uint64_t now_ms)
{
	if (wd->period_ms == 0 || now_ms < wd->next_ping_ms)
		return CTL_WATCHDOG_WAIT;
	if (ctl_watchdog_stuck(wd, now_ms) >= 0) {
		if (!wd->withholding)
			wd->withheld++;
		wd->withholding = true;
		return CTL_WATCHDOG_WITHHOLD;
	}
	wd->withholding = false;
	wd->pings++;
	wd->next_ping_ms = now_ms + wd->period_ms;
	return CTL_WATCHDOG_PING;
}
