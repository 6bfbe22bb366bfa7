/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the whole receive path: each input is one Ethernet frame, handed to
 * dp_rx_burst_handle() in an mbuf exactly as a PMD would, with a cache holding a local zone,
 * an access-control table (allow, refuse and drop prefixes of both families around the test
 * addresses) and rate limiting on, so refusals, drops and TC slips are all on the path.
 * A tagged input is taken as on a --vlan port of its VLAN ID (dp_vlan.h).
 * Every mbuf must come back (reply or drop), and nothing may be read or written out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "ctl_access.h"
#include "ctl_config.h"
#include "dp_access.h"
#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_vlan.h"
#include "testlib.h"
#include "testlib_pkt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rte_mempool *pool;
static struct dp_ctx ctx;
static struct dp_lcore lc;

static void
put(const char *name, uint16_t qtype, uint8_t kind, uint8_t rcode)
{
	static const uint8_t a_rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 198, 51, 100, 10};
	static const uint16_t off = 6;
	struct dp_cache_key k = {.qtype = qtype, .qclass = 1, .kind = kind};
	struct dp_cache_answer a = {.rcode = rcode, .flags = DP_CACHE_F_AA | DP_CACHE_F_PINNED,
				    .ttl = 300, .an_count = 1, .rr = a_rr, .rr_len = sizeof(a_rr),
				    .ttl_off = &off, .ttl_off_count = 1};
	struct dp_cache_entry *e;

	k.name_len = (uint8_t)px_test_name(k.name, name);
	e = dp_cache_entry_new(ctx.cache, &k, &a, 0);
	if (e == NULL || dp_cache_insert(ctx.cache, e) != 0)
		abort();
}

/* The table a daemon with --ip 198.18.0.2/24 --ip6 2001:2::2/64 and these rules would run. */
static void
access_setup(void)
{
	static const char *const rules[] = {
		"198.18.0.128/25 refuse", "198.18.0.64/26 drop", "198.18.0.1 allow",
		"10.0.0.0/8 allow", "10.1.0.0/16 drop", "10.1.2.0/24 refuse", "192.0.2.7 allow",
		"2001:2::/120 refuse", "2001:2::1 allow", "2001:2::80/121 drop", "::/1 drop",
		"2001:db8::/32 allow", "2001:db8:1::/48 refuse",
	};
	static const uint8_t key[16] = {0x5a};
	struct ctl_config cfg;
	char why[256];

	ctl_config_init(&cfg);
	cfg.has_ip4 = true;
	cfg.ip4 = px_test_hosts.server_ip4;
	cfg.ip4_prefix = 24;
	cfg.has_ip6 = true;
	memcpy(cfg.ip6, px_test_hosts.server_ip6, 16);
	cfg.ip6_prefix = 64;
	cfg.ratelimit = 5;
	cfg.ratelimit_burst = 3;
	cfg.ratelimit_slip = 2;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (ctl_config_add_acl(&cfg, rules[i], "fuzz", why, sizeof(why)) != 0)
			abort();
	ctx.access = ctl_access_build(&cfg, 1, why, sizeof(why));
	lc.rl = rte_zmalloc(NULL, px_rl_table_size(64, NULL), RTE_CACHE_LINE_SIZE);
	if (ctx.access == NULL || lc.rl == NULL)
		abort();
	px_rl_table_init(lc.rl, 64, key);
	ctl_config_free(&cfg);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	px_test_eal_init("fuzz_frame", "0", NULL);
	dp_clock_init();
	pool = rte_pktmbuf_pool_create("fuzz_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	ctx.qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	if (pool == NULL || ctx.qsbr == NULL || rte_rcu_qsbr_init(ctx.qsbr, RTE_MAX_LCORE) != 0)
		abort();
	ctx.cache = dp_cache_create("fuzz_cache", 64, ctx.qsbr, 0);
	if (ctx.cache == NULL)
		abort();
	memcpy(ctx.port.mac.addr_bytes, px_test_hosts.server_mac, 6);
	ctx.port.has_ip4 = true;
	ctx.port.ip4 = px_test_hosts.server_ip4;
	ctx.port.has_ip6 = true;
	memcpy(ctx.port.ip6, px_test_hosts.server_ip6, 16);
	dp_port_conf_derive(&ctx.port);
	put("www.example.test", 1, DP_CACHE_RRSET, 0);
	put("www.example.test", 0, DP_CACHE_NAME, 0);
	put("example.test", 0, DP_CACHE_ZONE, 3);
	dp_ctx_add_zone_depth(&ctx, 2);
	lc.ctx = &ctx;
	access_setup();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m, *tx[1];
	unsigned before = rte_mempool_in_use_count(pool);

	if (size > RTE_MBUF_DEFAULT_DATAROOM)
		return 0;
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		abort();
	memcpy(rte_pktmbuf_append(m, (uint16_t)size), data, size);
	/* A frame that starts with an 802.1Q or 802.1ad tag arrives as on a --vlan port of that
	 * VLAN ID, so the tag's checks, its removal and its return on the reply are fuzzed too. */
	ctx.port.vlan = 0;
	if (size >= 16 &&
	    ((data[12] == 0x81 && data[13] == 0) || (data[12] == 0x88 && data[13] == 0xa8)))
		ctx.port.vlan = (uint16_t)((data[14] << 8 | data[15]) & 0xfff);
	/* Time moves between inputs, so buckets refill and run dry in turn. */
	lc.now_ms += 37;
	if (dp_rx_burst_handle(&lc, &m, 1, tx) == 1 &&
	    (ctx.port.vlan == 0 || dp_vlan_tag_burst(&lc, tx, 1) == 1))
		rte_pktmbuf_free(tx[0]);
	if (rte_mempool_in_use_count(pool) != before)
		abort(); /* an mbuf leaked or was freed twice */
	return 0;
}
