/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The watchdog decision: pings every half interval while every worker's heartbeat moves, none
 * while one is stuck (and one at once when it moves again), parked workers alive, and READY's
 * "every worker polls". Time is simulated in control-loop ticks of 20 ms.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ctl_watchdog.h"

#define TICK_MS 20
#define STALL_MS 1000
#define WORKERS 3

struct sim {
	struct ctl_watchdog wd;
	uint64_t now;
	uint64_t beat[WORKERS];
	bool stuck[WORKERS];
	bool parked[WORKERS];
	unsigned pings, withheld_ticks;
};

static void
sim_init(struct sim *s, uint64_t watchdog_usec)
{
	memset(s, 0, sizeof(*s));
	s->now = 5000;
	ck_assert_int_eq(ctl_watchdog_init(&s->wd, watchdog_usec, STALL_MS, WORKERS, s->now), 0);
	for (unsigned i = 0; i < WORKERS; i++)
		s->beat[i] = 1000 + i; /* each stored its entry TSC */
}

/* Runs ms of ticks: each worker not stuck or parked moves its heartbeat, then the control
 * thread observes them all and asks for the verdict. */
static void
sim_run(struct sim *s, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += TICK_MS) {
		s->now += TICK_MS;
		for (unsigned i = 0; i < WORKERS; i++) {
			if (!s->stuck[i] && !s->parked[i])
				s->beat[i] += 12345;
			ctl_watchdog_observe(&s->wd, i, s->beat[i], s->parked[i], s->now);
		}
		switch (ctl_watchdog_check(&s->wd, s->now)) {
		case CTL_WATCHDOG_PING:
			s->pings++;
			break;
		case CTL_WATCHDOG_WITHHOLD:
			s->withheld_ticks++;
			break;
		case CTL_WATCHDOG_WAIT:
			break;
		}
	}
}

START_TEST(test_ctl_watchdog_pings_at_half_interval)
{
	struct sim s;

	sim_init(&s, 2000000); /* WATCHDOG_USEC=2 s: a ping a second */
	ck_assert_uint_eq(s.wd.period_ms, 1000);
	sim_run(&s, TICK_MS);
	ck_assert_uint_eq(s.pings, 1); /* the first at once */
	sim_run(&s, 10000 - TICK_MS);
	ck_assert_uint_eq(s.pings, 10);
	ck_assert_uint_eq(s.withheld_ticks, 0);
	ck_assert_uint_eq(s.wd.pings, 10);
	ctl_watchdog_free(&s.wd);
}
END_TEST

START_TEST(test_ctl_watchdog_stuck_worker_no_ping)
{
	struct sim s;
	unsigned before;

	sim_init(&s, 2000000);
	sim_run(&s, 3000);
	ck_assert_int_eq(ctl_watchdog_stuck(&s.wd, s.now), -1);
	before = s.pings;
	s.stuck[1] = true;
	/* Within the stall limit it is still pinged for... */
	sim_run(&s, STALL_MS - TICK_MS);
	ck_assert_int_eq(ctl_watchdog_stuck(&s.wd, s.now), -1);
	/* ...then never again while it stays stuck: long past the interval, so systemd would
	 * have restarted pollux. */
	sim_run(&s, 10000);
	ck_assert_int_eq(ctl_watchdog_stuck(&s.wd, s.now), 1);
	ck_assert_uint_le(s.pings, before + 1);
	unsigned stuck_pings = s.pings;

	sim_run(&s, 5000);
	ck_assert_uint_eq(s.pings, stuck_pings);
	ck_assert_uint_gt(s.withheld_ticks, 0);
	ck_assert_uint_eq(s.wd.withheld, 1); /* one episode */
	ck_assert(s.wd.withholding);
	/* It moves again: a ping at the very next tick, not half an interval later. */
	s.stuck[1] = false;
	sim_run(&s, TICK_MS);
	ck_assert_uint_eq(s.pings, stuck_pings + 1);
	ck_assert(!s.wd.withholding);
	sim_run(&s, 3000);
	ck_assert_uint_ge(s.pings, stuck_pings + 3);
	ctl_watchdog_free(&s.wd);
}
END_TEST

START_TEST(test_ctl_watchdog_never_started_worker)
{
	struct ctl_watchdog wd;

	/* A worker whose heartbeat stays 0 never polled: stuck once the stall limit passes. */
	ck_assert_int_eq(ctl_watchdog_init(&wd, 2000000, STALL_MS, 2, 0), 0);
	for (uint64_t t = 20; t <= 3000; t += 20) {
		ctl_watchdog_observe(&wd, 0, t, false, t);
		ctl_watchdog_observe(&wd, 1, 0, false, t);
	}
	ck_assert(!ctl_watchdog_polling(&wd));
	ck_assert_int_eq(ctl_watchdog_stuck(&wd, 3000), 1);
	ck_assert_int_eq(ctl_watchdog_check(&wd, 3000), CTL_WATCHDOG_WITHHOLD);
	ctl_watchdog_free(&wd);
}
END_TEST

START_TEST(test_ctl_watchdog_parked_is_alive)
{
	struct sim s;
	unsigned before;

	sim_init(&s, 2000000);
	sim_run(&s, 2000);
	before = s.pings;
	s.parked[0] = true;
	s.parked[2] = true;
	sim_run(&s, 10000);
	ck_assert_int_eq(ctl_watchdog_stuck(&s.wd, s.now), -1);
	ck_assert_uint_eq(s.withheld_ticks, 0);
	ck_assert_uint_ge(s.pings, before + 9);
	ctl_watchdog_free(&s.wd);
}
END_TEST

START_TEST(test_ctl_watchdog_off)
{
	struct sim s;

	sim_init(&s, 0);
	sim_run(&s, 5000);
	ck_assert_uint_eq(s.pings, 0);
	s.stuck[0] = true;
	sim_run(&s, 5000);
	ck_assert_uint_eq(s.pings + s.withheld_ticks, 0);
	/* The heartbeats are still followed, for READY=1. */
	ck_assert(ctl_watchdog_polling(&s.wd));
	ck_assert_int_eq(ctl_watchdog_stuck(&s.wd, s.now), 0);
	ctl_watchdog_free(&s.wd);
}
END_TEST

START_TEST(test_ctl_watchdog_polling)
{
	struct ctl_watchdog wd;

	ck_assert_int_eq(ctl_watchdog_init(&wd, 0, STALL_MS, 2, 0), 0);
	ck_assert(!ctl_watchdog_polling(&wd));
	/* Not started, then the entry TSC: neither is a poll. */
	ctl_watchdog_observe(&wd, 0, 0, false, 10);
	ctl_watchdog_observe(&wd, 1, 0, false, 10);
	ctl_watchdog_observe(&wd, 0, 500, false, 20);
	ctl_watchdog_observe(&wd, 1, 700, false, 20);
	ck_assert(!ctl_watchdog_polling(&wd));
	ctl_watchdog_observe(&wd, 0, 900, false, 30);
	ctl_watchdog_observe(&wd, 1, 700, false, 30);
	ck_assert(!ctl_watchdog_polling(&wd));
	ctl_watchdog_observe(&wd, 1, 1100, false, 40);
	ck_assert(ctl_watchdog_polling(&wd));
	/* Out-of-range workers are ignored. */
	ctl_watchdog_observe(&wd, 2, 1, false, 50);
	ctl_watchdog_free(&wd);
}
END_TEST

START_TEST(test_ctl_watchdog_tiny_interval)
{
	struct sim s;

	/* Under 2 ms: a ping every tick rather than a zero period that would mean "off". */
	sim_init(&s, 500);
	ck_assert_uint_eq(s.wd.period_ms, 1);
	sim_run(&s, 200);
	ck_assert_uint_eq(s.pings, 10);
	ctl_watchdog_free(&s.wd);
}
END_TEST

static Suite *
watchdog_suite(void)
{
	Suite *s = suite_create("watchdog");
	TCase *tc = tcase_create("decision");

	tcase_add_test(tc, test_ctl_watchdog_pings_at_half_interval);
	tcase_add_test(tc, test_ctl_watchdog_stuck_worker_no_ping);
	tcase_add_test(tc, test_ctl_watchdog_never_started_worker);
	tcase_add_test(tc, test_ctl_watchdog_parked_is_alive);
	tcase_add_test(tc, test_ctl_watchdog_off);
	tcase_add_test(tc, test_ctl_watchdog_polling);
	tcase_add_test(tc, test_ctl_watchdog_tiny_interval);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(watchdog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
