/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The root hints loader against a corpus of hints files (tests/unit/hints/, plus the binary
 * and oversized ones generated here), each with its exact verdict. Pure code: no EAL (rte_log
 * works without it), forked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_log.h>

#include <check.h>
#include <ldns/sha2.h>

#include <pollux/addr_policy.h>
#include <pollux/hints.h>

#include "ctl_hints.h"

#ifndef PX_SOURCE_ROOT
#error "PX_SOURCE_ROOT must name the source tree (tests/meson.build sets it)"
#endif
#define CORPUS PX_SOURCE_ROOT "/tests/unit/hints/"
#define NAMED_ROOT PX_SOURCE_ROOT "/control/named.root"

static struct px_addr_policy pol;
static struct ctl_hints_report rep;
static struct px_hints *table;
static char tmp[64];
static char want[CTL_HINTS_REASONS_LEN];

static void
setup(void)
{
	px_addr_policy_init(&pol);
	memset(&rep, 0xa5, sizeof(rep)); /* the loader must clear it */
	table = NULL;
	tmp[0] = '\0';
}

static void
teardown(void)
{
	free(table);
	if (tmp[0] != '\0')
		unlink(tmp);
}

/* Formats the expected reasons into want. */
static const char *__attribute__((format(printf, 1, 2)))
expect(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	return want;
}

static struct px_hints *
load(const char *file, unsigned min_usable)
{
	char path[512];

	snprintf(path, sizeof(path), CORPUS "%s", file);
	table = ctl_hints_load_file(path, &pol, min_usable, &rep);
	return table;
}

/* Asserts a rejection: NULL, errno, and the whole reasons text. */
static void
assert_rejected(const struct px_hints *h, int err, const char *reasons)
{
	int e = errno;

	ck_assert_ptr_null(h);
	ck_assert_msg(e == err, "errno %d (%s), want %d", e, strerror(e), err);
	ck_assert_str_eq(rep.reasons, reasons);
}

static void
assert_accepted(const struct px_hints *h)
{
	ck_assert_msg(h != NULL, "rejected (%s): %s", strerror(errno), rep.reasons);
	ck_assert_str_eq(rep.reasons, "");
	ck_assert_uint_eq(h->generation, 0);
	ck_assert_uint_eq(h->checksum, px_hints_checksum(h));
	for (uint32_t i = 0; i < h->ns_count; i++)
		ck_assert_uint_gt(px_hints_ns_addr_count(&h->ns[i]), 0);
}

/* Writes len bytes to a new temporary file, removed by teardown(). */
static const char *
tmp_file(const void *data, size_t len)
{
	FILE *f;
	int fd;

	snprintf(tmp, sizeof(tmp), "/tmp/test_hints_XXXXXX");
	fd = mkstemp(tmp);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return tmp;
}

static uint8_t *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 20);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	*len = n;
	return buf;
}

static unsigned
wire(uint8_t *dst, const char *name)
{
	unsigned len = 0;

	while (*name != '\0' && strcmp(name, ".") != 0) {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);

		dst[len++] = (uint8_t)l;
		memcpy(dst + len, name, l);
		len += (unsigned)l;
		name += l + (dot != NULL);
	}
	dst[len++] = 0;
	return len;
}

static const struct px_hints_ns *
find_ns(const struct px_hints *h, const char *name)
{
	uint8_t w[PX_DNS_MAX_NAME];
	unsigned len = wire(w, name);

	for (uint32_t i = 0; i < h->ns_count; i++)
		if (h->ns[i].name_len == len && memcmp(h->ns[i].name, w, len) == 0)
			return &h->ns[i];
	return NULL;
}

static void
assert_ns(const struct px_hints_ns *ns, const char *name, const char *v4, const char *v6)
{
	uint8_t w[PX_DNS_MAX_NAME], a6[16];
	unsigned len = wire(w, name);
	uint32_t a4;

	ck_assert_ptr_nonnull(ns);
	ck_assert_uint_eq(ns->name_len, len);
	ck_assert_mem_eq(ns->name, w, len);
	ck_assert_uint_eq(ns->v4_count, v4 != NULL);
	ck_assert_uint_eq(ns->v6_count, v6 != NULL);
	if (v4 != NULL) {
		ck_assert_int_eq(inet_pton(AF_INET, v4, &a4), 1);
		ck_assert_uint_eq(ns->addr[0].family, PX_AF_INET);
		ck_assert_uint_eq(px_addr_v4(&ns->addr[0]), a4);
	}
	if (v6 != NULL) {
		ck_assert_int_eq(inet_pton(AF_INET6, v6, a6), 1);
		ck_assert_uint_eq(ns->addr[ns->v4_count].family, PX_AF_INET6);
		ck_assert_mem_eq(ns->addr[ns->v4_count].a, a6, 16);
	}
}

static void
sha256_hex(char out[65], const uint8_t *buf, size_t len)
{
	unsigned char d[LDNS_SHA256_DIGEST_LENGTH];

	ldns_sha256(buf, (unsigned int)len, d);
	for (int i = 0; i < LDNS_SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static const char *const iana[13][3] = {
	{"a.root-servers.net.", "198.41.0.4", "2001:503:ba3e::2:30"},
	{"b.root-servers.net.", "170.247.170.2", "2801:1b8:10::b"},
	{"c.root-servers.net.", "192.33.4.12", "2001:500:2::c"},
	{"d.root-servers.net.", "199.7.91.13", "2001:500:2d::d"},
	{"e.root-servers.net.", "192.203.230.10", "2001:500:a8::e"},
	{"f.root-servers.net.", "192.5.5.241", "2001:500:2f::f"},
	{"g.root-servers.net.", "192.112.36.4", "2001:500:12::d0d"},
	{"h.root-servers.net.", "198.97.190.53", "2001:500:1::53"},
	{"i.root-servers.net.", "192.36.148.17", "2001:7fe::53"},
	{"j.root-servers.net.", "192.58.128.30", "2001:503:c27::2:30"},
	{"k.root-servers.net.", "193.0.14.129", "2001:7fd::1"},
	{"l.root-servers.net.", "199.7.83.42", "2001:500:9f::42"},
	{"m.root-servers.net.", "202.12.27.33", "2001:dc3::35"},
};

static void
assert_iana(const struct px_hints *h)
{
	assert_accepted(h);
	ck_assert_uint_eq(h->ns_count, 13);
	ck_assert_uint_eq(h->ttl, 3600000);
	for (int i = 0; i < 13; i++)
		assert_ns(&h->ns[i], iana[i][0], iana[i][1], iana[i][2]);
	ck_assert_uint_eq(rep.ns_count, 13);
	ck_assert_uint_eq(rep.ns_usable, 13);
	ck_assert_uint_eq(rep.addr_count, 26);
	ck_assert_uint_eq(rep.addr_rejected, 0);
	for (int r = 0; r < PX_ADDR_REASON_COUNT; r++)
		ck_assert_uint_eq(rep.rejected[r], 0);
}

START_TEST(test_ctl_hints_parse_iana)
{
	size_t len;
	uint8_t *buf = read_all(NAMED_ROOT, &len);
	char sha[65];

	table = ctl_hints_load_file(NAMED_ROOT, &pol, 13, &rep);
	assert_iana(table);
	ck_assert_uint_eq(rep.size, len);
	sha256_hex(sha, buf, len);
	ck_assert_str_eq(rep.sha256, sha);
	/* The file is what its header says. */
	ck_assert_ptr_nonnull(memmem(buf, len, "last update:     May 21, 2026", 29));
	ck_assert_ptr_nonnull(memmem(buf, len, "related version of root zone:     2026052101", 44));
	free(buf);
}
END_TEST

START_TEST(test_ctl_hints_parse_builtin)
{
	size_t len;
	uint8_t *buf = read_all(NAMED_ROOT, &len);
	struct px_hints *file;

	ck_assert_uint_eq(ctl_builtin_hints_len, len);
	ck_assert_mem_eq(ctl_builtin_hints, buf, len);
	table = ctl_hints_parse("built-in", ctl_builtin_hints, ctl_builtin_hints_len, &pol, 1,
				&rep);
	assert_iana(table);
	file = ctl_hints_load_file(NAMED_ROOT, &pol, 1, &rep);
	ck_assert_ptr_nonnull(file);
	ck_assert_uint_eq(file->checksum, table->checksum);
	free(file);
	free(buf);
}
END_TEST

/* Random bytes from a fixed seed: the same garbage every run. */
START_TEST(test_ctl_hints_parse_binary)
{
	static const char nul[] = ". 3600000 NS a.root-servers.net.\n; fine\nbad\0 line\n";
	static const char ctl[] = ". 3600000 NS a.root-servers.net.\nx\x01y\n";
	static const char latin1[] = "; caf\xe9\n. 3600000 NS a.root-servers.net.\n";
	static const char utf8[] = "; caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n"
				   ". NS a.root-servers.net.\na.root-servers.net. A 198.41.0.4\n";
	uint8_t garbage[4096];
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < sizeof(garbage); i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		garbage[i] = (uint8_t)(x >> 32);
	}
	table = ctl_hints_load_file(tmp_file(garbage, sizeof(garbage)), &pol, 1, &rep);
	assert_rejected(table, EINVAL, expect("%s:1: binary data (invalid UTF-8)", tmp));
	ck_assert_uint_eq(rep.size, sizeof(garbage));
	ck_assert_uint_eq(strlen(rep.sha256), 64);

	table = ctl_hints_parse("nul", (const uint8_t *)nul, sizeof(nul) - 1, &pol, 1, &rep);
	assert_rejected(table, EINVAL, "nul:3: binary data (a NUL byte)");
	table = ctl_hints_parse("ctl", (const uint8_t *)ctl, sizeof(ctl) - 1, &pol, 1, &rep);
	assert_rejected(table, EINVAL, "ctl:2: binary data (control byte 0x01)");
	table = ctl_hints_parse("latin1", (const uint8_t *)latin1, sizeof(latin1) - 1, &pol, 1,
				&rep);
	assert_rejected(table, EINVAL, "latin1:1: binary data (invalid UTF-8)");
	/* UTF-8 text in a comment is text. */
	table = ctl_hints_parse("utf8", (const uint8_t *)utf8, sizeof(utf8) - 1, &pol, 1, &rep);
	assert_accepted(table);
}
END_TEST

START_TEST(test_ctl_hints_parse_truncated)
{
	assert_rejected(load("truncated.root", 1), EINVAL,
			CORPUS "truncated.root:10: Syntax error, could not parse the RR's rdata");
	ck_assert_uint_eq(rep.size, 604);
}
END_TEST

START_TEST(test_ctl_hints_parse_syntax)
{
	static const char *const cases[][2] = {
		{". 3600000 NS a.root-servers.net.\na.root-servers.net. A 198.41.0.999\n",
		 "mem:2: Syntax error, could not parse the RR's rdata"},
		{". 3600000 NS a.root-servers.net.\na.root-servers.net. 3600000 AA",
		 "mem:2: unknown record type"},
		{". 3600000 NS a.root-servers.net.\n$INCLUDE /etc/passwd\n",
		 "mem:2: $INCLUDE is not supported"},
		{"\t3600000 NS a.root-servers.net.\n", "mem:1: record with no owner name"},
		{". 3600000 NS a.root-servers.net.\na.root-servers.net. A \\# 3 010203\n",
		 "mem:2: Packet size overflow"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		table = ctl_hints_parse("mem", (const uint8_t *)cases[i][0], strlen(cases[i][0]),
					&pol, 1, &rep);
		assert_rejected(table, EINVAL, cases[i][1]);
	}
}
END_TEST

START_TEST(test_ctl_hints_parse_wrong_class)
{
	assert_rejected(load("wrong_class.root", 1), EINVAL,
			CORPUS "wrong_class.root:3: class CH is not allowed in hints (only IN)");
}
END_TEST

START_TEST(test_ctl_hints_parse_wrong_type)
{
	assert_rejected(
		load("wrong_type.root", 1), EINVAL,
		CORPUS "wrong_type.root:4: type SOA is not allowed in hints (only NS, A and AAAA)");
}
END_TEST

/* A type hints never hold is refused from its type token, whatever its rdata: ldns's rdata
 * parsers (which leak on some CERT lines) never see it. Each rdata here is one ldns would
 * reject, or leak on, so an error naming anything but the type means ldns read it. */
START_TEST(test_ctl_hints_parse_type_before_rdata)
{
	static const char *const cases[][2] = {
		{". 3600000 NS a.root-servers.net.\na.root-servers.net. 3600 IN CERT 0 0 0 AA==\n",
		 "mem:2: type CERT is not allowed in hints (only NS, A and AAAA)"},
		{". 3600000 NS a.root-servers.net.\na.root-servers.net. MX not-a-number\n",
		 "mem:2: type MX is not allowed in hints (only NS, A and AAAA)"},
		{". 3600000 NS a.root-servers.net.\n  IN 3600 TXT (\"unterminated\n",
		 "mem:2: type TXT is not allowed in hints (only NS, A and AAAA)"},
		{"$TTL 3600\n; comment\n. NS a.root-servers.net.\nx. CH 5 CERT (\n 0 0 0\n )\n",
		 "mem:6: type CERT is not allowed in hints (only NS, A and AAAA)"},
		{". 3600000 NS a.root-servers.net.\n$OR 3600 IN CERT 0 0 0 AA==\n",
		 "mem:2: type CERT is not allowed in hints (only NS, A and AAAA)"},
		{". 3600000 NS a.root-servers.net.\n\"x CERT\" A 1.2.3.4\n",
		 "mem:2: quote or parenthesis before the record's type"},
		{". 3600000 NS a.root-servers.net.\n$TTLX CERT 0 0 0 AA==\n",
		 "mem:2: type CERT is not allowed in hints (only NS, A and AAAA)"},
		{". 3600000 NS a.root-servers.net.\na\\ b. 7 TYPE65280 \\# 0",
		 "mem:2: type TYPE65280 is not allowed in hints (only NS, A and AAAA)"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		table = ctl_hints_parse("mem", (const uint8_t *)cases[i][0], strlen(cases[i][0]),
					&pol, 1, &rep);
		assert_rejected(table, EINVAL, cases[i][1]);
	}
}
END_TEST

START_TEST(test_ctl_hints_parse_ns_no_address)
{
	assert_rejected(load("ns_no_address.root", 1), EINVAL,
			CORPUS "ns_no_address.root:3: NS c.root-servers.net. has no address record");
}
END_TEST

START_TEST(test_ctl_hints_parse_addr_without_ns)
{
	assert_rejected(
		load("addr_without_ns.root", 1), EINVAL,
		CORPUS "addr_without_ns.root:4: address for x.root-servers.net., which no root NS "
		       "names\n" CORPUS "addr_without_ns.root:5: address for "
		       "x.root-servers.net., which no root NS names");
}
END_TEST

START_TEST(test_ctl_hints_parse_zero_only)
{
	assert_rejected(load("zero_only.root", 1), EINVAL,
			CORPUS "zero_only.root: only 0 of 1 root servers have a usable address; at "
			       "least 1 needed");
	ck_assert_uint_eq(rep.ns_count, 1);
	ck_assert_uint_eq(rep.ns_usable, 0);
	ck_assert_uint_eq(rep.addr_count, 1);
	ck_assert_uint_eq(rep.addr_rejected, 1);
	ck_assert_uint_eq(rep.rejected[PX_ADDR_UNSPECIFIED], 1);
}
END_TEST

START_TEST(test_ctl_hints_parse_all_invalid)
{
	static const uint32_t want_rej[PX_ADDR_REASON_COUNT] = {
		[PX_ADDR_UNSPECIFIED] = 2, [PX_ADDR_LOOPBACK] = 2, [PX_ADDR_BROADCAST] = 1,
		[PX_ADDR_MULTICAST] = 2,   [PX_ADDR_RESERVED] = 1, [PX_ADDR_V4MAPPED] = 1,
		[PX_ADDR_LINK_LOCAL] = 1,
	};

	assert_rejected(load("all_invalid.root", 1), EINVAL,
			CORPUS "all_invalid.root: only 0 of 2 root servers have a usable address; "
			       "at least 1 needed");
	ck_assert_uint_eq(rep.addr_count, 10);
	ck_assert_uint_eq(rep.addr_rejected, 10);
	for (int r = 0; r < PX_ADDR_REASON_COUNT; r++)
		ck_assert_msg(rep.rejected[r] == want_rej[r], "%s: %u, want %u",
			      px_addr_reason_name((enum px_addr_reason)r), rep.rejected[r],
			      want_rej[r]);
}
END_TEST

START_TEST(test_ctl_hints_parse_empty)
{
	static const char comments[] = "; nothing but comments\n$TTL 3600000\n\n";

	assert_rejected(load("empty.root", 1), EINVAL,
			CORPUS "empty.root: empty file: no root NS records");
	ck_assert_uint_eq(rep.size, 0);
	/* SHA-256 of nothing (FIPS 180-2 test vector). */
	ck_assert_str_eq(rep.sha256,
			 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	table = ctl_hints_parse("mem", (const uint8_t *)comments, sizeof(comments) - 1, &pol, 1,
				&rep);
	assert_rejected(table, EINVAL, "mem: no root NS records");
}
END_TEST

START_TEST(test_ctl_hints_parse_ns_owner)
{
	assert_rejected(load("ns_owner.root", 1), EINVAL,
			CORPUS "ns_owner.root:4: NS owned by com., not by the root");
}
END_TEST

START_TEST(test_ctl_hints_parse_duplicate)
{
	assert_rejected(load("duplicate.root", 1), EINVAL,
			CORPUS "duplicate.root:4: duplicate record, first at line 2\n" CORPUS
			       "duplicate.root:5: duplicate record, first at line 3");
}
END_TEST

START_TEST(test_ctl_hints_parse_crlf)
{
	size_t len;
	uint8_t *buf = read_all(CORPUS "crlf.root", &len);

	/* The file really has CRLF line ends (git must not have converted them). */
	ck_assert_ptr_nonnull(memmem(buf, len, "NET.\r\n", 6));
	ck_assert_ptr_null(memmem(buf, len, "\n\n", 2));
	free(buf);
	assert_accepted(load("crlf.root", 1));
	ck_assert_uint_eq(table->ns_count, 2);
	ck_assert_uint_eq(table->ttl, 3600000);
	assert_ns(&table->ns[0], "a.root-servers.net.", "198.41.0.4", "2001:503:ba3e::2:30");
	assert_ns(&table->ns[1], "b.root-servers.net.", "170.247.170.2", NULL);
}
END_TEST

START_TEST(test_ctl_hints_parse_too_big)
{
	size_t len = 10u << 20;
	uint8_t *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	/* Comment lines: valid text, so only the size can be the reason. */
	memset(buf, ';', len);
	for (size_t i = 79; i < len; i += 80)
		buf[i] = '\n';
	table = ctl_hints_load_file(tmp_file(buf, len), &pol, 1, &rep);
	assert_rejected(table, EFBIG,
			expect("%s: file is 10485760 bytes; the limit is 1048576", tmp));
	ck_assert_uint_eq(rep.size, len);
	ck_assert_str_eq(rep.sha256, "");
	table = ctl_hints_parse("mem", buf, len, &pol, 1, &rep);
	assert_rejected(table, EFBIG, "mem: file is 10485760 bytes; the limit is 1048576");
	/* One byte over the limit is over; at the limit it is read. */
	table = ctl_hints_parse("mem", buf, CTL_HINTS_MAX_FILE + 1, &pol, 1, &rep);
	assert_rejected(table, EFBIG, "mem: file is 1048577 bytes; the limit is 1048576");
	table = ctl_hints_parse("mem", buf, CTL_HINTS_MAX_FILE, &pol, 1, &rep);
	assert_rejected(table, EINVAL, "mem: no root NS records");
	free(buf);
}
END_TEST

START_TEST(test_ctl_hints_parse_mixed_case)
{
	assert_accepted(load("mixed_case.root", 1));
	ck_assert_uint_eq(table->ns_count, 2);
	/* In the file order of the NS records, whatever the order of the addresses. */
	assert_ns(&table->ns[0], "root-servers.net.", "198.18.0.1", NULL);
	assert_ns(&table->ns[1], "b.root-servers.net.", "170.247.170.2", "2801:1b8:10::b");
	/* The second NS has no TTL of its own and takes $TTL: the RRset's TTL is the least. */
	ck_assert_uint_eq(table->ttl, 518400);
	ck_assert_uint_eq(rep.addr_count, 3);
}
END_TEST

START_TEST(test_ctl_hints_parse_one_zero)
{
	assert_accepted(load("one_zero.root", 1));
	ck_assert_uint_eq(table->ns_count, 2);
	assert_ns(&table->ns[0], "a.root-servers.net.", "198.41.0.4", NULL);
	assert_ns(&table->ns[1], "c.root-servers.net.", "192.33.4.12", "2001:500:2::c");
	/* The server is gone, and 0.0.0.0 is nowhere in the table. */
	ck_assert_ptr_null(find_ns(table, "b.root-servers.net."));
	for (uint32_t i = 0; i < table->ns_count; i++)
		for (unsigned k = 0; k < table->ns[i].v4_count; k++)
			ck_assert_uint_ne(px_addr_v4(&table->ns[i].addr[k]), 0);
	ck_assert_uint_eq(rep.ns_count, 3);
	ck_assert_uint_eq(rep.ns_usable, 2);
	ck_assert_uint_eq(rep.addr_count, 4);
	ck_assert_uint_eq(rep.addr_rejected, 1);
	ck_assert_uint_eq(rep.rejected[PX_ADDR_UNSPECIFIED], 1);
}
END_TEST

START_TEST(test_ctl_hints_parse_min_usable)
{
	assert_rejected(load("three.root", 4), EINVAL,
			CORPUS "three.root: only 3 of 3 root servers have a usable address; at "
			       "least 4 needed");
	ck_assert_uint_eq(rep.ns_usable, 3);
	assert_accepted(load("three.root", 3));
	ck_assert_uint_eq(table->ns_count, 3);
	free(table);
	/* 0 means the default, 1: a table is never empty. */
	assert_accepted(load("three.root", 0));
	free(table);
	table = NULL;
	assert_rejected(load("zero_only.root", 0), EINVAL,
			CORPUS "zero_only.root: only 0 of 1 root servers have a usable address; at "
			       "least 1 needed");
}
END_TEST

START_TEST(test_ctl_hints_parse_do_not_query)
{
	ck_assert_int_eq(px_addr_policy_add(&pol, "170.247.170.0/24"), 0);
	assert_accepted(load("three.root", 2));
	ck_assert_uint_eq(table->ns_count, 2);
	ck_assert_ptr_null(find_ns(table, "b.root-servers.net."));
	ck_assert_uint_eq(rep.rejected[PX_ADDR_DO_NOT_QUERY], 1);
	free(table);
	assert_rejected(load("three.root", 3), EINVAL,
			CORPUS "three.root: only 2 of 3 root servers have a usable address; at "
			       "least 3 needed");
	/* An IPv6 block takes one family of a server and leaves it the other. */
	px_addr_policy_init(&pol);
	ck_assert_int_eq(px_addr_policy_add(&pol, "2001:500:2::/48"), 0);
	assert_accepted(load("three.root", 3));
	assert_ns(find_ns(table, "c.root-servers.net."), "c.root-servers.net.", "192.33.4.12",
		  NULL);
	ck_assert_uint_eq(rep.rejected[PX_ADDR_DO_NOT_QUERY], 1);
}
END_TEST

START_TEST(test_ctl_hints_parse_allow_loopback)
{
	assert_rejected(load("loopback.root", 1), EINVAL,
			CORPUS "loopback.root: only 0 of 1 root servers have a usable address; at "
			       "least 1 needed");
	ck_assert_uint_eq(rep.rejected[PX_ADDR_LOOPBACK], 1);
	pol.allow_loopback = true;
	assert_accepted(load("loopback.root", 1));
	assert_ns(&table->ns[0], "root.lab.", "127.0.0.1", NULL);
	ck_assert_uint_eq(rep.addr_rejected, 0);
}
END_TEST

START_TEST(test_ctl_hints_parse_limits)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	for (int i = 0; i <= PX_HINTS_MAX_NS; i++)
		len += (size_t)snprintf(buf + len, cap - len, ". NS s%d.test.\ns%d.test. A 192.0.2.%d\n",
					i, i, i + 1);
	table = ctl_hints_parse("mem", (const uint8_t *)buf, len, &pol, 1, &rep);
	assert_rejected(table, EINVAL, "mem:129: more than 64 root NS records");
	/* Exactly 64 servers is fine. */
	len = 0;
	for (int i = 0; i < PX_HINTS_MAX_NS; i++)
		len += (size_t)snprintf(buf + len, cap - len, ". NS s%d.test.\ns%d.test. A 192.0.2.%d\n",
					i, i, i + 1);
	table = ctl_hints_parse("mem", (const uint8_t *)buf, len, &pol, 64, &rep);
	assert_accepted(table);
	ck_assert_uint_eq(table->ns_count, 64);
	free(table);
	table = NULL;
	/* Nine addresses of one family for one server. */
	len = (size_t)snprintf(buf, cap, ". NS a.test.\n");
	for (int i = 0; i <= PX_HINTS_MAX_ADDRS; i++)
		len += (size_t)snprintf(buf + len, cap - len, "a.test. AAAA 2001:db8::%d\n", i + 1);
	table = ctl_hints_parse("mem", (const uint8_t *)buf, len, &pol, 1, &rep);
	assert_rejected(table, EINVAL, "mem:10: more than 8 IPv6 addresses for a.test.");
	/* Eight of each is fine. */
	len = (size_t)snprintf(buf, cap, ". NS a.test.\n");
	for (int i = 0; i < PX_HINTS_MAX_ADDRS; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"a.test. AAAA 2001:db8::%d\na.test. A 192.0.2.%d\n", i + 1,
					i + 1);
	table = ctl_hints_parse("mem", (const uint8_t *)buf, len, &pol, 1, &rep);
	assert_accepted(table);
	ck_assert_uint_eq(table->ns[0].v4_count, 8);
	ck_assert_uint_eq(table->ns[0].v6_count, 8);
	/* However the file mixes them: IPv4 first, each family in file order, no ports. */
	for (unsigned k = 0; k < 2 * PX_HINTS_MAX_ADDRS; k++) {
		const struct px_addr *a = &table->ns[0].addr[k];
		char expect[64], got[64];

		if (k < PX_HINTS_MAX_ADDRS)
			snprintf(expect, sizeof(expect), "192.0.2.%u", k + 1);
		else
			snprintf(expect, sizeof(expect), "2001:db8::%u", k - PX_HINTS_MAX_ADDRS + 1);
		ck_assert_uint_eq(a->family, k < PX_HINTS_MAX_ADDRS ? PX_AF_INET : PX_AF_INET6);
		ck_assert_uint_eq(a->port, 0);
		inet_ntop(a->family == PX_AF_INET ? AF_INET : AF_INET6, a->a, got, sizeof(got));
		ck_assert_str_eq(got, expect);
	}
	free(buf);
}
END_TEST

START_TEST(test_ctl_hints_parse_many_reasons)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	for (int i = 0; i < 15; i++)
		len += (size_t)snprintf(buf + len, cap - len, ". CH NS s%d.test.\n", i);
	table = ctl_hints_parse("mem", (const uint8_t *)buf, len, &pol, 1, &rep);
	ck_assert_ptr_null(table);
	ck_assert_str_eq(rep.reasons, "mem:1: class CH is not allowed in hints (only IN)\n"
				      "mem:2: class CH is not allowed in hints (only IN)\n"
				      "mem:3: class CH is not allowed in hints (only IN)\n"
				      "mem:4: class CH is not allowed in hints (only IN)\n"
				      "mem:5: class CH is not allowed in hints (only IN)\n"
				      "mem:6: class CH is not allowed in hints (only IN)\n"
				      "mem:7: class CH is not allowed in hints (only IN)\n"
				      "mem:8: class CH is not allowed in hints (only IN)\n"
				      "mem:9: class CH is not allowed in hints (only IN)\n"
				      "mem:10: class CH is not allowed in hints (only IN)\n"
				      "mem: 5 more not shown");
	free(buf);
}
END_TEST

/* Rejected addresses are logged one event each, at most 20 per load, then one count. */
START_TEST(test_ctl_hints_parse_log_rate_limit)
{
	size_t cap = 8192, len, log_len = 0;
	char *buf = malloc(cap), *log = NULL, *line;
	FILE *old = rte_log_get_stream(), *mem = open_memstream(&log, &log_len);
	unsigned events = 0;

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(mem);
	len = (size_t)snprintf(buf, cap, ". NS good.test.\ngood.test. A 192.0.2.1\n");
	for (int s = 0; s < 4; s++) {
		len += (size_t)snprintf(buf + len, cap - len, ". NS bad%d.test.\n", s);
		for (int i = 0; i < 8; i++)
			len += (size_t)snprintf(buf + len, cap - len, "bad%d.test. A 0.0.0.%d\n", s,
						i + 1);
	}
	rte_openlog_stream(mem);
	table = ctl_hints_parse("mem", (const uint8_t *)buf, len, &pol, 1, &rep);
	rte_openlog_stream(old);
	fclose(mem);
	assert_accepted(table);
	ck_assert_uint_eq(table->ns_count, 1);
	ck_assert_uint_eq(rep.addr_rejected, 32);
	ck_assert_uint_eq(rep.rejected[PX_ADDR_UNSPECIFIED], 32);
	ck_assert_ptr_nonnull(strstr(log, "hints_addr_rejected zone=. ns=bad0.test. addr=0.0.0.1 "
					  "reason=unspecified source=mem\n"));
	ck_assert_ptr_nonnull(strstr(log, "hints_addr_rejected zone=. ns=bad2.test. addr=0.0.0.4 "
					  "reason=unspecified source=mem\n"));
	/* The 21st rejected address (bad2's fifth) is counted, not logged. */
	ck_assert_ptr_null(strstr(log, "ns=bad2.test. addr=0.0.0.5 "));
	for (line = log; (line = strstr(line, "hints_addr_rejected zone=")) != NULL; line++)
		events++;
	ck_assert_uint_eq(events, 20);
	ck_assert_ptr_nonnull(strstr(log, "hints_addr_rejected_suppressed zone=. count=12 "
					  "source=mem\n"));
	free(log);
	free(buf);
}
END_TEST

START_TEST(test_ctl_hints_parse_missing)
{
	table = ctl_hints_load_file("/nonexistent/named.root", &pol, 1, &rep);
	assert_rejected(table, ENOENT, "/nonexistent/named.root: cannot open: No such file or "
				       "directory");
	ck_assert_uint_eq(rep.size, 0);
	ck_assert_str_eq(rep.sha256, "");
	table = ctl_hints_load_file(PX_SOURCE_ROOT "/tests/unit/hints", &pol, 1, &rep);
	assert_rejected(table, EISDIR, PX_SOURCE_ROOT "/tests/unit/hints: cannot read: Is a "
						      "directory");
	table = ctl_hints_load_file("/dev/null", &pol, 1, &rep);
	assert_rejected(table, EINVAL, "/dev/null: not a regular file");
}
END_TEST

START_TEST(test_ctl_hints_parse_unreadable)
{
	static const char text[] = ". NS a.test.\na.test. A 192.0.2.1\n";

	if (geteuid() == 0)
		return; /* root reads whatever the mode says */
	tmp_file(text, sizeof(text) - 1);
	ck_assert_int_eq(chmod(tmp, 0), 0);
	table = ctl_hints_load_file(tmp, &pol, 1, &rep);
	assert_rejected(table, EACCES, expect("%s: cannot open: Permission denied", tmp));
}
END_TEST

/* pollux never writes to the hints file: same bytes, same mtime, after good and bad loads. */
START_TEST(test_ctl_hints_parse_never_writes)
{
	static const char bad[] = ". NS a.test.\n";
	size_t len, after_len;
	uint8_t *buf = read_all(NAMED_ROOT, &len), *after;
	struct stat before, st;

	tmp_file(buf, len);
	ck_assert_int_eq(chmod(tmp, 0444), 0);
	ck_assert_int_eq(stat(tmp, &before), 0);
	usleep(20000); /* so that a write would show in the mtime */
	table = ctl_hints_load_file(tmp, &pol, 1, &rep);
	assert_accepted(table);
	ck_assert_int_eq(stat(tmp, &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_sec, before.st_mtim.tv_sec);
	ck_assert_int_eq(st.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	ck_assert_int_eq(st.st_size, before.st_size);
	after = read_all(tmp, &after_len);
	ck_assert_uint_eq(after_len, len);
	ck_assert_mem_eq(after, buf, len);
	free(after);
	free(buf);
	free(table);
	table = NULL;
	unlink(tmp);

	tmp_file(bad, sizeof(bad) - 1);
	ck_assert_int_eq(stat(tmp, &before), 0);
	usleep(20000);
	ck_assert_ptr_null(ctl_hints_load_file(tmp, &pol, 1, &rep));
	ck_assert_int_eq(stat(tmp, &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	ck_assert_int_eq(st.st_size, sizeof(bad) - 1);
}
END_TEST

/* px_hints_ns_add: IPv4 goes before every IPv6 address, the port is dropped, and each family
 * has its own limit. */
START_TEST(test_ctl_hints_parse_ns_add)
{
	struct px_hints_ns ns;
	struct px_addr a;
	uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};

	memset(&ns, 0, sizeof(ns));
	for (unsigned k = 0; k < PX_HINTS_MAX_ADDRS; k++) {
		v6[15] = (uint8_t)k;
		px_addr_set6(&a, v6, 53);
		ck_assert_int_eq(px_hints_ns_add(&ns, &a), 0);
		px_addr_set4(&a, htonl(0xc0000200u + k), 53);
		ck_assert_int_eq(px_hints_ns_add(&ns, &a), 0);
	}
	ck_assert_int_eq(px_hints_ns_add(&ns, &a), -ENOSPC);
	px_addr_set6(&a, v6, 0);
	ck_assert_int_eq(px_hints_ns_add(&ns, &a), -ENOSPC);
	a.family = PX_AF_NONE;
	ck_assert_int_eq(px_hints_ns_add(&ns, &a), -EINVAL);
	ck_assert_uint_eq(ns.v4_count, PX_HINTS_MAX_ADDRS);
	ck_assert_uint_eq(ns.v6_count, PX_HINTS_MAX_ADDRS);
	for (unsigned k = 0; k < PX_HINTS_MAX_ADDRS; k++) {
		const struct px_addr *x4 = &ns.addr[k], *x6 = &ns.addr[PX_HINTS_MAX_ADDRS + k];

		ck_assert_uint_eq(x4->family, PX_AF_INET);
		ck_assert_uint_eq(px_addr_v4(x4), htonl(0xc0000200u + k));
		ck_assert_uint_eq(x6->family, PX_AF_INET6);
		ck_assert_uint_eq(x6->a[15], k);
		ck_assert_uint_eq(x4->port, 0);
		ck_assert_uint_eq(x6->port, 0);
	}
}
END_TEST

#define ADD_CASE(s, behaviour)                                                                   \
	do {                                                                                     \
		TCase *tc = tcase_create(#behaviour);                                            \
		tcase_add_checked_fixture(tc, setup, teardown);                                  \
		tcase_add_test(tc, test_ctl_hints_parse_##behaviour);                            \
		suite_add_tcase(s, tc);                                                          \
	} while (0)

Suite *hints_suite(void);

Suite *
hints_suite(void)
{
	Suite *s = suite_create("hints");

	ADD_CASE(s, iana);
	ADD_CASE(s, builtin);
	ADD_CASE(s, binary);
	ADD_CASE(s, truncated);
	ADD_CASE(s, syntax);
	ADD_CASE(s, wrong_class);
	ADD_CASE(s, type_before_rdata);
	ADD_CASE(s, wrong_type);
	ADD_CASE(s, ns_no_address);
	ADD_CASE(s, addr_without_ns);
	ADD_CASE(s, zero_only);
	ADD_CASE(s, all_invalid);
	ADD_CASE(s, empty);
	ADD_CASE(s, ns_owner);
	ADD_CASE(s, duplicate);
	ADD_CASE(s, crlf);
	ADD_CASE(s, too_big);
	ADD_CASE(s, mixed_case);
	ADD_CASE(s, one_zero);
	ADD_CASE(s, min_usable);
	ADD_CASE(s, do_not_query);
	ADD_CASE(s, allow_loopback);
	ADD_CASE(s, limits);
	ADD_CASE(s, many_reasons);
	ADD_CASE(s, log_rate_limit);
	ADD_CASE(s, missing);
	ADD_CASE(s, unreadable);
	ADD_CASE(s, never_writes);
	ADD_CASE(s, ns_add);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(hints_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
