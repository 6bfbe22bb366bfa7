/* SPDX-License-Identifier: BSD-3-Clause */
/* A worker's dnstap record as a Dnstap protobuf (ctl_dnstap.h): pure, for the logging thread
 * and the tests. protobuf-c packs into the caller's buffer, so nothing is allocated. */
#include <string.h>

#include "ctl_dnstap.h"
#include "dnstap.pb-c.h"

#define NS_PER_S 1000000000ull

/* ticks of a clock of hz as nanoseconds, without overflow for any uptime. */
static uint64_t
ticks_ns(uint64_t ticks, uint64_t hz)
{
	return ticks / hz * NS_PER_S + ticks % hz * NS_PER_S / hz;
}

uint64_t
ctl_dnstap_time_ns(const struct ctl_dnstap_clock *clk, uint64_t tsc)
{
	uint64_t d;

	if (clk->hz == 0)
		return clk->ns;
	if (tsc >= clk->tsc)
		return clk->ns + ticks_ns(tsc - clk->tsc, clk->hz);
	d = ticks_ns(clk->tsc - tsc, clk->hz);
	return d < clk->ns ? clk->ns - d : 0;
}

size_t
ctl_dnstap_encode(const struct px_tap_rec *r, const struct ctl_dnstap_ident *id,
		  const struct ctl_dnstap_clock *clk, uint8_t *buf, size_t cap)
{
	Dnstap__Dnstap d = DNSTAP__DNSTAP__INIT;
	Dnstap__Message m = DNSTAP__MESSAGE__INIT;
	size_t alen = r->family == 4 ? 4 : 16;
	uint64_t ns = ctl_dnstap_time_ns(clk, r->tsc);
	bool query;
	size_t len;

	switch (r->type) {
	case PX_TAP_CLIENT_QUERY:
	case PX_TAP_RESOLVER_QUERY:
		query = true;
		break;
	case PX_TAP_CLIENT_RESPONSE:
	case PX_TAP_RESOLVER_RESPONSE:
		query = false;
		break;
	default:
		return 0;
	}
	if ((r->family != 4 && r->family != 6) || r->msg_len > PX_TAP_MSG_MAX ||
	    (r->proto != PX_TAP_UDP && r->proto != PX_TAP_TCP))
		return 0;
	if (id->identity != NULL) {
		d.has_identity = 1;
		d.identity.data = (uint8_t *)id->identity;
		d.identity.len = strlen(id->identity);
	}
	if (id->version != NULL) {
		d.has_version = 1;
		d.version.data = (uint8_t *)id->version;
		d.version.len = strlen(id->version);
	}
	d.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
	d.message = &m;

	m.type = (Dnstap__Message__Type)r->type;
	m.has_socket_family = 1;
	m.socket_family = r->family == 4 ? DNSTAP__SOCKET_FAMILY__INET
					 : DNSTAP__SOCKET_FAMILY__INET6;
	m.has_socket_protocol = 1;
	m.socket_protocol = r->proto == PX_TAP_UDP ? DNSTAP__SOCKET_PROTOCOL__UDP
						   : DNSTAP__SOCKET_PROTOCOL__TCP;
	m.has_query_address = 1;
	m.query_address.data = (uint8_t *)r->query_addr;
	m.query_address.len = alen;
	m.has_response_address = 1;
	m.response_address.data = (uint8_t *)r->response_addr;
	m.response_address.len = alen;
	/* A port pollux does not know (the kernel chose it for an upstream TCP connection) is
	 * left out rather than written as 0. */
	m.has_query_port = r->query_port != 0;
	m.query_port = r->query_port;
	m.has_response_port = r->response_port != 0;
	m.response_port = r->response_port;
	if (query) {
		m.has_query_time_sec = m.has_query_time_nsec = 1;
		m.query_time_sec = ns / NS_PER_S;
		m.query_time_nsec = (uint32_t)(ns % NS_PER_S);
		m.has_query_message = 1;
		m.query_message.data = (uint8_t *)r->msg;
		m.query_message.len = r->msg_len;
	} else {
		m.has_response_time_sec = m.has_response_time_nsec = 1;
		m.response_time_sec = ns / NS_PER_S;
		m.response_time_nsec = (uint32_t)(ns % NS_PER_S);
		m.has_response_message = 1;
		m.response_message.data = (uint8_t *)r->msg;
		m.response_message.len = r->msg_len;
	}
	len = dnstap__dnstap__get_packed_size(&d);
	if (len > cap)
		return 0;
	return dnstap__dnstap__pack(&d, buf);
}
