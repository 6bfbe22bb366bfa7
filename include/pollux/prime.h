/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Priming (RFC 8109), done by the worker that primes, start to end.
 *
 * A worker owns the I/O (the port, the gateway's MAC, the outstanding-query table), so it sends
 * ". NS" (RD clear, EDNS 1232, like every upstream query) to a root server from the hints, as a
 * resolution of its own with no client (dp_miss.c: the resolver picks the server and fails
 * over to the next one on timeout). Every reply matched to that resolution (for a truncated
 * one, the reply its TCP retry got instead) has already been classified by the pure reply
 * classifier (pollux/reply.h) that checks referrals, for the question ". NS IN" at the root; the
 * worker then holds it to the rules of a hints file (px_prime_check() below: the same rules as
 * control/ctl_hints.c, with the daemon's address policy at PX_ADDR_AT_HINTS and
 * --min-root-servers) and, if it passes, encodes the root set as the root cut (dp_cut.h) and
 * inserts it into the cache itself (dp_cache_put), with the NS TTL capped at --max-ttl. No
 * ldns, no hand-off: the bytes a server chose never leave the worker, and only what the checks
 * kept enters the cache. The hints table itself is never changed by priming.
 *
 * The worker records each outcome in a px_prime_status (one writer, the priming worker; a
 * sequence count lets the control thread read a consistent copy), which the control thread
 * shows in `polluxctl hints` and logs (rate-limited) when it changes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pollux/addr_policy.h>

#include <pollux/hints.h>
#include <pollux/reply.h>
#include <pollux/upstream.h>

/* Why a priming reply was refused (px_prime_check), or PX_PRIME_OK. */
enum px_prime_verdict {
	PX_PRIME_OK = 0,
	PX_PRIME_BAD_CLASS,      /* not an answer to ". NS IN" (the classifier's verdict) */
	PX_PRIME_BAD_NOT_AA,     /* AA clear: not from a root server */
	PX_PRIME_BAD_ANSWER,     /* a record other than the root's NS in the answer section */
	PX_PRIME_BAD_TOO_MANY_NS, /* more root NS records than a hints table holds */
	PX_PRIME_BAD_DUPLICATE,  /* the same NS target twice */
	PX_PRIME_BAD_STRAY_ADDR, /* an A/AAAA record for a name no root NS names */
	PX_PRIME_BAD_TOO_MANY_ADDRS, /* more than PX_HINTS_MAX_ADDRS per family for one server */
	PX_PRIME_BAD_NO_ADDR,    /* an NS target with no address record */
	PX_PRIME_BAD_TOO_FEW,    /* fewer than min_usable servers keep an address */
	PX_PRIME_BAD_TTL,        /* NS TTL 0: nothing to cache */
	PX_PRIME_VERDICT_COUNT,
};

/* What a check found besides its verdict. */
struct px_prime_report {
	unsigned ns_count;     /* root NS records */
	unsigned ns_usable;    /* servers left with an address after the policy */
	unsigned addr_count;   /* A/AAAA records for root NS targets */
	unsigned addr_rejected;
	uint32_t rejected[PX_ADDR_REASON_COUNT]; /* by reason */
};

/*
 * Holds a classified priming reply (r, from px_reply_classify() of msg[0, len) for the question
 * ". NS IN" with the root as bailiwick) to the hints-file rules: an authoritative answer whose
 * answer section is the root's NS RRset only (class IN), no NS target twice, no address record
 * (A/AAAA, class IN, additional section) for another name, at most PX_HINTS_MAX_ADDRS per
 * family for a server, an address for every NS target, each address through pol
 * (PX_ADDR_AT_HINTS; refused ones counted and left out), and at least min_usable servers left
 * with one. Other additional records (OPT, signatures) and the authority section are ignored.
 * On PX_PRIME_OK, out (room for PX_HINTS_MAX_NS servers: px_hints_size(PX_HINTS_MAX_NS)) holds
 * the usable servers, ttl the NS RRset's (lowest) TTL, and checksum set. Pure: any thread.
 */
enum px_prime_verdict px_prime_check(const struct px_reply *r, const uint8_t *msg, uint16_t len,
				     const struct px_addr_policy *pol, unsigned min_usable,
				     struct px_hints *out, struct px_prime_report *rep);

const char *px_prime_verdict_name(enum px_prime_verdict v);

/* The last outcome a kind of event left (px_prime_status.last_kind). */
enum px_prime_event {
	PX_PRIME_EV_NONE = 0,
	PX_PRIME_EV_ACCEPTED,
	PX_PRIME_EV_REJECTED,   /* last_verdict says why */
	PX_PRIME_EV_FAILED,     /* the resolution ended without an answer: last_fail */
	PX_PRIME_EV_NOT_CACHED, /* accepted, but the cache refused the root cut: last_errno */
};

/*
 * The priming worker's record of what priming did. dp: rw by the priming worker only, between
 * two seq increments (odd while it writes); ctl: ro through px_prime_status_read(). Allocated
 * by the control thread; ctx->prime_status NULL means priming is off.
 */
struct px_prime_status {
	uint32_t seq;
	uint64_t events; /* every outcome, so the control thread sees each one */
	uint64_t accepted, rejected, failed, not_cached;
	uint8_t last_kind;     /* enum px_prime_event */
	uint8_t last_verdict;  /* enum px_prime_verdict */
	uint8_t last_fail;     /* enum px_resolver_fail */
	int last_errno;
	uint64_t last_ms;      /* dp_clock_ms() of the last outcome */
	struct px_addr last_server;
	/* The primed set, as last accepted. */
	bool primed;
	uint64_t primed_ms, expire_ms;
	uint32_t ttl;
	uint32_t servers;
	uint32_t addr_rejected;
	struct px_addr server;
	uint64_t addr_rejected_total[PX_ADDR_REASON_COUNT];
};

/* Opens and closes a write of s (the priming worker). */
static inline void
px_prime_status_begin(struct px_prime_status *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
px_prime_status_end(struct px_prime_status *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

/*
 * Copies s into out, consistent: retries while the worker is writing (a few stores, once per
 * priming event). Returns false if it could not get a stable copy in a few tries (the caller
 * shows the last one it had). Control thread.
 */
bool px_prime_status_read(const struct px_prime_status *s, struct px_prime_status *out);
