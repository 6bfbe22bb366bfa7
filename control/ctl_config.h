/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollux's own options (after the EAL's and a "--"), from the command line and from a config
 * file. Control thread only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <pollux/acl.h>
#include <pollux/addr_policy.h>
#include <pollux/ratelimit.h>

#include "ctl_dnstap.h"
#include "ctl_probe.h"

#define CTL_MAX_LOCAL_ZONES 64
/* Slots for the raw values of each option (ctl_config_changed); above the option count. */
#define CTL_CONFIG_MAX_KEYS 64
#define CTL_CONFIG_ORIGIN_LEN 512 /* "FILE:LINE", for messages */

struct ctl_config {
	bool has_ip4;
	uint32_t ip4;        /* network byte order */
	uint8_t ip4_prefix;
	bool has_gw4;
	uint32_t gw4;        /* network byte order */
	bool has_ip6;
	uint8_t ip6[16];
	uint8_t ip6_prefix;
	bool has_gw6;
	uint8_t gw6[16];
	char *local_zones[CTL_MAX_LOCAL_ZONES]; /* file paths, owned (strdup) */
	unsigned local_zone_count;
	char *control_path;  /* owned; default PX_CTL_DEFAULT_PATH */
	char *config_file;   /* owned; NULL when none */
	uint32_t idle_sleep_us; /* 0: pure polling */
	uint32_t cache_size;    /* entries */
	uint16_t port_id;
	uint32_t mbufs;         /* mbuf pool size */
	uint16_t rx_desc, tx_desc;
	char *hints_file;       /* owned; NULL: the compiled-in IANA hints */
	enum ctl_hints_fallback {
		CTL_HINTS_FALLBACK_BUILTIN = 0, /* a bad file at start: use the built-in copy */
		CTL_HINTS_FALLBACK_REFUSE,      /* a bad file at start: exit (private roots) */
	} hints_fallback;
	uint32_t min_root_servers; /* servers with a usable address a hints file must keep */
	struct px_addr_policy addr_policy; /* do-not-query, allow-loopback-ns */
	char *check_hints;      /* owned; --check-hints FILE: validate offline and exit */
	bool recursion;         /* resolve misses iteratively (needs --gateway or --gateway6) */
	uint32_t resolver_slots; /* pending resolutions (and client slots) per worker */
	uint32_t slots_per_client; /* client slots per client; 0: no cap; AUTO: slots / 8 */
	uint8_t client_prefix6;    /* IPv6 clients are capped per prefix of this length */
	uint32_t jostle_ms;        /* 0: never jostle */
	uint32_t rto_min_ms;       /* the upstream RTO's floor */
	bool qname_min;         /* RFC 9156 QNAME minimisation */
	uint32_t max_ttl;       /* seconds: answers and delegations are cached at most this long */
	uint32_t max_neg_ttl;   /* seconds: negative answers (RFC 2308) at most this long */
	bool priming;           /* RFC 8109 priming of the root NS set */
	/* Serve-stale (RFC 8767) and prefetch (dp_miss.h's struct dp_stale_conf). */
	uint32_t serve_stale_max;        /* seconds expired answers are kept; 0: off */
	uint32_t serve_stale_timeout_ms; /* the client response timer */
	uint32_t serve_stale_ttl;        /* seconds: the TTL stale answers carry */
	bool prefetch;                   /* refresh entries hit in the last tenth of their TTL */
	bool tcp;               /* DNS over TCP through the kernel (ctl_tun.h, ctl_tcp.h) */
	char tcp_iface[16];     /* the tun's kernel interface name */
	/* Access control (ctl_access.h): the configured rules, in the order given; the
	 * defaults (--ip and --ip6 subnets, link-local, refuse the rest) are added at build. */
	struct px_acl_rule *acl_rules; /* owned */
	uint32_t acl_rule_count, acl_rule_cap;
	/* Rate limiting per client (pollux/ratelimit.h). */
	uint32_t ratelimit;        /* queries a second; 0: off */
	uint32_t ratelimit_burst;  /* 0: as ratelimit */
	uint32_t ratelimit_slip;
	uint32_t ratelimit_v4_prefix, ratelimit_v6_prefix;
	uint32_t ratelimit_size;   /* buckets per worker */
	/* Every value each option was given, "v1\nv2\n", indexed like the option table: what a
	 * reload compares to tell which options changed (owned). */
	char *values[CTL_CONFIG_MAX_KEYS];
	/* Where each of those values came from, "FILE:LINE\n" or "command line\n", in the same
	 * order (owned); and when a reload last changed the option (time(NULL); 0: never). */
	char *origins[CTL_CONFIG_MAX_KEYS];
	int64_t reloaded_at[CTL_CONFIG_MAX_KEYS];
	uint32_t tcp_conn_per_client; /* TCP connections from one IPv4 address or IPv6 /64 */
	/* --metrics-listen: the Prometheus listener's kernel TCP address (ctl_http.h). */
	bool has_metrics;
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_addr_len;
	uint32_t health_resolve_window_s; /* ctl_health.h; 0: the resolution check is off */
	struct ctl_probe_question health_probe; /* what the health probe resolves */
	uint16_t vlan;          /* 802.1Q VLAN ID the port's frames carry; 0: untagged */
	struct ctl_dnstap_conf dnstap; /* dnstap query logging (ctl_dnstap.h) */
	bool help;
};

/* Defaults, as documented in --help and the README. */
#define CTL_DEFAULT_IDLE_SLEEP_US 0
/* The cache's memory is taken at start (dp_cache.h: about 360 bytes an entry, per NUMA socket
 * with workers): 256 Ki entries are about 95 MB, which fits the smallest set-ups; a server that
 * wants more says so. */
#define CTL_DEFAULT_CACHE_SIZE (1u << 18)
#define CTL_DEFAULT_MBUFS 16383
#define CTL_DEFAULT_RX_DESC 1024
#define CTL_DEFAULT_TX_DESC 1024
#define CTL_DEFAULT_MIN_ROOT_SERVERS 1
#define CTL_DEFAULT_RESOLVER_SLOTS 4096
#define CTL_MAX_RESOLVER_SLOTS (1u << 20)
/* The per-client cap when none is given: an eighth of the resolver slots (at least 1). */
#define CTL_SLOTS_PER_CLIENT_AUTO UINT32_MAX
#define CTL_DEFAULT_CLIENT_PREFIX6 56
#define CTL_DEFAULT_JOSTLE_MS 200
#define CTL_DEFAULT_RTO_MIN_MS 50 /* PX_UPQ_RTO_MIN_MS; Unbound's infra-cache-min-rtt */
#define CTL_DEFAULT_HEALTH_WINDOW_S 60

/* The per-client cap in force for cfg: 0 (none), the configured one, or the default share. */
static inline uint32_t
ctl_config_slots_per_client(const struct ctl_config *cfg)
{
	if (cfg->slots_per_client != CTL_SLOTS_PER_CLIENT_AUTO)
		return cfg->slots_per_client;
	return cfg->resolver_slots / 8 > 0 ? cfg->resolver_slots / 8 : 1;
}
/* Unbound's defaults (cache-max-ttl, cache-max-negative-ttl); RFC 2181 8 bounds TTLs at 2^31-1,
 * and a week is far beyond any sensible cache lifetime for a resolver anyway. */
#define CTL_DEFAULT_MAX_TTL 86400
#define CTL_DEFAULT_MAX_NEG_TTL 3600
#define CTL_MAX_TTL_LIMIT 604800
/* RFC 8767's suggestions: a day (it allows 1 to 7), a 1.8 s client response timer, 30 s TTL. */
#define CTL_DEFAULT_SERVE_STALE_MAX 86400
#define CTL_DEFAULT_SERVE_STALE_TIMEOUT_MS 1800
#define CTL_DEFAULT_SERVE_STALE_TTL 30
#define CTL_DEFAULT_TCP_IFACE "pxtcp0"
#define CTL_DEFAULT_RATELIMIT_SLIP 2
#define CTL_DEFAULT_RATELIMIT_V4_PREFIX 32
#define CTL_DEFAULT_RATELIMIT_V6_PREFIX 56
#define CTL_DEFAULT_RATELIMIT_SIZE 65536
/* RFC 7766 section 10 asks a server to bound what one client can hold. 16 leaves room for the
 * resolvers and browsers of a small NATed network; the maximum is the TCP thread's connection
 * slots (CTL_TCP_MAX_CONNS). */
#define CTL_DEFAULT_TCP_CONN_PER_CLIENT 16
#define CTL_MAX_TCP_CONN_PER_CLIENT 256

/* Fills cfg with the defaults. */
void ctl_config_init(struct ctl_config *cfg);

/* Frees what cfg owns (not cfg itself). */
void ctl_config_free(struct ctl_config *cfg);

/*
 * Parses pollux's own arguments (argv[0] is the program name, as getopt expects). A --config
 * FILE anywhere on the line is read first; the command line then overrides it, except that
 * local-zone accumulates from both. Returns 0, or -EINVAL with a one-line message in err
 * (e.g. "--ip: '10.0.0.1/33': prefix length must be 0-32").
 */
int ctl_config_parse_args(struct ctl_config *cfg, int argc, char **argv, char *err, size_t err_len);

/*
 * Reads a config file: one "key: value" per line, keys named as the long options without
 * "--", '#' starts a comment, blank lines ignored. Returns 0 or -errno with "FILE:LINE: reason"
 * in err.
 */
int ctl_config_parse_file(struct ctl_config *cfg, const char *path, char *err, size_t err_len);

/* Checks what only the whole configuration can tell (an address to serve on is required,
 * except with --check-hints). Returns 0 or -EINVAL with a message in err. */
int ctl_config_validate(const struct ctl_config *cfg, char *err, size_t err_len);

/* Writes a message into err (NULL or no room: nothing), for the config files' parse and
 * validation errors. */
void ctl_config_set_err(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Adds one access-control rule, "NET ACTION", from origin (e.g. "pollux.conf:12", "command
 * line"). A prefix already configured with another action is an error; with the same action
 * it is accepted once. Returns 0 or -EINVAL with the reason in why. (ctl_config_acl.c)
 */
int ctl_config_add_acl(struct ctl_config *cfg, const char *text, const char *origin, char *why,
		       size_t why_len);

/* The rate-limit parameters cfg says, burst defaulted. (ctl_config_acl.c) */
struct px_rl_params ctl_config_rl_params(const struct ctl_config *cfg);

/*
 * Calls fn(name, arg) for each option whose values differ between a and b (e.g. a running
 * configuration and a file re-read). Returns how many differ.
 */
int ctl_config_changed(const struct ctl_config *a, const struct ctl_config *b,
		       void (*fn)(const char *name, void *arg), void *arg);

/* Moves the recorded values of option `name` from src to dst: after a reload applied the
 * option, the running configuration records what is now in force. src records none after. */
void ctl_config_adopt_values(struct ctl_config *dst, struct ctl_config *src, const char *name);

/* Records that a reload changed option `name` at `when` (time(NULL)), for ctl_config_show. */
void ctl_config_mark_reloaded(struct ctl_config *cfg, const char *name, int64_t when);

/* Where option `name`'s last value came from ("FILE:LINE", "command line", "default"), in
 * buf. Returns buf. */
const char *ctl_config_origin(const struct ctl_config *cfg, const char *name, char *buf,
			      size_t len);

/* The options, for ctl_config_show: how many, and the i-th one's name (NULL past the end),
 * whether it takes a value, and its documented default in def ("" when it has none there). */
size_t ctl_config_key_count(void);
const char *ctl_config_key(size_t i, bool *takes_value, char *def, size_t def_len);

/*
 * `polluxctl config`: every option in force, one "name: value  # source" line per value; the
 * source is the default, FILE:LINE or the command line, with ", reload at TIME" when a reload
 * changed it. (ctl_config_show.c)
 */
void ctl_config_show(const struct ctl_config *cfg, FILE *out);

/* Prints the usage text for pollux's own options. */
void ctl_config_usage(FILE *out, const char *prog);
