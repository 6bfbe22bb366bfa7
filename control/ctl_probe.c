/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl_probe.h"

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
	{"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12}, {"MX", 15}, {"TXT", 16},
	{"AAAA", 28}, {"DS", 43}, {"DNSKEY", 48},
};

static int
parse_type(const char *s, uint16_t *type)
{
	char *end;
	unsigned long v;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0) {
			*type = types[i].type;
			return 0;
		}
	if (strncasecmp(s, "TYPE", 4) != 0 || !isdigit((unsigned char)s[4]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s + 4, &end, 10);
	/* Meta types (OPT, the transfer and query-only ones) ask nothing a resolver answers. */
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535 || v == PX_DNS_TYPE_OPT ||
	    (v >= 128 && v <= 255))
		return -EINVAL;
	*type = (uint16_t)v;
	return 0;
}

static int
parse_name(const char *s, size_t n, struct ctl_probe_question *q)
{
	size_t len = 0, i = 0;

	if (n == 1 && s[0] == '.') {
		q->qname[0] = 0;
		q->qname_len = 1;
		return 0;
	}
	if (n > 0 && s[n - 1] == '.')
		n--;
	while (i < n) {
		size_t start = i;

		while (i < n && s[i] != '.')
			i++;
		size_t label = i - start;

		if (label == 0 || label > 63 || len + 1 + label + 1 > PX_DNS_MAX_NAME)
			return -EINVAL;
		q->qname[len++] = (uint8_t)label;
		for (size_t k = start; k < i; k++) {
			unsigned char c = (unsigned char)s[k];

			if (c <= ' ' || c >= 0x7f || c == '\\')
				return -EINVAL;
			q->qname[len++] = (uint8_t)tolower(c);
		}
		i++; /* the dot */
	}
	if (len == 0)
		return -EINVAL;
	q->qname[len++] = 0;
	q->qname_len = (uint8_t)len;
	return 0;
}

int
ctl_probe_parse(const char *text, struct ctl_probe_question *q, char *why, size_t why_len)
{
	const char *sp = strchr(text, ' ');
	size_t name_n = sp != NULL ? (size_t)(sp - text) : strlen(text);

	memset(q, 0, sizeof(*q));
	if (parse_name(text, name_n, q) != 0) {
		snprintf(why, why_len, "NAME is not a domain name (labels of 1-63 printable "
			 "characters, 255 octets at most)");
		return -EINVAL;
	}
	q->qtype = PX_DNS_TYPE_A;
	if (sp == NULL)
		return 0;
	while (*sp == ' ')
		sp++;
	if (strchr(sp, ' ') != NULL || parse_type(sp, &q->qtype) != 0) {
		snprintf(why, why_len, "expected NAME [TYPE], TYPE a mnemonic (A, NS, MX, ...) "
			 "or TYPEn");
		return -EINVAL;
	}
	return 0;
}
