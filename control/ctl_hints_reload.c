/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_rcu_qsbr.h>

#include "ctl_hints_reload.h"
#include "dp_lcore.h"

RTE_LOG_REGISTER(ctl_hints_reload_logtype, pollux.ctl.hints_reload, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_hints_reload_logtype, __VA_ARGS__)

/* Coalesces the events of one save (an editor may write, rename and chmod). */
#define WATCH_DEBOUNCE_MS 200

static const char BUILTIN[] = "built-in";

void
ctl_hints_publish(struct dp_ctx *ctx, struct px_hints *h, uint64_t generation)
{
	struct px_hints *old;

	h->generation = generation;
	old = __atomic_exchange_n(&ctx->hints, h, __ATOMIC_ACQ_REL);
	if (old == NULL)
		return;
	/* Every worker has passed a quiescent state (or is offline) after this: none can still
	 * hold the old table. */
	rte_rcu_qsbr_synchronize(ctx->qsbr, RTE_QSBR_THRID_INVALID);
	free(old);
}

/* Turns the report's reasons into one line for the log: "a; b; c". */
static void
reasons_line(char *dst, size_t len, const char *reasons)
{
	size_t n = 0;

	for (const char *p = reasons; *p != '\0' && n + 3 < len; p++) {
		if (*p == '\n') {
			if (p[1] != '\0') {
				dst[n++] = ';';
				dst[n++] = ' ';
			}
		} else {
			dst[n++] = *p;
		}
	}
	dst[n] = '\0';
}

/* Writes the reasons, one per line, each ending with a newline whatever the report holds. */
static void
print_reasons(FILE *out, const char *indent, const char *reasons)
{
	for (const char *p = reasons; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		int len = nl != NULL ? (int)(nl - p) : (int)strlen(p);

		if (len > 0)
			fprintf(out, "%s%.*s\n", indent, len, p);
		p += len + (nl != NULL);
	}
}

static void
count_rejected(struct ctl_hints_state *hs, const struct ctl_hints_report *rep)
{
	for (unsigned r = 0; r < PX_ADDR_REASON_COUNT; r++)
		hs->addr_rejected[r] += rep->rejected[r];
}

static void
record_rejection(struct ctl_hints_state *hs, const char *source,
		 const struct ctl_hints_report *rep)
{
	char line[CTL_HINTS_REASONS_LEN];

	hs->rejections++;
	hs->has_rejection = true;
	hs->rejected_at = time(NULL);
	snprintf(hs->rejected_source, sizeof(hs->rejected_source), "%s", source);
	snprintf(hs->rejected_reasons, sizeof(hs->rejected_reasons), "%s", rep->reasons);
	reasons_line(line, sizeof(line), rep->reasons);
	LOG(ERR, "hints_rejected source=%s sha256=%s reasons=\"%s\"\n", source,
	    rep->sha256[0] != '\0' ? rep->sha256 : "-", line);
}

static void
activate(struct ctl_hints_state *hs, struct px_hints *h, const char *source,
	 const struct ctl_hints_report *rep)
{
	hs->builtin = source == BUILTIN;
	snprintf(hs->source, sizeof(hs->source), "%s", source);
	hs->active = *rep;
	hs->loaded_at = time(NULL);
	ctl_hints_publish(hs->ctx, h, ++hs->generation);
	LOG(NOTICE, "hints_loaded source=%s sha256=%s servers=%u usable=%u addr_rejected=%u "
	    "generation=%" PRIu64 "\n", source, rep->sha256, rep->ns_count, rep->ns_usable,
	    rep->addr_rejected, hs->generation);
}

/* Loads and validates one source. Returns the table or NULL (the rejection recorded). */
static struct px_hints *
load_with(struct ctl_hints_state *hs, const char *source, const struct px_addr_policy *pol,
	  unsigned min_usable, struct ctl_hints_report *rep)
{
	struct px_hints *h;

	hs->loads++;
	memset(rep, 0, sizeof(*rep));
	if (source == BUILTIN)
		h = ctl_hints_parse(BUILTIN, ctl_builtin_hints, ctl_builtin_hints_len, pol,
				    min_usable, rep);
	else
		h = ctl_hints_load_file(source, pol, min_usable, rep);
	count_rejected(hs, rep);
	if (h == NULL)
		record_rejection(hs, source, rep);
	return h;
}

static struct px_hints *
load(struct ctl_hints_state *hs, const char *source, struct ctl_hints_report *rep)
{
	return load_with(hs, source, &hs->cfg->addr_policy, hs->cfg->min_root_servers, rep);
}

static void
watch_start(struct ctl_hints_state *hs)
{
	char dir[PATH_MAX];

	hs->inotify_fd = -1;
	hs->watch = -1;
	if (hs->cfg->hints_file == NULL)
		return;
	snprintf(dir, sizeof(dir), "%s", hs->cfg->hints_file);
	hs->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (hs->inotify_fd >= 0)
		hs->watch = inotify_add_watch(hs->inotify_fd, dirname(dir),
					      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
	if (hs->inotify_fd < 0 || hs->watch < 0) {
		LOG(WARNING, "hints_watch_failed path=%s error=\"%s\": reload with SIGHUP or "
		    "polluxctl reload-hints\n", hs->cfg->hints_file, strerror(errno));
		if (hs->inotify_fd >= 0)
			close(hs->inotify_fd);
		hs->inotify_fd = -1;
	}
}

int
ctl_hints_start(struct ctl_hints_state *hs, const struct ctl_config *cfg, struct dp_ctx *ctx,
		char *err, size_t err_len)
{
	struct ctl_hints_report rep;
	struct px_hints *h;
	const char *source = cfg->hints_file != NULL ? cfg->hints_file : BUILTIN;

	memset(hs, 0, sizeof(*hs));
	hs->cfg = cfg;
	hs->ctx = ctx;
	h = load(hs, source, &rep);
	if (h == NULL && source != BUILTIN) {
		if (cfg->hints_fallback == CTL_HINTS_FALLBACK_REFUSE) {
			snprintf(err, err_len, "hints file %s rejected (hints-fallback: refuse):\n%s\n",
				 source, rep.reasons);
			return -EINVAL;
		}
		/* Never stop serving for a bad file: run on IANA's roots, and say so loudly. */
		hs->fallbacks++;
		LOG(CRIT, "hints_fallback_builtin source=%s: the hints file was rejected; serving "
		    "with the built-in IANA root hints until a valid file is loaded\n", source);
		source = BUILTIN;
		h = load(hs, source, &rep);
	}
	if (h == NULL) {
		snprintf(err, err_len, "the built-in hints were rejected:\n%s\n", rep.reasons);
		return -EINVAL;
	}
	activate(hs, h, source, &rep);
	watch_start(hs);
	return 0;
}

int
ctl_hints_reload(struct ctl_hints_state *hs, const char *trigger, FILE *out)
{
	const char *source = hs->cfg->hints_file != NULL ? hs->cfg->hints_file : BUILTIN;
	struct ctl_hints_report rep;
	struct px_hints *h;

	LOG(INFO, "hints_reload trigger=%s source=%s\n", trigger, source);
	h = load(hs, source, &rep);
	if (h == NULL) {
		if (out != NULL) {
			fprintf(out, "rejected: %s\n", source);
			print_reasons(out, "", rep.reasons);
			fprintf(out, "kept: %s (generation %" PRIu64 ")\n", hs->source,
				hs->generation);
		}
		return -EINVAL;
	}
	activate(hs, h, source, &rep);
	if (out != NULL)
		fprintf(out, "loaded: %s (sha256 %s, %u servers, %u addresses rejected, "
			"generation %" PRIu64 ")\n", source, rep.sha256, rep.ns_usable,
			rep.addr_rejected, hs->generation);
	return 0;
}

struct px_hints *
ctl_hints_prepare(struct ctl_hints_state *hs, const char *path, const struct px_addr_policy *pol,
		  unsigned min_usable, struct ctl_hints_report *rep)
{
	LOG(INFO, "hints_reload trigger=reload source=%s\n", path != NULL ? path : BUILTIN);
	return load_with(hs, path != NULL ? path : BUILTIN, pol, min_usable, rep);
}

void
ctl_hints_commit(struct ctl_hints_state *hs, struct px_hints *h,
		 const struct ctl_hints_report *rep)
{
	activate(hs, h, hs->cfg->hints_file != NULL ? hs->cfg->hints_file : BUILTIN, rep);
	/* The file may have moved to another directory, or appeared or gone: watch afresh. */
	if (hs->inotify_fd >= 0)
		close(hs->inotify_fd);
	hs->reload_due_ms = 0;
	watch_start(hs);
}

int
ctl_hints_watch_fd(const struct ctl_hints_state *hs)
{
	return hs->inotify_fd;
}

void
ctl_hints_watch_read(struct ctl_hints_state *hs, uint64_t now_ms)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char path[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s", hs->cfg->hints_file);
	base = basename(path);
	while ((n = read(hs->inotify_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->len > 0 && strcmp(ev->name, base) == 0)
				hs->reload_due_ms = now_ms + WATCH_DEBOUNCE_MS;
			p += sizeof(*ev) + ev->len;
		}
	}
}

void
ctl_hints_tick(struct ctl_hints_state *hs, uint64_t now_ms)
{
	if (hs->reload_due_ms == 0 || now_ms < hs->reload_due_ms)
		return;
	hs->reload_due_ms = 0;
	ctl_hints_reload(hs, "inotify", NULL);
}

static void
print_time(FILE *out, const char *key, time_t t)
{
	char buf[64];
	struct tm tm;

	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	fprintf(out, "%s: %s\n", key, buf);
}

static void
print_name(FILE *out, const uint8_t *name)
{
	if (name[0] == 0) {
		fputc('.', out);
		return;
	}
	for (unsigned i = 0; name[i] != 0; i += 1u + name[i])
		fprintf(out, "%.*s.", name[i], (const char *)name + i + 1);
}

void
ctl_hints_print(const struct ctl_hints_state *hs, FILE *out)
{
	const struct px_hints *h = hs->ctx->hints;
	char a[INET6_ADDRSTRLEN];

	fprintf(out, "source: %s\n", hs->source);
	fprintf(out, "sha256: %s\n", hs->active.sha256);
	print_time(out, "loaded_at", hs->loaded_at);
	fprintf(out, "generation: %" PRIu64 "\n", hs->generation);
	fprintf(out, "servers: %u\n", h->ns_count);
	fprintf(out, "addresses_rejected: %u\n", hs->active.addr_rejected);
	fprintf(out, "ttl: %u\n", h->ttl);
	for (uint32_t i = 0; i < h->ns_count; i++) {
		const struct px_hints_ns *ns = &h->ns[i];

		fputs("server: ", out);
		print_name(out, ns->name);
		for (unsigned k = 0; k < px_hints_ns_addr_count(ns); k++)
			fprintf(out, " %s",
				inet_ntop(ns->addr[k].family == PX_AF_INET ? AF_INET : AF_INET6,
					  ns->addr[k].a, a, sizeof(a)));
		fputc('\n', out);
	}
	if (!hs->has_rejection) {
		fputs("last_rejected: none\n", out);
		return;
	}
	fprintf(out, "last_rejected: %s\n", hs->rejected_source);
	print_time(out, "last_rejected_at", hs->rejected_at);
	fputs("last_rejected_reasons:\n", out);
	print_reasons(out, "  ", hs->rejected_reasons);
}

void
ctl_hints_print_stats(const struct ctl_hints_state *hs, FILE *out)
{
	fprintf(out, "hints.loads %" PRIu64 "\n", hs->loads);
	fprintf(out, "hints.rejections %" PRIu64 "\n", hs->rejections);
	fprintf(out, "hints.fallbacks %" PRIu64 "\n", hs->fallbacks);
	fprintf(out, "hints.generation %" PRIu64 "\n", hs->generation);
	for (unsigned r = 1; r < PX_ADDR_REASON_COUNT; r++)
		fprintf(out, "addr_rejected.%s.%s %" PRIu64 "\n", px_addr_entry_name(PX_ADDR_AT_HINTS),
			px_addr_reason_name(r), hs->addr_rejected[r]);
}

void
ctl_hints_stop(struct ctl_hints_state *hs)
{
	free(__atomic_exchange_n(&hs->ctx->hints, NULL, __ATOMIC_ACQ_REL));
	if (hs->inotify_fd >= 0)
		close(hs->inotify_fd);
	hs->inotify_fd = -1;
}

int
ctl_hints_check(const struct ctl_config *cfg, const char *path, FILE *out)
{
	struct ctl_hints_report rep;
	struct px_hints *h = ctl_hints_load_file(path, &cfg->addr_policy, cfg->min_root_servers,
						 &rep);

	if (h == NULL) {
		fprintf(out, "%s: rejected\n", path);
		print_reasons(out, "", rep.reasons);
		return 1;
	}
	fprintf(out, "%s: ok: %u root servers with a usable address (of %u), %u addresses, "
		"%u rejected by the address policy; sha256 %s\n", path, rep.ns_usable,
		rep.ns_count, rep.addr_count, rep.addr_rejected, rep.sha256);
	free(h);
	return 0;
}
