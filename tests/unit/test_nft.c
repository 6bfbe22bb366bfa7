/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollux's nftables table on the tun (control/ctl_nft.c): the script it writes, and, as root,
 * the real nft(8) run in a network namespace of the test's own (each test is forked, so
 * unshare() leaves the host's namespace alone): installed, replaced when a killed run left one
 * behind, removed.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_nft.h"

static struct ctl_nft_conf
conf_both(const char *ifname)
{
	struct ctl_nft_conf c = {.ifname = ifname, .has_ip4 = true, .has_ip6 = true};

	inet_pton(AF_INET, "198.18.0.2", &c.ip4);
	inet_pton(AF_INET6, "2001:2::2", c.ip6);
	return c;
}

START_TEST(test_ctl_nft_table_name)
{
	char name[CTL_NFT_TABLE_LEN];

	ctl_nft_table_name(name, sizeof(name), "pxtcp0");
	ck_assert_str_eq(name, "pollux_pxtcp0");
	/* nft identifiers take no '-' or '.': they become '_'. */
	ctl_nft_table_name(name, sizeof(name), "px-tcp.1");
	ck_assert_str_eq(name, "pollux_px_tcp_1");
}
END_TEST

START_TEST(test_ctl_nft_script_rules)
{
	struct ctl_nft_conf c = conf_both("pxtcp0");
	char buf[1024];
	int len = ctl_nft_script(buf, sizeof(buf), &c);

	ck_assert_int_gt(len, 0);
	ck_assert_uint_eq(strlen(buf), (size_t)len);
	/* A stale table is replaced in the same transaction. */
	ck_assert_ptr_eq(strstr(buf, "table inet pollux_pxtcp0\ndelete table inet pollux_pxtcp0\n"),
			 buf);
	ck_assert_ptr_nonnull(strstr(buf, "hook input"));
	ck_assert_ptr_nonnull(strstr(buf, "iifname != \"pxtcp0\" accept"));
	/* pollux's addresses through any other interface: dropped, before that accept. */
	ck_assert_ptr_nonnull(strstr(buf, "iifname != \"pxtcp0\" ip daddr 198.18.0.2 counter drop\n"
					  "\t\tiifname != \"pxtcp0\" ip6 daddr 2001:2::2 counter drop\n"
					  "\t\tiifname != \"pxtcp0\" accept\n"));
	ck_assert_ptr_nonnull(strstr(buf, "ip daddr 198.18.0.2 tcp dport 53 accept"));
	ck_assert_ptr_nonnull(strstr(buf, "ip6 daddr 2001:2::2 tcp dport 53 accept"));
	ck_assert_ptr_nonnull(strstr(buf, "ct state established,related accept"));
	/* The input chain's drop comes after every accept. */
	ck_assert_ptr_nonnull(strstr(buf, " accept\n\t\tcounter drop\n\t}\n\tchain forward {\n"));
	/* Nothing from the tun is forwarded. */
	ck_assert_ptr_nonnull(strstr(buf, "hook forward"));
	ck_assert_ptr_nonnull(strstr(buf, "iifname \"pxtcp0\" counter drop\n\t}\n}\n"));

	c.has_ip6 = false;
	ck_assert_int_gt(ctl_nft_script(buf, sizeof(buf), &c), 0);
	ck_assert_ptr_null(strstr(buf, "ip6 daddr"));
	ck_assert_ptr_null(strstr(buf, "2001:2::2"));
	ck_assert_int_eq(ctl_nft_script(buf, 100, &c), -ENOSPC);
}
END_TEST

/* `nft list table` of the table as text, or NULL if there is none. */
static char *
nft_list(const char *table)
{
	char cmd[128], *text = NULL;
	size_t len = 0;
	FILE *p, *out = open_memstream(&text, &len);
	int c;

	snprintf(cmd, sizeof(cmd), "nft list table inet %s 2>/dev/null", table);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while ((c = fgetc(p)) != EOF)
		fputc(c, out);
	fclose(out);
	if (pclose(p) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

START_TEST(test_ctl_nft_install_replace_remove)
{
	struct ctl_nft_conf c = conf_both("pxtest0");
	char err[512] = "", *list;

	if (geteuid() != 0 || access("/usr/sbin/nft", X_OK) != 0) {
		fprintf(stderr, "# skipped: needs root and /usr/sbin/nft\n");
		return;
	}
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert_ptr_null(nft_list("pollux_pxtest0"));
	ck_assert_msg(ctl_nft_install(&c, err, sizeof(err)) == 0, "%s", err);
	list = nft_list("pollux_pxtest0");
	ck_assert_ptr_nonnull(list);
	ck_assert_ptr_nonnull(strstr(list, "tcp dport 53 accept"));
	ck_assert_ptr_nonnull(strstr(list, "drop"));
	free(list);
	/* A killed run's table (here with one rule too many) is replaced, not doubled. */
	ck_assert_int_eq(system("nft add rule inet pollux_pxtest0 input tcp dport 8080 accept"), 0);
	ck_assert_msg(ctl_nft_install(&c, err, sizeof(err)) == 0, "%s", err);
	list = nft_list("pollux_pxtest0");
	ck_assert_ptr_nonnull(list);
	ck_assert_ptr_null(strstr(list, "8080"));
	free(list);
	ck_assert_int_eq(ctl_nft_remove("pxtest0"), 0);
	ck_assert_ptr_null(nft_list("pollux_pxtest0"));
	ck_assert_int_ne(ctl_nft_remove("pxtest0"), 0);
}
END_TEST

/* nft's complaint reaches the operator: an interface name nft rejects fails with its words. */
START_TEST(test_ctl_nft_install_reports_failure)
{
	struct ctl_nft_conf c = conf_both("bad\"name");
	char err[512] = "";

	if (geteuid() != 0 || access("/usr/sbin/nft", X_OK) != 0) {
		fprintf(stderr, "# skipped: needs root and /usr/sbin/nft\n");
		return;
	}
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert_int_ne(ctl_nft_install(&c, err, sizeof(err)), 0);
	ck_assert_msg(strncmp(err, "nft failed (exit 1): ", 21) == 0, "%s", err);
}
END_TEST

static Suite *
nft_suite(void)
{
	Suite *s = suite_create("nft");
	TCase *tc = tcase_create("script");

	tcase_add_test(tc, test_ctl_nft_table_name);
	tcase_add_test(tc, test_ctl_nft_script_rules);
	suite_add_tcase(s, tc);
	tc = tcase_create("nft");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_ctl_nft_install_replace_remove);
	tcase_add_test(tc, test_ctl_nft_install_reports_failure);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(nft_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
