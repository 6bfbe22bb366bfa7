/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cache control: the flush walk (a name, a name and type, a zone with its delegations, all),
 * local-zone data kept, the counts, removed entries freed only after an RCU grace period; the
 * walk the dump reads with; and the control commands on top (flush replies, lookup, the
 * streamed dump).
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include <pollux/cache_match.h>
#include <pollux/wire.h>

#include "ctl_cache_cmd.h"
#include "ctl_cache_dump.h"
#include "dp_cache.h"
#include "dp_cache_int.h"
#include "dp_clock.h"
#include "dp_cut.h"
#include "testlib.h"

static struct rte_rcu_qsbr *qsbr;

static struct dp_cache_key
key_of(const char *name, uint16_t qtype)
{
	struct dp_cache_key k = {.qtype = qtype, .qclass = PX_DNS_CLASS_IN,
				 .kind = DP_CACHE_RRSET};

	k.name_len = (uint8_t)px_test_name(k.name, name);
	ck_assert_uint_gt(k.name_len, 0);
	return k;
}

/* One record owned by the question's name (a pointer to offset 12, as answers are kept): an A
 * (192.0.2.1), an AAAA (2001:db8::1) or a TXT. */
static void
put_rr(struct dp_cache *c, const char *name, uint16_t qtype, uint8_t flags, uint32_t ttl,
       uint64_t now_ms)
{
	struct dp_cache_key k = key_of(name, qtype);
	uint8_t rr[64];
	uint16_t len = 0, ttl_off, rdlen;

	px_put16(rr, PX_DNS_QNAME_PTR);
	px_put16(rr + 2, qtype);
	px_put16(rr + 4, PX_DNS_CLASS_IN);
	ttl_off = 6;
	px_put32(rr + 6, 0);
	len = 12;
	if (qtype == PX_DNS_TYPE_A) {
		static const uint8_t a[] = {192, 0, 2, 1};

		memcpy(rr + len, a, sizeof(a));
		rdlen = sizeof(a);
	} else if (qtype == PX_DNS_TYPE_AAAA) {
		static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

		memcpy(rr + len, a6, sizeof(a6));
		rdlen = sizeof(a6);
	} else {
		static const uint8_t txt[] = {2, 'h', 'i'};

		memcpy(rr + len, txt, sizeof(txt));
		rdlen = sizeof(txt);
	}
	px_put16(rr + 10, rdlen);
	len += rdlen;

	const struct dp_cache_answer a = {.flags = flags, .ttl = ttl, .an_count = 1, .rr = rr,
					  .rr_len = len, .ttl_off = &ttl_off, .ttl_off_count = 1};
	struct dp_cache_entry *e = dp_cache_entry_new(c, &k, &a, now_ms);

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(dp_cache_insert(c, e), 0);
}

static void
put_a(struct dp_cache *c, const char *name)
{
	put_rr(c, name, PX_DNS_TYPE_A, 0, 300, dp_clock_ms());
}

/* A delegation at zone to ns1.<zone> with glue 192.0.2.53. */
static void
put_cut(struct dp_cache *c, const char *zone, uint8_t flags)
{
	struct px_resolver_cut cut;
	uint8_t buf[PX_CUT_MAX_LEN];
	char ns[300];
	uint16_t ns_count, len;
	struct dp_cache_key key;

	memset(&cut, 0, sizeof(cut));
	cut.zone_len = (uint8_t)px_test_name(cut.zone, zone);
	cut.ttl = 3600;
	cut.ns_count = 1;
	snprintf(ns, sizeof(ns), "ns1.%s", strcmp(zone, ".") == 0 ? "root.test" : zone);
	cut.ns[0].name_len = (uint8_t)px_test_name(cut.ns[0].name, ns);
	px_addr_set4(&cut.ns[0].addr[0], htonl(0xc0000235), 0);
	cut.ns[0].addr_count = 1;
	cut.ns[0].state = PX_RES_NS_GLUE;
	len = px_cut_encode(buf, sizeof(buf), &cut, &ns_count);
	ck_assert_uint_gt(len, 0);
	dp_cut_key(&key, cut.zone, cut.zone_len);

	const struct dp_cache_answer a = {.flags = flags, .ttl = cut.ttl, .an_count = ns_count,
					  .rr = buf, .rr_len = len};
	struct dp_cache_entry *e = dp_cache_entry_new(c, &key, &a, dp_clock_ms());

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(dp_cache_insert(c, e), 0);
}

static bool
has(struct dp_cache *c, const char *name, uint16_t qtype)
{
	struct dp_cache_key k = key_of(name, qtype);
	struct dp_cache_entry *e = dp_cache_entry_clone(c, &k);

	dp_cache_entry_free(e);
	return e != NULL;
}

static bool
has_cut(struct dp_cache *c, const char *zone)
{
	struct dp_cache_key k = key_of(zone, PX_DNS_TYPE_NS);
	struct dp_cache_entry *e;

	dp_cut_key(&k, k.name, k.name_len);
	e = dp_cache_entry_clone(c, &k);
	dp_cache_entry_free(e);
	return e != NULL;
}

static struct dp_cache_flush_result
flush(struct dp_cache *c, enum px_flush_scope scope, const char *name, int qtype)
{
	struct dp_cache_flush_result r;
	struct px_flush_spec s;
	uint8_t w[PX_DNS_NAME_BUF];
	unsigned len = name != NULL ? px_test_name(w, name) : 0;

	ck_assert_int_eq(px_flush_spec_init(&s, scope, w, len, qtype), 0);
	dp_cache_flush_match(c, &s, &r);
	return r;
}

static struct dp_cache *
new_cache(const char *name, uint32_t n)
{
	struct dp_cache *c = dp_cache_create(name, n, qsbr, 0);

	ck_assert_ptr_nonnull(c);
	return c;
}

/* Every pool object back once the queues drain: nothing leaked, nothing freed twice. */
static void
free_checked(struct dp_cache *c)
{
	dp_cache_flush(c, true);
	rte_rcu_qsbr_synchronize(qsbr, RTE_QSBR_THRID_INVALID);
	for (uint32_t i = 0; i < c->writer_count; i++)
		rte_rcu_qsbr_dq_reclaim(c->writers[i]->dq, UINT32_MAX, NULL, NULL, NULL);
	for (int k = 0; k < DP_CACHE_CLASS_COUNT; k++)
		ck_assert_uint_eq(rte_mempool_avail_count(c->pools[0].mp[k]),
				  c->pools[0].mp[k]->size);
	dp_cache_free(c);
}

START_TEST(test_dp_cache_flush_match_name)
{
	struct dp_cache *c = new_cache("tf_name", 1024);
	struct dp_cache_flush_result r;
	struct dp_cache_info info;

	put_rr(c, "www.example.com", PX_DNS_TYPE_A, 0, 300, dp_clock_ms());
	put_rr(c, "www.example.com", PX_DNS_TYPE_AAAA, 0, 300, dp_clock_ms());
	put_rr(c, "www.example.com", 16, 0, 300, dp_clock_ms());
	put_cut(c, "www.example.com", 0);
	put_a(c, "mail.example.com");
	put_a(c, "a.www.example.com");

	r = flush(c, PX_FLUSH_NAME, "www.example.com", 28);
	ck_assert_uint_eq(r.removed, 1);
	ck_assert(!has(c, "www.example.com", PX_DNS_TYPE_AAAA));
	ck_assert(has(c, "www.example.com", PX_DNS_TYPE_A));

	/* NS takes the delegation at the name: its key's type is NS. */
	r = flush(c, PX_FLUSH_NAME, "www.example.com", PX_DNS_TYPE_NS);
	ck_assert_uint_eq(r.removed, 1);
	ck_assert(!has_cut(c, "www.example.com"));

	r = flush(c, PX_FLUSH_NAME, "WWW.Example.COM", PX_FLUSH_ANY_TYPE);
	ck_assert_uint_eq(r.removed, 2);
	ck_assert_uint_eq(r.kept, 0);
	ck_assert(!has(c, "www.example.com", PX_DNS_TYPE_A));
	ck_assert(!has(c, "www.example.com", 16));
	ck_assert(has(c, "mail.example.com", PX_DNS_TYPE_A));
	ck_assert(has(c, "a.www.example.com", PX_DNS_TYPE_A));

	r = flush(c, PX_FLUSH_NAME, "www.example.com", PX_FLUSH_ANY_TYPE);
	ck_assert_uint_eq(r.removed, 0);
	dp_cache_info(c, &info);
	ck_assert_uint_eq(info.flushed, 4);
	ck_assert_uint_eq(info.entries, 2);
	free_checked(c);
}
END_TEST

START_TEST(test_dp_cache_flush_match_zone)
{
	struct dp_cache *c = new_cache("tf_zone", 1024);
	struct dp_cache_flush_result r;

	put_a(c, "example.com");
	put_a(c, "www.example.com");
	put_a(c, "deep.sub.example.com");
	put_cut(c, "example.com", 0);
	put_cut(c, "sub.example.com", 0);
	put_a(c, "badexample.com");
	put_a(c, "www.badexample.com");
	put_a(c, "example.org");
	put_cut(c, "com", 0);
	put_rr(c, "local.example.com", PX_DNS_TYPE_A, DP_CACHE_F_AA | DP_CACHE_F_PINNED, 60,
	       dp_clock_ms());

	r = flush(c, PX_FLUSH_ZONE, "Example.com", PX_FLUSH_ANY_TYPE);
	ck_assert_uint_eq(r.removed, 5);
	ck_assert_uint_eq(r.kept, 1);
	ck_assert(!has(c, "example.com", PX_DNS_TYPE_A));
	ck_assert(!has(c, "deep.sub.example.com", PX_DNS_TYPE_A));
	ck_assert(!has_cut(c, "example.com"));
	ck_assert(!has_cut(c, "sub.example.com"));
	ck_assert(has(c, "badexample.com", PX_DNS_TYPE_A));
	ck_assert(has(c, "www.badexample.com", PX_DNS_TYPE_A));
	ck_assert(has(c, "example.org", PX_DNS_TYPE_A));
	ck_assert(has_cut(c, "com"));
	ck_assert(has(c, "local.example.com", PX_DNS_TYPE_A));

	r = flush(c, PX_FLUSH_ALL, NULL, PX_FLUSH_ANY_TYPE);
	ck_assert_uint_eq(r.removed, 4);
	ck_assert_uint_eq(r.kept, 1);
	ck_assert(has(c, "local.example.com", PX_DNS_TYPE_A));
	free_checked(c);
}
END_TEST

/* A reader that has not passed a quiescent state may still hold a flushed entry: its memory
 * goes back to the pool only after the reader reports. */
START_TEST(test_dp_cache_flush_frees_after_grace_period)
{
	struct dp_cache *c = new_cache("tf_grace", 256);
	struct rte_mempool *mp = c->pools[0].mp[0];
	unsigned full = rte_mempool_avail_count(mp);
	struct dp_cache_flush_result r;

	ck_assert_int_eq(rte_rcu_qsbr_thread_register(qsbr, 0), 0);
	rte_rcu_qsbr_thread_online(qsbr, 0);
	put_a(c, "a.example.com");
	put_a(c, "b.example.com");
	put_a(c, "c.example.org");
	ck_assert_uint_eq(rte_mempool_avail_count(mp), full - 3);

	r = flush(c, PX_FLUSH_ZONE, "example.com", PX_FLUSH_ANY_TYPE);
	ck_assert_uint_eq(r.removed, 2);
	dp_cache_reclaim(c);
	ck_assert_uint_eq(rte_mempool_avail_count(mp), full - 3);

	rte_rcu_qsbr_quiescent(qsbr, 0);
	dp_cache_reclaim(c);
	ck_assert_uint_eq(rte_mempool_avail_count(mp), full - 1);
	rte_rcu_qsbr_thread_offline(qsbr, 0);
	rte_rcu_qsbr_thread_unregister(qsbr, 0);
	free_checked(c);
}
END_TEST

static void
count_visit(void *arg, const struct dp_cache_entry *e)
{
	unsigned *n = arg;

	(void)e;
	(*n)++;
}

START_TEST(test_dp_cache_walk_slices)
{
	struct dp_cache *c = new_cache("tf_walk", 1024);
	uint32_t pos = 0, nb = dp_cache_bucket_count(c);
	unsigned n = 0, calls = 0;
	char name[64];

	for (unsigned i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%u.example.com", i);
		put_a(c, name);
	}
	while (pos < nb) {
		pos = dp_cache_walk(c, pos, 7, count_visit, &n);
		calls++;
	}
	ck_assert_uint_eq(pos, nb);
	ck_assert_uint_eq(calls, (nb + 6) / 7);
	ck_assert_uint_eq(n, 300);
	free_checked(c);
}
END_TEST

/*
 * The flushes and the dump's walk follow the writer protocol: worker lcores insert, replace and
 * look up keys of two zones crowded into a small table (moves and evictions all the time) while
 * the control thread flushes one zone and names, and walks the table reading every entry. No
 * reader or visit sees a torn or freed entry (ASan would see a use after free), and in the end
 * every pool object comes back once.
 */
#define CF_KEYS 48
#define CF_ROUNDS 400000
static struct dp_cache *cf_cache;
static struct dp_cache_writer *cf_writer[RTE_MAX_LCORE];
static struct dp_cache_key cf_keys[CF_KEYS];
static uint64_t cf_bad[RTE_MAX_LCORE], cf_hits[RTE_MAX_LCORE];

/* Whole and the key's own: every rr byte names the key. */
static bool
cf_check(const struct dp_cache_entry *e)
{
	const uint8_t *rr = dp_cache_entry_rr(e);
	unsigned k = rr[0];

	if (k >= CF_KEYS || e->rr_len != 24 + (k % 3) * 100 ||
	    e->name_len != cf_keys[k].name_len ||
	    memcmp(dp_cache_entry_name(e), cf_keys[k].name, e->name_len) != 0)
		return false;
	for (unsigned b = 1; b < e->rr_len; b++)
		if (rr[b] != k)
			return false;
	return true;
}

static int
cf_worker(void *arg)
{
	unsigned id = rte_lcore_id();
	uint32_t x = id * 2654435761u;
	uint8_t rr[DP_CACHE_RR_MAX];

	RTE_SET_USED(arg);
	rte_rcu_qsbr_thread_register(qsbr, id);
	rte_rcu_qsbr_thread_online(qsbr, id);
	for (unsigned n = 0; n < CF_ROUNDS; n++) {
		const struct dp_cache_entry *e;
		unsigned k;

		x = x * 1103515245u + 12345u;
		k = (x >> 8) % CF_KEYS;
		if (x & 0x10000) {
			const struct dp_cache_answer a = {.ttl = 300, .an_count = 1, .rr = rr,
							  .rr_len = (uint16_t)(24 + (k % 3) * 100)};
			int ret;

			memset(rr, (int)k, a.rr_len);
			ret = dp_cache_put(cf_writer[id], &cf_keys[k], &a, dp_clock_ms());
			cf_bad[id] += ret != 0 && ret != -EBUSY && ret != -ENOBUFS;
		}
		e = dp_cache_lookup(cf_cache, cf_keys[k].name, cf_keys[k].name_len,
				    cf_keys[k].qtype, cf_keys[k].qclass, cf_keys[k].kind);
		if (e != NULL) {
			cf_hits[id]++;
			cf_bad[id] += !cf_check(e) || dp_cache_entry_rr(e)[0] != k;
		}
		if ((n & 7) == 0) {
			rte_rcu_qsbr_quiescent(qsbr, id);
			dp_cache_writer_reclaim(cf_writer[id]);
		}
	}
	rte_rcu_qsbr_thread_offline(qsbr, id);
	rte_rcu_qsbr_thread_unregister(qsbr, id);
	return 0;
}

static void
cf_visit(void *arg, const struct dp_cache_entry *e)
{
	uint64_t *bad = arg;

	*bad += !cf_check(e);
}

START_TEST(test_dp_cache_flush_under_writers)
{
	uint64_t bad = 0, hits = 0, visit_bad = 0, removed = 0;
	unsigned lcore, workers = 0;
	struct dp_cache_flush_result r;
	struct dp_cache_info info;
	char name[32];

	cf_cache = new_cache("tf_conc", 16);
	for (int i = 0; i < CF_KEYS; i++) {
		snprintf(name, sizeof(name), "k%d.%s.test", i, i % 2 ? "odd" : "even");
		cf_keys[i] = key_of(name, PX_DNS_TYPE_A);
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		cf_writer[lcore] = dp_cache_writer_create(cf_cache, 0, 64);
		ck_assert_ptr_nonnull(cf_writer[lcore]);
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		rte_eal_remote_launch(cf_worker, NULL, lcore);
		workers++;
	}
	ck_assert_uint_ge(workers, 2);
	for (unsigned n = 0; n < 1000000; n++) {
		bool running = false;

		RTE_LCORE_FOREACH_WORKER(lcore)
			running |= rte_eal_get_lcore_state(lcore) == RUNNING;
		if (!running && n > 100)
			break;
		r = flush(cf_cache, PX_FLUSH_ZONE, "odd.test", PX_FLUSH_ANY_TYPE);
		removed += r.removed;
		r = flush(cf_cache, PX_FLUSH_NAME, "k4.even.test", PX_DNS_TYPE_A);
		removed += r.removed;
		for (uint32_t p = 0; p < dp_cache_bucket_count(cf_cache);)
			p = dp_cache_walk(cf_cache, p, 3, cf_visit, &visit_bad);
		dp_cache_reclaim(cf_cache);
	}
	rte_eal_mp_wait_lcore();
	RTE_LCORE_FOREACH_WORKER(lcore) {
		bad += cf_bad[lcore];
		hits += cf_hits[lcore];
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(visit_bad, 0);
	ck_assert_uint_gt(hits, 0);
	ck_assert_uint_gt(removed, 0);
	dp_cache_info(cf_cache, &info);
	ck_assert_uint_eq(info.flushed, removed);

	/* Quiet now: a zone flush leaves none of its names and every other one. */
	r = flush(cf_cache, PX_FLUSH_ZONE, "odd.test", PX_FLUSH_ANY_TYPE);
	for (int i = 0; i < CF_KEYS; i++) {
		struct dp_cache_entry *e = dp_cache_entry_clone(cf_cache, &cf_keys[i]);

		if (i % 2)
			ck_assert_ptr_null(e);
		dp_cache_entry_free(e);
	}
	free_checked(cf_cache);
}
END_TEST

/* Runs a control command; its reply body in *text (static, NUL-terminated). */
static int
cmd(struct dp_cache *c, const char *line, char **text)
{
	static char *body;
	static size_t len;
	char buf[256], *argv[8], *save = NULL;
	int argc = 0, rc;
	FILE *out;

	free(body);
	body = NULL;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok_r(buf, " ", &save); w != NULL && argc < 8;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	out = open_memstream(&body, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert(ctl_cache_cmd_handles(argv[0]));
	rc = ctl_cache_cmd(c, NULL, argc, argv, out, dp_clock_ms());
	fclose(out);
	*text = body;
	return rc;
}

START_TEST(test_ctl_cache_cmd_flush_replies)
{
	struct dp_cache *c = new_cache("tf_cmd", 1024);
	char *t;

	put_rr(c, "www.example.com", PX_DNS_TYPE_A, 0, 300, dp_clock_ms());
	put_rr(c, "www.example.com", PX_DNS_TYPE_AAAA, 0, 300, dp_clock_ms());
	put_a(c, "other.example.com");
	put_rr(c, "local.example.com", PX_DNS_TYPE_A, DP_CACHE_F_AA | DP_CACHE_F_PINNED, 60,
	       dp_clock_ms());

	ck_assert_int_eq(cmd(c, "flush WWW.Example.com aaaa", &t), 0);
	ck_assert_str_eq(t, "removed 1 entries\n");
	ck_assert_int_eq(cmd(c, "flush www.example.com.", &t), 0);
	ck_assert_str_eq(t, "removed 1 entries\n");
	ck_assert_int_eq(cmd(c, "flush www.example.com", &t), -1);
	ck_assert_str_eq(t, "www.example.com is not in the cache\n");
	ck_assert_int_eq(cmd(c, "flush local.example.com", &t), -1);
	ck_assert_ptr_nonnull(strstr(t, "only local-zone data (1 entries)"));
	ck_assert_int_eq(cmd(c, "flush-zone example.com", &t), 0);
	ck_assert_str_eq(t, "removed 1 entries\nkept 1 local-zone entries (never flushed)\n");
	ck_assert_int_eq(cmd(c, "flush-all", &t), 0);
	ck_assert_str_eq(t, "removed 0 entries\nkept 1 local-zone entries (never flushed)\n");
	ck_assert_int_eq(cmd(c, "flush a..b", &t), -1);
	ck_assert_str_eq(t, "bad name 'a..b'\n");
	ck_assert_int_eq(cmd(c, "flush example.com NOSUCHTYPE", &t), -1);
	ck_assert_int_eq(cmd(c, "flush-zone", &t), -1);
	ck_assert_int_eq(cmd(c, "flush-all now", &t), -1);
	ck_assert_int_eq(cmd(c, "flush-zone example.com A", &t), -1);
	free_checked(c);
}
END_TEST

START_TEST(test_ctl_cache_cmd_lookup)
{
	struct dp_cache *c = new_cache("tf_lookup", 1024);
	uint64_t now = dp_clock_ms();
	char *t;

	put_rr(c, "www.example.com", PX_DNS_TYPE_A, 0, 300, now);
	put_rr(c, "old.example.com", PX_DNS_TYPE_A, 0, 0, now);
	put_rr(c, "local.example.com", PX_DNS_TYPE_AAAA, DP_CACHE_F_AA | DP_CACHE_F_PINNED, 60,
	       now);
	put_cut(c, ".", DP_CACHE_F_PRIMED);
	put_cut(c, "example.com", 0);

	ck_assert_int_eq(cmd(c, "lookup WWW.example.com A", &t), 0);
	ck_assert_ptr_nonnull(strstr(t, "www.example.com. IN A\nkind: answer\nrcode: NOERROR\n"
				     "origin: resolved\n"));
	ck_assert_ptr_nonnull(strstr(t, "state: fresh\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nwww.example.com.\t"));
	ck_assert_ptr_nonnull(strstr(t, "\tIN\tA\t192.0.2.1\n"));

	ck_assert_int_eq(cmd(c, "lookup old.example.com A", &t), 0);
	ck_assert_ptr_nonnull(strstr(t, "state: expired 0 s ago (stale: served as such within "
				    "serve-stale-max"));
	ck_assert_ptr_nonnull(strstr(t, "ttl: 0 of 0\n"));
	ck_assert_int_eq(cmd(c, "lookup local.example.com AAAA", &t), 0);
	ck_assert_ptr_nonnull(strstr(t, "origin: local-zone\n"));
	ck_assert_ptr_nonnull(strstr(t, "state: configuration"));
	ck_assert_ptr_nonnull(strstr(t, "\tIN\tAAAA\t2001:db8::1\n"));

	ck_assert_int_eq(cmd(c, "lookup . NS", &t), 0);
	ck_assert_ptr_nonnull(strstr(t, "kind: delegation\norigin: primed\n"));
	ck_assert_ptr_nonnull(strstr(t, "\n.\t3"));
	ck_assert_ptr_nonnull(strstr(t, "\tIN\tNS\tns1.root.test.\nns1.root.test.\t3"));
	ck_assert_ptr_nonnull(strstr(t, "\tIN\tA\t192.0.2.53\n"));
	ck_assert_int_eq(cmd(c, "lookup example.com NS", &t), 0);
	ck_assert_ptr_nonnull(strstr(t, "origin: resolved\n"));

	ck_assert_int_eq(cmd(c, "lookup www.example.com AAAA", &t), -1);
	ck_assert_str_eq(t, "www.example.com AAAA is not in the cache\n");
	ck_assert_int_eq(cmd(c, "lookup www.example.com", &t), -1);
	free_checked(c);
}
END_TEST

/* Reads everything a dump sends on fd, ticking it between reads. */
static char *
dump_read(struct ctl_cache_dump *d, int fd, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	for (unsigned spins = 0; spins < 100000; spins++) {
		ssize_t n;

		ctl_cache_dump_tick(d);
		if (cap - *len < 65536) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		n = recv(fd, buf + *len, cap - *len, MSG_DONTWAIT);
		if (n > 0)
			*len += (size_t)n;
		else if (n == 0)
			break;
	}
	buf[*len] = '\0';
	return buf;
}

START_TEST(test_ctl_cache_dump_streams)
{
	struct dp_cache *c = new_cache("tf_dump", 8192);
	struct ctl_cache_dump d;
	char name[64], end[64], *out;
	size_t len;
	int sv[2];

	for (unsigned i = 0; i < 1500; i++) {
		snprintf(name, sizeof(name), "host%u.example.com", i);
		put_a(c, name);
	}
	put_cut(c, "example.com", 0);
	/* A TTL of 0 is expired from the moment it is inserted. */
	put_rr(c, "gone.example.com", PX_DNS_TYPE_A, 0, 0, dp_clock_ms());
	put_rr(c, "local.example.com", PX_DNS_TYPE_A, DP_CACHE_F_AA | DP_CACHE_F_PINNED, 60,
	       dp_clock_ms());
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ctl_cache_dump_init(&d, c, NULL);
	ck_assert_int_eq(ctl_cache_dump_start_fd(&d, sv[0]), 0);
	ck_assert(ctl_cache_dump_busy(&d));
	ck_assert_int_eq(ctl_cache_dump_start_fd(&d, -1), -EBUSY);
	out = dump_read(&d, sv[1], &len);
	ck_assert(!ctl_cache_dump_busy(&d));
	ck_assert_int_eq(strncmp(out, "OK\n;", 4), 0);
	ck_assert_ptr_nonnull(strstr(out, "\nhost0.example.com.\t"));
	ck_assert_ptr_nonnull(strstr(out, "\nhost1499.example.com.\t"));
	ck_assert_ptr_nonnull(strstr(out, "\nexample.com.\t3"));
	ck_assert_ptr_nonnull(strstr(out, "\tIN\tNS\tns1.example.com.\nns1.example.com.\t3"));
	ck_assert_ptr_null(strstr(out, "local.example.com"));
	ck_assert_ptr_null(strstr(out, "gone.example.com"));
	snprintf(end, sizeof(end), "\n" PX_CTL_DUMP_END "%u entries\n", 1501u);
	ck_assert_uint_ge(len, strlen(end));
	ck_assert_str_eq(out + len - strlen(end), end);
	free(out);
	close(sv[1]);

	/* A client that goes away ends the dump. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(ctl_cache_dump_start_fd(&d, sv[0]), 0);
	close(sv[1]);
	for (int i = 0; i < 1000 && ctl_cache_dump_busy(&d); i++)
		ctl_cache_dump_tick(&d);
	ck_assert(!ctl_cache_dump_busy(&d));
	ck_assert_uint_eq(d.aborted, 1);
	ctl_cache_dump_stop(&d);
	free_checked(c);
}
END_TEST

START_TEST(test_ctl_cache_parse)
{
	uint8_t w[PX_DNS_MAX_NAME];
	static const uint8_t www[] = {3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};

	ck_assert_int_eq(ctl_cache_parse_name("WWW.Example", w), sizeof(www));
	ck_assert_int_eq(memcmp(w, www, sizeof(www)), 0);
	ck_assert_int_eq(ctl_cache_parse_name("www.example.", w), sizeof(www));
	ck_assert_int_eq(ctl_cache_parse_name(".", w), 1);
	ck_assert_int_eq(w[0], 0);
	ck_assert_int_eq(ctl_cache_parse_name("a..b", w), -EINVAL);
	ck_assert_int_eq(ctl_cache_parse_name("", w), -EINVAL);
	ck_assert_int_eq(ctl_cache_parse_type("aaaa"), PX_DNS_TYPE_AAAA);
	ck_assert_int_eq(ctl_cache_parse_type("TYPE65"), 65);
	ck_assert_int_eq(ctl_cache_parse_type("15"), 15);
	ck_assert_int_eq(ctl_cache_parse_type("70000"), -EINVAL);
	ck_assert_int_eq(ctl_cache_parse_type("BOGUS"), -EINVAL);
}
END_TEST

static Suite *
cache_flush_suite(void)
{
	Suite *s = suite_create("cache_flush");
	TCase *tc = tcase_create("flush");

	tcase_add_test(tc, test_dp_cache_flush_match_name);
	tcase_add_test(tc, test_dp_cache_flush_match_zone);
	tcase_add_test(tc, test_dp_cache_flush_frees_after_grace_period);
	tcase_add_test(tc, test_dp_cache_walk_slices);
	tcase_add_test(tc, test_dp_cache_flush_under_writers);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tc = tcase_create("commands");
	tcase_add_test(tc, test_ctl_cache_parse);
	tcase_add_test(tc, test_ctl_cache_cmd_flush_replies);
	tcase_add_test(tc, test_ctl_cache_cmd_lookup);
	tcase_add_test(tc, test_ctl_cache_dump_streams);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	/* Two worker lcores on the machine's two CPUs, for the concurrent flush. */
	px_test_eal_init("test_cache_flush", "0@0,1@1,2@0", NULL);
	dp_clock_init();
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	rte_rcu_qsbr_init(qsbr, RTE_MAX_LCORE);
	sr = srunner_create(cache_flush_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_free(qsbr);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
