/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What GET /metrics on the metrics listener (--metrics-listen, ctl_http.h) answers: every
 * figure of `polluxctl stats` in the Prometheus text format (ctl_prom.h), per-worker counters
 * labelled by worker, and the listener's own counters. Control thread only.
 */
#pragma once

#include <stdio.h>

/* A ctl_http_render_t: arg is the struct ctl_state (ctl_stats.h). Returns 0, or -1 when memory
 * ran out. */
int ctl_metrics_render(void *arg, FILE *out);
