/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP server thread (control/ctl_tcp.c) on loopback: the real thread, listening on
 * 127.0.0.1 on a free port, with real client sockets. The test plays the one worker: it takes
 * the queries off the worker's ring and answers them (an echo with QR set), puts upstream
 * requests on the ring back, and reads the outcomes. Upstream "servers" are a listening socket
 * on another loopback port that never accepts or answers. The thread's limits are set low
 * (3 connections per client, a 400 ms idle timeout, a 300 ms port linger) so each case runs in
 * about a second.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <pollux/addr_policy.h>
#include <pollux/wire.h>

#include "ctl_tcp.h"
#include "dp_tcp.h"
#include "testlib.h"

#define PER_CLIENT 3
#define IDLE_MS 400
#define LINGER_MS 300

static struct ctl_tcp *tcp;
static struct dp_tcp_lcore *w0;
static struct px_addr_policy policy;
static int silent_fd = -1;
static uint16_t listen_port, silent_port;
static uint64_t up_fails, up_replies;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* One of the thread's counters, as `polluxctl tcp` prints it. */
static uint64_t
tstat(const char *name)
{
	char *text = NULL, want[64], *p;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	uint64_t v = UINT64_MAX;

	ck_assert_ptr_nonnull(out);
	ctl_tcp_print(tcp, out);
	fclose(out);
	snprintf(want, sizeof(want), "tcp.%s ", name);
	p = strstr(text, want);
	if (p != NULL)
		v = strtoull(p + strlen(want), NULL, 10);
	free(text);
	ck_assert_msg(v != UINT64_MAX, "no counter tcp.%s", name);
	return v;
}

/* The worker: answers every query with its echo (QR set), counts upstream outcomes. */
static void
worker_serve(void)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(w0->in, (void **)&m) == 0) {
		struct dp_tcp_meta *mt = dp_tcp_meta(m);

		if (mt->kind == DP_TCP_MSG_QUERY) {
			uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

			d[2] |= 0x80;
			mt->kind = DP_TCP_MSG_ANSWER;
			ck_assert_int_eq(rte_ring_enqueue(w0->out, m), 0);
			continue;
		}
		if (mt->kind == DP_TCP_MSG_UP_FAIL)
			up_fails++;
		else if (mt->kind == DP_TCP_MSG_UP_REPLY)
			up_replies++;
		rte_pktmbuf_free(m);
	}
}

/* An upstream request as a worker makes it: a query to the silent server on loopback. */
static struct rte_mbuf *
up_request(uint16_t id, uint32_t timeout_ms)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w0->msg_pool);
	const struct px_test_query q = {.id = id, .name = "big.example.test", .qtype = 16,
					.qclass = 1};
	struct dp_tcp_meta *mt;
	uint32_t lo = htonl(INADDR_LOOPBACK);

	ck_assert_ptr_nonnull(m);
	m->data_len = m->pkt_len = px_test_query(rte_pktmbuf_mtod(m, uint8_t *), &q);
	mt = dp_tcp_meta(m);
	memset(mt, 0, sizeof(*mt));
	mt->kind = DP_TCP_MSG_UP_QUERY;
	mt->timeout_ms = timeout_ms;
	px_addr_set4(&mt->peer, lo, 0);
	return m;
}

static int
client_connect(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(listen_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void
client_send_query(int fd, uint16_t id)
{
	uint8_t buf[2 + 512];
	const struct px_test_query q = {.id = id, .name = "www.example.test", .qtype = 1,
					.qclass = 1};
	uint16_t len = px_test_query(buf + 2, &q);

	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	ck_assert_int_eq(send(fd, buf, 2u + len, MSG_NOSIGNAL), 2 + len);
}

/* Serves as the worker while waiting for one answer on fd. Returns its ID, -1 when the
 * connection was closed, -2 when nothing came within timeout_ms. */
static int
client_wait(int fd, unsigned timeout_ms)
{
	uint8_t buf[2 + 512];
	size_t have = 0;
	uint64_t end = now_ms() + timeout_ms;

	while (now_ms() < end) {
		ssize_t n;

		worker_serve();
		n = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return -1;
		if (n > 0)
			have += (size_t)n;
		if (have >= 2 + PX_DNS_HDR_LEN && have >= 2u + (buf[0] << 8 | buf[1])) {
			ck_assert(buf[4] & 0x80);
			return buf[2] << 8 | buf[3];
		}
		sleep_ms(2);
	}
	return -2;
}

/* Waits until the thread holds want client connections (it closes a connection once it sees
 * the client's end). */
static void
conns_open_wait(uint64_t want)
{
	uint64_t end = now_ms() + 2000;

	while (tstat("conns_open") != want && now_ms() < end) {
		worker_serve();
		sleep_ms(5);
	}
	ck_assert_uint_eq(tstat("conns_open"), want);
}

static void
no_conns_open(void)
{
	conns_open_wait(0);
}

static unsigned
ports_marked(void)
{
	unsigned n = 0;

	for (uint32_t p = 0; p < 65536; p++)
		n += dp_tcp_port_marked(w0->up_ports, (uint16_t)p);
	return n;
}

START_TEST(test_ctl_tcp_answers_a_query)
{
	int fd;

	no_conns_open();
	fd = client_connect();
	client_send_query(fd, 0x4242);
	ck_assert_int_eq(client_wait(fd, 2000), 0x4242);
	close(fd);
}
END_TEST

/* A client gets PER_CLIENT connections; one more is closed at once and counted, and a slot
 * it frees can be used again. */
START_TEST(test_ctl_tcp_conn_per_client_limit)
{
	int fds[PER_CLIENT], extra;
	uint64_t over = tstat("conns_per_client");

	no_conns_open();
	for (int i = 0; i < PER_CLIENT; i++) {
		fds[i] = client_connect();
		client_send_query(fds[i], (uint16_t)(100 + i));
		ck_assert_int_eq(client_wait(fds[i], 2000), 100 + i);
	}
	extra = client_connect();
	ck_assert_int_eq(client_wait(extra, 2000), -1);
	ck_assert_uint_eq(tstat("conns_per_client"), over + 1);
	close(extra);
	/* The ones it holds still work. */
	client_send_query(fds[0], 7);
	ck_assert_int_eq(client_wait(fds[0], 2000), 7);
	close(fds[1]);
	conns_open_wait(PER_CLIENT - 1);
	extra = client_connect();
	client_send_query(extra, 8);
	ck_assert_int_eq(client_wait(extra, 2000), 8);
	ck_assert_uint_eq(tstat("conns_per_client"), over + 1);
	close(extra);
	close(fds[0]);
	close(fds[2]);
}
END_TEST

/* Slowloris: one byte every 100 ms never completes a query, so the connection is closed at
 * the idle timeout, while a client asking a complete query every 150 ms stays open. */
START_TEST(test_ctl_tcp_idle_counts_from_complete_queries)
{
	int slow, busy;
	uint64_t idle = tstat("conns_idle"), start, closed_ms = 0;
	uint16_t id = 1;
	static const uint8_t dribble[] = {0, 40, 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	unsigned sent = 0;

	no_conns_open();
	slow = client_connect();
	busy = client_connect();
	start = now_ms();
	while (now_ms() - start < 3 * IDLE_MS) {
		uint8_t b;
		ssize_t n;

		if (closed_ms == 0 && sent < sizeof(dribble)) {
			ck_assert_int_eq(send(slow, &dribble[sent++], 1, MSG_NOSIGNAL), 1);
		}
		client_send_query(busy, id);
		ck_assert_int_eq(client_wait(busy, 1000), id);
		id++;
		n = recv(slow, &b, 1, MSG_DONTWAIT);
		if (closed_ms == 0 && (n == 0 || (n < 0 && errno == ECONNRESET)))
			closed_ms = now_ms() - start;
		sleep_ms(100);
	}
	ck_assert_msg(closed_ms != 0, "the dribbling client was not closed");
	/* The timer runs at least every 20 ms: closed at the timeout, not long after. */
	ck_assert_uint_ge(closed_ms, IDLE_MS - 20);
	ck_assert_uint_le(closed_ms, IDLE_MS + 250);
	ck_assert_uint_eq(tstat("conns_idle"), idle + 1);
	close(slow);
	close(busy);
}
END_TEST

/* Every upstream slot held by a server that never answers: a client's query is still
 * answered (the thread keeps taking answers off the ring), a request past the slots fails at
 * once, and each slot's local port is marked for the workers while its socket lives, then
 * released a linger after it closed. */
START_TEST(test_ctl_tcp_answers_while_upstream_busy)
{
	uint64_t started = tstat("up_started"), busy = tstat("up_fail_busy");
	uint64_t timeouts = tstat("up_fail_timeout"), released = tstat("up_ports_released");
	uint64_t fails = up_fails, end;
	int fd;

	no_conns_open();
	ck_assert_uint_eq(ports_marked(), 0);
	for (unsigned i = 0; i < CTL_TCP_MAX_UP; i++)
		ck_assert_int_eq(rte_ring_enqueue(w0->out, up_request((uint16_t)i, 1500)), 0);
	end = now_ms() + 2000;
	while (tstat("up_started") != started + CTL_TCP_MAX_UP && now_ms() < end)
		sleep_ms(5);
	ck_assert_uint_eq(tstat("up_started"), started + CTL_TCP_MAX_UP);
	ck_assert_uint_eq(ports_marked(), CTL_TCP_MAX_UP);

	/* The client's query reaches the worker; its answer goes back behind one more upstream
	 * request, which finds no slot. */
	fd = client_connect();
	client_send_query(fd, 0x5151);
	end = now_ms() + 2000;
	while (rte_ring_count(w0->in) == 0 && now_ms() < end)
		sleep_ms(2);
	ck_assert_int_eq(rte_ring_enqueue(w0->out, up_request(999, 1500)), 0);
	ck_assert_int_eq(client_wait(fd, 2000), 0x5151);
	ck_assert_uint_eq(tstat("up_fail_busy"), busy + 1);
	ck_assert_uint_eq(up_fails, fails + 1);
	close(fd);

	/* The silent server times every exchange out; each outcome reaches the worker. */
	end = now_ms() + 4000;
	while (up_fails != fails + 1 + CTL_TCP_MAX_UP && now_ms() < end) {
		worker_serve();
		sleep_ms(10);
	}
	ck_assert_uint_eq(up_fails, fails + 1 + CTL_TCP_MAX_UP);
	ck_assert_uint_eq(tstat("up_fail_timeout"), timeouts + CTL_TCP_MAX_UP);
	/* Closed, but the kernel still holds those connections for a while. */
	ck_assert_uint_gt(ports_marked(), 0);
	end = now_ms() + 3000;
	while (ports_marked() != 0 && now_ms() < end)
		sleep_ms(20);
	ck_assert_uint_eq(ports_marked(), 0);
	ck_assert_uint_eq(tstat("up_ports_released"), released + CTL_TCP_MAX_UP);
}
END_TEST

static Suite *
tcp_thread_suite(void)
{
	Suite *s = suite_create("tcp_thread");
	TCase *tc = tcase_create("clients");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ctl_tcp_answers_a_query);
	tcase_add_test(tc, test_ctl_tcp_conn_per_client_limit);
	tcase_add_test(tc, test_ctl_tcp_idle_counts_from_complete_queries);
	suite_add_tcase(s, tc);
	tc = tcase_create("upstream");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ctl_tcp_answers_while_upstream_busy);
	suite_add_tcase(s, tc);
	return s;
}

/* A loopback port free right now, and optionally a socket listening on it. */
static uint16_t
loopback_port(int *listen_fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t slen = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &slen) != 0 ||
	    (listen_fd != NULL && listen(fd, 1024) != 0))
		rte_exit(2, "test_tcp_thread: no loopback port: %s\n", strerror(errno));
	if (listen_fd != NULL)
		*listen_fd = fd;
	else
		close(fd);
	return ntohs(sa.sin_port);
}

static void
setup(void)
{
	struct ctl_tcp_conf conf = {
		.has_ip4 = true,
		.ip4 = htonl(INADDR_LOOPBACK),
		.workers = 1,
		.policy = &policy,
		.conn_per_client = PER_CLIENT,
		.idle_ms = IDLE_MS,
		.port_linger_ms = LINGER_MS,
	};
	char err[256];

	px_test_eal_init("test_tcp_thread", "0", NULL);
	px_addr_policy_init(&policy);
	policy.allow_loopback = true;
	/* A server that never accepts and never answers: connections complete in its backlog. */
	silent_port = loopback_port(&silent_fd);
	listen_port = loopback_port(NULL);
	conf.port = listen_port;
	conf.up_port = silent_port;
	tcp = ctl_tcp_create(&conf, err, sizeof(err));
	if (tcp == NULL || ctl_tcp_start(tcp, err, sizeof(err)) != 0)
		rte_exit(2, "test_tcp_thread: %s\n", err);
	w0 = ctl_tcp_worker(tcp, 0);
}

int
main(void)
{
	SRunner *sr;
	int failed;

	setup();
	sr = srunner_create(tcp_thread_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	ctl_tcp_free(tcp);
	close(silent_fd);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
