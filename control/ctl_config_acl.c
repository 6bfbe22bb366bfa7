/* SPDX-License-Identifier: BSD-3-Clause */
/* The access-control and rate-limit options of struct ctl_config: no DPDK, like ctl_config.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_config.h"

int
ctl_config_add_acl(struct ctl_config *cfg, const char *text, const char *origin, char *why,
		   size_t why_len)
{
	struct px_acl_rule r;

	if (px_acl_rule_parse(&r, text, why, why_len) != 0)
		return -EINVAL;
	for (uint32_t i = 0; i < cfg->acl_rule_count; i++) {
		const struct px_acl_rule *o = &cfg->acl_rules[i];

		if (!px_acl_same_net(o, &r))
			continue;
		if (o->action == r.action)
			return 0; /* said twice: harmless */
		snprintf(why, why_len, "the same prefix is '%s' at %s", px_acl_action_name(o->action),
			 o->origin);
		return -EINVAL;
	}
	if (cfg->acl_rule_count >= PX_ACL_MAX_CONFIGURED) {
		snprintf(why, why_len, "too many access-control rules (at most %u)",
			 PX_ACL_MAX_CONFIGURED);
		return -EINVAL;
	}
	if (cfg->acl_rule_count == cfg->acl_rule_cap) {
		uint32_t cap = cfg->acl_rule_cap == 0 ? 16 : cfg->acl_rule_cap * 2;
		struct px_acl_rule *n = realloc(cfg->acl_rules, sizeof(*n) * cap);

		if (n == NULL) {
			snprintf(why, why_len, "out of memory");
			return -ENOMEM;
		}
		cfg->acl_rules = n;
		cfg->acl_rule_cap = cap;
	}
	snprintf(r.origin, sizeof(r.origin), "%s", origin);
	cfg->acl_rules[cfg->acl_rule_count++] = r;
	return 0;
}

struct px_rl_params
ctl_config_rl_params(const struct ctl_config *cfg)
{
	struct px_rl_params p = {
		.rate = cfg->ratelimit,
		.burst = cfg->ratelimit_burst != 0 ? cfg->ratelimit_burst : cfg->ratelimit,
		.slip = cfg->ratelimit_slip,
		.v4_prefix = (uint8_t)cfg->ratelimit_v4_prefix,
		.v6_prefix = (uint8_t)cfg->ratelimit_v6_prefix,
	};

	if (p.burst == 0)
		p.burst = 1;
	return p;
}
