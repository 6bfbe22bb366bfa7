/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker side of iterative resolution; see dp_recurse.h for what it does and what it does
 * not do yet, and dp_recurse_int.h for how it is split over four files. This one: the state,
 * client slots and answers, sending queries, matching replies, timeouts and the loop tick.
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
#include "dp_recurse_int.h"
#include "dp_reply.h"
#include "dp_tcp.h"
#include "dp_upstream.h"

const struct dp_resolver *
dp_recurse_resolver(const struct dp_recurse *rc)
{
	return rc->res;
}

const struct dp_share *
dp_recurse_share(const struct dp_recurse *rc)
{
	return rc->share;
}

uint32_t
dp_recurse_clients_used(const struct dp_recurse *rc)
{
	return rc->conf.slots - rc->client_free_count;
}

/* The reply index's names are the servers' choice: its hash is keyed by a secret of this
 * worker's. */
static void
reply_key_init(struct dp_recurse *rc)
{
	uint8_t raw[PX_SIPHASH_KEY_LEN];
	struct px_siphash_key key;

	dp_rand_bytes(&rc->rand, raw, sizeof(raw));
	key = px_siphash_key_from(raw);
	memset(raw, 0, sizeof(raw));
	dp_reply_set_key(&rc->reply, &key);
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
	    conf->policy == NULL ||
	    (conf->per_client != 0 && (conf->client_prefix6 == 0 || conf->client_prefix6 > 128))) {
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
	if (conf->per_client != 0) {
		uint8_t key[PX_SIPHASH_KEY_LEN];

		rc->share_mem = rte_zmalloc_socket("pollux_rec_share", dp_share_memsize(n),
						   RTE_CACHE_LINE_SIZE, socket);
		if (rc->share_mem == NULL)
			goto nomem;
		/* Its own secret: client addresses must not be aimable at one run of buckets. */
		dp_rand_bytes(&rc->rand, key, sizeof(key));
		rc->share = dp_share_init(rc->share_mem, n, conf->per_client,
					  conf->client_prefix6, key);
		memset(key, 0, sizeof(key));
		if (rc->share == NULL) {
			dp_recurse_free(rc);
			errno = EINVAL;
			return NULL;
		}
	}
	reply_key_init(rc);
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
	rte_free(rc->share_mem);
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
	case PX_ADDR_SELF: DP_STAT_INC(lc, rec_send_rejected_self); break;
	case PX_ADDR_SUBNET_BROADCAST: DP_STAT_INC(lc, rec_send_rejected_subnet_broadcast); break;
	case PX_ADDR_NAT64: DP_STAT_INC(lc, rec_send_rejected_nat64); break;
	case PX_ADDR_6TO4: DP_STAT_INC(lc, rec_send_rejected_6to4); break;
	case PX_ADDR_TEREDO: DP_STAT_INC(lc, rec_send_rejected_teredo); break;
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
	struct rec_client *c = &rc->clients[i];

	if (c->shared)
		rec_share_put(rc, c);
	c->used = false;
	c->gen++;
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
	rec_clients_answer(lc, act->clients, act->client_count, &ans);
}

void
rec_clients_answer(struct dp_lcore *lc, const uint64_t *clients, unsigned count,
		   const struct dp_wire_answer *ans)
{
	struct dp_recurse *rc = lc->rec;

	for (unsigned k = 0; k < count; k++) {
		uint64_t cookie = clients[k];
		uint32_t i = (uint32_t)cookie;

		if (i >= rc->conf.slots || !rc->clients[i].used ||
		    rc->clients[i].gen != (uint32_t)(cookie >> 32))
			continue;
		client_answer(lc, i, ans);
	}
}

/* Carries out act and whatever follows from it at once (a server refused at send). */
void
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
	const struct dp_resolve_start_cut *sc;
	struct rec_client *c;
	uint64_t cookie, res;
	bool shared = false;
	uint32_t i;
	int ret;

	if (unlikely(q->question_end == 0 || q->question_end > REC_QMSG_MAX)) {
		DP_STAT_INC(lc, rec_no_client_slot);
		return false;
	}
	/* The share first: a client past it must not push anybody else out (no jostle). */
	if (rc->share != NULL && !rec_share_take(lc, from, &shared))
		return false;
	if (unlikely(rc->client_free_count == 0) && !rec_jostle(lc)) {
		if (shared)
			dp_share_put(rc->share, from->family, from->addr);
		DP_STAT_INC(lc, rec_no_client_slot);
		return false;
	}
	i = rc->client_free[--rc->client_free_count];
	c = &rc->clients[i];
	c->used = true;
	c->shared = shared;
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
	sc = rec_start_cut(lc, &rq, &scut);
	ret = dp_resolve_start(rc->res, &rq, dp_hints_get(lc->ctx), sc, lc->now_ms, cookie, &act);
	/* A full pool (sub-resolutions take slots too): make room as for a client slot. */
	if (ret == -ENOSPC && rec_jostle(lc))
		ret = dp_resolve_start(rc->res, &rq, dp_hints_get(lc->ctx), sc, lc->now_ms, cookie,
				       &act);
	if (ret != 0) {
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

/* Matches, scrubs and feeds to the resolver a reply this worker owns. */
enum dp_verdict
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

	if (rc == NULL)
		return;
	snd = mt->send_idx < rc->conf.slots ? &rc->sends[mt->send_idx] : NULL;
	if (snd == NULL || snd->res == 0 || snd->res != mt->res || snd->upq_handle != REC_UPQ_TCP) {
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

	/* Where the hints are published, not the table itself: the resolver loads the table at
	 * each use, so nothing loaded here outlives this iteration's quiescent state report. */
	dp_resolve_set_hints_source(rc->res, &lc->ctx->hints);
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
