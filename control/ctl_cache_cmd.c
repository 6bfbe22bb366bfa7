/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_log.h>

#include <ldns/ldns.h>

#include <pollux/cache_match.h>
#include <pollux/wire.h>

#include "ctl_cache_cmd.h"
#include "ctl_cache_dump.h"
#include "ctl_rrfile.h"
#include "dp_cut.h"

RTE_LOG_REGISTER(ctl_cache_logtype, pollux.ctl.cache, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_cache_logtype, "cache: " __VA_ARGS__)

bool
ctl_cache_cmd_handles(const char *cmd)
{
	static const char *const cmds[] = {"flush", "flush-zone", "flush-all", "lookup",
					   "dump-cache"};

	for (size_t i = 0; i < RTE_DIM(cmds); i++)
		if (strcmp(cmd, cmds[i]) == 0)
			return true;
	return false;
}

int
ctl_cache_parse_name(const char *s, uint8_t *wire)
{
	char buf[4 * PX_DNS_MAX_NAME + 2];
	size_t n = strlen(s), bs = 0;
	ldns_rdf *rdf = NULL;
	int len;

	if (n == 0 || n + 2 > sizeof(buf))
		return -EINVAL;
	/* Names are taken as absolute: a final dot is added unless one is there (and is not an
	 * escaped "\."). */
	while (bs < n - 1 && s[n - 2 - bs] == '\\')
		bs++;
	snprintf(buf, sizeof(buf), "%s%s", s, s[n - 1] == '.' && bs % 2 == 0 ? "" : ".");
	if (strcmp(buf, "..") == 0)
		return -EINVAL;
	if (ldns_str2rdf_dname(&rdf, buf) != LDNS_STATUS_OK)
		return -EINVAL;
	len = (int)ldns_rdf_size(rdf);
	if (px_name_labels(ldns_rdf_data(rdf), (unsigned)len) < 0) {
		ldns_rdf_deep_free(rdf);
		return -EINVAL;
	}
	ctl_rrfile_name_lower(wire, ldns_rdf_data(rdf), (size_t)len);
	ldns_rdf_deep_free(rdf);
	return len;
}

int
ctl_cache_parse_type(const char *s)
{
	char *end;
	unsigned long v;

	if (s[0] >= '0' && s[0] <= '9') {
		errno = 0;
		v = strtoul(s, &end, 10);
		return errno == 0 && *end == '\0' && v <= UINT16_MAX ? (int)v : -EINVAL;
	}
	v = ldns_get_rr_type_by_name(s);
	return v != 0 ? (int)v : -EINVAL;
}

const char *
ctl_cache_origin(const struct dp_cache_entry *e)
{
	if (e->flags & (DP_CACHE_F_AA | DP_CACHE_F_PINNED))
		return "local-zone";
	if (e->flags & DP_CACHE_F_PRIMED)
		return "primed";
	return "resolved";
}

size_t
ctl_cache_entry_size(const struct dp_cache_entry *e)
{
	return sizeof(*e) + e->ttl_off_count * sizeof(uint16_t) + e->name_len + e->rr_len;
}

static const char *
kind_str(uint8_t kind)
{
	switch (kind) {
	case DP_CACHE_RRSET: return "answer";
	case DP_CACHE_NAME: return "name (local zone: NODATA for other types)";
	case DP_CACHE_ZONE: return "zone apex (local zone: NXDOMAIN below)";
	case DP_CACHE_CUT: return "delegation";
	default: return "?";
	}
}

static const char *
rcode_str(char *buf, size_t size, uint8_t rcode)
{
	const ldns_lookup_table *t = ldns_lookup_by_id(ldns_rcodes, rcode);

	if (t != NULL)
		return t->name;
	snprintf(buf, size, "RCODE%u", rcode);
	return buf;
}

static void
print_addr(FILE *out, const char *owner, uint32_t ttl, const struct px_addr *a)
{
	char s[INET6_ADDRSTRLEN];
	bool v4 = a->family == PX_AF_INET;

	if (inet_ntop(v4 ? AF_INET : AF_INET6, a->a, s, sizeof(s)) == NULL)
		return;
	if (owner != NULL)
		fprintf(out, "%s\t%" PRIu32 "\tIN\t%s\t%s\n", owner, ttl, v4 ? "A" : "AAAA", s);
	else
		fprintf(out, "; a server address without a name: %s\n", s);
}

/* A delegation, in dp_cut.h's encoding: its NS set, each name's addresses after it. */
static int
print_cut(FILE *out, const struct dp_cache_entry *e, uint32_t ttl)
{
	struct px_resolver_start_buf *sb = malloc(sizeof(*sb));
	char zone[CTL_RRFILE_NAME_STR_LEN], ns[CTL_RRFILE_NAME_STR_LEN];

	if (sb == NULL)
		return -ENOMEM;
	if (dp_cut_decode(e, sb) != 0) {
		free(sb);
		return -EINVAL;
	}
	ctl_rrfile_name_str(zone, sizeof(zone), sb->sc.zone, sb->sc.zone_len);
	for (unsigned i = 0; i < sb->sc.addr_count; i++)
		print_addr(out, NULL, ttl, &sb->sc.addrs[i]);
	for (unsigned i = 0; i < sb->sc.ns_count; i++) {
		ctl_rrfile_name_str(ns, sizeof(ns), sb->sc.ns[i].name, sb->sc.ns[i].name_len);
		fprintf(out, "%s\t%" PRIu32 "\tIN\tNS\t%s\n", zone, ttl, ns);
	}
	for (unsigned i = 0; i < sb->sc.ns_count; i++) {
		ctl_rrfile_name_str(ns, sizeof(ns), sb->sc.ns[i].name, sb->sc.ns[i].name_len);
		for (unsigned k = 0; k < sb->sc.ns[i].addr_count; k++)
			print_addr(out, ns, ttl, &sb->sc.ns[i].addrs[k]);
	}
	free(sb);
	return 0;
}

int
ctl_cache_print_records(FILE *out, const struct dp_cache_entry *e, uint32_t ttl)
{
	unsigned total = (unsigned)e->an_count + e->ns_count + e->ar_count;
	size_t base = PX_DNS_HDR_LEN + e->name_len, len = base + e->rr_len, pos = base;
	uint8_t *msg;
	int rc = 0;

	if (e->kind == DP_CACHE_CUT)
		return print_cut(out, e, ttl);
	/* The records' owners may point at offset 12, where a response has the question's
	 * name: put the key's name there, and ldns reads them as a response's records. */
	msg = calloc(1, len);
	if (msg == NULL)
		return -ENOMEM;
	memcpy(msg + PX_DNS_HDR_LEN, dp_cache_entry_name(e), e->name_len);
	memcpy(msg + base, dp_cache_entry_rr(e), e->rr_len);
	for (unsigned i = 0; i < total && rc == 0; i++) {
		ldns_rr *rr = NULL;
		char *s;

		if (ldns_wire2rr(&rr, msg, len, &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) {
			rc = -EINVAL;
			break;
		}
		ldns_rr_set_ttl(rr, ttl);
		s = ldns_rr2str(rr);
		if (s == NULL)
			rc = -ENOMEM;
		else
			fputs(s, out);
		free(s);
		ldns_rr_free(rr);
	}
	free(msg);
	return rc;
}

/* The TTL an entry is served with now: 0 once expired. */
static uint32_t
ttl_left(const struct dp_cache_entry *e, uint64_t now_ms)
{
	int64_t t = dp_cache_entry_ttl(e, now_ms);

	return t > 0 ? (uint32_t)t : 0;
}

static void
print_key(FILE *out, const struct dp_cache_entry *e)
{
	char name[CTL_RRFILE_NAME_STR_LEN], cls[32], type[32];

	ctl_rrfile_name_str(name, sizeof(name), dp_cache_entry_name(e), e->name_len);
	fprintf(out, "%s %s %s", name, ctl_rrfile_class_str(cls, sizeof(cls), e->qclass),
		ctl_rrfile_type_str(type, sizeof(type), e->qtype));
}

int
ctl_cache_dump_entry(FILE *out, const struct dp_cache_entry *e, uint64_t now_ms)
{
	char rc[16];
	uint32_t ttl;

	if ((e->flags & DP_CACHE_F_PINNED) || dp_cache_entry_ttl(e, now_ms) < 0)
		return 0;
	ttl = ttl_left(e, now_ms);
	fputs("; ", out);
	print_key(out, e);
	fprintf(out, ": %s, %s, %" PRIu32 " s left\n",
		e->kind == DP_CACHE_CUT ? "delegation" : rcode_str(rc, sizeof(rc), e->rcode),
		ctl_cache_origin(e), ttl);
	if (ctl_cache_print_records(out, e, ttl) != 0)
		fputs("; (records that do not parse: left out)\n", out);
	return 1;
}

static void
print_lookup(FILE *out, const struct dp_cache_entry *e, uint64_t now_ms)
{
	int64_t t = dp_cache_entry_ttl(e, now_ms);
	char rc[16];

	print_key(out, e);
	fprintf(out, "\nkind: %s\n", kind_str(e->kind));
	if (e->kind != DP_CACHE_CUT)
		fprintf(out, "rcode: %s\n", rcode_str(rc, sizeof(rc), e->rcode));
	fprintf(out, "origin: %s\n", ctl_cache_origin(e));
	fprintf(out, "ttl: %" PRIu32 " of %" PRIu32 "\n", ttl_left(e, now_ms), e->ttl);
	if (e->flags & DP_CACHE_F_PINNED)
		fprintf(out, "state: configuration (counts down and starts again; never flushed)\n");
	else if (t < 0)
		fprintf(out, "state: expired %" PRIu64 " s ago (stale: served as such within "
			"serve-stale-max, then the sweep frees it)\n", (now_ms - e->expire_ms) / 1000);
	else
		fprintf(out, "state: fresh\n");
	fprintf(out, "records: %u answer, %u authority, %u additional\n", e->an_count,
		e->ns_count, e->ar_count);
	if (ctl_cache_print_records(out, e, ttl_left(e, now_ms)) != 0)
		fprintf(out, "; (records that do not parse)\n");
}

static int
cmd_lookup(struct dp_cache *c, int argc, char **argv, FILE *out, uint64_t now_ms)
{
	struct dp_cache_key k = {.qclass = PX_DNS_CLASS_IN, .kind = DP_CACHE_RRSET};
	struct dp_cache_key cut;
	struct dp_cache_entry *e[2];
	int len, type, found = 0;

	if (argc != 3) {
		fprintf(out, "usage: lookup NAME TYPE\n");
		return -1;
	}
	len = ctl_cache_parse_name(argv[1], k.name);
	type = ctl_cache_parse_type(argv[2]);
	if (len < 0 || type < 0) {
		fprintf(out, "bad %s '%s'\n", len < 0 ? "name" : "type", len < 0 ? argv[1] : argv[2]);
		return -1;
	}
	k.name_len = (uint8_t)len;
	k.qtype = (uint16_t)type;
	/* Both copies are made under the buckets' locks: the control thread is no RCU reader. */
	e[0] = dp_cache_entry_clone(c, &k);
	e[1] = NULL;
	if (type == PX_DNS_TYPE_NS) {
		dp_cut_key(&cut, k.name, k.name_len);
		e[1] = dp_cache_entry_clone(c, &cut);
	}
	for (int i = 0; i < 2; i++) {
		if (e[i] == NULL)
			continue;
		if (found++)
			fputc('\n', out);
		print_lookup(out, e[i], now_ms);
		dp_cache_entry_free(e[i]);
	}
	if (found == 0) {
		fprintf(out, "%s %s is not in the cache\n", argv[1], argv[2]);
		return -1;
	}
	return 0;
}

static int
cmd_flush(struct dp_cache *c, int argc, char **argv, FILE *out)
{
	enum px_flush_scope scope = PX_FLUSH_NAME;
	struct dp_cache_flush_result res;
	struct px_flush_spec spec;
	uint8_t name[PX_DNS_MAX_NAME] = {0};
	int len = 0, type = PX_FLUSH_ANY_TYPE;

	if (strcmp(argv[0], "flush-all") == 0) {
		scope = PX_FLUSH_ALL;
		if (argc != 1)
			goto usage;
	} else if (strcmp(argv[0], "flush-zone") == 0) {
		scope = PX_FLUSH_ZONE;
		if (argc != 2)
			goto usage;
	} else if (argc != 2 && argc != 3) {
		goto usage;
	}
	if (scope != PX_FLUSH_ALL) {
		len = ctl_cache_parse_name(argv[1], name);
		if (len < 0) {
			fprintf(out, "bad name '%s'\n", argv[1]);
			return -1;
		}
	}
	if (argc == 3) {
		type = ctl_cache_parse_type(argv[2]);
		if (type < 0) {
			fprintf(out, "bad type '%s'\n", argv[2]);
			return -1;
		}
	}
	if (px_flush_spec_init(&spec, scope, name, (unsigned)len, type) != 0) {
		fprintf(out, "bad request\n");
		return -1;
	}
	dp_cache_flush_match(c, &spec, &res);
	LOG(NOTICE, "cache_flushed: %s%s%s%s%s: %u removed, %u local-zone entries kept\n",
	    argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "", argc > 2 ? " " : "",
	    argc > 2 ? argv[2] : "", res.removed, res.kept);
	if (res.removed == 0 && scope != PX_FLUSH_ALL) {
		/* An operator (or a script) must be able to tell a typo from a flush: nothing
		 * removed is an error. */
		if (res.kept != 0)
			fprintf(out, "%s: only local-zone data (%u entries), which is never "
				"flushed\n", argv[1], res.kept);
		else
			fprintf(out, "%s%s%s is not in the cache\n", argv[1], argc > 2 ? " " : "",
				argc > 2 ? argv[2] : "");
		return -1;
	}
	fprintf(out, "removed %u entries\n", res.removed);
	if (res.kept != 0)
		fprintf(out, "kept %u local-zone entries (never flushed)\n", res.kept);
	return 0;
usage:
	fprintf(out, "usage: flush NAME [TYPE] | flush-zone NAME | flush-all\n");
	return -1;
}

void
ctl_cache_tick(struct dp_cache *c, struct ctl_cache_dump *dump, uint64_t now_ms,
	       uint32_t stale_max_s)
{
	/* Expired answers stay for serve-stale's window (--serve-stale-max). */
	dp_cache_sweep_keep(c, now_ms, (uint64_t)stale_max_s * 1000, CTL_CACHE_SWEEP_BUCKETS);
	dp_cache_reclaim(c);
	ctl_cache_dump_tick(dump);
}

int
ctl_cache_cmd(struct dp_cache *c, struct ctl_cache_dump *dump, int argc, char **argv, FILE *out,
	      uint64_t now_ms)
{
	if (c == NULL) {
		fprintf(out, "no cache\n");
		return -1;
	}
	if (strcmp(argv[0], "lookup") == 0)
		return cmd_lookup(c, argc, argv, out, now_ms);
	if (strcmp(argv[0], "dump-cache") == 0) {
		if (argc != 1) {
			fprintf(out, "usage: dump-cache (polluxctl dump-cache FILE writes FILE "
				"itself)\n");
			return -1;
		}
		if (dump == NULL) {
			fprintf(out, "dump-cache is not available here\n");
			return -1;
		}
		return ctl_cache_dump_start(dump, out) == 0 ? 0 : -1;
	}
	return cmd_flush(c, argc, argv, out);
}
