/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dnstap records and the ring that carries them from a worker to the logging thread.
 *
 * A worker never encodes, allocates or writes: it copies what it saw into a fixed-size record
 * (struct px_tap_rec) in the next free slot of its own ring, and the logging thread
 * (control/ctl_dnstap.c) turns records into dnstap protobuf frames and writes them with
 * libfstrm. One ring per worker, one producer (the worker) and one consumer (the logging
 * thread), so the ring needs no atomic read-modify-write: each side stores only its own index,
 * with release order, and reads the other's with acquire order. The producer keeps a copy of the
 * consumer's index and reads the real one only when the copy says the ring is full, so a
 * worker's record costs no cache line the logging thread writes to, except when the ring fills.
 *
 * Thread-agnostic; no DPDK types (the control thread allocates the ring where it likes).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The message types pollux logs, numbered as dnstap's Message.Type. */
enum px_tap_type {
	PX_TAP_RESOLVER_QUERY = 3,
	PX_TAP_RESOLVER_RESPONSE = 4,
	PX_TAP_CLIENT_QUERY = 5,
	PX_TAP_CLIENT_RESPONSE = 6,
};
#define PX_TAP_TYPE_MAX 7
#define PX_TAP_BIT(type) (1u << (type))

/* dnstap's SocketProtocol numbers. */
enum px_tap_proto {
	PX_TAP_UDP = 1,
	PX_TAP_TCP = 2,
};

/*
 * DNS bytes one record holds: pollux's own EDNS buffer size, so every UDP message pollux
 * sends upstream and every reply it accepts fits whole, and so does nearly every client
 * message. A longer one (a large TCP answer, a UDP answer to a client that offered more) is
 * logged as its header and question only, with the other sections' counts zeroed so that it
 * stays a well-formed DNS message, and the record says so (PX_TAP_F_CUT; counted dnstap_cut).
 */
#define PX_TAP_MSG_MAX 1232

#define PX_TAP_F_CUT 1 /* msg is the header and question of a longer message */

/* One logged message. Written by a worker into its ring slot, read by the logging thread. */
struct px_tap_rec {
	uint64_t tsc;           /* the TSC at the start of the worker's loop iteration that saw
				 * the message (its poll_tsc): a few microseconds early at most,
				 * and no TSC read per message */
	uint8_t type;           /* enum px_tap_type */
	uint8_t family;         /* 4 or 6 */
	uint8_t proto;          /* enum px_tap_proto */
	uint8_t flags;          /* PX_TAP_F_* */
	uint16_t query_port;    /* host order: the initiator's port (the client, or pollux
				 * upstream); 0 when unknown */
	uint16_t response_port; /* host order: the responder's port */
	uint16_t msg_len;       /* bytes in msg */
	uint16_t wire_len;      /* the message's length as sent or received */
	uint8_t query_addr[16]; /* the initiator's address; IPv4 in the first 4 bytes */
	uint8_t response_addr[16];
	uint8_t msg[PX_TAP_MSG_MAX];
};

/* A single-producer single-consumer ring of count (a power of two) records. */
struct px_tap_ring {
	/* The producer's line. head: producer rw, consumer ro (acquire). */
	uint32_t head;
	uint32_t tail_seen;   /* producer only: the consumer's index when last read */
	uint32_t mask;        /* count - 1; read-only after init */
	uint8_t pad_p[64 - 3 * sizeof(uint32_t)];
	/* The consumer's line. tail: consumer rw, producer ro (acquire, when full). */
	uint32_t tail;
	uint32_t head_seen;   /* consumer only */
	uint8_t pad_c[64 - 2 * sizeof(uint32_t)];
	struct px_tap_rec slot[];
};

/* Bytes a ring of count records takes. */
static inline size_t
px_tap_ring_size(uint32_t count)
{
	return sizeof(struct px_tap_ring) + (size_t)count * sizeof(struct px_tap_rec);
}

/* Initialises a ring of count records (a power of two, at least 2) in zeroed memory of
 * px_tap_ring_size(count) bytes. Before either side uses it. */
static inline void
px_tap_ring_init(struct px_tap_ring *r, uint32_t count)
{
	r->head = r->tail = r->tail_seen = r->head_seen = 0;
	r->mask = count - 1;
}

/* The producer's next free slot, or NULL when the ring is full. Producer only; the slot is
 * the producer's until px_tap_ring_publish. */
static inline struct px_tap_rec *
px_tap_ring_claim(struct px_tap_ring *r)
{
	uint32_t h = r->head;

	if (h - r->tail_seen > r->mask) {
		r->tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (h - r->tail_seen > r->mask)
			return NULL;
	}
	return &r->slot[h & r->mask];
}

/* Hands the claimed slot to the consumer. Producer only. */
static inline void
px_tap_ring_publish(struct px_tap_ring *r)
{
	__atomic_store_n(&r->head, r->head + 1, __ATOMIC_RELEASE);
}

/* The oldest record not yet consumed, or NULL when the ring is empty. Consumer only; the
 * record is the consumer's until px_tap_ring_release. */
static inline const struct px_tap_rec *
px_tap_ring_peek(struct px_tap_ring *r)
{
	uint32_t t = r->tail;

	if (t == r->head_seen) {
		r->head_seen = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (t == r->head_seen)
			return NULL;
	}
	return &r->slot[t & r->mask];
}

/* Gives the peeked slot back to the producer. Consumer only. */
static inline void
px_tap_ring_release(struct px_tap_ring *r)
{
	__atomic_store_n(&r->tail, r->tail + 1, __ATOMIC_RELEASE);
}
