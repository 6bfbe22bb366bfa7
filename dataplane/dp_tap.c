/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_branch_prediction.h>

#include <pollux/wire.h>

#include "dp_tap.h"

void
dp_tap_init(struct dp_tap *t, struct px_tap_ring *ring, uint32_t types, uint32_t sample)
{
	memset(t, 0, sizeof(*t));
	t->ring = ring;
	t->types = types;
	t->sample = sample == 0 ? 1 : sample;
	/* The first message of each type is logged: an operator who just turned dnstap on sees
	 * traffic at once, whatever the rate. */
	for (unsigned i = 0; i < PX_TAP_TYPE_MAX; i++)
		t->countdown[i] = 1;
}

/* How many bytes of an over-long message to keep: the header and the question, so the record
 * still says who asked what and how it was answered (rcode, flags), or the header alone when
 * the question cannot be read. */
static uint16_t
cut_len(const uint8_t *msg, uint16_t len)
{
	struct px_wire_rd rd;

	if (len < PX_DNS_HDR_LEN)
		return 0;
	if (px_get16(msg + 4) != 1)
		return PX_DNS_HDR_LEN;
	px_wire_rd_init(&rd, msg, len);
	rd.pos = PX_DNS_HDR_LEN;
	px_wire_read_name(&rd, NULL, NULL);
	if (rd.err || rd.pos + 4u > len || rd.pos + 4u > PX_TAP_MSG_MAX)
		return PX_DNS_HDR_LEN;
	return (uint16_t)(rd.pos + 4u);
}

static inline void
copy_addr(uint8_t *dst, const void *src, uint8_t family)
{
	memset(dst, 0, 16);
	if (src != NULL)
		memcpy(dst, src, family == 4 ? 4 : 16);
}

void
dp_tap_record(struct dp_lcore *lc, enum px_tap_type type, const struct dp_tap_flow *f,
	      const uint8_t *msg, uint16_t len)
{
	struct dp_tap *t = lc->tap;
	struct px_tap_rec *r;
	uint16_t keep = len;

	r = px_tap_ring_claim(t->ring);
	if (unlikely(r == NULL)) {
		DP_STAT_INC(lc, dnstap_dropped);
		return;
	}
	r->tsc = lc->poll_tsc;
	r->type = (uint8_t)type;
	r->family = f->family;
	r->proto = f->proto;
	r->flags = 0;
	r->query_port = f->query_port;
	r->response_port = f->response_port;
	r->wire_len = len;
	copy_addr(r->query_addr, f->query_addr, f->family);
	copy_addr(r->response_addr, f->response_addr, f->family);
	if (unlikely(len > PX_TAP_MSG_MAX)) {
		keep = cut_len(msg, len);
		r->flags = PX_TAP_F_CUT;
		DP_STAT_INC(lc, dnstap_cut);
	}
	memcpy(r->msg, msg, keep);
	if (unlikely(r->flags & PX_TAP_F_CUT) && keep >= PX_DNS_HDR_LEN) {
		/* What is kept is a whole message: the question, and no other section. */
		if (keep == PX_DNS_HDR_LEN)
			px_put16(r->msg + 4, 0);
		px_put16(r->msg + 6, 0);
		px_put16(r->msg + 8, 0);
		px_put16(r->msg + 10, 0);
	}
	r->msg_len = keep;
	px_tap_ring_publish(t->ring);
	DP_STAT_INC(lc, dnstap_logged);
}
