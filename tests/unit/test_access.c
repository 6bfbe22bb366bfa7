/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's side of access control (ctl_access.c) and reload (ctl_reload.c): the
 * defaults and how configured rules override them, publishing with hit counts carried over, the
 * TCP peer check, and reloads that apply everything or nothing. Needs the EAL (RCU).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "ctl_access.h"
#include "ctl_reload.h"
#include "dp_access.h"
#include "dp_lcore.h"
#include "testlib.h"

static struct dp_ctx ctx;
static char err[1024];
static char conf_path[64];

static void
parse(struct ctl_config *cfg, const char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	ctl_config_init(cfg);
	ck_assert_msg(ctl_config_parse_args(cfg, argc, (char **)argv, err, sizeof(err)) == 0,
		      "%s", err);
}

#define CFG(c, ...) parse((c), (const char *[]){"pollux", __VA_ARGS__, NULL})

static int
verdict(const struct dp_access *a, const char *addr, uint32_t *rule)
{
	uint8_t b[16];
	bool v6 = strchr(addr, ':') != NULL;
	uint32_t leaf;

	ck_assert_int_eq(inet_pton(v6 ? AF_INET6 : AF_INET, addr, b), 1);
	leaf = px_acl_lookup(a->acl, b, v6);
	if (rule != NULL)
		*rule = px_acl_leaf_rule(leaf);
	return (int)px_acl_leaf_action(leaf);
}

START_TEST(test_ctl_access_defaults_closed)
{
	struct ctl_config cfg;
	struct dp_access *a;

	CFG(&cfg, "--ip", "198.18.0.2/24", "--ip6", "2001:2::2/64");
	a = ctl_access_build(&cfg, 2, err, sizeof(err));
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->acl->rule_count, 5);
	ck_assert_uint_eq(a->slices, 3);
	ck_assert_uint_eq(a->hit_stride % 8, 0);
	ck_assert_int_eq(verdict(a, "198.18.0.1", NULL), PX_ACL_ALLOW);
	ck_assert_int_eq(verdict(a, "198.18.0.255", NULL), PX_ACL_ALLOW);
	ck_assert_int_eq(verdict(a, "198.18.1.1", NULL), PX_ACL_REFUSE);
	ck_assert_int_eq(verdict(a, "198.19.0.1", NULL), PX_ACL_REFUSE);
	ck_assert_int_eq(verdict(a, "2001:2::1", NULL), PX_ACL_ALLOW);
	ck_assert_int_eq(verdict(a, "2001:2:0:1::1", NULL), PX_ACL_REFUSE);
	ck_assert_int_eq(verdict(a, "fe80::1", NULL), PX_ACL_ALLOW);
	ck_assert_int_eq(verdict(a, "2001:db8::1", NULL), PX_ACL_REFUSE);
	ck_assert_str_eq(a->acl->rules[0].origin, "default (--ip subnet)");
	ck_assert_uint_eq(a->rl.rate, 0);
	ctl_access_free(a);
	ctl_config_free(&cfg);
}
END_TEST

START_TEST(test_ctl_access_configured_overrides_default)
{
	struct ctl_config cfg;
	struct dp_access *a;
	uint32_t r;

	CFG(&cfg, "--ip", "198.18.0.2/24", "--access-control", "0.0.0.0/0 allow",
	    "--access-control", "198.18.0.0/24 drop", "--access-control", "198.18.0.128/25 refuse",
	    "--access-control", "fe80::/10 refuse", "--ratelimit", "20");
	a = ctl_access_build(&cfg, 1, err, sizeof(err));
	ck_assert_ptr_nonnull(a);
	/* Defaults left: ::/0 refuse only; four configured. */
	ck_assert_uint_eq(a->acl->rule_count, 5);
	ck_assert_int_eq(verdict(a, "203.0.113.1", &r), PX_ACL_ALLOW);
	ck_assert_str_eq(a->acl->rules[r].origin, "command line");
	ck_assert_int_eq(verdict(a, "198.18.0.1", &r), PX_ACL_DROP);
	ck_assert_str_eq(a->acl->rules[r].origin, "command line");
	ck_assert_int_eq(verdict(a, "198.18.0.200", NULL), PX_ACL_REFUSE);
	ck_assert_int_eq(verdict(a, "fe80::1", NULL), PX_ACL_REFUSE);
	ck_assert_int_eq(verdict(a, "2001:db8::1", &r), PX_ACL_REFUSE);
	ck_assert_str_eq(a->acl->rules[r].origin, "default (every other source)");
	ck_assert_uint_eq(a->rl.rate, 20);
	ck_assert_uint_eq(a->rl.burst, 20);
	ctl_access_free(a);
	ctl_config_free(&cfg);
}
END_TEST

static struct ctl_access ca;

START_TEST(test_ctl_access_publish_carries_hits)
{
	struct ctl_config cfg;
	struct dp_access *a, *b;
	uint32_t r;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	CFG(&cfg, "--ip", "198.18.0.2/24", "--access-control", "198.19.0.0/16 allow");
	ck_assert_int_eq(ctl_access_start(&ca, &cfg, &ctx, 2, err, sizeof(err)), 0);
	a = ctx.access;
	ck_assert_ptr_nonnull(a);
	verdict(a, "198.19.1.1", &r);
	a->hits[r] += 5;                  /* worker 0 */
	a->hits[a->hit_stride + r] += 2;  /* worker 1 */
	b = ctl_access_build(&cfg, 2, err, sizeof(err));
	ctl_access_publish(&ca, b);
	ck_assert_ptr_eq(ctx.access, b);
	ck_assert_uint_eq(b->generation, 2);
	verdict(b, "198.19.1.1", &r);
	ck_assert_uint_eq(b->carried[r], 7);
	out = open_memstream(&text, &len);
	ctl_access_print(&ca, out);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(text, "198.19.0.0/16"));
	ck_assert_ptr_nonnull(strstr(text, "allow              7  command line"));
	ck_assert_ptr_nonnull(strstr(text, "0.0.0.0/0"));
	ck_assert_ptr_nonnull(strstr(text, "ratelimit off"));
	free(text);
	ctl_access_stop(&ca);
	ck_assert_ptr_null(ctx.access);
	ctl_config_free(&cfg);
}
END_TEST

START_TEST(test_ctl_access_tcp_peer_counted)
{
	struct ctl_config cfg;
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	const struct dp_access *a;
	uint32_t r;

	CFG(&cfg, "--ip", "198.18.0.2/24", "--access-control", "198.20.0.0/16 drop");
	ck_assert_int_eq(ctl_access_start(&ca, &cfg, &ctx, 1, err, sizeof(err)), 0);
	ck_assert(ca.tcp_reader_ok);
	a = ctx.access;
	inet_pton(AF_INET, "198.18.0.1", &s4.sin_addr);
	ck_assert_uint_eq(ctl_access_check_peer(&ca, (struct sockaddr *)&s4), PX_ACL_ALLOW);
	inet_pton(AF_INET, "198.19.0.1", &s4.sin_addr);
	ck_assert_uint_eq(ctl_access_check_peer(&ca, (struct sockaddr *)&s4), PX_ACL_REFUSE);
	inet_pton(AF_INET, "198.20.9.9", &s4.sin_addr);
	ck_assert_uint_eq(ctl_access_check_peer(&ca, (struct sockaddr *)&s4), PX_ACL_DROP);
	/* An IPv4-mapped IPv6 peer is judged as the IPv4 address it is. */
	inet_pton(AF_INET6, "::ffff:198.20.1.1", &s6.sin6_addr);
	ck_assert_uint_eq(ctl_access_check_peer(&ca, (struct sockaddr *)&s6), PX_ACL_DROP);
	inet_pton(AF_INET6, "fe80::5", &s6.sin6_addr);
	ck_assert_uint_eq(ctl_access_check_peer(&ca, (struct sockaddr *)&s6), PX_ACL_ALLOW);
	ck_assert_uint_eq(ca.tcp_conns[PX_ACL_ALLOW], 2);
	ck_assert_uint_eq(ca.tcp_conns[PX_ACL_REFUSE], 1);
	ck_assert_uint_eq(ca.tcp_conns[PX_ACL_DROP], 2);
	/* Counted in the TCP thread's slice, the last. */
	verdict(a, "198.20.0.0", &r);
	ck_assert_uint_eq(a->hits[(size_t)(a->slices - 1) * a->hit_stride + r], 2);
	ck_assert_uint_eq(a->hits[r], 0);
	ctl_access_stop(&ca);
	ctl_config_free(&cfg);
}
END_TEST

static void
write_conf(const char *text)
{
	FILE *f = fopen(conf_path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *
run_reload(struct ctl_reload *r, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	*rc = ctl_reload_run(r, "control", out);
	fclose(out);
	return text;
}

START_TEST(test_ctl_reload_all_or_nothing)
{
	struct ctl_config cfg;
	struct ctl_reload rl;
	const char *argv[] = {"pollux", "--config", conf_path, "--ip", "198.18.0.2/24", NULL};
	const struct dp_access *before;
	char *text, want[128];
	int rc, fd;

	snprintf(conf_path, sizeof(conf_path), "/tmp/pollux-test-access-XXXXXX");
	fd = mkstemp(conf_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	write_conf("access-control: 198.19.0.0/16 allow\ncache-size: 1024\n");
	parse(&cfg, argv);
	ck_assert_int_eq(ctl_access_start(&ca, &cfg, &ctx, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(ctl_reload_init(&rl, &cfg, 5, (char **)argv, &ca, 1), 0);
	ck_assert_int_eq(verdict(ctx.access, "198.19.0.1", NULL), PX_ACL_ALLOW);

	/* A good file: the rules and the rate apply at once; cache-size needs a restart. */
	write_conf("access-control: 198.19.0.0/16 drop\naccess-control: 198.21.0.0/16 allow\n"
		   "ratelimit: 30\nratelimit-slip: 0\ncache-size: 2048\n");
	text = run_reload(&rl, &rc);
	ck_assert_msg(rc == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "changed: access-control, ratelimit, ratelimit-slip"));
	ck_assert_ptr_nonnull(strstr(text, "needs restart (running values kept): cache-size"));
	free(text);
	ck_assert_int_eq(verdict(ctx.access, "198.19.0.1", NULL), PX_ACL_DROP);
	ck_assert_int_eq(verdict(ctx.access, "198.21.0.1", NULL), PX_ACL_ALLOW);
	ck_assert_uint_eq(ctx.access->rl.rate, 30);
	ck_assert_uint_eq(ctx.access->rl.slip, 0);
	ck_assert_uint_eq(cfg.cache_size, 1024);
	ck_assert_uint_eq(cfg.ratelimit, 30);
	ck_assert_uint_eq(cfg.acl_rule_count, 2);

	/* One bad line among good ones: nothing changes, and the line is named. */
	before = ctx.access;
	write_conf("access-control: 198.22.0.0/16 allow\nratelimit: 99\n"
		   "access-control: 198.23.0.1/16 allow\n");
	text = run_reload(&rl, &rc);
	ck_assert_int_eq(rc, -EINVAL);
	snprintf(want, sizeof(want), "reload refused, nothing changed: %s:3: access-control:",
		 conf_path);
	ck_assert_msg(strstr(text, want) != NULL, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "host bits set"));
	free(text);
	ck_assert_ptr_eq(ctx.access, before);
	ck_assert_int_eq(verdict(ctx.access, "198.22.0.1", NULL), PX_ACL_REFUSE);
	ck_assert_uint_eq(ctx.access->rl.rate, 30);
	ck_assert_uint_eq(cfg.ratelimit, 30);
	ck_assert_uint_eq(rl.rejections, 1);

	/* Same prefix twice with different actions: refused too. */
	write_conf("access-control: 198.22.0.0/16 allow\naccess-control: 198.22.0.0/16 drop\n");
	text = run_reload(&rl, &rc);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_ptr_nonnull(strstr(text, ":2: access-control: '198.22.0.0/16 drop': the same "
				     "prefix is 'allow' at "));
	free(text);
	ck_assert_ptr_eq(ctx.access, before);

	/* A file that is gone: refused, nothing changes. */
	unlink(conf_path);
	text = run_reload(&rl, &rc);
	ck_assert_int_eq(rc, -ENOENT);
	free(text);
	ck_assert_ptr_eq(ctx.access, before);
	ctl_reload_free(&rl);
	ctl_access_stop(&ca);
	ctl_config_free(&cfg);
}
END_TEST

static Suite *
access_suite(void)
{
	Suite *s = suite_create("access");
	TCase *tc = tcase_create("build");

	tcase_add_test(tc, test_ctl_access_defaults_closed);
	tcase_add_test(tc, test_ctl_access_configured_overrides_default);
	suite_add_tcase(s, tc);
	tc = tcase_create("publish");
	tcase_add_test(tc, test_ctl_access_publish_carries_hits);
	tcase_add_test(tc, test_ctl_access_tcp_peer_counted);
	suite_add_tcase(s, tc);
	tc = tcase_create("reload");
	tcase_add_test(tc, test_ctl_reload_all_or_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	px_test_eal_init("test_access", "0", NULL);
	ctx.qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	if (ctx.qsbr == NULL || rte_rcu_qsbr_init(ctx.qsbr, RTE_MAX_LCORE) != 0)
		return EXIT_FAILURE;
	sr = srunner_create(access_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
