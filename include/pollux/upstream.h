/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Upstream query bookkeeping for one worker: the table of outstanding queries to authoritative
 * servers, how replies are matched to them (RFC 5452), their timeouts, and the smoothed RTT of
 * each server with the server selection built on it.
 *
 * Pure code: no I/O, no DPDK, no allocation, no locks. The control thread allocates one memory
 * block per worker (rte_malloc on the worker's socket, px_upq_memsize() bytes) and the worker
 * owns the table built in it: it is the only reader and writer, so nothing here is atomic but
 * the port owner map shared between workers (below).
 *
 * - Every query gets a source port drawn uniformly from PX_UPQ_PORT_MIN..PX_UPQ_PORT_MAX (every
 *   worker uses the whole range) and a uniformly random ID, both from the worker's ChaCha20
 *   generator (pollux/rand.h), and no two outstanding queries share a (port, ID) pair. An off-path
 *   attacker must therefore guess about 32 bits per forged reply, and then also the server
 *   address and the question.
 * - A reply is accepted only if its destination port and ID name an outstanding query and its
 *   source address, source port and question all match that query; it is found in O(1) through
 *   a hash index on (port, ID). A forged or late reply is counted by reason and leaves the
 *   outstanding query untouched (a forgery must not be able to cancel the real answer).
 * - 0x20 (draft-vixie-dnsext-dns0x20): the letters of every qname are sent in a random case
 *   drawn from the same generator, one bit per letter, and a reply's question must repeat that
 *   case exactly. A reply that matches in everything but the case is dropped
 *   (PX_UPQ_WRONG_CASE) and the query stays outstanding, so the server's own reply can still
 *   be accepted.
 * - Servers that do not preserve case: the rule that turns 0x20 off for one. A query whose
 *   deadline passed after a reply that matched its port, ID, source address, source port and
 *   question in everything but the case (px_upq_done.case_seen) is evidence, and the caller
 *   reports it with px_upq_server_case_failed() and asks again. PX_UPQ_CASE_STRIKES such
 *   queries to one server in a row (any reply with the exact case from it in between starts
 *   the count again) put the server in fallback: its queries go without 0x20 (all lower case,
 *   the name compared without case) for PX_UPQ_CASE_FALLBACK_MS. Each piece of evidence costs
 *   an off-path attacker a correct guess of the 32 bits of port and ID, the very guess 0x20
 *   adds to, and the server's own reply with the right case wipes it out; so turning 0x20 off
 *   for a server is no cheaper than spoofing it outright, twice.
 * - Identical questions are asked once: an index on (server, server port, qname without case,
 *   qtype, qclass) finds an outstanding query for the same question (px_upq_find), so that
 *   the caller can share it rather than send a duplicate, each of which would be one more
 *   chance for a forged reply.
 * - Deadlines sit in a timer wheel with one-millisecond slots, so px_upq_expire() costs the
 *   slots the clock moved over plus the queries it returns.
 * - Per server address: SRTT and RTTVAR as in RFC 6298, an RTO with exponential backoff on
 *   timeouts that decays back with time, and selection of the fastest known server, exploring
 *   servers never tried first. A fixed table with LRU replacement within each set.
 * - Spurious timeouts: the last PX_UPQ_LATE_SLOTS queries that timed out are remembered for
 *   PX_UPQ_LATE_WINDOW_MS past their deadline (their ports stay claimed meanwhile), and a
 *   reply that matches one by every check is PX_UPQ_LATE: counted, and an RTT sample for its
 *   server, so that a server slower than its RTO said teaches the RTO rather than only
 *   backing it off.
 *
 * - With several workers (px_upq_share_ports()), a source port belongs to one worker at a time:
 *   the table claims a port in a shared owner map (one byte per port, compare-and-swap from
 *   free to the worker) when its first query on that port starts and gives it back when its
 *   last one ends. A draw of a port another worker holds is redrawn (counted port_busy), so
 *   every worker still draws from the whole range, and a reply's destination port names the
 *   one worker that can match it: the worker that received it hands it over (dp_miss.c).
 *   The owner map is the only thing here other workers touch; it is written with atomics.
 *
 * Matched and expired queries leave the table at once and come back to the caller as a copy
 * (struct px_upq_done), so the caller never holds a pointer into the table. Handles carry a
 * generation, so a stale handle is refused rather than cancelling someone else's query.
 *
 * Worker only, unless a function says otherwise.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollux/addr.h>
#include <pollux/rand.h>
#include <pollux/wire.h>

/* The source ports queries use: the whole unprivileged range. Port 53, on which pollux serves,
 * lies outside it, so a reply can never be mistaken for a client query by port alone. */
#define PX_UPQ_PORT_MIN 1024
#define PX_UPQ_PORT_MAX 65535

#define PX_UPQ_MAX_CAPACITY (1u << 22)
/* Timer wheel: one slot per millisecond. Timeouts are clamped to [1, PX_UPQ_MAX_TIMEOUT_MS]. */
#define PX_UPQ_WHEEL_SLOTS 8192
#define PX_UPQ_MAX_TIMEOUT_MS (PX_UPQ_WHEEL_SLOTS - 1)

/* Queries that timed out are remembered (PX_UPQ_LATE_SLOTS of them, the newest win) for
 * PX_UPQ_LATE_WINDOW_MS past their deadline, so that a reply arriving late is recognised. */
#define PX_UPQ_LATE_SLOTS 1024
#define PX_UPQ_LATE_WINDOW_MS 3000

/* Server RTT table: PX_UPQ_SERVERS entries in sets of PX_UPQ_SERVER_WAYS. */
#define PX_UPQ_SERVERS 1024
#define PX_UPQ_SERVER_WAYS 4
#define PX_UPQ_RTO_MIN_MS 50       /* the RTO's default floor (Unbound's infra-cache-min-rtt) */
#define PX_UPQ_RTO_FLOOR_MIN_MS 10 /* what the floor may be set to, at least */
#define PX_UPQ_RTO_MAX_MS 3000
/* What a server never measured is assumed to take, as its RTO and for selection: Unbound's
 * UNKNOWN_SERVER_NICENESS. */
#define PX_UPQ_RTT_UNKNOWN_MS 376
#define PX_UPQ_MAX_BACKOFF 6	     /* at most 64 times the RTO (before the clamp) */
#define PX_UPQ_BACKOFF_DECAY_MS 5000 /* one backoff step is forgiven per this much quiet time */
/* Known servers whose score is within this of the best are equally good: one is picked at
 * random, which spreads load and denies an attacker a predictable target. Unbound uses 400 ms,
 * which makes nearly every server a candidate; pollux prefers the fastest and only spreads over
 * servers that RTT noise cannot tell apart. */
#define PX_UPQ_SELECT_BAND_MS 25
/* 0x20 fallback: after this many queries in a row to a server ended with a reply that failed
 * only the case check, its queries go without 0x20 for PX_UPQ_CASE_FALLBACK_MS (Unbound keeps
 * what it learns of a server as long: infra-host-ttl). */
#define PX_UPQ_CASE_STRIKES 2
#define PX_UPQ_CASE_FALLBACK_MS (900u * 1000u)

/* Counters, one writer (the owning worker); X(name, help). */
#define PX_UPQ_STATS_FIELDS(X)                                                                     \
	X(started, "upstream queries started")                                                     \
	X(matched, "replies accepted")                                                             \
	X(drop_no_such_query, "replies dropped: no outstanding query with that port and ID")       \
	X(drop_wrong_addr, "replies dropped: source address is not the queried server")            \
	X(drop_wrong_port, "replies dropped: source port is not the queried server port")          \
	X(drop_wrong_question, "replies dropped: question differs from the query's")               \
	X(drop_wrong_case, "replies dropped: question matched except for the 0x20 letter case")    \
	X(case_fallbacks, "servers put in 0x20 fallback after repeated case mismatches")           \
	X(timeouts, "queries that reached their deadline unanswered")                              \
	X(late_replies, "replies to a query that had timed out: spurious timeouts, RTT samples")   \
	X(cancelled, "queries cancelled by the resolver")                                          \
	X(table_full, "queries not started: every slot in use")                                    \
	X(id_collisions, "random (port, ID) draws that were already in use, and redrawn")          \
	X(port_busy, "random port draws owned by another worker, and redrawn")                     \
	X(server_evictions, "server RTT entries replaced to make room")

struct px_upq_stats {
#define PX_UPQ_STATS_MEMBER(name, help) uint64_t name;
	PX_UPQ_STATS_FIELDS(PX_UPQ_STATS_MEMBER)
#undef PX_UPQ_STATS_MEMBER
};

/* The query to send. Addresses here (pollux/addr.h) carry the server's port in queries, in done
 * records and in replies; the server RTT functions below key on the address alone and ignore it. */
struct px_upq_query {
	struct px_addr server; /* port: PX_DNS_PORT outside labs */
	uint16_t qtype;
	uint16_t qclass;
	uint8_t qname_len;    /* wire length, root label included */
	const uint8_t *qname; /* uncompressed wire form, any case (the case sent is drawn anew) */
	uint32_t cookie;      /* the caller's: which query of its own this is */
};

/* What px_upq_start() chose: the packet goes from sport to the server with this ID, asking
 * qname spelled exactly so. */
struct px_upq_sent {
	uint64_t handle; /* for px_upq_cancel(); never 0 */
	uint64_t deadline_ms;
	uint16_t sport;
	uint16_t id;
	bool case_on;         /* qname's case is random (0x20); false in fallback */
	const uint8_t *qname; /* in the table: good until the next call that changes it */
};

/* A query that left the table: matched by a reply, or past its deadline. */
struct px_upq_done {
	uint64_t handle;
	uint64_t sent_ms;
	uint64_t deadline_ms;
	struct px_addr server;
	uint16_t sport;
	uint16_t id;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t qname_len;
	bool case_on;   /* it was sent with 0x20 */
	bool case_seen; /* a reply matched it in everything but the case */
	uint32_t cookie;
	uint8_t qname[PX_DNS_MAX_NAME]; /* lower-cased */
};

/* What a reply says about itself, read from its IP/UDP headers and its question. */
struct px_upq_reply {
	struct px_addr src; /* with the reply's source port */
	uint16_t dport; /* host order: our port */
	uint16_t id;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t qname_len;    /* 0 when the reply has no question, which never matches */
	const uint8_t *qname; /* uncompressed wire form as received: its case is checked */
};

/* Why a reply was or was not accepted; every verdict but PX_UPQ_MATCH is a counted drop. */
enum px_upq_verdict {
	PX_UPQ_MATCH = 0,
	PX_UPQ_NO_SUCH_QUERY,  /* no outstanding query on that port with that ID (includes a wrong
				* ID, and a second reply to a query already answered) */
	PX_UPQ_WRONG_ADDR,     /* right port and ID, but not from the queried server */
	PX_UPQ_WRONG_PORT,     /* ... from the server, but not from the port queried */
	PX_UPQ_WRONG_QUESTION, /* ... but the question (name, type or class) differs or is absent */
	PX_UPQ_WRONG_CASE,     /* ... the same question, but not in the case it was sent in */
	PX_UPQ_LATE,           /* the reply to a query that had timed out: a spurious timeout */
};

struct px_upq_table;

/* Bytes a table of `capacity` outstanding queries needs, or 0 if capacity is 0 or over
 * PX_UPQ_MAX_CAPACITY. Any thread. */
size_t px_upq_memsize(uint32_t capacity);

/*
 * Builds an empty table in mem (px_upq_memsize(capacity) bytes, 8-byte aligned; the caller
 * allocates it, with rte_malloc on the worker's socket, and frees it after the worker stops).
 * now_ms is the clock the worker will pass to the other calls (dp_clock_ms()). hash_seed keys
 * the server table's hash so that nameserver addresses an attacker picks cannot be made to
 * evict each other; draw it from px_rand. Returns the table (at mem), or NULL with errno
 * EINVAL. Any thread; afterwards the table belongs to one worker.
 */
struct px_upq_table *px_upq_init(void *mem, uint32_t capacity, uint64_t now_ms, uint64_t hash_seed);

/* The question index bucket of a question (qname in any case): it depends on the table's
 * hash_seed. For tests. */
uint32_t px_upq_question_bucket(const struct px_upq_table *t, const uint8_t *qname, unsigned len,
				uint16_t qtype, uint16_t qclass);

/* Bytes px_upq_share_ports() needs for its per-port reference counts. Any thread. */
#define PX_UPQ_PORT_REFS_SIZE ((size_t)(PX_UPQ_PORT_MAX + 1) * sizeof(uint16_t))

/*
 * Makes t claim its source ports in owners (PX_UPQ_PORT_MAX + 1 bytes shared by every worker,
 * zeroed: 0 is free, else the owner's self) as self (1..255), keeping its own reference counts
 * in refs (PX_UPQ_PORT_REFS_SIZE bytes, zeroed, owned by the caller). Call once, before the
 * first query. Returns 0 or -EINVAL. Any thread, before the worker runs.
 */
int px_upq_share_ports(struct px_upq_table *t, uint8_t *owners, uint8_t self, uint16_t *refs);

/* The worker owning port in a shared owner map (0: nobody), as any worker reads it. */
static inline uint8_t
px_upq_port_owner(const uint8_t *owners, uint16_t port)
{
	return __atomic_load_n(&owners[port], __ATOMIC_ACQUIRE);
}

/*
 * Starts an upstream query: takes a free slot, draws a source port and ID (unique among the
 * outstanding queries), spells the qname in a random case (0x20) unless the server is in
 * fallback (then all lower case), stores the server and the question as sent, and arms a
 * deadline of now_ms + timeout_ms (timeout clamped to [1, PX_UPQ_MAX_TIMEOUT_MS]; use
 * px_upq_server_rto()). It does not refuse a question already outstanding (px_upq_find() is
 * the caller's, which decides to share). Fills out with what the packet must carry. Returns
 * 0, -ENOSPC when every slot is in use (counted as table_full), -EINVAL for a malformed qname
 * or family, or -EAGAIN if no free (port, ID) pair was drawn in a few tries (never expected;
 * counted).
 */
int px_upq_start(struct px_upq_table *t, struct px_rand *r, const struct px_upq_query *q,
		 uint64_t now_ms, uint32_t timeout_ms, struct px_upq_sent *out);

/*
 * Matches a reply against the outstanding queries (RFC 5452 9.1: destination port and ID, then
 * source address, source port and question; the name byte for byte in the case it was sent in,
 * or without case for a query sent in fallback). On PX_UPQ_MATCH the query leaves the table, so
 * a second reply to it is PX_UPQ_NO_SUCH_QUERY, and its copy is written to out; the RTT sample
 * is now - out->sent_ms; a match with 0x20 clears the server's case strikes. Any other verdict
 * is counted and changes nothing else, except that PX_UPQ_WRONG_CASE marks the query
 * (out->case_seen when it expires). O(1).
 *
 * A reply that names no outstanding query but matches, by the same checks (port, ID, server
 * address and port, and the question in the case it was sent in), a query that timed out
 * within PX_UPQ_LATE_WINDOW_MS of its deadline is PX_UPQ_LATE: the timeout was spurious. It is
 * counted (late_replies, not drop_no_such_query) and not accepted (its query's resolution has
 * moved on), but out->server and out->sent_ms are filled: the caller takes the RTT sample with
 * px_upq_server_late(), so that a slow server's RTO grows to cover it. Once per query.
 */
enum px_upq_verdict px_upq_match(struct px_upq_table *t, const struct px_upq_reply *rep,
				 struct px_upq_done *out);

/*
 * Returns the next query whose deadline is at or before now_ms: removes it from the table,
 * copies it to out, counts a timeout and returns true; returns false when none is left. Call it
 * in a loop between bursts; the caller decides whether to retry (a new query, with a new port
 * and ID), fail over to another server, or fail the resolution, and should report the timeout
 * with px_upq_server_timeout(). Costs the wheel slots now_ms moved over (at most
 * PX_UPQ_WHEEL_SLOTS) plus the queries returned. Queries come back in deadline order, except
 * after a pause longer than PX_UPQ_WHEEL_SLOTS ms, when every one is long overdue anyway.
 */
bool px_upq_expire(struct px_upq_table *t, uint64_t now_ms, struct px_upq_done *out);

/* Removes an outstanding query (its resolution ended first). Returns 0, or -ENOENT if the
 * handle is stale: the query was matched, expired or cancelled already. */
int px_upq_cancel(struct px_upq_table *t, uint64_t handle);

/*
 * The outstanding query asking q->server on q->server.port q's question (name compared without
 * case): returns its handle and writes its cookie to *cookie, or returns 0 when there is none
 * (q->cookie is ignored). O(1) on average: one hash of the question, one short chain.
 */
uint64_t px_upq_find(const struct px_upq_table *t, const struct px_upq_query *q,
		     uint32_t *cookie);

/*
 * Which of n candidate servers (on server_port) has a query for the question outstanding:
 * the index of the first in cand order, or -1. What a resolver asks before choosing a
 * server, so that it joins a query in flight rather than asks the same of another server.
 */
int px_upq_find_server(const struct px_upq_table *t, const uint8_t *qname, uint8_t qname_len,
		       uint16_t qtype, uint16_t qclass, uint16_t server_port,
		       const struct px_addr *cand, unsigned n);

/* Queries outstanding now. */
uint32_t px_upq_outstanding(const struct px_upq_table *t);

/* The counters. Written only by the owning worker; another thread may read them with relaxed
 * loads (as px_stats_add() does). */
const struct px_upq_stats *px_upq_stats(const struct px_upq_table *t);

/*
 * The retransmission timeout for a query to server a at now_ms: SRTT + 4 * RTTVAR (RFC 6298
 * 2.3), PX_UPQ_RTT_UNKNOWN_MS for a server never measured, doubled per outstanding backoff step
 * and clamped to [the floor (px_upq_set_rto_min), PX_UPQ_RTO_MAX_MS].
 */
uint32_t px_upq_server_rto(const struct px_upq_table *t, const struct px_addr *a,
			   uint64_t now_ms);

/* Sets the floor of every RTO (PX_UPQ_RTO_MIN_MS by default): a server measured faster still
 * gets ms to answer. Returns 0, or -EINVAL outside [PX_UPQ_RTO_FLOOR_MIN_MS,
 * PX_UPQ_RTO_MAX_MS]. */
int px_upq_set_rto_min(struct px_upq_table *t, uint32_t ms);

/*
 * Records an RTT sample for server a (RFC 6298 2.2-2.3: the first sets SRTT = R and
 * RTTVAR = R / 2; later ones RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, SRTT = 7/8 SRTT + 1/8 R) and
 * clears its backoff (5.7). Every reply matched by px_upq_match() is an unambiguous sample,
 * even for a retry, because each try has its own port and ID (so Karn's rule is not needed).
 * Adds the server to the table, evicting the least recently used of its set if needed.
 */
void px_upq_server_update(struct px_upq_table *t, const struct px_addr *a, uint32_t rtt_ms,
			  uint64_t now_ms);

/*
 * Records the RTT sample of a late reply (PX_UPQ_LATE) for server a: SRTT and RTTVAR as
 * px_upq_server_update() does, but the backoff stays. The reply answered nothing in time, and
 * the backoff is what marks a server whose queries keep expiring (a resolution waiting on it
 * may be jostled out); the larger RTO the sample brings is what ends the timeouts.
 */
void px_upq_server_late(struct px_upq_table *t, const struct px_addr *a, uint32_t rtt_ms,
			uint64_t now_ms);

/* Records a timeout for server a: one more backoff step (RFC 6298 5.5), up to
 * PX_UPQ_MAX_BACKOFF. Adds the server to the table like px_upq_server_update(). */
void px_upq_server_timeout(struct px_upq_table *t, const struct px_addr *a, uint64_t now_ms);

/*
 * A query to server a sent with 0x20 expired after a reply that failed only the case check
 * (px_upq_done.case_seen): one strike. The PX_UPQ_CASE_STRIKES-th in a row puts the server in
 * fallback until now_ms + PX_UPQ_CASE_FALLBACK_MS (counted case_fallbacks) and returns true.
 * Adds the server to the table like px_upq_server_update().
 */
bool px_upq_server_case_failed(struct px_upq_table *t, const struct px_addr *a,
			       uint64_t now_ms);

/* True if queries to server a go without 0x20 at now_ms (fallback in force). */
bool px_upq_server_case_off(const struct px_upq_table *t, const struct px_addr *a,
			    uint64_t now_ms);

/*
 * Picks which of n candidate addresses to query next and returns its index, or -1 if n is 0.
 * A candidate the table does not know is explored first (one of them at random). Otherwise
 * every candidate's score is its SRTT (PX_UPQ_RTT_UNKNOWN_MS if it only ever timed out) doubled
 * per backoff step, and one of those within PX_UPQ_SELECT_BAND_MS of the best is picked at
 * random. The caller passes only the addresses still worth trying (policy-checked, not yet
 * failed in this resolution).
 */
int px_upq_server_select(const struct px_upq_table *t, struct px_rand *r,
			 const struct px_addr *cand, unsigned n, uint64_t now_ms);

/* What the table knows about a server, for telemetry and tests. */
struct px_upq_server_info {
	bool known;	    /* in the table; nothing below is meaningful otherwise */
	bool has_sample;    /* at least one RTT measured */
	uint8_t backoff;    /* backoff steps in force at now_ms, after decay */
	uint32_t srtt_ms;   /* rounded */
	uint32_t rttvar_ms; /* rounded */
	uint32_t rto_ms;    /* as px_upq_server_rto() */
	uint32_t timeouts;  /* total */
	uint8_t case_strikes; /* 0x20 strikes in a row (px_upq_server_case_failed) */
	bool case_off;        /* in 0x20 fallback at now_ms */
};

/* Fills info for server a at now_ms; returns info->known. */
bool px_upq_server_info(const struct px_upq_table *t, const struct px_addr *a, uint64_t now_ms,
			struct px_upq_server_info *info);
