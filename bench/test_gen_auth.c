/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The miss benchmark's authoritative servers (gen_auth.c) answer what pollux asks as real
 * servers would: each reply is fed to pollux's own reply classifier (px_reply_classify, the
 * code that accepts or rejects upstream replies) with the bailiwick pollux would use, and its
 * headers, checksums and question (0x20 case kept) are checked byte by byte. Pure: a frame in a
 * stack buffer dressed as an mbuf, no EAL.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <pollux/reply.h>
#include <pollux/wire.h>

#include "gen_auth.h"
#include "testlib.h"

#define RESOLVER_IP GEN_IP4(198, 18, 0, 2)
#define GATEWAY_IP GEN_IP4(198, 18, 0, 1)
#define L4_OFF (14 + 20)
#define DNS_OFF (L4_OFF + 8)

static uint8_t buf[2048] __rte_aligned(64);
static struct rte_mbuf mb;
static struct px_reply rep;
static const struct rte_ether_addr gen_mac = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct rte_ether_addr px_mac = {{0x02, 0, 0, 0, 0, 0x02}};

static void
setup(void)
{
	struct gen_auth_cfg c = {
		.mac = gen_mac, .self_ip = rte_cpu_to_be_32(GATEWAY_IP),
		.a_base = GEN_IP4(198, 19, 0, 0), .zones = 8,
	};

	gen_auth_init(&c);
}

/* The frame pollux sends: name (case kept) and qtype from port 40000 to server:53, ID 0x1234. */
static uint8_t *
query(uint32_t server, const char *name, uint16_t qtype)
{
	struct px_test_query q = {
		.id = 0x1234, .name = name, .qtype = qtype, .qclass = PX_DNS_CLASS_IN,
		.edns = true, .edns_bufsize = 1232,
	};
	uint8_t *f = buf + RTE_PKTMBUF_HEADROOM;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(f + L4_OFF);
	uint16_t dlen = px_test_query(f + DNS_OFF, &q);

	eth->dst_addr = gen_mac;
	eth->src_addr = px_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(28 + dlen));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(RESOLVER_IP);
	ip->dst_addr = rte_cpu_to_be_32(server);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = RTE_BE16(40000);
	udp->dst_port = RTE_BE16(53);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + dlen));
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	memset(&mb, 0, sizeof(mb));
	mb.buf_addr = buf;
	mb.buf_len = sizeof(buf);
	mb.data_off = RTE_PKTMBUF_HEADROOM;
	mb.data_len = mb.pkt_len = (uint16_t)(DNS_OFF + dlen);
	mb.nb_segs = 1;
	return f;
}

/* Runs the servers on the query in mb, checks the reply's framing, then classifies it as pollux
 * would for a server of zone (lower-cased presentation form). */
static enum px_reply_class
serve(const char *name, uint16_t qtype, const char *zone)
{
	uint8_t *f = buf + RTE_PKTMBUF_HEADROOM, qn[PX_DNS_NAME_BUF], zn[PX_DNS_NAME_BUF], q[300];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(f + L4_OFF);
	uint32_t server = rte_be_to_cpu_32(ip->dst_addr);
	unsigned qlen = px_test_name(qn, name);
	char lower[256];
	struct px_reply_query rq = {.qtype = qtype, .qclass = PX_DNS_CLASS_IN};

	memcpy(q, f + DNS_OFF, 12 + qlen + 4);
	ck_assert_int_eq(gen_auth_take(&mb), GEN_AUTH_REPLY);
	ck_assert(rte_is_same_ether_addr(&eth->dst_addr, &px_mac));
	ck_assert(rte_is_same_ether_addr(&eth->src_addr, &gen_mac));
	ck_assert_uint_eq(rte_be_to_cpu_32(ip->src_addr), server);
	ck_assert_uint_eq(rte_be_to_cpu_32(ip->dst_addr), RESOLVER_IP);
	ck_assert_uint_eq(rte_ipv4_cksum(ip), 0);
	ck_assert_uint_eq(rte_be_to_cpu_16(ip->total_length), mb.data_len - 14);
	ck_assert_uint_eq(rte_be_to_cpu_16(udp->src_port), 53);
	ck_assert_uint_eq(rte_be_to_cpu_16(udp->dst_port), 40000);
	ck_assert_uint_eq(rte_be_to_cpu_16(udp->dgram_len), mb.data_len - L4_OFF);
	ck_assert_int_eq(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
	/* The ID, and the question byte for byte: the 0x20 case pollux chose comes back. */
	ck_assert_mem_eq(f + DNS_OFF, q, 2);
	ck_assert_mem_eq(f + DNS_OFF + 12, q + 12, qlen + 4);

	for (size_t i = 0; i <= strlen(name); i++)
		lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] | 0x20 : name[i]);
	rq.qname_len = (uint8_t)px_test_name(qn, lower);
	rq.qname = qn;
	rq.zone_len = (uint8_t)px_test_name(zn, zone);
	rq.zone = zn;
	return px_reply_classify(&rep, f + DNS_OFF, (uint16_t)(mb.data_len - DNS_OFF), &rq);
}

static void
assert_glue(const char *ns, uint32_t addr)
{
	uint8_t n[PX_DNS_NAME_BUF];
	unsigned len = px_test_name(n, ns);
	uint32_t be = rte_cpu_to_be_32(addr);

	ck_assert_uint_eq(rep.ns_count, 1);
	ck_assert_uint_eq(rep.ns[0].name_len, len);
	ck_assert_mem_eq(rep.ns[0].name, n, len);
	ck_assert_uint_eq(rep.ns[0].addr_count, 1);
	ck_assert_mem_eq(rep.ns[0].addr[0].addr, &be, 4);
}

START_TEST(test_gen_auth_take_root_refers_to_tld)
{
	query(GEN_AUTH_ROOT_IP, "TeSt", PX_DNS_TYPE_A);
	ck_assert_int_eq(serve("TeSt", PX_DNS_TYPE_A, "."), PX_REPLY_REFERRAL);
	ck_assert(!rep.aa);
	ck_assert(rep.edns);
	assert_glue("ns.nic.test", GEN_AUTH_TLD_IP);
}
END_TEST

START_TEST(test_gen_auth_take_root_primes)
{
	query(GEN_AUTH_ROOT_IP, ".", PX_DNS_TYPE_NS);
	ck_assert_int_eq(serve(".", PX_DNS_TYPE_NS, "."), PX_REPLY_ANSWER);
	ck_assert(rep.aa);
	ck_assert_uint_eq(rep.answer_count, 1);
	ck_assert_uint_eq(rep.sec_count[PX_REPLY_SEC_ADDITIONAL], 2); /* the glue and the OPT */
}
END_TEST

START_TEST(test_gen_auth_take_tld_refers_to_leaf)
{
	query(GEN_AUTH_TLD_IP, "z3.TEST", PX_DNS_TYPE_A);
	ck_assert_int_eq(serve("z3.TEST", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	assert_glue("ns.z3.test", GEN_AUTH_LEAF_NET + 4);
	query(GEN_AUTH_TLD_IP, "D123456.test", PX_DNS_TYPE_A);
	ck_assert_int_eq(serve("D123456.test", PX_DNS_TYPE_A, "test"), PX_REPLY_REFERRAL);
	assert_glue("ns.d123456.test", GEN_AUTH_LEAF_NET + 1 + 123456 % 250);
	/* Past --zones there is no such zone. */
	query(GEN_AUTH_TLD_IP, "z8.test", PX_DNS_TYPE_A);
	ck_assert_int_eq(serve("z8.test", PX_DNS_TYPE_A, "test"), PX_REPLY_NXDOMAIN);
	ck_assert(rep.aa && rep.has_soa);
}
END_TEST

START_TEST(test_gen_auth_take_leaf_answers)
{
	uint32_t a = rte_cpu_to_be_32(GEN_IP4(198, 19, 1, 2));
	char text[64];

	query(GEN_AUTH_LEAF_NET + 4, "N258.z3.TeSt", PX_DNS_TYPE_A);
	ck_assert_int_eq(serve("N258.z3.TeSt", PX_DNS_TYPE_A, "z3.test"), PX_REPLY_ANSWER);
	ck_assert(rep.aa);
	ck_assert_uint_eq(rep.answer_count, 1);
	ck_assert_uint_eq(rep.answer[0].rdlen, 4);
	ck_assert_mem_eq(buf + RTE_PKTMBUF_HEADROOM + DNS_OFF + rep.answer[0].rdata_off, &a, 4);
	/* The client side names it the same way and expects the same address. */
	ck_assert_uint_eq(gen_auth_name(text, sizeof(text), 258, false), GEN_IP4(198, 19, 1, 2));
	ck_assert_str_eq(text, "n258.z2.test");
	gen_auth_name(text, sizeof(text), 258, true);
	ck_assert_str_eq(text, "n258.d258.test");
	query(GEN_AUTH_LEAF_NET + 4, "n258.z3.test", PX_DNS_TYPE_AAAA);
	ck_assert_int_eq(serve("n258.z3.test", PX_DNS_TYPE_AAAA, "z3.test"), PX_REPLY_NODATA);
	ck_assert(rep.aa && rep.has_soa);
	query(GEN_AUTH_LEAF_NET + 4, "x.z3.test", PX_DNS_TYPE_A);
	ck_assert_int_eq(serve("x.z3.test", PX_DNS_TYPE_A, "z3.test"), PX_REPLY_NXDOMAIN);
}
END_TEST

START_TEST(test_gen_auth_take_leaf_refuses_other_zones)
{
	query(GEN_AUTH_LEAF_NET + 5, "n1.z3.test", PX_DNS_TYPE_A);
	ck_assert_int_eq(serve("n1.z3.test", PX_DNS_TYPE_A, "z3.test"), PX_REPLY_REFUSED);
	ck_assert_uint_eq(gen_auth_report(), 0);
}
END_TEST

START_TEST(test_gen_auth_take_bad_query_counted)
{
	uint8_t *f = query(GEN_AUTH_TLD_IP, "z3.test", PX_DNS_TYPE_A);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(f + L4_OFF);

	/* A compression pointer in the question, checksum fixed: well-formed UDP, bad DNS. */
	f[DNS_OFF + 12] = 0xc0;
	f[DNS_OFF + 13] = 0x0c;
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	ck_assert_int_eq(gen_auth_take(&mb), GEN_AUTH_DROP);
	query(GEN_AUTH_TLD_IP, "z3.test", PX_DNS_TYPE_A);
	f[DNS_OFF + 20] ^= 1; /* a bit flipped in flight: the UDP checksum fails */
	ck_assert_int_eq(gen_auth_take(&mb), GEN_AUTH_DROP);
	ck_assert_uint_eq(gen_auth_report(), 2);
	/* Not for a server: left alone for the client side. */
	query(RESOLVER_IP, "z3.test", PX_DNS_TYPE_A);
	ck_assert_int_eq(gen_auth_take(&mb), GEN_AUTH_PASS);
}
END_TEST

START_TEST(test_gen_auth_take_arp)
{
	uint8_t *f = buf + RTE_PKTMBUF_HEADROOM;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	query(GATEWAY_IP, "x", PX_DNS_TYPE_A);
	memset(&eth->dst_addr, 0xff, 6);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	memset(arp, 0, sizeof(*arp));
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = px_mac;
	arp->arp_data.arp_sip = rte_cpu_to_be_32(RESOLVER_IP);
	arp->arp_data.arp_tip = rte_cpu_to_be_32(GEN_AUTH_ROOT_IP);
	mb.data_len = 14 + sizeof(*arp);
	ck_assert_int_eq(gen_auth_take(&mb), GEN_AUTH_DROP); /* not the gateway's address */
	arp->arp_data.arp_tip = rte_cpu_to_be_32(GATEWAY_IP);
	ck_assert_int_eq(gen_auth_take(&mb), GEN_AUTH_REPLY);
	ck_assert_uint_eq(arp->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
	ck_assert(rte_is_same_ether_addr(&arp->arp_data.arp_sha, &gen_mac));
	ck_assert(rte_is_same_ether_addr(&eth->dst_addr, &px_mac));
	ck_assert_uint_eq(arp->arp_data.arp_sip, rte_cpu_to_be_32(GATEWAY_IP));
	ck_assert_uint_eq(arp->arp_data.arp_tip, rte_cpu_to_be_32(RESOLVER_IP));
}
END_TEST

static Suite *
gen_auth_suite(void)
{
	Suite *s = suite_create("gen_auth");
	TCase *tc = tcase_create("servers");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_gen_auth_take_root_refers_to_tld);
	tcase_add_test(tc, test_gen_auth_take_root_primes);
	tcase_add_test(tc, test_gen_auth_take_tld_refers_to_leaf);
	tcase_add_test(tc, test_gen_auth_take_leaf_answers);
	tcase_add_test(tc, test_gen_auth_take_leaf_refuses_other_zones);
	tcase_add_test(tc, test_gen_auth_take_bad_query_counted);
	tcase_add_test(tc, test_gen_auth_take_arp);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(gen_auth_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
