/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <string.h>

#include <pollux/wire.h>

#include <pollux/rdata.h>

const char *
px_rdata_shape(uint16_t type)
{
	switch (type) {
	case 2:  /* NS */
	case 3:  /* MD */
	case 4:  /* MF */
	case 5:  /* CNAME */
	case 7:  /* MB */
	case 8:  /* MG */
	case 9:  /* MR */
	case 12: /* PTR */
	case 39: /* DNAME */
		return "N";
	case 6: /* SOA: MNAME, RNAME, serial, refresh, retry, expire, minimum */
		return "NN20";
	case 14: /* MINFO: RMAILBX, EMAILBX */
	case 17: /* RP: mbox, txt */
		return "NN";
	case 15: /* MX: preference, exchange */
	case 18: /* AFSDB: subtype, hostname */
	case 21: /* RT: preference, intermediate host */
	case 36: /* KX: preference, exchanger */
		return "2N";
	case 26: /* PX: preference, MAP822, MAPX400 */
		return "2NN";
	case 33: /* SRV: priority, weight, port, target */
		return "6N";
	case 35: /* NAPTR: order, preference, flags, services, regexp, replacement */
		return "4SSSN";
	case 24: /* SIG */
	case 46: /* RRSIG: type covered .. key tag, signer's name, signature */
		return "18NR";
	case 30: /* NXT */
	case 47: /* NSEC: next name, type bitmaps */
		return "NR";
	case 64: /* SVCB: priority, target, parameters */
	case 65: /* HTTPS */
		return "2NR";
	default:
		return NULL;
	}
}

/*
 * Walks the rdata at msg[off, off + rdlen) field by field; with dst, copies it there (cap bytes)
 * with the names expanded. Returns the bytes the copy takes, or -(verdict) for a mismatch and
 * -PX_RDATA_BAD_SHAPE when the copy does not fit.
 */
static int
walk(uint8_t *dst, unsigned cap, const uint8_t *msg, uint16_t len, const char *shape,
     uint16_t off, uint16_t rdlen)
{
	const uint32_t end = (uint32_t)off + rdlen;
	uint32_t pos = off;
	unsigned out = 0;

	for (const char *f = shape; *f != '\0'; f++) {
		uint32_t n;

		if (*f >= '0' && *f <= '9') {
			for (n = 0; *f >= '0' && *f <= '9'; f++)
				n = n * 10 + (uint32_t)(*f - '0');
			f--;
		} else if (*f == 'S') {
			if (pos >= end)
				return -PX_RDATA_BAD_SHAPE;
			n = 1u + msg[pos];
		} else if (*f == 'R') {
			n = end - pos;
		} else { /* 'N' */
			uint8_t name[PX_DNS_NAME_BUF];
			struct px_wire_rd rd;
			unsigned nlen;

			px_wire_rd_init(&rd, msg, len);
			rd.pos = (uint16_t)pos;
			nlen = px_wire_copy_name(&rd, dst != NULL ? name : NULL);
			/* A name cut off by the end of the message overran its rdata. */
			if (nlen == 0)
				return rd.pos >= len ? -PX_RDATA_BAD_SHAPE : -PX_RDATA_BAD_NAME;
			if (rd.pos > end)
				return -PX_RDATA_BAD_SHAPE;
			if (dst != NULL) {
				if (out + nlen > cap)
					return -PX_RDATA_BAD_SHAPE;
				memcpy(dst + out, name, nlen);
			}
			out += nlen;
			pos = rd.pos;
			continue;
		}
		if (pos + n > end)
			return -PX_RDATA_BAD_SHAPE;
		if (dst != NULL) {
			if (out + n > cap)
				return -PX_RDATA_BAD_SHAPE;
			memcpy(dst + out, msg + pos, n);
		}
		out += n;
		pos += n;
	}
	return pos == end ? (int)out : -PX_RDATA_BAD_SHAPE;
}

enum px_rdata_check
px_rdata_check(const uint8_t *msg, uint16_t len, uint16_t type, uint16_t off, uint16_t rdlen)
{
	const char *shape = px_rdata_shape(type);
	int n;

	if (shape == NULL)
		return PX_RDATA_OK;
	n = walk(NULL, 0, msg, len, shape, off, rdlen);
	return n >= 0 ? PX_RDATA_OK : (enum px_rdata_check)-n;
}

int
px_rdata_copy(uint8_t *dst, unsigned cap, const uint8_t *msg, uint16_t len, uint16_t type,
	      uint16_t off, uint16_t rdlen)
{
	const char *shape = px_rdata_shape(type);
	int n;

	if (shape == NULL) {
		if (rdlen > cap)
			return -1;
		memcpy(dst, msg + off, rdlen);
		return rdlen;
	}
	n = walk(dst, cap, msg, len, shape, off, rdlen);
	return n >= 0 ? n : -1;
}
