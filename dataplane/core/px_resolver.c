/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iterative resolution state machine: the pool, the events (start, reply, timeout), the
 * rendering of answers and the ends of resolutions. The nameserver side is in px_resolver_ns.c.
 * See pollux/resolver.h for the behaviour.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>

#include <pollux/rdata.h>
#include <pollux/resolver.h>
#include <pollux/wire.h>

void
px_resolver_config_default(struct px_resolver_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_ttl = 86400;
	c->max_neg_ttl = 3600;
	c->deadline_ms = 3000;
	c->max_queries = 32;
	c->max_referrals = 16;
	c->max_glueless = 4;
	c->max_depth = 2;
	c->max_cname = 8;
	c->qname_min = true;
	c->use_ipv4 = true;
	c->use_ipv6 = true;
}

static uint32_t
bucket_count(uint32_t capacity)
{
	uint32_t n = 1;

	while (n < capacity)
		n <<= 1;
	return n;
}

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

size_t
px_resolver_memsize(uint32_t capacity)
{
	if (capacity == 0 || capacity > PX_RES_MAX_CAPACITY)
		return 0;
	return align8(sizeof(struct px_resolver)) + (size_t)capacity * sizeof(struct px_resolution) +
	       align8((size_t)capacity * sizeof(uint32_t)) +
	       (size_t)bucket_count(capacity) * sizeof(uint32_t);
}

struct px_resolver *
px_resolver_init(void *mem, uint32_t capacity, const struct px_resolver_config *cfg,
		const struct px_addr_policy *policy, const struct px_upq_table *upq,
		struct px_rand *rand)
{
	struct px_resolver *r = mem;
	uint8_t raw[PX_SIPHASH_KEY_LEN];
	uint8_t *p = mem;

	if (mem == NULL || ((uintptr_t)mem & 7) != 0 || px_resolver_memsize(capacity) == 0 ||
	    policy == NULL || (upq == NULL) != (rand == NULL) ||
	    (cfg != NULL && cfg->max_cname > PX_RES_MAX_CNAME_LINKS)) {
		errno = EINVAL;
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	if (cfg != NULL)
		r->cfg = *cfg;
	else
		px_resolver_config_default(&r->cfg);
	r->policy = policy;
	r->upq = upq;
	r->rand = rand;
	r->capacity = capacity;
	p += align8(sizeof(*r));
	r->pool = (struct px_resolution *)p;
	p += (size_t)capacity * sizeof(struct px_resolution);
	r->free_stack = (uint32_t *)p;
	p += align8((size_t)capacity * sizeof(uint32_t));
	r->bucket = (uint32_t *)p;
	r->bucket_mask = bucket_count(capacity) - 1;
	memset(r->bucket, 0, (size_t)bucket_count(capacity) * sizeof(uint32_t));
	for (uint32_t i = 0; i < capacity; i++) {
		r->pool[i].handle = 0;
		r->pool[i].rr_len = 0;
		r->free_stack[i] = capacity - 1 - i;
	}
	r->free_count = capacity;
	if (rand != NULL) {
		px_rand_bytes(rand, raw, sizeof(raw));
	} else if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		errno = errno != 0 ? errno : EIO;
		return NULL;
	}
	r->qkey = px_siphash_key_from(raw);
	memset(raw, 0, sizeof(raw));
	return r;
}

/* Takes a slot. Only the bookkeeping before the answer buffer is cleared: the buffer is
 * written before it is read. */
struct px_resolution *
res_alloc(struct px_resolver *r)
{
	struct px_resolution *s;
	uint32_t gen;

	if (r->free_count == 0)
		return NULL;
	s = &r->pool[r->free_stack[--r->free_count]];
	/* The generation survives in the freed handle's high word; never 0, so no handle is. */
	gen = (uint32_t)(s->handle >> 32) + 1;
	if (gen == 0)
		gen = 1;
	memset(s, 0, offsetof(struct px_resolution, ttl_off));
	s->top = (uint32_t)(s - r->pool);
	s->handle = (uint64_t)gen << 32 | s->top;
	return s;
}

void
res_free(struct px_resolver *r, struct px_resolution *s)
{
	/* Ended with its query in flight (cancelled): whoever keeps that query must let go. */
	if (s->inflight && r->release_fn != NULL)
		r->release_fn(r->release_arg, s->handle);
	/* Keep the generation so the next owner of the slot gets a new handle. */
	s->handle &= ~(uint64_t)UINT32_MAX;
	s->handle |= UINT32_MAX;
	s->inflight = false;
	r->free_stack[r->free_count++] = (uint32_t)(s - r->pool);
}

static bool
res_live(const struct px_resolution *s)
{
	return (s->handle & UINT32_MAX) != UINT32_MAX && s->handle != 0;
}

const struct px_resolution *
px_resolver_get(const struct px_resolver *r, uint64_t res)
{
	uint32_t i = (uint32_t)res;

	if (i >= r->capacity || r->pool[i].handle != res || !res_live(&r->pool[i]))
		return NULL;
	return &r->pool[i];
}

/* The question index's hash, under the resolver's secret (px_siphash13_question). */
static uint32_t
question_hash(const struct px_resolver *r, const uint8_t *qname, unsigned len, uint16_t qtype,
	      uint16_t qclass)
{
	return (uint32_t)px_siphash13_question(&r->qkey, qname, len, qtype, qclass);
}

uint32_t
px_resolver_question_bucket(const struct px_resolver *r, const struct px_resolver_question *q)
{
	return question_hash(r, q->qname, q->qname_len, q->qtype, q->qclass) & r->bucket_mask;
}

/* A top enters the question index and the tail of the age list (the youngest); both hold
 * exactly the live tops, so one pair of functions keeps them together. */
static void
index_add(struct px_resolver *r, struct px_resolution *s)
{
	uint32_t b = question_hash(r, s->qname, s->qname_len, s->qtype, s->qclass) & r->bucket_mask;
	uint32_t me = (uint32_t)(s - r->pool) + 1;

	s->hnext = r->bucket[b];
	r->bucket[b] = me;
	s->in_index = true;
	s->anext = 0;
	s->aprev = r->age_tail;
	if (r->age_tail != 0)
		r->pool[r->age_tail - 1].anext = me;
	else
		r->age_head = me;
	r->age_tail = me;
}

static void
age_del(struct px_resolver *r, struct px_resolution *s)
{
	if (s->aprev != 0)
		r->pool[s->aprev - 1].anext = s->anext;
	else
		r->age_head = s->anext;
	if (s->anext != 0)
		r->pool[s->anext - 1].aprev = s->aprev;
	else
		r->age_tail = s->aprev;
	s->anext = s->aprev = 0;
}

static void
index_del(struct px_resolver *r, struct px_resolution *s)
{
	uint32_t b = question_hash(r, s->qname, s->qname_len, s->qtype, s->qclass) & r->bucket_mask;
	uint32_t *link = &r->bucket[b], me = (uint32_t)(s - r->pool) + 1;

	if (!s->in_index)
		return;
	while (*link != 0 && *link != me)
		link = &r->pool[*link - 1].hnext;
	if (*link == me)
		*link = s->hnext;
	s->in_index = false;
	age_del(r, s);
}

uint64_t
px_resolver_find(const struct px_resolver *r, const struct px_resolver_question *q)
{
	uint32_t b = question_hash(r, q->qname, q->qname_len, q->qtype, q->qclass) & r->bucket_mask;

	for (uint32_t i = r->bucket[b]; i != 0; i = r->pool[i - 1].hnext) {
		const struct px_resolution *s = &r->pool[i - 1];
		bool eq = s->qname_len == q->qname_len && s->qtype == q->qtype &&
			  s->qclass == q->qclass;

		for (unsigned j = 0; eq && j < q->qname_len; j++)
			eq = s->qname[j] == px_lower(q->qname[j]);
		if (eq)
			return s->handle;
	}
	return 0;
}

int
px_resolver_attach(struct px_resolver *r, uint64_t res, uint64_t client_cookie)
{
	struct px_resolution *s = (struct px_resolution *)px_resolver_get(r, res);

	if (s == NULL || s->parent != 0)
		return -ENOENT;
	if (s->client_count == PX_RES_MAX_CLIENTS) {
		r->stats.attach_full++;
		return -ENOSPC;
	}
	s->clients[s->client_count++] = client_cookie;
	r->stats.attached++;
	return 0;
}

int
px_resolver_cancel(struct px_resolver *r, uint64_t res)
{
	struct px_resolution *s = (struct px_resolution *)px_resolver_get(r, res);

	if (s == NULL)
		return -ENOENT;
	s = &r->pool[s->top];
	index_del(r, s);
	while (s != NULL) {
		struct px_resolution *child = s->child != 0 ? &r->pool[s->child - 1] : NULL;

		res_free(r, s);
		s = child;
	}
	r->stats.servfail_reason[PX_RES_FAIL_CANCELLED]++;
	return 0;
}

unsigned
px_resolver_tree(const struct px_resolver *r, uint64_t top, uint64_t *handles, unsigned max)
{
	const struct px_resolution *s = px_resolver_get(r, top);
	unsigned n = 0;

	if (s == NULL || s->parent != 0)
		return 0;
	while (s != NULL && n < max) {
		handles[n++] = s->handle;
		s = s->child != 0 ? &r->pool[s->child - 1] : NULL;
	}
	return n;
}

uint64_t
px_resolver_jostle_find(const struct px_resolver *r, uint64_t now_ms, uint32_t min_age_ms,
		       px_resolver_stuck_fn stuck, void *arg)
{
	uint32_t i = r->age_head;

	for (unsigned seen = 0; i != 0 && seen < PX_RES_JOSTLE_SCAN; seen++) {
		const struct px_resolution *top = &r->pool[i - 1], *leaf = top;

		if (top->start_ms + min_age_ms > now_ms)
			return 0; /* every later one is younger still */
		while (leaf->child != 0)
			leaf = &r->pool[leaf->child - 1];
		if (leaf->inflight && stuck(arg, top->handle, leaf->handle, &leaf->inflight_server))
			return top->handle;
		i = top->anext;
	}
	return 0;
}

static void
act_done(struct px_resolver_action *act, const struct px_resolution *s)
{
	act->res = s->handle;
	act->done = s;
	act->clients = s->clients;
	act->client_count = s->client_count;
}

/*
 * Ends s with SERVFAIL for `why`. A sub-resolution that hit a tree-wide limit (queries,
 * glueless lookups, deadline) fails its parent the same way; one that failed otherwise only
 * costs the parent that NS name.
 */
void
res_fail(struct px_resolver *r, struct px_resolution *s, enum px_resolver_fail why, uint64_t now_ms,
	    struct px_resolver_action *act)
{
	if (s->parent != 0) {
		struct px_resolution *p = &r->pool[s->parent - 1];

		if (why == PX_RES_FAIL_QUERIES || why == PX_RES_FAIL_GLUELESS ||
		    why == PX_RES_FAIL_DEADLINE) {
			p->truncated_seen |= s->truncated_seen;
			res_free(r, s);
			p->child = 0;
			res_fail(r, p, why, now_ms, act);
		} else {
			res_sub_end(r, s, now_ms, act);
		}
		return;
	}
	index_del(r, s);
	/* Before the free, which retires the handle the action must name. */
	act_done(act, s);
	res_free(r, s);
	r->stats.servfail++;
	r->stats.servfail_reason[why]++;
	act->kind = PX_RES_ACT_SERVFAIL;
	act->reason = why;
	act->zone = s->cut.zone; /* the slot keeps its bytes until the next call (act_done) */
	act->zone_len = s->cut.zone_len;
	act->truncated_seen = s->truncated_seen;
}

/* Copies the name at msg[off] uncompressed to dst (PX_DNS_NAME_BUF); returns its length or 0. */
static unsigned
copy_name(uint8_t *dst, const uint8_t *msg, uint16_t len, uint16_t off)
{
	struct px_wire_rd rd;

	px_wire_rd_init(&rd, msg, len);
	rd.pos = off;
	return px_wire_read_name(&rd, dst, NULL);
}

/* Appends n bytes to s->rr; false if they do not fit. */
static bool
put(struct px_resolution *s, const void *p, unsigned n)
{
	if (s->rr_len + n > PX_RES_RR_BUF)
		return false;
	memcpy(s->rr + s->rr_len, p, n);
	s->rr_len = (uint16_t)(s->rr_len + n);
	return true;
}

static bool
put_name(struct px_resolution *s, const uint8_t *msg, uint16_t len, uint16_t off)
{
	uint8_t name[PX_DNS_NAME_BUF];
	unsigned n = copy_name(name, msg, len, off);

	return n != 0 && put(s, name, n);
}

/*
 * Renders the record rr of msg into s->rr, uncompressed: its owner, and every name inside its
 * rdata for the types whose layout holds names (pollux/rdata.h; the reply was checked against it),
 * letters as sent; other rdata is copied as is. Returns false if it does not fit.
 */
static bool
render_rr(struct px_resolution *s, const uint8_t *msg, uint16_t len, const struct px_reply_rr *rr,
	  uint32_t ttl)
{
	uint8_t fixed[10];
	int n;

	if (s->rr_count == PX_RES_MAX_RR || !put_name(s, msg, len, rr->off))
		return false;
	px_put16(fixed, rr->type);
	px_put16(fixed + 2, rr->rclass);
	px_put32(fixed + 4, ttl);
	px_put16(fixed + 8, 0);
	s->ttl_off[s->rr_count++] = (uint16_t)(s->rr_len + 4);
	if (!put(s, fixed, 10))
		return false;
	n = px_rdata_copy(s->rr + s->rr_len, PX_RES_RR_BUF - s->rr_len, msg, len, rr->type,
			  rr->rdata_off, rr->rdlen);
	if (n < 0)
		return false;
	px_put16(s->rr + s->rr_len - 2, (uint16_t)n);
	s->rr_len = (uint16_t)(s->rr_len + n);
	return true;
}

/* True if name is the question or the owner of a CNAME link already in the chain. */
static bool
chain_has(const struct px_resolution *s, const uint8_t *name, unsigned n)
{
	if (n == s->qname_len && memcmp(name, s->qname, n) == 0)
		return true;
	for (unsigned i = 0; i < s->cnames; i++) {
		const uint8_t *o = s->rr + s->chain_off[i]; /* rendered: uncompressed, valid */
		unsigned k = 0;

		while (o[k] != 0)
			k += 1u + o[k];
		if (k + 1 == n && memcmp(o, name, n) == 0)
			return true;
	}
	return false;
}

/* Appends the reply's CNAME links to the chain; PX_RES_FAIL_NONE or why it cannot. */
static enum px_resolver_fail
append_chain(struct px_resolver *r, struct px_resolution *s, const struct px_reply *rep,
	     const uint8_t *msg, uint16_t len)
{
	uint8_t target[PX_DNS_NAME_BUF];

	for (unsigned i = 0; i < rep->cname_count; i++) {
		const struct px_reply_rr *rr = &rep->cname[i];
		unsigned n = copy_name(target, msg, len, rr->rdata_off);

		if (n == 0)
			return PX_RES_FAIL_TOO_BIG;
		if (chain_has(s, target, n))
			return PX_RES_FAIL_LOOP;
		if (s->cnames >= r->cfg.max_cname)
			return PX_RES_FAIL_CNAMES;
		s->chain_off[s->cnames] = s->rr_len;
		if (!render_rr(s, msg, len, rr, px_reply_ttl_cap(rr->ttl, r->cfg.max_ttl)))
			return PX_RES_FAIL_TOO_BIG;
		s->cnames++;
		s->an_count++;
		r->stats.cnames_followed++;
		if (rr->ttl < s->ttl_min)
			s->ttl_min = rr->ttl;
	}
	return PX_RES_FAIL_NONE;
}

/* The top s is answered: fills act from its rendered records and ends it. */
static void
answer(struct px_resolver *r, struct px_resolution *s, uint8_t rcode, bool nodata, uint32_t ttl,
       struct px_resolver_action *act)
{
	index_del(r, s);
	act_done(act, s); /* before the free: see res_fail() */
	res_free(r, s);
	act->kind = PX_RES_ACT_ANSWER;
	act->rcode = rcode;
	act->nodata = nodata;
	act->an_count = s->an_count;
	act->ns_count = s->ns_count;
	act->rr = s->rr;
	act->rr_len = s->rr_len;
	act->ttl_off = s->ttl_off;
	act->ttl_off_count = s->rr_count;
	act->ttl = ttl;
	if (rcode == PX_DNS_RCODE_NXDOMAIN)
		r->stats.nxdomain++;
	else if (nodata)
		r->stats.nodata++;
	else
		r->stats.answered++;
}

/* A sub-resolution's answer: its A or AAAA records become addresses of the parent's NS name,
 * each through the policy (PX_ADDR_AT_NS_ADDR). */
static void
sub_answer(struct px_resolver *r, struct px_resolution *s, const struct px_reply *rep, const uint8_t *msg,
	   uint64_t now_ms, struct px_resolver_action *act)
{
	struct px_resolver_ns *ns = &r->pool[s->parent - 1].cut.ns[s->parent_ns];
	struct px_addr a;

	for (unsigned i = 0; i < rep->answer_count; i++) {
		const struct px_reply_rr *rr = &rep->answer[i];
		uint32_t v4;

		if (rr->rclass != PX_DNS_CLASS_IN)
			continue;
		if (rr->type == PX_DNS_TYPE_A && rr->rdlen == 4) {
			memcpy(&v4, msg + rr->rdata_off, 4);
			px_addr_set4(&a, v4, 0);
		} else if (rr->type == PX_DNS_TYPE_AAAA && rr->rdlen == 16) {
			px_addr_set6(&a, msg + rr->rdata_off, 0);
		} else {
			continue;
		}
		res_add_addr_side(r, ns, &a, PX_ADDR_AT_NS_ADDR, PX_RES_SIDE_CHILD);
	}
	res_sub_end(r, s, now_ms, act);
}

/* NXDOMAIN or NODATA for s (after the chain, if any, was appended): renders the SOA into the
 * authority section. A sub-resolution just ends without addresses. */
static void
negative(struct px_resolver *r, struct px_resolution *s, const struct px_reply *rep, const uint8_t *msg,
	 uint16_t len, uint8_t rcode, uint64_t now_ms, struct px_resolver_action *act)
{
	uint32_t ttl = 0;

	if (s->parent != 0) {
		res_sub_end(r, s, now_ms, act);
		return;
	}
	if (rep->has_soa) {
		ttl = px_reply_ttl_cap(px_reply_negative_ttl(rep), r->cfg.max_neg_ttl);
		if (!render_rr(s, msg, len, &rep->soa, ttl)) {
			res_fail(r, s, PX_RES_FAIL_TOO_BIG, now_ms, act);
			return;
		}
		s->ns_count = 1;
		if (s->an_count > 0 && s->ttl_min < ttl)
			ttl = px_reply_ttl_cap(s->ttl_min, r->cfg.max_ttl);
	}
	answer(r, s, rcode, rcode == PX_DNS_RCODE_NOERROR, ttl, act);
}

/* A wire name of exactly len bytes: labels of at most 63 bytes, ending with the root. */
static bool
name_valid(const uint8_t *name, unsigned len)
{
	unsigned i = 0;

	if (name == NULL || len == 0 || len > PX_DNS_MAX_NAME)
		return false;
	while (i < len - 1 && name[i] != 0 && name[i] <= PX_DNS_MAX_LABEL)
		i += 1u + name[i];
	return i == len - 1 && name[i] == 0;
}

int
px_resolver_start(struct px_resolver *r, const struct px_resolver_question *q,
		 const struct px_hints *hints, const struct px_resolver_start_cut *start_cut,
		 uint64_t now_ms, uint64_t client_cookie, struct px_resolver_action *act)
{
	struct px_resolution *s;

	if (!name_valid(q->qname, q->qname_len) ||
	    (start_cut != NULL && !px_reply_name_in(q->qname, q->qname_len, start_cut->zone,
						    start_cut->zone_len))) {
		r->stats.start_invalid++;
		return -EINVAL;
	}
	s = res_alloc(r);
	if (s == NULL) {
		r->stats.start_no_slot++;
		return -ENOSPC;
	}
	if (hints == NULL)
		hints = px_resolver_hints(r);
	r->stats.started++;
	for (unsigned i = 0; i < q->qname_len; i++)
		s->qname[i] = px_lower(q->qname[i]);
	s->qname_len = q->qname_len;
	s->qtype = q->qtype;
	s->qclass = q->qclass;
	s->start_ms = now_ms;
	s->deadline_ms = now_ms + r->cfg.deadline_ms;
	s->ttl_min = UINT32_MAX;
	s->clients[0] = client_cookie;
	s->client_count = 1;
	res_set_sname(s, s->qname, s->qname_len);
	if (start_cut == NULL) {
		res_cut_hints(r, s, hints);
	} else if (!res_cut_start(r, s, start_cut)) {
		r->stats.start_cut_unusable++;
		res_cut_hints(r, s, hints);
	}
	res_qmin_step(r, s, s->ask_labels);
	index_add(r, s);
	memset(act, 0, sizeof(*act));
	res_advance(r, s, now_ms, act);
	return 0;
}

/* The server in flight failed (how): mark it and go on. */
static void
server_failed(struct px_resolver *r, struct px_resolution *s, enum px_resolver_srv how, uint64_t now_ms,
	      struct px_resolver_action *act)
{
	r->stats.server_fail[how]++;
	s->cut.ns[s->inflight_ns].addr_state[s->inflight_addr] = PX_RES_ADDR_FAILED;
	res_advance(r, s, now_ms, act);
}

/* The in-flight resolution for an event, or NULL (counted, act WAIT). */
static struct px_resolution *
event_res(struct px_resolver *r, uint64_t res, const struct px_addr *server,
	  struct px_resolver_action *act)
{
	struct px_resolution *s = (struct px_resolution *)px_resolver_get(r, res);

	memset(act, 0, sizeof(*act));
	act->kind = PX_RES_ACT_WAIT;
	if (s == NULL || !s->inflight || !px_addr_eq(server, &s->inflight_server)) {
		r->stats.stale_events++;
		return NULL;
	}
	s->inflight = false;
	return s;
}

void
px_resolver_on_timeout(struct px_resolver *r, uint64_t res, const struct px_addr *server,
		      uint64_t now_ms, struct px_resolver_action *act)
{
	struct px_resolution *s = event_res(r, res, server, act);

	if (s != NULL)
		server_failed(r, s, PX_RES_SRV_TIMEOUT, now_ms, act);
}

void
px_resolver_on_unreachable(struct px_resolver *r, uint64_t res, const struct px_addr *server,
			   uint64_t now_ms, struct px_resolver_action *act)
{
	struct px_resolution *s = event_res(r, res, server, act);

	if (s == NULL)
		return;
	r->stats.server_fail[PX_RES_SRV_UNREACHABLE]++;
	s->cut.ns[s->inflight_ns].addr_state[s->inflight_addr] = PX_RES_ADDR_UNREACHABLE;
	res_advance(r, s, now_ms, act);
}

static enum px_resolver_srv
srv_of(const struct px_reply *rep)
{
	switch (rep->cls) {
	case PX_REPLY_LAME:
		return PX_RES_SRV_LAME;
	case PX_REPLY_REFUSED:
		return PX_RES_SRV_REFUSED;
	case PX_REPLY_SERVFAIL:
		return PX_RES_SRV_SERVFAIL;
	case PX_REPLY_FORMERR:
		return PX_RES_SRV_FORMERR;
	case PX_REPLY_TRUNCATED:
		return PX_RES_SRV_TRUNCATED;
	default:
		return rep->bad == PX_REPLY_BAD_TOO_MANY_RRS ? PX_RES_SRV_TOO_MANY_RRS
							     : PX_RES_SRV_MALFORMED;
	}
}

/* A reply to a minimised query (RFC 9156, relaxed). Returns false when it is to be handled as
 * any other reply (a referral, a failure that is the server's whatever it was asked). */
static bool
on_minimised(struct px_resolver *r, struct px_resolution *s, const struct px_reply *rep,
	     const uint8_t *msg, uint16_t len, uint64_t now_ms, struct px_resolver_action *act)
{
	switch (rep->cls) {
	case PX_REPLY_REFERRAL:
		if (rep->cname_count > 0)
			break; /* the intermediate name is an alias: ignore what follows it */
		return false;
	case PX_REPLY_NXDOMAIN:
		if (rep->cname_count > 0)
			break;
		/* RFC 8020: nothing exists below a name that does not exist. */
		negative(r, s, rep, msg, len, PX_DNS_RCODE_NXDOMAIN, now_ms, act);
		return true;
	case PX_REPLY_ANSWER:
	case PX_REPLY_CNAME:
	case PX_REPLY_NODATA:
		break;
	case PX_REPLY_LAME:
	case PX_REPLY_REFUSED:
	case PX_REPLY_SERVFAIL:
	case PX_REPLY_FORMERR:
		/* Relaxed mode: some servers mishandle minimised names; try a longer one. The
		 * server is not failed for it, but it is counted. */
		r->stats.server_fail[srv_of(rep)]++;
		break;
	default:
		return false;
	}
	s->cut.ns[s->inflight_ns].addr_state[s->inflight_addr] = PX_RES_ADDR_OK;
	res_qmin_step(r, s, s->ask_labels);
	res_advance(r, s, now_ms, act);
	return true;
}

void
px_resolver_on_reply(struct px_resolver *r, uint64_t res, const struct px_reply *rep,
		    const uint8_t *msg, uint16_t len, const struct px_addr *server,
		    uint64_t now_ms, struct px_resolver_action *act)
{
	struct px_resolution *s = event_res(r, res, server, act);
	enum px_resolver_fail why;

	if (s == NULL)
		return;
	r->stats.answer_type_mismatch += rep->counts.type_mismatch;
	if (now_ms >= s->deadline_ms) {
		res_fail(r, s, PX_RES_FAIL_DEADLINE, now_ms, act);
		return;
	}
	if (rep->cls == PX_REPLY_TRUNCATED)
		s->truncated_seen = true;
	if (s->ask_off != 0 && on_minimised(r, s, rep, msg, len, now_ms, act))
		return;
	switch (rep->cls) {
	case PX_REPLY_ANSWER:
	case PX_REPLY_CNAME:
	case PX_REPLY_NXDOMAIN:
	case PX_REPLY_NODATA:
	case PX_REPLY_REFERRAL:
		break;
	default:
		if (rep->cls == PX_REPLY_MALFORMED)
			r->stats.malformed[(unsigned)rep->bad < PX_REPLY_BAD_COUNT ? rep->bad : 0]++;
		server_failed(r, s, srv_of(rep), now_ms, act);
		return;
	}
	s->cut.ns[s->inflight_ns].addr_state[s->inflight_addr] = PX_RES_ADDR_OK;
	why = append_chain(r, s, rep, msg, len);
	if (why != PX_RES_FAIL_NONE) {
		res_fail(r, s, why, now_ms, act);
		return;
	}
	switch (rep->cls) {
	case PX_REPLY_ANSWER:
		if (s->parent != 0) {
			sub_answer(r, s, rep, msg, now_ms, act);
			return;
		}
		for (unsigned i = 0; i < rep->answer_count; i++) {
			const struct px_reply_rr *rr = &rep->answer[i];

			if (!render_rr(s, msg, len, rr, px_reply_ttl_cap(rr->ttl, r->cfg.max_ttl))) {
				res_fail(r, s, PX_RES_FAIL_TOO_BIG, now_ms, act);
				return;
			}
			s->an_count++;
			if (rr->ttl < s->ttl_min)
				s->ttl_min = rr->ttl;
		}
		answer(r, s, PX_DNS_RCODE_NOERROR, false,
		       px_reply_ttl_cap(s->ttl_min, r->cfg.max_ttl), act);
		return;
	case PX_REPLY_NXDOMAIN:
		negative(r, s, rep, msg, len, PX_DNS_RCODE_NXDOMAIN, now_ms, act);
		return;
	case PX_REPLY_NODATA:
		negative(r, s, rep, msg, len, PX_DNS_RCODE_NOERROR, now_ms, act);
		return;
	case PX_REPLY_CNAME:
		/* Restart at the target: at the current cut when the target is inside it, else
		 * at the closest cut the cut source knows, else from the root hints. */
		res_set_sname(s, rep->sname, rep->sname_len);
		if (px_reply_name_in(s->sname, s->sname_len, s->cut.zone, s->cut.zone_len))
			res_qmin_step_reset(s);
		else
			res_cut_closest(r, s);
		res_qmin_step(r, s, s->ask_labels);
		res_advance(r, s, now_ms, act);
		return;
	default: /* PX_REPLY_REFERRAL */
		if (s->referrals >= r->cfg.max_referrals) {
			res_fail(r, s, PX_RES_FAIL_REFERRALS, now_ms, act);
			return;
		}
		if (rep->cname_count > 0)
			res_set_sname(s, rep->sname, rep->sname_len);
		if (res_cut_referral(r, s, rep) != 0) {
			server_failed(r, s, PX_RES_SRV_LAME, now_ms, act);
			return;
		}
		s->referrals++;
		r->stats.referrals++;
		act->cache_cut = &s->cut;
		res_qmin_step(r, s, s->ask_labels);
		res_advance(r, s, now_ms, act);
		return;
	}
}

/*
 * Each reason's counter name and the Extended DNS Error a client gets for it. No Reachable
 * Authority (22) when the servers did not answer usefully, Invalid Data (24) when the
 * delegation gave nothing the policy lets pollux ask, Network Error (23) when pollux could not
 * send to any of them, Other (0) with the reason for a work limit: the servers answered,
 * pollux chose to stop.
 */
static const struct {
	const char *name;
	struct px_dns_ede_info ede;
	bool zone; /* the text is followed by the zone's name */
} fail_info[PX_RES_FAIL_COUNT] = {
	[PX_RES_FAIL_NONE] = {"none", {0, NULL}, false},
	[PX_RES_FAIL_NO_NS] = {"no_ns", {PX_DNS_EDE_NO_REACHABLE_AUTHORITY,
					 "no usable nameserver answered"}, false},
	[PX_RES_FAIL_QUERIES] = {"queries", {PX_DNS_EDE_OTHER, "work limit: upstream queries"},
				 false},
	[PX_RES_FAIL_REFERRALS] = {"referrals", {PX_DNS_EDE_OTHER, "work limit: referrals"},
				   false},
	[PX_RES_FAIL_GLUELESS] = {"glueless", {PX_DNS_EDE_OTHER, "work limit: glueless lookups"},
				  false},
	[PX_RES_FAIL_CNAMES] = {"cnames", {PX_DNS_EDE_OTHER, "CNAME chain too long"}, false},
	[PX_RES_FAIL_LOOP] = {"loop", {PX_DNS_EDE_OTHER, "CNAME loop"}, false},
	[PX_RES_FAIL_DEADLINE] = {"deadline", {PX_DNS_EDE_NO_REACHABLE_AUTHORITY,
					       "resolution timed out"}, false},
	[PX_RES_FAIL_TOO_BIG] = {"too_big", {PX_DNS_EDE_OTHER, "answer too large"}, false},
	[PX_RES_FAIL_POLICY] = {"policy", {PX_DNS_EDE_INVALID_DATA, "NS addresses rejected: "},
				true},
	[PX_RES_FAIL_NETWORK] = {"network", {PX_DNS_EDE_NETWORK_ERROR,
					     "no query could be sent to any nameserver"}, false},
	[PX_RES_FAIL_CANCELLED] = {"cancelled", {PX_DNS_EDE_NO_REACHABLE_AUTHORITY,
						 "nameserver unresponsive; resolution ended to "
						 "make room"}, false},
};

const char *
px_resolver_fail_name(enum px_resolver_fail f)
{
	return (unsigned)f < PX_RES_FAIL_COUNT ? fail_info[f].name : "?";
}

const struct px_dns_ede_info *
px_resolver_fail_ede(enum px_resolver_fail why, const uint8_t *zone, uint8_t zone_len,
		     struct px_dns_ede_info *ede, char *text)
{
	size_t n;

	if ((unsigned)why >= PX_RES_FAIL_COUNT || why == PX_RES_FAIL_NONE)
		return NULL;
	*ede = fail_info[why].ede;
	if (!fail_info[why].zone)
		return ede;
	n = strnlen(ede->text, PX_DNS_EDE_TEXT_MAX);
	memcpy(text, ede->text, n);
	px_wire_name_text(text + n, PX_DNS_EDE_TEXT_MAX + 1 - n, zone, zone_len);
	ede->text = text;
	return ede;
}

const char *
px_resolver_srv_name(enum px_resolver_srv s)
{
	static const char *const names[PX_RES_SRV_COUNT] = {
		"lame", "refused", "servfail", "formerr", "truncated", "malformed", "timeout",
		"too_many_rrs", "unreachable",
	};

	return (unsigned)s < PX_RES_SRV_COUNT ? names[s] : "?";
}
