/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
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

void
px_test_msg_start(struct px_test_msg *m, uint16_t id, uint16_t flags, const char *qname,
		  uint16_t qtype)
{
	unsigned n;

	memset(m, 0, sizeof(*m));
	px_put16(m->buf, id);
	px_put16(m->buf + 2, flags);
	px_put16(m->buf + 4, 1);
	m->len = PX_DNS_HDR_LEN;
	n = px_test_name(m->buf + m->len, qname);
	if (n == 0)
		abort();
	m->len = (uint16_t)(m->len + n);
	px_put16(m->buf + m->len, qtype);
	px_put16(m->buf + m->len + 2, PX_DNS_CLASS_IN);
	m->len += 4;
}

static void
msg_name(struct px_test_msg *m, const char *name)
{
	unsigned n;

	if ((size_t)m->len + PX_DNS_MAX_NAME + 32 > sizeof(m->buf))
		abort();
	if (name == NULL) {
		px_put16(m->buf + m->len, PX_DNS_QNAME_PTR);
		m->len += 2;
		return;
	}
	n = px_test_name(m->buf + m->len, name);
	if (n == 0)
		abort();
	m->len = (uint16_t)(m->len + n);
}

uint16_t
px_test_msg_rr_head(struct px_test_msg *m, int sec, const char *owner, uint16_t type,
		    uint16_t rclass, uint32_t ttl)
{
	uint8_t *count = m->buf + 6 + 2 * sec;
	uint16_t at;

	if (sec < m->sec || sec > 2)
		abort();
	m->sec = sec;
	px_put16(count, (uint16_t)(px_get16(count) + 1));
	msg_name(m, owner);
	px_put16(m->buf + m->len, type);
	px_put16(m->buf + m->len + 2, rclass);
	px_put32(m->buf + m->len + 4, ttl);
	px_put16(m->buf + m->len + 8, 0);
	at = (uint16_t)(m->len + 8);
	m->len += 10;
	return at;
}

void
px_test_msg_rr(struct px_test_msg *m, int sec, const char *owner, uint16_t type, uint32_t ttl,
	       const void *rdata, uint16_t rdlen)
{
	uint16_t at = px_test_msg_rr_head(m, sec, owner, type, PX_DNS_CLASS_IN, ttl);

	if ((size_t)m->len + rdlen > sizeof(m->buf))
		abort();
	px_put16(m->buf + at, rdlen);
	if (rdlen != 0)
		memcpy(m->buf + m->len, rdata, rdlen);
	m->len = (uint16_t)(m->len + rdlen);
}

void
px_test_msg_addr(struct px_test_msg *m, int sec, const char *owner, const char *addr)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, addr, a) == 1)
		px_test_msg_rr(m, sec, owner, PX_DNS_TYPE_A, 300, a, 4);
	else if (inet_pton(AF_INET6, addr, a) == 1)
		px_test_msg_rr(m, sec, owner, PX_DNS_TYPE_AAAA, 300, a, 16);
	else
		abort();
}

void
px_test_msg_target(struct px_test_msg *m, int sec, const char *owner, uint16_t type,
		   uint32_t ttl, const char *target)
{
	uint16_t at = px_test_msg_rr_head(m, sec, owner, type, PX_DNS_CLASS_IN, ttl);
	uint16_t start = m->len;

	msg_name(m, target);
	px_put16(m->buf + at, (uint16_t)(m->len - start));
}

void
px_test_msg_soa(struct px_test_msg *m, int sec, const char *owner, uint32_t ttl, uint32_t minimum)
{
	uint16_t at = px_test_msg_rr_head(m, sec, owner, PX_DNS_TYPE_SOA, PX_DNS_CLASS_IN, ttl);
	uint16_t start = m->len;

	msg_name(m, "ns.example.test");
	msg_name(m, "hostmaster.example.test");
	for (unsigned i = 0; i < 4; i++) {
		px_put32(m->buf + m->len, 1000u + i);
		m->len += 4;
	}
	px_put32(m->buf + m->len, minimum);
	m->len += 4;
	px_put16(m->buf + at, (uint16_t)(m->len - start));
}

void
px_test_msg_opt(struct px_test_msg *m, uint32_t ttl)
{
	px_test_msg_rr_head(m, 2, ".", PX_DNS_TYPE_OPT, PX_DNS_EDNS_BUFSIZE, ttl);
}
