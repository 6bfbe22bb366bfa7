/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS wire format: the constants shared by the data plane, the control thread, the tests and the
 * benchmarks, and the message reader and response writer of the core library. Plain C: no DPDK
 * or ldns types, so that every user can include it alone.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PX_DNS_PORT 53
#define PX_DNS_HDR_LEN 12
#define PX_DNS_MAX_NAME 255  /* RFC 1035 2.3.4, wire form including the root label */
#define PX_DNS_NAME_BUF (PX_DNS_MAX_NAME + 8) /* a name buffer with room for 8-byte stores */
#define PX_DNS_MAX_LABEL 63
#define PX_DNS_UDP_MIN 512   /* what every client can take (RFC 1035 4.2.1) */
#define PX_DNS_EDNS_BUFSIZE 1232 /* what pollux advertises and sends at most (DNS flag day 2020) */
#define PX_DNS_OPT_LEN 11    /* an OPT RR with an empty rdata */
#define PX_DNS_PTR_HOPS 32   /* compression pointers followed per name before giving up */
#define PX_DNS_QNAME_PTR 0xc00c /* a compression pointer to the question name */

/* Extended DNS Errors (RFC 8914): the EDNS option, and the INFO-CODEs pollux sends. */
#define PX_DNS_OPT_EDE 15
#define PX_DNS_EDE_TEXT_MAX 64 /* EXTRA-TEXT pollux writes, at most */
enum px_dns_ede {
	PX_DNS_EDE_OTHER = 0,
	PX_DNS_EDE_STALE_ANSWER = 3,
	PX_DNS_EDE_PROHIBITED = 18,
	PX_DNS_EDE_NOT_AUTHORITATIVE = 20,
	PX_DNS_EDE_NOT_SUPPORTED = 21,
	PX_DNS_EDE_NO_REACHABLE_AUTHORITY = 22,
	PX_DNS_EDE_NETWORK_ERROR = 23,
	PX_DNS_EDE_INVALID_DATA = 24,
};

/* An extended error to attach to an answer: INFO-CODE and EXTRA-TEXT (NUL-terminated; empty
 * for none; cut at PX_DNS_EDE_TEXT_MAX bytes). */
struct px_dns_ede_info {
	uint16_t code;
	const char *text;
};

/* Header flags, in the second 16-bit word of the header, host order. */
#define PX_DNS_QR 0x8000
#define PX_DNS_OPCODE_MASK 0x7800
#define PX_DNS_OPCODE_SHIFT 11
#define PX_DNS_AA 0x0400
#define PX_DNS_TC 0x0200
#define PX_DNS_RD 0x0100
#define PX_DNS_RA 0x0080
#define PX_DNS_AD 0x0020
#define PX_DNS_CD 0x0010
#define PX_DNS_RCODE_MASK 0x000f

enum px_dns_opcode {
	PX_DNS_OPCODE_QUERY = 0,
};

enum px_dns_rcode {
	PX_DNS_RCODE_NOERROR = 0,
	PX_DNS_RCODE_FORMERR = 1,
	PX_DNS_RCODE_SERVFAIL = 2,
	PX_DNS_RCODE_NXDOMAIN = 3,
	PX_DNS_RCODE_NOTIMP = 4,
	PX_DNS_RCODE_REFUSED = 5,
	PX_DNS_RCODE_BADVERS = 16, /* extended: upper 8 bits live in the OPT TTL */
};

enum px_dns_type {
	PX_DNS_TYPE_A = 1,
	PX_DNS_TYPE_NS = 2,
	PX_DNS_TYPE_CNAME = 5,
	PX_DNS_TYPE_SOA = 6,
	PX_DNS_TYPE_PTR = 12,
	PX_DNS_TYPE_MX = 15,
	PX_DNS_TYPE_TXT = 16,
	PX_DNS_TYPE_AAAA = 28,
	PX_DNS_TYPE_OPT = 41,
	PX_DNS_TYPE_DS = 43,
	PX_DNS_TYPE_RRSIG = 46,
	PX_DNS_TYPE_IXFR = 251,
	PX_DNS_TYPE_AXFR = 252,
	PX_DNS_TYPE_MAILB = 253,
	PX_DNS_TYPE_MAILA = 254,
	PX_DNS_TYPE_ANY = 255,
};

enum px_dns_class {
	PX_DNS_CLASS_IN = 1,
	PX_DNS_CLASS_CH = 3,
	PX_DNS_CLASS_ANY = 255,
};

#define PX_DNS_EDNS_DO 0x8000 /* in the low 16 bits of the OPT TTL */

/* Unaligned big-endian helpers: DNS fields sit at any byte offset. */
static inline uint16_t
px_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
px_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
px_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
px_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ASCII-only lower casing of 8 bytes at once: 0x20 is set in each byte in 'A'..'Z' and no
 * other (bytes with the high bit set are left alone). */
static inline uint64_t
px_lower8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t low7 = x & (0x7f * ones);
	uint64_t ge_a = low7 + (0x80 - 'A') * ones;     /* high bit: byte >= 'A' */
	uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * ones; /* high bit: byte > 'Z' */
	uint64_t upper = (ge_a ^ gt_z) & ~x & (0x80 * ones);

	return x | upper >> 2;
}

/* ASCII-only lower casing, as DNS names compare (RFC 4343). */
static inline uint8_t
px_lower(uint8_t c)
{
	return (uint8_t)((unsigned)c - 'A' < 26u ? c + ('a' - 'A') : c);
}

/*
 * The zero-copy message reader and response writer (RFC 1035, RFC 6891), core/px_wire.c.
 * No allocation, no I/O. The reader walks a message in place with a bounds-checked cursor whose
 * error is sticky, so a chain of reads needs one check at the end. Callable from any thread.
 */
/* Why a query was not accepted. PX_WIRE_OK means answer it; the FORMERR_* verdicts mean answer
 * FORMERR; PX_WIRE_DROP_* mean send nothing. Each maps to one counter in struct px_stats. */
enum px_wire_verdict {
	PX_WIRE_OK = 0,
	PX_WIRE_DROP_RUNT,     /* shorter than a header: nothing to answer with */
	PX_WIRE_DROP_RESPONSE, /* QR set: never answer a response (reflection loops) */
	PX_WIRE_NOTIMP,        /* opcode other than QUERY */
	PX_WIRE_FORMERR_QDCOUNT,
	PX_WIRE_FORMERR_NAME,
	PX_WIRE_FORMERR_COUNTS,
	PX_WIRE_FORMERR_OPT,
	PX_WIRE_FORMERR_SECTIONS,
	PX_WIRE_BADVERS, /* EDNS version above 0 (RFC 6891 6.1.3) */
};

/* Everything the answer path needs from a query, copied out so the mbuf can be rewritten in
 * place. The question itself stays where it is in the message: bytes [12, question_end). */
struct dp_query {
	uint16_t id;
	uint16_t flags;        /* host order, as received */
	uint16_t qtype;
	uint16_t qclass;
	uint16_t question_end; /* offset just past QTYPE/QCLASS; 0 when there is no question */
	uint16_t edns_bufsize; /* client's UDP payload size, 0 without EDNS */
	bool edns;
	bool edns_do;
	uint8_t qname_len;     /* wire length of qname_lc, root label included */
	uint8_t qname_labels;  /* label count, root excluded */
	uint8_t qname_lc[PX_DNS_NAME_BUF]; /* lower-cased, uncompressed wire form */
};

/* A bounds-checked cursor over one message. */
struct px_wire_rd {
	const uint8_t *msg;
	uint16_t len;
	uint16_t pos;
	bool err; /* sticky: once set, every read returns 0 and pos no longer moves */
};

static inline void
px_wire_rd_init(struct px_wire_rd *rd, const uint8_t *msg, uint16_t len)
{
	rd->msg = msg;
	rd->len = len;
	rd->pos = 0;
	rd->err = false;
}

static inline bool
px_wire_rd_need(struct px_wire_rd *rd, uint16_t n)
{
	if (rd->err || (uint32_t)rd->pos + n > rd->len) {
		rd->err = true;
		return false;
	}
	return true;
}

static inline uint16_t
px_wire_read_u16(struct px_wire_rd *rd)
{
	if (!px_wire_rd_need(rd, 2))
		return 0;
	rd->pos += 2;
	return px_get16(rd->msg + rd->pos - 2);
}

static inline uint32_t
px_wire_read_u32(struct px_wire_rd *rd)
{
	if (!px_wire_rd_need(rd, 4))
		return 0;
	rd->pos += 4;
	return px_get32(rd->msg + rd->pos - 4);
}

static inline void
px_wire_skip(struct px_wire_rd *rd, uint16_t n)
{
	if (px_wire_rd_need(rd, n))
		rd->pos += n;
}

/*
 * Reads the name at the cursor and leaves the cursor just past it (past the first pointer when
 * the name is compressed). Pointers must point strictly backwards, at or after the end of the
 * header, and at most PX_DNS_PTR_HOPS are followed. Labels over 63 bytes, names over 255 and
 * the reserved label types 0x40/0x80 are errors.
 *
 * If dst is not NULL the uncompressed, lower-cased wire form is written there (it must hold
 * PX_DNS_NAME_BUF bytes: labels are copied 8 bytes at a time, so up to 7 bytes past the name
 * may be written). Returns the wire length of the name (1 for the root), or 0 on error,
 * which also sets rd->err. *labels, if not NULL, receives the label count.
 */
unsigned px_wire_read_name(struct px_wire_rd *rd, uint8_t *dst, uint8_t *labels);

/* As px_wire_read_name(), but the uncompressed name is written to dst (PX_DNS_NAME_BUF bytes,
 * never written past the name's end) with its letters as sent: names kept in record data. */
unsigned px_wire_copy_name(struct px_wire_rd *rd, uint8_t *dst);

/*
 * Parses a query in place: header, exactly one question, and every RR of the other sections,
 * checking that the counts match the data exactly. Only an OPT in the additional section is
 * interpreted (one at most, owned by the root). Fills q even on a FORMERR verdict, as far as
 * it got, so that the error response can echo the question when it was readable.
 */
enum px_wire_verdict px_wire_parse_query(struct dp_query *q, const uint8_t *msg, uint16_t len);

/*
 * The largest response the client can take over UDP: 512 without EDNS, otherwise its
 * advertised size clamped to [512, PX_DNS_EDNS_BUFSIZE].
 */
static inline uint16_t
px_wire_udp_limit(const struct dp_query *q)
{
	uint16_t sz = q->edns_bufsize;

	if (!q->edns || sz < PX_DNS_UDP_MIN)
		return PX_DNS_UDP_MIN;
	return sz > PX_DNS_EDNS_BUFSIZE ? PX_DNS_EDNS_BUFSIZE : sz;
}

/* What goes into a response beyond the echoed header and question. */
struct px_wire_answer {
	uint8_t rcode;           /* may be PX_DNS_RCODE_BADVERS */
	bool aa;
	uint16_t an_count, ns_count, ar_count;
	const uint8_t *rr;       /* rendered RRs, names uncompressed or pointing at 0x0c */
	uint16_t rr_len;
	const uint16_t *ttl_off; /* offsets into rr of each TTL field to fill in */
	uint16_t ttl_off_count;
	uint32_t ttl;            /* the TTL written at every ttl_off */
	const struct px_dns_ede_info *ede; /* an Extended DNS Error for a query with EDNS, or NULL */
};

/*
 * Rewrites msg, which holds the query q, into the response: the header and the question are
 * kept in place (so the question is echoed byte for byte), everything after the question is
 * replaced by the answer's records and, if the query had EDNS, an OPT advertising
 * PX_DNS_EDNS_BUFSIZE, carrying ans->ede as an Extended DNS Error option (RFC 8914) if set
 * (left out where it would not fit cap, or where the response would fit min(limit, cap)
 * without it and not with it: an answer never gets TC, or outgrows the limit, for its EDE).
 * If the records do not fit min(limit, cap) the response carries TC and no records. A query without a readable question (question_end == 0) gets a bare header.
 *
 * Returns the response length, or 0 if not even the header, question and OPT fit in cap.
 */
uint16_t px_wire_write_response(uint8_t *msg, uint16_t cap, uint16_t limit,
				const struct dp_query *q, const struct px_wire_answer *ans);

/*
 * Writes the presentation form of the uncompressed wire-form name[0, len) to dst (cap bytes,
 * NUL-terminated), for text a client or an operator reads: the name may come from the network,
 * so every byte outside printable ASCII (space included) is written \DDD and the characters
 * that have a meaning in a name (. \ " ; ( ) @ $) are escaped \c (RFC 1035 5.1); the root is
 * ".". What does not fit is left out from the end, never in the middle of an escape. Returns
 * the length written (without the NUL); cap 0 writes nothing. Any thread.
 */
size_t px_wire_name_text(char *dst, size_t cap, const uint8_t *name, unsigned len);
