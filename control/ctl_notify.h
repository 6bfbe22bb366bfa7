/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The service manager's notification protocol (sd_notify(3)) without libsystemd: each message
 * is one datagram of "KEY=value" lines sent to the AF_UNIX socket $NOTIFY_SOCKET names, a path
 * or, after '@', a name in the abstract namespace. pollux sends READY=1, RELOADING=1,
 * STOPPING=1, STATUS= and WATCHDOG=1 (ctl_systemd.h says when).
 *
 * Pure libc, no DPDK: the unit tests drive it with their own sockets. The socket is
 * non-blocking and every send uses MSG_DONTWAIT, so a manager that does not read never stalls
 * the control thread: a message it cannot take is dropped and counted.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

struct ctl_notify {
	int fd; /* -1: nobody to notify, every send does nothing */
	struct sockaddr_un addr;
	socklen_t addr_len;
	uint64_t sent;   /* datagrams the socket took */
	uint64_t failed; /* datagrams refused (no listener, a full queue): dropped */
	int last_error;  /* errno of the last refused send, 0 when none */
};

/*
 * Parses a $NOTIFY_SOCKET value: an absolute path, or '@' and an abstract name, fitting
 * sun_path. Returns 0 with addr and len set, or -EINVAL with the reason in why. Pure.
 */
int ctl_notify_parse_addr(const char *val, struct sockaddr_un *addr, socklen_t *len, char *why,
			  size_t why_len);

/*
 * Prepares n for the socket $NOTIFY_SOCKET names; val is its value, NULL when unset (pollux
 * not started by a service manager: n does nothing). Returns 0, or -errno with the reason in
 * why (a bad value, no socket), n then doing nothing as well. Control thread.
 */
int ctl_notify_open(struct ctl_notify *n, const char *val, char *why, size_t why_len);

/* Whether n sends anywhere. */
static inline int
ctl_notify_enabled(const struct ctl_notify *n)
{
	return n->fd >= 0;
}

/*
 * Sends msg ("KEY=value" lines) as one datagram without blocking. Returns 0 when it was sent
 * or n does nothing, -errno when the socket refused it (counted in failed). Control thread.
 */
int ctl_notify_send(struct ctl_notify *n, const char *msg);

/* ctl_notify_send of a formatted message; -EMSGSIZE when it does not fit 1 KiB. */
int ctl_notify_sendf(struct ctl_notify *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void ctl_notify_close(struct ctl_notify *n);

/*
 * The keep-alive interval the manager asks for: usec is $WATCHDOG_USEC, pid $WATCHDOG_PID (each
 * NULL when unset), self our process id. Returns the interval in microseconds when usec is a
 * positive decimal and pid is unset or names self; 0 otherwise (no watchdog), with the reason in
 * why when a value was given but is malformed (why is left empty for "not set" and "another
 * process's"). Pure.
 */
uint64_t ctl_notify_watchdog_usec(const char *usec, const char *pid, pid_t self, char *why,
				  size_t why_len);
