/* SPDX-License-Identifier: BSD-3-Clause */
/* Priming: the hints-file rules applied to a classified priming reply, and the status record.
 * See pollux/prime.h. */
#include <string.h>

#include <pollux/wire.h>

#include <pollux/prime.h>

static const char *const verdict_names[PX_PRIME_VERDICT_COUNT] = {
	[PX_PRIME_OK] = "ok",
	[PX_PRIME_BAD_CLASS] = "not_an_answer",
	[PX_PRIME_BAD_NOT_AA] = "not_authoritative",
	[PX_PRIME_BAD_ANSWER] = "answer_not_root_ns",
	[PX_PRIME_BAD_TOO_MANY_NS] = "too_many_ns",
	[PX_PRIME_BAD_DUPLICATE] = "duplicate_ns",
	[PX_PRIME_BAD_STRAY_ADDR] = "address_for_other_name",
	[PX_PRIME_BAD_TOO_MANY_ADDRS] = "too_many_addresses",
	[PX_PRIME_BAD_NO_ADDR] = "ns_without_address",
	[PX_PRIME_BAD_TOO_FEW] = "too_few_usable_servers",
	[PX_PRIME_BAD_TTL] = "ns_ttl_zero",
};

const char *
px_prime_verdict_name(enum px_prime_verdict v)
{
	return (unsigned)v < PX_PRIME_VERDICT_COUNT ? verdict_names[v] : "?";
}

/* Reads the name at off of msg into dst (lower-cased); 0 if it cannot be read. */
static unsigned
name_at(const uint8_t *msg, uint16_t len, uint16_t off, uint8_t *dst)
{
	struct px_wire_rd rd;

	px_wire_rd_init(&rd, msg, len);
	rd.pos = off;
	return px_wire_read_name(&rd, dst, NULL);
}

static int
find_ns(const struct px_hints *h, const uint8_t *name, unsigned len)
{
	for (uint32_t i = 0; i < h->ns_count; i++)
		if (h->ns[i].name_len == len && memcmp(h->ns[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* Files one address record for server ns (after the policy); a verdict on a broken rule. */
static enum px_prime_verdict
add_addr(struct px_hints_ns *ns, const struct px_reply_rr *rr, const uint8_t *msg,
	 const struct px_addr_policy *pol, uint8_t seen[2], struct px_prime_report *rep)
{
	bool v4 = rr->type == PX_DNS_TYPE_A;
	enum px_addr_reason why;
	struct px_addr a;

	if (++seen[v4 ? 0 : 1] > PX_HINTS_MAX_ADDRS)
		return PX_PRIME_BAD_TOO_MANY_ADDRS;
	rep->addr_count++;
	px_addr_set(&a, v4 ? PX_AF_INET : PX_AF_INET6, msg + rr->rdata_off, 0);
	why = px_addr_check(pol, &a);
	if (why != PX_ADDR_OK) {
		rep->addr_rejected++;
		rep->rejected[why]++;
		return PX_PRIME_OK;
	}
	/* seen[] held each family to PX_HINTS_MAX_ADDRS: it fits. */
	(void)px_hints_ns_add(ns, &a);
	return PX_PRIME_OK;
}

enum px_prime_verdict
px_prime_check(const struct px_reply *r, const uint8_t *msg, uint16_t len,
	       const struct px_addr_policy *pol, unsigned min_usable, struct px_hints *out,
	       struct px_prime_report *rep)
{
	uint8_t name[PX_DNS_NAME_BUF];
	uint8_t seen[PX_HINTS_MAX_NS][2];
	uint32_t ttl = UINT32_MAX, usable = 0;
	enum px_prime_verdict v;

	memset(rep, 0, sizeof(*rep));
	memset(out, 0, sizeof(*out));
	memset(seen, 0, sizeof(seen));
	/* An answer at the root itself: QR, opcode, the question, TC clear, NOERROR, every
	 * record well formed: the classifier's rules. */
	if (r->cls != PX_REPLY_ANSWER || r->cname_count != 0 || r->sname_len != 1)
		return PX_PRIME_BAD_CLASS;
	if (!r->aa)
		return PX_PRIME_BAD_NOT_AA;
	/* The answer section is the root's NS RRset and nothing else. */
	if (r->answer_count != r->sec_count[PX_REPLY_SEC_ANSWER] || r->counts.answer_dropped != 0)
		return PX_PRIME_BAD_ANSWER;
	if (r->answer_count > PX_HINTS_MAX_NS)
		return PX_PRIME_BAD_TOO_MANY_NS;
	for (unsigned i = 0; i < r->answer_count; i++) {
		const struct px_reply_rr *rr = &r->answer[i];
		unsigned nl;

		if (rr->type != PX_DNS_TYPE_NS || rr->rclass != PX_DNS_CLASS_IN)
			return PX_PRIME_BAD_ANSWER;
		nl = name_at(msg, len, rr->rdata_off, name);
		if (nl == 0)
			return PX_PRIME_BAD_ANSWER;
		if (find_ns(out, name, nl) >= 0)
			return PX_PRIME_BAD_DUPLICATE;
		/* out is the caller's scratch: a server's entry starts empty, whatever the last
		 * reply left there. */
		memset(&out->ns[out->ns_count], 0, sizeof(out->ns[0]));
		out->ns[out->ns_count].name_len = (uint8_t)nl;
		memcpy(out->ns[out->ns_count].name, name, nl);
		out->ns_count++;
		ttl = rr->ttl < ttl ? rr->ttl : ttl;
	}
	rep->ns_count = out->ns_count;
	/* Address records of the additional section, each for one of those names. */
	for (uint16_t i = r->ix.sec_first[PX_REPLY_SEC_ADDITIONAL];
	     i < r->ix.sec_first[PX_REPLY_SEC_ADDITIONAL + 1]; i++) {
		const struct px_reply_rr *rr = &r->ix.rr[i].rr;
		unsigned nl;
		int k;

		if ((rr->type != PX_DNS_TYPE_A && rr->type != PX_DNS_TYPE_AAAA) ||
		    rr->rclass != PX_DNS_CLASS_IN)
			continue;
		nl = name_at(msg, len, rr->off, name);
		k = nl == 0 ? -1 : find_ns(out, name, nl);
		if (k < 0)
			return PX_PRIME_BAD_STRAY_ADDR;
		v = add_addr(&out->ns[k], rr, msg, pol, seen[k], rep);
		if (v != PX_PRIME_OK)
			return v;
	}
	for (uint32_t k = 0; k < out->ns_count; k++) {
		if (seen[k][0] + seen[k][1] == 0)
			return PX_PRIME_BAD_NO_ADDR;
	}
	/* Servers whose every address the policy refused are left out, as from a file. */
	for (uint32_t k = 0; k < out->ns_count; k++) {
		if (px_hints_ns_addr_count(&out->ns[k]) == 0)
			continue;
		if (usable != k)
			out->ns[usable] = out->ns[k];
		usable++;
	}
	memset(&out->ns[usable], 0, (out->ns_count - usable) * sizeof(out->ns[0]));
	out->ns_count = usable;
	rep->ns_usable = usable;
	if (usable == 0 || usable < min_usable)
		return PX_PRIME_BAD_TOO_FEW;
	if (ttl == 0)
		return PX_PRIME_BAD_TTL;
	out->ttl = ttl;
	out->checksum = px_hints_checksum(out);
	return PX_PRIME_OK;
}

bool
px_prime_status_read(const struct px_prime_status *s, struct px_prime_status *out)
{
	for (int tries = 0; tries < 100; tries++) {
		uint32_t a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

		if (a & 1)
			continue;
		memcpy(out, (const void *)s, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == a)
			return true;
	}
	return false;
}
