/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the unit tests: DNS message and frame builders, EAL start-up. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Writes name ("www.example.test", "." or "a.b.") in wire form to dst; returns its length, or
 * 0 if it is not a valid name. */
unsigned px_test_name(uint8_t *dst, const char *name);

struct px_test_query {
	uint16_t id;
	uint16_t flags;   /* e.g. PX_DNS_RD */
	const char *name; /* presentation form, case kept */
	uint16_t qtype;
	uint16_t qclass;
	bool edns;
	uint16_t edns_bufsize;
};

/* Builds a DNS query message in buf; returns its length. */
uint16_t px_test_query(uint8_t *buf, const struct px_test_query *q);

/* Starts the EAL for a test process: --no-huge --no-shconf --no-pci --no-telemetry -m 512,
 * with `lcores` (e.g. "0,1" or "0@0,1@1,2@0") and any extra arguments (NULL-terminated). Exits
 * the process if it fails. */
void px_test_eal_init(const char *prog, const char *lcores, const char *const *extra);
