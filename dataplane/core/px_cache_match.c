/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <pollux/cache_match.h>

static inline uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Length bytes are at most 63, below 'A': lower-casing a whole wire name leaves them alone. */
static bool
name_eq_nocase(const uint8_t *a, const uint8_t *b, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

int
px_name_labels(const uint8_t *name, unsigned len)
{
	unsigned off = 0;
	int labels = 0;

	if (name == NULL || len == 0 || len > PX_DNS_MAX_NAME)
		return -1;
	while (off < len) {
		uint8_t l = name[off];

		if (l == 0)
			return off + 1 == len ? labels : -1;
		if (l > PX_DNS_MAX_LABEL)
			return -1;
		off += 1u + l;
		labels++;
	}
	return -1;
}

bool
px_name_at_or_below(const uint8_t *name, unsigned len, const uint8_t *zone, unsigned zone_len)
{
	unsigned off = 0;

	if (zone_len > len)
		return false;
	/* Only the suffix that starts on a label boundary of name can be the zone: walking the
	 * labels is what keeps "badexample.com" from matching "example.com". */
	while (len - off > zone_len && name[off] != 0)
		off += 1u + name[off];
	return len - off == zone_len && name_eq_nocase(name + off, zone, zone_len);
}

int
px_flush_spec_init(struct px_flush_spec *s, enum px_flush_scope scope, const uint8_t *name,
		   unsigned name_len, int qtype)
{
	memset(s, 0, sizeof(*s));
	if (qtype != PX_FLUSH_ANY_TYPE && (qtype < 0 || qtype > UINT16_MAX || scope != PX_FLUSH_NAME))
		return -EINVAL;
	s->scope = (uint8_t)scope;
	s->any_type = qtype == PX_FLUSH_ANY_TYPE;
	s->qtype = s->any_type ? 0 : (uint16_t)qtype;
	switch (scope) {
	case PX_FLUSH_ALL:
		return 0;
	case PX_FLUSH_NAME:
	case PX_FLUSH_ZONE:
		if (px_name_labels(name, name_len) < 0)
			return -EINVAL;
		for (unsigned i = 0; i < name_len; i++)
			s->name[i] = lower(name[i]);
		s->name_len = (uint8_t)name_len;
		return 0;
	}
	return -EINVAL;
}

bool
px_flush_match(const struct px_flush_spec *s, const uint8_t *name, uint8_t name_len,
	       uint16_t qtype)
{
	switch (s->scope) {
	case PX_FLUSH_ALL:
		return true;
	case PX_FLUSH_NAME:
		return name_len == s->name_len && (s->any_type || qtype == s->qtype) &&
		       name_eq_nocase(name, s->name, name_len);
	case PX_FLUSH_ZONE:
		return px_name_at_or_below(name, name_len, s->name, s->name_len);
	default:
		return false;
	}
}
