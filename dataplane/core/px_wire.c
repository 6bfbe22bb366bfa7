/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <pollux/wire.h>

/*
 * Copies a length byte and its c-byte label (c <= 63) to dst, lower-cased. avail is how many
 * bytes of the message start at src: whole 8-byte words are read while they stay inside the
 * message, so the common short label costs one or two word operations rather than a loop.
 */
static inline void
copy_label_lower(uint8_t *dst, const uint8_t *src, unsigned c, unsigned avail)
{
	unsigned i = 0;

	dst[0] = (uint8_t)c;
	for (; i < c && 1 + i + 8 <= avail; i += 8) {
		uint64_t v;

		memcpy(&v, src + 1 + i, 8);
		v = px_lower8(v);
		memcpy(dst + 1 + i, &v, 8);
	}
	for (; i < c; i++)
		dst[1 + i] = px_lower(src[1 + i]);
}

/* px_wire_read_name() and px_wire_copy_name(): one walk, with or without lower-casing (a
 * constant in each caller, so each gets its own straight code). */
static inline __attribute__((always_inline)) unsigned
read_name(struct px_wire_rd *rd, uint8_t *dst, uint8_t *labels, bool lower)
{
	const uint8_t *msg = rd->msg;
	uint16_t pos = rd->pos;
	uint16_t after = 0;   /* cursor position once the name is read, set at the first pointer */
	uint16_t bound = pos; /* a pointer must land strictly before this: no loops possible */
	unsigned total = 0, hops = 0, nlab = 0;

	if (rd->err)
		return 0;
	for (;;) {
		if (pos >= rd->len)
			goto truncated;
		uint8_t c = msg[pos];

		if (c >= 0xc0) {
			if (pos + 1 >= rd->len)
				goto truncated;
			uint16_t target = (uint16_t)((c & 0x3f) << 8 | msg[pos + 1]);

			if (target >= bound || target < PX_DNS_HDR_LEN || ++hops > PX_DNS_PTR_HOPS)
				goto err;
			if (after == 0)
				after = pos + 2;
			bound = target;
			pos = target;
			continue;
		}
		if (c & 0xc0) /* 0x40 and 0x80: extended and reserved label types (RFC 6891 5) */
			goto err;
		if (c == 0) {
			if (dst != NULL)
				dst[total] = 0;
			total++;
			pos++;
			break;
		}
		/* c <= 63 here; the name, root label included, must stay within 255 bytes. */
		if (total + 1 + c + 1 > PX_DNS_MAX_NAME)
			goto err;
		if ((unsigned)pos + 1 + c > rd->len)
			goto truncated;
		if (dst != NULL && lower)
			copy_label_lower(dst + total, msg + pos, c, rd->len - pos);
		else if (dst != NULL)
			memcpy(dst + total, msg + pos, 1u + c);
		total += 1u + c;
		pos = (uint16_t)(pos + 1 + c);
		nlab++;
	}
	rd->pos = after != 0 ? after : pos;
	if (labels != NULL)
		*labels = (uint8_t)nlab;
	return total;
truncated:
	/* Tell the caller the data ran out (a count that lies) rather than a bad name. */
	rd->pos = rd->len;
err:
	rd->err = true;
	return 0;
}

unsigned
px_wire_read_name(struct px_wire_rd *rd, uint8_t *dst, uint8_t *labels)
{
	return read_name(rd, dst, labels, true);
}

unsigned
px_wire_copy_name(struct px_wire_rd *rd, uint8_t *dst)
{
	return read_name(rd, dst, NULL, false);
}

/* Checks that an OPT rdata is a well-formed sequence of {code, length, data} options. */
static bool
opt_rdata_ok(const uint8_t *p, uint16_t len)
{
	uint32_t pos = 0;

	while (pos + 4 <= len)
		pos += 4u + px_get16(p + pos + 2);
	return pos == len;
}

/* Reads one resource record of a section other than the question. Returns a FORMERR verdict
 * or PX_WIRE_OK; *badvers is set when the record is an OPT asking for a version above 0. */
static enum px_wire_verdict
read_rr(struct px_wire_rd *rd, struct dp_query *q, bool additional, bool *badvers)
{
	unsigned nlen = px_wire_read_name(rd, NULL, NULL);
	uint16_t type, rclass, rdlen;
	uint32_t ttl;

	if (nlen == 0) {
		/* A name cut off by the end of the data is a count problem, anything else a name
		 * problem; both are FORMERR, the split only helps the operator read counters. */
		return rd->pos >= rd->len ? PX_WIRE_FORMERR_COUNTS : PX_WIRE_FORMERR_NAME;
	}
	type = px_wire_read_u16(rd);
	rclass = px_wire_read_u16(rd);
	ttl = px_wire_read_u32(rd);
	rdlen = px_wire_read_u16(rd);
	if (!px_wire_rd_need(rd, rdlen))
		return PX_WIRE_FORMERR_COUNTS;
	if (type == PX_DNS_TYPE_OPT) {
		if (!additional || q->edns || nlen != 1 || !opt_rdata_ok(rd->msg + rd->pos, rdlen))
			return PX_WIRE_FORMERR_OPT;
		q->edns = true;
		q->edns_bufsize = rclass;
		q->edns_do = (ttl & PX_DNS_EDNS_DO) != 0;
		if (((ttl >> 16) & 0xff) != 0)
			*badvers = true;
	}
	rd->pos = (uint16_t)(rd->pos + rdlen);
	return PX_WIRE_OK;
}

enum px_wire_verdict
px_wire_parse_query(struct dp_query *q, const uint8_t *msg, uint16_t len)
{
	struct px_wire_rd rd;
	enum px_wire_verdict v;
	uint16_t qdcount, ancount, nscount, arcount;
	bool badvers = false;

	q->question_end = 0;
	q->edns = false;
	q->edns_do = false;
	q->edns_bufsize = 0;
	q->qname_len = 0;
	if (len < PX_DNS_HDR_LEN)
		return PX_WIRE_DROP_RUNT;

	px_wire_rd_init(&rd, msg, len);
	q->id = px_wire_read_u16(&rd);
	q->flags = px_wire_read_u16(&rd);
	qdcount = px_wire_read_u16(&rd);
	ancount = px_wire_read_u16(&rd);
	nscount = px_wire_read_u16(&rd);
	arcount = px_wire_read_u16(&rd);

	if (q->flags & PX_DNS_QR)
		return PX_WIRE_DROP_RESPONSE;
	if ((q->flags & PX_DNS_OPCODE_MASK) >> PX_DNS_OPCODE_SHIFT != PX_DNS_OPCODE_QUERY)
		return PX_WIRE_NOTIMP;
	if (qdcount != 1)
		return PX_WIRE_FORMERR_QDCOUNT;

	q->qname_len = (uint8_t)px_wire_read_name(&rd, q->qname_lc, &q->qname_labels);
	if (q->qname_len == 0)
		return rd.pos >= len ? PX_WIRE_FORMERR_COUNTS : PX_WIRE_FORMERR_NAME;
	q->qtype = px_wire_read_u16(&rd);
	q->qclass = px_wire_read_u16(&rd);
	if (rd.err)
		return PX_WIRE_FORMERR_COUNTS;
	q->question_end = rd.pos;

	/* Walk every record so that a count that lies is caught wherever it lies. */
	uint32_t others = (uint32_t)ancount + nscount;

	for (uint32_t i = 0; i < others + arcount; i++) {
		v = read_rr(&rd, q, i >= others, &badvers);
		if (v != PX_WIRE_OK) {
			q->edns = false; /* the OPT, if any, is not to be trusted either */
			return v;
		}
	}
	if (rd.pos != len) {
		q->edns = false;
		return PX_WIRE_FORMERR_COUNTS;
	}
	if (ancount != 0 || nscount != 0) {
		q->edns = false;
		return PX_WIRE_FORMERR_SECTIONS;
	}
	return badvers ? PX_WIRE_BADVERS : PX_WIRE_OK;
}

uint16_t
px_wire_write_response(uint8_t *msg, uint16_t cap, uint16_t limit, const struct dp_query *q,
		       const struct px_wire_answer *ans)
{
	uint16_t qend = q->question_end != 0 ? q->question_end : PX_DNS_HDR_LEN;
	uint16_t opt_len = q->edns ? PX_DNS_OPT_LEN : 0;
	uint16_t an = 0, ns = 0, ar = 0, pos = qend, ede_len = 0, text_len = 0;
	uint16_t flags;

	if (limit > cap)
		limit = cap;
	if ((uint32_t)qend + opt_len > cap)
		return 0;
	if (opt_len != 0 && ans->ede != NULL) {
		text_len = (uint16_t)strnlen(ans->ede->text, PX_DNS_EDE_TEXT_MAX);
		ede_len = (uint16_t)(4 + 2 + text_len); /* OPTION-CODE, -LENGTH, INFO-CODE, text */
		/* The option is extra: it goes only where the records (or, for TC, none) still
		 * fit the client's limit with it. Otherwise an answer that fits without it (a
		 * stale answer near the limit) would turn into TC for an EDE. */
		if ((uint32_t)qend + opt_len + ede_len > cap ||
		    ((uint32_t)qend + ans->rr_len + opt_len + ede_len > limit &&
		     ((uint32_t)qend + ans->rr_len + opt_len <= limit ||
		      (uint32_t)qend + opt_len + ede_len > limit)))
			ede_len = 0;
		opt_len = (uint16_t)(opt_len + ede_len);
	}

	flags = PX_DNS_QR | PX_DNS_RA | (q->flags & (PX_DNS_OPCODE_MASK | PX_DNS_RD | PX_DNS_CD)) |
		(ans->rcode & PX_DNS_RCODE_MASK) | (ans->aa ? PX_DNS_AA : 0);
	if ((uint32_t)qend + ans->rr_len + opt_len <= limit) {
		if (ans->rr_len != 0)
			memcpy(msg + pos, ans->rr, ans->rr_len);
		for (uint16_t i = 0; i < ans->ttl_off_count; i++)
			px_put32(msg + pos + ans->ttl_off[i], ans->ttl);
		pos = (uint16_t)(pos + ans->rr_len);
		an = ans->an_count;
		ns = ans->ns_count;
		ar = ans->ar_count;
	} else {
		/* RFC 2181 9: a truncated response carries no partial RRsets; with TC the client
		 * retries over TCP, so send none at all. */
		flags |= PX_DNS_TC;
	}
	if (opt_len != 0) {
		uint8_t *o = msg + pos;

		o[0] = 0; /* owner: the root */
		px_put16(o + 1, PX_DNS_TYPE_OPT);
		px_put16(o + 3, PX_DNS_EDNS_BUFSIZE);
		/* Extended rcode (upper 8 bits of 12), version 0, and the query's DO bit, which
		 * RFC 3225 3 says must be copied whether or not DNSSEC records are served. */
		px_put32(o + 5, (uint32_t)(ans->rcode >> 4) << 24 | (q->edns_do ? PX_DNS_EDNS_DO : 0));
		px_put16(o + 9, ede_len);
		if (ede_len != 0) {
			px_put16(o + 11, PX_DNS_OPT_EDE);
			px_put16(o + 13, (uint16_t)(2 + text_len));
			px_put16(o + 15, ans->ede->code);
			memcpy(o + 17, ans->ede->text, text_len);
		}
		pos = (uint16_t)(pos + opt_len);
		ar++;
	}
	px_put16(msg + 2, flags);
	px_put16(msg + 4, q->question_end != 0 ? 1 : 0);
	px_put16(msg + 6, an);
	px_put16(msg + 8, ns);
	px_put16(msg + 10, ar);
	return pos;
}

/* Appends s[0, n) to dst at *pos if it fits with the NUL still after it; false if not. */
static bool
text_put(char *dst, size_t cap, size_t *pos, const char *s, size_t n)
{
	if (*pos + n + 1 > cap)
		return false;
	memcpy(dst + *pos, s, n);
	*pos += n;
	return true;
}

size_t
px_wire_name_text(char *dst, size_t cap, const uint8_t *name, unsigned len)
{
	size_t pos = 0;
	unsigned i = 0;

	if (cap == 0)
		return 0;
	dst[0] = '\0';
	if (len == 0 || name[0] == 0) {
		text_put(dst, cap, &pos, ".", 1);
		dst[pos] = '\0';
		return pos;
	}
	/* A label that would run past len ends the walk: the name is printed as far as it
	 * is well formed, which is all of it for every name the resolver keeps. */
	while (i < len && name[i] != 0 && name[i] <= PX_DNS_MAX_LABEL && i + 1u + name[i] <= len) {
		unsigned c = name[i];

		for (unsigned k = 1; k <= c; k++) {
			uint8_t b = name[i + k];
			char esc[4];
			size_t n;

			if (b <= 0x20 || b >= 0x7f) {
				esc[0] = '\\';
				esc[1] = (char)('0' + b / 100);
				esc[2] = (char)('0' + b / 10 % 10);
				esc[3] = (char)('0' + b % 10);
				n = 4;
			} else if (strchr(".\\\";()@$", b) != NULL) {
				esc[0] = '\\';
				esc[1] = (char)b;
				n = 2;
			} else {
				esc[0] = (char)b;
				n = 1;
			}
			if (!text_put(dst, cap, &pos, esc, n))
				goto out;
		}
		if (!text_put(dst, cap, &pos, ".", 1))
			goto out;
		i += 1u + c;
	}
out:
	dst[pos] = '\0';
	return pos;
}
