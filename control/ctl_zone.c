/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A local zone is loaded in three steps, each finished before the next starts, so that a bad
 * file leaves the cache as it was:
 * 1. parse: ldns reads the file record by record (it handles $ORIGIN, $TTL, relative names,
 *    parentheses and comments) and each record is converted at once to wire form (struct
 *    ctl_rr), so that nothing after this step touches ldns;
 * 2. build: the records are sorted, checked (one SOA, every owner at or below it, the CNAME
 *    rules) and rendered into the entries to insert (struct ctl_cache_item);
 * 3. insert: the entries go into the cache; if one fails, what was there before is put back.
 *
 * Wildcards ('*' labels) and DNAME records are plain data here, as in Unbound's local data: a
 * '*' name is answered only when asked for literally and a DNAME does not rewrite the names
 * below its owner. NS records below the apex are data too, not delegations.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>

#include <ldns/ldns.h>

#include <pollux/wire.h>

#include "ctl_rrfile.h"
#include "ctl_cache_batch.h"
#include "ctl_zone.h"
#include "dp_cache.h"

RTE_LOG_REGISTER(ctl_zone_logtype, pollux.ctl.zone, INFO);
#define ZONE_LOG(level, ...) rte_log(RTE_LOG_##level, ctl_zone_logtype, "zone: " __VA_ARGS__)

/* An entry's records must fit a maximal message after the header and the longest question. */
#define ZONE_BLOB_MAX (UINT16_MAX - PX_DNS_HDR_LEN - PX_DNS_MAX_NAME - 4)
/* The shortest record (a pointer owner and an empty rdata) takes 12 bytes. */
#define ZONE_BLOB_MAX_RRS (ZONE_BLOB_MAX / 12 + 1)
/* A longer chain is a configuration mistake, and the bound keeps every answer small. */
#define ZONE_MAX_CHAIN 8
#define ZONE_ERR_LEN 512

enum zone_section {
	ZONE_AN,
	ZONE_NS,
	ZONE_SECTIONS,
};

/* A name that exists: an owner, or an empty non-terminal (a tail of an owner's wire form). */
struct zone_name {
	const uint8_t *lc;
	uint8_t len;
	bool ent;
};

/* One entry to insert: its key and what dp_cache_entry_new() needs besides. */
/* The entry being rendered. */
struct blob {
	struct dp_cache_key key;
	bool overflow;
	uint16_t count[ZONE_SECTIONS];
	uint16_t ttl_off_count;
	uint32_t ttl; /* minimum over the records */
	size_t len;
	uint8_t buf[ZONE_BLOB_MAX];
	uint16_t ttl_off[ZONE_BLOB_MAX_RRS];
};

/* The CNAMEs followed from one owner and where they lead. */
enum chain_end {
	CHAIN_DATA,     /* the target exists in the zone */
	CHAIN_NXDOMAIN, /* the target is in the zone and does not exist */
	CHAIN_OUT,      /* the target is outside the zone: the resolver's business */
};

struct chain {
	const struct ctl_rr *rr[ZONE_MAX_CHAIN];
	unsigned count;
	enum chain_end end;
	uint8_t target_len;
	uint8_t target[PX_DNS_MAX_NAME]; /* lower-cased */
};

struct ctl_zone {
	const char *path;
	char err[ZONE_ERR_LEN];
	struct ctl_rr *rrs; /* file order while parsing, then sorted by owner, type, rdata */
	size_t rr_count;
	unsigned soa_count, soa_line;
	const struct ctl_rr *soa;
	uint32_t neg_ttl; /* min(SOA TTL, SOA MINIMUM), RFC 2308 section 5 */
	struct zone_name *names;
	size_t name_count, name_cap;
	struct ctl_cache_item *entries; /* each ans.rr and ans.ttl_off malloc'ed */
	size_t entry_count, entry_cap;
	struct blob *blob;
};

static int __rte_format_printf(4, 5)
zone_err(struct ctl_zone *z, unsigned line, int rc, const char *fmt, ...)
{
	char msg[ZONE_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line != 0)
		snprintf(z->err, sizeof(z->err), "%s:%u: %.400s", z->path, line, msg);
	else
		snprintf(z->err, sizeof(z->err), "%s: %.400s", z->path, msg);
	return rc;
}

static int
zone_nomem(struct ctl_zone *z)
{
	return zone_err(z, 0, -ENOMEM, "out of memory");
}

/* What a key stands for, for messages: its type, or the kind of marker it is. */
static const char *
key_str(char *buf, size_t size, const struct dp_cache_key *k)
{
	if (k->kind == DP_CACHE_RRSET)
		return ctl_rrfile_type_str(buf, size, k->qtype);
	snprintf(buf, size, "%s", k->kind == DP_CACHE_NAME ? "(name)" : "(zone)");
	return buf;
}

/* Returns arr, or a bigger copy of it when it is full, or NULL (arr left as it was). */
static void *
grow(void *arr, size_t *cap, size_t count, size_t elem)
{
	size_t ncap;
	void *p;

	if (count < *cap)
		return arr;
	ncap = *cap != 0 ? *cap * 2 : 64;
	p = realloc(arr, ncap * elem);
	if (p != NULL)
		*cap = ncap;
	return p;
}

/* Rejects what ldns accepts but a local zone cannot hold, and counts SOAs as they come, so
 * that the second one can be reported with its line. */
static int
zone_rr_check(struct ctl_rrfile *f, const ldns_rr *rr, const struct ctl_rr *r, void *arg)
{
	struct ctl_zone *z = arg;
	char tbuf[32];

	if (r->rclass != LDNS_RR_CLASS_IN)
		return ctl_rrfile_err(f, r->line, -EINVAL, "class %u: only IN is supported",
				      (unsigned)r->rclass);
	/* 128-255 are the meta and query types (RFC 6895 3.1), OPT exists only in messages;
	 * ctl_rrfile refuses type 0. */
	if (r->type == PX_DNS_TYPE_OPT || (r->type >= 128 && r->type <= 255))
		return ctl_rrfile_err(f, r->line, -EINVAL, "type %s cannot be zone data",
				      ctl_rrfile_type_str(tbuf, sizeof(tbuf), r->type));
	/* The chain is followed through the rdata as a name: it must be one. */
	if (r->type == PX_DNS_TYPE_CNAME &&
	    (ldns_rr_rd_count(rr) != 1 ||
	     ldns_rdf_get_type(ldns_rr_rdf(rr, 0)) != LDNS_RDF_TYPE_DNAME))
		return ctl_rrfile_err(f, r->line, -EINVAL, "malformed CNAME rdata");
	if (r->type != PX_DNS_TYPE_SOA)
		return 0;
	if (++z->soa_count > 1)
		return ctl_rrfile_err(f, r->line, -EINVAL,
				      "a second SOA record (the first is at line %u)", z->soa_line);
	z->soa_line = r->line;
	return 0;
}

/* Reads the file into z->rrs, in file order. */
static int
zone_parse(struct ctl_zone *z)
{
	struct ctl_rrfile f;
	int rc;

	ctl_rrfile_init(&f, z->path, CTL_RRFILE_ORIGIN_NONE);
	f.check = zone_rr_check;
	f.check_arg = z;
	rc = ctl_rrfile_read_file(&f, z->path);
	if (rc < 0)
		snprintf(z->err, sizeof(z->err), "%s", f.err);
	z->rrs = f.rrs;
	z->rr_count = f.rr_count;
	return rc;
}

static bool
same_owner(const struct ctl_rr *a, const struct ctl_rr *b)
{
	return ctl_rrfile_name_eq(a->owner_lc, a->owner_len, b->owner_lc, b->owner_len);
}

static bool
same_rrset(const struct ctl_rr *a, const struct ctl_rr *b)
{
	return a->type == b->type && same_owner(a, b);
}

static size_t
owner_end(const struct ctl_zone *z, size_t i)
{
	size_t j = i + 1;

	while (j < z->rr_count && same_owner(&z->rrs[i], &z->rrs[j]))
		j++;
	return j;
}

static size_t
rrset_end(const struct ctl_zone *z, size_t i)
{
	size_t j = i + 1;

	while (j < z->rr_count && same_rrset(&z->rrs[i], &z->rrs[j]))
		j++;
	return j;
}

/* Index of the first record at or after (name, type) in sort order. */
static size_t
rr_lower_bound(const struct ctl_zone *z, const uint8_t *name, uint8_t len, uint16_t type)
{
	size_t lo = 0, hi = z->rr_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ctl_rr *r = &z->rrs[mid];
		int c = ctl_rrfile_name_cmp(r->owner_lc, r->owner_len, name, len);

		if (c < 0 || (c == 0 && r->type < type))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct ctl_rr *
rrset_find(const struct ctl_zone *z, const uint8_t *name, uint8_t len, uint16_t type)
{
	size_t i = rr_lower_bound(z, name, len, type);

	if (i == z->rr_count || z->rrs[i].type != type ||
	    !ctl_rrfile_name_eq(z->rrs[i].owner_lc, z->rrs[i].owner_len, name, len))
		return NULL;
	return &z->rrs[i];
}

/* Finds the SOA and checks that every owner is at or below it, in file order, so that the
 * first offending line is the one reported. */
static int
zone_check_apex(struct ctl_zone *z)
{
	char nbuf[CTL_RRFILE_NAME_STR_LEN], abuf[CTL_RRFILE_NAME_STR_LEN];
	const struct ctl_rr *soa = NULL;

	if (z->soa_count == 0)
		return zone_err(z, 0, -EINVAL, "no SOA record");
	for (size_t i = 0; i < z->rr_count; i++)
		if (z->rrs[i].type == PX_DNS_TYPE_SOA)
			soa = &z->rrs[i];
	for (size_t i = 0; i < z->rr_count; i++) {
		const struct ctl_rr *r = &z->rrs[i];

		if (!ctl_rrfile_name_is_under(r->owner_lc, r->owner_len, soa->owner_lc, soa->owner_len))
			return zone_err(z, r->line, -EINVAL, "%s is outside the zone %s",
					ctl_rrfile_name_str(nbuf, sizeof(nbuf), r->owner, r->owner_len),
					ctl_rrfile_name_str(abuf, sizeof(abuf), soa->owner, soa->owner_len));
	}
	/* Two names and five 32-bit fields. */
	if (soa->rdlen < 22)
		return zone_err(z, soa->line, -EINVAL, "malformed SOA rdata");
	return 0;
}

/* Sorts, collapses identical records and gives every RRset its smallest TTL (RFC 2181 5.2). */
static void
zone_sort(struct ctl_zone *z)
{
	size_t n = 0;

	qsort(z->rrs, z->rr_count, sizeof(*z->rrs), ctl_rrfile_rr_cmp);
	for (size_t i = 0; i < z->rr_count; i++) {
		struct ctl_rr *r = &z->rrs[i];

		if (n > 0 && ctl_rrfile_rr_cmp(&z->rrs[n - 1], r) == 0) {
			z->rrs[n - 1].ttl = RTE_MIN(z->rrs[n - 1].ttl, r->ttl);
			free(r->owner);
			continue;
		}
		z->rrs[n++] = *r;
	}
	z->rr_count = n;
	for (size_t i = 0, end; i < n; i = end) {
		uint32_t ttl = UINT32_MAX;

		end = rrset_end(z, i);
		for (size_t j = i; j < end; j++)
			ttl = RTE_MIN(ttl, z->rrs[j].ttl);
		for (size_t j = i; j < end; j++)
			z->rrs[j].ttl = ttl;
	}
}

static int
name_entry_cmp(const void *pa, const void *pb)
{
	const struct zone_name *a = pa, *b = pb;
	int r = ctl_rrfile_name_cmp(a->lc, a->len, b->lc, b->len);

	/* An owner sorts before the same name seen as an empty non-terminal, so it is kept. */
	return r != 0 ? r : (int)a->ent - (int)b->ent;
}

static int
name_push(struct ctl_zone *z, const uint8_t *lc, uint8_t len, bool ent)
{
	struct zone_name *names = grow(z->names, &z->name_cap, z->name_count, sizeof(*names));

	if (names == NULL)
		return zone_nomem(z);
	z->names = names;
	z->names[z->name_count++] = (struct zone_name){.lc = lc, .len = len, .ent = ent};
	return 0;
}

/* Every name that exists: the owners and, between each owner and the apex, the names that own
 * nothing but have something below them (empty non-terminals, RFC 8020). */
static int
zone_collect_names(struct ctl_zone *z)
{
	uint8_t apex_len = z->soa->owner_len;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < z->rr_count; i = owner_end(z, i)) {
		const struct ctl_rr *r = &z->rrs[i];

		rc = name_push(z, r->owner_lc, r->owner_len, false);
		for (size_t off = r->owner_lc[0] + 1u; rc == 0 && r->owner_len - off > apex_len;
		     off += r->owner_lc[off] + 1u)
			rc = name_push(z, r->owner_lc + off, (uint8_t)(r->owner_len - off), true);
		if (rc < 0)
			return rc;
	}
	qsort(z->names, z->name_count, sizeof(*z->names), name_entry_cmp);
	for (size_t i = 0; i < z->name_count; i++) {
		const struct zone_name *a = &z->names[i];

		if (n > 0 && ctl_rrfile_name_eq(z->names[n - 1].lc, z->names[n - 1].len, a->lc, a->len))
			continue;
		z->names[n++] = *a;
	}
	z->name_count = n;
	return 0;
}

static bool
name_exists(const struct ctl_zone *z, const uint8_t *lc, uint8_t len)
{
	size_t lo = 0, hi = z->name_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ctl_rrfile_name_cmp(z->names[mid].lc, z->names[mid].len, lc, len);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* A CNAME owner has nothing else (RFC 1034 3.6.2), and one CNAME at most (RFC 2181 10.1). */
static int
zone_check_cnames(struct ctl_zone *z)
{
	char nbuf[CTL_RRFILE_NAME_STR_LEN];

	for (size_t i = 0, end; i < z->rr_count; i = end) {
		const struct ctl_rr *cn;
		size_t ci;

		end = owner_end(z, i);
		cn = rrset_find(z, z->rrs[i].owner_lc, z->rrs[i].owner_len, PX_DNS_TYPE_CNAME);
		if (cn == NULL || end - i == 1)
			continue;
		ci = (size_t)(cn - z->rrs);
		return zone_err(z, cn->line, -EINVAL, "%s: %s",
				ctl_rrfile_name_str(nbuf, sizeof(nbuf), cn->owner, cn->owner_len),
				rrset_end(z, ci) - ci > 1 ? "more than one CNAME"
							  : "CNAME and other data");
	}
	return 0;
}

static void
blob_start(struct blob *b, const uint8_t *name, uint8_t len, uint16_t qtype, uint8_t kind)
{
	b->key.qtype = qtype;
	b->key.qclass = PX_DNS_CLASS_IN;
	b->key.kind = kind;
	b->key.name_len = len;
	memcpy(b->key.name, name, len);
	b->overflow = false;
	b->count[ZONE_AN] = 0;
	b->count[ZONE_NS] = 0;
	b->ttl_off_count = 0;
	b->ttl = UINT32_MAX;
	b->len = 0;
}

/*
 * Appends one record. Its owner becomes a pointer to the question when it is the question's
 * name: RRSET and NAME entries answer their own name, which the response echoes at offset 12,
 * but a ZONE entry answers some name below its key. Callers append section by section.
 */
static void
blob_put(struct blob *b, enum zone_section s, const struct ctl_rr *rr, uint32_t ttl)
{
	const struct dp_cache_key *k = &b->key;
	bool ptr = k->kind != DP_CACHE_ZONE &&
		   ctl_rrfile_name_eq(rr->owner_lc, rr->owner_len, k->name, k->name_len);
	size_t need = (ptr ? 2u : rr->owner_len) + 10u + rr->rdlen;
	uint8_t *p = b->buf + b->len;

	if (b->overflow || b->len + need > ZONE_BLOB_MAX) {
		b->overflow = true;
		return;
	}
	if (ptr) {
		px_put16(p, PX_DNS_QNAME_PTR);
		p += 2;
	} else {
		memcpy(p, rr->owner, rr->owner_len);
		p += rr->owner_len;
	}
	px_put16(p, rr->type);
	px_put16(p + 2, PX_DNS_CLASS_IN);
	b->ttl_off[b->ttl_off_count++] = (uint16_t)(p + 4 - b->buf);
	px_put32(p + 4, ttl);
	px_put16(p + 8, rr->rdlen);
	memcpy(p + 10, rr->rdata, rr->rdlen);
	b->len += need;
	b->count[s]++;
	b->ttl = RTE_MIN(b->ttl, ttl);
}

static void
blob_put_rrset(struct blob *b, const struct ctl_zone *z, size_t i)
{
	for (size_t end = rrset_end(z, i); i < end; i++)
		blob_put(b, ZONE_AN, &z->rrs[i], z->rrs[i].ttl);
}

/* The SOA of a negative answer carries the negative TTL (RFC 2308 section 3). */
static void
blob_put_soa(struct blob *b, const struct ctl_zone *z)
{
	blob_put(b, ZONE_NS, z->soa, z->neg_ttl);
}

/* Turns the blob into an entry of the list to insert. */
static int
zone_entry_add(struct ctl_zone *z, uint8_t rcode, unsigned line)
{
	const struct blob *b = z->blob;
	char nbuf[CTL_RRFILE_NAME_STR_LEN], tbuf[32];
	struct ctl_cache_item *e;
	uint8_t *rr;
	uint16_t *ttl_off;

	if (b->overflow)
		return zone_err(z, line, -EINVAL, "%s %s: answer larger than %u bytes",
				ctl_rrfile_name_str(nbuf, sizeof(nbuf), b->key.name, b->key.name_len),
				key_str(tbuf, sizeof(tbuf), &b->key), ZONE_BLOB_MAX);
	e = grow(z->entries, &z->entry_cap, z->entry_count, sizeof(*z->entries));
	if (e == NULL)
		return zone_nomem(z);
	z->entries = e;
	rr = malloc(b->len);
	ttl_off = malloc(b->ttl_off_count * sizeof(*ttl_off));
	if (rr == NULL || ttl_off == NULL) {
		free(rr);
		free(ttl_off);
		return zone_nomem(z);
	}
	memcpy(rr, b->buf, b->len);
	memcpy(ttl_off, b->ttl_off, b->ttl_off_count * sizeof(*ttl_off));
	e = &z->entries[z->entry_count++];
	e->key = b->key;
	e->ans = (struct dp_cache_answer){
		.rcode = rcode,
		.flags = DP_CACHE_F_AA | DP_CACHE_F_PINNED,
		.ttl = b->ttl,
		.an_count = b->count[ZONE_AN],
		.ns_count = b->count[ZONE_NS],
		.rr = rr,
		.rr_len = (uint16_t)b->len,
		.ttl_off = ttl_off,
		.ttl_off_count = b->ttl_off_count,
	};
	return 0;
}

static int
build_nodata(struct ctl_zone *z, const uint8_t *lc, uint8_t len)
{
	blob_start(z->blob, lc, len, 0, DP_CACHE_NAME);
	blob_put_soa(z->blob, z);
	return zone_entry_add(z, PX_DNS_RCODE_NOERROR, 0);
}

/* A name with data and no CNAME: one entry per RRset, one for ANY, and NODATA. */
static int
build_plain(struct ctl_zone *z, size_t first, size_t end)
{
	const struct ctl_rr *o = &z->rrs[first];
	struct blob *b = z->blob;
	int rc;

	for (size_t i = first; i < end; i = rrset_end(z, i)) {
		blob_start(b, o->owner_lc, o->owner_len, z->rrs[i].type, DP_CACHE_RRSET);
		blob_put_rrset(b, z, i);
		rc = zone_entry_add(z, PX_DNS_RCODE_NOERROR, z->rrs[i].line);
		if (rc < 0)
			return rc;
	}
	blob_start(b, o->owner_lc, o->owner_len, PX_DNS_TYPE_ANY, DP_CACHE_RRSET);
	for (size_t i = first; i < end; i = rrset_end(z, i))
		blob_put_rrset(b, z, i);
	rc = zone_entry_add(z, PX_DNS_RCODE_NOERROR, o->line);
	if (rc < 0)
		return rc;
	return build_nodata(z, o->owner_lc, o->owner_len);
}

static int
chain_follow(struct ctl_zone *z, const struct ctl_rr *cn, struct chain *ch)
{
	const struct ctl_rr *c = cn;
	char nbuf[CTL_RRFILE_NAME_STR_LEN];

	ch->count = 0;
	for (;;) {
		for (unsigned k = 0; k < ch->count; k++)
			if (same_owner(ch->rr[k], c))
				return zone_err(z, cn->line, -EINVAL, "%s: CNAME loop",
						ctl_rrfile_name_str(nbuf, sizeof(nbuf), cn->owner,
							 cn->owner_len));
		if (ch->count == ZONE_MAX_CHAIN)
			return zone_err(z, cn->line, -EINVAL, "%s: more than %u CNAMEs in a chain",
					ctl_rrfile_name_str(nbuf, sizeof(nbuf), cn->owner, cn->owner_len),
					ZONE_MAX_CHAIN);
		ch->rr[ch->count++] = c;
		/* ldns stores a CNAME's rdata as one uncompressed name: the rdata is the target. */
		ctl_rrfile_name_lower(ch->target, c->rdata, c->rdlen);
		ch->target_len = (uint8_t)c->rdlen;
		if (!ctl_rrfile_name_is_under(ch->target, ch->target_len, z->soa->owner_lc,
				   z->soa->owner_len)) {
			ch->end = CHAIN_OUT;
			return 0;
		}
		c = rrset_find(z, ch->target, ch->target_len, PX_DNS_TYPE_CNAME);
		if (c == NULL) {
			ch->end = name_exists(z, ch->target, ch->target_len) ? CHAIN_DATA
									     : CHAIN_NXDOMAIN;
			return 0;
		}
	}
}

static void
blob_put_chain(struct blob *b, const struct chain *ch)
{
	for (unsigned k = 0; k < ch->count; k++)
		blob_put(b, ZONE_AN, ch->rr[k], ch->rr[k]->ttl);
}

/* The chain and each RRset of its target, for the types the target has. */
static int
build_cname_targets(struct ctl_zone *z, const struct ctl_rr *cn, const struct chain *ch)
{
	struct blob *b = z->blob;
	size_t i = rr_lower_bound(z, ch->target, ch->target_len, 0);
	int rc;

	while (i < z->rr_count &&
	       ctl_rrfile_name_eq(z->rrs[i].owner_lc, z->rrs[i].owner_len, ch->target, ch->target_len)) {
		blob_start(b, cn->owner_lc, cn->owner_len, z->rrs[i].type, DP_CACHE_RRSET);
		blob_put_chain(b, ch);
		blob_put_rrset(b, z, i);
		rc = zone_entry_add(z, PX_DNS_RCODE_NOERROR, cn->line);
		if (rc < 0)
			return rc;
		i = rrset_end(z, i);
	}
	return 0;
}

/*
 * A CNAME owner: the CNAME alone for qtype CNAME and ANY, the chain and the target's RRset for
 * every type the target has, and for any other type the chain followed by what the target
 * gives: NODATA, NXDOMAIN, or nothing when the target is not ours.
 */
static int
build_cname(struct ctl_zone *z, size_t i)
{
	static const uint16_t own_types[] = {PX_DNS_TYPE_CNAME, PX_DNS_TYPE_ANY};
	const struct ctl_rr *cn = &z->rrs[i];
	struct blob *b = z->blob;
	struct chain ch;
	int rc;

	rc = chain_follow(z, cn, &ch);
	for (unsigned k = 0; rc == 0 && k < RTE_DIM(own_types); k++) {
		blob_start(b, cn->owner_lc, cn->owner_len, own_types[k], DP_CACHE_RRSET);
		blob_put(b, ZONE_AN, cn, cn->ttl);
		rc = zone_entry_add(z, PX_DNS_RCODE_NOERROR, cn->line);
	}
	if (rc == 0 && ch.end == CHAIN_DATA)
		rc = build_cname_targets(z, cn, &ch);
	if (rc < 0)
		return rc;
	blob_start(b, cn->owner_lc, cn->owner_len, 0, DP_CACHE_NAME);
	blob_put_chain(b, &ch);
	if (ch.end != CHAIN_OUT)
		blob_put_soa(b, z);
	return zone_entry_add(z, ch.end == CHAIN_NXDOMAIN ? PX_DNS_RCODE_NXDOMAIN
							   : PX_DNS_RCODE_NOERROR,
			      cn->line);
}

static int
zone_build_entries(struct ctl_zone *z)
{
	const struct ctl_rr *soa = z->soa;
	int rc = 0;

	for (size_t i = 0, end; rc == 0 && i < z->rr_count; i = end) {
		end = owner_end(z, i);
		/* zone_check_cnames() left a CNAME owner with its CNAME alone. */
		if (z->rrs[i].type == PX_DNS_TYPE_CNAME)
			rc = build_cname(z, i);
		else
			rc = build_plain(z, i, end);
	}
	for (size_t i = 0; rc == 0 && i < z->name_count; i++)
		if (z->names[i].ent)
			rc = build_nodata(z, z->names[i].lc, z->names[i].len);
	if (rc < 0)
		return rc;
	blob_start(z->blob, soa->owner_lc, soa->owner_len, 0, DP_CACHE_ZONE);
	blob_put_soa(z->blob, z);
	return zone_entry_add(z, PX_DNS_RCODE_NXDOMAIN, soa->line);
}

static int
zone_build(struct ctl_zone *z)
{
	uint32_t minimum;
	int rc;

	rc = zone_check_apex(z);
	if (rc < 0)
		return rc;
	zone_sort(z);
	for (size_t i = 0; i < z->rr_count; i++)
		if (z->rrs[i].type == PX_DNS_TYPE_SOA)
			z->soa = &z->rrs[i];
	minimum = px_get32(z->soa->rdata + z->soa->rdlen - 4);
	z->neg_ttl = RTE_MIN(z->soa->ttl, minimum);
	rc = zone_collect_names(z);
	if (rc == 0)
		rc = zone_check_cnames(z);
	if (rc < 0)
		return rc;
	z->blob = malloc(sizeof(*z->blob));
	if (z->blob == NULL)
		return zone_nomem(z);
	return zone_build_entries(z);
}

static int
zone_insert(struct ctl_zone *z, struct dp_cache *c, uint64_t now_ms)
{
	char nbuf[CTL_RRFILE_NAME_STR_LEN], tbuf[32];
	size_t failed;
	int rc = ctl_cache_insert_all(c, z->entries, z->entry_count, now_ms, &failed);

	if (rc == -ENOSPC) {
		const struct dp_cache_key *k = &z->entries[failed].key;

		zone_err(z, 0, rc, "%s %s: no room left in the cache for pinned entries",
			 ctl_rrfile_name_str(nbuf, sizeof(nbuf), k->name, k->name_len),
			 key_str(tbuf, sizeof(tbuf), k));
	} else if (rc < 0) {
		zone_err(z, 0, rc, "inserting into the cache: %s", strerror(-rc));
	}
	return rc;
}

static void
zone_free(struct ctl_zone *z)
{
	for (size_t i = 0; i < z->rr_count; i++)
		free(z->rrs[i].owner);
	for (size_t i = 0; i < z->entry_count; i++) {
		free((void *)z->entries[i].ans.rr);
		free((void *)z->entries[i].ans.ttl_off);
	}
	free(z->rrs);
	free(z->names);
	free(z->entries);
	free(z->blob);
}

struct ctl_zone *
ctl_zone_build(const char *path, struct ctl_zone_info *info, char *err, size_t err_len)
{
	struct ctl_zone *z = calloc(1, sizeof(*z));
	char abuf[CTL_RRFILE_NAME_STR_LEN];
	int rc;

	if (z == NULL) {
		snprintf(err, err_len, "%s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	z->path = path;
	rc = zone_parse(z);
	if (rc == 0)
		rc = zone_build(z);
	if (rc < 0) {
		ZONE_LOG(ERR, "zone_rejected %s\n", z->err);
		snprintf(err, err_len, "%s", z->err);
		ctl_zone_free(z);
		errno = -rc;
		return NULL;
	}
	if (info != NULL) {
		ctl_rrfile_name_str(info->apex, sizeof(info->apex), z->soa->owner, z->soa->owner_len);
		info->rr_count = (unsigned)z->rr_count;
		info->entry_count = (unsigned)z->entry_count;
		info->apex_labels = 0;
		for (unsigned i = 0; z->soa->owner[i] != 0; i += 1u + z->soa->owner[i])
			info->apex_labels++;
	}
	ZONE_LOG(INFO, "zone_built %s: %s, %zu records, %zu entries\n", path,
		 ctl_rrfile_name_str(abuf, sizeof(abuf), z->soa->owner, z->soa->owner_len),
		 z->rr_count, z->entry_count);
	err[0] = '\0';
	return z;
}

const struct ctl_cache_item *
ctl_zone_items(const struct ctl_zone *z, size_t *count)
{
	*count = z->entry_count;
	return z->entries;
}

void
ctl_zone_free(struct ctl_zone *z)
{
	if (z == NULL)
		return;
	zone_free(z);
	free(z);
}

int
ctl_zone_load(struct dp_cache *c, const char *path, uint64_t now_ms,
	      struct ctl_zone_info *info, char *err, size_t err_len)
{
	struct ctl_zone *z = ctl_zone_build(path, info, err, err_len);
	int rc;

	if (z == NULL)
		return -errno;
	rc = zone_insert(z, c, now_ms);
	if (rc < 0) {
		ZONE_LOG(ERR, "zone_rejected %s\n", z->err);
		snprintf(err, err_len, "%s", z->err);
	}
	ctl_zone_free(z);
	return rc;
}
