/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker side of iterative resolution; see dp_recurse.h for what it does and what it does
 * not do yet.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dp_answer.h"
#include "dp_cache.h"
#include "dp_cache_feed.h"
#include "dp_cksum.h"
#include "dp_cut.h"
#include "dp_nbr.h"
#include "dp_neigh.h"
#include "dp_prime.h"
#include "dp_recurse.h"
#include "dp_reply.h"
#include "dp_tcp.h"
#include "dp_upstream.h"

#define L2_LEN ((uint16_t)sizeof(struct rte_ether_hdr))
#define IP4_LEN ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define IP6_LEN ((uint16_t)sizeof(struct rte_ipv6_hdr))
#define UDP_LEN ((uint16_t)sizeof(struct rte_udp_hdr))
/* Header and question as the client asked them: 12 + 255 + 4. */
#define REC_QMSG_MAX (PX_DNS_HDR_LEN + PX_DNS_MAX_NAME + 4)

/* A client waiting for a resolution. */
struct rec_client {
	uint32_t gen;     /* bumped at each release: a stale cookie finds a different gen */
	bool used;
	struct dp_client_addr from;
	uint16_t flags;   /* the query's header flags */
	uint16_t question_end;
	uint16_t edns_bufsize;
	bool edns, edns_do;
	uint8_t msg[REC_QMSG_MAX]; /* header and question, byte for byte as asked */
};

/* The query in flight for resolution index i (a resolution has at most one). */
struct rec_send {
	uint64_t res;        /* the resolution handle it serves, 0 when none */
	uint64_t upq_handle; /* its entry in the outstanding-query table */
	bool unsent;           /* no frame left: no neighbour MAC or no mbuf yet */
	uint8_t unsent_retries; /* times the tick sent it again for that reason */
	uint8_t zone_len;
	uint8_t zone[PX_DNS_NAME_BUF]; /* the bailiwick the reply is scrubbed with */
};

/* The client cookie of the priming resolution: no client slot has that index, so nobody is
 * answered for it (clients asking ". NS" meanwhile attach and are). */
#define DP_REC_PRIME_COOKIE UINT64_MAX

/* rec_send.upq_handle while the query waits for its TCP retry (dp_tcp.h): no table entry has
 * this handle (its index is past any capacity), so the UDP paths never match it. */
#define REC_UPQ_TCP UINT64_MAX

/* A query that never left (no next-hop MAC yet, no mbuf) is sent again at its deadline this many
 * times before the resolver hears of it: the server did nothing wrong. */
#define DP_REC_UNSENT_RETRIES 2

struct dp_recurse {
	struct dp_recurse_conf conf;
	struct rte_mempool *pool;
	struct dp_resolver *res;
	struct dp_upq_table *upq;
	struct rec_client *clients;
	uint32_t *client_free;
	uint32_t client_free_count;
	struct rec_send *sends;
	struct dp_reply reply; /* scratch for one classification (about 7 KiB) */
	struct dp_rand rand;

	uint64_t gw_check_ms; /* next look at the gateways' neighbour entries */
	uint8_t *owners;      /* the shared port owner map, NULL with one worker */
	uint16_t *port_refs;
	uint8_t self;         /* our index + 1 in owners */

	/* Priming: the resolution in flight (0: none), when to look at the root cut next, and the
	 * backoff for the next attempt. */
	uint64_t prime_res;
	uint64_t prime_next_ms;
	uint32_t prime_backoff_ms;

	uint16_t tx_count;
	struct rte_mbuf *tx[DP_REC_TX_BATCH];

	void *res_mem, *upq_mem;
};

static void rec_run(struct dp_lcore *lc, struct dp_resolve_action *act);

const struct dp_resolver *
dp_recurse_resolver(const struct dp_recurse *rc)
{
	return rc->res;
}

struct dp_recurse *
dp_recurse_create(const struct dp_recurse_conf *conf, int socket, struct rte_mempool *pool,
		  uint64_t now_ms)
{
	struct dp_recurse *rc;
	uint32_t n = conf->slots;
	size_t rsz = dp_resolve_memsize(n), usz = dp_upq_memsize(n);
	uint64_t seed;
	int ret;

	if (n == 0 || n > DP_REC_MAX_SLOTS || rsz == 0 || usz == 0 || pool == NULL ||
	    conf->policy == NULL) {
		errno = EINVAL;
		return NULL;
	}
	rc = rte_zmalloc_socket("pollux_rec", sizeof(*rc), RTE_CACHE_LINE_SIZE, socket);
	if (rc == NULL)
		goto nomem;
	rc->conf = *conf;
	rc->pool = pool;
	rc->clients = rte_zmalloc_socket("pollux_rec_clients", sizeof(*rc->clients) * n,
					 RTE_CACHE_LINE_SIZE, socket);
	rc->client_free = rte_zmalloc_socket("pollux_rec_cfree", sizeof(uint32_t) * n, 0, socket);
	rc->sends = rte_zmalloc_socket("pollux_rec_sends", sizeof(*rc->sends) * n,
				       RTE_CACHE_LINE_SIZE, socket);
	rc->res_mem = rte_zmalloc_socket("pollux_rec_res", rsz, RTE_CACHE_LINE_SIZE, socket);
	rc->upq_mem = rte_zmalloc_socket("pollux_rec_upq", usz, RTE_CACHE_LINE_SIZE, socket);
	if (rc->clients == NULL || rc->client_free == NULL || rc->sends == NULL ||
	    rc->res_mem == NULL || rc->upq_mem == NULL)
		goto nomem;
	ret = dp_rand_init(&rc->rand);
	if (ret != 0) {
		dp_recurse_free(rc);
		errno = -ret;
		return NULL;
	}
	seed = (uint64_t)dp_rand_u32(&rc->rand) << 32 | dp_rand_u32(&rc->rand);
	rc->upq = dp_upq_init(rc->upq_mem, n, now_ms, seed);
	rc->res = dp_resolve_init(rc->res_mem, n, &conf->resolve, conf->policy, rc->upq,
				  &rc->rand);
	if (rc->upq == NULL || rc->res == NULL) {
		dp_recurse_free(rc);
		errno = EINVAL;
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		rc->client_free[i] = n - 1 - i;
	rc->client_free_count = n;
	rc->prime_backoff_ms = DP_REC_PRIME_BACKOFF_MS;
	return rc;
nomem:
	dp_recurse_free(rc);
	errno = ENOMEM;
	return NULL;
}

void
dp_recurse_free(struct dp_recurse *rc)
{
	if (rc == NULL)
		return;
	rte_free(rc->clients);
	rte_free(rc->client_free);
	rte_free(rc->sends);
	rte_free(rc->res_mem);
	rte_free(rc->upq_mem);
	rte_free(rc->port_refs);
	rte_free(rc);
}

int
dp_recurse_share_ports(struct dp_recurse *rc, uint8_t *owners, unsigned worker, int socket)
{
	if (owners == NULL || worker >= UINT8_MAX) {
		errno = EINVAL;
		return -1;
	}
	rc->port_refs = rte_zmalloc_socket("pollux_rec_ports", DP_UPQ_PORT_REFS_SIZE, 0, socket);
	if (rc->port_refs == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (dp_upq_share_ports(rc->upq, owners, (uint8_t)(worker + 1), rc->port_refs) != 0) {
		errno = EINVAL;
		return -1;
	}
	rc->owners = owners;
	rc->self = (uint8_t)(worker + 1);
	return 0;
}

/* TX: frames the resolution path makes are batched here and sent at the end of the iteration,
 * or as soon as the batch is full. */
static void
rec_flush(struct dp_lcore *lc)
{
	struct dp_recurse *rc = lc->rec;
	uint16_t n = rc->tx_count;

	if (n == 0)
		return;
	dp_tx_port(lc, rc->tx, n);
	rc->tx_count = 0;
}

static void
rec_queue(struct dp_lcore *lc, struct rte_mbuf *m)
{
	struct dp_recurse *rc = lc->rec;

	if (rc->tx_count == DP_REC_TX_BATCH)
		rec_flush(lc);
	rc->tx[rc->tx_count++] = m;
}

/* Writes Ethernet, IP and UDP headers in front of dns_len bytes already at the DNS offset of m,
 * with checksums, and sets the frame's length. */
static void
rec_frame(struct dp_lcore *lc, struct rte_mbuf *m, uint8_t family, const struct rte_ether_addr *dst,
	  const uint8_t *daddr, uint16_t sport_be, uint16_t dport_be, uint16_t dns_len)
{
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_udp_hdr *udp;
	uint16_t l4 = (uint16_t)(UDP_LEN + dns_len);

	rte_ether_addr_copy(dst, &eth->dst_addr);
	rte_ether_addr_copy(&pc->mac, &eth->src_addr);
	if (family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		memset(ip, 0, IP4_LEN);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(IP4_LEN + l4));
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = pc->ip4;
		memcpy(&ip->dst_addr, daddr, 4);
		ip->hdr_checksum = dp_cksum_ip4(ip);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->src_port = sport_be;
		udp->dst_port = dport_be;
		udp->dgram_len = rte_cpu_to_be_16(l4);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = dp_cksum_l4(dp_cksum_phdr4(ip, l4), udp, l4);
		m->data_len = (uint16_t)(L2_LEN + IP4_LEN + l4);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
		ip->vtc_flow = RTE_BE32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(l4);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, pc->ip6, 16);
		memcpy(ip->dst_addr, daddr, 16);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->src_port = sport_be;
		udp->dst_port = dport_be;
		udp->dgram_len = rte_cpu_to_be_16(l4);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = dp_cksum_l4(dp_cksum_phdr6(ip, l4), udp, l4);
		m->data_len = (uint16_t)(L2_LEN + IP6_LEN + l4);
	}
	m->pkt_len = m->data_len;
	m->ol_flags = 0;
}

static inline uint16_t
dns_off(uint8_t family)
{
	return (uint16_t)(L2_LEN + (family == 4 ? IP4_LEN : IP6_LEN) + UDP_LEN);
}

/* Room for DNS bytes in a fresh mbuf. */
static inline uint16_t
dns_cap(const struct rte_mbuf *m, uint8_t family)
{
	uint32_t room = rte_pktmbuf_tailroom(m);

	room = room > dns_off(family) ? room - dns_off(family) : 0;
	return room > UINT16_MAX ? UINT16_MAX : (uint16_t)room;
}

/* ARP request for tip (network order), broadcast. */
static void
probe4(struct dp_lcore *lc, uint32_t tip)
{
	struct dp_recurse *rc = lc->rec;
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_mbuf *m = rte_pktmbuf_alloc(rc->pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (m == NULL) {
		DP_STAT_INC(lc, rec_drop_no_mbuf);
		return;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	arp = (struct rte_arp_hdr *)(eth + 1);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(&pc->mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&pc->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = pc->ip4;
	memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = tip;
	m->data_len = m->pkt_len = (uint32_t)(L2_LEN + sizeof(*arp));
	rec_queue(lc, m);
	DP_STAT_INC(lc, rec_neigh_probes);
}

/* Neighbour solicitation for target, to its solicited-node group. */
static void
probe6(struct dp_lcore *lc, const uint8_t *target)
{
	struct dp_recurse *rc = lc->rec;
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_mbuf *m = rte_pktmbuf_alloc(rc->pool);
	/* type, code, cksum(2), reserved(4), target(16), option: type 1, len 1, our MAC */
	const uint16_t ns_len = 4 + 4 + 16 + 8;
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	uint8_t *icmp;
	const uint8_t *gw = target;

	if (m == NULL) {
		DP_STAT_INC(lc, rec_drop_no_mbuf);
		return;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	icmp = (uint8_t *)(ip + 1);
	/* To the target's solicited-node group (RFC 4861 7.2.2), 33:33 + its low 32 bits. */
	struct rte_ether_addr mc = {{0x33, 0x33, 0xff, gw[13], gw[14], gw[15]}};

	rte_ether_addr_copy(&mc, &eth->dst_addr);
	rte_ether_addr_copy(&pc->mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(ns_len);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 255;
	/* From the link-local address when the gateway is link-local, else the global one. */
	memcpy(ip->src_addr, gw[0] == 0xfe && (gw[1] & 0xc0) == 0x80 ? pc->ip6_ll : pc->ip6, 16);
	memset(ip->dst_addr, 0, 16);
	ip->dst_addr[0] = 0xff;
	ip->dst_addr[1] = 0x02;
	ip->dst_addr[11] = 0x01;
	ip->dst_addr[12] = 0xff;
	memcpy(ip->dst_addr + 13, gw + 13, 3);
	memset(icmp, 0, ns_len);
	icmp[0] = DP_ICMP6_NS;
	memcpy(icmp + 8, gw, 16);
	icmp[24] = 1; /* source link-layer address option */
	icmp[25] = 1;
	memcpy(icmp + 26, pc->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	uint16_t ck = rte_ipv6_udptcp_cksum(ip, icmp);

	memcpy(icmp + 2, &ck, 2);
	m->data_len = m->pkt_len = (uint32_t)(L2_LEN + IP6_LEN + ns_len);
	rec_queue(lc, m);
	DP_STAT_INC(lc, rec_neigh_probes);
}


/*
 * The next hop for server: the server itself when it lies in the port's subnet of its family,
 * else that family's gateway. Returns the next hop's address (4 or 16 bytes), or NULL when
 * there is none (no address of that family, or off-link without a gateway).
 */
static const uint8_t *
rec_nexthop(const struct dp_lcore *lc, const struct dp_upq_addr *srv, bool *on_link)
{
	const struct dp_recurse *rc = lc->rec;
	const struct dp_port_conf *pc = &lc->ctx->port;

	if (srv->family == DP_UPQ_AF_INET) {
		if (!pc->has_ip4)
			return NULL;
		*on_link = dp_nbr_on_link(4, srv->a, (const uint8_t *)&pc->ip4, pc->ip4_prefix);
		if (*on_link)
			return srv->a;
		return rc->conf.has_gw4 ? (const uint8_t *)&rc->conf.gw4 : NULL;
	}
	if (!pc->has_ip6)
		return NULL;
	*on_link = dp_nbr_on_link(6, srv->a, pc->ip6, pc->ip6_prefix);
	if (*on_link)
		return srv->a;
	return rc->conf.has_gw6 ? rc->conf.gw6 : NULL;
}

/* Asks the link for hop (probe rate-limited across workers by the neighbour table). */
static void
rec_probe(struct dp_lcore *lc, uint8_t family, const uint8_t *hop, bool pinned)
{
	if (!dp_nbr_want(lc->ctx->nbr, family, hop, pinned, lc->now_ms))
		return;
	if (family == 4) {
		uint32_t tip;

		memcpy(&tip, hop, 4);
		probe4(lc, tip);
	} else {
		probe6(lc, hop);
	}
}

/* Fills mac with the next hop's MAC for server, asking the link when it is unknown or stale.
 * False when it is not known yet (the probe is on its way). */
static bool
rec_nexthop_mac(struct dp_lcore *lc, const struct dp_upq_addr *srv, struct rte_ether_addr *mac)
{
	uint8_t fam = srv->family == DP_UPQ_AF_INET ? 4 : 6;
	bool on_link = false;
	const uint8_t *hop = rec_nexthop(lc, srv, &on_link);
	uint64_t learned;

	if (hop == NULL)
		return false;
	switch (dp_nbr_lookup(lc->ctx->nbr, fam, hop, mac, &learned)) {
	case DP_NBR_RESOLVED:
		if (lc->now_ms - learned >= DP_NBR_REFRESH_MS)
			rec_probe(lc, fam, hop, !on_link);
		return true;
	default:
		rec_probe(lc, fam, hop, !on_link);
		return false;
	}
}

static void
count_rejected(struct dp_lcore *lc, enum px_addr_reason why)
{
	switch (why) {
	case PX_ADDR_UNSPECIFIED: DP_STAT_INC(lc, rec_send_rejected_unspecified); break;
	case PX_ADDR_LOOPBACK: DP_STAT_INC(lc, rec_send_rejected_loopback); break;
	case PX_ADDR_BROADCAST: DP_STAT_INC(lc, rec_send_rejected_broadcast); break;
	case PX_ADDR_MULTICAST: DP_STAT_INC(lc, rec_send_rejected_multicast); break;
	case PX_ADDR_RESERVED: DP_STAT_INC(lc, rec_send_rejected_reserved); break;
	case PX_ADDR_V4MAPPED: DP_STAT_INC(lc, rec_send_rejected_v4mapped); break;
	case PX_ADDR_V4COMPAT: DP_STAT_INC(lc, rec_send_rejected_v4compat); break;
	case PX_ADDR_LINK_LOCAL: DP_STAT_INC(lc, rec_send_rejected_link_local); break;
	case PX_ADDR_DO_NOT_QUERY: DP_STAT_INC(lc, rec_send_rejected_do_not_query); break;
	default: break;
	}
}

/*
 * Carries out a SEND action. Returns 0 when the query is outstanding (sent, or dropped for want
 * of a neighbour or an mbuf: counted, and its deadline will report it to the resolver), or -1
 * when it could not even be started (the address policy refused the server, no route for its
 * family, no free slot): the caller reports that to the resolver as a failed server at once.
 */
static int
rec_send(struct dp_lcore *lc, const struct dp_resolve_action *act)
{
	struct dp_recurse *rc = lc->rec;
	const struct dp_upq_addr *srv = &act->server;
	uint32_t idx = (uint32_t)act->res;
	struct rec_send *snd;
	struct dp_upq_query uq;
	struct dp_upq_sent sent;
	const struct rte_ether_addr *mac;
	struct rte_ether_addr hop_mac;
	enum px_addr_reason why;
	struct rte_mbuf *m;
	uint8_t *dns;
	uint16_t len;
	bool on_link;

	if (srv->family == DP_UPQ_AF_INET) {
		uint32_t a;

		memcpy(&a, srv->a, 4);
		why = px_addr_check4(rc->conf.policy, a);
	} else {
		why = px_addr_check6(rc->conf.policy, srv->a);
	}
	if (unlikely(why != PX_ADDR_OK)) {
		count_rejected(lc, why);
		return -1;
	}
	if (unlikely(rec_nexthop(lc, srv, &on_link) == NULL || idx >= rc->conf.slots)) {
		DP_STAT_INC(lc, rec_drop_family);
		return -1;
	}
	snd = &rc->sends[idx];
	/* A query of an earlier resolution that used this index and ended is of no use now. */
	if (snd->res != 0)
		dp_upq_cancel(rc->upq, snd->upq_handle);
	snd->res = 0;
	snd->unsent_retries = 0; /* rec_resend() puts its count back after this */
	uq = (struct dp_upq_query){
		.server = *srv,
		.server_port = PX_DNS_PORT,
		.qtype = act->qtype,
		.qclass = act->qclass,
		.qname_len = act->qname_len,
		.qname = act->qname,
		.cookie = idx,
	};
	if (dp_upq_start(rc->upq, &rc->rand, &uq, lc->now_ms,
			 dp_upq_server_rto(rc->upq, srv, lc->now_ms), &sent) != 0) {
		DP_STAT_INC(lc, rec_drop_no_slot);
		return -1;
	}
	snd->res = act->res;
	snd->upq_handle = sent.handle;
	snd->unsent = true;
	snd->zone_len = act->zone_len;
	memcpy(snd->zone, act->zone, act->zone_len);

	if (unlikely(!rec_nexthop_mac(lc, srv, &hop_mac))) {
		DP_STAT_INC(lc, rec_drop_no_neigh);
		return 0;
	}
	mac = &hop_mac;
	m = rte_pktmbuf_alloc(rc->pool);
	if (unlikely(m == NULL)) {
		DP_STAT_INC(lc, rec_drop_no_mbuf);
		return 0;
	}
	uint8_t fam = srv->family == DP_UPQ_AF_INET ? 4 : 6;

	len = (uint16_t)(PX_DNS_HDR_LEN + act->qname_len + 4 + PX_DNS_OPT_LEN);
	if (unlikely(dns_cap(m, fam) < len)) {
		rte_pktmbuf_free(m);
		DP_STAT_INC(lc, rec_drop_no_mbuf);
		return 0;
	}
	dns = rte_pktmbuf_mtod_offset(m, uint8_t *, dns_off(fam));
	/* RD clear: an authoritative server is asked, not a resolver. */
	px_put16(dns, sent.id);
	px_put16(dns + 2, 0);
	px_put16(dns + 4, 1);
	px_put16(dns + 6, 0);
	px_put16(dns + 8, 0);
	px_put16(dns + 10, 1);
	memcpy(dns + PX_DNS_HDR_LEN, act->qname, act->qname_len);
	uint8_t *p = dns + PX_DNS_HDR_LEN + act->qname_len;

	px_put16(p, act->qtype);
	px_put16(p + 2, act->qclass);
	p += 4;
	p[0] = 0; /* OPT: the root, our buffer size, version 0, DO clear, no options */
	px_put16(p + 1, PX_DNS_TYPE_OPT);
	px_put16(p + 3, PX_DNS_EDNS_BUFSIZE);
	px_put32(p + 5, 0);
	px_put16(p + 9, 0);
	rec_frame(lc, m, fam, mac, srv->a, rte_cpu_to_be_16(sent.sport), RTE_BE16(PX_DNS_PORT),
		  len);
	rec_queue(lc, m);
	snd->unsent = false;
	DP_STAT_INC(lc, rec_queries_sent);
	if (on_link)
		DP_STAT_INC(lc, rec_onlink_sent);
	return 0;
}

static void
client_release(struct dp_recurse *rc, uint32_t i)
{
	rc->clients[i].used = false;
	rc->clients[i].gen++;
	rc->client_free[rc->client_free_count++] = i;
}

/* Sends client slot i its response and releases the slot. */
static void
client_answer(struct dp_lcore *lc, uint32_t i, const struct dp_wire_answer *ans)
{
	struct dp_recurse *rc = lc->rec;
	struct rec_client *c = &rc->clients[i];
	uint8_t fam = c->from.family;
	struct dp_query q = {
		.flags = c->flags,
		.question_end = c->question_end,
		.edns_bufsize = c->edns_bufsize,
		.edns = c->edns,
		.edns_do = c->edns_do,
	};
	struct rte_mbuf *m;
	uint16_t len;
	uint8_t *dns;

	if (fam == DP_CLIENT_TCP) {
		dp_tcp_client_answer(lc, &c->from, c->msg, &q, ans);
		goto out;
	}
	m = rte_pktmbuf_alloc(rc->pool);
	if (unlikely(m == NULL)) {
		DP_STAT_INC(lc, rec_client_no_mbuf);
		goto out;
	}
	dns = rte_pktmbuf_mtod_offset(m, uint8_t *, dns_off(fam));
	memcpy(dns, c->msg, c->question_end);
	len = dp_wire_write_response(dns, dns_cap(m, fam), dp_wire_udp_limit(&q), &q, ans);
	if (unlikely(len == 0)) {
		rte_pktmbuf_free(m);
		DP_STAT_INC(lc, drop_no_room);
		goto out;
	}
	dp_answer_count_rcode(lc, ans->rcode, dns);
	rec_frame(lc, m, fam, &c->from.mac, c->from.addr, RTE_BE16(PX_DNS_PORT), c->from.port_be,
		  len);
	rec_queue(lc, m);
	DP_STAT_INC(lc, rec_client_answers);
out:
	client_release(rc, i);
}

static void
answer_clients(struct dp_lcore *lc, const struct dp_resolve_action *act)
{
	struct dp_recurse *rc = lc->rec;
	struct dp_wire_answer ans = {.rcode = PX_DNS_RCODE_SERVFAIL};

	if (act->kind == DP_RES_ACT_ANSWER) {
		ans.rcode = act->rcode;
		ans.an_count = act->an_count;
		ans.ns_count = act->ns_count;
		ans.rr = act->rr;
		ans.rr_len = act->rr_len;
		ans.ttl_off = act->ttl_off;
		ans.ttl_off_count = act->ttl_off_count;
		ans.ttl = act->ttl;
		DP_STAT_INC(lc, rec_answered);
	} else {
		DP_STAT_INC(lc, rec_servfail);
		switch (act->reason) {
		case DP_RES_FAIL_NO_NS: DP_STAT_INC(lc, rec_servfail_no_ns); break;
		case DP_RES_FAIL_DEADLINE: DP_STAT_INC(lc, rec_servfail_deadline); break;
		default: DP_STAT_INC(lc, rec_servfail_limit); break;
		}
	}
	for (unsigned k = 0; k < act->client_count; k++) {
		uint64_t cookie = act->clients[k];
		uint32_t i = (uint32_t)cookie;

		if (i >= rc->conf.slots || !rc->clients[i].used ||
		    rc->clients[i].gen != (uint32_t)(cookie >> 32))
			continue;
		client_answer(lc, i, &ans);
	}
}

/*
 * Hands a finished answer to the cache feed (dp_cache_feed.h), keyed by the question, with the
 * TTL the resolver chose (RFC 2308 for negative answers). Answers with a TTL of 0 are not kept.
 * Cuts go through rec_cut_offer().
 */
static inline void
rec_cache_offer(struct dp_lcore *lc, const struct dp_resolve_action *act)
{
	const struct dp_res *d = act->done;
	struct dp_cache_key key;

	if (act->kind != DP_RES_ACT_ANSWER || d == NULL || act->ttl == 0 ||
	    lc->ctx->cache_feed == NULL)
		return;
	key.qtype = d->qtype;
	key.qclass = d->qclass;
	key.kind = DP_CACHE_RRSET;
	key.name_len = d->qname_len;
	memcpy(key.name, d->qname, d->qname_len);

	const struct dp_cache_answer ans = {
		.rcode = act->rcode,
		.flags = 0,
		.ttl = act->ttl,
		.an_count = act->an_count,
		.ns_count = act->ns_count,
		.rr = act->rr,
		.rr_len = act->rr_len,
		.ttl_off = act->ttl_off,
		.ttl_off_count = act->ttl_off_count,
	};

	if (dp_cache_feed_put(lc->ctx->cache_feed, &key, &ans, lc->now_ms) == 0)
		DP_STAT_INC(lc, rec_cache_offered);
	else
		DP_STAT_INC(lc, rec_cache_feed_full);
}

/*
 * Hands a cut the resolver produced (a referral's NS set and glue, or one a sub-resolution
 * added addresses to) to the cache feed as a DP_CACHE_CUT entry (dp_cut.h), with its NS TTL
 * capped at max_ttl. Cuts without a TTL (hints, start cuts) and the root are never offered:
 * the root set in the cache is the primed one only.
 */
static void
rec_cut_offer(struct dp_lcore *lc, const struct dp_resolve_cut *cut)
{
	uint8_t buf[DP_CUT_MAX_LEN];
	uint16_t ns_count, len;
	struct dp_cache_key key;
	uint32_t ttl = RTE_MIN(cut->ttl, lc->rec->conf.resolve.max_ttl);

	if (ttl == 0 || cut->zone_len <= 1 || lc->ctx->cache_feed == NULL)
		return;
	len = dp_cut_encode(buf, sizeof(buf), cut, &ns_count);
	if (len == 0)
		return;
	dp_cut_key(&key, cut->zone, cut->zone_len);

	const struct dp_cache_answer ans = {
		.ttl = ttl,
		.an_count = ns_count,
		.rr = buf,
		.rr_len = len,
	};

	if (dp_cache_feed_put(lc->ctx->cache_feed, &key, &ans, lc->now_ms) == 0)
		DP_STAT_INC(lc, rec_cut_offered);
	else
		DP_STAT_INC(lc, rec_cut_feed_full);
}

/* The closest cached cut for name, decoded into out; false when none (or a bad one). */
static bool
rec_cut_lookup(struct dp_lcore *lc, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	       struct dp_resolve_start_buf *out)
{
	const struct dp_cache_entry *e;

	if (lc->ctx->cache == NULL)
		return false;
	e = dp_cut_find(lc->ctx->cache, name, name_len, qtype, lc->now_ms);
	if (e == NULL)
		return false;
	if (dp_cut_decode(e, out) != 0) {
		DP_STAT_INC(lc, rec_cut_bad);
		return false;
	}
	return true;
}

/* The resolver's cut source (dp_resolve_cut_fn): sub-resolutions and CNAME restarts. */
static bool
rec_cut_source(void *arg, const uint8_t *name, uint8_t name_len, uint16_t qtype,
	       struct dp_resolve_start_buf *out)
{
	struct dp_lcore *lc = arg;

	if (!rec_cut_lookup(lc, name, name_len, qtype, out))
		return false;
	DP_STAT_INC(lc, rec_cut_restarts);
	return true;
}

/* The priming resolution ended (ANSWER or SERVFAIL): a failure goes to the control thread,
 * which logs and shows it; the next attempt is already scheduled (rec_prime_tick). */
static void
rec_prime_done(struct dp_lcore *lc, const struct dp_resolve_action *act)
{
	struct dp_recurse *rc = lc->rec;

	rc->prime_res = 0;
	if (act->kind != DP_RES_ACT_SERVFAIL)
		return;
	DP_STAT_INC(lc, rec_prime_failed);
	if (dp_prime_put_fail(lc->ctx->prime, (uint8_t)act->reason, lc->now_ms) != 0)
		DP_STAT_INC(lc, rec_prime_feed_full);
}

/* Carries out act and whatever follows from it at once (a server refused at send). */
static void
rec_run(struct dp_lcore *lc, struct dp_resolve_action *act)
{
	struct dp_recurse *rc = lc->rec;
	struct dp_upq_addr server;
	uint64_t res;

	/* Each step marks one more address failed, so this ends; the bound is a backstop. */
	for (unsigned step = 0; step < 4096; step++) {
		if (act->cache_cut != NULL)
			rec_cut_offer(lc, act->cache_cut);
		if (act->kind == DP_RES_ACT_ANSWER)
			rec_cache_offer(lc, act);
		switch (act->kind) {
		case DP_RES_ACT_WAIT:
			return;
		case DP_RES_ACT_SEND:
			if (rec_send(lc, act) == 0)
				return;
			/* The callee overwrites act: pass copies. */
			res = act->res;
			server = act->server;
			dp_resolve_on_timeout(rc->res, res, &server, lc->now_ms, act);
			continue;
		case DP_RES_ACT_ANSWER:
		case DP_RES_ACT_SERVFAIL:
			if (rc->prime_res != 0 && act->res == rc->prime_res)
				rec_prime_done(lc, act);
			answer_clients(lc, act);
			return;
		}
		return;
	}
}

/* Where a new resolution starts: the closest cached cut (the primed root set at worst), or
 * NULL for the hints. Counted. */
static const struct dp_resolve_start_cut *
rec_start_cut(struct dp_lcore *lc, const struct dp_resolve_question *q,
	      struct dp_resolve_start_buf *buf)
{
	if (!rec_cut_lookup(lc, q->qname, q->qname_len, q->qtype, buf)) {
		DP_STAT_INC(lc, rec_cut_hints);
		return NULL;
	}
	if (buf->sc.zone_len > 1)
		DP_STAT_INC(lc, rec_cut_hits);
	else
		DP_STAT_INC(lc, rec_cut_primed);
	return &buf->sc;
}

bool
dp_recurse_miss(struct dp_lcore *lc, const uint8_t *msg, const struct dp_query *q,
		const struct dp_client_addr *from)
{
	struct dp_recurse *rc = lc->rec;
	struct dp_resolve_question rq = {
		.qname = q->qname_lc,
		.qname_len = q->qname_len,
		.qtype = q->qtype,
		.qclass = q->qclass,
	};
	struct dp_resolve_action act;
	struct dp_resolve_start_buf scut;
	struct rec_client *c;
	uint64_t cookie, res;
	uint32_t i;

	if (unlikely(rc->client_free_count == 0 || q->question_end == 0 ||
		     q->question_end > REC_QMSG_MAX)) {
		DP_STAT_INC(lc, rec_no_client_slot);
		return false;
	}
	i = rc->client_free[--rc->client_free_count];
	c = &rc->clients[i];
	c->used = true;
	c->from = *from;
	c->flags = q->flags;
	c->question_end = q->question_end;
	c->edns_bufsize = q->edns_bufsize;
	c->edns = q->edns;
	c->edns_do = q->edns_do;
	memcpy(c->msg, msg, q->question_end);
	cookie = (uint64_t)c->gen << 32 | i;

	res = dp_resolve_find(rc->res, &rq);
	if (res != 0 && dp_resolve_attach(rc->res, res, cookie) == 0) {
		DP_STAT_INC(lc, rec_attached);
		return true;
	}
	if (dp_resolve_start(rc->res, &rq, dp_hints_get(lc->ctx), rec_start_cut(lc, &rq, &scut),
			     lc->now_ms, cookie, &act) != 0) {
		client_release(rc, i);
		DP_STAT_INC(lc, rec_no_res_slot);
		return false;
	}
	DP_STAT_INC(lc, rec_started);
	rec_run(lc, &act);
	return true;
}

void
dp_client_addr_read(struct dp_client_addr *from, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_udp_hdr *udp;

	rte_ether_addr_copy(&eth->src_addr, &from->mac);
	memset(from->addr, 0, 16);
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);

		from->family = 4;
		memcpy(from->addr, &ip->src_addr, 4);
		udp = (const struct rte_udp_hdr *)(ip + 1);
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);

		from->family = 6;
		memcpy(from->addr, ip->src_addr, 16);
		udp = (const struct rte_udp_hdr *)(ip + 1);
	}
	from->port_be = udp->src_port;
}

/* Reads the reply's question into rep (qname_len 0 when it has none that can be read). */
static void
reply_question(struct dp_upq_reply *rep, const uint8_t *dns, uint16_t len, uint8_t *name)
{
	struct dp_wire_rd rd;
	unsigned nlen;

	rep->qname_len = 0;
	if (len < PX_DNS_HDR_LEN || px_get16(dns + 4) != 1)
		return;
	dp_wire_rd_init(&rd, dns, len);
	rd.pos = PX_DNS_HDR_LEN;
	nlen = dp_wire_read_name(&rd, name, NULL);
	rep->qtype = dp_wire_read_u16(&rd);
	rep->qclass = dp_wire_read_u16(&rd);
	if (rd.err || nlen == 0)
		return;
	rep->qname_len = (uint8_t)nlen;
	rep->qname = name;
}

/* A reply to the priming resolution goes raw to the control thread (dp_prime.h); any other is
 * not its business. */
static void
rec_prime_reply(struct dp_lcore *lc, uint64_t res, const uint8_t *dns, uint16_t dns_len,
		const struct dp_upq_addr *server)
{
	struct dp_recurse *rc = lc->rec;

	if (rc->prime_res == 0 || res != rc->prime_res)
		return;
	if (dp_prime_put_reply(lc->ctx->prime, dns, dns_len, server, lc->now_ms) == 0)
		DP_STAT_INC(lc, rec_prime_replies);
	else
		DP_STAT_INC(lc, rec_prime_feed_full);
}

/* Matches, scrubs and feeds to the resolver a reply this worker owns. */
static enum dp_verdict
rec_reply(struct dp_lcore *lc, uint8_t family, const void *ip, uint16_t sport_be,
	  uint16_t dport_be, const uint8_t *dns, uint16_t dns_len)
{
	struct dp_recurse *rc = lc->rec;
	struct dp_upq_reply rep = {
		.sport = rte_be_to_cpu_16(sport_be),
		.dport = rte_be_to_cpu_16(dport_be),
	};
	struct dp_upq_done done;
	struct dp_resolve_action act;
	struct rec_send *snd;
	uint8_t name[PX_DNS_NAME_BUF];

	if (family == 4)
		dp_upq_addr_set4(&rep.src, ((const struct rte_ipv4_hdr *)ip)->src_addr);
	else
		dp_upq_addr_set6(&rep.src, ((const struct rte_ipv6_hdr *)ip)->src_addr);
	if (dns_len < PX_DNS_HDR_LEN) {
		DP_STAT_INC(lc, drop_dns_runt);
		return DP_DROP;
	}
	rep.id = px_get16(dns);
	reply_question(&rep, dns, dns_len, name);
	switch (dp_upq_match(rc->upq, &rep, &done)) {
	case DP_UPQ_MATCH:
		break;
	case DP_UPQ_NO_SUCH_QUERY:
		DP_STAT_INC(lc, rec_forged_no_query);
		return DP_DROP;
	case DP_UPQ_WRONG_ADDR:
		DP_STAT_INC(lc, rec_forged_addr);
		return DP_DROP;
	case DP_UPQ_WRONG_PORT:
		DP_STAT_INC(lc, rec_forged_port);
		return DP_DROP;
	default:
		DP_STAT_INC(lc, rec_forged_question);
		return DP_DROP;
	}
	DP_STAT_INC(lc, rec_replies_matched);
	dp_upq_server_update(rc->upq, &done.server, (uint32_t)(lc->now_ms - done.sent_ms),
			     lc->now_ms);
	if (done.cookie >= rc->conf.slots)
		return DP_CONSUMED;
	snd = &rc->sends[done.cookie];
	if (snd->res == 0 || snd->upq_handle != done.handle)
		return DP_CONSUMED; /* a query of a resolution that ended: nothing waits for it */
	uint64_t res = snd->res;

	snd->res = 0;
	{
		const struct dp_reply_query rq = {
			.qname = done.qname,
			.zone = snd->zone,
			.qname_len = done.qname_len,
			.zone_len = snd->zone_len,
			.qtype = done.qtype,
			.qclass = done.qclass,
			.policy = rc->conf.policy,
		};

		dp_reply_classify(&rc->reply, dns, dns_len, &rq);
	}
	/* TC: the same question to the same server over TCP; the resolver hears of this server
	 * again when the TCP thread answers (dp_recurse_tcp_reply). */
	if (unlikely(rc->reply.cls == DP_REPLY_TRUNCATED) &&
	    dp_tcp_upstream_ask(lc, res, done.cookie, &done.server, rep.id, done.qname,
				done.qname_len, done.qtype, done.qclass, snd->zone,
				snd->zone_len) == 0) {
		snd->res = res;
		snd->upq_handle = REC_UPQ_TCP;
		return DP_CONSUMED;
	}
	/* After the TC check: a truncated priming reply asked again over TCP is not one the
	 * control thread could accept; the TCP reply is handed over instead. */
	rec_prime_reply(lc, res, dns, dns_len, &done.server);
	dp_resolve_on_reply(rc->res, res, &rc->reply, dns, dns_len, &done.server, lc->now_ms, &act);
	rec_run(lc, &act);
	return DP_CONSUMED;
}

void
dp_recurse_tcp_reply(struct dp_lcore *lc, const struct dp_tcp_meta *mt, const uint8_t *dns,
		     uint16_t dns_len)
{
	struct dp_recurse *rc = lc->rec;
	struct dp_resolve_action act;
	struct dp_upq_addr server;
	struct rec_send *snd;

	if (rc == NULL || mt->send_idx >= rc->conf.slots)
		return;
	snd = &rc->sends[mt->send_idx];
	if (snd->res == 0 || snd->res != mt->res || snd->upq_handle != REC_UPQ_TCP) {
		DP_STAT_INC(lc, tcp_up_stale);
		return;
	}
	snd->res = 0;
	if (mt->family == 4) {
		uint32_t a;

		memcpy(&a, mt->addr, 4);
		dp_upq_addr_set4(&server, a);
	} else {
		dp_upq_addr_set6(&server, mt->addr);
	}
	if (dns == NULL) {
		dp_resolve_on_timeout(rc->res, mt->res, &server, lc->now_ms, &act);
	} else {
		const struct dp_reply_query rq = {
			.qname = mt->qname,
			.zone = mt->zone,
			.qname_len = mt->qname_len,
			.zone_len = mt->zone_len,
			.qtype = mt->qtype,
			.qclass = mt->qclass,
			.policy = rc->conf.policy,
		};

		rec_prime_reply(lc, mt->res, dns, dns_len, &server);
		dp_reply_classify(&rc->reply, dns, dns_len, &rq);
		dp_resolve_on_reply(rc->res, mt->res, &rc->reply, dns, dns_len, &server,
				    lc->now_ms, &act);
	}
	rec_run(lc, &act);
}

bool
dp_recurse_route_mac(struct dp_lcore *lc, uint8_t family, const uint8_t *dst,
		     struct rte_ether_addr *mac)
{
	struct dp_upq_addr a;

	if (lc->rec == NULL)
		return false;
	if (family == 4) {
		uint32_t v4;

		memcpy(&v4, dst, 4);
		dp_upq_addr_set4(&a, v4);
	} else {
		dp_upq_addr_set6(&a, dst);
	}
	return rec_nexthop_mac(lc, &a, mac);
}

enum dp_verdict
dp_recurse_reply(struct dp_lcore *lc, struct rte_mbuf *m, uint8_t family, const void *ip,
		 uint16_t sport_be, uint16_t dport_be, const uint8_t *dns, uint16_t dns_len)
{
	struct dp_recurse *rc = lc->rec;

	if (rc->owners != NULL) {
		uint8_t owner = dp_upq_port_owner(rc->owners, rte_be_to_cpu_16(dport_be));

		if (owner != rc->self) {
			if (owner == 0 || owner > lc->ctx->worker_count) {
				DP_STAT_INC(lc, rec_forged_no_query);
				return DP_DROP;
			}
			if (rte_ring_mp_enqueue(lc->ctx->handoff[owner - 1], m) != 0) {
				DP_STAT_INC(lc, rec_handoff_full);
				return DP_DROP;
			}
			DP_STAT_INC(lc, rec_handoff_out);
			return DP_KEPT;
		}
	}
	return rec_reply(lc, family, ip, sport_be, dport_be, dns, dns_len);
}

/*
 * Replies other workers received for our ports. dp_rx.c checked them before passing them on
 * (Ethernet, IPv4 without options or IPv6 without extension headers, UDP length and checksum),
 * so the headers are only located here, not checked again.
 */
static void
rec_handoff_drain(struct dp_lcore *lc)
{
	struct rte_mbuf *ms[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(lc->ctx->handoff[lc->queue_id], (void **)ms,
					       DP_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(ms[i], const struct rte_ether_hdr *);
		const struct rte_udp_hdr *udp;
		const void *ip = eth + 1;
		uint8_t family;

		if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
			family = 4;
			udp = (const struct rte_udp_hdr *)((const struct rte_ipv4_hdr *)ip + 1);
		} else {
			family = 6;
			udp = (const struct rte_udp_hdr *)((const struct rte_ipv6_hdr *)ip + 1);
		}
		DP_STAT_INC(lc, rec_handoff_in);
		rec_reply(lc, family, ip, udp->src_port, udp->dst_port, (const uint8_t *)(udp + 1),
			  (uint16_t)(rte_be_to_cpu_16(udp->dgram_len) - UDP_LEN));
	}
	if (n != 0)
		rte_pktmbuf_free_bulk(ms, n);
}

bool
dp_recurse_learn4(struct dp_lcore *lc, uint32_t sip_be, const struct rte_ether_addr *sha)
{
	if (lc->rec == NULL ||
	    !dp_nbr_learn(lc->ctx->nbr, 4, (const uint8_t *)&sip_be, sha, lc->now_ms))
		return false;
	DP_STAT_INC(lc, rec_neigh_learned);
	return true;
}

bool
dp_recurse_learn6(struct dp_lcore *lc, const uint8_t *ip6, const struct rte_ether_addr *lla)
{
	if (lc->rec == NULL || !dp_nbr_learn(lc->ctx->nbr, 6, ip6, lla, lc->now_ms))
		return false;
	DP_STAT_INC(lc, rec_neigh_learned);
	return true;
}

/* Sends again a query whose first attempt never left the worker, with a fresh port and ID. */
static void
rec_resend(struct dp_lcore *lc, struct rec_send *snd, const struct dp_upq_done *done)
{
	uint8_t retries = snd->unsent_retries;
	uint8_t zone[PX_DNS_NAME_BUF];
	struct dp_resolve_action act = {
		.kind = DP_RES_ACT_SEND,
		.res = snd->res,
		.server = done->server,
		.qname = done->qname,
		.qname_len = done->qname_len,
		.qtype = done->qtype,
		.qclass = done->qclass,
		.zone = zone,
		.zone_len = snd->zone_len,
	};

	memcpy(zone, snd->zone, snd->zone_len);
	snd->res = 0; /* the old table entry is already gone: nothing to cancel */
	if (rec_send(lc, &act) == 0) {
		snd->unsent_retries = (uint8_t)(retries + 1);
	} else {
		struct dp_resolve_action next;

		dp_resolve_on_timeout(lc->rec->res, act.res, &act.server, lc->now_ms, &next);
		rec_run(lc, &next);
	}
}

static void
rec_gateway_check(struct dp_lcore *lc, uint8_t family, const uint8_t *gw)
{
	struct rte_ether_addr mac;
	uint64_t learned;

	if (dp_nbr_lookup(lc->ctx->nbr, family, gw, &mac, &learned) != DP_NBR_RESOLVED ||
	    lc->now_ms - learned >= DP_NBR_REFRESH_MS)
		rec_probe(lc, family, gw, true);
}

/* True when a gateway's MAC is known (for either family). */
static bool
rec_gateway_known(struct dp_lcore *lc)
{
	const struct dp_recurse *rc = lc->rec;
	struct rte_ether_addr mac;

	return (rc->conf.has_gw4 &&
		dp_nbr_lookup(lc->ctx->nbr, 4, (const uint8_t *)&rc->conf.gw4, &mac, NULL) ==
			DP_NBR_RESOLVED) ||
	       (rc->conf.has_gw6 &&
		dp_nbr_lookup(lc->ctx->nbr, 6, rc->conf.gw6, &mac, NULL) == DP_NBR_RESOLVED);
}

/*
 * Priming, when due: with a gateway MAC and hints, no priming in flight, and no root cut in
 * the cache with more than a tenth of its TTL left, starts resolving ". NS" from the hints
 * (never from the cache: RFC 8109 primes from the configured hints). The next look is
 * scheduled at once, a backoff later (1 s doubling to 60 s); a fresh root cut resets the
 * backoff and schedules the refresh, but is looked for again at least every
 * DP_REC_PRIME_CHECK_MS: a cut evicted from a full bucket (the entry of the eight closest to
 * expiry goes) or deleted would otherwise go unnoticed until its refresh time, up to 0.9 of a
 * day, and every resolution meanwhile would start from the hints.
 */
static void
rec_prime_tick(struct dp_lcore *lc)
{
	static const uint8_t root = 0;
	struct dp_recurse *rc = lc->rec;
	const struct dp_hints *h = dp_hints_get(lc->ctx);
	const struct dp_resolve_question q = {
		.qname = &root, .qname_len = 1, .qtype = PX_DNS_TYPE_NS, .qclass = PX_DNS_CLASS_IN,
	};
	const struct dp_cache_entry *e;
	struct dp_resolve_action act;
	uint64_t now = lc->now_ms;

	if (!rc->conf.prime || lc->ctx->prime == NULL || rc->prime_res != 0 ||
	    now < rc->prime_next_ms || h == NULL || h->ns_count == 0 ||
	    !rec_gateway_known(lc))
		return;
	e = lc->ctx->cache == NULL ? NULL :
	    dp_cache_lookup(lc->ctx->cache, &root, 1, PX_DNS_TYPE_NS, PX_DNS_CLASS_IN,
			    DP_CACHE_CUT);
	if (e != NULL && e->expire_ms > now) {
		uint64_t margin = (uint64_t)e->ttl * 100; /* a tenth of the TTL, in ms */

		if (e->expire_ms - now > margin) {
			rc->prime_next_ms = RTE_MIN(e->expire_ms - margin,
						    now + DP_REC_PRIME_CHECK_MS);
			rc->prime_backoff_ms = DP_REC_PRIME_BACKOFF_MS;
			return;
		}
	}
	rc->prime_next_ms = now + rc->prime_backoff_ms;
	rc->prime_backoff_ms = RTE_MIN(rc->prime_backoff_ms * 2, (uint32_t)DP_REC_PRIME_BACKOFF_MAX_MS);
	DP_STAT_INC(lc, rec_prime_sent);
	if (dp_resolve_start(rc->res, &q, h, NULL, now, DP_REC_PRIME_COOKIE, &act) != 0) {
		DP_STAT_INC(lc, rec_prime_failed);
		return;
	}
	rc->prime_res = act.res;
	rec_run(lc, &act);
}

void
dp_recurse_tick(struct dp_lcore *lc)
{
	struct dp_recurse *rc = lc->rec;
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct dp_resolve_action act;
	struct dp_upq_done done;
	uint64_t now = lc->now_ms;

	/* The hints pointer is good until this iteration's quiescent state report. */
	dp_resolve_set_hints(rc->res, dp_hints_get(lc->ctx));
	dp_resolve_set_cut_source(rc->res, rec_cut_source, lc);
	for (unsigned k = 0; k < DP_REC_EXPIRE_BUDGET && dp_upq_expire(rc->upq, now, &done); k++) {
		struct rec_send *snd;

		if (done.cookie >= rc->conf.slots)
			continue;
		snd = &rc->sends[done.cookie];
		if (snd->res != 0 && snd->upq_handle == done.handle && snd->unsent &&
		    snd->unsent_retries < DP_REC_UNSENT_RETRIES) {
			rec_resend(lc, snd, &done);
			continue;
		}
		DP_STAT_INC(lc, rec_timeouts);
		if (!snd->unsent)
			dp_upq_server_timeout(rc->upq, &done.server, now);
		if (snd->res == 0 || snd->upq_handle != done.handle)
			continue;
		uint64_t res = snd->res;

		snd->res = 0;
		dp_resolve_on_timeout(rc->res, res, &done.server, now, &act);
		rec_run(lc, &act);
	}
	/* The gateways are wanted from the start, before any query needs them, and refreshed
	 * before they go stale; the neighbour table decides whether a probe is due. */
	if (now >= rc->gw_check_ms) {
		rc->gw_check_ms = now + DP_REC_PROBE_INTERVAL_MS;
		if (rc->conf.has_gw4 && pc->has_ip4)
			rec_gateway_check(lc, 4, (const uint8_t *)&rc->conf.gw4);
		if (rc->conf.has_gw6 && pc->has_ip6)
			rec_gateway_check(lc, 6, rc->conf.gw6);
	}
	if (rc->owners != NULL)
		rec_handoff_drain(lc);
	rec_prime_tick(lc);
	dp_rand_maintain(&rc->rand, false);
	rec_flush(lc);
}
