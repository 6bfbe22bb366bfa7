/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ctl_http.h"

/* Connections accepted per serve call: a connection flood cannot hold the control thread. */
#define ACCEPT_BURST 16
/* Unread input dropped before close, so the kernel ends the connection with a FIN rather than a
 * reset that could destroy the response before the client reads it. */
#define DRAIN_MAX 65536
#define LISTENER_TAG UINT32_MAX

enum conn_state { CONN_FREE = 0, CONN_READ, CONN_WRITE };

struct conn {
	enum conn_state state;
	int fd;
	int64_t deadline_ms;
	size_t in_len;
	char in[CTL_HTTP_MAX_HEAD + 1];
	char *out;         /* the whole response, malloc'ed */
	size_t out_len, out_off;
};

struct ctl_http {
	int lfd, epfd;
	uint16_t port;
	ctl_http_render_t render;
	void *arg;
	ctl_http_health_t health;
	void *health_arg;
	struct ctl_http_stats stats;
	struct {
		bool done, ok;
		char *body;  /* this serve call's metrics, malloc'ed */
		size_t len;
	} scrape;
	struct conn conns[CTL_HTTP_MAX_CONNS];
};

static const char *
find_head_end(const char *buf, size_t len, size_t *head_len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n') {
			*head_len = i + 2;
			return buf + i;
		}
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
			*head_len = i + 3;
			return buf + i;
		}
	}
	return NULL;
}

enum ctl_http_verdict
ctl_http_parse(const char *buf, size_t len, size_t max_head)
{
	size_t head_len, line_len, mlen, tlen;
	const char *line_end, *sp1, *sp2, *target;

	if (find_head_end(buf, len, &head_len) == NULL)
		return len >= max_head ? CTL_HTTP_TOO_LARGE : CTL_HTTP_MORE;
	if (head_len > max_head)
		return CTL_HTTP_TOO_LARGE;
	if (memchr(buf, '\0', head_len) != NULL)
		return CTL_HTTP_BAD_REQUEST;
	line_end = memchr(buf, '\n', head_len);
	line_len = (size_t)(line_end - buf);
	if (line_len > 0 && buf[line_len - 1] == '\r')
		line_len--;
	/* METHOD SP TARGET SP HTTP/1.x, exactly (RFC 9112 section 3). */
	sp1 = memchr(buf, ' ', line_len);
	if (sp1 == NULL || sp1 == buf)
		return CTL_HTTP_BAD_REQUEST;
	mlen = (size_t)(sp1 - buf);
	target = sp1 + 1;
	sp2 = memchr(target, ' ', line_len - mlen - 1);
	if (sp2 == NULL || sp2 == target)
		return CTL_HTTP_BAD_REQUEST;
	tlen = (size_t)(sp2 - target);
	if ((size_t)(buf + line_len - (sp2 + 1)) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return CTL_HTTP_BAD_REQUEST;
	for (size_t i = 0; i < mlen; i++)
		if (buf[i] < 'A' || buf[i] > 'Z')
			return CTL_HTTP_BAD_REQUEST;
	if (mlen != 3 || memcmp(buf, "GET", 3) != 0)
		return CTL_HTTP_BAD_METHOD;
	/* A query string is ignored, as Prometheus exporters do. */
	if ((tlen == 8 || (tlen > 8 && target[8] == '?')) && memcmp(target, "/metrics", 8) == 0)
		return CTL_HTTP_OK;
	if ((tlen == 7 || (tlen > 7 && target[7] == '?')) && memcmp(target, "/health", 7) == 0)
		return CTL_HTTP_HEALTH;
	return CTL_HTTP_NOT_FOUND;
}

static int
parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int
ctl_http_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *why,
		    size_t why_len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *port_text;
	size_t hlen;
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		hlen = (size_t)(close - text - 1);
		port_text = close + 2;
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, text + 1, hlen);
		host[hlen] = '\0';
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1 || parse_port(port_text, &port))
			goto bad;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	colon = strrchr(text, ':');
	if (colon == NULL || (size_t)(colon - text) >= sizeof(host))
		goto bad;
	hlen = (size_t)(colon - text);
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1 || parse_port(colon + 1, &port))
		goto bad;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	*len = sizeof(*s4);
	return 0;
bad:
	snprintf(why, why_len, "expected IPV4:PORT or [IPV6]:PORT, port 1-65535");
	return -EINVAL;
}

struct ctl_http *
ctl_http_open(const struct sockaddr *addr, socklen_t addr_len, ctl_http_render_t render,
	      void *arg)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = LISTENER_TAG};
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	struct ctl_http *h;
	int one = 1, rc;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->render = render;
	h->arg = arg;
	h->epfd = -1;
	h->lfd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->lfd < 0)
		goto err;
	if (addr->sa_family == AF_INET6)
		setsockopt(h->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(h->lfd, addr, addr_len) < 0 || listen(h->lfd, 64) < 0 ||
	    getsockname(h->lfd, (struct sockaddr *)&bound, &blen) < 0)
		goto err;
	h->port = ntohs(bound.ss_family == AF_INET6 ?
			((struct sockaddr_in6 *)&bound)->sin6_port :
			((struct sockaddr_in *)&bound)->sin_port);
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0 || epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->lfd, &ev) < 0)
		goto err;
	for (unsigned i = 0; i < CTL_HTTP_MAX_CONNS; i++)
		h->conns[i].fd = -1;
	return h;
err:
	rc = errno;
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->epfd >= 0)
		close(h->epfd);
	free(h);
	errno = rc;
	return NULL;
}

int
ctl_http_fd(const struct ctl_http *h)
{
	return h != NULL ? h->epfd : -1;
}

uint16_t
ctl_http_port(const struct ctl_http *h)
{
	return h->port;
}

const struct ctl_http_stats *
ctl_http_stats(const struct ctl_http *h)
{
	return &h->stats;
}

static void
conn_close(struct ctl_http *h, struct conn *c)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;

	while (total < DRAIN_MAX && (n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->state = CONN_FREE;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/*
 * Renders the metrics once per serve call, however many requests complete in it: the control
 * thread's work is one render per tick even under a flood of scrapes. Returns whether the body
 * in h->scrape is good.
 */
static bool
render_once(struct ctl_http *h)
{
	FILE *f;

	if (h->scrape.done)
		return h->scrape.ok;
	h->scrape.done = true;
	h->scrape.ok = false;
	f = open_memstream(&h->scrape.body, &h->scrape.len);
	if (f == NULL)
		return false;
	h->scrape.ok = h->render(h->arg, f) == 0;
	if (fclose(f) != 0)
		h->scrape.ok = false;
	return h->scrape.ok;
}

/* The health verdict, fresh for this request, as a status and a malloc'ed body (NULL: the
 * status alone). */
static int
health_body(struct ctl_http *h, char **body, size_t *len)
{
	FILE *f;
	int rc;

	*body = NULL;
	*len = 0;
	if (h->health == NULL) {
		h->stats.not_found++;
		return CTL_HTTP_NOT_FOUND;
	}
	f = open_memstream(body, len);
	if (f == NULL) {
		h->stats.render_failed++;
		return 500;
	}
	rc = h->health(h->health_arg, f);
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 || rc == 1) {
		if (rc == 0)
			h->stats.health_ok++;
		else
			h->stats.health_failed++;
		return rc == 0 ? 200 : 503;
	}
	free(*body);
	*body = NULL;
	h->stats.render_failed++;
	return 500;
}

/* Builds the whole response in c->out. Returns 0 or -1 (out of memory: the connection is
 * closed). */
static int
respond(struct ctl_http *h, struct conn *c, int status, int64_t now_ms)
{
	char head[256], err_body[64];
	const char *body = err_body;
	char *health = NULL;
	size_t body_len = 0;
	int hlen;
	bool metrics = status == CTL_HTTP_OK;

	if (status == CTL_HTTP_HEALTH)
		status = health_body(h, &health, &body_len);
	if (health != NULL) {
		body = health;
	} else if (status == CTL_HTTP_OK && render_once(h)) {
		body = h->scrape.body;
		body_len = h->scrape.len;
	} else {
		if (status == CTL_HTTP_OK) {
			status = 500;
			h->stats.render_failed++;
		}
		body_len = (size_t)snprintf(err_body, sizeof(err_body), "%d %s\n", status,
					    reason(status));
	}
	hlen = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n", status, reason(status),
			metrics && status == CTL_HTTP_OK ?
			"text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8",
			body_len);
	c->out = malloc((size_t)hlen + body_len);
	if (c->out == NULL) {
		free(health);
		return -1;
	}
	memcpy(c->out, head, (size_t)hlen);
	memcpy(c->out + hlen, body, body_len);
	free(health);
	c->out_len = (size_t)hlen + body_len;
	c->out_off = 0;
	c->state = CONN_WRITE;
	c->deadline_ms = now_ms + CTL_HTTP_SEND_TIMEOUT_MS;
	struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)(c - h->conns)};

	epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	return 0;
}

static void
count(struct ctl_http *h, int status)
{
	switch (status) {
	case CTL_HTTP_OK: h->stats.served++; break;
	case CTL_HTTP_HEALTH: break; /* by its verdict, in respond */
	case CTL_HTTP_NOT_FOUND: h->stats.not_found++; break;
	case CTL_HTTP_BAD_METHOD: h->stats.bad_method++; break;
	case CTL_HTTP_TOO_LARGE: h->stats.too_large++; break;
	default: h->stats.bad_request++; break;
	}
}

static void
conn_read(struct ctl_http *h, struct conn *c, int64_t now_ms)
{
	enum ctl_http_verdict v = CTL_HTTP_MORE;

	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, CTL_HTTP_MAX_HEAD - c->in_len, 0);

		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
			conn_close(h, c); /* gone before asking */
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN: the rest later, or the deadline */
		}
		c->in_len += (size_t)n;
		v = ctl_http_parse(c->in, c->in_len, CTL_HTTP_MAX_HEAD);
		if (v != CTL_HTTP_MORE)
			break;
	}
	count(h, v);
	if (respond(h, c, v, now_ms) != 0)
		conn_close(h, c);
}

static void
conn_write(struct ctl_http *h, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0)
			break;
		c->out_off += (size_t)n;
	}
	conn_close(h, c);
}

static void
accept_burst(struct ctl_http *h, int64_t now_ms)
{
	for (unsigned k = 0; k < ACCEPT_BURST; k++) {
		int fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c = NULL;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or EMFILE and the like: retried next tick */
		}
		for (unsigned i = 0; i < CTL_HTTP_MAX_CONNS && c == NULL; i++)
			if (h->conns[i].state == CONN_FREE)
				c = &h->conns[i];
		struct epoll_event ev = {.events = EPOLLIN,
					 .data.u32 = c != NULL ? (uint32_t)(c - h->conns) : 0};

		if (c == NULL || epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			h->stats.refused_busy++;
			close(fd);
			continue;
		}
		h->stats.accepted++;
		c->fd = fd;
		c->state = CONN_READ;
		c->in_len = 0;
		c->deadline_ms = now_ms + CTL_HTTP_HEAD_TIMEOUT_MS;
	}
}

void
ctl_http_set_health(struct ctl_http *h, ctl_http_health_t health, void *arg)
{
	h->health = health;
	h->health_arg = arg;
}

void
ctl_http_serve(struct ctl_http *h, int64_t now_ms)
{
	struct epoll_event evs[CTL_HTTP_MAX_CONNS + 1];
	int n;

	if (h == NULL)
		return;
	n = epoll_wait(h->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), 0);
	for (int i = 0; i < n; i++) {
		uint32_t tag = evs[i].data.u32;
		struct conn *c;

		if (tag == LISTENER_TAG) {
			accept_burst(h, now_ms);
			continue;
		}
		c = &h->conns[tag];
		if (c->state == CONN_READ)
			conn_read(h, c, now_ms);
		else if (c->state == CONN_WRITE)
			conn_write(h, c);
	}
	free(h->scrape.body);
	memset(&h->scrape, 0, sizeof(h->scrape));
	for (unsigned i = 0; i < CTL_HTTP_MAX_CONNS; i++) {
		struct conn *c = &h->conns[i];

		if (c->state != CONN_FREE && now_ms >= c->deadline_ms) {
			h->stats.timeouts++;
			conn_close(h, c);
		}
	}
}

void
ctl_http_close(struct ctl_http *h)
{
	if (h == NULL)
		return;
	for (unsigned i = 0; i < CTL_HTTP_MAX_CONNS; i++)
		if (h->conns[i].state != CONN_FREE)
			conn_close(h, &h->conns[i]);
	close(h->epfd);
	close(h->lfd);
	free(h);
}
