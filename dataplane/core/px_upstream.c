/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The outstanding upstream queries of pollux/upstream.h: slots, the (port, ID) and question
 * indexes, the timer wheel, RFC 5452 matching and 0x20. The per-server table is in
 * px_upstream_srv.c.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <pollux/upstream.h>
#include "px_upstream_int.h"

#define WHEEL_MASK (PX_UPQ_WHEEL_SLOTS - 1)
#define PORT_COUNT (PX_UPQ_PORT_MAX - PX_UPQ_PORT_MIN + 1)
/* Random (port, ID) draws before giving up. With at most 2^22 of 2^32 pairs in use, a draw
 * collides with probability under 1/1000, so eight in a row never happen in practice. */
#define DRAW_TRIES 8

_Static_assert((PX_UPQ_WHEEL_SLOTS & WHEEL_MASK) == 0, "wheel size is a power of two");

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
px_upq_memsize(uint32_t capacity)
{
	if (capacity == 0 || capacity > PX_UPQ_MAX_CAPACITY)
		return 0;
	return sizeof(struct px_upq_table) + (size_t)capacity * sizeof(struct slot) +
	       2 * (size_t)index_buckets(capacity) * sizeof(uint32_t);
}

struct px_upq_table *
px_upq_init(void *mem, uint32_t capacity, uint64_t now_ms, uint64_t hash_seed)
{
	struct px_upq_table *t = mem;
	uint32_t buckets;

	if (mem == NULL || capacity == 0 || capacity > PX_UPQ_MAX_CAPACITY ||
	    (uintptr_t)mem % 8 != 0) {
		errno = EINVAL;
		return NULL;
	}
	buckets = index_buckets(capacity);
	memset(t, 0, sizeof(*t));
	t->capacity = capacity;
	t->index_shift = 32 - (uint32_t)__builtin_ctz(buckets);
	t->wheel_ms = now_ms;
	t->rto_min_ms = PX_UPQ_RTO_MIN_MS;
	t->hash_seed = hash_seed;
	/* Both halves from the one secret: splitmix64's finaliser makes the second. */
	t->qkey.k0 = hash_seed;
	t->qkey.k1 = (hash_seed ^ 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
	t->qkey.k1 = (t->qkey.k1 ^ (t->qkey.k1 >> 31)) * 0x94d049bb133111ebull;
	t->slots = (struct slot *)(t + 1);
	t->index = (uint32_t *)(t->slots + capacity);
	t->qindex = t->index + buckets;
	memset(t->slots, 0, (size_t)capacity * sizeof(struct slot));
	for (uint32_t i = 0; i < capacity; i++)
		t->slots[i].next = i + 1 < capacity ? i + 1 : NONE;
	t->free_head = 0;
	for (uint32_t i = 0; i < buckets; i++) {
		t->index[i] = NONE;
		t->qindex[i] = NONE;
	}
	for (uint32_t i = 0; i < PX_UPQ_WHEEL_SLOTS; i++)
		t->wheel[i] = NONE;
	return t;
}

/* The ports and IDs are our own random draws, so a multiplicative hash spreads them evenly and
 * an attacker choosing a reply's (port, ID) only chooses which short chain to read. */
static inline uint32_t
index_bucket(const struct px_upq_table *t, uint16_t port, uint16_t id)
{
	uint32_t key = (uint32_t)port << 16 | id;

	return (key * 0x9e3779b1u) >> t->index_shift;
}

static uint32_t
index_find(const struct px_upq_table *t, uint16_t port, uint16_t id)
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
index_remove(struct px_upq_table *t, uint32_t idx)
{
	struct slot *s = &t->slots[idx];
	uint32_t *link = &t->index[index_bucket(t, s->sport, s->id)];

	while (*link != idx)
		link = &t->slots[*link].next;
	*link = s->next;
}

static inline uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/*
 * The question index's hash: SipHash-1-3 of the question under the table's secret
 * (px_siphash13_question), as the resolver's own question index hashes; this is the one place
 * the table computes it. The server is left out so that every server's query for one question
 * shares a chain, which px_upq_find_server() reads once for all its candidates.
 */
static uint32_t
question_hash(const struct px_upq_table *t, const uint8_t *qname, unsigned len, uint16_t qtype,
	      uint16_t qclass)
{
	return (uint32_t)px_siphash13_question(&t->qkey, qname, len, qtype, qclass);
}

static inline uint32_t
qindex_bucket(const struct px_upq_table *t, const uint8_t *qname, unsigned len, uint16_t qtype,
	      uint16_t qclass)
{
	return question_hash(t, qname, len, qtype, qclass) >> t->index_shift;
}

uint32_t
px_upq_question_bucket(const struct px_upq_table *t, const uint8_t *qname, unsigned len,
		       uint16_t qtype, uint16_t qclass)
{
	return qindex_bucket(t, qname, len, qtype, qclass);
}

static void
qindex_insert(struct px_upq_table *t, uint32_t idx)
{
	struct slot *s = &t->slots[idx];
	uint32_t *head = &t->qindex[qindex_bucket(t, s->qname, s->qname_len, s->qtype, s->qclass)];

	s->qprev = NONE;
	s->qnext = *head;
	if (*head != NONE)
		t->slots[*head].qprev = idx;
	*head = idx;
}

static void
qindex_remove(struct px_upq_table *t, uint32_t idx)
{
	struct slot *s = &t->slots[idx];

	if (s->qprev != NONE)
		t->slots[s->qprev].qnext = s->qnext;
	else
		t->qindex[qindex_bucket(t, s->qname, s->qname_len, s->qtype, s->qclass)] = s->qnext;
	if (s->qnext != NONE)
		t->slots[s->qnext].qprev = s->qprev;
}

/* True if s asks qname (any case), qtype, qclass on server_port. */
static bool
slot_asks(const struct slot *s, const uint8_t *qname, unsigned len, uint16_t qtype,
	  uint16_t qclass, uint16_t server_port)
{
	if (s->qname_len != len || s->qtype != qtype || s->qclass != qclass ||
	    s->server.port != server_port)
		return false;
	for (unsigned i = 0; i < len; i++)
		if (lower(s->qname[i]) != lower(qname[i]))
			return false;
	return true;
}

static void
wheel_insert(struct px_upq_table *t, uint32_t idx)
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
wheel_remove(struct px_upq_table *t, uint32_t idx)
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

/* Gives back one reference on port (a query or a remembered one ended on it). */
static void
port_unref(struct px_upq_table *t, uint16_t port)
{
	if (t->owners != NULL && --t->refs[port] == 0)
		__atomic_store_n(&t->owners[port], 0, __ATOMIC_RELEASE);
}

/* Takes a pending slot out of the index and the wheel and puts it on the free list. */
static void
slot_release(struct px_upq_table *t, uint32_t idx)
{
	struct slot *s = &t->slots[idx];

	index_remove(t, idx);
	qindex_remove(t, idx);
	wheel_remove(t, idx);
	s->state = SLOT_FREE;
	port_unref(t, s->sport);
	s->next = t->free_head;
	t->free_head = idx;
	t->outstanding--;
}

static void
slot_copy_out(const struct slot *s, uint32_t idx, struct px_upq_done *out)
{
	out->handle = slot_handle(s, idx);
	out->sent_ms = s->sent_ms;
	out->deadline_ms = s->deadline_ms;
	out->server = s->server;
	out->sport = s->sport;
	out->id = s->id;
	out->qtype = s->qtype;
	out->qclass = s->qclass;
	out->qname_len = s->qname_len;
	out->case_on = s->case_on != 0;
	out->case_seen = s->case_seen != 0;
	out->cookie = s->cookie;
	for (unsigned i = 0; i < s->qname_len; i++)
		out->qname[i] = lower(s->qname[i]);
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

/* The late table's hash of a question: SipHash-1-3 of qname exactly as given (as sent: the
 * case matters), qtype and qclass. lowercase: hash qname lowered (queries sent without 0x20). */
static uint64_t
late_qhash(const struct px_upq_table *t, const uint8_t *qname, unsigned len, uint16_t qtype,
	   uint16_t qclass, bool lowercase)
{
	uint8_t low[PX_DNS_MAX_NAME];

	if (lowercase) {
		for (unsigned i = 0; i < len; i++)
			low[i] = lower(qname[i]);
		qname = low;
	}
	return px_siphash13_tail(&t->qkey, qname, len, (uint64_t)qtype << 16 | qclass);
}

/* The late index entry for (port, ID); port and ID are our own random draws. */
static inline uint16_t *
late_index_of(struct px_upq_table *t, uint16_t sport, uint16_t id)
{
	return &t->late_index[(((uint32_t)sport << 16 | id) * 0x9e3779b1u) >> 21];
}

_Static_assert(LATE_INDEX == 1u << 11, "late_index_of() takes the top 11 bits");
_Static_assert(PX_UPQ_LATE_SLOTS < 65536, "late_index holds 1 + a ring position in 16 bits");

/* Forgets the oldest remembered query, releasing its port. */
static void
late_pop(struct px_upq_table *t)
{
	struct late *l = &t->late[t->late_head];

	if (l->until_ms != 0) {
		l->until_ms = 0;
		port_unref(t, l->sport);
	}
	t->late_head = (t->late_head + 1) % PX_UPQ_LATE_SLOTS;
	t->late_count--;
}

/* Forgets the remembered queries whose window closed before now_ms. */
static void
late_sweep(struct px_upq_table *t, uint64_t now_ms)
{
	while (t->late_count != 0 && t->late[t->late_head].until_ms < now_ms)
		late_pop(t);
}

/* Remembers s, which timed out, so that its reply is recognised if it comes late; the oldest
 * remembered query makes room when the ring is full. Keeps s's port claimed. */
static void
late_remember(struct px_upq_table *t, const struct slot *s)
{
	uint32_t pos;
	struct late *l;

	if (t->late_count == PX_UPQ_LATE_SLOTS)
		late_pop(t);
	pos = (t->late_head + t->late_count++) % PX_UPQ_LATE_SLOTS;
	l = &t->late[pos];
	l->qhash = late_qhash(t, s->qname, s->qname_len, s->qtype, s->qclass, false);
	l->sent_ms = s->sent_ms;
	l->until_ms = s->deadline_ms + PX_UPQ_LATE_WINDOW_MS;
	l->server = s->server;
	l->sport = s->sport;
	l->id = s->id;
	l->case_on = s->case_on;
	if (t->owners != NULL)
		t->refs[s->sport]++;
	*late_index_of(t, s->sport, s->id) = (uint16_t)(pos + 1);
}

/* True if rep answers a query that timed out lately, by every check an outstanding query's
 * reply passes; fills out's server and times and forgets the query (one sample per query). */
static bool
late_match(struct px_upq_table *t, const struct px_upq_reply *rep, struct px_upq_done *out)
{
	uint16_t at = *late_index_of(t, rep->dport, rep->id);
	struct late *l = at != 0 ? &t->late[at - 1] : NULL;

	if (l == NULL || l->until_ms == 0 || l->until_ms < t->wheel_ms || l->sport != rep->dport ||
	    l->id != rep->id || !px_addr_eq(&l->server, &rep->src) ||
	    l->server.port != rep->src.port || !name_valid(rep->qname, rep->qname_len) ||
	    late_qhash(t, rep->qname, rep->qname_len, rep->qtype, rep->qclass, !l->case_on) !=
		    l->qhash)
		return false;
	memset(out, 0, sizeof(*out));
	out->sent_ms = l->sent_ms;
	out->server = l->server;
	out->sport = l->sport;
	out->id = l->id;
	out->qtype = rep->qtype;
	out->qclass = rep->qclass;
	l->until_ms = 0;
	port_unref(t, l->sport);
	return true;
}

/*
 * Writes the valid wire name src (len bytes) to dst with every letter in a random case: one
 * bit of the generator per letter, lower or upper with equal odds. Length bytes (at most 63)
 * and other bytes are copied as they are.
 */
static void
case_randomise(uint8_t *dst, const uint8_t *src, unsigned len, struct px_rand *r)
{
	uint32_t bits = 0;
	unsigned left = 0, pos = 0;

	while (pos < len) {
		unsigned l = src[pos];

		dst[pos++] = (uint8_t)l;
		for (unsigned i = 0; i < l; i++, pos++) {
			uint8_t c = lower(src[pos]);

			if (c >= 'a' && c <= 'z') {
				if (left == 0) {
					bits = px_rand_u32(r);
					left = 32;
				}
				if (bits & 1)
					c = (uint8_t)(c - ('a' - 'A'));
				bits >>= 1;
				left--;
			}
			dst[pos] = c;
		}
	}
}

int
px_upq_share_ports(struct px_upq_table *t, uint8_t *owners, uint8_t self, uint16_t *refs)
{
	/* Before any query: one remembered after a timeout holds no reference to give back. */
	if (owners == NULL || refs == NULL || self == 0 || t->outstanding != 0 ||
	    t->late_count != 0)
		return -EINVAL;
	t->owners = owners;
	t->refs = refs;
	t->self = self;
	return 0;
}

/* Takes a free port in the shared map. False if another worker holds it. */
static inline bool
port_claim(struct px_upq_table *t, uint16_t port)
{
	uint8_t expect = 0;

	return __atomic_compare_exchange_n(&t->owners[port], &expect, t->self, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

int
px_upq_start(struct px_upq_table *t, struct px_rand *r, const struct px_upq_query *q,
	     uint64_t now_ms, uint32_t timeout_ms, struct px_upq_sent *out)
{
	uint16_t port = 0, id = 0;
	uint32_t idx;
	struct slot *s;
	unsigned tries;

	if ((q->server.family != PX_AF_INET && q->server.family != PX_AF_INET6) ||
	    !name_valid(q->qname, q->qname_len))
		return -EINVAL;
	if (t->free_head == NONE) {
		t->stats.table_full++;
		return -ENOSPC;
	}
	for (tries = 0; tries < DRAW_TRIES; tries++) {
		port = (uint16_t)(PX_UPQ_PORT_MIN + px_rand_uniform(r, PORT_COUNT));
		id = (uint16_t)px_rand_u32(r);
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
	if (s->server.family == PX_AF_INET)
		memset(s->server.a + 4, 0, 12);
	s->qtype = q->qtype;
	s->qclass = q->qclass;
	s->cookie = q->cookie;
	s->qname_len = q->qname_len;
	s->case_seen = 0;
	s->case_on = !upq_server_case_off(upq_server_find(t, &q->server), now_ms);
	if (s->case_on) {
		case_randomise(s->qname, q->qname, q->qname_len, r);
	} else {
		for (unsigned i = 0; i < q->qname_len; i++)
			s->qname[i] = lower(q->qname[i]);
	}
	if (timeout_ms == 0)
		timeout_ms = 1;
	else if (timeout_ms > PX_UPQ_MAX_TIMEOUT_MS)
		timeout_ms = PX_UPQ_MAX_TIMEOUT_MS;
	s->sent_ms = now_ms;
	s->deadline_ms = now_ms + timeout_ms;
	/* A deadline at or behind the wheel would sit in a slot already passed and wait a whole
	 * turn: the caller's clock lags the one it last expired with (a caller may also expire
	 * with a clock that lags its own: then this never happens). Due at the next tick. */
	if (s->deadline_ms <= t->wheel_ms)
		s->deadline_ms = t->wheel_ms + 1;

	s->next = t->index[index_bucket(t, port, id)];
	t->index[index_bucket(t, port, id)] = idx;
	qindex_insert(t, idx);
	wheel_insert(t, idx);
	t->outstanding++;
	t->stats.started++;

	out->handle = slot_handle(s, idx);
	out->deadline_ms = s->deadline_ms;
	out->sport = port;
	out->id = id;
	out->case_on = s->case_on != 0;
	out->qname = s->qname;
	return 0;
}

/* The reply's question against the query's: PX_UPQ_MATCH, PX_UPQ_WRONG_QUESTION, or
 * PX_UPQ_WRONG_CASE when only the case of a name sent with 0x20 differs. Label length bytes
 * (at most 63) are never letters, so comparing without case cannot blur the label structure. */
static enum px_upq_verdict
question_cmp(const struct slot *s, const struct px_upq_reply *rep)
{
	bool case_diff = false;

	if (rep->qname_len == 0 || rep->qname == NULL || rep->qname_len != s->qname_len ||
	    rep->qtype != s->qtype || rep->qclass != s->qclass)
		return PX_UPQ_WRONG_QUESTION;
	for (unsigned i = 0; i < s->qname_len; i++) {
		if (rep->qname[i] == s->qname[i])
			continue;
		if (lower(rep->qname[i]) != lower(s->qname[i]))
			return PX_UPQ_WRONG_QUESTION;
		case_diff = true;
	}
	return case_diff && s->case_on ? PX_UPQ_WRONG_CASE : PX_UPQ_MATCH;
}

enum px_upq_verdict
px_upq_match(struct px_upq_table *t, const struct px_upq_reply *rep, struct px_upq_done *out)
{
	uint32_t idx = index_find(t, rep->dport, rep->id);
	enum px_upq_verdict v;
	struct server *sv;
	struct slot *s;

	if (idx == NONE) {
		if (late_match(t, rep, out)) {
			t->stats.late_replies++;
			return PX_UPQ_LATE;
		}
		t->stats.drop_no_such_query++;
		return PX_UPQ_NO_SUCH_QUERY;
	}
	s = &t->slots[idx];
	if (!px_addr_eq(&s->server, &rep->src)) {
		t->stats.drop_wrong_addr++;
		return PX_UPQ_WRONG_ADDR;
	}
	if (rep->src.port != s->server.port) {
		t->stats.drop_wrong_port++;
		return PX_UPQ_WRONG_PORT;
	}
	v = question_cmp(s, rep);
	if (v == PX_UPQ_WRONG_QUESTION) {
		t->stats.drop_wrong_question++;
		return v;
	}
	if (v == PX_UPQ_WRONG_CASE) {
		/* Kept: the server's own reply, with the right case, may still come. */
		s->case_seen = 1;
		t->stats.drop_wrong_case++;
		return v;
	}
	/* The server echoed the case: whatever failed the check before was not its doing. */
	sv = s->case_on ? (struct server *)upq_server_find(t, &s->server) : NULL;
	if (sv != NULL)
		sv->case_strikes = 0;
	slot_copy_out(s, idx, out);
	slot_release(t, idx);
	t->stats.matched++;
	return PX_UPQ_MATCH;
}

bool
px_upq_expire(struct px_upq_table *t, uint64_t now_ms, struct px_upq_done *out)
{
	late_sweep(t, now_ms);
	/* After a long pause visit every slot once rather than every millisecond missed. Deadlines
	 * are compared, not assumed from the slot, so this stays exact. */
	if (now_ms > t->wheel_ms + PX_UPQ_WHEEL_SLOTS)
		t->wheel_ms = now_ms - PX_UPQ_WHEEL_SLOTS;
	while (t->wheel_ms < now_ms) {
		uint32_t idx = t->wheel[(t->wheel_ms + 1) & WHEEL_MASK];

		/* A slot also holds deadlines a whole turn (or more) ahead, queued while the clock
		 * ran ahead of the wheel: skip those. */
		while (idx != NONE && t->slots[idx].deadline_ms > now_ms)
			idx = t->slots[idx].wheel_next;
		if (idx != NONE) {
			slot_copy_out(&t->slots[idx], idx, out);
			late_remember(t, &t->slots[idx]);
			slot_release(t, idx);
			t->stats.timeouts++;
			return true;
		}
		t->wheel_ms++;
	}
	return false;
}

int
px_upq_cancel(struct px_upq_table *t, uint64_t handle)
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

uint64_t
px_upq_find(const struct px_upq_table *t, const struct px_upq_query *q, uint32_t *cookie)
{
	if (!name_valid(q->qname, q->qname_len))
		return 0;
	for (uint32_t i = t->qindex[qindex_bucket(t, q->qname, q->qname_len, q->qtype, q->qclass)];
	     i != NONE; i = t->slots[i].qnext) {
		const struct slot *s = &t->slots[i];

		if (slot_asks(s, q->qname, q->qname_len, q->qtype, q->qclass, q->server.port) &&
		    px_addr_eq(&s->server, &q->server)) {
			*cookie = s->cookie;
			return slot_handle(s, i);
		}
	}
	return 0;
}

int
px_upq_find_server(const struct px_upq_table *t, const uint8_t *qname, uint8_t qname_len,
		   uint16_t qtype, uint16_t qclass, uint16_t server_port,
		   const struct px_addr *cand, unsigned n)
{
	unsigned best = n;

	if (n == 0 || !name_valid(qname, qname_len))
		return -1;
	/* One chain for the question whatever the server: when callers share, it holds one query
	 * per server at most, so reading it whole costs about as much as one lookup. */
	for (uint32_t i = t->qindex[qindex_bucket(t, qname, qname_len, qtype, qclass)]; i != NONE;
	     i = t->slots[i].qnext) {
		const struct slot *s = &t->slots[i];

		if (!slot_asks(s, qname, qname_len, qtype, qclass, server_port))
			continue;
		for (unsigned k = 0; k < best; k++)
			if (px_addr_eq(&s->server, &cand[k]))
				best = k;
	}
	return best < n ? (int)best : -1;
}

uint32_t
px_upq_outstanding(const struct px_upq_table *t)
{
	return t->outstanding;
}

const struct px_upq_stats *
px_upq_stats(const struct px_upq_table *t)
{
	return &t->stats;
}

