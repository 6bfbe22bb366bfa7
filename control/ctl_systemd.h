/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollux under systemd (dist/pollux.service, Type=notify), with no libsystemd: what it tells
 * the service manager and when (ctl_notify.h sends, ctl_watchdog.h decides).
 *
 *   READY=1      once the port is started and its link up, the root hints are loaded and every
 *                worker has polled: from then on pollux answers;
 *   RELOADING=1  and READY=1 again around a reload of the configuration (polluxctl reload,
 *                SIGHUP), with MONOTONIC_USEC so that systemd 253's Type=notify-reload can use
 *                it too (systemd 252 ignores the field);
 *   WATCHDOG=1   every half $WATCHDOG_USEC while every worker's heartbeat moves, and never
 *                while one is stuck;
 *   STOPPING=1   when shutdown begins;
 *   STATUS=      a line for `systemctl status` with each of these.
 *
 * Without $NOTIFY_SOCKET every call does nothing. Control thread only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_notify.h"
#include "ctl_watchdog.h"

struct ctl_reload;
struct ctl_state;

struct ctl_systemd {
	struct ctl_notify notify;
	struct ctl_watchdog wd;
	uint64_t watchdog_usec; /* 0: the manager asked for no watchdog */
	bool started;           /* ctl_systemd_start ran: the workers are followed */
	bool ready;             /* READY=1 was sent */
};

/*
 * Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID, then removes them from the
 * environment, so that no process pollux starts speaks to the manager in its name. A bad value
 * is reported on stderr once and ignored. Call first thing in main, while pollux has one thread
 * (unsetenv is not thread-safe).
 */
void ctl_systemd_open(struct ctl_systemd *sd);

/* Follows the workers' heartbeats from now on (for READY=1 and the watchdog); idle_sleep_us is
 * --idle-sleep-us. Call just before the workers launch. Returns 0 or -ENOMEM. */
int ctl_systemd_start(struct ctl_systemd *sd, uint32_t idle_sleep_us, unsigned worker_count,
		      uint64_t now_ms);

/* Each control-loop tick: READY=1 when pollux has become ready, and WATCHDOG=1 when one is due
 * and every worker moves (a STATUS= line says which worker holds it back). */
void ctl_systemd_tick(struct ctl_systemd *sd, const struct ctl_state *st, uint64_t now_ms);

/* Around a reload of the configuration: RELOADING=1 before, READY=1 after, whatever the
 * outcome (rc from the reload: 0 applied, else refused and the old configuration kept). */
void ctl_systemd_reloading(struct ctl_systemd *sd);
void ctl_systemd_reloaded(struct ctl_systemd *sd, int rc);

/* ctl_reload_run(r, trigger, out) between the two: returns what it returns. */
int ctl_systemd_reload(struct ctl_systemd *sd, struct ctl_reload *r, const char *trigger,
		       FILE *out);

/* STOPPING=1: shutdown has begun. */
void ctl_systemd_stopping(struct ctl_systemd *sd);

void ctl_systemd_close(struct ctl_systemd *sd);
