/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP thread's upstream exchanges: the workers' TC retries, one socket each, and the local
 * ports they hold in the bitmap the workers filter the exception path with (ctl_tcp.h,
 * dataplane/dp_tcp.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "ctl_tcp_int.h"
#include "ctl_settings.h"

int
ctl_tcp_up_init(struct ctl_tcp *t)
{
	for (unsigned i = 0; i < CTL_TCP_MAX_UP; i++)
		t->ups[i].fd = -1;
	t->ports = rte_zmalloc("pollux_tcp_ports", sizeof(*t->ports), RTE_CACHE_LINE_SIZE);
	t->port_refs = calloc(65536, sizeof(*t->port_refs));
	t->port_release_ms = calloc(65536, sizeof(*t->port_release_ms));
	t->out = calloc(t->conf.workers, sizeof(*t->out));
	if (t->ports == NULL || t->port_refs == NULL || t->port_release_ms == NULL ||
	    t->out == NULL)
		return -ENOMEM;
	for (uint16_t w = 0; w < t->conf.workers; w++) {
		t->out[w].q = calloc(OUT_FIFO_SIZE, sizeof(*t->out[w].q));
		if (t->out[w].q == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* Holds a local port for a socket being opened: its bit is set before the SYN leaves, so the
 * worker lets the server's SYN-ACK through. */
static void
port_hold(struct ctl_tcp *t, uint16_t port)
{
	if (t->port_refs[port]++ == 0)
		dp_tcp_port_mark(t->ports, port, true);
	t->port_release_ms[port] = 0;
}

/* A socket on port closed. The bit stays for a TIME_WAIT: our side closes first, so the
 * kernel still holds the connection and must hear the server's FIN and ACK, or it would
 * retransmit its own FIN into a filter that drops the answers. */
static void
port_unhold(struct ctl_tcp *t, uint16_t port, uint64_t now)
{
	if (t->port_refs[port] > 0 && --t->port_refs[port] == 0)
		t->port_release_ms[port] = now + t->conf.port_linger_ms;
}

static void
ports_release(struct ctl_tcp *t, uint64_t now)
{
	if (now < t->next_release_scan_ms)
		return;
	/* 65536 compares a second or so; cheaper than keeping a sorted list. */
	t->next_release_scan_ms = now + RTE_MIN(t->conf.port_linger_ms / 4 + 1, 1000u);
	for (uint32_t p = 1; p < 65536; p++)
		if (t->port_release_ms[p] != 0 && now >= t->port_release_ms[p]) {
			t->port_release_ms[p] = 0;
			dp_tcp_port_mark(t->ports, (uint16_t)p, false);
			STAT(t, up_ports_released);
		}
}

static void
fifo_push(struct out_fifo *f, struct rte_mbuf *m)
{
	f->q[f->tail++ & (OUT_FIFO_SIZE - 1)] = m;
}

void
ctl_tcp_up_flush(struct ctl_tcp *t)
{
	for (uint16_t w = 0; w < t->conf.workers; w++) {
		struct out_fifo *f = &t->out[w];

		while (f->head != f->tail &&
		       rte_ring_enqueue(t->workers[w]->in, f->q[f->head & (OUT_FIFO_SIZE - 1)]) == 0)
			f->head++;
	}
}

bool
ctl_tcp_up_waiting(const struct ctl_tcp *t)
{
	for (uint16_t w = 0; w < t->conf.workers; w++)
		if (t->out[w].head != t->out[w].tail)
			return true;
	return false;
}

/* Sends an outcome back to its worker: the reply (UP_REPLY, m's data) or a failure (UP_FAIL,
 * no data). It waits in the worker's FIFO when the ring is full, never dropped: a resolution
 * always hears of its TCP query. */
static void
outcome(struct ctl_tcp *t, struct rte_mbuf *m, bool ok)
{
	struct dp_tcp_meta *mt = dp_tcp_meta(m);
	struct out_fifo *f = &t->out[mt->worker];

	mt->kind = ok ? DP_TCP_MSG_UP_REPLY : DP_TCP_MSG_UP_FAIL;
	if (!ok) {
		m->data_len = 0;
		m->pkt_len = 0;
	} else {
		STAT(t, up_ok);
	}
	/* Behind others already waiting, to keep the order. */
	if (f->head == f->tail && rte_ring_enqueue(t->workers[mt->worker]->in, m) == 0)
		return;
	STAT(t, up_waits);
	fifo_push(f, m);
}

/* Ends an exchange and frees its slot at once; the outcome goes its own way. */
static void
up_finish(struct ctl_tcp *t, struct tcp_up *u, bool ok)
{
	if (u->fd >= 0)
		close(u->fd);
	if (u->lport != 0)
		port_unhold(t, u->lport, ctl_tcp_now_ms());
	u->fd = -1;
	u->lport = 0;
	outcome(t, u->m, ok);
	u->m = NULL;
	u->st = UP_FREE;
	t->up_busy--;
}

/* The socket, bound to our address on a port the kernel picks, which is marked before
 * connect(). Returns false on failure (counted by the caller). */
static bool
up_connect(struct ctl_tcp *t, struct tcp_up *u, const struct px_addr *server)
{
	const bool v4 = server->family == PX_AF_INET;
	struct sockaddr_storage src, dst;
	socklen_t slen;
	uint16_t lport;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	if (v4) {
		struct sockaddr_in *s = (struct sockaddr_in *)&src, *d = (struct sockaddr_in *)&dst;

		s->sin_family = d->sin_family = AF_INET;
		s->sin_addr.s_addr = t->conf.ip4;
		memcpy(&d->sin_addr.s_addr, server->a, 4);
		d->sin_port = htons(t->conf.up_port);
		slen = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&src,
				    *d = (struct sockaddr_in6 *)&dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, t->conf.ip6, 16);
		memcpy(&d->sin6_addr, server->a, 16);
		d->sin6_port = htons(t->conf.up_port);
		slen = sizeof(*s);
	}
	/* From pollux's own address: the policy rule then routes it into the tun (ctl_tun.h).
	 * Binding to port 0 makes the kernel choose the port now, so it is known (and let
	 * through by the workers) before the SYN leaves. */
	u->fd = socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0 || bind(u->fd, (struct sockaddr *)&src, slen) != 0)
		return false;
	slen = sizeof(src);
	if (getsockname(u->fd, (struct sockaddr *)&src, &slen) != 0)
		return false;
	lport = ntohs(v4 ? ((struct sockaddr_in *)&src)->sin_port
			 : ((struct sockaddr_in6 *)&src)->sin6_port);
	if (lport == 0)
		return false;
	port_hold(t, lport);
	u->lport = lport;
	if (connect(u->fd, (struct sockaddr *)&dst,
		    v4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) != 0 &&
	    errno != EINPROGRESS)
		return false;
	return true;
}

static void
up_start(struct ctl_tcp *t, struct tcp_up *u, struct rte_mbuf *m)
{
	const struct dp_tcp_meta *mt = dp_tcp_meta(m);
	uint16_t qlen = m->data_len;
	enum px_addr_reason why;

	t->up_busy++;
	u->m = m;
	u->fd = -1;
	u->lport = 0;
	u->off = 0;
	u->need = 0;
	u->deadline_ms = ctl_tcp_now_ms() + RTE_MIN(mt->timeout_ms, (uint32_t)DP_TCP_UP_TIMEOUT_MS);
	STAT(t, up_started);
	if (t->conf.settings != NULL)
		why = ctl_settings_check_addr(t->conf.settings, &mt->peer);
	else
		why = px_addr_check(t->conf.policy, &mt->peer);
	/* The worker checked too; this is the last point before a packet leaves. */
	if (why != PX_ADDR_OK ||
	    (mt->peer.family == PX_AF_INET ? !t->conf.has_ip4 : !t->conf.has_ip6)) {
		STAT(t, up_fail_policy);
		up_finish(t, u, false);
		return;
	}
	if (qlen < PX_DNS_HDR_LEN || qlen + 2u > sizeof(u->out)) {
		STAT(t, up_fail_reply);
		up_finish(t, u, false);
		return;
	}
	u->out[0] = (uint8_t)(qlen >> 8);
	u->out[1] = (uint8_t)qlen;
	memcpy(u->out + 2, rte_pktmbuf_mtod(m, uint8_t *), qlen);
	u->out_len = (uint16_t)(qlen + 2);
	u->id = px_get16(u->out + 2);
	if (!up_connect(t, u, &mt->peer)) {
		STAT(t, up_fail_connect);
		up_finish(t, u, false);
		return;
	}
	u->st = UP_CONNECTING;
	ctl_tcp_ep_set(t, u->fd, TAG_UP, (uint32_t)(u - t->ups), EPOLLOUT, true);
}

void
ctl_tcp_up_request(struct ctl_tcp *t, struct rte_mbuf *m)
{
	/* Failing at once keeps the thread serving its clients while servers are slow: the
	 * resolver treats it like any failed exchange and moves on. */
	if (t->up_busy >= CTL_TCP_MAX_UP) {
		STAT(t, up_fail_busy);
		outcome(t, m, false);
		return;
	}
	for (unsigned i = 0; i < CTL_TCP_MAX_UP; i++)
		if (t->ups[i].st == UP_FREE) {
			up_start(t, &t->ups[i], m);
			return;
		}
}

/* Reads the reply: returns 1 when complete (u finished), 0 to wait for more, -1 on error. */
static int
up_read(struct ctl_tcp *t, struct tcp_up *u)
{
	uint32_t room = rte_pktmbuf_tailroom(u->m) + u->m->data_len;

	for (;;) {
		uint8_t *data = rte_pktmbuf_mtod(u->m, uint8_t *);
		ssize_t n;

		if (u->off < 2) {
			n = recv(u->fd, u->pfx + u->off, 2 - u->off, 0);
			if (n > 0) {
				u->off += (uint32_t)n;
				if (u->off < 2)
					continue;
				u->need = (uint16_t)(u->pfx[0] << 8 | u->pfx[1]);
				if (u->need < PX_DNS_HDR_LEN || u->need > room) {
					STAT(t, up_fail_reply);
					up_finish(t, u, false);
					return 1;
				}
				continue;
			}
		} else {
			n = recv(u->fd, data + (u->off - 2), u->need - (u->off - 2), 0);
			if (n > 0) {
				u->off += (uint32_t)n;
				if (u->off - 2 < u->need)
					continue;
				if (px_get16(data) != u->id || !(px_get16(data + 2) & PX_DNS_QR)) {
					STAT(t, up_fail_reply);
					up_finish(t, u, false);
					return 1;
				}
				u->m->data_len = u->need;
				u->m->pkt_len = u->need;
				up_finish(t, u, true);
				return 1;
			}
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
}

void
ctl_tcp_up_event(struct ctl_tcp *t, uint32_t idx, uint32_t events)
{
	struct tcp_up *u;

	if (idx >= CTL_TCP_MAX_UP || t->ups[idx].st == UP_FREE)
		return;
	u = &t->ups[idx];
	if (u->st == UP_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
			goto io_fail;
		u->st = UP_WRITING;
	}
	if (u->st == UP_WRITING) {
		while (u->off < u->out_len) {
			ssize_t n = send(u->fd, u->out + u->off, u->out_len - u->off, MSG_NOSIGNAL);

			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (n <= 0)
				goto io_fail;
			u->off += (uint32_t)n;
		}
		u->st = UP_READING;
		u->off = 0;
		ctl_tcp_ep_set(t, u->fd, TAG_UP, idx, EPOLLIN, false);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || up_read(t, u) >= 0)
		return;
io_fail:
	STAT(t, up_fail_connect);
	up_finish(t, u, false);
}

void
ctl_tcp_up_timers(struct ctl_tcp *t, uint64_t now)
{
	for (unsigned i = 0; i < CTL_TCP_MAX_UP; i++) {
		struct tcp_up *u = &t->ups[i];

		if (u->st != UP_FREE && now >= u->deadline_ms) {
			STAT(t, up_fail_timeout);
			up_finish(t, u, false);
		}
	}
	ports_release(t, now);
	ctl_tcp_up_flush(t);
}

void
ctl_tcp_up_fini(struct ctl_tcp *t)
{
	for (unsigned i = 0; i < CTL_TCP_MAX_UP; i++) {
		if (t->ups[i].fd >= 0)
			close(t->ups[i].fd);
		rte_pktmbuf_free(t->ups[i].m);
		t->ups[i].fd = -1;
		t->ups[i].m = NULL;
	}
	for (uint16_t w = 0; t->out != NULL && w < t->conf.workers; w++) {
		struct out_fifo *f = &t->out[w];

		while (f->q != NULL && f->head != f->tail)
			rte_pktmbuf_free(f->q[f->head++ & (OUT_FIFO_SIZE - 1)]);
		free(f->q);
	}
	free(t->out);
	free(t->port_refs);
	free(t->port_release_ms);
	rte_free(t->ports);
	t->out = NULL;
	t->port_refs = NULL;
	t->port_release_ms = NULL;
	t->ports = NULL;
}
