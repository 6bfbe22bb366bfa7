/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the DNS message parser and response writer: any input is parsed as a
 * query, and whatever verdict comes back, a response is written into an exactly-sized buffer so
 * that the writer's bounds are fuzzed too. The raw input is also printed as a wire-form name
 * (px_wire_name_text(), which must stay within its room and NUL-terminate whatever it gets).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pollux/wire.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1};
	static const uint16_t ttl_off = 6;
	struct dp_query q;
	uint8_t *msg;
	uint16_t len = size > UINT16_MAX ? UINT16_MAX : (uint16_t)size;
	/* Room as a real mbuf would have: the query plus a little, never a fixed 64 KiB, so
	 * that an overrun lands outside the allocation where ASan sees it. */
	uint16_t cap = (uint16_t)(len > UINT16_MAX - 64 ? UINT16_MAX : len + 64);

	char text[PX_DNS_EDE_TEXT_MAX + 1];
	size_t tlen = px_wire_name_text(text, sizeof(text), data, (unsigned)len);

	if (tlen >= sizeof(text) || text[tlen] != '\0' || strlen(text) != tlen)
		abort();
	msg = malloc(cap);
	if (msg == NULL)
		return 0;
	memcpy(msg, data, len);
	enum px_wire_verdict v = px_wire_parse_query(&q, msg, len);

	if (v != PX_WIRE_DROP_RUNT && v != PX_WIRE_DROP_RESPONSE) {
		struct px_wire_answer ans = {
			.rcode = v == PX_WIRE_OK ? 0 : PX_DNS_RCODE_FORMERR,
			.an_count = v == PX_WIRE_OK,
			.rr = rr,
			.rr_len = v == PX_WIRE_OK ? sizeof(rr) : 0,
			.ttl_off = &ttl_off,
			.ttl_off_count = v == PX_WIRE_OK,
			.ttl = 300,
		};
		uint16_t rlen = px_wire_write_response(msg, cap, px_wire_udp_limit(&q), &q, &ans);

		if (rlen > cap)
			abort();
	}
	free(msg);
	return 0;
}
