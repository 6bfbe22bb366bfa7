/* SPDX-License-Identifier: BSD-3-Clause */
/* The Prometheus exposition writer: names, HELP escaping, labels, and every counter present. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <pollux/stats.h>

#include "ctl_prom.h"

/* Runs fn into a memory stream and returns what it wrote (malloc'ed). */
#define CAPTURE(buf, call)                                     \
	do {                                                   \
		size_t len_ = 0;                               \
		FILE *f_ = open_memstream(&(buf), &len_);      \
		ck_assert_ptr_nonnull(f_);                     \
		call;                                          \
		ck_assert_int_eq(fclose(f_), 0);               \
	} while (0)
#define OUT f_

/* Whether text holds line as a whole line. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = strstr(text, line); p != NULL; p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

START_TEST(test_ctl_prom_name_sanitised)
{
	char name[CTL_PROM_NAME_MAX];

	ck_assert_uint_eq(ctl_prom_name(name, sizeof(name), "cache.entries", NULL), 20);
	ck_assert_str_eq(name, "pollux_cache_entries");
	ctl_prom_name(name, sizeof(name), "addr_rejected.glue.link-local", "_total");
	ck_assert_str_eq(name, "pollux_addr_rejected_glue_link_local_total");
	ctl_prom_name(name, sizeof(name), "a b{c}\"d\\\n:é", NULL);
	for (const char *p = name; *p != '\0'; p++)
		ck_assert_msg((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '_', "bad char in %s", name);
	/* promtool reads "_ns_" as nanoseconds. */
	ctl_prom_name(name, sizeof(name), "addr_rejected.ns_addr.self", "_total");
	ck_assert_str_eq(name, "pollux_addr_rejected_nameserver_addr_self_total");
	ctl_prom_name(name, sizeof(name), "rec_servfail_no_ns", NULL);
	ck_assert_str_eq(name, "pollux_rec_servfail_no_nameserver");
	ctl_prom_name(name, sizeof(name), "nsid_ns", NULL);
	ck_assert_str_eq(name, "pollux_nsid_nameserver");
	/* Cut to the buffer, always terminated. */
	ck_assert_uint_eq(ctl_prom_name(name, 10, "rx_pkts", "_total"), 9);
	ck_assert_str_eq(name, "pollux_rx");
}
END_TEST

/* promtool check metrics rejects names with a word it takes for an abbreviated unit: no worker
 * counter may produce one (a new one that does needs a words[] entry in ctl_prom.c). */
START_TEST(test_ctl_prom_worker_names_pass_promtool_lint)
{
	static const char *const units[] = {"s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb",
					    "tb", "pb", "m", "h", "d"};
	char name[CTL_PROM_NAME_MAX], pat[16];

	for (unsigned i = 0; i < PX_STATS_COUNT; i++) {
		size_t n = ctl_prom_name(name, sizeof(name), px_stats_names[i], "_total");

		ck_assert_uint_lt(n, sizeof(name) - 1);
		for (unsigned u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			snprintf(pat, sizeof(pat), "_%s_", units[u]);
			ck_assert_msg(strstr(name, pat) == NULL, "%s has %s", name, pat);
		}
	}
}
END_TEST

START_TEST(test_ctl_prom_family_escapes_help)
{
	char *buf = NULL;

	CAPTURE(buf, ctl_prom_family(OUT, "pollux_x_total", "counter", "a \\ b\nc \"d\""));
	ck_assert_str_eq(buf, "# HELP pollux_x_total a \\\\ b\\nc \"d\"\n"
			      "# TYPE pollux_x_total counter\n");
	free(buf);
}
END_TEST

START_TEST(test_ctl_prom_write_workers_every_counter)
{
	struct px_stats w[3];
	uint64_t *v;
	char *buf = NULL, line[256], name[CTL_PROM_NAME_MAX];

	memset(w, 0, sizeof(w));
	for (unsigned k = 0; k < 3; k++) {
		v = (uint64_t *)&w[k];
		for (unsigned i = 0; i < PX_STATS_COUNT; i++)
			v[i] = 1000000ull * i + 10 * k + 7;
	}
	CAPTURE(buf, ctl_prom_write_workers(OUT, w, 3));
	for (unsigned i = 0; i < PX_STATS_COUNT; i++) {
		ctl_prom_name(name, sizeof(name), px_stats_names[i], "_total");
		snprintf(line, sizeof(line), "# TYPE %s counter", name);
		ck_assert_msg(has_line(buf, line), "missing %s", line);
		snprintf(line, sizeof(line), "# HELP %s %s", name, px_stats_help[i]);
		ck_assert_msg(has_line(buf, line), "missing %s", line);
		for (unsigned k = 0; k < 3; k++) {
			snprintf(line, sizeof(line), "%s{worker=\"%u\"} %" PRIu64, name, k,
				 (uint64_t)(1000000ull * i + 10 * k + 7));
			ck_assert_msg(has_line(buf, line), "missing %s", line);
		}
	}
	/* No unlabelled total series to double-count in a sum(). */
	ck_assert_ptr_null(strstr(buf, "\npollux_rx_pkts_total "));
	free(buf);
}
END_TEST

START_TEST(test_ctl_prom_stats_text)
{
	const char *text = "total.rx_pkts 5\nworker0.rx_pkts 5\nworker12.hits 1\n"
			   "cache.entries 42\nmbufs.total 1023\nmbufs.in_use 17\n"
			   "hints.generation 3\nresolver.server_fail.timeout 9\n"
			   "addr_rejected.glue.link-local 2\nbogus\nnot.a.number x1\n"
			   "neg.value -1\nworkerish.thing 4\nport.ipackets 18446744073709551615";
	char *buf = NULL;
	unsigned n;

	CAPTURE(buf, n = ctl_prom_write_stats_text(OUT, text));
	ck_assert_uint_eq(n, 8);
	ck_assert(has_line(buf, "# TYPE pollux_cache_entries gauge"));
	ck_assert(has_line(buf, "pollux_cache_entries 42"));
	ck_assert(has_line(buf, "# TYPE pollux_mbufs_capacity gauge"));
	ck_assert(has_line(buf, "pollux_mbufs_capacity 1023"));
	ck_assert(has_line(buf, "pollux_mbufs_in_use 17"));
	ck_assert(has_line(buf, "# TYPE pollux_hints_generation gauge"));
	ck_assert(has_line(buf, "pollux_hints_generation 3"));
	ck_assert(has_line(buf, "# TYPE pollux_resolver_server_fail_timeout_total counter"));
	ck_assert(has_line(buf, "# HELP pollux_resolver_server_fail_timeout_total "
				"resolver.server_fail.timeout in polluxctl stats"));
	ck_assert(has_line(buf, "pollux_resolver_server_fail_timeout_total 9"));
	ck_assert(has_line(buf, "pollux_addr_rejected_glue_link_local_total 2"));
	ck_assert(has_line(buf, "pollux_workerish_thing_total 4"));
	ck_assert(has_line(buf, "pollux_port_ipackets_total 18446744073709551615"));
	/* Per-worker lines are ctl_prom_write_workers's; junk is skipped. */
	ck_assert_ptr_null(strstr(buf, "rx_pkts"));
	ck_assert_ptr_null(strstr(buf, "hits"));
	ck_assert_ptr_null(strstr(buf, "bogus"));
	ck_assert_ptr_null(strstr(buf, "not_a_number"));
	ck_assert_ptr_null(strstr(buf, "neg_value"));
	/* Only counters carry _total. */
	ck_assert_ptr_null(strstr(buf, "mbufs_total"));
	free(buf);
}
END_TEST

static Suite *
prom_suite(void)
{
	Suite *s = suite_create("prom");
	TCase *tc = tcase_create("writer");

	tcase_add_test(tc, test_ctl_prom_name_sanitised);
	tcase_add_test(tc, test_ctl_prom_worker_names_pass_promtool_lint);
	tcase_add_test(tc, test_ctl_prom_family_escapes_help);
	tcase_add_test(tc, test_ctl_prom_write_workers_every_counter);
	tcase_add_test(tc, test_ctl_prom_stats_text);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(prom_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
