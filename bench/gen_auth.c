/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_memif's authoritative servers, from memory, for the cache-miss benchmark:
 *  - the root at 198.18.1.1 (a.root-servers.test): answers ". NS" (priming, with the glue) and
 *    refers every name under test. to the TLD with in-bailiwick glue; NXDOMAIN for other TLDs;
 *  - test. at 198.18.1.2 (ns.nic.test): refers zK.test (K below --zones) and dN.test (any N) to
 *    ns.zK.test / ns.dN.test, glue 198.18.2.(1 + index % 250);
 *  - the leaf servers 198.18.2.1-250: each answers, with AA, the zones whose index maps to it
 *    (any other zone: REFUSED, as a lame server would): n<i>.<zone> A is a_base + i % 65536,
 *    ns.<zone> A its own address, the apex's NS and SOA; any other type of an existing name is
 *    NODATA and anything else NXDOMAIN, both with the zone's SOA.
 * Every reply is real DNS built in the query's own mbuf: the query's ID, RD and question kept
 * byte for byte (so a 0x20-randomised question comes back in its case), owners and in-zone
 * names compressed against the question as servers do, an OPT when the query had one, and the
 * IP and UDP headers swapped with both checksums computed. A query is checked first (IPv4
 * without options or fragments, its UDP checksum, QR clear, opcode QUERY, one question and
 * nothing else but an OPT, a well-formed uncompressed name); one that fails is counted in
 * auth.bad and dropped, which gen_memif treats as a failed run: the resolver sent garbage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <pollux/wire.h>

#include "gen_auth.h"

#define AUTH_L2 ((uint16_t)sizeof(struct rte_ether_hdr))
#define AUTH_L3 ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define AUTH_DNS_OFF (AUTH_L2 + AUTH_L3 + (uint16_t)sizeof(struct rte_udp_hdr))
#define AUTH_MAX_LABELS 128
#define AUTH_TTL_NS 172800
#define AUTH_TTL_A 3600
#define AUTH_TTL_SOA 300

enum auth_role { AUTH_ROOT, AUTH_TLD, AUTH_LEAF, AUTH_ROLES };

#define AUTH_COUNTERS(X) \
	X(arp_replies) X(arp_other) X(root_queries) X(tld_queries) X(leaf_queries) \
	X(answers) X(referrals) X(nodata) X(nxdomain) X(refused) X(bad)

static struct {
#define AUTH_FIELD(n) uint64_t n;
	AUTH_COUNTERS(AUTH_FIELD)
#undef AUTH_FIELD
} ast;

static struct gen_auth_cfg cfg;

/* The query as parsed: label offsets (from the DNS header) of the question name. */
struct auth_query {
	uint8_t *dns;
	uint16_t qname_end; /* offset of the qtype */
	uint16_t qtype;
	uint16_t flags;
	bool opt;
	unsigned nlab;
	uint16_t lab[AUTH_MAX_LABELS];
};

/* A reply being appended after the question; any overrun sets err and writes nothing more. */
struct auth_w {
	uint8_t *dns;
	uint16_t len, cap;
	bool err;
	bool referral; /* not authoritative: AA stays clear */
	uint16_t an, ns, ar;
};

void
gen_auth_init(const struct gen_auth_cfg *c)
{
	cfg = *c;
	memset(&ast, 0, sizeof(ast));
}

uint32_t
gen_auth_name(char *buf, size_t size, uint64_t i, bool fresh)
{
	if (fresh)
		snprintf(buf, size, "n%" PRIu64 ".d%" PRIu64 ".test", i, i);
	else
		snprintf(buf, size, "n%" PRIu64 ".z%" PRIu64 ".test", i, i % cfg.zones);
	return cfg.a_base + (uint32_t)(i % 65536);
}

static void
put(struct auth_w *w, const void *p, uint16_t n)
{
	if (w->err || w->len + n > w->cap) {
		w->err = true;
		return;
	}
	memcpy(w->dns + w->len, p, n);
	w->len = (uint16_t)(w->len + n);
}

static void
put16(struct auth_w *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(w, b, 2);
}

static void
put32(struct auth_w *w, uint32_t v)
{
	put16(w, (uint16_t)(v >> 16));
	put16(w, (uint16_t)v);
}

/* Writes the dotted labels of text (may be NULL or empty), then a pointer to offset ptr of the
 * message, or the root label when ptr is 0. Returns the name's offset. */
static uint16_t
put_name(struct auth_w *w, const char *text, uint16_t ptr)
{
	uint16_t at = w->len;

	while (text != NULL && *text != '\0') {
		const char *dot = strchr(text, '.');
		size_t l = dot != NULL ? (size_t)(dot - text) : strlen(text);
		uint8_t b = (uint8_t)l;

		put(w, &b, 1);
		put(w, text, (uint16_t)l);
		text += l + (dot != NULL);
	}
	if (ptr != 0)
		put16(w, (uint16_t)(0xc000 | ptr));
	else
		put(w, "", 1);
	return at;
}

/* Type, class IN, TTL and a zero rdlength; returns the rdlength's offset for rr_end(). */
static uint16_t
rr_start(struct auth_w *w, uint16_t type, uint32_t ttl)
{
	put16(w, type);
	put16(w, PX_DNS_CLASS_IN);
	put32(w, ttl);
	put16(w, 0);
	return (uint16_t)(w->len - 2);
}

static void
rr_end(struct auth_w *w, uint16_t rdlen_at)
{
	if (!w->err)
		px_put16(w->dns + rdlen_at, (uint16_t)(w->len - rdlen_at - 2));
}

static void
rr_a(struct auth_w *w, const char *text, uint16_t ptr, uint32_t ttl, uint32_t addr)
{
	put_name(w, text, ptr);
	put16(w, PX_DNS_TYPE_A);
	put16(w, PX_DNS_CLASS_IN);
	put32(w, ttl);
	put16(w, 4);
	put32(w, addr);
}

/* zone NS ns_text.ns_ptr, and ns's A record with addr as glue (or in the answer's additional
 * section); the NS record goes in the answer or the authority section by the caller's count. */
static void
rr_ns_glue(struct auth_w *w, uint16_t zone, const char *ns_text, uint16_t ns_ptr, uint32_t addr,
	   uint16_t *count)
{
	uint16_t rd, ns_at;

	put_name(w, NULL, zone);
	rd = rr_start(w, PX_DNS_TYPE_NS, AUTH_TTL_NS);
	ns_at = put_name(w, ns_text, ns_ptr);
	rr_end(w, rd);
	(*count)++;
	rr_a(w, NULL, ns_at, AUTH_TTL_NS, addr);
	w->ar++;
}

static void
rr_soa(struct auth_w *w, uint16_t zone, uint16_t *count)
{
	uint16_t rd;

	put_name(w, NULL, zone);
	rd = rr_start(w, PX_DNS_TYPE_SOA, AUTH_TTL_SOA);
	put_name(w, zone == 0 ? GEN_AUTH_ROOT_NAME : "ns", zone);
	put_name(w, "hostmaster", zone);
	put32(w, 1);
	put32(w, 3600);
	put32(w, 600);
	put32(w, 86400);
	put32(w, AUTH_TTL_SOA);
	rr_end(w, rd);
	(*count)++;
}

static bool
label_is(const uint8_t *lab, const char *s)
{
	size_t n = strlen(s);

	if (lab[0] != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((lab[1 + i] | 0x20) != s[i])
			return false;
	return true;
}

/* True if the label is the letter c (either case) and 1-19 decimal digits; *v their value. */
static bool
label_num(const uint8_t *lab, char c, uint64_t *v)
{
	if (lab[0] < 2 || lab[0] > 20 || (lab[1] | 0x20) != c)
		return false;
	*v = 0;
	for (unsigned i = 2; i <= lab[0]; i++) {
		if (lab[i] < '0' || lab[i] > '9')
			return false;
		*v = *v * 10 + (uint64_t)(lab[i] - '0');
	}
	return true;
}

static uint32_t
leaf_ip(uint64_t index)
{
	return GEN_AUTH_LEAF_NET + 1 + (uint32_t)(index % GEN_AUTH_LEAF_SERVERS);
}

/* Which leaf zone label i of q names (zK.test or dN.test, label i + 1 being test.). */
static bool
leaf_zone(const struct auth_query *q, unsigned i, uint64_t *index)
{
	const uint8_t *lab = q->dns + q->lab[i];

	if (label_num(lab, 'z', index))
		return *index < cfg.zones;
	return label_num(lab, 'd', index);
}

/* Label i of the question, counted from the first: its offset, usable as a pointer target. */
#define LAB(q, i) ((q)->lab[(i)])
/* The question's suffix k labels from the end (k = 1: the TLD). */
#define SUFFIX(q, k) LAB(q, (q)->nlab - (k))

static uint8_t
serve_root(const struct auth_query *q, struct auth_w *w)
{
	ast.root_queries++;
	if (q->nlab == 0) {
		if (q->qtype == PX_DNS_TYPE_NS) {
			uint16_t rd, ns_at;

			put_name(w, NULL, 0);
			rd = rr_start(w, PX_DNS_TYPE_NS, AUTH_TTL_NS * 3);
			ns_at = put_name(w, GEN_AUTH_ROOT_NAME, 0);
			rr_end(w, rd);
			w->an++;
			rr_a(w, NULL, ns_at, AUTH_TTL_NS * 3, GEN_AUTH_ROOT_IP);
			w->ar++;
		} else if (q->qtype == PX_DNS_TYPE_SOA) {
			rr_soa(w, 0, &w->an);
		} else {
			rr_soa(w, 0, &w->ns);
		}
		return PX_DNS_RCODE_NOERROR;
	}
	if (label_is(q->dns + SUFFIX(q, 1), "test")) {
		rr_ns_glue(w, SUFFIX(q, 1), "ns.nic", SUFFIX(q, 1), GEN_AUTH_TLD_IP, &w->ns);
		w->referral = true;
		return PX_DNS_RCODE_NOERROR;
	}
	rr_soa(w, 0, &w->ns);
	return PX_DNS_RCODE_NXDOMAIN;
}

static uint8_t
serve_tld(const struct auth_query *q, struct auth_w *w)
{
	uint16_t tld = q->nlab != 0 ? SUFFIX(q, 1) : 0;
	uint64_t index;

	ast.tld_queries++;
	if (q->nlab == 0 || !label_is(q->dns + tld, "test"))
		return PX_DNS_RCODE_REFUSED;
	if (q->nlab == 1) {
		if (q->qtype == PX_DNS_TYPE_NS)
			rr_ns_glue(w, tld, "ns.nic", tld, GEN_AUTH_TLD_IP, &w->an);
		else
			rr_soa(w, tld, q->qtype == PX_DNS_TYPE_SOA ? &w->an : &w->ns);
		return PX_DNS_RCODE_NOERROR;
	}
	if (leaf_zone(q, q->nlab - 2, &index)) {
		rr_ns_glue(w, SUFFIX(q, 2), "ns", SUFFIX(q, 2), leaf_ip(index), &w->ns);
		w->referral = true;
		return PX_DNS_RCODE_NOERROR;
	}
	if (q->nlab == 3 && label_is(q->dns + SUFFIX(q, 2), "nic") &&
	    label_is(q->dns + SUFFIX(q, 3), "ns")) {
		if (q->qtype == PX_DNS_TYPE_A) {
			rr_a(w, NULL, PX_DNS_HDR_LEN, AUTH_TTL_NS, GEN_AUTH_TLD_IP);
			w->an++;
		} else {
			rr_soa(w, tld, &w->ns);
		}
		return PX_DNS_RCODE_NOERROR;
	}
	rr_soa(w, tld, &w->ns);
	return PX_DNS_RCODE_NXDOMAIN;
}

static uint8_t
serve_leaf(const struct auth_query *q, struct auth_w *w, uint32_t server)
{
	uint64_t index, i;
	uint16_t zone;

	ast.leaf_queries++;
	if (q->nlab < 2 || !label_is(q->dns + SUFFIX(q, 1), "test") ||
	    !leaf_zone(q, q->nlab - 2, &index) || leaf_ip(index) != server)
		return PX_DNS_RCODE_REFUSED;
	zone = SUFFIX(q, 2);
	if (q->nlab == 2) {
		if (q->qtype == PX_DNS_TYPE_NS)
			rr_ns_glue(w, zone, "ns", zone, server, &w->an);
		else
			rr_soa(w, zone, q->qtype == PX_DNS_TYPE_SOA ? &w->an : &w->ns);
		return PX_DNS_RCODE_NOERROR;
	}
	if (q->nlab == 3 && (label_num(q->dns + LAB(q, 0), 'n', &i) ||
			     label_is(q->dns + LAB(q, 0), "ns"))) {
		bool ns = label_is(q->dns + LAB(q, 0), "ns");

		if (q->qtype == PX_DNS_TYPE_A) {
			rr_a(w, NULL, PX_DNS_HDR_LEN, AUTH_TTL_A,
			     ns ? server : cfg.a_base + (uint32_t)(i % 65536));
			w->an++;
		} else {
			rr_soa(w, zone, &w->ns);
		}
		return PX_DNS_RCODE_NOERROR;
	}
	rr_soa(w, zone, &w->ns);
	return PX_DNS_RCODE_NXDOMAIN;
}

/* Parses the DNS query at dns (len bytes) into q; false when it is not a well-formed query. */
static bool
parse_query(uint8_t *dns, uint16_t len, struct auth_query *q)
{
	uint16_t off = PX_DNS_HDR_LEN, ar;

	if (len < PX_DNS_HDR_LEN + 5)
		return false;
	q->dns = dns;
	q->flags = px_get16(dns + 2);
	ar = px_get16(dns + 10);
	if ((q->flags & PX_DNS_QR) || px_get16(dns + 4) != 1 || px_get16(dns + 6) != 0 ||
	    px_get16(dns + 8) != 0 || ar > 1)
		return false;
	q->nlab = 0;
	while (off < len && dns[off] != 0) {
		if (dns[off] > PX_DNS_MAX_LABEL || q->nlab == AUTH_MAX_LABELS ||
		    off + 1 + dns[off] >= len)
			return false; /* a pointer, an over-long label or no room for the rest */
		q->lab[q->nlab++] = off;
		off = (uint16_t)(off + 1 + dns[off]);
	}
	if (off - PX_DNS_HDR_LEN + 1 > PX_DNS_MAX_NAME || len < off + 5)
		return false;
	q->qname_end = (uint16_t)(off + 1);
	q->qtype = px_get16(dns + q->qname_end);
	if (px_get16(dns + q->qname_end + 2) != PX_DNS_CLASS_IN)
		return false;
	off = (uint16_t)(q->qname_end + 4);
	q->opt = ar == 1;
	/* The one additional record must be an OPT owned by the root with no more after it. */
	return ar == 0 ? off == len
		       : len >= off + PX_DNS_OPT_LEN && dns[off] == 0 &&
				 px_get16(dns + off + 1) == PX_DNS_TYPE_OPT &&
				 off + PX_DNS_OPT_LEN + px_get16(dns + off + 9) == len;
}

static enum gen_auth_verdict
arp_reply(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *a = &arp->arp_data;

	if (m->data_len < AUTH_L2 + sizeof(*arp) || arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || a->arp_tip != cfg.self_ip) {
		ast.arp_other++;
		return GEN_AUTH_DROP;
	}
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&a->arp_sha, &a->arp_tha);
	a->arp_tip = a->arp_sip;
	rte_ether_addr_copy(&cfg.mac, &a->arp_sha);
	a->arp_sip = cfg.self_ip;
	rte_ether_addr_copy(&a->arp_tha, &eth->dst_addr);
	rte_ether_addr_copy(&cfg.mac, &eth->src_addr);
	ast.arp_replies++;
	return GEN_AUTH_REPLY;
}

static enum auth_role
role_of(uint32_t dst_host)
{
	if (dst_host == GEN_AUTH_ROOT_IP)
		return AUTH_ROOT;
	if (dst_host == GEN_AUTH_TLD_IP)
		return AUTH_TLD;
	if (dst_host > GEN_AUTH_LEAF_NET && dst_host <= GEN_AUTH_LEAF_NET + GEN_AUTH_LEAF_SERVERS)
		return AUTH_LEAF;
	return AUTH_ROLES;
}

/* Turns the checked query in m into its reply: question kept, records after it, headers
 * swapped. */
static enum gen_auth_verdict
reply(struct rte_mbuf *m, struct rte_ipv4_hdr *ip, struct rte_udp_hdr *udp,
      const struct auth_query *q, enum auth_role role)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint32_t server = rte_be_to_cpu_32(ip->dst_addr), t;
	struct auth_w w = {
		.dns = q->dns, .len = (uint16_t)(q->qname_end + 4),
		.cap = (uint16_t)RTE_MIN(m->buf_len - m->data_off - AUTH_DNS_OFF, 1232),
	};
	uint8_t rcode;
	uint16_t port;

	rcode = role == AUTH_ROOT  ? serve_root(q, &w)
		: role == AUTH_TLD ? serve_tld(q, &w)
				   : serve_leaf(q, &w, server);
	if (rcode == PX_DNS_RCODE_REFUSED) {
		w.len = (uint16_t)(q->qname_end + 4);
		w.an = w.ns = w.ar = 0;
		ast.refused++;
	} else if (w.referral) {
		ast.referrals++;
	} else if (w.an != 0) {
		ast.answers++;
	} else if (rcode == PX_DNS_RCODE_NXDOMAIN) {
		ast.nxdomain++;
	} else {
		ast.nodata++;
	}
	if (q->opt) {
		put(&w, "", 1);
		put16(&w, PX_DNS_TYPE_OPT);
		put16(&w, PX_DNS_EDNS_BUFSIZE);
		put32(&w, 0);
		put16(&w, 0);
		w.ar++;
	}
	if (w.err) {
		ast.bad++;
		return GEN_AUTH_DROP;
	}
	/* AA on what a zone's own server says; a referral is not authoritative. */
	px_put16(q->dns + 2, (uint16_t)(PX_DNS_QR | (q->flags & PX_DNS_RD) | rcode |
					(rcode != PX_DNS_RCODE_REFUSED && !w.referral ? PX_DNS_AA : 0)));
	px_put16(q->dns + 6, w.an);
	px_put16(q->dns + 8, w.ns);
	px_put16(q->dns + 10, w.ar);

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&cfg.mac, &eth->src_addr);
	t = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = t;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(AUTH_L3 + sizeof(*udp) + w.len));
	ip->time_to_live = 64;
	ip->packet_id = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	port = udp->src_port;
	udp->src_port = udp->dst_port;
	udp->dst_port = port;
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + w.len));
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	m->data_len = m->pkt_len = (uint16_t)(AUTH_DNS_OFF + w.len);
	m->ol_flags = 0;
	return GEN_AUTH_REPLY;
}

enum gen_auth_verdict
gen_auth_take(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct auth_query q;
	enum auth_role role;
	uint16_t ip_len;

	if (m->nb_segs != 1 || m->data_len < AUTH_L2)
		return GEN_AUTH_PASS;
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP))
		return arp_reply(m);
	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) || m->data_len < AUTH_DNS_OFF ||
	    ip->next_proto_id != IPPROTO_UDP || udp->dst_port != RTE_BE16(PX_DNS_PORT))
		return GEN_AUTH_PASS;
	role = role_of(rte_be_to_cpu_32(ip->dst_addr));
	if (role == AUTH_ROLES)
		return GEN_AUTH_PASS;
	ip_len = rte_be_to_cpu_16(ip->total_length);
	if (ip->version_ihl != RTE_IPV4_VHL_DEF || rte_ipv4_cksum(ip) != 0 ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG)) ||
	    ip_len > m->data_len - AUTH_L2 || ip_len < AUTH_L3 + sizeof(*udp) ||
	    rte_be_to_cpu_16(udp->dgram_len) != ip_len - AUTH_L3 ||
	    (udp->dgram_cksum != 0 && rte_ipv4_udptcp_cksum_verify(ip, udp) != 0) ||
	    !parse_query((uint8_t *)(udp + 1), (uint16_t)(ip_len - AUTH_L3 - sizeof(*udp)), &q)) {
		ast.bad++;
		return GEN_AUTH_DROP;
	}
	if ((q.flags & PX_DNS_OPCODE_MASK) != 0) {
		ast.bad++;
		return GEN_AUTH_DROP;
	}
	return reply(m, ip, udp, &q, role);
}

uint64_t
gen_auth_report(void)
{
#define AUTH_PRINT(n) printf("auth." #n ": %" PRIu64 "\n", ast.n);
	AUTH_COUNTERS(AUTH_PRINT)
#undef AUTH_PRINT
	return ast.bad;
}

static int
arp_request(uint16_t port, struct rte_mbuf *m, const struct rte_ether_addr *mac, uint32_t src_ip,
	    uint32_t dst_ip)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	memset(eth->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	memset(arp, 0, sizeof(*arp));
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = src_ip;
	arp->arp_data.arp_tip = dst_ip;
	m->data_len = m->pkt_len = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
	return rte_eth_tx_burst(port, 0, &m, 1) == 1 ? 0 : -ENOBUFS;
}

int
gen_arp_resolve(uint16_t port, struct rte_mempool *pool, const struct rte_ether_addr *mac,
		uint32_t src_ip, uint32_t dst_ip, struct rte_ether_addr *out,
		const volatile sig_atomic_t *stop)
{
	uint64_t hz = rte_get_tsc_hz(), end = rte_rdtsc() + 5 * hz, next = 0;

	while (!*stop && rte_rdtsc() < end) {
		struct rte_mbuf *rx[32];
		uint16_t n;

		if (rte_rdtsc() >= next) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

			if (m != NULL && arp_request(port, m, mac, src_ip, dst_ip) != 0)
				rte_pktmbuf_free(m);
			next = rte_rdtsc() + hz / 10;
		}
		n = rte_eth_rx_burst(port, 0, rx, 32);
		for (uint16_t i = 0; i < n; i++) {
			const struct rte_ether_hdr *eth =
				rte_pktmbuf_mtod(rx[i], const struct rte_ether_hdr *);
			const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eth + 1);
			bool ok = rx[i]->data_len >= AUTH_L2 + sizeof(*arp) &&
				  eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP) &&
				  arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY) &&
				  arp->arp_data.arp_sip == dst_ip;

			if (ok)
				rte_ether_addr_copy(&arp->arp_data.arp_sha, out);
			if (ok) {
				rte_pktmbuf_free_bulk(rx + i, n - i);
				return 0;
			}
			rte_pktmbuf_free(rx[i]);
		}
	}
	return -ETIMEDOUT;
}
