/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <pollux/rdata.h>
#include <pollux/reply.h>
#include <pollux/wire.h>

#include "px_reply_int.h"

static const char *const class_names[PX_REPLY_CLASS_COUNT] = {
	[PX_REPLY_ANSWER] = "answer",       [PX_REPLY_CNAME] = "cname",
	[PX_REPLY_REFERRAL] = "referral",   [PX_REPLY_NXDOMAIN] = "nxdomain",
	[PX_REPLY_NODATA] = "nodata",       [PX_REPLY_LAME] = "lame",
	[PX_REPLY_REFUSED] = "refused",     [PX_REPLY_SERVFAIL] = "servfail",
	[PX_REPLY_FORMERR] = "formerr",     [PX_REPLY_TRUNCATED] = "truncated",
	[PX_REPLY_MALFORMED] = "malformed",
};

static const char *const bad_names[PX_REPLY_BAD_COUNT] = {
	[PX_REPLY_BAD_NONE] = "none",
	[PX_REPLY_BAD_SHORT] = "short",
	[PX_REPLY_BAD_NOT_RESPONSE] = "not_response",
	[PX_REPLY_BAD_OPCODE] = "opcode",
	[PX_REPLY_BAD_QDCOUNT] = "qdcount",
	[PX_REPLY_BAD_QUESTION] = "question",
	[PX_REPLY_BAD_NAME] = "name",
	[PX_REPLY_BAD_COUNTS] = "counts",
	[PX_REPLY_BAD_RDATA] = "rdata",
	[PX_REPLY_BAD_OPT] = "opt",
	[PX_REPLY_BAD_TOO_MANY_RRS] = "too_many_rrs",
};

static const char *const lame_names[PX_REPLY_LAME_COUNT] = {
	[PX_REPLY_LAME_NONE] = "none",
	[PX_REPLY_LAME_UPWARD] = "upward",
	[PX_REPLY_LAME_SIDEWAYS] = "sideways",
	[PX_REPLY_LAME_EMPTY] = "empty",
};

const char *
px_reply_class_name(enum px_reply_class c)
{
	return (unsigned)c < PX_REPLY_CLASS_COUNT ? class_names[c] : "invalid";
}

const char *
px_reply_bad_name(enum px_reply_bad b)
{
	return (unsigned)b < PX_REPLY_BAD_COUNT ? bad_names[b] : "invalid";
}

const char *
px_reply_lame_name(enum px_reply_lame l)
{
	return (unsigned)l < PX_REPLY_LAME_COUNT ? lame_names[l] : "invalid";
}

bool
px_reply_name_in(const uint8_t *name, unsigned name_len, const uint8_t *zone, unsigned zone_len)
{
	unsigned i = 0;

	if (zone_len == 0 || zone_len > name_len)
		return false;
	/* Drop labels from the left until what remains is as long as the zone; the names are
	 * uncompressed, so what remains then is the zone or not, byte for byte. */
	while (i < name_len && name_len - i > zone_len) {
		if (name[i] == 0)
			return false;
		i += 1u + name[i];
	}
	return i <= name_len && name_len - i == zone_len && memcmp(name + i, zone, zone_len) == 0;
}

static inline bool
name_eq(const uint8_t *a, unsigned a_len, const uint8_t *b, unsigned b_len)
{
	return a_len == b_len && memcmp(a, b, a_len) == 0;
}

/* One parse: the message, the question, and the result being filled. */
struct ctx {
	struct px_reply *r;
	struct px_reply_index *ix;
	const uint8_t *msg;
	uint16_t len;
	const struct px_reply_query *q;
	const struct px_addr_policy *policy;
	bool has_data;     /* the final sname has records of the asked type */
	uint16_t sname_id; /* the owner name equal to r->sname, or PX_REPLY_NO_NAME */
	uint16_t zone_id;  /* REFERRAL: the owner name equal to r->zone */
};

static inline bool
in_zone(const struct ctx *c, const uint8_t *name, unsigned name_len)
{
	return px_reply_name_in(name, name_len, c->q->zone, c->q->zone_len);
}

/*
 * Reads the record at the cursor into rr, its owner (lower-cased) into owner, which must hold
 * PX_DNS_NAME_BUF bytes, and its label count into *labels, and moves past it. An owner already
 * known (known_len, not 0: a compression pointer that px_reply_ix_known_owner() recognised) is
 * skipped instead. Returns the owner's wire length, or 0 on an error.
 */
static unsigned
read_rr(struct px_wire_rd *rd, struct px_reply_rr *rr, uint8_t *owner, uint8_t *labels,
	unsigned known_len)
{
	uint32_t ttl;
	unsigned n = known_len;

	rr->off = rd->pos;
	if (known_len != 0)
		px_wire_skip(rd, 2);
	else
		n = px_wire_read_name(rd, owner, labels);
	rr->type = px_wire_read_u16(rd);
	rr->rclass = px_wire_read_u16(rd);
	ttl = px_wire_read_u32(rd);
	rr->rdlen = px_wire_read_u16(rd);
	if (!px_wire_rd_need(rd, rr->rdlen))
		return 0;
	rr->ttl = ttl > INT32_MAX ? 0 : ttl; /* RFC 2181 8 */
	rr->rdata_off = rd->pos;
	rd->pos = (uint16_t)(rd->pos + rr->rdlen);
	return rd->err ? 0 : n;
}

/* Reads the name at msg[off] into dst (may be NULL); *end receives the cursor after it. */
static unsigned
read_name_at(const struct ctx *c, uint16_t off, uint8_t *dst, uint16_t *end)
{
	struct px_wire_rd rd;
	unsigned n;

	px_wire_rd_init(&rd, c->msg, c->len);
	rd.pos = off;
	n = px_wire_read_name(&rd, dst, NULL);
	*end = rd.pos;
	return n;
}

/* Validates the rdata of every type with a known layout (pollux/rdata.h) and of A and AAAA, and
 * takes in the OPT. */
static enum px_reply_bad
check_rr(struct ctx *c, enum px_reply_section s, const struct px_reply_rr *rr, unsigned owner_len,
	 uint32_t raw_ttl)
{
	switch (rr->type) {
	case PX_DNS_TYPE_A:
		return rr->rclass != PX_DNS_CLASS_IN || rr->rdlen == 4 ? PX_REPLY_BAD_NONE
								       : PX_REPLY_BAD_RDATA;
	case PX_DNS_TYPE_AAAA:
		return rr->rclass != PX_DNS_CLASS_IN || rr->rdlen == 16 ? PX_REPLY_BAD_NONE
									: PX_REPLY_BAD_RDATA;
	case PX_DNS_TYPE_OPT:
		if (s != PX_REPLY_SEC_ADDITIONAL || c->r->edns || owner_len != 1)
			return PX_REPLY_BAD_OPT;
		c->r->edns = true;
		c->r->edns_bufsize = rr->rclass;
		c->r->rcode = (uint16_t)(c->r->rcode | (raw_ttl >> 24) << 4); /* RFC 6891 6.1.3 */
		return PX_REPLY_BAD_NONE;
	default:
		switch (px_rdata_check(c->msg, c->len, rr->type, rr->rdata_off, rr->rdlen)) {
		case PX_RDATA_OK:
			return PX_REPLY_BAD_NONE;
		case PX_RDATA_BAD_NAME:
			return PX_REPLY_BAD_NAME;
		default:
			return PX_REPLY_BAD_RDATA;
		}
	}
}

/*
 * Walks every record of the three sections from the cursor (just past the question), recording
 * where each section starts; the message must end exactly after the last record. This is the
 * one pass that reads the records: each goes into the index with its owner name, which is read
 * (and hashed) here and never again.
 */
static enum px_reply_bad
walk_records(struct ctx *c, struct px_wire_rd *rd)
{
	struct px_reply_index *ix = c->ix;
	uint8_t owner[PX_DNS_NAME_BUF];

	for (unsigned s = 0; s < PX_REPLY_SEC_COUNT; s++) {
		c->r->sec_off[s] = rd->pos;
		ix->sec_first[s] = ix->rr_count;
		for (unsigned i = 0; i < c->r->sec_count[s]; i++) {
			struct px_reply_ixrr *e = &ix->rr[ix->rr_count];
			enum px_reply_bad bad;
			uint16_t start = rd->pos;
			uint16_t known = px_reply_ix_known_owner(ix, start);
			uint8_t labels;
			unsigned n = read_rr(rd, &e->rr, owner, &labels,
					     known != PX_REPLY_NO_NAME ? ix->name[known].len : 0);

			/* A bad name leaves the cursor where it was; a name or fields cut off by
			 * the end of the data are a count that lies. */
			if (n == 0)
				return rd->pos == start && start < c->len ? PX_REPLY_BAD_NAME
									  : PX_REPLY_BAD_COUNTS;
			/* The raw TTL (the OPT's carries the extended rcode) sits 6 bytes before
			 * the rdata. */
			bad = check_rr(c, (enum px_reply_section)s, &e->rr, n,
				       px_get32(c->msg + e->rr.rdata_off - 6));
			if (bad != PX_REPLY_BAD_NONE)
				return bad;
			e->name = known != PX_REPLY_NO_NAME
					  ? known
					  : px_reply_ix_add_name(ix, owner, n, labels, start,
								 c->q->zone, c->q->zone_len);
			ix->rr_count++;
		}
	}
	ix->sec_first[PX_REPLY_SEC_COUNT] = ix->rr_count;
	return rd->pos == c->len ? PX_REPLY_BAD_NONE : PX_REPLY_BAD_COUNTS;
}

static bool
type_matches(const struct ctx *c, uint16_t type)
{
	return type == c->q->qtype || (c->q->qtype == PX_DNS_TYPE_ANY && type != PX_DNS_TYPE_OPT);
}

static inline bool
owner_in_zone(const struct ctx *c, const struct px_reply_ixrr *e)
{
	return c->ix->name[e->name].in_bailiwick;
}

/* Sets r->sname to name (len bytes) and finds its owner name in the index. */
static void
set_sname(struct ctx *c, const uint8_t *name, unsigned len)
{
	if (name != c->r->sname)
		memcpy(c->r->sname, name, len);
	c->r->sname_len = (uint8_t)len;
	c->sname_id = px_reply_ix_find(c->ix, name, len);
}

/*
 * Rule 5: follows the answer section from the qname. Leaves r->sname at the last name reached,
 * the links in r->cname, and, when collect is set, the final RRset in r->answer. Each link
 * reads its target once and scans the index, not the message.
 */
static void
follow_chain(struct ctx *c, bool collect)
{
	const struct px_reply_index *ix = c->ix;
	struct px_reply *r = c->r;

	set_sname(c, c->q->qname, c->q->qname_len);
	while (in_zone(c, r->sname, r->sname_len)) {
		const struct px_reply_ixrr *link = NULL;
		uint16_t end;
		unsigned n;

		for (unsigned i = ix->sec_first[PX_REPLY_SEC_ANSWER];
		     c->sname_id != PX_REPLY_NO_NAME && i < ix->sec_first[PX_REPLY_SEC_ANSWER + 1];
		     i++) {
			const struct px_reply_ixrr *e = &ix->rr[i];

			if (e->name != c->sname_id || e->rr.rclass != c->q->qclass)
				continue;
			if (type_matches(c, e->rr.type)) {
				c->has_data = true;
				if (!collect)
					continue;
				if (r->answer_count < PX_REPLY_MAX_ANSWER)
					r->answer[r->answer_count++] = e->rr;
				else
					r->counts.answer_dropped++;
			} else if (e->rr.type == PX_DNS_TYPE_CNAME && link == NULL) {
				link = e;
			}
		}
		if (c->has_data || link == NULL)
			return;
		if (r->cname_count == PX_REPLY_MAX_CNAME) {
			r->cname_limit = true;
			return;
		}
		r->cname[r->cname_count++] = link->rr;
		n = read_name_at(c, link->rr.rdata_off, r->sname, &end);
		if (n == 0) { /* ruled out by the validation walk */
			r->sname_len = 0;
			c->sname_id = PX_REPLY_NO_NAME;
			return;
		}
		set_sname(c, r->sname, n);
	}
}

/* The first SOA in the authority section whose owner is in the bailiwick and at or above
 * sname. */
static void
find_soa(struct ctx *c, struct px_reply_above *above_sname)
{
	const struct px_reply_index *ix = c->ix;
	struct px_reply *r = c->r;
	uint16_t end;

	for (unsigned i = ix->sec_first[PX_REPLY_SEC_AUTHORITY];
	     i < ix->sec_first[PX_REPLY_SEC_AUTHORITY + 1]; i++) {
		const struct px_reply_ixrr *e = &ix->rr[i];

		if (e->rr.type != PX_DNS_TYPE_SOA || e->rr.rclass != c->q->qclass ||
		    !owner_in_zone(c, e) || !px_reply_above(ix, above_sname, e->name))
			continue;
		r->has_soa = true;
		r->soa = e->rr;
		r->soa_owner_len = (uint8_t)read_name_at(c, e->rr.off, r->soa_owner, &end);
		/* The walk checked that the rdata is two names and 20 bytes: MINIMUM is last. */
		r->soa_minimum = px_get32(c->msg + e->rr.rdata_off + e->rr.rdlen - 4);
		return;
	}
}

/*
 * Rule 9b and 9d: finds the delegation (the owner of the first NS strictly below the bailiwick
 * and at or above sname) into r->zone, and returns the lame reason the other NS records give.
 */
static enum px_reply_lame
find_delegation(struct ctx *c, struct px_reply_above *above_sname)
{
	const struct px_reply_index *ix = c->ix;
	struct px_reply *r = c->r;
	enum px_reply_lame lame = PX_REPLY_LAME_NONE;
	struct px_reply_above above_zone;
	uint16_t end;

	px_reply_above_init(&above_zone, c->q->zone, c->q->zone_len);
	for (unsigned i = ix->sec_first[PX_REPLY_SEC_AUTHORITY];
	     i < ix->sec_first[PX_REPLY_SEC_AUTHORITY + 1]; i++) {
		const struct px_reply_ixrr *e = &ix->rr[i];
		unsigned n = ix->name[e->name].len;

		if (e->rr.type != PX_DNS_TYPE_NS || e->rr.rclass != c->q->qclass)
			continue;
		if (n != c->q->zone_len && owner_in_zone(c, e) &&
		    px_reply_above(ix, above_sname, e->name)) {
			if (r->zone_len == 0) {
				r->zone_len = (uint8_t)read_name_at(c, e->rr.off, r->zone, &end);
				c->zone_id = e->name;
			}
		} else if (px_reply_above(ix, &above_zone, e->name)) {
			/* The apex NS set of an authoritative reply is not a referral at all. */
			if (!(n == c->q->zone_len && r->aa))
				lame = PX_REPLY_LAME_UPWARD;
		} else if (lame == PX_REPLY_LAME_NONE) {
			lame = PX_REPLY_LAME_SIDEWAYS;
		}
	}
	return lame;
}

/* An answer record at sname of a type that was not asked (rule 9c'): neither the answer nor a
 * CNAME link, nor a signature that goes with the others. */
static bool
is_mismatch(const struct ctx *c, const struct px_reply_ixrr *e)
{
	return e->name == c->sname_id && c->sname_id != PX_REPLY_NO_NAME &&
	       e->rr.rclass == c->q->qclass && !type_matches(c, e->rr.type) &&
	       e->rr.type != PX_DNS_TYPE_CNAME && e->rr.type != PX_DNS_TYPE_RRSIG;
}

static bool
is_link(const struct px_reply *r, uint16_t off)
{
	for (unsigned i = 0; i < r->cname_count; i++)
		if (r->cname[i].off == off)
			return true;
	return false;
}

static void
scrub_answer(struct ctx *c)
{
	const struct px_reply_index *ix = c->ix;
	struct px_reply *r = c->r;

	for (unsigned i = ix->sec_first[PX_REPLY_SEC_ANSWER];
	     i < ix->sec_first[PX_REPLY_SEC_ANSWER + 1]; i++) {
		const struct px_reply_ixrr *e = &ix->rr[i];

		if (!owner_in_zone(c, e))
			r->counts.out_of_bailiwick[PX_REPLY_SEC_ANSWER]++;
		else if (is_link(r, e->rr.off))
			continue;
		else if (r->cls == PX_REPLY_ANSWER && e->rr.rclass == c->q->qclass &&
			 type_matches(c, e->rr.type) && e->name == c->sname_id)
			continue; /* reported, or counted in answer_dropped */
		else if (is_mismatch(c, e))
			r->counts.type_mismatch++;
		else
			r->counts.ignored[PX_REPLY_SEC_ANSWER]++;
	}
}

/* Adds the target of the delegation's NS record rr to r->ns, once per name: its one read. */
static void
add_ns(struct ctx *c, const struct px_reply_rr *rr)
{
	struct px_reply_index *ix = c->ix;
	struct px_reply *r = c->r;
	uint8_t name[PX_DNS_NAME_BUF];
	uint16_t end;
	unsigned n = read_name_at(c, rr->rdata_off, name, &end);
	uint64_t h;

	if (n == 0)
		return;
	h = px_reply_ix_hash(ix, name, n);
	for (unsigned i = 0; i < r->ns_count; i++) {
		if (ix->ns_hash[i] == h && name_eq(r->ns[i].name, r->ns[i].name_len, name, n)) {
			r->counts.ns_ignored++; /* a duplicate record */
			return;
		}
	}
	if (r->ns_count == PX_REPLY_MAX_NS) {
		r->counts.ns_dropped++;
		return;
	}
	ix->ns_hash[r->ns_count] = h;
	ix->ns_owner[r->ns_count] = px_reply_ix_find_hashed(ix, name, n, h);
	struct px_reply_ns *ns = &r->ns[r->ns_count++];

	ns->rr = *rr;
	ns->name_len = (uint8_t)n;
	ns->addr_count = 0;
	ns->glue_seen = false;
	ns->addr_rejected = 0;
	memcpy(ns->name, name, n);
}

static void
scrub_authority(struct ctx *c)
{
	const struct px_reply_index *ix = c->ix;
	struct px_reply *r = c->r;

	for (unsigned i = ix->sec_first[PX_REPLY_SEC_AUTHORITY];
	     i < ix->sec_first[PX_REPLY_SEC_AUTHORITY + 1]; i++) {
		const struct px_reply_ixrr *e = &ix->rr[i];

		if (!owner_in_zone(c, e))
			r->counts.out_of_bailiwick[PX_REPLY_SEC_AUTHORITY]++;
		else if (r->has_soa && e->rr.off == r->soa.off)
			continue;
		else if (e->rr.type != PX_DNS_TYPE_NS)
			r->counts.ignored[PX_REPLY_SEC_AUTHORITY]++;
		else if (r->cls == PX_REPLY_REFERRAL && e->rr.rclass == c->q->qclass &&
			 e->name == c->zone_id)
			add_ns(c, &e->rr);
		else
			r->counts.ns_ignored++;
	}
}

/* Takes the glue record rr for ns, if the address policy accepts it. */
static void
add_glue(struct ctx *c, struct px_reply_ns *ns, const struct px_reply_rr *rr)
{
	struct px_reply *r = c->r;
	struct px_reply_addr a = {.ttl = rr->ttl, .rr_off = rr->off};
	enum px_addr_reason why;

	if (rr->type == PX_DNS_TYPE_A) {
		uint32_t be;

		a.family = 4;
		memcpy(a.addr, c->msg + rr->rdata_off, 4);
		memcpy(&be, a.addr, 4);
		why = px_addr_check4(c->policy, be);
	} else {
		a.family = 6;
		memcpy(a.addr, c->msg + rr->rdata_off, 16);
		why = px_addr_check6(c->policy, a.addr);
	}
	if (why != PX_ADDR_OK) {
		r->counts.addr_rejected[(unsigned)why < PX_ADDR_REASON_COUNT ? why : 0]++;
		if (ns->addr_rejected != UINT8_MAX)
			ns->addr_rejected++;
		return;
	}
	for (unsigned i = 0; i < ns->addr_count; i++) {
		if (ns->addr[i].family == a.family && memcmp(ns->addr[i].addr, a.addr, 16) == 0) {
			r->counts.ignored[PX_REPLY_SEC_ADDITIONAL]++; /* a duplicate record */
			return;
		}
	}
	if (ns->addr_count == PX_REPLY_MAX_ADDRS) {
		r->counts.addr_dropped++;
		return;
	}
	ns->addr[ns->addr_count++] = a;
}

/* The delegation's NS name that owner name `name` (an index) is, or NULL. */
static struct px_reply_ns *
find_ns(const struct ctx *c, uint16_t name)
{
	for (unsigned i = 0; i < c->r->ns_count; i++)
		if (c->ix->ns_owner[i] == name)
			return &c->r->ns[i];
	return NULL;
}

static void
scrub_additional(struct ctx *c)
{
	const struct px_reply_index *ix = c->ix;
	struct px_reply *r = c->r;

	for (unsigned i = ix->sec_first[PX_REPLY_SEC_ADDITIONAL];
	     i < ix->sec_first[PX_REPLY_SEC_ADDITIONAL + 1]; i++) {
		const struct px_reply_ixrr *e = &ix->rr[i];
		struct px_reply_ns *ns = NULL;

		if (e->rr.type == PX_DNS_TYPE_OPT)
			continue; /* the message's, not data: read by the walk */
		if (r->cls == PX_REPLY_REFERRAL && e->rr.rclass == PX_DNS_CLASS_IN &&
		    (e->rr.type == PX_DNS_TYPE_A || e->rr.type == PX_DNS_TYPE_AAAA))
			ns = find_ns(c, e->name);
		if (!owner_in_zone(c, e)) {
			r->counts.out_of_bailiwick[PX_REPLY_SEC_ADDITIONAL]++;
		} else if (ns != NULL) {
			/* Only in-bailiwick glue is seen: out of it, the name is as good as
			 * glueless (the resolver looks it up), whereas glue the policy turns
			 * away is a statement about where the server is. */
			ns->glue_seen = true;
			add_glue(c, ns, &e->rr);
		} else {
			r->counts.ignored[PX_REPLY_SEC_ADDITIONAL]++;
		}
	}
}

/* Rules 4 to 9, on a message the walk found well formed. */
static enum px_reply_class
classify_records(struct ctx *c)
{
	struct px_reply *r = c->r;
	struct px_reply_above above_sname;
	enum px_reply_lame lame;

	switch (r->rcode) {
	case PX_DNS_RCODE_NOERROR:
	case PX_DNS_RCODE_NXDOMAIN:
		break;
	case PX_DNS_RCODE_REFUSED:
		return PX_REPLY_REFUSED;
	case PX_DNS_RCODE_FORMERR:
		return PX_REPLY_FORMERR;
	default:
		return PX_REPLY_SERVFAIL;
	}
	follow_chain(c, r->rcode == PX_DNS_RCODE_NOERROR);
	if (c->has_data && r->rcode == PX_DNS_RCODE_NOERROR)
		return PX_REPLY_ANSWER;
	if (r->cname_limit || !in_zone(c, r->sname, r->sname_len))
		return PX_REPLY_CNAME;
	px_reply_above_init(&above_sname, r->sname, r->sname_len);
	find_soa(c, &above_sname);
	if (r->rcode == PX_DNS_RCODE_NXDOMAIN)
		return PX_REPLY_NXDOMAIN;
	if (r->has_soa)
		return PX_REPLY_NODATA;
	lame = find_delegation(c, &above_sname);
	if (r->zone_len != 0)
		return PX_REPLY_REFERRAL;
	if (r->cname_count != 0)
		return PX_REPLY_CNAME;
	/* Answer records of another type at sname (rule 9c') were left out and counted by the
	 * walk; they make no NODATA by themselves: only an authoritative server says the name has
	 * no such data, and stray NS records make the server lame whatever else it sent. */
	if (lame == PX_REPLY_LAME_NONE && !r->aa)
		lame = PX_REPLY_LAME_EMPTY;
	r->lame = lame;
	return lame == PX_REPLY_LAME_NONE ? PX_REPLY_NODATA : PX_REPLY_LAME;
}

static void
reply_reset(struct px_reply *r)
{
	r->cls = PX_REPLY_MALFORMED;
	r->bad = PX_REPLY_BAD_NONE;
	r->lame = PX_REPLY_LAME_NONE;
	r->id = r->flags = r->rcode = 0;
	r->aa = r->edns = r->cname_limit = false;
	r->edns_bufsize = 0;
	r->question_off = 0;
	memset(r->sec_off, 0, sizeof(r->sec_off));
	memset(r->sec_count, 0, sizeof(r->sec_count));
	r->cname_count = 0;
	r->sname_len = 0;
	r->answer_count = 0;
	r->has_soa = false;
	r->soa_owner_len = 0;
	r->soa_minimum = 0;
	r->zone_len = 0;
	r->ns_count = 0;
	memset(&r->counts, 0, sizeof(r->counts));
}

/* Rules 1 and 2: the header and the question. Leaves the cursor after the question. */
static enum px_reply_bad
check_question(struct ctx *c, struct px_wire_rd *rd)
{
	struct px_reply *r = c->r;
	uint8_t name[PX_DNS_NAME_BUF];
	uint16_t qdcount, qtype, qclass;
	unsigned n;

	if (c->len < PX_DNS_HDR_LEN)
		return PX_REPLY_BAD_SHORT;
	r->id = px_wire_read_u16(rd);
	r->flags = px_wire_read_u16(rd);
	qdcount = px_wire_read_u16(rd);
	for (unsigned s = 0; s < PX_REPLY_SEC_COUNT; s++)
		r->sec_count[s] = px_wire_read_u16(rd);
	r->rcode = r->flags & PX_DNS_RCODE_MASK;
	r->aa = (r->flags & PX_DNS_AA) != 0;
	if (!(r->flags & PX_DNS_QR))
		return PX_REPLY_BAD_NOT_RESPONSE;
	if ((r->flags & PX_DNS_OPCODE_MASK) >> PX_DNS_OPCODE_SHIFT != PX_DNS_OPCODE_QUERY)
		return PX_REPLY_BAD_OPCODE;
	if (qdcount != 1)
		return PX_REPLY_BAD_QDCOUNT;
	r->question_off = rd->pos;
	n = px_wire_read_name(rd, name, NULL);
	if (n == 0)
		return rd->pos >= c->len ? PX_REPLY_BAD_COUNTS : PX_REPLY_BAD_NAME;
	qtype = px_wire_read_u16(rd);
	qclass = px_wire_read_u16(rd);
	if (rd->err)
		return PX_REPLY_BAD_COUNTS;
	if (!name_eq(name, n, c->q->qname, c->q->qname_len) || qtype != c->q->qtype ||
	    qclass != c->q->qclass)
		return PX_REPLY_BAD_QUESTION;
	return PX_REPLY_BAD_NONE;
}

enum px_reply_class
px_reply_classify(struct px_reply *r, const uint8_t *msg, uint16_t len,
		  const struct px_reply_query *q)
{
	static const struct px_addr_policy default_policy; /* what px_addr_policy_init() gives */
	struct ctx c = {
		.r = r, .ix = &r->ix, .msg = msg, .len = len, .q = q,
		.policy = q->policy != NULL ? q->policy : &default_policy,
		.sname_id = PX_REPLY_NO_NAME, .zone_id = PX_REPLY_NO_NAME,
	};
	struct px_wire_rd rd;
	unsigned total;

	reply_reset(r);
	px_wire_rd_init(&rd, msg, len);
	r->bad = check_question(&c, &rd);
	if (r->bad != PX_REPLY_BAD_NONE)
		return r->cls = PX_REPLY_MALFORMED;
	if (r->flags & PX_DNS_TC)
		return r->cls = PX_REPLY_TRUNCATED;
	/* Refused before any record is read: a reply that would not fit the index is not used
	 * in part, and costs nothing to turn away. */
	total = (unsigned)r->sec_count[0] + r->sec_count[1] + r->sec_count[2];
	if (total > PX_REPLY_MAX_RRS) {
		r->bad = PX_REPLY_BAD_TOO_MANY_RRS;
		return r->cls = PX_REPLY_MALFORMED;
	}
	px_reply_ix_reset(&r->ix, msg, len, total);
	r->bad = walk_records(&c, &rd);
	if (r->bad != PX_REPLY_BAD_NONE)
		return r->cls = PX_REPLY_MALFORMED;
	r->cls = classify_records(&c);
	switch (r->cls) {
	case PX_REPLY_REFUSED:
	case PX_REPLY_FORMERR:
	case PX_REPLY_SERVFAIL:
		return r->cls; /* nothing in it is used: no scrub accounting */
	default:
		break;
	}
	if (r->cls != PX_REPLY_ANSWER)
		r->answer_count = 0;
	if (r->cls != PX_REPLY_NXDOMAIN && r->cls != PX_REPLY_NODATA)
		r->has_soa = false;
	if (r->cls != PX_REPLY_REFERRAL)
		r->zone_len = 0;
	scrub_answer(&c);
	scrub_authority(&c);
	scrub_additional(&c);
	return r->cls;
}

uint32_t
px_reply_min_ttl(const struct px_reply_rr *rrs, unsigned n)
{
	uint32_t ttl = UINT32_MAX;

	for (unsigned i = 0; i < n; i++)
		if (rrs[i].ttl < ttl)
			ttl = rrs[i].ttl;
	return ttl;
}

uint32_t
px_reply_answer_ttl(const struct px_reply *r)
{
	return r->answer_count != 0 ? px_reply_min_ttl(r->answer, r->answer_count) : 0;
}

uint32_t
px_reply_chain_ttl(const struct px_reply *r)
{
	uint32_t a = px_reply_min_ttl(r->answer, r->answer_count);
	uint32_t b = px_reply_min_ttl(r->cname, r->cname_count);
	uint32_t m = a < b ? a : b;

	return m == UINT32_MAX ? 0 : m;
}

uint32_t
px_reply_negative_ttl(const struct px_reply *r)
{
	if (!r->has_soa)
		return 0;
	return r->soa.ttl < r->soa_minimum ? r->soa.ttl : r->soa_minimum;
}

uint32_t
px_reply_referral_ttl(const struct px_reply *r)
{
	uint32_t ttl = UINT32_MAX;

	for (unsigned i = 0; i < r->ns_count; i++)
		if (r->ns[i].rr.ttl < ttl)
			ttl = r->ns[i].rr.ttl;
	return r->ns_count != 0 ? ttl : 0;
}
