/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fallbacks within one resolution, driven against a scripted internet as in test_resolver.c:
 * a nameserver's parent-side and child-side addresses, a name whose glue failed or was
 * rejected looked up in its own zone, glue out of the bailiwick, and a cached cut whose
 * servers all fail replaced by a fresh referral from the parent. Pure: no EAL, no network.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/addr_policy.h>
#include <pollux/cut.h>
#include <pollux/reply.h>
#include <pollux/resolver.h>
#include <pollux/wire.h>

#include "testlib.h"

#define AN 0
#define AU 1
#define AD 2
#define CAP 8

enum kind { K_REFER, K_A, K_NX, K_REFUSED, K_SERVFAIL, K_WRONG_TYPE, K_WRONG_TYPE_NOAA, K_CNAME };

struct rule {
	const char *server;
	const char *name; /* the qname, or with suffix set any name at or below it */
	bool suffix;
	uint16_t qtype;   /* 0: any */
	enum kind kind;
	const char *zone; /* K_REFER: the delegation; K_NX: the SOA owner */
	const char *ns[4];
	const char *glue[4][2]; /* owner, address: the owner need not be one of ns */
	const char *addr;       /* K_A, K_WRONG_TYPE; K_CNAME: the target */
};

static const struct rule internet[] = {
	/* The root. */
	{"198.18.0.1", "test", true, 0, K_REFER, "test", {"ns1.nic.test"},
	 {{"ns1.nic.test", "198.18.1.1"}}},
	{"198.18.0.1", "other", true, 0, K_REFER, "other", {"ns.nic.other"},
	 {{"ns.nic.other", "198.18.5.1"}}},
	{"198.18.5.1", "example.other", true, 0, K_REFER, "example.other", {"ns.example.other"},
	 {{"ns.example.other", "198.18.7.1"}}},
	{"198.18.7.1", "ns.example.other", false, PX_DNS_TYPE_A, K_A, .addr = "198.18.14.1"},
	{"198.18.7.1", "ns.example.other", false, PX_DNS_TYPE_AAAA, K_NX, "example.other"},

	/* sib.test: served by ns.host.test, which the parent of host.test puts at 198.18.10.1
	 * (works) and host.test itself at 198.18.10.99 (silent). */
	{"198.18.1.1", "sib.test", true, 0, K_REFER, "sib.test", {"ns.host.test"}},
	{"198.18.1.1", "host.test", true, 0, K_REFER, "host.test", {"ns.host.test"},
	 {{"ns.host.test", "198.18.10.1"}}},
	{"198.18.10.1", "ns.host.test", false, PX_DNS_TYPE_A, K_A, .addr = "198.18.10.99"},
	{"198.18.10.1", "sib.test", true, 0, K_A, .addr = "192.0.2.10"},

	/* nxns.test: served by ns.liar.test, which liar.test says does not exist. */
	{"198.18.1.1", "nxns.test", true, 0, K_REFER, "nxns.test", {"ns.liar.test"}},
	{"198.18.1.1", "liar.test", true, 0, K_REFER, "liar.test", {"ns.liar.test"},
	 {{"ns.liar.test", "198.18.11.1"}}},
	{"198.18.11.1", "ns.liar.test", false, 0, K_NX, "liar.test"},
	{"198.18.11.1", "nxns.test", true, 0, K_A, .addr = "192.0.2.11"},

	/* refns.test: served by ns.refuser.test, whose zone's server refuses to say where. */
	{"198.18.1.1", "refns.test", true, 0, K_REFER, "refns.test", {"ns.refuser.test"}},
	{"198.18.1.1", "refuser.test", true, 0, K_REFER, "refuser.test", {"ns.refuser.test"},
	 {{"ns.refuser.test", "198.18.16.1"}}},
	{"198.18.16.1", "ns.refuser.test", false, 0, K_REFUSED},
	{"198.18.16.1", "refns.test", true, 0, K_A, .addr = "192.0.2.16"},

	/* stale.test: the .test zone's glue for ns.host2.test is stale (silent); host2.test knows
	 * the server's current address. */
	{"198.18.1.1", "stale.test", true, 0, K_REFER, "stale.test", {"ns.host2.test"},
	 {{"ns.host2.test", "198.18.12.98"}}},
	{"198.18.1.1", "host2.test", true, 0, K_REFER, "host2.test", {"ns1.host2.test"},
	 {{"ns1.host2.test", "198.18.12.1"}}},
	{"198.18.12.1", "ns.host2.test", false, PX_DNS_TYPE_A, K_A, .addr = "198.18.12.2"},
	{"198.18.12.2", "stale.test", true, 0, K_A, .addr = "192.0.2.12"},

	/* moved.test: moved to 198.18.13.1; the caches' cut still says 198.18.13.99 (silent).
	 * gone.test: the parent still names its one server, which is silent. */
	{"198.18.1.1", "moved.test", true, 0, K_REFER, "moved.test", {"ns.moved.test"},
	 {{"ns.moved.test", "198.18.13.1"}}},
	{"198.18.13.1", "moved.test", true, 0, K_A, .addr = "192.0.2.13"},
	{"198.18.1.1", "gone.test", true, 0, K_REFER, "gone.test", {"ns.gone.test"},
	 {{"ns.gone.test", "198.18.13.99"}}},

	/* kid.host5.test: moved off its parent's server 198.18.20.1 (which serves host5.test
	 * and now refers kid.host5.test to 198.18.20.2); the caches' cut still names the parent's
	 * server, which is lame for it. */
	{"198.18.1.1", "host5.test", true, 0, K_REFER, "host5.test", {"ns.host5.test"},
	 {{"ns.host5.test", "198.18.20.1"}}},
	{"198.18.20.1", "kid.host5.test", true, 0, K_REFER, "kid.host5.test",
	 {"ns.kid.host5.test"}, {{"ns.kid.host5.test", "198.18.20.2"}}},
	{"198.18.20.2", "kid.host5.test", true, 0, K_A, .addr = "192.0.2.21"},
	/* kid.host6.test: the same, but the parent's server 198.18.21.1 is silent for names in
	 * kid.host6.test and answers only the referral to its new server. */
	{"198.18.1.1", "host6.test", true, 0, K_REFER, "host6.test", {"ns.host6.test"},
	 {{"ns.host6.test", "198.18.21.1"}}},
	{"198.18.21.1", "kid.host6.test", false, 0, K_REFER, "kid.host6.test",
	 {"ns.kid.host6.test"}, {{"ns.kid.host6.test", "198.18.21.2"}}},
	{"198.18.21.2", "kid.host6.test", true, 0, K_A, .addr = "192.0.2.22"},
	/* multi.test: served by 198.18.22.1; the caches' cut names three servers in host7.test
	 * at addresses that are silent now, and host7.test's own server is silent too. */
	{"198.18.1.1", "multi.test", true, 0, K_REFER, "multi.test", {"ns.multi.test"},
	 {{"ns.multi.test", "198.18.22.1"}}},
	{"198.18.22.1", "multi.test", true, 0, K_A, .addr = "192.0.2.23"},
	{"198.18.1.1", "host7.test", true, 0, K_REFER, "host7.test", {"ns.host7.test"},
	 {{"ns.host7.test", "198.18.22.50"}}},

	/* cna.test: the caches' cut names 198.18.23.1, silent for it; the parent names
	 * 198.18.23.2, which aliases www.cna.test to www.cnb.test, a zone of the same name length
	 * that 198.18.23.1 does serve. */
	{"198.18.1.1", "cna.test", true, 0, K_REFER, "cna.test", {"ns.cna.test"},
	 {{"ns.cna.test", "198.18.23.2"}}},
	{"198.18.23.2", "www.cna.test", false, 0, K_CNAME, .addr = "www.cnb.test"},
	{"198.18.1.1", "cnb.test", true, 0, K_REFER, "cnb.test", {"ns.cnb.test"},
	 {{"ns.cnb.test", "198.18.23.1"}}},
	{"198.18.23.1", "cnb.test", true, 0, K_A, .addr = "192.0.2.24"},

	/* oob.test: served by ns.example.other, with glue the .test server has no say over. */
	{"198.18.1.1", "oob.test", true, 0, K_REFER, "oob.test", {"ns.example.other"},
	 {{"ns.example.other", "198.18.14.66"}}},
	{"198.18.14.1", "oob.test", true, 0, K_A, .addr = "192.0.2.14"},

	/* rej.test: glue the policy rejects for ns.host3.test, which host3.test puts at a good
	 * address. rej2.test: host4.test gives the rejected address again. */
	{"198.18.1.1", "rej.test", true, 0, K_REFER, "rej.test", {"ns.host3.test"},
	 {{"ns.host3.test", "127.0.0.1"}}},
	{"198.18.1.1", "host3.test", true, 0, K_REFER, "host3.test", {"ns1.host3.test"},
	 {{"ns1.host3.test", "198.18.15.1"}}},
	{"198.18.15.1", "ns.host3.test", false, PX_DNS_TYPE_A, K_A, .addr = "198.18.15.2"},
	{"198.18.15.2", "rej.test", true, 0, K_A, .addr = "192.0.2.15"},
	{"198.18.1.1", "rej2.test", true, 0, K_REFER, "rej2.test", {"ns.host4.test"},
	 {{"ns.host4.test", "127.0.0.1"}}},
	{"198.18.1.1", "host4.test", true, 0, K_REFER, "host4.test", {"ns1.host4.test"},
	 {{"ns1.host4.test", "198.18.15.1"}}},
	{"198.18.15.1", "ns.host4.test", false, PX_DNS_TYPE_A, K_A, .addr = "127.0.0.1"},
	{"198.18.15.1", "ns.host4.test", false, PX_DNS_TYPE_AAAA, K_NX, "host4.test"},
	/* rej3.test: one rejected name, one glueless: the glueless one is looked up first. */
	{"198.18.1.1", "rej3.test", true, 0, K_REFER, "rej3.test",
	 {"ns.host3.test", "ns.example.other"}, {{"ns.host3.test", "127.0.0.1"}}},
	{"198.18.14.1", "rej3.test", true, 0, K_A, .addr = "192.0.2.17"},

	/* wrongtype.test: its server answers AAAA questions with A records. */
	{"198.18.1.1", "wrongtype.test", true, 0, K_REFER, "wrongtype.test", {"ns.wrongtype.test"},
	 {{"ns.wrongtype.test", "198.18.17.1"}}},
	{"198.18.17.1", "wrongtype.test", true, PX_DNS_TYPE_AAAA, K_WRONG_TYPE,
	 .addr = "192.0.2.18"},
	{"198.18.17.1", "wrongtype.test", true, PX_DNS_TYPE_A, K_A, .addr = "192.0.2.18"},
	{"198.18.17.2", "wrongtype.test", true, 0, K_A, .addr = "192.0.2.19"},
	/* wrongtype2.test: its first server does the same without AA, the second is sound. */
	{"198.18.1.1", "wrongtype2.test", true, 0, K_REFER, "wrongtype2.test",
	 {"ns1.wrongtype2.test", "ns2.wrongtype2.test"},
	 {{"ns1.wrongtype2.test", "198.18.17.3"}, {"ns2.wrongtype2.test", "198.18.17.4"}}},
	{"198.18.17.3", "wrongtype2.test", true, 0, K_WRONG_TYPE_NOAA, .addr = "192.0.2.18"},
	{"198.18.17.4", "wrongtype2.test", true, 0, K_A, .addr = "192.0.2.20"},
};

static struct px_addr_policy policy;
static struct px_resolver_config cfg;
static struct px_resolver *res;
static uint8_t mem[CAP * sizeof(struct px_resolution) + 65536] __attribute__((aligned(8)));
static uint8_t hints_mem[4096] __attribute__((aligned(8)));
static struct px_hints *hints;
static struct px_reply rep;
static struct px_test_msg m;
static struct px_resolver_action act;
static uint64_t now;

static char sends[64][400];
static unsigned send_count;
static const char *unreachable; /* a server to which no query can be sent, or NULL */
static char cached[4096];

static void
name_str(char *dst, const uint8_t *w)
{
	unsigned i = 0, o = 0;

	if (w[0] == 0) {
		strcpy(dst, ".");
		return;
	}
	while (w[i] != 0) {
		memcpy(dst + o, w + i + 1, w[i]);
		o += w[i];
		dst[o++] = '.';
		i += 1u + w[i];
	}
	dst[o] = 0;
}

static void
addr_str(char *dst, const struct px_addr *a)
{
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, dst, 64);
}

static bool
name_match(const struct rule *ru, const char *q)
{
	size_t nl = strlen(ru->name), ql = strlen(q) - 1;

	if (ql == nl && strncmp(q, ru->name, nl) == 0)
		return true;
	return ru->suffix && ql > nl && q[ql - nl - 1] == '.' &&
	       strncmp(q + ql - nl, ru->name, nl) == 0;
}

static void
build(const struct rule *ru, const char *q, uint16_t qtype)
{
	uint16_t aa = PX_DNS_QR | PX_DNS_AA;

	switch (ru->kind) {
	case K_REFER:
		px_test_msg_start(&m, 1, PX_DNS_QR, q, qtype);
		for (int i = 0; i < 4 && ru->ns[i]; i++)
			px_test_msg_target(&m, AU, ru->zone, PX_DNS_TYPE_NS, 3600, ru->ns[i]);
		for (int i = 0; i < 4 && ru->glue[i][0]; i++)
			px_test_msg_addr(&m, AD, ru->glue[i][0], ru->glue[i][1]);
		break;
	case K_A:
		px_test_msg_start(&m, 1, aa, q, qtype);
		if (qtype == PX_DNS_TYPE_A)
			px_test_msg_addr(&m, AN, NULL, ru->addr);
		else
			px_test_msg_soa(&m, AU, q, 300, 300);
		break;
	case K_NX:
		px_test_msg_start(&m, 1, aa | PX_DNS_RCODE_NXDOMAIN, q, qtype);
		px_test_msg_soa(&m, AU, ru->zone, 300, 300);
		break;
	case K_REFUSED:
		px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_RCODE_REFUSED, q, qtype);
		break;
	case K_SERVFAIL:
		px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_RCODE_SERVFAIL, q, qtype);
		break;
	case K_CNAME:
		px_test_msg_start(&m, 1, aa, q, qtype);
		px_test_msg_target(&m, AN, q, PX_DNS_TYPE_CNAME, 300, ru->addr);
		break;
	case K_WRONG_TYPE: /* an A record for an AAAA question, AA, nothing else */
	case K_WRONG_TYPE_NOAA: /* the same without AA */
		px_test_msg_start(&m, 1, ru->kind == K_WRONG_TYPE ? aa : PX_DNS_QR, q, qtype);
		px_test_msg_addr(&m, AN, NULL, ru->addr);
		break;
	}
}

static const struct rule *
lookup(const char *server, const char *q, uint16_t qtype)
{
	for (size_t i = 0; i < sizeof(internet) / sizeof(internet[0]); i++) {
		const struct rule *ru = &internet[i];

		if (strcmp(ru->server, server) == 0 && name_match(ru, q) &&
		    (ru->qtype == 0 || ru->qtype == qtype))
			return ru;
	}
	return NULL;
}

static void
note_cache(void)
{
	char z[300], a[64];

	if (act.cache_cut == NULL || act.cache_cut->ttl == 0)
		return;
	name_str(z, act.cache_cut->zone);
	strcat(cached, z);
	for (unsigned i = 0; i < act.cache_cut->ns_count; i++)
		for (unsigned j = 0; j < act.cache_cut->ns[i].addr_count; j++) {
			addr_str(a, &act.cache_cut->ns[i].addr[j]);
			strcat(cached, " ");
			strcat(cached, a);
		}
	strcat(cached, ";");
}

/* Answers SEND actions from the scripted internet until the resolution ends. A server with no
 * rule for the question never answers: a timeout. */
static void
drive(void)
{
	unsigned steps = 100;

	note_cache();
	while (act.kind == PX_RES_ACT_SEND && steps-- > 0) {
		char server[64], q[300];
		struct px_reply_query rq = {0};
		const struct rule *ru;
		struct px_addr to = act.server;
		uint64_t h = act.res;
		uint32_t v4;

		addr_str(server, &act.server);
		name_str(q, act.qname);
		ck_assert_uint_lt(send_count, 64);
		snprintf(sends[send_count++], sizeof(sends[0]), "%s %s %s", server, q,
			 act.qtype == PX_DNS_TYPE_A	 ? "A"
			 : act.qtype == PX_DNS_TYPE_AAAA ? "AAAA"
							 : "?");
		/* Never a query to an address the policy rejects. */
		ck_assert_int_eq(to.family, 4);
		memcpy(&v4, to.a, 4);
		ck_assert_int_eq(px_addr_check4(&policy, v4), PX_ADDR_OK);
		if (unreachable != NULL && strcmp(server, unreachable) == 0) {
			px_resolver_on_unreachable(res, h, &to, now, &act);
			note_cache();
			continue;
		}
		ru = lookup(server, q, act.qtype);
		if (ru == NULL) {
			now += 400;
			px_resolver_on_timeout(res, h, &to, now, &act);
			note_cache();
			continue;
		}
		build(ru, q, act.qtype);
		rq.qname = act.qname;
		rq.qname_len = act.qname_len;
		rq.zone = act.zone;
		rq.zone_len = act.zone_len;
		rq.qtype = act.qtype;
		rq.qclass = act.qclass;
		rq.policy = &policy;
		px_reply_classify(&rep, m.buf, m.len, &rq);
		now += 1;
		px_resolver_on_reply(res, h, &rep, m.buf, m.len, &to, now, &act);
		note_cache();
	}
}

static void
setup_with(const struct px_resolver_config *c)
{
	px_addr_policy_init(&policy);
	ck_assert_uint_le(px_resolver_memsize(CAP), sizeof(mem));
	res = px_resolver_init(mem, CAP, c, &policy, NULL, NULL);
	ck_assert_ptr_nonnull(res);
	hints = (struct px_hints *)hints_mem;
	ck_assert_uint_le(px_hints_size(1), sizeof(hints_mem));
	memset(hints, 0, px_hints_size(1));
	hints->ns_count = 1;
	hints->ns[0].name_len = (uint8_t)px_test_name(hints->ns[0].name, "a.root");
	hints->ns[0].v4_count = 1;
	inet_pton(AF_INET, "198.18.0.1", &hints->ns[0].addr[0].a);
	hints->ns[0].addr[0].family = PX_AF_INET;
	px_resolver_set_hints_source(res, &hints);
	memset(&act, 0, sizeof(act));
	now = 1000000;
	send_count = 0;
	unreachable = NULL;
	cached[0] = 0;
}

static void
setup(void)
{
	px_resolver_config_default(&cfg);
	setup_with(&cfg);
}

static uint8_t qwire[PX_DNS_NAME_BUF];

static void
question(struct px_resolver_question *q, const char *name, uint16_t qtype)
{
	q->qname = qwire;
	q->qname_len = (uint8_t)px_test_name(qwire, name);
	q->qtype = qtype;
	q->qclass = PX_DNS_CLASS_IN;
}

/* Resolves name/qtype from the hints (start_cut NULL) or from start_cut, to the end. */
static void
resolve_from(const char *name, uint16_t qtype, const struct px_resolver_start_cut *sc)
{
	struct px_resolver_question q;

	question(&q, name, qtype);
	ck_assert_int_eq(px_resolver_start(res, &q, hints, sc, now, 1, &act), 0);
	drive();
}

static bool
sent(const char *line)
{
	for (unsigned i = 0; i < send_count; i++)
		if (strcmp(sends[i], line) == 0)
			return true;
	return false;
}

static unsigned
sent_to(const char *server)
{
	unsigned n = 0;
	size_t l = strlen(server);

	for (unsigned i = 0; i < send_count; i++)
		if (strncmp(sends[i], server, l) == 0 && sends[i][l] == ' ')
			n++;
	return n;
}

/* The one A record of the answer, as text. */
static void
assert_a(const char *want)
{
	const uint8_t *p = act.rr;
	char got[64];
	unsigned k = 0;

	ck_assert_int_eq(act.kind, PX_RES_ACT_ANSWER);
	ck_assert_int_eq(act.rcode, PX_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(act.an_count, 1);
	while (p[k] != 0)
		k += 1u + p[k];
	k++;
	ck_assert_uint_eq(px_get16(p + k), PX_DNS_TYPE_A);
	inet_ntop(AF_INET, p + k + 10, got, sizeof(got));
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(px_resolver_active(res), 0);
}

/* The name's own zone gives an address that does not answer; the glue the parent of that zone
 * gave for the name (on the way to asking it) does: it is tried next. */
START_TEST(test_fallback_parent_glue_after_child_address)
{
	resolve_from("www.sib.test", PX_DNS_TYPE_A, NULL);
	assert_a("192.0.2.10");
	ck_assert(sent("198.18.10.99 www.sib.test. A"));
	ck_assert(sent("198.18.10.1 www.sib.test. A"));
	ck_assert_uint_eq(res->stats.fb_parent_addr, 1);
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_TIMEOUT], 1);
	/* Both sides are kept in the cut offered to the cache, the child's first. */
	ck_assert_ptr_nonnull(strstr(cached, "sib.test. 198.18.10.99 198.18.10.1;"));
}
END_TEST

/* The cache keeps the name's own zone's addresses when it gave any (the glue is the fallback of
 * the resolution that learned both, and a later one finds it again by looking the name up),
 * and the glue when that is all there is. */
START_TEST(test_fallback_cut_cache_keeps_child_side)
{
	static struct px_resolver_cut cut;
	struct px_resolver_start_buf out;
	uint8_t buf[PX_CUT_MAX_LEN];
	uint16_t n, len;

	memset(&cut, 0, sizeof(cut));
	cut.zone_len = (uint8_t)px_test_name(cut.zone, "sib.test");
	cut.ns_count = 2;
	cut.ns[0].name_len = (uint8_t)px_test_name(cut.ns[0].name, "ns.host.test");
	cut.ns[0].addr_count = 2;
	px_addr_set4(&cut.ns[0].addr[0], htonl(0xc6120a63), 0); /* 198.18.10.99, the child's */
	cut.ns[0].addr_side[0] = PX_RES_SIDE_CHILD;
	px_addr_set4(&cut.ns[0].addr[1], htonl(0xc6120a01), 0); /* 198.18.10.1, the glue */
	cut.ns[0].addr_side[1] = PX_RES_SIDE_PARENT;
	cut.ns[1].name_len = (uint8_t)px_test_name(cut.ns[1].name, "ns.liar.test");
	cut.ns[1].addr_count = 1;
	px_addr_set4(&cut.ns[1].addr[0], htonl(0xc6120b01), 0); /* 198.18.11.1, glue alone */
	len = px_cut_encode(buf, sizeof(buf), &cut, &n);
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(px_cut_decode(buf, len, cut.zone, cut.zone_len, &out), 0);
	ck_assert_uint_eq(out.sc.ns_count, 2);
	ck_assert_uint_eq(out.sc.ns[0].addr_count, 1);
	ck_assert(px_addr_eq(&out.sc.ns[0].addrs[0], &cut.ns[0].addr[0]));
	ck_assert_uint_eq(out.sc.ns[1].addr_count, 1);
	ck_assert(px_addr_eq(&out.sc.ns[1].addrs[0], &cut.ns[1].addr[0]));
}
END_TEST

/* The name's own zone says it does not exist: its parent's glue is used. */
START_TEST(test_fallback_parent_glue_after_nxdomain)
{
	resolve_from("www.nxns.test", PX_DNS_TYPE_A, NULL);
	assert_a("192.0.2.11");
	ck_assert(sent("198.18.11.1 ns.liar.test. A"));
	ck_assert(sent("198.18.11.1 www.nxns.test. A"));
	ck_assert_uint_eq(res->stats.fb_parent_addr, 1);
	/* The A lookup found an address (the parent side's): no AAAA lookup. */
	ck_assert_uint_eq(res->stats.glueless_started, 1);
}
END_TEST

/* The name's own zone refuses the lookup: the same server, known from the parent's glue, may
 * still serve the zone it was named for. */
START_TEST(test_fallback_parent_glue_after_refused)
{
	resolve_from("www.refns.test", PX_DNS_TYPE_A, NULL);
	assert_a("192.0.2.16");
	ck_assert(sent("198.18.16.1 ns.refuser.test. A"));
	ck_assert(sent("198.18.16.1 www.refns.test. A"));
	ck_assert_uint_ge(res->stats.fb_parent_addr, 1);
}
END_TEST

/* Without the fallback, the same cases end in SERVFAIL: with max_glueless 0 no lookup may
 * start, so the fallback has nothing to work with (a check that the tests above rely on it). */
START_TEST(test_fallback_bounded_by_glueless_limit)
{
	px_resolver_config_default(&cfg);
	cfg.max_glueless = 0;
	setup_with(&cfg);
	resolve_from("www.nxns.test", PX_DNS_TYPE_A, NULL);
	ck_assert_int_eq(act.kind, PX_RES_ACT_SERVFAIL);
	ck_assert_int_eq(act.reason, PX_RES_FAIL_GLUELESS);
	ck_assert_uint_eq(res->stats.fb_parent_addr, 0);
}
END_TEST

/* The parent's glue for an out-of-zone name does not answer: the name is looked up in its own
 * zone, which knows its current address. */
START_TEST(test_fallback_child_lookup_after_glue_fails)
{
	resolve_from("www.stale.test", PX_DNS_TYPE_A, NULL);
	assert_a("192.0.2.12");
	ck_assert(sent("198.18.12.98 www.stale.test. A"));
	ck_assert(sent("198.18.12.1 ns.host2.test. A"));
	ck_assert(sent("198.18.12.2 www.stale.test. A"));
	ck_assert_uint_eq(res->stats.fb_child_lookup, 1);
	ck_assert_uint_eq(res->stats.glueless_started, 1);
	ck_assert_uint_eq(sent_to("198.18.12.98"), 1);
}
END_TEST

static unsigned cut_calls;
static char cut_asked[300];

/* A cut source that knows the .test cut (at 198.18.1.1) and nothing else. */
static bool
cut_source_test(void *arg, const uint8_t *name, uint8_t name_len, uint16_t qtype,
		struct px_resolver_start_buf *out)
{
	static uint8_t zone[PX_DNS_NAME_BUF];
	unsigned zlen = px_test_name(zone, "test");

	(void)arg;
	(void)qtype;
	cut_calls++;
	name_str(cut_asked, name);
	if (!px_reply_name_in(name, name_len, zone, zlen))
		return false;
	memset(&out->sc, 0, sizeof(out->sc));
	out->sc.zone = zone;
	out->sc.zone_len = (uint8_t)zlen;
	px_addr_set4(&out->addr[0][0], htonl(0xc6120101), 0); /* 198.18.1.1 */
	out->sc.addrs = out->addr[0];
	out->sc.addr_count = 1;
	return true;
}

static uint8_t sc_zone[PX_DNS_NAME_BUF];
static struct px_addr sc_addr[1];
static struct px_resolver_start_cut sc;

/* A cached cut for zone with one bare address. */
static const struct px_resolver_start_cut *
cached_cut(const char *zone, uint32_t addr_host)
{
	memset(&sc, 0, sizeof(sc));
	sc.zone = sc_zone;
	sc.zone_len = (uint8_t)px_test_name(sc_zone, zone);
	px_addr_set4(&sc_addr[0], htonl(addr_host), 0);
	sc.addrs = sc_addr;
	sc.addr_count = 1;
	return &sc;
}

/* Every server of a cached cut fails: the parent zone's servers (the cut source's cut above)
 * are asked and their referral names the zone's new servers. */
START_TEST(test_fallback_cached_cut_to_parent)
{
	px_resolver_set_cut_source(res, cut_source_test, NULL);
	resolve_from("www.moved.test", PX_DNS_TYPE_A, cached_cut("moved.test", 0xc6120d63));
	assert_a("192.0.2.13");
	ck_assert(sent("198.18.13.99 www.moved.test. A"));
	ck_assert(sent("198.18.1.1 moved.test. A"));
	ck_assert(sent("198.18.13.1 www.moved.test. A"));
	ck_assert_str_eq(cut_asked, "test.");
	ck_assert_uint_eq(res->stats.fb_parent_cut, 1);
	/* The fresh cut replaces the stale one in the cache. */
	ck_assert_str_eq(cached, "moved.test. 198.18.13.1;");
}
END_TEST

/* Without a cut source, the parent of a failed cached cut is the root hints. */
START_TEST(test_fallback_cached_cut_to_hints)
{
	resolve_from("www.moved.test", PX_DNS_TYPE_A, cached_cut("moved.test", 0xc6120d63));
	assert_a("192.0.2.13");
	ck_assert(sent("198.18.0.1 test. A"));
	ck_assert_uint_eq(res->stats.fb_parent_cut, 1);
}
END_TEST

/* The parent names the same silent server: it is not asked again (it failed for this
 * resolution), and the fresh cut, not the cache's, fails: SERVFAIL without going further up. */
START_TEST(test_fallback_cached_cut_same_servers)
{
	px_resolver_set_cut_source(res, cut_source_test, NULL);
	resolve_from("www.gone.test", PX_DNS_TYPE_A, cached_cut("gone.test", 0xc6120d63));
	ck_assert_int_eq(act.kind, PX_RES_ACT_SERVFAIL);
	ck_assert_int_eq(act.reason, PX_RES_FAIL_NO_NS);
	ck_assert_uint_eq(sent_to("198.18.13.99"), 1);
	ck_assert_uint_eq(sent_to("198.18.1.1"), 1);
	ck_assert_uint_eq(res->stats.fb_parent_cut, 1);
	ck_assert_uint_eq(px_resolver_active(res), 0);
}
END_TEST

/* Going up counts as a referral: with none left, the failed cached cut is a SERVFAIL. */
START_TEST(test_fallback_cached_cut_bounded_by_referrals)
{
	px_resolver_config_default(&cfg);
	cfg.max_referrals = 0;
	setup_with(&cfg);
	px_resolver_set_cut_source(res, cut_source_test, NULL);
	resolve_from("www.moved.test", PX_DNS_TYPE_A, cached_cut("moved.test", 0xc6120d63));
	ck_assert_int_eq(act.kind, PX_RES_ACT_SERVFAIL);
	ck_assert_int_eq(act.reason, PX_RES_FAIL_REFERRALS);
	ck_assert_uint_eq(send_count, 1);
	ck_assert_uint_eq(res->stats.fb_parent_cut, 0);
}
END_TEST

/* A server that was lame for a cached cut is not failed for the cut above it: the child
 * moved off its parent's server, which now refers it to the new one (the usual way). */
START_TEST(test_fallback_cached_cut_lame_parent_server)
{
	px_resolver_set_cut_source(res, cut_source_test, NULL);
	resolve_from("www.kid.host5.test", PX_DNS_TYPE_A,
		     cached_cut("kid.host5.test", 0xc6121401));
	assert_a("192.0.2.21");
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_LAME], 1);
	ck_assert_uint_eq(res->stats.fb_parent_cut, 1);
	ck_assert(sent("198.18.20.1 kid.host5.test. A"));
	ck_assert(sent("198.18.20.2 www.kid.host5.test. A"));
}
END_TEST

/* A server that timed out in a cached cut is failed again only in a fresh cut for the same
 * zone, not in the parent's, which it may well serve. */
START_TEST(test_fallback_cached_cut_timeout_other_zone)
{
	px_resolver_set_cut_source(res, cut_source_test, NULL);
	resolve_from("www.kid.host6.test", PX_DNS_TYPE_A,
		     cached_cut("kid.host6.test", 0xc6121501));
	assert_a("192.0.2.22");
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_TIMEOUT], 1);
	ck_assert(sent("198.18.21.1 kid.host6.test. A"));
	ck_assert_uint_eq(sent_to("198.18.21.1"), 2);
}
END_TEST

/* The marks of a cached cut given up are the old name's: after a CNAME restart a server that
 * timed out for cna.test is asked for cnb.test (a zone of the same name length). */
START_TEST(test_fallback_cached_cut_marks_not_after_cname)
{
	px_resolver_set_cut_source(res, cut_source_test, NULL);
	resolve_from("www.cna.test", PX_DNS_TYPE_A, cached_cut("cna.test", 0xc6121701));
	ck_assert_int_eq(act.kind, PX_RES_ACT_ANSWER);
	ck_assert_uint_eq(act.an_count, 2);
	ck_assert(sent("198.18.23.1 www.cna.test. A"));
	ck_assert(sent("198.18.23.1 www.cnb.test. A"));
	ck_assert_uint_eq(res->stats.fb_parent_cut, 1);
}
END_TEST

static uint8_t ns_names[3][PX_DNS_NAME_BUF];
static struct px_addr ns_addrs[3];
static struct px_resolver_start_ns sc_ns[3];

/* A cached cut for multi.test naming n1..n3.host7.test at silent addresses: going up comes
 * before the lookups of those names, which would use up max_glueless (two each, A and AAAA)
 * before the parent is ever asked. */
START_TEST(test_fallback_cached_cut_up_before_lookups)
{
	static const char *const names[3] = {"n1.host7.test", "n2.host7.test", "n3.host7.test"};

	memset(&sc, 0, sizeof(sc));
	sc.zone = sc_zone;
	sc.zone_len = (uint8_t)px_test_name(sc_zone, "multi.test");
	for (unsigned i = 0; i < 3; i++) {
		sc_ns[i].name = ns_names[i];
		sc_ns[i].name_len = (uint8_t)px_test_name(ns_names[i], names[i]);
		px_addr_set4(&ns_addrs[i], htonl(0xc612165b + i), 0); /* 198.18.22.91.. */
		sc_ns[i].addrs = &ns_addrs[i];
		sc_ns[i].addr_count = 1;
	}
	sc.ns = sc_ns;
	sc.ns_count = 3;
	px_resolver_set_cut_source(res, cut_source_test, NULL);
	resolve_from("www.multi.test", PX_DNS_TYPE_A, &sc);
	assert_a("192.0.2.23");
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_TIMEOUT], 3);
	ck_assert_uint_eq(res->stats.fb_parent_cut, 1);
	ck_assert_uint_eq(res->stats.fb_child_lookup, 0);
	ck_assert_uint_eq(res->stats.glueless_started, 0);
}
END_TEST

/* Every address of a cached cut unreachable: this host's network, not a stale cut. Nothing
 * else is asked, and the failure says so (an EDE Network Error for the client). */
START_TEST(test_fallback_cached_cut_unreachable_stays)
{
	px_resolver_set_cut_source(res, cut_source_test, NULL);
	unreachable = "198.18.13.99";
	resolve_from("www.moved.test", PX_DNS_TYPE_A, cached_cut("moved.test", 0xc6120d63));
	ck_assert_int_eq(act.kind, PX_RES_ACT_SERVFAIL);
	ck_assert_int_eq(act.reason, PX_RES_FAIL_NETWORK);
	ck_assert_uint_eq(send_count, 1);
	ck_assert_uint_eq(res->stats.fb_parent_cut, 0);
	ck_assert_uint_eq(px_resolver_active(res), 0);
}
END_TEST

/* The fallback lookups are counted when they start, not when a limit stops them. */
START_TEST(test_fallback_lookups_counted_when_started)
{
	px_resolver_config_default(&cfg);
	cfg.max_glueless = 0;
	setup_with(&cfg);
	resolve_from("www.stale.test", PX_DNS_TYPE_A, NULL);
	ck_assert_int_eq(act.kind, PX_RES_ACT_SERVFAIL);
	ck_assert_uint_eq(res->stats.fb_child_lookup, 0);
	px_resolver_config_default(&cfg);
	cfg.max_glueless = 0;
	setup_with(&cfg);
	resolve_from("www.rej.test", PX_DNS_TYPE_A, NULL);
	ck_assert_int_eq(act.kind, PX_RES_ACT_SERVFAIL);
	ck_assert_uint_eq(res->stats.fb_rejected_lookup, 0);
}
END_TEST

/* A cut from a referral in this very resolution is fresh: when it fails, nothing is asked
 * again. */
START_TEST(test_fallback_fresh_cut_not_retried)
{
	resolve_from("www.gone.test", PX_DNS_TYPE_A, NULL);
	ck_assert_int_eq(act.kind, PX_RES_ACT_SERVFAIL);
	ck_assert_int_eq(act.reason, PX_RES_FAIL_NO_NS);
	ck_assert_uint_eq(res->stats.fb_parent_cut, 0);
	ck_assert_uint_eq(send_count, 3);
}
END_TEST

/* Glue out of the bailiwick is never used, but the name is looked up like a glueless one. */
START_TEST(test_fallback_out_of_bailiwick_glue_resolved)
{
	resolve_from("www.oob.test", PX_DNS_TYPE_A, NULL);
	assert_a("192.0.2.14");
	ck_assert_uint_eq(sent_to("198.18.14.66"), 0);
	ck_assert(sent("198.18.7.1 ns.example.other. A"));
	ck_assert(sent("198.18.14.1 www.oob.test. A"));
	ck_assert_uint_eq(res->stats.glueless_started, 1);
	ck_assert_uint_eq(res->stats.fb_rejected_lookup, 0);
}
END_TEST

/* Glue the policy rejected: the address is never queried; with nothing else left, the name is
 * looked up elsewhere and what that gives passes the policy. */
START_TEST(test_fallback_rejected_glue_looked_up_last)
{
	resolve_from("www.rej.test", PX_DNS_TYPE_A, NULL);
	assert_a("192.0.2.15");
	ck_assert_uint_eq(res->stats.glue_rejected[PX_ADDR_LOOPBACK], 1);
	ck_assert_uint_eq(res->stats.fb_rejected_lookup, 1);
	ck_assert(sent("198.18.15.1 ns.host3.test. A"));
	ck_assert(sent("198.18.15.2 www.rej.test. A"));
}
END_TEST

/* The lookup gives the rejected address again: rejected again, never queried, SERVFAIL, and
 * the reason is still the policy's (no address ever passed it). */
START_TEST(test_fallback_rejected_glue_lookup_checked)
{
	resolve_from("www.rej2.test", PX_DNS_TYPE_A, NULL);
	ck_assert_int_eq(act.kind, PX_RES_ACT_SERVFAIL);
	ck_assert_int_eq(act.reason, PX_RES_FAIL_POLICY);
	ck_assert_uint_eq(res->stats.glue_rejected[PX_ADDR_LOOPBACK], 1);
	ck_assert_uint_eq(res->stats.ns_addr_rejected[PX_ADDR_LOOPBACK], 1);
	ck_assert_uint_eq(res->stats.fb_rejected_lookup, 1);
	ck_assert_uint_eq(px_resolver_active(res), 0);
}
END_TEST

/* With another way left (a glueless name), the rejected name waits: it is not looked up. */
START_TEST(test_fallback_rejected_glue_after_glueless)
{
	resolve_from("www.rej3.test", PX_DNS_TYPE_A, NULL);
	assert_a("192.0.2.17");
	ck_assert(sent("198.18.7.1 ns.example.other. A"));
	ck_assert_uint_eq(res->stats.fb_rejected_lookup, 0);
	ck_assert_uint_eq(sent_to("198.18.15.1"), 0);
}
END_TEST

/* An authoritative server answering an AAAA question with an A record: the record is ignored
 * and the reply is a NODATA answer from that server (not a lame server, so no other server is
 * asked). */
START_TEST(test_fallback_wrong_type_is_nodata)
{
	resolve_from("www.wrongtype.test", PX_DNS_TYPE_AAAA, NULL);
	ck_assert_int_eq(act.kind, PX_RES_ACT_ANSWER);
	ck_assert_int_eq(act.rcode, PX_DNS_RCODE_NOERROR);
	ck_assert(act.nodata);
	ck_assert_uint_eq(act.an_count, 0);
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_LAME], 0);
	ck_assert_uint_eq(res->stats.answer_type_mismatch, 1);
	ck_assert_uint_eq(res->stats.nodata, 1);
}
END_TEST

/* The same without AA is a lame server: the next one is asked, and its answer is the one. */
START_TEST(test_fallback_wrong_type_not_aa_is_lame)
{
	resolve_from("www.wrongtype2.test", PX_DNS_TYPE_AAAA, NULL);
	ck_assert_int_eq(act.kind, PX_RES_ACT_ANSWER);
	ck_assert(act.nodata);
	ck_assert(sent("198.18.17.3 www.wrongtype2.test. AAAA"));
	ck_assert(sent("198.18.17.4 www.wrongtype2.test. AAAA"));
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_LAME], 1);
	ck_assert_uint_eq(res->stats.answer_type_mismatch, 1);
}
END_TEST

static Suite *
fallback_suite(void)
{
	Suite *s = suite_create("resolver_fallback");
	TCase *tc;

#define TC(name, body)                                                                             \
	tc = tcase_create(name);                                                                   \
	tcase_add_checked_fixture(tc, setup, NULL);                                                \
	body;                                                                                      \
	suite_add_tcase(s, tc)
	TC("parent_side", tcase_add_test(tc, test_fallback_parent_glue_after_child_address);
	   tcase_add_test(tc, test_fallback_parent_glue_after_nxdomain);
	   tcase_add_test(tc, test_fallback_cut_cache_keeps_child_side);
	   tcase_add_test(tc, test_fallback_parent_glue_after_refused);
	   tcase_add_test(tc, test_fallback_bounded_by_glueless_limit);
	   tcase_add_test(tc, test_fallback_child_lookup_after_glue_fails);
	   tcase_add_test(tc, test_fallback_lookups_counted_when_started));
	TC("cached_cut", tcase_add_test(tc, test_fallback_cached_cut_to_parent);
	   tcase_add_test(tc, test_fallback_cached_cut_to_hints);
	   tcase_add_test(tc, test_fallback_cached_cut_same_servers);
	   tcase_add_test(tc, test_fallback_cached_cut_bounded_by_referrals);
	   tcase_add_test(tc, test_fallback_fresh_cut_not_retried);
	   tcase_add_test(tc, test_fallback_cached_cut_lame_parent_server);
	   tcase_add_test(tc, test_fallback_cached_cut_timeout_other_zone);
	   tcase_add_test(tc, test_fallback_cached_cut_up_before_lookups);
	   tcase_add_test(tc, test_fallback_cached_cut_unreachable_stays);
	   tcase_add_test(tc, test_fallback_cached_cut_marks_not_after_cname));
	TC("glue", tcase_add_test(tc, test_fallback_out_of_bailiwick_glue_resolved);
	   tcase_add_test(tc, test_fallback_rejected_glue_looked_up_last);
	   tcase_add_test(tc, test_fallback_rejected_glue_lookup_checked);
	   tcase_add_test(tc, test_fallback_rejected_glue_after_glueless));
	TC("wrong_type", tcase_add_test(tc, test_fallback_wrong_type_is_nodata);
	   tcase_add_test(tc, test_fallback_wrong_type_not_aa_is_lame));
#undef TC
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fallback_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
