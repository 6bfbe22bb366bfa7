/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollux: EAL and port setup, worker launch, the control thread's loop, and shutdown.
 *
 * Usage: pollux [EAL options] -- [pollux options]; `pollux --help` lists pollux's own.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <pollux/addr_policy.h>
#include <pollux/ctl_proto.h>
#include <pollux/prime.h>
#include <pollux/upstream.h>
#include <pollux/wire.h>

#include "ctl_access.h"
#include "ctl_api.h"
#include "ctl_config.h"
#include "ctl_health.h"
#include "ctl_hints_reload.h"
#include "ctl_http.h"
#include "ctl_metrics.h"
#include "ctl_prime.h"
#include "ctl_reload.h"
#include "ctl_settings.h"
#include "ctl_sockio.h"
#include "ctl_stats.h"
#include "ctl_systemd.h"
#include "ctl_tcp.h"
#include "ctl_tun.h"
#include "ctl_zones.h"
#include "ctl_cache_cmd.h" /* and dp_cache.h */
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_worker.h"

RTE_LOG_REGISTER(ctl_main_logtype, pollux.ctl.main, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_main_logtype, "pollux: " __VA_ARGS__)

/* The control loop wakes at least this often: cache inserts from workers wait at most this
 * long in the feed, and expired entries are swept at this pace. */
#define TICK_MS 20
#define IDLE_GRACE_US 1000 /* quiet this long before a worker starts to sleep */
#define HANDOFF_RING_SIZE 1024 /* replies waiting for their worker, per worker */
#define MBUF_CACHE 256
/* A net_memif link down this long is a peer that went away: the port is restarted, and a start
 * that fails (no peer listening yet) is retried this often. */
#define PORT_RESTART_MS 1000
#define PARK_WAIT_MS 1000 /* workers park within a loop iteration, or one idle sleep */

/* Splits argv at "--": EAL gets what comes before, pollux what comes after (with argv[0]). */
static int
find_dashdash(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return -1;
}

static bool
wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* What pollux tells systemd (ctl_systemd.h): control thread only. */
static struct ctl_systemd sd;

/* pollux's own arguments, kept for polluxctl reload, which parses them again. */
static char *own_argv[256];
static int own_argc;

static void
parse_own_options(struct ctl_config *cfg, int argc, char **argv)
{
	int dd = find_dashdash(argc, argv);
	char err[512];

	own_argv[own_argc++] = argv[0];
	/* `pollux --check-hints FILE [options]` runs offline: no EAL part, no "--" needed. */
	if (dd < 0 && argc > 1 && strncmp(argv[1], "--check-hints", 13) == 0)
		dd = 0;
	if (dd >= 0)
		for (int i = dd + 1; i < argc && own_argc < (int)RTE_DIM(own_argv) - 1; i++)
			own_argv[own_argc++] = argv[i];
	own_argv[own_argc] = NULL;
	ctl_config_init(cfg);
	if (ctl_config_parse_args(cfg, own_argc, own_argv, err, sizeof(err)) != 0 ||
	    ctl_config_validate(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "pollux: %s\n(pollux --help lists the options)\n", err);
		ctl_config_free(cfg);
		exit(EXIT_FAILURE);
	}
}

/* Configures the port with one RX/TX queue pair per worker, RSS across them when the port
 * can, and starts it. Exits with a clear message when the port cannot serve. */
static struct rte_mempool *
port_setup(struct ctl_state *st, struct dp_ctx *ctx, uint16_t nb_q)
{
	const struct ctl_config *cfg = st->cfg;
	uint16_t port = cfg->port_id;
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_mempool *pool;
	uint16_t rxd = cfg->rx_desc, txd = cfg->tx_desc;
	int ret, socket;

	if (!rte_eth_dev_is_valid_port(port))
		rte_exit(EXIT_FAILURE, "port %u does not exist (%u ports found; give a device to "
			 "the EAL, e.g. --vdev net_af_packet0,iface=eth0, and --port to pick it)\n",
			 port, rte_eth_dev_count_avail());
	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		rte_exit(EXIT_FAILURE, "port %u: cannot get device info: %s\n", port,
			 rte_strerror(-ret));
	snprintf(st->driver, sizeof(st->driver), "%s", info.driver_name);
	/* A memif client restarts when its peer goes (port_watch). Not in zero-copy mode: there
	 * DPDK 22.11's PMD keeps the old rings' mbufs on every new connection and, on this
	 * project's machine, never linked up again after a restart. */
	const struct rte_devargs *da = rte_dev_devargs(info.device);

	st->port_restartable = strcmp(info.driver_name, "net_memif") == 0 &&
			       !(da != NULL && da->args != NULL &&
				 strstr(da->args, "zero-copy=yes") != NULL);
	if (nb_q > info.max_rx_queues || nb_q > info.max_tx_queues)
		rte_exit(EXIT_FAILURE, "port %u (%s) has %u RX / %u TX queues; %u workers need one "
			 "each: give fewer worker lcores\n", port, info.driver_name,
			 info.max_rx_queues, info.max_tx_queues, nb_q);

	memset(&conf, 0, sizeof(conf));
	if (nb_q > 1) {
		/* Addresses only, where the port can: every query of one client then reaches one
		 * worker, whose token bucket alone holds it to --ratelimit (README). */
		uint64_t hf = info.flow_type_rss_offloads & RTE_ETH_RSS_IP;

		if (hf == 0) {
			hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
			LOG(NOTICE, "port %u (%s) cannot hash on addresses alone: one client may be "
			    "spread over the workers, each limiting it to --ratelimit\n", port,
			    info.driver_name);
		}
		if (hf == 0)
			rte_exit(EXIT_FAILURE, "port %u (%s) has no RSS to spread %u queues: run "
				 "one worker lcore\n", port, info.driver_name, nb_q);
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = hf;
	}
	/* --vlan (dp_vlan.h): the port strips and inserts the tag where it advertises it can. */
	ctx->port.vlan = cfg->vlan;
	if (cfg->vlan != 0) {
		conf.rxmode.offloads |= info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
		conf.txmode.offloads |= info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
		ctx->port.vlan_tx_hw = conf.txmode.offloads != 0;
		LOG(INFO, "VLAN %u: tag stripped by the %s, inserted by the %s\n", cfg->vlan,
		    conf.rxmode.offloads != 0 ? "port" : "workers",
		    ctx->port.vlan_tx_hw ? "port" : "workers");
	}
	socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)rte_socket_id();
	ret = rte_eth_dev_configure(port, nb_q, nb_q, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	if (ret != 0)
		rte_exit(EXIT_FAILURE, "port %u (%s): configure failed: %s\n", port,
			 info.driver_name, rte_strerror(-ret));
	/* Every descriptor can hold an mbuf, every lcore's cache can hold 1.5 times its size,
	 * and a burst is in flight per worker: fewer than that and RX refills fail under load,
	 * where no pollux counter would see the loss. With several workers, their hand-off rings
	 * can hold replies too. */
	uint32_t need = nb_q * (rxd + txd + DP_BURST) + (nb_q + 1) * MBUF_CACHE * 3 / 2 +
			(nb_q > 1 ? nb_q * HANDOFF_RING_SIZE : 0);
	uint32_t nb_mbufs = RTE_MAX(cfg->mbufs, need);

	if (nb_mbufs > cfg->mbufs)
		LOG(NOTICE, "mbuf pool raised from %u to %u to cover %u queues of %u+%u "
		    "descriptors\n", cfg->mbufs, nb_mbufs, nb_q, rxd, txd);
	pool = rte_pktmbuf_pool_create("pollux_mbufs", nb_mbufs, MBUF_CACHE, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (pool == NULL)
		rte_exit(EXIT_FAILURE, "cannot create %u mbufs: %s (reserve hugepages, or give "
			 "the EAL --no-huge -m 512)\n", nb_mbufs, rte_strerror(rte_errno));
	for (uint16_t q = 0; ret == 0 && q < nb_q; q++) {
		ret = rte_eth_rx_queue_setup(port, q, rxd, socket, NULL, pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(port, q, txd, socket, NULL);
	}
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret != 0)
		rte_exit(EXIT_FAILURE, "port %u (%s): setup failed: %s\n", port, info.driver_name,
			 rte_strerror(-ret));
	/* Neighbour solicitations go to multicast addresses; a port that cannot take them
	 * still serves IPv4 and unicast IPv6, so only say so. */
	if (ctx->port.has_ip6 && rte_eth_allmulticast_enable(port) != 0)
		LOG(WARNING, "port %u: cannot enable all-multicast; IPv6 neighbour discovery may "
		    "fail\n", port);
	ctx->port.port_id = port;
	rte_eth_macaddr_get(port, &ctx->port.mac);
	return pool;
}

/*
 * What the workers share (dp_worker.h): RCU, the cache, the priming record when a resolving
 * worker primes, and with recursion the neighbour table and, with two or more workers, the
 * source-port owner map and one hand-off ring each, for replies RSS delivered to the wrong
 * queue.
 */
static void
shared_setup(struct dp_ctx *ctx, const struct ctl_config *cfg, bool recurse)
{
	unsigned workers = rte_lcore_count() - 1;
	struct dp_worker_ctx_conf c = {
		.name = "pollux",
		.socket = (int)rte_socket_id(),
		.cache_size = cfg->cache_size,
		.resolvers = (uint16_t)(recurse ? workers : 0),
		.handoff_size = HANDOFF_RING_SIZE,
		.prime = cfg->priming && recurse,
	};
	int ret;

	if (recurse && workers >= UINT8_MAX)
		rte_exit(EXIT_FAILURE, "recursion supports at most %u workers\n", UINT8_MAX - 1);
	ret = dp_worker_ctx_build(ctx, &c);
	if (ret != 0)
		rte_exit(EXIT_FAILURE, "cannot create a cache of %u entries and the workers' shared "
			 "state: %s\n", cfg->cache_size, strerror(-ret));
	if (recurse && workers >= 2)
		LOG(INFO, "%u resolving workers: replies are handed to the worker owning their "
		    "port\n", workers);
}

/* Builds one worker per worker lcore (dp_worker.h) and launches them. rconf: the resolution
 * settings, or NULL with recursion off. */
static void
launch_workers(struct ctl_state *st, struct dp_miss_conf *rconf)
{
	unsigned lcore, n = 0;

	st->workers = rte_zmalloc("pollux_workers", sizeof(*st->workers) * RTE_MAX_LCORE, 0);
	if (st->workers == NULL)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct dp_worker_conf wc = {
			.ctx = st->ctx,
			.lcore_id = lcore,
			.index = (uint16_t)n,
			.pool = st->pool,
			.miss = rconf,
			.now_ms = dp_clock_ms(),
			.ratelimit_size = st->cfg->ratelimit_size,
			.tcp = ctl_tcp_worker(st->tcp, n),
			.tap = ctl_dnstap_tap(st->dnstap, n),
		};

		if (rconf != NULL) {
			/* One worker primes: the first. */
			rconf->prime = st->ctx->prime_status != NULL && n == 0;
			/* The health probe too (ctl_health.h), which asks only while the window
			 * check is on: a reload may turn it on. */
			rconf->probe = n == 0;
		}
		st->workers[n] = dp_worker_build(&wc);
		if (st->workers[n] == NULL)
			rte_exit(EXIT_FAILURE, "cannot set up the worker on lcore %u (%u resolution "
				 "slots, %u rate-limit buckets): %s\n", lcore,
				 rconf != NULL ? rconf->slots : 0, st->cfg->ratelimit_size,
				 strerror(errno));
		n++;
	}
	st->worker_count = n;
	for (unsigned i = 0; i < n; i++)
		rte_eal_remote_launch(dp_loop_run, st->workers[i], st->workers[i]->lcore_id);
}

/* DNS over TCP (ctl_tun.h, ctl_tcp.h): the tun port with one queue per worker and the TCP
 * thread's rings, before the workers launch. A failure exits: the operator asked for TCP (it is
 * on by default) and --tcp off says how to run without it. */
static void
tcp_setup(struct ctl_state *st, struct ctl_tun *tun, struct ctl_settings *settings)
{
	const struct ctl_config *cfg = st->cfg;
	uint16_t nb_q = (uint16_t)(rte_lcore_count() - 1);
	struct ctl_tcp_conf tc = {
		.has_ip4 = cfg->has_ip4,
		.ip4 = cfg->ip4,
		.has_ip6 = cfg->has_ip6,
		.port = PX_DNS_PORT,
		.workers = nb_q,
		.policy = &cfg->addr_policy,
		.settings = settings,
		.access = st->access,
		.conn_per_client = cfg->tcp_conn_per_client,
	};
	char err[256];

	if (ctl_tun_open(tun, cfg->tcp_iface, nb_q, cfg->has_ip4, cfg->ip4, cfg->has_ip6, cfg->ip6,
			 err, sizeof(err)) != 0)
		rte_exit(EXIT_FAILURE, "TCP exception path: %s (--tcp off runs without TCP)\n",
			 err);
	memcpy(tc.ip6, cfg->ip6, 16);
	tc.tun_port = tun->port_id;
	st->tcp = ctl_tcp_create(&tc, err, sizeof(err));
	if (st->tcp == NULL)
		rte_exit(EXIT_FAILURE, "%s (--tcp off runs without TCP)\n", err);
}

static int
api_handler(void *arg, int argc, char **argv, FILE *out)
{
	struct ctl_state *st = arg;

	if (argc == 1 && strcmp(argv[0], "status") == 0) {
		ctl_stats_print_status(st, out);
		return 0;
	}
	if (argc == 1 && strcmp(argv[0], "stats") == 0) {
		ctl_stats_print(st, out);
		return 0;
	}
	if (argc == 1 && strcmp(argv[0], "hints") == 0) {
		ctl_hints_print(st->hints, out);
		if (st->prime != NULL)
			ctl_prime_print(st->prime, out, dp_clock_ms());
		return 0;
	}
	if (argc == 1 && strcmp(argv[0], "reload-hints") == 0)
		return ctl_hints_reload(st->hints, "control", out);
	if (argc == 1 && strcmp(argv[0], "tcp") == 0) {
		ctl_tcp_print(st->tcp, out);
		return 0;
	}
	if (argc == 1 && strcmp(argv[0], "acl") == 0) {
		ctl_access_print(st->access, out);
		return 0;
	}
	if (argc == 1 && strcmp(argv[0], "reload") == 0)
		return ctl_systemd_reload(&sd, st->reload, "control", out);
	if (argc == 1 && strcmp(argv[0], "config") == 0) {
		ctl_config_show(st->cfg, out);
		return 0;
	}
	/* Unhealthy is an ERR reply: polluxctl then exits 1, with the reasons. */
	if (argc == 1 && strcmp(argv[0], "health") == 0)
		return ctl_health_report(st->health, st, out) == 0 ? 0 : -1;
	if (ctl_cache_cmd_handles(argv[0]))
		return ctl_cache_cmd(st->ctx->cache, &st->dump, argc, argv, out, dp_clock_ms());
	fprintf(out, "unknown command '%s'; known: status, stats, hints, reload-hints, tcp, acl, "
		"reload, config, health, flush, flush-zone, flush-all, lookup, dump-cache\n",
		argc > 0 ? argv[0] : "");
	return -1;
}

/* Sets or clears ctx->pause; when setting, waits until every worker has parked (outside every
 * burst, RCU offline). Returns false, with pause cleared again, when one did not in time. */
static bool
workers_pause(struct ctl_state *st, bool pause)
{
	uint64_t deadline = dp_clock_ms() + PARK_WAIT_MS;

	/* Sequentially consistent, with the worker's side (dp_loop.c, park). */
	__atomic_store_n(&st->ctx->pause, pause, __ATOMIC_SEQ_CST);
	if (!pause)
		return true;
	for (unsigned i = 0; i < st->worker_count; i++)
		while (!__atomic_load_n(&st->workers[i]->parked, __ATOMIC_SEQ_CST)) {
			if (dp_clock_ms() > deadline) {
				__atomic_store_n(&st->ctx->pause, false, __ATOMIC_RELEASE);
				return false;
			}
			rte_delay_us_sleep(100);
		}
	return true;
}

/* Starts the stopped port; on success the workers go back to it. */
static void
port_start(struct ctl_state *st, uint64_t now)
{
	int ret = rte_eth_dev_start(st->ctx->port.port_id);

	if (ret != 0) {
		st->port_restart_failures++;
		st->port_retry_ms = now + PORT_RESTART_MS;
		return;
	}
	st->port_stopped = false;
	st->port_restarts++;
	st->link_down_ms = now; /* the new connection gets PORT_RESTART_MS to come up */
	LOG(NOTICE, "port_restarted: port %u started again after its link went down\n",
	    st->ctx->port.port_id);
	workers_pause(st, false);
}

/*
 * Watches the port's link once per tick. Down and up are logged and counted. The net_memif
 * client connects to its peer only in rte_eth_dev_start, so when its peer goes away the port
 * never comes back by itself: after PORT_RESTART_MS down, the workers are parked (the port must
 * not be polled while it is stopped and started) and the port restarted, retried every
 * PORT_RESTART_MS until a peer is there.
 *
 * This does not protect the workers from the teardown itself: net_memif unmaps the shared rings
 * on the EAL interrupt thread the moment the peer goes, while a worker may be inside a burst
 * (README, "net_memif"); the link reads down only as that happens.
 */
static void
port_watch(struct ctl_state *st)
{
	uint16_t port = st->ctx->port.port_id;
	uint64_t now = dp_clock_ms();
	struct rte_eth_link link;

	if (st->port_stopped) {
		if (now >= st->port_retry_ms)
			port_start(st, now);
		return;
	}
	if (rte_eth_link_get_nowait(port, &link) != 0)
		return;
	if (link.link_status == RTE_ETH_LINK_UP) {
		if (!st->link_up)
			LOG(NOTICE, "link_up: port %u\n", port);
		st->link_up = true;
		return;
	}
	if (st->link_up) {
		st->link_up = false;
		st->link_down_ms = now;
		st->link_down_events++;
		LOG(WARNING, "link_down: port %u%s\n", port,
		    st->port_restartable ? ", restarting it until its memif peer is back" : "");
	}
	if (!st->port_restartable || now - st->link_down_ms < PORT_RESTART_MS)
		return;
	if (!workers_pause(st, true)) {
		st->port_restart_failures++;
		st->link_down_ms = now;
		LOG(WARNING, "port_restart_skipped: a worker did not park within %u ms\n",
		    PARK_WAIT_MS);
		return;
	}
	rte_eth_dev_stop(port);
	st->port_stopped = true;
	port_start(st, now);
}

/* Blocks the signals the control thread handles, in this thread and, because EAL threads
 * inherit the mask, in every thread created after: only signalfd sees them. */
static int
signals_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void
control_loop(struct ctl_state *st, struct ctl_api *api, int sfd)
{
	struct pollfd pfd[4] = {
		{.fd = sfd, .events = POLLIN},
		{.fd = ctl_api_fd(api), .events = POLLIN},
		{.fd = ctl_hints_watch_fd(st->hints), .events = POLLIN}, /* -1: ignored */
		{.fd = ctl_http_fd(st->metrics), .events = POLLIN},      /* -1: ignored */
	};

	for (;;) {
		/* A reload may have moved the hints watch or the metrics listener. */
		pfd[2].fd = ctl_hints_watch_fd(st->hints);
		pfd[3].fd = ctl_http_fd(st->metrics);
		int n = poll(pfd, RTE_DIM(pfd), TICK_MS);

		if (n < 0 && errno != EINTR) {
			LOG(ERR, "poll: %s\n", strerror(errno));
			return;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					/* The whole configuration, the hints file with it. */
					ctl_systemd_reload(&sd, st->reload, "sighup", NULL);
				} else {
					LOG(NOTICE, "signal %u: shutting down\n", si.ssi_signo);
					return;
				}
			}
		}
		if (pfd[1].revents & POLLIN)
			ctl_api_serve(api, 1000);
		if (pfd[2].revents & POLLIN)
			ctl_hints_watch_read(st->hints, dp_clock_ms());
		/* Every tick, ready or not: stalled metrics clients are closed on time. */
		ctl_http_serve(st->metrics, ctl_sockio_now_ms());
		ctl_hints_tick(st->hints, dp_clock_ms());
		ctl_prime_tick(st->prime);
		port_watch(st);
		ctl_health_tick(st->health, st, dp_clock_ms());
		ctl_systemd_tick(&sd, st, dp_clock_ms());
		ctl_cache_tick(st->ctx->cache, &st->dump, dp_clock_ms(), st->cfg->serve_stale_max);
	}
}

int
main(int argc, char **argv)
{
	static struct ctl_config cfg;
	static struct dp_ctx ctx;
	static struct ctl_state st;
	static struct ctl_hints_state hints;
	static struct ctl_prime_state prime;
	static struct ctl_tun tun;
	static struct ctl_access access;
	static struct ctl_reload reload;
	static struct ctl_health health;
	static struct ctl_settings settings;
	static struct ctl_zones zones;
	static struct dp_miss_conf rconf;
	struct ctl_api *api;
	char err[CTL_HINTS_REASONS_LEN + 256];
	bool recurse;
	int ret, sfd;

	if (wants_help(argc, argv)) {
		ctl_config_usage(stdout, argv[0]);
		printf("\nEAL options (DPDK's): the main lcore is the control thread, every other\n"
		       "lcore a worker with its own RX/TX queue pair. For example:\n"
		       "  %s -l 0,1 -a 0000:03:00.0 -- --ip 192.0.2.53/24 --gateway 192.0.2.1\n"
		       "  %s -l 0,1 --vdev net_af_xdp0,iface=eth1 -- --ip 192.0.2.53/24\n",
		       argv[0], argv[0]);
		return EXIT_SUCCESS;
	}
	/* While pollux has one thread: it removes the manager's variables from the environment. */
	ctl_systemd_open(&sd);
	/* Our options are checked before the EAL takes hugepages and devices, so a typo fails
	 * fast and says what is wrong. */
	parse_own_options(&cfg, argc, argv);
	/* pollux never queries itself or its subnet's broadcast, whatever a referral says (the
	 * link-local address is added once the port's MAC is known). */
	if (cfg.has_ip4)
		px_addr_policy_set_self4(&cfg.addr_policy, cfg.ip4, cfg.ip4_prefix);
	if (cfg.has_ip6)
		px_addr_policy_set_self6(&cfg.addr_policy, cfg.ip6);
	if (cfg.check_hints != NULL) {
		ret = ctl_hints_check(&cfg, cfg.check_hints, stdout);
		ctl_config_free(&cfg);
		return ret == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	st.cfg = &cfg;
	st.hints = &hints;
	st.prime = &prime;
	st.health = &health;
	st.ctx = &ctx;
	ctx.port.has_ip4 = cfg.has_ip4;
	ctx.port.ip4 = cfg.ip4;
	ctx.port.ip4_prefix = cfg.ip4_prefix;
	ctx.port.has_ip6 = cfg.has_ip6;
	memcpy(ctx.port.ip6, cfg.ip6, 16);
	ctx.port.ip6_prefix = cfg.ip6_prefix;
	ctx.idle_sleep_us = cfg.idle_sleep_us;

	sfd = signals_block();
	if (sfd < 0) {
		fprintf(stderr, "pollux: cannot set up signal handling: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	ret = rte_eal_init(find_dashdash(argc, argv) > 0 ? find_dashdash(argc, argv) : argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "EAL initialisation failed: %s\n", rte_strerror(rte_errno));
	dp_clock_init();
	ctx.idle_grace_tsc = rte_get_tsc_hz() / 1000000 * IDLE_GRACE_US;
	if (rte_lcore_count() < 2)
		rte_exit(EXIT_FAILURE, "pollux needs at least two lcores: the main lcore runs the "
			 "control thread, every other one a worker (e.g. -l 0,1)\n");

	st.pool = port_setup(&st, &ctx, (uint16_t)(rte_lcore_count() - 1));
	dp_port_conf_derive(&ctx.port);
	px_addr_policy_set_self6(&cfg.addr_policy, ctx.port.ip6_ll);
	recurse = ctl_settings_recurse_conf(&cfg, &rconf);
	shared_setup(&ctx, &cfg, recurse);
	ctl_prime_init(&prime, &cfg, &ctx);
	if (ctl_zones_start(&zones, &ctx, &cfg, dp_clock_ms(), err, sizeof(err)) != 0)
		rte_exit(EXIT_FAILURE, "local zone rejected: %s\n", err);
	st.zones = &zones;
	if (ctl_settings_start(&settings, &cfg, &ctx) != 0)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	if (ctl_hints_start(&hints, &cfg, &ctx, err, sizeof(err)) != 0)
		rte_exit(EXIT_FAILURE, "%s", err);
	st.access = &access;
	st.reload = &reload;
	if (ctl_access_start(&access, &cfg, &ctx, (uint16_t)(rte_lcore_count() - 1), err,
			     sizeof(err)) != 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);
	if (ctl_reload_init(&reload, &cfg, own_argc, own_argv, &access,
			    (uint16_t)(rte_lcore_count() - 1)) != 0)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	reload.zones = &zones;
	reload.settings = &settings;
	reload.hints = &hints;
	reload.st = &st;

	api = ctl_api_open(cfg.control_path, api_handler, &st);
	if (api == NULL)
		rte_exit(EXIT_FAILURE, "control socket %s: %s\n", cfg.control_path, strerror(errno));
	ctl_cache_dump_init(&st.dump, ctx.cache, api);
	if (cfg.has_metrics) {
		st.metrics = ctl_http_open((const struct sockaddr *)&cfg.metrics_addr,
					   cfg.metrics_addr_len, ctl_metrics_render, &st);
		if (st.metrics == NULL)
			rte_exit(EXIT_FAILURE, "--metrics-listen: cannot listen: %s\n",
				 strerror(errno));
		ctl_http_set_health(st.metrics, ctl_health_http, &st);
		LOG(INFO, "metrics: GET /metrics and /health on TCP port %u\n",
		    ctl_http_port(st.metrics));
	}
	if (ctl_stats_telemetry_register(&st) != 0)
		LOG(WARNING, "telemetry commands not registered\n");

	if (cfg.tcp)
		tcp_setup(&st, &tun, &settings);
	if (cfg.dnstap.path && !(st.dnstap = ctl_dnstap_open(&cfg.dnstap, err, sizeof(err))))
		rte_exit(EXIT_FAILURE, "%s\n", err);
	if (ctl_systemd_start(&sd, cfg.idle_sleep_us, rte_lcore_count() - 1, dp_clock_ms()) != 0)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	launch_workers(&st, recurse ? &rconf : NULL);
	if (st.tcp != NULL && ctl_tcp_start(st.tcp, err, sizeof(err)) != 0) {
		LOG(ERR, "tcp_unavailable: %s\n", err);
		__atomic_store_n(&ctx.stop, true, __ATOMIC_RELAXED);
		rte_eal_mp_wait_lcore();
		rte_exit(EXIT_FAILURE, "%s (--tcp off runs without TCP)\n", err);
	}
	st.start_ms = dp_clock_ms();
	st.link_down_ms = st.start_ms; /* a memif link has PORT_RESTART_MS to come up at start */
	LOG(NOTICE, "serving on port %u (%s) with %u workers; control socket %s\n",
	    ctx.port.port_id, st.driver, st.worker_count, cfg.control_path);

	control_loop(&st, api, sfd);
	ctl_systemd_stopping(&sd);

	__atomic_store_n(&ctx.stop, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	ctl_dnstap_free(st.dnstap); /* after the workers: the rings are written out whole */
	ctl_tcp_free(st.tcp);
	ctl_tun_close(&tun);
	ctl_stats_telemetry_withdraw();
	ctl_cache_dump_stop(&st.dump);
	ctl_api_close(api);
	ctl_http_close(st.metrics);
	ctl_hints_stop(&hints);
	ctl_access_stop(&access);
	ctl_settings_stop(&settings);
	ctl_zones_free(&zones);
	ctl_reload_free(&reload);
	rte_eth_dev_stop(ctx.port.port_id);
	rte_eth_dev_close(ctx.port.port_id);
	for (unsigned i = 0; i < st.worker_count; i++)
		dp_worker_free(st.workers[i]);
	rte_free(st.workers);
	dp_worker_ctx_free(&ctx);
	rte_mempool_free(st.pool);
	close(sfd);
	ctl_config_free(&cfg);
	ctl_systemd_close(&sd);
	rte_eal_cleanup();
	return EXIT_SUCCESS;
}
