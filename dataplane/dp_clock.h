/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A monotonic millisecond clock from the TSC, shared by the cache (insertion and expiry) and the
 * workers. Workers read it once per burst, never per packet.
 */
#pragma once

#include <stdint.h>

#include <rte_cycles.h>

/* Set once by dp_clock_init() before any worker starts; read-only afterwards. */
extern uint64_t dp_clock_start_tsc;
extern uint64_t dp_clock_tsc_per_ms;

/* Control thread only, before workers start (and once per test process). Idempotent. */
void dp_clock_init(void);

/* Milliseconds since dp_clock_init(). Any thread. */
static inline uint64_t
dp_clock_ms(void)
{
	return (rte_rdtsc() - dp_clock_start_tsc) / dp_clock_tsc_per_ms;
}
