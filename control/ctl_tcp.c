/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP DNS server thread; see ctl_tcp.h for what it does and dataplane/dp_tcp.h for the ring
 * protocol it speaks with the workers.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <pollux/acl.h>
#include <pollux/wire.h>

#include "ctl_access.h"
#include "ctl_config.h"
#include "ctl_tcp_int.h"

_Static_assert(CTL_MAX_TCP_CONN_PER_CLIENT == CTL_TCP_MAX_CONNS,
	       "tcp-conn-per-client is bounded by the connection slots");

RTE_LOG_REGISTER(ctl_tcp_logtype, pollux.ctl.tcp, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_tcp_logtype, "pollux: " __VA_ARGS__)

#define MAX_EVENTS 64

uint64_t
ctl_tcp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
ctl_tcp_ep_set(struct ctl_tcp *t, int fd, uint32_t tag, uint32_t idx, uint32_t events, bool add)
{
	struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)tag << 32 | idx};

	epoll_ctl(t->ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

static void
conn_close(struct ctl_tcp *t, struct tcp_conn *c)
{
	close(c->fd); /* also leaves the epoll set */
	c->used = false;
	c->gen++;
	STAT(t, conns_closed);
}

/* Flushes what can be written now. Returns false if the connection broke (closed). */
static bool
conn_write(struct ctl_tcp *t, struct tcp_conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			conn_close(t, c);
			return false;
		}
		c->woff += (uint32_t)n;
	}
	c->woff = c->wlen = 0;
	return true;
}

/* Hands one query (len bytes) to the connection's worker. */
static void
conn_query(struct ctl_tcp *t, struct tcp_conn *c, const uint8_t *msg, uint16_t len)
{
	uint32_t ci = (uint32_t)(c - t->conns);
	struct rte_mbuf *m = rte_pktmbuf_alloc(t->pool);
	struct dp_tcp_meta *mt;
	uint16_t w = (uint16_t)(ci % t->conf.workers);

	if (m == NULL) {
		STAT(t, query_no_mbuf);
		return;
	}
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), msg, len);
	m->data_len = len;
	m->pkt_len = len;
	mt = dp_tcp_meta(m);
	memset(mt, 0, offsetof(struct dp_tcp_meta, qname));
	mt->kind = DP_TCP_MSG_QUERY;
	mt->worker = w;
	mt->conn = ci;
	mt->conn_gen = c->gen;
	mt->peer = c->peer;
	if (rte_ring_enqueue(t->workers[w]->in, m) != 0) {
		rte_pktmbuf_free(m);
		STAT(t, query_ring_full);
		return;
	}
	c->inflight++;
	STAT(t, queries);
}

/* Takes the complete messages out of the read buffer (as many as the in-flight limit allows),
 * closes the connection when it is done with, and sets what epoll watches. */
static void
conn_pump(struct ctl_tcp *t, struct tcp_conn *c)
{
	uint32_t pos = 0, want;

	while (c->rlen - pos >= 2 && c->inflight < CTL_TCP_MAX_INFLIGHT) {
		uint16_t len = (uint16_t)(c->rbuf[pos] << 8 | c->rbuf[pos + 1]);

		if (len == 0 || len > DP_TCP_MSG_ROOM) {
			STAT(t, query_too_big);
			conn_close(t, c);
			return;
		}
		if (c->rlen - pos < 2u + len)
			break;
		conn_query(t, c, c->rbuf + pos + 2, len);
		/* Only a complete query restarts the idle clock: bytes alone keep nothing open. */
		c->last_ms = ctl_tcp_now_ms();
		pos += 2u + len;
	}
	if (pos != 0) {
		memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
		c->rlen -= pos;
	}
	if (c->eof && c->inflight == 0 && c->wlen == 0) {
		conn_close(t, c);
		return;
	}
	want = (c->wlen != 0 ? EPOLLOUT : 0) |
	       (!c->eof && c->inflight < CTL_TCP_MAX_INFLIGHT && c->rlen < sizeof(c->rbuf)
			? EPOLLIN : 0);
	if (want != c->events) {
		c->events = want;
		ctl_tcp_ep_set(t, c->fd, TAG_CONN, (uint32_t)(c - t->conns), want, false);
	}
}

static void
conn_read(struct ctl_tcp *t, struct tcp_conn *c)
{
	while (c->rlen < sizeof(c->rbuf)) {
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			conn_close(t, c);
			return;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		c->rlen += (uint32_t)n;
	}
	conn_pump(t, c);
}

/* The address a client is counted by: IPv4 whole, IPv6 by its /64 (one subscriber's
 * prefix, which holds as many addresses as it likes), no port. Leaves key without a family
 * (0) when the socket's is neither. */
static void
peer_key(const struct sockaddr_storage *sa, struct px_addr *key)
{
	memset(key, 0, sizeof(*key));
	if (sa->ss_family == AF_INET) {
		px_addr_set4(key, ((const struct sockaddr_in *)sa)->sin_addr.s_addr, 0);
	} else if (sa->ss_family == AF_INET6) {
		key->family = PX_AF_INET6;
		memcpy(key->a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 8);
	}
}

/* The client's whole address and port. */
static void
peer_whole(const struct sockaddr_storage *sa, struct px_addr *peer)
{
	memset(peer, 0, sizeof(*peer));
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		px_addr_set4(peer, in->sin_addr.s_addr, ntohs(in->sin_port));
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		px_addr_set6(peer, in6->sin6_addr.s6_addr, ntohs(in6->sin6_port));
	}
}

/* Whether the client already holds its share of the connection slots. */
static bool
peer_over_limit(const struct ctl_tcp *t, const struct px_addr *key)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < CTL_TCP_MAX_CONNS; i++) {
		const struct tcp_conn *c = &t->conns[i];

		if (c->used && px_addr_eq(&c->peer_key, key) &&
		    ++n >= t->conf.conn_per_client)
			return true;
	}
	return false;
}

static void
accept_all(struct ctl_tcp *t, int lfd)
{
	for (;;) {
		struct sockaddr_storage sa;
		socklen_t slen = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &slen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct tcp_conn *c = NULL;
		struct px_addr key;
		int one = 1;

		if (fd < 0)
			return;
		/* Refused and dropped peers alike are closed before a byte is read (counted in
		 * ctl_access): no query of theirs reaches a worker. */
		if (ctl_access_check_peer(t->conf.access, (struct sockaddr *)&sa) != PX_ACL_ALLOW) {
			close(fd);
			continue;
		}
		peer_key(&sa, &key);
		if (key.family == PX_AF_NONE || peer_over_limit(t, &key)) {
			STAT(t, conns_per_client);
			close(fd);
			continue;
		}
		for (uint32_t i = 0; i < CTL_TCP_MAX_CONNS; i++)
			if (!t->conns[i].used) {
				c = &t->conns[i];
				break;
			}
		if (c == NULL) {
			STAT(t, conns_refused);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->used = true;
		c->eof = false;
		c->fd = fd;
		c->inflight = 0;
		c->rlen = c->woff = c->wlen = 0;
		c->last_ms = ctl_tcp_now_ms();
		c->peer_key = key;
		peer_whole(&sa, &c->peer);
		c->events = EPOLLIN;
		ctl_tcp_ep_set(t, fd, TAG_CONN, (uint32_t)(c - t->conns), EPOLLIN, true);
		STAT(t, conns_accepted);
	}
}

/* A worker's answer (possibly empty: nothing to send) for a connection. */
static void
conn_answer(struct ctl_tcp *t, struct rte_mbuf *m)
{
	const struct dp_tcp_meta *mt = dp_tcp_meta(m);
	struct tcp_conn *c = mt->conn < CTL_TCP_MAX_CONNS ? &t->conns[mt->conn] : NULL;
	uint16_t len = m->data_len;

	if (c == NULL || !c->used || c->gen != mt->conn_gen) {
		STAT(t, answers_stale);
		goto out;
	}
	if (c->inflight > 0)
		c->inflight--;
	if (len != 0) {
		if (c->wlen + 2u + len > sizeof(c->wbuf)) {
			STAT(t, answers_no_room);
			conn_close(t, c);
			goto out;
		}
		c->wbuf[c->wlen] = (uint8_t)(len >> 8);
		c->wbuf[c->wlen + 1] = (uint8_t)len;
		memcpy(c->wbuf + c->wlen + 2, rte_pktmbuf_mtod(m, uint8_t *), len);
		c->wlen += 2u + len;
		c->last_ms = ctl_tcp_now_ms();
		STAT(t, answers);
		if (!conn_write(t, c))
			goto out;
	}
	conn_pump(t, c);
out:
	rte_pktmbuf_free(m);
}

/* What the workers sent: answers and upstream requests, all of it whatever the state of the
 * upstream slots (a request finding none fails at once), so that slow servers never hold
 * back the answers queued behind a request. At most a ring's worth per worker per call, so
 * one busy worker cannot keep the thread from its sockets. */
static void
drain_workers(struct ctl_tcp *t)
{
	for (uint16_t w = 0; w < t->conf.workers; w++) {
		struct rte_ring *r = t->workers[w]->out;
		void *obj;

		for (unsigned n = 0; n < CTL_TCP_RING_SIZE && rte_ring_dequeue(r, &obj) == 0; n++) {
			struct rte_mbuf *m = obj;
			const struct dp_tcp_meta *mt = dp_tcp_meta(m);

			if (mt->kind == DP_TCP_MSG_ANSWER)
				conn_answer(t, m);
			else if (mt->kind == DP_TCP_MSG_UP_QUERY && mt->worker < t->conf.workers)
				ctl_tcp_up_request(t, m);
			else
				rte_pktmbuf_free(m);
		}
	}
}

static void
timers(struct ctl_tcp *t, uint64_t now)
{
	for (unsigned i = 0; i < CTL_TCP_MAX_CONNS; i++) {
		struct tcp_conn *c = &t->conns[i];

		if (c->used && now - c->last_ms > t->conf.idle_ms) {
			STAT(t, conns_idle);
			conn_close(t, c);
		}
	}
	ctl_tcp_up_timers(t, now);
}

static bool
busy(const struct ctl_tcp *t)
{
	if (t->up_busy != 0 || ctl_tcp_up_waiting(t))
		return true;
	for (uint16_t w = 0; w < t->conf.workers; w++)
		if (!rte_ring_empty(t->workers[w]->out))
			return true;
	for (unsigned i = 0; i < CTL_TCP_MAX_CONNS; i++)
		if (t->conns[i].used && t->conns[i].inflight != 0)
			return true;
	return false;
}

static void *
tcp_thread(void *arg)
{
	struct ctl_tcp *t = arg;
	struct epoll_event evs[MAX_EVENTS];

	while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) {
		/* Workers cannot wake this thread (no syscalls on their path): while anything is
		 * in flight it polls their rings every millisecond, else every 20. */
		int n = epoll_wait(t->ep, evs, MAX_EVENTS, busy(t) ? 1 : 20);

		for (int i = 0; i < n; i++) {
			uint32_t tag = (uint32_t)(evs[i].data.u64 >> 32);
			uint32_t idx = (uint32_t)evs[i].data.u64;

			if (tag == TAG_LISTEN) {
				accept_all(t, (int)idx);
			} else if (tag == TAG_CONN && idx < CTL_TCP_MAX_CONNS) {
				struct tcp_conn *c = &t->conns[idx];

				if (!c->used)
					continue;
				if ((evs[i].events & EPOLLOUT) && !conn_write(t, c))
					continue;
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_read(t, c);
				else
					conn_pump(t, c);
			} else if (tag == TAG_UP) {
				ctl_tcp_up_event(t, idx, evs[i].events);
			}
		}
		drain_workers(t);
		timers(t, ctl_tcp_now_ms());
	}
	return NULL;
}

struct ctl_tcp *
ctl_tcp_create(const struct ctl_tcp_conf *conf, char *err, size_t err_len)
{
	struct ctl_tcp *t = calloc(1, sizeof(*t));
	char name[RTE_RING_NAMESIZE];

	if (t == NULL || conf->workers == 0) {
		snprintf(err, err_len, "TCP: out of memory");
		free(t);
		return NULL;
	}
	t->conf = *conf;
	if (t->conf.conn_per_client == 0)
		t->conf.conn_per_client = CTL_TCP_DEFAULT_CONN_PER_CLIENT;
	if (t->conf.idle_ms == 0)
		t->conf.idle_ms = CTL_TCP_IDLE_MS;
	if (t->conf.up_port == 0)
		t->conf.up_port = PX_DNS_PORT;
	if (t->conf.port_linger_ms == 0)
		t->conf.port_linger_ms = CTL_TCP_PORT_LINGER_MS;
	t->ep = t->lfd4 = t->lfd6 = -1;
	t->conns = calloc(CTL_TCP_MAX_CONNS, sizeof(*t->conns));
	t->workers = calloc(conf->workers, sizeof(*t->workers));
	if (t->conns == NULL || t->workers == NULL || ctl_tcp_up_init(t) != 0)
		goto nomem;
	t->pool = rte_pktmbuf_pool_create("pollux_tcp_msgs", CTL_TCP_MSG_MBUFS, 32,
					  (uint16_t)DP_TCP_META_SIZE,
					  RTE_PKTMBUF_HEADROOM + DP_TCP_MSG_ROOM,
					  (int)rte_socket_id());
	if (t->pool == NULL) {
		snprintf(err, err_len, "TCP: cannot create %u message mbufs of %u bytes: %s",
			 CTL_TCP_MSG_MBUFS, DP_TCP_MSG_ROOM, rte_strerror(rte_errno));
		goto fail;
	}
	for (uint16_t w = 0; w < conf->workers; w++) {
		struct dp_tcp_lcore *l = rte_zmalloc("pollux_tcp_lcore", sizeof(*l),
						     RTE_CACHE_LINE_SIZE);

		if (l == NULL)
			goto nomem;
		t->workers[w] = l;
		l->tun_port = conf->tun_port;
		l->tun_queue = w;
		l->worker = w;
		l->msg_pool = t->pool;
		l->up_ports = t->ports;
		snprintf(name, sizeof(name), "pollux_tcp_in%u", w);
		l->in = rte_ring_create(name, CTL_TCP_RING_SIZE, (int)rte_socket_id(),
					RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "pollux_tcp_out%u", w);
		l->out = rte_ring_create(name, CTL_TCP_RING_SIZE, (int)rte_socket_id(),
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (l->in == NULL || l->out == NULL) {
			snprintf(err, err_len, "TCP: cannot create the rings of worker %u: %s", w,
				 rte_strerror(rte_errno));
			goto fail;
		}
	}
	return t;
nomem:
	snprintf(err, err_len, "TCP: out of memory");
fail:
	ctl_tcp_free(t);
	return NULL;
}

struct dp_tcp_lcore *
ctl_tcp_worker(struct ctl_tcp *t, unsigned w)
{
	return t != NULL && w < t->conf.workers ? t->workers[w] : NULL;
}

static int
listen_on(struct ctl_tcp *t, int family, char *err, size_t err_len)
{
	struct sockaddr_storage sa;
	socklen_t slen;
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, ret;

	memset(&sa, 0, sizeof(sa));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&sa;

		s->sin_family = AF_INET;
		s->sin_addr.s_addr = t->conf.ip4;
		s->sin_port = htons(t->conf.port);
		slen = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&sa;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, t->conf.ip6, 16);
		s->sin6_port = htons(t->conf.port);
		slen = sizeof(*s);
		if (fd >= 0)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, slen) != 0 || listen(fd, 128) != 0) {
		ret = -errno;
		snprintf(err, err_len, "TCP: cannot listen on port %u over IPv%c: %s",
			 t->conf.port, family == AF_INET ? '4' : '6', strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	ctl_tcp_ep_set(t, fd, TAG_LISTEN, (uint32_t)fd, EPOLLIN, true);
	return fd;
}

int
ctl_tcp_start(struct ctl_tcp *t, char *err, size_t err_len)
{
	int ret;

	t->ep = epoll_create1(EPOLL_CLOEXEC);
	if (t->ep < 0) {
		snprintf(err, err_len, "TCP: epoll: %s", strerror(errno));
		return -errno;
	}
	if (t->conf.has_ip4) {
		t->lfd4 = listen_on(t, AF_INET, err, err_len);
		if (t->lfd4 < 0)
			return t->lfd4;
	}
	if (t->conf.has_ip6) {
		t->lfd6 = listen_on(t, AF_INET6, err, err_len);
		if (t->lfd6 < 0)
			return t->lfd6;
	}
	ret = pthread_create(&t->thread, NULL, tcp_thread, t);
	if (ret != 0) {
		snprintf(err, err_len, "TCP: cannot start the thread: %s", strerror(ret));
		return -ret;
	}
	pthread_setname_np(t->thread, "pollux-tcp");
	t->started = true;
	return 0;
}

static void
ring_drain_free(struct rte_ring *r)
{
	void *obj;

	while (r != NULL && rte_ring_dequeue(r, &obj) == 0)
		rte_pktmbuf_free(obj);
}

void
ctl_tcp_free(struct ctl_tcp *t)
{
	if (t == NULL)
		return;
	if (t->started) {
		__atomic_store_n(&t->stop, true, __ATOMIC_RELAXED);
		pthread_join(t->thread, NULL);
	}
	for (unsigned i = 0; t->conns != NULL && i < CTL_TCP_MAX_CONNS; i++)
		if (t->conns[i].used)
			close(t->conns[i].fd);
	ctl_tcp_up_fini(t);
	if (t->lfd4 >= 0)
		close(t->lfd4);
	if (t->lfd6 >= 0)
		close(t->lfd6);
	if (t->ep >= 0)
		close(t->ep);
	for (uint16_t w = 0; t->workers != NULL && w < t->conf.workers; w++) {
		if (t->workers[w] == NULL)
			continue;
		ring_drain_free(t->workers[w]->in);
		ring_drain_free(t->workers[w]->out);
		rte_ring_free(t->workers[w]->in);
		rte_ring_free(t->workers[w]->out);
		rte_free(t->workers[w]);
	}
	rte_mempool_free(t->pool);
	free(t->workers);
	free(t->conns);
	free(t);
}

void
ctl_tcp_print(const struct ctl_tcp *t, FILE *out)
{
	if (t == NULL) {
		fprintf(out, "tcp off\n");
		return;
	}
#define X_PRINT(n, h) \
	fprintf(out, "tcp.%s %" PRIu64 "\n", #n, __atomic_load_n(&t->stats.n, __ATOMIC_RELAXED));
	CTL_TCP_STATS(X_PRINT)
#undef X_PRINT
	fprintf(out, "tcp.conns_open %" PRIu64 "\n",
		__atomic_load_n(&t->stats.conns_accepted, __ATOMIC_RELAXED) -
			__atomic_load_n(&t->stats.conns_closed, __ATOMIC_RELAXED));
	fprintf(out, "tcp.msg_mbufs_in_use %u\n", rte_mempool_in_use_count(t->pool));
}
