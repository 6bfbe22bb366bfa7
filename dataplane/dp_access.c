/* SPDX-License-Identifier: BSD-3-Clause */
#include <pollux/wire.h>

#include "dp_access.h"

/* An OPT with one Extended DNS Error option of no EXTRA-TEXT. */
#define ACCESS_OPT_EDE_LEN (PX_DNS_OPT_LEN + 4 + 2)

/*
 * Finds the query's OPT record: in the additional section, owned by the root, with nothing in
 * the answer and authority sections (a query has nothing there). qend is where the question
 * ends. Returns true and the low 16 bits of its TTL field (the DO bit's word) in *flags. Each
 * record read takes at least 11 bytes or sets the reader's error, so the walk is bounded by
 * the message, whatever ARCOUNT claims.
 */
static bool
query_opt(const uint8_t *msg, uint16_t len, uint16_t qend, uint16_t *flags)
{
	uint16_t ar = px_get16(msg + 10);
	struct px_wire_rd rd;

	if (px_get16(msg + 6) != 0 || px_get16(msg + 8) != 0)
		return false;
	px_wire_rd_init(&rd, msg, len);
	px_wire_skip(&rd, qend);
	for (uint16_t i = 0; i < ar && !rd.err; i++) {
		uint16_t owner = rd.pos, type, rdlen;
		uint32_t ttl;

		px_wire_read_name(&rd, NULL, NULL);
		type = px_wire_read_u16(&rd);
		px_wire_skip(&rd, 2); /* CLASS: the requestor's UDP size */
		ttl = px_wire_read_u32(&rd);
		rdlen = px_wire_read_u16(&rd);
		px_wire_skip(&rd, rdlen);
		if (!rd.err && type == PX_DNS_TYPE_OPT && msg[owner] == 0) {
			*flags = (uint16_t)ttl;
			return true;
		}
	}
	return false;
}

uint16_t
dp_access_reply(uint8_t *msg, uint16_t len, uint16_t cap, uint8_t rcode, bool tc)
{
	uint16_t flags, out = PX_DNS_HDR_LEN, qd = 0, ar = 0, opt_flags = 0;
	bool ede = false;

	if (len < PX_DNS_HDR_LEN)
		return 0;
	flags = px_get16(msg + 2);
	if (flags & PX_DNS_QR)
		return 0;
	if (px_get16(msg + 4) == 1) {
		struct px_wire_rd rd;

		/* The question is echoed only when it reads cleanly; a name at offset 12 has
		 * nowhere to point back to, so it is never compressed. */
		px_wire_rd_init(&rd, msg, len);
		px_wire_skip(&rd, PX_DNS_HDR_LEN);
		px_wire_read_name(&rd, NULL, NULL);
		px_wire_skip(&rd, 4);
		if (!rd.err) {
			out = rd.pos;
			qd = 1;
		}
	}
	/* Access control says why with Prohibited (RFC 8914 4.19), only to a query that carried
	 * an OPT of its own: the answer's OPT takes the place of the query's 11 or more bytes,
	 * so the answer is at most the option's 6 bytes longer than the query. */
	if (rcode == PX_DNS_RCODE_REFUSED && qd == 1 && cap >= out + ACCESS_OPT_EDE_LEN)
		ede = query_opt(msg, len, out, &opt_flags);
	flags = (uint16_t)(PX_DNS_QR | (flags & (PX_DNS_OPCODE_MASK | PX_DNS_RD | PX_DNS_CD)) |
			   (tc ? PX_DNS_TC | PX_DNS_RA : 0) | rcode);
	if (ede) {
		uint8_t *o = msg + out;

		o[0] = 0;
		px_put16(o + 1, PX_DNS_TYPE_OPT);
		px_put16(o + 3, PX_DNS_EDNS_BUFSIZE);
		/* Version 0, no extended rcode, the query's DO bit (RFC 3225 3). */
		px_put32(o + 5, opt_flags & PX_DNS_EDNS_DO);
		px_put16(o + 9, 4 + 2);
		px_put16(o + 11, PX_DNS_OPT_EDE);
		px_put16(o + 13, 2);
		px_put16(o + 15, PX_DNS_EDE_PROHIBITED);
		out = (uint16_t)(out + ACCESS_OPT_EDE_LEN);
		ar = 1;
	}
	px_put16(msg + 2, flags);
	px_put16(msg + 4, qd);
	px_put16(msg + 6, 0);
	px_put16(msg + 8, 0);
	px_put16(msg + 10, ar);
	return out;
}
