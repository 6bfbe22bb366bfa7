/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "dp_nexthop.h"

#define READ_TRIES 4

static inline uint32_t
table_hash(const struct px_addr *addr)
{
	uint32_t h = 2166136261u ^ addr->family; /* FNV-1a: addresses are ours to choose */

	for (unsigned i = 0; i < px_addr_len(addr->family); i++)
		h = (h ^ addr->a[i]) * 16777619u;
	return h;
}

static inline struct dp_nexthop_entry *
slot(struct dp_nexthop_table *t, uint32_t h, unsigned way)
{
	return &t->e[(h + way) & (DP_NEXTHOP_SLOTS - 1)];
}

static inline void
count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

/* Enters e as its writer, or returns false if another writer is inside. */
static bool
write_begin(struct dp_nexthop_entry *e, uint32_t *seq)
{
	uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);

	if ((s & 1) != 0)
		return false;
	if (!__atomic_compare_exchange_n(&e->seq, &s, s + 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return false;
	/* The fields written next must not be seen before the odd sequence. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*seq = s + 1;
	return true;
}

static inline void
write_end(struct dp_nexthop_entry *e, uint32_t seq)
{
	__atomic_store_n(&e->seq, seq + 1, __ATOMIC_RELEASE);
}

/* A consistent copy of e, or false if writers kept it busy. */
static bool
read_entry(const struct dp_nexthop_entry *e, struct dp_nexthop_entry *out)
{
	for (unsigned i = 0; i < READ_TRIES; i++) {
		uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

		if ((s & 1) != 0)
			continue;
		memcpy(out, e, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s)
			return true;
	}
	return false;
}

static inline bool
same(const struct dp_nexthop_entry *c, const struct px_addr *addr)
{
	return px_addr_eq(&c->addr, addr);
}

void
dp_nexthop_table_init(struct dp_nexthop_table *t)
{
	memset(t, 0, sizeof(*t));
}

/* Finds addr's slot: returns its way, or -1 with *busy set if a slot could not be read. */
static int
find(struct dp_nexthop_table *t, const struct px_addr *addr, uint32_t h,
     struct dp_nexthop_entry *copy, bool *busy)
{
	*busy = false;
	for (unsigned w = 0; w < DP_NEXTHOP_WAYS; w++) {
		if (!read_entry(slot(t, h, w), copy)) {
			*busy = true;
			continue;
		}
		if (same(copy, addr))
			return (int)w;
	}
	return -1;
}

enum dp_nexthop_state
dp_nexthop_table_lookup(struct dp_nexthop_table *t, const struct px_addr *addr,
	      struct rte_ether_addr *mac, uint64_t *learned_ms)
{
	struct dp_nexthop_entry c;
	bool busy;

	if (find(t, addr, table_hash(addr), &c, &busy) < 0) {
		if (busy)
			count(&t->stats.reader_busy);
		return DP_NEXTHOP_ABSENT;
	}
	if (!c.resolved)
		return DP_NEXTHOP_PENDING;
	rte_ether_addr_copy(&c.mac, mac);
	if (learned_ms != NULL)
		*learned_ms = c.learned_ms;
	return DP_NEXTHOP_RESOLVED;
}

/* Creates addr's entry in a free way, else over the unpinned entry learned longest ago.
 * Returns the entry with its writer held (*seq), or NULL. */
static struct dp_nexthop_entry *
create(struct dp_nexthop_table *t, const struct px_addr *addr, uint32_t h, bool pinned,
       uint32_t *seq)
{
	struct dp_nexthop_entry *victim = NULL, c;
	uint64_t oldest = UINT64_MAX;

	for (unsigned w = 0; w < DP_NEXTHOP_WAYS; w++) {
		struct dp_nexthop_entry *e = slot(t, h, w);

		if (!read_entry(e, &c) || c.pinned)
			continue;
		if (c.addr.family == PX_AF_NONE) {
			victim = e;
			break;
		}
		if (c.learned_ms < oldest) {
			oldest = c.learned_ms;
			victim = e;
		}
	}
	if (victim == NULL || !write_begin(victim, seq)) {
		count(&t->stats.writer_busy);
		return NULL;
	}
	/* Another writer may have filled it between the read and the CAS: fine, it is replaced
	 * with what we know now. */
	if (victim->addr.family != PX_AF_NONE) {
		if (victim->pinned) {
			write_end(victim, *seq);
			count(&t->stats.writer_busy);
			return NULL;
		}
		count(&t->stats.evicted);
	}
	/* Whole, with the bytes past an IPv4 address and the port zero: an entry has no port. */
	px_addr_set(&victim->addr, addr->family, addr->a, 0);
	victim->resolved = false;
	victim->pinned = pinned;
	memset(&victim->mac, 0, sizeof(victim->mac));
	victim->learned_ms = 0;
	victim->probe_ms = 0;
	return victim;
}

bool
dp_nexthop_table_want(struct dp_nexthop_table *t, const struct px_addr *addr, bool pinned,
	    uint64_t now_ms)
{
	uint32_t h = table_hash(addr), seq;
	struct dp_nexthop_entry c, *e;
	bool busy, probe;
	int w = find(t, addr, h, &c, &busy);

	if (w < 0) {
		if (busy)
			return false; /* the next query asks again */
		e = create(t, addr, h, pinned, &seq);
		if (e == NULL)
			return false;
	} else {
		bool stale = !c.resolved || now_ms - c.learned_ms >= DP_NEXTHOP_REFRESH_MS;

		if (!stale || (c.probe_ms != 0 && now_ms - c.probe_ms < DP_NEXTHOP_PROBE_MS))
			return false;
		e = slot(t, h, (unsigned)w);
		if (!write_begin(e, &seq)) {
			count(&t->stats.writer_busy);
			return false;
		}
		if (!same(e, addr)) { /* evicted and reused meanwhile */
			write_end(e, seq);
			return false;
		}
	}
	probe = e->probe_ms == 0 || now_ms - e->probe_ms >= DP_NEXTHOP_PROBE_MS;
	if (probe)
		e->probe_ms = now_ms != 0 ? now_ms : 1;
	write_end(e, seq);
	return probe;
}

bool
dp_nexthop_table_learn(struct dp_nexthop_table *t, const struct px_addr *addr,
	     const struct rte_ether_addr *mac, uint64_t now_ms)
{
	uint32_t h = table_hash(addr), seq;
	struct dp_nexthop_entry c, *e;
	bool busy;
	int w;

	if (!rte_is_unicast_ether_addr(mac) || rte_is_zero_ether_addr(mac))
		return false;
	w = find(t, addr, h, &c, &busy);
	if (w < 0)
		return false;
	if (c.resolved && rte_is_same_ether_addr(&c.mac, mac) &&
	    now_ms - c.learned_ms < DP_NEXTHOP_REFRESH_MS / 2)
		return true; /* nothing new: spare the other workers a cache line bounce */
	e = slot(t, h, (unsigned)w);
	if (!write_begin(e, &seq)) {
		count(&t->stats.writer_busy);
		return true;
	}
	if (!same(e, addr)) {
		write_end(e, seq);
		return false;
	}
	if (e->resolved && rte_is_same_ether_addr(&e->mac, mac)) {
		count(&t->stats.refreshed);
	} else {
		rte_ether_addr_copy(mac, &e->mac);
		count(&t->stats.learned);
	}
	e->resolved = true;
	e->learned_ms = now_ms;
	write_end(e, seq);
	return true;
}
