/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics listener: a minimal HTTP/1.x server on a kernel TCP socket (a management address
 * or loopback, never the DPDK port) that answers GET /metrics and, once a health verdict is set
 * (ctl_http_set_health), GET /health, and nothing else. Everything that
 * reaches it is hostile: request heads are bounded, stalled clients are closed, the number of
 * connections is capped, and every refusal is counted. Non-blocking and driven by the control
 * thread's loop (ctl_http_serve), so a slow client holds one connection slot, never the thread.
 * Plain libc: no DPDK, so the unit tests drive it without an EAL. Control thread only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* A request head (request line and header fields) longer than this is refused with 431. */
#define CTL_HTTP_MAX_HEAD 4096
/* Connections open at once; more are accepted and closed at once (refused_busy). */
#define CTL_HTTP_MAX_CONNS 16
/* A client must send its whole request head within this long of connecting... */
#define CTL_HTTP_HEAD_TIMEOUT_MS 3000
/* ... and take the whole response within this long of it being ready. */
#define CTL_HTTP_SEND_TIMEOUT_MS 5000

/* What a request head asks for, as the status it gets. */
enum ctl_http_verdict {
	CTL_HTTP_MORE = 0,             /* the head is not complete yet */
	CTL_HTTP_HEALTH = 1,           /* GET /health: 200 or 503 by the verdict (404 without one) */
	CTL_HTTP_OK = 200,             /* GET /metrics */
	CTL_HTTP_BAD_REQUEST = 400,    /* not an HTTP/1.x request line, or a NUL byte */
	CTL_HTTP_NOT_FOUND = 404,      /* any other path */
	CTL_HTTP_BAD_METHOD = 405,     /* any method but GET */
	CTL_HTTP_TOO_LARGE = 431,      /* no end of head within max_head bytes */
};

/*
 * Classifies the request head received so far, buf[0, len), which may end anywhere (a request
 * split across reads). The head ends at the first empty line ("\r\n\r\n" or "\n\n"); one that
 * has not ended within max_head bytes, or ends beyond them, is CTL_HTTP_TOO_LARGE. Pure.
 */
enum ctl_http_verdict ctl_http_parse(const char *buf, size_t len, size_t max_head);

/*
 * Parses "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6), PORT 1-65535, into ss and *len. Returns 0,
 * or -EINVAL with the reason in why. Pure.
 */
int ctl_http_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *why,
			size_t why_len);

/* X(name, help): what the listener counts. */
#define CTL_HTTP_STATS_FIELDS(X) \
	X(accepted, "connections accepted by the metrics listener") \
	X(served, "GET /metrics requests answered") \
	X(health_ok, "GET /health requests answered 200 (healthy)") \
	X(health_failed, "GET /health requests answered 503 (unhealthy)") \
	X(not_found, "requests answered 404 (a path other than /metrics and /health)") \
	X(bad_method, "requests answered 405 (a method other than GET)") \
	X(bad_request, "requests answered 400 (not an HTTP/1.x request)") \
	X(too_large, "requests answered 431 (request head over 4 KiB)") \
	X(timeouts, "connections closed because the client stalled") \
	X(refused_busy, "connections closed at once: every connection slot was in use") \
	X(render_failed, "requests answered 500: the metrics or health could not be rendered")

struct ctl_http_stats {
#define CTL_HTTP_MEMBER(name, help) uint64_t name;
	CTL_HTTP_STATS_FIELDS(CTL_HTTP_MEMBER)
#undef CTL_HTTP_MEMBER
};

/* Writes the body of GET /metrics to out. Returns 0, or non-zero for a 500. */
typedef int (*ctl_http_render_t)(void *arg, FILE *out);

/* Writes the body of GET /health to out. Returns 0 (healthy: 200), 1 (unhealthy: 503), or
 * -1 for a 500. */
typedef int (*ctl_http_health_t)(void *arg, FILE *out);

struct ctl_http;

/* Binds and listens on addr (SO_REUSEADDR). Returns NULL and sets errno. */
struct ctl_http *ctl_http_open(const struct sockaddr *addr, socklen_t addr_len,
			       ctl_http_render_t render, void *arg);

/* Serves GET /health from health(arg, out), each request afresh (the verdict is cheap and must
 * be current). Without it, /health is a 404. */
void ctl_http_set_health(struct ctl_http *h, ctl_http_health_t health, void *arg);

/* An fd that polls readable whenever ctl_http_serve has something to do (an epoll set). */
int ctl_http_fd(const struct ctl_http *h);

/* The port actually bound (useful after binding port 0), in host order. */
uint16_t ctl_http_port(const struct ctl_http *h);

/*
 * Accepts, reads, answers and writes whatever is ready without blocking, then closes the
 * connections whose deadline passed before now_ms (ctl_sockio_now_ms() time). The metrics are
 * rendered at most once per call, shared by every request that completes in it. Call once per
 * control-loop tick, and when ctl_http_fd polls readable.
 */
void ctl_http_serve(struct ctl_http *h, int64_t now_ms);

/* The listener's counters, for the metrics themselves. */
const struct ctl_http_stats *ctl_http_stats(const struct ctl_http *h);

/* Closes every connection and the listener. NULL is fine. */
void ctl_http_close(struct ctl_http *h);
