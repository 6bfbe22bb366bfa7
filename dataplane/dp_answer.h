/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS answering on the worker: parse, look up, write the response in place. */
#pragma once

#include <stdint.h>

struct dp_client_addr;
struct dp_lcore;
struct rte_mbuf;

/* dp_answer_query()'s result when the query was handed to the resolver: nothing to send now. */
#define DP_ANSWER_CONSUMED UINT16_MAX

/*
 * Turns the DNS query in msg[0, len) into its response, in place; cap is how many bytes msg
 * can hold. Returns the response length, 0 when nothing is to be sent (the reason is
 * counted), or DP_ANSWER_CONSUMED when a cache miss was handed to the resolver (lc->miss set):
 * the answer will come later in a frame of its own, and m (the frame msg lies in, which says
 * who asked) may be freed. Worker only, as an online RCU reader; lc->now_ms must be current.
 */
uint16_t dp_answer_query(struct dp_lcore *lc, uint8_t *msg, uint16_t len, uint16_t cap,
			 const struct rte_mbuf *m);

/*
 * The same for a query that came over TCP (dp_tcp.h), from the client from (transport
 * DP_CLIENT_TCP): no truncation below cap (TCP carries up to 65535 bytes), and a miss handed to
 * the resolver is answered through the TCP thread. Worker only, as an online RCU reader.
 */
uint16_t dp_answer_query_tcp(struct dp_lcore *lc, uint8_t *msg, uint16_t len, uint16_t cap,
			     const struct dp_client_addr *from);
