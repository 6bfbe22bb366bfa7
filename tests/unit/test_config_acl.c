/* SPDX-License-Identifier: BSD-3-Clause */
/* The access-control and ratelimit options (ctl_config_acl.c, through ctl_config.c's parser):
 * good values, every bad-input case named by its line, and what a reload compares. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "ctl_config.h"

static struct ctl_config cfg;
static char err[1024];
static char tmp_path[64];

static void
setup(void)
{
	ctl_config_init(&cfg);
	err[0] = '\0';
	tmp_path[0] = '\0';
}

static void
teardown(void)
{
	ctl_config_free(&cfg);
	if (tmp_path[0] != '\0')
		unlink(tmp_path);
}

static int
parse_argv(struct ctl_config *c, const char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	err[0] = '\0';
	return ctl_config_parse_args(c, argc, (char **)argv, err, sizeof(err));
}

#define PARSE(...) parse_argv(&cfg, (const char *[]){ "pollux", __VA_ARGS__, NULL })

static const char *
write_tmp(const char *content)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/pollux-test-acl-XXXXXX");
	fd = mkstemp(tmp_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return tmp_path;
}

START_TEST(test_ctl_config_acl_defaults)
{
	struct px_rl_params p = ctl_config_rl_params(&cfg);

	ck_assert_uint_eq(cfg.acl_rule_count, 0);
	ck_assert_uint_eq(cfg.ratelimit, 0);
	ck_assert_uint_eq(p.rate, 0);
	ck_assert_uint_eq(p.slip, CTL_DEFAULT_RATELIMIT_SLIP);
	ck_assert_uint_eq(p.v4_prefix, 32);
	ck_assert_uint_eq(p.v6_prefix, 56);
	ck_assert_uint_eq(cfg.ratelimit_size, 65536);
}
END_TEST

START_TEST(test_ctl_config_acl_file_and_command_line)
{
	const char *path = write_tmp("ip: 198.18.0.2/24\n"
				     "access-control: 198.19.0.0/16 allow\n"
				     "# a comment\n"
				     "access-control: \"2001:db8::/32 refuse\"\n"
				     "ratelimit: 100\n"
				     "ratelimit-slip: 3\n"
				     "ratelimit-ipv6-prefix: 48\n");
	char want[128];

	ck_assert_int_eq(PARSE("--config", path, "--access-control", "203.0.113.0/24 drop",
			       "--ratelimit", "50"), 0);
	ck_assert_uint_eq(cfg.acl_rule_count, 3);
	snprintf(want, sizeof(want), "%s:2", path);
	ck_assert_str_eq(cfg.acl_rules[0].origin, want);
	ck_assert_uint_eq(cfg.acl_rules[0].len, 16);
	snprintf(want, sizeof(want), "%s:4", path);
	ck_assert_str_eq(cfg.acl_rules[1].origin, want);
	ck_assert_uint_eq(cfg.acl_rules[1].action, PX_ACL_REFUSE);
	ck_assert_str_eq(cfg.acl_rules[2].origin, "command line");
	ck_assert_uint_eq(cfg.acl_rules[2].action, PX_ACL_DROP);
	/* The command line overrides the file's rate; burst defaults to the rate. */
	struct px_rl_params p = ctl_config_rl_params(&cfg);

	ck_assert_uint_eq(p.rate, 50);
	ck_assert_uint_eq(p.burst, 50);
	ck_assert_uint_eq(p.slip, 3);
	ck_assert_uint_eq(p.v6_prefix, 48);
}
END_TEST

START_TEST(test_ctl_config_acl_same_prefix_same_action_once)
{
	ck_assert_int_eq(PARSE("--access-control", "192.0.2.0/24 allow", "--access-control",
			       "192.0.2.0/24  allow", "--access-control", "192.0.2.0/25 refuse"), 0);
	ck_assert_uint_eq(cfg.acl_rule_count, 2);
}
END_TEST

static const struct {
	const char *file, *err;
} bad_files[] = {
	{"access-control: 192.0.2.0/24\n", ":1: access-control: '192.0.2.0/24': expected 'NET ACTION'"},
	{"\naccess-control: 192.0.2.0/24 permit\n", ":2: access-control: '192.0.2.0/24 permit': unknown action 'permit'"},
	{"access-control: 192.0.2.1/24 allow\n", ":1: access-control: '192.0.2.1/24 allow': '192.0.2.1/24' has host bits set beyond /24"},
	{"access-control: 192.0.2.0/24 allow\n#\naccess-control: 192.0.2.0/24 drop\n", ":3: access-control: '192.0.2.0/24 drop': the same prefix is 'allow' at "},
	{"access-control: 2001:db8::/200 allow\n", ":1: access-control: '2001:db8::/200 allow': prefix length '200' must be 0-128"},
	{"access-control:\n", ":1: access-control: missing value"},
	{"ratelimit: -1\n", ":1: ratelimit: '-1': not a decimal number"},
	{"ratelimit: 1000001\n", ":1: ratelimit: '1000001': must be 0-1000000"},
	{"ratelimit-slip: 1001\n", ":1: ratelimit-slip: '1001': must be 0-1000"},
	{"ratelimit-ipv6-prefix: 0\n", ":1: ratelimit-ipv6-prefix: '0': must be 1-128"},
	{"ratelimit-ipv4-prefix: 33\n", ":1: ratelimit-ipv4-prefix: '33': must be 1-32"},
	{"ratelimit-size: 1000\n", ":1: ratelimit-size: '1000': must be 1024-16777216"},
	{"ratelimit-burst: x\n", ":1: ratelimit-burst: 'x': not a decimal number"},
};

START_TEST(test_ctl_config_acl_bad_lines_named)
{
	const char *path = write_tmp(bad_files[_i].file);
	char want[256];

	ck_assert_int_eq(PARSE("--config", path), -EINVAL);
	snprintf(want, sizeof(want), "%s%s", path, bad_files[_i].err);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got '%s', want '%s'", err, want);
}
END_TEST

START_TEST(test_ctl_config_acl_command_line_conflict)
{
	const char *path = write_tmp("access-control: 10.0.0.0/8 allow\n");

	ck_assert_int_eq(PARSE("--config", path, "--access-control", "10.0.0.0/8 refuse"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--access-control: '10.0.0.0/8 refuse': the same prefix "
				     "is 'allow' at "));
	ck_assert_ptr_nonnull(strstr(err, ":1"));
}
END_TEST

/* The limit is documented (PX_ACL_MAX_CONFIGURED): that many rules are taken, one more is not. */
START_TEST(test_ctl_config_acl_rule_limit)
{
	size_t cap = (size_t)(PX_ACL_MAX_CONFIGURED + 1) * 48;
	char *text = malloc(cap), *p = text;

	ck_assert_ptr_nonnull(text);
	for (unsigned i = 0; i < PX_ACL_MAX_CONFIGURED; i++)
		p += sprintf(p, "access-control: 10.%u.%u.0/24 allow\n", i >> 8, i & 0xff);
	*p = '\0';
	const char *path = write_tmp(text);

	ck_assert_int_eq(PARSE("--config", path), 0);
	ck_assert_uint_eq(cfg.acl_rule_count, PX_ACL_MAX_CONFIGURED);
	ctl_config_free(&cfg);
	ctl_config_init(&cfg);
	ck_assert_int_eq(PARSE("--config", path, "--access-control", "11.0.0.0/8 drop"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "too many access-control rules (at most 4096)"));
	free(text);
}
END_TEST

static void
collect(const char *name, void *arg)
{
	char *buf = arg;

	strcat(buf, name);
	strcat(buf, ";");
}

START_TEST(test_ctl_config_changed_names_keys)
{
	struct ctl_config b;
	char names[512] = "";

	ctl_config_init(&b);
	ck_assert_int_eq(PARSE("--ip", "10.0.0.1/24", "--access-control", "10.1.0.0/16 allow",
			       "--ratelimit", "10"), 0);
	ck_assert_int_eq(parse_argv(&b, (const char *[]){"pollux", "--ip", "10.0.0.1/24",
						       "--access-control", "10.1.0.0/16 allow",
						       "--ratelimit", "10", NULL}), 0);
	ck_assert_int_eq(ctl_config_changed(&cfg, &b, collect, names), 0);
	ctl_config_free(&b);
	ctl_config_init(&b);
	ck_assert_int_eq(parse_argv(&b, (const char *[]){"pollux", "--ip", "10.0.0.9/24",
						       "--access-control", "10.1.0.0/16 drop",
						       "--cache-size", "5", NULL}), 0);
	ck_assert_int_eq(ctl_config_changed(&cfg, &b, collect, names), 4);
	ck_assert_str_eq(names, "ip;cache-size;access-control;ratelimit;");
	/* Adopting moves a key's values: the running side now records the new ones. */
	ctl_config_adopt_values(&cfg, &b, "ip");
	ck_assert_str_eq(cfg.values[0], "10.0.0.9/24\n");
	ck_assert_ptr_null(b.values[0]);
	ctl_config_free(&b);
}
END_TEST

static Suite *
config_acl_suite(void)
{
	Suite *s = suite_create("config_acl");
	TCase *tc = tcase_create("options");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctl_config_acl_defaults);
	tcase_add_test(tc, test_ctl_config_acl_file_and_command_line);
	tcase_add_test(tc, test_ctl_config_acl_same_prefix_same_action_once);
	tcase_add_loop_test(tc, test_ctl_config_acl_bad_lines_named, 0,
			    (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	tcase_add_test(tc, test_ctl_config_acl_command_line_conflict);
	tcase_add_test(tc, test_ctl_config_acl_rule_limit);
	tcase_add_test(tc, test_ctl_config_changed_names_keys);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_acl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
