/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The health verdict (ctl_health.h): each reason alone over a snapshot, all of them at once,
 * and, with a worker running the real loop (dp_loop_run) on a net_ring port, that its
 * heartbeat keeps it healthy and that parking it is reported within the poll limit. The loop's
 * stall counters: the buckets, and a real stall (the worker's thread held in a signal handler)
 * counted.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <pollux/hints.h>

#include "ctl_config.h"
#include "ctl_health.h"
#include "ctl_probe.h"
#include "ctl_stats.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_worker.h"
#include "testlib.h"

static struct ctl_health_worker two_workers[2] = {
	{.lcore_id = 1, .poll_age_ms = 3}, {.lcore_id = 2, .poll_age_ms = 0},
};

/* Healthy in every respect: two workers that just polled, link up, hints, a resolution 5 s ago
 * within a 60 s window. */
static struct ctl_health_snap
healthy(void)
{
	struct ctl_health_snap s = {
		.worker_count = 2, .workers = two_workers, .link_up = true, .hints_loaded = true,
		.recursion = true, .resolve_window_s = 60, .resolved_ever = true,
		.resolve_age_ms = 5000,
	};
	return s;
}

static char text[4096];

/* The verdict's text in `text`; returns the number of reasons. */
static unsigned
verdict(const struct ctl_health_snap *s)
{
	FILE *f = fmemopen(text, sizeof(text), "w");
	unsigned n;

	ck_assert_ptr_nonnull(f);
	n = ctl_health_verdict(s, f);
	fclose(f);
	return n;
}

START_TEST(test_ctl_health_verdict_ok)
{
	struct ctl_health_snap s = healthy();

	ck_assert_uint_eq(verdict(&s), 0);
	ck_assert_str_eq(text, "ok\n");
	/* A worker exactly at the limit still counts as polling. */
	two_workers[1].poll_age_ms = CTL_HEALTH_POLL_MS;
	ck_assert_uint_eq(verdict(&s), 0);
	two_workers[1].poll_age_ms = 0;
	/* Recursion off, or the window check off: no resolution needed. */
	s.resolved_ever = false;
	s.recursion = false;
	ck_assert_uint_eq(verdict(&s), 0);
	s.recursion = true;
	s.resolve_window_s = 0;
	ck_assert_uint_eq(verdict(&s), 0);
	ck_assert_str_eq(text, "ok\n");
}
END_TEST

START_TEST(test_ctl_health_verdict_worker_late)
{
	struct ctl_health_worker w[2] = {
		{.lcore_id = 1, .poll_age_ms = 0},
		{.lcore_id = 2, .poll_age_ms = CTL_HEALTH_POLL_MS + 1},
	};
	struct ctl_health_snap s = healthy();

	s.workers = w;
	ck_assert_uint_eq(verdict(&s), 1);
	ck_assert_str_eq(text, "worker 1 (lcore 2) has not polled for 1001 ms (stuck or "
			 "descheduled)\n");
	w[1].parked = true;
	ck_assert_uint_eq(verdict(&s), 1);
	ck_assert_str_eq(text, "worker 1 (lcore 2) has not polled for 1001 ms (parked)\n");
	w[0].poll_age_ms = UINT64_MAX;
	ck_assert_uint_eq(verdict(&s), 2);
	ck_assert_str_eq(text, "worker 0 (lcore 1) has never polled\n"
			 "worker 1 (lcore 2) has not polled for 1001 ms (parked)\n");
}
END_TEST

START_TEST(test_ctl_health_verdict_link_down)
{
	struct ctl_health_snap s = healthy();

	s.link_up = false;
	ck_assert_uint_eq(verdict(&s), 1);
	ck_assert_str_eq(text, "link down\n");
}
END_TEST

START_TEST(test_ctl_health_verdict_no_hints)
{
	struct ctl_health_snap s = healthy();

	s.hints_loaded = false;
	ck_assert_uint_eq(verdict(&s), 1);
	ck_assert_str_eq(text, "no root hints loaded\n");
}
END_TEST

START_TEST(test_ctl_health_verdict_resolution)
{
	struct ctl_health_snap s = healthy();

	s.resolve_age_ms = 60000;
	ck_assert_uint_eq(verdict(&s), 0);
	s.resolve_age_ms = 60001;
	ck_assert_uint_eq(verdict(&s), 1);
	ck_assert_str_eq(text, "no resolution has succeeded for 60 s (window 60 s)\n");
	s.resolved_ever = false;
	ck_assert_uint_eq(verdict(&s), 1);
	ck_assert_str_eq(text, "no resolution has succeeded since start\n");
}
END_TEST

START_TEST(test_ctl_health_verdict_every_reason)
{
	struct ctl_health_worker w = {.lcore_id = 7, .poll_age_ms = 5000};
	struct ctl_health_snap s = {
		.worker_count = 1, .workers = &w, .recursion = true, .resolve_window_s = 10,
	};

	ck_assert_uint_eq(verdict(&s), 4);
	ck_assert_str_eq(text, "worker 0 (lcore 7) has not polled for 5000 ms (stuck or "
			 "descheduled)\nlink down\nno root hints loaded\n"
			 "no resolution has succeeded since start\n");
}
END_TEST

/* A probe is due once half the window passed without a success or a probe; never with the
 * window off. */
START_TEST(test_ctl_health_probe_due)
{
	struct ctl_health h = {0};

	ck_assert(!ctl_health_probe_due(&h, 60, 29999));
	ck_assert(ctl_health_probe_due(&h, 60, 30000));
	ck_assert(!ctl_health_probe_due(&h, 0, 1000000));
	h.resolved_ever = true;
	h.last_resolved_ms = 100000;
	ck_assert(!ctl_health_probe_due(&h, 60, 129999));
	ck_assert(ctl_health_probe_due(&h, 60, 130000));
	h.probe_ms = 130000;
	ck_assert(!ctl_health_probe_due(&h, 60, 159999));
	ck_assert(ctl_health_probe_due(&h, 60, 160000));
	ck_assert(ctl_health_probe_due(&h, 1, 160500));
}
END_TEST

START_TEST(test_ctl_probe_parse)
{
	static const uint8_t www[] = {3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
				      'c', 'o', 'm', 0};
	struct ctl_probe_question q;
	char why[256], long_name[300];

	ck_assert_int_eq(ctl_probe_parse(". NS", &q, why, sizeof(why)), 0);
	ck_assert_uint_eq(q.qname_len, 1);
	ck_assert_uint_eq(q.qname[0], 0);
	ck_assert_uint_eq(q.qtype, 2);
	ck_assert_int_eq(ctl_probe_parse("WWW.Example.com.  aaaa", &q, why, sizeof(why)), 0);
	ck_assert_uint_eq(q.qname_len, sizeof(www));
	ck_assert_mem_eq(q.qname, www, sizeof(www));
	ck_assert_uint_eq(q.qtype, 28);
	ck_assert_int_eq(ctl_probe_parse("www.example.com", &q, why, sizeof(why)), 0);
	ck_assert_uint_eq(q.qtype, 1);
	ck_assert_int_eq(ctl_probe_parse("example.com TYPE65", &q, why, sizeof(why)), 0);
	ck_assert_uint_eq(q.qtype, 65);
	/* Bad names and types. */
	ck_assert_int_eq(ctl_probe_parse("a..b NS", &q, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "NAME is not a domain name (labels of 1-63 printable characters, "
			 "255 octets at most)");
	ck_assert_int_eq(ctl_probe_parse("", &q, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(ctl_probe_parse(".. NS", &q, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(ctl_probe_parse("a\\.b", &q, why, sizeof(why)), -EINVAL);
	memset(long_name, 'a', 64);
	strcpy(long_name + 64, ".com");
	ck_assert_int_eq(ctl_probe_parse(long_name, &q, why, sizeof(why)), -EINVAL);
	for (int i = 0; i < 128; i++)
		memcpy(long_name + 2 * i, "a.", 2);
	long_name[256] = '\0';
	ck_assert_int_eq(ctl_probe_parse(long_name, &q, why, sizeof(why)), -EINVAL);
	long_name[2 * 127] = '\0'; /* 127 labels: 254 octets and the root, 255 */
	ck_assert_int_eq(ctl_probe_parse(long_name, &q, why, sizeof(why)), 0);
	ck_assert_uint_eq(q.qname_len, 255);
	ck_assert_int_eq(ctl_probe_parse("example.com NOPE", &q, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "expected NAME [TYPE], TYPE a mnemonic (A, NS, MX, ...) or TYPEn");
	ck_assert_int_eq(ctl_probe_parse("example.com A extra", &q, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(ctl_probe_parse("example.com TYPE41", &q, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(ctl_probe_parse("example.com TYPE252", &q, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(ctl_probe_parse("example.com TYPE0", &q, why, sizeof(why)), -EINVAL);
}
END_TEST

/* The rig: one worker polling a net_ring port with nothing to receive. */
static struct dp_ctx ctx;
static struct dp_lcore *worker;
static struct ctl_config cfg;
static struct ctl_state st;
static struct ctl_health health;

static int
report(void)
{
	FILE *f = fmemopen(text, sizeof(text), "w");
	int rc;

	ck_assert_ptr_nonnull(f);
	rc = ctl_health_report(&health, &st, f);
	fclose(f);
	return rc;
}

/* Waits up to 2 s for the report to be healthy again. */
static int
report_until_ok(void)
{
	int rc = report();

	for (int i = 0; i < 200 && rc != 0; i++) {
		usleep(10000);
		rc = report();
	}
	return rc;
}

START_TEST(test_ctl_health_report_parked_worker)
{
	uint64_t t0;

	ck_assert_int_eq(report_until_ok(), 0);
	ck_assert_str_eq(text, "ok\n");
	/* Park the worker the way a port restart does, and keep it parked past the limit. */
	__atomic_store_n(&ctx.pause, true, __ATOMIC_SEQ_CST);
	t0 = dp_clock_ms();
	while (!__atomic_load_n(&worker->parked, __ATOMIC_SEQ_CST))
		ck_assert_uint_lt(dp_clock_ms() - t0, 5000);
	usleep((CTL_HEALTH_POLL_MS + 200) * 1000);
	ck_assert_int_eq(report(), 1);
	ck_assert_msg(strstr(text, "worker 0 (lcore ") == text, "%s", text);
	ck_assert_msg(strstr(text, "has not polled for") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "(parked)\n") != NULL, "%s", text);
	/* The link is fine and the worker alone is the reason. */
	ck_assert_ptr_null(strstr(text, "link"));
	__atomic_store_n(&ctx.pause, false, __ATOMIC_SEQ_CST);
	ck_assert_int_eq(report_until_ok(), 0);
	ck_assert_str_eq(text, "ok\n");
}
END_TEST

START_TEST(test_loop_count_gap)
{
	const uint64_t hz = 1000000000; /* 1 GHz: 1 us = 1000 cycles */
	struct px_stats gaps = {0};

	dp_loop_count_gap(&gaps, 99999, hz);
	ck_assert_uint_eq(gaps.poll_gap_100us + gaps.poll_gap_1ms + gaps.poll_gap_10ms, 0);
	dp_loop_count_gap(&gaps, 100000, hz);
	ck_assert_uint_eq(gaps.poll_gap_100us, 1);
	ck_assert_uint_eq(gaps.poll_gap_1ms, 0);
	dp_loop_count_gap(&gaps, 999999, hz);
	ck_assert_uint_eq(gaps.poll_gap_100us, 2);
	ck_assert_uint_eq(gaps.poll_gap_1ms, 0);
	dp_loop_count_gap(&gaps, 1000000, hz);
	ck_assert_uint_eq(gaps.poll_gap_100us, 3);
	ck_assert_uint_eq(gaps.poll_gap_1ms, 1);
	ck_assert_uint_eq(gaps.poll_gap_10ms, 0);
	dp_loop_count_gap(&gaps, 10000000, hz);
	dp_loop_count_gap(&gaps, UINT64_MAX, hz);
	ck_assert_uint_eq(gaps.poll_gap_100us, 5);
	ck_assert_uint_eq(gaps.poll_gap_1ms, 3);
	ck_assert_uint_eq(gaps.poll_gap_10ms, 2);
}
END_TEST

/* Holds the thread it interrupts for 30 ms: what a worker preempted by the kernel looks like
 * to its loop. nanosleep is async-signal-safe; a wake-up too early sleeps the rest. */
static void
hold_thread(int sig)
{
	struct timespec left = {.tv_sec = 0, .tv_nsec = 30 * 1000 * 1000};
	int saved = errno;

	(void)sig;
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
	errno = saved;
}

/* The kernel thread id of the EAL thread running lcore, by its name (rte-worker-N), or -1. */
static pid_t
lcore_tid(unsigned lcore)
{
	char want[32], path[320], comm[32];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	pid_t tid = -1;

	snprintf(want, sizeof(want), "rte-worker-%u\n", lcore);
	if (dir == NULL)
		return -1;
	while (tid < 0 && (d = readdir(dir)) != NULL) {
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL && strcmp(comm, want) == 0)
			tid = (pid_t)atoi(d->d_name);
		fclose(f);
	}
	closedir(dir);
	return tid;
}

START_TEST(test_loop_counts_a_stall)
{
	struct sigaction sa = {.sa_handler = hold_thread};
	uint64_t g100 = __atomic_load_n(&worker->stats.poll_gap_100us, __ATOMIC_RELAXED);
	uint64_t g1 = __atomic_load_n(&worker->stats.poll_gap_1ms, __ATOMIC_RELAXED);
	uint64_t g10 = __atomic_load_n(&worker->stats.poll_gap_10ms, __ATOMIC_RELAXED);
	pid_t tid = lcore_tid(worker->lcore_id);
	uint64_t t0;

	ck_assert_msg(tid > 0, "no thread named rte-worker-%u", worker->lcore_id);
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	ck_assert_int_eq(syscall(SYS_tgkill, getpid(), tid, SIGUSR1), 0);
	/* The worker polls again once the handler returns: that poll is 30 ms after the last. */
	t0 = dp_clock_ms();
	while (__atomic_load_n(&worker->stats.poll_gap_10ms, __ATOMIC_RELAXED) == g10) {
		ck_assert_uint_lt(dp_clock_ms() - t0, 5000);
		usleep(1000);
	}
	ck_assert_uint_gt(__atomic_load_n(&worker->stats.poll_gap_1ms, __ATOMIC_RELAXED), g1);
	ck_assert_uint_gt(__atomic_load_n(&worker->stats.poll_gap_100us, __ATOMIC_RELAXED), g100);
	signal(SIGUSR1, SIG_DFL);
}
END_TEST

START_TEST(test_ctl_health_report_link_and_hints)
{
	struct px_hints *h = ctx.hints;

	st.link_up = false;
	ck_assert_int_eq(report(), 1);
	ck_assert_str_eq(text, "link down\n");
	st.link_up = true;
	__atomic_store_n(&ctx.hints, NULL, __ATOMIC_RELEASE);
	ck_assert_int_eq(report(), 1);
	ck_assert_str_eq(text, "no root hints loaded\n");
	__atomic_store_n(&ctx.hints, h, __ATOMIC_RELEASE);
	ck_assert_int_eq(report_until_ok(), 0);
}
END_TEST

START_TEST(test_ctl_health_tick_dates_resolutions)
{
	struct ctl_health h = {0};

	ctl_health_tick(&h, &st, 1000);
	ck_assert(!h.resolved_ever);
	/* The counter the worker bumps when a resolution is answered (its own, or priming). */
	__atomic_fetch_add(&worker->stats.rec_answered, 1, __ATOMIC_RELAXED);
	ctl_health_tick(&h, &st, 2000);
	ck_assert(h.resolved_ever);
	ck_assert_uint_eq(h.last_resolved_ms, 2000);
	ctl_health_tick(&h, &st, 3000);
	ck_assert_uint_eq(h.last_resolved_ms, 2000);
	__atomic_fetch_add(&worker->stats.rec_answered, 2, __ATOMIC_RELAXED);
	ctl_health_tick(&h, &st, 4000);
	ck_assert_uint_eq(h.last_resolved_ms, 4000);
}
END_TEST

static Suite *
health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("verdict");

	tcase_add_test(tc, test_ctl_health_verdict_ok);
	tcase_add_test(tc, test_ctl_health_verdict_worker_late);
	tcase_add_test(tc, test_ctl_health_verdict_link_down);
	tcase_add_test(tc, test_ctl_health_verdict_no_hints);
	tcase_add_test(tc, test_ctl_health_verdict_resolution);
	tcase_add_test(tc, test_ctl_health_verdict_every_reason);
	tcase_add_test(tc, test_ctl_health_probe_due);
	tcase_add_test(tc, test_ctl_probe_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("report");
	tcase_add_test(tc, test_ctl_health_report_parked_worker);
	tcase_add_test(tc, test_ctl_health_report_link_and_hints);
	tcase_add_test(tc, test_ctl_health_tick_dates_resolutions);
	tcase_add_test(tc, test_loop_count_gap);
	tcase_add_test(tc, test_loop_counts_a_stall);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

static void
setup(struct rte_mempool **pool)
{
	/* A worker that does not resolve (recursion off): its loop is what the health checks
	 * watch. */
	const struct dp_worker_ctx_conf cc = {.name = "test_health", .cache_size = 64};
	struct rte_ring *rx, *tx;

	px_test_eal_init("test_health", "0,1", NULL);
	dp_clock_init();
	*pool = rte_pktmbuf_pool_create("test_health_pool", 1023, 32, 0,
					RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	ctx.port.port_id = px_test_ring_port("net_ring_health", *pool, &rx, &tx);
	if (dp_worker_ctx_build(&ctx, &cc) != 0)
		rte_exit(2, "test_health: cannot build the worker's shared state\n");
	ctx.hints = calloc(1, px_hints_size(1));
	ctx.hints->ns_count = 1;

	ctl_config_init(&cfg);
	worker = dp_worker_build(&(struct dp_worker_conf){
		.ctx = &ctx, .lcore_id = rte_get_next_lcore(-1, 1, 0), .pool = *pool,
		.now_ms = dp_clock_ms(),
	});
	if (worker == NULL)
		rte_exit(2, "test_health: dp_worker_build: %s\n", strerror(errno));
	st.cfg = &cfg;
	st.ctx = &ctx;
	st.workers = &worker;
	st.worker_count = 1;
	st.link_up = true;
	rte_eal_remote_launch(dp_loop_run, worker, worker->lcore_id);
}

int
main(void)
{
	struct rte_mempool *pool;
	SRunner *sr;
	int failed;

	setup(&pool);
	sr = srunner_create(health_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	__atomic_store_n(&ctx.stop, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	free(ctx.hints);
	dp_worker_free(worker);
	dp_worker_ctx_free(&ctx);
	rte_mempool_free(pool);
	ctl_config_free(&cfg);
	rte_eal_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
