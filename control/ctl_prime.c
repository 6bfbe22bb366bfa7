/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Priming: validation of the priming reply with the hints rules, and the primed root cut. See
 * ctl_prime.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>

#include <ldns/ldns.h>

#include <pollux/wire.h>

#include "ctl_prime.h"
#include "dp_cache.h"
#include "dp_clock.h"
#include "dp_cut.h"
#include "dp_lcore.h"
#include "dp_prime.h"
#include "dp_resolve.h"

RTE_LOG_REGISTER(ctl_prime_logtype, pollux.ctl.prime, INFO);
#define PRIME_LOG(level, ...) rte_log(RTE_LOG_##level, ctl_prime_logtype, __VA_ARGS__)

static void __attribute__((format(printf, 3, 4)))
reason(struct ctl_hints_report *rep, const char *source, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(rep->reasons, sizeof(rep->reasons), "%s: %s\n", source, msg);
}

/* The header and the question: a plain authoritative answer to ". NS IN". */
static int
check_header(const ldns_pkt *p, struct ctl_hints_report *rep, const char *source)
{
	const ldns_rr_list *q = ldns_pkt_question(p);
	const ldns_rr *qr;
	const ldns_rdf *owner;

	if (!ldns_pkt_qr(p)) {
		reason(rep, source, "not a response (QR clear)");
		return -EINVAL;
	}
	if (ldns_pkt_get_opcode(p) != LDNS_PACKET_QUERY) {
		reason(rep, source, "opcode %d, not QUERY", (int)ldns_pkt_get_opcode(p));
		return -EINVAL;
	}
	if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR) {
		reason(rep, source, "rcode %d, not NOERROR", (int)ldns_pkt_get_rcode(p));
		return -EINVAL;
	}
	if (ldns_pkt_tc(p)) {
		reason(rep, source, "truncated (TC set)");
		return -EINVAL;
	}
	if (!ldns_pkt_aa(p)) {
		reason(rep, source, "not authoritative (AA clear): not from a root server");
		return -EINVAL;
	}
	if (q == NULL || ldns_rr_list_rr_count(q) != 1) {
		reason(rep, source, "not exactly one question");
		return -EINVAL;
	}
	qr = ldns_rr_list_rr(q, 0);
	owner = ldns_rr_owner(qr);
	if (ldns_rr_get_type(qr) != LDNS_RR_TYPE_NS || ldns_rr_get_class(qr) != LDNS_RR_CLASS_IN ||
	    owner == NULL || ldns_rdf_size(owner) != 1) {
		reason(rep, source, "the question is not \". NS IN\"");
		return -EINVAL;
	}
	return 0;
}

/* Appends rr in master-file form to the text buffer; -ENOMEM on failure. */
static int
text_add(char **text, size_t *len, size_t *cap, const ldns_rr *rr)
{
	char *s = ldns_rr2str(rr);
	size_t n;

	if (s == NULL)
		return -ENOMEM;
	n = strlen(s);
	if (*len + n + 2 > *cap) {
		size_t ncap = RTE_MAX(*cap * 2, *len + n + 2 + 1024);
		char *t = realloc(*text, ncap);

		if (t == NULL) {
			free(s);
			return -ENOMEM;
		}
		*text = t;
		*cap = ncap;
	}
	memcpy(*text + *len, s, n);
	*len += n;
	if (n == 0 || s[n - 1] != '\n')
		(*text)[(*len)++] = '\n';
	(*text)[*len] = '\0';
	free(s);
	return 0;
}

struct dp_hints *
ctl_prime_validate(const uint8_t *msg, size_t len, const char *source,
		   const struct px_addr_policy *pol, unsigned min_usable,
		   struct ctl_hints_report *rep)
{
	ldns_pkt *p = NULL;
	ldns_status st;
	char *text = NULL;
	size_t tlen = 0, tcap = 0;
	struct dp_hints *h = NULL;
	int err = EINVAL;

	memset(rep, 0, sizeof(*rep));
	rep->size = len;
	if (len < PX_DNS_HDR_LEN) {
		reason(rep, source, "%zu bytes: shorter than a DNS header", len);
		goto out;
	}
	st = ldns_wire2pkt(&p, msg, len);
	if (st != LDNS_STATUS_OK) {
		reason(rep, source, "malformed DNS message: %s", ldns_get_errorstr_by_id(st));
		p = NULL;
		goto out;
	}
	if (check_header(p, rep, source) != 0)
		goto out;
	const ldns_rr_list *an = ldns_pkt_answer(p), *ad = ldns_pkt_additional(p);

	/* Only NS records are turned back into text: the hints rules would refuse any other type
	 * anyway, and reading arbitrary types from text trips ldns 1.8.3 leaks (a CERT record with
	 * a zero field loses 2 bytes in ldns_rr_new_frm_fp_l), which a forged reply could repeat. */
	for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS) {
			char *t = ldns_rr_type2str(ldns_rr_get_type(rr));

			reason(rep, source, "type %s in the answer: only the root's NS records belong "
			       "there", t != NULL ? t : "?");
			free(t);
			goto out;
		}
		if (text_add(&text, &tlen, &tcap, rr) != 0)
			goto nomem;
	}
	for (size_t i = 0; ad != NULL && i < ldns_rr_list_rr_count(ad); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ad, i);
		ldns_rr_type t = ldns_rr_get_type(rr);

		if ((t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) &&
		    text_add(&text, &tlen, &tcap, rr) != 0)
			goto nomem;
	}
	h = ctl_hints_parse(source, (const uint8_t *)(text != NULL ? text : ""), tlen, pol,
			    min_usable, rep);
	err = errno;
	goto out;
nomem:
	reason(rep, source, "out of memory");
	err = ENOMEM;
out:
	ldns_pkt_free(p);
	free(text);
	if (h == NULL)
		errno = err;
	return h;
}

void
ctl_prime_init(struct ctl_prime_state *ps, const struct ctl_config *cfg, struct dp_ctx *ctx)
{
	memset(ps, 0, sizeof(*ps));
	ps->cfg = cfg;
	ps->ctx = ctx;
}

static const char *
addr_str(const struct dp_upq_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family == DP_UPQ_AF_INET ? AF_INET : AF_INET6, a->a, buf,
		      (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/* Records a failure, logging it unless one was logged less than the interval ago. */
static void
prime_failure(struct ctl_prime_state *ps, const char *what)
{
	uint64_t now = dp_clock_ms();

	ps->has_failure = true;
	ps->failure_at = time(NULL);
	snprintf(ps->failure, sizeof(ps->failure), "%s", what);
	if (now < ps->log_next_ms) {
		ps->log_suppressed++;
		return;
	}
	ps->log_next_ms = now + CTL_PRIME_LOG_INTERVAL_MS;
	PRIME_LOG(WARNING, "%s (%" PRIu64 " more not logged); resolution goes on from the "
		  "hints\n", what, ps->log_suppressed);
	ps->log_suppressed = 0;
}

/* Puts the validated root set into the cache as the root cut. */
static int
prime_insert(struct ctl_prime_state *ps, const struct dp_hints *h, uint32_t ttl, uint64_t at_ms)
{
	static const uint8_t root = 0;
	uint8_t buf[DP_CUT_MAX_LEN];
	uint16_t ns_count, len = dp_cut_encode_hints(buf, sizeof(buf), h, &ns_count);
	struct dp_cache_key key;
	struct dp_cache_entry *e;

	if (len == 0)
		return -EINVAL;
	dp_cut_key(&key, &root, 1);

	const struct dp_cache_answer ans = {
		.ttl = ttl, .an_count = ns_count, .rr = buf, .rr_len = len,
	};

	e = dp_cache_entry_new(ps->ctx->cache, &key, &ans, at_ms);
	if (e == NULL)
		return -errno;
	return dp_cache_insert(ps->ctx->cache, e);
}

static void
prime_reply(struct ctl_prime_state *ps, const struct dp_prime_msg *m)
{
	char src[96], abuf[48], what[sizeof(ps->failure)];
	struct ctl_hints_report rep;
	struct dp_hints *h;
	uint32_t ttl;
	int rc;

	addr_str(&m->server, abuf, sizeof(abuf));
	snprintf(src, sizeof(src), "priming reply from %s", abuf);
	h = ctl_prime_validate(m->msg, m->len, src, &ps->cfg->addr_policy,
			       ps->cfg->min_root_servers, &rep);
	for (unsigned r = 0; r < PX_ADDR_REASON_COUNT; r++)
		ps->addr_rejected_total[r] += rep.rejected[r];
	if (h == NULL) {
		ps->rejected++;
		snprintf(what, sizeof(what), "prime_rejected server=%s reasons: %s", abuf,
			 rep.reasons);
		/* One line in the log: the reasons' newlines become "; ". */
		for (char *c = what; *c != '\0'; c++)
			if (*c == '\n')
				*c = c[1] == '\0' ? '\0' : ';';
		prime_failure(ps, what);
		return;
	}
	ttl = RTE_MIN(h->ttl, ps->cfg->max_ttl);
	if (ttl == 0) {
		ps->rejected++;
		snprintf(what, sizeof(what), "prime_rejected server=%s reasons: NS TTL 0: nothing "
			 "to cache", abuf);
		prime_failure(ps, what);
		free(h);
		return;
	}
	rc = prime_insert(ps, h, ttl, m->now_ms);
	if (rc != 0) {
		ps->cache_refused++;
		snprintf(what, sizeof(what), "prime_not_cached server=%s: %s", abuf, strerror(-rc));
		prime_failure(ps, what);
		free(h);
		return;
	}
	ps->accepted++;
	ps->primed = true;
	ps->primed_at = time(NULL);
	ps->primed_ms = m->now_ms;
	ps->expire_ms = m->now_ms + (uint64_t)ttl * 1000;
	ps->ttl = ttl;
	ps->servers = h->ns_count;
	ps->addr_rejected = rep.addr_rejected;
	snprintf(ps->server, sizeof(ps->server), "%s", abuf);
	PRIME_LOG(INFO, "prime_accepted server=%s servers=%u ttl=%u addr_rejected=%u\n", abuf,
		  h->ns_count, ttl, rep.addr_rejected);
	free(h);
}

void
ctl_prime_handle(struct ctl_prime_state *ps, const struct dp_prime_msg *m)
{
	char what[128];

	if (m->kind == DP_PRIME_REPLY) {
		prime_reply(ps, m);
		return;
	}
	ps->failed++;
	snprintf(what, sizeof(what), "prime_failed reason=%s",
		 dp_resolve_fail_name((enum dp_resolve_fail)m->fail));
	prime_failure(ps, what);
}

void
ctl_prime_tick(struct ctl_prime_state *ps)
{
	static struct dp_prime_msg m; /* 4 KiB: not on the stack */

	if (ps->ctx == NULL || ps->ctx->prime == NULL)
		return;
	for (unsigned i = 0; i < CTL_PRIME_DRAIN_PER_TICK && dp_prime_take(ps->ctx->prime, &m); i++)
		ctl_prime_handle(ps, &m);
}

static void
print_time(FILE *out, const char *key, time_t t)
{
	char buf[64];
	struct tm tm;

	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	fprintf(out, "%s: %s\n", key, buf);
}

void
ctl_prime_print(const struct ctl_prime_state *ps, FILE *out, uint64_t now_ms)
{
	if (ps->ctx == NULL || ps->ctx->prime == NULL) {
		fputs("priming: off\n", out);
		return;
	}
	if (!ps->primed) {
		fputs("priming: not primed\n", out);
	} else {
		fprintf(out, "priming: %s\n", now_ms < ps->expire_ms ? "primed" : "expired");
		print_time(out, "primed_at", ps->primed_at);
		fprintf(out, "primed_from: %s\n", ps->server);
		fprintf(out, "primed_servers: %u\n", ps->servers);
		fprintf(out, "primed_addresses_rejected: %u\n", ps->addr_rejected);
		fprintf(out, "primed_ttl: %u\n", ps->ttl);
		fprintf(out, "primed_ttl_left: %" PRIu64 "\n",
			now_ms < ps->expire_ms ? (ps->expire_ms - now_ms) / 1000 : 0);
	}
	if (!ps->has_failure) {
		fputs("priming_last_failure: none\n", out);
		return;
	}
	print_time(out, "priming_last_failure_at", ps->failure_at);
	fprintf(out, "priming_last_failure: %s\n", ps->failure);
}

void
ctl_prime_print_stats(const struct ctl_prime_state *ps, FILE *out)
{
	fprintf(out, "prime.accepted %" PRIu64 "\nprime.rejected %" PRIu64 "\nprime.failed %" PRIu64
		"\nprime.cache_refused %" PRIu64 "\n", ps->accepted, ps->rejected, ps->failed,
		ps->cache_refused);
	for (unsigned r = 1; r < PX_ADDR_REASON_COUNT; r++)
		fprintf(out, "addr_rejected.priming.%s %" PRIu64 "\n", px_addr_reason_name(r),
			ps->addr_rejected_total[r]);
}
