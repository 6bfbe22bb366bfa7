/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker side of iterative resolution: the I/O around the I/O-free state machine
 * of pollux/resolver.h. A cache miss outside the local zones takes a client slot and starts (or joins)
 * a resolution; every action the resolver answers with is carried out here: SEND builds an
 * upstream query frame (Ethernet to the gateway, IPv4 or IPv6, UDP from a random port to 53,
 * RD clear, EDNS 1232), ANSWER and SERVFAIL build the clients' responses. Replies from upstream
 * (UDP to our address, destination port other than 53) are matched against the outstanding
 * queries (pollux/upstream.h, RFC 5452), classified and scrubbed by the queried zone (pollux/reply.h)
 * and fed back to the resolver; deadlines are polled once per loop iteration.
 *
 * Scope and limits (the README says the same):
 *  - A reply with TC is asked again over TCP through the TCP thread (dp_tcp.h) when TCP is on;
 *    with TCP off it counts as that server failing (px_resolver's rule).
 *  - Answers (positive and negative) are put in the cache by the worker itself, before it
 *    answers the clients (miss_cache_offer(), dp_cache_put()), and so are the cuts the resolver hands out (referral NS sets and glue,
 *    and the addresses sub-resolutions add: miss_cut_offer(), dp_cut.h). A miss starts from the
 *    closest enclosing cached cut (dp_cut_find), which is the primed root set when nothing
 *    deeper is cached, else from the hints; sub-resolutions and CNAME restarts outside the cut
 *    ask the same cache (the resolver's cut source).
 *  - Priming (RFC 8109; the worker with conf.prime, when ctx->prime_status is set): once the
 *    gateway's MAC is known, and again when the cached root set has a tenth of its TTL left or
 *    is gone, the worker resolves ". NS" from the hints with no client (RD clear, EDNS 1232;
 *    the resolver fails over between root servers). The worker checks every reply to it with
 *    the hints-file rules and caches the root cut itself (pollux/prime.h); a reply with TC is
 *    asked again over TCP like any other, and the TCP reply is the one checked.
 *    Without a fresh root cut, priming is retried with a backoff of 1 s doubling to 60 s; a
 *    fresh one is looked for every DP_MISS_PRIME_CHECK_MS, so one evicted early is noticed.
 *  - Next hops: a nameserver inside the port's own subnet (--ip/--ip6 prefix) is sent to
 *    directly, by its own ARP/ND entry; any other through the gateway of its family (--gateway,
 *    --gateway6); with neither, the send fails and the resolver moves on. MACs live in the
 *    neighbour table all workers share (dp_nexthop.h): an ARP or ND answer is learned by whichever
 *    worker receives it. A query whose next hop is not resolved yet is kept and sent again
 *    (DP_MISS_UNSENT_RETRIES) once the probe has had time to be answered.
 *  - Serve-stale (RFC 8767) and prefetch: dp_miss_stale.c (conf.stale).
 *  - A timed-out query is not retried to the same server: the resolver moves to the next one.
 *  - Identical upstream questions are asked once (dp_miss_query.c): a resolution that would
 *    send a server the question already outstanding to it waits on that query instead, and
 *    its reply or timeout is fed to every resolution waiting (rec_up_coalesced).
 *  - 0x20: every upstream qname goes in a random case, which the reply must repeat
 *    (pollux/upstream.h; rec_forged_case, rec_0x20_retries, rec_0x20_fallback).
 *  - Several workers: each draws its source ports over the whole range, claiming each port in
 *    a map shared by the workers while it has queries on it (pollux/upstream.h). RSS may deliver a
 *    reply to any queue; the worker that receives it reads the port's owner and, if it is
 *    another worker, passes the mbuf whole on that worker's hand-off ring (multi-producer,
 *    single consumer). The owner drains its ring in dp_miss_tick() and matches the reply as
 *    if it had received it. A reply to a port nobody holds is counted rec_forged_no_query.
 *
 * Memory: everything (client slots, resolver pool, outstanding-query table, the send table and
 * the reply scratch) is allocated at start by dp_miss_create() on the worker's socket; the
 * fast path allocates nothing but mbufs from the port's pool, and counts their exhaustion.
 *
 * Worker only, except dp_miss_create() and dp_miss_free() (control thread only).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <pollux/addr_policy.h>
#include <pollux/resolver.h>
#include <pollux/wire.h>

#include "dp_client.h"
#include "dp_lcore.h"
#include "dp_settings.h"

#define DP_MISS_DEFAULT_SLOTS 4096
#define DP_MISS_MAX_SLOTS (1u << 20)
#define DP_MISS_TX_BATCH 64
/* At most this many timeouts are handled per loop iteration: the rest wait for the next one. */
#define DP_MISS_EXPIRE_BUDGET 64
/* While the RX queue or the hand-off ring has a backlog, timeouts are judged as of the last
 * moment both were seen empty (a reply waiting there is not late), at most this long ago. */
#define DP_MISS_EXPIRE_LAG_MAX_MS 50
/* Priming: first retry after this long, doubling up to the maximum; a primed set is refreshed
 * when a tenth of its TTL is left. */
#define DP_MISS_PRIME_BACKOFF_MS 1000
#define DP_MISS_PRIME_BACKOFF_MAX_MS 60000
/* While the primed set is fresh, the worker still looks for it this often: a root cut that
 * left the cache early (evicted, deleted) is primed again at once, not at its refresh time. */
#define DP_MISS_PRIME_CHECK_MS 1000

/* What the control thread decides for every worker. */
struct dp_miss_conf {
	uint32_t slots;            /* client slots and resolutions; outstanding queries too */
	bool has_gw4;
	uint32_t gw4;              /* network order */
	bool has_gw6;
	uint8_t gw6[16];
	struct px_resolver_config resolve;
	const struct px_addr_policy *policy; /* must outlive the worker */
	bool prime; /* this worker primes the root set (RFC 8109; with ctx->prime_status): one */
	uint32_t prime_min_servers; /* --min-root-servers: a priming reply must keep as many */
	/* Fair share (pollux/share.h): client slots one client (an IPv4 address, an IPv6 prefix of
	 * client_prefix6 bits, a TCP connection) may hold, 0 for no cap; and the age past which a
	 * resolution only waiting for an unresponsive server may be jostled out by a new miss
	 * when every slot is taken, 0 for never. */
	uint32_t per_client;
	uint8_t client_prefix6;
	uint32_t jostle_ms;
	/* The floor of every upstream RTO, however fast a server was measured (0: the default,
	 * PX_UPQ_RTO_MIN_MS). */
	uint32_t rto_min_ms;
	/* The health probe (dp_lcore.h, probe_seq): this worker resolves the question, with no
	 * client, each time it is asked. One worker. */
	bool probe;
	uint8_t probe_qname[PX_DNS_NAME_BUF]; /* wire form, lower case */
	uint8_t probe_qname_len;
	uint16_t probe_qtype;
	struct dp_stale_conf stale;
};

struct dp_miss;

/* Fills from with the sender of m, a client query as dp_rx.c accepted it (Ethernet, then IPv4
 * without options or IPv6 without extension headers, then UDP). Worker only. */
void dp_client_addr_read(struct dp_client_addr *from, const struct rte_mbuf *m);

/*
 * Builds one worker's resolution state on socket with rte_zmalloc_socket: conf->slots client
 * slots, a resolver of as many resolutions, an outstanding-query table of as many queries and a
 * random generator keyed from getrandom(2). pool is where new frames come from. Returns NULL
 * with errno set (EINVAL, ENOMEM, or getrandom's). Control thread only, before launch.
 */
struct dp_miss *dp_miss_create(const struct dp_miss_conf *conf, int socket,
				     struct rte_mempool *pool, uint64_t now_ms);

/*
 * With two or more resolving workers: makes rc claim its source ports in owners (65536 bytes
 * shared by the workers, zeroed) as worker `worker` (its queue index, < 255). Returns 0, or -1
 * with errno set. Control thread only, before launch.
 */
int dp_miss_share_ports(struct dp_miss *rc, uint8_t *owners, unsigned worker, int socket);

/* Frees what dp_miss_create() built, after the worker stopped. NULL is a no-op. Control
 * thread only. */
void dp_miss_free(struct dp_miss *rc);

/* The resolver inside, for tests and telemetry (read-only). */
const struct px_resolver *dp_miss_resolver(const struct dp_miss *rc);

/* The upstream query table inside (servers' RTT and backoff), for tests and telemetry
 * (read-only). */
const struct px_upq_table *dp_miss_upstream(const struct dp_miss *rc);

/* The fair-share table inside (NULL without a cap), and the client slots in use, for tests
 * and telemetry (read-only). */
const struct px_share *dp_miss_share(const struct dp_miss *rc);
uint32_t dp_miss_clients_used(const struct dp_miss *rc);

/*
 * A cache miss outside the local zones: q (parsed from msg, whose first q->question_end bytes
 * are the header and question as asked) from client `from`. Takes a client slot and starts or
 * joins a resolution. Returns true if the query was taken in (its answer will be sent later,
 * or was just queued; the caller frees the mbuf, DP_CONSUMED), false if the caller must answer
 * SERVFAIL now (counted: the client holds its share already, no client slot, no resolution),
 * with *why the Extended DNS Error to give it. With `stale`, the cache holds an expired answer
 * to q that may be served stale (dp_miss_stale.c): the client gets it if the resolution fails
 * or has not finished within conf.stale.timeout_ms (then its slot and share stay held, answered,
 * until the resolution ends).
 *
 * Fair share: a client holding conf.per_client slots is refused (rec_client_capped), whether
 * its question would start a resolution or join one in flight, since either takes a client
 * slot from the same pool. When no client slot or no resolution is free, the oldest
 * resolution that is only waiting for an unresponsive server is ended to make room
 * (rec_jostled; its clients get SERVFAIL): one at least conf.jostle_ms old, not the priming
 * one, whose query in flight went over UDP to a server the RTT table holds in backoff (it
 * timed out and has not answered since). Its upstream query is cancelled, so a late reply
 * finds no query and is dropped. Worker only, as an online RCU reader.
 */
bool dp_miss_miss(struct dp_lcore *lc, const uint8_t *msg, const struct dp_query *q,
		  const struct dp_client_addr *from, bool stale, const struct px_dns_ede_info **why);

/* The serve-stale and prefetch settings in force (dp_miss_stale.c). Worker only. */
const struct dp_stale_conf *dp_miss_stale_conf(const struct dp_miss *rc);

/* Fills ans with cache entry e's answer, served with ttl and ede (NULL: none). Any thread. */
struct dp_cache_entry;
struct px_wire_answer;
void dp_miss_stale_answer(const struct dp_cache_entry *e, uint32_t ttl,
			  const struct px_dns_ede_info *ede, struct px_wire_answer *ans);

/*
 * A cache hit on q's answer in the last tenth of its TTL (dp_cache_entry_prefetch_due), from
 * client `from` (NULL: not known): starts a refresh with no client waiting, charged to `from`
 * (a client slot of its share, held until the refresh ends), unless prefetch is off, a
 * resolution of the question is in flight already on this worker, fewer than a quarter of the
 * resolutions are free, or the client holds its whole fair share or no client slot is free
 * (counted prefetch_skipped). Counted prefetch.
 * Worker only, as an online RCU reader.
 */
void dp_miss_prefetch(struct dp_lcore *lc, const struct dp_query *q,
		      const struct dp_client_addr *from);

/*
 * A UDP datagram to our address with a destination port other than 53: an upstream reply in m.
 * ip is its IPv4 or IPv6 header (family 4 or 6), dns the payload of dns_len bytes. Returns
 * DP_CONSUMED, DP_KEPT (passed to the worker owning the port: m is not ours any more), or
 * DP_DROP with the reason counted. Worker only, as an online RCU reader.
 */
enum dp_verdict dp_miss_reply(struct dp_lcore *lc, struct rte_mbuf *m, uint8_t family,
				 const void *ip,
				 uint16_t sport_be, uint16_t dport_be, const uint8_t *dns,
				 uint16_t dns_len);

/*
 * The TCP thread's outcome for a TC retry (dp_tcp_upstream_ask): mt says which resolution and
 * server; dns (dns_len bytes) is the reply, or NULL when there was none (the server is then
 * failed as after a timeout). A resolution that ended meanwhile is counted (tcp_up_stale) and
 * ignored. Worker only, as an online RCU reader.
 */
struct dp_tcp_meta;
void dp_miss_tcp_reply(struct dp_lcore *lc, const struct dp_tcp_meta *mt, const uint8_t *dns,
			  uint16_t dns_len);

/* The worker's next hops (dp_nexthop.h: its gateways, its probes sent with the miss path's
 * frames), for the TCP path's segments from the kernel. Worker only. */
struct dp_nexthop;
const struct dp_nexthop *dp_miss_nexthop(const struct dp_miss *rc);

/* True if the port is one upstream queries are sent from (a reply's destination port). */
static inline bool
dp_miss_port(uint16_t dport_host)
{
	return dport_host >= PX_UPQ_PORT_MIN;
}

/*
 * Once per loop iteration, after the burst and before the quiescent state report: points the
 * resolver at the published hints (it loads the table at each use: nothing RCU-protected is
 * kept across the report), takes the replies other workers handed over, handles up to
 * DP_MISS_EXPIRE_BUDGET timeouts, probes for an unknown gateway (rate-limited), re-seeds the
 * generator when due and sends everything queued. lc->now_ms must be current. Worker only,
 * as an online RCU reader.
 *
 * Timeouts are judged against the time up to which every reply is known to have been read:
 * now, or, while the RX queue (lc->rx_backlog: the last burst was full) or the hand-off ring
 * has a backlog, the last tick that saw both empty. A reply that came before its deadline but
 * waits behind a backlog (the worker fell behind, or lost its core for a while) is then read
 * before its query can time out, instead of making a spurious timeout. That time lags now by
 * DP_MISS_EXPIRE_LAG_MAX_MS at most, so a queue that never empties (overload, a flood) delays a
 * timeout by that much and no more, and keeps a query open to a reply (a spoofed one must
 * still match its port, ID, server and 0x20 question) that much longer. 50 ms covers the
 * deepest queue measured in the lab (af_packet's 4096 frames at its service rate, about 30 ms).
 * After an idle nap (--idle-sleep-us) the queue was last seen empty when the nap began: what came
 * during it is unread. Ticks judged at an earlier time for a backlog: rec_expire_lagged.
 */
void dp_miss_tick(struct dp_lcore *lc);
