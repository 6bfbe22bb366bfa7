/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reloading the whole configuration (ctl_reload.c, ctl_reload_groups.c): each group's
 * prepare, commit and discard as a reload drives them (local zones into the cache, the resolver
 * settings workers take in, the root hints, the metrics listener), and all or nothing: a group
 * that fails to prepare leaves every group before it as it was. Needs the EAL (RCU, the cache).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <pollux/wire.h>

#include "ctl_access.h"
#include "ctl_hints_reload.h"
#include "ctl_http.h"
#include "ctl_metrics.h"
#include "ctl_reload.h"
#include "ctl_settings.h"
#include "ctl_stats.h"
#include "ctl_zones.h"
#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_settings.h"
#include "testlib.h"

static const char zone_head[] =
	"$ORIGIN example.test.\n"
	"$TTL 3600\n"
	"@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
	"@ IN NS ns1\n"
	"ns1 IN A 198.18.0.2\n";
static const char other_zone[] =
	"$ORIGIN other.test.\n"
	"@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
	"@ 3600 IN NS ns1\n"
	"ns1 3600 IN A 198.18.0.3\n";
static const char hints_two[] =
	".                   3600000 NS A.ROOT-SERVERS.NET.\n"
	".                   3600000 NS B.ROOT-SERVERS.NET.\n"
	"A.ROOT-SERVERS.NET. 3600000 A  198.41.0.4\n"
	"B.ROOT-SERVERS.NET. 3600000 A  170.247.170.2\n";
static const char hints_one[] =
	".                   3600000 NS C.ROOT-SERVERS.NET.\n"
	"C.ROOT-SERVERS.NET. 3600000 A  192.33.4.12\n";

/* Everything a reload reaches, as main.c wires it. */
static struct {
	char dir[64], conf[128], zone[128], zone2[128], hints[128], hints2[128];
	struct ctl_config cfg;
	struct dp_ctx ctx;
	struct ctl_state st;
	struct ctl_zones zones;
	struct ctl_settings settings;
	struct ctl_hints_state hs;
	struct ctl_access access;
	struct ctl_reload rl;
	char *argv[6];
} w;
static char err[2048];

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
write_zone(const char *www)
{
	char text[512];

	snprintf(text, sizeof(text), "%swww IN A %s\n", zone_head, www);
	write_file(w.zone, text);
}

static char *
run_reload(int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	*rc = ctl_reload_run(&w.rl, "control", out);
	fclose(out);
	return text;
}

static void
setup(void)
{
	memset(&w, 0, sizeof(w));
	snprintf(w.dir, sizeof(w.dir), "/tmp/pollux-test-reload-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(w.dir));
	snprintf(w.conf, sizeof(w.conf), "%s/pollux.conf", w.dir);
	snprintf(w.zone, sizeof(w.zone), "%s/example.zone", w.dir);
	snprintf(w.zone2, sizeof(w.zone2), "%s/other.zone", w.dir);
	snprintf(w.hints, sizeof(w.hints), "%s/two.root", w.dir);
	snprintf(w.hints2, sizeof(w.hints2), "%s/one.root", w.dir);
	write_zone("198.18.1.10");
	write_file(w.zone2, other_zone);
	write_file(w.hints, hints_two);
	write_file(w.hints2, hints_one);
}

/* Starts everything from the config file text, as main.c does. */
static void
start(const char *conf_text)
{
	const char *argv[] = {"pollux", "--config", w.conf, "--ip", "198.18.0.2/24"};

	write_file(w.conf, conf_text);
	for (unsigned i = 0; i < RTE_DIM(argv); i++)
		w.argv[i] = (char *)argv[i];
	ctl_config_init(&w.cfg);
	ck_assert_msg(ctl_config_parse_args(&w.cfg, 5, w.argv, err, sizeof(err)) == 0, "%s", err);
	px_addr_policy_set_self4(&w.cfg.addr_policy, w.cfg.ip4, w.cfg.ip4_prefix);
	w.ctx.qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	ck_assert_ptr_nonnull(w.ctx.qsbr);
	ck_assert_int_eq(rte_rcu_qsbr_init(w.ctx.qsbr, RTE_MAX_LCORE), 0);
	w.ctx.cache = dp_cache_create("test_reload", 4096, w.ctx.qsbr, SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(w.ctx.cache);
	ck_assert_msg(ctl_zones_start(&w.zones, &w.ctx, &w.cfg, dp_clock_ms(), err,
				      sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(ctl_settings_start(&w.settings, &w.cfg, &w.ctx), 0);
	ck_assert_msg(ctl_hints_start(&w.hs, &w.cfg, &w.ctx, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(ctl_access_start(&w.access, &w.cfg, &w.ctx, 1, err, sizeof(err)), 0);
	w.st.cfg = &w.cfg;
	w.st.ctx = &w.ctx;
	w.st.zones = &w.zones;
	w.st.hints = &w.hs;
	if (w.cfg.has_metrics) {
		w.st.metrics = ctl_http_open((const struct sockaddr *)&w.cfg.metrics_addr,
					     w.cfg.metrics_addr_len, ctl_metrics_render, &w.st);
		ck_assert_ptr_nonnull(w.st.metrics);
	}
	ck_assert_int_eq(ctl_reload_init(&w.rl, &w.cfg, 5, w.argv, &w.access, 1), 0);
	w.rl.zones = &w.zones;
	w.rl.settings = &w.settings;
	w.rl.hints = &w.hs;
	w.rl.st = &w.st;
}

static void
teardown(void)
{
	char cmd[128];

	ctl_reload_free(&w.rl);
	ctl_http_close(w.st.metrics);
	ctl_access_stop(&w.access);
	ctl_hints_stop(&w.hs);
	ctl_settings_stop(&w.settings);
	ctl_zones_free(&w.zones);
	dp_cache_free(w.ctx.cache);
	rte_free(w.ctx.qsbr);
	ctl_config_free(&w.cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w.dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The A record the cache holds for name (in the rr bytes), or "" when there is none. */
static const char *
cached_a(const char *name, char *buf, size_t len)
{
	struct dp_cache_key k = {.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
				 .kind = DP_CACHE_RRSET};
	struct dp_cache_entry *e;
	const uint8_t *rr;

	k.name_len = (uint8_t)px_test_name(k.name, name);
	e = dp_cache_entry_clone(w.ctx.cache, &k);
	buf[0] = '\0';
	if (e == NULL)
		return buf;
	/* One A record: its rdata is the last 4 bytes. */
	rr = dp_cache_entry_rr(e);
	if (e->an_count >= 1 && e->rr_len >= 4)
		inet_ntop(AF_INET, rr + e->rr_len - 4, buf, (socklen_t)len);
	dp_cache_entry_free(e);
	return buf;
}

/* An A answer at name as the resolver would cache it (not pinned), address 198.18.7.7. */
static void
put_resolved_a(const char *name)
{
	struct dp_cache_key k = {.qtype = PX_DNS_TYPE_A, .qclass = PX_DNS_CLASS_IN,
				 .kind = DP_CACHE_RRSET};
	/* Owned by the question's name, a pointer to offset 12, as answers are kept. */
	uint8_t rr[16] = {[10] = 0, [11] = 4, [12] = 198, [13] = 18, [14] = 7, [15] = 7};
	uint16_t ttl_off = 6;
	struct dp_cache_entry *e;

	k.name_len = (uint8_t)px_test_name(k.name, name);
	px_put16(rr, PX_DNS_QNAME_PTR);
	px_put16(rr + 2, PX_DNS_TYPE_A);
	px_put16(rr + 4, PX_DNS_CLASS_IN);

	const struct dp_cache_answer a = {.ttl = 3600, .an_count = 1, .rr = rr,
					  .rr_len = sizeof(rr), .ttl_off = &ttl_off,
					  .ttl_off_count = 1};

	e = dp_cache_entry_new(w.ctx.cache, &k, &a, dp_clock_ms());
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(dp_cache_insert(w.ctx.cache, e), 0);
}

static bool
zone_apex_cached(const char *apex)
{
	struct dp_cache_key k = {.qtype = 0, .qclass = PX_DNS_CLASS_IN, .kind = DP_CACHE_ZONE};
	struct dp_cache_entry *e;

	k.name_len = (uint8_t)px_test_name(k.name, apex);
	e = dp_cache_entry_clone(w.ctx.cache, &k);
	dp_cache_entry_free(e);
	return e != NULL;
}

static uint16_t
free_port(int *keep)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	if (keep != NULL) {
		ck_assert_int_eq(listen(fd, 1), 0);
		*keep = fd;
	} else {
		close(fd);
	}
	return ntohs(sa.sin_port);
}

/* Local zones: a changed record, a zone added, a zone removed with all its keys. */
START_TEST(test_reload_zones_replace_add_remove)
{
	char conf[512], a[64];
	const struct ctl_zones *before;
	char *text;
	int rc;

	snprintf(conf, sizeof(conf), "local-zone: %s\nhints: %s\n", w.zone, w.hints);
	start(conf);
	ck_assert_str_eq(cached_a("www.example.test", a, sizeof(a)), "198.18.1.10");
	ck_assert(dp_ctx_has_zone_depth(&w.ctx, 2));
	ck_assert_uint_eq(w.zones.count, 1);

	/* What the resolver cached below the apex about to be added goes with the reload; what
	 * it cached elsewhere stays. */
	put_resolved_a("www.other.test");
	put_resolved_a("ns1.other.test");
	put_resolved_a("www.notother.test");
	ck_assert_str_eq(cached_a("www.other.test", a, sizeof(a)), "198.18.7.7");

	/* Edited data and a second zone: both in force at once. */
	write_zone("198.18.1.99");
	snprintf(conf, sizeof(conf), "local-zone: %s\nlocal-zone: %s\nhints: %s\n", w.zone, w.zone2,
		 w.hints);
	write_file(w.conf, conf);
	text = run_reload(&rc);
	ck_assert_msg(rc == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "changed: local-zone"));
	ck_assert_ptr_nonnull(strstr(text, "local zones: 2"));
	free(text);
	ck_assert_str_eq(cached_a("www.example.test", a, sizeof(a)), "198.18.1.99");
	ck_assert_str_eq(cached_a("ns1.other.test", a, sizeof(a)), "198.18.0.3");
	ck_assert(zone_apex_cached("other.test"));
	ck_assert_uint_eq(w.cfg.local_zone_count, 2);
	ck_assert_str_eq(cached_a("www.other.test", a, sizeof(a)), "");
	ck_assert_str_eq(cached_a("www.notother.test", a, sizeof(a)), "198.18.7.7");

	/* example.test gone: every one of its keys leaves the cache, other.test stays. */
	before = w.st.zones;
	snprintf(conf, sizeof(conf), "local-zone: %s\nhints: %s\n", w.zone2, w.hints);
	write_file(w.conf, conf);
	text = run_reload(&rc);
	ck_assert_msg(rc == 0, "%s", text);
	free(text);
	ck_assert_ptr_eq(w.st.zones, before);
	ck_assert_str_eq(cached_a("www.example.test", a, sizeof(a)), "");
	ck_assert_str_eq(cached_a("ns1.example.test", a, sizeof(a)), "");
	ck_assert(!zone_apex_cached("example.test"));
	ck_assert(zone_apex_cached("other.test"));
	ck_assert_uint_eq(w.zones.count, 1);
	ck_assert_str_eq(w.zones.info[0].apex, "other.test.");
	ck_assert_str_eq(w.cfg.local_zones[0], w.zone2);
	teardown();
}
END_TEST

/* A broken zone file: prepare fails naming FILE:LINE, and the zones in force stay. */
START_TEST(test_reload_zones_bad_file_discarded)
{
	char conf[512], a[64], want[512], *text;
	uint64_t gen;
	int rc;

	snprintf(conf, sizeof(conf), "local-zone: %s\nhints: %s\n", w.zone, w.hints);
	start(conf);
	gen = w.zones.generation;
	write_file(w.zone, "$ORIGIN example.test.\n@ 3600 IN SOA ns1 hm 1 2 3 4 5\n"
		   "www 3600 IN A 198.18.1.77\nbad 3600 IN A not-an-address\n");
	text = run_reload(&rc);
	ck_assert_int_eq(rc, -EINVAL);
	snprintf(want, sizeof(want), "reload refused, nothing changed: %s:4: ", w.zone);
	ck_assert_msg(strstr(text, want) != NULL, "%s", text);
	free(text);
	ck_assert_uint_eq(w.zones.generation, gen);
	ck_assert_str_eq(cached_a("www.example.test", a, sizeof(a)), "198.18.1.10");
	teardown();
}
END_TEST

/* The resolver settings: a new generation with the new policy and caps, the own addresses
 * kept; the running configuration records them. */
START_TEST(test_reload_settings_published)
{
	char conf[512], *text;
	const struct dp_settings *s;
	uint8_t a6[16];
	int rc;

	snprintf(conf, sizeof(conf), "hints: %s\n", w.hints);
	start(conf);
	s = dp_settings_get(&w.ctx);
	ck_assert_uint_eq(s->generation, 1);
	ck_assert_uint_eq(s->max_ttl, CTL_DEFAULT_MAX_TTL);
	ck_assert(s->qname_min);
	ck_assert_int_eq(px_addr_check4(&s->policy, inet_addr("198.51.100.7")), PX_ADDR_OK);

	snprintf(conf, sizeof(conf), "hints: %s\nmax-ttl: 60\nmax-neg-ttl: 5\n"
		 "qname-minimisation: no\ndo-not-query: 198.51.100.0/24\n"
		 "do-not-query: 2001:db8::/32\nhealth-probe: example.org A\n", w.hints);
	write_file(w.conf, conf);
	text = run_reload(&rc);
	ck_assert_msg(rc == 0, "%s", text);
	ck_assert_msg(strstr(text, "applied (changed: do-not-query, qname-minimisation, max-ttl, "
			      "max-neg-ttl, health-probe)\n") != NULL, "%s", text);
	free(text);
	s = dp_settings_get(&w.ctx);
	ck_assert_uint_eq(s->generation, 2);
	ck_assert_uint_eq(s->max_ttl, 60);
	ck_assert_uint_eq(s->max_neg_ttl, 5);
	ck_assert(!s->qname_min);
	ck_assert_uint_eq(s->probe_qtype, PX_DNS_TYPE_A);
	ck_assert_int_eq(px_addr_check4(&s->policy, inet_addr("198.51.100.7")),
			 PX_ADDR_DO_NOT_QUERY);
	inet_pton(AF_INET6, "2001:db8::53", a6);
	ck_assert_int_eq(px_addr_check6(&s->policy, a6), PX_ADDR_DO_NOT_QUERY);
	/* pollux's own address is still refused: the reload kept the running self entries. */
	ck_assert_int_eq(px_addr_check4(&s->policy, inet_addr("198.18.0.2")), PX_ADDR_SELF);
	ck_assert_uint_eq(w.cfg.max_ttl, 60);
	ck_assert(!w.cfg.qname_min);
	ck_assert_int_eq(px_addr_check4(&w.cfg.addr_policy, inet_addr("198.51.100.7")),
			 PX_ADDR_DO_NOT_QUERY);
	/* The TCP thread's view is the same policy. */
	ck_assert_int_eq(ctl_settings_check_addr(&w.settings,
						 &(const struct px_addr){.family = PX_AF_INET,
									 .a = {198, 51, 100, 7}}),
			 PX_ADDR_DO_NOT_QUERY);
	ck_assert_int_eq(ctl_settings_check_addr(&w.settings,
						 &(const struct px_addr){.family = PX_AF_INET,
									 .a = {198, 41, 0, 4}}),
			 PX_ADDR_OK);
	teardown();
}
END_TEST

/* The hints: another file by path; a bad one refused with its line, the table kept. */
START_TEST(test_reload_hints_swapped_or_kept)
{
	char conf[512], want[512], *text;
	const struct px_hints *h;
	int rc;

	snprintf(conf, sizeof(conf), "hints: %s\n", w.hints);
	start(conf);
	ck_assert_uint_eq(px_hints_get(&w.ctx)->ns_count, 2);
	snprintf(conf, sizeof(conf), "hints: %s\n", w.hints2);
	write_file(w.conf, conf);
	text = run_reload(&rc);
	ck_assert_msg(rc == 0, "%s", text);
	snprintf(want, sizeof(want), "hints: %s (generation 2)", w.hints2);
	ck_assert_msg(strstr(text, want) != NULL, "%s", text);
	free(text);
	h = px_hints_get(&w.ctx);
	ck_assert_uint_eq(h->ns_count, 1);
	ck_assert_str_eq(w.hs.source, w.hints2);
	ck_assert_str_eq(w.cfg.hints_file, w.hints2);

	/* The same path with new content is read again too. */
	write_file(w.hints2, hints_two);
	text = run_reload(&rc);
	ck_assert_msg(rc == 0, "%s", text);
	free(text);
	ck_assert_uint_eq(px_hints_get(&w.ctx)->ns_count, 2);
	ck_assert_uint_eq(w.hs.generation, 3);

	/* A do-not-query covering every root server makes the same file unusable: refused. */
	h = px_hints_get(&w.ctx);
	snprintf(conf, sizeof(conf), "hints: %s\ndo-not-query: 198.41.0.4\n"
		 "do-not-query: 170.247.170.2\n", w.hints2);
	write_file(w.conf, conf);
	text = run_reload(&rc);
	ck_assert_int_eq(rc, -EINVAL);
	snprintf(want, sizeof(want), "nothing changed: hints file %s rejected: ", w.hints2);
	ck_assert_msg(strstr(text, want) != NULL, "%s", text);
	free(text);
	ck_assert_ptr_eq(px_hints_get(&w.ctx), h);
	ck_assert_uint_eq(dp_settings_get(&w.ctx)->generation, 3);
	ck_assert_int_eq(px_addr_check4(&w.cfg.addr_policy, inet_addr("198.41.0.4")), PX_ADDR_OK);
	teardown();
}
END_TEST

/* The metrics listener: moved to another port; an address in use refuses the reload and the
 * listener in force stays; turned off. */
START_TEST(test_reload_metrics_rebind)
{
	char conf[512], want[512], *text;
	uint16_t p1 = free_port(NULL), p2 = free_port(NULL), busy;
	struct ctl_http *before;
	int rc, keep = -1;

	snprintf(conf, sizeof(conf), "hints: %s\nmetrics-listen: 127.0.0.1:%u\n", w.hints, p1);
	start(conf);
	ck_assert_uint_eq(ctl_http_port(w.st.metrics), p1);
	snprintf(conf, sizeof(conf), "hints: %s\nmetrics-listen: 127.0.0.1:%u\n"
		 "health-resolve-window: 7\n", w.hints, p2);
	write_file(w.conf, conf);
	text = run_reload(&rc);
	ck_assert_msg(rc == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "metrics-listen, health-resolve-window"));
	free(text);
	ck_assert_uint_eq(ctl_http_port(w.st.metrics), p2);
	ck_assert_uint_eq(w.cfg.health_resolve_window_s, 7);

	before = w.st.metrics;
	busy = free_port(&keep);
	snprintf(conf, sizeof(conf), "hints: %s\n\nmetrics-listen: 127.0.0.1:%u\n", w.hints, busy);
	write_file(w.conf, conf);
	text = run_reload(&rc);
	ck_assert_int_eq(rc, -EADDRINUSE);
	snprintf(want, sizeof(want), "nothing changed: %s:3: metrics-listen: cannot listen: ",
		 w.conf);
	ck_assert_msg(strstr(text, want) != NULL, "%s", text);
	free(text);
	close(keep);
	ck_assert_ptr_eq(w.st.metrics, before);
	ck_assert_uint_eq(w.cfg.health_resolve_window_s, 7);

	snprintf(conf, sizeof(conf), "hints: %s\n", w.hints);
	write_file(w.conf, conf);
	text = run_reload(&rc);
	ck_assert_msg(rc == 0, "%s", text);
	free(text);
	ck_assert_ptr_null(w.st.metrics);
	ck_assert(!w.cfg.has_metrics);
	ck_assert_uint_eq(w.cfg.health_resolve_window_s, CTL_DEFAULT_HEALTH_WINDOW_S);
	teardown();
}
END_TEST

/* All or nothing: the zones and access control prepare fine, the hints group after them fails;
 * neither the zone data nor the access table nor the settings change. */
START_TEST(test_reload_later_group_fails_nothing_applied)
{
	char conf[512], a[64], *text;
	const struct dp_access *acc;
	const struct dp_settings *set;
	int rc;

	snprintf(conf, sizeof(conf), "local-zone: %s\nhints: %s\n", w.zone, w.hints);
	start(conf);
	acc = w.ctx.access;
	set = dp_settings_get(&w.ctx);
	write_zone("198.18.1.99");
	write_file(w.hints2, "garbage\n");
	snprintf(conf, sizeof(conf), "local-zone: %s\nhints: %s\naccess-control: 198.19.0.0/16 allow\n"
		 "max-ttl: 30\n", w.zone, w.hints2);
	write_file(w.conf, conf);
	text = run_reload(&rc);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(text, "rejected: ") != NULL, "%s", text);
	free(text);
	ck_assert_str_eq(cached_a("www.example.test", a, sizeof(a)), "198.18.1.10");
	ck_assert_ptr_eq(w.ctx.access, acc);
	ck_assert_ptr_eq(dp_settings_get(&w.ctx), set);
	ck_assert_uint_eq(w.cfg.acl_rule_count, 0);
	ck_assert_uint_eq(w.cfg.max_ttl, CTL_DEFAULT_MAX_TTL);
	ck_assert_str_eq(w.cfg.hints_file, w.hints);
	ck_assert_uint_eq(w.rl.rejections, 1);
	ck_assert_uint_eq(w.rl.reloads, 0);
	teardown();
}
END_TEST

/* What a reload applied is recorded for polluxctl config; what needs a restart is not. */
START_TEST(test_reload_config_records_reload)
{
	char conf[512], *text, *shown = NULL, want[512];
	size_t len = 0;
	FILE *out;
	int rc;

	snprintf(conf, sizeof(conf), "hints: %s\ncache-size: 1024\n", w.hints);
	start(conf);
	snprintf(conf, sizeof(conf), "hints: %s\ncache-size: 2048\nmax-ttl: 90\n", w.hints);
	write_file(w.conf, conf);
	text = run_reload(&rc);
	ck_assert_msg(rc == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "needs restart (running values kept): cache-size"));
	free(text);
	out = open_memstream(&shown, &len);
	ctl_config_show(&w.cfg, out);
	fclose(out);
	snprintf(want, sizeof(want), "\nmax-ttl: 90  # %s:3, reload at ", w.conf);
	ck_assert_msg(strstr(shown, want) != NULL, "%s", shown);
	snprintf(want, sizeof(want), "\ncache-size: 1024  # %s:2\n", w.conf);
	ck_assert_msg(strstr(shown, want) != NULL, "%s", shown);
	snprintf(want, sizeof(want), "\nhints: %s  # %s:1\n", w.hints, w.conf);
	ck_assert_msg(strstr(shown, want) != NULL, "%s", shown);
	free(shown);
	teardown();
}
END_TEST

static Suite *
reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = tcase_create("groups");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_reload_zones_replace_add_remove);
	tcase_add_test(tc, test_reload_zones_bad_file_discarded);
	tcase_add_test(tc, test_reload_settings_published);
	tcase_add_test(tc, test_reload_hints_swapped_or_kept);
	tcase_add_test(tc, test_reload_metrics_rebind);
	suite_add_tcase(s, tc);
	tc = tcase_create("all_or_nothing");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_reload_later_group_fails_nothing_applied);
	tcase_add_test(tc, test_reload_config_records_reload);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	px_test_eal_init("test_reload", "0", NULL);
	dp_clock_init();
	sr = srunner_create(reload_suite());
	/* EAL state does not survive a fork. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
