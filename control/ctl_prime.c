/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Priming: what the priming worker recorded, logged and shown. See ctl_prime.h.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>

#include <pollux/prime.h>
#include <pollux/resolver.h>

#include "ctl_prime.h"
#include "dp_clock.h"
#include "dp_lcore.h"

RTE_LOG_REGISTER(ctl_prime_logtype, pollux.ctl.prime, INFO);
#define PRIME_LOG(level, ...) rte_log(RTE_LOG_##level, ctl_prime_logtype, __VA_ARGS__)

void
ctl_prime_init(struct ctl_prime_state *ps, const struct ctl_config *cfg, struct dp_ctx *ctx)
{
	memset(ps, 0, sizeof(*ps));
	ps->cfg = cfg;
	ps->ctx = ctx;
}

static const char *
addr_str(const struct px_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family == PX_AF_INET ? AF_INET : AF_INET6, a->a, buf,
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

/* The worker's clock reading `ms`, as wall-clock time. */
static time_t
wall_of(uint64_t ms)
{
	uint64_t now = dp_clock_ms();

	return time(NULL) - (time_t)((now > ms ? now - ms : 0) / 1000);
}

void
ctl_prime_tick(struct ctl_prime_state *ps)
{
	const struct px_prime_status *src = ps->ctx != NULL ? ps->ctx->prime_status : NULL;
	struct px_prime_status s;
	char abuf[48], what[sizeof(ps->failure)];

	if (src == NULL || !px_prime_status_read(src, &s) || s.events == ps->events_seen)
		return;
	ps->events_seen = s.events;
	ps->accepted = s.accepted;
	ps->rejected = s.rejected;
	ps->failed = s.failed;
	ps->cache_refused = s.not_cached;
	memcpy(ps->addr_rejected_total, s.addr_rejected_total, sizeof(ps->addr_rejected_total));
	if (s.primed) {
		bool fresh = !ps->primed || s.primed_ms != ps->primed_ms;

		ps->primed = true;
		ps->primed_ms = s.primed_ms;
		ps->primed_at = wall_of(s.primed_ms);
		ps->expire_ms = s.expire_ms;
		ps->ttl = s.ttl;
		ps->servers = s.servers;
		ps->addr_rejected = s.addr_rejected;
		addr_str(&s.server, ps->server, sizeof(ps->server));
		if (fresh)
			PRIME_LOG(INFO, "prime_accepted server=%s servers=%u ttl=%u "
				  "addr_rejected=%u\n", ps->server, s.servers, s.ttl,
				  s.addr_rejected);
	}
	addr_str(&s.last_server, abuf, sizeof(abuf));
	switch (s.last_kind) {
	case PX_PRIME_EV_REJECTED:
		snprintf(what, sizeof(what), "prime_rejected server=%s reason=%s", abuf,
			 px_prime_verdict_name((enum px_prime_verdict)s.last_verdict));
		break;
	case PX_PRIME_EV_FAILED:
		snprintf(what, sizeof(what), "prime_failed reason=%s",
			 px_resolver_fail_name((enum px_resolver_fail)s.last_fail));
		break;
	case PX_PRIME_EV_NOT_CACHED:
		snprintf(what, sizeof(what), "prime_not_cached server=%s: %s", abuf,
			 strerror(s.last_errno));
		break;
	default:
		return;
	}
	prime_failure(ps, what);
	ps->failure_at = wall_of(s.last_ms);
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
	if (ps->ctx == NULL || ps->ctx->prime_status == NULL) {
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
