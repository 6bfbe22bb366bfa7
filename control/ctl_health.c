/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdlib.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include <pollux/hints.h>

#include "ctl_config.h"
#include "ctl_health.h"
#include "ctl_stats.h"
#include "dp_clock.h"
#include "dp_lcore.h"

unsigned
ctl_health_verdict(const struct ctl_health_snap *s, FILE *out)
{
	unsigned reasons = 0;

	for (unsigned i = 0; i < s->worker_count; i++) {
		const struct ctl_health_worker *w = &s->workers[i];

		if (w->poll_age_ms <= CTL_HEALTH_POLL_MS)
			continue;
		reasons++;
		if (w->poll_age_ms == UINT64_MAX)
			fprintf(out, "worker %u (lcore %u) has never polled\n", i, w->lcore_id);
		else
			fprintf(out, "worker %u (lcore %u) has not polled for %" PRIu64 " ms (%s)\n",
				i, w->lcore_id, w->poll_age_ms,
				w->parked ? "parked" : "stuck or descheduled");
	}
	if (!s->link_up) {
		reasons++;
		fprintf(out, "link down\n");
	}
	if (!s->hints_loaded) {
		reasons++;
		fprintf(out, "no root hints loaded\n");
	}
	if (s->recursion && s->resolve_window_s != 0) {
		if (!s->resolved_ever) {
			reasons++;
			fprintf(out, "no resolution has succeeded since start\n");
		} else if (s->resolve_age_ms > (uint64_t)s->resolve_window_s * 1000) {
			reasons++;
			fprintf(out, "no resolution has succeeded for %" PRIu64 " s (window %u s)\n",
				s->resolve_age_ms / 1000, s->resolve_window_s);
		}
	}
	if (reasons == 0)
		fprintf(out, "ok\n");
	return reasons;
}

/* Every answered resolution counts: a client's, and priming's (which ends in the same place,
 * dp_miss.c). */
static uint64_t
answered_total(const struct ctl_state *st)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < st->worker_count; i++)
		sum += __atomic_load_n(&st->workers[i]->stats.rec_answered, __ATOMIC_RELAXED);
	return sum;
}

static bool
recursion_on(const struct ctl_state *st)
{
	return st->worker_count > 0 && st->workers[0]->miss != NULL;
}

bool
ctl_health_probe_due(const struct ctl_health *h, uint32_t window_s, uint64_t now_ms)
{
	uint64_t half = (uint64_t)window_s * 500;
	uint64_t last = RTE_MAX(h->resolved_ever ? h->last_resolved_ms : 0, h->probe_ms);

	return window_s != 0 && now_ms >= last + half;
}

void
ctl_health_tick(struct ctl_health *h, const struct ctl_state *st, uint64_t now_ms)
{
	uint64_t answered = answered_total(st);
	uint32_t window_s = st->cfg->health_resolve_window_s;

	if (answered != h->answered_seen) {
		h->answered_seen = answered;
		h->resolved_ever = true;
		h->last_resolved_ms = now_ms;
	}
	if (recursion_on(st) && ctl_health_probe_due(h, window_s, now_ms)) {
		h->probe_ms = now_ms;
		h->probes++;
		__atomic_store_n(&st->ctx->probe_seq, (uint32_t)h->probes, __ATOMIC_RELAXED);
	}
}

int
ctl_health_report(const struct ctl_health *h, const struct ctl_state *st, FILE *out)
{
	struct ctl_health_worker *w = calloc(st->worker_count + 1, sizeof(*w));
	const struct px_hints *hints = __atomic_load_n(&st->ctx->hints, __ATOMIC_ACQUIRE);
	uint64_t now_tsc = rte_rdtsc(), now_ms = dp_clock_ms();
	struct ctl_health_snap s = {
		.worker_count = st->worker_count,
		.workers = w,
		.link_up = st->link_up,
		/* The control thread is the only publisher of the hints: what it loads stays. */
		.hints_loaded = hints != NULL && hints->ns_count > 0,
		.recursion = recursion_on(st),
		.resolve_window_s = st->cfg->health_resolve_window_s,
		.resolved_ever = h->resolved_ever,
		.resolve_age_ms = now_ms - h->last_resolved_ms,
	};

	if (w == NULL)
		return -1;
	for (unsigned i = 0; i < st->worker_count; i++) {
		const struct dp_lcore *lc = st->workers[i];
		uint64_t beat = __atomic_load_n(&lc->poll_tsc, __ATOMIC_RELAXED);

		w[i].lcore_id = lc->lcore_id;
		w[i].parked = __atomic_load_n(&lc->parked, __ATOMIC_SEQ_CST);
		/* Another core's TSC may read a little ahead of ours: that is a fresh beat. */
		if (beat == 0)
			w[i].poll_age_ms = UINT64_MAX;
		else
			w[i].poll_age_ms = now_tsc > beat ? (now_tsc - beat) / dp_clock_tsc_per_ms : 0;
	}
	int rc = ctl_health_verdict(&s, out) == 0 ? 0 : 1;

	free(w);
	return rc;
}

int
ctl_health_http(void *arg, FILE *out)
{
	const struct ctl_state *st = arg;

	return ctl_health_report(st->health, st, out);
}
