/* SPDX-License-Identifier: BSD-3-Clause */
#include <pollux/wire.h>

#include "dp_access.h"

uint16_t
dp_access_reply(uint8_t *msg, uint16_t len, uint8_t rcode, bool tc)
{
	uint16_t flags, out = PX_DNS_HDR_LEN, qd = 0;

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
	flags = (uint16_t)(PX_DNS_QR | (flags & (PX_DNS_OPCODE_MASK | PX_DNS_RD | PX_DNS_CD)) |
			   (tc ? PX_DNS_TC | PX_DNS_RA : 0) | rcode);
	px_put16(msg + 2, flags);
	px_put16(msg + 4, qd);
	px_put16(msg + 6, 0);
	px_put16(msg + 8, 0);
	px_put16(msg + 10, 0);
	return out;
}
