/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/wire.h>

#include "testlib.h"

unsigned
px_test_name(uint8_t *dst, const char *name)
{
	unsigned len = 0;
	const char *p = name;

	if (strcmp(name, ".") == 0) {
		dst[0] = 0;
		return 1;
	}
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63 || len + 1 + l + 1 > 255)
			return 0;
		dst[len] = (uint8_t)l;
		memcpy(dst + len + 1, p, l);
		len += 1 + (unsigned)l;
		p += l;
		if (*p == '.')
			p++;
	}
	dst[len++] = 0;
	return len;
}

uint16_t
px_test_query(uint8_t *buf, const struct px_test_query *q)
{
	uint16_t pos = PX_DNS_HDR_LEN;

	memset(buf, 0, PX_DNS_HDR_LEN);
	px_put16(buf, q->id);
	px_put16(buf + 2, q->flags);
	px_put16(buf + 4, 1);
	px_put16(buf + 10, q->edns ? 1 : 0);
	pos += px_test_name(buf + pos, q->name);
	px_put16(buf + pos, q->qtype);
	px_put16(buf + pos + 2, q->qclass);
	pos += 4;
	if (q->edns) {
		buf[pos] = 0;
		px_put16(buf + pos + 1, PX_DNS_TYPE_OPT);
		px_put16(buf + pos + 3, q->edns_bufsize);
		px_put32(buf + pos + 5, 0);
		px_put16(buf + pos + 9, 0);
		pos += PX_DNS_OPT_LEN;
	}
	return pos;
}
