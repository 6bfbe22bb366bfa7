/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cycles per upstream reply: the classifier and bailiwick scrubber (px_reply_classify) alone,
 * and with the resolver's handling of the result (px_resolver_on_reply: CNAME rendering, the
 * referral's cut and its glueless names), for ordinary replies beside crafted worst cases.
 *
 * Cases (each message is built once, then classified over and over):
 *  - answer:   www.example.test A from its zone's server, two addresses, NS and glue, EDNS;
 *  - referral: www.example.com A from a .com server, four NS names with A and AAAA glue, EDNS;
 *    both with names compressed as servers compress them;
 *  - worst:    a 16 KiB reply under the classifier's record limit, built to make every pass
 *              expensive: a question name of 189 bytes, every other name a compression pointer
 *              into two 27-rung ladders of one-letter labels over it (so reading one follows up
 *              to 28 pointers and copies up to 243 bytes), noise owners of the same length as
 *              the chain's names that differ only in their last bytes and that each spell a
 *              name seen before in new bytes, a chain of eight CNAME links, 13 NS names without
 *              glue, and hundreds of records in every section that match nothing;
 *  - too_many: 16 KiB of 1,300 empty records: more records than the classifier indexes.
 *
 * Fixed messages, no randomness; a warm-up before each measurement. Pure code: no EAL, no
 * hugepages (the TSC rate is calibrated against CLOCK_MONOTONIC_RAW).
 *
 * Usage: bench_reply [--seconds N] [--case answer|referral|worst|too_many]
 * (N seconds per case and mode, default 1; every case by default)
 * Prints "key: value" lines: the machine, then <case>.<mode>.cycles_per_reply and .mreplies_s.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_version.h>

#include <pollux/addr_policy.h>
#include <pollux/hints.h>
#include <pollux/reply.h>
#include <pollux/resolver.h>
#include <pollux/wire.h>

#include "bench_machine.h"

#define MSG_MAX 65535
#define WORST_LEN 16384 /* what the TCP path takes from a server (DP_TCP_MSG_ROOM) */
#define LADDER 27	/* rungs: with the pointer to the top, 28 hops per name */

/* Where each suffix of each name written so far starts, for compression as servers do it. */
#define SUFFIXES 256

struct msg {
	uint8_t buf[MSG_MAX];
	uint16_t len;
	uint16_t qname_off;
	uint16_t ancount, nscount, arcount;
	unsigned suffix_count;
	uint16_t suffix_off[SUFFIXES];
};

struct bench_case {
	const char *name;
	struct msg m;
	uint8_t qname[PX_DNS_NAME_BUF], zone[PX_DNS_NAME_BUF];
	uint8_t qname_len, zone_len;
};

static double seconds = 1;
static uint64_t tsc_hz;
static struct px_reply reply; /* several KiB: not on the stack */

static unsigned
text_name(uint8_t *dst, const char *text)
{
	unsigned n = 0;

	if (strcmp(text, ".") == 0)
		text = "";
	while (*text != 0) {
		const char *dot = strchr(text, '.');
		size_t l = dot != NULL ? (size_t)(dot - text) : strlen(text);

		dst[n++] = (uint8_t)l;
		memcpy(dst + n, text, l);
		n += (unsigned)l;
		text += l + (dot != NULL);
	}
	dst[n++] = 0;
	return n;
}

static void
put(struct msg *m, const void *p, unsigned n)
{
	if ((unsigned)m->len + n > MSG_MAX)
		abort();
	memcpy(m->buf + m->len, p, n);
	m->len = (uint16_t)(m->len + n);
}

static void
put16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(m, b, 2);
}

static void
put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void
put_ptr(struct msg *m, uint16_t off)
{
	put16(m, (uint16_t)(0xc000 | off));
}

/* The offset of an earlier uncompressed copy of the wire name w, or 0. */
static uint16_t
find_suffix(const struct msg *m, const uint8_t *w, unsigned n)
{
	for (unsigned i = 0; i < m->suffix_count; i++) {
		const uint8_t *p = m->buf + m->suffix_off[i];

		if (memcmp(p, w, n) == 0)
			return m->suffix_off[i];
	}
	return 0;
}

/* Writes a name compressed as a server would: the longest suffix already in the message
 * becomes a pointer to it (RFC 1035 4.1.4). The suffixes of what is written are remembered. */
static void
put_text(struct msg *m, const char *text)
{
	uint8_t w[PX_DNS_NAME_BUF];
	unsigned n = text_name(w, text), i = 0;

	while (w[i] != 0) {
		uint16_t at = find_suffix(m, w + i, n - i);

		if (at != 0) {
			put_ptr(m, at);
			return;
		}
		if (m->suffix_count < SUFFIXES)
			m->suffix_off[m->suffix_count++] = m->len;
		put(m, w + i, 1u + w[i]);
		i += 1u + w[i];
	}
	put(m, "", 1);
}

/* Writes a name in full, as the worst cases do where they want it. */
static void
put_text_plain(struct msg *m, const char *text)
{
	uint8_t w[PX_DNS_NAME_BUF];

	put(m, w, text_name(w, text));
}

static void
start(struct msg *m, uint16_t flags, const char *qname)
{
	memset(m->buf, 0, PX_DNS_HDR_LEN);
	m->len = PX_DNS_HDR_LEN;
	m->ancount = m->nscount = m->arcount = 0;
	m->suffix_count = 0;
	m->buf[0] = 0x12;
	m->buf[1] = 0x34;
	m->buf[2] = (uint8_t)((PX_DNS_QR | flags) >> 8);
	m->buf[3] = (uint8_t)(PX_DNS_QR | flags);
	m->buf[5] = 1;
	m->qname_off = m->len;
	put_text(m, qname);
	put16(m, PX_DNS_TYPE_A);
	put16(m, PX_DNS_CLASS_IN);
}

static void
finish(struct msg *m)
{
	px_put16(m->buf + 6, m->ancount);
	px_put16(m->buf + 8, m->nscount);
	px_put16(m->buf + 10, m->arcount);
}

static uint16_t *
count_of(struct msg *m, int sec)
{
	return sec == 0 ? &m->ancount : sec == 1 ? &m->nscount : &m->arcount;
}

/* The type, class, TTL and RDLENGTH after an owner already written. */
static void
rr_fixed(struct msg *m, int sec, uint16_t type, uint16_t rdlen)
{
	put16(m, type);
	put16(m, PX_DNS_CLASS_IN);
	put32(m, 300);
	put16(m, rdlen);
	(*count_of(m, sec))++;
}

static void
rr_addr(struct msg *m, int sec, const char *owner, const char *addr)
{
	uint8_t a[16];
	int v6 = strchr(addr, ':') != NULL;

	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, a) != 1)
		abort();
	if (owner == NULL)
		put_ptr(m, m->qname_off);
	else
		put_text(m, owner);
	rr_fixed(m, sec, v6 ? PX_DNS_TYPE_AAAA : PX_DNS_TYPE_A, v6 ? 16 : 4);
	put(m, a, v6 ? 16 : 4);
}

static void
rr_target(struct msg *m, int sec, const char *owner, uint16_t type, const char *target)
{
	uint16_t rdlen_at;

	put_text(m, owner);
	rr_fixed(m, sec, type, 0);
	rdlen_at = (uint16_t)(m->len - 2);
	put_text(m, target);
	px_put16(m->buf + rdlen_at, (uint16_t)(m->len - rdlen_at - 2));
}

static void
rr_opt(struct msg *m)
{
	put(m, "", 1); /* the root */
	put16(m, PX_DNS_TYPE_OPT);
	put16(m, 1232);
	put32(m, 0);
	put16(m, 0);
	m->arcount++;
}

static void
set_query(struct bench_case *c, const char *qname, const char *zone)
{
	c->qname_len = (uint8_t)text_name(c->qname, qname);
	c->zone_len = (uint8_t)text_name(c->zone, zone);
}

static void
build_answer(struct bench_case *c)
{
	struct msg *m = &c->m;

	start(m, PX_DNS_AA, "www.example.test");
	rr_addr(m, 0, NULL, "192.0.2.1");
	rr_addr(m, 0, NULL, "192.0.2.2");
	rr_target(m, 1, "example.test", PX_DNS_TYPE_NS, "ns1.example.test");
	rr_target(m, 1, "example.test", PX_DNS_TYPE_NS, "ns2.example.test");
	rr_addr(m, 2, "ns1.example.test", "192.0.2.53");
	rr_addr(m, 2, "ns2.example.test", "198.51.100.53");
	rr_opt(m);
	finish(m);
	set_query(c, "www.example.test", "example.test");
}

static void
build_referral(struct bench_case *c)
{
	struct msg *m = &c->m;
	char ns[64], a[64];

	start(m, 0, "www.example.com");
	for (int i = 1; i <= 4; i++) {
		snprintf(ns, sizeof(ns), "ns%d.example.com", i);
		rr_target(m, 1, "example.com", PX_DNS_TYPE_NS, ns);
	}
	for (int i = 1; i <= 4; i++) {
		snprintf(ns, sizeof(ns), "ns%d.example.com", i);
		snprintf(a, sizeof(a), "192.0.2.%d", i);
		rr_addr(m, 2, ns, a);
		snprintf(a, sizeof(a), "2001:db8::%d", i);
		rr_addr(m, 2, ns, a);
	}
	rr_opt(m);
	finish(m);
	set_query(c, "www.example.com", "com");
}

/* An owner that is decoy rung k + 1 spelled as a label and a pointer to rung k: the same name
 * as the rung, in bytes no earlier owner used, so that nothing short of reading it and comparing
 * it with the rung tells what it is. */
static void
put_decoy(struct msg *m, const uint16_t *decoy, unsigned k)
{
	static const uint8_t lab[2] = {1, 'a'};

	put(m, lab, 2);
	put_ptr(m, decoy[k % (LADDER - 1)]);
}

/* A ladder of one-letter labels over the name at base: rung k is letter + pointer to rung k-1
 * (rung 0 to base). Written as raw bytes wherever the caller puts them (an rdata). */
static void
ladder(struct msg *m, uint16_t base, char letter, uint16_t *rung)
{
	for (int k = 0; k < LADDER; k++) {
		uint8_t lab[2] = {1, (uint8_t)letter};

		rung[k] = m->len;
		put(m, lab, 2);
		put_ptr(m, k == 0 ? base : rung[k - 1]);
	}
}

/* The question name: ~180 bytes in 12 labels, ending in evil.test. The decoy base is the same
 * name ending in evil.tesu: as long, and different only at its end. */
#define LONG_LABEL "abcdefghijklmnopqrstuvwxyz01"
#define LONG_NAME(tld)                                                                             \
	"www." LONG_LABEL "." LONG_LABEL "." LONG_LABEL "." LONG_LABEL "." LONG_LABEL              \
	"." LONG_LABEL ".evil." tld

static void
build_worst(struct bench_case *c, unsigned max_rrs)
{
	struct msg *m = &c->m;
	uint16_t real[LADDER], decoy[LADDER], base2, test_off, ladder_len;
	unsigned total;

	start(m, 0, LONG_NAME("test"));
	/* The first answer record: an opaque type whose rdata holds the decoy base name and both
	 * ladders, for every later name to point into. Its owner is the question's name. */
	put_ptr(m, m->qname_off);
	rr_fixed(m, 0, 10 /* NULL */, 0);
	ladder_len = m->len;
	base2 = m->len;
	put_text_plain(m, LONG_NAME("tesu"));
	ladder(m, m->qname_off, 'a', real);
	ladder(m, base2, 'a', decoy);
	px_put16(m->buf + ladder_len - 2, (uint16_t)(m->len - ladder_len));
	/* The chain: qname -> rung 0 -> ... -> rung 7, each link a CNAME to the next rung. */
	for (int i = 0; i < 8; i++) {
		put_ptr(m, i == 0 ? m->qname_off : real[i - 1]);
		rr_fixed(m, 0, PX_DNS_TYPE_CNAME, 2);
		put_ptr(m, real[i]);
	}
	/* Answer-section noise: owners as long as the chain's names, different at their end. */
	for (unsigned i = 0; i < 300; i++) {
		put_decoy(m, decoy, i % 9);
		rr_fixed(m, 0, 10, 0);
	}
	/* The delegation: test. (a suffix of every chain name), 13 NS names outside it with no
	 * glue, so each is a glueless name for the resolver. */
	test_off = (uint16_t)(m->qname_off + strlen(LONG_NAME("")));
	for (int i = 0; i < 13; i++) {
		uint8_t lab[4] = {2, 'n', (uint8_t)('a' + i)};

		put_ptr(m, test_off);
		rr_fixed(m, 1, PX_DNS_TYPE_NS, 5);
		put(m, lab, 3);
		put_ptr(m, decoy[LADDER - 1]);
	}
	/* Authority noise: NS records for zones beside the delegation, and records of a type
	 * nothing looks at. */
	for (unsigned i = 0; i < 200; i++) {
		put_decoy(m, decoy, i);
		if (i % 2 == 0) {
			rr_fixed(m, 1, PX_DNS_TYPE_NS, 2);
			put_ptr(m, real[LADDER - 1]);
		} else {
			rr_fixed(m, 1, 99 /* SPF: not looked at */, 0);
		}
	}
	/* Additional noise up to the size or the record budget: addresses no NS name owns. */
	rr_opt(m);
	total = m->ancount + m->nscount + m->arcount;
	while (total < max_rrs && m->len + 18 <= WORST_LEN) {
		static const uint8_t a[4] = {192, 0, 2, 99};

		put_decoy(m, decoy, total);
		rr_fixed(m, 2, PX_DNS_TYPE_A, 4);
		put(m, a, 4);
		total++;
	}
	finish(m);
	set_query(c, LONG_NAME("test"), ".");
}

static void
build_too_many(struct bench_case *c)
{
	struct msg *m = &c->m;
	uint16_t rung[LADDER];

	start(m, 0, LONG_NAME("test"));
	put_ptr(m, m->qname_off);
	rr_fixed(m, 0, 10, LADDER * 4);
	ladder(m, m->qname_off, 'a', rung);
	while (m->len + 12 <= WORST_LEN) {
		put_ptr(m, rung[m->ancount % LADDER]);
		rr_fixed(m, 0, 10, 0);
	}
	finish(m);
	set_query(c, LONG_NAME("test"), ".");
}

static uint64_t
calibrate_tsc(void)
{
	struct timespec a, b;
	uint64_t t0, t1;

	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	t0 = rte_rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec) < 200000000ll);
	t1 = rte_rdtsc();
	return (uint64_t)((double)(t1 - t0) * 1e9 /
			  (double)((b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec)));
}

static void
machine(void)
{
	bench_print_machine();
	printf("tsc_hz: %" PRIu64 "\n", tsc_hz);
}

static enum px_reply_class
classify(const struct bench_case *c, const struct px_addr_policy *policy)
{
	const struct px_reply_query q = {
	    .qname = c->qname,
	    .zone = c->zone,
	    .qname_len = c->qname_len,
	    .zone_len = c->zone_len,
	    .qtype = PX_DNS_TYPE_A,
	    .qclass = PX_DNS_CLASS_IN,
	    .policy = policy,
	};

	return px_reply_classify(&reply, c->m.buf, c->m.len, &q);
}

static void
report(const char *cname, const char *mode, uint64_t cycles, uint64_t n)
{
	double cyc = (double)cycles / (double)n;

	printf("%s.%s.cycles_per_reply: %.0f\n", cname, mode, cyc);
	printf("%s.%s.mreplies_s: %.3f\n", cname, mode, (double)tsc_hz / cyc / 1e6);
}

/* The classifier alone, in a loop: warm-up, then `seconds` of replies. */
static void
bench_classify(const struct bench_case *c, const struct px_addr_policy *policy)
{
	uint64_t n = 0, t0, t1, end;

	end = rte_rdtsc() + tsc_hz / 5;
	while (rte_rdtsc() < end)
		classify(c, policy);
	t0 = rte_rdtsc();
	end = t0 + (uint64_t)(seconds * (double)tsc_hz);
	do {
		for (int i = 0; i < 16; i++)
			classify(c, policy);
		n += 16;
		t1 = rte_rdtsc();
	} while (t1 < end);
	printf("%s.class: %s\n", c->name, px_reply_class_name(reply.cls));
	printf("%s.detail: bad=%s cnames=%u answers=%u ns=%u out_of_bailiwick=%u/%u/%u "
	       "ignored=%u/%u/%u ns_ignored=%u\n",
	       c->name, px_reply_bad_name(reply.bad), reply.cname_count, reply.answer_count,
	       reply.ns_count, reply.counts.out_of_bailiwick[0], reply.counts.out_of_bailiwick[1],
	       reply.counts.out_of_bailiwick[2], reply.counts.ignored[0], reply.counts.ignored[1],
	       reply.counts.ignored[2], reply.counts.ns_ignored);
	printf("%s.bytes: %u\n%s.records: %u\n", c->name, c->m.len, c->name,
	       c->m.ancount + c->m.nscount + c->m.arcount);
	report(c->name, "classify", t1 - t0, n);
}

/*
 * The classifier and the resolver's handling of its result, per reply: a resolution is started
 * from root hints (untimed), the reply classified with the bailiwick the resolver gives and fed
 * to it (timed), and the resolution cancelled (untimed).
 */
static void
bench_resolve(const struct bench_case *c, const struct px_addr_policy *policy)
{
	static uint8_t mem[1 << 20] __attribute__((aligned(8)));
	static uint8_t hints_mem[sizeof(struct px_hints) + sizeof(struct px_hints_ns)]
	    __attribute__((aligned(8)));
	struct px_hints *hints = (struct px_hints *)hints_mem;
	struct px_resolver_config cfg;
	struct px_resolver_question qq = {c->qname, c->qname_len, PX_DNS_TYPE_A, PX_DNS_CLASS_IN};
	struct px_resolver_action act;
	struct px_resolver *res;
	uint64_t n = 0, cycles = 0, t0, end;
	enum px_resolver_act last = PX_RES_ACT_WAIT;

	px_resolver_config_default(&cfg);
	cfg.qname_min = false;
	if (px_resolver_memsize(8) > sizeof(mem))
		abort();
	res = px_resolver_init(mem, 8, &cfg, policy, NULL, NULL);
	if (res == NULL)
		abort();
	memset(hints_mem, 0, sizeof(hints_mem));
	hints->ns_count = 1;
	hints->ns[0].name_len = (uint8_t)text_name(hints->ns[0].name, "a.root");
	hints->ns[0].v4_count = 1;
	inet_pton(AF_INET, "198.18.0.1", &hints->ns[0].addr[0].a);
	hints->ns[0].addr[0].family = PX_AF_INET;

	end = rte_rdtsc() + tsc_hz / 5 + (uint64_t)(seconds * (double)tsc_hz);
	for (uint64_t warm = rte_rdtsc() + tsc_hz / 5;; n++) {
		uint64_t top;

		if (px_resolver_start(res, &qq, hints, NULL, 1000, 1, &act) != 0 ||
		    act.kind != PX_RES_ACT_SEND)
			abort();
		top = act.res;
		const struct px_reply_query q = {
		    .qname = act.qname,
		    .zone = act.zone,
		    .qname_len = act.qname_len,
		    .zone_len = act.zone_len,
		    .qtype = act.qtype,
		    .qclass = act.qclass,
		    .policy = policy,
		};
		const struct px_addr server = act.server;
		uint64_t res_id = act.res;

		t0 = rte_rdtsc();
		px_reply_classify(&reply, c->m.buf, c->m.len, &q);
		px_resolver_on_reply(res, res_id, &reply, c->m.buf, c->m.len, &server, 1001, &act);
		cycles += rte_rdtsc() - t0;
		last = act.kind;
		px_resolver_cancel(res, top);
		if (t0 < warm) {
			n = (uint64_t)-1;
			cycles = 0;
		}
		if (t0 >= end)
			break;
	}
	printf("%s.resolve_action: %d\n", c->name, (int)last);
	report(c->name, "classify_resolve", cycles, n + 1);
}

int
main(int argc, char **argv)
{
	static struct bench_case cases[4];
	static const struct option opts[] = {
	    {"seconds", required_argument, NULL, 's'}, {"case", required_argument, NULL, 'c'}, {0}};
	struct px_addr_policy policy;
	const char *only = NULL;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'c') {
			only = optarg;
		} else if (o != 's' || (seconds = atof(optarg)) <= 0) {
			fprintf(stderr, "usage: %s [--seconds N] [--case NAME]\n", argv[0]);
			return 2;
		}
	}
	tsc_hz = calibrate_tsc();
	machine();
	px_addr_policy_init(&policy);
	cases[0].name = "answer";
	build_answer(&cases[0]);
	cases[1].name = "referral";
	build_referral(&cases[1]);
	cases[2].name = "worst";
	build_worst(&cases[2], 1024);
	cases[3].name = "too_many";
	build_too_many(&cases[3]);
	for (unsigned i = 0; i < 4; i++) {
		if (only != NULL && strcmp(only, cases[i].name) != 0)
			continue;
		bench_classify(&cases[i], &policy);
		bench_resolve(&cases[i], &policy);
	}
	return 0;
}
