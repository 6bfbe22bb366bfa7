/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bounded work per reply: the record limit of the classifier's index, a crafted worst-case reply
 * (long names behind pointer ladders, a full CNAME chain, a delegation with glueless names, noise
 * in every section, names spelt in new bytes and in other case) classified exactly, the same
 * result under any key of the index's hash, and owner names that all share one slot of the
 * index's table. Pure: no EAL.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/addr_policy.h>
#include <pollux/siphash.h>
#include <pollux/wire.h>

#include <pollux/reply.h>
#include "testlib.h"

#define AN PX_REPLY_SEC_ANSWER
#define AU PX_REPLY_SEC_AUTHORITY
#define AD PX_REPLY_SEC_ADDITIONAL

static struct px_test_msg m;
static struct px_reply r;
static struct px_addr_policy policy;
static uint8_t qname_wire[PX_DNS_NAME_BUF], zone_wire[PX_DNS_NAME_BUF];
static struct px_reply_query q;

static enum px_reply_class
classify(const char *qname, uint16_t qtype, const char *zone)
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
	return px_reply_classify(&r, m.buf, m.len, &q);
}

static void
assert_name(const uint8_t *got, unsigned got_len, const char *want)
{
	uint8_t w[PX_DNS_NAME_BUF];
	unsigned n = px_test_name(w, want);

	ck_assert_uint_eq(got_len, n);
	for (unsigned i = 0; i < n; i++)
		w[i] = px_lower(w[i]);
	ck_assert_mem_eq(got, w, n);
}

/* Raw bytes, for names spelt with pointers that the testlib builder does not make. */
static uint16_t
raw(const void *p, unsigned n)
{
	uint16_t at = m.len;

	ck_assert_uint_le((unsigned)m.len + n, sizeof(m.buf));
	memcpy(m.buf + m.len, p, n);
	m.len = (uint16_t)(m.len + n);
	return at;
}

static void
raw_ptr(uint16_t off)
{
	uint8_t b[2] = {(uint8_t)(0xc0 | off >> 8), (uint8_t)off};

	raw(b, 2);
}

static uint16_t
raw_label(const char *label)
{
	uint8_t b[64] = {(uint8_t)strlen(label)};

	memcpy(b + 1, label, b[0]);
	return raw(b, 1u + b[0]);
}

/* The fixed fields of a record whose owner was just written raw; counts it in section sec.
 * Returns the offset of its RDLENGTH. */
static uint16_t
raw_fixed(int sec, uint16_t type, uint16_t rdlen)
{
	uint8_t f[10];

	ck_assert_int_ge(sec, m.sec);
	m.sec = sec;
	px_put16(m.buf + 6 + 2 * sec, (uint16_t)(px_get16(m.buf + 6 + 2 * sec) + 1));
	px_put16(f, type);
	px_put16(f + 2, PX_DNS_CLASS_IN);
	px_put32(f + 4, 300);
	px_put16(f + 8, rdlen);
	return (uint16_t)(raw(f, 10) + 8);
}

/* A reply with `count` records: one A record for the question, then empty NULL records owned
 * by it (12 bytes each, the smallest a record with a compressed owner can be). */
static void
build_many(unsigned count)
{
	px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_AA, "www.example.test", PX_DNS_TYPE_A);
	px_test_msg_addr(&m, AN, NULL, "192.0.2.1");
	for (unsigned i = 1; i < count; i++)
		px_test_msg_rr(&m, AN, NULL, 10, 300, "", 0);
}

/* As many records as the index holds: classified like any reply. */
START_TEST(test_index_full_reply_classified)
{
	build_many(PX_REPLY_MAX_RRS);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_ANSWER);
	ck_assert_uint_eq(r.answer_count, 1);
	ck_assert_uint_eq(r.counts.type_mismatch, PX_REPLY_MAX_RRS - 1);
}
END_TEST

/* One more than the index holds: refused whole and named, nothing in it reported. */
START_TEST(test_index_too_many_rrs_refused)
{
	build_many(PX_REPLY_MAX_RRS + 1);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_TOO_MANY_RRS);
	ck_assert_str_eq(px_reply_bad_name(r.bad), "too_many_rrs");
	ck_assert_uint_eq(r.answer_count, 0);
	ck_assert_uint_eq(r.cname_count, 0);
	ck_assert_uint_eq(r.ns_count, 0);
	ck_assert_uint_eq(r.counts.ignored[AN], 0);
	/* The limit is on all sections together, and on what the header claims: a count that
	 * promises more is refused before a record is read. */
	build_many(PX_REPLY_MAX_RRS - 1);
	px_test_msg_opt(&m, 0);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_ANSWER);
	px_test_msg_addr(&m, AD, "ns.example.test", "192.0.2.53");
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_TOO_MANY_RRS);
	px_test_msg_start(&m, 1, PX_DNS_QR, "www.example.test", PX_DNS_TYPE_A);
	px_put16(m.buf + 10, PX_REPLY_MAX_RRS + 1);
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_MALFORMED);
	ck_assert_int_eq(r.bad, PX_REPLY_BAD_TOO_MANY_RRS);
}
END_TEST

#define L1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define QNAME "www." L1 "." L2 ".evil.test"
#define RUNGS 10

/* Where the crafted reply put things, for the assertions. */
static struct {
	uint16_t rung[RUNGS], decoy[RUNGS], l2_off, link_off[8], ns1_rdata;
} at;

/* A ladder of one-letter labels over the name at base, as raw rdata bytes. */
static void
ladder(uint16_t base, uint16_t *rung)
{
	for (int k = 0; k < RUNGS; k++) {
		rung[k] = raw_label("a");
		raw_ptr(k == 0 ? base : rung[k - 1]);
	}
}

/*
 * The worst case in small: every name long, behind pointers, spelt in new bytes or in upper
 * case where it repeats. The zone is evil.test; the chain runs from the question through eight
 * CNAME links to rung 7 of a ladder over it; the delegation is L2.evil.test (a suffix of every
 * chain name) with 13 NS names: ns1 inside it with glue in two spellings, ns2 to ns13 outside
 * it, ns2 with an address in the additional section that the bailiwick refuses.
 */
static void
build_worst(void)
{
	uint16_t decoy_base, rdlen_at;
	char name[64];

	px_test_msg_start(&m, 1, PX_DNS_QR, QNAME, PX_DNS_TYPE_A);
	at.l2_off = (uint16_t)(PX_DNS_HDR_LEN + 4 + 1 + strlen(L1));
	/* The answer section's first record holds the ladders in its rdata: one over the question,
	 * one over the same name under evil.tesu (outside the zone, as long, different at its
	 * end). */
	raw_ptr(PX_DNS_HDR_LEN);
	rdlen_at = raw_fixed(AN, 10, 0);
	ladder(PX_DNS_HDR_LEN, at.rung);
	decoy_base = m.len;
	m.len = (uint16_t)(m.len + px_test_name(m.buf + m.len, "www." L1 "." L2 ".evil.tesu"));
	ladder(decoy_base, at.decoy);
	px_put16(m.buf + rdlen_at, (uint16_t)(m.len - rdlen_at - 2));
	/* The chain. Link i's owner is rung i - 1: a pointer to it, or (even i) an upper-case
	 * label and a pointer to the rung below it. */
	for (int i = 0; i < 8; i++) {
		at.link_off[i] = m.len;
		if (i == 0) {
			raw_ptr(PX_DNS_HDR_LEN);
		} else if (i % 2 == 1) {
			raw_ptr(at.rung[i - 1]);
		} else {
			raw_label("A");
			raw_ptr(at.rung[i - 2]);
		}
		raw_fixed(AN, PX_DNS_TYPE_CNAME, 2);
		raw_ptr(at.rung[i]);
	}
	/* Noise: addresses for a name outside the zone (as long as rung 7, different at its end);
	 * TXT records at rung 3, which is in the chain but has no data of the type asked. */
	for (int i = 0; i < 5; i++) {
		raw_ptr(at.decoy[7]);
		raw_fixed(AN, PX_DNS_TYPE_A, 4);
		raw("\xc0\x00\x02\x63", 4);
		raw_label("A");
		raw_ptr(at.rung[2]);
		raw_fixed(AN, PX_DNS_TYPE_TXT, 0);
	}
	/* The delegation: ns1 inside it, then a duplicate of ns1 spelt out in upper case, then
	 * twelve names outside it. */
	raw_ptr(at.l2_off);
	raw_fixed(AU, PX_DNS_TYPE_NS, 6);
	at.ns1_rdata = raw_label("ns1");
	raw_ptr(at.l2_off);
	raw_ptr(at.l2_off);
	rdlen_at = raw_fixed(AU, PX_DNS_TYPE_NS, 0);
	m.len = (uint16_t)(m.len + px_test_name(m.buf + m.len, "NS1." L2 ".EVIL.TEST"));
	px_put16(m.buf + rdlen_at, (uint16_t)(m.len - rdlen_at - 2));
	for (int i = 2; i <= 13; i++) {
		snprintf(name, sizeof(name), "ns%d.other.example", i);
		raw_ptr(at.l2_off);
		rdlen_at = raw_fixed(AU, PX_DNS_TYPE_NS, 0);
		m.len = (uint16_t)(m.len + px_test_name(m.buf + m.len, name));
		px_put16(m.buf + rdlen_at, (uint16_t)(m.len - rdlen_at - 2));
	}
	/* Sideways (outside the zone), upward (the zone itself) and an SOA that is in the zone
	 * but not above sname. */
	px_test_msg_target(&m, AU, "other.example", PX_DNS_TYPE_NS, 300, "x.other.example");
	px_test_msg_target(&m, AU, "evil.test", PX_DNS_TYPE_NS, 300, "ns.evil.test");
	px_test_msg_soa(&m, AU, "wwx.evil.test", 300, 300);
	/* Glue for ns1 in upper case and through the NS record's own rdata; an address for ns2
	 * outside the bailiwick; an address nobody asked for; EDNS. */
	px_test_msg_addr(&m, AD, "NS1." L2 ".EVIL.TEST", "198.18.9.1");
	raw_ptr(at.ns1_rdata);
	raw_fixed(AD, PX_DNS_TYPE_AAAA, 16);
	raw("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	px_test_msg_addr(&m, AD, "ns2.other.example", "198.18.9.2");
	px_test_msg_addr(&m, AD, "nsx.evil.test", "198.18.9.3");
	px_test_msg_opt(&m, 0);
}

static void
assert_worst(void)
{
	char name[320];

	ck_assert_int_eq(classify(QNAME, PX_DNS_TYPE_A, "evil.test"), PX_REPLY_REFERRAL);
	ck_assert_uint_eq(r.cname_count, 8);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(r.cname[i].off, at.link_off[i]);
	ck_assert(!r.cname_limit);
	snprintf(name, sizeof(name), "a.a.a.a.a.a.a.a.%s", QNAME);
	assert_name(r.sname, r.sname_len, name);
	assert_name(r.zone, r.zone_len, L2 ".evil.test");
	ck_assert_uint_eq(r.ns_count, 13);
	assert_name(r.ns[0].name, r.ns[0].name_len, "ns1." L2 ".evil.test");
	ck_assert_uint_eq(r.ns[0].addr_count, 2);
	ck_assert_uint_eq(r.ns[0].addr[0].family, 4);
	ck_assert_uint_eq(r.ns[0].addr[1].family, 6);
	ck_assert(r.ns[0].glue_seen);
	assert_name(r.ns[1].name, r.ns[1].name_len, "ns2.other.example");
	ck_assert_uint_eq(r.ns[1].addr_count, 0);
	/* Its glue is out of the bailiwick: not seen, the name is as good as glueless. */
	ck_assert(!r.ns[1].glue_seen);
	for (int i = 2; i < 13; i++) {
		snprintf(name, sizeof(name), "ns%d.other.example", i + 1);
		assert_name(r.ns[i].name, r.ns[i].name_len, name);
		ck_assert_uint_eq(r.ns[i].addr_count, 0);
		ck_assert(!r.ns[i].glue_seen);
	}
	/* Every record not reported is counted once. */
	ck_assert_uint_eq(r.counts.out_of_bailiwick[AN], 5);
	ck_assert_uint_eq(r.counts.ignored[AN], 1 + 5);
	ck_assert_uint_eq(r.counts.out_of_bailiwick[AU], 1);
	ck_assert_uint_eq(r.counts.ns_ignored, 1 + 1);
	ck_assert_uint_eq(r.counts.ignored[AU], 1);
	ck_assert_uint_eq(r.counts.out_of_bailiwick[AD], 1);
	ck_assert_uint_eq(r.counts.ignored[AD], 1);
	ck_assert_uint_eq(r.counts.ns_dropped, 0);
	ck_assert_uint_eq(r.counts.addr_dropped, 0);
}

START_TEST(test_index_worst_case_classified)
{
	build_worst();
	assert_worst();
	/* The same message under another key of the index's hash: the same result. */
	const struct px_siphash_key k = {0x0123456789abcdefull, 0x0f1e2d3c4b5a6978ull};

	px_reply_set_key(&r, &k);
	assert_worst();
}
END_TEST

static void
upper(char *dst, const char *src)
{
	do
		*dst++ = (char)(*src >= 'a' && *src <= 'z' ? *src - 32 : *src);
	while (*src++ != 0);
}

/*
 * Owner names that all start their probe at one slot of the index's table (found under the
 * all-zero key, as an attacker who knew the key would find them), each twice in two spellings:
 * every record is still filed under the right name.
 */
START_TEST(test_index_one_slot_for_every_name)
{
	const struct px_siphash_key zero = {0, 0};
	char names[48][40], up[40];
	/* 97 records: the table has 256 slots (the smallest power of two for twice as many). */
	const uint64_t mask = 255;
	uint64_t want = 0;
	unsigned n = 0;

	for (unsigned i = 0; n < 48 && i < 1000000; i++) {
		uint8_t w[PX_DNS_NAME_BUF];
		unsigned len;
		uint64_t h;

		snprintf(names[n], sizeof(names[n]), "h%u.example.test", i);
		len = px_test_name(w, names[n]);
		h = px_siphash13(&zero, w, len) & mask;
		if (n == 0)
			want = h;
		if (h == want)
			n++;
	}
	ck_assert_uint_eq(n, 48);
	px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_AA, "www.example.test", PX_DNS_TYPE_A);
	for (unsigned i = 0; i < 48; i++)
		px_test_msg_rr(&m, AN, names[i], PX_DNS_TYPE_TXT, 300, "", 0);
	px_test_msg_addr(&m, AN, NULL, "192.0.2.1");
	for (unsigned i = 0; i < 48; i++) {
		upper(up, names[i]);
		px_test_msg_rr(&m, AN, up, PX_DNS_TYPE_A, 300, "\xc0\x00\x02\x09", 4);
	}
	ck_assert_int_eq(classify("www.example.test", PX_DNS_TYPE_A, "example.test"),
			 PX_REPLY_ANSWER);
	ck_assert_uint_eq(r.answer_count, 1);
	ck_assert_uint_eq(r.counts.ignored[AN], 96);
	/* Asked for one of them, its A record in the other spelling is the answer. */
	px_test_msg_start(&m, 1, PX_DNS_QR | PX_DNS_AA, names[17], PX_DNS_TYPE_A);
	for (unsigned i = 0; i < 48; i++)
		px_test_msg_rr(&m, AN, names[i], PX_DNS_TYPE_TXT, 300, "", 0);
	upper(up, names[17]);
	px_test_msg_addr(&m, AN, up, "192.0.2.1");
	ck_assert_int_eq(classify(names[17], PX_DNS_TYPE_A, "example.test"), PX_REPLY_ANSWER);
	ck_assert_uint_eq(r.answer_count, 1);
	ck_assert_uint_eq(r.counts.ignored[AN], 47);
	ck_assert_uint_eq(r.counts.type_mismatch, 1); /* its own TXT record */
}
END_TEST

static void
setup(void)
{
	static const struct px_siphash_key zero;

	px_addr_policy_init(&policy);
	px_reply_set_key(&r, &zero);
}

static Suite *
reply_index_suite(void)
{
	Suite *s = suite_create("reply_index");
	TCase *tc = tcase_create("limit");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_index_full_reply_classified);
	tcase_add_test(tc, test_index_too_many_rrs_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("worst");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_index_worst_case_classified);
	tcase_add_test(tc, test_index_one_slot_for_every_name);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(reply_index_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
