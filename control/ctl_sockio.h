/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deadline-bounded I/O on the control socket, shared by the server (ctl_api.c) and the client
 * (polluxctl.c). Plain libc: polluxctl links no DPDK.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t ctl_sockio_now_ms(void);

/* Waits for events (POLLIN, POLLOUT) on fd until deadline (ctl_sockio_now_ms() time). Returns 0
 * when ready, -ETIMEDOUT, or -errno. */
int ctl_sockio_wait(int fd, short events, int64_t deadline);

/* Sends all of buf, riding out partial writes and EINTR; MSG_NOSIGNAL keeps a vanished peer from
 * raising SIGPIPE. Returns 0, -ETIMEDOUT or -errno. */
int ctl_sockio_send_all(int fd, const char *buf, size_t len, int64_t deadline);
