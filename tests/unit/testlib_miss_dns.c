/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The miss-path rig's other hosts on the wire (testlib_miss.h): the client, the scripted root
 * and authoritative servers, and the reader that checks every upstream query and client answer
 * the worker sends.
 *
 * The delegations the scripted root hands out (QNAME minimisation is on, as in the daemon: the
 * root is first asked for "test", an empty non-terminal, and answers NODATA):
 *   example.test  ns.example.test 198.18.3.1          answers A 198.51.100.7 below the zone
 *   forged.test   ns.forged.test 198.18.6.1           the same, for the forged-reply case
 *   bad.test      ns.bad.test 0.0.0.0                 invalid glue only
 *   allbad.test   ns1-5.allbad.test, each invalid     0/8, broadcast, multicast, loopback, 240/4
 *   self.test     ns1-5.self.test, each invalid       pollux's own address, its /24's broadcast
 *                                                     and network address, 169.254.169.254,
 *                                                     64:ff9b::7f00:1 (127.0.0.1 via NAT64)
 *   slow.test     ns1/ns2.slow.test 198.18.4.1/.2     the first one asked never answers
 *   dead.test     ns.dead.test 198.18.5.1             never answers
 *   onlink.test   ns.onlink.test 198.18.0.53          on pollux's own /24: reached by its own
 *                                                     ARP entry, not through the gateway
 *   noarp.test    ns.noarp.test 198.18.0.54           on the /24 too, but never answers ARP:
 *                                                     no query to it can leave
 *   tc.test       ns.tc.test 198.18.7.1               answers over UDP with TC set and no
 *   tc2.test      ns1/ns2.tc2.test 198.18.8.1/.2      records (the same): the answer comes
 *                                                     only through the TCP retry
 *   crowd.test, tld.test (which delegates zone.tld.test), pair.test, lower.test: the sharing
 *                                                     cases (test_miss_crowd.c)
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "testlib_miss.h"

static const struct tm_deleg tm_delegs[] = {
	{"example.test", 1, {"ns.example.test"}, {"198.18.3.1"}},
	{"forged.test", 1, {"ns.forged.test"}, {"198.18.6.1"}},
	{"bad.test", 1, {"ns.bad.test"}, {"0.0.0.0"}},
	{"allbad.test", 5,
	 {"ns1.allbad.test", "ns2.allbad.test", "ns3.allbad.test", "ns4.allbad.test",
	  "ns5.allbad.test"},
	 {"0.0.0.0", "255.255.255.255", "224.0.0.1", "127.0.0.1", "240.0.0.1"}},
	{"self.test", 5,
	 {"ns1.self.test", "ns2.self.test", "ns3.self.test", "ns4.self.test", "ns5.self.test"},
	 {"198.18.0.2", "198.18.0.255", "198.18.0.0", "169.254.169.254", "64:ff9b::7f00:1"}},
	{"slow.test", 2, {"ns1.slow.test", "ns2.slow.test"}, {"198.18.4.1", "198.18.4.2"}},
	{"dead.test", 1, {"ns.dead.test"}, {"198.18.5.1"}},
	{"onlink.test", 1, {"ns.onlink.test"}, {"198.18.0.53"}},
	{"noarp.test", 1, {"ns.noarp.test"}, {"198.18.0.54"}},
	{"tc.test", 1, {"ns.tc.test"}, {"198.18.7.1"}, true},
	{"tc2.test", 2, {"ns1.tc2.test", "ns2.tc2.test"}, {"198.18.8.1", "198.18.8.2"}, true},
	/* The sharing cases. */
	{"crowd.test", 1, {"ns.crowd.test"}, {"198.18.9.1"}},
	{"tld.test", 3, {"a.tld.test", "b.tld.test", "c.tld.test"},
	 {"198.18.10.1", "198.18.10.2", "198.18.10.3"}, .child = "zone.tld.test",
	 .child_ns = "ns.zone.tld.test", .child_glue = "198.18.11.1"},
	{"zone.tld.test", 1, {"ns.zone.tld.test"}, {"198.18.11.1"}, .below = true},
	{"pair.test", 2, {"ns1.pair.test", "ns2.pair.test"}, {"198.18.12.1", "198.18.12.2"}},
	{"lower.test", 1, {"ns.lower.test"}, {"198.18.13.1"}},
};

/* Reads an uncompressed name at *pos into presentation form ("." for the root). */
static void
read_name(const uint8_t *p, uint16_t len, uint16_t *pos, char *out)
{
	size_t o = 0;

	for (;;) {
		ck_assert_uint_lt(*pos, len);
		uint8_t l = p[(*pos)++];

		if (l == 0)
			break;
		ck_assert_uint_le(l, 63);
		ck_assert_uint_le(*pos + l, len);
		memcpy(out + o, p + *pos, l);
		o += l;
		out[o++] = '.';
		*pos = (uint16_t)(*pos + l);
	}
	if (o == 0)
		out[o++] = '.';
	else
		o--;
	out[o] = '\0';
}

bool
tm_name_below(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (strcmp(zone, ".") == 0 || strcasecmp(name, zone) == 0)
		return true;
	return n > z + 1 && name[n - z - 1] == '.' && strcasecmp(name + n - z, zone) == 0;
}

/* Checks an upstream query message (d, dlen bytes) from header to OPT and fills q's id,
 * qtype and qname: the same checks over UDP and for a TCP retry. */
void
tm_parse_upq_dns(const uint8_t *d, uint16_t dlen, struct tm_upq *q)
{
	uint16_t pos = PX_DNS_HDR_LEN;

	ck_assert_uint_ge(dlen, PX_DNS_HDR_LEN);
	q->id = px_get16(d);
	/* QR, opcode, AA, TC, RD (an authoritative server is asked) and rcode all clear. */
	ck_assert_uint_eq(px_get16(d + 2), 0);
	ck_assert_uint_eq(px_get16(d + 4), 1);
	ck_assert_uint_eq(px_get16(d + 6), 0);
	ck_assert_uint_eq(px_get16(d + 8), 0);
	ck_assert_uint_eq(px_get16(d + 10), 1);
	read_name(d, dlen, &pos, q->qname);
	ck_assert_uint_le(pos + 4u + PX_DNS_OPT_LEN, dlen);
	q->qtype = px_get16(d + pos);
	ck_assert_uint_eq(px_get16(d + pos + 2), PX_DNS_CLASS_IN);
	pos += 4;
	/* EDNS: an OPT owned by the root, our buffer size, version 0, DO clear, no options. */
	ck_assert_uint_eq(d[pos], 0);
	ck_assert_uint_eq(px_get16(d + pos + 1), PX_DNS_TYPE_OPT);
	ck_assert_uint_eq(px_get16(d + pos + 3), PX_DNS_EDNS_BUFSIZE);
	ck_assert_uint_eq(px_get32(d + pos + 5), 0);
	ck_assert_uint_eq(px_get16(d + pos + 9), 0);
	ck_assert_uint_eq(pos + PX_DNS_OPT_LEN, dlen);
}

/* Checks an upstream query frame from headers to OPT and fills q. */
void
tm_parse_upq(const struct rte_mbuf *m, struct tm_upq *q)
{
	const struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(e + 1);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);

	ck_assert_mem_eq(e->dst_addr.addr_bytes,
			 ip->dst_addr == ONLINK_IP4 ? tm_onlink_mac : tm_gw_mac, 6);
	ck_assert_uint_eq(ip->version_ihl, RTE_IPV4_VHL_DEF);
	ck_assert_uint_eq(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
	ck_assert_uint_eq(ip->next_proto_id, IPPROTO_UDP);
	ck_assert_uint_eq(ip->src_addr, tm_hosts.server_ip4);
	ck_assert_uint_eq(rte_be_to_cpu_16(ip->total_length) + 14u, m->pkt_len);
	ck_assert_int_eq(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
	ck_assert_uint_eq(udp->dst_port, RTE_BE16(PX_DNS_PORT));
	q->dst = ip->dst_addr;
	q->sport = rte_be_to_cpu_16(udp->src_port);
	ck_assert_uint_ge(q->sport, 1024);
	ck_assert_uint_ge(rte_be_to_cpu_16(udp->dgram_len), sizeof(*udp));
	tm_parse_upq_dns((const uint8_t *)(udp + 1),
		      (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp)), q);
}

void
tm_frame_parse(struct rte_mbuf *m, struct tm_frame *f)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;

	ck_assert_ptr_nonnull(m);
	memset(f, 0, sizeof(*f));
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, 14);
	ck_assert_uint_eq(rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type,
			  RTE_BE16(RTE_ETHER_TYPE_IPV4));
	if (ip->dst_addr != tm_hosts.client_ip4) {
		f->upstream = true;
		tm_parse_upq(m, &f->q);
		rte_pktmbuf_free(m);
		return;
	}
	udp = (const struct rte_udp_hdr *)(ip + 1);
	ck_assert_uint_eq(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
	ck_assert_uint_eq(ip->src_addr, tm_hosts.server_ip4);
	ck_assert_int_eq(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
	ck_assert_uint_eq(udp->src_port, RTE_BE16(PX_DNS_PORT));
	ck_assert_uint_eq(rte_be_to_cpu_16(ip->total_length) + 14u, m->pkt_len);
	f->m = m;
	f->dport = rte_be_to_cpu_16(udp->dst_port);
	f->dns = (const uint8_t *)(udp + 1);
	f->dns_len = (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp));
	ck_assert_uint_ge(f->dns_len, PX_DNS_HDR_LEN);
}

/* A query from the client (RD, EDNS 1232). */
void
tm_client_ask(uint16_t port, uint16_t id, const char *name, uint16_t qtype)
{
	uint8_t dns[512], f[600] __rte_aligned(8);
	const struct px_test_query q = {.id = id, .flags = PX_DNS_RD, .name = name, .qtype = qtype,
					.qclass = PX_DNS_CLASS_IN, .edns = true,
					.edns_bufsize = 1232};
	uint16_t dlen = px_test_query(dns, &q);

	tm_rx(f, px_test_frame_udp4(f, &tm_hosts, port, PX_DNS_PORT, dns, dlen));
}

/* A datagram from server src (via the gateway) to pollux. */
void
tm_server_send(uint32_t src, uint16_t sport, uint16_t dport, const struct px_test_msg *r)
{
	uint8_t f[1600] __rte_aligned(8);
	struct px_test_hosts h = {.client_ip4 = src, .server_ip4 = tm_hosts.server_ip4};

	memcpy(h.client_mac, tm_gw_mac, 6);
	memcpy(h.server_mac, tm_hosts.server_mac, 6);
	ck_assert_uint_lt(r->len, 1500);
	tm_rx(f, px_test_frame_udp4(f, &h, sport, dport, r->buf, r->len));
}

void
tm_reply(const struct tm_upq *q, const struct px_test_msg *r)
{
	tm_server_send(q->dst, PX_DNS_PORT, q->sport, r);
}

const struct tm_deleg *
tm_deleg_of_server(uint32_t addr_be)
{
	for (unsigned i = 0; i < RTE_DIM(tm_delegs); i++)
		for (unsigned k = 0; k < tm_delegs[i].ns_count; k++) {
			uint32_t a;

			if (strchr(tm_delegs[i].glue[k], ':') != NULL)
				continue; /* an IPv6 glue address: never queried by this worker */
			ck_assert_int_eq(inet_pton(AF_INET, tm_delegs[i].glue[k], &a), 1);
			if (a == addr_be)
				return &tm_delegs[i];
		}
	return NULL;
}

/* What the scripted authoritative server at q->dst answers to q. */
void
tm_auth_reply(struct px_test_msg *r, const struct tm_upq *q)
{
	if (q->dst == ROOT_IP4) {
		bool ent = false;

		for (unsigned i = 0; i < RTE_DIM(tm_delegs); i++) {
			const struct tm_deleg *d = &tm_delegs[i];

			if (d->below)
				continue;
			if (tm_name_below(q->qname, d->zone)) {
				px_test_msg_start(r, q->id, PX_DNS_QR, q->qname, q->qtype);
				for (unsigned k = 0; k < d->ns_count; k++)
					px_test_msg_target(r, 1, d->zone, PX_DNS_TYPE_NS, 172800,
							   d->ns[k]);
				for (unsigned k = 0; k < d->ns_count; k++)
					px_test_msg_addr(r, 2, d->ns[k], d->glue[k]);
				return;
			}
			ent = ent || tm_name_below(d->zone, q->qname);
		}
		/* An empty non-terminal ("test") is NODATA; anything else does not exist. */
		px_test_msg_start(r, q->id, PX_DNS_QR | PX_DNS_AA |
				  (ent ? PX_DNS_RCODE_NOERROR : PX_DNS_RCODE_NXDOMAIN),
				  q->qname, q->qtype);
		px_test_msg_soa(r, 1, ".", 86400, 3600);
		return;
	}
	const struct tm_deleg *d = tm_deleg_of_server(q->dst);

	ck_assert_ptr_nonnull(d);
	if (d->child != NULL && tm_name_below(q->qname, d->child)) {
		px_test_msg_start(r, q->id, PX_DNS_QR, q->qname, q->qtype);
		px_test_msg_target(r, 1, d->child, PX_DNS_TYPE_NS, 172800, d->child_ns);
		px_test_msg_addr(r, 2, d->child_ns, d->child_glue);
		return;
	}
	px_test_msg_start(r, q->id, PX_DNS_QR | PX_DNS_AA, q->qname, q->qtype);
	if (q->qtype == PX_DNS_TYPE_A && tm_name_below(q->qname, d->zone) &&
	    strcasecmp(q->qname, d->zone) != 0)
		px_test_msg_addr(r, 0, NULL, ANSWER_ADDR);
	else
		px_test_msg_soa(r, 1, d->zone, 3600, 300);
}

/* A root server's answer to the priming query q: the root's NS set (a.root.test, NS TTL ttl)
 * and its address addr, authoritatively; with TC (addr NULL) no records at all. */
void
tm_prime_answer(struct px_test_msg *r, const struct tm_upq *q, const char *addr, uint32_t ttl)
{
	ck_assert_str_eq(q->qname, ".");
	ck_assert_uint_eq(q->qtype, PX_DNS_TYPE_NS);
	px_test_msg_start(r, q->id, PX_DNS_QR | PX_DNS_AA | (addr == NULL ? PX_DNS_TC : 0), ".",
			  PX_DNS_TYPE_NS);
	if (addr != NULL) {
		px_test_msg_target(r, 0, ".", PX_DNS_TYPE_NS, ttl, "a.root.test");
		px_test_msg_addr(r, 2, "a.root.test", addr);
	}
	px_test_msg_opt(r, 0);
}

void
tm_answer(const struct tm_upq *q)
{
	struct px_test_msg r;

	if (q->dst == ROOT_IP4 && q->qtype == PX_DNS_TYPE_NS && strcmp(q->qname, ".") == 0) {
		tm_prime_answer(&r, q, "198.18.1.1", 518400);
		tm_server_send(q->dst, PX_DNS_PORT, q->sport, &r);
		return;
	}
	const struct tm_deleg *d = q->dst == ROOT_IP4 ? NULL : tm_deleg_of_server(q->dst);

	if (d != NULL && d->tc) {
		/* Too big for UDP, as a server says it: TC, the question, our OPT, no records. */
		px_test_msg_start(&r, q->id, PX_DNS_QR | PX_DNS_AA | PX_DNS_TC, q->qname, q->qtype);
		px_test_msg_opt(&r, 0);
	} else {
		tm_auth_reply(&r, q);
	}
	tm_server_send(q->dst, PX_DNS_PORT, q->sport, &r);
}

/* Plays the servers until the worker sends a client answer (returned in f); the addresses
 * queried, in order, go to path. Stops short of answering a query to `silent` (0: none), which
 * is then returned as an upstream frame. */
unsigned
tm_serve(struct tm_frame *f, uint32_t *path, unsigned path_max, uint32_t silent)
{
	unsigned n = 0;

	for (;;) {
		tm_frame_next(f);
		if (!f->upstream)
			return n;
		ck_assert_uint_lt(n, path_max);
		path[n++] = f->q.dst;
		if (f->q.dst == silent)
			return n;
		tm_answer(&f->q);
	}
}

/* Reads the OPT at d[pos] (the answer's last record): its options must fill its rdata exactly,
 * and an EDE option among them goes to tm.last_ede. Returns the OPT's end. */
static uint16_t
read_opt(const uint8_t *d, uint16_t len, uint16_t pos)
{
	uint16_t rdlen, end;

	tm.last_ede = -1;
	tm.last_ede_text[0] = '\0';
	ck_assert_uint_ge(len, pos + PX_DNS_OPT_LEN);
	ck_assert_uint_eq(d[pos], 0);
	ck_assert_uint_eq(px_get16(d + pos + 1), PX_DNS_TYPE_OPT);
	rdlen = px_get16(d + pos + 9);
	end = (uint16_t)(pos + PX_DNS_OPT_LEN + rdlen);
	ck_assert_uint_le(end, len);
	for (uint16_t o = pos + PX_DNS_OPT_LEN; o < end;) {
		uint16_t code, olen;

		ck_assert_uint_le(o + 4, end);
		code = px_get16(d + o);
		olen = px_get16(d + o + 2);
		ck_assert_uint_le(o + 4 + olen, end);
		if (code == PX_DNS_OPT_EDE) {
			ck_assert_uint_ge(olen, 2);
			ck_assert_uint_le(olen - 2, PX_DNS_EDE_TEXT_MAX);
			tm.last_ede = px_get16(d + o + 4);
			memcpy(tm.last_ede_text, d + o + 6, olen - 2u);
			tm.last_ede_text[olen - 2] = '\0';
		}
		o = (uint16_t)(o + 4 + olen);
	}
	return end;
}

/* The client answer in f: to `port`, with `id`, its question as asked, flags QR RD RA and
 * rcode; for NOERROR one A record ANSWER_ADDR. A SERVFAIL must carry an Extended DNS Error
 * (left in tm.last_ede). */
void
tm_check_answer(const struct tm_frame *f, uint16_t port, uint16_t id, const char *qname,
		    uint8_t rcode)
{
	const uint8_t *d = f->dns;
	uint8_t qwire[PX_DNS_NAME_BUF];
	unsigned qlen = px_test_name(qwire, qname);
	uint16_t pos = (uint16_t)(PX_DNS_HDR_LEN + qlen + 4);

	ck_assert(!f->upstream);
	ck_assert_uint_eq(f->dport, port);
	ck_assert_uint_eq(px_get16(d), id);
	ck_assert_uint_eq(px_get16(d + 2), PX_DNS_QR | PX_DNS_RD | PX_DNS_RA | rcode);
	ck_assert_uint_eq(px_get16(d + 4), 1);
	ck_assert_uint_eq(px_get16(d + 10), 1); /* our OPT: the client sent EDNS */
	/* The question echoed byte for byte, letter case included. */
	ck_assert_uint_ge(f->dns_len, pos);
	ck_assert_mem_eq(d + PX_DNS_HDR_LEN, qwire, qlen);
	ck_assert_uint_eq(px_get16(d + PX_DNS_HDR_LEN + qlen), PX_DNS_TYPE_A);
	if (rcode != PX_DNS_RCODE_NOERROR) {
		ck_assert_uint_eq(px_get16(d + 6), 0);
		ck_assert_uint_eq(px_get16(d + 8), 0);
		ck_assert_uint_eq(read_opt(d, f->dns_len, pos), f->dns_len);
		if (rcode == PX_DNS_RCODE_SERVFAIL)
			ck_assert_int_ge(tm.last_ede, 0);
		return;
	}
	ck_assert_uint_eq(px_get16(d + 6), 1);
	ck_assert_uint_eq(px_get16(d + 8), 0);
	if ((d[pos] & 0xc0) == 0xc0) {
		pos += 2;
	} else {
		char owner[PX_DNS_NAME_BUF];

		read_name(d, f->dns_len, &pos, owner);
		ck_assert_int_eq(strcasecmp(owner, qname), 0);
	}
	ck_assert_uint_eq(f->dns_len, pos + 10u + 4u + PX_DNS_OPT_LEN);
	ck_assert_uint_eq(px_get16(d + pos), PX_DNS_TYPE_A);
	ck_assert_uint_eq(px_get16(d + pos + 2), PX_DNS_CLASS_IN);
	ck_assert_uint_le(px_get32(d + pos + 4), 300);
	ck_assert_uint_eq(px_get16(d + pos + 8), 4);
	ck_assert_mem_eq(d + pos + 10, "\xc6\x33\x64\x07", 4);
	ck_assert_uint_eq(px_get16(d + pos + 14 + 1), PX_DNS_TYPE_OPT);
}

