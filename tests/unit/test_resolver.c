/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iterative resolution state machine, driven against a scripted "fake internet": a table of
 * rules (server, name, type) -> reply, built with testlib's message builder, classified with the
 * real px_reply_classify() and fed back. Pure: no EAL, no network.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/addr_policy.h>
#include <pollux/wire.h>

#include <pollux/reply.h>
#include <pollux/resolver.h>
#include "testlib.h"

#define AN 0
#define AU 1
#define AD 2
#define CAP 4

enum rule_kind {
	R_REFER, R_A, R_CNAME, R_NX, R_NODATA, R_LAME, R_REFUSED, R_POISON, R_CHAIN, R_FLOOD, R_RAW
};

struct rule {
	const char *server;
	const char *name;  /* the qname, or with suffix set any name at or below it */
	bool suffix;
	uint16_t qtype;    /* 0: any */
	enum rule_kind kind;
	const char *zone;  /* R_REFER: the delegation; R_NX, R_NODATA: the SOA owner */
	const char *ns[6];
	const char *glue[6];
	const char *addr;  /* R_A; R_CNAME: the target's address in the same reply, if any */
	const char *target;
	uint32_t soa_ttl, soa_min;
	const char *raw;   /* R_RAW: one answer of the qtype with this rdata, as written */
	uint16_t raw_len;
};

/* Records whose rdata names are compressed against the question (at offset 12). */
#define RAW(s) .raw = s, .raw_len = sizeof(s) - 1

static const struct rule internet[] = {
	/* The root servers. */
	{"198.18.0.1", "test", true, 0, R_REFER, "test", {"ns1.nic.test"}, {"198.18.1.1"}},
	{"198.18.0.2", "test", true, 0, R_REFER, "test", {"ns1.nic.test"}, {"198.18.1.1"}},
	{"198.18.0.1", "other", true, 0, R_REFER, "other", {"ns.nic.other"}, {"198.18.5.1"}},
	{"198.18.0.2", "other", true, 0, R_REFER, "other", {"ns.nic.other"}, {"198.18.5.1"}},
	/* test. */
	{"198.18.1.1", "nx2.test", true, 0, R_NX, "test", .soa_ttl = 900, .soa_min = 60},
	{"198.18.1.1", "example.test", true, 0, R_REFER, "example.test",
	 {"ns1.example.test", "ns2.example.test"}, {"198.18.2.1", "198.18.2.2"}},
	{"198.18.1.1", "zero.test", true, 0, R_REFER, "zero.test", {"ns1.zero.test", "ns2.zero.test"},
	 {"0.0.0.0", "198.18.3.2"}},
	{"198.18.1.1", "bad.test", true, 0, R_REFER, "bad.test",
	 {"ns1.bad.test", "ns2.bad.test", "ns3.bad.test", "ns4.bad.test", "ns5.bad.test",
	  "ns6.bad.test"},
	 {"0.0.0.0", "255.255.255.255", "224.0.0.1", "127.0.0.1", "::", "240.0.0.1"}},
	{"198.18.1.1", "halfbad.test", true, 0, R_REFER, "halfbad.test",
	 {"ns1.halfbad.test", "ns2.halfbad.test"}, {"127.0.0.1", "198.18.6.1"}},
	{"198.18.1.1", "badns.test", true, 0, R_REFER, "badns.test", {"lo.example.other"}},
	{"198.18.1.1", "lame.test", true, 0, R_REFER, "lame.test", {"ns1.lame.test", "ns2.lame.test"},
	 {"198.18.4.1", "198.18.4.2"}},
	{"198.18.1.1", "slow.test", true, 0, R_REFER, "slow.test", {"ns1.slow.test", "ns2.slow.test"},
	 {"198.18.6.1", "198.18.6.2"}},
	{"198.18.1.1", "glueless.test", true, 0, R_REFER, "glueless.test", {"ns.example.other"}},
	{"198.18.1.1", "flood.test", true, 0, R_REFER, "flood.test", {"ns1.flood.test", "ns2.flood.test"},
	 {"198.18.9.1", "198.18.9.2"}},
	/* example.test, on two servers. */
	{"198.18.2.1", "www.example.test", false, PX_DNS_TYPE_A, R_A, .addr = "192.0.2.1"},
	{"198.18.2.1", "www.example.test", false, PX_DNS_TYPE_AAAA, R_NODATA, "example.test",
	 .soa_ttl = 300, .soa_min = 900},
	{"198.18.2.1", "alias.example.test", false, 0, R_CNAME, .target = "www.example.test",
	 .addr = "192.0.2.1"},
	{"198.18.2.1", "cross.example.test", false, 0, R_CNAME, .target = "www.example.other"},
	{"198.18.2.1", "loop.example.test", false, 0, R_CNAME, .target = "loop.example.other"},
	{"198.18.2.1", "nx.example.test", false, 0, R_NX, "example.test", .soa_ttl = 7200,
	 .soa_min = 600},
	{"198.18.2.1", "big.example.test", false, 0, R_NX, "example.test", .soa_ttl = 90000,
	 .soa_min = 80000},
	{"198.18.2.1", "dangle.example.test", false, 0, R_CNAME, .target = "nx.example.other"},
	{"198.18.2.1", "_sip._udp.example.test", false, 33, R_RAW,
	 RAW("\x00\x0a\x00\x05\x13\xc4\x03SIP\xc0\x16")},
	{"198.18.2.1", "naptr.example.test", false, 35, R_RAW,
	 RAW("\x00\x64\x00\x0a\x01U\x07" "E2U+sip" "\x00\x04_sip\x04_udp\xc0\x12")},
	{"198.18.2.1", "mx.example.test", false, PX_DNS_TYPE_MX, R_RAW,
	 RAW("\x00\x0a\x04Mail\xc0\x0f")},
	{"198.18.2.1", "example.test", true, 0, R_CHAIN},
	/* other. and example.other. */
	{"198.18.5.1", "example.other", true, 0, R_REFER, "example.other", {"ns.example.other"},
	 {"198.18.7.1"}},
	{"198.18.7.1", "www.example.other", false, PX_DNS_TYPE_A, R_A, .addr = "192.0.2.7"},
	{"198.18.7.1", "ns.example.other", false, PX_DNS_TYPE_A, R_A, .addr = "198.18.8.1"},
	{"198.18.7.1", "lo.example.other", false, PX_DNS_TYPE_A, R_A, .addr = "127.0.0.1"},
	{"198.18.7.1", "lo.example.other", false, PX_DNS_TYPE_AAAA, R_NODATA, "example.other",
	 .soa_ttl = 300, .soa_min = 300},
	{"198.18.7.1", "loop.example.other", false, 0, R_CNAME, .target = "loop.example.test"},
	{"198.18.7.1", "nx.example.other", false, 0, R_NX, "example.other", .soa_ttl = 100,
	 .soa_min = 200},
	{"198.18.7.1", "evil.example.other", false, 0, R_POISON, .addr = "192.0.2.66"},
	/* The delegations' own servers. */
	{"198.18.8.1", "www.glueless.test", false, PX_DNS_TYPE_A, R_A, .addr = "192.0.2.8"},
	{"198.18.3.2", "www.zero.test", false, PX_DNS_TYPE_A, R_A, .addr = "192.0.2.3"},
	{"198.18.4.1", "lame.test", true, 0, R_LAME},
	{"198.18.4.2", "www.lame.test", false, PX_DNS_TYPE_A, R_A, .addr = "192.0.2.4"},
	{"198.18.6.2", "www.slow.test", false, PX_DNS_TYPE_A, R_A, .addr = "192.0.2.6"},
	/* 198.18.6.1 never answers: no rule. */
	{"198.18.9.1", "www.flood.test", false, PX_DNS_TYPE_A, R_FLOOD, .addr = "6.6.6.6"},
	{"198.18.9.2", "www.flood.test", false, PX_DNS_TYPE_A, R_A, .addr = "192.0.2.9"},
};

static struct px_addr_policy policy;
static struct px_resolver_config cfg;
static struct px_resolver *res;
static uint8_t mem[CAP * sizeof(struct px_resolution) + 65536] __attribute__((aligned(8)));
static uint8_t hints_mem[4096 * 4] __attribute__((aligned(8)));
static struct px_hints *hints;
static struct px_reply rep;
static struct px_test_msg m;
static struct px_resolver_action act;
static uint64_t now;
static uint32_t timeout_ms;

/* What happened: one line per SEND ("198.18.0.1 test. A"), the cuts offered for caching. */
static char sends[64][400];
static unsigned send_count;
static char cached[256 * 16];

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
	size_t nl = strlen(ru->name), ql = strlen(q) - 1; /* q ends with '.' */

	if (ql == nl && strncmp(q, ru->name, nl) == 0)
		return true;
	return ru->suffix && ql > nl && q[ql - nl - 1] == '.' && strncmp(q + ql - nl, ru->name, nl) == 0;
}

static void
soa(struct px_test_msg *mm, const struct rule *ru)
{
	px_test_msg_soa(mm, AU, ru->zone, ru->soa_ttl, ru->soa_min);
}

/* Builds the reply for rule ru to (q, qtype) in m. */
static void
build(const struct rule *ru, const char *q, uint16_t qtype)
{
	uint16_t aa = PX_DNS_QR | PX_DNS_AA;
	char next[300];
	int k;

	switch (ru->kind) {
	case R_REFER:
		px_test_msg_start(&m, 1, PX_DNS_QR, q, qtype);
		for (int i = 0; i < 6 && ru->ns[i]; i++)
			px_test_msg_target(&m, AU, ru->zone, PX_DNS_TYPE_NS, 172800, ru->ns[i]);
		for (int i = 0; i < 6 && ru->glue[i]; i++)
			px_test_msg_addr(&m, AD, ru->ns[i], ru->glue[i]);
		break;
	case R_A:
		px_test_msg_start(&m, 1, aa, q, qtype);
		px_test_msg_addr(&m, AN, NULL, ru->addr);
		break;
	case R_CNAME:
		px_test_msg_start(&m, 1, aa, q, qtype);
		px_test_msg_target(&m, AN, NULL, PX_DNS_TYPE_CNAME, 600, ru->target);
		if (ru->addr)
			px_test_msg_addr(&m, AN, ru->target, ru->addr);
		break;
	case R_NX:
		px_test_msg_start(&m, 1, aa | PX_DNS_RCODE_NXDOMAIN, q, qtype);
		soa(&m, ru);
		break;
	case R_NODATA:
		px_test_msg_start(&m, 1, aa, q, qtype);
		soa(&m, ru);
		break;
	case R_LAME: /* upward referral: a lame server handing out the root */
		px_test_msg_start(&m, 1, PX_DNS_QR, q, qtype);
		px_test_msg_target(&m, AU, ".", PX_DNS_TYPE_NS, 100, "a.root");
		break;
	case R_REFUSED:
		px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_RCODE_REFUSED, q, qtype);
		break;
	case R_POISON: /* the real answer, then records for a zone this server does not serve */
		px_test_msg_start(&m, 1, aa, q, qtype);
		px_test_msg_addr(&m, AN, NULL, ru->addr);
		px_test_msg_addr(&m, AN, "www.example.test", "6.6.6.6");
		px_test_msg_target(&m, AU, "test", PX_DNS_TYPE_NS, 100, "ns.evil.other");
		px_test_msg_target(&m, AU, "example.other", PX_DNS_TYPE_NS, 100, "ns.evil.test");
		px_test_msg_addr(&m, AD, "ns.evil.test", "6.6.6.6");
		px_test_msg_addr(&m, AD, "ns1.example.test", "6.6.6.6");
		break;
	case R_FLOOD: /* an answer, then more records than the classifier indexes */
		px_test_msg_start(&m, 1, aa, q, qtype);
		px_test_msg_addr(&m, AN, NULL, ru->addr);
		for (k = 0; k < PX_REPLY_MAX_RRS; k++)
			px_test_msg_rr(&m, AN, NULL, 10, 300, "", 0);
		break;
	case R_RAW:
		px_test_msg_start(&m, 1, aa, q, qtype);
		px_test_msg_rr(&m, AN, NULL, qtype, 300, ru->raw, ru->raw_len);
		break;
	case R_CHAIN: /* cK.example.test CNAME c(K+1).example.test up to c20, which has an A */
		ck_assert_int_eq(sscanf(q, "c%d.", &k), 1);
		px_test_msg_start(&m, 1, aa, q, qtype);
		if (k >= 20) {
			px_test_msg_addr(&m, AN, NULL, "192.0.2.20");
		} else {
			snprintf(next, sizeof(next), "c%d.example.test", k + 1);
			px_test_msg_target(&m, AN, NULL, PX_DNS_TYPE_CNAME, 600, next);
		}
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

	if (act.cache_cut == NULL)
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

/* Servers the worker could not even send to (no neighbour), by address; NULL ends. */
static const char *unreachable[4];

static bool
is_unreachable(const char *server)
{
	for (unsigned i = 0; i < 4 && unreachable[i] != NULL; i++)
		if (strcmp(unreachable[i], server) == 0)
			return true;
	return false;
}

/* Answers SEND actions from the fake internet until the resolution ends (or max_steps). */
static void
drive(unsigned max_steps)
{
	note_cache();
	while (act.kind == PX_RES_ACT_SEND && max_steps-- > 0) {
		char server[64], q[300];
		struct px_reply_query rq = {0};
		const struct rule *ru;
		struct px_addr to = act.server;
		uint64_t h = act.res;

		addr_str(server, &act.server);
		name_str(q, act.qname);
		ck_assert_uint_lt(send_count, 64);
		snprintf(sends[send_count++], sizeof(sends[0]), "%s %s %s", server, q,
			 act.qtype == PX_DNS_TYPE_A ? "A" : act.qtype == PX_DNS_TYPE_AAAA ? "AAAA" : "?");
		/* Never a query to an address the policy rejects. */
		if (to.family == 4) {
			uint32_t v4;

			memcpy(&v4, to.a, 4);
			ck_assert_int_eq(px_addr_check4(&policy, v4), PX_ADDR_OK);
		} else {
			ck_assert_int_eq(px_addr_check6(&policy, to.a), PX_ADDR_OK);
		}
		if (is_unreachable(server)) {
			now += timeout_ms;
			px_resolver_on_unreachable(res, h, &to, now, &act);
			note_cache();
			continue;
		}
		ru = lookup(server, q, act.qtype);
		if (ru == NULL) {
			now += timeout_ms;
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
	static const char *const roots[2][2] = {{"a.root", "198.18.0.1"}, {"b.root", "198.18.0.2"}};

	px_addr_policy_init(&policy);
	ck_assert_uint_le(px_resolver_memsize(CAP), sizeof(mem));
	res = px_resolver_init(mem, CAP, c, &policy, NULL, NULL);
	ck_assert_ptr_nonnull(res);
	hints = (struct px_hints *)hints_mem;
	ck_assert_uint_le(px_hints_size(2), sizeof(hints_mem));
	memset(hints, 0, px_hints_size(2));
	hints->ns_count = 2;
	for (int i = 0; i < 2; i++) {
		hints->ns[i].name_len = (uint8_t)px_test_name(hints->ns[i].name, roots[i][0]);
		hints->ns[i].v4_count = 1;
		inet_pton(AF_INET, roots[i][1], &hints->ns[i].addr[0].a);
		hints->ns[i].addr[0].family = PX_AF_INET;
	}
	/* Restarts load the table from here, as a worker's resolver does from ctx->hints. */
	px_resolver_set_hints_source(res, &hints);
	memset(&act, 0, sizeof(act));
	now = 1000000;
	timeout_ms = 400;
	send_count = 0;
	cached[0] = 0;
	memset(unreachable, 0, sizeof(unreachable));
}

static void
setup(void)
{
	px_resolver_config_default(&cfg);
	setup_with(&cfg);
}

/* Starts resolving name/qtype from the hints and drives it to the end. */
static int
resolve(const char *name, uint16_t qtype, uint64_t cookie)
{
	uint8_t w[PX_DNS_NAME_BUF];
	struct px_resolver_question q = {w, 0, qtype, PX_DNS_CLASS_IN};
	int rc;

	q.qname_len = (uint8_t)px_test_name(w, name);
	rc = px_resolver_start(res, &q, hints, NULL, now, cookie, &act);
	if (rc == 0)
		drive(100);
	return rc;
}

static void
assert_sends(const char *const *want, unsigned n)
{
	for (unsigned i = 0; i < n && i < send_count; i++)
		ck_assert_str_eq(sends[i], want[i]);
	ck_assert_uint_eq(send_count, n);
}

/* The rendered records as text: "name TYPE data" joined by "; ". */
static void
records(char *out, uint16_t count_from, uint16_t count)
{
	const uint8_t *p = act.rr;
	char n[300], d[300];

	out[0] = 0;
	for (unsigned i = 0; i < (unsigned)count_from + count; i++) {
		unsigned k = 0;
		uint16_t type, rdlen;

		while (p[k] != 0)
			k += 1u + p[k];
		name_str(n, p);
		k++;
		type = px_get16(p + k);
		rdlen = px_get16(p + k + 8);
		if (type == PX_DNS_TYPE_A)
			inet_ntop(AF_INET, p + k + 10, d, sizeof(d));
		else if (type == PX_DNS_TYPE_CNAME)
			name_str(d, p + k + 10);
		else
			snprintf(d, sizeof(d), "type%u ttl%u", type, px_get32(p + k + 4));
		if (i >= count_from) {
			strcat(out, n);
			strcat(out, " ");
			strcat(out, d);
			strcat(out, "; ");
		}
		p += k + 10 + rdlen;
	}
}

static void
assert_answer(uint8_t rcode, const char *an, const char *au)
{
	char buf[2048];

	ck_assert_int_eq(act.kind, PX_RES_ACT_ANSWER);
	ck_assert_int_eq(act.rcode, rcode);
	records(buf, 0, act.an_count);
	ck_assert_str_eq(buf, an);
	records(buf, act.an_count, act.ns_count);
	ck_assert_str_eq(buf, au);
	ck_assert_uint_eq(act.ttl_off_count, act.an_count + act.ns_count);
	ck_assert_uint_eq(px_resolver_active(res), 0);
}

static void
assert_servfail(enum px_resolver_fail why)
{
	ck_assert_int_eq(act.kind, PX_RES_ACT_SERVFAIL);
	ck_assert_str_eq(px_resolver_fail_name(act.reason), px_resolver_fail_name(why));
	ck_assert_uint_eq(res->stats.servfail_reason[why], 1);
	ck_assert_uint_eq(px_resolver_active(res), 0);
}

/* The Extended DNS Error a client gets for the SERVFAIL in act. */
static void
assert_fail_ede(uint16_t code, const char *text)
{
	struct px_dns_ede_info ede;
	char buf[PX_DNS_EDE_TEXT_MAX + 1];
	const struct px_dns_ede_info *e =
		px_resolver_fail_ede(act.reason, act.zone, act.zone_len, &ede, buf);

	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->code, code);
	ck_assert_str_eq(e->text, text);
}

/* Resolves name/qtype (QNAME minimisation off: the servers here answer only the full name) and
 * checks that the one answer's rdata is want (want_len bytes). */
static void
assert_rdata(const char *name, uint16_t qtype, const char *want, uint16_t want_len)
{
	const uint8_t *p;
	unsigned k = 0;

	px_resolver_config_default(&cfg);
	cfg.qname_min = false;
	setup_with(&cfg);
	ck_assert_int_eq(resolve(name, qtype, 1), 0);
	ck_assert_int_eq(act.kind, PX_RES_ACT_ANSWER);
	ck_assert_uint_eq(act.an_count, 1);
	p = act.rr;
	while (p[k] != 0)
		k += 1u + p[k];
	k++;
	ck_assert_uint_eq(px_get16(p + k), qtype);
	ck_assert_uint_eq(px_get16(p + k + 8), want_len);
	ck_assert_mem_eq(p + k + 10, want, want_len);
	ck_assert_uint_eq(act.rr_len, k + 10u + want_len);
}

/* Names compressed in SRV, NAPTR and MX rdata reach the answer whole, letters as sent: a
 * pointer copied as is would point into a message the client never sees. */
START_TEST(test_resolve_rdata_names_expanded)
{
	static const char srv[] = "\x00\x0a\x00\x05\x13\xc4\x03SIP\x07" "example\x04test";
	static const char naptr[] = "\x00\x64\x00\x0a\x01U\x07" "E2U+sip" "\x00\x04_sip\x04_udp"
				    "\x07" "example\x04test";
	static const char mx[] = "\x00\x0a\x04Mail\x07" "example\x04test";

	/* sizeof counts the terminating NUL: the root label. */
	assert_rdata("_sip._udp.example.test", 33, srv, sizeof(srv));
	assert_rdata("naptr.example.test", 35, naptr, sizeof(naptr));
	assert_rdata("mx.example.test", PX_DNS_TYPE_MX, mx, sizeof(mx));
}
END_TEST

START_TEST(test_resolve_plain_qmin)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 example.test. A",
					   "198.18.2.1 www.example.test. A"};

	ck_assert_int_eq(resolve("www.example.test", PX_DNS_TYPE_A, 7), 0);
	assert_sends(want, 3);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.example.test. 192.0.2.1; ", "");
	ck_assert_uint_eq(act.client_count, 1);
	ck_assert_uint_eq(act.clients[0], 7);
	ck_assert_uint_eq(act.ttl, 300);
	ck_assert_str_eq(cached, "test. 198.18.1.1;example.test. 198.18.2.1 198.18.2.2;");
	ck_assert_uint_eq(res->stats.referrals, 2);
	ck_assert_uint_eq(res->stats.qmin_queries, 2);
	ck_assert_uint_eq(res->stats.answered, 1);
}
END_TEST

START_TEST(test_resolve_plain_no_qmin)
{
	static const char *const want[] = {"198.18.0.1 www.example.test. A",
					   "198.18.1.1 www.example.test. A",
					   "198.18.2.1 www.example.test. A"};

	px_resolver_config_default(&cfg);
	cfg.qname_min = false;
	setup_with(&cfg);
	ck_assert_int_eq(resolve("WWW.Example.TEST", PX_DNS_TYPE_A, 7), 0);
	assert_sends(want, 3);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.example.test. 192.0.2.1; ", "");
	ck_assert_uint_eq(res->stats.qmin_queries, 0);
}
END_TEST

START_TEST(test_resolve_qmin_nxdomain_rfc8020)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 nx2.test. A"};

	ck_assert_int_eq(resolve("a.b.nx2.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 2);
	assert_answer(PX_DNS_RCODE_NXDOMAIN, "", "test. type6 ttl60; ");
	ck_assert_uint_eq(act.ttl, 60);
}
END_TEST

START_TEST(test_resolve_glue_zero_skipped)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 zero.test. A",
					   "198.18.3.2 www.zero.test. A"};

	ck_assert_int_eq(resolve("www.zero.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 3);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.zero.test. 192.0.2.3; ", "");
	ck_assert_uint_eq(res->stats.glue_rejected[PX_ADDR_UNSPECIFIED], 1);
	ck_assert_ptr_null(strstr(cached, "0.0.0.0"));
}
END_TEST

START_TEST(test_resolve_all_glue_invalid)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 bad.test. A"};
	uint64_t t0 = now;

	ck_assert_int_eq(resolve("www.bad.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 2);
	/* The policy, not the servers: told apart, and the zone named. */
	assert_servfail(PX_RES_FAIL_POLICY);
	ck_assert_uint_eq(res->stats.servfail_reason[PX_RES_FAIL_NO_NS], 0);
	assert_fail_ede(PX_DNS_EDE_INVALID_DATA, "NS addresses rejected: bad.test.");
	ck_assert_uint_eq(now - t0, 2); /* two replies, no wait */
	ck_assert_uint_eq(res->stats.glue_rejected[PX_ADDR_UNSPECIFIED], 2);
	ck_assert_uint_eq(res->stats.glue_rejected[PX_ADDR_LOOPBACK], 1);
	ck_assert_uint_eq(res->stats.glueless_started, 0);
}
END_TEST

/* A start cut whose every address the policy rejects is not used: the resolution starts from
 * the hints instead (and here ends in the same SERVFAIL through the bad.test referral). */
START_TEST(test_resolve_policy_rejects_start_cut)
{
	uint8_t w[PX_DNS_NAME_BUF], z[PX_DNS_NAME_BUF];
	struct px_resolver_question q = {w, 0, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};
	struct px_addr a[2];
	struct px_resolver_start_cut sc = {z, 0, a, 2, NULL, 0};
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 bad.test. A"};

	q.qname_len = (uint8_t)px_test_name(w, "www.bad.test");
	sc.zone_len = (uint8_t)px_test_name(z, "bad.test");
	px_addr_set4(&a[0], htonl(0x7f000001), 0);
	px_addr_set4(&a[1], htonl(0xe0000001), 0);
	ck_assert_int_eq(px_resolver_start(res, &q, hints, &sc, now, 1, &act), 0);
	ck_assert_uint_eq(res->stats.start_cut_unusable, 1);
	ck_assert_uint_eq(res->stats.ns_addr_rejected[PX_ADDR_LOOPBACK], 1);
	ck_assert_uint_eq(res->stats.ns_addr_rejected[PX_ADDR_MULTICAST], 1);
	drive(10);
	assert_sends(want, 2);
	assert_servfail(PX_RES_FAIL_POLICY);
	assert_fail_ede(PX_DNS_EDE_INVALID_DATA, "NS addresses rejected: bad.test.");
}
END_TEST

/* One server's glue rejected, the other's address timing out: the servers failed, not (only)
 * the policy: No Reachable Authority. */
START_TEST(test_resolve_some_glue_invalid_rest_failed)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 halfbad.test. A",
					   "198.18.6.1 www.halfbad.test. A"};

	ck_assert_int_eq(resolve("www.halfbad.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 3);
	assert_servfail(PX_RES_FAIL_NO_NS);
	ck_assert_uint_eq(res->stats.servfail_reason[PX_RES_FAIL_POLICY], 0);
	ck_assert_uint_eq(res->stats.glue_rejected[PX_ADDR_LOOPBACK], 1);
	assert_fail_ede(PX_DNS_EDE_NO_REACHABLE_AUTHORITY, "no usable nameserver answered");
}
END_TEST

/* A glueless NS name whose lookup finds only an address the policy rejects (and no AAAA):
 * the policy again, naming the delegation's zone, not the zone the name was looked up in. */
START_TEST(test_resolve_glueless_address_rejected)
{
	ck_assert_int_eq(resolve("www.badns.test", PX_DNS_TYPE_A, 1), 0);
	assert_servfail(PX_RES_FAIL_POLICY);
	ck_assert_uint_eq(res->stats.glueless_started, 2); /* A, then AAAA */
	ck_assert_uint_eq(res->stats.ns_addr_rejected[PX_ADDR_LOOPBACK], 1);
	assert_fail_ede(PX_DNS_EDE_INVALID_DATA, "NS addresses rejected: badns.test.");
}
END_TEST

/* No query to any server of the cut could leave: the network, not the servers (Network
 * Error); one that could and timed out makes it the servers' failure again. */
START_TEST(test_resolve_all_unreachable)
{
	unreachable[0] = "198.18.2.1";
	unreachable[1] = "198.18.2.2";
	ck_assert_int_eq(resolve("www.example.test", PX_DNS_TYPE_A, 1), 0);
	assert_servfail(PX_RES_FAIL_NETWORK);
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_UNREACHABLE], 2);
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_TIMEOUT], 0);
	ck_assert_str_eq(px_resolver_srv_name(PX_RES_SRV_UNREACHABLE), "unreachable");
	assert_fail_ede(PX_DNS_EDE_NETWORK_ERROR, "no query could be sent to any nameserver");
}
END_TEST

START_TEST(test_resolve_unreachable_and_timeout)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 example.test. A",
					   "198.18.2.1 www.example.test. A",
					   "198.18.2.2 www.example.test. A"};

	unreachable[0] = "198.18.2.1"; /* 198.18.2.2 has no rule: it times out */
	ck_assert_int_eq(resolve("www.example.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 4);
	assert_servfail(PX_RES_FAIL_NO_NS);
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_UNREACHABLE], 1);
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_TIMEOUT], 1);
}
END_TEST

/* One table gives each reason its counter name and its Extended DNS Error. */
START_TEST(test_resolve_fail_ede_table)
{
	static const struct {
		enum px_resolver_fail why;
		uint16_t code;
		const char *text;
	} want[] = {
		{PX_RES_FAIL_NO_NS, PX_DNS_EDE_NO_REACHABLE_AUTHORITY, "no usable nameserver answered"},
		{PX_RES_FAIL_DEADLINE, PX_DNS_EDE_NO_REACHABLE_AUTHORITY, "resolution timed out"},
		{PX_RES_FAIL_QUERIES, PX_DNS_EDE_OTHER, "work limit: upstream queries"},
		{PX_RES_FAIL_REFERRALS, PX_DNS_EDE_OTHER, "work limit: referrals"},
		{PX_RES_FAIL_GLUELESS, PX_DNS_EDE_OTHER, "work limit: glueless lookups"},
		{PX_RES_FAIL_CNAMES, PX_DNS_EDE_OTHER, "CNAME chain too long"},
		{PX_RES_FAIL_LOOP, PX_DNS_EDE_OTHER, "CNAME loop"},
		{PX_RES_FAIL_TOO_BIG, PX_DNS_EDE_OTHER, "answer too large"},
		{PX_RES_FAIL_POLICY, PX_DNS_EDE_INVALID_DATA, "NS addresses rejected: a\\\\b\\.c.\\000."},
		{PX_RES_FAIL_NETWORK, PX_DNS_EDE_NETWORK_ERROR,
		 "no query could be sent to any nameserver"},
		{PX_RES_FAIL_CANCELLED, PX_DNS_EDE_NO_REACHABLE_AUTHORITY,
		 "nameserver unresponsive; resolution ended to make room"},
	};
	/* A zone from the network with a backslash, a dot and a NUL inside labels. */
	static const uint8_t odd_zone[] = {5, 'a', '\\', 'b', '.', 'c', 1, 0, 0};
	struct px_dns_ede_info ede;
	char text[PX_DNS_EDE_TEXT_MAX + 1];
	uint8_t longz[PX_DNS_NAME_BUF], longz_len;
	const struct px_dns_ede_info *e;

	ck_assert_uint_eq(sizeof(want) / sizeof(want[0]), PX_RES_FAIL_COUNT - 1);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		e = px_resolver_fail_ede(want[i].why, odd_zone, sizeof(odd_zone), &ede, text);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->code, want[i].code);
		ck_assert_str_eq(e->text, want[i].text);
	}
	ck_assert_ptr_null(px_resolver_fail_ede(PX_RES_FAIL_NONE, NULL, 0, &ede, text));
	ck_assert_ptr_null(px_resolver_fail_ede(PX_RES_FAIL_COUNT, NULL, 0, &ede, text));
	ck_assert_str_eq(px_resolver_fail_name(PX_RES_FAIL_POLICY), "policy");
	/* A long zone is cut to PX_DNS_EDE_TEXT_MAX, at a whole character. */
	longz_len = (uint8_t)px_test_name(longz, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.test");
	e = px_resolver_fail_ede(PX_RES_FAIL_POLICY, longz, longz_len, &ede, text);
	ck_assert_uint_eq(strlen(e->text), PX_DNS_EDE_TEXT_MAX);
	ck_assert_mem_eq(e->text, "NS addresses rejected: aaaa", 27);
}
END_TEST

/* A start cut with named servers: one with an address is asked first; the name without one
 * (out of zone) is kept for a glueless lookup. */
START_TEST(test_resolve_start_cut_named)
{
	uint8_t w[PX_DNS_NAME_BUF], z[PX_DNS_NAME_BUF], n1[PX_DNS_NAME_BUF], n2[PX_DNS_NAME_BUF];
	struct px_resolver_question q = {w, 0, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};
	struct px_addr a[1];
	struct px_resolver_start_ns ns[2] = {{n1, 0, 0, NULL}, {n2, 0, 1, a}};
	struct px_resolver_start_cut sc = {z, 0, NULL, 0, ns, 2};
	static const char *const want[] = {"198.18.2.1 www.example.test. A"};
	const struct px_resolution *r;

	q.qname_len = (uint8_t)px_test_name(w, "www.example.test");
	sc.zone_len = (uint8_t)px_test_name(z, "example.test");
	ns[0].name_len = (uint8_t)px_test_name(n1, "ns.example.other");
	ns[1].name_len = (uint8_t)px_test_name(n2, "ns1.example.test");
	px_addr_set4(&a[0], htonl(0xc6120201), 0); /* 198.18.2.1 */
	ck_assert_int_eq(px_resolver_start(res, &q, hints, &sc, now, 1, &act), 0);
	r = px_resolver_get(res, act.res);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->cut.ns_count, 2);
	ck_assert_uint_eq(r->cut.ns[0].state, PX_RES_NS_GLUELESS);
	ck_assert_uint_eq(r->cut.ns[1].state, PX_RES_NS_GLUE);
	drive(10);
	assert_sends(want, 1);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.example.test. 192.0.2.1; ", "");
	ck_assert_uint_eq(res->stats.start_cut_unusable, 0);
}
END_TEST

/* A cut source that knows example.other (at 198.18.7.1) and nothing else. */
static unsigned cut_source_calls;

static bool
cut_source_other(void *arg, const uint8_t *name, uint8_t name_len, uint16_t qtype,
		 struct px_resolver_start_buf *out)
{
	static uint8_t zone[PX_DNS_NAME_BUF];
	uint8_t other[PX_DNS_NAME_BUF];
	unsigned zlen = px_test_name(zone, "example.other");

	(void)arg;
	(void)qtype;
	(void)px_test_name(other, "example.other");
	cut_source_calls++;
	if (!px_reply_name_in(name, name_len, other, zlen))
		return false;
	memset(&out->sc, 0, sizeof(out->sc));
	out->sc.zone = zone;
	out->sc.zone_len = (uint8_t)zlen;
	px_addr_set4(&out->addr[0][0], htonl(0xc6120701), 0); /* 198.18.7.1 */
	out->sc.addrs = out->addr[0];
	out->sc.addr_count = 1;
	return true;
}

/* A CNAME out of the current cut restarts at the cut source's closest cut, not at the root. */
START_TEST(test_resolve_cname_restart_from_cut_source)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 example.test. A",
					   "198.18.2.1 cross.example.test. A",
					   "198.18.7.1 www.example.other. A"};

	px_resolver_set_cut_source(res, cut_source_other, NULL);
	ck_assert_int_eq(resolve("cross.example.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 4);
	assert_answer(PX_DNS_RCODE_NOERROR,
		      "cross.example.test. www.example.other.; www.example.other. 192.0.2.7; ", "");
	ck_assert_uint_eq(res->stats.cut_source_used, 1);
	ck_assert_uint_ge(cut_source_calls, 1);
}
END_TEST

/* A glueless sub-resolution starts at the cut source's closest cut too. */
START_TEST(test_resolve_glueless_from_cut_source)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 glueless.test. A",
					   "198.18.7.1 ns.example.other. A",
					   "198.18.8.1 www.glueless.test. A"};

	px_resolver_set_cut_source(res, cut_source_other, NULL);
	ck_assert_int_eq(resolve("www.glueless.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 4);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.glueless.test. 192.0.2.8; ", "");
	ck_assert_uint_eq(res->stats.cut_source_used, 1);
}
END_TEST

START_TEST(test_resolve_start_cut_from_cache)
{
	uint8_t w[PX_DNS_NAME_BUF], z[PX_DNS_NAME_BUF];
	struct px_resolver_question q = {w, 0, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};
	struct px_addr a[1];
	struct px_resolver_start_cut sc = {z, 0, a, 1, NULL, 0};
	static const char *const want[] = {"198.18.2.1 www.example.test. A"};

	q.qname_len = (uint8_t)px_test_name(w, "www.example.test");
	sc.zone_len = (uint8_t)px_test_name(z, "example.test");
	px_addr_set4(&a[0], htonl(0xc6120201), 0); /* 198.18.2.1 */
	ck_assert_int_eq(px_resolver_start(res, &q, hints, &sc, now, 1, &act), 0);
	drive(10);
	assert_sends(want, 1);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.example.test. 192.0.2.1; ", "");
}
END_TEST

START_TEST(test_resolve_lame_then_good)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 lame.test. A",
					   "198.18.4.1 www.lame.test. A",
					   "198.18.4.2 www.lame.test. A"};

	ck_assert_int_eq(resolve("www.lame.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 4);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.lame.test. 192.0.2.4; ", "");
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_LAME], 1);
}
END_TEST

/* A reply with more records than the classifier indexes fails its server (counted apart from
 * other malformed replies) and nothing in it is used: the next server's answer is the one. */
START_TEST(test_resolve_too_many_rrs_then_second)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 flood.test. A",
					   "198.18.9.1 www.flood.test. A",
					   "198.18.9.2 www.flood.test. A"};

	ck_assert_int_eq(resolve("www.flood.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 4);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.flood.test. 192.0.2.9; ", "");
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_TOO_MANY_RRS], 1);
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_MALFORMED], 0);
	ck_assert_str_eq(px_resolver_srv_name(PX_RES_SRV_TOO_MANY_RRS), "too_many_rrs");
	ck_assert_ptr_null(strstr(cached, "6.6.6.6"));
}
END_TEST

START_TEST(test_resolve_timeout_then_second)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 slow.test. A",
					   "198.18.6.1 www.slow.test. A",
					   "198.18.6.2 www.slow.test. A"};

	ck_assert_int_eq(resolve("www.slow.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 4);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.slow.test. 192.0.2.6; ", "");
	ck_assert_uint_eq(res->stats.server_fail[PX_RES_SRV_TIMEOUT], 1);
}
END_TEST

START_TEST(test_resolve_glueless)
{
	static const char *const want[] = {
		"198.18.0.1 test. A",		   "198.18.1.1 glueless.test. A",
		"198.18.0.1 other. A",		   "198.18.5.1 example.other. A",
		"198.18.7.1 ns.example.other. A", "198.18.8.1 www.glueless.test. A"};

	ck_assert_int_eq(resolve("www.glueless.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 6);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.glueless.test. 192.0.2.8; ", "");
	ck_assert_uint_eq(res->stats.glueless_started, 1);
	/* The name's own zone's address first, then the glue of the referral to that zone (the
	 * parent side), kept as a fallback. */
	ck_assert_ptr_nonnull(strstr(cached, "glueless.test. 198.18.8.1 198.18.7.1;"));
}
END_TEST

START_TEST(test_resolve_cname_in_zone)
{
	ck_assert_int_eq(resolve("alias.example.test", PX_DNS_TYPE_A, 1), 0);
	ck_assert_uint_eq(send_count, 3);
	assert_answer(PX_DNS_RCODE_NOERROR,
		      "alias.example.test. www.example.test.; www.example.test. 192.0.2.1; ", "");
	ck_assert_uint_eq(act.ttl, 300);
}
END_TEST

START_TEST(test_resolve_cname_across_zones)
{
	static const char *const want[] = {"198.18.0.1 test. A", "198.18.1.1 example.test. A",
					   "198.18.2.1 cross.example.test. A",
					   "198.18.0.1 other. A", "198.18.5.1 example.other. A",
					   "198.18.7.1 www.example.other. A"};

	ck_assert_int_eq(resolve("cross.example.test", PX_DNS_TYPE_A, 1), 0);
	assert_sends(want, 6);
	assert_answer(PX_DNS_RCODE_NOERROR,
		      "cross.example.test. www.example.other.; www.example.other. 192.0.2.7; ", "");
	ck_assert_uint_eq(res->stats.cnames_followed, 1);
}
END_TEST

START_TEST(test_resolve_cname_loop)
{
	ck_assert_int_eq(resolve("loop.example.test", PX_DNS_TYPE_A, 1), 0);
	assert_servfail(PX_RES_FAIL_LOOP);
}
END_TEST

START_TEST(test_resolve_cname_nxdomain_target)
{
	ck_assert_int_eq(resolve("dangle.example.test", PX_DNS_TYPE_A, 1), 0);
	assert_answer(PX_DNS_RCODE_NXDOMAIN, "dangle.example.test. nx.example.other.; ",
		      "example.other. type6 ttl100; ");
	ck_assert_uint_eq(act.ttl, 100);
}
END_TEST

START_TEST(test_resolve_cname_limit)
{
	ck_assert_int_eq(resolve("c1.example.test", PX_DNS_TYPE_A, 1), 0);
	assert_servfail(PX_RES_FAIL_CNAMES);
	ck_assert_uint_eq(res->stats.cnames_followed, 8);
}
END_TEST

START_TEST(test_resolve_nxdomain)
{
	ck_assert_int_eq(resolve("nx.example.test", PX_DNS_TYPE_A, 1), 0);
	assert_answer(PX_DNS_RCODE_NXDOMAIN, "", "example.test. type6 ttl600; ");
	ck_assert_uint_eq(act.ttl, 600); /* min(7200, 600) */
	ck_assert_uint_eq(res->stats.nxdomain, 1);
}
END_TEST

START_TEST(test_resolve_nxdomain_capped)
{
	ck_assert_int_eq(resolve("big.example.test", PX_DNS_TYPE_A, 1), 0);
	assert_answer(PX_DNS_RCODE_NXDOMAIN, "", "example.test. type6 ttl3600; ");
	ck_assert_uint_eq(act.ttl, 3600);
}
END_TEST

START_TEST(test_resolve_nodata)
{
	ck_assert_int_eq(resolve("www.example.test", PX_DNS_TYPE_AAAA, 1), 0);
	assert_answer(PX_DNS_RCODE_NOERROR, "", "example.test. type6 ttl300; ");
	ck_assert(act.nodata);
	ck_assert_uint_eq(act.ttl, 300); /* min(300, 900) */
	ck_assert_uint_eq(res->stats.nodata, 1);
}
END_TEST

START_TEST(test_resolve_limit_queries)
{
	px_resolver_config_default(&cfg);
	cfg.max_queries = 2;
	setup_with(&cfg);
	ck_assert_int_eq(resolve("www.example.test", PX_DNS_TYPE_A, 1), 0);
	ck_assert_uint_eq(send_count, 2);
	assert_servfail(PX_RES_FAIL_QUERIES);
}
END_TEST

START_TEST(test_resolve_limit_referrals)
{
	px_resolver_config_default(&cfg);
	cfg.max_referrals = 1;
	setup_with(&cfg);
	ck_assert_int_eq(resolve("www.example.test", PX_DNS_TYPE_A, 1), 0);
	ck_assert_uint_eq(send_count, 2);
	assert_servfail(PX_RES_FAIL_REFERRALS);
}
END_TEST

START_TEST(test_resolve_limit_glueless)
{
	px_resolver_config_default(&cfg);
	cfg.max_glueless = 0;
	setup_with(&cfg);
	ck_assert_int_eq(resolve("www.glueless.test", PX_DNS_TYPE_A, 1), 0);
	ck_assert_uint_eq(send_count, 2);
	assert_servfail(PX_RES_FAIL_GLUELESS);
}
END_TEST

START_TEST(test_resolve_limit_deadline)
{
	timeout_ms = 5000; /* the first server of slow.test takes longer than the deadline */
	ck_assert_int_eq(resolve("www.slow.test", PX_DNS_TYPE_A, 1), 0);
	ck_assert_uint_eq(send_count, 3);
	assert_servfail(PX_RES_FAIL_DEADLINE);
}
END_TEST

START_TEST(test_resolve_pool_exhausted)
{
	uint8_t w[PX_DNS_NAME_BUF];
	struct px_resolver_question q = {w, 0, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};
	char n[32];

	for (int i = 0; i < CAP; i++) {
		snprintf(n, sizeof(n), "h%d.example.test", i);
		q.qname_len = (uint8_t)px_test_name(w, n);
		ck_assert_int_eq(px_resolver_start(res, &q, hints, NULL, now, 1, &act), 0);
		ck_assert_int_eq(act.kind, PX_RES_ACT_SEND);
	}
	ck_assert_int_eq(px_resolver_start(res, &q, hints, NULL, now, 1, &act), -ENOSPC);
	ck_assert_uint_eq(res->stats.start_no_slot, 1);
	ck_assert_int_eq(px_resolver_cancel(res, act.res), 0);
	ck_assert_int_eq(px_resolver_start(res, &q, hints, NULL, now, 1, &act), 0);
}
END_TEST

START_TEST(test_resolve_coalesce)
{
	uint8_t w[PX_DNS_NAME_BUF];
	struct px_resolver_question q = {w, 0, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};
	uint64_t h;

	q.qname_len = (uint8_t)px_test_name(w, "www.example.test");
	ck_assert_int_eq(px_resolver_start(res, &q, hints, NULL, now, 100, &act), 0);
	h = act.res;
	q.qname_len = (uint8_t)px_test_name(w, "WWW.example.TEST");
	ck_assert_uint_eq(px_resolver_find(res, &q), h);
	q.qtype = PX_DNS_TYPE_AAAA;
	ck_assert_uint_eq(px_resolver_find(res, &q), 0);
	for (uint64_t c = 101; c < 100 + PX_RES_MAX_CLIENTS; c++)
		ck_assert_int_eq(px_resolver_attach(res, h, c), 0);
	ck_assert_int_eq(px_resolver_attach(res, h, 999), -ENOSPC);
	drive(10);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.example.test. 192.0.2.1; ", "");
	ck_assert_uint_eq(act.client_count, PX_RES_MAX_CLIENTS);
	for (unsigned i = 0; i < PX_RES_MAX_CLIENTS; i++)
		ck_assert_uint_eq(act.clients[i], 100 + i);
	q.qtype = PX_DNS_TYPE_A;
	ck_assert_uint_eq(px_resolver_find(res, &q), 0);
	ck_assert_int_eq(px_resolver_attach(res, h, 1), -ENOENT);
}
END_TEST

/* An ANSWER or SERVFAIL action names the resolution that ended (pollux/resolver.h: "the top
 * resolution, now ended"): the handle its SEND actions carried, which the caller matches its
 * own resolutions by (dp_miss.c: the priming resolution). */
START_TEST(test_resolve_done_names_its_resolution)
{
	uint8_t w[PX_DNS_NAME_BUF];
	struct px_resolver_question q = {w, 0, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};
	uint64_t h;

	q.qname_len = (uint8_t)px_test_name(w, "www.example.test");
	ck_assert_int_eq(px_resolver_start(res, &q, hints, NULL, now, 1, &act), 0);
	h = act.res;
	ck_assert_uint_ne(h, 0);
	drive(10);
	ck_assert_int_eq(act.kind, PX_RES_ACT_ANSWER);
	ck_assert_uint_eq(act.res, h);

	q.qname_len = (uint8_t)px_test_name(w, "www.bad.test");
	ck_assert_int_eq(px_resolver_start(res, &q, hints, NULL, now, 2, &act), 0);
	h = act.res;
	drive(10);
	ck_assert_int_eq(act.kind, PX_RES_ACT_SERVFAIL);
	ck_assert_uint_eq(act.res, h);
}
END_TEST

START_TEST(test_resolve_stale_events)
{
	struct px_addr other;
	uint64_t h;

	ck_assert_int_eq(resolve("www.example.test", PX_DNS_TYPE_A, 1), 0);
	h = act.res;
	px_addr_set4(&other, htonl(0xc6120201), 0);
	px_resolver_on_timeout(res, h, &other, now, &act);
	ck_assert_int_eq(act.kind, PX_RES_ACT_WAIT);
	ck_assert_uint_eq(res->stats.stale_events, 1);
}
END_TEST

START_TEST(test_resolve_poisoning)
{
	ck_assert_int_eq(resolve("evil.example.other", PX_DNS_TYPE_A, 1), 0);
	assert_answer(PX_DNS_RCODE_NOERROR, "evil.example.other. 192.0.2.66; ", "");
	ck_assert_ptr_null(strstr(cached, "6.6.6.6"));
	ck_assert_ptr_null(memmem(act.rr, act.rr_len, "\x06\x06\x06\x06", 4));
	/* The victim still resolves to its real address. */
	send_count = 0;
	ck_assert_int_eq(resolve("www.example.test", PX_DNS_TYPE_A, 1), 0);
	assert_answer(PX_DNS_RCODE_NOERROR, "www.example.test. 192.0.2.1; ", "");
}
END_TEST

/*
 * The question index is keyed: two resolvers (each drawing its own secret) put nearly every name
 * in different buckets, names that share a bucket in one are spread in the other, and the
 * bucket ignores case as the index's comparisons do.
 */
START_TEST(test_resolve_question_index_keyed)
{
	const uint32_t cap = 1024;
	size_t sz = (px_resolver_memsize(cap) + 7) & ~(size_t)7;
	void *m1 = aligned_alloc(8, sz), *m2 = aligned_alloc(8, sz);
	struct px_resolver *r1, *r2;
	uint8_t w[PX_DNS_NAME_BUF], up[PX_DNS_NAME_BUF];
	struct px_resolver_question q = {w, 0, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};
	struct px_resolver_question qu = {up, 0, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};
	uint32_t target = 0, seen[8];
	unsigned same = 0, n = 0, distinct = 0;
	char name[48];

	ck_assert(m1 != NULL && m2 != NULL);
	r1 = px_resolver_init(m1, cap, NULL, &policy, NULL, NULL);
	r2 = px_resolver_init(m2, cap, NULL, &policy, NULL, NULL);
	ck_assert(r1 != NULL && r2 != NULL);
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "host%u.example.test", i);
		q.qname_len = (uint8_t)px_test_name(w, name);
		snprintf(name, sizeof(name), "HOST%u.Example.TEST", i);
		qu.qname_len = (uint8_t)px_test_name(up, name);
		ck_assert_uint_eq(px_resolver_question_bucket(r1, &q),
				  px_resolver_question_bucket(r1, &qu));
		same += px_resolver_question_bucket(r1, &q) == px_resolver_question_bucket(r2, &q);
	}
	/* One name in 1024 agrees by chance. */
	ck_assert_uint_le(same, 10);
	for (unsigned i = 0; n < 8 && i < 1000000; i++) {
		snprintf(name, sizeof(name), "chain%u.example.test", i);
		q.qname_len = (uint8_t)px_test_name(w, name);
		if (n == 0)
			target = px_resolver_question_bucket(r1, &q);
		else if (px_resolver_question_bucket(r1, &q) != target)
			continue;
		seen[n++] = px_resolver_question_bucket(r2, &q);
	}
	ck_assert_uint_eq(n, 8);
	for (unsigned i = 0; i < n; i++) {
		bool dup = false;

		for (unsigned j = 0; j < i; j++)
			dup |= seen[j] == seen[i];
		distinct += !dup;
	}
	ck_assert_uint_ge(distinct, 6);
	free(m1);
	free(m2);
}
END_TEST

/* The release hook's record: the handles it was told of. */
static uint64_t released[8];
static unsigned released_count;

static void
on_release(void *arg, uint64_t h)
{
	ck_assert_ptr_eq(arg, &released_count);
	ck_assert_uint_lt(released_count, 8);
	released[released_count++] = h;
}

/* A resolution cut short with its query in flight is reported to the release hook (the worker
 * stops waiting on that query for it), the in-flight one of a tree only: here a glueless
 * sub-resolution; one that ends normally is not. */
START_TEST(test_resolve_release_hook)
{
	uint8_t w[PX_DNS_NAME_BUF];
	struct px_resolver_question q = {w, 0, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};
	uint64_t top;

	released_count = 0;
	px_resolver_set_release_hook(res, on_release, &released_count);
	ck_assert_int_eq(resolve("www.example.test", PX_DNS_TYPE_A, 1), 0);
	ck_assert_int_eq(act.kind, PX_RES_ACT_ANSWER);
	ck_assert_uint_eq(released_count, 0);

	q.qname_len = (uint8_t)px_test_name(w, "www.glueless.test");
	ck_assert_int_eq(px_resolver_start(res, &q, hints, NULL, now, 2, &act), 0);
	top = act.res;
	/* Through the root and test. to the glueless referral: the next SEND is the
	 * sub-resolution's, for ns.example.other. */
	drive(2);
	ck_assert_int_eq(act.kind, PX_RES_ACT_SEND);
	ck_assert_uint_ne(act.res, top);
	ck_assert_uint_eq(px_resolver_active(res), 2);
	ck_assert_int_eq(px_resolver_cancel(res, top), 0);
	ck_assert_uint_eq(released_count, 1);
	ck_assert_uint_eq(released[0], act.res);
	ck_assert_uint_eq(px_resolver_active(res), 0);
}
END_TEST

/*
 * With an outstanding-query table, a resolution asks the server its question is outstanding
 * to already, if that server is one of its candidates: both root servers are unmeasured, so
 * without that rule the choice between them would be a coin toss each time.
 */
START_TEST(test_resolve_prefers_outstanding)
{
	static uint8_t upq_mem[1 << 20] __attribute__((aligned(8)));
	static const char *const roots[2] = {"198.18.0.1", "198.18.0.2"};
	uint8_t seed[PX_RAND_KEY_LEN] = {7};
	uint8_t w[PX_DNS_NAME_BUF], tw[PX_DNS_NAME_BUF];
	struct px_resolver_question q = {w, 0, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};
	struct px_upq_table *t;
	struct px_rand rng;
	char server[64];

	ck_assert_uint_le(px_upq_memsize(16), sizeof(upq_mem));
	t = px_upq_init(upq_mem, 16, now, 1);
	ck_assert_ptr_nonnull(t);
	px_rand_init_seed(&rng, seed);
	res = px_resolver_init(mem, CAP, &cfg, &policy, t, &rng);
	ck_assert_ptr_nonnull(res);
	q.qname_len = (uint8_t)px_test_name(w, "www.example.test");
	for (unsigned i = 0; i < 16; i++) {
		unsigned pick = px_rand_uniform(&rng, 2);
		struct px_upq_query uq = {.qtype = PX_DNS_TYPE_A,
					  .qclass = PX_DNS_CLASS_IN, .qname = tw};
		struct px_upq_sent sent;
		uint32_t v4;

		/* "tEsT." A, as the worker sent it for another resolution. */
		uq.qname_len = (uint8_t)px_test_name(tw, "tEsT");
		inet_pton(AF_INET, roots[pick], &v4);
		px_addr_set4(&uq.server, v4, PX_DNS_PORT);
		ck_assert_int_eq(px_upq_start(t, &rng, &uq, now, 400, &sent), 0);
		ck_assert_int_eq(px_resolver_start(res, &q, hints, NULL, now, 1, &act), 0);
		ck_assert_int_eq(act.kind, PX_RES_ACT_SEND);
		addr_str(server, &act.server);
		ck_assert_str_eq(server, roots[pick]);
		ck_assert_uint_eq(act.qname_len, 6);
		ck_assert_int_eq(px_resolver_cancel(res, act.res), 0);
		ck_assert_int_eq(px_upq_cancel(t, sent.handle), 0);
	}
}
END_TEST

START_TEST(test_resolve_init_invalid)
{
	ck_assert_ptr_null(px_resolver_init(mem, 0, NULL, &policy, NULL, NULL));
	ck_assert_ptr_null(px_resolver_init(mem, CAP, NULL, NULL, NULL, NULL));
	ck_assert_uint_eq(px_resolver_memsize(0), 0);
}
END_TEST

/* The jostle's view of the resolver: which trees are asked about, oldest first. */
static uint64_t stuck_leaves[CAP];
static unsigned stuck_count, stuck_calls;
static bool stuck_all;
static uint64_t seen_top, seen_leaf;
static struct px_addr seen_server;

static bool
stuck_fn(void *arg, uint64_t top, uint64_t leaf, const struct px_addr *server)
{
	ck_assert_ptr_eq(arg, &stuck_calls);
	stuck_calls++;
	seen_top = top;
	seen_leaf = leaf;
	seen_server = *server;
	for (unsigned i = 0; i < stuck_count; i++)
		if (stuck_leaves[i] == leaf)
			return true;
	return stuck_all;
}

static uint64_t
jostle(uint64_t at, uint32_t min_age)
{
	stuck_calls = 0;
	return px_resolver_jostle_find(res, at, min_age, stuck_fn, &stuck_calls);
}

/* Starts name at `at` (its first SEND pending) and returns its handle. */
static uint64_t
start_at(const char *name, uint64_t at)
{
	uint8_t w[PX_DNS_NAME_BUF];
	struct px_resolver_question q = {w, 0, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};

	q.qname_len = (uint8_t)px_test_name(w, name);
	ck_assert_int_eq(px_resolver_start(res, &q, hints, NULL, at, 7, &act), 0);
	ck_assert_int_eq(act.kind, PX_RES_ACT_SEND);
	return act.res;
}

/* The oldest tree old enough whose query in flight the caller calls stuck; younger ones are
 * not even looked at, and cancelled or finished trees leave the age list. */
START_TEST(test_resolve_jostle_oldest_stuck)
{
	uint64_t h[CAP];

	for (unsigned i = 0; i < CAP; i++) {
		char n[32];

		snprintf(n, sizeof(n), "j%u.example.test", i);
		h[i] = start_at(n, now + 10 * i);
	}
	/* All younger than 100 ms: nobody is asked. */
	ck_assert_uint_eq(jostle(now + 30, 100), 0);
	ck_assert_uint_eq(stuck_calls, 0);
	/* At +125 the first three are old enough; the second is stuck. */
	stuck_leaves[0] = h[1];
	stuck_count = 1;
	ck_assert_uint_eq(jostle(now + 125, 100), h[1]);
	ck_assert_uint_eq(stuck_calls, 2);
	ck_assert_uint_eq(seen_top, h[1]);
	ck_assert_uint_eq(seen_leaf, h[1]);
	ck_assert_uint_eq(seen_server.family, 4); /* a root hint */
	/* Old enough but nobody stuck: every tree is asked, none chosen. */
	stuck_count = 0;
	ck_assert_uint_eq(jostle(now + 1000, 100), 0);
	ck_assert_uint_eq(stuck_calls, CAP);
	/* Nothing is changed by looking. */
	ck_assert_uint_eq(px_resolver_active(res), CAP);
	/* A cancelled tree leaves the list from the middle, head and tail. */
	stuck_all = true;
	ck_assert_int_eq(px_resolver_cancel(res, h[1]), 0);
	ck_assert_uint_eq(jostle(now + 1000, 100), h[0]);
	ck_assert_int_eq(px_resolver_cancel(res, h[0]), 0);
	ck_assert_uint_eq(jostle(now + 1000, 100), h[2]);
	ck_assert_int_eq(px_resolver_cancel(res, h[3]), 0);
	ck_assert_uint_eq(jostle(now + 1000, 100), h[2]);
	ck_assert_uint_eq(stuck_calls, 1);
	ck_assert_int_eq(px_resolver_cancel(res, h[2]), 0);
	ck_assert_uint_eq(jostle(now + 1000, 0), 0);
	ck_assert_uint_eq(stuck_calls, 0);
	/* A new tree after the list emptied is the head again. */
	h[0] = start_at("again.example.test", now + 2000);
	ck_assert_uint_eq(jostle(now + 2000, 0), h[0]);
	stuck_all = false;
}
END_TEST

/* A tree that ended with an answer or a SERVFAIL is off the list: the slot it had may be
 * taken by a new tree, which is the only one seen. */
START_TEST(test_resolve_jostle_ended_trees_leave)
{
	uint64_t h;

	ck_assert_int_eq(resolve("www.example.test", PX_DNS_TYPE_A, 1), 0);
	ck_assert_int_eq(act.kind, PX_RES_ACT_ANSWER);
	ck_assert_int_eq(resolve("www.bad.test", PX_DNS_TYPE_A, 1), 0);
	ck_assert_int_eq(act.kind, PX_RES_ACT_SERVFAIL);
	stuck_all = true;
	ck_assert_uint_eq(jostle(now + 10000, 0), 0);
	ck_assert_uint_eq(stuck_calls, 0);
	h = start_at("www.example.test", now);
	ck_assert_uint_eq(jostle(now + 10000, 0), h);
	ck_assert_uint_eq(stuck_calls, 1);
	stuck_all = false;
}
END_TEST

/* A tree waiting on a glueless sub-resolution is judged by the sub-resolution's query (the one
 * in flight), and px_resolver_tree() names both, top first. */
START_TEST(test_resolve_jostle_sub_resolution)
{
	uint64_t top, tree[4];
	char a[64];

	top = start_at("www.glueless.test", now);
	while (act.kind == PX_RES_ACT_SEND && act.res == top)
		drive(1);
	ck_assert_int_eq(act.kind, PX_RES_ACT_SEND);
	ck_assert_uint_ne(act.res, top);
	ck_assert_uint_eq(px_resolver_tree(res, top, tree, 4), 2);
	ck_assert_uint_eq(tree[0], top);
	ck_assert_uint_eq(tree[1], act.res);
	/* Only a top names a tree. */
	ck_assert_uint_eq(px_resolver_tree(res, act.res, tree, 4), 0);
	stuck_leaves[0] = act.res;
	stuck_count = 1;
	ck_assert_uint_eq(jostle(now + 1000, 100), top);
	ck_assert_uint_eq(seen_top, top);
	ck_assert_uint_eq(seen_leaf, act.res);
	addr_str(a, &seen_server);
	addr_str(a + 32, &act.server);
	ck_assert_str_eq(a, a + 32);
	stuck_count = 0;
	/* Cancelling the top frees the whole tree. */
	ck_assert_int_eq(px_resolver_cancel(res, top), 0);
	ck_assert_uint_eq(px_resolver_active(res), 0);
	ck_assert_uint_eq(jostle(now + 1000, 0), 0);
}
END_TEST

static Suite *
resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc;

#define TC(name, ...)                                                                              \
	tc = tcase_create(name);                                                                   \
	tcase_add_checked_fixture(tc, setup, NULL);                                                \
	__VA_ARGS__;                                                                               \
	suite_add_tcase(s, tc)
	TC("referrals", tcase_add_test(tc, test_resolve_plain_qmin);
	   tcase_add_test(tc, test_resolve_plain_no_qmin);
	   tcase_add_test(tc, test_resolve_qmin_nxdomain_rfc8020);
	   tcase_add_test(tc, test_resolve_start_cut_from_cache);
	   tcase_add_test(tc, test_resolve_rdata_names_expanded));
	TC("glue_policy", tcase_add_test(tc, test_resolve_glue_zero_skipped);
	   tcase_add_test(tc, test_resolve_all_glue_invalid);
	   tcase_add_test(tc, test_resolve_policy_rejects_start_cut);
	   tcase_add_test(tc, test_resolve_some_glue_invalid_rest_failed);
	   tcase_add_test(tc, test_resolve_glueless_address_rejected);
	   tcase_add_test(tc, test_resolve_fail_ede_table);
	   tcase_add_test(tc, test_resolve_glueless));
	TC("failover", tcase_add_test(tc, test_resolve_lame_then_good);
	   tcase_add_test(tc, test_resolve_too_many_rrs_then_second);
	   tcase_add_test(tc, test_resolve_timeout_then_second);
	   tcase_add_test(tc, test_resolve_all_unreachable);
	   tcase_add_test(tc, test_resolve_unreachable_and_timeout);
	   tcase_add_test(tc, test_resolve_stale_events));
	TC("cname", tcase_add_test(tc, test_resolve_cname_in_zone);
	   tcase_add_test(tc, test_resolve_cname_across_zones);
	   tcase_add_test(tc, test_resolve_cname_loop);
	   tcase_add_test(tc, test_resolve_cname_nxdomain_target);
	   tcase_add_test(tc, test_resolve_cname_limit));
	TC("negative", tcase_add_test(tc, test_resolve_nxdomain);
	   tcase_add_test(tc, test_resolve_nxdomain_capped); tcase_add_test(tc, test_resolve_nodata));
	TC("limits", tcase_add_test(tc, test_resolve_limit_queries);
	   tcase_add_test(tc, test_resolve_limit_referrals);
	   tcase_add_test(tc, test_resolve_limit_glueless);
	   tcase_add_test(tc, test_resolve_limit_deadline));
	TC("pool", tcase_add_test(tc, test_resolve_pool_exhausted);
	   tcase_add_test(tc, test_resolve_coalesce); tcase_add_test(tc, test_resolve_init_invalid);
	   tcase_add_test(tc, test_resolve_question_index_keyed);
	   tcase_add_test(tc, test_resolve_done_names_its_resolution);
	   tcase_add_test(tc, test_resolve_release_hook);
	   tcase_add_test(tc, test_resolve_prefers_outstanding));
	TC("poisoning", tcase_add_test(tc, test_resolve_poisoning));
	TC("jostle", tcase_add_test(tc, test_resolve_jostle_oldest_stuck);
	   tcase_add_test(tc, test_resolve_jostle_ended_trees_leave);
	   tcase_add_test(tc, test_resolve_jostle_sub_resolution));
	TC("cached_cuts", tcase_add_test(tc, test_resolve_start_cut_named);
	   tcase_add_test(tc, test_resolve_cname_restart_from_cut_source);
	   tcase_add_test(tc, test_resolve_glueless_from_cut_source));
#undef TC
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(resolve_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
