/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_log.h>

#include "ctl_hints_reload.h"
#include "ctl_reload_int.h"
#include "ctl_zones.h"

RTE_LOG_REGISTER(ctl_reload_logtype, pollux.ctl.reload, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_reload_logtype, "pollux: " __VA_ARGS__)

#define MAX_GROUPS 16

/* The wired group that reloads key, or NULL: the key needs a restart. */
static const struct ctl_reload_group *
group_of(const struct ctl_reload *r, const char *key)
{
	for (size_t g = 0; g < ctl_reload_group_count; g++) {
		const struct ctl_reload_group *grp = &ctl_reload_groups[g];

		for (unsigned k = 0; k < CTL_RELOAD_GROUP_KEYS && grp->keys[k] != NULL; k++)
			if (strcmp(grp->keys[k], key) == 0)
				return grp->wired(r) ? grp : NULL;
	}
	return NULL;
}

struct changes {
	const struct ctl_reload *r;
	char applied[1024], restart[1024];
	const char *applied_keys[CTL_CONFIG_MAX_KEYS];
	unsigned applied_count;
};

static void
append(char *dst, size_t len, const char *name)
{
	size_t n = strlen(dst);

	snprintf(dst + n, len - n, "%s%s", n > 0 ? ", " : "", name);
}

static void
note_change(const char *name, void *arg)
{
	struct changes *ch = arg;

	if (group_of(ch->r, name) != NULL) {
		append(ch->applied, sizeof(ch->applied), name);
		ch->applied_keys[ch->applied_count++] = name;
	} else {
		append(ch->restart, sizeof(ch->restart), name);
	}
}

int
ctl_reload_init(struct ctl_reload *r, struct ctl_config *cfg, int argc, char **argv,
		struct ctl_access *access, uint16_t workers)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->access = access;
	r->workers = workers;
	r->argv = calloc((size_t)argc + 1, sizeof(*r->argv));
	if (r->argv == NULL)
		return -ENOMEM;
	for (int i = 0; i < argc; i++) {
		r->argv[i] = strdup(argv[i]);
		if (r->argv[i] == NULL) {
			ctl_reload_free(r);
			return -ENOMEM;
		}
		r->argc++;
	}
	return 0;
}

void
ctl_reload_free(struct ctl_reload *r)
{
	for (int i = 0; r->argv != NULL && i < r->argc; i++)
		free(r->argv[i]);
	free(r->argv);
	r->argv = NULL;
	r->argc = 0;
}

static int
refuse(struct ctl_reload *r, struct ctl_config *next, const char *trigger, const char *err,
       int rc, FILE *out)
{
	r->rejections++;
	LOG(ERR, "reload_rejected (%s): %s; nothing changed\n", trigger, err);
	if (out != NULL)
		fprintf(out, "reload refused, nothing changed: %s\n", err);
	ctl_config_free(next);
	return rc;
}

/* Frees the prepared states of the wired groups from `from` on. */
static void
discard_from(const struct ctl_reload *r, size_t from, void **state)
{
	for (size_t g = from; g < ctl_reload_group_count; g++)
		if (ctl_reload_groups[g].wired(r))
			ctl_reload_groups[g].discard(state[g]);
}

static void
report(const struct ctl_reload *r, const struct changes *ch, FILE *out)
{
	const char *file = r->cfg->config_file;

	fprintf(out, "reloaded %s\n", file != NULL ? file
		: "(no config file: the command line only)");
	fprintf(out, "applied (changed: %s)\n", ch->applied[0] != '\0' ? ch->applied : "none");
	if (ch->restart[0] != '\0')
		fprintf(out, "needs restart (running values kept): %s\n", ch->restart);
	if (r->hints != NULL)
		fprintf(out, "hints: %s (generation %" PRIu64 ")\n", r->hints->source,
			r->hints->generation);
	if (r->zones != NULL)
		fprintf(out, "local zones: %u\n", r->zones->count);
}

int
ctl_reload_run(struct ctl_reload *r, const char *trigger, FILE *out)
{
	struct ctl_config next;
	void *state[MAX_GROUPS] = {0};
	struct changes ch = {.r = r};
	char err[2048];
	int64_t now = (int64_t)time(NULL);
	size_t g;
	int rc;

	RTE_BUILD_BUG_ON(MAX_GROUPS < 5);
	ctl_config_init(&next);
	rc = ctl_config_parse_args(&next, r->argc, r->argv, err, sizeof(err));
	if (rc == 0)
		rc = ctl_config_validate(&next, err, sizeof(err));
	for (g = 0; rc == 0 && g < ctl_reload_group_count; g++)
		if (ctl_reload_groups[g].wired(r))
			rc = ctl_reload_groups[g].prepare(r, &next, &state[g], err, sizeof(err));
	if (rc != 0) {
		/* The group that failed freed its own state. */
		discard_from(r, 0, state);
		return refuse(r, &next, trigger, err, rc, out);
	}
	ctl_config_changed(r->cfg, &next, note_change, &ch);
	for (g = 0; g < ctl_reload_group_count; g++) {
		const struct ctl_reload_group *grp = &ctl_reload_groups[g];

		if (!grp->wired(r))
			continue;
		rc = grp->commit(r, &next, state[g], err, sizeof(err));
		if (rc != 0) {
			/* Only the first wired group may fail here, and it undid itself. */
			discard_from(r, g, state);
			return refuse(r, &next, trigger, err, rc, out);
		}
		state[g] = NULL;
		for (unsigned k = 0; k < CTL_RELOAD_GROUP_KEYS && grp->keys[k] != NULL; k++)
			ctl_config_adopt_values(r->cfg, &next, grp->keys[k]);
	}
	for (unsigned i = 0; i < ch.applied_count; i++)
		ctl_config_mark_reloaded(r->cfg, ch.applied_keys[i], now);
	r->reloads++;
	LOG(NOTICE, "reloaded (%s) from %s: changed: %s; needs restart: %s\n", trigger,
	    r->cfg->config_file != NULL ? r->cfg->config_file : "the command line only",
	    ch.applied[0] != '\0' ? ch.applied : "none", ch.restart[0] != '\0' ? ch.restart : "none");
	if (out != NULL)
		report(r, &ch, out);
	ctl_config_free(&next);
	return 0;
}
