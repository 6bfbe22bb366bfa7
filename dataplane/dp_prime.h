/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Priming (RFC 8109) hand-off: how the worker that primes tells the control thread what it got.
 *
 * The split: a worker owns the I/O (it has the port, the gateway's MAC and the outstanding-query
 * table), so it sends ". NS" (RD clear, EDNS 1232, like every upstream query) to a root server
 * from the hints, as a resolution of its own with no client (dp_recurse.c: the resolver picks
 * the server and fails over to the next one on timeout). The control thread owns validation
 * (ldns is not allowed on workers) and the cache writes. So the worker copies every reply that
 * matched a priming query (for a truncated one, the reply its TCP retry got instead), raw,
 * into a message from a small fixed pool and puts it on a ring; when the priming resolution
 * fails (every root server timed out, ...) it sends a failure message instead. The control
 * thread (control/ctl_prime.c) validates a reply with the rules of a hints file and, if it is
 * good, inserts the root cut (dp_cut.h) into the cache: that is the primed set. The hints table
 * itself is never changed by priming.
 *
 * The worker learns the outcome from the cache, not from a reply channel: before priming again
 * it looks for a fresh root cut. That keeps this a one-way, lossy-but-counted channel: a full
 * pool or ring drops the message (counted by the worker: rec_prime_feed_full) and priming is
 * simply retried after the backoff.
 */
#pragma once

#include <stdint.h>

#include "dp_upstream.h"

/* A priming reply larger than this is dropped (counted): EDNS 1232 was asked for, and the whole
 * IANA root set with every address is about 1 KiB. */
#define DP_PRIME_MSG_MAX 4096
#define DP_PRIME_REQUESTS 16

enum dp_prime_kind {
	DP_PRIME_REPLY = 1, /* a reply that matched a priming query: msg[0, len) */
	DP_PRIME_FAIL,      /* the priming resolution ended without an answer: fail */
};

struct dp_prime_msg {
	uint64_t now_ms;               /* when the worker got it (dp_clock_ms) */
	uint8_t kind;                  /* enum dp_prime_kind */
	uint8_t fail;                  /* DP_PRIME_FAIL: enum dp_resolve_fail */
	struct dp_upq_addr server;     /* DP_PRIME_REPLY: who sent it */
	uint16_t len;
	uint8_t msg[DP_PRIME_MSG_MAX];
};

struct dp_prime_feed;

/* Creates the hand-off (pool and ring of DP_PRIME_REQUESTS messages) on socket. Returns NULL
 * with errno set. Control thread, before workers start. */
struct dp_prime_feed *dp_prime_feed_create(const char *name, int socket);

/* Frees it and whatever is queued. NULL is a no-op. Control thread, workers stopped. */
void dp_prime_feed_free(struct dp_prime_feed *f);

/* Queues a raw priming reply. Returns 0, -EMSGSIZE (over DP_PRIME_MSG_MAX) or -ENOBUFS (pool
 * or ring full). Any worker. */
int dp_prime_put_reply(struct dp_prime_feed *f, const uint8_t *dns, uint16_t len,
		       const struct dp_upq_addr *server, uint64_t now_ms);

/* Queues a failure (fail: enum dp_resolve_fail). Returns 0 or -ENOBUFS. Any worker. */
int dp_prime_put_fail(struct dp_prime_feed *f, uint8_t fail, uint64_t now_ms);

/* Takes the oldest queued message into out. Returns 1, or 0 when none is queued. Control
 * thread only (single consumer). */
int dp_prime_take(struct dp_prime_feed *f, struct dp_prime_msg *out);
