/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_notify.h"

#define MSG_MAX 1024

static void __attribute__((format(printf, 3, 4)))
set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

int
ctl_notify_parse_addr(const char *val, struct sockaddr_un *addr, socklen_t *len, char *why,
		      size_t why_len)
{
	size_t n = val != NULL ? strlen(val) : 0;

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (n == 0) {
		set_why(why, why_len, "empty");
		return -EINVAL;
	}
	if (val[0] == '@') {
		/* The '@' becomes the leading NUL of an abstract name, which has no terminator:
		 * the address length alone says where it ends. */
		if (n < 2) {
			set_why(why, why_len, "an abstract name needs at least one character after '@'");
			return -EINVAL;
		}
		if (n > sizeof(addr->sun_path)) {
			set_why(why, why_len, "longer than %zu bytes", sizeof(addr->sun_path));
			return -EINVAL;
		}
		memcpy(addr->sun_path + 1, val + 1, n - 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
		return 0;
	}
	if (val[0] != '/') {
		/* A relative path would depend on the working directory; systemd 253's "vsock:"
		 * addresses are not supported either. */
		set_why(why, why_len, "neither an absolute path nor an '@' abstract name");
		return -EINVAL;
	}
	if (n >= sizeof(addr->sun_path)) {
		set_why(why, why_len, "longer than %zu bytes", sizeof(addr->sun_path) - 1);
		return -EINVAL;
	}
	memcpy(addr->sun_path, val, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

int
ctl_notify_open(struct ctl_notify *n, const char *val, char *why, size_t why_len)
{
	int rc;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (why != NULL && why_len > 0)
		why[0] = '\0';
	if (val == NULL)
		return 0;
	rc = ctl_notify_parse_addr(val, &n->addr, &n->addr_len, why, why_len);
	if (rc < 0)
		return rc;
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		rc = -errno;
		set_why(why, why_len, "socket: %s", strerror(errno));
		return rc;
	}
	return 0;
}

int
ctl_notify_send(struct ctl_notify *n, const char *msg)
{
	ssize_t sent;

	if (n->fd < 0)
		return 0;
	sent = sendto(n->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
		      (const struct sockaddr *)&n->addr, n->addr_len);
	if (sent < 0) {
		n->failed++;
		n->last_error = errno;
		return -errno;
	}
	n->sent++;
	return 0;
}

int
ctl_notify_sendf(struct ctl_notify *n, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;
	int len;

	if (n->fd < 0)
		return 0;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(msg)) {
		n->failed++;
		n->last_error = EMSGSIZE;
		return -EMSGSIZE;
	}
	return ctl_notify_send(n, msg);
}

void
ctl_notify_close(struct ctl_notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

/* A positive decimal with no sign, space or trailing junk, or 0. */
static uint64_t
parse_positive(const char *s)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno == ERANGE)
		return 0;
	return v;
}

uint64_t
ctl_notify_watchdog_usec(const char *usec, const char *pid, pid_t self, char *why,
			 size_t why_len)
{
	uint64_t v, p;

	if (why != NULL && why_len > 0)
		why[0] = '\0';
	if (usec == NULL)
		return 0;
	v = parse_positive(usec);
	if (v == 0) {
		set_why(why, why_len, "WATCHDOG_USEC='%s' is not a positive number", usec);
		return 0;
	}
	if (pid == NULL)
		return v;
	p = parse_positive(pid);
	if (p == 0) {
		set_why(why, why_len, "WATCHDOG_PID='%s' is not a process id", pid);
		return 0;
	}
	/* The watchdog is another process's (an environment inherited through a wrapper). */
	return p == (uint64_t)self ? v : 0;
}
