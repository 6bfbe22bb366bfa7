/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `polluxctl config` (ctl_config_show.c): every option with the value in force and where it came
 * from: the default, FILE:LINE, the command line (which overrides the file), a reload; the
 * options that add up show each value with its own source. Pure: no EAL.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "ctl_config.h"

static char path[64];
static char err[512];

static void
write_conf(const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/pollux-test-show-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Parses "pollux --config PATH" plus more, and returns what ctl_config_show prints. */
static char *
show(struct ctl_config *cfg, const char **more, int more_count)
{
	const char *argv[16] = {"pollux", "--config", path};
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	for (int i = 0; i < more_count; i++)
		argv[3 + i] = more[i];
	ctl_config_init(cfg);
	ck_assert_msg(ctl_config_parse_args(cfg, 3 + more_count, (char **)argv, err,
					    sizeof(err)) == 0, "%s", err);
	out = open_memstream(&text, &len);
	ctl_config_show(cfg, out);
	fclose(out);
	return text;
}

static void __attribute__((format(printf, 2, 3)))
has_line(const char *text, const char *fmt, ...)
{
	char want[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	ck_assert_msg(strstr(text, want) != NULL, "'%s' not in:\n%s", want, text);
}

START_TEST(test_ctl_config_show_sources)
{
	const char *more[] = {"--ip", "198.18.0.2/24", "--max-ttl", "120"};
	struct ctl_config cfg;
	char *text;

	write_conf("# a comment\nmax-ttl: 60\nlocal-zone: a.zone\n\nlocal-zone: b.zone\n"
		   "do-not-query: 198.51.100.0/24\n");
	text = show(&cfg, more, 4);
	/* The command line wins over the file, and says so. */
	has_line(text, "\nmax-ttl: 120  # command line\n");
	ck_assert_ptr_null(strstr(text, "max-ttl: 60"));
	has_line(text, "\nip: 198.18.0.2/24  # command line\n");
	has_line(text, "\nlocal-zone: a.zone  # %s:3\n", path);
	has_line(text, "\nlocal-zone: b.zone  # %s:5\n", path);
	has_line(text, "\ndo-not-query: 198.51.100.0/24  # %s:6\n", path);
	has_line(text, "\nconfig: %s  # command line\n", path);
	/* Defaults, from --help's table or the option's documented value. */
	has_line(text, "\ncache-size: 262144  # default\n");
	has_line(text, "\nmax-neg-ttl: 3600  # default\n");
	has_line(text, "\nhints: built-in IANA copy  # default\n");
	has_line(text, "\naccess-control: none  # default\n");
	/* Neither help nor check-hints is configuration. */
	ck_assert_ptr_null(strstr(text, "\nhelp:"));
	ck_assert_ptr_null(strstr(text, "\ncheck-hints:"));
	free(text);
	ctl_config_free(&cfg);
	unlink(path);
}
END_TEST

START_TEST(test_ctl_config_show_reload_time)
{
	struct ctl_config cfg;
	char *text;

	write_conf("max-ttl: 60\n");
	text = show(&cfg, NULL, 0);
	free(text);
	/* 2026-12-07T09:00:00Z */
	ctl_config_mark_reloaded(&cfg, "max-ttl", 1796634000);
	ctl_config_mark_reloaded(&cfg, "max-neg-ttl", 1796634000);
	text = NULL;
	{
		size_t len = 0;
		FILE *out = open_memstream(&text, &len);

		ctl_config_show(&cfg, out);
		fclose(out);
	}
	has_line(text, "\nmax-ttl: 60  # %s:1, reload at 2026-12-07T09:00:00Z\n", path);
	/* Back to its default by a reload (the line was removed). */
	has_line(text, "\nmax-neg-ttl: 3600  # default, reload at 2026-12-07T09:00:00Z\n");
	has_line(text, "\ncache-size: 262144  # default\n");
	free(text);
	ctl_config_free(&cfg);
	unlink(path);
}
END_TEST

START_TEST(test_ctl_config_origin_last_value)
{
	const char *more[] = {"--do-not-query", "192.0.2.0/24"};
	struct ctl_config cfg;
	char buf[128], want[128];
	char *text;

	write_conf("do-not-query: 198.51.100.0/24\nmetrics-listen: 127.0.0.1:9100\n");
	text = show(&cfg, more, 2);
	free(text);
	snprintf(want, sizeof(want), "%s:2", path);
	ck_assert_str_eq(ctl_config_origin(&cfg, "metrics-listen", buf, sizeof(buf)), want);
	ck_assert_str_eq(ctl_config_origin(&cfg, "do-not-query", buf, sizeof(buf)), "command line");
	ck_assert_str_eq(ctl_config_origin(&cfg, "max-ttl", buf, sizeof(buf)), "default");
	ctl_config_free(&cfg);
	unlink(path);
}
END_TEST

static Suite *
config_show_suite(void)
{
	Suite *s = suite_create("config_show");
	TCase *tc = tcase_create("show");

	tcase_add_test(tc, test_ctl_config_show_sources);
	tcase_add_test(tc, test_ctl_config_show_reload_time);
	tcase_add_test(tc, test_ctl_config_origin_last_value);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_show_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
