/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dnstap: the record encoding (encoded, then decoded again with protobuf-c), the worker's ring
 * (full ring drops and counts, order kept across threads), sampling and type switches, the
 * options, and the logging thread end to end into a Frame Streams file read back with libfstrm.
 * The EAL is started once (the rings are allocated with rte_zmalloc), so every test runs
 * unforked.
 */
#include <arpa/inet.h>
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fstrm.h>

#include <rte_malloc.h>

#include <pollux/dnstap.h>
#include <pollux/wire.h>

#include "ctl_config.h"
#include "ctl_dnstap.h"
#include "dnstap.pb-c.h"
#include "dp_lcore.h"
#include "dp_tap.h"
#include "testlib.h"

static struct dp_ctx ctx;

static const struct ctl_dnstap_ident ident = {"host.example", "pollux 9.9"};

/* A lab-like query for www.example.test A. */
static uint16_t
make_query(uint8_t *buf, uint16_t id)
{
	const struct px_test_query q = {
		.id = id, .flags = PX_DNS_RD, .name = "www.example.test", .qtype = PX_DNS_TYPE_A,
		.qclass = PX_DNS_CLASS_IN,
	};

	return px_test_query(buf, &q);
}

static struct px_tap_rec *
make_rec(uint8_t type, uint8_t family, uint8_t proto)
{
	static struct px_tap_rec r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.family = family;
	r.proto = proto;
	r.tsc = 3000;
	r.query_port = 40000;
	r.response_port = 53;
	if (family == 4) {
		inet_pton(AF_INET, "198.18.0.10", r.query_addr);
		inet_pton(AF_INET, "198.18.0.53", r.response_addr);
	} else {
		inet_pton(AF_INET6, "2001:2::10", r.query_addr);
		inet_pton(AF_INET6, "2001:2::53", r.response_addr);
	}
	r.msg_len = make_query(r.msg, 0x1234);
	r.wire_len = r.msg_len;
	return &r;
}

/* tsc 3000 at 1000 Hz with the clock's tsc 1000 at 5.25 s: 7.25 s. */
static const struct ctl_dnstap_clock clk = {.hz = 1000, .tsc = 1000, .ns = 5250000000ull};

START_TEST(test_encode_client_query_fields)
{
	struct px_tap_rec *r = make_rec(PX_TAP_CLIENT_QUERY, 4, PX_TAP_UDP);
	uint8_t buf[CTL_DNSTAP_FRAME_MAX];
	size_t len = ctl_dnstap_encode(r, &ident, &clk, buf, sizeof(buf));
	Dnstap__Dnstap *d;
	Dnstap__Message *m;

	ck_assert_uint_gt(len, 0);
	d = dnstap__dnstap__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(d->type, DNSTAP__DNSTAP__TYPE__MESSAGE);
	ck_assert(d->has_identity && d->identity.len == strlen(ident.identity) &&
		  memcmp(d->identity.data, ident.identity, d->identity.len) == 0);
	ck_assert(d->has_version && d->version.len == strlen(ident.version) &&
		  memcmp(d->version.data, ident.version, d->version.len) == 0);
	m = d->message;
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->type, DNSTAP__MESSAGE__TYPE__CLIENT_QUERY);
	ck_assert(m->has_socket_family && m->socket_family == DNSTAP__SOCKET_FAMILY__INET);
	ck_assert(m->has_socket_protocol && m->socket_protocol == DNSTAP__SOCKET_PROTOCOL__UDP);
	ck_assert(m->has_query_address && m->query_address.len == 4 &&
		  memcmp(m->query_address.data, r->query_addr, 4) == 0);
	ck_assert(m->has_response_address && m->response_address.len == 4 &&
		  memcmp(m->response_address.data, r->response_addr, 4) == 0);
	ck_assert(m->has_query_port && m->query_port == 40000);
	ck_assert(m->has_response_port && m->response_port == 53);
	ck_assert(m->has_query_time_sec && m->query_time_sec == 7);
	ck_assert(m->has_query_time_nsec && m->query_time_nsec == 250000000);
	ck_assert(m->has_query_message && m->query_message.len == r->msg_len &&
		  memcmp(m->query_message.data, r->msg, r->msg_len) == 0);
	ck_assert(!m->has_response_message && !m->has_response_time_sec);
	dnstap__dnstap__free_unpacked(d, NULL);
}
END_TEST

START_TEST(test_encode_resolver_response_ipv6_tcp)
{
	struct px_tap_rec *r = make_rec(PX_TAP_RESOLVER_RESPONSE, 6, PX_TAP_TCP);
	uint8_t buf[CTL_DNSTAP_FRAME_MAX];
	size_t len;
	Dnstap__Dnstap *d;
	Dnstap__Message *m;

	r->query_port = 0; /* the kernel chose it: left out */
	r->msg[2] |= 0x80;
	len = ctl_dnstap_encode(r, &ident, &clk, buf, sizeof(buf));
	ck_assert_uint_gt(len, 0);
	d = dnstap__dnstap__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(d);
	m = d->message;
	ck_assert_int_eq(m->type, DNSTAP__MESSAGE__TYPE__RESOLVER_RESPONSE);
	ck_assert(m->socket_family == DNSTAP__SOCKET_FAMILY__INET6);
	ck_assert(m->socket_protocol == DNSTAP__SOCKET_PROTOCOL__TCP);
	ck_assert(m->query_address.len == 16 &&
		  memcmp(m->query_address.data, r->query_addr, 16) == 0);
	ck_assert(m->response_address.len == 16 &&
		  memcmp(m->response_address.data, r->response_addr, 16) == 0);
	ck_assert(!m->has_query_port);
	ck_assert(m->has_response_port && m->response_port == 53);
	ck_assert(m->has_response_time_sec && m->response_time_sec == 7 &&
		  m->response_time_nsec == 250000000);
	ck_assert(m->has_response_message && m->response_message.len == r->msg_len &&
		  memcmp(m->response_message.data, r->msg, r->msg_len) == 0);
	ck_assert(!m->has_query_message && !m->has_query_time_sec);
	dnstap__dnstap__free_unpacked(d, NULL);
}
END_TEST

START_TEST(test_encode_refuses_bad_record_and_small_buffer)
{
	struct px_tap_rec *r = make_rec(PX_TAP_CLIENT_RESPONSE, 4, PX_TAP_UDP);
	uint8_t buf[CTL_DNSTAP_FRAME_MAX];

	ck_assert_uint_eq(ctl_dnstap_encode(r, &ident, &clk, buf, 20), 0);
	r->type = 1; /* AUTH_QUERY: not one pollux writes */
	ck_assert_uint_eq(ctl_dnstap_encode(r, &ident, &clk, buf, sizeof(buf)), 0);
	r->type = PX_TAP_CLIENT_RESPONSE;
	r->family = 5;
	ck_assert_uint_eq(ctl_dnstap_encode(r, &ident, &clk, buf, sizeof(buf)), 0);
	/* The largest record fits the frame room. */
	r->family = 6;
	r->msg_len = PX_TAP_MSG_MAX;
	ck_assert_uint_gt(ctl_dnstap_encode(r, &ident, &clk, buf, sizeof(buf)), PX_TAP_MSG_MAX);
}
END_TEST

START_TEST(test_time_ns_before_and_after_base)
{
	const struct ctl_dnstap_clock c = {.hz = 3000000000ull, .tsc = 9000000000ull,
					   .ns = 1700000000000000000ull};

	ck_assert_uint_eq(ctl_dnstap_time_ns(&c, c.tsc), c.ns);
	ck_assert_uint_eq(ctl_dnstap_time_ns(&c, c.tsc + 4500000000ull), c.ns + 1500000000ull);
	ck_assert_uint_eq(ctl_dnstap_time_ns(&c, c.tsc - 3000000ull), c.ns - 1000000ull);
	/* A day of TSC at 3 GHz does not overflow. */
	ck_assert_uint_eq(ctl_dnstap_time_ns(&c, c.tsc + 86400ull * c.hz),
			  c.ns + 86400ull * 1000000000ull);
}
END_TEST

/* A worker with dnstap on over a ring of count records. */
static struct dp_lcore *
tap_lcore(uint32_t count, uint32_t types, uint32_t sample)
{
	struct dp_lcore *lc = rte_zmalloc(NULL, sizeof(*lc), RTE_CACHE_LINE_SIZE);
	struct dp_tap *t = rte_zmalloc(NULL, sizeof(*t), RTE_CACHE_LINE_SIZE);
	struct px_tap_ring *r = rte_zmalloc(NULL, px_tap_ring_size(count), RTE_CACHE_LINE_SIZE);

	ck_assert(lc != NULL && t != NULL && r != NULL);
	px_tap_ring_init(r, count);
	dp_tap_init(t, r, types, sample);
	lc->ctx = &ctx;
	lc->tap = t;
	return lc;
}

static void
tap_lcore_free(struct dp_lcore *lc)
{
	rte_free(lc->tap->ring);
	rte_free(lc->tap);
	rte_free(lc);
}

static void
log_client_query(struct dp_lcore *lc, uint16_t id)
{
	static const uint8_t client[4] = {198, 18, 0, 10};
	uint8_t msg[512];
	uint16_t len = make_query(msg, id);

	dp_tap_client(lc, PX_TAP_CLIENT_QUERY, 4, PX_TAP_UDP, client, 40000, msg, len);
}

START_TEST(test_ring_full_drops_and_counts)
{
	struct dp_lcore *lc = tap_lcore(4, CTL_DNSTAP_DEFAULT_TYPES, 1);
	const struct px_tap_rec *r;

	for (uint16_t i = 0; i < 6; i++)
		log_client_query(lc, i);
	ck_assert_uint_eq(lc->stats.dnstap_logged, 4);
	ck_assert_uint_eq(lc->stats.dnstap_dropped, 2);
	/* The oldest four are there, in order; the two that found the ring full are not. */
	for (uint16_t i = 0; i < 4; i++) {
		r = px_tap_ring_peek(lc->tap->ring);
		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(px_get16(r->msg), i);
		ck_assert_uint_eq(r->type, PX_TAP_CLIENT_QUERY);
		ck_assert_uint_eq(r->query_port, 40000);
		ck_assert_uint_eq(r->response_port, 53);
		ck_assert(memcmp(r->response_addr, &ctx.port.ip4, 4) == 0);
		px_tap_ring_release(lc->tap->ring);
	}
	ck_assert_ptr_null(px_tap_ring_peek(lc->tap->ring));
	/* Room again: the next one goes in. */
	log_client_query(lc, 9);
	ck_assert_uint_eq(lc->stats.dnstap_logged, 5);
	ck_assert_uint_eq(lc->stats.dnstap_dropped, 2);
	tap_lcore_free(lc);
}
END_TEST

START_TEST(test_sample_logs_one_in_n_per_type)
{
	struct dp_lcore *lc = tap_lcore(64, CTL_DNSTAP_DEFAULT_TYPES, 3);
	static const uint8_t client[4] = {198, 18, 0, 10};
	uint8_t msg[512];
	uint16_t len = make_query(msg, 1);

	for (uint16_t i = 0; i < 9; i++)
		log_client_query(lc, i);
	/* The first, then every third: 0, 3, 6. */
	ck_assert_uint_eq(lc->stats.dnstap_logged, 3);
	for (uint16_t want = 0; want < 9; want += 3) {
		const struct px_tap_rec *r = px_tap_ring_peek(lc->tap->ring);

		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(px_get16(r->msg), want);
		px_tap_ring_release(lc->tap->ring);
	}
	/* Responses count on their own: the first response is logged whatever the queries did. */
	dp_tap_client(lc, PX_TAP_CLIENT_RESPONSE, 4, PX_TAP_UDP, client, 40000, msg, len);
	ck_assert_uint_eq(lc->stats.dnstap_logged, 4);
	tap_lcore_free(lc);
}
END_TEST

START_TEST(test_types_switched_off_are_not_logged)
{
	struct dp_lcore *lc = tap_lcore(64, PX_TAP_BIT(PX_TAP_RESOLVER_QUERY), 1);
	static const uint8_t server[4] = {198, 18, 1, 1};
	uint8_t msg[512];
	uint16_t len = make_query(msg, 7);
	const struct px_tap_rec *r;

	log_client_query(lc, 1);
	dp_tap_upstream(lc, PX_TAP_RESOLVER_RESPONSE, 4, PX_TAP_UDP, 33333, server, 53, msg, len);
	ck_assert_uint_eq(lc->stats.dnstap_logged, 0);
	dp_tap_upstream(lc, PX_TAP_RESOLVER_QUERY, 4, PX_TAP_UDP, 33333, server, 53, msg, len);
	ck_assert_uint_eq(lc->stats.dnstap_logged, 1);
	r = px_tap_ring_peek(lc->tap->ring);
	ck_assert_ptr_nonnull(r);
	/* Upstream, pollux is the initiator. */
	ck_assert(memcmp(r->query_addr, &ctx.port.ip4, 4) == 0);
	ck_assert(memcmp(r->response_addr, server, 4) == 0);
	ck_assert_uint_eq(r->query_port, 33333);
	tap_lcore_free(lc);
}
END_TEST

START_TEST(test_long_message_keeps_header_and_question)
{
	struct dp_lcore *lc = tap_lcore(4, CTL_DNSTAP_DEFAULT_TYPES, 1);
	static const uint8_t client[4] = {198, 18, 0, 10};
	static uint8_t msg[4000];
	uint16_t qlen = make_query(msg, 5);
	const struct px_tap_rec *r;

	px_put16(msg + 2, 0x8180);
	px_put16(msg + 6, 40); /* an answer section that does not fit */
	px_put16(msg + 10, 0);
	dp_tap_client(lc, PX_TAP_CLIENT_RESPONSE, 4, PX_TAP_TCP, client, 40000, msg, 3000);
	ck_assert_uint_eq(lc->stats.dnstap_cut, 1);
	r = px_tap_ring_peek(lc->tap->ring);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->flags, PX_TAP_F_CUT);
	ck_assert_uint_eq(r->wire_len, 3000);
	ck_assert_uint_eq(r->msg_len, qlen);
	ck_assert_uint_eq(px_get16(r->msg + 2), 0x8180);
	ck_assert_uint_eq(px_get16(r->msg + 4), 1);
	ck_assert_uint_eq(px_get16(r->msg + 6), 0);
	ck_assert(memcmp(r->msg + 12, msg + 12, qlen - 12) == 0);
	tap_lcore_free(lc);
}
END_TEST

#define SPSC_COUNT 100000
static struct px_tap_ring *spsc_ring;

static void *
spsc_producer(void *arg)
{
	(void)arg;
	for (uint32_t i = 0; i < SPSC_COUNT;) {
		struct px_tap_rec *r = px_tap_ring_claim(spsc_ring);

		if (r == NULL) {
			sched_yield(); /* the consumer may share this core */
			continue;
		}
		r->tsc = i;
		r->msg_len = (uint16_t)i;
		px_tap_ring_publish(spsc_ring);
		i++;
	}
	return NULL;
}

START_TEST(test_ring_keeps_order_across_threads)
{
	pthread_t th;

	spsc_ring = rte_zmalloc(NULL, px_tap_ring_size(16), RTE_CACHE_LINE_SIZE);
	ck_assert_ptr_nonnull(spsc_ring);
	px_tap_ring_init(spsc_ring, 16);
	ck_assert_int_eq(pthread_create(&th, NULL, spsc_producer, NULL), 0);
	for (uint32_t want = 0; want < SPSC_COUNT;) {
		const struct px_tap_rec *r = px_tap_ring_peek(spsc_ring);

		if (r == NULL) {
			sched_yield();
			continue;
		}
		ck_assert_uint_eq(r->tsc, want);
		ck_assert_uint_eq(r->msg_len, (uint16_t)want);
		px_tap_ring_release(spsc_ring);
		want++;
	}
	pthread_join(th, NULL);
	ck_assert_ptr_null(px_tap_ring_peek(spsc_ring));
	rte_free(spsc_ring);
}
END_TEST

START_TEST(test_options_parse_and_refuse)
{
	struct ctl_dnstap_conf c;
	char why[256];

	ctl_dnstap_conf_init(&c);
	ck_assert_uint_eq(c.sample, 1);
	ck_assert_uint_eq(c.types, CTL_DNSTAP_DEFAULT_TYPES);
	ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "dnstap-sample", "100", "x", why, sizeof(why)), 0);
	ck_assert_uint_eq(c.sample, 100);
	ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "dnstap-sample", "0", "x", why, sizeof(why)),
			 -EINVAL);
	ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "dnstap-sample", "1x", "x", why, sizeof(why)),
			 -EINVAL);
	ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "dnstap-log-resolver-query-messages", "yes",
					       "x", why, sizeof(why)), 0);
	ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "dnstap-log-client-query-messages", "no",
					       "x", why, sizeof(why)), 0);
	ck_assert_uint_eq(c.types, PX_TAP_BIT(PX_TAP_RESOLVER_QUERY) |
				   PX_TAP_BIT(PX_TAP_CLIENT_RESPONSE));
	ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "dnstap-log-client-query-messages", "on",
					       "x", why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "cache-size", "1", "x", why, sizeof(why)), 1);
	/* Paths: a directory, a file in no directory, a socket path too long. */
	ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "dnstap", "/tmp", "x", why, sizeof(why)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "directory"));
	ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "dnstap", "/nonexistent-px/t.dnstap", "x", why,
					       sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "cannot be created"));
	ck_assert_ptr_null(c.path);
	{
		char longp[200];

		memset(longp, 'a', sizeof(longp));
		memcpy(longp, "/tmp/", 5);
		longp[sizeof(longp) - 1] = '\0';
		ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "dnstap-socket", longp, "x", why,
						       sizeof(why)), -EINVAL);
	}
	ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "dnstap", "/tmp/px-unit.dnstap", "f:3", why,
					       sizeof(why)), 0);
	ck_assert_str_eq(c.path, "/tmp/px-unit.dnstap");
	ck_assert(!c.socket);
	ck_assert_str_eq(c.origin, "f:3");
	/* The last of the two given wins. */
	ck_assert_int_eq(ctl_dnstap_conf_apply(&c, "dnstap-socket", "/tmp/px-unit.sock", "f:4",
					       why, sizeof(why)), 0);
	ck_assert(c.socket);
	free(c.path);
}
END_TEST

START_TEST(test_config_file_names_line_of_unwritable_path)
{
	char path[] = "/tmp/px_dnstap_conf_XXXXXX", err[512];
	struct ctl_config cfg;
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fprintf(f, "ip: 198.18.0.53/24\n# logging\ndnstap: /nonexistent-px/q.dnstap\n");
	fclose(f);
	ctl_config_init(&cfg);
	ck_assert_int_eq(ctl_config_parse_file(&cfg, path, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, ":3: dnstap: '/nonexistent-px/q.dnstap'") != NULL, "%s", err);
	ctl_config_free(&cfg);
	unlink(path);
}
END_TEST

/* Reads every data frame of a Frame Streams file, checking its content type; returns how
 * many frames there were and decodes each with fn. */
static unsigned
read_frames(const char *path, void (*fn)(const Dnstap__Dnstap *d, void *arg), void *arg)
{
	struct fstrm_file_options *fopt = fstrm_file_options_init();
	struct fstrm_reader *rd;
	const struct fstrm_control *start;
	const uint8_t *data, *ct;
	size_t len, ct_len;
	unsigned n = 0;

	fstrm_file_options_set_file_path(fopt, path);
	rd = fstrm_file_reader_init(fopt, NULL);
	ck_assert_ptr_nonnull(rd);
	ck_assert_int_eq(fstrm_reader_open(rd), fstrm_res_success);
	ck_assert_int_eq(fstrm_reader_get_control(rd, FSTRM_CONTROL_START, &start),
			 fstrm_res_success);
	ck_assert_int_eq(fstrm_control_get_field_content_type(start, 0, &ct, &ct_len),
			 fstrm_res_success);
	ck_assert(ct_len == strlen(CTL_DNSTAP_CONTENT_TYPE) &&
		  memcmp(ct, CTL_DNSTAP_CONTENT_TYPE, ct_len) == 0);
	while (fstrm_reader_read(rd, &data, &len) == fstrm_res_success) {
		Dnstap__Dnstap *d = dnstap__dnstap__unpack(NULL, len, data);

		ck_assert_ptr_nonnull(d);
		fn(d, arg);
		dnstap__dnstap__free_unpacked(d, NULL);
		n++;
	}
	fstrm_reader_destroy(&rd);
	fstrm_file_options_destroy(&fopt);
	return n;
}

struct seen {
	unsigned queries, responses, next_id;
	bool in_order;
};

static void
count_frame(const Dnstap__Dnstap *d, void *arg)
{
	struct seen *s = arg;
	const Dnstap__Message *m = d->message;

	ck_assert_ptr_nonnull(m);
	if (m->type == DNSTAP__MESSAGE__TYPE__CLIENT_QUERY) {
		ck_assert(m->has_query_message && m->query_message.len >= 2);
		if (px_get16(m->query_message.data) != s->next_id)
			s->in_order = false;
		s->next_id++;
		s->queries++;
	} else if (m->type == DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE) {
		s->responses++;
	}
}

START_TEST(test_thread_writes_file_and_flushes_at_free)
{
	char path[] = "/tmp/px_dnstap_XXXXXX", err[256];
	struct ctl_dnstap_conf conf;
	struct ctl_dnstap *d;
	struct dp_lcore *lc = rte_zmalloc(NULL, sizeof(*lc), RTE_CACHE_LINE_SIZE);
	static const uint8_t client[4] = {198, 18, 0, 10};
	struct seen seen = {.in_order = true};
	uint8_t msg[512];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ctl_dnstap_conf_init(&conf);
	conf.path = path;
	snprintf(conf.origin, sizeof(conf.origin), "test");
	d = ctl_dnstap_create(&conf, 1, err, sizeof(err));
	ck_assert_msg(d != NULL, "%s", err);
	lc->ctx = &ctx;
	lc->tap = ctl_dnstap_worker(d, 0, SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(lc->tap);
	ck_assert_int_eq(ctl_dnstap_start(d, err, sizeof(err)), 0);
	/* More than a ring holds: the thread drains while the worker logs, so none is lost
	 * when the worker waits for room as a test may (a real worker would drop). */
	for (uint16_t i = 0; i < 3 * CTL_DNSTAP_RING_SIZE; i++) {
		uint16_t len = make_query(msg, i);

		while (px_tap_ring_claim(lc->tap->ring) == NULL)
			usleep(100);
		dp_tap_client(lc, PX_TAP_CLIENT_QUERY, 4, PX_TAP_UDP, client, 40000, msg, len);
	}
	{
		uint16_t len = make_query(msg, 0);

		msg[2] |= 0x80;
		while (px_tap_ring_claim(lc->tap->ring) == NULL)
			usleep(100);
		dp_tap_client(lc, PX_TAP_CLIENT_RESPONSE, 4, PX_TAP_UDP, client, 40000, msg, len);
	}
	ck_assert_uint_eq(lc->stats.dnstap_dropped, 0);
	ctl_dnstap_free(d); /* what the ring still holds is written, then the file closed */
	ck_assert_uint_eq(read_frames(path, count_frame, &seen), 3 * CTL_DNSTAP_RING_SIZE + 1);
	ck_assert_uint_eq(seen.queries, 3 * CTL_DNSTAP_RING_SIZE);
	ck_assert_uint_eq(seen.responses, 1);
	ck_assert(seen.in_order);
	rte_free(lc);
	unlink(path);
}
END_TEST

/* A reload: the thread switches files between two messages, each file holds its own and is
 * whole; new types and sample apply at the next message, and a path that cannot be opened is
 * refused at prepare, naming where it came from. */
START_TEST(test_reload_switches_file_types_and_sample)
{
	char a[] = "/tmp/px_dnstap_a_XXXXXX", b[] = "/tmp/px_dnstap_b_XXXXXX", err[256];
	struct ctl_dnstap_conf conf;
	struct ctl_dnstap_next *n;
	struct ctl_dnstap *d;
	struct dp_lcore *lc = rte_zmalloc(NULL, sizeof(*lc), RTE_CACHE_LINE_SIZE);
	struct seen sa = {.in_order = true}, sb = {.in_order = true, .next_id = 3};
	uint64_t logged;
	int fa = mkstemp(a), fb = mkstemp(b);

	ck_assert(fa >= 0 && fb >= 0);
	close(fa);
	close(fb);
	ctl_dnstap_conf_init(&conf);
	conf.path = a;
	snprintf(conf.origin, sizeof(conf.origin), "test");
	d = ctl_dnstap_create(&conf, 1, err, sizeof(err));
	ck_assert_msg(d != NULL, "%s", err);
	lc->ctx = &ctx;
	lc->tap = ctl_dnstap_worker(d, 0, SOCKET_ID_ANY);
	ck_assert_int_eq(ctl_dnstap_start(d, err, sizeof(err)), 0);
	for (uint16_t i = 0; i < 3; i++)
		log_client_query(lc, i);

	conf.path = (char *)"/proc/px-no-such-dir/x.dnstap";
	snprintf(conf.origin, sizeof(conf.origin), "pollux.conf:9");
	ck_assert_ptr_null(ctl_dnstap_prepare(&conf, true, err, sizeof(err)));
	ck_assert_msg(strstr(err, "pollux.conf:9: dnstap:") != NULL, "%s", err);

	conf.path = b;
	n = ctl_dnstap_prepare(&conf, true, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	ctl_dnstap_commit(d, n, true);
	while (!ctl_dnstap_switched(d))
		usleep(100);
	for (uint16_t i = 3; i < 5; i++)
		log_client_query(lc, i);

	/* Without reopen nothing is checked: a file that has become unwritable under the stream
	 * in use does not refuse a reload that keeps it. */
	conf.path = (char *)"/proc/px-no-such-dir/x.dnstap";
	n = ctl_dnstap_prepare(&conf, false, err, sizeof(err));
	ck_assert_ptr_nonnull(n);
	ctl_dnstap_next_free(n);
	conf.path = b;

	/* Queries off, no new destination: nothing more is logged. */
	conf.types = PX_TAP_BIT(PX_TAP_CLIENT_RESPONSE);
	n = ctl_dnstap_prepare(&conf, false, err, sizeof(err));
	ck_assert_ptr_nonnull(n);
	ctl_dnstap_commit(d, n, false);
	logged = lc->stats.dnstap_logged;
	log_client_query(lc, 5);
	ck_assert_uint_eq(lc->stats.dnstap_logged, logged);

	/* From 1 in 1000 to 1 in 2 while the countdown is long: the next message is logged, then
	 * one in two. */
	conf.types = CTL_DNSTAP_DEFAULT_TYPES;
	conf.sample = 1000;
	n = ctl_dnstap_prepare(&conf, false, err, sizeof(err));
	ck_assert_ptr_nonnull(n);
	ctl_dnstap_commit(d, n, false);
	log_client_query(lc, 5); /* logged: the first after the change */
	for (uint16_t i = 100; i < 110; i++)
		log_client_query(lc, i); /* the countdown is now 1000: none logged */
	conf.sample = 2;
	n = ctl_dnstap_prepare(&conf, false, err, sizeof(err));
	ck_assert_ptr_nonnull(n);
	ctl_dnstap_commit(d, n, false);
	log_client_query(lc, 6);
	log_client_query(lc, 200);
	log_client_query(lc, 7);
	ck_assert_uint_eq(lc->stats.dnstap_logged, logged + 3);

	ctl_dnstap_free(d);
	ck_assert_uint_eq(read_frames(a, count_frame, &sa), 3);
	ck_assert(sa.in_order);
	ck_assert_uint_eq(read_frames(b, count_frame, &sb), 5);
	ck_assert(sb.in_order);
	rte_free(lc);
	unlink(a);
	unlink(b);
}
END_TEST

START_TEST(test_create_refuses_unopenable_file)
{
	struct ctl_dnstap_conf conf;
	char err[256];

	ctl_dnstap_conf_init(&conf);
	conf.path = (char *)"/proc/px-no-such-dir/x.dnstap";
	snprintf(conf.origin, sizeof(conf.origin), "pollux.conf:7");
	ck_assert_ptr_null(ctl_dnstap_create(&conf, 1, err, sizeof(err)));
	ck_assert_msg(strstr(err, "pollux.conf:7: dnstap: '/proc/px-no-such-dir/x.dnstap'") != NULL,
		      "%s", err);
}
END_TEST

static Suite *
dnstap_suite(void)
{
	Suite *s = suite_create("dnstap");
	TCase *tc = tcase_create("encode");

	tcase_add_test(tc, test_encode_client_query_fields);
	tcase_add_test(tc, test_encode_resolver_response_ipv6_tcp);
	tcase_add_test(tc, test_encode_refuses_bad_record_and_small_buffer);
	tcase_add_test(tc, test_time_ns_before_and_after_base);
	suite_add_tcase(s, tc);
	tc = tcase_create("ring");
	tcase_add_test(tc, test_ring_full_drops_and_counts);
	tcase_add_test(tc, test_ring_keeps_order_across_threads);
	tcase_add_test(tc, test_long_message_keeps_header_and_question);
	suite_add_tcase(s, tc);
	tc = tcase_create("sample");
	tcase_add_test(tc, test_sample_logs_one_in_n_per_type);
	tcase_add_test(tc, test_types_switched_off_are_not_logged);
	suite_add_tcase(s, tc);
	tc = tcase_create("options");
	tcase_add_test(tc, test_options_parse_and_refuse);
	tcase_add_test(tc, test_config_file_names_line_of_unwritable_path);
	suite_add_tcase(s, tc);
	tc = tcase_create("thread");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_thread_writes_file_and_flushes_at_free);
	tcase_add_test(tc, test_reload_switches_file_types_and_sample);
	tcase_add_test(tc, test_create_refuses_unopenable_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	px_test_eal_init("test_dnstap", "0", NULL);
	inet_pton(AF_INET, "198.18.0.53", &ctx.port.ip4);
	ctx.port.has_ip4 = true;
	sr = srunner_create(dnstap_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
