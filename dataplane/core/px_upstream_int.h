/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * px_upstream's insides, shared by its two files (nothing else includes this): px_upstream.c
 * keeps the outstanding queries (slots, the (port, ID) and question indexes, the timer wheel,
 * matching and 0x20), px_upstream_srv.c the per-server table (RTT, backoff, selection, 0x20
 * fallback). Worker only, like pollux/upstream.h.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pollux/siphash.h>

#include <pollux/upstream.h>

#define NONE UINT32_MAX
#define SERVER_SETS (PX_UPQ_SERVERS / PX_UPQ_SERVER_WAYS)

_Static_assert((SERVER_SETS & (SERVER_SETS - 1)) == 0, "server sets are a power of two");

enum slot_state {
	SLOT_FREE = 0,
	SLOT_PENDING,
};

/* One outstanding query. The fields a lookup compares come first, in the first cache line. */
struct slot {
	uint16_t sport;
	uint16_t id;
	uint32_t next; /* hash chain while pending; free list while free */
	uint32_t wheel_prev;
	uint32_t wheel_next;
	uint32_t gen; /* bumped at each allocation; the handle's upper half */
	uint8_t state;
	uint8_t qname_len;
	uint8_t case_on;   /* qname was sent in a random case (0x20) */
	uint8_t case_seen; /* a reply matched all but the case */
	uint16_t qtype;
	uint16_t qclass;
	uint32_t cookie;
	uint32_t qprev; /* question index chain while pending, both ways: removal is O(1) */
	uint32_t qnext;
	struct px_addr server;
	uint64_t sent_ms;
	uint64_t deadline_ms;
	uint8_t qname[PX_DNS_MAX_NAME]; /* as sent: in its 0x20 case */
};

struct server {
	struct px_addr addr;
	uint8_t used;
	uint8_t has_sample;
	uint8_t backoff;  /* steps as of last_timeout_ms; decays from there */
	uint8_t case_strikes; /* queries in a row that failed only the 0x20 check */
	uint32_t srtt_us; /* microseconds: fine enough that rounding never sticks */
	uint32_t rttvar_us;
	uint32_t timeouts;
	uint64_t last_used_ms; /* LRU within the set */
	uint64_t last_timeout_ms;
	uint64_t case_off_until_ms; /* 0x20 fallback until then */
};

/* A query that timed out, remembered to recognise its reply if it comes late. While it is
 * remembered its source port stays claimed (refs), so that with several workers the reply is
 * still handed to this one. */
struct late {
	uint64_t qhash;    /* late_qhash() of the question as sent */
	uint64_t sent_ms;
	uint64_t until_ms; /* 0: answered late already, or never used */
	struct px_addr server;
	uint16_t sport;
	uint16_t id;
	uint8_t case_on;
};

#define LATE_INDEX (2 * PX_UPQ_LATE_SLOTS)

struct px_upq_table {
	uint32_t capacity;
	uint32_t outstanding;
	uint32_t free_head;
	uint32_t index_shift; /* 32 - log2(index buckets) */
	uint64_t wheel_ms;    /* every deadline at or before it has been returned */
	uint64_t hash_seed;
	uint32_t rto_min_ms; /* the RTO's floor: PX_UPQ_RTO_MIN_MS unless set */
	struct px_siphash_key qkey; /* keys the question index: from hash_seed */
	struct slot *slots; /* [capacity], after this struct in the same block */
	uint32_t *index;    /* [2^(32 - index_shift)] chain heads, after the slots */
	uint32_t *qindex;   /* as many question chain heads, after the index */
	struct px_upq_stats stats;
	uint8_t *owners; /* shared port owner map, or NULL with one worker */
	uint16_t *refs;  /* [65536] our queries per port, with owners */
	uint8_t self;
	uint32_t wheel[PX_UPQ_WHEEL_SLOTS]; /* heads of doubly linked lists of slots */
	struct server servers[PX_UPQ_SERVERS];
	/* Timed-out queries in the order they timed out: a ring, oldest at late_head. */
	struct late late[PX_UPQ_LATE_SLOTS];
	uint32_t late_head;
	uint32_t late_count;
	uint16_t late_index[LATE_INDEX]; /* by (port, ID): 1 + a ring position, 0 none */
};

/* px_upstream_srv.c: the server entry for a, or NULL; whether 0x20 is off for it. */
const struct server *upq_server_find(const struct px_upq_table *t, const struct px_addr *a);
bool upq_server_case_off(const struct server *s, uint64_t now_ms);
