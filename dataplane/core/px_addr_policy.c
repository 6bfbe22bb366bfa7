/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/addr_policy.h>

static const char *const reason_names[PX_ADDR_REASON_COUNT] = {
	[PX_ADDR_OK] = "ok",
	[PX_ADDR_UNSPECIFIED] = "unspecified",
	[PX_ADDR_LOOPBACK] = "loopback",
	[PX_ADDR_BROADCAST] = "broadcast",
	[PX_ADDR_MULTICAST] = "multicast",
	[PX_ADDR_RESERVED] = "reserved",
	[PX_ADDR_V4MAPPED] = "v4mapped",
	[PX_ADDR_V4COMPAT] = "v4compat",
	[PX_ADDR_LINK_LOCAL] = "link_local",
	[PX_ADDR_SELF] = "self",
	[PX_ADDR_SUBNET_BROADCAST] = "subnet_broadcast",
	[PX_ADDR_NAT64] = "nat64",
	[PX_ADDR_6TO4] = "6to4",
	[PX_ADDR_TEREDO] = "teredo",
	[PX_ADDR_DO_NOT_QUERY] = "do_not_query",
};

static const char *const entry_names[PX_ADDR_ENTRY_COUNT] = {
	[PX_ADDR_AT_HINTS] = "hints",
	[PX_ADDR_AT_GLUE] = "glue",
	[PX_ADDR_AT_NS_ADDR] = "ns_addr",
	[PX_ADDR_AT_SEND] = "send",
};

const char *
px_addr_reason_name(enum px_addr_reason r)
{
	return (unsigned)r < PX_ADDR_REASON_COUNT ? reason_names[r] : "invalid";
}

const char *
px_addr_entry_name(enum px_addr_entry e)
{
	return (unsigned)e < PX_ADDR_ENTRY_COUNT ? entry_names[e] : "invalid";
}

void
px_addr_policy_init(struct px_addr_policy *p)
{
	memset(p, 0, sizeof(*p));
}

void
px_addr_policy_set_self4(struct px_addr_policy *p, uint32_t addr_be, unsigned prefix)
{
	uint32_t a = ntohl(addr_be);
	uint32_t mask = prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : 0xffffffffu << (32 - prefix);

	p->has_self4 = true;
	p->self4 = a;
	p->has_bcast4 = prefix <= 30;
	p->subnet4 = a & mask;
	p->bcast4 = a | ~mask;
}

int
px_addr_policy_set_self6(struct px_addr_policy *p, const uint8_t addr[16])
{
	if (p->self6_count >= 2)
		return -ENOSPC;
	memcpy(p->self6[p->self6_count++], addr, 16);
	return 0;
}

void
px_addr_policy_copy_self(struct px_addr_policy *dst, const struct px_addr_policy *src)
{
	dst->has_self4 = src->has_self4;
	dst->self4 = src->self4;
	dst->has_bcast4 = src->has_bcast4;
	dst->subnet4 = src->subnet4;
	dst->bcast4 = src->bcast4;
	dst->self6_count = src->self6_count;
	memcpy(dst->self6, src->self6, sizeof(dst->self6));
}

bool
px_addr_prefix_match(const uint8_t *a, const uint8_t *net, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, net, bytes) != 0)
		return false;
	return bits == 0 || ((a[bytes] ^ net[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

enum px_addr_reason
px_addr_check4(const struct px_addr_policy *p, uint32_t addr_be)
{
	uint32_t a = ntohl(addr_be);
	uint8_t top = (uint8_t)(a >> 24);

	if (top == 0)
		return PX_ADDR_UNSPECIFIED;
	if (top == 127 && !p->allow_loopback)
		return PX_ADDR_LOOPBACK;
	if (a == 0xffffffffu)
		return PX_ADDR_BROADCAST;
	if ((top & 0xf0) == 0xe0)
		return PX_ADDR_MULTICAST;
	if ((top & 0xf0) == 0xf0)
		return PX_ADDR_RESERVED;
	if (a >> 16 == 0xa9fe)
		return PX_ADDR_LINK_LOCAL;
	if (p->has_self4 && a == p->self4)
		return PX_ADDR_SELF;
	if (p->has_bcast4 && (a == p->bcast4 || a == p->subnet4))
		return PX_ADDR_SUBNET_BROADCAST;
	for (unsigned i = 0; i < p->net4_count; i++)
		if ((a & p->net4[i].mask) == p->net4[i].net)
			return PX_ADDR_DO_NOT_QUERY;
	return PX_ADDR_OK;
}

/* The IPv4 address at byte off of addr (network byte order), inverted when flip is set. */
static uint32_t
embedded4(const uint8_t *addr, unsigned off, bool flip)
{
	uint32_t v;

	memcpy(&v, addr + off, 4);
	return flip ? ~v : v;
}

/* An IPv6 address whose packets reach an IPv4 host: judged by that host (see the header). */
static enum px_addr_reason
check_embedded(const struct px_addr_policy *p, const uint8_t addr[16])
{
	static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	static const uint8_t nat64_local[6] = {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01};
	static const uint8_t teredo[4] = {0x20, 0x01, 0x00, 0x00};

	if (memcmp(addr, nat64, 12) == 0)
		return px_addr_check4(p, embedded4(addr, 12, false)) == PX_ADDR_OK ? PX_ADDR_OK :
			PX_ADDR_NAT64;
	if (memcmp(addr, nat64_local, 6) == 0)
		return PX_ADDR_NAT64;
	if (addr[0] == 0x20 && addr[1] == 0x02)
		return px_addr_check4(p, embedded4(addr, 2, false)) == PX_ADDR_OK ? PX_ADDR_OK :
			PX_ADDR_6TO4;
	if (memcmp(addr, teredo, 4) == 0 &&
	    (px_addr_check4(p, embedded4(addr, 4, false)) != PX_ADDR_OK ||
	     px_addr_check4(p, embedded4(addr, 12, true)) != PX_ADDR_OK))
		return PX_ADDR_TEREDO;
	return PX_ADDR_OK;
}

enum px_addr_reason
px_addr_check6(const struct px_addr_policy *p, const uint8_t addr[16])
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	enum px_addr_reason why;

	if (memcmp(addr, zero, 16) == 0)
		return PX_ADDR_UNSPECIFIED;
	if (memcmp(addr, zero, 15) == 0 && addr[15] == 1) {
		if (!p->allow_loopback)
			return PX_ADDR_LOOPBACK;
	} else if (memcmp(addr, zero, 12) == 0) {
		return PX_ADDR_V4COMPAT;
	}
	if (memcmp(addr, mapped, 12) == 0)
		return PX_ADDR_V4MAPPED;
	if (addr[0] == 0xff)
		return PX_ADDR_MULTICAST;
	for (unsigned i = 0; i < p->self6_count; i++)
		if (memcmp(addr, p->self6[i], 16) == 0)
			return PX_ADDR_SELF;
	if (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80)
		return PX_ADDR_LINK_LOCAL;
	why = check_embedded(p, addr);
	if (why != PX_ADDR_OK)
		return why;
	for (unsigned i = 0; i < p->net6_count; i++)
		if (px_addr_prefix_match(addr, p->net6[i].net, p->net6[i].plen))
			return PX_ADDR_DO_NOT_QUERY;
	return PX_ADDR_OK;
}

enum px_addr_reason
px_addr_check(const struct px_addr_policy *p, const struct px_addr *a)
{
	if (a->family == PX_AF_INET)
		return px_addr_check4(p, px_addr_v4(a));
	if (a->family == PX_AF_INET6)
		return px_addr_check6(p, a->a);
	return PX_ADDR_UNSPECIFIED;
}

/* Parses the "/LEN" suffix strictly: digits only, at most max. Returns the length or -1. */
static int
parse_plen(const char *s, unsigned max)
{
	char *end;
	unsigned long v;

	/* No sign, no spaces, no leading zeros: "/024" is more likely a typo than a /24. */
	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > max)
		return -1;
	return (int)v;
}

int
px_addr_policy_add(struct px_addr_policy *p, const char *cidr)
{
	char buf[64];
	const char *slash = strchr(cidr, '/');
	size_t alen = slash != NULL ? (size_t)(slash - cidr) : strlen(cidr);
	uint8_t a6[16];
	uint32_t a4;
	int plen;

	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, cidr, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		plen = slash != NULL ? parse_plen(slash + 1, 32) : 32;
		if (plen < 0)
			return -EINVAL;
		uint32_t mask = plen == 0 ? 0 : 0xffffffffu << (32 - plen);
		uint32_t net = ntohl(a4);

		if ((net & ~mask) != 0)
			return -EINVAL;
		if (p->net4_count >= PX_ADDR_MAX_NETS)
			return -ENOSPC;
		p->net4[p->net4_count++] = (struct px_addr_net4){.net = net, .mask = mask};
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a6) == 1) {
		plen = slash != NULL ? parse_plen(slash + 1, 128) : 128;
		if (plen < 0)
			return -EINVAL;
		/* Host bits must be clear. */
		for (int bit = plen; bit < 128; bit++)
			if (a6[bit / 8] & (0x80 >> (bit % 8)))
				return -EINVAL;
		if (p->net6_count >= PX_ADDR_MAX_NETS)
			return -ENOSPC;
		struct px_addr_net6 *n = &p->net6[p->net6_count++];

		memcpy(n->net, a6, 16);
		n->plen = (uint8_t)plen;
		return 0;
	}
	return -EINVAL;
}
