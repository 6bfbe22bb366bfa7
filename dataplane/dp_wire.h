/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Zero-copy DNS message reader and response writer (RFC 1035, RFC 6891).
 *
 * Pure code: no DPDK, no allocation, no I/O. The reader walks a message in place with a
 * bounds-checked cursor whose error is sticky, so a chain of reads needs one check at the end.
 * Callable from any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollux/wire.h>

/* Why a query was not accepted. DP_WIRE_OK means answer it; the FORMERR_* verdicts mean answer
 * FORMERR; DP_WIRE_DROP_* mean send nothing. Each maps to one counter in struct px_stats. */
enum dp_wire_verdict {
	DP_WIRE_OK = 0,
	DP_WIRE_DROP_RUNT,     /* shorter than a header: nothing to answer with */
	DP_WIRE_DROP_RESPONSE, /* QR set: never answer a response (reflection loops) */
	DP_WIRE_NOTIMP,        /* opcode other than QUERY */
	DP_WIRE_FORMERR_QDCOUNT,
	DP_WIRE_FORMERR_NAME,
	DP_WIRE_FORMERR_COUNTS,
	DP_WIRE_FORMERR_OPT,
	DP_WIRE_FORMERR_SECTIONS,
	DP_WIRE_BADVERS, /* EDNS version above 0 (RFC 6891 6.1.3) */
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
struct dp_wire_rd {
	const uint8_t *msg;
	uint16_t len;
	uint16_t pos;
	bool err; /* sticky: once set, every read returns 0 and pos no longer moves */
};

static inline void
dp_wire_rd_init(struct dp_wire_rd *rd, const uint8_t *msg, uint16_t len)
{
	rd->msg = msg;
	rd->len = len;
	rd->pos = 0;
	rd->err = false;
}

static inline bool
dp_wire_rd_need(struct dp_wire_rd *rd, uint16_t n)
{
	if (rd->err || (uint32_t)rd->pos + n > rd->len) {
		rd->err = true;
		return false;
	}
	return true;
}

static inline uint16_t
dp_wire_read_u16(struct dp_wire_rd *rd)
{
	if (!dp_wire_rd_need(rd, 2))
		return 0;
	rd->pos += 2;
	return px_get16(rd->msg + rd->pos - 2);
}

static inline uint32_t
dp_wire_read_u32(struct dp_wire_rd *rd)
{
	if (!dp_wire_rd_need(rd, 4))
		return 0;
	rd->pos += 4;
	return px_get32(rd->msg + rd->pos - 4);
}

static inline void
dp_wire_skip(struct dp_wire_rd *rd, uint16_t n)
{
	if (dp_wire_rd_need(rd, n))
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
unsigned dp_wire_read_name(struct dp_wire_rd *rd, uint8_t *dst, uint8_t *labels);

/* As dp_wire_read_name(), but the uncompressed name is written to dst (PX_DNS_NAME_BUF bytes,
 * never written past the name's end) with its letters as sent: names kept in record data. */
unsigned dp_wire_copy_name(struct dp_wire_rd *rd, uint8_t *dst);

/*
 * Parses a query in place: header, exactly one question, and every RR of the other sections,
 * checking that the counts match the data exactly. Only an OPT in the additional section is
 * interpreted (one at most, owned by the root). Fills q even on a FORMERR verdict, as far as
 * it got, so that the error response can echo the question when it was readable.
 */
enum dp_wire_verdict dp_wire_parse_query(struct dp_query *q, const uint8_t *msg, uint16_t len);

/*
 * The largest response the client can take over UDP: 512 without EDNS, otherwise its
 * advertised size clamped to [512, PX_DNS_EDNS_BUFSIZE].
 */
static inline uint16_t
dp_wire_udp_limit(const struct dp_query *q)
{
	uint16_t sz = q->edns_bufsize;

	if (!q->edns || sz < PX_DNS_UDP_MIN)
		return PX_DNS_UDP_MIN;
	return sz > PX_DNS_EDNS_BUFSIZE ? PX_DNS_EDNS_BUFSIZE : sz;
}

/* What goes into a response beyond the echoed header and question. */
struct dp_wire_answer {
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
 * (left out if only that would not fit cap). If the records do not fit min(limit, cap) the response carries TC and
 * no records. A query without a readable question (question_end == 0) gets a bare header.
 *
 * Returns the response length, or 0 if not even the header, question and OPT fit in cap.
 */
uint16_t dp_wire_write_response(uint8_t *msg, uint16_t cap, uint16_t limit,
				const struct dp_query *q, const struct dp_wire_answer *ans);
