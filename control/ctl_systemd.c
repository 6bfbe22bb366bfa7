/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

#include <pollux/hints.h>

#include "ctl_health.h"
#include "ctl_reload.h"
#include "ctl_stats.h"
#include "ctl_systemd.h"
#include "dp_lcore.h"

RTE_LOG_REGISTER(ctl_systemd_logtype, pollux.ctl.systemd, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_systemd_logtype, "pollux: " __VA_ARGS__)

/* Sends msg; the first refusal is logged (a manager that went away refuses them all), the
 * rest only counted. */
static void
send_msg(struct ctl_systemd *sd, const char *msg)
{
	bool first = sd->notify.failed == 0;

	if (ctl_notify_send(&sd->notify, msg) < 0 && first)
		LOG(WARNING, "notify_failed: the service manager's socket refused a message: %s; "
		    "later failures are not logged\n", strerror(sd->notify.last_error));
}

void
ctl_systemd_open(struct ctl_systemd *sd)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	char why[160];

	memset(sd, 0, sizeof(*sd));
	if (ctl_notify_open(&sd->notify, sock, why, sizeof(why)) != 0)
		fprintf(stderr, "pollux: NOTIFY_SOCKET='%s' ignored: %s\n", sock, why);
	if (ctl_notify_enabled(&sd->notify)) {
		sd->watchdog_usec = ctl_notify_watchdog_usec(getenv("WATCHDOG_USEC"),
							     getenv("WATCHDOG_PID"), getpid(), why,
							     sizeof(why));
		if (why[0] != '\0')
			fprintf(stderr, "pollux: no watchdog: %s\n", why);
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int
ctl_systemd_start(struct ctl_systemd *sd, uint32_t idle_sleep_us, unsigned worker_count,
		  uint64_t now_ms)
{
	/* The health check's limit plus one idle sleep, the longest a polling worker's heartbeat
	 * stands still: only a heartbeat still for longer is a stuck worker. */
	uint64_t stall_ms = CTL_HEALTH_POLL_MS + idle_sleep_us / 1000;
	int rc;

	if (!ctl_notify_enabled(&sd->notify))
		return 0;
	rc = ctl_watchdog_init(&sd->wd, sd->watchdog_usec, stall_ms, worker_count, now_ms);
	if (rc != 0)
		return rc;
	sd->started = true;
	if (sd->watchdog_usec != 0)
		LOG(INFO, "watchdog: WATCHDOG=1 every %" PRIu64 " ms while every worker polls "
		    "(a worker still for %" PRIu64 " ms stops them)\n", sd->wd.period_ms, stall_ms);
	return 0;
}

static bool
ready_now(const struct ctl_systemd *sd, const struct ctl_state *st)
{
	const struct px_hints *h = __atomic_load_n(&st->ctx->hints, __ATOMIC_ACQUIRE);

	/* The control thread is the only publisher of the hints: what it loaded stays. */
	return st->link_up && h != NULL && h->ns_count > 0 && ctl_watchdog_polling(&sd->wd);
}

void
ctl_systemd_tick(struct ctl_systemd *sd, const struct ctl_state *st, uint64_t now_ms)
{
	char msg[256];
	bool was_withholding = sd->wd.withholding;
	int stuck;

	if (!sd->started || (sd->ready && sd->wd.period_ms == 0))
		return;
	for (unsigned i = 0; i < st->worker_count; i++) {
		const struct dp_lcore *lc = st->workers[i];

		ctl_watchdog_observe(&sd->wd, i, __atomic_load_n(&lc->poll_tsc, __ATOMIC_RELAXED),
				     __atomic_load_n(&lc->parked, __ATOMIC_RELAXED), now_ms);
	}
	if (!sd->ready) {
		if (!ready_now(sd, st))
			return;
		sd->ready = true;
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=serving on port %u (%s) with %u "
			 "workers", st->ctx->port.port_id, st->driver, st->worker_count);
		send_msg(sd, msg);
		LOG(INFO, "ready: told the service manager\n");
	}
	switch (ctl_watchdog_check(&sd->wd, now_ms)) {
	case CTL_WATCHDOG_PING:
		send_msg(sd, "WATCHDOG=1");
		if (was_withholding) {
			LOG(NOTICE, "watchdog_resumed: every worker polls again\n");
			send_msg(sd, "STATUS=serving: every worker polls again");
		}
		break;
	case CTL_WATCHDOG_WITHHOLD:
		if (was_withholding)
			break;
		stuck = ctl_watchdog_stuck(&sd->wd, now_ms);
		/* One message for the log and for `systemctl status`: the log skips "STATUS=". */
		snprintf(msg, sizeof(msg), "STATUS=worker %d (lcore %u) has not polled for %" PRIu64
			 " ms: watchdog pings withheld", stuck, st->workers[stuck]->lcore_id,
			 now_ms - sd->wd.workers[stuck].moved_ms);
		LOG(WARNING, "watchdog_withheld: %s\n", msg + strlen("STATUS="));
		send_msg(sd, msg);
		break;
	case CTL_WATCHDOG_WAIT:
		break;
	}
}

void
ctl_systemd_reloading(struct ctl_systemd *sd)
{
	struct timespec ts;
	char msg[128];

	/* Before READY=1 the manager still waits for start-up: a reload must not end it. */
	if (!sd->ready)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=reloading the "
		 "configuration", (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	send_msg(sd, msg);
}

void
ctl_systemd_reloaded(struct ctl_systemd *sd, int rc)
{
	if (!sd->ready)
		return;
	send_msg(sd, rc == 0 ? "READY=1\nSTATUS=serving; configuration reloaded"
			     : "READY=1\nSTATUS=serving; a reload was refused, the previous "
			       "configuration stays (see the log)");
}

int
ctl_systemd_reload(struct ctl_systemd *sd, struct ctl_reload *r, const char *trigger, FILE *out)
{
	int rc;

	ctl_systemd_reloading(sd);
	rc = ctl_reload_run(r, trigger, out);
	ctl_systemd_reloaded(sd, rc);
	return rc;
}

void
ctl_systemd_stopping(struct ctl_systemd *sd)
{
	send_msg(sd, "STOPPING=1\nSTATUS=shutting down");
}

void
ctl_systemd_close(struct ctl_systemd *sd)
{
	ctl_notify_close(&sd->notify);
	ctl_watchdog_free(&sd->wd);
	sd->started = false;
}
