/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket (protocol in pollux/ctl_proto.h). Non-blocking: the control thread polls
 * its fd beside its other duties, and each request is read, handled and answered in one go.
 * Control thread only.
 */
#pragma once

#include <stdio.h>

/*
 * Handles one request already split into words. Writes the reply body to out and returns 0
 * (the client sees "OK") or non-zero ("ERR"; the body says why).
 */
typedef int (*ctl_api_handler_t)(void *arg, int argc, char **argv, FILE *out);

struct ctl_api;

/* Binds and listens on path (replacing a stale socket, creating the parent directory with mode
 * 0755 if missing). Returns NULL and sets errno. */
struct ctl_api *ctl_api_open(const char *path, ctl_api_handler_t handler, void *arg);

/* The listening fd, for poll(). */
int ctl_api_fd(const struct ctl_api *api);

/* Accepts and serves every pending connection, never blocking for more than timeout_ms on a
 * slow client. Returns the number served. */
int ctl_api_serve(struct ctl_api *api, int timeout_ms);

/*
 * From inside the handler only: takes the client's connection away from the server, which then
 * sends no reply on it and does not close it. The caller owns the (non-blocking) fd from then
 * on: it writes the "OK" line and the body itself, as slowly as it likes, and closes it. For
 * replies too large to build in one go (polluxctl dump-cache). Returns the fd, or -1 outside a
 * handler.
 */
int ctl_api_detach(struct ctl_api *api);

/* Closes the socket and unlinks its path. */
void ctl_api_close(struct ctl_api *api);
