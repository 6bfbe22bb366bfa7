/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Master files (RFC 1035 section 5) read with ldns and turned into wire-form records, for the
 * local-zone loader (ctl_zone.c) and the root-hints loader (ctl_hints.c). ldns does the syntax:
 * $ORIGIN, $TTL, relative names, parentheses, comments, CRLF line ends. This file adds line
 * numbers on every error, refuses $INCLUDE, stops at the first error (a file is taken whole or
 * not at all) and converts each record at once, so that the loaders never touch ldns records.
 * Control thread only (and `pollux --check-hints`, which has no EAL).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ldns/ldns.h>

#define CTL_RRFILE_ERR_LEN 512
#define CTL_RRFILE_NAME_STR_LEN (4 * 255 + 1) /* every byte of a name may be written \DDD */

/* One record in wire form. owner, owner_lc and rdata share one allocation: free(owner). */
struct ctl_rr {
	uint8_t *owner;    /* the file's case */
	uint8_t *owner_lc; /* lower-cased, for comparisons and keys */
	uint8_t *rdata;    /* uncompressed, names in the file's case */
	uint32_t ttl;
	uint16_t type;
	uint16_t rclass;
	uint16_t rdlen;
	uint8_t owner_len;
	unsigned line; /* where the record ends in the file */
};

/* What a relative name is relative to before the file says. */
enum ctl_rrfile_origin {
	/*
	 * None: a relative name before the first $ORIGIN or SOA is an error, and the first SOA's
	 * owner becomes the origin if no $ORIGIN came before it (as ldns's zone reader does it).
	 * For zone files.
	 */
	CTL_RRFILE_ORIGIN_NONE,
	/* The root, as BIND reads hints files: "a.root-servers.net" is "a.root-servers.net.". */
	CTL_RRFILE_ORIGIN_ROOT,
};

struct ctl_rrfile;

/*
 * Called for each record after it parsed and was converted (r is the record just appended,
 * rr the same as ldns has it), in file order. Returns 0 to go on, or what
 * ctl_rrfile_err() returns to stop the read with that error.
 */
typedef int (*ctl_rrfile_check_t)(struct ctl_rrfile *f, const ldns_rr *rr, const struct ctl_rr *r,
				  void *arg);

/*
 * Called with each record's type as its type token reads, before ldns parses the record's rdata:
 * returns 0 to parse it, or what ctl_rrfile_err() returns to stop the read with that error. ldns's
 * rdata parsers are where its leaks live (1.8.3 loses 2 bytes on a CERT with a zero field), so a
 * loader that accepts a few types never lets ldns read the rdata of any other.
 */
typedef int (*ctl_rrfile_type_check_t)(struct ctl_rrfile *f, uint16_t type, unsigned line,
				       void *arg);

struct ctl_rrfile {
	/* Set by ctl_rrfile_init(), and check, type_check and check_arg by the caller if it
	 * wants. A type_check needs a file that can seek (a regular file, or read from memory). */
	const char *name; /* what messages call the file: its path, or "built-in" */
	enum ctl_rrfile_origin origin;
	ctl_rrfile_check_t check;
	ctl_rrfile_type_check_t type_check;
	void *check_arg;
	/* The records in file order. The caller may take the array (and then set rrs to NULL and
	 * rr_count to 0 so that ctl_rrfile_free() leaves it). */
	struct ctl_rr *rrs;
	size_t rr_count, rr_cap;
	/* "NAME:LINE: reason" (or "NAME: reason" when no line is at fault) after an error. */
	char err[CTL_RRFILE_ERR_LEN];
};

void ctl_rrfile_init(struct ctl_rrfile *f, const char *name, enum ctl_rrfile_origin origin);

/* Frees the records. f can be read into again after ctl_rrfile_init(). */
void ctl_rrfile_free(struct ctl_rrfile *f);

/*
 * Reads every record of fp, of the file at path, or of the len bytes at buf, and appends them
 * to f->rrs. Returns 0, or -EINVAL (syntax, $INCLUDE, or what the check refused), -ENOENT
 * (the file cannot be opened or read) or -ENOMEM, with the reason in f->err. On error the
 * records read so far stay in f->rrs, for ctl_rrfile_free().
 */
int ctl_rrfile_read_fp(struct ctl_rrfile *f, FILE *fp);
int ctl_rrfile_read_file(struct ctl_rrfile *f, const char *path);
int ctl_rrfile_read_mem(struct ctl_rrfile *f, const uint8_t *buf, size_t len);

/* Writes "NAME:LINE: reason" (line 0: "NAME: reason") to f->err and returns rc. */
int ctl_rrfile_err(struct ctl_rrfile *f, unsigned line, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Presentation forms, for messages; each returns buf. */
const char *ctl_rrfile_name_str(char *buf, size_t size, const uint8_t *name, size_t len);
const char *ctl_rrfile_type_str(char *buf, size_t size, uint16_t type);
const char *ctl_rrfile_class_str(char *buf, size_t size, uint16_t rclass);

/* Whether the wire name equals parent or is below it; both in the same case. */
bool ctl_rrfile_name_is_under(const uint8_t *name, size_t len, const uint8_t *parent, size_t plen);

/* Wire names: equal, and a total order (not DNSSEC's canonical one) for sorting and search. */
bool ctl_rrfile_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
int ctl_rrfile_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* qsort() order of records: owner (lower-cased), type, rdata; 0 for identical records, with
 * names in the rdata compared as written. */
int ctl_rrfile_rr_cmp(const void *pa, const void *pb);

/* Lower-cases a wire name. Length bytes are at most 63, below 'A', so this is safe. */
void ctl_rrfile_name_lower(uint8_t *dst, const uint8_t *src, size_t len);
