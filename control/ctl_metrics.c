/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_http.h"
#include "ctl_metrics.h"
#include "ctl_prom.h"
#include "ctl_stats.h"
#include "dp_lcore.h"

static const char *const http_names[] = {
#define HTTP_NAME(name, help) #name,
	CTL_HTTP_STATS_FIELDS(HTTP_NAME)
#undef HTTP_NAME
};
static const char *const http_help[] = {
#define HTTP_HELP(name, help) help,
	CTL_HTTP_STATS_FIELDS(HTTP_HELP)
#undef HTTP_HELP
};

static void
write_http(FILE *out, const struct ctl_http_stats *hs)
{
	const uint64_t *v = (const uint64_t *)hs;
	char name[CTL_PROM_NAME_MAX], stat[64];

	for (size_t i = 0; i < sizeof(http_names) / sizeof(http_names[0]); i++) {
		snprintf(stat, sizeof(stat), "metrics_%s", http_names[i]);
		ctl_prom_name(name, sizeof(name), stat, "_total");
		ctl_prom_family(out, name, "counter", http_help[i]);
		fprintf(out, "%s %" PRIu64 "\n", name, v[i]);
	}
}

int
ctl_metrics_render(void *arg, FILE *out)
{
	const struct ctl_state *st = arg;
	struct px_stats *w = calloc(st->worker_count + 1, sizeof(*w));
	char *text = NULL;
	size_t text_len = 0;
	FILE *f;

	if (w == NULL)
		return -1;
	/* One snapshot per worker (each counter read once, untorn), written in one go. */
	for (unsigned i = 0; i < st->worker_count; i++)
		px_stats_add(&w[i], &st->workers[i]->stats);
	ctl_prom_write_workers(out, w, st->worker_count);
	free(w);
	/* Everything else `polluxctl stats` prints, from the same function, so that nothing it
	 * shows can be missing here. */
	f = open_memstream(&text, &text_len);
	if (f == NULL)
		return -1;
	ctl_stats_print(st, f);
	if (fclose(f) != 0) {
		free(text);
		return -1;
	}
	ctl_prom_write_stats_text(out, text);
	free(text);
	if (st->metrics != NULL)
		write_http(out, ctl_http_stats(st->metrics));
	return 0;
}
