/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Access control and rate-limit parameters on the control thread: builds the struct dp_access
 * the workers read (dp_access.h) from the configuration, publishes it with RCU, reports it
 * (`polluxctl acl`), and checks the TCP thread's new connections against it.
 *
 * The rules in force are the defaults, then the configured ones on top:
 *   - the subnet of --ip and of --ip6, and fe80::/10 (IPv6 link-local): allow;
 *   - 0.0.0.0/0 and ::/0: refuse.
 * A configured rule for the same prefix as a default replaces it; otherwise the longest prefix
 * wins.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ctl_config.h"

struct dp_access;
struct dp_ctx;
struct sockaddr;

struct ctl_access {
	struct dp_ctx *ctx;          /* ctx->access is the published table */
	uint16_t workers;            /* hit-counter slices: one per worker, one for TCP */
	unsigned tcp_reader;         /* the TCP thread's RCU reader id */
	bool tcp_reader_ok;          /* registered: the TCP thread may check peers */
	uint64_t generation;
	time_t loaded_at;
	/* TCP connections per action (enum px_acl_action): tcp thread: rw, ctl: ro (relaxed). */
	uint64_t tcp_conns[3];
};

/*
 * Builds the access table cfg describes (defaults, then configured rules) for `workers`
 * workers. Returns it, or NULL with a reason in err. Control thread; allocates.
 */
struct dp_access *ctl_access_build(const struct ctl_config *cfg, uint16_t workers, char *err,
				   size_t err_len);

/* Frees a table that was never published, or that RCU has retired. NULL is a no-op. */
void ctl_access_free(struct dp_access *a);

/*
 * Builds and publishes the first table, logs what is allowed (every rule when none is
 * configured), and registers an RCU reader id for the TCP thread. Before workers start.
 * Returns 0 or -errno with a reason in err.
 */
int ctl_access_start(struct ctl_access *ca, const struct ctl_config *cfg, struct dp_ctx *ctx,
		     uint16_t workers, char *err, size_t err_len);

/*
 * Publishes a (from ctl_access_build), waits for the RCU grace period, carries each surviving
 * rule's hit count over from the old table, and frees the old table. Control thread.
 */
void ctl_access_publish(struct ctl_access *ca, struct dp_access *a);

/* `polluxctl acl`: the rate limit, then each rule in force with its action, hits and origin. */
void ctl_access_print(const struct ctl_access *ca, FILE *out);

/*
 * The action for a TCP connection from sa (AF_INET or AF_INET6), counted (the rule's hits and
 * tcp_conns). The TCP thread only: it goes RCU-online for the lookup and offline again. Allows
 * when ca is NULL or no table is published; refuses when no reader id could be had.
 */
unsigned ctl_access_check_peer(struct ctl_access *ca, const struct sockaddr *sa);

/* Unpublishes and frees the table. After the workers and the TCP thread have stopped. */
void ctl_access_stop(struct ctl_access *ca);
