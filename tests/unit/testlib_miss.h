/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rig of the miss-path suites (test_miss_*.c, test_stale.c): one worker built as the
 * daemon builds it (dp_worker.h), with its resolution state, cache writer, TCP side and, when a
 * case asks, priming, the health probe, or a second worker sharing the reply hand-off. The
 * test plays every other host through a net_ring port: the client, the gateway (it answers the
 * worker's ARP request), the root server of a one-server hints table and the authoritative
 * servers below it (testlib_miss_dns.c), and the TCP thread.
 *
 * The worker is not launched: the test steps it on the main lcore (tm_rx, tm_step: the RX
 * burst, then the TCP poll and the resolution tick, in dp_loop_run's order) and owns its clock,
 * tm.now, which moves only when a case moves it. Everything the worker does runs the worker's
 * code; only time is the test's, so deadlines are exact to the millisecond, nothing waits on
 * the wall clock, and after each step everything the worker sent is already on the port.
 *
 * Each case is a test case of its own and builds its own rig (a checked fixture: tm_setup_*
 * before, tm_teardown after, even when the case fails), so any case runs alone:
 * CK_RUN_CASE=<test name>. The EAL, the mbuf pools
 * and the ports are the process's (tm_run), and are drained between cases.
 *
 * Every frame the worker sends passes one reader (tm_tx_next) that checks it is for the
 * client, an ARP request for the gateway or the on-link server, or a datagram to an address
 * the policy allows, so no case can miss a frame sent where it must not be.
 */
#pragma once

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include <pollux/addr_policy.h>
#include <pollux/hints.h>
#include <pollux/wire.h>

#include "ctl_config.h"
#include "ctl_prime.h"
#include "dp_lcore.h"
#include "dp_miss.h"
#include "dp_tcp.h"
#include "testlib.h"
#include "testlib_pkt.h"

#define GW_IP4 RTE_BE32(0xc6120001)      /* 198.18.0.1 */
#define ROOT_IP4 RTE_BE32(0xc6120101)    /* 198.18.1.1 */
#define EXAMPLE_IP4 RTE_BE32(0xc6120301) /* 198.18.3.1 */
#define SLOW1_IP4 RTE_BE32(0xc6120401)   /* 198.18.4.1 */
#define SLOW2_IP4 RTE_BE32(0xc6120402)   /* 198.18.4.2 */
#define DEAD_IP4 RTE_BE32(0xc6120501)    /* 198.18.5.1 */
#define FORGED_IP4 RTE_BE32(0xc6120601)  /* 198.18.6.1 */
#define ONLINK_IP4 RTE_BE32(0xc6120035)  /* 198.18.0.53: in pollux's 198.18.0.0/24 */
#define NOARP_IP4 RTE_BE32(0xc6120036)   /* 198.18.0.54: the same, silent on the link */
#define TC_IP4 RTE_BE32(0xc6120701)      /* 198.18.7.1 */
#define TC2A_IP4 RTE_BE32(0xc6120801)    /* 198.18.8.1 */
#define TC2B_IP4 RTE_BE32(0xc6120802)    /* 198.18.8.2 */
#define ANSWER_ADDR "198.51.100.7"
#define TM_SLOTS 64 /* client slots (and resolutions) of each worker */

/* The client, and pollux itself (the hosts' "server"). */
extern const struct px_test_hosts tm_hosts;
extern const uint8_t tm_gw_mac[6], tm_onlink_mac[6];
extern const uint8_t tm_root_name[1];

/* What a case's rig has beyond the plain resolving worker. */
struct tm_conf {
	bool prime;       /* the worker primes at start (". NS" to the hint) */
	bool probe;       /* it resolves the health probe (". NS") when ctx.probe_seq moves */
	bool crowd;       /* no fair share and no jostle: crowds come from one client address */
	bool two_workers; /* a second worker (queue 1) shares the port owner map and hand-off */
	bool no_gateway;  /* no gateway: on-link servers only (the root hint is off-link) */
	bool no_cache;    /* the worker caches nothing (no cache writer): every miss asks again */
	/* A suite's own resolution settings (slots, fair share, serve-stale ...), applied over
	 * the rig's, or NULL. */
	void (*miss)(struct dp_miss_conf *rc);
};

/* An upstream query as the worker sent it. */
struct tm_upq {
	uint32_t dst; /* network order */
	uint16_t sport;
	uint16_t id;
	uint16_t qtype;
	char qname[PX_DNS_NAME_BUF];
};

/* A frame the worker sent: an upstream query (parsed, mbuf freed) or a client answer. */
struct tm_frame {
	bool upstream;
	struct tm_upq q;
	struct rte_mbuf *m; /* a client answer: the caller frees it */
	const uint8_t *dns;
	uint16_t dns_len;
	uint16_t dport;
};

/* The rig of the case running: built by its fixture, freed after it. */
struct tm_rig {
	struct dp_ctx ctx;
	struct dp_lcore *w;     /* the worker, queue 0 */
	struct dp_lcore *other; /* the second worker (two_workers), never stepped but for RX */
	struct dp_tcp_lcore tcp;
	struct ctl_config cfg;
	struct ctl_prime_state prime; /* the control side of priming (ctl_prime.h) */
	struct px_addr_policy policy;
	struct px_hints *hints;
	uint64_t now;               /* the worker's clock: the test's */
	unsigned mbuf_baseline;     /* mbufs in use once the rig was built */
	unsigned msg_baseline;      /* TCP messages in use then */
	struct tm_upq prime_q;      /* the last priming query the worker sent */
	int last_ede;               /* the EDE of the last answer tm_check_answer read, or -1 */
	char last_ede_text[PX_DNS_EDE_TEXT_MAX + 1];
};

extern struct tm_rig tm;
extern struct rte_mempool *tm_pool, *tm_msg_pool;
extern struct rte_ring *tm_rx_ring, *tm_tx_ring, *tm_tun_tx_ring;

#define TM_STAT(name) (tm.w->stats.name)
#define TM_OTHER_STAT(name) (tm.other->stats.name)

/* Fixtures (tcase_add_checked_fixture): the rig each suite's cases run on. */
void tm_setup_plain(void);  /* priming on, as in the daemon, and already done (tm_ready) */
void tm_setup_pair(void);   /* the same, with a second worker */
void tm_setup_primer(void); /* priming and the probe on, not started: the case drives it */
void tm_setup_crowd(void);  /* priming off, no fair share; gateway learned */
void tm_setup_no_gateway(void); /* priming off, no gateway at all */
/* Frees the rig, and the settings a case published (calloc'd, as test cases make them). */
void tm_teardown(void);

/* Adds test t to s as a test case of its own, named as the test (so that CK_RUN_CASE=<test>
 * runs it alone), on the rig setup builds; tm_teardown frees it after the test. */
void tm_add_case(Suite *s, const TTest *t, void (*setup)(void));

/* Builds the rig from c, with the clock at an arbitrary start; nothing stepped yet. */
void tm_build(const struct tm_conf *c);

/* Starts the EAL, the pools and the ports, runs s (no fork), cleans up; returns the exit
 * status. */
int tm_run(const char *prog, Suite *s);

/* One loop iteration of the worker at now (>= tm.now): the TCP poll, the resolution tick
 * (deadlines, probes, priming, TX), its cache writer's reclaim. */
void tm_step(uint64_t now);
/* One frame to the worker at tm.now: its RX burst (and what that answers at once, sent), then
 * the rest of that loop iteration. */
void tm_rx(const uint8_t *frame, uint16_t len);

/* The next frame the worker sent (audited), or NULL if it sent nothing more. */
struct rte_mbuf *tm_tx_next(void);
/* The next frame must be a client answer or an upstream query: parsed into f. */
void tm_frame_next(struct tm_frame *f);
/* The next frame, skipping ARP requests for the gateway: false when nothing more was sent. */
bool tm_frame(struct tm_frame *f);
/* The next upstream query, skipping ARP requests for the gateway: false when none was sent. */
bool tm_sent(struct tm_upq *q);
/* The clock moves by ms and the worker sends nothing. */
void tm_expect_quiet(uint64_t ms);
/* The clock runs up to `to` (excluded), step_ms at a time; the worker sends no query on the
 * way (ARP refreshes for the gateway are allowed). */
void tm_quiet_until(uint64_t to, uint64_t step_ms);

/* The worker ARPs for the gateway at its first step; the test answers as the gateway. With
 * priming on, the priming query (tm.prime_q) goes out in the iteration that learned it. */
void tm_gateway(void);
/* tm_gateway(), then the root server's good answer to the priming query, accepted by the
 * control side: the rig as the daemon is once it has primed. */
void tm_ready(void);
/* As the control thread: ctl_prime reads what the worker recorded; the cache reclaims. */
void tm_control(void);

/* An ARP reply from ip at mac, to pollux. */
void tm_arp_reply_from(uint32_t ip, const uint8_t *mac);
/* Writes that ARP reply into f (60 bytes, zeroed); returns its length. */
uint16_t tm_arp_reply_frame(uint8_t *f, uint32_t ip, const uint8_t *mac);
/* The next frame must be a broadcast ARP request from pollux for tip. */
void tm_expect_arp_request(uint32_t tip);

/* As the TCP thread: the next message the worker put on its ring, or NULL. */
struct rte_mbuf *tm_thread_take(void);
/* As the TCP thread: turns the request m into its outcome in the same mbuf (the reply r, or a
 * failure when r is NULL), gives it to the worker and steps it at tm.now. */
void tm_thread_give(struct rte_mbuf *m, const struct px_test_msg *r);
/* A copy of the message m (meta and data), for an outcome the thread should never send. */
struct rte_mbuf *tm_thread_copy(struct rte_mbuf *m);
/* Checks that m is the TCP retry of the UDP query q, zone the bailiwick; returns its meta. */
const struct dp_tcp_meta *tm_check_up_query(struct rte_mbuf *m, const struct tm_upq *q,
					    const char *zone);

/* testlib_miss_dns.c: the scripted servers and the frame reader. */

/* The delegations the scripted root hands out: see testlib_miss_dns.c. */
struct tm_deleg {
	const char *zone;
	unsigned ns_count;
	const char *ns[5];
	const char *glue[5];
	bool tc; /* its servers answer over UDP with TC and no records: the answer is TCP only */
	/* Its servers delegate child (at or below it) to child_ns at child_glue; a zone with
	 * `below` set is such a child, which the root does not know. */
	const char *child, *child_ns, *child_glue;
	bool below;
};

/* name is zone or below it (both presentation form, compared without case). */
bool tm_name_below(const char *name, const char *zone);
/* Checks an upstream query message from header to OPT and fills q's id, qtype and qname. */
void tm_parse_upq_dns(const uint8_t *d, uint16_t dlen, struct tm_upq *q);
/* Checks an upstream query frame from headers to OPT and fills q. */
void tm_parse_upq(const struct rte_mbuf *m, struct tm_upq *q);
/* Parses m (a client answer, kept in f->m, or an upstream query, freed) into f. */
void tm_frame_parse(struct rte_mbuf *m, struct tm_frame *f);
/* A query from the client (RD, EDNS 1232) from port, at tm.now. */
void tm_client_ask(uint16_t port, uint16_t id, const char *name, uint16_t qtype);
/* A datagram from server src (via the gateway) to pollux, at tm.now. */
void tm_server_send(uint32_t src, uint16_t sport, uint16_t dport, const struct px_test_msg *r);
/* Server q->dst's reply r to q. */
void tm_reply(const struct tm_upq *q, const struct px_test_msg *r);
/* The delegation whose server has address addr_be, or NULL. */
const struct tm_deleg *tm_deleg_of_server(uint32_t addr_be);
/* What the scripted authoritative server at q->dst answers to q. */
void tm_auth_reply(struct px_test_msg *r, const struct tm_upq *q);
/* A root server's answer to the priming query q: a.root.test (NS TTL ttl) at addr; with TC
 * (addr NULL) no records at all. */
void tm_prime_answer(struct px_test_msg *r, const struct tm_upq *q, const char *addr,
		     uint32_t ttl);
/* Sends the scripted server's answer to q (the priming answer for ". NS" to the root; TC
 * without records for a TCP-only zone). */
void tm_answer(const struct tm_upq *q);
/* Plays the servers until the worker sends a client answer (left in f); the addresses queried,
 * in order, go to path. Stops short of answering a query to `silent` (0: none), which is then
 * left in f. Returns how many queries it saw. */
unsigned tm_serve(struct tm_frame *f, uint32_t *path, unsigned path_max, uint32_t silent);
/* The client answer in f: to port, with id, its question as asked, flags QR RD RA and rcode;
 * for NOERROR one A record ANSWER_ADDR. A SERVFAIL must carry an Extended DNS Error (left in
 * tm.last_ede). */
void tm_check_answer(const struct tm_frame *f, uint16_t port, uint16_t id, const char *qname,
		     uint8_t rcode);
