/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP DNS server thread (dataplane/dp_tcp.h has the whole design). A plain
 * pthread, not an lcore: it sleeps in epoll on kernel sockets, which no worker may do. It
 *
 *  - listens on port 53 on pollux's --ip and --ip6 (the tun's addresses, ctl_tun.h) and serves
 *    RFC 7766: two-byte length prefixes, pipelined queries (up to CTL_TCP_MAX_INFLIGHT per
 *    connection handed to the workers at once; answers are written in the order they come
 *    back, which may differ from the order asked, as RFC 7766 6.2.1.1 allows), and queries
 *    longer than DP_TCP_MSG_ROOM close the connection (counted);
 *  - limits what one client holds (RFC 7766 10): at most CTL_TCP_MAX_CONNS connections in all
 *    and conn_per_client from one address (IPv4) or /64 (IPv6), one past either is accepted
 *    and closed at once (counted); a connection is closed after idle_ms without a complete
 *    query from the client or an answer from pollux, so a client dribbling bytes (slowloris)
 *    or never reading its answers holds a slot for idle_ms at most;
 *  - hands each query to a worker (the connection's slot modulo the workers) on that worker's
 *    ring and writes the answer that comes back to the connection;
 *  - carries out the workers' TC retries: connects from pollux's address, on a port it binds
 *    first and marks in the workers' port bitmap (dp_tcp.h: the only segments the workers
 *    pass to the kernel besides port 53), to the server's port 53 (after checking the address
 *    policy once more), writes the query, reads one reply (whose ID must match, and which
 *    must fit DP_TCP_MSG_ROOM), all within the time the worker gave (DP_TCP_UP_TIMEOUT_MS),
 *    and returns the reply or a failure to that worker. At most CTL_TCP_MAX_UP exchanges run
 *    at once; a request finding them all busy fails at once (counted), so that answers to
 *    clients queued behind it in the ring are never held up. A port's bit is cleared
 *    port_linger_ms (a TIME_WAIT) after its socket closed, so the kernel still hears the
 *    server's side of the close.
 *
 * Memory: connection buffers are allocated once at create (about 80 KiB per connection slot),
 * with the port bitmap (8 KiB, rte_malloc: the workers read it) and its tables (640 KiB);
 * nothing is allocated per query but mbufs from the message pool. The counters have one writer,
 * this thread; ctl_tcp_print() reads them with relaxed loads.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pollux/addr_policy.h>

#define CTL_TCP_MAX_CONNS 256
#define CTL_TCP_MAX_UP 256
#define CTL_TCP_MAX_INFLIGHT 32
#define CTL_TCP_IDLE_MS 10000
#define CTL_TCP_DEFAULT_CONN_PER_CLIENT 16
/* Linux's TCP_TIMEWAIT_LEN: how long the kernel keeps a connection we closed first. */
#define CTL_TCP_PORT_LINGER_MS 60000
#define CTL_TCP_RING_SIZE 1024
#define CTL_TCP_MSG_MBUFS 4095

struct ctl_access;
struct ctl_settings;
struct ctl_tcp;
struct dp_tcp_lcore;

struct ctl_tcp_conf {
	bool has_ip4;
	uint32_t ip4; /* network order */
	bool has_ip6;
	uint8_t ip6[16];
	uint16_t port;        /* host order: 53 */
	uint16_t tun_port;    /* the net_tun port (ctl_tun.h) */
	uint16_t workers;     /* one tun queue and one pair of rings each */
	const struct px_addr_policy *policy; /* must outlive the thread; unused with settings */
	/* The policy a reload may change (ctl_settings.h), or NULL: policy above. */
	struct ctl_settings *settings;
	/* Access control of new connections (ctl_access.h), or NULL: every peer served. A peer
	 * refused or dropped is closed at once. Must outlive the thread. */
	struct ctl_access *access;
	uint32_t conn_per_client; /* 1-CTL_TCP_MAX_CONNS; 0: CTL_TCP_DEFAULT_CONN_PER_CLIENT */
	uint32_t idle_ms;         /* 0: CTL_TCP_IDLE_MS */
	uint16_t up_port;         /* host order, the servers' port; 0: 53 (tests use others) */
	uint32_t port_linger_ms;  /* 0: CTL_TCP_PORT_LINGER_MS */
};

/*
 * Builds the message pool, the rings and every worker's struct dp_tcp_lcore (worker w uses tun
 * queue w). Returns NULL with a reason in err. Control thread only, after the tun port started.
 */
struct ctl_tcp *ctl_tcp_create(const struct ctl_tcp_conf *conf, char *err, size_t err_len);

/* Worker w's side, to put in its struct dp_lcore before launch. */
struct dp_tcp_lcore *ctl_tcp_worker(struct ctl_tcp *t, unsigned w);

/* Opens the listening sockets and starts the thread. Returns 0 or -errno with the reason in
 * err. Control thread only. */
int ctl_tcp_start(struct ctl_tcp *t, char *err, size_t err_len);

/* Stops the thread (if started) and frees everything, mbufs in the rings included. Call after
 * the workers stopped. NULL is a no-op. Control thread only. */
void ctl_tcp_free(struct ctl_tcp *t);

/* `polluxctl tcp`: the thread's counters, as "tcp.name value" lines. Control thread. */
void ctl_tcp_print(const struct ctl_tcp *t, FILE *out);
