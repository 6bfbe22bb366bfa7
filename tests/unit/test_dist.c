/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The example configuration the install ships (dist/pollux.conf) is read by pollux's own
 * parser: as it stands (every setting commented out), and with every "#key: value" example
 * line uncommented, which must then also pass validation. So no example in it can rot.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "ctl_config.h"

#define EXAMPLE PX_SOURCE_ROOT "/dist/pollux.conf"

/* A "#key: value" line: '#', then a key of lower-case letters, digits and '-', then ':'. */
static bool
is_example_setting(const char *line)
{
	const char *p = line + 1;

	if (line[0] != '#' || !islower((unsigned char)*p))
		return false;
	while (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-')
		p++;
	return *p == ':';
}

/* Writes the example with its settings uncommented to a temporary file; returns how many. */
static unsigned
uncomment_example(char *tmp_path)
{
	FILE *in = fopen(EXAMPLE, "r"), *out;
	char line[1024];
	unsigned settings = 0;
	int fd = mkstemp(tmp_path);

	ck_assert_ptr_nonnull(in);
	ck_assert_int_ge(fd, 0);
	out = fdopen(fd, "w");
	ck_assert_ptr_nonnull(out);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, "#dnstap:", 8) == 0) {
			/* The one key whose parse touches the file system (the file must be
			 * writable): its example directory is made by the unit, not here. */
			fprintf(out, "dnstap: %s.dnstap\n", tmp_path);
			settings++;
		} else if (is_example_setting(line)) {
			fputs(line + 1, out);
			settings++;
		} else {
			fputs(line, out);
		}
	}
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
	return settings;
}

START_TEST(test_dist_example_parses_as_shipped)
{
	struct ctl_config cfg;
	char err[512] = "";

	ctl_config_init(&cfg);
	ck_assert_msg(ctl_config_parse_file(&cfg, EXAMPLE, err, sizeof(err)) == 0, "%s", err);
	/* Shipped with every setting off: pollux says an address is needed, nothing worse. */
	ck_assert_int_ne(ctl_config_validate(&cfg, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "--ip") != NULL, "%s", err);
	ctl_config_free(&cfg);
}
END_TEST

START_TEST(test_dist_example_settings_parse_and_validate)
{
	char tmp[] = "/tmp/pollux-conf.XXXXXX";
	struct ctl_config cfg;
	char err[512] = "";
	unsigned settings = uncomment_example(tmp);

	/* Every key but config, help and check-hints has an example line. */
	ck_assert_uint_ge(settings, 40);
	ctl_config_init(&cfg);
	ck_assert_msg(ctl_config_parse_file(&cfg, tmp, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(ctl_config_validate(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert(cfg.has_ip4 && cfg.has_gw4 && cfg.has_ip6 && cfg.has_gw6 && cfg.has_metrics);
	ck_assert_uint_eq(cfg.local_zone_count, 1);
	ck_assert_str_eq(cfg.hints_file, "/etc/pollux/named.root");
	ck_assert_str_eq(cfg.control_path, "/run/pollux/pollux.sock");
	/* The example values are the defaults where the file says so. */
	ck_assert_uint_eq(cfg.cache_size, CTL_DEFAULT_CACHE_SIZE);
	ck_assert_uint_eq(cfg.resolver_slots, CTL_DEFAULT_RESOLVER_SLOTS);
	ck_assert_uint_eq(cfg.max_ttl, CTL_DEFAULT_MAX_TTL);
	ck_assert_ptr_nonnull(cfg.dnstap.path);
	ctl_config_free(&cfg);
	snprintf(err, sizeof(err), "%s.dnstap", tmp);
	unlink(err);
	unlink(tmp);
}
END_TEST

/* The uncommenting itself: a prose comment that happens to hold a colon stays a comment. */
START_TEST(test_dist_is_example_setting)
{
	ck_assert(is_example_setting("#ip: 192.0.2.53/24\n"));
	ck_assert(is_example_setting("#tcp-conn-per-client: 16\n"));
	ck_assert(!is_example_setting("# Note: this is prose\n"));
	ck_assert(!is_example_setting("## Addresses.\n"));
	ck_assert(!is_example_setting("ip: 192.0.2.53/24\n"));
	ck_assert(!is_example_setting("#Ip: x\n"));
	ck_assert(!is_example_setting("#\n"));
}
END_TEST

static Suite *
dist_suite(void)
{
	Suite *s = suite_create("dist");
	TCase *tc = tcase_create("example_config");

	tcase_add_test(tc, test_dist_example_parses_as_shipped);
	tcase_add_test(tc, test_dist_example_settings_parse_and_validate);
	tcase_add_test(tc, test_dist_is_example_setting);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dist_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
