/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <pollux/ctl_proto.h>

#include "ctl_config.h"
#include "ctl_http.h"

/* The file knows no DPDK: the unit tests link it alone, and every failure reaches the operator
 * through err, which main.c prints once. */

enum opt_id {
	OPT_HELP = 'h',
	OPT_IP = 256,
	OPT_GATEWAY,
	OPT_IP6,
	OPT_GATEWAY6,
	OPT_LOCAL_ZONE,
	OPT_CONTROL,
	OPT_CONFIG,
	OPT_IDLE_SLEEP_US,
	OPT_CACHE_SIZE,
	OPT_PORT,
	OPT_MBUFS,
	OPT_RX_DESC,
	OPT_TX_DESC,
	OPT_HINTS,
	OPT_HINTS_FALLBACK,
	OPT_MIN_ROOT_SERVERS,
	OPT_DO_NOT_QUERY,
	OPT_ALLOW_LOOPBACK_NS,
	OPT_CHECK_HINTS,
	OPT_RECURSION,
	OPT_RESOLVER_SLOTS,
	OPT_SLOTS_PER_CLIENT,
	OPT_CLIENT_PREFIX6,
	OPT_JOSTLE_MS,
	OPT_RTO_MIN,
	OPT_QNAME_MIN,
	OPT_MAX_TTL,
	OPT_MAX_NEG_TTL,
	OPT_PRIMING,
	OPT_TCP,
	OPT_TCP_IFACE,
	OPT_ACCESS_CONTROL,
	OPT_RATELIMIT,
	OPT_RATELIMIT_BURST,
	OPT_RATELIMIT_SLIP,
	OPT_RATELIMIT_V4_PREFIX,
	OPT_RATELIMIT_V6_PREFIX,
	OPT_RATELIMIT_SIZE,
	OPT_TCP_CONN_PER_CLIENT,
	OPT_METRICS_LISTEN,
	OPT_HEALTH_WINDOW,
	OPT_HEALTH_PROBE,
	OPT_VLAN,
	OPT_DNSTAP,
	OPT_DNSTAP_SOCKET,
	OPT_DNSTAP_SAMPLE,
	OPT_DNSTAP_LOG_CQ,
	OPT_DNSTAP_LOG_CR,
	OPT_DNSTAP_LOG_RQ,
	OPT_DNSTAP_LOG_RR,
	OPT_SERVE_STALE_MAX,
	OPT_SERVE_STALE_TIMEOUT,
	OPT_SERVE_STALE_TTL,
	OPT_PREFETCH,
};

#define STR_(x) #x
#define STR(x) STR_(x)

struct opt_desc {
	const char *name;
	int id;
	const char *arg;  /* NULL: takes no argument */
	const char *help;
};

/* One table drives getopt, the config-file keys and --help, so they cannot disagree. */
static const struct opt_desc opt_table[] = {
	{ "ip", OPT_IP, "ADDR/LEN",
	  "IPv4 address and prefix to serve on (this or --ip6 is required)" },
	{ "gateway", OPT_GATEWAY, "ADDR", "IPv4 default gateway, on the --ip subnet" },
	{ "ip6", OPT_IP6, "ADDR/LEN", "IPv6 address and prefix to serve on" },
	{ "gateway6", OPT_GATEWAY6, "ADDR", "IPv6 default gateway (may be link-local)" },
	{ "local-zone", OPT_LOCAL_ZONE, "FILE", "zone file answered locally; repeatable, at most "
	  STR(CTL_MAX_LOCAL_ZONES) " in all" },
	{ "control", OPT_CONTROL, "PATH", "Unix socket for polluxctl" },
	{ "config", OPT_CONFIG, "FILE",
	  "read options from FILE first; the command line overrides" },
	{ "idle-sleep-us", OPT_IDLE_SLEEP_US, "N", "1 ms idle, then sleep N us a poll, 0-1000000 "
	  "(0: pure polling)" },
	{ "cache-size", OPT_CACHE_SIZE, "N", "cache entries, 1-1073741824 (~360 B each, taken at start)" },
	{ "port", OPT_PORT, "N", "DPDK ethdev port id, 0-65535" },
	{ "mbufs", OPT_MBUFS, "N", "mbuf pool size, 1023-16777215" },
	{ "rx-desc", OPT_RX_DESC, "N", "RX ring descriptors, a power of two 64-16384" },
	{ "tx-desc", OPT_TX_DESC, "N", "TX ring descriptors, a power of two 64-16384" },
	{ "hints", OPT_HINTS, "FILE", "root hints in named.root format (default: the built-in "
	  "IANA copy)" },
	{ "hints-fallback", OPT_HINTS_FALLBACK, "builtin|refuse", "a bad hints file at start: "
	  "use the built-in copy, or exit" },
	{ "min-root-servers", OPT_MIN_ROOT_SERVERS, "N", "root servers with a usable address a "
	  "hints file must keep, 1-64" },
	{ "do-not-query", OPT_DO_NOT_QUERY, "NET", "never query nameservers in NET (ADDR/LEN or "
	  "ADDR); repeatable" },
	{ "allow-loopback-ns", OPT_ALLOW_LOOPBACK_NS, "yes|no", "accept 127.0.0.0/8 and ::1 "
	  "nameservers (labs only)" },
	{ "recursion", OPT_RECURSION, "yes|no", "resolve misses via --gateway/--gateway6 or "
	  "on-link (no: SERVFAIL)" },
	{ "resolver-slots", OPT_RESOLVER_SLOTS, "N", "pending resolutions per worker, 1-1048576" },
	{ "resolver-slots-per-client", OPT_SLOTS_PER_CLIENT, "N", "pending misses per client "
	  "and worker, 0-1048576 (0: no cap)" },
	{ "resolver-client-prefix6", OPT_CLIENT_PREFIX6, "LEN", "IPv6 clients are capped per "
	  "/LEN, 1-128" },
	{ "resolver-jostle-ms", OPT_JOSTLE_MS, "MS", "all slots busy: take over one this old "
	  "waiting on a dead server (0: off)" },
	{ "upstream-rto-min", OPT_RTO_MIN, "MS", "least time a nameserver gets to answer, "
	  "10-3000" },
	{ "qname-minimisation", OPT_QNAME_MIN, "yes|no", "RFC 9156 QNAME minimisation (relaxed)" },
	{ "max-ttl", OPT_MAX_TTL, "SECONDS", "cache answers and delegations at most this long, "
	  "1-" STR(CTL_MAX_TTL_LIMIT) " (default " STR(CTL_DEFAULT_MAX_TTL) ")" },
	{ "max-neg-ttl", OPT_MAX_NEG_TTL, "SECONDS", "cache negative answers at most this long, "
	  "0-" STR(CTL_MAX_TTL_LIMIT) " (default " STR(CTL_DEFAULT_MAX_NEG_TTL) ")" },
	{ "priming", OPT_PRIMING, "yes|no", "RFC 8109 priming of the root NS set (default yes)" },
	{ "serve-stale-max", OPT_SERVE_STALE_MAX, "SECONDS", "serve expired answers this long "
	  "when a refresh fails, 0-" STR(CTL_MAX_TTL_LIMIT) " (0: off)" },
	{ "serve-stale-client-timeout", OPT_SERVE_STALE_TIMEOUT, "MS", "stale answer after "
	  "this long on a refresh, 0-30000" },
	{ "serve-stale-ttl", OPT_SERVE_STALE_TTL, "SECONDS", "the TTL of stale answers, 1-3600" },
	{ "prefetch", OPT_PREFETCH, "yes|no", "refresh an entry hit in its TTL's last tenth" },
	{ "tcp", OPT_TCP, "on|off", "DNS over TCP through the kernel (a net_tun exception path)" },
	{ "tcp-iface", OPT_TCP_IFACE, "NAME", "the kernel interface of the TCP exception path" },
	{ "access-control", OPT_ACCESS_CONTROL, "'NET ACTION'", "ACTION allow|refuse|drop; "
	  "repeatable, longest prefix wins" },
	{ "ratelimit", OPT_RATELIMIT, "N", "queries a second per client address (prefix), "
	  "0-" STR(PX_RL_MAX_RATE) "; 0: off" },
	{ "ratelimit-burst", OPT_RATELIMIT_BURST, "N", "bucket depth in queries, "
	  "0-" STR(PX_RL_MAX_RATE) " (0: as ratelimit)" },
	{ "ratelimit-slip", OPT_RATELIMIT_SLIP, "K", "every K-th limited query gets a TC answer, "
	  "0-1000 (0: none)" },
	{ "ratelimit-ipv4-prefix", OPT_RATELIMIT_V4_PREFIX, "LEN", "IPv4 clients share a bucket "
	  "per /LEN, 1-32" },
	{ "ratelimit-ipv6-prefix", OPT_RATELIMIT_V6_PREFIX, "LEN", "IPv6 clients share a bucket "
	  "per /LEN, 1-128" },
	{ "ratelimit-size", OPT_RATELIMIT_SIZE, "N", "token buckets per worker, 1024-"
	  STR(PX_RL_MAX_SIZE) },
	{ "tcp-conn-per-client", OPT_TCP_CONN_PER_CLIENT, "N", "TCP connections from one IPv4 address or "
	  "IPv6 /64, 1-" STR(CTL_MAX_TCP_CONN_PER_CLIENT) " (default "
	  STR(CTL_DEFAULT_TCP_CONN_PER_CLIENT) ")" },
	{ "metrics-listen", OPT_METRICS_LISTEN, "ADDR:PORT", "Prometheus GET /metrics on a kernel "
	  "socket, [IPv6]:PORT too (off)" },
	{ "health-resolve-window", OPT_HEALTH_WINDOW, "SECONDS", "no resolution this "
	  "long: unhealthy, 0-86400 (0: off)" },
	{ "health-probe", OPT_HEALTH_PROBE, "'NAME [TYPE]'", "resolved when none succeeded for "
	  "half the window" },
	{ "vlan", OPT_VLAN, "ID", "the port's 802.1Q VLAN ID, 1-4094; untagged frames are "
	  "dropped (off)" },
	{ "dnstap", OPT_DNSTAP, "FILE", "write dnstap (Frame Streams) to FILE, truncated at start "
	  "(off)" },
	{ "dnstap-socket", OPT_DNSTAP_SOCKET, "PATH", "write dnstap to a Unix socket, e.g. "
	  "fstrm_capture's (off)" },
	{ "dnstap-sample", OPT_DNSTAP_SAMPLE, "N", "log 1 in N messages of each type, 1-"
	  STR(CTL_DNSTAP_MAX_SAMPLE) },
	{ "dnstap-log-client-query-messages", OPT_DNSTAP_LOG_CQ, "yes|no", "dnstap CLIENT_QUERY" },
	{ "dnstap-log-client-response-messages", OPT_DNSTAP_LOG_CR, "yes|no",
	  "dnstap CLIENT_RESPONSE" },
	{ "dnstap-log-resolver-query-messages", OPT_DNSTAP_LOG_RQ, "yes|no",
	  "dnstap RESOLVER_QUERY (upstream)" },
	{ "dnstap-log-resolver-response-messages", OPT_DNSTAP_LOG_RR, "yes|no",
	  "dnstap RESOLVER_RESPONSE (upstream)" },
	{ "check-hints", OPT_CHECK_HINTS, "FILE", "validate a hints file, print the verdict and "
	  "exit (no EAL needed)" },
	{ "help", OPT_HELP, NULL, "print this help and exit" },
};

#define OPT_COUNT (sizeof(opt_table) / sizeof(opt_table[0]))
_Static_assert(OPT_COUNT <= CTL_CONFIG_MAX_KEYS, "raise CTL_CONFIG_MAX_KEYS");

static void opt_default(int id, char *buf, size_t len);

void
ctl_config_set_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}
#define set_err ctl_config_set_err

void
ctl_config_init(struct ctl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->idle_sleep_us = CTL_DEFAULT_IDLE_SLEEP_US;
	cfg->cache_size = CTL_DEFAULT_CACHE_SIZE;
	cfg->port_id = 0;
	cfg->mbufs = CTL_DEFAULT_MBUFS;
	cfg->rx_desc = CTL_DEFAULT_RX_DESC;
	cfg->tx_desc = CTL_DEFAULT_TX_DESC;
	cfg->min_root_servers = CTL_DEFAULT_MIN_ROOT_SERVERS;
	cfg->recursion = true;
	cfg->resolver_slots = CTL_DEFAULT_RESOLVER_SLOTS;
	cfg->slots_per_client = CTL_SLOTS_PER_CLIENT_AUTO;
	cfg->client_prefix6 = CTL_DEFAULT_CLIENT_PREFIX6;
	cfg->jostle_ms = CTL_DEFAULT_JOSTLE_MS;
	cfg->rto_min_ms = CTL_DEFAULT_RTO_MIN_MS;
	cfg->health_resolve_window_s = CTL_DEFAULT_HEALTH_WINDOW_S;
	cfg->health_probe.qname_len = 1; /* the root, NS: what every resolver can always ask */
	cfg->health_probe.qtype = PX_DNS_TYPE_NS;
	ctl_dnstap_conf_init(&cfg->dnstap);
	cfg->qname_min = true;
	cfg->max_ttl = CTL_DEFAULT_MAX_TTL;
	cfg->max_neg_ttl = CTL_DEFAULT_MAX_NEG_TTL;
	cfg->priming = true;
	cfg->serve_stale_max = CTL_DEFAULT_SERVE_STALE_MAX;
	cfg->serve_stale_timeout_ms = CTL_DEFAULT_SERVE_STALE_TIMEOUT_MS;
	cfg->serve_stale_ttl = CTL_DEFAULT_SERVE_STALE_TTL;
	cfg->prefetch = true;
	cfg->tcp = true;
	snprintf(cfg->tcp_iface, sizeof(cfg->tcp_iface), "%s", CTL_DEFAULT_TCP_IFACE);
	cfg->ratelimit_slip = CTL_DEFAULT_RATELIMIT_SLIP;
	cfg->ratelimit_v4_prefix = CTL_DEFAULT_RATELIMIT_V4_PREFIX;
	cfg->ratelimit_v6_prefix = CTL_DEFAULT_RATELIMIT_V6_PREFIX;
	cfg->ratelimit_size = CTL_DEFAULT_RATELIMIT_SIZE;
	cfg->tcp_conn_per_client = CTL_DEFAULT_TCP_CONN_PER_CLIENT;
	px_addr_policy_init(&cfg->addr_policy);
	/* init cannot report a failed strdup; parse_args fills the default in again if needed. */
	cfg->control_path = strdup(PX_CTL_DEFAULT_PATH);
}

void
ctl_config_free(struct ctl_config *cfg)
{
	for (unsigned i = 0; i < cfg->local_zone_count; i++) {
		free(cfg->local_zones[i]);
		cfg->local_zones[i] = NULL;
	}
	cfg->local_zone_count = 0;
	free(cfg->control_path);
	cfg->control_path = NULL;
	free(cfg->config_file);
	cfg->config_file = NULL;
	free(cfg->hints_file);
	cfg->hints_file = NULL;
	free(cfg->check_hints);
	cfg->check_hints = NULL;
	free(cfg->dnstap.path);
	cfg->dnstap.path = NULL;
	free(cfg->acl_rules);
	cfg->acl_rules = NULL;
	cfg->acl_rule_count = cfg->acl_rule_cap = 0;
	for (unsigned i = 0; i < CTL_CONFIG_MAX_KEYS; i++) {
		free(cfg->values[i]);
		cfg->values[i] = NULL;
		free(cfg->origins[i]);
		cfg->origins[i] = NULL;
	}
}

/* Decimal only, no sign, no spaces, no trailing junk: strtoul alone accepts " -1" and "12abc". */
static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out, char *why, size_t why_len)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0])) {
		set_err(why, why_len, "not a decimal number");
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0') {
		set_err(why, why_len, "not a decimal number");
		return -EINVAL;
	}
	if (errno == ERANGE || v < min || v > max) {
		set_err(why, why_len, "must be %lu-%lu", (unsigned long)min, (unsigned long)max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
parse_desc(const char *s, uint16_t *out, char *why, size_t why_len)
{
	uint32_t v;

	if (parse_u32(s, 0, UINT32_MAX, &v, why, why_len) < 0)
		return -EINVAL;
	if (v < 64 || v > 16384 || (v & (v - 1)) != 0) {
		set_err(why, why_len, "must be a power of two 64-16384");
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

/* "ADDR/LEN" for either family; dst receives the address as inet_pton writes it. */
static int
parse_prefix(int af, const char *s, void *dst, uint8_t *prefix, char *why, size_t why_len)
{
	uint32_t max_len = af == AF_INET ? 32 : 128;
	const char *fam = af == AF_INET ? "IPv4" : "IPv6";
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	uint32_t len;

	if (slash == NULL) {
		set_err(why, why_len, "expected ADDR/LEN");
		return -EINVAL;
	}
	if ((size_t)(slash - s) >= sizeof(addr)) {
		set_err(why, why_len, "not an %s address", fam);
		return -EINVAL;
	}
	memcpy(addr, s, slash - s);
	addr[slash - s] = '\0';
	if (inet_pton(af, addr, dst) != 1) {
		set_err(why, why_len, "not an %s address", fam);
		return -EINVAL;
	}
	if (parse_u32(slash + 1, 0, max_len, &len, NULL, 0) < 0) {
		set_err(why, why_len, "prefix length must be 0-%u", max_len);
		return -EINVAL;
	}
	*prefix = (uint8_t)len;
	return 0;
}

static int
parse_addr(int af, const char *s, void *dst, char *why, size_t why_len)
{
	if (inet_pton(af, s, dst) != 1) {
		set_err(why, why_len, "not an %s address", af == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	return 0;
}

static int
replace_str(char **dst, const char *s, char *why, size_t why_len)
{
	char *copy;

	if (s[0] == '\0') {
		set_err(why, why_len, "must not be empty");
		return -EINVAL;
	}
	copy = strdup(s);
	if (copy == NULL) {
		set_err(why, why_len, "out of memory");
		return -ENOMEM;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

static int
parse_yes_no(const char *val, bool *out, char *why, size_t why_len)
{
	if (strcmp(val, "yes") == 0)
		*out = true;
	else if (strcmp(val, "no") == 0)
		*out = false;
	else {
		set_err(why, why_len, "must be 'yes' or 'no'");
		return -EINVAL;
	}
	return 0;
}

static const char *opt_name(int id);

/* Applies one option; on failure writes only the reason to why, and the caller says where.
 * origin names where the value came from ("FILE:LINE" or "command line"). */
static int
apply_option(struct ctl_config *cfg, int id, const char *val, const char *origin, char *why,
	     size_t why_len)
{
	uint32_t v;
	int rc;

	switch (id) {
	case OPT_IP:
		rc = parse_prefix(AF_INET, val, &cfg->ip4, &cfg->ip4_prefix, why, why_len);
		cfg->has_ip4 |= rc == 0;
		return rc;
	case OPT_GATEWAY:
		rc = parse_addr(AF_INET, val, &cfg->gw4, why, why_len);
		cfg->has_gw4 |= rc == 0;
		return rc;
	case OPT_IP6:
		rc = parse_prefix(AF_INET6, val, cfg->ip6, &cfg->ip6_prefix, why, why_len);
		cfg->has_ip6 |= rc == 0;
		return rc;
	case OPT_GATEWAY6:
		rc = parse_addr(AF_INET6, val, cfg->gw6, why, why_len);
		cfg->has_gw6 |= rc == 0;
		return rc;
	case OPT_LOCAL_ZONE:
		if (cfg->local_zone_count >= CTL_MAX_LOCAL_ZONES) {
			set_err(why, why_len, "too many local zones (at most %u)",
				CTL_MAX_LOCAL_ZONES);
			return -EINVAL;
		}
		rc = replace_str(&cfg->local_zones[cfg->local_zone_count], val, why, why_len);
		if (rc == 0)
			cfg->local_zone_count++;
		return rc;
	case OPT_CONTROL:
		if (strlen(val) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
			set_err(why, why_len, "too long for a Unix socket path (at most %zu bytes)",
				sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
			return -EINVAL;
		}
		return replace_str(&cfg->control_path, val, why, why_len);
	case OPT_CONFIG:
		return replace_str(&cfg->config_file, val, why, why_len);
	case OPT_IDLE_SLEEP_US:
		return parse_u32(val, 0, 1000000, &cfg->idle_sleep_us, why, why_len);
	case OPT_CACHE_SIZE:
		return parse_u32(val, 1, 1u << 30, &cfg->cache_size, why, why_len);
	case OPT_PORT:
		rc = parse_u32(val, 0, UINT16_MAX, &v, why, why_len);
		if (rc == 0)
			cfg->port_id = (uint16_t)v;
		return rc;
	case OPT_MBUFS:
		return parse_u32(val, 1023, 16777215, &cfg->mbufs, why, why_len);
	case OPT_RX_DESC:
		return parse_desc(val, &cfg->rx_desc, why, why_len);
	case OPT_TX_DESC:
		return parse_desc(val, &cfg->tx_desc, why, why_len);
	case OPT_HINTS:
		return replace_str(&cfg->hints_file, val, why, why_len);
	case OPT_CHECK_HINTS:
		return replace_str(&cfg->check_hints, val, why, why_len);
	case OPT_HINTS_FALLBACK:
		if (strcmp(val, "builtin") == 0)
			cfg->hints_fallback = CTL_HINTS_FALLBACK_BUILTIN;
		else if (strcmp(val, "refuse") == 0)
			cfg->hints_fallback = CTL_HINTS_FALLBACK_REFUSE;
		else {
			set_err(why, why_len, "must be 'builtin' or 'refuse'");
			return -EINVAL;
		}
		return 0;
	case OPT_MIN_ROOT_SERVERS:
		return parse_u32(val, 1, 64, &cfg->min_root_servers, why, why_len);
	case OPT_DO_NOT_QUERY:
		rc = px_addr_policy_add(&cfg->addr_policy, val);
		if (rc == -ENOSPC)
			set_err(why, why_len, "too many netblocks (at most %u per family)",
				PX_ADDR_MAX_NETS);
		else if (rc != 0)
			set_err(why, why_len, "not a netblock (ADDR/LEN with the host bits clear, "
				"or ADDR)");
		return rc == 0 ? 0 : -EINVAL;
	case OPT_ALLOW_LOOPBACK_NS:
		return parse_yes_no(val, &cfg->addr_policy.allow_loopback, why, why_len);
	case OPT_RECURSION:
		return parse_yes_no(val, &cfg->recursion, why, why_len);
	case OPT_RESOLVER_SLOTS:
		return parse_u32(val, 1, CTL_MAX_RESOLVER_SLOTS, &cfg->resolver_slots, why, why_len);
	case OPT_SLOTS_PER_CLIENT:
		return parse_u32(val, 0, CTL_MAX_RESOLVER_SLOTS, &cfg->slots_per_client, why,
				 why_len);
	case OPT_CLIENT_PREFIX6:
		rc = parse_u32(val, 1, 128, &v, why, why_len);
		if (rc == 0)
			cfg->client_prefix6 = (uint8_t)v;
		return rc;
	case OPT_JOSTLE_MS:
		return parse_u32(val, 0, 60000, &cfg->jostle_ms, why, why_len);
	case OPT_RTO_MIN:
		return parse_u32(val, 10, 3000, &cfg->rto_min_ms, why, why_len);
	case OPT_QNAME_MIN:
		return parse_yes_no(val, &cfg->qname_min, why, why_len);
	case OPT_MAX_TTL:
		return parse_u32(val, 1, CTL_MAX_TTL_LIMIT, &cfg->max_ttl, why, why_len);
	case OPT_MAX_NEG_TTL:
		return parse_u32(val, 0, CTL_MAX_TTL_LIMIT, &cfg->max_neg_ttl, why, why_len);
	case OPT_PRIMING:
		return parse_yes_no(val, &cfg->priming, why, why_len);
	case OPT_SERVE_STALE_MAX:
		return parse_u32(val, 0, CTL_MAX_TTL_LIMIT, &cfg->serve_stale_max, why, why_len);
	case OPT_SERVE_STALE_TIMEOUT:
		return parse_u32(val, 0, 30000, &cfg->serve_stale_timeout_ms, why, why_len);
	case OPT_SERVE_STALE_TTL:
		return parse_u32(val, 1, 3600, &cfg->serve_stale_ttl, why, why_len);
	case OPT_PREFETCH:
		return parse_yes_no(val, &cfg->prefetch, why, why_len);
	case OPT_TCP:
		if (strcmp(val, "on") == 0 || strcmp(val, "off") == 0) {
			cfg->tcp = val[1] == 'n';
			return 0;
		}
		return parse_yes_no(val, &cfg->tcp, why, why_len);
	case OPT_TCP_IFACE:
		if (val[0] == '\0' || strlen(val) >= sizeof(cfg->tcp_iface) ||
		    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
			    strlen(val)) {
			set_err(why, why_len, "'%s': must be 1-15 letters, digits, '-', '_' or '.'",
				val);
			return -EINVAL;
		}
		snprintf(cfg->tcp_iface, sizeof(cfg->tcp_iface), "%s", val);
		return 0;
	case OPT_ACCESS_CONTROL:
		return ctl_config_add_acl(cfg, val, origin, why, why_len);
	case OPT_RATELIMIT:
		return parse_u32(val, 0, PX_RL_MAX_RATE, &cfg->ratelimit, why, why_len);
	case OPT_RATELIMIT_BURST:
		return parse_u32(val, 0, PX_RL_MAX_RATE, &cfg->ratelimit_burst, why, why_len);
	case OPT_RATELIMIT_SLIP:
		return parse_u32(val, 0, 1000, &cfg->ratelimit_slip, why, why_len);
	case OPT_RATELIMIT_V4_PREFIX:
		return parse_u32(val, 1, 32, &cfg->ratelimit_v4_prefix, why, why_len);
	case OPT_RATELIMIT_V6_PREFIX:
		return parse_u32(val, 1, 128, &cfg->ratelimit_v6_prefix, why, why_len);
	case OPT_RATELIMIT_SIZE:
		return parse_u32(val, 1024, PX_RL_MAX_SIZE, &cfg->ratelimit_size, why, why_len);
	case OPT_TCP_CONN_PER_CLIENT:
		return parse_u32(val, 1, CTL_MAX_TCP_CONN_PER_CLIENT, &cfg->tcp_conn_per_client,
				 why, why_len);
	case OPT_HEALTH_WINDOW:
		return parse_u32(val, 0, 86400, &cfg->health_resolve_window_s, why, why_len);
	case OPT_HEALTH_PROBE:
		return ctl_probe_parse(val, &cfg->health_probe, why, why_len);
	case OPT_VLAN:
		rc = parse_u32(val, 1, 4094, &v, why, why_len);
		if (rc == 0)
			cfg->vlan = (uint16_t)v;
		return rc;
	case OPT_DNSTAP:
	case OPT_DNSTAP_SOCKET:
	case OPT_DNSTAP_SAMPLE:
	case OPT_DNSTAP_LOG_CQ:
	case OPT_DNSTAP_LOG_CR:
	case OPT_DNSTAP_LOG_RQ:
	case OPT_DNSTAP_LOG_RR:
		return ctl_dnstap_conf_apply(&cfg->dnstap, opt_name(id), val, origin, why, why_len);
	case OPT_METRICS_LISTEN:
		if (ctl_http_parse_addr(val, &cfg->metrics_addr, &cfg->metrics_addr_len, why,
					why_len) != 0)
			return -EINVAL;
		cfg->has_metrics = true;
		return 0;
	}
	set_err(why, why_len, "unknown option");
	return -EINVAL;
}

/* Appends "val\n" to *list. */
static int
append_line(char **list, const char *val)
{
	size_t old = *list != NULL ? strlen(*list) : 0;
	char *v = realloc(*list, old + strlen(val) + 2);

	if (v == NULL)
		return -ENOMEM;
	v[old] = '\0';
	strcat(strcat(v, val), "\n");
	*list = v;
	return 0;
}

/* Appends val to the option's recorded values (ctl_config_changed), and where it came from
 * to its origins (ctl_config_show). */
static int
record_value(struct ctl_config *cfg, int id, const char *val, const char *origin)
{
	for (size_t i = 0; i < OPT_COUNT; i++)
		if (opt_table[i].id == id && (append_line(&cfg->values[i], val) != 0 ||
					      append_line(&cfg->origins[i], origin) != 0))
			return -ENOMEM;
	return 0;
}

static int
apply_recorded(struct ctl_config *cfg, int id, const char *val, const char *origin, char *why,
	       size_t why_len)
{
	int rc = apply_option(cfg, id, val, origin, why, why_len);

	if (rc == 0 && record_value(cfg, id, val, origin) != 0) {
		set_err(why, why_len, "out of memory");
		rc = -ENOMEM;
	}
	return rc;
}

int
ctl_config_changed(const struct ctl_config *a, const struct ctl_config *b,
		   void (*fn)(const char *name, void *arg), void *arg)
{
	int n = 0;

	for (size_t i = 0; i < OPT_COUNT; i++) {
		const char *va = a->values[i] != NULL ? a->values[i] : "";
		const char *vb = b->values[i] != NULL ? b->values[i] : "";

		if (strcmp(va, vb) != 0) {
			n++;
			if (fn != NULL)
				fn(opt_table[i].name, arg);
		}
	}
	return n;
}

void
ctl_config_adopt_values(struct ctl_config *dst, struct ctl_config *src, const char *name)
{
	for (size_t i = 0; i < OPT_COUNT; i++)
		if (strcmp(opt_table[i].name, name) == 0) {
			/* Moved, not copied: it cannot fail, and src is a parse about to be freed.
			 * src keeps nothing, so adopting twice is harmless. */
			free(dst->values[i]);
			dst->values[i] = src->values[i];
			src->values[i] = NULL;
			free(dst->origins[i]);
			dst->origins[i] = src->origins[i];
			src->origins[i] = NULL;
		}
}

void
ctl_config_mark_reloaded(struct ctl_config *cfg, const char *name, int64_t when)
{
	for (size_t i = 0; i < OPT_COUNT; i++)
		if (strcmp(opt_table[i].name, name) == 0)
			cfg->reloaded_at[i] = when;
}

const char *
ctl_config_origin(const struct ctl_config *cfg, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s", "default");
	for (size_t i = 0; i < OPT_COUNT; i++) {
		const char *o = cfg->origins[i], *last = o, *nl;

		if (strcmp(opt_table[i].name, name) != 0 || o == NULL)
			continue;
		while ((nl = strchr(o, '\n')) != NULL && nl[1] != '\0')
			last = o = nl + 1;
		snprintf(buf, len, "%.*s", (int)strcspn(last, "\n"), last);
	}
	return buf;
}

size_t
ctl_config_key_count(void)
{
	return OPT_COUNT;
}

const char *
ctl_config_key(size_t i, bool *takes_value, char *def, size_t def_len)
{
	if (i >= OPT_COUNT)
		return NULL;
	*takes_value = opt_table[i].arg != NULL;
	opt_default(opt_table[i].id, def, def_len);
	return opt_table[i].name;
}

static const struct opt_desc *
find_key(const char *key)
{
	for (size_t i = 0; i < OPT_COUNT; i++)
		if (opt_table[i].arg != NULL && strcmp(opt_table[i].name, key) == 0)
			return &opt_table[i];
	return NULL;
}

static char *
trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
			   end[-1] == '\n'))
		end--;
	*end = '\0';
	return s;
}

/* Cuts a '#' comment, except inside double quotes, where a path may legitimately hold '#'. */
static void
cut_comment(char *s)
{
	bool quoted = false;

	for (; *s != '\0'; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == '#' && !quoted) {
			*s = '\0';
			return;
		}
	}
}

/* Returns 0 with *opt and *val set, 1 for a line with nothing on it, or -EINVAL with the
 * reason in why. */
static int
parse_line(char *line, const struct opt_desc **opt, char **val, char *why, size_t why_len)
{
	char *colon, *key, *v;
	size_t len;

	cut_comment(line);
	line = trim(line);
	if (*line == '\0')
		return 1;
	colon = strchr(line, ':');
	if (colon == NULL) {
		set_err(why, why_len, "expected 'key: value'");
		return -EINVAL;
	}
	*colon = '\0';
	key = trim(line);
	v = trim(colon + 1);
	if (strcmp(key, "config") == 0) {
		set_err(why, why_len, "'config' is not allowed inside a config file");
		return -EINVAL;
	}
	*opt = find_key(key);
	if (*opt == NULL) {
		set_err(why, why_len, "unknown key '%s'", key);
		return -EINVAL;
	}
	len = strlen(v);
	if (len == 0) {
		set_err(why, why_len, "%s: missing value", key);
		return -EINVAL;
	}
	if (v[0] == '"' || v[len - 1] == '"') {
		if (len < 2 || v[0] != '"' || v[len - 1] != '"' ||
		    memchr(v + 1, '"', len - 2) != NULL) {
			set_err(why, why_len, "%s: unbalanced double quotes", key);
			return -EINVAL;
		}
		v[len - 1] = '\0';
		v++;
	}
	*val = v;
	return 0;
}

int
ctl_config_parse_file(struct ctl_config *cfg, const char *path, char *err, size_t err_len)
{
	const struct opt_desc *opt = NULL;
	char why[256];
	unsigned lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	FILE *f;

	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		set_err(err, err_len, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *text = line, *val = NULL, origin[PX_ACL_ORIGIN_LEN];

		lineno++;
		if (lineno == 1 && strncmp(text, "\xef\xbb\xbf", 3) == 0)
			text += 3; /* a UTF-8 byte order mark, as some editors write */
		if (strlen(line) != (size_t)n) {
			set_err(err, err_len, "%s:%u: NUL byte in line", path, lineno);
			rc = -EINVAL;
			goto out;
		}
		rc = parse_line(text, &opt, &val, why, sizeof(why));
		if (rc < 0) {
			set_err(err, err_len, "%s:%u: %s", path, lineno, why);
			goto out;
		}
		if (rc == 1) {
			rc = 0;
			continue;
		}
		snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
		rc = apply_recorded(cfg, opt->id, val, origin, why, sizeof(why));
		if (rc < 0) {
			set_err(err, err_len, "%s:%u: %s: '%s': %s", path, lineno, opt->name, val,
				why);
			goto out;
		}
	}
	if (ferror(f)) {
		rc = errno != 0 ? -errno : -EIO;
		set_err(err, err_len, "%s: %s", path, strerror(-rc));
	}
out:
	free(line);
	fclose(f);
	return rc;
}

static void
build_longopts(struct option *lo)
{
	for (size_t i = 0; i < OPT_COUNT; i++) {
		lo[i].name = opt_table[i].name;
		lo[i].has_arg = opt_table[i].arg != NULL ? required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = opt_table[i].id;
	}
	memset(&lo[OPT_COUNT], 0, sizeof(lo[OPT_COUNT]));
}

static const char *
opt_name(int id)
{
	for (size_t i = 0; i < OPT_COUNT; i++)
		if (opt_table[i].id == id)
			return opt_table[i].name;
	return "?";
}

/*
 * One getopt pass. With apply false it only checks the syntax and picks up --config and --help;
 * with apply true it applies every other option. '+' stops at the first non-option so that argv
 * is never permuted between the passes, and ':' tells a missing argument from an unknown option.
 */
static int
getopt_pass(struct ctl_config *cfg, int argc, char **argv, bool apply, char *err, size_t err_len)
{
	struct option lo[OPT_COUNT + 1];
	char why[256];
	int c, rc;

	build_longopts(lo);
	/* glibc reinitialises getopt, including any half-read "-xyz" cluster, only for optind 0. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", lo, NULL)) != -1) {
		if (c == '?') {
			/* optopt is 0 for an unknown long option (named in argv), the letter for
			 * an unknown short one, and 'h' for "--help=x", as --help is the only
			 * option without an argument. */
			if (optopt == 0)
				set_err(err, err_len, "unknown option '%s'", argv[optind - 1]);
			else if (optopt == OPT_HELP)
				set_err(err, err_len, "--help takes no argument");
			else
				set_err(err, err_len, "unknown option '-%c'", optopt);
			return -EINVAL;
		}
		if (c == ':') {
			set_err(err, err_len, "%s: missing argument", argv[optind - 1]);
			return -EINVAL;
		}
		if (c == OPT_HELP) {
			cfg->help = true;
			continue;
		}
		if (apply == (c == OPT_CONFIG))
			continue;
		rc = apply_recorded(cfg, c, optarg, "command line", why, sizeof(why));
		if (rc < 0) {
			set_err(err, err_len, "--%s: '%s': %s", opt_name(c), optarg, why);
			return rc;
		}
	}
	if (optind < argc) {
		set_err(err, err_len, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int
ctl_config_parse_args(struct ctl_config *cfg, int argc, char **argv, char *err, size_t err_len)
{
	int rc;

	if (cfg->control_path == NULL) {
		rc = replace_str(&cfg->control_path, PX_CTL_DEFAULT_PATH, err, err_len);
		if (rc < 0)
			return rc;
	}
	rc = getopt_pass(cfg, argc, argv, false, err, err_len);
	if (rc < 0)
		return rc;
	/* --help must work even when the config file it would read is broken. */
	if (cfg->help)
		return 0;
	if (cfg->config_file != NULL) {
		rc = ctl_config_parse_file(cfg, cfg->config_file, err, err_len);
		if (rc < 0)
			return rc;
	}
	return getopt_pass(cfg, argc, argv, true, err, err_len);
}

static void
opt_default(int id, char *buf, size_t len)
{
	switch (id) {
	case OPT_CONTROL:
		snprintf(buf, len, "%s", PX_CTL_DEFAULT_PATH);
		break;
	case OPT_IDLE_SLEEP_US:
		snprintf(buf, len, "%u", CTL_DEFAULT_IDLE_SLEEP_US);
		break;
	case OPT_CACHE_SIZE:
		snprintf(buf, len, "%u", CTL_DEFAULT_CACHE_SIZE);
		break;
	case OPT_PORT:
		snprintf(buf, len, "0");
		break;
	case OPT_MBUFS:
		snprintf(buf, len, "%u", CTL_DEFAULT_MBUFS);
		break;
	case OPT_RX_DESC:
		snprintf(buf, len, "%u", CTL_DEFAULT_RX_DESC);
		break;
	case OPT_TX_DESC:
		snprintf(buf, len, "%u", CTL_DEFAULT_TX_DESC);
		break;
	case OPT_HEALTH_WINDOW:
		snprintf(buf, len, "%u", CTL_DEFAULT_HEALTH_WINDOW_S);
		break;
	case OPT_SERVE_STALE_MAX:
		snprintf(buf, len, "%u", CTL_DEFAULT_SERVE_STALE_MAX);
		break;
	case OPT_SERVE_STALE_TIMEOUT:
		snprintf(buf, len, "%u", CTL_DEFAULT_SERVE_STALE_TIMEOUT_MS);
		break;
	case OPT_SERVE_STALE_TTL:
		snprintf(buf, len, "%u", CTL_DEFAULT_SERVE_STALE_TTL);
		break;
	case OPT_HEALTH_PROBE:
		snprintf(buf, len, ". NS");
		break;
	case OPT_RECURSION:
	case OPT_QNAME_MIN:
	case OPT_PREFETCH:
	case OPT_DNSTAP_LOG_CQ:
	case OPT_DNSTAP_LOG_CR:
		snprintf(buf, len, "yes");
		break;
	case OPT_DNSTAP_LOG_RQ:
	case OPT_DNSTAP_LOG_RR:
		snprintf(buf, len, "no");
		break;
	case OPT_DNSTAP_SAMPLE:
		snprintf(buf, len, "1");
		break;
	case OPT_RESOLVER_SLOTS:
		snprintf(buf, len, "%u", CTL_DEFAULT_RESOLVER_SLOTS);
		break;
	case OPT_SLOTS_PER_CLIENT:
		snprintf(buf, len, "resolver-slots / 8");
		break;
	case OPT_CLIENT_PREFIX6:
		snprintf(buf, len, "%u", CTL_DEFAULT_CLIENT_PREFIX6);
		break;
	case OPT_RTO_MIN:
		snprintf(buf, len, "%u", CTL_DEFAULT_RTO_MIN_MS);
		break;
	case OPT_JOSTLE_MS:
		snprintf(buf, len, "%u", CTL_DEFAULT_JOSTLE_MS);
		break;
	case OPT_TCP:
		snprintf(buf, len, "on");
		break;
	case OPT_TCP_IFACE:
		snprintf(buf, len, "%s", CTL_DEFAULT_TCP_IFACE);
		break;
	case OPT_RATELIMIT:
		snprintf(buf, len, "0");
		break;
	case OPT_RATELIMIT_SLIP:
		snprintf(buf, len, "%u", CTL_DEFAULT_RATELIMIT_SLIP);
		break;
	case OPT_RATELIMIT_V4_PREFIX:
		snprintf(buf, len, "%u", CTL_DEFAULT_RATELIMIT_V4_PREFIX);
		break;
	case OPT_RATELIMIT_V6_PREFIX:
		snprintf(buf, len, "%u", CTL_DEFAULT_RATELIMIT_V6_PREFIX);
		break;
	case OPT_RATELIMIT_SIZE:
		snprintf(buf, len, "%u", CTL_DEFAULT_RATELIMIT_SIZE);
		break;
	default:
		buf[0] = '\0';
	}
}

void
ctl_config_usage(FILE *out, const char *prog)
{
	char def[64], lhs[64];

	fprintf(out, "Usage: %s [EAL options] -- [pollux options]\n\n", prog);
	fprintf(out, "pollux options:\n");
	for (size_t i = 0; i < OPT_COUNT; i++) {
		const struct opt_desc *o = &opt_table[i];

		if (o->id == OPT_HELP)
			snprintf(lhs, sizeof(lhs), "-h, --help");
		else
			snprintf(lhs, sizeof(lhs), "--%s %s", o->name, o->arg);
		fprintf(out, "  %-24s %s", lhs, o->help);
		opt_default(o->id, def, sizeof(def));
		if (def[0] == '\0')
			fprintf(out, "\n");
		else if (27 + strlen(o->help) + strlen(def) + 12 <= 100)
			fprintf(out, " [default: %s]\n", def);
		else
			fprintf(out, "\n  %-24s [default: %s]\n", "", def);
	}
	fprintf(out,
		"\nConfig file (--config): one 'key: value' per line, keys named as the long\n"
		"options without '--' (e.g. 'ip: 192.0.2.53/24'); '#' starts a comment, blank\n"
		"lines are ignored, values may be wrapped in double quotes. 'config' and 'help'\n"
		"are not keys. The command line overrides the file; local-zone and\n"
		"access-control accumulate. polluxctl reload (and SIGHUP) re-read the file, all\n"
		"or nothing: local-zone, access-control, ratelimit*, do-not-query,\n"
		"allow-loopback-ns, qname-minimisation, max-ttl, max-neg-ttl, serve-stale-*,\n"
		"prefetch, hints*, min-root-servers, metrics-listen and health-* apply at once;\n"
		"other changed keys need a restart. polluxctl config shows the values in force\n"
		"and their sources.\n"
		"\nAccess control is closed by default: the --ip and --ip6 subnets and fe80::/10\n"
		"are allowed, every other source is refused. access-control rules (at most "
		STR(PX_ACL_MAX_CONFIGURED) ")\n"
		"are added on top, e.g. 'access-control: 203.0.113.0/24 allow'; a rule for the\n"
		"same prefix as a default replaces it. TCP peers refused or dropped are closed.\n");
}
