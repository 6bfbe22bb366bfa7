/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dnstap on the worker: a message seen (a client's query or response, an upstream query or
 * reply) becomes a record on the worker's ring (pollux/dnstap.h), when its type is logged and
 * the sample picks it. Nothing is encoded, allocated or written here: the logging thread
 * (control/ctl_dnstap.c) does that. A full ring drops the record (dnstap_dropped).
 *
 * With dnstap off, lc->tap is NULL and every hook is one predictable branch on it: the call
 * sites test it themselves (dp_tap_on) and call dp_tap_log only when it is set.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

#include <pollux/dnstap.h>
#include <pollux/wire.h>

#include "dp_lcore.h"

/* One worker's dnstap state, allocated by the control thread on the worker's socket. The
 * worker writes the countdowns; a reload stores types and sample (ctl_dnstap_commit). */
struct dp_tap {
	struct px_tap_ring *ring; /* this worker produces, the logging thread consumes */
	uint32_t types;           /* PX_TAP_BIT of each type logged; a reload may store */
	uint32_t sample;          /* 1 in sample of each type is logged, >= 1; likewise */
	uint32_t countdown[PX_TAP_TYPE_MAX]; /* per type: messages until the next logged one */
};

/* Who talked to whom: the initiator (the client, or pollux asking upstream) and the
 * responder. Addresses are 4 or 16 bytes as family says; ports in host order, 0 if unknown. */
struct dp_tap_flow {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;  /* enum px_tap_proto */
	uint16_t query_port, response_port;
	const void *query_addr, *response_addr;
};

/* Whether dnstap is on for this worker: the one branch a hook costs when it is off. */
static inline bool
dp_tap_on(const struct dp_lcore *lc)
{
	return unlikely(lc->tap != NULL);
}

/* pollux's own address of a family (4 or 6), as the other end of a flow. */
static inline const void *
dp_tap_self(const struct dp_lcore *lc, uint8_t family)
{
	return family == 4 ? (const void *)&lc->ctx->port.ip4 : (const void *)lc->ctx->port.ip6;
}

/* Sets up t over ring: every type in `types` logged, 1 in sample (0 counts as 1). Control
 * thread, before launch; also tests. */
void dp_tap_init(struct dp_tap *t, struct px_tap_ring *ring, uint32_t types, uint32_t sample);

/* dp_tap_log's copy into the ring, out of line: only the messages the sample picks get here. */
void dp_tap_record(struct dp_lcore *lc, enum px_tap_type type, const struct dp_tap_flow *f,
		   const uint8_t *msg, uint16_t len);

/*
 * Logs msg (len bytes) of the given type for flow f, if the type is on and the sample picks
 * it: copies it into a ring record (dnstap_logged), or counts the record dropped when the ring
 * is full (dnstap_dropped). A message longer than PX_TAP_MSG_MAX keeps its header and
 * question only (dnstap_cut). Worker only, with lc->tap set; allocates and blocks on nothing.
 * The type and sample checks are inline: a message the sample skips costs a decrement.
 */
static inline void
dp_tap_log(struct dp_lcore *lc, enum px_tap_type type, const struct dp_tap_flow *f,
	   const uint8_t *msg, uint16_t len)
{
	struct dp_tap *t = lc->tap;
	/* types and sample change under a reload (ctl_dnstap_commit): one relaxed load each. A
	 * countdown left above a new, smaller sample ends at once. */
	uint32_t sample;

	if (!(__atomic_load_n(&t->types, __ATOMIC_RELAXED) & PX_TAP_BIT(type)))
		return;
	sample = __atomic_load_n(&t->sample, __ATOMIC_RELAXED);
	if (--t->countdown[type] != 0 && t->countdown[type] <= sample)
		return;
	t->countdown[type] = sample;
	dp_tap_record(lc, type, f, msg, len);
}

/* A client's message (CLIENT_QUERY or CLIENT_RESPONSE): the client asked pollux's port 53.
 * client_port in host order. Worker only, with lc->tap set. */
static inline void
dp_tap_client(struct dp_lcore *lc, enum px_tap_type type, uint8_t family, uint8_t proto,
	      const void *client, uint16_t client_port, const uint8_t *msg, uint16_t len)
{
	const struct dp_tap_flow f = {
		.family = family,
		.proto = proto,
		.query_port = client_port,
		.response_port = PX_DNS_PORT,
		.query_addr = client,
		.response_addr = dp_tap_self(lc, family),
	};

	dp_tap_log(lc, type, &f, msg, len);
}

/* An upstream message (RESOLVER_QUERY or RESOLVER_RESPONSE) between pollux's local_port (host
 * order, 0 when the kernel chose it) and server:server_port. Worker only, with lc->tap set. */
static inline void
dp_tap_upstream(struct dp_lcore *lc, enum px_tap_type type, uint8_t family, uint8_t proto,
		uint16_t local_port, const void *server, uint16_t server_port,
		const uint8_t *msg, uint16_t len)
{
	const struct dp_tap_flow f = {
		.family = family,
		.proto = proto,
		.query_port = local_port,
		.response_port = server_port,
		.query_addr = dp_tap_self(lc, family),
		.response_addr = server,
	};

	dp_tap_log(lc, type, &f, msg, len);
}
