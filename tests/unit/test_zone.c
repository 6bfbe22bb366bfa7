/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <check.h>

#include <pollux/wire.h>

#include "ctl_zone.h"
#include "dp_cache.h"
#include "dp_clock.h"

static struct rte_rcu_qsbr *qsbr;
static struct dp_cache *cache;
static unsigned cache_seq;
static char zpath[64];
static char err[512];

/*
 * The zone most tests read. Line numbers matter to some tests; www's A RRset has two TTLs and
 * a duplicate, c.example. and b.c.example. are empty non-terminals.
 */
static const char main_zone[] =
	"$ORIGIN example.\n"
	"$TTL 300\n"
	"@\t3600 IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 60\n"
	"@\tNS ns1\n"
	"ns1\tA 192.0.2.53\n"
	"www\tA 192.0.2.2\n"
	"www\t100 A 192.0.2.1\n"
	"www\tA 192.0.2.2\n"
	"www\t600 AAAA 2001:db8::1\n"
	"a.b.c\tTXT \"deep\"\n"
	"alias\tCNAME www\n"
	"c1\tCNAME c2\n"
	"c2\t200 CNAME www\n"
	"gone\tCNAME nothere\n"
	"ext\tCNAME www.example.net.\n"
	"toent\tCNAME b.c\n"
	"zero\t0 A 192.0.2.9\n";

#define MAIN_RR_COUNT 14     /* 15 records, one duplicate */
#define MAIN_ENTRY_COUNT 44

/* A record of an entry's blob, as the tests see it. */
struct trr {
	bool ptr;
	uint8_t owner[PX_DNS_MAX_NAME];
	uint8_t owner_len;
	uint16_t type, rclass, rdlen;
	uint32_t ttl;
	uint16_t ttl_pos;
	const uint8_t *rdata;
};

static struct dp_cache *
cache_new(uint32_t entries)
{
	char name[32];
	struct dp_cache *c;

	snprintf(name, sizeof(name), "zone%u", cache_seq++);
	c = dp_cache_create(name, entries, qsbr, SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(c);
	return c;
}

static void
setup(void)
{
	cache = cache_new(4096);
	zpath[0] = '\0';
	err[0] = '\0';
}

static void
teardown(void)
{
	dp_cache_free(cache);
	cache = NULL;
	if (zpath[0] != '\0')
		unlink(zpath);
}

/* Writes text to a new temporary file, removed by teardown(). */
static const char *
zone_file(const char *text)
{
	size_t len = strlen(text);
	int fd;

	if (zpath[0] != '\0')
		unlink(zpath);
	snprintf(zpath, sizeof(zpath), "/tmp/test_zone_XXXXXX");
	fd = mkstemp(zpath);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return zpath;
}

static int
load_text(struct dp_cache *c, const char *text, struct ctl_zone_info *info)
{
	return ctl_zone_load(c, zone_file(text), dp_clock_ms(), info, err, sizeof(err));
}

static void
load_main(void)
{
	ck_assert_msg(load_text(cache, main_zone, NULL) == 0, "%s", err);
}

/* Wire form of a presentation name, keeping its case. */
static uint8_t
wire(uint8_t *out, const char *pres)
{
	uint8_t len = 0;

	while (*pres != '\0' && strcmp(pres, ".") != 0) {
		const char *dot = strchr(pres, '.');
		size_t l = dot != NULL ? (size_t)(dot - pres) : strlen(pres);

		out[len++] = (uint8_t)l;
		memcpy(out + len, pres, l);
		len = (uint8_t)(len + l);
		pres += l + (dot != NULL);
	}
	out[len++] = 0;
	return len;
}

static const struct dp_cache_entry *
lookup_in(const struct dp_cache *c, const char *name, uint16_t qtype, uint8_t kind)
{
	uint8_t w[PX_DNS_MAX_NAME];
	uint8_t len = wire(w, name);

	for (uint8_t i = 0; i < len; i++)
		w[i] = px_lower(w[i]);
	return dp_cache_lookup(c, w, len, qtype, PX_DNS_CLASS_IN, kind);
}

static const struct dp_cache_entry *
lookup(const char *name, uint16_t qtype, uint8_t kind)
{
	return lookup_in(cache, name, qtype, kind);
}

static const struct dp_cache_entry *
must_lookup(const char *name, uint16_t qtype, uint8_t kind)
{
	const struct dp_cache_entry *e = lookup(name, qtype, kind);

	ck_assert_msg(e != NULL, "no entry %s/%u/%u", name, qtype, kind);
	return e;
}

/* Splits an entry's blob into records, checking the framing, that ttl_off lists exactly the
 * TTL fields, and the flags every local entry carries. Returns the record count. */
static unsigned
parse_entry(const struct dp_cache_entry *e, struct trr *rr, unsigned max)
{
	const uint8_t *p = dp_cache_entry_rr(e);
	size_t pos = 0;
	unsigned n = 0;

	ck_assert_uint_eq(e->flags, DP_CACHE_F_AA | DP_CACHE_F_PINNED);
	ck_assert_uint_eq(e->qclass, PX_DNS_CLASS_IN);
	while (pos < e->rr_len) {
		struct trr *r = &rr[n];

		ck_assert_uint_lt(n, max);
		r->ptr = (p[pos] & 0xc0) == 0xc0;
		if (r->ptr) {
			ck_assert_uint_eq(px_get16(p + pos), PX_DNS_QNAME_PTR);
			r->owner_len = 0;
			pos += 2;
		} else {
			size_t start = pos;

			while (p[pos] != 0) {
				ck_assert_uint_le(p[pos], PX_DNS_MAX_LABEL);
				pos += p[pos] + 1u;
				ck_assert_uint_lt(pos, e->rr_len);
			}
			pos++;
			r->owner_len = (uint8_t)(pos - start);
			memcpy(r->owner, p + start, r->owner_len);
		}
		ck_assert_uint_le(pos + 10, e->rr_len);
		r->type = px_get16(p + pos);
		r->rclass = px_get16(p + pos + 2);
		r->ttl_pos = (uint16_t)(pos + 4);
		r->ttl = px_get32(p + pos + 4);
		r->rdlen = px_get16(p + pos + 8);
		r->rdata = p + pos + 10;
		pos += 10u + r->rdlen;
		ck_assert_uint_le(pos, e->rr_len);
		ck_assert_uint_lt(n, e->ttl_off_count);
		ck_assert_uint_eq(dp_cache_entry_ttl_off(e)[n], r->ttl_pos);
		ck_assert_uint_eq(r->rclass, PX_DNS_CLASS_IN);
		n++;
	}
	ck_assert_uint_eq(pos, e->rr_len);
	ck_assert_uint_eq(n, e->ttl_off_count);
	ck_assert_uint_eq(n, (unsigned)e->an_count + e->ns_count + e->ar_count);
	return n;
}

static void
check_owner(const struct trr *r, const char *pres)
{
	uint8_t w[PX_DNS_MAX_NAME];
	uint8_t len = wire(w, pres);

	ck_assert_msg(!r->ptr, "owner %s is a pointer", pres);
	ck_assert_uint_eq(r->owner_len, len);
	ck_assert_mem_eq(r->owner, w, len);
}

static void
check_name_rdata(const struct trr *r, const char *pres)
{
	uint8_t w[PX_DNS_MAX_NAME];
	uint8_t len = wire(w, pres);

	ck_assert_uint_eq(r->rdlen, len);
	ck_assert_mem_eq(r->rdata, w, len);
}

static void
check_a(const struct trr *r, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	const uint8_t want[4] = {a, b, c, d};

	ck_assert_uint_eq(r->type, PX_DNS_TYPE_A);
	ck_assert_uint_eq(r->rdlen, 4);
	ck_assert_mem_eq(r->rdata, want, 4);
}

/* The main zone's SOA as a negative answer carries it: owner example., TTL min(3600, 60). */
static void
check_neg_soa(const struct trr *r, bool ptr)
{
	uint8_t w[PX_DNS_MAX_NAME], rname[PX_DNS_MAX_NAME];
	uint8_t len = wire(w, "ns1.example.");
	uint8_t rlen = wire(rname, "hostmaster.example.");

	ck_assert_uint_eq(r->type, PX_DNS_TYPE_SOA);
	if (ptr)
		ck_assert(r->ptr);
	else
		check_owner(r, "example.");
	ck_assert_uint_eq(r->ttl, 60);
	ck_assert_uint_eq(r->rdlen, len + rlen + 20);
	ck_assert_mem_eq(r->rdata, w, len);
	ck_assert_mem_eq(r->rdata + len, rname, rlen);
	ck_assert_uint_eq(px_get32(r->rdata + r->rdlen - 20), 2024010101u);
	ck_assert_uint_eq(px_get32(r->rdata + r->rdlen - 4), 60);
}

static uint32_t
cache_entries(const struct dp_cache *c)
{
	struct dp_cache_info ci;

	dp_cache_info(c, &ci);
	return ci.entries;
}

START_TEST(test_ctl_zone_load_rrset)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];

	load_main();
	e = must_lookup("www.example.", PX_DNS_TYPE_A, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 2);
	ck_assert_uint_eq(e->rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(e->an_count, 2);
	ck_assert_uint_eq(e->ns_count, 0);
	ck_assert_uint_eq(e->ttl, 100); /* the RRset's smallest TTL, for every record */
	for (int i = 0; i < 2; i++) {
		ck_assert(rr[i].ptr);
		ck_assert_uint_eq(rr[i].ttl, 100);
	}
	check_a(&rr[0], 192, 0, 2, 1);
	check_a(&rr[1], 192, 0, 2, 2);

	e = must_lookup("www.example.", PX_DNS_TYPE_AAAA, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert_uint_eq(e->ttl, 600);
	ck_assert_uint_eq(rr[0].type, PX_DNS_TYPE_AAAA);
	ck_assert_uint_eq(rr[0].rdlen, 16);

	/* A positive SOA answer keeps the SOA's own TTL. */
	e = must_lookup("example.", PX_DNS_TYPE_SOA, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert(rr[0].ptr);
	ck_assert_uint_eq(rr[0].ttl, 3600);
	ck_assert_uint_eq(e->ttl, 3600);

	e = must_lookup("example.", PX_DNS_TYPE_NS, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	check_name_rdata(&rr[0], "ns1.example.");
	ck_assert_ptr_null(lookup("www.example.", PX_DNS_TYPE_MX, DP_CACHE_RRSET));
}
END_TEST

START_TEST(test_ctl_zone_load_any)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];

	load_main();
	e = must_lookup("www.example.", PX_DNS_TYPE_ANY, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 3);
	ck_assert_uint_eq(e->an_count, 3);
	ck_assert_uint_eq(rr[0].type, PX_DNS_TYPE_A);
	ck_assert_uint_eq(rr[1].type, PX_DNS_TYPE_A);
	ck_assert_uint_eq(rr[2].type, PX_DNS_TYPE_AAAA);
	ck_assert_uint_eq(e->ttl, 100);
}
END_TEST

START_TEST(test_ctl_zone_load_nodata)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];

	load_main();
	e = must_lookup("www.example.", 0, DP_CACHE_NAME);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert_uint_eq(e->rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(e->an_count, 0);
	ck_assert_uint_eq(e->ns_count, 1);
	ck_assert_uint_eq(e->ttl, 60);
	check_neg_soa(&rr[0], false);

	/* At the apex the SOA's owner is the question name. */
	e = must_lookup("example.", 0, DP_CACHE_NAME);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert_uint_eq(e->ns_count, 1);
	check_neg_soa(&rr[0], true);
}
END_TEST

START_TEST(test_ctl_zone_load_nxdomain)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];

	load_main();
	e = must_lookup("example.", 0, DP_CACHE_ZONE);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert_uint_eq(e->rcode, PX_DNS_RCODE_NXDOMAIN);
	ck_assert_uint_eq(e->an_count, 0);
	ck_assert_uint_eq(e->ns_count, 1);
	ck_assert_uint_eq(e->ttl, 60);
	/* The question of a ZONE hit is a deeper name: the owner is never a pointer. */
	check_neg_soa(&rr[0], false);
	ck_assert_ptr_null(lookup("www.example.", 0, DP_CACHE_ZONE));
	ck_assert_ptr_null(lookup("nothere.example.", 0, DP_CACHE_NAME));
}
END_TEST

START_TEST(test_ctl_zone_load_empty_non_terminal)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];

	load_main();
	must_lookup("a.b.c.example.", PX_DNS_TYPE_TXT, DP_CACHE_RRSET);
	e = must_lookup("b.c.example.", 0, DP_CACHE_NAME);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert_uint_eq(e->rcode, PX_DNS_RCODE_NOERROR);
	check_neg_soa(&rr[0], false);
	e = must_lookup("c.example.", 0, DP_CACHE_NAME);
	ck_assert_uint_eq(e->rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_ptr_null(lookup("c.example.", PX_DNS_TYPE_TXT, DP_CACHE_RRSET));
	ck_assert_ptr_null(lookup("c.example.", PX_DNS_TYPE_ANY, DP_CACHE_RRSET));
	ck_assert_ptr_null(lookup("c.example.", 0, DP_CACHE_ZONE));
}
END_TEST

START_TEST(test_ctl_zone_load_cname_in_zone)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];

	load_main();
	e = must_lookup("alias.example.", PX_DNS_TYPE_A, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 3);
	ck_assert_uint_eq(e->an_count, 3);
	ck_assert_uint_eq(e->rcode, PX_DNS_RCODE_NOERROR);
	ck_assert(rr[0].ptr);
	ck_assert_uint_eq(rr[0].type, PX_DNS_TYPE_CNAME);
	ck_assert_uint_eq(rr[0].ttl, 300);
	check_name_rdata(&rr[0], "www.example.");
	check_owner(&rr[1], "www.example.");
	check_a(&rr[1], 192, 0, 2, 1);
	check_owner(&rr[2], "www.example.");
	check_a(&rr[2], 192, 0, 2, 2);
	ck_assert_uint_eq(e->ttl, 100);
	must_lookup("alias.example.", PX_DNS_TYPE_AAAA, DP_CACHE_RRSET);

	/* qtype CNAME and ANY get the CNAME alone. */
	e = must_lookup("alias.example.", PX_DNS_TYPE_CNAME, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert(rr[0].ptr);
	e = must_lookup("alias.example.", PX_DNS_TYPE_ANY, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert_uint_eq(rr[0].type, PX_DNS_TYPE_CNAME);

	/* Another type: the chain, then NODATA at the target. */
	e = must_lookup("alias.example.", 0, DP_CACHE_NAME);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 2);
	ck_assert_uint_eq(e->rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(e->an_count, 1);
	ck_assert_uint_eq(e->ns_count, 1);
	ck_assert_uint_eq(rr[0].type, PX_DNS_TYPE_CNAME);
	check_neg_soa(&rr[1], false);
	ck_assert_uint_eq(e->ttl, 60);
}
END_TEST

START_TEST(test_ctl_zone_load_cname_chain)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];

	load_main();
	e = must_lookup("c1.example.", PX_DNS_TYPE_A, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 4);
	ck_assert(rr[0].ptr);
	check_name_rdata(&rr[0], "c2.example.");
	check_owner(&rr[1], "c2.example.");
	ck_assert_uint_eq(rr[1].type, PX_DNS_TYPE_CNAME);
	ck_assert_uint_eq(rr[1].ttl, 200);
	check_name_rdata(&rr[1], "www.example.");
	check_owner(&rr[2], "www.example.");
	check_owner(&rr[3], "www.example.");
	ck_assert_uint_eq(e->ttl, 100);
	/* The intermediate name has entries of its own. */
	e = must_lookup("c2.example.", PX_DNS_TYPE_A, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 3);
	ck_assert(rr[0].ptr);
}
END_TEST

START_TEST(test_ctl_zone_load_cname_nxdomain)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];

	load_main();
	e = must_lookup("gone.example.", 0, DP_CACHE_NAME);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 2);
	ck_assert_uint_eq(e->rcode, PX_DNS_RCODE_NXDOMAIN);
	ck_assert_uint_eq(e->an_count, 1);
	ck_assert_uint_eq(e->ns_count, 1);
	check_name_rdata(&rr[0], "nothere.example.");
	check_neg_soa(&rr[1], false);
	ck_assert_ptr_null(lookup("gone.example.", PX_DNS_TYPE_A, DP_CACHE_RRSET));
	must_lookup("gone.example.", PX_DNS_TYPE_CNAME, DP_CACHE_RRSET);
}
END_TEST

START_TEST(test_ctl_zone_load_cname_out_of_zone)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];

	load_main();
	e = must_lookup("ext.example.", 0, DP_CACHE_NAME);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert_uint_eq(e->rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(e->an_count, 1);
	ck_assert_uint_eq(e->ns_count, 0);
	ck_assert(rr[0].ptr);
	check_name_rdata(&rr[0], "www.example.net.");
	ck_assert_uint_eq(e->ttl, 300);
	ck_assert_ptr_null(lookup("ext.example.", PX_DNS_TYPE_A, DP_CACHE_RRSET));
}
END_TEST

START_TEST(test_ctl_zone_load_cname_to_empty_non_terminal)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];

	load_main();
	e = must_lookup("toent.example.", 0, DP_CACHE_NAME);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 2);
	ck_assert_uint_eq(e->rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(e->ns_count, 1);
	ck_assert_ptr_null(lookup("toent.example.", PX_DNS_TYPE_TXT, DP_CACHE_RRSET));
}
END_TEST

START_TEST(test_ctl_zone_load_cname_loop)
{
	int rc = load_text(cache,
			   "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\na CNAME b\nb CNAME a\n", NULL);

	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, "CNAME loop") != NULL, "%s", err);
	ck_assert_uint_eq(cache_entries(cache), 0);
}
END_TEST

START_TEST(test_ctl_zone_load_cname_chain_too_long)
{
	char text[1024];
	size_t len;
	int rc;

	/* c0 -> c1 -> ... -> c8 -> c9: nine CNAMEs from c0. */
	len = (size_t)snprintf(text, sizeof(text), "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\n");
	for (int i = 0; i < 9; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "c%d CNAME c%d\n", i, i + 1);
	snprintf(text + len, sizeof(text) - len, "c9 A 192.0.2.1\n");
	rc = load_text(cache, text, NULL);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, "c0.example.: more than 8 CNAMEs") != NULL, "%s", err);
	ck_assert_uint_eq(cache_entries(cache), 0);

	/* Eight are fine. */
	len = (size_t)snprintf(text, sizeof(text), "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\n");
	for (int i = 1; i < 9; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "c%d CNAME c%d\n", i, i + 1);
	snprintf(text + len, sizeof(text) - len, "c9 A 192.0.2.1\n");
	ck_assert_msg(load_text(cache, text, NULL) == 0, "%s", err);
	ck_assert_uint_eq(must_lookup("c1.example.", PX_DNS_TYPE_A, DP_CACHE_RRSET)->an_count, 9);
}
END_TEST

START_TEST(test_ctl_zone_load_cname_other_data)
{
	int rc = load_text(cache,
			   "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\nwww A 192.0.2.1\n"
			   "www CNAME other\n",
			   NULL);

	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, ":4: www.example.: CNAME and other data") != NULL, "%s", err);
	rc = load_text(cache,
		       "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\nwww CNAME a\nwww CNAME b\n", NULL);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, "more than one CNAME") != NULL, "%s", err);
	/* The apex has an SOA, so it cannot be an alias either. */
	rc = load_text(cache, "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\n@ CNAME b\n", NULL);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_uint_eq(cache_entries(cache), 0);
}
END_TEST

START_TEST(test_ctl_zone_load_out_of_zone)
{
	int rc = load_text(cache,
			   "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\n"
			   "www.other. A 192.0.2.1\n",
			   NULL);
	char want[128];

	ck_assert_int_eq(rc, -EINVAL);
	snprintf(want, sizeof(want), "%s:3: www.other. is outside the zone example.", zpath);
	ck_assert_str_eq(err, want);
	/* A name that only ends like the apex is outside too. */
	rc = load_text(cache, "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\nnotexample. A 1.2.3.4\n",
		       NULL);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_uint_eq(cache_entries(cache), 0);
}
END_TEST

START_TEST(test_ctl_zone_load_soa_count)
{
	int rc = load_text(cache, "$ORIGIN example.\nwww A 192.0.2.1\n", NULL);

	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, "no SOA") != NULL, "%s", err);
	rc = load_text(cache,
		       "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\nwww A 192.0.2.1\n"
		       "@ SOA ns hm 2 2 3 4 5\n",
		       NULL);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, ":4: a second SOA record (the first is at line 2)") != NULL,
		      "%s", err);
	ck_assert_uint_eq(cache_entries(cache), 0);
}
END_TEST

START_TEST(test_ctl_zone_load_class)
{
	int rc = load_text(cache, "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\nwww CH A 192.0.2.1\n",
			   NULL);

	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, ":3: class 3: only IN") != NULL, "%s", err);
	ck_assert_uint_eq(cache_entries(cache), 0);
}
END_TEST

START_TEST(test_ctl_zone_load_syntax_error)
{
	int rc = load_text(cache,
			   "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\nwww A 192.0.2.1\n"
			   "bad A 192.0.2.999\nok A 192.0.2.2\n",
			   NULL);
	char want[128];

	ck_assert_int_eq(rc, -EINVAL);
	snprintf(want, sizeof(want), "%s:4: ", zpath);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	ck_assert_uint_eq(cache_entries(cache), 0);
	rc = load_text(cache, "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\n$INCLUDE other\n", NULL);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, ":3: $INCLUDE is not supported") != NULL, "%s", err);
}
END_TEST

/* A last line with no newline is still counted: the error names it. */
START_TEST(test_ctl_zone_load_last_line)
{
	int rc = load_text(cache, "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\nbad A 192.0.2.999",
			   NULL);
	char want[128];

	ck_assert_int_eq(rc, -EINVAL);
	snprintf(want, sizeof(want), "%s:3: ", zpath);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	rc = load_text(cache, "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\nwww AA", NULL);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, ":3: unknown record type") != NULL, "%s", err);
	ck_assert_uint_eq(cache_entries(cache), 0);
}
END_TEST

START_TEST(test_ctl_zone_load_missing_file)
{
	int rc = ctl_zone_load(cache, "/nonexistent/zone", 0, NULL, err, sizeof(err));

	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_msg(strncmp(err, "/nonexistent/zone: ", 19) == 0, "%s", err);
	rc = ctl_zone_load(cache, "/tmp", 0, NULL, err, sizeof(err));
	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_uint_eq(cache_entries(cache), 0);
}
END_TEST

START_TEST(test_ctl_zone_load_rollback)
{
	struct dp_cache_info before, after;

	load_main();
	dp_cache_info(cache, &before);
	ck_assert_int_eq(load_text(cache,
				   "$ORIGIN example.\n@ SOA ns hm 9 2 3 4 5\nnew A 192.0.2.7\n"
				   "x CNAME y\ny CNAME x\n",
				   NULL),
			 -EINVAL);
	dp_cache_info(cache, &after);
	ck_assert_uint_eq(after.entries, before.entries);
	ck_assert_uint_eq(after.inserts, before.inserts);
	ck_assert_ptr_null(lookup("new.example.", PX_DNS_TYPE_A, DP_CACHE_RRSET));
	/* The SOA is still the first load's. */
	ck_assert_uint_eq(must_lookup("example.", 0, DP_CACHE_ZONE)->ttl, 60);
}
END_TEST

START_TEST(test_ctl_zone_load_rollback_cache_full)
{
	/* Eight slots, and a zone of ten entries: the ninth insertion fails. */
	struct dp_cache *small = cache_new(8);
	const struct dp_cache_entry *e;
	struct dp_cache_entry *mine;
	const uint8_t blob[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 10, 0, 0, 1};
	const uint16_t ttl_off = 6;
	struct dp_cache_key key = {.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
				   .kind = DP_CACHE_RRSET};
	struct dp_cache_answer ans = {.rcode = PX_DNS_RCODE_NOERROR, .ttl = 9, .an_count = 1,
				      .rr = blob, .rr_len = sizeof(blob), .ttl_off = &ttl_off,
				      .ttl_off_count = 1};
	int rc;

	/* A cached (unpinned) answer for a key the zone replaces with its very first entry
	 * (names sort by wire bytes: a.z. comes first). */
	key.name_len = wire(key.name, "a.z.");
	mine = dp_cache_entry_new(small, &key, &ans, 5);
	ck_assert_ptr_nonnull(mine);
	ck_assert_int_eq(dp_cache_insert(small, mine), 0);

	rc = load_text(small,
		       "$ORIGIN z.\n@ SOA ns hm 1 2 3 4 5\na A 192.0.2.1\nb A 192.0.2.2\n", NULL);
	ck_assert_int_eq(rc, -ENOSPC);
	ck_assert_msg(strstr(err, "no room left") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "z. (name):") != NULL, "%s", err);
	ck_assert_uint_eq(cache_entries(small), 1);
	e = lookup_in(small, "a.z.", PX_DNS_TYPE_A, DP_CACHE_RRSET);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->flags, 0);
	ck_assert_uint_eq(e->insert_ms, 5);
	ck_assert_uint_eq(e->ttl, 9);
	ck_assert_uint_eq(e->rr_len, sizeof(blob));
	ck_assert_mem_eq(dp_cache_entry_rr(e), blob, sizeof(blob));
	ck_assert_ptr_null(lookup_in(small, "z.", 0, DP_CACHE_ZONE));
	dp_cache_free(small);
}
END_TEST

START_TEST(test_ctl_zone_load_case)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];
	int rc;

	rc = load_text(cache,
		       "$ORIGIN Example.\n@ SOA NS1 HostMaster 1 2 3 4 5\nWWW A 192.0.2.1\n"
		       "Alias CNAME WWW\n",
		       NULL);
	ck_assert_msg(rc == 0, "%s", err);
	e = must_lookup("www.example.", PX_DNS_TYPE_A, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert(rr[0].ptr);
	/* Keys are lower-cased; rendered names keep the file's case. */
	e = must_lookup("ALIAS.example.", PX_DNS_TYPE_A, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 2);
	check_name_rdata(&rr[0], "WWW.Example.");
	check_owner(&rr[1], "WWW.Example.");
	e = must_lookup("www.example.", 0, DP_CACHE_NAME);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	check_owner(&rr[0], "Example.");
	ck_assert_uint_eq(rr[0].rdata[0], 3);
	ck_assert_mem_eq(rr[0].rdata + 1, "NS1", 3);
}
END_TEST

START_TEST(test_ctl_zone_load_origin)
{
	const struct dp_cache_entry *e;
	struct ctl_zone_info info;
	struct trr rr[8];
	int rc;

	/* No $ORIGIN: names after the SOA are relative to its owner. */
	rc = load_text(cache,
		       "example.org. 30 IN SOA ns.example.org. hm.example.org. 1 2 3 4 600\n"
		       "www A 192.0.2.1\n"
		       "$ORIGIN sub.example.org.\nhost A 192.0.2.2\n",
		       &info);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(info.apex, "example.org.");
	must_lookup("www.example.org.", PX_DNS_TYPE_A, DP_CACHE_RRSET);
	must_lookup("host.sub.example.org.", PX_DNS_TYPE_A, DP_CACHE_RRSET);
	must_lookup("sub.example.org.", 0, DP_CACHE_NAME);
	/* The SOA's TTL is below its MINIMUM here: the negative TTL is the former. */
	e = must_lookup("example.org.", 0, DP_CACHE_ZONE);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert_uint_eq(e->ttl, 30);
	ck_assert_uint_eq(rr[0].ttl, 30);

	/* A relative name before any origin is known is an error, not a name below the root. */
	rc = load_text(cache, "@ SOA ns hm 1 2 3 4 5\n", NULL);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, ":1: relative owner name") != NULL, "%s", err);
	rc = load_text(cache, "example.net. SOA ns hm 1 2 3 4 5\n", NULL);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, ":1: relative name in the rdata") != NULL, "%s", err);
}
END_TEST

/* CRLF line endings, and a last line with no line ending at all. */
START_TEST(test_ctl_zone_load_crlf)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];
	int rc;

	rc = load_text(cache,
		       "$ORIGIN example.\r\n$TTL 300\r\n@ SOA ns hm (\r\n 1 2 3 4 5 )\r\n"
		       "www CNAME host ; comment\r\nhost TXT \"t\"",
		       NULL);
	ck_assert_msg(rc == 0, "%s", err);
	e = must_lookup("www.example.", PX_DNS_TYPE_TXT, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 2);
	check_name_rdata(&rr[0], "host.example.");
	ck_assert_uint_eq(rr[1].rdlen, 2);
	ck_assert_mem_eq(rr[1].rdata, "\001t", 2);
}
END_TEST

START_TEST(test_ctl_zone_load_ttl_zero)
{
	const struct dp_cache_entry *e;
	struct trr rr[8];

	load_main();
	e = must_lookup("zero.example.", PX_DNS_TYPE_A, DP_CACHE_RRSET);
	ck_assert_uint_eq(parse_entry(e, rr, 8), 1);
	ck_assert_uint_eq(e->ttl, 0);
	ck_assert_int_eq(dp_cache_entry_ttl(e, dp_clock_ms() + 5000), 0);
}
END_TEST

START_TEST(test_ctl_zone_load_info)
{
	struct ctl_zone_info info;
	struct dp_cache_info ci;

	ck_assert_msg(load_text(cache, main_zone, &info) == 0, "%s", err);
	ck_assert_str_eq(info.apex, "example.");
	ck_assert_uint_eq(info.rr_count, MAIN_RR_COUNT);
	ck_assert_uint_eq(info.entry_count, MAIN_ENTRY_COUNT);
	dp_cache_info(cache, &ci);
	ck_assert_uint_eq(ci.entries, MAIN_ENTRY_COUNT);
	ck_assert_uint_eq(ci.pinned, MAIN_ENTRY_COUNT);

	/* Loading it again replaces every entry. */
	ck_assert_msg(load_text(cache, main_zone, &info) == 0, "%s", err);
	dp_cache_info(cache, &ci);
	ck_assert_uint_eq(ci.entries, MAIN_ENTRY_COUNT);
	ck_assert_uint_eq(ci.replaces, MAIN_ENTRY_COUNT);
}
END_TEST

START_TEST(test_ctl_zone_load_too_big)
{
	size_t cap = 400 * 300, len;
	char *text = malloc(cap);
	char fill[251];
	int rc;

	ck_assert_ptr_nonnull(text);
	memset(fill, 'x', sizeof(fill) - 1);
	fill[sizeof(fill) - 1] = '\0';
	len = (size_t)snprintf(text, cap, "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\n");
	/* 300 records of 268 bytes each: over the 65264-byte limit. */
	for (int i = 0; i < 300; i++)
		len += (size_t)snprintf(text + len, cap - len, "big TXT \"%03d%s\"\n", i, fill);
	rc = load_text(cache, text, NULL);
	free(text);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, "big.example. TXT: answer larger than") != NULL, "%s", err);
	ck_assert_uint_eq(cache_entries(cache), 0);
}
END_TEST

/* One TCase per behaviour, each on a fresh cache. */
#define ADD_CASE(s, behaviour)                                                                   \
	do {                                                                                     \
		TCase *tc = tcase_create(#behaviour);                                            \
		tcase_add_checked_fixture(tc, setup, teardown);                                  \
		tcase_add_test(tc, test_ctl_zone_load_##behaviour);                              \
		suite_add_tcase(s, tc);                                                          \
	} while (0)

Suite *zone_suite(void);

Suite *
zone_suite(void)
{
	Suite *s = suite_create("zone");

	ADD_CASE(s, rrset);
	ADD_CASE(s, any);
	ADD_CASE(s, nodata);
	ADD_CASE(s, nxdomain);
	ADD_CASE(s, empty_non_terminal);
	ADD_CASE(s, cname_in_zone);
	ADD_CASE(s, cname_chain);
	ADD_CASE(s, cname_nxdomain);
	ADD_CASE(s, cname_out_of_zone);
	ADD_CASE(s, cname_to_empty_non_terminal);
	ADD_CASE(s, cname_loop);
	ADD_CASE(s, cname_chain_too_long);
	ADD_CASE(s, cname_other_data);
	ADD_CASE(s, out_of_zone);
	ADD_CASE(s, soa_count);
	ADD_CASE(s, class);
	ADD_CASE(s, syntax_error);
	ADD_CASE(s, last_line);
	ADD_CASE(s, missing_file);
	ADD_CASE(s, rollback);
	ADD_CASE(s, rollback_cache_full);
	ADD_CASE(s, case);
	ADD_CASE(s, origin);
	ADD_CASE(s, crlf);
	ADD_CASE(s, ttl_zero);
	ADD_CASE(s, info);
	ADD_CASE(s, too_big);
	return s;
}

int
main(void)
{
	char *eal_args[] = {"test_zone", "--no-huge", "--no-shconf", "--no-pci", "-m", "256",
			    "--no-telemetry", "-l", "0", "--log-level", "lib.*:error"};
	SRunner *sr;
	size_t sz;
	int failed;

	if (rte_eal_init(RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "test_zone: rte_eal_init failed\n");
		return EXIT_FAILURE;
	}
	sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	qsbr = rte_zmalloc("test_zone_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (qsbr == NULL || rte_rcu_qsbr_init(qsbr, RTE_MAX_LCORE) != 0) {
		fprintf(stderr, "test_zone: cannot set up RCU\n");
		return EXIT_FAILURE;
	}
	dp_clock_init();
	sr = srunner_create(zone_suite());
	/* EAL state does not survive a fork. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_free(qsbr);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
