/* SPDX-License-Identifier: BSD-3-Clause */
/* Priming: the hints-file rules applied to a classified priming reply, and the status record.
 * See dp_prime.h. */
#include <string.h>

#include <pollux/wire.h>

#include "dp_prime.h"
#include "dp_wire.h"

static const char *const verdict_names[DP_PRIME_VERDICT_COUNT] = {
	[DP_PRIME_OK] = "ok",
	[DP_PRIME_BAD_CLASS] = "not_an_answer",
	[DP_PRIME_BAD_NOT_AA] = "not_authoritative",
	[DP_PRIME_BAD_ANSWER] = "answer_not_root_ns",
	[DP_PRIME_BAD_TOO_MANY_NS] = "too_many_ns",
	[DP_PRIME_BAD_DUPLICATE] = "duplicate_ns",
	[DP_PRIME_BAD_STRAY_ADDR] = "address_for_other_name",
	[DP_PRIME_BAD_TOO_MANY_ADDRS] = "too_many_addresses",
	[DP_PRIME_BAD_NO_ADDR] = "ns_without_address",
	[DP_PRIME_BAD_TOO_FEW] = "too_few_usable_servers",
	[DP_PRIME_BAD_TTL] = "ns_ttl_zero",
};

const char *
dp_prime_verdict_name(enum dp_prime_verdict v)
{
	return (unsigned)v < DP_PRIME_VERDICT_COUNT ? verdict_names[v] : "?";
}

/* Reads the name at off of msg into dst (lower-cased); 0 if it cannot be read. */
static unsigned
name_at(const uint8_t *msg, uint16_t len, uint16_t off, uint8_t *dst)
{
	struct dp_wire_rd rd;

	dp_wire_rd_init(&rd, msg, len);
	rd.pos = off;
	return dp_wire_read_name(&rd, dst, NULL);
}

static int
find_ns(const struct dp_hints *h, const uint8_t *name, unsigned len)
{
	for (uint32_t i = 0; i < h->ns_count; i++)
		if (h->ns[i].name_len == len && memcmp(h->ns[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* Files one address record for server ns (after the policy); a verdict on a broken rule. */
static enum dp_prime_verdict
add_addr(struct dp_hints_ns *ns, const struct dp_reply_rr *rr, const uint8_t *msg,
	 const struct px_addr_policy *pol, uint8_t seen[2], struct dp_prime_report *rep)
{
	bool v4 = rr->type == PX_DNS_TYPE_A;
	enum px_addr_reason why;
	uint32_t a4;

	if (++seen[v4 ? 0 : 1] > DP_HINTS_MAX_ADDRS)
		return DP_PRIME_BAD_TOO_MANY_ADDRS;
	rep->addr_count++;
	if (v4) {
		memcpy(&a4, msg + rr->rdata_off, 4);
		why = px_addr_check4(pol, a4);
	} else {
		why = px_addr_check6(pol, msg + rr->rdata_off);
	}
	if (why != PX_ADDR_OK) {
		rep->addr_rejected++;
		rep->rejected[why]++;
		return DP_PRIME_OK;
	}
	if (v4)
		ns->v4[ns->v4_count++] = a4;
	else
		memcpy(ns->v6[ns->v6_count++], msg + rr->rdata_off, 16);
	return DP_PRIME_OK;
}

enum dp_prime_verdict
dp_prime_check(const struct dp_reply *r, const uint8_t *msg, uint16_t len,
	       const struct px_addr_policy *pol, unsigned min_usable, struct dp_hints *out,
	       struct dp_prime_report *rep)
{
	uint8_t name[PX_DNS_NAME_BUF];
	uint8_t seen[DP_HINTS_MAX_NS][2];
	uint32_t ttl = UINT32_MAX, usable = 0;
	enum dp_prime_verdict v;

	memset(rep, 0, sizeof(*rep));
	memset(out, 0, sizeof(*out));
	memset(seen, 0, sizeof(seen));
	/* An answer at the root itself: QR, opcode, the question, TC clear, NOERROR, every
	 * record well formed: the classifier's rules. */
	if (r->cls != DP_REPLY_ANSWER || r->cname_count != 0 || r->sname_len != 1)
		return DP_PRIME_BAD_CLASS;
	if (!r->aa)
		return DP_PRIME_BAD_NOT_AA;
	/* The answer section is the root's NS RRset and nothing else. */
	if (r->answer_count != r->sec_count[DP_REPLY_SEC_ANSWER] || r->counts.answer_dropped != 0)
		return DP_PRIME_BAD_ANSWER;
	if (r->answer_count > DP_HINTS_MAX_NS)
		return DP_PRIME_BAD_TOO_MANY_NS;
	for (unsigned i = 0; i < r->answer_count; i++) {
		const struct dp_reply_rr *rr = &r->answer[i];
		unsigned nl;

		if (rr->type != PX_DNS_TYPE_NS || rr->rclass != PX_DNS_CLASS_IN)
			return DP_PRIME_BAD_ANSWER;
		nl = name_at(msg, len, rr->rdata_off, name);
		if (nl == 0)
			return DP_PRIME_BAD_ANSWER;
		if (find_ns(out, name, nl) >= 0)
			return DP_PRIME_BAD_DUPLICATE;
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
	for (uint16_t i = r->ix.sec_first[DP_REPLY_SEC_ADDITIONAL];
	     i < r->ix.sec_first[DP_REPLY_SEC_ADDITIONAL + 1]; i++) {
		const struct dp_reply_rr *rr = &r->ix.rr[i].rr;
		unsigned nl;
		int k;

		if ((rr->type != PX_DNS_TYPE_A && rr->type != PX_DNS_TYPE_AAAA) ||
		    rr->rclass != PX_DNS_CLASS_IN)
			continue;
		nl = name_at(msg, len, rr->off, name);
		k = nl == 0 ? -1 : find_ns(out, name, nl);
		if (k < 0)
			return DP_PRIME_BAD_STRAY_ADDR;
		v = add_addr(&out->ns[k], rr, msg, pol, seen[k], rep);
		if (v != DP_PRIME_OK)
			return v;
	}
	for (uint32_t k = 0; k < out->ns_count; k++) {
		if (seen[k][0] + seen[k][1] == 0)
			return DP_PRIME_BAD_NO_ADDR;
	}
	/* Servers whose every address the policy refused are left out, as from a file. */
	for (uint32_t k = 0; k < out->ns_count; k++) {
		if (out->ns[k].v4_count + out->ns[k].v6_count == 0)
			continue;
		if (usable != k)
			out->ns[usable] = out->ns[k];
		usable++;
	}
	memset(&out->ns[usable], 0, (out->ns_count - usable) * sizeof(out->ns[0]));
	out->ns_count = usable;
	rep->ns_usable = usable;
	if (usable == 0 || usable < min_usable)
		return DP_PRIME_BAD_TOO_FEW;
	if (ttl == 0)
		return DP_PRIME_BAD_TTL;
	out->ttl = ttl;
	out->checksum = dp_hints_checksum(out);
	return DP_PRIME_OK;
}

bool
dp_prime_status_read(const struct dp_prime_status *s, struct dp_prime_status *out)
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
