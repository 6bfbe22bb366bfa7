/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics listener: the request-head parser on its own, then the listener on 127.0.0.1
 * driven by real client sockets from the test itself. Time is whatever the test passes to
 * ctl_http_serve, so the stall deadlines are tested without sleeping.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "ctl_http.h"

#define BODY "# HELP pollux_x_total x\n# TYPE pollux_x_total counter\npollux_x_total 1\n"

static int renders;

static int
render(void *arg, FILE *out)
{
	renders++;
	fputs(arg, out);
	return 0;
}

static int
render_fail(void *arg, FILE *out)
{
	(void)arg;
	fputs("partial", out);
	return -1;
}

#define MAXH CTL_HTTP_MAX_HEAD

START_TEST(test_ctl_http_parse_good)
{
	const char *reqs[] = {
		"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
		"GET /metrics HTTP/1.0\r\n\r\n",
		"GET /metrics HTTP/1.1\n\n",
		"GET /metrics?name[]=x HTTP/1.1\r\n\r\n",
	};

	for (unsigned i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		ck_assert_int_eq(ctl_http_parse(reqs[i], strlen(reqs[i]), MAXH), CTL_HTTP_OK);
}
END_TEST

START_TEST(test_ctl_http_parse_bad_method_and_path)
{
	static const struct {
		const char *req;
		enum ctl_http_verdict v;
	} cases[] = {
		{"POST /metrics HTTP/1.1\r\n\r\n", CTL_HTTP_BAD_METHOD},
		{"HEAD /metrics HTTP/1.1\r\n\r\n", CTL_HTTP_BAD_METHOD},
		{"GETS /metrics HTTP/1.1\r\n\r\n", CTL_HTTP_BAD_METHOD},
		{"GET /health HTTP/1.1\r\n\r\n", CTL_HTTP_HEALTH},
		{"GET /health?x=1 HTTP/1.1\r\n\r\n", CTL_HTTP_HEALTH},
		{"GET /healthz HTTP/1.1\r\n\r\n", CTL_HTTP_NOT_FOUND},
		{"GET /health/ HTTP/1.1\r\n\r\n", CTL_HTTP_NOT_FOUND},
		{"POST /health HTTP/1.1\r\n\r\n", CTL_HTTP_BAD_METHOD},
		{"GET / HTTP/1.1\r\n\r\n", CTL_HTTP_NOT_FOUND},
		{"GET /metricsx HTTP/1.1\r\n\r\n", CTL_HTTP_NOT_FOUND},
		{"GET /metric HTTP/1.1\r\n\r\n", CTL_HTTP_NOT_FOUND},
		{"GET /metrics/ HTTP/1.1\r\n\r\n", CTL_HTTP_NOT_FOUND},
		{"get /metrics HTTP/1.1\r\n\r\n", CTL_HTTP_BAD_REQUEST},
		{"GET /metrics HTTP/2.0\r\n\r\n", CTL_HTTP_BAD_REQUEST},
		{"GET /metrics HTTP/1.1 x\r\n\r\n", CTL_HTTP_BAD_REQUEST},
		{"GET  /metrics HTTP/1.1\r\n\r\n", CTL_HTTP_BAD_REQUEST},
		{"GET /metrics\r\n\r\n", CTL_HTTP_BAD_REQUEST},
		{"\r\n\r\n", CTL_HTTP_BAD_REQUEST},
		{"hello\n\n", CTL_HTTP_BAD_REQUEST},
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(ctl_http_parse(cases[i].req, strlen(cases[i].req), MAXH) == cases[i].v,
			      "case %u: %s", i, cases[i].req);
	/* A NUL byte anywhere in the head. */
	ck_assert_int_eq(ctl_http_parse("GET /metrics HTTP/1.1\r\nX: a\0b\r\n\r\n", 33, MAXH),
			 CTL_HTTP_BAD_REQUEST);
}
END_TEST

START_TEST(test_ctl_http_parse_split)
{
	const char *req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	size_t len = strlen(req);

	/* Every prefix is incomplete, until the last byte of the empty line. */
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(ctl_http_parse(req, i, MAXH) == CTL_HTTP_MORE, "prefix %zu", i);
	ck_assert_int_eq(ctl_http_parse(req, len, MAXH), CTL_HTTP_OK);
}
END_TEST

START_TEST(test_ctl_http_parse_oversized)
{
	char *big = malloc(MAXH + 64);

	memcpy(big, "GET /metrics HTTP/1.1\r\n", 23);
	memset(big + 23, 'a', MAXH + 64 - 23);
	ck_assert_int_eq(ctl_http_parse(big, MAXH - 1, MAXH), CTL_HTTP_MORE);
	ck_assert_int_eq(ctl_http_parse(big, MAXH, MAXH), CTL_HTTP_TOO_LARGE);
	/* A head that ends, but beyond the limit. */
	memcpy(big + MAXH + 10, "\r\n\r\n", 4);
	ck_assert_int_eq(ctl_http_parse(big, MAXH + 14, MAXH), CTL_HTTP_TOO_LARGE);
	/* Ending exactly at the limit is fine. */
	memcpy(big + MAXH - 4, "\r\n\r\n", 4);
	ck_assert_int_eq(ctl_http_parse(big, MAXH, MAXH), CTL_HTTP_OK);
	free(big);
}
END_TEST

START_TEST(test_ctl_http_parse_addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char why[128];

	ck_assert_int_eq(ctl_http_parse_addr("127.0.0.1:9153", &ss, &len, why, sizeof(why)), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9153);
	ck_assert_uint_eq(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(0x7f000001));
	ck_assert_int_eq(ctl_http_parse_addr("[::1]:65535", &ss, &len, why, sizeof(why)), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 65535);
	const char *bad[] = {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:80", "[::1]80",
			     "[::1]:", "[]:80", "localhost:80", "1.2.3.4:+80", "1.2.3.4:80x", ":80",
			     "[127.0.0.1]:80", ""};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(ctl_http_parse_addr(bad[i], &ss, &len, why, sizeof(why)) == -EINVAL,
			      "accepted '%s'", bad[i]);
		ck_assert_ptr_nonnull(strstr(why, "PORT"));
	}
}
END_TEST

static struct ctl_http *
open_loopback(ctl_http_render_t fn, void *arg)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	struct ctl_http *h = ctl_http_open((struct sockaddr *)&sin, sizeof(sin), fn, arg);

	ck_assert_ptr_nonnull(h);
	ck_assert_uint_ne(ctl_http_port(h), 0);
	return h;
}

static int
client(const struct ctl_http *h)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001),
				  .sin_port = htons(ctl_http_port(h))};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void
say(int fd, const char *s)
{
	ck_assert_int_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Serves at time now until fd has the whole response (the server closed), into buf. Returns
 * its length. */
static size_t
response(struct ctl_http *h, int fd, int64_t now, char *buf, size_t cap)
{
	size_t len = 0;

	for (int spins = 0; spins < 2000; spins++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		ctl_http_serve(h, now);
		if (poll(&p, 1, 1) <= 0)
			continue;
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0) {
			buf[len] = '\0';
			return len;
		}
		len += (size_t)n;
	}
	ck_abort_msg("no complete response");
	return 0;
}

/* Whether the server closed fd (after serving at now). */
static int
closed_by_server(struct ctl_http *h, int fd, int64_t now)
{
	char c;

	for (int spins = 0; spins < 200; spins++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		ctl_http_serve(h, now);
		if (poll(&p, 1, 1) > 0)
			return recv(fd, &c, 1, 0) <= 0;
	}
	return 0;
}

START_TEST(test_ctl_http_serve_metrics_split)
{
	struct ctl_http *h = open_loopback(render, BODY);
	char buf[4096], clen[64];
	int fd = client(h);

	say(fd, "GET /met");
	for (int i = 0; i < 20; i++)
		ctl_http_serve(h, 0);
	say(fd, "rics HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 20; i++)
		ctl_http_serve(h, 1);
	ck_assert_int_eq(renders, 0);
	say(fd, "\r\n");
	response(h, fd, 2, buf, sizeof(buf));
	ck_assert_int_eq(renders, 1);
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "Content-Type: text/plain; version=0.0.4"));
	snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", strlen(BODY));
	ck_assert_ptr_nonnull(strstr(buf, clen));
	ck_assert_str_eq(strstr(buf, "\r\n\r\n") + 4, BODY);
	ck_assert_uint_eq(ctl_http_stats(h)->served, 1);
	ck_assert_uint_eq(ctl_http_stats(h)->accepted, 1);
	close(fd);
	ctl_http_close(h);
}
END_TEST

/* Scrapes that complete in the same serve call share one render. */
START_TEST(test_ctl_http_serve_renders_once_per_call)
{
	struct ctl_http *h = open_loopback(render, BODY);
	char buf[4096];
	int a = client(h), b = client(h);

	say(a, "GET /metrics HTTP/1.1\r\n\r\n");
	say(b, "GET /metrics HTTP/1.1\r\n\r\n");
	usleep(20000);
	ctl_http_serve(h, 0); /* accepts both */
	ck_assert_uint_eq(ctl_http_stats(h)->accepted, 2);
	ctl_http_serve(h, 0); /* reads both requests */
	ck_assert_uint_eq(ctl_http_stats(h)->served, 2);
	ck_assert_int_eq(renders, 1);
	response(h, a, 0, buf, sizeof(buf));
	ck_assert_str_eq(strstr(buf, "\r\n\r\n") + 4, BODY);
	response(h, b, 0, buf, sizeof(buf));
	ck_assert_str_eq(strstr(buf, "\r\n\r\n") + 4, BODY);
	/* A later call renders afresh. */
	close(a);
	a = client(h);
	say(a, "GET /metrics HTTP/1.1\r\n\r\n");
	response(h, a, 0, buf, sizeof(buf));
	ck_assert_int_eq(renders, 2);
	close(a);
	close(b);
	ctl_http_close(h);
}
END_TEST

START_TEST(test_ctl_http_serve_refusals)
{
	struct ctl_http *h = open_loopback(render, BODY);
	char buf[4096], big[MAXH + 100];
	int fd;

	fd = client(h);
	say(fd, "GET /health HTTP/1.1\r\n\r\n");
	response(h, fd, 0, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 404 Not Found\r\n"));
	close(fd);
	fd = client(h);
	say(fd, "DELETE /metrics HTTP/1.1\r\n\r\n");
	response(h, fd, 0, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 405 "));
	close(fd);
	fd = client(h);
	say(fd, "\x16\x03\x01 junk\r\n\r\n");
	response(h, fd, 0, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 400 "));
	close(fd);
	fd = client(h);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	say(fd, big);
	response(h, fd, 0, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 431 "));
	close(fd);
	ck_assert_int_eq(renders, 0);
	ck_assert_uint_eq(ctl_http_stats(h)->not_found, 1);
	ck_assert_uint_eq(ctl_http_stats(h)->bad_method, 1);
	ck_assert_uint_eq(ctl_http_stats(h)->bad_request, 1);
	ck_assert_uint_eq(ctl_http_stats(h)->too_large, 1);
	ck_assert_uint_eq(ctl_http_stats(h)->served, 0);
	ctl_http_close(h);
}
END_TEST

/* What the health callback answers next: 0 healthy, 1 not, -1 failed. */
static int health_rc;

static int
health(void *arg, FILE *out)
{
	(void)arg;
	fputs(health_rc == 0 ? "ok\n" : health_rc == 1 ? "link down\n" : "partial", out);
	return health_rc;
}

static void
ask_health(struct ctl_http *h, char *buf, size_t cap)
{
	int fd = client(h);

	say(fd, "GET /health HTTP/1.1\r\n\r\n");
	response(h, fd, 0, buf, cap);
	close(fd);
}

/* Without a verdict /health is a 404 (test_ctl_http_serve_refusals); with one, 200 or 503 with
 * the verdict's text, fresh for every request, never a metrics render. */
START_TEST(test_ctl_http_serve_health)
{
	struct ctl_http *h = open_loopback(render, BODY);
	char buf[4096];

	ctl_http_set_health(h, health, NULL);
	health_rc = 0;
	ask_health(h, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "Content-Type: text/plain; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "Content-Length: 3\r\n"));
	ck_assert_str_eq(strstr(buf, "\r\n\r\n") + 4, "ok\n");
	health_rc = 1;
	ask_health(h, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 503 Service Unavailable\r\n"));
	ck_assert_str_eq(strstr(buf, "\r\n\r\n") + 4, "link down\n");
	health_rc = -1;
	ask_health(h, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 500 "));
	ck_assert_ptr_null(strstr(buf, "partial"));
	ck_assert_int_eq(renders, 0);
	ck_assert_uint_eq(ctl_http_stats(h)->health_ok, 1);
	ck_assert_uint_eq(ctl_http_stats(h)->health_failed, 1);
	ck_assert_uint_eq(ctl_http_stats(h)->render_failed, 1);
	ck_assert_uint_eq(ctl_http_stats(h)->served, 0);
	ck_assert_uint_eq(ctl_http_stats(h)->not_found, 0);
	ctl_http_close(h);
}
END_TEST

START_TEST(test_ctl_http_serve_render_failure)
{
	struct ctl_http *h = open_loopback(render_fail, NULL);
	char buf[4096];
	int fd = client(h);

	say(fd, "GET /metrics HTTP/1.1\r\n\r\n");
	response(h, fd, 0, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 500 "));
	ck_assert_ptr_null(strstr(buf, "partial"));
	ck_assert_uint_eq(ctl_http_stats(h)->render_failed, 1);
	close(fd);
	ctl_http_close(h);
}
END_TEST

START_TEST(test_ctl_http_stalled_client)
{
	struct ctl_http *h = open_loopback(render, BODY);
	char buf[4096];
	int stall = client(h), fd;

	say(stall, "GET /metrics HTTP/1.1\r\n"); /* and never the end of the head */
	for (int i = 0; i < 20; i++)
		ctl_http_serve(h, 0);
	/* A second client is served while the first sits there. */
	fd = client(h);
	say(fd, "GET /metrics HTTP/1.1\r\n\r\n");
	response(h, fd, 100, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "200 OK"));
	close(fd);
	ck_assert(!closed_by_server(h, stall, CTL_HTTP_HEAD_TIMEOUT_MS - 1));
	ck_assert_uint_eq(ctl_http_stats(h)->timeouts, 0);
	ck_assert(closed_by_server(h, stall, CTL_HTTP_HEAD_TIMEOUT_MS));
	ck_assert_uint_eq(ctl_http_stats(h)->timeouts, 1);
	close(stall);
	ctl_http_close(h);
}
END_TEST

/* A client that asks and never reads: the response is dropped at the send deadline. */
START_TEST(test_ctl_http_stalled_reader)
{
	static char huge[8 << 20];
	struct ctl_http *h;
	int fd, small = 4096;

	memset(huge, 'x', sizeof(huge) - 2);
	huge[sizeof(huge) - 2] = '\n';
	h = open_loopback(render, huge);
	fd = client(h);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	say(fd, "GET /metrics HTTP/1.1\r\n\r\n");
	for (int i = 0; i < 50; i++)
		ctl_http_serve(h, 0);
	ck_assert_int_eq(renders, 1);
	ck_assert_uint_eq(ctl_http_stats(h)->timeouts, 0);
	ctl_http_serve(h, CTL_HTTP_SEND_TIMEOUT_MS);
	ck_assert_uint_eq(ctl_http_stats(h)->timeouts, 1);
	close(fd);
	ctl_http_close(h);
}
END_TEST

START_TEST(test_ctl_http_connection_cap)
{
	struct ctl_http *h = open_loopback(render, BODY);
	int fds[CTL_HTTP_MAX_CONNS + 1];

	for (unsigned i = 0; i < CTL_HTTP_MAX_CONNS; i++) {
		fds[i] = client(h);
		ctl_http_serve(h, 0);
	}
	ck_assert_uint_eq(ctl_http_stats(h)->accepted, CTL_HTTP_MAX_CONNS);
	fds[CTL_HTTP_MAX_CONNS] = client(h);
	ck_assert(closed_by_server(h, fds[CTL_HTTP_MAX_CONNS], 0));
	ck_assert_uint_eq(ctl_http_stats(h)->refused_busy, 1);
	/* The slots come back once the stalled ones time out. */
	ctl_http_serve(h, CTL_HTTP_HEAD_TIMEOUT_MS);
	ck_assert_uint_eq(ctl_http_stats(h)->timeouts, CTL_HTTP_MAX_CONNS);
	for (unsigned i = 0; i <= CTL_HTTP_MAX_CONNS; i++)
		close(fds[i]);
	ctl_http_close(h);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_ctl_http_parse_good);
	tcase_add_test(tc, test_ctl_http_parse_bad_method_and_path);
	tcase_add_test(tc, test_ctl_http_parse_split);
	tcase_add_test(tc, test_ctl_http_parse_oversized);
	tcase_add_test(tc, test_ctl_http_parse_addr);
	suite_add_tcase(s, tc);
	tc = tcase_create("serve");
	tcase_add_test(tc, test_ctl_http_serve_metrics_split);
	tcase_add_test(tc, test_ctl_http_serve_renders_once_per_call);
	tcase_add_test(tc, test_ctl_http_serve_refusals);
	tcase_add_test(tc, test_ctl_http_serve_render_failure);
	tcase_add_test(tc, test_ctl_http_serve_health);
	tcase_add_test(tc, test_ctl_http_stalled_client);
	tcase_add_test(tc, test_ctl_http_stalled_reader);
	tcase_add_test(tc, test_ctl_http_connection_cap);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
