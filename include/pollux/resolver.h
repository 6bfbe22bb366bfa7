/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iterative resolution state machine: I/O-free and clock-free, in the way Knot Resolver's
 * library is driven by its daemon. The worker feeds it events (a new question, a classified
 * reply, a timeout) with the time, and it answers each event with exactly one action: send this
 * query to this server, answer the clients, fail them with SERVFAIL (and why), or wait.
 *
 * Shape:
 *  - One struct px_resolver per worker, built in a caller-provided block of
 *    px_resolver_memsize(capacity) bytes: a fixed pool of `capacity` resolution states, a hash
 *    index of in-flight questions for coalescing, the limits, the address policy, counters.
 *    Nothing is ever allocated afterwards; a full pool makes px_resolver_start() fail.
 *  - One query in flight per resolution tree at a time. A resolution that needs an NS name's
 *    address (a glueless delegation) starts a sub-resolution from the same pool (A, then AAAA if
 *    A gave nothing usable), waits for it, and resumes when it ends; the sub-resolution's
 *    queries are sent under its own handle. So every event yields one action, and WAIT only
 *    answers an event that no longer concerns anybody (a reply or timeout for a resolution that
 *    ended, or that is waiting on a sub-resolution).
 *  - Server selection: the resolver picks the server itself among the untried usable addresses
 *    of the current cut. With a px_upq table and a generator given at init it first takes an
 *    address the same question is outstanding to already (px_upq_find_server(): the worker
 *    then shares that query, so resolutions asking one thing of a zone wait for one reply),
 *    else uses px_upq_server_select() (smoothed RTT, exploring unknown servers first);
 *    without them it takes the first untried address in delegation order (deterministic:
 *    tests). The timeout of each SEND is the caller's: px_upq_server_rto() for that server,
 *    and retries of the same server with backoff are the caller's too (pollux/upstream.h). A
 *    timeout reported here means the caller gave up on that server: the address is marked
 *    failed for this resolution.
 *  - Every address that enters a nameserver set passes the address policy once more
 *    (PX_ADDR_AT_HINTS for the hints, PX_ADDR_AT_GLUE is px_reply's, PX_ADDR_AT_NS_ADDR for a
 *    start cut from the cache and for addresses learned by sub-resolutions); a rejected one is
 *    counted and never appears in a SEND action. When the cut has no usable address left and no
 *    NS name can still be resolved, the resolution fails with SERVFAIL at once
 *    (PX_RES_FAIL_NO_NS): never by letting the client time out. When that is because the
 *    policy rejected every address the cut was given (none ever passed, at least one was
 *    refused: glue, a cached cut, or what a glueless lookup found), the reason is
 *    PX_RES_FAIL_POLICY instead: the delegation, not the network, is what is wrong; when no
 *    query to any of them could even be sent (px_resolver_on_unreachable), it is
 *    PX_RES_FAIL_NETWORK: pollux's own link, not the servers.
 *
 * Behaviour, per reply class (the caller classified the reply with px_reply_classify() using
 * the SEND action's qname, qtype, qclass and zone as bailiwick, so only in-bailiwick data is
 * ever seen here: anything out of bailiwick never reaches an ANSWER or CACHE action):
 *  - REFERRAL: must be strictly below the cut (px_reply guarantees it; checked again) and is
 *    counted against max_referrals. The new cut's NS names and in-bailiwick glue replace the
 *    old set and are offered for caching (action.cache_cut). An NS name that lies inside the
 *    delegated zone without usable glue is unusable; an out-of-zone NS name without glue (or
 *    with glue out of the bailiwick, which px_reply drops) is resolved by a sub-resolution
 *    only when no usable address is left (at most max_glueless per tree, nested at most
 *    max_depth deep); one whose glue the policy rejected, only when nothing else is left.
 *  - Answer records of another type at the name (px_reply rule 9c') are counted
 *    (stats.answer_type_mismatch) and never used; with nothing else, an AA reply is NODATA
 *    and any other is lame (the next server is asked).
 *  - ANSWER, CNAME: the CNAME links are appended to the resolution's answer buffer; a target
 *    seen before is a loop (PX_RES_FAIL_LOOP); more than max_cname links in all is
 *    PX_RES_FAIL_CNAMES. A CNAME to restart with continues at the current cut when the target is
 *    inside it (keeping the servers' failed marks), else from the closest cut the caller's cut
 *    source knows (px_resolver_set_cut_source: the worker's cache of delegations), else from
 *    the root hints.
 *  - NXDOMAIN, NODATA: ANSWER with the chain so far in the answer section and the SOA, if any,
 *    in the authority section; TTL min(SOA TTL, SOA MINIMUM) (RFC 2308 5) capped at
 *    max_neg_ttl, and 0 without an SOA.
 *  - LAME, REFUSED, SERVFAIL, FORMERR, MALFORMED, TRUNCATED, or a timeout: that address is
 *    failed for this resolution and the next one is tried. TRUNCATED only reaches the resolver
 *    when the caller could not retry over TCP: the worker (dp_miss.c) holds a TC reply back,
 *    asks the same server again over TCP (dp_tcp.h) and feeds that reply, or a timeout, in its
 *    place; with TCP off it passes the TC reply on. The SERVFAIL action says whether a TC reply
 *    was seen (action.truncated_seen).
 *  - QNAME minimisation (RFC 9156, relaxed mode; on unless config.qname_min is false): while
 *    the cut is more than one label above the name being resolved, the query asks for the next
 *    label(s) below the cut with qtype A (RFC 9156 section 3 uses A, older text NS). The first
 *    MINIMISE_ONE_LAB (4) steps add one label each; later steps add enough labels to reach the
 *    full name within MAX_MINIMISE_COUNT (10) steps in all. An NXDOMAIN for a minimised name is
 *    the answer for the full name (RFC 8020). Any other reply that is not a referral (an answer
 *    or CNAME for the intermediate name, NODATA, or a REFUSED/SERVFAIL/FORMERR/LAME error) goes
 *    on with the next label at the same cut (relaxed mode); a timeout or a malformed or
 *    truncated reply is a server failure as for any query.
 *  - Limits, each a SERVFAIL with its reason: the deadline (checked on every event), queries
 *    sent per tree (sub-resolutions included), referrals per resolution, glueless
 *    sub-resolutions per tree, nesting depth (a name past it is unusable, not a failure), CNAME
 *    links, and the answer buffer (PX_RES_RR_BUF bytes of rendered records, at most
 *    PX_RES_MAX_RR records).
 *
 * Cuts from the cache: the first cut of a resolution is the caller's start_cut (NS names and/or
 * bare addresses); sub-resolutions and CNAME restarts outside the cut ask the cut source, if
 * one is set.
 *
 * Fallbacks (px_resolver_fb.c), each counted (stats.fb_*) and each within the limits above:
 *  - An NS name's addresses are tagged with their side (enum px_resolver_addr_side): the
 *    parent's glue, or the name's own zone (a sub-resolution's answer). When a sub-resolution
 *    ends, however it ended, the glue its cut holds for the very name it looked up joins the
 *    parent's NS entry as parent side; the child side is asked first, the parent side once all
 *    of the child side has failed.
 *  - With no address left, an out-of-zone name whose glue all failed and that was never looked
 *    up is looked up in its own zone (after the glueless names); a name whose glue the policy
 *    rejected, last.
 *  - A cut that came from the cache (start cut or cut source) whose servers and glueless names
 *    are used up is replaced by the closest cut the cut source knows above it, else the root
 *    hints (never for the root's own cut, nor when every address was unreachable: that is
 *    this host's network, PX_RES_FAIL_NETWORK); it counts against max_referrals. This comes
 *    before the two lookups above, which a cached cut gets only when it cannot go up (a stale
 *    cut is the likelier cause, and each lookup would spend the tree's glueless budget). The
 *    addresses that failed are remembered (PX_RES_FB_FAILED of them) and keep their state
 *    (failed, or unreachable) in a fresh cut for the same zone only, so a parent still naming
 *    the same servers does not send the resolution back to them; other zones' cuts (the
 *    parent's, which a server lame for its child may well serve, a CNAME target's) are not
 *    concerned. A cut from a referral of the same resolution fails with SERVFAIL (no_ns).
 *
 * Not implemented here: DNSSEC, caching of the sub-resolutions' own answers (their addresses
 * reach the cache through the parent's cut).
 *
 * Worker only: the resolver belongs to one worker and nothing in it is shared or atomic.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollux/addr_policy.h>
#include <pollux/siphash.h>
#include <pollux/wire.h>

#include <pollux/hints.h>
#include <pollux/rand.h>
#include <pollux/reply.h>
#include <pollux/upstream.h>

#define PX_RES_MAX_CAPACITY (1u << 20)
#define PX_RES_MAX_NS PX_REPLY_MAX_NS       /* NS names kept per cut (first 13 of the hints) */
#define PX_RES_NS_ADDRS PX_REPLY_MAX_ADDRS  /* addresses kept per NS name */
#define PX_RES_MAX_CLIENTS 8                /* client cookies per resolution (coalescing) */
#define PX_RES_MAX_CNAME_LINKS 16           /* hard bound on config.max_cname */
/* The rendered answer: uncompressed records, CNAME chain then final RRset (or SOA). 4 KiB holds
 * a full chain and any RRset that could be answered over UDP (1232 bytes) anyway. */
#define PX_RES_RR_BUF 4096
#define PX_RES_MAX_RR (PX_RES_MAX_CNAME_LINKS + PX_REPLY_MAX_ANSWER + 1)
#define PX_RES_QMIN_ONE_LAB 4 /* RFC 9156 MINIMISE_ONE_LAB */
#define PX_RES_QMIN_MAX 10    /* RFC 9156 MAX_MINIMISE_COUNT */
/* Failed addresses a resolution remembers when it gives a cached cut up for a fresh one from
 * the parent, so that the parent's referral does not send it back to them. */
#define PX_RES_FB_FAILED 16

/* An address that failed in a cached cut given up (res_cut_parent). */
struct px_resolver_fb_mark {
	struct px_addr addr;
	uint8_t zone_len; /* the zone of the cut given up: a suffix of sname (marks are dropped
			   * when sname changes) */
	uint8_t state;    /* PX_RES_ADDR_FAILED or PX_RES_ADDR_UNREACHABLE */
};

struct px_resolver_config {
	uint32_t max_ttl;      /* seconds; default 86400 */
	uint32_t max_neg_ttl;  /* seconds; default 3600 */
	uint32_t deadline_ms;  /* per resolution; default 3000 */
	uint16_t max_queries;  /* per tree; default 32 */
	uint16_t max_referrals; /* per resolution; default 16 */
	uint16_t max_glueless; /* sub-resolutions per tree; default 4 */
	uint16_t max_depth;    /* nesting of sub-resolutions; default 2 */
	uint16_t max_cname;    /* CNAME links; default 8, at most PX_RES_MAX_CNAME_LINKS */
	bool qname_min;        /* default true */
	bool use_ipv4;         /* the worker can send over IPv4; default true */
	bool use_ipv6;         /* ... over IPv6; default true */
};

/* Fills c with the defaults above. */
void px_resolver_config_default(struct px_resolver_config *c);

/* Why a resolution ended in SERVFAIL. */
enum px_resolver_fail {
	PX_RES_FAIL_NONE = 0,
	PX_RES_FAIL_NO_NS,     /* no usable nameserver left: every server failed */
	PX_RES_FAIL_QUERIES,   /* max_queries sent */
	PX_RES_FAIL_REFERRALS, /* max_referrals followed */
	PX_RES_FAIL_GLUELESS,  /* max_glueless sub-resolutions started and more were needed */
	PX_RES_FAIL_CNAMES,    /* more than max_cname links */
	PX_RES_FAIL_LOOP,      /* a CNAME target seen before */
	PX_RES_FAIL_DEADLINE,  /* the deadline passed */
	PX_RES_FAIL_TOO_BIG,   /* the answer does not fit PX_RES_RR_BUF / PX_RES_MAX_RR */
	PX_RES_FAIL_POLICY,    /* no usable nameserver: the cut never had an address the policy
				* allowed, and it rejected at least one (res_cut_fail) */
	PX_RES_FAIL_NETWORK,   /* no usable nameserver: no query to any of them could be sent
				* (px_resolver_on_unreachable), none failed otherwise */
	PX_RES_FAIL_CANCELLED, /* px_resolver_cancel() (no action is produced for it) */
	PX_RES_FAIL_COUNT,
};

/* How a server failed, for the per-resolver counters. */
enum px_resolver_srv {
	PX_RES_SRV_LAME = 0,
	PX_RES_SRV_REFUSED,
	PX_RES_SRV_SERVFAIL,
	PX_RES_SRV_FORMERR,
	PX_RES_SRV_TRUNCATED,
	PX_RES_SRV_MALFORMED,
	PX_RES_SRV_TIMEOUT,
	PX_RES_SRV_TOO_MANY_RRS, /* a reply with more records than px_reply indexes */
	PX_RES_SRV_UNREACHABLE,  /* the query never left (the caller had no next-hop MAC) */
	PX_RES_SRV_COUNT,
};

enum px_resolver_act {
	PX_RES_ACT_WAIT = 0, /* nothing to do: the event concerned nothing in flight */
	PX_RES_ACT_SEND,     /* send the query described to the server */
	PX_RES_ACT_ANSWER,   /* answer the clients (rcode NOERROR or NXDOMAIN) */
	PX_RES_ACT_SERVFAIL, /* answer the clients SERVFAIL */
};

enum px_resolver_addr_state {
	PX_RES_ADDR_UNTRIED = 0,
	PX_RES_ADDR_OK,     /* answered usefully: still usable */
	PX_RES_ADDR_FAILED, /* failed for this resolution: never used again by it */
	PX_RES_ADDR_UNREACHABLE, /* failed the same way, because no query could be sent to it */
};

enum px_resolver_ns_state {
	PX_RES_NS_GLUE = 0,   /* has addresses (or had them; see addr states) */
	PX_RES_NS_GLUELESS,   /* no address yet: may be resolved by a sub-resolution */
	PX_RES_NS_RESOLVING,  /* a sub-resolution is under way */
	PX_RES_NS_UNUSABLE,   /* in-zone without usable glue, or resolution failed */
	PX_RES_NS_REJECTED,   /* out of zone, every glue address rejected by the policy: looked
			       * up only when nothing else is left */
};

/* Where an address of an NS name came from: the delegating (parent) zone's glue, or the
 * name's own zone (a sub-resolution's answer). Kept apart so that when one side fails the
 * other is still tried. Addresses of a start cut from the cache count as parent side. */
enum px_resolver_addr_side {
	PX_RES_SIDE_PARENT = 0,
	PX_RES_SIDE_CHILD,
};

struct px_resolver_ns {
	uint8_t name_len; /* 0: addresses without a name (a start cut from the cache) */
	uint8_t state;    /* enum px_resolver_ns_state */
	uint8_t addr_count;
	uint8_t lookups;  /* glueless lookups done for the name: A first, then AAAA */
	uint8_t rejected; /* addresses of the name the policy refused (saturating) */
	uint8_t name[PX_DNS_NAME_BUF];
	struct px_addr addr[PX_RES_NS_ADDRS];
	uint8_t addr_state[PX_RES_NS_ADDRS]; /* enum px_resolver_addr_state */
	uint8_t addr_side[PX_RES_NS_ADDRS];  /* enum px_resolver_addr_side */
};

/* A zone cut: the zone and its nameserver set. Offered to the caller for caching after a
 * referral and whenever a sub-resolution adds addresses (action.cache_cut). */
struct px_resolver_cut {
	uint8_t zone_len;
	uint8_t ns_count;
	uint32_t ttl; /* the NS RRset's TTL capped at max_ttl (0 for hints and start cuts) */
	uint8_t zone[PX_DNS_NAME_BUF];
	struct px_resolver_ns ns[PX_RES_MAX_NS];
};

/* A nameserver of a start cut, by name: its addresses (possibly none: the name may then be
 * looked up by a glueless sub-resolution if it lies outside the zone). */
struct px_resolver_start_ns {
	const uint8_t *name; /* lower-cased wire form */
	uint8_t name_len;
	uint8_t addr_count;  /* at most PX_RES_NS_ADDRS are used */
	const struct px_addr *addrs;
};

/* A closest enclosing delegation the caller found in its cache (optional at start). Either
 * bare addresses (addrs) or named servers (ns), or both; every address passes the policy at
 * PX_ADDR_AT_NS_ADDR. A start cut left with no usable address and no name to look up is not
 * used: the resolution starts from the root hints instead (stats.start_cut_unusable). */
struct px_resolver_start_cut {
	const uint8_t *zone; /* lower-cased wire form */
	uint8_t zone_len;
	const struct px_addr *addrs;
	unsigned addr_count;
	const struct px_resolver_start_ns *ns;
	unsigned ns_count; /* at most PX_RES_MAX_NS are used (after the bare addresses) */
};

/* Room for a start cut a cut source fills in (px_resolver_cut_fn). */
struct px_resolver_start_buf {
	struct px_resolver_start_cut sc;
	struct px_resolver_start_ns ns[PX_RES_MAX_NS];
	struct px_addr addr[PX_RES_MAX_NS][PX_RES_NS_ADDRS];
};

/*
 * A cut source: fills out->sc with the closest enclosing delegation of name (for qtype: a DS
 * question is asked of the parent, so a cut at name itself does not count) known to the
 * caller, and returns true, or returns false when it knows none (the root hints are used).
 * Pointers in out->sc must stay valid until the resolver call that asked returns (the
 * resolver copies what it uses). Called for sub-resolutions and for CNAME targets outside the
 * current cut; the first cut of a resolution is the caller's start_cut.
 */
typedef bool (*px_resolver_cut_fn)(void *arg, const uint8_t *name, uint8_t name_len,
				  uint16_t qtype, struct px_resolver_start_buf *out);

/*
 * A release hook: told the handle of a resolution that ends while its query is in flight
 * (px_resolver_cancel(), or any other way a tree is cut short), so that the caller stops
 * waiting on that query for it; the reply or timeout would only be a stale event. Called
 * before the handle is retired; it must not call back into the resolver.
 */
typedef void (*px_resolver_release_fn)(void *arg, uint64_t res);

/* The question; qname in wire form (any case: it is stored lower-cased). */
struct px_resolver_question {
	const uint8_t *qname;
	uint8_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
};

/* One resolution. Read-only for the caller (tests read it through px_resolver_get()). */
struct px_resolution {
	uint64_t handle;     /* generation << 32 | index; 0 when free */
	uint32_t parent;     /* index + 1 of the resolution waiting on this one, 0 for a top */
	uint32_t top;        /* index of the top resolution of the tree */
	uint32_t child;      /* index + 1 of the sub-resolution this one waits on, or 0 */
	uint32_t hnext;      /* question index chain (tops only): index + 1, 0 ends */
	uint32_t anext, aprev; /* age list of the tops, oldest first: index + 1, 0 ends */
	uint8_t depth;       /* 0 for a top */
	uint8_t parent_ns;   /* the parent's NS entry this sub-resolution resolves */
	bool in_index;
	bool truncated_seen;
	bool cut_cached;     /* the cut came from the cache (start cut or cut source): when all
			      * its servers fail, the parent zone is asked for a fresh one */
	uint64_t start_ms, deadline_ms;

	uint8_t qname_len, sname_len, sname_labels;
	uint16_t qtype, qclass;
	uint8_t qname[PX_DNS_NAME_BUF]; /* the question */
	uint8_t sname[PX_DNS_NAME_BUF]; /* the name being resolved: qname or the last CNAME target */

	/* The query in flight: sname from ask_off, ask_type. */
	uint8_t ask_off;
	uint8_t ask_labels;
	uint16_t ask_type;
	uint8_t qmin_steps; /* minimised steps taken for the current sname */
	bool inflight;
	uint8_t inflight_ns, inflight_addr;
	struct px_addr inflight_server;

	struct px_resolver_cut cut;
	uint8_t fb_failed_count;
	struct px_resolver_fb_mark fb_failed[PX_RES_FB_FAILED];

	/* Work done: queries and glueless are counted on the top for the whole tree. */
	uint16_t queries, referrals, glueless, cnames;

	uint8_t client_count;
	uint64_t clients[PX_RES_MAX_CLIENTS];

	/* The rendered answer: CNAME chain, then final RRset or SOA. */
	uint16_t rr_len, rr_count, an_count, ns_count;
	uint32_t ttl_min; /* smallest TTL of the rendered answer-section records */
	uint16_t chain_off[PX_RES_MAX_CNAME_LINKS]; /* CNAME records within rr */
	uint16_t ttl_off[PX_RES_MAX_RR];
	uint8_t rr[PX_RES_RR_BUF];
};

/* What to do next. Pointers stay valid until the next call on the resolver. */
struct px_resolver_action {
	enum px_resolver_act kind;
	uint64_t res; /* SEND: the resolution the query belongs to (pass it back with the reply or
		       * timeout); ANSWER/SERVFAIL: the top resolution, now ended */

	/* SEND */
	struct px_addr server;
	const uint8_t *qname; /* possibly minimised */
	uint8_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	const uint8_t *zone;  /* the bailiwick to classify the reply with */
	uint8_t zone_len;

	/* ANSWER and SERVFAIL: the question and the clients to answer. */
	const struct px_resolution *done;
	const uint64_t *clients;
	uint8_t client_count;

	/* ANSWER: records rendered uncompressed, an_count in the answer section then ns_count
	 * (the SOA) in the authority section; ttl is what to cache and serve them with. */
	uint8_t rcode;
	bool nodata;
	uint16_t an_count, ns_count;
	const uint8_t *rr;
	uint16_t rr_len;
	const uint16_t *ttl_off;
	uint16_t ttl_off_count;
	uint32_t ttl;

	/* SERVFAIL (zone and zone_len above: the cut the resolution ended at) */
	enum px_resolver_fail reason;
	bool truncated_seen; /* a server answered with TC: a TCP retry might have helped */

	/* Side effect, any kind: a cut to cache (referral NS set and glue), or NULL. */
	const struct px_resolver_cut *cache_cut;
};

struct px_resolver_stats {
	uint64_t started;
	uint64_t start_no_slot;   /* pool exhausted at start */
	uint64_t start_invalid;   /* malformed question */
	uint64_t attached, attach_full;
	uint64_t answered;        /* NOERROR with data */
	uint64_t nxdomain, nodata;
	uint64_t servfail;
	uint64_t servfail_reason[PX_RES_FAIL_COUNT];
	uint64_t queries_sent, qmin_queries;
	uint64_t referrals;
	uint64_t glueless_started, glueless_no_slot;
	uint64_t cnames_followed;
	uint64_t glue_rejected[PX_ADDR_REASON_COUNT];    /* counted by px_reply, summed here */
	uint64_t ns_addr_rejected[PX_ADDR_REASON_COUNT]; /* hints, start cut, sub-resolutions */
	uint64_t server_fail[PX_RES_SRV_COUNT];
	uint64_t malformed[PX_REPLY_BAD_COUNT]; /* server_fail.malformed by what was wrong */
	uint64_t stale_events;    /* replies and timeouts that concerned nothing in flight */
	uint64_t start_cut_unusable; /* a start cut with nothing usable: hints used instead */
	uint64_t cut_source_used;    /* sub-resolutions and CNAME restarts from the cut source */
	/* Fallbacks within one resolution (each also bounded by the limits above). */
	uint64_t fb_parent_addr;  /* parent-side glue kept for a name looked up in its own zone */
	uint64_t fb_child_lookup; /* a name whose glue all failed looked up in its own zone
				   * (lookups started, like the next) */
	uint64_t fb_parent_cut;   /* a cached cut whose servers all failed: the parent asked */
	uint64_t fb_rejected_lookup; /* a name whose glue the policy rejected looked up, last */
	/* Answer records of another type ignored (px_reply), counted for each resolution a reply
	 * reaches: a reply shared by n resolutions counts n times here, once in the worker's
	 * rec_answer_type_mismatch (the operator's figure, per reply from the network). */
	uint64_t answer_type_mismatch;
};

struct px_resolver {
	struct px_resolver_config cfg;
	const struct px_addr_policy *policy;
	/* Where the root hints table is published (the dp_ctx slot the control thread swaps),
	 * not the table: the table is RCU-protected, so it is loaded at each use and never kept
	 * here across a quiescent state report. NULL: restarts find no hints. */
	struct px_hints *const *hints_src;
	const struct px_upq_table *upq; /* optional: server selection by RTT */
	struct px_rand *rand;           /* with upq */
	px_resolver_cut_fn cut_fn;       /* optional cut source (px_resolver_set_cut_source) */
	void *cut_arg;
	px_resolver_release_fn release_fn; /* optional (px_resolver_set_release_hook) */
	void *release_arg;
	uint32_t capacity, free_count, bucket_mask;
	uint32_t *free_stack;
	uint32_t *bucket; /* question index: index + 1 of the first top, 0 for none */
	uint32_t age_head, age_tail; /* the tops in the order they started: index + 1, 0: none */
	struct px_siphash_key qkey; /* keys the question index; drawn at init */
	struct px_resolution *pool;
	struct px_resolver_stats stats;
};

/* Bytes a resolver of `capacity` resolutions needs, or 0 if capacity is 0 or over
 * PX_RES_MAX_CAPACITY. Any thread. */
size_t px_resolver_memsize(uint32_t capacity);

/*
 * Builds a resolver in mem (px_resolver_memsize(capacity) bytes, 8-byte aligned, owned by the
 * caller). cfg NULL means the defaults; policy must outlive the resolver. upq and rand are
 * optional (both or neither): with them, servers are chosen by RTT. The question index is keyed
 * by a secret drawn from rand, or from getrandom(2) without it. Returns the resolver (at mem) or
 * NULL with errno EINVAL (or getrandom's). Any thread; afterwards it belongs to one worker.
 */
struct px_resolver *px_resolver_init(void *mem, uint32_t capacity,
				    const struct px_resolver_config *cfg,
				    const struct px_addr_policy *policy,
				    const struct px_upq_table *upq, struct px_rand *rand);

/* Changes what a reload may change (dp_settings.h) in a running resolver: the TTL caps and QNAME
 * minimisation of cfg; the other fields are kept. Resolutions in flight use the new values from
 * their next step. The resolver's own worker only. */
static inline void
px_resolver_tune(struct px_resolver *r, bool qname_min, uint32_t max_ttl, uint32_t max_neg_ttl)
{
	r->cfg.qname_min = qname_min;
	r->cfg.max_ttl = max_ttl;
	r->cfg.max_neg_ttl = max_neg_ttl;
}

/* Tells the resolver where the root hints are published (&ctx->hints): restarts (CNAME targets,
 * sub-resolutions with no cut source answer) load the table from there with an acquire load
 * when they need it, so they read the table in force during the caller's iteration and never
 * one that a quiescent report since may have let the control thread free. The caller of
 * every resolver entry point must be an online RCU reader. */
static inline void
px_resolver_set_hints_source(struct px_resolver *r, struct px_hints *const *src)
{
	r->hints_src = src;
}

/* The root hints table in force (NULL without a source): good until the caller's next
 * quiescent state report, so used at once and never stored. */
static inline const struct px_hints *
px_resolver_hints(const struct px_resolver *r)
{
	return r->hints_src == NULL ? NULL : __atomic_load_n(r->hints_src, __ATOMIC_ACQUIRE);
}

/* Sets (or clears, with fn NULL) the cut source used for sub-resolutions and for CNAME
 * targets outside the current cut; without one they start from the root hints. */
static inline void
px_resolver_set_cut_source(struct px_resolver *r, px_resolver_cut_fn fn, void *arg)
{
	r->cut_fn = fn;
	r->cut_arg = arg;
}

/* Sets (or clears, with fn NULL) the release hook. */
static inline void
px_resolver_set_release_hook(struct px_resolver *r, px_resolver_release_fn fn, void *arg)
{
	r->release_fn = fn;
	r->release_arg = arg;
}

/*
 * Starts resolving q for a client (client_cookie) at now_ms, from start_cut if given (a
 * delegation from the cache) else from hints (a table the caller loaded in this iteration; NULL:
 * the resolver's hints source; it is read here and not kept),
 * and fills act with the first action (SEND, or SERVFAIL at once when no usable address).
 * Returns 0; -ENOSPC when the pool is full, -EINVAL for a malformed question (both counted;
 * act is untouched, the caller answers SERVFAIL).
 */
int px_resolver_start(struct px_resolver *r, const struct px_resolver_question *q,
		     const struct px_hints *hints, const struct px_resolver_start_cut *start_cut,
		     uint64_t now_ms, uint64_t client_cookie, struct px_resolver_action *act);

/*
 * Feeds the reply the caller received for the SEND action of resolution `res` from `server`,
 * classified with px_reply_classify() (msg[0, len) still holds it: CNAMEs and answers are
 * copied out of it here), and fills act with the next action. A reply for a resolution that
 * has nothing in flight to that server is counted and answered with WAIT.
 */
void px_resolver_on_reply(struct px_resolver *r, uint64_t res, const struct px_reply *rep,
			 const uint8_t *msg, uint16_t len, const struct px_addr *server,
			 uint64_t now_ms, struct px_resolver_action *act);

/* The caller gave up on the query of resolution `res` to `server` (after its own retries):
 * the address is failed and the next action is filled in act. */
void px_resolver_on_timeout(struct px_resolver *r, uint64_t res, const struct px_addr *server,
			   uint64_t now_ms, struct px_resolver_action *act);

/* As px_resolver_on_timeout(), when the caller could never send the query at all (no
 * link-layer next hop for the server): the address is failed as unreachable, so a resolution
 * that could reach none of its servers fails PX_RES_FAIL_NETWORK rather than NO_NS. */
void px_resolver_on_unreachable(struct px_resolver *r, uint64_t res,
			       const struct px_addr *server, uint64_t now_ms,
			       struct px_resolver_action *act);

/* The top resolution in flight for the same question (name compared case-insensitively), or 0.
 * O(1) on average. */
uint64_t px_resolver_find(const struct px_resolver *r, const struct px_resolver_question *q);

/* The question index bucket q falls in: it depends on the resolver's secret. For tests. */
uint32_t px_resolver_question_bucket(const struct px_resolver *r,
				    const struct px_resolver_question *q);

/* Adds a client to a top resolution. Returns 0, -ENOENT for a stale handle, or -ENOSPC past
 * PX_RES_MAX_CLIENTS clients (counted; the caller resolves separately or answers SERVFAIL). */
int px_resolver_attach(struct px_resolver *r, uint64_t res, uint64_t client_cookie);

/* Ends a resolution tree (its top and every sub-resolution) without an action: shutdown, or
 * the caller's own reasons. Returns 0 or -ENOENT. */
int px_resolver_cancel(struct px_resolver *r, uint64_t res);

/*
 * Jostle (Unbound's word): when every slot is taken, which resolution may a new question take
 * the place of? The oldest top resolution that started at least min_age_ms before now_ms and
 * whose tree is, by the caller's judgement, only waiting for an unresponsive server: stuck()
 * is asked about the one query the tree has in flight (leaf: the resolution that sent it, the
 * top itself or its deepest sub-resolution; server: where it went) and says whether that
 * server is known not to answer. The tops are looked at oldest first, at most
 * PX_RES_JOSTLE_SCAN of them, and the walk stops at the first one too young (the list is in
 * start order). Returns the top's handle, or 0 when none qualifies. Nothing is changed: the
 * caller ends the tree (px_resolver_cancel, after reading its clients) and answers them.
 */
#define PX_RES_JOSTLE_SCAN 32
typedef bool (*px_resolver_stuck_fn)(void *arg, uint64_t top, uint64_t leaf,
				    const struct px_addr *server);
uint64_t px_resolver_jostle_find(const struct px_resolver *r, uint64_t now_ms,
				uint32_t min_age_ms, px_resolver_stuck_fn stuck, void *arg);

/* Fills handles (room for max) with the resolutions of the tree whose top is `top`, the top
 * first and then each sub-resolution it waits on, deepest last. Returns how many (0 for a
 * stale handle). */
unsigned px_resolver_tree(const struct px_resolver *r, uint64_t top, uint64_t *handles,
			 unsigned max);

/* The resolution behind a handle, or NULL if it is stale. */
const struct px_resolution *px_resolver_get(const struct px_resolver *r, uint64_t res);

/* Resolutions in use (tops and sub-resolutions). */
static inline uint32_t
px_resolver_active(const struct px_resolver *r)
{
	return r->capacity - r->free_count;
}

/* Stable names for counters and tests ("no_ns", "queries", ...; "lame", "timeout", ...). */
const char *px_resolver_fail_name(enum px_resolver_fail f);
const char *px_resolver_srv_name(enum px_resolver_srv s);

/*
 * The Extended DNS Error (RFC 8914) a client gets with the SERVFAIL for why: the INFO-CODE and
 * EXTRA-TEXT, from the same table as the reason's name, so the counter and the code cannot
 * disagree. PX_RES_FAIL_POLICY names the zone (zone[0, zone_len), the action's zone) in the
 * text, written to text (PX_DNS_EDE_TEXT_MAX + 1 bytes; the name escaped, see
 * px_wire_name_text()); the other texts are constants. PX_RES_FAIL_CANCELLED is the caller
 * ending a resolution stuck on an unresponsive server to make room. Returns ede, filled in, or
 * NULL for PX_RES_FAIL_NONE or a value out of range. Any thread.
 */
const struct px_dns_ede_info *px_resolver_fail_ede(enum px_resolver_fail why, const uint8_t *zone,
						   uint8_t zone_len, struct px_dns_ede_info *ede,
						   char *text);

/* Internal: shared by px_resolver.c (events, answers) and px_resolver_ns.c (cuts, servers). */
struct px_resolution *res_alloc(struct px_resolver *r);
void res_free(struct px_resolver *r, struct px_resolution *s);
void res_fail(struct px_resolver *r, struct px_resolution *s, enum px_resolver_fail why,
		 uint64_t now_ms, struct px_resolver_action *act);
void res_advance(struct px_resolver *r, struct px_resolution *s, uint64_t now_ms,
		    struct px_resolver_action *act);
void res_sub_end(struct px_resolver *r, struct px_resolution *sub, uint64_t now_ms,
		    struct px_resolver_action *act);
void res_qmin_step(const struct px_resolver *r, struct px_resolution *s, unsigned from_labels);
void res_qmin_step_reset(struct px_resolution *s);
unsigned res_labels(const uint8_t *name, unsigned len);
void res_set_sname(struct px_resolution *s, const uint8_t *name, unsigned len);
void res_cut_hints(struct px_resolver *r, struct px_resolution *s, const struct px_hints *h);
bool res_cut_start(struct px_resolver *r, struct px_resolution *s,
		      const struct px_resolver_start_cut *sc);
void res_cut_closest(struct px_resolver *r, struct px_resolution *s);
int res_cut_referral(struct px_resolver *r, struct px_resolution *s, const struct px_reply *rep);
enum px_resolver_fail res_cut_fail(const struct px_resolver *r, const struct px_resolver_cut *cut);
bool res_add_addr(struct px_resolver *r, struct px_resolver_ns *ns,
		     const struct px_addr *a, enum px_addr_entry at);
/* px_resolver_fb.c */
bool res_add_addr_side(struct px_resolver *r, struct px_resolver_ns *ns,
		       const struct px_addr *a, enum px_addr_entry at,
		       enum px_resolver_addr_side side);
void res_keep_parent_side(struct px_resolver *r, const struct px_resolution *sub,
			  struct px_resolver_ns *ns);
/* Why res_next_lookup() chose an NS entry: counted once the lookup starts. */
enum px_resolver_lookup {
	PX_RES_LOOKUP_GLUELESS = 0,
	PX_RES_LOOKUP_CHILD,    /* fb_child_lookup */
	PX_RES_LOOKUP_REJECTED, /* fb_rejected_lookup */
};
unsigned res_next_lookup(struct px_resolution *s, bool fallbacks, enum px_resolver_lookup *why);
bool res_addr_held_back(const struct px_resolver *r, const struct px_resolver_ns *ns,
			unsigned j);
int res_cut_parent(struct px_resolver *r, struct px_resolution *s);
void res_cut_mark_failed(struct px_resolution *s);
