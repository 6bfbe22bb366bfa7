/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include <pollux/wire.h>

#include "ctl_rrfile.h"

/*
 * The origin until the file sets one, in CTL_RRFILE_ORIGIN_NONE mode. Without an origin ldns
 * silently makes relative names absolute below the root; with this one, whose label holds a
 * NUL byte that no real name has, a relative name written before any $ORIGIN or SOA can be
 * recognised and rejected. It is also the "previous owner" before the first record in both
 * modes, so that a first record with no owner is caught rather than given some owner.
 */
static const uint8_t no_origin[] = {3, 0, 'p', 'x', 0};

/* The reading state of one file. */
struct rrfile_read {
	uint32_t ttl;
	ldns_rdf *origin;
	ldns_rdf *prev;
	int line;      /* ldns's count: the newlines read so far */
	bool nl_at_end; /* whether the file's last byte is a newline */
	char *text;    /* LDNS_MAX_LINELEN + 1: a record's text read ahead, with a type_check */
};

int
ctl_rrfile_err(struct ctl_rrfile *f, unsigned line, int rc, const char *fmt, ...)
{
	char msg[CTL_RRFILE_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line != 0)
		snprintf(f->err, sizeof(f->err), "%s:%u: %.400s", f->name, line, msg);
	else
		snprintf(f->err, sizeof(f->err), "%s: %.400s", f->name, msg);
	return rc;
}

static int
rrfile_nomem(struct ctl_rrfile *f)
{
	return ctl_rrfile_err(f, 0, -ENOMEM, "out of memory");
}

const char *
ctl_rrfile_name_str(char *buf, size_t size, const uint8_t *name, size_t len)
{
	ldns_rdf *rdf = ldns_dname_new_frm_data((uint16_t)len, name);
	char *s = rdf != NULL ? ldns_rdf2str(rdf) : NULL;

	snprintf(buf, size, "%s", s != NULL ? s : "?");
	free(s);
	ldns_rdf_deep_free(rdf);
	return buf;
}

const char *
ctl_rrfile_type_str(char *buf, size_t size, uint16_t type)
{
	char *s = ldns_rr_type2str((ldns_rr_type)type);

	snprintf(buf, size, "%s", s != NULL ? s : "?");
	free(s);
	return buf;
}

const char *
ctl_rrfile_class_str(char *buf, size_t size, uint16_t rclass)
{
	char *s = ldns_rr_class2str((ldns_rr_class)rclass);

	snprintf(buf, size, "%s", s != NULL ? s : "?");
	free(s);
	return buf;
}

bool
ctl_rrfile_name_is_under(const uint8_t *name, size_t len, const uint8_t *parent, size_t plen)
{
	for (size_t off = 0; off < len; off += name[off] + 1u) {
		if (len - off == plen && memcmp(name + off, parent, plen) == 0)
			return true;
		if (name[off] == 0)
			break;
	}
	return false;
}

bool
ctl_rrfile_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

int
ctl_rrfile_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	return r != 0 ? r : (int)alen - (int)blen;
}

int
ctl_rrfile_rr_cmp(const void *pa, const void *pb)
{
	const struct ctl_rr *a = pa, *b = pb;
	int r = ctl_rrfile_name_cmp(a->owner_lc, a->owner_len, b->owner_lc, b->owner_len);

	if (r != 0)
		return r;
	if (a->type != b->type)
		return (int)a->type - (int)b->type;
	r = memcmp(a->rdata, b->rdata, a->rdlen < b->rdlen ? a->rdlen : b->rdlen);
	return r != 0 ? r : (int)a->rdlen - (int)b->rdlen;
}

void
ctl_rrfile_name_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = px_lower(src[i]);
}

void
ctl_rrfile_init(struct ctl_rrfile *f, const char *name, enum ctl_rrfile_origin origin)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->origin = origin;
}

void
ctl_rrfile_free(struct ctl_rrfile *f)
{
	for (size_t i = 0; i < f->rr_count; i++)
		free(f->rrs[i].owner);
	free(f->rrs);
	f->rrs = NULL;
	f->rr_count = 0;
	f->rr_cap = 0;
}

static bool
rdf_is_sentinel(const ldns_rdf *rdf)
{
	return ctl_rrfile_name_is_under(ldns_rdf_data(rdf), ldns_rdf_size(rdf), no_origin,
					sizeof(no_origin));
}

/* Rejects a name ldns made absolute below the sentinel: one written before the file said what
 * it is relative to. */
static int
rrfile_check_relative(struct ctl_rrfile *f, const ldns_rr *rr, unsigned line)
{
	if (rdf_is_sentinel(ldns_rr_owner(rr))) {
		if (f->origin == CTL_RRFILE_ORIGIN_ROOT)
			return ctl_rrfile_err(f, line, -EINVAL, "record with no owner name");
		return ctl_rrfile_err(f, line, -EINVAL,
				      "relative owner name with no $ORIGIN before it");
	}
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *d = ldns_rr_rdf(rr, i);

		if (ldns_rdf_get_type(d) == LDNS_RDF_TYPE_DNAME && rdf_is_sentinel(d))
			return ctl_rrfile_err(f, line, -EINVAL,
					      "relative name in the rdata with no $ORIGIN before it");
	}
	return 0;
}

/* Returns the array with room for one more, growing it if full, or NULL (f left as it was). */
static struct ctl_rr *
rrfile_room(struct ctl_rrfile *f)
{
	size_t ncap;
	struct ctl_rr *p;

	if (f->rr_count < f->rr_cap)
		return f->rrs;
	ncap = f->rr_cap != 0 ? f->rr_cap * 2 : 64;
	p = realloc(f->rrs, ncap * sizeof(*p));
	if (p == NULL)
		return NULL;
	f->rrs = p;
	f->rr_cap = ncap;
	return p;
}

/* Converts rr to wire form and appends it. */
static int
rrfile_push(struct ctl_rrfile *f, const ldns_rr *rr, unsigned line)
{
	const ldns_rdf *owner = ldns_rr_owner(rr);
	size_t olen = ldns_rdf_size(owner), rdlen;
	ldns_buffer *buf;
	struct ctl_rr *r;
	uint8_t *mem;
	int rc = 0;

	buf = ldns_buffer_new(256);
	if (buf == NULL)
		return rrfile_nomem(f);
	if (ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK) {
		rc = rrfile_nomem(f);
		goto out;
	}
	rdlen = ldns_buffer_position(buf);
	if (rdlen > UINT16_MAX) {
		rc = ctl_rrfile_err(f, line, -EINVAL, "rdata longer than 65535 bytes");
		goto out;
	}
	mem = malloc(2 * olen + rdlen + 1);
	if (mem == NULL || rrfile_room(f) == NULL) {
		free(mem);
		rc = rrfile_nomem(f);
		goto out;
	}
	r = &f->rrs[f->rr_count++];
	r->owner = mem;
	r->owner_lc = mem + olen;
	r->rdata = mem + 2 * olen;
	memcpy(r->owner, ldns_rdf_data(owner), olen);
	ctl_rrfile_name_lower(r->owner_lc, r->owner, olen);
	memcpy(r->rdata, ldns_buffer_begin(buf), rdlen);
	r->owner_len = (uint8_t)olen;
	r->rdlen = (uint16_t)rdlen;
	r->type = (uint16_t)ldns_rr_get_type(rr);
	r->rclass = (uint16_t)ldns_rr_get_class(rr);
	r->ttl = ldns_rr_ttl(rr);
	r->line = line;
out:
	ldns_buffer_free(buf);
	return rc;
}

/* With no $ORIGIN yet, names after the first SOA are relative to its owner, as ldns's own
 * zone reader does it. */
static int
rrfile_soa_origin(struct ctl_rrfile *f, struct rrfile_read *st, const ldns_rr *rr)
{
	ldns_rdf *o;

	if (f->origin != CTL_RRFILE_ORIGIN_NONE || ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
	    !rdf_is_sentinel(st->origin))
		return 0;
	o = ldns_rdf_clone(ldns_rr_owner(rr));
	if (o == NULL)
		return rrfile_nomem(f);
	ldns_rdf_deep_free(st->origin);
	st->origin = o;
	return 0;
}

static int
rrfile_record(struct ctl_rrfile *f, struct rrfile_read *st, const ldns_rr *rr, unsigned line)
{
	int rc = rrfile_check_relative(f, rr, line);

	if (rc == 0)
		rc = rrfile_push(f, rr, line);
	if (rc == 0 && f->check != NULL)
		rc = f->check(f, rr, &f->rrs[f->rr_count - 1], f->check_arg);
	if (rc == 0)
		rc = rrfile_soa_origin(f, st, rr);
	return rc;
}

/* Splits the next blank-separated token off *p, honouring backslash escapes; NULL at the end. */
static char *
rrfile_token(char **p)
{
	char *s = *p, *tok;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return NULL;
	tok = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s += (*s == '\\' && s[1] != '\0') ? 2 : 1;
	if (*s != '\0')
		*s++ = '\0';
	*p = s;
	return tok;
}

/*
 * The type of the record text (RFC 1035 5.1: [owner] [TTL] [class] type rdata, TTL and class
 * in either order; a line that starts with a blank has no owner), or -1 when the text is not a
 * record (a directive, a blank line) or has no type token. 0: a token ldns knows no type by;
 * -2: a quote or parenthesis before the type, where ldns's tokens and ours could differ.
 */
static int
rrfile_text_type(char *text)
{
	bool owner = text[0] != ' ' && text[0] != '\t', ttl = false, rclass = false;
	char *p = text, *tok;

	/* The directives exactly as ldns tells them (ldns_rr_new_frm_fp_l): any other line that
	 * starts with '$' is a record owned by that name. */
	if ((strncmp(text, "$ORIGIN", 7) == 0 && isspace((unsigned char)text[7])) ||
	    (strncmp(text, "$TTL", 4) == 0 && isspace((unsigned char)text[4])) ||
	    strncmp(text, "$INCLUDE", 8) == 0)
		return -1;
	if (owner && rrfile_token(&p) == NULL)
		return -1;
	while ((tok = rrfile_token(&p)) != NULL) {
		/* ldns's tokens may group quoted or parenthesised text where ours split: rather
		 * than guess which token ldns will take for the type, call it unknowable. */
		if (strpbrk(tok, "\"()") != NULL)
			return -2;
		if (!ttl && tok[0] >= '0' && tok[0] <= '9')
			ttl = true;
		else if (!rclass && ldns_get_rr_class_by_name(tok) != 0)
			rclass = true;
		else
			return ldns_get_rr_type_by_name(tok);
	}
	return -1;
}

/*
 * Reads the next record's text ahead, as ldns is about to read it, and asks f->type_check about
 * its type; then puts fp back where it was. Returns 0 to let ldns read the record.
 */
static int
rrfile_check_type_ahead(struct ctl_rrfile *f, FILE *fp, struct rrfile_read *st)
{
	long pos = ftell(fp);
	int line = st->line, type;
	ssize_t n;

	if (f->type_check == NULL)
		return 0;
	if (pos < 0)
		return ctl_rrfile_err(f, 0, -EINVAL, "cannot seek in the file: %s", strerror(errno));
	n = ldns_fget_token_l(fp, st->text, LDNS_PARSE_SKIP_SPACE, LDNS_MAX_LINELEN, &line);
	/* ldns counts a line when it reads its newline: a last line without one is one more. */
	line += feof(fp) && !st->nl_at_end;
	if (fseek(fp, pos, SEEK_SET) != 0)
		return ctl_rrfile_err(f, 0, -EINVAL, "cannot seek in the file: %s", strerror(errno));
	if (n <= 0)
		return 0;
	type = rrfile_text_type(st->text);
	if (type == 0)
		return ctl_rrfile_err(f, (unsigned)line, -EINVAL, "unknown record type");
	if (type == -2)
		return ctl_rrfile_err(f, (unsigned)line, -EINVAL,
				      "quote or parenthesis before the record's type");
	return type < 0 ? 0 : f->type_check(f, (uint16_t)type, (unsigned)line, f->check_arg);
}

static int
rrfile_read_one(struct ctl_rrfile *f, FILE *fp, struct rrfile_read *st)
{
	ldns_rr *rr = NULL;
	ldns_status s;
	int rc = rrfile_check_type_ahead(f, fp, st);

	if (rc != 0)
		return rc;
	s = ldns_rr_new_frm_fp_l(&rr, fp, &st->ttl, &st->origin, &st->prev, &st->line);
	/* ldns counts a line when it reads its newline: a last line without one is one more. */
	unsigned line = (unsigned)st->line + (feof(fp) && !st->nl_at_end);

	switch (s) {
	case LDNS_STATUS_OK:
		/* ldns reads a type name it does not know as type 0, which no record has. */
		if (ldns_rr_get_type(rr) == 0)
			rc = ctl_rrfile_err(f, line, -EINVAL, "unknown record type");
		else
			rc = rrfile_record(f, st, rr, line);
		break;
	case LDNS_STATUS_SYNTAX_EMPTY:
	case LDNS_STATUS_SYNTAX_TTL:
	case LDNS_STATUS_SYNTAX_ORIGIN:
		break;
	case LDNS_STATUS_SYNTAX_INCLUDE:
		rc = ctl_rrfile_err(f, line, -EINVAL, "$INCLUDE is not supported");
		break;
	case LDNS_STATUS_MEM_ERR:
		rc = rrfile_nomem(f);
		break;
	default:
		rc = ctl_rrfile_err(f, line, -EINVAL, "%s", ldns_get_errorstr_by_id(s));
		break;
	}
	ldns_rr_free(rr);
	return rc;
}

/* Whether the last byte of fp is a newline; true when fp cannot seek (a pipe). Leaves fp at
 * its start. */
static bool
rrfile_nl_at_end(FILE *fp)
{
	bool nl = true;

	if (fseek(fp, -1, SEEK_END) == 0)
		nl = fgetc(fp) == '\n';
	rewind(fp);
	return nl;
}

/*
 * A record without a TTL takes the last $TTL, or ldns's default (3600) before any: ldns does
 * not tell which records stated their TTL, so RFC 1035's "last stated TTL" cannot be applied.
 */
int
ctl_rrfile_read_fp(struct ctl_rrfile *f, FILE *fp)
{
	static const uint8_t root[] = {0};
	struct rrfile_read st = {0};
	int rc = 0;

	if (f->origin == CTL_RRFILE_ORIGIN_ROOT)
		st.origin = ldns_dname_new_frm_data(sizeof(root), root);
	else
		st.origin = ldns_dname_new_frm_data(sizeof(no_origin), no_origin);
	st.prev = ldns_dname_new_frm_data(sizeof(no_origin), no_origin);
	if (st.origin == NULL || st.prev == NULL)
		rc = rrfile_nomem(f);
	if (f->type_check != NULL && (st.text = malloc(LDNS_MAX_LINELEN + 1)) == NULL)
		rc = rrfile_nomem(f);
	st.nl_at_end = rrfile_nl_at_end(fp);
	while (rc == 0 && !feof(fp) && !ferror(fp))
		rc = rrfile_read_one(f, fp, &st);
	if (rc == 0 && ferror(fp))
		rc = ctl_rrfile_err(f, 0, -ENOENT, "read error");
	ldns_rdf_deep_free(st.origin);
	ldns_rdf_deep_free(st.prev);
	free(st.text);
	return rc;
}

int
ctl_rrfile_read_file(struct ctl_rrfile *f, const char *path)
{
	FILE *fp = fopen(path, "r");
	int rc;

	if (fp == NULL)
		return ctl_rrfile_err(f, 0, errno == ENOMEM ? -ENOMEM : -ENOENT, "cannot open: %s",
				      strerror(errno));
	rc = ctl_rrfile_read_fp(f, fp);
	fclose(fp);
	return rc;
}

int
ctl_rrfile_read_mem(struct ctl_rrfile *f, const uint8_t *buf, size_t len)
{
	FILE *fp;
	int rc;

	/* fmemopen() refuses an empty buffer in some C libraries: an empty file has no records. */
	if (len == 0)
		return 0;
	/* Mode "r" never writes to the buffer. */
	fp = fmemopen((void *)(uintptr_t)buf, len, "r");
	if (fp == NULL)
		return rrfile_nomem(f);
	rc = ctl_rrfile_read_fp(f, fp);
	fclose(fp);
	return rc;
}
