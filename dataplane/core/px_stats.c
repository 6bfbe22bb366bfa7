/* SPDX-License-Identifier: BSD-3-Clause */
#include <pollux/stats.h>

const char *const px_stats_names[PX_STATS_COUNT] = {
#define PX_STATS_NAME(name, help) #name,
	PX_STATS_FIELDS(PX_STATS_NAME)
#undef PX_STATS_NAME
};

const char *const px_stats_help[PX_STATS_COUNT] = {
#define PX_STATS_HELP(name, help) help,
	PX_STATS_FIELDS(PX_STATS_HELP)
#undef PX_STATS_HELP
};

void
px_stats_add(struct px_stats *dst, const struct px_stats *src)
{
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;

	for (unsigned i = 0; i < PX_STATS_COUNT; i++)
		d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}
