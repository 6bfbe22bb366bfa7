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
#include <rte_udp.h>

#include "dp_answer.h"
#include "dp_cache.h"
#include "dp_cache_feed.h"
#include "dp_cksum.h"
#include "dp_neigh.h"
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

/* rec_send.upq_handle while the query waits for its TCP retry (dp_tcp.h): no table entry has
 * this handle (its index is past any capacity), so the UDP paths never match it. */
#define REC_UPQ_TCP UINT64_MAX

/* A query that never left (no gateway MAC yet, no mbuf) is sent again at its deadline this many
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

	bool has_mac4, has_mac6;
	struct rte_ether_addr mac4, mac6;
	uint64_t probe4_ms, probe6_ms; /* next probe allowed at */

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
	rte_free(rc);
}

/* TX: frames the resolution path makes are batched here and sent at the end of the iteration,
 * or as soon as the batch is full. */
static void
rec_flush(struct dp_lcore *lc)
{
	struct dp_recurse *rc = lc->rec;
	uint16_t n = rc->tx_count, sent;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(lc->ctx->port.port_id, lc->queue_id, rc->tx, n);
	lc->stats.tx_pkts += sent;
	if (unlikely(sent < n)) {
		lc->stats.drop_tx_full += n - sent;
		rte_pktmbuf_free_bulk(rc->tx + sent, n - sent);
	}
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
	enum px_addr_reason why;
	struct rte_mbuf *m;
	uint8_t *dns;
	uint16_t len;

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
	if (unlikely((srv->family == DP_UPQ_AF_INET && !rc->conf.has_gw4) ||
		     (srv->family == DP_UPQ_AF_INET6 && !rc->conf.has_gw6) ||
		     idx >= rc->conf.slots)) {
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

	mac = srv->family == DP_UPQ_AF_INET ? (rc->has_mac4 ? &rc->mac4 : NULL)
					    : (rc->has_mac6 ? &rc->mac6 : NULL);
	if (unlikely(mac == NULL)) {
		DP_STAT_INC(lc, rec_drop_no_neigh);
		return 0;
	}
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
 * Referral cuts (act->cache_cut) are not cached yet: the cache has no delegation entries, so
 * every resolution still starts at the root hints.
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


/* Carries out act and whatever follows from it at once (a server refused at send). */
static void
rec_run(struct dp_lcore *lc, struct dp_resolve_action *act)
{
	struct dp_recurse *rc = lc->rec;
	struct dp_upq_addr server;
	uint64_t res;

	/* Each step marks one more address failed, so this ends; the bound is a backstop. */
	for (unsigned step = 0; step < 4096; step++) {
		if (act->cache_cut != NULL || act->kind == DP_RES_ACT_ANSWER)
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
			answer_clients(lc, act);
			return;
		}
		return;
	}
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
	if (dp_resolve_start(rc->res, &rq, dp_hints_get(lc->ctx), NULL, lc->now_ms, cookie,
			     &act) != 0) {
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

enum dp_verdict
dp_recurse_reply(struct dp_lcore *lc, uint8_t family, const void *ip, uint16_t sport_be,
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

		dp_reply_classify(&rc->reply, dns, dns_len, &rq);
		dp_resolve_on_reply(rc->res, mt->res, &rc->reply, dns, dns_len, &server,
				    lc->now_ms, &act);
	}
	rec_run(lc, &act);
}

bool
dp_recurse_gw_mac(const struct dp_lcore *lc, uint8_t family, struct rte_ether_addr *mac)
{
	const struct dp_recurse *rc = lc->rec;

	if (rc == NULL || !(family == 4 ? rc->has_mac4 : rc->has_mac6))
		return false;
	rte_ether_addr_copy(family == 4 ? &rc->mac4 : &rc->mac6, mac);
	return true;
}

bool
dp_recurse_learn4(struct dp_lcore *lc, uint32_t sip_be, const struct rte_ether_addr *sha)
{
	struct dp_recurse *rc = lc->rec;

	if (rc == NULL || !rc->conf.has_gw4 || sip_be != rc->conf.gw4 ||
	    !rte_is_unicast_ether_addr(sha) || rte_is_zero_ether_addr(sha))
		return false;
	if (!rc->has_mac4 || !rte_is_same_ether_addr(&rc->mac4, sha)) {
		rte_ether_addr_copy(sha, &rc->mac4);
		rc->has_mac4 = true;
		DP_STAT_INC(lc, rec_neigh_learned);
	}
	return true;
}

bool
dp_recurse_learn6(struct dp_lcore *lc, const uint8_t *ip6, const struct rte_ether_addr *lla)
{
	struct dp_recurse *rc = lc->rec;

	if (rc == NULL || !rc->conf.has_gw6 || memcmp(ip6, rc->conf.gw6, 16) != 0 ||
	    !rte_is_unicast_ether_addr(lla) || rte_is_zero_ether_addr(lla))
		return false;
	if (!rc->has_mac6 || !rte_is_same_ether_addr(&rc->mac6, lla)) {
		rte_ether_addr_copy(lla, &rc->mac6);
		rc->has_mac6 = true;
		DP_STAT_INC(lc, rec_neigh_learned);
	}
	return true;
}

static void
probe4(struct dp_lcore *lc)
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
	arp->arp_data.arp_tip = rc->conf.gw4;
	m->data_len = m->pkt_len = (uint32_t)(L2_LEN + sizeof(*arp));
	rec_queue(lc, m);
	DP_STAT_INC(lc, rec_neigh_probes);
}

static void
probe6(struct dp_lcore *lc)
{
	struct dp_recurse *rc = lc->rec;
	const struct dp_port_conf *pc = &lc->ctx->port;
	struct rte_mbuf *m = rte_pktmbuf_alloc(rc->pool);
	/* type, code, cksum(2), reserved(4), target(16), option: type 1, len 1, our MAC */
	const uint16_t ns_len = 4 + 4 + 16 + 8;
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	uint8_t *icmp;
	const uint8_t *gw = rc->conf.gw6;

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
	if (rc->conf.has_gw4 && pc->has_ip4 && !rc->has_mac4 && now >= rc->probe4_ms) {
		rc->probe4_ms = now + DP_REC_PROBE_INTERVAL_MS;
		probe4(lc);
	}
	if (rc->conf.has_gw6 && pc->has_ip6 && !rc->has_mac6 && now >= rc->probe6_ms) {
		rc->probe6_ms = now + DP_REC_PROBE_INTERVAL_MS;
		probe6(lc);
	}
	dp_rand_maintain(&rc->rand, false);
	rec_flush(lc);
}
