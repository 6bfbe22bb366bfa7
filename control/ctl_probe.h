/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The health probe's question (--health-probe "NAME [TYPE]", default ". NS"): parsed from
 * text into wire form once, at configuration. Pure libc, so the config parser and its tests
 * use it without an EAL.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <pollux/wire.h>

struct ctl_probe_question {
	uint8_t qname[PX_DNS_NAME_BUF]; /* wire form, lower case */
	uint8_t qname_len;
	uint16_t qtype;
};

/*
 * Parses "NAME [TYPE]": NAME a domain name in presentation form (a final dot optional, "."
 * the root; no escapes), TYPE a mnemonic (A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, DS, DNSKEY),
 * or TYPEn, A when left out. Returns 0, or -EINVAL with the reason in why (which does not
 * repeat the text: the caller names it).
 */
int ctl_probe_parse(const char *text, struct ctl_probe_question *q, char *why, size_t why_len);
