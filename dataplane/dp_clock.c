/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_cycles.h>

#include "dp_clock.h"

uint64_t dp_clock_start_tsc;
uint64_t dp_clock_tsc_per_ms = 1;

void
dp_clock_init(void)
{
	uint64_t hz = rte_get_tsc_hz();

	if (dp_clock_start_tsc != 0)
		return;
	dp_clock_tsc_per_ms = hz >= 1000 ? hz / 1000 : 1;
	dp_clock_start_tsc = rte_rdtsc();
}
