/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the metrics listener's request-head parser and listen-address parser.
 * The input is copied into an exactly-sized buffer, so a read past the bytes received lands
 * outside the allocation where ASan sees it. Every prefix verdict must agree with the whole:
 * a head that is complete stays complete, and only GET /metrics is ever answered 200.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	enum ctl_http_verdict v, small;
	char *buf = malloc(size + 1), why[128];
	socklen_t len;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	v = ctl_http_parse(buf, size, CTL_HTTP_MAX_HEAD);
	if (v == CTL_HTTP_OK && (size < 13 || memcmp(buf, "GET /metrics", 12) != 0))
		abort();
	if (v == CTL_HTTP_MORE && size >= CTL_HTTP_MAX_HEAD)
		abort();
	/* A smaller limit only ever turns an answer into 431 (or leaves it). */
	small = ctl_http_parse(buf, size, 64);
	if (small != v && small != CTL_HTTP_TOO_LARGE)
		abort();
	buf[size] = '\0';
	ctl_http_parse_addr(buf, &ss, &len, why, sizeof(why));
	free(buf);
	return 0;
}
