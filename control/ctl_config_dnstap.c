/* SPDX-License-Identifier: BSD-3-Clause */
/* The dnstap options (ctl_dnstap.h): no DPDK, like ctl_config.c, whose tests link it. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_dnstap.h"

void
ctl_dnstap_conf_init(struct ctl_dnstap_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->sample = 1;
	c->types = CTL_DNSTAP_DEFAULT_TYPES;
}

/* The directory path lies in, into buf. */
static void
dir_of(const char *path, char *buf, size_t len)
{
	char copy[4096];

	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(buf, len, "%s", dirname(copy));
}

/* Whether a dnstap file could be opened for writing at path: an existing file must be
 * writable and not a directory; a new one needs a directory it can be created in. */
static int
check_file(const char *path, char *why, size_t why_len)
{
	struct stat st;
	char dir[4096];

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(why, why_len, "is a directory, not a file");
			return -EINVAL;
		}
		if (access(path, W_OK) != 0) {
			snprintf(why, why_len, "cannot be written: %s", strerror(errno));
			return -EINVAL;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(why, why_len, "%s", strerror(errno));
		return -EINVAL;
	}
	dir_of(path, dir, sizeof(dir));
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(why, why_len, "cannot be created in '%s': %s", dir, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

/* A socket path must fit sockaddr_un and lie in a directory that exists; the collector may
 * create the socket itself after pollux started. */
static int
check_socket(const char *path, char *why, size_t why_len)
{
	struct stat st;
	char dir[4096];

	if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		snprintf(why, why_len, "too long for a Unix socket path (at most %zu bytes)",
			 sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
		return -EINVAL;
	}
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, why_len, "no directory '%s' to find the socket in", dir);
		return -EINVAL;
	}
	if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(why, why_len, "exists and is not a socket");
		return -EINVAL;
	}
	return 0;
}

static int
set_path(struct ctl_dnstap_conf *c, const char *val, bool socket, const char *origin,
	 char *why, size_t why_len)
{
	int rc = val[0] == '\0' ? -EINVAL : 0;
	char *copy;

	if (rc != 0)
		snprintf(why, why_len, "must not be empty");
	else
		rc = socket ? check_socket(val, why, why_len) : check_file(val, why, why_len);
	if (rc != 0)
		return rc;
	copy = strdup(val);
	if (copy == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	free(c->path);
	c->path = copy;
	c->socket = socket;
	snprintf(c->origin, sizeof(c->origin), "%s", origin);
	return 0;
}

/* The switches, named as Unbound names its own. */
static const struct {
	const char *key;
	enum px_tap_type type;
} log_keys[] = {
	{ "dnstap-log-client-query-messages", PX_TAP_CLIENT_QUERY },
	{ "dnstap-log-client-response-messages", PX_TAP_CLIENT_RESPONSE },
	{ "dnstap-log-resolver-query-messages", PX_TAP_RESOLVER_QUERY },
	{ "dnstap-log-resolver-response-messages", PX_TAP_RESOLVER_RESPONSE },
};

int
ctl_dnstap_conf_apply(struct ctl_dnstap_conf *c, const char *key, const char *val,
		      const char *origin, char *why, size_t why_len)
{
	if (strcmp(key, "dnstap") == 0)
		return set_path(c, val, false, origin, why, why_len);
	if (strcmp(key, "dnstap-socket") == 0)
		return set_path(c, val, true, origin, why, why_len);
	if (strcmp(key, "dnstap-sample") == 0) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(val, &end, 10);
		if (val[0] < '0' || val[0] > '9' || *end != '\0' || errno != 0 || v < 1 ||
		    v > CTL_DNSTAP_MAX_SAMPLE) {
			snprintf(why, why_len, "must be 1-%u (1: every message)",
				 CTL_DNSTAP_MAX_SAMPLE);
			return -EINVAL;
		}
		c->sample = (uint32_t)v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(log_keys) / sizeof(log_keys[0]); i++) {
		if (strcmp(key, log_keys[i].key) != 0)
			continue;
		if (strcmp(val, "yes") == 0)
			c->types |= PX_TAP_BIT(log_keys[i].type);
		else if (strcmp(val, "no") == 0)
			c->types &= ~PX_TAP_BIT(log_keys[i].type);
		else {
			snprintf(why, why_len, "must be 'yes' or 'no'");
			return -EINVAL;
		}
		return 0;
	}
	return 1;
}
