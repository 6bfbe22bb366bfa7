/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS over TCP, the worker's side: the exception path to the kernel's TCP (tun queue in and
 * out, with the per-worker IP -> MAC table) and the rings to the TCP thread. See dp_tcp.h for
 * the design and the ring protocol.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include <pollux/addr.h>
#include <pollux/upstream.h>
#include <pollux/wire.h>

#include "dp_client.h"
#include "dp_nexthop.h"
#include "dp_tap.h"
#include "dp_tcp.h"
#include "dp_tx.h"

#define L2_LEN ((uint16_t)sizeof(struct rte_ether_hdr))
#define IP4_LEN ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define IP6_LEN ((uint16_t)sizeof(struct rte_ipv6_hdr))
#define TCP_LEN ((uint16_t)sizeof(struct rte_tcp_hdr))

static inline uint32_t
neigh_slot(const struct px_addr *addr)
{
	uint32_t h = 2166136261u ^ addr->family;

	/* FNV-1a: spread enough for a table the peers of one link fill; a collision only
	 * overwrites a MAC that the next frame from that peer teaches again. */
	for (unsigned i = 0; i < px_addr_len(addr->family); i++)
		h = (h ^ addr->a[i]) * 16777619u;
	return h & (DP_TCP_NEIGH_SIZE - 1);
}

static inline void
neigh_learn(struct dp_tcp_lcore *t, const struct px_addr *addr, const struct rte_ether_addr *mac)
{
	struct dp_tcp_neigh *n = &t->neigh[neigh_slot(addr)];

	if (unlikely(!rte_is_unicast_ether_addr(mac) || rte_is_zero_ether_addr(mac)))
		return;
	n->addr = *addr;
	rte_ether_addr_copy(mac, &n->mac);
}

bool
dp_tcp_neigh_lookup(const struct dp_tcp_lcore *t, const struct px_addr *addr,
		    struct rte_ether_addr *mac)
{
	const struct dp_tcp_neigh *n = &t->neigh[neigh_slot(addr)];

	if (!px_addr_eq(&n->addr, addr))
		return false;
	rte_ether_addr_copy(&n->mac, mac);
	return true;
}

static void
flush_to_kernel(struct dp_lcore *lc)
{
	struct dp_tcp_lcore *t = lc->tcp;
	uint16_t n = t->to_kernel_count;

	if (n == 0)
		return;
	lc->stats.tcp_to_kernel += dp_tx_or_free(t->tun_port, t->tun_queue, t->to_kernel, n,
						  &lc->stats.tcp_to_kernel_full);
	t->to_kernel_count = 0;
}

/* Whether a segment may reach the kernel: DNS to us, or a server's segment of a connection
 * the TCP thread opened (from port 53 to a port it holds). Counts the reason of a refusal. */
static inline bool
segment_wanted(struct dp_lcore *lc, const struct rte_tcp_hdr *th, unsigned l4_len)
{
	uint16_t dport, sport;

	if (unlikely(l4_len < TCP_LEN || (th->data_off >> 4) * 4u < TCP_LEN ||
		     (th->data_off >> 4) * 4u > l4_len)) {
		DP_STAT_INC(lc, drop_tcp_hdr);
		return false;
	}
	dport = rte_be_to_cpu_16(th->dst_port);
	if (dport == PX_DNS_PORT)
		return true;
	sport = rte_be_to_cpu_16(th->src_port);
	if (sport == PX_DNS_PORT && lc->tcp->up_ports != NULL &&
	    dp_tcp_port_marked(lc->tcp->up_ports, dport))
		return true;
	DP_STAT_INC(lc, drop_tcp_port);
	return false;
}

enum dp_verdict
dp_tcp_to_kernel(struct dp_lcore *lc, struct rte_mbuf *m, uint8_t family)
{
	struct dp_tcp_lcore *t = lc->tcp;
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t l3_len = family == 4 ? IP4_LEN : IP6_LEN;

	if (t == NULL) {
		DP_STAT_INC(lc, drop_l4_proto);
		return DP_DROP;
	}
	/* dp_rx.c lets IPv6 through to the link-local address too (for ND); the kernel holds
	 * only --ip6, and TCP is served there only. */
	if (family == 6 && memcmp(((const struct rte_ipv6_hdr *)(eth + 1))->dst_addr,
				  lc->ctx->port.ip6, 16) != 0) {
		DP_STAT_INC(lc, drop_ip_dst);
		return DP_DROP;
	}
	/* dp_rx.c trimmed data_len to the IP packet, which holds at least its own header. */
	if (!segment_wanted(lc, rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *,
							L2_LEN + l3_len),
			    m->data_len > L2_LEN + l3_len ? m->data_len - L2_LEN - l3_len : 0))
		return DP_DROP;
	/* Whoever sent us this segment is where the kernel's segments of the flow go back to:
	 * the client itself on the link, or the router in front of it. */
	struct px_addr src;

	if (family == 4)
		px_addr_set4(&src, ((const struct rte_ipv4_hdr *)(eth + 1))->src_addr, 0);
	else
		px_addr_set6(&src, ((const struct rte_ipv6_hdr *)(eth + 1))->src_addr, 0);
	neigh_learn(t, &src, &eth->src_addr);
	rte_pktmbuf_adj(m, L2_LEN);
	m->ol_flags = 0;
	if (t->to_kernel_count == DP_TCP_BURST)
		flush_to_kernel(lc);
	t->to_kernel[t->to_kernel_count++] = m;
	return DP_KEPT;
}

/* Checks a packet the kernel wrote to the tun (an IP packet, no link header) and returns true
 * with its destination in *dst, or false when it is not ours to send: only TCP from our own
 * address leaves, whatever else the kernel tries on that interface. */
static inline bool
kernel_pkt_check(const struct dp_port_conf *pc, const struct rte_mbuf *m, struct px_addr *dst)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t len = m->data_len;

	if (m->nb_segs != 1 || len < 1)
		return false;
	if ((p[0] >> 4) == 4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;

		if (len < IP4_LEN || !pc->has_ip4 || ip->next_proto_id != IPPROTO_TCP ||
		    ip->src_addr != pc->ip4 || rte_be_to_cpu_16(ip->total_length) > len)
			return false;
		px_addr_set4(dst, ip->dst_addr, 0);
		return true;
	}
	if ((p[0] >> 4) == 6) {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)p;

		if (len < IP6_LEN || !pc->has_ip6 || ip->proto != IPPROTO_TCP ||
		    memcmp(ip->src_addr, pc->ip6, 16) != 0 ||
		    (uint32_t)rte_be_to_cpu_16(ip->payload_len) + IP6_LEN > len)
			return false;
		px_addr_set6(dst, ip->dst_addr, 0);
		return true;
	}
	return false;
}

/* What the kernel's TCP sends: an Ethernet header in front, out of the DPDK port. */
static void
from_kernel(struct dp_lcore *lc, const struct dp_nexthop *nh)
{
	struct dp_tcp_lcore *t = lc->tcp;
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_mbuf *rx[DP_TCP_BURST], *tx[DP_TCP_BURST], *drop[DP_TCP_BURST];
	uint16_t n = rte_eth_rx_burst(t->tun_port, t->tun_queue, rx, DP_TCP_BURST);
	uint16_t ntx = 0, ndrop = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = rx[i];
		struct px_addr dst;
		struct rte_ether_addr mac;
		struct rte_ether_hdr *eth;

		if (!kernel_pkt_check(pc, m, &dst)) {
			DP_STAT_INC(lc, tcp_from_kernel_bad);
			drop[ndrop++] = m;
			continue;
		}
		if (!dp_tcp_neigh_lookup(t, &dst, &mac) &&
		    (nh == NULL || !dp_nexthop_mac(lc, nh, &dst, &mac))) {
			DP_STAT_INC(lc, tcp_from_kernel_no_neigh);
			drop[ndrop++] = m;
			continue;
		}
		eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, L2_LEN);
		if (unlikely(eth == NULL)) {
			DP_STAT_INC(lc, tcp_from_kernel_bad);
			drop[ndrop++] = m;
			continue;
		}
		rte_ether_addr_copy(&mac, &eth->dst_addr);
		rte_ether_addr_copy(&pc->mac, &eth->src_addr);
		eth->ether_type = dst.family == PX_AF_INET ? RTE_BE16(RTE_ETHER_TYPE_IPV4)
							   : RTE_BE16(RTE_ETHER_TYPE_IPV6);
		m->ol_flags = 0;
		tx[ntx++] = m;
	}
	if (ndrop != 0)
		rte_pktmbuf_free_bulk(drop, ndrop);
	if (ntx == 0)
		return;
	lc->stats.tcp_from_kernel += dp_tx_port(lc, tx, ntx);
}

/* Hands a message to the TCP thread; frees and counts it when the ring is full. */
static inline bool
to_thread(struct dp_lcore *lc, struct rte_mbuf *m)
{
	if (unlikely(rte_ring_enqueue(lc->tcp->out, m) != 0)) {
		DP_STAT_INC(lc, tcp_ring_full);
		rte_pktmbuf_free(m);
		return false;
	}
	return true;
}

static inline void
client_tag_write(struct dp_client_addr *from, const struct dp_tcp_meta *mt)
{
	memset(from, 0, sizeof(*from));
	from->transport = DP_CLIENT_TCP;
	from->tcp_conn = mt->conn;
	from->tcp_conn_gen = mt->conn_gen;
	from->peer = mt->peer;
}

/* A TCP client's message for dnstap, when the TCP thread said who the client is. */
static inline void
tap_client(struct dp_lcore *lc, enum px_tap_type type, const struct dp_client_addr *from,
	   const uint8_t *msg, uint16_t len)
{
	if (from->peer.family == PX_AF_INET || from->peer.family == PX_AF_INET6)
		dp_tap_client(lc, type, from->peer.family, PX_TAP_TCP, from->peer.a, from->peer.port,
			      msg, len);
}

uint16_t
dp_tcp_query_take(struct dp_lcore *lc, struct rte_mbuf *m, struct dp_client_addr *from)
{
	uint32_t room = (uint32_t)m->buf_len - m->data_off;

	DP_STAT_INC(lc, tcp_queries);
	client_tag_write(from, dp_tcp_meta(m));
	if (dp_tap_on(lc))
		tap_client(lc, PX_TAP_CLIENT_QUERY, from, rte_pktmbuf_mtod(m, uint8_t *),
			   m->data_len);
	return room > UINT16_MAX ? UINT16_MAX : (uint16_t)room;
}

void
dp_tcp_query_reply(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_client_addr *from,
		   uint16_t rlen)
{
	struct dp_tcp_meta *mt = dp_tcp_meta(m);

	if (dp_tap_on(lc) && rlen != 0)
		tap_client(lc, PX_TAP_CLIENT_RESPONSE, from, rte_pktmbuf_mtod(m, uint8_t *), rlen);
	m->data_len = rlen;
	m->pkt_len = rlen;
	mt->kind = DP_TCP_MSG_ANSWER;
	mt->worker = lc->tcp->worker;
	if (to_thread(lc, m) && rlen != 0)
		DP_STAT_INC(lc, tcp_answers);
}

unsigned
dp_tcp_recv(struct dp_lcore *lc, struct rte_mbuf **msgs, unsigned n)
{
	return rte_ring_dequeue_burst(lc->tcp->in, (void **)msgs, n, NULL);
}

void
dp_tcp_poll(struct dp_lcore *lc, const struct dp_nexthop *nh)
{
	flush_to_kernel(lc);
	from_kernel(lc, nh);
}

void
dp_tcp_client_answer(struct dp_lcore *lc, const struct dp_client_addr *from,
		     const uint8_t *qmsg, const struct dp_query *q,
		     const struct px_wire_answer *ans)
{
	struct dp_tcp_lcore *t = lc->tcp;
	struct rte_mbuf *m;
	struct dp_tcp_meta *mt;
	uint32_t room;
	uint16_t len;
	uint8_t *dns;

	if (unlikely(t == NULL))
		return;
	m = rte_pktmbuf_alloc(t->msg_pool);
	if (unlikely(m == NULL)) {
		DP_STAT_INC(lc, tcp_no_mbuf);
		return;
	}
	room = rte_pktmbuf_tailroom(m);
	dns = rte_pktmbuf_mtod(m, uint8_t *);
	if (unlikely(room < q->question_end)) {
		rte_pktmbuf_free(m);
		DP_STAT_INC(lc, drop_no_room);
		return;
	}
	memcpy(dns, qmsg, q->question_end);
	len = px_wire_write_response(dns, room > UINT16_MAX ? UINT16_MAX : (uint16_t)room,
				     UINT16_MAX, q, ans);
	if (unlikely(len == 0)) {
		rte_pktmbuf_free(m);
		DP_STAT_INC(lc, drop_no_room);
		return;
	}
	px_stats_count_rcode(&lc->stats, ans->rcode, dns);
	if (dp_tap_on(lc))
		tap_client(lc, PX_TAP_CLIENT_RESPONSE, from, dns, len);
	m->data_len = len;
	m->pkt_len = len;
	mt = dp_tcp_meta(m);
	memset(mt, 0, offsetof(struct dp_tcp_meta, qname));
	mt->kind = DP_TCP_MSG_ANSWER;
	mt->worker = t->worker;
	mt->conn = from->tcp_conn;
	mt->conn_gen = from->tcp_conn_gen;
	if (to_thread(lc, m)) {
		DP_STAT_INC(lc, tcp_answers);
		DP_STAT_INC(lc, rec_client_answers);
	}
}

int
dp_tcp_upstream_ask(struct dp_lcore *lc, uint64_t res, uint32_t send_idx,
		    const struct px_addr *server, uint16_t id, const uint8_t *qname,
		    uint8_t qname_len, uint16_t qtype, uint16_t qclass, const uint8_t *zone,
		    uint8_t zone_len)
{
	struct dp_tcp_lcore *t = lc->tcp;
	uint16_t len = (uint16_t)(PX_DNS_HDR_LEN + qname_len + 4 + PX_DNS_OPT_LEN);
	struct dp_tcp_meta *mt;
	struct rte_mbuf *m;
	uint8_t *dns, *p;

	if (t == NULL || qname_len == 0)
		return -1;
	m = rte_pktmbuf_alloc(t->msg_pool);
	if (unlikely(m == NULL)) {
		DP_STAT_INC(lc, tcp_no_mbuf);
		return -1;
	}
	dns = rte_pktmbuf_mtod(m, uint8_t *);
	/* The question as the UDP query asked it, RD clear, with EDNS (RFC 7766 does not change
	 * the message: only the transport). */
	px_put16(dns, id);
	px_put16(dns + 2, 0);
	px_put16(dns + 4, 1);
	px_put16(dns + 6, 0);
	px_put16(dns + 8, 0);
	px_put16(dns + 10, 1);
	memcpy(dns + PX_DNS_HDR_LEN, qname, qname_len);
	p = dns + PX_DNS_HDR_LEN + qname_len;
	px_put16(p, qtype);
	px_put16(p + 2, qclass);
	p += 4;
	p[0] = 0;
	px_put16(p + 1, PX_DNS_TYPE_OPT);
	px_put16(p + 3, PX_DNS_EDNS_BUFSIZE);
	px_put32(p + 5, 0);
	px_put16(p + 9, 0);
	m->data_len = len;
	m->pkt_len = len;

	mt = dp_tcp_meta(m);
	mt->kind = DP_TCP_MSG_UP_QUERY;
	mt->worker = t->worker;
	mt->conn = 0;
	mt->conn_gen = 0;
	mt->send_idx = send_idx;
	mt->res = res;
	mt->timeout_ms = DP_TCP_UP_TIMEOUT_MS;
	mt->qtype = qtype;
	mt->qclass = qclass;
	mt->qname_len = qname_len;
	mt->zone_len = zone_len;
	mt->peer = *server;
	memcpy(mt->qname, qname, qname_len);
	memcpy(mt->zone, zone, zone_len);
	/* Logged before the ring takes it: the mbuf is the thread's after. The kernel will
	 * choose the local port, so the record leaves it out. */
	if (dp_tap_on(lc))
		dp_tap_upstream(lc, PX_TAP_RESOLVER_QUERY, mt->peer.family, PX_TAP_TCP, 0,
				mt->peer.a, PX_DNS_PORT, dns, len);
	if (!to_thread(lc, m))
		return -1;
	DP_STAT_INC(lc, tcp_up_asked);
	return 0;
}
