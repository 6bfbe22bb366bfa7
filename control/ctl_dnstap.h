/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dnstap query logging, the control plane's side: the options, the encoder and the logging
 * thread.
 *
 * Each worker puts fixed-size records on a ring of its own (pollux/dnstap.h, dataplane/dp_tap.h).
 * The logging thread, a plain pthread (it sleeps and does I/O, which no worker may), drains the
 * rings in turn, encodes each record as a dnstap protobuf (libprotobuf-c, with the schema in
 * control/dnstap.proto) and writes the frames with libfstrm, content type
 * "protobuf:dnstap.Dnstap": to a file (dnstap: PATH, truncated at start, the format
 * dnstap-read and Unbound's tools read), or to a Unix socket (dnstap-socket: PATH, Frame
 * Streams' bidirectional handshake, as fstrm_capture or a dnstap collector expects). A socket
 * nobody listens on is tried again every CTL_DNSTAP_RETRY_MS; meanwhile the thread does not
 * drain, so the workers' rings fill and they count the records they drop (dnstap_dropped), and
 * the oldest records waiting are the first written once the reader is back. At shutdown, after
 * the workers stopped, the thread writes out what the rings hold and closes the stream, which
 * flushes it (a file) and ends it with a STOP frame.
 *
 * The header holds no DPDK type: ctl_config.c (linked alone by its tests) includes it for the
 * options.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollux/acl.h>
#include <pollux/dnstap.h>

/* Records per worker ring (about 1.3 KB each: 5 MB a worker, on its socket). */
#define CTL_DNSTAP_RING_SIZE 4096
#define CTL_DNSTAP_RETRY_MS 1000
#define CTL_DNSTAP_MAX_SAMPLE 1000000
#define CTL_DNSTAP_CONTENT_TYPE "protobuf:dnstap.Dnstap"
/* Logged by default: what clients asked and were told. Upstream traffic is opt-in. */
#define CTL_DNSTAP_DEFAULT_TYPES (PX_TAP_BIT(PX_TAP_CLIENT_QUERY) | PX_TAP_BIT(PX_TAP_CLIENT_RESPONSE))

/* What the options say (ctl_config.h: struct ctl_config.dnstap). */
struct ctl_dnstap_conf {
	char *path;     /* owned; NULL: dnstap off */
	bool socket;    /* path is a Unix socket (dnstap-socket), else a file (dnstap) */
	char origin[PX_ACL_ORIGIN_LEN]; /* where path was given ("FILE:LINE", "command line") */
	uint32_t sample; /* 1 in sample messages of each type is logged */
	uint32_t types;  /* PX_TAP_BIT of each type logged */
};

/* Fills c with the defaults: off, sample 1, client queries and responses. */
void ctl_dnstap_conf_init(struct ctl_dnstap_conf *c);

/*
 * Applies one dnstap option, key being its name without "--" (dnstap, dnstap-socket,
 * dnstap-sample, dnstap-log-*-messages) and origin where it came from. A file path is refused
 * here, where the file and line are known, when it cannot be written (a directory, no such
 * directory, no permission, a read-only file system); a socket path when it is too long or its
 * directory does not exist (the socket itself may appear later). The last of dnstap and
 * dnstap-socket given wins. Returns 0, 1 when key is not a dnstap option, or -EINVAL with the
 * reason in why. Control thread (config parsing). (ctl_config_dnstap.c)
 */
int ctl_dnstap_conf_apply(struct ctl_dnstap_conf *c, const char *key, const char *val,
			  const char *origin, char *why, size_t why_len);

/* What a frame says about its writer. */
struct ctl_dnstap_ident {
	const char *identity; /* the host name */
	const char *version;  /* "pollux VERSION" */
};

/* The TSC's rate and one moment both on the TSC and CLOCK_REALTIME: how a record's TSC
 * becomes its time. */
struct ctl_dnstap_clock {
	uint64_t hz;
	uint64_t tsc;
	uint64_t ns;  /* CLOCK_REALTIME at tsc, in nanoseconds */
};

/* The CLOCK_REALTIME nanoseconds of TSC value tsc. Any thread. */
uint64_t ctl_dnstap_time_ns(const struct ctl_dnstap_clock *clk, uint64_t tsc);

/*
 * Encodes r as one dnstap frame payload (a serialised Dnstap message of type MESSAGE) into
 * buf: the message type, family, protocol, addresses and ports; a query type sets the query
 * time and query_message, a response type the response time and response_message. Allocates
 * nothing. Returns the length, or 0 when it would not fit cap or r is not one pollux writes.
 * Any thread. (ctl_dnstap_enc.c)
 */
size_t ctl_dnstap_encode(const struct px_tap_rec *r, const struct ctl_dnstap_ident *id,
			 const struct ctl_dnstap_clock *clk, uint8_t *buf, size_t cap);

/* The most a frame ctl_dnstap_encode writes can take. */
#define CTL_DNSTAP_FRAME_MAX (PX_TAP_MSG_MAX + 512)

struct ctl_dnstap;
struct dp_tap;

/*
 * Sets up logging for `workers` workers as conf says (conf->path set): opens the file now
 * (truncating it), so that a path that cannot be written fails the start, or prepares the
 * socket writer (connected by the thread). Returns NULL with the reason, naming conf->origin,
 * in err. Control thread only, after the EAL is up.
 */
struct ctl_dnstap *ctl_dnstap_create(const struct ctl_dnstap_conf *conf, unsigned workers,
				     char *err, size_t err_len);

/* Worker w's ring and sampling state, allocated on socket: what its struct dp_lcore's tap
 * points to. NULL when d is NULL (dnstap off), or with errno set (ENOMEM). Control thread,
 * before launch. */
struct dp_tap *ctl_dnstap_worker(struct ctl_dnstap *d, unsigned w, int socket);

/* Starts the logging thread. Returns 0 or -errno with the reason in err. Control thread. */
int ctl_dnstap_start(struct ctl_dnstap *d, char *err, size_t err_len);

/* All of the above for the daemon: ctl_dnstap_create for every worker lcore, each one's ring on
 * its socket (worker w being the w-th in RTE_LCORE_FOREACH_WORKER order), and the thread
 * started. Returns NULL with the reason in err. Control thread, after the EAL is up, before
 * the workers launch. */
struct ctl_dnstap *ctl_dnstap_open(const struct ctl_dnstap_conf *conf, char *err,
				   size_t err_len);

/* Worker w's state made by ctl_dnstap_open (its struct dp_lcore's tap), or NULL when d is
 * NULL: dnstap off. Control thread, before launch. */
struct dp_tap *ctl_dnstap_tap(struct ctl_dnstap *d, unsigned w);

/*
 * A reload (ctl_reload_groups.c), for a pollux that started with dnstap on: prepare, with
 * reopen (another destination, or none), checks the new destination as a start would (a file
 * that cannot be opened is refused, naming conf->origin) and builds its writer options; without
 * reopen it checks nothing, as the stream in use stays. It touches nothing in force; returns
 * NULL with the reason in err. commit takes n: the workers' types and sample change at once (conf->path
 * NULL: nothing more is logged), and with reopen the thread writes what the rings hold to the
 * old stream, closes it and opens the new one. Turning dnstap on when it was off at start needs
 * a restart (the workers have no rings). Control thread only.
 */
struct ctl_dnstap_next;
struct ctl_dnstap_next *ctl_dnstap_prepare(const struct ctl_dnstap_conf *conf, bool reopen,
					   char *err, size_t err_len);
void ctl_dnstap_commit(struct ctl_dnstap *d, struct ctl_dnstap_next *n, bool reopen);
void ctl_dnstap_next_free(struct ctl_dnstap_next *n);

/* Whether the thread has taken the last destination committed: records logged from then on go
 * to it, those logged before may still go to the old one. Control thread. */
bool ctl_dnstap_switched(struct ctl_dnstap *d);

/* After the workers stopped: lets the thread write out what the rings hold, closes the stream
 * (a file is flushed) and frees everything. NULL is a no-op. Control thread only. */
void ctl_dnstap_free(struct ctl_dnstap *d);
