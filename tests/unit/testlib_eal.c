/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "testlib.h"

void
px_test_eal_init(const char *prog, const char *lcores, const char *const *extra)
{
	const char *args[32] = {prog, "--no-huge", "--no-shconf", "--no-pci", "--no-telemetry",
				"-m", "512", "--lcores", lcores, "--log-level", "lib.*:error",
				"--file-prefix", prog};
	int n = 13;

	for (; extra != NULL && *extra != NULL && n < 31; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	if (rte_eal_init(n, (char **)args) < 0) {
		fprintf(stderr, "%s: EAL init failed: %s\n", prog, rte_strerror(rte_errno));
		exit(2);
	}
}
