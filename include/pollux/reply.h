/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The upstream reply classifier and bailiwick scrubber of the iterative resolver.
 *
 * Given a reply from an authoritative server, the question pollux asked it and the zone cut that
 * server was asked as ("bailiwick"), px_reply_classify() validates the whole message in place and
 * says what it is: an answer (possibly through a CNAME chain), a CNAME to restart with, a
 * referral with its in-bailiwick glue, a negative answer with its SOA, a lame or failed server,
 * or garbage. Only records whose owner is the bailiwick or below it are ever reported; everything
 * else is counted and left out, so nothing a server says about a zone it does not serve can reach
 * the cache. Every glue address goes through the address policy (entry point PX_ADDR_AT_GLUE).
 *
 * Pure code: no DPDK, no allocation, no I/O, no logging. Results point into the message by
 * offset (the caller keeps the message while it renders cache entries) and copy names only into
 * the fixed-size buffers of struct px_reply. Callable from any thread.
 *
 * Classification rules, in the order they are applied:
 *
 *  1. Shorter than a header, QR clear, an opcode other than QUERY, a question count other than
 *     one, or a question that is not the one asked (name compared case-insensitively, type and
 *     class exactly): PX_REPLY_MALFORMED. RFC 5452 9.1: a reply that does not echo the question
 *     cannot be matched to a query, whatever its rcode. (Exact 0x20 case matching, if wanted,
 *     is the caller's: the question's offset is reported.)
 *  2. TC set: PX_REPLY_TRUNCATED; the rest of the message is not read (retry over TCP).
 *  3. Every record of every section is walked, once: more records than PX_REPLY_MAX_RRS (by the
 *     header's counts, before anything is read: PX_REPLY_BAD_TOO_MANY_RRS), a count that lies
 *     (too many or too few records,
 *     trailing bytes), a bad name (compression loop, forward pointer, long label), an rdata whose
 *     names or fixed fields do not fill its length exactly (NS, CNAME, SOA; A and AAAA of class
 *     IN), or an OPT that is misplaced, repeated or not owned by the root: PX_REPLY_MALFORMED.
 *  4. rcode (with the OPT's extended bits): REFUSED, SERVFAIL and FORMERR map to the classes of
 *     the same name; NOTIMP and every other rcode except NOERROR and NXDOMAIN map to
 *     PX_REPLY_SERVFAIL (the server cannot answer: try the next one). r->rcode keeps the value.
 *  5. The answer section is followed from the qname: at each name ("sname"), records of the
 *     asked class and type (any type for ANY) are the answer; failing that, the first CNAME at
 *     sname is a link and its target the next sname (a CNAME question is answered by the CNAME
 *     itself). At most PX_REPLY_MAX_CNAME links are followed; a longer chain (a loop, say) is
 *     PX_REPLY_CNAME with cname_limit set and sname at the link not followed, so the caller's
 *     own limit over the whole resolution ends it. The chain stops at the first sname outside
 *     the bailiwick.
 *  6. NOERROR with data at the final sname: PX_REPLY_ANSWER.
 *  7. A chain whose final sname is outside the bailiwick: PX_REPLY_CNAME (whatever the rcode:
 *     this server cannot speak for the target); r->sname is the name to restart with.
 *  8. NXDOMAIN: PX_REPLY_NXDOMAIN for sname (qname or the chain's last target), with the SOA
 *     if the authority section has one (see the SOA rule below). AA is not required.
 *  9. NOERROR, no data:
 *     a. an acceptable SOA in the authority section: PX_REPLY_NODATA;
 *     b. NS records in the authority section whose owner is strictly below the bailiwick and at
 *        or above sname: PX_REPLY_REFERRAL to the owner of the first such record ("the
 *        delegation"); NS records with any other owner are ignored;
 *     c. a CNAME chain was followed: PX_REPLY_CNAME (the server gave the chain but neither the
 *        target's data nor a negative answer or referral for it);
 *     c'. records at sname of another type than the one asked (an A record in reply to an
 *        AAAA question; CNAME and RRSIG aside) in the answer section are left out and counted
 *        in type_mismatch (whatever the class). They decide nothing: with AA and no stray NS
 *        record the reply is NODATA (rule e), else the server is lame (rules d and f), so the
 *        next server is asked;
 *     d. any NS record in the authority section other than the bailiwick's own apex NS in an
 *        AA reply: PX_REPLY_LAME, lame_reason UPWARD if its owner is the bailiwick or above it
 *        (a TLD server handing out the root NS set), otherwise SIDEWAYS (an unrelated zone, or
 *        a zone below the bailiwick that does not contain sname);
 *     e. AA set: PX_REPLY_NODATA without an SOA (the caller should not cache it long);
 *     f. otherwise, an empty non-authoritative reply: PX_REPLY_LAME, lame_reason EMPTY.
 *
 * An SOA is acceptable when its owner is inside the bailiwick and at or above sname, its class
 * is the question's, and it is the first such SOA; the negative TTL is then
 * min(SOA TTL, SOA MINIMUM) (RFC 2308 5), see px_reply_negative_ttl().
 *
 * Glue (referrals only): A and AAAA records of class IN in the additional section whose owner is
 * one of the delegation's NS target names and is inside the bailiwick. Each address then passes
 * px_addr_check4/px_addr_check6 or is counted in addr_rejected[reason] and left out.
 *
 * Scrub accounting: every record of the answer, authority and additional sections that is not
 * reported (and is not the OPT) is counted exactly once: out_of_bailiwick[section] when its
 * owner is not the bailiwick or below it, else ns_ignored for an NS record in the authority
 * section that is not the delegation's, else type_mismatch for an answer record at sname of a
 * type not asked (rule 9c'), else ignored[section] (for the additional section that is "not
 * glue"). Records reported but dropped for want of room are counted in the *_dropped
 * fields instead. TTLs above 2^31 - 1 are read as 0 (RFC 2181 8).
 *
 * Bounded work: a server chooses how many records a reply has and how costly each name is to
 * read (up to PX_DNS_PTR_HOPS pointers and 255 bytes). So the walk of rule 3 is the only pass
 * that reads the message's records: it files each record, and each distinct owner name once,
 * in an index (struct px_reply_index, keyed by a secret so that names cannot be made to pile up
 * in one slot), and every later rule looks records and names up there. Beyond the walk, a
 * reply costs at most one read of each CNAME target, of each NS target of the delegation, and
 * of each suffix of sname and of the bailiwick, whatever the records say.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pollux/addr_policy.h>
#include <pollux/siphash.h>
#include <pollux/wire.h>

#define PX_REPLY_MAX_CNAME 8   /* CNAME links followed in one reply */
#define PX_REPLY_MAX_ANSWER 32 /* records of the final RRset kept */
#define PX_REPLY_MAX_NS 13     /* NS names of a delegation kept (as many as the root has) */
#define PX_REPLY_MAX_ADDRS 8   /* glue addresses kept per NS name */
/* Bytes kept of the distinct owner names of a reply, so that telling an owner spelt anew from
 * a name already seen is a memcmp rather than another read through its pointers. */
#define PX_REPLY_NAME_ARENA 32768
/* Records of all sections indexed per reply; a reply with more is refused whole. 16 KiB, the
 * most the TCP path takes from a server, holds at most 1,023 A records with compressed owners:
 * only replies padded with records of less than four bytes of rdata go past this. */
#define PX_REPLY_MAX_RRS 1024

enum px_reply_class {
	PX_REPLY_ANSWER = 0,
	PX_REPLY_CNAME,
	PX_REPLY_REFERRAL,
	PX_REPLY_NXDOMAIN,
	PX_REPLY_NODATA,
	PX_REPLY_LAME,
	PX_REPLY_REFUSED,
	PX_REPLY_SERVFAIL,
	PX_REPLY_FORMERR,
	PX_REPLY_TRUNCATED,
	PX_REPLY_MALFORMED,
	PX_REPLY_CLASS_COUNT,
};

/* Why a reply is PX_REPLY_MALFORMED. */
enum px_reply_bad {
	PX_REPLY_BAD_NONE = 0,
	PX_REPLY_BAD_SHORT,        /* shorter than a header */
	PX_REPLY_BAD_NOT_RESPONSE, /* QR clear */
	PX_REPLY_BAD_OPCODE,       /* opcode other than QUERY */
	PX_REPLY_BAD_QDCOUNT,      /* question count other than 1 */
	PX_REPLY_BAD_QUESTION,     /* not the question that was asked */
	PX_REPLY_BAD_NAME,         /* a name that cannot be read (loops, long labels, ...) */
	PX_REPLY_BAD_COUNTS,       /* section counts that do not match the data */
	PX_REPLY_BAD_RDATA,        /* an rdata that does not fit its length */
	PX_REPLY_BAD_OPT,          /* OPT misplaced, repeated or not owned by the root */
	PX_REPLY_BAD_TOO_MANY_RRS, /* more records than PX_REPLY_MAX_RRS */
	PX_REPLY_BAD_COUNT,
};

/* Why a reply is PX_REPLY_LAME. */
enum px_reply_lame {
	PX_REPLY_LAME_NONE = 0,
	PX_REPLY_LAME_UPWARD,   /* NS for the bailiwick itself or a zone above it */
	PX_REPLY_LAME_SIDEWAYS, /* NS for a zone that is not an ancestor of sname */
	PX_REPLY_LAME_EMPTY,    /* no answer, no SOA, no NS and no AA */
	PX_REPLY_LAME_COUNT,
};

enum px_reply_section {
	PX_REPLY_SEC_ANSWER = 0,
	PX_REPLY_SEC_AUTHORITY,
	PX_REPLY_SEC_ADDITIONAL,
	PX_REPLY_SEC_COUNT,
};

/* One record of the message, by offset: re-read its owner with px_wire_read_name() at off. */
struct px_reply_rr {
	uint16_t off;       /* start of the owner name */
	uint16_t type;
	uint16_t rclass;
	uint16_t rdata_off; /* start of the rdata */
	uint16_t rdlen;
	uint32_t ttl;       /* 0 when the wire value exceeds 2^31 - 1 */
};

/* A glue address that passed the address policy. */
struct px_reply_addr {
	uint8_t family;   /* 4 or 6 */
	uint8_t addr[16]; /* network order; an IPv4 address in the first 4 bytes */
	uint32_t ttl;
	uint16_t rr_off;  /* the A or AAAA record */
};

/* One NS target of a delegation and its glue. */
struct px_reply_ns {
	struct px_reply_rr rr; /* the (first) NS record naming it */
	uint8_t name_len;
	uint8_t addr_count;
	bool glue_seen; /* the additional section has an in-bailiwick A or AAAA record (class
			 * IN) owned by this name, kept or not: with addr_count 0, the policy
			 * refused every address the referral gave for it. Glue out of the
			 * bailiwick is not seen: the name is then as good as glueless. */
	uint8_t addr_rejected; /* glue records for this name the address policy refused
				* (saturating) */
	uint8_t name[PX_DNS_NAME_BUF]; /* lower-cased, uncompressed wire form */
	struct px_reply_addr addr[PX_REPLY_MAX_ADDRS];
};

/* What the caller asked, and of whom. Names are lower-cased, uncompressed wire form. */
struct px_reply_query {
	const uint8_t *qname;
	const uint8_t *zone; /* the bailiwick: the zone cut the queried server was asked as */
	uint8_t qname_len;
	uint8_t zone_len;
	uint16_t qtype;
	uint16_t qclass;
	const struct px_addr_policy *policy; /* for glue */
};

/* Counts of what the scrubber left out; see the header comment for which counter gets what. */
struct px_reply_counts {
	uint16_t out_of_bailiwick[PX_REPLY_SEC_COUNT];
	uint16_t ignored[PX_REPLY_SEC_COUNT]; /* [PX_REPLY_SEC_ADDITIONAL]: not glue */
	uint16_t ns_ignored; /* authority NS records for a zone other than the delegation */
	uint16_t addr_rejected[PX_ADDR_REASON_COUNT]; /* glue the address policy refused */
	uint16_t answer_dropped;              /* final-RRset records past PX_REPLY_MAX_ANSWER */
	uint16_t ns_dropped;                  /* NS names past PX_REPLY_MAX_NS */
	uint16_t type_mismatch; /* answer records at sname of a type not asked (rule 9c') */
	uint16_t addr_dropped;                /* glue past PX_REPLY_MAX_ADDRS for a name */
};

/* One record, as the walk found it: where it is and which owner name it has. */
struct px_reply_ixrr {
	struct px_reply_rr rr;
	uint16_t name; /* index in px_reply_index.name of its owner */
};

/* One distinct owner name (lower-cased names compare equal). */
struct px_reply_ixname {
	uint64_t hash;     /* SipHash-1-3 of the lower-cased wire form under the index's key */
	uint16_t off;      /* an owner that spells it: read it again from there */
	uint16_t copy;     /* where its bytes are in px_reply_index.arena, or UINT16_MAX */
	uint8_t len;       /* wire length */
	uint8_t labels;    /* root excluded */
	bool in_bailiwick; /* the queried zone or below it */
};

/* The walk's index of one reply: its records in message order, its distinct owner names and an
 * open-addressing table of them. px_reply.c's scratch; nothing outside reads it. */
struct px_reply_index {
	struct px_siphash_key key; /* px_reply_set_key(); all zero (a public key) until then */
	const uint8_t *msg;
	uint16_t len;
	uint16_t rr_count, name_count;
	uint16_t slot_mask;
	uint16_t sec_first[PX_REPLY_SEC_COUNT + 1]; /* first record of each section, then the end */
	struct px_reply_ixrr rr[PX_REPLY_MAX_RRS];
	struct px_reply_ixname name[PX_REPLY_MAX_RRS];
	uint16_t slot[2 * PX_REPLY_MAX_RRS]; /* name index + 1; 0 for an empty slot */
	/* Owners that are one compression pointer, by target (direct-mapped): the name a bare
	 * pointer to there was found to be, so that a repeated owner is neither read nor hashed
	 * again. A target is never 0, so 0 marks an empty entry. */
	uint16_t ptr_target[64];
	uint16_t ptr_name[64];
	uint16_t arena_len;
	uint8_t arena[PX_REPLY_NAME_ARENA];
	uint64_t ns_hash[PX_REPLY_MAX_NS];    /* of px_reply.ns[i].name */
	uint16_t ns_owner[PX_REPLY_MAX_NS];   /* the name index of px_reply.ns[i].name, if any */
};

/* The classification and everything the resolver needs from it. Only the fields that the class
 * gives meaning to are set; counts and lengths are always set. About 80 KiB with the index:
 * keep one per worker (its scratch), not on a stack. */
struct px_reply {
	enum px_reply_class cls;
	enum px_reply_bad bad;   /* PX_REPLY_MALFORMED only */
	enum px_reply_lame lame; /* PX_REPLY_LAME only */
	uint16_t id;
	uint16_t flags;          /* header flags, host order */
	uint16_t rcode;          /* with the OPT's extended bits */
	bool aa;
	bool edns;
	bool cname_limit;        /* the chain went on past PX_REPLY_MAX_CNAME links */
	uint16_t edns_bufsize;
	uint16_t question_off;   /* the question's name, as the server wrote it */
	uint16_t sec_off[PX_REPLY_SEC_COUNT];   /* first record of each section */
	uint16_t sec_count[PX_REPLY_SEC_COUNT]; /* the header's counts */

	/* CNAME links from qname, in order (ANSWER, CNAME, NXDOMAIN, NODATA, REFERRAL). */
	uint8_t cname_count;
	struct px_reply_rr cname[PX_REPLY_MAX_CNAME];

	/* The name the class is about: qname, or the last CNAME target. For PX_REPLY_CNAME, the
	 * name to restart resolution with. */
	uint8_t sname_len;
	uint8_t sname[PX_DNS_NAME_BUF];

	/* PX_REPLY_ANSWER: the final RRset (owner sname). */
	uint8_t answer_count;
	struct px_reply_rr answer[PX_REPLY_MAX_ANSWER];

	/* PX_REPLY_NXDOMAIN and PX_REPLY_NODATA: the SOA, if an acceptable one was present. */
	bool has_soa;
	uint8_t soa_owner_len;
	struct px_reply_rr soa;
	uint32_t soa_minimum;
	uint8_t soa_owner[PX_DNS_NAME_BUF];

	/* PX_REPLY_REFERRAL: the delegated zone, its NS names and their glue. */
	uint8_t zone_len;
	uint8_t ns_count;
	uint8_t zone[PX_DNS_NAME_BUF];
	struct px_reply_ns ns[PX_REPLY_MAX_NS];

	struct px_reply_counts counts;

	struct px_reply_index ix; /* scratch of px_reply_classify() */
};

/*
 * Keys the index's name hash with a secret (drawn at start from the worker's generator), so
 * that nobody who sends a reply can choose names that share a slot of the index and make each
 * lookup walk all of them. Without it the key is all zero: fine for tests, not for a resolver.
 * The owner of r.
 */
void px_reply_set_key(struct px_reply *r, const struct px_siphash_key *key);

/*
 * Parses and classifies the reply msg[0, len) to the question q->qname/qtype/qclass sent to a
 * server for zone q->zone, scrubbing it by that bailiwick as described at the top of this file.
 * q's names must be valid lower-cased wire names. Fills r and returns r->cls. Reads nothing
 * outside msg[0, len), writes nothing outside r, allocates nothing, and reads each record of
 * msg once (see "Bounded work" above). Any thread.
 */
enum px_reply_class px_reply_classify(struct px_reply *r, const uint8_t *msg, uint16_t len,
				      const struct px_reply_query *q);

/* True when name is zone or below it (both lower-cased wire names, compared by label). */
bool px_reply_name_in(const uint8_t *name, unsigned name_len, const uint8_t *zone,
		      unsigned zone_len);

/* The smallest TTL of rrs[0, n), or UINT32_MAX when n is 0. */
uint32_t px_reply_min_ttl(const struct px_reply_rr *rrs, unsigned n);

/* PX_REPLY_ANSWER: the TTL of the final RRset (its smallest), or 0 when there is none. */
uint32_t px_reply_answer_ttl(const struct px_reply *r);

/* The TTL of the whole answer, every CNAME link and the final RRset: the smallest of them, or 0
 * when there is nothing. */
uint32_t px_reply_chain_ttl(const struct px_reply *r);

/* PX_REPLY_NXDOMAIN, PX_REPLY_NODATA: min(SOA TTL, SOA MINIMUM) (RFC 2308 5), or 0 without an
 * SOA (RFC 2308 5: do not cache a negative answer that has none). */
uint32_t px_reply_negative_ttl(const struct px_reply *r);

/* PX_REPLY_REFERRAL: the smallest TTL of the delegation's NS records, or 0 when there are none. */
uint32_t px_reply_referral_ttl(const struct px_reply *r);

/* min(ttl, cap): the caller's configured caps (one day, one hour for negative answers). */
static inline uint32_t
px_reply_ttl_cap(uint32_t ttl, uint32_t cap)
{
	return ttl < cap ? ttl : cap;
}

/* Stable names for counters and tests ("answer", "referral", ...; "counts", ...; "upward"). */
const char *px_reply_class_name(enum px_reply_class c);
const char *px_reply_bad_name(enum px_reply_bad b);
const char *px_reply_lame_name(enum px_reply_lame l);
