/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "dp_answer.h"
#include "dp_cache.h"
#include "dp_client.h"
#include "dp_clock.h"
#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_tcp.h"
#include "dp_tx.h"

RTE_LOG_REGISTER(dp_loop_logtype, pollux.dp.loop, INFO);

void
dp_port_conf_derive(struct dp_port_conf *pc)
{
	const uint8_t *mac = pc->mac.addr_bytes;
	static const uint8_t snm_prefix[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};

	/* RFC 4291 2.5.1: modified EUI-64, universal/local bit flipped. */
	memset(pc->ip6_ll, 0, 16);
	pc->ip6_ll[0] = 0xfe;
	pc->ip6_ll[1] = 0x80;
	pc->ip6_ll[8] = mac[0] ^ 0x02;
	pc->ip6_ll[9] = mac[1];
	pc->ip6_ll[10] = mac[2];
	pc->ip6_ll[11] = 0xff;
	pc->ip6_ll[12] = 0xfe;
	pc->ip6_ll[13] = mac[3];
	pc->ip6_ll[14] = mac[4];
	pc->ip6_ll[15] = mac[5];

	/* RFC 4291 2.7.1: ff02::1:ffXX:XXXX from the low 24 bits. */
	memcpy(pc->ip6_snm, snm_prefix, 13);
	memcpy(pc->ip6_snm + 13, pc->ip6 + 13, 3);
	memcpy(pc->ip6_ll_snm, snm_prefix, 13);
	memcpy(pc->ip6_ll_snm + 13, pc->ip6_ll + 13, 3);
}

/* Idle back-off: once the port has been quiet for the grace period, leave the RCU reader set
 * (so the control thread's grace periods never wait on a sleeping worker) and give the core
 * away for a while on each empty poll. The grace is time, not a count of empty polls: under
 * steady traffic the gaps between packets are far shorter, so a loaded worker never sleeps
 * (a sleep is never shorter than asked, often much longer on a VM, and the RX ring fills
 * meanwhile: the lab measured 0.8 % loss at 60k q/s sleeping after 64 empty polls, none with
 * the grace). */
static inline bool
idle_backoff(struct dp_lcore *lc, uint64_t now_tsc, uint64_t last_rx_tsc)
{
	const struct dp_ctx *ctx = lc->ctx;

	lc->stats.idle_polls++;
	if (ctx->idle_sleep_us == 0 || now_tsc - last_rx_tsc < ctx->idle_grace_tsc)
		return false;
	/* What comes during the nap waits unread: the resolver judges its timeouts as of the
	 * nap's start (dp_miss_tick). */
	lc->nap_ms = dp_clock_ms();
	lc->napped = true;
	rte_rcu_qsbr_thread_offline(ctx->qsbr, lc->lcore_id);
	rte_delay_us_sleep(ctx->idle_sleep_us);
	rte_rcu_qsbr_thread_online(ctx->qsbr, lc->lcore_id);
	return true;
}

void
dp_loop_count_gap(struct px_stats *st, uint64_t gap_tsc, uint64_t tsc_hz)
{
	if (gap_tsc < tsc_hz / 10000)
		return;
	st->poll_gap_100us++;
	if (gap_tsc >= tsc_hz / 1000)
		st->poll_gap_1ms++;
	if (gap_tsc >= tsc_hz / 100)
		st->poll_gap_10ms++;
}

/* The control thread is stopping and restarting the port: stay out of every queue (the rings
 * of a stopped port may be unmapped) and out of the RCU reader set until it is done. */
static void
park(struct dp_lcore *lc)
{
	const struct dp_ctx *ctx = lc->ctx;

	rte_rcu_qsbr_thread_offline(ctx->qsbr, lc->lcore_id);
	__atomic_store_n(&lc->parked, true, __ATOMIC_RELEASE);
	while (__atomic_load_n(&ctx->pause, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&ctx->stop, __ATOMIC_RELAXED))
		rte_delay_us_sleep(1000);
	/* Store parked, then load pause at the loop's top, while the control thread stores pause,
	 * then loads parked: only sequentially consistent accesses on both sides keep the two
	 * from both reading the old value (a worker polling a port the control thread thinks
	 * parked). On x86 the load costs what an acquire load does. */
	__atomic_store_n(&lc->parked, false, __ATOMIC_SEQ_CST);
	rte_rcu_qsbr_thread_online(ctx->qsbr, lc->lcore_id);
}

/* A client's query over TCP: answered like a UDP one, or handed to the resolver (answered later
 * by dp_tcp_client_answer). Any other outcome goes back to the thread, empty when there is
 * nothing to send. */
static void
tcp_query(struct dp_lcore *lc, struct rte_mbuf *m)
{
	struct dp_client_addr from;
	uint16_t cap = dp_tcp_query_take(lc, m, &from);
	uint16_t rlen = dp_answer_query_tcp(lc, rte_pktmbuf_mtod(m, uint8_t *), m->data_len, cap,
					    &from);

	if (rlen == DP_ANSWER_CONSUMED)
		rte_pktmbuf_free(m);
	else
		dp_tcp_query_reply(lc, m, &from, rlen);
}

void
dp_loop_tcp(struct dp_lcore *lc)
{
	struct rte_mbuf *msgs[DP_TCP_BURST];
	unsigned n;

	dp_tcp_poll(lc, lc->miss != NULL ? dp_miss_nexthop(lc->miss) : NULL);
	n = dp_tcp_recv(lc, msgs, DP_TCP_BURST);
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = msgs[i];
		const struct dp_tcp_meta *mt = dp_tcp_meta(m);

		switch (mt->kind) {
		case DP_TCP_MSG_QUERY:
			tcp_query(lc, m);
			continue;
		case DP_TCP_MSG_UP_REPLY:
			DP_STAT_INC(lc, tcp_up_replies);
			dp_miss_tcp_reply(lc, mt, rte_pktmbuf_mtod(m, const uint8_t *),
					  m->data_len);
			break;
		case DP_TCP_MSG_UP_FAIL:
			DP_STAT_INC(lc, tcp_up_failed);
			dp_miss_tcp_reply(lc, mt, NULL, 0);
			break;
		default:
			DP_STAT_INC(lc, tcp_bad_msg);
			break;
		}
		rte_pktmbuf_free(m);
	}
}

int
dp_loop_run(void *arg)
{
	struct dp_lcore *lc = arg;
	const struct dp_ctx *ctx = lc->ctx;
	struct rte_mbuf *rx[DP_BURST], *tx[DP_BURST];
	uint64_t last_rx_tsc = rte_rdtsc();
	/* The previous poll, for the gap counters; a nap or a park moves it to their end. */
	uint64_t prev_poll_tsc;
	const uint64_t tsc_hz = rte_get_tsc_hz(), gap_min_tsc = tsc_hz / 10000;

	__atomic_store_n(&lc->poll_tsc, last_rx_tsc, __ATOMIC_RELAXED);

	rte_log(RTE_LOG_INFO, dp_loop_logtype, "worker on lcore %u polls port %u queue %u\n",
		lc->lcore_id, ctx->port.port_id, lc->queue_id);
	rte_rcu_qsbr_thread_register(ctx->qsbr, lc->lcore_id);
	rte_rcu_qsbr_thread_online(ctx->qsbr, lc->lcore_id);

	prev_poll_tsc = rte_rdtsc();
	while (likely(!__atomic_load_n(&ctx->stop, __ATOMIC_RELAXED))) {
		if (unlikely(__atomic_load_n(&ctx->pause, __ATOMIC_SEQ_CST))) {
			park(lc);
			prev_poll_tsc = rte_rdtsc();
			continue;
		}
		uint64_t t0 = rte_rdtsc();

		if (unlikely(t0 - prev_poll_tsc >= gap_min_tsc))
			dp_loop_count_gap(&lc->stats, t0 - prev_poll_tsc, tsc_hz);
		prev_poll_tsc = t0;
		__atomic_store_n(&lc->poll_tsc, t0, __ATOMIC_RELAXED);
		uint16_t n = rte_eth_rx_burst(ctx->port.port_id, lc->queue_id, rx, DP_BURST);

		lc->rx_backlog = n == DP_BURST;
		if (n == 0) {
			if (idle_backoff(lc, t0, last_rx_tsc))
				prev_poll_tsc = rte_rdtsc();
		} else {
			last_rx_tsc = t0;
			lc->stats.rx_pkts += n;
			lc->now_ms = dp_clock_ms();
			uint16_t ntx = dp_rx_burst_handle(lc, rx, n, tx);

			if (ntx != 0)
				dp_tx_port(lc, tx, ntx);
			/* What one answer costs: bench/ divides this by the answers. */
			lc->stats.busy_cycles += rte_rdtsc() - t0;
		}
		/* TCP: segments to and from the kernel, queries and replies from the TCP thread. */
		if (lc->tcp != NULL) {
			lc->now_ms = dp_clock_ms();
			dp_loop_tcp(lc);
		}
		/* Resolution: deadlines, neighbour probes, and the frames this iteration made. */
		if (lc->miss != NULL) {
			lc->now_ms = dp_clock_ms();
			dp_miss_tick(lc);
		}
		/* Nothing read from the cache is held past this point. */
		rte_rcu_qsbr_quiescent(ctx->qsbr, lc->lcore_id);
		/* What this worker replaced or evicted, freed once every reader has moved on. */
		if (lc->cache_w != NULL)
			dp_cache_writer_reclaim(lc->cache_w);
	}
	rte_rcu_qsbr_thread_offline(ctx->qsbr, lc->lcore_id);
	rte_rcu_qsbr_thread_unregister(ctx->qsbr, lc->lcore_id);
	return 0;
}
