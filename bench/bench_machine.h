/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every benchmark prints first about the machine, as "key: value" lines: the CPU model and
 * the DPDK version. Each benchmark adds its own lines after it.
 */
#pragma once

#include <stdio.h>
#include <string.h>

#include <rte_version.h>

static inline void
bench_print_machine(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "model name", 10) == 0) {
				printf("cpu: %s", strchr(line, ':') + 2);
				break;
			}
		}
		fclose(f);
	}
	printf("dpdk: %s\n", rte_version());
}
