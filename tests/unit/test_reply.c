/* SPDX-License-Identifier: BSD-3-Clause */
/* The upstream reply classifier and bailiwick scrubber. Pure: no EAL. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/addr_policy.h>
#include <pollux/wire.h>

#include <pollux/rdata.h>
#include <pollux/reply.h>
#include "testlib.h"

static struct px_test_msg m;
static struct px_reply r;
static struct px_addr_policy policy;
static uint8_t qname_wire[PX_DNS_NAME_BUF], zone_wire[PX_DNS_NAME_BUF];
static struct px_reply_query q;

#define AN PX_REPLY_SEC_ANSWER
#define NS PX_REPLY_SEC_AUTHORITY
#define AR PX_REPLY_SEC_ADDITIONAL

/* Short names for the testlib message builder on the one message m. An owner or target of NULL
 * is a compression pointer to the question's name. */
static void
mb_start(uint16_t flags, uint8_t rcode, const char *qname, uint16_t qtype)
{
	px_test_msg_start(&m, 0x1234, (uint16_t)(PX_DNS_QR | flags | rcode), qname, qtype);
}

static uint16_t
mb_rr_head(int sec, const char *owner, uint16_t type, uint16_t rclass, uint32_t ttl)
{
	return px_test_msg_rr_head(&m, sec, owner, type, rclass, ttl);
}

static void
mb_rr(int sec, const char *owner, uint16_t type, uint32_t ttl, const void *rdata, uint16_t rdlen)
{
	px_test_msg_rr(&m, sec, owner, type, ttl, rdata, rdlen);
}

static void
mb_a(int sec, const char *owner, const char *addr)
{
	px_test_msg_addr(&m, sec, owner, addr);
}

static void
mb_target(int sec, const char *owner, uint16_t type, uint32_t ttl, const char *target)
{
	px_test_msg_target(&m, sec, owner, type, ttl, target);
}

static void
mb_soa(int sec, const char *owner, uint32_t ttl, uint32_t minimum)
{
	px_test_msg_soa(&m, sec, owner, ttl, minimum);
}

static void
mb_opt(uint32_t ttl)
{
	px_test_msg_opt(&m, ttl);
}

static void
set_query(const char *qname, uint16_t qtype, const char *zone)
{
	q.qname_len = (uint8_t)px_test_name(qname_wire, qname);
	q.zone_len = (uint8_t)px_test_name(zone_wire, zone);
	for (unsigned i = 0; i < q.qname_len; i++)
		qname_wire[i] = px_lower(qname_wire[i]);
	for (unsigned i = 0; i < q.zone_len; i++)
		zone_wire[i] = px_lower(zone_wire[i]);
	q.qname = qname_wire;
	q.zone = zone_wire;
	q.qtype = qtype;
	q.qclass = PX_DNS_CLASS_IN;
	q.policy = &policy;
}

/* Classifies the message under construction for qname/qtype asked of a server for zone. */
static enum px_reply_class
classify(const char *qname, uint16_t qtype, const char *zone)
{
	set_query(qname, qtype, zone);
	return px_reply_classify(&r, m.buf, m.len, &q);
}

static void
assert_name(const uint8_t *got, unsigned got_len, const char *want)
{
	uint8_t w[PX_DNS_NAME_BUF];
	unsigned n = px_test_name(w, want);

	ck_assert_uint_eq(got_len, n);
	ck_assert_mem_eq(got, w, n);
}

static unsigned
total_dropped(void)
{
	unsigned t = r.counts.ns_ignored;

	for (int s = 0; s < PX_REPLY_SEC_COUNT; s++)
		t += r.counts.out_of_bailiwick[s] + r.counts.ignored[s];
	for (int i = 0; i < PX_ADDR_REASON_COUNT; i++)
		t += r.counts.addr_rejected[i];
	return t;
}

static void
setup(void)
{
	px_addr_policy_init(&policy);
}

START_TEST(test_classify_answer_plain)
{
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_a(AN, "WWW.Example.TEST", "192.0.2.1");
	mb_rr(AN, NULL, PX_DNS_TYPE_A, 60, "\xc0\x00\x02\x02", 4);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_ANSWER);
	ck_assert(r.aa);
	ck_assert_uint_eq(r.id, 0x1234);
	ck_assert_uint_eq(r.cname_count, 0);
	ck_assert_uint_eq(r.answer_count, 2);
	ck_assert_mem_eq(m.buf + r.answer[0].rdata_off, "\xc0\x00\x02\x01", 4);
	ck_assert_mem_eq(m.buf + r.answer[1].rdata_off, "\xc0\x00\x02\x02", 4);
	ck_assert_uint_eq(px_reply_answer_ttl(&r), 60);
	ck_assert_uint_eq(px_reply_chain_ttl(&r), 60);
	assert_name(r.sname, r.sname_len, "www.example.test");
	ck_assert_uint_eq(total_dropped(), 0);
	ck_assert_str_eq(px_reply_class_name(r.cls), "answer");
}
END_TEST

START_TEST(test_classify_answer_cname_chain_in_bailiwick)
{
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(AN, "www.example.test", PX_DNS_TYPE_CNAME, 100, "web.example.test");
	/* Out of order on purpose: the chain is followed by name, not by position. */
	mb_a(AN, "host.sub.example.test", "192.0.2.9");
	mb_target(AN, "web.example.test", PX_DNS_TYPE_CNAME, 50, "host.sub.example.test");
	mb_a(AN, "unrelated.example.test", "192.0.2.7");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_ANSWER);
	ck_assert_uint_eq(r.cname_count, 2);
	ck_assert_uint_eq(r.cname[0].ttl, 100);
	ck_assert_uint_eq(r.cname[1].ttl, 50);
	ck_assert_uint_eq(r.answer_count, 1);
	assert_name(r.sname, r.sname_len, "host.sub.example.test");
	ck_assert_uint_eq(px_reply_answer_ttl(&r), 300);
	ck_assert_uint_eq(px_reply_chain_ttl(&r), 50);
	ck_assert_uint_eq(r.counts.ignored[AN], 1);
	ck_assert_uint_eq(total_dropped(), 1);
}
END_TEST

START_TEST(test_classify_cname_leaves_bailiwick)
{
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(AN, "www.example.test", PX_DNS_TYPE_CNAME, 300, "www.other.test");
	mb_a(AN, "www.other.test", "203.0.113.66"); /* not this server's to say */
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_CNAME);
	ck_assert_uint_eq(r.cname_count, 1);
	assert_name(r.sname, r.sname_len, "www.other.test");
	ck_assert_uint_eq(r.answer_count, 0);
	ck_assert_uint_eq(r.counts.out_of_bailiwick[AN], 1);
	ck_assert_uint_eq(total_dropped(), 1);
	/* The same under NXDOMAIN (about a target this server does not serve): still CNAME. */
	px_put16(m.buf + 2, (uint16_t)(px_get16(m.buf + 2) | PX_DNS_RCODE_NXDOMAIN));
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_CNAME);
}
END_TEST

START_TEST(test_classify_cname_target_without_data)
{
	/* The target is in the bailiwick but the server says nothing about it: restart there. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(AN, "www.example.test", PX_DNS_TYPE_CNAME, 300, "elsewhere.example.test");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_CNAME);
	assert_name(r.sname, r.sname_len, "elsewhere.example.test");
	ck_assert(!r.cname_limit);
}
END_TEST

START_TEST(test_classify_cname_question_answered_by_cname)
{
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_CNAME);
	mb_target(AN, "www.example.test", PX_DNS_TYPE_CNAME, 300, "www.other.test");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_CNAME, "example.test"),
			 PX_REPLY_ANSWER);
	ck_assert_uint_eq(r.cname_count, 0);
	ck_assert_uint_eq(r.answer_count, 1);
}
END_TEST

START_TEST(test_classify_cname_limit_and_loop)
{
	char a[32], b[32];

	mb_start(PX_DNS_AA, 0, "c0.example.test", PX_DNS_TYPE_A);
	for (int i = 0; i < 10; i++) {
		snprintf(a, sizeof(a), "c%d.example.test", i);
		snprintf(b, sizeof(b), "c%d.example.test", i + 1);
		mb_target(AN, a, PX_DNS_TYPE_CNAME, 300, b);
	}
	mb_a(AN, "c10.example.test", "192.0.2.1");
	ck_assert_int_eq(classify("c0.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_CNAME);
	ck_assert(r.cname_limit);
	ck_assert_uint_eq(r.cname_count, PX_REPLY_MAX_CNAME);
	assert_name(r.sname, r.sname_len, "c8.example.test");
	ck_assert_uint_eq(r.counts.ignored[AN], 3); /* two links not followed and the A */

	mb_start(PX_DNS_AA, 0, "a.example.test", PX_DNS_TYPE_A);
	mb_target(AN, "a.example.test", PX_DNS_TYPE_CNAME, 300, "b.example.test");
	mb_target(AN, "b.example.test", PX_DNS_TYPE_CNAME, 300, "a.example.test");
	ck_assert_int_eq(classify("a.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_CNAME);
	ck_assert(r.cname_limit);
	ck_assert_uint_eq(r.cname_count, PX_REPLY_MAX_CNAME);
}
END_TEST

START_TEST(test_classify_cname_then_nxdomain)
{
	mb_start(PX_DNS_AA, PX_DNS_RCODE_NXDOMAIN, "www.example.test", PX_DNS_TYPE_A);
	mb_target(AN, "www.example.test", PX_DNS_TYPE_CNAME, 300, "gone.example.test");
	mb_soa(NS, "example.test", 3600, 120);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_NXDOMAIN);
	ck_assert_uint_eq(r.cname_count, 1);
	assert_name(r.sname, r.sname_len, "gone.example.test");
	ck_assert(r.has_soa);
	ck_assert_uint_eq(px_reply_negative_ttl(&r), 120);
	ck_assert_uint_eq(total_dropped(), 0);
}
END_TEST

START_TEST(test_classify_cname_then_referral)
{
	mb_start(0, 0, "www.a.test", PX_DNS_TYPE_A);
	mb_target(AN, "www.a.test", PX_DNS_TYPE_CNAME, 300, "www.b.test");
	mb_target(NS, "b.test", PX_DNS_TYPE_NS, 300, "ns.b.test");
	mb_a(AR, "ns.b.test", "192.0.2.53");
	ck_assert_int_eq(classify("www.a.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	ck_assert_uint_eq(r.cname_count, 1);
	assert_name(r.zone, r.zone_len, "b.test");
	ck_assert_uint_eq(r.ns_count, 1);
	ck_assert_uint_eq(r.ns[0].addr_count, 1);
}
END_TEST

START_TEST(test_classify_referral_in_bailiwick_glue)
{
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(NS, "Example.Test", PX_DNS_TYPE_NS, 172800, "ns1.example.test");
	mb_target(NS, "example.test", PX_DNS_TYPE_NS, 86400, "NS2.example.test");
	mb_target(NS, "example.test", PX_DNS_TYPE_NS, 86400, "ns1.example.test"); /* duplicate */
	mb_opt(0);
	mb_a(AR, "ns1.example.test", "192.0.2.1");
	mb_a(AR, "ns1.example.test", "2001:db8::1");
	mb_a(AR, "ns2.example.test", "192.0.2.2");
	mb_a(AR, "ns2.example.test", "192.0.2.2"); /* duplicate */
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	ck_assert(r.edns);
	ck_assert_uint_eq(r.edns_bufsize, 1232);
	assert_name(r.zone, r.zone_len, "example.test");
	ck_assert_uint_eq(r.ns_count, 2);
	assert_name(r.ns[0].name, r.ns[0].name_len, "ns1.example.test");
	assert_name(r.ns[1].name, r.ns[1].name_len, "ns2.example.test");
	ck_assert_uint_eq(r.ns[0].addr_count, 2);
	ck_assert_uint_eq(r.ns[0].addr[0].family, 4);
	ck_assert_mem_eq(r.ns[0].addr[0].addr, "\xc0\x00\x02\x01", 4);
	ck_assert_uint_eq(r.ns[0].addr[1].family, 6);
	ck_assert_mem_eq(r.ns[0].addr[1].addr, "\x20\x01\x0d\xb8", 4);
	ck_assert_uint_eq(r.ns[1].addr_count, 1);
	ck_assert_uint_eq(px_reply_referral_ttl(&r), 86400);
	ck_assert_uint_eq(r.counts.ns_ignored, 1);
	ck_assert_uint_eq(r.counts.ignored[AR], 1);
	ck_assert_uint_eq(total_dropped(), 2);
	ck_assert(!r.has_soa);
}
END_TEST

START_TEST(test_classify_referral_out_of_bailiwick_glue)
{
	/* A .test server naming ns.example.net: glue for it is not its to give. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(NS, "example.test", PX_DNS_TYPE_NS, 300, "ns.example.net");
	mb_target(NS, "example.test", PX_DNS_TYPE_NS, 300, "ns.example.test");
	mb_a(AR, "ns.example.net", "192.0.2.66");
	mb_a(AR, "ns.example.test", "192.0.2.1");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	ck_assert_uint_eq(r.ns_count, 2);
	assert_name(r.ns[0].name, r.ns[0].name_len, "ns.example.net");
	ck_assert_uint_eq(r.ns[0].addr_count, 0); /* kept, for a glueless lookup */
	ck_assert_uint_eq(r.ns[1].addr_count, 1);
	ck_assert_uint_eq(r.counts.out_of_bailiwick[AR], 1);
	ck_assert_uint_eq(total_dropped(), 1);
}
END_TEST

START_TEST(test_classify_referral_glue_zero_then_good)
{
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(NS, "example.test", PX_DNS_TYPE_NS, 300, "ns1.example.test");
	mb_target(NS, "example.test", PX_DNS_TYPE_NS, 300, "ns2.example.test");
	mb_a(AR, "ns1.example.test", "0.0.0.0");
	mb_a(AR, "ns2.example.test", "192.0.2.2");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	ck_assert_uint_eq(r.ns_count, 2);
	ck_assert_uint_eq(r.ns[0].addr_count, 0);
	ck_assert_uint_eq(r.ns[1].addr_count, 1);
	ck_assert_mem_eq(r.ns[1].addr[0].addr, "\xc0\x00\x02\x02", 4);
	ck_assert_uint_eq(r.counts.addr_rejected[PX_ADDR_UNSPECIFIED], 1);
	ck_assert_uint_eq(total_dropped(), 1);
}
END_TEST

START_TEST(test_classify_referral_all_glue_invalid)
{
	static const char *const addrs[] = {"0.0.0.0",  "255.255.255.255", "224.0.0.1",
					    "127.0.0.1", "::",              "240.0.0.1"};
	char ns[32];

	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	for (unsigned i = 0; i < 6; i++) {
		snprintf(ns, sizeof(ns), "ns%u.example.test", i);
		mb_target(NS, "example.test", PX_DNS_TYPE_NS, 300, ns);
	}
	for (unsigned i = 0; i < 6; i++) {
		snprintf(ns, sizeof(ns), "ns%u.example.test", i);
		mb_a(AR, ns, addrs[i]);
	}
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	ck_assert_uint_eq(r.ns_count, 6);
	for (unsigned i = 0; i < 6; i++)
		ck_assert_uint_eq(r.ns[i].addr_count, 0);
	ck_assert_uint_eq(r.counts.addr_rejected[PX_ADDR_UNSPECIFIED], 2);
	ck_assert_uint_eq(r.counts.addr_rejected[PX_ADDR_BROADCAST], 1);
	ck_assert_uint_eq(r.counts.addr_rejected[PX_ADDR_MULTICAST], 1);
	ck_assert_uint_eq(r.counts.addr_rejected[PX_ADDR_LOOPBACK], 1);
	ck_assert_uint_eq(r.counts.addr_rejected[PX_ADDR_RESERVED], 1);
	ck_assert_uint_eq(total_dropped(), 6);

	/* The policy is the caller's: a lab that allows loopback nameservers keeps 127.0.0.1. */
	policy.allow_loopback = true;
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	ck_assert_uint_eq(r.ns[3].addr_count, 1);
	ck_assert_uint_eq(r.counts.addr_rejected[PX_ADDR_LOOPBACK], 0);
	/* And its do-not-query netblocks apply to glue. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(NS, "example.test", PX_DNS_TYPE_NS, 300, "ns.example.test");
	mb_a(AR, "ns.example.test", "198.51.100.7");
	ck_assert_int_eq(px_addr_policy_add(&policy, "198.51.100.0/24"), 0);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	ck_assert_uint_eq(r.ns[0].addr_count, 0);
	ck_assert_uint_eq(r.counts.addr_rejected[PX_ADDR_DO_NOT_QUERY], 1);
}
END_TEST

START_TEST(test_classify_referral_unrelated_additional)
{
	/* Records in the bailiwick that are not glue for the delegation's names: not glue. */
	mb_start(0, 0, "www.evil.test", PX_DNS_TYPE_A);
	mb_target(NS, "evil.test", PX_DNS_TYPE_NS, 300, "ns.evil.test");
	mb_target(NS, "victim.test", PX_DNS_TYPE_NS, 300, "ns.evil.test"); /* sideways */
	mb_a(AR, "ns.evil.test", "192.0.2.1");
	mb_a(AR, "www.victim.test", "203.0.113.66");
	mb_rr(AR, "ns.evil.test", PX_DNS_TYPE_TXT, 300, "\3abc", 4);
	ck_assert_int_eq(classify("www.evil.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	ck_assert_uint_eq(r.ns_count, 1);
	ck_assert_uint_eq(r.ns[0].addr_count, 1);
	ck_assert_uint_eq(r.counts.ns_ignored, 1);
	ck_assert_uint_eq(r.counts.ignored[AR], 2);
	ck_assert_uint_eq(total_dropped(), 3);
}
END_TEST

START_TEST(test_classify_referral_limits)
{
	char ns[32];

	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	for (unsigned i = 0; i < PX_REPLY_MAX_NS + 2; i++) {
		snprintf(ns, sizeof(ns), "ns%u.example.test", i);
		mb_target(NS, "example.test", PX_DNS_TYPE_NS, 300 + i, ns);
	}
	for (unsigned i = 0; i < PX_REPLY_MAX_ADDRS + 2; i++) {
		snprintf(ns, sizeof(ns), "192.0.2.%u", i + 1);
		mb_a(AR, "ns0.example.test", ns);
	}
	mb_a(AR, "ns14.example.test", "192.0.2.99"); /* for a name that did not fit */
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	ck_assert_uint_eq(r.ns_count, PX_REPLY_MAX_NS);
	ck_assert_uint_eq(r.counts.ns_dropped, 2);
	ck_assert_uint_eq(r.ns[0].addr_count, PX_REPLY_MAX_ADDRS);
	ck_assert_uint_eq(r.counts.addr_dropped, 2);
	ck_assert_uint_eq(r.counts.ignored[AR], 1);
	ck_assert_uint_eq(px_reply_referral_ttl(&r), 300);
}
END_TEST

START_TEST(test_classify_answer_limit)
{
	char a[32];

	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	for (unsigned i = 0; i < PX_REPLY_MAX_ANSWER + 8; i++) {
		snprintf(a, sizeof(a), "192.0.2.%u", i + 1);
		mb_a(AN, "www.example.test", a);
	}
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_ANSWER);
	ck_assert_uint_eq(r.answer_count, PX_REPLY_MAX_ANSWER);
	ck_assert_uint_eq(r.counts.answer_dropped, 8);
	ck_assert_uint_eq(total_dropped(), 0);
}
END_TEST

START_TEST(test_classify_poisoning_attempt)
{
	/* evil.test's server answers for itself and slips in data about victim.test. */
	mb_start(PX_DNS_AA, 0, "www.evil.test", PX_DNS_TYPE_A);
	mb_a(AN, "www.evil.test", "192.0.2.1");
	mb_a(AN, "www.victim.test", "203.0.113.66");
	mb_target(NS, "victim.test", PX_DNS_TYPE_NS, 86400, "ns.evil.test");
	mb_soa(NS, "victim.test", 86400, 86400);
	mb_target(NS, "test", PX_DNS_TYPE_NS, 86400, "ns.evil.test");
	mb_a(AR, "ns.victim.test", "203.0.113.66");
	mb_a(AR, "www.victim.test", "2001:db8::66");
	mb_a(AR, "ns.evil.test", "192.0.2.53"); /* in bailiwick, but not glue for anything */
	ck_assert_int_eq(classify("www.evil.test", PX_DNS_TYPE_A, "evil.test"), PX_REPLY_ANSWER);
	ck_assert_uint_eq(r.answer_count, 1);
	ck_assert_mem_eq(m.buf + r.answer[0].rdata_off, "\xc0\x00\x02\x01", 4);
	ck_assert_uint_eq(r.ns_count, 0);
	ck_assert_uint_eq(r.zone_len, 0);
	ck_assert(!r.has_soa);
	ck_assert_uint_eq(r.counts.out_of_bailiwick[AN], 1);
	ck_assert_uint_eq(r.counts.out_of_bailiwick[NS], 3);
	ck_assert_uint_eq(r.counts.out_of_bailiwick[AR], 2);
	ck_assert_uint_eq(r.counts.ignored[AR], 1);
	ck_assert_uint_eq(total_dropped(), 7);

	/* The same records around a referral from the .test server's point of view would be in
	 * bailiwick; from evil.test's own zone cut they never are. A referral for victim.test
	 * from evil.test is sideways: lame. */
	mb_start(0, 0, "www.evil.test", PX_DNS_TYPE_A);
	mb_target(NS, "victim.test", PX_DNS_TYPE_NS, 86400, "ns.evil.test");
	mb_a(AR, "ns.evil.test", "192.0.2.53");
	ck_assert_int_eq(classify("www.evil.test", PX_DNS_TYPE_A, "evil.test"), PX_REPLY_LAME);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_SIDEWAYS);
	ck_assert_uint_eq(r.ns_count, 0);
}
END_TEST

START_TEST(test_classify_nxdomain_with_soa)
{
	mb_start(PX_DNS_AA, PX_DNS_RCODE_NXDOMAIN, "nx.example.test", PX_DNS_TYPE_A);
	mb_soa(NS, "example.test", 3600, 300);
	ck_assert_int_eq(classify("nx.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_NXDOMAIN);
	ck_assert(r.has_soa);
	assert_name(r.soa_owner, r.soa_owner_len, "example.test");
	ck_assert_uint_eq(r.soa.ttl, 3600);
	ck_assert_uint_eq(r.soa_minimum, 300);
	ck_assert_uint_eq(px_reply_negative_ttl(&r), 300);
	ck_assert_uint_eq(px_reply_ttl_cap(px_reply_negative_ttl(&r), 60), 60);
	ck_assert_uint_eq(total_dropped(), 0);

	/* The SOA's own TTL bounds the negative TTL when it is the smaller (RFC 2308 5). */
	mb_start(PX_DNS_AA, PX_DNS_RCODE_NXDOMAIN, "nx.example.test", PX_DNS_TYPE_A);
	mb_soa(NS, "example.test", 30, 300);
	ck_assert_int_eq(classify("nx.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_NXDOMAIN);
	ck_assert_uint_eq(px_reply_negative_ttl(&r), 30);

	/* Without an SOA, still NXDOMAIN, with nothing to cache it by. */
	mb_start(PX_DNS_AA, PX_DNS_RCODE_NXDOMAIN, "nx.example.test", PX_DNS_TYPE_A);
	ck_assert_int_eq(classify("nx.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_NXDOMAIN);
	ck_assert(!r.has_soa);
	ck_assert_uint_eq(px_reply_negative_ttl(&r), 0);
}
END_TEST

START_TEST(test_classify_nodata_with_soa)
{
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_AAAA);
	mb_soa(NS, "example.test", 3600, 600);
	mb_target(NS, "example.test", PX_DNS_TYPE_NS, 3600, "ns.example.test");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_AAAA, "example.test"),
			 PX_REPLY_NODATA);
	ck_assert(r.has_soa);
	ck_assert_uint_eq(px_reply_negative_ttl(&r), 600);
	ck_assert_uint_eq(r.ns_count, 0);
	ck_assert_uint_eq(r.counts.ns_ignored, 1);
	/* An A record at the name answers nothing about AAAA. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_AAAA);
	mb_a(AN, "www.example.test", "192.0.2.1");
	mb_soa(NS, "example.test", 3600, 600);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_AAAA, "example.test"),
			 PX_REPLY_NODATA);
	ck_assert_uint_eq(r.counts.type_mismatch, 1);
	ck_assert_uint_eq(r.counts.ignored[AN], 0);
}
END_TEST

/* An A record in reply to an AAAA question without an SOA: left out and counted; with AA a
 * NODATA answer, without AA (or beside NS records that make the server lame) a lame server,
 * so that the next server is asked. */
START_TEST(test_classify_wrong_type)
{
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_AAAA);
	mb_a(AN, "www.example.test", "192.0.2.1");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_AAAA, "example.test"),
			 PX_REPLY_NODATA);
	ck_assert(!r.has_soa);
	ck_assert_uint_eq(r.answer_count, 0);
	ck_assert_uint_eq(r.counts.type_mismatch, 1);
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_AAAA);
	mb_a(AN, "www.example.test", "192.0.2.1");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_AAAA, "example.test"),
			 PX_REPLY_LAME);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_EMPTY);
	ck_assert_uint_eq(r.answer_count, 0);
	ck_assert_uint_eq(r.counts.type_mismatch, 1);
	/* Authoritative, but handing out the parent's NS set: lame upward. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_AAAA);
	mb_a(AN, "www.example.test", "192.0.2.1");
	mb_target(NS, "test", PX_DNS_TYPE_NS, 3600, "ns.test");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_AAAA, "example.test"),
			 PX_REPLY_LAME);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_UPWARD);
	ck_assert_uint_eq(r.counts.type_mismatch, 1);
	/* Another zone's NS set: lame sideways. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_AAAA);
	mb_a(AN, "www.example.test", "192.0.2.1");
	mb_target(NS, "other.test", PX_DNS_TYPE_NS, 3600, "ns.other.test");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_AAAA, "example.test"),
			 PX_REPLY_LAME);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_SIDEWAYS);
	ck_assert_uint_eq(r.counts.type_mismatch, 1);
	/* The same record owned by another name is no statement about the question's name: an
	 * empty non-authoritative reply, lame. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_AAAA);
	mb_a(AN, "ftp.example.test", "192.0.2.1");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_AAAA, "example.test"),
			 PX_REPLY_LAME);
	ck_assert_uint_eq(r.counts.type_mismatch, 0);
	ck_assert_uint_eq(r.counts.ignored[AN], 1);
	/* Alongside the asked type, the other type is left out of the answer and counted. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_a(AN, "www.example.test", "2001:db8::1");
	mb_a(AN, "www.example.test", "192.0.2.1");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_ANSWER);
	ck_assert_uint_eq(r.answer_count, 1);
	ck_assert_uint_eq(r.answer[0].type, PX_DNS_TYPE_A);
	ck_assert_uint_eq(r.counts.type_mismatch, 1);
}
END_TEST

START_TEST(test_classify_soa_outside_bailiwick_ignored)
{
	mb_start(PX_DNS_AA, PX_DNS_RCODE_NXDOMAIN, "nx.example.test", PX_DNS_TYPE_A);
	mb_soa(NS, "test", 86400, 86400);       /* above the bailiwick */
	mb_soa(NS, "other.test", 86400, 86400); /* beside it */
	mb_soa(NS, "sub.example.test", 60, 60); /* in it, but not above the qname */
	ck_assert_int_eq(classify("nx.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_NXDOMAIN);
	ck_assert(!r.has_soa);
	ck_assert_uint_eq(r.counts.out_of_bailiwick[NS], 2);
	ck_assert_uint_eq(r.counts.ignored[NS], 1);

	/* A NODATA whose only SOA is out of bailiwick: no SOA, so with AA it is NODATA still,
	 * and without AA it is lame. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_AAAA);
	mb_soa(NS, "other.test", 86400, 86400);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_AAAA, "example.test"),
			 PX_REPLY_NODATA);
	ck_assert(!r.has_soa);
	px_put16(m.buf + 2, PX_DNS_QR);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_AAAA, "example.test"),
			 PX_REPLY_LAME);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_EMPTY);
}
END_TEST

START_TEST(test_classify_lame_upward_referral)
{
	/* A .test server handing out the root NS set. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(NS, ".", PX_DNS_TYPE_NS, 518400, "a.root-servers.net");
	mb_a(AR, "a.root-servers.net", "198.41.0.4");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_LAME);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_UPWARD);
	ck_assert_str_eq(px_reply_lame_name(r.lame), "upward");
	ck_assert_uint_eq(r.ns_count, 0);
	ck_assert_uint_eq(r.counts.out_of_bailiwick[NS], 1);
	ck_assert_uint_eq(r.counts.out_of_bailiwick[AR], 1);

	/* NS for the bailiwick itself, without AA: a referral to where we already are. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(NS, "test", PX_DNS_TYPE_NS, 518400, "ns.test");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_LAME);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_UPWARD);
	/* With AA it is the apex NS set of an authoritative NODATA. */
	px_put16(m.buf + 2, PX_DNS_QR | PX_DNS_AA);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_NODATA);
	ck_assert(!r.has_soa);
	ck_assert_uint_eq(r.counts.ns_ignored, 1);
}
END_TEST

START_TEST(test_classify_lame_sideways_and_empty)
{
	/* A zone below the bailiwick that does not hold the qname. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(NS, "other.test", PX_DNS_TYPE_NS, 300, "ns.other.test");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_LAME);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_SIDEWAYS);
	ck_assert_uint_eq(r.counts.ns_ignored, 1);
	/* Below the qname is not at or above it either. */
	mb_start(0, 0, "example.test", PX_DNS_TYPE_A);
	mb_target(NS, "www.example.test", PX_DNS_TYPE_NS, 300, "ns.other.test");
	ck_assert_int_eq(classify("example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_LAME);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_SIDEWAYS);
	/* An unrelated tree altogether. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(NS, "example.org", PX_DNS_TYPE_NS, 300, "ns.example.org");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_LAME);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_SIDEWAYS);
	/* Nothing at all, no AA. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_LAME);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_EMPTY);
	/* Nothing at all, with AA: NODATA without an SOA. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_NODATA);
	ck_assert(!r.has_soa);
	/* A referral next to a lame record is still a referral. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(NS, ".", PX_DNS_TYPE_NS, 300, "a.root-servers.net");
	mb_target(NS, "example.test", PX_DNS_TYPE_NS, 300, "ns.example.test");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	ck_assert_int_eq(r.lame, PX_REPLY_LAME_NONE);
}
END_TEST

START_TEST(test_classify_rcodes)
{
	static const struct {
		uint8_t rcode;
		enum px_reply_class cls;
	} cases[] = {
		{PX_DNS_RCODE_REFUSED, PX_REPLY_REFUSED},
		{PX_DNS_RCODE_SERVFAIL, PX_REPLY_SERVFAIL},
		{PX_DNS_RCODE_FORMERR, PX_REPLY_FORMERR},
		{PX_DNS_RCODE_NOTIMP, PX_REPLY_SERVFAIL},
		{9, PX_REPLY_SERVFAIL},
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mb_start(0, cases[i].rcode, "www.example.test", PX_DNS_TYPE_A);
		ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
				 cases[i].cls);
		ck_assert_uint_eq(r.rcode, cases[i].rcode);
	}
	/* An extended rcode from the OPT (BADVERS = 16): the server cannot answer. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_opt(1u << 24);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_SERVFAIL);
	ck_assert_uint_eq(r.rcode, PX_DNS_RCODE_BADVERS);
}
END_TEST

START_TEST(test_classify_truncated)
{
	mb_start(PX_DNS_TC, 0, "www.example.test", PX_DNS_TYPE_A);
	px_put16(m.buf + 6, 5); /* counts need not hold in a truncated reply */
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_TRUNCATED);
	/* But the question must still be ours. */
	ck_assert_int_eq(classify("www.other.test", PX_DNS_TYPE_A, "test"), PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_QUESTION);
}
END_TEST

START_TEST(test_classify_question_mismatch)
{
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_a(AN, "www.example.test", "192.0.2.1");
	ck_assert_int_eq(classify("WWW.EXAMPLE.TEST", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_ANSWER);
	ck_assert_int_eq(classify("ww.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_QUESTION);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_AAAA, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_QUESTION);
	set_query("www.example.test", PX_DNS_TYPE_A, "example.test");
	q.qclass = PX_DNS_CLASS_CH;
	ck_assert_int_eq(px_reply_classify(&r, m.buf, m.len, &q), PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_QUESTION);
	ck_assert_str_eq(px_reply_bad_name(r.bad), "question");
}
END_TEST

START_TEST(test_classify_header_errors)
{
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_a(AN, "www.example.test", "192.0.2.1");
	for (uint16_t l = 0; l < PX_DNS_HDR_LEN; l++) {
		set_query("www.example.test", PX_DNS_TYPE_A, "example.test");
		ck_assert_int_eq(px_reply_classify(&r, m.buf, l, &q), PX_REPLY_MALFORMED);
		ck_assert_int_eq(r.bad, PX_REPLY_BAD_SHORT);
	}
	px_put16(m.buf + 2, PX_DNS_AA); /* QR clear: a query, not a reply */
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_NOT_RESPONSE);
	px_put16(m.buf + 2, PX_DNS_QR | 2 << PX_DNS_OPCODE_SHIFT);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_OPCODE);
	px_put16(m.buf + 2, PX_DNS_QR);
	for (uint16_t qd = 0; qd <= 2; qd += 2) {
		px_put16(m.buf + 4, qd);
		ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
				 PX_REPLY_MALFORMED);
		ck_assert_int_eq(r.bad, PX_REPLY_BAD_QDCOUNT);
	}
}
END_TEST

START_TEST(test_classify_compression_loop)
{
	uint16_t at;

	/* An answer whose owner is a pointer to itself. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	at = m.len;
	mb_a(AN, NULL, "192.0.2.1");
	px_put16(m.buf + at, (uint16_t)(0xc000 | at));
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_NAME);
	/* Two pointers at each other, in a CNAME's rdata. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	at = mb_rr_head(AN, NULL, PX_DNS_TYPE_CNAME, PX_DNS_CLASS_IN, 300);
	px_put16(m.buf + at, 4);
	px_put16(m.buf + m.len, (uint16_t)(0xc000 | (m.len + 2)));
	px_put16(m.buf + m.len + 2, (uint16_t)(0xc000 | m.len));
	m.len += 4;
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_NAME);
}
END_TEST

/* A referral with a bit of everything, for the count and cut tests. */
static void
mb_referral(void)
{
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(NS, "example.test", PX_DNS_TYPE_NS, 300, "ns1.example.test");
	mb_target(NS, "example.test", PX_DNS_TYPE_NS, 300, "ns2.example.test");
	mb_soa(NS, "other.test", 300, 300);
	mb_opt(0);
	mb_a(AR, "ns1.example.test", "192.0.2.1");
	mb_a(AR, "ns2.example.test", "2001:db8::2");
}

START_TEST(test_classify_counts_lie)
{
	mb_referral();
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	for (int s = 0; s < 3; s++) {
		uint16_t c = px_get16(m.buf + 6 + 2 * s);

		/* One more record than there is, and one fewer (trailing bytes). */
		px_put16(m.buf + 6 + 2 * s, (uint16_t)(c + 1));
		ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"),
				 PX_REPLY_MALFORMED);
		/* Earlier sections shift the OPT out of the additional section. */
		ck_assert_int_eq(r.bad, s == AR ? PX_REPLY_BAD_COUNTS : PX_REPLY_BAD_OPT);
		px_put16(m.buf + 6 + 2 * s, (uint16_t)(c - 1));
		ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"),
				 PX_REPLY_MALFORMED);
		px_put16(m.buf + 6 + 2 * s, 0xffff);
		ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"),
				 PX_REPLY_MALFORMED);
		px_put16(m.buf + 6 + 2 * s, c);
	}
	/* Every cut short of the whole message is a count that lies. */
	uint16_t len = m.len;

	for (uint16_t l = PX_DNS_HDR_LEN; l < len; l++) {
		m.len = l;
		ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"),
				 PX_REPLY_MALFORMED);
		ck_assert_int_eq(r.bad, PX_REPLY_BAD_COUNTS);
	}
}
END_TEST

START_TEST(test_classify_bad_rdata_and_opt)
{
	/* An A record five bytes long. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_rr(AN, NULL, PX_DNS_TYPE_A, 300, "\1\2\3\4\5", 5);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_RDATA);
	/* A CNAME whose name leaves a byte of its rdata over. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_rr(AN, NULL, PX_DNS_TYPE_CNAME, 300, "\1a\0\0", 4);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_RDATA);
	/* An NS whose name runs past its rdata into the next record. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_rr(NS, "example.test", PX_DNS_TYPE_NS, 300, "\2ns", 3);
	mb_rr(NS, "example.test", PX_DNS_TYPE_TXT, 300, "\0", 1);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_RDATA);
	/* An SOA with a field missing. */
	mb_start(PX_DNS_AA, PX_DNS_RCODE_NXDOMAIN, "nx.example.test", PX_DNS_TYPE_A);
	mb_rr(NS, "example.test", PX_DNS_TYPE_SOA, 300, "\0\0\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4", 18);
	ck_assert_int_eq(classify("nx.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_RDATA);
	/* Two OPTs; an OPT in the answer section; an OPT not owned by the root. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_opt(0);
	mb_opt(0);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_OPT);
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_rr(AN, ".", PX_DNS_TYPE_OPT, 0, "", 0);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_OPT);
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_rr(AR, "example.test", PX_DNS_TYPE_OPT, 0, "", 0);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_OPT);
}
END_TEST

START_TEST(test_classify_ttl_high_bit)
{
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_rr(AN, NULL, PX_DNS_TYPE_A, 0x80000000u, "\xc0\x00\x02\x01", 4);
	mb_rr(AN, NULL, PX_DNS_TYPE_A, 0x7fffffffu, "\xc0\x00\x02\x02", 4);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_ANSWER);
	ck_assert_uint_eq(r.answer[0].ttl, 0);
	ck_assert_uint_eq(r.answer[1].ttl, 0x7fffffffu);
	ck_assert_uint_eq(px_reply_answer_ttl(&r), 0);
	ck_assert_uint_eq(px_reply_min_ttl(r.answer, 0), UINT32_MAX);
	ck_assert_uint_eq(px_reply_ttl_cap(0x7fffffffu, 86400), 86400);
}
END_TEST

START_TEST(test_classify_compressed_names)
{
	/* Owners and targets compressed against the question, as real servers write them. */
	uint16_t at;

	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	/* example.test NS ns.example.test: owner = pointer into the question's name. */
	at = mb_rr_head(NS, NULL, PX_DNS_TYPE_NS, PX_DNS_CLASS_IN, 300);
	m.len -= 2 + 8 + 2; /* rewrite the owner as a pointer to "example.test" (offset 16) */
	px_put16(m.buf + m.len, 0xc000 | 16);
	m.len += 2;
	px_put16(m.buf + m.len, PX_DNS_TYPE_NS);
	px_put16(m.buf + m.len + 2, PX_DNS_CLASS_IN);
	px_put32(m.buf + m.len + 4, 300);
	at = (uint16_t)(m.len + 8);
	m.len += 10;
	uint16_t target = m.len;

	memcpy(m.buf + m.len, "\2ns\xc0\x10", 5);
	m.len += 5;
	px_put16(m.buf + at, 5);
	/* ns.example.test A: owner = pointer to the NS target. */
	at = mb_rr_head(AR, NULL, PX_DNS_TYPE_A, PX_DNS_CLASS_IN, 300);
	px_put16(m.buf + at - 10, (uint16_t)(0xc000 | target));
	px_put16(m.buf + at, 4);
	memcpy(m.buf + m.len, "\xc0\x00\x02\x01", 4);
	m.len += 4;
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	assert_name(r.zone, r.zone_len, "example.test");
	ck_assert_uint_eq(r.ns_count, 1);
	assert_name(r.ns[0].name, r.ns[0].name_len, "ns.example.test");
	ck_assert_uint_eq(r.ns[0].addr_count, 1);
}
END_TEST

/*
 * Record data with names, compressed against the question "Example.test" (at offset 12, so
 * \xc0\x0c is "Example.test" and \xc0\x14 is "test"), as a server that compresses them writes
 * it, and as it must be kept: names whole, letters as sent.
 */
#define E "\x07" "Example" "\x04" "test" "\0"
#define P "\xc0\x0c"
#define T "\xc0\x14"
#define SIG18 "\x00\x01\x08\x02\x00\x00\x0e\x10\x5f\x00\x00\x00\x5e\x00\x00\x00\x12\x34"

struct rdata_case {
	const char *what;
	uint16_t type;
	const char *in;
	uint16_t in_len;
	const char *out;
	uint16_t out_len;
};

#define RD(what, type, in, out) {what, type, in, sizeof(in) - 1, out, sizeof(out) - 1}

static const struct rdata_case rdata_cases[] = {
	RD("NS", PX_DNS_TYPE_NS, "\x02ns" P, "\x02ns" E),
	RD("CNAME", PX_DNS_TYPE_CNAME, "\x03WWW" P, "\x03WWW" E),
	RD("PTR", PX_DNS_TYPE_PTR, P, E),
	RD("MD", 3, "\x02md" P, "\x02md" E),
	RD("MF", 4, "\x02mf" P, "\x02mf" E),
	RD("MB", 7, "\x02mb" P, "\x02mb" E),
	RD("MG", 8, "\x02mg" P, "\x02mg" E),
	RD("MR", 9, "\x02mr" P, "\x02mr" E),
	RD("DNAME", 39, "\x05Other" T, "\x05Other\x04test\0"),
	RD("SOA", PX_DNS_TYPE_SOA, "\x02ns" P "\x05" "Admin" P "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5",
	   "\x02ns" E "\x05" "Admin" E "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5"),
	RD("MINFO", 14, "\x04rmbx" P "\x04" "embx" T, "\x04rmbx" E "\x04" "embx\x04test\0"),
	RD("MX", PX_DNS_TYPE_MX, "\x00\x0a\x04Mail" P, "\x00\x0a\x04Mail" E),
	RD("RP", 17, "\x05" "admin" P "\x03txt" P, "\x05" "admin" E "\x03txt" E),
	RD("AFSDB", 18, "\x00\x01\x03" "afs" P, "\x00\x01\x03" "afs" E),
	RD("RT", 21, "\x00\x0a\x05relay" P, "\x00\x0a\x05relay" E),
	RD("PX", 26, "\x00\x0a" P "\x04x400" T, "\x00\x0a" E "\x04x400\x04test\0"),
	RD("KX", 36, "\x00\x0a\x02kx" P, "\x00\x0a\x02kx" E),
	RD("SRV", 33, "\x00\x0a\x00\x05\x13\xc4\x03SIP" P, "\x00\x0a\x00\x05\x13\xc4\x03SIP" E),
	RD("NAPTR", 35, "\x00\x64\x00\x0a\x01U\x07" "E2U+sip" "\x00\x04_sip\x04_udp" P,
	   "\x00\x64\x00\x0a\x01U\x07" "E2U+sip" "\x00\x04_sip\x04_udp" E),
	RD("SIG", 24, SIG18 P "\x01\x02\x03", SIG18 E "\x01\x02\x03"),
	RD("RRSIG", 46, SIG18 P "\x01\x02\x03", SIG18 E "\x01\x02\x03"),
	RD("NXT", 30, "\x03www" P "\x40\x01", "\x03www" E "\x40\x01"),
	RD("NSEC", 47, "\x03www" P "\x00\x01\x40", "\x03www" E "\x00\x01\x40"),
	RD("SVCB", 64, "\x00\x01\x03svc" P "\x00\x01\x00\x02h2", "\x00\x01\x03svc" E "\x00\x01\x00\x02h2"),
	RD("HTTPS", 65, "\x00\x01" P, "\x00\x01" E),
	/* Names already whole stay byte for byte, letters included. */
	RD("MX whole", PX_DNS_TYPE_MX, "\x00\x0a\x04MAIL" E, "\x00\x0a\x04MAIL" E),
	/* Types without a layout are opaque: bytes that look like a pointer stay bytes. */
	RD("TXT", PX_DNS_TYPE_TXT, "\x02" P, "\x02" P),
	RD("unknown", 65280, P "\x01\x02", P "\x01\x02"),
	RD("empty unknown", 65281, "", ""),
};

/* The question "Example.test" of type `type` and one answer with rdata `in`. */
static void
rdata_msg(uint16_t type, const void *in, uint16_t in_len)
{
	mb_start(PX_DNS_AA, 0, "Example.test", type);
	mb_rr(AN, NULL, type, 300, in, in_len);
}

/* Every type with names in its rdata is read whole by the classifier and copied with its names
 * expanded, case kept; opaque types are copied as they came. */
START_TEST(test_rdata_decompressed)
{
	for (unsigned i = 0; i < sizeof(rdata_cases) / sizeof(rdata_cases[0]); i++) {
		const struct rdata_case *t = &rdata_cases[i];
		uint8_t out[1024];
		int n;

		rdata_msg(t->type, t->in, t->in_len);
		ck_assert_msg(classify("example.test", t->type, "example.test") == PX_REPLY_ANSWER,
			      "%s: %s", t->what, px_reply_bad_name(r.bad));
		ck_assert_uint_eq(r.answer_count, 1);
		ck_assert_int_eq(px_rdata_check(m.buf, m.len, t->type, r.answer[0].rdata_off,
						r.answer[0].rdlen), PX_RDATA_OK);
		n = px_rdata_copy(out, sizeof(out), m.buf, m.len, t->type, r.answer[0].rdata_off,
				  r.answer[0].rdlen);
		ck_assert_msg(n == t->out_len, "%s: %d bytes, want %u", t->what, n, t->out_len);
		ck_assert_msg(memcmp(out, t->out, t->out_len) == 0, "%s: other bytes", t->what);
		/* One byte short of room is refused, not overrun. */
		if (t->out_len > 0)
			ck_assert_int_eq(px_rdata_copy(out, t->out_len - 1u, m.buf, m.len, t->type,
						       r.answer[0].rdata_off, r.answer[0].rdlen), -1);
	}
}
END_TEST

/* A record that does not fill its type's layout exactly makes the reply malformed. */
START_TEST(test_rdata_shape_checked)
{
	static const struct {
		const char *what;
		uint16_t type;
		const char *rd;
		uint16_t len;
		enum px_reply_bad bad;
	} bad[] = {
		{"MX without a name", PX_DNS_TYPE_MX, "\x00\x0a", 2, PX_REPLY_BAD_RDATA},
		{"MX one byte", PX_DNS_TYPE_MX, "\x00", 1, PX_REPLY_BAD_RDATA},
		{"MX a byte over", PX_DNS_TYPE_MX, "\x00\x0a" P "\x00", 5, PX_REPLY_BAD_RDATA},
		{"SRV short", 33, "\x00\x0a\x00\x05\x13", 5, PX_REPLY_BAD_RDATA},
		{"SRV forward pointer", 33, "\x00\x0a\x00\x05\x13\xc4\xc0\x40", 8,
		 PX_REPLY_BAD_NAME},
		{"SRV label type 0x40", 33, "\x00\x0a\x00\x05\x13\xc4\x41\x00", 8, PX_REPLY_BAD_NAME},
		{"NAPTR string past the end", 35, "\x00\x64\x00\x0a\x01U\x09" "E2U", 10,
		 PX_REPLY_BAD_RDATA},
		{"NAPTR without a replacement", 35, "\x00\x64\x00\x0a\x01U\x00\x00", 8,
		 PX_REPLY_BAD_RDATA},
		{"SOA 19 bytes of numbers", PX_DNS_TYPE_SOA, P P "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0",
		 23, PX_REPLY_BAD_RDATA},
		{"RP one name", 17, P, 2, PX_REPLY_BAD_RDATA},
		{"PX one name", 26, "\x00\x0a" P, 4, PX_REPLY_BAD_RDATA},
		{"RRSIG short", 46, "\x00\x01\x08\x02\x00", 5, PX_REPLY_BAD_RDATA},
		{"AFSDB empty", 18, "", 0, PX_REPLY_BAD_RDATA},
		{"DNAME two names", 39, P P, 4, PX_REPLY_BAD_RDATA},
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rdata_msg(bad[i].type, bad[i].rd, bad[i].len);
		ck_assert_msg(classify("example.test", bad[i].type, "example.test") ==
			      PX_REPLY_MALFORMED, "%s: accepted", bad[i].what);
		ck_assert_msg(r.bad == bad[i].bad, "%s: %s", bad[i].what, px_reply_bad_name(r.bad));
	}
	/* A name that runs past its rdata into the next record. */
	mb_start(PX_DNS_AA, 0, "Example.test", 33);
	mb_rr(AN, NULL, 33, 300, "\x00\x0a\x00\x05\x13\xc4\x03sip", 10);
	mb_rr(AN, NULL, PX_DNS_TYPE_TXT, 300, "\0", 1);
	ck_assert_int_eq(classify("example.test", 33, "example.test"), PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_RDATA);
	/* The layout holds in every section, not only where the answer is read. */
	mb_start(PX_DNS_AA, 0, "Example.test", PX_DNS_TYPE_A);
	mb_a(AN, NULL, "192.0.2.1");
	mb_rr(AR, NULL, PX_DNS_TYPE_MX, 300, "\x00\x0a", 2);
	ck_assert_int_eq(classify("example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_RDATA);
}
END_TEST
#undef E
#undef P
#undef T
#undef SIG18

START_TEST(test_classify_any_and_root_bailiwick)
{
	/* The root servers as bailiwick: everything is inside it. */
	mb_start(0, 0, "www.example.test", PX_DNS_TYPE_A);
	mb_target(NS, "test", PX_DNS_TYPE_NS, 172800, "a.nic.test");
	mb_a(AR, "a.nic.test", "192.0.2.10");
	mb_a(AR, "a.root-servers.net", "198.41.0.4");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "."), PX_REPLY_REFERRAL);
	assert_name(r.zone, r.zone_len, "test");
	ck_assert_uint_eq(r.ns[0].addr_count, 1);
	ck_assert_uint_eq(r.counts.ignored[AR], 1);
	/* ANY takes every type at the name. */
	mb_start(PX_DNS_AA, 0, "www.example.test", PX_DNS_TYPE_ANY);
	mb_a(AN, "www.example.test", "192.0.2.1");
	mb_rr(AN, "www.example.test", PX_DNS_TYPE_TXT, 300, "\3abc", 4);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_ANY, "example.test"),
			 PX_REPLY_ANSWER);
	ck_assert_uint_eq(r.answer_count, 2);
}
END_TEST

START_TEST(test_name_in)
{
	uint8_t a[PX_DNS_NAME_BUF], b[PX_DNS_NAME_BUF];
	unsigned al, bl;

	al = px_test_name(a, "www.example.test");
	bl = px_test_name(b, "example.test");
	ck_assert(px_reply_name_in(a, al, b, bl));
	ck_assert(!px_reply_name_in(b, bl, a, al));
	ck_assert(px_reply_name_in(a, al, a, al));
	bl = px_test_name(b, "ample.test"); /* a suffix, but not on a label boundary */
	ck_assert(!px_reply_name_in(a, al, b, bl));
	bl = px_test_name(b, ".");
	ck_assert(px_reply_name_in(a, al, b, bl));
	ck_assert(px_reply_name_in(b, bl, b, bl));
	ck_assert(!px_reply_name_in(b, bl, a, al));
	bl = px_test_name(b, "test");
	b[1] = 'T'; /* names are compared as given: the caller lower-cases */
	ck_assert(!px_reply_name_in(a, al, b, bl));
	ck_assert(!px_reply_name_in(a, al, b, 0));
}
END_TEST

START_TEST(test_classify_mutations)
{
	/* Every single-byte change of a referral: classified without reading out of bounds. */
	static uint8_t orig[sizeof(m.buf)];
	uint16_t len;

	mb_referral();
	len = m.len;
	memcpy(orig, m.buf, len);
	for (uint16_t i = 0; i < len; i++) {
		for (unsigned v = 0; v < 256; v += 17) {
			memcpy(m.buf, orig, len);
			m.buf[i] = (uint8_t)v;
			enum px_reply_class c = classify("www.example.test", PX_DNS_TYPE_A, "test");

			ck_assert_int_lt(c, PX_REPLY_CLASS_COUNT);
			ck_assert_uint_le(r.ns_count, PX_REPLY_MAX_NS);
		}
	}
}
END_TEST

static Suite *
reply_suite(void)
{
	Suite *s = suite_create("reply");
	TCase *tc = tcase_create("answer");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_classify_answer_plain);
	tcase_add_test(tc, test_classify_answer_cname_chain_in_bailiwick);
	tcase_add_test(tc, test_classify_cname_leaves_bailiwick);
	tcase_add_test(tc, test_classify_cname_target_without_data);
	tcase_add_test(tc, test_classify_cname_question_answered_by_cname);
	tcase_add_test(tc, test_classify_cname_limit_and_loop);
	tcase_add_test(tc, test_classify_answer_limit);
	tcase_add_test(tc, test_classify_any_and_root_bailiwick);
	tcase_add_test(tc, test_classify_ttl_high_bit);
	tcase_add_test(tc, test_rdata_decompressed);
	suite_add_tcase(s, tc);

	tc = tcase_create("referral");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_classify_referral_in_bailiwick_glue);
	tcase_add_test(tc, test_classify_referral_out_of_bailiwick_glue);
	tcase_add_test(tc, test_classify_referral_glue_zero_then_good);
	tcase_add_test(tc, test_classify_referral_all_glue_invalid);
	tcase_add_test(tc, test_classify_referral_unrelated_additional);
	tcase_add_test(tc, test_classify_referral_limits);
	tcase_add_test(tc, test_classify_cname_then_referral);
	tcase_add_test(tc, test_classify_compressed_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("scrub");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_classify_poisoning_attempt);
	tcase_add_test(tc, test_classify_soa_outside_bailiwick_ignored);
	tcase_add_test(tc, test_name_in);
	suite_add_tcase(s, tc);

	tc = tcase_create("negative");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_classify_nxdomain_with_soa);
	tcase_add_test(tc, test_classify_nodata_with_soa);
	tcase_add_test(tc, test_classify_wrong_type);
	tcase_add_test(tc, test_classify_cname_then_nxdomain);
	suite_add_tcase(s, tc);

	tc = tcase_create("failure");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_classify_lame_upward_referral);
	tcase_add_test(tc, test_classify_lame_sideways_and_empty);
	tcase_add_test(tc, test_classify_rcodes);
	tcase_add_test(tc, test_classify_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_classify_question_mismatch);
	tcase_add_test(tc, test_classify_header_errors);
	tcase_add_test(tc, test_classify_compression_loop);
	tcase_add_test(tc, test_classify_counts_lie);
	tcase_add_test(tc, test_classify_bad_rdata_and_opt);
	tcase_add_test(tc, test_rdata_shape_checked);
	tcase_add_test(tc, test_classify_mutations);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(reply_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
