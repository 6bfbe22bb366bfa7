/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the upstream reply classifier and bailiwick scrubber.
 *
 * The first input byte steers the run; the rest is the reply. So that the fuzzer gets past the
 * question check most of the time, the question asked is the reply's own (when it can be read),
 * and the bailiwick is that name with the first byte's low four bits' worth of labels removed
 * (down to the root). Bit 4 asks the fixed question www.example.test/A of the .test servers
 * instead; bit 5 lets loopback glue through. Every reported offset, count and name is then
 * checked against the message, and the TTL helpers are run over the result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/rdata.h>
#include <pollux/reply.h>
#include <pollux/wire.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct px_reply r; /* about 80 KiB with its index: not on the stack */

static void
check_rr(const struct px_reply_rr *rr, uint16_t len)
{
	if (rr->off >= len || (uint32_t)rr->rdata_off + rr->rdlen > len ||
	    rr->rdata_off <= rr->off || rr->ttl > INT32_MAX)
		abort();
}

static void
check_name(const uint8_t *name, unsigned len)
{
	unsigned i = 0;

	if (len == 0 || len > PX_DNS_MAX_NAME)
		abort();
	while (name[i] != 0) {
		i += 1u + name[i];
		if (i >= len)
			abort();
	}
	if (i + 1 != len)
		abort();
}

static void
check_result(const uint8_t *msg, uint16_t len)
{
	if ((unsigned)r.cls >= PX_REPLY_CLASS_COUNT || r.cname_count > PX_REPLY_MAX_CNAME ||
	    r.answer_count > PX_REPLY_MAX_ANSWER || r.ns_count > PX_REPLY_MAX_NS)
		abort();
	/* Refused for its size only when the header claims more records than the index holds. */
	if (r.bad == PX_REPLY_BAD_TOO_MANY_RRS &&
	    (unsigned)r.sec_count[0] + r.sec_count[1] + r.sec_count[2] <= PX_REPLY_MAX_RRS)
		abort();
	if (r.cls == PX_REPLY_MALFORMED || r.cls == PX_REPLY_TRUNCATED)
		return;
	for (unsigned i = 0; i < r.cname_count; i++)
		check_rr(&r.cname[i], len);
	for (unsigned i = 0; i < r.answer_count; i++)
		check_rr(&r.answer[i], len);
	if (r.cls == PX_REPLY_ANSWER || r.cls == PX_REPLY_CNAME || r.cls == PX_REPLY_REFERRAL ||
	    r.cls == PX_REPLY_NXDOMAIN || r.cls == PX_REPLY_NODATA)
		check_name(r.sname, r.sname_len);
	if (r.has_soa) {
		check_rr(&r.soa, len);
		check_name(r.soa_owner, r.soa_owner_len);
	}
	if (r.cls == PX_REPLY_REFERRAL) {
		check_name(r.zone, r.zone_len);
		if (r.ns_count == 0)
			abort();
	}
	for (unsigned i = 0; i < r.ns_count; i++) {
		check_rr(&r.ns[i].rr, len);
		check_name(r.ns[i].name, r.ns[i].name_len);
		if (r.ns[i].addr_count > PX_REPLY_MAX_ADDRS ||
		    (r.ns[i].addr_count > 0 && !r.ns[i].glue_seen))
			abort();
		for (unsigned k = 0; k < r.ns[i].addr_count; k++)
			if (r.ns[i].addr[k].rr_off >= len ||
			    (r.ns[i].addr[k].family != 4 && r.ns[i].addr[k].family != 6))
				abort();
	}
	/* The reported answer records can be read again where they are, and their rdata, which
	 * the classifier checked against its layout, can be kept with its names expanded: at
	 * most three names per layout, each at most 255 bytes where its pointer took two. */
	for (unsigned i = 0; i < r.answer_count; i++) {
		static uint8_t out[UINT16_MAX + 3 * PX_DNS_MAX_NAME];
		const struct px_reply_rr *rr = &r.answer[i];
		struct px_wire_rd rd;
		int n;

		px_wire_rd_init(&rd, msg, len);
		rd.pos = rr->off;
		if (px_wire_read_name(&rd, NULL, NULL) == 0)
			abort();
		if (px_rdata_check(msg, len, rr->type, rr->rdata_off, rr->rdlen) != PX_RDATA_OK)
			abort();
		n = px_rdata_copy(out, sizeof(out), msg, len, rr->type, rr->rdata_off, rr->rdlen);
		if (n < 0 || (px_rdata_shape(rr->type) == NULL && n != rr->rdlen))
			abort();
	}
	(void)px_reply_answer_ttl(&r);
	(void)px_reply_chain_ttl(&r);
	(void)px_reply_negative_ttl(&r);
	(void)px_reply_referral_ttl(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed_qname[] = "\3www\7example\4test";
	static const uint8_t fixed_zone[] = "\4test";
	uint8_t qname[PX_DNS_NAME_BUF];
	struct px_addr_policy policy;
	struct px_reply_query q;
	struct px_wire_rd rd;
	uint8_t *msg, ctl;
	uint16_t len;
	unsigned n;

	if (size < 1)
		return 0;
	ctl = data[0];
	data++;
	size--;
	len = size > UINT16_MAX ? UINT16_MAX : (uint16_t)size;
	/* An exactly-sized copy, so that a read past the end lands outside the allocation. */
	msg = malloc(len != 0 ? len : 1);
	if (msg == NULL)
		return 0;
	memcpy(msg, data, len);
	px_addr_policy_init(&policy);
	policy.allow_loopback = (ctl & 0x20) != 0;

	q.qname = fixed_qname;
	q.qname_len = sizeof(fixed_qname);
	q.zone = fixed_zone;
	q.zone_len = sizeof(fixed_zone);
	q.qtype = PX_DNS_TYPE_A;
	q.qclass = PX_DNS_CLASS_IN;
	q.policy = &policy;
	px_wire_rd_init(&rd, msg, len);
	rd.pos = PX_DNS_HDR_LEN;
	if (!(ctl & 0x10) && len > PX_DNS_HDR_LEN &&
	    (n = px_wire_read_name(&rd, qname, NULL)) != 0) {
		unsigned strip = ctl & 0x0f, z = 0;

		q.qname = qname;
		q.qname_len = (uint8_t)n;
		q.qtype = px_wire_read_u16(&rd);
		q.qclass = px_wire_read_u16(&rd);
		while (strip-- > 0 && qname[z] != 0)
			z += 1u + qname[z];
		q.zone = qname + z;
		q.zone_len = (uint8_t)(n - z);
	}
	px_reply_classify(&r, msg, len, &q);
	check_result(msg, len);
	free(msg);
	return 0;
}
