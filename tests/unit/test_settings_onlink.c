/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What recursion the workers get from the configuration (ctl_settings_recurse_conf): through a
 * gateway, or, without any gateway, to on-link nameservers only, with every family pollux has an
 * address of. Pure: the control thread's settings code, no EAL.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_config.h"
#include "ctl_settings.h"
#include "dp_miss.h"

static struct ctl_config cfg;
static struct dp_miss_conf rc;
static char err[512];

static int
parse(const char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return ctl_config_parse_args(&cfg, argc, (char **)argv, err, sizeof(err));
}

#define PARSE(...) parse((const char *[]){"pollux", __VA_ARGS__, NULL})

static void
setup(void)
{
	ctl_config_init(&cfg);
	memset(&rc, 0, sizeof(rc));
	err[0] = '\0';
}

static void
teardown(void)
{
	ctl_config_free(&cfg);
}

/* No gateway at all: recursion on, both families, no gateway in the workers' conf. */
START_TEST(test_settings_recurse_without_gateway)
{
	ck_assert_int_eq(PARSE("--ip", "198.18.0.2/24", "--ip6", "2001:2::2/64"), 0);
	ck_assert_int_eq(ctl_config_validate(&cfg, err, sizeof(err)), 0);
	ck_assert(ctl_settings_recurse_conf(&cfg, &rc));
	ck_assert(!rc.has_gw4);
	ck_assert(!rc.has_gw6);
	ck_assert(rc.resolve.use_ipv4);
	ck_assert(rc.resolve.use_ipv6);
}
END_TEST

/* Only IPv4 and no gateway: IPv4 alone. */
START_TEST(test_settings_recurse_without_gateway_v4_only)
{
	ck_assert_int_eq(PARSE("--ip", "198.18.0.2/24"), 0);
	ck_assert(ctl_settings_recurse_conf(&cfg, &rc));
	ck_assert(rc.resolve.use_ipv4);
	ck_assert(!rc.resolve.use_ipv6);
}
END_TEST

/* A gateway of one family: that family alone, as ever (the other has no route off-link). */
START_TEST(test_settings_recurse_gateway_family_only)
{
	ck_assert_int_eq(PARSE("--ip", "198.18.0.2/24", "--ip6", "2001:2::2/64", "--gateway",
			       "198.18.0.1"), 0);
	ck_assert(ctl_settings_recurse_conf(&cfg, &rc));
	ck_assert(rc.has_gw4);
	ck_assert(!rc.has_gw6);
	ck_assert(rc.resolve.use_ipv4);
	ck_assert(!rc.resolve.use_ipv6);
}
END_TEST

/* --recursion no is still off. */
START_TEST(test_settings_recursion_off)
{
	ck_assert_int_eq(PARSE("--ip", "198.18.0.2/24", "--recursion", "no"), 0);
	ck_assert(!ctl_settings_recurse_conf(&cfg, &rc));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("settings_onlink");
	TCase *tc = tcase_create("recurse_conf");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_settings_recurse_without_gateway);
	tcase_add_test(tc, test_settings_recurse_without_gateway_v4_only);
	tcase_add_test(tc, test_settings_recurse_gateway_family_only);
	tcase_add_test(tc, test_settings_recursion_off);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
