/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the TCP server thread, shared by its two files: ctl_tcp.c (client connections, the
 * loop, create/free) and ctl_tcp_up.c (the upstream exchanges and the ports they hold). Every
 * field is the thread's alone unless its comment says otherwise.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include <rte_mbuf.h>

#include <pollux/addr.h>
#include <pollux/wire.h>

#include "ctl_tcp.h"
#include "dp_tcp.h"

#define TAG_LISTEN 1u
#define TAG_CONN 2u
#define TAG_UP 3u
#define WBUF_LEN (4 * (DP_TCP_MSG_ROOM + 2))

/* Outcomes waiting for room in a worker's ring. Every entry is an mbuf of the message pool,
 * which has CTL_TCP_MSG_MBUFS of them, so a FIFO one larger can never overflow. */
#define OUT_FIFO_SIZE 4096
_Static_assert(OUT_FIFO_SIZE > CTL_TCP_MSG_MBUFS, "the outcome FIFO must hold every mbuf");

#define CTL_TCP_STATS(X) \
	X(conns_accepted, "connections accepted") \
	X(conns_refused, "connections closed at once: every slot in use") \
	X(conns_per_client, "connections closed at once: the client's address (IPv6: /64) has tcp-conn-per-client open") \
	X(conns_idle, "connections closed: no complete query or answer within the idle timeout") \
	X(conns_closed, "connections closed (any reason)") \
	X(queries, "queries read and handed to a worker") \
	X(query_too_big, "connections closed: a message longer than the message room") \
	X(query_ring_full, "queries dropped: the worker's ring was full") \
	X(query_no_mbuf, "queries dropped: no message mbuf") \
	X(answers, "answers written to a connection") \
	X(answers_stale, "answers for a connection that was closed meanwhile") \
	X(answers_no_room, "connections closed: answers piled up unread") \
	X(up_started, "upstream TCP exchanges started") \
	X(up_ok, "upstream TCP replies returned to the worker") \
	X(up_fail_busy, "upstream TCP failed at once: every upstream slot in use") \
	X(up_fail_policy, "upstream TCP refused by the address policy") \
	X(up_fail_connect, "upstream TCP failed: socket, bind, connect or I/O error") \
	X(up_fail_timeout, "upstream TCP failed: no reply in time") \
	X(up_fail_reply, "upstream TCP failed: reply too big, empty or with another ID") \
	X(up_waits, "upstream outcomes held back: the worker's ring was full") \
	X(up_ports_released, "local ports of upstream connections released after TIME_WAIT")

struct ctl_tcp_stats {
#define X_MEMBER(n, h) uint64_t n;
	CTL_TCP_STATS(X_MEMBER)
#undef X_MEMBER
};

struct tcp_conn {
	bool used, eof;
	int fd;
	uint32_t gen;
	uint32_t inflight;
	uint32_t events;  /* what epoll watches now */
	uint64_t last_ms; /* accept, the last complete query, or the last answer queued */
	struct px_addr peer_key; /* what the per-client limit counts: IPv6 keeps its /64 only */
	struct px_addr peer;     /* the client's whole address and port: what the workers log
				  * with its queries (dnstap) */
	uint32_t rlen, woff, wlen;
	uint8_t rbuf[2 + DP_TCP_MSG_ROOM];
	uint8_t wbuf[WBUF_LEN];
};

enum up_state { UP_FREE = 0, UP_CONNECTING, UP_WRITING, UP_READING };

struct tcp_up {
	enum up_state st;
	int fd;
	uint16_t lport;   /* the local port it holds in the shared bitmap, 0: none */
	uint16_t id;
	uint16_t need;    /* the reply's length, once read */
	uint8_t pfx[2];   /* the reply's length prefix as read */
	uint32_t off;     /* bytes written (WRITING) or read, prefix included (READING) */
	uint64_t deadline_ms;
	struct rte_mbuf *m;
	uint8_t out[2 + PX_DNS_HDR_LEN + PX_DNS_MAX_NAME + 4 + PX_DNS_OPT_LEN];
	uint16_t out_len;
};

struct out_fifo {
	struct rte_mbuf **q; /* OUT_FIFO_SIZE entries */
	uint32_t head, tail;
};

struct ctl_tcp {
	struct ctl_tcp_conf conf;
	struct rte_mempool *pool;
	struct dp_tcp_lcore **workers;
	int ep, lfd4, lfd6;
	pthread_t thread;
	bool started;
	bool stop; /* ctl: set once, thread: relaxed load per loop */
	struct tcp_conn *conns;
	struct tcp_up ups[CTL_TCP_MAX_UP];
	uint32_t up_busy;
	struct out_fifo *out; /* one per worker */
	struct dp_tcp_ports *ports; /* shared with the workers (dp_tcp.h): this thread writes */
	uint16_t *port_refs;       /* 65536: open upstream sockets on each local port */
	uint64_t *port_release_ms; /* 65536: when a closed port's bit goes, 0: nothing pending */
	uint64_t next_release_scan_ms;
	struct ctl_tcp_stats stats; /* thread: rw, ctl: ro (relaxed loads) */
};

#define STAT(t, n) __atomic_store_n(&(t)->stats.n, (t)->stats.n + 1, __ATOMIC_RELAXED)

uint64_t ctl_tcp_now_ms(void);
void ctl_tcp_ep_set(struct ctl_tcp *t, int fd, uint32_t tag, uint32_t idx, uint32_t events,
		    bool add);

/* ctl_tcp_up.c */

/* Allocates the port bitmap and tables and the outcome FIFOs. Returns 0 or -ENOMEM. */
int ctl_tcp_up_init(struct ctl_tcp *t);
/* Closes every exchange and frees what init allocated, mbufs included. */
void ctl_tcp_up_fini(struct ctl_tcp *t);
/* A worker's DP_TCP_MSG_UP_QUERY: starts it in a free slot, or fails it at once when every
 * slot is busy. Either way the mbuf is the thread's until its outcome reaches the worker. */
void ctl_tcp_up_request(struct ctl_tcp *t, struct rte_mbuf *m);
/* An epoll event on exchange idx. */
void ctl_tcp_up_event(struct ctl_tcp *t, uint32_t idx, uint32_t events);
/* Deadlines, released ports, and the outcomes waiting for ring room. */
void ctl_tcp_up_timers(struct ctl_tcp *t, uint64_t now);
/* Moves waiting outcomes into the workers' rings, as many as fit. */
void ctl_tcp_up_flush(struct ctl_tcp *t);
/* Whether outcomes are waiting for ring room. */
bool ctl_tcp_up_waiting(const struct ctl_tcp *t);
