/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-server side of pollux/upstream.h: smoothed RTT and RTO (RFC 6298), backoff, server
 * selection, and the 0x20 fallback of servers that do not preserve case. A fixed table of
 * PX_UPQ_SERVERS entries in sets of PX_UPQ_SERVER_WAYS, LRU within a set.
 */
#include <errno.h>
#include <string.h>

#include <pollux/upstream.h>
#include "px_upstream_int.h"

static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* A seeded mix of the address: not a cryptographic MAC, but without the seed an attacker cannot
 * choose nameserver addresses that all land in one set. */
static uint32_t
server_set(const struct px_upq_table *t, const struct px_addr *a)
{
	uint64_t w0 = 0, w1 = 0;

	if (a->family == PX_AF_INET) {
		uint32_t v4;

		memcpy(&v4, a->a, 4);
		w0 = v4;
	} else {
		memcpy(&w0, a->a, 8);
		memcpy(&w1, a->a + 8, 8);
	}
	return (uint32_t)(mix64(mix64(t->hash_seed ^ a->family ^ w0) ^ w1) >> 32) &
	       (SERVER_SETS - 1);
}

const struct server *
upq_server_find(const struct px_upq_table *t, const struct px_addr *a)
{
	const struct server *set = &t->servers[server_set(t, a) * PX_UPQ_SERVER_WAYS];

	for (unsigned w = 0; w < PX_UPQ_SERVER_WAYS; w++)
		if (set[w].used && px_addr_eq(&set[w].addr, a))
			return &set[w];
	return NULL;
}

/* The entry for a, created (in a free way, else over the least recently used) if missing. */
static struct server *
server_get(struct px_upq_table *t, const struct px_addr *a, uint64_t now_ms)
{
	struct server *set = &t->servers[server_set(t, a) * PX_UPQ_SERVER_WAYS];
	struct server *victim = &set[0];

	for (unsigned w = 0; w < PX_UPQ_SERVER_WAYS; w++) {
		if (set[w].used && px_addr_eq(&set[w].addr, a)) {
			set[w].last_used_ms = now_ms;
			return &set[w];
		}
		if (!set[w].used) {
			if (victim->used)
				victim = &set[w];
		} else if (victim->used && set[w].last_used_ms < victim->last_used_ms) {
			victim = &set[w];
		}
	}
	if (victim->used)
		t->stats.server_evictions++;
	memset(victim, 0, sizeof(*victim));
	victim->addr = *a;
	victim->addr.port = 0; /* one entry per address, whatever the port */
	if (a->family == PX_AF_INET)
		memset(victim->addr.a + 4, 0, 12);
	victim->used = 1;
	victim->last_used_ms = now_ms;
	return victim;
}

/* The backoff steps still in force at now_ms: one is forgiven per PX_UPQ_BACKOFF_DECAY_MS since
 * the last timeout, so a server that failed once is tried again at its old speed later. */
static unsigned
server_backoff(const struct server *s, uint64_t now_ms)
{
	uint64_t quiet;

	if (s->backoff == 0)
		return 0;
	quiet = now_ms > s->last_timeout_ms ? now_ms - s->last_timeout_ms : 0;
	quiet /= PX_UPQ_BACKOFF_DECAY_MS;
	return quiet >= s->backoff ? 0 : s->backoff - (unsigned)quiet;
}

static uint32_t
clamp_rto(const struct px_upq_table *t, uint64_t ms)
{
	if (ms < t->rto_min_ms)
		return t->rto_min_ms;
	return ms > PX_UPQ_RTO_MAX_MS ? PX_UPQ_RTO_MAX_MS : (uint32_t)ms;
}

static uint32_t
server_rto(const struct px_upq_table *t, const struct server *s, uint64_t now_ms)
{
	uint64_t base;

	if (s == NULL)
		return clamp_rto(t, PX_UPQ_RTT_UNKNOWN_MS);
	if (s->has_sample) {
		/* RFC 6298 2.3: SRTT + max(G, 4 * RTTVAR), G being the 1 ms clock tick. */
		uint64_t var = 4ull * s->rttvar_us;

		base = ((uint64_t)s->srtt_us + (var < 1000 ? 1000 : var) + 999) / 1000;
	} else {
		base = PX_UPQ_RTT_UNKNOWN_MS;
	}
	return clamp_rto(t, (uint64_t)clamp_rto(t, base) << server_backoff(s, now_ms));
}

int
px_upq_set_rto_min(struct px_upq_table *t, uint32_t ms)
{
	if (ms < PX_UPQ_RTO_FLOOR_MIN_MS || ms > PX_UPQ_RTO_MAX_MS)
		return -EINVAL;
	t->rto_min_ms = ms;
	return 0;
}

uint32_t
px_upq_server_rto(const struct px_upq_table *t, const struct px_addr *a, uint64_t now_ms)
{
	return server_rto(t, upq_server_find(t, a), now_ms);
}

/* Folds an RTT sample into s's SRTT and RTTVAR (RFC 6298 2.2-2.3). */
static void
server_sample(struct server *s, uint32_t rtt_ms)
{
	uint32_t r_us;

	/* Keeps 7 * SRTT within 32 bits; no real RTT is a minute. */
	if (rtt_ms > 60000)
		rtt_ms = 60000;
	r_us = rtt_ms * 1000;
	if (!s->has_sample) {
		s->srtt_us = r_us;
		s->rttvar_us = r_us / 2;
		s->has_sample = 1;
	} else {
		uint32_t err = s->srtt_us > r_us ? s->srtt_us - r_us : r_us - s->srtt_us;

		s->rttvar_us = (3 * s->rttvar_us + err + 2) / 4;
		s->srtt_us = (7 * s->srtt_us + r_us + 4) / 8;
	}
}

void
px_upq_server_update(struct px_upq_table *t, const struct px_addr *a, uint32_t rtt_ms,
		     uint64_t now_ms)
{
	struct server *s = server_get(t, a, now_ms);

	server_sample(s, rtt_ms);
	s->backoff = 0;
}

void
px_upq_server_late(struct px_upq_table *t, const struct px_addr *a, uint32_t rtt_ms,
		   uint64_t now_ms)
{
	server_sample(server_get(t, a, now_ms), rtt_ms);
}

bool
upq_server_case_off(const struct server *s, uint64_t now_ms)
{
	return s != NULL && now_ms < s->case_off_until_ms;
}

bool
px_upq_server_case_failed(struct px_upq_table *t, const struct px_addr *a, uint64_t now_ms)
{
	struct server *s = server_get(t, a, now_ms);

	if (++s->case_strikes < PX_UPQ_CASE_STRIKES)
		return false;
	s->case_strikes = 0;
	s->case_off_until_ms = now_ms + PX_UPQ_CASE_FALLBACK_MS;
	t->stats.case_fallbacks++;
	return true;
}

bool
px_upq_server_case_off(const struct px_upq_table *t, const struct px_addr *a,
		       uint64_t now_ms)
{
	return upq_server_case_off(upq_server_find(t, a), now_ms);
}

void
px_upq_server_timeout(struct px_upq_table *t, const struct px_addr *a, uint64_t now_ms)
{
	struct server *s = server_get(t, a, now_ms);
	unsigned b = server_backoff(s, now_ms);

	s->backoff = (uint8_t)(b < PX_UPQ_MAX_BACKOFF ? b + 1 : PX_UPQ_MAX_BACKOFF);
	s->last_timeout_ms = now_ms;
	s->timeouts++;
}

/* Selection score in ms: lower is better. */
static uint64_t
server_score(const struct server *s, uint64_t now_ms)
{
	uint64_t base;

	if (s == NULL)
		return PX_UPQ_RTT_UNKNOWN_MS;
	base = s->has_sample ? (s->srtt_us + 500) / 1000 : PX_UPQ_RTT_UNKNOWN_MS;
	return base << server_backoff(s, now_ms);
}

int
px_upq_server_select(const struct px_upq_table *t, struct px_rand *r,
		     const struct px_addr *cand, unsigned n, uint64_t now_ms)
{
	unsigned unknown = 0, in_band = 0, pick;
	uint64_t best = UINT64_MAX;

	if (n == 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		const struct server *s = upq_server_find(t, &cand[i]);

		if (s == NULL)
			unknown++;
		else if (server_score(s, now_ms) < best)
			best = server_score(s, now_ms);
	}
	if (unknown > 0) {
		pick = px_rand_uniform(r, unknown);
		for (unsigned i = 0; i < n; i++)
			if (upq_server_find(t, &cand[i]) == NULL && pick-- == 0)
				return (int)i;
	}
	for (unsigned i = 0; i < n; i++)
		if (server_score(upq_server_find(t, &cand[i]), now_ms) <= best + PX_UPQ_SELECT_BAND_MS)
			in_band++;
	pick = px_rand_uniform(r, in_band);
	for (unsigned i = 0; i < n; i++)
		if (server_score(upq_server_find(t, &cand[i]), now_ms) <=
			best + PX_UPQ_SELECT_BAND_MS &&
		    pick-- == 0)
			return (int)i;
	return 0; /* not reached: the best candidate is always in its own band */
}

bool
px_upq_server_info(const struct px_upq_table *t, const struct px_addr *a, uint64_t now_ms,
		   struct px_upq_server_info *info)
{
	const struct server *s = upq_server_find(t, a);

	memset(info, 0, sizeof(*info));
	if (s == NULL)
		return false;
	info->known = true;
	info->has_sample = s->has_sample != 0;
	info->backoff = (uint8_t)server_backoff(s, now_ms);
	info->srtt_ms = (s->srtt_us + 500) / 1000;
	info->rttvar_ms = (s->rttvar_us + 500) / 1000;
	info->rto_ms = server_rto(t, s, now_ms);
	info->timeouts = s->timeouts;
	info->case_strikes = s->case_strikes;
	info->case_off = upq_server_case_off(s, now_ms);
	return true;
}
