/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS over TCP, the worker's side. pollux does not run TCP in the data plane:
 * TCP goes to the kernel through an exception path, the way grout and VPP punt control traffic,
 * because TCP is a small share of DNS and the kernel's TCP (retransmission, reassembly, windows,
 * SYN cookies) is better than a partial one here. Three pieces:
 *
 *  1. The exception path. The control thread creates a net_tun port (DPDK's tap PMD in L3 mode)
 *     with one queue pair per worker and gives its kernel interface pollux's addresses
 *     (control/ctl_tun.c). A TCP segment to our address arriving on the DPDK port is written,
 *     Ethernet header stripped, to the worker's own tun queue (dp_tcp_to_kernel). Each worker
 *     also polls its tun RX queue: a TCP segment the kernel sends from our address gets an
 *     Ethernet header and leaves through the DPDK port (anything else the kernel emits, such as
 *     IPv6 router solicitations, is dropped and counted). The destination MAC comes from a small
 *     per-worker table of (IP -> MAC) learned from the TCP frames the worker handed to the
 *     kernel, else the next hop's from the resolver's shared neighbour table (dp_nexthop.h: the
 *     server itself when on-link, else the gateway) for connections pollux opens itself.
 *     The table is per worker and needs no sharing: the kernel's tun queue selection (automq)
 *     sends a flow's segments out of the queue that flow's segments came in on.
 *  2. Client queries. A TCP server thread (control/ctl_tcp.c) owns the kernel sockets: it
 *     listens on port 53 on our addresses, reads length-prefixed messages (RFC 7766) and hands
 *     each query to a worker over a ring, as an mbuf from a dedicated pool whose data is just the
 *     DNS message and whose private area is a struct dp_tcp_meta. The worker answers it like a
 *     UDP query (dp_answer_query_tcp: cache, local zones, or the resolver with the client transport
 *     DP_CLIENT_TCP) with no truncation below the mbuf room, and returns the answer on its ring
 *     back to the thread, which writes it to the connection.
 *  3. Upstream retries. When a server's UDP reply has TC, the worker asks the thread (ring) to
 *     send the same question to that server over TCP; the thread returns the reply, or a
 *     failure, and the worker classifies it with the same px_reply code and feeds the resolver
 *     (dp_miss_tcp_reply). The thread checks the address policy again before connect().
 *
 * Ring protocol: per worker, one ring from the thread to the worker (single producer: the
 * thread; single consumer: the worker) carrying DP_TCP_MSG_QUERY and DP_TCP_MSG_UP_REPLY/
 * UP_FAIL, and one ring back (single producer: the worker) carrying DP_TCP_MSG_ANSWER and
 * DP_TCP_MSG_UP_QUERY. Every QUERY the worker dequeues comes back as exactly one ANSWER (with
 * an empty message when there is nothing to say, so the thread's count of queries in flight
 * stays right), unless its ring back is full or no mbuf is left (counted). Every UP_QUERY
 * comes back as UP_REPLY or UP_FAIL: the thread never drops one (it waits for ring room), so a
 * resolution always hears of its TCP query.
 *
 * What reaches the kernel: only TCP to port 53 on pollux's own --ip/--ip6, and segments from
 * port 53 to a local port the TCP thread holds for a connection it opened upstream (struct
 * dp_tcp_ports). Everything else is dropped by the worker and counted (drop_tcp_port; a segment
 * too short for its TCP header, drop_tcp_hdr), so a service listening on another port of the
 * namespace stays out of reach. An nftables table on the tun (control/ctl_nft.c) filters the
 * same way on the kernel's side: either filter alone keeps the host closed.
 *
 * Layering: dp_tcp calls neither the answer path nor the miss path (both call it: answers and
 * TC retries go out through it). The loop joins them (dp_loop_tcp): it passes the miss path's
 * next hops to dp_tcp_poll and hands each message from the thread to the path it is for.
 *
 * Memory: the pool, the rings and the tables are allocated by the control thread at start;
 * the worker allocates nothing but mbufs and counts their exhaustion.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <pollux/addr.h>
#include <pollux/wire.h>

#include "dp_lcore.h"

/* DNS bytes an mbuf of the TCP message pool holds: larger answers are sent with TC and no
 * records; larger queries close the connection. */
#define DP_TCP_MSG_ROOM 16384
/* An upstream TCP exchange (connect, write, read) is given this long by the thread. */
#define DP_TCP_UP_TIMEOUT_MS 2000
/* Entries of a worker's (IP -> MAC) table, a power of two. */
#define DP_TCP_NEIGH_SIZE 1024
#define DP_TCP_BURST 32

enum dp_tcp_msg_kind {
	DP_TCP_MSG_QUERY = 1, /* thread -> worker: a client's query */
	DP_TCP_MSG_ANSWER,    /* worker -> thread: its answer (empty: none) */
	DP_TCP_MSG_UP_QUERY,  /* worker -> thread: send this query to server over TCP */
	DP_TCP_MSG_UP_REPLY,  /* thread -> worker: the server's reply */
	DP_TCP_MSG_UP_FAIL,   /* thread -> worker: no reply (refused, timeout, too big, policy) */
};

/* The private area of every mbuf of the TCP message pool. The DNS message is the mbuf's data
 * (one segment). Written by whoever enqueues, read by whoever dequeues. */
struct dp_tcp_meta {
	uint8_t kind;        /* enum dp_tcp_msg_kind */
	uint16_t worker;     /* the worker (index) that handles or asked */
	uint32_t conn;       /* QUERY/ANSWER: the thread's connection slot */
	uint32_t conn_gen;   /* QUERY/ANSWER: its generation (a closed connection's is stale) */
	uint32_t send_idx;   /* UP_*: the worker's slot of the query (dp_miss_query.c) */
	uint64_t res;        /* UP_*: that query's handle */
	uint32_t timeout_ms; /* UP_QUERY: for the whole exchange */
	uint16_t qtype, qclass;
	uint8_t qname_len, zone_len;
	/* UP_*: the server (the thread connects to its own up_port, whatever port says);
	 * QUERY: the client and its port, for dnstap (family 0 when the thread did not say). */
	struct px_addr peer;
	uint8_t qname[PX_DNS_NAME_BUF]; /* UP_*: the question as sent, for the reply check */
	uint8_t zone[PX_DNS_NAME_BUF];  /* UP_*: the bailiwick the reply is scrubbed with */
};

/* The private area size the TCP message pool is created with. */
#define DP_TCP_META_SIZE RTE_ALIGN_CEIL(sizeof(struct dp_tcp_meta), RTE_MBUF_PRIV_ALIGN)

static inline struct dp_tcp_meta *
dp_tcp_meta(struct rte_mbuf *m)
{
	return (struct dp_tcp_meta *)rte_mbuf_to_priv(m);
}

/*
 * The local ports of the connections the TCP thread opened upstream, one bit per port (8 KiB,
 * IPv4 and IPv6 alike). Written only by the TCP thread (release stores of whole words, one
 * writer), read by every worker (acquire loads): a bit is set before connect() sends the SYN,
 * so the server's SYN-ACK finds it, and cleared a TIME_WAIT after the socket closed (ctl_tcp.h).
 */
#define DP_TCP_PORT_WORDS (65536 / 64)
struct dp_tcp_ports {
	uint64_t bits[DP_TCP_PORT_WORDS]; /* dp: ro, ctl tcp thread: rw */
};

/* Whether port (host order) is held by an upstream connection. Any thread. */
static inline bool
dp_tcp_port_marked(const struct dp_tcp_ports *p, uint16_t port)
{
	return (__atomic_load_n(&p->bits[port >> 6], __ATOMIC_ACQUIRE) >> (port & 63)) & 1;
}

/* Sets or clears port's bit. The TCP thread only: a plain read-modify-write is safe because it
 * is the only writer; the store is atomic so a worker never reads a torn word. */
static inline void
dp_tcp_port_mark(struct dp_tcp_ports *p, uint16_t port, bool on)
{
	uint64_t w = __atomic_load_n(&p->bits[port >> 6], __ATOMIC_RELAXED);
	uint64_t b = UINT64_C(1) << (port & 63);

	__atomic_store_n(&p->bits[port >> 6], on ? w | b : w & ~b, __ATOMIC_RELEASE);
}

struct dp_tcp_neigh {
	struct px_addr addr; /* family 0: empty; port 0 */
	struct rte_ether_addr mac;
};

/* One per worker, allocated by the control thread on the worker's socket. The worker writes
 * the tables and batches; the rings are shared as described above. */
struct dp_tcp_lcore {
	uint16_t tun_port;   /* the net_tun port */
	uint16_t tun_queue;  /* this worker's queue pair on it */
	uint16_t worker;     /* this worker's index, echoed in metas */
	struct rte_ring *in;  /* thread -> worker */
	struct rte_ring *out; /* worker -> thread */
	struct rte_mempool *msg_pool;
	const struct dp_tcp_ports *up_ports; /* dp: ro, ctl tcp thread: rw (one for all) */
	uint16_t to_kernel_count;
	struct rte_mbuf *to_kernel[DP_TCP_BURST];
	struct dp_tcp_neigh neigh[DP_TCP_NEIGH_SIZE];
};

/*
 * A TCP segment to our address, as dp_rx.c accepted it (Ethernet + IPv4 without options or
 * IPv6 without extension headers; data_len trimmed to the IP packet). If it is DNS (to port 53
 * on --ip/--ip6, or from port 53 to a port in up_ports), learns the sender's MAC, strips the
 * Ethernet header and queues the packet for the kernel. Returns DP_KEPT (the mbuf is now the
 * tun's), or DP_DROP: TCP off (drop_l4_proto), an IPv6 destination other than --ip6
 * (drop_ip_dst), a short header (drop_tcp_hdr), any other port (drop_tcp_port). Worker only.
 */
enum dp_verdict dp_tcp_to_kernel(struct dp_lcore *lc, struct rte_mbuf *m, uint8_t family);

/*
 * Once per loop iteration: writes the queued segments to the kernel and sends what the kernel
 * wrote out of the DPDK port, each to the MAC learned from its peer's own segments, else to its
 * next hop by nh (the miss path's: dp_nexthop.h; NULL: none, the segment is dropped and counted
 * tcp_from_kernel_no_neigh). lc->now_ms must be current. Worker only.
 */
struct dp_nexthop;
void dp_tcp_poll(struct dp_lcore *lc, const struct dp_nexthop *nh);

/*
 * The TCP thread's messages to this worker: dequeues up to n into msgs and returns how many.
 * The caller (dp_loop_tcp, which joins the TCP path to the answer and miss paths so that this
 * module calls neither) hands a DP_TCP_MSG_QUERY to dp_tcp_query_take, the answer path and
 * dp_tcp_query_reply, an UP_REPLY or UP_FAIL to dp_miss_tcp_reply, and frees the rest. Worker
 * only.
 */
unsigned dp_tcp_recv(struct dp_lcore *lc, struct rte_mbuf **msgs, unsigned n);

/*
 * A client's query m (DP_TCP_MSG_QUERY) is taken in: counted, from filled with its connection
 * tag (family DP_CLIENT_TCP) and peer, logged to dnstap. Returns the room m has for the answer,
 * written in place over the query. Worker only.
 */
struct dp_client_addr;
uint16_t dp_tcp_query_take(struct dp_lcore *lc, struct rte_mbuf *m, struct dp_client_addr *from);

/*
 * Returns m, now holding the answer of rlen bytes (0: nothing to say, the thread still hears
 * back), to the thread for the client from. m is the thread's after; counted. Worker only.
 */
void dp_tcp_query_reply(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_client_addr *from,
			uint16_t rlen);

/*
 * The resolver's answer for a client that asked over TCP (from->transport DP_CLIENT_TCP): writes
 * the response (header and question from qmsg, the answer from ans, no truncation below the
 * mbuf room) into a message mbuf and returns it to the thread. Counted; nothing to free.
 * Worker only.
 */
struct dp_client_addr;
struct dp_query;
struct px_wire_answer;
void dp_tcp_client_answer(struct dp_lcore *lc, const struct dp_client_addr *from,
			  const uint8_t *qmsg, const struct dp_query *q,
			  const struct px_wire_answer *ans);

/*
 * A UDP reply from server to the worker's query res (slot send_idx) had TC: asks the
 * thread to send the question (qname/qtype/qclass with ID id, RD clear, EDNS) over TCP. zone is
 * the bailiwick for the reply. Returns 0 when asked (the reply or failure comes back through
 * dp_loop_tcp), -1 when TCP is off or the ring or pool is exhausted (counted): the caller then
 * treats the reply as truncated. Worker only.
 */
int dp_tcp_upstream_ask(struct dp_lcore *lc, uint64_t res, uint32_t send_idx,
			const struct px_addr *server, uint16_t id, const uint8_t *qname,
			uint8_t qname_len, uint16_t qtype, uint16_t qclass, const uint8_t *zone,
			uint8_t zone_len);

/* Looks up the MAC the worker learned for an address (its port is ignored). Returns true and
 * fills mac if known. Worker only; exported for tests. */
bool dp_tcp_neigh_lookup(const struct dp_tcp_lcore *t, const struct px_addr *addr,
			 struct rte_ether_addr *mac);
