/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Priming replies held to the hints-file rules by the worker's pure code (pollux/prime.h): the
 * reply is classified as the resolver classifies it (pollux/reply.h, ". NS IN" at the root), then
 * px_prime_check() applies the rules: good, a rejected address, too few servers, garbage,
 * header faults, stray, duplicate and missing records, and a scratch table reused across
 * replies. Pure code: no EAL.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/addr_policy.h>
#include <pollux/wire.h>

#include <pollux/hints.h>
#include <pollux/prime.h>
#include <pollux/reply.h>
#include "testlib.h"

static struct px_reply reply; /* 80 KiB: not on the stack */
static uint64_t hints_mem[(sizeof(struct px_hints) + PX_HINTS_MAX_NS *
			   sizeof(struct px_hints_ns)) / 8 + 1];
static struct px_hints *const h = (struct px_hints *)hints_mem;

/* A priming reply: ". NS" from a root server, with flags, n servers a.root.test ... and their
 * addresses addr[i] in the additional section. */
static void
prime_reply(struct px_test_msg *m, uint16_t flags, unsigned n, const char *const *addr,
	    uint32_t ttl)
{
	char name[32];

	px_test_msg_start(m, 0x1234, flags, ".", PX_DNS_TYPE_NS);
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%c.root.test", 'a' + i);
		px_test_msg_target(m, 0, ".", PX_DNS_TYPE_NS, ttl, name);
	}
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%c.root.test", 'a' + i);
		px_test_msg_addr(m, 2, name, addr[i]);
	}
	px_test_msg_opt(m, 0);
}

static const char *const good_addrs[] = {"198.18.1.1", "198.18.1.2", "2001:db8::1"};

/* Classifies msg as the priming worker does, then checks it. */
static enum px_prime_verdict
check_raw(const uint8_t *msg, uint16_t len, unsigned min_usable, struct px_prime_report *rep)
{
	static const uint8_t root = 0;
	struct px_addr_policy pol;

	px_addr_policy_init(&pol);
	const struct px_reply_query q = {
		.qname = &root, .qname_len = 1, .zone = &root, .zone_len = 1,
		.qtype = PX_DNS_TYPE_NS, .qclass = PX_DNS_CLASS_IN, .policy = &pol,
	};

	px_reply_classify(&reply, msg, len, &q);
	return px_prime_check(&reply, msg, len, &pol, min_usable, h, rep);
}

static enum px_prime_verdict
check(const struct px_test_msg *m, unsigned min_usable, struct px_prime_report *rep)
{
	return check_raw(m->buf, m->len, min_usable, rep);
}

START_TEST(test_px_prime_check_good)
{
	struct px_test_msg m;
	struct px_prime_report rep;

	prime_reply(&m, PX_DNS_QR | PX_DNS_AA, 3, good_addrs, 518400);
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_OK);
	ck_assert_uint_eq(h->ns_count, 3);
	ck_assert_uint_eq(h->ttl, 518400);
	ck_assert_uint_eq(h->ns[0].v4_count, 1);
	ck_assert_uint_eq(px_addr_v4(&h->ns[0].addr[0]), htonl(0xc6120101));
	ck_assert_uint_eq(h->ns[2].v6_count, 1);
	ck_assert_uint_eq(h->checksum, px_hints_checksum(h));
	ck_assert_uint_eq(rep.ns_count, 3);
	ck_assert_uint_eq(rep.addr_rejected, 0);
}
END_TEST

START_TEST(test_px_prime_check_bad_address)
{
	static const char *const addrs[] = {"198.18.1.1", "127.0.0.1", "2001:db8::1"};
	struct px_test_msg m;
	struct px_prime_report rep;

	prime_reply(&m, PX_DNS_QR | PX_DNS_AA, 3, addrs, 518400);
	/* The loopback address is left out and counted; two servers remain. */
	ck_assert_int_eq(check(&m, 2, &rep), PX_PRIME_OK);
	ck_assert_uint_eq(h->ns_count, 2);
	ck_assert_uint_eq(rep.addr_rejected, 1);
	ck_assert_uint_eq(rep.rejected[PX_ADDR_LOOPBACK], 1);
	for (unsigned i = 0; i < h->ns_count; i++)
		for (unsigned k = 0; k < h->ns[i].v4_count; k++)
			ck_assert_uint_ne(px_addr_v4(&h->ns[i].addr[k]), htonl(0x7f000001));
}
END_TEST

START_TEST(test_px_prime_check_too_few_servers)
{
	static const char *const addrs[] = {"198.18.1.1", "127.0.0.1", "0.0.0.0"};
	struct px_test_msg m;
	struct px_prime_report rep;

	prime_reply(&m, PX_DNS_QR | PX_DNS_AA, 3, addrs, 518400);
	ck_assert_int_eq(check(&m, 2, &rep), PX_PRIME_BAD_TOO_FEW);
	ck_assert_uint_eq(rep.addr_rejected, 2);
	ck_assert_uint_eq(rep.ns_usable, 1);
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_OK);
}
END_TEST

/* The scratch table is reused: what a good reply left there must not make a bad one pass. */
START_TEST(test_px_prime_check_scratch_reused)
{
	static const char *const bad[] = {"127.0.0.1"};
	struct px_test_msg m;
	struct px_prime_report rep;

	prime_reply(&m, PX_DNS_QR | PX_DNS_AA, 1, good_addrs, 518400);
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_OK);
	prime_reply(&m, PX_DNS_QR | PX_DNS_AA, 1, bad, 518400);
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_TOO_FEW);
	ck_assert_uint_eq(h->ns_count, 0);
}
END_TEST

START_TEST(test_px_prime_check_garbage)
{
	struct px_test_msg m;
	struct px_prime_report rep;
	uint8_t junk[300];

	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	ck_assert_int_eq(check_raw(junk, 5, 1, &rep), PX_PRIME_BAD_CLASS);
	ck_assert_int_eq(check_raw(junk, sizeof(junk), 1, &rep), PX_PRIME_BAD_CLASS);
	/* A good reply cut short. */
	prime_reply(&m, PX_DNS_QR | PX_DNS_AA, 3, good_addrs, 518400);
	ck_assert_int_eq(check_raw(m.buf, (uint16_t)(m.len - 7), 1, &rep), PX_PRIME_BAD_CLASS);
}
END_TEST

START_TEST(test_px_prime_check_header)
{
	struct px_test_msg m;
	struct px_prime_report rep;

	prime_reply(&m, PX_DNS_QR, 3, good_addrs, 518400);
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_NOT_AA);
	prime_reply(&m, PX_DNS_QR | PX_DNS_AA | PX_DNS_TC, 3, good_addrs, 518400);
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_CLASS);
	prime_reply(&m, PX_DNS_QR | PX_DNS_AA | PX_DNS_RCODE_SERVFAIL, 3, good_addrs, 518400);
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_CLASS);
	/* The question must be ". NS". */
	px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_AA, "test", PX_DNS_TYPE_NS);
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_CLASS);
	/* No NS at the root: no answer. */
	px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_AA, ".", PX_DNS_TYPE_NS);
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_CLASS);
	/* NS TTL 0: nothing to cache. */
	prime_reply(&m, PX_DNS_QR | PX_DNS_AA, 3, good_addrs, 0);
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_TTL);
}
END_TEST

START_TEST(test_px_prime_check_records)
{
	struct px_test_msg m;
	struct px_prime_report rep;

	/* NS records elsewhere than the answer are left out. */
	prime_reply(&m, PX_DNS_QR | PX_DNS_AA, 3, good_addrs, 518400);
	px_test_msg_target(&m, 2, "x.test", PX_DNS_TYPE_NS, 60, "y.test");
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_OK);
	/* An NS not owned by the root is no answer to ". NS". */
	px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_AA, ".", PX_DNS_TYPE_NS);
	px_test_msg_target(&m, 0, "test", PX_DNS_TYPE_NS, 60, "a.root.test");
	px_test_msg_addr(&m, 2, "a.root.test", "198.18.1.1");
	ck_assert_int_ne(check(&m, 1, &rep), PX_PRIME_OK);
	/* An address for a name no root NS names. */
	px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_AA, ".", PX_DNS_TYPE_NS);
	px_test_msg_target(&m, 0, ".", PX_DNS_TYPE_NS, 60, "a.root.test");
	px_test_msg_addr(&m, 2, "a.root.test", "198.18.1.1");
	px_test_msg_addr(&m, 2, "evil.test", "198.18.9.9");
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_STRAY_ADDR);
	/* An NS without an address. */
	px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_AA, ".", PX_DNS_TYPE_NS);
	px_test_msg_target(&m, 0, ".", PX_DNS_TYPE_NS, 60, "a.root.test");
	px_test_msg_target(&m, 0, ".", PX_DNS_TYPE_NS, 60, "b.root.test");
	px_test_msg_addr(&m, 2, "a.root.test", "198.18.1.1");
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_NO_ADDR);
	/* Anything but NS in the answer: here an address record for the root itself. */
	px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_AA, ".", PX_DNS_TYPE_NS);
	px_test_msg_target(&m, 0, ".", PX_DNS_TYPE_NS, 60, "a.root.test");
	px_test_msg_addr(&m, 0, ".", "198.18.1.9");
	px_test_msg_addr(&m, 2, "a.root.test", "198.18.1.1");
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_ANSWER);
	/* The same server twice. */
	px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_AA, ".", PX_DNS_TYPE_NS);
	px_test_msg_target(&m, 0, ".", PX_DNS_TYPE_NS, 60, "a.root.test");
	px_test_msg_target(&m, 0, ".", PX_DNS_TYPE_NS, 60, "A.Root.Test");
	px_test_msg_addr(&m, 2, "a.root.test", "198.18.1.1");
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_DUPLICATE);
	/* More addresses of a family for one server than a hints table holds. */
	px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_AA, ".", PX_DNS_TYPE_NS);
	px_test_msg_target(&m, 0, ".", PX_DNS_TYPE_NS, 60, "a.root.test");
	for (unsigned i = 0; i <= PX_HINTS_MAX_ADDRS; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.18.1.%u", i + 1);
		px_test_msg_addr(&m, 2, "a.root.test", a);
	}
	ck_assert_int_eq(check(&m, 1, &rep), PX_PRIME_BAD_TOO_MANY_ADDRS);
}
END_TEST

static Suite *
prime_suite(void)
{
	Suite *s = suite_create("prime");
	TCase *tc = tcase_create("check");

	tcase_add_test(tc, test_px_prime_check_good);
	tcase_add_test(tc, test_px_prime_check_bad_address);
	tcase_add_test(tc, test_px_prime_check_too_few_servers);
	tcase_add_test(tc, test_px_prime_check_scratch_reused);
	tcase_add_test(tc, test_px_prime_check_garbage);
	tcase_add_test(tc, test_px_prime_check_header);
	tcase_add_test(tc, test_px_prime_check_records);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(prime_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
