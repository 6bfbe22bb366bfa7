/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dp_upstream.h"

#define NONE UINT32_MAX
#define WHEEL_MASK (DP_UPQ_WHEEL_SLOTS - 1)
#define PORT_COUNT (DP_UPQ_PORT_MAX - DP_UPQ_PORT_MIN + 1)
/* Random (port, ID) draws before giving up. With at most 2^22 of 2^32 pairs in use, a draw
 * collides with probability under 1/1000, so eight in a row never happen in practice. */
#define DRAW_TRIES 8
#define SERVER_SETS (DP_UPQ_SERVERS / DP_UPQ_SERVER_WAYS)

_Static_assert((DP_UPQ_WHEEL_SLOTS & WHEEL_MASK) == 0, "wheel size is a power of two");
_Static_assert((SERVER_SETS & (SERVER_SETS - 1)) == 0, "server sets are a power of two");

enum slot_state {
	SLOT_FREE = 0,
	SLOT_PENDING,
};

/* One outstanding query. The fields a lookup compares come first, in the first cache line. */
struct slot {
	uint16_t sport;
	uint16_t id;
	uint32_t next; /* hash chain while pending; free list while free */
	uint32_t wheel_prev;
	uint32_t wheel_next;
	uint32_t gen; /* bumped at each allocation; the handle's upper half */
	uint8_t state;
	uint8_t qname_len;
	uint16_t server_port;
	uint16_t qtype;
	uint16_t qclass;
	uint32_t cookie;
	struct dp_upq_addr server;
	uint64_t sent_ms;
	uint64_t deadline_ms;
	uint8_t qname[PX_DNS_MAX_NAME];
};

struct server {
	struct dp_upq_addr addr;
	uint8_t used;
	uint8_t has_sample;
	uint8_t backoff;  /* steps as of last_timeout_ms; decays from there */
	uint32_t srtt_us; /* microseconds: fine enough that rounding never sticks */
	uint32_t rttvar_us;
	uint32_t timeouts;
	uint64_t last_used_ms; /* LRU within the set */
	uint64_t last_timeout_ms;
};

struct dp_upq_table {
	uint32_t capacity;
	uint32_t outstanding;
	uint32_t free_head;
	uint32_t index_shift; /* 32 - log2(index buckets) */
	uint64_t wheel_ms;    /* every deadline at or before it has been returned */
	uint64_t hash_seed;
	struct slot *slots; /* [capacity], after this struct in the same block */
	uint32_t *index;    /* [2^(32 - index_shift)] chain heads, after the slots */
	struct dp_upq_stats stats;
	uint8_t *owners; /* shared port owner map, or NULL with one worker */
	uint16_t *refs;  /* [65536] our queries per port, with owners */
	uint8_t self;
	uint32_t wheel[DP_UPQ_WHEEL_SLOTS]; /* heads of doubly linked lists of slots */
	struct server servers[DP_UPQ_SERVERS];
};

static uint32_t
index_buckets(uint32_t capacity)
{
	uint32_t n = 1;

	/* At least twice the capacity: chains stay about one entry long. */
	while (n < 2 * capacity)
		n <<= 1;
	return n;
}

size_t
dp_upq_memsize(uint32_t capacity)
{
	if (capacity == 0 || capacity > DP_UPQ_MAX_CAPACITY)
		return 0;
	return sizeof(struct dp_upq_table) + (size_t)capacity * sizeof(struct slot) +
	       (size_t)index_buckets(capacity) * sizeof(uint32_t);
}

struct dp_upq_table *
dp_upq_init(void *mem, uint32_t capacity, uint64_t now_ms, uint64_t hash_seed)
{
	struct dp_upq_table *t = mem;
	uint32_t buckets;

	if (mem == NULL || capacity == 0 || capacity > DP_UPQ_MAX_CAPACITY ||
	    (uintptr_t)mem % 8 != 0) {
		errno = EINVAL;
		return NULL;
	}
	buckets = index_buckets(capacity);
	memset(t, 0, sizeof(*t));
	t->capacity = capacity;
	t->index_shift = 32 - (uint32_t)__builtin_ctz(buckets);
	t->wheel_ms = now_ms;
	t->hash_seed = hash_seed;
	t->slots = (struct slot *)(t + 1);
	t->index = (uint32_t *)(t->slots + capacity);
	memset(t->slots, 0, (size_t)capacity * sizeof(struct slot));
	for (uint32_t i = 0; i < capacity; i++)
		t->slots[i].next = i + 1 < capacity ? i + 1 : NONE;
	t->free_head = 0;
	for (uint32_t i = 0; i < buckets; i++)
		t->index[i] = NONE;
	for (uint32_t i = 0; i < DP_UPQ_WHEEL_SLOTS; i++)
		t->wheel[i] = NONE;
	return t;
}

/* The ports and IDs are our own random draws, so a multiplicative hash spreads them evenly and
 * an attacker choosing a reply's (port, ID) only chooses which short chain to read. */
static inline uint32_t
index_bucket(const struct dp_upq_table *t, uint16_t port, uint16_t id)
{
	uint32_t key = (uint32_t)port << 16 | id;

	return (key * 0x9e3779b1u) >> t->index_shift;
}

static uint32_t
index_find(const struct dp_upq_table *t, uint16_t port, uint16_t id)
{
	uint32_t i = t->index[index_bucket(t, port, id)];

	while (i != NONE) {
		const struct slot *s = &t->slots[i];

		if (s->sport == port && s->id == id)
			return i;
		i = s->next;
	}
	return NONE;
}

static void
index_remove(struct dp_upq_table *t, uint32_t idx)
{
	struct slot *s = &t->slots[idx];
	uint32_t *link = &t->index[index_bucket(t, s->sport, s->id)];

	while (*link != idx)
		link = &t->slots[*link].next;
	*link = s->next;
}

static void
wheel_insert(struct dp_upq_table *t, uint32_t idx)
{
	struct slot *s = &t->slots[idx];
	uint32_t *head = &t->wheel[s->deadline_ms & WHEEL_MASK];

	s->wheel_prev = NONE;
	s->wheel_next = *head;
	if (*head != NONE)
		t->slots[*head].wheel_prev = idx;
	*head = idx;
}

static void
wheel_remove(struct dp_upq_table *t, uint32_t idx)
{
	struct slot *s = &t->slots[idx];

	if (s->wheel_prev != NONE)
		t->slots[s->wheel_prev].wheel_next = s->wheel_next;
	else
		t->wheel[s->deadline_ms & WHEEL_MASK] = s->wheel_next;
	if (s->wheel_next != NONE)
		t->slots[s->wheel_next].wheel_prev = s->wheel_prev;
}

static inline uint64_t
slot_handle(const struct slot *s, uint32_t idx)
{
	return (uint64_t)s->gen << 32 | idx;
}

/* Takes a pending slot out of the index and the wheel and puts it on the free list. */
static void
slot_release(struct dp_upq_table *t, uint32_t idx)
{
	struct slot *s = &t->slots[idx];

	index_remove(t, idx);
	wheel_remove(t, idx);
	s->state = SLOT_FREE;
	if (t->owners != NULL && --t->refs[s->sport] == 0)
		__atomic_store_n(&t->owners[s->sport], 0, __ATOMIC_RELEASE);
	s->next = t->free_head;
	t->free_head = idx;
	t->outstanding--;
}

static void
slot_copy_out(const struct slot *s, uint32_t idx, struct dp_upq_done *out)
{
	out->handle = slot_handle(s, idx);
	out->sent_ms = s->sent_ms;
	out->deadline_ms = s->deadline_ms;
	out->server = s->server;
	out->server_port = s->server_port;
	out->sport = s->sport;
	out->id = s->id;
	out->qtype = s->qtype;
	out->qclass = s->qclass;
	out->qname_len = s->qname_len;
	out->cookie = s->cookie;
	memcpy(out->qname, s->qname, s->qname_len);
}

static inline uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* True if name is exactly len bytes of well-formed uncompressed wire labels ending at the root. */
static bool
name_valid(const uint8_t *name, unsigned len)
{
	unsigned pos = 0;

	if (name == NULL || len == 0 || len > PX_DNS_MAX_NAME)
		return false;
	while (pos < len) {
		uint8_t l = name[pos];

		if (l == 0)
			return pos + 1 == len;
		if (l > PX_DNS_MAX_LABEL)
			return false;
		pos += 1u + l;
	}
	return false;
}

int
dp_upq_share_ports(struct dp_upq_table *t, uint8_t *owners, uint8_t self, uint16_t *refs)
{
	if (owners == NULL || refs == NULL || self == 0 || t->outstanding != 0)
		return -EINVAL;
	t->owners = owners;
	t->refs = refs;
	t->self = self;
	return 0;
}

/* Takes a free port in the shared map. False if another worker holds it. */
static inline bool
port_claim(struct dp_upq_table *t, uint16_t port)
{
	uint8_t expect = 0;

	return __atomic_compare_exchange_n(&t->owners[port], &expect, t->self, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

int
dp_upq_start(struct dp_upq_table *t, struct dp_rand *r, const struct dp_upq_query *q,
	     uint64_t now_ms, uint32_t timeout_ms, struct dp_upq_sent *out)
{
	uint16_t port = 0, id = 0;
	uint32_t idx;
	struct slot *s;
	unsigned tries;

	if ((q->server.family != DP_UPQ_AF_INET && q->server.family != DP_UPQ_AF_INET6) ||
	    !name_valid(q->qname, q->qname_len))
		return -EINVAL;
	if (t->free_head == NONE) {
		t->stats.table_full++;
		return -ENOSPC;
	}
	for (tries = 0; tries < DRAW_TRIES; tries++) {
		port = (uint16_t)(DP_UPQ_PORT_MIN + dp_rand_uniform(r, PORT_COUNT));
		id = (uint16_t)dp_rand_u32(r);
		if (t->owners != NULL && t->refs[port] == 0 && !port_claim(t, port)) {
			t->stats.port_busy++;
			continue;
		}
		/* A port we had just claimed has no query on it, so this cannot collide then. */
		if (index_find(t, port, id) == NONE)
			break;
		t->stats.id_collisions++;
	}
	if (tries == DRAW_TRIES)
		return -EAGAIN;
	if (t->owners != NULL)
		t->refs[port]++;

	idx = t->free_head;
	s = &t->slots[idx];
	t->free_head = s->next;
	s->gen = s->gen + 1 != 0 ? s->gen + 1 : 1; /* a handle is never 0 */
	s->state = SLOT_PENDING;
	s->sport = port;
	s->id = id;
	s->server = q->server;
	if (s->server.family == DP_UPQ_AF_INET)
		memset(s->server.a + 4, 0, 12);
	s->server_port = q->server_port;
	s->qtype = q->qtype;
	s->qclass = q->qclass;
	s->cookie = q->cookie;
	s->qname_len = q->qname_len;
	for (unsigned i = 0; i < q->qname_len; i++)
		s->qname[i] = lower(q->qname[i]);
	if (timeout_ms == 0)
		timeout_ms = 1;
	else if (timeout_ms > DP_UPQ_MAX_TIMEOUT_MS)
		timeout_ms = DP_UPQ_MAX_TIMEOUT_MS;
	s->sent_ms = now_ms;
	s->deadline_ms = now_ms + timeout_ms;
	/* A deadline at or behind the wheel would sit in a slot already passed and wait a whole
	 * turn: the caller's clock lags the one it last expired with. Due at the next tick. */
	if (s->deadline_ms <= t->wheel_ms)
		s->deadline_ms = t->wheel_ms + 1;

	s->next = t->index[index_bucket(t, port, id)];
	t->index[index_bucket(t, port, id)] = idx;
	wheel_insert(t, idx);
	t->outstanding++;
	t->stats.started++;

	out->handle = slot_handle(s, idx);
	out->deadline_ms = s->deadline_ms;
	out->sport = port;
	out->id = id;
	return 0;
}

static bool
question_eq(const struct slot *s, const struct dp_upq_reply *rep)
{
	if (rep->qname_len != s->qname_len || rep->qtype != s->qtype || rep->qclass != s->qclass ||
	    rep->qname == NULL)
		return false;
	/* The stored name is lower-cased; label length bytes (at most 63) are never letters. */
	for (unsigned i = 0; i < s->qname_len; i++)
		if (lower(rep->qname[i]) != s->qname[i])
			return false;
	return true;
}

enum dp_upq_verdict
dp_upq_match(struct dp_upq_table *t, const struct dp_upq_reply *rep, struct dp_upq_done *out)
{
	uint32_t idx = index_find(t, rep->dport, rep->id);
	const struct slot *s;

	if (idx == NONE) {
		t->stats.drop_no_such_query++;
		return DP_UPQ_NO_SUCH_QUERY;
	}
	s = &t->slots[idx];
	if (!dp_upq_addr_eq(&s->server, &rep->src)) {
		t->stats.drop_wrong_addr++;
		return DP_UPQ_WRONG_ADDR;
	}
	if (rep->sport != s->server_port) {
		t->stats.drop_wrong_port++;
		return DP_UPQ_WRONG_PORT;
	}
	if (rep->qname_len == 0 || !question_eq(s, rep)) {
		t->stats.drop_wrong_question++;
		return DP_UPQ_WRONG_QUESTION;
	}
	slot_copy_out(s, idx, out);
	slot_release(t, idx);
	t->stats.matched++;
	return DP_UPQ_MATCH;
}

bool
dp_upq_expire(struct dp_upq_table *t, uint64_t now_ms, struct dp_upq_done *out)
{
	/* After a long pause visit every slot once rather than every millisecond missed. Deadlines
	 * are compared, not assumed from the slot, so this stays exact. */
	if (now_ms > t->wheel_ms + DP_UPQ_WHEEL_SLOTS)
		t->wheel_ms = now_ms - DP_UPQ_WHEEL_SLOTS;
	while (t->wheel_ms < now_ms) {
		uint32_t idx = t->wheel[(t->wheel_ms + 1) & WHEEL_MASK];

		/* A slot also holds deadlines a whole turn (or more) ahead, queued while the clock
		 * ran ahead of the wheel: skip those. */
		while (idx != NONE && t->slots[idx].deadline_ms > now_ms)
			idx = t->slots[idx].wheel_next;
		if (idx != NONE) {
			slot_copy_out(&t->slots[idx], idx, out);
			slot_release(t, idx);
			t->stats.timeouts++;
			return true;
		}
		t->wheel_ms++;
	}
	return false;
}

int
dp_upq_cancel(struct dp_upq_table *t, uint64_t handle)
{
	uint32_t idx = (uint32_t)handle;
	const struct slot *s;

	if (idx >= t->capacity)
		return -ENOENT;
	s = &t->slots[idx];
	if (s->state != SLOT_PENDING || s->gen != (uint32_t)(handle >> 32))
		return -ENOENT;
	slot_release(t, idx);
	t->stats.cancelled++;
	return 0;
}

uint32_t
dp_upq_outstanding(const struct dp_upq_table *t)
{
	return t->outstanding;
}

const struct dp_upq_stats *
dp_upq_stats(const struct dp_upq_table *t)
{
	return &t->stats;
}

/* Server RTT table. */

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
server_set(const struct dp_upq_table *t, const struct dp_upq_addr *a)
{
	uint64_t w0 = 0, w1 = 0;

	if (a->family == DP_UPQ_AF_INET) {
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

static const struct server *
server_find(const struct dp_upq_table *t, const struct dp_upq_addr *a)
{
	const struct server *set = &t->servers[server_set(t, a) * DP_UPQ_SERVER_WAYS];

	for (unsigned w = 0; w < DP_UPQ_SERVER_WAYS; w++)
		if (set[w].used && dp_upq_addr_eq(&set[w].addr, a))
			return &set[w];
	return NULL;
}

/* The entry for a, created (in a free way, else over the least recently used) if missing. */
static struct server *
server_get(struct dp_upq_table *t, const struct dp_upq_addr *a, uint64_t now_ms)
{
	struct server *set = &t->servers[server_set(t, a) * DP_UPQ_SERVER_WAYS];
	struct server *victim = &set[0];

	for (unsigned w = 0; w < DP_UPQ_SERVER_WAYS; w++) {
		if (set[w].used && dp_upq_addr_eq(&set[w].addr, a)) {
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
	if (a->family == DP_UPQ_AF_INET)
		memset(victim->addr.a + 4, 0, 12);
	victim->used = 1;
	victim->last_used_ms = now_ms;
	return victim;
}

/* The backoff steps still in force at now_ms: one is forgiven per DP_UPQ_BACKOFF_DECAY_MS since
 * the last timeout, so a server that failed once is tried again at its old speed later. */
static unsigned
server_backoff(const struct server *s, uint64_t now_ms)
{
	uint64_t quiet;

	if (s->backoff == 0)
		return 0;
	quiet = now_ms > s->last_timeout_ms ? now_ms - s->last_timeout_ms : 0;
	quiet /= DP_UPQ_BACKOFF_DECAY_MS;
	return quiet >= s->backoff ? 0 : s->backoff - (unsigned)quiet;
}

static uint32_t
clamp_rto(uint64_t ms)
{
	if (ms < DP_UPQ_RTO_MIN_MS)
		return DP_UPQ_RTO_MIN_MS;
	return ms > DP_UPQ_RTO_MAX_MS ? DP_UPQ_RTO_MAX_MS : (uint32_t)ms;
}

static uint32_t
server_rto(const struct server *s, uint64_t now_ms)
{
	uint64_t base;

	if (s == NULL)
		return clamp_rto(DP_UPQ_RTT_UNKNOWN_MS);
	if (s->has_sample) {
		/* RFC 6298 2.3: SRTT + max(G, 4 * RTTVAR), G being the 1 ms clock tick. */
		uint64_t var = 4ull * s->rttvar_us;

		base = ((uint64_t)s->srtt_us + (var < 1000 ? 1000 : var) + 999) / 1000;
	} else {
		base = DP_UPQ_RTT_UNKNOWN_MS;
	}
	return clamp_rto(clamp_rto(base) << server_backoff(s, now_ms));
}

uint32_t
dp_upq_server_rto(const struct dp_upq_table *t, const struct dp_upq_addr *a, uint64_t now_ms)
{
	return server_rto(server_find(t, a), now_ms);
}

void
dp_upq_server_update(struct dp_upq_table *t, const struct dp_upq_addr *a, uint32_t rtt_ms,
		     uint64_t now_ms)
{
	struct server *s = server_get(t, a, now_ms);
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
	s->backoff = 0;
}

void
dp_upq_server_timeout(struct dp_upq_table *t, const struct dp_upq_addr *a, uint64_t now_ms)
{
	struct server *s = server_get(t, a, now_ms);
	unsigned b = server_backoff(s, now_ms);

	s->backoff = (uint8_t)(b < DP_UPQ_MAX_BACKOFF ? b + 1 : DP_UPQ_MAX_BACKOFF);
	s->last_timeout_ms = now_ms;
	s->timeouts++;
}

/* Selection score in ms: lower is better. */
static uint64_t
server_score(const struct server *s, uint64_t now_ms)
{
	uint64_t base;

	if (s == NULL)
		return DP_UPQ_RTT_UNKNOWN_MS;
	base = s->has_sample ? (s->srtt_us + 500) / 1000 : DP_UPQ_RTT_UNKNOWN_MS;
	return base << server_backoff(s, now_ms);
}

int
dp_upq_server_select(const struct dp_upq_table *t, struct dp_rand *r,
		     const struct dp_upq_addr *cand, unsigned n, uint64_t now_ms)
{
	unsigned unknown = 0, in_band = 0, pick;
	uint64_t best = UINT64_MAX;

	if (n == 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		const struct server *s = server_find(t, &cand[i]);

		if (s == NULL)
			unknown++;
		else if (server_score(s, now_ms) < best)
			best = server_score(s, now_ms);
	}
	if (unknown > 0) {
		pick = dp_rand_uniform(r, unknown);
		for (unsigned i = 0; i < n; i++)
			if (server_find(t, &cand[i]) == NULL && pick-- == 0)
				return (int)i;
	}
	for (unsigned i = 0; i < n; i++)
		if (server_score(server_find(t, &cand[i]), now_ms) <= best + DP_UPQ_SELECT_BAND_MS)
			in_band++;
	pick = dp_rand_uniform(r, in_band);
	for (unsigned i = 0; i < n; i++)
		if (server_score(server_find(t, &cand[i]), now_ms) <=
			best + DP_UPQ_SELECT_BAND_MS &&
		    pick-- == 0)
			return (int)i;
	return 0; /* not reached: the best candidate is always in its own band */
}

bool
dp_upq_server_info(const struct dp_upq_table *t, const struct dp_upq_addr *a, uint64_t now_ms,
		   struct dp_upq_server_info *info)
{
	const struct server *s = server_find(t, a);

	memset(info, 0, sizeof(*info));
	if (s == NULL)
		return false;
	info->known = true;
	info->has_sample = s->has_sample != 0;
	info->backoff = (uint8_t)server_backoff(s, now_ms);
	info->srtt_ms = (s->srtt_us + 500) / 1000;
	info->rttvar_ms = (s->rttvar_us + 500) / 1000;
	info->rto_ms = server_rto(s, now_ms);
	info->timeouts = s->timeouts;
	return true;
}
