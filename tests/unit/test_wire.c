/* SPDX-License-Identifier: BSD-3-Clause */
/* The DNS wire reader and writer, with the bad-input corpus. Pure: no EAL. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/wire.h>

#include "testlib.h"

static uint8_t msg[4096];
static struct dp_query q;

static uint16_t
std_query(const char *name, bool edns)
{
	const struct px_test_query tq = {
		.id = 0xbeef, .flags = PX_DNS_RD, .name = name, .qtype = PX_DNS_TYPE_A,
		.qclass = PX_DNS_CLASS_IN, .edns = edns, .edns_bufsize = 4096,
	};

	return px_test_query(msg, &tq);
}

START_TEST(test_parse_query_plain)
{
	uint16_t len = std_query("WwW.Example.TEST", false);

	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_OK);
	ck_assert_uint_eq(q.id, 0xbeef);
	ck_assert_uint_eq(q.qtype, PX_DNS_TYPE_A);
	ck_assert_uint_eq(q.qclass, PX_DNS_CLASS_IN);
	ck_assert_uint_eq(q.qname_len, 18);
	ck_assert_uint_eq(q.qname_labels, 3);
	ck_assert_mem_eq(q.qname_lc, "\3www\7example\4test", 18);
	ck_assert_uint_eq(q.question_end, len);
	ck_assert(!q.edns);
	ck_assert_uint_eq(px_wire_udp_limit(&q), 512);
}
END_TEST

START_TEST(test_parse_query_edns)
{
	uint16_t len = std_query("example.test", true);

	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_OK);
	ck_assert(q.edns);
	ck_assert_uint_eq(q.edns_bufsize, 4096);
	ck_assert_uint_eq(px_wire_udp_limit(&q), PX_DNS_EDNS_BUFSIZE);
	ck_assert_uint_eq(q.question_end, len - PX_DNS_OPT_LEN);
	/* A client advertising less than 512 still gets 512 (RFC 6891 6.2.5). */
	px_put16(msg + len - PX_DNS_OPT_LEN + 3, 100);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_OK);
	ck_assert_uint_eq(px_wire_udp_limit(&q), 512);
}
END_TEST

START_TEST(test_parse_query_root_name)
{
	uint16_t len = std_query(".", false);

	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_OK);
	ck_assert_uint_eq(q.qname_len, 1);
	ck_assert_uint_eq(q.qname_labels, 0);
}
END_TEST

START_TEST(test_parse_query_runt)
{
	uint16_t len = std_query("example.test", false);

	for (uint16_t l = 0; l < PX_DNS_HDR_LEN; l++)
		ck_assert_int_eq(px_wire_parse_query(&q, msg, l), PX_WIRE_DROP_RUNT);
	/* Every cut between the header and the end of the question is a count that lies. */
	for (uint16_t l = PX_DNS_HDR_LEN; l < len; l++)
		ck_assert_int_eq(px_wire_parse_query(&q, msg, l), PX_WIRE_FORMERR_COUNTS);
}
END_TEST

START_TEST(test_parse_query_response_dropped)
{
	uint16_t len = std_query("example.test", false);

	px_put16(msg + 2, PX_DNS_QR);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_DROP_RESPONSE);
}
END_TEST

START_TEST(test_parse_query_opcode_notimp)
{
	uint16_t len = std_query("example.test", false);

	for (unsigned op = 1; op < 16; op++) {
		px_put16(msg + 2, (uint16_t)(op << PX_DNS_OPCODE_SHIFT));
		ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_NOTIMP);
	}
}
END_TEST

START_TEST(test_parse_query_qdcount)
{
	uint16_t len = std_query("example.test", false);

	px_put16(msg + 4, 0);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_FORMERR_QDCOUNT);
	px_put16(msg + 4, 2);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_FORMERR_QDCOUNT);
	px_put16(msg + 4, 0xffff);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_FORMERR_QDCOUNT);
	ck_assert_uint_eq(q.question_end, 0);
}
END_TEST

START_TEST(test_parse_query_counts_lie)
{
	uint16_t len = std_query("example.test", false);

	/* Claims an additional record that is not there. */
	px_put16(msg + 10, 1);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_FORMERR_COUNTS);
	/* The question is still echoed in the FORMERR. */
	ck_assert_uint_eq(q.question_end, len);
	/* Claims fewer records than the data holds: trailing bytes. */
	px_put16(msg + 10, 0);
	msg[len] = 0xaa;
	ck_assert_int_eq(px_wire_parse_query(&q, msg, (uint16_t)(len + 1)), PX_WIRE_FORMERR_COUNTS);
	/* An OPT whose rdlength runs past the end. */
	len = std_query("example.test", true);
	px_put16(msg + len - 2, 10);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_FORMERR_COUNTS);
	ck_assert(!q.edns);
}
END_TEST

START_TEST(test_parse_query_answer_section)
{
	uint16_t len = std_query("example.test", false);

	/* One well-formed A record in the answer section of a query. */
	px_put16(msg + 6, 1);
	memcpy(msg + len, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04", 16);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, (uint16_t)(len + 16)),
			 PX_WIRE_FORMERR_SECTIONS);
	px_put16(msg + 6, 0);
	px_put16(msg + 8, 1);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, (uint16_t)(len + 16)),
			 PX_WIRE_FORMERR_SECTIONS);
}
END_TEST

START_TEST(test_parse_query_opt_misplaced)
{
	uint16_t len = std_query("example.test", true);

	/* Move the OPT from the additional to the answer section, then to authority. */
	px_put16(msg + 10, 0);
	px_put16(msg + 6, 1);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_FORMERR_OPT);
	px_put16(msg + 6, 0);
	px_put16(msg + 8, 1);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_FORMERR_OPT);
}
END_TEST

START_TEST(test_parse_query_opt_twice)
{
	uint16_t len = std_query("example.test", true);

	memcpy(msg + len, msg + len - PX_DNS_OPT_LEN, PX_DNS_OPT_LEN);
	px_put16(msg + 10, 2);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, (uint16_t)(len + PX_DNS_OPT_LEN)),
			 PX_WIRE_FORMERR_OPT);
	ck_assert(!q.edns);
}
END_TEST

START_TEST(test_parse_query_opt_owner)
{
	uint16_t len = std_query("example.test", false);

	/* OPT owned by the question name (via a pointer) instead of the root. */
	px_put16(msg + 10, 1);
	memcpy(msg + len, "\xc0\x0c\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", 12);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, (uint16_t)(len + 12)), PX_WIRE_FORMERR_OPT);
}
END_TEST

START_TEST(test_parse_query_opt_options)
{
	uint16_t len = std_query("example.test", false);

	px_put16(msg + 10, 1);
	/* A cookie option (10) of 8 bytes: well-formed. */
	memcpy(msg + len, "\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x0c"
			  "\x00\x0a\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08", 23);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, (uint16_t)(len + 23)), PX_WIRE_OK);
	ck_assert(q.edns);
	/* The option claims 9 bytes inside a 12-byte rdata: malformed. */
	msg[len + 14] = 9;
	ck_assert_int_eq(px_wire_parse_query(&q, msg, (uint16_t)(len + 23)), PX_WIRE_FORMERR_OPT);
}
END_TEST

START_TEST(test_parse_query_badvers)
{
	uint16_t len = std_query("example.test", true);

	msg[len - PX_DNS_OPT_LEN + 6] = 1; /* version 1 */
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_BADVERS);
	ck_assert(q.edns);
}
END_TEST

START_TEST(test_read_name_label_too_long)
{
	uint16_t len = std_query("example.test", false);

	/* 0x40 and 0x80 are not lengths but reserved label types. */
	msg[12] = 64;
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_FORMERR_NAME);
	msg[12] = 0x80;
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_FORMERR_NAME);
}
END_TEST

START_TEST(test_read_name_lengths)
{
	char name[300];
	uint16_t len;

	/* 63-byte labels are fine; four of them plus root is 257 bytes: too long. */
	memset(name, 'a', 63);
	name[63] = '\0';
	len = std_query(name, false);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_OK);
	ck_assert_uint_eq(q.qname_len, 65);

	/* Exactly 255: 3 x 63-byte labels + a 61-byte label + root = 192 + 62 + 1. */
	uint8_t *p = msg + 12;

	for (int i = 0; i < 3; i++) {
		*p++ = 63;
		memset(p, 'b', 63);
		p += 63;
	}
	*p++ = 61;
	memset(p, 'c', 61);
	p += 61;
	*p++ = 0;
	px_put16(p, 1);
	px_put16(p + 2, 1);
	p += 4;
	px_put16(msg + 10, 0);
	len = (uint16_t)(p - msg);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_OK);
	ck_assert_uint_eq(q.qname_len, 255);

	/* One more byte in the last label: 256. */
	msg[12 + 3 * 64] = 62;
	memmove(msg + 12 + 3 * 64 + 1 + 62, msg + 12 + 3 * 64 + 1 + 61, 5);
	msg[12 + 3 * 64 + 62] = 'c';
	ck_assert_int_eq(px_wire_parse_query(&q, msg, (uint16_t)(len + 1)), PX_WIRE_FORMERR_NAME);
}
END_TEST

START_TEST(test_read_name_pointer_rules)
{
	struct px_wire_rd rd;
	uint8_t out[PX_DNS_NAME_BUF];
	uint8_t b[64] = {0};

	/* The question name may not point anywhere: the only bytes before it are the header. */
	memcpy(b + 12, "\xc0\x0c", 2);
	px_wire_rd_init(&rd, b, 20);
	rd.pos = 12;
	ck_assert_uint_eq(px_wire_read_name(&rd, out, NULL), 0); /* to itself */
	memcpy(b + 12, "\xc0\x02", 2);
	px_wire_rd_init(&rd, b, 20);
	rd.pos = 12;
	ck_assert_uint_eq(px_wire_read_name(&rd, out, NULL), 0); /* into the header */
	memcpy(b + 12, "\xc0\x10\x00\x00\x01a\x00", 7);
	px_wire_rd_init(&rd, b, 20);
	rd.pos = 12;
	ck_assert_uint_eq(px_wire_read_name(&rd, out, NULL), 0); /* forwards */

	/* Backwards is fine and the cursor ends after the pointer. */
	memcpy(b + 12, "\x01X\x00\x01y\xc0\x0c", 7);
	px_wire_rd_init(&rd, b, 20);
	rd.pos = 15;
	ck_assert_uint_eq(px_wire_read_name(&rd, out, NULL), 5);
	ck_assert_mem_eq(out, "\1y\1x\0", 5);
	ck_assert_uint_eq(rd.pos, 19);
	ck_assert(!rd.err);

	/* A loop of two pointers each pointing at the other. */
	memcpy(b + 12, "\x01x\xc0\x10\xc0\x0e", 6);
	px_wire_rd_init(&rd, b, 20);
	rd.pos = 16;
	ck_assert_uint_eq(px_wire_read_name(&rd, out, NULL), 0);
	ck_assert(rd.err);
	/* A pointer cut in half by the end of the message. */
	px_wire_rd_init(&rd, b, 17);
	rd.pos = 16;
	ck_assert_uint_eq(px_wire_read_name(&rd, out, NULL), 0);
}
END_TEST

START_TEST(test_read_name_hop_limit)
{
	uint8_t b[200] = {0};
	struct px_wire_rd rd;
	uint16_t pos = 13;

	/* b[12] is the root name; then a chain of pointers, each to the previous one. */
	b[12] = 0;
	for (int i = 0; i < 40; i++) {
		uint16_t target = i == 0 ? 12 : (uint16_t)(pos - 2);

		b[pos] = (uint8_t)(0xc0 | target >> 8);
		b[pos + 1] = (uint8_t)target;
		pos += 2;
	}
	/* 32 hops are allowed, 33 are not. */
	px_wire_rd_init(&rd, b, pos);
	rd.pos = 13 + 31 * 2;
	ck_assert_uint_eq(px_wire_read_name(&rd, NULL, NULL), 1);
	px_wire_rd_init(&rd, b, pos);
	rd.pos = 13 + 32 * 2;
	ck_assert_uint_eq(px_wire_read_name(&rd, NULL, NULL), 0);
}
END_TEST

START_TEST(test_parse_query_compression_loop_in_additional)
{
	uint16_t len = std_query("example.test", false);

	/* An additional record whose owner is a pointer to itself. */
	px_put16(msg + 10, 1);
	msg[len] = 0xc0;
	msg[len + 1] = (uint8_t)len;
	memcpy(msg + len + 2, "\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00", 10);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, (uint16_t)(len + 12)), PX_WIRE_FORMERR_NAME);
}
END_TEST

/* The word-at-a-time lower casing agrees with the byte one on every byte value. */
START_TEST(test_px_lower8_all_bytes)
{
	for (unsigned b = 0; b < 256; b++) {
		uint64_t x = 0;

		for (int k = 0; k < 8; k++)
			x |= (uint64_t)((b + (unsigned)k * 37) & 0xff) << (8 * k);
		uint64_t y = px_lower8(x);

		for (int k = 0; k < 8; k++)
			ck_assert_uint_eq((y >> (8 * k)) & 0xff, px_lower((uint8_t)(x >> (8 * k))));
	}
}
END_TEST

static const uint8_t rr_a[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1};
static const uint16_t rr_a_ttl[] = {6};

START_TEST(test_write_response_answer)
{
	uint16_t len = std_query("WWW.example.test", false);
	uint8_t orig[512];
	struct px_wire_answer ans = {
		.rcode = 0, .aa = true, .an_count = 1, .rr = rr_a, .rr_len = sizeof(rr_a),
		.ttl_off = rr_a_ttl, .ttl_off_count = 1, .ttl = 3600,
	};

	px_put16(msg + 2, PX_DNS_RD | PX_DNS_CD);
	memcpy(orig, msg, len);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_OK);
	uint16_t rlen = px_wire_write_response(msg, sizeof(msg), 512, &q, &ans);

	ck_assert_uint_eq(rlen, len + sizeof(rr_a));
	ck_assert_uint_eq(px_get16(msg), 0xbeef);
	ck_assert_uint_eq(px_get16(msg + 2),
			  PX_DNS_QR | PX_DNS_AA | PX_DNS_RD | PX_DNS_RA | PX_DNS_CD);
	ck_assert_uint_eq(px_get16(msg + 4), 1);
	ck_assert_uint_eq(px_get16(msg + 6), 1);
	ck_assert_uint_eq(px_get16(msg + 8), 0);
	ck_assert_uint_eq(px_get16(msg + 10), 0);
	/* The question, case and all, is untouched. */
	ck_assert_mem_eq(msg + 12, orig + 12, len - 12);
	ck_assert_uint_eq(px_get32(msg + len + 6), 3600);
	ck_assert_mem_eq(msg + len + 12, "\xc0\x00\x02\x01", 4);
}
END_TEST

START_TEST(test_write_response_edns_and_tc)
{
	static uint8_t big[1400];
	uint16_t len = std_query("example.test", true);
	struct px_wire_answer ans = {.rcode = 0, .an_count = 1, .rr = big, .rr_len = 600};

	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_OK);
	uint16_t qend = q.question_end;
	uint16_t rlen = px_wire_write_response(msg, sizeof(msg), px_wire_udp_limit(&q), &q, &ans);

	/* Fits 1232: answer plus our OPT. */
	ck_assert_uint_eq(rlen, qend + 600 + PX_DNS_OPT_LEN);
	ck_assert_uint_eq(px_get16(msg + 10), 1);
	ck_assert_uint_eq(px_get16(msg + rlen - PX_DNS_OPT_LEN + 1), PX_DNS_TYPE_OPT);
	ck_assert_uint_eq(px_get16(msg + rlen - PX_DNS_OPT_LEN + 3), PX_DNS_EDNS_BUFSIZE);

	/* DO is clear in the query, so in the response too. */
	ck_assert_uint_eq(px_get32(msg + rlen - PX_DNS_OPT_LEN + 5), 0);

	/* A query with DO set gets it back (RFC 3225 3). */
	len = std_query("example.test", true);
	msg[len - PX_DNS_OPT_LEN + 7] = 0x80;
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_OK);
	ck_assert(q.edns_do);
	rlen = px_wire_write_response(msg, sizeof(msg), px_wire_udp_limit(&q), &q, &ans);
	ck_assert_uint_eq(px_get32(msg + rlen - PX_DNS_OPT_LEN + 5), PX_DNS_EDNS_DO);

	/* Too big for 1232: TC, no records, OPT kept. */
	len = std_query("example.test", true);
	px_wire_parse_query(&q, msg, len);
	ans.rr_len = 1300;
	rlen = px_wire_write_response(msg, sizeof(msg), px_wire_udp_limit(&q), &q, &ans);
	ck_assert_uint_eq(rlen, qend + PX_DNS_OPT_LEN);
	ck_assert(px_get16(msg + 2) & PX_DNS_TC);
	ck_assert_uint_eq(px_get16(msg + 6), 0);

	/* Without EDNS the limit is 512. */
	len = std_query("example.test", false);
	px_wire_parse_query(&q, msg, len);
	ans.rr_len = 500;
	rlen = px_wire_write_response(msg, sizeof(msg), px_wire_udp_limit(&q), &q, &ans);
	ck_assert_uint_eq(rlen, len);
	ck_assert(px_get16(msg + 2) & PX_DNS_TC);
	ans.rr_len = (uint16_t)(512 - len);
	len = std_query("example.test", false);
	px_wire_parse_query(&q, msg, len);
	rlen = px_wire_write_response(msg, sizeof(msg), px_wire_udp_limit(&q), &q, &ans);
	ck_assert_uint_eq(rlen, 512);
	ck_assert(!(px_get16(msg + 2) & PX_DNS_TC));
}
END_TEST

START_TEST(test_write_response_no_room)
{
	uint16_t len = std_query("example.test", true);
	struct px_wire_answer ans = {.rcode = PX_DNS_RCODE_SERVFAIL};

	px_wire_parse_query(&q, msg, len);
	/* The question fits but our OPT does not. */
	ck_assert_uint_eq(px_wire_write_response(msg, q.question_end + 5, 512, &q, &ans), 0);
}
END_TEST

/* A name from the network, printed for a person: specials and non-printable bytes escaped,
 * the root as ".", and a name cut at a whole character when the room ends. */
START_TEST(test_name_text)
{
	static const uint8_t odd[] = {4, 'a', ' ', '"', 0x7f, 3, 'B', ';', 0xff, 0};
	static const uint8_t bad[] = {3, 'a', 'b'}; /* the label runs past the end */
	uint8_t w[PX_DNS_NAME_BUF];
	char t[32];
	unsigned wl = px_test_name(w, "www.example.test");

	ck_assert_uint_eq(px_wire_name_text(t, sizeof(t), w, wl), 17);
	ck_assert_str_eq(t, "www.example.test.");
	ck_assert_uint_eq(px_wire_name_text(t, sizeof(t), (const uint8_t *)"", 1), 1);
	ck_assert_str_eq(t, ".");
	ck_assert_uint_eq(px_wire_name_text(t, sizeof(t), odd, sizeof(odd)), 20);
	ck_assert_str_eq(t, "a\\032\\\"\\127.B\\;\\255.");
	/* Room for "a\032" and the first byte of the next escape: the escape is left out whole. */
	ck_assert_uint_eq(px_wire_name_text(t, 7, odd, sizeof(odd)), 5);
	ck_assert_str_eq(t, "a\\032");
	ck_assert_uint_eq(px_wire_name_text(t, 1, w, wl), 0);
	ck_assert_str_eq(t, "");
	t[0] = 'x';
	ck_assert_uint_eq(px_wire_name_text(t, 0, w, wl), 0);
	ck_assert_int_eq(t[0], 'x');
	ck_assert_uint_eq(px_wire_name_text(t, sizeof(t), bad, sizeof(bad)), 0);
	ck_assert_str_eq(t, "");
}
END_TEST

/* RFC 8914: an Extended DNS Error rides in our OPT, only when the query had EDNS; its text is
 * cut at PX_DNS_EDE_TEXT_MAX; without room for it the answer goes without it. */
START_TEST(test_write_response_ede)
{
	static const struct px_dns_ede_info ede = {PX_DNS_EDE_NO_REACHABLE_AUTHORITY, "no server"};
	static const char long_text[] = "0123456789012345678901234567890123456789012345678901234567"
					"89012345678901234567890123456789";
	struct px_dns_ede_info lng = {PX_DNS_EDE_OTHER, long_text};
	struct px_wire_answer ans = {.rcode = PX_DNS_RCODE_SERVFAIL, .ede = &ede};
	uint16_t len = std_query("example.test", true), qend, rlen;
	const uint8_t *o;

	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_OK);
	qend = q.question_end;
	rlen = px_wire_write_response(msg, sizeof(msg), px_wire_udp_limit(&q), &q, &ans);
	ck_assert_uint_eq(rlen, qend + PX_DNS_OPT_LEN + 4 + 2 + 9);
	ck_assert_uint_eq(px_get16(msg + 10), 1);
	o = msg + qend;
	ck_assert_uint_eq(px_get16(o + 1), PX_DNS_TYPE_OPT);
	ck_assert_uint_eq(px_get16(o + 9), 4 + 2 + 9);        /* RDLENGTH: the one option */
	ck_assert_uint_eq(px_get16(o + 11), PX_DNS_OPT_EDE); /* OPTION-CODE */
	ck_assert_uint_eq(px_get16(o + 13), 2 + 9);          /* OPTION-LENGTH */
	ck_assert_uint_eq(px_get16(o + 15), 22);             /* INFO-CODE */
	ck_assert_mem_eq(o + 17, "no server", 9);
	ck_assert_uint_eq(px_get16(msg + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_SERVFAIL);

	/* A long text is cut. */
	len = std_query("example.test", true);
	px_wire_parse_query(&q, msg, len);
	ans.ede = &lng;
	rlen = px_wire_write_response(msg, sizeof(msg), px_wire_udp_limit(&q), &q, &ans);
	ck_assert_uint_eq(rlen, qend + PX_DNS_OPT_LEN + 4 + 2 + PX_DNS_EDE_TEXT_MAX);
	ck_assert_uint_eq(px_get16(msg + qend + 13), 2 + PX_DNS_EDE_TEXT_MAX);

	/* No room for the option: the answer still goes, with a bare OPT. */
	len = std_query("example.test", true);
	px_wire_parse_query(&q, msg, len);
	ans.ede = &ede;
	rlen = px_wire_write_response(msg, (uint16_t)(qend + PX_DNS_OPT_LEN + 3), 512, &q, &ans);
	ck_assert_uint_eq(rlen, qend + PX_DNS_OPT_LEN);
	ck_assert_uint_eq(px_get16(msg + qend + 9), 0);

	/* Records with an EDE (a stale answer) that fit the limit only without the option: the
	 * records go, without the option, and no TC. */
	{
		static const struct px_dns_ede_info stale = {PX_DNS_EDE_STALE_ANSWER,
							     "refresh failed"};
		static uint8_t big[1400];
		struct px_wire_answer sa = {.an_count = 1, .rr = big, .ede = &stale};
		uint16_t limit;

		len = std_query("example.test", true);
		px_wire_parse_query(&q, msg, len);
		limit = px_wire_udp_limit(&q);
		sa.rr_len = (uint16_t)(limit - qend - PX_DNS_OPT_LEN - 3);
		rlen = px_wire_write_response(msg, sizeof(msg), limit, &q, &sa);
		ck_assert_uint_eq(rlen, limit - 3);
		ck_assert_uint_le(rlen, limit);
		ck_assert(!(px_get16(msg + 2) & PX_DNS_TC));
		ck_assert_uint_eq(px_get16(msg + 6), 1);
		ck_assert_uint_eq(px_get16(msg + rlen - PX_DNS_OPT_LEN + 9), 0);
		/* With room for it, the option goes too, exactly up to the limit. */
		len = std_query("example.test", true);
		px_wire_parse_query(&q, msg, len);
		sa.rr_len = (uint16_t)(limit - qend - PX_DNS_OPT_LEN - 4 - 2 - 14);
		rlen = px_wire_write_response(msg, sizeof(msg), limit, &q, &sa);
		ck_assert_uint_eq(rlen, limit);
		ck_assert(!(px_get16(msg + 2) & PX_DNS_TC));
		ck_assert_uint_eq(px_get16(msg + 6), 1);
		ck_assert_uint_eq(px_get16(msg + rlen - 20 + 4), PX_DNS_EDE_STALE_ANSWER);
		/* Too big either way: TC, and the option with it (it fits without the records). */
		len = std_query("example.test", true);
		px_wire_parse_query(&q, msg, len);
		sa.rr_len = 1300;
		rlen = px_wire_write_response(msg, sizeof(msg), limit, &q, &sa);
		ck_assert(px_get16(msg + 2) & PX_DNS_TC);
		ck_assert_uint_eq(rlen, qend + PX_DNS_OPT_LEN + 4 + 2 + 14);
	}

	/* Without EDNS there is nowhere to put it. */
	len = std_query("example.test", false);
	px_wire_parse_query(&q, msg, len);
	rlen = px_wire_write_response(msg, sizeof(msg), px_wire_udp_limit(&q), &q, &ans);
	ck_assert_uint_eq(rlen, len);
	ck_assert_uint_eq(px_get16(msg + 10), 0);
}
END_TEST

START_TEST(test_write_response_formerr_bare)
{
	uint16_t len = std_query("example.test", false);
	struct px_wire_answer ans = {.rcode = PX_DNS_RCODE_FORMERR};

	px_put16(msg + 4, 3);
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_FORMERR_QDCOUNT);
	ck_assert_uint_eq(px_wire_write_response(msg, sizeof(msg), 512, &q, &ans), 12);
	ck_assert_uint_eq(px_get16(msg + 2) & PX_DNS_RCODE_MASK, PX_DNS_RCODE_FORMERR);
	ck_assert_uint_eq(px_get16(msg + 4), 0);
}
END_TEST

START_TEST(test_write_response_badvers)
{
	uint16_t len = std_query("example.test", true);
	struct px_wire_answer ans = {.rcode = PX_DNS_RCODE_BADVERS};

	msg[len - PX_DNS_OPT_LEN + 6] = 3;
	ck_assert_int_eq(px_wire_parse_query(&q, msg, len), PX_WIRE_BADVERS);
	uint16_t rlen = px_wire_write_response(msg, sizeof(msg), 512, &q, &ans);

	/* BADVERS is 16: 0 in the header, 1 in the OPT's extended-rcode byte. */
	ck_assert_uint_eq(px_get16(msg + 2) & PX_DNS_RCODE_MASK, 0);
	ck_assert_uint_eq(msg[rlen - PX_DNS_OPT_LEN + 5], 1);
	ck_assert_uint_eq(msg[rlen - PX_DNS_OPT_LEN + 6], 0); /* version 0 */
}
END_TEST

/* Random mutations of valid queries must never read out of bounds (ASan/UBSan watch) and must
 * always give a verdict in range. */
START_TEST(test_parse_query_mutations)
{
	unsigned seed = 12345;

	for (int n = 0; n < 200000; n++) {
		uint16_t len = std_query("mutated.example.test", (n & 1) != 0);
		int flips = 1 + (int)(rand_r(&seed) % 4);
		uint8_t *copy;

		for (int f = 0; f < flips; f++)
			msg[rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		len = (uint16_t)(len - rand_r(&seed) % 3);
		/* An exactly-sized heap copy so that ASan sees any overread. */
		copy = malloc(len);
		memcpy(copy, msg, len);
		enum px_wire_verdict v = px_wire_parse_query(&q, copy, len);

		ck_assert_int_le(v, PX_WIRE_BADVERS);
		free(copy);
	}
}
END_TEST

static Suite *
wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc;

	tc = tcase_create("parse_good");
	tcase_add_test(tc, test_parse_query_plain);
	tcase_add_test(tc, test_parse_query_edns);
	tcase_add_test(tc, test_parse_query_root_name);
	tcase_add_test(tc, test_parse_query_opt_options);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_bad");
	tcase_add_test(tc, test_parse_query_runt);
	tcase_add_test(tc, test_parse_query_response_dropped);
	tcase_add_test(tc, test_parse_query_opcode_notimp);
	tcase_add_test(tc, test_parse_query_qdcount);
	tcase_add_test(tc, test_parse_query_counts_lie);
	tcase_add_test(tc, test_parse_query_answer_section);
	tcase_add_test(tc, test_parse_query_opt_misplaced);
	tcase_add_test(tc, test_parse_query_opt_twice);
	tcase_add_test(tc, test_parse_query_opt_owner);
	tcase_add_test(tc, test_parse_query_badvers);
	tcase_add_test(tc, test_parse_query_compression_loop_in_additional);
	tcase_add_test(tc, test_parse_query_mutations);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_read_name_label_too_long);
	tcase_add_test(tc, test_read_name_lengths);
	tcase_add_test(tc, test_read_name_pointer_rules);
	tcase_add_test(tc, test_read_name_hop_limit);
	tcase_add_test(tc, test_px_lower8_all_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_test(tc, test_write_response_answer);
	tcase_add_test(tc, test_write_response_edns_and_tc);
	tcase_add_test(tc, test_write_response_no_room);
	tcase_add_test(tc, test_write_response_formerr_bare);
	tcase_add_test(tc, test_write_response_badvers);
	tcase_add_test(tc, test_write_response_ede);
	tcase_add_test(tc, test_name_text);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(wire_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
