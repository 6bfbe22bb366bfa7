/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Root hints are validated in steps, each on the whole file, so that a bad file is refused
 * whole and its reasons are all of one kind (a wrong-class record does not also show up as an
 * NS with no address):
 * 1. bytes: the size limit, then no binary data (control bytes, invalid UTF-8) anywhere;
 * 2. syntax: ctl_rrfile reads the file with ldns, relative names below the root;
 * 3. each record: class IN, type NS, A or AAAA, NS owned by the root;
 * 4. the NS set: at least one, at most PX_HINTS_MAX_NS;
 * 5. across records: no duplicates, every address owned by an NS target, at most
 *    PX_HINTS_MAX_ADDRS addresses per family and server, an address for every NS target;
 * 6. the address policy: rejected addresses are counted, logged and left out, and at least
 *    min_usable servers must keep one. Only then is the table built.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_log.h>

#include <ldns/ldns.h>
#include <ldns/sha2.h>

#include <pollux/addr_policy.h>
#include <pollux/hints.h>
#include <pollux/wire.h>

#include "ctl_hints.h"
#include "ctl_rrfile.h"

RTE_LOG_REGISTER(ctl_hints_logtype, pollux.ctl.hints, INFO);
#define HINTS_LOG(level, ...) rte_log(RTE_LOG_##level, ctl_hints_logtype, __VA_ARGS__)

/* Rejected addresses logged per load; the rest are counted in one last line. */
#define HINTS_LOG_MAX 20
/* Reasons listed per rejected file; one last line says how many more there were. */
#define HINTS_REASONS_MAX 10
#define HINTS_REASON_LEN 512

/* One root server while the file is checked. */
struct hints_ns {
	const struct ctl_rr *rr; /* its NS record; rdata is the lower-cased target */
	unsigned v4_records, v6_records;
	struct px_hints_ns out;
};

struct hints {
	const char *name;
	const struct px_addr_policy *pol;
	struct ctl_hints_report *rep;
	struct ctl_rrfile file;
	const struct ctl_rr **dup_of; /* per record: the first copy of it, or NULL */
	unsigned reason_count;
	unsigned logged, log_suppressed;
	unsigned ns_count;
	uint32_t ttl;
	struct hints_ns ns[PX_HINTS_MAX_NS];
};

/* Adds "NAME:LINE: reason" (line 0: "NAME: reason") to the report. Returns -EINVAL. */
static int __rte_format_printf(3, 4)
hints_reason(struct hints *h, unsigned line, const char *fmt, ...)
{
	char *reasons = h->rep->reasons;
	size_t used = strlen(reasons);
	char msg[HINTS_REASON_LEN];
	va_list ap;

	if (h->reason_count++ >= HINTS_REASONS_MAX)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line != 0)
		snprintf(reasons + used, CTL_HINTS_REASONS_LEN - used, "%s%s:%u: %s",
			 used != 0 ? "\n" : "", h->name, line, msg);
	else
		snprintf(reasons + used, CTL_HINTS_REASONS_LEN - used, "%s%s: %s",
			 used != 0 ? "\n" : "", h->name, msg);
	return -EINVAL;
}

/* Closes the list of reasons once the file has been judged. */
static void
hints_reasons_end(struct hints *h)
{
	char *reasons = h->rep->reasons;
	size_t used = strlen(reasons);

	if (h->reason_count > HINTS_REASONS_MAX)
		snprintf(reasons + used, CTL_HINTS_REASONS_LEN - used, "\n%s: %u more not shown",
			 h->name, h->reason_count - HINTS_REASONS_MAX);
}

/* Length of the UTF-8 sequence at p (at most n bytes), or 0 if it is not valid UTF-8. */
static size_t
utf8_len(const uint8_t *p, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2, cp = p[0] & 0x1fu, min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3, cp = p[0] & 0x0fu, min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4, cp = p[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	/* Overlong forms, UTF-16 surrogates and code points past Unicode are not text. */
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * A hints file is text. ldns would take some binary bytes as part of names and stop at a NUL
 * without saying so; checking first names the line and the kind of byte.
 */
static int
hints_check_text(struct hints *h, const uint8_t *buf, size_t len)
{
	unsigned line = 1;

	for (size_t i = 0; i < len;) {
		uint8_t c = buf[i];
		size_t n;

		if (c == '\n')
			line++;
		if (c == 0)
			return hints_reason(h, line, "binary data (a NUL byte)");
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			return hints_reason(h, line, "binary data (control byte 0x%02x)", c);
		n = utf8_len(buf + i, len - i);
		if (n == 0)
			return hints_reason(h, line, "binary data (invalid UTF-8)");
		i += n;
	}
	return 0;
}

/*
 * Whether the rdata has its type's shape. ldns builds it so from the usual syntax, but the
 * generic one (RFC 3597: "A \# 3 010203") takes any bytes.
 */
static bool
rdata_ok(const struct ctl_rr *r)
{
	size_t off = 0;

	if (r->type == PX_DNS_TYPE_A)
		return r->rdlen == 4;
	if (r->type == PX_DNS_TYPE_AAAA)
		return r->rdlen == 16;
	/* NS: one uncompressed name, exactly. */
	while (off < r->rdlen && r->rdata[off] != 0 && r->rdata[off] <= 63)
		off += r->rdata[off] + 1u;
	return off + 1 == r->rdlen && r->rdata[off] == 0 && r->rdlen <= PX_DNS_MAX_NAME;
}

/* A record of any type but these is refused from its type token: ldns never reads its rdata. */
static int
hints_type_check(struct ctl_rrfile *f, uint16_t type, unsigned line, void *arg)
{
	char buf[CTL_RRFILE_NAME_STR_LEN];

	(void)arg;
	if (type == PX_DNS_TYPE_NS || type == PX_DNS_TYPE_A || type == PX_DNS_TYPE_AAAA)
		return 0;
	return ctl_rrfile_err(f, line, -EINVAL, "type %s is not allowed in hints (only NS, A and AAAA)",
			      ctl_rrfile_type_str(buf, sizeof(buf), type));
}

/* Only what a root hints file holds; names in NS rdata are lower-cased here, in place. */
static int
hints_check_records(struct hints *h)
{
	char buf[CTL_RRFILE_NAME_STR_LEN];
	int rc = 0;

	for (size_t i = 0; i < h->file.rr_count; i++) {
		struct ctl_rr *r = &h->file.rrs[i];

		if (r->rclass != LDNS_RR_CLASS_IN) {
			rc = hints_reason(h, r->line, "class %s is not allowed in hints (only IN)",
					  ctl_rrfile_class_str(buf, sizeof(buf), r->rclass));
		} else if (r->type != PX_DNS_TYPE_NS && r->type != PX_DNS_TYPE_A &&
			   r->type != PX_DNS_TYPE_AAAA) {
			/* hints_type_check() refused these from their type token; this is the same
			 * rule once more, on the type ldns actually read. */
			rc = hints_reason(h, r->line,
					  "type %s is not allowed in hints (only NS, A and AAAA)",
					  ctl_rrfile_type_str(buf, sizeof(buf), r->type));
		} else if (r->type == PX_DNS_TYPE_NS && r->owner_len != 1) {
			rc = hints_reason(h, r->line, "NS owned by %s, not by the root",
					  ctl_rrfile_name_str(buf, sizeof(buf), r->owner_lc, r->owner_len));
		} else if (!rdata_ok(r)) {
			rc = hints_reason(h, r->line, "malformed %s rdata",
					  ctl_rrfile_type_str(buf, sizeof(buf), r->type));
		} else if (r->type == PX_DNS_TYPE_NS) {
			/* ldns stores an NS's rdata as one uncompressed name. */
			ctl_rrfile_name_lower(r->rdata, r->rdata, r->rdlen);
		}
	}
	return rc;
}

/* The root NS records, in file order; duplicates are found later and not counted twice. */
static int
hints_collect_ns(struct hints *h)
{
	unsigned count = 0;

	h->ttl = UINT32_MAX;
	for (size_t i = 0; i < h->file.rr_count; i++) {
		const struct ctl_rr *r = &h->file.rrs[i];

		if (r->type != PX_DNS_TYPE_NS || h->dup_of[i] != NULL)
			continue;
		if (++count > PX_HINTS_MAX_NS)
			return hints_reason(h, r->line, "more than %u root NS records",
					    PX_HINTS_MAX_NS);
		h->ns[h->ns_count++].rr = r;
		h->ttl = RTE_MIN(h->ttl, r->ttl);
	}
	h->rep->ns_count = h->ns_count;
	if (h->ns_count == 0)
		return hints_reason(h, 0, "no root NS records");
	return 0;
}

static int
rr_ptr_cmp(const void *pa, const void *pb)
{
	const struct ctl_rr *a = *(const struct ctl_rr *const *)pa;
	const struct ctl_rr *b = *(const struct ctl_rr *const *)pb;
	int r = ctl_rrfile_rr_cmp(a, b);

	/* Identical records in file order, so that the first of them is the one kept. */
	return r != 0 ? r : (a->line > b->line) - (a->line < b->line);
}

/* Marks every record that repeats an earlier one (same owner, type and rdata; owners, and NS
 * targets since hints_check_records(), compared lower-cased), by sorting pointers rather than
 * comparing every pair. */
static int
hints_find_dups(struct hints *h)
{
	size_t n = h->file.rr_count;
	const struct ctl_rr **sorted = malloc(n * sizeof(*sorted) + 1);

	h->dup_of = calloc(n + 1, sizeof(*h->dup_of));
	if (sorted == NULL || h->dup_of == NULL) {
		free(sorted);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &h->file.rrs[i];
	qsort(sorted, n, sizeof(*sorted), rr_ptr_cmp);
	for (size_t i = 1, first = 0; i < n; i++) {
		const struct ctl_rr *a = sorted[first], *b = sorted[i];

		if (ctl_rrfile_rr_cmp(a, b) == 0)
			h->dup_of[b - h->file.rrs] = a;
		else
			first = i;
	}
	free(sorted);
	return 0;
}

static struct hints_ns *
hints_ns_find(struct hints *h, const uint8_t *lc, size_t len)
{
	for (unsigned i = 0; i < h->ns_count; i++)
		if (ctl_rrfile_name_eq(h->ns[i].rr->rdata, h->ns[i].rr->rdlen, lc, len))
			return &h->ns[i];
	return NULL;
}

/* Duplicates, addresses of names no root NS names, too many addresses, NS targets with none;
 * in file order. */
static int
hints_check_addrs(struct hints *h)
{
	char buf[CTL_RRFILE_NAME_STR_LEN];
	int rc = 0;

	for (size_t i = 0; i < h->file.rr_count; i++) {
		const struct ctl_rr *r = &h->file.rrs[i];
		bool v4 = r->type == PX_DNS_TYPE_A;
		struct hints_ns *ns;
		unsigned *count;

		if (h->dup_of[i] != NULL) {
			rc = hints_reason(h, r->line, "duplicate record, first at line %u",
					  h->dup_of[i]->line);
			continue;
		}
		if (r->type == PX_DNS_TYPE_NS)
			continue;
		ns = hints_ns_find(h, r->owner_lc, r->owner_len);
		if (ns == NULL) {
			rc = hints_reason(h, r->line, "address for %s, which no root NS names",
					  ctl_rrfile_name_str(buf, sizeof(buf), r->owner_lc, r->owner_len));
			continue;
		}
		count = v4 ? &ns->v4_records : &ns->v6_records;
		if (++*count == PX_HINTS_MAX_ADDRS + 1)
			rc = hints_reason(h, r->line, "more than %u %s addresses for %s",
					  PX_HINTS_MAX_ADDRS, v4 ? "IPv4" : "IPv6",
					  ctl_rrfile_name_str(buf, sizeof(buf), r->owner_lc, r->owner_len));
		h->rep->addr_count++;
	}
	for (unsigned i = 0; i < h->ns_count; i++) {
		const struct hints_ns *ns = &h->ns[i];

		if (ns->v4_records + ns->v6_records == 0)
			rc = hints_reason(h, ns->rr->line, "NS %s has no address record",
					  ctl_rrfile_name_str(buf, sizeof(buf), ns->rr->rdata, ns->rr->rdlen));
	}
	return rc;
}

/* One event per rejected address, HINTS_LOG_MAX per load; hints_log_end() counts the rest. */
static void
hints_log_rejected(struct hints *h, const struct hints_ns *ns, int af, const void *addr,
		   enum px_addr_reason why)
{
	char nbuf[CTL_RRFILE_NAME_STR_LEN], abuf[INET6_ADDRSTRLEN];

	if (h->logged >= HINTS_LOG_MAX) {
		h->log_suppressed++;
		return;
	}
	h->logged++;
	if (inet_ntop(af, addr, abuf, sizeof(abuf)) == NULL)
		snprintf(abuf, sizeof(abuf), "?");
	HINTS_LOG(WARNING, "hints_addr_rejected zone=. ns=%s addr=%s reason=%s source=%s\n",
		  ctl_rrfile_name_str(nbuf, sizeof(nbuf), ns->rr->rdata, ns->rr->rdlen), abuf,
		  px_addr_reason_name(why), h->name);
}

static void
hints_log_end(const struct hints *h)
{
	if (h->log_suppressed > 0)
		HINTS_LOG(WARNING, "hints_addr_rejected_suppressed zone=. count=%u source=%s\n",
			  h->log_suppressed, h->name);
}

/* Puts every address through the policy; the ones it accepts go into their server. */
static void
hints_apply_policy(struct hints *h)
{
	for (size_t i = 0; i < h->file.rr_count; i++) {
		const struct ctl_rr *r = &h->file.rrs[i];
		struct hints_ns *ns;
		enum px_addr_reason why;
		struct px_hints_ns *o;
		struct px_addr a;

		if (r->type == PX_DNS_TYPE_NS || h->dup_of[i] != NULL)
			continue;
		/* hints_check_addrs() made sure of the owner. */
		ns = hints_ns_find(h, r->owner_lc, r->owner_len);
		o = &ns->out;
		/* hints_check_records() made sure of the lengths. */
		px_addr_set(&a, r->type == PX_DNS_TYPE_A ? PX_AF_INET : PX_AF_INET6, r->rdata, 0);
		why = px_addr_check(h->pol, &a);
		/* hints_check_addrs() held each family to PX_HINTS_MAX_ADDRS: it fits. */
		if (why == PX_ADDR_OK)
			(void)px_hints_ns_add(o, &a);
		if (why != PX_ADDR_OK) {
			hints_log_rejected(h, ns, r->type == PX_DNS_TYPE_A ? AF_INET : AF_INET6,
					   r->rdata, why);
			h->rep->rejected[why]++;
			h->rep->addr_rejected++;
		}
	}
	hints_log_end(h);
}

/* The table: the servers that kept an address, in the file order of their NS records. */
static struct px_hints *
hints_build(struct hints *h, unsigned min_usable)
{
	unsigned usable = 0, need = RTE_MAX(min_usable, 1u);
	struct px_hints *t;

	for (unsigned i = 0; i < h->ns_count; i++)
		if (px_hints_ns_addr_count(&h->ns[i].out) > 0)
			usable++;
	h->rep->ns_usable = usable;
	if (usable < need) {
		hints_reason(h, 0,
			     "only %u of %u root servers have a usable address; at least %u needed",
			     usable, h->ns_count, need);
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, px_hints_size(usable));
	if (t == NULL) {
		hints_reason(h, 0, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned i = 0; i < h->ns_count; i++) {
		struct hints_ns *ns = &h->ns[i];

		if (px_hints_ns_addr_count(&ns->out) == 0)
			continue;
		ns->out.name_len = (uint8_t)ns->rr->rdlen;
		memcpy(ns->out.name, ns->rr->rdata, ns->rr->rdlen);
		t->ns[t->ns_count++] = ns->out;
	}
	t->ttl = h->ttl;
	t->checksum = px_hints_checksum(t);
	return t;
}

static void
hints_digest(struct ctl_hints_report *rep, const uint8_t *buf, size_t len)
{
	unsigned char d[LDNS_SHA256_DIGEST_LENGTH];

	ldns_sha256(buf, (unsigned int)len, d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(rep->sha256 + 2 * i, 3, "%02x", d[i]);
}

static struct px_hints *
hints_run(struct hints *h, const uint8_t *buf, size_t len, unsigned min_usable)
{
	int rc;

	if (len == 0)
		rc = hints_reason(h, 0, "empty file: no root NS records");
	else
		rc = hints_check_text(h, buf, len);
	if (rc == 0) {
		ctl_rrfile_init(&h->file, h->name, CTL_RRFILE_ORIGIN_ROOT);
		h->file.type_check = hints_type_check;
		rc = ctl_rrfile_read_mem(&h->file, buf, len);
		if (rc < 0) {
			/* f.err already names the file and the line. */
			snprintf(h->rep->reasons, CTL_HINTS_REASONS_LEN, "%s", h->file.err);
			h->reason_count++;
		}
	}
	if (rc == 0)
		rc = hints_check_records(h);
	if (rc == 0) {
		rc = hints_find_dups(h);
		if (rc < 0)
			hints_reason(h, 0, "out of memory");
	}
	if (rc == 0)
		rc = hints_collect_ns(h);
	if (rc == 0)
		rc = hints_check_addrs(h);
	if (rc < 0) {
		errno = rc == -ENOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	hints_apply_policy(h);
	return hints_build(h, min_usable);
}

struct px_hints *
ctl_hints_parse(const char *name, const uint8_t *buf, size_t len, const struct px_addr_policy *pol,
		unsigned min_usable, struct ctl_hints_report *rep)
{
	static const struct px_addr_policy default_pol;
	struct hints *h;
	struct px_hints *t = NULL;
	int err;

	memset(rep, 0, sizeof(*rep));
	rep->size = len;
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(rep->reasons, sizeof(rep->reasons), "%s: out of memory", name);
		errno = ENOMEM;
		return NULL;
	}
	h->name = name;
	h->pol = pol != NULL ? pol : &default_pol;
	h->rep = rep;
	if (len > CTL_HINTS_MAX_FILE) {
		hints_reason(h, 0, "file is %zu bytes; the limit is %u", len, CTL_HINTS_MAX_FILE);
		errno = EFBIG;
	} else {
		hints_digest(rep, buf, len);
		t = hints_run(h, buf, len, min_usable);
	}
	err = errno;
	hints_reasons_end(h);
	ctl_rrfile_free(&h->file);
	free(h->dup_of);
	free(h);
	if (t == NULL)
		errno = err;
	return t;
}

/* Reads the whole file into a new buffer, refusing anything but a regular file of at most
 * CTL_HINTS_MAX_FILE bytes. Returns 0 or -errno with the reason in rep. */
static int
hints_read(const char *path, uint8_t **out, size_t *out_len, struct ctl_hints_report *rep)
{
	/* O_NONBLOCK: a FIFO put in the file's place must not hang the control thread. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;
	int rc = 0;

	if (fd < 0) {
		rc = -errno;
		snprintf(rep->reasons, sizeof(rep->reasons), "%s: cannot open: %s", path,
			 strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
	} else if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(rep->reasons, sizeof(rep->reasons), "%s: not a regular file", path);
		rc = -EINVAL;
	} else if ((uintmax_t)st.st_size > CTL_HINTS_MAX_FILE) {
		rep->size = (size_t)st.st_size;
		snprintf(rep->reasons, sizeof(rep->reasons), "%s: file is %jd bytes; the limit is %u",
			 path, (intmax_t)st.st_size, CTL_HINTS_MAX_FILE);
		rc = -EFBIG;
	}
	if (rc == 0) {
		/* One byte more than the limit, to see a file that grew since fstat(). */
		buf = malloc(CTL_HINTS_MAX_FILE + 1);
		if (buf == NULL)
			rc = -ENOMEM;
	}
	while (rc == 0 && len <= CTL_HINTS_MAX_FILE) {
		ssize_t n = read(fd, buf + len, CTL_HINTS_MAX_FILE + 1 - len);

		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n == 0)
			break;
		else if (n > 0)
			len += (size_t)n;
	}
	close(fd);
	if (rc == 0 && len > CTL_HINTS_MAX_FILE) {
		snprintf(rep->reasons, sizeof(rep->reasons),
			 "%s: file is more than %u bytes; the limit is %u", path,
			 CTL_HINTS_MAX_FILE, CTL_HINTS_MAX_FILE);
		rep->size = len;
		rc = -EFBIG;
	}
	if (rc < 0) {
		if (rep->reasons[0] == '\0')
			snprintf(rep->reasons, sizeof(rep->reasons), "%s: cannot read: %s", path,
				 strerror(-rc));
		free(buf);
		return rc;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

struct px_hints *
ctl_hints_load_file(const char *path, const struct px_addr_policy *pol, unsigned min_usable,
		    struct ctl_hints_report *rep)
{
	struct px_hints *t;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc, err;

	memset(rep, 0, sizeof(*rep));
	rc = hints_read(path, &buf, &len, rep);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	t = ctl_hints_parse(path, buf, len, pol, min_usable, rep);
	err = errno;
	free(buf);
	errno = err;
	return t;
}
