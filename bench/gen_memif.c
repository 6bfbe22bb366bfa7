/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollux's own DNS load generator: a separate DPDK process that drives a resolver (or any
 * peer) through one ethdev port, in the benchmarks a net_memif shared with pollux or with
 * dpdk-testpmd.
 *
 * It keeps a window of outstanding queries, one per slot. Slot s always uses UDP source port
 * GEN_SPORT_BASE + s and a DNS ID of s + window * generation, where the slot's generation moves
 * on with every query it sends or gives up on; the slot remembers which name it asked for and
 * when. An answer to a query the slot has since given up on (timed out, or refused by the port)
 * still names the slot but an older generation: it is counted as late, not as an answer and not
 * as garbage. Every other received frame is checked before it counts:
 *  - dns mode (a resolver as the peer): Ethernet to us, IPv4 from the resolver with a correct
 *    header checksum, UDP from port 53 to the slot's port with a correct checksum, the slot's
 *    ID, QR set, opcode QUERY, rcode NOERROR, the question we asked byte for byte, and a first
 *    answer record that is the A record the name must have (name i has address --a-base + i;
 *    bench/run_memif.sh writes the zone that way). A frame that fails counts one reason and is
 *    not an answer.
 *  - echo mode (dpdk-testpmd forwarding the frames back): the frame must be the query the slot
 *    sent, unchanged. This measures the PMD's ceiling with the same generator and the same
 *    checks' cost class.
 *  - miss mode (pollux resolving through us): the generator also plays the authoritative
 *    servers and pollux's gateway (gen_auth.c); every query is a name never asked before
 *    (gen_auth_name(), n<i> under --zones leaf zones, or with --fresh-zones under a zone of its
 *    own), built into its slot's own frame, and checked as in dns mode. Frames to the servers
 *    and ARP requests for --src-ip are answered in the same burst.
 * A checked answer frees its slot and its mbuf is rewritten in place into the slot's next query
 * (a 90-byte copy of a prebuilt frame plus an ID, a port and an incremental checksum update), so
 * the steady state allocates nothing. A slot unanswered for --timeout-ms is counted and sent
 * again, so a lost frame costs one slot for a while, never the run.
 *
 * The peer's MAC comes from ARP (pollux answers ARP for --dst-ip) unless --dst-mac gives it.
 * The run is: wait for the link, learn the MAC, --warmup seconds of load, then --seconds of
 * measured load. "gen.phase: measuring" is printed (and flushed) when the measured interval
 * starts, so a script can read the peer's counters inside it. Results are "key: value" lines.
 *
 * Usage: gen_memif [EAL options] -- --dst-ip A --src-ip A [--dst-mac auto|MAC]
 *        [--mode dns|echo|miss] [--apex NAME] [--names N] [--a-base A] [--window N]
 *        [--seconds S] [--warmup S] [--timeout-ms N] [--link-wait S] [--port N] [--zones N]
 *        [--fresh-zones]
 * Exits 0 when answers were measured and none failed a check; 3 when a frame failed a check
 * (the figures would count garbage; in miss mode also a malformed query to the servers); 1 on
 * a setup failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_udp.h>
#include <rte_version.h>

#include <pollux/wire.h>

#include "gen_auth.h"

#define GEN_BURST 32
#define GEN_FRAME_MAX 192
#define GEN_SPORT_BASE 1024
#define GEN_WINDOW_MAX 16384
#define GEN_L2 ((uint16_t)sizeof(struct rte_ether_hdr))
#define GEN_L3 ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define GEN_L4 ((uint16_t)sizeof(struct rte_udp_hdr))
#define GEN_DNS_OFF (GEN_L2 + GEN_L3 + GEN_L4)
#define GEN_ID_OFF GEN_DNS_OFF
#define GEN_QD_OFF (GEN_DNS_OFF + PX_DNS_HDR_LEN)

enum gen_mode { GEN_MODE_DNS, GEN_MODE_ECHO, GEN_MODE_MISS };

/* Why a received frame was not counted as an answer; printed as gen.bad.<name>. */
enum gen_bad {
	GEN_BAD_FRAME,    /* multi-segment, runt, not IPv4/UDP, not to us */
	GEN_BAD_IP,       /* wrong addresses, IP options or a bad header checksum */
	GEN_BAD_UDP,      /* wrong ports, length or checksum */
	GEN_BAD_SLOT,     /* ID outside the window, or ID and port naming different slots */
	GEN_BAD_IDLE,     /* this generation's answer again: a duplicate */
	GEN_BAD_HEADER,   /* QR, opcode, qdcount or ancount not what the query calls for */
	GEN_BAD_RCODE,    /* an rcode other than NOERROR */
	GEN_BAD_QUESTION, /* not the question the slot asked */
	GEN_BAD_ANSWER,   /* the first answer record is not the name's A record */
	GEN_BAD_COUNT,
	GEN_LATE = GEN_BAD_COUNT, /* not garbage: an answer to a query given up on */
};

static const char *const gen_bad_names[GEN_BAD_COUNT] = {
	"frame", "ip", "udp", "slot", "idle", "header", "rcode", "question", "answer",
};

struct gen_name {
	uint8_t frame[GEN_FRAME_MAX]; /* the whole query frame with ID 0 and source port 0 */
	uint16_t len;
	uint16_t q_len;    /* qname + qtype + qclass, at GEN_QD_OFF */
	uint16_t udp_sum;  /* one's-complement sum of the UDP checksum's input, uncomplemented */
	uint32_t a_be;     /* the address its A record must hold */
};

struct gen_slot {
	uint64_t sent_tsc; /* 0 when nothing is outstanding */
	uint32_t name;
	uint16_t gen;      /* generation of the query outstanding or last sent */
};

struct gen_stats {
	uint64_t sent, answers, late, timeouts, tx_full, idle_polls, bad[GEN_BAD_COUNT];
};

static struct {
	enum gen_mode mode;
	uint16_t port;
	uint32_t src_ip, dst_ip; /* network order */
	struct rte_ether_addr src_mac, dst_mac;
	bool dst_mac_given;
	char apex[200];
	uint32_t a_base; /* host order */
	unsigned names, window, timeout_ms, zones;
	bool fresh_zones;
	double seconds, warmup, link_wait;
} opt = {
	.mode = GEN_MODE_DNS,
	.apex = "bench.example",
	.a_base = 0xc6130000, /* 198.19.0.0 */
	.names = 1000,
	.zones = 8,
	.window = 512,
	.timeout_ms = 200,
	.seconds = 5,
	.warmup = 2,
	.link_wait = 30,
};

static struct gen_name *names;
static struct gen_slot *slots;
static struct rte_mempool *pool;
static struct gen_stats st;
static unsigned next_name;
static uint64_t next_miss; /* miss mode: the next name never asked */
static unsigned nb_gens; /* generations that fit the DNS ID: 65536 / window */
static bool slots_freed; /* a slot went free outside the answer path: refill() has work */
static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint16_t
fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Writes "<label>.<apex>" in wire form into dst; returns its length, or 0 when it is too
 * long for a name or a label. */
static uint16_t
encode_name(uint8_t *dst, size_t room, const char *text)
{
	size_t n = 0;

	while (*text != '\0') {
		const char *dot = strchr(text, '.');
		size_t l = dot != NULL ? (size_t)(dot - text) : strlen(text);

		if (l == 0 || l > PX_DNS_MAX_LABEL || n + 1 + l + 1 > room)
			return 0;
		dst[n++] = (uint8_t)l;
		memcpy(dst + n, text, l);
		n += l;
		text += l + (dot != NULL);
	}
	dst[n++] = 0;
	return n > PX_DNS_MAX_NAME ? 0 : (uint16_t)n;
}

/* Builds the query frame for text, whose A record must be a (host order): RD set and an EDNS
 * OPT of 1232 bytes, as a stub's query looks (and as bench_hit's are). ID and source port stay
 * zero; load_query() fills them in. */
static int
build_name(struct gen_name *g, const char *text, uint32_t a)
{
	uint8_t *f = g->frame;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint8_t *dns = (uint8_t *)(udp + 1);
	uint16_t nlen, dlen;
	uint32_t sum;

	memset(f, 0, sizeof(g->frame));
	nlen = encode_name(dns + PX_DNS_HDR_LEN, GEN_FRAME_MAX - GEN_QD_OFF - 4 - PX_DNS_OPT_LEN,
			   text);
	if (nlen == 0)
		return -ENAMETOOLONG;
	dns[2] = PX_DNS_RD >> 8;
	dns[5] = 1; /* qdcount */
	dns[11] = 1; /* arcount: the OPT */
	uint8_t *p = dns + PX_DNS_HDR_LEN + nlen;

	p[1] = 1; /* qtype A */
	p[3] = 1; /* qclass IN */
	g->q_len = (uint16_t)(nlen + 4);
	p += 4;
	/* OPT: root owner, type 41, class = UDP size, TTL 0, empty rdata. */
	p[2] = 41;
	p[3] = PX_DNS_EDNS_BUFSIZE >> 8;
	p[4] = PX_DNS_EDNS_BUFSIZE & 0xff;
	dlen = (uint16_t)(PX_DNS_HDR_LEN + g->q_len + PX_DNS_OPT_LEN);

	rte_ether_addr_copy(&opt.dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(&opt.src_mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(GEN_L3 + GEN_L4 + dlen));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = opt.src_ip;
	ip->dst_addr = opt.dst_ip;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->dst_port = RTE_BE16(PX_DNS_PORT);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(GEN_L4 + dlen));
	/* The sum with source port, ID and checksum all zero; each send adds its two fields. */
	sum = (uint32_t)rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(udp, GEN_L4 + dlen);
	g->udp_sum = fold(sum);
	g->len = (uint16_t)(GEN_DNS_OFF + dlen);
	g->a_be = rte_cpu_to_be_32(a);
	return 0;
}

/* Turns m into slot s's next query and marks the slot outstanding. */
static inline void
load_query(struct rte_mbuf *m, unsigned s, uint64_t now)
{
	unsigned name = next_name;
	const struct gen_name *g;
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(f + GEN_L2 + GEN_L3);
	uint16_t id_be, port_be = rte_cpu_to_be_16((uint16_t)(GEN_SPORT_BASE + s));
	uint16_t ck;
	char text[64];

	if (opt.mode == GEN_MODE_MISS) {
		/* A name never asked before, in the slot's own frame (its answer is checked there). */
		name = s;
		build_name(&names[s], text, gen_auth_name(text, sizeof(text), next_miss++,
							  opt.fresh_zones));
	} else {
		next_name = next_name + 1 == opt.names ? 0 : next_name + 1;
	}
	g = &names[name];
	slots[s].gen = (uint16_t)((slots[s].gen + 1) % nb_gens);
	id_be = rte_cpu_to_be_16((uint16_t)(s + opt.window * slots[s].gen));

	rte_memcpy(f, g->frame, g->len);
	udp->src_port = port_be;
	memcpy(f + GEN_ID_OFF, &id_be, 2);
	/* RFC 1624: the fields were zero in the prebuilt sum, so adding them is the update. */
	ck = (uint16_t)~fold((uint32_t)g->udp_sum + port_be + id_be);
	udp->dgram_cksum = ck == 0 ? 0xffff : ck;
	m->data_len = g->len;
	m->pkt_len = g->len;
	m->ol_flags = 0;
	slots[s].name = name;
	slots[s].sent_tsc = now;
}

/* True if the n bytes of uncompressed names a and b are equal, ASCII case aside (a resolver may
 * write the owner as a 0x20-randomising server spelt it). */
static inline bool
name_eq(const uint8_t *a, const uint8_t *b, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		if (a[i] != b[i] && ((a[i] | 0x20) != (b[i] | 0x20) || (a[i] | 0x20) < 'a' ||
				     (a[i] | 0x20) > 'z'))
			return false;
	return true;
}

/* The slot a frame from the peer answers, or -1 - (enum gen_bad) when it is not an answer. */
static inline int
check_frame(struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
	const uint8_t *dns = (const uint8_t *)(udp + 1);
	bool echo = opt.mode == GEN_MODE_ECHO;
	uint16_t len = m->data_len, ulen, id, sport, dport, flags;
	const struct gen_name *g;
	unsigned s;

	if (m->nb_segs != 1 || len < GEN_DNS_OFF + PX_DNS_HDR_LEN ||
	    eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    !rte_is_same_ether_addr(&eth->dst_addr, echo ? &opt.dst_mac : &opt.src_mac) ||
	    ip->next_proto_id != IPPROTO_UDP)
		return -1 - GEN_BAD_FRAME;
	if (ip->version_ihl != RTE_IPV4_VHL_DEF ||
	    ip->src_addr != (echo ? opt.src_ip : opt.dst_ip) ||
	    ip->dst_addr != (echo ? opt.dst_ip : opt.src_ip) ||
	    rte_be_to_cpu_16(ip->total_length) != len - GEN_L2 || rte_ipv4_cksum(ip) != 0)
		return -1 - GEN_BAD_IP;
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	sport = rte_be_to_cpu_16(udp->src_port);
	dport = rte_be_to_cpu_16(udp->dst_port);
	if (echo) {
		uint16_t t = sport;

		sport = dport;
		dport = t;
	}
	if (ulen != len - GEN_L2 - GEN_L3 || sport != PX_DNS_PORT ||
	    dport < GEN_SPORT_BASE || dport >= GEN_SPORT_BASE + opt.window ||
	    (udp->dgram_cksum != 0 && rte_ipv4_udptcp_cksum_verify(ip, udp) != 0))
		return -1 - GEN_BAD_UDP;
	id = (uint16_t)(dns[0] << 8 | dns[1]);
	s = dport - GEN_SPORT_BASE;
	if (id % opt.window != s || id / opt.window >= nb_gens)
		return -1 - GEN_BAD_SLOT;
	if (id / opt.window != slots[s].gen)
		return -1 - GEN_LATE;
	if (slots[s].sent_tsc == 0)
		return -1 - GEN_BAD_IDLE;
	g = &names[slots[s].name];
	if (echo) {
		/* Everything after the ID must be what was sent. */
		if (len != g->len || memcmp(f + GEN_ID_OFF + 2, g->frame + GEN_ID_OFF + 2,
					    (size_t)(g->len - GEN_ID_OFF - 2)) != 0)
			return -1 - GEN_BAD_QUESTION;
		return (int)s;
	}
	flags = (uint16_t)(dns[2] << 8 | dns[3]);
	if (!(flags & PX_DNS_QR) || (flags & PX_DNS_OPCODE_MASK) != 0 || dns[4] != 0 ||
	    dns[5] != 1)
		return -1 - GEN_BAD_HEADER;
	if ((flags & PX_DNS_RCODE_MASK) != PX_DNS_RCODE_NOERROR)
		return -1 - GEN_BAD_RCODE;
	if (dns[6] == 0 && dns[7] == 0)
		return -1 - GEN_BAD_ANSWER;
	if (len < GEN_QD_OFF + g->q_len ||
	    memcmp(f + GEN_QD_OFF, g->frame + GEN_QD_OFF, g->q_len) != 0)
		return -1 - GEN_BAD_QUESTION;

	/* The first answer: owner (a pointer to the question name, or the name itself), then
	 * type A, class IN, any TTL, rdlength 4 and the name's address. */
	const uint8_t *rr = f + GEN_QD_OFF + g->q_len, *end = f + len;
	uint16_t nlen = (uint16_t)(g->q_len - 4);

	if (end - rr >= 2 && rr[0] == (PX_DNS_QNAME_PTR >> 8) && rr[1] == (PX_DNS_QNAME_PTR & 0xff))
		rr += 2;
	else if (end - rr >= nlen && name_eq(rr, g->frame + GEN_QD_OFF, nlen))
		rr += nlen;
	else
		return -1 - GEN_BAD_ANSWER;
	if (end - rr < 14 || rr[0] != 0 || rr[1] != 1 || rr[2] != 0 || rr[3] != 1 || rr[8] != 0 ||
	    rr[9] != 4 || memcmp(rr + 10, &g->a_be, 4) != 0)
		return -1 - GEN_BAD_ANSWER;
	return (int)s;
}

/* Sends what tx holds; a frame the port does not take frees its slot for the refill. */
static inline void
send_burst(struct rte_mbuf **tx, uint16_t n)
{
	uint16_t sent = n != 0 ? rte_eth_tx_burst(opt.port, 0, tx, n) : 0;

	st.sent += sent;
	for (uint16_t i = sent; i < n; i++) {
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(tx[i], struct rte_ether_hdr *);
		const struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(tx[i], struct rte_udp_hdr *,
									GEN_L2 + GEN_L3);
		uint16_t s = (uint16_t)(rte_be_to_cpu_16(udp->src_port) - GEN_SPORT_BASE);

		st.tx_full++;
		/* Only a client query holds a slot (the servers' replies and ARP go from port 53 or
		 * are no UDP at all): the resolver retries those itself. */
		if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		    udp->dst_port != RTE_BE16(PX_DNS_PORT) || s >= opt.window)
			continue;
		slots[s].sent_tsc = 0;
		slots[s].gen = (uint16_t)((slots[s].gen + 1) % nb_gens);
		slots_freed = true;
	}
	if (sent < n)
		rte_pktmbuf_free_bulk(tx + sent, n - sent);
}

/* Puts a query in every free slot, GEN_BURST at a time: at start, and after timeouts or a full
 * TX ring. Returns false when the pool is out of mbufs (tried again on the next pass). */
static bool
refill(uint64_t now)
{
	struct rte_mbuf *tx[GEN_BURST];
	uint16_t n = 0;

	for (unsigned s = 0; s < opt.window; s++) {
		if (slots[s].sent_tsc != 0)
			continue;
		if (rte_pktmbuf_alloc_bulk(pool, tx + n, 1) != 0) {
			send_burst(tx, n);
			return false;
		}
		load_query(tx[n++], s, now);
		if (n == GEN_BURST) {
			send_burst(tx, n);
			n = 0;
		}
	}
	send_burst(tx, n);
	return true;
}

/* Counts the slots that waited past the timeout and frees them for the refill. */
static void
expire(uint64_t now, uint64_t timeout)
{
	unsigned n = 0;

	for (unsigned s = 0; s < opt.window; s++) {
		if (slots[s].sent_tsc != 0 && now - slots[s].sent_tsc > timeout) {
			/* A new generation at once: an answer now is late, not a duplicate. */
			slots[s].sent_tsc = 0;
			slots[s].gen = (uint16_t)((slots[s].gen + 1) % nb_gens);
			n++;
		}
	}
	st.timeouts += n;
	if (n != 0)
		slots_freed = true;
}

/* One poll: every checked answer turns into its slot's next query in the same mbuf. */
static inline void
poll_once(uint64_t now)
{
	struct rte_mbuf *rx[GEN_BURST], *tx[GEN_BURST], *bad[GEN_BURST];
	uint16_t n = rte_eth_rx_burst(opt.port, 0, rx, GEN_BURST), ntx = 0, nbad = 0;

	if (n == 0) {
		st.idle_polls++;
		return;
	}
	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], void *));
		enum gen_auth_verdict v = opt.mode == GEN_MODE_MISS ? gen_auth_take(rx[i])
								    : GEN_AUTH_PASS;

		if (v != GEN_AUTH_PASS) {
			if (v == GEN_AUTH_REPLY)
				tx[ntx++] = rx[i];
			else
				bad[nbad++] = rx[i];
			continue;
		}
		int s = check_frame(rx[i]);

		if (unlikely(s < 0)) {
			if (-1 - s == GEN_LATE)
				st.late++;
			else
				st.bad[-1 - s]++;
			bad[nbad++] = rx[i];
			continue;
		}
		st.answers++;
		load_query(rx[i], (unsigned)s, now);
		tx[ntx++] = rx[i];
	}
	send_burst(tx, ntx);
	if (nbad != 0)
		rte_pktmbuf_free_bulk(bad, nbad);
}

/* Load for `seconds`: polls, and every millisecond expires late slots and refills. With
 * `samples`, prints the answers of each whole second as "gen.sample: <n>" (flushed, so a script
 * can follow) and stores them. Returns the number of samples. With `until_answer`, returns as
 * soon as the first answer is in. */
static unsigned
run_load(double seconds, uint64_t *samples, unsigned max_samples, bool until_answer)
{
	uint64_t hz = rte_get_tsc_hz(), now = rte_rdtsc(), end = now + (uint64_t)(seconds * hz);
	uint64_t timeout = hz / 1000 * opt.timeout_ms, tick = hz / 1000, next_tick = now + tick;
	uint64_t next_sample = now + hz, last_answers = st.answers;
	unsigned nb_samples = 0;

	slots_freed = true;
	while (!stop_requested && now < end) {
		poll_once(now);
		now = rte_rdtsc();
		if (unlikely(now >= next_tick)) {
			next_tick = now + tick;
			if (until_answer && st.answers != 0)
				break;
			expire(now, timeout);
			if (slots_freed) {
				/* refill() sets it again for what the port refuses meanwhile. */
				slots_freed = false;
				if (!refill(now))
					slots_freed = true;
			}
			if (samples != NULL && now >= next_sample && nb_samples < max_samples) {
				next_sample += hz;
				samples[nb_samples++] = st.answers - last_answers;
				last_answers = st.answers;
				printf("gen.sample: %" PRIu64 "\n", samples[nb_samples - 1]);
				fflush(stdout);
			}
		}
	}
	return nb_samples;
}

static void
port_setup(void)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_link link;
	uint64_t hz = rte_get_tsc_hz(), end;
	int ret;

	if (!rte_eth_dev_is_valid_port(opt.port))
		rte_exit(1, "port %u does not exist: give the EAL a --vdev net_memif0,...\n",
			 opt.port);
	ret = rte_eth_dev_configure(opt.port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(opt.port, 0, 1024, (unsigned)rte_socket_id(), NULL,
					     pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(opt.port, 0, 1024, (unsigned)rte_socket_id(), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(opt.port);
	if (ret != 0)
		rte_exit(1, "port %u: setup failed: %s\n", opt.port, rte_strerror(-ret));
	rte_eth_macaddr_get(opt.port, &opt.src_mac);
	/* A memif link is up only once the peer has connected and mapped the rings. */
	end = rte_rdtsc() + (uint64_t)(opt.link_wait * hz);
	do {
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(opt.port, &link);
		if (link.link_status == RTE_ETH_LINK_UP)
			return;
		rte_delay_us_sleep(10000);
	} while (!stop_requested && rte_rdtsc() < end);
	rte_exit(1, "port %u: link still down after %.0f s (is the peer running, with the same "
		 "socket path and the other role?)\n", opt.port, opt.link_wait);
}

static int
parse_ip4(const char *s, uint32_t *be)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*be = a.s_addr;
	return 0;
}

static void
usage_exit(const char *why)
{
	fprintf(stderr, "gen_memif: %s\nusage: gen_memif [EAL] -- --dst-ip A --src-ip A "
		"[--dst-mac auto|MAC] [--mode dns|echo|miss] [--apex NAME] [--names N] [--a-base A] "
		"[--window N] [--seconds S] [--warmup S] [--timeout-ms N] [--link-wait S] "
		"[--port N] [--zones N] [--fresh-zones]\n", why);
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dst-ip", required_argument, NULL, 'd'}, {"src-ip", required_argument, NULL, 's'},
		{"dst-mac", required_argument, NULL, 'm'}, {"mode", required_argument, NULL, 'M'},
		{"apex", required_argument, NULL, 'a'}, {"names", required_argument, NULL, 'n'},
		{"a-base", required_argument, NULL, 'b'}, {"window", required_argument, NULL, 'w'},
		{"seconds", required_argument, NULL, 'S'}, {"warmup", required_argument, NULL, 'W'},
		{"timeout-ms", required_argument, NULL, 't'},
		{"link-wait", required_argument, NULL, 'l'}, {"port", required_argument, NULL, 'p'},
		{"zones", required_argument, NULL, 'z'}, {"fresh-zones", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	bool have_dst = false, have_src = false;
	uint32_t be;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': have_dst = parse_ip4(optarg, &opt.dst_ip) == 0;
			  if (!have_dst) usage_exit("--dst-ip: not an IPv4 address");
			  break;
		case 's': have_src = parse_ip4(optarg, &opt.src_ip) == 0;
			  if (!have_src) usage_exit("--src-ip: not an IPv4 address");
			  break;
		case 'm': if (strcmp(optarg, "auto") == 0) break;
			  if (rte_ether_unformat_addr(optarg, &opt.dst_mac) != 0)
				  usage_exit("--dst-mac: not a MAC address");
			  opt.dst_mac_given = true;
			  break;
		case 'M': if (strcmp(optarg, "dns") == 0) opt.mode = GEN_MODE_DNS;
			  else if (strcmp(optarg, "echo") == 0) opt.mode = GEN_MODE_ECHO;
			  else if (strcmp(optarg, "miss") == 0) opt.mode = GEN_MODE_MISS;
			  else usage_exit("--mode: dns, echo or miss");
			  break;
		case 'a': if (strlen(optarg) >= sizeof(opt.apex) || optarg[0] == '\0')
				  usage_exit("--apex: empty or too long");
			  snprintf(opt.apex, sizeof(opt.apex), "%s", optarg);
			  /* A trailing dot is the root; the encoder adds it anyway. */
			  if (opt.apex[strlen(opt.apex) - 1] == '.') opt.apex[strlen(opt.apex) - 1] = 0;
			  break;
		case 'n': opt.names = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': if (parse_ip4(optarg, &be) != 0) usage_exit("--a-base: not an address");
			  opt.a_base = rte_be_to_cpu_32(be);
			  break;
		case 'w': opt.window = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'S': opt.seconds = atof(optarg); break;
		case 'W': opt.warmup = atof(optarg); break;
		case 't': opt.timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'l': opt.link_wait = atof(optarg); break;
		case 'p': opt.port = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'z': opt.zones = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'f': opt.fresh_zones = true; break;
		default: usage_exit("unknown option");
		}
	}
	if (!have_dst || !have_src)
		usage_exit("--dst-ip and --src-ip are required");
	if (opt.names == 0 || opt.names > 1000000 || (uint64_t)opt.a_base + opt.names > UINT32_MAX)
		usage_exit("--names must be 1-1000000, and --a-base + --names must fit IPv4");
	if (opt.window == 0 || opt.window > GEN_WINDOW_MAX)
		usage_exit("--window must be 1-16384");
	if (opt.zones == 0 || opt.zones > 1000000)
		usage_exit("--zones must be 1-1000000");
	if (opt.seconds <= 0 || opt.seconds > 86400 || opt.warmup < 0 || opt.timeout_ms == 0 ||
	    opt.link_wait <= 0)
		usage_exit("--seconds (up to 86400), --timeout-ms and --link-wait must be > 0, "
			   "--warmup >= 0");
	if (opt.mode == GEN_MODE_ECHO && !opt.dst_mac_given)
		/* A forwarder answers no ARP; any unicast address will come back unchanged. */
		rte_ether_unformat_addr("02:00:00:00:00:53", &opt.dst_mac);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(uint64_t cycles, uint64_t *samples, unsigned nb_samples)
{
	uint64_t hz = rte_get_tsc_hz(), bad = 0;
	double secs = (double)cycles / (double)hz;

	for (int i = 0; i < GEN_BAD_COUNT; i++) {
		printf("gen.bad.%s: %" PRIu64 "\n", gen_bad_names[i], st.bad[i]);
		bad += st.bad[i];
	}
	printf("gen.seconds: %.3f\n", secs);
	printf("gen.sent: %" PRIu64 "\n", st.sent);
	printf("gen.answers: %" PRIu64 "\n", st.answers);
	printf("gen.bad: %" PRIu64 "\n", bad);
	printf("gen.timeouts: %" PRIu64 "\n", st.timeouts);
	printf("gen.late: %" PRIu64 "\n", st.late);
	printf("gen.tx_full: %" PRIu64 "\n", st.tx_full);
	printf("gen.idle_polls: %" PRIu64 "\n", st.idle_polls);
	printf("gen.answers_per_s: %.0f\n", (double)st.answers / secs);
	/* On a shared machine other processes only ever take time away: the median of the
	 * one-second samples is the typical rate, the best one what the pair can do. */
	if (nb_samples != 0) {
		qsort(samples, nb_samples, sizeof(*samples), cmp_u64);
		printf("gen.samples: %u\n", nb_samples);
		printf("gen.answers_per_s_median: %" PRIu64 "\n", samples[nb_samples / 2]);
		printf("gen.answers_per_s_min: %" PRIu64 "\n", samples[0]);
		printf("gen.answers_per_s_max: %" PRIu64 "\n", samples[nb_samples - 1]);
	}
	/* The generator polls without pause, so this is its whole core over what came back. */
	printf("gen.cycles_per_answer: %.1f\n",
	       st.answers != 0 ? (double)cycles / (double)st.answers : 0.0);
}

int
main(int argc, char **argv)
{
	int ret = rte_eal_init(argc, argv);
	uint64_t t0, warm_bad = 0, bad = 0, *samples;
	unsigned nb_samples, max_samples;

	if (ret < 0)
		rte_exit(1, "EAL init failed\n");
	parse_args(argc - ret, argv + ret);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pool = rte_pktmbuf_pool_create("gen_pool", 8191 + opt.window, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	/* Miss mode asks each name once: a frame per slot, built as each query is sent. */
	if (opt.mode == GEN_MODE_MISS)
		opt.names = opt.window;
	names = rte_zmalloc("gen_names", sizeof(*names) * opt.names, RTE_CACHE_LINE_SIZE);
	slots = rte_zmalloc("gen_slots", sizeof(*slots) * opt.window, RTE_CACHE_LINE_SIZE);
	nb_gens = 65536 / opt.window;
	max_samples = (unsigned)opt.seconds + 1;
	samples = rte_zmalloc("gen_samples", sizeof(*samples) * max_samples, 0);
	if (pool == NULL || names == NULL || slots == NULL || samples == NULL)
		rte_exit(1, "out of memory (reserve hugepages, or give the EAL --no-huge -m 256)\n");
	port_setup();
	if (opt.mode != GEN_MODE_ECHO && !opt.dst_mac_given &&
	    gen_arp_resolve(opt.port, pool, &opt.src_mac, opt.src_ip, opt.dst_ip, &opt.dst_mac,
			    &stop_requested) != 0)
		rte_exit(1, "no ARP reply for the resolver's address: is --dst-ip its --ip?\n");
	for (unsigned i = 0; i < opt.names && opt.mode != GEN_MODE_MISS; i++) {
		char text[256];

		snprintf(text, sizeof(text), "host%u.%s", i, opt.apex);
		ret = build_name(&names[i], text, opt.a_base + i);
		if (ret != 0)
			rte_exit(1, "name %u under %s: %s\n", i, opt.apex, strerror(-ret));
	}
	if (opt.mode == GEN_MODE_MISS) {
		struct gen_auth_cfg ac = {
			.mac = opt.src_mac, .self_ip = opt.src_ip, .a_base = opt.a_base,
			.zones = opt.zones,
		};

		gen_auth_init(&ac);
	}
	printf("gen.dpdk: %s\n", rte_version());
	printf("gen.mode: %s\n", opt.mode == GEN_MODE_DNS ? "dns" : opt.mode == GEN_MODE_ECHO ? "echo"
			     : opt.fresh_zones ? "miss-fresh-zones" : "miss");
	printf("gen.peer_mac: " RTE_ETHER_ADDR_PRT_FMT "\n", RTE_ETHER_ADDR_BYTES(&opt.dst_mac));
	printf("gen.window: %u\n", opt.window);
	printf("gen.names: %u\n", opt.names);
	printf("gen.tsc_hz: %" PRIu64 "\n", rte_get_tsc_hz());

	/* The warm-up starts with the first answer: a peer can bring the link up well before it
	 * forwards or answers (testpmd starts forwarding after its own link checks). */
	t0 = rte_rdtsc();
	run_load(opt.link_wait, NULL, 0, true);
	if (st.answers == 0) {
		/* Say what came back instead: that is the diagnosis. */
		for (int i = 0; i < GEN_BAD_COUNT; i++)
			printf("gen.bad.%s: %" PRIu64 "\n", gen_bad_names[i], st.bad[i]);
		if (opt.mode == GEN_MODE_MISS)
			gen_auth_report();
		fflush(stdout);
		rte_exit(1, "no answer within %.0f s of link up (%" PRIu64 " queries sent, %" PRIu64
			 " refused by the port, %" PRIu64 " timed out; gen.bad.* counts what came "
			 "back instead)\n", opt.link_wait, st.sent, st.tx_full, st.timeouts);
	}
	printf("gen.first_answer_ms: %.1f\n",
	       (double)(rte_rdtsc() - t0) * 1e3 / (double)rte_get_tsc_hz());
	run_load(opt.warmup, NULL, 0, false);
	for (int i = 0; i < GEN_BAD_COUNT; i++)
		warm_bad += st.bad[i];
	printf("gen.warmup_answers: %" PRIu64 "\n", st.answers);
	printf("gen.warmup_bad: %" PRIu64 "\n", warm_bad);
	/* The measured interval keeps the window full: only the counters start again. */
	memset(&st, 0, sizeof(st));
	printf("gen.phase: measuring\n");
	fflush(stdout);
	t0 = rte_rdtsc();
	nb_samples = run_load(opt.seconds, samples, max_samples, false);
	report(rte_rdtsc() - t0, samples, nb_samples);
	/* The servers' counters cover the whole run, warm-up included. */
	if (opt.mode == GEN_MODE_MISS)
		bad += gen_auth_report();
	printf("gen.phase: done\n");
	fflush(stdout);

	for (int i = 0; i < GEN_BAD_COUNT; i++)
		bad += st.bad[i];
	ret = stop_requested || st.answers == 0 ? 1 : bad + warm_bad != 0 ? 3 : 0;
	if (st.answers == 0)
		fprintf(stderr, "gen_memif: no answers in the measured interval\n");
	else if (bad + warm_bad != 0)
		fprintf(stderr, "gen_memif: %" PRIu64 " frames failed the checks (gen.bad.*, "
			"gen.warmup_bad, auth.bad): the figures are not trustworthy\n",
			bad + warm_bad);
	/* Said before the teardown, which net_memif's disconnect race can crash (README). */
	printf("gen.exit: %d\n", ret);
	fflush(stdout);
	rte_eth_dev_stop(opt.port);
	rte_eth_dev_close(opt.port);
	rte_eal_cleanup();
	return ret;
}
