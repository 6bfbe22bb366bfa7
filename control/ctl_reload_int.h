/* SPDX-License-Identifier: BSD-3-Clause */
/* The reload groups (ctl_reload_groups.c) as the runner (ctl_reload.c) sees them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ctl_reload.h"

#define CTL_RELOAD_GROUP_KEYS 12

/* One group of options applied together: prepare builds what they need from next without
 * touching anything in force (and may fail, with FILE:LINE where there is one); commit puts it
 * in force and moves next's values for the group into the running configuration. Only the first
 * group's commit may fail, and then it must leave everything as it was. discard frees a
 * prepared state that is not committed (NULL is a no-op). */
struct ctl_reload_group {
	const char *keys[CTL_RELOAD_GROUP_KEYS];
	bool (*wired)(const struct ctl_reload *r);
	int (*prepare)(struct ctl_reload *r, const struct ctl_config *next, void **state,
		       char *err, size_t err_len);
	int (*commit)(struct ctl_reload *r, struct ctl_config *next, void *state, char *err,
		      size_t err_len);
	void (*discard)(void *state);
};

extern const struct ctl_reload_group ctl_reload_groups[];
extern const size_t ctl_reload_group_count;
