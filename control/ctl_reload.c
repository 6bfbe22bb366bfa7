/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>

#include "ctl_access.h"
#include "ctl_reload.h"

RTE_LOG_REGISTER(ctl_reload_logtype, pollux.ctl.reload, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, ctl_reload_logtype, "pollux: " __VA_ARGS__)

#define MAX_GROUP_KEYS 8

/* One group of options applied together: prepare builds what they need without touching
 * anything in force (and may fail), commit publishes it and cannot fail. */
struct reload_group {
	const char *keys[MAX_GROUP_KEYS];
	int (*prepare)(struct ctl_reload *r, const struct ctl_config *next, void **state,
		       char *err, size_t err_len);
	void (*commit)(struct ctl_reload *r, struct ctl_config *next, void *state);
	void (*discard)(void *state);
};

static int
access_prepare(struct ctl_reload *r, const struct ctl_config *next, void **state, char *err,
	       size_t err_len)
{
	*state = ctl_access_build(next, r->workers, err, err_len);
	return *state != NULL ? 0 : -EINVAL;
}

static void
access_commit(struct ctl_reload *r, struct ctl_config *next, void *state)
{
	struct ctl_config *cfg = r->cfg;
	struct px_acl_rule *rules = cfg->acl_rules;
	uint32_t count = cfg->acl_rule_count, cap = cfg->acl_rule_cap;

	ctl_access_publish(r->access, state);
	/* The running configuration takes the new rules; next frees the old ones. */
	cfg->acl_rules = next->acl_rules;
	cfg->acl_rule_count = next->acl_rule_count;
	cfg->acl_rule_cap = next->acl_rule_cap;
	next->acl_rules = rules;
	next->acl_rule_count = count;
	next->acl_rule_cap = cap;
	cfg->ratelimit = next->ratelimit;
	cfg->ratelimit_burst = next->ratelimit_burst;
	cfg->ratelimit_slip = next->ratelimit_slip;
	cfg->ratelimit_v4_prefix = next->ratelimit_v4_prefix;
	cfg->ratelimit_v6_prefix = next->ratelimit_v6_prefix;
}

static void
access_discard(void *state)
{
	ctl_access_free(state);
}

static const struct reload_group groups[] = {
	{ {"access-control", "ratelimit", "ratelimit-burst", "ratelimit-slip",
	   "ratelimit-ipv4-prefix", "ratelimit-ipv6-prefix"},
	  access_prepare, access_commit, access_discard },
};

static const struct reload_group *
group_of(const char *key)
{
	for (size_t g = 0; g < RTE_DIM(groups); g++)
		for (unsigned k = 0; k < MAX_GROUP_KEYS && groups[g].keys[k] != NULL; k++)
			if (strcmp(groups[g].keys[k], key) == 0)
				return &groups[g];
	return NULL;
}

struct changes {
	char applied[512], restart[512];
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

	if (group_of(name) != NULL)
		append(ch->applied, sizeof(ch->applied), name);
	else
		append(ch->restart, sizeof(ch->restart), name);
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

int
ctl_reload_run(struct ctl_reload *r, const char *trigger, FILE *out)
{
	struct ctl_config next;
	void *state[RTE_DIM(groups)] = {0};
	struct changes ch = {{0}, {0}};
	char err[1024];
	size_t g;
	int rc;

	ctl_config_init(&next);
	rc = ctl_config_parse_args(&next, r->argc, r->argv, err, sizeof(err));
	if (rc == 0)
		rc = ctl_config_validate(&next, err, sizeof(err));
	for (g = 0; rc == 0 && g < RTE_DIM(groups); g++)
		rc = groups[g].prepare(r, &next, &state[g], err, sizeof(err));
	if (rc != 0) {
		while (g-- > 0)
			groups[g].discard(state[g]);
		r->rejections++;
		LOG(ERR, "reload_rejected (%s): %s; nothing changed\n", trigger, err);
		if (out != NULL)
			fprintf(out, "reload refused, nothing changed: %s\n", err);
		ctl_config_free(&next);
		return rc;
	}
	ctl_config_changed(r->cfg, &next, note_change, &ch);
	for (g = 0; g < RTE_DIM(groups); g++) {
		groups[g].commit(r, &next, state[g]);
		for (unsigned k = 0; k < MAX_GROUP_KEYS && groups[g].keys[k] != NULL; k++)
			ctl_config_adopt_values(r->cfg, &next, groups[g].keys[k]);
	}
	r->reloads++;
	LOG(NOTICE, "reloaded (%s) from %s: changed: %s; needs restart: %s\n", trigger,
	    r->cfg->config_file != NULL ? r->cfg->config_file : "the command line only",
	    ch.applied[0] != '\0' ? ch.applied : "none", ch.restart[0] != '\0' ? ch.restart : "none");
	if (out != NULL) {
		fprintf(out, "reloaded %s\n", r->cfg->config_file != NULL ? r->cfg->config_file
			: "(no config file: the command line only)");
		fprintf(out, "applied: access-control and ratelimit* (changed: %s)\n",
			ch.applied[0] != '\0' ? ch.applied : "none");
		if (ch.restart[0] != '\0')
			fprintf(out, "needs restart (running values kept): %s\n", ch.restart);
	}
	ctl_config_free(&next);
	return 0;
}
