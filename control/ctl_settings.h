/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The resolver settings workers take in while running (dp_settings.h) on the control thread:
 * built from a configuration, published with RCU, and read by the TCP thread for its last
 * address-policy check before an upstream TCP connection.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pollux/addr.h>
#include <pollux/addr_policy.h>

#include "ctl_config.h"

struct dp_ctx;
struct dp_miss_conf;
struct dp_settings;

/*
 * Whether cache misses are resolved, and how: fills rc from cfg, the same for every worker (the
 * part a reload may change later comes through ctl_settings_build). Returns false, saying why
 * in the log, when misses are answered SERVFAIL instead (recursion off). Without a gateway,
 * nameservers on the port's own subnets are still reachable, and only they.
 * Control thread, at start.
 */
bool ctl_settings_recurse_conf(const struct ctl_config *cfg, struct dp_miss_conf *rc);

struct ctl_settings {
	struct dp_ctx *ctx;  /* ctx->settings is the published object */
	uint64_t generation; /* of the published object */
	unsigned tcp_reader; /* the TCP thread's RCU reader id */
	bool tcp_reader_ok;
};

/* Fills st with the serve-stale and prefetch settings cfg describes. Any thread. */
struct dp_stale_conf;
void ctl_settings_stale(const struct ctl_config *cfg, struct dp_stale_conf *st);

/*
 * Builds the settings cfg describes, its address policy given the own addresses of self (the
 * running policy: the addresses cannot change without a restart). Returns a malloc'ed object,
 * or NULL with errno ENOMEM. Control thread.
 */
struct dp_settings *ctl_settings_build(const struct ctl_config *cfg,
				       const struct px_addr_policy *self);

/*
 * Publishes the first settings built from cfg (whose addr_policy already holds the own
 * addresses) and takes an RCU reader id for the TCP thread. Before workers start. Returns 0 or
 * -ENOMEM.
 */
int ctl_settings_start(struct ctl_settings *cs, const struct ctl_config *cfg, struct dp_ctx *ctx);

/* Publishes s (generation set here), waits for the grace period and frees the old object.
 * Control thread. */
void ctl_settings_publish(struct ctl_settings *cs, struct dp_settings *s);

/*
 * Checks an upstream address (its port is not looked at) against the policy in force. The TCP thread only: it goes RCU-online for the check and offline again. With no
 * reader id, every address is refused (closed, as everywhere else).
 */
enum px_addr_reason ctl_settings_check_addr(struct ctl_settings *cs, const struct px_addr *addr);

/* Unpublishes and frees the settings. After the workers and the TCP thread have stopped. */
void ctl_settings_stop(struct ctl_settings *cs);
