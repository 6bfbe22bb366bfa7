/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The health verdict behind `polluxctl health` and GET /health on the metrics listener: what a
 * load balancer or an anycast announcer asks before it sends traffic here. pollux is healthy
 * when every worker has polled within CTL_HEALTH_POLL_MS (a parked or stuck worker serves
 * nobody), the port's link is up, root hints are loaded and, where recursion is on, a
 * resolution has succeeded within --health-resolve-window seconds (0: not checked).
 *
 * The verdict is a pure function of a snapshot, so each reason is tested alone; the snapshot
 * is taken from the running daemon by ctl_health_report. Control thread only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct ctl_state;

/* A worker that has not started a poll for this long is reported. */
#define CTL_HEALTH_POLL_MS 1000

struct ctl_health_worker {
	unsigned lcore_id;
	uint64_t poll_age_ms; /* since its last heartbeat (UINT64_MAX: it never polled) */
	bool parked;          /* in the pause wait (a port restart), not stuck */
};

struct ctl_health_snap {
	unsigned worker_count;
	const struct ctl_health_worker *workers;
	bool link_up;
	bool hints_loaded;
	bool recursion;            /* misses are resolved */
	uint32_t resolve_window_s; /* 0: the resolution check is off */
	bool resolved_ever;        /* a resolution succeeded since start */
	uint64_t resolve_age_ms;   /* since the last success, with resolved_ever */
};

/* What the control thread keeps between ticks to date the last successful resolution. */
struct ctl_health {
	uint64_t answered_seen; /* resolutions answered, summed over the workers, at the last tick */
	bool resolved_ever;
	uint64_t last_resolved_ms; /* dp_clock_ms() of the tick that saw the count move */
	uint64_t probe_ms;         /* when the last probe was asked for */
	uint64_t probes;           /* probes asked for */
};

/*
 * Writes "ok\n" to out when s is healthy, else one line per reason. Returns the number of
 * reasons (0: healthy). Pure.
 */
unsigned ctl_health_verdict(const struct ctl_health_snap *s, FILE *out);

/*
 * Whether a probe is due at now_ms: no resolution has succeeded for half the window (since
 * start, before the first), and none was asked for in that time either. Pure.
 */
bool ctl_health_probe_due(const struct ctl_health *h, uint32_t window_s, uint64_t now_ms);

/* Notes a successful resolution (any worker's: a client's, priming's or a probe's) since the
 * last call, and, with recursion and the window check on, asks the probing worker for a probe
 * when one is due. Call each control-loop tick. */
void ctl_health_tick(struct ctl_health *h, const struct ctl_state *st, uint64_t now_ms);

/*
 * Takes a snapshot of st (heartbeats, link, hints, resolutions as h dated them) and writes its
 * verdict to out. Returns 0 when healthy, 1 when not, -1 when out of memory.
 */
int ctl_health_report(const struct ctl_health *h, const struct ctl_state *st, FILE *out);

/* GET /health on the metrics listener (ctl_http_health_t): ctl_health_report for arg, a
 * struct ctl_state *. */
int ctl_health_http(void *arg, FILE *out);
