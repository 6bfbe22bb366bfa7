/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker side of iterative resolution; see dp_miss.h for what it does and what it does
 * not do yet, and dp_miss_int.h for how it is split over four files. This one: the state,
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

#include <pollux/prime.h>
#include <pollux/reply.h>
#include <pollux/upstream.h>

#include "dp_cache.h"
#include "dp_cksum.h"
#include "dp_cut.h"
#include "dp_miss.h"
#include "dp_miss_int.h"
#include "dp_settings.h"
#include "dp_tap.h"
#include "dp_tcp.h"

const struct px_resolver *
dp_miss_resolver(const struct dp_miss *rc)
{
	return rc->res;
}

const struct px_upq_table *
dp_miss_upstream(const struct dp_miss *rc)
{
	return rc->upq;
}

const struct dp_nexthop *
dp_miss_nexthop(const struct dp_miss *rc)
{
	return &rc->nexthop;
}

const struct px_share *
dp_miss_share(const struct dp_miss *rc)
{
	return rc->share;
}

uint32_t
dp_miss_clients_used(const struct dp_miss *rc)
{
	return rc->conf.slots - rc->client_free_count;
}

/* The reply index's names are the servers' choice: its hash is keyed by a secret of this
 * worker's. */
static void
reply_key_init(struct dp_miss *rc)
{
	uint8_t raw[PX_SIPHASH_KEY_LEN];
	struct px_siphash_key key;

	px_rand_bytes(&rc->rand, raw, sizeof(raw));
	key = px_siphash_key_from(raw);
	memset(raw, 0, sizeof(raw));
	px_reply_set_key(&rc->reply, &key);
}

struct dp_miss *
dp_miss_create(const struct dp_miss_conf *conf, int socket, struct rte_mempool *pool,
		  uint64_t now_ms)
{
	struct dp_miss *rc;
	uint32_t n = conf->slots;
	size_t rsz = px_resolver_memsize(n), usz = px_upq_memsize(n);
	uint64_t seed;
	int ret;

	if (n == 0 || n > DP_MISS_MAX_SLOTS || rsz == 0 || usz == 0 || pool == NULL ||
	    conf->policy == NULL ||
	    (conf->per_client != 0 && (conf->client_prefix6 == 0 || conf->client_prefix6 > 128))) {
		errno = EINVAL;
		return NULL;
	}
	rc = rte_zmalloc_socket("pollux_rec", sizeof(*rc), RTE_CACHE_LINE_SIZE, socket);
	if (rc == NULL)
		goto nomem;
	rc->conf = *conf;
	rc->policy = *conf->policy;
	rc->conf.policy = &rc->policy;
	rc->pool = pool;
	if (conf->has_gw4)
		px_addr_set4(&rc->nexthop.gw4, conf->gw4, 0);
	if (conf->has_gw6)
		px_addr_set6(&rc->nexthop.gw6, conf->gw6, 0);
	rc->nexthop.pool = pool;
	rc->nexthop.send = miss_queue;
	rc->clients = rte_zmalloc_socket("pollux_rec_clients", sizeof(*rc->clients) * n,
					 RTE_CACHE_LINE_SIZE, socket);
	rc->client_free = rte_zmalloc_socket("pollux_rec_cfree", sizeof(uint32_t) * n, 0, socket);
	rc->sends = rte_zmalloc_socket("pollux_rec_sends", sizeof(*rc->sends) * n,
				       RTE_CACHE_LINE_SIZE, socket);
	rc->queries = rte_zmalloc_socket("pollux_rec_queries", sizeof(*rc->queries) * n,
					 RTE_CACHE_LINE_SIZE, socket);
	rc->query_free = rte_zmalloc_socket("pollux_rec_qfree", sizeof(uint32_t) * n, 0, socket);
	rc->res_mem = rte_zmalloc_socket("pollux_rec_res", rsz, RTE_CACHE_LINE_SIZE, socket);
	rc->upq_mem = rte_zmalloc_socket("pollux_rec_upq", usz, RTE_CACHE_LINE_SIZE, socket);
	if (miss_stale_init(rc, socket) != 0 || rc->clients == NULL || rc->client_free == NULL || rc->sends == NULL ||
	    rc->queries == NULL || rc->query_free == NULL || rc->res_mem == NULL ||
	    rc->upq_mem == NULL)
		goto nomem;
	ret = px_rand_init(&rc->rand);
	if (ret != 0) {
		dp_miss_free(rc);
		errno = -ret;
		return NULL;
	}
	seed = (uint64_t)px_rand_u32(&rc->rand) << 32 | px_rand_u32(&rc->rand);
	if (conf->per_client != 0) {
		uint8_t key[PX_SIPHASH_KEY_LEN];

		rc->share_mem = rte_zmalloc_socket("pollux_rec_share", px_share_memsize(n),
						   RTE_CACHE_LINE_SIZE, socket);
		if (rc->share_mem == NULL)
			goto nomem;
		/* Its own secret: client addresses must not be aimable at one run of buckets. */
		px_rand_bytes(&rc->rand, key, sizeof(key));
		rc->share = px_share_init(rc->share_mem, n, conf->per_client,
					  conf->client_prefix6, key);
		memset(key, 0, sizeof(key));
		if (rc->share == NULL) {
			dp_miss_free(rc);
			errno = EINVAL;
			return NULL;
		}
	}
	reply_key_init(rc);
	rc->upq = px_upq_init(rc->upq_mem, n, now_ms, seed);
	rc->drained_ms = now_ms;
	rc->res = px_resolver_init(rc->res_mem, n, &conf->resolve, &rc->policy, rc->upq,
				  &rc->rand);
	if (rc->upq == NULL || rc->res == NULL ||
	    (conf->rto_min_ms != 0 && px_upq_set_rto_min(rc->upq, conf->rto_min_ms) != 0)) {
		dp_miss_free(rc);
		errno = EINVAL;
		return NULL;
	}
	px_resolver_set_release_hook(rc->res, miss_query_release, rc);
	for (uint32_t i = 0; i < n; i++) {
		rc->client_free[i] = n - 1 - i;
		rc->query_free[i] = n - 1 - i;
	}
	rc->client_free_count = n;
	rc->query_free_count = n;
	rc->prime_backoff_ms = DP_MISS_PRIME_BACKOFF_MS;
	return rc;
nomem:
	dp_miss_free(rc);
	errno = ENOMEM;
	return NULL;
}

void
dp_miss_free(struct dp_miss *rc)
{
	if (rc == NULL)
		return;
	rte_free(rc->clients);
	rte_free(rc->client_free);
	rte_free(rc->sends);
	rte_free(rc->queries);
	rte_free(rc->query_free);
	rte_free(rc->res_mem);
	rte_free(rc->upq_mem);
	rte_free(rc->share_mem);
	rte_free(rc->port_refs);
	rte_free(rc->stale_timers);
	rte_free(rc);
}

int
dp_miss_share_ports(struct dp_miss *rc, uint8_t *owners, unsigned worker, int socket)
{
	if (owners == NULL || worker >= UINT8_MAX) {
		errno = EINVAL;
		return -1;
	}
	rc->port_refs = rte_zmalloc_socket("pollux_rec_ports", PX_UPQ_PORT_REFS_SIZE, 0, socket);
	if (rc->port_refs == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (px_upq_share_ports(rc->upq, owners, (uint8_t)(worker + 1), rc->port_refs) != 0) {
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
 * Carries out a SEND action: joins the identical query outstanding if there is one, else starts
 * one (miss_query_send). Returns 0 when the resolution waits on a query (sent, or dropped for want
 * of a neighbour or an mbuf: counted, and its deadline will report it to the resolver),
 * -EHOSTUNREACH when this host has no route to the server (off-link without a gateway of its
 * family), or -1 when it could not even be started otherwise (the address policy refused the
 * server, no free slot): the caller reports that to the resolver at once, as an unreachable
 * server (a local problem: EDE Network Error) or a failed one.
 */
static int
miss_send(struct dp_lcore *lc, const struct px_resolver_action *act)
{
	struct dp_miss *rc = lc->miss;
	const struct px_addr *srv = &act->server;
	enum px_addr_reason why;
	bool on_link;

	why = px_addr_check(rc->conf.policy, srv);
	if (unlikely(why != PX_ADDR_OK)) {
		count_rejected(lc, why);
		return -1;
	}
	if (unlikely(dp_nexthop_route(&lc->ctx->port, &rc->nexthop, srv, &on_link) == NULL)) {
		DP_STAT_INC(lc, rec_drop_family);
		return -EHOSTUNREACH;
	}
	if (unlikely((uint32_t)act->res >= rc->conf.slots)) {
		DP_STAT_INC(lc, rec_drop_family);
		return -1;
	}
	return miss_query_send(lc, act);
}

/*
 * Builds and queues the frame of a query px_upq_start() just started (sent: port, ID and the
 * qname in its 0x20 case). Returns true if it left, false if it could not (no neighbour MAC
 * yet, no mbuf: counted; the query's deadline brings it back).
 */
bool
miss_wire(struct dp_lcore *lc, const struct px_addr *srv, const struct px_upq_sent *sent,
	 uint8_t qname_len, uint16_t qtype, uint16_t qclass)
{
	struct dp_miss *rc = lc->miss;
	uint8_t fam = srv->family == PX_AF_INET ? 4 : 6;
	struct rte_ether_addr mac;
	struct rte_mbuf *m;
	bool on_link = false;
	uint16_t len;
	uint8_t *dns, *p;

	if (unlikely(!dp_nexthop_mac(lc, &rc->nexthop, srv, &mac))) {
		DP_STAT_INC(lc, rec_drop_no_neigh);
		return false;
	}
	m = rte_pktmbuf_alloc(rc->pool);
	if (unlikely(m == NULL)) {
		DP_STAT_INC(lc, rec_drop_no_mbuf);
		return false;
	}
	len = (uint16_t)(PX_DNS_HDR_LEN + qname_len + 4 + PX_DNS_OPT_LEN);
	if (unlikely(dns_cap(m, fam) < len)) {
		rte_pktmbuf_free(m);
		DP_STAT_INC(lc, rec_drop_no_mbuf);
		return false;
	}
	dns = rte_pktmbuf_mtod_offset(m, uint8_t *, dns_off(fam));
	/* RD clear: an authoritative server is asked, not a resolver. */
	px_put16(dns, sent->id);
	px_put16(dns + 2, 0);
	px_put16(dns + 4, 1);
	px_put16(dns + 6, 0);
	px_put16(dns + 8, 0);
	px_put16(dns + 10, 1);
	memcpy(dns + PX_DNS_HDR_LEN, sent->qname, qname_len);
	p = dns + PX_DNS_HDR_LEN + qname_len;
	px_put16(p, qtype);
	px_put16(p + 2, qclass);
	p += 4;
	p[0] = 0; /* OPT: the root, our buffer size, version 0, DO clear, no options */
	px_put16(p + 1, PX_DNS_TYPE_OPT);
	px_put16(p + 3, PX_DNS_EDNS_BUFSIZE);
	px_put32(p + 5, 0);
	px_put16(p + 9, 0);
	miss_frame(lc, m, fam, &mac, srv->a, rte_cpu_to_be_16(sent->sport), RTE_BE16(PX_DNS_PORT),
		  len);
	if (dp_tap_on(lc))
		dp_tap_upstream(lc, PX_TAP_RESOLVER_QUERY, fam, PX_TAP_UDP, sent->sport, srv->a,
				PX_DNS_PORT, dns, len);
	miss_queue(lc, m);
	DP_STAT_INC(lc, rec_queries_sent);
	dp_nexthop_route(&lc->ctx->port, &rc->nexthop, srv, &on_link);
	if (on_link)
		DP_STAT_INC(lc, rec_onlink_sent);
	return true;
}

static void
client_release(struct dp_miss *rc, uint32_t i)
{
	struct miss_client *c = &rc->clients[i];

	if (c->shared)
		miss_share_put(rc, &c->from);
	c->used = false;
	c->gen++;
	rc->client_free[rc->client_free_count++] = i;
}

/* Sends client slot i its response; the caller releases the slot. */
static void
client_send(struct dp_lcore *lc, uint32_t i, const struct px_wire_answer *ans)
{
	struct dp_miss *rc = lc->miss;
	struct miss_client *c = &rc->clients[i];
	uint8_t fam = c->from.peer.family;
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

	if (c->from.transport == DP_CLIENT_TCP) {
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
	len = px_wire_write_response(dns, dns_cap(m, fam), px_wire_udp_limit(&q), &q, ans);
	if (unlikely(len == 0)) {
		rte_pktmbuf_free(m);
		DP_STAT_INC(lc, drop_no_room);
		goto out;
	}
	px_stats_count_rcode(&lc->stats, ans->rcode, dns);
	if (dp_tap_on(lc))
		dp_tap_client(lc, PX_TAP_CLIENT_RESPONSE, fam, PX_TAP_UDP, c->from.peer.a,
			      c->from.peer.port, dns, len);
	miss_frame(lc, m, fam, &c->from.mac, c->from.peer.a, RTE_BE16(PX_DNS_PORT),
		   rte_cpu_to_be_16(c->from.peer.port), len);
	miss_queue(lc, m);
	DP_STAT_INC(lc, rec_client_answers);
out:
	c->answered = true;
}

void
miss_client_answer_early(struct dp_lcore *lc, uint32_t i, const struct px_wire_answer *ans)
{
	client_send(lc, i, ans);
}

bool
miss_client_hold(struct dp_lcore *lc, const struct dp_client_addr *from, uint64_t *cookie)
{
	struct dp_miss *rc = lc->miss;
	struct miss_client *c;
	bool shared = false;
	uint32_t i;

	if (rc->client_free_count == 0 ||
	    (rc->share != NULL && miss_share_count(rc, from) >= rc->conf.per_client) ||
	    (rc->share != NULL && !miss_share_take(lc, from, &shared)))
		return false;
	i = rc->client_free[--rc->client_free_count];
	c = &rc->clients[i];
	c->used = true;
	c->shared = shared;
	c->answered = true;
	c->stale = false;
	c->from = *from;
	c->question_end = 0;
	*cookie = (uint64_t)c->gen << 32 | i;
	return true;
}

void
miss_client_drop(struct dp_miss *rc, uint64_t cookie)
{
	uint32_t i = (uint32_t)cookie;

	if (i < rc->conf.slots && rc->clients[i].used &&
	    rc->clients[i].gen == (uint32_t)(cookie >> 32))
		client_release(rc, i);
}

static void
answer_clients(struct dp_lcore *lc, const struct px_resolver_action *act)
{
	struct px_wire_answer ans = {.rcode = PX_DNS_RCODE_SERVFAIL};
	struct px_dns_ede_info ede;
	char text[PX_DNS_EDE_TEXT_MAX + 1];

	if (act->kind == PX_RES_ACT_ANSWER) {
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
		ans.ede = px_resolver_fail_ede(act->reason, act->zone, act->zone_len, &ede, text);
		switch (act->reason) {
		case PX_RES_FAIL_NO_NS: DP_STAT_INC(lc, rec_servfail_no_ns); break;
		case PX_RES_FAIL_DEADLINE: DP_STAT_INC(lc, rec_servfail_deadline); break;
		case PX_RES_FAIL_POLICY: DP_STAT_INC(lc, rec_servfail_policy); break;
		case PX_RES_FAIL_NETWORK: DP_STAT_INC(lc, rec_servfail_network); break;
		default: DP_STAT_INC(lc, rec_servfail_limit); break;
		}
		if (act->done != NULL &&
		    miss_stale_fail(lc, act->done->qname, act->done->qname_len, act->done->qtype,
				    act->done->qclass, act->clients, act->client_count))
			return;
	}
	miss_clients_answer(lc, act->clients, act->client_count, &ans);
}

unsigned
miss_clients_answer(struct dp_lcore *lc, const uint64_t *clients, unsigned count,
		    const struct px_wire_answer *ans)
{
	struct dp_miss *rc = lc->miss;
	unsigned n = 0;

	for (unsigned k = 0; k < count; k++) {
		uint64_t cookie = clients[k];
		uint32_t i = (uint32_t)cookie;

		if (i >= rc->conf.slots || !rc->clients[i].used ||
		    rc->clients[i].gen != (uint32_t)(cookie >> 32))
			continue;
		/* Answered once only; its slot was held for the resolution, which is over. */
		if (!rc->clients[i].answered) {
			client_send(lc, i, ans);
			n++;
		}
		client_release(rc, i);
	}
	return n;
}

/* While one reply is fed to its waiters (miss_dedupe.active): true if this cut, by zone, was
 * offered already from that reply, else remembers it and returns false. The waiters of one
 * query that get a referral from it all get the same one. */
static bool
miss_dedupe_cut(struct miss_dedupe *d, const struct px_resolver_cut *cut)
{
	if (!d->active)
		return false;
	if (d->zone_len == cut->zone_len && memcmp(d->zone, cut->zone, cut->zone_len) == 0)
		return true;
	d->zone_len = cut->zone_len;
	memcpy(d->zone, cut->zone, cut->zone_len);
	return false;
}

/* The same for an answer, by question: resolutions of one question share their last query. */
static bool
miss_dedupe_answer(struct miss_dedupe *d, const struct px_resolution *done)
{
	if (!d->active || done == NULL)
		return false;
	if (d->name_len == done->qname_len && d->qtype == done->qtype &&
	    d->qclass == done->qclass && memcmp(d->name, done->qname, done->qname_len) == 0)
		return true;
	d->name_len = done->qname_len;
	d->qtype = done->qtype;
	d->qclass = done->qclass;
	memcpy(d->name, done->qname, done->qname_len);
	return false;
}

/* Carries out act and whatever follows from it at once (a server refused at send). */
void
miss_run(struct dp_lcore *lc, struct px_resolver_action *act)
{
	struct dp_miss *rc = lc->miss;
	struct px_addr server;
	uint64_t res;
	int ret;

	/* Each step marks one more address failed, so this ends; the bound is a backstop. */
	for (unsigned step = 0; step < 4096; step++) {
		if (act->cache_cut != NULL && !miss_dedupe_cut(&rc->dedupe, act->cache_cut))
			miss_cut_offer(lc, act->cache_cut);
		if (act->kind == PX_RES_ACT_ANSWER && !miss_dedupe_answer(&rc->dedupe, act->done))
			miss_cache_offer(lc, act);
		switch (act->kind) {
		case PX_RES_ACT_WAIT:
			return;
		case PX_RES_ACT_SEND:
			ret = miss_send(lc, act);
			if (ret == 0)
				return;
			/* The callee overwrites act: pass copies. */
			res = act->res;
			server = act->server;
			if (ret == -EHOSTUNREACH)
				px_resolver_on_unreachable(rc->res, res, &server, lc->now_ms, act);
			else
				px_resolver_on_timeout(rc->res, res, &server, lc->now_ms, act);
			continue;
		case PX_RES_ACT_ANSWER:
		case PX_RES_ACT_SERVFAIL:
			if (rc->prime_res != 0 && act->res == rc->prime_res)
				miss_prime_done(lc, act);
			answer_clients(lc, act);
			return;
		}
		return;
	}
}

/* These SERVFAILs cost pollux no upstream work, so a spoofed query gets them cheaply: no
 * EXTRA-TEXT, which would only make them a bigger reflection. */
static const struct px_dns_ede_info ede_no_room = {PX_DNS_EDE_OTHER, ""};

bool
dp_miss_miss(struct dp_lcore *lc, const uint8_t *msg, const struct dp_query *q,
	     const struct dp_client_addr *from, bool stale, const struct px_dns_ede_info **why)
{
	struct dp_miss *rc = lc->miss;
	struct px_resolver_question rq = {
		.qname = q->qname_lc,
		.qname_len = q->qname_len,
		.qtype = q->qtype,
		.qclass = q->qclass,
	};
	struct px_resolver_action act;
	struct px_resolver_start_buf scut;
	const struct px_resolver_start_cut *sc;
	struct miss_client *c;
	uint64_t cookie, res;
	bool shared = false;
	uint32_t i;
	int ret;

	*why = &ede_no_room;
	if (unlikely(q->question_end == 0 || q->question_end > REC_QMSG_MAX)) {
		DP_STAT_INC(lc, rec_no_client_slot);
		return false;
	}
	/* The share first: a client past it must not push anybody else out (no jostle). */
	if (rc->share != NULL && !miss_share_take(lc, from, &shared)) {
		*why = &ede_no_room;
		return false;
	}
	if (unlikely(rc->client_free_count == 0) && !miss_jostle(lc)) {
		if (shared)
			miss_share_put(rc, from);
		DP_STAT_INC(lc, rec_no_client_slot);
		return false;
	}
	i = rc->client_free[--rc->client_free_count];
	c = &rc->clients[i];
	c->used = true;
	c->shared = shared;
	c->answered = false;
	c->from = *from;
	c->flags = q->flags;
	c->question_end = q->question_end;
	c->edns_bufsize = q->edns_bufsize;
	c->edns = q->edns;
	c->edns_do = q->edns_do;
	/* The timer looks the answer up again by the question as asked: an uncompressed one. */
	c->stale = stale && q->question_end == PX_DNS_HDR_LEN + q->qname_len + 4;
	memcpy(c->msg, msg, q->question_end);
	cookie = (uint64_t)c->gen << 32 | i;

	res = px_resolver_find(rc->res, &rq);
	if (res != 0 && px_resolver_attach(rc->res, res, cookie) == 0) {
		DP_STAT_INC(lc, rec_attached);
		if (c->stale)
			miss_stale_arm(lc, cookie);
		return true;
	}
	sc = miss_start_cut(lc, &rq, &scut);
	ret = px_resolver_start(rc->res, &rq, px_hints_get(lc->ctx), sc, lc->now_ms, cookie, &act);
	/* A full pool (sub-resolutions take slots too): make room as for a client slot. */
	if (ret == -ENOSPC && miss_jostle(lc))
		ret = px_resolver_start(rc->res, &rq, px_hints_get(lc->ctx), sc, lc->now_ms, cookie,
				       &act);
	if (ret != 0) {
		client_release(rc, i);
		DP_STAT_INC(lc, rec_no_res_slot);
		return false;
	}
	DP_STAT_INC(lc, rec_started);
	miss_run(lc, &act);
	/* Unless it was answered at once (a resolution that failed before it sent anything). */
	if (c->stale && c->used && c->gen == (uint32_t)(cookie >> 32))
		miss_stale_arm(lc, cookie);
	return true;
}

void
dp_client_addr_read(struct dp_client_addr *from, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_udp_hdr *udp;

	from->transport = DP_CLIENT_UDP;
	rte_ether_addr_copy(&eth->src_addr, &from->mac);
	from->tcp_conn = 0;
	from->tcp_conn_gen = 0;
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);

		udp = (const struct rte_udp_hdr *)(ip + 1);
		px_addr_set4(&from->peer, ip->src_addr, rte_be_to_cpu_16(udp->src_port));
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);

		udp = (const struct rte_udp_hdr *)(ip + 1);
		px_addr_set6(&from->peer, ip->src_addr, rte_be_to_cpu_16(udp->src_port));
	}
}

/* Reads the reply's question into rep (qname_len 0 when it has none that can be read). The
 * name is taken as it stands in the message, case and all (0x20), and must not be compressed:
 * a question that starts the message has nothing before it to point to. */
static void
reply_question(struct px_upq_reply *rep, const uint8_t *dns, uint16_t len)
{
	struct px_wire_rd rd;
	unsigned nlen;

	rep->qname_len = 0;
	if (len < PX_DNS_HDR_LEN || px_get16(dns + 4) != 1)
		return;
	px_wire_rd_init(&rd, dns, len);
	rd.pos = PX_DNS_HDR_LEN;
	nlen = px_wire_read_name(&rd, NULL, NULL);
	if (rd.err || nlen == 0 || rd.pos != PX_DNS_HDR_LEN + nlen)
		return;
	rep->qtype = px_wire_read_u16(&rd);
	rep->qclass = px_wire_read_u16(&rd);
	if (rd.err)
		return;
	rep->qname_len = (uint8_t)nlen;
	rep->qname = dns + PX_DNS_HDR_LEN;
}

/* Matches a reply this worker owns, and hands it to the query it answers (miss_query_reply),
 * which scrubs it and feeds it to every resolution waiting. */
enum dp_verdict
miss_reply(struct dp_lcore *lc, uint8_t family, const void *ip, uint16_t sport_be,
	  uint16_t dport_be, const uint8_t *dns, uint16_t dns_len)
{
	struct dp_miss *rc = lc->miss;
	struct px_upq_reply rep = {.dport = rte_be_to_cpu_16(dport_be)};
	struct px_upq_done done;

	if (family == 4)
		px_addr_set4(&rep.src, ((const struct rte_ipv4_hdr *)ip)->src_addr,
			     rte_be_to_cpu_16(sport_be));
	else
		px_addr_set6(&rep.src, ((const struct rte_ipv6_hdr *)ip)->src_addr,
			     rte_be_to_cpu_16(sport_be));
	if (dns_len < PX_DNS_HDR_LEN) {
		DP_STAT_INC(lc, drop_dns_runt);
		return DP_DROP;
	}
	rep.id = px_get16(dns);
	reply_question(&rep, dns, dns_len);
	switch (px_upq_match(rc->upq, &rep, &done)) {
	case PX_UPQ_MATCH:
		break;
	case PX_UPQ_NO_SUCH_QUERY:
		DP_STAT_INC(lc, rec_forged_no_query);
		return DP_DROP;
	case PX_UPQ_WRONG_ADDR:
		DP_STAT_INC(lc, rec_forged_addr);
		return DP_DROP;
	case PX_UPQ_WRONG_PORT:
		DP_STAT_INC(lc, rec_forged_port);
		return DP_DROP;
	case PX_UPQ_WRONG_CASE:
		DP_STAT_INC(lc, rec_forged_case);
		return DP_DROP;
	case PX_UPQ_LATE:
		/* Its resolution moved on when it timed out; what it still tells is how slow the
		 * server is, so the next RTO covers it. */
		DP_STAT_INC(lc, rec_late_replies);
		px_upq_server_late(rc->upq, &done.server, (uint32_t)(lc->now_ms - done.sent_ms),
				   lc->now_ms);
		return DP_DROP;
	default:
		DP_STAT_INC(lc, rec_forged_question);
		return DP_DROP;
	}
	DP_STAT_INC(lc, rec_replies_matched);
	if (dp_tap_on(lc))
		dp_tap_upstream(lc, PX_TAP_RESOLVER_RESPONSE, family, PX_TAP_UDP, rep.dport,
				rep.src.a, rep.src.port, dns, dns_len);
	px_upq_server_update(rc->upq, &done.server, (uint32_t)(lc->now_ms - done.sent_ms),
			     lc->now_ms);
	miss_query_reply(lc, &done, rep.id, dns, dns_len);
	return DP_CONSUMED;
}

/*
 * Takes in what a reload published (dp_settings.h), when it is new: copied into this worker's
 * own state, so the object is read only here, within the iteration that loaded it. One load
 * and one compare per loop iteration otherwise; nothing per packet.
 */
static void
miss_settings_apply(struct dp_lcore *lc)
{
	struct dp_miss *rc = lc->miss;
	const struct dp_settings *s = dp_settings_get(lc->ctx);

	if (likely(s == NULL || s->generation == rc->settings_gen))
		return;
	rc->settings_gen = s->generation;
	rc->policy = s->policy;
	rc->conf.resolve.qname_min = s->qname_min;
	rc->conf.resolve.max_ttl = s->max_ttl;
	rc->conf.resolve.max_neg_ttl = s->max_neg_ttl;
	px_resolver_tune(rc->res, s->qname_min, s->max_ttl, s->max_neg_ttl);
	rc->conf.prime_min_servers = s->prime_min_servers;
	memcpy(rc->conf.probe_qname, s->probe_qname, sizeof(rc->conf.probe_qname));
	rc->conf.probe_qname_len = s->probe_qname_len;
	rc->conf.probe_qtype = s->probe_qtype;
	if (s->stale.timeout_ms != rc->conf.stale.timeout_ms)
		miss_stale_retime(rc, s->stale.timeout_ms);
	rc->conf.stale = s->stale;
	DP_STAT_INC(lc, rec_settings_applied);
}

/* The time timeouts are judged at (dp_miss.h): now when nothing is left to read, else the last
 * moment nothing was, DP_MISS_EXPIRE_LAG_MAX_MS ago at most. Never goes back: both bounds only
 * move forward. */
static uint64_t
miss_expire_clock(struct dp_lcore *lc, struct dp_miss *rc, uint64_t now, bool backlog)
{
	/* The queue was last seen empty now, or when a nap began. */
	uint64_t empty = now;

	if (lc->napped) {
		lc->napped = false;
		if (lc->nap_ms < now)
			empty = lc->nap_ms;
	}
	if (!backlog) {
		if (empty > rc->drained_ms)
			rc->drained_ms = empty;
		return rc->drained_ms;
	}
	DP_STAT_INC(lc, rec_expire_lagged);
	if (now - rc->drained_ms > DP_MISS_EXPIRE_LAG_MAX_MS)
		return now - DP_MISS_EXPIRE_LAG_MAX_MS;
	return rc->drained_ms;
}

void
dp_miss_tick(struct dp_lcore *lc)
{
	struct dp_miss *rc = lc->miss;
	struct px_upq_done done;
	uint64_t now = lc->now_ms;
	bool backlog = lc->rx_backlog;

	miss_settings_apply(lc);
	/* Where the hints are published, not the table itself: the resolver loads the table at
	 * each use, so nothing loaded here outlives this iteration's quiescent state report. */
	px_resolver_set_hints_source(rc->res, &lc->ctx->hints);
	px_resolver_set_cut_source(rc->res, miss_cut_source, lc);
	/* Replies other workers received for us are matched before any of their queries can
	 * time out. */
	if (rc->owners != NULL && miss_handoff_drain(lc) == DP_BURST)
		backlog = true;
	uint64_t judged = miss_expire_clock(lc, rc, now, backlog);

	for (unsigned k = 0; k < DP_MISS_EXPIRE_BUDGET && px_upq_expire(rc->upq, judged, &done);
	     k++)
		miss_query_expired(lc, &done);
	miss_stale_tick(lc);
	/* The gateways are wanted from the start, before any query needs them, and refreshed
	 * before they go stale. */
	dp_nexthop_tick(lc, &rc->nexthop);
	miss_prime_tick(lc);
	miss_probe_tick(lc);
	px_rand_maintain(&rc->rand, false);
	miss_flush(lc);
}
