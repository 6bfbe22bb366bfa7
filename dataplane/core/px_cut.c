/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bytes of a cached delegation: encoding and decoding. See pollux/cut.h.
 */
#include <errno.h>
#include <string.h>

#include <pollux/cut.h>

/* Bytes one server takes: name_len, name, addr_count, addresses. */
static unsigned
ns_size(unsigned name_len, const struct px_addr *a, unsigned n)
{
	unsigned sz = 2 + name_len;

	for (unsigned i = 0; i < n; i++)
		sz += 1u + px_addr_len(a[i].family);
	return sz;
}

/* Appends one server if it fits whole. Returns false when it does not. */
static bool
put_ns(uint8_t *buf, uint16_t cap, uint16_t *len, const uint8_t *name, unsigned name_len,
       const struct px_addr *a, unsigned n)
{
	unsigned pos = *len;

	if (pos + ns_size(name_len, a, n) > cap)
		return false;
	buf[pos++] = (uint8_t)name_len;
	memcpy(buf + pos, name, name_len);
	pos += name_len;
	buf[pos++] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		unsigned alen = px_addr_len(a[i].family);

		buf[pos++] = a[i].family;
		memcpy(buf + pos, a[i].a, alen);
		pos += alen;
	}
	*len = (uint16_t)pos;
	return true;
}

uint16_t
px_cut_encode(uint8_t *buf, uint16_t cap, const struct px_resolver_cut *cut, uint16_t *ns_count)
{
	uint16_t len = 0;

	*ns_count = 0;
	for (unsigned i = 0; i < cut->ns_count; i++) {
		const struct px_resolver_ns *ns = &cut->ns[i];
		struct px_addr keep[PX_RES_NS_ADDRS];
		bool child = false;
		unsigned n = 0;

		/* The name's own zone's addresses, when it gave any: the parent side's glue is
		 * a fallback of the resolution that learned both, and a later one that finds the
		 * child side failing looks the name up again (and so finds the glue again). */
		for (unsigned j = 0; j < ns->addr_count; j++)
			child |= ns->addr_side[j] == PX_RES_SIDE_CHILD;
		for (unsigned j = 0; j < ns->addr_count; j++)
			if (!child || ns->addr_side[j] == PX_RES_SIDE_CHILD)
				keep[n++] = ns->addr[j];

		/* Failed marks are this resolution's: a server that timed out once is kept. An
		 * unusable name (in zone without glue, glue rejected) is not worth a lookup. */
		if (n == 0 && ns->state != PX_RES_NS_GLUELESS && ns->state != PX_RES_NS_RESOLVING)
			continue;
		if (n == 0 && ns->name_len == 0)
			continue;
		if (!put_ns(buf, cap, &len, ns->name, ns->name_len, keep, n))
			break;
		(*ns_count)++;
	}
	return *ns_count > 0 ? len : 0;
}

uint16_t
px_cut_encode_hints(uint8_t *buf, uint16_t cap, const struct px_hints *h, uint16_t *ns_count)
{
	uint16_t len = 0;

	*ns_count = 0;
	for (uint32_t i = 0; i < h->ns_count && *ns_count < PX_RES_MAX_NS; i++) {
		const struct px_hints_ns *hn = &h->ns[i];
		/* IPv4 first, as the table holds them, and no more than a cut keeps. */
		unsigned n = px_hints_ns_addr_count(hn);

		if (n > PX_RES_NS_ADDRS)
			n = PX_RES_NS_ADDRS;
		if (n == 0)
			continue;
		if (!put_ns(buf, cap, &len, hn->name, hn->name_len, hn->addr, n))
			break;
		(*ns_count)++;
	}
	return *ns_count > 0 ? len : 0;
}

int
px_cut_decode(const uint8_t *p, unsigned len, const uint8_t *zone, uint8_t zone_len,
	      struct px_resolver_start_buf *out)
{
	unsigned pos = 0;

	memset(&out->sc, 0, sizeof(out->sc));
	out->sc.zone = zone;
	out->sc.zone_len = zone_len;
	out->sc.ns = out->ns;
	while (pos < len) {
		struct px_resolver_start_ns *ns;
		unsigned nlen, n;

		if (out->sc.ns_count == PX_RES_MAX_NS)
			return -EINVAL;
		ns = &out->ns[out->sc.ns_count];
		nlen = p[pos++];
		if (nlen > PX_DNS_MAX_NAME || pos + nlen + 1 > len)
			return -EINVAL;
		ns->name = p + pos;
		ns->name_len = (uint8_t)nlen;
		pos += nlen;
		n = p[pos++];
		if (n > PX_RES_NS_ADDRS)
			return -EINVAL;
		for (unsigned i = 0; i < n; i++) {
			unsigned alen;
			uint8_t family;

			if (pos >= len)
				return -EINVAL;
			family = p[pos++];
			alen = px_addr_len(family);
			if (alen == 0 || pos + alen > len)
				return -EINVAL;
			px_addr_set(&out->addr[out->sc.ns_count][i], family, p + pos, 0);
			pos += alen;
		}
		ns->addrs = out->addr[out->sc.ns_count];
		ns->addr_count = (uint8_t)n;
		out->sc.ns_count++;
	}
	return out->sc.ns_count > 0 ? 0 : -EINVAL;
}
